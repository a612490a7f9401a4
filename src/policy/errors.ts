/**
 * Errors of the policy engine, each with the ARM code Azure Policy answers with. Definition and
 * assignment errors are raised when a definition is compiled or parameters are bound, so a provider can
 * refuse the PUT with 400 and the same code; `PolicyEvaluationFailed` is raised while evaluating one
 * resource (Azure treats a failed evaluation as an implicit deny). Wording follows the messages Azure
 * returns where they are recorded in public issues (cited beside each template).
 */

export type PolicyErrorCode =
  /** Structure of the rule: unknown operator or member, wrong shape. */
  | 'InvalidPolicyRule'
  /** A `field` that is neither a known field nor a registered alias. */
  | 'InvalidPolicyAlias'
  /** Bad template expressions, undefined parameters, wrong parameter types. */
  | 'InvalidPolicyParameters'
  | 'PolicyParameterValueNotAllowed'
  | 'PolicyParameterAllowedAndDefaultValuesMismatch'
  | 'MissingPolicyParameter'
  | 'UndefinedPolicyParameter'
  /** A policy set definition's structure: references, reference ids, nesting, scope of its members. */
  | 'InvalidCreatePolicySetDefinitionRequest'
  /** A set member's `groupNames` naming a group the set does not declare. */
  | 'InvalidPolicySetDefinitionGroups'
  /** Something vaplane deliberately does not implement (named in the message). */
  | 'UnsupportedPolicyFeature'
  /** A template function failed while evaluating one resource. */
  | 'PolicyEvaluationFailed';

export class PolicyError extends Error {
  readonly code: PolicyErrorCode;
  /** ARM status the providers answer with; evaluation failures are not request errors. */
  readonly status: number;

  constructor(code: PolicyErrorCode, message: string) {
    super(message);
    this.name = 'PolicyError';
    this.code = code;
    this.status = code === 'PolicyEvaluationFailed' ? 500 : 400;
  }
}

/**
 * An error inside the template-expression language, before it is attributed to a definition. The
 * compiler wraps it as `InvalidPolicyParameters` (Azure's code for bad functions and parameters); the
 * evaluator wraps it as `PolicyEvaluationFailed`.
 */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

// Azure/azure-monitor-baseline-alerts#616: "A function or parameter in policy '49f6…' could not be
// validated. If using template functions, try following the tips in: https://aka.ms/policy-avoiding-
// template-failures. The inner exception 'Unable to parse language expression …'."
export function invalidParameters(definitionName: string, inner: string): PolicyError {
  return new PolicyError(
    'InvalidPolicyParameters',
    `A function or parameter in policy '${definitionName}' could not be validated. If using template functions, try following the tips in: https://aka.ms/policy-avoiding-template-failures. The inner exception '${inner}'.`,
  );
}

// Azure/azure-policy#363: "The policy definition '…' rule is invalid. The 'field' property
// 'Microsoft.ApiManagement/service/virtualNetworkType' of the policy rule doesn't exist as an alias under
// provider 'Microsoft.ApiManagement' and resource type 'service'."
export function unknownAlias(definitionName: string, alias: string): PolicyError {
  const slash = alias.indexOf('/');
  const namespace = slash > 0 ? alias.slice(0, slash) : alias;
  const typeSegments = alias.slice(slash + 1).split('/');
  const where =
    slash > 0 && typeSegments.length > 1
      ? `provider '${namespace}' and resource type '${typeSegments.slice(0, -1).join('/')}'`
      : `provider '${namespace}'`;
  return new PolicyError(
    'InvalidPolicyAlias',
    `The policy definition '${definitionName}' rule is invalid. The 'field' property '${alias}' of the policy rule doesn't exist as an alias under ${where}.`,
  );
}

// Azure/azure-cli#28377: "Failed to parse policy rule: 'Could not find member 'properties' on object of
// type 'PolicyRuleDefinition'. Path 'properties'.'."
export function invalidRule(inner: string): PolicyError {
  return new PolicyError('InvalidPolicyRule', `Failed to parse policy rule: '${inner}'.`);
}

export function unsupported(feature: string): PolicyError {
  return new PolicyError('UnsupportedPolicyFeature', `vaplane does not implement ${feature}.`);
}

export function evaluationFailed(definitionName: string, resourceId: string, inner: string): PolicyError {
  return new PolicyError(
    'PolicyEvaluationFailed',
    `The policy '${definitionName}' could not be evaluated for resource '${resourceId}'. The inner exception '${inner}'.`,
  );
}
