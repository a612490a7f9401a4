/**
 * `Microsoft.Authorization/roleAssignments` (at any scope, inherited downwards) and the built-in
 * `roleDefinitions` that RBAC checks against.
 */

import { uuidFromHash } from '../../arm/auth.js';
import { ArmError, errors } from '../../arm/errors.js';
import { BUILT_IN_ROLES, type RoleDefinition, roleById, roleDefinitionId } from '../../arm/rbac.js';
import type { ArmContext, Registry, ResourceTypeDef } from '../../arm/registry.js';
import { isGuid, keyOf } from '../../arm/resourceId.js';
import {
  checkPreconditions,
  placeTarget,
  readTarget,
  resourceReply,
  targetKey,
  writeTarget,
} from '../../arm/resourceOps.js';
import { expectEnum, expectString, objectBody, rejectUnknown } from '../../arm/validate.js';
import {
  type ArmBody,
  type Db,
  deleteResource,
  getResource,
  listResources,
  putResource,
  type StoredResource,
} from '../../store/index.js';

export const ROLE_ASSIGNMENT_TYPE = 'microsoft.authorization/roleassignments';
const ALL_SCOPES = ['tenant', 'managementGroup', 'subscription', 'resourceGroup', 'resource'] as const;
/** Azure's limit is 4000 assignments per subscription; a list never needs more than this. */
const MAX_ASSIGNMENTS = 100_000;
const PRINCIPAL_TYPES = ['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device'] as const;

function scopeIdOf(ctx: ArmContext): string {
  return ctx.parsed.scope.id === '' ? '/' : ctx.parsed.scope.id;
}

export function roleAssignmentBody(options: {
  id: string;
  name: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
  principalType: string;
  by: string;
  at: string;
  description?: string;
}): ArmBody {
  return {
    id: options.id,
    type: 'Microsoft.Authorization/roleAssignments',
    name: options.name,
    properties: {
      roleDefinitionId: options.roleDefinitionId,
      principalId: options.principalId,
      principalType: options.principalType,
      scope: options.scope,
      condition: null,
      conditionVersion: null,
      ...(options.description ? { description: options.description } : {}),
      createdOn: options.at,
      updatedOn: options.at,
      createdBy: options.by,
      updatedBy: options.by,
      delegatedManagedIdentityResourceId: null,
    },
  };
}

/**
 * Assignments a list at the request's scope answers, as ARM's `roleAssignments` list does: those that
 * apply to the scope (at it or above, management groups included) with `$filter=atScope()`, and those
 * below it too otherwise; `principalId eq '…'` narrows either to one principal.
 */
async function assignmentsAround(ctx: ArmContext): Promise<StoredResource[]> {
  const scopeId = scopeIdOf(ctx);
  const scopeKey = scopeId === '/' ? '' : keyOf(scopeId);
  const filter = ctx.query.$filter ?? '';
  const atScopeOnly = /atScope\(\)/i.test(filter);
  const principal = /principalId\s+eq\s+'([^']+)'/i.exec(filter)?.[1]?.toLowerCase();
  const reaching = await ctx.services.authz.scopesReaching(scopeId);
  const found: StoredResource[] = [];
  for (const key of reaching) {
    found.push(
      ...(await listResources(ctx.db, {
        type: ROLE_ASSIGNMENT_TYPE,
        parentKey: key === '/' ? '' : key,
        limit: MAX_ASSIGNMENTS,
      })),
    );
  }
  if (!atScopeOnly) {
    const below =
      scopeKey === ''
        ? await listResources(ctx.db, { type: ROLE_ASSIGNMENT_TYPE, limit: MAX_ASSIGNMENTS })
        : await listResources(ctx.db, {
            type: ROLE_ASSIGNMENT_TYPE,
            underKey: scopeKey,
            limit: MAX_ASSIGNMENTS,
          });
    const seen = new Set(found.map((assignment) => assignment.key));
    found.push(...below.filter((assignment) => !seen.has(assignment.key)));
  }
  return principal
    ? found.filter((assignment) => String(assignment.body.properties.principalId).toLowerCase() === principal)
    : found;
}

const roleAssignmentsType: ResourceTypeDef = {
  namespace: 'Microsoft.Authorization',
  type: 'roleAssignments',
  apiVersions: [
    '2022-04-01',
    '2022-01-01-preview',
    '2020-10-01-preview',
    '2020-08-01-preview',
    '2020-04-01-preview',
    '2018-09-01-preview',
    '2018-01-01-preview',
    '2015-07-01',
  ],
  scopes: ALL_SCOPES,
  async get(ctx) {
    return resourceReply(await readTarget(ctx));
  },
  async list(ctx) {
    const value = (await assignmentsAround(ctx)).map((assignment) => assignment.body);
    return { status: 200, body: { value } };
  },
  async put(ctx) {
    const name = ctx.parsed.target.names[0]!;
    if (!isGuid(name)) {
      throw new ArmError({
        status: 400,
        code: 'InvalidRoleAssignmentId',
        message: `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
      });
    }
    const body = objectBody(ctx.body);
    rejectUnknown(body, ['properties', 'id', 'name', 'type'], 'RoleAssignmentCreateParameters');
    const properties = objectBody(body.properties, 'roleDefinitionId');
    rejectUnknown(
      properties,
      [
        'roleDefinitionId',
        'principalId',
        'principalType',
        'description',
        'condition',
        'conditionVersion',
        'delegatedManagedIdentityResourceId',
        'scope',
      ],
      'RoleAssignmentProperties',
      'properties',
    );
    const roleDefinitionIdValue = expectString(properties.roleDefinitionId, 'properties.roleDefinitionId')!;
    const principalId = expectString(properties.principalId, 'properties.principalId')!;
    const principalType =
      properties.principalType === undefined
        ? 'User'
        : expectEnum(properties.principalType, PRINCIPAL_TYPES, 'properties.principalType');
    const role = roleById(roleDefinitionIdValue);
    if (!role) {
      throw new ArmError({
        status: 400,
        code: 'RoleDefinitionDoesNotExist',
        message:
          "The specified role definition with ID '" +
          roleDefinitionIdValue.split('/').pop() +
          "' does not exist.",
      });
    }
    if (!isGuid(principalId)) {
      throw new ArmError({
        status: 400,
        code: 'InvalidPrincipalId',
        message: `A valid principal ID must be provided for role assignment. The provided principal ID '${principalId}' is not valid.`,
      });
    }
    const placement = await placeTarget(ctx);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    const siblings = await listResources(ctx.db, {
      type: ROLE_ASSIGNMENT_TYPE,
      parentKey: placement.parentKey,
      limit: 100_000,
    });
    const duplicate = siblings.find(
      (assignment) =>
        assignment.key !== placement.key &&
        String(assignment.body.properties.principalId).toLowerCase() === principalId.toLowerCase() &&
        roleById(String(assignment.body.properties.roleDefinitionId))?.id === role.id,
    );
    if (duplicate || existing) {
      if (
        existing &&
        roleById(String(existing.body.properties.roleDefinitionId))?.id === role.id &&
        String(existing.body.properties.principalId).toLowerCase() === principalId.toLowerCase()
      ) {
        return resourceReply(existing, 201);
      }
      throw errors.conflict('RoleAssignmentExists', 'The role assignment already exists.');
    }
    const scope = scopeIdOf(ctx);
    const shaped = roleAssignmentBody({
      id: placement.id,
      name: placement.name,
      scope:
        placement.parentKey === '' ? '/' : ((await getResource(ctx.db, placement.parentKey))?.id ?? scope),
      roleDefinitionId: roleDefinitionId(
        ctx.parsed.scope.subscriptionId ? `/subscriptions/${ctx.parsed.scope.subscriptionId}` : '/',
        role.id,
      ),
      principalId: principalId.toLowerCase(),
      principalType,
      by: ctx.principal.objectId,
      at: ctx.services.clock.now().toISOString(),
      description: typeof properties.description === 'string' ? properties.description : undefined,
    });
    const { id: _id, name: _name, type: _type, ...rest } = shaped;
    const stored = await writeTarget(ctx, placement, rest, undefined, { withSystemData: false });
    return resourceReply(stored, 201);
  },
  async delete(ctx) {
    const existing = await getResource(ctx.db, targetKey(ctx));
    if (!existing) return { status: 204 };
    await deleteResource(ctx.db, existing.key);
    return { status: 200, body: existing.body };
  },
};

function roleDefinitionBody(scope: string, role: RoleDefinition): ArmBody {
  return {
    id: roleDefinitionId(scope, role.id),
    type: 'Microsoft.Authorization/roleDefinitions',
    name: role.id,
    properties: {
      roleName: role.roleName,
      type: 'BuiltInRole',
      description: role.description,
      assignableScopes: ['/'],
      permissions: [
        { actions: role.actions, notActions: role.notActions, dataActions: [], notDataActions: [] },
      ],
    },
  };
}

const roleDefinitionsType: ResourceTypeDef = {
  namespace: 'Microsoft.Authorization',
  type: 'roleDefinitions',
  apiVersions: ['2022-05-01-preview', '2022-04-01', '2018-01-01-preview', '2015-07-01'],
  scopes: ALL_SCOPES,
  async get(ctx) {
    const role = roleById(ctx.parsed.target.names[0]!);
    if (!role) {
      throw new ArmError({
        status: 404,
        code: 'RoleDefinitionDoesNotExist',
        message: `The specified role definition with ID '${ctx.parsed.target.names[0]}' does not exist.`,
      });
    }
    return { status: 200, body: roleDefinitionBody(scopeIdOf(ctx) === '/' ? '/' : scopeIdOf(ctx), role) };
  },
  async list(ctx) {
    const wanted = /roleName\s+eq\s+'([^']+)'/i.exec(ctx.query.$filter ?? '')?.[1]?.toLowerCase();
    const roles = BUILT_IN_ROLES.filter((role) => !wanted || role.roleName.toLowerCase() === wanted);
    const scope = scopeIdOf(ctx);
    return {
      status: 200,
      body: { value: roles.map((role) => roleDefinitionBody(scope === '/' ? '/' : scope, role)) },
    };
  },
};

/**
 * Grants a built-in role outside a request (CLI, bootstrap, estate generator). Idempotent: an equal
 * assignment at the same scope is kept. Returns the assignment's id.
 */
export async function grantRole(
  db: Db,
  options: {
    scope: string;
    roleId: string;
    principalId: string;
    principalType: string;
    by: string;
    now: Date;
  },
): Promise<string> {
  const scope = options.scope === '' || options.scope === '/' ? '/' : options.scope;
  const parentKey = scope === '/' ? '' : keyOf(scope);
  const existing = await listResources(db, { type: ROLE_ASSIGNMENT_TYPE, parentKey, limit: 100_000 });
  const same = existing.find(
    (assignment) =>
      String(assignment.body.properties.principalId).toLowerCase() === options.principalId.toLowerCase() &&
      roleById(String(assignment.body.properties.roleDefinitionId))?.id === options.roleId,
  );
  if (same) return same.id;
  const name = uuidFromHash(`${parentKey}|${options.principalId}|${options.roleId}`);
  const id = `${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
  const at = options.now.toISOString();
  const subscription = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
  await putResource(db, {
    key: keyOf(id),
    id,
    type: ROLE_ASSIGNMENT_TYPE,
    subscriptionId: subscription?.toLowerCase() ?? null,
    resourceGroup: /\/resourcegroups\/([^/]+)/i.exec(scope)?.[1]?.toLowerCase() ?? null,
    parentKey,
    name,
    body: roleAssignmentBody({
      id,
      name,
      scope,
      roleDefinitionId: roleDefinitionId(
        subscription ? `/subscriptions/${subscription}` : '/',
        options.roleId,
      ),
      principalId: options.principalId.toLowerCase(),
      principalType: options.principalType,
      by: options.by,
      at,
    }),
    etag: `"${name}"`,
    createdAt: at,
    updatedAt: at,
  });
  return id;
}

export function registerAuthorizationProvider(registry: Registry): void {
  registry.register(roleAssignmentsType);
  registry.register(roleDefinitionsType);
}
