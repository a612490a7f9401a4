/**
 * What the portal's browser tests share: the production build (made once, reused while web/ has not
 * changed since), Debian's Chromium driven by playwright-core, signing in, screenshots under
 * test-results/portal/, and an axe scan that fails on serious or critical violations.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join('test-results', 'portal');
const WEB = 'web';
const BUILT_INDEX = join('dist', 'web', 'index.html');

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

/** Builds the portal with vite unless dist/web is newer than every file under web/. */
export function ensurePortalBuilt(): void {
  if (existsSync(BUILT_INDEX) && statSync(BUILT_INDEX).mtimeMs > newestMtime(WEB)) return;
  const result = spawnSync('npx', ['vite', 'build', WEB, '--logLevel', 'warn'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** A fresh browser profile (its own sessionStorage) at a laptop's size. */
export async function newPortalPage(
  browser: Browser,
  options: { width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page; pageErrors: string[] }> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: options.width ?? 1366, height: options.height ?? 768 },
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return { context, page, pageErrors };
}

/** Waits until no animation runs (a drawer sliding in), so pictures and contrast checks see the end state. */
export async function settled(page: Page): Promise<void> {
  // A string, so the Node-side type check needs no DOM types: it runs in the page.
  await page.waitForFunction(
    "document.getAnimations().every((animation) => animation.playState !== 'running')",
  );
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await settled(page);
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

export interface AxeFinding {
  id: string;
  impact: string | null | undefined;
  help: string;
  targets: string[];
}

/**
 * Serious and critical axe violations of the page as it is now (WCAG 2.1 A and AA rules).
 *
 * Tabster (Fluent UI's focus manager) puts invisible `<i data-tabster-dummy tabindex=0 aria-hidden>`
 * sentinels at focus boundaries; they hand focus on the moment they receive it, so no one ever rests
 * on them, but axe cannot know that (`aria-hidden-focus`). Those nodes — Fluent's, not the portal's —
 * are left out; any other node of the same rule still fails.
 */
export async function seriousViolations(page: Page): Promise<AxeFinding[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes
        .filter((node) => !/^<i [^>]*data-tabster-dummy/.test(node.html))
        .map((node) => `${node.target.join(' ')}: ${node.html.slice(0, 160)} ${node.failureSummary ?? ''}`),
    }))
    .filter((finding) => finding.targets.length > 0);
}

/** Signs in by pasting a token, as a user does with the token `vaplane serve` prints. */
export async function signInWithToken(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Microsoft Defender for Cloud' }).waitFor();
}

export interface RecordedRequest {
  method: string;
  url: URL;
  body: string | null;
  headers: Record<string, string>;
}

/** Every write the page sends (anything but GET/HEAD), in order. */
export function recordWrites(page: Page): RecordedRequest[] {
  const writes: RecordedRequest[] = [];
  page.on('request', (request) => {
    if (request.method() === 'GET' || request.method() === 'HEAD') return;
    writes.push({
      method: request.method(),
      url: new URL(request.url()),
      body: request.postData(),
      headers: request.headers(),
    });
  });
  return writes;
}
