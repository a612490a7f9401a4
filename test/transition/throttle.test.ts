/**
 * The transition against a server that throttles as ARM does (`throttle: 'arm'`: per principal,
 * subscription and kind, reads 250 burst / 25 per s, writes and deletes 200 burst / 10 per s, 429 with
 * `Retry-After` beyond them). The estate’s 600 machines sit in 3 subscriptions, so every subscription's
 * buckets run dry and the CLI's own buckets must pace the run. The built CLI runs
 * `plan --fix-prerequisites` → `apply --start-stopped`; apply exits 0, fewer than 1% of the responses
 * the server sent are 429, and the test prints the run's time beside the least time ARM's buckets
 * allow for the reads, writes and deletes it counted per subscription (`minimumSeconds`).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEstate } from '../../src/estate/index.js';
import {
  minimumSeconds,
  type OperationKind,
  operationKindOf,
  rateScopeOf,
} from '../../src/transition/rateLimits.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { buildCli, cliRunner } from './cliRunner.js';
import { workDir } from './world.js';

describe('the transition against a server throttling as ARM does', () => {
  let t: TestServer;
  let url: string;
  let build: string;
  /** Every response the server sent: status, and the (scope, kind) ARM would count the request against. */
  const responses: { status: number; scope: string; kind: OperationKind; at: number }[] = [];

  beforeAll(async () => {
    const building = buildCli('vaplane-transition-throttle-');
    build = building.build;
    t = await startTestServer({ throttle: 'arm', listen: false, lroDelayMs: 5 });
    t.server.app.addHook('onResponse', async (request, reply) => {
      responses.push({
        status: reply.statusCode,
        scope: rateScopeOf(request.url),
        kind: operationKindOf(request.method),
        at: performance.now(),
      });
    });
    url = await t.server.listen();
    await generateEstate(t.server.store.db, {
      subscriptions: 3,
      machines: 600,
      seed: 7,
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

  it('plan → apply finishes, fewer than 1% of the responses are 429, and the time is near the buckets’ minimum', async () => {
    const token = await t.token({ lifetimeSeconds: 3600 });
    const dir = workDir();
    const cli = cliRunner(build, ['--endpoint', url, '--ca', t.caPath, '--token', token], dir);
    const fast = ['--poll-interval', '20', '--json'];
    const since = responses.length;

    const planned = await cli([
      'plan',
      '--scope',
      'all',
      '--out',
      join(dir, 'plan.json'),
      '--fix-prerequisites',
      ...fast,
    ]);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(0);
    const made = JSON.parse(planned.stdout);
    expect(made.totals.machines).toBe(600);
    expect(made.totals.actions.deleteQualysExtension).toBeGreaterThan(100);

    const planResponses = responses.length - since;
    const applied = await cli(['apply', join(dir, 'plan.json'), '--start-stopped', ...fast]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const report = JSON.parse(applied.stdout);
    expect(report.outcome).toBe('completed');
    expect(report.totals).toMatchObject({ failed: 0, notStarted: 0 });

    const run = responses.slice(since);
    const throttled = run.filter((response) => response.status === 429).length;
    const throttledBy = (from: number, to: number) =>
      run
        .slice(from, to)
        .filter((response) => response.status === 429)
        .reduce<Record<string, number>>((by, response) => {
          by[response.kind] = (by[response.kind] ?? 0) + 1;
          return by;
        }, {});
    const counts = new Map<string, Record<OperationKind, number>>();
    for (const response of run) {
      const count = counts.get(response.scope) ?? { reads: 0, writes: 0, deletes: 0 };
      count[response.kind] += 1;
      counts.set(response.scope, count);
    }
    // Plan and apply run one after the other, each with full buckets at best: the least time is the
    // slowest subscription's, counted over the whole run (the buckets refill in parallel across scopes).
    const minimum = Math.max(...[...counts.values()].map((count) => minimumSeconds(count)));
    const seconds = planned.seconds + applied.seconds;
    const perScope = [...counts]
      .map(
        ([scope, count]) =>
          `${scope}: ${count.reads} reads, ${count.writes} writes, ${count.deletes} deletes`,
      )
      .join('; ');
    console.log(
      `throttle arm, 3 subscriptions, 600 machines: plan ${planned.seconds.toFixed(1)} s + apply ${applied.seconds.toFixed(1)} s = ${seconds.toFixed(1)} s, against a minimum of ${minimum.toFixed(1)} s the buckets allow; ${run.length} responses, ${throttled} of them 429 (${((100 * throttled) / run.length).toFixed(2)}%; plan ${JSON.stringify(throttledBy(0, planResponses))}, apply ${JSON.stringify(throttledBy(planResponses, run.length))}); ${perScope}`,
    );
    expect(throttled).toBeLessThan(run.length / 100);
    expect(minimum).toBeGreaterThan(0);
    expect(seconds).toBeGreaterThanOrEqual(minimum);
  }, 120_000);
});
