/**
 * `Microsoft.Security/serverVulnerabilityAssessmentsSettings`: the subscription's VA provider, the
 * object the transition flips to `MdeTvm`. One setting per subscription, `AzureServersSetting`; all
 * operations are synchronous (no `x-ms-long-running-operation` in either api-version).
 *
 * Decisions (see README.md):
 * - Name: the path enum is `azureServersSetting`, docs, policy and Terraform use `AzureServersSetting`.
 *   Any casing is accepted; responses always carry `AzureServersSetting` in `name` and `id`, as Azure
 *   answered a PUT to `.../azureServersSetting` at 2023-05-01 (recorded). The examples instead echo the
 *   request's casing; the conformance harness lists that divergence.
 * - PUT answers 200 at 2022-01-01-preview (the only response the preview declares) and 201 on create /
 *   200 on update at 2023-05-01.
 * - GET of an unset setting answers 404 (Terraform reads a 404 as "gone"; §15.10 of the spec notes).
 * - DELETE answers 200 when it removed the setting and 204 when there was none, as both swaggers
 *   describe ("OK - Setting was deleted", "No Content - Setting does not exist").
 */
import { errors } from '../../arm/errors.js';
import type { ArmContext, ResourceTypeDef } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import {
  checkPreconditions,
  collectionQuery,
  listReply,
  newEtag,
  placeTarget,
  resourceReply,
  targetKey,
  writeTarget,
} from '../../arm/resourceOps.js';
import { expectEnum, isPlainObject, objectBody, rejectUnknown } from '../../arm/validate.js';
import { deleteResource, getResource, type StoredResource } from '../../store/index.js';
import {
  canonicalName,
  checkEnvelope,
  ENVELOPE_MEMBERS,
  requestedName,
  withCanonicalName,
} from './common.js';

export const VA_SETTINGS_TYPE = 'microsoft.security/servervulnerabilityassessmentssettings';
export const AZURE_SERVERS_SETTING = 'AzureServersSetting';
const SELECTED_PROVIDERS = ['MdeTvm'] as const;
const KINDS = [AZURE_SERVERS_SETTING] as const;
const PREVIEW = '2022-01-01-preview';

export type SelectedProvider = (typeof SELECTED_PROVIDERS)[number];

/** The body of a PUT, parsed: the discriminated `kind` and the provider it selects. */
interface VaSettingRequest {
  kind: (typeof KINDS)[number];
  selectedProvider: SelectedProvider;
}

function parseVaSetting(value: unknown): VaSettingRequest {
  const body = objectBody(value, 'kind');
  rejectUnknown(body, ['kind', 'properties', ...ENVELOPE_MEMBERS], 'ServerVulnerabilityAssessmentsSetting');
  if (body.kind === undefined || body.kind === null) {
    throw errors.invalidRequestContent("Required property 'kind' not found in JSON. Path ''.");
  }
  const kind = expectEnum(body.kind, KINDS, 'kind');
  const properties = body.properties ?? undefined;
  if (properties !== undefined && !isPlainObject(properties)) {
    throw errors.invalidRequestContent(
      `Cannot deserialize the current JSON value into type 'ServerVulnerabilityAssessmentsAzureSettingProperties'. Path 'properties'.`,
    );
  }
  if (properties) {
    rejectUnknown(
      properties,
      ['selectedProvider'],
      'ServerVulnerabilityAssessmentsAzureSettingProperties',
      'properties',
    );
  }
  if (properties?.selectedProvider === undefined || properties.selectedProvider === null) {
    throw errors.invalidRequestContent(
      "Required property 'selectedProvider' not found in JSON. Path 'properties'.",
    );
  }
  const selectedProvider = expectEnum(
    properties.selectedProvider,
    SELECTED_PROVIDERS,
    'properties.selectedProvider',
  );
  return { kind, selectedProvider };
}

/**
 * The setting as a PUT stores it, for writers outside a request (the estate generator); `createdBy`
 * stands for the principal `systemData` names.
 */
export function vaSettingRecord(options: {
  subscriptionId: string;
  selectedProvider: SelectedProvider;
  createdBy: { by: string; byType: string };
  now: string;
}): StoredResource {
  const subscription = `/subscriptions/${options.subscriptionId.toLowerCase()}`;
  const id = `${subscription}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/${AZURE_SERVERS_SETTING}`;
  const { by, byType } = options.createdBy;
  return {
    key: keyOf(id),
    id,
    type: VA_SETTINGS_TYPE,
    subscriptionId: options.subscriptionId.toLowerCase(),
    resourceGroup: null,
    parentKey: subscription,
    name: AZURE_SERVERS_SETTING,
    body: {
      id,
      name: AZURE_SERVERS_SETTING,
      type: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
      kind: AZURE_SERVERS_SETTING,
      properties: { selectedProvider: options.selectedProvider },
      systemData: {
        createdBy: by,
        createdByType: byType,
        createdAt: options.now,
        lastModifiedBy: by,
        lastModifiedByType: byType,
        lastModifiedAt: options.now,
      },
    },
    etag: newEtag(),
    createdAt: options.now,
    updatedAt: options.now,
  };
}

function settingName(ctx: ArmContext): string {
  return canonicalName(requestedName(ctx), [AZURE_SERVERS_SETTING], 'serverVulnerabilityAssessmentsSettings');
}

export const serverVulnerabilityAssessmentsSettingsType: ResourceTypeDef = {
  namespace: 'Microsoft.Security',
  type: 'serverVulnerabilityAssessmentsSettings',
  apiVersions: ['2023-05-01', PREVIEW],
  scopes: ['subscription'],
  async get(ctx) {
    const name = settingName(ctx);
    const placement = await placeTarget(ctx);
    const stored = await getResource(ctx.db, placement.key);
    if (!stored) {
      throw errors.securityResourceNotFound(
        'Server vulnerability assessments setting',
        name,
        ctx.parsed.scope.subscriptionId!,
      );
    }
    return resourceReply(stored);
  },
  async list(ctx) {
    return listReply(ctx, await collectionQuery(ctx));
  },
  async put(ctx) {
    const name = settingName(ctx);
    const request = parseVaSetting(ctx.body);
    const placement = withCanonicalName(await placeTarget(ctx), name);
    checkEnvelope(ctx.body as Record<string, unknown>, placement);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    const stored = await writeTarget(
      ctx,
      placement,
      { kind: request.kind, properties: { selectedProvider: request.selectedProvider } },
      existing,
    );
    const created = !existing && ctx.apiVersion !== PREVIEW;
    return resourceReply(stored, created ? 201 : 200);
  },
  async delete(ctx) {
    settingName(ctx);
    await placeTarget(ctx);
    const existing = await getResource(ctx.db, targetKey(ctx));
    checkPreconditions(ctx, existing);
    if (!existing) return { status: 204 };
    await deleteResource(ctx.db, existing.key);
    return { status: 200 };
  },
};
