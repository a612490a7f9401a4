/**
 * Estates to rehearse against: generated from a seed (generate.ts) or imported from an Azure Resource
 * Graph export (import.ts). `seedDemoEstate` fills an empty database once, for `vaplane serve`.
 */
import { SUBSCRIPTION_TYPE } from '../providers/resources/index.js';
import { countResources, type Db } from '../store/index.js';
import { demoEstate, generateEstate } from './generate.js';

export {
  ANTIMALWARE,
  AZURE_MONITOR_AGENT,
  DEFENDER_FOR_ENDPOINT,
  type ExtensionKind,
  LEGACY_QUALYS,
  LEGACY_QUALYS_PUBLISHER,
} from './catalogue.js';
export {
  DEFAULT_QUALYS_SHARE,
  demoEstate,
  type EstateCounts,
  type EstateOptions,
  generateEstate,
} from './generate.js';
export {
  type ImportOptions,
  type ImportReport,
  importResourceGraphExport,
  parseResourceGraphExport,
} from './import.js';

/** Seeds the demo estate when the database holds no subscription yet; undefined when it did nothing. */
export async function seedDemoEstate(
  db: Db,
  options: { tenantId: string; now: Date },
): Promise<{ subscriptions: number; machines: number } | undefined> {
  if ((await countResources(db, SUBSCRIPTION_TYPE)) > 0) return undefined;
  const counts = await generateEstate(db, { ...demoEstate, tenantId: options.tenantId, now: options.now });
  return { subscriptions: counts.subscriptions, machines: counts.virtualMachines + counts.arcMachines };
}
