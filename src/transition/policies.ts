/**
 * The pipeline policy that paces requests: it runs after signing, once per attempt (retries included),
 * so every request that reaches the wire has taken a token from the client's mirror of ARM's buckets
 * and holds one of a few concurrency slots while it is in flight. Waiting for a token (or for a 429's
 * `Retry-After`, which the retry policy sleeps) never holds a slot. Each reply tells the limiter
 * whether the server announces its buckets at all (see Metering in `rateLimits.ts`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PipelinePolicy, PipelineResponse } from '@azure/core-rest-pipeline';
import { announcesLimits, type RateLimiter, remainingOf, retryAfterMsOf } from './rateLimits.js';

const RATE_LIMIT_POLICY_NAME = 'vaplaneArmRateLimitPolicy';

export function rateLimitPolicy(options: { limiter?: RateLimiter; maxConcurrency: number }): PipelinePolicy {
  const slots = createSemaphore(options.maxConcurrency);
  const { limiter } = options;
  return {
    name: RATE_LIMIT_POLICY_NAME,
    async sendRequest(request, next) {
      const signal = request.abortSignal as AbortSignal | undefined;
      const reservation = limiter?.reserve(request.method, request.url);
      if (limiter && reservation) {
        try {
          // The wait can grow while it runs (a reply lowered the bucket), so look again after each sleep.
          for (let wait = limiter.waitMs(reservation); wait > 0; wait = limiter.waitMs(reservation)) {
            await sleep(wait, undefined, { signal });
          }
        } catch (error) {
          limiter.cancel(reservation);
          throw error;
        }
      }
      await slots.acquire();
      if (limiter && reservation) limiter.sent(reservation);
      let response: PipelineResponse;
      try {
        response = await next(request);
      } catch (error) {
        // No reply: nothing to learn about the server's bucket, but a probe is over all the same.
        if (limiter && reservation) limiter.observe(reservation, { status: 0 });
        throw error;
      } finally {
        slots.release();
      }
      if (limiter && reservation) {
        const header = (name: string) => response.headers.get(name);
        limiter.observe(reservation, {
          status: response.status,
          remaining: remainingOf(header, reservation),
          retryAfterMs: retryAfterMsOf(header),
          announced: announcesLimits(Array.from(response.headers, ([name]) => name)),
        });
      }
      return response;
    },
  };
}

interface Semaphore {
  acquire(): Promise<void>;
  release(): void;
}

/** At most `limit` holders at once; waiters are served first come, first served. */
export function createSemaphore(limit: number): Semaphore {
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`Concurrency must be a whole number ≥ 1, not ${limit}.`);
  let held = 0;
  const waiting: (() => void)[] = [];
  return {
    acquire() {
      if (held < limit) {
        held++;
        return Promise.resolve();
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    release() {
      const nextHolder = waiting.shift();
      if (nextHolder) nextHolder();
      else held--;
    },
  };
}
