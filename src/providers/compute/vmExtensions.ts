/**
 * `Microsoft.Compute/virtualMachines/extensions`: list (`{"value":[...]}`, not paged), GET, PUT as a
 * long-running create/update (201/200 with the resource in `Creating`/`Updating` and
 * `Azure-AsyncOperation`), DELETE as a long-running operation (202, empty body, `Azure-AsyncOperation`
 * and the monitor `Location`; 204 when there is nothing to delete). Extensions change only on a VM
 * that runs (or is set to run); one being deleted refuses every operation but another DELETE.
 * Publisher and type are stored verbatim: the Qualys extension is publisher `Qualys`, type
 * `WindowsAgent.AzureSecurityCenter` or `LinuxAgent.AzureSecurityCenter`.
 */
import { errors } from '../../arm/errors.js';
import type { ResourceTypeDef } from '../../arm/registry.js';
import {
  checkPreconditions,
  collectionQuery,
  placeTarget,
  readTarget,
  targetKey,
} from '../../arm/resourceOps.js';
import { expectBoolean, expectString, objectBody, parseTags, rejectUnknown } from '../../arm/validate.js';
import { type ArmBody, getResource, listResources, type StoredResource } from '../../store/index.js';
import {
  expandOption,
  expectArray,
  expectObject,
  keepLocation,
  saveBody,
  trackedLocation,
} from '../requests.js';
import { COMPUTE_API_VERSIONS } from './apiVersions.js';
import { acceptsExtensionChanges, powerStateOf, vmExtensionRecord } from './model.js';
import { computeLroStyle, OPERATION_KINDS, putReplyHeaders } from './operations.js';

const EXTENSION_TYPE_NAME = 'Microsoft.Compute/virtualMachines/extensions';
const MAX_EXTENSIONS = 1000;

/** The extension as GET shows it; `$expand=instanceView` adds a status derived from its provisioning state. */
function extensionView(body: ArmBody, withInstanceView: boolean): ArmBody {
  if (!withInstanceView) return body;
  const state = String(body.properties?.provisioningState ?? 'Succeeded');
  const instanceView = {
    name: body.name,
    type: body.properties?.type,
    typeHandlerVersion: body.properties?.typeHandlerVersion,
    statuses: [
      {
        code: `ProvisioningState/${state.toLowerCase()}`,
        level: state === 'Failed' ? 'Error' : 'Info',
        displayStatus: `Provisioning ${state.toLowerCase()}`,
      },
    ],
  };
  return { ...body, properties: { ...body.properties, instanceView } };
}

interface ExtensionInput {
  publisher?: string;
  type?: string;
  typeHandlerVersion?: string;
  autoUpgradeMinorVersion?: boolean;
  enableAutomaticUpgrade?: boolean;
  suppressFailures?: boolean;
  forceUpdateTag?: string;
  settings?: ArmBody;
  provisionAfterExtensions?: unknown[];
}

function parseExtensionProperties(value: unknown): ExtensionInput {
  const properties = expectObject(value, 'properties', 'VirtualMachineExtensionProperties');
  if (!properties) throw errors.missingRequiredParameter('properties');
  const at = 'properties';
  // `instanceView` and `provisioningState` are read-only: accepted and ignored so a GET body can be sent back.
  rejectUnknown(
    properties,
    [
      'publisher',
      'type',
      'typeHandlerVersion',
      'autoUpgradeMinorVersion',
      'enableAutomaticUpgrade',
      'suppressFailures',
      'forceUpdateTag',
      'settings',
      'protectedSettings',
      'provisionAfterExtensions',
      'instanceView',
      'provisioningState',
    ],
    'VirtualMachineExtensionProperties',
    at,
  );
  // Write-only: checked for shape, never stored or echoed.
  expectObject(properties.protectedSettings, `${at}.protectedSettings`, 'Object');
  return {
    publisher: expectString(properties.publisher, `${at}.publisher`, { optional: true }),
    type: expectString(properties.type, `${at}.type`, { optional: true }),
    typeHandlerVersion: expectString(properties.typeHandlerVersion, `${at}.typeHandlerVersion`, {
      optional: true,
    }),
    autoUpgradeMinorVersion: expectBoolean(
      properties.autoUpgradeMinorVersion,
      `${at}.autoUpgradeMinorVersion`,
    ),
    enableAutomaticUpgrade: expectBoolean(properties.enableAutomaticUpgrade, `${at}.enableAutomaticUpgrade`),
    suppressFailures: expectBoolean(properties.suppressFailures, `${at}.suppressFailures`),
    forceUpdateTag: expectString(properties.forceUpdateTag, `${at}.forceUpdateTag`, { optional: true }),
    settings: expectObject(properties.settings, `${at}.settings`, 'Object'),
    provisionAfterExtensions: expectArray(
      properties.provisionAfterExtensions,
      `${at}.provisionAfterExtensions`,
    ),
  };
}

function applyOptional(properties: ArmBody, input: ExtensionInput): void {
  if (input.typeHandlerVersion !== undefined) properties.typeHandlerVersion = input.typeHandlerVersion;
  if (input.autoUpgradeMinorVersion !== undefined)
    properties.autoUpgradeMinorVersion = input.autoUpgradeMinorVersion;
  if (input.enableAutomaticUpgrade !== undefined)
    properties.enableAutomaticUpgrade = input.enableAutomaticUpgrade;
  if (input.suppressFailures !== undefined) properties.suppressFailures = input.suppressFailures;
  if (input.forceUpdateTag !== undefined) properties.forceUpdateTag = input.forceUpdateTag;
  if (input.settings !== undefined) properties.settings = input.settings;
  if (input.provisionAfterExtensions !== undefined) {
    properties.provisionAfterExtensions = input.provisionAfterExtensions;
  }
}

function createdExtension(
  vm: StoredResource,
  o: { name: string; location: string; tags?: Record<string, string>; input: ExtensionInput; now: string },
): StoredResource {
  const { input } = o;
  if (input.publisher === undefined) throw errors.missingRequiredParameter('publisher');
  if (input.type === undefined) throw errors.missingRequiredParameter('type');
  if (input.typeHandlerVersion === undefined) throw errors.missingRequiredParameter('typeHandlerVersion');
  const record = vmExtensionRecord({
    machineId: vm.id,
    subscriptionId: vm.subscriptionId!,
    resourceGroup: vm.id.split('/')[4]!,
    name: o.name,
    location: o.location,
    publisher: input.publisher,
    type: input.type,
    typeHandlerVersion: input.typeHandlerVersion,
    settings: input.settings,
    provisioningState: 'Creating',
    now: o.now,
  });
  // Azure's default when the request leaves it out; extensions written by the estate generator say true.
  record.body.properties.autoUpgradeMinorVersion = false;
  applyOptional(record.body.properties, input);
  if (o.tags) record.body.tags = o.tags;
  return record;
}

function updatedExtension(
  existing: StoredResource,
  o: { location: string; tags?: Record<string, string>; input: ExtensionInput; now: string },
): StoredResource {
  const { input } = o;
  const stored = existing.body.properties;
  const differs = (requested: string | undefined, current: string) =>
    requested !== undefined && requested.toLowerCase() !== current.toLowerCase();
  if (differs(input.publisher, stored.publisher)) throw errors.propertyChangeNotAllowed('publisher');
  if (differs(input.type, stored.type)) throw errors.propertyChangeNotAllowed('type');
  const body: ArmBody = structuredClone(existing.body);
  applyOptional(body.properties, input);
  body.properties.provisioningState = 'Updating';
  if (o.tags) body.tags = o.tags;
  return { ...existing, body, updatedAt: o.now };
}

/** Compute's preconditions for changing extensions on `vm`. */
function requireExtensionChangesAllowed(vm: StoredResource, operation: string): void {
  if (vm.body.properties?.provisioningState === 'Deleting')
    throw errors.vmMarkedForDeletion(operation, vm.name);
  if (vm.body.properties?.osProfile?.allowExtensionOperations === false) {
    throw errors.vmExtensionOperationsDisallowed();
  }
  if (!acceptsExtensionChanges(powerStateOf(vm.body))) throw errors.vmNotRunningForExtensions();
}

export const vmExtensionsType: ResourceTypeDef = {
  namespace: 'Microsoft.Compute',
  type: 'virtualMachines/extensions',
  apiVersions: COMPUTE_API_VERSIONS,
  scopes: ['resourceGroup'],
  async get(ctx) {
    const expand = expandOption(ctx, ['instanceView']);
    const extension = await readTarget(ctx);
    return { status: 200, body: extensionView(extension.body, expand === 'instanceView') };
  },
  async list(ctx) {
    const expand = expandOption(ctx, ['instanceView']);
    const query = await collectionQuery(ctx);
    const extensions = await listResources(ctx.db, { ...query, limit: MAX_EXTENSIONS });
    return {
      status: 200,
      body: {
        value: extensions.map((extension) => extensionView(extension.body, expand === 'instanceView')),
      },
    };
  },
  async put(ctx) {
    const body = objectBody(ctx.body, 'properties');
    rejectUnknown(body, ['location', 'tags', 'properties', 'id', 'name', 'type'], 'VirtualMachineExtension');
    const placement = await placeTarget(ctx);
    const vm = (await getResource(ctx.db, placement.parentKey))!;
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    const location =
      body.location === undefined ? vm.body.location : trackedLocation(body.location, EXTENSION_TYPE_NAME);
    if (existing) keepLocation(existing, location, ctx.parsed.scope.resourceGroup!);
    const tags = parseTags(body.tags);
    const input = parseExtensionProperties(body.properties);
    if (existing?.body.properties?.provisioningState === 'Deleting') {
      throw errors.vmExtensionMarkedForDeletion('PUT', existing.name);
    }
    requireExtensionChangesAllowed(vm, 'PUT');
    const now = ctx.services.clock.now().toISOString();
    const extension = existing
      ? updatedExtension(existing, { location, tags, input, now })
      : createdExtension(vm, { name: placement.name, location, tags, input, now });
    const stored = await saveBody(ctx.db, extension, extension.body, now);
    const { headers } = await ctx.services.lro.start(ctx, {
      kind: OPERATION_KINDS.putExtension,
      namespace: 'Microsoft.Compute',
      location: vm.body.location,
      targetKey: stored.key,
      style: computeLroStyle,
    });
    return { status: existing ? 200 : 201, body: stored.body, headers: putReplyHeaders(headers) };
  },
  async delete(ctx) {
    const extension = await getResource(ctx.db, targetKey(ctx));
    if (!extension) {
      // Compute answers 204 for an extension that is not there (the VM and its group must be).
      await placeTarget(ctx);
      return { status: 204 };
    }
    checkPreconditions(ctx, extension);
    const vm = (await getResource(ctx.db, extension.parentKey))!;
    requireExtensionChangesAllowed(vm, 'DELETE');
    const now = ctx.services.clock.now().toISOString();
    const body = {
      ...extension.body,
      properties: { ...extension.body.properties, provisioningState: 'Deleting' },
    };
    await saveBody(ctx.db, extension, body, now);
    const { headers } = await ctx.services.lro.start(ctx, {
      kind: OPERATION_KINDS.deleteExtension,
      namespace: 'Microsoft.Compute',
      location: vm.body.location,
      targetKey: extension.key,
      style: computeLroStyle,
    });
    return { status: 202, headers };
  },
};
