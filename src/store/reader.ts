/**
 * A second, read-only SQLite connection for reads outside transactions (a GET and the lists beside
 * it). It reads the last committed state from the WAL without waiting for the writer connection, which
 * Kysely holds for the whole of a write transaction, and runs prepared statements directly.
 *
 * It also remembers what it read, parsed, until the database changes, so a hot GET costs neither a
 * query nor a JSON parse. Remembered resources are frozen, because every caller shares them. When it
 * forgets:
 * - this process's writer calls `changed()` after every write statement and commit, so this process
 *   reads its own writes at once;
 * - another process's commits move SQLite's `data_version`, which the reader looks at before a read
 *   unless it looked less than `recheckMs` (1 ms) before: a commit by another process (the CLI's
 *   `token`, `principal` or `estate` against a running server's file) is seen within 1 ms. Each look
 *   costs about 2 µs, as much as the rest of a remembered read.
 */
import BetterSqlite3 from 'better-sqlite3';
import type { Db } from './db.js';
import type { StoredResource } from './resources.js';
import type { ResourcesTable } from './schema.js';

export interface Reader {
  /** The resource with this key, as last committed. */
  resource(key: string): StoredResource | undefined;
  /** The resources a query selects, as last committed. */
  resources(sql: string, parameters: readonly unknown[]): readonly StoredResource[];
  /** This process has written: look at the database again before the next read. */
  changed(): void;
  close(): void;
}

export interface ReaderOptions {
  parse(row: ResourcesTable): StoredResource;
  /** Remembered single resources; the oldest go first. */
  maxEntries?: number;
  /** Lists longer than this are not remembered. */
  maxListLength?: number;
  /** Resources in remembered lists, all lists together; past it, every list is forgotten. */
  maxListed?: number;
  /** How long a look at `data_version` stays good for other processes' commits. */
  recheckMs?: number;
}

const BY_KEY = 'select * from "resources" where "key" = ?';

export function openReader(file: string, options: ReaderOptions): Reader {
  const { parse, maxEntries = 10_000, maxListLength = 100, maxListed = 20_000, recheckMs = 1 } = options;
  const connection = new BetterSqlite3(file, { fileMustExist: true });
  connection.pragma('query_only = ON');
  connection.pragma('busy_timeout = 5000');
  const statements = new Map<string, BetterSqlite3.Statement<unknown[], ResourcesTable>>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      if (statements.size >= 200) statements.delete(statements.keys().next().value!);
      statement = connection.prepare<unknown[], ResourcesTable>(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const dataVersion = connection.prepare<[], number>('pragma data_version').pluck();
  let version: number | undefined;
  let lookedAt = Number.NEGATIVE_INFINITY;
  const single = new Map<string, StoredResource | null>();
  const lists = new Map<string, Map<string, readonly StoredResource[]>>();
  /** Resources in `lists` (an empty list counts as one), to bound what they hold. */
  let listed = 0;
  /** Forgets everything once another connection has committed. */
  function current(): void {
    const at = performance.now();
    if (at - lookedAt < recheckMs) return;
    lookedAt = at;
    const now = dataVersion.get();
    if (now === version) return;
    version = now;
    single.clear();
    lists.clear();
    listed = 0;
  }
  function remember<T>(map: Map<string, T>, key: string, value: T): T {
    if (map.size >= maxEntries) map.delete(map.keys().next().value!);
    map.set(key, value);
    return value;
  }
  return {
    resource(key) {
      current();
      const known = single.get(key);
      if (known !== undefined) return known ?? undefined;
      const row = prepared(BY_KEY).get(key);
      return remember(single, key, row ? deepFreeze(parse(row)) : null) ?? undefined;
    },
    resources(sql, parameters) {
      current();
      // By statement, then by values: the statement's text is the same string each time (its hash
      // is kept), so only the short values key is hashed anew.
      let known = lists.get(sql);
      const valuesKey = parameters.join('\u0000');
      const found = known?.get(valuesKey);
      if (found) return found;
      const rows = prepared(sql).all(...parameters);
      const parsed = Object.freeze(rows.map((row) => deepFreeze(parse(row))));
      if (rows.length > maxListLength) return parsed;
      listed += Math.max(1, rows.length);
      if (listed > maxListed) {
        lists.clear();
        listed = Math.max(1, rows.length);
        known = undefined;
      }
      if (!known) {
        known = new Map();
        lists.set(sql, known);
      }
      known.set(valuesKey, parsed);
      return parsed;
    },
    changed() {
      lookedAt = Number.NEGATIVE_INFINITY;
    },
    close: () => connection.close(),
  };
}

/** Freezes a value and everything in it: what readers share must not change under them. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

// Keyed by the store's own Kysely instance: a transaction is another instance, so reads inside one
// never take this path and always see the transaction's own writes.
const readers = new WeakMap<Db, Reader>();

export function registerReader(db: Db, reader: Reader): void {
  readers.set(db, reader);
}

export function readerOf(db: Db): Reader | undefined {
  return readers.get(db);
}
