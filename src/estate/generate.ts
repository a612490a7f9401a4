/**
 * A deterministic legacy estate from a seed: a management-group hierarchy, subscriptions, resource
 * groups, Azure VMs and Arc machines with the extensions a tenant that ran the built-in Qualys scanner
 * carries. The same seed gives the same ids.
 *
 * One function per concern (hierarchy, subscriptions, resource groups, machines, extensions, and
 * the Defender side in defender.ts), each drawing from its own random stream per subscription, so a
 * concern added later does not move what the others produce. Rows stream through batches of one
 * transaction each: memory stays bounded however large the estate.
 */
import { type PowerState, virtualMachineRecord, vmExtensionRecord } from '../providers/compute/model.js';
import { type ArcStatus, arcExtensionRecord, arcMachineRecord } from '../providers/hybridcompute/model.js';
import {
  groupSubscriptionRecord,
  managementGroupBody,
  managementGroupId,
  managementGroupRecord,
} from '../providers/management/index.js';
import { resourceGroupRecord, subscriptionBody, subscriptionRecord } from '../providers/resources/index.js';
import {
  type ArmBody,
  type Db,
  getResource,
  insertResources,
  putResource,
  type StoredResource,
} from '../store/index.js';
import {
  ANTIMALWARE,
  AZURE_MONITOR_AGENT,
  BUSINESS_UNITS,
  type BusinessUnit,
  CHILD_GROUPS,
  COMPANIES,
  DEFENDER_FOR_ENDPOINT,
  type ExtensionKind,
  LEGACY_QUALYS,
  OPERATING_SYSTEMS,
  type OperatingSystem,
  REGIONS,
  ROLES,
  SITES,
  UNUSUAL_QUALYS_NAMES,
  VM_SIZES,
} from './catalogue.js';
import {
  discoveringConnector,
  groupDefenderResources,
  machineDefenderResources,
  planDefenderEstate,
  type SubscriptionDefender,
  subscriptionDefender,
  subscriptionDefenderResources,
} from './defender.js';
import { chance, guid, integer, normal, pick, type Random, shuffled, streamFor, weighted } from './random.js';

export interface EstateOptions {
  subscriptions: number;
  machines: number;
  seed: number;
  /** Share of machines that carry the legacy Qualys extension, 0–1 (default 0.45). */
  qualysShare?: number;
  /**
   * Every subscription can finish the transition (default false): no Free plan (a drawn Free becomes
   * Plan 2; the BYOL showcase keeps its partner and no plan), no subscription that keeps MDE off Linux,
   * every connector deploying MDE to its machines, every Arc machine Connected. The same draws are made, so ids, machines and extensions are the
   * estate's without the option. For end-to-end runs whose `verify` must be able to reach complete.
   */
  transitionReady?: boolean;
  tenantId: string;
  now: Date;
}

export interface EstateCounts {
  /** Groups the generator wrote below the tenant root group. */
  managementGroups: number;
  subscriptions: number;
  resourceGroups: number;
  virtualMachines: number;
  arcMachines: number;
  /** VM and Arc extensions of every kind, Qualys included. */
  extensions: number;
  qualysExtensions: number;
}

/**
 * The estate `vaplane serve` seeds into an empty database. Its seed is one whose 60 machines come out
 * close to the default shares and show every trait (deallocated, stopped, Disconnected, renamed Qualys);
 * the Defender side's showcase postures (defender.ts) give it every coverage situation.
 */
export const demoEstate = { subscriptions: 6, machines: 60, seed: 34 } as const;

export const DEFAULT_QUALYS_SHARE = 0.45;

/** Rough shares of the estate's traits, drawn independently per machine or subscription. */
const SHARES = {
  arcMachine: 0.2,
  deallocatedVm: 0.1,
  stoppedVm: 0.03,
  disconnectedArc: 0.06,
  expiredArc: 0.01,
  unusualQualysName: 0.1,
  failedQualysInstall: 0.03,
  defenderWithoutQualys: 0.65,
  defenderBesideQualys: 0.15,
  azureMonitor: 0.55,
  antimalwareOnWindowsVm: 0.2,
  /** Names in upper case, as older naming conventions wrote them (exercises case-insensitive ARM). */
  legacyCasing: 0.15,
  resourceGroupInSecondRegion: 0.2,
  sandboxGroup: 0.5,
} as const;

/** Where a subscription lands in the hierarchy (the rest go to a business unit's child groups). */
const PLACEMENT = { underRoot: 0.04, underBusinessUnit: 0.1 } as const;

const RESOURCE_GROUPS_PER_SUBSCRIPTION = [
  { count: 1, weight: 15 },
  { count: 2, weight: 25 },
  { count: 3, weight: 25 },
  { count: 4, weight: 15 },
  { count: 5, weight: 10 },
  { count: 6, weight: 10 },
] as const;

/** Built-in Qualys could not be onboarded after its retirement: Qualys machines are older than this. */
const QUALYS_RETIREMENT = Date.parse('2024-05-01T00:00:00Z');
const DAY_MS = 86_400_000;

/** Rows per transaction: large enough that commits are rare, small enough to keep memory flat. */
const BATCH_ROWS = 10_000;

interface GroupPlan {
  name: string;
  displayName: string;
  parentName: string;
  parentDisplayName: string;
}

interface Placement {
  group: string;
  businessUnit: BusinessUnit;
  environments: readonly string[];
}

interface Hierarchy {
  company: string;
  groups: GroupPlan[];
  /** Child groups, which hold most subscriptions. */
  leaves: Placement[];
  businessUnits: Placement[];
  root: Placement;
}

interface SubscriptionPlan {
  index: number;
  subscriptionId: string;
  displayName: string;
  group: string;
  businessUnit: BusinessUnit;
  environment: string;
  region: (typeof REGIONS)[number];
  machines: number;
}

interface ResourceGroupPlan {
  name: string;
  location: string;
  workload: string;
  forArc: boolean;
}

interface MachinePlan {
  record: StoredResource;
  kind: 'vm' | 'arc';
  os: OperatingSystem;
  location: string;
  resourceGroup: string;
  hasQualys: boolean;
  createdAt: string;
}

interface Context {
  options: Required<EstateOptions>;
  now: string;
  counts: EstateCounts;
}

export async function generateEstate(db: Db, options: EstateOptions): Promise<EstateCounts> {
  const settled = settleOptions(options);
  const context: Context = {
    options: settled,
    now: settled.now.toISOString(),
    counts: {
      managementGroups: 0,
      subscriptions: 0,
      resourceGroups: 0,
      virtualMachines: 0,
      arcMachines: 0,
      extensions: 0,
      qualysExtensions: 0,
    },
  };
  const hierarchy = planHierarchy(settled);
  if (settled.subscriptions > 0) {
    const first = subscriptionPlan(context, hierarchy, 0, 0);
    if (await getResource(db, `/subscriptions/${first.subscriptionId}`)) {
      throw new Error(
        `the database already holds the estate of seed ${settled.seed} (subscription ${first.subscriptionId}): use another --seed or a new database`,
      );
    }
  }
  // Groups are few and may already exist (the same company from another seed): written as upserts.
  await db.transaction().execute(async (tx) => {
    for (const group of hierarchy.groups) await putResource(tx, managementGroupRecordFor(context, group));
  });
  context.counts.managementGroups = hierarchy.groups.length;
  await writeInBatches(db, estateResources(context, hierarchy));
  return context.counts;
}

function settleOptions(options: EstateOptions): Required<EstateOptions> {
  const qualysShare = options.qualysShare ?? DEFAULT_QUALYS_SHARE;
  for (const [name, value] of [
    ['subscriptions', options.subscriptions],
    ['machines', options.machines],
    ['seed', options.seed],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number ≥ 0`);
  }
  if (!(qualysShare >= 0 && qualysShare <= 1)) throw new Error('the Qualys share must be between 0 and 1');
  if (options.machines > 0 && options.subscriptions === 0)
    throw new Error('machines need at least one subscription');
  if (Number.isNaN(options.now.getTime())) throw new Error('now must be a valid date');
  return { ...options, qualysShare, transitionReady: options.transitionReady ?? false };
}

/**
 * Inserts in key order (subscriptions in id order, each batch sorted): SQLite then appends to its
 * key-ordered indexes instead of splitting pages all over them, which keeps the file dense and the
 * inserts fast.
 */
async function writeInBatches(db: Db, resources: Iterable<StoredResource>): Promise<void> {
  let batch: StoredResource[] = [];
  const flush = async () => {
    const rows = batch.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    batch = [];
    await db.transaction().execute((tx) => insertResources(tx, rows));
  };
  for (const resource of resources) {
    batch.push(resource);
    if (batch.length >= BATCH_ROWS) await flush();
  }
  if (batch.length > 0) await flush();
}

function* estateResources(context: Context, hierarchy: Hierarchy): Generator<StoredResource> {
  const machineCounts = spreadMachines(context.options);
  const defenderEstate = planDefenderEstate(
    context.options.seed,
    Array.from(machineCounts, (machines, index) => ({
      machines,
      arcMachines: arcMachineCount(context, { index, machines }),
    })),
    { transitionReady: context.options.transitionReady },
  );
  for (const index of subscriptionsInKeyOrder(context.options)) {
    const plan = subscriptionPlan(context, hierarchy, index, machineCounts[index]!);
    yield* subscriptionResources(context, plan);
    const groups = resourceGroupsFor(context, plan);
    const defender = subscriptionDefender(
      defenderEstate,
      {
        index,
        subscriptionId: plan.subscriptionId,
        environment: plan.environment,
        businessUnit: plan.businessUnit.name,
        location: plan.region.location,
        groups,
      },
      context.options.now,
    );
    yield* subscriptionDefenderResources(defender);
    for (const group of groups) {
      context.counts.resourceGroups++;
      yield resourceGroupRecordFor(context, plan, group);
    }
    yield* groupDefenderResources(defender);
    const extensionRandom = streamFor(context.options.seed, 'extensions', index);
    for (const machine of machinesFor(context, plan, groups, defender)) {
      yield machine.record;
      yield* extensionsFor(context, plan, machine, extensionRandom);
      yield* machineDefenderResources(defender, { ...machine, osType: machine.os.osType }, context.counts);
    }
  }
}

// ── Hierarchy ────────────────────────────────────────────────────────────────────────────────────

/** Tenant root → 2–4 business units → production, non-production and (for some) sandbox groups. */
function planHierarchy(options: Required<EstateOptions>): Hierarchy {
  const random = streamFor(options.seed, 'hierarchy');
  const company = pick(random, COMPANIES);
  const units = shuffled(random, BUSINESS_UNITS).slice(0, integer(random, 2, 4));
  const rootName = options.tenantId;
  const rootDisplayName = 'Tenant Root Group';
  const groups: GroupPlan[] = [];
  const leaves: Placement[] = [];
  const businessUnits: Placement[] = [];
  for (const unit of units) {
    const unitGroup = `${company}-${unit.name}`;
    groups.push({
      name: unitGroup,
      displayName: unit.displayName,
      parentName: rootName,
      parentDisplayName: rootDisplayName,
    });
    businessUnits.push({ group: unitGroup, businessUnit: unit, environments: ['shared'] });
    for (const child of CHILD_GROUPS) {
      if (child.suffix === 'sandbox' && !chance(random, SHARES.sandboxGroup)) continue;
      const childGroup = `${unitGroup}-${child.suffix}`;
      groups.push({
        name: childGroup,
        displayName: `${unit.displayName} ${child.displayName}`,
        parentName: unitGroup,
        parentDisplayName: unit.displayName,
      });
      leaves.push({ group: childGroup, businessUnit: unit, environments: child.environments });
    }
  }
  const root = { group: rootName, businessUnit: units[0]!, environments: ['legacy'] };
  return { company, groups, leaves, businessUnits, root };
}

function managementGroupRecordFor(context: Context, group: GroupPlan): StoredResource {
  const body = managementGroupBody({
    name: group.name,
    displayName: group.displayName,
    tenantId: context.options.tenantId,
    parentId: managementGroupId(group.parentName),
    parentDisplayName: group.parentDisplayName,
    updatedBy: 'vaplane',
    updatedTime: context.now,
  });
  return managementGroupRecord(body, context.now);
}

// ── Subscriptions ────────────────────────────────────────────────────────────────────────────────

/**
 * Machines per subscription, heavy-tailed as real estates are (a few large production subscriptions,
 * many small ones, some empty): log-normal weights, rounded cumulatively so the counts sum exactly.
 */
function spreadMachines(options: Required<EstateOptions>): Uint32Array {
  const counts = new Uint32Array(options.subscriptions);
  if (options.subscriptions === 0) return counts;
  const random = streamFor(options.seed, 'spread');
  const weights = new Float64Array(options.subscriptions);
  let total = 0;
  for (let index = 0; index < weights.length; index++) {
    weights[index] = Math.exp(1.1 * normal(random));
    total += weights[index]!;
  }
  let cumulative = 0;
  let assigned = 0;
  for (let index = 0; index < weights.length; index++) {
    cumulative += weights[index]!;
    const upTo = Math.round((options.machines * cumulative) / total);
    counts[index] = upTo - assigned;
    assigned = upTo;
  }
  return counts;
}

function subscriptionIdAt(options: Required<EstateOptions>, index: number): string {
  return guid(streamFor(options.seed, 'subscription', index));
}

function subscriptionsInKeyOrder(options: Required<EstateOptions>): number[] {
  const ids = Array.from({ length: options.subscriptions }, (_, index) => subscriptionIdAt(options, index));
  return ids.map((_, index) => index).sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
}

function subscriptionPlan(
  context: Context,
  hierarchy: Hierarchy,
  index: number,
  machines: number,
): SubscriptionPlan {
  const random = streamFor(context.options.seed, 'subscription', index);
  // The stream's first draw is the id (subscriptionIdAt).
  const subscriptionId = guid(random);
  const placementDraw = random.next();
  const placement =
    placementDraw < PLACEMENT.underRoot
      ? hierarchy.root
      : placementDraw < PLACEMENT.underRoot + PLACEMENT.underBusinessUnit
        ? pick(random, hierarchy.businessUnits)
        : pick(random, hierarchy.leaves);
  const environment = pick(random, placement.environments);
  const businessUnit =
    placement === hierarchy.root
      ? pick(random, hierarchy.businessUnits).businessUnit
      : placement.businessUnit;
  const serial = String(index + 1).padStart(Math.max(3, String(context.options.subscriptions).length), '0');
  return {
    index,
    subscriptionId,
    displayName: `${hierarchy.company}-${environment}-${businessUnit.name}-${serial}`,
    group: placement.group,
    businessUnit,
    environment,
    region: weighted(random, REGIONS),
    machines,
  };
}

function* subscriptionResources(context: Context, plan: SubscriptionPlan): Generator<StoredResource> {
  const body = subscriptionBody({
    subscriptionId: plan.subscriptionId,
    tenantId: context.options.tenantId,
    displayName: plan.displayName,
  });
  context.counts.subscriptions++;
  yield subscriptionRecord(body, context.now);
  yield groupSubscriptionRecord({
    group: plan.group,
    subscriptionId: plan.subscriptionId,
    displayName: plan.displayName,
    tenantId: context.options.tenantId,
    now: context.now,
  });
}

// ── Resource groups ──────────────────────────────────────────────────────────────────────────────

/** 1–6 groups named by workload, environment and region; Arc machines get the last one to themselves. */
function resourceGroupsFor(context: Context, plan: SubscriptionPlan): ResourceGroupPlan[] {
  const random = streamFor(context.options.seed, 'resourceGroups', plan.index);
  const count = weighted(random, RESOURCE_GROUPS_PER_SUBSCRIPTION).count;
  const arcMachines = arcMachineCount(context, plan);
  const groups: ResourceGroupPlan[] = [];
  const taken = new Set<string>();
  for (let k = 0; k < count; k++) {
    const forArc = arcMachines > 0 && count > 1 && k === count - 1;
    const region = chance(random, SHARES.resourceGroupInSecondRegion)
      ? weighted(random, REGIONS)
      : plan.region;
    const workload = pick(random, plan.businessUnit.workloads);
    let name = forArc
      ? `rg-arc-${pick(random, SITES)}-servers`
      : chance(random, SHARES.legacyCasing)
        ? `RG-${workload.toUpperCase()}-${plan.environment.toUpperCase()}`
        : `rg-${workload}-${plan.environment}-${region.short}`;
    if (taken.has(name.toLowerCase())) name = `${name}-${k + 1}`;
    taken.add(name.toLowerCase());
    groups.push({ name, location: region.location, workload, forArc });
  }
  return groups;
}

function resourceGroupRecordFor(
  context: Context,
  plan: SubscriptionPlan,
  group: ResourceGroupPlan,
): StoredResource {
  return resourceGroupRecord({
    subscriptionId: plan.subscriptionId,
    name: group.name,
    location: group.location,
    tags: {
      environment: plan.environment,
      costCenter: `CC-${plan.businessUnit.name.slice(0, 3).toUpperCase()}-${1000 + (plan.index % 9000)}`,
    },
    now: context.now,
  });
}

// ── Machines ─────────────────────────────────────────────────────────────────────────────────────

/** How many of a subscription's machines are Arc machines (drawn before the groups are named). */
function arcMachineCount(context: Context, plan: Pick<SubscriptionPlan, 'index' | 'machines'>): number {
  const random = streamFor(context.options.seed, 'machineKinds', plan.index);
  let arc = 0;
  for (let k = 0; k < plan.machines; k++) if (chance(random, SHARES.arcMachine)) arc++;
  return arc;
}

function* machinesFor(
  context: Context,
  plan: SubscriptionPlan,
  groups: ResourceGroupPlan[],
  defender: SubscriptionDefender,
): Generator<MachinePlan> {
  const arcMachines = arcMachineCount(context, plan);
  const random = streamFor(context.options.seed, 'machines', plan.index);
  const arcGroup = groups.find((group) => group.forArc);
  const vmGroups = groups.filter((group) => !group.forArc);
  const nowMs = context.options.now.getTime();
  for (let k = 0; k < plan.machines; k++) {
    const kind = k < arcMachines ? 'arc' : 'vm';
    const group = kind === 'arc' && arcGroup ? arcGroup : pick(random, vmGroups);
    const os = weighted(random, OPERATING_SYSTEMS);
    const hasQualys = chance(random, context.options.qualysShare);
    // Qualys machines were onboarded before the retirement; others at any time up to a month ago.
    const newest = (hasQualys ? Math.min(nowMs, QUALYS_RETIREMENT) : nowMs) - 30 * DAY_MS;
    const createdAt = new Date(newest - Math.floor(random.next() * 5 * 365 * DAY_MS)).toISOString();
    const role = pick(random, ROLES);
    const upperCase = os.osType === 'Windows' && chance(random, SHARES.legacyCasing * 2);
    const serial = String(k + 1).padStart(4, '0');
    const base = {
      kind,
      os,
      location: group.location,
      resourceGroup: group.name,
      hasQualys,
      createdAt,
    } as const;
    if (kind === 'vm') {
      context.counts.virtualMachines++;
      const name =
        os.osType === 'Windows'
          ? `${group.workload.slice(0, 4)}${role}${serial}`
          : `vm-${group.workload}-${role}-${serial}`;
      yield {
        ...base,
        record: virtualMachineRecord({
          subscriptionId: plan.subscriptionId,
          resourceGroup: group.name,
          name: upperCase ? name.toUpperCase() : name,
          location: group.location,
          osType: os.osType,
          image: os.image,
          vmSize: weighted(random, VM_SIZES).size,
          powerState: vmPowerState(random),
          tags: { environment: plan.environment, application: group.workload },
          vmId: guid(random),
          now: createdAt,
        }),
      };
    } else {
      context.counts.arcMachines++;
      const name = `${pick(random, SITES)}-${role}${serial}`;
      // A multicloud connector's machines are GCP or AWS instances projected into Arc.
      const discovered = discoveringConnector(defender);
      // Drawn either way, so that the option changes nothing else.
      const drawnStatus = arcStatus(random);
      const record = arcMachineRecord({
        subscriptionId: plan.subscriptionId,
        resourceGroup: group.name,
        name: upperCase ? name.toUpperCase() : name,
        location: group.location,
        osType: os.osType === 'Windows' ? 'windows' : 'linux',
        osName: os.osType === 'Windows' ? 'windows' : 'linux',
        osSku: os.arcSku,
        osVersion: os.arcVersion,
        status: context.options.transitionReady ? 'Connected' : drawnStatus,
        tags: { environment: plan.environment, ...discovered?.tags },
        cloudProvider: discovered?.cloud,
        now: createdAt,
      });
      // The builder draws these from the system's random source; the estate draws them from its seed.
      record.body.identity.principalId = guid(random);
      record.body.properties.vmUuid = guid(random);
      record.body.properties.vmId = guid(random);
      yield { ...base, record };
    }
  }
}

function vmPowerState(random: Random): PowerState {
  const draw = random.next();
  if (draw < SHARES.deallocatedVm) return 'deallocated';
  if (draw < SHARES.deallocatedVm + SHARES.stoppedVm) return 'stopped';
  return 'running';
}

function arcStatus(random: Random): ArcStatus {
  const draw = random.next();
  if (draw < SHARES.disconnectedArc) return 'Disconnected';
  if (draw < SHARES.disconnectedArc + SHARES.expiredArc) return 'Expired';
  return 'Connected';
}

// ── Extensions ───────────────────────────────────────────────────────────────────────────────────

/**
 * The legacy Qualys extension (some under other names), Defender for Endpoint mostly where Qualys is
 * absent, and ordinary agents, so that code looking for Qualys has to match publisher and type.
 */
function* extensionsFor(
  context: Context,
  plan: SubscriptionPlan,
  machine: MachinePlan,
  random: Random,
): Generator<StoredResource> {
  const osType = machine.os.osType;
  const extension = (
    kind: ExtensionKind,
    name: string,
    extra: { failed?: boolean; settings?: ArmBody } = {},
  ) => {
    context.counts.extensions++;
    const spec = {
      machineId: machine.record.id,
      subscriptionId: plan.subscriptionId,
      resourceGroup: machine.resourceGroup,
      name,
      location: machine.location,
      publisher: kind.publisher,
      type: kind.type,
      typeHandlerVersion: kind.typeHandlerVersion,
      settings: extra.settings,
      now: machine.createdAt,
    };
    return machine.kind === 'vm'
      ? vmExtensionRecord({ ...spec, provisioningState: extra.failed ? 'Failed' : 'Succeeded' })
      : arcExtensionRecord(spec);
  };
  if (machine.hasQualys) {
    context.counts.qualysExtensions++;
    const qualys = LEGACY_QUALYS[osType];
    const name = chance(random, SHARES.unusualQualysName) ? pick(random, UNUSUAL_QUALYS_NAMES) : qualys.type;
    yield extension(qualys, name, { failed: chance(random, SHARES.failedQualysInstall) });
  }
  if (chance(random, machine.hasQualys ? SHARES.defenderBesideQualys : SHARES.defenderWithoutQualys)) {
    const defender = DEFENDER_FOR_ENDPOINT[osType];
    yield extension(defender, defender.type, {
      settings: { azureResourceId: machine.record.id, forceReOnboarding: false, vNextEnabled: true },
    });
  }
  if (chance(random, SHARES.azureMonitor)) {
    const monitor = AZURE_MONITOR_AGENT[osType];
    yield extension(monitor, monitor.type);
  }
  if (machine.kind === 'vm' && osType === 'Windows' && chance(random, SHARES.antimalwareOnWindowsVm)) {
    yield extension(ANTIMALWARE, ANTIMALWARE.type, {
      settings: { AntimalwareEnabled: true, RealtimeProtectionEnabled: 'true' },
    });
  }
}
