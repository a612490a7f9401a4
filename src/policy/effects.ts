/**
 * What a policy assignment decides for one resource, without I/O: the effect (a parameterised effect
 * resolved), whether the `if` held and why, and then per effect —
 *
 * - Audit / Deny: NonCompliant, with the verdict (`audit` logs, `deny` refuses the request).
 * - AuditIfNotExists / DeployIfNotExists: the existence check to run — which related resources to read
 *   (type, name, scope, the exact id when there is one), `existenceCondition`, `evaluationDelay` and,
 *   for DeployIfNotExists, the deployment (scope, location, template, parameters resolved). The caller
 *   fetches the candidates and calls `checkExistence` or `completeEvaluation`.
 * - Modify: the operations applied to a copy of the resource, or the conflict effect that replaces them.
 *
 * Compliance follows Azure (how-to/get-compliance-data.md): a resource whose `if` does not hold, or whose
 * effect is Disabled, or that `Indexed` mode skips, is not applicable; Audit, Deny and Modify make a
 * matching resource NonCompliant; AuditIfNotExists and DeployIfNotExists make it NonCompliant unless a
 * related resource satisfies `existenceCondition`.
 */
import { aliasPathFor, type FieldRef, fullNameOf, parseField, tagKey } from './aliases.js';
import { isExtensionType, isIndexed } from './catalogue.js';
import type {
  CompiledDefinition,
  CompiledDeployment,
  EvaluationDelay,
  ModifyDetails,
  ModifyOperation,
} from './definition.js';
import { effectNamed } from './definition.js';
import { ExpressionError, evaluationFailed, unsupported } from './errors.js';
import { type EvaluationEnvironment, type Explanation, evaluateCondition, policyHost } from './evaluate.js';
import { evaluateValue } from './expressions.js';
import { cloneJson, deepEqual, isJsonObject, keyOf } from './json.js';
import type { Condition } from './rule.js';
import type { CompiledTemplate } from './template.js';
import type {
  ArmResource,
  Effect,
  JsonObject,
  JsonValue,
  PolicyInfo,
  RequestContext,
  ResourceView,
} from './types.js';

// ─── Inputs and results ──────────────────────────────────────────────────────────────────────────

export interface EvaluatePolicyInput {
  definition: CompiledDefinition;
  /** Bound values (`bindParameters`), by lower-case name. */
  parameters: ReadonlyMap<string, JsonValue>;
  resource: ResourceView;
  now: Date;
  request?: RequestContext;
  policy?: PolicyInfo;
  /**
   * For AuditIfNotExists / DeployIfNotExists: the related resources, when the caller has them already.
   * Without them the result is `ExistenceCheckRequired`.
   */
  relatedResources?: readonly ResourceView[];
}

export type NotApplicableReason =
  /** The effect resolved to Disabled: the rule is not evaluated. */
  | 'effectDisabled'
  /** `Indexed` mode and the type does not support tags and location. */
  | 'modeExcluded'
  /** The `if` did not hold. */
  | 'ifFalse'
  /** Modify of `identity.type` on a type other than a VM or scale set (effect-modify.md). */
  | 'identityNotModifiable';

/** Where related resources are looked for. */
export type RelatedScope =
  | { kind: 'resource'; resourceId: string }
  | { kind: 'resourceGroup'; subscriptionId: string; resourceGroupName: string }
  | { kind: 'subscription'; subscriptionId: string };

export interface RelatedResourceQuery {
  type: string;
  /** `details.name` resolved; `parent/child` for nested types; a last segment `?` matches any name. */
  name?: string;
  scope: RelatedScope;
  /** The one id to GET, when the name is exact; otherwise list `type` within `scope`. */
  resourceId?: string;
}

export interface DeploymentPlan {
  scope:
    | { kind: 'subscription'; subscriptionId: string }
    | { kind: 'resourceGroup'; subscriptionId: string; resourceGroupName: string };
  location?: string;
  mode: string;
  template: CompiledTemplate;
  /** The deployment body's `properties.template`, as written in the definition. */
  templateSource: JsonObject;
  /** `properties.parameters` with the policy expressions evaluated: `{ name: { value } }`. */
  parameters: Record<string, { value: JsonValue }>;
  roleDefinitionIds: readonly string[];
}

/** An existence check, ready to be applied to candidates (`checkExistence`). */
export interface ExistenceCheck {
  effect: 'AuditIfNotExists' | 'DeployIfNotExists';
  query: RelatedResourceQuery;
  existenceCondition?: Condition;
  evaluationDelay: EvaluationDelay;
  roleDefinitionIds: readonly string[];
  deployment?: DeploymentPlan;
  /** What `existenceCondition`'s functions read: the evaluated resource, parameters, clock. */
  environment: Omit<EvaluationEnvironment, 'subject'>;
}

export interface RelatedVerdict {
  id: string;
  /** Whether the resource satisfies `existenceCondition` (true when there is none). */
  satisfies: boolean;
  explanation?: Explanation;
}

export interface ExistenceOutcome {
  /** A related resource exists and satisfies `existenceCondition`. */
  exists: boolean;
  satisfiedBy?: string;
  /** Every candidate that matched the query's type, name and scope, with its verdict. */
  related: RelatedVerdict[];
  /** Candidates outside the query (other type, name or scope). */
  ignored: number;
}

export interface ModifyOperationResult {
  path: string;
  operation: ModifyOperation['operation'];
  field: string;
  status: 'applied' | 'unchanged' | 'conditionFalse' | 'parentMissing' | 'notForThisType';
  before?: JsonValue;
  after?: JsonValue;
}

export interface Modification {
  /** A copy of the resource with the operations applied (the original when a conflict stopped them). */
  resource: ArmResource;
  operations: ModifyOperationResult[];
  /** An operation that could not be applied: the `conflictEffect` decides what happens instead. */
  conflict?: { effect: ModifyDetails['conflictEffect']; path: string; reason: string };
}

export type PolicyEvaluation =
  | { state: 'NotApplicable'; effect: Effect; reason: NotApplicableReason; explanation?: Explanation }
  | {
      state: 'NonCompliant';
      effect: 'Audit' | 'Deny';
      verdict: 'audit' | 'deny';
      explanation: Explanation;
    }
  | {
      state: 'NonCompliant';
      effect: 'Modify';
      /** `deny` when the conflict effect denies the request; else the modification applies. */
      verdict: 'modify' | 'deny' | 'audit';
      explanation: Explanation;
      modification: Modification;
    }
  | {
      state: 'ExistenceCheckRequired';
      effect: 'AuditIfNotExists' | 'DeployIfNotExists';
      explanation: Explanation;
      check: ExistenceCheck;
    }
  | {
      state: 'Compliant' | 'NonCompliant';
      effect: 'AuditIfNotExists' | 'DeployIfNotExists';
      explanation: Explanation;
      check: ExistenceCheck;
      existence: ExistenceOutcome;
    };

// ─── Evaluation ──────────────────────────────────────────────────────────────────────────────────

function fail(definition: CompiledDefinition, view: ResourceView, error: unknown): never {
  if (error instanceof ExpressionError)
    throw evaluationFailed(definition.name, view.resource.id, error.message);
  throw error;
}

export function evaluatePolicy(input: EvaluatePolicyInput): PolicyEvaluation {
  const { definition, resource: view } = input;
  const env: EvaluationEnvironment = {
    subject: view,
    origin: view,
    parameters: input.parameters,
    now: input.now,
    registry: definition.registry,
    ...(input.request ? { request: input.request } : {}),
    ...(input.policy ? { policy: input.policy } : {}),
  };
  try {
    const effect = effectNamed(evaluateValue(definition.effect, policyHost(env, [])));
    if (effect === 'Disabled') return { state: 'NotApplicable', effect, reason: 'effectDisabled' };
    if (definition.mode === 'Indexed' && !isIndexed(view.resource)) {
      return { state: 'NotApplicable', effect, reason: 'modeExcluded' };
    }
    const explanation = evaluateCondition(definition.if, env);
    if (!explanation.result) return { state: 'NotApplicable', effect, reason: 'ifFalse', explanation };
    switch (effect) {
      case 'Audit':
      case 'Deny':
        return { state: 'NonCompliant', effect, verdict: effect === 'Deny' ? 'deny' : 'audit', explanation };
      case 'Modify': {
        const modify = definition.modify;
        if (!modify) throw unsupported(`a Modify effect without details.operations`);
        const modification = applyModify(modify, env);
        if (modification === 'identityNotModifiable') {
          return { state: 'NotApplicable', effect, reason: 'identityNotModifiable', explanation };
        }
        const verdict = !modification.conflict
          ? 'modify'
          : modification.conflict.effect === 'Deny'
            ? 'deny'
            : 'audit';
        return { state: 'NonCompliant', effect, verdict, explanation, modification };
      }
      case 'AuditIfNotExists':
      case 'DeployIfNotExists': {
        const check = existenceCheck(definition, effect, env);
        if (!input.relatedResources) return { state: 'ExistenceCheckRequired', effect, explanation, check };
        const existence = checkExistence(input.relatedResources, check);
        return {
          state: existence.exists ? 'Compliant' : 'NonCompliant',
          effect,
          explanation,
          check,
          existence,
        };
      }
    }
  } catch (error) {
    fail(definition, view, error);
  }
}

/** Turns `ExistenceCheckRequired` into Compliant / NonCompliant once the related resources are known. */
export function completeEvaluation(
  evaluation: PolicyEvaluation,
  relatedResources: readonly ResourceView[],
): PolicyEvaluation {
  if (evaluation.state !== 'ExistenceCheckRequired') return evaluation;
  const existence = checkExistence(relatedResources, evaluation.check);
  return {
    state: existence.exists ? 'Compliant' : 'NonCompliant',
    effect: evaluation.effect,
    explanation: evaluation.explanation,
    check: evaluation.check,
    existence,
  };
}

// ─── AuditIfNotExists / DeployIfNotExists ────────────────────────────────────────────────────────

function asText(value: JsonValue, what: string): string {
  if (typeof value !== 'string')
    throw new ExpressionError(`The ${what} evaluated to a value that is not a string.`);
  return value;
}

/** `{parentId}/{childType}/{name}` for each type segment after the parent's. */
function childId(parentId: string, childTypeSegments: string[], names: string[]): string {
  return `${parentId}${childTypeSegments.map((segment, index) => `/${segment}/${names[index]}`).join('')}`;
}

function relatedQuery(
  details: NonNullable<CompiledDefinition['existence']>,
  env: EvaluationEnvironment,
): RelatedResourceQuery {
  const host = policyHost(env, []);
  const origin = env.origin.resource;
  const name = details.name ? asText(evaluateValue(details.name, host), "details 'name'") : undefined;
  const names = name?.split('/');
  const exact = names !== undefined && !names.includes('?');
  const typeSegments = details.type.split('/');
  const namespace = typeSegments[0]!;

  if (details.type.toLowerCase().startsWith(`${origin.type.toLowerCase()}/`)) {
    // A child type of the evaluated resource: looked for under it.
    const childSegments = details.type.slice(origin.type.length + 1).split('/');
    const scope: RelatedScope = { kind: 'resource', resourceId: origin.id };
    const ownNames =
      names && names.length > childSegments.length ? names.slice(-childSegments.length) : names;
    return {
      type: details.type,
      ...(name === undefined ? {} : { name }),
      scope,
      ...(exact && ownNames?.length === childSegments.length
        ? { resourceId: childId(origin.id, childSegments, ownNames) }
        : {}),
    };
  }
  const providerPath = (parentId: string) =>
    names && exact && names.length === typeSegments.length - 1
      ? `${parentId}/providers/${namespace}${typeSegments
          .slice(1)
          .map((segment, index) => `/${segment}/${names[index]}`)
          .join('')}`
      : undefined;
  const withId = (scope: RelatedScope, parentId: string): RelatedResourceQuery => {
    const resourceId = providerPath(parentId);
    return {
      type: details.type,
      ...(name === undefined ? {} : { name }),
      scope,
      ...(resourceId ? { resourceId } : {}),
    };
  };

  if (isExtensionType(details.type)) return withId({ kind: 'resource', resourceId: origin.id }, origin.id);
  const subscriptionId = env.origin.subscription.subscriptionId;
  const groupName = details.resourceGroupName
    ? asText(evaluateValue(details.resourceGroupName, host), "details 'resourceGroupName'")
    : env.origin.resourceGroup?.name;
  // A subscription-level resource has no resource group: its related resources are looked for in the
  // subscription, whatever existenceScope says.
  if (details.existenceScope === 'Subscription' || groupName === undefined) {
    return withId({ kind: 'subscription', subscriptionId }, `/subscriptions/${subscriptionId}`);
  }
  return withId(
    { kind: 'resourceGroup', subscriptionId, resourceGroupName: groupName },
    `/subscriptions/${subscriptionId}/resourceGroups/${groupName}`,
  );
}

function deploymentPlan(
  deployment: CompiledDeployment,
  details: NonNullable<CompiledDefinition['existence']>,
  env: EvaluationEnvironment,
): DeploymentPlan {
  const host = policyHost(env, []);
  const subscriptionId = env.origin.subscription.subscriptionId;
  let scope: DeploymentPlan['scope'];
  if (details.deploymentScope === 'Subscription') scope = { kind: 'subscription', subscriptionId };
  else {
    const resourceGroupName = details.resourceGroupName
      ? asText(evaluateValue(details.resourceGroupName, host), "details 'resourceGroupName'")
      : env.origin.resourceGroup?.name;
    if (resourceGroupName === undefined) {
      throw new ExpressionError(
        `The deployment targets a resource group ('deploymentScope' is ResourceGroup) but '${env.origin.resource.id}' is in none and the definition names none.`,
      );
    }
    scope = { kind: 'resourceGroup', subscriptionId, resourceGroupName };
  }
  const parameters: Record<string, { value: JsonValue }> = {};
  for (const [name, value] of deployment.parameters) parameters[name] = { value: evaluateValue(value, host) };
  const templateSource = deployment.template.source;
  return {
    scope,
    ...(deployment.location === undefined ? {} : { location: deployment.location }),
    mode: deployment.mode,
    template: deployment.template,
    templateSource,
    parameters,
    roleDefinitionIds: details.roleDefinitionIds,
  };
}

function existenceCheck(
  definition: CompiledDefinition,
  effect: 'AuditIfNotExists' | 'DeployIfNotExists',
  env: EvaluationEnvironment,
): ExistenceCheck {
  const details = definition.existence;
  if (!details) throw unsupported(`an ${effect} effect without details.type`);
  if (effect === 'DeployIfNotExists' && !details.deployment)
    throw unsupported('a DeployIfNotExists without a deployment');
  const { subject: _subject, ...environment } = env;
  return {
    effect,
    query: relatedQuery(details, env),
    ...(details.existenceCondition ? { existenceCondition: details.existenceCondition } : {}),
    evaluationDelay: details.evaluationDelay,
    roleDefinitionIds: details.roleDefinitionIds,
    ...(effect === 'DeployIfNotExists' && details.deployment
      ? { deployment: deploymentPlan(details.deployment, details, env) }
      : {}),
    environment,
  };
}

function inScope(id: string, scope: RelatedScope): boolean {
  const lower = id.toLowerCase();
  switch (scope.kind) {
    case 'resource':
      return lower.startsWith(`${scope.resourceId.toLowerCase()}/`);
    case 'resourceGroup':
      return lower.startsWith(
        `/subscriptions/${scope.subscriptionId}/resourcegroups/${scope.resourceGroupName}/`.toLowerCase(),
      );
    case 'subscription':
      return lower.startsWith(`/subscriptions/${scope.subscriptionId}/`.toLowerCase());
  }
}

function nameMatches(resource: ArmResource, pattern: string): boolean {
  const wanted = pattern.split('/');
  const actual = fullNameOf(resource).split('/');
  if (actual.length < wanted.length) return false;
  const tail = actual.slice(-wanted.length);
  return wanted.every(
    (segment, index) =>
      (segment === '?' && index === wanted.length - 1) ||
      segment.toLowerCase() === tail[index]!.toLowerCase(),
  );
}

/**
 * Applies an existence check to candidate related resources: those of the query's type, name and scope
 * are judged by `existenceCondition`; any one that satisfies it satisfies the effect.
 */
export function checkExistence(candidates: readonly ResourceView[], check: ExistenceCheck): ExistenceOutcome {
  const related: RelatedVerdict[] = [];
  let ignored = 0;
  let satisfiedBy: string | undefined;
  for (const candidate of candidates) {
    const resource = candidate.resource;
    const matches =
      resource.type.toLowerCase() === check.query.type.toLowerCase() &&
      inScope(resource.id, check.query.scope) &&
      (check.query.name === undefined || nameMatches(resource, check.query.name));
    if (!matches) {
      ignored++;
      continue;
    }
    if (!check.existenceCondition) {
      related.push({ id: resource.id, satisfies: true });
      satisfiedBy ??= resource.id;
      continue;
    }
    let explanation: Explanation;
    try {
      explanation = evaluateCondition(check.existenceCondition, { ...check.environment, subject: candidate });
    } catch (error) {
      if (error instanceof ExpressionError) {
        throw evaluationFailed('existenceCondition', resource.id, error.message);
      }
      throw error;
    }
    related.push({ id: resource.id, satisfies: explanation.result, explanation });
    if (explanation.result) satisfiedBy ??= resource.id;
  }
  return { exists: satisfiedBy !== undefined, ...(satisfiedBy ? { satisfiedBy } : {}), related, ignored };
}

// ─── Modify ──────────────────────────────────────────────────────────────────────────────────────

const IDENTITY_TYPES = new Set([
  'microsoft.compute/virtualmachines',
  'microsoft.compute/virtualmachinescalesets',
]);

class Conflict extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function resolveModifyField(operation: ModifyOperation, env: EvaluationEnvironment): FieldRef {
  if (operation.field.kind === 'static') return operation.field.ref;
  const name = evaluateValue(operation.field.name, policyHost(env, []));
  const ref = typeof name === 'string' ? parseField(name, env.registry) : undefined;
  if (!ref) throw new ExpressionError(`The modify field '${operation.field.text}' names no field or alias.`);
  if (operation.operation === 'remove' && ref.kind !== 'tag') {
    throw new ExpressionError(`The 'remove' operation at '${operation.path}' is only supported for tags.`);
  }
  return ref;
}

/** Sets `key` on `target` following add / addOrReplace; returns the status. */
function setMember(
  target: JsonObject,
  key: string,
  value: JsonValue,
  operation: 'add' | 'addOrReplace',
  path: string,
): { status: 'applied' | 'unchanged'; before?: JsonValue } {
  const existingKey = keyOf(target, key);
  const before = existingKey === undefined ? undefined : target[existingKey];
  if (before !== undefined && deepEqual(before, value, false)) return { status: 'unchanged', before };
  if (before !== undefined && operation === 'add') {
    // "Add behaves similar to the append effect": replacing a different value is a conflict.
    throw new Conflict(path, `'add' would replace the existing value ${JSON.stringify(before)} of '${key}'.`);
  }
  target[existingKey ?? key] = value;
  return before === undefined ? { status: 'applied' } : { status: 'applied', before };
}

function modifyAlias(
  resource: ArmResource,
  ref: Extract<FieldRef, { kind: 'alias' }>,
  operation: 'add' | 'addOrReplace',
  value: JsonValue,
  path: string,
): Pick<ModifyOperationResult, 'status' | 'before'> {
  if (!ref.alias.modifiable) throw new Conflict(path, `The alias '${ref.alias.name}' is not modifiable.`);
  const aliasPath = aliasPathFor(ref.alias, resource);
  if (!aliasPath) return { status: 'notForThisType' };
  const segments = aliasPath.segments;
  const wildcard = segments.findIndex((segment) => segment.kind === 'wildcard');
  if (segments.filter((segment) => segment.kind === 'wildcard').length > 1) {
    throw unsupported(`Modify on an alias with nested [*] ('${ref.alias.name}')`);
  }
  const walk = (root: JsonObject, keys: string[]): JsonObject | undefined => {
    let node: JsonValue | undefined = root;
    for (const key of keys) {
      if (!isJsonObject(node ?? null)) return undefined;
      const found: string | undefined = keyOf(node as JsonObject, key);
      node = found === undefined ? undefined : (node as JsonObject)[found];
    }
    return isJsonObject(node ?? null) ? (node as JsonObject) : undefined;
  };
  const keysOf = (from: number, to: number) =>
    segments.slice(from, to).map((segment) => (segment as { kind: 'key'; name: string }).name);
  const body = resource as unknown as JsonObject;
  if (wildcard < 0) {
    const keys = keysOf(0, segments.length);
    const parent = walk(body, keys.slice(0, -1));
    if (!parent) return { status: 'parentMissing' };
    return setMember(parent, keys[keys.length - 1]!, value, operation, path);
  }
  const arrayKeys = keysOf(0, wildcard);
  const parent = walk(body, arrayKeys.slice(0, -1));
  if (!parent) return { status: 'parentMissing' };
  const arrayKey = keyOf(parent, arrayKeys[arrayKeys.length - 1]!) ?? arrayKeys[arrayKeys.length - 1]!;
  const array = parent[arrayKey];
  if (wildcard === segments.length - 1) {
    // `…[*]`: add appends a member; addOrReplace replaces the members (author-policies-for-arrays.md).
    if (operation === 'addOrReplace') {
      parent[arrayKey] = [value];
      return array === undefined ? { status: 'applied' } : { status: 'applied', before: array };
    }
    parent[arrayKey] = [...(Array.isArray(array) ? array : []), value];
    return array === undefined ? { status: 'applied' } : { status: 'applied', before: array };
  }
  // `…[*].property`: set the property on every member.
  if (!Array.isArray(array)) return { status: 'parentMissing' };
  const memberKeys = keysOf(wildcard + 1, segments.length);
  let status: 'applied' | 'unchanged' = 'unchanged';
  for (const member of array) {
    if (!isJsonObject(member)) continue;
    const target = walk(member, memberKeys.slice(0, -1));
    if (!target) continue;
    if (setMember(target, memberKeys[memberKeys.length - 1]!, value, operation, path).status === 'applied') {
      status = 'applied';
    }
  }
  return { status, before: array };
}

function modifyTags(
  resource: ArmResource,
  ref: Extract<FieldRef, { kind: 'tag' | 'tags' }>,
  operation: ModifyOperation['operation'],
  value: JsonValue | undefined,
  path: string,
): Pick<ModifyOperationResult, 'status' | 'before'> {
  const tags: JsonObject = { ...(resource.tags ?? {}) };
  let result: Pick<ModifyOperationResult, 'status' | 'before'>;
  if (ref.kind === 'tag') {
    if (operation === 'remove') {
      const key = tagKey(resource, ref.tag);
      if (key === undefined) result = { status: 'unchanged' };
      else {
        result = { status: 'applied', before: tags[key]! };
        delete tags[key];
      }
    } else {
      if (typeof value !== 'string')
        throw new ExpressionError(`The value for tag '${ref.tag}' must be a string.`);
      result = setMember(tags, ref.tag, value, operation, path);
    }
  } else {
    if (
      !isJsonObject(value ?? null) ||
      Object.values(value as JsonObject).some((tag) => typeof tag !== 'string')
    ) {
      throw new ExpressionError(`The value for 'tags' must be an object of strings.`);
    }
    const before = resource.tags ?? {};
    if (operation === 'addOrReplace') {
      for (const key of Object.keys(tags)) delete tags[key];
      Object.assign(tags, value);
      result = deepEqual(before, value ?? null, false)
        ? { status: 'unchanged', before }
        : { status: 'applied', before };
    } else {
      let changed = false;
      for (const [key, tag] of Object.entries(value as JsonObject)) {
        if (setMember(tags, key, tag, 'add', path).status === 'applied') changed = true;
      }
      result = { status: changed ? 'applied' : 'unchanged', before };
    }
  }
  resource.tags = tags as Record<string, string>;
  return result;
}

function applyModify(
  modify: ModifyDetails,
  env: EvaluationEnvironment,
): Modification | 'identityNotModifiable' {
  const original = env.subject.resource;
  const resource = cloneJson(original as unknown as JsonObject) as unknown as ArmResource;
  const results: ModifyOperationResult[] = [];
  const host = policyHost(env, []);
  try {
    for (const operation of modify.operations) {
      const ref = resolveModifyField(operation, env);
      const base = { path: operation.path, operation: operation.operation, field: ref.text };
      if (operation.condition) {
        const condition = evaluateValue(operation.condition, host);
        if (condition !== true && condition !== 'true' && condition !== 'True') {
          results.push({ ...base, status: 'conditionFalse' });
          continue;
        }
      }
      const value = operation.value ? evaluateValue(operation.value, host) : undefined;
      let outcome: Pick<ModifyOperationResult, 'status' | 'before'>;
      switch (ref.kind) {
        case 'tag':
        case 'tags':
          outcome = modifyTags(resource, ref, operation.operation, value, operation.path);
          break;
        case 'identityType': {
          if (!IDENTITY_TYPES.has(resource.type.toLowerCase())) return 'identityNotModifiable';
          const identity: JsonObject = isJsonObject(resource.identity ?? null)
            ? { ...resource.identity }
            : {};
          outcome = setMember(
            identity,
            'type',
            value ?? null,
            operation.operation as 'add' | 'addOrReplace',
            operation.path,
          );
          resource.identity = identity;
          break;
        }
        case 'alias':
          outcome = modifyAlias(
            resource,
            ref,
            operation.operation as 'add' | 'addOrReplace',
            value ?? null,
            operation.path,
          );
          break;
        default:
          throw new Conflict(operation.path, `The field '${ref.text}' cannot be modified.`);
      }
      results.push({
        ...base,
        ...outcome,
        ...(value === undefined || outcome.status !== 'applied' ? {} : { after: value }),
      });
    }
  } catch (error) {
    if (error instanceof Conflict) {
      return {
        resource: original,
        operations: results,
        conflict: { effect: modify.conflictEffect, path: error.path, reason: error.reason },
      };
    }
    throw error;
  }
  return { resource, operations: results };
}
