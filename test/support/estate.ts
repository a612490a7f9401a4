/** Small worlds for tests: subscriptions (optionally under a management group) written straight to the store. */
import { keyOf } from '../../src/arm/resourceId.js';
import {
  GROUP_SUBSCRIPTION_TYPE,
  managementGroupBody,
  managementGroupRecord,
} from '../../src/providers/management/index.js';
import { subscriptionBody, subscriptionRecord } from '../../src/providers/resources/index.js';
import type { VaplaneServer } from '../../src/server.js';
import { putResource } from '../../src/store/index.js';

export async function addSubscription(
  server: VaplaneServer,
  options: { subscriptionId: string; displayName?: string; managementGroup?: string },
): Promise<void> {
  const now = server.services.clock.now().toISOString();
  const body = subscriptionBody({
    subscriptionId: options.subscriptionId,
    tenantId: server.tenantId,
    displayName: options.displayName ?? `subscription ${options.subscriptionId.slice(0, 8)}`,
  });
  await putResource(server.store.db, subscriptionRecord(body, now));
  const group = options.managementGroup ?? server.tenantId;
  const id = `/providers/Microsoft.Management/managementGroups/${group}/subscriptions/${body.subscriptionId}`;
  await putResource(server.store.db, {
    key: keyOf(id),
    id,
    type: GROUP_SUBSCRIPTION_TYPE,
    subscriptionId: null,
    resourceGroup: null,
    parentKey: keyOf(`/providers/Microsoft.Management/managementGroups/${group}`),
    name: body.subscriptionId,
    body: {
      id,
      type: 'Microsoft.Management/managementGroups/subscriptions',
      name: body.subscriptionId,
      properties: { displayName: body.displayName },
    },
    etag: '"0"',
    createdAt: now,
    updatedAt: now,
  });
  server.services.authz.invalidate();
}

/** A management group under the tenant root, written straight to the store; returns its id. */
export async function addManagementGroup(server: VaplaneServer, name: string): Promise<string> {
  const now = server.services.clock.now().toISOString();
  await putResource(
    server.store.db,
    managementGroupRecord(
      managementGroupBody({
        name,
        displayName: name,
        tenantId: server.tenantId,
        updatedBy: 'admin',
        updatedTime: now,
      }),
      now,
    ),
  );
  server.services.authz.invalidate();
  return `/providers/Microsoft.Management/managementGroups/${name}`;
}
