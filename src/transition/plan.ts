/**
 * The transition plan: a versioned JSON document of every action `apply` will take, each with why and
 * the observed state it was computed from, plus what is left alone and why. `buildPlan` is pure:
 * discovery in, plan out.
 *
 * Rules (decisions in README.md):
 * - Prerequisites per subscription: Defender for Servers must allow MDVM (Free blocks); with Plan 1
 *   Endpoint protection (`settings/WDATP`) must be on; with Plan 2 Endpoint protection or agentless
 *   scanning (`pricings/VirtualMachines` extension `AgentlessVmScanning`) — but the subscription's own
 *   Arc machines only through Endpoint protection (agentless covers Azure VMs). `--fix-prerequisites`
 *   adds the action that turns one on. A blocked subscription gets no `setVaProvider`; its built-in Qualys
 *   leftovers are still removed once the scanner is retired (they cover nothing any more), but held
 *   back before the retirement, when removing them would leave machines without a scanner.
 * - `setVaProvider` where the subscription has no `AzureServersSetting`, except where a BYOL VA
 *   solution covers it: `MdeTvm` would show MDVM findings instead of the partner's (§7).
 * - `flipConnector` where a connector's Defender for Servers offering auto-provisions anything but
 *   TVM. Connectors carry their own plan, so the Azure subscription's prerequisites do not gate them.
 * - `deleteLegacyVa` for every per-machine `serverVulnerabilityAssessments/default`.
 * - `deleteQualysExtension` for every extension `isLegacyQualysExtension` matches (publisher and
 *   type, never name, so a BYOL Qualys agent is never in a plan) on a running VM or a connected Arc
 *   machine. A VM that is not running is skipped with the action `apply --start-stopped` would take.
 */
import { randomUUID } from 'node:crypto';
import {
  armTrue,
  byolPartnerOfTemplate,
  isLegacyQualysExtension,
  isQualysRetired,
} from '../coverage/index.js';
import type {
  DiscoveredConnector,
  DiscoveredMachine,
  DiscoveredSubscription,
  Discovery,
  UnreadableSubscription,
} from './discovery.js';
import {
  type ArmRequest,
  deleteLegacyVa,
  deleteMachineExtension,
  enableEndpointProtection,
  endpointProtectionPath,
  putSecurityConnector,
  putServersPricing,
  serversPricingPath,
  setVaProvider,
  vaSettingPath,
} from './requests.js';

export const PLAN_SCHEMA = 'vaplane.transition.plan/v1';

export const ACTION_KINDS = [
  'enableWdatp',
  'enableAgentless',
  'setVaProvider',
  'flipConnector',
  'deleteLegacyVa',
  'deleteQualysExtension',
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

/** Phase of each kind: apply runs a subscription's phases in this order. */
export const PHASE_OF: Record<ActionKind, number> = {
  enableWdatp: 0,
  enableAgentless: 0,
  setVaProvider: 1,
  flipConnector: 2,
  deleteLegacyVa: 3,
  deleteQualysExtension: 4,
};

export type ServersPlan = 'Free' | 'P1' | 'P2';

interface ActionBase {
  /** `kind:target` in lower case: unique in a plan, the key of the journal. */
  id: string;
  subscriptionId: string;
  /** The ARM id the action changes. */
  target: string;
  why: string;
  /** The request apply sends, for review (`PUT /subscriptions/…?api-version=…`). */
  request: string;
}

export type MachineObservation =
  | { kind: 'virtualMachine'; powerState: string }
  | { kind: 'arcMachine'; status: string };

export type PlannedAction =
  | (ActionBase & {
      kind: 'enableWdatp';
      observed: { endpointProtection: { enabled: boolean }; serversPlan: ServersPlan };
    })
  | (ActionBase & {
      kind: 'enableAgentless';
      observed: { pricingTier: string; subPlan: string | null; agentlessVmScanning: boolean };
    })
  | (ActionBase & {
      kind: 'setVaProvider';
      observed: { selectedProvider: string | null; lastModifiedAt: string | null };
    })
  | (ActionBase & {
      kind: 'flipConnector';
      observed: {
        etag: string | null;
        offeringType: string;
        vaAutoProvisioning: { enabled: boolean; type: string | null };
      };
    })
  | (ActionBase & {
      kind: 'deleteLegacyVa';
      machineId: string;
      observed: { name: string; provisioningState: string };
    })
  | (ActionBase & {
      kind: 'deleteQualysExtension';
      machineId: string;
      observed: {
        extension: { name: string; publisher: string; type: string; provisioningState: string | null };
        machine: MachineObservation;
      };
    });

export type ActionOf<K extends ActionKind> = Extract<PlannedAction, { kind: K }>;

export const SKIP_REASONS = [
  'subscriptionUnreadable',
  'subscriptionBlocked',
  'arcNeedsEndpointProtection',
  'byolKeepsPartner',
  'connectorVaOff',
  'legacyVaBusy',
  'machineNotRunning',
  'arcNotConnected',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface SkippedItem {
  reason: SkipReason;
  subscriptionId: string;
  target: string;
  message: string;
  /** What `apply --start-stopped` does for it (machines that are not running). */
  deferred?: ActionOf<'deleteQualysExtension'>;
  /** For a blocked subscription: the actions it holds back, by kind. */
  heldBack?: Partial<Record<ActionKind, number>>;
}

export type PrerequisiteStatus =
  | { status: 'met'; via: 'endpointProtection' | 'agentlessScanning' }
  | { status: 'fixedByPlan'; via: 'endpointProtection' | 'agentlessScanning' }
  | { status: 'blocked'; reason: string };

export interface PlannedSubscription {
  subscriptionId: string;
  displayName: string;
  observed: {
    vaSetting: string | null;
    serversPlan: ServersPlan;
    endpointProtection: boolean;
    agentlessVmScanning: boolean;
    virtualMachines: number;
    arcMachines: number;
    connectors: number;
    byolSolutions: { name: string; template: string }[];
  };
  prerequisites: PrerequisiteStatus;
  actions: number;
}

export type FixPrerequisites = 'auto' | 'endpoint-protection' | 'agentless';

export interface TransitionPlan {
  schema: typeof PLAN_SCHEMA;
  planId: string;
  createdAt: string;
  endpoint: string;
  scopes: string[];
  options: { fixPrerequisites: FixPrerequisites | null };
  subscriptions: PlannedSubscription[];
  /** In apply order within each subscription: prerequisites, setting, connectors, legacy resources, extensions. */
  actions: PlannedAction[];
  skipped: SkippedItem[];
  totals: {
    subscriptions: number;
    machines: number;
    actions: Record<ActionKind, number>;
    skipped: Record<SkipReason, number>;
  };
  discovery: { requests: number; durationMs: number };
}

// ─── Building ────────────────────────────────────────────────────────────────────────────────────

const same = (left: string | null | undefined, right: string) =>
  typeof left === 'string' && left.toLowerCase() === right.toLowerCase();

export function describeRequest(request: ArmRequest): string {
  const query = new URLSearchParams({ 'api-version': request.apiVersion, ...request.query });
  return `${request.method} ${request.path}?${query}`;
}

export function actionId(kind: ActionKind, target: string): string {
  return `${kind}:${target.toLowerCase()}`;
}

export function serversPlanOf(pricing: DiscoveredSubscription['pricing']): ServersPlan {
  if (!same(pricing.pricingTier, 'Standard')) return 'Free';
  // Standard without a sub-plan is the full plan (§5.1).
  return same(pricing.subPlan, 'P1') ? 'P1' : 'P2';
}

export function agentlessEnabled(pricing: DiscoveredSubscription['pricing']): boolean {
  const extension = pricing.extensions.find((candidate) => same(candidate.name, 'AgentlessVmScanning'));
  return extension !== undefined && armTrue(extension.isEnabled as 'True' | 'False');
}

/** Stopped and deallocated VMs cannot take extension changes (§10.2); only `running` counts as running. */
export function isRunning(powerState: string): boolean {
  return same(powerState, 'running');
}

interface Prerequisites {
  status: PrerequisiteStatus;
  fix?: 'enableWdatp' | 'enableAgentless';
  /** Arc machines outside connectors that agentless scanning does not reach, when Endpoint protection stays off. */
  uncoveredArcMachines?: number;
}

/**
 * Arc machines the subscription's own plan governs: agentless scanning covers Azure VMs (and connector
 * instances) only; on-premises machines are scanned through the MDE sensor (§11).
 */
function onPremisesArcMachines(subscription: DiscoveredSubscription): number {
  return subscription.machines.filter(
    (machine) => machine.kind === 'arcMachine' && !machine.connectorOnboarded,
  ).length;
}

export function prerequisitesOf(
  subscription: DiscoveredSubscription,
  fix: FixPrerequisites | null,
): Prerequisites {
  const plan = serversPlanOf(subscription.pricing);
  const wdatp = subscription.endpointProtection.enabled;
  if (plan === 'Free') {
    return {
      status: {
        status: 'blocked',
        reason:
          'Defender for Servers is off (Free): MDVM needs Plan 1 or Plan 2. Turn the plan on, then run `vaplane transition plan` again.',
      },
    };
  }
  if (wdatp) return { status: { status: 'met', via: 'endpointProtection' } };
  if (plan === 'P1') {
    if (fix === 'auto' || fix === 'endpoint-protection') {
      return { status: { status: 'fixedByPlan', via: 'endpointProtection' }, fix: 'enableWdatp' };
    }
    return {
      status: {
        status: 'blocked',
        reason:
          fix === 'agentless'
            ? 'Plan 1 has no agentless scanning and Endpoint protection (WDATP) is off: plan with `--fix-prerequisites endpoint-protection`.'
            : 'Plan 1 scans through the MDE sensor only and Endpoint protection (WDATP) is off: plan with `--fix-prerequisites` to turn it on.',
      },
    };
  }
  const arcMachines = onPremisesArcMachines(subscription);
  if (agentlessEnabled(subscription.pricing)) {
    if (arcMachines > 0 && (fix === 'auto' || fix === 'endpoint-protection')) {
      return { status: { status: 'fixedByPlan', via: 'endpointProtection' }, fix: 'enableWdatp' };
    }
    return { status: { status: 'met', via: 'agentlessScanning' }, uncoveredArcMachines: arcMachines };
  }
  if (fix === 'endpoint-protection' || (fix === 'auto' && arcMachines > 0)) {
    return { status: { status: 'fixedByPlan', via: 'endpointProtection' }, fix: 'enableWdatp' };
  }
  if (fix === 'auto' || fix === 'agentless') {
    return { status: { status: 'fixedByPlan', via: 'agentlessScanning' }, fix: 'enableAgentless' };
  }
  return {
    status: {
      status: 'blocked',
      reason:
        'Neither Endpoint protection (WDATP) nor agentless scanning is on, so MDVM has no scanner here: plan with `--fix-prerequisites` (agentless scanning) or `--fix-prerequisites endpoint-protection`.',
    },
  };
}

function machineObservation(machine: DiscoveredMachine): MachineObservation {
  return machine.kind === 'virtualMachine'
    ? { kind: 'virtualMachine', powerState: machine.powerState }
    : { kind: 'arcMachine', status: machine.status };
}

function connectorFlip(
  subscriptionId: string,
  connector: DiscoveredConnector,
): { action?: PlannedAction; skipped?: SkippedItem } {
  const servers = connector.servers;
  if (!servers || (same(servers.vaAutoProvisioning.type, 'TVM') && servers.vaAutoProvisioning.enabled))
    return {};
  const cloud = same(connector.environmentName, 'AWS') ? 'AWS' : 'GCP';
  if (!servers.vaAutoProvisioning.enabled) {
    return {
      skipped: {
        reason: 'connectorVaOff',
        subscriptionId,
        target: connector.id,
        message: `VA auto-provisioning is off on ${servers.offeringType}: no built-in Qualys reaches the ${cloud} machines; the connector is left as chosen.`,
      },
    };
  }
  const request = putSecurityConnector({ id: connector.id }, connector.etag ?? undefined);
  return {
    action: {
      id: actionId('flipConnector', connector.id),
      kind: 'flipConnector',
      subscriptionId,
      target: connector.id,
      why: `${servers.offeringType} auto-provisions '${servers.vaAutoProvisioning.type ?? 'no solution'}' on the ${cloud} machines: provision MDVM ('TVM') instead (GET, change vaAutoProvisioning.configuration.type, PUT with If-Match).`,
      request: describeRequest(request),
      observed: {
        etag: connector.etag,
        offeringType: servers.offeringType,
        vaAutoProvisioning: { ...servers.vaAutoProvisioning },
      },
    },
  };
}

/** Everything one subscription needs, before the prerequisite gate. */
function subscriptionActions(subscription: DiscoveredSubscription) {
  const id = subscription.subscriptionId;
  const azure: PlannedAction[] = [];
  const skipped: SkippedItem[] = [];
  const byol = subscription.solutions.filter(
    (solution) => same(solution.securityFamily, 'Va') && byolPartnerOfTemplate(solution.template),
  );
  if (!subscription.vaSetting || !same(subscription.vaSetting.selectedProvider, 'MdeTvm')) {
    const target = vaSettingPath(id);
    if (byol.length > 0) {
      skipped.push({
        reason: 'byolKeepsPartner',
        subscriptionId: id,
        target,
        message: `BYOL solution ${byol.map((solution) => `'${solution.name}' (${solution.template})`).join(', ')} covers this subscription; selecting MdeTvm would show MDVM findings instead of the partner's, so the VA setting is left unset.`,
      });
    } else {
      azure.push({
        id: actionId('setVaProvider', target),
        kind: 'setVaProvider',
        subscriptionId: id,
        target,
        why: subscription.vaSetting
          ? `The VA provider is '${subscription.vaSetting.selectedProvider}': select MDVM ('MdeTvm').`
          : 'No VA provider is selected (built-in Qualys was the implicit one, retired on 2024-05-01): select MDVM (MdeTvm).',
        request: describeRequest(setVaProvider(id)),
        observed: {
          selectedProvider: subscription.vaSetting?.selectedProvider ?? null,
          lastModifiedAt: subscription.vaSetting?.lastModifiedAt ?? null,
        },
      });
    }
  }
  for (const machine of subscription.machines) {
    for (const legacy of machine.legacyVa) {
      if (!same(legacy.name, 'default')) continue;
      if (same(legacy.provisioningState, 'Deprovisioning')) {
        skipped.push({
          reason: 'legacyVaBusy',
          subscriptionId: id,
          target: legacy.id,
          message: 'The built-in Qualys onboarding is already being removed (Deprovisioning).',
        });
        continue;
      }
      azure.push({
        id: actionId('deleteLegacyVa', legacy.id),
        kind: 'deleteLegacyVa',
        subscriptionId: id,
        target: legacy.id,
        machineId: machine.id,
        why: `The machine is onboarded to built-in Qualys by serverVulnerabilityAssessments/${legacy.name} (${legacy.provisioningState}); MDVM needs no per-machine resource.`,
        request: describeRequest(deleteLegacyVa(legacy.id)),
        observed: { name: legacy.name, provisioningState: legacy.provisioningState },
      });
    }
    for (const extension of machine.extensions) {
      if (!isLegacyQualysExtension(extension)) continue;
      const action: ActionOf<'deleteQualysExtension'> = {
        id: actionId('deleteQualysExtension', extension.id),
        kind: 'deleteQualysExtension',
        subscriptionId: id,
        target: extension.id,
        machineId: machine.id,
        why: `The built-in Qualys extension (publisher ${extension.publisher}, type ${extension.type}) is installed; the scanner is retired and MDVM replaces it.`,
        request: describeRequest(deleteMachineExtension(extension.id)),
        observed: {
          extension: {
            name: extension.name,
            publisher: extension.publisher,
            type: extension.type,
            provisioningState: extension.provisioningState ?? null,
          },
          machine: machineObservation(machine),
        },
      };
      if (machine.kind === 'virtualMachine' && !isRunning(machine.powerState)) {
        skipped.push({
          reason: 'machineNotRunning',
          subscriptionId: id,
          target: extension.id,
          message: `VM '${machine.name}' is ${machine.powerState}: Compute changes extensions only on a running VM. \`apply --start-stopped\` starts it, removes the extension and returns it to ${machine.powerState}.`,
          deferred: action,
        });
      } else if (machine.kind === 'arcMachine' && !same(machine.status, 'Connected')) {
        skipped.push({
          reason: 'arcNotConnected',
          subscriptionId: id,
          target: extension.id,
          message: `Arc machine '${machine.name}' is ${machine.status}: extension operations need a connected agent. Reconnect it, then plan again.`,
        });
      } else {
        azure.push(action);
      }
    }
  }
  return { azure, skipped, byol };
}

function emptyCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}

function unreadableSkip(subscription: UnreadableSubscription): SkippedItem {
  return {
    reason: 'subscriptionUnreadable',
    subscriptionId: subscription.subscriptionId,
    target: `/subscriptions/${subscription.subscriptionId}`,
    message: subscription.message,
  };
}

export interface BuildPlanOptions {
  fixPrerequisites: FixPrerequisites | null;
  now: Date;
  planId?: string;
}

export function buildPlan(discovery: Discovery, options: BuildPlanOptions): TransitionPlan {
  const actions: PlannedAction[] = [];
  const skipped: SkippedItem[] = discovery.unreadable.map(unreadableSkip);
  const subscriptions: PlannedSubscription[] = [];
  for (const subscription of discovery.subscriptions) {
    const id = subscription.subscriptionId;
    const prerequisites = prerequisitesOf(subscription, options.fixPrerequisites);
    const found = subscriptionActions(subscription);
    const mine: PlannedAction[] = [];
    const blocked = prerequisites.status.status === 'blocked';
    const cleanupAllowed = !blocked || isQualysRetired(options.now);
    if (prerequisites.status.status === 'blocked') {
      const held = cleanupAllowed
        ? found.azure.filter((action) => action.kind === 'setVaProvider')
        : [...found.azure, ...found.skipped.flatMap((item) => item.deferred ?? [])];
      const heldBack: Partial<Record<ActionKind, number>> = {};
      for (const action of held) heldBack[action.kind] = (heldBack[action.kind] ?? 0) + 1;
      // A BYOL subscription keeps its partner (its own skip says so): MDVM's prerequisites hold nothing back there.
      if (held.length > 0 || found.byol.length === 0) {
        skipped.push({
          reason: 'subscriptionBlocked',
          subscriptionId: id,
          target: `/subscriptions/${id}`,
          message: cleanupAllowed
            ? `${prerequisites.status.reason} The built-in Qualys leftovers are removed all the same: the scanner is retired.`
            : prerequisites.status.reason,
          heldBack,
        });
      }
      if (cleanupAllowed) mine.push(...found.azure.filter((action) => action.kind !== 'setVaProvider'));
    } else {
      if (prerequisites.fix === 'enableWdatp') {
        const target = endpointProtectionPath(id);
        mine.push({
          id: actionId('enableWdatp', target),
          kind: 'enableWdatp',
          subscriptionId: id,
          target,
          why:
            serversPlanOf(subscription.pricing) === 'P1'
              ? 'Plan 1 scans through the MDE sensor only: turn Endpoint protection (WDATP) on.'
              : onPremisesArcMachines(subscription) > 0
                ? `Agentless scanning covers Azure VMs only; the ${onPremisesArcMachines(subscription)} Arc machines are scanned through the MDE sensor: turn Endpoint protection (WDATP) on.`
                : 'No scanner is on for MDVM: turn Endpoint protection (WDATP) on (--fix-prerequisites endpoint-protection).',
          request: describeRequest(enableEndpointProtection(id)),
          observed: {
            endpointProtection: { enabled: subscription.endpointProtection.enabled },
            serversPlan: serversPlanOf(subscription.pricing),
          },
        });
      } else if (prerequisites.fix === 'enableAgentless') {
        const target = serversPricingPath(id);
        mine.push({
          id: actionId('enableAgentless', target),
          kind: 'enableAgentless',
          subscriptionId: id,
          target,
          why: 'No scanner is on for MDVM: turn agentless scanning on (Plan 2 includes it; it needs nothing installed on the machines).',
          request: describeRequest(
            putServersPricing(id, { pricingTier: subscription.pricing.pricingTier, extensions: [] }),
          ),
          observed: {
            pricingTier: subscription.pricing.pricingTier,
            subPlan: subscription.pricing.subPlan,
            agentlessVmScanning: false,
          },
        });
      }
      mine.push(...found.azure);
      if (prerequisites.uncoveredArcMachines) {
        skipped.push({
          reason: 'arcNeedsEndpointProtection',
          subscriptionId: id,
          target: endpointProtectionPath(id),
          message: `Endpoint protection (WDATP) is off and agentless scanning covers Azure VMs only: the ${prerequisites.uncoveredArcMachines} Arc machines get no MDVM scanner. Plan with \`--fix-prerequisites\` to turn Endpoint protection on.`,
        });
      }
    }
    for (const connector of subscription.connectors) {
      const flip = connectorFlip(id, connector);
      if (flip.action) mine.push(flip.action);
      if (flip.skipped) skipped.push(flip.skipped);
    }
    // Before the retirement, a blocked subscription's own skips are part of what it holds back.
    if (cleanupAllowed) skipped.push(...found.skipped);
    mine.sort((a, b) => PHASE_OF[a.kind] - PHASE_OF[b.kind] || a.target.localeCompare(b.target));
    actions.push(...mine);
    subscriptions.push({
      subscriptionId: id,
      displayName: subscription.displayName,
      observed: {
        vaSetting: subscription.vaSetting?.selectedProvider ?? null,
        serversPlan: serversPlanOf(subscription.pricing),
        endpointProtection: subscription.endpointProtection.enabled,
        agentlessVmScanning: agentlessEnabled(subscription.pricing),
        virtualMachines: subscription.machines.filter((machine) => machine.kind === 'virtualMachine').length,
        arcMachines: subscription.machines.filter((machine) => machine.kind === 'arcMachine').length,
        connectors: subscription.connectors.length,
        byolSolutions: found.byol.map((solution) => ({ name: solution.name, template: solution.template })),
      },
      prerequisites: prerequisites.status,
      actions: mine.length,
    });
  }
  const totals = {
    subscriptions: subscriptions.length,
    machines: discovery.subscriptions.reduce((sum, subscription) => sum + subscription.machines.length, 0),
    actions: emptyCounts(ACTION_KINDS),
    skipped: emptyCounts(SKIP_REASONS),
  };
  for (const action of actions) totals.actions[action.kind]++;
  for (const item of skipped) totals.skipped[item.reason]++;
  return {
    schema: PLAN_SCHEMA,
    planId: options.planId ?? randomUUID(),
    createdAt: options.now.toISOString(),
    endpoint: discovery.endpoint,
    scopes: discovery.scopes,
    options: { fixPrerequisites: options.fixPrerequisites },
    subscriptions,
    actions,
    skipped,
    totals,
    discovery: { requests: discovery.requests, durationMs: discovery.durationMs },
  };
}

// ─── Reading a plan file ─────────────────────────────────────────────────────────────────────────

export class PlanFileError extends Error {
  override readonly name = 'PlanFileError';
}

/**
 * Checks a plan file's shape once, at the edge; inside, the plan is trusted. Refuses other schemas
 * (a future v2) rather than guessing.
 */
export function parsePlan(text: string, file: string): TransitionPlan {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PlanFileError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const plan = document as Partial<TransitionPlan> | null;
  if (typeof plan !== 'object' || plan === null || Array.isArray(plan)) {
    throw new PlanFileError(`${file} is not a vaplane transition plan.`);
  }
  if (plan.schema !== PLAN_SCHEMA) {
    throw new PlanFileError(
      `${file} has schema '${String(plan.schema)}'; this vaplane reads '${PLAN_SCHEMA}'.`,
    );
  }
  if (typeof plan.planId !== 'string' || typeof plan.endpoint !== 'string') {
    throw new PlanFileError(`${file} lacks its planId or endpoint.`);
  }
  if (!Array.isArray(plan.actions) || !Array.isArray(plan.skipped) || !Array.isArray(plan.subscriptions)) {
    throw new PlanFileError(`${file} lacks its actions, skipped items or subscriptions.`);
  }
  const ids = new Set<string>();
  for (const [index, action] of plan.actions.entries()) {
    const valid =
      typeof action === 'object' &&
      action !== null &&
      (ACTION_KINDS as readonly string[]).includes(action.kind) &&
      typeof action.id === 'string' &&
      typeof action.target === 'string' &&
      typeof action.subscriptionId === 'string' &&
      typeof action.observed === 'object' &&
      action.observed !== null;
    if (!valid) throw new PlanFileError(`${file}: actions[${index}] is not an action this vaplane knows.`);
    if (ids.has(action.id)) throw new PlanFileError(`${file}: action '${action.id}' appears twice.`);
    ids.add(action.id);
  }
  for (const [index, item] of plan.skipped.entries()) {
    if (
      item?.deferred &&
      (item.deferred.kind !== 'deleteQualysExtension' || typeof item.deferred.id !== 'string')
    ) {
      throw new PlanFileError(`${file}: skipped[${index}].deferred is not an extension removal.`);
    }
  }
  return plan as TransitionPlan;
}
