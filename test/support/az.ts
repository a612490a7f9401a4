/**
 * The Azure CLI (Debian's azure-cli 2.45) against a real vaplane over HTTPS: a managed identity with
 * Owner on the subscriptions a suite names, and an `az` that runs with a private AZURE_CONFIG_DIR,
 * trusts vaplane's CA and authenticates through the App Service managed-identity shape. Each `az`
 * start costs about a second, so suites run the few commands a user would, in order.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { type CreatedPrincipal, createPrincipal } from '../../src/arm/principals.js';
import { roleByName } from '../../src/arm/rbac.js';
import { grantRole } from '../../src/providers/authorization/index.js';
import type { TestServer } from './server.js';

const run = promisify(execFile);

export const AZ_ON_PATH = (process.env.PATH ?? '')
  .split(delimiter)
  .some((dir) => dir !== '' && existsSync(join(dir, 'az')));

/** The suite's title; when `az` is absent it says why the suite is skipped, and prints that. */
export function azSuiteTitle(title: string): string {
  if (AZ_ON_PATH) return title;
  const skipped = `${title} — SKIPPED: \`az\` is not on PATH (apt-get install azure-cli; CI installs it)`;
  console.warn(skipped);
  return skipped;
}

export interface AzSession {
  identity: CreatedPrincipal;
  configDir: string;
  /** Runs `az … --output json` and answers its parsed output (undefined when it printed nothing). */
  az(...args: string[]): Promise<any>;
  close(): void;
}

/** A managed identity that is Owner of `ownerOf`, and an `az` that signs in as it. */
export async function azSession(
  t: TestServer,
  options: { identityName: string; ownerOf: readonly string[] },
): Promise<AzSession> {
  const now = new Date();
  const configDir = mkdtempSync(join(tmpdir(), 'vaplane-az-'));
  const identity = await createPrincipal(t.server.store.db, {
    name: options.identityName,
    type: 'ManagedIdentity',
    tenantId: t.server.tenantId,
    now,
  });
  for (const subscriptionId of options.ownerOf) {
    await grantRole(t.server.store.db, {
      scope: `/subscriptions/${subscriptionId}`,
      roleId: roleByName('Owner')!.id,
      principalId: identity.principal.objectId,
      principalType: 'ServicePrincipal',
      by: 'test',
      now,
    });
  }
  t.server.services.authz.invalidate();
  return {
    identity,
    configDir,
    async az(...args) {
      const { stdout } = await run('az', [...args, '--output', 'json'], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: configDir,
          LANG: 'C.UTF-8',
          AZURE_CONFIG_DIR: configDir,
          REQUESTS_CA_BUNDLE: t.caPath,
          AZURE_CORE_COLLECT_TELEMETRY: 'false',
          AZURE_CORE_SURVEY_MESSAGE: 'false',
          AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
          AZURE_CORE_NO_COLOR: 'true',
          // App Service's managed-identity environment: az (msrestazure) then sends
          // GET {MSI_ENDPOINT}/?resource=…&api-version=2017-09-01 with the `secret` header.
          APPSETTING_WEBSITE_SITE_NAME: 'vaplane-test',
          MSI_ENDPOINT: `${t.url}/msi/token`,
          MSI_SECRET: identity.secret,
        },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout.trim() === '' ? undefined : JSON.parse(stdout);
    },
    close() {
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}

/**
 * `az cloud register` with only the resource-manager endpoint (az learns the rest from vaplane's
 * `/metadata/endpoints`), `az cloud set`, then `az login --identity`; answers the accounts az found.
 */
export async function azSignIn(session: AzSession, t: TestServer): Promise<any> {
  await session.az('cloud', 'register', '--name', 'vaplane', '--endpoint-resource-manager', `${t.url}/`);
  await session.az('cloud', 'set', '--name', 'vaplane');
  return session.az('login', '--identity');
}
