/** One machine: its VA coverage and the reasons, its extensions, its assessments. */
import {
  Badge,
  Button,
  MessageBar,
  MessageBarBody,
  makeStyles,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  tokens,
} from '@fluentui/react-components';
import { ArrowClockwise20Regular, Delete20Regular } from '@fluentui/react-icons';
import { useState } from 'react';
import { isArcMachineId, parseResourceId } from '../arm/ids';
import { API, VA_ASSESSMENT_KEY } from '../arm/versions';
import { useAccessIn } from '../auth/access';
import { useSession } from '../auth/session';
import { ArmErrorBar } from '../components/ArmErrorBar';
import { DEFENDER, HOME, Page } from '../components/Page';
import { useArmQuery } from '../data';
import { type AssessmentBody, coverageOfAssessment, PROVIDER_LABELS } from '../domain/coverage';
import {
  type ArcBody,
  arcRow,
  type ExtensionBody,
  isLegacyQualysExtension,
  POWER_STATE_LABELS,
  type VmBody,
  vmRow,
} from '../domain/machines';
import { useEstate } from '../estate/context';
import { type RemovalTarget, RemoveQualysDialog } from './RemoveQualys';
import { ACTIONS } from './serversDraft';

const useStyles = makeStyles({
  facts: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '4px 16px', margin: 0 },
  term: { color: tokens.colorNeutralForeground2 },
  section: { display: 'flex', flexDirection: 'column', gap: '8px' },
  heading: { margin: 0, fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold },
  tableWrap: { overflowX: 'auto' },
  reasons: { margin: 0, paddingLeft: '20px' },
});

export function MachinePage({ machineId }: { machineId: string }) {
  const styles = useStyles();
  const session = useSession();
  const store = useEstate();
  const parts = parseResourceId(machineId);
  const arc = isArcMachineId(machineId);
  const apiVersion = arc ? API.hybridCompute : API.compute;
  const [removing, setRemoving] = useState<RemovalTarget[]>();
  const machine = useArmQuery(`machine:${machineId.toLowerCase()}`, (signal) =>
    session.client.get<VmBody | ArcBody>(machineId, {
      apiVersion,
      query: arc ? undefined : { $expand: 'instanceView' },
      signal,
    }),
  );
  const extensions = useArmQuery(`extensions:${machineId.toLowerCase()}`, (signal) =>
    session.client.listAll<ExtensionBody>(`${machineId}/extensions`, { apiVersion, signal }),
  );
  const assessments = useArmQuery(`assessments:${machineId.toLowerCase()}`, (signal) =>
    session.client.listAll<AssessmentBody>(`${machineId}/providers/Microsoft.Security/assessments`, {
      apiVersion: API.assessments,
      signal,
    }),
  );
  const access = useAccessIn(parts.subscriptionId ? [parts.subscriptionId] : []);
  const row = machine.data
    ? arc
      ? arcRow(machine.data as ArcBody)
      : vmRow(machine.data as VmBody)
    : undefined;
  const legacy = (extensions.data ?? []).filter(isLegacyQualysExtension);
  const vaAssessment = assessments.data?.find(
    (assessment) => assessment.name.toLowerCase() === VA_ASSESSMENT_KEY,
  );
  const coverage = vaAssessment ? coverageOfAssessment(vaAssessment) : undefined;
  const deleteAction = arc ? ACTIONS.arcExtensionDelete : ACTIONS.vmExtensionDelete;
  const canRemove = legacy.every((extension) => access.can(deleteAction, extension.id));

  return (
    <Page
      crumbs={[HOME, DEFENDER, { label: 'Machines', href: '#/machines' }, { label: parts.name ?? 'Machine' }]}
      title={parts.name ?? machineId}
      subtitle={arc ? 'Azure Arc machine' : 'Azure virtual machine'}
      loading={machine.loading && !machine.data}
      commands={
        <>
          <Button
            appearance="subtle"
            icon={<Delete20Regular />}
            disabled={legacy.length === 0 || !access.ready || !canRemove}
            onClick={() =>
              setRemoving(
                legacy.map((extension) => ({ machineId, machineName: parts.name ?? machineId, extension })),
              )
            }
          >
            Remove Qualys extension
          </Button>
          <Button
            appearance="subtle"
            icon={<ArrowClockwise20Regular />}
            onClick={() => {
              machine.reload();
              extensions.reload();
              assessments.reload();
            }}
          >
            Refresh
          </Button>
        </>
      }
    >
      <ArmErrorBar error={machine.error} title="The machine could not be read" />
      {legacy.length > 0 && access.ready && !canRemove && (
        <MessageBar intent="info" data-testid="read-only-reason">
          <MessageBarBody>
            {access.whyNot(deleteAction, legacy[0]!.id, 'remove extensions from this machine')}
          </MessageBarBody>
        </MessageBar>
      )}
      {row && (
        <dl className={styles.facts}>
          <dt className={styles.term}>Subscription</dt>
          <dd>{row.subscriptionId}</dd>
          <dt className={styles.term}>Resource group</dt>
          <dd>{row.resourceGroup}</dd>
          <dt className={styles.term}>Location</dt>
          <dd>{row.location}</dd>
          <dt className={styles.term}>Operating system</dt>
          <dd>
            {row.os}
            {row.image ? ` (${row.image})` : ''}
          </dd>
          <dt className={styles.term}>{arc ? 'Status' : 'Power state'}</dt>
          <dd>{POWER_STATE_LABELS[row.powerState] ?? row.powerState}</dd>
        </dl>
      )}

      <section className={styles.section} aria-labelledby="coverage-heading">
        <h2 id="coverage-heading" className={styles.heading}>
          Vulnerability assessment coverage
        </h2>
        {assessments.error ? (
          <MessageBar intent="info" layout="multiline">
            <MessageBarBody>
              Coverage is unknown: the assessments could not be read ({assessments.error.code}:{' '}
              {assessments.error.message}).
            </MessageBarBody>
          </MessageBar>
        ) : coverage ? (
          <>
            <Text>
              Provider: <Badge appearance="tint">{PROVIDER_LABELS[coverage.provider]}</Badge> · Status{' '}
              <strong>{coverage.status}</strong>
              {coverage.cause ? ` (cause ${coverage.cause})` : ''}
            </Text>
            {coverage.description && <Text>{coverage.description}</Text>}
            {coverage.reasons.length > 0 && (
              <ul className={styles.reasons} aria-label="Reasons">
                {coverage.reasons.map((reason) => (
                  <li key={reason}>{reason}</li>
                ))}
              </ul>
            )}
          </>
        ) : assessments.loading ? (
          <Text>Reading…</Text>
        ) : (
          <Text>
            Unknown: the machine has no “Machines should have a vulnerability assessment solution” assessment.
          </Text>
        )}
        <Text>
          Legacy Qualys extension:{' '}
          {extensions.data ? (
            legacy.length > 0 ? (
              <Badge appearance="tint" color="danger">
                Installed ({legacy.map((extension) => extension.name).join(', ')})
              </Badge>
            ) : (
              'not installed'
            )
          ) : (
            '…'
          )}
        </Text>
      </section>

      <section className={styles.section} aria-labelledby="extensions-heading">
        <h2 id="extensions-heading" className={styles.heading}>
          Extensions
        </h2>
        <ArmErrorBar error={extensions.error} title="The extensions could not be read" />
        {extensions.data && (
          <div className={styles.tableWrap}>
            <Table aria-label="Extensions" size="small">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Name</TableHeaderCell>
                  <TableHeaderCell>Publisher</TableHeaderCell>
                  <TableHeaderCell>Type</TableHeaderCell>
                  <TableHeaderCell>Version</TableHeaderCell>
                  <TableHeaderCell>Provisioning state</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {(extensions.data ?? []).map((extension) => (
                  <TableRow key={extension.id}>
                    <TableCell>
                      {extension.name}{' '}
                      {isLegacyQualysExtension(extension) && (
                        <Badge appearance="tint" color="danger">
                          Built-in Qualys (retired)
                        </Badge>
                      )}
                    </TableCell>
                    <TableCell>{extension.properties.publisher}</TableCell>
                    <TableCell>{extension.properties.type}</TableCell>
                    <TableCell>{extension.properties.typeHandlerVersion}</TableCell>
                    <TableCell>{extension.properties.provisioningState ?? 'Succeeded'}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </div>
        )}
      </section>

      <section className={styles.section} aria-labelledby="assessments-heading">
        <h2 id="assessments-heading" className={styles.heading}>
          Assessments
        </h2>
        {assessments.data && assessments.data.length === 0 && <Text>No assessments.</Text>}
        {assessments.data && assessments.data.length > 0 && (
          <div className={styles.tableWrap}>
            <Table aria-label="Assessments" size="small">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Recommendation</TableHeaderCell>
                  <TableHeaderCell>Status</TableHeaderCell>
                  <TableHeaderCell>Cause</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {assessments.data.map((assessment) => (
                  <TableRow key={assessment.id}>
                    <TableCell>{assessment.properties.displayName ?? assessment.name}</TableCell>
                    <TableCell>{assessment.properties.status.code}</TableCell>
                    <TableCell>{assessment.properties.status.cause ?? '—'}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </div>
        )}
      </section>
      {removing && (
        <RemoveQualysDialog
          open
          targets={removing}
          refused={[]}
          onClose={() => {
            setRemoving(undefined);
            extensions.reload();
            assessments.reload();
          }}
          onRemoved={() => store.forgetMachine({ id: machineId, subscriptionId: parts.subscriptionId ?? '' })}
        />
      )}
    </Page>
  );
}
