/**
 * Compliance evaluation: an assignment over the resources of the subscriptions it covers, with the
 * existence checks of AuditIfNotExists / DeployIfNotExists answered from the store (and assessment
 * ffff0522 from coverage, as the Security provider computes it). The verdicts are stored as internal
 * `policystates` rows beneath the assignment, replaced per subscription on every evaluation.
 */
import { uuidFromHash } from '../../arm/auth.js';
import { keyOf } from '../../arm/resourceId.js';
import {
  type ArmResource,
  completeEvaluation,
  evaluatePolicy,
  formatExplanation,
  type JsonValue,
  type PolicyEvaluation,
  type ResourceGroupContext,
  type ResourceView,
  resourceView,
  type SubscriptionContext,
  subscriptionView,
} from '../../policy/index.js';
import {
  type ArmBody,
  type Db,
  getResource,
  insertResources,
  listResources,
  resourceFromRow,
  type StoredResource,
} from '../../store/index.js';
import { RESOURCE_GROUP_TYPE, SUBSCRIPTION_TYPE } from '../resources/index.js';
import {
  type VaAssessment,
  vaAssessmentBody,
  vaAssessmentFor,
  vaAssessmentsForSubscription,
} from '../security/assessments/index.js';
import {
  ASSIGNMENT_TYPE,
  bindOrRefuse,
  isWithin,
  type LoadedDefinition,
  loadDefinition,
  STATE_TYPE,
  subscriptionsUnder,
} from './model.js';

const VA_ASSESSMENT_KEY = 'ffff0522-1e88-47fc-8382-2a80ba848f5d';
/** Types that are vaplane's or ARM's bookkeeping, never evaluated. */
export const NOT_EVALUATED = (type: string) =>
  type.startsWith('microsoft.authorization/') ||
  type.startsWith('microsoft.policyinsights/') ||
  type === 'microsoft.resources/deployments' ||
  type === SUBSCRIPTION_TYPE;

/**
 * A stored body as Azure Policy sees it: resource groups are `Microsoft.Resources/subscriptions/
 * resourceGroups` (the type Microsoft's rules match, e.g. 96670d01), and an extension resource's type
 * is its own (`Microsoft.Security/serverVulnerabilityAssessments`), not the path-like type ARM echoes.
 */
export function policyBody(row: StoredResource): ArmResource {
  const body = row.body as ArmResource;
  if (row.type === RESOURCE_GROUP_TYPE)
    return { ...body, type: 'Microsoft.Resources/subscriptions/resourceGroups' };
  const extension = /(?:^|\/)providers\/([^/]+\/[^/]+)$/i.exec(String(body.type ?? ''));
  return extension ? { ...body, type: extension[1]! } : body;
}

export interface AssignmentInScope {
  assignment: StoredResource;
  definition: LoadedDefinition;
  parameters: Map<string, JsonValue>;
}

export interface EvaluatedResource {
  resource: StoredResource;
  view: ResourceView;
  evaluation: PolicyEvaluation;
}

export async function assignmentInScope(
  db: Db,
  assignment: StoredResource,
): Promise<AssignmentInScope | undefined> {
  const definition = await loadDefinition(db, String(assignment.body.properties.policyDefinitionId));
  if (!definition) return undefined;
  const parameters = bindOrRefuse(
    definition.compiled,
    assignment.body.properties.parameters,
    assignment.name,
  );
  return { assignment, definition, parameters };
}

/** Every assignment that applies to a subscription: at it, in its resource groups, or at a management group above it. */
export async function assignmentsFor(db: Db, subscriptionId: string): Promise<StoredResource[]> {
  const all = await listResources(db, { type: ASSIGNMENT_TYPE, limit: 100_000 });
  const applying: StoredResource[] = [];
  for (const assignment of all) {
    const scope = String(assignment.body.properties.scope);
    if (assignment.subscriptionId === subscriptionId) applying.push(assignment);
    else if (
      assignment.subscriptionId === null &&
      (await subscriptionsUnder(db, scope)).includes(subscriptionId)
    )
      applying.push(assignment);
  }
  return applying;
}

export async function subscriptionContext(
  db: Db,
  subscriptionId: string,
): Promise<SubscriptionContext | undefined> {
  const row = await getResource(db, `/subscriptions/${subscriptionId}`);
  if (!row) return undefined;
  return {
    subscriptionId: String(row.body.subscriptionId ?? subscriptionId),
    displayName: String(row.body.displayName ?? subscriptionId),
    ...(row.body.tenantId ? { tenantId: String(row.body.tenantId) } : {}),
  };
}

/**
 * Assessment ffff0522 of a machine. Over a whole subscription, every machine's assessment is computed
 * once, from one load of the subscription's coverage (a few queries), instead of per machine.
 */
type VaAssessmentLookup = (machineKey: string) => Promise<VaAssessment | undefined>;

function vaAssessmentLookup(db: Db, subscriptionId: string, now: Date, wholeSubscription: boolean) {
  if (!wholeSubscription) return (machineKey: string) => vaAssessmentFor(db, machineKey, now);
  let all: Promise<Map<string, VaAssessment>> | undefined;
  return async (machineKey: string) => {
    all ??= vaAssessmentsForSubscription(db, subscriptionId, now, { size: 10_000_000 }).then(
      ({ value }) => new Map(value.map((assessment) => [assessment.machineKey, assessment])),
    );
    return (await all).get(machineKey);
  };
}

/** Reads what an existence check asks for. */
async function relatedResources(
  db: Db,
  evaluation: PolicyEvaluation & { state: 'ExistenceCheckRequired' },
  subscription: SubscriptionContext,
  vaAssessmentOf: VaAssessmentLookup,
): Promise<ResourceView[]> {
  const { query } = evaluation.check;
  if (query.type.toLowerCase() === 'microsoft.security/assessments' && query.scope.kind === 'resource') {
    if (query.name !== undefined && query.name.toLowerCase() !== VA_ASSESSMENT_KEY) return [];
    const assessment = await vaAssessmentOf(keyOf(query.scope.resourceId));
    if (!assessment) return [];
    return [
      resourceView(vaAssessmentBody(assessment, { apiVersion: '2021-06-01' }) as ArmResource, subscription),
    ];
  }
  if (query.resourceId) {
    const found = await getResource(db, keyOf(query.resourceId));
    return found ? [resourceView(found.body as ArmResource, subscription)] : [];
  }
  const type = query.type.toLowerCase();
  const scope = query.scope;
  const rows =
    scope.kind === 'resource'
      ? await listResources(db, { type, underKey: keyOf(scope.resourceId), limit: 10_000 })
      : await listResources(db, {
          type,
          subscriptionId: scope.subscriptionId.toLowerCase(),
          ...(scope.kind === 'resourceGroup' ? { resourceGroup: scope.resourceGroupName.toLowerCase() } : {}),
          limit: 10_000,
        });
  return rows.map((row) => resourceView(row.body as ArmResource, subscription));
}

/**
 * Evaluates an assignment over one subscription's resources (or only `onlyKey`), existence checks
 * answered. Resources outside the assignment's scope or inside a `notScopes` entry are skipped.
 */
export async function evaluateSubscription(
  db: Db,
  target: AssignmentInScope,
  subscriptionId: string,
  now: Date,
  onlyKey?: string,
): Promise<EvaluatedResource[]> {
  const subscription = await subscriptionContext(db, subscriptionId);
  if (!subscription) return [];
  const { assignment, definition, parameters } = target;
  const scope = String(assignment.body.properties.scope);
  const notScopes: string[] = assignment.body.properties.notScopes ?? [];
  // Everything in a subscription below a management group is in that group's scope.
  const atGroup = /^\/providers\/Microsoft\.Management\//i.test(scope);
  const inScope = (id: string) => atGroup || isWithin(id, scope);
  const excluded = (id: string) => notScopes.some((notScope) => isWithin(id, notScope));

  const candidates: { resource: StoredResource; view: ResourceView }[] = [];
  const subscriptionKey = `/subscriptions/${subscriptionId}`;
  if (!onlyKey || onlyKey === subscriptionKey) {
    const row = await getResource(db, subscriptionKey);
    if (row) candidates.push({ resource: row, view: subscriptionView(subscription) });
  }
  const groups = await listResources(db, { type: RESOURCE_GROUP_TYPE, subscriptionId, limit: 100_000 });
  const groupContext = new Map<string, ResourceGroupContext>(
    groups.map((group) => [
      group.name.toLowerCase(),
      {
        name: group.name,
        location: String(group.body.location ?? ''),
        ...(group.body.tags ? { tags: group.body.tags } : {}),
        ...(group.body.managedBy ? { managedBy: String(group.body.managedBy) } : {}),
      },
    ]),
  );
  if (onlyKey && onlyKey !== subscriptionKey) {
    const row = await getResource(db, onlyKey);
    if (row && !NOT_EVALUATED(row.type)) candidates.push({ resource: row, view: viewOf(row) });
  } else if (!onlyKey) {
    // One read of the subscription's key range (the primary key serves it, whatever the types).
    const rows = await db
      .selectFrom('resources')
      .selectAll()
      .where('subscription_id', '=', subscriptionId)
      .where('key', '>', `${subscriptionKey}/`)
      .where('key', '<', `${subscriptionKey}0`)
      .orderBy('key')
      .execute();
    for (const row of rows) {
      if (NOT_EVALUATED(row.type)) continue;
      const resource = resourceFromRow(row);
      candidates.push({ resource, view: viewOf(resource) });
    }
  }

  function viewOf(row: StoredResource): ResourceView {
    const group = row.resourceGroup ? groupContext.get(row.resourceGroup) : undefined;
    return resourceView(policyBody(row), subscription!, group);
  }

  const vaAssessmentOf = vaAssessmentLookup(db, subscriptionId, now, !onlyKey);
  const evaluated: EvaluatedResource[] = [];
  for (const { resource, view } of candidates) {
    if (!inScope(resource.id) || excluded(resource.id)) continue;
    let evaluation = evaluatePolicy({
      definition: definition.compiled,
      parameters,
      resource: view,
      now,
      policy: { assignmentId: assignment.id, definitionId: definition.id },
    });
    if (evaluation.state === 'ExistenceCheckRequired') {
      evaluation = completeEvaluation(
        evaluation,
        await relatedResources(db, evaluation, subscription, vaAssessmentOf),
      );
    }
    evaluated.push({ resource, view, evaluation });
  }
  return evaluated;
}

/** Re-evaluates an assignment everywhere it applies and replaces its stored states. Returns how many resources it judged. */
export async function evaluateAssignment(db: Db, assignment: StoredResource, now: Date): Promise<number> {
  const target = await assignmentInScope(db, assignment);
  let judged = 0;
  await db
    .deleteFrom('resources')
    .where('type', '=', STATE_TYPE)
    .where('parent_key', '=', assignment.key)
    .execute();
  if (!target) return 0;
  for (const subscriptionId of await subscriptionsUnder(db, String(assignment.body.properties.scope))) {
    const evaluated = await evaluateSubscription(db, target, subscriptionId, now);
    const states = evaluated.flatMap((item) => stateRecord(target, item, now));
    await insertResources(db, states);
    judged += states.length;
  }
  return judged;
}

/** Re-evaluates every assignment that applies to the given subscriptions (after a write in them). */
export async function evaluateSubscriptions(
  db: Db,
  subscriptionIds: ReadonlySet<string>,
  now: Date,
): Promise<void> {
  const assignments = await listResources(db, { type: ASSIGNMENT_TYPE, limit: 100_000 });
  for (const assignment of assignments) {
    const covered = await subscriptionsUnder(db, String(assignment.body.properties.scope));
    if (covered.some((subscriptionId) => subscriptionIds.has(subscriptionId))) {
      await evaluateAssignment(db, assignment, now);
    }
  }
}

function stateRecord(target: AssignmentInScope, item: EvaluatedResource, now: Date): StoredResource[] {
  const { evaluation, resource } = item;
  if (evaluation.state !== 'Compliant' && evaluation.state !== 'NonCompliant') return [];
  const { assignment, definition } = target;
  const at = now.toISOString();
  const name = uuidFromHash(`${assignment.key}|${resource.key}`);
  const key = `${assignment.key}/policystates/${name}`;
  const body: ArmBody = {
    '@odata.id': null,
    timestamp: at,
    resourceId: resource.id,
    policyAssignmentId: assignment.id,
    policyDefinitionId: definition.id,
    effectiveParameters: '',
    isCompliant: evaluation.state === 'Compliant',
    subscriptionId: resource.subscriptionId ?? '',
    resourceType: String(resource.body.type ?? resource.type),
    resourceLocation: String(resource.body.location ?? ''),
    resourceGroup: resource.resourceGroup ?? '',
    resourceTags: 'tbd',
    policyAssignmentName: assignment.name,
    policyAssignmentOwner: 'tbd',
    policyAssignmentParameters: JSON.stringify(assignment.body.properties.parameters ?? {}),
    policyAssignmentScope: assignment.body.properties.scope,
    policyDefinitionName: definition.name,
    policyDefinitionAction: evaluation.effect.toLowerCase(),
    policyDefinitionCategory: String(definition.body.properties?.metadata?.category ?? 'tbd'),
    policySetDefinitionId: '',
    policySetDefinitionName: '',
    policyDefinitionReferenceId: '',
    complianceState: evaluation.state,
    policyEvaluationDetails: {
      reason: formatExplanation(evaluation.explanation).join('\n'),
      ...('existence' in evaluation
        ? {
            existence: {
              exists: evaluation.existence.exists,
              related: evaluation.existence.related.map(({ id, satisfies }) => ({ id, satisfies })),
            },
          }
        : {}),
    },
  };
  return [
    {
      key,
      id: key,
      type: STATE_TYPE,
      subscriptionId: resource.subscriptionId,
      resourceGroup: resource.resourceGroup,
      parentKey: assignment.key,
      name,
      body,
      etag: '"0"',
      createdAt: at,
      updatedAt: at,
    },
  ];
}
