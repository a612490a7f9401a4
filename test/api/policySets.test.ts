/**
 * Policy set definitions (initiatives) through the API: custom sets at subscriptions and management
 * groups with Azure's create-time refusals, assignment of a set (its parameters rendered into every
 * member, its identity given every member's roles), compliance per member with the set's fields in
 * queryResults, `$filter` and `summarize`, remediation of one member by its reference id, and Deny by a
 * member at request time.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defenderSubscription, GROUP, resourceGroup, serversPlan, setting, vm } from '../support/defender.js';
import { addManagementGroup } from '../support/estate.js';
import { complianceStates, definePolicy, requireTagDefinition, THEN, until } from '../support/policy.js';
import { startTestServer, type TestServer } from '../support/server.js';

const AUTH = 'api-version=2023-04-01';
const INSIGHTS = 'api-version=2019-10-01';
const REMEDIATIONS = 'api-version=2021-10-01';
const TRANSITION = '766e621d-ba95-4e43-a6f2-e945db3d7888';
const VA_ON_MACHINES = '13ce0167-8ca6-4048-8e6b-f996402e3c1b';
const SECURITY_ADMIN = 'fb1c8493-542b-48eb-b624-b4c8fea62acd';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ listen: false });
});
afterAll(async () => t?.close());

const subscription = (managementGroup?: string) => defenderSubscription(t, { managementGroup });
const managementGroup = (name: string) => addManagementGroup(t.server, name);

const REQUIRE_TAG = requireTagDefinition({
  displayName: 'Resource groups need a tag',
  defaultEffect: 'Audit',
});

const AUDIT_NAMES = {
  displayName: 'Resource group names start with a prefix',
  mode: 'All',
  parameters: { prefix: { type: 'String' } },
  policyRule: {
    if: {
      allOf: [
        { field: 'type', equals: 'Microsoft.Resources/subscriptions/resourceGroups' },
        { field: 'name', notLike: "[concat(parameters('prefix'), '*')]" },
      ],
    },
    [THEN]: { effect: 'audit' },
  },
};

const define = (scope: string, name: string, properties: unknown) => definePolicy(t, scope, name, properties);

const putSet = (scope: string, name: string, properties: unknown) =>
  t.inject({
    method: 'PUT',
    url: `${scope}/providers/Microsoft.Authorization/policySetDefinitions/${name}?${AUTH}`,
    body: { properties },
  });

async function assign(scope: string, name: string, properties: Record<string, unknown>, identity = false) {
  return t.inject({
    method: 'PUT',
    url: `${scope}/providers/Microsoft.Authorization/policyAssignments/${name}?${AUTH}`,
    body: {
      ...(identity ? { location: 'eastus', identity: { type: 'SystemAssigned' } } : {}),
      properties,
    },
  });
}

const states = (scope: string, filter: string) => complianceStates(t, scope, filter);

/** A set shaped like Microsoft's "Cost Management" example: two members, two groups, one set parameter. */
function governanceSet(tagDefinition: string, namesDefinition: string) {
  return {
    displayName: 'Governance',
    description: 'Tags and names on resource groups',
    metadata: { category: 'Governance' },
    parameters: {
      tagEffect: { type: 'String', allowedValues: ['Audit', 'Deny'], defaultValue: 'Audit' },
      namePrefix: { type: 'String', defaultValue: 'rg-' },
    },
    policyDefinitionGroups: [
      { name: 'Tagging', displayName: 'Tagging policies' },
      { name: 'Naming', displayName: 'Naming policies' },
    ],
    policyDefinitions: [
      {
        policyDefinitionId: tagDefinition,
        policyDefinitionReferenceId: 'Require_Owner_Tag',
        groupNames: ['Tagging'],
        parameters: { tagName: { value: 'owner' }, effect: { value: "[parameters('tagEffect')]" } },
      },
      {
        policyDefinitionId: namesDefinition,
        groupNames: ['Naming'],
        parameters: { prefix: { value: "[parameters('namePrefix')]" } },
      },
    ],
  };
}

describe('policy set definitions', () => {
  it('are created, read, listed and updated at a subscription, with a numeric reference id generated', async () => {
    const subscriptionId = await subscription();
    const scope = `/subscriptions/${subscriptionId}`;
    const tag = await define(scope, 'require-tag', REQUIRE_TAG);
    const names = await define(scope, 'group-names', AUDIT_NAMES);
    const created = await putSet(scope, 'governance', governanceSet(tag, names));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      id: `${scope}/providers/Microsoft.Authorization/policySetDefinitions/governance`,
      type: 'Microsoft.Authorization/policySetDefinitions',
      name: 'governance',
      properties: { policyType: 'Custom', displayName: 'Governance', metadata: { category: 'Governance' } },
    });
    const [first, second] = created.body.properties.policyDefinitions;
    expect(first.policyDefinitionReferenceId).toBe('Require_Owner_Tag');
    expect(second.policyDefinitionReferenceId).toMatch(/^\d+$/);
    expect(second.groupNames).toEqual(['Naming']);

    const read = await t.inject({ method: 'GET', url: `${created.body.id}?${AUTH}` });
    expect(read.status).toBe(200);
    expect(read.body.properties.policyDefinitions[1].policyDefinitionReferenceId).toBe(
      second.policyDefinitionReferenceId,
    );
    // A PUT of what GET returned keeps the ids and answers 200.
    const updated = await putSet(scope, 'governance', {
      ...read.body.properties,
      displayName: 'Governance v2',
    });
    expect(updated.status).toBe(200);
    expect(updated.body.properties.policyDefinitions[1].policyDefinitionReferenceId).toBe(
      second.policyDefinitionReferenceId,
    );

    const listed = await t.inject({
      method: 'GET',
      url: `${scope}/providers/Microsoft.Authorization/policySetDefinitions?${AUTH}`,
    });
    expect(listed.body.value.map((set: any) => set.name)).toContain('governance');
    const builtIns = await t.inject({
      method: 'GET',
      url: `${scope}/providers/Microsoft.Authorization/policySetDefinitions?${AUTH}&$filter=${encodeURIComponent("policyType eq 'BuiltIn'")}`,
    });
    expect(builtIns.body.value).toEqual([]);
    const tenant = await t.inject({
      method: 'GET',
      url: `/providers/Microsoft.Authorization/policySetDefinitions?${AUTH}`,
    });
    expect(tenant.status).toBe(200);
    expect(tenant.body.value).toEqual([]);
  });

  it('at a management group are seen below it and not beside it, as definitions are', async () => {
    const group = await managementGroup(`mg-${randomUUID().slice(0, 8)}`);
    const inside = await subscription(group.split('/').pop());
    const outside = await subscription();
    const tag = await define(group, 'require-tag', REQUIRE_TAG);
    const names = await define(group, 'group-names', AUDIT_NAMES);
    expect((await putSet(group, 'governance-mg', governanceSet(tag, names))).status).toBe(201);
    const list = async (subscriptionId: string) =>
      (
        await t.inject({
          method: 'GET',
          url: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/policySetDefinitions?${AUTH}`,
        })
      ).body.value.map((set: any) => set.name);
    expect(await list(inside)).toContain('governance-mg');
    expect(await list(outside)).not.toContain('governance-mg');
    // Definitions follow the same rule.
    const definitions = async (subscriptionId: string) =>
      (
        await t.inject({
          method: 'GET',
          url: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/policyDefinitions?${AUTH}`,
        })
      ).body.value.map((definition: any) => definition.id);
    expect(await definitions(inside)).toContain(tag);
    expect(await definitions(outside)).not.toContain(tag);
  });

  it("refuses what Azure refuses at create time, with Azure's codes", async () => {
    const subscriptionId = await subscription();
    const scope = `/subscriptions/${subscriptionId}`;
    const tag = await define(scope, 'require-tag', REQUIRE_TAG);
    const names = await define(scope, 'group-names', AUDIT_NAMES);
    const elsewhere = await define(`/subscriptions/${await subscription()}`, 'elsewhere', AUDIT_NAMES);
    const refused = async (properties: unknown) => {
      const reply = await putSet(scope, `bad-${randomUUID().slice(0, 6)}`, properties);
      return { status: reply.status, code: reply.body?.error?.code, message: reply.body?.error?.message };
    };
    const base = governanceSet(tag, names);
    expect(
      await refused({
        ...base,
        policyDefinitions: [
          {
            ...base.policyDefinitions[0],
            policyDefinitionId: `${scope}/providers/Microsoft.Authorization/policyDefinitions/nope`,
          },
        ],
      }),
    ).toMatchObject({ status: 404, code: 'PolicyDefinitionNotFound' });
    expect(
      await refused({
        ...base,
        policyDefinitions: [{ ...base.policyDefinitions[1], policyDefinitionId: elsewhere }],
      }),
    ).toMatchObject({ status: 400, code: 'InvalidCreatePolicySetDefinitionRequest' });
    expect(
      await refused({
        ...base,
        policyDefinitions: [
          base.policyDefinitions[0],
          { ...base.policyDefinitions[1], policyDefinitionReferenceId: 'require_owner_tag' },
        ],
      }),
    ).toMatchObject({ status: 400, code: 'InvalidCreatePolicySetDefinitionRequest' });
    expect(
      await refused({
        ...base,
        policyDefinitions: [{ ...base.policyDefinitions[0], parameters: { effect: { value: 'Audit' } } }],
      }),
    ).toMatchObject({ status: 400, code: 'MissingPolicyParameter' });
    expect(
      await refused({
        ...base,
        policyDefinitions: [{ ...base.policyDefinitions[1], groupNames: ['Security'] }],
      }),
    ).toMatchObject({ status: 400, code: 'InvalidPolicySetDefinitionGroups' });
    expect(
      await refused({
        ...base,
        policyDefinitions: [
          { ...base.policyDefinitions[1], parameters: { prefix: { value: "[parameters('unknown')]" } } },
        ],
      }),
    ).toMatchObject({ status: 400, code: 'UndefinedPolicyParameter' });
    const set = await putSet(scope, 'inner', base);
    expect(
      await refused({ ...base, policyDefinitions: [{ policyDefinitionId: set.body.id }] }),
    ).toMatchObject({ status: 400, code: 'InvalidCreatePolicySetDefinitionRequest' });
    const tenantWrite = await t.inject({
      method: 'PUT',
      url: `/providers/Microsoft.Authorization/policySetDefinitions/mine?${AUTH}`,
      body: { properties: base },
    });
    expect(tenantWrite.status).toBe(400);
    const builtIn = await t.inject({
      method: 'GET',
      url: `/providers/Microsoft.Authorization/policySetDefinitions/no-such-built-in?${AUTH}`,
    });
    expect(builtIn.body.error.code).toBe('PolicySetDefinitionNotFound');
    // The built-in path is public, as built-in definitions are: a subscription Reader gets the 404 too.
    const reader = await t.token({ principal: `reader-${randomUUID().slice(0, 6)}`, role: 'Reader', scope });
    const asReader = await t.inject({
      method: 'GET',
      url: `/providers/Microsoft.Authorization/policySetDefinitions/no-such-built-in?${AUTH}`,
      token: reader,
    });
    expect(asReader.status).toBe(404);
    const listAsReader = await t.inject({
      method: 'GET',
      url: `/providers/Microsoft.Authorization/policySetDefinitions?${AUTH}`,
      token: reader,
    });
    expect(listAsReader.status).toBe(200);
  });

  it('keep what they reference: a referenced or assigned definition and an assigned set cannot be deleted', async () => {
    const subscriptionId = await subscription();
    const scope = `/subscriptions/${subscriptionId}`;
    const tag = await define(scope, 'require-tag', REQUIRE_TAG);
    const names = await define(scope, 'group-names', AUDIT_NAMES);
    const set = await putSet(scope, 'governance', governanceSet(tag, names));
    const deleteDefinition = await t.inject({ method: 'DELETE', url: `${names}?${AUTH}` });
    expect(deleteDefinition.status).toBe(400);
    expect(deleteDefinition.body.error.code).toBe('InvalidDeletePolicyDefinitionRequest');
    expect(deleteDefinition.body.error.message).toContain(set.body.id);
    const assignment = await assign(scope, 'governance', { policyDefinitionId: set.body.id });
    expect(assignment.status, JSON.stringify(assignment.body)).toBe(201);
    const deleteSet = await t.inject({ method: 'DELETE', url: `${set.body.id}?${AUTH}` });
    expect(deleteSet.status).toBe(400);
    expect(deleteSet.body.error.code).toBe('InvalidDeletePolicySetDefinitionRequest');
    expect((await t.inject({ method: 'DELETE', url: `${assignment.body.id}?${AUTH}` })).status).toBe(200);
    expect((await t.inject({ method: 'DELETE', url: `${set.body.id}?${AUTH}` })).status).toBe(200);
    expect((await t.inject({ method: 'DELETE', url: `${names}?${AUTH}` })).status).toBe(200);
    // A definition assigned on its own is kept the same way.
    const direct = await assign(scope, 'require-tag', {
      policyDefinitionId: tag,
      parameters: { tagName: { value: 'owner' } },
    });
    expect(direct.status, JSON.stringify(direct.body)).toBe(201);
    const deleteAssigned = await t.inject({ method: 'DELETE', url: `${tag}?${AUTH}` });
    expect(deleteAssigned.status).toBe(400);
    expect(deleteAssigned.body.error.code).toBe('InvalidDeletePolicyDefinitionRequest');
    expect(deleteAssigned.body.error.message).toContain(direct.body.id);
    expect((await t.inject({ method: 'GET', url: `${tag}?${AUTH}` })).status).toBe(200);
    expect((await t.inject({ method: 'DELETE', url: `${direct.body.id}?${AUTH}` })).status).toBe(200);
    expect((await t.inject({ method: 'DELETE', url: `${tag}?${AUTH}` })).status).toBe(200);
  });
});

describe('listing the catalogues with $filter', () => {
  const list = async (scope: string, type: string, filter: string) =>
    t.inject({
      method: 'GET',
      url: `${scope}/providers/Microsoft.Authorization/${type}?${AUTH}&$filter=${encodeURIComponent(filter)}`,
    });
  const names = (reply: { body: { value: { name: string }[] } }) =>
    reply.body.value.map((entry) => entry.name);

  it('lists definitions by policyType or category, and refuses atExactScope() for them', async () => {
    const scope = `/subscriptions/${await subscription()}`;
    await define(scope, 'group-names', { ...AUDIT_NAMES, metadata: { category: 'Naming' } });
    const custom = await list(scope, 'policyDefinitions', "policyType eq 'Custom'");
    expect(custom.status).toBe(200);
    expect(names(custom)).toContain('group-names');
    expect(custom.body.value.every((entry: any) => entry.properties.policyType === 'Custom')).toBe(true);
    const builtIns = await list(scope, 'policyDefinitions', "policyType eq 'BuiltIn'");
    expect(names(builtIns)).toContain(TRANSITION);
    expect(names(builtIns)).not.toContain('group-names');
    expect(names(await list(scope, 'policyDefinitions', "category eq 'naming'"))).toEqual(['group-names']);
    const exact = await list(scope, 'policyDefinitions', 'atExactScope()');
    expect(exact.status).toBe(400);
    expect(exact.body.error).toMatchObject({
      code: 'InvalidQueryParameterValue',
      message:
        "The query parameter '$filter' has an invalid value 'atExactScope()': Supported: policyType eq '{value}', category eq '{value}'.",
    });
  });

  it('lists only the sets at the scope itself with atExactScope(), and names it among the supported filters', async () => {
    const group = await managementGroup(`mg-${randomUUID().slice(0, 8)}`);
    const scope = `/subscriptions/${await subscription(group.split('/').pop())}`;
    const tag = await define(group, 'require-tag', REQUIRE_TAG);
    const namesDefinition = await define(group, 'group-names', AUDIT_NAMES);
    expect((await putSet(group, 'governance-above', governanceSet(tag, namesDefinition))).status).toBe(201);
    expect((await putSet(scope, 'governance-here', governanceSet(tag, namesDefinition))).status).toBe(201);
    expect(names(await list(scope, 'policySetDefinitions', "category eq 'Governance'")).sort()).toEqual([
      'governance-above',
      'governance-here',
    ]);
    expect(names(await list(scope, 'policySetDefinitions', 'atExactScope()'))).toEqual(['governance-here']);
    const unknown = await list(scope, 'policySetDefinitions', "displayName eq 'Governance'");
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe(
      "The query parameter '$filter' has an invalid value 'displayName eq 'Governance'': Supported: policyType eq '{value}', category eq '{value}', atExactScope().",
    );
  });
});

describe('assigning a set', () => {
  it('renders member parameters, judges each member and reports the set in states and summaries', async () => {
    const subscriptionId = await subscription();
    const scope = `/subscriptions/${subscriptionId}`;
    await resourceGroup(t, subscriptionId, 'legacy-apps');
    const tag = await define(scope, 'require-tag', REQUIRE_TAG);
    const names = await define(scope, 'group-names', AUDIT_NAMES);
    const set = await putSet(scope, 'governance', governanceSet(tag, names));
    const namesReference = set.body.properties.policyDefinitions[1].policyDefinitionReferenceId;

    const badValue = await assign(scope, 'bad', {
      policyDefinitionId: set.body.id,
      parameters: { tagEffect: { value: 'Disabled' } },
    });
    expect(badValue.body.error.code).toBe('PolicyParameterValueNotAllowed');
    const undeclared = await assign(scope, 'bad', {
      policyDefinitionId: set.body.id,
      parameters: { tagName: { value: 'owner' } },
    });
    expect(undeclared.body.error.code).toBe('UndefinedPolicyParameter');

    const assigned = await assign(scope, 'governance', {
      policyDefinitionId: set.body.id,
      parameters: { namePrefix: { value: 'legacy-' } },
    });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    // Both groups lack the owner tag; only rg-va misses the 'legacy-' prefix the set passes on (the
    // other is not applicable to that member: no state).
    const judged = await until(
      () => states(scope, "policyAssignmentName eq 'governance'"),
      (value) => value.length === 3,
      'three states',
    );
    const byMember = (referenceId: string) =>
      Object.fromEntries(
        judged
          .filter((state) => state.policyDefinitionReferenceId === referenceId)
          .map((state) => [state.resourceId.split('/').pop(), state.complianceState]),
      );
    expect(byMember('Require_Owner_Tag')).toEqual({ [GROUP]: 'NonCompliant', 'legacy-apps': 'NonCompliant' });
    expect(byMember(namesReference)).toEqual({ [GROUP]: 'NonCompliant' });
    expect(judged.find((state) => state.policyDefinitionReferenceId === 'Require_Owner_Tag')).toMatchObject({
      policySetDefinitionId: set.body.id,
      policySetDefinitionName: 'governance',
      policySetDefinitionCategory: 'Governance',
      policyDefinitionId: tag,
      policyDefinitionName: 'require-tag',
      policyDefinitionGroupNames: ['Tagging'],
      policyDefinitionAction: 'audit',
    });

    const naming = await states(
      scope,
      "policySetDefinitionName eq 'governance' and policyDefinitionGroupNames/any(g: g eq 'Naming') and complianceState eq 'NonCompliant'",
    );
    expect(naming.map((state) => state.resourceId.split('/').pop())).toEqual([GROUP]);
    expect(await states(scope, `policyDefinitionReferenceId eq '${namesReference}'`)).toHaveLength(1);

    const summary = await t.inject({
      method: 'POST',
      url: `${scope}/providers/Microsoft.PolicyInsights/policyStates/latest/summarize?${INSIGHTS}`,
    });
    const [assignmentSummary] = summary.body.value[0].policyAssignments;
    expect(assignmentSummary.policySetDefinitionId).toBe(set.body.id);
    expect(assignmentSummary.results).toMatchObject({ nonCompliantResources: 2, nonCompliantPolicies: 2 });
    const members = Object.fromEntries(
      assignmentSummary.policyDefinitions.map((member: any) => [member.policyDefinitionReferenceId, member]),
    );
    expect(members.Require_Owner_Tag.results.nonCompliantResources).toBe(2);
    expect(members[namesReference]).toMatchObject({
      policyDefinitionId: names,
      policyDefinitionGroupNames: ['Naming'],
      results: { nonCompliantResources: 1 },
    });
    expect(
      Object.fromEntries(
        assignmentSummary.policyGroups.map((group: any) => [
          group.policyGroupName,
          group.results.nonCompliantResources,
        ]),
      ),
    ).toEqual({ Tagging: 2, Naming: 1 });
  });

  it('remediates one member, named by its reference id, with the union of the members’ roles', async () => {
    const subscriptionId = await subscription();
    const scope = `/subscriptions/${subscriptionId}`;
    await serversPlan(t, subscriptionId, 'P2', { agentless: false });
    await setting(t, subscriptionId, 'WDATP', true);
    await vm(t, subscriptionId, 'web01');
    const names = await define(scope, 'group-names', AUDIT_NAMES);
    const set = await putSet(scope, 'va-transition', {
      displayName: 'VA transition',
      metadata: { category: 'Security Center' },
      policyDefinitions: [
        {
          policyDefinitionId: `/providers/Microsoft.Authorization/policyDefinitions/${TRANSITION}`,
          policyDefinitionReferenceId: 'SetupSubscriptions',
        },
        {
          policyDefinitionId: `/providers/Microsoft.Authorization/policyDefinitions/${VA_ON_MACHINES}`,
          policyDefinitionReferenceId: 'VaOnMachines',
          parameters: { vaType: { value: 'mdeTvm' } },
        },
        {
          policyDefinitionId: names,
          policyDefinitionReferenceId: 'Names',
          parameters: { prefix: { value: 'rg-' } },
        },
      ],
    });
    expect(set.status, JSON.stringify(set.body)).toBe(201);
    const assigned = await assign(scope, 'va-transition', { policyDefinitionId: set.body.id }, true);
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    const roles = await t.inject({
      method: 'GET',
      url: `${scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=${encodeURIComponent(`principalId eq '${assigned.body.identity.principalId}'`)}`,
    });
    // 766e621d and 13ce0167 both need Security Admin: one role assignment.
    expect(roles.body.value.map((role: any) => role.properties.roleDefinitionId.split('/').pop())).toEqual([
      SECURITY_ADMIN,
    ]);
    await until(
      () =>
        states(
          scope,
          "policyDefinitionReferenceId eq 'SetupSubscriptions' and complianceState eq 'NonCompliant'",
        ),
      (value) => value.length === 1,
      'the subscription NonCompliant for SetupSubscriptions',
    );

    const remediation = `${scope}/providers/Microsoft.PolicyInsights/remediations/setup`;
    const withoutReference = await t.inject({
      method: 'PUT',
      url: `${remediation}?${REMEDIATIONS}`,
      body: { properties: { policyAssignmentId: assigned.body.id } },
    });
    expect(withoutReference.status).toBe(400);
    expect(withoutReference.body.error).toMatchObject({ code: 'InvalidCreateRemediationRequest' });
    expect(withoutReference.body.error.message).toContain(
      'Remediations must specify a single policy definition reference ID within the policy set definition.',
    );
    const created = await t.inject({
      method: 'PUT',
      url: `${remediation}?${REMEDIATIONS}`,
      body: {
        properties: {
          policyAssignmentId: assigned.body.id,
          policyDefinitionReferenceId: 'SetupSubscriptions',
        },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // Only the subscription, 766e621d's resource: 13ce0167's machine is a different member.
    expect(created.body.properties.deploymentStatus.totalDeployments).toBe(1);
    const finished = await until(
      () => t.inject({ method: 'GET', url: `${remediation}?${REMEDIATIONS}` }),
      (reply) => !['Accepted', 'Running'].includes(reply.body.properties.provisioningState),
      'the remediation',
    );
    expect(finished.body.properties.provisioningState).toBe('Succeeded');
    const settingReply = await t.inject({
      method: 'GET',
      url: `${scope}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
    });
    expect(settingReply.body.properties.selectedProvider).toBe('MdeTvm');
    const [setup] = await states(scope, "policyDefinitionReferenceId eq 'SetupSubscriptions'");
    expect(setup.complianceState).toBe('Compliant');
  });

  it('denies a write that a Deny member forbids, naming the set', async () => {
    const subscriptionId = await subscription();
    const scope = `/subscriptions/${subscriptionId}`;
    const tag = await define(scope, 'require-tag', REQUIRE_TAG);
    const names = await define(scope, 'group-names', AUDIT_NAMES);
    const set = await putSet(scope, 'governance', governanceSet(tag, names));
    const assigned = await assign(scope, 'governance', {
      policyDefinitionId: set.body.id,
      parameters: { tagEffect: { value: 'Deny' } },
    });
    expect(assigned.status).toBe(201);
    const refused = await t.inject({
      method: 'PUT',
      url: `${scope}/resourcegroups/rg-untagged?api-version=2021-04-01`,
      body: { location: 'westeurope' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('RequestDisallowedByPolicy');
    expect(refused.body.error.additionalInfo).toHaveLength(1);
    expect(refused.body.error.additionalInfo[0].info).toMatchObject({
      policySetDefinitionId: set.body.id,
      policySetDefinitionName: 'governance',
      policyDefinitionReferenceId: 'Require_Owner_Tag',
      policyDefinitionId: tag,
      policyDefinitionEffect: 'deny',
    });
    const tagged = await t.inject({
      method: 'PUT',
      url: `${scope}/resourcegroups/rg-tagged?api-version=2021-04-01`,
      body: { location: 'westeurope', tags: { owner: 'team-a' } },
    });
    expect(tagged.status).toBe(201);
  });
});
