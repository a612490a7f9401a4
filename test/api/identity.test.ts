/**
 * The identity endpoints driven by the real `@azure/identity` (MSAL underneath) over HTTPS, and the
 * tokens they issue used by the real ARM SDK. Client secrets run in-process, trusting vaplane's CA
 * through the pipeline's `tlsOptions`; managed identities run in a child process because MSAL picks
 * its managed-identity source from the environment once per process, and there the CA is trusted
 * through `NODE_EXTRA_CA_CERTS`, as a user's own process would.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ResourceManagementClient } from '@azure/arm-resources';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { ClientSecretCredential } from '@azure/identity';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreatedPrincipal, createPrincipal } from '../../src/arm/principals.js';
import { roleByName } from '../../src/arm/rbac.js';
import { grantRole } from '../../src/providers/authorization/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUB = '21111111-2222-4333-8444-555555555555';
const OTHER_SUB = '21111111-2222-4333-8444-666666666666';
const ARM_SCOPE = 'https://management.azure.com/.default';
const run = promisify(execFile);
/**
 * `@azure/arm-resources` 6.1 defaults to 2025-03-01, which the resource-group provider does not list
 * yet; pinned here so these tests prove identity, not api-version coverage.
 */
const RESOURCES_API_VERSION = '2024-11-01';

/**
 * `GET /subscriptions` through an ARM client's own pipeline (bearer policy included):
 * `@azure/arm-resources` 6 has no subscriptions operation group.
 */
async function listSubscriptions(client: ResourceManagementClient, endpoint: string) {
  const response = await client.sendRequest(
    createPipelineRequest({ url: `${endpoint}/subscriptions?api-version=2022-12-01`, method: 'GET' }),
  );
  expect(response.status).toBe(200);
  return JSON.parse(response.bodyAsText ?? '{}').value as Record<string, string>[];
}

describe('identity with @azure/identity and the ARM SDK', () => {
  let t: TestServer;
  let ca: string;
  let app: CreatedPrincipal;
  let identity: CreatedPrincipal;

  beforeAll(async () => {
    t = await startTestServer();
    ca = readFileSync(t.caPath, 'utf8');
    const now = new Date();
    const db = t.server.store.db;
    await addSubscription(t.server, { subscriptionId: SUB, displayName: 'granted' });
    await addSubscription(t.server, { subscriptionId: OTHER_SUB, displayName: 'not granted' });
    app = await createPrincipal(db, {
      name: 'pipeline',
      type: 'Application',
      tenantId: t.server.tenantId,
      now,
    });
    identity = await createPrincipal(db, {
      name: 'web-app',
      type: 'ManagedIdentity',
      tenantId: t.server.tenantId,
      now,
    });
    for (const principal of [app.principal, identity.principal]) {
      await grantRole(db, {
        scope: `/subscriptions/${SUB}`,
        roleId: roleByName('Contributor')!.id,
        principalId: principal.objectId,
        principalType: 'ServicePrincipal',
        by: 'test',
        now,
      });
    }
    t.server.services.authz.invalidate();
  });
  afterAll(() => t.close());

  function secretCredential(secret = app.secret, tenantId = t.server.tenantId) {
    return new ClientSecretCredential(tenantId, app.principal.clientId, secret, {
      authorityHost: t.url,
      disableInstanceDiscovery: true,
      tlsOptions: { ca },
    });
  }

  it('ClientSecretCredential gets an Entra-shaped ARM token from the v2 token endpoint', async () => {
    const token = await secretCredential().getToken(ARM_SCOPE);
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(decodeJwt(token.token)).toMatchObject({
      aud: 'https://management.azure.com',
      iss: `https://sts.windows.net/${t.server.tenantId}/`,
      tid: t.server.tenantId,
      oid: app.principal.objectId,
      appid: app.principal.clientId,
      idtyp: 'app',
      ver: '1.0',
    });
  });

  it('that credential drives the ARM SDK: subscriptions it holds a role on, and a resource group written and listed', async () => {
    const credential = secretCredential();
    // No credentialScopes: the SDK asks for `{endpoint}/.default`, which vaplane accepts as itself.
    const resources = new ResourceManagementClient(credential, SUB, {
      endpoint: t.url,
      tlsOptions: { ca },
      apiVersion: RESOURCES_API_VERSION,
    });
    const seen = await listSubscriptions(resources, t.url);
    expect(seen.map((subscription) => subscription.subscriptionId)).toEqual([SUB]);
    expect(seen[0]).toMatchObject({ displayName: 'granted', tenantId: t.server.tenantId, state: 'Enabled' });

    const created = await resources.resourceGroups.createOrUpdate('rg-from-sdk', {
      location: 'westeurope',
      tags: { by: 'sdk' },
    });
    expect(created).toMatchObject({ name: 'rg-from-sdk', location: 'westeurope', tags: { by: 'sdk' } });
    const names = [];
    for await (const group of resources.resourceGroups.list()) names.push(group.name);
    expect(names).toContain('rg-from-sdk');
  });

  it('a wrong client secret fails with AADSTS7000215, and MSAL cannot resolve the endpoints of an unknown tenant', async () => {
    await expect(secretCredential('not-the-secret').getToken(ARM_SCOPE)).rejects.toThrow(/AADSTS7000215/);
    await expect(
      secretCredential(app.secret, '00000000-1111-4222-8333-444444444444').getToken(ARM_SCOPE),
    ).rejects.toThrow(/endpoints_resolution_error/);
  });

  it('a token for a resource vaplane is not is refused with AADSTS500011', async () => {
    await expect(secretCredential().getToken('https://vault.azure.net/.default')).rejects.toThrow(
      /AADSTS500011/,
    );
  });

  /** Runs `body` (an ES module) in a fresh node with `env`, trusting vaplane's CA the Node way. */
  async function inChildNode(env: Record<string, string>, body: string): Promise<any> {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', body], {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_EXTRA_CA_CERTS: t.caPath,
        ...env,
      },
      timeout: 60_000,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  }

  const MANAGED_IDENTITY_SCRIPT = `
    import { ManagedIdentityCredential } from '@azure/identity';
    import { ResourceManagementClient } from '@azure/arm-resources';
    const credential = new ManagedIdentityCredential(process.env.CLIENT_ID ? { clientId: process.env.CLIENT_ID } : {});
    const token = await credential.getToken('https://management.azure.com/.default');
    const client = new ResourceManagementClient(credential, process.env.SUBSCRIPTION_ID, { endpoint: process.env.ARM_ENDPOINT, apiVersion: process.env.API_VERSION });
    await client.resourceGroups.createOrUpdate(process.env.GROUP, { location: 'eastus' });
    const groups = [];
    for await (const group of client.resourceGroups.list()) groups.push(group.name);
    console.log(JSON.stringify({ token: token.token, expiresOnTimestamp: token.expiresOnTimestamp, groups }));
  `;

  it('ManagedIdentityCredential gets a day-long token from the App Service endpoint (IDENTITY_ENDPOINT, 2019-08-01) and lists subscriptions', async () => {
    const result = await inChildNode(
      {
        IDENTITY_ENDPOINT: `${t.url}/msi/token`,
        IDENTITY_HEADER: identity.secret,
        ARM_ENDPOINT: t.url,
        SUBSCRIPTION_ID: SUB,
        API_VERSION: RESOURCES_API_VERSION,
        GROUP: 'rg-app-service',
      },
      MANAGED_IDENTITY_SCRIPT,
    );
    expect(decodeJwt(result.token)).toMatchObject({
      oid: identity.principal.objectId,
      appid: identity.principal.clientId,
      tid: t.server.tenantId,
      aud: 'https://management.azure.com',
    });
    expect(result.expiresOnTimestamp).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect(result.groups).toContain('rg-app-service');
  });

  it('ManagedIdentityCredential with a client id uses MSI_ENDPOINT and MSI_SECRET (2017-09-01 shape)', async () => {
    const result = await inChildNode(
      {
        MSI_ENDPOINT: `${t.url}/msi/token`,
        MSI_SECRET: identity.secret,
        CLIENT_ID: identity.principal.clientId,
        ARM_ENDPOINT: t.url,
        SUBSCRIPTION_ID: SUB,
        API_VERSION: RESOURCES_API_VERSION,
        GROUP: 'rg-machine-learning',
      },
      MANAGED_IDENTITY_SCRIPT,
    );
    expect(decodeJwt(result.token).oid).toBe(identity.principal.objectId);
    expect(result.groups).toContain('rg-machine-learning');
  });
});

describe('identity endpoints on the wire', () => {
  let t: TestServer;
  let identity: CreatedPrincipal;
  let app: CreatedPrincipal;
  beforeAll(async () => {
    t = await startTestServer({ listen: false });
    const now = new Date();
    identity = await createPrincipal(t.server.store.db, {
      name: 'vm-identity',
      type: 'ManagedIdentity',
      tenantId: t.server.tenantId,
      now,
    });
    app = await createPrincipal(t.server.store.db, {
      name: 'legacy-app',
      type: 'Application',
      tenantId: t.server.tenantId,
      now,
    });
  });
  afterAll(() => t.close());

  it('OpenID metadata names the tenant and vaplane’s own endpoints; an unknown tenant is AADSTS90002', async () => {
    const v2 = await t.inject({
      method: 'GET',
      url: `/${t.server.tenantId}/v2.0/.well-known/openid-configuration`,
      token: null,
    });
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({
      issuer: `https://localhost/${t.server.tenantId}/v2.0`,
      token_endpoint: `https://localhost/${t.server.tenantId}/oauth2/v2.0/token`,
      jwks_uri: `https://localhost/${t.server.tenantId}/discovery/v2.0/keys`,
    });
    const common = await t.inject({
      method: 'GET',
      url: '/organizations/v2.0/.well-known/openid-configuration',
      token: null,
    });
    expect(common.body.issuer).toBe('https://localhost/{tenantid}/v2.0');
    const v1 = await t.inject({
      method: 'GET',
      url: `/${t.server.tenantId}/.well-known/openid-configuration`,
      token: null,
    });
    expect(v1.body.issuer).toBe(`https://sts.windows.net/${t.server.tenantId}/`);
    const keys = await t.inject({ method: 'GET', url: '/common/discovery/keys', token: null });
    expect(keys.body.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', kid: t.server.keys.kid });
    const unknown = await t.inject({
      method: 'GET',
      url: '/contoso.example/v2.0/.well-known/openid-configuration',
      token: null,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'invalid_tenant', error_codes: [90002] });
    expect(unknown.body.error_description).toMatch(/^AADSTS90002: Tenant 'contoso.example' not found\./);
  });

  it('the v1 token endpoint takes resource= and answers strings with the resource echoed', async () => {
    const reply = await t.server.app.inject({
      method: 'POST',
      url: `/${t.server.tenantId}/oauth2/token`,
      headers: { host: 'localhost', 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: app.principal.clientId,
        client_secret: app.secret,
        resource: 'https://management.core.windows.net/',
      }).toString(),
    });
    expect(reply.statusCode).toBe(200);
    const body = reply.json();
    expect(body).toMatchObject({ token_type: 'Bearer', resource: 'https://management.core.windows.net/' });
    expect(typeof body.expires_on).toBe('string');
    expect(decodeJwt(body.access_token).aud).toBe('https://management.core.windows.net/');
  });

  it('a missing grant type, client id or unknown app is an Entra error with its AADSTS code', async () => {
    const post = (form: Record<string, string>) =>
      t.server.app.inject({
        method: 'POST',
        url: `/${t.server.tenantId}/oauth2/v2.0/token`,
        headers: { host: 'localhost', 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(form).toString(),
      });
    const grant = await post({ grant_type: 'password', client_id: 'x', client_secret: 'y', scope: 'z' });
    expect(grant.json()).toMatchObject({ error: 'unsupported_grant_type', error_codes: [70003] });
    const noClient = await post({ grant_type: 'client_credentials', client_secret: 'y', scope: 'z' });
    expect(noClient.json().error_description).toMatch(/^AADSTS900144: .*'client_id'/);
    const unknown = await post({
      grant_type: 'client_credentials',
      client_id: '5f1e7c44-0000-4000-8000-000000000000',
      client_secret: 'y',
      scope: 'https://management.azure.com/.default',
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
    const identityAsApp = await post({
      grant_type: 'client_credentials',
      client_id: identity.principal.clientId,
      client_secret: identity.secret,
      scope: 'https://management.azure.com/.default',
    });
    expect(identityAsApp.json().error_codes).toEqual([700016]);
  });

  it('the App Service endpoint answers 2017-09-01 to the `secret` header and refuses a missing or wrong secret', async () => {
    const ok = await t.inject({
      method: 'GET',
      url: '/msi/token/?resource=https://management.core.windows.net/&api-version=2017-09-01',
      headers: { secret: identity.secret },
      token: null,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      resource: 'https://management.core.windows.net/',
      token_type: 'Bearer',
      client_id: identity.principal.clientId,
    });
    expect(Number(ok.body.expires_on)).toBeGreaterThan(Date.now() / 1000 + 23 * 3600);
    const missing = await t.inject({
      method: 'GET',
      url: '/msi/token?resource=https://management.azure.com&api-version=2019-08-01',
      token: null,
    });
    expect(missing.status).toBe(401);
    const wrong = await t.inject({
      method: 'GET',
      url: '/msi/token?resource=https://management.azure.com&api-version=2019-08-01',
      headers: { 'x-identity-header': 'nope' },
      token: null,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error_description).toMatch(/^Identity not found/);
    const otherClient = await t.inject({
      method: 'GET',
      url: `/msi/token?resource=https://management.azure.com&api-version=2019-08-01&client_id=${app.principal.clientId}`,
      headers: { 'x-identity-header': identity.secret },
      token: null,
    });
    expect(otherClient.status).toBe(400);
    const noVersion = await t.inject({
      method: 'GET',
      url: '/msi/token?resource=https://management.azure.com',
      headers: { 'x-identity-header': identity.secret },
      token: null,
    });
    expect(noVersion.status).toBe(400);
  });

  it('the secret-less POST shape (az with MSI_ENDPOINT outside App Service) is refused with what to set instead', async () => {
    const reply = await t.server.app.inject({
      method: 'POST',
      url: '/msi/token',
      headers: { host: 'localhost', metadata: 'true', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'resource=https%3A%2F%2Fmanagement.core.windows.net%2F',
    });
    expect(reply.statusCode).toBe(400);
    expect(reply.json().error_description).toMatch(/APPSETTING_WEBSITE_SITE_NAME/);
  });

  it('the IMDS shape needs Metadata: true and answers expires_in, and its token passes ARM', async () => {
    const refused = await t.inject({
      method: 'GET',
      url: '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/',
      headers: { 'x-identity-header': identity.secret },
      token: null,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error_description).toMatch(/^Required metadata header not specified/);
    const issued = await t.inject({
      method: 'GET',
      url: `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/&client_id=${identity.principal.clientId}`,
      headers: { metadata: 'true', 'x-identity-header': identity.secret },
      token: null,
    });
    expect(issued.status).toBe(200);
    expect(Number(issued.body.expires_in)).toBeGreaterThan(23 * 3600);
    const tenants = await t.inject({
      method: 'GET',
      url: '/tenants?api-version=2022-12-01',
      token: issued.body.access_token,
    });
    expect(tenants.status).toBe(200);
  });

  it('ARM cloud metadata gives az the login endpoint and audiences at 2015-01-01 and the cloud list later', async () => {
    const old = await t.inject({
      method: 'GET',
      url: '/metadata/endpoints?api-version=2015-01-01',
      token: null,
    });
    expect(old.body).toMatchObject({
      authentication: {
        loginEndpoint: 'https://localhost/',
        audiences: ['https://management.core.windows.net/', 'https://management.azure.com/'],
      },
      graphEndpoint: 'https://graph.windows.net/',
    });
    const list = await t.inject({
      method: 'GET',
      url: '/metadata/endpoints?api-version=2019-05-01',
      token: null,
    });
    expect(list.body[0]).toMatchObject({ name: 'vaplane', resourceManager: 'https://localhost/' });
    const bad = await t.inject({
      method: 'GET',
      url: '/metadata/endpoints?api-version=2001-01-01',
      token: null,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('InvalidApiVersionParameter');
  });
});
