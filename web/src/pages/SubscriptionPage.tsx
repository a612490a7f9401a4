/**
 * A subscription in Environment settings: the "Defender plans" blade, its Defender for Servers
 * "Settings & monitoring" blade, and "Integrations". The two plan blades share one draft; nothing
 * reaches the API until Save on the Defender plans blade.
 */
import {
  Badge,
  Button,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  makeStyles,
  Select,
  Switch,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  tokens,
} from '@fluentui/react-components';
import { ArrowClockwise20Regular, Dismiss20Regular, Save20Regular } from '@fluentui/react-icons';
import { useState } from 'react';
import type { ArmRequestError } from '../arm/client';
import { API } from '../arm/versions';
import { type Access, useSubscriptionAccess } from '../auth/access';
import { useSession } from '../auth/session';
import { ArmErrorBar } from '../components/ArmErrorBar';
import { type Crumb, DEFENDER, HOME, Page } from '../components/Page';
import { invalidate, toArmError, useArmQuery } from '../data';
import { planLabel, subPlanLabel } from '../domain/plans';
import { type DefenderState, useDefenderState } from '../estate/subscriptions';
import { hrefOf, navigate } from '../router';
import { ServersSettings } from './ServersSettings';
import {
  ACTIONS,
  type Draft,
  EMPTY_DRAFT,
  effectiveServers,
  type PlannedCall,
  plannedCalls,
  saveDraft,
  type Tier,
  tierOf,
} from './serversDraft';

const useStyles = makeStyles({
  layout: {
    display: 'flex',
    gap: '16px',
    alignItems: 'flex-start',
    '@media (max-width: 720px)': { flexDirection: 'column' },
  },
  menu: {
    display: 'flex',
    flexDirection: 'column',
    gap: '2px',
    minWidth: '180px',
    borderRight: `1px solid ${tokens.colorNeutralStroke2}`,
    paddingRight: '12px',
    '@media (max-width: 720px)': { flexDirection: 'row', borderRight: 'none', paddingRight: 0 },
  },
  menuTitle: {
    margin: '0 0 4px',
    fontSize: tokens.fontSizeBase200,
    color: tokens.colorNeutralForeground2,
    fontWeight: tokens.fontWeightSemibold,
  },
  menuItem: { padding: '6px 8px', borderRadius: tokens.borderRadiusMedium },
  menuItemCurrent: {
    backgroundColor: tokens.colorNeutralBackground1Selected,
    fontWeight: tokens.fontWeightSemibold,
  },
  content: { display: 'flex', flexDirection: 'column', gap: '12px', flexGrow: 1, minWidth: 0 },
  tableWrap: { overflowX: 'auto' },
  pricing: { display: 'flex', alignItems: 'center', gap: '8px', flexWrap: 'wrap' },
  calls: { margin: '4px 0 0', paddingLeft: '20px' },
});

interface SubscriptionBody {
  subscriptionId: string;
  displayName: string;
}

export type View = 'plans' | 'servers' | 'integrations';

/** `resourcesCoverageStatus` (2024-01-01) in the portal's words. */
const COVERAGE_LABELS: Record<string, string> = {
  FullyCovered: 'Full',
  PartiallyCovered: 'Partial',
  NotCovered: 'None',
};

function viewOf(segments: string[]): View {
  if (segments[0] === 'integrations') return 'integrations';
  if (segments[0] === 'plans' && segments[1] === 'servers') return 'servers';
  return 'plans';
}

export function plansHref(subscriptionId: string, view: View = 'plans'): string {
  if (view === 'servers') return hrefOf(['environment', 'subscriptions', subscriptionId, 'plans', 'servers']);
  if (view === 'integrations')
    return hrefOf(['environment', 'subscriptions', subscriptionId, 'integrations']);
  return hrefOf(['environment', 'subscriptions', subscriptionId, 'plans']);
}

export function SubscriptionPage({
  subscriptionId,
  view: segments,
}: {
  subscriptionId: string;
  view: string[];
}) {
  const styles = useStyles();
  const session = useSession();
  const view = viewOf(segments);
  const subscription = useArmQuery(`subscription:${subscriptionId.toLowerCase()}`, (signal) =>
    session.client.get<SubscriptionBody>(`/subscriptions/${subscriptionId}`, {
      apiVersion: API.subscriptions,
      signal,
    }),
  );
  const defender = useDefenderState(subscriptionId);
  const access = useSubscriptionAccess(subscriptionId);
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<ArmRequestError>();
  const [saved, setSaved] = useState<PlannedCall[]>();

  const name = subscription.data?.displayName ?? subscriptionId;
  const crumbs: Crumb[] = [HOME, DEFENDER, { label: 'Environment settings', href: '#/environment' }];
  const titles: Record<View, string> = {
    plans: `Settings | Defender plans`,
    servers: 'Settings & monitoring',
    integrations: 'Settings | Integrations',
  };
  if (view === 'servers') crumbs.push({ label: name, href: plansHref(subscriptionId) });
  crumbs.push({ label: view === 'servers' ? 'Settings & monitoring' : name });

  const calls = defender.data ? plannedCalls(subscriptionId, defender.data, draft) : [];

  async function save() {
    if (!defender.data) return;
    setSaving(true);
    setSaveError(undefined);
    setSaved(undefined);
    const done: PlannedCall[] = [];
    try {
      await saveDraft(session.client, calls, (call) => done.push(call));
      setDraft(EMPTY_DRAFT);
      setSaved(done);
    } catch (error) {
      setSaveError(toArmError(error));
      if (done.length > 0) setSaved(done);
    } finally {
      setSaving(false);
      invalidate(`defender:${subscriptionId.toLowerCase()}`);
      invalidate('va-status');
    }
  }

  return (
    <Page
      crumbs={crumbs}
      title={view === 'servers' ? 'Settings & monitoring' : `${titles[view]}`}
      subtitle={view === 'servers' ? `Defender for Servers · ${name}` : name}
      loading={defender.loading && !defender.data}
    >
      <div className={styles.layout}>
        {view !== 'servers' && (
          <nav className={styles.menu} aria-label="Subscription settings">
            <p className={styles.menuTitle}>Settings</p>
            <Link
              href={plansHref(subscriptionId)}
              className={`${styles.menuItem} ${view === 'plans' ? styles.menuItemCurrent : ''}`}
              aria-current={view === 'plans' ? 'page' : undefined}
            >
              Defender plans
            </Link>
            <Link
              href={plansHref(subscriptionId, 'integrations')}
              className={`${styles.menuItem} ${view === 'integrations' ? styles.menuItemCurrent : ''}`}
              aria-current={view === 'integrations' ? 'page' : undefined}
            >
              Integrations
            </Link>
          </nav>
        )}
        <div className={styles.content}>
          <ArmErrorBar error={subscription.error} title="The subscription could not be read" />
          <ArmErrorBar error={defender.error} title="The Defender settings could not be read" />
          {defender.data && view === 'plans' && (
            <DefenderPlans
              subscriptionId={subscriptionId}
              state={defender.data}
              draft={draft}
              setDraft={setDraft}
              access={access}
              calls={calls}
              saving={saving}
              onSave={save}
              onDiscard={() => {
                setDraft(EMPTY_DRAFT);
                setSaveError(undefined);
              }}
              onRefresh={() => defender.reload()}
              saveError={saveError}
              saved={saved}
            />
          )}
          {defender.data && view === 'servers' && (
            <ServersSettings
              state={defender.data}
              draft={draft}
              access={access}
              onContinue={(next) => {
                setDraft(next);
                setSaved(undefined);
                navigate(plansHref(subscriptionId));
              }}
              onCancel={() => navigate(plansHref(subscriptionId))}
            />
          )}
          {defender.data && view === 'integrations' && <Integrations state={defender.data} />}
        </div>
      </div>
    </Page>
  );
}

function DefenderPlans(props: {
  subscriptionId: string;
  state: DefenderState;
  draft: Draft;
  setDraft(draft: Draft): void;
  access: Access;
  calls: PlannedCall[];
  saving: boolean;
  onSave(): void;
  onDiscard(): void;
  onRefresh(): void;
  saveError: ArmRequestError | undefined;
  saved: PlannedCall[] | undefined;
}) {
  const styles = useStyles();
  const { state, draft, access } = props;
  const effective = effectiveServers(state, draft);
  const canWritePlans = access.can(ACTIONS.pricingsWrite);
  const canSaveAll = props.calls.every((call) => {
    if (call.path.includes('/pricings/')) return access.can(ACTIONS.pricingsWrite);
    if (call.path.includes('/settings/')) return access.can(ACTIONS.settingsWrite);
    return access.can(call.method === 'DELETE' ? ACTIONS.vaSettingsDelete : ACTIONS.vaSettingsWrite);
  });
  const readOnlyReason =
    access.ready && !canWritePlans
      ? access.whyNot(ACTIONS.pricingsWrite, 'change Defender plans')
      : undefined;
  const visiblePlans = state.pricings.filter((pricing) => !pricing.properties.deprecated);

  function setTier(planName: string, tier: Tier) {
    props.setDraft({ ...draft, tiers: { ...draft.tiers, [planName]: tier } });
  }

  return (
    <>
      <div role="toolbar" aria-label="Defender plans commands" className={styles.pricing}>
        <Button
          appearance="primary"
          icon={<Save20Regular />}
          disabled={props.calls.length === 0 || props.saving || !canSaveAll}
          onClick={props.onSave}
        >
          {props.saving ? 'Saving…' : 'Save'}
        </Button>
        <Button
          icon={<Dismiss20Regular />}
          disabled={props.calls.length === 0 || props.saving}
          onClick={props.onDiscard}
        >
          Discard
        </Button>
        <Button appearance="subtle" icon={<ArrowClockwise20Regular />} onClick={props.onRefresh}>
          Refresh
        </Button>
      </div>
      {readOnlyReason && (
        <MessageBar intent="info" layout="multiline" data-testid="read-only-reason">
          <MessageBarBody>
            <MessageBarTitle>Read-only</MessageBarTitle>
            {readOnlyReason}
          </MessageBarBody>
        </MessageBar>
      )}
      {access.error && (
        <MessageBar intent="warning">
          <MessageBarBody>
            Your role assignments could not be read ({access.error}); the server will decide on Save.
          </MessageBarBody>
        </MessageBar>
      )}
      {props.calls.length > 0 && (
        <MessageBar intent="warning" layout="multiline">
          <MessageBarBody>
            <MessageBarTitle>Unsaved changes</MessageBarTitle>
            Save makes these changes:
            <ul className={styles.calls}>
              {props.calls.map((call) => (
                <li key={`${call.method} ${call.path}`}>
                  {call.summary}{' '}
                  <Text size={200}>
                    ({call.method} …{call.path.slice(call.path.indexOf('/providers/'))})
                  </Text>
                </li>
              ))}
            </ul>
          </MessageBarBody>
        </MessageBar>
      )}
      <ArmErrorBar error={props.saveError} title="Save failed" />
      {props.saved && props.saved.length > 0 && !props.saveError && (
        <MessageBar intent="success" layout="multiline" data-testid="saved">
          <MessageBarBody>
            <MessageBarTitle>Saved</MessageBarTitle>
            {props.saved.map((call) => call.summary).join('; ')}.
          </MessageBarBody>
        </MessageBar>
      )}
      <div className={styles.tableWrap}>
        <Table aria-label="Defender plans" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Plan</TableHeaderCell>
              <TableHeaderCell>Pricing</TableHeaderCell>
              <TableHeaderCell>Monitoring coverage</TableHeaderCell>
              <TableHeaderCell>Status</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {visiblePlans.map((pricing) => {
              const isServers = pricing.name.toLowerCase() === 'virtualmachines';
              const tier = isServers ? effective.serversTier : tierOf(state, draft, pricing.name);
              const label = planLabel(pricing.name);
              return (
                <TableRow key={pricing.name}>
                  <TableCell>
                    <Text weight={isServers ? 'semibold' : 'regular'}>{label}</Text>
                  </TableCell>
                  <TableCell>
                    {isServers && tier === 'Standard' ? (
                      <span className={styles.pricing}>
                        <Select
                          aria-label="Defender for Servers plan"
                          value={effective.subPlan}
                          disabled={!canWritePlans}
                          onChange={(_event, data) =>
                            props.setDraft({ ...draft, serversSubPlan: data.value as 'P1' | 'P2' })
                          }
                        >
                          <option value="P1">Plan 1</option>
                          <option value="P2">Plan 2</option>
                        </Select>
                      </span>
                    ) : (
                      <Text>
                        {tier === 'Standard'
                          ? subPlanLabel(pricing.properties.subPlan) || 'Standard'
                          : 'Free'}
                      </Text>
                    )}
                  </TableCell>
                  <TableCell>
                    {isServers ? (
                      <Link
                        href={plansHref(props.subscriptionId, 'servers')}
                        aria-label="Settings (Defender for Servers)"
                      >
                        Settings
                      </Link>
                    ) : (
                      <Text>{COVERAGE_LABELS[pricing.properties.resourcesCoverageStatus ?? ''] ?? '—'}</Text>
                    )}
                  </TableCell>
                  <TableCell>
                    <Switch
                      label={tier === 'Standard' ? 'On' : 'Off'}
                      aria-label={`${label} plan`}
                      checked={tier === 'Standard'}
                      disabled={!canWritePlans}
                      onChange={(_event, data) => setTier(pricing.name, data.checked ? 'Standard' : 'Free')}
                    />
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      </div>
      {effective.vaEnabled && effective.vaProvider === 'MdeTvm' && (
        <Text>
          Vulnerability assessment for machines:{' '}
          <Badge appearance="tint" color="success">
            Microsoft Defender Vulnerability Management
          </Badge>
        </Text>
      )}
    </>
  );
}

function Integrations({ state }: { state: DefenderState }) {
  const styles = useStyles();
  const labels: Record<string, string> = {
    WDATP: 'Endpoint protection (Microsoft Defender for Endpoint)',
    WDATP_UNIFIED_SOLUTION: 'Defender for Endpoint unified solution (Windows Server 2012 R2 and 2016)',
    WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW: 'Exclude Linux machines from Defender for Endpoint',
    MCAS: 'Microsoft Defender for Cloud Apps',
    Sentinel: 'Microsoft Sentinel alert sync',
  };
  return (
    <div className={styles.tableWrap}>
      <Table aria-label="Integrations" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Integration</TableHeaderCell>
            <TableHeaderCell>Setting</TableHeaderCell>
            <TableHeaderCell>Status</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {state.settings.map((setting) => (
            <TableRow key={setting.name}>
              <TableCell>{labels[setting.name] ?? setting.name}</TableCell>
              <TableCell>
                <code>{setting.name}</code>
              </TableCell>
              <TableCell>{setting.properties.enabled ? 'On' : 'Off'}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </div>
  );
}
