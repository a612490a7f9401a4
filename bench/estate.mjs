// Estate generation, in its own process: `generateEstate` into a fresh SQLite file, timed from the
// call to its return (the store already open and migrated, the tenant bootstrapped, as `vaplane estate
// generate` does), then the size on disk of the database with its -wal and -shm files as generation
// left them, and again after the store is closed (SQLite checkpoints the WAL into the file).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapTenant } from '../dist/bootstrap.js';
import * as estate from '../dist/estate/index.js';
import { openStore } from '../dist/store/index.js';

const [dir, subscriptions, machines] = process.argv.slice(2);
if (!dir || !subscriptions || !machines)
  throw new Error('usage: node bench/estate.mjs <dir> <subscriptions> <machines>');

const TENANT_ID = '72f988bf-0000-4000-8000-00000000a11e';

function sizeOnDisk(file) {
  return ['', '-wal', '-shm']
    .map((suffix) => `${file}${suffix}`)
    .filter((path) => existsSync(path))
    .reduce((total, path) => total + statSync(path).size, 0);
}

if (typeof estate.generateEstate !== 'function') {
  process.send?.({ available: false, exports: Object.keys(estate) });
  process.exit(0);
}

const file = join(dir, 'estate.db');
const store = await openStore({ db: file });
const now = new Date();
await bootstrapTenant(store.db, TENANT_ID, now);
const started = process.hrtime.bigint();
const result = await estate.generateEstate(store.db, {
  subscriptions: Number(subscriptions),
  machines: Number(machines),
  seed: 1,
  tenantId: TENANT_ID,
  now,
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const bytes = sizeOnDisk(file);
await store.close();
process.send?.({
  available: true,
  seconds,
  bytes,
  bytesAfterClose: sizeOnDisk(file),
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
  counts: result,
});
