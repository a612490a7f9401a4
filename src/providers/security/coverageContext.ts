/**
 * Loads what `coverageOf` reads from the store: a machine (its row and extensions, the legacy
 * `serverVulnerabilityAssessments` on it, its own pricing) and its subscription's Defender context (VA
 * setting, `VirtualMachines` and `CloudPosture` pricings, the `WDATP*` settings, BYOL solutions,
 * security connectors), parsed once into the coverage types.
 *
 * Reads are shaped for lists over thousands of machines: a subscription's context is one query, and a
 * page of machines is two queries (VMs, Arc machines) plus one for everything hanging off them, so the
 * number of queries does not grow with the number of machines.
 *
 * Decisions (see README.md):
 * - An unset `WDATP_UNIFIED_SOLUTION` / `WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW` is passed as unknown, so
 *   coverage applies the new-subscription defaults it documents, although GET of the setting reads
 *   `enabled: false`: coverage only treats an explicit `false` / `true` as a legacy opt-out.
 * - The connector of an Arc machine tagged `MDFCSecurityConnector` is the connector of its subscription
 *   whose id or name the tag's value gives; when the value names none, the subscription's only
 *   connector for the machine's cloud (Arc `kind` / `cloudMetadata.provider`).
 * - Policy effect and exemptions of the recommendation are not modelled yet (the policy engine is a
 *   later issue): the context carries none.
 */
import { keyOf } from '../../arm/resourceId.js';
import {
  type ByolSolution,
  type CoverageContext,
  type CspmPricing,
  type IntegrationSettings,
  type LegacyServerVulnerabilityAssessment,
  type Machine,
  type MachineExtension,
  type OperatingSystem,
  osFromImage,
  osFromName,
  type PricingExtension,
  type ResourcePricing,
  SECURITY_CONNECTOR_TAG,
  type SecurityConnector,
  type ServersPricing,
  type ServerVaSetting,
} from '../../coverage/index.js';
import {
  type ArmBody,
  type Db,
  listResources,
  resourceFromRow,
  type StoredResource,
} from '../../store/index.js';
import { powerStateOf, VIRTUAL_MACHINE_TYPE, VM_EXTENSION_TYPE } from '../compute/model.js';
import { ARC_EXTENSION_TYPE, ARC_MACHINE_TYPE } from '../hybridcompute/model.js';
import { LEGACY_VA_TYPE, legacyAssessmentOf } from './legacyVa/index.js';
import { PRICINGS_TYPE } from './pricings.js';
import { SECURITY_CONNECTORS_TYPE } from './securityConnectors/index.js';
import { SETTINGS_TYPE } from './settings.js';
import { byolSolutionOf, SECURITY_SOLUTION_TYPE } from './solutions/index.js';
import { VA_SETTINGS_TYPE } from './vaSettings.js';

/** The machine types the VA assessment covers. */
export const MACHINE_TYPES: readonly string[] = [VIRTUAL_MACHINE_TYPE, ARC_MACHINE_TYPE];

/** A machine as coverage sees it, with what hangs off it. */
export interface MachineCoverage {
  key: string;
  /** The stored id (creation casing), as responses echo it. */
  id: string;
  subscriptionId: string;
  resourceGroup: string | null;
  machine: Machine;
  legacyAssessments: LegacyServerVulnerabilityAssessment[];
  resourcePricing?: ResourcePricing;
  /** GCP / AWS for an Arc projection of a multicloud instance. */
  cloud?: 'GCP' | 'AWS';
  createdAt: string;
  /** The latest `updatedAt` of the machine row and the rows hanging off it. */
  changedAt: string;
}

export interface ConnectorCoverage {
  key: string;
  name: string;
  connector: SecurityConnector;
  updatedAt: string;
}

/** A subscription's Defender context, loaded once for any number of its machines. */
export interface SubscriptionCoverage {
  subscriptionId: string;
  vaSetting?: ServerVaSetting;
  serversPricing: ServersPricing;
  cspmPricing?: CspmPricing;
  settings: IntegrationSettings;
  byolSolutions: ByolSolution[];
  connectors: ConnectorCoverage[];
  /** The latest `updatedAt` of the subscription-level rows above, connectors aside; undefined without any. */
  changedAt?: string;
}

// ─── Subscription ────────────────────────────────────────────────────────────────────────────────

const SUBSCRIPTION_LEVEL_TYPES = [VA_SETTINGS_TYPE, PRICINGS_TYPE, SETTINGS_TYPE];

/** One query: the subscription-level VA setting, pricings and settings, and every connector and BYOL solution. */
export async function loadSubscriptionCoverage(
  db: Db,
  subscriptionId: string,
): Promise<SubscriptionCoverage> {
  const subscription = subscriptionId.toLowerCase();
  const subscriptionKey = `/subscriptions/${subscription}`;
  const rows = await db
    .selectFrom('resources')
    .selectAll()
    .where('subscription_id', '=', subscription)
    .where((eb) =>
      eb.or([
        // The subscription's own rows, not the machines' pricings: a key range the index serves.
        eb.and([
          eb('type', 'in', SUBSCRIPTION_LEVEL_TYPES),
          eb('key', '>', `${subscriptionKey}/providers/`),
          eb('key', '<', `${subscriptionKey}/providers0`),
        ]),
        eb('type', 'in', [SECURITY_CONNECTORS_TYPE, SECURITY_SOLUTION_TYPE]),
      ]),
    )
    .execute();
  const resources = rows.map(resourceFromRow);
  const at = (type: string, name: string) =>
    resources.find((row) => row.type === type && row.key === `${subscriptionKey}/providers/${type}/${name}`);
  const setting = (name: string): boolean | undefined => {
    const row = at(SETTINGS_TYPE, name);
    return row === undefined ? undefined : row.body.properties?.enabled === true;
  };
  const vaSettingRow = at(VA_SETTINGS_TYPE, 'azureserverssetting');
  const cspmRow = at(PRICINGS_TYPE, 'cloudposture');
  const contextRows = resources.filter((row) => row.type !== SECURITY_CONNECTORS_TYPE);
  return {
    subscriptionId: subscription,
    vaSetting:
      String(vaSettingRow?.body.properties?.selectedProvider ?? '').toLowerCase() === 'mdetvm'
        ? { selectedProvider: 'MdeTvm' }
        : undefined,
    serversPricing: serversPricingOf(at(PRICINGS_TYPE, 'virtualmachines')?.body),
    cspmPricing: cspmRow ? cspmPricingOf(cspmRow.body) : undefined,
    settings: {
      wdatp: setting('wdatp') === true,
      wdatpUnifiedSolution: setting('wdatp_unified_solution'),
      wdatpExcludeLinuxPublicPreview: setting('wdatp_exclude_linux_public_preview'),
    },
    byolSolutions: resources
      .filter((row) => row.type === SECURITY_SOLUTION_TYPE)
      .map(byolSolutionOf)
      .filter((solution): solution is ByolSolution => solution !== undefined),
    connectors: resources
      .filter((row) => row.type === SECURITY_CONNECTORS_TYPE)
      .map((row) => ({
        key: row.key,
        name: row.name,
        connector: securityConnectorOf(row),
        updatedAt: row.updatedAt,
      })),
    changedAt: latest(contextRows.map((row) => row.updatedAt)),
  };
}

function pricingExtensionsOf(value: unknown): PricingExtension[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value
    .filter((item): item is ArmBody => item !== null && typeof item === 'object')
    .map((item) => {
      const exclusionTags = exclusionTagsOf(item.additionalExtensionProperties?.ExclusionTags);
      return {
        name: String(item.name),
        isEnabled: String(item.isEnabled).toLowerCase() === 'true' ? 'True' : 'False',
        ...(exclusionTags ? { exclusionTags } : {}),
      };
    });
}

/**
 * `ExclusionTags` is JSON inside a string (§5.2), and Microsoft's resource-level example even writes
 * single-quoted pseudo-JSON with `Key`/`Value`: both forms, and an already-parsed array, are read.
 */
function exclusionTagsOf(value: unknown): { key: string; value: string }[] | undefined {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      try {
        parsed = JSON.parse(value.replaceAll("'", '"'));
      } catch {
        return undefined;
      }
    }
  }
  if (!Array.isArray(parsed)) return undefined;
  return parsed
    .filter((item): item is ArmBody => item !== null && typeof item === 'object')
    .map((item) => ({
      key: String(item.key ?? item.Key ?? ''),
      value: String(item.value ?? item.Value ?? ''),
    }))
    .filter((tag) => tag.key.length > 0);
}

/** The pricings provider stores `properties` as its `PricingState`; no row is Free. */
function serversPricingOf(body: ArmBody | undefined): ServersPricing {
  const properties = body?.properties;
  if (properties?.pricingTier !== 'Standard') return { pricingTier: 'Free' };
  const subPlan = String(properties.subPlan ?? '').toUpperCase();
  const extensions = pricingExtensionsOf(properties.extensions);
  return {
    pricingTier: 'Standard',
    ...(subPlan === 'P1' || subPlan === 'P2' ? { subPlan } : {}),
    ...(properties.enforce === 'True' ? { enforce: 'True' as const } : {}),
    ...(extensions ? { extensions } : {}),
  };
}

function cspmPricingOf(body: ArmBody): CspmPricing {
  const properties = body.properties;
  const extensions = pricingExtensionsOf(properties?.extensions);
  return {
    pricingTier: properties?.pricingTier === 'Standard' ? 'Standard' : 'Free',
    ...(extensions ? { extensions } : {}),
  };
}

/** A machine's own `VirtualMachines` pricing row is an override (`inherited: False`, §5.2). */
function resourcePricingOf(body: ArmBody): ResourcePricing {
  const properties = body.properties;
  return properties?.pricingTier === 'Standard'
    ? { pricingTier: 'Standard', subPlan: 'P1', inherited: 'False', inheritedFrom: null }
    : { pricingTier: 'Free', inherited: 'False', inheritedFrom: null };
}

const enabled = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && (value as ArmBody).enabled === true;

/**
 * The coverage view of a stored connector (§4.3): its Defender for Servers offering and the
 * `vmScanners` of its Defender CSPM offering. `subPlan` is read as the spec's `{ type }` object or the
 * doc's bare string (§15.1).
 */
export function securityConnectorOf(resource: StoredResource): SecurityConnector {
  const properties = resource.body.properties ?? {};
  const environmentName = String(properties.environmentName ?? '').toUpperCase() === 'AWS' ? 'AWS' : 'GCP';
  const offerings: ArmBody[] = Array.isArray(properties.offerings) ? properties.offerings : [];
  const offering = (type: string) =>
    offerings.find((candidate) => String(candidate?.offeringType).toLowerCase() === type.toLowerCase());
  const cloud = environmentName === 'AWS' ? 'Aws' : 'Gcp';
  const servers = offering(`DefenderForServers${cloud}`);
  const cspm = offering(`DefenderCspm${cloud}`);
  const scanners = (value: ArmBody | undefined) =>
    value === undefined || value === null
      ? undefined
      : {
          enabled: enabled(value),
          ...(value.configuration?.exclusionTags ? { exclusionTags: value.configuration.exclusionTags } : {}),
        };
  // The id as the connectors API answers it (`resourcegroups`, as Azure echoes it).
  const id = typeof resource.body.id === 'string' ? resource.body.id : resource.id;
  const connector: SecurityConnector = { id, environmentName };
  if (servers) {
    const subPlan = String(
      typeof servers.subPlan === 'string' ? servers.subPlan : (servers.subPlan?.type ?? ''),
    ).toUpperCase();
    const va = servers.vaAutoProvisioning;
    const vaType = String(va?.configuration?.type ?? '').toLowerCase();
    connector.defenderForServers = {
      ...(subPlan === 'P1' || subPlan === 'P2' ? { subPlan } : {}),
      ...(servers.arcAutoProvisioning
        ? { arcAutoProvisioning: { enabled: enabled(servers.arcAutoProvisioning) } }
        : {}),
      ...(servers.mdeAutoProvisioning
        ? { mdeAutoProvisioning: { enabled: enabled(servers.mdeAutoProvisioning) } }
        : {}),
      ...(va
        ? {
            vaAutoProvisioning: {
              enabled: enabled(va),
              ...(vaType === 'qualys'
                ? { type: 'Qualys' as const }
                : vaType === 'tvm'
                  ? { type: 'TVM' as const }
                  : {}),
            },
          }
        : {}),
      ...(servers.vmScanners ? { vmScanners: scanners(servers.vmScanners) } : {}),
    };
  }
  if (cspm?.vmScanners) connector.defenderCspm = { vmScanners: scanners(cspm.vmScanners) };
  return connector;
}

// ─── Machines ────────────────────────────────────────────────────────────────────────────────────

/** Types that hang off a machine and matter to coverage. */
const MACHINE_CHILD_TYPES = [VM_EXTENSION_TYPE, ARC_EXTENSION_TYPE, LEGACY_VA_TYPE, PRICINGS_TYPE];

/** One machine by key, or undefined when no VM or Arc machine has it. Two queries. */
export async function loadMachineCoverage(db: Db, machineKey: string): Promise<MachineCoverage | undefined> {
  const key = keyOf(machineKey);
  const row = await db.selectFrom('resources').selectAll().where('key', '=', key).executeTakeFirst();
  if (!row || !MACHINE_TYPES.includes(row.type)) return undefined;
  const [machine] = await withChildren(db, [resourceFromRow(row)]);
  return machine;
}

export interface MachinePageQuery {
  subscriptionId: string;
  resourceGroup?: string;
  /** Only machines whose key sorts after this one (the paging cursor). */
  after?: string;
  limit: number;
}

/**
 * Up to `limit` machines (VMs and Arc machines together, in key order) of a subscription or resource
 * group, with what hangs off them. Three queries, however large the page.
 */
export async function loadMachineCoveragePage(db: Db, query: MachinePageQuery): Promise<MachineCoverage[]> {
  const scope = {
    subscriptionId: query.subscriptionId.toLowerCase(),
    ...(query.resourceGroup !== undefined ? { resourceGroup: query.resourceGroup.toLowerCase() } : {}),
    after: query.after,
    limit: query.limit,
  };
  const [vms, arcMachines] = await Promise.all([
    listResources(db, { ...scope, type: VIRTUAL_MACHINE_TYPE }),
    listResources(db, { ...scope, type: ARC_MACHINE_TYPE }),
  ]);
  const machines = [...vms, ...arcMachines]
    .sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0))
    .slice(0, query.limit);
  return withChildren(db, machines);
}

/**
 * Extensions, legacy VA resources and machine pricings of `machines` in one query: every such row
 * sits in the key range from the first machine to the last, within the subscription, so the
 * `(type, subscription_id, key)` index serves it; rows of other parents in the range are dropped.
 */
async function withChildren(db: Db, machines: StoredResource[]): Promise<MachineCoverage[]> {
  if (machines.length === 0) return [];
  const first = machines[0]!;
  const last = machines[machines.length - 1]!;
  let select = db
    .selectFrom('resources')
    .selectAll()
    .where('type', 'in', MACHINE_CHILD_TYPES)
    .where('key', '>', `${first.key}/`)
    .where('key', '<', `${last.key}0`);
  const subscriptions = new Set(machines.map((machine) => machine.subscriptionId));
  if (subscriptions.size === 1 && first.subscriptionId !== null) {
    select = select.where('subscription_id', '=', first.subscriptionId);
  }
  const children = new Map<string, StoredResource[]>();
  for (const machine of machines) children.set(machine.key, []);
  for (const row of await select.execute()) children.get(row.parent_key)?.push(resourceFromRow(row));
  return machines.map((row) => {
    const own = children.get(row.key)!;
    const extensions: MachineExtension[] = own
      .filter((child) => child.type === VM_EXTENSION_TYPE || child.type === ARC_EXTENSION_TYPE)
      .map((child) => ({
        publisher: String(child.body.properties?.publisher ?? ''),
        type: String(child.body.properties?.type ?? ''),
        name: child.name,
        ...(typeof child.body.properties?.provisioningState === 'string'
          ? { provisioningState: child.body.properties.provisioningState }
          : {}),
      }));
    const legacyAssessments = own.filter((child) => child.type === LEGACY_VA_TYPE).map(legacyAssessmentOf);
    const pricing = own.find(
      (child) => child.type === PRICINGS_TYPE && child.name.toLowerCase() === 'virtualmachines',
    );
    return {
      key: row.key,
      id: row.id,
      subscriptionId: row.subscriptionId ?? '',
      resourceGroup: row.resourceGroup,
      machine: machineOf(row, extensions),
      legacyAssessments,
      ...(pricing ? { resourcePricing: resourcePricingOf(pricing.body) } : {}),
      ...cloudOf(row),
      createdAt: row.createdAt,
      changedAt: latest([row.updatedAt, ...own.map((child) => child.updatedAt)])!,
    };
  });
}

function machineOf(row: StoredResource, extensions: MachineExtension[]): Machine {
  const properties = row.body.properties ?? {};
  const base = {
    id: row.id,
    name: row.name,
    subscriptionId: row.subscriptionId ?? '',
    extensions,
    tags: tagsOf(row.body.tags),
  };
  if (row.type === VIRTUAL_MACHINE_TYPE) {
    return { ...base, kind: 'azureVm', os: vmOs(properties), powerState: powerStateOf(row.body) };
  }
  const status = properties.status;
  return {
    ...base,
    kind: 'arcMachine',
    os: arcOs(properties),
    status: status === 'Connected' || status === 'Error' || status === 'Expired' ? status : 'Disconnected',
  };
}

function tagsOf(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value).map(([name, tag]) => [name, String(tag)]));
}

/** The OS disk's `osType` with the Marketplace image; without an `osType`, the OS profile's configuration says. */
function vmOs(properties: ArmBody): OperatingSystem {
  const storage = properties.storageProfile ?? {};
  const declared = String(storage.osDisk?.osType ?? '').toLowerCase();
  const osType =
    declared === 'windows' || (declared === '' && properties.osProfile?.windowsConfiguration)
      ? 'Windows'
      : 'Linux';
  return osFromImage(osType, storage.imageReference ?? {});
}

/** Arc reports `osType` in lower case and the release in `osSku` ("Ubuntu 22.04.4 LTS"). */
function arcOs(properties: ArmBody): OperatingSystem {
  const osType =
    String(properties.osType ?? properties.osName ?? '').toLowerCase() === 'windows' ? 'Windows' : 'Linux';
  const name = [properties.osSku, properties.osName].find(
    (value): value is string => typeof value === 'string' && value.length > 0,
  );
  return name === undefined ? { family: osType } : osFromName(osType, name);
}

function cloudOf(row: StoredResource): { cloud?: 'GCP' | 'AWS' } {
  if (row.type !== ARC_MACHINE_TYPE) return {};
  const properties = row.body.properties ?? {};
  const named = [
    row.body.kind,
    properties.cloudMetadata?.provider,
    properties.detectedProperties?.cloudprovider,
  ]
    .map((value) => String(value ?? '').toUpperCase())
    .find((value) => value === 'GCP' || value === 'AWS');
  return named === 'GCP' || named === 'AWS' ? { cloud: named } : {};
}

// ─── Context ─────────────────────────────────────────────────────────────────────────────────────

/** The connector that governs a machine tagged `MDFCSecurityConnector`, per the decision above. */
export function connectorFor(
  machine: MachineCoverage,
  subscription: SubscriptionCoverage,
): ConnectorCoverage | undefined {
  const tags = machine.machine.tags;
  const tagName = Object.keys(tags).find(
    (name) => name.toLowerCase() === SECURITY_CONNECTOR_TAG.toLowerCase(),
  );
  if (tagName === undefined) return undefined;
  const value = tags[tagName]!.trim();
  const named = subscription.connectors.find(
    (candidate) =>
      (value.startsWith('/') && candidate.key === keyOf(value)) ||
      candidate.name.toLowerCase() === value.toLowerCase(),
  );
  if (named) return named;
  const sameCloud = subscription.connectors.filter(
    (candidate) => machine.cloud !== undefined && candidate.connector.environmentName === machine.cloud,
  );
  return sameCloud.length === 1 ? sameCloud[0] : undefined;
}

/** The coverage context of one machine of `subscription` at `now`. */
export function coverageContextOf(
  machine: MachineCoverage,
  subscription: SubscriptionCoverage,
  now: Date,
): CoverageContext {
  const connector = connectorFor(machine, subscription);
  return {
    now,
    ...(subscription.vaSetting ? { vaSetting: subscription.vaSetting } : {}),
    legacyAssessments: machine.legacyAssessments,
    serversPricing: subscription.serversPricing,
    ...(machine.resourcePricing ? { resourcePricing: machine.resourcePricing } : {}),
    ...(subscription.cspmPricing ? { cspmPricing: subscription.cspmPricing } : {}),
    settings: subscription.settings,
    ...(connector ? { connector: connector.connector } : {}),
    byolSolutions: subscription.byolSolutions,
  };
}

/** A machine and its coverage context, loaded from the store (three queries); undefined for a key that is no machine. */
export async function loadCoverageContext(
  db: Db,
  machineKey: string,
  now: Date,
): Promise<
  { machine: MachineCoverage; subscription: SubscriptionCoverage; context: CoverageContext } | undefined
> {
  const machine = await loadMachineCoverage(db, machineKey);
  if (!machine) return undefined;
  const subscription = await loadSubscriptionCoverage(db, machine.subscriptionId);
  return { machine, subscription, context: coverageContextOf(machine, subscription, now) };
}

function latest(values: readonly string[]): string | undefined {
  let found: string | undefined;
  for (const value of values) if (found === undefined || value > found) found = value;
  return found;
}
