import { describe, expect, it } from 'vitest';
import { ExpressionError } from './errors.js';
import {
  checkExpression,
  compileValue,
  type ExpressionHost,
  evaluateExpression,
  evaluateValue,
  isExpressionString,
  literalString,
  parseExpression,
} from './expressions.js';
import { FUNCTION_NAMES, FUNCTIONS } from './functions.js';
import { ipRangeContains } from './ipRange.js';
import type { JsonValue } from './types.js';

const NOW = new Date('2025-06-01T12:34:56.789Z');
const PARAMETERS: Record<string, JsonValue> = {
  name: 'vm-app-01',
  list: ['a', 'b', 'c'],
  empty: [],
  tagname: 'cost-center',
  object: { key: 'value', nested: { deep: 1 } },
};

function host(overrides: Partial<ExpressionHost> = {}): ExpressionHost {
  return {
    context: 'policyRule',
    now: NOW,
    parameter: (name) => {
      const value = PARAMETERS[name.toLowerCase()];
      if (value === undefined) throw new ExpressionError(`The policy parameter '${name}' has no value.`);
      return value;
    },
    field: (name) => (name.toLowerCase() === 'name' ? 'vm-app-01' : name === 'tags' ? { env: 'prod' } : ''),
    subscription: () => ({ id: '/subscriptions/sub-1', subscriptionId: 'sub-1', displayName: 'Production' }),
    resourceGroup: () => ({
      id: '/subscriptions/sub-1/resourceGroups/rg-app',
      name: 'rg-app',
      location: 'westeurope',
      tags: { 'cost-center': 'cc-42' },
    }),
    requestContext: () => ({ apiVersion: '2023-05-01' }),
    ...overrides,
  };
}

const run = (text: string, at: ExpressionHost = host()) => evaluateExpression(parseExpression(text), at);

describe('which strings are expressions', () => {
  it.each([
    ["[parameters('a')]", true],
    ['[[parameters(a)]', false],
    ['[not closed', false],
    ['plain', false],
    ['[]', true],
    ['tags[env]', false],
  ])('%s is an expression: %s', (text, expected) => {
    expect(isExpressionString(text)).toBe(expected);
  });

  it("'[[' escapes a literal that starts with '['", () => {
    expect(literalString("[[parameters('a')]")).toBe("[parameters('a')]");
    expect(literalString('plain')).toBe('plain');
  });
});

describe('literals, calls and accessors', () => {
  it.each<[string, JsonValue]>([
    ["['abc']", 'abc'],
    ["['it''s']", "it's"],
    ["['']", ''],
    ['[42]', 42],
    ['[-7]', -7],
    ['[true()]', true],
    ['[false()]', false],
    ['[null()]', null],
    ["[parameters('name')]", 'vm-app-01'],
    ["[PARAMETERS('Name')]", 'vm-app-01'],
    ["[parameters( 'name' )]", 'vm-app-01'],
    ["[parameters('object').key]", 'value'],
    ["[parameters('object').KEY]", 'value'],
    ["[parameters('object').nested.deep]", 1],
    ["[parameters('object')['nested']['deep']]", 1],
    ["[parameters('list')[1]]", 'b'],
    ["[resourceGroup().tags[parameters('tagName')]]", 'cc-42'],
    ['[subscription().subscriptionId]', 'sub-1'],
    ['[subscription().displayName]', 'Production'],
    ['[subscription().id]', '/subscriptions/sub-1'],
    ['[resourceGroup().name]', 'rg-app'],
    ['[resourcegroup().location]', 'westeurope'],
    ['[resourceGroup().id]', '/subscriptions/sub-1/resourceGroups/rg-app'],
    ['[requestContext().apiVersion]', '2023-05-01'],
    ["[field('name')]", 'vm-app-01'],
    ["[split('a/b/c', '/')[2]]", 'c'],
  ])('%s → %j', (text, expected) => {
    expect(run(text)).toEqual(expected);
  });
});

describe('functions', () => {
  it.each<[string, JsonValue]>([
    ["[concat('a', 'b', 'c')]", 'abc'],
    ["[concat('vm', 1, true())]", 'vm1True'],
    ["[concat(parameters('list'), createArray('d'))]", ['a', 'b', 'c', 'd']],
    ["[toLower('MdeTvm')]", 'mdetvm'],
    ["[toUpper('mdeTvm')]", 'MDETVM'],
    ["[equals('a', 'a')]", true],
    ["[equals('a', 'A')]", false],
    ['[equals(1, 1)]', true],
    ["[equals(parameters('list'), createArray('a', 'b', 'c'))]", true],
    ["[if(equals(1, 1), 'yes', 'no')]", 'yes'],
    ["[if(equals(1, 2), 'yes', 'no')]", 'no'],
    ['[and(true(), true(), false())]', false],
    ['[or(false(), true())]', true],
    ['[not(false())]', true],
    ["[empty('')]", true],
    ["[empty(parameters('empty'))]", true],
    ["[empty(parameters('list'))]", false],
    ['[empty(createObject())]', true],
    ['[empty(null())]', true],
    ["[contains('Microsoft.Compute', 'Compute')]", true],
    ["[contains('Microsoft.Compute', 'compute')]", false],
    ["[contains(parameters('list'), 'b')]", true],
    ["[contains(parameters('object'), 'KEY')]", true],
    ["[length('abcd')]", 4],
    ["[length(parameters('list'))]", 3],
    ["[length(parameters('object'))]", 2],
    ["[first(parameters('list'))]", 'a'],
    ["[last(parameters('list'))]", 'c'],
    ["[first('xyz')]", 'x'],
    ["[first(parameters('empty'))]", null],
    ["[split('a,b;c', createArray(',', ';'))]", ['a', 'b', 'c']],
    ["[replace('a-b-c', '-', '/')]", 'a/b/c'],
    ["[substring('abcdef', 2, 3)]", 'cde'],
    ["[substring('abcdef', 4)]", 'ef'],
    ['[string(1)]', '1'],
    ['[string(true())]', 'True'],
    ["[string(parameters('list'))]", '["a","b","c"]'],
    ['[string(null())]', ''],
    ["[int('42')]", 42],
    ['[int(7)]', 7],
    ["[bool('TRUE')]", true],
    ['[bool(0)]', false],
    ['[json(\'{"a":[1,2]}\')]', { a: [1, 2] }],
    ["[json('null')]", null],
    ["[coalesce(null(), '', 'x')]", ''],
    ['[coalesce(null(), null())]', null],
    ["[tryGet(parameters('object'), 'nested', 'deep')]", 1],
    ["[tryGet(parameters('object'), 'missing')]", null],
    ["[tryGet(null(), 'x')]", null],
    ["[tryGet(parameters('list'), 5)]", null],
    ["[startsWith('Microsoft.Compute/virtualMachines', 'microsoft.compute')]", true],
    ["[endsWith('vm-app-01', '-01')]", true],
    ["[indexOf('abcabc', 'C')]", 2],
    ["[lastIndexOf('abcabc', 'c')]", 5],
    ["[trim('  x  ')]", 'x'],
    ["[padLeft('7', 3, '0')]", '007'],
    ["[take(parameters('list'), 2)]", ['a', 'b']],
    ["[skip('abcdef', 4)]", 'ef'],
    ["[join(parameters('list'), '+')]", 'a+b+c'],
    ["[union(createArray('a', 'b'), createArray('b', 'c'))]", ['a', 'b', 'c']],
    ["[intersection(createArray('a', 'b'), createArray('b', 'c'))]", ['b']],
    ["[createObject('a', 1, 'b', 'two')]", { a: 1, b: 'two' }],
    ["[array('x')]", ['x']],
    ['[range(3, 2)]', [3, 4]],
    ['[add(2, 3)]', 5],
    ['[sub(2, 3)]', -1],
    ['[mul(2, 3)]', 6],
    ['[div(7, 2)]', 3],
    ['[mod(7, 2)]', 1],
    ['[min(3, 1, 2)]', 1],
    ['[max(createArray(3, 9, 2))]', 9],
    ['[greater(2, 1)]', true],
    ["[less('a', 'b')]", true],
    ["[greaterOrEquals('2019-04-01', '2019-04-01')]", true],
    ["[lessOrEquals(requestContext().apiVersion, '2019-04-01')]", false],
    ["[base64('vaplane')]", 'dmFwbGFuZQ=='],
    ["[base64ToString('dmFwbGFuZQ==')]", 'vaplane'],
    ["[ipRangeContains('10.0.0.0/24', '10.0.0.12')]", true],
    ["[ipRangeContains('10.0.0.0/24', '10.0.1.0/30')]", false],
    ['[utcNow()]', '2025-06-01T12:34:56.7890000Z'],
    ["[utcNow('yyyy-MM-dd')]", '2025-06-01'],
    ["[utcNow('u')]", '2025-06-01 12:34:56Z'],
    ["[addDays('2025-06-01T00:00:00Z', 30)]", '2025-07-01T00:00:00.0000000Z'],
    ['[addDays(utcNow(), -1)]', '2025-05-31T12:34:56.7890000Z'],
  ])('%s → %j', (text, expected) => {
    expect(run(text)).toEqual(expected);
  });

  it('if() evaluates only the branch it takes', () => {
    expect(run("[if(greaterOrEquals(length('ab'), 3), substring('ab', 0, 3), 'too short')]")).toBe(
      'too short',
    );
  });

  it('utcNow() in a template uses the template format', () => {
    expect(run('[utcNow()]', host({ context: 'template' }))).toBe('20250601T123456Z');
  });

  it('every documented name resolves case-insensitively', () => {
    for (const name of FUNCTION_NAMES) expect(FUNCTIONS.has(name.toLowerCase())).toBe(true);
  });
});

describe('template-only functions', () => {
  const template = host({
    context: 'template',
    deploymentScope: { subscriptionId: 'sub-1', resourceGroupName: 'rg-app' },
    variable: (name) => (name === 'kind' ? 'AzureServersSetting' : null),
    reference: (id, apiVersion, full) => ({ id, apiVersion: apiVersion ?? null, full }),
  });

  it.each<[string, JsonValue]>([
    ["[variables('kind')]", 'AzureServersSetting'],
    [
      "[resourceId('Microsoft.Compute/virtualMachines', 'vm1')]",
      '/subscriptions/sub-1/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm1',
    ],
    [
      "[resourceId('rg-other', 'Microsoft.Compute/virtualMachines/extensions', 'vm1', 'MDE.Linux')]",
      '/subscriptions/sub-1/resourceGroups/rg-other/providers/Microsoft.Compute/virtualMachines/vm1/extensions/MDE.Linux',
    ],
    [
      "[resourceId('sub-2', 'rg-x', 'Microsoft.Compute/virtualMachines', 'vm9')]",
      '/subscriptions/sub-2/resourceGroups/rg-x/providers/Microsoft.Compute/virtualMachines/vm9',
    ],
    [
      "[subscriptionResourceId('Microsoft.Security/mdeOnboardings', 'Linux')]",
      '/subscriptions/sub-1/providers/Microsoft.Security/mdeOnboardings/Linux',
    ],
    [
      "[subscriptionResourceId('sub-2', 'Microsoft.Security/pricings', 'VirtualMachines')]",
      '/subscriptions/sub-2/providers/Microsoft.Security/pricings/VirtualMachines',
    ],
    ["[reference('x', '2021-10-01-preview', 'Full').full]", true],
  ])('%s → %j', (text, expected) => {
    expect(run(text, template)).toEqual(expected);
  });

  it('resourceId() at a subscription deployment gives a subscription-level id', () => {
    const subscriptionLevel = host({ context: 'template', deploymentScope: { subscriptionId: 'sub-1' } });
    expect(run("[resourceId('Microsoft.Security/pricings', 'VirtualMachines')]", subscriptionLevel)).toBe(
      '/subscriptions/sub-1/providers/Microsoft.Security/pricings/VirtualMachines',
    );
  });

  it.each(['resourceId', 'subscriptionResourceId', 'variables', 'reference'])(
    '%s() is refused in a policy rule',
    (name) => {
      const expression = parseExpression(`[${name}('a/b', 'c')]`);
      expect(() => checkExpression(expression, { context: 'policyRule' })).toThrow(
        `The template function '${name}' is not available in a policy rule.`,
      );
    },
  );

  it.each(['field', 'current', 'requestContext', 'policy', 'ipRangeContains', 'addDays'])(
    '%s() is refused in a deployment template',
    (name) => {
      const expression = parseExpression(`[${name}()]`);
      expect(() => checkExpression(expression, { context: 'template' })).toThrow(
        'is not available in a deployment template',
      );
    },
  );

  it('reference() without a deployment engine says what is missing', () => {
    expect(() => run("[reference('x')]", host({ context: 'template' }))).toThrow(
      "The template language function 'reference' is not available: reading resources needs the deployment engine.",
    );
  });
});

describe('errors name what is wrong', () => {
  it('an unknown function is named', () => {
    expect(() => checkExpression(parseExpression("[frobnicate('x')]"), { context: 'policyRule' })).toThrow(
      "The template function 'frobnicate' is not valid.",
    );
    expect(() => run("[frobnicate('x')]")).toThrow("'frobnicate'");
  });

  it.each(['guid', 'uniqueString', 'newGuid', 'deployment', 'copyIndex'])(
    '%s() is not implemented and says so',
    (name) => {
      expect(() => checkExpression(parseExpression(`[${name}()]`), { context: 'template' })).toThrow(
        `'${name}' is not valid`,
      );
    },
  );

  it('a stray bracket is reported as Azure reports it', () => {
    expect(() => parseExpression("[field('id')]]")).toThrow(
      "Unable to parse language expression 'field('id')]': expected token 'EndOfData' and actual 'RightSquareBracket' near position '12'.",
    );
  });

  it.each([
    ["[concat('a', )]", "expected token 'Identifier' and actual 'RightParenthesis' near position '13'"],
    ["[concat('a', ]", "expected token 'Identifier' and actual 'EndOfData'"],
    ["[concat('a']", "expected token 'RightParenthesis' and actual 'EndOfData'"],
    ["['unterminated]", 'is not terminated'],
    ['[equals(1, true)]', 'call true()'],
    ['[1.5]', 'integer literals only'],
    ['[a # b]', "the character '#'"],
  ])('%s is refused: %s', (text, message) => {
    expect(() => parseExpression(text)).toThrow(message);
  });

  it.each([["[concat('a')", 'a string without the closing bracket is a literal, not an expression']])(
    '%s: %s',
    (text) => {
      expect(() => parseExpression(text)).toThrow('is not a template language expression');
    },
  );

  it('argument counts are checked before evaluation', () => {
    expect(() => checkExpression(parseExpression("[toLower('a', 'b')]"), { context: 'policyRule' })).toThrow(
      "The template language function 'toLower' must have 1 parameter(s); 2 given.",
    );
    expect(() => checkExpression(parseExpression('[if(true(), 1)]'), { context: 'policyRule' })).toThrow(
      'must have 3 parameter(s)',
    );
  });

  it.each([
    [
      "[substring('ab', 0, 3)]",
      'The index and length parameters must refer to a location within the string.',
    ],
    ["[int('')]", "The template language function 'int' cannot convert provided value '' to integer value."],
    [
      '[toLower(1)]',
      "expects its parameter to be of type 'String'. The provided value is of type 'Integer'.",
    ],
    [
      "[parameters('object').missing]",
      "The language expression property 'missing' doesn't exist, available properties are 'key, nested'.",
    ],
    ["[parameters('list')[3]]", "The language expression property array index '3' is out of bounds."],
    ["[parameters('undeclared')]", "The policy parameter 'undeclared' has no value."],
    ['[div(1, 0)]', 'cannot divide by zero'],
    ["[json('{')]", 'cannot parse'],
    ["[ipRangeContains('10.0.0.0/8', '::1')]", 'cannot compare IPv4'],
    ["[greater(1, 'a')]", 'expects two values of the same type'],
    ["[and(true(), 'yes')]", "expects its parameter to be of type 'Boolean'"],
  ])('%s fails: %s', (text, message) => {
    expect(() => run(text)).toThrow(message);
  });

  it('resourceGroup() of a subscription-level resource says why it is missing', () => {
    expect(() => run('[resourceGroup().name]', host({ resourceGroup: undefined }))).toThrow(
      "The template language function 'resourceGroup' is not available: the evaluated resource is not in a resource group.",
    );
  });
});

describe('compiled JSON values', () => {
  it('resolves expressions nested in arrays and objects, and leaves escaped strings literal', () => {
    const compiled = compileValue(
      {
        name: "[parameters('name')]",
        list: ["[first(parameters('list'))]", 'x'],
        escaped: '[[not-an-expression]',
      },
      { context: 'policyRule' },
    );
    expect(evaluateValue(compiled, host())).toEqual({
      name: 'vm-app-01',
      list: ['a', 'x'],
      escaped: '[not-an-expression]',
    });
  });

  it('a value without expressions compiles to one literal', () => {
    expect(compileValue({ a: ['b', 1] }, { context: 'policyRule' })).toEqual({
      kind: 'literal',
      value: { a: ['b', 1] },
    });
  });

  it('reports declared-parameter and field checks through callbacks', () => {
    const seen: string[] = [];
    compileValue("[concat(parameters('a'), field('tags.env'))]", {
      context: 'policyRule',
      onParameter: (name) => seen.push(`parameter ${name}`),
      onField: (name) => seen.push(`field ${name}`),
    });
    expect(seen).toEqual(['parameter a', 'field tags.env']);
  });
});

describe('ipRangeContains', () => {
  it.each([
    ['10.0.0.0/24', '10.0.0.0/24', true],
    ['10.0.0.0/24', '10.0.0.255', true],
    ['10.0.0.0/24', '10.0.1.0', false],
    ['10.0.0.0/16', '10.0.4.0-10.0.4.9', true],
    ['192.168.0.1-192.168.0.9', '192.168.0.5', true],
    ['192.168.0.1-192.168.0.9', '192.168.0.10', false],
    ['0.0.0.0/0', '203.0.113.7', true],
    ['2001:0DB8::/110', '2001:db8::3:fffe', true],
    ['2001:0DB8::/110', '2001:db8::4:0', false],
    ['2001:DB8::-2001:DB8::3:FFFF', '2001:db8::2:1', true],
    ['::ffff:10.0.0.0/120', '::ffff:10.0.0.9', true],
  ])('%s contains %s: %s', (range, target, expected) => {
    expect(ipRangeContains(range, target)).toBe(expected);
  });

  it.each(['', '10.0.0.256', '10.0.0.0/33', '10.0.0.9-10.0.0.1', 'fe80::1::2', 'not-an-ip'])(
    'refuses %j',
    (range) => {
      expect(() => ipRangeContains(range, '10.0.0.1')).toThrow(ExpressionError);
    },
  );
});
