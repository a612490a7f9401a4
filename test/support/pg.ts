/**
 * Throwaway PostgreSQL databases for suites that run on both engines. `VAPLANE_TEST_PG` is an admin
 * URL of a server the tests may create databases on (CI starts a private cluster and exports it);
 * without it the PostgreSQL cases skip.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_PG_ADMIN_URL = process.env.VAPLANE_TEST_PG;

/** A describe-block name that says why the PostgreSQL cases did not run. */
export function postgresSuiteName(name = 'postgres'): string {
  return TEST_PG_ADMIN_URL ? name : `${name} (skipped: VAPLANE_TEST_PG not set)`;
}

export interface ThrowawayDatabase {
  /** Connection URL of the new database. */
  url: string;
  name: string;
  /** The database's default collation provider and locale, e.g. `icu en-US`. */
  defaultCollation: string;
  /** Drops the database, closing whatever connections are still open on it. */
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named, empty database. Its default collation is linguistic (ICU `en-US`, as most
 * production servers have) where the server supports it, so that a test relying on byte order proves
 * the schema asks for it rather than inheriting it from a `C` cluster.
 */
export async function createThrowawayDatabase(adminUrl = TEST_PG_ADMIN_URL): Promise<ThrowawayDatabase> {
  if (!adminUrl) throw new Error('VAPLANE_TEST_PG is not set');
  const name = `vaplane_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, async (admin) => {
    try {
      await admin.query(
        `create database ${name} template template0 encoding 'UTF8' locale 'C' locale_provider icu icu_locale 'en-US'`,
      );
    } catch {
      await admin.query(`create database ${name} template template0 encoding 'UTF8'`);
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const collation = await withAdmin(url.toString(), async (client) => {
    const { rows } = await client.query(
      `select datlocprovider, datcollate, daticulocale from pg_database where datname = current_database()`,
    );
    const row = rows[0] as { datlocprovider: string; datcollate: string; daticulocale: string | null };
    return row.datlocprovider === 'i' ? `icu ${row.daticulocale}` : `libc ${row.datcollate}`;
  });
  return {
    url: url.toString(),
    name,
    defaultCollation: collation,
    async drop() {
      await withAdmin(adminUrl, (admin) => admin.query(`drop database if exists ${name} with (force)`));
    },
  };
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
