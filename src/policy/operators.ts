/**
 * The condition operators of the policy language, on one selected value. String comparisons are
 * case-insensitive except `match`/`notMatch` (definition-structure-policy-rule.md, "Conditions"); values
 * of different primitive types compare by their text, so a `value` of `true` equals `"true"` (Microsoft's
 * own d30025d0 compares `[empty(…)]` with the string `"true"`).
 *
 * An absent value (the property is missing) equals nothing but null, is in no list, contains nothing, is
 * like no pattern and is neither less nor greater than anything; the negated operators are true for it.
 */
import { parseIsoDate } from './dates.js';
import { ExpressionError } from './errors.js';
import { deepEqual, isJsonObject, keyOf, typeName } from './json.js';
import type { JsonValue } from './types.js';

export const OPERATORS = [
  'equals',
  'notEquals',
  'like',
  'notLike',
  'match',
  'matchInsensitively',
  'notMatch',
  'notMatchInsensitively',
  'contains',
  'notContains',
  'in',
  'notIn',
  'containsKey',
  'notContainsKey',
  'less',
  'lessOrEquals',
  'greater',
  'greaterOrEquals',
  'exists',
] as const;

export type Operator = (typeof OPERATORS)[number];

const BY_LOWER = new Map<string, Operator>(OPERATORS.map((operator) => [operator.toLowerCase(), operator]));

/** The operator a JSON key names (keys are case-insensitive: Microsoft writes `Like` and `like`). */
export function operatorNamed(key: string): Operator | undefined {
  return BY_LOWER.get(key.toLowerCase());
}

export interface OperatorOptions {
  /** The `location` field: `East US 2` equals `eastus2`. */
  location?: boolean;
}

/** The text of a primitive, for comparisons across types; undefined for absent, objects and arrays. */
function textOf(value: JsonValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

const normaliseLocation = (value: JsonValue | undefined): JsonValue | undefined =>
  typeof value === 'string' ? value.replaceAll(' ', '').toLowerCase() : value;

export function looselyEqual(left: JsonValue | undefined, right: JsonValue | undefined): boolean {
  if (left === undefined || left === null || right === undefined || right === null) {
    return (left ?? null) === (right ?? null);
  }
  if (typeof left === 'object' || typeof right === 'object') return deepEqual(left, right, true);
  return String(left).toLowerCase() === String(right).toLowerCase();
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const likeCache = new Map<string, RegExp>();
function likePattern(pattern: string): RegExp {
  let regExp = likeCache.get(pattern);
  if (!regExp) {
    regExp = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 'is');
    likeCache.set(pattern, regExp);
  }
  return regExp;
}

const matchCache = new Map<string, RegExp>();
/** `#` a digit, `?` a letter, `.` any character, anything else itself; the whole value must match. */
function matchPattern(pattern: string, ignoreCase: boolean): RegExp {
  const cacheKey = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regExp = matchCache.get(cacheKey);
  if (!regExp) {
    const body = [...pattern]
      .map((char) =>
        char === '#' ? '\\p{Nd}' : char === '?' ? '\\p{L}' : char === '.' ? '.' : escapeRegExp(char),
      )
      .join('');
    regExp = new RegExp(`^${body}$`, ignoreCase ? 'isu' : 'su');
    matchCache.set(cacheKey, regExp);
  }
  return regExp;
}

const collator = new Intl.Collator('en', { sensitivity: 'accent' });

function numberOf(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*[-+]?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

/**
 * Order of two values for less/greater: numbers numerically, ISO dates chronologically, other strings
 * case-insensitively (InvariantCultureIgnoreCase). Mismatched types are an error, as Azure documents.
 */
function compareOrdered(actual: JsonValue, expected: JsonValue): number {
  if (typeof actual === 'number' || typeof expected === 'number') {
    const left = numberOf(actual);
    const right = numberOf(expected);
    if (left !== undefined && right !== undefined) return left - right;
  } else if (typeof actual === 'string' && typeof expected === 'string') {
    const leftDate = parseIsoDate(actual);
    const rightDate = parseIsoDate(expected);
    if (leftDate && rightDate) return leftDate.getTime() - rightDate.getTime();
    return collator.compare(actual, expected);
  }
  throw new ExpressionError(
    `The value of type '${typeName(actual)}' cannot be compared with the value of type '${typeName(expected)}'.`,
  );
}

function existsExpected(expected: JsonValue | undefined): boolean {
  if (typeof expected === 'boolean') return expected;
  if (typeof expected === 'string' && /^(true|false)$/i.test(expected))
    return expected.toLowerCase() === 'true';
  throw new ExpressionError(
    `The 'exists' condition expects 'true' or 'false'; it was given '${textOf(expected) ?? typeName(expected)}'.`,
  );
}

function expectArray(operator: Operator, expected: JsonValue | undefined): JsonValue[] {
  if (Array.isArray(expected)) return expected;
  throw new ExpressionError(
    `The '${operator}' condition expects an array; it was given a value of type '${typeName(expected)}'.`,
  );
}

/** Applies an operator to one selected value. */
export function applyOperator(
  operator: Operator,
  actualValue: JsonValue | undefined,
  expectedValue: JsonValue | undefined,
  options: OperatorOptions = {},
): boolean {
  const actual = options.location ? normaliseLocation(actualValue) : actualValue;
  const expected = options.location
    ? Array.isArray(expectedValue)
      ? expectedValue.map((item) => normaliseLocation(item) ?? null)
      : normaliseLocation(expectedValue)
    : expectedValue;
  switch (operator) {
    case 'equals':
      return looselyEqual(actual, expected);
    case 'notEquals':
      return !looselyEqual(actual, expected);
    case 'like':
    case 'notLike': {
      const text = textOf(actual);
      const pattern = textOf(expected);
      const like = text !== undefined && pattern !== undefined && likePattern(pattern).test(text);
      return operator === 'like' ? like : !like;
    }
    case 'match':
    case 'notMatch':
    case 'matchInsensitively':
    case 'notMatchInsensitively': {
      const text = textOf(actual);
      const pattern = textOf(expected);
      const ignoreCase = operator === 'matchInsensitively' || operator === 'notMatchInsensitively';
      const match =
        text !== undefined && pattern !== undefined && matchPattern(pattern, ignoreCase).test(text);
      return operator === 'match' || operator === 'matchInsensitively' ? match : !match;
    }
    case 'contains':
    case 'notContains': {
      let contains = false;
      if (Array.isArray(actual)) contains = actual.some((item) => looselyEqual(item, expected));
      else {
        const text = textOf(actual);
        const part = textOf(expected);
        contains =
          text !== undefined && part !== undefined && text.toLowerCase().includes(part.toLowerCase());
      }
      return operator === 'contains' ? contains : !contains;
    }
    case 'in':
    case 'notIn': {
      const list = expectArray(operator, expected);
      const found = actual !== undefined && list.some((item) => looselyEqual(actual, item));
      return operator === 'in' ? found : !found;
    }
    case 'containsKey':
    case 'notContainsKey': {
      const key = textOf(expected);
      const found = isJsonObject(actual) && key !== undefined && keyOf(actual, key) !== undefined;
      return operator === 'containsKey' ? found : !found;
    }
    case 'less':
    case 'lessOrEquals':
    case 'greater':
    case 'greaterOrEquals': {
      if (actual === undefined || actual === null || expected === undefined || expected === null)
        return false;
      const order = compareOrdered(actual, expected);
      if (operator === 'less') return order < 0;
      if (operator === 'lessOrEquals') return order <= 0;
      if (operator === 'greater') return order > 0;
      return order >= 0;
    }
    case 'exists':
      return existsExpected(expected) === (actual !== undefined && actual !== null);
  }
}
