/**
 * `Microsoft.Authorization/policySetDefinitions` (initiatives): custom sets at management groups and
 * subscriptions, compiled on PUT against their members so that a bad reference, parameter or group is
 * refused at create time (`src/policy/set.ts` lists the rules and codes). The tenant path serves the
 * built-in sets; vaplane's catalogue holds none (no Microsoft initiative is needed by the transition,
 * and vaplane does not make up Microsoft ids), so it lists nothing and refuses writes as Azure refuses
 * writes of built-ins.
 *
 * Where members may live (Azure's rule, "Policy definitions should be specified only at or above the
 * policy set definition's scope", Azure/ALZ-Bicep#399): built-ins; definitions at the set's own
 * management group or subscription; definitions at a management group above it. A member that does
 * not exist is `PolicyDefinitionNotFound` (404); one that exists elsewhere is
 * `InvalidCreatePolicySetDefinitionRequest` (400); a set as a member is refused as Azure refuses it
 * (hashicorp/terraform-provider-azurerm#19929).
 *
 * Deleting a set that an assignment assigns is refused with `InvalidDeletePolicySetDefinitionRequest`
 * (azuredemoenvironment/ade#37); deleting a definition a set references is refused in
 * `definitions.ts`.
 */
import { ArmError, errors } from '../../arm/errors.js';
import type { ArmContext, ResourceTypeDef } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import {
  checkPreconditions,
  placeTarget,
  resourceReply,
  targetKey,
  writeTarget,
} from '../../arm/resourceOps.js';
import { isPlainObject, rejectUnknown } from '../../arm/validate.js';
import type { PolicySetDefinitionProperties } from '../../policy/index.js';
import { deleteResource, getResource, listResources } from '../../store/index.js';
import {
  builtInRefused,
  catalogueFilterOf,
  catalogueList,
  customEntryReply,
  customProperties,
} from './catalogueOps.js';
import {
  AUTHORIZATION_POLICY_API_VERSIONS,
  ancestorGroupKeys,
  assignmentOf,
  compileSetOrRefuse,
  definitionNotFound,
  definitionScopeKey,
  type LoadedDefinition,
  loadDefinition,
  SET_DEFINITION_TYPE,
  setNotFound,
} from './model.js';

const PROPERTY_MEMBERS = [
  'displayName',
  'description',
  'policyType',
  'metadata',
  'parameters',
  'policyDefinitions',
  'policyDefinitionGroups',
  'version',
  'versions',
];
const REFERENCE_MEMBERS = [
  'policyDefinitionId',
  'policyDefinitionReferenceId',
  'parameters',
  'groupNames',
  'definitionVersion',
];
const SET_ID = /\/providers\/Microsoft\.Authorization\/policySetDefinitions\/[^/]+$/i;

function invalidRequest(name: string, reason: string): ArmError {
  return new ArmError({
    status: 400,
    code: 'InvalidCreatePolicySetDefinitionRequest',
    message: `The policy set definition '${name}' request is invalid. ${reason}`,
  });
}

/** The member definitions, each found and visible from the set's scope. */
async function loadMembers(
  ctx: ArmContext,
  name: string,
  references: Record<string, unknown>[],
): Promise<Map<string, LoadedDefinition>> {
  const setScope = keyOf(ctx.parsed.scope.id);
  const visibleScopes = new Set([setScope, ...(await ancestorGroupKeys(ctx.db, setScope))]);
  const members = new Map<string, LoadedDefinition>();
  const elsewhere: string[] = [];
  for (const reference of references) {
    const id = reference.policyDefinitionId;
    if (typeof id !== 'string' || id === '') continue;
    if (SET_ID.test(id)) {
      throw invalidRequest(
        name,
        "Referenced policy definitions must be of type 'Microsoft.Authorization/policyDefinitions'.",
      );
    }
    const definition = await loadDefinition(ctx.db, id);
    if (!definition) throw definitionNotFound(id);
    const builtIn = String(definition.body.properties?.policyType) === 'BuiltIn';
    if (!builtIn && !visibleScopes.has(definitionScopeKey(definition.id))) elsewhere.push(definition.name);
    members.set(keyOf(id), definition);
  }
  if (elsewhere.length > 0) {
    throw invalidRequest(
      name,
      `Policy definitions should be specified only at or above the policy set definition's scope. The following policy definitions are invalid: '${elsewhere.join(',')}'.`,
    );
  }
  return members;
}

export const policySetDefinitionsType: ResourceTypeDef = {
  namespace: 'Microsoft.Authorization',
  type: 'policySetDefinitions',
  apiVersions: AUTHORIZATION_POLICY_API_VERSIONS,
  scopes: ['tenant', 'managementGroup', 'subscription'],
  // The tenant path (built-in sets) is readable by every signed-in principal, as built-in definitions are.
  publicRead: (parsed) => parsed.scope.kind === 'tenant',
  async get(ctx) {
    return customEntryReply(ctx, setNotFound);
  },
  async put(ctx) {
    const name = ctx.parsed.target.names[0]!;
    if (ctx.parsed.scope.kind === 'tenant') throw builtInRefused('set', name);
    const properties = customProperties(ctx, 'set', PROPERTY_MEMBERS);
    if (properties.policyDefinitions === undefined)
      throw errors.missingRequiredParameter('policyDefinitions');
    const references: Record<string, unknown>[] = Array.isArray(properties.policyDefinitions)
      ? properties.policyDefinitions
      : [];
    references.forEach((reference, index) => {
      if (!isPlainObject(reference)) {
        throw errors.invalidRequestContent(`The 'properties.policyDefinitions[${index}]' must be an object.`);
      }
      rejectUnknown(
        reference,
        REFERENCE_MEMBERS,
        'PolicyDefinitionReference',
        `properties.policyDefinitions[${index}]`,
      );
    });
    const members = await loadMembers(ctx, name, references);
    const compiled = compileSetOrRefuse(properties as PolicySetDefinitionProperties, name, members);
    const placement = await placeTarget(ctx);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    const stored = await writeTarget(
      ctx,
      placement,
      {
        properties: {
          ...properties,
          policyType: 'Custom',
          policyDefinitions: compiled.references,
          ...(properties.policyDefinitionGroups === undefined
            ? {}
            : { policyDefinitionGroups: compiled.groups }),
        },
      },
      existing,
    );
    return resourceReply(stored, existing ? 200 : 201);
  },
  async delete(ctx) {
    const name = ctx.parsed.target.names[0]!;
    if (ctx.parsed.scope.kind === 'tenant') throw builtInRefused('set', name);
    const key = targetKey(ctx);
    const existing = await getResource(ctx.db, key);
    if (!existing) return { status: 204 };
    const user = await assignmentOf(ctx.db, key);
    if (user) {
      throw new ArmError({
        status: 400,
        code: 'InvalidDeletePolicySetDefinitionRequest',
        message: `The policy set definition '${existing.name}' cannot be deleted. It is referenced by the policy assignment '${user.id}'. Please delete all policy assignments referencing the policy.`,
      });
    }
    await deleteResource(ctx.db, key);
    return { status: 200 };
  },
  async list(ctx) {
    return catalogueList(ctx, {
      filter: catalogueFilterOf(ctx, { atExactScope: true }),
      builtIns: [],
      async visibleCustom({ atExactScope }) {
        const here = keyOf(ctx.parsed.scope.id);
        const visible = new Set(atExactScope ? [here] : [here, ...(await ancestorGroupKeys(ctx.db, here))]);
        const all = await listResources(ctx.db, { type: SET_DEFINITION_TYPE, limit: 100_000 });
        return all.filter((set) => visible.has(set.parentKey)).map((set) => set.body);
      },
    });
  },
};
