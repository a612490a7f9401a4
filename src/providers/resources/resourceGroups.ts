/**
 * `Microsoft.Resources/resourceGroups`: create or update (201/200), get, HEAD, list, PATCH of tags, and
 * DELETE as a long-running operation that removes everything in the group when it completes.
 */
import { ArmError, errors } from '../../arm/errors.js';
import type { LroStyle } from '../../arm/lro.js';
import type { ResourceTypeDef } from '../../arm/registry.js';
import {
  checkPreconditions,
  collectionQuery,
  listReply,
  placeTarget,
  readTarget,
  resourceReply,
  targetKey,
  writeTarget,
} from '../../arm/resourceOps.js';
import { expectString, objectBody, parseTags, rejectUnknown } from '../../arm/validate.js';
import { getResource, putResource, type StoredResource } from '../../store/index.js';
import { AZURE_LOCATIONS, normaliseLocation } from '../locations.js';
import { RESOURCES_API_VERSIONS } from './apiVersions.js';

export const RESOURCE_GROUP_TYPE = 'microsoft.resources/resourcegroups';
export const DELETE_RESOURCE_GROUP = 'resources.resourceGroup.delete';

/** ARM answers a group delete with only a `Location` under the subscription. */
export const resourceGroupDeleteStyle: LroStyle = {
  resultPath: (operation) => `/subscriptions/${operation.subscriptionId}/operationresults/${operation.id}`,
};

/** A resource group written outside a request (estate generator, import, tests). */
export function resourceGroupRecord(options: {
  subscriptionId: string;
  name: string;
  location: string;
  tags?: Record<string, string>;
  now: string;
}): StoredResource {
  const subscriptionId = options.subscriptionId.toLowerCase();
  const id = `/subscriptions/${subscriptionId}/resourceGroups/${options.name}`;
  return {
    key: id.toLowerCase(),
    id,
    type: RESOURCE_GROUP_TYPE,
    subscriptionId,
    resourceGroup: options.name.toLowerCase(),
    parentKey: `/subscriptions/${subscriptionId}`,
    name: options.name,
    body: {
      id,
      name: options.name,
      type: 'Microsoft.Resources/resourceGroups',
      location: options.location,
      ...(options.tags ? { tags: options.tags } : {}),
      properties: { provisioningState: 'Succeeded' },
    },
    etag: `"${subscriptionId}:${options.name.toLowerCase()}"`,
    createdAt: options.now,
    updatedAt: options.now,
  };
}

export const resourceGroupsType: ResourceTypeDef = {
  namespace: 'Microsoft.Resources',
  type: 'resourceGroups',
  apiVersions: RESOURCES_API_VERSIONS,
  scopes: ['subscription'],
  operationType: 'Microsoft.Resources/subscriptions/resourceGroups',
  async get(ctx) {
    const group = await getResource(ctx.db, targetKey(ctx));
    if (!group) {
      await placeTarget(ctx);
      throw errors.resourceGroupNotFound(ctx.parsed.target.names[0]!);
    }
    return resourceReply(group);
  },
  async list(ctx) {
    return listReply(ctx, await collectionQuery(ctx));
  },
  async put(ctx) {
    const body = objectBody(ctx.body, 'location');
    rejectUnknown(
      body,
      ['location', 'tags', 'managedBy', 'properties', 'id', 'name', 'type'],
      'ResourceGroup',
    );
    const placement = await placeTarget(ctx);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    if (existing?.body.properties?.provisioningState === 'Deleting') throw groupBeingDeleted(placement.name);
    if (body.location === undefined || body.location === null) throw errors.locationRequired();
    const requestedLocation = expectString(body.location, 'location')!;
    const location = normaliseLocation(requestedLocation);
    if (!location) throw locationNotAvailable(requestedLocation);
    if (existing && existing.body.location !== location) {
      throw new ArmError({
        status: 409,
        code: 'InvalidResourceGroupLocation',
        message: `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.body.location}'.`,
      });
    }
    const tags = parseTags(body.tags);
    const stored = await writeTarget(
      ctx,
      placement,
      {
        location,
        ...(body.managedBy ? { managedBy: expectString(body.managedBy, 'managedBy') } : {}),
        ...(tags ? { tags } : existing?.body.tags ? { tags: existing.body.tags } : {}),
        properties: { provisioningState: 'Succeeded' },
      },
      existing,
      { withSystemData: false },
    );
    return resourceReply(stored, existing ? 200 : 201);
  },
  async patch(ctx) {
    const body = objectBody(ctx.body, 'tags');
    rejectUnknown(body, ['tags', 'managedBy', 'name', 'properties'], 'ResourceGroupPatchable');
    const existing = await readTarget(ctx);
    checkPreconditions(ctx, existing);
    if (existing.body.properties?.provisioningState === 'Deleting') throw groupBeingDeleted(existing.name);
    const tags = parseTags(body.tags);
    const placement = await placeTarget(ctx);
    const { id: _id, name: _name, type: _type, ...rest } = existing.body;
    const stored = await writeTarget(ctx, placement, { ...rest, ...(tags ? { tags } : {}) }, existing, {
      withSystemData: false,
    });
    return resourceReply(stored);
  },
  async delete(ctx) {
    const group = await getResource(ctx.db, targetKey(ctx));
    if (!group) {
      await placeTarget(ctx);
      throw errors.resourceGroupNotFound(ctx.parsed.target.names[0]!);
    }
    checkPreconditions(ctx, group);
    group.body.properties = { ...group.body.properties, provisioningState: 'Deleting' };
    await putResource(ctx.db, group);
    const { headers } = await ctx.services.lro.start(ctx, {
      kind: DELETE_RESOURCE_GROUP,
      namespace: 'Microsoft.Resources',
      location: group.body.location,
      targetKey: group.key,
      input: { subscriptionId: group.subscriptionId, resourceGroup: group.resourceGroup },
      style: resourceGroupDeleteStyle,
    });
    return { status: 202, headers };
  },
};

function groupBeingDeleted(name: string): ArmError {
  return errors.conflict(
    'ResourceGroupBeingDeleted',
    `The resource group '${name}' is in deprovisioning state and cannot perform this operation.`,
  );
}

function locationNotAvailable(location: string): ArmError {
  return new ArmError({
    status: 400,
    code: 'LocationNotAvailableForResourceGroup',
    message: `The provided location '${location}' is not available for resource group. List of available regions is '${AZURE_LOCATIONS.join(',')}'.`,
    target: 'location',
  });
}
