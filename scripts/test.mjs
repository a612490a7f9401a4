// `npm test`: lint and format check, type check, then every vitest suite; ends with the plain
// `N passed, N failed, N skipped` line CI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  return result.status ?? 1;
}

const steps = [
  ['npx', ['biome', 'check', '.']],
  ['npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['npx', ['tsc', '-p', 'tsconfig.build.json']],
  // The portal (web/) type-checks under its own settings: DOM, bundler resolution, JSX.
  ['npx', ['tsc', '-p', 'web/tsconfig.json']],
  ['npx', ['tsc', '-p', 'web/tsconfig.node.json']],
];
for (const [command, args] of steps) {
  const status = run(command, args);
  if (status !== 0) {
    console.log('0 passed, 1 failed');
    console.error(`${command} ${args.join(' ')} failed`);
    process.exit(status);
  }
}

rmSync('.vitest-report.json', { force: true });
const status = run('npx', ['vitest', 'run', ...process.argv.slice(2)]);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync('.vitest-report.json')) {
  const report = JSON.parse(readFileSync('.vitest-report.json', 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  skipped = report.numPendingTests + report.numTodoTests;
  if (report.numFailedTestSuites > 0 && failed === 0) failed = report.numFailedTestSuites;
} else if (status !== 0) {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status === 0 && failed === 0 ? 0 : 1);
