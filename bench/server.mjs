// The server under test, in its own process: a fresh SQLite file in `dir`, the tenant bootstrapped,
// one subscription with one resource group, one VM and `existingGroups` groups for the PUT updates,
// and an admin token. Reports what the load generator needs over IPC, then serves until SIGTERM.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { keyOf } from '../dist/arm/resourceId.js';
import { bootstrapTenant, tokenFor } from '../dist/bootstrap.js';
import { virtualMachineRecord } from '../dist/providers/compute/model.js';
import { GROUP_SUBSCRIPTION_TYPE } from '../dist/providers/management/index.js';
import {
  resourceGroupRecord,
  subscriptionBody,
  subscriptionRecord,
} from '../dist/providers/resources/index.js';
import { createServer } from '../dist/server.js';
import { putResource } from '../dist/store/index.js';

const dir = process.argv[2];
const existingGroups = Number(process.argv[3] ?? 100);
if (!dir) throw new Error('usage: node bench/server.mjs <state dir> [existing groups]');

export const SUBSCRIPTION_ID = '00000000-0000-4000-8000-00000000be01';
const RESOURCE_GROUP = 'bench-rg';
const VM_NAME = 'bench-vm-01';

const server = await createServer({ db: join(dir, 'vaplane.db'), port: 0, lroDelayMs: 50 });
const db = server.store.db;
const now = server.services.clock.now();
const at = now.toISOString();
await bootstrapTenant(db, server.tenantId, now);

const subscription = subscriptionBody({
  subscriptionId: SUBSCRIPTION_ID,
  tenantId: server.tenantId,
  displayName: 'bench subscription',
});
await putResource(db, subscriptionRecord(subscription, at));
const link = `/providers/Microsoft.Management/managementGroups/${server.tenantId}/subscriptions/${SUBSCRIPTION_ID}`;
await putResource(db, {
  key: keyOf(link),
  id: link,
  type: GROUP_SUBSCRIPTION_TYPE,
  subscriptionId: null,
  resourceGroup: null,
  parentKey: keyOf(`/providers/Microsoft.Management/managementGroups/${server.tenantId}`),
  name: SUBSCRIPTION_ID,
  body: {
    id: link,
    type: 'Microsoft.Management/managementGroups/subscriptions',
    name: SUBSCRIPTION_ID,
    properties: { displayName: subscription.displayName },
  },
  etag: '"0"',
  createdAt: at,
  updatedAt: at,
});
await putResource(
  db,
  resourceGroupRecord({
    subscriptionId: SUBSCRIPTION_ID,
    name: RESOURCE_GROUP,
    location: 'westeurope',
    now: at,
  }),
);
for (let k = 0; k < existingGroups; k++) {
  await putResource(
    db,
    resourceGroupRecord({
      subscriptionId: SUBSCRIPTION_ID,
      name: `bench-existing-${k}`,
      location: 'westeurope',
      now: at,
    }),
  );
}
await putResource(
  db,
  virtualMachineRecord({
    subscriptionId: SUBSCRIPTION_ID,
    resourceGroup: RESOURCE_GROUP,
    name: VM_NAME,
    location: 'westeurope',
    osType: 'Linux',
    image: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' },
    powerState: 'running',
    tags: { environment: 'bench', owner: 'platform-team' },
    now: at,
    vmId: randomUUID(),
  }),
);
server.services.authz.invalidate();

const url = await server.listen();
const { token } = await tokenFor(db, server.keys, {
  principalName: 'admin',
  tenantId: server.tenantId,
  now: new Date(),
  lifetimeSeconds: 3 * 3600,
});

process.send?.({
  url,
  token,
  caPath: server.tls.caPath,
  certPath: join(server.store.stateDir, 'tls-cert.pem'),
  keyPath: join(server.store.stateDir, 'tls-key.pem'),
  subscriptionId: SUBSCRIPTION_ID,
  resourceGroup: RESOURCE_GROUP,
  vmName: VM_NAME,
  compute: server.registry.hasNamespace('Microsoft.Compute'),
});

async function stop() {
  await server.close();
  process.exit(0);
}
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
process.on('SIGTERM', stop);
process.on('disconnect', stop);
