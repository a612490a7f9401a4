/**
 * `Microsoft.Security/pricings`: the Defender plans of a subscription (Defender for Servers is
 * `VirtualMachines`) and, from 2024-01-01, per-machine `VirtualMachines` pricing on Azure VMs, VM scale
 * sets and Arc machines. Every plan always exists: a subscription without a stored row reads as Free.
 *
 * Decisions (see README.md):
 * - PUT answers 200 at 2023-01-01 (its only response) and 201 on the first write of a scope / 200
 *   after at 2024-01-01. Plan names are RP-defined: any casing is accepted and the canonical casing is
 *   echoed (`virtualMachines` → `VirtualMachines`).
 * - GET and PUT list every extension the plan offers at its sub-plan, in the catalogue's order; a PUT
 *   reply adds `operationStatus` (Succeeded, "Successfully enabled extension") to enabled extensions
 *   only, a GET never does (arm-behaviour.md, 2023-01-01 recordings).
 * - `freeTrialRemainingTime` is always `PT0S`: trials are billing, which vaplane does not model, and
 *   the recordings show `PT0S`.
 * - Resource level (2024-01-01 only): `VirtualMachines` only, `Free` (disable) or `Standard` + `P1`;
 *   a resource without its own row inherits the subscription's pricing (`inherited: "True"`,
 *   `inheritedFrom` the subscription id); `enforce: "True"` at the subscription makes every machine
 *   inherit and refuses resource-level writes. DELETE exists at resource level only (200 / 204).
 * - `resourcesCoverageStatus` is derived: PartiallyCovered when a machine's own pricing differs in tier
 *   from the subscription's (and `enforce` is off), otherwise Fully/NotCovered by the tier.
 */
import { errors } from '../../arm/errors.js';
import type { ArmContext, ArmReply, ResourceTypeDef } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import {
  checkPreconditions,
  collectionQuery,
  newEtag,
  type Placement,
  placeTarget,
  writeTarget,
} from '../../arm/resourceOps.js';
import { expectEnum, expectString, isPlainObject, objectBody, rejectUnknown } from '../../arm/validate.js';
import {
  type ArmBody,
  deleteResource,
  getResource,
  listResources,
  type StoredResource,
} from '../../store/index.js';
import {
  canonicalName,
  checkEnvelope,
  ENVELOPE_MEMBERS,
  requestedName,
  withCanonicalName,
} from './common.js';
import {
  applyPricingUpdate,
  FREE_PRICING,
  findPlan,
  PLANS,
  type PlanDef,
  type PricingRequest,
  type PricingState,
  type RequestedExtension,
} from './plans.js';

export const PRICINGS_TYPE = 'microsoft.security/pricings';
/**
 * 2022-03-01 is the version `@azure/arm-security` 5 sends: its model has no `extensions` and no
 * `enablementTime`, so those are neither accepted nor shown there, and a PUT at it keeps the stored
 * extensions as they are.
 */
const V2022 = '2022-03-01';
const V2023 = '2023-01-01';
const V2024 = '2024-01-01';
/** Resource types that may carry their own `VirtualMachines` pricing (the swagger's "VirtualMachines, VMSS and ARC Machines"). */
const MACHINE_TYPES = [
  'microsoft.compute/virtualmachines',
  'microsoft.compute/virtualmachinescalesets',
  'microsoft.hybridcompute/machines',
] as const;
const RESOURCE_LEVEL_PLAN = 'VirtualMachines';
const RESOURCE_LEVEL_SUB_PLAN = 'P1';

type Coverage = 'FullyCovered' | 'PartiallyCovered' | 'NotCovered';
type Level =
  | { kind: 'subscription'; coverage: Coverage }
  | { kind: 'resource'; inheritedFrom: string | null };

function planOf(ctx: ArmContext): PlanDef {
  const name = canonicalName(
    requestedName(ctx),
    PLANS.map((plan) => plan.name),
    'pricings',
  );
  return findPlan(name)!;
}

function subscriptionScopeId(ctx: ArmContext): string {
  return `/subscriptions/${ctx.parsed.scope.subscriptionId!.toLowerCase()}`;
}

function subscriptionPricingKey(subscriptionId: string, plan: string): string {
  return `${subscriptionId}/providers/microsoft.security/pricings/${plan.toLowerCase()}`;
}

/**
 * A subscription's plan as a first PUT of `request` stores it, for writers outside a request (the
 * estate generator): the same update rules apply, so the row reads back as if it had been PUT.
 */
export function subscriptionPricingRecord(options: {
  subscriptionId: string;
  plan: string;
  request: PricingRequest;
  now: string;
}): StoredResource {
  const plan = findPlan(options.plan);
  if (!plan) throw new Error(`no plan is named ${options.plan}`);
  const subscription = `/subscriptions/${options.subscriptionId.toLowerCase()}`;
  const id = `${subscription}/providers/Microsoft.Security/pricings/${plan.name}`;
  const state = applyPricingUpdate({
    plan,
    request: options.request,
    previous: undefined,
    subscriptionId: options.subscriptionId,
    now: options.now,
  });
  return {
    key: keyOf(id),
    id,
    type: PRICINGS_TYPE,
    subscriptionId: options.subscriptionId.toLowerCase(),
    resourceGroup: null,
    parentKey: subscription,
    name: plan.name,
    body: { id, name: plan.name, type: 'Microsoft.Security/pricings', properties: state },
    etag: newEtag(),
    createdAt: options.now,
    updatedAt: options.now,
  };
}

/** Resource-level pricing exists from 2024-01-01; at 2023-01-01 the type is unknown at a resource scope. */
function requireResourceLevel(ctx: ArmContext, plan?: PlanDef): void {
  if (ctx.apiVersion !== V2024)
    throw errors.invalidResourceType('pricings', 'Microsoft.Security', ctx.apiVersion);
  if (plan && plan.name !== RESOURCE_LEVEL_PLAN) throw errors.resourcePricingPlanNotSupported(plan.name);
}

function stateOf(body: ArmBody | undefined): PricingState {
  return (body?.properties as PricingState | undefined) ?? FREE_PRICING;
}

/** The representation of a pricing at `apiVersion`: 2023-01-01 has no enforce/inheritance/coverage fields. */
function renderPricing(options: {
  id: string;
  plan: PlanDef;
  state: PricingState;
  apiVersion: string;
  level: Level;
  /** PUT replies report each enabled extension's enablement. */
  withOperationStatus?: boolean;
}): ArmBody {
  const { plan, state, level } = options;
  const standard = state.pricingTier === 'Standard';
  const properties: ArmBody = { pricingTier: state.pricingTier };
  if (standard && state.subPlan) properties.subPlan = state.subPlan;
  properties.freeTrialRemainingTime = 'PT0S';
  const legacy = options.apiVersion === V2022;
  if (standard && state.enablementTime && !legacy) properties.enablementTime = state.enablementTime;
  if (plan.replacedBy) {
    properties.deprecated = true;
    properties.replacedBy = [...plan.replacedBy];
  }
  if (options.apiVersion === V2024) {
    if (level.kind === 'subscription') {
      properties.enforce = state.enforce ?? 'False';
      properties.resourcesCoverageStatus = level.coverage;
    } else {
      properties.inherited = level.inheritedFrom === null ? 'False' : 'True';
      properties.inheritedFrom = level.inheritedFrom;
    }
  }
  if (standard && state.extensions && state.extensions.length > 0 && !legacy) {
    properties.extensions = state.extensions.map((extension) => ({
      ...extension,
      ...(options.withOperationStatus && extension.isEnabled === 'True'
        ? { operationStatus: { code: 'Succeeded', message: 'Successfully enabled extension' } }
        : {}),
    }));
  }
  return { id: options.id, name: plan.name, type: 'Microsoft.Security/pricings', properties };
}

/**
 * Whether some machine of the subscription has its own pricing in `tier`. Machine-level rows are the
 * pricing rows of the subscription not hanging off the subscription itself; the body is our own
 * JSON, so the tier is matched in its text rather than loading every row.
 */
async function hasMachinePricingIn(ctx: ArmContext, tier: 'Free' | 'Standard'): Promise<boolean> {
  const subscriptionId = ctx.parsed.scope.subscriptionId!.toLowerCase();
  const row = await ctx.db
    .selectFrom('resources')
    .select('key')
    .where('type', '=', PRICINGS_TYPE)
    .where('subscription_id', '=', subscriptionId)
    .where('parent_key', '!=', `/subscriptions/${subscriptionId}`)
    .where('body', 'like', `%"pricingTier":"${tier}"%`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

async function coverageOf(ctx: ArmContext, plan: PlanDef, state: PricingState): Promise<Coverage> {
  const covered = state.pricingTier === 'Standard';
  const whole: Coverage = covered ? 'FullyCovered' : 'NotCovered';
  if (plan.name !== RESOURCE_LEVEL_PLAN || state.enforce === 'True' || ctx.apiVersion !== V2024) return whole;
  return (await hasMachinePricingIn(ctx, covered ? 'Free' : 'Standard')) ? 'PartiallyCovered' : whole;
}

const READ_ONLY_PROPERTIES: Record<string, readonly string[]> = {
  [V2022]: ['freeTrialRemainingTime', 'deprecated', 'replacedBy'],
  [V2023]: ['freeTrialRemainingTime', 'enablementTime', 'deprecated', 'replacedBy'],
  [V2024]: [
    'freeTrialRemainingTime',
    'enablementTime',
    'deprecated',
    'replacedBy',
    'inherited',
    'inheritedFrom',
    'resourcesCoverageStatus',
  ],
};

function parsePricing(value: unknown, apiVersion: string): PricingRequest {
  const body = objectBody(value, 'properties');
  rejectUnknown(body, ['properties', ...ENVELOPE_MEMBERS], 'Pricing');
  const properties = body.properties ?? undefined;
  if (properties !== undefined && !isPlainObject(properties)) {
    throw errors.invalidRequestContent(
      "Cannot deserialize the current JSON value into type 'PricingProperties'. Path 'properties'.",
    );
  }
  const readOnly = READ_ONLY_PROPERTIES[apiVersion]!;
  for (const name of Object.keys(properties ?? {})) {
    if (readOnly.some((member) => member.toLowerCase() === name.toLowerCase())) {
      throw errors.readOnlyProperty(`properties.${name}`);
    }
  }
  const writable =
    apiVersion === V2022
      ? ['pricingTier', 'subPlan']
      : ['pricingTier', 'subPlan', 'extensions', ...(apiVersion === V2024 ? ['enforce'] : [])];
  rejectUnknown(properties ?? {}, writable, 'PricingProperties', 'properties');
  if (properties?.pricingTier === undefined || properties.pricingTier === null) {
    throw errors.invalidRequestContent(
      "Required property 'pricingTier' not found in JSON. Path 'properties'.",
    );
  }
  const request: PricingRequest = {
    pricingTier: expectEnum(properties.pricingTier, ['Free', 'Standard'] as const, 'properties.pricingTier'),
  };
  if (properties.subPlan !== undefined && properties.subPlan !== null) {
    request.subPlan = expectString(properties.subPlan, 'properties.subPlan');
  }
  if (properties.enforce !== undefined && properties.enforce !== null) {
    request.enforce = expectEnum(properties.enforce, ['False', 'True'] as const, 'properties.enforce');
  }
  if (properties.extensions !== undefined && properties.extensions !== null) {
    if (!Array.isArray(properties.extensions)) {
      throw errors.invalidRequestContent(
        "Cannot deserialize the current JSON value into type 'List<Extension>'. Path 'properties.extensions'.",
      );
    }
    request.extensions = properties.extensions.map((item: unknown, index: number) =>
      parseExtension(item, `properties.extensions[${index}]`),
    );
  }
  return request;
}

function parseExtension(item: unknown, path: string): RequestedExtension {
  if (!isPlainObject(item)) {
    throw errors.invalidRequestContent(
      `Cannot deserialize the current JSON value into type 'Extension'. Path '${path}'.`,
    );
  }
  if (Object.keys(item).some((name) => name.toLowerCase() === 'operationstatus')) {
    throw errors.readOnlyProperty(`${path}.operationStatus`);
  }
  rejectUnknown(item, ['name', 'isEnabled', 'additionalExtensionProperties'], 'Extension', path);
  for (const required of ['name', 'isEnabled']) {
    if (item[required] === undefined || item[required] === null) {
      throw errors.invalidRequestContent(
        `Required property '${required}' not found in JSON. Path '${path}'.`,
      );
    }
  }
  const extension: RequestedExtension = {
    name: expectString(item.name, `${path}.name`)!,
    isEnabled: expectEnum(item.isEnabled, ['True', 'False'] as const, `${path}.isEnabled`),
  };
  const additional = item.additionalExtensionProperties;
  if (additional !== undefined && additional !== null) {
    if (!isPlainObject(additional)) {
      throw errors.invalidRequestContent(
        `Cannot deserialize the current JSON value into type 'Dictionary<string, object>'. Path '${path}.additionalExtensionProperties'.`,
      );
    }
    extension.additionalExtensionProperties = additional;
  }
  return extension;
}

/** `$filter=name in (VirtualMachines,KeyVaults)`, the only filter 2024-01-01 defines. */
function planFilter(ctx: ArmContext): ((plan: PlanDef) => boolean) | undefined {
  const key = Object.keys(ctx.query).find((name) => name.toLowerCase() === '$filter');
  const filter = key === undefined ? undefined : ctx.query[key];
  if (filter === undefined) return undefined;
  if (ctx.apiVersion !== V2024) {
    throw errors.invalidQueryParameter(
      '$filter',
      filter,
      `api-version '${ctx.apiVersion}' does not support it.`,
    );
  }
  const match = /^\s*name\s+in\s*\(([^)]*)\)\s*$/i.exec(filter);
  if (!match) {
    throw errors.invalidQueryParameter(
      '$filter',
      filter,
      "the supported filter is 'name in ({planName1},{planName2},...)'.",
    );
  }
  const names = match[1]!
    .split(',')
    .map((name) => name.trim().replace(/^'(.*)'$/, '$1'))
    .filter((name) => name.length > 0);
  const wanted = new Set<string>();
  for (const name of names) {
    const plan = findPlan(name);
    if (!plan) {
      throw errors.invalidQueryParameter(
        '$filter',
        filter,
        `'${name}' is not a plan. The plans are '${PLANS.map((known) => known.name).join(', ')}'.`,
      );
    }
    wanted.add(plan.name);
  }
  return (plan) => wanted.has(plan.name);
}

/** The pricing a machine answers with: its own row, or the subscription's when it has none or it is enforced. */
async function machinePricing(ctx: ArmContext, placement: Placement): Promise<ArmBody> {
  const plan = findPlan(RESOURCE_LEVEL_PLAN)!;
  const subscriptionId = subscriptionScopeId(ctx);
  const own = await getResource(ctx.db, placement.key);
  const subscription = stateOf(
    (await getResource(ctx.db, subscriptionPricingKey(subscriptionId, plan.name)))?.body,
  );
  if (own && subscription.enforce !== 'True') {
    return renderPricing({
      id: placement.id,
      plan,
      state: stateOf(own.body),
      apiVersion: ctx.apiVersion,
      level: { kind: 'resource', inheritedFrom: null },
    });
  }
  const { enforce: _enforce, ...inherited } = subscription;
  return renderPricing({
    id: placement.id,
    plan,
    state: inherited,
    apiVersion: ctx.apiVersion,
    level: { kind: 'resource', inheritedFrom: subscriptionId },
  });
}

/** Placement of the `VirtualMachines` pricing of the machine the request's scope names. */
async function machinePlacement(ctx: ArmContext): Promise<Placement> {
  const target = { ...ctx.parsed.target, names: [RESOURCE_LEVEL_PLAN] };
  return placeTarget({ ...ctx, parsed: { ...ctx.parsed, target } });
}

async function putMachinePricing(ctx: ArmContext, plan: PlanDef, request: PricingRequest): Promise<ArmReply> {
  requireResourceLevel(ctx, plan);
  if (request.enforce !== undefined) throw errors.resourcePricingEnforce();
  if (request.pricingTier === 'Standard' && request.subPlan?.toUpperCase() !== RESOURCE_LEVEL_SUB_PLAN) {
    throw errors.resourcePricingSubPlanNotSupported(request.subPlan);
  }
  const placement = withCanonicalName(await placeTarget(ctx), plan.name);
  checkEnvelope(ctx.body as ArmBody, placement);
  const existing = await getResource(ctx.db, placement.key);
  checkPreconditions(ctx, existing);
  const subscriptionId = subscriptionScopeId(ctx);
  const subscription = stateOf(
    (await getResource(ctx.db, subscriptionPricingKey(subscriptionId, plan.name)))?.body,
  );
  if (subscription.enforce === 'True') throw errors.pricingEnforced(plan.name, subscriptionId);
  const state = applyPricingUpdate({
    plan,
    request,
    previous: existing ? stateOf(existing.body) : undefined,
    subscriptionId: ctx.parsed.scope.subscriptionId!,
    now: ctx.services.clock.now().toISOString(),
  });
  await writeTarget(ctx, placement, { properties: state }, existing, { withSystemData: false });
  return {
    status: existing ? 200 : 201,
    body: renderPricing({
      id: placement.id,
      plan,
      state,
      apiVersion: ctx.apiVersion,
      level: { kind: 'resource', inheritedFrom: null },
      withOperationStatus: true,
    }),
  };
}

export const pricingsType: ResourceTypeDef = {
  namespace: 'Microsoft.Security',
  type: 'pricings',
  apiVersions: [V2024, V2023, V2022],
  scopes: ['subscription', 'resource'],
  extensionOf: MACHINE_TYPES,
  async get(ctx) {
    const plan = planOf(ctx);
    if (ctx.parsed.scope.kind === 'resource') {
      requireResourceLevel(ctx, plan);
      const placement = withCanonicalName(await placeTarget(ctx), plan.name);
      return { status: 200, body: await machinePricing(ctx, placement) };
    }
    const placement = withCanonicalName(await placeTarget(ctx), plan.name);
    const state = stateOf((await getResource(ctx.db, placement.key))?.body);
    return {
      status: 200,
      body: renderPricing({
        id: placement.id,
        plan,
        state,
        apiVersion: ctx.apiVersion,
        level: { kind: 'subscription', coverage: await coverageOf(ctx, plan, state) },
      }),
    };
  },
  async list(ctx) {
    const wanted = planFilter(ctx);
    if (ctx.parsed.scope.kind === 'resource') {
      requireResourceLevel(ctx);
      const placement = await machinePlacement(ctx);
      const machinePlan = findPlan(RESOURCE_LEVEL_PLAN)!;
      const value = !wanted || wanted(machinePlan) ? [await machinePricing(ctx, placement)] : [];
      return { status: 200, body: { value } };
    }
    const query = await collectionQuery(ctx);
    const subscriptionId = subscriptionScopeId(ctx);
    const rows = await listResources(ctx.db, {
      ...query,
      parentKey: subscriptionId,
      limit: PLANS.length + 1,
    });
    const value: ArmBody[] = [];
    for (const plan of PLANS) {
      if (wanted && !wanted(plan)) continue;
      const state = stateOf(
        rows.find((row) => row.key === subscriptionPricingKey(subscriptionId, plan.name))?.body,
      );
      value.push(
        renderPricing({
          id: `${subscriptionId}/providers/Microsoft.Security/pricings/${plan.name}`,
          plan,
          state,
          apiVersion: ctx.apiVersion,
          level: { kind: 'subscription', coverage: await coverageOf(ctx, plan, state) },
        }),
      );
    }
    return { status: 200, body: { value } };
  },
  async put(ctx) {
    const plan = planOf(ctx);
    const request = parsePricing(ctx.body, ctx.apiVersion);
    if (ctx.parsed.scope.kind === 'resource') return putMachinePricing(ctx, plan, request);
    const placement = withCanonicalName(await placeTarget(ctx), plan.name);
    checkEnvelope(ctx.body as ArmBody, placement);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    const state = applyPricingUpdate({
      plan,
      request,
      previous: existing ? stateOf(existing.body) : undefined,
      subscriptionId: ctx.parsed.scope.subscriptionId!,
      now: ctx.services.clock.now().toISOString(),
    });
    await writeTarget(ctx, placement, { properties: state }, existing, { withSystemData: false });
    return {
      status: ctx.apiVersion === V2024 && !existing ? 201 : 200,
      body: renderPricing({
        id: placement.id,
        plan,
        state,
        apiVersion: ctx.apiVersion,
        level: { kind: 'subscription', coverage: await coverageOf(ctx, plan, state) },
        withOperationStatus: true,
      }),
    };
  },
  async delete(ctx) {
    const plan = planOf(ctx);
    if (ctx.parsed.scope.kind !== 'resource')
      throw errors.methodNotAllowed('DELETE', 'Microsoft.Security/pricings');
    requireResourceLevel(ctx, plan);
    const placement = await placeTarget(ctx);
    const existing = await getResource(ctx.db, placement.key);
    checkPreconditions(ctx, existing);
    if (!existing) return { status: 204 };
    await deleteResource(ctx.db, existing.key);
    return { status: 200 };
  },
};
