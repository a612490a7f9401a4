/**
 * Terminal manners for the transition commands: a single-line progress bar with rate and ETA when
 * the stream is a TTY (redrawn in place with `\r`, at most ten times a second), plain lines
 * otherwise, and the human renderings of a plan, an apply report and the journal's status. JSON
 * output is the documents themselves; nothing here writes to a stream it was not given.
 */
import type { ApplyReport } from './apply.js';
import type { JournalSummary, KindCounts } from './journal.js';
import { ACTION_KINDS, SKIP_REASONS, type TransitionPlan } from './plan.js';

export interface Output {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

/** Where a command writes: the process's streams, or something to read back in tests. */
export interface CommandStreams {
  stdout: Output;
  stderr: Output;
}

export const processStreams = (): CommandStreams => ({
  stdout: {
    write: (text) => process.stdout.write(text),
    isTTY: process.stdout.isTTY,
    columns: process.stdout.columns,
  },
  stderr: {
    write: (text) => process.stderr.write(text),
    isTTY: process.stderr.isTTY,
    columns: process.stderr.columns,
  },
});

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}:${String(seconds % 60).padStart(2, '0')}`;
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

/** Rate per second and time left for `done` of `total` since `startedAt` (ms, performance clock). */
export function rateAndEta(done: number, total: number, startedAt: number, now = performance.now()) {
  const elapsed = Math.max(1, now - startedAt);
  const perSecond = (done * 1000) / elapsed;
  const etaMs = done > 0 && total >= done ? ((total - done) * elapsed) / done : Number.NaN;
  return { perSecond, etaMs };
}

export function bar(done: number, total: number, width: number): string {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(share * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

export interface ProgressLine {
  /** Redraws the line (throttled unless `force`). */
  update(text: string, force?: boolean): void;
  /** Prints a full line above the bar. */
  log(line: string): void;
  /** Clears the bar. */
  done(): void;
}

/** A `\r` renderer on a TTY; on anything else, `update` is silent and `log` prints plain lines. */
export function createProgressLine(output: Output, options: { minIntervalMs?: number } = {}): ProgressLine {
  const interval = options.minIntervalMs ?? 100;
  let last = 0;
  let shown = '';
  // A pseudo-terminal may report no size (0): assume a common width then.
  const width = () => Math.max(20, (output.columns || 100) - 1);
  const clear = () => {
    if (shown) output.write(`\r${' '.repeat(Math.min(shown.length, width()))}\r`);
    shown = '';
  };
  if (!output.isTTY) {
    return { update() {}, log: (line) => output.write(`${line}\n`), done() {} };
  }
  return {
    update(text, force = false) {
      const now = performance.now();
      if (!force && now - last < interval) return;
      last = now;
      const line = text.length > width() ? `${text.slice(0, width() - 1)}…` : text;
      clear();
      output.write(line);
      shown = line;
    },
    log(line) {
      const kept = shown;
      clear();
      output.write(`${line}\n`);
      if (kept) {
        output.write(kept);
        shown = kept;
      }
    },
    done: clear,
  };
}

function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [index, cell] of row.entries()) widths[index] = Math.max(widths[index] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      `${indent}${row.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join('  ')}`.trimEnd(),
    )
    .join('\n');
}

const short = (id: string) => id.slice(0, 8);
const LIST_LIMIT = 15;

// ─── plan ────────────────────────────────────────────────────────────────────────────────────────

export function renderPlan(plan: TransitionPlan, options: { file?: string }): string {
  const lines: string[] = [];
  const { totals } = plan;
  const actionCount = plan.actions.length;
  lines.push(
    `Plan ${short(plan.planId)} for ${totals.subscriptions} subscription${totals.subscriptions === 1 ? '' : 's'} and ${totals.machines} machines (scope ${plan.scopes.join(', ')}) at ${plan.endpoint}`,
  );
  lines.push(
    `  read in ${formatDuration(plan.discovery.durationMs)} with ${plan.discovery.requests} requests`,
  );
  lines.push('');
  lines.push('Subscriptions');
  const rows = plan.subscriptions.slice(0, LIST_LIMIT).map((subscription) => {
    const prerequisites = subscription.prerequisites;
    const mark = prerequisites.status === 'met' ? '✓' : prerequisites.status === 'fixedByPlan' ? '+' : '✗';
    const scanner =
      prerequisites.status === 'blocked'
        ? `blocked: ${prerequisites.reason.split(':')[0]}`
        : `${prerequisites.status === 'fixedByPlan' ? 'turns on' : 'via'} ${prerequisites.via === 'endpointProtection' ? 'Endpoint protection' : 'agentless scanning'}`;
    return [
      `${mark} ${subscription.subscriptionId}`,
      subscription.displayName,
      subscription.observed.serversPlan,
      scanner,
      `${subscription.actions} action${subscription.actions === 1 ? '' : 's'}`,
    ];
  });
  const nameWidth = Math.min(32, Math.max(0, ...rows.map((row) => row[1]!.length)));
  const name = (text: string) =>
    text.length > nameWidth ? `${text.slice(0, nameWidth - 1)}…` : text.padEnd(nameWidth);
  lines.push(
    rows.length > 0
      ? rows
          .map(
            (row) => `  ${row[0]}  ${name(row[1]!)}  ${row[2]!.padEnd(4)}  ${row[3]!.padEnd(36)}  ${row[4]}`,
          )
          .join('\n')
      : '  (none in scope)',
  );
  if (plan.subscriptions.length > LIST_LIMIT)
    lines.push(`  … and ${plan.subscriptions.length - LIST_LIMIT} more`);
  lines.push('');
  lines.push(`Actions (${actionCount})`);
  const onVms = plan.actions.filter(
    (action) => action.kind === 'deleteQualysExtension' && action.observed.machine.kind === 'virtualMachine',
  ).length;
  const actionRows = ACTION_KINDS.filter((kind) => totals.actions[kind] > 0).map((kind) => {
    const note =
      kind === 'deleteQualysExtension'
        ? `${onVms} on Azure VMs, ${totals.actions[kind] - onVms} on Arc machines`
        : '';
    return [kind, String(totals.actions[kind]), note];
  });
  lines.push(
    actionRows.length > 0 ? table(actionRows) : '  nothing to do: the transition is complete in scope',
  );
  const skippedCount = plan.skipped.length;
  if (skippedCount > 0) {
    lines.push('');
    lines.push(`Skipped (${skippedCount})`);
    const hints: Partial<Record<string, string>> = {
      machineNotRunning: 'apply --start-stopped starts, cleans and restores them',
      subscriptionBlocked: 'prerequisites not met',
      byolKeepsPartner: 'BYOL partner solutions stay in charge',
      arcNeedsEndpointProtection: 'Arc machines need Endpoint protection (--fix-prerequisites)',
    };
    lines.push(
      table(
        SKIP_REASONS.filter((reason) => totals.skipped[reason] > 0).map((reason) => [
          reason,
          String(totals.skipped[reason]),
          hints[reason] ?? '',
        ]),
      ),
    );
    for (const item of plan.skipped.slice(0, LIST_LIMIT)) lines.push(`  - ${item.target}: ${item.message}`);
    if (skippedCount > LIST_LIMIT)
      lines.push(`  … and ${skippedCount - LIST_LIMIT} more (see the plan file)`);
  }
  lines.push('');
  if (options.file) {
    lines.push(
      actionCount > 0
        ? `Wrote ${options.file}. Review it, then run: vaplane transition apply ${options.file}`
        : `Wrote ${options.file}.`,
    );
  } else {
    lines.push('Dry run: no plan written (give --out FILE to write one).');
  }
  return `${lines.join('\n')}\n`;
}

// ─── apply ───────────────────────────────────────────────────────────────────────────────────────

const OUTCOME_LINES: Record<ApplyReport['outcome'], string> = {
  completed: 'completed',
  failed: 'completed with failures',
  stale: 'refused: the plan is stale',
  thresholdStop: 'stopped: the failure threshold was passed',
  interrupted: 'interrupted',
  dryRun: 'dry run: nothing was changed',
};

export function renderApplyReport(report: ApplyReport): string {
  const lines: string[] = [];
  lines.push(
    `Plan ${short(report.planId)} ${report.dryRun && report.outcome === 'failed' ? 'dry run: some targets could not be read; nothing was changed' : OUTCOME_LINES[report.outcome]} in ${formatDuration(report.durationMs)}${report.journal ? ` — journal ${report.journal}` : ''}`,
  );
  if (report.outcome === 'stale') return `${lines.join('\n')}\n`;
  lines.push('');
  const header = report.dryRun
    ? ['', 'planned', 'done earlier', 'would run']
    : ['', 'planned', 'done', 'reconciled', 'done earlier', 'failed', 'skipped', 'not started'];
  const rows = ACTION_KINDS.filter((kind) => report.counts[kind].planned > 0).map((kind) => {
    const counts = report.counts[kind];
    return report.dryRun
      ? [kind, String(counts.planned), String(counts.alreadyDone), String(counts.notStarted)]
      : [
          kind,
          String(counts.planned),
          String(counts.done),
          String(counts.reconciled),
          String(counts.alreadyDone),
          String(counts.failed),
          String(counts.skipped),
          String(counts.notStarted),
        ];
  });
  if (rows.length > 0) lines.push(table([header, ...rows]));
  else lines.push('  nothing to do');
  if (report.waves.length > 1 || report.waves.some((wave) => wave.name !== 'all' || wave.stopped)) {
    lines.push('');
    for (const wave of report.waves) {
      lines.push(
        `  ${wave.name} wave: ${wave.subscriptions} subscriptions, ${wave.actions} actions, ${wave.failed} failed${wave.stopped ? ' — stopped' : ''}`,
      );
    }
  }
  if (report.machines.length > 0) {
    const restored = report.machines.filter((machine) => machine.restoredTo).length;
    lines.push('');
    lines.push(
      `Machines started for cleaning: ${report.machines.length} (${restored} returned to their power state)`,
    );
  }
  if (report.failures.length > 0) {
    lines.push('');
    lines.push(`Failures (${report.failures.length})`);
    for (const failure of report.failures.slice(0, LIST_LIMIT)) {
      lines.push(
        `  - ${failure.kind} ${failure.target}: ${failure.status ?? ''} ${failure.code}: ${failure.message}${failure.requestId ? ` (x-ms-request-id ${failure.requestId})` : ''}`,
      );
    }
    if (report.failures.length > LIST_LIMIT)
      lines.push(`  … and ${report.failures.length - LIST_LIMIT} more (--json lists all)`);
  }
  if (report.skipped.length > 0) {
    lines.push('');
    lines.push(`Skipped (${report.skipped.length})`);
    for (const item of report.skipped.slice(0, LIST_LIMIT)) lines.push(`  - ${item.target}: ${item.message}`);
    if (report.skipped.length > LIST_LIMIT)
      lines.push(`  … and ${report.skipped.length - LIST_LIMIT} more (--json lists all)`);
  }
  if (report.stoppedBecause) {
    lines.push('');
    lines.push(report.stoppedBecause);
  }
  return `${lines.join('\n')}\n`;
}

// ─── status ──────────────────────────────────────────────────────────────────────────────────────

export function renderStatus(summary: JournalSummary): string {
  const lines: string[] = [];
  const lastRun = summary.runs.at(-1);
  lines.push(
    `Journal ${summary.path} — plan ${short(summary.planId)}${summary.planFile ? ` (${summary.planFile})` : ''}`,
  );
  lines.push(
    `  ${summary.runs.length} run${summary.runs.length === 1 ? '' : 's'}; ${
      summary.activeRun !== null
        ? `run ${summary.activeRun} is applying now`
        : lastRun
          ? `last run ${lastRun.run} started ${lastRun.startedAt}, ${lastRun.outcome ? `ended ${lastRun.outcome}` : 'did not finish (killed or crashed): apply again to resume'}`
          : 'no run yet'
    }`,
  );
  lines.push('');
  const order = [...ACTION_KINDS, 'startMachine', 'restorePowerState'] as const;
  const rows = order
    .filter((kind) => summary.kinds[kind])
    .map((kind) => {
      const counts = summary.kinds[kind] as KindCounts;
      return [
        kind,
        String(counts.declared),
        String(counts.done),
        String(counts.failed),
        String(counts.skipped),
        String(counts.unfinished),
        String(counts.pending),
      ];
    });
  const t = summary.totals;
  lines.push(
    table([
      ['', 'steps', 'done', 'failed', 'skipped', 'unfinished', 'pending'],
      ...rows,
      [
        'total',
        String(t.declared),
        String(t.done),
        String(t.failed),
        String(t.skipped),
        String(t.unfinished),
        String(t.pending),
      ],
    ]),
  );
  if (summary.failures.length > 0) {
    lines.push('');
    lines.push(`Failed (${summary.failures.length})`);
    for (const failure of summary.failures.slice(0, LIST_LIMIT)) {
      lines.push(
        `  - ${failure.kind} ${failure.target}: ${failure.errorCode ?? ''}: ${failure.errorMessage ?? ''}${failure.requestId ? ` (x-ms-request-id ${failure.requestId})` : ''}`,
      );
    }
  }
  if (summary.lastEntryAt) lines.push(`\nlast entry ${summary.lastEntryAt}`);
  return `${lines.join('\n')}\n`;
}
