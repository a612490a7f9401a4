// `npm run bench`: the figures in docs/benchmarks.md, measured in one run.
//
//   HTTPS (keep-alive, 32 connections, autocannon in this process; each server in its own process):
//     bare    a `node:https` server with vaplane's certificate, returning the same bytes as the GET
//     get     authenticated GET of a VM (of a resource group while Microsoft.Compute is not served)
//     put     authenticated PUT of resource groups: every other request creates a new group (201),
//             the others update one of 100 existing groups (200)
//   estate    generateEstate: 10,000 subscriptions and 200,000 machines into a fresh SQLite file
//   policy    bench/policy.mjs: a full compliance scan of three definitions and a remediation
//   security  bench/security.mjs: PUT of the VA setting on every subscription over HTTPS, and ffff0522
//             computed for every machine of a generated estate (recorded under "Defender")
//   transition bench/transition.mjs: the transition CLI's plan → apply → verify of a transition-ready
//             estate (--transition-size, default 2000x50000: about 5 minutes), wall time and requests/s,
//             beside the server's maximum requests/s for the same requests (recorded under "Transition")
//
// Options: --duration S (10) --warmup S (3) --connections N (32) --cases bare,get,put,estate
//          --subscriptions N --machines N --transition-size SUBSCRIPTIONSxMACHINES (2000x50000)
//          --profile (CPU-profile the server under test) --no-doc
//          --unpinned (let the scheduler place client and servers) --wait S (30: how long to wait
//          for other processes to go quiet before each case)
import { execSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const GOAL_GET_RATIO = 0.35;
const GOAL_ESTATE_SECONDS = 60;
const GOAL_ESTATE_BYTES = 1e9;
const EXISTING_GROUPS = 100;

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    cases: { type: 'string', default: 'bare,get,put,estate,portal,security,policy,transition' },
    subscriptions: { type: 'string', default: '10000' },
    machines: { type: 'string', default: '200000' },
    'transition-size': { type: 'string', default: '2000x50000' },
    profile: { type: 'boolean', default: false },
    unpinned: { type: 'boolean', default: false },
    wait: { type: 'string', default: '30' },
    'no-doc': { type: 'boolean', default: false },
  },
});
const duration = Number(options.duration);
const warmup = Number(options.warmup);
const connections = Number(options.connections);
const cases = new Set(options.cases.split(','));
const work = mkdtempSync(join(tmpdir(), 'vaplane-bench-'));
// Read before pinning: afterwards this process sees only its own core.
const cores = availableParallelism();
// With two or more cores, the load generator keeps core 0 and every server runs on core 1, so that
// the scheduler cannot put client and server on one core for part of a case and not for another.
const pinned = !options.unpinned && cores >= 2;

function pin(pid, core) {
  if (pinned) execSync(`taskset -a -p -c ${core} ${pid}`, { stdio: 'ignore' });
}
pin(process.pid, 0);

function start(script, args, execArgv = [], core = 1) {
  const child = fork(join(here, script), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  pin(child.pid, core);
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    ready,
    /** The child's CPU time so far (user + system), in microseconds. */
    cpu() {
      return new Promise((resolve) => {
        child.once('message', (message) => resolve(message.cpu.user + message.cpu.system));
        child.send('cpu');
      });
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function fetchOnce(url, { ca, token, method = 'GET', body }) {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const outgoing = request(url, { method, ca, headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks) }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** CPU seconds the whole machine has spent busy (all cores, every process), from /proc/stat. */
function machineBusySeconds() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** Waits (up to `seconds`) for the machine to be quiet, and returns the share of the cores busy. */
async function quietMachine(seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const before = machineBusySeconds();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busy = (machineBusySeconds() - before) / cores;
    if (busy < 0.1 || Date.now() > deadline) return busy;
    console.log(`  waiting for the machine to be quiet: ${(busy * 100).toFixed(0)}% busy`);
  }
}

async function load(server, url, extra) {
  const base = { url, connections, pipelining: 1, ...extra };
  await quietMachine(Number(options.wait));
  if (warmup > 0) await autocannon({ ...base, duration: warmup });
  const serverBefore = await server.cpu();
  const clientBefore = process.cpuUsage();
  const machineBefore = machineBusySeconds();
  const result = await autocannon({ ...base, duration });
  const serverCpu = (await server.cpu()) - serverBefore;
  const clientUsage = process.cpuUsage(clientBefore);
  const clientCpu = clientUsage.user + clientUsage.system;
  const machineCpu = (machineBusySeconds() - machineBefore) * 1e6;
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)]),
  );
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    statuses,
    serverCpuPerRequest: serverCpu / result.requests.total,
    serverBusy: serverCpu / (result.duration * 1e6),
    clientBusy: clientCpu / (result.duration * 1e6),
    /** Cores used by everything else on the machine (other processes, the kernel's own work). */
    otherBusy: Math.max(0, machineCpu - serverCpu - clientCpu) / (result.duration * 1e6),
  };
}

async function measureHttp() {
  const server = start(
    'server.mjs',
    [join(work, 'server'), String(EXISTING_GROUPS)],
    [...(options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(work, 'profile')}`] : [])],
  );
  const info = await server.ready;
  const ca = readFileSync(info.caPath);
  const headers = { authorization: `Bearer ${info.token}` };
  const groupPath = `/subscriptions/${info.subscriptionId}/resourceGroups/${info.resourceGroup}`;
  const vmPath = `${groupPath}/providers/Microsoft.Compute/virtualMachines/${info.vmName}?api-version=2024-03-01`;
  const vmProbe = await fetchOnce(`${info.url}${vmPath}`, { ca, token: info.token });
  const get =
    vmProbe.status === 200
      ? { what: 'GET virtual machine', path: vmPath, body: vmProbe.body }
      : {
          what: 'GET resource group',
          note: `GET of the VM answered ${vmProbe.status} (Microsoft.Compute not served by this build)`,
          path: `${groupPath}?api-version=2021-04-01`,
          body: (await fetchOnce(`${info.url}${groupPath}?api-version=2021-04-01`, { ca, token: info.token }))
            .body,
        };
  const bodyFile = join(work, 'bare-body.json');
  writeFileSync(bodyFile, get.body);
  const bare = start('bare-server.mjs', [info.certPath, info.keyPath, bodyFile]);
  const bareInfo = await bare.ready;
  const putBody = JSON.stringify({ location: 'westeurope', tags: { environment: 'bench' } });
  const putProbe = await fetchOnce(`${info.url}${groupPath}-probe?api-version=2021-04-01`, {
    ca,
    token: info.token,
    method: 'PUT',
    body: putBody,
  });
  if (putProbe.status !== 201) throw new Error(`PUT probe answered ${putProbe.status}: ${putProbe.body}`);

  const results = {
    get: { what: get.what, path: get.path, note: get.note },
    getBodyBytes: get.body.length,
    compute: info.compute,
  };
  try {
    if (cases.has('bare')) {
      results.bare = await load(bare, `${bareInfo.url}${get.path}`, { headers });
      print('bare node:https', results.bare);
    }
    if (cases.has('get')) {
      results.vaplaneGet = await load(server, `${info.url}${get.path}`, { headers });
      print(`vaplane ${get.what}`, results.vaplaneGet);
    }
    if (cases.has('put')) {
      let sequence = 0;
      results.vaplanePut = await load(server, info.url, {
        headers: { ...headers, 'content-type': 'application/json' },
        requests: [
          {
            method: 'PUT',
            body: putBody,
            setupRequest(outgoing) {
              sequence += 1;
              const name =
                sequence % 2 === 0
                  ? `bench-new-${sequence}`
                  : `bench-existing-${(sequence >> 1) % EXISTING_GROUPS}`;
              outgoing.path = `/subscriptions/${info.subscriptionId}/resourceGroups/${name}?api-version=2021-04-01`;
              return outgoing;
            },
          },
        ],
      });
      print('vaplane PUT resource group', results.vaplanePut);
    }
  } finally {
    await bare.stop();
    await server.stop();
  }
  if (options.profile) {
    const profileDir = join(work, 'profile');
    const saved = join(tmpdir(), 'vaplane-bench-profiles');
    mkdirSync(saved, { recursive: true });
    for (const file of readdirSync(profileDir)) {
      writeFileSync(join(saved, file), readFileSync(join(profileDir, file)));
      console.log(`server CPU profile: ${join(saved, file)} (summary: node bench/top-functions.mjs FILE)`);
    }
  }
  return results;
}

async function measureEstate() {
  const dir = join(work, 'estate');
  mkdirSync(dir, { recursive: true });
  const child = start('estate.mjs', [dir, options.subscriptions, options.machines]);
  const result = await child.ready;
  await child.stop();
  return result;
}

function print(name, figures) {
  const bad = figures.errors + figures.non2xx;
  console.log(
    `  ${name.padEnd(34)} ${figures.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${figures.p50} ms  p99 ${figures.p99} ms  ` +
      `server ${figures.serverCpuPerRequest.toFixed(1)} µs CPU/request (busy ${(figures.serverBusy * 100).toFixed(0)}%, client ${(figures.clientBusy * 100).toFixed(0)}%, other ${(figures.otherBusy * 100).toFixed(0)}%)` +
      (bad > 0 ? `  !! ${figures.errors} errors, ${figures.non2xx} non-2xx` : ''),
  );
}

function machine() {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  let memory = '';
  try {
    memory = execSync('free -h', { encoding: 'utf8' }).trimEnd();
  } catch {
    memory = 'free -h unavailable';
  }
  return { cores, cpu, memory, node: process.version };
}

function formatBytes(bytes) {
  return `${(bytes / 1e6).toFixed(0)} MB (${(bytes / 1024 ** 2).toFixed(0)} MiB)`;
}

function table(results) {
  const rows = [];
  const row = (name, figures) =>
    figures &&
    rows.push(
      `| ${name} | ${figures.requestsPerSecond.toFixed(0)} | ${figures.p50} | ${figures.p99} | ${figures.serverCpuPerRequest.toFixed(1)} | ${(figures.serverBusy * 100).toFixed(0)}% / ${(figures.clientBusy * 100).toFixed(0)}% / ${(figures.otherBusy * 100).toFixed(0)}% | ${figures.total} | ${figures.errors + figures.non2xx} |`,
    );
  const http = results.http;
  if (!http) return '';
  row(`bare \`node:https\`, ${http.getBodyBytes}-byte body`, http.bare);
  row(`vaplane ${http.get?.what} (${http.getBodyBytes} bytes)`, http.vaplaneGet);
  if (http.vaplanePut) {
    const statuses = http.vaplanePut.statuses;
    row(
      `vaplane PUT resource group (${statuses['201'] ?? 0} creates, ${statuses['200'] ?? 0} updates)`,
      http.vaplanePut,
    );
  }
  return [
    '| Case | Requests/s | p50 (ms) | p99 (ms) | Server CPU (µs/request) | Cores busy: server / client / other | Requests | Errors + non-2xx |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

function goals(results) {
  const lines = [];
  const http = results.http;
  if (http?.bare && http?.vaplaneGet) {
    const ratio = http.vaplaneGet.requestsPerSecond / http.bare.requestsPerSecond;
    results.ratio = ratio;
    lines.push(
      `- Authenticated ${http.get.what} ÷ bare server, in requests/s: **${(ratio * 100).toFixed(1)}%** ` +
        `(goal ≥ ${GOAL_GET_RATIO * 100}%): **${ratio >= GOAL_GET_RATIO ? 'met' : 'not met'}**. ` +
        `Server CPU per request: ${http.vaplaneGet.serverCpuPerRequest.toFixed(1)} µs against ` +
        `${http.bare.serverCpuPerRequest.toFixed(1)} µs.` +
        (http.get.note ? ` ${http.get.note}.` : ''),
    );
  }
  const caseNames = { bare: 'bare', vaplaneGet: 'get', vaplanePut: 'put' };
  const disturbed = Object.keys(caseNames)
    .filter((name) => http?.[name]?.otherBusy > 0.1)
    .map((name) => caseNames[name]);
  if (disturbed.length > 0) {
    lines.push(
      `- Other processes kept the machine busy during the ${disturbed.join(', ')} case(s) (the "other" share above): ` +
        'those figures are lower, and the ratio less certain, than on an idle machine.',
    );
  }
  const estate = results.estate;
  if (estate?.available) {
    const timeMet = estate.seconds < GOAL_ESTATE_SECONDS;
    const sizeMet = estate.bytes < GOAL_ESTATE_BYTES;
    lines.push(
      `- Estate of ${options.subscriptions} subscriptions and ${options.machines} machines: ` +
        `**${estate.seconds.toFixed(1)} s** (goal < ${GOAL_ESTATE_SECONDS} s: **${timeMet ? 'met' : 'not met'}**), ` +
        `**${formatBytes(estate.bytes)}** on disk incl. -wal and -shm (goal < 1 GB: **${sizeMet ? 'met' : 'not met'}**; ` +
        `${formatBytes(estate.bytesAfterClose)} after close checkpoints the WAL); ` +
        `generator peak RSS ${formatBytes(estate.peakRssBytes)}.`,
    );
    lines.push(
      `  Generated: ${Object.entries(estate.counts)
        .map(([type, count]) => `${type} ${count}`)
        .join(', ')}.`,
    );
  } else if (estate) {
    lines.push(
      '- Estate generation: **not measured** — `generateEstate` is not exported by `dist/estate/index.js` ' +
        `in this build (exports: ${estate.exports.join(', ') || 'none'}).`,
    );
  }
  return lines.join('\n');
}

function writeDoc(results, figures, summary) {
  const docPath = join(root, 'docs', 'benchmarks.md');
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  const { cores, cpu, memory, node } = results.machine;
  const section = [
    start,
    `Measured ${results.date} with \`${results.command}\`.`,
    '',
    `Machine: \`nproc\` ${cores}, ${cpu}, Node ${node}. ` +
      (results.pinned
        ? 'Client (autocannon) and servers share these cores: the client pinned to core 0, each server to core 1.'
        : 'Client (autocannon) and servers share these cores, placed by the scheduler.'),
    '',
    '```',
    '$ free -h',
    memory,
    '```',
    '',
    figures,
    '',
    summary,
    end,
  ].join('\n');
  let doc;
  try {
    doc = readFileSync(docPath, 'utf8');
  } catch {
    doc = `# Benchmarks\n\n${start}\n${end}\n`;
  }
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  doc =
    from < 0 || to < 0
      ? `${doc.trimEnd()}\n\n${section}\n`
      : `${doc.slice(0, from)}${section}${doc.slice(to + end.length)}`;
  mkdirSync(dirname(docPath), { recursive: true });
  writeFileSync(docPath, doc);
  console.log(`figures written to docs/benchmarks.md`);
}

const results = {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  machine: machine(),
  pinned,
};
console.log(
  `vaplane bench: ${results.machine.cores} cores (${results.machine.cpu}), Node ${results.machine.node}; ` +
    `${connections} connections, ${warmup} s warm-up + ${duration} s per case`,
);
try {
  if (cases.has('bare') || cases.has('get') || cases.has('put')) results.http = await measureHttp();
  if (cases.has('estate')) {
    console.log(`  estate: ${options.subscriptions} subscriptions, ${options.machines} machines …`);
    results.estate = await measureEstate();
  }
  if (cases.has('portal')) {
    // The portal's figures (bench/portal.mjs prints them; recorded by hand under "Portal" in docs/benchmarks.md).
    const child = start('portal.mjs', [options.subscriptions, options.machines]);
    results.portal = await child.ready;
    await child.stop();
  }
  if (cases.has('security')) {
    // bench/security.mjs prints its figures; recorded by hand under "Defender" in docs/benchmarks.md.
    const child = start('security.mjs', [
      ...['--subscriptions', options.subscriptions, '--machines', options.machines],
      ...['--connections', String(connections), '--wait', options.wait],
      ...(options.unpinned ? ['--unpinned'] : []),
    ]);
    results.security = await child.ready;
    await child.stop();
  }
  if (cases.has('policy')) {
    // bench/policy.mjs prints its figures (about 8 minutes at full size); recorded by hand under
    // "Policy" in docs/benchmarks.md.
    const child = start('policy.mjs', [options.subscriptions, options.machines]);
    results.policy = await child.ready;
    await child.stop();
  }
  if (cases.has('transition')) {
    // bench/transition.mjs prints its figures (about 5 minutes at 2000x50000); recorded by hand under
    // "Transition" in docs/benchmarks.md. It gets every core, not core 1 alone: its server and its
    // client (the CLI, then the replay) are separate processes, each on a core of its own as a user
    // would run them, and a replay's client on the server's core would lower the maximum it measures.
    const [subscriptions, machines] = options['transition-size'].split('x');
    await quietMachine(Number(options.wait));
    const child = start('transition.mjs', [subscriptions, machines], [], `0-${cores - 1}`);
    results.transition = await child.ready;
    await child.stop();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const figures = table(results);
const summary = goals(results);
console.log(`\n${figures}\n\n${summary}`);
if (!options['no-doc']) writeDoc(results, figures, summary);
