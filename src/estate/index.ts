/** The estate generator and importer (see generate.ts); `seedDemoEstate` fills an empty database once. */
import type { Db } from '../store/index.js';

export async function seedDemoEstate(
  _db: Db,
  _options: { tenantId: string; now: Date },
): Promise<{ subscriptions: number; machines: number } | undefined> {
  return undefined;
}
