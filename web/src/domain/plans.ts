/** Defender plan names as the Azure portal shows them (pricing names are the API's, §5). */
export const PLAN_LABELS: Record<string, string> = {
  cloudposture: 'Defender CSPM',
  virtualmachines: 'Servers',
  appservices: 'App Service',
  sqlservers: 'Azure SQL Databases',
  sqlservervirtualmachines: 'SQL servers on machines',
  opensourcerelationaldatabases: 'Open-source relational databases',
  cosmosdbs: 'Azure Cosmos DB',
  storageaccounts: 'Storage',
  containers: 'Containers',
  keyvaults: 'Key Vault',
  arm: 'Resource Manager',
  api: 'APIs',
  ai: 'AI services',
  dns: 'DNS',
  kubernetesservice: 'Kubernetes Service',
  containerregistry: 'Container Registry',
};

export function planLabel(name: string): string {
  return PLAN_LABELS[name.toLowerCase()] ?? name;
}

export function subPlanLabel(subPlan: string | undefined): string {
  if (subPlan === 'P1') return 'Plan 1';
  if (subPlan === 'P2') return 'Plan 2';
  return subPlan ?? '';
}

/** Where Microsoft documents the BYOL (bring-your-own-license) partner solutions (§7). */
export const BYOL_DOCS =
  'https://learn.microsoft.com/azure/defender-for-cloud/deploy-vulnerability-assessment-byol-vm';

export const RETIREMENT_DOCS =
  'https://learn.microsoft.com/azure/defender-for-cloud/how-to-transition-to-built-in';
