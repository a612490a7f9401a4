import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.js';
import { DEFAULT_TENANT_ID } from '../arm/auth.js';
import { bootstrapTenant } from '../bootstrap.js';
import { powerStateOf } from '../providers/compute/model.js';
import { type ArmBody, getResource, openStore, type Store } from '../store/index.js';
import { ImportError } from './import.js';
import { importResourceGraphExport, parseResourceGraphExport } from './index.js';

const NOW = new Date('2025-06-02T08:00:00Z');
const TENANT = DEFAULT_TENANT_ID;
const FIXTURE = readFileSync(
  new URL('../../test/fixtures/resource-graph-export.json', import.meta.url),
  'utf8',
);
const PRODUCTION = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const LEGACY = '5a4e2c11-8d7e-4f21-9e0b-7d3c5b1a9f02';
const WEB = `/subscriptions/${PRODUCTION}/resourceGroups/RG-Prod-Web`;

const opened: { store: Store; dir: string }[] = [];

async function freshStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'vaplane-import-'));
  const store = await openStore({ db: join(dir, 'import.db') });
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

async function snapshot(store: Store): Promise<string[]> {
  const rows = await store.db.selectFrom('resources').select(['key', 'body']).orderBy('key').execute();
  return rows.map((row) => `${row.key} ${row.body}`);
}

async function importFixture(store: Store) {
  return importResourceGraphExport(store.db, parseResourceGraphExport(FIXTURE, 'fixture.json'), {
    tenantId: TENANT,
    now: NOW,
  });
}

describe('importResourceGraphExport', () => {
  it('imports VMs, Arc machines and their extensions, and reports what it created and skipped', async () => {
    const store = await freshStore();
    const report = await importFixture(store);
    expect(report.rows).toBe(15);
    expect(report.imported).toEqual({
      managementGroups: 1,
      subscriptions: 1,
      resourceGroups: 1,
      virtualMachines: 3,
      vmExtensions: 3,
      arcMachines: 1,
      arcExtensions: 2,
    });
    expect(report.created).toEqual({ managementGroups: 1, subscriptions: 1, resourceGroups: 2 });
    expect(report.skipped).toEqual(
      expect.arrayContaining([
        { type: 'microsoft.network/networkinterfaces', reason: 'not a type vaplane imports', count: 1 },
        { type: 'microsoft.compute/disks', reason: 'not a type vaplane imports', count: 1 },
        {
          type: 'microsoft.compute/virtualmachines/extensions',
          reason: 'its machine is neither in the export nor in the database',
          count: 1,
        },
      ]),
    );
    expect(report.skipped).toHaveLength(3);
    expect(report.warnings).toEqual([]);
  });

  it('maps the ARG power state onto the instance view and keeps the row’s properties', async () => {
    const store = await freshStore();
    await importFixture(store);
    const web01 = await getResource(
      store.db,
      `${WEB}/providers/Microsoft.Compute/virtualMachines/web01`.toLowerCase(),
    );
    const app02 = await getResource(
      store.db,
      `${WEB}/providers/Microsoft.Compute/virtualMachines/app02`.toLowerCase(),
    );
    const dc01 = await getResource(
      store.db,
      `/subscriptions/${LEGACY}/resourcegroups/legacy-rg/providers/microsoft.compute/virtualmachines/legacy-dc01`,
    );
    expect(powerStateOf(web01!.body)).toBe('running');
    expect(powerStateOf(app02!.body)).toBe('deallocated');
    expect(powerStateOf(dc01!.body)).toBe('stopped');
    expect(web01!.body).toMatchObject({
      id: `${WEB}/providers/Microsoft.Compute/virtualMachines/web01`,
      name: 'web01',
      type: 'Microsoft.Compute/virtualMachines',
      location: 'westeurope',
      zones: ['1'],
      tags: { environment: 'prod' },
      properties: {
        vmId: '1c5b7a3e-2f4d-4b6a-9e8c-0d1f3a5b7c9e',
        timeCreated: '2021-03-14T09:12:44.1234567+00:00',
        osProfile: { adminUsername: 'azureadmin' },
        storageProfile: { imageReference: { sku: '2019-Datacenter', exactVersion: '17763.5696.240406' } },
        instanceView: { computerName: 'web01', osName: 'Windows Server 2019 Datacenter' },
      },
    });
    expect(web01!.body.properties.extended).toBeUndefined();
    expect(app02!.body.properties.storageProfile.osDisk.osType).toBe('Linux');

    const arc = await getResource(
      store.db,
      `/subscriptions/${PRODUCTION}/resourcegroups/rg-arc-onprem/providers/microsoft.hybridcompute/machines/ams-sql-01`,
    );
    expect(arc!.body).toMatchObject({
      type: 'Microsoft.HybridCompute/machines',
      identity: { principalId: '2b4d6f8a-0c2e-4a6c-8e0a-2c4e6a8c0e2a' },
      properties: { status: 'Disconnected', osType: 'windows', machineFqdn: 'ams-sql-01.corp.contoso.com' },
    });
  });

  it('finds the Qualys extensions by publisher and type, whatever their name', async () => {
    const store = await freshStore();
    await importFixture(store);
    const rows = await store.db
      .selectFrom('resources')
      .select(['name', 'body'])
      .where('type', 'in', [
        'microsoft.compute/virtualmachines/extensions',
        'microsoft.hybridcompute/machines/extensions',
      ])
      .execute();
    const qualys = rows
      .map((row) => JSON.parse(row.body))
      .filter((body) => body.properties.publisher === 'Qualys')
      .map((body) => `${body.name} ${body.properties.type}`)
      .sort();
    expect(qualys).toEqual([
      'QualysVA LinuxAgent.AzureSecurityCenter',
      'WindowsAgent.AzureSecurityCenter WindowsAgent.AzureSecurityCenter',
      'WindowsAgent.AzureSecurityCenter WindowsAgent.AzureSecurityCenter',
    ]);
  });

  it('places subscriptions in the exported hierarchy under this tenant’s root group', async () => {
    const store = await freshStore();
    await importFixture(store);
    const production = await getResource(store.db, `/subscriptions/${PRODUCTION}`);
    expect(production!.body).toMatchObject({
      displayName: 'Contoso Production',
      tenantId: TENANT,
      state: 'Enabled',
      tags: { costCenter: 'CC-1001' },
      subscriptionPolicies: { quotaId: 'EnterpriseAgreement_2014-09-01' },
    });
    const legacy = await getResource(store.db, `/subscriptions/${LEGACY}`);
    expect(legacy!.body.displayName).toBe('subscription 5a4e2c11');
    const links = await store.db
      .selectFrom('resources')
      .select(['name', 'parent_key'])
      .where('type', '=', 'microsoft.management/managementgroups/subscriptions')
      .orderBy('name')
      .execute();
    expect(links).toEqual([
      { name: PRODUCTION, parent_key: '/providers/microsoft.management/managementgroups/contoso-corp' },
      { name: LEGACY, parent_key: `/providers/microsoft.management/managementgroups/${TENANT}` },
    ]);
    const corp = await getResource(store.db, '/providers/microsoft.management/managementgroups/contoso-corp');
    expect(corp!.body.properties).toMatchObject({
      displayName: 'Corp',
      details: { parent: { name: 'contoso', displayName: 'Contoso' } },
    });
    const contoso = await getResource(store.db, '/providers/microsoft.management/managementgroups/contoso');
    expect(contoso!.body.properties.details.parent).toMatchObject({ name: TENANT });
    const implied = await getResource(store.db, `/subscriptions/${LEGACY}/resourcegroups/legacy-rg`);
    expect(implied!.body).toMatchObject({ name: 'legacy-rg', location: 'eastus' });
  });

  it('imports the same export twice without duplicating anything', async () => {
    const store = await freshStore();
    const first = await importFixture(store);
    const before = await snapshot(store);
    const second = await importFixture(store);
    const after = await snapshot(store);
    expect(after.map((row) => row.split(' ')[0])).toEqual(before.map((row) => row.split(' ')[0]));
    expect(after).toEqual(before);
    expect(second.imported).toEqual(first.imported);
    expect(second.created).toEqual({ managementGroups: 0, subscriptions: 0, resourceGroups: 0 });
  });

  it('reads a bare array and the REST API’s table form as well as the CLI envelope', async () => {
    const rows = JSON.parse(FIXTURE).data as Record<string, unknown>[];
    expect(parseResourceGraphExport(JSON.stringify(rows))).toHaveLength(15);
    const columns = Object.keys(rows[0]!).map((name) => ({ name, type: 'string' }));
    const table = { data: { columns, rows: rows.map((row) => columns.map((column) => row[column.name])) } };
    expect(parseResourceGraphExport(JSON.stringify(table))).toEqual(rows);
  });

  it('rejects a file that is not JSON, or not rows, with a message that says so, and writes nothing', async () => {
    expect(() => parseResourceGraphExport('id,name,type\n/subscriptions/x,x,y', 'estate.csv')).toThrow(
      /^estate\.csv is not valid JSON: .*CSV is not read/,
    );
    expect(() => parseResourceGraphExport('{"data": [', 'cut.json')).toThrow(/^cut\.json is not valid JSON/);
    expect(() => parseResourceGraphExport('{"rows": 3}', 'odd.json')).toThrow(
      /^odd\.json is not a Resource Graph export/,
    );
    expect(() => parseResourceGraphExport('[{"id": "/subscriptions/x"}]', 'a.json')).toThrow(
      'a.json: row 1 (/subscriptions/x) has no "type"',
    );

    const store = await freshStore();
    const before = await snapshot(store);
    const rows = parseResourceGraphExport(FIXTURE);
    const broken = [
      ...rows,
      {
        ...rows[3]!,
        id: `/subscriptions/${PRODUCTION}/resourceGroups/rg/providers/Microsoft.Compute/disks/d1`,
      },
    ];
    await expect(importResourceGraphExport(store.db, broken, { tenantId: TENANT, now: NOW })).rejects.toThrow(
      ImportError,
    );
    await expect(importResourceGraphExport(store.db, broken, { tenantId: TENANT, now: NOW })).rejects.toThrow(
      /row 16 .*: the id does not have the form \/subscriptions\/\*\/resourcegroups\/\*\/providers\/microsoft\.compute\/virtualmachines\/\*/,
    );
    expect(await snapshot(store)).toEqual(before);
  });
});

describe('an imported estate through the ARM API', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ listen: false });
    await importResourceGraphExport(t.server.store.db, parseResourceGraphExport(FIXTURE), {
      tenantId: t.server.tenantId,
      now: t.server.services.clock.now(),
    });
    t.server.services.authz.invalidate();
  });
  afterAll(() => t.close());

  it('serves the imported subscriptions and resource groups', async () => {
    const listed = await t.inject({ method: 'GET', url: '/subscriptions?api-version=2022-12-01' });
    expect(listed.status).toBe(200);
    expect(listed.body.value.map((subscription: ArmBody) => subscription.displayName).sort()).toEqual([
      'Contoso Production',
      'subscription 5a4e2c11',
    ]);
    const group = await t.inject({ method: 'GET', url: `${WEB.toLowerCase()}?api-version=2021-04-01` });
    expect(group.status).toBe(200);
    expect(group.body).toMatchObject({
      name: 'RG-Prod-Web',
      location: 'westeurope',
      tags: { environment: 'prod' },
    });
  });

  it('serves an imported deallocated VM with its power state', async (context) => {
    if (!t.server.registry.lookup('Microsoft.Compute', ['virtualMachines'])) context.skip();
    const expanded = await t.inject({
      method: 'GET',
      url: `${WEB}/providers/Microsoft.Compute/virtualMachines/app02?api-version=2024-03-01&$expand=instanceView`,
    });
    expect(expanded.status).toBe(200);
    expect(expanded.body.properties.instanceView.statuses.map((status: ArmBody) => status.code)).toContain(
      'PowerState/deallocated',
    );
  });
});
