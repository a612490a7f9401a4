/**
 * What a legacy enterprise estate is made of: business units and their workloads, regions, marketplace
 * images, VM sizes, and the extensions machines carry. Weights are rough shares seen in estates that
 * ran the built-in Qualys scanner; they only need to be plausible, not exact.
 */
import type { ImageReference } from '../providers/compute/model.js';

export const COMPANIES = ['contoso', 'fabrikam', 'northwind', 'woodgrove', 'tailspin', 'adatum'] as const;

export interface BusinessUnit {
  name: string;
  displayName: string;
  workloads: readonly string[];
}

export const BUSINESS_UNITS: readonly BusinessUnit[] = [
  { name: 'finance', displayName: 'Finance', workloads: ['payroll', 'ledger', 'erp', 'billing', 'treasury'] },
  { name: 'retail', displayName: 'Retail', workloads: ['pos', 'ecommerce', 'catalog', 'loyalty'] },
  { name: 'manufacturing', displayName: 'Manufacturing', workloads: ['mes', 'scada', 'plm', 'qms'] },
  { name: 'hr', displayName: 'Human Resources', workloads: ['hris', 'ats', 'learning'] },
  { name: 'marketing', displayName: 'Marketing', workloads: ['cms', 'crm', 'analytics'] },
  { name: 'engineering', displayName: 'Engineering', workloads: ['build', 'artifacts', 'gitlab', 'jira'] },
  { name: 'logistics', displayName: 'Logistics', workloads: ['wms', 'tms', 'fleet'] },
  { name: 'research', displayName: 'Research', workloads: ['hpc', 'lims', 'genomics'] },
];

/** Child groups under a business unit and the environments their subscriptions carry. */
export const CHILD_GROUPS = [
  { suffix: 'prod', displayName: 'Production', environments: ['prod'] },
  { suffix: 'nonprod', displayName: 'Non-production', environments: ['dev', 'test', 'uat', 'qa'] },
  { suffix: 'sandbox', displayName: 'Sandbox', environments: ['sbx'] },
] as const;

export const ROLES = ['web', 'app', 'api', 'sql', 'db', 'batch', 'file', 'cache', 'etl', 'jump'] as const;

/** Regions weighted the way enterprise estates cluster; short codes as naming conventions use them. */
export const REGIONS = [
  { location: 'eastus', short: 'eus', weight: 22 },
  { location: 'eastus2', short: 'eus2', weight: 12 },
  { location: 'westus2', short: 'wus2', weight: 8 },
  { location: 'centralus', short: 'cus', weight: 7 },
  { location: 'southcentralus', short: 'scus', weight: 4 },
  { location: 'westeurope', short: 'weu', weight: 16 },
  { location: 'northeurope', short: 'neu', weight: 9 },
  { location: 'uksouth', short: 'uks', weight: 6 },
  { location: 'germanywestcentral', short: 'gwc', weight: 3 },
  { location: 'francecentral', short: 'frc', weight: 2 },
  { location: 'southeastasia', short: 'sea', weight: 4 },
  { location: 'japaneast', short: 'jpe', weight: 3 },
  { location: 'australiaeast', short: 'aue', weight: 3 },
  { location: 'canadacentral', short: 'cac', weight: 1 },
] as const;

/** On-premises sites Arc machines are named after. */
export const SITES = ['ams', 'chi', 'dal', 'fra', 'lon', 'nyc', 'sin', 'syd', 'tok', 'par'] as const;

export interface OperatingSystem {
  osType: 'Windows' | 'Linux';
  image: ImageReference;
  /** What an Arc machine running it reports (`osSku`, `osVersion`). */
  arcSku: string;
  arcVersion: string;
  weight: number;
}

export const OPERATING_SYSTEMS: readonly OperatingSystem[] = [
  windows('2012-R2-Datacenter', 'Windows Server 2012 R2 Datacenter', '6.3.9600.21620', 4),
  windows('2016-Datacenter', 'Windows Server 2016 Datacenter', '10.0.14393.6897', 14),
  windows('2019-Datacenter', 'Windows Server 2019 Datacenter', '10.0.17763.5696', 22),
  windows(
    '2022-datacenter-azure-edition',
    'Windows Server 2022 Datacenter: Azure Edition',
    '10.0.20348.2402',
    14,
  ),
  linux(
    'Canonical',
    '0001-com-ubuntu-server-jammy',
    '22_04-lts-gen2',
    'Ubuntu 22.04.4 LTS',
    '5.15.0-105-generic',
    15,
  ),
  linux(
    'Canonical',
    '0001-com-ubuntu-server-focal',
    '20_04-lts-gen2',
    'Ubuntu 20.04.6 LTS',
    '5.4.0-177-generic',
    8,
  ),
  linux('Canonical', 'UbuntuServer', '18.04-LTS', 'Ubuntu 18.04.6 LTS', '5.4.0-1109-azure', 3),
  linux('RedHat', 'RHEL', '8-lvm', 'Red Hat Enterprise Linux 8.9', '4.18.0-513.24.1.el8_9.x86_64', 7),
  linux('RedHat', 'RHEL', '9-lvm', 'Red Hat Enterprise Linux 9.3', '5.14.0-362.24.1.el9_3.x86_64', 4),
  linux(
    'SUSE',
    'sles-15-sp5',
    'gen2',
    'SUSE Linux Enterprise Server 15 SP5',
    '5.14.21-150500.55.52-default',
    4,
  ),
  linux('Debian', 'debian-12', '12-gen2', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-20-cloud-amd64', 3),
  linux('OpenLogic', 'CentOS', '7_9', 'CentOS Linux 7 (Core)', '3.10.0-1160.114.2.el7.x86_64', 2),
];

function windows(sku: string, arcSku: string, arcVersion: string, weight: number): OperatingSystem {
  return {
    osType: 'Windows',
    image: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku },
    arcSku,
    arcVersion,
    weight,
  };
}

function linux(
  publisher: string,
  offer: string,
  sku: string,
  arcSku: string,
  arcVersion: string,
  weight: number,
): OperatingSystem {
  return { osType: 'Linux', image: { publisher, offer, sku }, arcSku, arcVersion, weight };
}

export const VM_SIZES = [
  { size: 'Standard_D2s_v3', weight: 25 },
  { size: 'Standard_D4s_v3', weight: 15 },
  { size: 'Standard_D2s_v5', weight: 12 },
  { size: 'Standard_B2ms', weight: 12 },
  { size: 'Standard_E4s_v3', weight: 8 },
  { size: 'Standard_DS2_v2', weight: 8 },
  { size: 'Standard_F4s_v2', weight: 5 },
  { size: 'Standard_D8s_v5', weight: 5 },
  { size: 'Standard_E16s_v5', weight: 2 },
] as const;

export interface ExtensionKind {
  publisher: string;
  type: string;
  typeHandlerVersion: string;
}

/**
 * The legacy built-in Qualys scanner's extension (Defender for Cloud's `Install-VA-VMExtention.ps1`
 * and the `deploy-qualys-va` policy). Its instance name is not fixed, so it is found by publisher and
 * type; the generator gives some instances other names to keep removal code honest.
 */
export const LEGACY_QUALYS_PUBLISHER = 'Qualys';
export const LEGACY_QUALYS: Record<'Windows' | 'Linux', ExtensionKind> = {
  Windows: { publisher: 'Qualys', type: 'WindowsAgent.AzureSecurityCenter', typeHandlerVersion: '1.0' },
  Linux: { publisher: 'Qualys', type: 'LinuxAgent.AzureSecurityCenter', typeHandlerVersion: '1.0' },
};
export const UNUSUAL_QUALYS_NAMES = [
  'QualysAgent',
  'qualys-va',
  'VulnerabilityAssessment',
  'ASC-VA',
] as const;

/**
 * The Qualys cloud agent of a BYOL solution (§7): publisher `Qualys` like the built-in scanner, but
 * other types, so that code looking for the built-in extension must match the type as well.
 */
export const QUALYS_BYOL_AGENT: Record<'Windows' | 'Linux', ExtensionKind> = {
  Windows: { publisher: 'Qualys', type: 'QualysAgent', typeHandlerVersion: '1.6' },
  Linux: { publisher: 'Qualys', type: 'QualysAgentLinux', typeHandlerVersion: '1.6' },
};

export const DEFENDER_FOR_ENDPOINT: Record<'Windows' | 'Linux', ExtensionKind> = {
  Windows: {
    publisher: 'Microsoft.Azure.AzureDefenderForServers',
    type: 'MDE.Windows',
    typeHandlerVersion: '1.0',
  },
  Linux: {
    publisher: 'Microsoft.Azure.AzureDefenderForServers',
    type: 'MDE.Linux',
    typeHandlerVersion: '1.0',
  },
};

export const AZURE_MONITOR_AGENT: Record<'Windows' | 'Linux', ExtensionKind> = {
  Windows: {
    publisher: 'Microsoft.Azure.Monitor',
    type: 'AzureMonitorWindowsAgent',
    typeHandlerVersion: '1.22',
  },
  Linux: { publisher: 'Microsoft.Azure.Monitor', type: 'AzureMonitorLinuxAgent', typeHandlerVersion: '1.29' },
};

/** Microsoft Antimalware: a security extension that is not a VA solution (Windows VMs only). */
export const ANTIMALWARE: ExtensionKind = {
  publisher: 'Microsoft.Azure.Security',
  type: 'IaaSAntimalware',
  typeHandlerVersion: '1.3',
};
