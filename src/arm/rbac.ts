/**
 * Azure RBAC: the built-in roles this system needs (with their real ids and actions), role assignments
 * at any scope inherited downwards (root → management groups → subscription → resource group →
 * resource), and the check made before every request.
 */
import type { Db } from '../store/index.js';
import { errors } from './errors.js';
import type { Principal } from './identity.js';
import { enclosingScopes, keyOf } from './resourceId.js';

export interface RoleDefinition {
  id: string;
  roleName: string;
  description: string;
  actions: readonly string[];
  notActions: readonly string[];
}

export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  {
    id: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
    roleName: 'Owner',
    description:
      'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.',
    actions: ['*'],
    notActions: [],
  },
  {
    id: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    roleName: 'Contributor',
    description:
      'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.',
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
      'Microsoft.Compute/galleries/share/action',
      'Microsoft.Purview/consents/write',
      'Microsoft.Purview/consents/delete',
      'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
      'Microsoft.Subscription/cancel/action',
      'Microsoft.Subscription/enable/action',
    ],
  },
  {
    id: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
    roleName: 'Reader',
    description: 'View all resources, but does not allow you to make any changes.',
    actions: ['*/read'],
    notActions: [],
  },
  {
    id: 'fb1c8493-542b-48eb-b624-b4c8fea62acd',
    roleName: 'Security Admin',
    description: 'Security Admin Role',
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.Authorization/policyAssignments/*',
      'Microsoft.Authorization/policyDefinitions/*',
      'Microsoft.Authorization/policyExemptions/*',
      'Microsoft.Authorization/policySetDefinitions/*',
      'Microsoft.Insights/alertRules/read',
      'Microsoft.Management/managementGroups/read',
      'Microsoft.operationalInsights/workspaces/*/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Security/*',
      'Microsoft.IoTSecurity/*',
      'Microsoft.Support/*',
    ],
    notActions: [],
  },
  {
    id: '39bc4728-0917-49c7-9d2c-d95423bc2eb4',
    roleName: 'Security Reader',
    description: 'Security Reader Role',
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/read',
      'Microsoft.operationalInsights/workspaces/*/read',
      'Microsoft.Resources/deployments/*/read',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Security/*/read',
      'Microsoft.IoTSecurity/*/read',
      'Microsoft.Support/*/read',
      'Microsoft.Security/iotDefenders/packageDownloads/action',
      'Microsoft.Security/iotSensors/downloadResetPassword/action',
      'Microsoft.Security/iotSensors/packageDownloads/action',
      'Microsoft.Management/managementGroups/read',
    ],
    notActions: [],
  },
];

export function roleByName(name: string): RoleDefinition | undefined {
  const wanted = name.toLowerCase().replace(/\s+/g, '');
  return BUILT_IN_ROLES.find(
    (role) => role.roleName.toLowerCase().replace(/\s+/g, '') === wanted || role.id === name.toLowerCase(),
  );
}

export function roleById(id: string): RoleDefinition | undefined {
  const guid = id.split('/').pop()?.toLowerCase();
  return BUILT_IN_ROLES.find((role) => role.id === guid);
}

/** `/providers/Microsoft.Authorization/roleDefinitions/{id}` at a scope, as ARM writes role ids. */
export function roleDefinitionId(scope: string, roleId: string): string {
  const base = scope === '/' ? '' : scope;
  return `${base}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

const patternCache = new Map<string, RegExp>();
function actionPattern(pattern: string): RegExp {
  let regex = patternCache.get(pattern);
  if (!regex) {
    const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
    regex = new RegExp(`^${escaped}$`, 'i');
    patternCache.set(pattern, regex);
  }
  return regex;
}

export function roleAllows(role: RoleDefinition, action: string): boolean {
  return (
    role.actions.some((pattern) => actionPattern(pattern).test(action)) &&
    !role.notActions.some((pattern) => actionPattern(pattern).test(action))
  );
}

/**
 * The action as ARM names it in `AuthorizationFailed`: type segments spelled as the request path
 * spelled them (SDKs send `/resourcegroups/`, and ARM answers
 * `Microsoft.Resources/subscriptions/resourcegroups/write`). Only the casing changes.
 */
export function actionAsRequested(action: string, path: string): string {
  const spelled = new Map<string, string>();
  for (const segment of path.split('/')) {
    if (!spelled.has(segment.toLowerCase())) spelled.set(segment.toLowerCase(), segment);
  }
  const segments = action.split('/');
  return segments
    .map((segment, index) =>
      index === segments.length - 1 ? segment : (spelled.get(segment.toLowerCase()) ?? segment),
    )
    .join('/');
}

export interface Assignment {
  principalId: string;
  roleDefinitionId: string;
  /** Lower-cased scope key; '/' is the root. */
  scopeKey: string;
}

export interface Authorizer {
  /** Throws ARM's 403 unless the principal may perform `action` on `resourceId`. */
  authorize(principal: Principal, action: string, resourceId: string): Promise<void>;
  can(principal: Principal, action: string, resourceId: string): Promise<boolean>;
  /**
   * Keys of every scope whose role assignments reach `resourceId` ('/' for the root): its enclosing
   * scopes and, inside a subscription or group, the management groups above it.
   */
  scopesReaching(resourceId: string): Promise<Set<string>>;
  /** Drops cached assignments and hierarchy (after role-assignment or management-group writes). */
  invalidate(): void;
}

const ROLE_ASSIGNMENT_TYPE = 'microsoft.authorization/roleassignments';
const MAX_DECISIONS = 10_000;
const SUBSCRIPTION_READ = 'microsoft.resources/subscriptions/read';
/** A path that addresses one subscription itself (not something inside it). */
const SUBSCRIPTION_ID = /^\/subscriptions\/([^/]+)\/?$/i;
const MANAGEMENT_GROUP_TYPE = 'microsoft.management/managementgroups';
const GROUP_SUBSCRIPTION_TYPE = 'microsoft.management/managementgroups/subscriptions';

/**
 * Assignments and the management-group tree are read whole and cached: they are small, read on every
 * request and written rarely. The cache is dropped on local writes and refreshed after `ttlMs` to
 * see writes made by another server on the same PostgreSQL database.
 */
export function createAuthorizer(db: Db, options: { ttlMs?: number } = {}): Authorizer {
  const ttlMs = options.ttlMs ?? 5000;
  let loadedAt = 0;
  let loading: Promise<Snapshot> | undefined;

  interface Snapshot {
    byPrincipal: Map<string, Assignment[]>;
    /** Lower-cased subscription id or group name → its parent management-group key chain, nearest first. */
    groupChain: Map<string, string[]>;
    /** Decisions already made on this snapshot, keyed by principal, action and resource id. */
    decisions: Map<string, boolean>;
  }

  async function load(): Promise<Snapshot> {
    const rows = await db
      .selectFrom('resources')
      .select(['type', 'key', 'parent_key', 'name', 'body'])
      .where('type', 'in', [ROLE_ASSIGNMENT_TYPE, MANAGEMENT_GROUP_TYPE, GROUP_SUBSCRIPTION_TYPE])
      .execute();
    const byPrincipal = new Map<string, Assignment[]>();
    const groupParent = new Map<string, string>();
    const subscriptionParent = new Map<string, string>();
    for (const row of rows) {
      const body = JSON.parse(row.body);
      if (row.type === ROLE_ASSIGNMENT_TYPE) {
        const principalId = String(body.properties?.principalId ?? '').toLowerCase();
        const list = byPrincipal.get(principalId) ?? [];
        list.push({
          principalId,
          roleDefinitionId: String(body.properties?.roleDefinitionId ?? ''),
          scopeKey: row.parent_key === '' ? '/' : row.parent_key,
        });
        byPrincipal.set(principalId, list);
      } else if (row.type === MANAGEMENT_GROUP_TYPE) {
        const parentId = body.properties?.details?.parent?.id;
        if (typeof parentId === 'string') groupParent.set(row.key, keyOf(parentId));
      } else {
        subscriptionParent.set(row.name.toLowerCase(), row.parent_key);
      }
    }
    const groupChain = new Map<string, string[]>();
    const chainFrom = (groupKey: string | undefined): string[] => {
      const chain: string[] = [];
      const seen = new Set<string>();
      for (let key = groupKey; key !== undefined && !seen.has(key); key = groupParent.get(key)) {
        seen.add(key);
        chain.push(key);
      }
      return chain;
    };
    for (const [subscriptionId, groupKey] of subscriptionParent)
      groupChain.set(subscriptionId, chainFrom(groupKey));
    for (const groupKey of groupParent.keys()) groupChain.set(groupKey, chainFrom(groupParent.get(groupKey)));
    return { byPrincipal, groupChain, decisions: new Map() };
  }

  let snapshot: Snapshot | undefined;
  async function current(): Promise<Snapshot> {
    if (snapshot && Date.now() - loadedAt < ttlMs) return snapshot;
    loading ??= load().then((loaded) => {
      snapshot = loaded;
      loadedAt = Date.now();
      loading = undefined;
      return loaded;
    });
    return loading;
  }

  function scopesOf(state: Snapshot, resourceId: string): Set<string> {
    const scopes = new Set(enclosingScopes(resourceId).map((scope) => (scope === '/' ? '/' : keyOf(scope))));
    const segments = keyOf(resourceId).split('/');
    if (segments[1] === 'subscriptions' && segments[2]) {
      for (const group of state.groupChain.get(segments[2]) ?? []) scopes.add(group);
    } else if (segments[1] === 'providers' && segments[3] === 'managementgroups' && segments[4]) {
      const groupKey = segments.slice(0, 5).join('/');
      for (const group of state.groupChain.get(groupKey) ?? []) scopes.add(group);
    }
    return scopes;
  }

  async function can(principal: Principal, action: string, resourceId: string): Promise<boolean> {
    if (allows(await current(), principal, action, resourceId)) return true;
    // A denial is checked once more on fresh data, so an assignment just made elsewhere (another
    // process on the same database, `vaplane token`) takes effect at once rather than after the TTL.
    if (Date.now() - loadedAt < 200) return false;
    snapshot = undefined;
    return allows(await current(), principal, action, resourceId);
  }

  /**
   * A decision depends only on the snapshot, the principal's object id, the action and the resource
   * id, and clients repeat the same requests: each is worked out once per snapshot (bounded).
   */
  function allows(state: Snapshot, principal: Principal, action: string, resourceId: string): boolean {
    const decisionKey = `${principal.objectId}\n${action}\n${resourceId}`;
    const known = state.decisions.get(decisionKey);
    if (known !== undefined) return known;
    const decision = decide(state, principal, action, resourceId);
    if (state.decisions.size >= MAX_DECISIONS) state.decisions.clear();
    state.decisions.set(decisionKey, decision);
    return decision;
  }

  function decide(state: Snapshot, principal: Principal, action: string, resourceId: string): boolean {
    const assignments = state.byPrincipal.get(principal.objectId.toLowerCase());
    if (!assignments) return false;
    const scopes = scopesOf(state, resourceId);
    const granted = assignments.some((assignment) => {
      if (!scopes.has(assignment.scopeKey)) return false;
      const role = roleById(assignment.roleDefinitionId);
      return role !== undefined && roleAllows(role, action);
    });
    if (granted) return true;
    // ARM shows a subscription (GET, and in GET /subscriptions) to anyone holding any role at, above
    // or inside it: a Security Reader (no subscriptions/read action) or a resource-group Reader sees
    // it, which is how `az login` finds their subscriptions.
    const subscriptionKey = SUBSCRIPTION_ID.exec(resourceId)?.[1]?.toLowerCase();
    if (subscriptionKey === undefined || action.toLowerCase() !== SUBSCRIPTION_READ) return false;
    const inside = `/subscriptions/${subscriptionKey}/`;
    return assignments.some(
      (assignment) => scopes.has(assignment.scopeKey) || assignment.scopeKey.startsWith(inside),
    );
  }

  return {
    can,
    async scopesReaching(resourceId) {
      return scopesOf(await current(), resourceId);
    },
    async authorize(principal, action, resourceId) {
      if (!(await can(principal, action, resourceId))) {
        throw errors.authorizationFailed({
          clientId: principal.type === 'User' ? principal.name : principal.clientId,
          objectId: principal.objectId,
          action: actionAsRequested(action, resourceId),
          scope: resourceId,
        });
      }
    },
    invalidate() {
      snapshot = undefined;
    },
  };
}
