import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSubscription } from '../support/estate.js';
import { OWNER_TAG_AUDIT } from '../support/policy.js';
import { startTestServer, type TestServer } from '../support/server.js';

const V = 'api-version=2023-04-01';
const MINE = '21000000-0000-4000-8000-000000000001';
const OTHER = '21000000-0000-4000-8000-000000000002';
const BUILT_IN = '/providers/Microsoft.Authorization/policyDefinitions/766e621d-ba95-4e43-a6f2-e945db3d7888';
const CUSTOM = { properties: OWNER_TAG_AUDIT };

describe('who may read policy definitions', () => {
  let t: TestServer;
  let reader: string;
  beforeAll(async () => {
    t = await startTestServer({ listen: false });
    await addSubscription(t.server, { subscriptionId: MINE });
    await addSubscription(t.server, { subscriptionId: OTHER });
    reader = await t.token({
      principal: 'one-subscription-reader',
      role: 'Reader',
      scope: `/subscriptions/${MINE}`,
    });
    const created = await t.inject({
      method: 'PUT',
      url: `/subscriptions/${OTHER}/providers/Microsoft.Authorization/policyDefinitions/owner-tag?${V}`,
      body: CUSTOM,
    });
    expect(created.status).toBe(201);
  });
  afterAll(() => t.close());

  it('a Reader of one subscription reads a built-in definition at the tenant, as in Azure', async () => {
    const got = await t.inject({ method: 'GET', url: `${BUILT_IN}?${V}`, token: reader });
    expect(got.status).toBe(200);
    expect(got.body.properties.policyType).toBe('BuiltIn');
    const listed = await t.inject({
      method: 'GET',
      url: `/providers/Microsoft.Authorization/policyDefinitions?${V}`,
      token: reader,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.value.map((definition: { name: string }) => definition.name)).toContain(
      '766e621d-ba95-4e43-a6f2-e945db3d7888',
    );
  });

  it('but not a custom definition in a subscription it has no role on, and it cannot write one', async () => {
    const got = await t.inject({
      method: 'GET',
      url: `/subscriptions/${OTHER}/providers/Microsoft.Authorization/policyDefinitions/owner-tag?${V}`,
      token: reader,
    });
    expect(got.status).toBe(403);
    expect(got.body.error.code).toBe('AuthorizationFailed');
    const written = await t.inject({
      method: 'PUT',
      url: `/subscriptions/${MINE}/providers/Microsoft.Authorization/policyDefinitions/mine?${V}`,
      body: CUSTOM,
      token: reader,
    });
    expect(written.status).toBe(403);
    const absent = await t.inject({
      method: 'GET',
      url: `/subscriptions/${MINE}/providers/Microsoft.Authorization/policyDefinitions/mine?${V}`,
    });
    expect(absent.status).toBe(404);
  });
});
