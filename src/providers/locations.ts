/** Azure public-cloud regions vaplane accepts for tracked resources (names as ARM lists them). */
export const AZURE_LOCATIONS = [
  'eastus',
  'eastus2',
  'westus',
  'westus2',
  'westus3',
  'centralus',
  'northcentralus',
  'southcentralus',
  'westcentralus',
  'canadacentral',
  'canadaeast',
  'brazilsouth',
  'northeurope',
  'westeurope',
  'uksouth',
  'ukwest',
  'francecentral',
  'germanywestcentral',
  'switzerlandnorth',
  'norwayeast',
  'swedencentral',
  'polandcentral',
  'italynorth',
  'spaincentral',
  'eastasia',
  'southeastasia',
  'japaneast',
  'japanwest',
  'australiaeast',
  'australiasoutheast',
  'centralindia',
  'southindia',
  'koreacentral',
  'uaenorth',
  'southafricanorth',
  'qatarcentral',
  'israelcentral',
  'mexicocentral',
] as const;

const DISPLAY_NAMES: Record<string, string> = {
  eastus: 'East US',
  eastus2: 'East US 2',
  westus: 'West US',
  westus2: 'West US 2',
  westus3: 'West US 3',
  centralus: 'Central US',
  northeurope: 'North Europe',
  westeurope: 'West Europe',
  uksouth: 'UK South',
};

/** Canonical region name for a value such as `West Europe` or `WESTEUROPE`, or undefined when unknown. */
export function normaliseLocation(value: string): string | undefined {
  const compact = value.toLowerCase().replace(/\s+/g, '');
  return AZURE_LOCATIONS.find((location) => location === compact);
}

export function locationDisplayName(location: string): string {
  return DISPLAY_NAMES[location] ?? location;
}
