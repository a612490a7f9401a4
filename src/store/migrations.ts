import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';

/**
 * Versioned migrations, shared by SQLite and PostgreSQL. `key` columns sort byte-wise (`COLLATE "C"`
 * on PostgreSQL, SQLite's default BINARY) so that a range scan over `[key + '/', key + '0')` finds
 * exactly the resources beneath a scope, on both engines.
 *
 * Two indexes serve every list: the primary key (a scope's subtree is a key range) and
 * `(type, subscription_id, key)` (a type within a subscription, narrowed to a resource group or a
 * parent by a key range). On SQLite the table is `WITHOUT ROWID`, clustered by key, so the key is
 * stored once rather than again in a separate primary-key index.
 */
export function migrations(engine: 'sqlite' | 'postgres'): Record<string, Migration> {
  const byteOrder = engine === 'postgres' ? sql`collate "C"` : sql``;
  const clustered = engine === 'sqlite' ? sql`without rowid` : sql``;
  return {
    '0001-resources-operations-principals': {
      // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('resources')
          .addColumn('key', 'text', (c) => c.primaryKey().modifyFront(byteOrder))
          .addColumn('id', 'text')
          .addColumn('type', 'text', (c) => c.notNull().modifyFront(byteOrder))
          .addColumn('subscription_id', 'text', (c) => c.modifyFront(byteOrder))
          .addColumn('resource_group', 'text', (c) => c.modifyFront(byteOrder))
          .addColumn('parent_key', 'text', (c) => c.notNull().modifyFront(byteOrder))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('etag', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .modifyEnd(clustered)
          .execute();
        await db.schema
          .createIndex('resources_by_subscription')
          .on('resources')
          .columns(['type', 'subscription_id', 'key'])
          .execute();

        await db.schema
          .createTable('operations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('namespace', 'text', (c) => c.notNull())
          .addColumn('subscription_id', 'text')
          .addColumn('location', 'text', (c) => c.notNull())
          .addColumn('target_key', 'text', (c) => c.notNull())
          .addColumn('input', 'text', (c) => c.notNull())
          .addColumn('result', 'text')
          .addColumn('error', 'text')
          .addColumn('start_time', 'text', (c) => c.notNull())
          .addColumn('end_time', 'text')
          .addColumn('due_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('operations_due')
          .on('operations')
          .columns(['status', 'due_at'])
          .execute();
        await db.schema
          .createIndex('operations_by_target')
          .on('operations')
          .columns(['target_key'])
          .execute();

        await db.schema
          .createTable('principals')
          .addColumn('object_id', 'text', (c) => c.primaryKey())
          .addColumn('client_id', 'text', (c) => c.notNull().unique())
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('principal_type', 'text', (c) => c.notNull())
          .addColumn('secret_hash', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
  };
}

export function migrationProvider(engine: 'sqlite' | 'postgres'): MigrationProvider {
  return { getMigrations: async () => migrations(engine) };
}
