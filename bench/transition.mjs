// The transition CLI at estate size, against a local server with throttling off: `createServer`
// listening over HTTPS in this process (a fresh SQLite file, `lroDelayMs` 0), a transition-ready
// `generateEstate` into it, then the built CLI (bin/vaplane.js, dist/) as child processes:
// `transition plan --scope all --fix-prerequisites` → `apply --start-stopped` → `verify --scope all`,
// each timed from spawn to exit, with the server's responses counted during each (requests/s of the
// CLI = responses / wall time of the command).
// Usage: node bench/transition.mjs [subscriptions] [machines] (default 300 and 7,500: about 3 minutes). Reports JSON on
// stdout and over IPC.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bootstrapTenant, tokenFor } from '../dist/bootstrap.js';
import { generateEstate } from '../dist/estate/index.js';
import { createServer } from '../dist/server.js';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [subscriptionsArg = '300', machinesArg = '7500'] = process.argv.slice(2);
const subscriptions = Number(subscriptionsArg);
const machines = Number(machinesArg);
const dir = mkdtempSync(join(tmpdir(), 'vaplane-bench-transition-'));
const seconds = (started) => Number(process.hrtime.bigint() - started) / 1e9;

const server = await createServer({ db: join(dir, 'transition.db'), port: 0, lroDelayMs: 0 });
let responses = 0;
let errors = 0;
server.app.addHook('onResponse', async (_request, reply) => {
  responses += 1;
  if (reply.statusCode >= 500 || reply.statusCode === 429) errors += 1;
});
const url = await server.listen();
const db = server.store.db;
const now = server.services.clock.now();
await bootstrapTenant(db, server.tenantId, now);
const generationStarted = process.hrtime.bigint();
await generateEstate(db, {
  subscriptions,
  machines,
  seed: 1,
  transitionReady: true,
  tenantId: server.tenantId,
  now,
});
const generationSeconds = seconds(generationStarted);
const { token } = await tokenFor(db, server.keys, {
  principalName: 'admin',
  tenantId: server.tenantId,
  now: new Date(),
  lifetimeSeconds: 3600,
});
server.services.authz.invalidate();
const target = ['--endpoint', url, '--ca', server.tls.caPath ?? '', '--token', token];

async function cli(args) {
  const before = responses;
  const started = process.hrtime.bigint();
  const outcome = await run(
    process.execPath,
    [join(root, 'bin/vaplane.js'), 'transition', ...args, ...target],
    {
      cwd: dir,
      maxBuffer: 1 << 30,
    },
  ).then(
    (done) => ({ code: 0, stdout: done.stdout }),
    (error) => ({ code: error.code, stdout: error.stdout }),
  );
  const wall = seconds(started);
  const requests = responses - before;
  return {
    code: outcome.code,
    stdout: outcome.stdout,
    seconds: wall,
    requests,
    requestsPerSecond: requests / wall,
  };
}

const fast = ['--poll-interval', '20', '--json'];
const plan = await cli([
  'plan',
  '--scope',
  'all',
  '--out',
  join(dir, 'plan.json'),
  '--fix-prerequisites',
  ...fast,
]);
const actions = plan.code === 0 ? JSON.parse(plan.stdout).actions.length : undefined;
const apply = await cli(['apply', join(dir, 'plan.json'), '--start-stopped', ...fast]);
const verify = await cli(['verify', '--scope', 'all', '--json']);
await server.close();
rmSync(dir, { recursive: true, force: true });

const phase = ({ code, seconds: wall, requests, requestsPerSecond }) => ({
  code,
  seconds: wall,
  requests,
  requestsPerSecond,
});
const total = plan.seconds + apply.seconds + verify.seconds;
const report = {
  subscriptions,
  machines,
  generationSeconds,
  actions,
  plan: phase(plan),
  apply: phase(apply),
  verify: phase(verify),
  totalSeconds: total,
  totalRequests: plan.requests + apply.requests + verify.requests,
  requestsPerSecond: (plan.requests + apply.requests + verify.requests) / total,
  serverErrorsOr429: errors,
};
console.log(JSON.stringify(report, null, 2));
process.send?.(report);
