/**
 * `Microsoft.Authorization/policyDefinitions`: vaplane's built-ins at the tenant (read-only) and custom
 * definitions at management groups and subscriptions, compiled on PUT so that a bad rule, alias,
 * expression or parameter is refused at create time with the engine's ARM code.
 */
import { ArmError } from '../../arm/errors.js';
import type { ResourceTypeDef } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import {
  checkPreconditions,
  placeTarget,
  resourceReply,
  targetKey,
  writeTarget,
} from '../../arm/resourceOps.js';
import { BUILT_IN_DEFINITIONS, builtInDefinition } from '../../policy/builtins/index.js';
import type { PolicyDefinitionProperties } from '../../policy/index.js';
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
  builtInBody,
  compileOrRefuse,
  DEFINITION_TYPE,
  definitionNotFound,
  SET_DEFINITION_TYPE,
} from './model.js';

const PROPERTY_MEMBERS = [
  'displayName',
  'description',
  'policyType',
  'mode',
  'metadata',
  'parameters',
  'policyRule',
  'version',
  'versions',
];

export const policyDefinitionsType: ResourceTypeDef = {
  namespace: 'Microsoft.Authorization',
  type: 'policyDefinitions',
  apiVersions: AUTHORIZATION_POLICY_API_VERSIONS,
  scopes: ['tenant', 'managementGroup', 'subscription'],
  // Built-in definitions are readable by every signed-in principal, as in Azure (the portal lists them
  // for a Reader of a single subscription); custom ones follow RBAC.
  publicRead: (parsed) =>
    parsed.target.names.length === 0
      ? parsed.scope.kind === 'tenant'
      : builtInDefinition(parsed.target.names[0]!) !== undefined,
  async get(ctx) {
    const builtIn = builtInDefinition(ctx.parsed.target.names[0]!);
    if (builtIn) return { status: 200, body: builtInBody(builtIn) };
    return customEntryReply(ctx, definitionNotFound);
  },
  async put(ctx) {
    const name = ctx.parsed.target.names[0]!;
    if (builtInDefinition(name) || ctx.parsed.scope.kind === 'tenant')
      throw builtInRefused('definition', name);
    const properties = customProperties(ctx, 'definition', PROPERTY_MEMBERS);
    compileOrRefuse(properties as PolicyDefinitionProperties, name);
    const placement = await placeTarget(ctx);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    const stored = await writeTarget(
      ctx,
      placement,
      { properties: { ...properties, policyType: 'Custom', mode: properties.mode ?? 'Indexed' } },
      existing,
    );
    return resourceReply(stored, 201);
  },
  async delete(ctx) {
    const name = ctx.parsed.target.names[0]!;
    if (builtInDefinition(name) || ctx.parsed.scope.kind === 'tenant')
      throw builtInRefused('definition', name);
    const key = targetKey(ctx);
    // A definition a set references stays until the set no longer does (Azure answers 400
    // InvalidDeletePolicyDefinitionRequest, Azure/terraform-azurerm-caf-enterprise-scale#81).
    const sets = await listResources(ctx.db, { type: SET_DEFINITION_TYPE, limit: 100_000 });
    const referencing = sets.find((set) =>
      (set.body.properties?.policyDefinitions ?? []).some(
        (reference: { policyDefinitionId?: unknown }) =>
          keyOf(String(reference.policyDefinitionId ?? '')) === key,
      ),
    );
    if (referencing) {
      throw new ArmError({
        status: 400,
        code: 'InvalidDeletePolicyDefinitionRequest',
        message: `The policy definition '${name}' cannot be deleted. It is referenced by the policy set definition '${referencing.id}'. Please remove this policy definition from all policy set definitions that reference it.`,
      });
    }
    // So does one an assignment assigns (Azure words it as for sets: "…referenced by the policy
    // assignment '…'. Please delete all policy assignments referencing the policy.").
    const user = await assignmentOf(ctx.db, key);
    if (user) {
      throw new ArmError({
        status: 400,
        code: 'InvalidDeletePolicyDefinitionRequest',
        message: `The policy definition '${name}' cannot be deleted. It is referenced by the policy assignment '${user.id}'. Please delete all policy assignments referencing the policy.`,
      });
    }
    const removed = await deleteResource(ctx.db, key);
    return { status: removed ? 200 : 204 };
  },
  async list(ctx) {
    return catalogueList(ctx, {
      filter: catalogueFilterOf(ctx, { atExactScope: false }),
      builtIns: BUILT_IN_DEFINITIONS.map(builtInBody),
      // A scope sees its own definitions and those of the management groups above it, as Azure lists them.
      async visibleCustom() {
        const here = keyOf(ctx.parsed.scope.id);
        const visible = new Set([here, ...(await ancestorGroupKeys(ctx.db, here))]);
        const all = await listResources(ctx.db, { type: DEFINITION_TYPE, limit: 100_000 });
        return all
          .filter((definition) => visible.has(definition.parentKey))
          .map((definition) => definition.body);
      },
    });
  },
};
