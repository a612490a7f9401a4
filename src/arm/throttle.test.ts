import { describe, expect, it } from 'vitest';
import type { Clock } from '../clock.js';
import { ArmError } from './errors.js';
import type { Principal } from './identity.js';
import { createThrottle } from './throttle.js';

const SUB = '51111111-2222-4333-8444-555555555555';
const alice: Principal = {
  objectId: 'aaaaaaaa-0000-4000-8000-000000000001',
  clientId: 'alice',
  tenantId: 't',
  name: 'alice',
  type: 'User',
};
const bob: Principal = { ...alice, objectId: 'bbbbbbbb-0000-4000-8000-000000000002', name: 'bob' };

function manualClock(): Clock & { advance(ms: number): void } {
  let now = Date.parse('2025-01-01T00:00:00Z');
  return { now: () => new Date(now), nowMs: () => now, advance: (ms) => (now += ms) };
}

function refusal(run: () => unknown): ArmError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ArmError);
    return error as ArmError;
  }
  throw new Error('not throttled');
}

describe('throttle', () => {
  it('off never throttles and adds no headers', () => {
    const throttle = createThrottle('off', manualClock());
    for (let k = 0; k < 1000; k++)
      expect(throttle.take(alice, 'GET', `/subscriptions/${SUB}`).headers).toEqual({});
  });

  it('allows a burst of 250 reads, counting down the remaining header, then answers 429 with Retry-After', () => {
    const throttle = createThrottle('arm', manualClock());
    const path = `/subscriptions/${SUB}/resourceGroups`;
    expect(throttle.take(alice, 'GET', path).headers).toEqual({
      'x-ms-ratelimit-remaining-subscription-reads': '249',
    });
    for (let k = 1; k < 250; k++) throttle.take(alice, 'HEAD', path);
    const error = refusal(() => throttle.take(alice, 'GET', path));
    expect(error.status).toBe(429);
    expect(error.code).toBe('SubscriptionRequestsThrottled');
    expect(error.headers).toEqual({ 'retry-after': '1' });
    expect(error.message).toBe(
      `Number of 'read' requests for subscription actor '${SUB}:${alice.objectId}' exceeded. Please try again after '1' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`,
    );
  });

  it('refills at the documented rate by the server clock', () => {
    const clock = manualClock();
    const throttle = createThrottle('arm', clock);
    const path = `/subscriptions/${SUB}/resourceGroups/rg`;
    for (let k = 0; k < 200; k++) throttle.take(alice, 'PUT', path);
    expect(refusal(() => throttle.take(alice, 'PUT', path)).message).toContain("'write'");
    clock.advance(100);
    expect(throttle.take(alice, 'PUT', path).headers).toEqual({
      'x-ms-ratelimit-remaining-subscription-writes': '0',
    });
    expect(refusal(() => throttle.take(alice, 'PATCH', path)).headers['retry-after']).toBe('1');
  });

  it('keeps separate buckets per kind, principal and subscription', () => {
    const throttle = createThrottle('arm', manualClock());
    const path = `/subscriptions/${SUB}/resourceGroups/rg`;
    for (let k = 0; k < 200; k++) throttle.take(alice, 'DELETE', path);
    expect(refusal(() => throttle.take(alice, 'DELETE', path)).message).toContain("'delete'");
    expect(throttle.take(alice, 'PUT', path).headers).toHaveProperty(
      'x-ms-ratelimit-remaining-subscription-writes',
    );
    expect(throttle.take(alice, 'GET', path).headers).toHaveProperty(
      'x-ms-ratelimit-remaining-subscription-reads',
    );
    expect(throttle.take(bob, 'DELETE', path).headers).toHaveProperty(
      'x-ms-ratelimit-remaining-subscription-deletes',
    );
    expect(
      throttle.take(alice, 'DELETE', '/subscriptions/51111111-2222-4333-8444-666666666666/resourceGroups/rg')
        .headers,
    ).toHaveProperty('x-ms-ratelimit-remaining-subscription-deletes');
  });
});
