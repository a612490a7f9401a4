/**
 * The Defender plans a subscription can hold (`Microsoft.Security/pricings/{plan}`), their sub-plans and
 * the extensions each offers, and the pure rules of a pricing update. Taken from the 2023-01-01 and
 * 2024-01-01 `pricings.json` files (the `Extension.name` description says which plan and sub-plan
 * offers each extension) and their examples; the plan list matches the examples' `Pricings_List` plus
 * `CosmosDbs` and `AI`. The same catalogue serves both api-versions: plans are service state, not
 * versioned contract.
 */
import { errors } from '../../arm/errors.js';
import type { ArmBody } from '../../store/index.js';

export type PricingTier = 'Free' | 'Standard';
export type TrueFalse = 'True' | 'False';

export interface SubPlanDef {
  name: string;
  /** Extensions offered under this sub-plan, in the order responses list them. */
  extensions: readonly string[];
  /**
   * Deprecated sub-plans stay available to subscriptions already on them and are refused to everyone
   * else (Azure: "no longer available for new subscriptions or for re-enabling").
   */
  deprecated?: boolean;
}

export interface PlanDef {
  name: string;
  /** Sub-plans, when the plan has more than one level. */
  subPlans?: readonly SubPlanDef[];
  /**
   * The sub-plan applied when a Standard request names none ("When not specified, full plan is
   * applied"). Absent for plans whose sub-plans have no "full" one (Api): the request must choose.
   */
  fullSubPlan?: string;
  /** Extensions of a plan without sub-plans. */
  extensions?: readonly string[];
  /** Plans Azure reports as `deprecated: true` with their replacements. */
  replacedBy?: readonly string[];
}

export const PLANS: readonly PlanDef[] = [
  {
    name: 'VirtualMachines',
    subPlans: [
      {
        name: 'P2',
        extensions: ['MdeDesignatedSubscription', 'AgentlessVmScanning', 'FileIntegrityMonitoring'],
      },
      { name: 'P1', extensions: ['MdeDesignatedSubscription'] },
    ],
    fullSubPlan: 'P2',
  },
  { name: 'SqlServers' },
  { name: 'AppServices' },
  {
    name: 'StorageAccounts',
    subPlans: [
      { name: 'DefenderForStorageV2', extensions: ['OnUploadMalwareScanning', 'SensitiveDataDiscovery'] },
      // The 2023-01-01 examples name the per-storage-account plan this way.
      { name: 'PerStorageAccount', extensions: ['OnUploadMalwareScanning', 'SensitiveDataDiscovery'] },
      { name: 'PerTransaction', extensions: [], deprecated: true },
    ],
    fullSubPlan: 'DefenderForStorageV2',
  },
  { name: 'SqlServerVirtualMachines' },
  { name: 'KubernetesService', replacedBy: ['Containers'] },
  { name: 'ContainerRegistry', replacedBy: ['Containers'] },
  {
    name: 'KeyVaults',
    subPlans: [
      { name: 'PerKeyVault', extensions: [] },
      { name: 'PerTransaction', extensions: [], deprecated: true },
    ],
    fullSubPlan: 'PerKeyVault',
  },
  { name: 'Dns', replacedBy: ['VirtualMachines'] },
  {
    name: 'Arm',
    subPlans: [
      { name: 'PerSubscription', extensions: [] },
      { name: 'PerApiCall', extensions: [], deprecated: true },
    ],
    fullSubPlan: 'PerSubscription',
  },
  { name: 'OpenSourceRelationalDatabases' },
  {
    name: 'Containers',
    extensions: [
      'ContainerRegistriesVulnerabilityAssessments',
      'ContainerSensor',
      'AgentlessDiscoveryForKubernetes',
      'AgentlessVmScanning',
      'ContainerIntegrityContribution',
    ],
  },
  {
    name: 'CloudPosture',
    extensions: [
      'AgentlessVmScanning',
      'AgentlessDiscoveryForKubernetes',
      'SensitiveDataDiscovery',
      'ContainerRegistriesVulnerabilityAssessments',
      'EntraPermissionsManagement',
    ],
  },
  {
    name: 'Api',
    subPlans: ['P1', 'P2', 'P3', 'P4', 'P5'].map((name) => ({ name, extensions: [] })),
  },
  { name: 'CosmosDbs' },
  { name: 'AI', extensions: ['AIPromptEvidence'] },
];

/**
 * The state an extension takes when its plan is switched on without saying: the examples enable every
 * extension of a fresh CloudPosture or VirtualMachines P2 plan except `MdeDesignatedSubscription`
 * (which needs a designated subscription). Extensions that need configuration or are in preview start
 * off.
 */
const OFF_BY_DEFAULT = new Set([
  'MdeDesignatedSubscription',
  'FileIntegrityMonitoring',
  'ContainerIntegrityContribution',
  'AIPromptEvidence',
]);

export function findPlan(name: string): PlanDef | undefined {
  const wanted = name.toLowerCase();
  return PLANS.find((plan) => plan.name.toLowerCase() === wanted);
}

/** Extensions offered by a plan at a sub-plan (none for a Free plan). */
export function offeredExtensions(plan: PlanDef, subPlan: string | undefined): readonly string[] {
  if (!plan.subPlans) return plan.extensions ?? [];
  return plan.subPlans.find((candidate) => candidate.name === subPlan)?.extensions ?? [];
}

export interface StoredExtension {
  name: string;
  isEnabled: TrueFalse;
  additionalExtensionProperties?: ArmBody;
}

/** What a pricing row stores in `properties`; everything else in a response is derived. */
export interface PricingState {
  pricingTier: PricingTier;
  subPlan?: string;
  /** Last time the tier became Standard. */
  enablementTime?: string;
  /** Subscription level only. */
  enforce?: TrueFalse;
  extensions?: StoredExtension[];
}

export interface RequestedExtension {
  name: string;
  isEnabled: TrueFalse;
  additionalExtensionProperties?: ArmBody;
}

/** A pricing PUT body after parsing at the edge. */
export interface PricingRequest {
  pricingTier: PricingTier;
  subPlan?: string;
  enforce?: TrueFalse;
  extensions?: RequestedExtension[];
}

export const FREE_PRICING: PricingState = { pricingTier: 'Free' };

/**
 * The state a pricing takes after a PUT. Rules:
 * - Free keeps nothing but the tier (and `enforce`): a sent sub-plan or extension is dropped without an
 *   error, as Azure accepts "Free + an enabled extension" and drops the extension.
 * - Standard resolves the sub-plan (the full plan when none is named; a plan without sub-plans drops a
 *   sent one, as the 2023-01-01 CloudPosture example shows), refuses deprecated sub-plans to
 *   subscriptions not already on them, and refuses any extension the sub-plan does not offer — even
 *   one sent with `isEnabled: "False"` (Azure-Landing-Zones#1678).
 * - Extensions not sent keep their previous state if the plan was Standard at an offering sub-plan,
 *   and otherwise take their default.
 */
export function applyPricingUpdate(options: {
  plan: PlanDef;
  request: PricingRequest;
  previous: PricingState | undefined;
  subscriptionId: string;
  now: string;
}): PricingState {
  const { plan, request, previous } = options;
  const enforce = request.enforce !== undefined ? { enforce: request.enforce } : {};
  if (request.pricingTier === 'Free') return { pricingTier: 'Free', ...enforce };

  const subPlan = resolveSubPlan(plan, request.subPlan, previous, options.subscriptionId);
  const offered = offeredExtensions(plan, subPlan);
  const requested = new Map<string, RequestedExtension>();
  for (const extension of request.extensions ?? []) {
    const name = offered.find((candidate) => candidate.toLowerCase() === extension.name.toLowerCase());
    if (!name) throw errors.pricingExtensionNotSupported(extension.name, plan.name, subPlan);
    if (requested.has(name)) throw errors.pricingExtensionRepeated(name);
    requested.set(name, extension);
  }
  const wasStandard = previous?.pricingTier === 'Standard';
  const extensions = offered.map((name): StoredExtension => {
    const sent = requested.get(name);
    const before = wasStandard
      ? previous?.extensions?.find((extension) => extension.name === name)
      : undefined;
    const isEnabled = sent?.isEnabled ?? before?.isEnabled ?? (OFF_BY_DEFAULT.has(name) ? 'False' : 'True');
    const additional = sent?.additionalExtensionProperties ?? before?.additionalExtensionProperties;
    return { name, isEnabled, ...(additional ? { additionalExtensionProperties: additional } : {}) };
  });
  return {
    pricingTier: 'Standard',
    ...(subPlan ? { subPlan } : {}),
    enablementTime: wasStandard && previous?.enablementTime ? previous.enablementTime : options.now,
    ...enforce,
    ...(extensions.length > 0 ? { extensions } : {}),
  };
}

function resolveSubPlan(
  plan: PlanDef,
  requested: string | undefined,
  previous: PricingState | undefined,
  subscriptionId: string,
): string | undefined {
  if (!plan.subPlans) return undefined;
  const supported = plan.subPlans.filter((subPlan) => !subPlan.deprecated).map((subPlan) => subPlan.name);
  if (requested === undefined) {
    if (plan.fullSubPlan) return plan.fullSubPlan;
    throw errors.pricingSubPlanRequired(plan.name, supported);
  }
  const found = plan.subPlans.find((subPlan) => subPlan.name.toLowerCase() === requested.toLowerCase());
  if (!found) throw errors.pricingSubPlanNotSupported(requested, plan.name, supported);
  const alreadyOnIt = previous?.pricingTier === 'Standard' && previous.subPlan === found.name;
  if (found.deprecated && !alreadyOnIt) {
    throw errors.deprecatedSubPlan(found.name, plan.name, subscriptionId);
  }
  return found.name;
}
