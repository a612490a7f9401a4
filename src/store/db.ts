import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations.js';
import { openReader, type Reader, registerReader } from './reader.js';
import { resourceFromRow } from './resources.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface Store {
  db: Db;
  engine: 'sqlite' | 'postgres';
  /** Where the server keeps its signing key and TLS material: beside the SQLite file, or `stateDir`. */
  stateDir: string;
  /** A printable description of the database (file path or URL without password). */
  location: string;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** A SQLite file path (default `./data/vaplane.db`) or a `postgres://` URL. */
  db?: string;
  /** Directory for keys and certificates; defaults to the SQLite file's folder, or `./data` for PostgreSQL. */
  stateDir?: string;
}

export const DEFAULT_DB = 'data/vaplane.db';

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const target = options.db ?? DEFAULT_DB;
  let store: Store;
  if (isPostgresUrl(target)) {
    const pool = new pg.Pool({ connectionString: target, max: 10 });
    // An idle connection that the database drops (restart, failover) is discarded by the pool; without
    // a listener its 'error' event would end the process.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const stateDir = resolve(options.stateDir ?? 'data');
    const url = new URL(target);
    url.password = url.password ? '***' : '';
    store = { db, engine: 'postgres', stateDir, location: url.toString(), close: () => db.destroy() };
  } else {
    const file = resolve(target);
    mkdirSync(dirname(file), { recursive: true });
    const sqlite = new BetterSqlite3(file);
    // Larger pages hold a whole VM body with its key; this only takes effect on a new file.
    sqlite.pragma('page_size = 16384');
    sqlite.pragma('journal_mode = WAL');
    // FULL: a committed transaction survives a power loss as well as a killed process.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    let reader: Reader | undefined;
    cachePreparedStatements(sqlite, () => reader?.changed());
    const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
    store = {
      db,
      engine: 'sqlite',
      stateDir: resolve(options.stateDir ?? dirname(file)),
      location: file,
      close: async () => {
        reader?.close();
        await db.destroy();
      },
    };
    mkdirSync(store.stateDir, { recursive: true });
    await migrate(store);
    reader = openReader(file, { parse: resourceFromRow });
    registerReader(db, reader);
    return store;
  }
  mkdirSync(store.stateDir, { recursive: true });
  await migrate(store);
  return store;
}

/**
 * Kysely's SQLite driver prepares every query anew, and compiling the SQL is the largest single cost
 * of a fast GET (about 30 µs of a VM GET). Statements are reused by SQL text instead, a bounded number
 * of them. Reuse is safe because the driver runs one query at a time on its one connection. Write
 * statements also tell the reader connection (`written`) that the database has changed.
 */
function cachePreparedStatements(sqlite: BetterSqlite3.Database, written: () => void, limit = 500): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const statements = new Map<string, BetterSqlite3.Statement>();
  const cached = (source: string): BetterSqlite3.Statement => {
    let statement = statements.get(source);
    if (statement) return statement;
    statement = prepare(source);
    if (!statement.reader) {
      // Every write, `commit` included: the reader connection must look at the database again.
      const run = statement.run.bind(statement);
      statement.run = (...parameters: unknown[]) => {
        try {
          return run(...parameters);
        } finally {
          written();
        }
      };
    }
    if (statements.size >= limit) statements.delete(statements.keys().next().value!);
    statements.set(source, statement);
    return statement;
  };
  sqlite.prepare = cached as typeof sqlite.prepare;
}

/**
 * SQLite transactions that take the write lock when they begin (`BEGIN IMMEDIATE`). Within the server
 * Kysely runs one transaction at a time on its single connection; another process writing the same
 * file (the CLI's `token` or `principal` while the server runs) then makes a transaction wait for the
 * lock (`busy_timeout`) instead of failing with SQLITE_BUSY when a deferred one upgrades from reading
 * to writing.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.engine) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}
