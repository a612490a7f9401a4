/**
 * Deny at request time (effect-deny.md, error-policy-requestdisallowedbypolicy.md): a PUT or PATCH
 * that an enforced assignment with effect `Deny` — or a `Modify` whose conflict effect denies; for a
 * set, any member that does — judges non-compliant answers 403 `RequestDisallowedByPolicy` and changes
 * nothing.
 *
 * The check runs as a `writeCheck` after the handler, inside the write's transaction, and judges the
 * resource as stored: the body the client sent with the provider's defaults and, for PATCH, merged
 * with what was there — what Azure Policy evaluates. Throwing rolls the whole write back.
 *
 * Cost: the assignments that can deny at all (effect literal or bound parameter `Deny`/`Modify`,
 * enforcement `Default`) are cached until an assignment, definition, set or management-group write;
 * with none, a write pays one map read. Evaluation errors do not block a write (the compliance scan reports
 * them); existence effects never deny.
 */
import { ArmError } from '../../arm/errors.js';
import type { ArmContext, ArmReply, Services } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import {
  decisiveConditions,
  evaluatePolicy,
  PolicyError,
  type PolicyEvaluation,
  resourceView,
} from '../../policy/index.js';
import { type Db, getResource, listResources, type StoredResource } from '../../store/index.js';
import {
  type AssignmentInScope,
  assignmentInScope,
  groupContextOf,
  NOT_EVALUATED,
  policyBody,
  subscriptionContext,
} from './evaluation.js';
import {
  ASSIGNMENT_TYPE,
  type AssignedPolicy,
  DEFINITION_TYPE,
  isWithin,
  SET_DEFINITION_TYPE,
  subscriptionsUnder,
} from './model.js';

const CAN_DENY = /^(deny|modify)$/i;

/** An enforced assignment with the policies of it that can deny (one, or members of its set). */
interface DenyingAssignment {
  target: AssignmentInScope;
  policies: AssignedPolicy[];
}

interface DenyCache {
  generation: number;
  assignments: DenyingAssignment[] | undefined;
}

export function registerDenyCheck(services: Services): void {
  const cache: DenyCache = { generation: 0, assignments: undefined };
  services.onInvalidate((type) => {
    if (
      type === ASSIGNMENT_TYPE ||
      type === DEFINITION_TYPE ||
      type === SET_DEFINITION_TYPE ||
      type.startsWith('microsoft.management/')
    ) {
      cache.generation += 1;
      cache.assignments = undefined;
    }
  });

  async function denyingAssignments(db: Db): Promise<DenyingAssignment[]> {
    if (cache.assignments) return cache.assignments;
    const generation = cache.generation;
    const found: DenyingAssignment[] = [];
    for (const assignment of await listResources(db, { type: ASSIGNMENT_TYPE, limit: 100_000 })) {
      if (String(assignment.body.properties.enforcementMode ?? 'Default').toLowerCase() === 'donotenforce')
        continue;
      const target = await assignmentInScope(db, assignment, services.clock.now()).catch(() => undefined);
      const policies = target?.policies.filter(canDeny) ?? [];
      if (target && policies.length > 0) found.push({ target, policies });
    }
    // A write of an assignment that committed meanwhile must not leave a stale answer behind.
    if (generation === cache.generation) cache.assignments = found;
    return found;
  }

  services.writeChecks.push(async (ctx: ArmContext, reply: ArmReply) => {
    if (reply.status >= 400) return;
    const assignments = await denyingAssignments(ctx.db);
    if (assignments.length === 0) return;
    const resource = await getResource(ctx.db, keyOf(ctx.parsed.path));
    if (!resource?.subscriptionId || NOT_EVALUATED(resource.type)) return;
    const violations: Violation[] = [];
    for (const { target, policies } of assignments) {
      if (!(await applies(ctx.db, target, resource))) continue;
      for (const policy of policies) {
        const evaluation = await evaluateAtRequest(ctx.db, target, policy, resource, services.clock.now());
        if (evaluation && 'verdict' in evaluation && evaluation.verdict === 'deny')
          violations.push({ target, policy, evaluation });
      }
    }
    if (violations.length > 0) throw requestDisallowed(resource, violations);
  });
}

/** Whether the policy's effect can be Deny (or a Modify that may deny on conflict). */
function canDeny({ definition, parameters }: AssignedPolicy): boolean {
  const effect = definition.compiled.effect;
  if (effect.kind === 'literal') return typeof effect.value === 'string' && CAN_DENY.test(effect.value);
  return [...parameters.values()].some((value) => typeof value === 'string' && CAN_DENY.test(value));
}

async function applies(db: Db, target: AssignmentInScope, resource: StoredResource): Promise<boolean> {
  const { properties } = target.assignment.body;
  const scope = String(properties.scope);
  const notScopes: string[] = properties.notScopes ?? [];
  if (notScopes.some((notScope) => isWithin(resource.id, notScope))) return false;
  if (/^\/providers\/Microsoft\.Management\//i.test(scope))
    return (await subscriptionsUnder(db, scope)).includes(resource.subscriptionId!.toLowerCase());
  return isWithin(resource.id, scope);
}

async function evaluateAtRequest(
  db: Db,
  target: AssignmentInScope,
  policy: AssignedPolicy,
  resource: StoredResource,
  now: Date,
): Promise<PolicyEvaluation | undefined> {
  const subscription = await subscriptionContext(db, resource.subscriptionId!);
  if (!subscription) return undefined;
  const groupRow = resource.resourceGroup
    ? await getResource(
        db,
        keyOf(`/subscriptions/${resource.subscriptionId}/resourceGroups/${resource.resourceGroup}`),
      )
    : undefined;
  const group = groupRow ? groupContextOf(groupRow) : undefined;
  try {
    return evaluatePolicy({
      definition: policy.definition.compiled,
      parameters: policy.parameters,
      resource: resourceView(policyBody(resource), subscription, group),
      now,
      policy: {
        assignmentId: target.assignment.id,
        definitionId: policy.definition.id,
        ...(target.set ? { setDefinitionId: target.set.id } : {}),
        ...(policy.referenceId ? { definitionReferenceId: policy.referenceId } : {}),
      },
    });
  } catch (error) {
    if (error instanceof PolicyError) return undefined;
    throw error;
  }
}

interface Violation {
  target: AssignmentInScope;
  policy: AssignedPolicy;
  evaluation: PolicyEvaluation;
}

function requestDisallowed(resource: StoredResource, violations: Violation[]): ArmError {
  const identifiers = violations.map(({ target, policy }) => ({
    policyAssignment: { name: target.assignment.name, id: target.assignment.id },
    policyDefinition: { name: policy.definition.name, id: policy.definition.id },
    ...(target.set ? { policySetDefinition: { name: target.set.name, id: target.set.id } } : {}),
  }));
  return new ArmError({
    status: 403,
    code: 'RequestDisallowedByPolicy',
    target: resource.name,
    message: `Resource '${resource.name}' was disallowed by policy. Policy identifiers: '${JSON.stringify(identifiers)}'.`,
    additionalInfo: violations.map(({ target, policy, evaluation }) => ({
      type: 'PolicyViolation',
      info: policyViolationInfo(target, policy, evaluation),
    })),
  });
}

function policyViolationInfo(
  target: AssignmentInScope,
  policy: AssignedPolicy,
  evaluation: PolicyEvaluation,
): Record<string, unknown> {
  const { assignment, set } = target;
  const { definition } = policy;
  const properties = assignment.body.properties;
  const leaves = evaluation.explanation ? decisiveConditions(evaluation.explanation) : [];
  return {
    evaluationDetails: {
      evaluatedExpressions: leaves.map((leaf) => ({
        result: leaf.result ? 'True' : 'False',
        expressionKind: leaf.kind === 'field' ? 'Field' : leaf.kind === 'value' ? 'Value' : 'Count',
        expression:
          leaf.kind === 'field' ? leaf.field : leaf.kind === 'value' ? leaf.valueSource : leaf.source,
        path: leaf.path,
        expressionValue: leaf.kind === 'count' ? leaf.count : (leaf.actual ?? null),
        targetValue: leaf.expected ?? null,
        operator: leaf.operator,
      })),
    },
    policyDefinitionDisplayName: String(definition.body.properties?.displayName ?? definition.name),
    policyDefinitionId: definition.id,
    policyDefinitionName: definition.name,
    policyDefinitionEffect: evaluation.effect.toLowerCase(),
    ...(set
      ? {
          policySetDefinitionDisplayName: String(set.body.properties?.displayName ?? set.name),
          policySetDefinitionId: set.id,
          policySetDefinitionName: set.name,
          policyDefinitionReferenceId: policy.referenceId,
        }
      : {}),
    policyAssignmentId: assignment.id,
    policyAssignmentName: assignment.name,
    policyAssignmentDisplayName: String(properties.displayName ?? ''),
    policyAssignmentScope: String(properties.scope),
    policyAssignmentParameters: properties.parameters ?? {},
    policyExemptionIds: [],
    policyEnrollmentIds: [],
  };
}
