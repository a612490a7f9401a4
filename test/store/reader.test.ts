/**
 * SQLite's reader connection (src/store/reader.ts): reads outside a transaction come from a second,
 * read-only connection that remembers what it parsed. These tests pin down when it must forget:
 * this process's writes at once (autocommit and transactions), another connection's commits within
 * the recheck window, and never the writes of a transaction still open.
 */
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import {
  getResource,
  inTransaction,
  listResources,
  openStore,
  putResource,
  resourceFromRow,
  type Store,
} from '../../src/store/index.js';
import { openReader } from '../../src/store/reader.js';
import { ENGINES, type Scratch } from './engines.js';

const SUB = 'aaaaaaaa-0000-4000-8000-000000000001';
const GROUP = 'microsoft.resources/resourcegroups';
const T0 = '2026-01-01T00:00:00.000Z';

function group(name: string, tag: string) {
  const record = resourceGroupRecord({ subscriptionId: SUB, name, location: 'westeurope', now: T0 });
  return { ...record, body: { ...record.body, tags: { tag } } };
}

describe('the SQLite reader connection', () => {
  let scratch: Scratch;
  let store: Store;
  beforeEach(async () => {
    scratch = await ENGINES[0]!.scratch();
    store = await openStore({ db: scratch.db });
  });
  afterEach(async () => {
    await store.close();
    await scratch.dispose();
  });

  const tagOf = async (name: string) =>
    (await getResource(store.db, group(name, '').key))?.body.tags?.tag as string | undefined;
  const listedTags = async () =>
    (await listResources(store.db, { type: GROUP, subscriptionId: SUB, limit: 10 })).map(
      (found) => found.body.tags?.tag,
    );

  it('sees this process’s own writes at once, autocommit and transactional', async () => {
    expect(await tagOf('rg1')).toBeUndefined();
    expect(await listedTags()).toEqual([]);
    await putResource(store.db, group('rg1', 'first'));
    expect(await tagOf('rg1')).toBe('first');
    expect(await listedTags()).toEqual(['first']);
    await inTransaction(store.db, (tx) => putResource(tx, group('rg1', 'second')));
    expect(await tagOf('rg1')).toBe('second');
    expect(await listedTags()).toEqual(['second']);
  });

  it('never sees a transaction’s writes before it commits, and the transaction sees them', async () => {
    await putResource(store.db, group('rg1', 'before'));
    expect(await tagOf('rg1')).toBe('before');
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inside: string | undefined;
    const writing = inTransaction(store.db, async (tx) => {
      await putResource(tx, group('rg1', 'during'));
      inside = (await getResource(tx, group('rg1', '').key))?.body.tags?.tag;
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(inside).toBe('during');
    expect(await tagOf('rg1')).toBe('before');
    release();
    await writing;
    expect(await tagOf('rg1')).toBe('during');
  });

  it('sees another process’s commit within the recheck window', async () => {
    await putResource(store.db, group('rg1', 'ours'));
    expect(await tagOf('rg1')).toBe('ours');
    const other = new BetterSqlite3(scratch.db);
    try {
      const row = other.prepare('select body from resources where key = ?').get(group('rg1', '').key) as {
        body: string;
      };
      const body = JSON.parse(row.body);
      body.tags = { tag: 'theirs' };
      other
        .prepare('update resources set body = ? where key = ?')
        .run(JSON.stringify(body), group('rg1', '').key);
    } finally {
      other.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(await tagOf('rg1')).toBe('theirs');
  });

  it('shares what it read, frozen, so that no caller changes another’s copy', async () => {
    await putResource(store.db, group('rg1', 'shared'));
    const first = (await getResource(store.db, group('rg1', '').key))!;
    const second = (await getResource(store.db, group('rg1', '').key))!;
    expect(second).toBe(first);
    expect(Object.isFrozen(first.body.tags)).toBe(true);
    expect(() => {
      first.body.tags.tag = 'changed';
    }).toThrow(TypeError);
    const copy = structuredClone(first);
    copy.body.tags.tag = 'changed';
    await putResource(store.db, copy);
    expect(await tagOf('rg1')).toBe('changed');
  });

  it('bounds the resources its remembered lists hold, forgetting them all past the bound', async () => {
    for (const name of ['rg1', 'rg2', 'rg3']) await putResource(store.db, group(name, name));
    const reader = openReader(scratch.db, { parse: resourceFromRow, maxListed: 4 });
    try {
      const byName = 'select * from "resources" where "type" = ? and "name" = ?';
      const bySubscription = 'select * from "resources" where "type" = ? and "subscription_id" = ?';
      const one = reader.resources(byName, [GROUP, 'rg1']);
      expect(reader.resources(byName, [GROUP, 'rg1'])).toBe(one);
      const all = reader.resources(bySubscription, [GROUP, SUB]);
      expect(all).toHaveLength(3);
      expect(reader.resources(byName, [GROUP, 'rg1'])).toBe(one);
      // 1 + 3 resources remembered: one more list passes the bound of 4 and everything is forgotten.
      reader.resources(byName, [GROUP, 'rg2']);
      const again = reader.resources(byName, [GROUP, 'rg1']);
      expect(again).not.toBe(one);
      expect(again).toEqual(one);
    } finally {
      reader.close();
    }
  });
});
