/**
 * The composition root: opens the store, loads keys and TLS, registers every provider, and builds the
 * Fastify app with the ARM pipeline in this order:
 *   request ids → identity endpoints (no ARM auth) → authentication → throttling → body parsing →
 *   dispatch (path, api-version, type, RBAC, handler in a transaction) → ARM error envelope.
 * Authentication runs before the body is read so an anonymous caller cannot make the server parse a
 * large body; throttling runs after it because ARM's limits are per principal and subscription.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import {
  type Authenticator,
  createAuthenticator,
  DEFAULT_TENANT_ID,
  loadSigningKeys,
  type SigningKeys,
} from './arm/auth.js';
import { createDispatcher, toArmError } from './arm/dispatch.js';
import { ArmError, errors } from './arm/errors.js';
import type { Principal } from './arm/identity.js';
import { createLroEngine } from './arm/lro.js';
import { createAuthorizer } from './arm/rbac.js';
import { createRegistry, type Registry, type Services } from './arm/registry.js';
import { createThrottle, type ThrottleMode } from './arm/throttle.js';
import { IDENTITY_PATH, registerTokenEndpoints } from './arm/tokenEndpoints.js';
import { type Clock, clockStartingAt, systemClock } from './clock.js';
import { registerProviders } from './providers/index.js';
import { openStore, type Store } from './store/index.js';
import { loadOrCreateTls, type TlsMaterial } from './tls.js';

export interface ServerOptions {
  /** SQLite file or `postgres://` URL. */
  db?: string;
  stateDir?: string;
  host?: string;
  port?: number;
  /** Start the server clock at this instant (rehearsal); it then advances in real time. */
  now?: Date;
  throttle?: ThrottleMode;
  /** Operator-supplied TLS certificate and key (PEM text); a local CA is generated otherwise. */
  tls?: { cert: string; key: string };
  /** How long long-running operations take before they complete. */
  lroDelayMs?: number;
  /** `none` accepts every request as a built-in Owner: for local experiments only. */
  auth?: 'jwt' | 'none';
  bodyLimitBytes?: number;
  tenantId?: string;
  logger?: boolean;
}

export interface VaplaneServer {
  app: FastifyInstance;
  store: Store;
  services: Services;
  registry: Registry;
  keys: SigningKeys;
  tls: TlsMaterial;
  tenantId: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

const ANONYMOUS_OWNER: Principal = {
  objectId: '00000000-0000-0000-0000-000000000000',
  clientId: '00000000-0000-0000-0000-000000000000',
  tenantId: DEFAULT_TENANT_ID,
  name: 'anonymous',
  type: 'User',
};

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export async function createServer(options: ServerOptions = {}): Promise<VaplaneServer> {
  const store = await openStore({ db: options.db, stateDir: options.stateDir });
  const keys = await loadSigningKeys(store.stateDir);
  const tls = options.tls ?? (await loadOrCreateTls(store.stateDir));
  const tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
  const clock: Clock = options.now ? clockStartingAt(options.now) : systemClock();
  const authz = createAuthorizer(store.db);
  const lro = createLroEngine({ db: store.db, clock, delayMs: options.lroDelayMs ?? 2000 });
  const listeners: ((type: string) => void)[] = [];
  const services: Services = {
    clock,
    store,
    lro,
    authz,
    invalidate(type) {
      for (const listener of listeners) listener(type);
    },
    onInvalidate(listener) {
      listeners.push(listener);
    },
  };
  services.onInvalidate((type) => {
    if (type.startsWith('microsoft.authorization/') || type.startsWith('microsoft.management/'))
      authz.invalidate();
  });
  const registry = createRegistry();
  registerProviders(registry, services);
  const dispatch = createDispatcher(registry, services);
  const authenticator: Authenticator = createAuthenticator(keys);
  const throttle = createThrottle(options.throttle ?? 'off', clock);
  const bodyLimit = options.bodyLimitBytes ?? 4 * 1024 * 1024;

  const app = Fastify({
    https: { cert: tls.cert, key: tls.key },
    logger: options.logger ? { level: 'info' } : false,
    bodyLimit,
    routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true, caseSensitive: false },
    genReqId: () => randomUUID(),
    keepAliveTimeout: 120_000,
  });

  app.addHook('onRequest', async (request, reply) => {
    const correlation = headerOf(request, 'x-ms-correlation-request-id') ?? request.id;
    reply.header('x-ms-request-id', request.id);
    reply.header('x-ms-correlation-request-id', correlation);
    const clientRequestId = headerOf(request, 'x-ms-client-request-id');
    if (clientRequestId) reply.header('x-ms-client-request-id', clientRequestId);
  });

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!.replace(/\/{2,}/g, '/');
    if (IDENTITY_PATH.test(path)) return;
    const authorizationUri = `https://${request.headers.host}/${tenantId}`;
    request.principal =
      options.auth === 'none'
        ? ANONYMOUS_OWNER
        : await authenticator.authenticate(headerOf(request, 'authorization'), authorizationUri);
    const limit = throttle.take(request.principal, request.method, path);
    for (const [name, value] of Object.entries(limit.headers)) reply.header(name, value);
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'text/json'],
    { parseAs: 'string' },
    (_request, text, done) => {
      if (text === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text as string));
      } catch (error) {
        done(errors.invalidRequestContent(jsonErrorDetail(text as string, error)), undefined);
      }
    },
  );
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, text, done) => {
      done(null, Object.fromEntries(new URLSearchParams(text as string)));
    },
  );
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, text, done) => {
    if (text === '') return done(null, undefined);
    done(errors.unsupportedMediaType(String(request.headers['content-type'])), undefined);
  });

  app.setErrorHandler(async (error, request, reply) => {
    const armError = fastifyToArm(error, bodyLimit);
    if (armError.status >= 500) request.log.error({ err: error }, 'request failed');
    reply.code(armError.status);
    for (const [name, value] of Object.entries(armError.headers)) reply.header(name, value);
    if (armError.gateway) reply.header('x-ms-failure-cause', 'gateway');
    reply.header('content-type', 'application/json; charset=utf-8');
    return armError.toBody();
  });

  registerTokenEndpoints(app, { db: store.db, keys, tenantId });

  app.route({
    method: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'POST'],
    url: '/*',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const result = await dispatch({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
        principal: request.principal!,
        baseUrl: `https://${request.headers.host}`,
      });
      reply.code(result.status);
      for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value);
      if (result.body === undefined) {
        reply.header('content-type', 'application/json; charset=utf-8');
        return reply.send();
      }
      reply.header('content-type', 'application/json; charset=utf-8');
      return reply.send(JSON.stringify(result.body));
    },
  });

  const server: VaplaneServer = {
    app,
    store,
    services,
    registry,
    keys,
    tls,
    tenantId,
    async listen() {
      const host = options.host ?? '127.0.0.1';
      await app.listen({ host, port: options.port ?? 8443 });
      lro.startWorker();
      void lro.runDue();
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      return `https://${shownHost}:${port}`;
    },
    async close() {
      await lro.stop();
      await app.close();
      await store.close();
    },
  };
  return server;
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function jsonErrorDetail(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /position (\d+)/.exec(message)?.[1];
  const at = position === undefined ? '' : ` Path '', position ${position}.`;
  return (
    `Unexpected character encountered while parsing value: ${message.replace(/\s*in JSON at position \d+.*$/, '')}.${at}`.replace(
      /\.\./g,
      '.',
    ) || `Invalid JSON: ${text.slice(0, 20)}`
  );
}

function fastifyToArm(error: unknown, bodyLimit: number): ArmError {
  if (error instanceof ArmError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return errors.requestTooLarge(bodyLimit);
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return errors.unsupportedMediaType('unknown');
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
    return errors.invalidRequestContent('The content length does not match the body.');
  return toArmError(error);
}
