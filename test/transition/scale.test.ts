/**
 * The transition at the scale: a generated estate of 200 subscriptions and 5,000 machines (a
 * few hundred deallocated or stopped VMs, BYOL subscriptions with their Qualys agents, GCP and AWS
 * connectors) behind a vaplane server over HTTPS, and the built CLI run as child processes —
 * `plan --fix-prerequisites` → `apply --start-stopped` → `verify` exits 0; the BYOL agents are the
 * same rows afterwards; a second plan has no action and applying it sends no write.
 *
 * The estate is generated `transitionReady`: with a drawn one, `verify` cannot reach 0 whatever the
 * CLI does, because some situations are not the transition's to fix — a Free plan (MDVM needs a paid
 * plan; buying one is the customer's decision), a Disconnected or Expired Arc machine (it takes no
 * extension change until it reconnects), a subscription that keeps MDE off Linux, a connector that
 * deploys no scanner to its machines. The option draws the same estate without those situations.
 *
 * The CLI is compiled into its own folder under node_modules/.cache (cliRunner.ts, as resume.test.ts does).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEstate } from '../../src/estate/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { buildCli, cliRunner } from './cliRunner.js';
import { workDir } from './world.js';

/** Every Qualys extension that is not the built-in scanner's (the BYOL agents), as stored. */
async function byolAgentRows(t: TestServer) {
  const rows = await t.server.store.db
    .selectFrom('resources')
    .select(['key', 'body', 'etag', 'updated_at'])
    .where('type', 'in', [
      'microsoft.compute/virtualmachines/extensions',
      'microsoft.hybridcompute/machines/extensions',
    ])
    .execute();
  return rows
    .filter((row) => {
      const properties = JSON.parse(row.body).properties;
      return properties.publisher === 'Qualys' && !/\.AzureSecurityCenter$/.test(properties.type);
    })
    .sort((a, b) => a.key.localeCompare(b.key));
}

describe('the transition of a 200-subscription, 5,000-machine estate', () => {
  let t: TestServer;
  let build: string;

  beforeAll(async () => {
    const building = buildCli('vaplane-transition-scale-');
    build = building.build;
    t = await startTestServer({ lroDelayMs: 5 });
    await generateEstate(t.server.store.db, {
      subscriptions: 200,
      machines: 5_000,
      seed: 1,
      transitionReady: true,
      tenantId: t.server.tenantId,
      now: t.server.services.clock.now(),
    });
    await building.ready();
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    if (build) rmSync(build, { recursive: true, force: true });
  });

  it('plan → apply → verify exits 0, the BYOL agents are untouched, and a second plan has nothing to do', async () => {
    const token = await t.token({ lifetimeSeconds: 3600 });
    const target = ['--endpoint', t.url, '--ca', t.caPath, '--token', token];
    const dir = workDir();
    const cli = cliRunner(build, target, dir);
    const fast = ['--poll-interval', '20', '--json'];
    const byolBefore = await byolAgentRows(t);
    expect(byolBefore.length).toBeGreaterThan(0);

    const planned = await cli([
      'plan',
      '--scope',
      'all',
      '--out',
      join(dir, 'plan.json'),
      '--fix-prerequisites',
      ...fast,
    ]);
    expect(planned.code).toBe(0);
    const made = JSON.parse(planned.stdout);
    expect(made.totals.machines).toBe(5_000);
    expect(made.totals.skipped.byolKeepsPartner).toBeGreaterThan(0);
    expect(made.totals.skipped.machineNotRunning).toBeGreaterThan(0);
    expect(made.totals.actions.deleteQualysExtension).toBeGreaterThan(1_000);
    expect(made.totals.actions.flipConnector).toBeGreaterThan(0);

    const applied = await cli(['apply', join(dir, 'plan.json'), '--start-stopped', ...fast]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const report = JSON.parse(applied.stdout);
    expect(report.outcome).toBe('completed');
    expect(report.totals).toMatchObject({ failed: 0, notStarted: 0 });

    const verified = await cli(['verify', '--scope', 'all', '--json']);
    const verification = JSON.parse(verified.stdout);
    expect(verification.summary.problems).toEqual({});
    expect(verified.code).toBe(0);
    expect(verification.summary.machines.total).toBe(5_000);

    expect(await byolAgentRows(t)).toEqual(byolBefore);

    const again = await cli(['plan', '--scope', 'all', '--out', join(dir, 'again.json'), ...fast]);
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout);
    expect(second.actions).toEqual([]);
    expect(second.skipped.filter((item: { deferred?: unknown }) => item.deferred)).toEqual([]);
    const operationsBefore = await t.server.store.db.selectFrom('operations').select('id').execute();
    const reapplied = await cli(['apply', join(dir, 'again.json'), '--start-stopped', ...fast]);
    expect(reapplied.code).toBe(0);
    expect(JSON.parse(reapplied.stdout).totals).toMatchObject({ planned: 0, done: 0 });
    expect(await t.server.store.db.selectFrom('operations').select('id').execute()).toEqual(operationsBefore);

    console.log(
      `200 subscriptions, 5,000 machines: plan ${planned.seconds.toFixed(1)} s (${made.actions.length} actions), apply ${applied.seconds.toFixed(1)} s, verify ${verified.seconds.toFixed(1)} s, second plan ${again.seconds.toFixed(1)} s`,
    );
  }, 240_000);
});
