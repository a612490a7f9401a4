/**
 * `Microsoft.HybridCompute/machines` (Azure Arc): GET, lists by resource group and subscription,
 * synchronous PUT (201 create / 200 update), PATCH of tags, and synchronous DELETE (200) that removes
 * the machine's extensions with it (204 when there is no machine).
 *
 * The agent, not ARM, reports a machine's status, OS and fqdn: those members are read-only, accepted
 * and ignored on PUT so that a GET body can be sent back. A machine created through the API stands
 * for an onboarded agent and starts `Connected`; the estate generator and import write other states.
 */
import { randomUUID } from 'node:crypto';
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
import { expectEnum, expectString, objectBody, parseTags, rejectUnknown } from '../../arm/validate.js';
import { type ArmBody, deleteResourceTree, getResource, type StoredResource } from '../../store/index.js';
import { expectArray, expectObject, keepLocation, saveBody, trackedLocation } from '../requests.js';
import { HYBRID_COMPUTE_API_VERSIONS } from './apiVersions.js';
import { arcMachineRecord } from './model.js';

const MACHINE_TYPE_NAME = 'Microsoft.HybridCompute/machines';
const MACHINE_NAME = /^[a-zA-Z0-9-_.]{1,54}$/;

const WRITABLE_STRINGS = [
  'vmId',
  'clientPublicKey',
  'osType',
  'parentClusterResourceId',
  'privateLinkScopeResourceId',
  'mssqlDiscovered',
] as const;
const WRITABLE_OBJECTS = [
  'osProfile',
  'locationData',
  'cloudMetadata',
  'agentUpgrade',
  'licenseProfile',
  'serviceStatuses',
] as const;
const READ_ONLY = [
  'provisioningState',
  'agentVersion',
  'status',
  'lastStatusChange',
  'errorDetails',
  'displayName',
  'machineFqdn',
  'vmUuid',
  'osName',
  'osVersion',
  'osSku',
  'osEdition',
  'domainName',
  'adFqdn',
  'dnsFqdn',
  'detectedProperties',
  'agentConfiguration',
  'networkProfile',
  'extensions',
] as const;

function parseMachineProperties(value: unknown): ArmBody {
  const properties = expectObject(value, 'properties', 'MachineProperties') ?? {};
  rejectUnknown(
    properties,
    [...WRITABLE_STRINGS, ...WRITABLE_OBJECTS, ...READ_ONLY],
    'MachineProperties',
    'properties',
  );
  const writable: ArmBody = {};
  for (const name of WRITABLE_STRINGS) {
    const text = expectString(properties[name] ?? undefined, `properties.${name}`, { optional: true });
    if (text !== undefined) writable[name] = text;
  }
  for (const name of WRITABLE_OBJECTS) {
    const object = expectObject(properties[name], `properties.${name}`, name);
    if (object) writable[name] = object;
  }
  expectArray(properties.extensions, 'properties.extensions');
  return writable;
}

function parseIdentity(value: unknown): ArmBody | undefined {
  const identity = expectObject(value, 'identity', 'Identity');
  if (!identity) return undefined;
  // `principalId` and `tenantId` are read-only.
  rejectUnknown(identity, ['type', 'principalId', 'tenantId'], 'Identity', 'identity');
  return { type: expectEnum(identity.type, ['SystemAssigned', 'None'] as const, 'identity.type') };
}

export const machinesType: ResourceTypeDef = {
  namespace: 'Microsoft.HybridCompute',
  type: 'machines',
  apiVersions: HYBRID_COMPUTE_API_VERSIONS,
  scopes: ['resourceGroup'],
  listScopes: ['resourceGroup', 'subscription'],
  async get(ctx) {
    const machine = await readTarget(ctx);
    return { status: 200, body: machine.body };
  },
  async list(ctx) {
    return listReply(ctx, await collectionQuery(ctx));
  },
  async put(ctx) {
    const body = objectBody(ctx.body, 'location');
    rejectUnknown(
      body,
      ['location', 'tags', 'identity', 'kind', 'properties', 'id', 'name', 'type', 'systemData', 'resources'],
      'Machine',
    );
    const placement = await placeTarget(ctx);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    if (!existing && !MACHINE_NAME.test(placement.name)) {
      throw errors.invalidResourceName(placement.name, MACHINE_TYPE_NAME);
    }
    const location = trackedLocation(body.location, MACHINE_TYPE_NAME);
    if (existing) keepLocation(existing, location, ctx.parsed.scope.resourceGroup!);
    const tags = parseTags(body.tags) ?? {};
    const identity = parseIdentity(body.identity);
    const kind = expectString(body.kind ?? undefined, 'kind', { optional: true });
    const properties = parseMachineProperties(body.properties);
    const now = ctx.services.clock.now().toISOString();

    let machine: StoredResource;
    if (existing) {
      machine = { ...existing, body: structuredClone(existing.body) };
    } else {
      const osType = properties.osType?.toLowerCase();
      machine = arcMachineRecord({
        subscriptionId: placement.subscriptionId!,
        resourceGroup: placement.id.split('/')[4]!,
        name: placement.name,
        location,
        osType: osType === 'linux' ? 'linux' : 'windows',
        status: 'Connected',
        now,
      });
      machine = {
        ...machine,
        id: placement.id,
        key: placement.key,
        body: { ...machine.body, id: placement.id },
      };
      machine.body.identity.tenantId = ctx.principal.tenantId;
      // The agent reports the OS; until it does, a machine created without `osType` has none.
      if (osType === undefined) {
        machine.body.properties.osType = null;
        machine.body.properties.osName = null;
      }
    }
    machine.body.tags = tags;
    if (identity?.type === 'None') machine.body.identity = { type: 'None' };
    else if (identity && machine.body.identity?.type !== 'SystemAssigned') {
      const principalId = randomUUID();
      machine.body.identity = { type: 'SystemAssigned', principalId, tenantId: ctx.principal.tenantId };
    }
    if (kind !== undefined) machine.body.kind = kind;
    Object.assign(machine.body.properties, properties);
    const stored = await saveBody(ctx.db, machine, machine.body, now);
    return { status: existing ? 200 : 201, body: stored.body };
  },
  async patch(ctx) {
    const body = objectBody(ctx.body, 'tags');
    rejectUnknown(body, ['tags'], 'MachineUpdate');
    const machine = await readTarget(ctx);
    checkPreconditions(ctx, machine);
    const tags = parseTags(body.tags);
    if (tags === undefined) return { status: 200, body: machine.body };
    const now = ctx.services.clock.now().toISOString();
    const stored = await saveBody(ctx.db, machine, { ...machine.body, tags }, now);
    return { status: 200, body: stored.body };
  },
  async delete(ctx) {
    const machine = await getResource(ctx.db, targetKey(ctx));
    if (!machine) {
      await placeTarget(ctx);
      return { status: 204 };
    }
    checkPreconditions(ctx, machine);
    await deleteResourceTree(ctx.db, machine.key);
    return { status: 200 };
  },
};
