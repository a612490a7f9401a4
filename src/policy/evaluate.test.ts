import { describe, expect, it } from 'vitest';
import {
  type AliasDefinition,
  createAliasRegistry,
  DEFAULT_ALIASES,
  defaultAliasRegistry,
} from './aliases.js';
import { PolicyError } from './errors.js';
import { type EvaluationEnvironment, type Explanation, evaluateCondition } from './evaluate.js';
import { decisiveConditions, describeLeaf, formatExplanation } from './explain.js';
import { applyOperator, type Operator } from './operators.js';
import { compileRuleCondition } from './rule.js';
import type { ArmResource, JsonValue, ParameterType } from './types.js';

// ─── A small world: one subscription, one resource group, resources built by overrides ───────────

const SUBSCRIPTION = { subscriptionId: '11111111-2222-3333-4444-555555555555', displayName: 'Production' };
const GROUP = { name: 'rg-app', location: 'westeurope' };
const VM_ID = `/subscriptions/${SUBSCRIPTION.subscriptionId}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-app-01`;

const vm = (overrides: Partial<ArmResource> = {}): ArmResource => ({
  id: VM_ID,
  name: 'vm-app-01',
  type: 'Microsoft.Compute/virtualMachines',
  location: 'westeurope',
  tags: { Env: 'prod', 'Acct.CostCenter': 'cc-1', "'My.Apostrophe.Tag'": 'quoted' },
  identity: { type: 'SystemAssigned' },
  properties: {
    storageProfile: {
      imageReference: {
        publisher: 'Canonical',
        offer: '0001-com-ubuntu-server-jammy',
        sku: '22_04-lts-gen2',
      },
      osDisk: { osType: 'Linux' },
    },
  },
  ...overrides,
});

/** Aliases from Microsoft's array documentation (author-policies-for-arrays.md) and NSG examples. */
const TEST_ALIASES: AliasDefinition[] = [
  ...[
    'stringArray',
    'stringArray[*]',
    'objectArray',
    'objectArray[*]',
    'objectArray[*].property',
    'objectArray[*].nestedArray',
    'objectArray[*].nestedArray[*]',
    'missingArray',
    'missingArray[*]',
    'missingArray[*].property',
  ].map((path) => ({
    name: `Microsoft.Test/resourceType/${path}`,
    paths: [{ resourceType: 'Microsoft.Test/resourceType', path: `properties.${path}` }],
    usedBy: ['author-policies-for-arrays.md'],
  })),
  ...['ipRules', 'ipRules[*]', 'ipRules[*].value', 'ipRules[*].action'].map((path) => ({
    name: `Microsoft.Storage/storageAccounts/networkAcls.${path}`,
    paths: [{ resourceType: 'Microsoft.Storage/storageAccounts', path: `properties.networkAcls.${path}` }],
    usedBy: ['author-policies-for-arrays.md'],
  })),
  ...[
    'securityRules[*]',
    'securityRules[*].priority',
    'securityRules[*].access',
    'securityRules[*].direction',
    'securityRules[*].destinationPortRange',
  ].map((path) => ({
    name: `Microsoft.Network/networkSecurityGroups/${path}`,
    paths: [{ resourceType: 'Microsoft.Network/networkSecurityGroups', path: `properties.${path}` }],
    usedBy: ['definition-structure-policy-rule.md'],
  })),
  {
    name: 'Microsoft.Network/virtualNetworks/addressSpace.addressPrefixes[*]',
    paths: [
      {
        resourceType: 'Microsoft.Network/virtualNetworks',
        path: 'properties.addressSpace.addressPrefixes[*]',
      },
    ],
    usedBy: ['definition-structure-policy-rule.md'],
  },
];
const registry = createAliasRegistry([...DEFAULT_ALIASES, ...TEST_ALIASES]);

/** The example resource content of author-policies-for-arrays.md. */
const arrayDocResource: ArmResource = {
  id: `/subscriptions/${SUBSCRIPTION.subscriptionId}/resourceGroups/rg-app/providers/Microsoft.Test/resourceType/example`,
  name: 'example',
  type: 'Microsoft.Test/resourceType',
  tags: { env: 'prod' },
  properties: {
    stringArray: ['a', 'b', 'c'],
    objectArray: [
      { property: 'value1', nestedArray: [1, 2] },
      { property: 'value2', nestedArray: [3, 4] },
    ],
  },
};

const storageAccount = (ipRules: JsonValue[] | undefined): ArmResource => ({
  id: `/subscriptions/${SUBSCRIPTION.subscriptionId}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/st1`,
  name: 'st1',
  type: 'Microsoft.Storage/storageAccounts',
  location: 'westeurope',
  properties: { networkAcls: ipRules === undefined ? {} : { ipRules } },
});

interface Options {
  parameters?: Record<string, { type: ParameterType; value: JsonValue }>;
}

function environment(resource: ArmResource, options: Options = {}): EvaluationEnvironment {
  const view = { resource, subscription: SUBSCRIPTION, resourceGroup: GROUP };
  return {
    subject: view,
    origin: view,
    parameters: new Map(
      Object.entries(options.parameters ?? {}).map(([name, { value }]) => [name.toLowerCase(), value]),
    ),
    now: new Date('2025-06-01T00:00:00Z'),
    registry,
  };
}

function compile(condition: unknown, options: Options = {}) {
  return compileRuleCondition(condition, 'if', {
    definitionName: 'test-definition',
    parameterTypes: new Map(
      Object.entries(options.parameters ?? {}).map(([name, { type }]) => [name.toLowerCase(), type]),
    ),
    registry,
  });
}

function evaluate(condition: unknown, resource: ArmResource, options: Options = {}): Explanation {
  return evaluateCondition(compile(condition, options), environment(resource, options));
}

const holds = (condition: unknown, resource: ArmResource, options?: Options) =>
  evaluate(condition, resource, options).result;

// ─── Operators ───────────────────────────────────────────────────────────────────────────────────

describe('every condition operator', () => {
  const absent = undefined;
  it.each<[Operator, JsonValue | undefined, JsonValue, boolean]>([
    ['equals', 'MdeTvm', 'mdetvm', true],
    ['equals', 'abc', 'abd', false],
    ['equals', 1, '1', true],
    ['equals', true, 'true', true],
    ['equals', true, 'True', true],
    ['equals', false, 'true', false],
    ['equals', absent, 'x', false],
    ['equals', null, null, true],
    ['equals', ['a', 'B'], ['A', 'b'], true],
    ['equals', { Key: 'V' }, { key: 'v' }, true],
    ['notEquals', 'a', 'A', false],
    ['notEquals', absent, 'x', true],
    ['like', 'Microsoft.Network/publicIPAddresses', 'microsoft.network/*', true],
    ['like', 'linux', 'Linux*', true],
    ['like', 'abc', 'a*c', true],
    ['like', 'abc', '*b', false],
    ['like', 'centos-6.10', 'centos-6*', true],
    ['like', 'a?c', 'a?c', true],
    ['like', 'abc', 'a?c', false],
    ['like', absent, '*', false],
    ['like', 12, '1*', true],
    ['notLike', 'abc', '*b', true],
    ['notLike', absent, '*', true],
    ['match', 'ab12', '??##', true],
    ['match', 'AB12', '??##', true],
    ['match', 'ab1', '??##', false],
    ['match', 'a-1', '?.#', true],
    ['match', 'vm01', 'vm##', true],
    ['match', 'VM01', 'vm##', false],
    ['match', 'a+b', 'a+b', true],
    ['matchInsensitively', 'VM01', 'vm##', true],
    ['notMatch', 'VM01', 'vm##', true],
    ['notMatchInsensitively', 'VM01', 'vm##', false],
    ['notMatch', absent, '#', true],
    ['contains', 'Ubuntu-Firewall', 'firewall', true],
    ['contains', '22_04-lts', '6', false],
    ['contains', 16, '6', true],
    ['contains', ['a', 'b'], 'B', true],
    ['contains', absent, 'x', false],
    ['notContains', absent, 'x', true],
    ['notContains', 'cloudera', 'x', true],
    ['in', 'eastus', ['EastUS', 'westus'], true],
    ['in', 'northeurope', ['EastUS', 'westus'], false],
    ['in', absent, ['x'], false],
    ['notIn', absent, ['x'], true],
    ['notIn', 'Canonical', ['canonical'], false],
    ['containsKey', { Env: 'x' }, 'env', true],
    ['containsKey', {}, 'env', false],
    ['containsKey', absent, 'env', false],
    ['containsKey', 'Env', 'Env', false],
    ['notContainsKey', absent, 'MDFCSecurityConnector', true],
    ['notContainsKey', { mdfcsecurityconnector: 'x' }, 'MDFCSecurityConnector', false],
    ['less', 1, 2, true],
    ['less', 2, 2, false],
    ['lessOrEquals', 2, 2, true],
    ['greater', '10', 9, true],
    ['greaterOrEquals', 3, 3, true],
    ['less', '2019-04-01', '2019-04-02T00:00:00Z', true],
    ['greater', '2025-06-01T00:00:00.1234567Z', '2025-06-01T00:00:00Z', true],
    ['less', 'a', 'B', true],
    ['greater', 'b', 'A', true],
    ['less', absent, 5, false],
    ['greater', absent, 5, false],
    ['exists', 'x', true, true],
    ['exists', 'x', 'TRUE', true],
    ['exists', absent, 'true', false],
    ['exists', absent, 'false', true],
    ['exists', null, false, true],
    ['exists', '', 'true', true],
    ['exists', 'x', 'false', false],
  ])('%s: %j vs %j → %s', (operator, actual, expected, result) => {
    expect(applyOperator(operator, actual, expected)).toBe(result);
  });

  it('less/greater between values of different types fail, as Azure documents', () => {
    expect(() => applyOperator('less', 'abc', 5)).toThrow(
      "The value of type 'String' cannot be compared with the value of type 'Integer'.",
    );
    expect(() => applyOperator('greater', { a: 1 }, 'x')).toThrow('cannot be compared');
  });

  it("'in' needs an array", () => {
    expect(() => applyOperator('in', 'a', 'a')).toThrow("The 'in' condition expects an array");
  });

  it('location values are normalised: "East US 2" is eastus2', () => {
    const resource = vm({ location: 'East US 2' });
    expect(holds({ field: 'location', equals: 'eastus2' }, resource)).toBe(true);
    expect(holds({ field: 'location', in: ['westeurope', 'EastUS2'] }, resource)).toBe(true);
    expect(holds({ field: 'location', notEquals: 'East US2' }, resource)).toBe(false);
  });
});

// ─── Fields ──────────────────────────────────────────────────────────────────────────────────────

describe('fields', () => {
  const extension: ArmResource = {
    id: `${VM_ID}/extensions/MDE.Linux`,
    name: 'MDE.Linux',
    type: 'Microsoft.Compute/virtualMachines/extensions',
    location: 'westeurope',
    properties: {
      publisher: 'Microsoft.Azure.AzureDefenderForServers',
      type: 'MDE.Linux',
      provisioningState: 'Succeeded',
    },
  };

  it.each<[string, unknown, ArmResource, boolean]>([
    ['type', { field: 'type', equals: 'microsoft.compute/VIRTUALMACHINES' }, vm(), true],
    ['name', { field: 'name', equals: 'VM-APP-01' }, vm(), true],
    ['fullName of a top-level resource', { field: 'fullName', equals: 'vm-app-01' }, vm(), true],
    ['fullName of a child', { field: 'fullName', equals: 'vm-app-01/MDE.Linux' }, extension, true],
    ['name of a child', { field: 'name', equals: 'MDE.Linux' }, extension, true],
    ['kind absent', { field: 'kind', exists: false }, vm(), true],
    ['kind', { field: 'kind', equals: 'AzureServersSetting' }, vm({ kind: 'AzureServersSetting' }), true],
    ['location', { field: 'location', equals: 'WestEurope' }, vm(), true],
    ['id', { field: 'id', like: '*/resourceGroups/rg-app/*' }, vm(), true],
    ['identity.type', { field: 'identity.type', equals: 'SystemAssigned' }, vm(), true],
    ['identity.type absent', { field: 'identity.type', exists: 'false' }, vm({ identity: undefined }), true],
    ['tags containsKey', { field: 'tags', containsKey: 'env' }, vm(), true],
    ['tags without tags', { field: 'tags', notContainsKey: 'env' }, vm({ tags: undefined }), true],
    ["tags['x']", { field: "tags['Acct.CostCenter']", equals: 'cc-1' }, vm(), true],
    ['tags.x', { field: 'tags.env', equals: 'prod' }, vm(), true],
    ['tags[x]', { field: 'tags[Acct.CostCenter]', equals: 'cc-1' }, vm(), true],
    ["tags['''x''']", { field: "tags['''My.Apostrophe.Tag''']", equals: 'quoted' }, vm(), true],
    ['missing tag', { field: "tags['owner']", exists: false }, vm(), true],
    [
      'an alias',
      { field: 'Microsoft.Compute/virtualMachines/storageProfile.osDisk.osType', like: 'linux*' },
      vm(),
      true,
    ],
    [
      'a multi-type alias on a VM',
      { field: 'Microsoft.Compute/imagePublisher', equals: 'canonical' },
      vm(),
      true,
    ],
    [
      'an alias of another type is absent',
      { field: 'Microsoft.Security/assessments/status.code', exists: false },
      vm(),
      true,
    ],
    [
      'an alias on a child resource',
      { field: 'Microsoft.Compute/virtualMachines/extensions/type', equals: 'MDE.Linux' },
      extension,
      true,
    ],
  ])('%s', (_name, condition, resource, expected) => {
    expect(holds(condition, resource)).toBe(expected);
  });

  it('a field named by an expression is resolved at evaluation', () => {
    const options: Options = { parameters: { tagName: { type: 'String', value: 'Env' } } };
    expect(
      holds({ field: "[concat('tags[', parameters('tagName'), ']')]", equals: 'prod' }, vm(), options),
    ).toBe(true);
    expect(
      holds(
        { field: "[concat('tags[', parameters('tagName'), ']')]", exists: false },
        vm({ tags: {} }),
        options,
      ),
    ).toBe(true);
  });

  it('a polymorphic alias applies only to its kind', () => {
    const setting = (kind: string): ArmResource => ({
      id: `/subscriptions/${SUBSCRIPTION.subscriptionId}/providers/Microsoft.Security/settings/WDATP`,
      name: 'WDATP',
      type: 'Microsoft.Security/settings',
      kind,
      properties: { enabled: true },
    });
    const condition = { field: 'Microsoft.Security/settings/DataExportSetting.enabled', equals: 'true' };
    expect(holds(condition, setting('DataExportSettings'))).toBe(true);
    expect(holds(condition, setting('AlertSyncSettings'))).toBe(false);
  });

  it('alias names and paths are case-insensitive', () => {
    const resource = vm({ properties: { StorageProfile: { OSDisk: { OSType: 'Linux' } } } });
    expect(
      holds(
        { field: 'microsoft.compute/virtualmachines/storageprofile.osdisk.ostype', equals: 'linux' },
        resource,
      ),
    ).toBe(true);
  });
});

// ─── Arrays ──────────────────────────────────────────────────────────────────────────────────────

describe('[*] aliases: every selected member must satisfy the condition', () => {
  const ipRules = [
    { value: '127.0.0.1', action: 'Allow' },
    { value: '192.168.1.1', action: 'Allow' },
  ];
  const field = 'Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].value';
  // The scenario table of Microsoft's "Evaluating the [*] alias" (author-policies-for-arrays.md, 2019).
  it.each<[string, unknown, boolean]>([
    ['notEquals a member value: one member fails', { field, notEquals: '127.0.0.1' }, false],
    ['notEquals a value no member has: none match', { field, notEquals: '10.0.4.1' }, true],
    ['not notEquals a member value: one or more match', { not: { field, notEquals: '127.0.0.1' } }, true],
    ['not notEquals an absent value', { not: { field, notEquals: '10.0.4.1' } }, false],
    ['not equals a member value: not all match', { not: { field, equals: '127.0.0.1' } }, true],
    ['not equals an absent value', { not: { field, equals: '10.0.4.1' } }, true],
    ['equals a member value: not all match', { field, equals: '127.0.0.1' }, false],
    ['equals an absent value', { field, equals: '10.0.4.1' }, false],
    [
      'every action is Allow',
      { field: 'Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].action', equals: 'allow' },
      true,
    ],
    ['every value like 1*', { field, like: '1*' }, true],
    ['notIn a list holding one member', { field, notIn: ['127.0.0.1'] }, false],
  ])('%s', (_name, condition, expected) => {
    expect(holds(condition, storageAccount(ipRules))).toBe(expected);
  });

  it('an empty or missing array satisfies any [*] condition (nothing fails it)', () => {
    expect(holds({ field, equals: '10.0.4.1' }, storageAccount([]))).toBe(true);
    expect(holds({ field, equals: '10.0.4.1' }, storageAccount(undefined))).toBe(true);
    // …which is why Microsoft's example pairs it with an existence check on the array itself.
    expect(
      holds(
        {
          allOf: [
            { field: 'Microsoft.Storage/storageAccounts/networkAcls.ipRules', exists: 'true' },
            { field, equals: '10.0.4.1' },
          ],
        },
        storageAccount(undefined),
      ),
    ).toBe(false);
  });

  it('explains each member', () => {
    const explanation = evaluate({ field, notEquals: '127.0.0.1' }, storageAccount(ipRules));
    expect(explanation).toMatchObject({
      kind: 'field',
      result: false,
      actual: ['127.0.0.1', '192.168.1.1'],
      members: [
        { value: '127.0.0.1', result: false },
        { value: '192.168.1.1', result: true },
      ],
    });
    expect(describeLeaf(explanation as Extract<Explanation, { kind: 'field' }>)).toBe(
      `if: field '${field}' selects 2 member(s) ["127.0.0.1","192.168.1.1"]; notEquals "127.0.0.1" → false (failing: "127.0.0.1")`,
    );
  });

  // author-policies-for-arrays.md, "Referencing array fields": selected values per alias.
  it.each<[string, JsonValue]>([
    ['missingArray', ''],
    ['missingArray[*]', []],
    ['missingArray[*].property', []],
    ['stringArray', ['a', 'b', 'c']],
    ['stringArray[*]', ['a', 'b', 'c']],
    ['objectArray[*].property', ['value1', 'value2']],
    [
      'objectArray[*].nestedArray',
      [
        [1, 2],
        [3, 4],
      ],
    ],
    ['objectArray[*].nestedArray[*]', [1, 2, 3, 4]],
  ])("field('Microsoft.Test/resourceType/%s') returns %j", (path, expected) => {
    const explanation = evaluate(
      { value: `[field('Microsoft.Test/resourceType/${path}')]`, exists: true },
      arrayDocResource,
    );
    expect(explanation).toMatchObject({ kind: 'value', actual: expected });
  });

  it("a missing non-array alias is absent for conditions (not '')", () => {
    expect(
      holds({ field: 'Microsoft.Test/resourceType/missingArray', exists: false }, arrayDocResource),
    ).toBe(true);
  });
});

// ─── Count ───────────────────────────────────────────────────────────────────────────────────────

describe('count', () => {
  const t = (path: string) => `Microsoft.Test/resourceType/${path}`;

  // The count examples of author-policies-for-arrays.md, with their documented results.
  it.each<[string, unknown, number]>([
    ['the members of stringArray', { count: { field: t('stringArray[*]') } }, 3],
    ['the members of every nestedArray', { count: { field: t('objectArray[*].nestedArray[*]') } }, 4],
    [
      'members equal to a',
      { count: { field: t('stringArray[*]'), where: { field: t('stringArray[*]'), equals: 'a' } } },
      1,
    ],
    [
      'objects with property value2 and a nested member greater than 2',
      {
        count: {
          field: t('objectArray[*]'),
          where: {
            allOf: [
              { field: t('objectArray[*].property'), equals: 'value2' },
              { field: t('objectArray[*].nestedArray[*]'), greater: 2 },
            ],
          },
        },
      },
      1,
    ],
    [
      'a where on a field outside the array',
      { count: { field: t('objectArray[*]'), where: { field: 'tags.env', equals: 'prod' } } },
      2,
    ],
    [
      'nested counts',
      {
        count: {
          field: t('objectArray[*]'),
          where: {
            allOf: [
              { field: t('objectArray[*].property'), equals: 'value2' },
              {
                count: {
                  field: t('objectArray[*].nestedArray[*]'),
                  where: { field: t('objectArray[*].nestedArray[*]'), equals: 3 },
                },
                greater: 0,
              },
            ],
          },
        },
      },
      1,
    ],
    [
      'field() of the counted alias is a one-member array, so never equals the member',
      {
        count: {
          field: t('stringArray[*]'),
          where: { field: t('stringArray[*]'), equals: `[field('${t('stringArray[*]')}')]` },
        },
      },
      0,
    ],
    [
      'first(field()) of the counted alias is the member',
      {
        count: {
          field: t('stringArray[*]'),
          where: { field: t('stringArray[*]'), equals: `[first(field('${t('stringArray[*]')}'))]` },
        },
      },
      3,
    ],
    [
      'current() of the counted alias is the member',
      {
        count: {
          field: t('stringArray[*]'),
          where: { value: `[current('${t('stringArray[*]')}')]`, in: ['a', 'c'] },
        },
      },
      2,
    ],
    [
      'current() of a property of the counted member',
      {
        count: {
          field: t('objectArray[*]'),
          where: { value: `[current('${t('objectArray[*].property')}')]`, equals: 'value1' },
        },
      },
      1,
    ],
    [
      'current() without a name inside a field count',
      { count: { field: t('stringArray[*]'), where: { value: '[current()]', equals: 'b' } } },
      1,
    ],
    ['a missing array', { count: { field: t('missingArray[*]') } }, 0],
  ])('counts %s', (_name, count, expected) => {
    const explanation = evaluate({ ...(count as object), equals: expected }, arrayDocResource);
    expect(explanation).toMatchObject({ kind: 'count', count: expected, result: true });
  });

  // The value count examples of definition-structure-policy-rule.md.
  it.each<[string, unknown, ArmResource, boolean]>([
    [
      'a name like any of the patterns',
      {
        count: {
          value: ['vm-*', 'db-*'],
          name: 'pattern',
          where: { field: 'name', like: "[current('pattern')]" },
        },
        greater: 0,
      },
      vm(),
      true,
    ],
    [
      'current() without a name',
      { count: { value: ['web-*', 'db-*'], where: { field: 'name', like: '[current()]' } }, greater: 0 },
      vm(),
      false,
    ],
    [
      'an address prefix outside 10.0.0.0/24',
      {
        count: {
          field: 'Microsoft.Network/virtualNetworks/addressSpace.addressPrefixes[*]',
          where: {
            value:
              "[ipRangeContains('10.0.0.0/24', current('Microsoft.Network/virtualNetworks/addressSpace.addressPrefixes[*]'))]",
            equals: false,
          },
        },
        greater: 0,
      },
      {
        id: `/subscriptions/${SUBSCRIPTION.subscriptionId}/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/vnet`,
        name: 'vnet',
        type: 'Microsoft.Network/virtualNetworks',
        location: 'westeurope',
        properties: { addressSpace: { addressPrefixes: ['10.0.0.0/26', '10.1.0.0/16'] } },
      },
      true,
    ],
  ])('value count: %s', (_name, condition, resource, expected) => {
    expect(holds(condition, resource)).toBe(expected);
  });

  it('checks that every reserved NSG rule is defined (nested value and field counts)', () => {
    const reserved = [
      { priority: 101, access: 'deny', direction: 'inbound', destinationPortRange: 22 },
      { priority: 102, access: 'deny', direction: 'inbound', destinationPortRange: 3389 },
    ];
    const rule = (path: string) => `Microsoft.Network/networkSecurityGroups/securityRules[*].${path}`;
    const condition = {
      count: {
        value: "[parameters('reservedNsgRules')]",
        name: 'reservedNsgRule',
        where: {
          count: {
            field: 'Microsoft.Network/networkSecurityGroups/securityRules[*]',
            where: {
              allOf: ['priority', 'access', 'direction', 'destinationPortRange'].map((property) => ({
                field: rule(property),
                equals: `[current('reservedNsgRule').${property}]`,
              })),
            },
          },
          equals: 1,
        },
      },
      equals: "[length(parameters('reservedNsgRules'))]",
    };
    const nsg = (rules: JsonValue[]): ArmResource => ({
      id: `/subscriptions/${SUBSCRIPTION.subscriptionId}/resourceGroups/rg-app/providers/Microsoft.Network/networkSecurityGroups/nsg`,
      name: 'nsg',
      type: 'Microsoft.Network/networkSecurityGroups',
      location: 'westeurope',
      properties: { securityRules: rules },
    });
    const options: Options = { parameters: { reservedNsgRules: { type: 'Array', value: reserved } } };
    const both = [
      { priority: 101, access: 'Deny', direction: 'Inbound', destinationPortRange: '22' },
      { priority: 102, access: 'Deny', direction: 'Inbound', destinationPortRange: '3389' },
      { priority: 200, access: 'Allow', direction: 'Inbound', destinationPortRange: '443' },
    ];
    expect(holds(condition, nsg(both), options)).toBe(true);
    expect(holds(condition, nsg(both.slice(1)), options)).toBe(false);
  });

  it('explains each enumerated member', () => {
    const explanation = evaluate(
      {
        count: { field: t('stringArray[*]'), where: { field: t('stringArray[*]'), notEquals: 'b' } },
        equals: 2,
      },
      arrayDocResource,
    );
    expect(explanation).toMatchObject({
      kind: 'count',
      count: 2,
      members: [
        { value: 'a', result: true },
        { value: 'b', result: false },
        { value: 'c', result: true },
      ],
    });
    expect(formatExplanation(explanation)).toEqual([
      `if: count of field '${t('stringArray[*]')}' is 2 of 3; equals 2 → true`,
    ]);
  });
});

// ─── Logic and explanations ──────────────────────────────────────────────────────────────────────

describe('logical operators and explanations', () => {
  const rule = {
    anyof: [
      { field: 'type', equals: 'Microsoft.Compute/virtualMachines' },
      {
        allOf: [
          { field: 'type', equals: 'Microsoft.HybridCompute/machines' },
          { field: 'tags', notContainsKey: 'MDFCSecurityConnector' },
        ],
      },
    ],
  };

  it('keys are case-insensitive (Microsoft writes "anyof" and "Like")', () => {
    expect(holds(rule, vm())).toBe(true);
    expect(holds({ field: 'name', Like: 'vm-*' }, vm())).toBe(true);
    expect(holds({ NOT: { field: 'name', EQUALS: 'x' } }, vm())).toBe(true);
  });

  it('names the conditions that decided, with the values read', () => {
    const arc: ArmResource = {
      id: `/subscriptions/${SUBSCRIPTION.subscriptionId}/resourceGroups/rg-app/providers/Microsoft.HybridCompute/machines/gce-01`,
      name: 'gce-01',
      type: 'Microsoft.HybridCompute/machines',
      location: 'westeurope',
      tags: { MDFCSecurityConnector: 'gcp-prod' },
    };
    const explanation = evaluate(rule, arc);
    expect(explanation.result).toBe(false);
    expect(decisiveConditions(explanation).map(describeLeaf)).toEqual([
      'if.anyOf[0]: field \'type\' is "Microsoft.HybridCompute/machines"; equals "Microsoft.Compute/virtualMachines" → false',
      'if.anyOf[1].allOf[1]: field \'tags\' is {"MDFCSecurityConnector":"gcp-prod"}; notContainsKey "MDFCSecurityConnector" → false',
    ]);
    expect(formatExplanation(explanation)).toEqual([
      'if: anyOf → false',
      '  if.anyOf[0]: field \'type\' is "Microsoft.HybridCompute/machines"; equals "Microsoft.Compute/virtualMachines" → false',
      '  if.anyOf[1]: allOf → false',
      '    if.anyOf[1].allOf[0]: field \'type\' is "Microsoft.HybridCompute/machines"; equals "Microsoft.HybridCompute/machines" → true',
      '    if.anyOf[1].allOf[1]: field \'tags\' is {"MDFCSecurityConnector":"gcp-prod"}; notContainsKey "MDFCSecurityConnector" → false',
    ]);
  });

  it('shows a parameter operand with its value', () => {
    const options: Options = { parameters: { vaType: { type: 'String', value: 'mdeTvm' } } };
    const explanation = evaluate({ field: 'name', equals: "[parameters('vaType')]" }, vm(), options);
    expect(describeLeaf(explanation as Extract<Explanation, { kind: 'field' }>)).toBe(
      'if: field \'name\' is "vm-app-01"; equals "[parameters(\'vaType\')]" (= "mdeTvm") → false',
    );
  });

  it('allOf/anyOf do not short-circuit: a failing function anywhere fails the evaluation', () => {
    const condition = {
      allOf: [
        { value: "[length(field('name'))]", greaterOrEquals: 30 },
        { value: "[substring(field('name'), 0, 30)]", equals: 'abc' },
      ],
    };
    expect(() => evaluate(condition, vm())).toThrow("At 'if.allOf[1]': The index and length parameters");
  });

  it('an empty allOf holds and an empty anyOf does not', () => {
    expect(holds({ allOf: [] }, vm())).toBe(true);
    expect(holds({ anyOf: [] }, vm())).toBe(false);
  });
});

// ─── Refused at create time ──────────────────────────────────────────────────────────────────────

describe('bad rules are refused when compiled', () => {
  const refused = (condition: unknown, code: string, message: string, options?: Options) => {
    let caught: unknown;
    try {
      compile(condition, options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PolicyError);
    expect((caught as PolicyError).code).toBe(code);
    expect((caught as PolicyError).message).toContain(message);
  };

  it.each<[string, unknown, string, string, Options?]>([
    [
      'an unknown alias',
      { field: 'Microsoft.Security/assessments/status.severity', equals: 'High' },
      'InvalidPolicyAlias',
      "The policy definition 'test-definition' rule is invalid. The 'field' property 'Microsoft.Security/assessments/status.severity' of the policy rule doesn't exist as an alias under provider 'Microsoft.Security' and resource type 'assessments'.",
    ],
    ['an unknown field', { field: 'sku.name', equals: 'x' }, 'InvalidPolicyAlias', "'sku.name'"],
    [
      'an unknown alias inside field()',
      { value: "[field('Microsoft.Compute/virtualMachines/nope')]", equals: 'x' },
      'InvalidPolicyAlias',
      "'Microsoft.Compute/virtualMachines/nope'",
    ],
    [
      'an unknown operator',
      { field: 'type', equal: 'x' },
      'InvalidPolicyRule',
      "Could not find member 'equal' on object of type 'LeafExpressionDefinition'. Path 'if.equal'.",
    ],
    [
      'two operators',
      { field: 'type', equals: 'x', notEquals: 'y' },
      'InvalidPolicyRule',
      'has two operators',
    ],
    ['no operator', { field: 'type' }, 'InvalidPolicyRule', 'needs an operator'],
    ['no subject', { equals: 'x' }, 'InvalidPolicyRule', "needs one of 'field', 'value' or 'count'"],
    [
      'field and value',
      { field: 'type', value: 'x', equals: 'y' },
      'InvalidPolicyRule',
      "has both 'field' and 'value'",
    ],
    [
      'a logical operator with another member',
      { allOf: [], field: 'type' },
      'InvalidPolicyRule',
      "Could not find member 'field' on object of type 'LogicalExpressionDefinition'",
    ],
    [
      'allOf that is not an array',
      { allOf: { field: 'type', equals: 'x' } },
      'InvalidPolicyRule',
      'must be an array',
    ],
    ["'in' with one value", { field: 'type', in: 'x' }, 'InvalidPolicyRule', 'expects an array of values'],
    [
      "'equals' with an array",
      { field: 'type', equals: ['x'] },
      'InvalidPolicyRule',
      'expects a single value',
    ],
    [
      "'exists' with maybe",
      { field: 'type', exists: 'maybe' },
      'InvalidPolicyRule',
      "expects 'true' or 'false'",
    ],
    [
      'an array parameter with equals',
      { field: 'location', equals: "[parameters('allowedLocations')]" },
      'InvalidPolicyParameters',
      "Evaluation result of language expression '[parameters('allowedLocations')]' is type 'Array', expected type is 'String'.",
      { parameters: { allowedLocations: { type: 'Array', value: [] } } },
    ],
    [
      'a string parameter with in',
      { field: 'location', in: "[parameters('location')]" },
      'InvalidPolicyParameters',
      "is type 'String', expected type is 'Array'.",
      { parameters: { location: { type: 'String', value: 'x' } } },
    ],
    [
      'an undefined parameter',
      { field: 'name', equals: "[parameters('missing')]" },
      'InvalidPolicyParameters',
      "The policy 'test-definition' has undefined parameter 'missing' which is used in the policy rule.",
    ],
    [
      'an unparsable expression',
      { value: "[concat('a',]", equals: 'x' },
      'InvalidPolicyParameters',
      "The inner exception 'Unable to parse language expression 'concat('a',': expected token 'Identifier' and actual 'EndOfData'",
    ],
    [
      'an unknown function',
      { value: "[frobnicate('a')]", equals: 'x' },
      'InvalidPolicyParameters',
      "The template function 'frobnicate' is not valid.",
    ],
    [
      'a template-only function',
      { value: "[resourceId('a/b', 'c')]", equals: 'x' },
      'InvalidPolicyParameters',
      'is not available in a policy rule',
    ],
    [
      'current() outside a count',
      { value: '[current()]', equals: 'x' },
      'InvalidPolicyParameters',
      "'current' is not available",
    ],
    [
      'a count over a non-array alias',
      { count: { field: 'Microsoft.Security/pricings/pricingTier' }, equals: 1 },
      'InvalidPolicyRule',
      'must be an array alias',
    ],
    [
      'a count compared with text',
      { count: { field: 'Microsoft.Security/pricings/extensions[*]' }, equals: 'one' },
      'InvalidPolicyRule',
      'compared with an integer',
    ],
    [
      'an unnamed value count inside a count',
      { count: { value: ['a'], where: { count: { value: ['b'] }, equals: 1 } }, equals: 1 },
      'InvalidPolicyRule',
      "needs a 'name'",
    ],
    [
      'a count with an unknown member',
      { count: { field: 'Microsoft.Security/pricings/extensions[*]', filter: {} }, equals: 1 },
      'InvalidPolicyRule',
      "Could not find member 'filter'",
    ],
  ])('%s', (_name, condition, code, message, options) => {
    refused(condition, code, message, options);
  });
});

describe('the alias registry', () => {
  it('refuses an alias whose path disagrees with its name on [*]', () => {
    expect(() =>
      createAliasRegistry([
        { name: 'X/y/list[*]', paths: [{ resourceType: 'X/y', path: 'properties.list' }], usedBy: [] },
      ]),
    ).toThrow('disagree on [*]');
  });

  it('knows every alias case-insensitively', () => {
    for (const alias of DEFAULT_ALIASES)
      expect(defaultAliasRegistry.lookup(alias.name.toUpperCase())?.name).toBe(alias.name);
  });
});
