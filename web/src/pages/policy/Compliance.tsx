import {
  Badge,
  Button,
  Field,
  Input,
  Link,
  MessageBar,
  MessageBarBody,
  Select,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { ArmRequestError } from '../../arm/client';
import { useSession } from '../../auth/session';
import { ArmErrorBar } from '../../components/ArmErrorBar';
import { HOME, Page } from '../../components/Page';
import { invalidate, toArmError, useArmQuery } from '../../data';
import { useSubscriptions } from '../../estate/subscriptions';
import { hrefOf, navigate } from '../../router';
import {
  accessAt,
  type ComplianceCounts,
  listAssignments,
  POLICY_API,
  type PolicyAssignment,
  queryStates,
  quoted,
  scopeOfAssignment,
  summarize,
} from './api';
import { POLICY } from './Definitions';

export const COMPLIANCE = { label: 'Compliance', href: '#/policy/compliance' };

function countOf(counts: ComplianceCounts, state: string): number {
  return counts.resourceDetails.find((detail) => detail.complianceState === state)?.count ?? 0;
}

function StateBadge({ state }: { state: string }) {
  const color = state === 'Compliant' ? 'success' : state === 'NonCompliant' ? 'danger' : 'informative';
  return (
    <Badge appearance="tint" color={color}>
      {state === 'NonCompliant' ? 'Non-compliant' : state}
    </Badge>
  );
}

/** Policy | Compliance: assignments at a scope with their compliance (policyStates summarize). */
export function Compliance({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const subscriptions = useSubscriptions();
  const root = `/providers/Microsoft.Management/managementGroups/${session.claims.tid}`;
  const scope = query.get('scope') || root;
  const data = useArmQuery(`policy:compliance:${scope}`, async (signal) => {
    const [summary, assignments] = await Promise.all([
      summarize(session.client, scope, signal),
      listAssignments(session.client, scope, signal),
    ]);
    return { summary, assignments };
  });
  const byId = new Map(
    (data.data?.assignments ?? []).map((assignment) => [assignment.id.toLowerCase(), assignment]),
  );
  const rows = [
    ...(data.data?.summary.policyAssignments ?? []).map((entry) => ({
      id: entry.policyAssignmentId,
      counts: entry.results as ComplianceCounts | undefined,
    })),
    ...(data.data?.assignments ?? [])
      .filter(
        (assignment) =>
          !data.data?.summary.policyAssignments.some(
            (entry) => entry.policyAssignmentId.toLowerCase() === assignment.id.toLowerCase(),
          ),
      )
      .map((assignment) => ({ id: assignment.id, counts: undefined })),
  ];
  return (
    <Page
      crumbs={[HOME, POLICY, COMPLIANCE]}
      title="Policy | Compliance"
      subtitle="Compliance by assignment"
      loading={data.loading && !data.data}
      commands={<Button onClick={data.reload}>Refresh</Button>}
    >
      <Field label="Scope">
        <Select
          value={scope}
          onChange={(_event, change) => navigate(hrefOf(['policy', 'compliance'], { scope: change.value }))}
        >
          <option value={root}>Tenant root group</option>
          {(subscriptions.data ?? []).map((subscription) => (
            <option key={subscription.subscriptionId} value={`/subscriptions/${subscription.subscriptionId}`}>
              {subscription.displayName}
            </option>
          ))}
        </Select>
      </Field>
      <ArmErrorBar error={data.error} title="Compliance could not be read" />
      {data.data && (
        <Text>
          {data.data.summary.results.nonCompliantResources} non-compliant resources,{' '}
          {data.data.summary.results.nonCompliantPolicies} non-compliant policies
        </Text>
      )}
      <Table aria-label="Assignments" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Assignment</TableHeaderCell>
            <TableHeaderCell>Scope</TableHeaderCell>
            <TableHeaderCell>Compliant</TableHeaderCell>
            <TableHeaderCell>Non-compliant</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map((row) => (
            <TableRow key={row.id}>
              <TableCell>
                <Link href={hrefOf(['policy', 'compliance', 'assignment'], { id: row.id })}>
                  {byId.get(row.id.toLowerCase())?.properties.displayName ?? row.id.split('/').pop()}
                </Link>
              </TableCell>
              <TableCell>{scopeOfAssignment(row.id)}</TableCell>
              <TableCell>{row.counts ? countOf(row.counts, 'Compliant') : 'Not evaluated'}</TableCell>
              <TableCell>{row.counts ? countOf(row.counts, 'NonCompliant') : '—'}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Page>
  );
}

/** One assignment's compliance by resource (queryResults with `$filter`), with the explanation, and **Create remediation task**. */
export function AssignmentCompliance({ assignmentId }: { assignmentId: string }) {
  const session = useSession();
  const scope = scopeOfAssignment(assignmentId);
  const [stateFilter, setStateFilter] = useState('');
  const [search, setSearch] = useState('');
  const [remediationError, setRemediationError] = useState<ArmRequestError>();
  const [creating, setCreating] = useState(false);
  const assignment = useArmQuery(`policy:assignment:${assignmentId}`, (signal) =>
    session.client.get<PolicyAssignment>(assignmentId, { apiVersion: POLICY_API.authorization, signal }),
  );
  const filter = [
    `policyAssignmentId eq ${quoted(assignmentId)}`,
    ...(stateFilter ? [`complianceState eq ${quoted(stateFilter)}`] : []),
  ].join(' and ');
  const states = useArmQuery(`policy:states:${filter}`, (signal) =>
    queryStates(session.client, scope, filter, signal),
  );
  const access = useArmQuery(`policy:access:remediate:${scope}`, (signal) =>
    accessAt(session.client, {
      principalId: session.claims.oid,
      scope,
      action: 'Microsoft.PolicyInsights/remediations/write',
      what: 'create a remediation task here',
      signal,
    }),
  );
  const words = search.trim().toLowerCase();
  const shown = (states.data ?? []).filter(
    (state) => !words || state.resourceId.toLowerCase().includes(words),
  );
  const nonCompliant = (states.data ?? []).filter((state) => state.complianceState === 'NonCompliant').length;
  const title = assignment.data?.properties.displayName ?? assignmentId.split('/').pop() ?? 'Assignment';
  const denied = access.data && !access.data.can ? access.data.reason : undefined;

  async function remediate() {
    setCreating(true);
    setRemediationError(undefined);
    const name = `remediation-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await session.client.request(
        'PUT',
        `${scope}/providers/Microsoft.PolicyInsights/remediations/${name}`,
        {
          apiVersion: POLICY_API.remediations,
          body: {
            properties: { policyAssignmentId: assignmentId, resourceDiscoveryMode: 'ExistingNonCompliant' },
          },
        },
      );
      invalidate('policy:remediations');
      navigate(hrefOf(['policy', 'remediation'], { scope }));
    } catch (error) {
      setRemediationError(toArmError(error));
    } finally {
      setCreating(false);
    }
  }

  return (
    <Page
      crumbs={[HOME, POLICY, COMPLIANCE, { label: title }]}
      title={title}
      subtitle={`Assignment compliance · ${scope}`}
      loading={states.loading && !states.data}
      commands={
        <>
          <Button
            appearance="primary"
            disabled={!access.data?.can || creating || nonCompliant === 0}
            title={denied}
            onClick={remediate}
          >
            Create remediation task
          </Button>
          <Button onClick={states.reload}>Refresh</Button>
        </>
      }
    >
      {denied && (
        <MessageBar intent="info">
          <MessageBarBody data-testid="remediate-denied">{denied}</MessageBarBody>
        </MessageBar>
      )}
      <ArmErrorBar error={assignment.error} title="The assignment could not be read" />
      <ArmErrorBar error={remediationError} title="The remediation task was not created" />
      <ArmErrorBar error={states.error} title="Compliance could not be read" />
      {states.data && states.data.length === 0 && (
        <Text>
          No resource has been evaluated for this assignment yet. Evaluation runs when the assignment is
          created; Refresh to see it.
        </Text>
      )}
      <div style={{ display: 'flex', gap: 16, flexWrap: 'wrap' }}>
        <Field label="Compliance state">
          <Select value={stateFilter} onChange={(_event, data) => setStateFilter(data.value)}>
            <option value="">All</option>
            <option value="NonCompliant">Non-compliant</option>
            <option value="Compliant">Compliant</option>
          </Select>
        </Field>
        <Field label="Search resources">
          <Input type="search" value={search} onChange={(_event, data) => setSearch(data.value)} />
        </Field>
      </div>
      <Table aria-label="Resource compliance" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Resource</TableHeaderCell>
            <TableHeaderCell>Type</TableHeaderCell>
            <TableHeaderCell>Compliance state</TableHeaderCell>
            <TableHeaderCell>Reason</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {shown.map((state) => (
            <TableRow key={state.resourceId}>
              <TableCell>{state.resourceId}</TableCell>
              <TableCell>{state.resourceType ?? ''}</TableCell>
              <TableCell>
                <StateBadge state={state.complianceState} />
              </TableCell>
              <TableCell>
                <span style={{ whiteSpace: 'pre-wrap' }}>{state.policyEvaluationDetails?.reason ?? '—'}</span>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Page>
  );
}
