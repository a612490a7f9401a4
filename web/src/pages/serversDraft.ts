/**
 * The Defender plans blade edits a draft; Save turns the draft into exactly the ARM calls the REST
 * path makes, in the order that keeps each valid: the plan (pricing, with its extensions), then
 * Endpoint protection (`settings/WDATP`), then the VA setting (`AzureServersSetting` = `MdeTvm`).
 */
import type { ArmClient } from '../arm/client';
import { API } from '../arm/versions';
import { type DefenderState, isTrue, type PricingBody, selectsMdeTvm } from '../estate/subscriptions';

export type Tier = 'Free' | 'Standard';
export type SubPlan = 'P1' | 'P2';

export interface Draft {
  /** Plans whose tier changed, by pricing name. */
  tiers: Record<string, Tier>;
  serversSubPlan?: SubPlan;
  agentless?: boolean;
  endpointProtection?: boolean;
  va?: { enabled: boolean; provider?: 'MdeTvm' };
}

export const EMPTY_DRAFT: Draft = { tiers: {} };

export const AGENTLESS = 'AgentlessVmScanning';

export function serversPricing(state: DefenderState): PricingBody | undefined {
  return state.pricings.find((pricing) => pricing.name.toLowerCase() === 'virtualmachines');
}

/** What the blade shows: the loaded state with the draft applied. */
export interface Effective {
  serversTier: Tier;
  subPlan: SubPlan;
  agentless: boolean;
  endpointProtection: boolean;
  vaEnabled: boolean;
  vaProvider: 'MdeTvm' | undefined;
}

export function loadedServers(state: DefenderState): Effective {
  const pricing = serversPricing(state);
  const tier = pricing?.properties.pricingTier === 'Standard' ? 'Standard' : 'Free';
  const subPlan: SubPlan = pricing?.properties.subPlan === 'P1' ? 'P1' : 'P2';
  const agentlessExtension = pricing?.properties.extensions?.find(
    (extension) => extension.name === AGENTLESS,
  );
  const wdatp = state.settings.find((setting) => setting.name.toUpperCase() === 'WDATP');
  const mdeTvm = selectsMdeTvm(state.vaSetting);
  return {
    serversTier: tier,
    subPlan,
    agentless:
      tier === 'Standard' &&
      subPlan === 'P2' &&
      agentlessExtension !== undefined &&
      isTrue(agentlessExtension.isEnabled),
    endpointProtection: wdatp?.properties.enabled === true,
    vaEnabled: mdeTvm,
    vaProvider: mdeTvm ? 'MdeTvm' : undefined,
  };
}

export function effectiveServers(state: DefenderState, draft: Draft): Effective {
  const loaded = loadedServers(state);
  const serversTier = draft.tiers.VirtualMachines ?? loaded.serversTier;
  const subPlan = draft.serversSubPlan ?? loaded.subPlan;
  const agentlessOffered = serversTier === 'Standard' && subPlan === 'P2';
  return {
    serversTier,
    subPlan,
    agentless: agentlessOffered && (draft.agentless ?? loaded.agentless),
    endpointProtection: draft.endpointProtection ?? loaded.endpointProtection,
    vaEnabled: draft.va?.enabled ?? loaded.vaEnabled,
    vaProvider: draft.va ? draft.va.provider : loaded.vaProvider,
  };
}

export function tierOf(state: DefenderState, draft: Draft, planName: string): Tier {
  const loaded = state.pricings.find((pricing) => pricing.name === planName)?.properties.pricingTier;
  return draft.tiers[planName] ?? (loaded === 'Standard' ? 'Standard' : 'Free');
}

/**
 * Why "Agentless scanning for machines" cannot be On, or undefined when it can. Agentless scanning
 * is a Defender for Servers Plan 2 extension (§5.1, §11).
 */
export function agentlessBlocked(effective: Effective): string | undefined {
  if (effective.serversTier !== 'Standard')
    return 'Agentless scanning for machines needs the Servers plan On (Plan 2): turn on Defender for Servers on the Defender plans page.';
  if (effective.subPlan !== 'P2')
    return 'Agentless scanning for machines is part of Defender for Servers Plan 2; this subscription has Plan 1. Change the plan to Plan 2 on the Defender plans page to use it.';
  return undefined;
}

/** Why Endpoint protection cannot be On (it needs Defender for Servers, P1 or P2, §11). */
export function endpointProtectionBlocked(effective: Effective): string | undefined {
  if (effective.serversTier !== 'Standard')
    return 'Endpoint protection (Microsoft Defender for Endpoint) needs the Servers plan On (Plan 1 or Plan 2).';
  return undefined;
}

/**
 * What stops "Continue" on the settings blade: MDVM needs Endpoint protection or Agentless scanning
 * for machines On (§11 "Portal flow semantics").
 */
export function vulnerabilityAssessmentProblem(effective: Effective): string | undefined {
  if (!effective.vaEnabled) return undefined;
  if (effective.serversTier !== 'Standard')
    return 'Vulnerability assessment for machines needs Defender for Servers (Plan 1 or Plan 2): turn the Servers plan On first.';
  if (effective.vaProvider !== 'MdeTvm')
    return 'Choose a vulnerability assessment solution: select Edit configuration.';
  if (!effective.endpointProtection && !effective.agentless)
    return 'Microsoft Defender Vulnerability Management needs Endpoint protection or Agentless scanning for machines turned On. Turn one of them On to continue.';
  return undefined;
}

export interface PlannedCall {
  method: 'PUT' | 'DELETE';
  path: string;
  apiVersion: string;
  body?: unknown;
  /** What the call does, in the portal's words. */
  summary: string;
}

function pricingPath(subscriptionId: string, planName: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Security/pricings/${planName}`;
}

/** The pricing body for Defender for Servers: tier, sub-plan, and the extensions with agentless set. */
function serversPricingBody(state: DefenderState, effective: Effective, draft: Draft): unknown {
  if (effective.serversTier === 'Free') return { properties: { pricingTier: 'Free' } };
  const pricing = serversPricing(state);
  const loadedSubPlan = pricing?.properties.subPlan;
  const properties: Record<string, unknown> = { pricingTier: 'Standard', subPlan: effective.subPlan };
  if (pricing?.properties.enforce !== undefined) properties.enforce = pricing.properties.enforce;
  const keepExtensions =
    pricing?.properties.pricingTier === 'Standard' && loadedSubPlan === effective.subPlan;
  // Read-only `operationStatus` stays behind; a sub-plan change lets the server apply its defaults
  // except for the agentless choice the user made.
  const extensions = keepExtensions
    ? (pricing?.properties.extensions ?? []).map(({ name, isEnabled, additionalExtensionProperties }) => ({
        name,
        isEnabled,
        ...(additionalExtensionProperties ? { additionalExtensionProperties } : {}),
      }))
    : [];
  if (effective.subPlan === 'P2' && (draft.agentless !== undefined || keepExtensions)) {
    const existing = extensions.find((extension) => extension.name === AGENTLESS);
    const isEnabled = effective.agentless ? 'True' : 'False';
    if (existing) existing.isEnabled = isEnabled;
    else extensions.push({ name: AGENTLESS, isEnabled });
  }
  if (extensions.length > 0) properties.extensions = extensions;
  return { properties };
}

export function plannedCalls(subscriptionId: string, state: DefenderState, draft: Draft): PlannedCall[] {
  const loaded = loadedServers(state);
  const effective = effectiveServers(state, draft);
  const calls: PlannedCall[] = [];
  for (const [planName, tier] of Object.entries(draft.tiers)) {
    if (planName === 'VirtualMachines') continue;
    const current = state.pricings.find((pricing) => pricing.name === planName)?.properties.pricingTier;
    if (current === tier) continue;
    calls.push({
      method: 'PUT',
      path: pricingPath(subscriptionId, planName),
      apiVersion: API.pricings,
      body: { properties: { pricingTier: tier } },
      summary: `${planName} plan ${tier === 'Standard' ? 'On' : 'Off'}`,
    });
  }
  const serversChanged =
    effective.serversTier !== loaded.serversTier ||
    (effective.serversTier === 'Standard' && effective.subPlan !== loaded.subPlan) ||
    effective.agentless !== loaded.agentless;
  if (serversChanged) {
    calls.push({
      method: 'PUT',
      path: pricingPath(subscriptionId, 'VirtualMachines'),
      apiVersion: API.pricings,
      body: serversPricingBody(state, effective, draft),
      summary: `Defender for Servers: ${
        effective.serversTier === 'Free'
          ? 'Off'
          : `${effective.subPlan === 'P1' ? 'Plan 1' : 'Plan 2'}, agentless scanning ${effective.agentless ? 'On' : 'Off'}`
      }`,
    });
  }
  if (effective.endpointProtection !== loaded.endpointProtection) {
    calls.push({
      method: 'PUT',
      path: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/settings/WDATP`,
      apiVersion: API.settings,
      body: { kind: 'DataExportSettings', properties: { enabled: effective.endpointProtection } },
      summary: `Endpoint protection ${effective.endpointProtection ? 'On' : 'Off'}`,
    });
  }
  const vaOn = effective.vaEnabled && effective.vaProvider === 'MdeTvm';
  if (vaOn !== loaded.vaEnabled) {
    const path = `/subscriptions/${subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`;
    calls.push(
      vaOn
        ? {
            method: 'PUT',
            path,
            apiVersion: API.vaSettings,
            body: { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm' } },
            summary: 'Vulnerability assessment for machines: Microsoft Defender Vulnerability Management',
          }
        : {
            method: 'DELETE',
            path,
            apiVersion: API.vaSettings,
            summary: 'Vulnerability assessment for machines Off (the AzureServersSetting is deleted)',
          },
    );
  }
  return calls;
}

/** Sends the calls one by one, stopping at the first refusal; reports each success. */
export async function saveDraft(
  client: ArmClient,
  calls: PlannedCall[],
  onDone: (call: PlannedCall) => void,
): Promise<void> {
  for (const call of calls) {
    await client.request(call.method, call.path, { apiVersion: call.apiVersion, body: call.body });
    onDone(call);
  }
}

export const ACTIONS = {
  pricingsWrite: 'Microsoft.Security/pricings/write',
  settingsWrite: 'Microsoft.Security/settings/write',
  vaSettingsWrite: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings/write',
  vaSettingsDelete: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings/delete',
  connectorsWrite: 'Microsoft.Security/securityConnectors/write',
  vmExtensionDelete: 'Microsoft.Compute/virtualMachines/extensions/delete',
  arcExtensionDelete: 'Microsoft.HybridCompute/machines/extensions/delete',
} as const;
