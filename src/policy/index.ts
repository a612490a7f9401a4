/**
 * The Azure Policy engine's pure core: compile a definition, bind an assignment's parameters, evaluate a
 * resource, explain the verdict, and describe (not perform) the existence checks, deployments and
 * modifications the effects call for. Providers do the I/O around it.
 */
export {
  type AliasDefinition,
  type AliasRegistry,
  createAliasRegistry,
  DEFAULT_ALIASES,
  defaultAliasRegistry,
  fullNameOf,
} from './aliases.js';
export { isExtensionType, isIndexed } from './catalogue.js';
export {
  bindParameters,
  type CompiledDefinition,
  type CompiledParameter,
  type CompileOptions,
  compileDefinition,
  type EvaluationDelay,
  effectNamed,
  type ParameterisedPolicy,
  parseEvaluationDelay,
} from './definition.js';
export {
  checkExistence,
  completeEvaluation,
  type DeploymentPlan,
  type EvaluatePolicyInput,
  type ExistenceCheck,
  type ExistenceOutcome,
  evaluatePolicy,
  type Modification,
  type ModifyOperationResult,
  type NotApplicableReason,
  type PolicyEvaluation,
  type RelatedResourceQuery,
  type RelatedScope,
  type RelatedVerdict,
} from './effects.js';
export { ExpressionError, PolicyError, type PolicyErrorCode } from './errors.js';
export type { Explanation, MemberVerdict } from './evaluate.js';
export { decisiveConditions, describeLeaf, formatExplanation } from './explain.js';
export { FUNCTION_NAMES } from './functions.js';
export { OPERATORS, type Operator } from './operators.js';
export { matchedTypes } from './reach.js';
export {
  type BoundSet,
  type BoundSetMember,
  bindSetParameters,
  type CompiledSet,
  type CompiledSetMember,
  type CompileSetOptions,
  compileSet,
  type PolicySetDefinitionProperties,
} from './set.js';
export {
  type CompiledTemplate,
  type DeploymentScope,
  type RenderedTemplate,
  renderTemplate,
  type TemplateRenderContext,
} from './template.js';
export type * from './types.js';
export { resourceView, subscriptionView } from './views.js';
