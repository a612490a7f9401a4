/**
 * What onboarding and offboarding a machine does when its operation comes due: `Default` (built-in
 * Qualys) installs the Qualys extension on the machine, `MdeTvm` only records the onboarding, and a
 * delete removes the resource. Also the Defender for Servers plan a machine is on, read from the
 * pricing rows the pricings provider stores.
 */
import { errors } from '../../../arm/errors.js';
import type { LroStyle, OperationKind } from '../../../arm/lro.js';
import { newEtag } from '../../../arm/resourceOps.js';
import {
  extensionSucceeded,
  isLegacyQualysExtension,
  LEGACY_QUALYS_PUBLISHER,
} from '../../../coverage/index.js';
import {
  type Db,
  deleteResource,
  getResource,
  listResources,
  putResource,
  type StoredResource,
} from '../../../store/index.js';
import {
  acceptsExtensionChanges,
  powerStateOf,
  VIRTUAL_MACHINE_TYPE,
  VM_EXTENSION_TYPE,
  vmExtensionRecord,
} from '../../compute/index.js';
import { ARC_EXTENSION_TYPE, arcExtensionRecord } from '../../hybridcompute/index.js';
import type { PricingState } from '../plans.js';
import { type LegacyVaName, legacyVaBody, stateOf } from './model.js';

export const PROVISION_LEGACY_VA = 'security.serverVulnerabilityAssessment.provision';
export const DEPROVISION_LEGACY_VA = 'security.serverVulnerabilityAssessment.deprovision';

/** What an operation needs to find its resource and machine again when it comes due. */
export interface LegacyVaOperationInput {
  resourceId: string;
  machineKey: string;
  name: LegacyVaName;
}

/**
 * The newest 2020-01-01 revision (bdf3d534) gives both PUT and DELETE a `Location` below the resource:
 * `.../serverVulnerabilityAssessments/{name}/operationResults/{operationId}`; no Azure-AsyncOperation.
 */
export const legacyVaLroStyle: LroStyle = {
  resultPath: (operation) =>
    `${(operation.input as LegacyVaOperationInput).resourceId}/operationResults/${operation.id}`,
};

export type ServersPlan = 'Free' | 'P1' | 'P2';

/**
 * The Defender for Servers plan in force on a machine: the subscription's `VirtualMachines` pricing
 * (no row is Free; Standard without a sub plan is the full plan, P2), overridden by the machine's own
 * pricing unless the subscription enforces its own. As in `coverage/rules.ts`: a P1 override under a
 * P2 subscription is ignored ("P2 can only be disabled per resource", §11); a Free override applies.
 */
export async function serversPlanOf(db: Db, machine: StoredResource): Promise<ServersPlan> {
  const pricingOf = async (scopeKey: string) =>
    (await getResource(db, `${scopeKey}/providers/microsoft.security/pricings/virtualmachines`))?.body
      .properties as PricingState | undefined;
  const subscription = await pricingOf(`/subscriptions/${machine.subscriptionId}`);
  const subscriptionPlan: ServersPlan =
    subscription?.pricingTier === 'Standard'
      ? subscription.subPlan?.toUpperCase() === 'P1'
        ? 'P1'
        : 'P2'
      : 'Free';
  if (subscription?.enforce === 'True') return subscriptionPlan;
  const own = await pricingOf(machine.key);
  if (!own) return subscriptionPlan;
  if (own.pricingTier !== 'Standard') return 'Free';
  return subscriptionPlan === 'P2' ? 'P2' : 'P1';
}

/**
 * Installs the built-in Qualys extension (§10.1: publisher `Qualys`, type by OS, version 1.0, named
 * after its type as Microsoft's Install-VA-VMExtention.ps1 names it) unless a Succeeded one — matched
 * by publisher and type, never by name — is already there. Throws the error Compute or Arc answers
 * for an extension change the machine cannot take: a VM that is not running, a VM whose extension
 * operations are disallowed, an Arc machine that is not connected.
 */
async function installQualysExtension(db: Db, machine: StoredResource, now: string): Promise<void> {
  const isVm = machine.type === VIRTUAL_MACHINE_TYPE;
  const properties = machine.body.properties ?? {};
  if (isVm) {
    if (properties.osProfile?.allowExtensionOperations === false)
      throw errors.vmExtensionOperationsDisallowed();
    if (!acceptsExtensionChanges(powerStateOf(machine.body))) throw errors.vmNotRunningForExtensions();
  } else if (properties.status !== 'Connected') {
    throw errors.arcMachineNotConnected(machine.name, String(properties.status));
  }
  const osType = String((isVm ? properties.storageProfile?.osDisk?.osType : properties.osType) ?? '');
  const type =
    osType.toLowerCase() === 'linux' ? 'LinuxAgent.AzureSecurityCenter' : 'WindowsAgent.AzureSecurityCenter';
  const installed = await listResources(db, {
    type: isVm ? VM_EXTENSION_TYPE : ARC_EXTENSION_TYPE,
    parentKey: machine.key,
    limit: 1000,
  });
  const present = installed.some((extension) => {
    const { publisher, type: extensionType, provisioningState } = extension.body.properties ?? {};
    const candidate = {
      publisher: String(publisher),
      type: String(extensionType),
      name: extension.name,
      provisioningState,
    };
    return isLegacyQualysExtension(candidate) && extensionSucceeded(candidate);
  });
  if (present) return;
  const spec = {
    machineId: machine.id,
    subscriptionId: machine.subscriptionId!,
    resourceGroup: machine.resourceGroup!,
    name: type,
    location: String(machine.body.location),
    publisher: LEGACY_QUALYS_PUBLISHER,
    type,
    typeHandlerVersion: '1.0',
    now,
  };
  await putResource(db, isVm ? vmExtensionRecord(spec) : arcExtensionRecord(spec));
}

async function setState(db: Db, resource: StoredResource, state: 'Succeeded' | 'Failed', now: string) {
  const body = legacyVaBody(resource.id, resource.name as LegacyVaName, state);
  const updated = { ...resource, body, updatedAt: now, etag: newEtag() };
  await putResource(db, updated);
  return updated;
}

export function provisionKind(now: () => string): OperationKind {
  return {
    async complete(db, operation) {
      const input = operation.input as LegacyVaOperationInput;
      const resource = await getResource(db, operation.targetKey);
      const machine = await getResource(db, input.machineKey);
      if (!resource || !machine) throw errors.scopedResourceNotFound(input.resourceId);
      // A later PUT's operation may have settled it already; then this one reports what is there.
      if (stateOf(resource) !== 'Provisioning') return { final: { status: 200, body: resource.body } };
      if (input.name === 'Default') await installQualysExtension(db, machine, now());
      const settled = await setState(db, resource, 'Succeeded', now());
      return { final: { status: 200, body: settled.body } };
    },
    async fail(db, operation) {
      const resource = await getResource(db, operation.targetKey);
      if (resource && stateOf(resource) === 'Provisioning') await setState(db, resource, 'Failed', now());
    },
  };
}

/**
 * Offboarding removes the resource only. The Qualys extension stays on the machine: Microsoft's
 * transition guide removes it as a step of its own (§0, §10; landscape §5 step 4), and
 * KnudsenMorten's migration script deletes `default` *and* notes "it is not enough to remove the
 * Qualys extension" — two separate objects.
 */
export const deprovisionKind: OperationKind = {
  async complete(db, operation) {
    await deleteResource(db, operation.targetKey);
    return { final: { status: 200 } };
  },
};
