/**
 * `vaplane transition report`: the journal of a real plan → apply run against vaplane over HTTPS and
 * the verification after it, rendered as a table, JSON (parsed back), CSV (parsed back with an RFC 4180
 * reader) and HTML (self-contained, every value escaped: one machine is named `<script>alert(1)`).
 * A journal with a failed, a skipped and an interrupted step shows them, with request ids and timings.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/transition/apply.js';
import { type CommandStreams, runReport, scopesOf } from '../../src/transition/cliVerify.js';
import { discoverEstate } from '../../src/transition/discovery.js';
import { type ArmClient, createArmClient } from '../../src/transition/index.js';
import { defaultJournalPath, openJournal } from '../../src/transition/journal.js';
import { buildPlan, type TransitionPlan } from '../../src/transition/plan.js';
import { CSV_COLUMNS } from '../../src/transition/render/csv.js';
import { buildReport, type Report, renderReport } from '../../src/transition/report.js';
import { readJournalForReport } from '../../src/transition/reportJournal.js';
import { type Verification, verifyTransition } from '../../src/transition/verify.js';
import {
  arcMachine,
  connector,
  defenderSubscription,
  EXTENSIONS,
  legacyOnboarding,
  serversPlan,
  setting,
  vm,
} from '../support/defender.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { runVaplane } from './vaplaneCli.js';

const NASTY_NAME = '<script>alert(1)';

/** RFC 4180: fields split on commas and CRLF, quoted fields may hold both, `""` is a quote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (character === '"') {
        quoted = false;
      } else {
        field += character;
      }
    } else if (character === '"') {
      if (field !== '') throw new Error(`a quote inside an unquoted field at ${index}`);
      quoted = true;
    } else if (character === ',') {
      row.push(field);
      field = '';
    } else if (character === '\r' && text[index + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      index++;
    } else if (character === '\n' || character === '\r') {
      throw new Error(`a bare line break outside quotes at ${index}`);
    } else {
      field += character;
    }
  }
  if (quoted) throw new Error('an unterminated quoted field');
  if (field !== '' || row.length > 0) throw new Error('the last record does not end with CRLF');
  return rows;
}

function records(csv: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(csv);
  return rows.map((row) => {
    expect(row).toHaveLength(header!.length);
    return Object.fromEntries(header!.map((column, index) => [column, row[index]!]));
  });
}

/** What an HTML page must not do to stay self-contained and inert. */
function expectSelfContainedAndInert(html: string): void {
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/\s(src|href|action|srcset)\s*=/i);
  expect(html).not.toMatch(/<(link|img|iframe|object|embed|form)\b/i);
  expect(html).not.toMatch(/url\(|@import/i);
  expect(html).not.toMatch(/\son[a-z]+\s*=/i);
  expect(html).toContain(
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
  );
}

let t: TestServer;
let dir: string;
let client: ArmClient;

beforeAll(async () => {
  t = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'vaplane-report-'));
  client = createArmClient(
    { kind: 'vaplane', endpoint: t.url, caPath: t.caPath, auth: { token: await t.token() } },
    { polling: { fixedDelayMs: 25 } },
  );
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a report of a real plan → apply run and the verification after it', () => {
  let plan: TransitionPlan;
  let planPath: string;
  let journalPath: string;
  let verification: Verification;
  let report: Report;
  const machines: Record<string, string> = {};

  beforeAll(async () => {
    const sub = await defenderSubscription(t);
    await serversPlan(t, sub, 'P2');
    await setting(t, sub, 'WDATP', true);
    machines.nasty = await vm(t, sub, NASTY_NAME, { extensions: [EXTENSIONS.qualysLinux] });
    machines.onboarded = await vm(t, sub, 'db01', { os: 'windows', extensions: [EXTENSIONS.qualysWindows] });
    await legacyOnboarding(t, machines.onboarded, 'Default');
    machines.arc = await arcMachine(t, sub, 'onprem01', { extensions: [EXTENSIONS.qualysLinux] });
    machines.stopped = await vm(t, sub, 'batch01', {
      powerState: 'deallocated',
      extensions: [EXTENSIONS.qualysLinux],
    });
    await connector(t, sub, 'gcp-prod', { va: 'Qualys' });

    const scopes = scopesOf([sub]);
    plan = buildPlan(await discoverEstate(client, { scopes }), { fixPrerequisites: null, now: new Date() });
    planPath = join(dir, 'plan.json');
    writeFileSync(planPath, JSON.stringify(plan, null, 2));
    journalPath = defaultJournalPath(planPath);
    const journal = openJournal(journalPath, {
      planId: plan.planId,
      planFile: planPath,
      endpoint: client.endpoint,
      runOptions: {},
    });
    try {
      const applied = await applyPlan({ client, plan, journal, polling: { fixedDelayMs: 25 } });
      journal.endRun(applied.outcome);
      expect(applied.failures).toEqual([]);
    } finally {
      journal.close();
    }
    verification = await verifyTransition(client, scopes);
    report = buildReport({ journal: readJournalForReport(journalPath), verification });
  });

  it('reads every journalled action with its reason, request, result, timing and request ids', () => {
    const journal = report.journal!;
    expect(journal.planPath).toBe(planPath);
    expect(journal.actions.map((action) => action.id).sort()).toEqual(
      plan.actions.map((action) => action.id).sort(),
    );
    for (const action of journal.actions) {
      const planned = plan.actions.find((candidate) => candidate.id === action.id)!;
      expect(action).toMatchObject({
        kind: planned.kind,
        target: planned.target,
        intent: planned.why,
        result: 'succeeded',
      });
      expect(action.request).toMatch(/^(PUT|DELETE) \//);
      expect(action.requestIds.length).toBeGreaterThan(0);
      expect(action.durationMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(action.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(action.startedAt!));
    }
    // The nasty VM, the onboarded VM and the Arc machine lost their Qualys; the deallocated VM was skipped.
    expect(report.summary).toMatchObject({ machinesCleaned: 3, failures: 1, complete: false });
    expect(report.summary.problems).toEqual({ LegacyQualysExtension: 1 });
  });

  it('finds the journal beside the plan when given only --plan', async () => {
    const output: string[] = [];
    const streams: CommandStreams = {
      stdout: { write: (text) => output.push(text) },
      stderr: { write: () => {} },
    };
    expect(await runReport({ plan: planPath, format: 'json' }, streams)).toBe(0);
    const parsed = JSON.parse(output.join('')) as Report;
    expect(parsed.journal!.path).toBe(journalPath);
    expect(parsed.journal!.actions).toEqual(report.journal!.actions);
  });

  it('renders JSON that parses back to the same report', () => {
    const parsed = JSON.parse(renderReport(report, 'json')) as Report;
    expect(parsed).toEqual(report);
    expect(
      parsed.verification!.subscriptions[0]!.machines.find((machine) => machine.name === NASTY_NAME),
    ).toMatchObject({
      state: 'complete',
    });
  });

  it('renders RFC 4180 CSV: one record per subscription, connector offering, machine and action', () => {
    const csv = renderReport(report, 'csv');
    expect(parseCsv(csv)[0]).toEqual([...CSV_COLUMNS]);
    const rows = records(csv);
    const byRecord = (kind: string) => rows.filter((row) => row.record === kind);
    expect(byRecord('subscription')).toHaveLength(1);
    expect(byRecord('connector')).toMatchObject([
      { state: 'complete', assessment: 'vaAutoProvisioning TVM' },
    ]);
    expect(byRecord('machine')).toHaveLength(4);
    expect(byRecord('action')).toHaveLength(plan.actions.length);
    const stopped = byRecord('machine').find((row) => row.resource_id === machines.stopped)!;
    expect(stopped).toMatchObject({
      state: 'incomplete',
      power: 'deallocated',
      problem_codes: 'LegacyQualysExtension',
    });
    for (const action of byRecord('action')) {
      expect(action.intent).toBe(plan.actions.find((candidate) => candidate.id === action.action_id)!.why);
      expect(action.request_ids).not.toBe('');
    }
  });

  it('renders a self-contained HTML page, summary first, every value escaped', () => {
    const html = renderReport(report, 'html');
    expectSelfContainedAndInert(html);
    expect(html).toContain('&lt;script&gt;alert(1)');
    expect(html.indexOf('<h2>Summary</h2>')).toBeLessThan(html.indexOf('<table'));
    expect(html).toContain('<dt>Machines cleaned</dt><dd>3</dd>');
    expect(html).toContain('<dt>Subscriptions</dt><dd>0 of 1 complete, 1 incomplete</dd>');
  });

  it('renders a terminal table with the summary and what is left', () => {
    const table = renderReport(report, 'table');
    expect(table).toMatch(/Machines cleaned\s+3/);
    expect(table).toMatch(/Subscriptions\s+0 of 1 complete, 1 incomplete/);
    expect(table).toContain(machines.stopped);
    expect(table).toContain('--start-stopped');
  });
});

describe('a journal with a failure, a skip and an interruption', () => {
  let journalPath: string;

  beforeAll(() => {
    journalPath = join(dir, 'failed.journal.sqlite');
    const journal = openJournal(journalPath, {
      planId: 'plan-failures',
      planFile: join(dir, 'no-such-plan.json'),
      endpoint: 'https://127.0.0.1:8443',
      runOptions: {},
    });
    const base =
      '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines';
    const failed = {
      id: 'deletequalysextension:x',
      kind: 'deleteQualysExtension' as const,
      subscriptionId: '00000000-0000-4000-8000-000000000001',
      target: `${base}/${NASTY_NAME}/extensions/LinuxAgent`,
    };
    const skipped = { ...failed, id: 'deletequalysextension:y', target: `${base}/vm2/extensions/LinuxAgent` };
    const interrupted = {
      ...failed,
      id: 'deletequalysextension:z',
      target: `${base}/vm3/extensions/LinuxAgent`,
    };
    journal.declare([failed, skipped, interrupted]);
    journal.intent(failed, { method: 'DELETE', path: failed.target });
    journal.accepted(failed, {
      status: 202,
      requestId: 'req-accepted',
      operation: {
        method: 'DELETE',
        url: `https://127.0.0.1:8443${failed.target}`,
        status: 202,
        headers: {},
      },
    });
    journal.result(failed, {
      outcome: 'failed',
      status: 409,
      requestId: 'req-failed',
      errorCode: 'OperationNotAllowed',
      errorMessage: `Cannot modify extensions in the VM "${NASTY_NAME}</td>", when it is not running.\nStart it first.`,
    });
    journal.result(skipped, { outcome: 'skipped', detail: 'an earlier step of the machine failed' });
    journal.intent(interrupted, { method: 'DELETE', path: interrupted.target });
    journal.close();
  });

  it('shows each outcome, the ARM error with its request ids, and counts the failure', () => {
    const journal = readJournalForReport(journalPath);
    expect(journal.planPath).toBe(join(dir, 'no-such-plan.json'));
    const [failed, skipped, interrupted] = journal.actions;
    expect(failed).toMatchObject({
      result: 'failed',
      request: `DELETE ${failed!.target}`,
      requestIds: ['req-accepted', 'req-failed'],
      error: { code: 'OperationNotAllowed', status: 409, requestId: 'req-failed' },
    });
    expect(skipped).toMatchObject({
      result: 'skipped',
      detail: 'an earlier step of the machine failed',
      requestIds: [],
    });
    expect(interrupted).toMatchObject({ result: 'started' });
    expect(interrupted!.finishedAt).toBeUndefined();
    const report = buildReport({ journal });
    expect(report.summary).toMatchObject({
      failures: 1,
      machinesCleaned: 0,
      actions: { total: 3, succeeded: 0, failed: 1, skipped: 1, started: 1, pending: 0 },
    });

    const rows = records(renderReport(report, 'csv'));
    expect(rows.find((row) => row.action_id === failed!.id)).toMatchObject({
      result: 'failed',
      error_code: 'OperationNotAllowed',
      error_message: failed!.error!.message,
      request_ids: 'req-accepted req-failed',
    });

    const html = renderReport(report, 'html');
    expectSelfContainedAndInert(html);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/td&gt;&quot;');
    expect(html).toContain('Failed or interrupted (2)');
  });
});

describe('vaplane transition report, the command', () => {
  it('writes each format from a saved verification, and refuses a call with nothing to report', async () => {
    const sub = await defenderSubscription(t);
    await vm(t, sub, NASTY_NAME, { extensions: [EXTENSIONS.qualysLinux] });
    const verificationPath = join(dir, 'verification.json');
    const output: string[] = [];
    const io: CommandStreams = {
      stdout: { write: (text) => output.push(text) },
      stderr: { write: () => {} },
    };
    const verified = await verifyTransition(client, scopesOf([sub]));
    writeFileSync(verificationPath, JSON.stringify(verified));
    expect(await runReport({ verification: verificationPath, format: 'json' }, io)).toBe(0);
    expect((JSON.parse(output.join('')) as Report).verification).toEqual(verified);

    const formats = ['table', 'csv', 'html', 'json'] as const;
    const runs = await Promise.all(
      formats.map((format) =>
        runVaplane([
          'transition',
          'report',
          '--verification',
          verificationPath,
          '--format',
          format,
          '--out',
          join(dir, `report.${format}`),
        ]),
      ),
    );
    for (const [index, format] of formats.entries()) {
      expect(runs[index]!.code, runs[index]!.stderr).toBe(0);
      const written = readFileSync(join(dir, `report.${format}`), 'utf8');
      expect(written).toContain(sub);
      if (format === 'html') expectSelfContainedAndInert(written);
    }
    const refused = await Promise.all([
      runVaplane(['transition', 'report']),
      runVaplane(['transition', 'report', '--verification', verificationPath, '--format', 'pdf']),
      runVaplane(['transition', 'report', '--journal', join(dir, 'missing.journal.sqlite')]),
    ]);
    expect(refused.map((run) => run.code)).toEqual([2, 2, 2]);
    expect(refused[2]!.stderr).toContain('There is no journal at');
  });

  it('verifies a scope on the spot with --verify-scope', async () => {
    const sub = await defenderSubscription(t);
    const run = await runVaplane(
      [
        'transition',
        'report',
        '--verify-scope',
        sub,
        '--format',
        'json',
        '--endpoint',
        t.url,
        '--ca',
        t.caPath,
      ],
      { VAPLANE_TOKEN: await t.token() },
    );
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.verification!.subscriptions.map((subscription) => subscription.subscriptionId)).toEqual([
      sub,
    ]);
    expect(report.summary.complete).toBe(false);
  });
});
