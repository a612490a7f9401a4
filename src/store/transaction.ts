import type { Db } from './db.js';

/** PostgreSQL's codes for a transaction that lost a conflict and may simply run again. */
const RETRYABLE_CODES = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 30;

/**
 * Runs `work` in one transaction with the same isolation on both engines: as if transactions ran one
 * after another. SQLite does run them one at a time. PostgreSQL runs them side by side at SERIALIZABLE
 * and answers a conflict (two requests reading and writing the same resources) with a serialization
 * failure; the transaction is then rolled back and `work` runs again from the start. So `work` must
 * keep its effects inside the transaction, or make them safe to repeat.
 */
export async function inTransaction<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().setIsolationLevel('serializable').execute(work);
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
      // Spread the retries out so that the same transactions do not collide again in lockstep.
      const backoffMs = Math.random() * Math.min(100, 2 * attempt);
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
    }
  }
}

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}
