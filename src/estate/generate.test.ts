import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import { DEFAULT_TENANT_ID } from '../arm/auth.js';
import { bootstrapTenant } from '../bootstrap.js';
import { type ArmBody, openStore, type Store } from '../store/index.js';
import { demoEstate, type EstateCounts, generateEstate, seedDemoEstate } from './index.js';

const NOW = new Date('2025-06-02T08:00:00Z');
const TENANT = DEFAULT_TENANT_ID;

const opened: { store: Store; dir: string }[] = [];

async function freshStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'vaplane-estate-'));
  const store = await openStore({ db: join(dir, 'estate.db') });
  await bootstrapTenant(store.db, TENANT, NOW);
  opened.push({ store, dir });
  return store;
}

afterEach(async () => {
  for (const { store, dir } of opened.splice(0)) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function keysOf(store: Store, type: string): Promise<string[]> {
  const rows = await store.db.selectFrom('resources').select('key').where('type', '=', type).execute();
  return rows.map((row) => row.key).sort();
}

/** Rows of a type with their JSON body parsed. */
async function bodiesOf(store: Store, type: string): Promise<ArmBody[]> {
  const rows = await store.db.selectFrom('resources').select('body').where('type', '=', type).execute();
  return rows.map((row) => JSON.parse(row.body));
}

const GENERATED_TYPES = [
  'microsoft.management/managementgroups',
  'microsoft.management/managementgroups/subscriptions',
  'microsoft.resources/subscriptions',
  'microsoft.resources/resourcegroups',
  'microsoft.compute/virtualmachines',
  'microsoft.compute/virtualmachines/extensions',
  'microsoft.hybridcompute/machines',
  'microsoft.hybridcompute/machines/extensions',
];

describe('generateEstate', () => {
  it('gives the same ids for the same seed and different subscriptions for another seed', async () => {
    const options = { subscriptions: 8, machines: 120, seed: 7, tenantId: TENANT, now: NOW };
    const [first, second, other] = [await freshStore(), await freshStore(), await freshStore()];
    const firstCounts = await generateEstate(first.db, options);
    expect(await generateEstate(second.db, options)).toEqual(firstCounts);
    await generateEstate(other.db, { ...options, seed: 8 });
    for (const type of GENERATED_TYPES) expect(await keysOf(second, type)).toEqual(await keysOf(first, type));
    const firstVms = await bodiesOf(first, 'microsoft.compute/virtualmachines');
    const secondVms = await bodiesOf(second, 'microsoft.compute/virtualmachines');
    expect(secondVms.map((vm) => vm.properties.vmId).sort()).toEqual(
      firstVms.map((vm) => vm.properties.vmId).sort(),
    );
    const shared = (await keysOf(other, 'microsoft.resources/subscriptions')).filter((key) =>
      firstVms.some((vm) => vm.id.toLowerCase().startsWith(`${key}/`)),
    );
    expect(shared).toEqual([]);
  });

  it('counts what it wrote, and the shares come out roughly as configured', async () => {
    const store = await freshStore();
    const counts = await generateEstate(store.db, {
      subscriptions: 30,
      machines: 4000,
      seed: 3,
      qualysShare: 0.3,
      tenantId: TENANT,
      now: NOW,
    });
    const stored = async (type: string) => (await keysOf(store, type)).length;
    expect(counts).toEqual<EstateCounts>({
      managementGroups: (await stored('microsoft.management/managementgroups')) - 1,
      subscriptions: await stored('microsoft.resources/subscriptions'),
      resourceGroups: await stored('microsoft.resources/resourcegroups'),
      virtualMachines: await stored('microsoft.compute/virtualmachines'),
      arcMachines: await stored('microsoft.hybridcompute/machines'),
      extensions:
        (await stored('microsoft.compute/virtualmachines/extensions')) +
        (await stored('microsoft.hybridcompute/machines/extensions')),
      qualysExtensions: counts.qualysExtensions,
    });
    expect(counts.subscriptions).toBe(30);
    expect(counts.virtualMachines + counts.arcMachines).toBe(4000);
    expect(counts.managementGroups).toBeGreaterThanOrEqual(4);
    expect(counts.resourceGroups).toBeGreaterThanOrEqual(30);
    expect(counts.resourceGroups).toBeLessThanOrEqual(180);
    expect(counts.arcMachines / 4000).toBeCloseTo(0.2, 1);
    expect(counts.qualysExtensions / 4000).toBeCloseTo(0.3, 1);

    const vms = await bodiesOf(store, 'microsoft.compute/virtualmachines');
    const power = (vm: ArmBody) =>
      vm.properties.instanceView.statuses.find((status: ArmBody) => status.code.startsWith('PowerState/'))
        .code;
    const deallocated = vms.filter((vm) => power(vm) === 'PowerState/deallocated').length;
    expect(deallocated / vms.length).toBeCloseTo(0.1, 1);
    expect(vms.some((vm) => power(vm) === 'PowerState/stopped')).toBe(true);
    const windows = vms.filter((vm) => vm.properties.storageProfile.osDisk.osType === 'Windows').length;
    expect(windows / vms.length).toBeGreaterThan(0.35);
    expect(windows / vms.length).toBeLessThan(0.75);
    expect(new Set(vms.map((vm) => vm.properties.storageProfile.imageReference.sku))).toContain(
      '22_04-lts-gen2',
    );

    const arc = await bodiesOf(store, 'microsoft.hybridcompute/machines');
    expect(arc.some((machine) => machine.properties.status === 'Disconnected')).toBe(true);
    expect(
      arc.filter((machine) => machine.properties.status === 'Connected').length / arc.length,
    ).toBeGreaterThan(0.85);
  });

  it('puts every machine in a resource group and subscription that exist, each subscription under one existing group', async () => {
    const store = await freshStore();
    await generateEstate(store.db, {
      subscriptions: 12,
      machines: 300,
      seed: 11,
      tenantId: TENANT,
      now: NOW,
    });
    const groups = new Set(await keysOf(store, 'microsoft.resources/resourcegroups'));
    const subscriptions = new Set(await keysOf(store, 'microsoft.resources/subscriptions'));
    const machines = [
      ...(await keysOf(store, 'microsoft.compute/virtualmachines')),
      ...(await keysOf(store, 'microsoft.hybridcompute/machines')),
    ];
    for (const key of machines) {
      const [, , subscriptionId, , resourceGroup] = key.split('/');
      expect(subscriptions.has(`/subscriptions/${subscriptionId}`)).toBe(true);
      expect(groups.has(`/subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}`)).toBe(true);
    }
    const machineKeys = new Set(machines);
    const extensions = await store.db
      .selectFrom('resources')
      .select(['key', 'parent_key'])
      .where('type', 'in', [
        'microsoft.compute/virtualmachines/extensions',
        'microsoft.hybridcompute/machines/extensions',
      ])
      .execute();
    for (const extension of extensions) expect(machineKeys.has(extension.parent_key)).toBe(true);

    const managementGroups = new Set(await keysOf(store, 'microsoft.management/managementgroups'));
    const links = await store.db
      .selectFrom('resources')
      .select(['name', 'parent_key'])
      .where('type', '=', 'microsoft.management/managementgroups/subscriptions')
      .execute();
    expect(links.map((link) => `/subscriptions/${link.name}`).sort()).toEqual([...subscriptions].sort());
    for (const link of links) expect(managementGroups.has(link.parent_key)).toBe(true);
    for (const group of await bodiesOf(store, 'microsoft.management/managementgroups')) {
      const parent = group.properties.details.parent;
      if (group.name !== TENANT) expect(managementGroups.has(parent.id.toLowerCase())).toBe(true);
    }
  });

  it('gives the legacy Qualys extension by publisher and type, some under other names; its publisher otherwise only on BYOL Qualys agents', async () => {
    const store = await freshStore();
    const counts = await generateEstate(store.db, {
      subscriptions: 10,
      machines: 800,
      seed: 5,
      tenantId: TENANT,
      now: NOW,
    });
    const extensions = [
      ...(await bodiesOf(store, 'microsoft.compute/virtualmachines/extensions')),
      ...(await bodiesOf(store, 'microsoft.hybridcompute/machines/extensions')),
    ];
    const qualys = extensions.filter(
      (extension) =>
        extension.properties.publisher === 'Qualys' &&
        ['WindowsAgent.AzureSecurityCenter', 'LinuxAgent.AzureSecurityCenter'].includes(
          extension.properties.type,
        ),
    );
    expect(qualys.length).toBe(counts.qualysExtensions);
    const otherQualys = extensions.filter(
      (extension) => extension.properties.publisher === 'Qualys' && !qualys.includes(extension),
    );
    expect(new Set(otherQualys.map((extension) => extension.properties.type))).toEqual(
      new Set(['QualysAgent', 'QualysAgentLinux']),
    );
    expect(qualys.every((extension) => extension.properties.typeHandlerVersion === '1.0')).toBe(true);
    expect(qualys.some((extension) => extension.name !== extension.properties.type)).toBe(true);
    expect(qualys.some((extension) => extension.id.includes('/Microsoft.HybridCompute/'))).toBe(true);
    const publishers = new Set(extensions.map((extension) => extension.properties.publisher));
    expect(publishers).toEqual(
      new Set([
        'Qualys',
        'Microsoft.Azure.AzureDefenderForServers',
        'Microsoft.Azure.Monitor',
        'Microsoft.Azure.Security',
      ]),
    );
    // Qualys machines were onboarded before the built-in scanner's retirement.
    const machineCreated = new Map<string, string>();
    for (const vm of await bodiesOf(store, 'microsoft.compute/virtualmachines'))
      machineCreated.set(vm.id, vm.properties.timeCreated);
    for (const extension of qualys.filter((candidate) => candidate.id.includes('/Microsoft.Compute/'))) {
      const created = machineCreated.get(extension.id.split('/extensions/')[0]);
      expect(Date.parse(created!)).toBeLessThan(Date.parse('2024-05-01T00:00:00Z'));
    }
  });

  it('honours a Qualys share of 0 and of 1', async () => {
    const none = await generateEstate((await freshStore()).db, {
      subscriptions: 3,
      machines: 50,
      seed: 9,
      qualysShare: 0,
      tenantId: TENANT,
      now: NOW,
    });
    expect(none.qualysExtensions).toBe(0);
    const all = await generateEstate((await freshStore()).db, {
      subscriptions: 3,
      machines: 50,
      seed: 9,
      qualysShare: 1,
      tenantId: TENANT,
      now: NOW,
    });
    expect(all.qualysExtensions).toBe(50);
  });

  it('refuses to generate the same seed twice into one database and rejects bad options', async () => {
    const store = await freshStore();
    const options = { subscriptions: 2, machines: 5, seed: 21, tenantId: TENANT, now: NOW };
    await generateEstate(store.db, options);
    await expect(generateEstate(store.db, options)).rejects.toThrow(
      /already holds the estate of seed 21 .*use another --seed or a new database/,
    );
    await expect(generateEstate(store.db, { ...options, seed: 22, qualysShare: 1.5 })).rejects.toThrow(
      'the Qualys share must be between 0 and 1',
    );
    await expect(generateEstate(store.db, { ...options, seed: 22, subscriptions: 0 })).rejects.toThrow(
      'machines need at least one subscription',
    );
    expect((await keysOf(store, 'microsoft.resources/subscriptions')).length).toBe(2);
  });

  it('seeds the demo estate into an empty database once', async () => {
    const store = await freshStore();
    const seeded = await seedDemoEstate(store.db, { tenantId: TENANT, now: NOW });
    expect(seeded).toEqual({ subscriptions: demoEstate.subscriptions, machines: demoEstate.machines });
    expect(await seedDemoEstate(store.db, { tenantId: TENANT, now: NOW })).toBeUndefined();
    expect((await keysOf(store, 'microsoft.resources/subscriptions')).length).toBe(demoEstate.subscriptions);
  });
});

describe('a generated estate through the ARM API', () => {
  let t: TestServer;
  let vmIds: string[];
  beforeAll(async () => {
    t = await startTestServer({ listen: false });
    await generateEstate(t.server.store.db, {
      subscriptions: 4,
      machines: 40,
      seed: 2,
      tenantId: t.server.tenantId,
      now: t.server.services.clock.now(),
    });
    t.server.services.authz.invalidate();
    const rows = await t.server.store.db
      .selectFrom('resources')
      .select('body')
      .where('type', '=', 'microsoft.compute/virtualmachines')
      .orderBy('key')
      .execute();
    vmIds = rows.map((row) => JSON.parse(row.body).id);
  });
  afterAll(() => t.close());

  it('lists the subscriptions, and each subscription its resource groups', async () => {
    const listed = await t.inject({ method: 'GET', url: '/subscriptions?api-version=2022-12-01' });
    expect(listed.status).toBe(200);
    expect(listed.body.value).toHaveLength(4);
    for (const subscription of listed.body.value) {
      expect(subscription.displayName).toMatch(/^[a-z]+-[a-z]+-[a-z]+-\d{3}$/);
      expect(subscription.tenantId).toBe(t.server.tenantId);
      const groups = await t.inject({
        method: 'GET',
        url: `${subscription.id}/resourcegroups?api-version=2021-04-01`,
      });
      expect(groups.status).toBe(200);
      expect(groups.body.value.length).toBeGreaterThanOrEqual(1);
      expect(groups.body.value.length).toBeLessThanOrEqual(6);
    }
  });

  it('shows the hierarchy: the tenant root group has business units, which hold subscriptions below them', async () => {
    const root = await t.inject({
      method: 'GET',
      url: `/providers/Microsoft.Management/managementGroups/${t.server.tenantId}?api-version=2021-04-01&$expand=children`,
    });
    expect(root.status).toBe(200);
    const units = root.body.properties.children.filter(
      (child: ArmBody) => child.type === 'Microsoft.Management/managementGroups',
    );
    expect(units.length).toBeGreaterThanOrEqual(2);
    expect(units.length).toBeLessThanOrEqual(4);
  });

  it('serves a generated VM with its instance view and its extensions', async (context) => {
    if (!t.server.registry.lookup('Microsoft.Compute', ['virtualMachines'])) context.skip();
    const id = vmIds[0]!;
    const vm = await t.inject({ method: 'GET', url: `${id}?api-version=2024-03-01&$expand=instanceView` });
    expect(vm.status).toBe(200);
    expect(vm.body.id).toBe(id);
    expect(vm.body.properties.instanceView.statuses.map((status: ArmBody) => status.code)).toContainEqual(
      expect.stringMatching(/^PowerState\//),
    );
    const group = id.split('/providers/')[0];
    const listed = await t.inject({
      method: 'GET',
      url: `${group}/providers/Microsoft.Compute/virtualMachines?api-version=2024-03-01`,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.value.map((item: ArmBody) => item.id)).toContain(id);
    const extensions = await t.inject({ method: 'GET', url: `${id}/extensions?api-version=2024-03-01` });
    expect(extensions.status).toBe(200);
    expect(Array.isArray(extensions.body.value)).toBe(true);
  });
});
