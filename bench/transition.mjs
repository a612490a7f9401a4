// The transition CLI at estate size, against a local server with throttling off, beside the server's
// own maximum for the same requests.
//
// 1. A transition-ready `generateEstate` (seed 1) into a fresh SQLite file, copied once the server
//    that wrote it has closed (one copy per replay): each copy is the estate as the CLI finds it.
// 2. `createServer` over HTTPS in this process (`lroDelayMs` 0, throttling off), then the built CLI
//    (bin/vaplane.js, dist/) as child processes: `transition plan --scope all --fix-prerequisites` →
//    `apply --start-stopped` → `verify --scope all` (`--poll-interval 20`), each timed from spawn to
//    exit, its output to files. An `onResponse` hook counts the server's replies during each command
//    (requests/s of the CLI = replies / wall time of the command) and records each request: method,
//    path and query, JSON body, If-Match, status, and the Azure-AsyncOperation and Location the reply
//    named. The CPU of this process (the server), of the CLI and of everything else is measured too.
// 3. The server closes; for each `--connections` count (16 and 64) another starts in this process on a
//    copy, with the same hook, and bench/replay.mjs (a child process, like the CLI) sends it the
//    recorded requests phase by phase over that many keep-alive connections, as fast as it answers.
//    The best of these is the server's maximum requests/s for the same mix. See replay.mjs for what
//    the replay keeps of the CLI's order.
//
// Usage: node bench/transition.mjs [subscriptions] [machines] [--connections 16,64] [--cli-args "…"]
//          [--profile DIR] [--no-replay]
// (defaults 2,000 and 50,000: about 5 minutes). --cli-args adds options to every CLI command (e.g.
// "--max-concurrency 32"); --profile writes CPU profiles of the CLI children and of this process to
// DIR. Reports JSON on stdout and over IPC.
import { fork, spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bootstrapTenant, tokenFor } from '../dist/bootstrap.js';
import { generateEstate } from '../dist/estate/index.js';
import { createServer } from '../dist/server.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    connections: { type: 'string', default: '16,64' },
    'cli-args': { type: 'string', default: '' },
    profile: { type: 'string' },
    'no-replay': { type: 'boolean', default: false },
  },
});
const [subscriptionsArg = '2000', machinesArg = '50000'] = positionals;
const subscriptions = Number(subscriptionsArg);
const machines = Number(machinesArg);
const cliExtra = options['cli-args'].split(/\s+/).filter(Boolean);
const profileDir = options.profile;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'vaplane-bench-transition-'));
const dbFile = join(dir, 'transition.db');
const connectionCounts = options['no-replay'] ? [] : options.connections.split(',').map(Number);
const seconds = (started) => Number(process.hrtime.bigint() - started) / 1e9;

/** CPU seconds the whole machine has spent busy (all cores, every process), from /proc/stat. */
function machineBusySeconds() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user + nice + system + irq + softirq + steal) / 100;
}
const serverOptions = { port: 0, lroDelayMs: 0 };

// 1. The estate, and a copy for each replay.
const generator = await createServer({ ...serverOptions, db: dbFile });
const now = generator.services.clock.now();
await bootstrapTenant(generator.store.db, generator.tenantId, now);
const generationStarted = process.hrtime.bigint();
await generateEstate(generator.store.db, {
  subscriptions,
  machines,
  seed: 1,
  transitionReady: true,
  tenantId: generator.tenantId,
  now,
});
const generationSeconds = seconds(generationStarted);
await generator.close();
const replayDbOf = (connections) => join(dir, `replay-${connections}.db`);
for (const connections of connectionCounts) {
  for (const suffix of ['', '-wal']) {
    if (existsSync(dbFile + suffix)) copyFileSync(dbFile + suffix, replayDbOf(connections) + suffix);
  }
}

/** A server on `db`, with the hook both runs share: count replies and record requests in `sink`. */
async function startServer(db) {
  const server = await createServer({ ...serverOptions, db });
  const state = { responses: 0, errors: 0, sink: null, firstAt: 0n, lastAt: 0n };
  server.app.addHook('onResponse', async (request, reply) => {
    state.responses += 1;
    state.lastAt = process.hrtime.bigint();
    if (state.firstAt === 0n) state.firstAt = state.lastAt;
    if (reply.statusCode >= 500 || reply.statusCode === 429) state.errors += 1;
    if (!state.sink) return;
    const recorded = { method: request.method, url: request.url, status: reply.statusCode };
    if (request.body !== undefined) recorded.body = JSON.stringify(request.body);
    const ifMatch = request.headers['if-match'];
    if (ifMatch !== undefined) recorded.ifMatch = ifMatch;
    const asyncOperation = reply.getHeader('azure-asyncoperation');
    if (asyncOperation !== undefined) recorded.asyncOperation = String(asyncOperation);
    const location = reply.getHeader('location');
    if (location !== undefined) recorded.location = String(location);
    state.sink.push(recorded);
  });
  const url = await server.listen();
  const { token } = await tokenFor(server.store.db, server.keys, {
    principalName: 'admin',
    tenantId: server.tenantId,
    now: new Date(),
    lifetimeSeconds: 3 * 3600,
  });
  server.services.authz.invalidate();
  return { server, state, url, token };
}

/** Profiles this process (the server) while `work` runs, when --profile is given. */
async function profiled(name, work) {
  if (!profileDir) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(profileDir, `server-${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

// 2. The CLI.
const cliServer = await startServer(dbFile);
const target = [
  '--endpoint',
  cliServer.url,
  '--ca',
  cliServer.server.tls.caPath ?? '',
  '--token',
  cliServer.token,
];
const recording = { phases: [] };

/** Runs one CLI command to its exit; its output goes to files, so that this process (the server) does not carry it. */
async function cli(name, args) {
  const { state } = cliServer;
  const before = state.responses;
  const requests = [];
  state.sink = requests;
  state.firstAt = 0n;
  recording.phases.push({ name, requests });
  const profileArgs = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=cli-${name}.cpuprofile`]
    : [];
  const stdoutFile = join(dir, `${name}.stdout`);
  const stderrFile = join(dir, `${name}.stderr`);
  const stdout = openSync(stdoutFile, 'w');
  const stderr = openSync(stderrFile, 'w');
  const cpuFile = join(dir, `${name}.cpu`);
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const machineBefore = machineBusySeconds();
  const code = await profiled(
    `cli-${name}`,
    () =>
      new Promise((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            ...profileArgs,
            '--import',
            join(here, 'cpu-at-exit.mjs'),
            join(root, 'bin/vaplane.js'),
            'transition',
            ...args,
            ...cliExtra,
            ...target,
          ],
          {
            cwd: dir,
            stdio: ['ignore', stdout, stderr],
            env: { ...process.env, VAPLANE_BENCH_CPU_FILE: cpuFile },
          },
        );
        child.once('error', reject);
        child.once('exit', (exitCode) => resolve(exitCode));
      }),
  );
  const wall = seconds(started);
  const cpu = process.cpuUsage(cpuBefore);
  const machineBusy = machineBusySeconds() - machineBefore;
  const serverCpu = (cpu.user + cpu.system) / 1e6;
  const cliCpu = existsSync(cpuFile) ? Number(readFileSync(cpuFile, 'utf8')) / 1e6 : Number.NaN;
  // Before its first request and after its last, the CLI starts up, computes and writes its output.
  const requestSpan = state.firstAt === 0n ? 0 : Number(state.lastAt - state.firstAt) / 1e9;
  closeSync(stdout);
  closeSync(stderr);
  state.sink = null;
  const count = state.responses - before;
  if (code !== 0)
    process.stderr.write(
      `transition ${name} exited ${code}: ${readFileSync(stderrFile, 'utf8').slice(0, 2000)}\n`,
    );
  return {
    code,
    seconds: wall,
    requestSpanSeconds: requestSpan,
    requests: count,
    requestsPerSecond: count / wall,
    serverBusy: serverCpu / wall,
    cliBusy: cliCpu / wall,
    /** Cores busy with anything else (other processes, the kernel's own work). */
    otherBusy: Math.max(0, machineBusy - serverCpu - cliCpu) / wall,
  };
}

const POLL_INTERVAL_MS = 20;
const fast = ['--poll-interval', String(POLL_INTERVAL_MS), '--json'];
const plan = await cli('plan', [
  'plan',
  '--scope',
  'all',
  '--out',
  join(dir, 'plan.json'),
  '--fix-prerequisites',
  ...fast,
]);
const actions =
  plan.code === 0 ? JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')).actions.length : undefined;
const apply = await cli('apply', ['apply', join(dir, 'plan.json'), '--start-stopped', ...fast]);
const verify = await cli('verify', ['verify', '--scope', 'all', '--json']);
const cliErrors = cliServer.state.errors;
await cliServer.server.close();

// 3. The server's maximum for the same requests, on a copy of the estate per replay.
const recordingFile = join(dir, 'recording.json');
if (connectionCounts.length > 0) writeFileSync(recordingFile, JSON.stringify(recording));
recording.phases = [];

async function replayWith(connections) {
  const replayServer = await startServer(replayDbOf(connections));
  // Recorded as in the CLI's run, and dropped: the server does the same work per request.
  replayServer.state.sink = [];
  const child = fork(
    join(here, 'replay.mjs'),
    [
      recordingFile,
      replayServer.url,
      replayServer.server.tls.caPath ?? '',
      replayServer.token,
      String(connections),
      String(POLL_INTERVAL_MS),
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  // The replay says when each phase starts and ends, so that this process's CPU (the server's) is
  // measured over the same span as the replay's requests.
  const spans = {};
  let phaseStart;
  const replay = await profiled(
    `replay-${connections}`,
    () =>
      new Promise((resolve, reject) => {
        child.on('message', (message) => {
          if (message.phaseStarted) {
            replayServer.state.sink = [];
            phaseStart = {
              cpu: process.cpuUsage(),
              machine: machineBusySeconds(),
              at: process.hrtime.bigint(),
            };
          } else if (message.phaseEnded) {
            const cpu = process.cpuUsage(phaseStart.cpu);
            spans[message.phaseEnded] = {
              cpu: (cpu.user + cpu.system) / 1e6,
              machine: machineBusySeconds() - phaseStart.machine,
              wall: seconds(phaseStart.at),
            };
          } else resolve(message);
        });
        child.once('exit', (code) => reject(new Error(`replay.mjs exited with ${code}`)));
      }),
  );
  for (const [name, { cpu, machine, wall }] of Object.entries(spans)) {
    const figures = replay.phases[name];
    figures.serverBusy = cpu / wall;
    figures.otherBusy = Math.max(0, machine - cpu - figures.clientBusy * figures.seconds) / wall;
  }
  const phases = Object.values(replay.phases);
  replay.seconds = phases.reduce((sum, figures) => sum + figures.seconds, 0);
  replay.requests = phases.reduce((sum, figures) => sum + figures.requests, 0);
  replay.requestsPerSecond = replay.requests / replay.seconds;
  replay.serverErrorsOr429 = replayServer.state.errors;
  await replayServer.server.close();
  return replay;
}

const replays = [];
for (const connections of connectionCounts) replays.push(await replayWith(connections));
rmSync(dir, { recursive: true, force: true });

const totalSeconds = plan.seconds + apply.seconds + verify.seconds;
const totalRequests = plan.requests + apply.requests + verify.requests;
const report = {
  subscriptions,
  machines,
  generationSeconds,
  actions,
  cliArgs: cliExtra,
  plan,
  apply,
  verify,
  totalSeconds,
  totalRequests,
  requestsPerSecond: totalRequests / totalSeconds,
  serverErrorsOr429: cliErrors,
};
if (replays.length > 0) {
  report.serverMax = replays.reduce((best, replay) =>
    replay.requestsPerSecond > best.requestsPerSecond ? replay : best,
  );
  report.replays = replays.map(({ connections, seconds: wall, requests, requestsPerSecond }) => ({
    connections,
    seconds: wall,
    requests,
    requestsPerSecond,
  }));
  report.cliShareOfServerMax = report.requestsPerSecond / report.serverMax.requestsPerSecond;
}
console.log(JSON.stringify(report, null, 2));
process.send?.(report);
