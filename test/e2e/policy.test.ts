/**
 * The portal's policy path in Chromium, following the transition page word for word — Policy >
 * Definitions > search "Setup subscriptions to transition to an alternative vulnerability assessment
 * solution" > Assign > scope and name > Review + create — then checked through the API: the assignment
 * exists with its identity, its subscription shows non-compliant, a remediation task created from the
 * portal runs to the end and the VA setting becomes MdeTvm. A Reader cannot assign and is told why.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceGroup, serversPlan, setting, vm } from '../support/defender.js';
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
if (!available) console.log('policy e2e skipped: /usr/bin/chromium is absent (apt-get install chromium)');

const DEFINITION = 'Setup subscriptions to transition to an alternative vulnerability assessment solution';
const SUBSCRIPTION_NAME = 'Contoso Policy';
const ASSIGNMENT_NAME = 'Transition Contoso Policy to MDVM';

let t: TestServer;
let browser: Browser;
let subscriptionId: string;
const accessibility = new Map<string, AxeFinding[]>();

async function scan(page: Page, name: string) {
  await screenshot(page, name);
  accessibility.set(name, await seriousViolations(page));
}

describe.skipIf(!available)('the portal policy pages in Chromium', () => {
  beforeAll(async () => {
    ensurePortalBuilt();
    t = await startTestServer({ lroDelayMs: 100 });
    subscriptionId = randomUUID();
    await addSubscription(t.server, { subscriptionId, displayName: SUBSCRIPTION_NAME });
    await resourceGroup(t, subscriptionId, 'rg-policy');
    await serversPlan(t, subscriptionId, 'P2', { agentless: false });
    await setting(t, subscriptionId, 'WDATP', true);
    await vm(t, subscriptionId, 'web01');
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('Policy > Definitions > search > Assign > scope and name > Review + create assigns, and the remediation task makes the subscription use MDVM', async () => {
    const { context, page, pageErrors } = await newPortalPage(browser);
    const writes = recordWrites(page);
    await signInWithToken(page, t.url, await t.token());

    await page.getByRole('navigation', { name: 'Microsoft Defender for Cloud' }).getByText('Policy').click();
    await page.getByRole('heading', { name: 'Policy | Definitions' }).waitFor();
    await page.getByLabel('Search').fill(DEFINITION);
    await page.getByRole('link', { name: DEFINITION }).waitFor();
    expect(await page.getByRole('table', { name: 'Policy definitions' }).getByRole('row').count()).toBe(2);
    await scan(page, 'policy-definitions');
    await page.getByRole('link', { name: DEFINITION }).click();
    await page.getByRole('heading', { name: DEFINITION }).waitFor();
    await page.getByText('766e621d-ba95-4e43-a6f2-e945db3d7888', { exact: true }).waitFor();
    await scan(page, 'policy-definition');

    await page.getByRole('link', { name: 'Assign' }).click();
    await page.getByRole('heading', { name: 'Assign policy' }).waitFor();
    await page.getByRole('radio', { name: 'Subscription' }).check();
    await page.getByRole('combobox', { name: 'Subscription' }).selectOption({ label: SUBSCRIPTION_NAME });
    await page.getByLabel('Assignment name').fill(ASSIGNMENT_NAME);
    await scan(page, 'policy-assign-basics');
    await page.getByRole('tab', { name: 'Remediation' }).click();
    await page.getByLabel('Create a Managed Identity (system assigned)').waitFor();
    expect(await page.getByLabel('Create a Managed Identity (system assigned)').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Review + create' }).click();
    await page
      .getByTestId('assign-request')
      .getByText(`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/policyAssignments/`)
      .waitFor();
    await scan(page, 'policy-assign-review');
    await page.getByRole('button', { name: 'Create' }).click();

    await page.getByRole('heading', { name: ASSIGNMENT_NAME }).waitFor();
    const put = writes.find(
      (write) => write.method === 'PUT' && /policyAssignments/i.test(write.url.pathname),
    );
    expect(put?.url.searchParams.get('api-version')).toBe('2023-04-01');
    const assignments = await t.inject({
      method: 'GET',
      url: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/policyAssignments?api-version=2023-04-01`,
    });
    const assignment = assignments.body.value.find(
      (item: any) => item.properties.displayName === ASSIGNMENT_NAME,
    );
    expect(assignment.properties.policyDefinitionId).toBe(
      '/providers/Microsoft.Authorization/policyDefinitions/766e621d-ba95-4e43-a6f2-e945db3d7888',
    );
    expect(assignment.properties.scope).toBe(`/subscriptions/${subscriptionId}`);
    expect(assignment.identity).toMatchObject({ type: 'SystemAssigned' });
    expect(assignment.identity.principalId).toMatch(/^[0-9a-f-]{36}$/);

    // Evaluation runs when the assignment is created; Refresh until the subscription shows.
    for (let attempt = 0; attempt < 40; attempt++) {
      if (await page.getByRole('table', { name: 'Resource compliance' }).getByText('Non-compliant').count())
        break;
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(250);
    }
    await page
      .getByRole('row', { name: new RegExp(`/subscriptions/${subscriptionId}`, 'i') })
      .getByText('Non-compliant')
      .waitFor();
    await scan(page, 'policy-assignment-compliance');

    await page.getByRole('button', { name: 'Create remediation task' }).click();
    await page.getByRole('heading', { name: 'Policy | Remediation' }).waitFor();
    await page
      .getByRole('table', { name: 'Remediation tasks' })
      .getByText('Succeeded', { exact: true })
      .waitFor({ timeout: 30_000 });
    await page.getByText('1 succeeded, 0 failed of 1').waitFor();
    await scan(page, 'policy-remediation');
    const vaSetting = await t.inject({
      method: 'GET',
      url: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
    });
    expect(vaSetting.body.properties.selectedProvider).toBe('MdeTvm');

    await page.getByRole('navigation', { name: 'Microsoft Defender for Cloud' }).getByText('Policy').click();
    await page.goto(
      `${t.url}/#/policy/compliance?scope=${encodeURIComponent(`/subscriptions/${subscriptionId}`)}`,
    );
    await page.getByRole('link', { name: ASSIGNMENT_NAME }).waitFor();
    await scan(page, 'policy-compliance');
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 120_000);

  it('a Reader cannot assign a policy, and the portal says why', async () => {
    const { context, page } = await newPortalPage(browser);
    await signInWithToken(
      page,
      t.url,
      await t.token({
        principal: 'policy-reader',
        role: 'Reader',
        scope: `/subscriptions/${subscriptionId}`,
      }),
    );
    await page.goto(
      `${t.url}/#/policy/assign?definition=${encodeURIComponent('/providers/Microsoft.Authorization/policyDefinitions/766e621d-ba95-4e43-a6f2-e945db3d7888')}`,
    );
    await page.getByRole('heading', { name: 'Assign policy' }).waitFor();
    await page.getByRole('combobox', { name: 'Subscription' }).selectOption({ label: SUBSCRIPTION_NAME });
    await page.getByRole('button', { name: 'Review + create' }).click();
    await page
      .getByTestId('assign-denied')
      .getByText('does not include Microsoft.Authorization/policyAssignments/write', { exact: false })
      .waitFor();
    expect(await page.getByRole('button', { name: 'Create' }).isDisabled()).toBe(true);
    await scan(page, 'policy-assign-reader');
    await context.close();
  }, 60_000);

  it('no policy page has a serious or critical accessibility violation', () => {
    expect(Object.fromEntries(accessibility)).toEqual(
      Object.fromEntries([...accessibility.keys()].map((name) => [name, []])),
    );
  });
});
