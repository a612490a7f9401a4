/**
 * The portal in a real browser against a real server: Microsoft's portal steps followed word for
 * word, then checked through the API; a Reader who can change nothing and is told why; the connector
 * switch; Qualys extension removal with live progress; an axe scan of every page.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrincipal } from '../../src/arm/principals.js';
import { roleByName } from '../../src/arm/rbac.js';
import { seedDemoEstate } from '../../src/estate/index.js';
import { grantRole } from '../../src/providers/authorization/index.js';
import { virtualMachineRecord, vmExtensionRecord } from '../../src/providers/compute/model.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { putResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  type AxeFinding,
  chromiumAvailable,
  ensurePortalBuilt,
  launchChromium,
  newPortalPage,
  recordWrites,
  screenshot,
  seriousViolations,
  signInWithToken,
} from './browser.js';

const available = chromiumAvailable();
if (!available) console.log('portal e2e skipped: /usr/bin/chromium is absent (apt-get install chromium)');

const SUBSCRIPTION_NAME = 'Contoso Transition';
const AGENTLESS_SUBSCRIPTION_NAME = 'Contoso Agentless';
const GROUP = 'rg-transition';
const CONNECTOR = 'gcp-contoso-prod';

let t: TestServer;
let browser: Browser;
let subscriptionId: string;
let agentlessSubscriptionId: string;
let connectorId: string;
const machineIds: Record<string, string> = {};
/** Axe findings per page, checked together at the end so one run reports every page. */
const accessibility = new Map<string, AxeFinding[]>();

async function scan(page: Page, name: string) {
  await screenshot(page, name);
  accessibility.set(name, await seriousViolations(page));
}

/** One subscription in the transition's starting state: Servers Plan 1, Endpoint protection off, no VA setting, Qualys on its VMs, a GCP connector on Qualys. */
async function seedTransitionSubscription() {
  subscriptionId = randomUUID();
  await addSubscription(t.server, { subscriptionId, displayName: SUBSCRIPTION_NAME });
  const now = new Date().toISOString();
  await putResource(
    t.server.store.db,
    resourceGroupRecord({ subscriptionId, name: GROUP, location: 'westeurope', now }),
  );
  const machines = [
    { name: 'vm-web-01', osType: 'Windows', powerState: 'running' },
    { name: 'vm-app-02', osType: 'Linux', powerState: 'running' },
    { name: 'vm-batch-03', osType: 'Linux', powerState: 'deallocated' },
  ] as const;
  for (const machine of machines) {
    const record = virtualMachineRecord({
      subscriptionId,
      resourceGroup: GROUP,
      name: machine.name,
      location: 'westeurope',
      osType: machine.osType,
      image:
        machine.osType === 'Windows'
          ? {
              publisher: 'MicrosoftWindowsServer',
              offer: 'WindowsServer',
              sku: '2022-datacenter-azure-edition',
            }
          : { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' },
      powerState: machine.powerState,
      now,
    });
    await putResource(t.server.store.db, record);
    machineIds[machine.name] = record.id;
    await putResource(
      t.server.store.db,
      vmExtensionRecord({
        machineId: record.id,
        subscriptionId,
        resourceGroup: GROUP,
        name:
          machine.osType === 'Windows'
            ? 'WindowsAgent.AzureSecurityCenter'
            : 'LinuxAgent.AzureSecurityCenter',
        location: 'westeurope',
        publisher: 'Qualys',
        type:
          machine.osType === 'Windows'
            ? 'WindowsAgent.AzureSecurityCenter'
            : 'LinuxAgent.AzureSecurityCenter',
        typeHandlerVersion: '1.0',
        now,
      }),
    );
  }
  const plan = await t.inject({
    method: 'PUT',
    url: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2024-01-01`,
    body: { properties: { pricingTier: 'Standard', subPlan: 'P1' } },
  });
  expect(plan.status, plan.text).toBeLessThan(300);
  connectorId = `/subscriptions/${subscriptionId}/resourceGroups/${GROUP}/providers/Microsoft.Security/securityConnectors/${CONNECTOR}`;
  const connector = await t.inject({
    method: 'PUT',
    url: `${connectorId}?api-version=2023-10-01-preview`,
    body: {
      location: 'westeurope',
      properties: {
        hierarchyIdentifier: '123456789012',
        environmentName: 'GCP',
        environmentData: {
          environmentType: 'GcpProject',
          projectDetails: { projectId: 'contoso-prod', projectNumber: '123456789012' },
        },
        offerings: [
          {
            offeringType: 'CspmMonitorGcp',
            nativeCloudConnection: {
              workloadIdentityProviderId: 'cspm',
              serviceAccountEmailAddress: 'cspm@contoso-prod.iam.gserviceaccount.com',
            },
          },
          {
            offeringType: 'DefenderForServersGcp',
            defenderForServers: {
              workloadIdentityProviderId: 'defender-for-servers',
              serviceAccountEmailAddress: 'dfs@contoso-prod.iam.gserviceaccount.com',
            },
            arcAutoProvisioning: { enabled: true, configuration: {} },
            mdeAutoProvisioning: { enabled: true, configuration: {} },
            vaAutoProvisioning: { enabled: true, configuration: { type: 'Qualys' } },
            subPlan: { type: 'P2' },
          },
        ],
      },
    },
  });
  expect(connector.status, connector.text).toBeLessThan(300);
}

describe.skipIf(!available)('the portal in Chromium', () => {
  beforeAll(async () => {
    ensurePortalBuilt();
    t = await startTestServer({ lroDelayMs: 300 });
    await seedDemoEstate(t.server.store.db, { tenantId: t.server.tenantId, now: new Date() });
    await seedTransitionSubscription();
    agentlessSubscriptionId = randomUUID();
    await addSubscription(t.server, {
      subscriptionId: agentlessSubscriptionId,
      displayName: AGENTLESS_SUBSCRIPTION_NAME,
    });
    const plan = await t.inject({
      method: 'PUT',
      url: `/subscriptions/${agentlessSubscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2024-01-01`,
      body: {
        properties: {
          pricingTier: 'Standard',
          subPlan: 'P2',
          extensions: [{ name: 'AgentlessVmScanning', isEnabled: 'False' }],
        },
      },
    });
    expect(plan.status, plan.text).toBeLessThan(300);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the production build with caching headers, and ARM beside it', async () => {
    const index = await t.server.app.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['cache-control']).toBe('no-cache');
    const asset = /\/assets\/[^"]+\.js/.exec(index.body)![0];
    const script = await t.server.app.inject({
      method: 'GET',
      url: asset,
      headers: { 'accept-encoding': 'br' },
    });
    expect(script.statusCode).toBe(200);
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.headers['content-encoding']).toBe('br');
    const arm = await t.inject({ method: 'GET', url: '/subscriptions?api-version=2022-12-01' });
    expect(arm.status).toBe(200);
    const missing = await t.server.app.inject({ method: 'GET', url: '/assets/missing.js' });
    expect(missing.statusCode).toBe(404);
  });

  it('signs in with client credentials and shows the name and roles', async () => {
    const app = await createPrincipal(t.server.store.db, {
      name: 'portal-automation',
      type: 'Application',
      tenantId: t.server.tenantId,
      now: new Date(),
    });
    await grantRole(t.server.store.db, {
      scope: '/',
      roleId: roleByName('Security Admin')!.id,
      principalId: app.principal.objectId,
      principalType: 'ServicePrincipal',
      by: 'e2e',
      now: new Date(),
    });
    t.server.services.authz.invalidate();
    const { context, page, pageErrors } = await newPortalPage(browser);
    await page.goto(`${t.url}/`);
    await scan(page, '01-sign-in');
    await page.getByRole('tab', { name: 'Client credentials' }).click();
    await page.getByLabel('Tenant ID').fill(t.server.tenantId);
    await page.getByLabel('Client ID').fill(app.principal.clientId);
    await page.getByLabel('Client secret').fill('not-the-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The token endpoint's own words for a wrong secret.
    await page.getByText(/AADSTS7000215: Invalid client secret provided/).waitFor();
    await screenshot(page, '02-sign-in-refused');
    await page.getByLabel('Client secret').fill(app.secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('user-roles').getByText('Security Admin').waitFor();
    expect(await page.getByTestId('user-name').textContent()).toBe('portal-automation');
    await page.getByRole('heading', { name: 'Microsoft Defender for Cloud | Overview' }).waitFor();
    await scan(page, '03-overview');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it("follows the page's portal steps and Save makes exactly the REST path's calls", async () => {
    const { context, page, pageErrors } = await newPortalPage(browser);
    const writes = recordWrites(page);
    await signInWithToken(page, t.url, await t.token());
    await page.getByTestId('user-roles').getByText('Owner').waitFor();

    // Environment settings → subscription → Defender plans → Settings
    await page.getByRole('link', { name: 'Environment settings' }).click();
    await page.getByRole('treeitem', { name: `Subscription ${SUBSCRIPTION_NAME}` }).waitFor();
    await scan(page, '04-environment-settings');
    await page.getByRole('tree').getByText(SUBSCRIPTION_NAME, { exact: true }).click();
    await page.getByRole('link', { name: 'Defender plans' }).click();
    await page.getByRole('table', { name: 'Defender plans' }).waitFor();
    await scan(page, '05-defender-plans');
    await page.getByRole('link', { name: 'Settings (Defender for Servers)' }).click();
    await page.getByRole('heading', { name: 'Settings & monitoring' }).waitFor();

    // Vulnerability assessment for machines → Edit configuration → MDVM → Apply
    await page.getByRole('switch', { name: 'Vulnerability assessment for machines' }).click();
    await page.getByRole('button', { name: 'Edit configuration' }).click();
    const pane = page.getByRole('dialog', { name: 'Vulnerability assessment for machines' });
    await pane.waitFor();
    expect(
      await pane.getByRole('radio', { name: 'Built-in Qualys vulnerability assessment' }).isDisabled(),
    ).toBe(true);
    await pane.getByText('Retired', { exact: true }).waitFor();
    await pane.getByRole('link', { name: /Bring your own license \(BYOL\) solutions/ }).waitFor();
    await scan(page, '06-edit-configuration');
    await pane.getByText('Microsoft Defender Vulnerability Management', { exact: true }).click();
    await pane.getByRole('button', { name: 'Apply' }).click();
    await pane.waitFor({ state: 'detached' });

    // Endpoint protection or Agentless scanning: Plan 1 has no agentless scanning, and says so.
    const problem = page.getByTestId('va-problem');
    expect(await problem.textContent()).toContain(
      'needs Endpoint protection or Agentless scanning for machines',
    );
    expect(await page.getByRole('button', { name: 'Continue' }).isDisabled()).toBe(true);
    expect(await page.getByRole('switch', { name: 'Agentless scanning for machines' }).isDisabled()).toBe(
      true,
    );
    expect(await page.getByTestId('agentless-reason').textContent()).toContain('Plan 2');
    await scan(page, '07-settings-before-endpoint-protection');
    await page.getByRole('switch', { name: 'Endpoint protection' }).click();
    await problem.waitFor({ state: 'detached' });
    await scan(page, '08-settings-ready');

    // Continue → Save
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Unsaved changes').waitFor();
    expect(writes).toEqual([]);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('saved').waitFor();
    await scan(page, '09-saved');

    expect(
      writes.map((write) => ({
        method: write.method,
        path: write.url.pathname,
        apiVersion: write.url.searchParams.get('api-version'),
        body: write.body,
      })),
    ).toEqual([
      {
        method: 'PUT',
        path: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/settings/WDATP`,
        apiVersion: '2022-05-01',
        body: '{"kind":"DataExportSettings","properties":{"enabled":true}}',
      },
      {
        method: 'PUT',
        path: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
        apiVersion: '2022-01-01-preview',
        body: '{"kind":"AzureServersSetting","properties":{"selectedProvider":"MdeTvm"}}',
      },
    ]);

    // Through the API: the subscription has transitioned.
    const setting = await t.inject({
      method: 'GET',
      url: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
    });
    expect(setting.status).toBe(200);
    expect(setting.body.properties.selectedProvider).toBe('MdeTvm');
    const wdatp = await t.inject({
      method: 'GET',
      url: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/settings/WDATP?api-version=2022-05-01`,
    });
    expect(wdatp.body.properties.enabled).toBe(true);

    await page.getByRole('link', { name: 'Integrations' }).click();
    await page.getByRole('table', { name: 'Integrations' }).waitFor();
    await scan(page, '10-integrations');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('on Plan 2, Agentless scanning for machines satisfies the check instead, and Save turns it on in the plan', async () => {
    const { context, page, pageErrors } = await newPortalPage(browser);
    const writes = recordWrites(page);
    await signInWithToken(page, t.url, await t.token());
    await page.getByRole('link', { name: 'Environment settings' }).click();
    await page.getByRole('tree').getByText(AGENTLESS_SUBSCRIPTION_NAME, { exact: true }).click();
    await page.getByRole('link', { name: 'Defender plans' }).click();
    await page.getByRole('link', { name: 'Settings (Defender for Servers)' }).click();
    await page.getByRole('switch', { name: 'Vulnerability assessment for machines' }).click();
    await page.getByRole('button', { name: 'Edit configuration' }).click();
    const pane = page.getByRole('dialog', { name: 'Vulnerability assessment for machines' });
    await pane.getByText('Microsoft Defender Vulnerability Management', { exact: true }).click();
    await pane.getByRole('button', { name: 'Apply' }).click();
    await pane.waitFor({ state: 'detached' });
    await page.getByRole('switch', { name: 'Agentless scanning for machines' }).click();
    await page.getByTestId('va-problem').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('saved').waitFor();

    expect(writes.map((write) => `${write.method} ${write.url.pathname}`)).toEqual([
      `PUT /subscriptions/${agentlessSubscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines`,
      `PUT /subscriptions/${agentlessSubscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
    ]);
    const sentPlan = JSON.parse(writes[0]!.body!);
    expect(sentPlan.properties).toMatchObject({ pricingTier: 'Standard', subPlan: 'P2' });
    expect(sentPlan.properties.extensions).toContainEqual({ name: 'AgentlessVmScanning', isEnabled: 'True' });

    const pricing = await t.inject({
      method: 'GET',
      url: `/subscriptions/${agentlessSubscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2024-01-01`,
    });
    expect(pricing.body.properties.extensions).toContainEqual(
      expect.objectContaining({ name: 'AgentlessVmScanning', isEnabled: 'True' }),
    );
    const setting = await t.inject({
      method: 'GET',
      url: `/subscriptions/${agentlessSubscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
    });
    expect(setting.body.properties.selectedProvider).toBe('MdeTvm');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('switches a GCP connector to MDVM with GET → change → PUT with If-Match', async () => {
    const { context, page, pageErrors } = await newPortalPage(browser);
    const writes = recordWrites(page);
    await signInWithToken(page, t.url, await t.token());
    await page.getByRole('link', { name: 'Environment settings' }).click();
    await page.getByRole('link', { name: CONNECTOR }).click();
    await page.getByRole('table', { name: 'Offerings' }).waitFor();
    await page.getByText('Built-in Qualys (retired)').waitFor();
    await scan(page, '11-connector');
    await page.getByRole('button', { name: 'Switch to Microsoft Defender Vulnerability Management' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Switch' }).click();
    await page
      .getByText('The connector now provisions Microsoft Defender Vulnerability Management')
      .waitFor();
    await screenshot(page, '12-connector-switched');

    expect(writes).toHaveLength(1);
    expect(writes[0]!.method).toBe('PUT');
    expect(writes[0]!.headers['if-match']).toMatch(/^(W\/)?".+"$/);
    const sent = JSON.parse(writes[0]!.body!);
    const servers = sent.properties.offerings.find((o: any) => o.offeringType === 'DefenderForServersGcp');
    expect(servers.vaAutoProvisioning).toEqual({ enabled: true, configuration: { type: 'TVM' } });
    expect(servers.defenderForServers.serviceAccountEmailAddress).toBe(
      'dfs@contoso-prod.iam.gserviceaccount.com',
    );

    const after = await t.inject({ method: 'GET', url: `${connectorId}?api-version=2023-10-01-preview` });
    const offering = after.body.properties.offerings.find(
      (o: any) => o.offeringType === 'DefenderForServersGcp',
    );
    expect(offering.vaAutoProvisioning.configuration.type).toBe('TVM');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('removes the Qualys extension from many machines with live progress, and shows why one failed', async () => {
    const { context, page, pageErrors } = await newPortalPage(browser);
    await signInWithToken(page, t.url, await t.token());
    await page.getByRole('link', { name: 'Machines', exact: true }).click();
    await page.getByRole('table', { name: 'Machines' }).waitFor();
    await page
      .getByTestId('machines-status')
      .getByText(/\(all read\)/)
      .waitFor();
    await scan(page, '13-machines');
    await page.getByLabel('Subscription').selectOption({ label: SUBSCRIPTION_NAME });
    await page.getByLabel('Qualys extension').selectOption({ label: 'Installed' });
    await page.getByRole('link', { name: 'vm-batch-03' }).waitFor();
    await page.getByRole('link', { name: 'vm-web-01' }).waitFor();
    await page.getByRole('link', { name: 'vm-app-02' }).waitFor();
    await page.getByRole('checkbox', { name: 'Select all shown machines' }).click();
    await page.getByRole('button', { name: 'Remove Qualys extension (3)' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Remove the Qualys extension' });
    await dialog.waitFor();
    await scan(page, '14-remove-dialog');
    await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
    await dialog.getByText('Deleting').or(dialog.getByText('InProgress')).first().waitFor();
    await screenshot(page, '15-remove-in-progress');
    await dialog.getByText('3 of 3 finished, 1 failed.').waitFor({ timeout: 30_000 });
    await scan(page, '16-remove-finished');
    // The deallocated VM keeps its extension: Compute refuses, and its words are shown.
    const failure = await dialog.getByRole('row', { name: /vm-batch-03/ }).textContent();
    expect(failure).toMatch(/Failed.*: /);
    await dialog.getByRole('button', { name: 'Close' }).click();

    for (const [name, expected] of [
      ['vm-web-01', 0],
      ['vm-app-02', 0],
      ['vm-batch-03', 1],
    ] as const) {
      const list = await t.inject({
        method: 'GET',
        url: `${machineIds[name]}/extensions?api-version=2024-07-01`,
      });
      const qualys = list.body.value.filter((extension: any) => extension.properties.publisher === 'Qualys');
      expect(qualys, name).toHaveLength(expected);
    }

    await page.getByLabel('Qualys extension').selectOption({ label: 'Any' });
    await page.getByRole('link', { name: 'vm-batch-03' }).click();
    await page.getByRole('heading', { name: 'Vulnerability assessment coverage' }).waitFor();
    await page
      .getByRole('table', { name: 'Extensions' })
      .getByText('LinuxAgent.AzureSecurityCenter')
      .first()
      .waitFor();
    await scan(page, '17-machine');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('a Reader can change nothing, and the portal says why', async () => {
    const readerToken = await t.token({
      principal: 'rita',
      role: 'Reader',
      scope: `/subscriptions/${subscriptionId}`,
    });
    const { context, page, pageErrors } = await newPortalPage(browser, { width: 1280, height: 720 });
    const writes = recordWrites(page);
    await signInWithToken(page, t.url, readerToken);
    await page.getByTestId('user-roles').getByText('Reader').waitFor();
    await page.goto(`${t.url}/#/environment/subscriptions/${subscriptionId}/plans`);
    const reason = page.getByTestId('read-only-reason');
    await reason.waitFor();
    expect(await reason.textContent()).toContain(
      'your role here (Reader) does not include Microsoft.Security/pricings/write',
    );
    expect(await page.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    expect(await page.getByRole('switch', { name: 'Servers plan' }).isDisabled()).toBe(true);
    await scan(page, '18-reader-defender-plans');
    await page.getByRole('link', { name: 'Settings (Defender for Servers)' }).click();
    await page.getByRole('heading', { name: 'Settings & monitoring' }).waitFor();
    expect(
      await page.getByRole('switch', { name: 'Vulnerability assessment for machines' }).isDisabled(),
    ).toBe(true);
    expect(await page.getByRole('switch', { name: 'Endpoint protection' }).isDisabled()).toBe(true);
    expect(await page.getByTestId('read-only-reason').textContent()).toContain(
      'Microsoft.Security/serverVulnerabilityAssessmentsSettings/write',
    );
    await screenshot(page, '19-reader-settings');
    await page.goto(`${t.url}/#/machines/${encodeURIComponent(machineIds['vm-batch-03']!)}`);
    await page.getByTestId('read-only-reason').waitFor();
    expect(await page.getByTestId('read-only-reason').textContent()).toContain(
      'Microsoft.Compute/virtualMachines/extensions/delete',
    );
    expect(await page.getByRole('button', { name: 'Remove Qualys extension' }).isDisabled()).toBe(true);
    await screenshot(page, '20-reader-machine');
    expect(writes).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('a refused call shows the API error text, never a blank page', async () => {
    const owner = await t.token();
    // A token whose signature the server rejects, but whose claims the portal can read.
    const forged = `${owner.slice(0, owner.lastIndexOf('.'))}.${'A'.repeat(40)}`;
    const { context, page } = await newPortalPage(browser, { width: 1024, height: 700 });
    await signInWithToken(page, t.url, forged);
    await page.getByText('Subscriptions could not be listed').first().waitFor();
    expect(await page.getByTestId('arm-error').first().textContent()).toMatch(/^InvalidAuthenticationToken/);
    await page.getByRole('heading', { name: 'Microsoft Defender for Cloud | Overview' }).waitFor();
    await scan(page, '21-refused-token');
    await page.goto(
      `${t.url}/#/machines/${encodeURIComponent(`/subscriptions/${randomUUID()}/resourceGroups/x/providers/Microsoft.Compute/virtualMachines/gone`)}`,
    );
    await page.getByText('The machine could not be read').waitFor();
    await screenshot(page, '22-machine-error');
    await context.close();
  });

  it('has no serious or critical accessibility violations on any page', () => {
    expect([...accessibility.keys()].length).toBeGreaterThanOrEqual(15);
    const failing = Object.fromEntries([...accessibility].filter(([, findings]) => findings.length > 0));
    expect(failing).toEqual({});
  });
});
