import {
  Badge,
  Button,
  Input,
  Link,
  MessageBar,
  MessageBarBody,
  makeStyles,
  ProgressBar,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Tree,
  TreeItem,
  TreeItemLayout,
  type TreeOpenChangeData,
  tokens,
} from '@fluentui/react-components';
import {
  ArrowClockwise20Regular,
  Building20Regular,
  Key20Regular,
  Search20Regular,
} from '@fluentui/react-icons';
import { type KeyboardEvent, useState } from 'react';
import { API } from '../arm/versions';
import { useSession } from '../auth/session';
import { ArmErrorBar } from '../components/ArmErrorBar';
import { DEFENDER, HOME, Page } from '../components/Page';
import { invalidate, useArmQuery } from '../data';
import { type Subscription, useSubscriptions } from '../estate/subscriptions';
import {
  type ConnectorBody,
  connectorVaProvider,
  type SubscriptionVaStatus,
  useConnectors,
  useVaStatuses,
} from '../estate/transition';
import { hrefOf, navigate } from '../router';

const useStyles = makeStyles({
  toolbar: { display: 'flex', gap: '8px', flexWrap: 'wrap', alignItems: 'center' },
  section: { display: 'flex', flexDirection: 'column', gap: '8px' },
  sectionTitle: { margin: 0, fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold },
  tree: { maxWidth: '960px' },
  muted: { color: tokens.colorNeutralForeground2 },
  tableWrap: { overflowX: 'auto' },
});

interface GroupChild {
  id: string;
  type: string;
  name: string;
  displayName: string;
}

interface GroupBody {
  id: string;
  name: string;
  properties: { displayName: string; children?: GroupChild[] | null };
}

function isSubscriptionChild(child: GroupChild): boolean {
  return (
    child.type.toLowerCase() === '/subscriptions' || child.id.toLowerCase().startsWith('/subscriptions/')
  );
}

function subscriptionHref(subscriptionId: string): string {
  return hrefOf(['environment', 'subscriptions', subscriptionId]);
}

function VaBadge({ status }: { status: SubscriptionVaStatus | undefined }) {
  if (!status)
    return (
      <Badge appearance="outline" color="informative">
        VA: checking…
      </Badge>
    );
  if (status.error)
    return (
      <Badge appearance="outline" color="subtle">
        VA: unknown
      </Badge>
    );
  return status.selectsMdeTvm ? (
    <Badge appearance="tint" color="success">
      VA: Microsoft Defender Vulnerability Management
    </Badge>
  ) : (
    <Badge appearance="tint" color="warning">
      VA: not transitioned
    </Badge>
  );
}

function openOnEnter(href: string) {
  return (event: KeyboardEvent) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      navigate(href);
    }
  };
}

/** One management group: its children are read when it is first opened. */
function GroupNode(props: {
  groupName: string;
  displayName: string;
  open: Set<string>;
  statuses: Map<string, SubscriptionVaStatus>;
}) {
  const session = useSession();
  const isOpen = props.open.has(props.groupName);
  const children = useArmQuery(isOpen ? `group:${props.groupName}` : null, (signal) =>
    session.client.get<GroupBody>(`/providers/Microsoft.Management/managementGroups/${props.groupName}`, {
      apiVersion: API.managementGroups,
      query: { $expand: 'children' },
      signal,
    }),
  );
  const items = [...(children.data?.properties.children ?? [])].sort((left, right) => {
    const bySubscription = Number(isSubscriptionChild(left)) - Number(isSubscriptionChild(right));
    return bySubscription !== 0 ? bySubscription : left.displayName.localeCompare(right.displayName);
  });
  return (
    <TreeItem itemType="branch" value={props.groupName} aria-label={`Management group ${props.displayName}`}>
      <TreeItemLayout iconBefore={<Building20Regular aria-hidden />}>{props.displayName}</TreeItemLayout>
      <Tree>
        {children.loading && !children.data && (
          <TreeItem itemType="leaf" value={`${props.groupName}:loading`}>
            <TreeItemLayout>
              <Spinner size="extra-tiny" label="Loading…" labelPosition="after" />
            </TreeItemLayout>
          </TreeItem>
        )}
        {children.error && (
          <TreeItem itemType="leaf" value={`${props.groupName}:error`}>
            <TreeItemLayout>
              {children.error.code}: {children.error.message}
            </TreeItemLayout>
          </TreeItem>
        )}
        {items.map((child) =>
          isSubscriptionChild(child) ? (
            <TreeItem
              key={child.id}
              itemType="leaf"
              value={child.id}
              onClick={() => navigate(subscriptionHref(child.name))}
              onKeyDown={openOnEnter(subscriptionHref(child.name))}
              aria-label={`Subscription ${child.displayName}`}
            >
              <TreeItemLayout
                iconBefore={<Key20Regular aria-hidden />}
                aside={<VaBadge status={props.statuses.get(child.name.toLowerCase())} />}
              >
                {child.displayName}
              </TreeItemLayout>
            </TreeItem>
          ) : (
            <GroupNode
              key={child.id}
              groupName={child.name}
              displayName={child.displayName}
              open={props.open}
              statuses={props.statuses}
            />
          ),
        )}
      </Tree>
    </TreeItem>
  );
}

function SubscriptionTable({ rows, caption }: { rows: SubscriptionVaStatus[]; caption: string }) {
  const styles = useStyles();
  return (
    <div className={styles.tableWrap}>
      <Table aria-label={caption} size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Subscription</TableHeaderCell>
            <TableHeaderCell>Subscription ID</TableHeaderCell>
            <TableHeaderCell>Vulnerability assessment</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map((row) => (
            <TableRow key={row.subscription.subscriptionId}>
              <TableCell>
                <Link href={subscriptionHref(row.subscription.subscriptionId)}>
                  {row.subscription.displayName}
                </Link>
              </TableCell>
              <TableCell>{row.subscription.subscriptionId}</TableCell>
              <TableCell>
                <VaBadge status={row} />
                {row.error && <Text size={200}> {row.error}</Text>}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </div>
  );
}

function ConnectorsTable({ rows }: { rows: { subscription: Subscription; connector: ConnectorBody }[] }) {
  const styles = useStyles();
  return (
    <div className={styles.tableWrap}>
      <Table aria-label="Multicloud connectors" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Connector</TableHeaderCell>
            <TableHeaderCell>Environment</TableHeaderCell>
            <TableHeaderCell>Account / project</TableHeaderCell>
            <TableHeaderCell>Subscription</TableHeaderCell>
            <TableHeaderCell>Vulnerability assessment</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map(({ subscription, connector }) => {
            const va = connectorVaProvider(connector);
            return (
              <TableRow key={connector.id}>
                <TableCell>
                  <Link href={hrefOf(['environment', 'connectors', connector.id])}>{connector.name}</Link>
                </TableCell>
                <TableCell>{connector.properties.environmentName ?? '—'}</TableCell>
                <TableCell>{connector.properties.hierarchyIdentifier ?? '—'}</TableCell>
                <TableCell>{subscription.displayName}</TableCell>
                <TableCell>
                  {!va ? (
                    <Text>No Defender for Servers offering</Text>
                  ) : !va.enabled ? (
                    <Badge appearance="tint" color="warning">
                      Off
                    </Badge>
                  ) : va.type?.toUpperCase() === 'TVM' ? (
                    <Badge appearance="tint" color="success">
                      Microsoft Defender Vulnerability Management
                    </Badge>
                  ) : (
                    <Badge appearance="tint" color="danger">
                      {va.type === 'Qualys' ? 'Built-in Qualys (retired)' : va.type}
                    </Badge>
                  )}
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
    </div>
  );
}

export function EnvironmentSettings({ query }: { query: URLSearchParams }) {
  const styles = useStyles();
  const session = useSession();
  const subscriptions = useSubscriptions();
  const statuses = useVaStatuses(subscriptions.data);
  const connectors = useConnectors(subscriptions.data);
  const [search, setSearch] = useState('');
  const [open, setOpen] = useState<Set<string>>(() => new Set([session.claims.tid]));
  const root = useArmQuery(`group-root:${session.claims.tid}`, (signal) =>
    session.client.get<GroupBody>(`/providers/Microsoft.Management/managementGroups/${session.claims.tid}`, {
      apiVersion: API.managementGroups,
      signal,
    }),
  );
  const toTransition = query.get('filter') === 'toTransition';
  const statusById = new Map(
    (statuses.data ?? []).map((status) => [status.subscription.subscriptionId.toLowerCase(), status]),
  );
  const needle = search.trim().toLowerCase();
  const searched = (statuses.data ?? []).filter(
    (status) =>
      status.subscription.displayName.toLowerCase().includes(needle) ||
      status.subscription.subscriptionId.toLowerCase().includes(needle),
  );
  const pending = (statuses.data ?? []).filter((status) => !status.selectsMdeTvm);
  const connectorRows = (connectors.data ?? []).flatMap((entry) =>
    entry.connectors
      .filter((connector) => connector.name.toLowerCase().includes(needle) || needle === '')
      .map((connector) => ({ subscription: entry.subscription, connector })),
  );
  const connectorErrors = (connectors.data ?? []).filter((entry) => entry.error);

  function onOpenChange(_event: unknown, data: TreeOpenChangeData) {
    setOpen(new Set([...data.openItems].map(String)));
  }

  return (
    <Page
      crumbs={[HOME, DEFENDER]}
      title="Microsoft Defender for Cloud | Environment settings"
      subtitle="Management groups, subscriptions and multicloud connectors. Select a subscription to edit its Defender plans."
      commands={
        <Button
          appearance="subtle"
          icon={<ArrowClockwise20Regular />}
          onClick={() => {
            invalidate('subscriptions');
            invalidate('va-status');
            invalidate('connectors');
            invalidate('group');
          }}
        >
          Refresh
        </Button>
      }
    >
      <div className={styles.toolbar}>
        <Input
          aria-label="Search subscriptions and connectors by name"
          placeholder="Search by name or ID"
          contentBefore={<Search20Regular aria-hidden />}
          value={search}
          onChange={(_event, data) => setSearch(data.value)}
        />
        {statuses.loading && statuses.progress.total > 0 && (
          <Text size={200} className={styles.muted}>
            Checked {statuses.progress.done} of {statuses.progress.total} subscriptions…
          </Text>
        )}
      </div>
      <ArmErrorBar error={subscriptions.error} title="Subscriptions could not be listed" />

      {toTransition && (
        <section className={styles.section} aria-labelledby="pending-title">
          <h2 id="pending-title" className={styles.sectionTitle}>
            Subscriptions still to transition ({pending.length})
          </h2>
          <MessageBar intent="warning">
            <MessageBarBody>
              These subscriptions have not selected Microsoft Defender Vulnerability Management (no{' '}
              <code>AzureServersSetting</code> with <code>MdeTvm</code>).{' '}
              <Link href="#/environment">Show all</Link>
            </MessageBarBody>
          </MessageBar>
          {statuses.loading && (
            <ProgressBar
              value={statuses.progress.total ? statuses.progress.done / statuses.progress.total : undefined}
              aria-label="Checking subscriptions"
            />
          )}
          <SubscriptionTable rows={pending} caption="Subscriptions still to transition" />
        </section>
      )}

      {!toTransition && needle !== '' && (
        <section className={styles.section} aria-labelledby="search-title">
          <h2 id="search-title" className={styles.sectionTitle}>
            Subscriptions matching “{search.trim()}” ({searched.length})
          </h2>
          <SubscriptionTable rows={searched} caption="Matching subscriptions" />
        </section>
      )}

      {!toTransition && needle === '' && (
        <section className={styles.section} aria-labelledby="tree-title">
          <h2 id="tree-title" className={styles.sectionTitle}>
            Azure
          </h2>
          {root.error ? (
            <>
              <MessageBar intent="info">
                <MessageBarBody>
                  Management groups could not be read ({root.error.code}: {root.error.message}); showing your
                  subscriptions instead.
                </MessageBarBody>
              </MessageBar>
              <SubscriptionTable rows={statuses.data ?? []} caption="Subscriptions" />
            </>
          ) : (
            <Tree
              className={styles.tree}
              aria-label="Management groups and subscriptions"
              openItems={open}
              onOpenChange={onOpenChange}
            >
              <GroupNode
                groupName={session.claims.tid}
                displayName={root.data?.properties.displayName ?? 'Tenant Root Group'}
                open={open}
                statuses={statusById}
              />
            </Tree>
          )}
        </section>
      )}

      <section className={styles.section} aria-labelledby="connectors-title">
        <h2 id="connectors-title" className={styles.sectionTitle}>
          Multicloud connectors (GCP and AWS)
        </h2>
        {connectors.loading && (
          <Text size={200} className={styles.muted}>
            Searched {connectors.progress.done} of {connectors.progress.total} subscriptions for connectors…
          </Text>
        )}
        {connectorErrors.length > 0 && (
          <MessageBar intent="warning">
            <MessageBarBody>
              Connectors could not be listed in {connectorErrors.length} subscription(s):{' '}
              {connectorErrors[0]!.error}
            </MessageBarBody>
          </MessageBar>
        )}
        {!connectors.loading && connectorRows.length === 0 ? (
          <Text className={styles.muted}>No GCP or AWS connectors.</Text>
        ) : (
          <ConnectorsTable rows={connectorRows} />
        )}
      </section>
    </Page>
  );
}
