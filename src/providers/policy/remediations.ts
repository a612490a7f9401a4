/**
 * `Microsoft.PolicyInsights/remediations` at management group, subscription and resource group scope.
 * Creating one picks the assignment's NonCompliant DeployIfNotExists resources within the task's scope
 * and location filter (at most `resourceCount`) and records one pending deployment per resource. After
 * the PUT commits, a runner deploys them `parallelDeployments` at a time as the assignment's managed
 * identity: each template resource is PUT through the registry (RBAC and the owning provider's
 * validation apply), recorded as a `Microsoft.Resources/deployments`. Failures beyond
 * `failureThreshold.percentage` stop the task; `cancel` stops it between deployments. Each remediated
 * resource is re-evaluated as its deployment is recorded (the written resources are also evaluated
 * again by the write trigger). A set assignment is remediated one member at a time: the task names it
 * by `policyDefinitionReferenceId` and deploys only that member.
 */
import { randomUUID } from 'node:crypto';
import { uuidFromHash } from '../../arm/auth.js';
import { createDispatcher } from '../../arm/dispatch.js';
import { ArmError, errors } from '../../arm/errors.js';
import type { ArmContext, Registry, ResourceTypeDef, Services } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import {
  checkPreconditions,
  collectionQuery,
  listReply,
  placeTarget,
  readTarget,
  resourceReply,
  writeTarget,
} from '../../arm/resourceOps.js';
import { objectBody, optionalObject, rejectUnknown } from '../../arm/validate.js';
import { renderTemplate } from '../../policy/index.js';
import {
  type ArmBody,
  type Db,
  getResource,
  insertResources,
  inTransaction,
  listResources,
  putResource,
  type StoredResource,
} from '../../store/index.js';
import {
  deploymentScopeId,
  recordDeployment,
  templateResourceBody,
  templateResourceId,
} from './deployments.js';
import { type AssignmentInScope, assignmentInScope, judge, replaceStates } from './evaluation.js';
import {
  ASSIGNMENT_TYPE,
  type AssignedPolicy,
  assignmentPrincipal,
  isWithin,
  loadAssignable,
  REMEDIATION_API_VERSIONS,
  REMEDIATION_TYPE,
  STATE_TYPE,
  subscriptionsUnder,
} from './model.js';

const REMEDIATION_DEPLOYMENT_TYPE = 'microsoft.policyinsights/remediations/deployments';
const FINAL_STATES = new Set(['Succeeded', 'Failed', 'Canceled']);

function integerIn(value: unknown, path: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw errors.invalidRequestContent(`The '${path}' must be an integer from ${min} to ${max}.`);
  }
  return value;
}

function invalidRemediation(name: string, reason: string): ArmError {
  return new ArmError({
    status: 400,
    code: 'InvalidCreateRemediationRequest',
    message: `The request to create remediation '${name}' is invalid. ${reason}`,
  });
}

/** The policy a remediation deploys: the assignment's definition, or the set member it names. */
function remediatedPolicy(
  target: AssignmentInScope,
  remediation: StoredResource,
): AssignedPolicy | undefined {
  const referenceId = String(remediation.body.properties.policyDefinitionReferenceId ?? '').toLowerCase();
  if (!target.set) return target.policies[0];
  return target.policies.find((policy) => policy.referenceId?.toLowerCase() === referenceId);
}

async function put(ctx: ArmContext) {
  const body = objectBody(ctx.body);
  rejectUnknown(body, ['properties', 'id', 'name', 'type', 'systemData'], 'Remediation');
  const properties = optionalObject(body.properties, 'properties', 'RemediationProperties');
  rejectUnknown(
    properties,
    [
      'policyAssignmentId',
      'policyDefinitionReferenceId',
      'resourceDiscoveryMode',
      'filters',
      'resourceCount',
      'parallelDeployments',
      'failureThreshold',
    ],
    'RemediationProperties',
    'properties',
  );
  const assignmentId = properties.policyAssignmentId;
  if (typeof assignmentId !== 'string') throw errors.missingRequiredParameter('policyAssignmentId');
  const assignment = await getResource(ctx.db, keyOf(assignmentId));
  if (assignment?.type !== ASSIGNMENT_TYPE) {
    throw new ArmError({
      status: 404,
      code: 'PolicyAssignmentNotFound',
      message: `The policy assignment '${assignmentId}' is not found.`,
    });
  }
  // A set assignment is remediated one member at a time, named by its reference id (Azure answers
  // InvalidCreateRemediationRequest otherwise, Azure/enterprise-azure-policy-as-code#27).
  const referenceId = properties.policyDefinitionReferenceId;
  if (referenceId !== undefined && typeof referenceId !== 'string') {
    throw errors.invalidRequestContent("The 'properties.policyDefinitionReferenceId' must be a string.");
  }
  const assigned = await loadAssignable(ctx.db, String(assignment.body.properties.policyDefinitionId));
  const remediationName = ctx.parsed.target.names[0]!;
  if (assigned?.kind === 'set') {
    if (!referenceId) {
      throw invalidRemediation(
        remediationName,
        `The policy assignment '${assignment.id}' assigns a policy set definition. Remediations must specify a single policy definition reference ID within the policy set definition.`,
      );
    }
    if (
      !assigned.set.compiled.members.some(
        (member) => member.referenceId.toLowerCase() === referenceId.toLowerCase(),
      )
    ) {
      throw invalidRemediation(
        remediationName,
        `The policy definition reference ID '${referenceId}' is not in the policy set definition '${assigned.set.id}' that the policy assignment '${assignment.id}' assigns.`,
      );
    }
  } else if (referenceId) {
    throw invalidRemediation(
      remediationName,
      `The policy assignment '${assignment.id}' assigns a policy definition, not a policy set definition: it has no policy definition reference ID '${referenceId}'.`,
    );
  }
  const resourceCount = integerIn(properties.resourceCount, 'properties.resourceCount', 1, 50_000, 500);
  const parallelDeployments = integerIn(
    properties.parallelDeployments,
    'properties.parallelDeployments',
    1,
    30,
    10,
  );
  const threshold = optionalObject(
    properties.failureThreshold,
    'properties.failureThreshold',
    'FailureThreshold',
  );
  const percentage = threshold.percentage ?? 1;
  if (typeof percentage !== 'number' || percentage < 0 || percentage > 1) {
    throw errors.invalidRequestContent(
      "The 'properties.failureThreshold.percentage' must be a number from 0 to 1.",
    );
  }
  const filters = optionalObject(properties.filters, 'properties.filters', 'RemediationFilters');
  const locations: string[] = Array.isArray(filters.locations) ? filters.locations.map(String) : [];
  const placement = await placeTarget(ctx);
  const existing = await getResource(ctx.db, placement.key);
  checkPreconditions(ctx, existing);
  if (existing && !FINAL_STATES.has(existing.body.properties.provisioningState)) {
    throw errors.conflict('InvalidUpdateRemediationRequest', 'A running remediation cannot be updated.');
  }
  const scopeId = ctx.parsed.scope.id;
  const states = await listResources(ctx.db, {
    type: STATE_TYPE,
    parentKey: assignment.key,
    limit: 1_000_000,
  });
  // A management group's scope is its subscriptions, which its id does not prefix.
  const groupSubscriptions =
    ctx.parsed.scope.kind === 'managementGroup'
      ? new Set(await subscriptionsUnder(ctx.db, scopeId))
      : undefined;
  const inScope = (state: StoredResource) =>
    groupSubscriptions
      ? groupSubscriptions.has(String(state.subscriptionId))
      : isWithin(String(state.body.resourceId), scopeId);
  const targets = states
    .filter(
      (state) =>
        state.body.complianceState === 'NonCompliant' &&
        state.body.policyDefinitionAction === 'deployifnotexists' &&
        String(state.body.policyDefinitionReferenceId ?? '').toLowerCase() ===
          (referenceId ?? '').toLowerCase() &&
        inScope(state) &&
        (locations.length === 0 ||
          locations.some(
            (location) => location.toLowerCase() === String(state.body.resourceLocation).toLowerCase(),
          )),
    )
    .slice(0, resourceCount);
  const now = ctx.services.clock.now().toISOString();
  const stored = await writeTarget(
    ctx,
    placement,
    {
      properties: {
        policyAssignmentId: assignment.id,
        policyDefinitionReferenceId: referenceId ?? '',
        resourceDiscoveryMode: properties.resourceDiscoveryMode ?? 'ExistingNonCompliant',
        provisioningState: 'Accepted',
        createdOn: now,
        lastUpdatedOn: now,
        filters: { locations },
        deploymentStatus: {
          totalDeployments: targets.length,
          successfulDeployments: 0,
          failedDeployments: 0,
        },
        statusMessage: '',
        correlationId: randomUUID(),
        resourceCount,
        parallelDeployments,
        failureThreshold: { percentage },
      },
    },
    existing,
  );
  await ctx.db
    .deleteFrom('resources')
    .where('type', '=', REMEDIATION_DEPLOYMENT_TYPE)
    .where('parent_key', '=', stored.key)
    .execute();
  await insertResources(
    ctx.db,
    targets.map((state) => {
      const name = uuidFromHash(`${stored.key}|${state.body.resourceId}`);
      const key = `${stored.key}/deployments/${name}`;
      return {
        key,
        id: key,
        type: REMEDIATION_DEPLOYMENT_TYPE,
        subscriptionId: state.subscriptionId,
        resourceGroup: state.resourceGroup,
        parentKey: stored.key,
        name,
        body: {
          remediatedResourceId: state.body.resourceId,
          resourceLocation: state.body.resourceLocation,
          status: 'NotStarted',
          createdOn: now,
          lastUpdatedOn: now,
        },
        etag: '"0"',
        createdAt: now,
        updatedAt: now,
      };
    }),
  );
  return resourceReply(stored, existing ? 200 : 201);
}

/** The remediation a POST action addresses (the path ends in the action's name). */
async function actionTarget(ctx: ArmContext): Promise<StoredResource> {
  const remediation = await getResource(ctx.db, keyOf(ctx.parsed.path.replace(/\/[^/]+\/?$/, '')));
  if (remediation?.type !== REMEDIATION_TYPE) throw errors.scopedResourceNotFound(ctx.parsed.path);
  return remediation;
}

async function cancel(ctx: ArmContext) {
  const remediation = await actionTarget(ctx);
  const state = remediation.body.properties.provisioningState;
  if (FINAL_STATES.has(state)) {
    throw errors.conflict(
      'InvalidCancelRemediationRequest',
      `The remediation is already '${state}' and cannot be canceled.`,
    );
  }
  remediation.body.properties.provisioningState = 'Cancelling';
  await putResource(ctx.db, remediation);
  return resourceReply(remediation);
}

async function listDeployments(ctx: ArmContext) {
  const remediation = await actionTarget(ctx);
  const rows = await listResources(ctx.db, {
    type: REMEDIATION_DEPLOYMENT_TYPE,
    parentKey: remediation.key,
    limit: 1_000_000,
  });
  return { status: 200, body: { value: rows.map((row) => row.body) } };
}

export const remediationsType: ResourceTypeDef = {
  namespace: 'Microsoft.PolicyInsights',
  type: 'remediations',
  apiVersions: REMEDIATION_API_VERSIONS,
  scopes: ['managementGroup', 'subscription', 'resourceGroup'],
  async get(ctx) {
    return resourceReply(await readTarget(ctx));
  },
  put,
  async delete(ctx) {
    const remediation = await getResource(ctx.db, keyOf(ctx.parsed.path));
    if (!remediation) return { status: 204 };
    await ctx.db.deleteFrom('resources').where('parent_key', '=', remediation.key).execute();
    await ctx.db.deleteFrom('resources').where('key', '=', remediation.key).execute();
    return resourceReply(remediation);
  },
  async list(ctx) {
    return listReply(ctx, await collectionQuery(ctx));
  },
  actions: { cancel, listdeployments: listDeployments },
  readActions: ['listdeployments'],
};

// ─── The runner ──────────────────────────────────────────────────────────────────────────────────

/** Starts remediations that are Accepted whenever a remediation write commits. */
export function registerRemediationRunner(registry: Registry, services: Services): void {
  const dispatch = createDispatcher(registry, services);
  const running = new Set<string>();
  let scanning = false;

  async function setProperties(db: Db, key: string, change: ArmBody): Promise<StoredResource | undefined> {
    const remediation = await getResource(db, key);
    if (!remediation) return undefined;
    remediation.body.properties = {
      ...remediation.body.properties,
      ...change,
      lastUpdatedOn: services.clock.now().toISOString(),
    };
    await putResource(db, remediation);
    return remediation;
  }

  /**
   * Deploys for one resource. The row is marked Running first, so that a restart can tell a
   * deployment that may have been half done: it is re-checked, and if its resource is now compliant it
   * succeeded without a second deployment.
   */
  async function deployOne(remediation: StoredResource, row: StoredResource): Promise<boolean> {
    const now = services.clock.now();
    const resourceId = String(row.body.remediatedResourceId);
    const halfDone = row.body.status === 'Running';
    let deploymentId: string | undefined;
    let error: ArmBody | undefined;
    let alreadyCompliant = false;
    let remediated: { target: AssignmentInScope; policy: AssignedPolicy; subscriptionId: string } | undefined;
    try {
      if (!halfDone) {
        await inTransaction(services.store.db, async (tx) => {
          const current = await getResource(tx, row.key);
          if (!current) return;
          current.body = { ...current.body, status: 'Running', lastUpdatedOn: now.toISOString() };
          await putResource(tx, current);
        });
      }
      const assignment = await getResource(
        services.store.db,
        keyOf(remediation.body.properties.policyAssignmentId),
      );
      const target = assignment && (await assignmentInScope(services.store.db, assignment, now));
      const policy = target && remediatedPolicy(target, remediation);
      if (!target || !policy)
        throw errors.scopedResourceNotFound(remediation.body.properties.policyAssignmentId);
      remediated = {
        target,
        policy,
        subscriptionId: /^\/subscriptions\/([^/]+)/i.exec(resourceId)![1]!.toLowerCase(),
      };
      const [evaluated] = (
        await judge(
          services.store.db,
          target,
          remediated.subscriptionId,
          now,
          { kind: 'keys', keys: new Set([keyOf(resourceId)]) },
          [policy],
        )
      ).evaluated;
      alreadyCompliant = halfDone && evaluated?.evaluation.state === 'Compliant';
      const plan =
        evaluated && 'check' in evaluated.evaluation ? evaluated.evaluation.check.deployment : undefined;
      if (!alreadyCompliant) {
        if (!evaluated || !plan)
          throw errors.badRequest(`The resource '${resourceId}' no longer needs a deployment.`);
        const principal = assignmentPrincipal(assignment, String(assignment.body.identity?.tenantId ?? ''));
        const scopeId = deploymentScopeId(plan);
        const rendered = renderTemplate(plan.template, plan.parameters, {
          now,
          subscription: evaluated.view.subscription,
          ...(evaluated.view.resourceGroup && plan.scope.kind === 'resourceGroup'
            ? { resourceGroup: evaluated.view.resourceGroup }
            : {}),
        });
        const deployment = await inTransaction(services.store.db, (tx) =>
          recordDeployment(tx, { scopeId, plan, principal, state: 'Running', outputResources: [], now }),
        );
        deploymentId = deployment.id;
        const outputs: string[] = [];
        for (const resource of rendered.resources) {
          const id = templateResourceId(scopeId, resource);
          const apiVersion = String(resource.apiVersion);
          const reply = await dispatch({
            method: 'PUT',
            url: `${id}?api-version=${encodeURIComponent(apiVersion)}`,
            headers: {},
            body: templateResourceBody(resource),
            principal,
            baseUrl: 'https://management.vaplane.internal',
          });
          if (reply.status >= 400)
            throw new ArmError({
              status: reply.status,
              code: 'DeploymentFailed',
              message: JSON.stringify(reply.body),
            });
          outputs.push(id);
        }
        await inTransaction(services.store.db, (tx) =>
          recordDeployment(tx, {
            scopeId,
            plan,
            principal,
            state: 'Succeeded',
            outputResources: outputs,
            now,
            existing: deployment,
          }),
        );
      }
    } catch (failure) {
      error =
        failure instanceof ArmError
          ? failure.toBody().error
          : { code: 'InternalServerError', message: 'The deployment failed unexpectedly.' };
    }
    await inTransaction(services.store.db, async (tx) => {
      const current = await getResource(tx, row.key);
      if (!current) return;
      current.body = {
        ...current.body,
        status: error ? 'Failed' : 'Succeeded',
        ...(deploymentId ? { deploymentId } : {}),
        ...(error ? { error } : {}),
        lastUpdatedOn: services.clock.now().toISOString(),
      };
      await putResource(tx, current);
      // The remediated resource's state, at once: the task's outcome is readable when it ends.
      if (remediated) {
        const at = services.clock.now();
        const candidates = { kind: 'keys', keys: new Set([keyOf(resourceId)]) } as const;
        const judgement = await judge(tx, remediated.target, remediated.subscriptionId, at, candidates, [
          remediated.policy,
        ]);
        await replaceStates(tx, remediated.target, judgement, [remediated.policy], at);
      }
    });
    return !error;
  }

  /** Runs an Accepted task; `resuming` (after a restart) also continues a Running or Cancelling one. */
  async function run(key: string, resuming: boolean): Promise<void> {
    const started = await inTransaction(services.store.db, async (tx) => {
      const remediation = await getResource(tx, key);
      const state = remediation?.body.properties.provisioningState;
      if (state === 'Accepted') return setProperties(tx, key, { provisioningState: 'Running' });
      return resuming && (state === 'Running' || state === 'Cancelling') ? remediation : undefined;
    });
    if (!started) return;
    const properties = started.body.properties;
    const rows = await listResources(services.store.db, {
      type: REMEDIATION_DEPLOYMENT_TYPE,
      parentKey: key,
      limit: 1_000_000,
    });
    const pending = rows.filter((row) => row.body.status === 'NotStarted' || row.body.status === 'Running');
    const total = properties.deploymentStatus.totalDeployments as number;
    let succeeded = rows.filter((row) => row.body.status === 'Succeeded').length;
    let failed = rows.filter((row) => row.body.status === 'Failed').length;
    let stopped: 'Failed' | 'Canceled' | undefined;
    let next = 0;
    async function worker(): Promise<void> {
      while (next < pending.length && !stopped) {
        const current = await getResource(services.store.db, key);
        if (current?.body.properties.provisioningState === 'Cancelling') {
          stopped = 'Canceled';
          return;
        }
        // Another worker may have taken the last deployment while this one read the task.
        const row = pending[next++];
        if (!row) return;
        if (await deployOne(started!, row)) succeeded++;
        else failed++;
        await inTransaction(services.store.db, (tx) =>
          setProperties(tx, key, {
            deploymentStatus: {
              totalDeployments: total,
              successfulDeployments: succeeded,
              failedDeployments: failed,
            },
          }),
        );
        if (total > 0 && failed / total > properties.failureThreshold.percentage) stopped = 'Failed';
      }
    }
    await Promise.all(
      Array.from({ length: Math.min(properties.parallelDeployments, pending.length) }, worker),
    );
    await inTransaction(services.store.db, async (tx) => {
      const current = await getResource(tx, key);
      const state =
        stopped ??
        (current?.body.properties.provisioningState === 'Cancelling'
          ? 'Canceled'
          : failed > 0
            ? 'Failed'
            : 'Succeeded');
      await setProperties(tx, key, { provisioningState: state });
    });
  }

  /** Starts the tasks not yet running: Accepted ones, and after a restart every one not final. */
  async function scan(resuming: boolean): Promise<void> {
    if (scanning) return;
    scanning = true;
    try {
      const ready = (
        await listResources(services.store.db, { type: REMEDIATION_TYPE, limit: 100_000 })
      ).filter((remediation) => {
        const state = remediation.body.properties.provisioningState;
        return (resuming ? !FINAL_STATES.has(state) : state === 'Accepted') && !running.has(remediation.key);
      });
      for (const remediation of ready) {
        running.add(remediation.key);
        void run(remediation.key, resuming)
          .catch(() => setProperties(services.store.db, remediation.key, { provisioningState: 'Failed' }))
          .catch(() => undefined)
          .finally(() => running.delete(remediation.key));
      }
    } finally {
      scanning = false;
    }
  }

  services.onInvalidate((type) => {
    if (type === REMEDIATION_TYPE) void scan(false).catch(() => undefined);
  });
  // On start (the store is open when providers register): resume what a previous process left
  // Accepted, Running or Cancelling, from the deployments' recorded statuses.
  setImmediate(() => void scan(true).catch(() => undefined));
}
