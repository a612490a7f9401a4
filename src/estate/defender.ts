/**
 * The Defender side of a generated estate: per subscription a Defender for Servers plan, the
 * integration settings, the VA setting where the subscription has already moved to MDVM, GCP and AWS
 * security connectors owning some of its Arc machines, BYOL Qualys solutions; per machine the legacy
 * `serverVulnerabilityAssessments` onboarding and the BYOL Qualys agent. Every row comes from its
 * provider's record builder, so it reads back through the API as if it had been PUT.
 *
 * The draws come from streams of their own (`defender`, `connectors`, `discovery`, `defenderMachines`,
 * `showcase`), so the rest of the estate is the same with or without this side: only the Arc machines
 * a connector discovered change, and only in their tags and cloud (their ids stay).
 *
 * A few subscriptions get a showcase posture instead of a drawn one — the largest ones, so that they
 * have machines to show it on — so that even the six-subscription demo estate shows every coverage
 * situation a real tenant is in: MDVM through the MDE sensor, agentless MDVM, a BYOL partner, nothing
 * (Unhealthy), no plan (NotApplicable), an already transitioned subscription, and GCP and AWS machines
 * under connectors still on Qualys and already on TVM.
 */
import { SECURITY_CONNECTOR_TAG } from '../coverage/index.js';
import { vmExtensionRecord } from '../providers/compute/model.js';
import {
  type PricingRequest,
  settingRecord,
  subscriptionPricingRecord,
  vaSettingRecord,
} from '../providers/security/index.js';
import { type LegacyVaName, legacyVaRecord } from '../providers/security/legacyVa/index.js';
import { securityConnectorRecord } from '../providers/security/securityConnectors/index.js';
import { securitySolutionRecord } from '../providers/security/solutions/index.js';
import type { ArmBody, StoredResource } from '../store/index.js';
import { type ExtensionKind, QUALYS_BYOL_AGENT } from './catalogue.js';
import { chance, guid, integer, pick, type Random, streamFor } from './random.js';

export type ServersPlanChoice = 'Free' | 'P1' | 'P2';
export type ConnectorCloud = 'GCP' | 'AWS';

/** How a connector's Defender for Servers offering is set; the ids it connects are drawn apart. */
export interface ConnectorSettings {
  cloud: ConnectorCloud;
  vaProvider: 'Qualys' | 'TVM';
  subPlan: 'P1' | 'P2';
  mdeAutoProvisioning: boolean;
  vmScanners: boolean;
}

/** What a subscription has switched on in Defender for Cloud. */
export interface DefenderPosture {
  serversPlan: ServersPlanChoice;
  /** `AgentlessVmScanning` on the P2 plan. */
  agentlessScanning: boolean;
  /** `MdeDesignatedSubscription` on a paid plan. */
  mdeDesignatedSubscription: boolean;
  /** `settings/WDATP`, the portal's "Endpoint protection". */
  endpointProtection: boolean;
  /** `settings/WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW` on: a legacy subscription that keeps MDE off Linux. */
  excludeLinux: boolean;
  /** `AzureServersSetting` selects `MdeTvm`: the subscription has transitioned. */
  mdeTvm: boolean;
  /** A BYOL Qualys solution with auto-deploy. */
  byol: boolean;
  connectors: ConnectorSettings[];
  /** The first Arc machines go to the connectors in order, so each owns one whatever the draws. */
  connectorsOwnFirstArcMachines: boolean;
}

/** The machines of a subscription, as the estate spreads them. */
export interface SubscriptionShape {
  machines: number;
  arcMachines: number;
}

export interface DefenderEstate {
  seed: number;
  /** By subscription index. */
  postures: DefenderPosture[];
}

/** Rough shares, drawn per subscription, per connector or per machine. */
const SHARES = {
  freePlan: 0.3,
  p1Plan: 0.2,
  agentlessOnP2: 0.75,
  mdeDesignated: 0.1,
  endpointProtectionWhenPaid: 0.85,
  endpointProtectionWhenFree: 0.1,
  excludeLinux: 0.12,
  mdeTvmWhenPaid: 0.35,
  gcpConnector: 0.03,
  awsConnector: 0.03,
  connectorOnQualys: 0.5,
  connectorP2: 0.75,
  connectorMdeAutoProvisioning: 0.7,
  connectorVmScanners: 0.5,
  /** An Arc machine of a subscription with one connector is that connector's (with two: 40% each). */
  discoveredByOnlyConnector: 0.7,
  discoveredByEachOfTwo: 0.4,
  /**
   * Of the machines that carry the built-in Qualys extension (connector machines aside), by the
   * subscription's plan now: built-in Qualys was a Plan 2 feature, the rest are left over from before
   * a downgrade.
   */
  legacyDefault: { P2: 0.4, P1: 0.1, Free: 0.05 },
  legacyDefaultFailed: 0.03,
  legacyMdeTvm: 0.04,
  /** Of the VMs of a BYOL subscription without the built-in extension. */
  byolAgent: 0.6,
} as const;

/** Estates at least this large get a second BYOL subscription, one that has moved to MdeTvm since. */
const SECOND_BYOL_FROM_SUBSCRIPTIONS = 20;

const DAY_MS = 86_400_000;

/** `systemData` of rows a user would have written: the estate stands in for the platform team's automation. */
const ESTATE_ACTOR = { by: 'vaplane-estate', byType: 'Application' } as const;

const NOTHING_ON: DefenderPosture = {
  serversPlan: 'Free',
  agentlessScanning: false,
  mdeDesignatedSubscription: false,
  endpointProtection: false,
  excludeLinux: false,
  mdeTvm: false,
  byol: false,
  connectors: [],
  connectorsOwnFirstArcMachines: false,
};

/** Given to the subscriptions with the most Azure VMs, largest first. */
const SHOWCASE_POSTURES: readonly DefenderPosture[] = [
  // MDVM through the MDE sensor: agentless is on too, and agent-based results win.
  { ...NOTHING_ON, serversPlan: 'P2', agentlessScanning: true, endpointProtection: true },
  // Agentless MDVM only: no Endpoint protection, so its Arc machines stay uncovered.
  { ...NOTHING_ON, serversPlan: 'P2', agentlessScanning: true },
  // A BYOL Qualys licence and no Defender plan (BYOL needs none).
  { ...NOTHING_ON, byol: true },
  // Plan 1 without Endpoint protection: nothing scans.
  { ...NOTHING_ON, serversPlan: 'P1' },
  // No plan at all.
  NOTHING_ON,
  // Transitioned already, on a legacy subscription that keeps MDE off Linux (agentless covers those).
  {
    ...NOTHING_ON,
    serversPlan: 'P2',
    agentlessScanning: true,
    endpointProtection: true,
    excludeLinux: true,
    mdeTvm: true,
  },
];

/** Given to the subscription with the most Arc machines: GCP still on the retired Qualys, AWS on TVM. */
const SHOWCASE_CONNECTORS: readonly ConnectorSettings[] = [
  { cloud: 'GCP', vaProvider: 'Qualys', subPlan: 'P2', mdeAutoProvisioning: false, vmScanners: false },
  { cloud: 'AWS', vaProvider: 'TVM', subPlan: 'P2', mdeAutoProvisioning: true, vmScanners: true },
];

// ── The estate ───────────────────────────────────────────────────────────────────────────────────

/** Every subscription's posture: drawn, except the showcase ones and the BYOL subscriptions. */
export function planDefenderEstate(
  seed: number,
  shapes: readonly SubscriptionShape[],
  options: { transitionReady?: boolean } = {},
): DefenderEstate {
  const postures = shapes.map((_, index) => drawnPosture(streamFor(seed, 'defender', index)));
  const vms = (index: number) => shapes[index]!.machines - shapes[index]!.arcMachines;
  const byVms = shapes.map((_, index) => index).sort((a, b) => vms(b) - vms(a) || a - b);
  const showcased = new Set<number>();
  SHOWCASE_POSTURES.forEach((posture, rank) => {
    const index = byVms[rank];
    if (index === undefined) return;
    postures[index] = { ...posture, connectors: [...postures[index]!.connectors] };
    showcased.add(index);
  });
  const byArc = shapes
    .map((_, index) => index)
    .sort((a, b) => shapes[b]!.arcMachines - shapes[a]!.arcMachines || a - b);
  const arcHeavy = byArc[0];
  if (arcHeavy !== undefined) {
    postures[arcHeavy] = {
      ...postures[arcHeavy]!,
      connectors: [...SHOWCASE_CONNECTORS],
      connectorsOwnFirstArcMachines: true,
    };
  }
  if (shapes.length >= SECOND_BYOL_FROM_SUBSCRIPTIONS) {
    const random = streamFor(seed, 'showcase');
    const candidates = byVms.filter((index) => !showcased.has(index) && vms(index) > 0);
    const transitioned = candidates.filter((index) => postures[index]!.mdeTvm);
    const pool = transitioned.length > 0 ? transitioned : candidates;
    if (pool.length > 0) {
      const index = pick(random, pool);
      postures[index] = { ...postures[index]!, byol: true };
    }
  }
  if (options.transitionReady) {
    postures.forEach((posture, index) => {
      const free = posture.serversPlan === 'Free' && !posture.byol;
      postures[index] = {
        ...posture,
        excludeLinux: false,
        ...(free ? { serversPlan: 'P2' } : {}),
        connectors: posture.connectors.map((connector) => ({ ...connector, mdeAutoProvisioning: true })),
      };
    });
  }
  return { seed, postures };
}

/** A fixed number of draws per subscription, whatever they decide, so one choice never shifts another. */
function drawnPosture(random: Random): DefenderPosture {
  const planDraw = random.next();
  const serversPlan: ServersPlanChoice =
    planDraw < SHARES.freePlan ? 'Free' : planDraw < SHARES.freePlan + SHARES.p1Plan ? 'P1' : 'P2';
  const paid = serversPlan !== 'Free';
  const agentless = chance(random, SHARES.agentlessOnP2);
  const designated = chance(random, SHARES.mdeDesignated);
  const endpointProtection = chance(
    random,
    paid ? SHARES.endpointProtectionWhenPaid : SHARES.endpointProtectionWhenFree,
  );
  const excludeLinux = chance(random, SHARES.excludeLinux);
  const mdeTvm = chance(random, SHARES.mdeTvmWhenPaid);
  const gcp = chance(random, SHARES.gcpConnector);
  const aws = chance(random, SHARES.awsConnector);
  const connectorDraws = [random.next(), random.next(), random.next(), random.next()];
  const connector = (cloud: ConnectorCloud): ConnectorSettings => ({
    cloud,
    vaProvider: connectorDraws[0]! < SHARES.connectorOnQualys ? 'Qualys' : 'TVM',
    subPlan: connectorDraws[1]! < SHARES.connectorP2 ? 'P2' : 'P1',
    mdeAutoProvisioning: connectorDraws[2]! < SHARES.connectorMdeAutoProvisioning,
    vmScanners: connectorDraws[3]! < SHARES.connectorVmScanners,
  });
  return {
    serversPlan,
    agentlessScanning: serversPlan === 'P2' && agentless,
    mdeDesignatedSubscription: paid && designated,
    endpointProtection,
    excludeLinux: endpointProtection && excludeLinux,
    mdeTvm: paid && mdeTvm,
    byol: false,
    connectors: [...(gcp ? [connector('GCP')] : []), ...(aws ? [connector('AWS')] : [])],
    connectorsOwnFirstArcMachines: false,
  };
}

// ── A subscription ───────────────────────────────────────────────────────────────────────────────

/** What the estate knows of a subscription when its Defender side is written. */
export interface DefenderSubscriptionInput {
  index: number;
  subscriptionId: string;
  environment: string;
  businessUnit: string;
  location: string;
  groups: readonly { name: string; location: string; forArc: boolean }[];
}

export interface ConnectorPlan extends ConnectorSettings {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  properties: ArmBody;
}

export interface SubscriptionDefender {
  subscription: DefenderSubscriptionInput;
  posture: DefenderPosture;
  connectors: ConnectorPlan[];
  /** When this side of the subscription was set up (rows are dated before the estate's now). */
  enabledAt: string;
  transitionedAt: string;
  /** The BYOL solution's licence, drawn whether or not the subscription has one. */
  byolLicence: string;
  discovery: Random;
  machines: Random;
  arcMachinesSeen: number;
}

export function subscriptionDefender(
  estate: DefenderEstate,
  subscription: DefenderSubscriptionInput,
  now: Date,
): SubscriptionDefender {
  const posture = estate.postures[subscription.index]!;
  const random = streamFor(estate.seed, 'connectors', subscription.index);
  const nowMs = now.getTime();
  const enabledAt = new Date(nowMs - integer(random, 60, 1400) * DAY_MS).toISOString();
  const transitionedAt = new Date(nowMs - integer(random, 2, 50) * DAY_MS).toISOString();
  const byolLicence = guid(random);
  // Connectors live beside the Arc machines they onboard.
  const home = subscription.groups.find((group) => group.forArc) ?? subscription.groups[0];
  const connectors = home
    ? posture.connectors.map((settings) => connectorPlan(random, subscription, home, settings))
    : [];
  return {
    subscription,
    posture,
    connectors,
    enabledAt,
    transitionedAt,
    byolLicence,
    discovery: streamFor(estate.seed, 'discovery', subscription.index),
    machines: streamFor(estate.seed, 'defenderMachines', subscription.index),
    arcMachinesSeen: 0,
  };
}

function digits(random: Random, count: number): string {
  let text = String(integer(random, 1, 9));
  while (text.length < count) text += String(integer(random, 0, 9));
  return text;
}

function hex(random: Random, count: number): string {
  return guid(random).replaceAll('-', '').slice(0, count);
}

function connectorPlan(
  random: Random,
  subscription: DefenderSubscriptionInput,
  group: { name: string },
  settings: ConnectorSettings,
): ConnectorPlan {
  // The same draws for either cloud: each connector takes a fixed share of the stream.
  const number = digits(random, 12);
  const suffix = hex(random, 4);
  const pool = hex(random, 32);
  const name =
    settings.cloud === 'GCP'
      ? `gcp-${subscription.businessUnit}-${subscription.environment}-${suffix}`
      : `aws-${number}`;
  const id = `/subscriptions/${subscription.subscriptionId}/resourcegroups/${group.name.toLowerCase()}/providers/Microsoft.Security/securityConnectors/${name}`;
  return {
    ...settings,
    id,
    name,
    resourceGroup: group.name,
    location: subscription.location,
    properties:
      settings.cloud === 'GCP'
        ? gcpProperties(
            settings,
            `${subscription.businessUnit}-${subscription.environment}-${suffix}`,
            number,
            pool,
          )
        : awsProperties(settings, number),
  };
}

function serversOffering(settings: ConnectorSettings): ArmBody {
  return {
    mdeAutoProvisioning: { enabled: settings.mdeAutoProvisioning, configuration: {} },
    vaAutoProvisioning: { enabled: true, configuration: { type: settings.vaProvider } },
    subPlan: { type: settings.subPlan },
  };
}

/** The transition page's GCP connector (§4.5), with the agentless scanner 2023-10-01-preview added. */
function gcpProperties(
  settings: ConnectorSettings,
  projectId: string,
  projectNumber: string,
  pool: string,
): ArmBody {
  const account = (role: string) => `microsoft-defender-${role}@${projectId}.iam.gserviceaccount.com`;
  return {
    hierarchyIdentifier: projectNumber,
    environmentName: 'GCP',
    offerings: [
      {
        offeringType: 'CspmMonitorGcp',
        nativeCloudConnection: {
          workloadIdentityProviderId: 'cspm',
          serviceAccountEmailAddress: account('cspm'),
        },
      },
      { offeringType: 'DefenderCspmGcp' },
      {
        offeringType: 'DefenderForServersGcp',
        defenderForServers: {
          workloadIdentityProviderId: 'defender-for-servers',
          serviceAccountEmailAddress: account('for-servers'),
        },
        arcAutoProvisioning: { enabled: true, configuration: {} },
        ...serversOffering(settings),
        vmScanners: {
          enabled: settings.subPlan === 'P2' && settings.vmScanners,
          configuration: { scanningMode: 'Default', exclusionTags: {} },
        },
      },
    ],
    environmentData: {
      environmentType: 'GcpProject',
      projectDetails: { projectNumber, projectId, workloadIdentityPoolId: pool },
    },
  };
}

/** An AWS account connector with the roles Defender's CloudFormation template creates. */
function awsProperties(settings: ConnectorSettings, accountId: string): ArmBody {
  const role = (name: string) => `arn:aws:iam::${accountId}:role/${name}`;
  return {
    hierarchyIdentifier: accountId,
    environmentName: 'AWS',
    offerings: [
      { offeringType: 'CspmMonitorAws', nativeCloudConnection: { cloudRoleArn: role('CspmMonitorAws') } },
      {
        offeringType: 'DefenderForServersAws',
        defenderForServers: { cloudRoleArn: role('DefenderForCloud-DefenderForServers') },
        arcAutoProvisioning: {
          enabled: true,
          cloudRoleArn: role('DefenderForCloud-ArcAutoProvisioning'),
          configuration: {},
        },
        ...serversOffering(settings),
        vmScanners: {
          enabled: settings.subPlan === 'P2' && settings.vmScanners,
          configuration: {
            cloudRoleArn: role('DefenderForCloud-AgentlessScanner'),
            scanningMode: 'Default',
            exclusionTags: {},
          },
        },
      },
    ],
    environmentData: { environmentType: 'AwsAccount' },
  };
}

/** The plan, the integration settings and the VA setting: rows at the subscription's own scope. */
export function* subscriptionDefenderResources(defender: SubscriptionDefender): Generator<StoredResource> {
  const { posture, subscription, enabledAt } = defender;
  const subscriptionId = subscription.subscriptionId;
  const paid = posture.serversPlan !== 'Free';
  // A Free plan is what an unwritten pricing reads as: no row.
  if (paid) {
    const extensions: PricingRequest['extensions'] = [
      ...(posture.serversPlan === 'P2'
        ? [{ name: 'AgentlessVmScanning', isEnabled: posture.agentlessScanning ? 'True' : 'False' } as const]
        : []),
      { name: 'MdeDesignatedSubscription', isEnabled: posture.mdeDesignatedSubscription ? 'True' : 'False' },
    ];
    yield subscriptionPricingRecord({
      subscriptionId,
      plan: 'VirtualMachines',
      request: { pricingTier: 'Standard', subPlan: posture.serversPlan, extensions },
      now: enabledAt,
    });
  }
  // Paid subscriptions say where Endpoint protection stands; Free ones only when it is on.
  if (paid || posture.endpointProtection) {
    yield settingRecord({
      subscriptionId,
      name: 'WDATP',
      enabled: posture.endpointProtection,
      now: enabledAt,
    });
  }
  if (posture.excludeLinux) {
    yield settingRecord({
      subscriptionId,
      name: 'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW',
      enabled: true,
      now: enabledAt,
    });
  }
  if (posture.mdeTvm) {
    yield vaSettingRecord({
      subscriptionId,
      selectedProvider: 'MdeTvm',
      createdBy: ESTATE_ACTOR,
      now: defender.transitionedAt,
    });
  }
}

/** Connectors and BYOL solutions: rows in the subscription's resource groups. */
export function* groupDefenderResources(defender: SubscriptionDefender): Generator<StoredResource> {
  const { subscription, enabledAt } = defender;
  for (const connector of defender.connectors) {
    yield securityConnectorRecord({
      subscriptionId: subscription.subscriptionId,
      resourceGroup: connector.resourceGroup,
      name: connector.name,
      location: connector.location,
      properties: connector.properties,
      createdBy: ESTATE_ACTOR,
      now: enabledAt,
    });
  }
  const group = subscription.groups.find((candidate) => !candidate.forArc) ?? subscription.groups[0];
  if (defender.posture.byol && group) {
    // BYOL covers Azure VMs only: the solution sits with them.
    yield securitySolutionRecord({
      subscriptionId: subscription.subscriptionId,
      resourceGroup: group.name,
      ascLocation: subscription.location,
      name: `qualys-va-${subscription.environment}`,
      location: group.location,
      template: 'qualys.qualysAgent',
      licenseCode: defender.byolLicence,
      autoProvisioning: true,
      now: enabledAt,
    });
  }
}

/**
 * The connector that discovered the next Arc machine of the subscription, if any: call once per Arc
 * machine, in order. Its tag carries the connector's id, which is how coverage finds the connector.
 */
export function discoveringConnector(
  defender: SubscriptionDefender,
): { cloud: ConnectorCloud; tags: Record<string, string> } | undefined {
  const position = defender.arcMachinesSeen++;
  const draw = defender.discovery.next();
  const { connectors } = defender;
  if (connectors.length === 0) return undefined;
  let connector: ConnectorPlan | undefined;
  if (defender.posture.connectorsOwnFirstArcMachines && position < connectors.length) {
    connector = connectors[position];
  } else if (connectors.length === 1) {
    connector = draw < SHARES.discoveredByOnlyConnector ? connectors[0] : undefined;
  } else {
    const slot = Math.floor(draw / SHARES.discoveredByEachOfTwo);
    connector = connectors[slot];
  }
  return connector && { cloud: connector.cloud, tags: { [SECURITY_CONNECTOR_TAG]: connector.id } };
}

/** A machine as the estate wrote it, with what the Defender side needs to know. */
export interface DefenderMachineInput {
  record: StoredResource;
  kind: 'vm' | 'arc';
  osType: 'Windows' | 'Linux';
  location: string;
  resourceGroup: string;
  /** It carries the built-in Qualys extension. */
  hasQualys: boolean;
  createdAt: string;
}

/**
 * The legacy per-machine onboarding on machines with the built-in Qualys extension (`Default`, a few
 * `MdeTvm`; connector machines follow their connector instead) and the BYOL agent on VMs of a BYOL
 * subscription. Four draws per machine, whatever they decide.
 */
export function* machineDefenderResources(
  defender: SubscriptionDefender,
  machine: DefenderMachineInput,
  counts: { extensions: number },
): Generator<StoredResource> {
  const random = defender.machines;
  const [onboarded, failed, perMachineMdvm, byolAgent] = [
    random.next(),
    random.next(),
    random.next(),
    random.next(),
  ];
  const tags = (machine.record.body.tags ?? {}) as Record<string, string>;
  const legacy = machine.hasQualys && tags[SECURITY_CONNECTOR_TAG] === undefined;
  const onboarding = (name: LegacyVaName, state: 'Succeeded' | 'Failed') =>
    legacyVaRecord({ machine: machine.record, name, state, now: machine.createdAt });
  if (legacy && onboarded < SHARES.legacyDefault[defender.posture.serversPlan]) {
    yield onboarding('Default', failed < SHARES.legacyDefaultFailed ? 'Failed' : 'Succeeded');
  }
  if (legacy && perMachineMdvm < SHARES.legacyMdeTvm) yield onboarding('MdeTvm', 'Succeeded');
  if (defender.posture.byol && machine.kind === 'vm' && !machine.hasQualys && byolAgent < SHARES.byolAgent) {
    const agent: ExtensionKind = QUALYS_BYOL_AGENT[machine.osType];
    counts.extensions++;
    yield vmExtensionRecord({
      machineId: machine.record.id,
      subscriptionId: defender.subscription.subscriptionId,
      resourceGroup: machine.resourceGroup,
      name: agent.type,
      location: machine.location,
      publisher: agent.publisher,
      type: agent.type,
      typeHandlerVersion: agent.typeHandlerVersion,
      settings: { LicenseCode: defender.byolLicence },
      // Deployed when the solution was set up, or when the VM came, whichever was later.
      now: new Date(Math.max(Date.parse(defender.enabledAt), Date.parse(machine.createdAt))).toISOString(),
    });
  }
}
