/** Runs `task` over `items` with at most `limit` at a time; results keep the items' order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
  options: { signal?: AbortSignal; onProgress?: (done: number) => void } = {},
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  async function worker() {
    while (next < items.length) {
      options.signal?.throwIfAborted();
      const index = next;
      next += 1;
      results[index] = await task(items[index]!, index);
      done += 1;
      options.onProgress?.(done);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
