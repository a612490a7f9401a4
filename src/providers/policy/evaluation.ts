/**
 * Compliance evaluation: what an assignment applies — one definition, or every member of a set with
 * parameters rendered from the set's — over resources of the subscriptions it covers, with the
 * existence checks of AuditIfNotExists / DeployIfNotExists answered from the store (and assessment
 * ffff0522 from coverage, as the Security provider computes it). The verdicts are stored as internal
 * `policystates` rows beneath the assignment: replaced per assignment by a full evaluation, per
 * (policy, resource) by a targeted one.
 */
import { uuidFromHash } from '../../arm/auth.js';
import { keyOf } from '../../arm/resourceId.js';
import {
  type ArmResource,
  completeEvaluation,
  evaluatePolicy,
  formatExplanation,
  type JsonValue,
  PolicyError,
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
  getResources,
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
  type AssignedPolicy,
  assignedPolicies,
  isWithin,
  type LoadedSet,
  loadAssignable,
  STATE_TYPE,
  subscriptionsUnder,
} from './model.js';

const VA_ASSESSMENT_KEY = 'ffff0522-1e88-47fc-8382-2a80ba848f5d';
/** Azure Policy's name for resource groups (the type Microsoft's rules match, e.g. 96670d01). */
const POLICY_RESOURCE_GROUP_TYPE = 'microsoft.resources/subscriptions/resourcegroups';

/** Types that are vaplane's or ARM's bookkeeping, never evaluated. */
export const NOT_EVALUATED = (type: string) =>
  type.startsWith('microsoft.authorization/') ||
  type.startsWith('microsoft.policyinsights/') ||
  type.startsWith('microsoft.management/') ||
  type === 'microsoft.resources/deployments' ||
  type === SUBSCRIPTION_TYPE;

/** A stored row's type as Azure Policy names it, lower-cased. */
export function policyTypeOf(storedType: string): string {
  return storedType === RESOURCE_GROUP_TYPE ? POLICY_RESOURCE_GROUP_TYPE : storedType;
}

/** The stored type of a policy type (the inverse of `policyTypeOf`). */
function storedTypeOf(policyType: string): string {
  return policyType === POLICY_RESOURCE_GROUP_TYPE ? RESOURCE_GROUP_TYPE : policyType;
}

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

/** An assignment with what it applies, parameters bound. */
export interface AssignmentInScope {
  assignment: StoredResource;
  /** The set, when the assignment assigns one. */
  set?: LoadedSet;
  /** The set's own parameters as the assignment binds them. */
  setParameters?: Map<string, JsonValue>;
  /** One policy, or each member of the set. */
  policies: AssignedPolicy[];
}

export interface EvaluatedResource {
  resource: StoredResource;
  view: ResourceView;
  policy: AssignedPolicy;
  evaluation: PolicyEvaluation;
}

export async function assignmentInScope(
  db: Db,
  assignment: StoredResource,
  now: Date,
): Promise<AssignmentInScope | undefined> {
  const assignable = await loadAssignable(db, String(assignment.body.properties.policyDefinitionId));
  if (!assignable) return undefined;
  const { policies, setParameters } = assignedPolicies(
    assignable,
    assignment.body.properties.parameters,
    assignment.name,
    now,
  );
  return {
    assignment,
    policies,
    ...(assignable.kind === 'set' ? { set: assignable.set, setParameters } : {}),
  };
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

export function groupContextOf(group: StoredResource): ResourceGroupContext {
  return {
    name: group.name,
    location: String(group.body.location ?? ''),
    ...(group.body.tags ? { tags: group.body.tags } : {}),
    ...(group.body.managedBy ? { managedBy: String(group.body.managedBy) } : {}),
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
 * Which resources of a subscription an evaluation judges: all of them (a full scan), these keys, or
 * those below a scope key (the subscription or a resource group), of these policy types when known.
 */
export type Candidates =
  | { kind: 'all' }
  | { kind: 'keys'; keys: ReadonlySet<string> }
  | { kind: 'under'; key: string; types?: ReadonlySet<string> };

async function candidateRows(
  db: Db,
  subscriptionId: string,
  candidates: Candidates,
): Promise<StoredResource[]> {
  const subscriptionKey = `/subscriptions/${subscriptionId}`;
  if (candidates.kind === 'keys') return getResources(db, [...candidates.keys]);
  const underKey = candidates.kind === 'under' ? candidates.key : subscriptionKey;
  const types = candidates.kind === 'under' ? candidates.types : undefined;
  const rows: StoredResource[] = [];
  if (underKey === subscriptionKey && (!types || types.has(SUBSCRIPTION_TYPE))) {
    const row = await getResource(db, subscriptionKey);
    if (row) rows.push(row);
  }
  if (types) {
    for (const type of types) {
      if (type === SUBSCRIPTION_TYPE) continue;
      rows.push(
        ...(await listResources(db, {
          type: storedTypeOf(type),
          subscriptionId,
          underKey,
          limit: 10_000_000,
        })),
      );
    }
    return rows;
  }
  if (underKey !== subscriptionKey) {
    const scopeRow = await getResource(db, underKey);
    if (scopeRow) rows.push(scopeRow);
  }
  // One read of the key range (the primary key serves it, whatever the types).
  const range = await db
    .selectFrom('resources')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where('key', '>', `${underKey}/`)
    .where('key', '<', `${underKey}0`)
    .orderBy('key')
    .execute();
  for (const row of range) rows.push(resourceFromRow(row));
  return rows;
}

export interface Judgement {
  /** Every candidate in the assignment's scope (judged NotApplicable or not): their old states go. */
  considered: StoredResource[];
  /** The Compliant and NonCompliant verdicts (and the rest, which leave no state). */
  evaluated: EvaluatedResource[];
}

/**
 * Evaluates an assignment's policies (or `policies`, a subset) over candidates of one subscription,
 * existence checks answered. Candidates outside the assignment's scope or inside a `notScopes` entry
 * are skipped; so is a bookkeeping type. A policy whose evaluation fails for a resource leaves no state
 * for it (the failure does not stop the others).
 */
export async function judge(
  db: Db,
  target: AssignmentInScope,
  subscriptionId: string,
  now: Date,
  candidates: Candidates,
  policies: readonly AssignedPolicy[] = target.policies,
): Promise<Judgement> {
  const subscription = await subscriptionContext(db, subscriptionId);
  if (!subscription) return { considered: [], evaluated: [] };
  const { assignment } = target;
  const scope = String(assignment.body.properties.scope);
  const notScopes: string[] = assignment.body.properties.notScopes ?? [];
  // Everything in a subscription below a management group is in that group's scope.
  const atGroup = /^\/providers\/Microsoft\.Management\//i.test(scope);
  const inScope = (id: string) => atGroup || isWithin(id, scope);
  const excluded = (id: string) => notScopes.some((notScope) => isWithin(id, notScope));
  const subscriptionKey = `/subscriptions/${subscriptionId}`;

  const rows = (await candidateRows(db, subscriptionId, candidates)).filter(
    (row) =>
      (row.key === subscriptionKey || !NOT_EVALUATED(row.type)) && inScope(row.id) && !excluded(row.id),
  );
  const groupKeys = new Set(
    rows
      .filter((row) => row.resourceGroup)
      .map((row) => `${subscriptionKey}/resourcegroups/${row.resourceGroup}`),
  );
  const groups =
    candidates.kind === 'keys'
      ? await getResources(db, [...groupKeys])
      : await listResources(db, { type: RESOURCE_GROUP_TYPE, subscriptionId, limit: 100_000 });
  const groupContext = new Map(groups.map((group) => [group.name.toLowerCase(), groupContextOf(group)]));
  const viewOf = (row: StoredResource): ResourceView =>
    row.key === subscriptionKey
      ? subscriptionView(subscription)
      : resourceView(
          policyBody(row),
          subscription,
          row.resourceGroup ? groupContext.get(row.resourceGroup) : undefined,
        );

  const machineCount = rows.filter(
    (row) => row.type.endsWith('/virtualmachines') || row.type.endsWith('/machines'),
  ).length;
  const vaAssessmentOf = vaAssessmentLookup(db, subscriptionId, now, machineCount > 1);
  const evaluated: EvaluatedResource[] = [];
  for (const resource of rows) {
    const view = viewOf(resource);
    for (const policy of policies) {
      const { definition, parameters } = policy;
      try {
        let evaluation = evaluatePolicy({
          definition: definition.compiled,
          parameters,
          resource: view,
          now,
          policy: {
            assignmentId: assignment.id,
            definitionId: definition.id,
            ...(target.set ? { setDefinitionId: target.set.id } : {}),
            ...(policy.referenceId ? { definitionReferenceId: policy.referenceId } : {}),
          },
        });
        if (evaluation.state === 'ExistenceCheckRequired') {
          evaluation = completeEvaluation(
            evaluation,
            await relatedResources(db, evaluation, subscription, vaAssessmentOf),
          );
        }
        evaluated.push({ resource, view, policy, evaluation });
      } catch (error) {
        if (!(error instanceof PolicyError)) throw error;
      }
    }
  }
  return { considered: rows, evaluated };
}

/** Re-evaluates an assignment everywhere it applies and replaces its stored states. Returns how many states it wrote. */
export async function evaluateAssignment(db: Db, assignment: StoredResource, now: Date): Promise<number> {
  const target = await assignmentInScope(db, assignment, now).catch((error) => {
    if (error instanceof PolicyError || (error as { status?: number }).status === 400) return undefined;
    throw error;
  });
  let judged = 0;
  await db
    .deleteFrom('resources')
    .where('type', '=', STATE_TYPE)
    .where('parent_key', '=', assignment.key)
    .execute();
  if (!target) return 0;
  for (const subscriptionId of await subscriptionsUnder(db, String(assignment.body.properties.scope))) {
    const { evaluated } = await judge(db, target, subscriptionId, now, { kind: 'all' });
    const states = evaluated.flatMap((item) => stateRecord(target, item, now));
    await insertResources(db, states);
    judged += states.length;
  }
  return judged;
}

/**
 * Replaces the states a targeted judgement covers: for each considered resource and judged policy,
 * the old state goes and the new verdict (if Compliant or NonCompliant) is written.
 */
export async function replaceStates(
  db: Db,
  target: AssignmentInScope,
  judgement: Judgement,
  policies: readonly AssignedPolicy[],
  now: Date,
): Promise<void> {
  const stale = judgement.considered.flatMap((resource) =>
    policies.map((policy) => stateKey(target.assignment.key, resource.key, policy.referenceId)),
  );
  for (let start = 0; start < stale.length; start += 500) {
    await db
      .deleteFrom('resources')
      .where('key', 'in', stale.slice(start, start + 500))
      .execute();
  }
  await insertResources(
    db,
    judgement.evaluated.flatMap((item) => stateRecord(target, item, now)),
  );
}

/** Re-evaluates every assignment that applies to the given subscriptions (`triggerEvaluation`). */
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

/** The key of the state of one (assignment, resource, set member) — computable without reading. */
export function stateKey(assignmentKey: string, resourceKey: string, referenceId?: string): string {
  const name = uuidFromHash(
    referenceId === undefined
      ? `${assignmentKey}|${resourceKey}`
      : `${assignmentKey}|${resourceKey}|${referenceId.toLowerCase()}`,
  );
  return `${assignmentKey}/policystates/${name}`;
}

function stateRecord(target: AssignmentInScope, item: EvaluatedResource, now: Date): StoredResource[] {
  const { evaluation, resource, policy } = item;
  if (evaluation.state !== 'Compliant' && evaluation.state !== 'NonCompliant') return [];
  const { assignment, set } = target;
  const { definition } = policy;
  const at = now.toISOString();
  const key = stateKey(assignment.key, resource.key, policy.referenceId);
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
    policySetDefinitionId: set?.id ?? '',
    policySetDefinitionName: set?.name ?? '',
    policySetDefinitionOwner: '',
    policySetDefinitionCategory: set ? String(set.body.properties?.metadata?.category ?? 'tbd') : '',
    policySetDefinitionParameters: set ? JSON.stringify(Object.fromEntries(target.setParameters ?? [])) : '',
    policyDefinitionReferenceId: policy.referenceId ?? '',
    policyDefinitionGroupNames: [...policy.groupNames],
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
      name: key.slice(key.lastIndexOf('/') + 1),
      body,
      etag: '"0"',
      createdAt: at,
      updatedAt: at,
    },
  ];
}
