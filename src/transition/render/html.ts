/**
 * The report as one self-contained HTML page: inline CSS, no script, no external asset (a
 * Content-Security-Policy meta forbids loading any), every value from ARM or the journal escaped.
 * The summary comes first; long lists sit in `<details>` so the page stays readable at 50,000 machines.
 */
import type { Report, ReportAction } from '../report.js';
import type { MachineVerification, Problem } from '../verify.js';
import { actionErrorText, assessmentText, durationText, machinesByUrgency, summaryLines } from './summary.js';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string | number | undefined): string {
  return value === undefined ? '' : String(value).replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}

const STYLE = `
:root { color-scheme: light dark; --ok: #107c10; --bad: #c50f1f; --na: #8a8886; --line: #d1d1d1; --head: #f3f2f1; }
@media (prefers-color-scheme: dark) { :root { --line: #484644; --head: #292827; } }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
.meta { color: var(--na); margin: 0 0 1.5rem; overflow-wrap: anywhere; }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: .75rem; margin: 0; }
.summary div { border: 1px solid var(--line); border-left-width: .4rem; border-radius: .25rem; padding: .5rem .75rem; }
.summary dt { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--na); }
.summary dd { margin: .15rem 0 0; font-weight: 600; }
.tone-good { border-left-color: var(--ok) !important; }
.tone-bad { border-left-color: var(--bad) !important; }
.tone-neutral { border-left-color: var(--line) !important; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: var(--head); white-space: nowrap; }
code { font: 12px ui-monospace, SFMono-Regular, Consolas, monospace; overflow-wrap: anywhere; }
.state { font-weight: 600; white-space: nowrap; }
.state-complete, .state-succeeded { color: var(--ok); }
.state-incomplete, .state-failed, .state-started { color: var(--bad); }
.state-notApplicable, .state-skipped, .state-pending { color: var(--na); }
ul.problems { margin: 0; padding-left: 1.1rem; }
summary { cursor: pointer; font-weight: 600; margin: .5rem 0; }
`;

function state(value: string): string {
  const label = value === 'notApplicable' ? 'not applicable' : value === 'started' ? 'interrupted' : value;
  return `<span class="state state-${escapeHtml(value)}">${escapeHtml(label)}</span>`;
}

function code(value: string | undefined): string {
  return value ? `<code>${escapeHtml(value)}</code>` : '';
}

function problemList(problems: readonly Problem[]): string {
  if (problems.length === 0) return '';
  const items = problems.map(
    (problem) =>
      `<li><strong>${escapeHtml(problem.code)}</strong>: ${escapeHtml(problem.message)}${problem.requestId ? ` (request ${code(problem.requestId)})` : ''}</li>`,
  );
  return `<ul class="problems">${items.join('')}</ul>`;
}

function table(headers: readonly string[], rows: readonly string[][]): string {
  const head = headers.map((header) => `<th scope="col">${escapeHtml(header)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((value) => `<td>${value}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function machineRow(machine: MachineVerification): string[] {
  return [
    `${escapeHtml(machine.name)}<br>${code(machine.id)}`,
    machine.kind === 'virtualMachine' ? 'VM' : 'Arc machine',
    escapeHtml(machine.power),
    state(machine.state),
    escapeHtml(assessmentText(machine)),
    machine.state === 'notApplicable' && machine.problems.length === 0
      ? escapeHtml(machine.assessment?.description)
      : problemList(machine.problems),
  ];
}

function actionRow(action: ReportAction): string[] {
  return [
    code(action.id),
    escapeHtml(action.kind),
    code(action.target),
    state(action.result),
    escapeHtml(action.intent) + (action.detail ? `<br><em>${escapeHtml(action.detail)}</em>` : ''),
    escapeHtml(action.startedAt),
    escapeHtml(durationText(action.durationMs)),
    action.requestIds.map((id) => code(id)).join('<br>'),
    escapeHtml(actionErrorText(action)),
  ];
}

const MACHINE_HEADERS = ['Machine', 'Kind', 'Power', 'State', 'Assessment', 'Problems / reason'];
const ACTION_HEADERS = [
  'Action',
  'Kind',
  'Target',
  'Result',
  'Intent',
  'Started',
  'Duration',
  'Request ids',
  'Error',
];

export function renderHtml(report: Report): string {
  const parts: string[] = [];
  const meta = [`Generated ${escapeHtml(report.generatedAt)}`];
  const endpoint = report.verification?.endpoint ?? report.journal?.endpoint;
  if (endpoint) meta.push(`endpoint ${code(endpoint)}`);
  if (report.verification)
    meta.push(`scope ${report.verification.scope.map((scope) => code(scope)).join(', ')}`);
  if (report.journal) meta.push(`journal ${code(report.journal.path)}`);
  parts.push('<h1>Transition to Microsoft Defender Vulnerability Management</h1>');
  parts.push(`<p class="meta">${meta.join(' · ')}</p>`);
  parts.push('<h2>Summary</h2>');
  parts.push(
    `<dl class="summary">${summaryLines(report)
      .map(
        (line) =>
          `<div class="tone-${line.tone}"><dt>${escapeHtml(line.label)}</dt><dd>${escapeHtml(line.value)}</dd></div>`,
      )
      .join('')}</dl>`,
  );

  const verification = report.verification;
  if (verification) {
    parts.push('<h2>Subscriptions</h2>');
    parts.push(
      table(
        [
          'Subscription',
          'State',
          'VA provider',
          'Machines complete',
          'Incomplete',
          'Not applicable',
          'Problems',
        ],
        verification.subscriptions.map((subscription) => [
          `${escapeHtml(subscription.displayName ?? '')}<br>${code(subscription.subscriptionId)}`,
          state(subscription.state),
          subscription.selectedProvider ? code(subscription.selectedProvider) : '<em>none</em>',
          String(subscription.machineCounts.complete),
          String(subscription.machineCounts.incomplete),
          String(subscription.machineCounts.notApplicable),
          problemList(subscription.problems),
        ]),
      ),
    );
    const connectors = verification.subscriptions.flatMap((subscription) => subscription.connectors);
    if (connectors.length > 0) {
      parts.push('<h2>Connector offerings</h2>');
      parts.push(
        table(
          ['Connector', 'Offering', 'VA auto-provisioning', 'State', 'Problems'],
          connectors.map((connector) => [
            `${escapeHtml(connector.name)}<br>${code(connector.id)}`,
            escapeHtml(connector.offeringType),
            connector.vaAutoProvisioning
              ? `${escapeHtml(connector.vaAutoProvisioning.type ?? 'no type')}${connector.vaAutoProvisioning.enabled ? '' : ' (off)'}`
              : '<em>not configured</em>',
            state(connector.state),
            problemList(connector.problems),
          ]),
        ),
      );
    }
    const machines = machinesByUrgency(report);
    const groups = [
      { state: 'incomplete', title: 'Machines not complete', open: true },
      { state: 'notApplicable', title: 'Machines not applicable', open: false },
      { state: 'complete', title: 'Machines complete', open: false },
    ] as const;
    parts.push('<h2>Machines</h2>');
    for (const group of groups) {
      const rows = machines.filter(({ machine }) => machine.state === group.state);
      if (rows.length === 0) continue;
      parts.push(
        `<details${group.open ? ' open' : ''}><summary>${group.title} (${rows.length})</summary>${table(
          MACHINE_HEADERS,
          rows.map(({ machine }) => machineRow(machine)),
        )}</details>`,
      );
    }
  }

  const journal = report.journal;
  if (journal) {
    parts.push('<h2>Actions</h2>');
    const failed = journal.actions.filter(
      (action) => action.result === 'failed' || action.result === 'started',
    );
    if (failed.length > 0) {
      parts.push(
        `<details open><summary>Failed or interrupted (${failed.length})</summary>${table(ACTION_HEADERS, failed.map(actionRow))}</details>`,
      );
    }
    parts.push(
      `<details${failed.length === 0 ? ' open' : ''}><summary>All actions (${journal.actions.length})</summary>${table(
        ACTION_HEADERS,
        journal.actions.map(actionRow),
      )}</details>`,
    );
  }

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vaplane transition report ${escapeHtml(report.generatedAt)}</title>
<style>${STYLE}</style>
</head>
<body>
${parts.join('\n')}
</body>
</html>
`;
}
