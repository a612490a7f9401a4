import { describe, expect, it } from 'vitest';
import { createAliasRegistry, DEFAULT_ALIASES } from './aliases.js';
import {
  bindParameters,
  type CompileOptions,
  compileDefinition,
  parseEvaluationDelay,
} from './definition.js';
import {
  checkExistence,
  completeEvaluation,
  type EvaluatePolicyInput,
  evaluatePolicy,
  type PolicyEvaluation,
} from './effects.js';
import { PolicyError } from './errors.js';
import { renderTemplate } from './template.js';
import type {
  ArmResource,
  AssignmentParameterValues,
  JsonObject,
  PolicyDefinitionProperties,
  RequestContext,
  ResourceView,
} from './types.js';
import { resourceView, subscriptionView } from './views.js';

/** A policy rule's `then` is data, not a thenable: a computed key keeps Biome's noThenProperty quiet. */
const THEN = 'then';

// ─── World ───────────────────────────────────────────────────────────────────────────────────────

const SUBSCRIPTION = { subscriptionId: '11111111-2222-3333-4444-555555555555', displayName: 'Production' };
const OTHER_SUBSCRIPTION = { subscriptionId: '99999999-2222-3333-4444-555555555555', displayName: 'Sandbox' };
const GROUP = { name: 'rg-app', location: 'westeurope', tags: { owner: 'team-a' } };
const GROUP_ID = `/subscriptions/${SUBSCRIPTION.subscriptionId}/resourceGroups/rg-app`;
const VM_ID = `${GROUP_ID}/providers/Microsoft.Compute/virtualMachines/vm-app-01`;
const NOW = new Date('2025-06-01T00:00:00Z');

const vm = (overrides: Partial<ArmResource> = {}): ResourceView =>
  resourceView(
    {
      id: VM_ID,
      name: 'vm-app-01',
      type: 'Microsoft.Compute/virtualMachines',
      location: 'westeurope',
      tags: { env: 'prod' },
      properties: { storageProfile: { osDisk: { osType: 'Linux' } } },
      ...overrides,
    },
    SUBSCRIPTION,
    GROUP,
  );

const storageAccount = (properties: JsonObject = {}): ResourceView =>
  resourceView(
    {
      id: `${GROUP_ID}/providers/Microsoft.Storage/storageAccounts/st1`,
      name: 'st1',
      type: 'Microsoft.Storage/storageAccounts',
      location: 'westeurope',
      tags: { env: 'prod' },
      properties,
    },
    SUBSCRIPTION,
    GROUP,
  );

const related = (
  id: string,
  type: string,
  properties: JsonObject = {},
  extra: Partial<ArmResource> = {},
): ResourceView => resourceView({ id, name: id.split('/').pop()!, type, properties, ...extra }, SUBSCRIPTION);

function definition(
  policyRule: unknown,
  extra: Partial<PolicyDefinitionProperties> = {},
  options?: Partial<CompileOptions>,
) {
  return compileDefinition({ mode: 'All', ...extra, policyRule }, { name: 'test-definition', ...options });
}

function run(
  compiled: ReturnType<typeof definition>,
  resource: ResourceView,
  values: AssignmentParameterValues = {},
  more: Partial<EvaluatePolicyInput> = {},
): PolicyEvaluation {
  return evaluatePolicy({
    definition: compiled,
    parameters: bindParameters(compiled, values),
    resource,
    now: NOW,
    ...more,
  });
}

function refused(action: () => unknown, code: string, message: string) {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PolicyError);
  expect((caught as PolicyError).code).toBe(code);
  expect((caught as PolicyError).message).toContain(message);
}

const EFFECT_PARAMETER = {
  effect: { type: 'String', allowedValues: ['Audit', 'Deny', 'Disabled'], defaultValue: 'Audit' },
} as const;

// ─── Audit, Deny, Disabled, modes ────────────────────────────────────────────────────────────────

describe('Audit, Deny and Disabled', () => {
  const rule = {
    if: { field: 'type', equals: 'Microsoft.Security/serverVulnerabilityAssessments' },
    [THEN]: { effect: "[parameters('effect')]" },
  };
  const compiled = definition(rule, { parameters: EFFECT_PARAMETER });
  const legacy = resourceView(
    {
      id: `${VM_ID}/providers/Microsoft.Security/serverVulnerabilityAssessments/default`,
      name: 'default',
      type: 'Microsoft.Security/serverVulnerabilityAssessments',
      properties: { provisioningState: 'Succeeded' },
    },
    SUBSCRIPTION,
    GROUP,
  );

  it.each([
    ['Audit', { state: 'NonCompliant', effect: 'Audit', verdict: 'audit' }],
    ['Deny', { state: 'NonCompliant', effect: 'Deny', verdict: 'deny' }],
    ['Disabled', { state: 'NotApplicable', effect: 'Disabled', reason: 'effectDisabled' }],
  ])('a matching resource with the effect parameter %s', (effect, expected) => {
    expect(run(compiled, legacy, { effect: { value: effect } })).toMatchObject(expected);
  });

  it('a resource the if does not match is not applicable, with the explanation', () => {
    expect(run(compiled, vm())).toMatchObject({
      state: 'NotApplicable',
      reason: 'ifFalse',
      explanation: { kind: 'field', result: false, actual: 'Microsoft.Compute/virtualMachines' },
    });
  });

  it('effect names are case-insensitive in the definition', () => {
    expect(run(definition({ ...rule, [THEN]: { effect: 'deny' } }), legacy)).toMatchObject({
      effect: 'Deny',
      verdict: 'deny',
    });
  });

  it('Indexed skips types without tags and location, and subscriptions', () => {
    const indexed = definition(
      { if: { field: 'name', like: '*' }, [THEN]: { effect: 'audit' } },
      { mode: 'Indexed' },
    );
    expect(run(indexed, legacy)).toMatchObject({ state: 'NotApplicable', reason: 'modeExcluded' });
    expect(run(indexed, subscriptionView(SUBSCRIPTION))).toMatchObject({ reason: 'modeExcluded' });
    expect(run(indexed, vm())).toMatchObject({ state: 'NonCompliant' });
    const unknownWithLocation = resourceView(
      {
        id: `${GROUP_ID}/providers/Contoso.Widgets/widgets/w1`,
        name: 'w1',
        type: 'Contoso.Widgets/widgets',
        location: 'eastus',
      },
      SUBSCRIPTION,
      GROUP,
    );
    expect(run(indexed, unknownWithLocation)).toMatchObject({ state: 'NonCompliant' });
  });

  it('a failing function fails the evaluation with PolicyEvaluationFailed', () => {
    const failing = definition({
      if: { value: "[substring(field('name'), 0, 99)]", equals: 'x' },
      [THEN]: { effect: 'audit' },
    });
    refused(
      () => run(failing, vm()),
      'PolicyEvaluationFailed',
      `could not be evaluated for resource '${VM_ID}'`,
    );
  });

  it('policy() and requestContext() read what the caller passes', () => {
    const compiledRule = definition({
      if: {
        allOf: [
          { value: '[policy().assignmentId]', like: '*/policyAssignments/deny-legacy' },
          { value: '[requestContext().apiVersion]', equals: '2020-01-01' },
        ],
      },
      [THEN]: { effect: 'deny' },
    });
    const request: RequestContext = { apiVersion: '2020-01-01' };
    const policy = {
      assignmentId: `/subscriptions/${SUBSCRIPTION.subscriptionId}/providers/Microsoft.Authorization/policyAssignments/deny-legacy`,
    };
    expect(run(compiledRule, vm(), {}, { request, policy })).toMatchObject({ verdict: 'deny' });
    refused(
      () => run(compiledRule, vm(), {}, { policy }),
      'PolicyEvaluationFailed',
      "property 'apiVersion' doesn't exist",
    );
  });
});

// ─── Definitions and parameters ──────────────────────────────────────────────────────────────────

describe('definitions are refused at create time', () => {
  const audit = { if: { field: 'type', equals: 'x/y' }, [THEN]: { effect: 'audit' } };

  it.each<[string, () => unknown, string, string]>([
    [
      'a default outside the allowed values',
      () =>
        definition(audit, {
          parameters: {
            effect: { type: 'String', allowedValues: ['Audit', 'Disabled'], defaultValue: 'Deny' },
          },
        }),
      'PolicyParameterAllowedAndDefaultValuesMismatch',
      "The policy 'test-definition' defines parameter 'effect' with a default value 'Deny' and allowed values 'Audit,Disabled'.",
    ],
    [
      'a default of the wrong type',
      () => definition(audit, { parameters: { count: { type: 'Integer', defaultValue: 'three' } } }),
      'InvalidPolicyParameters',
      "The default value of parameter 'count' is of type 'String', expected type is 'Integer'.",
    ],
    [
      'an unknown parameter type',
      () => definition(audit, { parameters: { x: { type: 'Text' } } }),
      'InvalidPolicyParameters',
      "has type 'Text'",
    ],
    [
      'an unknown effect',
      () => definition({ ...audit, [THEN]: { effect: 'Block' } }),
      'InvalidPolicyRule',
      "The policy effect 'Block' is not valid.",
    ],
    [
      'the Append effect',
      () => definition({ ...audit, [THEN]: { effect: 'append', details: [] } }),
      'UnsupportedPolicyFeature',
      "the 'append' effect",
    ],
    [
      'an allowed effect that is unknown',
      () =>
        definition(
          { ...audit, [THEN]: { effect: "[parameters('effect')]" } },
          { parameters: { effect: { type: 'String', allowedValues: ['Audit', 'Warn'] } } },
        ),
      'InvalidPolicyRule',
      "The policy effect 'Warn' is not valid.",
    ],
    [
      'a member policyRule does not have',
      () => definition({ ...audit, else: {} }),
      'InvalidPolicyRule',
      "Could not find member 'else' on object of type 'PolicyRuleDefinition'.",
    ],
    [
      'a member then does not have',
      () => definition({ ...audit, [THEN]: { effect: 'audit', detail: {} } }),
      'InvalidPolicyRule',
      "Path 'then.detail'.",
    ],
    [
      'a resource-provider mode',
      () => definition(audit, { mode: 'Microsoft.Kubernetes.Data' }),
      'UnsupportedPolicyFeature',
      "policy mode 'Microsoft.Kubernetes.Data'",
    ],
    [
      'AuditIfNotExists without details.type',
      () => definition({ ...audit, [THEN]: { effect: 'auditIfNotExists', details: {} } }),
      'InvalidPolicyRule',
      "needs 'details.type'",
    ],
    [
      'DeployIfNotExists without roleDefinitionIds',
      () => definition({ ...audit, [THEN]: { effect: 'deployIfNotExists', details: { type: 'a/b' } } }),
      'InvalidPolicyRule',
      "needs 'details.roleDefinitionIds'",
    ],
    [
      'DeployIfNotExists without a deployment',
      () =>
        definition({
          ...audit,
          [THEN]: { effect: 'deployIfNotExists', details: { type: 'a/b', roleDefinitionIds: ['/r'] } },
        }),
      'InvalidPolicyRule',
      "needs 'details.deployment'",
    ],
    [
      'a subscription deployment without a location',
      () =>
        definition({
          ...audit,
          [THEN]: {
            effect: 'deployIfNotExists',
            details: {
              type: 'a/b',
              roleDefinitionIds: ['/r'],
              deploymentScope: 'subscription',
              deployment: { properties: { mode: 'incremental', template: { resources: [] } } },
            },
          },
        }),
      'InvalidPolicyRule',
      "needs 'details.deployment.location'",
    ],
    [
      'an evaluation delay over six hours',
      () =>
        definition({
          ...audit,
          [THEN]: { effect: 'auditIfNotExists', details: { type: 'a/b', evaluationDelay: 'PT7H' } },
        }),
      'InvalidPolicyRule',
      'between 0 and 360 minutes',
    ],
    [
      'a deployment parameter the template does not declare',
      () =>
        definition({
          ...audit,
          [THEN]: {
            effect: 'deployIfNotExists',
            details: {
              type: 'a/b',
              roleDefinitionIds: ['/r'],
              deployment: {
                properties: {
                  template: { resources: [] },
                  parameters: { vmName: { value: "[field('name')]" } },
                },
              },
            },
          },
        }),
      'InvalidPolicyParameters',
      "passes parameter 'vmName', which the template does not declare",
    ],
    [
      'a template expression with an undeclared variable',
      () =>
        definition({
          ...audit,
          [THEN]: {
            effect: 'deployIfNotExists',
            details: {
              type: 'a/b',
              roleDefinitionIds: ['/r'],
              deployment: {
                properties: { template: { resources: [{ type: 'a/b', name: "[variables('nope')]" }] } },
              },
            },
          },
        }),
      'InvalidPolicyParameters',
      "In the deployment template: The template variable 'nope' is not found.",
    ],
    [
      'a copy loop',
      () =>
        definition({
          ...audit,
          [THEN]: {
            effect: 'deployIfNotExists',
            details: {
              type: 'a/b',
              roleDefinitionIds: ['/r'],
              deployment: {
                properties: { template: { resources: [{ type: 'a/b', name: 'n', copy: { count: 2 } }] } },
              },
            },
          },
        }),
      'UnsupportedPolicyFeature',
      'copy loops',
    ],
    [
      'a linked template',
      () =>
        definition({
          ...audit,
          [THEN]: {
            effect: 'deployIfNotExists',
            details: {
              type: 'a/b',
              roleDefinitionIds: ['/r'],
              deployment: { properties: { templateLink: { uri: 'https://x' } } },
            },
          },
        }),
      'UnsupportedPolicyFeature',
      'linked templates',
    ],
    [
      'remove of a non-tag field',
      () =>
        definition({
          ...audit,
          [THEN]: {
            effect: 'modify',
            details: { roleDefinitionIds: ['/r'], operations: [{ operation: 'remove', field: 'location' }] },
          },
        }),
      'InvalidPolicyRule',
      "'remove' operation at 'then.details.operations[0]' is only supported for tags",
    ],
    [
      'field() in a modify condition',
      () =>
        definition({
          ...audit,
          [THEN]: {
            effect: 'modify',
            details: {
              roleDefinitionIds: ['/r'],
              operations: [
                {
                  operation: 'addOrReplace',
                  field: 'tags.env',
                  value: 'x',
                  condition: "[equals(field('name'), 'x')]",
                },
              ],
            },
          },
        }),
      'InvalidPolicyParameters',
      "The template function 'field' is not available in a policy rule.",
    ],
  ])('%s', (_name, action, code, message) => {
    refused(action, code, message);
  });

  it.each([
    [undefined, { kind: 'Duration', minutes: 10 }],
    ['PT60M', { kind: 'Duration', minutes: 60 }],
    ['PT1H30M', { kind: 'Duration', minutes: 90 }],
    ['PT0S', { kind: 'Duration', minutes: 0 }],
    ['afterProvisioningSuccess', { kind: 'AfterProvisioningSuccess' }],
  ])('evaluationDelay %s', (text, expected) => {
    expect(parseEvaluationDelay(text)).toMatchObject(expected);
  });
});

describe('binding assignment parameters', () => {
  const compiled = definition(
    {
      if: { field: 'location', in: "[parameters('locations')]" },
      [THEN]: { effect: "[parameters('effect')]" },
    },
    {
      parameters: {
        ...EFFECT_PARAMETER,
        locations: { type: 'Array', allowedValues: ['eastus', 'westeurope'] },
      },
    },
  );

  it('takes defaults and supplied values, by case-insensitive name', () => {
    const bound = bindParameters(compiled, { LOCATIONS: { value: ['eastus'] } });
    expect(Object.fromEntries(bound)).toEqual({ locations: ['eastus'], effect: 'Audit' });
  });

  it.each<[string, AssignmentParameterValues, string, string]>([
    [
      'a value outside the allowed values (compared ordinally)',
      { locations: { value: ['eastus'] }, effect: { value: 'deny' } },
      'PolicyParameterValueNotAllowed',
      "The value 'deny' is not allowed for policy parameter 'effect' in policy definition 'test-definition'. The allowed values are 'Audit, Deny, Disabled'.",
    ],
    [
      'an array member outside the allowed values',
      { locations: { value: ['eastus', 'mars'] } },
      'PolicyParameterValueNotAllowed',
      'The value \'["eastus","mars"]\' is not allowed',
    ],
    [
      'a missing value without a default',
      {},
      'MissingPolicyParameter',
      "The policy assignment 'assignment' is missing parameter(s) 'locations' as defined in the policy definition 'test-definition'.",
    ],
    [
      'an undeclared parameter',
      { locations: { value: [] }, colour: { value: 'red' } },
      'UndefinedPolicyParameter',
      "has a parameter 'colour' which is not defined in the policy definition 'test-definition'",
    ],
    [
      'a value of the wrong type',
      { locations: { value: 'eastus' } },
      'InvalidPolicyParameters',
      "The value of parameter 'locations' is of type 'String', expected type is 'Array'.",
    ],
  ])('refuses %s', (_name, values, code, message) => {
    refused(() => bindParameters(compiled, values), code, message);
  });
});

// ─── AuditIfNotExists / DeployIfNotExists ────────────────────────────────────────────────────────

describe('existence checks', () => {
  const aine = (
    details: JsonObject,
    ifCondition: JsonObject = { field: 'type', equals: 'Microsoft.Compute/virtualMachines' },
  ) => definition({ if: ifCondition, [THEN]: { effect: 'auditIfNotExists', details } });

  const check = (compiled: ReturnType<typeof definition>, resource: ResourceView = vm()) => {
    const evaluation = run(compiled, resource);
    if (evaluation.state !== 'ExistenceCheckRequired') throw new Error(`unexpected ${evaluation.state}`);
    return evaluation.check;
  };

  it.each<[string, JsonObject, JsonObject]>([
    [
      'a child type is looked for under the evaluated resource',
      { type: 'Microsoft.Compute/virtualMachines/extensions', name: 'MDE.Linux' },
      { scope: { kind: 'resource', resourceId: VM_ID }, resourceId: `${VM_ID}/extensions/MDE.Linux` },
    ],
    [
      'a child named parent/child keeps only its own name',
      { type: 'Microsoft.Compute/virtualMachines/extensions', name: "[concat(field('name'), '/MDE.Linux')]" },
      { name: 'vm-app-01/MDE.Linux', resourceId: `${VM_ID}/extensions/MDE.Linux` },
    ],
    [
      'an extension type is looked for on the evaluated resource',
      { type: 'Microsoft.Security/assessments', name: 'ffff0522-1e88-47fc-8382-2a80ba848f5d' },
      {
        scope: { kind: 'resource', resourceId: VM_ID },
        resourceId: `${VM_ID}/providers/Microsoft.Security/assessments/ffff0522-1e88-47fc-8382-2a80ba848f5d`,
      },
    ],
    [
      'other types default to the resource group',
      { type: 'Microsoft.Insights/actionGroups', name: 'ag' },
      {
        scope: {
          kind: 'resourceGroup',
          subscriptionId: SUBSCRIPTION.subscriptionId,
          resourceGroupName: 'rg-app',
        },
        resourceId: `${GROUP_ID}/providers/Microsoft.Insights/actionGroups/ag`,
      },
    ],
    [
      'resourceGroupName moves the resource group',
      {
        type: 'Microsoft.Insights/actionGroups',
        resourceGroupName: "[concat(resourceGroup().name, '-monitor')]",
      },
      { scope: { kind: 'resourceGroup', resourceGroupName: 'rg-app-monitor' } },
    ],
    [
      'existenceScope Subscription looks in the whole subscription',
      { type: 'Microsoft.Security/pricings', name: 'VirtualMachines', existenceScope: 'subscription' },
      {
        scope: { kind: 'subscription', subscriptionId: SUBSCRIPTION.subscriptionId },
        resourceId: `/subscriptions/${SUBSCRIPTION.subscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines`,
      },
    ],
    [
      'a ? wildcard lists instead of reading one resource',
      { type: 'Microsoft.Compute/virtualMachines/extensions', name: "[concat(field('name'), '/?')]" },
      { name: 'vm-app-01/?', scope: { kind: 'resource', resourceId: VM_ID } },
    ],
  ])('%s', (_name, details, query) => {
    const found = check(aine(details));
    expect(found.query).toMatchObject(query);
    if (String(query.name ?? '').endsWith('?') || details.name === undefined)
      expect(found.query.resourceId).toBeUndefined();
  });

  it('a subscription-level resource looks in its subscription whatever existenceScope says', () => {
    const compiled = aine(
      { type: 'Microsoft.Security/settings', name: 'WDATP' },
      { field: 'type', equals: 'Microsoft.Resources/subscriptions' },
    );
    expect(check(compiled, subscriptionView(SUBSCRIPTION)).query.scope).toEqual({
      kind: 'subscription',
      subscriptionId: SUBSCRIPTION.subscriptionId,
    });
  });

  const extensionId = (name: string, vmId = VM_ID) => `${vmId}/extensions/${name}`;
  const extension = (name: string, provisioningState: string, vmId = VM_ID) =>
    related(extensionId(name, vmId), 'Microsoft.Compute/virtualMachines/extensions', {
      publisher: 'Microsoft.Azure.AzureDefenderForServers',
      type: name,
      provisioningState,
    });
  const mde = aine({
    type: 'Microsoft.Compute/virtualMachines/extensions',
    name: "[concat(field('name'), '/?')]",
    existenceCondition: {
      allOf: [
        { field: 'Microsoft.Compute/virtualMachines/extensions/type', in: ['MDE.Linux', 'MDE.Windows'] },
        { field: 'Microsoft.Compute/virtualMachines/extensions/provisioningState', equals: 'Succeeded' },
      ],
    },
  });

  it('any one related resource that satisfies existenceCondition satisfies the effect', () => {
    const outcome = checkExistence(
      [extension('AzureMonitorLinuxAgent', 'Succeeded'), extension('MDE.Linux', 'Succeeded')],
      check(mde),
    );
    expect(outcome).toMatchObject({ exists: true, satisfiedBy: extensionId('MDE.Linux'), ignored: 0 });
    expect(outcome.related.map((verdict) => verdict.satisfies)).toEqual([false, true]);
  });

  it('candidates of another type, scope or name are ignored', () => {
    const otherVm = VM_ID.replace('vm-app-01', 'vm-app-02');
    const outcome = checkExistence(
      [
        extension('MDE.Linux', 'Succeeded', otherVm),
        extension(
          'MDE.Linux',
          'Succeeded',
          VM_ID.replace(SUBSCRIPTION.subscriptionId, OTHER_SUBSCRIPTION.subscriptionId),
        ),
        related(`${VM_ID}/providers/Microsoft.Security/assessments/x`, 'Microsoft.Security/assessments'),
      ],
      check(mde),
    );
    expect(outcome).toEqual({ exists: false, related: [], ignored: 3 });
  });

  it('without existenceCondition, existence alone satisfies', () => {
    const exists = aine({ type: 'Microsoft.Compute/virtualMachines/extensions', name: 'MDE.Linux' });
    expect(checkExistence([extension('MDE.Linux', 'Failed')], check(exists))).toMatchObject({ exists: true });
    expect(checkExistence([extension('MDE.Windows', 'Succeeded')], check(exists))).toMatchObject({
      exists: false,
    });
  });

  it("field() in existenceCondition reads the evaluated resource, 'field' conditions the related one", () => {
    const sameLocation = aine({
      type: 'Microsoft.Compute/virtualMachines/extensions',
      existenceCondition: { field: 'location', equals: "[field('location')]" },
    });
    const here = related(
      extensionId('a'),
      'Microsoft.Compute/virtualMachines/extensions',
      {},
      { location: 'West Europe' },
    );
    const there = related(
      extensionId('b'),
      'Microsoft.Compute/virtualMachines/extensions',
      {},
      { location: 'eastus' },
    );
    expect(checkExistence([there], check(sameLocation)).exists).toBe(false);
    expect(checkExistence([there, here], check(sameLocation)).satisfiedBy).toBe(extensionId('a'));
  });

  it('completes an evaluation when the related resources arrive, or evaluates in one call', () => {
    const pending = run(mde, vm());
    expect(pending.state).toBe('ExistenceCheckRequired');
    expect(completeEvaluation(pending, [extension('MDE.Linux', 'Succeeded')])).toMatchObject({
      state: 'Compliant',
    });
    expect(completeEvaluation(pending, [extension('MDE.Linux', 'Failed')])).toMatchObject({
      state: 'NonCompliant',
    });
    expect(run(mde, vm(), {}, { relatedResources: [] })).toMatchObject({
      state: 'NonCompliant',
      existence: { exists: false },
    });
  });
});

describe('DeployIfNotExists deployments', () => {
  const dine = definition(
    {
      if: { field: 'type', equals: 'Microsoft.Compute/virtualMachines' },
      [THEN]: {
        effect: 'deployIfNotExists',
        details: {
          type: 'Microsoft.Compute/virtualMachines/extensions',
          name: 'MDE.Linux',
          evaluationDelay: 'AfterProvisioning',
          roleDefinitionIds: [
            '/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c',
          ],
          deployment: {
            properties: {
              mode: 'incremental',
              parameters: {
                vmName: { value: "[field('name')]" },
                location: { value: "[field('location')]" },
                owner: { value: "[resourceGroup().tags['owner']]" },
              },
              template: {
                $schema: 'https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#',
                contentVersion: '1.0.0.0',
                parameters: {
                  vmName: { type: 'string' },
                  location: { type: 'string' },
                  owner: { type: 'string' },
                  publisher: { type: 'string', defaultValue: 'Microsoft.Azure.AzureDefenderForServers' },
                },
                variables: {
                  extensionName: 'MDE.Linux',
                  fullName: "[concat(parameters('vmName'), '/', variables('extensionName'))]",
                },
                resources: [
                  {
                    condition: "[not(empty(parameters('owner')))]",
                    type: 'Microsoft.Compute/virtualMachines/extensions',
                    apiVersion: '2020-06-01',
                    name: "[variables('fullName')]",
                    location: "[parameters('location')]",
                    properties: {
                      publisher: "[parameters('publisher')]",
                      settings: {
                        azureResourceId:
                          "[resourceId('Microsoft.Compute/virtualMachines', parameters('vmName'))]",
                        owner: "[parameters('owner')]",
                      },
                    },
                  },
                  {
                    condition: '[false()]',
                    type: 'Microsoft.Compute/virtualMachines/extensions',
                    name: 'never',
                    apiVersion: '2020-06-01',
                  },
                ],
              },
            },
          },
        },
      },
    },
    {},
  );

  it('describes the deployment with the policy-level parameters resolved', () => {
    const evaluation = run(dine, vm());
    if (evaluation.state !== 'ExistenceCheckRequired') throw new Error(evaluation.state);
    const deployment = evaluation.check.deployment!;
    expect(evaluation.check.evaluationDelay).toEqual({ kind: 'AfterProvisioning' });
    expect(deployment).toMatchObject({
      scope: {
        kind: 'resourceGroup',
        subscriptionId: SUBSCRIPTION.subscriptionId,
        resourceGroupName: 'rg-app',
      },
      mode: 'incremental',
      parameters: {
        vmName: { value: 'vm-app-01' },
        location: { value: 'westeurope' },
        owner: { value: 'team-a' },
      },
      roleDefinitionIds: [
        '/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c',
      ],
    });
    expect(deployment.templateSource).toHaveProperty('variables.extensionName', 'MDE.Linux');
  });

  it('renders the template: variables, defaults, resourceId, conditions', () => {
    const evaluation = run(dine, vm());
    if (evaluation.state !== 'ExistenceCheckRequired') throw new Error(evaluation.state);
    const deployment = evaluation.check.deployment!;
    expect(
      renderTemplate(deployment.template, deployment.parameters, {
        now: NOW,
        subscription: SUBSCRIPTION,
        resourceGroup: GROUP,
      }),
    ).toEqual({
      resources: [
        {
          type: 'Microsoft.Compute/virtualMachines/extensions',
          apiVersion: '2020-06-01',
          name: 'vm-app-01/MDE.Linux',
          location: 'westeurope',
          properties: {
            publisher: 'Microsoft.Azure.AzureDefenderForServers',
            settings: { azureResourceId: VM_ID, owner: 'team-a' },
          },
        },
      ],
      skipped: 1,
    });
  });

  it('a template parameter without a value is an error that names it', () => {
    const evaluation = run(dine, vm());
    if (evaluation.state !== 'ExistenceCheckRequired') throw new Error(evaluation.state);
    const { template } = evaluation.check.deployment!;
    expect(() =>
      renderTemplate(
        template,
        { vmName: { value: 'x' } },
        { now: NOW, subscription: SUBSCRIPTION, resourceGroup: GROUP },
      ),
    ).toThrow("The template parameter 'owner' has no value.");
  });
});

// ─── Modify ──────────────────────────────────────────────────────────────────────────────────────

describe('Modify', () => {
  const modify = (operations: JsonObject[], conflictEffect?: string, options?: Partial<CompileOptions>) =>
    definition(
      {
        if: { field: 'type', like: '*' },
        [THEN]: {
          effect: 'modify',
          details: {
            roleDefinitionIds: [
              '/providers/microsoft.authorization/roleDefinitions/4a9ae827-6dc8-4573-8ac7-8239d42aa03f',
            ],
            ...(conflictEffect ? { conflictEffect } : {}),
            operations,
          },
        },
      },
      { parameters: { tagValue: { type: 'String', defaultValue: 'Finance' } } },
      options,
    );

  const modified = (evaluation: PolicyEvaluation) => {
    if (evaluation.state !== 'NonCompliant' || evaluation.effect !== 'Modify')
      throw new Error('not a modification');
    return evaluation.modification;
  };

  it('adds, replaces and removes tags on a copy of the resource', () => {
    const compiled = modify([
      { operation: 'addOrReplace', field: "tags['environment']", value: 'Test' },
      { operation: 'Remove', field: 'tags.env' },
      { operation: 'add', field: "tags['Dept']", value: "[parameters('tagValue')]" },
    ]);
    const resource = vm();
    const evaluation = run(compiled, resource);
    expect(evaluation).toMatchObject({ state: 'NonCompliant', verdict: 'modify' });
    const modification = modified(evaluation);
    expect(modification.resource.tags).toEqual({ environment: 'Test', Dept: 'Finance' });
    expect(resource.resource.tags).toEqual({ env: 'prod' });
    expect(modification.operations).toEqual([
      {
        path: 'then.details.operations[0]',
        operation: 'addOrReplace',
        field: "tags['environment']",
        status: 'applied',
        after: 'Test',
      },
      {
        path: 'then.details.operations[1]',
        operation: 'remove',
        field: 'tags.env',
        status: 'applied',
        before: 'prod',
      },
      {
        path: 'then.details.operations[2]',
        operation: 'add',
        field: "tags['Dept']",
        status: 'applied',
        after: 'Finance',
      },
    ]);
  });

  it('tag names match case-insensitively and keep their stored casing', () => {
    const modification = modified(
      run(modify([{ operation: 'addOrReplace', field: 'tags.ENV', value: 'test' }]), vm()),
    );
    expect(modification.resource.tags).toEqual({ env: 'test' });
  });

  it.each([
    ['deny', 'deny'],
    ['audit', 'audit'],
    [undefined, 'deny'],
  ])(
    "'add' over a different value is a conflict; conflictEffect %s gives verdict %s",
    (conflictEffect, verdict) => {
      const evaluation = run(
        modify([{ operation: 'add', field: 'tags.env', value: 'test' }], conflictEffect),
        vm(),
      );
      expect(evaluation).toMatchObject({ verdict });
      const modification = modified(evaluation);
      expect(modification.conflict).toMatchObject({
        path: 'then.details.operations[0]',
        reason: expect.stringContaining("'add' would replace"),
      });
      expect(modification.resource.tags).toEqual({ env: 'prod' });
    },
  );

  it("'add' of the same value changes nothing", () => {
    expect(
      modified(run(modify([{ operation: 'add', field: 'tags.env', value: 'prod' }]), vm())).operations[0],
    ).toMatchObject({
      status: 'unchanged',
    });
  });

  it('operation conditions read requestContext()', () => {
    const compiled = modify([
      {
        condition: "[greaterOrEquals(requestContext().apiVersion, '2019-04-01')]",
        operation: 'addOrReplace',
        field: 'tags.minTls',
        value: '1.2',
      },
    ]);
    expect(
      modified(run(compiled, vm(), {}, { request: { apiVersion: '2023-01-01' } })).resource.tags,
    ).toHaveProperty('minTls', '1.2');
    expect(
      modified(run(compiled, vm(), {}, { request: { apiVersion: '2018-11-01' } })).operations[0],
    ).toMatchObject({
      status: 'conditionFalse',
    });
  });

  it('identity.type is modified on VMs only; elsewhere the resource is not applicable', () => {
    const compiled = modify([{ operation: 'addOrReplace', field: 'identity.type', value: 'SystemAssigned' }]);
    expect(modified(run(compiled, vm())).resource.identity).toEqual({ type: 'SystemAssigned' });
    expect(run(compiled, storageAccount())).toMatchObject({
      state: 'NotApplicable',
      reason: 'identityNotModifiable',
    });
  });

  it('an alias that is not modifiable falls back to the conflict effect', () => {
    const compiled = modify(
      [
        {
          operation: 'addOrReplace',
          field: 'Microsoft.Compute/virtualMachines/storageProfile.osDisk.osType',
          value: 'Windows',
        },
      ],
      'audit',
    );
    expect(modified(run(compiled, vm())).conflict).toMatchObject({
      effect: 'Audit',
      reason: expect.stringContaining('is not modifiable'),
    });
  });

  describe('modifiable aliases', () => {
    const registry = createAliasRegistry([
      ...DEFAULT_ALIASES,
      ...[
        'allowBlobPublicAccess',
        'networkAcls.defaultAction',
        'networkAcls.ipRules[*]',
        'networkAcls.ipRules[*].action',
      ].map((path) => ({
        name: `Microsoft.Storage/storageAccounts/${path}`,
        paths: [{ resourceType: 'Microsoft.Storage/storageAccounts', path: `properties.${path}` }],
        modifiable: true,
        usedBy: ['effect-modify.md'],
      })),
    ]);
    const on = (operation: JsonObject, properties: JsonObject) =>
      modified(run(modify([operation], undefined, { registry }), storageAccount(properties)));
    const rule = { value: '10.0.0.0/24', action: 'Allow' };

    it.each<[string, JsonObject, JsonObject, JsonObject | undefined, string]>([
      [
        'sets a property',
        {
          operation: 'addOrReplace',
          field: 'Microsoft.Storage/storageAccounts/allowBlobPublicAccess',
          value: false,
        },
        { allowBlobPublicAccess: true },
        { allowBlobPublicAccess: false },
        'applied',
      ],
      [
        'adds a missing property',
        { operation: 'add', field: 'Microsoft.Storage/storageAccounts/allowBlobPublicAccess', value: false },
        {},
        { allowBlobPublicAccess: false },
        'applied',
      ],
      [
        'skips a property whose parent is missing',
        {
          operation: 'addOrReplace',
          field: 'Microsoft.Storage/storageAccounts/networkAcls.defaultAction',
          value: 'Deny',
        },
        {},
        {},
        'parentMissing',
      ],
      [
        'appends to a [*] array',
        { operation: 'add', field: 'Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]', value: rule },
        { networkAcls: { ipRules: [{ value: '1.1.1.1', action: 'Allow' }] } },
        { networkAcls: { ipRules: [{ value: '1.1.1.1', action: 'Allow' }, rule] } },
        'applied',
      ],
      [
        'replaces the members of a [*] array',
        {
          operation: 'addOrReplace',
          field: 'Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]',
          value: rule,
        },
        { networkAcls: { ipRules: [{ value: '1.1.1.1', action: 'Allow' }] } },
        { networkAcls: { ipRules: [rule] } },
        'applied',
      ],
      [
        'sets a property on every member',
        {
          operation: 'addOrReplace',
          field: 'Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].action',
          value: 'Deny',
        },
        { networkAcls: { ipRules: [{ value: 'a', action: 'Allow' }, { value: 'b' }] } },
        {
          networkAcls: {
            ipRules: [
              { value: 'a', action: 'Deny' },
              { value: 'b', action: 'Deny' },
            ],
          },
        },
        'applied',
      ],
    ])('%s', (_name, operation, before, after, status) => {
      const modification = on(operation, before);
      expect(modification.operations[0]?.status).toBe(status);
      expect(modification.resource.properties).toEqual(after);
    });
  });
});
