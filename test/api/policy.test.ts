/**
 * The page's policy path through the API: assign 766e621d at a management group, scan, see the
 * subscriptions NonCompliant, remediate, and see every setting become MdeTvm, the subscriptions
 * Compliant and ffff0522 Healthy on their covered machines.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyOf } from '../../src/arm/resourceId.js';
import { createServer } from '../../src/server.js';
import { getResource, openStore, putResource } from '../../src/store/index.js';
import { defenderSubscription, serversPlan, setting, vaAssessment, vm } from '../support/defender.js';
import { addManagementGroup } from '../support/estate.js';
import { complianceStates, until } from '../support/policy.js';
import { adminInjector, startTestServer, type TestServer } from '../support/server.js';

const TRANSITION = '766e621d-ba95-4e43-a6f2-e945db3d7888';
const AUTH = 'api-version=2023-04-01';
const INSIGHTS = 'api-version=2019-10-01';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

async function managementGroup(name: string, subscriptions: number, on: TestServer = t) {
  await addManagementGroup(on.server, name);
  const ids: string[] = [];
  for (let k = 0; k < subscriptions; k++) ids.push(await defenderSubscription(on, { managementGroup: name }));
  return ids;
}

async function scan(subscriptionId: string, on: TestServer = t) {
  const trigger = await on.inject({
    method: 'POST',
    url: `/subscriptions/${subscriptionId}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation?${INSIGHTS}`,
  });
  expect(trigger.status).toBe(202);
  const location = new URL(String(trigger.headers.location));
  await until(
    () => on.inject({ method: 'GET', url: `${location.pathname}${location.search}` }),
    (reply) => reply.status === 200,
    'the scan',
  );
}

const states = (scope: string, filter: string) => complianceStates(t, scope, filter);

describe('the policy path of the transition page', () => {
  it('assigning 766e621d at a management group and remediating moves every subscription to MdeTvm', async () => {
    const group = `mg-${randomUUID().slice(0, 8)}`;
    const subscriptions = await managementGroup(group, 3);
    const machines: string[] = [];
    for (const subscriptionId of subscriptions) {
      await serversPlan(t, subscriptionId, 'P2', { agentless: false });
      await setting(t, subscriptionId, 'WDATP', true);
      machines.push(await vm(t, subscriptionId, 'web01'));
    }
    const groupScope = `/providers/Microsoft.Management/managementGroups/${group}`;
    const assignmentId = `${groupScope}/providers/Microsoft.Authorization/policyAssignments/va-transition`;
    const assigned = await t.inject({
      method: 'PUT',
      url: `${assignmentId}?${AUTH}`,
      body: {
        location: 'eastus',
        identity: { type: 'SystemAssigned' },
        properties: {
          displayName:
            'Setup subscriptions to transition to an alternative vulnerability assessment solution',
          policyDefinitionId: `/providers/Microsoft.Authorization/policyDefinitions/${TRANSITION}`,
        },
      },
    });
    expect(assigned.status).toBe(201);
    expect(assigned.body.identity.principalId).toMatch(/^[0-9a-f-]{36}$/);
    const roles = await t.inject({
      method: 'GET',
      url: `${groupScope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=${encodeURIComponent(`principalId eq '${assigned.body.identity.principalId}'`)}`,
    });
    expect(roles.body.value.map((role: any) => role.properties.roleDefinitionId.split('/').pop())).toContain(
      'fb1c8493-542b-48eb-b624-b4c8fea62acd',
    );

    await scan(subscriptions[0]!);
    const nonCompliant = await until(
      () =>
        states(groupScope, "complianceState eq 'NonCompliant' and policyAssignmentName eq 'va-transition'"),
      (value) => value.length === 3,
      'three NonCompliant subscriptions',
    );
    expect(nonCompliant.map((state) => state.resourceId.toLowerCase()).sort()).toEqual(
      subscriptions.map((id) => `/subscriptions/${id}`).sort(),
    );

    const remediationId = `${groupScope}/providers/Microsoft.PolicyInsights/remediations/va-transition-fix`;
    const created = await t.inject({
      method: 'PUT',
      url: `${remediationId}?api-version=2021-10-01`,
      body: { properties: { policyAssignmentId: assignmentId } },
    });
    expect(created.status).toBe(201);
    expect(created.body.properties.deploymentStatus.totalDeployments).toBe(3);
    const finished = await until(
      () => t.inject({ method: 'GET', url: `${remediationId}?api-version=2021-10-01` }),
      (reply) =>
        reply.body.properties.provisioningState !== 'Accepted' &&
        reply.body.properties.provisioningState !== 'Running',
      'the remediation',
    );
    expect(finished.body.properties.provisioningState).toBe('Succeeded');
    expect(finished.body.properties.deploymentStatus).toEqual({
      totalDeployments: 3,
      successfulDeployments: 3,
      failedDeployments: 0,
    });
    const deployments = await t.inject({
      method: 'POST',
      url: `${remediationId}/listDeployments?api-version=2021-10-01`,
    });
    expect(deployments.status, JSON.stringify(deployments.body)).toBe(200);
    expect(deployments.body.value.every((deployment: any) => deployment.status === 'Succeeded')).toBe(true);

    for (const subscriptionId of subscriptions) {
      const settingReply = await t.inject({
        method: 'GET',
        url: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
      });
      expect(settingReply.body.properties.selectedProvider).toBe('MdeTvm');
    }
    expect(await states(groupScope, "complianceState eq 'NonCompliant'")).toEqual([]);
    expect(await states(groupScope, "complianceState eq 'Compliant'")).toHaveLength(3);
    for (const machine of machines) {
      expect((await vaAssessment(t, machine)).body.properties.status).toMatchObject({
        code: 'Healthy',
        cause: 'mdeTvm',
      });
    }
  });
});

describe('a remediation interrupted by a restart', () => {
  it('resumes from its recorded deployments: a half-done one re-checked and counted, the rest deployed', async () => {
    const first = await startTestServer({ listen: false });
    const file = join(first.dir, 'vaplane.db');
    const group = `mg-${randomUUID().slice(0, 8)}`;
    const subscriptions = await managementGroup(group, 3, first);
    const groupScope = `/providers/Microsoft.Management/managementGroups/${group}`;
    const assignmentId = `${groupScope}/providers/Microsoft.Authorization/policyAssignments/va-transition`;
    const assigned = await first.inject({
      method: 'PUT',
      url: `${assignmentId}?${AUTH}`,
      body: {
        location: 'eastus',
        identity: { type: 'SystemAssigned' },
        properties: {
          policyDefinitionId: `/providers/Microsoft.Authorization/policyDefinitions/${TRANSITION}`,
        },
      },
    });
    expect(assigned.status).toBe(201);
    await scan(subscriptions[0]!, first);
    const remediationId = `${groupScope}/providers/Microsoft.PolicyInsights/remediations/interrupted`;
    const created = await first.inject({
      method: 'PUT',
      url: `${remediationId}?api-version=2021-10-01`,
      body: { properties: { policyAssignmentId: assignmentId } },
    });
    expect(created.status).toBe(201);
    await until(
      () => first.inject({ method: 'GET', url: `${remediationId}?api-version=2021-10-01` }),
      (reply) => reply.body.properties.provisioningState === 'Succeeded',
      'the first run',
    );
    // The server stops; its folder (and database) stays for the next one.
    await first.server.close();

    // The state a process killed mid-task leaves: one deployment recorded, one that had written the
    // setting but not its status, one not started (its subscription without the setting).
    const store = await openStore({ db: file });
    const [done, halfDone, notStarted] = subscriptions.map((id) => `/subscriptions/${id}`.toLowerCase()) as [
      string,
      string,
      string,
    ];
    const { key: remediationKey } = await store.db
      .selectFrom('resources')
      .select('key')
      .where('type', '=', 'microsoft.policyinsights/remediations')
      .where('name', '=', 'interrupted')
      .executeTakeFirstOrThrow();
    const remediation = structuredClone((await getResource(store.db, remediationKey))!);
    remediation.body.properties = {
      ...remediation.body.properties,
      provisioningState: 'Running',
      deploymentStatus: { totalDeployments: 3, successfulDeployments: 1, failedDeployments: 0 },
    };
    await putResource(store.db, remediation);
    const rows = await store.db
      .selectFrom('resources')
      .select('key')
      .where('parent_key', '=', remediation.key)
      .execute();
    const deploymentIds = new Map<string, string>();
    for (const { key } of rows) {
      const row = structuredClone((await getResource(store.db, key))!);
      const target = String(row.body.remediatedResourceId).toLowerCase();
      deploymentIds.set(target, String(row.body.deploymentId));
      if (target === done) continue;
      const { deploymentId: _dropped, ...body } = row.body;
      row.body = { ...body, status: target === halfDone ? 'Running' : 'NotStarted' };
      await putResource(store.db, row);
    }
    await store.db
      .deleteFrom('resources')
      .where(
        'key',
        '=',
        keyOf(
          `${notStarted}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
        ),
      )
      .execute();
    await store.close();

    const second = await createServer({ db: file, port: 0, lroDelayMs: 50 });
    try {
      const inject = await adminInjector(second);
      const get = (url: string, method: 'GET' | 'POST' = 'GET') => inject({ method, url });
      const finished = await until(
        () => get(`${remediationId}?api-version=2021-10-01`),
        (reply) => reply.body.properties.provisioningState !== 'Running',
        'the resumed run',
      );
      expect(finished.body.properties.provisioningState).toBe('Succeeded');
      expect(finished.body.properties.deploymentStatus).toEqual({
        totalDeployments: 3,
        successfulDeployments: 3,
        failedDeployments: 0,
      });
      const deployments = await get(`${remediationId}/listDeployments?api-version=2021-10-01`, 'POST');
      const byTarget = new Map<string, any>(
        deployments.body.value.map((row: any) => [String(row.remediatedResourceId).toLowerCase(), row]),
      );
      expect([...byTarget.values()].map((row) => row.status)).toEqual([
        'Succeeded',
        'Succeeded',
        'Succeeded',
      ]);
      expect(byTarget.get(done).deploymentId).toBe(deploymentIds.get(done));
      expect(byTarget.get(halfDone).deploymentId, 'the half-done one is not deployed again').toBeUndefined();
      expect(byTarget.get(notStarted).deploymentId).toMatch(/\/deployments\//i);
      const restored = await get(
        `${notStarted}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
      );
      expect(restored.body.properties.selectedProvider).toBe('MdeTvm');
    } finally {
      await second.close();
      rmSync(first.dir, { recursive: true, force: true });
    }
  });
});
