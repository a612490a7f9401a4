/**
 * Discovery: everything the plan is computed from, read through the ARM client with list calls
 * wherever ARM has one (subscriptions, VMs with their power state, Arc machines, connectors, security
 * solutions) and per machine only what ARM lists per machine (its extensions and its legacy
 * `serverVulnerabilityAssessments`: neither Compute's nor HybridCompute's machine list carries
 * extensions with their publisher and type). Work is bounded at two levels — subscriptions, and
 * machines (across all subscriptions, and within each) — and the client paces the requests. The bound
 * within a subscription keeps a subscription whose bucket has run dry (ARM meters each one on its
 * own) from holding every machine slot while it waits, which would stall all the others.
 *
 * Bodies are read as plain JSON at the edge and reduced to the values the plan compares; nothing
 * here knows whether it talks to Azure or to vaplane.
 */
import { SECURITY_CONNECTOR_TAG } from '../coverage/index.js';
import type { ArmClient } from './client.js';
import { createLimiter, forEachLimited, type Limiter, nestedLimiter } from './concurrency.js';
import { ArmRequestError } from './errors.js';
import {
  type ArmRequest,
  getEndpointProtection,
  getManagementGroupChildren,
  getServersPricing,
  getVaSetting,
  listArcMachines,
  listLegacyVa,
  listMachineExtensions,
  listSecurityConnectors,
  listSecuritySolutions,
  listSubscriptions,
  listVirtualMachines,
} from './requests.js';

// ─── What discovery finds ────────────────────────────────────────────────────────────────────────

export interface DiscoveredExtension {
  id: string;
  name: string;
  publisher: string;
  type: string;
  /** Absent when ARM left it out (a settled extension). */
  provisioningState?: string;
}

export interface DiscoveredLegacyVa {
  id: string;
  /** `Default` (built-in Qualys) or `MdeTvm`, in the casing ARM answered. */
  name: string;
  provisioningState: string;
}

/** `running`, `deallocated`, `stopped`, the transitional states, or `unknown` when ARM gave none. */
export type PowerState = string;

export type DiscoveredMachine =
  | {
      kind: 'virtualMachine';
      id: string;
      name: string;
      powerState: PowerState;
      extensions: DiscoveredExtension[];
      legacyVa: DiscoveredLegacyVa[];
    }
  | {
      kind: 'arcMachine';
      id: string;
      name: string;
      /** `Connected`, `Disconnected`, `Error`, `Expired`. */
      status: string;
      /** Onboarded by a multicloud connector (tag `MDFCSecurityConnector`, §10.3): the connector governs it. */
      connectorOnboarded: boolean;
      extensions: DiscoveredExtension[];
      legacyVa: DiscoveredLegacyVa[];
    };

export interface DiscoveredConnector {
  id: string;
  name: string;
  etag: string | null;
  environmentName: string | null;
  /** The Defender for Servers offering (AWS or GCP), when the connector has one. */
  servers?: {
    offeringType: string;
    subPlan: string | null;
    vaAutoProvisioning: { enabled: boolean; type: string | null };
  };
}

export interface DiscoveredSolution {
  id: string;
  name: string;
  securityFamily: string;
  template: string;
  provisioningState: string | null;
}

export interface DiscoveredPricing {
  pricingTier: string;
  subPlan: string | null;
  enforce: string | null;
  extensions: { name: string; isEnabled: string }[];
}

export interface DiscoveredSubscription {
  subscriptionId: string;
  displayName: string;
  state: string;
  vaSetting: { selectedProvider: string; lastModifiedAt: string | null } | null;
  pricing: DiscoveredPricing;
  endpointProtection: { enabled: boolean };
  machines: DiscoveredMachine[];
  connectors: DiscoveredConnector[];
  solutions: DiscoveredSolution[];
}

/** A subscription in scope that could not be read (no access, disabled, an ARM error). */
export interface UnreadableSubscription {
  subscriptionId: string;
  displayName: string | null;
  reason: 'notVisible' | 'disabled' | 'readFailed';
  message: string;
}

export interface Discovery {
  endpoint: string;
  scopes: string[];
  subscriptions: DiscoveredSubscription[];
  unreadable: UnreadableSubscription[];
  /** Requests sent (first attempts; retries and paging of one list count once). */
  requests: number;
  durationMs: number;
}

export interface DiscoveryProgress {
  subscriptionsTotal: number;
  subscriptionsDone: number;
  machinesFound: number;
  machinesDone: number;
  requests: number;
}

export interface DiscoveryOptions {
  scopes: readonly Scope[];
  /** Subscriptions read at once (default 16). */
  subscriptionConcurrency?: number;
  /** Machines read at once across all subscriptions (default 64). */
  machineConcurrency?: number;
  /** Machines of one subscription read at once (default 16, at most `machineConcurrency`). */
  machinesPerSubscription?: number;
  onProgress?: (progress: DiscoveryProgress) => void;
  signal?: AbortSignal;
}

/**
 * The work bounds a command derives from its client's `--max-concurrency` (requests in flight):
 * subscriptions at once as many, machines four times as many, and one subscription's machines at
 * most as many as requests in flight.
 */
export function discoveryConcurrency(
  maxConcurrency: number,
): Pick<DiscoveryOptions, 'subscriptionConcurrency' | 'machineConcurrency' | 'machinesPerSubscription'> {
  return {
    subscriptionConcurrency: maxConcurrency,
    machineConcurrency: maxConcurrency * 4,
    machinesPerSubscription: maxConcurrency,
  };
}

// ─── Scopes ──────────────────────────────────────────────────────────────────────────────────────

export type Scope =
  | { kind: 'all' }
  | { kind: 'managementGroup'; name: string }
  | { kind: 'subscription'; subscriptionId: string };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GROUP_PATH = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)\/?$/i;
const SUBSCRIPTION_PATH = /^\/subscriptions\/([^/]+)\/?$/i;

/** Parses one `--scope` value; throws with the accepted forms when it is none of them. */
export function parseScope(value: string): Scope {
  const text = value.trim();
  if (text.toLowerCase() === 'all') return { kind: 'all' };
  const group = GROUP_PATH.exec(text)?.[1] ?? (/^mg:(.+)$/i.exec(text)?.[1] || undefined);
  if (group) return { kind: 'managementGroup', name: group };
  const subscription = SUBSCRIPTION_PATH.exec(text)?.[1] ?? text;
  if (GUID.test(subscription)) return { kind: 'subscription', subscriptionId: subscription.toLowerCase() };
  throw new Error(
    `'${value}' is not a scope: give 'all', a management group ('mg:NAME' or '/providers/Microsoft.Management/managementGroups/NAME') or a subscription id.`,
  );
}

export function describeScope(scope: Scope): string {
  switch (scope.kind) {
    case 'all':
      return 'all';
    case 'managementGroup':
      return `mg:${scope.name}`;
    case 'subscription':
      return scope.subscriptionId;
  }
}

// ─── Reading ─────────────────────────────────────────────────────────────────────────────────────

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const same = (left: string | null | undefined, right: string) =>
  typeof left === 'string' && left.toLowerCase() === right.toLowerCase();

function countingClient(client: ArmClient, onRequest: () => void) {
  return {
    async get<T>(request: ArmRequest, signal?: AbortSignal): Promise<T> {
      onRequest();
      const reply = await client.get<T>(request.path, request.apiVersion, {
        query: request.query,
        abortSignal: signal,
      });
      return reply.body;
    },
    /** The resource, or null when ARM answers 404. */
    async find<T>(request: ArmRequest, signal?: AbortSignal): Promise<T | null> {
      try {
        return await this.get<T>(request, signal);
      } catch (error) {
        if (error instanceof ArmRequestError && error.status === 404) return null;
        throw error;
      }
    },
    async list<T>(request: ArmRequest, signal?: AbortSignal): Promise<T[]> {
      onRequest();
      return client.listAll<T>(request.path, request.apiVersion, {
        query: request.query,
        abortSignal: signal,
      });
    },
  };
}

type Reader = ReturnType<typeof countingClient>;

/** The power state in a VM's instance view (`PowerState/running` → `running`). */
export function powerStateOfVm(body: unknown): PowerState {
  const statuses = isObject(body) && isObject(body.properties) ? body.properties.instanceView : undefined;
  const list = isObject(statuses) && Array.isArray(statuses.statuses) ? statuses.statuses : [];
  for (const status of list) {
    const code = isObject(status) ? text(status.code) : null;
    if (code?.toLowerCase().startsWith('powerstate/')) return code.slice('PowerState/'.length).toLowerCase();
  }
  return 'unknown';
}

export function arcStatusOf(body: unknown): string {
  return (isObject(body) && isObject(body.properties) && text(body.properties.status)) || 'Unknown';
}

function hasConnectorTag(body: unknown): boolean {
  const tags = isObject(body) && isObject(body.tags) ? body.tags : {};
  return Object.keys(tags).some((tag) => same(tag, SECURITY_CONNECTOR_TAG));
}

export function extensionOf(body: unknown): DiscoveredExtension | null {
  if (!isObject(body) || !isObject(body.properties)) return null;
  const id = text(body.id);
  const publisher = text(body.properties.publisher);
  const type = text(body.properties.type);
  if (!id || publisher === null || type === null) return null;
  const provisioningState = text(body.properties.provisioningState);
  return {
    id,
    name: text(body.name) ?? id.split('/').pop()!,
    publisher,
    type,
    ...(provisioningState ? { provisioningState } : {}),
  };
}

export function legacyVaOf(body: unknown): DiscoveredLegacyVa | null {
  if (!isObject(body)) return null;
  const id = text(body.id);
  if (!id) return null;
  const properties = isObject(body.properties) ? body.properties : {};
  return {
    id: id.startsWith('/') ? id : `/${id}`,
    name: text(body.name) ?? id.split('/').pop()!,
    provisioningState: text(properties.provisioningState) ?? 'Succeeded',
  };
}

export function pricingOf(body: unknown): DiscoveredPricing {
  const properties = isObject(body) && isObject(body.properties) ? body.properties : {};
  const extensions = Array.isArray(properties.extensions) ? properties.extensions : [];
  return {
    pricingTier: text(properties.pricingTier) ?? 'Free',
    subPlan: text(properties.subPlan),
    enforce: text(properties.enforce),
    extensions: extensions.flatMap((extension) => {
      if (!isObject(extension)) return [];
      const name = text(extension.name);
      const isEnabled = extension.isEnabled;
      if (!name) return [];
      return [
        {
          name,
          isEnabled: typeof isEnabled === 'boolean' ? String(isEnabled) : (text(isEnabled) ?? 'False'),
        },
      ];
    }),
  };
}

export function vaSettingOf(body: unknown): DiscoveredSubscription['vaSetting'] {
  if (!isObject(body)) return null;
  const properties = isObject(body.properties) ? body.properties : {};
  const selectedProvider = text(properties.selectedProvider);
  if (!selectedProvider) return null;
  const systemData = isObject(body.systemData) ? body.systemData : {};
  return { selectedProvider, lastModifiedAt: text(systemData.lastModifiedAt) };
}

const SERVERS_OFFERINGS = ['DefenderForServersAws', 'DefenderForServersGcp'];

/** The connector reduced to what the transition reads: its ETag and its Defender for Servers offering. */
export function connectorOf(body: unknown, etagHeader?: string): DiscoveredConnector | null {
  if (!isObject(body)) return null;
  const id = text(body.id);
  if (!id) return null;
  const properties = isObject(body.properties) ? body.properties : {};
  const offerings = Array.isArray(properties.offerings) ? properties.offerings : [];
  const offering = offerings.find(
    (candidate): candidate is Json =>
      isObject(candidate) && SERVERS_OFFERINGS.some((type) => same(text(candidate.offeringType), type)),
  );
  const connector: DiscoveredConnector = {
    id,
    name: text(body.name) ?? id.split('/').pop()!,
    etag: etagHeader ?? text(body.etag),
    environmentName: text(properties.environmentName),
  };
  if (offering) {
    const va = isObject(offering.vaAutoProvisioning) ? offering.vaAutoProvisioning : {};
    const configuration = isObject(va.configuration) ? va.configuration : {};
    const subPlan = offering.subPlan;
    connector.servers = {
      offeringType: text(offering.offeringType)!,
      // The spec's `{type}` object, or the plain string Microsoft's page sends (§15.1).
      subPlan: isObject(subPlan) ? text(subPlan.type) : text(subPlan),
      vaAutoProvisioning: { enabled: va.enabled === true, type: text(configuration.type) },
    };
  }
  return connector;
}

export function solutionOf(body: unknown): DiscoveredSolution | null {
  if (!isObject(body) || !isObject(body.properties)) return null;
  const id = text(body.id);
  if (!id) return null;
  return {
    id,
    name: text(body.name) ?? id.split('/').pop()!,
    securityFamily: text(body.properties.securityFamily) ?? '',
    template: text(body.properties.template) ?? '',
    provisioningState: text(body.properties.provisioningState),
  };
}

interface SubscriptionRef {
  subscriptionId: string;
  displayName: string | null;
}

/** Subscriptions below a management group: Azure's `$recurse=true` subtree where served, else group by group. */
async function subscriptionsOfGroup(reader: Reader, group: string, signal?: AbortSignal) {
  const found = new Map<string, SubscriptionRef>();
  const visited = new Set<string>();
  let pending = [group];
  while (pending.length > 0) {
    const next: string[] = [];
    const walk = (children: unknown) => {
      if (!Array.isArray(children)) return;
      for (const child of children) {
        if (!isObject(child)) continue;
        const type = text(child.type) ?? '';
        const name = text(child.name);
        if (!name) continue;
        if (/subscriptions$/i.test(type)) {
          found.set(name.toLowerCase(), {
            subscriptionId: name.toLowerCase(),
            displayName: text(child.displayName),
          });
        } else if (/managementGroups$/i.test(type) && !visited.has(name.toLowerCase())) {
          // `children` present (even null) means the server recursed; absent means read that group too.
          if ('children' in child) {
            visited.add(name.toLowerCase());
            walk(child.children);
          } else {
            next.push(name);
          }
        }
      }
    };
    const groups = pending.filter((name) => !visited.has(name.toLowerCase()));
    for (const name of groups) visited.add(name.toLowerCase());
    const bodies = await Promise.all(
      groups.map((name) => reader.get<Json>(getManagementGroupChildren(name), signal)),
    );
    for (const body of bodies) walk(isObject(body.properties) ? body.properties.children : undefined);
    pending = next;
  }
  return [...found.values()];
}

/**
 * The subscriptions the scopes name, each once, with their display name and state from one paged
 * `GET /subscriptions` (no read per subscription). A subscription the caller cannot see is unreadable.
 */
async function subscriptionsInScope(
  reader: Reader,
  scopes: readonly Scope[],
  signal?: AbortSignal,
): Promise<{ inScope: (SubscriptionRef & { state: string })[]; unreadable: UnreadableSubscription[] }> {
  const visible = new Map<string, { displayName: string; state: string }>();
  for (const subscription of await reader.list<Json>(listSubscriptions(), signal)) {
    const id = text(subscription.subscriptionId);
    if (id) {
      visible.set(id.toLowerCase(), {
        displayName: text(subscription.displayName) ?? id,
        state: text(subscription.state) ?? 'Enabled',
      });
    }
  }
  const wanted = new Map<string, SubscriptionRef>();
  for (const scope of scopes) {
    if (scope.kind === 'all') {
      for (const [subscriptionId, seen] of visible) {
        wanted.set(subscriptionId, { subscriptionId, displayName: seen.displayName });
      }
    } else if (scope.kind === 'subscription') {
      wanted.set(scope.subscriptionId, { subscriptionId: scope.subscriptionId, displayName: null });
    } else {
      for (const ref of await subscriptionsOfGroup(reader, scope.name, signal))
        wanted.set(ref.subscriptionId, ref);
    }
  }
  const inScope: (SubscriptionRef & { state: string })[] = [];
  const unreadable: UnreadableSubscription[] = [];
  for (const ref of [...wanted.values()].sort((a, b) => a.subscriptionId.localeCompare(b.subscriptionId))) {
    const seen = visible.get(ref.subscriptionId);
    if (!seen) {
      unreadable.push({
        ...ref,
        reason: 'notVisible',
        message:
          'The caller cannot see this subscription (GET /subscriptions does not list it): grant a role on it.',
      });
    } else if (same(seen.state, 'Disabled') || same(seen.state, 'Deleted')) {
      unreadable.push({
        subscriptionId: ref.subscriptionId,
        displayName: seen.displayName,
        reason: 'disabled',
        message: `The subscription is ${seen.state}: ARM accepts no writes in it.`,
      });
    } else {
      inScope.push({ subscriptionId: ref.subscriptionId, displayName: seen.displayName, state: seen.state });
    }
  }
  return { inScope, unreadable };
}

async function discoverSubscription(
  reader: Reader,
  ref: SubscriptionRef & { state: string },
  machineLimiter: Limiter,
  progress: { machinesFound: (count: number) => void; machineDone: () => void },
  signal?: AbortSignal,
): Promise<DiscoveredSubscription> {
  const id = ref.subscriptionId;
  const [vaSetting, pricing, endpointProtection, vms, arcMachines, connectors, solutions] = await Promise.all(
    [
      reader.find<Json>(getVaSetting(id), signal),
      reader.get<Json>(getServersPricing(id), signal),
      reader.find<Json>(getEndpointProtection(id), signal),
      reader.list<Json>(listVirtualMachines(id), signal),
      reader.list<Json>(listArcMachines(id), signal),
      reader.list<Json>(listSecurityConnectors(id), signal),
      reader.list<Json>(listSecuritySolutions(id), signal),
    ],
  );
  progress.machinesFound(vms.length + arcMachines.length);
  const machines: DiscoveredMachine[] = [];
  const machineBodies = [
    ...vms.map((body) => ({ kind: 'virtualMachine' as const, body })),
    ...arcMachines.map((body) => ({ kind: 'arcMachine' as const, body })),
  ];
  await forEachLimited(machineBodies, machineLimiter, async ({ kind, body }) => {
    const machineId = text(body.id);
    if (!machineId) return;
    try {
      const [extensions, legacyVa] = await Promise.all([
        reader.list<unknown>(listMachineExtensions(machineId), signal),
        reader.list<unknown>(listLegacyVa(machineId), signal),
      ]);
      const common = {
        id: machineId,
        name: text(body.name) ?? machineId.split('/').pop()!,
        extensions: extensions.flatMap((extension) => extensionOf(extension) ?? []),
        legacyVa: legacyVa.flatMap((resource) => legacyVaOf(resource) ?? []),
      };
      machines.push(
        kind === 'virtualMachine'
          ? { kind, ...common, powerState: powerStateOfVm(body) }
          : { kind, ...common, status: arcStatusOf(body), connectorOnboarded: hasConnectorTag(body) },
      );
    } catch (error) {
      // A machine deleted between the list and its reads is simply not part of the estate.
      if (!(error instanceof ArmRequestError && error.status === 404)) throw error;
    } finally {
      progress.machineDone();
    }
  });
  machines.sort((a, b) => a.id.localeCompare(b.id));
  const endpointProperties =
    endpointProtection && isObject(endpointProtection.properties) ? endpointProtection.properties : {};
  return {
    subscriptionId: id,
    displayName: ref.displayName ?? id,
    state: ref.state,
    vaSetting: vaSettingOf(vaSetting),
    pricing: pricingOf(pricing),
    endpointProtection: { enabled: endpointProperties.enabled === true },
    machines,
    connectors: connectors.flatMap((connector) => connectorOf(connector) ?? []),
    solutions: solutions.flatMap((solution) => solutionOf(solution) ?? []),
  };
}

/** Reads the estate under `scopes`. A subscription that fails to read is reported, not fatal. */
export async function discoverEstate(client: ArmClient, options: DiscoveryOptions): Promise<Discovery> {
  const started = performance.now();
  const counts: DiscoveryProgress = {
    subscriptionsTotal: 0,
    subscriptionsDone: 0,
    machinesFound: 0,
    machinesDone: 0,
    requests: 0,
  };
  const report = () => options.onProgress?.({ ...counts });
  const reader = countingClient(client, () => {
    counts.requests++;
  });
  const { inScope, unreadable } = await subscriptionsInScope(reader, options.scopes, options.signal);
  counts.subscriptionsTotal = inScope.length;
  report();
  const subscriptionLimiter = createLimiter(options.subscriptionConcurrency ?? 16);
  const machineConcurrency = options.machineConcurrency ?? 64;
  const machineLimiter = createLimiter(machineConcurrency);
  const machinesPerSubscription = Math.min(machineConcurrency, options.machinesPerSubscription ?? 16);
  const subscriptions: DiscoveredSubscription[] = [];
  await forEachLimited(inScope, subscriptionLimiter, async (ref) => {
    try {
      subscriptions.push(
        await discoverSubscription(
          reader,
          ref,
          nestedLimiter(createLimiter(machinesPerSubscription), machineLimiter),
          {
            machinesFound: (count) => {
              counts.machinesFound += count;
              report();
            },
            machineDone: () => {
              counts.machinesDone++;
              report();
            },
          },
          options.signal,
        ),
      );
    } catch (error) {
      if (!(error instanceof ArmRequestError)) throw error;
      unreadable.push({
        subscriptionId: ref.subscriptionId,
        displayName: ref.displayName,
        reason: 'readFailed',
        message: error.summary,
      });
    } finally {
      counts.subscriptionsDone++;
      report();
    }
  });
  subscriptions.sort((a, b) => a.subscriptionId.localeCompare(b.subscriptionId));
  unreadable.sort((a, b) => a.subscriptionId.localeCompare(b.subscriptionId));
  return {
    endpoint: client.endpoint,
    scopes: options.scopes.map(describeScope),
    subscriptions,
    unreadable,
    requests: counts.requests,
    durationMs: Math.round(performance.now() - started),
  };
}
