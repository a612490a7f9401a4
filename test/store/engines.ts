/** The engines the store suites run on: SQLite always, PostgreSQL when `VAPLANE_TEST_PG` is set. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createThrowawayDatabase, postgresSuiteName, TEST_PG_ADMIN_URL } from '../support/pg.js';

export interface Scratch {
  /** What `--db` takes: a SQLite file path or a `postgres://` URL. */
  db: string;
  /** A temporary folder for keys, certificates and files. */
  dir: string;
  /** The database's default collation (PostgreSQL only). */
  defaultCollation?: string;
  dispose(): Promise<void>;
}

export interface EngineUnderTest {
  engine: 'sqlite' | 'postgres';
  /** The describe-block name, with the reason when skipped. */
  name: string;
  skip: boolean;
  /** A fresh, empty database of this engine. */
  scratch(): Promise<Scratch>;
}

export const ENGINES: EngineUnderTest[] = [
  {
    engine: 'sqlite',
    name: 'sqlite',
    skip: false,
    async scratch() {
      const dir = mkdtempSync(join(tmpdir(), 'vaplane-store-'));
      return {
        db: join(dir, 'vaplane.db'),
        dir,
        async dispose() {
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    engine: 'postgres',
    name: postgresSuiteName(),
    skip: !TEST_PG_ADMIN_URL,
    async scratch() {
      const dir = mkdtempSync(join(tmpdir(), 'vaplane-store-'));
      const database = await createThrowawayDatabase();
      return {
        db: database.url,
        dir,
        defaultCollation: database.defaultCollation,
        async dispose() {
          await database.drop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
