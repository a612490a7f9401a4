/**
 * `Microsoft.PolicyInsights/policyStates/latest`: `queryResults` and `summarize` at management group,
 * subscription, resource group and resource scope, with the `$filter`s the portal and CLI send
 * (`complianceState eq 'NonCompliant'`, `policyAssignmentName eq '…'`, `resourceType eq '…'`,
 * `policySetDefinitionName eq '…'`, `policyDefinitionReferenceId eq '…'`,
 * `policyDefinitionGroupNames/any(g: g eq '…')` …, joined by `and`) and `$top`; `summarize` per
 * assignment, per policy (set member) and per policy definition group; `triggerEvaluation` at
 * subscription scope.
 */
import { errors } from '../../arm/errors.js';
import { operationEndpoint } from '../../arm/lro.js';
import type { ArmContext, ResourceTypeDef } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import { type ArmBody, getResource } from '../../store/index.js';
import { evaluationStyle, TRIGGER_EVALUATION } from './jobs.js';
import { isWithin, POLICY_INSIGHTS_API_VERSIONS, STATE_TYPE, subscriptionsUnder } from './model.js';

const FILTERABLE = [
  'complianceState',
  'policyAssignmentName',
  'policyAssignmentId',
  'policyDefinitionName',
  'policyDefinitionId',
  'policyDefinitionAction',
  'policyDefinitionCategory',
  'policyDefinitionReferenceId',
  'policySetDefinitionId',
  'policySetDefinitionName',
  'policySetDefinitionCategory',
  'resourceType',
  'resourceId',
  'resourceGroup',
  'resourceLocation',
  'subscriptionId',
  'isCompliant',
];

/** `field eq|ne 'v'`, or `policyDefinitionGroupNames/any(g: g eq 'v')` on the array of group names. */
type Clause = { field: string; op: 'eq' | 'ne' | 'any'; value: string };

function parseFilter(filter: string | undefined): Clause[] {
  if (!filter) return [];
  return filter.split(/\s+and\s+/i).map((part) => {
    const any =
      /^\s*\(?\s*policyDefinitionGroupNames\/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*\)\s*\)?\s*$/i.exec(
        part,
      );
    if (any && any[1] === any[2]) {
      return { field: 'policyDefinitionGroupNames', op: 'any', value: any[3]!.replace(/''/g, "'") };
    }
    const match = /^\s*\(?\s*(\w+)\s+(eq|ne)\s+(?:'((?:[^']|'')*)'|(true|false))\s*\)?\s*$/i.exec(part);
    const field = match && FILTERABLE.find((name) => name.toLowerCase() === match[1]!.toLowerCase());
    if (!match || !field) {
      throw errors.invalidQueryParameter(
        '$filter',
        filter,
        `vaplane supports '{field} eq|ne '{value}'' clauses on ${FILTERABLE.join(', ')}, and 'policyDefinitionGroupNames/any(g: g eq '{value}')', joined by 'and'.`,
      );
    }
    return {
      field,
      op: match[2]!.toLowerCase() as Clause['op'],
      value: (match[3] ?? match[4]!).replace(/''/g, "'"),
    };
  });
}

function matches(state: ArmBody, clauses: Clause[]): boolean {
  return clauses.every(({ field, op, value }) => {
    if (op === 'any') {
      const names: unknown[] = Array.isArray(state[field]) ? state[field] : [];
      return names.some((name) => String(name).toLowerCase() === value.toLowerCase());
    }
    const equal = String(state[field] ?? '').toLowerCase() === value.toLowerCase();
    return op === 'eq' ? equal : !equal;
  });
}

/** The stored states within the request's scope, filtered. */
async function statesIn(ctx: ArmContext): Promise<ArmBody[]> {
  const scope = ctx.parsed.scope;
  const clauses = parseFilter(ctx.query.$filter);
  if (scope.kind === 'managementGroup') {
    const group = await getResource(ctx.db, keyOf(scope.id));
    if (!group) throw errors.managementGroupNotFound(scope.managementGroup ?? scope.id);
  } else if (scope.subscriptionId !== undefined) {
    const subscription = await getResource(ctx.db, `/subscriptions/${scope.subscriptionId.toLowerCase()}`);
    if (!subscription) throw errors.subscriptionNotFound(scope.subscriptionId);
  }
  const subscriptions = await subscriptionsUnder(ctx.db, scope.id);
  const states: ArmBody[] = [];
  for (const subscriptionId of subscriptions) {
    // States live beneath their assignment, not beneath the resource: select them by their columns.
    let query = ctx.db
      .selectFrom('resources')
      .select('body')
      .where('type', '=', STATE_TYPE)
      .where('subscription_id', '=', subscriptionId);
    if (scope.resourceGroup !== undefined)
      query = query.where('resource_group', '=', scope.resourceGroup.toLowerCase());
    for (const row of await query.orderBy('key').execute()) {
      const body: ArmBody = JSON.parse(row.body);
      if (scope.kind === 'resource' && !isWithin(String(body.resourceId), scope.id)) continue;
      if (matches(body, clauses)) states.push(body);
    }
  }
  return states;
}

function topOf(ctx: ArmContext): number | undefined {
  const top = ctx.query.$top;
  if (top === undefined) return undefined;
  const value = Number(top);
  if (!Number.isInteger(value) || value < 1)
    throw errors.invalidQueryParameter('$top', top, 'a positive integer is required.');
  return value;
}

function withoutDetails(state: ArmBody, expand: string | undefined): ArmBody {
  if (expand?.toLowerCase().includes('policyevaluationdetails')) return state;
  const { policyEvaluationDetails: _details, ...rest } = state;
  return rest;
}

function odataContext(ctx: ArmContext): string {
  return `${ctx.baseUrl}/providers/Microsoft.PolicyInsights/$metadata#policyStates/$entity`;
}

async function queryResults(ctx: ArmContext) {
  const states = await statesIn(ctx);
  const top = topOf(ctx);
  const shown = (top === undefined ? states : states.slice(0, top)).map((state) => ({
    ...withoutDetails(state, ctx.query.$expand),
    '@odata.context': odataContext(ctx),
  }));
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.baseUrl}/providers/Microsoft.PolicyInsights/$metadata#policyStates`,
      '@odata.count': shown.length,
      value: shown,
    },
  };
}

/** A policy within an assignment: its definition, and for a set the member's reference id. */
const policyOf = (state: ArmBody) =>
  `${String(state.policyDefinitionId).toLowerCase()}|${String(state.policyDefinitionReferenceId ?? '').toLowerCase()}`;

function countsOf(states: ArmBody[]) {
  const nonCompliant = states.filter((state) => state.complianceState === 'NonCompliant');
  const byState = new Map<string, number>();
  for (const state of states)
    byState.set(state.complianceState, (byState.get(state.complianceState) ?? 0) + 1);
  return {
    nonCompliantResources: new Set(nonCompliant.map((state) => String(state.resourceId).toLowerCase())).size,
    nonCompliantPolicies: new Set(nonCompliant.map(policyOf)).size,
    resourceDetails: [...byState].map(([complianceState, count]) => ({ complianceState, count })),
  };
}

function groupBy(states: ArmBody[], keysOf: (state: ArmBody) => string[]): Map<string, ArmBody[]> {
  const groups = new Map<string, ArmBody[]>();
  for (const state of states) {
    for (const key of keysOf(state)) {
      const group = groups.get(key);
      if (group) group.push(state);
      else groups.set(key, [state]);
    }
  }
  return groups;
}

/** One assignment's summary: per policy (set member) and, for a set, per policy definition group. */
function assignmentSummary(policyAssignmentId: string, assigned: ArmBody[]) {
  const first = assigned[0]!;
  const groups = groupBy(assigned, (state) =>
    Array.isArray(state.policyDefinitionGroupNames) ? state.policyDefinitionGroupNames.map(String) : [],
  );
  return {
    policyAssignmentId,
    policySetDefinitionId: String(first.policySetDefinitionId ?? ''),
    results: countsOf(assigned),
    policyDefinitions: [...groupBy(assigned, (state) => [policyOf(state)]).values()].map((member) => ({
      policyDefinitionId: member[0]!.policyDefinitionId,
      ...(member[0]!.policyDefinitionReferenceId
        ? {
            policyDefinitionReferenceId: member[0]!.policyDefinitionReferenceId,
            policyDefinitionGroupNames: member[0]!.policyDefinitionGroupNames ?? [],
          }
        : {}),
      effect: member[0]!.policyDefinitionAction,
      results: countsOf(member),
    })),
    policyGroups: [...groups].map(([policyGroupName, members]) => ({
      policyGroupName,
      results: countsOf(members),
    })),
  };
}

async function summarize(ctx: ArmContext) {
  const states = await statesIn(ctx);
  const byAssignment = groupBy(states, (state) => [String(state.policyAssignmentId)]);
  const summary = {
    '@odata.id': null,
    '@odata.context': `${ctx.baseUrl}/providers/Microsoft.PolicyInsights/$metadata#summary/$entity`,
    results: { ...countsOf(states) },
    policyAssignments: [...byAssignment].map(([id, assigned]) => assignmentSummary(id, assigned)),
  };
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.baseUrl}/providers/Microsoft.PolicyInsights/$metadata#summary`,
      '@odata.count': 1,
      value: [summary],
    },
  };
}

async function triggerEvaluation(ctx: ArmContext) {
  const scope = ctx.parsed.scope;
  if (scope.kind !== 'subscription' && scope.kind !== 'resourceGroup') {
    throw errors.invalidResourceType('policyStates', 'Microsoft.PolicyInsights', ctx.apiVersion);
  }
  const subscriptionId = scope.subscriptionId!.toLowerCase();
  const subscription = await getResource(ctx.db, `/subscriptions/${subscriptionId}`);
  if (!subscription) throw errors.subscriptionNotFound(scope.subscriptionId!);
  const { headers } = await ctx.services.lro.start(ctx, {
    kind: TRIGGER_EVALUATION,
    namespace: 'Microsoft.PolicyInsights',
    location: 'global',
    targetKey: `/subscriptions/${subscriptionId}`,
    input: { subscriptionId },
    style: evaluationStyle,
  });
  return { status: 202, headers: { location: headers.location!, 'retry-after': headers['retry-after']! } };
}

export const policyStatesType: ResourceTypeDef = {
  namespace: 'Microsoft.PolicyInsights',
  type: 'policyStates',
  apiVersions: POLICY_INSIGHTS_API_VERSIONS,
  scopes: ['managementGroup', 'subscription', 'resourceGroup', 'resource'],
  actions: { queryresults: queryResults, summarize, triggerevaluation: triggerEvaluation },
  readActions: ['queryresults', 'summarize'],
};

export const asyncOperationResultsType = operationEndpoint({
  namespace: 'Microsoft.PolicyInsights',
  type: 'asyncOperationResults',
  apiVersions: POLICY_INSIGHTS_API_VERSIONS,
  style: evaluationStyle,
  serves: 'result',
});
