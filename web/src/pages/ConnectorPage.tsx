/**
 * A GCP or AWS security connector: its offerings, and the switch of its Defender for Servers VA
 * provider to MDVM the way Microsoft's transition page describes it (§4.5): GET the connector,
 * change only `vaAutoProvisioning`, PUT the whole connector back with `If-Match` on its ETag.
 */
import {
  Badge,
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
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
import { useState } from 'react';
import type { ArmRequestError } from '../arm/client';
import { parseResourceId } from '../arm/ids';
import { API } from '../arm/versions';
import { useSubscriptionAccess } from '../auth/access';
import { useSession } from '../auth/session';
import { ArmErrorBar } from '../components/ArmErrorBar';
import { DEFENDER, HOME, Page } from '../components/Page';
import { invalidate, toArmError, useArmQuery } from '../data';
import { type ConnectorBody, connectorVaProvider, serversOffering } from '../estate/transition';
import { ACTIONS } from './serversDraft';

const useStyles = makeStyles({
  facts: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '4px 16px', margin: 0 },
  term: { color: tokens.colorNeutralForeground2 },
  section: { display: 'flex', flexDirection: 'column', gap: '8px' },
  heading: { margin: 0, fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold },
  tableWrap: { overflowX: 'auto' },
  autoLayout: { tableLayout: 'auto' },
  code: { fontSize: tokens.fontSizeBase200, whiteSpace: 'pre-wrap', wordBreak: 'break-all' },
});

function describeToggle(value: unknown): string {
  const toggle = value as { enabled?: boolean; configuration?: Record<string, unknown> } | undefined;
  if (!toggle || typeof toggle !== 'object') return '—';
  const type = toggle.configuration?.type;
  return `${toggle.enabled ? 'On' : 'Off'}${typeof type === 'string' ? ` (${type})` : ''}`;
}

function subPlanOf(offering: Record<string, unknown>): string {
  const subPlan = offering.subPlan as { type?: string } | string | undefined;
  if (typeof subPlan === 'string') return subPlan;
  return subPlan?.type ?? 'P2 (default)';
}

/** The connector with its servers offering switched to TVM; everything else kept as read. */
export function withTvm(connector: ConnectorBody): ConnectorBody {
  const {
    id: _id,
    name: _name,
    type: _type,
    systemData: _systemData,
    etag: _etag,
    ...rest
  } = connector as ConnectorBody & {
    type?: string;
    systemData?: unknown;
  };
  return {
    ...rest,
    properties: {
      ...connector.properties,
      offerings: connector.properties.offerings?.map((offering) =>
        /^DefenderForServers(Aws|Gcp)$/i.test(offering.offeringType)
          ? { ...offering, vaAutoProvisioning: { enabled: true, configuration: { type: 'TVM' } } }
          : offering,
      ),
    },
  } as ConnectorBody;
}

export function ConnectorPage({ connectorId }: { connectorId: string }) {
  const styles = useStyles();
  const session = useSession();
  const parts = parseResourceId(connectorId);
  const access = useSubscriptionAccess(parts.subscriptionId);
  const connector = useArmQuery(`connector:${connectorId.toLowerCase()}`, (signal) =>
    session.client.get<ConnectorBody>(connectorId, { apiVersion: API.securityConnectors, signal }),
  );
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ArmRequestError>();
  const [done, setDone] = useState(false);

  const body = connector.data;
  const va = body ? connectorVaProvider(body) : undefined;
  const offering = body ? serversOffering(body) : undefined;
  const onTvm = va?.enabled === true && va.type?.toUpperCase() === 'TVM';
  const canWrite = access.can(ACTIONS.connectorsWrite, connectorId);

  async function switchToTvm() {
    setBusy(true);
    setError(undefined);
    try {
      // A fresh read: the ETag guards against a change made since the page was shown.
      const read = await session.client.request<ConnectorBody>('GET', connectorId, {
        apiVersion: API.securityConnectors,
      });
      const etag = read.headers.get('etag') ?? read.body.etag;
      await session.client.request('PUT', connectorId, {
        apiVersion: API.securityConnectors,
        body: withTvm(read.body),
        headers: etag ? { 'if-match': etag } : {},
      });
      setDone(true);
      invalidate(`connector:${connectorId.toLowerCase()}`);
      invalidate('connectors');
    } catch (caught) {
      setError(toArmError(caught));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <Page
      crumbs={[
        HOME,
        DEFENDER,
        { label: 'Environment settings', href: '#/environment' },
        { label: body?.name ?? parts.name ?? 'Connector' },
      ]}
      title={`${body?.name ?? parts.name ?? 'Connector'} | Settings`}
      subtitle={
        body
          ? `${body.properties.environmentName ?? ''} connector · ${body.properties.hierarchyIdentifier ?? ''}`
          : undefined
      }
      loading={connector.loading && !body}
    >
      <ArmErrorBar error={connector.error} title="The connector could not be read" />
      {body && (
        <>
          <dl className={styles.facts}>
            <dt className={styles.term}>Environment</dt>
            <dd>{body.properties.environmentName}</dd>
            <dt className={styles.term}>
              {body.properties.environmentName === 'AWS' ? 'Account' : 'Project number'}
            </dt>
            <dd>{body.properties.hierarchyIdentifier}</dd>
            <dt className={styles.term}>Location</dt>
            <dd>{body.location}</dd>
            <dt className={styles.term}>Resource group</dt>
            <dd>{parts.resourceGroup}</dd>
            <dt className={styles.term}>Subscription</dt>
            <dd>{parts.subscriptionId}</dd>
          </dl>

          <section className={styles.section} aria-labelledby="va-heading">
            <h2 id="va-heading" className={styles.heading}>
              Vulnerability assessment
            </h2>
            {!offering ? (
              <Text>
                This connector has no Defender for Servers offering, so it provisions no vulnerability
                assessment.
              </Text>
            ) : (
              <>
                <Text>
                  Provider:{' '}
                  {onTvm ? (
                    <Badge appearance="tint" color="success">
                      Microsoft Defender Vulnerability Management (TVM)
                    </Badge>
                  ) : va?.enabled ? (
                    <Badge appearance="tint" color="danger">
                      Built-in Qualys (retired)
                    </Badge>
                  ) : (
                    <Badge appearance="tint" color="warning">
                      Off
                    </Badge>
                  )}
                </Text>
                {!onTvm && access.ready && !canWrite && (
                  <MessageBar intent="info" data-testid="read-only-reason">
                    <MessageBarBody>
                      {access.whyNot(ACTIONS.connectorsWrite, 'change this connector')}
                    </MessageBarBody>
                  </MessageBar>
                )}
                {!onTvm && (
                  <div>
                    <Button
                      appearance="primary"
                      disabled={busy || !canWrite}
                      onClick={() => setConfirming(true)}
                    >
                      Switch to Microsoft Defender Vulnerability Management
                    </Button>
                  </div>
                )}
                {done && (
                  <MessageBar intent="success">
                    <MessageBarBody>
                      <MessageBarTitle>Saved</MessageBarTitle>
                      The connector now provisions Microsoft Defender Vulnerability Management (TVM).
                    </MessageBarBody>
                  </MessageBar>
                )}
                <ArmErrorBar error={error} title="The connector was not changed" />
              </>
            )}
          </section>

          <section className={styles.section} aria-labelledby="offerings-heading">
            <h2 id="offerings-heading" className={styles.heading}>
              Offerings
            </h2>
            <div className={styles.tableWrap}>
              <Table aria-label="Offerings" size="small" className={styles.autoLayout}>
                <TableHeader>
                  <TableRow>
                    <TableHeaderCell>Offering</TableHeaderCell>
                    <TableHeaderCell>Sub-plan</TableHeaderCell>
                    <TableHeaderCell>Vulnerability assessment</TableHeaderCell>
                    <TableHeaderCell>Defender for Endpoint</TableHeaderCell>
                    <TableHeaderCell>Azure Arc</TableHeaderCell>
                    <TableHeaderCell>Agentless scanning</TableHeaderCell>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {(body.properties.offerings ?? []).map((item) => {
                    const servers = /^DefenderForServers/i.test(item.offeringType);
                    return (
                      <TableRow key={item.offeringType}>
                        <TableCell>{item.offeringType}</TableCell>
                        <TableCell>{servers ? subPlanOf(item) : '—'}</TableCell>
                        <TableCell>{servers ? describeToggle(item.vaAutoProvisioning) : '—'}</TableCell>
                        <TableCell>{servers ? describeToggle(item.mdeAutoProvisioning) : '—'}</TableCell>
                        <TableCell>{servers ? describeToggle(item.arcAutoProvisioning) : '—'}</TableCell>
                        <TableCell>{'vmScanners' in item ? describeToggle(item.vmScanners) : '—'}</TableCell>
                      </TableRow>
                    );
                  })}
                </TableBody>
              </Table>
            </div>
          </section>
        </>
      )}
      <Dialog open={confirming} onOpenChange={(_event, data) => setConfirming(data.open)}>
        <DialogSurface aria-describedby="tvm-confirm">
          <DialogBody>
            <DialogTitle>Switch to Microsoft Defender Vulnerability Management?</DialogTitle>
            <DialogContent id="tvm-confirm">
              The connector is read again, its Defender for Servers offering's vulnerability assessment is set
              to TVM, and the whole connector is written back (PUT with If-Match on its ETag). Nothing else
              changes.
            </DialogContent>
            <DialogActions>
              <Button appearance="primary" disabled={busy} onClick={switchToTvm}>
                {busy ? 'Saving…' : 'Switch'}
              </Button>
              <Button disabled={busy} onClick={() => setConfirming(false)}>
                Cancel
              </Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </Page>
  );
}
