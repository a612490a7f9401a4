/**
 * `vaplane transition plan|apply|status`: the commands a platform team runs, identically against a
 * vaplane server and against real Azure (only the target options differ). Each command's work is a
 * function taking its options and the streams and returning the exit code, so tests can run it in
 * process; commander only parses.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  type ApplyEvent,
  type ApplyReport,
  applyPlan,
  bar,
  buildPlan,
  type CommandStreams,
  createArmClient,
  createProgressLine,
  createStepIndex,
  defaultJournalPath,
  describeScope,
  discoverEstate,
  discoveryConcurrency,
  type FixPrerequisites,
  formatDuration,
  JournalError,
  openJournal,
  PlanFileError,
  type PollingOptions,
  parsePlan,
  parseScope,
  peekJournal,
  processStreams,
  rateAndEta,
  readJournal,
  renderApplyReport,
  renderPlan,
  renderStatus,
  type Scope,
  type TransitionPlan,
} from '../transition/index.js';
import {
  addTargetOptions,
  clientOptionsOf,
  type TargetOptionValues,
  targetOf,
} from '../transition/targetOptions.js';

export const EXIT_CODES = {
  ok: 0,
  failures: 1,
  usage: 2,
  stalePlan: 3,
  thresholdStop: 4,
  interrupted: 130,
} as const;

const EXIT_HELP = `
Exit codes:
  0    success: everything in scope was done (skipped machines are reported, not failures)
  1    failures: some action failed (or a subscription could not be read); see the report
  2    usage: bad arguments, an unreadable plan, a journal of another plan or in use
  3    stale plan: the estate changed since the plan; nothing was applied
  4    stopped: failed actions passed --failure-threshold
  130  interrupted (Ctrl-C): apply again to resume from the journal`;

/** A failure the CLI explains: a stable code, a message, a hint saying what to do next (pnpm style). */
export class TransitionCliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export type Streams = CommandStreams;

function printError(streams: Streams, error: TransitionCliError, details: string[] = []): void {
  const lines = [
    ` ERR_VAPLANE_${error.code.replace(/[A-Z]/g, (c, i) => (i ? `_${c}` : c)).toUpperCase()}  ${error.message}`,
  ];
  for (const detail of details) lines.push(`  - ${detail}`);
  if (error.hint) lines.push('', `hint: ${error.hint}`);
  streams.stderr.write(`${lines.join('\n')}\n`);
}

// ─── Target options ──────────────────────────────────────────────────────────────────────────────

export interface TargetOptions extends TargetOptionValues {
  pollInterval?: number;
}

function parseWhole(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0)
    throw new InvalidArgumentError(`'${value}' is not a whole number`);
  return number;
}

function parsePositive(value: string): number {
  const number = parseWhole(value);
  if (number < 1) throw new InvalidArgumentError(`'${value}' is not at least 1`);
  return number;
}

function parsePercent(value: string): number {
  const number = Number(value.replace(/%$/, ''));
  if (!(number >= 0 && number <= 100))
    throw new InvalidArgumentError(`'${value}' is not a percentage from 0 to 100`);
  return number;
}

/** The target options every transition command shares, plus apply's and plan's polling knob. */
function withTargetOptions(command: Command): Command {
  return addTargetOptions(command).option(
    '--poll-interval <ms>',
    "poll long-running operations at this fixed interval instead of ARM's Retry-After (local servers)",
    parseWhole,
  );
}

function clientFor(options: TargetOptions) {
  const polling: PollingOptions =
    options.pollInterval !== undefined ? { fixedDelayMs: options.pollInterval } : {};
  try {
    return createArmClient(targetOf(options), { ...clientOptionsOf(options), polling });
  } catch (error) {
    throw new TransitionCliError('UsageError', (error as Error).message, EXIT_CODES.usage);
  }
}

// ─── plan ────────────────────────────────────────────────────────────────────────────────────────

export interface PlanCommandOptions extends TargetOptions {
  scope: string[];
  out?: string;
  fixPrerequisites?: FixPrerequisites | true;
  json?: boolean;
  dryRun?: boolean;
}

export async function runPlan(
  options: PlanCommandOptions,
  streams: Streams = processStreams(),
): Promise<number> {
  try {
    const scopes: Scope[] = [];
    for (const value of options.scope ?? []) {
      try {
        scopes.push(parseScope(value));
      } catch (error) {
        throw new TransitionCliError('UsageError', (error as Error).message, EXIT_CODES.usage);
      }
    }
    if (scopes.length === 0) {
      throw new TransitionCliError(
        'UsageError',
        'Give at least one --scope (all, mg:NAME or a subscription id).',
        EXIT_CODES.usage,
      );
    }
    const client = clientFor(options);
    const progress = createProgressLine(streams.stderr);
    const plain = !options.json && !streams.stderr.isTTY;
    const started = performance.now();
    if (plain)
      streams.stdout.write(`discovering ${scopes.map(describeScope).join(', ')} at ${client.endpoint}\n`);
    let lastPlain = 0;
    const discovery = await discoverEstate(client, {
      scopes,
      ...discoveryConcurrency(options.maxConcurrency),
      onProgress(p) {
        const { perSecond, etaMs } = rateAndEta(p.subscriptionsDone, p.subscriptionsTotal, started);
        const line = `discovering ${bar(p.subscriptionsDone, p.subscriptionsTotal, 20)} ${p.subscriptionsDone}/${p.subscriptionsTotal} subscriptions · ${p.machinesDone}/${p.machinesFound} machines · ${perSecond.toFixed(1)} subscriptions/s · ETA ${formatDuration(etaMs)}`;
        progress.update(line);
        if (plain && performance.now() - lastPlain > 5_000) {
          lastPlain = performance.now();
          streams.stdout.write(`${line.replace(/ [█░]+ /, ' ')}\n`);
        }
      },
    });
    progress.done();
    const fix = options.fixPrerequisites === true ? 'auto' : (options.fixPrerequisites ?? null);
    const plan = buildPlan(discovery, { fixPrerequisites: fix, now: new Date() });
    const file = options.dryRun ? undefined : options.out;
    // Serialised once for the file and --json alike: at 50,000 machines the plan is tens of megabytes.
    const text = file || options.json ? `${JSON.stringify(plan, null, 2)}\n` : '';
    if (file) writePlan(file, text);
    if (options.json) streams.stdout.write(text);
    else streams.stdout.write(renderPlan(plan, { file }));
    const failedReads = discovery.unreadable.filter((item) => item.reason === 'readFailed');
    if (failedReads.length > 0) {
      printError(
        streams,
        new TransitionCliError(
          'DiscoveryIncomplete',
          `${failedReads.length} subscription${failedReads.length === 1 ? '' : 's'} could not be read; the plan leaves them out.`,
          EXIT_CODES.failures,
          'Fix access or retry, then run `vaplane transition plan` again.',
        ),
        failedReads.map((item) => `${item.subscriptionId}: ${item.message}`),
      );
      return EXIT_CODES.failures;
    }
    return EXIT_CODES.ok;
  } catch (error) {
    return failed(streams, error);
  }
}

/** Written to a temporary file and renamed: a plan file is whole or absent. */
/** Writes the plan's text to `file` whole or not at all (a temporary file renamed over it). */
function writePlan(file: string, text: string): void {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

function failed(streams: Streams, error: unknown): number {
  if (error instanceof TransitionCliError) {
    printError(streams, error);
    return error.exitCode;
  }
  if (error instanceof JournalError) {
    printError(streams, new TransitionCliError(error.code, error.message, EXIT_CODES.usage, error.hint));
    return EXIT_CODES.usage;
  }
  if (error instanceof PlanFileError) {
    printError(
      streams,
      new TransitionCliError(
        'InvalidPlan',
        error.message,
        EXIT_CODES.usage,
        'Write a plan with `vaplane transition plan --out FILE`.',
      ),
    );
    return EXIT_CODES.usage;
  }
  const message =
    error instanceof Error ? ((error as { summary?: string }).summary ?? error.message) : String(error);
  printError(streams, new TransitionCliError('Failed', message, EXIT_CODES.failures));
  return EXIT_CODES.failures;
}

// ─── apply ───────────────────────────────────────────────────────────────────────────────────────

export interface ApplyCommandOptions extends TargetOptions {
  dryRun?: boolean;
  canary?: number;
  failureThreshold?: number;
  startStopped?: boolean;
  journal?: string;
  json?: boolean;
}

function readPlanFile(file: string): TransitionPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TransitionCliError(
      'PlanNotFound',
      `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      EXIT_CODES.usage,
      'Write a plan with `vaplane transition plan --scope … --out FILE`.',
    );
  }
  return parsePlan(text, file);
}

const EXIT_OF: Record<ApplyReport['outcome'], number> = {
  completed: EXIT_CODES.ok,
  dryRun: EXIT_CODES.ok,
  failed: EXIT_CODES.failures,
  stale: EXIT_CODES.stalePlan,
  thresholdStop: EXIT_CODES.thresholdStop,
  interrupted: EXIT_CODES.interrupted,
};

function applyProgress(streams: Streams, json: boolean) {
  const progress = createProgressLine(streams.stderr);
  const plain = !json && !streams.stderr.isTTY;
  const started = performance.now();
  let total = 0;
  let done = 0;
  let failures = 0;
  let wave = '';
  const isAction = (kind: string) => kind !== 'startMachine' && kind !== 'restorePowerState';
  return {
    onEvent(event: ApplyEvent) {
      switch (event.type) {
        case 'preflight':
          if (event.total === 0) return;
          progress.update(
            `checking the plan against the estate ${bar(event.done, event.total, 20)} ${event.done}/${event.total}`,
            event.done === event.total,
          );
          if (plain && event.done === 0)
            streams.stdout.write(`checking ${event.total} actions against the estate\n`);
          return;
        case 'wave':
          total += event.actions;
          wave = event.name === 'all' ? '' : ` · ${event.name} wave`;
          if (plain)
            streams.stdout.write(
              `${event.name} wave: ${event.subscriptions} subscriptions, ${event.actions} actions\n`,
            );
          return;
        case 'stopping':
          progress.log(`stopping: ${event.message}`);
          return;
        case 'step': {
          if (isAction(event.kind)) {
            done++;
            if (event.outcome === 'failed') failures++;
          }
          const line = `${event.outcome.padEnd(10)} ${event.kind.padEnd(21)} ${event.target}${event.message ? `  (${event.message})` : ''}`;
          if (plain) streams.stdout.write(`${line}\n`);
          else if (!json && event.outcome === 'failed') progress.log(line);
          const { perSecond, etaMs } = rateAndEta(done, total, started);
          progress.update(
            `applying ${bar(done, total, 20)} ${done}/${total} actions · ${failures} failed · ${perSecond.toFixed(1)}/s · ETA ${formatDuration(etaMs)}${wave}`,
          );
          return;
        }
      }
    },
    done: () => progress.done(),
  };
}

export async function runApply(
  planFile: string,
  options: ApplyCommandOptions,
  streams: Streams = processStreams(),
  signal?: AbortSignal,
): Promise<number> {
  let journal: ReturnType<typeof openJournal> | undefined;
  try {
    const plan = readPlanFile(planFile);
    const client = clientFor(options);
    if (client.endpoint !== plan.endpoint) {
      throw new TransitionCliError(
        'EndpointMismatch',
        `${planFile} was planned against ${plan.endpoint}; this apply targets ${client.endpoint}.`,
        EXIT_CODES.usage,
        `Apply it with --endpoint ${plan.endpoint}, or run \`vaplane transition plan\` against ${client.endpoint}.`,
      );
    }
    const journalPath = options.journal ?? defaultJournalPath(planFile);
    let view: Parameters<typeof applyPlan>[0]['journal'];
    if (options.dryRun) {
      const peeked = peekJournal(journalPath);
      if (peeked.planId !== null && peeked.planId !== plan.planId) {
        throw new JournalError(
          'JournalOfAnotherPlan',
          `${journalPath} is the journal of plan ${peeked.planId}, not of plan ${plan.planId}.`,
          'Give this plan its own journal with `--journal FILE`.',
        );
      }
      view = {
        path: journalPath,
        stateOf: peeked.stateOf,
        stepsStartingWith: createStepIndex(peeked.steps).stepsStartingWith,
      };
    } else {
      journal = openJournal(journalPath, {
        planId: plan.planId,
        planFile,
        endpoint: plan.endpoint,
        runOptions: {
          canary: options.canary ?? null,
          failureThreshold: options.failureThreshold ?? null,
          startStopped: options.startStopped === true,
        },
      });
      view = journal;
    }
    const progress = applyProgress(streams, options.json === true);
    let report: ApplyReport;
    try {
      report = await applyPlan({
        client,
        plan,
        journal: view,
        dryRun: options.dryRun,
        startStopped: options.startStopped,
        canary: options.canary,
        failureThreshold: options.failureThreshold,
        subscriptionConcurrency: options.maxConcurrency,
        actionConcurrency: options.maxConcurrency * 8,
        actionsPerSubscription: options.maxConcurrency * 2,
        polling: options.pollInterval !== undefined ? { fixedDelayMs: options.pollInterval } : undefined,
        signal,
        onEvent: progress.onEvent,
      });
    } finally {
      progress.done();
    }
    journal?.endRun(report.outcome);
    if (options.json) streams.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else streams.stdout.write(renderApplyReport(report));
    if (report.outcome === 'stale') {
      printError(
        streams,
        new TransitionCliError(
          'StalePlan',
          `The estate changed since ${planFile} was made (${report.changes.length} change${report.changes.length === 1 ? '' : 's'}); nothing was applied.`,
          EXIT_CODES.stalePlan,
          'run `vaplane transition plan` again: the estate changed since the plan.',
        ),
        report.changes.map((change) => `${change.kind} ${change.target}: ${change.change}`),
      );
    } else if (report.outcome === 'thresholdStop' || report.outcome === 'interrupted') {
      streams.stderr.write(
        `\nhint: run \`vaplane transition apply ${planFile}\` again to resume: completed steps are not repeated.\n`,
      );
    } else if (report.outcome === 'failed') {
      streams.stderr.write(
        `\nhint: fix the causes above, then run \`vaplane transition apply ${planFile}\` again: completed steps are not repeated, failed ones are retried.\n`,
      );
    }
    return EXIT_OF[report.outcome];
  } catch (error) {
    journal?.endRun('error');
    return failed(streams, error);
  } finally {
    journal?.close();
  }
}

// ─── status ──────────────────────────────────────────────────────────────────────────────────────

export async function runStatus(
  planFile: string | undefined,
  options: { journal?: string; json?: boolean },
  streams: Streams = processStreams(),
): Promise<number> {
  try {
    let path = options.journal ?? (planFile ? defaultJournalPath(planFile) : undefined);
    if (!path) {
      const found = readdirSync('.').filter((name) => name.endsWith('.journal.sqlite'));
      if (found.length !== 1) {
        throw new TransitionCliError(
          'UsageError',
          found.length === 0
            ? 'No journal here (*.journal.sqlite).'
            : `Several journals here: ${found.join(', ')}.`,
          EXIT_CODES.usage,
          'Name one with --journal FILE, or give the plan file.',
        );
      }
      path = found[0]!;
    }
    if (!existsSync(path)) {
      throw new JournalError(
        'JournalMissing',
        `There is no journal at ${path}.`,
        'apply writes it beside the plan (plan.journal.sqlite); name another with --journal FILE.',
      );
    }
    const summary = readJournal(path);
    streams.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : renderStatus(summary));
    return EXIT_CODES.ok;
  } catch (error) {
    return failed(streams, error);
  }
}

// ─── The command group ───────────────────────────────────────────────────────────────────────────

export function transitionCommand(): Command {
  const transition = new Command('transition')
    .description('plan and apply the move from built-in Qualys to MDVM, resumably, against vaplane or Azure')
    .showHelpAfterError()
    .exitOverride((error) => {
      const benign = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code);
      process.exit(benign ? EXIT_CODES.ok : EXIT_CODES.usage);
    })
    .addHelpText('after', EXIT_HELP);

  withTargetOptions(
    transition
      .command('plan')
      .description(
        'discover the estate under the scopes and write the plan: every action, why, and what it saw',
      )
      .requiredOption(
        '--scope <scope...>',
        "'all', a management group (mg:NAME or its id) or subscription ids",
      )
      .option('--out <file>', 'write the plan here (without it, only the summary prints)')
      .addOption(
        new Option(
          '--fix-prerequisites [how]',
          'add the actions that turn on a scanner MDVM needs: auto (Plan 1 → Endpoint protection, Plan 2 → agentless scanning), endpoint-protection or agentless',
        ).choices(['auto', 'endpoint-protection', 'agentless']),
      )
      .option('--dry-run', 'discover and summarise; write no plan file')
      .option('--json', 'print the plan document instead of the summary'),
  )
    .addHelpText('after', EXIT_HELP)
    .action(async (options: PlanCommandOptions) => {
      process.exitCode = await runPlan(options);
    });

  withTargetOptions(
    transition
      .command('apply')
      .description('apply a plan: refuses a stale plan, journals every step, resumes after a crash or Ctrl-C')
      .argument('<plan>', 'the plan file `vaplane transition plan --out` wrote')
      .option('--dry-run', 'check the plan against the estate and show what would run; change nothing')
      .option(
        '--canary <n>',
        'apply to the first N subscriptions, then (if they pass) to the rest',
        parsePositive,
      )
      .option(
        '--failure-threshold <pct>',
        'stop when more than this percent of a wave’s actions fail',
        parsePercent,
      )
      .option(
        '--start-stopped',
        'start VMs that are not running, clean them, return them to their power state',
      )
      .option('--journal <file>', 'the journal (default: beside the plan, PLAN.journal.sqlite)')
      .option('--json', 'print the report as JSON'),
  )
    .addHelpText('after', EXIT_HELP)
    .action(async (planFile: string, options: ApplyCommandOptions) => {
      const controller = new AbortController();
      let interrupts = 0;
      const onInterrupt = () => {
        interrupts++;
        if (interrupts === 1) {
          process.stderr.write(
            '\nstopping: steps in flight finish and are journaled (Ctrl-C again to quit now)\n',
          );
          controller.abort();
        } else {
          process.stderr.write('\nquitting now: apply again to resume from the journal\n');
          process.exit(EXIT_CODES.interrupted);
        }
      };
      process.on('SIGINT', onInterrupt);
      try {
        process.exitCode = await runApply(planFile, options, processStreams(), controller.signal);
      } finally {
        process.off('SIGINT', onInterrupt);
      }
    });

  transition
    .command('status')
    .description("show an apply's progress from its journal")
    .argument('[plan]', 'the plan file (its journal is beside it)')
    .option('--journal <file>', 'the journal file')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nExit codes: 0 shown; 2 no journal found.')
    .action(async (planFile: string | undefined, options: { journal?: string; json?: boolean }) => {
      process.exitCode = await runStatus(planFile, options);
    });

  return transition;
}
