/**
 * `vaplane transition verify`: reads the estate again and says, per subscription, connector and
 * machine, whether the move from built-in Qualys to MDVM is complete. It reads through the one ARM
 * client (the plan's discovery, plus each subscription's assessments), so it runs the same against
 * Azure and vaplane, and it agrees with the plan on what the transition leaves alone.
 *
 * What "complete" means (the rules, in the order they are checked):
 * - A subscription is complete when it could be read, its VA provider is settled, every connector
 *   offering in it is complete, and every machine in it is complete or not applicable. The VA provider
 *   is settled when `serverVulnerabilityAssessmentsSettings/AzureServersSetting` says `selectedProvider:
 *   MdeTvm` (any casing), or when there is no setting and a BYOL VA solution (Qualys or Rapid7, §7) is
 *   in the subscription: the plan keeps such a subscription on its partner rather than hide the
 *   partner's findings behind MDVM's. Every other subscription needs the setting, whatever its plan
 *   (built-in policy 766e621d deploys it to every subscription); on one the plan holds back (Defender
 *   for Servers Free, no scanner for MDVM) the problem says why.
 * - A security connector's Defender for Servers offering (`DefenderForServersGcp|Aws`) is complete
 *   unless VA auto-provisioning is on with a type other than `TVM`. With auto-provisioning off it
 *   provisions nothing, as the plan reads it, and is reported as off.
 * - A VM or Arc machine is incomplete while either is on it, whatever its power state: the legacy
 *   `serverVulnerabilityAssessments/default` resource (any provisioning state), or a legacy Qualys
 *   extension (publisher `Qualys`, type `WindowsAgent|LinuxAgent.AzureSecurityCenter`, any name, any
 *   state; a BYOL Qualys agent has other types and never counts). A deallocated VM that still carries
 *   the extension is therefore incomplete: the extension runs again when the VM starts, and
 *   `apply --start-stopped` removes it.
 * - Otherwise assessment ffff0522 decides: Healthy with cause `mdeTvm` is complete; Healthy with cause
 *   `byol` is complete too (a BYOL partner is how a customer keeps Qualys); Healthy with `default`
 *   (built-in Qualys) or any other cause is incomplete; Unhealthy is incomplete (no VA solution reaches
 *   the machine, usually a missing prerequisite); NotApplicable (not running, disconnected, not covered
 *   by a plan, an unsupported OS, off by policy, exempt) is not applicable, reported with its cause, and
 *   no failure; no assessment at all is incomplete (Defender has not assessed the machine yet, which
 *   can take up to 24 hours after a change).
 *
 * Reads: what discovery reads (paged lists per subscription, then each machine's extensions and legacy
 * VA resources, which ARM lists only per machine), then one paged assessments list per subscription.
 */
import { byolPartnerOfTemplate, isLegacyQualysExtension, VA_ASSESSMENT_KEY } from '../coverage/index.js';
import type { ArmClient } from './client.js';
import { createLimiter, forEachLimited } from './concurrency.js';
import {
  type DiscoveredMachine,
  type DiscoveredSubscription,
  type Discovery,
  type DiscoveryProgress,
  discoverEstate,
  type Scope,
} from './discovery.js';
import { ArmClientError, ArmRequestError } from './errors.js';
import { prerequisitesOf } from './plan.js';
import { vaSettingPath } from './requests.js';

/** The version of the assessments swagger in the corpus; the subscription list is paged with `nextLink`. */
export const ASSESSMENTS_API_VERSION = '2021-06-01';

export type VerificationState = 'complete' | 'incomplete' | 'notApplicable';

export type ProblemCode =
  | 'SubscriptionUnreadable'
  | 'VaProviderNotMdeTvm'
  | 'ConnectorVaNotTvm'
  | 'LegacyDefaultResource'
  | 'LegacyQualysExtension'
  | 'AssessmentNotMdeTvm'
  | 'AssessmentUnhealthy'
  | 'AssessmentMissing'
  | 'ReadFailed';

export interface Problem {
  code: ProblemCode;
  message: string;
  /** The resource the problem is about, when it is not the machine or subscription itself. */
  target?: string;
  /** For `ReadFailed`: what ARM answered, to quote in a support case. */
  requestId?: string;
  status?: number;
  errorCode?: string;
}

export interface AssessmentStatusSeen {
  code: string;
  cause?: string;
  description?: string;
}

export interface ExtensionSeen {
  id: string;
  name: string;
  publisher: string;
  type: string;
  provisioningState?: string;
}

export interface MachineVerification {
  id: string;
  name: string;
  kind: 'virtualMachine' | 'arcMachine';
  resourceGroup: string;
  /** The VM's power state (`running`, `deallocated`, …) or the Arc machine's status (`Connected`, …). */
  power: string;
  state: VerificationState;
  assessment?: AssessmentStatusSeen;
  /** The provider the assessment names when Healthy (`mdeTvm`, `byol`, `default`). */
  coveredBy?: string;
  legacyQualysExtensions: ExtensionSeen[];
  /** Other extensions published by Qualys (BYOL agents): reported, never a problem. */
  byolQualysAgents: ExtensionSeen[];
  /** Provisioning state of the legacy `default` resource when one is on the machine. */
  legacyDefaultResource?: string;
  problems: Problem[];
}

export interface ConnectorVerification {
  id: string;
  name: string;
  environmentName?: string;
  offeringType: string;
  vaAutoProvisioning: { enabled: boolean; type: string | null };
  state: 'complete' | 'incomplete';
  problems: Problem[];
}

export interface Counts {
  total: number;
  complete: number;
  incomplete: number;
  notApplicable: number;
}

export interface SubscriptionVerification {
  subscriptionId: string;
  displayName?: string;
  state: 'complete' | 'incomplete';
  /** `selectedProvider` as read; absent when the setting does not exist (or could not be read). */
  selectedProvider?: string;
  /** BYOL VA solutions in the subscription (`name (template)`), which keep it on its partner without MdeTvm. */
  byolSolutions: string[];
  connectors: ConnectorVerification[];
  machines: MachineVerification[];
  /** Problems of the subscription itself (setting, reads); those of machines and connectors sit on them. */
  problems: Problem[];
  machineCounts: Counts;
}

export interface Verification {
  kind: 'vaplane.transition.verification';
  version: 1;
  endpoint: string;
  scope: string[];
  startedAt: string;
  finishedAt: string;
  /** Requests the verification sent (first attempts; a paged list counts once). */
  requests: number;
  complete: boolean;
  summary: VerificationSummary;
  subscriptions: SubscriptionVerification[];
}

export interface VerificationSummary {
  subscriptions: Counts;
  machines: Counts;
  connectors: Counts;
  /** How many times each problem was found, over the whole scope. */
  problems: Partial<Record<ProblemCode, number>>;
}

export interface VerifyOptions {
  /** Subscriptions read at once (default 16). */
  subscriptionConcurrency?: number;
  /** Machines read at once across all subscriptions (default 64). */
  machineConcurrency?: number;
  /** Machines of one subscription read at once (default 16). */
  machinesPerSubscription?: number;
  onProgress?: (progress: DiscoveryProgress) => void;
  signal?: AbortSignal;
  /** Injected for tests; the wall clock by default. */
  now?: () => Date;
}

/** ffff0522 of each machine of a subscription by lower-case machine id, or why it could not be read. */
export type SubscriptionAssessments = Map<string, AssessmentStatusSeen> | Problem;

interface AssessmentBody {
  id?: string;
  name?: string;
  properties?: {
    resourceDetails?: { id?: string; Id?: string };
    status?: { code?: string; cause?: string; description?: string };
  };
}

const ASSESSMENT_SEGMENT = '/providers/microsoft.security/assessments/';

const same = (left: string | null | undefined, right: string): boolean =>
  typeof left === 'string' && left.toLowerCase() === right.toLowerCase();

// ─── Verification ────────────────────────────────────────────────────────────────────────────────

export async function verifyTransition(
  client: ArmClient,
  scopes: readonly Scope[],
  options: VerifyOptions = {},
): Promise<Verification> {
  const now = options.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const discovery = await discoverEstate(client, {
    scopes,
    subscriptionConcurrency: options.subscriptionConcurrency,
    machineConcurrency: options.machineConcurrency,
    machinesPerSubscription: options.machinesPerSubscription,
    onProgress: options.onProgress,
    signal: options.signal,
  });
  const assessments = new Map<string, SubscriptionAssessments>();
  await forEachLimited(
    discovery.subscriptions,
    createLimiter(options.subscriptionConcurrency ?? 16),
    async ({ subscriptionId }) => {
      assessments.set(subscriptionId, await readAssessments(client, subscriptionId, options.signal));
    },
  );
  const subscriptions = judgeEstate(discovery, assessments);
  const summary = summarize(subscriptions);
  return {
    kind: 'vaplane.transition.verification',
    version: 1,
    endpoint: discovery.endpoint,
    scope: discovery.scopes,
    startedAt,
    finishedAt: now().toISOString(),
    requests: discovery.requests + discovery.subscriptions.length,
    complete: summary.subscriptions.incomplete === 0,
    summary,
    subscriptions,
  };
}

/** The verdicts on a discovered estate and its assessments (pure: the rules at the top of this file). */
export function judgeEstate(
  discovery: Discovery,
  assessments: ReadonlyMap<string, SubscriptionAssessments>,
): SubscriptionVerification[] {
  const judged = discovery.subscriptions.map((subscription) =>
    judgeSubscription(subscription, assessments.get(subscription.subscriptionId)),
  );
  for (const unreadable of discovery.unreadable) {
    judged.push({
      subscriptionId: unreadable.subscriptionId,
      ...(unreadable.displayName ? { displayName: unreadable.displayName } : {}),
      state: 'incomplete',
      byolSolutions: [],
      connectors: [],
      machines: [],
      problems: [{ code: 'SubscriptionUnreadable', message: unreadable.message }],
      machineCounts: countStates([]),
    });
  }
  return judged.sort((left, right) => left.subscriptionId.localeCompare(right.subscriptionId));
}

function judgeSubscription(
  subscription: DiscoveredSubscription,
  assessments: SubscriptionAssessments | undefined,
): SubscriptionVerification {
  const id = subscription.subscriptionId;
  const problems: Problem[] = [];
  const byol = subscription.solutions
    .filter((solution) => same(solution.securityFamily, 'Va') && byolPartnerOfTemplate(solution.template))
    .map((solution) => `${solution.name} (${solution.template})`);
  const selectedProvider = subscription.vaSetting?.selectedProvider;
  if (!same(selectedProvider, 'MdeTvm') && !(selectedProvider === undefined && byol.length > 0)) {
    const prerequisites = prerequisitesOf(subscription, null).status;
    const heldBack =
      prerequisites.status === 'blocked' ? ` The plan holds it back: ${prerequisites.reason}` : '';
    problems.push({
      code: 'VaProviderNotMdeTvm',
      message: `${
        selectedProvider === undefined
          ? 'No VA provider is selected (serverVulnerabilityAssessmentsSettings/AzureServersSetting does not exist).'
          : `The selected VA provider is '${selectedProvider}', not MdeTvm.`
      }${heldBack}`,
      target: vaSettingPath(id),
    });
  }
  if (assessments !== undefined && !(assessments instanceof Map)) problems.push(assessments);
  const byMachine = assessments instanceof Map ? assessments : undefined;
  const connectors = subscription.connectors.flatMap((connector): ConnectorVerification[] => {
    const servers = connector.servers;
    if (!servers) return [];
    const va = servers.vaAutoProvisioning;
    const connectorProblems: Problem[] =
      va.enabled && !same(va.type, 'TVM')
        ? [
            {
              code: 'ConnectorVaNotTvm',
              message: `${servers.offeringType} auto-provisions '${va.type ?? 'no type'}', not TVM.`,
            },
          ]
        : [];
    return [
      {
        id: connector.id,
        name: connector.name,
        ...(connector.environmentName ? { environmentName: connector.environmentName } : {}),
        offeringType: servers.offeringType,
        vaAutoProvisioning: { ...va },
        state: connectorProblems.length > 0 ? 'incomplete' : 'complete',
        problems: connectorProblems,
      },
    ];
  });
  const machines = subscription.machines.map((machine) => judgeMachine(machine, byMachine));
  const machineCounts = countStates(machines.map((machine) => machine.state));
  const incomplete =
    problems.length > 0 ||
    connectors.some((connector) => connector.state === 'incomplete') ||
    machineCounts.incomplete > 0;
  return {
    subscriptionId: id,
    displayName: subscription.displayName,
    state: incomplete ? 'incomplete' : 'complete',
    ...(selectedProvider !== undefined ? { selectedProvider } : {}),
    byolSolutions: byol,
    connectors,
    machines,
    problems,
    machineCounts,
  };
}

function judgeMachine(
  machine: DiscoveredMachine,
  assessments: ReadonlyMap<string, AssessmentStatusSeen> | undefined,
): MachineVerification {
  const problems: Problem[] = [];
  const power = machine.kind === 'virtualMachine' ? machine.powerState : machine.status;
  const extensions = machine.extensions.map((extension): ExtensionSeen => ({ ...extension }));
  const legacyQualysExtensions = extensions.filter(isLegacyQualysExtension);
  const byolQualysAgents = extensions.filter(
    (extension) => same(extension.publisher, 'Qualys') && !isLegacyQualysExtension(extension),
  );
  const verdict: MachineVerification = {
    id: machine.id,
    name: machine.name,
    kind: machine.kind,
    resourceGroup: /\/resourceGroups\/([^/]+)/i.exec(machine.id)?.[1] ?? '',
    power,
    state: 'incomplete',
    legacyQualysExtensions,
    byolQualysAgents,
    problems,
  };
  const legacyDefault = machine.legacyVa.find((resource) => same(resource.name, 'default'));
  if (legacyDefault) {
    verdict.legacyDefaultResource = legacyDefault.provisioningState;
    problems.push({
      code: 'LegacyDefaultResource',
      message: `The built-in Qualys onboarding (serverVulnerabilityAssessments/${legacyDefault.name}, ${legacyDefault.provisioningState}) is still on the machine.`,
      target: legacyDefault.id,
    });
  }
  const offline =
    machine.kind === 'virtualMachine'
      ? same(machine.powerState, 'running')
        ? undefined
        : `the VM is ${machine.powerState}: start it, or run apply with --start-stopped`
      : same(machine.status, 'Connected')
        ? undefined
        : `the Arc machine is ${machine.status}: reconnect it, then plan and apply again`;
  for (const extension of legacyQualysExtensions) {
    problems.push({
      code: 'LegacyQualysExtension',
      message: `The legacy Qualys extension '${extension.name}' (${extension.type}${extension.provisioningState ? `, ${extension.provisioningState}` : ''}) is still installed${offline ? `; ${offline}` : ''}.`,
      target: extension.id,
    });
  }

  let notApplicable = false;
  if (assessments) {
    const assessment = assessments.get(machine.id.toLowerCase());
    if (!assessment) {
      problems.push({
        code: 'AssessmentMissing',
        message: `Defender has not assessed the machine (no ${VA_ASSESSMENT_KEY} yet); it can take up to 24 hours after a change.`,
      });
    } else {
      verdict.assessment = assessment;
      if (same(assessment.code, 'Healthy')) {
        if (assessment.cause) verdict.coveredBy = assessment.cause;
        if (!(same(assessment.cause, 'mdeTvm') || same(assessment.cause, 'byol'))) {
          problems.push({
            code: 'AssessmentNotMdeTvm',
            message: `The VA assessment is Healthy through '${assessment.cause ?? 'an unnamed provider'}', not mdeTvm.`,
          });
        }
      } else if (same(assessment.code, 'NotApplicable')) {
        notApplicable = true;
      } else {
        problems.push({
          code: 'AssessmentUnhealthy',
          message: `The VA assessment is ${assessment.code}${assessment.cause ? ` (${assessment.cause})` : ''}${assessment.description ? `: ${assessment.description}` : '.'}`,
        });
      }
    }
  }
  verdict.state = problems.length > 0 ? 'incomplete' : notApplicable ? 'notApplicable' : 'complete';
  return verdict;
}

// ─── Reading the assessments ─────────────────────────────────────────────────────────────────────

/** The subscription's ffff0522 assessments from its paged list, or a `ReadFailed` problem. */
export async function readAssessments(
  client: ArmClient,
  subscriptionId: string,
  signal?: AbortSignal,
): Promise<SubscriptionAssessments> {
  const byMachine = new Map<string, AssessmentStatusSeen>();
  try {
    for (const assessment of await client.listAll<AssessmentBody>(
      `/subscriptions/${subscriptionId}/providers/Microsoft.Security/assessments`,
      ASSESSMENTS_API_VERSION,
      { abortSignal: signal },
    )) {
      if (!same(assessment.name, VA_ASSESSMENT_KEY)) continue;
      const machineId = machineIdOfAssessment(assessment);
      const status = assessment.properties?.status;
      if (!machineId || !status?.code) continue;
      byMachine.set(machineId.toLowerCase(), {
        code: status.code,
        ...(status.cause ? { cause: status.cause } : {}),
        ...(status.description ? { description: status.description } : {}),
      });
    }
  } catch (error) {
    if (error instanceof ArmRequestError) {
      return {
        code: 'ReadFailed',
        message: `The assessments could not be read: ${error.summary}`,
        ...(error.requestId ? { requestId: error.requestId } : {}),
        status: error.status,
        errorCode: error.code,
      };
    }
    if (error instanceof ArmClientError) {
      return {
        code: 'ReadFailed',
        message: `The assessments could not be read: ${error.message}`,
        errorCode: error.code,
      };
    }
    throw error;
  }
  return byMachine;
}

function machineIdOfAssessment(assessment: AssessmentBody): string | undefined {
  const details = assessment.properties?.resourceDetails;
  const fromDetails = details?.id ?? details?.Id;
  if (fromDetails) return fromDetails;
  const at = assessment.id?.toLowerCase().indexOf(ASSESSMENT_SEGMENT) ?? -1;
  return at > 0 ? assessment.id?.slice(0, at) : undefined;
}

// ─── Counting ────────────────────────────────────────────────────────────────────────────────────

function countStates(states: readonly VerificationState[]): Counts {
  const counts: Counts = { total: 0, complete: 0, incomplete: 0, notApplicable: 0 };
  for (const state of states) {
    counts.total += 1;
    counts[state] += 1;
  }
  return counts;
}

function summarize(subscriptions: readonly SubscriptionVerification[]): VerificationSummary {
  const problems: Partial<Record<ProblemCode, number>> = {};
  const tally = (list: readonly Problem[]) => {
    for (const problem of list) problems[problem.code] = (problems[problem.code] ?? 0) + 1;
  };
  for (const subscription of subscriptions) {
    tally(subscription.problems);
    for (const connector of subscription.connectors) tally(connector.problems);
    for (const machine of subscription.machines) tally(machine.problems);
  }
  return {
    subscriptions: countStates(subscriptions.map((subscription) => subscription.state)),
    machines: countStates(subscriptions.flatMap((subscription) => subscription.machines.map((m) => m.state))),
    connectors: countStates(
      subscriptions.flatMap((subscription) => subscription.connectors.map((c) => c.state)),
    ),
    problems,
  };
}
