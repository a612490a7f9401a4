/**
 * `Microsoft.Security/settings`: the subscription's integrations. `WDATP` is the portal's "Endpoint
 * protection" toggle (the MDE integration the transition needs with Servers P1); `MCAS`,
 * `WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW` and `WDATP_UNIFIED_SOLUTION` are `DataExportSettings` too, and
 * `Sentinel` is `AlertSyncSettings`. GET, list and PUT (200) only: there is no DELETE in any version.
 *
 * Decisions (see README.md):
 * - Every setting always exists: an unset one reads with its default, taken from the spec's examples
 *   (every `GetSettings_example` shows MCAS enabled and the others disabled).
 * - All five names are served at every api-version although older swaggers enumerate fewer
 *   (2019-01-01: MCAS, WDATP): Azure answered the full set at 2021-07-01 (recorded), so the name set is
 *   service state, not versioned contract. 2023-01-01 is served too: its swagger equals 2022-05-01's.
 * - The setting's kind is fixed by its name: a PUT with another kind is refused.
 */
import { errors } from '../../arm/errors.js';
import type { ArmContext, ResourceTypeDef } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import {
  checkPreconditions,
  collectionQuery,
  newEtag,
  placeTarget,
  writeTarget,
} from '../../arm/resourceOps.js';
import { expectBoolean, expectEnum, isPlainObject, objectBody, rejectUnknown } from '../../arm/validate.js';
import { type ArmBody, getResource, listResources, type StoredResource } from '../../store/index.js';
import {
  canonicalName,
  checkEnvelope,
  ENVELOPE_MEMBERS,
  requestedName,
  withCanonicalName,
} from './common.js';

export const SETTINGS_TYPE = 'microsoft.security/settings';

const KINDS = ['DataExportSettings', 'AlertSuppressionSetting', 'AlertSyncSettings'] as const;
type SettingKind = (typeof KINDS)[number];

interface SettingDef {
  name: string;
  kind: SettingKind;
  enabledByDefault: boolean;
}

export const SETTINGS: readonly SettingDef[] = [
  { name: 'MCAS', kind: 'DataExportSettings', enabledByDefault: true },
  { name: 'WDATP', kind: 'DataExportSettings', enabledByDefault: false },
  { name: 'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW', kind: 'DataExportSettings', enabledByDefault: false },
  { name: 'WDATP_UNIFIED_SOLUTION', kind: 'DataExportSettings', enabledByDefault: false },
  { name: 'Sentinel', kind: 'AlertSyncSettings', enabledByDefault: false },
];

const PROPERTIES_TYPE: Record<SettingKind, string> = {
  DataExportSettings: 'DataExportSettingProperties',
  AlertSuppressionSetting: 'AlertSuppressionSettingProperties',
  AlertSyncSettings: 'AlertSyncSettingProperties',
};

function settingOf(ctx: ArmContext): SettingDef {
  const name = canonicalName(
    requestedName(ctx),
    SETTINGS.map((setting) => setting.name),
    'settings',
  );
  return SETTINGS.find((setting) => setting.name === name)!;
}

function settingBody(id: string, setting: SettingDef, stored: StoredResource | undefined): ArmBody {
  const enabled = stored ? Boolean(stored.body.properties?.enabled) : setting.enabledByDefault;
  return {
    id,
    name: setting.name,
    kind: setting.kind,
    type: 'Microsoft.Security/settings',
    properties: { enabled },
  };
}

/** A setting as a PUT stores it, for writers outside a request (the estate generator). */
export function settingRecord(options: {
  subscriptionId: string;
  name: (typeof SETTINGS)[number]['name'];
  enabled: boolean;
  now: string;
}): StoredResource {
  const setting = SETTINGS.find((candidate) => candidate.name === options.name);
  if (!setting) throw new Error(`no setting is named ${options.name}`);
  const subscription = `/subscriptions/${options.subscriptionId.toLowerCase()}`;
  const id = `${subscription}/providers/Microsoft.Security/settings/${setting.name}`;
  return {
    key: keyOf(id),
    id,
    type: SETTINGS_TYPE,
    subscriptionId: options.subscriptionId.toLowerCase(),
    resourceGroup: null,
    parentKey: subscription,
    name: setting.name,
    body: {
      id,
      name: setting.name,
      type: 'Microsoft.Security/settings',
      kind: setting.kind,
      properties: { enabled: options.enabled },
    },
    etag: newEtag(),
    createdAt: options.now,
    updatedAt: options.now,
  };
}

function reply(id: string, setting: SettingDef, stored: StoredResource | undefined) {
  return {
    status: 200,
    body: settingBody(id, setting, stored),
    ...(stored ? { headers: { etag: stored.etag } } : {}),
  };
}

function parseSetting(value: unknown, setting: SettingDef): boolean {
  const body = objectBody(value, 'kind');
  rejectUnknown(body, ['kind', 'properties', ...ENVELOPE_MEMBERS], 'Setting');
  if (body.kind === undefined || body.kind === null) {
    throw errors.invalidRequestContent("Required property 'kind' not found in JSON. Path ''.");
  }
  const kind = expectEnum(body.kind, KINDS, 'kind');
  if (kind !== setting.kind) throw errors.settingKindMismatch(setting.name, setting.kind, kind);
  if (!isPlainObject(body.properties)) {
    throw errors.invalidRequestContent("Required property 'enabled' not found in JSON. Path 'properties'.");
  }
  rejectUnknown(body.properties, ['enabled'], PROPERTIES_TYPE[kind], 'properties');
  const enabled = expectBoolean(body.properties.enabled, 'properties.enabled');
  if (enabled === undefined) {
    throw errors.invalidRequestContent("Required property 'enabled' not found in JSON. Path 'properties'.");
  }
  return enabled;
}

export const settingsType: ResourceTypeDef = {
  namespace: 'Microsoft.Security',
  type: 'settings',
  apiVersions: ['2023-01-01', '2022-05-01', '2021-07-01', '2021-06-01', '2019-01-01'],
  scopes: ['subscription'],
  async get(ctx) {
    const setting = settingOf(ctx);
    const placement = withCanonicalName(await placeTarget(ctx), setting.name);
    return reply(placement.id, setting, await getResource(ctx.db, placement.key));
  },
  async list(ctx) {
    const query = await collectionQuery(ctx);
    const stored = await listResources(ctx.db, { ...query, limit: SETTINGS.length + 1 });
    const subscriptionId = `/subscriptions/${ctx.parsed.scope.subscriptionId!.toLowerCase()}`;
    const value = SETTINGS.map((setting) =>
      settingBody(
        `${subscriptionId}/providers/Microsoft.Security/settings/${setting.name}`,
        setting,
        stored.find((resource) => resource.name === setting.name),
      ),
    );
    return { status: 200, body: { value } };
  },
  async put(ctx) {
    const setting = settingOf(ctx);
    const enabled = parseSetting(ctx.body, setting);
    const placement = withCanonicalName(await placeTarget(ctx), setting.name);
    checkEnvelope(ctx.body as ArmBody, placement);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    const stored = await writeTarget(
      ctx,
      placement,
      { kind: setting.kind, properties: { enabled } },
      existing,
      { withSystemData: false },
    );
    return reply(placement.id, setting, stored);
  },
};
