/**
 * From an HTTP request to a provider handler: parse the path, check the api-version, resolve the
 * resource type, authorize, then run the handler — reads on the plain connection, writes in one
 * transaction so that a request changes everything or nothing.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { inTransaction } from '../store/index.js';
import { ArmError, errors } from './errors.js';
import type { Principal } from './identity.js';
import type {
  ArmContext,
  ArmReply,
  Handler,
  HttpMethod,
  Registry,
  ResourceTypeDef,
  Services,
} from './registry.js';
import { fullType } from './registry.js';
import { keyOf, type ParsedPath, parseArmPath } from './resourceId.js';

export interface ArmRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  principal: Principal;
  baseUrl: string;
}

interface Resolved {
  def: ResourceTypeDef;
  handler: Handler;
  action?: string;
  /** The RBAC operation this request performs. */
  operation: string;
  writes: boolean;
}

export function splitUrl(url: string): { path: string; query: Record<string, string | undefined> } {
  const at = url.indexOf('?');
  const path = at < 0 ? url : url.slice(0, at);
  const query: Record<string, string | undefined> = {};
  if (at >= 0) {
    for (const [name, value] of new URLSearchParams(url.slice(at + 1))) query[name] = value;
  }
  return { path, query };
}

function queryValue(query: Record<string, string | undefined>, name: string): string | undefined {
  const found = Object.keys(query).find((key) => key.toLowerCase() === name);
  return found === undefined ? undefined : query[found];
}

export function createDispatcher(registry: Registry, services: Services) {
  function resolve(method: HttpMethod, parsed: ParsedPath, apiVersion: string): Resolved {
    const { target, scope } = parsed;
    if (!registry.hasNamespace(target.namespace)) throw errors.invalidResourceNamespace(target.namespace);
    const addressesResource = target.names.length === target.types.length;
    let def = registry.lookup(target.namespace, target.types);
    let handler: Handler | undefined;
    let action: string | undefined;
    let verb: string;
    const lastName = target.names[target.names.length - 1]?.toLowerCase();
    if (def && addressesResource && method === 'POST' && lastName && def.collectionActions?.[lastName]) {
      // `POST .../{type}/{action}`: a path shaped like a resource that the type serves as an action.
      action = lastName;
      handler = def.collectionActions[lastName];
      verb = `${action}/action`;
    } else if (def && addressesResource) {
      const byMethod: Record<HttpMethod, Handler | undefined> = {
        GET: def.get,
        HEAD: def.get,
        PUT: def.put,
        PATCH: def.patch,
        DELETE: def.delete,
        POST: undefined,
      };
      handler = byMethod[method];
      verb = method === 'GET' || method === 'HEAD' ? 'read' : method === 'DELETE' ? 'delete' : 'write';
    } else if (def) {
      if (method === 'GET' || method === 'HEAD') handler = def.list;
      verb = 'read';
    } else {
      // `.../{type}/{name}/{action}`: an action on one resource of the parent type.
      def = registry.lookup(target.namespace, target.types.slice(0, -1));
      action = target.types[target.types.length - 1]!.toLowerCase();
      const actionHandler = def?.actions?.[action];
      if (!def || !actionHandler) {
        throw errors.invalidResourceType(target.types.join('/'), target.namespace, apiVersion);
      }
      if (method === 'POST') handler = actionHandler;
      verb = `${action}/action`;
    }
    if (!def.apiVersions.some((version) => version.toLowerCase() === apiVersion.toLowerCase())) {
      throw errors.invalidApiVersion(apiVersion, newestFirst(def.apiVersions));
    }
    // A nested type lives wherever its top-level type lives.
    const rootType = def.type.includes('/') ? registry.lookup(def.namespace, [def.type.split('/')[0]!]) : def;
    if (rootType) {
      const listsHere = !addressesResource && !action && rootType === def;
      const allowed = listsHere ? (def.listScopes ?? def.scopes) : rootType.scopes;
      if (!allowed.includes(scope.kind)) {
        throw errors.invalidResourceType(def.type, def.namespace, apiVersion);
      }
    }
    if (!handler) throw errors.methodNotAllowed(method, fullType(def));
    const writes =
      method === 'PUT' ||
      method === 'PATCH' ||
      method === 'DELETE' ||
      (method === 'POST' && !(action && def.readActions?.includes(action)));
    const operation = `${def.operationType ?? fullType(def)}/${verb}`;
    return { def, handler, action, operation, writes };
  }

  return async function dispatch(request: ArmRequest): Promise<ArmReply> {
    const method = request.method.toUpperCase() as HttpMethod;
    const { path, query } = splitUrl(request.url);
    const parsed = parseArmPath(path);
    const apiVersion = queryValue(query, 'api-version');
    if (!apiVersion) throw errors.missingApiVersion();
    const resolved = resolve(method, parsed, apiVersion);
    const publicRead = (method === 'GET' || method === 'HEAD') && resolved.def.publicRead?.(parsed) === true;
    if (!resolved.def.skipAuthorization && !publicRead) {
      await services.authz.authorize(request.principal, resolved.operation, parsed.path);
    }
    const base: Omit<ArmContext, 'db'> = {
      method,
      parsed,
      def: resolved.def,
      action: resolved.action,
      apiVersion: resolved.def.apiVersions.find((v) => v.toLowerCase() === apiVersion.toLowerCase())!,
      query,
      headers: request.headers,
      body: request.body,
      principal: request.principal,
      baseUrl: request.baseUrl,
      services,
    };
    let reply: ArmReply;
    if (resolved.writes) {
      reply = await inTransaction(services.store.db, async (tx) => {
        const ctx = { ...base, db: tx };
        const written = await resolved.handler(ctx);
        // Checks judge the resource as stored, defaults applied; a throw rolls the whole write back.
        if (method === 'PUT' || method === 'PATCH') {
          for (const check of services.writeChecks) await check(ctx, written);
        }
        const writtenKey = written.status < 400 ? writtenResourceKey(parsed, resolved) : undefined;
        if (writtenKey) for (const hook of services.afterWrite) await hook(tx, [writtenKey]);
        return written;
      });
      services.invalidate(fullType(resolved.def).toLowerCase());
    } else {
      reply = await resolved.handler({ ...base, db: services.store.db });
    }
    if (method === 'HEAD')
      return { status: reply.status === 200 ? 204 : reply.status, headers: reply.headers };
    return reply;
  };
}

/** The resource a write changes: the addressed one, or for an action the one it acts on (none for collection actions). */
function writtenResourceKey(parsed: ParsedPath, resolved: Resolved): string | undefined {
  if (!resolved.action) return keyOf(parsed.path);
  if (resolved.def.collectionActions?.[resolved.action] === resolved.handler) return undefined;
  return keyOf(parsed.path.slice(0, parsed.path.lastIndexOf('/')));
}

/** api-versions as ARM lists them in errors: newest first (`2024-01-01-preview` before `2024-01-01`). */
function newestFirst(versions: readonly string[]): string[] {
  return [...versions].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
}

export function toArmError(error: unknown): ArmError {
  return error instanceof ArmError ? error : errors.internal();
}
