/**
 * The resource-type registry: every provider registers the types it owns, with their api-versions,
 * the scopes they live at and their handlers. Routing looks types up case-insensitively.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../clock.js';
import type { Db, Store } from '../store/index.js';
import type { Principal } from './identity.js';
import type { ParsedPath, ScopeKind } from './resourceId.js';

export type HttpMethod = 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST' | 'HEAD';

export interface ArmReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ArmContext {
  method: HttpMethod;
  parsed: ParsedPath;
  def: ResourceTypeDef;
  /** For POST actions: the action's name as registered. */
  action?: string;
  apiVersion: string;
  query: Record<string, string | undefined>;
  headers: IncomingHttpHeaders;
  body: unknown;
  principal: Principal;
  /** `https://host:port` as the client reached the server; absolute URLs in headers start with it. */
  baseUrl: string;
  /** The request's transaction for writes, the plain connection for reads. */
  db: Db;
  services: Services;
}

/** What handlers may use beyond the request: shared, long-lived parts of the server. */
export interface Services {
  clock: Clock;
  store: Store;
  lro: import('./lro.js').LroEngine;
  authz: import('./rbac.js').Authorizer;
  /** Called after a write commits: caches keyed by type drop what they hold. */
  invalidate(type: string): void;
  onInvalidate(listener: (type: string) => void): void;
  /**
   * Run after a PUT or PATCH handler, inside its transaction, with the reply it made: a check that
   * throws refuses the request and rolls the write back (Azure Policy's Deny).
   */
  writeChecks: WriteCheck[];
  /**
   * Run inside the transaction of every successful resource write — a PUT, PATCH, DELETE or POST
   * action through dispatch, or a long-running operation completing — with the keys of the resources
   * written: what must change with the write (policy's evaluation-due records) commits or rolls back
   * with it.
   */
  afterWrite: AfterWrite[];
}

/** `ctx.db` is the write's transaction: the resource as written is readable there, not yet committed. */
export type WriteCheck = (ctx: ArmContext, reply: ArmReply) => Promise<void>;

/** `db` is the write's transaction; `keys` are the lower-cased keys of the resources written or deleted. */
export type AfterWrite = (db: Db, keys: readonly string[]) => Promise<void>;

export type Handler = (ctx: ArmContext) => Promise<ArmReply>;

export interface ResourceTypeDef {
  /** Canonical casing, echoed in ids and `type`: `Microsoft.Compute`. */
  namespace: string;
  /** Canonical casing of the type path below the namespace: `virtualMachines/extensions`. */
  type: string;
  /** Supported api-versions, newest first (the order ARM lists them in errors). */
  apiVersions: readonly string[];
  /**
   * Where resources of a top-level type live. Nested types (`a/b`) live under their parent and
   * ignore this. `resource` marks an extension resource (on another resource).
   */
  scopes: readonly ScopeKind[];
  /** Scopes whose collection GET lists this type (defaults to `scopes`). */
  listScopes?: readonly ScopeKind[];
  /** For extension resources: lower-cased parent types allowed; any when absent. */
  extensionOf?: readonly string[];
  /** RBAC operation prefix when it differs from `namespace/type` (resource groups are `Microsoft.Resources/subscriptions/resourceGroups`). */
  operationType?: string;
  get?: Handler;
  put?: Handler;
  patch?: Handler;
  delete?: Handler;
  list?: Handler;
  /** POST actions on one resource, keyed by lower-cased action name. */
  actions?: Record<string, Handler>;
  /** POST actions on the collection (e.g. `.../operationresults` style checks), keyed by lower-cased name. */
  collectionActions?: Record<string, Handler>;
  /** Actions that only read (RBAC checks them as reads, and they run without a write transaction). */
  readActions?: readonly string[];
  /** The handler filters by the caller's access itself (e.g. `GET /subscriptions` lists what one may read). */
  skipAuthorization?: boolean;
  /**
   * GETs of this type that every signed-in principal may make, whatever its roles (built-in policy
   * definitions are readable by all, as in Azure). Everything else is authorized as usual.
   */
  publicRead?: (parsed: ParsedPath) => boolean;
}

export interface Registry {
  register(def: ResourceTypeDef): void;
  lookup(namespace: string, types: readonly string[]): ResourceTypeDef | undefined;
  hasNamespace(namespace: string): boolean;
  all(): ResourceTypeDef[];
}

export function createRegistry(): Registry {
  const byKey = new Map<string, ResourceTypeDef>();
  const namespaces = new Set<string>();
  return {
    register(def) {
      const key = `${def.namespace}/${def.type}`.toLowerCase();
      if (byKey.has(key)) throw new Error(`resource type ${key} registered twice`);
      byKey.set(key, def);
      namespaces.add(def.namespace.toLowerCase());
    },
    lookup(namespace, types) {
      return byKey.get(`${namespace}/${types.join('/')}`.toLowerCase());
    },
    hasNamespace(namespace) {
      return namespaces.has(namespace.toLowerCase());
    },
    all() {
      return [...byKey.values()];
    },
  };
}

export function fullType(def: ResourceTypeDef): string {
  return `${def.namespace}/${def.type}`;
}
