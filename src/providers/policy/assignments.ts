/**
 * `Microsoft.Authorization/policyAssignments` at management group, subscription and resource group
 * scope. A PUT checks the definition or policy set definition and binds the parameters (the engine's
 * errors, at create time; for a set, its own parameters and then every member's rendered from them),
 * gives a `SystemAssigned` identity a principal id and — as the portal does — the roles its
 * definition's (or its members') `roleDefinitionIds` name at the assignment's scope, then schedules the
 * assignment's first evaluation as a background operation.
 */
import { ArmError, errors } from '../../arm/errors.js';
import type { ArmContext, ResourceTypeDef } from '../../arm/registry.js';
import {
  checkPreconditions,
  collectionQuery,
  listReply,
  placeTarget,
  readTarget,
  resourceReply,
  targetKey,
  writeTarget,
} from '../../arm/resourceOps.js';
import { expectEnum, isPlainObject, objectBody, optionalObject, rejectUnknown } from '../../arm/validate.js';
import { deleteResourceTree, getResource } from '../../store/index.js';
import { grantRole } from '../authorization/index.js';
import { EVALUATE_ASSIGNMENT, evaluationStyle } from './jobs.js';
import {
  AUTHORIZATION_POLICY_API_VERSIONS,
  assignedPolicies,
  definitionNotFound,
  identityPrincipalId,
  loadAssignable,
  requiredRoleIds,
  setNotFound,
} from './model.js';

const PROPERTY_MEMBERS = [
  'displayName',
  'description',
  'policyDefinitionId',
  'parameters',
  'notScopes',
  'enforcementMode',
  'metadata',
  'nonComplianceMessages',
  'scope',
  'definitionVersion',
];

function scopeIdOf(ctx: ArmContext): string {
  return ctx.parsed.scope.id;
}

export const policyAssignmentsType: ResourceTypeDef = {
  namespace: 'Microsoft.Authorization',
  type: 'policyAssignments',
  apiVersions: AUTHORIZATION_POLICY_API_VERSIONS,
  scopes: ['managementGroup', 'subscription', 'resourceGroup'],
  async get(ctx) {
    return resourceReply(await readTarget(ctx));
  },
  async put(ctx) {
    const name = ctx.parsed.target.names[0]!;
    const body = objectBody(ctx.body);
    rejectUnknown(
      body,
      ['properties', 'identity', 'location', 'id', 'name', 'type', 'systemData'],
      'PolicyAssignment',
    );
    const properties = optionalObject(body.properties, 'properties', 'PolicyAssignmentProperties');
    rejectUnknown(properties, PROPERTY_MEMBERS, 'PolicyAssignmentProperties', 'properties');
    const definitionId = properties.policyDefinitionId;
    if (typeof definitionId !== 'string' || definitionId === '')
      throw errors.missingRequiredParameter('policyDefinitionId');
    const assignable = await loadAssignable(ctx.db, definitionId);
    if (!assignable) {
      throw /\/policySetDefinitions\//i.test(definitionId)
        ? setNotFound(definitionId)
        : definitionNotFound(definitionId);
    }
    if (properties.parameters !== undefined && !isPlainObject(properties.parameters)) {
      throw errors.invalidRequestContent("The 'properties.parameters' must be an object.");
    }
    const { policies } = assignedPolicies(assignable, properties.parameters, name, ctx.services.clock.now());
    const assignedId = assignable.kind === 'set' ? assignable.set.id : assignable.definition.id;
    const enforcementMode =
      properties.enforcementMode === undefined
        ? 'Default'
        : expectEnum(
            properties.enforcementMode,
            ['Default', 'DoNotEnforce'] as const,
            'properties.enforcementMode',
          );
    const notScopes = properties.notScopes ?? [];
    if (!Array.isArray(notScopes) || notScopes.some((scope) => typeof scope !== 'string')) {
      throw errors.invalidRequestContent("The 'properties.notScopes' must be an array of resource ids.");
    }
    const identity = optionalObject(body.identity, 'identity', 'Identity');
    const identityType =
      identity.type === undefined
        ? 'None'
        : expectEnum(identity.type, ['SystemAssigned', 'None'] as const, 'identity.type');
    const location = typeof body.location === 'string' ? body.location : undefined;
    if (identityType === 'SystemAssigned' && !location) {
      throw new ArmError({
        status: 400,
        code: 'LocationRequired',
        message: 'The location property is required for this definition when a managed identity is assigned.',
      });
    }
    const placement = await placeTarget(ctx);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    const principalId = identityPrincipalId(placement.key);
    const scope = scopeIdOf(ctx);
    const stored = await writeTarget(
      ctx,
      placement,
      {
        ...(location ? { location } : {}),
        ...(identityType === 'SystemAssigned'
          ? { identity: { type: 'SystemAssigned', principalId, tenantId: ctx.principal.tenantId } }
          : { identity: { type: 'None' } }),
        properties: {
          ...(properties.displayName === undefined ? {} : { displayName: properties.displayName }),
          ...(properties.description === undefined ? {} : { description: properties.description }),
          policyDefinitionId: assignedId,
          definitionVersion: properties.definitionVersion ?? '1.*.*',
          ...(properties.metadata === undefined ? {} : { metadata: properties.metadata }),
          ...(properties.parameters === undefined ? {} : { parameters: properties.parameters }),
          ...(properties.nonComplianceMessages === undefined
            ? {}
            : { nonComplianceMessages: properties.nonComplianceMessages }),
          scope,
          notScopes,
          enforcementMode,
        },
      },
      existing,
    );
    if (identityType === 'SystemAssigned') {
      // A set's identity gets every role its members need, once each.
      for (const roleId of requiredRoleIds(policies)) {
        await grantRole(ctx.db, {
          scope,
          roleId,
          principalId,
          principalType: 'ServicePrincipal',
          by: ctx.principal.objectId,
          now: ctx.services.clock.now(),
        });
      }
    }
    await ctx.services.lro.start(ctx, {
      kind: EVALUATE_ASSIGNMENT,
      namespace: 'Microsoft.PolicyInsights',
      location: location ?? 'global',
      targetKey: stored.key,
      input: { assignmentKey: stored.key },
      style: evaluationStyle,
    });
    return resourceReply(stored, 201);
  },
  async delete(ctx) {
    const existing = await getResource(ctx.db, targetKey(ctx));
    if (!existing) return { status: 204 };
    await deleteResourceTree(ctx.db, existing.key);
    return resourceReply(existing, 200);
  },
  async list(ctx) {
    return listReply(ctx, await collectionQuery(ctx));
  },
};
