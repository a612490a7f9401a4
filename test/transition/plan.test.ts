/**
 * `vaplane transition plan` against a real vaplane server over HTTPS: what a mixed estate turns into
 * (actions with why and observed state, skips with reasons), prerequisites and --fix-prerequisites,
 * BYOL left alone, management-group scopes, the summary and the exit codes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan, type PlannedAction, parsePlan, type TransitionPlan } from '../../src/transition/index.js';
import {
  arcMachine,
  byolSolution,
  connector,
  EXTENSIONS,
  legacyOnboarding,
  selectMdeTvm,
  serversPlan,
  setting,
  vm,
} from '../support/defender.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { byolAgent, plan, subscription, workDir } from './world.js';

const P2_AGENTLESS = 'a1000000-0000-4000-8000-000000000001';
const P1_NO_WDATP = 'a2000000-0000-4000-8000-000000000002';
const FREE = 'a3000000-0000-4000-8000-000000000003';
const BYOL = 'a4000000-0000-4000-8000-000000000004';
const P2_NO_SCANNER = 'a5000000-0000-4000-8000-000000000005';
const IN_CHILD_GROUP = 'a6000000-0000-4000-8000-000000000006';
const IN_PARENT_GROUP = 'a7000000-0000-4000-8000-000000000007';

describe('vaplane transition plan', () => {
  let t: TestServer;
  const ids: Record<string, string> = {};
  let connectors: { qualys: string; tvm: string };

  async function group(name: string, parent?: string) {
    const response = await t.inject({
      method: 'PUT',
      url: `/providers/Microsoft.Management/managementGroups/${name}?api-version=2021-04-01`,
      body: {
        properties: {
          displayName: name,
          ...(parent
            ? { details: { parent: { id: `/providers/Microsoft.Management/managementGroups/${parent}` } } }
            : {}),
        },
      },
    });
    expect(response.status).toBe(200);
  }

  beforeAll(async () => {
    t = await startTestServer();
    // P2 with agentless scanning: the showcase of every machine situation.
    await subscription(t, P2_AGENTLESS);
    await serversPlan(t, P2_AGENTLESS, 'P2');
    ids.running = await vm(t, P2_AGENTLESS, 'vm-running', {
      os: 'windows',
      // An unusual instance name: Qualys is found by publisher and type.
      extensions: [{ ...EXTENSIONS.qualysWindows, name: 'QualysVA' }, EXTENSIONS.mdeWindows],
    });
    await legacyOnboarding(t, ids.running, 'Default');
    ids.deallocated = await vm(t, P2_AGENTLESS, 'vm-deallocated', {
      powerState: 'deallocated',
      extensions: [EXTENSIONS.qualysLinux],
    });
    ids.byolVm = await vm(t, P2_AGENTLESS, 'vm-byol-agent');
    await byolAgent(t, ids.byolVm);
    ids.mdeTvm = await vm(t, P2_AGENTLESS, 'vm-mdetvm', { extensions: [EXTENSIONS.mdeLinux] });
    await legacyOnboarding(t, ids.mdeTvm, 'MdeTvm');
    ids.arc = await arcMachine(t, P2_AGENTLESS, 'arc-connected', { extensions: [EXTENSIONS.qualysLinux] });
    ids.arcOff = await arcMachine(t, P2_AGENTLESS, 'arc-disconnected', {
      status: 'Disconnected',
      extensions: [EXTENSIONS.qualysLinux],
    });
    connectors = {
      qualys: await connector(t, P2_AGENTLESS, 'gcp-qualys', { cloud: 'GCP', va: 'Qualys' }),
      tvm: await connector(t, P2_AGENTLESS, 'aws-tvm', { cloud: 'AWS', va: 'TVM' }),
    };
    // Plan 1 without Endpoint protection.
    await subscription(t, P1_NO_WDATP);
    await serversPlan(t, P1_NO_WDATP, 'P1');
    ids.p1Vm = await vm(t, P1_NO_WDATP, 'vm-p1', { extensions: [EXTENSIONS.qualysLinux] });
    // Free.
    await subscription(t, FREE);
    ids.freeVm = await vm(t, FREE, 'vm-free', { extensions: [EXTENSIONS.qualysLinux] });
    ids.freeStopped = await vm(t, FREE, 'vm-free-stopped', {
      powerState: 'stopped',
      extensions: [EXTENSIONS.qualysLinux],
    });
    // BYOL Qualys partner solution on a P2 subscription, one VM still carrying the built-in extension.
    await subscription(t, BYOL);
    await serversPlan(t, BYOL, 'P2');
    await byolSolution(t, BYOL, 'qualys-byol');
    ids.byolOnly = await vm(t, BYOL, 'vm-partner');
    ids.byolBuiltIn = await vm(t, BYOL, 'vm-partner-and-builtin', { extensions: [EXTENSIONS.qualysLinux] });
    for (const machine of [ids.byolOnly, ids.byolBuiltIn]) await byolAgent(t, machine);
    // Plan 2 with neither scanner on.
    await subscription(t, P2_NO_SCANNER);
    await serversPlan(t, P2_NO_SCANNER, 'P2', { agentless: false });
    // Management groups: parent → child.
    await group('mg-parent');
    await group('mg-child', 'mg-parent');
    await subscription(t, IN_CHILD_GROUP, { managementGroup: 'mg-child' });
    await subscription(t, IN_PARENT_GROUP, { managementGroup: 'mg-parent' });
    for (const id of [IN_CHILD_GROUP, IN_PARENT_GROUP]) {
      await serversPlan(t, id, 'P2');
      await setting(t, id, 'WDATP', true);
    }
    await selectMdeTvm(t, IN_CHILD_GROUP);
  });

  afterAll(() => t.close());

  const actionsOf = (transitionPlan: TransitionPlan, subscriptionId: string) =>
    transitionPlan.actions.filter((action) => action.subscriptionId === subscriptionId);
  const find = (transitionPlan: TransitionPlan, kind: PlannedAction['kind'], target: string) =>
    transitionPlan.actions.find(
      (action) => action.kind === kind && action.target.toLowerCase() === target.toLowerCase(),
    );

  it('plans every action of a mixed subscription in apply order, each with why and the state it saw', async () => {
    const { code, plan: made } = await plan(t, { scope: [P2_AGENTLESS] });
    expect(code).toBe(0);
    const actions = actionsOf(made!, P2_AGENTLESS);
    expect(actions.map((action) => action.kind)).toEqual([
      'setVaProvider',
      'flipConnector',
      'deleteLegacyVa',
      'deleteQualysExtension',
      'deleteQualysExtension',
    ]);
    const setting = find(
      made!,
      'setVaProvider',
      `/subscriptions/${P2_AGENTLESS}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
    );
    expect(setting).toMatchObject({ observed: { selectedProvider: null } });
    expect(setting!.why).toMatch(/No VA provider is selected/);
    expect(setting!.request).toBe(
      `PUT /subscriptions/${P2_AGENTLESS}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
    );
    const flip = find(made!, 'flipConnector', connectors.qualys);
    expect(flip?.observed).toMatchObject({
      offeringType: 'DefenderForServersGcp',
      vaAutoProvisioning: { enabled: true, type: 'Qualys' },
      etag: expect.stringMatching(/^".+"$/),
    });
    expect(find(made!, 'flipConnector', connectors.tvm)).toBeUndefined();
    expect(
      find(
        made!,
        'deleteLegacyVa',
        `${ids.running}/providers/Microsoft.Security/serverVulnerabilityAssessments/Default`,
      ),
    ).toMatchObject({
      machineId: ids.running,
      observed: { name: 'Default', provisioningState: 'Succeeded' },
    });
    expect(find(made!, 'deleteQualysExtension', `${ids.running}/extensions/QualysVA`)?.observed).toEqual({
      extension: {
        name: 'QualysVA',
        publisher: 'Qualys',
        type: 'WindowsAgent.AzureSecurityCenter',
        provisioningState: 'Succeeded',
      },
      machine: { kind: 'virtualMachine', powerState: 'running' },
    });
    expect(find(made!, 'deleteQualysExtension', `${ids.arc}/extensions/LinuxAgent`)).toMatchObject({
      observed: { machine: { kind: 'arcMachine', status: 'Connected' } },
      request: expect.stringMatching(
        /^DELETE .*Microsoft\.HybridCompute\/machines\/arc-connected\/extensions\/LinuxAgent\?api-version=2024-07-10$/,
      ),
    });
    // The MdeTvm onboarding, the MDE extension and the AWS connector already on TVM are left alone.
    expect(actions.some((action) => /mdetvm|MDE\.|aws-tvm/i.test(action.target))).toBe(false);
    expect(made!.subscriptions.find((s) => s.subscriptionId === P2_AGENTLESS)?.prerequisites).toEqual({
      status: 'met',
      via: 'agentlessScanning',
    });
  });

  it('skips a machine that is not running with the removal --start-stopped would make, and a disconnected Arc machine with its reason', async () => {
    const { plan: made } = await plan(t, { scope: [P2_AGENTLESS] });
    const skipped = made!.skipped.filter((item) => item.subscriptionId === P2_AGENTLESS);
    expect(skipped.map((item) => item.reason).sort()).toEqual([
      'arcNeedsEndpointProtection',
      'arcNotConnected',
      'machineNotRunning',
    ]);
    // Agentless scanning reaches Azure VMs, not the subscription's own Arc machines (§11).
    expect(skipped.find((item) => item.reason === 'arcNeedsEndpointProtection')?.message).toMatch(
      /agentless scanning covers Azure VMs only: the 2 Arc machines get no MDVM scanner/,
    );
    const notRunning = skipped.find((item) => item.reason === 'machineNotRunning')!;
    expect(notRunning.message).toMatch(/VM 'vm-deallocated' is deallocated/);
    expect(notRunning.deferred).toMatchObject({
      kind: 'deleteQualysExtension',
      target: `${ids.deallocated}/extensions/LinuxAgent`,
      observed: { machine: { kind: 'virtualMachine', powerState: 'deallocated' } },
    });
    const disconnected = skipped.find((item) => item.reason === 'arcNotConnected')!;
    expect(disconnected.target).toBe(`${ids.arcOff}/extensions/LinuxAgent`);
    expect(disconnected.message).toMatch(/Disconnected/);
    expect(disconnected.deferred).toBeUndefined();
  });

  it('never plans a BYOL Qualys agent, and leaves the VA setting of a BYOL subscription unset', async () => {
    const { plan: made } = await plan(t, { scope: ['all'] });
    const everything = [
      ...made!.actions.map((action) => action.target),
      ...made!.skipped.flatMap((item) => [item.target, item.deferred?.target ?? '']),
    ];
    expect(everything.some((target) => /\/extensions\/QualysAgent/i.test(target))).toBe(false);
    expect(actionsOf(made!, BYOL).map((action) => `${action.kind} ${action.target}`)).toEqual([
      `deleteQualysExtension ${ids.byolBuiltIn}/extensions/LinuxAgent`,
    ]);
    const byol = made!.skipped.find((item) => item.subscriptionId === BYOL)!;
    expect(byol.reason).toBe('byolKeepsPartner');
    expect(byol.message).toMatch(/'qualys-byol' \(qualys\.qualysAgent\)/);
    expect(made!.subscriptions.find((s) => s.subscriptionId === BYOL)?.observed.byolSolutions).toEqual([
      { name: 'qualys-byol', template: 'qualys.qualysAgent' },
    ]);
  });

  it('blocks MDVM on a Free subscription and on Plan 1 without Endpoint protection; the retired Qualys is removed all the same', async () => {
    const { plan: made } = await plan(t, { scope: [FREE, P1_NO_WDATP, P2_NO_SCANNER] });
    expect(made!.actions.map((action) => `${action.kind} ${action.target}`)).toEqual([
      `deleteQualysExtension ${ids.p1Vm}/extensions/LinuxAgent`,
      `deleteQualysExtension ${ids.freeVm}/extensions/LinuxAgent`,
    ]);
    const blocked = Object.fromEntries(
      made!.skipped
        .filter((item) => item.reason === 'subscriptionBlocked')
        .map((item) => [item.subscriptionId, item]),
    );
    expect(blocked[FREE]?.message).toMatch(
      /Defender for Servers is off \(Free\).* The built-in Qualys leftovers are removed all the same: the scanner is retired\./,
    );
    expect(blocked[FREE]?.heldBack).toEqual({ setVaProvider: 1 });
    expect(
      made!.skipped.find((item) => item.subscriptionId === FREE && item.deferred)?.deferred?.target,
    ).toBe(`${ids.freeStopped}/extensions/LinuxAgent`);
    expect(blocked[P1_NO_WDATP]?.message).toMatch(/Plan 1 .* Endpoint protection \(WDATP\) is off/);
    expect(blocked[P2_NO_SCANNER]?.message).toMatch(
      /Neither Endpoint protection \(WDATP\) nor agentless scanning/,
    );
    expect(blocked[P2_NO_SCANNER]?.heldBack).toEqual({ setVaProvider: 1 });
  });

  it('before the Qualys retirement a blocked subscription holds its cleanup back too: the scanner still works there', () => {
    const machine = {
      kind: 'virtualMachine' as const,
      id: `/subscriptions/${FREE}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm`,
      name: 'vm',
      powerState: 'running',
      extensions: [
        {
          id: `/subscriptions/${FREE}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/extensions/q`,
          name: 'q',
          ...EXTENSIONS.qualysLinux,
        },
      ],
      legacyVa: [],
    };
    const discovery = {
      endpoint: 'https://management.azure.com',
      scopes: ['all'],
      subscriptions: [
        {
          subscriptionId: FREE,
          displayName: 'free',
          state: 'Enabled',
          vaSetting: null,
          pricing: { pricingTier: 'Standard', subPlan: 'P2', enforce: null, extensions: [] },
          endpointProtection: { enabled: false },
          machines: [machine],
          connectors: [],
          solutions: [],
        },
      ],
      unreadable: [],
      requests: 0,
      durationMs: 0,
    };
    const before = buildPlan(discovery, { fixPrerequisites: null, now: new Date('2024-03-01T00:00:00Z') });
    expect(before.actions).toEqual([]);
    expect(before.skipped).toMatchObject([
      { reason: 'subscriptionBlocked', heldBack: { setVaProvider: 1, deleteQualysExtension: 1 } },
    ]);
    const after = buildPlan(discovery, { fixPrerequisites: null, now: new Date('2024-05-01T00:00:00Z') });
    expect(after.actions.map((action) => action.kind)).toEqual(['deleteQualysExtension']);
  });

  it('--fix-prerequisites adds what the plan allows: Endpoint protection on Plan 1, agentless scanning on Plan 2', async () => {
    const auto = (await plan(t, { scope: [FREE, P1_NO_WDATP, P2_NO_SCANNER], fixPrerequisites: true })).plan!;
    expect(actionsOf(auto, P1_NO_WDATP).map((action) => action.kind)).toEqual([
      'enableWdatp',
      'setVaProvider',
      'deleteQualysExtension',
    ]);
    expect(actionsOf(auto, P1_NO_WDATP)[0]).toMatchObject({
      target: `/subscriptions/${P1_NO_WDATP}/providers/Microsoft.Security/settings/WDATP`,
      observed: { endpointProtection: { enabled: false }, serversPlan: 'P1' },
    });
    expect(actionsOf(auto, P2_NO_SCANNER).map((action) => action.kind)).toEqual([
      'enableAgentless',
      'setVaProvider',
    ]);
    expect(actionsOf(auto, P2_NO_SCANNER)[0]).toMatchObject({
      observed: { pricingTier: 'Standard', subPlan: 'P2', agentlessVmScanning: false },
    });
    expect(auto.skipped.find((item) => item.subscriptionId === FREE)?.reason).toBe('subscriptionBlocked');

    // With Arc machines to cover, Plan 2 needs Endpoint protection even where agentless scanning is on.
    const withArc = (await plan(t, { scope: [P2_AGENTLESS], fixPrerequisites: true })).plan!;
    expect(withArc.actions[0]).toMatchObject({
      kind: 'enableWdatp',
      why: expect.stringMatching(/the 2 Arc machines are scanned through the MDE sensor/),
    });
    expect(withArc.skipped.some((item) => item.reason === 'arcNeedsEndpointProtection')).toBe(false);

    const endpoint = (await plan(t, { scope: [P2_NO_SCANNER], fixPrerequisites: 'endpoint-protection' }))
      .plan!;
    expect(endpoint.actions.map((action) => action.kind)).toEqual(['enableWdatp', 'setVaProvider']);
    const agentless = (await plan(t, { scope: [P1_NO_WDATP], fixPrerequisites: 'agentless' })).plan!;
    expect(agentless.actions.map((action) => action.kind)).toEqual(['deleteQualysExtension']);
    expect(agentless.skipped[0]?.message).toMatch(/Plan 1 has no agentless scanning/);
  });

  it('a management-group scope covers every subscription below it, and only those', async () => {
    for (const scope of ['mg:mg-parent', '/providers/Microsoft.Management/managementGroups/mg-parent']) {
      const { plan: made } = await plan(t, { scope: [scope] });
      expect(made!.subscriptions.map((s) => s.subscriptionId)).toEqual([IN_CHILD_GROUP, IN_PARENT_GROUP]);
      expect(made!.actions.map((action) => `${action.kind} ${action.subscriptionId}`)).toEqual([
        `setVaProvider ${IN_PARENT_GROUP}`,
      ]);
    }
    const child = (await plan(t, { scope: ['mg:mg-child'] })).plan!;
    expect(child.subscriptions.map((s) => s.subscriptionId)).toEqual([IN_CHILD_GROUP]);
    expect(child.actions).toEqual([]);
  });

  it('writes a versioned plan file and prints a summary; a scope it cannot see is reported', async () => {
    const dir = workDir();
    const out = join(dir, 'plan.json');
    const unseen = 'a9000000-0000-4000-8000-000000000009';
    const printed = await plan(t, { scope: [P2_AGENTLESS, unseen], out, json: false });
    expect(printed.code).toBe(0);
    const written = parsePlan(readFileSync(out, 'utf8'), out);
    expect(written.schema).toBe('vaplane.transition.plan/v1');
    expect(written.endpoint).toBe(t.url.replace(/\/$/, ''));
    expect(written.totals.actions).toMatchObject({ setVaProvider: 1, deleteQualysExtension: 2 });
    expect(written.skipped.find((item) => item.subscriptionId === unseen)).toMatchObject({
      reason: 'subscriptionUnreadable',
      message: expect.stringMatching(/cannot see this subscription/),
    });
    expect(printed.stdout).toMatch(/Actions \(5\)/);
    expect(printed.stdout).toMatch(/deleteQualysExtension\s+2\s+1 on Azure VMs, 1 on Arc machines/);
    expect(printed.stdout).toMatch(
      /machineNotRunning\s+1\s+apply --start-stopped starts, cleans and restores them/,
    );
    expect(printed.stdout).toContain(`Wrote ${out}. Review it, then run: vaplane transition apply ${out}`);

    const dry = await plan(t, {
      scope: [P2_AGENTLESS],
      out: join(dir, 'dry.json'),
      dryRun: true,
      json: false,
    });
    expect(dry.stdout).toMatch(/Dry run: no plan written/);
    expect(existsSync(join(dir, 'dry.json'))).toBe(false);
  });

  it('answers a bad scope with a usage error (exit 2)', async () => {
    const bad = await plan(t, { scope: ['not-a-scope'], json: false });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'not-a-scope' is not a scope: give 'all', a management group/);
  });
});
