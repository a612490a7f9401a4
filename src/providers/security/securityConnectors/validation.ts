/**
 * Parsing connector bodies at the edge, against the shapes of `schema.ts` for the request's
 * api-version: member names match case-insensitively (as Json.NET binds them) and come out in their
 * canonical casing, enum values likewise. Unknown members, members of another api-version, wrong JSON
 * types, bad enum values and unknown discriminators are refused with InvalidRequestContent naming the
 * path (`properties.offerings[2].vaAutoProvisioning.configuration.type`). Read-only members are
 * dropped (trap 2); `null` reads as absent.
 *
 * `project` is the way back: a stored connector as one api-version shows it, without what that
 * version does not define, so that a GET's body is always a valid PUT body at the same version.
 */
import { ArmError, errors } from '../../../arm/errors.js';
import { isPlainObject, parseTags } from '../../../arm/validate.js';
import type { ArmBody } from '../../../store/index.js';
import {
  availableAt,
  CLOUD_NAMES,
  type CloudName,
  CONNECTOR_PROPERTIES,
  type ConnectorApiVersion,
  ENVIRONMENT_TYPE_OF_CLOUD,
  type Member,
  OFFERING_CLOUD,
  type Shape,
  type UnionShape,
} from './schema.js';

/** InvalidRequestContent with the Json.NET-style detail, the path it concerns and what to do about it. */
function contentError(detail: string, target: string, hint = ''): ArmError {
  return errors.invalidRequestBody(
    `The request content was invalid and could not be deserialized: '${detail}'.${hint}`,
    target,
  );
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return '[...]';
  if (isPlainObject(value)) return '{...}';
  return JSON.stringify(value);
}

function at(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/** The key of `value` matching `name` in any casing. */
function findKey(value: ArmBody, name: string): string | undefined {
  if (name in value) return name;
  const lower = name.toLowerCase();
  return Object.keys(value).find((key) => key.toLowerCase() === lower);
}

/** For a member of other api-versions: where it exists. */
function versionHint(item: { since?: ConnectorApiVersion; until?: ConnectorApiVersion }): string {
  if (item.since && item.until) return ` The member exists at api-version '${item.since}' only.`;
  if (item.since) return ` The member exists from api-version '${item.since}'.`;
  if (item.until) return ` The member exists up to api-version '${item.until}'.`;
  return '';
}

function enumError(text: string, allowed: readonly string[], path: string, version: ConnectorApiVersion) {
  return new ArmError({
    status: 400,
    code: 'InvalidRequestContent',
    message: `The value '${text}' is not valid for '${path}' at api-version '${version}'. The allowed values are '${allowed.join(', ')}'.`,
    target: path,
  });
}

/** Parses one value against its shape; returns the canonical value, or undefined for null. */
export function parseShape(
  value: unknown,
  shape: Shape,
  path: string,
  version: ConnectorApiVersion,
): unknown {
  if (value === null || value === undefined) return undefined;
  switch (shape.kind) {
    case 'string':
      if (typeof value !== 'string') {
        throw contentError(
          `Error converting value ${describe(value)} to type 'System.String'. Path '${path}'.`,
          path,
        );
      }
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') {
        throw contentError(
          `Error converting value ${describe(value)} to type 'System.Boolean'. Path '${path}'.`,
          path,
        );
      }
      return value;
    case 'integer': {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw contentError(
          `Error converting value ${describe(value)} to type 'System.Int64'. Path '${path}'.`,
          path,
        );
      }
      const { minimum, maximum } = shape;
      if ((minimum !== undefined && value < minimum) || (maximum !== undefined && value > maximum)) {
        throw new ArmError({
          status: 400,
          code: 'InvalidRequestContent',
          message: `The value ${value} of '${path}' is out of range: it must be between ${minimum} and ${maximum}.`,
          target: path,
        });
      }
      return value;
    }
    case 'enum': {
      const allowed = shape.values.filter((entry) => availableAt(entry, version)).map((entry) => entry.value);
      if (typeof value !== 'string') {
        throw contentError(
          `Error converting value ${describe(value)} to type 'System.String'. Path '${path}'.`,
          path,
        );
      }
      const match = allowed.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
      if (!match) throw enumError(value, allowed, path, version);
      return match;
    }
    case 'array':
      if (!Array.isArray(value)) {
        throw contentError(
          `Cannot deserialize the current JSON ${isPlainObject(value) ? 'object' : 'value'} into type 'List<${shape.itemTypeName}>' because the type requires a JSON array. Path '${path}'.`,
          path,
        );
      }
      return value.map((item, index) => {
        const itemPath = `${path}[${index}]`;
        if (item === null)
          throw contentError(`Unexpected null value in a list. Path '${itemPath}'.`, itemPath);
        return parseShape(item, shape.items, itemPath, version);
      });
    case 'stringMap': {
      const map = requireObject(value, path, 'Dictionary<String, String>');
      for (const [name, entry] of Object.entries(map))
        parseShape(entry, { kind: 'string' }, at(path, name), version);
      return { ...map };
    }
    case 'anyObject':
      return structuredClone(requireObject(value, path, 'Object'));
    case 'object': {
      const source =
        typeof value === 'string' && shape.shorthand !== undefined ? { [shape.shorthand]: value } : value;
      return parseMembers(
        requireObject(source, path, shape.typeName),
        shape.members,
        shape.typeName,
        path,
        version,
      );
    }
    case 'union':
      return parseUnion(requireObject(value, path, shape.typeName), shape, path, version);
  }
}

function requireObject(value: unknown, path: string, typeName: string): ArmBody {
  if (!isPlainObject(value)) {
    throw contentError(
      `Cannot deserialize the current JSON ${Array.isArray(value) ? 'array' : 'value'} into type '${typeName}' because the type requires a JSON object. Path '${path}'.`,
      path,
    );
  }
  return value;
}

function parseMembers(
  value: ArmBody,
  members: Readonly<Record<string, Member>>,
  typeName: string,
  path: string,
  version: ConnectorApiVersion,
  skip?: string,
): ArmBody {
  const byLowerName = new Map(
    Object.entries(members).map(([name, def]) => [name.toLowerCase(), [name, def] as const]),
  );
  const parsed: ArmBody = {};
  for (const [key, raw] of Object.entries(value)) {
    if (skip !== undefined && key.toLowerCase() === skip.toLowerCase()) continue;
    const found = byLowerName.get(key.toLowerCase());
    const memberPath = at(path, key);
    if (!found || !availableAt(found[1], version)) {
      throw contentError(
        `Could not find member '${key}' on object of type '${typeName}'. Path '${memberPath}'.`,
        memberPath,
        found ? versionHint(found[1]) : '',
      );
    }
    const [name, def] = found;
    if (def.readOnly) continue;
    const result = parseShape(raw, def.shape, at(path, name), version);
    if (result !== undefined) parsed[name] = result;
  }
  return parsed;
}

function parseUnion(value: ArmBody, shape: UnionShape, path: string, version: ConnectorApiVersion): ArmBody {
  const key = findKey(value, shape.discriminator);
  const tag = key === undefined ? undefined : value[key];
  const tagPath = at(path, shape.discriminator);
  if (tag === undefined || tag === null) {
    throw contentError(
      `Required property '${shape.discriminator}' not found in JSON. Path '${path}'.`,
      tagPath,
    );
  }
  const variants = shape.variants.filter((variant) => availableAt(variant, version));
  const text = parseShape(tag, { kind: 'string' }, tagPath, version) as string;
  const variant = variants.find((candidate) => candidate.tag.toLowerCase() === text.toLowerCase());
  if (!variant) {
    throw enumError(
      text,
      variants.map((candidate) => candidate.tag),
      tagPath,
      version,
    );
  }
  return {
    [shape.discriminator]: variant.tag,
    ...parseMembers(value, variant.members, variant.typeName, path, version, key),
  };
}

/**
 * A stored value as `version` shows it: members that version does not define are left out, and a
 * discriminated object of a variant it does not know keeps only its discriminator. Write-only members
 * never show.
 */
export function projectShape(value: unknown, shape: Shape, version: ConnectorApiVersion): unknown {
  if (value === undefined || value === null) return undefined;
  switch (shape.kind) {
    case 'array':
      return Array.isArray(value) ? value.map((item) => projectShape(item, shape.items, version)) : value;
    case 'object':
      return isPlainObject(value) ? projectMembers(value, shape.members, version) : value;
    case 'union': {
      if (!isPlainObject(value)) return value;
      const tag = value[shape.discriminator];
      const variant = shape.variants.find((candidate) => candidate.tag === tag);
      if (!variant || !availableAt(variant, version)) return { [shape.discriminator]: tag };
      return { [shape.discriminator]: tag, ...projectMembers(value, variant.members, version) };
    }
    case 'stringMap':
    case 'anyObject':
      return structuredClone(value);
    default:
      return value;
  }
}

function projectMembers(
  value: ArmBody,
  members: Readonly<Record<string, Member>>,
  version: ConnectorApiVersion,
) {
  const projected: ArmBody = {};
  for (const [name, inner] of Object.entries(value)) {
    const def = members[name];
    if (!def || def.writeOnly || !availableAt(def, version)) continue;
    const shown = projectShape(inner, def.shape, version);
    if (shown !== undefined) projected[name] = shown;
  }
  return projected;
}

// ---------------------------------------------------------------------------------------------------
// The connector

/** What a PUT or PATCH body asks for, parsed. Absent members are undefined. */
export interface ConnectorRequest {
  location?: string;
  tags?: Record<string, string>;
  kind?: string;
  /** Members of `properties` the body sets (for a PATCH, only those replace the stored ones). */
  properties?: ArmBody;
  /** `id` and `name` as sent: the envelope the handler checks against the request URI. */
  envelope: { id?: unknown; name?: unknown };
}

const ENVELOPE = ['location', 'tags', 'kind', 'etag', 'properties', 'id', 'name', 'type', 'systemData'];

/**
 * Parses the body of a PUT or PATCH. Only shapes are checked here; what a complete connector needs
 * (`requireComplete`) and how its parts agree (`checkConsistency`) are checked on the result.
 * `etag` in the body is read and ignored: preconditions are the `If-Match` header's.
 */
export function parseConnectorBody(body: unknown, version: ConnectorApiVersion): ConnectorRequest {
  if (body === undefined || body === null) {
    throw errors.invalidRequestContent(
      "Required property 'properties' not found in JSON. Path '', line 1, position 0.",
    );
  }
  const value = requireObject(body, '', 'SecurityConnector');
  const request: ConnectorRequest = { envelope: {} };
  for (const [key, raw] of Object.entries(value)) {
    const name = ENVELOPE.find((candidate) => candidate.toLowerCase() === key.toLowerCase());
    if (!name) {
      throw contentError(
        `Could not find member '${key}' on object of type 'SecurityConnector'. Path '${key}'.`,
        key,
      );
    }
    if (raw === null || raw === undefined) continue;
    switch (name) {
      case 'location':
      case 'kind':
      case 'etag': {
        const text = parseShape(raw, { kind: 'string' }, name, version) as string;
        if (name === 'location') request.location = text;
        if (name === 'kind') request.kind = text;
        break;
      }
      case 'tags':
        request.tags = parseTags(raw);
        break;
      case 'properties':
        request.properties = parseShape(raw, CONNECTOR_PROPERTIES, 'properties', version) as ArmBody;
        break;
      case 'id':
      case 'name':
        request.envelope[name] = raw;
        break;
      default:
        // `type` and `systemData` are read-only: a client echoing a GET back may send them.
        break;
    }
  }
  return request;
}

function missing(name: string, path: string): ArmError {
  const target = at(path, name);
  return contentError(`Required property '${name}' not found in JSON. Path '${path}'.`, target);
}

/** A connector must say where it lives, which cloud it connects and which account or scope. */
export function requireComplete(location: string | undefined, properties: ArmBody | undefined): void {
  if (location === undefined) throw errors.locationRequired();
  if (properties === undefined) throw missing('properties', '');
  for (const name of ['hierarchyIdentifier', 'environmentName']) {
    if (properties[name] === undefined) throw missing(name, 'properties');
  }
  if (properties.environmentData === undefined && properties.environmentName !== 'Azure') {
    throw missing('environmentData', 'properties');
  }
}

/**
 * The parts of a connector must describe one cloud: the environment data of the environment name,
 * offerings of that cloud, each offering type once.
 */
export function checkConsistency(properties: ArmBody): void {
  const environmentName = properties.environmentName as CloudName | undefined;
  const environmentType = properties.environmentData?.environmentType as string | undefined;
  if (environmentName !== undefined && environmentType !== undefined) {
    const expected = ENVIRONMENT_TYPE_OF_CLOUD[environmentName];
    if (expected !== environmentType)
      throw errors.connectorEnvironmentMismatch(environmentName, environmentType, expected);
  }
  const cloud =
    environmentName ??
    CLOUD_NAMES.find(
      (name) => environmentType !== undefined && ENVIRONMENT_TYPE_OF_CLOUD[name] === environmentType,
    );
  const seen = new Set<string>();
  const offerings = (properties.offerings ?? []) as ArmBody[];
  offerings.forEach((offering, index) => {
    const offeringType = offering.offeringType as string;
    if (cloud !== undefined && OFFERING_CLOUD[offeringType] !== cloud) {
      throw errors.connectorOfferingNotForEnvironment(offeringType, cloud, index);
    }
    if (seen.has(offeringType)) throw errors.connectorOfferingRepeated(offeringType, index);
    seen.add(offeringType);
  });
}

export function projectProperties(properties: ArmBody, version: ConnectorApiVersion): ArmBody {
  return projectShape(properties, CONNECTOR_PROPERTIES, version) as ArmBody;
}
