/**
 * Nothing acknowledged is lost when the server is killed: a batch of concurrent writes goes to a real
 * `vaplane serve` over HTTPS, the process is SIGKILLed mid-batch, and a new process on the same
 * database must show every acknowledged write and finish every acknowledged long-running operation.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TENANT_ID } from '../../src/arm/auth.js';
import { bootstrapTenant } from '../../src/bootstrap.js';
import { subscriptionBody, subscriptionRecord } from '../../src/providers/resources/index.js';
import { openStore, putResource } from '../../src/store/index.js';
import { ENGINES, type Scratch } from '../store/engines.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin/vaplane.js');
const SUB = 'eeeeeeee-0000-4000-8000-000000000005';
const V = 'api-version=2021-04-01';
const LRO_DELAY_MS = 1500;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

interface Running {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function cli(args: string[], cwd: string): string {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`vaplane ${args[0]} failed: ${result.stderr}`);
  return result.stdout;
}

async function serve(scratch: Scratch): Promise<Running> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--db',
      scratch.db,
      '--state-dir',
      scratch.dir,
      '--no-demo',
      '--port',
      String(port),
      '--lro-delay',
      String(LRO_DELAY_MS),
    ],
    { cwd: scratch.dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const baseUrl = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /vaplane listening on (https:\/\/\S+)/.exec(output);
      if (listening) {
        clearTimeout(timer);
        resolveUrl(listening[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${output}`));
    });
  });
  return { child, baseUrl, output: () => output };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveExit) => child.once('exit', () => resolveExit()));
}

async function stop(running: Running | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!running) return;
  const done = exited(running.child);
  running.child.kill(signal);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(timer);
}

function client(options: { ca: string; token: string }) {
  const agent = new Agent({ ca: options.ca, keepAlive: true, maxSockets: 16 });
  return {
    agent,
    send(method: string, url: string, body?: unknown): Promise<Reply> {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolveReply, reject) => {
        const outgoing = request(
          url,
          {
            method,
            agent,
            timeout: 10_000,
            headers: {
              authorization: `Bearer ${options.token}`,
              ...(payload
                ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
                : {}),
            },
          },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk) => {
              text += chunk;
            });
            response.on('error', reject);
            response.on('end', () =>
              resolveReply({
                status: response.statusCode ?? 0,
                headers: response.headers,
                body: text ? JSON.parse(text) : undefined,
              }),
            );
          },
        );
        outgoing.on('timeout', () => outgoing.destroy(new Error('request timed out')));
        outgoing.on('error', reject);
        outgoing.end(payload);
      });
    },
  };
}

/** Moves a URL the first server handed out onto the restarted server's address. */
function onServer(url: string, baseUrl: string): string {
  const moved = new URL(url);
  const base = new URL(baseUrl);
  moved.host = base.host;
  return moved.toString();
}

async function seedSubscription(scratch: Scratch): Promise<void> {
  const store = await openStore({ db: scratch.db, stateDir: scratch.dir });
  try {
    const now = new Date();
    await bootstrapTenant(store.db, DEFAULT_TENANT_ID, now);
    const body = subscriptionBody({
      subscriptionId: SUB,
      tenantId: DEFAULT_TENANT_ID,
      displayName: 'crash test',
    });
    await putResource(store.db, subscriptionRecord(body, now.toISOString()));
  } finally {
    await store.close();
  }
}

async function operationStatuses(scratch: Scratch): Promise<string[]> {
  const store = await openStore({ db: scratch.db, stateDir: scratch.dir });
  try {
    const rows = await store.db.selectFrom('operations').select('status').execute();
    return rows.map((row) => row.status);
  } finally {
    await store.close();
  }
}

/** The newest modification time of any file below `dir`, in milliseconds. */
function newestChange(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
  }
  return newest;
}

beforeAll(() => {
  // The CLI runs from dist/: build it unless it is newer than every source (`npm test` has just built
  // it). Type errors elsewhere do not stop tsc from emitting; `npm test` type-checks separately.
  const built = join(ROOT, 'dist/cli/index.js');
  if (existsSync(built) && statSync(built).mtimeMs > newestChange(join(ROOT, 'src'))) return;
  spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
  if (!existsSync(built)) throw new Error('npx tsc -p tsconfig.build.json built nothing');
});

for (const target of ENGINES) {
  describe.skipIf(target.skip)(target.name, () => {
    let scratch: Scratch;
    let first: Running | undefined;
    let second: Running | undefined;
    beforeAll(async () => {
      scratch = await target.scratch();
    });
    afterAll(async () => {
      await stop(first, 'SIGKILL');
      await stop(second, 'SIGKILL');
      await scratch?.dispose();
    });

    it('a SIGKILL mid-batch loses no acknowledged write and strands no operation', async () => {
      await seedSubscription(scratch);
      const token = cli(['token', '--db', scratch.db, '--state-dir', scratch.dir], scratch.dir).trim();
      first = await serve(scratch);
      const ca = readFileSync(join(scratch.dir, 'ca.pem'), 'utf8');
      const before = client({ ca, token });
      const groupUrl = (base: string, name: string) =>
        `${base}/subscriptions/${SUB}/resourceGroups/${name}?${V}`;

      const doomed = Array.from({ length: 8 }, (_, n) => `del-${n}`);
      for (const name of doomed) {
        const created = await before.send('PUT', groupUrl(first.baseUrl, name), { location: 'eastus' });
        expect(created.status).toBe(201);
      }

      // The batch: deletes first, among puts, pulled by concurrent senders; the server dies once
      // enough replies are in, with more requests on the wire.
      type Write = { method: 'PUT' | 'DELETE'; name: string };
      const batch: Write[] = [];
      for (let n = 0; n < 120; n++) {
        if (n % 3 === 0 && n / 3 < doomed.length) batch.push({ method: 'DELETE', name: doomed[n / 3]! });
        batch.push({ method: 'PUT', name: `put-${n}` });
      }
      const ackedPuts: string[] = [];
      const ackedDeletes: { name: string; location: string }[] = [];
      const killAfter = 40;
      let acked = 0;
      let killed: Promise<void> | undefined;
      let killedAt = 0;
      const queue = [...batch];
      const sender = async () => {
        for (let write = queue.shift(); write; write = queue.shift()) {
          const url = groupUrl(first!.baseUrl, write.name);
          const reply = await before
            .send(
              write.method,
              url,
              write.method === 'PUT' ? { location: 'eastus', tags: { name: write.name } } : undefined,
            )
            .catch(() => undefined);
          if (!reply || reply.status < 200 || reply.status > 299) continue;
          if (write.method === 'PUT') ackedPuts.push(write.name);
          else ackedDeletes.push({ name: write.name, location: String(reply.headers.location) });
          if (++acked === killAfter) {
            killedAt = Date.now();
            killed = stop(first, 'SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: 12 }, sender));
      await killed;
      before.agent.destroy();
      expect(killed, `the batch finished before ${killAfter} replies:\n${first.output()}`).toBeDefined();
      expect(ackedPuts.length + ackedDeletes.length).toBeLessThan(batch.length);
      expect(ackedDeletes.length).toBeGreaterThan(0);
      // The kill came before the operations were due: the restarted server has to finish them.
      expect(await operationStatuses(scratch)).toContain('InProgress');

      second = await serve(scratch);
      const after = client({ ca, token });
      for (const name of ackedPuts) {
        const group = await after.send('GET', groupUrl(second.baseUrl, name));
        expect(group.status, name).toBe(200);
        expect(group.body.tags, name).toEqual({ name });
      }
      const deadline = Date.now() + LRO_DELAY_MS + 10_000;
      for (const { name, location } of ackedDeletes) {
        let result = await after.send('GET', onServer(location, second.baseUrl));
        while (result.status === 202 && Date.now() < deadline) {
          await new Promise((resolveWait) => setTimeout(resolveWait, 100));
          result = await after.send('GET', onServer(location, second.baseUrl));
        }
        expect([200, 404], `${name}: ${JSON.stringify(result.body)}`).toContain(result.status);
        const group = await after.send('GET', groupUrl(second.baseUrl, name));
        expect(group.status, name).toBe(404);
      }
      after.agent.destroy();
      // Writes in flight at the kill may have committed unacknowledged deletes: give them their time too.
      await new Promise((resolveWait) =>
        setTimeout(resolveWait, Math.max(0, killedAt + LRO_DELAY_MS + 600 - Date.now())),
      );
      await stop(second, 'SIGTERM');

      // Every operation, acknowledged or not, ended; none failed.
      const statuses = await operationStatuses(scratch);
      expect(statuses.length).toBeGreaterThanOrEqual(ackedDeletes.length);
      expect(statuses.filter((status) => status !== 'Succeeded')).toEqual([]);
    });
  });
}
