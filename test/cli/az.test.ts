/**
 * The Azure CLI (Debian's azure-cli 2.45) against a real vaplane over HTTPS: the cloud registered
 * from vaplane's own metadata endpoint, `az login --identity` through the App Service
 * managed-identity shape, then ARM reads and writes. Each `az` start costs about a second, so the
 * suite runs the few commands a user would, in order, in one private AZURE_CONFIG_DIR.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreatedPrincipal, createPrincipal } from '../../src/arm/principals.js';
import { roleByName } from '../../src/arm/rbac.js';
import { grantRole } from '../../src/providers/authorization/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const run = promisify(execFile);
const SUB = '31111111-2222-4333-8444-555555555555';
const UNGRANTED_SUB = '31111111-2222-4333-8444-666666666666';

const azOnPath = (process.env.PATH ?? '')
  .split(delimiter)
  .some((dir) => dir !== '' && existsSync(join(dir, 'az')));
const title = azOnPath
  ? 'az (Azure CLI) against vaplane'
  : 'az (Azure CLI) against vaplane — SKIPPED: `az` is not on PATH (apt-get install azure-cli; CI installs it)';

if (!azOnPath) console.warn(title);

describe.skipIf(!azOnPath)(title, () => {
  let t: TestServer;
  let identity: CreatedPrincipal;
  let configDir: string;

  beforeAll(async () => {
    t = await startTestServer();
    configDir = mkdtempSync(join(tmpdir(), 'vaplane-az-'));
    const now = new Date();
    await addSubscription(t.server, { subscriptionId: SUB, displayName: 'az subscription' });
    await addSubscription(t.server, { subscriptionId: UNGRANTED_SUB, displayName: 'not granted' });
    identity = await createPrincipal(t.server.store.db, {
      name: 'az-web-app',
      type: 'ManagedIdentity',
      tenantId: t.server.tenantId,
      now,
    });
    await grantRole(t.server.store.db, {
      scope: `/subscriptions/${SUB}`,
      roleId: roleByName('Owner')!.id,
      principalId: identity.principal.objectId,
      principalType: 'ServicePrincipal',
      by: 'test',
      now,
    });
    t.server.services.authz.invalidate();
  });
  afterAll(async () => {
    await t?.close();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  /** Runs `az` with a private config and vaplane's CA; answers its parsed JSON output. */
  async function az(...args: string[]): Promise<any> {
    const { stdout } = await run('az', [...args, '--output', 'json'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: configDir,
        LANG: 'C.UTF-8',
        AZURE_CONFIG_DIR: configDir,
        REQUESTS_CA_BUNDLE: t.caPath,
        AZURE_CORE_COLLECT_TELEMETRY: 'false',
        AZURE_CORE_SURVEY_MESSAGE: 'false',
        AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
        AZURE_CORE_NO_COLOR: 'true',
        // App Service's managed-identity environment: az (msrestazure) then sends
        // GET {MSI_ENDPOINT}/?resource=…&api-version=2017-09-01 with the `secret` header.
        APPSETTING_WEBSITE_SITE_NAME: 'vaplane-test',
        MSI_ENDPOINT: `${t.url}/msi/token`,
        MSI_SECRET: identity.secret,
      },
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim() === '' ? undefined : JSON.parse(stdout);
  }

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
