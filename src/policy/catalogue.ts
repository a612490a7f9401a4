/**
 * Facts about resource types that policy evaluation needs and a resource body does not carry: which
 * types `Indexed` mode evaluates, and which types are extension resources (so a DeployIfNotExists
 * looks for them on the evaluated resource itself).
 */
import type { ArmResource } from './types.js';

/**
 * Types that support tags and location (Azure's "tag support" table), among those vaplane serves.
 * `Indexed` evaluates these. Subscriptions and resource groups are excluded by definition
 * (definition-structure-basics.md: policies on them must use mode `All`).
 */
const TAGS_AND_LOCATION = new Set(
  [
    'Microsoft.Compute/virtualMachines',
    'Microsoft.Compute/virtualMachines/extensions',
    'Microsoft.Compute/virtualMachineScaleSets',
    'Microsoft.ClassicCompute/virtualMachines',
    'Microsoft.HybridCompute/machines',
    'Microsoft.HybridCompute/machines/extensions',
    'Microsoft.Security/securityConnectors',
    'Microsoft.ContainerService/managedClusters',
    'Microsoft.ContainerRegistry/registries',
    'Microsoft.Storage/storageAccounts',
    'Microsoft.Network/virtualNetworks',
    'Microsoft.Network/networkSecurityGroups',
    'Microsoft.KeyVault/vaults',
  ].map((type) => type.toLowerCase()),
);

/** Types known to lack tags or location: never evaluated by `Indexed`. */
const NOT_INDEXED = new Set(
  [
    'Microsoft.Resources/subscriptions',
    'Microsoft.Resources/subscriptions/resourceGroups',
    'Microsoft.Resources/resourceGroups',
    'Microsoft.Management/managementGroups',
    'Microsoft.Security/assessments',
    'Microsoft.Security/assessments/subAssessments',
    'Microsoft.Security/pricings',
    'Microsoft.Security/settings',
    'Microsoft.Security/serverVulnerabilityAssessments',
    'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
    'Microsoft.Authorization/policyAssignments',
    'Microsoft.Authorization/roleAssignments',
  ].map((type) => type.toLowerCase()),
);

/**
 * Whether `Indexed` mode evaluates the resource. A type in neither list is judged by its body: it is
 * evaluated when it carries a `location` (a resource without one cannot be in Azure's tag-and-location
 * index either).
 */
export function isIndexed(resource: ArmResource): boolean {
  const type = resource.type.toLowerCase();
  if (TAGS_AND_LOCATION.has(type)) return true;
  if (NOT_INDEXED.has(type)) return false;
  return typeof resource.location === 'string' && resource.location !== '';
}

/**
 * Extension resource types: they live under any resource (`{resourceId}/providers/{type}/{name}`), so
 * the related resource of an AuditIfNotExists/DeployIfNotExists on, say, a VM is looked up on the VM.
 */
const EXTENSION_TYPES = new Set(
  [
    'Microsoft.Security/assessments',
    'Microsoft.Security/serverVulnerabilityAssessments',
    'Microsoft.Insights/diagnosticSettings',
    'Microsoft.GuestConfiguration/guestConfigurationAssignments',
  ].map((type) => type.toLowerCase()),
);

export function isExtensionType(type: string): boolean {
  return EXTENSION_TYPES.has(type.toLowerCase());
}
