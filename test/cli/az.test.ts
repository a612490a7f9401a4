/**
 * The Azure CLI (Debian's azure-cli 2.45) against a real vaplane over HTTPS: the cloud registered
 * from vaplane's own metadata endpoint, `az login --identity` through the App Service
 * managed-identity shape, then ARM reads and writes, in one private AZURE_CONFIG_DIR (see
 * `test/support/az.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZ_ON_PATH, type AzSession, azSession, azSuiteTitle } from '../support/az.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUB = '31111111-2222-4333-8444-555555555555';
const UNGRANTED_SUB = '31111111-2222-4333-8444-666666666666';

describe.skipIf(!AZ_ON_PATH)(azSuiteTitle('az (Azure CLI) against vaplane'), () => {
  let t: TestServer;
  let session: AzSession;
  const az: AzSession['az'] = (...args) => session.az(...args);

  beforeAll(async () => {
    t = await startTestServer();
    await addSubscription(t.server, { subscriptionId: SUB, displayName: 'az subscription' });
    await addSubscription(t.server, { subscriptionId: UNGRANTED_SUB, displayName: 'not granted' });
    session = await azSession(t, { identityName: 'az-web-app', ownerOf: [SUB] });
  });
  afterAll(async () => {
    await t?.close();
    session?.close();
  });

  it('`az cloud register` with only --endpoint-resource-manager learns the rest from /metadata/endpoints', async () => {
    await az('cloud', 'register', '--name', 'vaplane', '--endpoint-resource-manager', `${t.url}/`);
    await az('cloud', 'set', '--name', 'vaplane');
    const cloud = await az('cloud', 'show', '--name', 'vaplane');
    expect(cloud).toMatchObject({
      isActive: true,
      endpoints: {
        resourceManager: `${t.url}/`,
        activeDirectory: `${t.url}/`,
        activeDirectoryResourceId: 'https://management.core.windows.net/',
      },
    });
  });

  it('`az login --identity` finds exactly the subscription the identity holds a role on', async () => {
    const accounts = await az('login', '--identity');
    expect(accounts).toEqual([
      expect.objectContaining({
        id: SUB,
        name: 'az subscription',
        tenantId: t.server.tenantId,
        environmentName: 'vaplane',
        isDefault: true,
        state: 'Enabled',
        user: expect.objectContaining({ name: 'systemAssignedIdentity', type: 'servicePrincipal' }),
      }),
    ]);
  });

  it('`az group create` then `az group list` round-trip a resource group', async () => {
    const created = await az(
      'group',
      'create',
      '--name',
      'rg-from-az',
      '--location',
      'westeurope',
      '--tags',
      'owner=az',
    );
    expect(created).toMatchObject({
      id: `/subscriptions/${SUB}/resourceGroups/rg-from-az`,
      name: 'rg-from-az',
      location: 'westeurope',
      tags: { owner: 'az' },
      properties: { provisioningState: 'Succeeded' },
    });
    const groups = await az('group', 'list');
    expect(groups.map((group: { name: string }) => group.name)).toEqual(['rg-from-az']);
  });

  it('`az rest` carries the managed identity’s token to any ARM URL', async () => {
    const listed = await az(
      'rest',
      '--method',
      'get',
      '--url',
      `${t.url}/subscriptions/${SUB}/resourceGroups?api-version=2021-04-01`,
    );
    expect(listed.value).toEqual([
      expect.objectContaining({ name: 'rg-from-az', location: 'westeurope', tags: { owner: 'az' } }),
    ]);
  });
});
