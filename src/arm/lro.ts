/**
 * Long-running operations as ARM's async contract describes them: the first call answers 202 with
 * `Azure-AsyncOperation`, `Location` and `Retry-After`; the status resource goes InProgress →
 * Succeeded/Failed/Canceled; the `Location` URL answers 202 while running and then what the original
 * call would have answered. Each operation is a row written in the same transaction as the change
 * that started it, so it survives a crash; a worker completes due operations in their own
 * transactions, after a restart too, so none stays InProgress forever.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { type Db, inTransaction, type OperationsTable } from '../store/index.js';
import { ArmError, type ArmErrorBody, errors } from './errors.js';
import type { ArmContext, ArmReply, ResourceTypeDef } from './registry.js';

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

export interface Operation {
  id: string;
  kind: string;
  status: OperationStatus;
  namespace: string;
  subscriptionId: string | null;
  location: string;
  targetKey: string;
  // biome-ignore lint/suspicious/noExplicitAny: each kind defines its own input document.
  input: any;
  result: OperationResult | null;
  error: (ArmErrorBody & { status: number }) | null;
  startTime: string;
  endTime: string | null;
  dueAt: string;
}

/** What an operation leaves behind: the final `Location` reply and extra status-resource fields. */
export interface OperationResult {
  final: { status: number; body?: unknown };
  statusProperties?: unknown;
}

export interface OperationKind {
  /**
   * Applies the operation's effect inside a transaction at its due time. Throwing an `ArmError` fails
   * the operation with that error and rolls the effect back.
   */
  complete(db: Db, operation: Operation): Promise<OperationResult>;
  /**
   * Records what a failed operation leaves behind (e.g. `provisioningState: Failed` on the resource),
   * in the transaction that marks it Failed.
   */
  fail?(db: Db, operation: Operation, error: ArmError): Promise<void>;
  /**
   * Completing it writes no resource (e.g. a policy evaluation): `targetKey` is what it reads, so the
   * engine's `afterTargetWritten` hook does not run for it.
   */
  leavesTargetUnchanged?: boolean;
}

/** Where a namespace serves its operation URLs (paths below the base URL, without the query). */
export interface LroStyle {
  statusPath?: (operation: Operation) => string;
  resultPath: (operation: Operation) => string;
  /** Extra query text on the Location URL (Compute adds `monitor=true`). */
  resultQuery?: string;
  /**
   * The members of the status resource, in the order the RP writes them, for RPs that answer fewer
   * than ARM's full set (Compute: `startTime`, `endTime`, `status`, `name`). All when absent.
   */
  statusMembers?: readonly string[];
}

export interface StartOptions {
  kind: string;
  namespace: string;
  location: string;
  targetKey: string;
  input?: unknown;
  style: LroStyle;
}

/** Work recorded now, durably, to be done by the worker at `dueAt`; no client polls it. */
export interface ScheduleOptions {
  kind: string;
  namespace: string;
  subscriptionId: string | null;
  targetKey: string;
  input?: unknown;
  dueAt: Date;
  /**
   * An operation of this kind on this target not yet done is moved to `dueAt` (with this input)
   * instead of a second one being recorded: many writes of one resource leave one piece of work.
   */
  coalesce?: boolean;
}

export interface LroEngine {
  registerKind(name: string, kind: OperationKind): void;
  /** Records due work in the caller's transaction (`db`); the worker completes it at its due time. */
  schedule(db: Db, options: ScheduleOptions): Promise<void>;
  /** Records a new operation in the request's transaction; returns the 202 headers. */
  start(
    ctx: ArmContext,
    options: StartOptions,
  ): Promise<{ operation: Operation; headers: Record<string, string> }>;
  get(db: Db, id: string): Promise<Operation | undefined>;
  /** The `Azure-AsyncOperation` reply for an operation. */
  statusReply(ctx: ArmContext, operation: Operation, style: LroStyle): ArmReply;
  /** The `Location` reply for an operation. */
  resultReply(ctx: ArmContext, operation: Operation, style: LroStyle): ArmReply;
  /** Completes every due operation; returns how many it settled. */
  runDue(): Promise<number>;
  startWorker(): void;
  stop(): Promise<void>;
}

function fromRow(row: OperationsTable): Operation {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status as OperationStatus,
    namespace: row.namespace,
    subscriptionId: row.subscription_id,
    location: row.location,
    targetKey: row.target_key,
    input: JSON.parse(row.input),
    result: row.result ? (JSON.parse(row.result) as OperationResult) : null,
    error: row.error ? JSON.parse(row.error) : null,
    startTime: row.start_time,
    endTime: row.end_time,
    dueAt: row.due_at,
  };
}

export function createLroEngine(options: {
  db: Db;
  clock: Clock;
  delayMs: number;
  pollMs?: number;
  /**
   * Runs in the transaction that completes (or fails) an operation, after its effect: what changes
   * with a write of `targetKey` (e.g. policy's evaluation-due records) is recorded there too.
   */
  afterTargetWritten?: (db: Db, targetKey: string) => Promise<void>;
}): LroEngine {
  const { db, clock } = options;
  const kinds = new Map<string, OperationKind>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;
  /** One-shot wake-ups for operations just started; cleared on stop so none fires into a closed store. */
  const wakeUps = new Set<NodeJS.Timeout>();
  /** The one wake-up for scheduled work: at the earliest due time known to this process. */
  let scheduledWakeUp: { timer: NodeJS.Timeout; atMs: number } | undefined;

  function wakeAt(atMs: number): void {
    if (stopped) return;
    if (scheduledWakeUp && scheduledWakeUp.atMs <= atMs) return;
    if (scheduledWakeUp) clearTimeout(scheduledWakeUp.timer);
    const timer = setTimeout(
      () => {
        scheduledWakeUp = undefined;
        if (!stopped) void engine.runDue().catch(() => undefined);
      },
      Math.max(0, atMs - clock.nowMs()) + 5,
    );
    timer.unref();
    scheduledWakeUp = { timer, atMs };
  }

  function urlFor(ctx: ArmContext, path: string, extraQuery?: string): string {
    const query = `api-version=${encodeURIComponent(ctx.apiVersion)}${extraQuery ? `&${extraQuery}` : ''}`;
    return `${ctx.baseUrl}${path}?${query}`;
  }

  function retryAfterSeconds(operation: Operation): number {
    const remaining = new Date(operation.dueAt).getTime() - clock.nowMs();
    return Math.min(600, Math.max(1, Math.ceil(remaining / 1000)));
  }

  function pollingHeaders(ctx: ArmContext, operation: Operation, style: LroStyle): Record<string, string> {
    const headers: Record<string, string> = {
      location: urlFor(ctx, style.resultPath(operation), style.resultQuery),
      'retry-after': String(retryAfterSeconds(operation)),
    };
    if (style.statusPath) headers['azure-asyncoperation'] = urlFor(ctx, style.statusPath(operation));
    return headers;
  }

  async function settle(id: string): Promise<void> {
    let failure: ArmError | undefined;
    try {
      await inTransaction(db, async (tx) => {
        const row = await tx.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst();
        if (row?.status !== 'InProgress') return;
        const operation = fromRow(row);
        const kind = kinds.get(operation.kind);
        if (!kind) throw errors.internal();
        const result = await kind.complete(tx, operation);
        if (!kind.leavesTargetUnchanged) await options.afterTargetWritten?.(tx, operation.targetKey);
        await tx
          .updateTable('operations')
          .set({ status: 'Succeeded', end_time: clock.now().toISOString(), result: JSON.stringify(result) })
          .where('id', '=', id)
          .where('status', '=', 'InProgress')
          .execute();
      });
    } catch (error) {
      failure = error instanceof ArmError ? error : errors.internal();
    }
    if (failure) {
      const body = { ...failure.toBody().error, status: failure.status };
      const markFailed = (database: Db) =>
        database
          .updateTable('operations')
          .set({ status: 'Failed', end_time: clock.now().toISOString(), error: JSON.stringify(body) })
          .where('id', '=', id)
          .where('status', '=', 'InProgress')
          .executeTakeFirst();
      const cause = failure;
      try {
        await inTransaction(db, async (tx) => {
          const row = await tx.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst();
          if (row?.status !== 'InProgress') return;
          await markFailed(tx);
          const kind = kinds.get(row.kind);
          await kind?.fail?.(tx, fromRow(row), cause);
          if (kind?.fail && !kind.leavesTargetUnchanged)
            await options.afterTargetWritten?.(tx, row.target_key);
        });
      } catch {
        // A failing `fail` hook must not leave the operation InProgress for ever.
        await markFailed(db);
      }
    }
  }

  async function runDueOnce(): Promise<number> {
    let settled = 0;
    for (;;) {
      const due = await db
        .selectFrom('operations')
        .select('id')
        .where('status', '=', 'InProgress')
        .where('due_at', '<=', clock.now().toISOString())
        .orderBy('due_at')
        .limit(100)
        .execute();
      for (const { id } of due) {
        await settle(id);
        settled++;
      }
      if (due.length < 100) break;
    }
    // Scheduled work due later (recorded by this process or, after a restart, by an earlier one).
    const next = await db
      .selectFrom('operations')
      .select('due_at')
      .where('status', '=', 'InProgress')
      .orderBy('due_at')
      .limit(1)
      .executeTakeFirst();
    if (next) wakeAt(Date.parse(next.due_at));
    return settled;
  }

  const engine: LroEngine = {
    registerKind(name, kind) {
      kinds.set(name, kind);
    },
    async start(ctx, start) {
      const now = clock.now();
      const operation: Operation = {
        id: randomUUID(),
        kind: start.kind,
        status: 'InProgress',
        namespace: start.namespace,
        subscriptionId: ctx.parsed.scope.subscriptionId?.toLowerCase() ?? null,
        location: start.location,
        targetKey: start.targetKey,
        input: start.input ?? {},
        result: null,
        error: null,
        startTime: now.toISOString(),
        endTime: null,
        dueAt: new Date(now.getTime() + options.delayMs).toISOString(),
      };
      await ctx.db
        .insertInto('operations')
        .values({
          id: operation.id,
          kind: operation.kind,
          status: operation.status,
          namespace: operation.namespace,
          subscription_id: operation.subscriptionId,
          location: operation.location,
          target_key: operation.targetKey,
          input: JSON.stringify(operation.input),
          result: null,
          error: null,
          start_time: operation.startTime,
          end_time: null,
          due_at: operation.dueAt,
        })
        .execute();
      if (!stopped) {
        const wakeUp = setTimeout(() => {
          wakeUps.delete(wakeUp);
          if (!stopped) void engine.runDue().catch(() => undefined);
        }, options.delayMs + 5);
        wakeUp.unref();
        wakeUps.add(wakeUp);
      }
      return { operation, headers: pollingHeaders(ctx, operation, start.style) };
    },
    async schedule(database, work) {
      const dueAt = work.dueAt.toISOString();
      const input = JSON.stringify(work.input ?? {});
      if (work.coalesce) {
        const moved = await database
          .updateTable('operations')
          .set({ due_at: dueAt, input })
          .where('target_key', '=', work.targetKey)
          .where('kind', '=', work.kind)
          .where('status', '=', 'InProgress')
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) > 0) {
          wakeAt(work.dueAt.getTime());
          return;
        }
      }
      await database
        .insertInto('operations')
        .values({
          id: randomUUID(),
          kind: work.kind,
          status: 'InProgress',
          namespace: work.namespace,
          subscription_id: work.subscriptionId,
          location: 'global',
          target_key: work.targetKey,
          input,
          result: null,
          error: null,
          start_time: clock.now().toISOString(),
          end_time: null,
          due_at: dueAt,
        })
        .execute();
      wakeAt(work.dueAt.getTime());
    },
    async get(database, id) {
      const row = await database.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    statusReply(ctx, operation, style) {
      const full: Record<string, unknown> = {
        id: style.statusPath ? style.statusPath(operation) : style.resultPath(operation),
        name: operation.id,
        status: operation.status,
        startTime: operation.startTime,
      };
      if (operation.endTime) full.endTime = operation.endTime;
      full.percentComplete = operation.status === 'InProgress' ? 0 : 100;
      if (operation.result?.statusProperties !== undefined)
        full.properties = operation.result.statusProperties;
      if (operation.error) {
        const { status: _status, ...error } = operation.error;
        full.error = error;
      }
      const body = style.statusMembers
        ? Object.fromEntries(
            style.statusMembers.filter((member) => member in full).map((member) => [member, full[member]]),
          )
        : full;
      const headers = operation.status === 'InProgress' ? pollingHeaders(ctx, operation, style) : {};
      return { status: 200, body, headers };
    },
    resultReply(ctx, operation, style) {
      if (operation.status === 'InProgress') {
        return { status: 202, headers: pollingHeaders(ctx, operation, style) };
      }
      if (operation.error) {
        const { status, ...error } = operation.error;
        return { status, body: { error } };
      }
      const final = operation.result?.final ?? { status: 200 };
      return { status: final.status, body: final.body };
    },
    runDue() {
      // One pass at a time: a pass started while another runs waits for it, then runs again.
      const next = (running ?? Promise.resolve(0)).then(() => runDueOnce());
      running = next.finally(() => {
        if (running === next) running = undefined;
      });
      return next;
    },
    startWorker() {
      stopped = false;
      timer = setInterval(() => void engine.runDue().catch(() => undefined), options.pollMs ?? 250);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      for (const wakeUp of wakeUps) clearTimeout(wakeUp);
      wakeUps.clear();
      if (scheduledWakeUp) clearTimeout(scheduledWakeUp.timer);
      scheduledWakeUp = undefined;
      await running?.catch(() => undefined);
    },
  };
  return engine;
}

/**
 * A resource type that serves an operation's status or result URL (e.g. Compute's
 * `locations/{location}/operations/{id}`). `monitor=true` on the query turns a status URL into a result URL.
 */
export function operationEndpoint(options: {
  namespace: string;
  type: string;
  apiVersions: readonly string[];
  style: LroStyle;
  serves: 'status' | 'result';
}): ResourceTypeDef {
  return {
    namespace: options.namespace,
    type: options.type,
    apiVersions: options.apiVersions,
    scopes: ['subscription'],
    async get(ctx) {
      const id = ctx.parsed.target.names[ctx.parsed.target.names.length - 1]!;
      const operation = await ctx.services.lro.get(ctx.db, id);
      if (!operation || operation.subscriptionId !== ctx.parsed.scope.subscriptionId?.toLowerCase()) {
        throw errors.scopedResourceNotFound(ctx.parsed.path);
      }
      const wantsResult = options.serves === 'result' || ctx.query.monitor?.toLowerCase() === 'true';
      return wantsResult
        ? ctx.services.lro.resultReply(ctx, operation, options.style)
        : ctx.services.lro.statusReply(ctx, operation, options.style);
    },
  };
}
