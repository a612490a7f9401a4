/**
 * `Microsoft.HybridCompute/machines/extensions`: list (paged `{"value":[...]}`), GET, and PUT and
 * DELETE as long-running operations that answer 202 with an empty body (`Content-Length: 0`) and the
 * operation URLs (see `operations.ts`, which also explains why changes on a disconnected machine
 * fail). DELETE of an extension that is not there answers 204. Publisher and type are stored verbatim.
 */
import { errors } from '../../arm/errors.js';
import type { ResourceTypeDef } from '../../arm/registry.js';
import {
  checkPreconditions,
  collectionQuery,
  listReply,
  placeTarget,
  readTarget,
  targetKey,
} from '../../arm/resourceOps.js';
import { expectBoolean, expectString, objectBody, parseTags, rejectUnknown } from '../../arm/validate.js';
import { type ArmBody, getResource, type StoredResource } from '../../store/index.js';
import { expandOption, expectObject, keepLocation, saveBody, trackedLocation } from '../requests.js';
import { HYBRID_COMPUTE_API_VERSIONS } from './apiVersions.js';
import { arcExtensionRecord } from './model.js';
import { hybridComputeLroStyle, OPERATION_KINDS } from './operations.js';

const EXTENSION_TYPE_NAME = 'Microsoft.HybridCompute/machines/extensions';

interface ExtensionInput {
  publisher?: string;
  type?: string;
  typeHandlerVersion?: string;
  autoUpgradeMinorVersion?: boolean;
  enableAutomaticUpgrade?: boolean;
  forceUpdateTag?: string;
  settings?: ArmBody;
}

function parseExtensionProperties(value: unknown): ExtensionInput {
  const properties = expectObject(value, 'properties', 'MachineExtensionProperties');
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
      'forceUpdateTag',
      'settings',
      'protectedSettings',
      'instanceView',
      'provisioningState',
    ],
    'MachineExtensionProperties',
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
    forceUpdateTag: expectString(properties.forceUpdateTag, `${at}.forceUpdateTag`, { optional: true }),
    settings: expectObject(properties.settings, `${at}.settings`, 'Object'),
  };
}

function applyOptional(properties: ArmBody, input: ExtensionInput): void {
  if (input.typeHandlerVersion !== undefined) {
    properties.typeHandlerVersion = input.typeHandlerVersion;
    properties.instanceView = { ...properties.instanceView, typeHandlerVersion: input.typeHandlerVersion };
  }
  if (input.autoUpgradeMinorVersion !== undefined)
    properties.autoUpgradeMinorVersion = input.autoUpgradeMinorVersion;
  if (input.enableAutomaticUpgrade !== undefined)
    properties.enableAutomaticUpgrade = input.enableAutomaticUpgrade;
  if (input.forceUpdateTag !== undefined) properties.forceUpdateTag = input.forceUpdateTag;
  if (input.settings !== undefined) properties.settings = input.settings;
}

function createdExtension(
  machine: StoredResource,
  o: { name: string; location: string; tags?: Record<string, string>; input: ExtensionInput; now: string },
): StoredResource {
  const { input } = o;
  if (input.publisher === undefined) throw errors.missingRequiredParameter('publisher');
  if (input.type === undefined) throw errors.missingRequiredParameter('type');
  const record = arcExtensionRecord({
    machineId: machine.id,
    subscriptionId: machine.subscriptionId!,
    resourceGroup: machine.id.split('/')[4]!,
    name: o.name,
    location: o.location,
    publisher: input.publisher,
    type: input.type,
    typeHandlerVersion: input.typeHandlerVersion ?? '',
    settings: input.settings,
    now: o.now,
  });
  const properties = record.body.properties;
  properties.provisioningState = 'Creating';
  // Until the agent reports, the instance view has no status (as Arc lists an extension being created).
  properties.instanceView.status = {};
  if (input.typeHandlerVersion === undefined) {
    // Arc installs the newest version when none is asked for; which one is the agent's to report.
    delete properties.typeHandlerVersion;
    delete properties.instanceView.typeHandlerVersion;
  }
  applyOptional(properties, input);
  if (o.tags) record.body.tags = o.tags;
  return record;
}

function updatedExtension(
  existing: StoredResource,
  o: { tags?: Record<string, string>; input: ExtensionInput; now: string },
): StoredResource {
  const { input } = o;
  const stored = existing.body.properties;
  const differs = (requested: string | undefined, current: string) =>
    requested !== undefined && requested.toLowerCase() !== String(current).toLowerCase();
  if (differs(input.publisher, stored.publisher)) throw errors.propertyChangeNotAllowed('publisher');
  if (differs(input.type, stored.type)) throw errors.propertyChangeNotAllowed('type');
  const body: ArmBody = structuredClone(existing.body);
  applyOptional(body.properties, input);
  body.properties.provisioningState = 'Updating';
  if (o.tags) body.tags = o.tags;
  return { ...existing, body, updatedAt: o.now };
}

export const machineExtensionsType: ResourceTypeDef = {
  namespace: 'Microsoft.HybridCompute',
  type: 'machines/extensions',
  apiVersions: HYBRID_COMPUTE_API_VERSIONS,
  scopes: ['resourceGroup'],
  async get(ctx) {
    const extension = await readTarget(ctx);
    return { status: 200, body: extension.body };
  },
  async list(ctx) {
    // The stored extension carries its instance view, so `$expand=instanceView` changes nothing.
    expandOption(ctx, ['instanceView']);
    return listReply(ctx, await collectionQuery(ctx));
  },
  async put(ctx) {
    const body = objectBody(ctx.body, 'properties');
    rejectUnknown(
      body,
      ['location', 'tags', 'properties', 'id', 'name', 'type', 'systemData'],
      'MachineExtension',
    );
    const placement = await placeTarget(ctx);
    const machine = (await getResource(ctx.db, placement.parentKey))!;
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    const location =
      body.location === undefined
        ? machine.body.location
        : trackedLocation(body.location, EXTENSION_TYPE_NAME);
    if (existing) keepLocation(existing, location, ctx.parsed.scope.resourceGroup!);
    const tags = parseTags(body.tags);
    const input = parseExtensionProperties(body.properties);
    if (existing?.body.properties?.provisioningState === 'Deleting') {
      throw errors.arcExtensionBeingDeleted(existing.name);
    }
    const now = ctx.services.clock.now().toISOString();
    const extension = existing
      ? updatedExtension(existing, { tags, input, now })
      : createdExtension(machine, { name: placement.name, location, tags, input, now });
    const stored = await saveBody(ctx.db, extension, extension.body, now);
    const { headers } = await ctx.services.lro.start(ctx, {
      kind: OPERATION_KINDS.putExtension,
      namespace: 'Microsoft.HybridCompute',
      location: machine.body.location,
      targetKey: stored.key,
      style: hybridComputeLroStyle,
    });
    return { status: 202, headers };
  },
  async delete(ctx) {
    const extension = await getResource(ctx.db, targetKey(ctx));
    if (!extension) {
      await placeTarget(ctx);
      return { status: 204 };
    }
    checkPreconditions(ctx, extension);
    const machine = (await getResource(ctx.db, extension.parentKey))!;
    const now = ctx.services.clock.now().toISOString();
    const body = {
      ...extension.body,
      properties: { ...extension.body.properties, provisioningState: 'Deleting' },
    };
    await saveBody(ctx.db, extension, body, now);
    const { headers } = await ctx.services.lro.start(ctx, {
      kind: OPERATION_KINDS.deleteExtension,
      namespace: 'Microsoft.HybridCompute',
      location: machine.body.location,
      targetKey: extension.key,
      style: hybridComputeLroStyle,
    });
    return { status: 202, headers };
  },
};
