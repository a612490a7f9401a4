/** Identities and dates the coverage rules match on, in one place so that other areas match the same way. */
import type { ArmBoolean, MachineExtension } from './types.js';

/** "Machines should have a vulnerability assessment solution" (§8.1). */
export const VA_ASSESSMENT_KEY = 'ffff0522-1e88-47fc-8382-2a80ba848f5d';

/** The built-in Qualys scanner stops covering machines at this instant (§11 timeline: "completes on May 1st, 2024"). */
export const QUALYS_RETIREMENT = new Date('2024-05-01T00:00:00Z');

/** Publisher and types of the built-in Qualys extension (§10.1). */
export const LEGACY_QUALYS_PUBLISHER = 'Qualys';
export const LEGACY_QUALYS_TYPES = [
  'WindowsAgent.AzureSecurityCenter',
  'LinuxAgent.AzureSecurityCenter',
] as const;

/** Publisher and types of the MDE extension Defender deploys (built-in policy `ASC_MicrosoftDefenderForEndpoint_LinuxAgent_VM_DINE`). */
export const MDE_PUBLISHER = 'Microsoft.Azure.AzureDefenderForServers';
export const MDE_TYPES = ['MDE.Windows', 'MDE.Linux'] as const;

/** The tag a multicloud connector puts on the Arc machines it onboards (§10.3; policy 13ce0167 excludes them). */
export const SECURITY_CONNECTOR_TAG = 'MDFCSecurityConnector';

const same = (left: string, right: string): boolean => left.toLowerCase() === right.toLowerCase();

/**
 * The legacy built-in Qualys extension, found by publisher and type and never by name: its instance
 * name is not fixed (§10.1, azure-docs#121784). A BYOL Qualys agent has other types and is not matched.
 */
export function isLegacyQualysExtension(extension: Pick<MachineExtension, 'publisher' | 'type'>): boolean {
  return (
    same(extension.publisher, LEGACY_QUALYS_PUBLISHER) &&
    LEGACY_QUALYS_TYPES.some((type) => same(extension.type, type))
  );
}

export function isMdeExtension(extension: Pick<MachineExtension, 'publisher' | 'type'>): boolean {
  return same(extension.publisher, MDE_PUBLISHER) && MDE_TYPES.some((type) => same(extension.type, type));
}

/** ARM omits `provisioningState` once an extension has settled; absence means `Succeeded` (§1.3). */
export function extensionSucceeded(extension: MachineExtension): boolean {
  return extension.provisioningState === undefined || same(extension.provisioningState, 'Succeeded');
}

export function isQualysRetired(now: Date): boolean {
  // An invalid Date compares false either way; treat it as "retired", today's reality.
  return !(now.getTime() < QUALYS_RETIREMENT.getTime());
}

/** `"True"`/`"true"` as ARM's string booleans may arrive (§15.7: policy 5eb6d64a compares to `'false'`). */
export function armTrue(value: ArmBoolean | undefined): boolean {
  return value !== undefined && value.toLowerCase() === 'true';
}

export function armFalse(value: ArmBoolean | undefined): boolean {
  return value !== undefined && value.toLowerCase() === 'false';
}

/** BYOL partner of a security solution `template` (`qualys.qualysAgent`, `rapid7.insightplatform`, §7). */
export function byolPartnerOfTemplate(template: string): 'qualys' | 'rapid7' | undefined {
  const vendor = template.split(/[./]/)[0]?.toLowerCase();
  return vendor === 'qualys' || vendor === 'rapid7' ? vendor : undefined;
}
