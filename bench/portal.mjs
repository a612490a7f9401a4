// The portal's figures, in their own process: the JavaScript it ships (gzip, as served from
// dist/web/assets) and the time to first render of the machine list on a generated estate in headless
// Chromium — from navigation to `#/machines` (token already in the tab's session) until the first
// machine row is visible, median of 3. The server runs in this process on a fresh SQLite file.
// Usage: node bench/portal.mjs [subscriptions] [machines]  (defaults 2,000 × 200,000)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { bootstrapTenant, tokenFor } from '../dist/bootstrap.js';
import { generateEstate } from '../dist/estate/index.js';
import { createServer } from '../dist/server.js';

const subscriptions = Number(process.argv[2] ?? 2000);
const machines = Number(process.argv[3] ?? 200_000);
const RUNS = 3;
const ASSETS = join('dist', 'web', 'assets');

function median(values) {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)];
}

const scripts = readdirSync(ASSETS).filter((name) => name.endsWith('.js'));
const raw = scripts.reduce((total, name) => total + readFileSync(join(ASSETS, name)).length, 0);
const gzip = scripts.reduce(
  (total, name) => total + gzipSync(readFileSync(join(ASSETS, name)), { level: 9 }).length,
  0,
);

const dir = mkdtempSync(join(tmpdir(), 'vaplane-bench-portal-'));
const server = await createServer({ db: join(dir, 'vaplane.db'), port: 0, lroDelayMs: 50 });
const now = server.services.clock.now();
await bootstrapTenant(server.store.db, server.tenantId, now);
const generationStarted = performance.now();
await generateEstate(server.store.db, { subscriptions, machines, seed: 1, tenantId: server.tenantId, now });
const generationMs = performance.now() - generationStarted;
const url = await server.listen();
const { token } = await tokenFor(server.store.db, server.keys, {
  principalName: 'admin',
  tenantId: server.tenantId,
  now: new Date(),
});

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
const FIRST_ROW =
  '[data-testid="machines-scroller"] [aria-label^="Select "]:not([aria-label="Select all shown machines"])';
const times = [];
try {
  for (let run = 0; run < RUNS; run++) {
    // A fresh profile each run: a cold HTTP cache, as a user opening the portal.
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1366, height: 768 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(120_000);
    await page.goto(`${url}/`);
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Microsoft Defender for Cloud' }).waitFor();
    await page.goto('about:blank');
    const started = performance.now();
    await page.goto(`${url}/#/machines`);
    await page.locator(FIRST_ROW).first().waitFor({ state: 'visible' });
    times.push(performance.now() - started);
    await context.close();
  }
} finally {
  await browser.close();
  await server.close?.();
  rmSync(dir, { recursive: true, force: true });
}

const figures = {
  scripts: scripts.length,
  jsBytes: raw,
  jsGzipBytes: gzip,
  estate: { subscriptions, machines, generationMs: Math.round(generationMs) },
  firstRowMs: times.map((time) => Math.round(time)),
  firstRowMedianMs: Math.round(median(times)),
};
console.log(
  `portal: ${scripts.length} scripts, ${(raw / 1024).toFixed(1)} KiB (${(gzip / 1024).toFixed(1)} KiB gzip); ` +
    `first machine row on ${subscriptions.toLocaleString('en')} subscriptions × ${machines.toLocaleString('en')} machines: ` +
    `median ${figures.firstRowMedianMs} ms of ${RUNS} (${figures.firstRowMs.join(', ')} ms)`,
);
process.send?.(figures);
