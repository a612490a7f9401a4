/**
 * The `vaplane` command line run from the sources, for tests that need its real exit code:
 * `vite-node test/transition/vaplaneCli.ts -- transition verify …`. No build step, so a suite can run
 * the CLI a few times in seconds.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = fileURLToPath(import.meta.url);
/** Set for the child only: the module then runs the CLI instead of just exporting the helper. */
const RUN_MAIN = 'VAPLANE_TEST_RUN_CLI';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `vaplane ARGS…` in a child process; resolves with its exit code and output. */
export function runVaplane(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [resolve(ROOT, 'node_modules/vite-node/vite-node.mjs'), ENTRY, '--', ...args],
      { cwd: ROOT, env: { ...process.env, ...env, [RUN_MAIN]: '1' }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

if (process.env[RUN_MAIN] === '1') await main(process.argv);
