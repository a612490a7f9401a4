/**
 * The values `coverageOf` reads and returns. Callers parse ARM bodies into these shapes once, at the
 * edge (providers, the store, the policy engine); inside, the values are trusted. Section marks (§)
 * point into `reference/defender-va-spec.md`.
 */

// ─── The machine ─────────────────────────────────────────────────────────────────────────────────

/** A VM or Arc extension as the Compute / HybridCompute extension list returns it (§10). */
export interface MachineExtension {
  publisher: string;
  type: string;
  /** The instance name. Never used to identify a Qualys or MDE extension: it is not fixed (§10.1). */
  name: string;
  /** ARM terminal values `Succeeded | Failed | Canceled`, or a transient one; absent means `Succeeded` (§1.3). */
  provisioningState?: string;
}

/** Windows releases that matter to MDVM support and to how Defender deploys MDE onto them. */
export type WindowsVersion =
  | 'Windows7'
  | 'Windows8.1'
  | 'Windows10'
  | 'Windows11'
  | 'WindowsServer2008R2'
  | 'WindowsServer2012'
  | 'WindowsServer2012R2'
  | 'WindowsServer2016'
  | 'WindowsServer2019'
  | 'WindowsServer2022'
  | 'WindowsServer2025';

export type LinuxDistribution =
  | 'RHEL'
  | 'CentOS'
  | 'Ubuntu'
  | 'Debian'
  | 'SLES'
  | 'OracleLinux'
  | 'AmazonLinux'
  | 'RockyLinux'
  | 'AlmaLinux'
  /** A known image that is not a general-purpose distribution MDE supports (appliances, old releases). */
  | 'other';

/**
 * An unknown `version` or `distribution` is assumed supported: the running agent, not vaplane, has the
 * last word, and a missing detail must not turn a machine NotApplicable.
 */
export type OperatingSystem =
  | { family: 'Windows'; version?: WindowsVersion }
  | { family: 'Linux'; distribution?: LinuxDistribution; version?: string };

/** `Microsoft.Compute/virtualMachines` instanceView power states. */
export type AzurePowerState =
  | 'running'
  | 'stopped'
  | 'deallocated'
  | 'starting'
  | 'stopping'
  | 'deallocating';

/** `Microsoft.HybridCompute/machines` `properties.status`. */
export type ArcStatus = 'Connected' | 'Disconnected' | 'Error' | 'Expired';

/** A GCP or AWS instance's state as its connector discovers it. */
export type CloudInstanceState = 'running' | 'stopped' | 'terminated';

interface MachineBase {
  /** ARM id (Azure VM, Arc machine) or the connector's resource id of the instance. */
  id: string;
  name: string;
  /** The Azure subscription the machine (or its connector) lives in. */
  subscriptionId: string;
  os: OperatingSystem;
  extensions: readonly MachineExtension[];
  tags: Readonly<Record<string, string>>;
}

export type Machine =
  | (MachineBase & { kind: 'azureVm'; powerState: AzurePowerState })
  /** Tagged `MDFCSecurityConnector` when a multicloud connector onboarded it (§10.3); then the connector governs it. */
  | (MachineBase & { kind: 'arcMachine'; status: ArcStatus })
  | (MachineBase & { kind: 'gcpInstance'; instanceState: CloudInstanceState })
  | (MachineBase & { kind: 'awsInstance'; instanceState: CloudInstanceState });

export type MachineKind = Machine['kind'];

// ─── The context ─────────────────────────────────────────────────────────────────────────────────

/** ARM's string booleans (`isEnabled`, `enforce`, `inherited`); compared case-insensitively (§15.7). */
export type ArmBoolean = 'True' | 'False';

/** One entry of `pricings/VirtualMachines|CloudPosture` `properties.extensions` (§5.1). */
export interface PricingExtension {
  /** `AgentlessVmScanning`, `MdeDesignatedSubscription`, `FileIntegrityMonitoring`, … */
  name: string;
  isEnabled: ArmBoolean;
  /** `additionalExtensionProperties.ExclusionTags`, parsed from its JSON-in-a-string form (§5.2). */
  exclusionTags?: readonly { key: string; value: string }[];
}

/** Subscription-level `Microsoft.Security/pricings/VirtualMachines` (Defender for Servers, §5). */
export interface ServersPricing {
  pricingTier: 'Free' | 'Standard';
  /** Absent on Standard means the full plan, P2 (§5.1 "When not specified, full plan is applied"). */
  subPlan?: 'P1' | 'P2';
  /** `True` forbids resource-level overrides (§5.2). */
  enforce?: ArmBoolean;
  extensions?: readonly PricingExtension[];
}

/** Resource-level `pricings/virtualMachines` on a VM or Arc machine (§5.2, 2024-01-01). */
export interface ResourcePricing {
  pricingTier: 'Free' | 'Standard';
  /** Only P1 can be set at resource scope (§5.2). */
  subPlan?: 'P1';
  /** `True`: the resource just mirrors its parent; `False`: it is an override. */
  inherited: ArmBoolean;
  inheritedFrom?: string | null;
}

/** Subscription-level `pricings/CloudPosture` (Defender CSPM). */
export interface CspmPricing {
  pricingTier: 'Free' | 'Standard';
  extensions?: readonly PricingExtension[];
}

/** `Microsoft.Security/settings` data-export toggles (§6). Absent optional ones take new-subscription defaults. */
export interface IntegrationSettings {
  /** `WDATP`: the portal's "Endpoint protection" toggle. */
  wdatp: boolean;
  /** `WDATP_UNIFIED_SOLUTION`: MDE unified agent on Windows Server 2012 R2 and 2016. Absent = on. */
  wdatpUnifiedSolution?: boolean;
  /** `WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW`: `true` keeps MDE off Linux machines. Absent = Linux included. */
  wdatpExcludeLinuxPublicPreview?: boolean;
}

/** `serverVulnerabilityAssessmentsSettings/AzureServersSetting` (§2); absent when the subscription never chose. */
export interface ServerVaSetting {
  selectedProvider: 'MdeTvm';
}

/** A per-machine `serverVulnerabilityAssessments/{default|mdeTvm}` resource (§3). */
export interface LegacyServerVulnerabilityAssessment {
  /** `default` = built-in Qualys, `mdeTvm` = MDVM (§3.1); matched case-insensitively. */
  name: 'default' | 'mdeTvm';
  provisioningState: 'Succeeded' | 'Failed' | 'Canceled' | 'Provisioning' | 'Deprovisioning';
}

export interface ConnectorToggle {
  enabled: boolean;
}

/** The `DefenderForServersGcp` / `DefenderForServersAws` offering of a connector (§4.3). */
export interface ConnectorServersOffering {
  /** The spec's `{ type }` object or the doc's plain string, parsed to the value (§15.1). Absent = P2. */
  subPlan?: 'P1' | 'P2';
  arcAutoProvisioning?: ConnectorToggle;
  mdeAutoProvisioning?: ConnectorToggle;
  vaAutoProvisioning?: ConnectorToggle & { type?: 'Qualys' | 'TVM' };
  vmScanners?: ConnectorToggle & { exclusionTags?: Readonly<Record<string, string>> };
}

/** A multicloud security connector, reduced to what decides VA coverage (§4). */
export interface SecurityConnector {
  id: string;
  environmentName: 'GCP' | 'AWS';
  defenderForServers?: ConnectorServersOffering;
  /** `DefenderCspmGcp` / `DefenderCspmAws`; its `vmScanners` is agentless scanning under CSPM. */
  defenderCspm?: { vmScanners?: ConnectorToggle & { exclusionTags?: Readonly<Record<string, string>> } };
}

export type ByolPartner = 'qualys' | 'rapid7';

/** A BYOL `securitySolutions` entry with `securityFamily: Va` (§7). */
export interface ByolSolution {
  name: string;
  partner: ByolPartner;
  subscriptionId: string;
  provisioningState: 'Succeeded' | 'Failed' | 'Updating';
  /** The solution's "Auto deploy" flag. */
  autoProvisioning: boolean;
  /** Machines bound to it (`securitySolutions/{name}/protectedResources/{machineId}`). */
  linkedMachineIds: readonly string[];
}

/** How the recommendation itself is configured for this machine. */
export interface RecommendationState {
  /** The effective policy effect of 501541f7; `Disabled` turns the assessment off (§9.3). */
  policyEffect?: 'AuditIfNotExists' | 'Disabled';
  /** A policy exemption covers this machine. */
  exempt?: boolean;
}

export interface CoverageContext {
  /** The rules read time only from here (DESIGN: real time, real clock). */
  now: Date;
  vaSetting?: ServerVaSetting;
  legacyAssessments?: readonly LegacyServerVulnerabilityAssessment[];
  serversPricing: ServersPricing;
  resourcePricing?: ResourcePricing;
  cspmPricing?: CspmPricing;
  settings: IntegrationSettings;
  /** The connector that discovered a GCP/AWS machine; ignored for other machines. */
  connector?: SecurityConnector;
  /** All BYOL VA solutions of the machine's subscription. */
  byolSolutions?: readonly ByolSolution[];
  recommendation?: RecommendationState;
}

// ─── The answer ──────────────────────────────────────────────────────────────────────────────────

export type VaProvider = 'builtInQualys' | 'mdvmAgent' | 'mdvmAgentless' | 'byol' | 'none';

export type ProviderCoverage =
  | { provider: 'builtInQualys'; method: 'legacyDefaultResource' | 'connectorQualys' }
  | { provider: 'mdvmAgent'; method: 'mdeExtension' | 'mdeAutoDeploy' | 'connectorMdeAutoProvisioning' }
  | {
      provider: 'mdvmAgentless';
      method:
        | 'serversPlanAgentlessScanning'
        | 'cspmAgentlessScanning'
        | 'connectorVmScanners'
        | 'connectorCspmVmScanners';
    }
  | {
      provider: 'byol';
      method: 'byolLinked' | 'byolAutoProvisioning';
      partner: ByolPartner;
      solution: string;
    }
  | { provider: 'none'; method: 'none' };

export type CoverageMethod = ProviderCoverage['method'];

/** `status.cause` when Healthy: the provider as Defender names it (policy 13ce0167 compares it to `vaType`, §9.2). */
export type HealthyCause = 'default' | 'mdeTvm' | 'byol';

export type NotApplicableCause =
  | 'OffByPolicy'
  | 'Exempt'
  | 'MachineNotRunning'
  | 'MachineDisconnected'
  | 'NotCoveredByPlan'
  | 'UnsupportedOperatingSystem';

/** The status of assessment `ffff0522-…` on the machine (§8.1, §8.2). */
export type AssessmentStatus =
  | { code: 'Healthy'; cause: HealthyCause; description: string }
  | { code: 'Unhealthy'; cause: 'VaScannerNotInstalled'; description: string }
  | { code: 'NotApplicable'; cause: NotApplicableCause; description: string };

export type RuleId =
  | 'assessment.offByPolicy'
  | 'assessment.exempt'
  | 'machine.state'
  | 'machine.operatingSystem'
  | 'machine.connectorGoverned'
  | 'plan.subscription'
  | 'plan.resourceOverride'
  | 'plan.connector'
  | 'setting.selectedProvider'
  | 'qualys.builtIn'
  | 'qualys.connector'
  | 'mdvm.agent'
  | 'mdvm.agentless'
  | 'byol.solution'
  | 'select.byolShownByDefault'
  | 'select.mdeTvmOverByol'
  | 'select.agentBasedOverAgentless'
  | 'legacy.qualysExtension'
  | 'status.healthy'
  | 'status.unhealthy'
  | 'status.notApplicable';

export interface Reason {
  /** Stable id, safe to match on. */
  rule: RuleId;
  /** One sentence naming the values it used. */
  message: string;
  /** This rule settled the provider or the assessment status (as opposed to stating context). */
  decided: boolean;
}

export interface LegacyQualysExtension {
  installed: boolean;
  extensions: readonly MachineExtension[];
}

export type Coverage = ProviderCoverage & {
  legacyQualysExtension: LegacyQualysExtension;
  assessmentStatus: AssessmentStatus;
  reasons: readonly Reason[];
};
