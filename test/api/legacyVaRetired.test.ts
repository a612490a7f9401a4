/**
 * Legacy per-machine VA onboarding on the real clock, after the built-in Qualys retirement
 * (2024-05-01): a new `default` is refused, existing ones keep their state until removed, and
 * `mdeTvm` is the way on.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { virtualMachineRecord, vmExtensionRecord } from '../../src/providers/compute/index.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { legacyVaRecord } from '../../src/providers/security/legacyVa/index.js';
import { putResource, type StoredResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const V = 'api-version=2020-01-01';
const PREVIEW = 'api-version=2015-06-01-preview';
const RG = 'Rg-Retired';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ listen: false });
});
afterAll(() => t.close());

const now = () => t.server.services.clock.now().toISOString();

async function rowCount(): Promise<number> {
  const row = await t.server.store.db
    .selectFrom('resources')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** A P2 subscription with one running Windows VM that still carries the built-in Qualys extension. */
async function world(): Promise<StoredResource> {
  const sub = randomUUID();
  await addSubscription(t.server, { subscriptionId: sub });
  await putResource(
    t.server.store.db,
    resourceGroupRecord({ subscriptionId: sub, name: RG, location: 'westeurope', now: now() }),
  );
  const priced = await t.inject({
    method: 'PUT',
    url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2023-01-01`,
    body: { properties: { pricingTier: 'Standard', subPlan: 'P2' } },
  });
  expect(priced.status).toBe(200);
  const vm = virtualMachineRecord({
    subscriptionId: sub,
    resourceGroup: RG,
    name: 'vm-legacy',
    location: 'westeurope',
    osType: 'Windows',
    image: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2019-datacenter' },
    powerState: 'running',
    now: now(),
  });
  await putResource(t.server.store.db, vm);
  await putResource(
    t.server.store.db,
    vmExtensionRecord({
      machineId: vm.id,
      subscriptionId: sub,
      resourceGroup: RG,
      name: 'WindowsAgent.AzureSecurityCenter',
      location: 'westeurope',
      publisher: 'Qualys',
      type: 'WindowsAgent.AzureSecurityCenter',
      typeHandlerVersion: '1.0',
      now: now(),
    }),
  );
  return vm;
}

const va = (machineId: string, name = 'default') =>
  `${machineId}/providers/Microsoft.Security/serverVulnerabilityAssessments/${name}`;

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 70));
  await t.server.services.lro.runDue();
}

describe('after the Qualys retirement (real clock)', () => {
  it.each([V, PREVIEW])(
    'a new default at %s is refused with QualysRetired naming the date and MDVM; nothing is written',
    async (version) => {
      const vm = await world();
      const before = await rowCount();
      const response = await t.inject({ method: 'PUT', url: `${va(vm.id)}?${version}` });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('QualysRetired');
      expect(response.body.error.message).toContain('2024-05-01');
      expect(response.body.error.message).toContain('Microsoft Defender Vulnerability Management (MDVM)');
      expect(response.body.error.message).toContain("'MdeTvm'");
      expect(response.headers['x-ms-failure-cause']).toBeUndefined();
      expect(await rowCount()).toBe(before);
      const got = await t.inject({ method: 'GET', url: `${va(vm.id)}?${V}` });
      expect(got.status).toBe(404);
    },
  );

  it('an existing default keeps its state: readable, listed, not re-provisioned, and deletable — the extension stays', async () => {
    const vm = await world();
    await putResource(
      t.server.store.db,
      legacyVaRecord({ machine: vm, name: 'Default', state: 'Succeeded', now: '2023-11-20T10:00:00.000Z' }),
    );
    const got = await t.inject({ method: 'GET', url: `${va(vm.id, 'DEFAULT')}?${V}` });
    expect(got.status).toBe(200);
    expect(got.body).toEqual({
      properties: { provisioningState: 'Succeeded' },
      name: 'Default',
      type: 'providers/Microsoft.Security/serverVulnerabilityAssessments',
      id: `${vm.id}/providers/Microsoft.Security/serverVulnerabilityAssessments/Default`,
    });
    const list = await t.inject({
      method: 'GET',
      url: `${vm.id}/providers/Microsoft.Security/serverVulnerabilityAssessments?${PREVIEW}`,
    });
    expect(list.body).toEqual({ value: [got.body] });
    const before = await rowCount();
    const again = await t.inject({ method: 'PUT', url: `${va(vm.id)}?${V}` });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('QualysRetired');
    expect(await rowCount()).toBe(before);
    expect(
      (await t.inject({ method: 'GET', url: `${va(vm.id)}?${V}` })).body.properties.provisioningState,
    ).toBe('Succeeded');
    const deleted = await t.inject({ method: 'DELETE', url: `${va(vm.id)}?${V}` });
    expect(deleted.status).toBe(202);
    await settle();
    expect((await t.inject({ method: 'GET', url: `${va(vm.id)}?${V}` })).status).toBe(404);
    const extensions = await t.inject({ method: 'GET', url: `${vm.id}/extensions?api-version=2024-03-01` });
    expect(extensions.body.value.map((extension: { name: string }) => extension.name)).toEqual([
      'WindowsAgent.AzureSecurityCenter',
    ]);
  });

  it('mdeTvm still onboards (the way Microsoft points to) and leaves the machine as it is', async () => {
    const vm = await world();
    const accepted = await t.inject({ method: 'PUT', url: `${va(vm.id, 'mdetvm')}?${PREVIEW}` });
    expect(accepted.status).toBe(202);
    expect(accepted.body.name).toBe('MdeTvm');
    await settle();
    const got = await t.inject({ method: 'GET', url: `${va(vm.id, 'mdeTvm')}?${PREVIEW}` });
    expect(got.body.properties.provisioningState).toBe('Succeeded');
  });
});
