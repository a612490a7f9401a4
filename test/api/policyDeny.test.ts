/**
 * Deny at request time: a write that an enforced `Deny` assignment forbids answers 403
 * `RequestDisallowedByPolicy` with the `PolicyViolation` additionalInfo and writes nothing; a compliant
 * write, `DoNotEnforce` and `notScopes` let it through. Bad definitions are refused at create time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { virtualMachineRecord } from '../../src/providers/compute/index.js';
import { putResource } from '../../src/store/index.js';
import { defenderSubscription, GROUP, resourceGroup } from '../support/defender.js';
import { assignPolicy, definePolicy, requireTagDefinition, THEN } from '../support/policy.js';
import { startTestServer, type TestServer } from '../support/server.js';

const AUTH = 'api-version=2023-04-01';
const RESOURCES = 'api-version=2021-04-01';
const LEGACY_VA = 'api-version=2020-01-01';

let t: TestServer;
beforeAll(async () => {
  // Before the Qualys retirement, so a legacy `default` onboarding is otherwise accepted.
  t = await startTestServer({ listen: false, now: new Date('2024-03-01T00:00:00Z') });
});
afterAll(async () => t?.close());

/** Every stored row but compliance states, which re-evaluation after earlier writes replaces meanwhile. */
async function rowCount(): Promise<number> {
  const row = await t.server.store.db
    .selectFrom('resources')
    .where('type', 'not like', 'microsoft.policyinsights/%')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

const subscription = () => defenderSubscription(t);

const REQUIRE_TAG = {
  ...requireTagDefinition({ displayName: 'Resource groups need a cost-center tag', defaultEffect: 'Deny' }),
  policyType: 'Custom',
};

const NO_LEGACY_VA = {
  displayName: 'No new built-in Qualys onboarding',
  policyType: 'Custom',
  mode: 'All',
  policyRule: {
    if: {
      allOf: [
        { field: 'type', equals: 'Microsoft.Security/serverVulnerabilityAssessments' },
        { field: 'name', equals: 'default' },
      ],
    },
    [THEN]: { effect: 'deny' },
  },
};

const define = (subscriptionId: string, name: string, properties: unknown) =>
  definePolicy(t, `/subscriptions/${subscriptionId}`, name, properties);
const assign = (scope: string, name: string, properties: Record<string, unknown>) =>
  assignPolicy(t, scope, name, properties);

const putGroup = (subscriptionId: string, name: string, tags?: Record<string, string>) =>
  t.inject({
    method: 'PUT',
    url: `/subscriptions/${subscriptionId}/resourcegroups/${name}?${RESOURCES}`,
    body: { location: 'westeurope', ...(tags ? { tags } : {}) },
  });

describe('Deny at request time', () => {
  it('refuses a resource group without the tag with RequestDisallowedByPolicy and writes nothing', async () => {
    const subscriptionId = await subscription();
    const definitionId = await define(subscriptionId, 'require-cost-center', REQUIRE_TAG);
    const assignmentId = await assign(`/subscriptions/${subscriptionId}`, 'cost-center', {
      displayName: 'Cost center on every group',
      policyDefinitionId: definitionId,
      parameters: { tagName: { value: 'cost-center' } },
    });
    const before = await rowCount();
    const refused = await putGroup(subscriptionId, 'rg-untagged');
    expect(refused.status).toBe(403);
    expect(await rowCount()).toBe(before);
    const identifiers = [
      {
        policyAssignment: { name: 'cost-center', id: assignmentId },
        policyDefinition: { name: 'require-cost-center', id: definitionId },
      },
    ];
    expect(refused.body.error).toMatchObject({
      code: 'RequestDisallowedByPolicy',
      target: 'rg-untagged',
      message: `Resource 'rg-untagged' was disallowed by policy. Policy identifiers: '${JSON.stringify(identifiers)}'.`,
    });
    const [violation] = refused.body.error.additionalInfo;
    expect(violation.type).toBe('PolicyViolation');
    expect(violation.info).toMatchObject({
      policyDefinitionDisplayName: 'Resource groups need a cost-center tag',
      policyDefinitionId: definitionId,
      policyDefinitionName: 'require-cost-center',
      policyDefinitionEffect: 'deny',
      policyAssignmentId: assignmentId,
      policyAssignmentName: 'cost-center',
      policyAssignmentDisplayName: 'Cost center on every group',
      policyAssignmentScope: `/subscriptions/${subscriptionId}`,
      policyAssignmentParameters: { tagName: { value: 'cost-center' } },
    });
    expect(violation.info.evaluationDetails.evaluatedExpressions).toContainEqual(
      expect.objectContaining({ expressionKind: 'Field', expression: 'type', result: 'True' }),
    );
    const missing = await t.inject({
      method: 'GET',
      url: `/subscriptions/${subscriptionId}/resourcegroups/rg-untagged?${RESOURCES}`,
    });
    expect(missing.status).toBe(404);
  });

  it('accepts a compliant write, and refuses an update that breaks the rule', async () => {
    const subscriptionId = await subscription();
    const definitionId = await define(subscriptionId, 'require-owner', REQUIRE_TAG);
    await assign(`/subscriptions/${subscriptionId}`, 'owner-tag', {
      policyDefinitionId: definitionId,
      parameters: { tagName: { value: 'owner' } },
    });
    expect((await putGroup(subscriptionId, 'rg-tagged', { owner: 'ops' })).status).toBe(201);
    const update = await putGroup(subscriptionId, 'rg-tagged', { team: 'ops' });
    expect(update.status).toBe(403);
    const kept = await t.inject({
      method: 'GET',
      url: `/subscriptions/${subscriptionId}/resourcegroups/rg-tagged?${RESOURCES}`,
    });
    expect(kept.body.tags).toEqual({ owner: 'ops' });
  });

  it('lets the write through when the assignment is DoNotEnforce or its effect is Audit', async () => {
    const subscriptionId = await subscription();
    const definitionId = await define(subscriptionId, 'require-team', REQUIRE_TAG);
    await assign(`/subscriptions/${subscriptionId}`, 'team-not-enforced', {
      policyDefinitionId: definitionId,
      enforcementMode: 'DoNotEnforce',
      parameters: { tagName: { value: 'team' } },
    });
    await assign(`/subscriptions/${subscriptionId}`, 'team-audit', {
      policyDefinitionId: definitionId,
      parameters: { tagName: { value: 'team' }, effect: { value: 'Audit' } },
    });
    expect((await putGroup(subscriptionId, 'rg-free')).status).toBe(201);
  });

  it('exempts a resource group listed in notScopes', async () => {
    const subscriptionId = await subscription();
    const definitionId = await define(subscriptionId, 'no-legacy-va', NO_LEGACY_VA);
    await resourceGroup(t, subscriptionId, 'rg-exempt');
    const priced = await t.inject({
      method: 'PUT',
      url: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2023-01-01`,
      body: { properties: { pricingTier: 'Standard', subPlan: 'P2' } },
    });
    expect(priced.status).toBe(200);
    await assign(`/subscriptions/${subscriptionId}`, 'no-qualys', {
      policyDefinitionId: definitionId,
      notScopes: [`/subscriptions/${subscriptionId}/resourceGroups/rg-exempt`],
    });
    const machine = async (group: string, name: string) => {
      const record = virtualMachineRecord({
        subscriptionId,
        resourceGroup: group,
        name,
        location: 'westeurope',
        osType: 'Linux',
        image: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server' },
        powerState: 'running',
        now: t.server.services.clock.now().toISOString(),
      });
      await putResource(t.server.store.db, record);
      return record.id;
    };
    const governed = await machine(GROUP, 'vm-governed');
    const exempt = await machine('rg-exempt', 'vm-exempt');
    const va = (id: string) =>
      `${id}/providers/Microsoft.Security/serverVulnerabilityAssessments/default?${LEGACY_VA}`;

    const before = await rowCount();
    const refused = await t.inject({ method: 'PUT', url: va(governed) });
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body.error.code).toBe('RequestDisallowedByPolicy');
    expect(refused.body.error.target).toBe('Default');
    expect(await rowCount()).toBe(before);

    expect((await t.inject({ method: 'PUT', url: va(exempt) })).status).toBe(202);
  });
});

describe('bad definitions are refused at create time', () => {
  const cases: [string, unknown, string][] = [
    [
      'an unknown operator',
      { mode: 'All', policyRule: { if: { field: 'type', resembles: 'x' }, [THEN]: { effect: 'deny' } } },
      'InvalidPolicyRule',
    ],
    [
      'an unknown alias',
      {
        mode: 'All',
        policyRule: {
          if: { field: 'Microsoft.Compute/virtualMachines/noSuchProperty', equals: 'x' },
          [THEN]: { effect: 'deny' },
        },
      },
      'InvalidPolicyAlias',
    ],
    [
      'a bad template expression',
      {
        mode: 'All',
        policyRule: { if: { value: "[concat('a',, 'b')]", equals: 'a' }, [THEN]: { effect: 'deny' } },
      },
      'InvalidPolicyParameters',
    ],
    [
      'a default of the wrong parameter type',
      {
        mode: 'All',
        parameters: { limit: { type: 'Integer', defaultValue: 'ten' } },
        policyRule: { if: { field: 'type', equals: "[parameters('limit')]" }, [THEN]: { effect: 'deny' } },
      },
      'InvalidPolicyParameters',
    ],
  ];
  for (const [situation, properties, code] of cases) {
    it(`refuses ${situation} with ${code}`, async () => {
      const subscriptionId = await subscription();
      const url = `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/policyDefinitions/bad?${AUTH}`;
      const reply = await t.inject({ method: 'PUT', url, body: { properties } });
      expect(reply.status, JSON.stringify(reply.body)).toBe(400);
      expect(reply.body.error.code).toBe(code);
      expect((await t.inject({ method: 'GET', url })).status).toBe(404);
    });
  }
});
