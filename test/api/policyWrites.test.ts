/**
 * Write-triggered evaluation: a resource write records a durable "evaluation due" operation in its own
 * transaction, due the server's policy evaluation delay later (an existence check's `evaluationDelay`
 * on the same scale), and re-evaluates only what the write can change — the resource itself, the
 * resource an extension or related resource answers for, the machines a Defender setting covers —
 * never the whole estate. Deletes remove states. An assignment's PUT evaluates that assignment alone.
 * Due evaluations survive a restart, on SQLite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyOf } from '../../src/arm/resourceId.js';
import { bootstrapTenant } from '../../src/bootstrap.js';
import { createServer, type VaplaneServer } from '../../src/server.js';
import { openStore } from '../../src/store/index.js';
import { ENGINES } from '../store/engines.js';
import {
  defenderSubscription,
  EXTENSIONS,
  GROUP,
  selectMdeTvm,
  serversPlan,
  setting,
  vm,
} from '../support/defender.js';
import { addSubscription } from '../support/estate.js';
import {
  assignPolicy,
  complianceStates,
  definePolicy,
  OWNER_TAG_AUDIT,
  until as pollUntil,
  THEN,
} from '../support/policy.js';
import { adminInjector, startTestServer, type TestServer } from '../support/server.js';

const AUTH = 'api-version=2023-04-01';
const INSIGHTS = 'api-version=2019-10-01';
const RESOURCES = 'api-version=2021-04-01';
const COMPUTE = 'api-version=2024-03-01';
const EVALUATE_WRITE = 'policyinsights.evaluateWrite';
const TRANSITION = '766e621d-ba95-4e43-a6f2-e945db3d7888';
const VA_ON_MACHINES = '13ce0167-8ca6-4048-8e6b-f996402e3c1b';
/** The server's compressed "15 minutes": long enough that a state cannot appear before a check reads. */
const DELAY_MS = 600;

/** Each wait may span several evaluation delays: more patience than the shared default. */
const until = <T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string) =>
  pollUntil(probe, done, what, 300);

/** VMs need an MDE extension: an existence check on a child type (default evaluationDelay, PT10M). */
const MDE_ON_VMS = {
  displayName: 'VMs have the MDE extension',
  mode: 'All',
  policyRule: {
    if: { field: 'type', equals: 'Microsoft.Compute/virtualMachines' },
    [THEN]: {
      effect: 'auditIfNotExists',
      details: {
        type: 'Microsoft.Compute/virtualMachines/extensions',
        existenceCondition: { field: 'name', like: 'MDE.*' },
      },
    },
  },
};

/** Extensions are judged only once provisioned: `evaluationDelay: AfterProvisioning`. */
const EXTENSIONS_PROVISIONED = {
  displayName: 'Extensions sit in a group with a VM',
  mode: 'All',
  policyRule: {
    if: { field: 'type', equals: 'Microsoft.Compute/virtualMachines/extensions' },
    [THEN]: {
      effect: 'auditIfNotExists',
      details: { type: 'Microsoft.Compute/virtualMachines', evaluationDelay: 'AfterProvisioning' },
    },
  },
};

interface Harness {
  t: TestServer;
  subscription(): Promise<string>;
  define(scope: string, name: string, properties: unknown): Promise<string>;
  assign(scope: string, name: string, properties: Record<string, unknown>): Promise<string>;
  states(scope: string, filter: string): Promise<any[]>;
  /** Evaluation-due records not yet done, by target key. */
  due(targetKey: string): Promise<{ start_time: string; due_at: string; input: string }[]>;
}

function harness(t: TestServer): Harness {
  return {
    t,
    subscription: () => defenderSubscription(t),
    define: (scope, name, properties) => definePolicy(t, scope, name, properties),
    assign: (scope, name, properties) => assignPolicy(t, scope, name, properties),
    states: (scope, filter) => complianceStates(t, scope, filter),
    async due(targetKey) {
      return t.server.store.db
        .selectFrom('operations')
        .select(['start_time', 'due_at', 'input'])
        .where('kind', '=', EVALUATE_WRITE)
        .where('target_key', '=', targetKey)
        .where('status', '=', 'InProgress')
        .execute();
    },
  };
}

/** Until no operation is left to do: assignment evaluations and evaluation-due records alike. */
async function settled(h: Harness): Promise<void> {
  await until(
    () =>
      h.t.server.store.db.selectFrom('operations').select('id').where('status', '=', 'InProgress').execute(),
    (value) => value.length === 0,
    'every operation done',
  );
}

const byResource = (states: any[]) =>
  Object.fromEntries(states.map((state) => [String(state.resourceId).split('/').pop(), state]));

describe('write-triggered evaluation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = harness(await startTestServer({ listen: false, policyEvaluationDelayMs: DELAY_MS, lroDelayMs: 50 }));
  });
  afterAll(async () => h?.t.close());

  it('judges a new resource group from a durable record due one delay after the write, and nothing else', async () => {
    const subscriptionId = await h.subscription();
    const scope = `/subscriptions/${subscriptionId}`;
    const definition = await h.define(scope, 'owner-tag', OWNER_TAG_AUDIT);
    await h.assign(scope, 'owner-tag', { policyDefinitionId: definition });
    const [before] = await until(
      () => h.states(scope, "policyAssignmentName eq 'owner-tag'"),
      (value) => value.length === 1,
      'the assignment-time state of rg-va',
    );

    const created = await h.t.inject({
      method: 'PUT',
      url: `${scope}/resourcegroups/rg-new?${RESOURCES}`,
      body: { location: 'westeurope' },
    });
    expect(created.status).toBe(201);
    const [record] = await h.due(keyOf(`${scope}/resourcegroups/rg-new`));
    expect(record, 'an evaluation-due record committed with the write').toBeDefined();
    expect(Date.parse(record!.due_at) - Date.parse(JSON.parse(record!.input).writtenAt)).toBe(DELAY_MS);
    expect(
      byResource(await h.states(scope, "policyAssignmentName eq 'owner-tag'"))['rg-new'],
    ).toBeUndefined();

    const after = await until(
      () => h.states(scope, "policyAssignmentName eq 'owner-tag'"),
      (value) => value.length === 2,
      'the new group judged',
    );
    expect(byResource(after)['rg-new'].complianceState).toBe('NonCompliant');
    // rg-va was not written: its state is the one the assignment wrote, not re-evaluated.
    expect(byResource(after)['rg-va'].timestamp).toBe(before.timestamp);
    expect(await h.due(keyOf(`${scope}/resourcegroups/rg-new`))).toEqual([]);

    const tagged = await h.t.inject({
      method: 'PATCH',
      url: `${scope}/resourcegroups/rg-new?${RESOURCES}`,
      body: { tags: { owner: 'team-a' } },
    });
    expect(tagged.status).toBe(200);
    await until(
      () => h.states(scope, "policyAssignmentName eq 'owner-tag'"),
      (value) => byResource(value)['rg-new']?.complianceState === undefined && value.length === 1,
      'the tagged group no longer NonCompliant (the rule no longer applies)',
    );
    const deleted = await h.t.inject({
      method: 'DELETE',
      url: `${scope}/resourcegroups/${GROUP}?${RESOURCES}`,
    });
    expect(deleted.status).toBe(202);
    await until(
      () => h.states(scope, "policyAssignmentName eq 'owner-tag'"),
      (value) => value.length === 0,
      "the deleted group's state removed",
    );
  });

  it('re-evaluates what Defender settings answer for — the subscription, its machines — in that subscription only', async () => {
    const [subscriptionId, otherId] = [await h.subscription(), await h.subscription()];
    for (const id of [subscriptionId, otherId]) {
      // Plan 1 without Endpoint protection: no VA solution covers the machine (ffff0522 Unhealthy).
      await serversPlan(h.t, id, 'P1');
      await setting(h.t, id, 'WDATP', false);
      await vm(h.t, id, 'web01');
      const scope = `/subscriptions/${id}`;
      await h.assign(scope, 'setup', {
        policyDefinitionId: `/providers/Microsoft.Authorization/policyDefinitions/${TRANSITION}`,
      });
      await h.assign(scope, 'va', {
        policyDefinitionId: `/providers/Microsoft.Authorization/policyDefinitions/${VA_ON_MACHINES}`,
        parameters: { vaType: { value: 'mdeTvm' } },
      });
    }
    const scope = `/subscriptions/${subscriptionId}`;
    const otherScope = `/subscriptions/${otherId}`;
    const judged = async (at: string, assignment: string) =>
      until(
        () => h.states(at, `policyAssignmentName eq '${assignment}'`),
        (value) => value.length === 1 && value[0].complianceState === 'NonCompliant',
        `${assignment} NonCompliant in ${at}`,
      );
    const [machineBefore] = await judged(scope, 'va');
    await judged(scope, 'setup');
    await judged(otherScope, 'va');
    // The setup's own writes (plans, settings) are evaluated too: let them finish first.
    await settled(h);
    const [otherSetup] = await judged(otherScope, 'setup');
    const [otherMachine] = await judged(otherScope, 'va');

    // 766e621d checks the VA setting itself: writing it re-evaluates the subscription.
    await selectMdeTvm(h.t, subscriptionId);
    await until(
      () => h.states(scope, "policyAssignmentName eq 'setup'"),
      (value) => value[0]?.complianceState === 'Compliant',
      'the subscription Compliant after its VA setting is written',
    );
    // 13ce0167 reads ffff0522, which Endpoint protection changes: the machine is judged again (4 × delay).
    await setting(h.t, subscriptionId, 'WDATP', true);
    const [machineAfter] = await until(
      () => h.states(scope, "policyAssignmentName eq 'va'"),
      (value) => value[0]?.complianceState === 'Compliant',
      'the machine Compliant after Endpoint protection is turned on',
    );
    expect(Date.parse(machineAfter.timestamp)).toBeGreaterThan(Date.parse(machineBefore.timestamp));
    const other = byResource([
      ...(await h.states(otherScope, "policyAssignmentName eq 'setup'")),
      ...(await h.states(otherScope, "policyAssignmentName eq 'va'")),
    ]);
    expect(other[otherId].timestamp, 'the other subscription is not re-evaluated').toBe(otherSetup.timestamp);
    expect(other.web01.timestamp, "nor the other subscription's machine").toBe(otherMachine.timestamp);
  });

  it('judges a VM again when an extension is written under it, and drops its states when it is deleted', async () => {
    const subscriptionId = await h.subscription();
    const scope = `/subscriptions/${subscriptionId}`;
    const machine = await vm(h.t, subscriptionId, 'app01');
    const definition = await h.define(scope, 'mde-on-vms', MDE_ON_VMS);
    await h.assign(scope, 'mde', { policyDefinitionId: definition });
    await until(
      () => h.states(scope, "policyAssignmentName eq 'mde'"),
      (value) => value[0]?.complianceState === 'NonCompliant',
      'the VM NonCompliant without the extension',
    );
    const installed = await h.t.inject({
      method: 'PUT',
      url: `${machine}/extensions/MDE.Linux?${COMPUTE}`,
      body: { location: 'westeurope', properties: EXTENSIONS.mdeLinux },
    });
    expect(installed.status, JSON.stringify(installed.body)).toBe(201);
    await until(
      () => h.states(scope, "policyAssignmentName eq 'mde'"),
      (value) => value[0]?.complianceState === 'Compliant',
      'the VM Compliant once its extension is written',
    );
    const removed = await h.t.inject({ method: 'DELETE', url: `${machine}?${COMPUTE}` });
    expect(removed.status).toBe(202);
    await until(
      () => h.states(scope, "policyAssignmentName eq 'mde'"),
      (value) => value.length === 0,
      "the deleted VM's state removed",
    );
  });

  it("evaluates an assignment's PUT alone: no write record, other assignments' states untouched", async () => {
    const subscriptionId = await h.subscription();
    const scope = `/subscriptions/${subscriptionId}`;
    const definition = await h.define(scope, 'owner-tag', OWNER_TAG_AUDIT);
    await h.assign(scope, 'first', { policyDefinitionId: definition });
    const [first] = await until(
      () => h.states(scope, "policyAssignmentName eq 'first'"),
      (value) => value.length === 1,
      'the first assignment judged',
    );
    const second = await h.assign(scope, 'second', { policyDefinitionId: definition });
    expect(await h.due(keyOf(second))).toEqual([]);
    await until(
      () => h.states(scope, "policyAssignmentName eq 'second'"),
      (value) => value.length === 1,
      'the second assignment judged',
    );
    await new Promise((resolve) => setTimeout(resolve, DELAY_MS + 200));
    const [firstAgain] = await h.states(scope, "policyAssignmentName eq 'first'");
    expect(firstAgain.timestamp).toBe(first.timestamp);
  });
});

describe('AfterProvisioning', () => {
  let h: Harness;
  beforeAll(async () => {
    // The extension's provisioning takes 1.5 s; the policy delay is short.
    h = harness(await startTestServer({ listen: false, policyEvaluationDelayMs: 100, lroDelayMs: 1500 }));
  });
  afterAll(async () => h?.t.close());

  it("waits for the written resource's provisioning to end", async () => {
    const subscriptionId = await h.subscription();
    const scope = `/subscriptions/${subscriptionId}`;
    const machine = await vm(h.t, subscriptionId, 'app01');
    const definition = await h.define(scope, 'provisioned', EXTENSIONS_PROVISIONED);
    await h.assign(scope, 'provisioned', { policyDefinitionId: definition });
    await settled(h);
    const started = Date.now();
    const installed = await h.t.inject({
      method: 'PUT',
      url: `${machine}/extensions/MDE.Linux?${COMPUTE}`,
      body: { location: 'westeurope', properties: EXTENSIONS.mdeLinux },
    });
    expect(installed.body.properties.provisioningState).toBe('Creating');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(
      await h.states(scope, "policyAssignmentName eq 'provisioned'"),
      'still provisioning: not judged',
    ).toEqual([]);
    const [judged] = await until(
      () => h.states(scope, "policyAssignmentName eq 'provisioned'"),
      (value) => value.length === 1,
      'the extension judged after its provisioning',
    );
    expect(judged.resourceId.toLowerCase()).toBe(`${machine}/extensions/MDE.Linux`.toLowerCase());
    expect(judged.complianceState).toBe('Compliant');
  });
});

for (const engine of ENGINES) {
  describe.skipIf(engine.skip)(`due evaluations survive a restart (${engine.name})`, () => {
    if (engine.skip) console.log(`SKIP write-triggered evaluation on ${engine.name}`);

    it('a write committed before the stop is evaluated by the next server on the same database', async () => {
      const scratch = await engine.scratch();
      const options = { db: scratch.db, stateDir: scratch.dir, port: 0, lroDelayMs: 50 };
      let second: VaplaneServer | undefined;
      try {
        const first = await createServer({ ...options, policyEvaluationDelayMs: 1500 });
        await bootstrapTenant(first.store.db, first.tenantId, first.services.clock.now());
        const onFirst = await adminInjector(first);
        const subscriptionId = randomUUID();
        await addSubscription(first, { subscriptionId });
        const scope = `/subscriptions/${subscriptionId}`;
        const defined = await onFirst({
          method: 'PUT',
          url: `${scope}/providers/Microsoft.Authorization/policyDefinitions/owner-tag?${AUTH}`,
          body: { properties: OWNER_TAG_AUDIT },
        });
        expect(defined.status).toBe(201);
        const assigned = await onFirst({
          method: 'PUT',
          url: `${scope}/providers/Microsoft.Authorization/policyAssignments/owner-tag?${AUTH}`,
          body: { properties: { policyDefinitionId: defined.body.id } },
        });
        expect(assigned.status).toBe(201);
        const created = await onFirst({
          method: 'PUT',
          url: `${scope}/resourcegroups/rg-late?${RESOURCES}`,
          body: { location: 'westeurope' },
        });
        expect(created.status).toBe(201);
        await first.close();

        const store = await openStore({ db: scratch.db, stateDir: scratch.dir });
        const waiting = await store.db
          .selectFrom('operations')
          .select('due_at')
          .where('kind', '=', EVALUATE_WRITE)
          .where('status', '=', 'InProgress')
          .execute();
        const states = await store.db
          .selectFrom('resources')
          .select('key')
          .where('type', '=', 'microsoft.policyinsights/policystates')
          .execute();
        await store.close();
        expect(waiting, 'the record outlives the server').toHaveLength(1);
        expect(states, 'not evaluated before the stop').toEqual([]);

        second = await createServer({ ...options, policyEvaluationDelayMs: 1500 });
        await second.listen();
        const onSecond = await adminInjector(second);
        const query = `${scope}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?${INSIGHTS}`;
        const judged = await until(
          () => onSecond({ method: 'POST', url: query }),
          (reply) => reply.status === 200 && reply.body.value.length === 1,
          'the new group judged by the second server',
        );
        expect(judged.body.value[0]).toMatchObject({
          policyAssignmentName: 'owner-tag',
          complianceState: 'NonCompliant',
        });
        expect(judged.body.value[0].resourceId.toLowerCase()).toBe(`${scope}/resourcegroups/rg-late`);
      } finally {
        await second?.close();
        await scratch.dispose();
      }
    });
  });
}
