/**
 * Stored shapes of `Microsoft.Compute` resources (as the 2024-03-01 spec returns them), built in one
 * place so that the provider, the estate generator and tests agree. A VM's power state is kept in
 * `properties.instanceView` of the stored body; GET strips it unless `$expand=instanceView`.
 */
import { randomUUID } from 'node:crypto';
import { keyOf } from '../../arm/resourceId.js';
import type { ArmBody, StoredResource } from '../../store/index.js';
import { type MachineExtensionSpec, machineExtensionRecord } from '../extensionRecord.js';

export const VIRTUAL_MACHINE_TYPE = 'microsoft.compute/virtualmachines';
export const VM_EXTENSION_TYPE = 'microsoft.compute/virtualmachines/extensions';

export type PowerState = 'running' | 'stopped' | 'deallocated' | 'starting' | 'stopping' | 'deallocating';

const POWER_DISPLAY: Record<PowerState, string> = {
  running: 'VM running',
  stopped: 'VM stopped',
  deallocated: 'VM deallocated',
  starting: 'VM starting',
  stopping: 'VM stopping',
  deallocating: 'VM deallocating',
};

export interface ImageReference {
  publisher: string;
  offer: string;
  sku: string;
  version?: string;
}

export interface VirtualMachineSpec {
  subscriptionId: string;
  /** The resource group's stored name (casing kept in ids). */
  resourceGroup: string;
  name: string;
  location: string;
  osType: 'Windows' | 'Linux';
  image: ImageReference;
  vmSize?: string;
  powerState: PowerState;
  tags?: Record<string, string>;
  now: string;
  vmId?: string;
}

export function virtualMachineId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId.toLowerCase()}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`;
}

export function instanceView(powerState: PowerState, at: string): ArmBody {
  return {
    statuses: [
      {
        code: 'ProvisioningState/succeeded',
        level: 'Info',
        displayStatus: 'Provisioning succeeded',
        time: at,
      },
      { code: `PowerState/${powerState}`, level: 'Info', displayStatus: POWER_DISPLAY[powerState] },
    ],
  };
}

/** The power state recorded in a stored VM body (`running` when none is recorded). */
export function powerStateOf(body: ArmBody): PowerState {
  const statuses = (body.properties?.instanceView?.statuses ?? []) as { code?: string }[];
  const code = statuses.find((status) => status.code?.startsWith('PowerState/'))?.code;
  return (code?.slice('PowerState/'.length) as PowerState | undefined) ?? 'running';
}

export function virtualMachineRecord(spec: VirtualMachineSpec): StoredResource {
  const id = virtualMachineId(spec.subscriptionId, spec.resourceGroup, spec.name);
  const windows = spec.osType === 'Windows';
  const body: ArmBody = {
    id,
    name: spec.name,
    type: 'Microsoft.Compute/virtualMachines',
    location: spec.location,
    tags: spec.tags ?? {},
    properties: {
      vmId: spec.vmId ?? randomUUID(),
      hardwareProfile: { vmSize: spec.vmSize ?? 'Standard_D2s_v3' },
      storageProfile: {
        imageReference: { ...spec.image, version: spec.image.version ?? 'latest' },
        osDisk: {
          osType: spec.osType,
          name: `${spec.name}_OsDisk_1`,
          createOption: 'FromImage',
          caching: 'ReadWrite',
          managedDisk: { storageAccountType: 'Premium_LRS' },
          diskSizeGB: windows ? 127 : 30,
        },
        dataDisks: [],
      },
      osProfile: {
        computerName: spec.name.slice(0, 15),
        adminUsername: 'azureuser',
        ...(windows
          ? { windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: true } }
          : { linuxConfiguration: { disablePasswordAuthentication: true, provisionVMAgent: true } }),
        secrets: [],
        allowExtensionOperations: true,
      },
      networkProfile: { networkInterfaces: [] },
      provisioningState: 'Succeeded',
      timeCreated: spec.now,
      instanceView: instanceView(spec.powerState, spec.now),
    },
  };
  return {
    key: keyOf(id),
    id,
    type: VIRTUAL_MACHINE_TYPE,
    subscriptionId: spec.subscriptionId.toLowerCase(),
    resourceGroup: spec.resourceGroup.toLowerCase(),
    parentKey: keyOf(`/subscriptions/${spec.subscriptionId}/resourceGroups/${spec.resourceGroup}`),
    name: spec.name,
    body,
    etag: `"${randomUUID()}"`,
    createdAt: spec.now,
    updatedAt: spec.now,
  };
}

export interface VmExtensionSpec extends MachineExtensionSpec {
  provisioningState?: string;
}

export function vmExtensionRecord(spec: VmExtensionSpec): StoredResource {
  return machineExtensionRecord(
    spec,
    { armType: 'Microsoft.Compute/virtualMachines/extensions', storedType: VM_EXTENSION_TYPE },
    {
      publisher: spec.publisher,
      type: spec.type,
      typeHandlerVersion: spec.typeHandlerVersion,
      autoUpgradeMinorVersion: true,
      settings: spec.settings ?? {},
      provisioningState: spec.provisioningState ?? 'Succeeded',
    },
  );
}

/** Compute accepts extension changes on a VM that runs or is set to run. */
export function acceptsExtensionChanges(state: PowerState): boolean {
  return state === 'running' || state === 'starting';
}

/** The VM body with its recorded power state set to `powerState` at `at`. */
export function withPowerState(body: ArmBody, powerState: PowerState, at: string): ArmBody {
  return { ...body, properties: { ...body.properties, instanceView: instanceView(powerState, at) } };
}
