/**
 * Parsing of ARM request paths into a scope and a target, for every scope ARM has: the tenant,
 * management groups, subscriptions, resource groups, resources (for extension resources such as
 * `.../virtualMachines/vm1/providers/Microsoft.Security/serverVulnerabilityAssessments/default`) and
 * nested children. Segments keep the caller's casing; comparisons are made on lower-cased copies.
 */
import { errors } from './errors.js';

export type ScopeKind = 'tenant' | 'managementGroup' | 'subscription' | 'resourceGroup' | 'resource';

export interface Scope {
  kind: ScopeKind;
  /** The scope's id as the caller wrote it ('' for the tenant). */
  id: string;
  subscriptionId?: string;
  resourceGroup?: string;
  managementGroup?: string;
  /** For a resource scope: its full type, lower-cased (`microsoft.compute/virtualmachines`). */
  resourceType?: string;
}

/**
 * The addressed thing. `names.length === types.length` addresses one resource; one name fewer
 * addresses a collection (GET lists) or, when the registry says so, an action (POST).
 */
export interface Target {
  namespace: string;
  types: string[];
  names: string[];
}

export interface ParsedPath {
  /** The path with duplicate slashes collapsed and no trailing slash. */
  path: string;
  scope: Scope;
  target: Target;
}

const RESOURCES_NAMESPACE = 'Microsoft.Resources';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESOURCE_GROUP_NAME = /^[-\w._()]{1,90}$/u;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** Splits a request path into decoded segments: empty segments (duplicate or trailing slashes) vanish. */
export function normalisePath(rawPath: string): string[] {
  return rawPath
    .split('/')
    .filter((segment) => segment.length > 0)
    .map((segment) => {
      let decoded = segment;
      if (segment.includes('%')) {
        try {
          decoded = decodeURIComponent(segment);
        } catch {
          throw errors.invalidRequestUri(rawPath);
        }
      }
      // An encoded slash would make a name that the stored id cannot be told apart from a deeper path.
      if (decoded.includes('/') || decoded.length === 0) throw errors.invalidRequestUri(rawPath);
      return decoded;
    });
}

/** Segments of an id that is already decoded (stored ids, ids in bodies): no percent-decoding. */
function idSegments(id: string): string[] {
  return id.split('/').filter((segment) => segment.length > 0);
}

export function parseArmPath(rawPath: string): ParsedPath {
  const segments = normalisePath(rawPath);
  const path = `/${segments.join('/')}`;
  let scope: Scope = { kind: 'tenant', id: '' };
  let i = 0;
  const lower = (k: number) => segments[k]?.toLowerCase();
  const malformed = () => errors.invalidRequestUri(path);

  if (segments.length === 0) throw malformed();
  if (lower(0) !== 'subscriptions' && lower(0) !== 'providers') {
    // Tenant-level operations of ARM itself: tenants, locations, …
    return { path, scope, target: pairs(RESOURCES_NAMESPACE, segments) };
  }

  if (lower(0) === 'subscriptions') {
    const subscriptionId = segments[1];
    if (subscriptionId === undefined) {
      return { path, scope, target: { namespace: RESOURCES_NAMESPACE, types: [segments[0]!], names: [] } };
    }
    if (!isGuid(subscriptionId)) throw errors.invalidSubscriptionId(subscriptionId);
    if (segments.length === 2) {
      return {
        path,
        scope,
        target: { namespace: RESOURCES_NAMESPACE, types: [segments[0]!], names: [subscriptionId] },
      };
    }
    scope = { kind: 'subscription', id: `/${segments[0]}/${subscriptionId}`, subscriptionId };
    i = 2;
    if (lower(i) === 'resourcegroups') {
      const resourceGroup = segments[i + 1];
      if (resourceGroup === undefined) {
        return { path, scope, target: { namespace: RESOURCES_NAMESPACE, types: [segments[i]!], names: [] } };
      }
      if (!RESOURCE_GROUP_NAME.test(resourceGroup)) throw errors.invalidResourceGroupName(resourceGroup);
      if (segments.length === i + 2) {
        return {
          path,
          scope,
          target: { namespace: RESOURCES_NAMESPACE, types: [segments[i]!], names: [resourceGroup] },
        };
      }
      scope = {
        kind: 'resourceGroup',
        id: `${scope.id}/${segments[i]}/${resourceGroup}`,
        subscriptionId,
        resourceGroup,
      };
      i += 2;
    } else if (lower(i) !== 'providers') {
      // Subscription-level operations of ARM itself: operationresults, locations, …
      return { path, scope, target: pairs(RESOURCES_NAMESPACE, segments.slice(i)) };
    }
  }

  for (;;) {
    if (lower(i) !== 'providers') throw malformed();
    const namespace = segments[i + 1];
    // `/providers` and `/providers/{namespace}` are ARM's own provider registrations, which exist at
    // the tenant and at subscriptions only; below a resource group or a resource they address nothing.
    const registrationScope = scope.kind === 'tenant' || scope.kind === 'subscription';
    if (namespace === undefined) {
      if (!registrationScope) throw malformed();
      return { path, scope, target: { namespace: RESOURCES_NAMESPACE, types: [segments[i]!], names: [] } };
    }
    let end = i + 2;
    while (end < segments.length && !(lower(end) === 'providers' && (end - i) % 2 === 0 && end > i + 2))
      end++;
    const level = pairs(namespace, segments.slice(i + 2, end));
    const registration = { namespace: RESOURCES_NAMESPACE, types: [segments[i]!], names: [namespace] };
    if (level.types.length === 0) {
      if (!registrationScope) throw malformed();
      return { path, scope, target: registration };
    }
    if (registrationScope && end === i + 3 && lower(i + 2) === 'register') {
      // `POST .../providers/{namespace}/register`: an action on the registration, not a type of the namespace.
      return { path, scope, target: { ...registration, types: [segments[i]!, segments[i + 2]!] } };
    }
    if (end >= segments.length) return { path, scope, target: level };
    scope = resourceScope(scope, segments.slice(0, end), level);
    i = end;
  }
}

function pairs(namespace: string, rest: string[]): Target {
  const types: string[] = [];
  const names: string[] = [];
  for (const [k, segment] of rest.entries()) (k % 2 === 0 ? types : names).push(segment);
  return { namespace, types, names };
}

function resourceScope(parent: Scope, segments: string[], level: Target): Scope {
  const resourceType = `${level.namespace}/${level.types.join('/')}`.toLowerCase();
  const base = {
    kind: 'resource' as const,
    id: `/${segments.join('/')}`,
    subscriptionId: parent.subscriptionId,
    resourceGroup: parent.resourceGroup,
    resourceType,
  };
  if (resourceType === 'microsoft.management/managementgroups' && parent.kind === 'tenant') {
    return { ...base, kind: 'managementGroup', managementGroup: level.names[0] };
  }
  return base;
}

/** The lower-cased key under which a resource id is stored and compared (slashes collapsed). */
export function keyOf(id: string): string {
  return `/${idSegments(id).join('/')}`.toLowerCase();
}

/**
 * Ids of every scope that contains `id`, outermost first, ending with `id` itself when it addresses a
 * scope or resource ('/' is the root). `providers/{namespace}` opens a level without closing a scope, so
 * the walk reads the id as ARM does: pairs of type and name, each `providers` followed by a namespace.
 */
export function enclosingScopes(id: string): string[] {
  const segments = idSegments(id);
  const scopes = ['/'];
  let k = 0;
  while (k + 1 < segments.length) {
    if (segments[k]!.toLowerCase() === 'providers') {
      k += 2;
      continue;
    }
    k += 2;
    scopes.push(`/${segments.slice(0, k).join('/')}`);
  }
  return scopes;
}
