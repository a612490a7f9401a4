/**
 * The exact ARM requests the transition sends, as values: method, path (canonical casing), api-version,
 * JSON body and `If-Match`. Plan and apply build their calls only from these, and the tests assert
 * them on the wire, so what runs against vaplane is byte for byte what runs against Azure.
 */

export type ArmMethod = 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST';

export interface ArmRequest {
  method: ArmMethod;
  /** An ARM path (a resource id, unencoded) or an absolute URL on the same endpoint. */
  path: string;
  apiVersion: string;
  body?: unknown;
  ifMatch?: string;
  ifNoneMatch?: string;
  /** Query options besides `api-version` (`$top`, `$expand`, `$filter`). */
  query?: Record<string, string>;
}

export const API_VERSIONS = {
  /** The GA version; Microsoft's transition page still shows 2022-01-01-preview, policy 766e621d uses this. */
  serverVulnerabilityAssessmentsSettings: '2023-05-01',
  virtualMachineExtensions: '2024-03-01',
  /**
   * A connector is read and written back whole, so both calls use one version that knows every field
   * of the offerings: 2023-10-01-preview has `vmScanners` on the Defender for Servers offerings, which
   * the 2022-08-01-preview shown on Microsoft's transition page lacks (a round trip there could drop
   * agentless scanning).
   */
  securityConnectors: '2023-10-01-preview',
  subscriptions: '2022-12-01',
  managementGroups: '2023-04-01',
  /** Scope-generic pricings with `enforce` and the extension list (§5.2). */
  pricings: '2024-01-01',
  /** The version Microsoft's MDE-integration page uses for `settings/WDATP` (§6). */
  settings: '2022-05-01',
  virtualMachines: '2024-03-01',
  hybridCompute: '2024-07-10',
  /** The swagger's newest revision; Microsoft's scripts send 2015-06-01-preview to the same paths (§3.2). */
  serverVulnerabilityAssessments: '2020-01-01',
  securitySolutions: '2020-01-01',
} as const;

export type SelectedProvider = 'MdeTvm';

export function vaSettingPath(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`;
}

/** GET of a subscription's VA provider setting (404 when none is set). */
export function getVaSetting(subscriptionId: string): ArmRequest {
  return {
    method: 'GET',
    path: vaSettingPath(subscriptionId),
    apiVersion: API_VERSIONS.serverVulnerabilityAssessmentsSettings,
  };
}

/** PUT of a subscription's VA provider setting: the REST path of Microsoft's transition page. */
export function setVaProvider(
  subscriptionId: string,
  selectedProvider: SelectedProvider = 'MdeTvm',
): ArmRequest {
  return {
    method: 'PUT',
    path: vaSettingPath(subscriptionId),
    apiVersion: API_VERSIONS.serverVulnerabilityAssessmentsSettings,
    body: { kind: 'AzureServersSetting', properties: { selectedProvider } },
  };
}

const VM_EXTENSION_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)\/extensions\/([^/]+)$/i;

/**
 * DELETE of a VM extension (a long-running operation). Takes the extension's id as ARM listed it and
 * sends it in canonical casing, whatever casing the listing used.
 */
export function deleteVmExtension(extensionId: string): ArmRequest {
  const match = VM_EXTENSION_ID.exec(extensionId);
  if (!match) throw new Error(`Not a virtual machine extension id: '${extensionId}'.`);
  const [, subscriptionId, resourceGroup, vmName, extensionName] = match;
  return {
    method: 'DELETE',
    path: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vmName}/extensions/${extensionName}`,
    apiVersion: API_VERSIONS.virtualMachineExtensions,
  };
}

const SECURITY_CONNECTOR_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Security\/securityConnectors\/([^/]+)$/i;

/** The canonical path of a security connector (Azure answers ids with `resourcegroups`/`securityconnectors`). */
export function securityConnectorPath(connectorId: string): string {
  const match = SECURITY_CONNECTOR_ID.exec(connectorId);
  if (!match) throw new Error(`Not a security connector id: '${connectorId}'.`);
  const [, subscriptionId, resourceGroup, name] = match;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Security/securityConnectors/${name}`;
}

export function getSecurityConnector(connectorId: string): ArmRequest {
  return {
    method: 'GET',
    path: securityConnectorPath(connectorId),
    apiVersion: API_VERSIONS.securityConnectors,
  };
}

/** A security connector as GET returns it; only the members the PUT needs to know about are typed. */
export interface SecurityConnector {
  id: string;
  name?: string;
  type?: string;
  etag?: string;
  systemData?: unknown;
  location?: string;
  [member: string]: unknown;
}

/**
 * PUT of a whole connector (after GET and a change), conditional on the ETag it was read with (the
 * GET's `ETag` header, else its `etag` member), so a concurrent change fails with 412 instead of
 * being overwritten; a connector without an ETag is put unconditionally. The body is the connector as
 * read without its read-only envelope (`id`, `name`, `type`, `systemData`); its `etag` member stays,
 * as Microsoft's example asks ("must be supplied for update").
 */
export function putSecurityConnector(
  connector: SecurityConnector,
  etag: string | undefined = connector.etag,
): ArmRequest {
  const { id, name: _name, type: _type, systemData: _systemData, ...body } = connector;
  return {
    method: 'PUT',
    path: securityConnectorPath(id),
    apiVersion: API_VERSIONS.securityConnectors,
    body,
    ...(etag ? { ifMatch: etag } : {}),
  };
}

// ─── Discovery: what the plan reads ──────────────────────────────────────────────────────────────

/** Every subscription the caller can see (paged). */
export function listSubscriptions(): ArmRequest {
  return { method: 'GET', path: '/subscriptions', apiVersion: API_VERSIONS.subscriptions };
}

export function getSubscription(subscriptionId: string): ArmRequest {
  return { method: 'GET', path: `/subscriptions/${subscriptionId}`, apiVersion: API_VERSIONS.subscriptions };
}

export function managementGroupPath(name: string): string {
  return `/providers/Microsoft.Management/managementGroups/${name}`;
}

/**
 * A management group with its children. Azure answers `$recurse=true` with the whole subtree; a server
 * that answers only the direct children is walked group by group.
 */
export function getManagementGroupChildren(name: string): ArmRequest {
  return {
    method: 'GET',
    path: managementGroupPath(name),
    apiVersion: API_VERSIONS.managementGroups,
    query: { $expand: 'children', $recurse: 'true' },
  };
}

export function serversPricingPath(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines`;
}

/** Defender for Servers on a subscription: tier, sub-plan and extensions (`AgentlessVmScanning`). */
export function getServersPricing(subscriptionId: string): ArmRequest {
  return { method: 'GET', path: serversPricingPath(subscriptionId), apiVersion: API_VERSIONS.pricings };
}

/** A pricing extension as PUT takes it: read-only `operationStatus` left out. */
export interface PricingExtensionInput {
  name: string;
  isEnabled: string;
  additionalExtensionProperties?: Record<string, unknown>;
}

/**
 * PUT of the subscription's Defender for Servers pricing. The body carries only writable members
 * (Microsoft.Security refuses read-only ones such as `freeTrialRemainingTime`), and every extension
 * the caller read, so that turning one on leaves the others as they were.
 */
export function putServersPricing(
  subscriptionId: string,
  properties: {
    pricingTier: string;
    subPlan?: string;
    enforce?: string;
    extensions: PricingExtensionInput[];
  },
): ArmRequest {
  return {
    method: 'PUT',
    path: serversPricingPath(subscriptionId),
    apiVersion: API_VERSIONS.pricings,
    body: { properties },
  };
}

export function endpointProtectionPath(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Security/settings/WDATP`;
}

/** The portal's "Endpoint protection" toggle (§6). */
export function getEndpointProtection(subscriptionId: string): ArmRequest {
  return { method: 'GET', path: endpointProtectionPath(subscriptionId), apiVersion: API_VERSIONS.settings };
}

/** Turns "Endpoint protection" on: the body of Microsoft's MDE-integration page (§6). */
export function enableEndpointProtection(subscriptionId: string): ArmRequest {
  return {
    method: 'PUT',
    path: endpointProtectionPath(subscriptionId),
    apiVersion: API_VERSIONS.settings,
    body: { kind: 'DataExportSettings', properties: { enabled: true } },
  };
}

/** Every VM of a subscription with its power state (`statusOnly=true` adds the instance view). */
export function listVirtualMachines(subscriptionId: string): ArmRequest {
  return {
    method: 'GET',
    path: `/subscriptions/${subscriptionId}/providers/Microsoft.Compute/virtualMachines`,
    apiVersion: API_VERSIONS.virtualMachines,
    query: { statusOnly: 'true' },
  };
}

export function listArcMachines(subscriptionId: string): ArmRequest {
  return {
    method: 'GET',
    path: `/subscriptions/${subscriptionId}/providers/Microsoft.HybridCompute/machines`,
    apiVersion: API_VERSIONS.hybridCompute,
  };
}

const VM_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i;
const ARC_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.HybridCompute\/machines\/([^/]+)$/i;

export type MachineKind = 'virtualMachine' | 'arcMachine';

/** A machine's kind and its id in canonical casing, whatever casing ARM listed it with. */
export function machineOf(machineId: string): { kind: MachineKind; path: string } {
  const vm = VM_ID.exec(machineId);
  if (vm) {
    const [, subscriptionId, resourceGroup, name] = vm;
    return {
      kind: 'virtualMachine',
      path: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`,
    };
  }
  const arc = ARC_ID.exec(machineId);
  if (arc) {
    const [, subscriptionId, resourceGroup, name] = arc;
    return {
      kind: 'arcMachine',
      path: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.HybridCompute/machines/${name}`,
    };
  }
  throw new Error(`Not a virtual machine or Arc machine id: '${machineId}'.`);
}

function machineApiVersion(kind: MachineKind): string {
  return kind === 'virtualMachine' ? API_VERSIONS.virtualMachines : API_VERSIONS.hybridCompute;
}

/** A machine's extensions: the Compute list (not paged) or the HybridCompute list (paged). */
export function listMachineExtensions(machineId: string): ArmRequest {
  const machine = machineOf(machineId);
  return { method: 'GET', path: `${machine.path}/extensions`, apiVersion: machineApiVersion(machine.kind) };
}

/** Splits `{machineId}/extensions/{name}` into the machine and the extension name. */
export function machineExtensionOf(extensionId: string): {
  machineId: string;
  kind: MachineKind;
  name: string;
} {
  const at = extensionId.toLowerCase().lastIndexOf('/extensions/');
  if (at < 0) throw new Error(`Not a machine extension id: '${extensionId}'.`);
  const machine = machineOf(extensionId.slice(0, at));
  return { machineId: machine.path, kind: machine.kind, name: extensionId.slice(at + '/extensions/'.length) };
}

export function getMachineExtension(extensionId: string): ArmRequest {
  const extension = machineExtensionOf(extensionId);
  return {
    method: 'GET',
    path: `${extension.machineId}/extensions/${extension.name}`,
    apiVersion: machineApiVersion(extension.kind),
  };
}

/** DELETE of an Arc machine's extension (a long-running operation, §10.3). */
export function deleteArcExtension(extensionId: string): ArmRequest {
  const extension = machineExtensionOf(extensionId);
  if (extension.kind !== 'arcMachine') throw new Error(`Not an Arc machine extension id: '${extensionId}'.`);
  return {
    method: 'DELETE',
    path: `${extension.machineId}/extensions/${extension.name}`,
    apiVersion: API_VERSIONS.hybridCompute,
  };
}

/** DELETE of a VM's or an Arc machine's extension, whichever the id names. */
export function deleteMachineExtension(extensionId: string): ArmRequest {
  return machineExtensionOf(extensionId).kind === 'virtualMachine'
    ? deleteVmExtension(extensionId)
    : deleteArcExtension(extensionId);
}

/** A VM with its instance view (power state) or an Arc machine (its `status`). */
export function getMachine(machineId: string): ArmRequest {
  const machine = machineOf(machineId);
  return machine.kind === 'virtualMachine'
    ? {
        method: 'GET',
        path: machine.path,
        apiVersion: API_VERSIONS.virtualMachines,
        query: { $expand: 'instanceView' },
      }
    : { method: 'GET', path: machine.path, apiVersion: API_VERSIONS.hybridCompute };
}

export type VmPowerAction = 'start' | 'deallocate' | 'powerOff';

/** POST of a VM power action (a long-running operation). */
export function vmPowerAction(vmId: string, action: VmPowerAction): ArmRequest {
  const machine = machineOf(vmId);
  if (machine.kind !== 'virtualMachine') throw new Error(`Not a virtual machine id: '${vmId}'.`);
  return { method: 'POST', path: `${machine.path}/${action}`, apiVersion: API_VERSIONS.virtualMachines };
}

/** A machine's legacy per-machine VA resources (`default` = built-in Qualys, `mdeTvm`); not paged (§3.3). */
export function listLegacyVa(machineId: string): ArmRequest {
  return {
    method: 'GET',
    path: `${machineOf(machineId).path}/providers/Microsoft.Security/serverVulnerabilityAssessments`,
    apiVersion: API_VERSIONS.serverVulnerabilityAssessments,
  };
}

const LEGACY_VA_SEGMENT = '/providers/microsoft.security/servervulnerabilityassessments/';

function legacyVaPath(legacyVaId: string): string {
  const at = legacyVaId.toLowerCase().lastIndexOf(LEGACY_VA_SEGMENT);
  if (at < 0) throw new Error(`Not a serverVulnerabilityAssessments id: '${legacyVaId}'.`);
  const name = legacyVaId.slice(at + LEGACY_VA_SEGMENT.length);
  return `${machineOf(legacyVaId.slice(0, at)).path}/providers/Microsoft.Security/serverVulnerabilityAssessments/${name}`;
}

export function getLegacyVa(legacyVaId: string): ArmRequest {
  return {
    method: 'GET',
    path: legacyVaPath(legacyVaId),
    apiVersion: API_VERSIONS.serverVulnerabilityAssessments,
  };
}

/** DELETE of a legacy per-machine VA resource (a long-running operation in the newest revision, §3.2). */
export function deleteLegacyVa(legacyVaId: string): ArmRequest {
  return {
    method: 'DELETE',
    path: legacyVaPath(legacyVaId),
    apiVersion: API_VERSIONS.serverVulnerabilityAssessments,
  };
}

export function listSecurityConnectors(subscriptionId: string): ArmRequest {
  return {
    method: 'GET',
    path: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityConnectors`,
    apiVersion: API_VERSIONS.securityConnectors,
  };
}

/** BYOL partner solutions (and other security solutions) of a subscription; not paged (§7). */
export function listSecuritySolutions(subscriptionId: string): ArmRequest {
  return {
    method: 'GET',
    path: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securitySolutions`,
    apiVersion: API_VERSIONS.securitySolutions,
  };
}
