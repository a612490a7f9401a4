import { describe, expect, it } from 'vitest';
import {
  ARM_LIMITS,
  announcesLimits,
  createRateLimiter,
  minimumSeconds,
  operationKindOf,
  rateScopeOf,
  remainingHeaderName,
  remainingOf,
  retryAfterMsOf,
} from './rateLimits.js';

const SUB = '51111111-2222-4333-8444-555555555555';
const RG = `/subscriptions/${SUB}/resourceGroups/rg`;

function manualClock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** A limiter without the safety reserve, so the figures are ARM's own. */
function exactLimiter(clock = manualClock()) {
  return { clock, limiter: createRateLimiter({ now: clock.now, safetySeconds: 0 }) };
}

describe('operation kind and scope', () => {
  it('counts GET and HEAD as reads, DELETE as deletes, PUT, PATCH and POST as writes', () => {
    expect(['GET', 'head'].map(operationKindOf)).toEqual(['reads', 'reads']);
    expect(operationKindOf('DELETE')).toBe('deletes');
    expect(['PUT', 'PATCH', 'POST'].map(operationKindOf)).toEqual(['writes', 'writes', 'writes']);
  });

  it('finds the subscription in a path or URL, case-insensitively; anything else is the tenant', () => {
    expect(rateScopeOf(`/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourcegroups/x`)).toBe(SUB);
    expect(rateScopeOf(`https://management.azure.com/subscriptions/${SUB}?api-version=2022-12-01`)).toBe(SUB);
    expect(
      rateScopeOf(
        `https://management.azure.com//subscriptions/${SUB}/providers/Microsoft.Compute/locations/westeurope/operations/1?api-version=2024-03-01`,
      ),
    ).toBe(SUB);
    expect(rateScopeOf('/subscriptions?api-version=2022-12-01')).toBe('tenant');
    expect(rateScopeOf('/providers/Microsoft.Management/managementGroups/mg1/subscriptions')).toBe('tenant');
  });

  it('reads the remaining-tokens header of the request’s own scope and kind', () => {
    expect(remainingHeaderName(SUB, 'writes')).toBe('x-ms-ratelimit-remaining-subscription-writes');
    expect(remainingHeaderName('tenant', 'reads')).toBe('x-ms-ratelimit-remaining-tenant-reads');
    const headers: Record<string, string> = {
      'x-ms-ratelimit-remaining-subscription-deletes': '17',
      'x-ms-ratelimit-remaining-subscription-reads': '',
    };
    const header = (name: string) => headers[name];
    expect(remainingOf(header, { scope: SUB, kind: 'deletes' })).toBe(17);
    expect(remainingOf(header, { scope: SUB, kind: 'reads' })).toBeUndefined();
    expect(remainingOf(header, { scope: SUB, kind: 'writes' })).toBeUndefined();
  });

  it('reads Retry-After as seconds or a date, preferring the millisecond headers', () => {
    const of = (headers: Record<string, string>) => retryAfterMsOf((name) => headers[name], 1_000_000);
    expect(of({ 'retry-after': '3' })).toBe(3000);
    expect(of({ 'retry-after': '0' })).toBe(0);
    expect(of({ 'retry-after': '2', 'retry-after-ms': '150' })).toBe(150);
    expect(of({ 'x-ms-retry-after-ms': '40' })).toBe(40);
    expect(of({ 'retry-after': new Date(1_000_000 + 5000).toUTCString() })).toBe(5000);
    expect(of({ 'retry-after': 'soon' })).toBeUndefined();
    expect(of({})).toBeUndefined();
  });
});

describe('token buckets', () => {
  it('lets a burst of 250 reads go at once, then one every 40 ms (25 per second)', () => {
    const { limiter } = exactLimiter();
    const waits = Array.from({ length: 260 }, () => limiter.waitMs(limiter.reserve('GET', RG)));
    expect(waits.slice(0, 250).every((wait) => wait === 0)).toBe(true);
    expect(waits[250]).toBeCloseTo(40);
    expect(waits[259]).toBeCloseTo(400);
  });

  it('writes and deletes have 200 burst at 10 per second, each in its own bucket', () => {
    const { limiter } = exactLimiter();
    const writes = Array.from({ length: 202 }, () => limiter.waitMs(limiter.reserve('PUT', RG)));
    expect(writes[199]).toBe(0);
    expect(writes[200]).toBeCloseTo(100);
    expect(writes[201]).toBeCloseTo(200);
    expect(limiter.waitMs(limiter.reserve('DELETE', RG))).toBe(0);
    expect(limiter.waitMs(limiter.reserve('GET', RG))).toBe(0);
  });

  it('keeps separate buckets per subscription and for the tenant', () => {
    const { limiter } = exactLimiter();
    for (let k = 0; k < 200; k++) limiter.reserve('POST', RG);
    expect(limiter.waitMs(limiter.reserve('POST', RG))).toBeGreaterThan(0);
    expect(limiter.waitMs(limiter.reserve('POST', '/subscriptions/other/resourceGroups/rg'))).toBe(0);
    expect(
      limiter.waitMs(limiter.reserve('PUT', '/providers/Microsoft.Management/managementGroups/mg')),
    ).toBe(0);
  });

  it('refills by the clock, once its first request has gone out, and never above the burst', () => {
    const { clock, limiter } = exactLimiter();
    for (let k = 0; k < 200; k++) limiter.reserve('PUT', RG);
    clock.advance(1_000);
    expect(limiter.tokens(SUB, 'writes')).toBe(0);
    limiter.sent(limiter.reserve('PUT', RG));
    expect(limiter.tokens(SUB, 'writes')).toBe(-1);
    clock.advance(100);
    expect(limiter.tokens(SUB, 'writes')).toBeCloseTo(0);
    clock.advance(2_500);
    expect(limiter.tokens(SUB, 'writes')).toBeCloseTo(25);
    clock.advance(3_600_000);
    expect(limiter.tokens(SUB, 'writes')).toBe(200);
  });

  it('a waiting reservation becomes due as its time passes', () => {
    const { clock, limiter } = exactLimiter();
    for (let k = 0; k < 200; k++) limiter.sent(limiter.reserve('DELETE', RG));
    const late = limiter.reserve('DELETE', RG);
    expect(limiter.waitMs(late)).toBeCloseTo(100);
    clock.advance(60);
    expect(limiter.waitMs(late)).toBeCloseTo(40);
    clock.advance(40);
    expect(limiter.waitMs(late)).toBe(0);
  });

  it('keeps a safety reserve of a quarter second of refill by default', () => {
    const limiter = createRateLimiter({ now: manualClock().now });
    const waits = Array.from({ length: 200 }, () => limiter.waitMs(limiter.reserve('PUT', RG)));
    // 2.5 tokens held back: the 198th write is the first to wait, until the bucket is back at 2.5.
    expect(waits.filter((wait) => wait === 0)).toHaveLength(197);
    expect(waits[197]).toBeCloseTo(50);
  });
});

describe('adapting to what the server reports', () => {
  it('lowers the bucket when the server says fewer remain, counting the reservations not sent yet', () => {
    const { limiter } = exactLimiter();
    const first = limiter.reserve('GET', RG);
    limiter.sent(first);
    for (let k = 0; k < 9; k++) limiter.reserve('GET', RG);
    expect(limiter.tokens(SUB, 'reads')).toBe(240);
    // Another process with the same principal used 150 reads: the server had 99 (floored) after `first`.
    limiter.observe(first, { status: 200, remaining: 99 });
    expect(limiter.tokens(SUB, 'reads')).toBe(91);
  });

  it('never raises the bucket from a header (a legacy hourly figure such as 11999 changes nothing)', () => {
    const { limiter } = exactLimiter();
    const reservation = limiter.reserve('PUT', RG);
    limiter.sent(reservation);
    limiter.observe(reservation, { status: 200, remaining: 11_999 });
    expect(limiter.tokens(SUB, 'writes')).toBe(199);
  });

  it('does not lower the bucket for requests in flight, which the server may have counted already', () => {
    const { limiter } = exactLimiter();
    const inFlight = Array.from({ length: 16 }, () => limiter.reserve('GET', RG));
    for (const reservation of inFlight) limiter.sent(reservation);
    // The 16th request reached the server first (the others waited for TLS handshakes).
    limiter.observe(inFlight[15]!, { status: 200, remaining: 249 });
    limiter.observe(inFlight[0]!, { status: 200, remaining: 234 });
    expect(limiter.tokens(SUB, 'reads')).toBe(234);
  });

  it('does not lower the bucket for the refill the server gained while a slow reply travelled', () => {
    const { clock, limiter } = exactLimiter();
    for (let k = 0; k < 199; k++) limiter.sent(limiter.reserve('PUT', RG));
    const last = limiter.reserve('PUT', RG);
    limiter.sent(last);
    clock.advance(300);
    // In step with the client: the server took the token at once (0 left, then 3 refilled).
    limiter.observe(last, { status: 200, remaining: 0 });
    expect(limiter.tokens(SUB, 'writes')).toBeCloseTo(3);
  });

  it('pushes back reservations already queued by as much as the bucket was lowered', () => {
    const { limiter } = exactLimiter();
    const first = limiter.reserve('PUT', RG);
    limiter.sent(first);
    for (let k = 0; k < 199; k++) limiter.reserve('PUT', RG);
    const queued = limiter.reserve('PUT', RG);
    const last = limiter.reserve('PUT', RG);
    expect(limiter.waitMs(queued)).toBeCloseTo(100);
    expect(limiter.waitMs(last)).toBeCloseTo(200);
    // The server reports 194 left instead of 199: less one for its rounding down, 4 tokens the client
    // did not know were gone, so every queued write goes 0.4 s later.
    limiter.observe(first, { status: 201, remaining: 194 });
    expect(limiter.waitMs(queued)).toBeCloseTo(500);
    expect(limiter.waitMs(last)).toBeCloseTo(600);
  });

  it('a 429 empties the bucket and pauses it for Retry-After', () => {
    const { clock, limiter } = exactLimiter();
    const throttled = limiter.reserve('GET', RG);
    limiter.sent(throttled);
    limiter.observe(throttled, { status: 429, retryAfterMs: 3000 });
    const next = limiter.reserve('GET', RG);
    expect(limiter.waitMs(next)).toBe(3000);
    clock.advance(3000);
    expect(limiter.waitMs(next)).toBe(0);
    expect(limiter.tokens(SUB, 'reads')).toBeCloseTo(75);
  });

  it('a burst queued behind other work earns no refill before its first request goes out', () => {
    const { clock, limiter } = exactLimiter();
    const burst = Array.from({ length: 201 }, () => limiter.reserve('PUT', RG));
    clock.advance(500);
    limiter.sent(burst[0]!);
    expect(limiter.waitMs(burst[199]!)).toBe(0);
    expect(limiter.waitMs(burst[200]!)).toBeCloseTo(100);
  });

  it('ignores replies to requests never sent, and a cancelled reservation no longer counts as pending', () => {
    const { limiter } = exactLimiter();
    const unsent = limiter.reserve('DELETE', RG);
    limiter.observe(unsent, { status: 200, remaining: 0 });
    expect(limiter.tokens(SUB, 'deletes')).toBe(199);
    limiter.cancel(unsent);
    const next = limiter.reserve('DELETE', RG);
    limiter.sent(next);
    limiter.observe(next, { status: 200, remaining: 150 });
    expect(limiter.tokens(SUB, 'deletes')).toBe(151);
  });
});

describe('minimumSeconds', () => {
  it('is the time the slowest bucket needs after its burst; kinds refill in parallel', () => {
    expect(minimumSeconds({ reads: 600, writes: 300 })).toBe(14);
    expect(minimumSeconds({ writes: 300 })).toBe(10);
    expect(minimumSeconds({ reads: 250, writes: 200, deletes: 200 })).toBe(0);
    expect(minimumSeconds({ deletes: 1200 })).toBe(100);
    expect(minimumSeconds({ reads: 35 }, { ...ARM_LIMITS, reads: { burst: 10, perSecond: 5 } })).toBe(5);
  });
});

describe('probing a bucket a fresh process knows nothing about', () => {
  const RG_PATH = '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg';

  it('sends one request alone, then adapts the rest to what the server reported', () => {
    let now = 0;
    const limiter = createRateLimiter({ now: () => now, probeFirst: true });
    const probe = limiter.reserve('GET', RG_PATH);
    const queued = Array.from({ length: 50 }, () => limiter.reserve('GET', RG_PATH));
    expect(limiter.waitMs(probe)).toBe(0);
    expect(queued.every((reservation) => limiter.waitMs(reservation) > 0)).toBe(true);
    limiter.sent(probe);
    now += 5;
    // A `plan` run just before left the server's bucket nearly empty.
    limiter.observe(probe, { status: 200, remaining: 3 });
    // The first few go almost at once (after the safety reserve refills); the last waits for refill.
    expect(limiter.waitMs(queued[0]!)).toBeLessThan(250);
    expect(limiter.waitMs(queued[49]!)).toBeGreaterThan(1000);
  });

  it('a probe that fails or is cancelled releases the queue', () => {
    const limiter = createRateLimiter({ now: () => 0, probeFirst: true });
    const probe = limiter.reserve('PUT', RG_PATH);
    const next = limiter.reserve('PUT', RG_PATH);
    limiter.cancel(probe);
    expect(limiter.waitMs(next)).toBe(0);
    const failed = createRateLimiter({ now: () => 0, probeFirst: true });
    const first = failed.reserve('DELETE', RG_PATH);
    const second = failed.reserve('DELETE', RG_PATH);
    failed.sent(first);
    failed.observe(first, { status: 0 });
    expect(failed.waitMs(second)).toBe(0);
  });
});

describe('a server that announces no bucket', () => {
  const OTHER = '/subscriptions/61111111-2222-4333-8444-555555555555/resourceGroups/rg';

  it('reads any x-ms-ratelimit-remaining-* header, under any name, as an announcement', () => {
    expect(announcesLimits(['content-type', 'x-ms-ratelimit-remaining-subscription-reads'])).toBe(true);
    expect(announcesLimits(['X-Ms-Ratelimit-Remaining-Subscription-Resource-Requests'])).toBe(true);
    expect(announcesLimits(['content-type', 'x-ms-request-id'])).toBe(false);
  });

  it('after a success without an announcement, nothing waits: not the queue behind a probe, not a drained bucket', () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ now: clock.now, probeFirst: true });
    const probe = limiter.reserve('GET', RG);
    const queued = Array.from({ length: 400 }, () => limiter.reserve('GET', RG));
    expect(limiter.waitMs(queued[0]!)).toBeGreaterThan(0);
    limiter.sent(probe);
    limiter.observe(probe, { status: 200, announced: false });
    expect(limiter.metering()).toBe('unmetered');
    expect(queued.every((reservation) => limiter.waitMs(reservation) === 0)).toBe(true);
    const later = Array.from({ length: 1000 }, () => limiter.reserve('DELETE', OTHER));
    expect(later.every((reservation) => limiter.waitMs(reservation) === 0)).toBe(true);
  });

  it('an error reply without an announcement is no evidence; a reply that announces keeps the limits for good', () => {
    const { limiter } = exactLimiter();
    const missing = limiter.reserve('GET', RG);
    limiter.sent(missing);
    limiter.observe(missing, { status: 404, announced: false });
    expect(limiter.metering()).toBe('unknown');
    const announced = limiter.reserve('GET', RG);
    limiter.sent(announced);
    limiter.observe(announced, { status: 200, remaining: 248, announced: true });
    const silent = limiter.reserve('GET', RG);
    limiter.sent(silent);
    limiter.observe(silent, { status: 200, announced: false });
    expect(limiter.metering()).toBe('metered');
    const burst = Array.from({ length: 300 }, () => limiter.reserve('GET', RG));
    expect(limiter.waitMs(burst[299]!)).toBeGreaterThan(1000);
  });

  it('a 429 brings the documented limits back, with its pause, and the bucket refills from then on', () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ now: clock.now, safetySeconds: 0 });
    const first = limiter.reserve('PUT', RG);
    limiter.sent(first);
    limiter.observe(first, { status: 201, announced: false });
    const unmetered = Array.from({ length: 500 }, () => limiter.reserve('PUT', RG));
    for (const reservation of unmetered) limiter.sent(reservation);
    limiter.observe(unmetered[499]!, { status: 429, retryAfterMs: 2000, announced: false });
    expect(limiter.metering()).toBe('metered');
    const next = limiter.reserve('PUT', RG);
    expect(limiter.waitMs(next)).toBe(2000);
    clock.advance(2000);
    expect(limiter.waitMs(next)).toBe(0);
  });
});
