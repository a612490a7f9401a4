/**
 * Machines as the portal lists them: Azure VMs and Arc machines read from their providers' lists,
 * reduced to what the list and the overview show.
 */
import { parseResourceId } from '../arm/ids';

export type MachineKind = 'azureVm' | 'arcMachine';
export type OsFamily = 'Windows' | 'Linux' | 'Unknown';

export interface MachineRow {
  id: string;
  name: string;
  kind: MachineKind;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  os: OsFamily;
  /** `running`, `deallocated`, `stopped`… for VMs; `Connected`, `Disconnected`… for Arc machines. */
  powerState: string;
  image?: string;
}

export interface VmBody {
  id: string;
  name: string;
  location: string;
  properties: {
    storageProfile?: {
      osDisk?: { osType?: string };
      imageReference?: { publisher?: string; offer?: string; sku?: string };
    };
    instanceView?: { statuses?: { code?: string }[] };
  };
}

export interface ArcBody {
  id: string;
  name: string;
  location: string;
  properties: { osType?: string; osName?: string; osSku?: string; status?: string };
}

export interface ExtensionBody {
  id: string;
  name: string;
  properties: { publisher?: string; type?: string; typeHandlerVersion?: string; provisioningState?: string };
}

function osFamily(value: string | undefined): OsFamily {
  const lower = value?.toLowerCase();
  if (lower === 'windows') return 'Windows';
  if (lower === 'linux') return 'Linux';
  return 'Unknown';
}

export function vmRow(body: VmBody): MachineRow {
  const parts = parseResourceId(body.id);
  const power = body.properties.instanceView?.statuses
    ?.map((status) => status.code ?? '')
    .find((code) => code.toLowerCase().startsWith('powerstate/'));
  const image = body.properties.storageProfile?.imageReference;
  return {
    id: body.id,
    name: body.name,
    kind: 'azureVm',
    subscriptionId: parts.subscriptionId ?? '',
    resourceGroup: parts.resourceGroup ?? '',
    location: body.location,
    os: osFamily(body.properties.storageProfile?.osDisk?.osType),
    powerState: power ? power.slice('PowerState/'.length) : 'unknown',
    image: image ? [image.offer, image.sku].filter(Boolean).join(' ') : undefined,
  };
}

export function arcRow(body: ArcBody): MachineRow {
  const parts = parseResourceId(body.id);
  return {
    id: body.id,
    name: body.name,
    kind: 'arcMachine',
    subscriptionId: parts.subscriptionId ?? '',
    resourceGroup: parts.resourceGroup ?? '',
    location: body.location,
    os: osFamily(body.properties.osType),
    powerState: body.properties.status ?? 'unknown',
    image: body.properties.osName ?? body.properties.osSku,
  };
}

/**
 * The built-in scanner's extension: publisher `Qualys`, type `WindowsAgent.AzureSecurityCenter` or
 * `LinuxAgent.AzureSecurityCenter`, matched on publisher and type, never on the instance name (§10.1).
 */
export function isLegacyQualysExtension(extension: ExtensionBody): boolean {
  const publisher = extension.properties.publisher?.toLowerCase();
  const type = extension.properties.type?.toLowerCase();
  return (
    publisher === 'qualys' &&
    (type === 'windowsagent.azuresecuritycenter' || type === 'linuxagent.azuresecuritycenter')
  );
}

export function extensionsPath(machineId: string): string {
  return `${machineId}/extensions`;
}

export const POWER_STATE_LABELS: Record<string, string> = {
  running: 'Running',
  deallocated: 'Stopped (deallocated)',
  stopped: 'Stopped',
  starting: 'Starting',
  stopping: 'Stopping',
  deallocating: 'Deallocating',
  Connected: 'Connected',
  Disconnected: 'Disconnected',
  Error: 'Error',
  Expired: 'Expired',
  unknown: 'Unknown',
};
