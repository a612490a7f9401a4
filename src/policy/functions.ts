/**
 * The template functions the engine knows, with where each is available. Azure Policy allows every ARM
 * template function in a policy rule except the deployment-bound ones (`resourceId`, `variables`,
 * `reference` …), which stay available inside a DeployIfNotExists `deployment.properties.template`;
 * `field`, `current`, `requestContext`, `policy`, `addDays` and `ipRangeContains` exist only in policy
 * rules (definition-structure-policy-rule.md, "Policy functions").
 *
 * Deliberately absent: `guid` and `uniqueString` (their hashes are ARM-internal and a look-alike would
 * produce different names than Azure), `copyIndex`, `deployment`, `environment`, `list*`, `newGuid`,
 * `pickZones`, `providers`, lambdas and user-defined functions. An absent function is an error naming it.
 */
import { formatDate, POLICY_DATE_FORMAT, parseIsoDate, TEMPLATE_DATE_FORMAT } from './dates.js';
import { ExpressionError } from './errors.js';
import type { Argument, ExpressionHost } from './expressions.js';
import { ipRangeContains } from './ipRange.js';
import { compactJson, deepEqual, isJsonObject, propertyOf, typeName } from './json.js';
import type { JsonObject, JsonValue } from './types.js';

export type FunctionAvailability = 'policyRule' | 'template';

export interface FunctionDefinition {
  availability: FunctionAvailability | 'both';
  /** Accepted argument counts, inclusive. */
  arity: readonly [number, number];
  evaluate(args: Argument[], host: ExpressionHost, name: string): JsonValue;
}

const MANY = Number.POSITIVE_INFINITY;

// ─── Argument conversion ─────────────────────────────────────────────────────────────────────────

function expectType(name: string, expected: string, value: JsonValue): never {
  throw new ExpressionError(
    `The template language function '${name}' expects its parameter to be of type '${expected}'. The provided value is of type '${typeName(value)}'.`,
  );
}

function asString(name: string, value: JsonValue): string {
  return typeof value === 'string' ? value : expectType(name, 'String', value);
}

function asInteger(name: string, value: JsonValue): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : expectType(name, 'Integer', value);
}

function asNumber(name: string, value: JsonValue): number {
  return typeof value === 'number' ? value : expectType(name, 'Integer', value);
}

function asArray(name: string, value: JsonValue): JsonValue[] {
  return Array.isArray(value) ? value : expectType(name, 'Array', value);
}

function asBoolean(name: string, value: JsonValue): boolean {
  return typeof value === 'boolean' ? value : expectType(name, 'Boolean', value);
}

function needsHost<T>(member: T | undefined, name: string, what: string): T {
  if (member === undefined) {
    throw new ExpressionError(`The template language function '${name}' is not available: ${what}.`);
  }
  return member;
}

/** ARM's `string()`: booleans as `True`/`False`, objects and arrays as compact JSON, null as ''. */
export function armString(value: JsonValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  return compactJson(value);
}

function compareOrdered(name: string, left: JsonValue, right: JsonValue): number {
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  if (typeof left === 'string' && typeof right === 'string') return left < right ? -1 : left > right ? 1 : 0;
  throw new ExpressionError(
    `The template language function '${name}' expects two values of the same type, Integer or String; it was given '${typeName(left)}' and '${typeName(right)}'.`,
  );
}

// ─── Resource ids ────────────────────────────────────────────────────────────────────────────────

function providerPath(name: string, type: string, names: string[]): string {
  const segments = type.split('/');
  const namespace = segments[0]!;
  const types = segments.slice(1);
  if (types.length === 0 || types.length !== names.length) {
    throw new ExpressionError(
      `The template language function '${name}' was given resource type '${type}' with ${names.length} name segment(s); the type needs ${types.length}.`,
    );
  }
  return `providers/${namespace}/${types.map((segment, index) => `${segment}/${names[index]}`).join('/')}`;
}

function resourceId(args: JsonValue[], host: ExpressionHost, name: string): string {
  const strings = args.map((arg) => asString(name, arg));
  const typeIndex = strings.findIndex((arg) => arg.includes('/'));
  if (typeIndex < 0 || typeIndex > 2) {
    throw new ExpressionError(
      `The template language function '${name}' needs a resource type such as 'Namespace/type'.`,
    );
  }
  const scope = host.deploymentScope;
  const [subscriptionId, resourceGroupName] =
    typeIndex === 2
      ? [strings[0]!, strings[1]]
      : typeIndex === 1
        ? [needsHost(scope, name, 'no deployment scope').subscriptionId, strings[0]!]
        : [needsHost(scope, name, 'no deployment scope').subscriptionId, scope?.resourceGroupName];
  const path = providerPath(name, strings[typeIndex]!, strings.slice(typeIndex + 1));
  return resourceGroupName === undefined
    ? `/subscriptions/${subscriptionId}/${path}`
    : `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/${path}`;
}

function subscriptionResourceId(args: JsonValue[], host: ExpressionHost, name: string): string {
  const strings = args.map((arg) => asString(name, arg));
  const typeIndex = strings.findIndex((arg) => arg.includes('/'));
  if (typeIndex < 0 || typeIndex > 1) {
    throw new ExpressionError(
      `The template language function '${name}' needs a resource type such as 'Namespace/type'.`,
    );
  }
  const subscriptionId =
    typeIndex === 1
      ? strings[0]!
      : needsHost(host.deploymentScope, name, 'no deployment scope').subscriptionId;
  return `/subscriptions/${subscriptionId}/${providerPath(name, strings[typeIndex]!, strings.slice(typeIndex + 1))}`;
}

// ─── The library ─────────────────────────────────────────────────────────────────────────────────

type Evaluate = FunctionDefinition['evaluate'];

const definitions: [string, FunctionAvailability | 'both', readonly [number, number], Evaluate][] = [
  // Values from the host
  ['parameters', 'both', [1, 1], (args, host, name) => host.parameter(asString(name, args[0]!()))],
  [
    'variables',
    'template',
    [1, 1],
    (args, host, name) => needsHost(host.variable, name, 'no template variables')(asString(name, args[0]!())),
  ],
  [
    'field',
    'policyRule',
    [1, 1],
    (args, host, name) =>
      needsHost(host.field, name, 'no resource is being evaluated')(asString(name, args[0]!())),
  ],
  [
    'current',
    'policyRule',
    [0, 1],
    (args, host, name) =>
      needsHost(
        host.current,
        name,
        'it is only available inside a count expression',
      )(args[0] ? asString(name, args[0]()) : undefined),
  ],
  [
    'subscription',
    'both',
    [0, 0],
    (_args, host, name) => needsHost(host.subscription, name, 'no subscription')(),
  ],
  [
    'resourceGroup',
    'both',
    [0, 0],
    (_args, host, name) =>
      needsHost(host.resourceGroup, name, 'the evaluated resource is not in a resource group')(),
  ],
  [
    'requestContext',
    'policyRule',
    [0, 0],
    (_args, host, name) => needsHost(host.requestContext, name, 'no request context')(),
  ],
  ['policy', 'policyRule', [0, 0], (_args, host, name) => needsHost(host.policy, name, 'no assignment')()],
  [
    'utcNow',
    'both',
    [0, 1],
    (args, host, name) =>
      formatDate(
        host.now,
        args[0]
          ? asString(name, args[0]())
          : host.context === 'policyRule'
            ? POLICY_DATE_FORMAT
            : TEMPLATE_DATE_FORMAT,
      ),
  ],
  [
    'addDays',
    'policyRule',
    [2, 2],
    (args, _host, name) => {
      const text = asString(name, args[0]!());
      const date = parseIsoDate(text);
      if (!date)
        throw new ExpressionError(
          `The template language function '${name}' cannot parse '${text}' as a date.`,
        );
      return formatDate(
        new Date(date.getTime() + asInteger(name, args[1]!()) * 86_400_000),
        POLICY_DATE_FORMAT,
      );
    },
  ],
  [
    'resourceId',
    'template',
    [2, MANY],
    (args, host, name) =>
      resourceId(
        args.map((arg) => arg()),
        host,
        name,
      ),
  ],
  [
    'subscriptionResourceId',
    'template',
    [2, MANY],
    (args, host, name) =>
      subscriptionResourceId(
        args.map((arg) => arg()),
        host,
        name,
      ),
  ],
  [
    'reference',
    'template',
    [1, 3],
    (args, host, name) => {
      const target = asString(name, args[0]!());
      const apiVersion = args[1] ? asString(name, args[1]()) : undefined;
      const full = args[2] ? asString(name, args[2]()).toLowerCase() === 'full' : false;
      return needsHost(host.reference, name, 'reading resources needs the deployment engine')(
        target,
        apiVersion,
        full,
      );
    },
  ],

  // Literals
  ['true', 'both', [0, 0], () => true],
  ['false', 'both', [0, 0], () => false],
  ['null', 'both', [0, 0], () => null],

  // Logic and comparison
  ['equals', 'both', [2, 2], (args) => deepEqual(args[0]!(), args[1]!(), false)],
  ['if', 'both', [3, 3], (args, _host, name) => (asBoolean(name, args[0]!()) ? args[1]!() : args[2]!())],
  ['and', 'both', [1, MANY], (args, _host, name) => args.map((arg) => asBoolean(name, arg())).every(Boolean)],
  ['or', 'both', [1, MANY], (args, _host, name) => args.map((arg) => asBoolean(name, arg())).some(Boolean)],
  ['not', 'both', [1, 1], (args, _host, name) => !asBoolean(name, args[0]!())],
  ['less', 'both', [2, 2], (args, _host, name) => compareOrdered(name, args[0]!(), args[1]!()) < 0],
  ['lessOrEquals', 'both', [2, 2], (args, _host, name) => compareOrdered(name, args[0]!(), args[1]!()) <= 0],
  ['greater', 'both', [2, 2], (args, _host, name) => compareOrdered(name, args[0]!(), args[1]!()) > 0],
  [
    'greaterOrEquals',
    'both',
    [2, 2],
    (args, _host, name) => compareOrdered(name, args[0]!(), args[1]!()) >= 0,
  ],
  [
    'coalesce',
    'both',
    [1, MANY],
    (args) => {
      for (const arg of args) {
        const value = arg();
        if (value !== null) return value;
      }
      return null;
    },
  ],

  // Strings and collections
  [
    'concat',
    'both',
    [1, MANY],
    (args, _host, name) => {
      const values = args.map((arg) => arg());
      if (values.every(Array.isArray)) return (values as JsonValue[][]).flat(1);
      if (values.some((value) => Array.isArray(value) || isJsonObject(value))) {
        throw new ExpressionError(
          `The template language function '${name}' expects all of its parameters to be arrays, or all to be strings and numbers.`,
        );
      }
      return values.map(armString).join('');
    },
  ],
  ['toLower', 'both', [1, 1], (args, _host, name) => asString(name, args[0]!()).toLowerCase()],
  ['toUpper', 'both', [1, 1], (args, _host, name) => asString(name, args[0]!()).toUpperCase()],
  ['trim', 'both', [1, 1], (args, _host, name) => asString(name, args[0]!()).trim()],
  [
    'empty',
    'both',
    [1, 1],
    (args, _host, name) => {
      const value = args[0]!();
      if (value === null) return true;
      if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
      if (isJsonObject(value)) return Object.keys(value).length === 0;
      return expectType(name, 'String, Array or Object', value);
    },
  ],
  [
    'contains',
    'both',
    [2, 2],
    (args, _host, name) => {
      const container = args[0]!();
      const item = args[1]!();
      // ARM: ordinal for strings and array members, case-insensitive for object keys.
      if (typeof container === 'string') return container.includes(armString(item));
      if (Array.isArray(container)) return container.some((member) => deepEqual(member, item, false));
      if (isJsonObject(container)) return propertyOf(container, asString(name, item)) !== undefined;
      return expectType(name, 'String, Array or Object', container);
    },
  ],
  [
    'length',
    'both',
    [1, 1],
    (args, _host, name) => {
      const value = args[0]!();
      if (typeof value === 'string' || Array.isArray(value)) return value.length;
      if (isJsonObject(value)) return Object.keys(value).length;
      return expectType(name, 'String, Array or Object', value);
    },
  ],
  [
    'first',
    'both',
    [1, 1],
    (args, _host, name) => {
      const value = args[0]!();
      if (typeof value === 'string') return value.slice(0, 1);
      return asArray(name, value)[0] ?? null;
    },
  ],
  [
    'last',
    'both',
    [1, 1],
    (args, _host, name) => {
      const value = args[0]!();
      if (typeof value === 'string') return value.slice(-1);
      const array = asArray(name, value);
      return array[array.length - 1] ?? null;
    },
  ],
  [
    'split',
    'both',
    [2, 2],
    (args, _host, name) => {
      const text = asString(name, args[0]!());
      const delimiter = args[1]!();
      const delimiters = Array.isArray(delimiter)
        ? delimiter.map((item) => asString(name, item))
        : [asString(name, delimiter)];
      let parts = [text];
      for (const separator of delimiters) parts = parts.flatMap((part) => part.split(separator));
      return parts;
    },
  ],
  [
    'replace',
    'both',
    [3, 3],
    (args, _host, name) =>
      asString(name, args[0]!()).split(asString(name, args[1]!())).join(asString(name, args[2]!())),
  ],
  [
    'substring',
    'both',
    [2, 3],
    (args, _host, name) => {
      const text = asString(name, args[0]!());
      const start = asInteger(name, args[1]!());
      const length = args[2] ? asInteger(name, args[2]()) : text.length - start;
      if (start < 0 || length < 0 || start + length > text.length) {
        throw new ExpressionError(
          `The index and length parameters must refer to a location within the string. The index parameter: '${start}', the length parameter: '${length}', the length of the string parameter: '${text.length}'.`,
        );
      }
      return text.slice(start, start + length);
    },
  ],
  [
    'startsWith',
    'both',
    [2, 2],
    (args, _host, name) =>
      asString(name, args[0]!()).toLowerCase().startsWith(asString(name, args[1]!()).toLowerCase()),
  ],
  [
    'endsWith',
    'both',
    [2, 2],
    (args, _host, name) =>
      asString(name, args[0]!()).toLowerCase().endsWith(asString(name, args[1]!()).toLowerCase()),
  ],
  [
    'indexOf',
    'both',
    [2, 2],
    (args, _host, name) =>
      asString(name, args[0]!()).toLowerCase().indexOf(asString(name, args[1]!()).toLowerCase()),
  ],
  [
    'lastIndexOf',
    'both',
    [2, 2],
    (args, _host, name) =>
      asString(name, args[0]!()).toLowerCase().lastIndexOf(asString(name, args[1]!()).toLowerCase()),
  ],
  [
    'padLeft',
    'both',
    [2, 3],
    (args, _host, name) => {
      const value = args[0]!();
      const text = typeof value === 'number' ? String(value) : asString(name, value);
      const padding = args[2] ? asString(name, args[2]()) : ' ';
      return text.padStart(asInteger(name, args[1]!()), padding.slice(0, 1) || ' ');
    },
  ],
  [
    'take',
    'both',
    [2, 2],
    (args, _host, name) => {
      const value = args[0]!();
      const count = Math.max(0, asInteger(name, args[1]!()));
      return typeof value === 'string' ? value.slice(0, count) : asArray(name, value).slice(0, count);
    },
  ],
  [
    'skip',
    'both',
    [2, 2],
    (args, _host, name) => {
      const value = args[0]!();
      const count = Math.max(0, asInteger(name, args[1]!()));
      return typeof value === 'string' ? value.slice(count) : asArray(name, value).slice(count);
    },
  ],
  [
    'join',
    'both',
    [2, 2],
    (args, _host, name) => asArray(name, args[0]!()).map(armString).join(asString(name, args[1]!())),
  ],
  ['createArray', 'both', [0, MANY], (args) => args.map((arg) => arg())],
  [
    'createObject',
    'both',
    [0, MANY],
    (args, _host, name) => {
      if (args.length % 2 !== 0) {
        throw new ExpressionError(
          `The template language function '${name}' needs an even number of parameters.`,
        );
      }
      const object: JsonObject = {};
      for (let index = 0; index < args.length; index += 2) {
        object[asString(name, args[index]!())] = args[index + 1]!();
      }
      return object;
    },
  ],
  [
    'array',
    'both',
    [1, 1],
    (args) => {
      const value = args[0]!();
      return Array.isArray(value) ? value : [value];
    },
  ],
  [
    'union',
    'both',
    [1, MANY],
    (args, _host, name) => {
      const values = args.map((arg) => arg());
      if (values.every(Array.isArray)) {
        const result: JsonValue[] = [];
        for (const item of (values as JsonValue[][]).flat(1)) {
          if (!result.some((existing) => deepEqual(existing, item, false))) result.push(item);
        }
        return result;
      }
      if (values.every(isJsonObject)) return Object.assign({}, ...(values as JsonObject[]));
      throw new ExpressionError(
        `The template language function '${name}' expects all arrays or all objects.`,
      );
    },
  ],
  [
    'intersection',
    'both',
    [1, MANY],
    (args, _host, name) => {
      const values = args.map((arg) => arg());
      if (values.every(Array.isArray)) {
        const [head, ...rest] = values as JsonValue[][];
        return (head ?? []).filter(
          (item, index, all) =>
            all.findIndex((other) => deepEqual(other, item, false)) === index &&
            rest.every((array) => array.some((other) => deepEqual(other, item, false))),
        );
      }
      if (values.every(isJsonObject)) {
        const [head, ...rest] = values as JsonObject[];
        return Object.fromEntries(
          Object.entries(head ?? {}).filter(([key, value]) =>
            rest.every((object) => Object.hasOwn(object, key) && deepEqual(object[key], value, false)),
          ),
        );
      }
      throw new ExpressionError(
        `The template language function '${name}' expects all arrays or all objects.`,
      );
    },
  ],
  [
    'tryGet',
    'both',
    [2, MANY],
    (args) => {
      let value: JsonValue | undefined = args[0]!();
      for (const arg of args.slice(1)) {
        const key = arg();
        if (Array.isArray(value) && typeof key === 'number') value = value[key];
        else if (isJsonObject(value) && typeof key === 'string') value = propertyOf(value, key);
        else value = undefined;
        if (value === undefined) return null;
      }
      return value ?? null;
    },
  ],
  [
    'range',
    'both',
    [2, 2],
    (args, _host, name) => {
      const start = asInteger(name, args[0]!());
      const count = asInteger(name, args[1]!());
      if (count < 0 || count > 10_000) {
        throw new ExpressionError(
          `The template language function '${name}' needs a count between 0 and 10000.`,
        );
      }
      return Array.from({ length: count }, (_, index) => start + index);
    },
  ],

  // Conversions
  ['string', 'both', [1, 1], (args) => armString(args[0]!())],
  [
    'int',
    'both',
    [1, 1],
    (args, _host, name) => {
      const value = args[0]!();
      if (typeof value === 'number') return Math.trunc(value);
      if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
      // Azure/azure-policy#396: "The template language function 'int' cannot convert provided value '' to
      // integer value."
      throw new ExpressionError(
        `The template language function '${name}' cannot convert provided value '${armString(value)}' to integer value.`,
      );
    },
  ],
  [
    'bool',
    'both',
    [1, 1],
    (args, _host, name) => {
      const value = args[0]!();
      if (typeof value === 'boolean') return value;
      if (typeof value === 'number') return value !== 0;
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim()))
        return value.trim().toLowerCase() === 'true';
      throw new ExpressionError(
        `The template language function '${name}' cannot convert provided value '${armString(value)}' to boolean value.`,
      );
    },
  ],
  [
    'json',
    'both',
    [1, 1],
    (args, _host, name) => {
      const text = asString(name, args[0]!());
      try {
        return JSON.parse(text) as JsonValue;
      } catch {
        throw new ExpressionError(`The template language function '${name}' cannot parse '${text}' as JSON.`);
      }
    },
  ],
  [
    'base64',
    'both',
    [1, 1],
    (args, _host, name) => Buffer.from(asString(name, args[0]!()), 'utf8').toString('base64'),
  ],
  [
    'base64ToString',
    'both',
    [1, 1],
    (args, _host, name) => Buffer.from(asString(name, args[0]!()), 'base64').toString('utf8'),
  ],

  // Arithmetic
  ['add', 'both', [2, 2], (args, _host, name) => asNumber(name, args[0]!()) + asNumber(name, args[1]!())],
  ['sub', 'both', [2, 2], (args, _host, name) => asNumber(name, args[0]!()) - asNumber(name, args[1]!())],
  ['mul', 'both', [2, 2], (args, _host, name) => asNumber(name, args[0]!()) * asNumber(name, args[1]!())],
  [
    'div',
    'both',
    [2, 2],
    (args, _host, name) => {
      const divisor = asInteger(name, args[1]!());
      if (divisor === 0)
        throw new ExpressionError(`The template language function '${name}' cannot divide by zero.`);
      return Math.trunc(asInteger(name, args[0]!()) / divisor);
    },
  ],
  [
    'mod',
    'both',
    [2, 2],
    (args, _host, name) => {
      const divisor = asInteger(name, args[1]!());
      if (divisor === 0)
        throw new ExpressionError(`The template language function '${name}' cannot divide by zero.`);
      return asInteger(name, args[0]!()) % divisor;
    },
  ],
  [
    'min',
    'both',
    [1, MANY],
    (args, _host, name) => {
      const values = args.length === 1 ? asArray(name, args[0]!()) : args.map((arg) => arg());
      return Math.min(...values.map((value) => asNumber(name, value)));
    },
  ],
  [
    'max',
    'both',
    [1, MANY],
    (args, _host, name) => {
      const values = args.length === 1 ? asArray(name, args[0]!()) : args.map((arg) => arg());
      return Math.max(...values.map((value) => asNumber(name, value)));
    },
  ],

  // Networking
  [
    'ipRangeContains',
    'policyRule',
    [2, 2],
    (args, _host, name) => ipRangeContains(asString(name, args[0]!()), asString(name, args[1]!())),
  ],
];

/** Keyed by lower-case name: ARM function names are case-insensitive. */
export const FUNCTIONS: ReadonlyMap<string, FunctionDefinition> = new Map(
  definitions.map(([name, availability, arity, evaluate]) => [
    name.toLowerCase(),
    { availability, arity, evaluate },
  ]),
);

/** Names as documented, for listings and tests. */
export const FUNCTION_NAMES: readonly string[] = definitions.map(([name]) => name);
