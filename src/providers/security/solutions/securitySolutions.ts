/**
 * BYOL vulnerability-assessment solutions, `Microsoft.Security/locations/{ascLocation}/securitySolutions`
 * (spec §7). Read at 2020-01-01 as its swagger defines (list per subscription and per home region, get
 * in a resource group); written at 2015-06-01-preview as Microsoft's New-ASCVASolution.ps1 writes
 * (PUT, DELETE in a resource group). Decisions are in README.md.
 */
import { errors } from '../../../arm/errors.js';
import type { ArmContext, ArmReply, ResourceTypeDef } from '../../../arm/registry.js';
import { keyOf } from '../../../arm/resourceId.js';
import { checkPreconditions, existingParentId, newEtag, type Placement } from '../../../arm/resourceOps.js';
import {
  deleteResource,
  getResource,
  listResources,
  putResource,
  type StoredResource,
} from '../../../store/index.js';
import { AZURE_LOCATIONS, normaliseLocation } from '../../locations.js';
import { SECURITY_NAMESPACE } from '../common.js';
import {
  licenseDigest,
  representation,
  SECURITY_SOLUTION_ID_SEGMENT,
  SECURITY_SOLUTION_TYPE,
  solutionBody,
} from './model.js';
import { parseSolutionRequest } from './request.js';

const READ_VERSION = '2020-01-01';
const WRITE_VERSION = '2015-06-01-preview';
/** Newest first. GET and list are served at both; PUT and DELETE only at the script's 2015-06-01-preview. */
export const SECURITY_SOLUTIONS_API_VERSIONS = [READ_VERSION, WRITE_VERSION] as const;

const QUALIFIED_TYPE = `${SECURITY_NAMESPACE}/locations/securitySolutions`;
/** More solutions than a subscription can hold: the lists are not pageable (`SecuritySolutionList`). */
const LIST_LIMIT = 5000;
const RESERVED_NAME_CHARACTERS = /[<>%&\\?/\p{Cc}]/u;

/** The 2020-01-01 swagger is read-only: writes are the script's, at its api-version. */
function requireWriteVersion(ctx: ArmContext): void {
  if (ctx.apiVersion !== WRITE_VERSION) {
    throw errors.apiVersionNotForMethod(ctx.apiVersion, ctx.method, QUALIFIED_TYPE, [WRITE_VERSION]);
  }
}

/**
 * One solution lives in a resource group ("resource group is mandatory", §7). The `locations` parent
 * is not a registered type, so the dispatcher leaves the scope check of this nested type to us.
 */
function requireResourceGroup(ctx: ArmContext): void {
  const { kind } = ctx.parsed.scope;
  if (kind === 'resourceGroup') return;
  if (kind === 'subscription') throw errors.securitySolutionNeedsResourceGroup();
  throw errors.invalidResourceType(ctx.def.type, ctx.def.namespace, ctx.apiVersion);
}

/** `{ascLocation}`: the subscription's Defender home region (`Get-AzSecurityLocation`), any Azure region here. */
function ascLocationOf(ctx: ArmContext): string {
  const requested = ctx.parsed.target.names[0]!;
  const location = normaliseLocation(requested);
  if (!location) throw errors.locationNotAvailableForResourceType(requested, QUALIFIED_TYPE, AZURE_LOCATIONS);
  return location;
}

/**
 * Where a solution is stored: below its resource group (so deleting the group removes it, §7), with
 * the id Microsoft's examples show: `.../resourceGroups/{rg}/providers/Microsoft.Security/locations/{ascLocation}/SecuritySolutions/{name}`.
 */
async function placeSolution(ctx: ArmContext): Promise<Placement> {
  requireResourceGroup(ctx);
  const ascLocation = ascLocationOf(ctx);
  const groupId = await existingParentId(ctx, 0);
  const name = ctx.parsed.target.names[1]!;
  if (RESERVED_NAME_CHARACTERS.test(name)) throw errors.invalidResourceName(name, QUALIFIED_TYPE);
  const id = `${groupId}/providers/${SECURITY_NAMESPACE}/locations/${ascLocation}/${SECURITY_SOLUTION_ID_SEGMENT}/${name}`;
  return {
    key: keyOf(id),
    id,
    name,
    parentKey: keyOf(groupId),
    subscriptionId: ctx.parsed.scope.subscriptionId!.toLowerCase(),
    resourceGroup: ctx.parsed.scope.resourceGroup!.toLowerCase(),
  };
}

async function subscriptionSolutions(ctx: ArmContext, subscriptionId: string): Promise<StoredResource[]> {
  return listResources(ctx.db, { type: SECURITY_SOLUTION_TYPE, subscriptionId, limit: LIST_LIMIT });
}

/**
 * PUT (2015-06-01-preview): 201 for a new solution, 200 when the same solution is sent again (the
 * auto-deploy flag, the key and the location may change; the template and the license may not).
 * Refused: a name another solution of the subscription has, and a license any solution uses
 * ("only one solution can be created per license. An attempt to create another solution using the
 * same name/license/key will fail"). A second auto-deploy solution is accepted, as Azure accepts it:
 * the docs say only that with several flagged none auto-links (coverage applies that rule).
 */
async function put(ctx: ArmContext): Promise<ArmReply> {
  requireWriteVersion(ctx);
  const placement = await placeSolution(ctx);
  const request = parseSolutionRequest(ctx.body);
  const existing = await getResource(ctx.db, placement.key);
  checkPreconditions(ctx, existing);
  const solutions = await subscriptionSolutions(ctx, placement.subscriptionId!);
  const namesake = solutions.find(
    (solution) =>
      solution.key !== placement.key && solution.name.toLowerCase() === placement.name.toLowerCase(),
  );
  if (namesake) throw errors.securitySolutionNameInUse(placement.name, namesake.id);
  const digest = licenseDigest(request.licenseCode);
  const sameLicense = await ctx.db
    .selectFrom('resources')
    .select(['key', 'subscription_id'])
    .where('type', '=', SECURITY_SOLUTION_TYPE)
    .where('body', 'like', `%"licenseCodeSha256":"${digest}"%`)
    .where('key', '!=', placement.key)
    .executeTakeFirst();
  if (sameLicense) {
    const own = sameLicense.subscription_id === placement.subscriptionId;
    const holder = own ? await getResource(ctx.db, sameLicense.key) : undefined;
    throw errors.securitySolutionLicenseInUse(holder?.id);
  }
  if (existing) {
    if (existing.body.properties.template !== request.template.template) {
      throw errors.securitySolutionChangeNotAllowed(existing.name, 'template');
    }
    if (existing.body.licensing?.licenseCodeSha256 !== digest) {
      throw errors.securitySolutionChangeNotAllowed(existing.name, 'license');
    }
  }
  const group = (await getResource(ctx.db, placement.parentKey))!;
  const now = ctx.services.clock.now().toISOString();
  const id = existing?.id ?? placement.id;
  const name = existing?.name ?? placement.name;
  const resource: StoredResource = {
    key: placement.key,
    id,
    type: SECURITY_SOLUTION_TYPE,
    subscriptionId: placement.subscriptionId,
    resourceGroup: placement.resourceGroup,
    parentKey: placement.parentKey,
    name,
    body: solutionBody({
      id,
      name,
      // The script sends the resource group's location (v2.10); "it can be anywhere".
      location: request.location ?? String(group.body.location),
      template: request.template.template,
      licensing: { licenseCodeSha256: digest, autoProvisioning: request.autoProvisioning },
    }),
    etag: newEtag(),
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  await putResource(ctx.db, resource);
  return { status: existing ? 200 : 201, body: representation(resource), headers: { etag: resource.etag } };
}

export const securitySolutionsType: ResourceTypeDef = {
  namespace: SECURITY_NAMESPACE,
  type: 'locations/securitySolutions',
  apiVersions: SECURITY_SOLUTIONS_API_VERSIONS,
  scopes: ['subscription', 'resourceGroup'],
  async get(ctx) {
    const placement = await placeSolution(ctx);
    const solution = await getResource(ctx.db, placement.key);
    if (!solution)
      throw errors.securityResourceNotFound('Security solution', placement.name, ctx.parsed.scope.id);
    return { status: 200, body: representation(solution), headers: { etag: solution.etag } };
  },
  /** `SecuritySolutions_ListByHomeRegion`: the subscription's solutions under one `{ascLocation}`. */
  async list(ctx) {
    if (ctx.parsed.scope.kind !== 'subscription') {
      throw errors.invalidResourceType(ctx.def.type, ctx.def.namespace, ctx.apiVersion);
    }
    const ascLocation = ascLocationOf(ctx);
    await existingParentId(ctx, 0);
    const segment = `/providers/microsoft.security/locations/${ascLocation}/securitysolutions/`;
    const solutions = await subscriptionSolutions(ctx, ctx.parsed.scope.subscriptionId!.toLowerCase());
    return {
      status: 200,
      body: { value: solutions.filter((solution) => solution.key.includes(segment)).map(representation) },
    };
  },
  put,
  /** DELETE (2015-06-01-preview): 200 when a solution was removed, 204 when there was none. */
  async delete(ctx) {
    requireWriteVersion(ctx);
    const placement = await placeSolution(ctx);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    if (!existing) return { status: 204 };
    await deleteResource(ctx.db, placement.key);
    return { status: 200 };
  },
};

/** `SecuritySolutions_List`: every solution of the subscription, whatever its home region. */
export const subscriptionSecuritySolutionsType: ResourceTypeDef = {
  namespace: SECURITY_NAMESPACE,
  type: 'securitySolutions',
  apiVersions: SECURITY_SOLUTIONS_API_VERSIONS,
  scopes: ['subscription'],
  async list(ctx) {
    await existingParentId(ctx, 0);
    const solutions = await subscriptionSolutions(ctx, ctx.parsed.scope.subscriptionId!.toLowerCase());
    return { status: 200, body: { value: solutions.map(representation) } };
  },
};
