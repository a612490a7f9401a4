/**
 * Imports an Azure Resource Graph export: the JSON rows of `az graph query -q "Resources | …"` or
 * `"ResourceContainers | …"` (a bare array, `{"count","data":[…]}` as the CLI prints it, the REST
 * API's table form `{"data":{"columns","rows"}}`, or an ARM list `{"value":[…]}`).
 *
 * Rows keep their properties as given; the builders shared with the providers supply what a row lacks
 * and the stored shape vaplane serves. ARG-only projections are translated, not stored: a VM's
 * `properties.extended.instanceView.powerState` becomes the instance view the compute provider reads.
 * Subscriptions, resource groups and management groups that rows imply are created when missing.
 * Everything is written in one transaction after the whole file has been checked, every write is an
 * upsert (importing a file twice changes nothing twice), and rows of other types are counted as
 * skipped, never dropped silently.
 */
import { isGuid, keyOf } from '../arm/resourceId.js';
import {
  instanceView,
  type PowerState,
  virtualMachineRecord,
  vmExtensionRecord,
} from '../providers/compute/model.js';
import { type ArcStatus, arcExtensionRecord, arcMachineRecord } from '../providers/hybridcompute/model.js';
import {
  GROUP_SUBSCRIPTION_TYPE,
  groupSubscriptionRecord,
  managementGroupBody,
  managementGroupId,
  managementGroupRecord,
} from '../providers/management/index.js';
import { resourceGroupRecord, subscriptionBody, subscriptionRecord } from '../providers/resources/index.js';
import {
  type ArmBody,
  type Db,
  deleteResource,
  getResources,
  putResource,
  type StoredResource,
} from '../store/index.js';

/** One row of the ARG `resources` / `resourcecontainers` tables (fields other than these are ignored). */
export interface ResourceGraphRow {
  id: string;
  type: string;
  name?: string;
  tenantId?: string;
  kind?: string;
  location?: string;
  resourceGroup?: string;
  subscriptionId?: string;
  managedBy?: string;
  sku?: unknown;
  plan?: unknown;
  properties?: ArmBody | null;
  tags?: Record<string, string> | null;
  identity?: unknown;
  zones?: unknown;
  extendedLocation?: unknown;
}

export interface ImportOptions {
  /** The tenant the estate joins: imported subscriptions and groups belong to it. */
  tenantId: string;
  now: Date;
}

export interface ImportReport {
  rows: number;
  /** Rows written (created or updated), by kind. */
  imported: {
    managementGroups: number;
    subscriptions: number;
    resourceGroups: number;
    virtualMachines: number;
    vmExtensions: number;
    arcMachines: number;
    arcExtensions: number;
  };
  /** Containers no row described but rows implied, created because the database lacked them. */
  created: { managementGroups: number; subscriptions: number; resourceGroups: number };
  skipped: { type: string; reason: string; count: number }[];
  warnings: string[];
}

export class ImportError extends Error {}

const TYPES = {
  managementGroup: 'microsoft.management/managementgroups',
  subscription: 'microsoft.resources/subscriptions',
  resourceGroup: 'microsoft.resources/subscriptions/resourcegroups',
  /** The ARM spelling, as `{"value":[…]}` lists carry it. */
  resourceGroupArm: 'microsoft.resources/resourcegroups',
  virtualMachine: 'microsoft.compute/virtualmachines',
  vmExtension: 'microsoft.compute/virtualmachines/extensions',
  arcMachine: 'microsoft.hybridcompute/machines',
  arcExtension: 'microsoft.hybridcompute/machines/extensions',
} as const;

const POWER_STATES: readonly PowerState[] = [
  'running',
  'stopped',
  'deallocated',
  'starting',
  'stopping',
  'deallocating',
];
const ARC_STATUSES: readonly ArcStatus[] = ['Connected', 'Disconnected', 'Error', 'Expired'];

/** Parses the text of an export into rows, or throws an `ImportError` that says what is wrong. */
export function parseResourceGraphExport(text: string, source = 'the export'): ResourceGraphRow[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const hint = /^\s*[[{]/.test(text)
      ? ''
      : ' (export JSON: `az graph query -q "Resources | …" --first 1000 -o json`; CSV is not read)';
    throw new ImportError(`${source} is not valid JSON: ${(error as Error).message}${hint}`);
  }
  const rows = rowsOf(document);
  if (!rows) {
    throw new ImportError(
      `${source} is not a Resource Graph export: expected a JSON array of rows, {"data":[…]}, {"data":{"columns","rows"}} or {"value":[…]}`,
    );
  }
  return rows.map((row, index) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw new ImportError(`${source}: row ${index + 1} is not an object`);
    const { id, type } = row as Record<string, unknown>;
    if (typeof id !== 'string' || id.length === 0)
      throw new ImportError(`${source}: row ${index + 1} has no "id"`);
    if (typeof type !== 'string' || type.length === 0)
      throw new ImportError(`${source}: row ${index + 1} (${id}) has no "type"`);
    return row as ResourceGraphRow;
  });
}

function rowsOf(document: unknown): unknown[] | undefined {
  if (Array.isArray(document)) return document;
  if (typeof document !== 'object' || document === null) return undefined;
  const { data, value } = document as { data?: unknown; value?: unknown };
  if (Array.isArray(data)) return data;
  if (Array.isArray(value)) return value;
  if (typeof data === 'object' && data !== null) {
    const { columns, rows } = data as { columns?: unknown; rows?: unknown };
    if (Array.isArray(columns) && Array.isArray(rows)) {
      const names = columns.map((column) => String((column as { name?: unknown }).name));
      return rows.map((cells) =>
        Array.isArray(cells) ? Object.fromEntries(names.map((name, k) => [name, cells[k]])) : cells,
      );
    }
  }
  return undefined;
}

interface GroupPlan {
  name: string;
  displayName: string;
  parentName: string;
  fromRow: boolean;
}

interface SubscriptionPlan {
  subscriptionId: string;
  displayName?: string;
  state?: string;
  policies?: ArmBody;
  tags?: Record<string, string>;
  /** The group it sits under, when a row says so. */
  groupName?: string;
  fromRow: boolean;
}

interface ResourceGroupPlan {
  subscriptionId: string;
  name: string;
  location?: string;
  row?: ResourceGraphRow;
}

interface Plan {
  groups: Map<string, GroupPlan>;
  subscriptions: Map<string, SubscriptionPlan>;
  resourceGroups: Map<string, ResourceGroupPlan>;
  machines: StoredResource[];
  /** Extensions with the key of the machine they hang off. */
  extensions: { record: StoredResource; machineKey: string; type: string }[];
  report: ImportReport;
}

/** Writes the rows into the store in one transaction; see the module comment for the rules. */
export async function importResourceGraphExport(
  db: Db,
  rows: ResourceGraphRow[],
  options: ImportOptions,
): Promise<ImportReport> {
  const plan = planImport(rows, options);
  await db.transaction().execute((tx) => writePlan(tx, plan, options));
  return plan.report;
}

function planImport(rows: ResourceGraphRow[], options: ImportOptions): Plan {
  const now = options.now.toISOString();
  const report: ImportReport = {
    rows: rows.length,
    imported: {
      managementGroups: 0,
      subscriptions: 0,
      resourceGroups: 0,
      virtualMachines: 0,
      vmExtensions: 0,
      arcMachines: 0,
      arcExtensions: 0,
    },
    created: { managementGroups: 0, subscriptions: 0, resourceGroups: 0 },
    skipped: [],
    warnings: [],
  };
  const plan: Plan = {
    groups: new Map(),
    subscriptions: new Map(),
    resourceGroups: new Map(),
    machines: [],
    extensions: [],
    report,
  };
  // The source tenant's root group is named after its tenant id; it becomes this tenant's root.
  const sourceTenants = new Set(rows.map((row) => row.tenantId?.toLowerCase()).filter(Boolean));
  const groupName = (name: string) => (sourceTenants.has(name.toLowerCase()) ? options.tenantId : name);
  const skipped = new Map<string, { type: string; reason: string; count: number }>();
  const skip = (type: string, reason: string) => {
    const entry = skipped.get(`${type}\n${reason}`) ?? { type, reason, count: 0 };
    entry.count++;
    skipped.set(`${type}\n${reason}`, entry);
  };

  const addChain = (chain: unknown): string | undefined => {
    if (!Array.isArray(chain) || chain.length === 0) return undefined;
    const links = chain.map((link) => ({
      name: groupName(String((link as ArmBody).name)),
      displayName: String((link as ArmBody).displayName ?? (link as ArmBody).name),
    }));
    links.forEach((link, k) => {
      if (link.name === options.tenantId || plan.groups.has(link.name.toLowerCase())) return;
      plan.groups.set(link.name.toLowerCase(), {
        name: link.name,
        displayName: link.displayName,
        parentName: links[k + 1]?.name ?? options.tenantId,
        fromRow: false,
      });
    });
    return links[0]!.name;
  };
  const ensureSubscription = (subscriptionId: string) => {
    if (!plan.subscriptions.has(subscriptionId))
      plan.subscriptions.set(subscriptionId, { subscriptionId, fromRow: false });
  };
  const ensureResourceGroup = (subscriptionId: string, name: string, location: string | undefined) => {
    ensureSubscription(subscriptionId);
    const key = resourceGroupKey(subscriptionId, name);
    const known = plan.resourceGroups.get(key);
    if (!known) plan.resourceGroups.set(key, { subscriptionId, name, location });
    else known.location ??= location;
  };

  rows.forEach((row, index) => {
    const where = `row ${index + 1} (${row.id})`;
    const type = row.type.toLowerCase();
    const properties = (row.properties ?? {}) as ArmBody;
    switch (type) {
      case TYPES.managementGroup: {
        const name = idShape(
          row.id,
          ['providers', 'microsoft.management', 'managementgroups', '*'],
          where,
        )[3]!;
        if (groupName(name) === options.tenantId) return;
        const details = (properties.details ?? {}) as ArmBody;
        const chainParent = addChain(
          details.managementGroupAncestorsChain ?? properties.managementGroupAncestorsChain,
        );
        const parentName = details.parent?.name
          ? groupName(String(details.parent.name))
          : (chainParent ?? options.tenantId);
        plan.groups.set(name.toLowerCase(), {
          name,
          displayName: String(properties.displayName ?? row.name ?? name),
          parentName,
          fromRow: true,
        });
        return;
      }
      case TYPES.subscription: {
        const subscriptionId = subscriptionOf(idShape(row.id, ['subscriptions', '*'], where), where);
        const chainParent = addChain(properties.managementGroupAncestorsChain);
        plan.subscriptions.set(subscriptionId, {
          subscriptionId,
          displayName: row.name ?? plan.subscriptions.get(subscriptionId)?.displayName,
          state: typeof properties.state === 'string' ? properties.state : undefined,
          policies: properties.subscriptionPolicies,
          tags: row.tags ?? undefined,
          groupName: chainParent,
          fromRow: true,
        });
        return;
      }
      case TYPES.resourceGroup:
      case TYPES.resourceGroupArm: {
        const segments = idShape(row.id, ['subscriptions', '*', 'resourcegroups', '*'], where);
        const subscriptionId = subscriptionOf(segments, where);
        ensureSubscription(subscriptionId);
        plan.resourceGroups.set(resourceGroupKey(subscriptionId, segments[3]!), {
          subscriptionId,
          name: segments[3]!,
          location: row.location,
          row,
        });
        return;
      }
      case TYPES.virtualMachine:
      case TYPES.arcMachine: {
        const vm = type === TYPES.virtualMachine;
        const segments = idShape(row.id, machineShape(vm), where);
        const subscriptionId = subscriptionOf(segments, where);
        const location = required(row.location, 'location', where);
        ensureResourceGroup(subscriptionId, segments[3]!, location);
        const shape = { subscriptionId, resourceGroup: segments[3]!, name: segments[7]!, location, now };
        const record = vm
          ? virtualMachineFromRow(row, shape, report.warnings, where)
          : arcMachineFromRow(row, shape);
        plan.machines.push(record);
        if (vm) report.imported.virtualMachines++;
        else report.imported.arcMachines++;
        return;
      }
      case TYPES.vmExtension:
      case TYPES.arcExtension: {
        const vm = type === TYPES.vmExtension;
        const segments = idShape(row.id, [...machineShape(vm), 'extensions', '*'], where);
        const subscriptionId = subscriptionOf(segments, where);
        const machineId = `/${segments.slice(0, 8).join('/')}`;
        const spec = {
          machineId,
          subscriptionId,
          resourceGroup: segments[3]!,
          name: segments[9]!,
          location: required(row.location, 'location', where),
          publisher: required(properties.publisher, 'properties.publisher', where),
          type: required(properties.type, 'properties.type', where),
          typeHandlerVersion: String(properties.typeHandlerVersion ?? ''),
          settings: properties.settings ?? undefined,
          now,
        };
        const record = vm
          ? vmExtensionRecord({ ...spec, provisioningState: properties.provisioningState })
          : arcExtensionRecord(spec);
        overlay(record, row);
        plan.extensions.push({ record, machineKey: keyOf(machineId), type: row.type });
        return;
      }
      default:
        skip(row.type, 'not a type vaplane imports');
    }
  });
  report.skipped = [...skipped.values()];
  return plan;
}

async function writePlan(db: Db, plan: Plan, options: ImportOptions): Promise<void> {
  const now = options.now.toISOString();
  const { report } = plan;
  const existing = await existingKeys(db, [
    ...[...plan.groups.values()].flatMap((group) => [
      keyOf(managementGroupId(group.name)),
      keyOf(managementGroupId(group.parentName)),
    ]),
    ...[...plan.subscriptions.keys()].map((subscriptionId) => `/subscriptions/${subscriptionId}`),
    ...plan.resourceGroups.keys(),
    ...plan.extensions.map((extension) => extension.machineKey),
  ]);

  for (const group of plan.groups.values()) {
    const key = keyOf(managementGroupId(group.name));
    if (!group.fromRow && existing.has(key)) continue;
    let parentName = group.parentName;
    if (
      parentName !== options.tenantId &&
      !plan.groups.has(parentName.toLowerCase()) &&
      !existing.has(keyOf(managementGroupId(parentName)))
    ) {
      report.warnings.push(
        `management group '${group.name}': its parent '${parentName}' is neither in the export nor in the database; placed under the tenant root group`,
      );
      parentName = options.tenantId;
    }
    const parentDisplayName = plan.groups.get(parentName.toLowerCase())?.displayName;
    const body = managementGroupBody({
      name: group.name,
      displayName: group.displayName,
      tenantId: options.tenantId,
      parentId: managementGroupId(parentName),
      parentDisplayName: parentName === options.tenantId ? 'Tenant Root Group' : parentDisplayName,
      updatedBy: 'vaplane import',
      updatedTime: now,
    });
    await putResource(db, managementGroupRecord(body, now));
    if (group.fromRow) report.imported.managementGroups++;
    else report.created.managementGroups++;
  }

  for (const subscription of plan.subscriptions.values()) {
    const key = `/subscriptions/${subscription.subscriptionId}`;
    const known = existing.has(key);
    if (!subscription.fromRow && known) continue;
    const displayName = subscription.displayName ?? `subscription ${subscription.subscriptionId.slice(0, 8)}`;
    const body = subscriptionBody({
      subscriptionId: subscription.subscriptionId,
      tenantId: options.tenantId,
      displayName,
      tags: subscription.tags,
    });
    if (
      subscription.state &&
      ['Enabled', 'Disabled', 'Warned', 'PastDue', 'Deleted'].includes(subscription.state)
    )
      body.state = subscription.state as typeof body.state;
    if (subscription.policies)
      body.subscriptionPolicies = { ...body.subscriptionPolicies, ...subscription.policies };
    await putResource(db, subscriptionRecord(body, now));
    if (subscription.fromRow) report.imported.subscriptions++;
    else report.created.subscriptions++;
    // A subscription sits under exactly one group: the one a row names, else the root for a new one.
    const groupName = subscription.groupName ?? (known ? undefined : options.tenantId);
    if (groupName) {
      const link = groupSubscriptionRecord({
        group: groupName,
        subscriptionId: subscription.subscriptionId,
        displayName,
        tenantId: options.tenantId,
        state: body.state,
        now,
      });
      const links = await db
        .selectFrom('resources')
        .select('key')
        .where('type', '=', GROUP_SUBSCRIPTION_TYPE)
        .where('name', '=', subscription.subscriptionId)
        .execute();
      for (const other of links) if (other.key !== link.key) await deleteResource(db, other.key);
      await putResource(db, link);
    }
  }

  for (const [key, group] of plan.resourceGroups) {
    if (!group.row && existing.has(key)) continue;
    const record = resourceGroupRecord({
      subscriptionId: group.subscriptionId,
      name: group.name,
      location: group.location ?? 'eastus',
      tags: group.row?.tags ?? undefined,
      now,
    });
    if (group.row) {
      if (group.row.managedBy) record.body.managedBy = group.row.managedBy;
      record.body.properties = { ...record.body.properties, ...(group.row.properties ?? {}) };
      report.imported.resourceGroups++;
    } else {
      report.created.resourceGroups++;
    }
    await putResource(db, record);
  }

  for (const machine of plan.machines) await putResource(db, machine);

  const machineKeys = new Set(plan.machines.map((machine) => machine.key));
  const orphans = new Map<string, number>();
  for (const extension of plan.extensions) {
    if (!machineKeys.has(extension.machineKey) && !existing.has(extension.machineKey)) {
      orphans.set(extension.type, (orphans.get(extension.type) ?? 0) + 1);
      continue;
    }
    await putResource(db, extension.record);
    if (extension.record.type.startsWith('microsoft.compute/')) report.imported.vmExtensions++;
    else report.imported.arcExtensions++;
  }
  for (const [type, count] of orphans)
    report.skipped.push({ type, reason: 'its machine is neither in the export nor in the database', count });
}

/** Which of these keys the store holds, read in chunks (both engines cap bound parameters). */
async function existingKeys(db: Db, keys: string[]): Promise<Set<string>> {
  const unique = [...new Set(keys)];
  const found = new Set<string>();
  for (let start = 0; start < unique.length; start += 1000) {
    for (const resource of await getResources(db, unique.slice(start, start + 1000))) found.add(resource.key);
  }
  return found;
}

function resourceGroupKey(subscriptionId: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourcegroups/${name.toLowerCase()}`;
}

function machineShape(vm: boolean): string[] {
  return vm
    ? ['subscriptions', '*', 'resourcegroups', '*', 'providers', 'microsoft.compute', 'virtualmachines', '*']
    : ['subscriptions', '*', 'resourcegroups', '*', 'providers', 'microsoft.hybridcompute', 'machines', '*'];
}

/** The id's segments when it has exactly this shape (`*` for a name), else an `ImportError`. */
function idShape(id: string, shape: string[], where: string): string[] {
  const segments = id.split('/').filter((segment) => segment.length > 0);
  const fits =
    segments.length === shape.length &&
    shape.every((part, k) => part === '*' || segments[k]!.toLowerCase() === part);
  if (!fits) throw new ImportError(`${where}: the id does not have the form /${shape.join('/')}`);
  return segments;
}

function subscriptionOf(segments: string[], where: string): string {
  if (!isGuid(segments[1]!)) throw new ImportError(`${where}: '${segments[1]}' is not a subscription id`);
  return segments[1]!.toLowerCase();
}

function required(value: unknown, field: string, where: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new ImportError(`${where}: "${field}" is missing`);
  return value;
}

interface MachineShape {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  now: string;
}

function virtualMachineFromRow(
  row: ResourceGraphRow,
  shape: MachineShape,
  warnings: string[],
  where: string,
): StoredResource {
  const properties = (row.properties ?? {}) as ArmBody;
  const { extended, ...given } = properties;
  const argView = (extended?.instanceView ?? {}) as ArmBody;
  const powerCode = argView.powerState?.code as string | undefined;
  let powerState: PowerState = 'running';
  if (powerCode) {
    const state = powerCode.replace(/^PowerState\//i, '').toLowerCase() as PowerState;
    if (POWER_STATES.includes(state)) powerState = state;
    else warnings.push(`${where}: power state '${powerCode}' is not one vaplane knows; stored as running`);
  }
  const osDisk = given.storageProfile?.osDisk as ArmBody | undefined;
  const windows =
    String(osDisk?.osType ?? '').toLowerCase() === 'windows' ||
    given.osProfile?.windowsConfiguration !== undefined;
  const image = (given.storageProfile?.imageReference ?? {}) as ArmBody;
  const record = virtualMachineRecord({
    ...shape,
    osType: windows ? 'Windows' : 'Linux',
    image: {
      publisher: String(image.publisher ?? ''),
      offer: String(image.offer ?? ''),
      sku: String(image.sku ?? ''),
    },
    vmSize: given.hardwareProfile?.vmSize,
    powerState,
    tags: row.tags ?? undefined,
    vmId: typeof given.vmId === 'string' ? given.vmId : undefined,
  });
  const { powerState: _power, ...argViewRest } = argView;
  const view = instanceView(powerState, shape.now);
  overlay(record, { ...row, properties: given });
  record.body.properties.instanceView = { ...argViewRest, statuses: view.statuses };
  return record;
}

function arcMachineFromRow(row: ResourceGraphRow, shape: MachineShape): StoredResource {
  const properties = (row.properties ?? {}) as ArmBody;
  const osType =
    String(properties.osType ?? properties.osName ?? '').toLowerCase() === 'windows' ? 'windows' : 'linux';
  const provider = row.kind || properties.cloudMetadata?.provider;
  const record = arcMachineRecord({
    ...shape,
    osType,
    osName: properties.osName,
    osSku: properties.osSku,
    osVersion: properties.osVersion,
    status: ARC_STATUSES.includes(properties.status) ? properties.status : 'Connected',
    tags: row.tags ?? undefined,
    cloudProvider: typeof provider === 'string' && provider.length > 0 ? provider : undefined,
  });
  overlay(record, row);
  return record;
}

/** The row's properties over the builder's, and the row's top-level fields where it has them. */
function overlay(record: StoredResource, row: ResourceGraphRow): void {
  const body = record.body;
  body.properties = { ...body.properties, ...(row.properties ?? {}) };
  if (row.tags) body.tags = row.tags;
  for (const field of ['identity', 'zones', 'plan', 'extendedLocation', 'managedBy', 'sku'] as const) {
    const value = row[field];
    if (value !== null && value !== undefined && value !== '') body[field] = value;
  }
}
