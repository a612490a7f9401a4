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
