/**
 * HybridCompute's long-running extension operations, shaped as the recorded SDK traffic shows: the
 * 202 carries `Location: .../locations/{loc}/operationresults/{id}` and
 * `Azure-AsyncOperation: .../locations/{loc}/operationstatus/{id}`; the status resource is
 * `{"name","status","startTime"}` (no `endTime`), a finished PUT adds `properties` = the extension
 * resource, and `operationresults` answers 200 with an empty body once the operation is done.
 *
 * Extension changes on a machine whose agent is not connected FAIL. The RP accepts the request (202)
 * because it only queues the change for the Connected Machine agent; a disconnected agent never picks
 * it up, so the operation ends Failed with an error that says the machine is disconnected, and the
 * extension is left with `provisioningState: Failed`. Succeeding instead would let a transition
 * report the Qualys extension removed from a machine that still runs it. The machine's status is read
 * when the operation completes, so a machine that disconnects after the request was accepted fails too.
 */
import type { ArmError } from '../../arm/errors.js';
import { errors } from '../../arm/errors.js';
import type { LroStyle, Operation } from '../../arm/lro.js';
import type { Services } from '../../arm/registry.js';
import { type Db, deleteResourceTree, getResource, type StoredResource } from '../../store/index.js';
import { saveBody } from '../requests.js';

export const hybridComputeLroStyle: LroStyle = {
  statusPath: (operation) =>
    `/subscriptions/${operation.subscriptionId}/providers/Microsoft.HybridCompute/locations/${operation.location}/operationstatus/${operation.id}`,
  resultPath: (operation) =>
    `/subscriptions/${operation.subscriptionId}/providers/Microsoft.HybridCompute/locations/${operation.location}/operationresults/${operation.id}`,
  statusMembers: ['name', 'status', 'startTime', 'properties', 'error'],
};

export const OPERATION_KINDS = {
  putExtension: 'hybridcompute.extension.put',
  deleteExtension: 'hybridcompute.extension.delete',
} as const;

const DONE = { final: { status: 200 } };

/** The extension and its machine, or undefined when either is gone; throws when the agent is not connected. */
async function extensionOnConnectedMachine(
  db: Db,
  extensionKey: string,
): Promise<{ extension: StoredResource; machine: StoredResource } | undefined> {
  const extension = await getResource(db, extensionKey);
  if (!extension) return undefined;
  const machine = await getResource(db, extension.parentKey);
  if (!machine) return undefined;
  const status = String(machine.body.properties?.status ?? 'Disconnected');
  if (status !== 'Connected') throw errors.arcMachineNotConnected(machine.name, status);
  return { extension, machine };
}

export function registerHybridComputeOperations(services: Services): void {
  const now = () => services.clock.now().toISOString();

  async function markFailed(db: Db, operation: Operation, error: ArmError): Promise<void> {
    const extension = await getResource(db, operation.targetKey);
    if (!extension) return;
    const at = now();
    const properties = { ...extension.body.properties, provisioningState: 'Failed' };
    if (properties.instanceView) {
      properties.instanceView = {
        ...properties.instanceView,
        status: { code: error.code, level: 'Error', message: error.message, time: at },
      };
    }
    await saveBody(db, extension, { ...extension.body, properties }, at);
  }

  services.lro.registerKind(OPERATION_KINDS.putExtension, {
    async complete(db, operation) {
      const found = await extensionOnConnectedMachine(db, operation.targetKey);
      if (!found) return DONE;
      const { extension } = found;
      const at = now();
      const properties = {
        ...extension.body.properties,
        provisioningState: 'Succeeded',
        instanceView: {
          ...extension.body.properties.instanceView,
          status: { code: 'success', level: 'Information', message: 'Extension Message', time: at },
        },
      };
      const saved = await saveBody(db, extension, { ...extension.body, properties }, at);
      return { ...DONE, statusProperties: saved.body };
    },
    fail: markFailed,
  });

  services.lro.registerKind(OPERATION_KINDS.deleteExtension, {
    async complete(db, operation) {
      if (await extensionOnConnectedMachine(db, operation.targetKey)) {
        await deleteResourceTree(db, operation.targetKey);
      }
      return DONE;
    },
    fail: markFailed,
  });
}
