import {
  Badge,
  Button,
  Field,
  ProgressBar,
  Select,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
} from '@fluentui/react-components';
import { useEffect } from 'react';
import { useSession } from '../../auth/session';
import { ArmErrorBar } from '../../components/ArmErrorBar';
import { HOME, Page } from '../../components/Page';
import { useArmQuery } from '../../data';
import { useSubscriptions } from '../../estate/subscriptions';
import { hrefOf, navigate } from '../../router';
import { isTerminal, listRemediations } from './api';
import { POLICY } from './Definitions';

/** Policy | Remediation: the remediation tasks at a scope with their progress, polled while any runs. */
export function Remediations({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const subscriptions = useSubscriptions();
  const root = `/providers/Microsoft.Management/managementGroups/${session.claims.tid}`;
  const scope = query.get('scope') || root;
  const tasks = useArmQuery(`policy:remediations:${scope}`, (signal) =>
    listRemediations(session.client, scope, signal),
  );
  const running = (tasks.data ?? []).some((task) => !isTerminal(task.properties.provisioningState));
  const { reload } = tasks;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(reload, 1000);
    return () => clearInterval(timer);
  }, [running, reload]);
  const scopes = [
    root,
    ...(subscriptions.data ?? []).map((subscription) => `/subscriptions/${subscription.subscriptionId}`),
  ];
  return (
    <Page
      crumbs={[HOME, POLICY, { label: 'Remediation' }]}
      title="Policy | Remediation"
      subtitle="Remediation tasks"
      loading={tasks.loading && !tasks.data}
      commands={<Button onClick={reload}>Refresh</Button>}
    >
      <Field label="Scope">
        <Select
          value={scope}
          onChange={(_event, change) => navigate(hrefOf(['policy', 'remediation'], { scope: change.value }))}
        >
          {(scopes.includes(scope) ? scopes : [scope, ...scopes]).map((item) => (
            <option key={item} value={item}>
              {item === root
                ? 'Tenant root group'
                : (subscriptions.data?.find(
                    (subscription) => `/subscriptions/${subscription.subscriptionId}` === item,
                  )?.displayName ?? item)}
            </option>
          ))}
        </Select>
      </Field>
      <ArmErrorBar error={tasks.error} title="The remediation tasks could not be read" />
      <Table aria-label="Remediation tasks" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Task</TableHeaderCell>
            <TableHeaderCell>Assignment</TableHeaderCell>
            <TableHeaderCell>State</TableHeaderCell>
            <TableHeaderCell>Progress</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {(tasks.data ?? []).map((task) => {
            const status = task.properties.deploymentStatus ?? {
              totalDeployments: 0,
              successfulDeployments: 0,
              failedDeployments: 0,
            };
            const done = status.successfulDeployments + status.failedDeployments;
            const label = `${status.successfulDeployments} succeeded, ${status.failedDeployments} failed of ${status.totalDeployments}`;
            return (
              <TableRow key={task.id}>
                <TableCell>{task.name}</TableCell>
                <TableCell>
                  <a
                    href={hrefOf(['policy', 'compliance', 'assignment'], {
                      id: task.properties.policyAssignmentId,
                    })}
                  >
                    {task.properties.policyAssignmentId.split('/').pop()}
                  </a>
                </TableCell>
                <TableCell>
                  <Badge
                    appearance="tint"
                    color={
                      task.properties.provisioningState === 'Succeeded'
                        ? 'success'
                        : task.properties.provisioningState === 'Failed'
                          ? 'danger'
                          : 'informative'
                    }
                  >
                    {task.properties.provisioningState}
                  </Badge>
                </TableCell>
                <TableCell>
                  <Field validationMessage={label} validationState="none">
                    <ProgressBar
                      aria-label={`Progress of ${task.name}`}
                      value={
                        status.totalDeployments > 0
                          ? done / status.totalDeployments
                          : isTerminal(task.properties.provisioningState)
                            ? 1
                            : undefined
                      }
                      color={status.failedDeployments > 0 ? 'error' : 'brand'}
                    />
                  </Field>
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
    </Page>
  );
}
