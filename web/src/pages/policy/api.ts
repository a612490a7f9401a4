/**
 * Azure Policy over the public API: `Microsoft.Authorization` policyDefinitions and policyAssignments,
 * `Microsoft.PolicyInsights` policyStates and remediations, at the api-versions the Azure portal sends.
 */
import { type ArmClient, ArmRequestError } from '../../arm/client';
import { API } from '../../arm/versions';
import { loadGrants, type RoleDefinition, roleAllows } from '../../auth/access';

export const POLICY_API = {
  authorization: '2023-04-01',
  insights: '2019-10-01',
  remediations: '2021-10-01',
  resourceGroups: '2021-04-01',
} as const;

export interface ParameterDefinition {
  type: 'String' | 'Array' | 'Object' | 'Boolean' | 'Integer' | 'Float' | 'DateTime';
  defaultValue?: unknown;
  allowedValues?: unknown[];
  metadata?: { displayName?: string; description?: string };
}

export interface PolicyDefinition {
  id: string;
  name: string;
  properties: {
    displayName?: string;
    description?: string;
    policyType: 'BuiltIn' | 'Custom' | 'Static' | 'NotSpecified';
    mode?: string;
    metadata?: { category?: string; version?: string };
    parameters?: Record<string, ParameterDefinition>;
    policyRule: { if: unknown; then: { effect: string; details?: { roleDefinitionIds?: string[] } } };
  };
}

export interface PolicyAssignment {
  id: string;
  name: string;
  location?: string;
  identity?: { type: string; principalId?: string };
  properties: {
    displayName?: string;
    description?: string;
    policyDefinitionId: string;
    scope: string;
    enforcementMode?: string;
    parameters?: Record<string, { value: unknown }>;
  };
}

export interface PolicyState {
  resourceId: string;
  resourceType?: string;
  complianceState: string;
  policyAssignmentId: string;
  policyAssignmentName: string;
  policyDefinitionAction?: string;
  timestamp?: string;
  policyEvaluationDetails?: { reason?: string };
}

export interface ComplianceCounts {
  nonCompliantResources: number;
  nonCompliantPolicies: number;
  resourceDetails: { complianceState: string; count: number }[];
}

export interface Summary {
  results: ComplianceCounts;
  policyAssignments: { policyAssignmentId: string; results: ComplianceCounts }[];
}

export interface Remediation {
  id: string;
  name: string;
  properties: {
    policyAssignmentId: string;
    provisioningState: string;
    createdOn?: string;
    lastUpdatedOn?: string;
    deploymentStatus?: { totalDeployments: number; successfulDeployments: number; failedDeployments: number };
  };
}

export const DEPLOYING_EFFECTS = ['deployifnotexists', 'modify'];

/** The first subscription the principal sees: where a principal without tenant-wide read reads definitions. */
async function firstSubscriptionScope(client: ArmClient, signal?: AbortSignal): Promise<string | undefined> {
  const page = await client.page<{ subscriptionId: string }>('/subscriptions', {
    apiVersion: API.subscriptions,
    signal,
  });
  const first = page.value[0]?.subscriptionId;
  return first ? `/subscriptions/${first}` : undefined;
}

function refused(error: unknown): boolean {
  return error instanceof ArmRequestError && error.status === 403;
}

/**
 * The definitions a tenant sees: built-ins and custom ones at the root management group, or — for a
 * principal whose roles stop at a subscription — as that subscription lists them.
 */
export async function listDefinitions(
  client: ArmClient,
  tenantId: string,
  signal?: AbortSignal,
): Promise<PolicyDefinition[]> {
  const list = (scope: string) =>
    client.listAll<PolicyDefinition>(`${scope}/providers/Microsoft.Authorization/policyDefinitions`, {
      apiVersion: POLICY_API.authorization,
      signal,
    });
  try {
    return await list(`/providers/Microsoft.Management/managementGroups/${tenantId}`);
  } catch (error) {
    const scope = refused(error) ? await firstSubscriptionScope(client, signal) : undefined;
    if (!scope) throw error;
    return list(scope);
  }
}

/** A definition by id; a built-in refused at the tenant is read through the principal's subscription. */
export async function getDefinition(
  client: ArmClient,
  id: string,
  signal?: AbortSignal,
): Promise<PolicyDefinition> {
  try {
    return await client.get<PolicyDefinition>(id, { apiVersion: POLICY_API.authorization, signal });
  } catch (error) {
    const tenantLevel = /^\/providers\/Microsoft\.Authorization\//i.test(id);
    const scope = refused(error) && tenantLevel ? await firstSubscriptionScope(client, signal) : undefined;
    if (!scope) throw error;
    return client.get<PolicyDefinition>(`${scope}${id}`, { apiVersion: POLICY_API.authorization, signal });
  }
}

/** The effect a definition has with these parameter values (`[parameters('effect')]` resolved). */
export function effectOf(definition: PolicyDefinition, values: Record<string, unknown> = {}): string {
  const effect = definition.properties.policyRule.then.effect;
  const parameter = /^\[parameters\('([^']+)'\)\]$/i.exec(effect)?.[1];
  if (!parameter) return effect;
  const value = values[parameter] ?? definition.properties.parameters?.[parameter]?.defaultValue;
  return typeof value === 'string' ? value : effect;
}

export function displayNameOf(definition: PolicyDefinition): string {
  return definition.properties.displayName ?? definition.name;
}

export function listAssignments(client: ArmClient, scope: string, signal?: AbortSignal) {
  return client.listAll<PolicyAssignment>(`${scope}/providers/Microsoft.Authorization/policyAssignments`, {
    apiVersion: POLICY_API.authorization,
    signal,
  });
}

export async function summarize(client: ArmClient, scope: string, signal?: AbortSignal): Promise<Summary> {
  const reply = await client.request<{ value: Summary[] }>(
    'POST',
    `${scope}/providers/Microsoft.PolicyInsights/policyStates/latest/summarize`,
    { apiVersion: POLICY_API.insights, signal },
  );
  return reply.body.value[0] ?? { results: emptyCounts(), policyAssignments: [] };
}

export function emptyCounts(): ComplianceCounts {
  return { nonCompliantResources: 0, nonCompliantPolicies: 0, resourceDetails: [] };
}

export function quoted(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export async function queryStates(
  client: ArmClient,
  scope: string,
  filter: string,
  signal?: AbortSignal,
): Promise<PolicyState[]> {
  const reply = await client.request<{ value: PolicyState[] }>(
    'POST',
    `${scope}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults`,
    {
      apiVersion: POLICY_API.insights,
      query: { $filter: filter, $expand: 'PolicyEvaluationDetails' },
      signal,
    },
  );
  return reply.body.value;
}

export function listRemediations(client: ArmClient, scope: string, signal?: AbortSignal) {
  return client.listAll<Remediation>(`${scope}/providers/Microsoft.PolicyInsights/remediations`, {
    apiVersion: POLICY_API.remediations,
    signal,
  });
}

export function isTerminal(state: string): boolean {
  return ['Succeeded', 'Failed', 'Canceled', 'Completed'].includes(state);
}

/** The scope an assignment id names (what precedes `/providers/Microsoft.Authorization/…`). */
export function scopeOfAssignment(assignmentId: string): string {
  return assignmentId.replace(/\/providers\/Microsoft\.Authorization\/policyAssignments\/[^/]+$/i, '');
}

/** Whether a grant at `grantScope` reaches `scope` (the tenant root and management groups above reach). */
function reaches(grantScope: string, scope: string): boolean {
  const grant = grantScope.toLowerCase().replace(/\/+$/, '');
  const target = scope.toLowerCase();
  if (grant === '' || grant === '/') return true;
  // A list taken at `scope` names only the management groups at or above it.
  if (grant.startsWith('/providers/microsoft.management/managementgroups/')) return true;
  return target === grant || target.startsWith(`${grant}/`);
}

export interface ScopeAccess {
  can: boolean;
  reason?: string;
}

/** Whether the principal may perform `action` at `scope`, read from its role assignments there. */
export async function accessAt(
  client: ArmClient,
  options: { principalId: string; scope: string; action: string; what: string; signal?: AbortSignal },
): Promise<ScopeAccess> {
  const { grants, definitions } = await loadGrants(client, options);
  const reaching = grants.filter((grant) => reaches(grant.scope, options.scope));
  if (reaching.some((grant) => roleAllows(grant.role, options.action))) return { can: true };
  const held = [...new Set(reaching.map((grant) => grant.role.roleName))];
  const allowedBy = definitions
    .filter((role: RoleDefinition) => roleAllows(role, options.action))
    .map((role) => role.roleName)
    .slice(0, 4);
  return {
    can: false,
    reason: `You cannot ${options.what}: your role here (${held.length > 0 ? held.join(', ') : 'no role'}) does not include ${options.action}.${
      allowedBy.length > 0 ? ` ${allowedBy.join(', ')} can.` : ''
    }`,
  };
}
