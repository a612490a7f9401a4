/**
 * The apply journal: an append-only SQLite file beside the plan. Every step writes an `intent` row
 * before its request goes out, an `accepted` row when ARM starts a long-running operation (with the
 * URL to poll), and a `result` row when it ends (ARM request id, status, error code). Rows are
 * committed in WAL mode with `synchronous = FULL`, and a step moves on only once its row is: each
 * write returns a promise that settles when the row is on disk, so once `apply` moves on, the row
 * survives a crash or a power cut. Rows written close together (many steps are in flight at once)
 * share one transaction and one fsync — a group commit, at most one per `GROUP_COMMIT_MS` — instead
 * of one each: the fsync holds the event loop (better-sqlite3 is synchronous), and one per row kept
 * a large apply waiting on the disk (a millisecond or more per row on a busy machine).
 *
 * What a step's rows mean on resume:
 * - last row `result: done` — completed: never sent again;
 * - `intent` only — the request may or may not have reached ARM: reconcile by reading the target;
 * - `accepted` — ARM took it: wait for the operation again, never send it twice;
 * - `result: failed | skipped` — tried again, after the same reconciliation.
 */
import { existsSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import type { ActionKind } from './plan.js';

export type StepKind = ActionKind | 'startMachine' | 'restorePowerState';
export type StepOutcome = 'done' | 'failed' | 'skipped';

/** What ARM said to poll when it accepted a long-running operation. */
export interface AcceptedOperation {
  method: string;
  url: string;
  status: number;
  headers: Record<string, string>;
}

export interface StepState {
  last: 'none' | 'intent' | 'accepted' | StepOutcome;
  /** An intent was ever written: this journal's runs may have changed the target. */
  attempted: boolean;
  /** The operation ARM accepted after the latest intent, if any. */
  operation?: AcceptedOperation;
}

export interface DeclaredStep {
  id: string;
  kind: StepKind;
  subscriptionId: string;
  target: string;
}

export interface ResultDetail {
  outcome: StepOutcome;
  method?: string;
  path?: string;
  status?: number;
  requestId?: string;
  errorCode?: string;
  errorMessage?: string;
  /** Free text or JSON: how it ended (`reconciled: extension already gone`). */
  detail?: string;
}

export interface KindCounts {
  declared: number;
  done: number;
  failed: number;
  skipped: number;
  /** Intent or accepted without a result: in flight, or interrupted. */
  unfinished: number;
  pending: number;
}

export interface JournalRun {
  run: number;
  pid: number | null;
  startedAt: string;
  endedAt: string | null;
  outcome: string | null;
  options: unknown;
}

export interface JournalSummary {
  path: string;
  planId: string;
  planFile: string | null;
  endpoint: string | null;
  runs: JournalRun[];
  /** The run holding the journal now (a live apply), if any. */
  activeRun: number | null;
  kinds: Partial<Record<StepKind, KindCounts>>;
  totals: KindCounts;
  failures: {
    step: string;
    kind: StepKind;
    target: string;
    status: number | null;
    requestId: string | null;
    errorCode: string | null;
    errorMessage: string | null;
    at: string;
  }[];
  lastEntryAt: string | null;
}

export class JournalError extends Error {
  override readonly name = 'JournalError';
  constructor(
    readonly code: 'JournalOfAnotherPlan' | 'JournalBusy' | 'JournalMissing',
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  run INTEGER PRIMARY KEY,
  pid INTEGER,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  outcome TEXT,
  options TEXT
);
CREATE TABLE IF NOT EXISTS steps (
  step TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  target TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run INTEGER NOT NULL,
  at TEXT NOT NULL,
  step TEXT NOT NULL,
  phase TEXT NOT NULL CHECK (phase IN ('intent', 'accepted', 'result')),
  outcome TEXT CHECK (outcome IS NULL OR outcome IN ('done', 'failed', 'skipped')),
  method TEXT,
  path TEXT,
  status INTEGER,
  request_id TEXT,
  error_code TEXT,
  error_message TEXT,
  operation TEXT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS entries_by_step ON entries (step, seq);
`;

/**
 * The least time between two commits. A step waits at most this long for its row; the event loop
 * spends at most one fsync per interval on the journal, however many steps are in flight.
 */
export const GROUP_COMMIT_MS = 10;

interface EntryRow {
  step: string;
  phase: 'intent' | 'accepted' | 'result';
  outcome: StepOutcome | null;
  operation: string | null;
}

/** `plan.json` → `plan.journal.sqlite`, beside it. */
export function defaultJournalPath(planPath: string): string {
  return `${planPath.replace(/\.json$/i, '')}.journal.sqlite`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function applyEntry(states: Map<string, StepState>, row: EntryRow): void {
  const state = states.get(row.step) ?? { last: 'none', attempted: false };
  if (row.phase === 'intent') {
    states.set(row.step, { last: 'intent', attempted: true });
  } else if (row.phase === 'accepted') {
    states.set(row.step, {
      last: 'accepted',
      attempted: true,
      operation: row.operation ? (JSON.parse(row.operation) as AcceptedOperation) : undefined,
    });
  } else {
    states.set(row.step, { last: row.outcome ?? 'failed', attempted: state.attempted });
  }
}

export interface Journal {
  readonly path: string;
  readonly planId: string;
  readonly run: number;
  stateOf(step: string): StepState;
  /** Step ids declared or written so far that start with `prefix` (machine sessions, by attempt). */
  stepsStartingWith(prefix: string): string[];
  /** Records the steps a run covers (committed with the next rows, or at the end of this turn). */
  declare(steps: readonly DeclaredStep[]): void;
  /** Each write counts in `stateOf` at once and resolves when its row is committed. */
  intent(step: DeclaredStep, request: { method: string; path: string }): Promise<void>;
  accepted(
    step: DeclaredStep,
    reply: { status: number; requestId?: string; operation: AcceptedOperation },
  ): Promise<void>;
  result(step: DeclaredStep, result: ResultDetail): Promise<void>;
  /** Commits what is pending, then records the run's end and releases the journal. */
  endRun(outcome: string): void;
  close(): void;
}

/**
 * `stepsStartingWith` over a set of step ids that grows: a machine's session steps
 * (`startMachine:ID#N`) are found by their prefix up to `#` without scanning every step.
 */
export function createStepIndex(steps: Iterable<string> = []) {
  const all = new Set<string>();
  const byStem = new Map<string, string[]>();
  const add = (step: string) => {
    if (all.has(step)) return;
    all.add(step);
    const hash = step.indexOf('#');
    if (hash < 0) return;
    const stem = step.slice(0, hash + 1);
    const list = byStem.get(stem);
    if (list) list.push(step);
    else byStem.set(stem, [step]);
  };
  for (const step of steps) add(step);
  return {
    add,
    stepsStartingWith(prefix: string): string[] {
      const hash = prefix.indexOf('#');
      if (hash === prefix.length - 1) return [...(byStem.get(prefix) ?? [])];
      return [...all].filter((step) => step.startsWith(prefix));
    },
  };
}

/**
 * Opens (or creates) the journal of `planId` for an apply run and takes it: a second apply on the same
 * journal while this one lives is refused. A journal written for another plan is refused too.
 */
export function openJournal(
  path: string,
  options: { planId: string; planFile: string; endpoint: string; runOptions: unknown },
): Journal {
  const db = new BetterSqlite3(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
  } catch (error) {
    db.close();
    throw error;
  }
  const getMeta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  const setMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  const now = () => new Date().toISOString();
  let run = 0;
  const take = db.transaction(() => {
    const planId = getMeta.get('planId')?.value;
    if (planId !== undefined && planId !== options.planId) {
      throw new JournalError(
        'JournalOfAnotherPlan',
        `${path} is the journal of plan ${planId}, not of plan ${options.planId}.`,
        'Give this plan its own journal with `--journal FILE`, or apply the plan the journal belongs to.',
      );
    }
    const lock = getMeta.get('lock')?.value;
    if (lock) {
      const holder = JSON.parse(lock) as { pid: number; run: number };
      if (holder.pid !== process.pid && isAlive(holder.pid)) {
        throw new JournalError(
          'JournalBusy',
          `Another apply (pid ${holder.pid}, run ${holder.run}) is using ${path}.`,
          'Wait for it to finish, or stop it; then run apply again: it resumes where that run stopped.',
        );
      }
    }
    if (planId === undefined) {
      setMeta.run('planId', options.planId);
      setMeta.run('planFile', options.planFile);
      setMeta.run('endpoint', options.endpoint);
      setMeta.run('createdAt', now());
    }
    run = Number(
      db
        .prepare('INSERT INTO runs (pid, started_at, options) VALUES (?, ?, ?)')
        .run(process.pid, now(), JSON.stringify(options.runOptions)).lastInsertRowid,
    );
    setMeta.run('lock', JSON.stringify({ pid: process.pid, run }));
  });
  try {
    take.immediate();
  } catch (error) {
    db.close();
    throw error;
  }

  const states = new Map<string, StepState>();
  for (const row of db
    .prepare<[], EntryRow>('SELECT step, phase, outcome, operation FROM entries ORDER BY seq')
    .iterate()) {
    applyEntry(states, row);
  }
  const declared = new Set<string>(
    db
      .prepare<[], { step: string }>('SELECT step FROM steps')
      .all()
      .map((row) => row.step),
  );

  const insertStep = db.prepare(
    'INSERT OR IGNORE INTO steps (step, kind, subscription_id, target) VALUES (?, ?, ?, ?)',
  );
  const insertEntry = db.prepare(`INSERT INTO entries
    (run, at, step, phase, outcome, method, path, status, request_id, error_code, error_message, operation, detail)
    VALUES (@run, @at, @step, @phase, @outcome, @method, @path, @status, @requestId, @errorCode, @errorMessage, @operation, @detail)`);
  const index = createStepIndex([...declared, ...states.keys()]);

  // The group commit: steps and rows queue in order, and one transaction writes them all.
  type Pending = { step: DeclaredStep } | { entry: Record<string, unknown> };
  let queue: Pending[] = [];
  let committed: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | null =
    null;
  const writeAll = db.transaction((items: Pending[]) => {
    for (const item of items) {
      if ('step' in item)
        insertStep.run(item.step.id, item.step.kind, item.step.subscriptionId, item.step.target);
      else insertEntry.run(item.entry);
    }
  });
  let lastCommit = 0;
  function flush(): void {
    lastCommit = performance.now();
    const batch = queue;
    const waiting = committed;
    queue = [];
    committed = null;
    if (batch.length === 0) {
      waiting?.resolve();
      return;
    }
    try {
      writeAll(batch);
    } catch (error) {
      if (!waiting) throw error;
      waiting.reject(error);
      return;
    }
    waiting?.resolve();
  }
  /** Queues `item`; the promise settles when the transaction holding it has committed. */
  function enqueue(item: Pending): Promise<void> {
    queue.push(item);
    if (!committed) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((done, fail) => {
        resolve = done;
        reject = fail;
      });
      // A failed commit is reported to the steps that wait on it; declarations alone wait on nothing.
      promise.catch(() => {});
      committed = { promise, resolve, reject };
      setTimeout(flush, Math.max(0, lastCommit + GROUP_COMMIT_MS - performance.now()));
    }
    return committed.promise;
  }
  function declareStep(step: DeclaredStep): void {
    if (declared.has(step.id)) return;
    declared.add(step.id);
    index.add(step.id);
    void enqueue({ step });
  }

  function append(
    step: DeclaredStep,
    entry: { phase: EntryRow['phase'] } & Partial<ResultDetail> & { operation?: AcceptedOperation },
  ): Promise<void> {
    declareStep(step);
    const row = {
      run,
      at: now(),
      step: step.id,
      phase: entry.phase,
      outcome: entry.outcome ?? null,
      method: entry.method ?? null,
      path: entry.path ?? null,
      status: entry.status ?? null,
      requestId: entry.requestId ?? null,
      errorCode: entry.errorCode ?? null,
      errorMessage: entry.errorMessage ?? null,
      operation: entry.operation ? JSON.stringify(entry.operation) : null,
      detail: entry.detail ?? null,
    };
    applyEntry(states, { step: row.step, phase: row.phase, outcome: row.outcome, operation: row.operation });
    return enqueue({ entry: row });
  }

  let closed = false;
  return {
    path,
    planId: options.planId,
    run,
    stateOf: (step) => states.get(step) ?? { last: 'none', attempted: false },
    stepsStartingWith: (prefix) => index.stepsStartingWith(prefix),
    declare: (steps) => {
      for (const step of steps) declareStep(step);
    },
    intent: (step, request) => append(step, { phase: 'intent', ...request }),
    accepted: (step, reply) =>
      append(step, {
        phase: 'accepted',
        status: reply.status,
        requestId: reply.requestId,
        method: reply.operation.method,
        operation: reply.operation,
      }),
    result: (step, result) => append(step, { phase: 'result', ...result }),
    endRun(outcome) {
      flush();
      db.prepare('UPDATE runs SET ended_at = ?, outcome = ? WHERE run = ?').run(now(), outcome, run);
      db.prepare("DELETE FROM meta WHERE key = 'lock'").run();
    },
    close() {
      if (closed) return;
      closed = true;
      flush();
      db.close();
    },
  };
}

const emptyCounts = (): KindCounts => ({
  declared: 0,
  done: 0,
  failed: 0,
  skipped: 0,
  unfinished: 0,
  pending: 0,
});

/**
 * Reads an existing journal read-only, so safe while an apply runs: `read` is given the open database
 * and its meta entries, and the database is closed after it. No journal at `path` is a `JournalMissing`
 * error whose hint is `hint`.
 */
export function readJournalFile<T>(
  path: string,
  hint: string,
  read: (db: BetterSqlite3.Database, meta: Map<string, string>) => T,
): T {
  if (!existsSync(path)) throw new JournalError('JournalMissing', `There is no journal at ${path}.`, hint);
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    const meta = new Map(
      db
        .prepare<[], { key: string; value: string }>('SELECT key, value FROM meta')
        .all()
        .map((row) => [row.key, row.value]),
    );
    return read(db, meta);
  } finally {
    db.close();
  }
}

/** Progress as the journal records it; read-only, safe while an apply runs. */
export function readJournal(path: string): JournalSummary {
  return readJournalFile(
    path,
    'Give the journal with `--journal FILE` (apply writes it beside the plan: plan.journal.sqlite).',
    (db, meta) => {
      const runs = db
        .prepare<
          [],
          {
            run: number;
            pid: number | null;
            started_at: string;
            ended_at: string | null;
            outcome: string | null;
            options: string | null;
          }
        >('SELECT run, pid, started_at, ended_at, outcome, options FROM runs ORDER BY run')
        .all()
        .map((row) => ({
          run: row.run,
          pid: row.pid,
          startedAt: row.started_at,
          endedAt: row.ended_at,
          outcome: row.outcome,
          options: row.options ? JSON.parse(row.options) : null,
        }));
      const lock = meta.get('lock') ? (JSON.parse(meta.get('lock')!) as { pid: number; run: number }) : null;
      const activeRun = lock && isAlive(lock.pid) ? lock.run : null;
      const rows = db
        .prepare<
          [],
          {
            step: string;
            kind: StepKind;
            target: string;
            phase: string | null;
            outcome: StepOutcome | null;
            status: number | null;
            request_id: string | null;
            error_code: string | null;
            error_message: string | null;
            at: string | null;
          }
        >(
          `SELECT s.step, s.kind, s.target, e.phase, e.outcome, e.status, e.request_id, e.error_code, e.error_message, e.at
         FROM steps s LEFT JOIN entries e ON e.seq = (SELECT MAX(seq) FROM entries WHERE step = s.step)
         ORDER BY s.rowid`,
        )
        .all();
      const kinds: Partial<Record<StepKind, KindCounts>> = {};
      const totals = emptyCounts();
      const failures: JournalSummary['failures'] = [];
      for (const row of rows) {
        const counts = kinds[row.kind] ?? emptyCounts();
        kinds[row.kind] = counts;
        const bucket: keyof KindCounts =
          row.phase === null ? 'pending' : row.phase === 'result' ? (row.outcome ?? 'failed') : 'unfinished';
        for (const target of [counts, totals]) {
          target.declared++;
          target[bucket]++;
        }
        if (row.phase === 'result' && row.outcome === 'failed') {
          failures.push({
            step: row.step,
            kind: row.kind,
            target: row.target,
            status: row.status,
            requestId: row.request_id,
            errorCode: row.error_code,
            errorMessage: row.error_message,
            at: row.at!,
          });
        }
      }
      const last = db.prepare<[], { at: string }>('SELECT at FROM entries ORDER BY seq DESC LIMIT 1').get();
      return {
        path,
        planId: meta.get('planId') ?? '',
        planFile: meta.get('planFile') ?? null,
        endpoint: meta.get('endpoint') ?? null,
        runs,
        activeRun,
        kinds,
        totals,
        failures,
        lastEntryAt: last?.at ?? null,
      };
    },
  );
}

/**
 * The step states of an existing journal without taking it (for `apply --dry-run`): an empty map
 * when there is no journal yet.
 */
export function peekJournal(path: string): {
  planId: string | null;
  stateOf: (step: string) => StepState;
  steps: string[];
} {
  if (!existsSync(path))
    return { planId: null, stateOf: () => ({ last: 'none', attempted: false }), steps: [] };
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    const states = new Map<string, StepState>();
    for (const row of db
      .prepare<[], EntryRow>('SELECT step, phase, outcome, operation FROM entries ORDER BY seq')
      .iterate()) {
      applyEntry(states, row);
    }
    const planId = db
      .prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'planId'")
      .get()?.value;
    return {
      planId: planId ?? null,
      stateOf: (step) => states.get(step) ?? { last: 'none', attempted: false },
      steps: [...states.keys()],
    };
  } finally {
    db.close();
  }
}
