import { describe, expect, it } from 'vitest';
import { BUILT_IN_DEFINITIONS } from './builtins/index.js';
import { type CompiledDefinition, compileDefinition } from './definition.js';
import { PolicyError } from './errors.js';
import { matchedTypes } from './reach.js';
import { bindSetParameters, compileSet, type PolicySetDefinitionProperties } from './set.js';
import type { PolicyDefinitionProperties } from './types.js';

/** A policy rule's `then` is data, not a thenable: a computed key keeps Biome's noThenProperty quiet. */
const THEN = 'then';
const NOW = new Date('2025-06-01T00:00:00Z');

const ALLOWED_SKUS: PolicyDefinitionProperties = {
  mode: 'All',
  parameters: {
    listOfAllowedSKUs: { type: 'Array' },
    effect: { type: 'String', allowedValues: ['Audit', 'Deny', 'Disabled'], defaultValue: 'Audit' },
  },
  policyRule: {
    if: {
      allOf: [
        { field: 'type', equals: 'Microsoft.Compute/virtualMachines' },
        {
          field: 'Microsoft.Compute/virtualMachines/imagePublisher',
          notIn: "[parameters('listOfAllowedSKUs')]",
        },
      ],
    },
    [THEN]: { effect: "[parameters('effect')]" },
  },
};

const NAMING: PolicyDefinitionProperties = {
  mode: 'All',
  parameters: { prefix: { type: 'String' }, suffix: { type: 'String' } },
  policyRule: {
    if: { not: { field: 'name', like: "[concat(parameters('prefix'), '*', parameters('suffix'))]" } },
    [THEN]: { effect: 'audit' },
  },
};

const definitions = new Map<string, CompiledDefinition>([
  [
    '/subscriptions/s/providers/microsoft.authorization/policydefinitions/skus',
    compileDefinition(ALLOWED_SKUS, { name: 'skus' }),
  ],
  [
    '/subscriptions/s/providers/microsoft.authorization/policydefinitions/naming',
    compileDefinition(NAMING, { name: 'naming' }),
  ],
]);
const memberDefinition = (id: string) => definitions.get(id.toLowerCase())!;

/** Shaped like Microsoft's "Cost Management" set example (two members, two groups, one set parameter). */
const costManagement = (): PolicySetDefinitionProperties => ({
  displayName: 'Cost Management',
  parameters: { namePrefix: { type: 'String', defaultValue: 'myPrefix' } },
  policyDefinitionGroups: [{ name: 'CostSaving' }, { name: 'Organizational' }],
  policyDefinitions: [
    {
      policyDefinitionId: '/subscriptions/s/providers/Microsoft.Authorization/policyDefinitions/skus',
      policyDefinitionReferenceId: 'Limit_Skus',
      groupNames: ['CostSaving'],
      parameters: { listOfAllowedSKUs: { value: ['Standard_GRS', 'Standard_LRS'] } },
    },
    {
      policyDefinitionId: '/subscriptions/s/providers/Microsoft.Authorization/policyDefinitions/naming',
      groupNames: ['Organizational'],
      parameters: { prefix: { value: "[parameters('namePrefix')]" }, suffix: { value: '-LC' } },
    },
  ],
});

interface Reference {
  policyDefinitionReferenceId?: string;
  parameters: Record<string, { value: unknown }>;
  groupNames?: string[];
}
const references = (set: PolicySetDefinitionProperties) => set.policyDefinitions as Reference[];

function refusal(properties: PolicySetDefinitionProperties): PolicyError {
  try {
    compileSet(properties, { name: 'CostManagement', memberDefinition });
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('the set compiled');
}

describe('compiling a policy set definition', () => {
  it('keeps given reference ids and generates a numeric one, the same on every compile', () => {
    const first = compileSet(costManagement(), { name: 'CostManagement', memberDefinition });
    const second = compileSet(costManagement(), { name: 'CostManagement', memberDefinition });
    expect(first.members.map((member) => member.referenceId)[0]).toBe('Limit_Skus');
    const generated = first.members[1]!.referenceId;
    expect(generated).toMatch(/^\d{1,20}$/);
    expect(BigInt(generated) < 2n ** 64n).toBe(true);
    expect(second.members[1]!.referenceId).toBe(generated);
    expect(first.references[1]).toMatchObject({ policyDefinitionReferenceId: generated });
  });

  it('refuses duplicate reference ids, case-insensitively', () => {
    const set = costManagement();
    references(set)[1]!.policyDefinitionReferenceId = 'limit_skus';
    expect(refusal(set)).toMatchObject({ code: 'InvalidCreatePolicySetDefinitionRequest' });
  });

  it('refuses a member parameter the member does not declare', () => {
    const set = costManagement();
    references(set)[1]!.parameters.middle = { value: 'x' };
    expect(refusal(set)).toMatchObject({ code: 'UndefinedPolicyParameter' });
  });

  it('refuses a set that leaves a required member parameter without a value', () => {
    const set = costManagement();
    delete references(set)[1]!.parameters.suffix;
    const error = refusal(set);
    expect(error.code).toBe('MissingPolicyParameter');
    expect(error.message).toContain("'suffix'");
  });

  it('refuses a literal of the wrong type and a value outside allowedValues', () => {
    const wrongType = costManagement();
    references(wrongType)[0]!.parameters.listOfAllowedSKUs = { value: 'Standard_LRS' };
    expect(refusal(wrongType)).toMatchObject({ code: 'InvalidPolicyParameters' });
    const notAllowed = costManagement();
    references(notAllowed)[0]!.parameters.effect = { value: 'deny' };
    expect(refusal(notAllowed)).toMatchObject({ code: 'PolicyParameterValueNotAllowed' });
  });

  it('refuses an expression over a set parameter the set does not declare, or of another type', () => {
    const undeclared = costManagement();
    references(undeclared)[1]!.parameters.prefix = { value: "[parameters('nope')]" };
    expect(refusal(undeclared)).toMatchObject({ code: 'UndefinedPolicyParameter' });
    const mistyped = costManagement();
    mistyped.parameters = { namePrefix: { type: 'Array' } };
    expect(refusal(mistyped)).toMatchObject({ code: 'InvalidPolicyParameters' });
    const fieldUse = costManagement();
    references(fieldUse)[1]!.parameters.prefix = { value: "[field('name')]" };
    expect(refusal(fieldUse)).toMatchObject({ code: 'InvalidPolicyParameters' });
  });

  it("refuses a set parameter's default the member does not allow (Azure's 'could not be parameterized')", () => {
    const set = costManagement();
    set.parameters = { ...set.parameters, effect: { type: 'String', defaultValue: 'audit' } };
    references(set)[0]!.parameters.effect = { value: "[parameters('effect')]" };
    const error = refusal(set);
    expect(error.code).toBe('InvalidPolicyParameters');
    expect(error.message).toContain('could not be parameterized');
  });

  it('refuses group names the set does not declare', () => {
    const set = costManagement();
    references(set)[0]!.groupNames = ['CostSaving', 'Security'];
    const error = refusal(set);
    expect(error.code).toBe('InvalidPolicySetDefinitionGroups');
    expect(error.message).toContain("'Security'");
  });

  it('refuses an empty set', () => {
    expect(refusal({ policyDefinitions: [] })).toMatchObject({
      code: 'InvalidCreatePolicySetDefinitionRequest',
    });
  });
});

describe('binding an assignment to a set', () => {
  const set = compileSet(costManagement(), { name: 'CostManagement', memberDefinition });

  it("renders each member's parameters from the set's, defaults applied", () => {
    const bound = bindSetParameters(set, { namePrefix: { value: 'DeptA' } }, 'cost', NOW);
    expect(Object.fromEntries(bound.members[1]!.parameters)).toEqual({ prefix: 'DeptA', suffix: '-LC' });
    expect(Object.fromEntries(bound.members[0]!.parameters)).toEqual({
      listofallowedskus: ['Standard_GRS', 'Standard_LRS'],
      effect: 'Audit',
    });
    const defaults = bindSetParameters(set, undefined, 'cost', NOW);
    expect(defaults.members[1]!.parameters.get('prefix')).toBe('myPrefix');
  });

  it("refuses a value the set's parameters do not declare, naming the set", () => {
    try {
      bindSetParameters(set, { effect: { value: 'Deny' } }, 'cost', NOW);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'UndefinedPolicyParameter' });
      expect((error as Error).message).toContain("policy set definition 'CostManagement'");
    }
  });

  it('refuses a set parameter value a member does not allow', () => {
    const strict = compileSet(
      {
        parameters: { effect: { type: 'String' } },
        policyDefinitions: [
          {
            policyDefinitionId: '/subscriptions/s/providers/Microsoft.Authorization/policyDefinitions/skus',
            parameters: { listOfAllowedSKUs: { value: [] }, effect: { value: "[parameters('effect')]" } },
          },
        ],
      },
      { name: 'strict', memberDefinition },
    );
    expect(() => bindSetParameters(strict, { effect: { value: 'Append' } }, 'a', NOW)).toThrow(
      /could not be parameterized/,
    );
  });
});

describe('the types a definition can match', () => {
  it("reads them off Microsoft's transition definitions", () => {
    const types = (name: string) => {
      const entry = BUILT_IN_DEFINITIONS.find((definition) => definition.name === name)!;
      const compiled = compileDefinition(entry.properties, { name });
      return [...(matchedTypes(compiled, new Map()) ?? [])].sort();
    };
    expect(types('766e621d-ba95-4e43-a6f2-e945db3d7888')).toEqual(['microsoft.resources/subscriptions']);
    expect(types('13ce0167-8ca6-4048-8e6b-f996402e3c1b')).toEqual([
      'microsoft.compute/virtualmachines',
      'microsoft.hybridcompute/machines',
    ]);
  });

  it('is unknown when the rule does not pin the type', () => {
    expect(
      matchedTypes(
        definitions.get('/subscriptions/s/providers/microsoft.authorization/policydefinitions/naming')!,
        new Map(),
      ),
    ).toBeUndefined();
  });
});
