/**
 * What every resource type shares: where a resource sits (its scope and parents must exist), its
 * canonical id, ETag preconditions, `systemData`, and listing with paging. Providers build their
 * handlers from these so the ARM rules are written once.
 */
import { randomUUID } from 'node:crypto';
import {
  type ArmBody,
  getResource,
  type ListQuery,
  listResources,
  putResource,
  type StoredResource,
} from '../store/index.js';
import { type ArmError, errors } from './errors.js';
import { systemDataActor } from './identity.js';
import { pageReply, pageRequest } from './paging.js';
import { type ArmContext, type ArmReply, fullType, type ResourceTypeDef } from './registry.js';
import { keyOf } from './resourceId.js';

export interface Placement {
  key: string;
  /** Canonical id: the parent's stored id plus canonical type segments and the name as given. */
  id: string;
  name: string;
  parentKey: string;
  subscriptionId: string | null;
  resourceGroup: string | null;
}

/** The stored key of the addressed resource: ids compare case-insensitively, so the path says it. */
export function targetKey(ctx: Pick<ArmContext, 'parsed'>): string {
  return ctx.parsed.path.toLowerCase();
}

/** `Microsoft.Compute/virtualMachines/vm1/extensions/ext1`, as ARM quotes resources in messages. */
export function qualifiedName(def: ResourceTypeDef, names: readonly string[]): string {
  const types = def.type.split('/');
  return [
    def.namespace,
    ...types.flatMap((type, k) => (names[k] === undefined ? [type] : [type, names[k]!])),
  ].join('/');
}

/**
 * Checks that everything a resource of the request's type hangs off exists — subscription, resource
 * group, extension scope, then the first `depth` parent resources of a nested type — and returns the
 * stored id of the innermost ('' for the tenant). Throws the ARM error for the first missing piece,
 * outermost first. `depth` defaults to every parent of the type, i.e. the target's direct parent.
 */
export async function existingParentId(
  ctx: ArmContext,
  depth = ctx.def.type.split('/').length - 1,
): Promise<string> {
  const { scope, target } = ctx.parsed;
  const { def } = ctx;
  let parentId = '';
  if (scope.subscriptionId !== undefined) {
    const subscription = await getResource(ctx.db, `/subscriptions/${scope.subscriptionId.toLowerCase()}`);
    if (!subscription) throw errors.subscriptionNotFound(scope.subscriptionId);
    parentId = subscription.id;
  }
  if (scope.resourceGroup !== undefined) {
    const group = await getResource(ctx.db, keyOf(`${parentId}/resourceGroups/${scope.resourceGroup}`));
    if (!group) throw errors.resourceGroupNotFound(scope.resourceGroup);
    parentId = group.id;
  }
  if (scope.kind === 'resource' || scope.kind === 'managementGroup') {
    const scopeResource = await getResource(ctx.db, keyOf(scope.id));
    if (!scopeResource) throw missingScope(ctx);
    if (def.extensionOf && !def.extensionOf.includes(scopeResource.type)) {
      throw errors.invalidResourceType(def.type, def.namespace, ctx.apiVersion);
    }
    parentId = scopeResource.id;
  }
  const types = def.type.split('/');
  const parentBase = parentId;
  for (let level = 1; level <= depth; level++) {
    const parent = await getResource(
      ctx.db,
      keyOf(`${parentBase}/providers/${def.namespace}/${interleave(types, target.names, level)}`),
    );
    if (!parent) throw errors.parentResourceNotFound(target.names.slice(0, level).join('/'));
    parentId = parent.id;
  }
  return parentId;
}

/** Characters ARM refuses in resource names (they would break the id as a URL path). */
const RESERVED_NAME_CHARACTERS = /[<>%&#\\?/\p{Cc}]/u;

/**
 * Checks that everything the target hangs off exists (see `existingParentId`) and returns the
 * placement of the target: its canonical id and the columns it is stored and listed by.
 */
export async function placeTarget(ctx: ArmContext): Promise<Placement> {
  const { scope, target } = ctx.parsed;
  const { def } = ctx;
  const parentId = await existingParentId(ctx);
  const name = target.names[target.names.length - 1]!;
  if (RESERVED_NAME_CHARACTERS.test(name)) throw errors.invalidResourceName(name, fullType(def));
  const types = def.type.split('/');
  const lastType = types[types.length - 1]!;
  // Child types and ARM's own types sit directly below their parent; others open their namespace.
  const id =
    types.length > 1 || def.namespace === 'Microsoft.Resources'
      ? `${parentId}/${lastType}/${name}`
      : `${parentId}/providers/${def.namespace}/${lastType}/${name}`;
  return {
    key: keyOf(id),
    id,
    name,
    parentKey: parentId === '' ? '' : keyOf(parentId),
    subscriptionId: scope.subscriptionId?.toLowerCase() ?? null,
    resourceGroup: scope.resourceGroup?.toLowerCase() ?? null,
  };
}

function interleave(types: string[], names: string[], depth: number): string {
  return types
    .slice(0, depth)
    .map((type, k) => `${type}/${names[k]}`)
    .join('/');
}

function missingScope(ctx: ArmContext): ArmError {
  const { scope } = ctx.parsed;
  if (scope.kind === 'managementGroup')
    return errors.managementGroupNotFound(scope.managementGroup ?? scope.id);
  const segments = scope.id.split('/').filter(Boolean);
  const providerAt = segments.findIndex((segment) => segment.toLowerCase() === 'providers');
  const typeAndName = segments.slice(providerAt + 1).join('/');
  return scope.resourceGroup !== undefined
    ? errors.resourceNotFound(typeAndName, scope.resourceGroup)
    : errors.scopedResourceNotFound(scope.id);
}

/** The right "not found" for a target that is absent: its own, or that of whatever it hangs off. */
export async function notFound(ctx: ArmContext): Promise<ArmError> {
  try {
    await placeTarget(ctx);
  } catch (error) {
    return error as ArmError;
  }
  const { scope, target } = ctx.parsed;
  const typeAndName = qualifiedName(ctx.def, target.names);
  if (scope.resourceGroup !== undefined) return errors.resourceNotFound(typeAndName, scope.resourceGroup);
  return errors.scopedResourceNotFound(ctx.parsed.path);
}

export async function readTarget<Body = ArmBody>(ctx: ArmContext): Promise<StoredResource<Body>> {
  const found = await getResource<Body>(ctx.db, targetKey(ctx));
  if (!found) throw await notFound(ctx);
  return found;
}

/** `If-Match` / `If-None-Match` against the stored resource (absent when it does not exist yet). */
export function checkPreconditions(ctx: ArmContext, existing: StoredResource | undefined): void {
  const ifMatch = headerValue(ctx, 'if-match');
  const ifNoneMatch = headerValue(ctx, 'if-none-match');
  const name = ctx.parsed.target.names[ctx.parsed.target.names.length - 1];
  if (ifMatch !== undefined) {
    if (!existing) {
      throw errors.preconditionFailed(
        `The resource '${name}' does not exist, so the If-Match precondition '${ifMatch}' cannot be met.`,
      );
    }
    if (ifMatch !== '*' && !etagList(ifMatch).includes(existing.etag)) {
      throw errors.preconditionFailed(`The resource '${name}' has been modified (etag mismatch).`);
    }
  }
  if (ifNoneMatch !== undefined && existing) {
    if (ifNoneMatch === '*') {
      throw errors.preconditionFailed(
        `The resource '${name}' exists already and hence cannot be created again.`,
      );
    }
    if (etagList(ifNoneMatch).includes(existing.etag)) {
      throw errors.preconditionFailed(`The resource '${name}' has not been modified since the given etag.`);
    }
  }
}

function headerValue(ctx: ArmContext, name: string): string | undefined {
  const value = ctx.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function etagList(header: string): string[] {
  return header.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
}

export function newEtag(): string {
  return `"${randomUUID()}"`;
}

export function systemData(ctx: ArmContext, existing: StoredResource | undefined): ArmBody {
  const actor = systemDataActor(ctx.principal);
  const now = ctx.services.clock.now().toISOString();
  const previous = existing?.body.systemData as ArmBody | undefined;
  return {
    createdBy: previous?.createdBy ?? actor.by,
    createdByType: previous?.createdByType ?? actor.byType,
    createdAt: previous?.createdAt ?? now,
    lastModifiedBy: actor.by,
    lastModifiedByType: actor.byType,
    lastModifiedAt: now,
  };
}

export interface WriteOptions {
  /** Include an `etag` property in the body (types whose schema has one). */
  etagInBody?: boolean;
  /** Include `systemData` (types whose schema has it). Default true. */
  withSystemData?: boolean;
  /** Override the `type` echoed in the body (some RPs echo odd casings). */
  bodyType?: string;
  /** Override the `id` echoed in the body. */
  bodyId?: string;
}

/**
 * Stores `properties` (and the rest of the body) as the resource's representation, stamping id, name,
 * type, etag and systemData. Returns the stored resource.
 */
export async function writeTarget(
  ctx: ArmContext,
  placement: Placement,
  body: ArmBody,
  existing: StoredResource | undefined,
  options: WriteOptions = {},
): Promise<StoredResource> {
  const now = ctx.services.clock.now().toISOString();
  const etag = newEtag();
  const representation: ArmBody = {
    id: options.bodyId ?? existing?.id ?? placement.id,
    name: existing?.name ?? placement.name,
    type: options.bodyType ?? fullType(ctx.def),
    ...body,
  };
  if (options.etagInBody) representation.etag = etag;
  if (options.withSystemData !== false) representation.systemData = systemData(ctx, existing);
  const resource: StoredResource = {
    key: placement.key,
    id: existing?.id ?? placement.id,
    type: fullType(ctx.def).toLowerCase(),
    subscriptionId: placement.subscriptionId,
    resourceGroup: placement.resourceGroup,
    parentKey: placement.parentKey,
    name: existing?.name ?? placement.name,
    body: representation,
    etag,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  await putResource(ctx.db, resource);
  return resource;
}

/** The reply for a stored resource, with its ETag header. */
export function resourceReply(resource: StoredResource, status = 200): ArmReply {
  return { status, body: resource.body, headers: { etag: resource.etag } };
}

/** Lists a type below the request's scope with `$top`/`$skipToken` paging. */
export async function listReply(
  ctx: ArmContext,
  query: Omit<ListQuery, 'limit' | 'after'>,
  toBody: (resource: StoredResource) => unknown = (resource) => resource.body,
): Promise<ArmReply> {
  const page = pageRequest(ctx);
  const items = await listResources(ctx.db, { ...query, after: page.after, limit: page.size + 1 });
  return pageReply(ctx, page, items, toBody, (item) => item.key);
}

/**
 * The list query for a collection GET of `def` at the request's scope: children of a parent resource,
 * or top-level resources by resource group, by subscription, under an extension scope or at the
 * tenant. Whatever the collection hangs off must exist (the same errors as for one resource).
 */
export async function collectionQuery(ctx: ArmContext): Promise<Omit<ListQuery, 'limit' | 'after'>> {
  const { scope } = ctx.parsed;
  const type = fullType(ctx.def).toLowerCase();
  const parentId = await existingParentId(ctx);
  if (ctx.def.type.includes('/')) return { type, parentKey: keyOf(parentId) };
  switch (scope.kind) {
    case 'tenant':
      return { type };
    case 'subscription':
      return { type, subscriptionId: scope.subscriptionId!.toLowerCase() };
    case 'resourceGroup':
      return {
        type,
        subscriptionId: scope.subscriptionId!.toLowerCase(),
        resourceGroup: scope.resourceGroup!.toLowerCase(),
      };
    default:
      return { type, parentKey: keyOf(parentId) };
  }
}
