/** Who is calling: the claims of a verified token, reduced to what ARM needs. */
export interface Principal {
  objectId: string;
  /** `appid` of an application or managed identity; the object id again for users. */
  clientId: string;
  tenantId: string;
  name: string;
  type: 'User' | 'Application' | 'ManagedIdentity';
}

export function systemDataActor(principal: Principal): { by: string; byType: Principal['type'] } {
  return { by: principal.type === 'User' ? principal.name : principal.clientId, byType: principal.type };
}
