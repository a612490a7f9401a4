/**
 * The real `@azure/arm-compute` client over real HTTPS: it trusts the server's generated CA through an
 * `https.Agent` that a per-call pipeline policy puts on every request (the SDK's own HTTP client takes
 * no CA option; `NODE_EXTRA_CA_CERTS` is read only at process start), and polls the long-running
 * operations itself.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { ComputeManagementClient } from '@azure/arm-compute';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PowerState,
  virtualMachineRecord,
  vmExtensionRecord,
} from '../../src/providers/compute/index.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { putResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUB = '44444444-5555-4666-8777-888888888888';
const RG = 'Rg-Sdk';
const POLL = { updateIntervalInMs: 20 };

type TokenCredential = ConstructorParameters<typeof ComputeManagementClient>[0];

describe('@azure/arm-compute against vaplane', () => {
  let t: TestServer;
  let client: ComputeManagementClient;
  let agent: Agent;

  async function seedVm(name: string, powerState: PowerState): Promise<void> {
    const now = t.server.services.clock.now().toISOString();
    const vm = virtualMachineRecord({
      subscriptionId: SUB,
      resourceGroup: RG,
      name,
      location: 'westeurope',
      osType: 'Windows',
      image: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2019-datacenter' },
      powerState,
      now,
    });
    await putResource(t.server.store.db, vm);
    await putResource(
      t.server.store.db,
      vmExtensionRecord({
        machineId: vm.id,
        subscriptionId: SUB,
        resourceGroup: RG,
        name: 'WindowsAgent.AzureSecurityCenter',
        location: 'westeurope',
        publisher: 'Qualys',
        type: 'WindowsAgent.AzureSecurityCenter',
        typeHandlerVersion: '1.0',
        now,
      }),
    );
  }

  beforeAll(async () => {
    t = await startTestServer();
    await addSubscription(t.server, { subscriptionId: SUB });
    await putResource(
      t.server.store.db,
      resourceGroupRecord({
        subscriptionId: SUB,
        name: RG,
        location: 'westeurope',
        now: t.server.services.clock.now().toISOString(),
      }),
    );
    await seedVm('Vm-Running', 'running');
    await seedVm('Vm-Deallocated', 'deallocated');

    agent = new Agent({ ca: readFileSync(t.caPath), keepAlive: true });
    const trustServerCa: PipelinePolicy = {
      name: 'trustVaplaneCa',
      sendRequest(request, next) {
        request.agent = agent;
        return next(request);
      },
    };
    const credential: TokenCredential = {
      async getToken() {
        return { token: await t.token(), expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    client = new ComputeManagementClient(credential, SUB, {
      endpoint: t.url,
      additionalPolicies: [{ policy: trustServerCa, position: 'perCall' }],
    });
  });
  afterAll(async () => {
    agent?.destroy();
    await t.close();
  });

  it('virtualMachines.get with expand instanceView reads the power state and the extensions', async () => {
    const vm = await client.virtualMachines.get(RG, 'Vm-Running', { expand: 'instanceView' });
    expect(vm.id).toBe(
      `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/Vm-Running`,
    );
    expect(vm.instanceView?.statuses?.map((status) => status.displayStatus)).toContain('VM running');
    expect(vm.resources?.map((extension) => extension.publisher)).toEqual(['Qualys']);
    const plain = await client.virtualMachines.get(RG, 'Vm-Running');
    expect(plain.instanceView).toBeUndefined();
  });

  it('virtualMachineExtensions.beginCreateOrUpdateAndWait polls the operation and returns the Succeeded extension', async () => {
    const extension = await client.virtualMachineExtensions.beginCreateOrUpdateAndWait(
      RG,
      'Vm-Running',
      'MDE.Windows',
      {
        location: 'westeurope',
        publisher: 'Microsoft.Azure.AzureDefenderForServers',
        typePropertiesType: 'MDE.Windows',
        typeHandlerVersion: '1.0',
        autoUpgradeMinorVersion: true,
        settings: { azureResourceId: 'x' },
      },
      POLL,
    );
    expect(extension.name).toBe('MDE.Windows');
    expect(extension.provisioningState).toBe('Succeeded');
    expect(extension.typePropertiesType).toBe('MDE.Windows');
  });

  it('virtualMachineExtensions.beginDeleteAndWait removes the Qualys extension', async () => {
    await client.virtualMachineExtensions.beginDeleteAndWait(
      RG,
      'Vm-Running',
      'WindowsAgent.AzureSecurityCenter',
      POLL,
    );
    const remaining = await client.virtualMachineExtensions.list(RG, 'Vm-Running');
    expect(remaining.value?.map((extension) => extension.name)).toEqual(['MDE.Windows']);
    // Deleting what is no longer there answers 204, which the SDK treats as done.
    await client.virtualMachineExtensions.beginDeleteAndWait(
      RG,
      'Vm-Running',
      'WindowsAgent.AzureSecurityCenter',
      POLL,
    );
  });

  it('deleting an extension of a deallocated VM fails with OperationNotAllowed', async () => {
    await expect(
      client.virtualMachineExtensions.beginDeleteAndWait(
        RG,
        'Vm-Deallocated',
        'WindowsAgent.AzureSecurityCenter',
        POLL,
      ),
    ).rejects.toMatchObject({
      statusCode: 409,
      code: 'OperationNotAllowed',
      message: 'Cannot modify extensions in the VM when the VM is not running.',
    });
  });
});
