/**
 * The store behaves the same on SQLite and PostgreSQL: one suite, run against each engine. Keys sort
 * byte-wise on both, so paging cursors and subtree ranges give identical answers.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keyOf } from '../../src/arm/resourceId.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import {
  countResources,
  deleteResource,
  deleteResourceTree,
  getResource,
  getResources,
  insertResources,
  inTransaction,
  type ListQuery,
  listResources,
  openStore,
  putResource,
  type Store,
  type StoredResource,
} from '../../src/store/index.js';
import { migrations } from '../../src/store/migrations.js';
import { ENGINES, type Scratch } from './engines.js';

const SUB_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const SUB_B = 'bbbbbbbb-0000-4000-8000-000000000002';
const GROUP = 'microsoft.resources/resourcegroups';
const VM = 'microsoft.compute/virtualmachines';
const EXTENSION = 'microsoft.compute/virtualmachines/extensions';
const ASSIGNMENT = 'microsoft.authorization/roleassignments';
const T0 = '2026-01-01T00:00:00.000Z';

/** Group names chosen so that byte order differs from any linguistic order. */
const GROUP_NAMES = [
  'rg1',
  'rg10',
  'rg1-x',
  'rg1.x',
  'rg1_x',
  'rg1(x)',
  'RG2',
  'Rg-a',
  'rg_a',
  'rg.a',
  'a9',
  'Z0',
  'rg-10',
  '0rg',
  // Beyond ASCII, byte order of UTF-8 is not JavaScript's UTF-16 order: U+FF46 sorts before U+1F600.
  'ÉCOLE',
  'ｆｕｌｌ',
  '😀',
];

function byteOrder(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function group(subscriptionId: string, name: string, tags?: Record<string, string>): StoredResource {
  return resourceGroupRecord({ subscriptionId, name, location: 'eastus', tags, now: T0 });
}

function child(options: {
  parentId: string;
  type: string;
  segment: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
}): StoredResource {
  const id = `${options.parentId}/${options.segment}/${options.name}`;
  return {
    key: keyOf(id),
    id,
    type: options.type,
    subscriptionId: options.subscriptionId,
    resourceGroup: options.resourceGroup.toLowerCase(),
    parentKey: keyOf(options.parentId),
    name: options.name,
    body: { id, name: options.name },
    etag: '"1"',
    createdAt: T0,
    updatedAt: T0,
  };
}

function vm(subscriptionId: string, groupName: string, name: string): StoredResource {
  return child({
    parentId: `/subscriptions/${subscriptionId}/resourceGroups/${groupName}`,
    type: VM,
    segment: 'providers/Microsoft.Compute/virtualMachines',
    name,
    subscriptionId,
    resourceGroup: groupName,
  });
}

function extension(parent: StoredResource, name: string): StoredResource {
  return child({
    parentId: parent.id,
    type: EXTENSION,
    segment: 'extensions',
    name,
    subscriptionId: parent.subscriptionId!,
    resourceGroup: parent.resourceGroup!,
  });
}

/** Every key a query returns, fetched page by page through the `after` cursor. */
async function pagedKeys(store: Store, query: Omit<ListQuery, 'limit' | 'after'>, pageSize: number) {
  const keys: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await listResources(store.db, { ...query, after, limit: pageSize });
    keys.push(...page.map((resource) => resource.key));
    if (page.length < pageSize) return keys;
    after = page[page.length - 1]!.key;
  }
}

async function allKeys(store: Store): Promise<string[]> {
  const rows = await store.db.selectFrom('resources').select('key').execute();
  return byteOrder(rows.map((row) => row.key));
}

for (const target of ENGINES) {
  describe.skipIf(target.skip)(target.name, () => {
    let scratch: Scratch;
    let store: Store;
    beforeAll(async () => {
      scratch = await target.scratch();
      store = await openStore({ db: scratch.db, stateDir: scratch.dir });
    });
    afterAll(async () => {
      await store?.close();
      await scratch?.dispose();
    });
    beforeEach(async () => {
      await store.db.deleteFrom('resources').execute();
      await store.db.deleteFrom('operations').execute();
    });

    it(`opens as ${target.engine}`, () => {
      expect(store.engine).toBe(target.engine);
    });

    it('opening the same database again runs no migration twice and keeps the data', async () => {
      await putResource(store.db, group(SUB_A, 'kept'));
      const again = await openStore({ db: scratch.db, stateDir: scratch.dir });
      try {
        const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
          again.db,
        );
        expect(applied.rows.map((row) => row.name)).toEqual(Object.keys(migrations(target.engine)).sort());
        expect(
          (await getResource(again.db, keyOf(`/subscriptions/${SUB_A}/resourceGroups/kept`)))?.name,
        ).toBe('kept');
      } finally {
        await again.close();
      }
    });

    if (target.engine === 'postgres') {
      it('servers starting at once on one database migrate it once', async () => {
        const stores = await Promise.all(
          [1, 2, 3].map(() => openStore({ db: scratch.db, stateDir: scratch.dir })),
        );
        await Promise.all(stores.map((opened) => opened.close()));
        const applied = await sql<{ count: string }>`select count(*) as count from kysely_migration`.execute(
          store.db,
        );
        expect(Number(applied.rows[0]!.count)).toBe(Object.keys(migrations('postgres')).length);
      });
    }

    it('put then get returns every column as written', async () => {
      const written = group(SUB_A, 'Rg-One', { env: 'dev', 'cost-center': '42' });
      await putResource(store.db, written);
      expect(await getResource(store.db, written.key)).toEqual(written);
      expect(await getResource(store.db, `${written.key}x`)).toBeUndefined();
    });

    it('an upsert replaces id, body, etag and updated_at and keeps created_at', async () => {
      const first = group(SUB_A, 'rg-upsert', { v: '1' });
      await putResource(store.db, first);
      const later = '2026-02-02T00:00:00.000Z';
      const second: StoredResource = {
        ...group(SUB_A, 'RG-Upsert', { v: '2' }),
        etag: '"2"',
        createdAt: later,
        updatedAt: later,
      };
      expect(second.key).toBe(first.key);
      await putResource(store.db, second);
      const stored = await getResource(store.db, first.key);
      expect(stored).toMatchObject({
        id: `/subscriptions/${SUB_A}/resourceGroups/RG-Upsert`,
        etag: '"2"',
        createdAt: T0,
        updatedAt: later,
      });
      expect(stored?.body.tags).toEqual({ v: '2' });
      expect(await countResources(store.db, GROUP)).toBe(1);
    });

    it('keys are lower-cased ids: any casing of the id finds the row, which keeps its casing', async () => {
      await putResource(store.db, group(SUB_A, 'Mixed-Case.Group_(1)'));
      const found = await getResource(
        store.db,
        keyOf(`//SUBSCRIPTIONS/${SUB_A.toUpperCase()}/resourcegroups//MIXED-CASE.GROUP_(1)`),
      );
      expect(found?.name).toBe('Mixed-Case.Group_(1)');
      expect(found?.body.id).toBe(`/subscriptions/${SUB_A}/resourceGroups/Mixed-Case.Group_(1)`);
    });

    it('countResources answers a number', async () => {
      await insertResources(store.db, [group(SUB_A, 'c1'), group(SUB_A, 'c2'), group(SUB_B, 'c3')]);
      const count = await countResources(store.db, GROUP);
      expect(count).toBe(3);
      expect(typeof count).toBe('number');
      expect(await countResources(store.db, VM)).toBe(0);
    });

    it('getResources finds many keys at once, past the bound-parameter limits', async () => {
      const groups = Array.from({ length: 2500 }, (_, n) => group(SUB_A, `bulk-${n}`));
      await insertResources(store.db, groups);
      const wanted = groups.filter((_, n) => n % 2 === 0).map((resource) => resource.key);
      const found = await getResources(store.db, [...wanted, '/subscriptions/missing']);
      expect(byteOrder(found.map((resource) => resource.key))).toEqual(byteOrder(wanted));
    });

    describe('lists in byte order of the key, with a paging cursor', () => {
      const groupsA = GROUP_NAMES.map((name) => group(SUB_A, name));
      const groupsB = ['rg1', 'b-2', 'B_1'].map((name) => group(SUB_B, name));
      const vms = [
        vm(SUB_A, 'rg1', 'vm-b'),
        vm(SUB_A, 'rg1', 'VM-a'),
        vm(SUB_A, 'rg1', 'vm.c'),
        vm(SUB_A, 'rg10', 'vm-a'),
        vm(SUB_A, 'rg1-x', 'vm-a'),
        vm(SUB_B, 'rg1', 'vm-a'),
      ];
      const extensions = [extension(vms[0]!, 'ext_2'), extension(vms[0]!, 'Ext-1'), extension(vms[3]!, 'e')];

      beforeEach(async () => {
        await insertResources(store.db, [...groupsB, ...vms, ...extensions]);
        for (const resource of groupsA) await putResource(store.db, resource);
      });

      it('by type and subscription, page after page', async () => {
        const expected = byteOrder(groupsA.map((resource) => resource.key));
        for (const pageSize of [1, 3, 4, 100]) {
          expect(await pagedKeys(store, { type: GROUP, subscriptionId: SUB_A }, pageSize)).toEqual(expected);
        }
        const prefix = `/subscriptions/${SUB_A}/resourcegroups/`;
        const names = expected
          .filter((key) => key.startsWith(`${prefix}rg1`))
          .map((key) => key.slice(prefix.length));
        expect(names).toEqual(['rg1', 'rg1(x)', 'rg1-x', 'rg1.x', 'rg10', 'rg1_x']);
        expect(expected.slice(-3).map((key) => key.slice(prefix.length))).toEqual([
          'école',
          'ｆｕｌｌ',
          '😀',
        ]);
      });

      it('by type alone, across subscriptions', async () => {
        const expected = byteOrder([...groupsA, ...groupsB].map((resource) => resource.key));
        expect(await pagedKeys(store, { type: GROUP }, 5)).toEqual(expected);
      });

      it('by resource group: rg1 is not rg10 nor rg1-x', async () => {
        const expected = byteOrder(vms.slice(0, 3).map((resource) => resource.key));
        expect(await pagedKeys(store, { type: VM, subscriptionId: SUB_A, resourceGroup: 'rg1' }, 2)).toEqual(
          expected,
        );
      });

      it('by parent key', async () => {
        const expected = byteOrder(extensions.slice(0, 2).map((resource) => resource.key));
        expect(await pagedKeys(store, { type: EXTENSION, parentKey: vms[0]!.key }, 1)).toEqual(expected);
        expect(expected.map((key) => key.split('/').pop())).toEqual(['ext-1', 'ext_2']);
      });

      it('by scope: everything beneath rg1, none of its look-alike siblings', async () => {
        const rg1 = keyOf(`/subscriptions/${SUB_A}/resourceGroups/rg1`);
        const expected = byteOrder(vms.slice(0, 3).map((resource) => resource.key));
        expect(await pagedKeys(store, { type: VM, underKey: rg1 }, 2)).toEqual(expected);
      });
    });

    describe('deleteResourceTree', () => {
      it('removes a resource and everything beneath it, and no sibling whose key shares its prefix', async () => {
        const rg1 = group(SUB_A, 'rg1');
        const rg1Vm = vm(SUB_A, 'rg1', 'vm');
        const beneath = [
          rg1Vm,
          extension(rg1Vm, 'ext'),
          child({
            parentId: rg1.id,
            type: ASSIGNMENT,
            segment: 'providers/Microsoft.Authorization/roleAssignments',
            name: '0d0b9d0c-0000-4000-8000-000000000000',
            subscriptionId: SUB_A,
            resourceGroup: 'rg1',
          }),
        ];
        const siblings = ['rg10', 'rg1-x', 'rg1.x', 'rg1_x', 'rg1(x)', 'rg', 'rg0'].map((name) =>
          group(SUB_A, name),
        );
        const siblingsChildren = [
          vm(SUB_A, 'rg10', 'vm'),
          vm(SUB_A, 'rg1-x', 'vm'),
          vm(SUB_A, 'rg1.x', 'vm'),
        ];
        const otherSubscription = [group(SUB_B, 'rg1'), vm(SUB_B, 'rg1', 'vm')];
        const untouched = [...siblings, ...siblingsChildren, ...otherSubscription];
        await insertResources(store.db, [rg1, ...beneath, ...untouched]);

        expect(await deleteResourceTree(store.db, rg1.key)).toBe(1 + beneath.length);
        expect(await allKeys(store)).toEqual(byteOrder(untouched.map((resource) => resource.key)));

        expect(await deleteResourceTree(store.db, siblingsChildren[0]!.key)).toBe(1);
        expect(await deleteResourceTree(store.db, rg1.key)).toBe(0);
        expect(await deleteResource(store.db, siblings[0]!.key)).toBe(true);
        expect(await deleteResource(store.db, siblings[0]!.key)).toBe(false);
      });

      if (target.engine === 'postgres') {
        it('key columns collate as "C" (bytes), whatever the database default', async () => {
          const columns = await sql<{ column_name: string; collation_name: string | null }>`
            select column_name, collation_name from information_schema.columns
            where table_name = 'resources' and column_name in ('key', 'type', 'subscription_id', 'resource_group', 'parent_key')
          `.execute(store.db);
          expect(columns.rows).toHaveLength(5);
          for (const column of columns.rows) expect(column.collation_name, column.column_name).toBe('C');
          // The scratch database defaults to ICU en-US where the server has ICU: there its own order
          // of these keys differs from byte order, so the test above proves the schema's collation.
          if (scratch.defaultCollation?.startsWith('icu')) {
            const linguistic = await sql<{ key: string }>`
              select k as key from unnest(array['rg1/a', 'rg1_x', 'rg10', 'rg1-x']::text[]) as k
              order by k collate "default"
            `.execute(store.db);
            expect(linguistic.rows.map((row) => row.key)).not.toEqual(
              byteOrder(['rg1/a', 'rg1_x', 'rg10', 'rg1-x']),
            );
          }
        });
      }
    });

    describe('transactions', () => {
      it('roll back every write when the work throws', async () => {
        const kept = group(SUB_A, 'before');
        await putResource(store.db, kept);
        await expect(
          inTransaction(store.db, async (tx) => {
            await putResource(tx, group(SUB_A, 'inside-1'));
            await deleteResourceTree(tx, kept.key);
            await putResource(tx, group(SUB_A, 'inside-2'));
            throw new Error('handler failed');
          }),
        ).rejects.toThrow('handler failed');
        expect(await allKeys(store)).toEqual([kept.key]);
      });

      it('roll back earlier writes when a statement fails', async () => {
        const duplicate = group(SUB_A, 'dup');
        await putResource(store.db, duplicate);
        await expect(
          inTransaction(store.db, async (tx) => {
            await putResource(tx, group(SUB_A, 'first'));
            await insertResources(tx, [duplicate]);
          }),
        ).rejects.toThrow();
        expect(await allKeys(store)).toEqual([duplicate.key]);
      });

      it('concurrent read-modify-write transactions lose no update', async () => {
        const counter = { ...group(SUB_A, 'counter'), body: { count: 0 } };
        await putResource(store.db, counter);
        const writers = 24;
        await Promise.all(
          Array.from({ length: writers }, (_, n) =>
            inTransaction(store.db, async (tx) => {
              const current = await getResource<{ count: number }>(tx, counter.key);
              await putResource(tx, group(SUB_A, `writer-${n}`));
              await putResource(tx, { ...current!, body: { count: current!.body.count + 1 } });
            }),
          ),
        );
        expect((await getResource<{ count: number }>(store.db, counter.key))?.body.count).toBe(writers);
        expect(await countResources(store.db, GROUP)).toBe(writers + 1);
      });

      it('a check-then-insert runs as if alone: exactly one of many racing creators wins', async () => {
        const key = group(SUB_A, 'contested').key;
        const outcomes = await Promise.all(
          Array.from({ length: 12 }, (_, n) =>
            inTransaction(store.db, async (tx) => {
              if (await getResource(tx, key)) return 'exists';
              await putResource(tx, group(SUB_A, 'contested', { creator: String(n) }));
              return 'created';
            }),
          ),
        );
        expect(outcomes.filter((outcome) => outcome === 'created')).toHaveLength(1);
      });
    });
  });
}
