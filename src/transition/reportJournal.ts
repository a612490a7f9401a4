/**
 * The journal as the report shows it: one line per step, with the request it sent, its outcome, when
 * the attempt that settled it started and ended, and every ARM request id its rows recorded. Read
 * straight from the journal's tables (`journal.ts` owns the schema; `readJournal` there sums steps up
 * but keeps no per-step detail), read-only, so it is safe while an apply is running. The plan, when
 * found, supplies each action's reason (`why`); without it the intent is the request itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { JournalError, readJournalFile } from './journal.js';
import { parsePlan, type TransitionPlan } from './plan.js';
import type { ReportAction, ReportJournal } from './report.js';

interface StepRow {
  step: string;
  kind: string;
  subscription_id: string;
  target: string;
}

interface EntryRow {
  step: string;
  at: string;
  phase: 'intent' | 'accepted' | 'result';
  outcome: 'done' | 'failed' | 'skipped' | null;
  method: string | null;
  path: string | null;
  status: number | null;
  request_id: string | null;
  error_code: string | null;
  error_message: string | null;
  detail: string | null;
}

const RESULT_OF = { done: 'succeeded', failed: 'failed', skipped: 'skipped' } as const;

/** Why each planned action was planned, by action id; machine sessions (start, restore) have none. */
function reasonsOf(plan: TransitionPlan | undefined): Map<string, { why: string; request: string }> {
  const reasons = new Map<string, { why: string; request: string }>();
  for (const action of plan?.actions ?? [])
    reasons.set(action.id, { why: action.why, request: action.request });
  for (const item of plan?.skipped ?? []) {
    if (item.deferred)
      reasons.set(item.deferred.id, { why: item.deferred.why, request: item.deferred.request });
  }
  return reasons;
}

/**
 * The plan the journal was written for: `planPath` when given, else the file the journal names
 * (as given to apply: tried from the working directory, then beside the journal). Undefined when
 * neither is there; a file that is there but is not a plan is an error.
 */
function planFor(
  journalPath: string,
  planFile: string | undefined,
  planPath?: string,
): TransitionPlan | undefined {
  const candidates = planPath
    ? [planPath]
    : planFile
      ? [planFile, ...(isAbsolute(planFile) ? [] : [resolve(dirname(journalPath), planFile)])]
      : [];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    if (planPath) throw new JournalError('JournalMissing', `There is no plan at ${planPath}.`);
    return undefined;
  }
  return parsePlan(readFileSync(found, 'utf8'), found);
}

export function readJournalForReport(path: string, options: { planPath?: string } = {}): ReportJournal {
  return readJournalFile(
    path,
    'Give the journal apply wrote beside the plan (plan.journal.sqlite) with --journal FILE.',
    (db, meta) => {
      const runs = db
        .prepare<[], { started_at: string; ended_at: string | null }>(
          'SELECT started_at, ended_at FROM runs ORDER BY run',
        )
        .all();
      const plan = planFor(path, meta.get('planFile'), options.planPath);
      const reasons = reasonsOf(plan);
      const steps = db
        .prepare<[], StepRow>('SELECT step, kind, subscription_id, target FROM steps ORDER BY rowid')
        .all();
      const entries = new Map<string, EntryRow[]>();
      for (const row of db
        .prepare<[], EntryRow>(
          `SELECT step, at, phase, outcome, method, path, status, request_id, error_code, error_message, detail
         FROM entries ORDER BY seq`,
        )
        .iterate()) {
        const list = entries.get(row.step);
        if (list) list.push(row);
        else entries.set(row.step, [row]);
      }
      const actions = steps.map((step) =>
        actionOf(step, entries.get(step.step) ?? [], reasons.get(step.step)),
      );
      const last = runs[runs.length - 1];
      return {
        path,
        ...(meta.get('planFile') ? { planPath: options.planPath ?? meta.get('planFile') } : {}),
        ...(meta.get('endpoint') ? { endpoint: meta.get('endpoint') } : {}),
        ...(runs[0] ? { startedAt: runs[0].started_at } : {}),
        ...(last?.ended_at ? { finishedAt: last.ended_at } : {}),
        actions,
      };
    },
  );
}

function actionOf(
  step: StepRow,
  rows: readonly EntryRow[],
  reason: { why: string; request: string } | undefined,
): ReportAction {
  const lastIntent = rows.findLastIndex((row) => row.phase === 'intent');
  const settling = lastIntent >= 0 ? rows.slice(lastIntent) : rows;
  const last = rows[rows.length - 1];
  const intentRow = lastIntent >= 0 ? rows[lastIntent] : undefined;
  const request =
    intentRow?.method && intentRow.path ? `${intentRow.method} ${intentRow.path}` : reason?.request;
  const result: ReportAction['result'] =
    last === undefined
      ? 'pending'
      : last.phase === 'result'
        ? RESULT_OF[last.outcome ?? 'failed']
        : 'started';
  const startedAt = (intentRow ?? settling[0])?.at;
  const finishedAt = last?.phase === 'result' ? last.at : undefined;
  const requestIds = [...new Set(rows.flatMap((row) => row.request_id ?? []))];
  const action: ReportAction = {
    id: step.step,
    kind: step.kind,
    subscriptionId: step.subscription_id,
    target: step.target,
    ...(request ? { request } : {}),
    intent: reason?.why ?? (request ? `${step.kind}: ${request}` : step.kind),
    result,
    requestIds,
  };
  if (last?.phase === 'result' && last.detail) action.detail = last.detail;
  if (startedAt) action.startedAt = startedAt;
  if (finishedAt) action.finishedAt = finishedAt;
  if (startedAt && finishedAt)
    action.durationMs = Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt));
  if (last?.phase === 'result' && last.outcome === 'failed') {
    action.error = {
      code: last.error_code ?? 'Failed',
      message: last.error_message ?? '',
      ...(last.status !== null ? { status: last.status } : {}),
      ...(last.request_id ? { requestId: last.request_id } : {}),
    };
  }
  return action;
}
