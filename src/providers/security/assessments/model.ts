/**
 * Assessment `ffff0522-1e88-47fc-8382-2a80ba848f5d` ("Machines should have a vulnerability assessment
 * solution", §8.1) computed from `coverageOf` — never stored, so it always agrees with the estate — and
 * its ARM representation (§8.2, `assessments.json` 2021-06-01). The portal, the policy engine and the
 * transition read assessments through `vaAssessmentFor` / `vaAssessmentsForSubscription`.
 */
import {
  type Coverage,
  coverageOf,
  type Machine,
  QUALYS_RETIREMENT,
  type RuleId,
  VA_ASSESSMENT_KEY,
} from '../../../coverage/index.js';
import type { ArmBody, Db } from '../../../store/index.js';
import {
  connectorFor,
  coverageContextOf,
  loadCoverageContext,
  loadMachineCoveragePage,
  loadSubscriptionCoverage,
  type MachineCoverage,
  type SubscriptionCoverage,
} from '../coverageContext.js';

export const ASSESSMENTS_BODY_TYPE = 'Microsoft.Security/assessments';
export const VA_ASSESSMENT_DISPLAY_NAME = 'Machines should have a vulnerability assessment solution';

/** The built-in policy the recommendation follows ("Related policy", Defender's recommendation reference). */
const VA_POLICY_DEFINITION_ID =
  '/providers/Microsoft.Authorization/policyDefinitions/501541f7-f7e7-4cd6-868c-4190fdad3ac9';

/**
 * `SecurityAssessmentMetadataProperties` of ffff0522. Display name, description, severity and the
 * related policy are Defender's published recommendation reference; the remediation text is vaplane's.
 */
export const VA_ASSESSMENT_METADATA = {
  displayName: VA_ASSESSMENT_DISPLAY_NAME,
  policyDefinitionId: VA_POLICY_DEFINITION_ID,
  description:
    "Defender for Cloud regularly checks your connected machines to ensure they're running vulnerability assessment tools. Use this recommendation to deploy a vulnerability assessment solution.",
  remediationDescription:
    "Select Microsoft Defender Vulnerability Management as the machines' vulnerability assessment provider: set Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting to selectedProvider MdeTvm on the subscription, with Defender for Servers Plan 2, or Plan 1 with Endpoint protection (settings/WDATP) on; for GCP and AWS machines, set the security connector's vaAutoProvisioning to TVM. A bring-your-own-license Qualys or Rapid7 solution also covers Azure VMs.",
  categories: ['Compute'],
  severity: 'Medium',
  preview: false,
  assessmentType: 'BuiltIn',
} as const;

/** `links.azurePortalUri`, as Defender's documentation links the recommendation. */
export const VA_ASSESSMENT_PORTAL_URI = `https://portal.azure.com/#blade/Microsoft_Azure_Security/RecommendationsBlade/assessmentKey/${VA_ASSESSMENT_KEY}`;

/** Api-versions whose `status` carries `firstEvaluationDate` / `statusChangeDate` (2021-06-01's `AssessmentStatusResponse`). */
const DATED_VERSIONS = new Set(['2021-06-01', '2023-10-01-preview']);

/** The assessment of one machine, with the coverage it was computed from. */
export interface VaAssessment {
  machineKey: string;
  /** The machine's id as stored (creation casing). */
  machineId: string;
  machine: Machine;
  coverage: Coverage;
  /** The security connector governing a multicloud machine, when one does. */
  connectorId?: string;
  firstEvaluationDate: string;
  statusChangeDate: string;
}

/**
 * The assessment of a machine from its loaded coverage inputs. Nothing is stored, so the dates are
 * derived: `firstEvaluationDate` is when the machine appeared; `statusChangeDate` is the latest change
 * vaplane can see among the inputs the status is computed from (and the retirement instant for a
 * machine whose Qualys onboarding it ended). A deletion leaves no trace, so after one the date can be
 * earlier than the real change.
 */
export function computeVaAssessment(
  machine: MachineCoverage,
  subscription: SubscriptionCoverage,
  now: Date,
): VaAssessment {
  const coverage = coverageOf(machine.machine, coverageContextOf(machine, subscription, now));
  const connector = connectorFor(machine, subscription);
  const nowMs = now.getTime();
  const firstMs = Math.min(Date.parse(machine.createdAt), nowMs);
  const inputs = [machine.changedAt, subscription.changedAt, connector?.updatedAt]
    .filter((value): value is string => value !== undefined)
    .map((value) => Date.parse(value));
  const qualysEnded =
    QUALYS_RETIREMENT.getTime() <= nowMs &&
    (machine.legacyAssessments.some((assessment) => assessment.name === 'default') ||
      connector?.connector.defenderForServers?.vaAutoProvisioning?.type === 'Qualys');
  if (qualysEnded) inputs.push(QUALYS_RETIREMENT.getTime());
  const changedMs = Math.min(Math.max(firstMs, ...inputs.filter(Number.isFinite)), nowMs);
  return {
    machineKey: machine.key,
    machineId: machine.id,
    machine: machine.machine,
    coverage,
    ...(connector ? { connectorId: connector.connector.id } : {}),
    firstEvaluationDate: new Date(firstMs).toISOString(),
    statusChangeDate: new Date(changedMs).toISOString(),
  };
}

/** The assessment of the machine with this key at `now`, or undefined when the key is no VM or Arc machine. */
export async function vaAssessmentFor(
  db: Db,
  machineKey: string,
  now: Date,
): Promise<VaAssessment | undefined> {
  const loaded = await loadCoverageContext(db, machineKey, now);
  return loaded && computeVaAssessment(loaded.machine, loaded.subscription, now);
}

export interface VaAssessmentPage {
  size: number;
  /** The machine key after which the page starts (`nextAfter` of the previous page). */
  after?: string;
  resourceGroup?: string;
}

/**
 * One page of the assessments of a subscription's (or resource group's) machines, in key order. The
 * subscription's context is loaded once per page; the page costs the same few queries however many
 * machines it holds.
 */
export async function vaAssessmentsForSubscription(
  db: Db,
  subscriptionId: string,
  now: Date,
  page: VaAssessmentPage,
): Promise<{ value: VaAssessment[]; nextAfter?: string }> {
  const machines = await loadMachineCoveragePage(db, {
    subscriptionId,
    resourceGroup: page.resourceGroup,
    after: page.after,
    limit: page.size + 1,
  });
  const shown = machines.slice(0, page.size);
  if (shown.length === 0) return { value: [] };
  const subscription = await loadSubscriptionCoverage(db, subscriptionId);
  const value = shown.map((machine) => computeVaAssessment(machine, subscription, now));
  return machines.length > page.size ? { value, nextAfter: shown[shown.length - 1]!.key } : { value };
}

// ─── Representation ──────────────────────────────────────────────────────────────────────────────

export type AssessmentExpand = 'links' | 'metadata';

/** The rules whose reasons explain the provider choice (the rest state context or the status). */
const ROUTE_RULES: ReadonlySet<RuleId> = new Set<RuleId>([
  'qualys.builtIn',
  'qualys.connector',
  'mdvm.agent',
  'mdvm.agentless',
  'byol.solution',
  'select.byolShownByDefault',
  'select.mdeTvmOverByol',
  'select.agentBasedOverAgentless',
]);

/**
 * `additionalData` (a map of strings in the schema): the provider and method coverage chose, whether
 * the legacy Qualys extension is still installed (and its instance names), the BYOL solution or
 * connector involved, and why — the reasons that chose the provider, or when none covers, what each
 * route lacks.
 */
function additionalDataOf(assessment: VaAssessment): Record<string, string> {
  const { coverage } = assessment;
  const routes = coverage.reasons.filter((reason) => ROUTE_RULES.has(reason.rule));
  const decided = routes.filter((reason) => reason.decided);
  const data: Record<string, string> = {
    provider: coverage.provider,
    method: coverage.method,
    legacyQualysExtensionInstalled: coverage.legacyQualysExtension.installed ? 'True' : 'False',
  };
  if (coverage.legacyQualysExtension.installed) {
    data.legacyQualysExtensions = coverage.legacyQualysExtension.extensions
      .map((extension) => extension.name)
      .join(',');
  }
  if (coverage.provider === 'byol') {
    data.byolPartner = coverage.partner;
    data.byolSolution = coverage.solution;
  }
  if (assessment.connectorId !== undefined) data.securityConnectorId = assessment.connectorId;
  const explaining = decided.length > 0 ? decided : routes;
  if (explaining.length > 0) data.reason = explaining.map((reason) => reason.message).join(' ');
  return data;
}

export function assessmentId(machineId: string): string {
  return `${machineId}/providers/Microsoft.Security/assessments/${VA_ASSESSMENT_KEY}`;
}

/** The `SecurityAssessmentResponse` at `apiVersion`, in the member order of Microsoft's examples. */
export function vaAssessmentBody(
  assessment: VaAssessment,
  options: { apiVersion: string; expand?: ReadonlySet<AssessmentExpand> },
): ArmBody {
  const status = assessment.coverage.assessmentStatus;
  const properties: ArmBody = {
    resourceDetails: { source: 'Azure', id: assessment.machineId },
    displayName: VA_ASSESSMENT_DISPLAY_NAME,
    status: {
      code: status.code,
      cause: status.cause,
      description: status.description,
      ...(DATED_VERSIONS.has(options.apiVersion)
        ? {
            firstEvaluationDate: assessment.firstEvaluationDate,
            statusChangeDate: assessment.statusChangeDate,
          }
        : {}),
    },
    additionalData: additionalDataOf(assessment),
  };
  if (options.expand?.has('links')) properties.links = { azurePortalUri: VA_ASSESSMENT_PORTAL_URI };
  if (options.expand?.has('metadata')) properties.metadata = metadataProperties();
  return {
    id: assessmentId(assessment.machineId),
    name: VA_ASSESSMENT_KEY,
    type: ASSESSMENTS_BODY_TYPE,
    properties,
  };
}

/** The `SecurityAssessmentMetadataResponse` of ffff0522 below `scopeId` ('' for the tenant). */
export function vaAssessmentMetadataBody(scopeId: string): ArmBody {
  return {
    id: `${scopeId}/providers/Microsoft.Security/assessmentMetadata/${VA_ASSESSMENT_KEY}`,
    name: VA_ASSESSMENT_KEY,
    type: 'Microsoft.Security/assessmentMetadata',
    properties: metadataProperties(),
  };
}

function metadataProperties(): ArmBody {
  return { ...VA_ASSESSMENT_METADATA, categories: [...VA_ASSESSMENT_METADATA.categories] };
}
