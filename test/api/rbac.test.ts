/**
 * Authentication and Azure RBAC as ARM answers them: the 401s for every way a token can be wrong, the
 * 403 with ARM's wording when a role does not allow an action (and nothing written), inheritance
 * down management groups, subscriptions and resource groups, and the roleAssignments and
 * roleDefinitions APIs. In-process (Fastify inject): the wire is proven in identity.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/arm/auth.js';
import { keyOf } from '../../src/arm/resourceId.js';
import { namedUser } from '../../src/bootstrap.js';
import { getResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PROD = '41111111-2222-4333-8444-000000000001';
const PROD_EU = '41111111-2222-4333-8444-000000000002';
const DEV = '41111111-2222-4333-8444-000000000003';
const RG_API = 'api-version=2021-04-01';
const RA_API = 'api-version=2022-04-01';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';

const rg = (subscription: string, name: string) =>
  `/subscriptions/${subscription}/resourcegroups/${name}?${RG_API}`;

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ listen: false });
  // Tenant root ── mg-prod ── PROD
  //                   └── mg-prod-eu ── PROD_EU
  //            └── mg-dev ── DEV
  for (const [name, parent] of [
    ['mg-prod', undefined],
    ['mg-prod-eu', 'mg-prod'],
    ['mg-dev', undefined],
  ] as const) {
    const created = await t.inject({
      method: 'PUT',
      url: `/providers/Microsoft.Management/managementGroups/${name}?api-version=2021-04-01`,
      body: {
        properties: {
          displayName: name,
          ...(parent
            ? { details: { parent: { id: `/providers/Microsoft.Management/managementGroups/${parent}` } } }
            : {}),
        },
      },
    });
    expect(created.status).toBe(200);
  }
  await addSubscription(t.server, { subscriptionId: PROD, managementGroup: 'mg-prod' });
  await addSubscription(t.server, { subscriptionId: PROD_EU, managementGroup: 'mg-prod-eu' });
  await addSubscription(t.server, { subscriptionId: DEV, managementGroup: 'mg-dev' });
  for (const [subscription, group] of [
    [PROD, 'rg-a'],
    [PROD, 'rg-b'],
    [PROD_EU, 'rg-eu'],
    [DEV, 'rg-dev'],
  ] as const) {
    const created = await t.inject({
      method: 'PUT',
      url: rg(subscription, group),
      body: { location: 'westeurope' },
    });
    expect(created.status).toBe(201);
  }
});
afterAll(() => t.close());

function expectArm401(
  reply: Awaited<ReturnType<TestServer['inject']>>,
  code: string,
  message: string | RegExp,
) {
  expect(reply.status).toBe(401);
  expect(reply.body.error.code).toBe(code);
  if (typeof message === 'string') expect(reply.body.error.message).toBe(message);
  else expect(reply.body.error.message).toMatch(message);
  expect(reply.headers['x-ms-failure-cause']).toBe('gateway');
  expect(String(reply.headers['www-authenticate'])).toMatch(
    new RegExp(
      `^Bearer authorization_uri="https://localhost/${t.server.tenantId}", error="invalid_token", error_description="`,
    ),
  );
}

describe('authentication', () => {
  const url = `/subscriptions?api-version=2022-12-01`;

  it('no Authorization header is 401 AuthenticationFailed with a WWW-Authenticate challenge', async () => {
    const reply = await t.inject({ method: 'GET', url, token: null });
    expectArm401(
      reply,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
    );
  });

  it.each([
    ['a Basic scheme', 'Basic YWRtaW46cGFzcw=='],
    ['Bearer without a token', 'Bearer'],
    ['a token with a space in it', 'Bearer abc def'],
  ])('%s is 401 AuthenticationFailed: invalid format', async (_name, header) => {
    const reply = await t.inject({ method: 'GET', url, token: null, headers: { authorization: header } });
    expectArm401(
      reply,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is provided in an invalid format.",
    );
  });

  it.each([
    ['that is not a JWT', async () => 'not-a-jwt'],
    [
      'signed with another key',
      async () => {
        const forger = await generateKeyPair('RS256');
        const admin = namedUser('admin', t.server.tenantId);
        return new SignJWT({
          tid: admin.tenantId,
          oid: admin.objectId,
          appid: admin.clientId,
          vaplane_type: 'User',
        })
          .setProtectedHeader({ alg: 'RS256', kid: t.server.keys.kid })
          .setAudience('https://management.azure.com/')
          .setIssuedAt()
          .setExpirationTime('1h')
          .sign(forger.privateKey);
      },
    ],
    [
      'with alg none and no signature',
      async () => {
        const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const admin = namedUser('admin', t.server.tenantId);
        return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({
          tid: admin.tenantId,
          oid: admin.objectId,
          appid: admin.clientId,
          aud: 'https://management.azure.com/',
          exp: Math.floor(Date.now() / 1000) + 3600,
        })}.`;
      },
    ],
    [
      'signed HS256 with the public key as its secret',
      async () =>
        new SignJWT({ tid: t.server.tenantId, oid: randomUUID(), appid: randomUUID() })
          .setProtectedHeader({ alg: 'HS256' })
          .setAudience('https://management.azure.com/')
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(JSON.stringify(await exportJWK(t.server.keys.publicKey)))),
    ],
  ])('a token %s is 401 InvalidAuthenticationToken', async (_name, makeToken) => {
    const reply = await t.inject({ method: 'GET', url, token: await makeToken() });
    expectArm401(reply, 'InvalidAuthenticationToken', 'The access token is invalid.');
  });

  it('an expired token is 401 ExpiredAuthenticationToken with both times as ARM prints them', async () => {
    const expired = await t.token({ lifetimeSeconds: -120 });
    const reply = await t.inject({ method: 'GET', url, token: expired });
    const time = String.raw`\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M`;
    expectArm401(
      reply,
      'ExpiredAuthenticationToken',
      new RegExp(
        `^The access token expiry UTC time '${time}' is earlier than current UTC time '${time}'\\.$`,
      ),
    );
  });

  it('a token for another audience is 401 InvalidAuthenticationTokenAudience naming the allowed audiences', async () => {
    const { token } = await issueToken(t.server.keys, {
      principal: namedUser('admin', t.server.tenantId),
      audience: 'https://graph.microsoft.com',
    });
    const reply = await t.inject({ method: 'GET', url, token });
    expectArm401(
      reply,
      'InvalidAuthenticationTokenAudience',
      "The access token has been obtained for wrong audience or resource 'https://graph.microsoft.com'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com','https://localhost/','https://localhost'.",
    );
  });

  it.each(['https://management.core.windows.net/', 'https://management.azure.com', 'https://localhost'])(
    'a token for %s is accepted',
    async (audience) => {
      const { token } = await issueToken(t.server.keys, {
        principal: namedUser('admin', t.server.tenantId),
        audience,
      });
      const reply = await t.inject({ method: 'GET', url, token });
      expect(reply.status).toBe(200);
    },
  );
});

describe('authorization', () => {
  type Who = { principal: string; role: string; scope: string };
  const tokens = new Map<string, string>();
  async function tokenOf(who: Who): Promise<string> {
    const key = `${who.principal}|${who.role}|${who.scope}`;
    let token = tokens.get(key);
    if (!token) {
      token = await t.token(who);
      tokens.set(key, token);
    }
    return token;
  }
  const readerOfProd: Who = { principal: 'rita', role: 'Reader', scope: `/subscriptions/${PROD}` };
  const contributorOfProd: Who = { principal: 'carl', role: 'Contributor', scope: `/subscriptions/${PROD}` };
  const securityReaderOfProd: Who = {
    principal: 'sam',
    role: 'Security Reader',
    scope: `/subscriptions/${PROD}`,
  };
  const readerOfMgProd: Who = {
    principal: 'greta',
    role: 'Reader',
    scope: '/providers/Microsoft.Management/managementGroups/mg-prod',
  };
  const contributorOfRgA: Who = {
    principal: 'ray',
    role: 'Contributor',
    scope: `/subscriptions/${PROD}/resourceGroups/rg-a`,
  };

  it.each<[string, 'GET' | 'PUT' | 'DELETE', string, number, Who]>([
    ['Reader of a subscription reads a group in it', 'GET', rg(PROD, 'rg-a'), 200, readerOfProd],
    [
      'Reader of a subscription lists its groups',
      'GET',
      `/subscriptions/${PROD}/resourcegroups?${RG_API}`,
      200,
      readerOfProd,
    ],
    ['Reader of a subscription cannot delete a group', 'DELETE', rg(PROD, 'rg-a'), 403, readerOfProd],
    [
      'Reader of a subscription cannot read another subscription',
      'GET',
      rg(DEV, 'rg-dev'),
      403,
      readerOfProd,
    ],
    ['Contributor of a subscription writes a group', 'PUT', rg(PROD, 'rg-by-carl'), 201, contributorOfProd],
    ['Security Reader reads a group', 'GET', rg(PROD, 'rg-a'), 200, securityReaderOfProd],
    ['Security Reader cannot write a group', 'PUT', rg(PROD, 'rg-by-sam'), 403, securityReaderOfProd],
    [
      'Reader of mg-prod reads in a subscription directly under it',
      'GET',
      rg(PROD, 'rg-a'),
      200,
      readerOfMgProd,
    ],
    [
      'Reader of mg-prod reads in a subscription under its child group',
      'GET',
      rg(PROD_EU, 'rg-eu'),
      200,
      readerOfMgProd,
    ],
    ['Reader of mg-prod reads nothing under mg-dev', 'GET', rg(DEV, 'rg-dev'), 403, readerOfMgProd],
    ['Reader of mg-prod cannot write under it', 'PUT', rg(PROD, 'rg-by-greta'), 403, readerOfMgProd],
    ['Contributor of rg-a writes rg-a', 'PUT', rg(PROD, 'rg-a'), 200, contributorOfRgA],
    ['Contributor of rg-a cannot read its sibling rg-b', 'GET', rg(PROD, 'rg-b'), 403, contributorOfRgA],
    [
      'Contributor of rg-a cannot create a group beside it',
      'PUT',
      rg(PROD, 'rg-by-ray'),
      403,
      contributorOfRgA,
    ],
  ])('%s (%s %s → %i)', async (_name, method, url, status, who) => {
    const reply = await t.inject({
      method,
      url,
      token: await tokenOf(who),
      body: method === 'PUT' ? { location: 'westeurope' } : undefined,
    });
    expect(reply.status, reply.text).toBe(status);
    if (status === 403) expect(reply.body.error.code).toBe('AuthorizationFailed');
  });

  it("a Reader's PUT is 403 AuthorizationFailed from the gateway in ARM's words, and nothing is written", async () => {
    const reader = namedUser('rita', t.server.tenantId);
    const reply = await t.inject({
      method: 'PUT',
      url: rg(PROD, 'rg-by-rita'),
      token: await tokenOf(readerOfProd),
      body: { location: 'westeurope' },
    });
    expect(reply.status).toBe(403);
    expect(reply.headers['x-ms-failure-cause']).toBe('gateway');
    expect(reply.body).toEqual({
      error: {
        code: 'AuthorizationFailed',
        message: `The client 'rita' with object id '${reader.objectId}' does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourcegroups/write' over scope '/subscriptions/${PROD}/resourcegroups/rg-by-rita' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      },
    });
    expect(
      await getResource(t.server.store.db, keyOf(`/subscriptions/${PROD}/resourceGroups/rg-by-rita`)),
    ).toBeUndefined();
  });

  it('Contributor writes resources but not role assignments (Microsoft.Authorization/*/Write is a notAction)', async () => {
    const name = randomUUID();
    const scope = `/subscriptions/${PROD}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    const reply = await t.inject({
      method: 'PUT',
      url: `${scope}?${RA_API}`,
      token: await tokenOf(contributorOfProd),
      body: {
        properties: {
          roleDefinitionId: `/subscriptions/${PROD}/providers/Microsoft.Authorization/roleDefinitions/${READER}`,
          principalId: randomUUID(),
        },
      },
    });
    expect(reply.status).toBe(403);
    expect(reply.body.error.message).toContain(
      `perform action 'Microsoft.Authorization/roleAssignments/write' over scope '${scope}'`,
    );
    expect(await getResource(t.server.store.db, keyOf(scope))).toBeUndefined();
    const listed = await t.inject({
      method: 'GET',
      url: `/subscriptions/${PROD}/providers/Microsoft.Authorization/roleAssignments?${RA_API}`,
      token: await tokenOf(contributorOfProd),
    });
    expect(listed.status).toBe(200);
  });

  it.each<[string, Who, string[]]>([
    ['a subscription Reader', readerOfProd, [PROD]],
    ['a Security Reader (no subscriptions/read action, still shown)', securityReaderOfProd, [PROD]],
    ['a Reader of mg-prod: both subscriptions beneath it', readerOfMgProd, [PROD, PROD_EU]],
    ['a resource-group Contributor: the subscription holding the group', contributorOfRgA, [PROD]],
    ['someone without any role: none', { principal: 'nobody', role: '', scope: '/' }, []],
  ])('GET /subscriptions shows %s', async (_name, who, expected) => {
    const token = who.role ? await tokenOf(who) : await t.token({ principal: who.principal });
    const reply = await t.inject({ method: 'GET', url: '/subscriptions?api-version=2022-12-01', token });
    expect(reply.status).toBe(200);
    expect(
      reply.body.value.map((subscription: { subscriptionId: string }) => subscription.subscriptionId).sort(),
    ).toEqual([...expected].sort());
  });
});

describe('roleAssignments and roleDefinitions', () => {
  const subscriptionScope = `/subscriptions/${DEV}`;
  const assignmentName = randomUUID();
  const assignmentId = `${subscriptionScope}/providers/Microsoft.Authorization/roleAssignments/${assignmentName}`;
  const dora = namedUser('dora', '');
  const readerRoleId = `${subscriptionScope}/providers/Microsoft.Authorization/roleDefinitions/${READER}`;

  it('PUT assigns a role (201) and the principal can read at once', async () => {
    const doraToken = await t.token({ principal: 'dora' });
    const before = await t.inject({ method: 'GET', url: rg(DEV, 'rg-dev'), token: doraToken });
    expect(before.status).toBe(403);
    const created = await t.inject({
      method: 'PUT',
      url: `${assignmentId}?${RA_API}`,
      body: {
        properties: { roleDefinitionId: readerRoleId, principalId: dora.objectId, principalType: 'User' },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: assignmentId,
      name: assignmentName,
      type: 'Microsoft.Authorization/roleAssignments',
      properties: {
        roleDefinitionId: readerRoleId,
        principalId: dora.objectId,
        principalType: 'User',
        scope: subscriptionScope,
      },
    });
    const after = await t.inject({ method: 'GET', url: rg(DEV, 'rg-dev'), token: doraToken });
    expect(after.status).toBe(200);
  });

  it('the same role for the same principal at the same scope under another name is 409 RoleAssignmentExists', async () => {
    const duplicate = await t.inject({
      method: 'PUT',
      url: `${subscriptionScope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${RA_API}`,
      body: {
        properties: { roleDefinitionId: readerRoleId, principalId: dora.objectId, principalType: 'User' },
      },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error).toEqual({
      code: 'RoleAssignmentExists',
      message: 'The role assignment already exists.',
    });
  });

  it('GET answers the assignment', async () => {
    const got = await t.inject({ method: 'GET', url: `${assignmentId}?${RA_API}` });
    expect(got.status).toBe(200);
    expect(got.body.properties.principalId).toBe(dora.objectId);
  });

  it('$filter=atScope() lists assignments at the scope and above (management groups too), not below', async () => {
    await t.token({
      principal: 'mona',
      role: 'Reader',
      scope: '/providers/Microsoft.Management/managementGroups/mg-dev',
    });
    const below = await t.inject({
      method: 'PUT',
      url: `${subscriptionScope}/resourceGroups/rg-dev/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${RA_API}`,
      body: {
        properties: {
          roleDefinitionId: `${subscriptionScope}/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR}`,
          principalId: dora.objectId,
          principalType: 'User',
        },
      },
    });
    expect(below.status).toBe(201);
    const atScope = await t.inject({
      method: 'GET',
      url: `${subscriptionScope}/providers/Microsoft.Authorization/roleAssignments?${RA_API}&$filter=atScope()`,
    });
    expect(atScope.status).toBe(200);
    const scopes = atScope.body.value.map(
      (assignment: { properties: { scope: string } }) => assignment.properties.scope,
    );
    expect(scopes).toContain(subscriptionScope);
    expect(scopes).toContain('/');
    expect(scopes).toContain('/providers/Microsoft.Management/managementGroups/mg-dev');
    expect(scopes).not.toContain(`${subscriptionScope}/resourceGroups/rg-dev`);
    const everything = await t.inject({
      method: 'GET',
      url: `${subscriptionScope}/providers/Microsoft.Authorization/roleAssignments?${RA_API}`,
    });
    expect(
      everything.body.value.map(
        (assignment: { properties: { scope: string } }) => assignment.properties.scope,
      ),
    ).toContain(`${subscriptionScope}/resourceGroups/rg-dev`);
  });

  it("$filter=principalId eq '…' lists only that principal's assignments", async () => {
    const listed = await t.inject({
      method: 'GET',
      url: `${subscriptionScope}/providers/Microsoft.Authorization/roleAssignments?${RA_API}&$filter=${encodeURIComponent(`principalId eq '${dora.objectId}'`)}`,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.value).toHaveLength(2);
    for (const assignment of listed.body.value) expect(assignment.properties.principalId).toBe(dora.objectId);
  });

  it('DELETE answers 200 with the assignment, then 204; access ends at once', async () => {
    const removed = await t.inject({ method: 'DELETE', url: `${assignmentId}?${RA_API}` });
    expect(removed.status).toBe(200);
    expect(removed.body.id).toBe(assignmentId);
    const again = await t.inject({ method: 'DELETE', url: `${assignmentId}?${RA_API}` });
    expect(again.status).toBe(204);
    const doraToken = await t.token({ principal: 'dora' });
    const denied = await t.inject({ method: 'GET', url: rg(DEV, 'rg-b-missing'), token: doraToken });
    expect(denied.status).toBe(403);
  });

  it("roleDefinitions with $filter=roleName eq 'Reader' answers the real Reader id", async () => {
    const listed = await t.inject({
      method: 'GET',
      url: `${subscriptionScope}/providers/Microsoft.Authorization/roleDefinitions?${RA_API}&$filter=${encodeURIComponent("roleName eq 'Reader'")}`,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.value).toHaveLength(1);
    expect(listed.body.value[0]).toMatchObject({
      id: readerRoleId,
      name: READER,
      type: 'Microsoft.Authorization/roleDefinitions',
      properties: { roleName: 'Reader', type: 'BuiltInRole', permissions: [{ actions: ['*/read'] }] },
    });
  });
});
