import { sql } from 'kysely';
import type { Db } from './db.js';
import { readerOf } from './reader.js';
import type { ResourcesTable } from './schema.js';

/**
 * A stored ARM resource: the complete representation plus the columns lists and scopes query by.
 * On SQLite, a resource read outside a transaction is shared with other readers and frozen (see
 * `reader.ts`): change a copy (`structuredClone`), or read it inside the transaction that writes it.
 */
export interface StoredResource<Body = ArmBody> {
  key: string;
  id: string;
  type: string;
  subscriptionId: string | null;
  resourceGroup: string | null;
  parentKey: string;
  name: string;
  body: Body;
  etag: string;
  createdAt: string;
  updatedAt: string;
}

// biome-ignore lint/suspicious/noExplicitAny: ARM bodies are open JSON documents, typed per provider.
export type ArmBody = Record<string, any>;

/** The store's row as a resource (the store keeps `id` only where it differs from the body's). */
export function resourceFromRow<Body = ArmBody>(row: ResourcesTable): StoredResource<Body> {
  const body = JSON.parse(row.body);
  return {
    key: row.key,
    id: row.id ?? (body.id as string),
    type: row.type,
    subscriptionId: row.subscription_id,
    resourceGroup: row.resource_group,
    parentKey: row.parent_key,
    name: row.name,
    body: body as Body,
    etag: row.etag,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRow(resource: StoredResource): ResourcesTable {
  return {
    key: resource.key,
    id: resource.body.id === resource.id ? null : resource.id,
    type: resource.type,
    subscription_id: resource.subscriptionId,
    resource_group: resource.resourceGroup,
    parent_key: resource.parentKey,
    name: resource.name,
    body: JSON.stringify(resource.body),
    etag: resource.etag,
    created_at: resource.createdAt,
    updated_at: resource.updatedAt,
  };
}

export async function getResource<Body = ArmBody>(
  db: Db,
  key: string,
): Promise<StoredResource<Body> | undefined> {
  const reader = readerOf(db);
  if (reader) return reader.resource(key) as StoredResource<Body> | undefined;
  const row = await db.selectFrom('resources').selectAll().where('key', '=', key).executeTakeFirst();
  return row ? resourceFromRow<Body>(row) : undefined;
}

/** The resources with these keys, in no particular order; missing keys are left out. */
export async function getResources<Body = ArmBody>(db: Db, keys: string[]): Promise<StoredResource<Body>[]> {
  // Chunked: both engines cap the number of bound parameters in one statement.
  const chunk = 1000;
  const found: StoredResource<Body>[] = [];
  for (let start = 0; start < keys.length; start += chunk) {
    const rows = await db
      .selectFrom('resources')
      .selectAll()
      .where('key', 'in', keys.slice(start, start + chunk))
      .execute();
    for (const row of rows) found.push(resourceFromRow<Body>(row));
  }
  return found;
}

export async function putResource(db: Db, resource: StoredResource): Promise<void> {
  const row = toRow(resource);
  await db
    .insertInto('resources')
    .values(row)
    .onConflict((conflict) =>
      conflict.column('key').doUpdateSet({
        id: row.id,
        body: row.body,
        etag: row.etag,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

/** Inserts many new resources in one statement per chunk (the estate generator's path). */
export async function insertResources(db: Db, resources: StoredResource[]): Promise<void> {
  const chunk = 500;
  for (let start = 0; start < resources.length; start += chunk) {
    await db
      .insertInto('resources')
      .values(resources.slice(start, start + chunk).map(toRow))
      .execute();
  }
}

export async function deleteResource(db: Db, key: string): Promise<boolean> {
  const result = await db.deleteFrom('resources').where('key', '=', key).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Deletes a resource and everything beneath it (children and extension resources). */
export async function deleteResourceTree(db: Db, key: string): Promise<number> {
  const result = await db
    .deleteFrom('resources')
    .where((eb) =>
      eb.or([eb('key', '=', key), eb.and([eb('key', '>', `${key}/`), eb('key', '<', `${key}0`)])]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface ListQuery {
  type: string;
  subscriptionId?: string;
  resourceGroup?: string;
  parentKey?: string;
  /** Keys below a scope: every resource whose key starts with `${underKey}/`. */
  underKey?: string;
  /** Only keys greater than this (the paging cursor). */
  after?: string;
  limit: number;
}

export async function listResources<Body = ArmBody>(
  db: Db,
  query: ListQuery,
): Promise<StoredResource<Body>[]> {
  const where = listWhere(query);
  const reader = readerOf(db);
  if (reader && Number.isSafeInteger(where.limit)) {
    return [...reader.resources(...compiledList(db, where))] as StoredResource<Body>[];
  }
  const rows = await listSelect(db, where).execute();
  return rows.map((row) => resourceFromRow<Body>(row));
}

/** A list query's conditions as values compared to columns; `limit` is the page size. */
interface ListWhere {
  type: string;
  subscriptionId?: string;
  resourceGroup?: string;
  parentKey?: string;
  /** Keys strictly between `low` and `high`. */
  low?: string;
  high?: string;
  after?: string;
  limit: number;
}

const CONDITIONS = ['type', 'subscriptionId', 'resourceGroup', 'parentKey', 'low', 'high', 'after'] as const;

function listWhere(query: ListQuery): ListWhere {
  // Every narrower scope is also a key range: resources in a group, children of a parent and
  // extension resources all have keys beneath the scope's key. Using the range (with the
  // subscription, when there is one) lets the `(type, subscription_id, key)` index serve the query.
  const groupKey =
    query.resourceGroup !== undefined && query.subscriptionId !== undefined
      ? `/subscriptions/${query.subscriptionId}/resourcegroups/${query.resourceGroup}`
      : undefined;
  const rangeKey = query.underKey ?? (query.parentKey ? query.parentKey : undefined) ?? groupKey;
  return {
    type: query.type,
    subscriptionId: query.subscriptionId ?? subscriptionOfKey(rangeKey),
    resourceGroup: query.resourceGroup,
    parentKey: query.parentKey,
    low: rangeKey === undefined ? undefined : `${rangeKey}/`,
    high: rangeKey === undefined ? undefined : `${rangeKey}0`,
    after: query.after,
    limit: query.limit,
  };
}

function listSelect(db: Db, where: ListWhere) {
  let select = db.selectFrom('resources').selectAll().where('type', '=', where.type);
  if (where.subscriptionId !== undefined) select = select.where('subscription_id', '=', where.subscriptionId);
  if (where.resourceGroup !== undefined) select = select.where('resource_group', '=', where.resourceGroup);
  if (where.parentKey !== undefined) select = select.where('parent_key', '=', where.parentKey);
  if (where.low !== undefined) select = select.where('key', '>', where.low);
  if (where.high !== undefined) select = select.where('key', '<', where.high);
  if (where.after !== undefined) select = select.where('key', '>', where.after);
  // The page size goes into the SQL as a literal: as a bound parameter, SQLite (built with STAT4, as
  // better-sqlite3 is) compiles the statement a second time on every execution.
  const limit = Number.isSafeInteger(where.limit) ? sql.lit(where.limit) : where.limit;
  return select.orderBy('key').limit(limit);
}

/**
 * The SQL of a list for the reader connection, built by `listSelect` once per shape (which conditions
 * are present, and the page size) with placeholders standing for the values, then reused.
 */
const listShapes = new Map<string, { sql: string; conditions: (keyof ListWhere)[] }>();

function compiledList(db: Db, where: ListWhere): [string, unknown[]] {
  const present = CONDITIONS.filter((name) => where[name] !== undefined);
  const shape = `${present.join(',')};${where.limit}`;
  let compiled = listShapes.get(shape);
  if (!compiled) {
    const placeholders: ListWhere = { type: '\0type', limit: where.limit };
    for (const name of present) placeholders[name] = `\0${name}`;
    const query = listSelect(db, placeholders).compile();
    const conditions = query.parameters.map((value) => {
      const name = CONDITIONS.find((candidate) => `\0${candidate}` === value);
      if (!name) throw new Error(`list query parameter ${String(value)} has no condition`);
      return name;
    });
    compiled = { sql: query.sql, conditions };
    // Page sizes come from callers (`$top`): keep a bounded number of shapes.
    if (listShapes.size >= 500) listShapes.delete(listShapes.keys().next().value!);
    listShapes.set(shape, compiled);
  }
  return [compiled.sql, compiled.conditions.map((name) => where[name])];
}

function subscriptionOfKey(key: string | undefined): string | undefined {
  return key === undefined ? undefined : /^\/subscriptions\/([^/]+)/.exec(key)?.[1];
}

export async function countResources(db: Db, type: string): Promise<number> {
  const row = await db
    .selectFrom('resources')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .where('type', '=', type)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
