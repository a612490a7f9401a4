import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { describe, expect, it } from 'vitest';
import { rateLimitPolicy } from './policies.js';
import { createRateLimiter } from './rateLimits.js';

const URL_OF_SUB = 'https://management.azure.com/subscriptions/s1/resourceGroups/rg?api-version=2024-11-01';

function reply(request: ReturnType<typeof createPipelineRequest>, headers: Record<string, string> = {}) {
  return { request, status: 200, headers: createHttpHeaders(headers) } satisfies PipelineResponse;
}

describe('rate limit policy', () => {
  it('holds at most maxConcurrency requests in flight, serving waiters in order', async () => {
    const policy = rateLimitPolicy({ maxConcurrency: 3 });
    let inFlight = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, k) => {
        const request = createPipelineRequest({ url: URL_OF_SUB, method: 'GET' });
        return policy.sendRequest(request, async () => {
          order.push(k);
          inFlight++;
          most = Math.max(most, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inFlight--;
          return reply(request);
        });
      }),
    );
    expect(most).toBe(3);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('takes a token per attempt and lowers the bucket from the reply’s remaining-writes header', async () => {
    const limiter = createRateLimiter({ now: () => 0, safetySeconds: 0 });
    const policy = rateLimitPolicy({ limiter, maxConcurrency: 2 });
    const request = createPipelineRequest({ url: URL_OF_SUB, method: 'PUT' });
    await policy.sendRequest(request, async () =>
      reply(request, { 'x-ms-ratelimit-remaining-subscription-writes': '120' }),
    );
    expect(limiter.tokens('s1', 'writes')).toBe(121);
    await policy.sendRequest(request, async () => reply(request));
    expect(limiter.tokens('s1', 'writes')).toBe(120);
  });

  it('an abort while waiting for a token gives up the wait and never sends', async () => {
    const limiter = createRateLimiter({ now: () => performance.now(), safetySeconds: 0 });
    for (let k = 0; k < 200; k++) limiter.sent(limiter.reserve('DELETE', URL_OF_SUB));
    const policy = rateLimitPolicy({ limiter, maxConcurrency: 1 });
    const controller = new AbortController();
    const request = createPipelineRequest({
      url: URL_OF_SUB,
      method: 'DELETE',
      abortSignal: controller.signal,
    });
    let sent = false;
    const pending = policy.sendRequest(request, async () => {
      sent = true;
      return reply(request);
    });
    controller.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    expect(sent).toBe(false);
  });
});
