/**
 * `Microsoft.Resources/deployments` at subscription and resource-group scope, read-only: the records
 * of the deployments remediation tasks run (Azure names them `PolicyDeployment_…`). vaplane does not
 * accept user template deployments.
 */
import { randomUUID } from 'node:crypto';
import { ArmError } from '../../arm/errors.js';
import type { Principal } from '../../arm/identity.js';
import type { ResourceTypeDef } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import { listReply, readTarget, resourceReply } from '../../arm/resourceOps.js';
import type { DeploymentPlan, JsonObject } from '../../policy/index.js';
import { type ArmBody, type Db, putResource, type StoredResource } from '../../store/index.js';
import { RESOURCES_API_VERSIONS } from '../resources/apiVersions.js';
import { DEPLOYMENT_TYPE } from './model.js';

export const deploymentsType: ResourceTypeDef = {
  namespace: 'Microsoft.Resources',
  type: 'deployments',
  apiVersions: RESOURCES_API_VERSIONS,
  scopes: ['subscription', 'resourceGroup'],
  async get(ctx) {
    return resourceReply(await readTarget(ctx));
  },
  async put() {
    throw new ArmError({
      status: 400,
      code: 'UnsupportedPolicyFeature',
      message: 'vaplane runs deployments for policy remediation only; template deployments are not accepted.',
    });
  },
  async list(ctx) {
    const scope = ctx.parsed.scope;
    return listReply(ctx, {
      type: DEPLOYMENT_TYPE,
      subscriptionId: scope.subscriptionId!.toLowerCase(),
      ...(scope.resourceGroup !== undefined ? { resourceGroup: scope.resourceGroup.toLowerCase() } : {}),
    });
  },
};

/** The scope id a deployment plan runs at. */
export function deploymentScopeId(plan: DeploymentPlan): string {
  return plan.scope.kind === 'subscription'
    ? `/subscriptions/${plan.scope.subscriptionId}`
    : `/subscriptions/${plan.scope.subscriptionId}/resourceGroups/${plan.scope.resourceGroupName}`;
}

/**
 * The id a template resource is PUT at: `type` `A.B/t1/providers/t2` with `name` `n1/C.D/n2` becomes
 * `{scope}/providers/A.B/t1/n1/providers/C.D/t2/n2`.
 */
export function templateResourceId(scopeId: string, resource: JsonObject): string {
  const [namespace, ...types] = String(resource.type).split('/');
  const names = String(resource.name).split('/');
  if (types.length !== names.length) {
    throw new ArmError({
      status: 400,
      code: 'InvalidTemplate',
      message: `The template resource '${resource.name}' for type '${resource.type}' has an incorrect segment length. A nested resource type must have identical number of segments as its resource name.`,
    });
  }
  return `${scopeId}/providers/${namespace}/${types.map((type, k) => `${type}/${names[k]}`).join('/')}`;
}

/** What a template resource's PUT carries: everything but the template-only members. */
export function templateResourceBody(resource: JsonObject): JsonObject {
  const {
    type: _t,
    apiVersion: _a,
    name: _n,
    condition: _c,
    dependsOn: _d,
    comments: _m,
    copy: _copy,
    ...body
  } = resource;
  return body;
}

export async function recordDeployment(
  db: Db,
  options: {
    scopeId: string;
    plan: DeploymentPlan;
    principal: Principal;
    state: 'Running' | 'Succeeded' | 'Failed';
    outputResources: string[];
    error?: ArmBody;
    now: Date;
    existing?: StoredResource;
  },
): Promise<StoredResource> {
  const name = options.existing?.name ?? `PolicyDeployment_${randomUUID().replace(/-/g, '').slice(0, 19)}`;
  const id = `${options.scopeId}/providers/Microsoft.Resources/deployments/${name}`;
  const at = options.now.toISOString();
  const group = /\/resourceGroups\/([^/]+)/i.exec(options.scopeId)?.[1];
  const resource: StoredResource = {
    key: keyOf(id),
    id,
    type: DEPLOYMENT_TYPE,
    subscriptionId: /^\/subscriptions\/([^/]+)/i.exec(options.scopeId)![1]!.toLowerCase(),
    resourceGroup: group?.toLowerCase() ?? null,
    parentKey: keyOf(options.scopeId),
    name,
    body: {
      id,
      name,
      type: 'Microsoft.Resources/deployments',
      ...(options.plan.location ? { location: options.plan.location } : {}),
      properties: {
        provisioningState: options.state,
        mode: options.plan.mode,
        parameters: options.plan.parameters,
        timestamp: at,
        outputResources: options.outputResources.map((outputId) => ({ id: outputId })),
        ...(options.error ? { error: options.error } : {}),
      },
    },
    etag: `"${randomUUID()}"`,
    createdAt: options.existing?.createdAt ?? at,
    updatedAt: at,
  };
  await putResource(db, resource);
  return resource;
}
