import { describe, expect, it } from 'vitest';
import {
  byolPartnerOfTemplate,
  type Coverage,
  type CoverageContext,
  coverageOf,
  isLegacyQualysExtension,
  type Machine,
  type MachineExtension,
  QUALYS_RETIREMENT,
  type RuleId,
  type SecurityConnector,
  VA_ASSESSMENT_KEY,
} from './index.js';

// ─── A small estate builder: one default machine and context, changed by overrides ──────────────

const SUB = '11111111-2222-3333-4444-555555555555';
const OTHER_SUB = '99999999-2222-3333-4444-555555555555';
const VM_ID = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-app-01`;
const BEFORE = new Date('2024-03-01T00:00:00Z');
const AFTER = new Date('2025-06-01T00:00:00Z');

type Kind<K extends Machine['kind']> = Extract<Machine, { kind: K }>;
const base = {
  name: 'vm-app-01',
  subscriptionId: SUB,
  os: { family: 'Windows', version: 'WindowsServer2022' },
  extensions: [],
  tags: {},
} as const;

const vm = (overrides: Partial<Kind<'azureVm'>> = {}): Machine => ({
  ...base,
  id: VM_ID,
  kind: 'azureVm',
  powerState: 'running',
  ...overrides,
});
const arc = (overrides: Partial<Kind<'arcMachine'>> = {}): Machine => ({
  ...base,
  id: `/subscriptions/${SUB}/resourceGroups/rg-onprem/providers/Microsoft.HybridCompute/machines/srv-ams-01`,
  name: 'srv-ams-01',
  kind: 'arcMachine',
  status: 'Connected',
  ...overrides,
});
const gcp = (overrides: Partial<Kind<'gcpInstance'>> = {}): Machine => ({
  ...base,
  id: `/subscriptions/${SUB}/resourceGroups/rg-mc/providers/Microsoft.Security/securityConnectors/gcp-prod/instances/gce-01`,
  name: 'gce-01',
  os: { family: 'Linux', distribution: 'Ubuntu', version: '22.04' },
  kind: 'gcpInstance',
  instanceState: 'running',
  ...overrides,
});
const aws = (overrides: Partial<Kind<'awsInstance'>> = {}): Machine => ({
  ...base,
  id: `/subscriptions/${SUB}/resourceGroups/rg-mc/providers/Microsoft.Security/securityConnectors/aws-prod/instances/i-0abc`,
  name: 'i-0abc',
  os: { family: 'Linux', distribution: 'AmazonLinux', version: '2023' },
  kind: 'awsInstance',
  instanceState: 'running',
  ...overrides,
});

const extension = (
  publisher: string,
  type: string,
  name = type,
  provisioningState?: string,
): MachineExtension =>
  provisioningState === undefined ? { publisher, type, name } : { publisher, type, name, provisioningState };
const MDE_WINDOWS = extension('Microsoft.Azure.AzureDefenderForServers', 'MDE.Windows');
const MDE_LINUX = extension('Microsoft.Azure.AzureDefenderForServers', 'MDE.Linux');
const QUALYS_WINDOWS = extension('Qualys', 'WindowsAgent.AzureSecurityCenter');
const QUALYS_LINUX = extension('Qualys', 'LinuxAgent.AzureSecurityCenter');
const BYOL_QUALYS_AGENT = extension('Qualys', 'QualysAgent', 'QualysAgent');

const free = { serversPricing: { pricingTier: 'Free' } } as const;
const p1 = { serversPricing: { pricingTier: 'Standard', subPlan: 'P1' } } as const;
/** P2 with agentless scanning explicitly off, so that agentless only appears where a row asks for it. */
const p2 = {
  serversPricing: {
    pricingTier: 'Standard',
    subPlan: 'P2',
    extensions: [{ name: 'AgentlessVmScanning', isEnabled: 'False' }],
  },
} as const;
const p2Agentless = {
  serversPricing: {
    pricingTier: 'Standard',
    subPlan: 'P2',
    extensions: [{ name: 'AgentlessVmScanning', isEnabled: 'True' }],
  },
} as const;
const wdatpOn = { settings: { wdatp: true } } as const;
const mdeTvm = { vaSetting: { selectedProvider: 'MdeTvm' } } as const;
const qualysOnboarded = { legacyAssessments: [{ name: 'default', provisioningState: 'Succeeded' }] } as const;
const before = { now: BEFORE } as const;

const byol = (overrides: Partial<NonNullable<CoverageContext['byolSolutions']>[number]> = {}) => ({
  name: 'qualys-byol',
  partner: 'qualys' as const,
  subscriptionId: SUB,
  provisioningState: 'Succeeded' as const,
  autoProvisioning: false,
  linkedMachineIds: [VM_ID],
  ...overrides,
});

const connector = (overrides: Partial<SecurityConnector> = {}): SecurityConnector => ({
  id: `/subscriptions/${SUB}/resourceGroups/rg-mc/providers/Microsoft.Security/securityConnectors/gcp-prod`,
  environmentName: 'GCP',
  ...overrides,
});
const tvm = {
  subPlan: 'P2',
  arcAutoProvisioning: { enabled: true },
  mdeAutoProvisioning: { enabled: true },
  vaAutoProvisioning: { enabled: true, type: 'TVM' },
} as const;

function context(...overrides: Partial<CoverageContext>[]): CoverageContext {
  return Object.assign(
    {
      now: AFTER,
      serversPricing: { pricingTier: 'Free' },
      settings: { wdatp: false },
    } satisfies CoverageContext,
    ...overrides,
  );
}

// ─── One row per rule and per edge ───────────────────────────────────────────────────────────────

interface Row {
  name: string;
  machine?: Machine;
  context?: Partial<CoverageContext>[];
  provider: Coverage['provider'];
  method?: Coverage['method'];
  status: Coverage['assessmentStatus']['code'];
  cause: Coverage['assessmentStatus']['cause'];
  legacy?: boolean;
  /** A rule that must appear among the decided reasons. */
  decidedBy?: RuleId;
}

const rows: Row[] = [
  // Defender for Servers plan (§5, §11)
  {
    name: 'Free tier with nothing else is NotApplicable with cause NotCoveredByPlan',
    context: [free],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'NotCoveredByPlan',
  },
  {
    name: 'P1 without Endpoint protection is Unhealthy with cause VaScannerNotInstalled',
    context: [p1],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'P1 with Endpoint protection on auto-deploys MDE: MDVM agent, Healthy with cause mdeTvm',
    context: [p1, wdatpOn],
    provider: 'mdvmAgent',
    method: 'mdeAutoDeploy',
    status: 'Healthy',
    cause: 'mdeTvm',
    decidedBy: 'mdvm.agent',
  },
  {
    name: 'P1 with Endpoint protection and an installed MDE extension is covered through the extension',
    machine: vm({ extensions: [MDE_WINDOWS] }),
    context: [p1, wdatpOn],
    provider: 'mdvmAgent',
    method: 'mdeExtension',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'Standard with no sub-plan is the full plan, and agentless scanning is on by default there',
    context: [{ serversPricing: { pricingTier: 'Standard' } }],
    provider: 'mdvmAgentless',
    method: 'serversPlanAgentlessScanning',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'P2 with AgentlessVmScanning False and Endpoint protection off is Unhealthy',
    context: [p2],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'P2 with AgentlessVmScanning "true" (any casing) is covered agentlessly',
    context: [
      {
        serversPricing: {
          pricingTier: 'Standard',
          subPlan: 'P2',
          extensions: [{ name: 'agentlessVmScanning', isEnabled: 'true' as 'True' }],
        },
      },
    ],
    provider: 'mdvmAgentless',
    method: 'serversPlanAgentlessScanning',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'Agent-based MDVM wins over agentless when both cover the machine',
    context: [p2Agentless, wdatpOn],
    provider: 'mdvmAgent',
    method: 'mdeAutoDeploy',
    status: 'Healthy',
    cause: 'mdeTvm',
    decidedBy: 'select.agentBasedOverAgentless',
  },
  {
    name: 'AgentlessVmScanning on a P1 plan is not agentless coverage (the extension is P2-only)',
    context: [
      {
        serversPricing: {
          pricingTier: 'Standard',
          subPlan: 'P1',
          extensions: [{ name: 'AgentlessVmScanning', isEnabled: 'True' }],
        },
      },
    ],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'Defender CSPM alone covers an Azure VM agentlessly',
    context: [free, { cspmPricing: { pricingTier: 'Standard' } }],
    provider: 'mdvmAgentless',
    method: 'cspmAgentlessScanning',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'Defender CSPM with agentless scanning off on a Free servers plan is Unhealthy, not NotApplicable',
    context: [
      free,
      {
        cspmPricing: {
          pricingTier: 'Standard',
          extensions: [{ name: 'AgentlessVmScanning', isEnabled: 'False' }],
        },
      },
    ],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'An agentless exclusion tag on the VM keeps agentless scanning off it',
    machine: vm({ tags: { Scan: 'no' } }),
    context: [
      {
        serversPricing: {
          pricingTier: 'Standard',
          subPlan: 'P2',
          extensions: [
            { name: 'AgentlessVmScanning', isEnabled: 'True', exclusionTags: [{ key: 'scan', value: 'no' }] },
          ],
        },
      },
    ],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'Resource-level P1 on a Free subscription lets MDE cover the VM',
    context: [
      free,
      wdatpOn,
      { resourcePricing: { pricingTier: 'Standard', subPlan: 'P1', inherited: 'False' } },
    ],
    provider: 'mdvmAgent',
    method: 'mdeAutoDeploy',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'Resource-level Free under a P2 subscription disables the plan for the VM: NotCoveredByPlan',
    context: [p2Agentless, { resourcePricing: { pricingTier: 'Free', inherited: 'False' } }],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'NotCoveredByPlan',
  },
  {
    name: 'Resource-level P1 under a P2 subscription is ignored, so P2 agentless still covers',
    context: [
      p2Agentless,
      { resourcePricing: { pricingTier: 'Standard', subPlan: 'P1', inherited: 'False' } },
    ],
    provider: 'mdvmAgentless',
    method: 'serversPlanAgentlessScanning',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'A resource-level override is ignored when the subscription plan enforces itself',
    context: [
      { serversPricing: { ...p2Agentless.serversPricing, enforce: 'True' } },
      { resourcePricing: { pricingTier: 'Free', inherited: 'False' } },
    ],
    provider: 'mdvmAgentless',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'Resource-level pricing that is inherited is not an override',
    context: [free, { resourcePricing: { pricingTier: 'Standard', subPlan: 'P1', inherited: 'True' } }],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'NotCoveredByPlan',
  },

  // MDE / Endpoint protection (§6, §11)
  {
    name: 'Endpoint protection off: an installed MDE extension alone does not cover',
    machine: vm({ extensions: [MDE_WINDOWS] }),
    context: [p1],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'A failed MDE extension does not count, and auto-deployment is not assumed over it',
    machine: vm({
      extensions: [
        extension('Microsoft.Azure.AzureDefenderForServers', 'MDE.Windows', 'MDE.Windows', 'Failed'),
      ],
    }),
    context: [p1, wdatpOn],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'The MDE extension is found by publisher and type whatever its instance name',
    machine: vm({
      extensions: [extension('microsoft.azure.azuredefenderforservers', 'mde.windows', 'my-edr')],
    }),
    context: [p1, wdatpOn],
    provider: 'mdvmAgent',
    method: 'mdeExtension',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW on keeps a Linux VM without MDE Unhealthy',
    machine: vm({ os: { family: 'Linux', distribution: 'Ubuntu', version: '22.04' } }),
    context: [p1, { settings: { wdatp: true, wdatpExcludeLinuxPublicPreview: true } }],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW on does not undo an MDE.Linux extension already installed',
    machine: vm({ os: { family: 'Linux', distribution: 'RHEL', version: '8.9' }, extensions: [MDE_LINUX] }),
    context: [p1, { settings: { wdatp: true, wdatpExcludeLinuxPublicPreview: true } }],
    provider: 'mdvmAgent',
    method: 'mdeExtension',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'WDATP_UNIFIED_SOLUTION off keeps Windows Server 2016 without MDE Unhealthy',
    machine: vm({ os: { family: 'Windows', version: 'WindowsServer2016' } }),
    context: [p1, { settings: { wdatp: true, wdatpUnifiedSolution: false } }],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'WDATP_UNIFIED_SOLUTION off does not stop MDE deployment to Windows Server 2019',
    machine: vm({ os: { family: 'Windows', version: 'WindowsServer2019' } }),
    context: [p1, { settings: { wdatp: true, wdatpUnifiedSolution: false } }],
    provider: 'mdvmAgent',
    method: 'mdeAutoDeploy',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'Windows Server 2008 R2 without MDE is not auto-deployed: Unhealthy',
    machine: vm({ os: { family: 'Windows', version: 'WindowsServer2008R2' } }),
    context: [p1, wdatpOn],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },

  // Operating systems
  {
    name: 'Windows Server 2012 (not R2) is NotApplicable with cause UnsupportedOperatingSystem',
    machine: vm({ os: { family: 'Windows', version: 'WindowsServer2012' } }),
    context: [p2Agentless, wdatpOn],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'UnsupportedOperatingSystem',
  },
  {
    name: 'CentOS 6 is older than MDVM supports',
    machine: vm({
      os: { family: 'Linux', distribution: 'CentOS', version: '6.10' },
      extensions: [MDE_LINUX],
    }),
    context: [p1, wdatpOn],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'UnsupportedOperatingSystem',
  },
  {
    name: 'An interim Ubuntu release (23.10) is not an LTS release MDVM assesses',
    machine: vm({ os: { family: 'Linux', distribution: 'Ubuntu', version: '23.10' } }),
    context: [p1, wdatpOn],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'UnsupportedOperatingSystem',
  },
  {
    name: 'A Linux machine whose distribution is not reported is assumed supported',
    machine: vm({ os: { family: 'Linux' } }),
    context: [p1, wdatpOn],
    provider: 'mdvmAgent',
    method: 'mdeAutoDeploy',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'An unsupported OS is still covered by built-in Qualys before the retirement',
    machine: vm({ os: { family: 'Windows', version: 'WindowsServer2012' }, extensions: [QUALYS_WINDOWS] }),
    context: [before, p2, qualysOnboarded],
    provider: 'builtInQualys',
    status: 'Healthy',
    cause: 'default',
    legacy: true,
  },

  // Power state and connection (§10.2, §12)
  {
    name: 'A deallocated VM is NotApplicable with cause MachineNotRunning and keeps its configured provider',
    machine: vm({ powerState: 'deallocated' }),
    context: [p1, wdatpOn],
    provider: 'mdvmAgent',
    status: 'NotApplicable',
    cause: 'MachineNotRunning',
  },
  {
    name: 'A stopped (still allocated) VM is NotApplicable with cause MachineNotRunning',
    machine: vm({ powerState: 'stopped' }),
    context: [free],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'MachineNotRunning',
  },
  {
    name: 'A disconnected Arc machine is NotApplicable with cause MachineDisconnected',
    machine: arc({ status: 'Disconnected' }),
    context: [p1, wdatpOn],
    provider: 'mdvmAgent',
    status: 'NotApplicable',
    cause: 'MachineDisconnected',
  },
  {
    name: 'An expired Arc machine is NotApplicable with cause MachineDisconnected',
    machine: arc({ status: 'Expired' }),
    context: [p1],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'MachineDisconnected',
  },
  {
    name: 'A connected Arc machine on P1 with Endpoint protection gets MDE auto-deployed',
    machine: arc(),
    context: [p1, wdatpOn],
    provider: 'mdvmAgent',
    method: 'mdeAutoDeploy',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'Agentless scanning does not reach an Arc machine',
    machine: arc(),
    context: [p2Agentless],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },

  // Built-in Qualys (§3, §10, §11)
  {
    name: 'Before the retirement, default Succeeded with the Qualys extension on P2 is built-in Qualys, cause default',
    machine: vm({ extensions: [QUALYS_WINDOWS] }),
    context: [before, p2, qualysOnboarded],
    provider: 'builtInQualys',
    method: 'legacyDefaultResource',
    status: 'Healthy',
    cause: 'default',
    legacy: true,
    decidedBy: 'qualys.builtIn',
  },
  {
    name: 'After the retirement the same machine is Unhealthy and its Qualys extension is flagged',
    machine: vm({ extensions: [QUALYS_WINDOWS] }),
    context: [p2, qualysOnboarded],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
    legacy: true,
  },
  {
    name: 'After the retirement a machine with MDE is covered by MDVM and still flags the Qualys extension',
    machine: vm({ extensions: [QUALYS_WINDOWS, MDE_WINDOWS] }),
    context: [p2, wdatpOn, qualysOnboarded],
    provider: 'mdvmAgent',
    method: 'mdeExtension',
    status: 'Healthy',
    cause: 'mdeTvm',
    legacy: true,
  },
  {
    name: 'Before the retirement built-in Qualys needs P2: on P1 it does not cover',
    machine: vm({ extensions: [QUALYS_WINDOWS] }),
    context: [before, p1, qualysOnboarded],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
    legacy: true,
  },
  {
    name: 'Before the retirement the subscription choosing MdeTvm supersedes default',
    machine: vm({ extensions: [QUALYS_WINDOWS] }),
    context: [before, p2, wdatpOn, mdeTvm, qualysOnboarded],
    provider: 'mdvmAgent',
    status: 'Healthy',
    cause: 'mdeTvm',
    legacy: true,
  },
  {
    name: 'Before the retirement a Succeeded per-machine mdeTvm resource supersedes default',
    machine: vm({ extensions: [QUALYS_WINDOWS] }),
    context: [
      before,
      p2Agentless,
      {
        legacyAssessments: [
          { name: 'default', provisioningState: 'Succeeded' },
          { name: 'mdeTvm', provisioningState: 'Succeeded' },
        ],
      },
    ],
    provider: 'mdvmAgentless',
    status: 'Healthy',
    cause: 'mdeTvm',
    legacy: true,
  },
  {
    name: 'Before the retirement a default resource still Provisioning does not cover',
    machine: vm({ extensions: [QUALYS_WINDOWS] }),
    context: [before, p2, { legacyAssessments: [{ name: 'default', provisioningState: 'Provisioning' }] }],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
    legacy: true,
  },
  {
    name: 'Before the retirement default Succeeded without a Qualys extension does not cover',
    context: [before, p2, qualysOnboarded],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
    legacy: false,
  },
  {
    name: 'Before the retirement a Qualys extension without a default resource does not cover but is flagged',
    machine: vm({
      extensions: [QUALYS_LINUX],
      os: { family: 'Linux', distribution: 'SLES', version: '15.5' },
    }),
    context: [before, p2],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
    legacy: true,
  },
  {
    name: 'The Qualys extension is found by publisher and type, not by its instance name',
    machine: vm({ extensions: [extension('qualys', 'windowsagent.azuresecuritycenter', 'ASC-VA')] }),
    context: [before, p2, qualysOnboarded],
    provider: 'builtInQualys',
    status: 'Healthy',
    cause: 'default',
    legacy: true,
  },
  {
    name: 'A BYOL Qualys agent (type QualysAgent) is not the legacy built-in extension',
    machine: vm({ extensions: [BYOL_QUALYS_AGENT] }),
    context: [free, { byolSolutions: [byol()] }],
    provider: 'byol',
    status: 'Healthy',
    cause: 'byol',
    legacy: false,
  },
  {
    name: 'A failed Qualys extension is still flagged as installed, and does not scan',
    machine: vm({
      extensions: [extension('Qualys', 'WindowsAgent.AzureSecurityCenter', 'QualysAgent', 'Failed')],
    }),
    context: [before, p2, qualysOnboarded],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
    legacy: true,
  },
  {
    name: 'Before the retirement, default onboarding outranks MDVM that the subscription never chose',
    machine: vm({ extensions: [QUALYS_WINDOWS, MDE_WINDOWS] }),
    context: [before, p2Agentless, wdatpOn, qualysOnboarded],
    provider: 'builtInQualys',
    status: 'Healthy',
    cause: 'default',
    legacy: true,
  },
  {
    name: 'At 2024-05-01T00:00:00Z exactly built-in Qualys is retired',
    machine: vm({ extensions: [QUALYS_WINDOWS] }),
    context: [{ now: new Date('2024-05-01T00:00:00Z') }, p2, qualysOnboarded],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
    legacy: true,
  },
  {
    name: 'One millisecond before 2024-05-01 built-in Qualys still covers',
    machine: vm({ extensions: [QUALYS_WINDOWS] }),
    context: [{ now: new Date('2024-04-30T23:59:59.999Z') }, p2, qualysOnboarded],
    provider: 'builtInQualys',
    status: 'Healthy',
    cause: 'default',
    legacy: true,
  },

  // BYOL (§7)
  {
    name: 'A linked BYOL solution covers a Free-tier VM, partner shown, cause byol',
    context: [free, { byolSolutions: [byol()] }],
    provider: 'byol',
    method: 'byolLinked',
    status: 'Healthy',
    cause: 'byol',
    decidedBy: 'byol.solution',
  },
  {
    name: 'BYOL is shown over MDVM while the subscription has not chosen MdeTvm',
    context: [p2Agentless, wdatpOn, { byolSolutions: [byol({ partner: 'rapid7', name: 'rapid7-byol' })] }],
    provider: 'byol',
    status: 'Healthy',
    cause: 'byol',
    decidedBy: 'select.byolShownByDefault',
  },
  {
    name: 'The subscription choosing MdeTvm shows MDVM over BYOL',
    context: [p1, wdatpOn, mdeTvm, { byolSolutions: [byol()] }],
    provider: 'mdvmAgent',
    status: 'Healthy',
    cause: 'mdeTvm',
    decidedBy: 'select.mdeTvmOverByol',
  },
  {
    name: 'The subscription choosing MdeTvm falls back to BYOL where MDVM cannot cover',
    context: [free, mdeTvm, { byolSolutions: [byol()] }],
    provider: 'byol',
    status: 'Healthy',
    cause: 'byol',
    decidedBy: 'select.mdeTvmOverByol',
  },
  {
    name: "The subscription's only auto-deploy BYOL solution covers an unlinked VM",
    context: [
      free,
      {
        byolSolutions: [
          byol({ autoProvisioning: true, linkedMachineIds: [] }),
          byol({ name: 'spare', linkedMachineIds: [] }),
        ],
      },
    ],
    provider: 'byol',
    method: 'byolAutoProvisioning',
    status: 'Healthy',
    cause: 'byol',
  },
  {
    name: 'Two auto-deploy BYOL solutions auto-deploy nothing: an unlinked Free-tier VM is Unhealthy',
    context: [
      free,
      {
        byolSolutions: [
          byol({ autoProvisioning: true, linkedMachineIds: [] }),
          byol({ name: 'b', autoProvisioning: true, linkedMachineIds: [] }),
        ],
      },
    ],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'BYOL does not cover Arc machines',
    machine: arc(),
    context: [free, { byolSolutions: [byol({ autoProvisioning: true })] }],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'NotCoveredByPlan',
  },
  {
    name: "Another subscription's BYOL solution does not cover the VM",
    context: [free, { byolSolutions: [byol({ subscriptionId: OTHER_SUB })] }],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'NotCoveredByPlan',
  },
  {
    name: 'A failed BYOL solution does not cover its linked VM',
    context: [free, { byolSolutions: [byol({ provisioningState: 'Failed' })] }],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'BYOL links match machine ids case-insensitively',
    context: [free, { byolSolutions: [byol({ linkedMachineIds: [VM_ID.toLowerCase()] })] }],
    provider: 'byol',
    status: 'Healthy',
    cause: 'byol',
  },
  {
    name: 'Before the retirement a BYOL partner is shown over built-in Qualys',
    machine: vm({ extensions: [QUALYS_WINDOWS] }),
    context: [before, p2, qualysOnboarded, { byolSolutions: [byol()] }],
    provider: 'byol',
    status: 'Healthy',
    cause: 'byol',
    legacy: true,
  },

  // Multicloud connectors (§4)
  {
    name: 'A GCP instance whose connector selects TVM with MDE and Arc auto-provisioning is covered by the MDE agent',
    machine: gcp(),
    context: [{ connector: connector({ defenderForServers: tvm }) }],
    provider: 'mdvmAgent',
    method: 'connectorMdeAutoProvisioning',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'A GCP connector selecting TVM with MDE auto-provisioning off leaves the instance Unhealthy',
    machine: gcp(),
    context: [
      { connector: connector({ defenderForServers: { ...tvm, mdeAutoProvisioning: { enabled: false } } }) },
    ],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'MDE auto-provisioning without Arc auto-provisioning does not reach a GCP instance',
    machine: gcp(),
    context: [
      { connector: connector({ defenderForServers: { ...tvm, arcAutoProvisioning: { enabled: false } } }) },
    ],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'An AWS connector still selecting Qualys covers nothing after the retirement',
    machine: aws(),
    context: [
      {
        connector: connector({
          environmentName: 'AWS',
          defenderForServers: {
            subPlan: 'P2',
            arcAutoProvisioning: { enabled: true },
            vaAutoProvisioning: { enabled: true, type: 'Qualys' },
          },
        }),
      },
    ],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'An AWS connector selecting Qualys on P2 covers the instance before the retirement',
    machine: aws(),
    context: [
      before,
      {
        connector: connector({
          environmentName: 'AWS',
          defenderForServers: { ...tvm, vaAutoProvisioning: { enabled: true, type: 'Qualys' } },
        }),
      },
    ],
    provider: 'builtInQualys',
    method: 'connectorQualys',
    status: 'Healthy',
    cause: 'default',
    decidedBy: 'qualys.connector',
  },
  {
    name: 'An AWS connector selecting Qualys on P1 does not cover before the retirement',
    machine: aws(),
    context: [
      before,
      {
        connector: connector({
          environmentName: 'AWS',
          defenderForServers: {
            subPlan: 'P1',
            arcAutoProvisioning: { enabled: true },
            vaAutoProvisioning: { enabled: true, type: 'Qualys' },
          },
        }),
      },
    ],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'A GCP instance is covered agentlessly by P2 vmScanners',
    machine: gcp(),
    context: [{ connector: connector({ defenderForServers: { vmScanners: { enabled: true } } }) }],
    provider: 'mdvmAgentless',
    method: 'connectorVmScanners',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'vmScanners on a P1 connector offering are not agentless coverage',
    machine: gcp(),
    context: [
      { connector: connector({ defenderForServers: { subPlan: 'P1', vmScanners: { enabled: true } } }) },
    ],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: "The connector's Defender CSPM vmScanners cover an AWS instance",
    machine: aws(),
    context: [
      { connector: connector({ environmentName: 'AWS', defenderCspm: { vmScanners: { enabled: true } } }) },
    ],
    provider: 'mdvmAgentless',
    method: 'connectorCspmVmScanners',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'Connector vmScanners exclusion tags keep agentless scanning off a tagged instance',
    machine: gcp({ tags: { env: 'sandbox' } }),
    context: [
      {
        connector: connector({
          defenderForServers: { vmScanners: { enabled: true, exclusionTags: { env: 'sandbox' } } },
        }),
      },
    ],
    provider: 'none',
    status: 'Unhealthy',
    cause: 'VaScannerNotInstalled',
  },
  {
    name: 'A GCP instance without its connector is NotApplicable with cause NotCoveredByPlan',
    machine: gcp(),
    context: [p2Agentless, wdatpOn],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'NotCoveredByPlan',
  },
  {
    name: 'A GCP instance given an AWS connector is not governed by it',
    machine: gcp(),
    context: [{ connector: connector({ environmentName: 'AWS', defenderForServers: tvm }) }],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'NotCoveredByPlan',
  },
  {
    name: 'An Arc machine tagged MDFCSecurityConnector follows its connector, not the subscription plan',
    machine: arc({
      tags: { mdfcsecurityconnector: 'gcp-prod' },
      os: { family: 'Linux', distribution: 'Debian', version: '12' },
    }),
    context: [
      free,
      {
        connector: connector({
          defenderForServers: { ...tvm, subPlan: 'P1', arcAutoProvisioning: { enabled: false } },
        }),
      },
    ],
    provider: 'mdvmAgent',
    method: 'connectorMdeAutoProvisioning',
    status: 'Healthy',
    cause: 'mdeTvm',
  },
  {
    name: 'A connector-onboarded Arc machine with its Qualys extension is flagged after the retirement',
    machine: arc({
      tags: { MDFCSecurityConnector: 'aws-prod' },
      extensions: [QUALYS_LINUX, MDE_LINUX],
      os: { family: 'Linux', distribution: 'AmazonLinux', version: '2' },
    }),
    context: [
      {
        connector: connector({
          environmentName: 'AWS',
          defenderForServers: { subPlan: 'P2', vaAutoProvisioning: { enabled: true, type: 'Qualys' } },
        }),
      },
    ],
    provider: 'mdvmAgent',
    method: 'mdeExtension',
    status: 'Healthy',
    cause: 'mdeTvm',
    legacy: true,
  },
  {
    name: 'A stopped AWS instance is NotApplicable with cause MachineNotRunning',
    machine: aws({ instanceState: 'stopped' }),
    context: [{ connector: connector({ environmentName: 'AWS', defenderForServers: tvm }) }],
    provider: 'mdvmAgent',
    status: 'NotApplicable',
    cause: 'MachineNotRunning',
  },
  {
    name: 'A BYOL solution does not cover a multicloud instance',
    machine: gcp(),
    context: [{ byolSolutions: [byol({ autoProvisioning: true })] }],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'NotCoveredByPlan',
  },

  // The recommendation itself (§8.2, §9.3)
  {
    name: 'A Disabled policy effect makes the assessment NotApplicable with cause OffByPolicy',
    context: [p1, wdatpOn, { recommendation: { policyEffect: 'Disabled' } }],
    provider: 'mdvmAgent',
    status: 'NotApplicable',
    cause: 'OffByPolicy',
    decidedBy: 'assessment.offByPolicy',
  },
  {
    name: 'An exempt machine is NotApplicable with cause Exempt',
    context: [p1, { recommendation: { exempt: true } }],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'Exempt',
    decidedBy: 'assessment.exempt',
  },
  {
    name: 'OffByPolicy is reported before the machine being offline',
    machine: vm({ powerState: 'deallocated' }),
    context: [free, { recommendation: { policyEffect: 'Disabled', exempt: true } }],
    provider: 'none',
    status: 'NotApplicable',
    cause: 'OffByPolicy',
  },
];

describe('coverageOf, one row per rule', () => {
  it.each(rows)('$name', (row) => {
    const coverage = coverageOf(row.machine ?? vm(), context(...(row.context ?? [])));
    expect({
      provider: coverage.provider,
      status: coverage.assessmentStatus.code,
      cause: coverage.assessmentStatus.cause,
    }).toEqual({ provider: row.provider, status: row.status, cause: row.cause });
    if (row.method) expect(coverage.method).toBe(row.method);
    if (row.legacy !== undefined) expect(coverage.legacyQualysExtension.installed).toBe(row.legacy);
    if (row.decidedBy) {
      expect(coverage.reasons.filter((reason) => reason.decided).map((reason) => reason.rule)).toContain(
        row.decidedBy,
      );
    }
  });
});

describe('coverageOf, what a reader sees', () => {
  it('names the BYOL partner and solution', () => {
    const coverage = coverageOf(
      vm(),
      context(free, { byolSolutions: [byol({ partner: 'rapid7', name: 'r7' })] }),
    );
    expect(coverage).toMatchObject({ provider: 'byol', partner: 'rapid7', solution: 'r7' });
  });

  it('lists the legacy Qualys extensions it found, and only those', () => {
    const coverage = coverageOf(
      vm({ extensions: [QUALYS_WINDOWS, MDE_WINDOWS, BYOL_QUALYS_AGENT] }),
      context(p1, wdatpOn),
    );
    expect(coverage.legacyQualysExtension.extensions).toEqual([QUALYS_WINDOWS]);
    expect(coverage.reasons.map((reason) => reason.rule)).toContain('legacy.qualysExtension');
  });

  it('explains a P1 machine without Endpoint protection with the values it used', () => {
    const coverage = coverageOf(vm(), context(p1));
    const messages = coverage.reasons.map((reason) => reason.message).join('\n');
    expect(messages).toMatch(/Standard P1/);
    expect(messages).toMatch(/Endpoint protection \(WDATP\) is off/);
    expect(coverage.reasons.at(-1)).toMatchObject({ rule: 'status.unhealthy', decided: true });
  });

  it('says when Qualys retired and what time it is', () => {
    const coverage = coverageOf(vm({ extensions: [QUALYS_WINDOWS] }), context(p2, qualysOnboarded));
    const qualys = coverage.reasons.find((reason) => reason.rule === 'qualys.builtIn');
    expect(qualys?.message).toMatch(/retired on 2024-05-01 and now is 2025-06-01/);
  });

  it('does not read the clock: the same input gives the same answer', () => {
    const input = [vm({ extensions: [QUALYS_WINDOWS] }), context(before, p2, qualysOnboarded)] as const;
    expect(coverageOf(...input)).toEqual(coverageOf(...input));
  });
});

describe('exported helpers', () => {
  it('matches the legacy Qualys extension on publisher and type only', () => {
    expect(isLegacyQualysExtension({ publisher: 'Qualys', type: 'LinuxAgent.AzureSecurityCenter' })).toBe(
      true,
    );
    expect(isLegacyQualysExtension({ publisher: 'QUALYS', type: 'windowsagent.azuresecuritycenter' })).toBe(
      true,
    );
    expect(isLegacyQualysExtension({ publisher: 'Qualys', type: 'QualysAgentLinux' })).toBe(false);
    expect(isLegacyQualysExtension({ publisher: 'Contoso', type: 'WindowsAgent.AzureSecurityCenter' })).toBe(
      false,
    );
  });

  it('knows the assessment key, the retirement instant and the BYOL partners', () => {
    expect(VA_ASSESSMENT_KEY).toBe('ffff0522-1e88-47fc-8382-2a80ba848f5d');
    expect(QUALYS_RETIREMENT.toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(byolPartnerOfTemplate('qualys.qualysAgent')).toBe('qualys');
    expect(byolPartnerOfTemplate('rapid7.insightplatform')).toBe('rapid7');
    expect(byolPartnerOfTemplate('qualys/qualysAgent')).toBe('qualys');
    expect(byolPartnerOfTemplate('barracuda.waf')).toBeUndefined();
  });
});

// ─── Property checks over a small enumerated input space ─────────────────────────────────────────

const MACHINES: Machine[] = [
  vm(),
  vm({ powerState: 'deallocated' }),
  vm({ os: { family: 'Linux', distribution: 'Ubuntu', version: '22.04' } }),
  vm({ os: { family: 'Windows', version: 'WindowsServer2012' } }),
  vm({ os: { family: 'Linux', distribution: 'CentOS', version: '6.10' } }),
  arc(),
  arc({ status: 'Disconnected' }),
  arc({ tags: { MDFCSecurityConnector: 'gcp-prod' } }),
  gcp(),
  aws({ instanceState: 'stopped' }),
];
const EXTENSION_SETS: MachineExtension[][] = [
  [],
  [MDE_WINDOWS],
  [QUALYS_WINDOWS],
  [QUALYS_LINUX, MDE_LINUX],
  [
    extension('Microsoft.Azure.AzureDefenderForServers', 'MDE.Windows', 'MDE.Windows', 'Failed'),
    BYOL_QUALYS_AGENT,
  ],
];
const PLANS: Partial<CoverageContext>[] = [
  free,
  p1,
  p2,
  p2Agentless,
  { ...free, cspmPricing: { pricingTier: 'Standard' } },
];
const SETTINGS: Partial<CoverageContext>[] = [
  { settings: { wdatp: false } },
  { settings: { wdatp: true, wdatpExcludeLinuxPublicPreview: true, wdatpUnifiedSolution: false } },
  { settings: { wdatp: true } },
];
const CHOICES: Partial<CoverageContext>[] = [
  {},
  mdeTvm,
  qualysOnboarded,
  {
    ...mdeTvm,
    legacyAssessments: [
      { name: 'default', provisioningState: 'Succeeded' },
      { name: 'mdeTvm', provisioningState: 'Failed' },
    ],
  },
];
const EXTRAS: Partial<CoverageContext>[] = [
  {},
  { byolSolutions: [byol()] },
  {
    byolSolutions: [byol({ linkedMachineIds: [], autoProvisioning: true })],
    resourcePricing: { pricingTier: 'Free', inherited: 'False' },
  },
  { connector: connector({ defenderForServers: tvm }) },
  {
    connector: connector({
      defenderForServers: {
        subPlan: 'P2',
        arcAutoProvisioning: { enabled: true },
        vaAutoProvisioning: { enabled: true, type: 'Qualys' },
        vmScanners: { enabled: true },
      },
    }),
    recommendation: { exempt: true },
  },
];

function* inputSpace(): Generator<{ machine: Machine; context: CoverageContext; label: string }> {
  for (const [m, machine] of MACHINES.entries())
    for (const [e, extensions] of EXTENSION_SETS.entries())
      for (const [p, plan] of PLANS.entries())
        for (const [s, settings] of SETTINGS.entries())
          for (const [c, choice] of CHOICES.entries())
            for (const [x, extra] of EXTRAS.entries()) {
              yield {
                machine: { ...machine, extensions },
                context: context(before, plan, settings, choice, extra),
                label: `machine ${m} extensions ${e} plan ${p} settings ${s} choice ${c} extra ${x}`,
              };
            }
}

const CAUSE_OF: Record<Coverage['provider'], string | undefined> = {
  builtInQualys: 'default',
  mdvmAgent: 'mdeTvm',
  mdvmAgentless: 'mdeTvm',
  byol: 'byol',
  none: undefined,
};

describe('coverageOf over every combination of a small input space', () => {
  const space = [...inputSpace()];

  it(`never throws, and always explains itself with a decided reason (${space.length} combinations)`, () => {
    const failures: string[] = [];
    for (const { machine, context: input, label } of space) {
      for (const now of [BEFORE, AFTER]) {
        const coverage = coverageOf(machine, { ...input, now });
        const decided = coverage.reasons.filter((reason) => reason.decided);
        const last = coverage.reasons.at(-1);
        const sloppy = coverage.reasons.find(
          (reason) => /undefined|NaN|\[object/.test(reason.message) || reason.message === '',
        );
        if (decided.length === 0) failures.push(`${label}: no decided reason`);
        if (!last?.decided || !/^(status|assessment)\./.test(last.rule))
          failures.push(`${label}: status reason not last`);
        if (sloppy) failures.push(`${label}: sloppy message "${sloppy.message}"`);
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it('keeps status, cause, provider and the legacy flag consistent', () => {
    const failures: string[] = [];
    for (const { machine, context: input, label } of space) {
      const coverage = coverageOf(machine, input);
      const status = coverage.assessmentStatus;
      if (status.code === 'Healthy' && status.cause !== CAUSE_OF[coverage.provider])
        failures.push(`${label}: cause`);
      if (status.code === 'Unhealthy' && coverage.provider !== 'none')
        failures.push(`${label}: covered yet Unhealthy`);
      if (
        coverage.provider !== 'none' &&
        status.code === 'NotApplicable' &&
        !['OffByPolicy', 'Exempt', 'MachineNotRunning', 'MachineDisconnected'].includes(status.cause)
      ) {
        failures.push(`${label}: covered yet ${status.cause}`);
      }
      if (coverage.legacyQualysExtension.installed !== machine.extensions.some(isLegacyQualysExtension)) {
        failures.push(`${label}: legacy flag`);
      }
      if (coverage.provider === 'byol' && machine.kind !== 'azureVm')
        failures.push(`${label}: BYOL off an Azure VM`);
      if (coverage.method === 'serversPlanAgentlessScanning' && machine.kind !== 'azureVm') {
        failures.push(`${label}: agentless on ${machine.kind}`);
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it('flips only built-in Qualys coverage when time passes the retirement', () => {
    const failures: string[] = [];
    let flipped = 0;
    for (const { machine, context: input, label } of space) {
      const earlier = coverageOf(machine, { ...input, now: new Date(QUALYS_RETIREMENT.getTime() - 1) });
      const later = coverageOf(machine, { ...input, now: QUALYS_RETIREMENT });
      if (later.provider === 'builtInQualys') failures.push(`${label}: Qualys after the retirement`);
      if (earlier.provider === 'builtInQualys') {
        flipped += 1;
      } else if (
        earlier.provider !== later.provider ||
        earlier.assessmentStatus.code !== later.assessmentStatus.code
      ) {
        failures.push(
          `${label}: ${earlier.provider} became ${later.provider} though Qualys was not involved`,
        );
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
    expect(flipped).toBeGreaterThan(0);
  });
});
