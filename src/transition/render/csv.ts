/**
 * The report as one CSV table (RFC 4180: CRLF line ends; a field with a comma, a double quote, CR or
 * LF is quoted, its quotes doubled). One row per subscription, connector offering, machine and
 * journalled action; `record` says which, and the columns a record does not use stay empty.
 */
import type { Report } from '../report.js';

export const CSV_COLUMNS = [
  'record',
  'subscription_id',
  'subscription_name',
  'resource_id',
  'name',
  'kind',
  'state',
  'power',
  'assessment',
  'problem_codes',
  'problems',
  'action_id',
  'intent',
  'result',
  'started_at',
  'finished_at',
  'duration_ms',
  'request_ids',
  'error_code',
  'error_message',
] as const;

type Column = (typeof CSV_COLUMNS)[number];
type Row = Partial<Record<Column, string | number | undefined>>;

/** One field as RFC 4180 writes it. */
export function csvField(value: string | number | undefined): string {
  const text = value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(row: Row): string {
  return CSV_COLUMNS.map((column) => csvField(row[column])).join(',');
}

export function renderCsv(report: Report): string {
  const rows: Row[] = [];
  for (const subscription of report.verification?.subscriptions ?? []) {
    const common = {
      subscription_id: subscription.subscriptionId,
      subscription_name: subscription.displayName,
    };
    rows.push({
      record: 'subscription',
      ...common,
      resource_id: `/subscriptions/${subscription.subscriptionId}`,
      name: subscription.displayName,
      kind: 'subscription',
      state: subscription.state,
      assessment: subscription.selectedProvider
        ? `selectedProvider ${subscription.selectedProvider}`
        : undefined,
      problem_codes: subscription.problems.map((problem) => problem.code).join(';'),
      problems: subscription.problems.map((problem) => problem.message).join('\n'),
      request_ids: subscription.problems.flatMap((problem) => problem.requestId ?? []).join(' '),
    });
    for (const connector of subscription.connectors) {
      rows.push({
        record: 'connector',
        ...common,
        resource_id: connector.id,
        name: connector.name,
        kind: connector.offeringType,
        state: connector.state,
        assessment: connector.vaAutoProvisioning?.type
          ? `vaAutoProvisioning ${connector.vaAutoProvisioning.type}`
          : undefined,
        problem_codes: connector.problems.map((problem) => problem.code).join(';'),
        problems: connector.problems.map((problem) => problem.message).join('\n'),
      });
    }
    for (const machine of subscription.machines) {
      rows.push({
        record: 'machine',
        ...common,
        resource_id: machine.id,
        name: machine.name,
        kind: machine.kind,
        state: machine.state,
        power: machine.power,
        assessment: machine.assessment
          ? `${machine.assessment.code}${machine.assessment.cause ? ` (${machine.assessment.cause})` : ''}`
          : undefined,
        problem_codes: machine.problems.map((problem) => problem.code).join(';'),
        problems: machine.problems.map((problem) => problem.message).join('\n'),
        request_ids: machine.problems.flatMap((problem) => problem.requestId ?? []).join(' '),
      });
    }
  }
  for (const action of report.journal?.actions ?? []) {
    rows.push({
      record: 'action',
      subscription_id: action.subscriptionId,
      resource_id: action.target,
      kind: action.kind,
      action_id: action.id,
      intent: action.intent,
      result: action.result,
      problems: action.detail,
      started_at: action.startedAt,
      finished_at: action.finishedAt,
      duration_ms: action.durationMs,
      request_ids: action.requestIds.join(' '),
      error_code: action.error?.code,
      error_message: action.error?.message,
    });
  }
  return [CSV_COLUMNS.join(','), ...rows.map(csvLine)].map((line) => `${line}\r\n`).join('');
}
