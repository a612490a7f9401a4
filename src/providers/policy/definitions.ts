/**
 * `Microsoft.Authorization/policyDefinitions`: vaplane's built-ins at the tenant (read-only) and custom
 * definitions at management groups and subscriptions, compiled on PUT so that a bad rule, alias,
 * expression or parameter is refused at create time with the engine's ARM code.
 */
import { ArmError, errors } from '../../arm/errors.js';
import type { ArmContext, ResourceTypeDef } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import {
  checkPreconditions,
  collectionQuery,
  placeTarget,
  resourceReply,
  targetKey,
  writeTarget,
} from '../../arm/resourceOps.js';
import { objectBody, optionalObject, rejectUnknown } from '../../arm/validate.js';
import { BUILT_IN_DEFINITIONS, builtInDefinition } from '../../policy/builtins/index.js';
import type { PolicyDefinitionProperties } from '../../policy/index.js';
import { deleteResource, getResource, listResources } from '../../store/index.js';
import {
  AUTHORIZATION_POLICY_API_VERSIONS,
  builtInBody,
  compileOrRefuse,
  DEFINITION_TYPE,
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

function builtInRefused(name: string): ArmError {
  return new ArmError({
    status: 400,
    code: 'InvalidPolicyDefinitionUpdate',
    message: `The policy definition '${name}' is a built-in policy definition and cannot be created, updated or deleted.`,
  });
}

/** `$filter=policyType eq 'BuiltIn'` (or Custom, Static) and `$filter=category eq '…'`, as the CLI sends them. */
function filterOf(ctx: ArmContext): { policyType?: string; category?: string } {
  const filter = ctx.query.$filter;
  if (!filter) return {};
  const match = /^\s*(policyType|category)\s+eq\s+'([^']*)'\s*$/i.exec(filter);
  if (!match)
    throw errors.invalidQueryParameter(
      '$filter',
      filter,
      "Supported: policyType eq '{value}', category eq '{value}'.",
    );
  return match[1]!.toLowerCase() === 'policytype' ? { policyType: match[2]! } : { category: match[2]! };
}

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
    const name = ctx.parsed.target.names[0]!;
    const builtIn = builtInDefinition(name);
    if (builtIn) return { status: 200, body: builtInBody(builtIn) };
    if (ctx.parsed.scope.kind === 'tenant') throw notFound(name);
    const stored = await getResource(ctx.db, targetKey(ctx));
    if (!stored) throw notFound(name);
    return resourceReply(stored);
  },
  async put(ctx) {
    const name = ctx.parsed.target.names[0]!;
    if (builtInDefinition(name) || ctx.parsed.scope.kind === 'tenant') throw builtInRefused(name);
    const body = objectBody(ctx.body);
    rejectUnknown(body, ['properties', 'id', 'name', 'type', 'systemData'], 'PolicyDefinition');
    const properties = optionalObject(body.properties, 'properties', 'PolicyDefinitionProperties');
    rejectUnknown(properties, PROPERTY_MEMBERS, 'PolicyDefinitionProperties', 'properties');
    if (properties.policyType !== undefined && String(properties.policyType).toLowerCase() !== 'custom') {
      throw new ArmError({
        status: 400,
        code: 'InvalidPolicyType',
        message: `The policy type '${properties.policyType}' is not allowed. Only 'Custom' policy definitions can be created or updated.`,
      });
    }
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
    if (builtInDefinition(name) || ctx.parsed.scope.kind === 'tenant') throw builtInRefused(name);
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
    const removed = await deleteResource(ctx.db, key);
    return { status: removed ? 200 : 204 };
  },
  async list(ctx) {
    const { policyType, category } = filterOf(ctx);
    const builtIns = BUILT_IN_DEFINITIONS.map(builtInBody);
    let custom: unknown[] = [];
    if (ctx.parsed.scope.kind !== 'tenant') {
      await collectionQuery(ctx);
      // A scope sees its own definitions and those of management groups (vaplane does not narrow them to
      // the groups above a subscription).
      const all = await listResources(ctx.db, { type: DEFINITION_TYPE, limit: 100_000 });
      const here = ctx.parsed.path.toLowerCase();
      custom = all
        .filter(
          (definition) =>
            here.startsWith(`${definition.parentKey}/`) ||
            definition.parentKey.startsWith('/providers/microsoft.management/'),
        )
        .map((definition) => definition.body);
    }
    const value = [...builtIns, ...custom].filter((body) => {
      const properties = (body as { properties: Record<string, unknown> }).properties;
      if (policyType && String(properties.policyType).toLowerCase() !== policyType.toLowerCase())
        return false;
      const metadata = properties.metadata as Record<string, unknown> | undefined;
      if (category && String(metadata?.category ?? '').toLowerCase() !== category.toLowerCase()) return false;
      return true;
    });
    return { status: 200, body: { value } };
  },
};

function notFound(name: string): ArmError {
  return new ArmError({
    status: 404,
    code: 'PolicyDefinitionNotFound',
    message: `The policy definition '${name}' could not be found.`,
  });
}
