/**
 * `Microsoft.PolicyInsights/policyStates/latest`: `queryResults` and `summarize` at management group,
 * subscription, resource group and resource scope, with the `$filter`s the portal and CLI send
 * (`complianceState eq 'NonCompliant'`, `policyAssignmentName eq '…'`, `resourceType eq '…'` …, joined
 * by `and`) and `$top`; `triggerEvaluation` at subscription scope.
 */
import { errors } from '../../arm/errors.js';
import { operationEndpoint } from '../../arm/lro.js';
import type { ArmContext, ResourceTypeDef } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import { type ArmBody, getResource, listResources } from '../../store/index.js';
import { evaluationStyle, TRIGGER_EVALUATION } from './jobs.js';
import { isWithin, POLICY_INSIGHTS_API_VERSIONS, STATE_TYPE, subscriptionsUnder } from './model.js';

const FILTERABLE = [
  'complianceState',
  'policyAssignmentName',
  'policyAssignmentId',
  'policyDefinitionName',
  'policyDefinitionId',
  'policyDefinitionAction',
  'resourceType',
  'resourceId',
  'resourceGroup',
  'resourceLocation',
  'subscriptionId',
  'isCompliant',
];

type Clause = { field: string; op: 'eq' | 'ne'; value: string };

function parseFilter(filter: string | undefined): Clause[] {
  if (!filter) return [];
  return filter.split(/\s+and\s+/i).map((part) => {
    const match = /^\s*\(?\s*(\w+)\s+(eq|ne)\s+(?:'((?:[^']|'')*)'|(true|false))\s*\)?\s*$/i.exec(part);
    const field = match && FILTERABLE.find((name) => name.toLowerCase() === match[1]!.toLowerCase());
    if (!match || !field) {
      throw errors.invalidQueryParameter(
        '$filter',
        filter,
        `vaplane supports '{field} eq|ne '{value}'' clauses joined by 'and' on ${FILTERABLE.join(', ')}.`,
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
    const equal = String(state[field]).toLowerCase() === value.toLowerCase();
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
    const rows = await listResources(ctx.db, {
      type: STATE_TYPE,
      subscriptionId,
      ...(scope.resourceGroup !== undefined ? { resourceGroup: scope.resourceGroup.toLowerCase() } : {}),
      limit: 1_000_000,
    });
    for (const row of rows) {
      if (scope.kind === 'resource' && !isWithin(String(row.body.resourceId), scope.id)) continue;
      if (matches(row.body, clauses)) states.push(row.body);
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

function countsOf(states: ArmBody[]) {
  const nonCompliant = states.filter((state) => state.complianceState === 'NonCompliant');
  const byState = new Map<string, number>();
  for (const state of states)
    byState.set(state.complianceState, (byState.get(state.complianceState) ?? 0) + 1);
  return {
    nonCompliantResources: new Set(nonCompliant.map((state) => String(state.resourceId).toLowerCase())).size,
    nonCompliantPolicies: new Set(nonCompliant.map((state) => String(state.policyDefinitionId).toLowerCase()))
      .size,
    resourceDetails: [...byState].map(([complianceState, count]) => ({ complianceState, count })),
  };
}

async function summarize(ctx: ArmContext) {
  const states = await statesIn(ctx);
  const byAssignment = new Map<string, ArmBody[]>();
  for (const state of states) {
    const id = String(state.policyAssignmentId);
    byAssignment.set(id, [...(byAssignment.get(id) ?? []), state]);
  }
  const summary = {
    '@odata.id': null,
    '@odata.context': `${ctx.baseUrl}/providers/Microsoft.PolicyInsights/$metadata#summary/$entity`,
    results: { ...countsOf(states) },
    policyAssignments: [...byAssignment].map(([policyAssignmentId, assigned]) => ({
      policyAssignmentId,
      policySetDefinitionId: '',
      results: countsOf(assigned),
      policyDefinitions: [
        {
          policyDefinitionId: assigned[0]!.policyDefinitionId,
          effect: assigned[0]!.policyDefinitionAction,
          results: countsOf(assigned),
        },
      ],
    })),
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
