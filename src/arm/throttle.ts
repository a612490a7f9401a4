/**
 * ARM's request limits, per principal and subscription, as token buckets: reads 250 burst refilled at
 * 25 per second, writes and deletes 200 burst at 10 per second (Azure's documented figures for the
 * token-bucket algorithm). `arm` mode answers 429 SubscriptionRequestsThrottled with `Retry-After` when
 * a bucket is empty and reports what remains in `x-ms-ratelimit-remaining-{subscription|tenant}-*`; `off` skips
 * the accounting. Buckets refill by the server clock.
 */
import type { Clock } from '../clock.js';
import { errors } from './errors.js';
import type { Principal } from './identity.js';

export type ThrottleMode = 'arm' | 'off';
type Kind = 'reads' | 'writes' | 'deletes';

const LIMITS: Record<Kind, { burst: number; perSecond: number }> = {
  reads: { burst: 250, perSecond: 25 },
  writes: { burst: 200, perSecond: 10 },
  deletes: { burst: 200, perSecond: 10 },
};

const SINGULAR = { reads: 'read', writes: 'write', deletes: 'delete' } as const;

export interface Throttle {
  /** Takes one token for the request or throws 429; returns headers to add to the response. */
  take(principal: Principal, method: string, path: string): { headers: Record<string, string> };
}

export function createThrottle(mode: ThrottleMode, clock: Clock): Throttle {
  if (mode === 'off') return { take: () => ({ headers: {} }) };
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(principal, method, path) {
      const kind: Kind =
        method === 'GET' || method === 'HEAD' ? 'reads' : method === 'DELETE' ? 'deletes' : 'writes';
      const subscription = /^\/subscriptions\/([^/]+)/i.exec(path)?.[1]?.toLowerCase() ?? 'tenant';
      const key = `${principal.objectId}|${subscription}|${kind}`;
      const limit = LIMITS[kind];
      const now = clock.nowMs();
      const bucket = buckets.get(key) ?? { tokens: limit.burst, at: now };
      bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
      bucket.at = now;
      buckets.set(key, bucket);
      if (bucket.tokens < 1) {
        // Seconds until the bucket holds a whole token again, at least 1 (ARM never says 0).
        const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond));
        throw errors.tooManyRequests(retryAfter, SINGULAR[kind], `${subscription}:${principal.objectId}`);
      }
      bucket.tokens -= 1;
      return {
        // Requests outside a subscription (GET /subscriptions, management groups) count against the
        // tenant, and ARM reports them under the tenant header names.
        headers: {
          [`x-ms-ratelimit-remaining-${subscription === 'tenant' ? 'tenant' : 'subscription'}-${kind}`]:
            String(Math.floor(bucket.tokens)),
        },
      };
    },
  };
}
