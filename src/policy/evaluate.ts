/**
 * Evaluates compiled conditions against a resource and explains every verdict: each node of the
 * returned tree carries its result, and each leaf the value it read, the operator and the value it
 * expected.
 *
 * Logical operators do not short-circuit: Azure resolves every function of a rule before it weighs the
 * conditions (MicrosoftDocs/azure-docs#115036 — a `substring` guarded by an earlier `allOf` member still
 * fails), so a failing expression anywhere fails the evaluation, and the explanation is complete.
 *
 * A `field` condition on an array alias holds when every selected member satisfies the operator — also
 * for the negated operators (`notEquals` on `ipRules[*].value` means "no member equals"), and vacuously
 * for an empty or missing array (author-policies-for-arrays.md, "Referencing the array members
 * collection"; definition-structure-policy-rule.md: "each element … evaluated individually with logical
 * and").
 */
import {
  type AliasRegistry,
  currentOfAlias,
  enumerateAlias,
  type FieldRef,
  parseField,
  selectField,
} from './aliases.js';
import { ExpressionError } from './errors.js';
import { type CountScope, type ExpressionHost, evaluateValue, sourceOf } from './expressions.js';
import { applyOperator, type Operator } from './operators.js';
import type { Condition } from './rule.js';
import type { JsonObject, JsonValue, PolicyInfo, RequestContext, ResourceView } from './types.js';

// ─── Explanations ────────────────────────────────────────────────────────────────────────────────

/** One member of an array alias or a count, with its own verdict. */
export interface MemberVerdict {
  value: JsonValue | undefined;
  result: boolean;
}

export type Explanation =
  | { kind: 'allOf' | 'anyOf'; path: string; result: boolean; children: Explanation[] }
  | { kind: 'not'; path: string; result: boolean; child: Explanation }
  | {
      kind: 'field';
      path: string;
      result: boolean;
      /** The field as written (or as computed, for an expression field name). */
      field: string;
      /** The value read; for an array alias, the selected members. Absent when the property is missing. */
      actual?: JsonValue;
      /** Per member, for an array alias. */
      members?: MemberVerdict[];
      operator: Operator;
      /** The operand as written: a literal, or the expression text. */
      expectedSource: JsonValue;
      expected?: JsonValue;
    }
  | {
      kind: 'value';
      path: string;
      result: boolean;
      valueSource: JsonValue;
      actual?: JsonValue;
      operator: Operator;
      expectedSource: JsonValue;
      expected?: JsonValue;
    }
  | {
      kind: 'count';
      path: string;
      result: boolean;
      /** `field '<alias>'` or `value <source>`. */
      source: string;
      count: number;
      /** Each enumerated member, with whether it satisfied `where` (true for all without `where`). */
      members: MemberVerdict[];
      operator: Operator;
      expectedSource: JsonValue;
      expected?: JsonValue;
    };

// ─── Environment ─────────────────────────────────────────────────────────────────────────────────

export interface EvaluationEnvironment {
  /** The resource `field` conditions read: the evaluated resource, or a related one in `existenceCondition`. */
  subject: ResourceView;
  /** The resource evaluated by the `if`: what `field()`, `subscription()` and `resourceGroup()` read. */
  origin: ResourceView;
  /** Bound parameter values by lower-case name. */
  parameters: ReadonlyMap<string, JsonValue>;
  now: Date;
  request?: RequestContext;
  policy?: PolicyInfo;
  registry: AliasRegistry;
}

export function subscriptionObject(view: ResourceView): JsonObject {
  const { subscriptionId, displayName, tenantId } = view.subscription;
  return {
    id: `/subscriptions/${subscriptionId}`,
    subscriptionId,
    displayName,
    ...(tenantId === undefined ? {} : { tenantId }),
  };
}

export function resourceGroupObject(view: ResourceView): JsonObject | undefined {
  const group = view.resourceGroup;
  if (!group) return undefined;
  return {
    id: `/subscriptions/${view.subscription.subscriptionId}/resourceGroups/${group.name}`,
    name: group.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: group.location,
    ...(group.managedBy === undefined ? {} : { managedBy: group.managedBy }),
    tags: group.tags ?? {},
    properties: { provisioningState: 'Succeeded' },
  };
}

function resolveFieldName(name: string, registry: AliasRegistry): FieldRef {
  const ref = parseField(name, registry);
  if (!ref) throw new ExpressionError(`The field '${name}' is neither a resource field nor a known alias.`);
  return ref;
}

/** The host template functions read, for a point of evaluation inside `scopes`. */
export function policyHost(env: EvaluationEnvironment, scopes: readonly CountScope[]): ExpressionHost {
  const sameResource = env.subject === env.origin;
  return {
    context: 'policyRule',
    now: env.now,
    parameter: (name) => {
      const value = env.parameters.get(name.toLowerCase());
      if (value === undefined) throw new ExpressionError(`The policy parameter '${name}' has no value.`);
      return value;
    },
    // author-policies-for-arrays.md: field() of a missing property is '' and of an array alias an array
    // (members missing the property give null).
    field: (name) => {
      const selection = selectField(
        resolveFieldName(name, env.registry),
        env.origin.resource,
        sameResource ? scopes : [],
      );
      if (selection.collection) return selection.values.map((value) => value ?? null);
      return selection.value === undefined || selection.value === null ? '' : selection.value;
    },
    current: (name) => {
      if (name === undefined) {
        const innermost = scopes[scopes.length - 1];
        if (!innermost) throw new ExpressionError(`current() is only available inside a count expression.`);
        return innermost.element ?? null;
      }
      for (let index = scopes.length - 1; index >= 0; index--) {
        const scope = scopes[index]!;
        if (scope.kind === 'value' && scope.name.toLowerCase() === name.toLowerCase())
          return scope.element ?? null;
      }
      const alias = env.registry.lookup(name);
      if (alias) {
        const current = currentOfAlias(alias, env.subject.resource, scopes);
        if (current.found) return current.value ?? null;
      }
      throw new ExpressionError(
        `current('${name}') names no enclosing count (no value count named so, no counted alias).`,
      );
    },
    subscription: () => subscriptionObject(env.origin),
    resourceGroup: () => {
      const group = resourceGroupObject(env.origin);
      if (!group)
        throw new ExpressionError(
          `resourceGroup() is not available: '${env.origin.resource.id}' is not in a resource group.`,
        );
      return group;
    },
    requestContext: () => ({
      ...(env.request?.apiVersion === undefined ? {} : { apiVersion: env.request.apiVersion }),
      ...(env.request?.identity === undefined ? {} : { identity: env.request.identity }),
    }),
    policy: () => ({ ...(env.policy as JsonObject | undefined) }),
  };
}

// ─── Evaluation ──────────────────────────────────────────────────────────────────────────────────

function atPath(path: string, error: unknown): unknown {
  if (error instanceof ExpressionError && !error.message.startsWith('At ')) {
    return new ExpressionError(`At '${path}': ${error.message}`);
  }
  return error;
}

function withValue<T extends object>(explanation: T, key: string, value: JsonValue | undefined): T {
  return value === undefined ? explanation : { ...explanation, [key]: value };
}

export function evaluateCondition(
  condition: Condition,
  env: EvaluationEnvironment,
  scopes: readonly CountScope[] = [],
): Explanation {
  switch (condition.kind) {
    case 'allOf':
    case 'anyOf': {
      const children = condition.conditions.map((child) => evaluateCondition(child, env, scopes));
      const result =
        condition.kind === 'allOf'
          ? children.every((child) => child.result)
          : children.some((child) => child.result);
      return { kind: condition.kind, path: condition.path, result, children };
    }
    case 'not': {
      const child = evaluateCondition(condition.condition, env, scopes);
      return { kind: 'not', path: condition.path, result: !child.result, child };
    }
    case 'field':
      try {
        return evaluateField(condition, env, scopes);
      } catch (error) {
        throw atPath(condition.path, error);
      }
    case 'value':
      try {
        const host = policyHost(env, scopes);
        const actual = evaluateValue(condition.value, host);
        const expected = evaluateValue(condition.operand, host);
        const explanation = {
          kind: 'value' as const,
          path: condition.path,
          result: applyOperator(condition.operator, actual, expected),
          valueSource: sourceOf(condition.value),
          operator: condition.operator,
          expectedSource: sourceOf(condition.operand),
        };
        return withValue(withValue(explanation, 'actual', actual), 'expected', expected);
      } catch (error) {
        throw atPath(condition.path, error);
      }
    case 'count':
      try {
        return evaluateCount(condition, env, scopes);
      } catch (error) {
        throw atPath(condition.path, error);
      }
  }
}

function evaluateField(
  condition: Extract<Condition, { kind: 'field' }>,
  env: EvaluationEnvironment,
  scopes: readonly CountScope[],
): Explanation {
  const host = policyHost(env, scopes);
  let ref: FieldRef;
  if (condition.field.kind === 'static') ref = condition.field.ref;
  else {
    const name = evaluateValue(condition.field.name, host);
    if (typeof name !== 'string') {
      throw new ExpressionError(
        `The field expression '${condition.field.text}' did not produce a field name.`,
      );
    }
    ref = resolveFieldName(name, env.registry);
  }
  const expected = evaluateValue(condition.operand, host);
  const options = { location: ref.kind === 'location' };
  const selection = selectField(ref, env.subject.resource, scopes);
  const base = {
    kind: 'field' as const,
    path: condition.path,
    field: ref.text,
    operator: condition.operator,
    expectedSource: sourceOf(condition.operand),
  };
  if (!selection.collection) {
    const result = applyOperator(condition.operator, selection.value, expected, options);
    return withValue(withValue({ ...base, result }, 'actual', selection.value), 'expected', expected);
  }
  const members = selection.values.map((value) => ({
    value,
    result: applyOperator(condition.operator, value, expected, options),
  }));
  const explanation = {
    ...base,
    result: members.every((member) => member.result),
    actual: selection.values.map((value) => value ?? null),
    members,
  };
  return withValue(explanation, 'expected', expected);
}

function evaluateCount(
  condition: Extract<Condition, { kind: 'count' }>,
  env: EvaluationEnvironment,
  scopes: readonly CountScope[],
): Explanation {
  const host = policyHost(env, scopes);
  const where = condition.where;
  let members: MemberVerdict[];
  let source: string;
  if (condition.source.kind === 'field') {
    source = `field '${condition.source.text}'`;
    members = enumerateAlias(condition.source.alias, env.subject.resource, scopes).map((member) => ({
      value: member.value,
      result: where ? evaluateCondition(where, env, [...scopes, ...member.bindings]).result : true,
    }));
  } else {
    const { name } = condition.source;
    const array = evaluateValue(condition.source.value, host);
    source = `value ${JSON.stringify(sourceOf(condition.source.value))}`;
    if (!Array.isArray(array)) {
      throw new ExpressionError(`The 'count.value' evaluated to a value that is not an array.`);
    }
    members = array.map((element) => ({
      value: element,
      result: where
        ? evaluateCondition(where, env, [...scopes, { kind: 'value', name, element }]).result
        : true,
    }));
  }
  const count = members.filter((member) => member.result).length;
  const expected = evaluateValue(condition.operand, host);
  const explanation = {
    kind: 'count' as const,
    path: condition.path,
    result: applyOperator(condition.operator, count, expected),
    source,
    count,
    members,
    operator: condition.operator,
    expectedSource: sourceOf(condition.operand),
  };
  return withValue(explanation, 'expected', expected);
}
