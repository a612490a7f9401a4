/**
 * The stored shape of a legacy per-machine `serverVulnerabilityAssessments/{Default|MdeTvm}` resource,
 * shared by the handlers, the provisioning operations and whoever builds a coverage context from the
 * store.
 */
import { randomUUID } from 'node:crypto';
import { keyOf } from '../../../arm/resourceId.js';
import type { LegacyServerVulnerabilityAssessment } from '../../../coverage/index.js';
import type { ArmBody, StoredResource } from '../../../store/index.js';

export const LEGACY_VA_TYPE = 'microsoft.security/servervulnerabilityassessments';

/**
 * `type` as Azure answered it at 2020-01-01 (arm-behaviour.md: "`type` keeps the odd `providers/`
 * prefix"); Microsoft's examples say `Microsoft.Security/serverVulnerabilityAssessments`.
 */
export const LEGACY_VA_BODY_TYPE = 'providers/Microsoft.Security/serverVulnerabilityAssessments';

/** Machines the resource may hang off (§3.1: in practice VMs and Arc machines). */
export const LEGACY_VA_MACHINE_TYPES = [
  'microsoft.compute/virtualmachines',
  'microsoft.hybridcompute/machines',
] as const;

export type LegacyVaName = 'Default' | 'MdeTvm';

/**
 * Names accepted in any casing (§3.1, §15.5), echoed as Azure echoed `default` (recorded as `Default`).
 * `MdeTvm` follows the same capitalisation and is the casing of Microsoft's Enable-MDETVM Logic App and
 * of `selectedProvider`.
 */
const NAMES: Record<string, LegacyVaName> = { default: 'Default', mdetvm: 'MdeTvm' };

/** The names as the swagger and built-in policy 13ce0167 write them, for error messages. */
export const LEGACY_VA_REQUEST_NAMES = ['default', 'mdeTvm'] as const;

export function legacyVaName(requested: string): LegacyVaName | undefined {
  return NAMES[requested.toLowerCase()];
}

export type LegacyVaState = LegacyServerVulnerabilityAssessment['provisioningState'];

/** The representation, in the member order Azure answered with. */
export function legacyVaBody(id: string, name: LegacyVaName, provisioningState: LegacyVaState): ArmBody {
  return { properties: { provisioningState }, name, type: LEGACY_VA_BODY_TYPE, id };
}

/**
 * A resource on `machine` (a stored VM or Arc machine), as the handlers store it; also for writers
 * outside a request (estate generator, tests).
 */
export function legacyVaRecord(options: {
  machine: Pick<StoredResource, 'id' | 'subscriptionId' | 'resourceGroup'>;
  name: LegacyVaName;
  state: LegacyVaState;
  now: string;
  createdAt?: string;
}): StoredResource {
  const { machine, name, now } = options;
  const id = `${machine.id}/providers/Microsoft.Security/serverVulnerabilityAssessments/${name}`;
  return {
    key: keyOf(id),
    id,
    type: LEGACY_VA_TYPE,
    subscriptionId: machine.subscriptionId,
    resourceGroup: machine.resourceGroup,
    parentKey: keyOf(machine.id),
    name,
    body: legacyVaBody(id, name, options.state),
    etag: `"${randomUUID()}"`,
    createdAt: options.createdAt ?? now,
    updatedAt: now,
  };
}

export function stateOf(resource: StoredResource): LegacyVaState {
  return resource.body.properties?.provisioningState as LegacyVaState;
}

/** The coverage rules' view of a stored resource (`coverage/types.ts`). */
export function legacyAssessmentOf(resource: StoredResource): LegacyServerVulnerabilityAssessment {
  return {
    name: resource.name.toLowerCase() === 'default' ? 'default' : 'mdeTvm',
    provisioningState: stateOf(resource),
  };
}
