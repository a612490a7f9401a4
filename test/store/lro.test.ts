/**
 * Long-running operations complete exactly once on both engines, including when two servers share one
 * PostgreSQL database and race to settle the same due operations.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errors } from '../../src/arm/errors.js';
import { createLroEngine, type LroEngine, type OperationKind } from '../../src/arm/lro.js';
import { systemClock } from '../../src/clock.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { type Db, getResource, openStore, putResource, type Store } from '../../src/store/index.js';
import { ENGINES, type Scratch } from './engines.js';

const SUB = 'cccccccc-0000-4000-8000-000000000003';
const COUNTER_KEY = `/subscriptions/${SUB}/resourcegroups/counter`;

/** Each completion adds one to the counter group's `count` and records the operation id. */
const increment: OperationKind = {
  async complete(db: Db, operation) {
    const counter = await getResource<{ count: number; seen: string[] }>(db, COUNTER_KEY);
    await putResource(db, {
      ...counter!,
      body: { count: counter!.body.count + 1, seen: [...counter!.body.seen, operation.id] },
    });
    return { final: { status: 200 } };
  },
};

const refuse: OperationKind = {
  async complete(db: Db) {
    await putResource(
      db,
      resourceGroupRecord({ subscriptionId: SUB, name: 'never', location: 'eastus', now: '' }),
    );
    throw errors.conflict('Refused', 'This operation always fails.');
  },
};

async function addDueOperations(db: Db, kind: string, count: number): Promise<string[]> {
  const past = new Date(Date.now() - 1000).toISOString();
  const ids = Array.from({ length: count }, () => randomUUID());
  await db
    .insertInto('operations')
    .values(
      ids.map((id) => ({
        id,
        kind,
        status: 'InProgress',
        namespace: 'Microsoft.Resources',
        subscription_id: SUB,
        location: 'eastus',
        target_key: COUNTER_KEY,
        input: '{}',
        result: null,
        error: null,
        start_time: past,
        end_time: null,
        due_at: past,
      })),
    )
    .execute();
  return ids;
}

function engineOn(store: Store): LroEngine {
  const lro = createLroEngine({ db: store.db, clock: systemClock(), delayMs: 0 });
  lro.registerKind('test.increment', increment);
  lro.registerKind('test.refuse', refuse);
  return lro;
}

for (const target of ENGINES) {
  describe.skipIf(target.skip)(target.name, () => {
    let scratch: Scratch;
    let stores: Store[];
    beforeAll(async () => {
      scratch = await target.scratch();
      // Two servers on one PostgreSQL database; SQLite has one writer process, so one store.
      const count = target.engine === 'postgres' ? 2 : 1;
      stores = [];
      for (let n = 0; n < count; n++) stores.push(await openStore({ db: scratch.db, stateDir: scratch.dir }));
    });
    afterAll(async () => {
      for (const store of stores ?? []) await store.close();
      await scratch?.dispose();
    });
    beforeEach(async () => {
      const db = stores[0]!.db;
      await db.deleteFrom('operations').execute();
      await db.deleteFrom('resources').execute();
      const counter = resourceGroupRecord({
        subscriptionId: SUB,
        name: 'counter',
        location: 'eastus',
        now: '',
      });
      await putResource(db, { ...counter, body: { count: 0, seen: [] } });
    });

    it('workers racing over the same due operations complete each exactly once', async () => {
      const ids = await addDueOperations(stores[0]!.db, 'test.increment', 40);
      const workers = [...stores, ...stores].map(engineOn);
      const settled = await Promise.all(workers.map((worker) => worker.runDue()));
      expect(settled.reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(ids.length);
      const counter = await getResource<{ count: number; seen: string[] }>(stores[0]!.db, COUNTER_KEY);
      expect(counter?.body.count).toBe(ids.length);
      expect([...counter!.body.seen].sort()).toEqual([...ids].sort());
      const statuses = await stores[0]!.db.selectFrom('operations').select(['status', 'end_time']).execute();
      expect(statuses.every((row) => row.status === 'Succeeded' && row.end_time)).toBe(true);
    });

    it('a failing completion rolls its effect back and leaves the operation Failed with its error', async () => {
      const [id] = await addDueOperations(stores[0]!.db, 'test.refuse', 1);
      await engineOn(stores[0]!).runDue();
      const operation = await engineOn(stores[0]!).get(stores[0]!.db, id!);
      expect(operation?.status).toBe('Failed');
      expect(operation?.error).toMatchObject({ code: 'Refused', status: 409 });
      expect(await getResource(stores[0]!.db, `/subscriptions/${SUB}/resourcegroups/never`)).toBeUndefined();
    });
  });
}
