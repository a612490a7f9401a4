/**
 * What the signed-in principal may do, read from the public API the way the Azure portal does: its
 * role assignments (`$filter=principalId eq '…'`) and the role definitions they name, evaluated
 * against ARM action names. The server still decides; this only lets pages disable what would be
 * refused and say why.
 */
import type { ArmClient } from '../arm/client';
import { API } from '../arm/versions';
import { useArmQuery } from '../data';
import { useSession } from './session';

export interface RoleDefinition {
  id: string;
  roleName: string;
  actions: string[];
  notActions: string[];
}

export interface Grant {
  role: RoleDefinition;
  /** `/`, a management group, a subscription or below. */
  scope: string;
}

interface RoleAssignmentBody {
  properties: { roleDefinitionId: string; scope: string; principalId: string };
}

interface RoleDefinitionBody {
  name: string;
  properties: {
    roleName: string;
    permissions: { actions: string[]; notActions: string[] }[];
  };
}

function patternMatches(pattern: string, action: string): boolean {
  const expression = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${expression}$`, 'i').test(action);
}

export function roleAllows(role: RoleDefinition, action: string): boolean {
  return (
    role.actions.some((pattern) => patternMatches(pattern, action)) &&
    !role.notActions.some((pattern) => patternMatches(pattern, action))
  );
}

function guidOf(id: string): string {
  return id.split('/').pop()!.toLowerCase();
}

/**
 * The principal's grants as a list at `scope` answers them ('' = the tenant root): at the scope,
 * above it (management groups included) and below it.
 */
export async function loadGrants(
  client: ArmClient,
  options: { principalId: string; scope: string; signal?: AbortSignal },
): Promise<{ grants: Grant[]; definitions: RoleDefinition[] }> {
  const [assignments, definitionBodies] = await Promise.all([
    client.listAll<RoleAssignmentBody>(`${options.scope}/providers/Microsoft.Authorization/roleAssignments`, {
      apiVersion: API.roleAssignments,
      query: { $filter: `principalId eq '${options.principalId}'` },
      signal: options.signal,
    }),
    client.listAll<RoleDefinitionBody>(`${options.scope}/providers/Microsoft.Authorization/roleDefinitions`, {
      apiVersion: API.roleDefinitions,
      signal: options.signal,
    }),
  ]);
  const definitions: RoleDefinition[] = definitionBodies.map((body) => ({
    id: body.name.toLowerCase(),
    roleName: body.properties.roleName,
    actions: body.properties.permissions.flatMap((permission) => permission.actions),
    notActions: body.properties.permissions.flatMap((permission) => permission.notActions),
  }));
  const byId = new Map(definitions.map((definition) => [definition.id, definition]));
  const grants = assignments.flatMap((assignment) => {
    if (assignment.properties.principalId.toLowerCase() !== options.principalId.toLowerCase()) return [];
    const role = byId.get(guidOf(assignment.properties.roleDefinitionId));
    return role ? [{ role, scope: assignment.properties.scope }] : [];
  });
  return { grants, definitions };
}

/** Whether a grant at `scope` reaches `resourceId`, given that the list was taken at `listScope`. */
function reaches(grantScope: string, resourceId: string): boolean {
  const scope = grantScope.toLowerCase().replace(/\/+$/, '');
  const target = resourceId.toLowerCase();
  // Management-group grants in a subscription's list are the groups above it: ARM lists only those.
  if (scope === '' || scope.startsWith('/providers/microsoft.management/managementgroups/')) return true;
  return target === scope || target.startsWith(`${scope}/`);
}

export interface Access {
  ready: boolean;
  /** The roles that reach the scope. */
  roles: string[];
  can(action: string, resourceId?: string): boolean;
  /** Why `action` is not allowed, naming the principal's roles and the built-in roles that allow it. */
  whyNot(action: string, what: string): string;
  error?: string;
}

/** The principal's access inside one subscription (grants listed at that subscription). */
export function useSubscriptionAccess(subscriptionId: string | undefined): Access {
  const session = useSession();
  const scope = subscriptionId ? `/subscriptions/${subscriptionId}` : undefined;
  const query = useArmQuery(scope ? `access:${scope}` : null, (signal) =>
    loadGrants(session.client, { principalId: session.claims.oid, scope: scope!, signal }),
  );
  const grants = query.data?.grants ?? [];
  const definitions = query.data?.definitions ?? [];
  const reachingScope = grants.filter((grant) => scope !== undefined && reaches(grant.scope, scope));
  const roles = [...new Set(reachingScope.map((grant) => grant.role.roleName))];
  const can = (action: string, resourceId = scope ?? '') =>
    grants.some((grant) => reaches(grant.scope, resourceId) && roleAllows(grant.role, action));
  return {
    ready: query.data !== undefined,
    roles,
    can,
    whyNot(action, what) {
      const allowedBy = definitions.filter((role) => roleAllows(role, action)).map((role) => role.roleName);
      const held = roles.length > 0 ? roles.join(', ') : 'no role';
      return `You cannot ${what}: your role here (${held}) does not include ${action}.${
        allowedBy.length > 0 ? ` ${formatList(allowedBy)} can.` : ''
      }`;
    },
    error: query.error?.message,
  };
}

export function formatList(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

export interface SignedInRoles {
  grants: Grant[];
  error?: string;
  loading: boolean;
}

/**
 * The principal's role assignments for the header: listed at the tenant root when it may read
 * there, otherwise at its first subscription.
 */
export function useSignedInRoles(): SignedInRoles {
  const session = useSession();
  const query = useArmQuery('roles', async (signal) => {
    const principalId = session.claims.oid;
    try {
      return (await loadGrants(session.client, { principalId, scope: '', signal })).grants;
    } catch (error) {
      const subscriptions = await session.client.page<{ subscriptionId: string }>('/subscriptions', {
        apiVersion: API.subscriptions,
        signal,
      });
      const first = subscriptions.value[0]?.subscriptionId;
      if (!first) throw error;
      return (await loadGrants(session.client, { principalId, scope: `/subscriptions/${first}`, signal }))
        .grants;
    }
  });
  return { grants: query.data ?? [], error: query.error?.message, loading: query.loading };
}

export interface MultiAccess {
  ready: boolean;
  can(action: string, resourceId: string): boolean;
  whyNot(action: string, resourceId: string, what: string): string;
}

/** Access across several subscriptions (a selection of machines may span many). */
export function useAccessIn(subscriptionIds: readonly string[]): MultiAccess {
  const session = useSession();
  const unique = [...new Set(subscriptionIds.map((id) => id.toLowerCase()))].sort();
  const query = useArmQuery(unique.length > 0 ? `access-many:${unique.join(',')}` : null, async (signal) => {
    const entries = await Promise.all(
      unique.map(
        async (id) =>
          [
            id,
            await loadGrants(session.client, {
              principalId: session.claims.oid,
              scope: `/subscriptions/${id}`,
              signal,
            }),
          ] as const,
      ),
    );
    return new Map(entries);
  });
  const subscriptionOf = (resourceId: string) =>
    /^\/subscriptions\/([^/]+)/i.exec(resourceId)?.[1]?.toLowerCase() ?? '';
  return {
    ready: unique.length === 0 || query.data !== undefined,
    can(action, resourceId) {
      const loaded = query.data?.get(subscriptionOf(resourceId));
      return (
        loaded?.grants.some((grant) => reaches(grant.scope, resourceId) && roleAllows(grant.role, action)) ??
        false
      );
    },
    whyNot(action, resourceId, what) {
      const loaded = query.data?.get(subscriptionOf(resourceId));
      const roles = [
        ...new Set(
          (loaded?.grants ?? [])
            .filter((grant) => reaches(grant.scope, resourceId))
            .map((grant) => grant.role.roleName),
        ),
      ];
      const allowedBy = (loaded?.definitions ?? [])
        .filter((role) => roleAllows(role, action))
        .map((role) => role.roleName);
      return `You cannot ${what}: your role (${roles.length > 0 ? roles.join(', ') : 'no role'}) does not include ${action}.${
        allowedBy.length > 0 ? ` ${formatList(allowedBy)} can.` : ''
      }`;
    },
  };
}
