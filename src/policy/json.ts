/** Small helpers over JSON values shared by the expression language and the condition operators. */
import type { JsonObject, JsonValue } from './types.js';

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** ARM's names for value types, as its error messages use them. */
export function typeName(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return 'Null';
  if (typeof value === 'string') return 'String';
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'Integer' : 'Float';
  return Array.isArray(value) ? 'Array' : 'Object';
}

/** Case-insensitive member lookup (exact spelling first), as ARM reads JSON properties. */
export function propertyOf(target: JsonObject, name: string): JsonValue | undefined {
  if (Object.hasOwn(target, name)) return target[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(target)) {
    if (key.toLowerCase() === lower) return target[key];
  }
  return undefined;
}

/** The member's own key as stored, found case-insensitively. */
export function keyOf(target: JsonObject, name: string): string | undefined {
  if (Object.hasOwn(target, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(target).find((key) => key.toLowerCase() === lower);
}

/**
 * Structural equality. `ignoreCase` compares strings and object keys case-insensitively (the policy
 * language); without it comparison is ordinal (the template function `equals`).
 */
export function deepEqual(
  left: JsonValue | undefined,
  right: JsonValue | undefined,
  ignoreCase: boolean,
): boolean {
  if (left === undefined || right === undefined) return left === right;
  if (typeof left === 'string' && typeof right === 'string') {
    return ignoreCase ? left.toLowerCase() === right.toLowerCase() : left === right;
  }
  if (Array.isArray(left) || Array.isArray(right)) {
    if (!Array.isArray(left) || !Array.isArray(right) || left.length !== right.length) return false;
    return left.every((item, index) => deepEqual(item, right[index], ignoreCase));
  }
  if (isJsonObject(left) && isJsonObject(right)) {
    const leftKeys = Object.keys(left);
    if (leftKeys.length !== Object.keys(right).length) return false;
    return leftKeys.every((key) => {
      const other = ignoreCase ? propertyOf(right, key) : right[key];
      return other !== undefined && deepEqual(left[key], other, ignoreCase);
    });
  }
  return left === right;
}

/** Compact JSON, as ARM's `string()` renders objects and arrays. */
export function compactJson(value: JsonValue): string {
  return JSON.stringify(value);
}

export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}
