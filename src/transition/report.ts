/**
 * `vaplane transition report`: one document from what apply did (the journal) and where the estate
 * stands (a verification), rendered as a terminal table, JSON, CSV or a self-contained HTML page.
 * The model is built once here; the renderers in `render/` only lay it out.
 */
import { renderCsv } from './render/csv.js';
import { renderHtml } from './render/html.js';
import { renderTable } from './render/table.js';
import type { ProblemCode, Verification } from './verify.js';

/** What the report shows of one journalled action. */
export interface ReportAction {
  /** The action's id in the plan. */
  id: string;
  /** What it does, as the plan names it (`setVaProvider`, `deleteQualysExtension`, …). */
  kind: string;
  subscriptionId?: string;
  /** The resource it writes. */
  target: string;
  /** The request it sends (`DELETE /subscriptions/…`), when the journal has it. */
  request?: string;
  /** Why the plan wants it, in a sentence. */
  intent: string;
  /**
   * `pending`: planned, never started; `started`: the intent is journalled but no result (the run was
   * interrupted: resuming settles it).
   */
  result: 'succeeded' | 'failed' | 'skipped' | 'started' | 'pending';
  /** Why it was skipped, or what the result says beyond its state. */
  detail?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  requestIds: string[];
  error?: { code: string; message: string; status?: number; requestId?: string };
}

export interface ReportJournal {
  /** The journal file. */
  path: string;
  planPath?: string;
  endpoint?: string;
  startedAt?: string;
  finishedAt?: string;
  actions: ReportAction[];
}

export type ReportFormat = 'table' | 'json' | 'csv' | 'html';
export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'json', 'csv', 'html'];

export interface ReportSummary {
  subscriptions?: { total: number; complete: number; incomplete: number };
  machines?: { total: number; complete: number; incomplete: number; notApplicable: number };
  connectors?: { total: number; complete: number; incomplete: number };
  /** Verification problems by code. */
  problems?: Partial<Record<ProblemCode, number>>;
  actions?: Record<ReportAction['result'], number> & { total: number };
  /** Machines on which the journal shows a Qualys extension or a legacy `default` resource removed. */
  machinesCleaned?: number;
  /** Failed actions plus verification problems: what needs a look. */
  failures: number;
  /** Whether the verification found everything complete; absent without a verification. */
  complete?: boolean;
}

export interface Report {
  kind: 'vaplane.transition.report';
  version: 1;
  generatedAt: string;
  summary: ReportSummary;
  journal?: ReportJournal;
  verification?: Verification;
}

export function buildReport(input: {
  journal?: ReportJournal;
  verification?: Verification;
  generatedAt?: Date;
}): Report {
  const { journal, verification } = input;
  const summary: ReportSummary = { failures: 0 };
  if (verification) {
    const { subscriptions, machines, connectors, problems } = verification.summary;
    summary.complete = verification.complete;
    summary.subscriptions = {
      total: subscriptions.total,
      complete: subscriptions.complete,
      incomplete: subscriptions.incomplete,
    };
    summary.machines = { ...machines };
    summary.connectors = {
      total: connectors.total,
      complete: connectors.complete,
      incomplete: connectors.incomplete,
    };
    summary.problems = { ...problems };
    summary.failures += Object.values(problems).reduce((sum, count) => sum + (count ?? 0), 0);
  }
  if (journal) {
    const actions = { total: 0, succeeded: 0, failed: 0, skipped: 0, started: 0, pending: 0 };
    for (const action of journal.actions) {
      actions.total += 1;
      actions[action.result] += 1;
    }
    summary.actions = actions;
    summary.machinesCleaned = machinesCleaned(journal.actions).size;
    summary.failures += actions.failed;
  }
  return {
    kind: 'vaplane.transition.report',
    version: 1,
    generatedAt: (input.generatedAt ?? new Date()).toISOString(),
    summary,
    ...(journal ? { journal } : {}),
    ...(verification ? { verification } : {}),
  };
}

const CLEANUP_TARGET =
  /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/(?:Microsoft\.Compute\/virtualMachines|Microsoft\.HybridCompute\/machines)\/[^/]+)\/(?:extensions\/[^/]+|providers\/Microsoft\.Security\/serverVulnerabilityAssessments\/default)$/i;

/**
 * Machines the journal cleaned: a succeeded removal of an extension (the plan only removes legacy
 * Qualys extensions) or of the legacy `default` resource. Read off the targets, so it does not depend
 * on how the plan names its action kinds.
 */
export function machinesCleaned(actions: readonly ReportAction[]): Set<string> {
  const machines = new Set<string>();
  for (const action of actions) {
    if (action.result !== 'succeeded') continue;
    const machine = CLEANUP_TARGET.exec(action.target)?.[1];
    if (machine && isRemoval(action)) machines.add(machine.toLowerCase());
  }
  return machines;
}

function isRemoval(action: ReportAction): boolean {
  if (action.request) return action.request.trimStart().toUpperCase().startsWith('DELETE');
  return /delete|remove|clean/i.test(action.kind);
}

export function renderReport(report: Report, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return renderCsv(report);
    case 'html':
      return renderHtml(report);
    case 'table':
      return renderTable(report);
  }
}
