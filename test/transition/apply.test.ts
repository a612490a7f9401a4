/**
 * `vaplane transition apply` against a real vaplane server over HTTPS: the estate after an apply,
 * a second plan that is empty, a stale plan refused with what changed, --start-stopped, --dry-run,
 * waves (--canary) and --failure-threshold, and `status` from the journal.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { virtualMachineRecord, vmExtensionRecord } from '../../src/providers/compute/model.js';
import { putResource } from '../../src/store/index.js';
import { defaultJournalPath } from '../../src/transition/index.js';
import {
  arcMachine,
  byolSolution,
  connector,
  EXTENSIONS,
  GROUP,
  legacyOnboarding,
  serversPlan,
  vm,
} from '../support/defender.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  agentlessScanning,
  apply,
  byolAgent,
  connectorVa,
  endpointProtection,
  extensionsOf,
  legacyVaNames,
  operationCounts,
  plan,
  powerState,
  status,
  subscription,
  vaProvider,
  workDir,
} from './world.js';

let counter = 0;
/** A fresh subscription id per call, ordered: `b0000001-…` sorts before `b0000002-…`. */
function nextId(): string {
  counter++;
  return `b${String(counter).padStart(7, '0')}-0000-4000-8000-000000000000`;
}

/** A running VM with the Qualys extension whose removal Compute refuses (extension operations disallowed). */
async function lockedVm(t: TestServer, subscriptionId: string, name: string): Promise<string> {
  const now = new Date().toISOString();
  const record = virtualMachineRecord({
    subscriptionId,
    resourceGroup: GROUP,
    name,
    location: 'westeurope',
    osType: 'Linux',
    image: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' },
    powerState: 'running',
    now,
  });
  record.body.properties.osProfile.allowExtensionOperations = false;
  await putResource(t.server.store.db, record);
  await putResource(
    t.server.store.db,
    vmExtensionRecord({
      machineId: record.id,
      subscriptionId,
      resourceGroup: GROUP,
      name: 'LinuxAgent',
      location: 'westeurope',
      ...EXTENSIONS.qualysLinux,
      now,
    }),
  );
  return record.id;
}

const hasQualys = async (t: TestServer, machineId: string) =>
  (await extensionsOf(t, machineId)).some((extension) => extension.type.endsWith('.AzureSecurityCenter'));

describe('vaplane transition apply', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  async function planFile(scope: string[], options: { fixPrerequisites?: true } = {}) {
    const out = join(workDir(), 'plan.json');
    const made = await plan(t, { scope, out, ...options });
    expect(made.code).toBe(0);
    return { out, plan: made.plan! };
  }

  it('moves the estate to MDVM, leaves BYOL agents alone, and a fresh plan afterwards is empty', async () => {
    const ready = await subscription(t, nextId());
    await serversPlan(t, ready, 'P2');
    const vm1 = await vm(t, ready, 'vm-1', { extensions: [EXTENSIONS.qualysLinux, EXTENSIONS.mdeLinux] });
    await legacyOnboarding(t, vm1, 'Default');
    const vm2 = await vm(t, ready, 'vm-2', {
      os: 'windows',
      extensions: [{ ...EXTENSIONS.qualysWindows, name: 'qualys-renamed' }],
    });
    const arc = await arcMachine(t, ready, 'arc-1', { extensions: [EXTENSIONS.qualysLinux] });
    await legacyOnboarding(t, arc, 'Default');
    const partnerVm = await vm(t, ready, 'vm-partner', { extensions: [EXTENSIONS.qualysLinux] });
    await byolAgent(t, partnerVm);
    const gcp = await connector(t, ready, 'gcp-1', { cloud: 'GCP', va: 'Qualys' });
    const aws = await connector(t, ready, 'aws-1', { cloud: 'AWS', va: 'Qualys', subPlan: 'P1' });
    const p1 = await subscription(t, nextId());
    await serversPlan(t, p1, 'P1');
    const p1Vm = await vm(t, p1, 'vm-p1', { extensions: [EXTENSIONS.qualysLinux] });
    const noScanner = await subscription(t, nextId());
    await serversPlan(t, noScanner, 'P2', { agentless: false });
    const byol = await subscription(t, nextId());
    await serversPlan(t, byol, 'P2');
    await byolSolution(t, byol, 'partner');
    const byolVm = await vm(t, byol, 'vm-byol');
    await byolAgent(t, byolVm);

    const scope = [ready, p1, noScanner, byol];
    const { out, plan: made } = await planFile(scope, { fixPrerequisites: true });
    expect(made.actions).toHaveLength(15);
    const applied = await apply(t, out);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.report).toMatchObject({
      outcome: 'completed',
      totals: { planned: 15, done: 15, failed: 0 },
    });

    expect(await vaProvider(t, ready)).toBe('MdeTvm');
    expect(await vaProvider(t, p1)).toBe('MdeTvm');
    expect(await vaProvider(t, noScanner)).toBe('MdeTvm');
    expect(await vaProvider(t, byol)).toBeNull();
    expect(await endpointProtection(t, p1)).toBe(true);
    // The Arc machine needs the MDE sensor: agentless scanning covers Azure VMs only.
    expect(await endpointProtection(t, ready)).toBe(true);
    expect(await agentlessScanning(t, noScanner)).toBe('True');
    expect(await connectorVa(t, gcp)).toEqual({ enabled: true, type: 'TVM' });
    expect(await connectorVa(t, aws)).toEqual({ enabled: true, type: 'TVM' });
    for (const machine of [vm1, vm2, arc, partnerVm, p1Vm]) expect(await hasQualys(t, machine)).toBe(false);
    expect(await legacyVaNames(t, vm1)).toEqual([]);
    expect(await legacyVaNames(t, arc)).toEqual([]);
    expect(await extensionsOf(t, vm1)).toEqual([
      { name: 'MDE', publisher: EXTENSIONS.mdeLinux.publisher, type: 'MDE.Linux' },
    ]);
    expect(await extensionsOf(t, partnerVm)).toEqual([
      { name: 'QualysAgent', publisher: 'Qualys', type: 'QualysAgentLinux' },
    ]);
    expect(await extensionsOf(t, byolVm)).toEqual([
      { name: 'QualysAgent', publisher: 'Qualys', type: 'QualysAgentLinux' },
    ]);

    // Per subscription, the journal's intents follow the phases: prerequisites, setting, connectors,
    // legacy resources, extensions.
    const journal = new BetterSqlite3(defaultJournalPath(out), { readonly: true });
    const kindsInOrder = (subscriptionId: string) =>
      journal
        .prepare<[string], { kind: string }>(
          `SELECT s.kind FROM entries e JOIN steps s ON s.step = e.step
           WHERE e.phase = 'intent' AND s.subscription_id = ? ORDER BY e.seq`,
        )
        .all(subscriptionId)
        .map((row) => row.kind)
        .filter((kind, index, kinds) => kinds[index - 1] !== kind);
    expect(kindsInOrder(ready)).toEqual([
      'enableWdatp',
      'setVaProvider',
      'flipConnector',
      'deleteLegacyVa',
      'deleteQualysExtension',
    ]);
    expect(kindsInOrder(p1)).toEqual(['enableWdatp', 'setVaProvider', 'deleteQualysExtension']);
    expect(kindsInOrder(noScanner)).toEqual(['enableAgentless', 'setVaProvider']);
    journal.close();

    const again = await plan(t, { scope, fixPrerequisites: true });
    expect(again.plan!.actions).toEqual([]);
    expect(again.plan!.skipped.map((item) => item.reason)).toEqual(['byolKeepsPartner']);

    const reapplied = await apply(t, out);
    expect(reapplied.code).toBe(0);
    expect(reapplied.report.totals).toMatchObject({ alreadyDone: 15, done: 0 });

    const shown = await status(out);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/2 runs; last run 2 started .*, ended completed/);
    expect(shown.stdout).toMatch(/deleteQualysExtension\s+5\s+5\s+0\s+0\s+0\s+0/);
    expect(shown.stdout).toMatch(/total\s+15\s+15\s+0\s+0\s+0\s+0/);
    const json = JSON.parse((await status(out, { json: true })).stdout);
    expect(json.totals).toEqual({ declared: 15, done: 15, failed: 0, skipped: 0, unfinished: 0, pending: 0 });
  });

  it('refuses a stale plan with exit 3, naming what changed, and changes nothing', async () => {
    const id = await subscription(t, nextId());
    await serversPlan(t, id, 'P2');
    const machine = await vm(t, id, 'vm-stale', { extensions: [EXTENSIONS.qualysLinux] });
    const gcp = await connector(t, id, 'gcp-stale', { va: 'Qualys' });
    const { out } = await planFile([id]);

    const deallocate = await t.inject({
      method: 'POST',
      url: `${machine}/deallocate?api-version=2024-03-01`,
    });
    expect(deallocate.status).toBe(202);
    await expect.poll(() => powerState(t, machine)).toBe('deallocated');
    const patched = await t.inject({
      method: 'PATCH',
      url: `${gcp}?api-version=2023-10-01-preview`,
      body: { tags: { owner: 'someone-else' } },
    });
    expect(patched.status).toBe(200);

    const refused = await apply(t, out, { json: false });
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(/refused: the plan is stale/);
    expect(refused.stderr).toMatch(
      /ERR_VAPLANE_STALE_PLAN {2}The estate changed since .* \(2 changes\); nothing was applied\./,
    );
    expect(refused.stderr).toContain(
      `- deleteQualysExtension ${machine}/extensions/LinuxAgent: VM 'vm-stale' is now deallocated (the plan saw running)`,
    );
    expect(refused.stderr).toMatch(
      /- flipConnector .*gcp-stale: connector .* changed: its ETag is ".*" \(the plan saw ".*"\)/,
    );
    expect(refused.stderr).toContain(
      'hint: run `vaplane transition plan` again: the estate changed since the plan.',
    );
    expect(await vaProvider(t, id)).toBeNull();
    expect(await connectorVa(t, gcp)).toEqual({ enabled: true, type: 'Qualys' });
  });

  it('skips machines that are not running; --start-stopped starts them, cleans them and returns each to its power state', async () => {
    const id = await subscription(t, nextId());
    await serversPlan(t, id, 'P2');
    const deallocated = await vm(t, id, 'vm-deallocated', {
      powerState: 'deallocated',
      extensions: [EXTENSIONS.qualysLinux],
    });
    const stopped = await vm(t, id, 'vm-stopped', {
      powerState: 'stopped',
      extensions: [EXTENSIONS.qualysLinux],
    });
    const { out } = await planFile([id]);

    const first = await apply(t, out);
    expect(first.code).toBe(0);
    expect(first.report.skipped.map((item: any) => [item.reason, item.target])).toEqual([
      ['machineNotRunning', `${deallocated}/extensions/LinuxAgent`],
      ['machineNotRunning', `${stopped}/extensions/LinuxAgent`],
    ]);
    expect(first.report.skipped[0].message).toMatch(
      /VM 'vm-deallocated' is deallocated: skipped \(apply --start-stopped/,
    );
    expect(await hasQualys(t, deallocated)).toBe(true);

    const second = await apply(t, out, { startStopped: true });
    expect(second.code).toBe(0);
    expect(second.report.totals).toMatchObject({ planned: 3, alreadyDone: 1, done: 2 });
    expect(second.report.machines).toEqual([
      { machineId: deallocated, started: true, restoredTo: 'deallocated', outcome: 'done' },
      { machineId: stopped, started: true, restoredTo: 'stopped', outcome: 'done' },
    ]);
    expect(await hasQualys(t, deallocated)).toBe(false);
    expect(await hasQualys(t, stopped)).toBe(false);
    expect(await powerState(t, deallocated)).toBe('deallocated');
    expect(await powerState(t, stopped)).toBe('stopped');
    const operations = await operationCounts(t);
    for (const machine of [deallocated, stopped]) {
      expect(operations.get(`compute.virtualMachine.power ${machine.toLowerCase()}`)).toBe(2);
      expect(
        operations.get(`compute.vmExtension.delete ${machine.toLowerCase()}/extensions/linuxagent`),
      ).toBe(1);
    }
    const again = await plan(t, { scope: [id] });
    expect(again.plan!.actions).toEqual([]);
    expect(again.plan!.skipped).toEqual([]);
  });

  it('--dry-run checks the plan against the estate, shows what would run and changes nothing', async () => {
    const id = await subscription(t, nextId());
    await serversPlan(t, id, 'P2');
    const machine = await vm(t, id, 'vm-dry', { extensions: [EXTENSIONS.qualysLinux] });
    const { out } = await planFile([id]);
    const dry = await apply(t, out, { dryRun: true });
    expect(dry.code).toBe(0);
    expect(dry.report.outcome).toBe('dryRun');
    expect(dry.report.wouldRun.map((item: any) => `${item.kind} ${item.decision}`)).toEqual([
      'setVaProvider run',
      'deleteQualysExtension run',
    ]);
    expect(existsSync(defaultJournalPath(out))).toBe(false);
    expect(await vaProvider(t, id)).toBeNull();
    expect(await hasQualys(t, machine)).toBe(true);
    const printed = await apply(t, out, { dryRun: true, json: false });
    expect(printed.stdout).toMatch(/dry run: nothing was changed/);
    expect(printed.stdout).toMatch(/deleteQualysExtension\s+1\s+0\s+1/);
  });

  it('--canary applies to the first subscriptions; when they fail past the threshold the rest waits (exit 4)', async () => {
    const canary = await subscription(t, nextId());
    await serversPlan(t, canary, 'P2');
    const locked = await lockedVm(t, canary, 'vm-locked');
    const rest = await subscription(t, nextId());
    await serversPlan(t, rest, 'P2');
    const restVm = await vm(t, rest, 'vm-rest', { extensions: [EXTENSIONS.qualysLinux] });
    const { out } = await planFile([canary, rest]);

    const stopped = await apply(t, out, { canary: 1, failureThreshold: 10, json: false });
    expect(stopped.code).toBe(4);
    expect(stopped.stdout).toMatch(/canary wave: 1 subscriptions, 2 actions, 1 failed — stopped/);
    expect(stopped.stdout).toMatch(
      /deleteQualysExtension .*vm-locked\/extensions\/LinuxAgent: 409 OperationNotAllowed/,
    );
    expect(stopped.stdout).toMatch(
      /1 of the canary wave's 2 actions failed, more than the --failure-threshold of 10%/,
    );
    expect(stopped.stderr).toMatch(/hint: run `vaplane transition apply .*` again to resume/);
    expect(await vaProvider(t, canary)).toBe('MdeTvm');
    expect(await hasQualys(t, locked)).toBe(true);
    expect(await vaProvider(t, rest)).toBeNull();
    expect(await hasQualys(t, restVm)).toBe(true);

    // Without a threshold the run goes on: the rest is applied, the failure is retried (and fails again).
    const resumed = await apply(t, out, { canary: 1 });
    expect(resumed.code).toBe(1);
    expect(resumed.report.waves.map((wave: any) => [wave.name, wave.subscriptions, wave.failed])).toEqual([
      ['canary', 1, 1],
      ['rest', 1, 0],
    ]);
    expect(resumed.report.totals).toMatchObject({ alreadyDone: 1, done: 2, failed: 1 });
    expect(await vaProvider(t, rest)).toBe('MdeTvm');
    expect(await hasQualys(t, restVm)).toBe(false);
  });

  it('--failure-threshold stops a wave once its failed share passes it; nothing new starts', async () => {
    const ids = [
      await subscription(t, nextId()),
      await subscription(t, nextId()),
      await subscription(t, nextId()),
    ];
    for (const id of ids) {
      await serversPlan(t, id, 'P2');
      await lockedVm(t, id, `vm-locked-${id.slice(0, 8)}`);
    }
    const { out } = await planFile(ids);
    // One subscription at a time, so the first one's failure is known before the others start.
    const stopped = await apply(t, out, { failureThreshold: 15, maxConcurrency: 1 });
    expect(stopped.code).toBe(4);
    expect(stopped.report.outcome).toBe('thresholdStop');
    expect(stopped.report.totals).toMatchObject({ planned: 6, done: 1, failed: 1, notStarted: 4 });
    expect(stopped.report.stoppedBecause).toMatch(
      /1 of the all wave's 6 actions failed, more than the --failure-threshold of 15%/,
    );
    expect(await vaProvider(t, ids[1]!)).toBeNull();
    expect(await vaProvider(t, ids[2]!)).toBeNull();

    const unbounded = await apply(t, out);
    expect(unbounded.code).toBe(1);
    expect(unbounded.report.totals).toMatchObject({ alreadyDone: 1, done: 2, failed: 3 });
    expect(await vaProvider(t, ids[2]!)).toBe('MdeTvm');
  });
});
