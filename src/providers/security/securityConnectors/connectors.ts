/**
 * `Microsoft.Security/securityConnectors` in a resource group: PUT, PATCH, GET, DELETE and lists by
 * subscription and by resource group, all synchronous. The decisions are listed in README.md; the
 * ones a reader of this file needs:
 * - Responses carry `type` `Microsoft.Security/securityconnectors` and an `id` with `resourcegroups`
 *   and the group's name lower-cased, as Azure answered recorded requests at 2023-10-01-preview.
 * - PUT answers 201 on create, 200 on update. DELETE answers 204 whether or not the connector existed
 *   (Azure answered 204 to the recorded deletes of existing connectors).
 * - PATCH merges member by member (the recorded PATCH of `tags` alone kept `properties`): each member
 *   of the body, and each member of its `properties`, replaces the stored one whole.
 * - A body's `etag` is ignored; `If-Match`/`If-None-Match` are the preconditions (412, nothing written).
 */
import { randomUUID } from 'node:crypto';
import { errors } from '../../../arm/errors.js';
import type { ArmContext, ArmReply, ResourceTypeDef } from '../../../arm/registry.js';
import { keyOf } from '../../../arm/resourceId.js';
import {
  checkPreconditions,
  collectionQuery,
  listReply,
  newEtag,
  type Placement,
  placeTarget,
  readTarget,
  writeTarget,
} from '../../../arm/resourceOps.js';
import { type ArmBody, deleteResource, getResource, type StoredResource } from '../../../store/index.js';
import { AZURE_LOCATIONS, normaliseLocation } from '../../locations.js';
import { checkEnvelope } from '../common.js';
import { type ConnectorApiVersion, V2022, V2023, V2024 } from './schema.js';
import {
  type ConnectorRequest,
  checkConsistency,
  parseConnectorBody,
  projectProperties,
  requireComplete,
} from './validation.js';

export const SECURITY_CONNECTORS_TYPE = 'microsoft.security/securityconnectors';
/** Newest first, as ARM lists them in errors. */
export const SECURITY_CONNECTORS_API_VERSIONS: readonly ConnectorApiVersion[] = [V2024, V2023, V2022];

/** The `type` Azure echoes (recorded), lower-case unlike the spec examples. */
const RESPONSE_TYPE = 'Microsoft.Security/securityconnectors';

function responseId(resource: Pick<StoredResource, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return `/subscriptions/${resource.subscriptionId}/resourcegroups/${resource.resourceGroup}/providers/Microsoft.Security/securityConnectors/${resource.name}`;
}

/**
 * A connector as a PUT stores it, for writers outside a request (the estate generator).
 * `properties` must be what `parseConnectorBody` yields, with a GCP project's
 * `workloadIdentityPoolId` already set (Azure creates the pool); `createdBy` stands for the principal
 * `systemData` names.
 */
export function securityConnectorRecord(options: {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags?: Record<string, string>;
  properties: ArmBody;
  createdBy: { by: string; byType: string };
  now: string;
}): StoredResource {
  const subscriptionId = options.subscriptionId.toLowerCase();
  const groupId = `/subscriptions/${subscriptionId}/resourceGroups/${options.resourceGroup}`;
  const id = `${groupId}/providers/Microsoft.Security/securityConnectors/${options.name}`;
  const resourceGroup = options.resourceGroup.toLowerCase();
  const etag = newEtag();
  const { by, byType } = options.createdBy;
  return {
    key: keyOf(id),
    id,
    type: SECURITY_CONNECTORS_TYPE,
    subscriptionId,
    resourceGroup,
    parentKey: keyOf(groupId),
    name: options.name,
    body: {
      id: responseId({ subscriptionId, resourceGroup, name: options.name }),
      name: options.name,
      type: RESPONSE_TYPE,
      location: options.location,
      tags: options.tags ?? {},
      properties: options.properties,
      etag,
      systemData: {
        createdBy: by,
        createdByType: byType,
        createdAt: options.now,
        lastModifiedBy: by,
        lastModifiedByType: byType,
        lastModifiedAt: options.now,
      },
    },
    etag,
    createdAt: options.now,
    updatedAt: options.now,
  };
}

/** The stored connector as the request's api-version shows it. */
function connectorBody(stored: StoredResource, version: ConnectorApiVersion): ArmBody {
  const { properties, ...envelope } = stored.body;
  return { ...envelope, properties: projectProperties(properties ?? {}, version) };
}

function reply(ctx: ArmContext, stored: StoredResource, status = 200): ArmReply {
  return {
    status,
    body: connectorBody(stored, ctx.apiVersion as ConnectorApiVersion),
    headers: { etag: stored.etag },
  };
}

/** A region ARM knows; the connector keeps the spelling it was created with (`Central US`). */
function checkLocation(location: string): void {
  if (!normaliseLocation(location)) {
    throw errors.locationNotAvailableForResourceType(
      location,
      'Microsoft.Security/securityConnectors',
      AZURE_LOCATIONS,
    );
  }
}

/** A tracked resource stays where it was created. */
function checkSameLocation(existing: StoredResource, requested: string): void {
  const stored = existing.body.location as string;
  if (normaliseLocation(stored) !== normaliseLocation(requested)) {
    throw errors.invalidResourceLocation({
      name: existing.name,
      existing: stored,
      resourceGroup: existing.resourceGroup ?? '',
      requested,
    });
  }
}

/**
 * A GCP project connector has a workload identity pool, which Azure creates: the pool id is
 * read-only, so the one a client sends (the transition page's `{identityPoolIdRemainsTheSame}`) is
 * ignored and the connector keeps the one it was given when created.
 */
function withWorkloadIdentityPool(properties: ArmBody, existing: StoredResource | undefined): ArmBody {
  const environment = properties.environmentData;
  if (environment?.environmentType !== 'GcpProject') return properties;
  const kept = existing?.body.properties?.environmentData?.projectDetails?.workloadIdentityPoolId;
  return {
    ...properties,
    environmentData: {
      ...environment,
      projectDetails: {
        ...environment.projectDetails,
        workloadIdentityPoolId: kept ?? randomUUID().replaceAll('-', ''),
      },
    },
  };
}

async function writeConnector(
  ctx: ArmContext,
  placement: Placement,
  existing: StoredResource | undefined,
  connector: { location: string; kind?: string; tags: Record<string, string>; properties: ArmBody },
): Promise<StoredResource> {
  const name = existing?.name ?? placement.name;
  return writeTarget(
    ctx,
    placement,
    {
      location: connector.location,
      ...(connector.kind !== undefined ? { kind: connector.kind } : {}),
      tags: connector.tags,
      properties: withWorkloadIdentityPool(connector.properties, existing),
    },
    existing,
    {
      etagInBody: true,
      bodyType: RESPONSE_TYPE,
      bodyId: responseId({
        subscriptionId: placement.subscriptionId,
        resourceGroup: placement.resourceGroup,
        name,
      }),
    },
  );
}

function parseRequest(ctx: ArmContext, placement: Placement): ConnectorRequest {
  const request = parseConnectorBody(ctx.body, ctx.apiVersion as ConnectorApiVersion);
  checkEnvelope(request.envelope, placement);
  if (request.location !== undefined) checkLocation(request.location);
  return request;
}

export const securityConnectorsType: ResourceTypeDef = {
  namespace: 'Microsoft.Security',
  type: 'securityConnectors',
  apiVersions: SECURITY_CONNECTORS_API_VERSIONS,
  scopes: ['resourceGroup'],
  listScopes: ['subscription', 'resourceGroup'],
  async get(ctx) {
    return reply(ctx, await readTarget(ctx));
  },
  async list(ctx) {
    const version = ctx.apiVersion as ConnectorApiVersion;
    return listReply(ctx, await collectionQuery(ctx), (stored) => connectorBody(stored, version));
  },
  async put(ctx) {
    const placement = await placeTarget(ctx);
    const request = parseRequest(ctx, placement);
    requireComplete(request.location, request.properties);
    const properties = request.properties!;
    checkConsistency(properties);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    if (existing) checkSameLocation(existing, request.location!);
    const stored = await writeConnector(ctx, placement, existing, {
      location: existing ? existing.body.location : request.location!,
      kind: request.kind,
      tags: request.tags ?? {},
      properties,
    });
    return reply(ctx, stored, existing ? 200 : 201);
  },
  async patch(ctx) {
    const existing = await readTarget(ctx);
    checkPreconditions(ctx, existing);
    const placement = await placeTarget(ctx);
    const request = parseRequest(ctx, placement);
    if (request.location !== undefined) checkSameLocation(existing, request.location);
    const properties = { ...existing.body.properties, ...request.properties };
    checkConsistency(properties);
    const stored = await writeConnector(ctx, placement, existing, {
      location: existing.body.location,
      kind: request.kind ?? existing.body.kind,
      tags: request.tags ?? existing.body.tags ?? {},
      properties,
    });
    return reply(ctx, stored);
  },
  async delete(ctx) {
    const placement = await placeTarget(ctx);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    if (existing) await deleteResource(ctx.db, existing.key);
    return { status: 204 };
  },
};
