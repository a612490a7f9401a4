/**
 * Stored shapes of `Microsoft.HybridCompute` (Azure Arc) machines and their extensions, as the
 * 2024-07-10 spec returns them, shared by the provider, the estate generator and tests.
 */
import { randomUUID } from 'node:crypto';
import { keyOf } from '../../arm/resourceId.js';
import type { ArmBody, StoredResource } from '../../store/index.js';
import { type MachineExtensionSpec, machineExtensionRecord } from '../extensionRecord.js';

export const ARC_MACHINE_TYPE = 'microsoft.hybridcompute/machines';
export const ARC_EXTENSION_TYPE = 'microsoft.hybridcompute/machines/extensions';

export type ArcStatus = 'Connected' | 'Disconnected' | 'Error' | 'Expired';

export interface ArcMachineSpec {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  osType: 'windows' | 'linux';
  osName?: string;
  osSku?: string;
  osVersion?: string;
  status: ArcStatus;
  tags?: Record<string, string>;
  /** For machines discovered through a multicloud connector: `GCP` or `AWS`. */
  cloudProvider?: string;
  now: string;
}

export function arcMachineId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId.toLowerCase()}/resourceGroups/${resourceGroup}/providers/Microsoft.HybridCompute/machines/${name}`;
}

export function arcMachineRecord(spec: ArcMachineSpec): StoredResource {
  const id = arcMachineId(spec.subscriptionId, spec.resourceGroup, spec.name);
  const body: ArmBody = {
    id,
    name: spec.name,
    type: 'Microsoft.HybridCompute/machines',
    location: spec.location,
    tags: spec.tags ?? {},
    kind: spec.cloudProvider ? spec.cloudProvider : null,
    identity: { type: 'SystemAssigned', principalId: randomUUID(), tenantId: null },
    properties: {
      provisioningState: 'Succeeded',
      agentVersion: '1.47.02866.1889',
      status: spec.status,
      lastStatusChange: spec.now,
      displayName: spec.name,
      machineFqdn: spec.name,
      vmUuid: randomUUID(),
      vmId: randomUUID(),
      osName: spec.osName ?? spec.osType,
      osType: spec.osType,
      osSku: spec.osSku ?? null,
      osVersion: spec.osVersion ?? null,
      cloudMetadata: spec.cloudProvider ? { provider: spec.cloudProvider } : null,
      detectedProperties: spec.cloudProvider ? { cloudprovider: spec.cloudProvider } : {},
    },
  };
  return {
    key: keyOf(id),
    id,
    type: ARC_MACHINE_TYPE,
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

export type ArcExtensionSpec = MachineExtensionSpec;

export function arcExtensionRecord(spec: ArcExtensionSpec): StoredResource {
  return machineExtensionRecord(
    spec,
    { armType: 'Microsoft.HybridCompute/machines/extensions', storedType: ARC_EXTENSION_TYPE },
    {
      publisher: spec.publisher,
      type: spec.type,
      typeHandlerVersion: spec.typeHandlerVersion,
      autoUpgradeMinorVersion: false,
      enableAutomaticUpgrade: true,
      settings: spec.settings ?? {},
      provisioningState: 'Succeeded',
      instanceView: {
        name: spec.name,
        type: spec.type,
        typeHandlerVersion: spec.typeHandlerVersion,
        status: { code: 'success', level: 'Information', message: 'Extension Message', time: spec.now },
      },
    },
  );
}
