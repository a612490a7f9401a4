/**
 * Compiling a policy definition (the `properties` Azure stores) and binding an assignment's parameter
 * values to it. Compilation refuses everything Azure refuses at create time — bad structure, unknown
 * aliases and functions, undefined or mistyped parameters, a default outside `allowedValues`, effects
 * whose `details` are incomplete — so evaluation never meets a malformed definition.
 */
import { type AliasRegistry, defaultAliasRegistry, type FieldRef, parseField } from './aliases.js';
import { invalidParameters, invalidRule, PolicyError, unknownAlias, unsupported } from './errors.js';
import type { CompiledValue } from './expressions.js';
import { deepEqual, isJsonObject, propertyOf, typeName } from './json.js';
import {
  type Condition,
  compileChecked,
  compileRuleCondition,
  expressionRules,
  type RuleCompileContext,
} from './rule.js';
import { type CompiledTemplate, compileTemplate, type DeploymentScope } from './template.js';
import type {
  AssignmentParameterValues,
  Effect,
  JsonObject,
  JsonValue,
  ParameterType,
  PolicyDefinitionProperties,
  PolicyMode,
} from './types.js';

// ─── Compiled shapes ─────────────────────────────────────────────────────────────────────────────

export interface CompiledParameter {
  name: string;
  type: ParameterType;
  allowedValues?: readonly JsonValue[];
  defaultValue?: JsonValue;
}

export type EvaluationDelay =
  | { kind: 'AfterProvisioning' | 'AfterProvisioningSuccess' | 'AfterProvisioningFailure' }
  | { kind: 'Duration'; minutes: number; text: string };

export interface CompiledDeployment {
  /** `deployment.location`: required for subscription deployments. */
  location?: string;
  mode: string;
  template: CompiledTemplate;
  /** `deployment.properties.parameters.*.value`: the only policy-level expressions in the deployment. */
  parameters: ReadonlyMap<string, CompiledValue>;
  source: JsonObject;
}

/** `details` of AuditIfNotExists / DeployIfNotExists: how to find and judge the related resources. */
export interface ExistenceDetails {
  type: string;
  name?: CompiledValue;
  resourceGroupName?: CompiledValue;
  existenceScope: 'ResourceGroup' | 'Subscription';
  existenceCondition?: Condition;
  evaluationDelay: EvaluationDelay;
  roleDefinitionIds: readonly string[];
  deploymentScope: DeploymentScope;
  deployment?: CompiledDeployment;
}

export type ModifyField =
  | { kind: 'static'; ref: FieldRef }
  | { kind: 'dynamic'; name: CompiledValue; text: string };

export interface ModifyOperation {
  operation: 'add' | 'addOrReplace' | 'remove';
  field: ModifyField;
  value?: CompiledValue;
  condition?: CompiledValue;
  path: string;
}

export interface ModifyDetails {
  roleDefinitionIds: readonly string[];
  conflictEffect: 'Deny' | 'Audit' | 'Disabled';
  operations: readonly ModifyOperation[];
}

export interface CompiledDefinition {
  name: string;
  displayName?: string;
  mode: PolicyMode;
  /** By lower-case name. */
  parameters: ReadonlyMap<string, CompiledParameter>;
  if: Condition;
  /** `then.effect`: a literal or `[parameters('effect')]`. */
  effect: CompiledValue;
  existence?: ExistenceDetails;
  modify?: ModifyDetails;
  registry: AliasRegistry;
  properties: PolicyDefinitionProperties;
}

// ─── Effects and parameter types ─────────────────────────────────────────────────────────────────

const EFFECTS: Record<string, Effect> = {
  audit: 'Audit',
  auditifnotexists: 'AuditIfNotExists',
  deployifnotexists: 'DeployIfNotExists',
  deny: 'Deny',
  modify: 'Modify',
  disabled: 'Disabled',
};

const NOT_IMPLEMENTED_EFFECTS = new Set(['append', 'denyaction', 'manual', 'addtonetworkgroup', 'mutate']);

/** The canonical effect a (case-insensitive) name stands for; an error for any other name. */
export function effectNamed(name: JsonValue): Effect {
  const lower = typeof name === 'string' ? name.toLowerCase() : '';
  const effect = EFFECTS[lower];
  if (effect) return effect;
  if (NOT_IMPLEMENTED_EFFECTS.has(lower)) throw unsupported(`the '${name}' effect`);
  throw invalidRule(
    `The policy effect '${typeof name === 'string' ? name : JSON.stringify(name)}' is not valid. The supported effects are '${Object.values(EFFECTS).join(', ')}'.`,
  );
}

const PARAMETER_TYPES: Record<string, ParameterType> = {
  string: 'String',
  array: 'Array',
  object: 'Object',
  boolean: 'Boolean',
  integer: 'Integer',
  float: 'Float',
  datetime: 'DateTime',
};

export function hasType(value: JsonValue, type: ParameterType): boolean {
  switch (type) {
    case 'String':
      return typeof value === 'string';
    case 'DateTime':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    case 'Array':
      return Array.isArray(value);
    case 'Object':
      return isJsonObject(value);
    case 'Boolean':
      return typeof value === 'boolean';
    case 'Integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'Float':
      return typeof value === 'number';
  }
}

export const showValue = (value: JsonValue) => (typeof value === 'string' ? value : JSON.stringify(value));

/** For an Array parameter the allowed values constrain each member. */
export function isAllowed(parameter: CompiledParameter, value: JsonValue): boolean {
  const allowed = parameter.allowedValues;
  if (!allowed) return true;
  // Ordinal: Azure refused 'deny' for allowed values 'Audit, Deny, Disabled'
  // (Azure/terraform-azurerm-caf-enterprise-scale#1313).
  const one = (item: JsonValue) => allowed.some((candidate) => deepEqual(candidate, item, false));
  if (parameter.type === 'Array' && Array.isArray(value) && !allowed.some(Array.isArray))
    return value.every(one);
  return one(value);
}

export function compileParameters(definitionName: string, declared: unknown): Map<string, CompiledParameter> {
  const parameters = new Map<string, CompiledParameter>();
  if (declared === undefined || declared === null) return parameters;
  if (!isJsonObject(declared as JsonValue))
    throw invalidParameters(definitionName, 'The parameters must be an object.');
  for (const [name, raw] of Object.entries(declared as JsonObject)) {
    if (!isJsonObject(raw))
      throw invalidParameters(definitionName, `The parameter '${name}' must be an object.`);
    const typeText = propertyOf(raw, 'type');
    const type = typeof typeText === 'string' ? PARAMETER_TYPES[typeText.toLowerCase()] : undefined;
    if (!type) {
      throw invalidParameters(
        definitionName,
        `The parameter '${name}' has type '${showValue(typeText ?? null)}'; the supported types are '${Object.values(PARAMETER_TYPES).join(', ')}'.`,
      );
    }
    const allowedValues = propertyOf(raw, 'allowedValues');
    if (allowedValues !== undefined && !Array.isArray(allowedValues)) {
      throw invalidParameters(definitionName, `The 'allowedValues' of parameter '${name}' must be an array.`);
    }
    const defaultValue = propertyOf(raw, 'defaultValue');
    const parameter: CompiledParameter = {
      name,
      type,
      ...(allowedValues ? { allowedValues } : {}),
      ...(defaultValue === undefined ? {} : { defaultValue }),
    };
    if (defaultValue !== undefined && defaultValue !== null) {
      if (!hasType(defaultValue, type)) {
        throw invalidParameters(
          definitionName,
          `The default value of parameter '${name}' is of type '${typeName(defaultValue)}', expected type is '${type}'.`,
        );
      }
      if (!isAllowed(parameter, defaultValue)) {
        // Azure/azure-monitor-baseline-alerts#917.
        throw new PolicyError(
          'PolicyParameterAllowedAndDefaultValuesMismatch',
          `The policy '${definitionName}' defines parameter '${name}' with a default value '${showValue(defaultValue)}' and allowed values '${(allowedValues ?? []).map(showValue).join(',')}'. The 'allowedValues' property must include the value of the 'defaultValue' property if both are present.`,
        );
      }
    }
    if (parameters.has(name.toLowerCase())) {
      throw invalidParameters(definitionName, `The parameter '${name}' is declared twice.`);
    }
    parameters.set(name.toLowerCase(), parameter);
  }
  return parameters;
}

// ─── Details ─────────────────────────────────────────────────────────────────────────────────────

function member(object: JsonObject, name: string): JsonValue | undefined {
  return propertyOf(object, name);
}

function roleDefinitionIds(details: JsonObject, effect: Effect, required: boolean): string[] {
  const ids = member(details, 'roleDefinitionIds');
  if (ids === undefined && !required) return [];
  if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string')) {
    throw invalidRule(
      `The '${effect}' effect needs 'details.roleDefinitionIds', an array of role definition ids.`,
    );
  }
  return ids as string[];
}

function scopeNamed(value: JsonValue | undefined, property: string): 'ResourceGroup' | 'Subscription' {
  if (value === undefined) return 'ResourceGroup';
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (lower === 'resourcegroup') return 'ResourceGroup';
  if (lower === 'subscription') return 'Subscription';
  throw invalidRule(
    `The 'details.${property}' must be 'ResourceGroup' or 'Subscription'; it is '${showValue(value)}'.`,
  );
}

/** `AfterProvisioning…` or an ISO 8601 duration of 0 to 360 minutes; `PT10M` when absent. */
export function parseEvaluationDelay(value: JsonValue | undefined): EvaluationDelay {
  if (value === undefined) return { kind: 'Duration', minutes: 10, text: 'PT10M' };
  const text = typeof value === 'string' ? value : '';
  const named = ['AfterProvisioning', 'AfterProvisioningSuccess', 'AfterProvisioningFailure'].find(
    (name) => name.toLowerCase() === text.toLowerCase(),
  );
  if (named) return { kind: named as 'AfterProvisioning' };
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(text);
  if (match && text.length > 1 && !/T$/i.test(text)) {
    const [, days, hours, minutes, seconds] = match;
    const total =
      Number(days ?? 0) * 1440 + Number(hours ?? 0) * 60 + Number(minutes ?? 0) + Number(seconds ?? 0) / 60;
    if (total <= 360) return { kind: 'Duration', minutes: total, text };
  }
  throw invalidRule(
    `The 'details.evaluationDelay' '${showValue(value ?? null)}' must be AfterProvisioning, AfterProvisioningSuccess, AfterProvisioningFailure or an ISO 8601 duration between 0 and 360 minutes.`,
  );
}

function compileDeployment(
  raw: JsonValue | undefined,
  definitionName: string,
  context: RuleCompileContext,
): CompiledDeployment {
  if (!isJsonObject(raw ?? null))
    throw invalidRule(`The 'DeployIfNotExists' effect needs 'details.deployment'.`);
  const deployment = raw as JsonObject;
  const properties = member(deployment, 'properties');
  if (!isJsonObject(properties ?? null)) throw invalidRule(`The 'details.deployment' needs 'properties'.`);
  const body = properties as JsonObject;
  const location = member(deployment, 'location');
  const declared = member(body, 'parameters') ?? {};
  if (!isJsonObject(declared))
    throw invalidRule(`The 'details.deployment.properties.parameters' must be an object.`);
  const parameters = new Map<string, CompiledValue>();
  const rules = expressionRules(context, false);
  for (const [name, wrapper] of Object.entries(declared)) {
    if (!isJsonObject(wrapper) || propertyOf(wrapper, 'value') === undefined) {
      if (isJsonObject(wrapper) && propertyOf(wrapper, 'reference') !== undefined) {
        throw unsupported('Key Vault references in deployment parameters');
      }
      throw invalidRule(`The deployment parameter '${name}' must be an object with a 'value'.`);
    }
    parameters.set(name, compileChecked(propertyOf(wrapper, 'value')!, rules, definitionName));
  }
  if (member(body, 'templateLink') !== undefined)
    throw unsupported('linked templates (Azure Policy refuses them too)');
  const template = compileTemplate(member(body, 'template'), definitionName);
  for (const name of parameters.keys()) {
    if (!template.parameters.has(name.toLowerCase())) {
      throw invalidParameters(
        definitionName,
        `The deployment passes parameter '${name}', which the template does not declare.`,
      );
    }
  }
  const mode = member(body, 'mode');
  return {
    ...(typeof location === 'string' ? { location } : {}),
    mode: typeof mode === 'string' ? mode : 'Incremental',
    template,
    parameters,
    source: deployment,
  };
}

function compileExistence(
  details: JsonObject,
  effect: 'AuditIfNotExists' | 'DeployIfNotExists',
  context: RuleCompileContext,
): ExistenceDetails {
  const name = context.definitionName;
  const type = member(details, 'type');
  if (typeof type !== 'string' || !type.includes('/')) {
    throw invalidRule(`The '${effect}' effect needs 'details.type', the related resource type.`);
  }
  const rules = expressionRules(context, false);
  const optional = (key: string) => {
    const value = member(details, key);
    return value === undefined ? undefined : compileChecked(value, rules, name);
  };
  const nameValue = optional('name');
  const resourceGroupName = optional('resourceGroupName');
  const conditionJson = member(details, 'existenceCondition');
  const deploymentScope = scopeNamed(member(details, 'deploymentScope'), 'deploymentScope');
  const existence: ExistenceDetails = {
    type,
    ...(nameValue ? { name: nameValue } : {}),
    ...(resourceGroupName ? { resourceGroupName } : {}),
    existenceScope: scopeNamed(member(details, 'existenceScope'), 'existenceScope'),
    ...(conditionJson === undefined
      ? {}
      : {
          existenceCondition: compileRuleCondition(conditionJson, 'then.details.existenceCondition', context),
        }),
    evaluationDelay: parseEvaluationDelay(member(details, 'evaluationDelay')),
    roleDefinitionIds: roleDefinitionIds(details, effect, effect === 'DeployIfNotExists'),
    deploymentScope,
  };
  if (effect === 'DeployIfNotExists' || member(details, 'deployment') !== undefined) {
    const deployment = compileDeployment(member(details, 'deployment'), name, context);
    if (deploymentScope === 'Subscription' && deployment.location === undefined) {
      throw invalidRule(
        `A subscription-level deployment ('deploymentScope': 'Subscription') needs 'details.deployment.location'.`,
      );
    }
    return { ...existence, deployment };
  }
  return existence;
}

function compileModifyField(
  text: JsonValue | undefined,
  path: string,
  context: RuleCompileContext,
): ModifyField {
  if (typeof text !== 'string' || text === '')
    throw invalidRule(`The modify operation at '${path}' needs a 'field'.`);
  const compiled = compileChecked(text, expressionRules(context, false), context.definitionName);
  if (compiled.kind === 'expression') return { kind: 'dynamic', name: compiled, text };
  const ref = parseField(text, context.registry);
  if (!ref) throw unknownAlias(context.definitionName, text);
  return { kind: 'static', ref };
}

function compileModify(details: JsonObject, context: RuleCompileContext): ModifyDetails {
  const operations = member(details, 'operations');
  if (!Array.isArray(operations) || operations.length === 0) {
    throw invalidRule(`The 'Modify' effect needs 'details.operations', a non-empty array.`);
  }
  const conflict = member(details, 'conflictEffect');
  const conflictEffect = conflict === undefined ? 'Deny' : effectNamed(conflict);
  if (conflictEffect !== 'Deny' && conflictEffect !== 'Audit' && conflictEffect !== 'Disabled') {
    throw invalidRule(`The 'details.conflictEffect' must be 'audit', 'deny' or 'disabled'.`);
  }
  // Modify conditions may not read the resource or its scope (effect-modify.md).
  const conditionRules = {
    ...expressionRules(context, false),
    refuse: ['current', 'field', 'resourceGroup', 'subscription'],
  };
  return {
    roleDefinitionIds: roleDefinitionIds(details, 'Modify', true),
    conflictEffect,
    operations: operations.map((raw, index): ModifyOperation => {
      const path = `then.details.operations[${index}]`;
      if (!isJsonObject(raw)) throw invalidRule(`The modify operation at '${path}' must be an object.`);
      const kind = String(member(raw, 'operation') ?? '').toLowerCase();
      const operation =
        kind === 'add'
          ? 'add'
          : kind === 'addorreplace'
            ? 'addOrReplace'
            : kind === 'remove'
              ? 'remove'
              : undefined;
      if (!operation)
        throw invalidRule(`The modify operation at '${path}' must be 'add', 'addOrReplace' or 'remove'.`);
      const field = compileModifyField(member(raw, 'field'), path, context);
      if (operation === 'remove' && field.kind === 'static' && field.ref.kind !== 'tag') {
        throw invalidRule(`The 'remove' operation at '${path}' is only supported for tags.`);
      }
      const value = member(raw, 'value');
      if (operation !== 'remove' && value === undefined) {
        throw invalidRule(`The '${operation}' operation at '${path}' needs a 'value'.`);
      }
      const condition = member(raw, 'condition');
      return {
        operation,
        field,
        path,
        ...(value === undefined
          ? {}
          : { value: compileChecked(value, expressionRules(context, false), context.definitionName) }),
        ...(condition === undefined
          ? {}
          : { condition: compileChecked(condition, conditionRules, context.definitionName) }),
      };
    }),
  };
}

// ─── Definition ──────────────────────────────────────────────────────────────────────────────────

export interface CompileOptions {
  /** The definition's name (its GUID for built-ins), used in messages. */
  name: string;
  registry?: AliasRegistry;
}

/** The effects a `then.effect` can take: its literal, or the allowed values of the parameter it names. */
function candidateEffects(
  effect: CompiledValue,
  parameters: ReadonlyMap<string, CompiledParameter>,
): JsonValue[] {
  if (effect.kind === 'literal') return [effect.value];
  if (effect.kind !== 'expression') throw invalidRule(`The 'then.effect' must be a string.`);
  const root = effect.expression.root;
  if (root.kind === 'call' && root.name.toLowerCase() === 'parameters' && root.args[0]?.kind === 'string') {
    const parameter = parameters.get(root.args[0].value.toLowerCase());
    if (parameter?.allowedValues) return [...parameter.allowedValues];
    if (parameter?.defaultValue !== undefined) return [parameter.defaultValue];
  }
  return [];
}

export function compileDefinition(
  properties: PolicyDefinitionProperties,
  options: CompileOptions,
): CompiledDefinition {
  const name = options.name;
  const registry = options.registry ?? defaultAliasRegistry;
  const modeText = typeof properties.mode === 'string' ? properties.mode.toLowerCase() : 'all';
  if (modeText !== 'all' && modeText !== 'indexed') {
    throw unsupported(
      `policy mode '${String(properties.mode)}' (vaplane evaluates the Resource Manager modes All and Indexed)`,
    );
  }
  const parameters = compileParameters(name, properties.parameters);
  const context: RuleCompileContext = {
    definitionName: name,
    parameterTypes: new Map([...parameters].map(([key, parameter]) => [key, parameter.type])),
    registry,
  };
  const rule = properties.policyRule;
  if (!isJsonObject((rule ?? null) as JsonValue)) throw invalidRule(`The 'policyRule' must be an object.`);
  let ifJson: unknown;
  let thenJson: unknown;
  for (const [key, value] of Object.entries(rule as JsonObject)) {
    const lower = key.toLowerCase();
    if (lower === 'if') ifJson = value;
    else if (lower === 'then') thenJson = value;
    else
      throw invalidRule(
        `Could not find member '${key}' on object of type 'PolicyRuleDefinition'. Path '${key}'.`,
      );
  }
  if (ifJson === undefined || thenJson === undefined)
    throw invalidRule(`The 'policyRule' needs 'if' and 'then'.`);
  if (!isJsonObject(thenJson as JsonValue)) throw invalidRule(`The 'then' must be an object.`);
  const then = thenJson as JsonObject;
  for (const key of Object.keys(then)) {
    if (!['effect', 'details'].includes(key.toLowerCase())) {
      throw invalidRule(
        `Could not find member '${key}' on object of type 'PolicyRuleThenDefinition'. Path 'then.${key}'.`,
      );
    }
  }
  const effectJson = member(then, 'effect');
  if (typeof effectJson !== 'string') throw invalidRule(`The 'then.effect' must be a string.`);
  const effect = compileChecked(effectJson, expressionRules(context, false), name);
  const effects = candidateEffects(effect, parameters).map(effectNamed);

  const detailsJson = member(then, 'details');
  if (detailsJson !== undefined && !isJsonObject(detailsJson)) {
    throw unsupported(`'then.details' as an array (the Append effect)`);
  }
  const details = detailsJson as JsonObject | undefined;
  // The strictest effect the rule can take decides which details must be complete.
  const existenceEffect = effects.includes('DeployIfNotExists')
    ? 'DeployIfNotExists'
    : effects.includes('AuditIfNotExists')
      ? 'AuditIfNotExists'
      : undefined;
  const hasExistenceShape = details !== undefined && member(details, 'type') !== undefined;
  const existence =
    existenceEffect || hasExistenceShape
      ? compileExistence(details ?? {}, existenceEffect ?? 'AuditIfNotExists', context)
      : undefined;
  const modify =
    effects.includes('Modify') || (details !== undefined && member(details, 'operations') !== undefined)
      ? compileModify(details ?? {}, context)
      : undefined;

  return {
    name,
    ...(properties.displayName === undefined ? {} : { displayName: properties.displayName }),
    mode: modeText === 'indexed' ? 'Indexed' : 'All',
    parameters,
    if: compileRuleCondition(ifJson, 'if', context),
    effect,
    ...(existence ? { existence } : {}),
    ...(modify ? { modify } : {}),
    registry,
    properties,
  };
}

// ─── Assignment parameters ───────────────────────────────────────────────────────────────────────

/** What parameters bind to: a definition, or a policy set definition (named so in messages). */
export interface ParameterisedPolicy {
  name: string;
  kind?: 'definition' | 'set';
  parameters: ReadonlyMap<string, CompiledParameter>;
}

/**
 * Binds an assignment's parameter values to a definition (or a set's own parameters): every supplied name must be declared, each
 * value must have the declared type and be allowed, and a parameter without a value takes its default.
 * Returns the values by lower-case name.
 */
export function bindParameters(
  definition: ParameterisedPolicy,
  values: AssignmentParameterValues = {},
  assignmentName = 'assignment',
): Map<string, JsonValue> {
  const what = definition.kind === 'set' ? 'policy set definition' : 'policy definition';
  const bound = new Map<string, JsonValue>();
  for (const [name, wrapper] of Object.entries(values)) {
    const parameter = definition.parameters.get(name.toLowerCase());
    if (!parameter) {
      throw new PolicyError(
        'UndefinedPolicyParameter',
        `The policy assignment '${assignmentName}' has a parameter '${name}' which is not defined in the ${what} '${definition.name}'.`,
      );
    }
    if (!isJsonObject((wrapper ?? null) as JsonValue) || !Object.hasOwn(wrapper, 'value')) {
      throw invalidParameters(
        definition.name,
        `The assignment parameter '${name}' must be an object with a 'value'.`,
      );
    }
    const value = wrapper.value;
    if (!hasType(value, parameter.type)) {
      throw invalidParameters(
        definition.name,
        `The value of parameter '${parameter.name}' is of type '${typeName(value)}', expected type is '${parameter.type}'.`,
      );
    }
    if (!isAllowed(parameter, value)) {
      throw new PolicyError(
        'PolicyParameterValueNotAllowed',
        `The value '${showValue(value)}' is not allowed for policy parameter '${parameter.name}' in ${what} '${definition.name}'. The allowed values are '${(parameter.allowedValues ?? []).map(showValue).join(', ')}'.`,
      );
    }
    bound.set(name.toLowerCase(), value);
  }
  const missing: string[] = [];
  for (const [key, parameter] of definition.parameters) {
    if (bound.has(key)) continue;
    if (parameter.defaultValue === undefined) missing.push(parameter.name);
    else bound.set(key, parameter.defaultValue);
  }
  if (missing.length > 0) {
    throw new PolicyError(
      'MissingPolicyParameter',
      `The policy assignment '${assignmentName}' is missing parameter(s) '${missing.join(', ')}' as defined in the ${what} '${definition.name}'.`,
    );
  }
  return bound;
}
