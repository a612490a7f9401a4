import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import { DEFAULT_TENANT_ID } from '../arm/auth.js';
import { bootstrapTenant } from '../bootstrap.js';
import { isLegacyQualysExtension, SECURITY_CONNECTOR_TAG } from '../coverage/index.js';
import { type VaAssessment, vaAssessmentsForSubscription } from '../providers/security/assessments/index.js';
import { parseConnectorBody } from '../providers/security/securityConnectors/validation.js';
import { type ArmBody, type Db, openStore, type Store } from '../store/index.js';
import { demoEstate, generateEstate, seedDemoEstate } from './index.js';

const NOW = new Date('2025-06-02T08:00:00Z');
/** Before the built-in Qualys scanner retired (2024-05-01): the estate as it was rehearsed then. */
const BEFORE_RETIREMENT = new Date('2024-03-01T08:00:00Z');
const TENANT = DEFAULT_TENANT_ID;

const opened: { store: Store; dir: string }[] = [];
const openedForSuite: { store: Store; dir: string }[] = [];

/** A fresh database; closed after the test, or after the suite when `forSuite`. */
async function freshStore(forSuite = false): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'vaplane-defender-'));
  const store = await openStore({ db: join(dir, 'estate.db') });
  await bootstrapTenant(store.db, TENANT, NOW);
  (forSuite ? openedForSuite : opened).push({ store, dir });
  return store;
}

async function close(stores: { store: Store; dir: string }[]): Promise<void> {
  for (const { store, dir } of stores.splice(0)) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

afterEach(() => close(opened));
afterAll(() => close(openedForSuite));

async function rowsOf(db: Db, type: string): Promise<{ key: string; body: ArmBody }[]> {
  const rows = await db
    .selectFrom('resources')
    .select(['key', 'body'])
    .where('type', '=', type)
    .orderBy('key')
    .execute();
  return rows.map((row) => ({ key: row.key, body: JSON.parse(row.body) }));
}

/** Every machine's ffff0522 assessment, computed as the API computes it. */
async function assessmentsOf(store: Store, now: Date): Promise<VaAssessment[]> {
  const subscriptions = await rowsOf(store.db, 'microsoft.resources/subscriptions');
  const all: VaAssessment[] = [];
  for (const { body } of subscriptions) {
    const page = await vaAssessmentsForSubscription(store.db, body.subscriptionId, now, { size: 5000 });
    all.push(...page.value);
  }
  return all;
}

/** `provider/method status/cause`, the way the report below groups machines. */
function outcome(assessment: VaAssessment): string {
  const { coverage } = assessment;
  return `${coverage.provider}/${coverage.method} ${coverage.assessmentStatus.code}/${coverage.assessmentStatus.cause}`;
}

function tally(assessments: readonly VaAssessment[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const assessment of assessments) counts[outcome(assessment)] = (counts[outcome(assessment)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort());
}

const LEGACY_TYPES = [
  'microsoft.management/managementgroups',
  'microsoft.management/managementgroups/subscriptions',
  'microsoft.resources/subscriptions',
  'microsoft.resources/resourcegroups',
  'microsoft.compute/virtualmachines',
  'microsoft.compute/virtualmachines/extensions',
  'microsoft.hybridcompute/machines',
  'microsoft.hybridcompute/machines/extensions',
];

describe('the demo estate', () => {
  it('shows every coverage situation a tenant is in', async () => {
    const store = await freshStore();
    await seedDemoEstate(store.db, { tenantId: TENANT, now: NOW });
    const assessments = await assessmentsOf(store, NOW);
    console.log('demo estate coverage now:', tally(assessments));
    expect(assessments).toHaveLength(demoEstate.machines);
    const some = (label: string, test: (assessment: VaAssessment) => boolean) =>
      expect(assessments.some(test), label).toBe(true);
    const status = (assessment: VaAssessment) => assessment.coverage.assessmentStatus;
    some('the built-in Qualys extension still installed', (a) => a.coverage.legacyQualysExtension.installed);
    some(
      'MDVM through the MDE sensor, Healthy',
      (a) => a.coverage.provider === 'mdvmAgent' && status(a).code === 'Healthy',
    );
    some(
      'agentless MDVM, Healthy',
      (a) => a.coverage.provider === 'mdvmAgentless' && status(a).code === 'Healthy',
    );
    some('a BYOL partner, Healthy', (a) => a.coverage.provider === 'byol' && status(a).cause === 'byol');
    some(
      'nothing scans (Unhealthy)',
      (a) => a.coverage.provider === 'none' && status(a).cause === 'VaScannerNotInstalled',
    );
    some('no plan (NotApplicable)', (a) => status(a).cause === 'NotCoveredByPlan');
    some(
      'a deallocated VM',
      (a) =>
        a.machine.kind === 'azureVm' &&
        a.machine.powerState === 'deallocated' &&
        status(a).cause === 'MachineNotRunning',
    );
    some(
      'a disconnected Arc machine',
      (a) =>
        a.machine.kind === 'arcMachine' &&
        a.machine.status === 'Disconnected' &&
        status(a).cause === 'MachineDisconnected',
    );
    const clouds = new Map(
      (await rowsOf(store.db, 'microsoft.security/securityconnectors')).map((row) => [
        row.body.id.toLowerCase(),
        row.body.properties.environmentName,
      ]),
    );
    for (const cloud of ['GCP', 'AWS']) {
      some(
        `a ${cloud} machine its connector governs`,
        (a) =>
          a.machine.kind === 'arcMachine' &&
          a.connectorId !== undefined &&
          a.machine.tags[SECURITY_CONNECTOR_TAG]?.toLowerCase() === a.connectorId.toLowerCase() &&
          clouds.get(a.connectorId.toLowerCase()) === cloud,
      );
    }
  });

  it('before the retirement, the same estate also shows machines on built-in Qualys, on Azure and through a GCP connector', async () => {
    const store = await freshStore();
    await seedDemoEstate(store.db, { tenantId: TENANT, now: BEFORE_RETIREMENT });
    const assessments = await assessmentsOf(store, BEFORE_RETIREMENT);
    console.log('demo estate coverage before the retirement:', tally(assessments));
    const methods = new Set(
      assessments
        .filter((a) => a.coverage.assessmentStatus.cause === 'default')
        .map((a) => a.coverage.method),
    );
    expect(methods).toEqual(new Set(['legacyDefaultResource', 'connectorQualys']));
  });

  it('leaves the legacy estate as it was: the same keys as the generator wrote before it had a Defender side', async () => {
    const store = await freshStore();
    await seedDemoEstate(store.db, { tenantId: TENANT, now: NOW });
    const keys: string[] = [];
    for (const type of LEGACY_TYPES) {
      for (const row of await rowsOf(store.db, type)) {
        // The BYOL agent is the one extension the Defender side adds.
        if (!String(row.body.properties?.type ?? '').startsWith('QualysAgent')) keys.push(row.key);
      }
    }
    keys.sort();
    // sha256 of the demo's sorted keys of these types, written by the generator at commit ff77c52.
    expect(createHash('sha256').update(keys.join('\n')).digest('hex')).toBe(
      '6f074c5ad255b7498ad4a4cd7778368421dc77bcd0334bee93935a3061d39d1b',
    );
  });
});

describe('the Defender side of a generated estate', () => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore(true);
    await generateEstate(store.db, {
      subscriptions: 200,
      machines: 6000,
      seed: 13,
      tenantId: TENANT,
      now: NOW,
    });
  });

  it('mixes Free, P1 and P2, with agentless and designated-subscription extensions on some', async () => {
    const pricings = (await rowsOf(store.db, 'microsoft.security/pricings')).map((row) => row.body);
    expect(pricings.every((pricing) => pricing.name === 'VirtualMachines')).toBe(true);
    const subPlans = pricings.map((pricing) => pricing.properties.subPlan);
    const p1 = subPlans.filter((plan) => plan === 'P1').length;
    const p2 = subPlans.filter((plan) => plan === 'P2').length;
    // Free reads from no row: the rest of the 200 subscriptions.
    expect({ free: (200 - p1 - p2) / 200, p1: p1 / 200, p2: p2 / 200 }).toEqual({
      free: expect.closeTo(0.3, 1),
      p1: expect.closeTo(0.2, 1),
      p2: expect.closeTo(0.5, 1),
    });
    const extension = (pricing: ArmBody, name: string) =>
      pricing.properties.extensions.find((candidate: ArmBody) => candidate.name === name)?.isEnabled;
    const p2Pricings = pricings.filter((pricing) => pricing.properties.subPlan === 'P2');
    expect(new Set(p2Pricings.map((pricing) => extension(pricing, 'AgentlessVmScanning')))).toEqual(
      new Set(['True', 'False']),
    );
    expect(pricings.some((pricing) => extension(pricing, 'MdeDesignatedSubscription') === 'True')).toBe(true);
    expect(
      pricings
        .filter((pricing) => pricing.properties.subPlan === 'P1')
        .every((pricing) => extension(pricing, 'AgentlessVmScanning') === undefined),
    ).toBe(true);
  });

  it('turns Endpoint protection on for most paid subscriptions, keeps MDE off Linux on some, and has some already on MdeTvm', async () => {
    const settings = (await rowsOf(store.db, 'microsoft.security/settings')).map((row) => row.body);
    const wdatp = settings.filter((setting) => setting.name === 'WDATP');
    const on = wdatp.filter((setting) => setting.properties.enabled).length;
    expect(wdatp.length - on).toBeGreaterThan(0);
    expect(on / wdatp.length).toBeGreaterThan(0.7);
    expect(settings.some((setting) => setting.name === 'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW')).toBe(true);
    const vaSettings = await rowsOf(store.db, 'microsoft.security/servervulnerabilityassessmentssettings');
    expect(vaSettings.length / 200).toBeGreaterThan(0.1);
    expect(vaSettings.every((row) => row.body.properties.selectedProvider === 'MdeTvm')).toBe(true);
  });

  it('onboards a share of the Qualys machines to `default`, most in Plan 2 subscriptions, and a few to `mdeTvm`, and no other machine', async () => {
    const extensions = [
      ...(await rowsOf(store.db, 'microsoft.compute/virtualmachines/extensions')),
      ...(await rowsOf(store.db, 'microsoft.hybridcompute/machines/extensions')),
    ];
    const qualysMachines = new Set(
      extensions
        .filter((row) => isLegacyQualysExtension(row.body.properties))
        .map((row) => row.key.split('/extensions/')[0]!),
    );
    const onboardings = await rowsOf(store.db, 'microsoft.security/servervulnerabilityassessments');
    const machineOf = (key: string) => key.split('/providers/microsoft.security/')[0]!;
    expect(onboardings.every((row) => qualysMachines.has(machineOf(row.key)))).toBe(true);
    const defaults = onboardings.filter((row) => row.body.name === 'Default');
    const mdeTvm = onboardings.filter((row) => row.body.name === 'MdeTvm');
    expect(defaults.length / qualysMachines.size).toBeGreaterThan(0.15);
    expect(defaults.length / qualysMachines.size).toBeLessThan(0.35);
    const plans = new Map(
      (await rowsOf(store.db, 'microsoft.security/pricings')).map((row) => [
        row.key.split('/')[2],
        row.body.properties.subPlan,
      ]),
    );
    const shareIn = (plan: string | undefined) => {
      const machines = [...qualysMachines].filter((key) => plans.get(key.split('/')[2]) === plan);
      const onboarded = defaults.filter((row) => plans.get(row.key.split('/')[2]) === plan).length;
      return onboarded / machines.length;
    };
    expect(shareIn('P2')).toBeGreaterThan(0.3);
    expect(shareIn(undefined)).toBeLessThan(0.15);
    expect(mdeTvm.length).toBeGreaterThan(0);
    expect(mdeTvm.length).toBeLessThan(defaults.length / 3);
    expect(defaults.some((row) => row.body.properties.provisioningState === 'Failed')).toBe(true);
  });

  it('connects GCP and AWS connectors, on Qualys and on TVM, each owning Arc machines of its subscription', async () => {
    const connectors = await rowsOf(store.db, 'microsoft.security/securityconnectors');
    const servers = (body: ArmBody) =>
      body.properties.offerings.find((offering: ArmBody) =>
        offering.offeringType.startsWith('DefenderForServers'),
      );
    const kinds = new Set(
      connectors.map(
        (row) =>
          `${row.body.properties.environmentName} ${servers(row.body).vaAutoProvisioning.configuration.type}`,
      ),
    );
    expect(kinds).toEqual(new Set(['GCP Qualys', 'GCP TVM', 'AWS Qualys', 'AWS TVM']));
    const byId = new Map(connectors.map((row) => [row.body.id.toLowerCase(), row]));
    const owned = new Map<string, number>();
    for (const { key, body } of await rowsOf(store.db, 'microsoft.hybridcompute/machines')) {
      const tag = body.tags[SECURITY_CONNECTOR_TAG];
      if (tag === undefined) {
        expect(body.kind).toBeNull();
        continue;
      }
      const connector = byId.get(tag.toLowerCase());
      expect(connector, tag).toBeDefined();
      expect(key.split('/')[2]).toBe(connector!.key.split('/')[2]);
      expect(body.kind).toBe(connector!.body.properties.environmentName);
      expect(body.properties.cloudMetadata).toEqual({ provider: body.kind });
      owned.set(tag, (owned.get(tag) ?? 0) + 1);
    }
    expect(
      new Set([...owned.keys()].map((id) => byId.get(id.toLowerCase())!.body.properties.environmentName)),
    ).toEqual(new Set(['GCP', 'AWS']));
  });

  it('stores each connector exactly as a PUT of its properties at 2023-10-01-preview would', async () => {
    for (const { body } of await rowsOf(store.db, 'microsoft.security/securityconnectors')) {
      const request = parseConnectorBody(
        { location: body.location, properties: body.properties },
        '2023-10-01-preview',
      );
      const { workloadIdentityPoolId, ...details } = body.properties.environmentData.projectDetails ?? {};
      const expected =
        body.properties.environmentName === 'GCP'
          ? {
              ...request.properties,
              environmentData: { ...request.properties!.environmentData, projectDetails: details },
            }
          : request.properties;
      const stored =
        body.properties.environmentName === 'GCP'
          ? {
              ...body.properties,
              environmentData: { ...body.properties.environmentData, projectDetails: details },
            }
          : body.properties;
      expect(stored).toEqual(expected);
      if (body.properties.environmentName === 'GCP') expect(workloadIdentityPoolId).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('has a BYOL Qualys solution with auto-deploy in two subscriptions, and its agent only on VMs there without the built-in extension', async () => {
    const solutions = await rowsOf(store.db, 'microsoft.security/locations/securitysolutions');
    expect(solutions).toHaveLength(2);
    for (const { body } of solutions) {
      expect(body.properties).toMatchObject({ securityFamily: 'Va', template: 'qualys.qualysAgent' });
      expect(body.licensing.autoProvisioning).toBe(true);
    }
    const byolSubscriptions = new Set(solutions.map((row) => row.key.split('/')[2]));
    const vmExtensions = await rowsOf(store.db, 'microsoft.compute/virtualmachines/extensions');
    const agents = vmExtensions.filter((row) => row.body.properties.type.startsWith('QualysAgent'));
    expect(agents.length).toBeGreaterThan(0);
    const legacyOn = new Set(
      vmExtensions
        .filter((row) => isLegacyQualysExtension(row.body.properties))
        .map((row) => row.key.split('/extensions/')[0]!),
    );
    for (const agent of agents) {
      expect(byolSubscriptions.has(agent.key.split('/')[2]!)).toBe(true);
      expect(agent.body.properties.publisher).toBe('Qualys');
      expect(legacyOn.has(agent.key.split('/extensions/')[0]!)).toBe(false);
    }
    expect(
      (await rowsOf(store.db, 'microsoft.hybridcompute/machines/extensions')).some((row) =>
        row.body.properties.type.startsWith('QualysAgent'),
      ),
    ).toBe(false);
  });
});

describe('the Defender side through the ARM API', () => {
  let t: TestServer;
  let subscriptions: string[];
  beforeAll(async () => {
    t = await startTestServer({ listen: false });
    await seedDemoEstate(t.server.store.db, {
      tenantId: t.server.tenantId,
      now: t.server.services.clock.now(),
    });
    t.server.services.authz.invalidate();
    const listed = await t.inject({ method: 'GET', url: '/subscriptions?api-version=2022-12-01' });
    subscriptions = listed.body.value.map((subscription: ArmBody) => subscription.subscriptionId);
  });
  afterAll(() => t.close());

  async function get(url: string) {
    const response = await t.inject({ method: 'GET', url });
    expect(response.status, `${url}: ${response.text}`).toBe(200);
    return response.body;
  }

  it('serves each subscription its plan, settings and, where it has moved, its VA setting', async () => {
    const plans = new Set<string>();
    for (const subscription of subscriptions) {
      const scope = `/subscriptions/${subscription}/providers/Microsoft.Security`;
      const pricing = await get(`${scope}/pricings/VirtualMachines?api-version=2024-01-01`);
      plans.add(pricing.properties.subPlan ?? pricing.properties.pricingTier);
      const settings = await get(`${scope}/settings?api-version=2022-05-01`);
      expect(settings.value.map((setting: ArmBody) => setting.name)).toContain('WDATP');
      const va = await t.inject({
        method: 'GET',
        url: `${scope}/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
      });
      expect([200, 404]).toContain(va.status);
      if (va.status === 200) {
        expect(va.body).toMatchObject({
          kind: 'AzureServersSetting',
          properties: { selectedProvider: 'MdeTvm' },
        });
      }
    }
    expect(plans).toEqual(new Set(['Free', 'P1', 'P2']));
  });

  it('serves the connectors at every api-version, and takes a GET body back with If-Match', async () => {
    const found: ArmBody[] = [];
    for (const subscription of subscriptions) {
      for (const version of ['2022-08-01-preview', '2023-10-01-preview', '2024-08-01-preview']) {
        const listed = await get(
          `/subscriptions/${subscription}/providers/Microsoft.Security/securityConnectors?api-version=${version}`,
        );
        if (version === '2023-10-01-preview') found.push(...listed.value);
      }
    }
    expect(new Set(found.map((connector) => connector.properties.environmentName))).toEqual(
      new Set(['GCP', 'AWS']),
    );
    for (const connector of found) {
      const url = `${connector.id}?api-version=2023-10-01-preview`;
      const read = await t.inject({ method: 'GET', url });
      const written = await t.inject({
        method: 'PUT',
        url,
        body: read.body,
        headers: { 'if-match': read.headers.etag as string },
      });
      expect(written.status, written.text).toBe(200);
      expect(written.body.properties).toEqual(read.body.properties);
    }
  });

  it('serves the legacy onboarding, the BYOL solution and the BYOL agent', async () => {
    const [onboarding] = await rowsOf(t.server.store.db, 'microsoft.security/servervulnerabilityassessments');
    const machineId = onboarding!.body.id.split('/providers/Microsoft.Security/')[0];
    const listed = await get(
      `${machineId}/providers/Microsoft.Security/serverVulnerabilityAssessments?api-version=2020-01-01`,
    );
    expect(listed.value).toContainEqual(
      expect.objectContaining({ name: onboarding!.body.name, properties: onboarding!.body.properties }),
    );
    let solutions = 0;
    for (const subscription of subscriptions) {
      const listedSolutions = await get(
        `/subscriptions/${subscription}/providers/Microsoft.Security/securitySolutions?api-version=2020-01-01`,
      );
      for (const solution of listedSolutions.value) {
        solutions++;
        expect(solution).toMatchObject({
          type: 'Microsoft.Security/locations/SecuritySolutions',
          properties: {
            securityFamily: 'Va',
            template: 'qualys.qualysAgent',
            provisioningState: 'Succeeded',
          },
        });
        expect(solution.licensing).toBeUndefined();
        expect(await get(`${solution.id}?api-version=2020-01-01`)).toEqual(solution);
      }
    }
    expect(solutions).toBe(1);
    const [agent] = (await rowsOf(t.server.store.db, 'microsoft.compute/virtualmachines/extensions'))
      .map((row) => row.body)
      .filter((body) => body.properties.type.startsWith('QualysAgent'));
    expect(await get(`${agent!.id}?api-version=2024-03-01`)).toMatchObject({
      properties: { publisher: 'Qualys', type: agent!.properties.type, provisioningState: 'Succeeded' },
    });
  });
});
