import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUB = '11111111-2222-4333-8444-555555555555';
const V = 'api-version=2021-04-01';

describe('resource groups', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ listen: false });
    await addSubscription(t.server, { subscriptionId: SUB });
  });
  afterAll(() => t.close());

  it('PUT of a new group answers 201, again 200, and GET echoes the stored casing for any request casing', async () => {
    const created = await t.inject({
      method: 'PUT',
      url: `/subscriptions/${SUB}/resourceGroups/Rg-One?${V}`,
      body: { location: 'West Europe', tags: { env: 'dev' } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: `/subscriptions/${SUB}/resourceGroups/Rg-One`,
      name: 'Rg-One',
      location: 'westeurope',
      tags: { env: 'dev' },
      properties: { provisioningState: 'Succeeded' },
    });
    const again = await t.inject({
      method: 'PUT',
      url: `/subscriptions/${SUB}/resourcegroups/rg-one?${V}`,
      body: { location: 'westeurope' },
    });
    expect(again.status).toBe(200);
    const got = await t.inject({
      method: 'GET',
      url: `//subscriptions/${SUB.toUpperCase()}//RESOURCEGROUPS/RG-ONE?${V}`,
    });
    expect(got.status).toBe(200);
    expect(got.body.name).toBe('Rg-One');
    expect(got.headers.etag).toBeTruthy();
  });

  it('GET of a missing group is ResourceGroupNotFound from the gateway', async () => {
    const missing = await t.inject({ method: 'GET', url: `/subscriptions/${SUB}/resourceGroups/nope?${V}` });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({
      code: 'ResourceGroupNotFound',
      message: "Resource group 'nope' could not be found.",
    });
    expect(missing.headers['x-ms-failure-cause']).toBe('gateway');
  });

  it('lists with $top pages and a nextLink that continues where the last page stopped', async () => {
    for (const name of ['a1', 'a2', 'a3']) {
      await t.inject({
        method: 'PUT',
        url: `/subscriptions/${SUB}/resourceGroups/${name}?${V}`,
        body: { location: 'eastus' },
      });
    }
    const seen: string[] = [];
    let url: string | undefined = `/subscriptions/${SUB}/resourceGroups?${V}&$top=2`;
    while (url) {
      const page = await t.inject({ method: 'GET', url });
      expect(page.status).toBe(200);
      expect(page.body.value.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.value.map((group: { name: string }) => group.name));
      url = page.body.nextLink
        ? new URL(page.body.nextLink).pathname + new URL(page.body.nextLink).search
        : undefined;
    }
    expect(seen.sort()).toEqual(['Rg-One', 'a1', 'a2', 'a3']);
  });

  it('DELETE answers 202 with a Location that answers 202 until the group and its contents are gone', async () => {
    await t.inject({
      method: 'PUT',
      url: `/subscriptions/${SUB}/resourceGroups/doomed?${V}`,
      body: { location: 'eastus' },
    });
    const accepted = await t.inject({
      method: 'DELETE',
      url: `/subscriptions/${SUB}/resourceGroups/doomed?${V}`,
    });
    expect(accepted.status).toBe(202);
    const location = new URL(String(accepted.headers.location));
    expect(location.pathname).toMatch(new RegExp(`^/subscriptions/${SUB}/operationresults/`));
    expect(accepted.headers['retry-after']).toBeDefined();
    const during = await t.inject({ method: 'GET', url: `/subscriptions/${SUB}/resourceGroups/doomed?${V}` });
    expect(during.body.properties.provisioningState).toBe('Deleting');
    await t.server.services.lro.runDue();
    await new Promise((resolve) => setTimeout(resolve, 80));
    await t.server.services.lro.runDue();
    const done = await t.inject({ method: 'GET', url: location.pathname + location.search });
    expect(done.status).toBe(200);
    const gone = await t.inject({ method: 'GET', url: `/subscriptions/${SUB}/resourceGroups/doomed?${V}` });
    expect(gone.status).toBe(404);
  });
});
