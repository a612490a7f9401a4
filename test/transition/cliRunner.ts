/**
 * The built CLI for end-to-end transition tests: `buildCli` compiles it into its own folder under
 * node_modules/.cache (as resume.test.ts does) and `cliRunner` runs `vaplane transition …` as a child
 * process against a server, returning its exit code, output and wall time.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/**
 * Starts compiling the CLI into a fresh folder named `prefix…` under node_modules/.cache. Returns the
 * folder at once and `ready`, which waits for the build and throws if it is not usable.
 */
export function buildCli(prefix: string): { build: string; ready: () => Promise<void> } {
  const cache = join(ROOT, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const build = mkdtempSync(join(cache, prefix));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const building = run(
    process.execPath,
    [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(build, 'dist'), '--sourceMap', 'false'],
    { cwd: ROOT },
  ).catch(() => undefined);
  const ready = async () => {
    await building;
    if (!existsSync(join(build, 'dist/cli/transition.js'))) throw new Error('the CLI did not build');
    mkdirSync(join(build, 'bin'));
    copyFileSync(join(ROOT, 'bin/vaplane.js'), join(build, 'bin/vaplane.js'));
  };
  return { build, ready };
}

/** Runs `vaplane transition <args> <target>` from `build` in `cwd`; never throws on a non-zero exit. */
export function cliRunner(build: string, target: string[], cwd: string): (args: string[]) => Promise<CliRun> {
  return async (args) => {
    const started = performance.now();
    const outcome = await run(
      process.execPath,
      [join(build, 'bin/vaplane.js'), 'transition', ...args, ...target],
      { cwd, maxBuffer: 1 << 30 },
    ).then(
      (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
      (error) => ({
        code: error.code as number,
        stdout: error.stdout as string,
        stderr: error.stderr as string,
      }),
    );
    return { ...outcome, seconds: (performance.now() - started) / 1000 };
  };
}
