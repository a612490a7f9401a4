/**
 * Parsing request bodies at the edge: every provider checks shapes with these, so malformed input is
 * refused with one consistent ARM error (worded like ARM's Json.NET deserializer) and nothing else.
 */
import type { ArmBody } from '../store/index.js';
import { ArmError, errors } from './errors.js';

export function isPlainObject(value: unknown): value is ArmBody {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as an object, or InvalidRequestContent. */
export function objectBody(body: unknown, required = 'properties'): ArmBody {
  if (body === undefined || body === null) {
    throw errors.invalidRequestContent(
      `Required property '${required}' not found in JSON. Path '', line 1, position 0.`,
    );
  }
  if (!isPlainObject(body)) {
    throw errors.invalidRequestContent(
      `Cannot deserialize the current JSON ${Array.isArray(body) ? 'array' : 'value'} into an object because the type requires a JSON object. Path ''.`,
    );
  }
  return body;
}

/** Refuses members the schema does not have: unknown input fails loudly rather than being dropped. */
export function rejectUnknown(value: ArmBody, allowed: readonly string[], typeName: string, path = ''): void {
  const known = new Set(allowed.map((name) => name.toLowerCase()));
  for (const name of Object.keys(value)) {
    if (!known.has(name.toLowerCase())) {
      const at = path ? `${path}.${name}` : name;
      throw errors.invalidRequestContent(
        `Could not find member '${name}' on object of type '${typeName}'. Path '${at}'`,
      );
    }
  }
}

export function expectString(
  value: unknown,
  path: string,
  options: { optional?: boolean } = {},
): string | undefined {
  if (value === undefined && options.optional) return undefined;
  if (typeof value !== 'string') {
    throw errors.invalidRequestContent(
      `Error converting value ${JSON.stringify(value) ?? 'undefined'} to type 'System.String'. Path '${path}'`,
    );
  }
  return value;
}

export function expectBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    throw errors.invalidRequestContent(
      `Error converting value ${JSON.stringify(value)} to type 'System.Boolean'. Path '${path}'`,
    );
  }
  return value;
}

export function expectEnum<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  const text = expectString(value, path)!;
  const match = allowed.find((candidate) => candidate.toLowerCase() === text.toLowerCase());
  if (!match) {
    throw new ArmError({
      status: 400,
      code: 'InvalidRequestContent',
      message: `The value '${text}' is not valid for '${path}'. The allowed values are '${allowed.join(', ')}'.`,
      target: path,
    });
  }
  return match;
}

/** ARM tags: an object of at most 50 string values, names up to 512 and values up to 256 characters. */
export function parseTags(value: unknown, path = 'tags'): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    throw errors.invalidRequestContent(
      `Cannot deserialize the current JSON value into type 'Dictionary<string, string>'. Path '${path}'`,
    );
  }
  const entries = Object.entries(value);
  if (entries.length > 50) {
    throw new ArmError({
      status: 400,
      code: 'InvalidTag',
      message: 'The number of tags exceeds the limit of 50.',
      target: path,
    });
  }
  for (const [name, tag] of entries) {
    if (typeof tag !== 'string') {
      throw errors.invalidRequestContent(
        `Error converting value ${JSON.stringify(tag)} to type 'System.String'. Path '${path}.${name}'`,
      );
    }
    if (name.length > 512 || tag.length > 256 || /[<>%&\\?/]/.test(name)) {
      throw new ArmError({
        status: 400,
        code: 'InvalidTagNameCharacters',
        message: `The tag names '${name}' have reserved characters '<,>,%,&,\\,?,/' or control characters, or exceed the length limits.`,
        target: path,
      });
    }
  }
  return value as Record<string, string>;
}
