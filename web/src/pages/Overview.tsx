/**
 * The transition at a glance: coverage by provider, subscriptions still to transition, machines
 * still carrying the Qualys extension, connectors still on Qualys, and the retirement notice — each
 * a link to the filtered list behind it. Machines are read through the same store as the machine
 * list; past AUTO_READ_LIMIT the page asks before reading on, and says what its counts cover.
 */
import {
  Button,
  Card,
  CardHeader,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  makeStyles,
  ProgressBar,
  Text,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { ArmErrorBar } from '../components/ArmErrorBar';
import { HOME, Page } from '../components/Page';
import { PROVIDER_COLOURS, PROVIDER_LABELS, PROVIDER_ORDER, type ProviderKey } from '../domain/coverage';
import { RETIREMENT_DOCS } from '../domain/plans';
import { useEstate } from '../estate/context';
import { useSubscriptions } from '../estate/subscriptions';
import { connectorVaProvider, useConnectors, useVaStatuses } from '../estate/transition';
import { hrefOf } from '../router';

const AUTO_READ_LIMIT = 5000;

const useStyles = makeStyles({
  cards: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(220px, 1fr))', gap: '12px' },
  card: { padding: '12px' },
  figure: {
    fontSize: tokens.fontSizeHero800,
    lineHeight: tokens.lineHeightHero800,
    fontWeight: tokens.fontWeightSemibold,
  },
  chart: {
    listStyle: 'none',
    margin: 0,
    padding: 0,
    display: 'flex',
    flexDirection: 'column',
    gap: '6px',
    maxWidth: '760px',
  },
  bar: {
    display: 'grid',
    gridTemplateColumns: 'minmax(140px, 180px) 1fr 110px',
    alignItems: 'center',
    gap: '8px',
    '@media (max-width: 600px)': { gridTemplateColumns: '120px 1fr 80px' },
  },
  track: {
    height: '18px',
    backgroundColor: tokens.colorNeutralBackground3,
    borderRadius: '2px',
    overflow: 'hidden',
  },
  fill: { height: '100%' },
  section: { display: 'flex', flexDirection: 'column', gap: '8px' },
  heading: { margin: 0, fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold },
  muted: { color: tokens.colorNeutralForeground2 },
});

/** Counts by provider and of machines carrying the Qualys extension. */
interface Tally {
  byProvider: Map<ProviderKey, number>;
  machines: number;
  withQualys: number;
  /** Machines whose Qualys extension is known (installed or not). */
  checked: number;
}

function emptyTally(): Tally {
  return { byProvider: new Map(), machines: 0, withQualys: 0, checked: 0 };
}

function count(tally: Tally, provider: ProviderKey, legacy: 'yes' | 'no' | 'unknown') {
  tally.byProvider.set(provider, (tally.byProvider.get(provider) ?? 0) + 1);
  tally.machines += 1;
  if (legacy !== 'unknown') tally.checked += 1;
  if (legacy === 'yes') tally.withQualys += 1;
}

export function Overview() {
  const styles = useStyles();
  const store = useEstate();
  const subscriptions = useSubscriptions();
  const statuses = useVaStatuses(subscriptions.data);
  const connectors = useConnectors(subscriptions.data);
  const [readLimit, setReadLimit] = useState(AUTO_READ_LIMIT);
  const version = store.version();
  // Coverage comes from each subscription's ffff0522 assessments, one paged list per subscription;
  // only a server without assessments makes the page read machines and their extensions instead.
  const fallback = store.assessmentsUnavailable();
  const source =
    subscriptions.data && fallback
      ? store.machineSource(subscriptions.data.map((s) => s.subscriptionId))
      : undefined;
  const rows = source?.rows ?? [];

  useEffect(() => {
    for (const subscription of subscriptions.data ?? []) store.requestCoverage(subscription.subscriptionId);
  }, [store, subscriptions.data]);
  useEffect(() => {
    if (!source || source.done || source.loading || source.error || rows.length >= readLimit) return;
    void source.loadMore();
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` stands for extension reads arriving.
  useEffect(() => {
    store.requestExtensions(rows.filter((row) => store.needsExtensions(row)).map((row) => row.id));
  }, [store, rows, version]);

  const tally = emptyTally();
  let subscriptionsRead = 0;
  const coverageErrors: string[] = [];
  if (!fallback) {
    for (const subscription of subscriptions.data ?? []) {
      const state = store.coverageState(subscription.subscriptionId);
      if (state?.state === 'loaded') {
        subscriptionsRead += 1;
        for (const machine of state.byMachine.values()) {
          count(
            tally,
            machine.provider,
            machine.legacyQualys === undefined ? 'unknown' : machine.legacyQualys ? 'yes' : 'no',
          );
        }
      } else if (state?.state === 'unavailable') {
        subscriptionsRead += 1;
        coverageErrors.push(state.message);
      }
    }
  } else {
    for (const row of rows) count(tally, store.coverageOf(row).provider, store.legacyOf(row));
  }
  const subscriptionTotal = subscriptions.data?.length ?? 0;
  const complete = fallback ? source?.done === true : subscriptionsRead === subscriptionTotal;
  const largest = Math.max(1, ...tally.byProvider.values());
  const pending = (statuses.data ?? []).filter((status) => !status.selectsMdeTvm);
  const unknownStatuses = (statuses.data ?? []).filter((status) => status.error).length;
  const connectorsOnQualys = (connectors.data ?? [])
    .flatMap((entry) => entry.connectors)
    .filter((connector) => {
      const va = connectorVaProvider(connector);
      return va?.enabled && va.type?.toUpperCase() === 'QUALYS';
    });
  const extent = complete
    ? `all ${tally.machines.toLocaleString()} machines`
    : `the ${tally.machines.toLocaleString()} machines read so far`;

  return (
    <Page
      crumbs={[HOME, { label: 'Microsoft Defender for Cloud' }]}
      title="Microsoft Defender for Cloud | Overview"
      subtitle="The move from the built-in Qualys scanner to Microsoft Defender Vulnerability Management"
    >
      <MessageBar intent="warning" layout="multiline">
        <MessageBarBody>
          <MessageBarTitle>
            The built-in vulnerability assessment powered by Qualys is retired
          </MessageBarTitle>
          Its retirement path started on December 18, 2023 and completed on May 1, 2024. Select Microsoft
          Defender Vulnerability Management on every subscription and connector, then remove the Qualys
          extension from your machines.{' '}
          <Link href={RETIREMENT_DOCS} target="_blank" rel="noreferrer">
            Learn about the transition (opens in a new tab)
          </Link>
        </MessageBarBody>
      </MessageBar>
      <ArmErrorBar error={subscriptions.error} title="Subscriptions could not be listed" />
      <ArmErrorBar error={source?.error} title="Machines could not be read" />

      <div className={styles.cards}>
        <Card className={styles.card}>
          <CardHeader header={<Text weight="semibold">Subscriptions still to transition</Text>} />
          <Link
            href={hrefOf(['environment'], { filter: 'toTransition' })}
            aria-label={`${pending.length} subscriptions still to transition`}
          >
            <span className={styles.figure}>{statuses.data ? pending.length.toLocaleString() : '…'}</span>
          </Link>
          <Text size={200} className={styles.muted}>
            of {subscriptions.data?.length.toLocaleString() ?? '…'} without the MdeTvm setting
            {statuses.loading ? ` (checked ${statuses.progress.done} of ${statuses.progress.total})` : ''}
            {unknownStatuses > 0 ? `; ${unknownStatuses} could not be read` : ''}
          </Text>
        </Card>
        <Card className={styles.card}>
          <CardHeader header={<Text weight="semibold">Machines with the Qualys extension</Text>} />
          <Link
            href={hrefOf(['machines'], { legacy: 'yes' })}
            aria-label={`${tally.withQualys} machines with the Qualys extension`}
          >
            <span className={styles.figure}>{tally.withQualys.toLocaleString()}</span>
          </Link>
          <Text size={200} className={styles.muted}>
            of {tally.checked.toLocaleString()} checked ({extent})
          </Text>
        </Card>
        <Card className={styles.card}>
          <CardHeader header={<Text weight="semibold">Connectors still on Qualys</Text>} />
          <Link href="#/environment" aria-label={`${connectorsOnQualys.length} connectors still on Qualys`}>
            <span className={styles.figure}>
              {connectors.data ? connectorsOnQualys.length.toLocaleString() : '…'}
            </span>
          </Link>
          <Text size={200} className={styles.muted}>
            GCP and AWS connectors whose Defender for Servers offering provisions Qualys
          </Text>
        </Card>
      </div>

      <section className={styles.section} aria-labelledby="coverage-heading">
        <h2 id="coverage-heading" className={styles.heading}>
          Vulnerability assessment coverage by provider
        </h2>
        <Text size={200} className={styles.muted}>
          From assessment “Machines should have a vulnerability assessment solution”, for {extent}.
        </Text>
        {fallback && (
          <MessageBar intent="info" layout="multiline">
            <MessageBarBody>
              Coverage is unknown: the server did not answer the assessments ({fallback}). The Qualys
              extension is checked machine by machine instead.
            </MessageBarBody>
          </MessageBar>
        )}
        {coverageErrors.length > 0 && (
          <MessageBar intent="warning" layout="multiline">
            <MessageBarBody>
              The assessments of {coverageErrors.length} subscription(s) could not be read:{' '}
              {coverageErrors[0]}
            </MessageBarBody>
          </MessageBar>
        )}
        <ul className={styles.chart} aria-label="Machines by vulnerability assessment provider">
          {PROVIDER_ORDER.filter((provider) => provider !== 'mdvm' || tally.byProvider.has('mdvm')).map(
            (provider) => {
              const machines = tally.byProvider.get(provider) ?? 0;
              const share = tally.machines > 0 ? Math.round((machines / tally.machines) * 100) : 0;
              return (
                <li key={provider} className={styles.bar}>
                  <Link href={hrefOf(['machines'], { provider })}>{PROVIDER_LABELS[provider]}</Link>
                  <div className={styles.track} aria-hidden>
                    <div
                      className={styles.fill}
                      style={{
                        width: `${(machines / largest) * 100}%`,
                        backgroundColor: PROVIDER_COLOURS[provider],
                      }}
                    />
                  </div>
                  <Text>
                    {machines.toLocaleString()} ({share}%)
                  </Text>
                </li>
              );
            },
          )}
        </ul>
        {!complete && !fallback && (
          <div>
            <ProgressBar
              value={subscriptionTotal > 0 ? subscriptionsRead / subscriptionTotal : undefined}
              aria-label="Reading assessments"
            />
            <Text size={200} className={styles.muted}>
              Read the assessments of {subscriptionsRead.toLocaleString()} of{' '}
              {subscriptionTotal.toLocaleString()} subscriptions.
            </Text>
          </div>
        )}
        {!complete && fallback && (
          <div>
            {source?.loading || rows.length < readLimit ? (
              <ProgressBar aria-label="Reading machines" />
            ) : (
              <Button onClick={() => setReadLimit((limit) => limit + AUTO_READ_LIMIT * 4)}>
                Read {(AUTO_READ_LIMIT * 4).toLocaleString()} more machines
              </Button>
            )}
            <Text size={200} className={styles.muted}>
              Read {rows.length.toLocaleString()} machines from {source?.subscriptionsRead ?? 0} of{' '}
              {subscriptionTotal.toLocaleString()} subscriptions.
            </Text>
          </div>
        )}
        {store.pendingExtensions() > 0 && (
          <Text size={200} className={styles.muted} aria-live="polite">
            Checking extensions: {store.pendingExtensions().toLocaleString()} machine(s) to go.
          </Text>
        )}
      </section>
    </Page>
  );
}
