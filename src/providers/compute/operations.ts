/**
 * Compute's long-running operations. Every one answers with
 * `Azure-AsyncOperation: {base}/subscriptions/{s}/providers/Microsoft.Compute/locations/{loc}/operations/{id}`
 * (and, for DELETE and POST actions, `Location:` the same URL with `monitor=true`), the status resource
 * is `{"startTime","endTime","status","name"}` (plus `error` when Failed), and the monitor URL answers
 * 202 while running and 200 with an empty body when done — as the recorded SDK traffic shows.
 */
import { errors } from '../../arm/errors.js';
import type { LroStyle, Operation } from '../../arm/lro.js';
import type { Services } from '../../arm/registry.js';
import { type Db, deleteResourceTree, getResource } from '../../store/index.js';
import { saveBody } from '../requests.js';
import { acceptsExtensionChanges, type PowerState, powerStateOf, withPowerState } from './model.js';

export const computeLroStyle: LroStyle = {
  statusPath: (operation) =>
    `/subscriptions/${operation.subscriptionId}/providers/Microsoft.Compute/locations/${operation.location}/operations/${operation.id}`,
  resultPath: (operation) =>
    `/subscriptions/${operation.subscriptionId}/providers/Microsoft.Compute/locations/${operation.location}/operations/${operation.id}`,
  resultQuery: 'monitor=true',
  statusMembers: ['startTime', 'endTime', 'status', 'error', 'name'],
};

export const OPERATION_KINDS = {
  putVirtualMachine: 'compute.virtualMachine.put',
  deleteVirtualMachine: 'compute.virtualMachine.delete',
  powerAction: 'compute.virtualMachine.power',
  putExtension: 'compute.vmExtension.put',
  deleteExtension: 'compute.vmExtension.delete',
} as const;

/** What a power action records while it runs and when it completes. */
export interface PowerActionInput {
  action: string;
  after: PowerState;
}

const DONE = { final: { status: 200 } };

export function registerComputeOperations(services: Services): void {
  const now = () => services.clock.now().toISOString();
  const { lro } = services;

  async function setProvisioningState(db: Db, key: string, provisioningState: string): Promise<void> {
    const resource = await getResource(db, key);
    if (!resource) return;
    const body = { ...resource.body, properties: { ...resource.body.properties, provisioningState } };
    await saveBody(db, resource, body, now());
  }

  const markFailed = (db: Db, operation: Operation) =>
    setProvisioningState(db, operation.targetKey, 'Failed');

  lro.registerKind(OPERATION_KINDS.putVirtualMachine, {
    async complete(db, operation) {
      const vm = await getResource(db, operation.targetKey);
      if (!vm) return DONE;
      const at = now();
      // A VM is created running: it reports `starting` until its creation completes.
      const powerState = powerStateOf(vm.body) === 'starting' ? 'running' : powerStateOf(vm.body);
      const body = withPowerState(vm.body, powerState, at);
      body.properties.provisioningState = 'Succeeded';
      await saveBody(db, vm, body, at);
      return DONE;
    },
    fail: markFailed,
  });

  lro.registerKind(OPERATION_KINDS.deleteVirtualMachine, {
    async complete(db, operation) {
      await deleteResourceTree(db, operation.targetKey);
      return DONE;
    },
    fail: markFailed,
  });

  lro.registerKind(OPERATION_KINDS.powerAction, {
    async complete(db, operation) {
      const vm = await getResource(db, operation.targetKey);
      if (!vm) return DONE;
      const input = operation.input as PowerActionInput;
      const at = now();
      await saveBody(db, vm, withPowerState(vm.body, input.after, at), at);
      return DONE;
    },
  });

  // An extension change that was accepted still fails if the VM stopped before it was applied.
  async function requireRunningVm(db: Db, extensionKey: string): Promise<boolean> {
    const extension = await getResource(db, extensionKey);
    if (!extension) return false;
    const vm = await getResource(db, extension.parentKey);
    if (!vm) return false;
    if (!acceptsExtensionChanges(powerStateOf(vm.body))) throw errors.vmNotRunningForExtensions();
    return true;
  }

  lro.registerKind(OPERATION_KINDS.putExtension, {
    async complete(db, operation) {
      if (!(await requireRunningVm(db, operation.targetKey))) return DONE;
      await setProvisioningState(db, operation.targetKey, 'Succeeded');
      return DONE;
    },
    fail: markFailed,
  });

  lro.registerKind(OPERATION_KINDS.deleteExtension, {
    async complete(db, operation) {
      if (await requireRunningVm(db, operation.targetKey)) {
        await deleteResourceTree(db, operation.targetKey);
      }
      return DONE;
    },
    fail: markFailed,
  });
}

/** Compute answers PUT with `Azure-AsyncOperation` only; DELETE and actions add the monitor `Location`. */
export function putReplyHeaders(headers: Record<string, string>): Record<string, string> {
  const { location: _location, ...rest } = headers;
  return rest;
}
