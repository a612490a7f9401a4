/**
 * The journal makes apply resumable: an intent without a result is reconciled by reading the target
 * instead of being sent again, and an apply SIGKILLed at several points of a run — the built CLI in a
 * child process — ends, once resumed, in the estate an uninterrupted run leaves, with every write
 * made exactly once (journal results per action; server-side operations per target).
 *
 * The suite compiles the CLI into its own folder under node_modules/.cache (so the project's packages
 * resolve) rather than dist/, which other runs may be rebuilding at the same time.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultJournalPath,
  openJournal,
  type PlannedAction,
  parsePlan,
  type TransitionPlan,
} from '../../src/transition/index.js';
import { connector, EXTENSIONS, legacyOnboarding, serversPlan, vm } from '../support/defender.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  apply,
  connectorVa,
  extensionsOf,
  legacyVaNames,
  operationCounts,
  plan,
  powerState,
  subscription,
  vaProvider,
  workDir,
} from './world.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

function resultCounts(journalPath: string): Map<string, { done: number; failed: number; intents: number }> {
  const db = new BetterSqlite3(journalPath, { readonly: true });
  try {
    const counts = new Map<string, { done: number; failed: number; intents: number }>();
    for (const row of db
      .prepare<[], { step: string; phase: string; outcome: string | null }>(
        'SELECT step, phase, outcome FROM entries',
      )
      .all()) {
      const count = counts.get(row.step) ?? { done: 0, failed: 0, intents: 0 };
      if (row.phase === 'intent') count.intents++;
      if (row.phase === 'result' && row.outcome === 'done') count.done++;
      if (row.phase === 'result' && row.outcome === 'failed') count.failed++;
      counts.set(row.step, count);
    }
    return counts;
  } finally {
    db.close();
  }
}

function allActions(made: TransitionPlan): PlannedAction[] {
  return [...made.actions, ...made.skipped.flatMap((item) => item.deferred ?? [])];
}

describe('resuming apply from its journal', () => {
  let t: TestServer;
  let build: string;

  beforeAll(async () => {
    const cache = join(ROOT, 'node_modules/.cache');
    mkdirSync(cache, { recursive: true });
    build = mkdtempSync(join(cache, 'vaplane-transition-cli-'));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const building = run(
      process.execPath,
      [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(build, 'dist'), '--sourceMap', 'false'],
      { cwd: ROOT },
    ).catch(() => undefined);
    // Slow operations, so that a kill lands while deletes, starts and deallocations are in flight.
    t = await startTestServer({ lroDelayMs: 250 });
    // Type errors elsewhere in a working tree do not stop tsc emitting; a missing entry point does.
    await building;
    if (!existsSync(join(build, 'dist/cli/transition.js'))) throw new Error('the CLI did not build');
    mkdirSync(join(build, 'bin'));
    copyFileSync(join(ROOT, 'bin/vaplane.js'), join(build, 'bin/vaplane.js'));
  });

  afterAll(async () => {
    await t?.close();
    if (build) rmSync(build, { recursive: true, force: true });
  });

  it('reconciles an intent without a result by reading the target: done targets are not sent again', async () => {
    const id = await subscription(t, 'c1000000-0000-4000-8000-000000000001');
    await serversPlan(t, id, 'P2');
    const reached = await vm(t, id, 'vm-reached', { extensions: [EXTENSIONS.qualysLinux] });
    const lost = await vm(t, id, 'vm-lost', { extensions: [EXTENSIONS.qualysLinux] });
    const out = join(workDir(), 'plan.json');
    const made = (await plan(t, { scope: [id], out })).plan!;
    const byTarget = (target: string) => made.actions.find((action) => action.target.startsWith(target))!;
    const setting = byTarget(`/subscriptions/${id}/providers`);
    const reachedDelete = byTarget(reached);
    const lostDelete = byTarget(lost);

    // A run wrote its intents and died: two requests reached ARM, one did not.
    const journal = openJournal(defaultJournalPath(out), {
      planId: made.planId,
      planFile: out,
      endpoint: made.endpoint,
      runOptions: {},
    });
    for (const action of [setting, reachedDelete, lostDelete]) {
      journal.intent(
        { id: action.id, kind: action.kind, subscriptionId: id, target: action.target },
        { method: action.request.split(' ')[0]!, path: action.target },
      );
    }
    journal.close();
    const put = await t.inject({
      method: 'PUT',
      url: `${setting.target}?api-version=2023-05-01`,
      body: { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm' } },
    });
    expect(put.status).toBe(201);
    const deleted = await t.inject({
      method: 'DELETE',
      url: `${reachedDelete.target}?api-version=2024-03-01`,
    });
    expect(deleted.status).toBe(202);

    const resumed = await apply(t, out);
    expect(resumed.code).toBe(0);
    expect(resumed.report.totals).toMatchObject({ planned: 3, reconciled: 2, done: 1, failed: 0 });
    const operations = await operationCounts(t);
    expect(operations.get(`compute.vmExtension.delete ${reachedDelete.target.toLowerCase()}`)).toBe(1);
    expect(operations.get(`compute.vmExtension.delete ${lostDelete.target.toLowerCase()}`)).toBe(1);
    const counts = resultCounts(defaultJournalPath(out));
    for (const action of [setting, reachedDelete, lostDelete]) expect(counts.get(action.id)?.done).toBe(1);
    expect(counts.get(lostDelete.id)?.intents).toBe(2);
    expect(counts.get(setting.id)?.intents).toBe(1);
    const setting201 = await t.inject({ method: 'GET', url: `${setting.target}?api-version=2023-05-01` });
    expect(setting201.body.systemData.createdAt).toBe(setting201.body.systemData.lastModifiedAt);
  });

  it('carries on a session an earlier run left open: the VM goes back to its power state, even without --start-stopped', async () => {
    const id = await subscription(t, 'c3000000-0000-4000-8000-000000000001');
    await serversPlan(t, id, 'P2');
    const machine = await vm(t, id, 'vm-half', {
      powerState: 'deallocated',
      extensions: [EXTENSIONS.qualysLinux],
    });
    const out = join(workDir(), 'plan.json');
    const made = (await plan(t, { scope: [id], out })).plan!;
    const removal = made.skipped[0]!.deferred!;

    // An earlier --start-stopped run started the VM, removed the extension and died before returning it.
    expect((await t.inject({ method: 'POST', url: `${machine}/start?api-version=2024-03-01` })).status).toBe(
      202,
    );
    await expect.poll(() => powerState(t, machine)).toBe('running');
    expect(
      (await t.inject({ method: 'DELETE', url: `${removal.target}?api-version=2024-03-01` })).status,
    ).toBe(202);
    await expect.poll(async () => (await extensionsOf(t, machine)).length).toBe(0);
    const journal = openJournal(defaultJournalPath(out), {
      planId: made.planId,
      planFile: out,
      endpoint: made.endpoint,
      runOptions: { startStopped: true },
    });
    const start = {
      id: `startMachine:${machine.toLowerCase()}#1`,
      kind: 'startMachine' as const,
      subscriptionId: id,
      target: machine,
    };
    const step = { id: removal.id, kind: removal.kind, subscriptionId: id, target: removal.target };
    journal.intent(start, { method: 'POST', path: `${machine}/start` });
    journal.result(start, { outcome: 'done' });
    journal.intent(step, { method: 'DELETE', path: removal.target });
    journal.result(step, { outcome: 'done' });
    journal.close();

    const resumed = await apply(t, out);
    expect(resumed.code).toBe(0);
    expect(resumed.report.machines).toEqual([
      { machineId: machine, started: true, restoredTo: 'deallocated', outcome: 'done' },
    ]);
    expect(resumed.report.counts.deleteQualysExtension).toMatchObject({ planned: 1, alreadyDone: 1 });
    expect(await powerState(t, machine)).toBe('deallocated');
    expect((await operationCounts(t)).get(`compute.virtualMachine.power ${machine.toLowerCase()}`)).toBe(2);
  });

  it('an apply SIGKILLed at several points resumes to the state of an uninterrupted run, every write made once', async () => {
    const ids = [
      'c2000000-0000-4000-8000-000000000001',
      'c2000000-0000-4000-8000-000000000002',
      'c2000000-0000-4000-8000-000000000003',
    ];
    const running: string[] = [];
    const stopped: string[] = [];
    const withDefault: string[] = [];
    const connectors: string[] = [];
    for (const id of ids) {
      await subscription(t, id);
      await serversPlan(t, id, 'P2');
      connectors.push(await connector(t, id, `gcp-${id.slice(-1)}`, { va: 'Qualys' }));
      for (let index = 0; index < 8; index++) {
        const machine = await vm(t, id, `vm-${index}`, { extensions: [EXTENSIONS.qualysLinux] });
        running.push(machine);
        if (index % 2 === 0) {
          await legacyOnboarding(t, machine, 'Default');
          withDefault.push(machine);
        }
      }
      for (let index = 0; index < 2; index++) {
        stopped.push(
          await vm(t, id, `vm-off-${index}`, {
            powerState: 'deallocated',
            extensions: [EXTENSIONS.qualysLinux],
          }),
        );
      }
    }
    const dir = workDir();
    const out = join(dir, 'plan.json');
    expect((await plan(t, { scope: ids, out })).code).toBe(0);
    const made = parsePlan(readFileSync(out, 'utf8'), out);
    const actions = allActions(made);
    expect(actions).toHaveLength(3 + 3 + 12 + 24 + 6);
    const journalPath = defaultJournalPath(out);
    const token = await t.token();
    const args = [
      join(build, 'bin/vaplane.js'),
      'transition',
      'apply',
      out,
      '--endpoint',
      t.url,
      '--ca',
      t.caPath,
      '--token',
      token,
      '--max-concurrency',
      '2',
      '--poll-interval',
      '50',
      '--start-stopped',
      '--json',
    ];

    const results = () => {
      if (!existsSync(journalPath)) return 0;
      const db = new BetterSqlite3(journalPath, { readonly: true });
      try {
        return db
          .prepare<[], { n: number }>("SELECT count(*) AS n FROM entries WHERE phase = 'result'")
          .get()!.n;
      } catch {
        return 0; // created, its tables not yet
      } finally {
        db.close();
      }
    };
    const exited = (child: ChildProcess) =>
      new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
        (done) => {
          let stdout = '';
          let stderr = '';
          child.stdout?.on('data', (chunk) => (stdout += chunk));
          child.stderr?.on('data', (chunk) => (stderr += chunk));
          child.on('exit', (code, signal) => done({ code, signal, stdout, stderr }));
        },
      );

    // Kill at growing numbers of results; the first interruption is Ctrl-C, the others SIGKILL.
    const killPoints = [4, 14, 26, 38];
    let interruptions = 0;
    let busyChecked = false;
    for (const [round, killAt] of killPoints.entries()) {
      const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      const ended = exited(child);
      let finished = false;
      void ended.then(() => (finished = true));
      while (!finished && results() < killAt) {
        if (!busyChecked && existsSync(journalPath) && results() > 0) {
          // A second apply on the same journal while the first lives is refused.
          busyChecked = true;
          const busy = await apply(t, out, { json: false });
          expect(busy.code).toBe(2);
          expect(busy.stderr).toMatch(
            /ERR_VAPLANE_JOURNAL_BUSY {2}Another apply \(pid \d+, run 1\) is using/,
          );
        }
        await sleep(5);
      }
      if (finished) break;
      child.kill(round === 0 ? 'SIGINT' : 'SIGKILL');
      const outcome = await ended;
      interruptions++;
      if (round === 0) {
        expect(outcome.code).toBe(130);
        expect(JSON.parse(outcome.stdout).outcome).toBe('interrupted');
      } else {
        expect(outcome.signal).toBe('SIGKILL');
      }
    }
    expect(busyChecked).toBe(true);
    expect(interruptions).toBeGreaterThanOrEqual(3);

    const last = await exited(spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(last.stderr).toBe('');
    expect(last.code).toBe(0);
    expect(JSON.parse(last.stdout).outcome).toBe('completed');

    // The journal: every action completed exactly once, nothing failed; one start and one return per machine.
    const counts = resultCounts(journalPath);
    for (const action of actions) {
      expect({ id: action.id, ...counts.get(action.id) }).toMatchObject({
        id: action.id,
        done: 1,
        failed: 0,
      });
    }
    for (const machine of stopped) {
      const steps = [...counts.entries()].filter(([step]) => step.includes(machine.toLowerCase()));
      const done = (kind: string) =>
        steps.filter(([step]) => step.startsWith(kind)).reduce((sum, [, count]) => sum + count.done, 0);
      expect(done('startMachine:')).toBe(1);
      expect(done('restorePowerState:')).toBe(1);
    }
    const db = new BetterSqlite3(journalPath, { readonly: true });
    const runs = db.prepare<[], { ended_at: string | null }>('SELECT ended_at FROM runs').all();
    db.close();
    expect(runs.length).toBe(interruptions + 1);
    expect(runs.filter((row) => row.ended_at === null).length).toBe(interruptions - 1);

    // The server: one delete per extension and per legacy resource, one start and one deallocation per stopped VM.
    const operations = await operationCounts(t);
    for (const machine of [...running, ...stopped]) {
      expect(
        operations.get(`compute.vmExtension.delete ${machine.toLowerCase()}/extensions/linuxagent`),
      ).toBe(1);
    }
    for (const machine of withDefault) {
      expect(
        operations.get(
          `security.serverVulnerabilityAssessment.deprovision ${machine.toLowerCase()}/providers/microsoft.security/servervulnerabilityassessments/default`,
        ),
      ).toBe(1);
    }
    for (const machine of stopped)
      expect(operations.get(`compute.virtualMachine.power ${machine.toLowerCase()}`)).toBe(2);

    // The estate: as an uninterrupted run leaves it.
    for (const id of ids) {
      expect(await vaProvider(t, id)).toBe('MdeTvm');
      const setting = await t.inject({
        method: 'GET',
        url: `/subscriptions/${id}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
      });
      expect(setting.body.systemData.createdAt).toBe(setting.body.systemData.lastModifiedAt);
    }
    for (const connectorId of connectors)
      expect(await connectorVa(t, connectorId)).toEqual({ enabled: true, type: 'TVM' });
    for (const machine of [...running, ...stopped]) expect(await extensionsOf(t, machine)).toEqual([]);
    for (const machine of withDefault) expect(await legacyVaNames(t, machine)).toEqual([]);
    for (const machine of stopped) expect(await powerState(t, machine)).toBe('deallocated');
    expect((await plan(t, { scope: ids })).plan!.actions).toEqual([]);
  });
});
