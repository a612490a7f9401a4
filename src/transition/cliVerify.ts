/**
 * `vaplane transition verify` and `vaplane transition report`, added to the `transition` command
 * group (created here when the CLI has none yet).
 *
 * Exit codes, as the rest of the group: verify answers 0 when everything in scope is complete and 1
 * when anything is not (or a read failed); report answers 0 once the report is written. Both answer 1
 * when ARM refuses them outright (no access, the endpoint unreachable) and 2 on a usage error: an
 * unknown option, a bad scope, report with nothing to report, a journal, plan or verification file
 * that cannot be read.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type Command, type CommanderError, InvalidArgumentError, Option } from 'commander';
import { type ArmClient, createArmClient, DEFAULT_MAX_CONCURRENCY } from './client.js';
import { type DiscoveryProgress, discoveryConcurrency, parseScope, type Scope } from './discovery.js';
import { ArmClientError, ArmRequestError } from './errors.js';
import { defaultJournalPath, JournalError } from './journal.js';
import { PlanFileError } from './plan.js';
import { renderTable } from './render/table.js';
import {
  buildReport,
  REPORT_FORMATS,
  type ReportFormat,
  type ReportJournal,
  renderReport,
} from './report.js';
import { readJournalForReport } from './reportJournal.js';
import { addTargetOptions, clientOptionsOf, type TargetOptionValues, targetOf } from './targetOptions.js';
import {
  type CommandStreams,
  createProgressLine,
  formatDuration,
  processStreams,
  rateAndEta,
} from './terminal.js';
import { type Verification, verifyTransition } from './verify.js';

export const EXIT = { ok: 0, incomplete: 1, usage: 2 } as const;

export type { CommandStreams } from './terminal.js';

/** A usage error detected after parsing; the CLI turns it into exit code 2 like commander's own. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--scope` values as the plan reads them (several after one flag; commas also separate). */
export function scopesOf(values: readonly string[]): Scope[] {
  const texts = values
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean);
  if (texts.length === 0) throw new UsageError('give a --scope: all, a subscription id, or mg:NAME');
  try {
    return texts.map(parseScope);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function clientFor(options: TargetOptionValues): ArmClient {
  try {
    return createArmClient(targetOf(options), clientOptionsOf(options));
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(error.message);
    throw error;
  }
}

/** A verification with a progress bar on stderr when it is a terminal (nothing otherwise). */
async function verifyWithProgress(
  client: ArmClient,
  scopes: Scope[],
  streams: CommandStreams,
  maxConcurrency = DEFAULT_MAX_CONCURRENCY,
): Promise<Verification> {
  const line = createProgressLine(streams.stderr);
  const started = performance.now();
  const onProgress = (progress: DiscoveryProgress) => {
    const { perSecond, etaMs } = rateAndEta(progress.machinesDone, progress.machinesFound, started);
    const eta =
      Number.isFinite(etaMs) && progress.subscriptionsDone < progress.subscriptionsTotal
        ? `, ${formatDuration(etaMs)} left`
        : '';
    line.update(
      `verifying ${progress.subscriptionsDone}/${progress.subscriptionsTotal} subscriptions, ${progress.machinesDone}/${progress.machinesFound} machines (${Math.round(perSecond)}/s${eta}), ${progress.requests} requests`,
    );
  };
  try {
    return await verifyTransition(client, scopes, { ...discoveryConcurrency(maxConcurrency), onProgress });
  } finally {
    line.done();
  }
}

export interface VerifyCommandOptions {
  scopes: Scope[];
  json?: boolean;
  out?: string;
  /** The client's requests in flight, from which the work bounds follow (`discoveryConcurrency`). */
  maxConcurrency?: number;
}

/** Runs a verification and prints it; returns the exit code. */
export async function runVerify(
  client: ArmClient,
  options: VerifyCommandOptions,
  streams: CommandStreams,
): Promise<number> {
  const verification = await verifyWithProgress(client, options.scopes, streams, options.maxConcurrency);
  const text = options.out || options.json ? `${JSON.stringify(verification, null, 2)}\n` : '';
  if (options.out) writeFileSync(options.out, text);
  if (options.json) {
    streams.stdout.write(text);
  } else {
    streams.stdout.write(renderTable(buildReport({ verification })));
    streams.stdout.write(
      verification.complete
        ? `\nThe transition is complete: ${verification.summary.subscriptions.total} subscriptions, ${verification.summary.machines.total} machines.\n`
        : '\nThe transition is not complete. Run `vaplane transition plan` for the same scope to see the actions left, then `apply` them.\n',
    );
  }
  return verification.complete ? EXIT.ok : EXIT.incomplete;
}

export interface ReportCommandOptions {
  journal?: string;
  plan?: string;
  verification?: string;
  verifyScopes?: Scope[];
  format: ReportFormat;
  out?: string;
}

/** Builds and writes a report; returns the exit code. `client` is needed only with `verifyScopes`. */
export async function runReport(
  options: ReportCommandOptions,
  streams: CommandStreams,
  client?: () => ArmClient,
): Promise<number> {
  const journalPath = options.journal ?? (options.plan ? defaultJournalPath(options.plan) : undefined);
  if (!journalPath && !options.verifyScopes && !options.verification) {
    throw new UsageError(
      'give --journal FILE (or --plan FILE), --verify-scope SCOPE or --verification FILE: there is nothing to report',
    );
  }
  if (options.verifyScopes && options.verification) {
    throw new UsageError('give either --verify-scope or --verification, not both');
  }
  let journal: ReportJournal | undefined;
  let verification: Verification | undefined;
  try {
    if (journalPath) journal = readJournalForReport(journalPath, { planPath: options.plan });
    if (options.verification) verification = readVerification(options.verification);
  } catch (error) {
    if (error instanceof JournalError || error instanceof PlanFileError) {
      throw new UsageError(
        `${error.message}${error instanceof JournalError && error.hint ? ` ${error.hint}` : ''}`,
      );
    }
    throw error;
  }
  if (options.verifyScopes) {
    if (!client) throw new Error('runReport needs an ARM client to verify');
    verification = await verifyWithProgress(client(), options.verifyScopes, streams);
  }
  const rendered = renderReport(buildReport({ journal, verification }), options.format);
  if (options.out) {
    writeFileSync(options.out, rendered);
    streams.stderr.write(`wrote the ${options.format} report to ${options.out}\n`);
  } else {
    streams.stdout.write(rendered);
  }
  return EXIT.ok;
}

function readVerification(file: string): Verification {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  if ((document as Partial<Verification> | null)?.kind !== 'vaplane.transition.verification') {
    throw new UsageError(`${file} is not the output of \`vaplane transition verify --out\``);
  }
  return document as Verification;
}

/**
 * Commander's usage errors (exit code 1 by default) and ours exit 2; help exits 0. The message is
 * already on stderr when commander calls this.
 */
function exitOnUsageError(error: CommanderError): never {
  process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
}

/**
 * Runs an action and sets the exit code: a `UsageError` becomes commander's error output and exit 2;
 * an ARM refusal (no access, no endpoint) is printed with its request id, exit 1.
 */
function withExitCodes<A extends unknown[]>(
  command: Command,
  action: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = await action(...args);
    } catch (error) {
      if (error instanceof UsageError) command.error(`error: ${error.message}`, { exitCode: EXIT.usage });
      if (error instanceof ArmRequestError) {
        process.stderr.write(`vaplane: ${error.summary}\n`);
        process.exitCode = EXIT.incomplete;
      } else if (error instanceof ArmClientError) {
        process.stderr.write(`vaplane: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}\n`);
        process.exitCode = EXIT.incomplete;
      } else {
        throw error;
      }
    }
  };
}

const EXIT_HELP = {
  verify: '\nExit codes: 0 complete; 1 not complete, or a read failed; 2 usage.',
  report:
    '\nExit codes: 0 written; 1 ARM refused the verification; 2 usage, or an unreadable journal, plan or verification file.',
};

/** Adds `verify` and `report` to the `transition` command group, creating the group if need be. */
export function addVerifyAndReportCommands(program: Command): Command {
  const transition =
    program.commands.find((command) => command.name() === 'transition') ??
    program
      .command('transition')
      .description('plan, apply and verify the move from built-in Qualys to MDVM, against Azure or vaplane');

  const verify = transition
    .command('verify')
    .description(
      're-read the estate and say per subscription and machine whether the transition is complete (exit 0 only when all is)',
    )
    .requiredOption('--scope <scope...>', "'all', a management group (mg:NAME or its id) or subscription ids")
    .option('--json', 'print the verification as JSON', false)
    .option('--out <file>', 'also write the verification as JSON (for `report --verification`)')
    .addHelpText('after', EXIT_HELP.verify);
  addTargetOptions(verify)
    .exitOverride(exitOnUsageError)
    .action(
      withExitCodes(
        verify,
        async (options: TargetOptionValues & { scope: string[]; json: boolean; out?: string }) => {
          const scopes = scopesOf(options.scope);
          const client = clientFor(options);
          return runVerify(
            client,
            { scopes, json: options.json, out: options.out, maxConcurrency: options.maxConcurrency },
            processStreams(),
          );
        },
      ),
    );

  const report = transition
    .command('report')
    .description(
      'render the apply journal and a verification as a table, JSON, CSV or a self-contained HTML page',
    )
    .option('--journal <file>', 'the journal apply wrote (plan.journal.sqlite beside the plan)')
    .option(
      '--plan <file>',
      "the plan applied: its journal beside it is read, and each action's reason comes from it (default: the plan the journal names)",
    )
    .option('--verify-scope <scope...>', 'verify these scopes now and include the verification')
    .option('--verification <file>', 'include a verification saved with `verify --out`')
    .addOption(new Option('--format <format>', 'output format').choices(REPORT_FORMATS).default('table'))
    .option('--out <file>', 'write the report here instead of to stdout')
    .addHelpText('after', EXIT_HELP.report);
  addTargetOptions(report)
    .exitOverride(exitOnUsageError)
    .action(
      withExitCodes(
        report,
        async (
          options: TargetOptionValues & {
            journal?: string;
            plan?: string;
            verifyScope?: string[];
            verification?: string;
            format: ReportFormat;
            out?: string;
          },
        ) =>
          runReport(
            {
              journal: options.journal,
              plan: options.plan,
              verification: options.verification,
              verifyScopes: options.verifyScope ? scopesOf(options.verifyScope) : undefined,
              format: options.format,
              out: options.out,
            },
            processStreams(),
            () => clientFor(options),
          ),
      ),
    );
  return transition;
}
