/**
 * The page's policy path through the API: assign 766e621d at a management group, scan, see the
 * subscriptions NonCompliant, remediate, and see every setting become MdeTvm, the subscriptions
 * Compliant and ffff0522 Healthy on their covered machines.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managementGroupBody, managementGroupRecord } from '../../src/providers/management/index.js';
import { putResource } from '../../src/store/index.js';
import { GROUP, resourceGroup, serversPlan, setting, vaAssessment, vm } from '../support/defender.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const TRANSITION = '766e621d-ba95-4e43-a6f2-e945db3d7888';
const AUTH = 'api-version=2023-04-01';
const INSIGHTS = 'api-version=2019-10-01';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function managementGroup(name: string, subscriptions: number) {
  const now = new Date().toISOString();
  await putResource(
    t.server.store.db,
    managementGroupRecord(
      managementGroupBody({
        name,
        displayName: name,
        tenantId: t.server.tenantId,
        updatedBy: 'admin',
        updatedTime: now,
      }),
      now,
    ),
  );
  const ids: string[] = [];
  for (let k = 0; k < subscriptions; k++) {
    const subscriptionId = randomUUID();
    await addSubscription(t.server, { subscriptionId, managementGroup: name });
    await resourceGroup(t, subscriptionId, GROUP);
    ids.push(subscriptionId);
  }
  t.server.services.authz.invalidate();
  return ids;
}

async function scan(subscriptionId: string) {
  const trigger = await t.inject({
    method: 'POST',
    url: `/subscriptions/${subscriptionId}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation?${INSIGHTS}`,
  });
  expect(trigger.status).toBe(202);
  const location = new URL(String(trigger.headers.location));
  await until(
    () => t.inject({ method: 'GET', url: `${location.pathname}${location.search}` }),
    (reply) => reply.status === 200,
    'the scan',
  );
}

async function states(scope: string, filter: string) {
  const reply = await t.inject({
    method: 'POST',
    url: `${scope}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?${INSIGHTS}&$filter=${encodeURIComponent(filter)}`,
  });
  expect(reply.status).toBe(200);
  return reply.body.value as { resourceId: string; complianceState: string; policyAssignmentName: string }[];
}

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
