/**
 * Defender for Servers "Settings & monitoring": the components the VA transition touches, and the
 * "Edit configuration" pane that picks the vulnerability assessment solution. Changes stay in a
 * working copy until Continue hands them to the Defender plans blade, whose Save sends them.
 */
import {
  Badge,
  Button,
  DrawerBody,
  DrawerFooter,
  DrawerHeader,
  DrawerHeaderTitle,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  makeStyles,
  OverlayDrawer,
  Radio,
  RadioGroup,
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
import { Dismiss24Regular, Open16Regular } from '@fluentui/react-icons';
import { useState } from 'react';
import type { Access } from '../auth/access';
import { BYOL_DOCS, RETIREMENT_DOCS, subPlanLabel } from '../domain/plans';
import type { DefenderState } from '../estate/subscriptions';
import {
  ACTIONS,
  agentlessBlocked,
  type Draft,
  effectiveServers,
  endpointProtectionBlocked,
  vulnerabilityAssessmentProblem,
} from './serversDraft';

const useStyles = makeStyles({
  tableWrap: { overflowX: 'auto' },
  component: { display: 'flex', flexDirection: 'column', gap: '2px' },
  muted: { color: tokens.colorNeutralForeground2 },
  reason: { color: tokens.colorPaletteRedForeground1 },
  footer: {
    display: 'flex',
    gap: '8px',
    paddingTop: '8px',
    borderTop: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  radioDescription: {
    display: 'block',
    marginLeft: '32px',
    marginBottom: '8px',
    color: tokens.colorNeutralForeground2,
  },
  retired: { display: 'flex', alignItems: 'center', gap: '8px', flexWrap: 'wrap' },
  pane: { display: 'flex', flexDirection: 'column', gap: '12px' },
});

const VA_SOLUTION = 'Microsoft Defender Vulnerability Management';

function ConfigurationPane(props: {
  open: boolean;
  current: 'MdeTvm' | undefined;
  onApply(provider: 'MdeTvm'): void;
  onClose(): void;
}) {
  const styles = useStyles();
  const [choice, setChoice] = useState<string>(props.current ?? '');
  return (
    <OverlayDrawer
      position="end"
      size="medium"
      open={props.open}
      onOpenChange={(_event, data) => {
        if (!data.open) props.onClose();
      }}
      aria-labelledby="va-pane-title"
    >
      <DrawerHeader>
        <DrawerHeaderTitle
          id="va-pane-title"
          action={
            <Button
              appearance="subtle"
              aria-label="Close"
              icon={<Dismiss24Regular />}
              onClick={props.onClose}
            />
          }
        >
          Vulnerability assessment for machines
        </DrawerHeaderTitle>
      </DrawerHeader>
      <DrawerBody>
        <div className={styles.pane}>
          <Text>Select a vulnerability assessment solution for the machines in this subscription.</Text>
          <RadioGroup
            aria-label="Vulnerability assessment solution"
            value={choice}
            onChange={(_event, data) => setChoice(data.value)}
          >
            <Radio value="MdeTvm" label={VA_SOLUTION} />
            <Text size={200} className={styles.radioDescription}>
              Agent-based through Microsoft Defender for Endpoint (Endpoint protection), or agentless through
              disk snapshots (Agentless scanning for machines, Plan 2).
            </Text>
            <Radio value="qualys" disabled label="Built-in Qualys vulnerability assessment" />
            <span className={`${styles.radioDescription} ${styles.retired}`}>
              <Badge appearance="tint" color="danger">
                Retired
              </Badge>
              <Text size={200}>
                Retired on May 1, 2024; it cannot be selected.{' '}
                <Link href={RETIREMENT_DOCS} target="_blank" rel="noreferrer">
                  About the retirement <Open16Regular aria-label="(opens in a new tab)" />
                </Link>
              </Text>
            </span>
          </RadioGroup>
          <Text size={200}>
            To keep a Qualys or Rapid7 licence of your own, deploy a partner solution:{' '}
            <Link href={BYOL_DOCS} target="_blank" rel="noreferrer">
              Bring your own license (BYOL) solutions <Open16Regular aria-label="(opens in a new tab)" />
            </Link>
          </Text>
        </div>
      </DrawerBody>
      <DrawerFooter>
        <Button appearance="primary" disabled={choice !== 'MdeTvm'} onClick={() => props.onApply('MdeTvm')}>
          Apply
        </Button>
        <Button onClick={props.onClose}>Cancel</Button>
      </DrawerFooter>
    </OverlayDrawer>
  );
}

export function ServersSettings(props: {
  state: DefenderState;
  draft: Draft;
  access: Access;
  onContinue(draft: Draft): void;
  onCancel(): void;
}) {
  const styles = useStyles();
  const [working, setWorking] = useState<Draft>(props.draft);
  const [paneOpen, setPaneOpen] = useState(false);
  const effective = effectiveServers(props.state, working);
  const { access } = props;
  const canVa = access.can(ACTIONS.vaSettingsWrite) && access.can(ACTIONS.vaSettingsDelete);
  const canSettings = access.can(ACTIONS.settingsWrite);
  const canPricing = access.can(ACTIONS.pricingsWrite);
  const agentlessReason = agentlessBlocked(effective);
  const endpointReason = endpointProtectionBlocked(effective);
  const problem = vulnerabilityAssessmentProblem(effective);
  const denied = [
    !canVa && access.whyNot(ACTIONS.vaSettingsWrite, 'change the vulnerability assessment setting'),
    !canSettings && access.whyNot(ACTIONS.settingsWrite, 'change Endpoint protection'),
    !canPricing && access.whyNot(ACTIONS.pricingsWrite, 'change Agentless scanning for machines'),
  ].filter((reason): reason is string => typeof reason === 'string');

  return (
    <>
      {access.ready && denied.length > 0 && (
        <MessageBar intent="info" layout="multiline" data-testid="read-only-reason">
          <MessageBarBody>
            <MessageBarTitle>Read-only</MessageBarTitle>
            {denied.join(' ')}
          </MessageBarBody>
        </MessageBar>
      )}
      <Text>
        Defender for Servers:{' '}
        <strong>{effective.serversTier === 'Standard' ? subPlanLabel(effective.subPlan) : 'Off'}</strong>
      </Text>
      <div className={styles.tableWrap}>
        <Table aria-label="Defender for Servers components" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Component</TableHeaderCell>
              <TableHeaderCell>Status</TableHeaderCell>
              <TableHeaderCell>Configuration</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            <TableRow>
              <TableCell>
                <span className={styles.component}>
                  <Text weight="semibold">Vulnerability assessment for machines</Text>
                  <Text size={200} className={styles.muted}>
                    Which solution finds vulnerabilities on the subscription's machines.
                  </Text>
                </span>
              </TableCell>
              <TableCell>
                <Switch
                  label={effective.vaEnabled ? 'On' : 'Off'}
                  aria-label="Vulnerability assessment for machines"
                  checked={effective.vaEnabled}
                  disabled={!canVa}
                  onChange={(_event, data) =>
                    setWorking({
                      ...working,
                      va: {
                        enabled: data.checked,
                        provider: data.checked ? effective.vaProvider : undefined,
                      },
                    })
                  }
                />
              </TableCell>
              <TableCell>
                <span className={styles.component}>
                  <Text>
                    {effective.vaEnabled && effective.vaProvider === 'MdeTvm'
                      ? VA_SOLUTION
                      : effective.vaEnabled
                        ? 'No solution selected'
                        : 'Not configured (built-in Qualys is retired)'}
                  </Text>
                  <Link as="button" disabled={!canVa} onClick={() => setPaneOpen(true)}>
                    Edit configuration
                  </Link>
                </span>
              </TableCell>
            </TableRow>
            <TableRow>
              <TableCell>
                <span className={styles.component}>
                  <Text weight="semibold">Endpoint protection</Text>
                  <Text size={200} className={styles.muted}>
                    Microsoft Defender for Endpoint: agent-based MDVM (<code>settings/WDATP</code>).
                  </Text>
                </span>
              </TableCell>
              <TableCell>
                <Switch
                  label={effective.endpointProtection ? 'On' : 'Off'}
                  aria-label="Endpoint protection"
                  checked={effective.endpointProtection}
                  disabled={!canSettings || (endpointReason !== undefined && !effective.endpointProtection)}
                  onChange={(_event, data) => setWorking({ ...working, endpointProtection: data.checked })}
                />
              </TableCell>
              <TableCell>
                {endpointReason ? (
                  <Text className={styles.reason}>{endpointReason}</Text>
                ) : (
                  <Text>Microsoft Defender for Endpoint</Text>
                )}
              </TableCell>
            </TableRow>
            <TableRow>
              <TableCell>
                <span className={styles.component}>
                  <Text weight="semibold">Agentless scanning for machines</Text>
                  <Text size={200} className={styles.muted}>
                    Agentless MDVM from disk snapshots (<code>AgentlessVmScanning</code> on the Servers plan).
                  </Text>
                </span>
              </TableCell>
              <TableCell>
                <Switch
                  label={effective.agentless ? 'On' : 'Off'}
                  aria-label="Agentless scanning for machines"
                  checked={effective.agentless}
                  disabled={!canPricing || agentlessReason !== undefined}
                  onChange={(_event, data) => setWorking({ ...working, agentless: data.checked })}
                />
              </TableCell>
              <TableCell>
                {agentlessReason ? (
                  <Text className={styles.reason} data-testid="agentless-reason">
                    {agentlessReason}
                  </Text>
                ) : (
                  <Text>Scans Azure VMs' disks; no agent needed</Text>
                )}
              </TableCell>
            </TableRow>
          </TableBody>
        </Table>
      </div>
      {problem && (
        <MessageBar intent="warning" layout="multiline" data-testid="va-problem">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
      <div className={styles.footer}>
        <Button
          appearance="primary"
          disabled={problem !== undefined}
          onClick={() => props.onContinue(working)}
        >
          Continue
        </Button>
        <Button onClick={props.onCancel}>Cancel</Button>
      </div>
      <ConfigurationPane
        open={paneOpen}
        current={effective.vaProvider}
        onClose={() => setPaneOpen(false)}
        onApply={(provider) => {
          setWorking({ ...working, va: { enabled: true, provider } });
          setPaneOpen(false);
        }}
      />
    </>
  );
}
