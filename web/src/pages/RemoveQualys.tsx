/**
 * Removing the built-in Qualys extension from machines (§10): one DELETE per extension, a few at a
 * time, each followed to its end through `Azure-AsyncOperation` (or `Location`), with every
 * machine's progress and ARM's error text shown live.
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
  makeStyles,
  ProgressBar,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  tokens,
} from '@fluentui/react-components';
import { useRef, useState } from 'react';
import { pollOperation } from '../arm/client';
import { isArcMachineId } from '../arm/ids';
import { API } from '../arm/versions';
import { useSession } from '../auth/session';
import { mapLimit } from '../concurrency';
import { toArmError } from '../data';
import type { ExtensionBody } from '../domain/machines';

const CONCURRENCY = 4;

const useStyles = makeStyles({
  surface: { maxWidth: '880px', width: '95vw' },
  table: { maxHeight: '50vh', overflowY: 'auto' },
  error: { color: tokens.colorPaletteRedForeground1 },
  summary: { display: 'flex', flexDirection: 'column', gap: '4px', marginBottom: '8px' },
});

export interface RemovalTarget {
  machineId: string;
  machineName: string;
  extension: ExtensionBody;
}

type Step =
  | { state: 'queued' }
  | { state: 'deleting'; percent?: number; status?: string }
  | { state: 'succeeded' }
  | { state: 'failed'; message: string };

function stepBadge(step: Step) {
  switch (step.state) {
    case 'queued':
      return (
        <Badge appearance="outline" color="informative">
          Queued
        </Badge>
      );
    case 'deleting':
      return (
        <Badge appearance="tint" color="brand">
          {step.status ?? 'Deleting'}
          {step.percent !== undefined ? ` ${step.percent}%` : ''}
        </Badge>
      );
    case 'succeeded':
      return (
        <Badge appearance="tint" color="success">
          Removed
        </Badge>
      );
    case 'failed':
      return (
        <Badge appearance="tint" color="danger">
          Failed
        </Badge>
      );
  }
}

export function RemoveQualysDialog(props: {
  open: boolean;
  targets: RemovalTarget[];
  /** Targets the principal may not delete, with the reason. */
  refused: { target: RemovalTarget; reason: string }[];
  onClose(): void;
  onRemoved(machineId: string): void;
}) {
  const styles = useStyles();
  const session = useSession();
  const [steps, setSteps] = useState<Map<string, Step>>(new Map());
  const [running, setRunning] = useState(false);
  const [finished, setFinished] = useState(false);
  const abort = useRef<AbortController | undefined>(undefined);

  const update = (id: string, step: Step) => setSteps((previous) => new Map(previous).set(id, step));

  async function run() {
    setRunning(true);
    setFinished(false);
    const controller = new AbortController();
    abort.current = controller;
    setSteps(new Map(props.targets.map((target) => [target.extension.id, { state: 'queued' } as Step])));
    await mapLimit(
      props.targets,
      CONCURRENCY,
      async (target) => {
        const id = target.extension.id;
        update(id, { state: 'deleting' });
        try {
          const apiVersion = isArcMachineId(target.machineId) ? API.hybridCompute : API.compute;
          const accepted = await session.client.request('DELETE', id, {
            apiVersion,
            signal: controller.signal,
          });
          const final =
            accepted.status === 202
              ? await pollOperation(session.client, accepted, {
                  signal: controller.signal,
                  onStatus: (status) =>
                    update(id, { state: 'deleting', status: status.status, percent: status.percentComplete }),
                })
              : { status: 'Succeeded' };
          if (final.status === 'Succeeded') {
            update(id, { state: 'succeeded' });
            props.onRemoved(target.machineId);
          } else {
            update(id, {
              state: 'failed',
              message: final.error
                ? `${final.error.code}: ${final.error.message}`
                : `The operation ended ${final.status}.`,
            });
          }
        } catch (error) {
          if ((error as Error).name === 'AbortError') {
            update(id, {
              state: 'failed',
              message: 'Stopped before it finished (the server may still complete it).',
            });
            return;
          }
          const armError = toArmError(error);
          update(id, { state: 'failed', message: `${armError.code}: ${armError.message}` });
        }
      },
      { signal: controller.signal },
    ).catch(() => undefined);
    setRunning(false);
    setFinished(true);
  }

  const values = [...steps.values()];
  const done = values.filter((step) => step.state === 'succeeded' || step.state === 'failed').length;
  const failed = values.filter((step) => step.state === 'failed').length;

  function close() {
    if (running) abort.current?.abort();
    setSteps(new Map());
    setFinished(false);
    props.onClose();
  }

  return (
    <Dialog open={props.open} onOpenChange={(_event, data) => !data.open && close()} modalType="alert">
      <DialogSurface className={styles.surface} aria-describedby="remove-summary">
        <DialogBody>
          <DialogTitle>Remove the Qualys extension</DialogTitle>
          <DialogContent>
            <div id="remove-summary" className={styles.summary}>
              <Text>
                {props.targets.length} extension(s) on{' '}
                {new Set(props.targets.map((target) => target.machineId)).size} machine(s) will be deleted
                (publisher Qualys, type *.AzureSecurityCenter). Each deletion is a long-running operation; a
                VM must be running for its extension to be removed.
              </Text>
              {props.refused.length > 0 && (
                <Text className={styles.error}>
                  {props.refused.length} machine(s) are left out: {props.refused[0]!.reason}
                </Text>
              )}
              {(running || finished) && (
                <>
                  <ProgressBar
                    value={props.targets.length > 0 ? done / props.targets.length : 1}
                    aria-label="Removal progress"
                    color={failed > 0 ? 'error' : 'brand'}
                  />
                  <Text aria-live="polite" data-testid="removal-progress">
                    {done} of {props.targets.length} finished{failed > 0 ? `, ${failed} failed` : ''}
                    {finished ? '.' : '…'}
                  </Text>
                </>
              )}
            </div>
            <div className={styles.table}>
              <Table size="small" aria-label="Extensions to remove">
                <TableHeader>
                  <TableRow>
                    <TableHeaderCell>Machine</TableHeaderCell>
                    <TableHeaderCell>Extension</TableHeaderCell>
                    <TableHeaderCell>Progress</TableHeaderCell>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {props.targets.map((target) => {
                    const step = steps.get(target.extension.id);
                    return (
                      <TableRow key={target.extension.id}>
                        <TableCell>{target.machineName}</TableCell>
                        <TableCell>
                          {target.extension.name}
                          {target.extension.properties.type !== target.extension.name &&
                            ` (${target.extension.properties.type})`}
                        </TableCell>
                        <TableCell>
                          {step ? stepBadge(step) : <Text>—</Text>}
                          {step?.state === 'failed' && (
                            <Text size={200} className={styles.error} block>
                              {step.message}
                            </Text>
                          )}
                        </TableCell>
                      </TableRow>
                    );
                  })}
                </TableBody>
              </Table>
            </div>
          </DialogContent>
          <DialogActions>
            {!finished && (
              <Button appearance="primary" disabled={running || props.targets.length === 0} onClick={run}>
                {running ? 'Removing…' : 'Remove'}
              </Button>
            )}
            <Button onClick={close}>{running ? 'Stop' : finished ? 'Close' : 'Cancel'}</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
