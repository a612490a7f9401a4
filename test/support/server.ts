/**
 * Starts a real vaplane server for a test suite: a fresh SQLite file (or `VAPLANE_TEST_PG` database)
 * in a temporary folder, HTTPS on a free port, the tenant bootstrapped, and helpers for tokens,
 * in-process requests (Fastify inject) and seeding.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapTenant, tokenFor } from '../../src/bootstrap.js';
import { createServer, type ServerOptions, type VaplaneServer } from '../../src/server.js';

export interface TestServer {
  server: VaplaneServer;
  url: string;
  dir: string;
  caPath: string;
  /** A token for `principal` (default `admin`, Owner at root) after granting `role` at `scope`. */
  token(options?: {
    principal?: string;
    role?: string;
    scope?: string;
    lifetimeSeconds?: number;
  }): Promise<string>;
  /** An in-process request with the admin token unless `token` is given (`null` sends none). */
  inject(options: {
    method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST' | 'HEAD';
    url: string;
    body?: unknown;
    headers?: Record<string, string>;
    token?: string | null;
  }): Promise<{ status: number; body: any; headers: Record<string, unknown>; text: string }>;
  close(): Promise<void>;
}

export async function startTestServer(
  options: ServerOptions & { listen?: boolean } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vaplane-test-'));
  const server = await createServer({ db: join(dir, 'vaplane.db'), port: 0, lroDelayMs: 50, ...options });
  await bootstrapTenant(server.store.db, server.tenantId, server.services.clock.now());
  const url = options.listen === false ? '' : await server.listen();
  const inject = await adminInjector(server);
  return {
    server,
    url,
    dir,
    caPath: server.tls.caPath ?? '',
    async token(tokenOptions = {}) {
      const issued = await tokenFor(server.store.db, server.keys, {
        principalName: tokenOptions.principal ?? 'admin',
        roleName: tokenOptions.role,
        scope: tokenOptions.scope,
        tenantId: server.tenantId,
        now: new Date(),
        lifetimeSeconds: tokenOptions.lifetimeSeconds,
      });
      server.services.authz.invalidate();
      return issued.token;
    },
    inject,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * In-process requests to `server` as `TestServer.inject` makes them: with a token of the tenant's
 * admin unless `token` is given, for a server a test creates itself (to restart it, say).
 */
export async function adminInjector(server: VaplaneServer): Promise<TestServer['inject']> {
  const adminToken = (
    await tokenFor(server.store.db, server.keys, {
      principalName: 'admin',
      tenantId: server.tenantId,
      now: new Date(),
    })
  ).token;
  return async (request) => {
    const headers: Record<string, string> = { ...(request.headers ?? {}) };
    const token = request.token === undefined ? adminToken : request.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (request.body !== undefined) {
      payload = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await server.app.inject({
      method: request.method,
      url: request.url,
      headers: { host: 'localhost', ...headers },
      payload,
    });
    let body: unknown;
    try {
      body = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.statusCode, body, headers: response.headers, text: response.body };
  };
}
