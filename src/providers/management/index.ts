/**
 * `Microsoft.Management/managementGroups`: the hierarchy above subscriptions (tenant root group →
 * groups → subscriptions). Role assignments and policy assignments at a group apply to everything
 * beneath it. Group writes answer synchronously (Azure answers 200 once the group exists; vaplane
 * does not model the short provisioning window of a new group).
 */
import { ArmError, errors } from '../../arm/errors.js';
import type { ArmContext, Registry, ResourceTypeDef } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import {
  checkPreconditions,
  listReply,
  placeTarget,
  readTarget,
  resourceReply,
  targetKey,
  writeTarget,
} from '../../arm/resourceOps.js';
import { expectString, objectBody, optionalObject, rejectUnknown } from '../../arm/validate.js';
import {
  type ArmBody,
  deleteResource,
  getResource,
  listResources,
  putResource,
  type StoredResource,
} from '../../store/index.js';

export const MANAGEMENT_GROUP_TYPE = 'microsoft.management/managementgroups';
export const GROUP_SUBSCRIPTION_TYPE = 'microsoft.management/managementgroups/subscriptions';
const API_VERSIONS = [
  '2023-04-01',
  '2021-04-01',
  '2020-10-01',
  '2020-05-01',
  '2020-02-01',
  '2019-11-01',
  '2018-03-01-preview',
] as const;

export function managementGroupId(name: string): string {
  return `/providers/Microsoft.Management/managementGroups/${name}`;
}

export function managementGroupBody(options: {
  name: string;
  displayName: string;
  tenantId: string;
  parentId?: string;
  parentDisplayName?: string;
  updatedBy: string;
  updatedTime: string;
}): ArmBody {
  const parentName = options.parentId?.split('/').pop();
  return {
    id: managementGroupId(options.name),
    type: 'Microsoft.Management/managementGroups',
    name: options.name,
    properties: {
      tenantId: options.tenantId,
      displayName: options.displayName,
      details: {
        version: 1,
        updatedTime: options.updatedTime,
        updatedBy: options.updatedBy,
        parent: options.parentId
          ? { id: options.parentId, name: parentName, displayName: options.parentDisplayName ?? parentName }
          : null,
      },
    },
  };
}

/** A management group written outside a request (estate generator, import). */
export function managementGroupRecord(body: ArmBody, now: string): StoredResource {
  return {
    key: keyOf(body.id),
    id: body.id,
    type: MANAGEMENT_GROUP_TYPE,
    subscriptionId: null,
    resourceGroup: null,
    parentKey: '',
    name: body.name,
    body,
    etag: `"${body.name}:${now}"`,
    createdAt: now,
    updatedAt: now,
  };
}

/** The link placing a subscription under a group, as `PUT managementGroups/{g}/subscriptions/{id}` stores it. */
export function groupSubscriptionRecord(options: {
  group: string;
  subscriptionId: string;
  displayName: string;
  tenantId: string;
  state?: string;
  now: string;
}): StoredResource {
  const subscriptionId = options.subscriptionId.toLowerCase();
  const groupId = managementGroupId(options.group);
  const id = `${groupId}/subscriptions/${subscriptionId}`;
  return {
    key: keyOf(id),
    id,
    type: GROUP_SUBSCRIPTION_TYPE,
    subscriptionId: null,
    resourceGroup: null,
    parentKey: keyOf(groupId),
    name: subscriptionId,
    body: {
      id,
      name: subscriptionId,
      type: 'Microsoft.Management/managementGroups/subscriptions',
      properties: {
        tenant: options.tenantId,
        displayName: options.displayName,
        parent: { id: groupId },
        state: options.state ?? 'Enabled',
      },
    },
    etag: `"${subscriptionId}:${options.now}"`,
    createdAt: options.now,
    updatedAt: options.now,
  };
}

async function children(ctx: ArmContext, group: StoredResource): Promise<ArmBody[]> {
  const groups = await listResources(ctx.db, { type: MANAGEMENT_GROUP_TYPE, limit: 100_000 });
  const childGroups = groups
    .filter((candidate) => keyOf(String(candidate.body.properties?.details?.parent?.id ?? '/')) === group.key)
    .map((child) => ({
      id: child.id,
      type: 'Microsoft.Management/managementGroups',
      name: child.name,
      displayName: child.body.properties?.displayName,
    }));
  const subscriptions = await listResources(ctx.db, {
    type: GROUP_SUBSCRIPTION_TYPE,
    parentKey: group.key,
    limit: 100_000,
  });
  return [
    ...childGroups,
    ...subscriptions.map((link) => ({
      id: `/subscriptions/${link.name}`,
      type: '/subscriptions',
      name: link.name,
      displayName: link.body.properties?.displayName,
    })),
  ];
}

const managementGroupsType: ResourceTypeDef = {
  namespace: 'Microsoft.Management',
  type: 'managementGroups',
  apiVersions: API_VERSIONS,
  scopes: ['tenant'],
  async get(ctx) {
    const group = await getResource(ctx.db, targetKey(ctx));
    if (!group) throw errors.managementGroupNotFound(ctx.parsed.target.names[0]!);
    const expand = ctx.query.$expand?.toLowerCase();
    if (expand === 'children') {
      return {
        status: 200,
        body: {
          ...group.body,
          properties: { ...group.body.properties, children: await children(ctx, group) },
        },
      };
    }
    return resourceReply(group);
  },
  async list(ctx) {
    return listReply(ctx, { type: MANAGEMENT_GROUP_TYPE }, (group) => ({
      id: group.id,
      type: group.body.type,
      name: group.name,
      properties: {
        tenantId: group.body.properties?.tenantId,
        displayName: group.body.properties?.displayName,
      },
    }));
  },
  async put(ctx) {
    // Every member is optional: `PUT` with no body creates a group named after its id under the root.
    const body = ctx.body === undefined ? {} : objectBody(ctx.body);
    rejectUnknown(body, ['id', 'type', 'name', 'properties'], 'CreateManagementGroupRequest');
    const properties = optionalObject(body.properties, 'properties', 'CreateManagementGroupProperties');
    rejectUnknown(
      properties,
      ['displayName', 'details', 'tenantId'],
      'CreateManagementGroupProperties',
      'properties',
    );
    const displayName = expectString(properties.displayName, 'properties.displayName', { optional: true });
    const details = optionalObject(properties.details, 'properties.details', 'CreateManagementGroupDetails');
    const parentInfo = optionalObject(details.parent, 'properties.details.parent', 'CreateParentGroupInfo');
    const requestedParent = expectString(parentInfo.id, 'properties.details.parent.id', { optional: true });
    const placement = await placeTarget(ctx);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    const rootKey = keyOf(managementGroupId(ctx.principal.tenantId));
    const parentId =
      requestedParent ??
      existing?.body.properties?.details?.parent?.id ??
      (placement.key === rootKey ? undefined : managementGroupId(ctx.principal.tenantId));
    let parentDisplayName: string | undefined;
    if (parentId) {
      const parent = await getResource(ctx.db, keyOf(parentId));
      if (!parent) throw errors.managementGroupNotFound(parentId.split('/').pop()!);
      if (await isAncestorOrSelf(ctx, placement.key, parent)) {
        throw new ArmError({
          status: 400,
          code: 'BadRequest',
          message: 'Moving a management group under itself or its descendant is not allowed.',
        });
      }
      parentDisplayName = parent.body.properties?.displayName;
    }
    const shaped = managementGroupBody({
      name: placement.name,
      displayName: displayName ?? existing?.body.properties?.displayName ?? placement.name,
      tenantId: ctx.principal.tenantId,
      parentId: parentId ? managementGroupId(parentId.split('/').pop()!) : undefined,
      parentDisplayName,
      updatedBy: ctx.principal.objectId,
      updatedTime: ctx.services.clock.now().toISOString(),
    });
    const { id: _id, name: _name, type: _type, ...rest } = shaped;
    const stored = await writeTarget(ctx, placement, rest, existing, { withSystemData: false });
    return resourceReply(stored, 200);
  },
  async delete(ctx) {
    const group = await getResource(ctx.db, targetKey(ctx));
    if (!group) return { status: 204 };
    if ((await children(ctx, group)).length > 0) {
      throw new ArmError({
        status: 400,
        code: 'BadRequest',
        message: `Management group '${group.name}' has children. Move or delete them before deleting the group.`,
      });
    }
    await deleteResource(ctx.db, group.key);
    return { status: 200 };
  },
};

/** `managementGroups/{group}/subscriptions/{subscriptionId}`: PUT moves a subscription under the group. */
const groupSubscriptionsType: ResourceTypeDef = {
  namespace: 'Microsoft.Management',
  type: 'managementGroups/subscriptions',
  apiVersions: API_VERSIONS,
  scopes: ['tenant'],
  async get(ctx) {
    return resourceReply(await readTarget(ctx));
  },
  async put(ctx) {
    const placement = await placeTarget(ctx);
    const subscriptionId = placement.name.toLowerCase();
    const subscription = await getResource(ctx.db, `/subscriptions/${subscriptionId}`);
    if (!subscription) throw errors.subscriptionNotFound(placement.name);
    await moveSubscription(ctx, subscriptionId);
    const group = await getResource(ctx.db, placement.parentKey);
    const stored = await writeTarget(
      ctx,
      { ...placement, name: subscriptionId, key: placement.key.toLowerCase() },
      {
        properties: {
          tenant: ctx.principal.tenantId,
          displayName: subscription.body.displayName,
          parent: { id: group?.id },
          state: subscription.body.state,
        },
      },
      undefined,
      { withSystemData: false },
    );
    return resourceReply(stored);
  },
  async delete(ctx) {
    const link = await getResource(ctx.db, targetKey(ctx));
    if (!link) return { status: 204 };
    await deleteResource(ctx.db, link.key);
    // A subscription taken out of a group goes back under the tenant root group, as in Azure.
    const rootKey = keyOf(managementGroupId(ctx.principal.tenantId));
    if (link.parentKey !== rootKey) {
      const subscription = await getResource(ctx.db, `/subscriptions/${link.name}`);
      await putResource(
        ctx.db,
        groupSubscriptionRecord({
          group: ctx.principal.tenantId,
          subscriptionId: link.name,
          displayName: String(subscription?.body.displayName ?? link.name),
          tenantId: ctx.principal.tenantId,
          state: subscription?.body.state,
          now: ctx.services.clock.now().toISOString(),
        }),
      );
    }
    return { status: 200 };
  },
};

/** Whether `groupKey` is `candidate` or one of its ancestors (a move there would make a cycle). */
async function isAncestorOrSelf(
  ctx: ArmContext,
  groupKey: string,
  candidate: StoredResource,
): Promise<boolean> {
  const seen = new Set<string>();
  let current: StoredResource | undefined = candidate;
  while (current && !seen.has(current.key)) {
    if (current.key === groupKey) return true;
    seen.add(current.key);
    const parentId: unknown = current.body.properties?.details?.parent?.id;
    current = typeof parentId === 'string' ? await getResource(ctx.db, keyOf(parentId)) : undefined;
  }
  return false;
}

async function moveSubscription(ctx: ArmContext, subscriptionId: string): Promise<void> {
  const links = await ctx.db
    .selectFrom('resources')
    .select('key')
    .where('type', '=', GROUP_SUBSCRIPTION_TYPE)
    .where('name', '=', subscriptionId)
    .execute();
  for (const link of links) await deleteResource(ctx.db, link.key);
}

export function registerManagementProvider(registry: Registry): void {
  registry.register(managementGroupsType);
  registry.register(groupSubscriptionsType);
}
