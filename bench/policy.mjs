// Policy at estate size, in its own process, through the server's real request path: `createServer`
// in-process (no socket: Fastify `inject`, as the API tests do, with an admin bearer token), a fresh
// SQLite file with WAL and `synchronous = FULL` as `vaplane serve` runs, `generateEstate` into it.
// Then, each timed from the request to the moment its result is readable through the API:
// - the three definitions assigned at the tenant root management group (766e621d with a
//   system-assigned identity), timed until their assignment-time evaluations have finished and no
//   evaluation is left to do (an assignment's PUT evaluates that assignment only);
// - a full compliance scan: `policyStates/latest/triggerEvaluation` on one subscription, which
//   re-evaluates every assignment applying to it, i.e. the three over the whole estate, polled on its
//   `Location` until 200;
// - a remediation task of 766e621d at the root group over every NonCompliant subscription
//   (`resourceCount` = subscriptions, `parallelDeployments` 10, Azure's default), polled until final,
//   and the subscriptions whose setting is then `MdeTvm`;
// - the write-triggered evaluations the remediation's writes recorded (each remediated subscription's
//   VA setting: the subscription for 766e621d, its machines for 13ce0167 and 501541f7), timed from the
//   end of the task until none is left, at the server's default policy evaluation delay (1 s).
// Every write through the API records its evaluation durably; none starts a whole-estate scan.
// Usage: node bench/policy.mjs [subscriptions] [machines] [dir] (default 10,000 and 200,000 in a fresh
// temporary folder, removed afterwards). Reports JSON on stdout and over IPC.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapTenant, tokenFor } from '../dist/bootstrap.js';
import { generateEstate } from '../dist/estate/index.js';
import { createServer } from '../dist/server.js';

const [subscriptionsArg = '10000', machinesArg = '200000', dirArg] = process.argv.slice(2);
const dir = dirArg ?? mkdtempSync(join(tmpdir(), 'vaplane-bench-policy-'));
const subscriptions = Number(subscriptionsArg);
const machines = Number(machinesArg);

const DEFINITIONS = [
  '766e621d-ba95-4e43-a6f2-e945db3d7888',
  '13ce0167-8ca6-4048-8e6b-f996402e3c1b',
  '501541f7-f7e7-4cd6-868c-4190fdad3ac9',
];
const AUTH = 'api-version=2023-04-01';
const INSIGHTS = 'api-version=2019-10-01';
const REMEDIATIONS = 'api-version=2021-10-01';

const seconds = (started) => Number(process.hrtime.bigint() - started) / 1e9;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const server = await createServer({
  db: join(dir, 'policy.db'),
  port: 0,
  lroDelayMs: 0,
  policyEvaluationDelayMs: 1000,
});
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
const generationSeconds = seconds(generationStarted);
const { token } = await tokenFor(db, server.keys, {
  principalName: 'admin',
  tenantId: server.tenantId,
  now: new Date(),
});
server.services.authz.invalidate();

async function inject(method, url, body) {
  const reply = await server.app.inject({
    method,
    url,
    headers: {
      host: 'localhost',
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    payload: body ? JSON.stringify(body) : undefined,
  });
  return { status: reply.statusCode, headers: reply.headers, body: reply.body ? JSON.parse(reply.body) : {} };
}

/** Until no operation is in progress: evaluations of assignments and evaluation-due records alike. */
async function quiet() {
  for (;;) {
    // Reads outside a transaction see the last commit; this one queues behind a running evaluation.
    const busy = await db
      .transaction()
      .execute((tx) =>
        tx.selectFrom('operations').select('id').where('status', '=', 'InProgress').executeTakeFirst(),
      );
    if (!busy) return;
    await sleep(200);
  }
}

async function pendingWrites() {
  const row = await db
    .selectFrom('operations')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('kind', '=', 'policyinsights.evaluateWrite')
    .where('status', '=', 'InProgress')
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

async function countStates(state) {
  const row = await db
    .selectFrom('resources')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('type', '=', 'microsoft.policyinsights/policystates')
    .$if(state !== undefined, (select) =>
      select.where(db.dynamic.ref('body'), 'like', `%"complianceState":"${state}"%`),
    )
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

const root = `/providers/Microsoft.Management/managementGroups/${server.tenantId}`;
const assignmentIds = [];
const assignStarted = process.hrtime.bigint();
for (const [index, name] of DEFINITIONS.entries()) {
  const id = `${root}/providers/Microsoft.Authorization/policyAssignments/bench-${index}`;
  const reply = await inject('PUT', `${id}?${AUTH}`, {
    location: 'westeurope',
    ...(index === 0 ? { identity: { type: 'SystemAssigned' } } : {}),
    properties: { policyDefinitionId: `/providers/Microsoft.Authorization/policyDefinitions/${name}` },
  });
  if (reply.status !== 201) throw new Error(`assign ${name}: ${reply.status} ${JSON.stringify(reply.body)}`);
  assignmentIds.push(id);
}
await quiet();
const assignmentSeconds = seconds(assignStarted);

const subscriptionId = (
  await db
    .selectFrom('resources')
    .select('name')
    .where('type', '=', 'microsoft.resources/subscriptions')
    .limit(1)
    .executeTakeFirstOrThrow()
).name;
const scanStarted = process.hrtime.bigint();
const trigger = await inject(
  'POST',
  `/subscriptions/${subscriptionId}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation?${INSIGHTS}`,
);
if (trigger.status !== 202) throw new Error(`triggerEvaluation: ${trigger.status}`);
const location = new URL(String(trigger.headers.location));
for (;;) {
  const poll = await inject('GET', `${location.pathname}${location.search}`);
  if (poll.status === 200) break;
  if (poll.status !== 202) throw new Error(`scan: ${poll.status} ${JSON.stringify(poll.body)}`);
  await sleep(100);
}
const scanSeconds = seconds(scanStarted);
const scanStates = await countStates();
const nonCompliantBefore = await countStates('NonCompliant');
await quiet();

const remediationId = `${root}/providers/Microsoft.PolicyInsights/remediations/bench-transition`;
const remediationStarted = process.hrtime.bigint();
const created = await inject('PUT', `${remediationId}?${REMEDIATIONS}`, {
  properties: {
    policyAssignmentId: assignmentIds[0],
    resourceCount: Math.min(50_000, subscriptions),
    parallelDeployments: 10,
  },
});
if (created.status !== 201) throw new Error(`remediation: ${created.status} ${JSON.stringify(created.body)}`);
let remediation;
for (;;) {
  remediation = (await inject('GET', `${remediationId}?${REMEDIATIONS}`)).body;
  if (['Succeeded', 'Failed', 'Canceled'].includes(remediation.properties.provisioningState)) break;
  await sleep(250);
}
const remediationSeconds = seconds(remediationStarted);
const pendingAtEnd = await pendingWrites();
const drainStarted = process.hrtime.bigint();
await quiet();
const drainSeconds = seconds(drainStarted);
const nonCompliantAfter = await countStates('NonCompliant');
const mdeTvm = await db
  .selectFrom('resources')
  .select((eb) => eb.fn.countAll().as('count'))
  .where('type', '=', 'microsoft.security/serverVulnerabilityAssessmentsSettings'.toLowerCase())
  .where(db.dynamic.ref('body'), 'like', '%"selectedProvider":"MdeTvm"%')
  .executeTakeFirstOrThrow();
await server.close();
if (!dirArg) rmSync(dir, { recursive: true, force: true });

const deployments = remediation.properties.deploymentStatus;
const report = {
  subscriptions,
  machines,
  counts,
  generationSeconds,
  assignmentSeconds,
  scan: {
    seconds: scanSeconds,
    states: scanStates,
    nonCompliant: nonCompliantBefore,
    statesPerSecond: scanStates / scanSeconds,
  },
  remediation: {
    seconds: remediationSeconds,
    provisioningState: remediation.properties.provisioningState,
    deploymentStatus: deployments,
    deploymentsPerSecond: deployments.totalDeployments / remediationSeconds,
    settingsMdeTvmAfter: Number(mdeTvm.count),
  },
  writeTriggered: {
    pendingWhenRemediationEnded: pendingAtEnd,
    drainSeconds,
    nonCompliantStatesAfter: nonCompliantAfter,
  },
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
};
console.log(JSON.stringify(report, null, 2));
process.send?.(report);
