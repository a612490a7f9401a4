/**
 * `vaplane transition verify` against a real vaplane server over HTTPS: an estate that has not moved
 * is reported incomplete with what is missing, the transition's steps done through the API make it
 * complete, BYOL agents never count against it, a deallocated VM that keeps its Qualys extension is
 * incomplete until the extension is gone, scopes resolve through management groups, and the reads
 * are lists (no per-machine assessment GETs). The command's exit codes are checked on the real CLI.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vmExtensionRecord } from '../../src/providers/compute/model.js';
import { putResource } from '../../src/store/index.js';
import { applyPlan } from '../../src/transition/apply.js';
import { type CommandStreams, runVerify, scopesOf } from '../../src/transition/cliVerify.js';
import { discoverEstate } from '../../src/transition/discovery.js';
import {
  type ArmClient,
  type ArmClientOptions,
  createArmClient,
  deleteVmExtension,
  getSecurityConnector,
  putSecurityConnector,
  type SecurityConnector,
  setVaProvider,
} from '../../src/transition/index.js';
import { openJournal } from '../../src/transition/journal.js';
import { buildPlan } from '../../src/transition/plan.js';
import {
  type MachineVerification,
  type Verification,
  verifyTransition,
} from '../../src/transition/verify.js';
import {
  arcMachine,
  byolSolution,
  connector,
  defenderSubscription,
  EXTENSIONS,
  GROUP,
  legacyOnboarding,
  resourceGroup,
  serversPlan,
  setting,
  vm,
} from '../support/defender.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { runVaplane } from './vaplaneCli.js';

const COMPUTE = '2024-03-01';
const ARC = '2024-07-10';
const LEGACY_VA = '2020-01-01';
const BYOL_AGENT = { publisher: 'Qualys', type: 'QualysAgentLinux', typeHandlerVersion: '1.6' };

let t: TestServer;
let token: string;

beforeAll(async () => {
  t = await startTestServer();
  token = await t.token();
});
afterAll(() => t.close());

function client(options: ArmClientOptions = {}): ArmClient {
  return createArmClient(
    { kind: 'vaplane', endpoint: t.url, caPath: t.caPath, auth: { token } },
    { polling: { fixedDelayMs: 25 }, ...options },
  );
}

function verify(...scopes: string[]): Promise<Verification> {
  return verifyTransition(client(), scopesOf(scopes));
}

function machine(verification: Verification, id: string): MachineVerification {
  const found = verification.subscriptions
    .flatMap((subscription) => subscription.machines)
    .find((candidate) => candidate.id.toLowerCase() === id.toLowerCase());
  if (!found) throw new Error(`${id} is not in the verification`);
  return found;
}

function codes(problems: readonly { code: string }[]): string[] {
  return problems.map((problem) => problem.code).sort();
}

/** A BYOL Qualys agent, as the partner's own deployment installs it: publisher Qualys, another type. */
async function byolAgent(machineId: string): Promise<void> {
  const [, , subscriptionId, , resourceGroupName] = machineId.split('/');
  await putResource(
    t.server.store.db,
    vmExtensionRecord({
      machineId,
      subscriptionId: subscriptionId!,
      resourceGroup: resourceGroupName!,
      name: 'QualysAgentLinux',
      location: 'westeurope',
      ...BYOL_AGENT,
      now: t.server.services.clock.now().toISOString(),
    }),
  );
}

/** The transition's steps through the ARM client, as apply sends them. */
const steps = {
  async selectMdeTvm(subscriptionId: string) {
    await client().send(setVaProvider(subscriptionId));
  },
  async connectorToTvm(connectorId: string) {
    const arm = client();
    const read = await arm.send<SecurityConnector>(getSecurityConnector(connectorId));
    const body = structuredClone(read.body) as SecurityConnector & {
      properties: { offerings: { vaAutoProvisioning?: { configuration: { type: string } } }[] };
    };
    for (const offering of body.properties.offerings) {
      if (offering.vaAutoProvisioning) offering.vaAutoProvisioning.configuration.type = 'TVM';
    }
    await arm.send(putSecurityConnector(body, read.etag));
  },
  async removeLegacyDefault(machineId: string) {
    const arm = client();
    const reply = await arm.delete(
      `${machineId}/providers/Microsoft.Security/serverVulnerabilityAssessments/default`,
      LEGACY_VA,
    );
    await arm.awaitOperation(reply);
  },
  async removeVmExtension(machineId: string, name: string) {
    const arm = client();
    await arm.awaitOperation(await arm.send(deleteVmExtension(`${machineId}/extensions/${name}`)));
  },
  async removeArcExtension(machineId: string, name: string) {
    const arm = client();
    await arm.awaitOperation(await arm.delete(`${machineId}/extensions/${name}`, ARC));
  },
  async power(machineId: string, action: 'start' | 'deallocate') {
    const arm = client();
    await arm.awaitOperation(await arm.post(`${machineId}/${action}`, COMPUTE));
  },
};

describe('verify on an estate that still runs built-in Qualys', () => {
  let legacy: string;
  let free: string;
  let ids: Record<'qualysVm' | 'stoppedVm' | 'byolAgentVm' | 'arc' | 'freeVm' | 'connector', string>;

  beforeAll(async () => {
    legacy = await defenderSubscription(t);
    await serversPlan(t, legacy, 'P2');
    await setting(t, legacy, 'WDATP', true);
    const qualysVm = await vm(t, legacy, 'app01', { extensions: [EXTENSIONS.qualysLinux] });
    await legacyOnboarding(t, qualysVm, 'Default');
    const stoppedVm = await vm(t, legacy, 'batch01', {
      powerState: 'deallocated',
      extensions: [{ ...EXTENSIONS.qualysLinux, name: 'qualys-va' }],
    });
    const byolAgentVm = await vm(t, legacy, 'partner01');
    await byolAgent(byolAgentVm);
    const arc = await arcMachine(t, legacy, 'onprem01', { extensions: [EXTENSIONS.qualysLinux] });
    const gcp = await connector(t, legacy, 'gcp-prod', { va: 'Qualys' });

    free = await defenderSubscription(t);
    await serversPlan(t, free, 'Free');
    const freeVm = await vm(t, free, 'dev01');
    ids = { qualysVm, stoppedVm, byolAgentVm, arc, freeVm, connector: gcp };
  });

  it('says what is missing, per subscription and machine, and exits 1', async () => {
    const output: string[] = [];
    const io: CommandStreams = {
      stdout: { write: (text) => output.push(text) },
      stderr: { write: () => {} },
    };
    const code = await runVerify(client(), { scopes: scopesOf([legacy, free]) }, io);
    expect(code).toBe(1);
    const printed = output.join('');
    for (const missing of [
      'VaProviderNotMdeTvm',
      'LegacyDefaultResource',
      'LegacyQualysExtension',
      ids.qualysVm,
      ids.stoppedVm,
      ids.arc,
      ids.connector,
    ]) {
      expect(printed).toContain(missing);
    }
    expect(printed).toContain('The transition is not complete');

    const verification = await verify(legacy, free);
    expect(verification.complete).toBe(false);
    expect(verification.summary.subscriptions).toEqual({
      total: 2,
      complete: 0,
      incomplete: 2,
      notApplicable: 0,
    });
    const [first, second] = [legacy, free].map(
      (id) => verification.subscriptions.find((subscription) => subscription.subscriptionId === id)!,
    );
    expect(codes(first!.problems)).toEqual(['VaProviderNotMdeTvm']);
    expect(first!.connectors).toMatchObject([
      { id: ids.connector, state: 'incomplete', vaAutoProvisioning: { enabled: true, type: 'Qualys' } },
    ]);
    expect(codes(machine(verification, ids.qualysVm).problems)).toEqual([
      'LegacyDefaultResource',
      'LegacyQualysExtension',
    ]);
    expect(codes(machine(verification, ids.arc).problems)).toEqual(['LegacyQualysExtension']);
    // The Free subscription's problem says why the plan holds it back.
    expect(second!.problems[0]!.message).toMatch(/Free/);
    expect(machine(verification, ids.freeVm)).toMatchObject({
      state: 'notApplicable',
      problems: [],
      assessment: { code: 'NotApplicable', cause: 'NotCoveredByPlan' },
    });
  });

  it('does not count a BYOL Qualys agent against a machine', async () => {
    const partner = machine(await verify(legacy), ids.byolAgentVm);
    expect(partner.byolQualysAgents).toMatchObject([{ publisher: 'Qualys', type: 'QualysAgentLinux' }]);
    expect(partner.legacyQualysExtensions).toEqual([]);
    expect(partner.problems).toEqual([]);
    expect(partner.state).toBe('complete');
  });

  it('reports a deallocated VM that keeps its Qualys extension as incomplete, whatever its assessment', async () => {
    const stopped = machine(await verify(legacy), ids.stoppedVm);
    expect(stopped).toMatchObject({
      power: 'deallocated',
      state: 'incomplete',
      assessment: { code: 'NotApplicable', cause: 'MachineNotRunning' },
      legacyQualysExtensions: [{ name: 'qualys-va', type: 'LinuxAgent.AzureSecurityCenter' }],
    });
    expect(stopped.problems[0]!.message).toMatch(/deallocated: start it, or run apply with --start-stopped/);
  });

  it('is complete, exit 0, once the transition steps are done through the API', async () => {
    await steps.selectMdeTvm(legacy);
    await steps.selectMdeTvm(free);
    await steps.connectorToTvm(ids.connector);
    await steps.removeLegacyDefault(ids.qualysVm);
    await steps.removeVmExtension(ids.qualysVm, 'LinuxAgent');
    await steps.removeArcExtension(ids.arc, 'LinuxAgent');

    // Everything but the deallocated VM's extension is done: still not complete.
    const almost = await verify(legacy, free);
    expect(almost.complete).toBe(false);
    expect(almost.summary.machines.incomplete).toBe(1);
    expect(machine(almost, ids.stoppedVm).state).toBe('incomplete');

    // As `apply --start-stopped` does it: start, remove, return to deallocated.
    await steps.power(ids.stoppedVm, 'start');
    await steps.removeVmExtension(ids.stoppedVm, 'qualys-va');
    await steps.power(ids.stoppedVm, 'deallocate');

    const done = await verify(legacy, free);
    expect(done.complete).toBe(true);
    expect(done.summary).toMatchObject({
      subscriptions: { total: 2, complete: 2, incomplete: 0 },
      machines: { total: 5, complete: 3, incomplete: 0, notApplicable: 2 },
      connectors: { total: 1, complete: 1, incomplete: 0 },
      problems: {},
    });
    expect(machine(done, ids.qualysVm)).toMatchObject({ state: 'complete', coveredBy: 'mdeTvm' });
    expect(machine(done, ids.arc)).toMatchObject({ state: 'complete', coveredBy: 'mdeTvm' });
    expect(machine(done, ids.stoppedVm)).toMatchObject({ state: 'notApplicable', power: 'deallocated' });
    expect(machine(done, ids.byolAgentVm)).toMatchObject({
      state: 'complete',
      byolQualysAgents: [{ type: 'QualysAgentLinux' }],
    });
  });
});

describe('verify rules beyond the happy path', () => {
  it('keeps a subscription with a BYOL VA solution on its partner without MdeTvm, as the plan does', async () => {
    const byol = await defenderSubscription(t);
    await serversPlan(t, byol, 'P2');
    await byolSolution(t, byol, 'qualys-byol', { autoDeploy: true });
    const partnerVm = await vm(t, byol, 'erp01');
    await byolAgent(partnerVm);
    const verification = await verify(byol);
    const [subscription] = verification.subscriptions;
    expect(subscription).toMatchObject({
      state: 'complete',
      byolSolutions: ['qualys-byol (qualys.qualysAgent)'],
    });
    expect(subscription!.selectedProvider).toBeUndefined();
    expect(machine(verification, partnerVm)).toMatchObject({ state: 'complete', coveredBy: 'byol' });
  });

  it('calls a machine no VA solution reaches incomplete (Unhealthy), even with MdeTvm selected', async () => {
    const p1 = await defenderSubscription(t);
    await serversPlan(t, p1, 'P1');
    await steps.selectMdeTvm(p1);
    const bare = await vm(t, p1, 'web01');
    const verification = await verify(p1);
    expect(verification.complete).toBe(false);
    expect(machine(verification, bare)).toMatchObject({
      state: 'incomplete',
      assessment: { code: 'Unhealthy', cause: 'VaScannerNotInstalled' },
      problems: [{ code: 'AssessmentUnhealthy' }],
    });
  });

  it('accepts a connector whose VA auto-provisioning is off, and refuses one on with no TVM', async () => {
    const sub = await defenderSubscription(t);
    await serversPlan(t, sub, 'P2');
    await steps.selectMdeTvm(sub);
    const off = await connector(t, sub, 'aws-off', { cloud: 'AWS', va: 'Qualys' });
    const offConnector = await client().send<SecurityConnector>(getSecurityConnector(off));
    const body = structuredClone(offConnector.body) as SecurityConnector & {
      properties: { offerings: { vaAutoProvisioning?: { enabled: boolean } }[] };
    };
    body.properties.offerings[0]!.vaAutoProvisioning!.enabled = false;
    await client().send(putSecurityConnector(body, offConnector.etag));
    const on = await connector(t, sub, 'gcp-on', { va: 'Qualys' });
    const { subscriptions } = await verify(sub);
    const connectors = subscriptions[0]!.connectors;
    expect(connectors.find((item) => item.id === off)).toMatchObject({
      state: 'complete',
      vaAutoProvisioning: { enabled: false, type: 'Qualys' },
    });
    expect(connectors.find((item) => item.id === on)).toMatchObject({
      state: 'incomplete',
      problems: [{ code: 'ConnectorVaNotTvm' }],
    });
  });

  it('finds the subscriptions below a management group at any depth, and only those', async () => {
    const suffix = randomUUID().slice(0, 8);
    const parent = `mg-verify-${suffix}`;
    const child = `mg-verify-child-${suffix}`;
    for (const [name, parentName] of [
      [parent, t.server.tenantId],
      [child, parent],
    ] as const) {
      const reply = await t.inject({
        method: 'PUT',
        url: `/providers/Microsoft.Management/managementGroups/${name}?api-version=2021-04-01`,
        body: {
          properties: {
            details: { parent: { id: `/providers/Microsoft.Management/managementGroups/${parentName}` } },
          },
        },
      });
      expect(reply.status, reply.text).toBeLessThan(300);
    }
    const inParent = randomUUID();
    const inChild = randomUUID();
    for (const [subscriptionId, managementGroup] of [
      [inParent, parent],
      [inChild, child],
    ] as const) {
      await addSubscription(t.server, { subscriptionId, managementGroup });
      await resourceGroup(t, subscriptionId, GROUP);
      await steps.selectMdeTvm(subscriptionId);
    }
    await vm(t, inChild, 'leaf01');
    token = await t.token();
    const verification = await verify(`mg:${parent}`);
    expect(verification.scope).toEqual([`mg:${parent}`]);
    expect(verification.subscriptions.map((subscription) => subscription.subscriptionId).sort()).toEqual(
      [inParent, inChild].sort(),
    );
    // Free everywhere: nothing applies, the setting is there: complete.
    expect(verification.complete).toBe(true);
    expect(verification.summary.machines).toMatchObject({ total: 1, notApplicable: 1 });
  });

  it('reads lists, not each machine’s assessment: two reads per machine, a constant number per subscription', async () => {
    const sub = await defenderSubscription(t);
    await serversPlan(t, sub, 'P2');
    await setting(t, sub, 'WDATP', true);
    await steps.selectMdeTvm(sub);
    for (let index = 0; index < 12; index++) await vm(t, sub, `node${String(index).padStart(2, '0')}`);
    await arcMachine(t, sub, 'edge01');
    const paths: string[] = [];
    const recorder: PipelinePolicy = {
      name: 'testRecorder',
      async sendRequest(request, next) {
        paths.push(new URL(request.url).pathname.toLowerCase());
        return next(request);
      },
    };
    const verification = await verifyTransition(
      client({ additionalPolicies: [{ policy: recorder, position: 'perCall' }] }),
      scopesOf([sub]),
    );
    expect(verification.complete).toBe(true);
    const machines = 13;
    const perMachine = paths.filter((path) => /\/(virtualmachines|machines)\/[^/]+\//.test(path));
    expect(perMachine).toHaveLength(2 * machines);
    expect(paths.filter((path) => path.includes('/assessments/'))).toEqual([]);
    expect(paths.filter((path) => path.endsWith('/providers/microsoft.security/assessments'))).toHaveLength(
      1,
    );
    expect(paths.length - perMachine.length).toBeLessThanOrEqual(10);
  });

  it('reports a subscription it cannot see as incomplete rather than stopping', async () => {
    const unknown = randomUUID();
    const verification = await verify(unknown);
    expect(verification.complete).toBe(false);
    expect(verification.subscriptions).toMatchObject([
      { subscriptionId: unknown, state: 'incomplete', problems: [{ code: 'SubscriptionUnreadable' }] },
    ]);
  });
});

describe('verify after the plan and apply of the other transition commands', () => {
  it('agrees with what they leave alone: complete after plan → apply --start-stopped', async () => {
    const legacy = await defenderSubscription(t);
    await serversPlan(t, legacy, 'P2');
    await setting(t, legacy, 'WDATP', true);
    const onboarded = await vm(t, legacy, 'app01', { extensions: [EXTENSIONS.qualysLinux] });
    await legacyOnboarding(t, onboarded, 'Default');
    const stopped = await vm(t, legacy, 'batch01', {
      powerState: 'deallocated',
      extensions: [EXTENSIONS.qualysLinux],
    });
    await arcMachine(t, legacy, 'onprem01', { extensions: [EXTENSIONS.qualysLinux] });
    await connector(t, legacy, 'gcp-prod', { va: 'Qualys' });
    const partner = await defenderSubscription(t);
    await serversPlan(t, partner, 'P2');
    await byolSolution(t, partner, 'qualys-byol');
    await byolAgent(await vm(t, partner, 'erp01'));

    const scopes = scopesOf([legacy, partner]);
    expect((await verifyTransition(client(), scopes)).complete).toBe(false);
    const plan = buildPlan(await discoverEstate(client(), { scopes }), {
      fixPrerequisites: null,
      now: new Date(),
    });
    const journal = openJournal(join(t.dir, `${plan.planId}.journal.sqlite`), {
      planId: plan.planId,
      planFile: 'plan.json',
      endpoint: t.url,
      runOptions: {},
    });
    const applied = await applyPlan({
      client: client(),
      plan,
      journal,
      startStopped: true,
      polling: { fixedDelayMs: 25 },
    }).finally(() => journal.close());
    expect(applied.failures).toEqual([]);
    const verification = await verifyTransition(client(), scopes);
    expect(verification.summary.problems).toEqual({});
    expect(verification.complete).toBe(true);
    expect(machine(verification, stopped)).toMatchObject({ state: 'notApplicable', power: 'deallocated' });
  });
});

describe('verify before the Qualys retirement (server clock at 2024-03-01)', () => {
  it('calls a machine still Healthy through built-in Qualys (cause default) incomplete', async () => {
    const early = await startTestServer({ now: new Date('2024-03-01T00:00:00Z') });
    try {
      const sub = await defenderSubscription(early);
      await serversPlan(early, sub, 'P2');
      const onQualys = await vm(early, sub, 'legacy01', { extensions: [EXTENSIONS.qualysLinux] });
      await legacyOnboarding(early, onQualys, 'Default');
      const verification = await verifyTransition(
        createArmClient({
          kind: 'vaplane',
          endpoint: early.url,
          caPath: early.caPath,
          auth: { token: await early.token() },
        }),
        scopesOf([sub]),
      );
      expect(machine(verification, onQualys)).toMatchObject({
        state: 'incomplete',
        coveredBy: 'default',
        assessment: { code: 'Healthy', cause: 'default' },
      });
      expect(codes(machine(verification, onQualys).problems)).toEqual([
        'AssessmentNotMdeTvm',
        'LegacyDefaultResource',
        'LegacyQualysExtension',
      ]);
    } finally {
      await early.close();
    }
  });
});

describe('vaplane transition verify, the command', () => {
  it('exits 0 when complete, 1 when not, 2 on a usage error', async () => {
    const done = await defenderSubscription(t);
    await steps.selectMdeTvm(done);
    const todo = await defenderSubscription(t);
    const target = ['--endpoint', t.url, '--ca', t.caPath];
    const env = { VAPLANE_TOKEN: token };

    const complete = await runVaplane(['transition', 'verify', '--scope', done, ...target], env);
    expect(complete.stderr).toBe('');
    expect(complete.code).toBe(0);
    expect(complete.stdout).toContain('The transition is complete');

    const incomplete = await runVaplane(
      ['transition', 'verify', '--scope', done, todo, '--json', ...target],
      env,
    );
    expect(incomplete.code).toBe(1);
    const verification = JSON.parse(incomplete.stdout) as Verification;
    expect(verification.summary.subscriptions).toMatchObject({ total: 2, complete: 1, incomplete: 1 });

    const badScope = await runVaplane(['transition', 'verify', '--scope', 'everything', ...target], env);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain("'everything' is not a scope");
    const noScope = await runVaplane(['transition', 'verify', ...target], env);
    expect(noScope.code).toBe(2);
    const noCredential = await runVaplane(['transition', 'verify', '--scope', 'all', ...target]);
    expect(noCredential.code).toBe(2);
    expect(noCredential.stderr).toContain('give --token');
  });
});
