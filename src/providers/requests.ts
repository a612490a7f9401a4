/** Request parsing and storage helpers the providers share: query options, nested objects, locations. */
import { errors } from '../arm/errors.js';
import type { ArmContext, ResourceTypeDef } from '../arm/registry.js';
import { newEtag } from '../arm/resourceOps.js';
import { isPlainObject } from '../arm/validate.js';
import { type ArmBody, type Db, putResource, type StoredResource } from '../store/index.js';
import { AZURE_LOCATIONS, normaliseLocation } from './locations.js';

/** A query option by case-insensitive name. */
export function queryOption(ctx: ArmContext, name: string): string | undefined {
  const found = Object.keys(ctx.query).find((key) => key.toLowerCase() === name.toLowerCase());
  return found === undefined ? undefined : ctx.query[found];
}

/** `$expand`, accepted only with the values a type lists. */
export function expandOption(ctx: ArmContext, allowed: readonly string[]): string | undefined {
  const value = queryOption(ctx, '$expand');
  if (value === undefined) return undefined;
  const match = allowed.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
  if (!match) {
    throw errors.invalidQueryParameter(
      '$expand',
      value,
      `the allowed values are ${allowed.map((name) => `'${name}'`).join(', ')}.`,
    );
  }
  return match;
}

export function expectObject(value: unknown, path: string, typeName: string): ArmBody | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    throw errors.invalidRequestContent(
      `Cannot deserialize the current JSON ${Array.isArray(value) ? 'array' : 'value'} into type '${typeName}' because the type requires a JSON object. Path '${path}'`,
    );
  }
  return value;
}

export function expectArray(value: unknown, path: string): unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    throw errors.invalidRequestContent(
      `Cannot deserialize the current JSON object into an array because the type requires a JSON array. Path '${path}'`,
    );
  }
  return value;
}

export function expectInteger(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw errors.invalidRequestContent(
      `Error converting value ${JSON.stringify(value)} to type 'System.Int32'. Path '${path}'`,
    );
  }
  return value;
}

/** A tracked resource's location in canonical form (`West Europe` → `westeurope`). */
export function trackedLocation(value: unknown, type: string): string {
  if (value === undefined || value === null) throw errors.locationRequired();
  if (typeof value !== 'string') {
    throw errors.invalidRequestContent(
      `Error converting value ${JSON.stringify(value)} to type 'System.String'. Path 'location'`,
    );
  }
  const location = normaliseLocation(value);
  if (!location) throw errors.locationNotAvailableForResourceType(value, type, AZURE_LOCATIONS);
  return location;
}

/** Refuses a different location for a resource that exists (ARM's gateway rule). */
export function keepLocation(existing: StoredResource, requested: string, resourceGroup: string): void {
  if (existing.body.location !== requested) {
    throw errors.invalidResourceLocation({
      name: existing.name,
      existing: existing.body.location,
      resourceGroup,
      requested,
    });
  }
}

/** Writes a changed body of a stored resource with a new ETag; returns what was stored. */
export async function saveBody(
  db: Db,
  resource: StoredResource,
  body: ArmBody,
  now: string,
): Promise<StoredResource> {
  const saved = { ...resource, body, etag: newEtag(), updatedAt: now };
  await putResource(db, saved);
  return saved;
}

/**
 * The context of the resource a sub-path hangs off: `.../virtualMachines/vm1/start` (an action) or
 * `.../virtualMachines/vm1/instanceView` address `vm1`.
 */
export function parentContext(ctx: ArmContext, def: ResourceTypeDef): ArmContext {
  const { parsed } = ctx;
  return {
    ...ctx,
    def,
    parsed: {
      ...parsed,
      path: parsed.path.split('/').slice(0, -1).join('/'),
      target: { ...parsed.target, types: parsed.target.types.slice(0, -1) },
    },
  };
}
