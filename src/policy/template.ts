/**
 * The deployment template inside a DeployIfNotExists definition: checked when the definition is
 * compiled, and rendered — parameters bound, variables and expressions evaluated, `condition`s applied —
 * into the resource bodies a deployment would PUT. Rendering is pure; `reference()` reads through a
 * callback the deployment engine supplies.
 *
 * Deliberately not supported (an error names them): `copy` loops, nested deployments with
 * `expressionEvaluationOptions.scope: inner`, user-defined functions and linked templates (Azure Policy
 * does not support linked templates either).
 */
import { ExpressionError, invalidParameters, unsupported } from './errors.js';
import {
  type CompiledValue,
  compileValue,
  type ExpressionHost,
  type ExpressionRules,
  evaluateValue,
} from './expressions.js';
import { isJsonObject, propertyOf } from './json.js';
import type { JsonObject, JsonValue, ResourceGroupContext, SubscriptionContext } from './types.js';

export type DeploymentScope = 'ResourceGroup' | 'Subscription';

export interface CompiledTemplate {
  parameters: ReadonlyMap<string, { name: string; defaultValue?: CompiledValue }>;
  variables: ReadonlyMap<string, CompiledValue>;
  resources: readonly { condition?: CompiledValue; body: CompiledValue }[];
  source: JsonObject;
}

function compileTemplateValue(
  value: JsonValue,
  rules: ExpressionRules,
  definitionName: string,
): CompiledValue {
  try {
    return compileValue(value, rules);
  } catch (error) {
    if (error instanceof ExpressionError) {
      throw invalidParameters(definitionName, `In the deployment template: ${error.message}`);
    }
    throw error;
  }
}

function rejectNestedInnerScope(value: JsonValue): void {
  if (Array.isArray(value)) {
    for (const item of value) rejectNestedInnerScope(item);
    return;
  }
  if (!isJsonObject(value)) return;
  const options = propertyOf(value, 'expressionEvaluationOptions');
  if (
    isJsonObject(options ?? null) &&
    String(propertyOf(options as JsonObject, 'scope')).toLowerCase() === 'inner'
  ) {
    throw unsupported('nested deployments with expressionEvaluationOptions.scope "inner"');
  }
  for (const member of Object.values(value)) rejectNestedInnerScope(member);
}

export function compileTemplate(template: unknown, definitionName: string): CompiledTemplate {
  if (!isJsonObject((template ?? null) as JsonValue)) {
    throw invalidParameters(definitionName, 'The deployment template must be an object.');
  }
  const source = template as JsonObject;
  if (propertyOf(source, 'functions') !== undefined) throw unsupported('user-defined template functions');
  const declaredParameters = propertyOf(source, 'parameters') ?? {};
  const declaredVariables = propertyOf(source, 'variables') ?? {};
  if (!isJsonObject(declaredParameters) || !isJsonObject(declaredVariables)) {
    throw invalidParameters(
      definitionName,
      "The deployment template's parameters and variables must be objects.",
    );
  }
  const rules: ExpressionRules = {
    context: 'template',
    onParameter: (name) => {
      if (propertyOf(declaredParameters, name) === undefined) {
        throw new ExpressionError(`The template parameter '${name}' is not found.`);
      }
    },
    onVariable: (name) => {
      if (propertyOf(declaredVariables, name) === undefined) {
        throw new ExpressionError(`The template variable '${name}' is not found.`);
      }
    },
  };
  const parameters = new Map<string, { name: string; defaultValue?: CompiledValue }>();
  for (const [name, declaration] of Object.entries(declaredParameters)) {
    const defaultValue = isJsonObject(declaration) ? propertyOf(declaration, 'defaultValue') : undefined;
    parameters.set(
      name.toLowerCase(),
      defaultValue === undefined
        ? { name }
        : { name, defaultValue: compileTemplateValue(defaultValue, rules, definitionName) },
    );
  }
  const variables = new Map<string, CompiledValue>();
  for (const [name, value] of Object.entries(declaredVariables)) {
    if (name.toLowerCase() === 'copy') throw unsupported('template variable copy loops');
    variables.set(name.toLowerCase(), compileTemplateValue(value, rules, definitionName));
  }
  const declaredResources = propertyOf(source, 'resources') ?? [];
  if (!Array.isArray(declaredResources)) {
    throw invalidParameters(definitionName, "The deployment template's resources must be an array.");
  }
  const resources = declaredResources.map((resource) => {
    if (!isJsonObject(resource))
      throw invalidParameters(definitionName, 'Each template resource must be an object.');
    if (propertyOf(resource, 'copy') !== undefined) throw unsupported('template resource copy loops');
    rejectNestedInnerScope(resource);
    const { condition, ...body } = Object.fromEntries(
      Object.entries(resource).map(([key, value]) => [
        key.toLowerCase() === 'condition' ? 'condition' : key,
        value,
      ]),
    ) as JsonObject;
    const compiledBody = compileTemplateValue(body, rules, definitionName);
    return condition === undefined
      ? { body: compiledBody }
      : { condition: compileTemplateValue(condition, rules, definitionName), body: compiledBody };
  });
  return {
    parameters,
    variables,
    resources,
    source,
  };
}

export interface TemplateRenderContext {
  now: Date;
  subscription: SubscriptionContext;
  /** The target resource group of a resource-group deployment. */
  resourceGroup?: ResourceGroupContext;
  reference?: ExpressionHost['reference'];
}

export interface RenderedTemplate {
  /** Resource bodies to PUT, in template order, expressions evaluated. */
  resources: JsonObject[];
  /** How many resources a false `condition` left out. */
  skipped: number;
}

/** Renders a compiled template with the deployment's parameter values (`{ name: { value } }`). */
export function renderTemplate(
  template: CompiledTemplate,
  parameterValues: Record<string, { value: JsonValue }>,
  context: TemplateRenderContext,
): RenderedTemplate {
  const supplied = new Map(
    Object.entries(parameterValues).map(([name, { value }]) => [name.toLowerCase(), value]),
  );
  for (const name of supplied.keys()) {
    if (!template.parameters.has(name))
      throw new ExpressionError(`The template parameter '${name}' is not declared.`);
  }
  const variableValues = new Map<string, JsonValue>();
  const evaluating = new Set<string>();
  const parameterCache = new Map<string, JsonValue>();
  const { subscriptionId, displayName, tenantId } = context.subscription;
  const group = context.resourceGroup;
  const host: ExpressionHost = {
    context: 'template',
    now: context.now,
    parameter: (name) => {
      const key = name.toLowerCase();
      const cached = parameterCache.get(key);
      if (cached !== undefined) return cached;
      const declared = template.parameters.get(key);
      if (!declared) throw new ExpressionError(`The template parameter '${name}' is not found.`);
      const value = supplied.has(key)
        ? supplied.get(key)!
        : declared.defaultValue
          ? evaluateValue(declared.defaultValue, host)
          : undefined;
      if (value === undefined) throw new ExpressionError(`The template parameter '${name}' has no value.`);
      parameterCache.set(key, value);
      return value;
    },
    variable: (name) => {
      const key = name.toLowerCase();
      const known = variableValues.get(key);
      if (known !== undefined) return known;
      const compiled = template.variables.get(key);
      if (!compiled) throw new ExpressionError(`The template variable '${name}' is not found.`);
      if (evaluating.has(key)) throw new ExpressionError(`The template variable '${name}' refers to itself.`);
      evaluating.add(key);
      const value = evaluateValue(compiled, host);
      evaluating.delete(key);
      variableValues.set(key, value);
      return value;
    },
    subscription: () => ({
      id: `/subscriptions/${subscriptionId}`,
      subscriptionId,
      displayName,
      ...(tenantId === undefined ? {} : { tenantId }),
    }),
    ...(group
      ? {
          resourceGroup: () => ({
            id: `/subscriptions/${subscriptionId}/resourceGroups/${group.name}`,
            name: group.name,
            type: 'Microsoft.Resources/resourceGroups',
            location: group.location,
            tags: group.tags ?? {},
            properties: { provisioningState: 'Succeeded' },
          }),
        }
      : {}),
    deploymentScope: group ? { subscriptionId, resourceGroupName: group.name } : { subscriptionId },
    ...(context.reference ? { reference: context.reference } : {}),
  };
  const resources: JsonObject[] = [];
  let skipped = 0;
  for (const resource of template.resources) {
    if (resource.condition) {
      const condition = evaluateValue(resource.condition, host);
      if (typeof condition !== 'boolean') {
        throw new ExpressionError(`A template resource condition evaluated to a non-boolean value.`);
      }
      if (!condition) {
        skipped++;
        continue;
      }
    }
    resources.push(evaluateValue(resource.body, host) as JsonObject);
  }
  return { resources, skipped };
}
