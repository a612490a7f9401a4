/**
 * What every tenant has before anything else: its tenant root management group (named after the
 * tenant id, as in Azure) and an `admin` user who is Owner at the root scope.
 */
import { issueToken, principalIdsFor, type SigningKeys } from './arm/auth.js';
import type { Principal } from './arm/identity.js';
import { roleByName } from './arm/rbac.js';
import { keyOf } from './arm/resourceId.js';
import { grantRole } from './providers/authorization/index.js';
import {
  MANAGEMENT_GROUP_TYPE,
  managementGroupBody,
  managementGroupId,
} from './providers/management/index.js';
import { type Db, getResource, putResource } from './store/index.js';

export const ADMIN_NAME = 'admin';

export function namedUser(name: string, tenantId: string): Principal {
  const ids = principalIdsFor(`User:${name}`);
  return { ...ids, clientId: ids.objectId, tenantId, name, type: 'User' };
}

export async function bootstrapTenant(db: Db, tenantId: string, now: Date): Promise<void> {
  const rootId = managementGroupId(tenantId);
  if (!(await getResource(db, keyOf(rootId)))) {
    const at = now.toISOString();
    await putResource(db, {
      key: keyOf(rootId),
      id: rootId,
      type: MANAGEMENT_GROUP_TYPE,
      subscriptionId: null,
      resourceGroup: null,
      parentKey: '',
      name: tenantId,
      body: managementGroupBody({
        name: tenantId,
        displayName: 'Tenant Root Group',
        tenantId,
        updatedBy: 'vaplane',
        updatedTime: at,
      }),
      etag: `"${tenantId}"`,
      createdAt: at,
      updatedAt: at,
    });
  }
  const admin = namedUser(ADMIN_NAME, tenantId);
  await grantRole(db, {
    scope: '/',
    roleId: roleByName('Owner')!.id,
    principalId: admin.objectId,
    principalType: 'User',
    by: 'vaplane',
    now,
  });
}

/**
 * A token for `principalName`, after granting it `roleName` at `scope` (idempotent). This is how the
 * CLI hands out ready tokens without a round trip through the token endpoint.
 */
export async function tokenFor(
  db: Db,
  keys: SigningKeys,
  options: {
    principalName: string;
    roleName?: string;
    scope?: string;
    tenantId: string;
    now: Date;
    lifetimeSeconds?: number;
  },
): Promise<{ token: string; principal: Principal; expiresOn: number }> {
  const principal = namedUser(options.principalName, options.tenantId);
  if (options.roleName) {
    const role = roleByName(options.roleName);
    if (!role)
      throw new Error(
        `unknown role '${options.roleName}': use Owner, Contributor, Reader, Security Admin or Security Reader`,
      );
    await grantRole(db, {
      scope: options.scope ?? '/',
      roleId: role.id,
      principalId: principal.objectId,
      principalType: 'User',
      by: 'vaplane',
      now: options.now,
    });
  }
  const issued = await issueToken(keys, { principal, lifetimeSeconds: options.lifetimeSeconds });
  return { ...issued, principal };
}
