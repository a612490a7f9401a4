import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ArcStatus,
  arcExtensionRecord,
  arcMachineId,
  arcMachineRecord,
} from '../../src/providers/hybridcompute/index.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { getResource, putResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUB = '33333333-4444-4555-8666-777777777777';
const V = 'api-version=2024-07-10';
const RG = `/subscriptions/${SUB}/resourceGroups/Rg-Arc`;
const MACHINES = `${RG}/providers/Microsoft.HybridCompute/machines`;
const operationUrl = (kind: 'operationstatus' | 'operationresults') =>
  new RegExp(
    `^https://localhost/subscriptions/${SUB}/providers/Microsoft\\.HybridCompute/locations/eastus/${kind}/([0-9a-f-]{36})\\?api-version=2024-07-10$`,
  );
const QUALYS_LINUX = {
  location: 'eastus',
  properties: { publisher: 'Qualys', type: 'LinuxAgent.AzureSecurityCenter', typeHandlerVersion: '1.0' },
};

describe('Microsoft.HybridCompute', () => {
  let t: TestServer;

  const now = () => t.server.services.clock.now().toISOString();

  async function seedMachine(name: string, status: ArcStatus = 'Connected'): Promise<string> {
    const machine = arcMachineRecord({
      subscriptionId: SUB,
      resourceGroup: 'Rg-Arc',
      name,
      location: 'eastus',
      osType: 'linux',
      status,
      cloudProvider: 'GCP',
      now: now(),
    });
    await putResource(t.server.store.db, machine);
    return machine.id;
  }

  async function seedQualys(machineId: string): Promise<void> {
    await putResource(
      t.server.store.db,
      arcExtensionRecord({
        machineId,
        subscriptionId: SUB,
        resourceGroup: 'Rg-Arc',
        name: 'LinuxAgent.AzureSecurityCenter',
        location: 'eastus',
        publisher: 'Qualys',
        type: 'LinuxAgent.AzureSecurityCenter',
        typeHandlerVersion: '1.0',
        now: now(),
      }),
    );
  }

  async function setStatus(name: string, status: ArcStatus): Promise<void> {
    const key = arcMachineId(SUB, 'Rg-Arc', name).toLowerCase();
    // Resources read outside a transaction are shared and frozen: change a copy.
    const machine = structuredClone((await getResource(t.server.store.db, key))!);
    machine.body.properties.status = status;
    await putResource(t.server.store.db, machine);
  }

  async function settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 70));
    await t.server.services.lro.runDue();
  }

  function pathOf(url: unknown): string {
    const parsed = new URL(String(url));
    return parsed.pathname + parsed.search;
  }

  beforeAll(async () => {
    t = await startTestServer({ listen: false });
    await addSubscription(t.server, { subscriptionId: SUB });
    await putResource(
      t.server.store.db,
      resourceGroupRecord({ subscriptionId: SUB, name: 'Rg-Arc', location: 'eastus', now: now() }),
    );
  });
  afterAll(() => t.close());

  describe('machines', () => {
    it('GET echoes the stored casing; lists by resource group and subscription', async () => {
      await seedMachine('Arc-One');
      await seedMachine('Arc-Two', 'Disconnected');
      const one = await t.inject({
        method: 'GET',
        url: `/subscriptions/${SUB}/resourcegroups/RG-ARC/providers/microsoft.hybridcompute/MACHINES/arc-one?${V}`,
      });
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({
        id: `${MACHINES}/Arc-One`,
        name: 'Arc-One',
        type: 'Microsoft.HybridCompute/machines',
        properties: { status: 'Connected', osType: 'linux' },
      });
      const byGroup = await t.inject({ method: 'GET', url: `${MACHINES}?${V}` });
      expect(byGroup.body.value.map((machine: { name: string }) => machine.name)).toEqual(
        expect.arrayContaining(['Arc-One', 'Arc-Two']),
      );
      const bySubscription = await t.inject({
        method: 'GET',
        url: `/subscriptions/${SUB}/providers/Microsoft.HybridCompute/machines?${V}`,
      });
      expect(bySubscription.status).toBe(200);
      expect(bySubscription.body.value.length).toBeGreaterThanOrEqual(2);
      const missing = await t.inject({ method: 'GET', url: `${MACHINES}/nope?${V}` });
      expect(missing.status).toBe(404);
      expect(missing.body.error.message).toContain("'Microsoft.HybridCompute/machines/nope'");
    });

    it('PUT creates (201) and updates (200) synchronously; read-only members are ignored, unknown ones refused', async () => {
      const created = await t.inject({
        method: 'PUT',
        url: `${MACHINES}/Arc-New?${V}`,
        body: { location: 'East US', tags: { site: 'dc1' }, properties: { osType: 'windows' } },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: `${MACHINES}/Arc-New`,
        location: 'eastus',
        tags: { site: 'dc1' },
        properties: { provisioningState: 'Succeeded', status: 'Connected', osType: 'windows' },
      });
      expect(created.headers['azure-asyncoperation']).toBeUndefined();

      const roundTrip = await t.inject({
        method: 'PUT',
        url: `${MACHINES}/arc-new?${V}`,
        body: {
          ...created.body,
          tags: { site: 'dc2' },
          properties: { ...created.body.properties, status: 'Expired' },
        },
      });
      expect(roundTrip.status).toBe(200);
      expect(roundTrip.body.id).toBe(`${MACHINES}/Arc-New`);
      expect(roundTrip.body.tags).toEqual({ site: 'dc2' });
      expect(roundTrip.body.properties.status).toBe('Connected');

      const unknown = await t.inject({
        method: 'PUT',
        url: `${MACHINES}/Arc-New?${V}`,
        body: { location: 'eastus', properties: { colour: 'blue' } },
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.message).toContain("Could not find member 'colour'");
      const wrongType = await t.inject({
        method: 'PUT',
        url: `${MACHINES}/Arc-New?${V}`,
        body: { location: 'eastus', properties: { osProfile: 'x' } },
      });
      expect(wrongType.status).toBe(400);
      const badName = await t.inject({
        method: 'PUT',
        url: `${MACHINES}/bad!name?${V}`,
        body: { location: 'eastus' },
      });
      expect(badName.status).toBe(400);
      expect(badName.body.error.code).toBe('InvalidResourceName');
    });

    it('PATCH replaces the tags', async () => {
      await seedMachine('Arc-Tags');
      const patched = await t.inject({
        method: 'PATCH',
        url: `${MACHINES}/Arc-Tags?${V}`,
        body: { tags: { a: 'b' } },
      });
      expect(patched.status).toBe(200);
      expect(patched.body.tags).toEqual({ a: 'b' });
      const refused = await t.inject({
        method: 'PATCH',
        url: `${MACHINES}/Arc-Tags?${V}`,
        body: { properties: { osType: 'linux' } },
      });
      expect(refused.status).toBe(400);
    });

    it('DELETE answers 200 and removes the extensions with the machine; 204 when nothing is there', async () => {
      const id = await seedMachine('Arc-Doomed');
      await seedQualys(id);
      const deleted = await t.inject({ method: 'DELETE', url: `${MACHINES}/Arc-Doomed?${V}` });
      expect(deleted.status).toBe(200);
      expect((await t.inject({ method: 'GET', url: `${MACHINES}/Arc-Doomed?${V}` })).status).toBe(404);
      expect(
        await getResource(t.server.store.db, `${id}/extensions/LinuxAgent.AzureSecurityCenter`.toLowerCase()),
      ).toBeUndefined();
      expect((await t.inject({ method: 'DELETE', url: `${MACHINES}/Arc-Doomed?${V}` })).status).toBe(204);
    });
  });

  describe('machine extensions', () => {
    it('lists and GETs extensions with the Qualys publisher and type verbatim', async () => {
      const id = await seedMachine('Arc-Ext-List');
      await seedQualys(id);
      const list = await t.inject({ method: 'GET', url: `${MACHINES}/Arc-Ext-List/extensions?${V}` });
      expect(list.status).toBe(200);
      expect(list.body.value).toEqual([
        expect.objectContaining({
          id: `${MACHINES}/Arc-Ext-List/extensions/LinuxAgent.AzureSecurityCenter`,
          properties: expect.objectContaining({
            publisher: 'Qualys',
            type: 'LinuxAgent.AzureSecurityCenter',
          }),
        }),
      ]);
      const one = await t.inject({
        method: 'GET',
        url: `${MACHINES}/arc-ext-list/extensions/linuxagent.azuresecuritycenter?${V}`,
      });
      expect(one.status).toBe(200);
      expect(one.body.name).toBe('LinuxAgent.AzureSecurityCenter');
    });

    it('PUT answers 202 with no body and the operation URLs; the final status carries the extension', async () => {
      await seedMachine('Arc-Ext-Put');
      const url = `${MACHINES}/Arc-Ext-Put/extensions/LinuxAgent.AzureSecurityCenter?${V}`;
      const accepted = await t.inject({ method: 'PUT', url, body: QUALYS_LINUX });
      expect(accepted.status).toBe(202);
      expect(accepted.text).toBe('');
      expect(accepted.headers['content-length']).toBe('0');
      const status = String(accepted.headers['azure-asyncoperation']);
      const operationId = operationUrl('operationstatus').exec(status)?.[1];
      expect(operationId).toBeDefined();
      expect(String(accepted.headers.location)).toMatch(operationUrl('operationresults'));
      expect(String(accepted.headers.location)).toContain(operationId);

      const during = await t.inject({ method: 'GET', url });
      expect(during.body.properties.provisioningState).toBe('Creating');
      const polled = await t.inject({ method: 'GET', url: pathOf(status) });
      expect(polled.body).toEqual({ name: operationId, status: 'InProgress', startTime: expect.any(String) });
      expect(polled.headers['azure-asyncoperation']).toBe(status);
      expect(polled.headers.location).toBe(accepted.headers.location);
      expect((await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) })).status).toBe(202);

      await settle();
      const done = await t.inject({ method: 'GET', url: pathOf(status) });
      expect(Object.keys(done.body)).toEqual(['name', 'status', 'startTime', 'properties']);
      expect(done.body.status).toBe('Succeeded');
      expect(done.body.properties).toMatchObject({
        id: `${MACHINES}/Arc-Ext-Put/extensions/LinuxAgent.AzureSecurityCenter`,
        type: 'Microsoft.HybridCompute/machines/extensions',
        properties: {
          publisher: 'Qualys',
          type: 'LinuxAgent.AzureSecurityCenter',
          provisioningState: 'Succeeded',
        },
      });
      const result = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
      expect(result.status).toBe(200);
      expect(result.text).toBe('');
      const extension = await t.inject({ method: 'GET', url });
      expect(extension.body.properties.provisioningState).toBe('Succeeded');
      expect(extension.body.properties.instanceView.status.code).toBe('success');

      const update = await t.inject({
        method: 'PUT',
        url,
        body: { ...QUALYS_LINUX, properties: { ...QUALYS_LINUX.properties, typeHandlerVersion: '1.1' } },
      });
      expect(update.status).toBe(202);
      expect((await t.inject({ method: 'GET', url })).body.properties.provisioningState).toBe('Updating');
      await settle();
      expect((await t.inject({ method: 'GET', url })).body.properties.typeHandlerVersion).toBe('1.1');
    });

    it('DELETE answers 202 with no body, polls to Succeeded without properties, and the extension is gone', async () => {
      const id = await seedMachine('Arc-Ext-Delete');
      await seedQualys(id);
      const url = `${MACHINES}/Arc-Ext-Delete/extensions/LinuxAgent.AzureSecurityCenter?${V}`;
      const accepted = await t.inject({ method: 'DELETE', url });
      expect(accepted.status).toBe(202);
      expect(accepted.text).toBe('');
      expect(accepted.headers['content-length']).toBe('0');
      expect(String(accepted.headers['azure-asyncoperation'])).toMatch(operationUrl('operationstatus'));
      expect(String(accepted.headers.location)).toMatch(operationUrl('operationresults'));
      expect((await t.inject({ method: 'GET', url })).body.properties.provisioningState).toBe('Deleting');
      const refused = await t.inject({ method: 'PUT', url, body: QUALYS_LINUX });
      expect(refused.status).toBe(409);

      await settle();
      const done = await t.inject({ method: 'GET', url: pathOf(accepted.headers['azure-asyncoperation']) });
      expect(Object.keys(done.body)).toEqual(['name', 'status', 'startTime']);
      expect(done.body.status).toBe('Succeeded');
      const result = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
      expect(result.status).toBe(200);
      expect(result.text).toBe('');
      const gone = await t.inject({ method: 'GET', url });
      expect(gone.status).toBe(404);
      expect(gone.body.error.message).toBe(
        "The Resource 'Microsoft.HybridCompute/machines/Arc-Ext-Delete/extensions/LinuxAgent.AzureSecurityCenter' under resource group 'Rg-Arc' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
      );
      expect(gone.headers['x-ms-failure-cause']).toBe('gateway');
    });

    it('DELETE of an extension that is not there answers 204', async () => {
      await seedMachine('Arc-Ext-None');
      const none = await t.inject({
        method: 'DELETE',
        url: `${MACHINES}/Arc-Ext-None/extensions/Absent?${V}`,
      });
      expect(none.status).toBe(204);
    });

    it('extension changes on a disconnected machine are accepted but the operation fails and the extension stays', async () => {
      const id = await seedMachine('Arc-Offline', 'Disconnected');
      await seedQualys(id);
      const url = `${MACHINES}/Arc-Offline/extensions/LinuxAgent.AzureSecurityCenter?${V}`;
      const accepted = await t.inject({ method: 'DELETE', url });
      expect(accepted.status).toBe(202);
      await settle();
      const status = await t.inject({ method: 'GET', url: pathOf(accepted.headers['azure-asyncoperation']) });
      expect(status.body.status).toBe('Failed');
      expect(status.body.error.code).toBe('MachineNotConnected');
      expect(status.body.error.message).toContain("The machine 'Arc-Offline' is disconnected");
      const result = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
      expect(result.status).toBe(409);
      expect(result.body.error.code).toBe('MachineNotConnected');
      const kept = await t.inject({ method: 'GET', url });
      expect(kept.status).toBe(200);
      expect(kept.body.properties.provisioningState).toBe('Failed');

      const install = await t.inject({
        method: 'PUT',
        url: `${MACHINES}/Arc-Offline/extensions/MDE.Linux?${V}`,
        body: {
          location: 'eastus',
          properties: { publisher: 'Microsoft.Azure.AzureDefenderForServers', type: 'MDE.Linux' },
        },
      });
      expect(install.status).toBe(202);
      await settle();
      const failed = await t.inject({ method: 'GET', url: pathOf(install.headers['azure-asyncoperation']) });
      expect(failed.body.status).toBe('Failed');
      expect(failed.body.properties).toBeUndefined();
    });

    it('a machine that disconnects after the request was accepted fails the operation too', async () => {
      const id = await seedMachine('Arc-Drops');
      await seedQualys(id);
      const accepted = await t.inject({
        method: 'DELETE',
        url: `${MACHINES}/Arc-Drops/extensions/LinuxAgent.AzureSecurityCenter?${V}`,
      });
      await setStatus('Arc-Drops', 'Disconnected');
      await settle();
      const status = await t.inject({ method: 'GET', url: pathOf(accepted.headers['azure-asyncoperation']) });
      expect(status.body.status).toBe('Failed');
    });
  });
});
