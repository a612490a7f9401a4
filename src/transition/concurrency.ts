/**
 * Bounded task concurrency for plan and apply. The ARM client bounds requests on the wire; these bound
 * the work items (a subscription, a machine, an action waiting on its long-running operation) in
 * flight, so memory stays flat however large the estate.
 */

export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** At most `limit` tasks run at once; the others wait their turn, first come, first served. */
export function createLimiter(limit: number): Limiter {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`A limit is a whole number ≥ 1, not ${limit}.`);
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  return async (task) => {
    if (running < limit) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      release();
    }
  };
}

/**
 * A task takes a slot of `inner` (e.g. one subscription's), then one of `outer` (shared by all):
 * however long its tasks wait, one subscription holds at most `inner`'s share of `outer`.
 */
export function nestedLimiter(inner: Limiter, outer: Limiter): Limiter {
  return (task) => inner(() => outer(task));
}

/** Runs `task` for every item through `limiter` and waits for all; the first failure is rethrown after all settle. */
export async function forEachLimited<T>(
  items: readonly T[],
  limiter: Limiter,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const outcomes = await Promise.allSettled(items.map((item, index) => limiter(() => task(item, index))));
  const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed) throw failed.reason;
}
