/**
 * `coverageOf`: which vulnerability-assessment provider covers a machine, how, and why. Pure: values in,
 * a value out, time read only from `context.now`. Every rule names its source in
 * `reference/defender-va-spec.md` (§); where Microsoft's sources disagree the decision is written
 * beside the rule and in README.md.
 *
 * Shape of the decision: evaluate each route (BYOL, built-in Qualys, MDVM agent, MDVM agentless) to a
 * finding that either covers the machine or says what blocks it; pick one by precedence; then derive the
 * status of assessment ffff0522 from the pick and from whether the machine can be assessed at all.
 */
import {
  armFalse,
  armTrue,
  extensionSucceeded,
  isLegacyQualysExtension,
  isMdeExtension,
  isQualysRetired,
  QUALYS_RETIREMENT,
  SECURITY_CONNECTOR_TAG,
} from './catalogue.js';
import { mdeDeployPath, mdvmSupport, type OsSupport } from './operatingSystems.js';
import type {
  AssessmentStatus,
  Coverage,
  CoverageContext,
  Machine,
  MachineExtension,
  PricingExtension,
  ProviderCoverage,
  Reason,
  RuleId,
  SecurityConnector,
} from './types.js';

type ServersPlan = 'Free' | 'P1' | 'P2';
type AzureMachine = Extract<Machine, { kind: 'azureVm' | 'arcMachine' }>;

/** One route's verdict: `coverage` is set when the route covers the machine. */
interface Finding {
  rule: RuleId;
  message: string;
  coverage?: ProviderCoverage;
}

interface Evaluation {
  facts: Reason[];
  routes: Reason[];
  coverage: ProviderCoverage;
  /** A Defender plan (or a BYOL solution) offers this machine some VA route, so a gap is Unhealthy. */
  vaOffered: boolean;
}

const NONE: ProviderCoverage = { provider: 'none', method: 'none' };
const AGENTLESS = 'AgentlessVmScanning';

const fact = (rule: RuleId, message: string): Reason => ({ rule, message, decided: false });
const same = (left: string, right: string): boolean => left.toLowerCase() === right.toLowerCase();
const names = (extensions: readonly MachineExtension[]): string =>
  extensions
    .map(
      (extension) => `'${extension.name}' (${extension.type}, ${extension.provisioningState ?? 'Succeeded'})`,
    )
    .join(', ');

export function coverageOf(machine: Machine, context: CoverageContext): Coverage {
  const state = machineState(machine);
  const os = mdvmSupport(machine.os);
  const osFact = fact(
    'machine.operatingSystem',
    os.supported
      ? `${os.label} ${os.assumed ? 'is assumed supported by MDVM (not enough detail to say otherwise)' : 'is supported by MDVM'}.`
      : `${os.why}.`,
  );
  const evaluation =
    machine.kind === 'gcpInstance' ||
    machine.kind === 'awsInstance' ||
    (machine.kind === 'arcMachine' && connectorTagOf(machine) !== undefined)
      ? evaluateMulticloud(machine, context, os)
      : evaluateAzure(machine, context, os);

  const legacyExtensions = machine.extensions.filter(isLegacyQualysExtension);
  const legacyFacts =
    legacyExtensions.length === 0
      ? []
      : [
          fact(
            'legacy.qualysExtension',
            evaluation.coverage.provider === 'builtInQualys'
              ? `The built-in Qualys extension ${names(legacyExtensions)} is the scanner in use.`
              : `The legacy built-in Qualys extension ${names(legacyExtensions)} is still installed though Qualys does not cover this machine: remove it (matched on publisher Qualys and type, never on name).`,
          ),
        ];

  const status = assessmentStatusOf(evaluation, context, state, os);
  return {
    ...evaluation.coverage,
    legacyQualysExtension: { installed: legacyExtensions.length > 0, extensions: legacyExtensions },
    assessmentStatus: status.status,
    reasons: [
      fact('machine.state', state.message),
      osFact,
      ...evaluation.facts,
      ...evaluation.routes,
      ...legacyFacts,
      { rule: status.rule, message: status.status.description, decided: true },
    ],
  };
}

// ─── The machine itself ──────────────────────────────────────────────────────────────────────────

interface MachineState {
  online: boolean;
  offlineCause: 'MachineNotRunning' | 'MachineDisconnected';
  message: string;
}

/**
 * Only a running VM or a Connected Arc machine is assessed. Decision: every other power state counts as
 * not running (Microsoft's own remediation script skips VMs whose display status isn't `VM running` and
 * Arc machines that aren't `Connected`, §12; removal needs a running VM, §10.2).
 */
function machineState(machine: Machine): MachineState {
  switch (machine.kind) {
    case 'azureVm':
      return {
        online: machine.powerState === 'running',
        offlineCause: 'MachineNotRunning',
        message: `Azure VM power state is ${machine.powerState}.`,
      };
    case 'arcMachine':
      return {
        online: machine.status === 'Connected',
        offlineCause: 'MachineDisconnected',
        message: `Arc machine status is ${machine.status}.`,
      };
    default:
      return {
        online: machine.instanceState === 'running',
        offlineCause: 'MachineNotRunning',
        message: `${machine.kind === 'gcpInstance' ? 'GCP' : 'AWS'} instance state is ${machine.instanceState}.`,
      };
  }
}

/** Arc machines a multicloud connector onboarded carry this tag (§10.3); their connector governs them. */
function connectorTagOf(machine: Machine): string | undefined {
  const key = Object.keys(machine.tags).find((tag) => same(tag, SECURITY_CONNECTOR_TAG));
  return key === undefined ? undefined : machine.tags[key];
}

// ─── Azure VMs and Arc machines ──────────────────────────────────────────────────────────────────

function evaluateAzure(machine: AzureMachine, context: CoverageContext, os: OsSupport): Evaluation {
  const plan = azurePlan(machine, context);
  const mdeTvmChosen = context.vaSetting !== undefined && same(context.vaSetting.selectedProvider, 'MdeTvm');
  const byol = byolRoute(machine, context);
  const choice = choose({
    byol,
    qualys: builtInQualysRoute(machine, context, plan.plan, mdeTvmChosen),
    agent: azureAgentRoute(machine, context, plan.plan, os),
    agentless: azureAgentlessRoute(machine, context, plan.plan, os),
    mdeTvmChosen,
  });
  const cspmStandard = context.cspmPricing?.pricingTier === 'Standard';
  return {
    facts: [...plan.reasons, selectedProviderFact(context, mdeTvmChosen)],
    ...choice,
    vaOffered:
      plan.plan !== 'Free' ||
      (machine.kind === 'azureVm' && cspmStandard) ||
      (machine.kind === 'azureVm' && byol !== undefined),
  };
}

/**
 * The Defender for Servers plan in force for this machine (§5). A resource-level override (2024-01-01,
 * `inherited: False`) applies unless the subscription sets `enforce: True` (§5.2). Decision: a P1
 * override under a P2 subscription is ignored, because "P2 can only be *disabled* per resource" (§11
 * plan scope); a Free override (disabling the plan for this machine) always applies.
 */
function azurePlan(
  machine: AzureMachine,
  context: CoverageContext,
): { plan: ServersPlan; reasons: Reason[] } {
  const pricing = context.serversPricing;
  const subscriptionPlan: ServersPlan =
    pricing.pricingTier === 'Standard' ? (pricing.subPlan ?? 'P2') : 'Free';
  const reasons = [
    fact(
      'plan.subscription',
      pricing.pricingTier === 'Free'
        ? 'Defender for Servers is Free on the subscription.'
        : pricing.subPlan
          ? `Defender for Servers is Standard ${pricing.subPlan} on the subscription.`
          : 'Defender for Servers is Standard with no sub-plan on the subscription, which is the full plan, P2.',
    ),
  ];
  const override = context.resourcePricing;
  if (override === undefined || armTrue(override.inherited)) return { plan: subscriptionPlan, reasons };
  const overridePlan: ServersPlan = override.pricingTier === 'Standard' ? 'P1' : 'Free';
  const overrideText = override.pricingTier === 'Standard' ? 'Standard P1' : 'Free';
  if (armTrue(pricing.enforce)) {
    reasons.push(
      fact(
        'plan.resourceOverride',
        `The ${machine.name} pricing override (${overrideText}) is ignored: the subscription plan has enforce True.`,
      ),
    );
    return { plan: subscriptionPlan, reasons };
  }
  if (overridePlan === 'P1' && subscriptionPlan === 'P2') {
    reasons.push(
      fact(
        'plan.resourceOverride',
        `The ${machine.name} pricing override (Standard P1) is ignored: under a P2 subscription the plan can only be disabled per resource.`,
      ),
    );
    return { plan: subscriptionPlan, reasons };
  }
  reasons.push(
    fact(
      'plan.resourceOverride',
      overridePlan === 'Free'
        ? `Defender for Servers is disabled on ${machine.name} by a resource-level pricing override (Free).`
        : `Defender for Servers is Standard P1 on ${machine.name} by a resource-level pricing override.`,
    ),
  );
  return { plan: overridePlan, reasons };
}

function selectedProviderFact(context: CoverageContext, mdeTvmChosen: boolean): Reason {
  const legacy = (context.legacyAssessments ?? []).map(
    (assessment) => `${assessment.name} (${assessment.provisioningState})`,
  );
  return fact(
    'setting.selectedProvider',
    `${mdeTvmChosen ? 'The subscription selected provider MdeTvm (AzureServersSetting)' : 'The subscription has no AzureServersSetting, so it never chose MdeTvm'}; ${legacy.length === 0 ? 'the machine has no legacy serverVulnerabilityAssessments resource' : `legacy serverVulnerabilityAssessments on the machine: ${legacy.join(', ')}`}.`,
  );
}

/**
 * Built-in Qualys (§3): the per-machine `default` resource, Succeeded, with the Qualys extension
 * installed (the custom policy `deploy-qualys-va` checks `provisioningState == Succeeded`, §10.1), on
 * Defender for Servers P2 (§3.5), before 2024-05-01 (§11). Decision: once the subscription selects
 * `MdeTvm`, or the machine has a Succeeded `mdeTvm` resource, MDVM supersedes `default` even before the
 * retirement — the setting "propagate[s] the findings from … MDVM to all supported machines" (§9.1).
 */
function builtInQualysRoute(
  machine: AzureMachine,
  context: CoverageContext,
  plan: ServersPlan,
  mdeTvmChosen: boolean,
): Finding | undefined {
  const rule: RuleId = 'qualys.builtIn';
  const legacy = context.legacyAssessments ?? [];
  const onboarding = legacy.find((assessment) => same(assessment.name, 'default'));
  const mdeTvm = legacy.find((assessment) => same(assessment.name, 'mdeTvm'));
  const extensions = machine.extensions.filter(isLegacyQualysExtension);
  if (onboarding === undefined && extensions.length === 0) return undefined;
  if (onboarding === undefined) {
    return {
      rule,
      message:
        'A Qualys extension is present but no serverVulnerabilityAssessments/default resource onboards the machine to built-in Qualys.',
    };
  }
  // §11 timeline: the retirement completes on 2024-05-01.
  if (isQualysRetired(context.now)) {
    return {
      rule,
      message: `Built-in Qualys (default, ${onboarding.provisioningState}) no longer covers machines: it retired on ${QUALYS_RETIREMENT.toISOString().slice(0, 10)} and now is ${isoDate(context.now)}.`,
    };
  }
  // §2, §9.1: decision above.
  if (mdeTvmChosen) {
    return {
      rule,
      message:
        "The subscription selected MdeTvm, which supersedes the machine's default (Qualys) onboarding.",
    };
  }
  // §3.1: `mdeTvm` is the per-machine MDVM onboarding.
  if (mdeTvm !== undefined && mdeTvm.provisioningState === 'Succeeded') {
    return {
      rule,
      message: "The machine's mdeTvm resource (Succeeded) supersedes its default (Qualys) onboarding.",
    };
  }
  // §3.3: only a provisioned resource onboards (Terraform treats the 404 before it as Pending, §3.5).
  if (onboarding.provisioningState !== 'Succeeded') {
    return {
      rule,
      message: `The default (Qualys) resource is ${onboarding.provisioningState}, not Succeeded.`,
    };
  }
  // §3.5: "Requires Microsoft Defender for servers Plan 2".
  if (plan !== 'P2') {
    return {
      rule,
      message: `Built-in Qualys requires Defender for Servers Plan 2; this machine has ${plan}.`,
    };
  }
  // §10.1: the scanner is the extension, found by publisher and type; it must have provisioned.
  const installed = extensions.find(extensionSucceeded);
  if (installed === undefined) {
    return {
      rule,
      message:
        extensions.length === 0
          ? 'The default (Qualys) resource is Succeeded but no Qualys extension is installed, so nothing scans.'
          : `The Qualys extension ${names(extensions)} has not provisioned.`,
    };
  }
  return {
    rule,
    message: `Onboarded to built-in Qualys: default is Succeeded, extension '${installed.name}' (${installed.type}) is installed, the plan is P2 and the retirement (${QUALYS_RETIREMENT.toISOString().slice(0, 10)}) is still ahead.`,
    coverage: { provider: 'builtInQualys', method: 'legacyDefaultResource' },
  };
}

/**
 * MDVM agent-based (§11 "agent-based via MDE sensor in P1 and P2"; "with P1 the MDE integration must be
 * enabled"). Needs Defender for Servers P1/P2, Endpoint protection (`WDATP`, §6) on, and MDE on the
 * machine. Decision on "MDE present": a Succeeded MDE extension counts; so does WDATP on for an OS that
 * Defender auto-deploys MDE to (faq-scanner-detection: "If endpoint protection is enabled, the MDVM agent
 * is already enabled"), unless the legacy `WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW` / `WDATP_UNIFIED_SOLUTION`
 * settings keep that OS out (§6). An MDE extension without the WDATP integration does not feed Defender.
 */
function azureAgentRoute(
  machine: AzureMachine,
  context: CoverageContext,
  plan: ServersPlan,
  os: OsSupport,
): Finding {
  const rule: RuleId = 'mdvm.agent';
  const settings = context.settings;
  const mde = machine.extensions.filter(isMdeExtension);
  const installed = mde.find(extensionSucceeded);
  // §11: agent-based MDVM comes with P1 and P2.
  if (plan === 'Free') {
    return {
      rule,
      message: 'MDVM agent-based scanning needs Defender for Servers P1 or P2; this machine has none.',
    };
  }
  // §6, §11: "with P1 the MDE integration must be enabled"; decision: with P2 too, for agent-based results.
  if (!settings.wdatp) {
    return {
      rule,
      message: `Endpoint protection (WDATP) is off, so MDE findings don't reach Defender${installed ? ` even though MDE extension '${installed.name}' is installed` : ''}.`,
    };
  }
  if (!os.supported) return { rule, message: `MDVM cannot assess this machine: ${os.why}.` };
  if (installed !== undefined) {
    return {
      rule,
      message: `MDE extension '${installed.name}' (${installed.type}) is installed, Endpoint protection (WDATP) is on and the plan is ${plan}: MDVM scans through the MDE sensor.`,
      coverage: { provider: 'mdvmAgent', method: 'mdeExtension' },
    };
  }
  // §1.3: a Failed or Canceled extension is not a running sensor, and Defender's deployment already failed.
  if (mde.length > 0) {
    return {
      rule,
      message: `The MDE extension ${names(mde)} has not provisioned, so MDE isn't running.`,
    };
  }
  // §6: legacy subscriptions keep Linux, and Windows Server 2012 R2/2016, out until these settings say otherwise.
  const path = mdeDeployPath(machine.os);
  if (path === 'linux' && settings.wdatpExcludeLinuxPublicPreview === true) {
    return {
      rule,
      message:
        'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW is on (a legacy subscription), so Defender does not deploy MDE to Linux machines.',
    };
  }
  if (path === 'unifiedSolution' && settings.wdatpUnifiedSolution === false) {
    return {
      rule,
      message: `WDATP_UNIFIED_SOLUTION is off (a legacy subscription), so Defender does not deploy the MDE unified agent to ${os.label}.`,
    };
  }
  if (path === 'none') {
    return {
      rule,
      message: `Defender does not auto-deploy MDE to ${os.label}; MDE must be onboarded by hand.`,
    };
  }
  return {
    rule,
    message: `Endpoint protection (WDATP) is on and the plan is ${plan}: Defender deploys MDE to ${os.label}, and MDVM scans through it.`,
    coverage: { provider: 'mdvmAgent', method: 'mdeAutoDeploy' },
  };
}

/**
 * MDVM agentless (§11 "agentless only in P2 and Defender CSPM"; §5.1 `AgentlessVmScanning` is available
 * for VirtualMachines P2 and CloudPosture). It reads disk snapshots of cloud VMs, so it covers Azure VMs
 * but not Arc machines (§11). Decision: an absent `AgentlessVmScanning` entry means on ("on by default
 * there", §11); only an explicit `isEnabled: False` turns it off. The extension is not valid on P1
 * (§5.2, ALZ#1678), so it is ignored there. `ExclusionTags` exclude tagged machines (§5.2).
 */
function azureAgentlessRoute(
  machine: AzureMachine,
  context: CoverageContext,
  plan: ServersPlan,
  os: OsSupport,
): Finding {
  const rule: RuleId = 'mdvm.agentless';
  const serversExtension = findExtension(context.serversPricing.extensions, AGENTLESS);
  const cspmExtension = findExtension(context.cspmPricing?.extensions, AGENTLESS);
  const sources: AgentlessSource[] = [];
  if (plan === 'P2' && !armFalse(serversExtension?.isEnabled)) {
    sources.push({
      method: 'serversPlanAgentlessScanning',
      label: 'Defender for Servers P2',
      excluded: matchingExclusion(machine.tags, serversExtension?.exclusionTags ?? []),
    });
  }
  if (context.cspmPricing?.pricingTier === 'Standard' && !armFalse(cspmExtension?.isEnabled)) {
    sources.push({
      method: 'cspmAgentlessScanning',
      label: 'Defender CSPM',
      excluded: matchingExclusion(machine.tags, cspmExtension?.exclusionTags ?? []),
    });
  }
  if (sources.length === 0) {
    const serversOff =
      plan === 'P2' ? ' (AgentlessVmScanning is False on the P2 plan)' : ` (the plan is ${plan})`;
    return {
      rule,
      message: `Agentless scanning is not on: it needs Defender for Servers P2 or Defender CSPM with AgentlessVmScanning${serversOff}.`,
    };
  }
  // §11: agentless covers Azure VMs, AWS EC2 and GCP compute, not on-premises machines.
  if (machine.kind === 'arcMachine') {
    return {
      rule,
      message: 'Agentless scanning reads cloud disk snapshots, so it does not reach Arc machines.',
    };
  }
  if (!os.supported) return { rule, message: `MDVM cannot assess this machine: ${os.why}.` };
  return agentlessFinding(rule, sources);
}

// ─── Multicloud: GCP and AWS through a security connector ────────────────────────────────────────

/**
 * A GCP/AWS machine follows its connector's `DefenderForServers{Gcp,Aws}` offering (§4.3, §4.5): its
 * presence is the plan (`subPlan` absent = P2, as on Azure), `vaAutoProvisioning.type` chooses Qualys or
 * TVM, `mdeAutoProvisioning` puts MDE on the machine through Azure Arc, and `vmScanners` (or the
 * `DefenderCspm*` offering's) is agentless scanning. BYOL does not apply (§7: Azure VMs only).
 */
function evaluateMulticloud(machine: Machine, context: CoverageContext, os: OsSupport): Evaluation {
  const expected =
    machine.kind === 'gcpInstance' ? 'GCP' : machine.kind === 'awsInstance' ? 'AWS' : undefined;
  const given = context.connector;
  const connector =
    given && (expected === undefined || given.environmentName === expected) ? given : undefined;
  const tag = connectorTagOf(machine);
  const facts = [
    fact(
      'machine.connectorGoverned',
      machine.kind === 'arcMachine'
        ? `The Arc machine carries tag ${SECURITY_CONNECTOR_TAG}=${tag ?? ''}: its security connector governs it, not the subscription's plan.`
        : `The ${expected} instance was discovered by a security connector, whose offerings govern it.`,
    ),
  ];
  const offering = connector?.defenderForServers;
  const plan: ServersPlan = offering ? (offering.subPlan ?? 'P2') : 'Free';
  facts.push(
    fact(
      'plan.connector',
      connector === undefined
        ? given === undefined
          ? 'No security connector was given for this machine, so no Defender plan covers it.'
          : `Connector ${given.id} is a ${given.environmentName} connector and cannot govern this ${expected} machine.`
        : offering === undefined
          ? `Connector ${connector.id} has no DefenderForServers${connector.environmentName === 'GCP' ? 'Gcp' : 'Aws'} offering.`
          : `Connector ${connector.id} offers Defender for Servers ${plan}${offering.subPlan ? '' : ' (no subPlan: the full plan)'}.`,
    ),
  );
  const vaChoice = offering?.vaAutoProvisioning?.enabled ? offering.vaAutoProvisioning.type : undefined;
  if (offering?.vaAutoProvisioning !== undefined) {
    facts.push(
      fact(
        'setting.selectedProvider',
        vaChoice
          ? `The connector's vaAutoProvisioning selects ${vaChoice}.`
          : "The connector's vaAutoProvisioning is off, so it selects no VA solution.",
      ),
    );
  }
  const arcReady = machine.kind === 'arcMachine' || offering?.arcAutoProvisioning?.enabled === true;
  const byol = (context.byolSolutions ?? []).some((solution) =>
    same(solution.subscriptionId, machine.subscriptionId),
  )
    ? {
        rule: 'byol.solution' as const,
        message: 'BYOL solutions cover Azure VMs only, not multicloud machines.',
      }
    : undefined;
  const choice = choose({
    byol,
    qualys:
      vaChoice === 'Qualys' && connector !== undefined
        ? connectorQualysRoute(connector, context, plan, arcReady)
        : undefined,
    agent: connectorAgentRoute(machine, connector, plan, arcReady, vaChoice, os),
    agentless: connectorAgentlessRoute(machine, connector, plan, os),
    mdeTvmChosen: vaChoice === 'TVM',
  });
  return {
    facts,
    ...choice,
    vaOffered: offering !== undefined || connector?.defenderCspm?.vmScanners !== undefined,
  };
}

/** Qualys through a connector (§4.3 `vaAutoProvisioning.type: Qualys`): retired like the Azure one (§11), P2 only (§3.5), deployed through Arc. */
function connectorQualysRoute(
  connector: SecurityConnector,
  context: CoverageContext,
  plan: ServersPlan,
  arcReady: boolean,
): Finding {
  const rule: RuleId = 'qualys.connector';
  if (isQualysRetired(context.now)) {
    return {
      rule,
      message: `Connector ${connector.id} still selects Qualys, which retired on ${QUALYS_RETIREMENT.toISOString().slice(0, 10)} (now is ${isoDate(context.now)}); set vaAutoProvisioning to TVM.`,
    };
  }
  if (plan !== 'P2') {
    return {
      rule,
      message: `Built-in Qualys requires Defender for Servers Plan 2; connector ${connector.id} offers ${plan}.`,
    };
  }
  if (!arcReady) {
    return {
      rule,
      message: 'The connector deploys Qualys through Azure Arc, and arcAutoProvisioning is off.',
    };
  }
  return {
    rule,
    message: `Connector ${connector.id} selects Qualys on P2 before the retirement (${QUALYS_RETIREMENT.toISOString().slice(0, 10)}).`,
    coverage: { provider: 'builtInQualys', method: 'connectorQualys' },
  };
}

/** MDVM agent-based on a multicloud machine: MDE already on its Arc projection, or `mdeAutoProvisioning` through Arc (§4.3, §4.5). */
function connectorAgentRoute(
  machine: Machine,
  connector: SecurityConnector | undefined,
  plan: ServersPlan,
  arcReady: boolean,
  vaChoice: 'Qualys' | 'TVM' | undefined,
  os: OsSupport,
): Finding {
  const rule: RuleId = 'mdvm.agent';
  if (connector === undefined || plan === 'Free') {
    return {
      rule,
      message: "MDVM agent-based scanning needs the connector's Defender for Servers offering.",
    };
  }
  if (!os.supported) return { rule, message: `MDVM cannot assess this machine: ${os.why}.` };
  const mde = machine.extensions.filter(isMdeExtension);
  const installed = mde.find(extensionSucceeded);
  if (installed !== undefined) {
    return {
      rule,
      message: `MDE extension '${installed.name}' (${installed.type}) is installed and connector ${connector.id} offers ${plan}: MDVM scans through the MDE sensor.`,
      coverage: { provider: 'mdvmAgent', method: 'mdeExtension' },
    };
  }
  const tvmNote = vaChoice === 'TVM' ? ' although vaAutoProvisioning selects TVM, which runs on MDE' : '';
  if (connector.defenderForServers?.mdeAutoProvisioning?.enabled !== true) {
    return {
      rule,
      message: `The connector's mdeAutoProvisioning is off and no MDE extension is installed${tvmNote}.`,
    };
  }
  if (!arcReady) {
    return {
      rule,
      message: `The connector deploys MDE through Azure Arc, and its arcAutoProvisioning is off${tvmNote}.`,
    };
  }
  return {
    rule,
    message: `Connector ${connector.id} auto-provisions MDE through Arc on ${plan}: MDVM scans through the MDE sensor.`,
    coverage: { provider: 'mdvmAgent', method: 'connectorMdeAutoProvisioning' },
  };
}

/** Agentless on a multicloud machine: the servers offering's `vmScanners` on P2, or the CSPM offering's (§4.3, §11). */
function connectorAgentlessRoute(
  machine: Machine,
  connector: SecurityConnector | undefined,
  plan: ServersPlan,
  os: OsSupport,
): Finding {
  const rule: RuleId = 'mdvm.agentless';
  const sources: AgentlessSource[] = [];
  const servers = connector?.defenderForServers?.vmScanners;
  if (plan === 'P2' && servers?.enabled) {
    sources.push({
      method: 'connectorVmScanners',
      label: "the connector's Defender for Servers P2 vmScanners",
      excluded: matchingExclusion(machine.tags, recordTags(servers.exclusionTags)),
    });
  }
  const cspm = connector?.defenderCspm?.vmScanners;
  if (cspm?.enabled) {
    sources.push({
      method: 'connectorCspmVmScanners',
      label: "the connector's Defender CSPM vmScanners",
      excluded: matchingExclusion(machine.tags, recordTags(cspm.exclusionTags)),
    });
  }
  if (sources.length === 0) {
    return {
      rule,
      message: `Agentless scanning is not on: it needs vmScanners on the connector's Defender for Servers P2 or Defender CSPM offering (the plan is ${plan}).`,
    };
  }
  if (!os.supported) return { rule, message: `MDVM cannot assess this machine: ${os.why}.` };
  return agentlessFinding(rule, sources);
}

// ─── Shared pieces ───────────────────────────────────────────────────────────────────────────────

interface AgentlessSource {
  method: Extract<ProviderCoverage, { provider: 'mdvmAgentless' }>['method'];
  label: string;
  excluded: string | undefined;
}

function agentlessFinding(rule: RuleId, sources: readonly AgentlessSource[]): Finding {
  const scanning = sources.find((source) => source.excluded === undefined);
  if (scanning === undefined) {
    const tags = sources.map((source) => `${source.excluded} (${source.label})`).join(', ');
    return {
      rule,
      message: `Agentless scanning skips this machine: it carries exclusion tag ${tags}.`,
    };
  }
  return {
    rule,
    message: `Agentless scanning through ${scanning.label} covers this machine with MDVM.`,
    coverage: { provider: 'mdvmAgentless', method: scanning.method },
  };
}

function findExtension(
  extensions: readonly PricingExtension[] | undefined,
  name: string,
): PricingExtension | undefined {
  return extensions?.find((extension) => same(extension.name, name));
}

function recordTags(tags: Readonly<Record<string, string>> | undefined): { key: string; value: string }[] {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));
}

/** Tag names are case-insensitive in ARM; values are compared exactly. */
function matchingExclusion(
  tags: Readonly<Record<string, string>>,
  exclusions: readonly { key: string; value: string }[],
): string | undefined {
  for (const exclusion of exclusions) {
    const key = Object.keys(tags).find((tag) => same(tag, exclusion.key));
    if (key !== undefined && tags[key] === exclusion.value) return `${key}=${exclusion.value}`;
  }
  return undefined;
}

/**
 * BYOL (§7): a Succeeded solution of the machine's own subscription covers an Azure VM linked to it,
 * or every Azure VM when it is the subscription's only auto-deploy solution ("if none or several are
 * flagged, no auto-remediation happens"). Azure VMs only; no Defender plan needed.
 */
function byolRoute(machine: AzureMachine, context: CoverageContext): Finding | undefined {
  const rule: RuleId = 'byol.solution';
  const solutions = (context.byolSolutions ?? []).filter((solution) =>
    same(solution.subscriptionId, machine.subscriptionId),
  );
  if (solutions.length === 0) return undefined;
  if (machine.kind !== 'azureVm') {
    return { rule, message: 'BYOL solutions cover Azure VMs only, not Arc machines.' };
  }
  const ready = solutions.filter((solution) => solution.provisioningState === 'Succeeded');
  const linked = ready.find((solution) => solution.linkedMachineIds.some((id) => same(id, machine.id)));
  if (linked !== undefined) {
    return {
      rule,
      message: `The machine is linked to BYOL solution ${linked.name} (${linked.partner}).`,
      coverage: { provider: 'byol', method: 'byolLinked', partner: linked.partner, solution: linked.name },
    };
  }
  const automatic = ready.filter((solution) => solution.autoProvisioning);
  const [only] = automatic;
  if (automatic.length === 1 && only !== undefined) {
    return {
      rule,
      message: `BYOL solution ${only.name} (${only.partner}) is the subscription's only auto-deploy solution, so every Azure VM links to it.`,
      coverage: {
        provider: 'byol',
        method: 'byolAutoProvisioning',
        partner: only.partner,
        solution: only.name,
      },
    };
  }
  if (automatic.length > 1) {
    return {
      rule,
      message: `Several BYOL solutions auto-deploy (${automatic.map((solution) => solution.name).join(', ')}), so none does, and the machine is linked to none.`,
    };
  }
  const listed = solutions.map((solution) => `${solution.name} (${solution.provisioningState})`).join(', ');
  return {
    rule,
    message: `The machine is not linked to the subscription's BYOL solutions ${listed}, and none auto-deploys.`,
  };
}

/**
 * Precedence, from the hybrid table (§11, §7; defender-docs auto-deploy-vulnerability-assessment):
 * a BYOL partner is shown unless the subscription chose MdeTvm (then MDVM, with BYOL as the fallback when
 * MDVM cannot cover); built-in Qualys where the machine is still onboarded to it; agent-based MDVM over
 * agentless ("machines using both methods show agent-based results only"). Decision: the per-machine
 * `default` onboarding outranks MDVM that the subscription never chose, because `status.cause` reports
 * the one onboarded provider (policy 13ce0167 compares it to `vaType`, §9.2).
 */
function choose(routes: {
  byol: Finding | undefined;
  qualys: Finding | undefined;
  agent: Finding;
  agentless: Finding;
  mdeTvmChosen: boolean;
}): { coverage: ProviderCoverage; routes: Reason[] } {
  const { byol, qualys, agent, agentless, mdeTvmChosen } = routes;
  const covers = (finding: Finding | undefined): boolean => finding?.coverage !== undefined;
  const mdvm = covers(agent) ? agent : covers(agentless) ? agentless : undefined;
  const extra: Reason[] = [];
  let chosen: Finding | undefined;
  if (covers(byol) && !mdeTvmChosen) {
    chosen = byol;
    if (mdvm) {
      extra.push({
        rule: 'select.byolShownByDefault',
        message:
          "MDVM could also cover this machine, but Defender shows the BYOL partner's results unless the subscription selects MdeTvm.",
        decided: true,
      });
    }
  } else if (covers(qualys)) {
    chosen = qualys;
  } else if (mdvm) {
    chosen = mdvm;
    if (mdvm === agent && covers(agentless)) {
      extra.push({
        rule: 'select.agentBasedOverAgentless',
        message:
          'Agentless scanning also covers this machine; Defender shows agent-based results only, for freshness.',
        decided: true,
      });
    }
    if (covers(byol)) {
      extra.push({
        rule: 'select.mdeTvmOverByol',
        message: "The subscription selected MdeTvm, so MDVM results replace the BYOL partner's.",
        decided: true,
      });
    }
  } else if (covers(byol)) {
    chosen = byol;
    extra.push({
      rule: 'select.mdeTvmOverByol',
      message:
        'The subscription selected MdeTvm, but MDVM cannot cover this machine, so its BYOL partner still does.',
      decided: true,
    });
  }
  const ordered = [byol, qualys, agent, agentless].filter(
    (finding): finding is Finding => finding !== undefined,
  );
  return {
    coverage: chosen?.coverage ?? NONE,
    routes: [
      ...ordered.map((finding) => ({
        rule: finding.rule,
        message: finding.message,
        decided: finding === chosen,
      })),
      ...extra,
    ],
  };
}

// ─── The assessment ──────────────────────────────────────────────────────────────────────────────

const HEALTHY: Record<
  Exclude<ProviderCoverage['provider'], 'none'>,
  Extract<AssessmentStatus, { code: 'Healthy' }>
> = {
  builtInQualys: {
    code: 'Healthy',
    cause: 'default',
    description: 'Built-in Qualys vulnerability assessment covers this machine.',
  },
  mdvmAgent: {
    code: 'Healthy',
    cause: 'mdeTvm',
    description:
      'Microsoft Defender Vulnerability Management covers this machine through the Defender for Endpoint sensor.',
  },
  mdvmAgentless: {
    code: 'Healthy',
    cause: 'mdeTvm',
    description: 'Agentless Microsoft Defender Vulnerability Management covers this machine.',
  },
  byol: {
    code: 'Healthy',
    cause: 'byol',
    description: 'A bring-your-own-license vulnerability assessment solution covers this machine.',
  },
};

/**
 * Status of assessment ffff0522 (§8.1, §8.2). Healthy carries the provider as its cause (`default`,
 * `mdeTvm`; `byol` is vaplane's). Unhealthy carries Defender's `VaScannerNotInstalled` (§8.1). The
 * NotApplicable causes `OffByPolicy` and `Exempt` are Defender's; the others are vaplane's, since
 * Microsoft publishes none for these cases. Decision: a machine that no Defender plan (and no BYOL
 * solution) offers a VA route is NotApplicable, not Unhealthy — the built-in VA "requires Defender for
 * Servers" (§3.5, §11 prerequisites), and policy 501541f7 counts NotApplicable as compliant (§9.3).
 */
function assessmentStatusOf(
  evaluation: Evaluation,
  context: CoverageContext,
  state: MachineState,
  os: OsSupport,
): { rule: RuleId; status: AssessmentStatus } {
  if (context.recommendation?.policyEffect === 'Disabled') {
    return {
      rule: 'assessment.offByPolicy',
      status: {
        code: 'NotApplicable',
        cause: 'OffByPolicy',
        description:
          'The effective policy for the assessment was evaluated to off - use Microsoft.Authorization/policyAssignments to turn this assessment on',
      },
    };
  }
  if (context.recommendation?.exempt === true) {
    return {
      rule: 'assessment.exempt',
      status: {
        code: 'NotApplicable',
        cause: 'Exempt',
        description: 'A policy exemption covers this machine.',
      },
    };
  }
  if (!state.online) {
    return {
      rule: 'status.notApplicable',
      status: {
        code: 'NotApplicable',
        cause: state.offlineCause,
        description: `Not assessed while the machine is offline: ${state.message}`,
      },
    };
  }
  const provider = evaluation.coverage.provider;
  if (provider !== 'none') return { rule: 'status.healthy', status: HEALTHY[provider] };
  if (!evaluation.vaOffered) {
    return {
      rule: 'status.notApplicable',
      status: {
        code: 'NotApplicable',
        cause: 'NotCoveredByPlan',
        description: 'No Defender plan covers this machine, and no BYOL solution is configured for it.',
      },
    };
  }
  if (!os.supported) {
    return {
      rule: 'status.notApplicable',
      status: { code: 'NotApplicable', cause: 'UnsupportedOperatingSystem', description: `${os.why}.` },
    };
  }
  return {
    rule: 'status.unhealthy',
    status: {
      code: 'Unhealthy',
      cause: 'VaScannerNotInstalled',
      description: 'No vulnerability assessment solution covers this machine.',
    },
  };
}

function isoDate(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'an invalid date' : date.toISOString().slice(0, 10);
}
