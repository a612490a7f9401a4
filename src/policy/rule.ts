/**
 * Compiles the condition language (`if`, `existenceCondition`, `count.where`) from JSON into a typed
 * tree, once, and refuses what Azure refuses at create time: unknown members and operators, unknown
 * fields and aliases, unparsable expressions, unknown functions, undefined parameters and parameters
 * of the wrong type for their operator. Keys are case-insensitive (`anyof`, `Like` occur in Microsoft's
 * own definitions).
 */
import { type AliasRegistry, type CompiledAlias, type FieldRef, parseField } from './aliases.js';
import { ExpressionError, invalidParameters, invalidRule, type PolicyError, unknownAlias } from './errors.js';
import { type CompiledValue, compileValue, type ExpressionRules } from './expressions.js';
import { isJsonObject } from './json.js';
import { type Operator, operatorNamed } from './operators.js';
import type { JsonValue, ParameterType } from './types.js';

/** A `field` whose name is fixed, or computed by an expression (`[concat('tags[', parameters('t'), ']')]`). */
export type FieldSpec =
  | { kind: 'static'; ref: FieldRef }
  | { kind: 'dynamic'; name: CompiledValue; text: string };

export type CountSource =
  | { kind: 'field'; alias: CompiledAlias; text: string }
  | { kind: 'value'; value: CompiledValue; name: string };

/** `path` locates the node in the definition (`if.anyOf[1].allOf[0]`) for explanations. */
export type Condition =
  | { kind: 'allOf' | 'anyOf'; path: string; conditions: Condition[] }
  | { kind: 'not'; path: string; condition: Condition }
  | { kind: 'field'; path: string; field: FieldSpec; operator: Operator; operand: CompiledValue }
  | { kind: 'value'; path: string; value: CompiledValue; operator: Operator; operand: CompiledValue }
  | {
      kind: 'count';
      path: string;
      source: CountSource;
      where?: Condition;
      operator: Operator;
      operand: CompiledValue;
    };

export interface RuleCompileContext {
  definitionName: string;
  /** Declared parameter types by lower-case name. */
  parameterTypes: ReadonlyMap<string, ParameterType>;
  registry: AliasRegistry;
}

interface Scope extends RuleCompileContext {
  /** How many `count` expressions enclose this point (`current()` needs one). */
  countDepth: number;
}

/** The checks every policy-rule expression gets; `current()` only inside a count's `where`. */
export function expressionRules(context: RuleCompileContext, insideCount: boolean): ExpressionRules {
  return {
    context: 'policyRule',
    ...(insideCount ? {} : { refuse: ['current'] }),
    onParameter: (name) => {
      if (!context.parameterTypes.has(name.toLowerCase())) {
        throw new ExpressionError(
          `The policy '${context.definitionName}' has undefined parameter '${name}' which is used in the policy rule. Please either define it in policy definition or remove the reference in policy rule.`,
        );
      }
    },
    onField: (name) => {
      if (!parseField(name, context.registry)) throw unknownAlias(context.definitionName, name);
    },
  };
}

/** Compiles a JSON value with expressions, turning expression errors into Azure's create-time error. */
export function compileChecked(
  value: JsonValue,
  rules: ExpressionRules,
  definitionName: string,
): CompiledValue {
  try {
    return compileValue(value, rules);
  } catch (error) {
    if (error instanceof ExpressionError) throw invalidParameters(definitionName, error.message);
    throw error;
  }
}

/** The declared type of `[parameters('x')]`, when the value is exactly that. */
function parameterTypeOf(
  value: CompiledValue,
  context: RuleCompileContext,
): { source: string; type: ParameterType } | undefined {
  if (value.kind !== 'expression') return undefined;
  const root = value.expression.root;
  if (root.kind !== 'call' || root.name.toLowerCase() !== 'parameters' || root.args[0]?.kind !== 'string') {
    return undefined;
  }
  const type = context.parameterTypes.get(root.args[0].value.toLowerCase());
  return type ? { source: value.expression.source, type } : undefined;
}

// Azure's wording (Azure/Azure-Landing-Zones#1559): "Evaluation result of language expression
// '[[parameters('mandatoryTags')]' is type 'String', expected type is 'Array'."
function typeMismatch(
  context: RuleCompileContext,
  source: string,
  actual: string,
  expected: string,
): PolicyError {
  return invalidParameters(
    context.definitionName,
    `Evaluation result of language expression '${source}' is type '${actual}', expected type is '${expected}'.`,
  );
}

function literalTypeName(value: JsonValue): string {
  if (Array.isArray(value)) return 'Array';
  if (isJsonObject(value)) return 'Object';
  return typeof value === 'string' ? 'String' : typeof value === 'boolean' ? 'Boolean' : 'Integer';
}

function checkOperand(
  operator: Operator,
  operand: CompiledValue,
  path: string,
  context: RuleCompileContext,
): void {
  const wantsArray = operator === 'in' || operator === 'notIn';
  const parameter = parameterTypeOf(operand, context);
  if (parameter) {
    const isList = parameter.type === 'Array';
    if (wantsArray && !isList) throw typeMismatch(context, parameter.source, parameter.type, 'Array');
    if (!wantsArray && (isList || parameter.type === 'Object')) {
      throw typeMismatch(context, parameter.source, parameter.type, 'String');
    }
    return;
  }
  if (operand.kind === 'expression') return;
  const literal = operand.kind === 'literal' ? operand.value : undefined;
  if (wantsArray) {
    if (operand.kind !== 'array' && !Array.isArray(literal)) {
      throw invalidRule(`The '${operator}' condition at '${path}' expects an array of values.`);
    }
    return;
  }
  if (operand.kind !== 'literal' || Array.isArray(literal) || isJsonObject(literal ?? null)) {
    const shown =
      operand.kind === 'literal'
        ? literalTypeName(literal ?? null)
        : operand.kind === 'array'
          ? 'Array'
          : 'Object';
    throw invalidRule(
      `The '${operator}' condition at '${path}' expects a single value; it was given a value of type '${shown}'.`,
    );
  }
  if (
    operator === 'exists' &&
    !(typeof literal === 'boolean' || (typeof literal === 'string' && /^(true|false)$/i.test(literal)))
  ) {
    throw invalidRule(`The 'exists' condition at '${path}' expects 'true' or 'false'.`);
  }
}

function unknownMember(key: string, objectType: string, path: string): PolicyError {
  return invalidRule(
    `Could not find member '${key}' on object of type '${objectType}'. Path '${path}.${key}'.`,
  );
}

function compileField(text: unknown, path: string, scope: Scope): FieldSpec {
  if (typeof text !== 'string' || text === '') {
    throw invalidRule(`The 'field' property at '${path}' must be a non-empty string.`);
  }
  const compiled = compileChecked(text, expressionRules(scope, scope.countDepth > 0), scope.definitionName);
  if (compiled.kind === 'expression') return { kind: 'dynamic', name: compiled, text };
  const ref = parseField(text, scope.registry);
  if (!ref) throw unknownAlias(scope.definitionName, text);
  return { kind: 'static', ref };
}

function compileCountSource(
  count: unknown,
  path: string,
  scope: Scope,
): { source: CountSource; where?: Condition } {
  if (!isJsonObject((count ?? null) as JsonValue)) {
    throw invalidRule(`The 'count' property at '${path}' must be an object.`);
  }
  let fieldText: unknown;
  let value: unknown;
  let name: unknown;
  let where: unknown;
  let hasField = false;
  let hasValue = false;
  for (const [key, member] of Object.entries(count as Record<string, unknown>)) {
    switch (key.toLowerCase()) {
      case 'field':
        hasField = true;
        fieldText = member;
        break;
      case 'value':
        hasValue = true;
        value = member;
        break;
      case 'name':
        name = member;
        break;
      case 'where':
        where = member;
        break;
      default:
        throw unknownMember(key, 'CountExpressionDefinition', `${path}.count`);
    }
  }
  if (hasField === hasValue) {
    throw invalidRule(`The 'count' at '${path}' must have exactly one of 'field' or 'value'.`);
  }
  const inner: Scope = { ...scope, countDepth: scope.countDepth + 1 };
  const compiledWhere =
    where === undefined ? undefined : compileCondition(where, `${path}.count.where`, inner);
  if (hasField) {
    if (name !== undefined) throw invalidRule(`A field 'count' at '${path}' takes no 'name'.`);
    if (typeof fieldText !== 'string') throw invalidRule(`The 'count.field' at '${path}' must be a string.`);
    const ref = parseField(fieldText, scope.registry);
    if (!ref) throw unknownAlias(scope.definitionName, fieldText);
    if (ref.kind !== 'alias' || !ref.alias.isArray) {
      throw invalidRule(`The 'count.field' '${fieldText}' at '${path}' must be an array alias ([*]).`);
    }
    const source: CountSource = { kind: 'field', alias: ref.alias, text: fieldText };
    return compiledWhere ? { source, where: compiledWhere } : { source };
  }
  if (name === undefined && scope.countDepth > 0) {
    throw invalidRule(`The value 'count' at '${path}' is inside another count and needs a 'name'.`);
  }
  if (name !== undefined && (typeof name !== 'string' || !/^[A-Za-z0-9]+$/.test(name))) {
    throw invalidRule(`The 'count.name' at '${path}' must be made of English letters and digits.`);
  }
  const compiledValue = compileChecked(
    value as JsonValue,
    expressionRules(scope, scope.countDepth > 0),
    scope.definitionName,
  );
  const parameter = parameterTypeOf(compiledValue, scope);
  if (parameter && parameter.type !== 'Array')
    throw typeMismatch(scope, parameter.source, parameter.type, 'Array');
  if (compiledValue.kind === 'literal' && !Array.isArray(compiledValue.value)) {
    throw invalidRule(`The 'count.value' at '${path}' must be an array.`);
  }
  const source: CountSource = {
    kind: 'value',
    value: compiledValue,
    name: (name as string | undefined) ?? 'default',
  };
  return compiledWhere ? { source, where: compiledWhere } : { source };
}

function compileCondition(json: unknown, path: string, scope: Scope): Condition {
  if (!isJsonObject((json ?? null) as JsonValue)) {
    throw invalidRule(`The condition at '${path}' must be an object.`);
  }
  const entries = Object.entries(json as Record<string, unknown>);
  const logical = entries.find(([key]) => ['allof', 'anyof', 'not'].includes(key.toLowerCase()));
  if (logical) {
    const [key, member] = logical;
    const extra = entries.find(([other]) => other !== key);
    if (extra) throw unknownMember(extra[0], 'LogicalExpressionDefinition', path);
    const lower = key.toLowerCase();
    if (lower === 'not')
      return { kind: 'not', path, condition: compileCondition(member, `${path}.not`, scope) };
    if (!Array.isArray(member))
      throw invalidRule(`The '${key}' at '${path}' must be an array of conditions.`);
    const kind = lower === 'allof' ? 'allOf' : 'anyOf';
    return {
      kind,
      path,
      conditions: member.map((child, index) => compileCondition(child, `${path}.${kind}[${index}]`, scope)),
    };
  }

  let subject: { key: 'field' | 'value' | 'count'; member: unknown } | undefined;
  let operator: { operator: Operator; member: unknown } | undefined;
  for (const [key, member] of entries) {
    const lower = key.toLowerCase();
    if (lower === 'field' || lower === 'value' || lower === 'count') {
      if (subject) throw invalidRule(`The condition at '${path}' has both '${subject.key}' and '${lower}'.`);
      subject = { key: lower, member };
      continue;
    }
    const named = operatorNamed(key);
    if (!named) throw unknownMember(key, 'LeafExpressionDefinition', path);
    if (operator)
      throw invalidRule(
        `The condition at '${path}' has two operators, '${operator.operator}' and '${named}'.`,
      );
    operator = { operator: named, member };
  }
  if (!subject) throw invalidRule(`The condition at '${path}' needs one of 'field', 'value' or 'count'.`);
  if (!operator) throw invalidRule(`The condition at '${path}' needs an operator such as 'equals'.`);

  const rules = expressionRules(scope, scope.countDepth > 0);
  const operand = compileChecked(operator.member as JsonValue, rules, scope.definitionName);
  if (subject.key === 'count') {
    const { source, where } = compileCountSource(subject.member, path, scope);
    if (
      operand.kind === 'literal' &&
      (typeof operand.value !== 'number' || !Number.isInteger(operand.value))
    ) {
      throw invalidRule(`The 'count' at '${path}' must be compared with an integer.`);
    }
    return { kind: 'count', path, source, ...(where ? { where } : {}), operator: operator.operator, operand };
  }
  checkOperand(operator.operator, operand, path, scope);
  if (subject.key === 'field') {
    return {
      kind: 'field',
      path,
      field: compileField(subject.member, path, scope),
      operator: operator.operator,
      operand,
    };
  }
  const value = compileChecked(subject.member as JsonValue, rules, scope.definitionName);
  return { kind: 'value', path, value, operator: operator.operator, operand };
}

/** Compiles a top-level condition (`if`, `existenceCondition`) found at `path`. */
export function compileRuleCondition(json: unknown, path: string, context: RuleCompileContext): Condition {
  return compileCondition(json, path, { ...context, countDepth: 0 });
}
