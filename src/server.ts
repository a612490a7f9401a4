/**
 * The composition root: opens the store, loads keys and TLS, registers every provider, and builds the
 * Fastify app with the ARM pipeline in this order:
 *   request ids → identity endpoints (no ARM auth) → authentication → throttling → body parsing →
 *   dispatch (path, api-version, type, RBAC, handler in a transaction) → ARM error envelope.
 * Authentication runs before the body is read so an anonymous caller cannot make the server parse a
 * large body; throttling runs after it because ARM's limits are per principal and subscription.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
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
import { type AfterWrite, createRegistry, type Registry, type Services } from './arm/registry.js';
import { createThrottle, type ThrottleMode } from './arm/throttle.js';
import { registerTokenEndpoints } from './arm/tokenEndpoints.js';
import { parseJsonBody } from './arm/validate.js';
import { type Clock, clockStartingAt, systemClock } from './clock.js';
import { registerPortal } from './portal.js';
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
  /**
   * Azure Policy's "about 15 minutes" between a resource write and its evaluation, compressed: a
   * write is evaluated this long after it commits, and `evaluationDelay` durations on the same scale
   * (see the policy section of the README). Default 1000 ms; 900000 gives Azure's timings.
   */
  policyEvaluationDelayMs?: number;
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
  const afterWrite: AfterWrite[] = [];
  const lro = createLroEngine({
    db: store.db,
    clock,
    delayMs: options.lroDelayMs ?? 2000,
    afterTargetWritten: async (tx, key) => {
      for (const hook of afterWrite) await hook(tx, [key]);
    },
  });
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
    writeChecks: [],
    afterWrite,
  };
  services.onInvalidate((type) => {
    if (type.startsWith('microsoft.authorization/') || type.startsWith('microsoft.management/'))
      authz.invalidate();
  });
  const registry = createRegistry();
  registerProviders(registry, services, { policyEvaluationDelayMs: options.policyEvaluationDelayMs ?? 1000 });
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
    // Errors Fastify raises before any hook runs (a path that does not decode) answer as ARM does.
    frameworkErrors: (error, request, reply) => {
      addRequestIds(request, reply);
      const armError =
        (error as { code?: string }).code === 'FST_ERR_BAD_URL'
          ? errors.invalidRequestUri(request.url.split('?')[0]!)
          : fastifyToArm(error, request, bodyLimit);
      void sendArmError(request, reply, armError);
    },
    // Requests Node cannot parse as HTTP never reach Fastify's routing: answer them as ARM would too.
    clientErrorHandler: (error, socket) => {
      if ((error as { code?: string }).code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(rawArmError(clientErrorOf(error)));
      socket.destroy(error);
    },
  });

  // Callback-style hooks: a fast GET runs both without a promise when the token is already verified.
  app.addHook('onRequest', (request, reply, done) => {
    addRequestIds(request, reply);
    // Only the ARM route authenticates: the identity endpoints are how a caller gets a token.
    if (!isArmRoute(request)) return done();
    const path = request.url.split('?')[0]!.replace(/\/{2,}/g, '/');
    const authorizationUri = `https://${request.headers.host}/${tenantId}`;
    const admit = (principal: Principal) => {
      request.principal = principal;
      const limit = throttle.take(principal, request.method, path);
      for (const name in limit.headers) reply.header(name, limit.headers[name]);
    };
    if (options.auth === 'none') {
      admit(ANONYMOUS_OWNER);
      return done();
    }
    const header = headerOf(request, 'authorization');
    let known: Principal | undefined;
    try {
      known = authenticator.known(header, authorizationUri);
    } catch (error) {
      return done(error as Error);
    }
    if (known) {
      admit(known);
      return done();
    }
    authenticator.authenticate(header, authorizationUri).then(
      (principal) => {
        admit(principal);
        done();
      },
      (error: Error) => done(error),
    );
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'text/json'],
    { parseAs: 'string' },
    (_request, text, done) => {
      try {
        done(null, parseJsonBody(text as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
  // Form bodies are for the OAuth2 token endpoints; ARM itself takes JSON only (`curl -d` without a
  // content type gets ARM's 415, as from Azure).
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (request, text, done) => {
      if (!isArmRoute(request)) return done(null, Object.fromEntries(new URLSearchParams(text as string)));
      if (text === '') return done(null, undefined);
      done(errors.unsupportedMediaType('application/x-www-form-urlencoded'), undefined);
    },
  );
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, text, done) => {
    if (text === '') return done(null, undefined);
    done(errors.unsupportedMediaType(request.headers['content-type'] ?? ''), undefined);
  });

  app.setErrorHandler(async (error, request, reply) => {
    const armError = fastifyToArm(error, request, bodyLimit);
    if (armError.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendArmError(request, reply, armError);
  });
  // The ARM route takes every path for ARM's methods; anything else is a method ARM does not serve.
  app.setNotFoundHandler(async (request, reply) =>
    sendArmError(request, reply, errors.unsupportedHttpMethod(request.method)),
  );

  registerTokenEndpoints(app, { db: store.db, keys, tenantId });
  // The built portal at `/`, `/index.html` and `/assets/*` only; without a build, ARM alone.
  await registerPortal(app);

  app.route({
    method: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'POST'],
    url: ARM_ROUTE,
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
      return reply.send(serialised(result.body));
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

/**
 * A reply body as JSON text. A frozen body is one the store's reader shares (deep-frozen, unchanged
 * until the database changes and it is read anew), so its text is remembered with it.
 */
const texts = new WeakMap<object, string>();
function serialised(body: unknown): string {
  if (body === null || typeof body !== 'object' || !Object.isFrozen(body)) return JSON.stringify(body);
  let text = texts.get(body);
  if (text === undefined) {
    text = JSON.stringify(body);
    texts.set(body, text);
  }
  return text;
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The catch-all route that serves ARM; every other route is an identity endpoint. */
const ARM_ROUTE = '/*';

function isArmRoute(request: FastifyRequest): boolean {
  return request.routeOptions.url === ARM_ROUTE;
}

/** A new `x-ms-request-id` per request; the client's correlation id echoed, or the request id. */
function addRequestIds(request: FastifyRequest, reply: FastifyReply): void {
  if (reply.hasHeader('x-ms-request-id')) return;
  const correlation = headerOf(request, 'x-ms-correlation-request-id') ?? request.id;
  reply.header('x-ms-request-id', request.id);
  reply.header('x-ms-correlation-request-id', correlation);
  const clientRequestId = headerOf(request, 'x-ms-client-request-id');
  if (clientRequestId) reply.header('x-ms-client-request-id', clientRequestId);
}

/** The ARM error envelope; a HEAD reply carries the status and headers only. */
function sendArmError(request: FastifyRequest, reply: FastifyReply, armError: ArmError): FastifyReply {
  reply.code(armError.status);
  for (const [name, value] of Object.entries(armError.headers)) reply.header(name, value);
  if (armError.gateway) reply.header('x-ms-failure-cause', 'gateway');
  reply.header('content-type', 'application/json; charset=utf-8');
  return request.method === 'HEAD' ? reply.send() : reply.send(JSON.stringify(armError.toBody()));
}

function clientErrorOf(error: Error): ArmError {
  const code = (error as { code?: string }).code;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return errors.requestTimeout();
  if (code === 'HPE_HEADER_OVERFLOW') return errors.requestHeadersTooLarge();
  return errors.badRequest('The request is not valid HTTP and could not be read.');
}

/** A whole HTTP response for a socket that never became a request (so it has no request id). */
function rawArmError(armError: ArmError): string {
  const body = JSON.stringify(armError.toBody());
  return [
    `HTTP/1.1 ${armError.status} ${STATUS_CODES[armError.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `x-ms-request-id: ${randomUUID()}`,
    ...(armError.gateway ? ['x-ms-failure-cause: gateway'] : []),
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

function fastifyToArm(error: unknown, request: FastifyRequest, bodyLimit: number): ArmError {
  if (error instanceof ArmError) return error;
  const { code, statusCode, message } = error as { code?: string; statusCode?: number; message?: string };
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return errors.requestTooLarge(bodyLimit);
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return errors.unsupportedMediaType(request.headers['content-type'] ?? '');
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
    return errors.invalidRequestContent('The content length does not match the body.');
  // Any other refusal of the request itself (Fastify's or Node's 4xx) is the client's error, not a 500.
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    return errors.badRequest(message ?? 'The request is malformed.', statusCode);
  }
  return toArmError(error);
}
