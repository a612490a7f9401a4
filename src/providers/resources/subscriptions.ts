/**
 * `GET /subscriptions`, `/subscriptions/{id}` and `GET /tenants` as `az login` and the SDKs call them.
 * Subscriptions are created by the estate generator or import (ARM has no plain PUT for them); a
 * caller sees the subscriptions it holds any role on.
 */
import { errors } from '../../arm/errors.js';
import type { Principal } from '../../arm/identity.js';
import { pageReply, pageRequest } from '../../arm/paging.js';
import type { ArmContext, ResourceTypeDef } from '../../arm/registry.js';
import { getResource, listResources, type StoredResource } from '../../store/index.js';

export const SUBSCRIPTION_TYPE = 'microsoft.resources/subscriptions';

export const SUBSCRIPTION_API_VERSIONS = [
  '2024-11-01',
  '2024-07-01',
  '2024-03-01',
  '2023-07-01',
  '2022-12-01',
  '2022-09-01',
  '2022-01-01',
  '2021-04-01',
  '2021-01-01',
  '2020-10-01',
  '2020-06-01',
  '2020-01-01',
  '2019-11-01',
  '2019-10-01',
  '2019-08-01',
  '2019-07-01',
  '2019-06-01',
  '2019-05-10',
  '2019-05-01',
  '2019-03-01',
  '2018-11-01',
  '2018-06-01',
  '2018-05-01',
  '2018-02-01',
  '2017-08-01',
  '2017-05-10',
  '2016-09-01',
  '2016-06-01',
  '2016-02-01',
  '2015-11-01',
  '2015-01-01',
  '2014-04-01',
] as const;

export interface SubscriptionBody {
  id: string;
  subscriptionId: string;
  tenantId: string;
  displayName: string;
  state: 'Enabled' | 'Disabled' | 'Warned' | 'PastDue' | 'Deleted';
  authorizationSource: string;
  managedByTenants: unknown[];
  subscriptionPolicies: { locationPlacementId: string; quotaId: string; spendingLimit: string };
  tags?: Record<string, string>;
}

export function subscriptionBody(options: {
  subscriptionId: string;
  tenantId: string;
  displayName: string;
  tags?: Record<string, string>;
}): SubscriptionBody {
  const subscriptionId = options.subscriptionId.toLowerCase();
  return {
    id: `/subscriptions/${subscriptionId}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId,
    tenantId: options.tenantId,
    displayName: options.displayName,
    state: 'Enabled',
    subscriptionPolicies: {
      locationPlacementId: 'Public_2014-09-01',
      quotaId: 'PayAsYouGo_2014-09-01',
      spendingLimit: 'Off',
    },
    ...(options.tags ? { tags: options.tags } : {}),
  };
}

export function subscriptionRecord(body: SubscriptionBody, now: string): StoredResource {
  return {
    key: `/subscriptions/${body.subscriptionId}`,
    id: body.id,
    type: SUBSCRIPTION_TYPE,
    subscriptionId: body.subscriptionId,
    resourceGroup: null,
    parentKey: '',
    name: body.subscriptionId,
    body: body as unknown as Record<string, unknown>,
    etag: `"${body.subscriptionId}"`,
    createdAt: now,
    updatedAt: now,
  };
}

async function readable(ctx: ArmContext, principal: Principal, id: string): Promise<boolean> {
  return ctx.services.authz.can(principal, 'Microsoft.Resources/subscriptions/read', id);
}

export const subscriptionsType: ResourceTypeDef = {
  namespace: 'Microsoft.Resources',
  type: 'subscriptions',
  apiVersions: SUBSCRIPTION_API_VERSIONS,
  scopes: ['tenant'],
  skipAuthorization: true,
  async get(ctx) {
    const subscriptionId = ctx.parsed.target.names[0]!;
    const found = await getResource(ctx.db, `/subscriptions/${subscriptionId.toLowerCase()}`);
    if (!found || !(await readable(ctx, ctx.principal, found.id)))
      throw errors.subscriptionNotFound(subscriptionId);
    return { status: 200, body: found.body };
  },
  async list(ctx) {
    const page = pageRequest(ctx);
    const shown: StoredResource[] = [];
    let after = page.after;
    // Filter by access while paging: fetch in batches until a page (plus one, to know of a next) is full.
    while (shown.length <= page.size) {
      const batch = await listResources(ctx.db, { type: SUBSCRIPTION_TYPE, after, limit: 1000 });
      for (const subscription of batch) {
        if (await readable(ctx, ctx.principal, subscription.id)) shown.push(subscription);
      }
      if (batch.length < 1000) break;
      after = batch[batch.length - 1]!.key;
    }
    return pageReply(
      ctx,
      page,
      shown,
      (item) => item.body,
      (item) => item.key,
    );
  },
};

export const tenantsType: ResourceTypeDef = {
  namespace: 'Microsoft.Resources',
  type: 'tenants',
  apiVersions: SUBSCRIPTION_API_VERSIONS,
  scopes: ['tenant'],
  skipAuthorization: true,
  async list(ctx) {
    const tenantId = ctx.principal.tenantId;
    return {
      status: 200,
      body: {
        value: [
          {
            id: `/tenants/${tenantId}`,
            tenantId,
            tenantCategory: 'Home',
            countryCode: 'US',
            displayName: 'vaplane',
            domains: ['vaplane.local'],
            defaultDomain: 'vaplane.local',
            tenantType: 'AAD',
          },
        ],
      },
    };
  },
};
