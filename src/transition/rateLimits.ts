/**
 * A client-side mirror of ARM's request limits, so that a run paces itself instead of collecting 429s.
 *
 * ARM meters every principal per subscription (or per tenant, for requests outside a subscription)
 * and per operation kind with token buckets: reads 250 burst refilled at 25 per second, writes and
 * deletes 200 burst at 10 per second (learn.microsoft.com, "Understand how Azure Resource Manager
 * throttles requests", regional throttling and token bucket algorithm). One client is one principal,
 * so its buckets are keyed by (scope, kind).
 *
 * A request reserves its token before it is sent; reservations queue behind each other, so a burst
 * of calls gets a schedule rather than a race; a reservation's wait is worked out from the bucket as
 * it stands whenever it is asked, so anything that lowers the bucket delays every queued request.
 * What a reply reports can only lower the bucket (another process with the same principal, a bucket
 * that was not full): `x-ms-ratelimit-remaining-*`, and a 429, which also pauses the bucket for
 * `Retry-After`. A small safety reserve absorbs the difference between when the client takes a token
 * and when the server does.
 *
 * Metering: Azure announces its buckets on every reply (recorded ARM traffic carries an
 * `x-ms-ratelimit-remaining-*` header on all but a few 404s), and so does a vaplane server under
 * `--throttle arm`. A server that answers a request with success and no such header meters nothing
 * (a vaplane server with throttling off): the client then stops pacing — reservations go at once —
 * until a reply announces a bucket or answers 429, after which the documented limits apply again for
 * the rest of the run (with the 429's pause). Only a reply the policy marks `announced: false` is such
 * evidence, so a caller that reports no headers keeps the documented limits.
 *
 * Pure: time comes from the injected `now`; waiting is the caller's business.
 */

export type OperationKind = 'reads' | 'writes' | 'deletes';

export interface BucketLimit {
  burst: number;
  perSecond: number;
}

export type RateLimits = Record<OperationKind, BucketLimit>;

export const ARM_LIMITS: RateLimits = {
  reads: { burst: 250, perSecond: 25 },
  writes: { burst: 200, perSecond: 10 },
  deletes: { burst: 200, perSecond: 10 },
};

const RATE_LIMIT_HEADER_PREFIX = 'x-ms-ratelimit-remaining-';

/** The scope of requests that name no subscription (management groups, `GET /subscriptions`, …). */
export const TENANT_SCOPE = 'tenant';

/** ARM counts GET and HEAD as reads, DELETE as deletes, and every other method (PUT, PATCH, POST) as writes. */
export function operationKindOf(method: string): OperationKind {
  const upper = method.toUpperCase();
  if (upper === 'GET' || upper === 'HEAD') return 'reads';
  return upper === 'DELETE' ? 'deletes' : 'writes';
}

/** The subscription (lower case) a request is counted against, or `tenant`. Takes a path or an absolute URL. */
export function rateScopeOf(pathOrUrl: string): string {
  const path = pathOrUrl.startsWith('/') ? pathOrUrl.split(/[?#]/, 1)[0]! : new URL(pathOrUrl).pathname;
  const subscription = /^\/subscriptions\/([^/]+)/i.exec(path.replace(/\/{2,}/g, '/'))?.[1];
  return subscription ? decodeURIComponent(subscription).toLowerCase() : TENANT_SCOPE;
}

/** The header in which ARM reports what remains of the bucket a request was counted against. */
export function remainingHeaderName(scope: string, kind: OperationKind): string {
  return `${RATE_LIMIT_HEADER_PREFIX}${scope === TENANT_SCOPE ? 'tenant' : 'subscription'}-${kind}`;
}

/**
 * The least time, in seconds, that `counts` requests against one scope can take when every bucket
 * starts full: the kinds refill in parallel, so the slowest kind decides.
 */
export function minimumSeconds(counts: Partial<Record<OperationKind, number>>, limits = ARM_LIMITS): number {
  let slowest = 0;
  for (const kind of Object.keys(limits) as OperationKind[]) {
    const count = counts[kind] ?? 0;
    const limit = limits[kind];
    slowest = Math.max(slowest, Math.max(0, count - limit.burst) / limit.perSecond);
  }
  return slowest;
}

/** A token taken for one request: its place in its bucket's queue, and whether it went out. */
export interface Reservation {
  readonly scope: string;
  readonly kind: OperationKind;
  /** The bucket's count of tokens taken when this one was (this one included); 0 when not metered. */
  readonly ticket: number;
  /** Taken while the server was known to meter nothing: no token, no wait. */
  readonly unmetered?: boolean;
  /** When the request went on the wire (set by `sent`). */
  sentAt?: number;
  cancelled?: boolean;
}

/** What a reply says about the server's bucket. */
export interface Observation {
  status: number;
  /** The `x-ms-ratelimit-remaining-*` value for the request's scope and kind, when sent. */
  remaining?: number;
  /** The wait a 429 asks for, in milliseconds. */
  retryAfterMs?: number;
  /**
   * Whether the reply carried any `x-ms-ratelimit-remaining-*` header (for any bucket, under any
   * name); `false` is evidence that the server meters nothing, absent is none.
   */
  announced?: boolean;
}

export interface RateLimiter {
  /** Takes a token for a request; call `waitMs` to learn when it may be sent. */
  reserve(method: string, pathOrUrl: string): Reservation;
  /** How long the request must still wait (0 when it may go now); may grow after `observe`. */
  waitMs(reservation: Reservation): number;
  /** The request goes on the wire now. */
  sent(reservation: Reservation): void;
  /** The request will not be sent (aborted while it waited); its token stays taken. */
  cancel(reservation: Reservation): void;
  /** Lowers the bucket from what the server reported for a sent request. */
  observe(reservation: Reservation, observation: Observation): void;
  /** The bucket's current tokens, as the client believes (negative while reservations queue). */
  tokens(scope: string, kind: OperationKind): number;
  /** `unknown` until a reply says; `unmetered` while the server announces no limit (see above). */
  metering(): Metering;
}

export type Metering = 'unknown' | 'metered' | 'unmetered';

export interface RateLimiterOptions {
  /** Milliseconds on a monotonic clock. */
  now: () => number;
  limits?: RateLimits;
  /**
   * Seconds of refill kept in reserve, so that the server (which takes its token when the request
   * arrives, later than the client) is never short. Costs this much time over a whole run.
   */
  safetySeconds?: number;
  /**
   * A new bucket sends one request alone and waits for its reply before the rest: a fresh process
   * does not know what the server's bucket still holds (a `plan` run just before may have emptied
   * it), and a full burst on a guess is refused with 429s. Off in unit tests of the bucket maths.
   */
  probeFirst?: boolean;
}

/** How often a request queued behind a bucket's probe looks again. */
const PROBE_POLL_MS = 10;

interface Bucket {
  limit: BucketLimit;
  reserve: number;
  /** Tokens after every reservation so far: negative while reservations queue. */
  tokens: number;
  at: number;
  /** Tokens taken so far. */
  taken: number;
  /** Reservations not sent yet: certainly not counted by the server. */
  pending: number;
  /**
   * The bucket refills only once its first request has gone out: ARM's bucket starts draining when a
   * request arrives, and a burst queued behind other work must not earn refill while it waits.
   */
  started: boolean;
  pausedUntil: number;
  /** Whether the server has told what it holds (or probing is off). */
  known: boolean;
}

const DEFAULT_SAFETY_SECONDS = 0.25;

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const limits = options.limits ?? ARM_LIMITS;
  const safetySeconds = options.safetySeconds ?? DEFAULT_SAFETY_SECONDS;
  const buckets = new Map<string, Bucket>();
  let metering: Metering = 'unknown';

  function bucketOf(scope: string, kind: OperationKind): Bucket {
    const key = `${scope}|${kind}`;
    let bucket = buckets.get(key);
    if (!bucket) {
      const limit = limits[kind];
      bucket = {
        limit,
        reserve: Math.min(limit.burst - 1, safetySeconds * limit.perSecond),
        tokens: limit.burst,
        at: options.now(),
        taken: 0,
        pending: 0,
        started: false,
        pausedUntil: 0,
        known: !options.probeFirst,
      };
      buckets.set(key, bucket);
    }
    return bucket;
  }

  function refill(bucket: Bucket, now: number): void {
    if (now <= bucket.at) return;
    if (bucket.started) {
      const refilled = bucket.tokens + ((now - bucket.at) / 1000) * bucket.limit.perSecond;
      bucket.tokens = Math.min(bucket.limit.burst, refilled);
    }
    bucket.at = now;
  }

  function settle(reservation: Reservation): Bucket | undefined {
    if (reservation.sentAt !== undefined || reservation.cancelled || reservation.unmetered) return undefined;
    const bucket = bucketOf(reservation.scope, reservation.kind);
    bucket.pending -= 1;
    return bucket;
  }

  return {
    reserve(method, pathOrUrl) {
      const scope = rateScopeOf(pathOrUrl);
      const kind = operationKindOf(method);
      if (metering === 'unmetered') return { scope, kind, ticket: 0, unmetered: true };
      const bucket = bucketOf(scope, kind);
      refill(bucket, options.now());
      bucket.tokens -= 1;
      bucket.taken += 1;
      bucket.pending += 1;
      return { scope, kind, ticket: bucket.taken };
    },
    waitMs(reservation) {
      // Reservations queued before the server showed it meters nothing go too.
      if (reservation.unmetered || metering === 'unmetered') return 0;
      const bucket = bucketOf(reservation.scope, reservation.kind);
      const now = options.now();
      refill(bucket, now);
      // The bucket as it stood for this reservation: without the tokens taken after it.
      const level = bucket.tokens + (bucket.taken - reservation.ticket);
      const refillMs = (Math.max(0, bucket.reserve - level) / bucket.limit.perSecond) * 1000;
      const probeMs = !bucket.known && reservation.ticket > 1 ? PROBE_POLL_MS : 0;
      return Math.max(refillMs, bucket.pausedUntil - now, probeMs, 0);
    },
    sent(reservation) {
      if (reservation.unmetered && reservation.sentAt === undefined) reservation.sentAt = options.now();
      const bucket = settle(reservation);
      if (!bucket) return;
      const now = options.now();
      refill(bucket, now);
      bucket.started = true;
      reservation.sentAt = now;
    },
    cancel(reservation) {
      const bucket = settle(reservation);
      if (!bucket) return;
      reservation.cancelled = true;
      // A cancelled probe tells nothing; the next request must not wait for it forever.
      if (reservation.ticket === 1) bucket.known = true;
    },
    observe(reservation, observation) {
      const { sentAt } = reservation;
      if (sentAt === undefined) return;
      if (observation.status === 429 || observation.announced === true) metering = 'metered';
      else if (
        metering === 'unknown' &&
        observation.announced === false &&
        observation.status >= 200 &&
        observation.status < 300
      ) {
        metering = 'unmetered';
      }
      if (metering === 'unmetered') return;
      const bucket = bucketOf(reservation.scope, reservation.kind);
      const now = options.now();
      refill(bucket, now);
      // A request sent unmetered has not started its bucket's refill.
      bucket.started = true;
      // Any reply ends the probe: with a remaining count the bucket adapts below; without one (a
      // server that reports none) the documented limits are all there is to go by.
      bucket.known = true;
      // The most the server can hold now, as the client counts: what it reported when it counted
      // this request (floored, so up to one more), plus its refill since the request went out, less
      // the reservations not sent yet. Requests in flight are not subtracted: the server may have
      // counted them already (replies come back out of order), and subtracting them twice would
      // lower the bucket a little on every reply.
      const ceiling = (remaining: number) =>
        remaining + 1 + ((now - sentAt) / 1000) * bucket.limit.perSecond - bucket.pending;
      if (observation.remaining !== undefined && Number.isFinite(observation.remaining)) {
        bucket.tokens = Math.min(bucket.tokens, ceiling(observation.remaining));
      }
      if (observation.status === 429) {
        bucket.tokens = Math.min(bucket.tokens, ceiling(0));
        if (observation.retryAfterMs !== undefined) {
          bucket.pausedUntil = Math.max(bucket.pausedUntil, now + observation.retryAfterMs);
        }
      }
    },
    tokens(scope, kind) {
      const bucket = bucketOf(scope, kind);
      refill(bucket, options.now());
      return bucket.tokens;
    },
    metering: () => metering,
  };
}

/**
 * The wait a reply asks for, in milliseconds: `retry-after-ms` and `x-ms-retry-after-ms` (ms), else
 * `Retry-After` as seconds or an HTTP date. The same headers the Azure SDK retry policies read.
 */
export function retryAfterMsOf(
  header: (name: string) => string | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = Number(header(name));
    if (header(name) !== undefined && Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = header('retry-after')?.trim();
  if (!retryAfter) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(retryAfter);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}

/** Whether a reply announces any of ARM's buckets (`x-ms-ratelimit-remaining-*`, under any name). */
export function announcesLimits(headerNames: Iterable<string>): boolean {
  for (const name of headerNames) if (name.toLowerCase().startsWith(RATE_LIMIT_HEADER_PREFIX)) return true;
  return false;
}

/** The remaining-token count a reply reports for the request's bucket, if it reports one. */
export function remainingOf(
  header: (name: string) => string | undefined,
  reservation: Pick<Reservation, 'scope' | 'kind'>,
): number | undefined {
  const value = header(remainingHeaderName(reservation.scope, reservation.kind));
  if (value === undefined || value.trim() === '') return undefined;
  const remaining = Number(value);
  return Number.isFinite(remaining) ? remaining : undefined;
}
