/**
 * Re-reading what an action was planned from, and judging it: still as the plan saw it (`planned`),
 * already in the state the action produces (`done`), on its way there (`inFlight`: a delete ARM is
 * running), or something else (`changed`, with each difference in words). Apply reads subscription-
 * wide state once per subscription (setting, plan, Endpoint protection, power states from the
 * machine lists) and one GET per machine-level target.
 */
import type { ArmClient } from './client.js';
import {
  arcStatusOf,
  connectorOf,
  type DiscoveredPricing,
  extensionOf,
  legacyVaOf,
  powerStateOfVm,
  pricingOf,
  vaSettingOf,
} from './discovery.js';
import { ArmRequestError } from './errors.js';
import { type ActionOf, agentlessEnabled, type PlannedAction, serversPlanOf } from './plan.js';
import {
  type ArmRequest,
  getEndpointProtection,
  getLegacyVa,
  getMachineExtension,
  getSecurityConnector,
  getServersPricing,
  getVaSetting,
  listArcMachines,
  listVirtualMachines,
} from './requests.js';

export type Verdict =
  | { state: 'planned' }
  | { state: 'done'; note: string }
  | { state: 'inFlight'; note: string }
  | { state: 'changed'; changes: string[] };

const same = (left: string | null | undefined, right: string | null | undefined) =>
  (left ?? '').toLowerCase() === (right ?? '').toLowerCase();

async function find<T>(client: ArmClient, request: ArmRequest): Promise<{ body: T; etag?: string } | null> {
  try {
    const reply = await client.get<T>(request.path, request.apiVersion, { query: request.query });
    return { body: reply.body, etag: reply.etag };
  } catch (error) {
    if (error instanceof ArmRequestError && error.status === 404) return null;
    throw error;
  }
}

/** Subscription-wide reads, each made once and shared by every action of the subscription. */
export interface SubscriptionReads {
  vaSetting(): Promise<{ selectedProvider: string } | null>;
  pricing(): Promise<DiscoveredPricing>;
  endpointProtection(): Promise<boolean>;
  /** Power state (VMs) or status (Arc machines) by lower-case machine id. */
  machineStates(kind: 'virtualMachine' | 'arcMachine'): Promise<Map<string, string>>;
}

export function subscriptionReads(client: ArmClient, subscriptionId: string): SubscriptionReads {
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    let pending = memo.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = read();
      memo.set(key, pending);
    }
    return pending;
  };
  return {
    vaSetting: () =>
      once('va', async () => vaSettingOf((await find<unknown>(client, getVaSetting(subscriptionId)))?.body)),
    pricing: () =>
      once('pricing', async () =>
        pricingOf((await find<unknown>(client, getServersPricing(subscriptionId)))?.body),
      ),
    endpointProtection: () =>
      once('wdatp', async () => {
        const found = await find<{ properties?: { enabled?: unknown } }>(
          client,
          getEndpointProtection(subscriptionId),
        );
        return found?.body?.properties?.enabled === true;
      }),
    machineStates: (kind) =>
      once(`machines:${kind}`, async () => {
        const request =
          kind === 'virtualMachine' ? listVirtualMachines(subscriptionId) : listArcMachines(subscriptionId);
        const states = new Map<string, string>();
        for (const body of await client.listAll<{ id?: string }>(request.path, request.apiVersion, {
          query: request.query,
        })) {
          if (typeof body.id !== 'string') continue;
          states.set(
            body.id.toLowerCase(),
            kind === 'virtualMachine' ? powerStateOfVm(body) : arcStatusOf(body),
          );
        }
        return states;
      }),
  };
}

export interface ObserveContext {
  client: ArmClient;
  reads: SubscriptionReads;
  /**
   * This journal's runs may have touched the target (an intent was written): a changed provisioning
   * state is then ours, not the estate's.
   */
  attempted: boolean;
  /** A `--start-stopped` session of this run's journal holds the machine: its power state is ours. */
  machineHeld: boolean;
}

const changed = (...changes: string[]): Verdict => ({ state: 'changed', changes });

async function observeSetting(action: ActionOf<'setVaProvider'>, context: ObserveContext): Promise<Verdict> {
  const current = (await context.reads.vaSetting())?.selectedProvider ?? null;
  if (same(current, 'MdeTvm')) return { state: 'done', note: 'the VA provider is MdeTvm' };
  if (same(current, action.observed.selectedProvider)) return { state: 'planned' };
  return changed(
    `the VA provider setting of subscription ${action.subscriptionId} is now '${current ?? 'unset'}' (the plan saw '${action.observed.selectedProvider ?? 'unset'}')`,
  );
}

async function observeWdatp(action: ActionOf<'enableWdatp'>, context: ObserveContext): Promise<Verdict> {
  const plan = serversPlanOf(await context.reads.pricing());
  if (plan !== action.observed.serversPlan) {
    return changed(
      `Defender for Servers on subscription ${action.subscriptionId} is now ${plan} (the plan saw ${action.observed.serversPlan})`,
    );
  }
  if (await context.reads.endpointProtection()) return { state: 'done', note: 'Endpoint protection is on' };
  return { state: 'planned' };
}

async function observeAgentless(
  action: ActionOf<'enableAgentless'>,
  context: ObserveContext,
): Promise<Verdict> {
  const pricing = await context.reads.pricing();
  const differences: string[] = [];
  if (!same(pricing.pricingTier, action.observed.pricingTier)) {
    differences.push(`pricing tier '${pricing.pricingTier}' (the plan saw '${action.observed.pricingTier}')`);
  }
  if (!same(pricing.subPlan, action.observed.subPlan)) {
    differences.push(
      `sub-plan '${pricing.subPlan ?? 'none'}' (the plan saw '${action.observed.subPlan ?? 'none'}')`,
    );
  }
  if (differences.length > 0) {
    return changed(
      `Defender for Servers on subscription ${action.subscriptionId} now has ${differences.join(' and ')}`,
    );
  }
  if (agentlessEnabled(pricing)) return { state: 'done', note: 'agentless scanning is on' };
  return { state: 'planned' };
}

async function observeConnector(
  action: ActionOf<'flipConnector'>,
  context: ObserveContext,
): Promise<Verdict> {
  const found = await find<unknown>(context.client, getSecurityConnector(action.target));
  if (!found) return changed(`connector ${action.target} was deleted`);
  const connector = connectorOf(found.body, found.etag);
  const servers = connector?.servers;
  if (!servers) return changed(`connector ${action.target} no longer has a Defender for Servers offering`);
  const va = servers.vaAutoProvisioning;
  if (va.enabled && same(va.type, 'TVM')) return { state: 'done', note: 'the connector provisions TVM' };
  const differences: string[] = [];
  const observed = action.observed;
  if (observed.etag !== null && connector.etag !== observed.etag) {
    differences.push(`its ETag is ${connector.etag ?? 'none'} (the plan saw ${observed.etag})`);
  }
  if (
    va.enabled !== observed.vaAutoProvisioning.enabled ||
    !same(va.type, observed.vaAutoProvisioning.type)
  ) {
    differences.push(
      `VA auto-provisioning is ${va.enabled ? 'on' : 'off'} with '${va.type ?? 'none'}' (the plan saw ${observed.vaAutoProvisioning.enabled ? 'on' : 'off'} with '${observed.vaAutoProvisioning.type ?? 'none'}')`,
    );
  }
  if (differences.length > 0) return changed(`connector ${action.target} changed: ${differences.join('; ')}`);
  return { state: 'planned' };
}

async function observeLegacyVa(
  action: ActionOf<'deleteLegacyVa'>,
  context: ObserveContext,
): Promise<Verdict> {
  const found = await find<unknown>(context.client, getLegacyVa(action.target));
  if (!found) return { state: 'done', note: 'the legacy resource is gone' };
  const current = legacyVaOf(found.body);
  const state = current?.provisioningState ?? 'Succeeded';
  if (same(state, 'Deprovisioning'))
    return { state: 'inFlight', note: 'ARM is removing it (Deprovisioning)' };
  if (same(state, action.observed.provisioningState) || context.attempted) return { state: 'planned' };
  return changed(`${action.target} is now ${state} (the plan saw ${action.observed.provisioningState})`);
}

function machineChange(
  action: ActionOf<'deleteQualysExtension'>,
  current: string | undefined,
): string | undefined {
  const machine = action.observed.machine;
  const name = action.machineId.split('/').pop();
  if (current === undefined) return `machine ${action.machineId} was deleted`;
  if (machine.kind === 'virtualMachine') {
    return same(current, machine.powerState)
      ? undefined
      : `VM '${name}' is now ${current} (the plan saw ${machine.powerState})`;
  }
  return same(current, machine.status)
    ? undefined
    : `Arc machine '${name}' is now ${current} (the plan saw ${machine.status})`;
}

async function observeExtension(
  action: ActionOf<'deleteQualysExtension'>,
  context: ObserveContext,
): Promise<Verdict> {
  const [found, states] = await Promise.all([
    find<unknown>(context.client, getMachineExtension(action.target)),
    context.reads.machineStates(action.observed.machine.kind),
  ]);
  if (!found) return { state: 'done', note: 'the extension is gone' };
  const current = extensionOf(found.body);
  const observed = action.observed.extension;
  if (!current || !same(current.publisher, observed.publisher) || !same(current.type, observed.type)) {
    return changed(
      `extension ${action.target} is now ${current ? `${current.publisher} ${current.type}` : 'unreadable'} (the plan saw ${observed.publisher} ${observed.type})`,
    );
  }
  const differences: string[] = [];
  if (!context.machineHeld) {
    const change = machineChange(action, states.get(action.machineId.toLowerCase()));
    if (change) differences.push(change);
  }
  if (same(current.provisioningState, 'Deleting') && differences.length === 0) {
    return { state: 'inFlight', note: 'ARM is deleting it' };
  }
  const state = current.provisioningState ?? null;
  if (!context.attempted && !same(state ?? 'Succeeded', observed.provisioningState ?? 'Succeeded')) {
    differences.push(
      `extension ${action.target} is now ${state ?? 'Succeeded'} (the plan saw ${observed.provisioningState ?? 'Succeeded'})`,
    );
  }
  return differences.length > 0 ? changed(...differences) : { state: 'planned' };
}

/** Reads `action`'s target as it stands and compares it with what the plan observed. */
export function observeAction(action: PlannedAction, context: ObserveContext): Promise<Verdict> {
  switch (action.kind) {
    case 'setVaProvider':
      return observeSetting(action, context);
    case 'enableWdatp':
      return observeWdatp(action, context);
    case 'enableAgentless':
      return observeAgentless(action, context);
    case 'flipConnector':
      return observeConnector(action, context);
    case 'deleteLegacyVa':
      return observeLegacyVa(action, context);
    case 'deleteQualysExtension':
      return observeExtension(action, context);
  }
}
