/**
 * BYOL vulnerability-assessment solutions (spec §7): the partner templates, the stored shape and its
 * 2020-01-01 representation, and the coverage rules' view of a stored solution.
 */
import { createHash, randomUUID } from 'node:crypto';
import { keyOf } from '../../../arm/resourceId.js';
import type { ByolPartner, ByolSolution } from '../../../coverage/index.js';
import type { ArmBody, StoredResource } from '../../../store/index.js';

export const SECURITY_SOLUTION_TYPE = 'microsoft.security/locations/securitysolutions';

/** `type` and the id segment as Microsoft's 2020-01-01 examples write them. */
export const SECURITY_SOLUTION_BODY_TYPE = 'Microsoft.Security/locations/SecuritySolutions';
export const SECURITY_SOLUTION_ID_SEGMENT = 'SecuritySolutions';

export interface ByolTemplate {
  /** As New-ASCVASolution.ps1 sends it and the reference data names it. */
  template: string;
  partner: ByolPartner;
  /** Members `ProvisioningParameters` must carry for this partner. */
  required: readonly ProvisioningParameterName[];
}

export const PROVISIONING_PARAMETERS = ['licenseCode', 'publicKey', 'autoUpdate'] as const;
export type ProvisioningParameterName = (typeof PROVISIONING_PARAMETERS)[number];

/**
 * The script's two templates. Qualys needs the license and the vendor's public key; a Rapid7
 * `licenseCode` is the base64 of the configuration zip Rapid7 issues (script README), and no key is
 * needed to read it, so `publicKey` is optional there.
 */
export const BYOL_TEMPLATES: readonly ByolTemplate[] = [
  { template: 'qualys.qualysAgent', partner: 'qualys', required: ['licenseCode', 'publicKey'] },
  { template: 'rapid7.insightplatform', partner: 'rapid7', required: ['licenseCode'] },
];

export function findTemplate(template: string): ByolTemplate | undefined {
  return BYOL_TEMPLATES.find((candidate) => candidate.template.toLowerCase() === template.toLowerCase());
}

/**
 * What the solution keeps of its provisioning parameters. The license and key are secrets the RP
 * never returns; only a digest of the license is kept, to refuse a second solution on one license.
 */
export interface Licensing {
  licenseCodeSha256: string;
  /** The script's `autoUpdate`: the portal's "Auto deploy" — every new VM is linked to the solution. */
  autoProvisioning: boolean;
}

export function licenseDigest(licenseCode: string): string {
  return createHash('sha256').update(licenseCode).digest('hex');
}

/** The stored body: the representation plus `licensing`, which `representation` leaves out. */
export function solutionBody(options: {
  id: string;
  name: string;
  location: string;
  template: string;
  licensing: Licensing;
}): ArmBody {
  return {
    id: options.id,
    name: options.name,
    type: SECURITY_SOLUTION_BODY_TYPE,
    location: options.location,
    properties: {
      securityFamily: 'Va',
      // Partner solutions report health through `protectionStatus`; a provisioned one is "Good"
      // (the only value Microsoft's examples show).
      protectionStatus: 'Good',
      template: options.template,
      provisioningState: 'Succeeded',
    },
    licensing: options.licensing,
  };
}

/**
 * A solution as the PUT stores it, for writers outside a request (the estate generator): in resource
 * group `resourceGroup` under the Defender home region `ascLocation` (a normalised region name).
 */
export function securitySolutionRecord(options: {
  subscriptionId: string;
  resourceGroup: string;
  ascLocation: string;
  name: string;
  location: string;
  template: ByolTemplate['template'];
  licenseCode: string;
  autoProvisioning: boolean;
  now: string;
}): StoredResource {
  const subscriptionId = options.subscriptionId.toLowerCase();
  const groupId = `/subscriptions/${subscriptionId}/resourceGroups/${options.resourceGroup}`;
  const id = `${groupId}/providers/Microsoft.Security/locations/${options.ascLocation}/${SECURITY_SOLUTION_ID_SEGMENT}/${options.name}`;
  return {
    key: keyOf(id),
    id,
    type: SECURITY_SOLUTION_TYPE,
    subscriptionId,
    resourceGroup: options.resourceGroup.toLowerCase(),
    parentKey: keyOf(groupId),
    name: options.name,
    body: solutionBody({
      id,
      name: options.name,
      location: options.location,
      template: options.template,
      licensing: {
        licenseCodeSha256: licenseDigest(options.licenseCode),
        autoProvisioning: options.autoProvisioning,
      },
    }),
    etag: `"${randomUUID()}"`,
    createdAt: options.now,
    updatedAt: options.now,
  };
}

/** The 2020-01-01 `SecuritySolution` for a stored solution. */
export function representation(resource: StoredResource): ArmBody {
  const { licensing: _licensing, ...visible } = resource.body;
  return visible;
}

/** The coverage rules' view (`coverage/types.ts`); machine links are not modelled, so none are listed. */
export function byolSolutionOf(resource: StoredResource): ByolSolution | undefined {
  const template = findTemplate(String(resource.body.properties?.template ?? ''));
  if (!template || !resource.subscriptionId) return undefined;
  return {
    name: resource.name,
    partner: template.partner,
    subscriptionId: resource.subscriptionId,
    provisioningState: resource.body.properties.provisioningState,
    autoProvisioning: (resource.body.licensing as Licensing | undefined)?.autoProvisioning === true,
    linkedMachineIds: [],
  };
}
