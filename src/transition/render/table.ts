/**
 * The report for a terminal: the summary, then tables of subscriptions, connector offerings, the
 * machines that are not complete (complete ones are counted, not listed) and the journalled actions.
 * Plain text with aligned columns; control characters in ARM values are shown as `?` so a name cannot
 * move the cursor or recolour the terminal.
 */
import type { Report } from '../report.js';
import {
  actionErrorText,
  assessmentText,
  durationText,
  machinesByUrgency,
  problemsText,
  summaryLines,
} from './summary.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function cell(value: string | number | undefined): string {
  return value === undefined ? '' : String(value).replace(CONTROL, '?');
}

/** Columns padded to their widest cell; the last column is not padded. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number | undefined)[])[],
): string {
  const cells = [headers.map(cell), ...rows.map((row) => row.map(cell))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  return cells
    .map((row) =>
      row
        .map((value, column) => (column === row.length - 1 ? value : value.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function renderTable(report: Report): string {
  const sections: string[] = [];
  const lines = summaryLines(report);
  const labelWidth = Math.max(...lines.map((line) => line.label.length));
  const header = [`Transition report, ${report.generatedAt}`];
  const endpoint = report.verification?.endpoint ?? report.journal?.endpoint;
  if (endpoint) header.push(`endpoint ${endpoint}`);
  if (report.verification) header.push(`scope ${report.verification.scope.join(', ')}`);
  if (report.journal) header.push(`journal ${report.journal.path}`);
  sections.push(
    [
      header.join(' · '),
      ...lines.map((line) => `  ${line.label.padEnd(labelWidth)}  ${cell(line.value)}`),
    ].join('\n'),
  );

  const verification = report.verification;
  if (verification && verification.subscriptions.length > 0) {
    sections.push(
      `Subscriptions\n${formatTable(
        ['SUBSCRIPTION', 'NAME', 'STATE', 'VA PROVIDER', 'MACHINES OK/TODO/N.A.', 'PROBLEMS'],
        verification.subscriptions.map((subscription) => [
          subscription.subscriptionId,
          subscription.displayName,
          subscription.state,
          subscription.selectedProvider ?? '(none)',
          `${subscription.machineCounts.complete}/${subscription.machineCounts.incomplete}/${subscription.machineCounts.notApplicable}`,
          problemsText(subscription.problems),
        ]),
      )}`,
    );
    const connectors = verification.subscriptions.flatMap((subscription) => subscription.connectors);
    if (connectors.length > 0) {
      sections.push(
        `Connector offerings\n${formatTable(
          ['CONNECTOR', 'OFFERING', 'VA TYPE', 'STATE', 'PROBLEMS'],
          connectors.map((connector) => [
            connector.id,
            connector.offeringType,
            connector.vaAutoProvisioning?.type ?? '',
            connector.state,
            problemsText(connector.problems),
          ]),
        )}`,
      );
    }
    const attention = machinesByUrgency(report).filter(({ machine }) => machine.state !== 'complete');
    if (attention.length > 0) {
      sections.push(
        `Machines not complete\n${formatTable(
          ['MACHINE', 'KIND', 'POWER', 'STATE', 'ASSESSMENT', 'PROBLEMS'],
          attention.map(({ machine }) => [
            machine.id,
            machine.kind === 'virtualMachine' ? 'VM' : 'Arc',
            machine.power,
            machine.state,
            assessmentText(machine),
            machine.state === 'notApplicable'
              ? machine.assessment?.description
              : problemsText(machine.problems),
          ]),
        )}`,
      );
    }
  }

  if (report.journal && report.journal.actions.length > 0) {
    sections.push(
      `Actions\n${formatTable(
        ['ACTION', 'KIND', 'TARGET', 'RESULT', 'STARTED', 'DURATION', 'REQUEST IDS', 'INTENT / ERROR'],
        report.journal.actions.map((action) => [
          action.id,
          action.kind,
          action.target,
          action.result,
          action.startedAt,
          durationText(action.durationMs),
          action.requestIds.join(' '),
          action.error
            ? actionErrorText(action)
            : action.detail
              ? `${action.intent} (${action.detail})`
              : action.intent,
        ]),
      )}`,
    );
  }
  return `${sections.join('\n\n')}\n`;
}
