/**
 * What a definition can reach, read off its compiled rule, so that a write re-evaluates only what it
 * can change: the resource types its `if` can match, and the type its existence check reads.
 */
import type { CompiledDefinition } from './definition.js';
import type { CompiledValue } from './expressions.js';
import type { Condition } from './rule.js';
import type { JsonValue } from './types.js';

/** `field: type` with a literal or `[parameters('x')]` operand: its value, when it can be known now. */
function operandValue(
  operand: CompiledValue,
  parameters: ReadonlyMap<string, JsonValue>,
): JsonValue | undefined {
  if (operand.kind === 'literal') return operand.value;
  if (operand.kind !== 'expression') return undefined;
  const root = operand.expression.root;
  if (root.kind === 'call' && root.name.toLowerCase() === 'parameters' && root.args[0]?.kind === 'string')
    return parameters.get(root.args[0].value.toLowerCase());
  return undefined;
}

/** The lower-cased types a condition can hold for, or undefined when any type might. */
function typesOf(condition: Condition, parameters: ReadonlyMap<string, JsonValue>): Set<string> | undefined {
  switch (condition.kind) {
    case 'field': {
      if (condition.field.kind !== 'static' || condition.field.ref.kind !== 'type') return undefined;
      const value = operandValue(condition.operand, parameters);
      if (condition.operator === 'equals' && typeof value === 'string') return new Set([value.toLowerCase()]);
      if (
        condition.operator === 'in' &&
        Array.isArray(value) &&
        value.every((item) => typeof item === 'string')
      )
        return new Set((value as string[]).map((item) => item.toLowerCase()));
      return undefined;
    }
    case 'allOf': {
      // Every member must hold: any member that narrows the types narrows the whole.
      let narrowed: Set<string> | undefined;
      for (const member of condition.conditions) {
        const types = typesOf(member, parameters);
        if (!types) continue;
        narrowed = narrowed ? new Set([...narrowed].filter((type) => types.has(type))) : types;
      }
      return narrowed;
    }
    case 'anyOf': {
      const union = new Set<string>();
      for (const member of condition.conditions) {
        const types = typesOf(member, parameters);
        if (!types) return undefined;
        for (const type of types) union.add(type);
      }
      return union;
    }
    default:
      return undefined;
  }
}

/**
 * The policy types (lower-cased, as Azure Policy names them: `microsoft.resources/subscriptions`,
 * `microsoft.resources/subscriptions/resourcegroups`, an extension resource by its own type) that the
 * definition's `if` can match with these parameters; undefined when the rule does not pin the type.
 */
export function matchedTypes(
  definition: CompiledDefinition,
  parameters: ReadonlyMap<string, JsonValue>,
): ReadonlySet<string> | undefined {
  return typesOf(definition.if, parameters);
}
