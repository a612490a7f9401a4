/**
 * The whole server on each engine: a resource group is created, listed page by page and deleted
 * through its long-running operation, which the server's own worker completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ENGINES, type Scratch } from './engines.js';

const SUB = 'dddddddd-0000-4000-8000-000000000004';
const V = 'api-version=2021-04-01';

function pathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

for (const target of ENGINES) {
  describe.skipIf(target.skip)(target.name, () => {
    let scratch: Scratch;
    let t: TestServer;
    beforeAll(async () => {
      scratch = await target.scratch();
      t = await startTestServer({ db: scratch.db, stateDir: scratch.dir, lroDelayMs: 100 });
      await addSubscription(t.server, { subscriptionId: SUB });
    });
    afterAll(async () => {
      await t?.close();
      await scratch?.dispose();
    });

    it(`the server runs on ${target.engine}`, () => {
      expect(t.server.store.engine).toBe(target.engine);
    });

    it('a resource group is created, listed and deleted through its operation', async () => {
      const names = ['rg1', 'RG10', 'rg1-x', 'rg1.x', 'rg1_x'];
      for (const name of names) {
        const created = await t.inject({
          method: 'PUT',
          url: `/subscriptions/${SUB}/resourceGroups/${name}?${V}`,
          body: { location: 'westeurope', tags: { name } },
        });
        expect(created.status).toBe(201);
      }
      const updated = await t.inject({
        method: 'PUT',
        url: `/subscriptions/${SUB}/resourcegroups/RG1?${V}`,
        body: { location: 'westeurope', tags: { name: 'rg1', again: 'yes' } },
      });
      expect(updated.status).toBe(200);

      const listed: string[] = [];
      let next: string | undefined = `/subscriptions/${SUB}/resourceGroups?${V}&$top=2`;
      while (next) {
        const page = await t.inject({ method: 'GET', url: next });
        expect(page.status).toBe(200);
        listed.push(...page.body.value.map((group: { name: string }) => group.name));
        next = page.body.nextLink ? pathOf(page.body.nextLink) : undefined;
      }
      // Byte order of the lower-cased names, on either engine.
      expect(listed).toEqual(['rg1', 'rg1-x', 'rg1.x', 'RG10', 'rg1_x']);

      const accepted = await t.inject({
        method: 'DELETE',
        url: `/subscriptions/${SUB}/resourceGroups/rg1?${V}`,
      });
      expect(accepted.status).toBe(202);
      const location = pathOf(String(accepted.headers.location));
      let result = await t.inject({ method: 'GET', url: location });
      for (let polls = 0; result.status === 202 && polls < 100; polls++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        result = await t.inject({ method: 'GET', url: location });
      }
      expect(result.status).toBe(200);
      const gone = await t.inject({ method: 'GET', url: `/subscriptions/${SUB}/resourceGroups/rg1?${V}` });
      expect(gone.status).toBe(404);
      const sibling = await t.inject({
        method: 'GET',
        url: `/subscriptions/${SUB}/resourceGroups/rg10?${V}`,
      });
      expect(sibling.body.tags).toEqual({ name: 'RG10' });

      const operations = await t.server.store.db.selectFrom('operations').select('status').execute();
      expect(operations.map((operation) => operation.status)).toEqual(['Succeeded']);
    });

    it('racing PUTs of one new group answer one 201 and otherwise 200', async () => {
      const replies = await Promise.all(
        Array.from({ length: 8 }, (_, n) =>
          t.inject({
            method: 'PUT',
            url: `/subscriptions/${SUB}/resourceGroups/raced?${V}`,
            body: { location: 'westeurope', tags: { writer: String(n) } },
          }),
        ),
      );
      expect(replies.map((reply) => reply.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    });
  });
}
