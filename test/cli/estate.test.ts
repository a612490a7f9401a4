/**
 * `vaplane estate generate` and `vaplane estate import` as a user runs them: the built CLI in a child
 * process. The suite compiles the sources into its own folder (under node_modules/.cache, so the
 * project's packages resolve) rather than `dist/`, which other runs may be rebuilding at the same time.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE = join(ROOT, 'test/fixtures/resource-graph-export.json');

describe('vaplane estate', () => {
  let build: string;
  let work: string;

  async function vaplane(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [join(build, 'bin/vaplane.js'), ...args], {
        cwd: work,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  }

  async function countsIn(db: string): Promise<Record<string, number>> {
    const store = await openStore({ db });
    try {
      const rows = await store.db
        .selectFrom('resources')
        .select(['type', (eb) => eb.fn.countAll<number>().as('count')])
        .groupBy('type')
        .execute();
      return Object.fromEntries(rows.map((row) => [row.type, Number(row.count)]));
    } finally {
      await store.close();
    }
  }

  beforeAll(async () => {
    const cache = join(ROOT, 'node_modules/.cache');
    mkdirSync(cache, { recursive: true });
    build = mkdtempSync(join(cache, 'vaplane-estate-cli-'));
    work = mkdtempSync(join(tmpdir(), 'vaplane-estate-cli-'));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    // Type errors elsewhere in a working tree do not stop tsc emitting; a missing entry point does.
    await run(
      process.execPath,
      [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(build, 'dist')],
      {
        cwd: ROOT,
      },
    ).catch(() => undefined);
    if (!existsSync(join(build, 'dist/cli/index.js'))) throw new Error('the CLI did not build');
    mkdirSync(join(build, 'bin'));
    copyFileSync(join(ROOT, 'bin/vaplane.js'), join(build, 'bin/vaplane.js'));
  });

  afterAll(() => {
    rmSync(build, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('generate writes the estate, prints its counts and the time taken, and refuses the same seed twice', async () => {
    const db = join(work, 'generated.db');
    const generated = await vaplane(
      'estate',
      'generate',
      '--db',
      db,
      '--subscriptions',
      '3',
      '--machines',
      '20',
    );
    expect(generated.stderr).toBe('');
    expect(generated.code).toBe(0);
    expect(generated.stdout).toMatch(/^generated in \d+\.\d s into .*generated\.db$/m);
    expect(generated.stdout).toMatch(/^ {2}subscriptions +3$/m);
    const counts = await countsIn(db);
    expect(counts['microsoft.resources/subscriptions']).toBe(3);
    expect(
      (counts['microsoft.compute/virtualmachines'] ?? 0) + (counts['microsoft.hybridcompute/machines'] ?? 0),
    ).toBe(20);

    const again = await vaplane('estate', 'generate', '--db', db, '--subscriptions', '3', '--machines', '20');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^vaplane: the database already holds the estate of seed 1 /);
    expect(await countsIn(db)).toEqual(counts);
  });

  it('generate rejects a Qualys share outside 0–1 and needs the estate size', async () => {
    const db = join(work, 'rejected.db');
    const share = await vaplane(
      'estate',
      'generate',
      '--db',
      db,
      '--subscriptions',
      '1',
      '--machines',
      '1',
      '--qualys-share',
      '2',
    );
    expect(share.code).toBe(1);
    expect(share.stderr).toContain("'2' is not a fraction between 0 and 1");
    const missing = await vaplane('estate', 'generate', '--db', db, '--machines', '1');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("required option '--subscriptions <n>' not specified");
  });

  it('import reads a Resource Graph export, prints what it imported and skipped, and is idempotent', async () => {
    const db = join(work, 'imported.db');
    const first = await vaplane('estate', 'import', '--db', db, FIXTURE);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^imported 15 rows in \d+\.\d s into /m);
    expect(first.stdout).toMatch(/^ {2}virtual machines +3$/m);
    expect(first.stdout).toContain(
      'created, as rows implied them: management groups 1, subscriptions 1, resource groups 2',
    );
    expect(first.stdout).toContain(
      'skipped 1 × microsoft.network/networkinterfaces: not a type vaplane imports',
    );
    const counts = await countsIn(db);
    const second = await vaplane('estate', 'import', '--db', db, FIXTURE);
    expect(second.code).toBe(0);
    expect(await countsIn(db)).toEqual(counts);
  });

  it('import of a broken file fails with a clear message and writes nothing', async () => {
    const db = join(work, 'broken.db');
    const broken = join(work, 'broken.json');
    writeFileSync(broken, '{"count": 2, "data": [{"id": "/subscriptions/');
    const failed = await vaplane('estate', 'import', '--db', db, broken);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^vaplane: .*broken\.json is not valid JSON: /);
    expect(existsSync(db)).toBe(false);
    const missing = await vaplane('estate', 'import', '--db', db, join(work, 'nowhere.json'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^vaplane: cannot read .*nowhere\.json: ENOENT/);
  });
});
