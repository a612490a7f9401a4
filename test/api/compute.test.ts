import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PowerState,
  virtualMachineId,
  virtualMachineRecord,
  vmExtensionRecord,
} from '../../src/providers/compute/index.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { getResource, putResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUB = '22222222-3333-4444-8555-666666666666';
const V = 'api-version=2024-03-01';
const RG = `/subscriptions/${SUB}/resourceGroups/Rg-Compute`;
const VMS = `${RG}/providers/Microsoft.Compute/virtualMachines`;
const OPERATION_URL = new RegExp(
  `^https://localhost/subscriptions/${SUB}/providers/Microsoft\\.Compute/locations/westeurope/operations/([0-9a-f-]{36})\\?api-version=2024-03-01$`,
);

describe('Microsoft.Compute', () => {
  let t: TestServer;

  const now = () => t.server.services.clock.now().toISOString();

  async function seedVm(name: string, powerState: PowerState = 'running'): Promise<string> {
    const vm = virtualMachineRecord({
      subscriptionId: SUB,
      resourceGroup: 'Rg-Compute',
      name,
      location: 'westeurope',
      osType: 'Windows',
      image: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter' },
      powerState,
      now: now(),
    });
    await putResource(t.server.store.db, vm);
    return vm.id;
  }

  async function seedQualys(vmId: string, name = 'WindowsAgent.AzureSecurityCenter'): Promise<void> {
    await putResource(
      t.server.store.db,
      vmExtensionRecord({
        machineId: vmId,
        subscriptionId: SUB,
        resourceGroup: 'Rg-Compute',
        name,
        location: 'westeurope',
        publisher: 'Qualys',
        type: 'WindowsAgent.AzureSecurityCenter',
        typeHandlerVersion: '1.0',
        now: now(),
      }),
    );
  }

  /** Lets the 50 ms test delay pass, then completes every due operation. */
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
      resourceGroupRecord({ subscriptionId: SUB, name: 'Rg-Compute', location: 'westeurope', now: now() }),
    );
  });
  afterAll(() => t.close());

  describe('virtual machines', () => {
    it('GET hides the power state unless $expand=instanceView, echoes the stored casing and lists extensions in resources', async () => {
      const id = await seedVm('Vm-Get');
      await seedQualys(id);
      const plain = await t.inject({
        method: 'GET',
        url: `/SUBSCRIPTIONS/${SUB}/resourcegroups/rg-compute/providers/microsoft.compute/VIRTUALMACHINES/vm-get?${V}`,
      });
      expect(plain.status).toBe(200);
      expect(plain.body.id).toBe(`${VMS}/Vm-Get`);
      expect(plain.body.name).toBe('Vm-Get');
      expect(plain.body.type).toBe('Microsoft.Compute/virtualMachines');
      expect(plain.body.properties.instanceView).toBeUndefined();
      expect(plain.body.properties.provisioningState).toBe('Succeeded');
      expect(plain.body.resources).toEqual([
        expect.objectContaining({
          name: 'WindowsAgent.AzureSecurityCenter',
          properties: expect.objectContaining({
            publisher: 'Qualys',
            type: 'WindowsAgent.AzureSecurityCenter',
          }),
        }),
      ]);

      const expanded = await t.inject({ method: 'GET', url: `${VMS}/Vm-Get?${V}&$expand=instanceView` });
      expect(expanded.status).toBe(200);
      expect(expanded.body.properties.instanceView.computerName).toBe('Vm-Get');
      expect(expanded.body.properties.instanceView.statuses).toContainEqual({
        code: 'PowerState/running',
        level: 'Info',
        displayStatus: 'VM running',
      });

      const view = await t.inject({ method: 'GET', url: `${VMS}/Vm-Get/instanceView?${V}` });
      expect(view.status).toBe(200);
      expect(view.body.statuses.map((status: { code: string }) => status.code)).toEqual([
        'ProvisioningState/succeeded',
        'PowerState/running',
      ]);

      const badExpand = await t.inject({ method: 'GET', url: `${VMS}/Vm-Get?${V}&$expand=everything` });
      expect(badExpand.status).toBe(400);
      expect(badExpand.body.error.code).toBe('InvalidQueryParameterValue');
    });

    it('repeated GETs, served from the reader’s shared views, follow every change at once', async () => {
      const id = await seedVm('Vm-Views');
      const get = async (expand = '') =>
        (await t.inject({ method: 'GET', url: `${VMS}/Vm-Views?${V}${expand}` })).body;
      for (let round = 0; round < 3; round++) {
        expect((await get()).resources).toBeUndefined();
        expect((await get()).properties.instanceView).toBeUndefined();
        expect((await get('&$expand=instanceView')).properties.instanceView.computerName).toBe('Vm-Views');
      }
      await seedQualys(id);
      expect((await get()).resources.map((extension: { name: string }) => extension.name)).toEqual([
        'WindowsAgent.AzureSecurityCenter',
      ]);
      const patched = await t.inject({
        method: 'PATCH',
        url: `${VMS}/Vm-Views?${V}`,
        body: { tags: { round: 'patched' } },
      });
      expect(patched.status).toBe(200);
      expect((await get()).tags).toEqual({ round: 'patched' });
      expect((await get('&$expand=instanceView')).tags).toEqual({ round: 'patched' });
      expect((await get()).properties.instanceView).toBeUndefined();
    });

    it('GET of a missing VM is ResourceNotFound from the gateway', async () => {
      const missing = await t.inject({ method: 'GET', url: `${VMS}/nope?${V}` });
      expect(missing.status).toBe(404);
      expect(missing.body.error).toEqual({
        code: 'ResourceNotFound',
        message:
          "The Resource 'Microsoft.Compute/virtualMachines/nope' under resource group 'Rg-Compute' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
      });
      expect(missing.headers['x-ms-failure-cause']).toBe('gateway');
    });

    it('lists VMs by resource group and by subscription, with the power state only when asked', async () => {
      await seedVm('Vm-List-1');
      await seedVm('Vm-List-2', 'deallocated');
      const byGroup = await t.inject({ method: 'GET', url: `${VMS}?${V}` });
      expect(byGroup.status).toBe(200);
      const names = byGroup.body.value.map((vm: { name: string }) => vm.name);
      expect(names).toEqual(expect.arrayContaining(['Vm-List-1', 'Vm-List-2']));
      expect(byGroup.body.value[0].properties.instanceView).toBeUndefined();

      const bySubscription = await t.inject({
        method: 'GET',
        url: `/subscriptions/${SUB}/providers/Microsoft.Compute/virtualMachines?${V}&statusOnly=true`,
      });
      expect(bySubscription.status).toBe(200);
      const listed = bySubscription.body.value.find((vm: { name: string }) => vm.name === 'Vm-List-2');
      expect(listed.properties.instanceView.statuses[1].code).toBe('PowerState/deallocated');
    });

    it('PUT creates a VM as a long-running operation: 201 Creating with Azure-AsyncOperation, then Succeeded and running', async () => {
      const created = await t.inject({
        method: 'PUT',
        url: `${VMS}/Vm-New?${V}`,
        body: {
          location: 'West Europe',
          tags: { env: 'rehearsal' },
          properties: {
            hardwareProfile: { vmSize: 'Standard_D2s_v5' },
            storageProfile: {
              imageReference: {
                publisher: 'Canonical',
                offer: 'ubuntu-24_04-lts',
                sku: 'server',
                version: 'latest',
              },
              osDisk: { createOption: 'FromImage', managedDisk: { storageAccountType: 'StandardSSD_LRS' } },
            },
            osProfile: { computerName: 'vm-new', adminUsername: 'ops', adminPassword: 'not-echoed-1!' },
          },
        },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: `${VMS}/Vm-New`,
        name: 'Vm-New',
        location: 'westeurope',
        tags: { env: 'rehearsal' },
        properties: {
          provisioningState: 'Creating',
          hardwareProfile: { vmSize: 'Standard_D2s_v5' },
          storageProfile: {
            imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server' },
            osDisk: { osType: 'Linux', managedDisk: { storageAccountType: 'StandardSSD_LRS' } },
          },
          osProfile: { computerName: 'vm-new', adminUsername: 'ops' },
        },
      });
      expect(created.text).not.toContain('not-echoed');
      expect(created.body.properties.instanceView).toBeUndefined();
      expect(String(created.headers['azure-asyncoperation'])).toMatch(OPERATION_URL);
      expect(created.headers.location).toBeUndefined();

      const statusUrl = pathOf(created.headers['azure-asyncoperation']);
      const running = await t.inject({ method: 'GET', url: statusUrl });
      expect(running.status).toBe(200);
      expect(Object.keys(running.body)).toEqual(['startTime', 'status', 'name']);
      expect(running.body.status).toBe('InProgress');

      await settle();
      const done = await t.inject({ method: 'GET', url: statusUrl });
      expect(Object.keys(done.body)).toEqual(['startTime', 'endTime', 'status', 'name']);
      expect(done.body.status).toBe('Succeeded');
      const vm = await t.inject({ method: 'GET', url: `${VMS}/Vm-New?${V}&$expand=instanceView` });
      expect(vm.body.properties.provisioningState).toBe('Succeeded');
      expect(vm.body.properties.instanceView.statuses[1].code).toBe('PowerState/running');

      const updated = await t.inject({
        method: 'PUT',
        url: `${VMS}/vm-new?${V}`,
        body: { location: 'westeurope', properties: { hardwareProfile: { vmSize: 'Standard_D4s_v5' } } },
      });
      expect(updated.status).toBe(200);
      expect(updated.body.id).toBe(`${VMS}/Vm-New`);
      expect(updated.body.properties.provisioningState).toBe('Updating');
      expect(updated.body.properties.hardwareProfile.vmSize).toBe('Standard_D4s_v5');
      expect(updated.body.tags).toEqual({});
      await settle();
    });

    it('PUT refuses unknown members, wrong types, a missing location and a location change, writing nothing', async () => {
      const body = (extra: Record<string, unknown>) => ({
        location: 'westeurope',
        properties: {
          hardwareProfile: { vmSize: 'Standard_B2s' },
          storageProfile: { imageReference: { publisher: 'Canonical', offer: 'x', sku: 'y' } },
          osProfile: { adminUsername: 'ops' },
        },
        ...extra,
      });
      const unknown = await t.inject({
        method: 'PUT',
        url: `${VMS}/Vm-Bad?${V}`,
        body: body({ zones: ['1'] }),
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.code).toBe('InvalidRequestContent');
      expect(unknown.body.error.message).toContain("Could not find member 'zones'");

      const wrongType = await t.inject({
        method: 'PUT',
        url: `${VMS}/Vm-Bad?${V}`,
        body: { location: 'westeurope', properties: { hardwareProfile: { vmSize: 2 } } },
      });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body.error.message).toContain("Path 'properties.hardwareProfile.vmSize'");

      const noLocation = await t.inject({
        method: 'PUT',
        url: `${VMS}/Vm-Bad?${V}`,
        body: body({ location: undefined }),
      });
      expect(noLocation.status).toBe(400);
      expect(noLocation.body.error.code).toBe('LocationRequired');

      const missingSize = await t.inject({
        method: 'PUT',
        url: `${VMS}/Vm-Bad?${V}`,
        body: { location: 'westeurope', properties: {} },
      });
      expect(missingSize.status).toBe(400);
      expect(missingSize.body.error).toMatchObject({
        code: 'InvalidParameter',
        target: 'hardwareProfile.vmSize',
      });

      const gone = await t.inject({ method: 'GET', url: `${VMS}/Vm-Bad?${V}` });
      expect(gone.status).toBe(404);

      await seedVm('Vm-Located');
      const moved = await t.inject({
        method: 'PUT',
        url: `${VMS}/Vm-Located?${V}`,
        body: { location: 'eastus' },
      });
      expect(moved.status).toBe(409);
      expect(moved.body.error.code).toBe('InvalidResourceLocation');
    });

    it('PATCH replaces the tags', async () => {
      await seedVm('Vm-Tags');
      const patched = await t.inject({
        method: 'PATCH',
        url: `${VMS}/Vm-Tags?${V}`,
        body: { tags: { owner: 'secops' } },
      });
      expect(patched.status).toBe(200);
      expect(patched.body.tags).toEqual({ owner: 'secops' });
      const bad = await t.inject({ method: 'PATCH', url: `${VMS}/Vm-Tags?${V}`, body: { tags: { n: 1 } } });
      expect(bad.status).toBe(400);
    });

    it('deallocate, start, powerOff and restart are long-running operations that move the power state', async () => {
      await seedVm('Vm-Power');
      const powerState = async () =>
        (await t.inject({ method: 'GET', url: `${VMS}/Vm-Power?${V}&$expand=instanceView` })).body.properties
          .instanceView.statuses[1].code;

      const deallocate = await t.inject({ method: 'POST', url: `${VMS}/Vm-Power/deallocate?${V}` });
      expect(deallocate.status).toBe(202);
      expect(deallocate.text).toBe('');
      expect(String(deallocate.headers['azure-asyncoperation'])).toMatch(OPERATION_URL);
      expect(String(deallocate.headers.location)).toBe(
        `${deallocate.headers['azure-asyncoperation']}&monitor=true`,
      );
      expect(await powerState()).toBe('PowerState/deallocating');
      const monitor = pathOf(deallocate.headers.location);
      expect((await t.inject({ method: 'GET', url: monitor })).status).toBe(202);
      await settle();
      const finished = await t.inject({ method: 'GET', url: monitor });
      expect(finished.status).toBe(200);
      expect(finished.text).toBe('');
      expect(await powerState()).toBe('PowerState/deallocated');

      const powerOff = await t.inject({ method: 'POST', url: `${VMS}/Vm-Power/powerOff?${V}` });
      expect(powerOff.status).toBe(409);
      expect(powerOff.body.error).toEqual({
        code: 'OperationNotAllowed',
        message:
          "Operation 'powerOff' is not allowed on VM 'Vm-Power' since the VM is either deallocated or marked to be deallocated.",
      });

      expect((await t.inject({ method: 'POST', url: `${VMS}/Vm-Power/start?${V}` })).status).toBe(202);
      expect(await powerState()).toBe('PowerState/starting');
      await settle();
      expect(await powerState()).toBe('PowerState/running');

      expect((await t.inject({ method: 'POST', url: `${VMS}/Vm-Power/powerOff?${V}` })).status).toBe(202);
      await settle();
      expect(await powerState()).toBe('PowerState/stopped');
      const restart = await t.inject({ method: 'POST', url: `${VMS}/Vm-Power/restart?${V}` });
      expect(restart.status).toBe(409);
      expect(restart.body.error.message).toBe('The operation requires the VM to be running (or set to run).');
    });

    it('DELETE is a long-running operation that removes the VM and its extensions', async () => {
      const id = await seedVm('Vm-Doomed');
      await seedQualys(id);
      const accepted = await t.inject({ method: 'DELETE', url: `${VMS}/Vm-Doomed?${V}` });
      expect(accepted.status).toBe(202);
      expect(String(accepted.headers['azure-asyncoperation'])).toMatch(OPERATION_URL);
      const during = await t.inject({ method: 'GET', url: `${VMS}/Vm-Doomed?${V}` });
      expect(during.body.properties.provisioningState).toBe('Deleting');
      const refused = await t.inject({ method: 'POST', url: `${VMS}/Vm-Doomed/start?${V}` });
      expect(refused.status).toBe(409);
      await settle();
      expect((await t.inject({ method: 'GET', url: `${VMS}/Vm-Doomed?${V}` })).status).toBe(404);
      const extensionKey = `${id}/extensions/WindowsAgent.AzureSecurityCenter`.toLowerCase();
      expect(await getResource(t.server.store.db, extensionKey)).toBeUndefined();
      const again = await t.inject({ method: 'DELETE', url: `${VMS}/Vm-Doomed?${V}` });
      expect(again.status).toBe(204);
    });

    it('refuses an api-version Compute does not serve', async () => {
      const old = await t.inject({ method: 'GET', url: `${VMS}?api-version=2015-01-01` });
      expect(old.status).toBe(400);
      expect(old.body.error.code).toBe('InvalidApiVersionParameter');
      expect(old.body.error.message).toContain('2024-07-01');
    });
  });

  describe('virtual machine extensions', () => {
    it('lists extensions as {"value":[...]} without paging and GETs one with $expand=instanceView', async () => {
      const id = await seedVm('Vm-Ext-List');
      await seedQualys(id);
      await putResource(
        t.server.store.db,
        vmExtensionRecord({
          machineId: id,
          subscriptionId: SUB,
          resourceGroup: 'Rg-Compute',
          name: 'MDE.Windows',
          location: 'westeurope',
          publisher: 'Microsoft.Azure.AzureDefenderForServers',
          type: 'MDE.Windows',
          typeHandlerVersion: '1.0',
          now: now(),
        }),
      );
      const list = await t.inject({ method: 'GET', url: `${VMS}/Vm-Ext-List/extensions?${V}` });
      expect(list.status).toBe(200);
      expect(Object.keys(list.body)).toEqual(['value']);
      expect(list.body.value.map((extension: { name: string }) => extension.name)).toEqual([
        'MDE.Windows',
        'WindowsAgent.AzureSecurityCenter',
      ]);

      const one = await t.inject({
        method: 'GET',
        url: `${VMS}/vm-ext-list/extensions/windowsagent.azuresecuritycenter?${V}&$expand=instanceView`,
      });
      expect(one.status).toBe(200);
      expect(one.body.id).toBe(`${VMS}/Vm-Ext-List/extensions/WindowsAgent.AzureSecurityCenter`);
      expect(one.body.properties.instanceView.statuses[0].code).toBe('ProvisioningState/succeeded');

      const missingVm = await t.inject({ method: 'GET', url: `${VMS}/nope/extensions?${V}` });
      expect(missingVm.status).toBe(404);
    });

    it('PUT answers 201 Creating with Azure-AsyncOperation, then Succeeded; again 200 Updating', async () => {
      await seedVm('Vm-Ext-Put');
      const url = `${VMS}/Vm-Ext-Put/extensions/WindowsAgent.AzureSecurityCenter?${V}`;
      const body = {
        location: 'westeurope',
        properties: {
          publisher: 'Qualys',
          type: 'WindowsAgent.AzureSecurityCenter',
          typeHandlerVersion: '1.0',
          autoUpgradeMinorVersion: true,
          settings: {},
          protectedSettings: { token: 'secret-token' },
        },
      };
      const created = await t.inject({ method: 'PUT', url, body });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: `${VMS}/Vm-Ext-Put/extensions/WindowsAgent.AzureSecurityCenter`,
        name: 'WindowsAgent.AzureSecurityCenter',
        type: 'Microsoft.Compute/virtualMachines/extensions',
        location: 'westeurope',
        properties: {
          publisher: 'Qualys',
          type: 'WindowsAgent.AzureSecurityCenter',
          typeHandlerVersion: '1.0',
          autoUpgradeMinorVersion: true,
          provisioningState: 'Creating',
        },
      });
      expect(created.text).not.toContain('secret-token');
      expect(String(created.headers['azure-asyncoperation'])).toMatch(OPERATION_URL);
      expect(created.headers.location).toBeUndefined();

      const during = await t.inject({ method: 'GET', url });
      expect(during.body.properties.provisioningState).toBe('Creating');
      await settle();
      const status = await t.inject({ method: 'GET', url: pathOf(created.headers['azure-asyncoperation']) });
      expect(status.body.status).toBe('Succeeded');
      expect((await t.inject({ method: 'GET', url })).body.properties.provisioningState).toBe('Succeeded');

      const updated = await t.inject({
        method: 'PUT',
        url,
        body: { ...body, properties: { ...body.properties, typeHandlerVersion: '1.1' } },
      });
      expect(updated.status).toBe(200);
      expect(updated.body.properties).toMatchObject({
        typeHandlerVersion: '1.1',
        provisioningState: 'Updating',
      });
      await settle();
      expect((await t.inject({ method: 'GET', url })).body.properties.provisioningState).toBe('Succeeded');

      const retyped = await t.inject({
        method: 'PUT',
        url,
        body: { ...body, properties: { ...body.properties, type: 'LinuxAgent.AzureSecurityCenter' } },
      });
      expect(retyped.status).toBe(409);
      expect(retyped.body.error.code).toBe('PropertyChangeNotAllowed');

      const incomplete = await t.inject({
        method: 'PUT',
        url: `${VMS}/Vm-Ext-Put/extensions/Other?${V}`,
        body: { location: 'westeurope', properties: { publisher: 'Qualys' } },
      });
      expect(incomplete.status).toBe(400);
      expect(incomplete.body.error.target).toBe('type');
    });

    it('DELETE answers 202 with an empty body and Compute operation URLs, polls to Succeeded, and the monitor answers 202 then 200 empty', async () => {
      const id = await seedVm('Vm-Ext-Delete');
      await seedQualys(id);
      const url = `${VMS}/Vm-Ext-Delete/extensions/WindowsAgent.AzureSecurityCenter?${V}`;
      const accepted = await t.inject({ method: 'DELETE', url });
      expect(accepted.status).toBe(202);
      expect(accepted.text).toBe('');
      const asyncOperation = String(accepted.headers['azure-asyncoperation']);
      const operationId = OPERATION_URL.exec(asyncOperation)?.[1];
      expect(operationId).toBeDefined();
      expect(accepted.headers.location).toBe(`${asyncOperation}&monitor=true`);
      expect(accepted.headers['retry-after']).toBeDefined();

      const during = await t.inject({ method: 'GET', url });
      expect(during.body.properties.provisioningState).toBe('Deleting');
      const polled = await t.inject({ method: 'GET', url: pathOf(asyncOperation) });
      expect(polled.body).toEqual({ startTime: expect.any(String), status: 'InProgress', name: operationId });
      const monitorRunning = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
      expect(monitorRunning.status).toBe(202);

      const refused = await t.inject({
        method: 'PUT',
        url,
        body: {
          location: 'westeurope',
          properties: {
            publisher: 'Qualys',
            type: 'WindowsAgent.AzureSecurityCenter',
            typeHandlerVersion: '1.0',
          },
        },
      });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toEqual({
        code: 'OperationNotAllowed',
        message:
          "Operation 'PUT' is not allowed on VM extension 'WindowsAgent.AzureSecurityCenter' since it is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).",
      });

      await settle();
      const done = await t.inject({ method: 'GET', url: pathOf(asyncOperation) });
      expect(done.body).toEqual({
        startTime: polled.body.startTime,
        endTime: expect.any(String),
        status: 'Succeeded',
        name: operationId,
      });
      const monitorDone = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
      expect(monitorDone.status).toBe(200);
      expect(monitorDone.text).toBe('');
      const gone = await t.inject({ method: 'GET', url });
      expect(gone.status).toBe(404);
      expect(gone.body.error.message).toBe(
        "The Resource 'Microsoft.Compute/virtualMachines/Vm-Ext-Delete/extensions/WindowsAgent.AzureSecurityCenter' under resource group 'Rg-Compute' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
      );
    });

    it('DELETE of an extension that does not exist answers 204; on a missing VM 404', async () => {
      await seedVm('Vm-Ext-None');
      const none = await t.inject({ method: 'DELETE', url: `${VMS}/Vm-Ext-None/extensions/Absent?${V}` });
      expect(none.status).toBe(204);
      expect(none.text).toBe('');
      const noVm = await t.inject({ method: 'DELETE', url: `${VMS}/Vm-Missing/extensions/Absent?${V}` });
      expect(noVm.status).toBe(404);
    });

    it('PUT and DELETE on a deallocated or stopped VM answer 409 OperationNotAllowed from the RP', async () => {
      for (const [name, powerState] of [
        ['Vm-Deallocated', 'deallocated'],
        ['Vm-Stopped', 'stopped'],
      ] as const) {
        const id = await seedVm(name, powerState);
        await seedQualys(id);
        const url = `${VMS}/${name}/extensions/WindowsAgent.AzureSecurityCenter?${V}`;
        const deleted = await t.inject({ method: 'DELETE', url });
        expect(deleted.status).toBe(409);
        expect(deleted.body).toEqual({
          error: {
            code: 'OperationNotAllowed',
            message: 'Cannot modify extensions in the VM when the VM is not running.',
          },
        });
        expect(deleted.headers['x-ms-failure-cause']).toBeUndefined();
        const put = await t.inject({
          method: 'PUT',
          url: `${VMS}/${name}/extensions/New?${V}`,
          body: {
            location: 'westeurope',
            properties: { publisher: 'P', type: 'T', typeHandlerVersion: '1.0' },
          },
        });
        expect(put.status).toBe(409);
        expect(put.body.error.message).toBe('Cannot modify extensions in the VM when the VM is not running.');
        const kept = await t.inject({ method: 'GET', url });
        expect(kept.body.properties.provisioningState).toBe('Succeeded');
      }
    });

    it('a delete accepted on a running VM fails if the VM is deallocated before it completes', async () => {
      const id = await seedVm('Vm-Race');
      await seedQualys(id);
      const url = `${VMS}/Vm-Race/extensions/WindowsAgent.AzureSecurityCenter?${V}`;
      const accepted = await t.inject({ method: 'DELETE', url });
      expect(accepted.status).toBe(202);
      const vm = (await getResource(
        t.server.store.db,
        virtualMachineId(SUB, 'Rg-Compute', 'Vm-Race').toLowerCase(),
      ))!;
      await putResource(t.server.store.db, {
        ...vm,
        body: virtualMachineRecord({
          subscriptionId: SUB,
          resourceGroup: 'Rg-Compute',
          name: 'Vm-Race',
          location: 'westeurope',
          osType: 'Windows',
          image: vm.body.properties.storageProfile.imageReference,
          powerState: 'deallocated',
          now: now(),
        }).body,
      });
      await settle();
      const status = await t.inject({ method: 'GET', url: pathOf(accepted.headers['azure-asyncoperation']) });
      expect(status.body).toMatchObject({
        status: 'Failed',
        error: {
          code: 'OperationNotAllowed',
          message: 'Cannot modify extensions in the VM when the VM is not running.',
        },
      });
      const monitor = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
      expect(monitor.status).toBe(409);
      const extension = await t.inject({ method: 'GET', url });
      expect(extension.body.properties.provisioningState).toBe('Failed');
    });

    it('an operation id from another subscription is not found', async () => {
      const other = '99999999-3333-4444-8555-666666666666';
      await addSubscription(t.server, { subscriptionId: other });
      const id = await seedVm('Vm-Ops');
      await seedQualys(id);
      const accepted = await t.inject({
        method: 'DELETE',
        url: `${VMS}/Vm-Ops/extensions/WindowsAgent.AzureSecurityCenter?${V}`,
      });
      const elsewhere = pathOf(accepted.headers['azure-asyncoperation']).replace(SUB, other);
      expect((await t.inject({ method: 'GET', url: elsewhere })).status).toBe(404);
      await settle();
    });
  });
});
