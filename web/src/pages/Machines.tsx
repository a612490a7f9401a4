/**
 * The machine list: Azure VMs and Arc machines of every subscription (or one), virtualised so only
 * the visible rows exist in the DOM, read page by page as the list scrolls.
 *
 * What ARM does and what the portal does: the subscription filter is ARM's (only that
 * subscription's lists are read). ARM's VM and Arc lists take no `$filter` or `$orderby`, so OS,
 * power state, coverage, Qualys extension, name search and sorting apply to the machines read so
 * far; the page says how many that is and keeps reading while a filter leaves the view short.
 */
import {
  Badge,
  Button,
  Field,
  Input,
  Link,
  MessageBar,
  MessageBarBody,
  makeStyles,
  Select,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableCellLayout,
  TableHeader,
  TableHeaderCell,
  TableRow,
  TableSelectionCell,
  Text,
  tokens,
} from '@fluentui/react-components';
import { ArrowClockwise20Regular, Delete20Regular, Search20Regular } from '@fluentui/react-icons';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ArmRequestError } from '../arm/client';
import { type MultiAccess, useAccessIn } from '../auth/access';
import { ArmErrorBar } from '../components/ArmErrorBar';
import { DEFENDER, HOME, Page } from '../components/Page';
import { mapLimit } from '../concurrency';
import { toArmError } from '../data';
import { PROVIDER_LABELS, PROVIDER_ORDER, type ProviderKey } from '../domain/coverage';
import { type MachineRow, POWER_STATE_LABELS } from '../domain/machines';
import { useEstate } from '../estate/context';
import type { EstateStore } from '../estate/store';
import { useSubscriptions } from '../estate/subscriptions';
import { hrefOf, navigate } from '../router';
import { type RemovalTarget, RemoveQualysDialog } from './RemoveQualys';
import { ACTIONS } from './serversDraft';

const ROW_HEIGHT = 36;
const COLUMNS = '36px minmax(170px, 2fr) minmax(130px, 1.4fr) minmax(110px, 1fr) 92px 76px 164px 150px 104px';

const useStyles = makeStyles({
  filters: {
    display: 'flex',
    flexWrap: 'wrap',
    gap: '8px',
    alignItems: 'flex-end',
    border: 'none',
    margin: 0,
    padding: 0,
  },
  filter: { minWidth: '140px' },
  status: {
    display: 'flex',
    gap: '12px',
    flexWrap: 'wrap',
    alignItems: 'center',
    color: tokens.colorNeutralForeground2,
  },
  scroller: {
    height: 'calc(100vh - 380px)',
    minHeight: '260px',
    overflow: 'auto',
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
  },
  table: { minWidth: '1000px' },
  header: {
    position: 'sticky',
    top: 0,
    zIndex: 1,
    backgroundColor: tokens.colorNeutralBackground1,
  },
  row: { display: 'grid', gridTemplateColumns: COLUMNS, alignItems: 'center', height: `${ROW_HEIGHT}px` },
  empty: { padding: '24px', textAlign: 'center' },
});

type SortKey = 'name' | 'subscription' | 'resourceGroup' | 'os' | 'power' | 'provider' | 'legacy';

interface Filters {
  subscription: string;
  os: string;
  power: string;
  provider: string;
  legacy: string;
  q: string;
}

function filtersOf(query: URLSearchParams): Filters {
  return {
    subscription: query.get('subscription') ?? '',
    os: query.get('os') ?? '',
    power: query.get('power') ?? '',
    provider: query.get('provider') ?? '',
    legacy: query.get('legacy') ?? '',
    q: query.get('q') ?? '',
  };
}

function matches(store: EstateStore, row: MachineRow, filters: Filters): boolean {
  if (filters.os && row.os !== filters.os) return false;
  if (filters.power && row.powerState.toLowerCase() !== filters.power.toLowerCase()) return false;
  if (filters.q && !row.name.toLowerCase().includes(filters.q.toLowerCase())) return false;
  if (filters.provider) {
    const provider = store.coverageOf(row).provider;
    // "MDVM" (an assessment that does not say agent or agentless) matches either MDVM filter.
    const mdvm =
      provider === 'mdvm' && (filters.provider === 'mdvmAgent' || filters.provider === 'mdvmAgentless');
    if (provider !== filters.provider && !mdvm) return false;
  }
  if (filters.legacy && store.legacyOf(row) !== filters.legacy) return false;
  return true;
}

function sortValue(store: EstateStore, row: MachineRow, key: SortKey, names: Map<string, string>): string {
  switch (key) {
    case 'name':
      return row.name.toLowerCase();
    case 'subscription':
      return (names.get(row.subscriptionId.toLowerCase()) ?? row.subscriptionId).toLowerCase();
    case 'resourceGroup':
      return row.resourceGroup.toLowerCase();
    case 'os':
      return row.os;
    case 'power':
      return row.powerState.toLowerCase();
    case 'provider':
      return String(PROVIDER_ORDER.indexOf(store.coverageOf(row).provider));
    case 'legacy':
      return store.legacyOf(row);
  }
}

function SortHeader(props: {
  label: string;
  sortKey: SortKey;
  sort: { key: SortKey; descending: boolean } | undefined;
  onSort(key: SortKey): void;
}) {
  const active = props.sort?.key === props.sortKey;
  return (
    <TableHeaderCell
      sortable
      sortDirection={active ? (props.sort!.descending ? 'descending' : 'ascending') : undefined}
      onClick={() => props.onSort(props.sortKey)}
    >
      {props.label}
    </TableHeaderCell>
  );
}

/** The selected machines' Qualys extensions, read now, split by whether the principal may delete them. */
async function removalTargets(store: EstateStore, rows: MachineRow[], access: MultiAccess) {
  const targets: RemovalTarget[] = [];
  const refused: { target: RemovalTarget; reason: string }[] = [];
  const found = await mapLimit(rows, 8, async (row) => ({
    row,
    extensions: await store.readLegacyExtensions(row.id),
  }));
  for (const { row, extensions } of found) {
    const action = row.kind === 'arcMachine' ? ACTIONS.arcExtensionDelete : ACTIONS.vmExtensionDelete;
    for (const extension of extensions) {
      const target = { machineId: row.id, machineName: row.name, extension };
      if (access.can(action, extension.id)) targets.push(target);
      else refused.push({ target, reason: access.whyNot(action, extension.id, 'remove extensions') });
    }
  }
  return { targets, refused };
}

export function Machines({ query }: { query: URLSearchParams }) {
  const styles = useStyles();
  const store = useEstate();
  const subscriptions = useSubscriptions();
  const filters = filtersOf(query);
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [removing, setRemoving] = useState<{
    targets: RemovalTarget[];
    refused: { target: RemovalTarget; reason: string }[];
  }>();
  const scroller = useRef<HTMLDivElement>(null);

  const names = useMemo(
    () => new Map((subscriptions.data ?? []).map((s) => [s.subscriptionId.toLowerCase(), s.displayName])),
    [subscriptions.data],
  );
  const subscriptionIds = useMemo(() => {
    const all = (subscriptions.data ?? []).map((s) => s.subscriptionId);
    return filters.subscription
      ? all.filter((id) => id.toLowerCase() === filters.subscription.toLowerCase())
      : all;
  }, [subscriptions.data, filters.subscription]);
  const source = subscriptions.data ? store.machineSource(subscriptionIds) : undefined;
  const rows = source?.rows ?? [];
  const version = store.version();

  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` and `rows.length` stand for the store's mutable contents.
  const visibleRows = useMemo(() => {
    const filtered = rows.filter((row) => matches(store, row, filters));
    if (sort) {
      const direction = sort.descending ? -1 : 1;
      const keyed = filtered.map((row) => [sortValue(store, row, sort.key, names), row] as const);
      keyed.sort((left, right) => (left[0] < right[0] ? -direction : left[0] > right[0] ? direction : 0));
      return keyed.map(([, row]) => row);
    }
    return filtered;
  }, [
    rows,
    rows.length,
    version,
    filters.os,
    filters.power,
    filters.provider,
    filters.legacy,
    filters.q,
    sort,
    names,
  ]);

  const virtualizer = useVirtualizer({
    count: visibleRows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const lastVisible = items.length > 0 ? items[items.length - 1]!.index : 0;
  const needsDetails = filters.legacy !== '' || sort?.key === 'legacy';

  // Read more machines while the view is short of rows (scrolled near the end, or a filter thins it).
  useEffect(() => {
    if (!source || source.done || source.loading || source.error) return;
    if (visibleRows.length - lastVisible < 40 || visibleRows.length < 40) void source.loadMore();
  });

  // Extensions and coverage for what is on screen first; for everything read when a filter needs them.
  const visibleIds = items
    .map((item) => visibleRows[item.index]?.id)
    .filter((id): id is string => id !== undefined);
  const visibleKey = visibleIds.join('|');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `visibleKey` stands for the visible rows; `version` for coverage arriving.
  useEffect(() => {
    const byId = new Map(visibleRows.map((row) => [row.id, row]));
    const lacking = visibleIds.filter((id) => {
      const row = byId.get(id);
      return row !== undefined && store.needsExtensions(row);
    });
    store.requestExtensions(lacking, { urgent: true });
  }, [store, visibleKey, version]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` stands for coverage arriving.
  useEffect(() => {
    if (needsDetails)
      store.requestExtensions(rows.filter((row) => store.needsExtensions(row)).map((row) => row.id));
  }, [store, needsDetails, rows, version]);
  useEffect(() => {
    for (const id of new Set(rows.map((row) => row.subscriptionId))) store.requestCoverage(id);
  }, [store, rows]);

  const selectedRows = rows.filter((row) => selected.has(row.id));
  const access = useAccessIn(selectedRows.map((row) => row.subscriptionId));
  const selectedWithQualys = selectedRows.filter((row) => store.legacyOf(row) === 'yes');
  const unchecked = rows.filter((row) => store.legacyOf(row) === 'unknown').length;
  const [gathering, setGathering] = useState(false);
  const [gatherError, setGatherError] = useState<ArmRequestError>();

  async function startRemoval() {
    setGathering(true);
    setGatherError(undefined);
    try {
      setRemoving(await removalTargets(store, selectedWithQualys, access));
    } catch (error) {
      setGatherError(toArmError(error));
    } finally {
      setGathering(false);
    }
  }
  const coverageNote = (() => {
    const first = rows[0];
    const state = first ? store.coverageState(first.subscriptionId) : undefined;
    return state?.state === 'unavailable' ? state.message : undefined;
  })();

  function setFilter(name: keyof Filters, value: string) {
    const next = { ...filters, [name]: value };
    navigate(hrefOf(['machines'], next as unknown as Record<string, string>), { replace: true });
    setSelected(new Set());
  }

  function toggleSort(key: SortKey) {
    setSort((current) =>
      current?.key === key
        ? current.descending
          ? undefined
          : { key, descending: true }
        : { key, descending: false },
    );
  }

  const allVisibleSelected = visibleRows.length > 0 && visibleRows.every((row) => selected.has(row.id));

  return (
    <Page
      crumbs={[HOME, DEFENDER, { label: 'Machines' }]}
      title="Microsoft Defender for Cloud | Machines"
      subtitle="Azure VMs and Arc machines, their vulnerability assessment coverage and the legacy Qualys extension."
      commands={
        <>
          <Button
            appearance="subtle"
            icon={<Delete20Regular />}
            disabled={selectedWithQualys.length === 0 || !access.ready || gathering}
            onClick={startRemoval}
          >
            Remove Qualys extension{selectedWithQualys.length > 0 ? ` (${selectedWithQualys.length})` : ''}
          </Button>
          <Button
            appearance="subtle"
            icon={<ArrowClockwise20Regular />}
            onClick={() => {
              store.forgetMachines();
              setSelected(new Set());
            }}
          >
            Refresh
          </Button>
        </>
      }
    >
      <fieldset className={styles.filters} aria-label="Filters">
        <Field label="Subscription" size="small" className={styles.filter}>
          <Select
            value={filters.subscription}
            onChange={(_event, data) => setFilter('subscription', data.value)}
          >
            <option value="">All subscriptions</option>
            {(subscriptions.data ?? []).map((s) => (
              <option key={s.subscriptionId} value={s.subscriptionId}>
                {s.displayName}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Operating system" size="small" className={styles.filter}>
          <Select value={filters.os} onChange={(_event, data) => setFilter('os', data.value)}>
            <option value="">All</option>
            <option value="Windows">Windows</option>
            <option value="Linux">Linux</option>
          </Select>
        </Field>
        <Field label="Power state" size="small" className={styles.filter}>
          <Select value={filters.power} onChange={(_event, data) => setFilter('power', data.value)}>
            <option value="">All</option>
            {['running', 'deallocated', 'stopped', 'Connected', 'Disconnected', 'Expired'].map((state) => (
              <option key={state} value={state}>
                {POWER_STATE_LABELS[state]}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="VA coverage" size="small" className={styles.filter}>
          <Select value={filters.provider} onChange={(_event, data) => setFilter('provider', data.value)}>
            <option value="">All</option>
            {PROVIDER_ORDER.filter((key) => key !== 'mdvm').map((key) => (
              <option key={key} value={key}>
                {PROVIDER_LABELS[key]}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Qualys extension" size="small" className={styles.filter}>
          <Select value={filters.legacy} onChange={(_event, data) => setFilter('legacy', data.value)}>
            <option value="">Any</option>
            <option value="yes">Installed</option>
            <option value="no">Not installed</option>
          </Select>
        </Field>
        <Input
          aria-label="Search machines by name"
          placeholder="Search by name"
          contentBefore={<Search20Regular aria-hidden />}
          value={filters.q}
          onChange={(_event, data) => setFilter('q', data.value)}
        />
      </fieldset>
      <div className={styles.status} aria-live="polite">
        <Text size={200} data-testid="machines-status">
          {visibleRows.length.toLocaleString()} shown of {rows.length.toLocaleString()} machines read from{' '}
          {(source?.subscriptionsRead ?? 0).toLocaleString()} of {subscriptionIds.length.toLocaleString()}{' '}
          subscription(s)
          {source?.done ? ' (all read)' : ''}.
        </Text>
        {source?.loading && <Spinner size="extra-tiny" label="Reading machines…" labelPosition="after" />}
        {unchecked > 0 && needsDetails && (
          <Text size={200}>
            {unchecked.toLocaleString()} machine(s) not yet checked for the Qualys extension.
          </Text>
        )}
        <Text size={200}>
          The subscription filter is applied by ARM; the other filters and sorting apply to the machines read
          so far.
        </Text>
      </div>
      {coverageNote && (
        <MessageBar intent="info">
          <MessageBarBody>
            Coverage is unknown: the server did not answer the ffff0522 assessments ({coverageNote}).
          </MessageBarBody>
        </MessageBar>
      )}
      <ArmErrorBar error={subscriptions.error} title="Subscriptions could not be listed" />
      <ArmErrorBar error={source?.error} title="Machines could not be read" />
      <ArmErrorBar error={gatherError} title="The Qualys extensions could not be read" />
      <div ref={scroller} className={styles.scroller} data-testid="machines-scroller">
        <Table
          noNativeElements
          size="small"
          aria-label="Machines"
          aria-rowcount={visibleRows.length + 1}
          className={styles.table}
        >
          <TableHeader className={styles.header}>
            <TableRow aria-rowindex={1} className={styles.row}>
              <TableSelectionCell
                type="checkbox"
                checkboxIndicator={{ 'aria-label': 'Select all shown machines' }}
                checked={allVisibleSelected ? true : selected.size > 0 ? 'mixed' : false}
                onClick={() =>
                  setSelected(allVisibleSelected ? new Set() : new Set(visibleRows.map((row) => row.id)))
                }
              />
              <SortHeader label="Name" sortKey="name" sort={sort} onSort={toggleSort} />
              <SortHeader label="Subscription" sortKey="subscription" sort={sort} onSort={toggleSort} />
              <SortHeader label="Resource group" sortKey="resourceGroup" sort={sort} onSort={toggleSort} />
              <TableHeaderCell>Type</TableHeaderCell>
              <SortHeader label="OS" sortKey="os" sort={sort} onSort={toggleSort} />
              <SortHeader label="Power state" sortKey="power" sort={sort} onSort={toggleSort} />
              <SortHeader label="VA coverage" sortKey="provider" sort={sort} onSort={toggleSort} />
              <SortHeader label="Qualys extension" sortKey="legacy" sort={sort} onSort={toggleSort} />
            </TableRow>
          </TableHeader>
          <TableBody style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {items.map((item) => {
              const row = visibleRows[item.index]!;
              const legacy = store.legacyOf(row);
              const coverage = store.coverageOf(row);
              const isSelected = selected.has(row.id);
              return (
                <TableRow
                  key={row.id}
                  aria-rowindex={item.index + 2}
                  aria-selected={isSelected}
                  className={styles.row}
                  // Inline: positioning must win over the row styles Fluent applies.
                  style={{
                    position: 'absolute',
                    top: 0,
                    left: 0,
                    right: 0,
                    transform: `translateY(${item.start}px)`,
                  }}
                >
                  <TableSelectionCell
                    type="checkbox"
                    checkboxIndicator={{ 'aria-label': `Select ${row.name}` }}
                    checked={isSelected}
                    onClick={() => {
                      const next = new Set(selected);
                      if (isSelected) next.delete(row.id);
                      else next.add(row.id);
                      setSelected(next);
                    }}
                  />
                  <TableCell>
                    <TableCellLayout truncate>
                      <Link href={hrefOf(['machines', row.id])}>{row.name}</Link>
                    </TableCellLayout>
                  </TableCell>
                  <TableCell>
                    <TableCellLayout truncate title={row.subscriptionId}>
                      {names.get(row.subscriptionId.toLowerCase()) ?? row.subscriptionId}
                    </TableCellLayout>
                  </TableCell>
                  <TableCell>
                    <TableCellLayout truncate>{row.resourceGroup}</TableCellLayout>
                  </TableCell>
                  <TableCell>
                    <TableCellLayout truncate>{row.kind === 'azureVm' ? 'Azure VM' : 'Arc'}</TableCellLayout>
                  </TableCell>
                  <TableCell>{row.os}</TableCell>
                  <TableCell>
                    <TableCellLayout truncate>
                      {POWER_STATE_LABELS[row.powerState] ?? row.powerState}
                    </TableCellLayout>
                  </TableCell>
                  <TableCell>
                    <TableCellLayout truncate>
                      {PROVIDER_LABELS[coverage.provider as ProviderKey]}
                    </TableCellLayout>
                  </TableCell>
                  <TableCell>
                    {legacy === 'yes' ? (
                      <Badge appearance="tint" color="danger">
                        Installed
                      </Badge>
                    ) : legacy === 'no' ? (
                      'None'
                    ) : (
                      '…'
                    )}
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
        {visibleRows.length === 0 && !source?.loading && (
          <div className={styles.empty}>
            <Text>{source?.done ? 'No machines match the filters.' : 'Reading machines…'}</Text>
          </div>
        )}
      </div>
      {removing && (
        <RemoveQualysDialog
          open
          targets={removing.targets}
          refused={removing.refused}
          onClose={() => {
            setRemoving(undefined);
            setSelected(new Set());
          }}
          onRemoved={(machineId) => {
            const row = rows.find((candidate) => candidate.id === machineId);
            if (row) store.forgetMachine(row);
          }}
        />
      )}
    </Page>
  );
}
