/** Sentences of the report's summary, shared by the table and the HTML page. */
import type { Report, ReportAction } from '../report.js';
import type { MachineVerification, Problem, ProblemCode } from '../verify.js';

export interface SummaryLine {
  label: string;
  value: string;
  /** `good` when nothing is left to do there, `bad` when something is. */
  tone: 'good' | 'bad' | 'neutral';
}

export function summaryLines(report: Report): SummaryLine[] {
  const { summary } = report;
  const lines: SummaryLine[] = [];
  if (summary.complete !== undefined) {
    lines.push({
      label: 'Transition',
      value: summary.complete ? 'complete' : 'incomplete',
      tone: summary.complete ? 'good' : 'bad',
    });
  }
  if (summary.subscriptions) {
    const { total, complete, incomplete } = summary.subscriptions;
    lines.push({
      label: 'Subscriptions',
      value: `${complete} of ${total} complete, ${incomplete} incomplete`,
      tone: incomplete > 0 ? 'bad' : 'good',
    });
  }
  if (summary.machines) {
    const { total, complete, incomplete, notApplicable } = summary.machines;
    lines.push({
      label: 'Machines',
      value: `${total} verified: ${complete} complete, ${incomplete} incomplete, ${notApplicable} not applicable`,
      tone: incomplete > 0 ? 'bad' : 'good',
    });
  }
  if (summary.connectors && summary.connectors.total > 0) {
    const { total, complete, incomplete } = summary.connectors;
    lines.push({
      label: 'Connector offerings',
      value: `${complete} of ${total} on TVM${incomplete > 0 ? `, ${incomplete} not` : ''}`,
      tone: incomplete > 0 ? 'bad' : 'good',
    });
  }
  if (summary.machinesCleaned !== undefined) {
    lines.push({ label: 'Machines cleaned', value: String(summary.machinesCleaned), tone: 'neutral' });
  }
  if (summary.actions) {
    const { total, succeeded, failed, skipped, started, pending } = summary.actions;
    const parts = [`${succeeded} succeeded`, `${failed} failed`, `${skipped} skipped`];
    if (started > 0) parts.push(`${started} interrupted`);
    if (pending > 0) parts.push(`${pending} not started`);
    lines.push({
      label: 'Actions',
      value: `${total}: ${parts.join(', ')}`,
      tone: failed > 0 || started > 0 ? 'bad' : 'neutral',
    });
  }
  if (summary.problems && Object.keys(summary.problems).length > 0) {
    lines.push({ label: 'Problems', value: problemCounts(summary.problems), tone: 'bad' });
  }
  lines.push({
    label: 'Failures',
    value: String(summary.failures),
    tone: summary.failures > 0 ? 'bad' : 'good',
  });
  return lines;
}

function problemCounts(problems: Partial<Record<ProblemCode, number>>): string {
  return Object.entries(problems)
    .sort(([, left], [, right]) => (right ?? 0) - (left ?? 0))
    .map(([code, count]) => `${code} ${count}`)
    .join(', ');
}

export function assessmentText(machine: MachineVerification): string {
  if (!machine.assessment) return '';
  return `${machine.assessment.code}${machine.assessment.cause ? ` (${machine.assessment.cause})` : ''}`;
}

export function problemsText(problems: readonly Problem[]): string {
  return problems.map((problem) => `${problem.code}: ${problem.message}`).join('; ');
}

export function durationText(milliseconds: number | undefined): string {
  if (milliseconds === undefined) return '';
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)} s`;
  return `${Math.floor(milliseconds / 60_000)} min ${Math.round((milliseconds % 60_000) / 1000)} s`;
}

export function actionErrorText(action: ReportAction): string {
  if (!action.error) return '';
  const status = action.error.status ? `${action.error.status} ` : '';
  return `${status}${action.error.code}: ${action.error.message}`;
}

/** Machines of a verification with their subscription, those needing work first. */
export function machinesByUrgency(
  report: Report,
): { subscriptionId: string; machine: MachineVerification }[] {
  const rank = { incomplete: 0, notApplicable: 1, complete: 2 } as const;
  return (report.verification?.subscriptions ?? [])
    .flatMap((subscription) =>
      subscription.machines.map((machine) => ({ subscriptionId: subscription.subscriptionId, machine })),
    )
    .sort((left, right) => rank[left.machine.state] - rank[right.machine.state]);
}
