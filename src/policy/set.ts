/**
 * Policy set definitions (initiatives). A set declares its own parameters and references member
 * definitions, passing each member parameter a value or an expression over the set's parameters
 * (`[parameters('effect')]`). `compileSet` makes Azure's create-time checks against the member
 * definitions the caller has loaded; `bindSetParameters` binds an assignment's values to the set and
 * renders each member's parameters from them.
 *
 * Create-time rules, with the codes Azure answers:
 * - references: a non-empty array; `policyDefinitionReferenceId` unique within the set (case-insensitive),
 *   generated when missing as Azure does — a decimal unsigned 64-bit number such as
 *   `6631415745917904432` (Azure/azure-powershell#9012 shows them) — here derived from the set name,
 *   the position and the definition id, so the same PUT yields the same ids
 *   (`InvalidCreatePolicySetDefinitionRequest`);
 * - member parameters: each must be declared by the member (`UndefinedPolicyParameter`); a member
 *   parameter without a default must be given (`MissingPolicyParameter`); a literal must have the
 *   member parameter's type and be allowed (`InvalidPolicyParameters`, `PolicyParameterValueNotAllowed`);
 *   `[parameters('x')]` needs the set parameter `x` declared with the same type, and its default value
 *   allowed by the member (`InvalidPolicyParameters`, worded as in Azure/azure-policy#721); other
 *   expressions may use the set's parameters and template functions, not `field()` or `current()`;
 * - groups: `policyDefinitionGroups` names are unique and every `groupNames` entry names one of them
 *   (`InvalidPolicySetDefinitionGroups`, Azure/enterprise-azure-policy-as-code#660).
 */
import { createHash } from 'node:crypto';
import {
  bindParameters,
  type CompiledDefinition,
  type CompiledParameter,
  compileParameters,
  hasType,
  isAllowed,
  showValue,
} from './definition.js';
import { ExpressionError, invalidParameters, PolicyError } from './errors.js';
import { type CompiledValue, type ExpressionHost, evaluateValue } from './expressions.js';
import { isJsonObject, propertyOf, typeName } from './json.js';
import { compileChecked } from './rule.js';
import type { AssignmentParameterValues, JsonObject, JsonValue } from './types.js';

/** The `properties` of a policy set definition, as stored. */
export interface PolicySetDefinitionProperties {
  displayName?: string;
  description?: string;
  policyType?: string;
  metadata?: JsonObject;
  version?: string;
  versions?: string[];
  parameters?: Record<string, unknown>;
  policyDefinitions: unknown;
  policyDefinitionGroups?: unknown;
}

export interface CompiledSetMember {
  referenceId: string;
  /** The member's id as the set wrote it. */
  policyDefinitionId: string;
  definition: CompiledDefinition;
  /** The values the set passes, by the member parameter's lower-case name. */
  values: ReadonlyMap<string, { name: string; value: CompiledValue }>;
  groupNames: readonly string[];
}

export interface CompiledSet {
  kind: 'set';
  name: string;
  /** The set's own parameters, by lower-case name. */
  parameters: ReadonlyMap<string, CompiledParameter>;
  members: readonly CompiledSetMember[];
  /** `properties.policyDefinitions` as stored: each reference with its (maybe generated) reference id. */
  references: JsonObject[];
  /** `properties.policyDefinitionGroups` as stored. */
  groups: JsonObject[];
}

export interface CompileSetOptions {
  /** The set's name, used in messages and for generated reference ids. */
  name: string;
  /** The compiled definition a reference's `policyDefinitionId` names; the caller has found it. */
  memberDefinition(policyDefinitionId: string): CompiledDefinition;
}

/** Functions a member parameter value may not use: it is rendered once per assignment, not per resource. */
const REFUSED_IN_MEMBER_VALUES = ['field', 'current', 'requestContext', 'policy'];

function invalidSet(setName: string, reason: string): PolicyError {
  return new PolicyError(
    'InvalidCreatePolicySetDefinitionRequest',
    `The policy set definition '${setName}' request is invalid. ${reason}`,
  );
}

/** A decimal unsigned 64-bit id, the shape of the reference ids Azure generates. */
function generatedReferenceId(setName: string, index: number, policyDefinitionId: string): string {
  const digest = createHash('sha256')
    .update(`${setName.toLowerCase()}|${index}|${policyDefinitionId.toLowerCase()}`)
    .digest();
  return digest.readBigUInt64BE(0).toString();
}

function compileGroups(setName: string, raw: unknown): JsonObject[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    throw new PolicyError(
      'InvalidPolicySetDefinitionGroups',
      `The policy set definition '${setName}' has invalid 'policyDefinitionGroups': an array of groups is expected.`,
    );
  }
  const seen = new Set<string>();
  return raw.map((group, index) => {
    const name = isJsonObject(group as JsonValue) ? propertyOf(group as JsonObject, 'name') : undefined;
    if (typeof name !== 'string' || name === '') {
      throw new PolicyError(
        'InvalidPolicySetDefinitionGroups',
        `The policy set definition '${setName}' has a policy definition group at index ${index} without a 'name'.`,
      );
    }
    if (seen.has(name.toLowerCase())) {
      throw new PolicyError(
        'InvalidPolicySetDefinitionGroups',
        `The policy set definition '${setName}' declares the policy definition group '${name}' more than once.`,
      );
    }
    seen.add(name.toLowerCase());
    return group as JsonObject;
  });
}

/** `[parameters('x')]` and nothing else: the set parameter it passes through, else undefined. */
function passedSetParameter(value: CompiledValue): string | undefined {
  if (value.kind !== 'expression') return undefined;
  const root = value.expression.root;
  if (root.kind === 'call' && root.name.toLowerCase() === 'parameters' && root.args[0]?.kind === 'string')
    return root.args[0].value;
  return undefined;
}

function compileMemberValues(
  setName: string,
  setParameters: ReadonlyMap<string, CompiledParameter>,
  referenceId: string,
  definition: CompiledDefinition,
  raw: JsonValue | undefined,
): Map<string, { name: string; value: CompiledValue }> {
  const values = new Map<string, { name: string; value: CompiledValue }>();
  if (raw !== undefined && raw !== null && !isJsonObject(raw)) {
    throw invalidParameters(
      setName,
      `The 'parameters' of policy definition reference '${referenceId}' must be an object.`,
    );
  }
  for (const [name, wrapper] of Object.entries((raw ?? {}) as JsonObject)) {
    const parameter = definition.parameters.get(name.toLowerCase());
    if (!parameter) {
      throw new PolicyError(
        'UndefinedPolicyParameter',
        `The policy set definition '${setName}' passes a parameter '${name}' to the policy definition reference '${referenceId}' which is not defined in the policy definition '${definition.name}'.`,
      );
    }
    if (!isJsonObject(wrapper) || propertyOf(wrapper, 'value') === undefined) {
      throw invalidParameters(
        setName,
        `The parameter '${name}' of policy definition reference '${referenceId}' must be an object with a 'value'.`,
      );
    }
    const value = compileChecked(
      propertyOf(wrapper, 'value')!,
      {
        context: 'policyRule',
        refuse: REFUSED_IN_MEMBER_VALUES,
        onParameter: (used) => {
          if (!setParameters.has(used.toLowerCase())) {
            throw new PolicyError(
              'UndefinedPolicyParameter',
              `The policy set definition '${setName}' has undefined parameter '${used}' which is used in the policy definition reference '${referenceId}'. Please either define it in the policy set definition or remove the reference.`,
            );
          }
        },
      },
      setName,
    );
    if (value.kind === 'literal') {
      if (!hasType(value.value, parameter.type)) {
        throw invalidParameters(
          setName,
          `The value of parameter '${parameter.name}' of policy definition reference '${referenceId}' is of type '${typeName(value.value)}', expected type is '${parameter.type}'.`,
        );
      }
      if (!isAllowed(parameter, value.value)) {
        throw new PolicyError(
          'PolicyParameterValueNotAllowed',
          `The value '${showValue(value.value)}' is not allowed for policy parameter '${parameter.name}' in policy definition '${definition.name}'. The allowed values are '${(parameter.allowedValues ?? []).map(showValue).join(', ')}'.`,
        );
      }
    }
    const passed = passedSetParameter(value);
    const setParameter = passed === undefined ? undefined : setParameters.get(passed.toLowerCase());
    if (setParameter) {
      if (setParameter.type !== parameter.type) {
        throw invalidParameters(
          setName,
          `The policy set parameter '${setParameter.name}' of type '${setParameter.type}' is passed to parameter '${parameter.name}' of type '${parameter.type}' in the policy definition reference '${referenceId}'.`,
        );
      }
      const fallback = setParameter.defaultValue;
      if (fallback !== undefined && fallback !== null && !isAllowed(parameter, fallback)) {
        throw new PolicyError(
          'InvalidPolicyParameters',
          `The policy set '${setName}' could not be parameterized because the default value of a policy set parameter referenced by policy definition ${definition.name} was not valid for that policy definition. Please verify that the default values of all policy set parameters are valid in the context of the policy definitions referencing them. The inner exception 'The value '${showValue(fallback)}' is not allowed for policy parameter '${parameter.name}' in policy definition '${definition.name}'. The allowed values are '${(parameter.allowedValues ?? []).map(showValue).join(', ')}'.'.`,
        );
      }
    }
    values.set(name.toLowerCase(), { name: parameter.name, value });
  }
  const missing = [...definition.parameters]
    .filter(([key, parameter]) => !values.has(key) && parameter.defaultValue === undefined)
    .map(([, parameter]) => parameter.name);
  if (missing.length > 0) {
    throw new PolicyError(
      'MissingPolicyParameter',
      `The policy set definition '${setName}' is missing parameter(s) '${missing.join(', ')}' for the policy definition reference '${referenceId}', as defined in the policy definition '${definition.name}'.`,
    );
  }
  return values;
}

/** Compiles a set against its members; throws the `PolicyError` Azure answers a bad set with. */
export function compileSet(
  properties: PolicySetDefinitionProperties,
  options: CompileSetOptions,
): CompiledSet {
  const setName = options.name;
  const parameters = compileParameters(setName, properties.parameters);
  const groups = compileGroups(setName, properties.policyDefinitionGroups);
  const declaredGroups = new Set(groups.map((group) => String(propertyOf(group, 'name')).toLowerCase()));
  const raw = properties.policyDefinitions;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw invalidSet(
      setName,
      "The 'policyDefinitions' must be a non-empty array of policy definition references.",
    );
  }
  const members: CompiledSetMember[] = [];
  const references: JsonObject[] = [];
  const undeclaredGroups = new Set<string>();
  raw.forEach((item: JsonValue, index) => {
    if (!isJsonObject(item)) {
      throw invalidSet(setName, `The policy definition reference at index ${index} must be an object.`);
    }
    const policyDefinitionId = propertyOf(item, 'policyDefinitionId');
    if (typeof policyDefinitionId !== 'string' || policyDefinitionId === '') {
      throw invalidSet(
        setName,
        `The policy definition reference at index ${index} needs a 'policyDefinitionId'.`,
      );
    }
    const givenId = propertyOf(item, 'policyDefinitionReferenceId');
    if (givenId !== undefined && givenId !== null && (typeof givenId !== 'string' || givenId === '')) {
      throw invalidSet(
        setName,
        `The 'policyDefinitionReferenceId' at index ${index} must be a non-empty string.`,
      );
    }
    const referenceId =
      typeof givenId === 'string' ? givenId : generatedReferenceId(setName, index, policyDefinitionId);
    const groupNames = propertyOf(item, 'groupNames') ?? [];
    if (!Array.isArray(groupNames) || groupNames.some((group) => typeof group !== 'string')) {
      throw new PolicyError(
        'InvalidPolicySetDefinitionGroups',
        `The 'groupNames' of policy definition reference '${referenceId}' must be an array of group names.`,
      );
    }
    for (const group of groupNames as string[]) {
      if (!declaredGroups.has(group.toLowerCase())) undeclaredGroups.add(group);
    }
    const definition = options.memberDefinition(policyDefinitionId);
    members.push({
      referenceId,
      policyDefinitionId,
      definition,
      values: compileMemberValues(
        setName,
        parameters,
        referenceId,
        definition,
        propertyOf(item, 'parameters'),
      ),
      groupNames: groupNames as string[],
    });
    references.push({
      ...item,
      policyDefinitionReferenceId: referenceId,
      ...(propertyOf(item, 'parameters') === undefined ? { parameters: {} } : {}),
    });
  });
  if (undeclaredGroups.size > 0) {
    throw new PolicyError(
      'InvalidPolicySetDefinitionGroups',
      `The policy set definition '${setName}' has policy definition references in the group(s) '${[...undeclaredGroups].join(', ')}', which 'policyDefinitionGroups' does not declare.`,
    );
  }
  const counts = new Map<string, number>();
  for (const member of members) {
    const key = member.referenceId.toLowerCase();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const duplicated = members
    .filter((member) => counts.get(member.referenceId.toLowerCase())! > 1)
    .map((member) => member.referenceId);
  if (duplicated.length > 0) {
    throw invalidSet(
      setName,
      `Policy definition reference ids must be unique within the set; '${[...new Set(duplicated)].join(', ')}' occur more than once.`,
    );
  }
  return { kind: 'set', name: setName, parameters, members, references, groups };
}

export interface BoundSetMember {
  member: CompiledSetMember;
  /** The member's parameters, rendered from the set's and bound to the member definition. */
  parameters: Map<string, JsonValue>;
}

export interface BoundSet {
  /** The set's own parameters as the assignment binds them (defaults applied). */
  parameters: Map<string, JsonValue>;
  members: BoundSetMember[];
}

/**
 * Binds an assignment's values to the set's parameters (the same rules as for a definition), then
 * renders and binds every member's parameters. A member value the set's parameters make invalid is
 * Azure's `InvalidPolicyParameters` ("could not be parameterized").
 */
export function bindSetParameters(
  set: CompiledSet,
  values: AssignmentParameterValues | undefined,
  assignmentName: string,
  now: Date,
): BoundSet {
  const parameters = bindParameters(set, values ?? {}, assignmentName);
  const host: ExpressionHost = {
    context: 'policyRule',
    now,
    parameter: (name) => {
      const value = parameters.get(name.toLowerCase());
      if (value === undefined) throw new ExpressionError(`The parameter '${name}' is not defined.`);
      return value;
    },
  };
  const members = set.members.map((member) => {
    try {
      const rendered: AssignmentParameterValues = {};
      for (const { name, value } of member.values.values())
        rendered[name] = { value: evaluateValue(value, host) };
      return { member, parameters: bindParameters(member.definition, rendered, assignmentName) };
    } catch (error) {
      if (!(error instanceof PolicyError) && !(error instanceof ExpressionError)) throw error;
      throw new PolicyError(
        'InvalidPolicyParameters',
        `The policy set '${set.name}' could not be parameterized for the policy definition reference '${member.referenceId}' (policy definition '${member.definition.name}'). The inner exception '${error.message}'.`,
      );
    }
  });
  return { parameters, members };
}
