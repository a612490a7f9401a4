/**
 * Write-triggered evaluation, durable and targeted.
 *
 * Every resource write (a PUT, PATCH, DELETE or POST action through dispatch — remediation deployments
 * included — and every long-running operation that completes or fails) records, in the write's own
 * transaction, an "evaluation due" operation for the written resource: kind `EVALUATE_WRITE`, its key
 * as the target, the write time as input, due `delay` later. A record not yet done for the same
 * resource is moved instead of a second one added, so a burst of writes of one resource is evaluated
 * once. The LRO worker completes due records after a restart too (they are rows of `operations`,
 * SQLite or PostgreSQL alike) and removes each when done: nothing polls them.
 *
 * When it is due (Azure: "around 15 minutes" after a create or update, then `evaluationDelay` for
 * existence checks — effect-deploy-if-not-exists.md, default PT10M; vaplane compresses that timeline
 * by one factor, `B / 15 min`, where B is the server's `policyEvaluationDelayMs`, default 1 s):
 * - a policy without an existence check: B after the write;
 * - AuditIfNotExists / DeployIfNotExists with a duration: that duration on the same scale (PT10M is
 *   ⅔ B, 13ce0167's PT60M is 4 B; B = 900000 ms gives Azure's real timings);
 * - `AfterProvisioning…`: B after the write, and only once the written resource's
 *   `provisioningState` is final (Succeeded, Failed or Canceled; `…Success` / `…Failure` only on that
 *   outcome). Until then the record does nothing for that policy: the write that ends provisioning
 *   (an LRO completing) records the evaluation that counts. Azure's six-hour limit is not modelled.
 * A record due for some policies and not yet for others evaluates the first and records a follow-up
 * for the rest.
 *
 * What it evaluates — only what the write can change, never a whole-estate scan:
 * - the written resource against each assignment whose scope holds it (not in `notScopes`), for the
 *   policies whose `if` can match its type; a deleted resource's states (and those of everything
 *   beneath it) are removed;
 * - the resources whose existence check the written resource answers: an extension or child resource
 *   (a VM extension, `…/providers/Microsoft.Security/serverVulnerabilityAssessments/…`) re-evaluates
 *   the resource it hangs off; a related resource at subscription level (`serverVulnerability-
 *   AssessmentsSettings`, `pricings`, `settings`) re-evaluates the subscription's resources of the
 *   types the policy's `if` can match; one in a resource group, that group's (or the subscription's,
 *   with `existenceScope: Subscription` or a `resourceGroupName`);
 * - assessment ffff0522, which vaplane computes from coverage: a write under a machine (extension,
 *   legacy VA resource, machine pricing) re-evaluates that machine; any other `Microsoft.Security`
 *   write (VA setting, pricings, settings, connectors, BYOL solutions) the subscription's machines.
 * Writes of policy and ARM bookkeeping (assignments, definitions, states, remediations, deployments,
 * role assignments, management groups) record nothing: an assignment's PUT evaluates that assignment
 * alone (`EVALUATE_ASSIGNMENT`).
 */
import type { Operation } from '../../arm/lro.js';
import type { Services } from '../../arm/registry.js';
import { enclosingScopes, keyOf, parseArmPath } from '../../arm/resourceId.js';
import {
  type Effect,
  type EvaluationDelay,
  effectNamed,
  type JsonValue,
  matchedTypes,
} from '../../policy/index.js';
import { type Db, getResource, resourceFromRow, type StoredResource } from '../../store/index.js';
import { GROUP_SUBSCRIPTION_TYPE, MANAGEMENT_GROUP_TYPE } from '../management/index.js';
import { SUBSCRIPTION_TYPE } from '../resources/index.js';
import {
  type AssignmentInScope,
  assignmentInScope,
  type Candidates,
  judge,
  NOT_EVALUATED,
  policyTypeOf,
  replaceStates,
} from './evaluation.js';
import {
  ASSIGNMENT_TYPE,
  type AssignedPolicy,
  DEFINITION_TYPE,
  SET_DEFINITION_TYPE,
  STATE_TYPE,
} from './model.js';

export const EVALUATE_WRITE = 'policyinsights.evaluateWrite';
/** Azure's "around 15 minutes" from a write to its evaluation, the unit vaplane's delay compresses. */
const AZURE_WRITE_DELAY_MINUTES = 15;
/** Another server on the same PostgreSQL database may change assignments: reload at least this often. */
const INDEX_TTL_MS = 5000;
const ASSESSMENTS = 'microsoft.security/assessments';
const MACHINE = /\/providers\/microsoft\.(compute\/virtualmachines|hybridcompute\/machines)\/[^/]+$/;
const RESOURCE_GROUP = /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+$/;

interface IndexedPolicy {
  policy: AssignedPolicy;
  /** How long after a write this policy evaluates it. */
  delayMs: number;
  provisioning?: Exclude<EvaluationDelay['kind'], 'Duration'>;
  /** Policy types its `if` can match; undefined when any. */
  types?: ReadonlySet<string>;
  /** The existence check's related resources. */
  related?: { type: string; existenceScope: 'ResourceGroup' | 'Subscription'; movable: boolean };
}

interface IndexedAssignment {
  target: AssignmentInScope;
  scopeKey: string;
  policies: IndexedPolicy[];
}

/** The effect a policy has with its bound parameters, when a literal or `[parameters('…')]` says it. */
function effectOf(policy: AssignedPolicy): Effect | undefined {
  const effect = policy.definition.compiled.effect;
  let value: JsonValue | undefined;
  if (effect.kind === 'literal') value = effect.value;
  else if (effect.kind === 'expression') {
    const root = effect.expression.root;
    if (root.kind === 'call' && root.name.toLowerCase() === 'parameters' && root.args[0]?.kind === 'string')
      value = policy.parameters.get(root.args[0].value.toLowerCase());
  }
  try {
    return value === undefined ? undefined : effectNamed(value);
  } catch {
    return undefined;
  }
}

function indexPolicy(policy: AssignedPolicy, baseDelayMs: number): IndexedPolicy | undefined {
  const effect = effectOf(policy);
  if (effect === 'Disabled') return undefined;
  const { compiled } = policy.definition;
  const existence =
    compiled.existence &&
    (effect === undefined || effect === 'AuditIfNotExists' || effect === 'DeployIfNotExists')
      ? compiled.existence
      : undefined;
  const delay = existence?.evaluationDelay;
  const types = matchedTypes(compiled, policy.parameters);
  return {
    policy,
    delayMs:
      delay?.kind === 'Duration' ? (delay.minutes * baseDelayMs) / AZURE_WRITE_DELAY_MINUTES : baseDelayMs,
    ...(delay && delay.kind !== 'Duration' ? { provisioning: delay.kind } : {}),
    ...(types ? { types } : {}),
    ...(existence
      ? {
          related: {
            type: existence.type.toLowerCase(),
            existenceScope: existence.existenceScope,
            movable: existence.resourceGroupName !== undefined,
          },
        }
      : {}),
  };
}

/** The stored type a key addresses, or undefined for what is no resource of a subscription. */
function storedTypeOfKey(key: string): string | undefined {
  try {
    const { target } = parseArmPath(key);
    return `${target.namespace}/${target.types.join('/')}`.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Whether the written resource's provisioning lets an `AfterProvisioning…` policy evaluate it now. */
function provisioningAllows(policy: IndexedPolicy, resource: StoredResource): boolean {
  if (!policy.provisioning) return true;
  const state = resource.body.properties?.provisioningState;
  if (state === undefined) return true;
  const final = ['succeeded', 'failed', 'canceled'].includes(String(state).toLowerCase());
  if (!final) return false;
  const succeeded = String(state).toLowerCase() === 'succeeded';
  if (policy.provisioning === 'AfterProvisioningSuccess') return succeeded;
  if (policy.provisioning === 'AfterProvisioningFailure') return !succeeded;
  return true;
}

/** The resources whose existence check the written resource (key, stored type) answers for a policy. */
function relatedCandidates(
  policy: IndexedPolicy,
  key: string,
  storedType: string,
  subscriptionId: string,
): Candidates | undefined {
  const related = policy.related;
  if (!related) return undefined;
  const subscriptionKey = `/subscriptions/${subscriptionId}`;
  const ancestors = enclosingScopes(key)
    .map(keyOf)
    .filter((scope) => scope !== '/' && scope !== key)
    .reverse();
  const everywhere: Candidates = {
    kind: 'under',
    key: subscriptionKey,
    ...(policy.types ? { types: policy.types } : {}),
  };
  if (related.type === ASSESSMENTS) {
    const machine = ancestors.find((scope) => MACHINE.test(scope));
    if (machine) return { kind: 'keys', keys: new Set([machine]) };
    return storedType.startsWith('microsoft.security/') ? everywhere : undefined;
  }
  if (policyTypeOf(storedType) !== related.type) return undefined;
  const owner = ancestors.find((scope) => scope !== subscriptionKey && !RESOURCE_GROUP.test(scope));
  if (owner) return { kind: 'keys', keys: new Set([owner]) };
  const group = ancestors.find((scope) => RESOURCE_GROUP.test(scope));
  if (!group || related.existenceScope === 'Subscription' || related.movable) return everywhere;
  return { kind: 'under', key: group, ...(policy.types ? { types: policy.types } : {}) };
}

export interface WriteTriggers {
  /** The `afterWrite` hook: records an evaluation due for each written resource. */
  record(db: Db, keys: readonly string[]): Promise<void>;
  /** Completes an `EVALUATE_WRITE` record. */
  evaluate(db: Db, operation: Operation): Promise<void>;
}

export function createWriteTriggers(services: Services, baseDelayMs: number): WriteTriggers {
  let cache: { generation: number; loadedAt: number; entries: IndexedAssignment[] } | undefined;
  let generation = 0;
  let tree: { loadedAt: number; chains: Map<string, string[]> } | undefined;
  services.onInvalidate((type) => {
    if (type === ASSIGNMENT_TYPE || type === DEFINITION_TYPE || type === SET_DEFINITION_TYPE) {
      generation += 1;
      cache = undefined;
    }
    if (type.startsWith('microsoft.management/')) tree = undefined;
  });

  /** The management groups above each subscription, nearest first: the tree read whole, then cached. */
  async function groupsAbove(db: Db, subscriptionId: string): Promise<string[]> {
    if (!tree || services.clock.nowMs() - tree.loadedAt >= INDEX_TTL_MS) {
      const rows = await db
        .selectFrom('resources')
        .select(['key', 'type', 'name', 'parent_key', 'body'])
        .where('type', 'in', [MANAGEMENT_GROUP_TYPE, GROUP_SUBSCRIPTION_TYPE])
        .execute();
      const parentOf = new Map<string, string>();
      const groupOf = new Map<string, string>();
      for (const row of rows) {
        if (row.type === GROUP_SUBSCRIPTION_TYPE) groupOf.set(row.name.toLowerCase(), row.parent_key);
        else {
          const parent = JSON.parse(row.body).properties?.details?.parent?.id;
          if (typeof parent === 'string' && parent !== '') parentOf.set(row.key, keyOf(parent));
        }
      }
      const chains = new Map<string, string[]>();
      for (const [subscription, group] of groupOf) {
        const chain: string[] = [];
        for (let at: string | undefined = group; at && !chain.includes(at); at = parentOf.get(at))
          chain.push(at);
        chains.set(subscription, chain);
      }
      tree = { loadedAt: services.clock.nowMs(), chains };
    }
    return tree.chains.get(subscriptionId) ?? [];
  }

  /** Every assignment with its policies, their delays and reach; cached until a policy write. */
  async function assignments(db: Db): Promise<IndexedAssignment[]> {
    if (cache && cache.generation === generation && services.clock.nowMs() - cache.loadedAt < INDEX_TTL_MS)
      return cache.entries;
    const loading = generation;
    const now = services.clock.now();
    const entries: IndexedAssignment[] = [];
    const rows = await db.selectFrom('resources').selectAll().where('type', '=', ASSIGNMENT_TYPE).execute();
    for (const row of rows) {
      const assignment = resourceFromRow(row);
      const target = await assignmentInScope(db, assignment, now).catch(() => undefined);
      if (!target) continue;
      const policies = target.policies
        .map((policy) => indexPolicy(policy, baseDelayMs))
        .filter((policy): policy is IndexedPolicy => policy !== undefined);
      if (policies.length > 0)
        entries.push({ target, scopeKey: keyOf(String(assignment.body.properties.scope)), policies });
    }
    // A policy write that committed meanwhile must not leave a stale index behind.
    if (loading === generation) cache = { generation, loadedAt: services.clock.nowMs(), entries };
    return entries;
  }

  async function record(db: Db, keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const subscriptionId = /^\/subscriptions\/([^/]+)/.exec(key)?.[1];
      const type = storedTypeOfKey(key);
      if (!subscriptionId || !type || (type !== SUBSCRIPTION_TYPE && NOT_EVALUATED(type))) continue;
      const entries = await assignments(db);
      if (entries.length === 0) continue;
      const firstMs = Math.min(...entries.flatMap((entry) => entry.policies.map((policy) => policy.delayMs)));
      const now = services.clock.now();
      await services.lro.schedule(db, {
        kind: EVALUATE_WRITE,
        namespace: 'Microsoft.PolicyInsights',
        subscriptionId,
        targetKey: key,
        input: { writtenAt: now.toISOString() },
        dueAt: new Date(now.getTime() + firstMs),
        coalesce: true,
      });
    }
  }

  async function evaluate(db: Db, operation: Operation): Promise<void> {
    // Nothing polls the record: it goes once done (the engine's own status update then finds nothing).
    await db.deleteFrom('operations').where('id', '=', operation.id).execute();
    const key = operation.targetKey;
    const subscriptionId = /^\/subscriptions\/([^/]+)/.exec(key)?.[1];
    if (!subscriptionId) return;
    const writtenAt = Date.parse(String(operation.input.writtenAt));
    const handledUpTo = typeof operation.input.handledUpTo === 'number' ? operation.input.handledUpTo : -1;
    const now = services.clock.now();
    const elapsed = now.getTime() - writtenAt;
    const resource = await getResource(db, key);
    const storedType = resource?.type ?? storedTypeOfKey(key) ?? '';
    if (!resource) await dropStates(db, key, subscriptionId);
    const ancestors = await groupsAbove(db, subscriptionId);
    const subscriptionKey = `/subscriptions/${subscriptionId}`;
    const evaluable =
      resource !== undefined && (storedType === SUBSCRIPTION_TYPE || !NOT_EVALUATED(storedType));
    let laterMs = Number.POSITIVE_INFINITY;
    for (const entry of await assignments(db)) {
      const applies = entry.scopeKey.startsWith('/providers/microsoft.management/')
        ? ancestors.includes(entry.scopeKey)
        : entry.scopeKey === subscriptionKey || entry.scopeKey.startsWith(`${subscriptionKey}/`);
      if (!applies) continue;
      const work = new Map<string, { candidates: Candidates; policies: AssignedPolicy[] }>();
      const add = (candidates: Candidates, policy: AssignedPolicy) => {
        const label = JSON.stringify(candidates, (_name, value) =>
          value instanceof Set ? [...value] : value,
        );
        const entryWork = work.get(label) ?? { candidates, policies: [] };
        if (!entryWork.policies.includes(policy)) entryWork.policies.push(policy);
        work.set(label, entryWork);
      };
      for (const indexed of entry.policies) {
        if (indexed.delayMs <= handledUpTo) continue;
        if (indexed.delayMs > elapsed) {
          laterMs = Math.min(laterMs, indexed.delayMs);
          continue;
        }
        if (
          evaluable &&
          (!indexed.types || indexed.types.has(policyTypeOf(storedType))) &&
          provisioningAllows(indexed, resource)
        )
          add({ kind: 'keys', keys: new Set([key]) }, indexed.policy);
        const related = relatedCandidates(indexed, key, storedType, subscriptionId);
        if (related) add(related, indexed.policy);
      }
      for (const { candidates, policies } of work.values()) {
        const judgement = await judge(db, entry.target, subscriptionId, now, candidates, policies);
        await replaceStates(db, entry.target, judgement, policies, now);
      }
    }
    if (laterMs < Number.POSITIVE_INFINITY) {
      await services.lro.schedule(db, {
        kind: EVALUATE_WRITE,
        namespace: 'Microsoft.PolicyInsights',
        subscriptionId,
        targetKey: key,
        input: { writtenAt: operation.input.writtenAt, handledUpTo: elapsed },
        dueAt: new Date(writtenAt + laterMs),
      });
    }
  }

  return { record, evaluate };
}

/** Removes the states of a deleted resource and of everything that was beneath it. */
async function dropStates(db: Db, key: string, subscriptionId: string): Promise<void> {
  const group = /^\/subscriptions\/[^/]+\/resourcegroups\/([^/]+)/.exec(key)?.[1];
  let query = db
    .selectFrom('resources')
    .select(['key', 'body'])
    .where('type', '=', STATE_TYPE)
    .where('subscription_id', '=', subscriptionId);
  if (group) query = query.where('resource_group', '=', group);
  const stale = (await query.execute())
    .filter((row) => {
      const resourceKey = keyOf(String(JSON.parse(row.body).resourceId ?? ''));
      return resourceKey === key || resourceKey.startsWith(`${key}/`);
    })
    .map((row) => row.key);
  for (let start = 0; start < stale.length; start += 500) {
    await db
      .deleteFrom('resources')
      .where('key', 'in', stale.slice(start, start + 500))
      .execute();
  }
}
