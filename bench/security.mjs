// The Defender figures of issue 3 (the `security` case of `npm run bench`, or on its own):
//
//   put      PUT of the VA setting `{"kind":"AzureServersSetting","properties":{"selectedProvider":"MdeTvm"}}`
//            at api-version 2023-05-01 on every one of N subscriptions (10,000), over HTTPS with
//            keep-alive from autocannon in this process, 32 connections. A server process with a fresh
//            SQLite file and the N subscriptions written straight to the store (as bench/server.mjs
//            does). Two passes, each sending every subscription exactly once, in order: the first
//            creates every setting (201, and warms the server up: there is no separate warm-up), the
//            second updates them (200). Afterwards the server counts, in its store, the subscriptions
//            whose setting reads MdeTvm, and the run fails unless that is all of them.
//   assess   ffff0522 for every machine of a generated estate (N subscriptions, M machines, seed 1), in
//            a server process: `vaAssessmentsForSubscription(db, subscription, now, {size: 1000})` page
//            by page over every subscription — the code path of the assessments list — timed in that
//            process, with the status mix. Then the same over HTTPS: one GET of
//            `/subscriptions/{s}/providers/Microsoft.Security/assessments?api-version=2021-06-01` per
//            subscription (first page, up to 1,000 machines) from autocannon, 32 connections.
//
// Server processes run pinned to core 1 and this process to core 0 (on two or more cores, unless
// --unpinned), as in bench/run.mjs. Server CPU per request is read over IPC from the server process.
//
// Usage: node bench/security.mjs [--subscriptions N] [--machines M] [--connections C] [--unpinned]
//        [--wait S]. Prints the figures, and sends them over IPC when forked (by bench/run.mjs).
// Internal modes (the server processes): node bench/security.mjs put-server <dir> <subscriptions>
//                                        node bench/security.mjs assess-server <dir> <subs> <machines>
import { execSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const VA_SETTING_BODY = JSON.stringify({
  kind: 'AzureServersSetting',
  properties: { selectedProvider: 'MdeTvm' },
});
const VA_SETTING_TYPE = 'microsoft.security/servervulnerabilityassessmentssettings';
const PAGE_SIZE = 1000;

/** The i-th bench subscription id (deterministic, so that the client needs no list from the server). */
function benchSubscriptionId(index) {
  return `00000000-0000-4000-8000-${(0x5ec000000000 + index).toString(16).padStart(12, '0')}`;
}

function answerCpu() {
  process.on('message', (message) => {
    if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  });
}

async function adminToken(server) {
  const { tokenFor } = await import('../dist/bootstrap.js');
  const { token } = await tokenFor(server.store.db, server.keys, {
    principalName: 'admin',
    tenantId: server.tenantId,
    now: new Date(),
    lifetimeSeconds: 3 * 3600,
  });
  return token;
}

function stopOn(server) {
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
}

// ─── put-server: N subscriptions, no settings ────────────────────────────────────────────────────

async function putServer(dir, subscriptions) {
  const { keyOf } = await import('../dist/arm/resourceId.js');
  const { bootstrapTenant } = await import('../dist/bootstrap.js');
  const { GROUP_SUBSCRIPTION_TYPE } = await import('../dist/providers/management/index.js');
  const { subscriptionBody, subscriptionRecord } = await import('../dist/providers/resources/index.js');
  const { createServer } = await import('../dist/server.js');
  const { inTransaction, putResource } = await import('../dist/store/index.js');

  const server = await createServer({ db: join(dir, 'vaplane.db'), port: 0, lroDelayMs: 50 });
  const db = server.store.db;
  const at = server.services.clock.now().toISOString();
  await bootstrapTenant(db, server.tenantId, server.services.clock.now());
  const root = `/providers/Microsoft.Management/managementGroups/${server.tenantId}`;
  // One transaction per 1,000 subscriptions: the setup is not what is measured.
  for (let from = 0; from < subscriptions; from += 1000) {
    await inTransaction(db, async (tx) => {
      for (let index = from; index < Math.min(subscriptions, from + 1000); index++) {
        const subscriptionId = benchSubscriptionId(index);
        const body = subscriptionBody({
          subscriptionId,
          tenantId: server.tenantId,
          displayName: `bench subscription ${index}`,
        });
        await putResource(tx, subscriptionRecord(body, at));
        const link = `${root}/subscriptions/${subscriptionId}`;
        await putResource(tx, {
          key: keyOf(link),
          id: link,
          type: GROUP_SUBSCRIPTION_TYPE,
          subscriptionId: null,
          resourceGroup: null,
          parentKey: keyOf(root),
          name: subscriptionId,
          body: {
            id: link,
            type: 'Microsoft.Management/managementGroups/subscriptions',
            name: subscriptionId,
            properties: { displayName: body.displayName },
          },
          etag: '"0"',
          createdAt: at,
          updatedAt: at,
        });
      }
    });
  }
  server.services.authz.invalidate();
  const url = await server.listen();
  const token = await adminToken(server);
  answerCpu();
  process.on('message', async (message) => {
    if (message !== 'count') return;
    // Subscriptions whose stored setting reads MdeTvm, and settings in all.
    const rows = await db
      .selectFrom('resources')
      .select(['subscription_id', 'body'])
      .where('type', '=', VA_SETTING_TYPE)
      .execute();
    const mdeTvm = new Set();
    for (const row of rows) {
      const body = typeof row.body === 'string' ? JSON.parse(row.body) : row.body;
      if (body?.properties?.selectedProvider === 'MdeTvm')
        mdeTvm.add(String(row.subscription_id).toLowerCase());
    }
    const expected = Array.from({ length: subscriptions }, (_, index) => benchSubscriptionId(index));
    process.send?.({
      settings: rows.length,
      subscriptionsMdeTvm: expected.filter((id) => mdeTvm.has(id)).length,
    });
  });
  stopOn(server);
  process.send?.({ url, token, caPath: server.tls.caPath });
}

// ─── assess-server: generated estate, ffff0522 computed for every machine ────────────────────────

async function assessServer(dir, subscriptions, machines) {
  const { bootstrapTenant } = await import('../dist/bootstrap.js');
  const { generateEstate } = await import('../dist/estate/index.js');
  const { vaAssessmentsForSubscription } = await import('../dist/providers/security/assessments/index.js');
  const { createServer } = await import('../dist/server.js');

  const server = await createServer({ db: join(dir, 'vaplane.db'), port: 0, lroDelayMs: 50 });
  const db = server.store.db;
  const now = server.services.clock.now();
  await bootstrapTenant(db, server.tenantId, now);
  const generationStarted = process.hrtime.bigint();
  const counts = await generateEstate(db, {
    subscriptions,
    machines,
    seed: 1,
    tenantId: server.tenantId,
    now,
  });
  const generationSeconds = Number(process.hrtime.bigint() - generationStarted) / 1e9;
  const subscriptionIds = (
    await db
      .selectFrom('resources')
      .select('name')
      .where('type', '=', 'microsoft.resources/subscriptions')
      .execute()
  ).map((row) => row.name);

  const statuses = {};
  const causes = {};
  let assessed = 0;
  let pages = 0;
  let largest = 0;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (const subscriptionId of subscriptionIds) {
    let after;
    let inSubscription = 0;
    do {
      const page = await vaAssessmentsForSubscription(db, subscriptionId, now, { size: PAGE_SIZE, after });
      pages += 1;
      for (const assessment of page.value) {
        const { code, cause } = assessment.coverage.assessmentStatus;
        statuses[code] = (statuses[code] ?? 0) + 1;
        const causeKey = `${code}/${cause ?? '-'}`;
        causes[causeKey] = (causes[causeKey] ?? 0) + 1;
      }
      inSubscription += page.value.length;
      after = page.nextAfter;
    } while (after !== undefined);
    assessed += inSubscription;
    largest = Math.max(largest, inSubscription);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const expected = (counts.virtualMachines ?? 0) + (counts.arcMachines ?? 0);
  if (assessed !== expected) {
    throw new Error(`assessed ${assessed} machines, the estate has ${expected} VMs and Arc machines`);
  }

  const url = await server.listen();
  const token = await adminToken(server);
  answerCpu();
  stopOn(server);
  process.send?.({
    url,
    token,
    caPath: server.tls.caPath,
    subscriptionIds,
    counts,
    generationSeconds,
    direct: {
      machines: assessed,
      pages,
      largestSubscription: largest,
      seconds,
      machinesPerSecond: assessed / seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      statuses,
      causes,
    },
  });
}

// ─── the driver ──────────────────────────────────────────────────────────────────────────────────

async function drive() {
  const { default: autocannon } = await import('autocannon');
  const { values: options } = parseArgs({
    options: {
      subscriptions: { type: 'string', default: '10000' },
      machines: { type: 'string', default: '200000' },
      connections: { type: 'string', default: '32' },
      unpinned: { type: 'boolean', default: false },
      wait: { type: 'string', default: '30' },
    },
  });
  const subscriptions = Number(options.subscriptions);
  const machines = Number(options.machines);
  const connections = Number(options.connections);
  const cores = availableParallelism();
  const pinned = !options.unpinned && cores >= 2;
  const pin = (pid, core) => {
    if (pinned) execSync(`taskset -a -p -c ${core} ${pid}`, { stdio: 'ignore' });
  };
  // Forked by bench/run.mjs this process starts on the servers' core: take the client's.
  pin(process.pid, 0);
  const work = mkdtempSync(join(tmpdir(), 'vaplane-bench-security-'));
  const self = fileURLToPath(import.meta.url);

  function start(args) {
    const child = fork(self, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    pin(child.pid, 1);
    const ready = new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) =>
        reject(new Error(`security.mjs ${args[0]} exited with ${code} before it was ready`)),
      );
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const ask = (question) =>
      new Promise((resolve) => {
        child.once('message', resolve);
        child.send(question);
      });
    return {
      ready,
      ask,
      async cpu() {
        const { cpu } = await ask('cpu');
        return cpu.user + cpu.system;
      },
      async stop() {
        if (child.exitCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
  }

  function machineBusySeconds() {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = fields;
    return (user + nice + system + irq + softirq + steal) / 100;
  }

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

  /** One request per path, each path once, `connections` at a time. */
  async function load(server, url, paths, { request: shape, ...extra }) {
    // Again here: when bench/run.mjs forks this process it pins it to the servers' core just after.
    pin(process.pid, 0);
    await quietMachine(Number(options.wait));
    let next = 0;
    const serverBefore = await server.cpu();
    const clientBefore = process.cpuUsage();
    const machineBefore = machineBusySeconds();
    const result = await autocannon({
      url,
      connections,
      pipelining: 1,
      amount: paths.length,
      ...extra,
      requests: [
        {
          ...shape,
          setupRequest(outgoing) {
            outgoing.path = paths[next % paths.length];
            next += 1;
            return outgoing;
          },
        },
      ],
    });
    const serverCpu = (await server.cpu()) - serverBefore;
    const clientUsage = process.cpuUsage(clientBefore);
    const clientCpu = clientUsage.user + clientUsage.system;
    const machineCpu = (machineBusySeconds() - machineBefore) * 1e6;
    const elapsed = result.duration;
    return {
      requestsPerSecond: result.requests.total / elapsed,
      seconds: elapsed,
      p50: result.latency.p50,
      p99: result.latency.p99,
      total: result.requests.total,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      statuses: Object.fromEntries(
        Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)]),
      ),
      serverCpuPerRequest: serverCpu / result.requests.total,
      serverBusy: serverCpu / (elapsed * 1e6),
      clientBusy: clientCpu / (elapsed * 1e6),
      otherBusy: Math.max(0, machineCpu - serverCpu - clientCpu) / (elapsed * 1e6),
    };
  }

  function print(name, figures) {
    const bad = figures.errors + figures.non2xx;
    const statuses = Object.entries(figures.statuses)
      .map(([code, count]) => `${count}×${code}`)
      .join(' ');
    console.log(
      `  ${name.padEnd(34)} ${figures.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${figures.p50} ms  p99 ${figures.p99} ms  ` +
        `server ${figures.serverCpuPerRequest.toFixed(1)} µs CPU/request (busy ${(figures.serverBusy * 100).toFixed(0)}%, client ${(figures.clientBusy * 100).toFixed(0)}%, other ${(figures.otherBusy * 100).toFixed(0)}%)  ` +
        `${figures.total} requests [${statuses}]` +
        (bad > 0 ? `  !! ${figures.errors} errors, ${figures.non2xx} non-2xx` : ''),
    );
  }

  function fetchOnce(url, { ca, token }) {
    return new Promise((resolve, reject) => {
      const outgoing = request(url, { ca, headers: { authorization: `Bearer ${token}` } }, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString() }),
        );
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
  }

  const report = { subscriptions, machines, connections, pinned };
  try {
    // put
    const putDir = join(work, 'put');
    execSync(`mkdir -p ${putDir}`);
    const putServerProcess = start(['put-server', putDir, String(subscriptions)]);
    try {
      const info = await putServerProcess.ready;
      const ca = readFileSync(info.caPath);
      const paths = Array.from(
        { length: subscriptions },
        (_, index) =>
          `/subscriptions/${benchSubscriptionId(index)}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
      );
      const extra = {
        headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
        request: { method: 'PUT', body: VA_SETTING_BODY },
      };
      report.putCreate = await load(putServerProcess, info.url, paths, extra);
      print('PUT VA setting, pass 1 (create)', report.putCreate);
      report.putUpdate = await load(putServerProcess, info.url, paths, extra);
      print('PUT VA setting, pass 2 (update)', report.putUpdate);
      report.putCheck = await putServerProcess.ask('count');
      const probe = await fetchOnce(`${info.url}${paths[subscriptions - 1]}`, { ca, token: info.token });
      report.putCheck.lastGet = {
        status: probe.status,
        selectedProvider: JSON.parse(probe.body).properties?.selectedProvider,
      };
      console.log(
        `  store after the PUTs: ${report.putCheck.subscriptionsMdeTvm} of ${subscriptions} subscriptions have selectedProvider MdeTvm ` +
          `(${report.putCheck.settings} settings); GET of the last one: ${probe.status} ${report.putCheck.lastGet.selectedProvider}`,
      );
      if (
        report.putCheck.subscriptionsMdeTvm !== subscriptions ||
        report.putCheck.settings !== subscriptions
      ) {
        throw new Error(`expected every one of ${subscriptions} subscriptions to have the MdeTvm setting`);
      }
    } finally {
      await putServerProcess.stop();
    }

    // assess
    const assessDir = join(work, 'assess');
    execSync(`mkdir -p ${assessDir}`);
    console.log(`  ffff0522: generating ${subscriptions} subscriptions, ${machines} machines …`);
    const assessServerProcess = start(['assess-server', assessDir, String(subscriptions), String(machines)]);
    try {
      const info = await assessServerProcess.ready;
      const { direct } = info;
      report.counts = info.counts;
      report.generationSeconds = info.generationSeconds;
      report.assessDirect = direct;
      console.log(
        `  ffff0522, vaAssessmentsForSubscription: ${direct.machines} machines in ${direct.seconds.toFixed(2)} s = ` +
          `${direct.machinesPerSecond.toFixed(0)} machines/s (${direct.cpuSeconds.toFixed(2)} s CPU, ${direct.pages} pages, ` +
          `largest subscription ${direct.largestSubscription} machines); ` +
          Object.entries(direct.statuses)
            .map(([code, count]) => `${code} ${count}`)
            .join(', '),
      );
      console.log(
        `    causes: ${Object.entries(direct.causes)
          .sort(([, left], [, right]) => right - left)
          .map(([cause, count]) => `${cause} ${count}`)
          .join(', ')}`,
      );
      const paths = info.subscriptionIds.map(
        (id) => `/subscriptions/${id}/providers/Microsoft.Security/assessments?api-version=2021-06-01`,
      );
      report.assessHttp = await load(assessServerProcess, info.url, paths, {
        headers: { authorization: `Bearer ${info.token}` },
        request: { method: 'GET' },
      });
      report.assessHttp.machinesPerSecond =
        direct.largestSubscription <= PAGE_SIZE ? direct.machines / report.assessHttp.seconds : undefined;
      print('GET assessments list per subscription', report.assessHttp);
      if (report.assessHttp.machinesPerSecond !== undefined) {
        console.log(
          `    = ${report.assessHttp.machinesPerSecond.toFixed(0)} machines/s over HTTPS (every subscription fits one page)`,
        );
      }
    } finally {
      await assessServerProcess.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.send?.(report);
  return report;
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'put-server') await putServer(rest[0], Number(rest[1]));
else if (mode === 'assess-server') await assessServer(rest[0], Number(rest[1]), Number(rest[2]));
else await drive();
