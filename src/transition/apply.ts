/**
 * `apply`: carries a plan out, resumably.
 *
 * 1. Preflight. Every action not yet completed in the journal is re-read and judged against what the
 *    plan observed (observe.ts). Any difference the journal does not explain refuses the whole plan
 *    before a single write — the estate changed since the plan, so its actions may be wrong. What the
 *    journal does explain is reconciled: a target already in its final state after our own intent is
 *    recorded done without a second request; a delete ARM is still running is awaited.
 * 2. Waves. `canary` subscriptions first, then the rest. A wave whose failed actions pass
 *    `failureThreshold` percent of its actions stops the run: nothing new starts, what is in flight ends.
 * 3. Per subscription, in order: prerequisites → `MdeTvm` → connectors → legacy `default` resources →
 *    Qualys extensions (long-running deletes, awaited). A failed prerequisite or setting holds the
 *    subscription's later steps back. Machines that are not running are skipped, or with
 *    `startStopped` started, cleaned and returned to their power state, each power change a journal
 *    step of its own.
 *
 * Every write goes through the journal: intent before, accepted (the operation to poll) when ARM
 * starts one, result after.
 */
import type { ArmClient, ArmResponse } from './client.js';
import { createLimiter, forEachLimited, type Limiter, nestedLimiter } from './concurrency.js';
import { powerStateOfVm } from './discovery.js';
import { ArmClientError, ArmRequestError } from './errors.js';
import type {
  AcceptedOperation,
  DeclaredStep,
  Journal,
  StepKind,
  StepOutcome,
  StepState,
} from './journal.js';
import {
  type ObserveContext,
  observeAction,
  type SubscriptionReads,
  subscriptionReads,
  type Verdict,
} from './observe.js';
import type { PollingOptions } from './operations.js';
import {
  ACTION_KINDS,
  type ActionKind,
  type ActionOf,
  PHASE_OF,
  type PlannedAction,
  type SkipReason,
  type TransitionPlan,
} from './plan.js';
import {
  type ArmRequest,
  deleteLegacyVa,
  deleteMachineExtension,
  enableEndpointProtection,
  getMachine,
  getSecurityConnector,
  getServersPricing,
  type PricingExtensionInput,
  putSecurityConnector,
  putServersPricing,
  type SecurityConnector,
  setVaProvider,
  type VmPowerAction,
  vmPowerAction,
} from './requests.js';

// ─── Options, events, report ─────────────────────────────────────────────────────────────────────

/** What apply needs of a journal: the writer, or (for a dry run) only the step states. */
export type JournalView = Pick<Journal, 'stateOf' | 'stepsStartingWith'> & Partial<Journal>;

export interface ApplyOptions {
  client: ArmClient;
  plan: TransitionPlan;
  journal: JournalView;
  dryRun?: boolean;
  startStopped?: boolean;
  /** Subscriptions in the first wave. */
  canary?: number;
  /** Percent (0–100) of a wave's actions that may fail before the run stops. */
  failureThreshold?: number;
  /** Subscriptions worked on at once (default 16). */
  subscriptionConcurrency?: number;
  /** Actions in flight at once, long-running waits included (default 128). */
  actionConcurrency?: number;
  /**
   * Actions of one subscription in flight at once (default 32, at most `actionConcurrency`): a
   * subscription waiting for its own bucket (ARM meters each on its own) cannot hold every slot.
   */
  actionsPerSubscription?: number;
  polling?: PollingOptions;
  /** Aborting stops scheduling: nothing new starts, what is in flight finishes and is journaled. */
  signal?: AbortSignal;
  onEvent?: (event: ApplyEvent) => void;
}

export type StepEventOutcome = StepOutcome | 'reconciled';

export type ApplyEvent =
  | { type: 'preflight'; done: number; total: number }
  | { type: 'wave'; name: WaveName; subscriptions: number; actions: number }
  | {
      type: 'step';
      id: string;
      kind: StepKind;
      target: string;
      outcome: StepEventOutcome;
      message?: string;
      durationMs: number;
    }
  | { type: 'stopping'; reason: 'threshold' | 'interrupted'; message: string };

export type WaveName = 'canary' | 'rest' | 'all';

export type ApplyOutcome = 'completed' | 'failed' | 'stale' | 'thresholdStop' | 'interrupted' | 'dryRun';

export interface StaleChange {
  actionId: string;
  kind: ActionKind;
  target: string;
  change: string;
}

export interface ActionCounts {
  planned: number;
  /** Completed by an earlier run (journal). */
  alreadyDone: number;
  done: number;
  /** Found done after an earlier run's intent: recorded without a request. */
  reconciled: number;
  failed: number;
  skipped: number;
  /** Not started: the run stopped first, or (dry run) would run. */
  notStarted: number;
}

export interface ApplyReport {
  outcome: ApplyOutcome;
  planId: string;
  endpoint: string;
  journal: string | null;
  dryRun: boolean;
  startedAt: string;
  durationMs: number;
  changes: StaleChange[];
  counts: Record<ActionKind, ActionCounts>;
  totals: ActionCounts;
  waves: { name: WaveName; subscriptions: number; actions: number; failed: number; stopped: boolean }[];
  failures: {
    id: string;
    kind: StepKind;
    target: string;
    status: number | null;
    code: string;
    message: string;
    requestId: string | null;
  }[];
  skipped: { id: string | null; reason: SkipReason | 'earlierStepFailed'; target: string; message: string }[];
  machines: { machineId: string; started: boolean; restoredTo: string | null; outcome: StepOutcome }[];
  /** Dry run: what a real run would do for each action not yet completed. */
  wouldRun: { id: string; kind: ActionKind; target: string; decision: Decision }[];
  stoppedBecause: string | null;
}

export type Decision = 'run' | 'reconcileDone' | 'await';

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const same = (left: unknown, right: string) =>
  typeof left === 'string' && left.toLowerCase() === right.toLowerCase();

function emptyCounts(): ActionCounts {
  return { planned: 0, alreadyDone: 0, done: 0, reconciled: 0, failed: 0, skipped: 0, notStarted: 0 };
}

function stepOf(action: PlannedAction): DeclaredStep {
  return { id: action.id, kind: action.kind, subscriptionId: action.subscriptionId, target: action.target };
}

/** A failure as the journal and the report keep it. */
interface Failure {
  status: number | null;
  code: string;
  message: string;
  requestId: string | null;
}

function failureOf(error: unknown): Failure {
  if (error instanceof ArmRequestError) {
    return {
      status: error.status,
      code: error.code,
      message: error.operationStatus ? `operation ${error.operationStatus}: ${error.message}` : error.message,
      requestId: error.requestId ?? null,
    };
  }
  if (error instanceof ArmClientError)
    return { status: null, code: error.code, message: error.message, requestId: null };
  if (error instanceof StepFailure)
    return { status: null, code: error.code, message: error.message, requestId: null };
  throw error;
}

/** A step that failed for a reason apply itself found (a partial pricing update, a changed connector). */
class StepFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The power action that returns a VM to the state the plan saw (none when it was running or unknown). */
export function restoreActionOf(powerState: string): VmPowerAction | undefined {
  switch (powerState.toLowerCase()) {
    case 'deallocated':
    case 'deallocating':
      return 'deallocate';
    case 'stopped':
    case 'stopping':
      return 'powerOff';
    default:
      return undefined;
  }
}

const POWER_ACTION_RESULT: Record<VmPowerAction, string> = {
  start: 'running',
  deallocate: 'deallocated',
  powerOff: 'stopped',
};
const POWER_ACTION_TRANSIENT: Record<VmPowerAction, string> = {
  start: 'starting',
  deallocate: 'deallocating',
  powerOff: 'stopping',
};

/** The connector body with its Defender for Servers offering provisioning TVM, as Microsoft's transition page sends it. */
export function withTvm(connector: Json): Json {
  const properties = isObject(connector.properties) ? connector.properties : {};
  const offerings = Array.isArray(properties.offerings) ? properties.offerings : [];
  return {
    ...connector,
    properties: {
      ...properties,
      offerings: offerings.map((offering) => {
        if (
          !isObject(offering) ||
          !(
            same(offering.offeringType, 'DefenderForServersAws') ||
            same(offering.offeringType, 'DefenderForServersGcp')
          )
        ) {
          return offering;
        }
        const va = isObject(offering.vaAutoProvisioning) ? offering.vaAutoProvisioning : {};
        const configuration = isObject(va.configuration) ? va.configuration : {};
        return {
          ...offering,
          vaAutoProvisioning: { ...va, enabled: true, configuration: { ...configuration, type: 'TVM' } },
        };
      }),
    },
  };
}

// ─── The run ─────────────────────────────────────────────────────────────────────────────────────

interface Item {
  action: PlannedAction;
  /** Behind a `--start-stopped` machine session. */
  deferred: boolean;
  decision?: Decision;
}

/** A VM to start, clean and return: its deferred removals still to do, and the power state the plan saw. */
interface Session {
  machineId: string;
  subscriptionId: string;
  observedPower: string;
  items: Item[];
}

interface SubscriptionWork {
  subscriptionId: string;
  /** Items by phase (0 prerequisites … 4 extensions on running machines). */
  phases: Item[][];
  /** `--start-stopped` sessions by lower-case machine id. */
  sessions: Map<string, Session>;
  total: number;
}

export async function applyPlan(options: ApplyOptions): Promise<ApplyReport> {
  const { client, plan, journal } = options;
  const started = performance.now();
  const emit = (event: ApplyEvent) => options.onEvent?.(event);
  const pollingDefaults: PollingOptions = options.polling ?? {};
  const report: ApplyReport = {
    outcome: 'completed',
    planId: plan.planId,
    endpoint: client.endpoint,
    journal: journal.path ?? null,
    dryRun: options.dryRun === true,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    changes: [],
    counts: Object.fromEntries(ACTION_KINDS.map((kind) => [kind, emptyCounts()])) as Record<
      ActionKind,
      ActionCounts
    >,
    totals: emptyCounts(),
    waves: [],
    failures: [],
    skipped: [],
    machines: [],
    wouldRun: [],
    stoppedBecause: null,
  };
  const count = (kind: ActionKind, field: keyof ActionCounts) => {
    report.counts[kind][field]++;
    report.totals[field]++;
  };

  // A session an earlier run opened (machine started, not yet returned) is always carried on.
  const sessionOf = (machineId: string) => machineSession(journal, machineId);
  // What this run covers: the plan's actions, and with startStopped the removals it deferred.
  const items: Item[] = plan.actions.map((action) => ({ action, deferred: false }));
  for (const skip of plan.skipped) {
    if (skip.deferred && (options.startStopped || sessionOf(skip.deferred.machineId).open)) {
      items.push({ action: skip.deferred, deferred: true });
    } else {
      report.skipped.push({
        id: skip.deferred?.id ?? null,
        reason: skip.reason,
        target: skip.target,
        message:
          skip.reason === 'machineNotRunning'
            ? `${skip.message.split(':')[0]}: skipped (apply --start-stopped starts it, cleans it and returns it to its power state).`
            : skip.message,
      });
    }
  }
  for (const item of items) count(item.action.kind, 'planned');
  journal.declare?.(items.map((item) => stepOf(item.action)));

  const remaining = items.filter((item) => {
    if (journal.stateOf(item.action.id).last === 'done') {
      count(item.action.kind, 'alreadyDone');
      return false;
    }
    return true;
  });

  const readsBySubscription = new Map<string, SubscriptionReads>();
  const readsOf = (subscriptionId: string) => {
    let reads = readsBySubscription.get(subscriptionId);
    if (!reads) {
      reads = subscriptionReads(client, subscriptionId);
      readsBySubscription.set(subscriptionId, reads);
    }
    return reads;
  };

  // 1. Preflight.
  const actionConcurrency = options.actionConcurrency ?? 128;
  const actionLimiter = createLimiter(actionConcurrency);
  const actionsPerSubscription = Math.min(actionConcurrency, options.actionsPerSubscription ?? 32);
  const preflightLimiters = new Map<string, Limiter>();
  const preflightLimiterOf = (subscriptionId: string) => {
    let limiter = preflightLimiters.get(subscriptionId);
    if (!limiter) {
      limiter = nestedLimiter(createLimiter(actionsPerSubscription), actionLimiter);
      preflightLimiters.set(subscriptionId, limiter);
    }
    return limiter;
  };
  const unreadable = new Map<string, Failure>();
  let preflightDone = 0;
  emit({ type: 'preflight', done: 0, total: remaining.length });
  await forEachAction(remaining, preflightLimiterOf, async (item) => {
    const { action } = item;
    const state = journal.stateOf(action.id);
    try {
      const context: ObserveContext = {
        client,
        reads: readsOf(action.subscriptionId),
        attempted: state.attempted,
        machineHeld:
          action.kind === 'deleteQualysExtension' && item.deferred && sessionOf(action.machineId).open,
      };
      const verdict = await observeAction(action, context);
      const decided = decide(verdict, state);
      if ('stale' in decided) {
        for (const change of decided.stale) {
          report.changes.push({ actionId: action.id, kind: action.kind, target: action.target, change });
        }
      } else {
        item.decision = decided.decision;
      }
    } catch (error) {
      unreadable.set(action.id, failureOf(error));
    } finally {
      preflightDone++;
      emit({ type: 'preflight', done: preflightDone, total: remaining.length });
    }
  });
  report.changes.sort((a, b) => a.target.localeCompare(b.target));
  if (report.changes.length > 0) return finish('stale');

  if (options.dryRun) {
    for (const item of remaining) {
      const failure = unreadable.get(item.action.id);
      if (failure) {
        report.failures.push({
          id: item.action.id,
          kind: item.action.kind,
          target: item.action.target,
          ...failure,
        });
        count(item.action.kind, 'failed');
        continue;
      }
      report.wouldRun.push({
        id: item.action.id,
        kind: item.action.kind,
        target: item.action.target,
        decision: item.decision!,
      });
      count(item.action.kind, 'notStarted');
    }
    // A target that could not be read is a failure a real run would have too.
    return finish(report.failures.length > 0 ? 'failed' : 'dryRun');
  }

  // 2. Waves.
  const bySubscription = new Map<string, SubscriptionWork>();
  const workOf = (subscriptionId: string) => {
    let work = bySubscription.get(subscriptionId);
    if (!work) {
      work = { subscriptionId, phases: [[], [], [], [], []], sessions: new Map(), total: 0 };
      bySubscription.set(subscriptionId, work);
    }
    return work;
  };
  const sessionIn = (work: SubscriptionWork, action: ActionOf<'deleteQualysExtension'>) => {
    const key = action.machineId.toLowerCase();
    let session = work.sessions.get(key);
    if (!session) {
      const machine = action.observed.machine;
      session = {
        machineId: action.machineId,
        subscriptionId: action.subscriptionId,
        observedPower: machine.kind === 'virtualMachine' ? machine.powerState : 'unknown',
        items: [],
      };
      work.sessions.set(key, session);
    }
    return session;
  };
  for (const item of remaining) {
    const { action } = item;
    const work = workOf(action.subscriptionId);
    work.total++;
    if (item.deferred && action.kind === 'deleteQualysExtension') sessionIn(work, action).items.push(item);
    else work.phases[PHASE_OF[action.kind]]!.push(item);
  }
  // Sessions whose removals all completed but whose machine was never returned to its state.
  for (const skip of plan.skipped) {
    if (skip.deferred && sessionOf(skip.deferred.machineId).open) {
      sessionIn(workOf(skip.deferred.subscriptionId), skip.deferred);
    }
  }
  const order = new Map(
    plan.subscriptions.map((subscription, index) => [subscription.subscriptionId, index]),
  );
  const subscriptions = [...bySubscription.values()].sort(
    (a, b) => (order.get(a.subscriptionId) ?? 0) - (order.get(b.subscriptionId) ?? 0),
  );
  const canary = options.canary ?? 0;
  const waves: { name: WaveName; work: SubscriptionWork[] }[] =
    canary > 0 && subscriptions.length > canary
      ? [
          { name: 'canary', work: subscriptions.slice(0, canary) },
          { name: 'rest', work: subscriptions.slice(canary) },
        ]
      : [{ name: canary > 0 ? 'canary' : 'all', work: subscriptions }];

  let stopping: { reason: 'threshold' | 'interrupted'; message: string } | null = null;
  const checkSignal = () => {
    if (!stopping && options.signal?.aborted) {
      stopping = {
        reason: 'interrupted',
        message: 'Interrupted: no new step starts; steps in flight finish.',
      };
      emit({ type: 'stopping', ...stopping });
    }
  };
  options.signal?.addEventListener('abort', checkSignal, { once: true });

  const subscriptionLimiter = createLimiter(options.subscriptionConcurrency ?? 16);

  for (const wave of waves) {
    checkSignal();
    if (stopping) {
      for (const work of wave.work) {
        for (const item of [
          ...work.phases.flat(),
          ...[...work.sessions.values()].flatMap((session) => session.items),
        ]) {
          count(item.action.kind, 'notStarted');
        }
      }
      continue;
    }
    const total = wave.work.reduce((sum, work) => sum + work.total, 0);
    const waveReport = {
      name: wave.name,
      subscriptions: wave.work.length,
      actions: total,
      failed: 0,
      stopped: false,
    };
    report.waves.push(waveReport);
    emit({ type: 'wave', name: wave.name, subscriptions: wave.work.length, actions: total });

    const onActionEnd = (kind: ActionKind, outcome: StepOutcome | 'reconciled') => {
      if (outcome === 'failed') {
        waveReport.failed++;
        const threshold = options.failureThreshold;
        if (
          threshold !== undefined &&
          !stopping &&
          (waveReport.failed * 100) / Math.max(1, total) > threshold
        ) {
          waveReport.stopped = true;
          stopping = {
            reason: 'threshold',
            message: `${waveReport.failed} of the ${wave.name} wave's ${total} actions failed, more than the --failure-threshold of ${threshold}%: no new step starts.`,
          };
          emit({ type: 'stopping', ...stopping });
        }
      }
      count(kind, outcome);
    };

    const runner = createRunner({
      client,
      journal: journal as Journal,
      polling: pollingDefaults,
      emit,
      report,
      unreadable,
      onActionEnd,
      isStopping: () => {
        checkSignal();
        return stopping !== null;
      },
      notStarted: (kind) => count(kind, 'notStarted'),
    });

    await forEachLimited(wave.work, subscriptionLimiter, async (work) => {
      const limit = nestedLimiter(createLimiter(actionsPerSubscription), actionLimiter);
      let blockedBy: string | null = null;
      for (const [phase, phaseItems] of work.phases.entries()) {
        const sessions = phase === PHASE_OF.deleteQualysExtension ? [...work.sessions.values()] : [];
        if (blockedBy) {
          const reason = blockedBy;
          const held = [...phaseItems, ...sessions.flatMap((session) => session.items)];
          await Promise.all(held.map((item) => runner.skip(item, reason)));
          continue;
        }
        const failedBefore = report.failures.length;
        await Promise.all([
          ...phaseItems.map((item) => limit(() => runner.runItem(item))),
          ...sessions.map((session) => limit(() => runner.runSession(session))),
        ]);
        if (phase <= PHASE_OF.setVaProvider) {
          const failed = report.failures
            .slice(failedBefore)
            .find((failure) => phaseItems.some((item) => item.action.id === failure.id));
          if (failed) {
            blockedBy = `an earlier step of subscription ${work.subscriptionId} failed (${failed.kind}: ${failed.code}); its later steps wait for the next apply.`;
          }
        }
      }
    });
  }
  options.signal?.removeEventListener('abort', checkSignal);

  const stop = stopping as { reason: 'threshold' | 'interrupted'; message: string } | null;
  if (stop) {
    report.stoppedBecause = stop.message;
    return finish(stop.reason === 'threshold' ? 'thresholdStop' : 'interrupted');
  }
  return finish(report.totals.failed > 0 ? 'failed' : 'completed');

  function finish(outcome: ApplyOutcome): ApplyReport {
    report.outcome = outcome;
    report.durationMs = Math.round(performance.now() - started);
    return report;
  }
}

/** Runs `task` for every item through its subscription's limiter; as `forEachLimited`, the first failure is rethrown after all settle. */
async function forEachAction(
  items: readonly Item[],
  limiterOf: (subscriptionId: string) => Limiter,
  task: (item: Item) => Promise<void>,
): Promise<void> {
  const outcomes = await Promise.allSettled(
    items.map((item) => limiterOf(item.action.subscriptionId)(() => task(item))),
  );
  const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed) throw failed.reason;
}

/** How a verdict and the journal's record combine (see the file comment). */
function decide(verdict: Verdict, state: StepState): { decision: Decision } | { stale: string[] } {
  if (state.last === 'accepted' && state.operation && verdict.state !== 'done') return { decision: 'await' };
  switch (verdict.state) {
    case 'planned':
      return { decision: 'run' };
    case 'done':
      return state.attempted
        ? { decision: 'reconcileDone' }
        : { stale: [`${verdict.note}: it changed outside this plan's runs`] };
    case 'inFlight':
      return state.attempted
        ? { decision: 'await' }
        : { stale: [`${verdict.note}, but not at this plan's request`] };
    case 'changed':
      return { stale: verdict.changes };
  }
}

/** The latest `--start-stopped` session of a machine in the journal: attempt number and whether it is still open. */
function machineSession(journal: JournalView, machineId: string): { attempt: number; open: boolean } {
  const prefix = `startMachine:${machineId.toLowerCase()}#`;
  let attempt = 0;
  for (const step of journal.stepsStartingWith(prefix)) {
    const number = Number(step.slice(prefix.length));
    if (Number.isInteger(number) && number > attempt && journal.stateOf(step).last !== 'none')
      attempt = number;
  }
  if (attempt === 0) return { attempt, open: false };
  const restore = journal.stateOf(`restorePowerState:${machineId.toLowerCase()}#${attempt}`).last;
  return { attempt, open: restore !== 'done' && restore !== 'skipped' };
}

// ─── Steps ───────────────────────────────────────────────────────────────────────────────────────

interface RunnerOptions {
  client: ArmClient;
  journal: Journal;
  polling: PollingOptions;
  emit: (event: ApplyEvent) => void;
  report: ApplyReport;
  unreadable: Map<string, Failure>;
  onActionEnd: (kind: ActionKind, outcome: StepOutcome | 'reconciled') => void;
  isStopping: () => boolean;
  notStarted: (kind: ActionKind) => void;
}

function createRunner(options: RunnerOptions) {
  const { client, journal, polling, emit, report } = options;

  function ended(step: DeclaredStep, outcome: StepEventOutcome, startedAt: number, message?: string): void {
    emit({
      type: 'step',
      id: step.id,
      kind: step.kind,
      target: step.target,
      outcome,
      message,
      durationMs: Math.round(performance.now() - startedAt),
    });
  }

  async function recordFailure(step: DeclaredStep, failure: Failure, request?: ArmRequest): Promise<void> {
    await journal.result(step, {
      outcome: 'failed',
      method: request?.method,
      path: request?.path,
      status: failure.status ?? undefined,
      requestId: failure.requestId ?? undefined,
      errorCode: failure.code,
      errorMessage: failure.message,
    });
    report.failures.push({ id: step.id, kind: step.kind, target: step.target, ...failure });
  }

  /** Sends a write with its journal rows; awaits the operation ARM starts. Returns the final reply. */
  async function write(step: DeclaredStep, request: ArmRequest): Promise<ArmResponse<unknown>> {
    await journal.intent(step, { method: request.method, path: request.path });
    const reply = await client.send(request);
    const asyncOperation = reply.headers['azure-asyncoperation'];
    const location = reply.headers.location;
    if (reply.status === 202 || asyncOperation) {
      const operation: AcceptedOperation = {
        method: reply.request.method,
        url: reply.request.url,
        status: reply.status,
        headers: Object.fromEntries(
          Object.entries({
            'azure-asyncoperation': asyncOperation,
            location,
            'retry-after': reply.headers['retry-after'],
          }).filter((entry): entry is [string, string] => entry[1] !== undefined),
        ),
      };
      await journal.accepted(step, { status: reply.status, requestId: reply.requestId, operation });
      await client.awaitOperation(reply, polling);
    }
    return reply;
  }

  /** Waits again for an operation an earlier run saw ARM accept. */
  async function awaitAccepted(operation: AcceptedOperation): Promise<void> {
    await client.awaitOperation(
      {
        status: operation.status,
        body: undefined,
        headers: operation.headers,
        request: { method: operation.method as ArmRequest['method'], url: operation.url },
      },
      polling,
    );
  }

  const pollDelay = () => polling.fixedDelayMs ?? polling.defaultDelayMs ?? 2_000;

  /** Polls `read` until `settled` says so, within the polling limit. */
  async function until<T>(read: () => Promise<T>, settled: (value: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + (polling.maxWaitMs ?? 60 * 60_000);
    for (;;) {
      const value = await read();
      if (settled(value)) return value;
      if (Date.now() > deadline)
        throw new StepFailure('OperationWaitExceeded', `${what} has not settled within the polling limit.`);
      await new Promise((resolve) => setTimeout(resolve, pollDelay()));
    }
  }

  async function powerStateOf(machineId: string): Promise<string> {
    const request = getMachine(machineId);
    const reply = await client.get<unknown>(request.path, request.apiVersion, { query: request.query });
    return powerStateOfVm(reply.body);
  }

  /** The write an action makes, once its decision is `run`. Returns a note for the journal. */
  async function perform(
    action: PlannedAction,
    step: DeclaredStep,
  ): Promise<{ reply?: ArmResponse<unknown>; note?: string }> {
    switch (action.kind) {
      case 'setVaProvider':
        return { reply: await write(step, setVaProvider(action.subscriptionId)) };
      case 'enableWdatp':
        return { reply: await write(step, enableEndpointProtection(action.subscriptionId)) };
      case 'enableAgentless':
        return enableAgentless(action, step);
      case 'flipConnector':
        return flipConnector(action, step);
      case 'deleteLegacyVa':
        return { reply: await write(step, deleteLegacyVa(action.target)) };
      case 'deleteQualysExtension':
        return { reply: await write(step, deleteMachineExtension(action.target)) };
    }
  }

  async function enableAgentless(action: ActionOf<'enableAgentless'>, step: DeclaredStep) {
    const read = getServersPricing(action.subscriptionId);
    const current = await client.get<{ properties?: Json }>(read.path, read.apiVersion);
    const properties = current.body?.properties ?? {};
    const extensions: PricingExtensionInput[] = (
      Array.isArray(properties.extensions) ? properties.extensions : []
    )
      .filter(isObject)
      .map((extension) => ({
        name: String(extension.name),
        isEnabled: same(extension.name, 'AgentlessVmScanning')
          ? 'True'
          : String(extension.isEnabled ?? 'False'),
        ...(isObject(extension.additionalExtensionProperties)
          ? { additionalExtensionProperties: extension.additionalExtensionProperties }
          : {}),
      }));
    if (!extensions.some((extension) => same(extension.name, 'AgentlessVmScanning'))) {
      extensions.push({ name: 'AgentlessVmScanning', isEnabled: 'True' });
    }
    const request = putServersPricing(action.subscriptionId, {
      pricingTier: String(properties.pricingTier ?? action.observed.pricingTier),
      ...(typeof properties.subPlan === 'string' ? { subPlan: properties.subPlan } : {}),
      ...(typeof properties.enforce === 'string' ? { enforce: properties.enforce } : {}),
      extensions,
    });
    const reply = await write(step, request);
    // A 200 can still report the extension failed (Microsoft's partial-success example, §5.2).
    const answered =
      isObject(reply.body) && isObject(reply.body.properties) ? reply.body.properties.extensions : undefined;
    const agentless = Array.isArray(answered)
      ? answered.find((extension) => isObject(extension) && same(extension.name, 'AgentlessVmScanning'))
      : undefined;
    const status =
      isObject(agentless) && isObject(agentless.operationStatus) ? agentless.operationStatus : undefined;
    if (status && same(status.code, 'Failed')) {
      throw new StepFailure(
        'ExtensionNotEnabled',
        `AgentlessVmScanning was not enabled: ${String(status.message ?? '')}`,
      );
    }
    return { reply };
  }

  async function flipConnector(action: ActionOf<'flipConnector'>, step: DeclaredStep) {
    const current = await client.send<Json>(getSecurityConnector(action.target));
    const etag = current.etag ?? (typeof current.body?.etag === 'string' ? current.body.etag : undefined);
    if (action.observed.etag !== null && etag !== action.observed.etag) {
      throw new StepFailure(
        'ConnectorChanged',
        `The connector changed after the plan (ETag ${etag ?? 'none'}, the plan saw ${action.observed.etag}); run \`vaplane transition plan\` again.`,
      );
    }
    const request = putSecurityConnector(
      withTvm(current.body) as SecurityConnector,
      action.observed.etag ?? etag ?? undefined,
    );
    return { reply: await write(step, request) };
  }

  /** Finishes an action whose target an earlier run already changed (or is changing). */
  async function resume(item: Item, state: StepState): Promise<string> {
    const { action } = item;
    if (item.decision === 'reconcileDone')
      return 'reconciled: already in its final state after an earlier run';
    if (state.last === 'accepted' && state.operation) {
      try {
        await awaitAccepted(state.operation);
        return 'the operation an earlier run started has completed';
      } catch (error) {
        // An operation ARM no longer answers for: judge by the target itself.
        if (!(error instanceof ArmRequestError && error.status === 404 && !error.operationStatus))
          throw error;
      }
    }
    const reads = subscriptionReads(client, action.subscriptionId);
    const verdict = await until(
      () => observeAction(action, { client, reads, attempted: true, machineHeld: true }),
      (current) => current.state !== 'inFlight',
      `${action.kind} of ${action.target}`,
    );
    if (verdict.state === 'done') return 'the deletion an earlier run started has completed';
    throw new StepFailure(
      'OperationDidNotComplete',
      `The deletion an earlier run started did not complete (${verdict.state === 'changed' ? verdict.changes.join('; ') : 'the target is still there'}).`,
    );
  }

  async function runItem(item: Item): Promise<void> {
    const { action } = item;
    const step = stepOf(action);
    if (options.isStopping()) {
      options.notStarted(action.kind);
      return;
    }
    const startedAt = performance.now();
    const unreadable = options.unreadable.get(action.id);
    if (unreadable) {
      await recordFailure(step, {
        ...unreadable,
        message: `could not be re-read before apply: ${unreadable.message}`,
      });
      options.onActionEnd(action.kind, 'failed');
      ended(step, 'failed', startedAt, unreadable.message);
      return;
    }
    const state = journal.stateOf(action.id);
    try {
      if (item.decision === 'run') {
        const { reply } = await perform(action, step);
        await journal.result(step, {
          outcome: 'done',
          method: reply?.request.method,
          path: reply ? new URL(reply.request.url).pathname : undefined,
          status: reply?.status,
          requestId: reply?.requestId,
        });
        options.onActionEnd(action.kind, 'done');
        ended(step, 'done', startedAt);
      } else {
        const note = await resume(item, state);
        await journal.result(step, { outcome: 'done', detail: note });
        options.onActionEnd(action.kind, 'reconciled');
        ended(step, 'reconciled', startedAt, note);
      }
    } catch (error) {
      const failure = failureOf(error);
      await recordFailure(step, failure);
      options.onActionEnd(action.kind, 'failed');
      ended(step, 'failed', startedAt, `${failure.code}: ${failure.message}`);
    }
  }

  async function skip(item: Item, reason: string): Promise<void> {
    const step = stepOf(item.action);
    const written = journal.result(step, { outcome: 'skipped', detail: reason });
    report.skipped.push({
      id: item.action.id,
      reason: 'earlierStepFailed',
      target: item.action.target,
      message: reason,
    });
    options.onActionEnd(item.action.kind, 'skipped');
    ended(step, 'skipped', performance.now(), reason);
    await written;
  }

  /**
   * One power step of a session: done when the VM already is where `action` takes it, awaited when an
   * earlier run's request is on its way, otherwise sent.
   */
  async function powerStep(step: DeclaredStep, machineId: string, action: VmPowerAction): Promise<string> {
    const state = journal.stateOf(step.id);
    if (state.last === 'accepted' && state.operation) {
      await awaitAccepted(state.operation);
      return 'the operation an earlier run started has completed';
    }
    const target = POWER_ACTION_RESULT[action];
    const current = await until(
      () => powerStateOf(machineId),
      (power) => !same(power, POWER_ACTION_TRANSIENT[action]),
      `${action} of ${machineId}`,
    );
    if (same(current, target)) return `the VM is ${target}`;
    await write(step, vmPowerAction(machineId, action));
    return `${action} completed`;
  }

  /**
   * `--start-stopped`: start the VM, remove its Qualys extensions, return it to the power state the
   * plan saw. Each power change is a journal step of the session's attempt; a session an earlier run
   * left open is continued, never started twice.
   */
  async function runSession({
    machineId,
    subscriptionId,
    observedPower,
    items: sessionItems,
  }: Session): Promise<void> {
    const machineKey = machineId.toLowerCase();
    const session = machineSession(journal, machineKey);
    if (!session.open && (sessionItems.length === 0 || options.isStopping())) {
      for (const item of sessionItems) options.notStarted(item.action.kind);
      return;
    }
    const attempt = session.open ? session.attempt : session.attempt + 1;
    const startStep: DeclaredStep = {
      id: `startMachine:${machineKey}#${attempt}`,
      kind: 'startMachine',
      subscriptionId,
      target: machineId,
    };
    const restoreStep: DeclaredStep = {
      id: `restorePowerState:${machineKey}#${attempt}`,
      kind: 'restorePowerState',
      subscriptionId,
      target: machineId,
    };
    journal.declare([startStep, restoreStep]);
    const machineReport = {
      machineId,
      started: false,
      restoredTo: null as string | null,
      outcome: 'done' as StepOutcome,
    };
    report.machines.push(machineReport);

    let startedAt = performance.now();
    let startFailure: Failure | null = null;
    if (journal.stateOf(startStep.id).last !== 'done') {
      try {
        const note = await powerStep(startStep, machineId, 'start');
        await journal.result(startStep, { outcome: 'done', detail: note });
        ended(startStep, 'done', startedAt, note);
      } catch (error) {
        startFailure = failureOf(error);
        await recordFailure(startStep, startFailure);
        ended(startStep, 'failed', startedAt, `${startFailure.code}: ${startFailure.message}`);
      }
    }
    if (startFailure) {
      machineReport.outcome = 'failed';
      for (const item of sessionItems) {
        const step = stepOf(item.action);
        const failure: Failure = {
          ...startFailure,
          code: 'MachineNotStarted',
          message: `the VM could not be started: ${startFailure.message}`,
        };
        await recordFailure(step, failure);
        options.onActionEnd(item.action.kind, 'failed');
        ended(step, 'failed', performance.now(), failure.message);
      }
      await journal.result(restoreStep, { outcome: 'skipped', detail: 'the VM was not started' });
      return;
    }
    machineReport.started = true;
    for (const item of sessionItems) await runItem(item);

    // Always return the machine, whatever its removals did.
    startedAt = performance.now();
    const restore = restoreActionOf(observedPower);
    try {
      const note = restore
        ? await powerStep(restoreStep, machineId, restore)
        : `nothing to restore (the plan saw ${observedPower})`;
      await journal.result(restoreStep, { outcome: 'done', detail: note });
      machineReport.restoredTo = restore ? POWER_ACTION_RESULT[restore] : null;
      ended(restoreStep, 'done', startedAt, note);
    } catch (error) {
      const failure = failureOf(error);
      await recordFailure(restoreStep, failure);
      machineReport.outcome = 'failed';
      ended(restoreStep, 'failed', startedAt, `${failure.code}: ${failure.message}`);
    }
    if (sessionItems.some((item) => journal.stateOf(item.action.id).last === 'failed'))
      machineReport.outcome = 'failed';
  }

  return { runItem, runSession, skip };
}
