/**
 * `Microsoft.Compute/virtualMachines`: GET (the power state only with `$expand=instanceView`), lists by
 * resource group and subscription, PUT as a long-running create/update of the properties vaplane
 * models, PATCH of tags, DELETE as a long-running operation that removes the VM and everything on it,
 * `GET .../instanceView`, and the power actions start, powerOff, deallocate and restart.
 */
import { errors } from '../../arm/errors.js';
import type { ArmReply, Handler, ResourceTypeDef } from '../../arm/registry.js';
import {
  checkPreconditions,
  collectionQuery,
  listReply,
  type Placement,
  placeTarget,
  readTarget,
  targetKey,
} from '../../arm/resourceOps.js';
import {
  expectBoolean,
  expectEnum,
  expectString,
  objectBody,
  parseTags,
  rejectUnknown,
} from '../../arm/validate.js';
import {
  type ArmBody,
  deepFreeze,
  getResource,
  listResources,
  type StoredResource,
} from '../../store/index.js';
import {
  expandOption,
  expectArray,
  expectInteger,
  expectObject,
  keepLocation,
  parentContext,
  queryOption,
  saveBody,
  trackedLocation,
} from '../requests.js';
import { COMPUTE_API_VERSIONS } from './apiVersions.js';
import {
  type ImageReference,
  type PowerState,
  powerStateOf,
  VM_EXTENSION_TYPE,
  virtualMachineRecord,
  withPowerState,
} from './model.js';
import { computeLroStyle, OPERATION_KINDS, type PowerActionInput, putReplyHeaders } from './operations.js';

const VM_TYPE_NAME = 'Microsoft.Compute/virtualMachines';
/** Azure caps extensions per VM far below this; GET shows them all in `resources`. */
const MAX_EXTENSIONS = 1000;
const VM_NAME = /^[a-zA-Z0-9](?:[-a-zA-Z0-9._]{0,62}[a-zA-Z0-9_])?$/;
const OS_TYPES = ['Windows', 'Linux'] as const;
const CACHING = ['None', 'ReadOnly', 'ReadWrite'] as const;

/** What GET shows of a stored VM: its power state only when `$expand=instanceView` asks for it. */
export function virtualMachineView(
  body: ArmBody,
  options: { instanceView: boolean; extensions?: ArmBody[] },
): ArmBody {
  if (Object.isFrozen(body)) return sharedView(body, options);
  const { instanceView: stored, ...properties } = (body.properties ?? {}) as ArmBody;
  const view: ArmBody = {
    ...body,
    properties: options.instanceView
      ? { ...properties, instanceView: instanceViewOf(body, stored) }
      : properties,
  };
  if (options.extensions && options.extensions.length > 0) view.resources = options.extensions;
  return view;
}

/**
 * The view of a VM the store's reader shares (frozen until the database changes), made once per
 * variant and frozen in turn, so that the server can reuse its JSON text too.
 */
const sharedViews = new WeakMap<ArmBody, { instanceView: boolean; extensions: ArmBody[]; view: ArmBody }[]>();
function sharedView(body: ArmBody, options: { instanceView: boolean; extensions?: ArmBody[] }): ArmBody {
  const extensions = options.extensions ?? [];
  const made = sharedViews.get(body) ?? [];
  const same = made.find(
    (known) =>
      known.instanceView === options.instanceView &&
      known.extensions.length === extensions.length &&
      known.extensions.every((extension, index) => extension === extensions[index]),
  );
  if (same) return same.view;
  const view = deepFreeze(virtualMachineView(structuredClone(body), { ...options, extensions }));
  if (made.length >= 4) made.shift();
  made.push({ instanceView: options.instanceView, extensions, view });
  sharedViews.set(body, made);
  return view;
}

function instanceViewOf(body: ArmBody, stored: ArmBody | undefined = body.properties?.instanceView): ArmBody {
  return { computerName: body.properties?.osProfile?.computerName, ...(stored ?? {}) };
}

function provisioningStateOf(vm: StoredResource): string | undefined {
  return vm.body.properties?.provisioningState;
}

function refuseWhileDeleting(vm: StoredResource, operation: string): void {
  if (provisioningStateOf(vm) === 'Deleting') throw errors.vmMarkedForDeletion(operation, vm.name);
}

/** The members of a VM PUT that vaplane models, checked for shape. */
interface VirtualMachineInput {
  vmSize?: string;
  image?: ImageReference;
  osType?: 'Windows' | 'Linux';
  /** Validated `osDisk` members other than `osType`. */
  osDisk: ArmBody;
  dataDisks?: unknown[];
  computerName?: string;
  adminUsername?: string;
  windowsConfiguration?: ArmBody;
  linuxConfiguration?: ArmBody;
  secrets?: unknown[];
  allowExtensionOperations?: boolean;
  requireGuestProvisionSignal?: boolean;
  networkProfile?: ArmBody;
}

function parseVirtualMachineProperties(value: unknown): VirtualMachineInput {
  const properties = expectObject(value, 'properties', 'VirtualMachineProperties') ?? {};
  // Read-only members (`vmId`, `provisioningState`, `instanceView`, `timeCreated`) are accepted and
  // ignored, so that a body read with GET can be sent back.
  rejectUnknown(
    properties,
    [
      'hardwareProfile',
      'storageProfile',
      'osProfile',
      'networkProfile',
      'vmId',
      'provisioningState',
      'instanceView',
      'timeCreated',
    ],
    'VirtualMachineProperties',
    'properties',
  );
  const input: VirtualMachineInput = { osDisk: {} };

  const hardware = expectObject(properties.hardwareProfile, 'properties.hardwareProfile', 'HardwareProfile');
  if (hardware) {
    rejectUnknown(hardware, ['vmSize'], 'HardwareProfile', 'properties.hardwareProfile');
    input.vmSize = expectString(hardware.vmSize, 'properties.hardwareProfile.vmSize', { optional: true });
  }

  const storage = expectObject(properties.storageProfile, 'properties.storageProfile', 'StorageProfile');
  if (storage) {
    rejectUnknown(
      storage,
      ['imageReference', 'osDisk', 'dataDisks'],
      'StorageProfile',
      'properties.storageProfile',
    );
    const at = 'properties.storageProfile.imageReference';
    const image = expectObject(storage.imageReference, at, 'ImageReference');
    if (image) {
      rejectUnknown(image, ['publisher', 'offer', 'sku', 'version', 'exactVersion'], 'ImageReference', at);
      input.image = {
        publisher: expectString(image.publisher, `${at}.publisher`)!,
        offer: expectString(image.offer, `${at}.offer`)!,
        sku: expectString(image.sku, `${at}.sku`)!,
        version: expectString(image.version, `${at}.version`, { optional: true }),
      };
    }
    const osDisk = expectObject(storage.osDisk, 'properties.storageProfile.osDisk', 'OSDisk');
    if (osDisk) input.osDisk = parseOsDisk(osDisk, input);
    input.dataDisks = expectArray(storage.dataDisks, 'properties.storageProfile.dataDisks');
  }

  const os = expectObject(properties.osProfile, 'properties.osProfile', 'OSProfile');
  if (os) {
    const at = 'properties.osProfile';
    rejectUnknown(
      os,
      [
        'computerName',
        'adminUsername',
        'adminPassword',
        'customData',
        'windowsConfiguration',
        'linuxConfiguration',
        'secrets',
        'allowExtensionOperations',
        'requireGuestProvisionSignal',
      ],
      'OSProfile',
      at,
    );
    input.computerName = expectString(os.computerName, `${at}.computerName`, { optional: true });
    input.adminUsername = expectString(os.adminUsername, `${at}.adminUsername`, { optional: true });
    // Write-only secrets: checked, never stored or echoed (Azure never returns them either).
    expectString(os.adminPassword, `${at}.adminPassword`, { optional: true });
    expectString(os.customData, `${at}.customData`, { optional: true });
    input.windowsConfiguration = expectObject(
      os.windowsConfiguration,
      `${at}.windowsConfiguration`,
      'WindowsConfiguration',
    );
    input.linuxConfiguration = expectObject(
      os.linuxConfiguration,
      `${at}.linuxConfiguration`,
      'LinuxConfiguration',
    );
    input.secrets = expectArray(os.secrets, `${at}.secrets`);
    input.allowExtensionOperations = expectBoolean(
      os.allowExtensionOperations,
      `${at}.allowExtensionOperations`,
    );
    input.requireGuestProvisionSignal = expectBoolean(
      os.requireGuestProvisionSignal,
      `${at}.requireGuestProvisionSignal`,
    );
  }

  input.networkProfile = expectObject(
    properties.networkProfile,
    'properties.networkProfile',
    'NetworkProfile',
  );
  return input;
}

function parseOsDisk(osDisk: ArmBody, input: VirtualMachineInput): ArmBody {
  const at = 'properties.storageProfile.osDisk';
  rejectUnknown(
    osDisk,
    ['osType', 'name', 'createOption', 'caching', 'managedDisk', 'diskSizeGB', 'deleteOption'],
    'OSDisk',
    at,
  );
  if (osDisk.osType !== undefined) input.osType = expectEnum(osDisk.osType, OS_TYPES, `${at}.osType`);
  const parsed: ArmBody = {};
  const name = expectString(osDisk.name, `${at}.name`, { optional: true });
  if (name !== undefined) parsed.name = name;
  const createOption = expectString(osDisk.createOption, `${at}.createOption`, { optional: true });
  if (createOption !== undefined) parsed.createOption = createOption;
  if (osDisk.caching !== undefined) parsed.caching = expectEnum(osDisk.caching, CACHING, `${at}.caching`);
  const managedDisk = expectObject(osDisk.managedDisk, `${at}.managedDisk`, 'ManagedDiskParameters');
  if (managedDisk) {
    rejectUnknown(managedDisk, ['storageAccountType', 'id'], 'ManagedDiskParameters', `${at}.managedDisk`);
    const storageAccountType = expectString(
      managedDisk.storageAccountType,
      `${at}.managedDisk.storageAccountType`,
      {
        optional: true,
      },
    );
    expectString(managedDisk.id, `${at}.managedDisk.id`, { optional: true });
    if (storageAccountType !== undefined) parsed.managedDisk = { storageAccountType };
  }
  const diskSizeGB = expectInteger(osDisk.diskSizeGB, `${at}.diskSizeGB`);
  if (diskSizeGB !== undefined) parsed.diskSizeGB = diskSizeGB;
  if (osDisk.deleteOption !== undefined) {
    parsed.deleteOption = expectEnum(
      osDisk.deleteOption,
      ['Delete', 'Detach'] as const,
      `${at}.deleteOption`,
    );
  }
  return parsed;
}

/** Applies the mutable members of a PUT to a stored VM body. */
function applyInput(body: ArmBody, input: VirtualMachineInput): void {
  const properties = body.properties;
  if (input.vmSize !== undefined) properties.hardwareProfile = { vmSize: input.vmSize };
  const osDisk = { ...properties.storageProfile.osDisk, ...input.osDisk };
  if (input.osDisk.managedDisk) {
    osDisk.managedDisk = { ...properties.storageProfile.osDisk.managedDisk, ...input.osDisk.managedDisk };
  }
  properties.storageProfile = { ...properties.storageProfile, osDisk };
  if (input.dataDisks) properties.storageProfile.dataDisks = input.dataDisks;
  const osProfile = { ...properties.osProfile };
  if (input.adminUsername !== undefined) osProfile.adminUsername = input.adminUsername;
  if (input.windowsConfiguration) osProfile.windowsConfiguration = input.windowsConfiguration;
  if (input.linuxConfiguration) osProfile.linuxConfiguration = input.linuxConfiguration;
  if (input.secrets) osProfile.secrets = input.secrets;
  if (input.allowExtensionOperations !== undefined)
    osProfile.allowExtensionOperations = input.allowExtensionOperations;
  if (input.requireGuestProvisionSignal !== undefined)
    osProfile.requireGuestProvisionSignal = input.requireGuestProvisionSignal;
  properties.osProfile = osProfile;
  if (input.networkProfile) properties.networkProfile = input.networkProfile;
}

function createdVirtualMachine(
  placement: Placement,
  o: { location: string; tags: Record<string, string>; input: VirtualMachineInput; now: string },
): StoredResource {
  const { input } = o;
  if (!input.vmSize) throw errors.missingRequiredParameter('hardwareProfile.vmSize');
  if (!input.image) throw errors.missingRequiredParameter('storageProfile.imageReference');
  if (!input.adminUsername) throw errors.missingRequiredParameter('osProfile.adminUsername');
  if (!VM_NAME.test(placement.name)) throw errors.invalidResourceName(placement.name, VM_TYPE_NAME);
  // Images do not carry their OS type here: Windows images are published under `MicrosoftWindows*`.
  const osType = input.osType ?? (/windows/i.test(input.image.publisher) ? 'Windows' : 'Linux');
  const record = virtualMachineRecord({
    subscriptionId: placement.subscriptionId!,
    resourceGroup: placement.id.split('/')[4]!,
    name: placement.name,
    location: o.location,
    osType,
    image: input.image,
    vmSize: input.vmSize,
    // Created running: it reports `starting` until the creation completes.
    powerState: 'starting',
    tags: o.tags,
    now: o.now,
  });
  const body: ArmBody = { ...record.body, id: placement.id };
  body.properties.provisioningState = 'Creating';
  if (input.computerName !== undefined) body.properties.osProfile.computerName = input.computerName;
  if (osType === 'Windows') delete input.linuxConfiguration;
  else delete input.windowsConfiguration;
  applyInput(body, input);
  return { ...record, id: placement.id, key: placement.key, body };
}

function updatedVirtualMachine(
  existing: StoredResource,
  o: { tags: Record<string, string>; input: VirtualMachineInput; now: string },
): StoredResource {
  const { input } = o;
  const properties = existing.body.properties;
  if (input.image && !sameImage(input.image, properties.storageProfile.imageReference)) {
    throw errors.propertyChangeNotAllowed('imageReference');
  }
  if (input.osType && input.osType !== properties.storageProfile.osDisk.osType) {
    throw errors.propertyChangeNotAllowed('osDisk.osType');
  }
  if (input.computerName !== undefined && input.computerName !== properties.osProfile.computerName) {
    throw errors.propertyChangeNotAllowed('osProfile.computerName');
  }
  if (input.adminUsername !== undefined && input.adminUsername !== properties.osProfile.adminUsername) {
    throw errors.propertyChangeNotAllowed('osProfile.adminUsername');
  }
  const body: ArmBody = structuredClone(existing.body);
  body.tags = o.tags;
  body.properties.provisioningState = 'Updating';
  applyInput(body, input);
  return { ...existing, body, updatedAt: o.now };
}

function sameImage(requested: ImageReference, stored: ImageReference): boolean {
  const same = (a: string | undefined, b: string | undefined) =>
    (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
  return (
    same(requested.publisher, stored.publisher) &&
    same(requested.offer, stored.offer) &&
    same(requested.sku, stored.sku) &&
    (requested.version === undefined || same(requested.version, stored.version))
  );
}

const POWER_ACTIONS: Record<string, { name: string; during: PowerState; after: PowerState }> = {
  start: { name: 'start', during: 'starting', after: 'running' },
  poweroff: { name: 'powerOff', during: 'stopping', after: 'stopped' },
  deallocate: { name: 'deallocate', during: 'deallocating', after: 'deallocated' },
  restart: { name: 'restart', during: 'starting', after: 'running' },
};

function powerAction(action: (typeof POWER_ACTIONS)[string]): Handler {
  return async (ctx) => {
    const vm = await readTarget(parentContext(ctx, virtualMachinesType));
    refuseWhileDeleting(vm, action.name);
    const state = powerStateOf(vm.body);
    const deallocated = state === 'deallocated' || state === 'deallocating';
    if ((action.name === 'restart' || action.name === 'powerOff') && deallocated) {
      throw errors.vmDeallocated(action.name, vm.name);
    }
    if (action.name === 'restart' && (state === 'stopped' || state === 'stopping')) {
      throw errors.vmMustBeRunning();
    }
    const now = ctx.services.clock.now().toISOString();
    await saveBody(ctx.db, vm, withPowerState(vm.body, action.during, now), now);
    const input: PowerActionInput = { action: action.name, after: action.after };
    const { headers } = await ctx.services.lro.start(ctx, {
      kind: OPERATION_KINDS.powerAction,
      namespace: 'Microsoft.Compute',
      location: vm.body.location,
      targetKey: vm.key,
      input,
      style: computeLroStyle,
    });
    return { status: 202, headers };
  };
}

function vmReply(vm: StoredResource, status = 200, headers: Record<string, string> = {}): ArmReply {
  return {
    status,
    body: virtualMachineView(vm.body, { instanceView: false }),
    headers: { ...headers, etag: vm.etag },
  };
}

export const virtualMachinesType: ResourceTypeDef = {
  namespace: 'Microsoft.Compute',
  type: 'virtualMachines',
  apiVersions: COMPUTE_API_VERSIONS,
  scopes: ['resourceGroup'],
  listScopes: ['resourceGroup', 'subscription'],
  async get(ctx) {
    const expand = expandOption(ctx, ['instanceView', 'userData']);
    const vm = await readTarget(ctx);
    const extensions = await listResources(ctx.db, {
      type: VM_EXTENSION_TYPE,
      parentKey: vm.key,
      limit: MAX_EXTENSIONS,
    });
    return {
      status: 200,
      body: virtualMachineView(vm.body, {
        instanceView: expand === 'instanceView',
        extensions: extensions.map((extension) => extension.body),
      }),
      headers: { etag: vm.etag },
    };
  },
  async list(ctx) {
    const expand = expandOption(ctx, ['instanceView']);
    const filter = queryOption(ctx, '$filter');
    if (filter !== undefined) {
      throw errors.invalidQueryParameter('$filter', filter, 'filtering virtual machines is not supported.');
    }
    const statusOnly = queryOption(ctx, 'statusOnly')?.toLowerCase() === 'true';
    const instanceView = expand === 'instanceView' || statusOnly;
    return listReply(ctx, await collectionQuery(ctx), (vm) => virtualMachineView(vm.body, { instanceView }));
  },
  async put(ctx) {
    const body = objectBody(ctx.body, 'location');
    rejectUnknown(
      body,
      ['location', 'tags', 'properties', 'id', 'name', 'type', 'etag', 'resources', 'systemData'],
      'VirtualMachine',
    );
    const placement = await placeTarget(ctx);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    if (existing) refuseWhileDeleting(existing, 'PUT');
    const location = trackedLocation(body.location, VM_TYPE_NAME);
    if (existing) keepLocation(existing, location, ctx.parsed.scope.resourceGroup!);
    const tags = parseTags(body.tags) ?? {};
    const input = parseVirtualMachineProperties(body.properties);
    const now = ctx.services.clock.now().toISOString();
    const vm = existing
      ? updatedVirtualMachine(existing, { tags, input, now })
      : createdVirtualMachine(placement, { location, tags, input, now });
    const stored = await saveBody(ctx.db, vm, vm.body, now);
    const { headers } = await ctx.services.lro.start(ctx, {
      kind: OPERATION_KINDS.putVirtualMachine,
      namespace: 'Microsoft.Compute',
      location,
      targetKey: stored.key,
      style: computeLroStyle,
    });
    return vmReply(stored, existing ? 200 : 201, putReplyHeaders(headers));
  },
  async patch(ctx) {
    const body = objectBody(ctx.body, 'tags');
    rejectUnknown(body, ['tags'], 'VirtualMachineUpdate');
    const vm = await readTarget(ctx);
    checkPreconditions(ctx, vm);
    refuseWhileDeleting(vm, 'PATCH');
    const tags = parseTags(body.tags);
    if (tags === undefined) return vmReply(vm);
    const now = ctx.services.clock.now().toISOString();
    return vmReply(await saveBody(ctx.db, vm, { ...vm.body, tags }, now));
  },
  async delete(ctx) {
    const vm = await getResource(ctx.db, targetKey(ctx));
    if (!vm) {
      await placeTarget(ctx);
      return { status: 204 };
    }
    checkPreconditions(ctx, vm);
    const now = ctx.services.clock.now().toISOString();
    const body = { ...vm.body, properties: { ...vm.body.properties, provisioningState: 'Deleting' } };
    await saveBody(ctx.db, vm, body, now);
    const { headers } = await ctx.services.lro.start(ctx, {
      kind: OPERATION_KINDS.deleteVirtualMachine,
      namespace: 'Microsoft.Compute',
      location: vm.body.location,
      targetKey: vm.key,
      style: computeLroStyle,
    });
    return { status: 202, headers };
  },
  actions: Object.fromEntries(
    Object.entries(POWER_ACTIONS).map(([key, action]) => [key, powerAction(action)]),
  ),
};

/**
 * `GET .../virtualMachines/{vm}/instanceView`. To the router a type segment below a named VM is a
 * collection, so the instance view is served as this type's collection GET.
 */
export const virtualMachineInstanceViewType: ResourceTypeDef = {
  namespace: 'Microsoft.Compute',
  type: 'virtualMachines/instanceView',
  apiVersions: COMPUTE_API_VERSIONS,
  scopes: ['resourceGroup'],
  async list(ctx) {
    const vm = await readTarget(parentContext(ctx, virtualMachinesType));
    return { status: 200, body: instanceViewOf(vm.body) };
  },
};
