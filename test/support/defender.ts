/**
 * Small Defender worlds for tests, a line per fact: a subscription with a resource group, machines and
 * their extensions (written to the store, as Compute/Arc store them), and the Defender side — plans,
 * settings, the VA setting, connectors and BYOL solutions — written through the real API. Legacy
 * per-machine `serverVulnerabilityAssessments` are written as their provider stores them, so a test can
 * put a machine in any onboarding state without waiting for an operation.
 */
import { randomUUID } from 'node:crypto';
import type { LegacyServerVulnerabilityAssessment } from '../../src/coverage/index.js';
import {
  type PowerState,
  virtualMachineRecord,
  vmExtensionRecord,
} from '../../src/providers/compute/model.js';
import {
  type ArcStatus,
  arcExtensionRecord,
  arcMachineRecord,
} from '../../src/providers/hybridcompute/model.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { type LegacyVaName, legacyVaRecord } from '../../src/providers/security/legacyVa/index.js';
import { putResource } from '../../src/store/index.js';
import { addSubscription } from './estate.js';
import type { TestServer } from './server.js';

export const GROUP = 'rg-va';

/** Windows Server 2022 and Ubuntu 22.04 images, both supported by MDVM and reached by MDE auto-deployment. */
const IMAGES = {
  windows: {
    publisher: 'MicrosoftWindowsServer',
    offer: 'WindowsServer',
    sku: '2022-datacenter-azure-edition',
  },
  ubuntu: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' },
} as const;

/** The extensions tests put on machines, by identity (§10.1; MDE as Defender deploys it). */
export const EXTENSIONS = {
  qualysWindows: { publisher: 'Qualys', type: 'WindowsAgent.AzureSecurityCenter', typeHandlerVersion: '1.0' },
  qualysLinux: { publisher: 'Qualys', type: 'LinuxAgent.AzureSecurityCenter', typeHandlerVersion: '1.0' },
  mdeWindows: {
    publisher: 'Microsoft.Azure.AzureDefenderForServers',
    type: 'MDE.Windows',
    typeHandlerVersion: '1.0',
  },
  mdeLinux: {
    publisher: 'Microsoft.Azure.AzureDefenderForServers',
    type: 'MDE.Linux',
    typeHandlerVersion: '1.0',
  },
} as const;

type ExtensionIdentity = (typeof EXTENSIONS)[keyof typeof EXTENSIONS];

/** A fresh subscription (under `managementGroup` when given) with resource group `rg-va`; returns its id. */
export async function defenderSubscription(
  t: TestServer,
  options: { group?: string; managementGroup?: string } = {},
): Promise<string> {
  const subscriptionId = randomUUID();
  await addSubscription(t.server, { subscriptionId, managementGroup: options.managementGroup });
  await resourceGroup(t, subscriptionId, options.group ?? GROUP);
  return subscriptionId;
}

export async function resourceGroup(t: TestServer, subscriptionId: string, name: string): Promise<void> {
  await putResource(
    t.server.store.db,
    resourceGroupRecord({ subscriptionId, name, location: 'westeurope', now: new Date().toISOString() }),
  );
}

function now(t: TestServer): string {
  return t.server.services.clock.now().toISOString();
}

/** An Azure VM (Ubuntu 22.04 unless `os: 'windows'`, running unless told); returns its id. */
export async function vm(
  t: TestServer,
  subscriptionId: string,
  name: string,
  options: {
    os?: keyof typeof IMAGES;
    powerState?: PowerState;
    tags?: Record<string, string>;
    group?: string;
    extensions?: readonly (ExtensionIdentity & { name?: string; provisioningState?: string })[];
  } = {},
): Promise<string> {
  const os = options.os ?? 'ubuntu';
  const record = virtualMachineRecord({
    subscriptionId,
    resourceGroup: options.group ?? GROUP,
    name,
    location: 'westeurope',
    osType: os === 'windows' ? 'Windows' : 'Linux',
    image: IMAGES[os],
    powerState: options.powerState ?? 'running',
    tags: options.tags,
    now: now(t),
  });
  await putResource(t.server.store.db, record);
  for (const extension of options.extensions ?? []) {
    await vmExtension(t, record.id, { ...extension, provisioningState: extension.provisioningState });
  }
  return record.id;
}

export async function vmExtension(
  t: TestServer,
  machineId: string,
  extension: ExtensionIdentity & { name?: string; provisioningState?: string },
): Promise<void> {
  const [, , subscriptionId, , resourceGroupName] = machineId.split('/');
  await putResource(
    t.server.store.db,
    vmExtensionRecord({
      machineId,
      subscriptionId: subscriptionId!,
      resourceGroup: resourceGroupName!,
      name: extension.name ?? extension.type.split('.')[0]!,
      location: 'westeurope',
      publisher: extension.publisher,
      type: extension.type,
      typeHandlerVersion: extension.typeHandlerVersion,
      provisioningState: extension.provisioningState,
      now: now(t),
    }),
  );
}

/** An Arc machine (Connected Ubuntu 22.04 unless told); `cloudProvider` for a GCP/AWS projection. Returns its id. */
export async function arcMachine(
  t: TestServer,
  subscriptionId: string,
  name: string,
  options: {
    status?: ArcStatus;
    osType?: 'windows' | 'linux';
    osSku?: string;
    tags?: Record<string, string>;
    cloudProvider?: 'GCP' | 'AWS';
    group?: string;
    extensions?: readonly (ExtensionIdentity & { name?: string })[];
  } = {},
): Promise<string> {
  const osType = options.osType ?? 'linux';
  const record = arcMachineRecord({
    subscriptionId,
    resourceGroup: options.group ?? GROUP,
    name,
    location: 'westeurope',
    osType,
    osSku: options.osSku ?? (osType === 'windows' ? 'Windows Server 2022 Datacenter' : 'Ubuntu 22.04.4 LTS'),
    status: options.status ?? 'Connected',
    tags: options.tags,
    cloudProvider: options.cloudProvider,
    now: now(t),
  });
  await putResource(t.server.store.db, record);
  const [, , , , resourceGroupName] = record.id.split('/');
  for (const extension of options.extensions ?? []) {
    await putResource(
      t.server.store.db,
      arcExtensionRecord({
        machineId: record.id,
        subscriptionId,
        resourceGroup: resourceGroupName!,
        name: extension.name ?? extension.type.split('.')[0]!,
        location: 'westeurope',
        publisher: extension.publisher,
        type: extension.type,
        typeHandlerVersion: extension.typeHandlerVersion,
        now: now(t),
      }),
    );
  }
  return record.id;
}

async function put(t: TestServer, url: string, body: unknown): Promise<void> {
  const response = await t.inject({ method: 'PUT', url, body });
  if (response.status >= 300) {
    throw new Error(`PUT ${url} answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
}

/** Defender for Servers on the subscription: `Free`, `P1` or `P2` (agentless on unless `agentless: false`). */
export async function serversPlan(
  t: TestServer,
  subscriptionId: string,
  plan: 'Free' | 'P1' | 'P2',
  options: { agentless?: boolean } = {},
): Promise<void> {
  const properties =
    plan === 'Free'
      ? { pricingTier: 'Free' }
      : {
          pricingTier: 'Standard',
          subPlan: plan,
          ...(plan === 'P2'
            ? {
                extensions: [
                  { name: 'AgentlessVmScanning', isEnabled: options.agentless === false ? 'False' : 'True' },
                ],
              }
            : {}),
        };
  await put(
    t,
    `/subscriptions/${subscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2024-01-01`,
    { properties },
  );
}

/** A machine's own `VirtualMachines` pricing (2024-01-01): `Free` opts it out, `P1` sets Plan 1. */
export async function machinePlan(t: TestServer, machineId: string, plan: 'Free' | 'P1'): Promise<void> {
  await put(t, `${machineId}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2024-01-01`, {
    properties: plan === 'Free' ? { pricingTier: 'Free' } : { pricingTier: 'Standard', subPlan: 'P1' },
  });
}

/** A `Microsoft.Security/settings` toggle (`WDATP` is "Endpoint protection"). */
export async function setting(
  t: TestServer,
  subscriptionId: string,
  name: 'WDATP' | 'WDATP_UNIFIED_SOLUTION' | 'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW',
  enabled: boolean,
): Promise<void> {
  await put(
    t,
    `/subscriptions/${subscriptionId}/providers/Microsoft.Security/settings/${name}?api-version=2023-01-01`,
    {
      kind: 'DataExportSettings',
      properties: { enabled },
    },
  );
}

/** The transition page's request: the subscription selects MDVM. */
export async function selectMdeTvm(t: TestServer, subscriptionId: string): Promise<void> {
  await put(
    t,
    `/subscriptions/${subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
    { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm' } },
  );
}

/** MDVM ready on the subscription: Servers P2 (or P1) with Endpoint protection on, and MdeTvm selected. */
export async function mdvmReady(
  t: TestServer,
  subscriptionId: string,
  plan: 'P1' | 'P2' = 'P2',
): Promise<void> {
  await serversPlan(t, subscriptionId, plan);
  await setting(t, subscriptionId, 'WDATP', true);
  await selectMdeTvm(t, subscriptionId);
}

/**
 * A legacy per-machine `serverVulnerabilityAssessments/{Default|MdeTvm}` in a settled state, written as
 * the legacy provider stores it (without waiting for its provisioning operation).
 */
export async function legacyOnboarding(
  t: TestServer,
  machineId: string,
  name: LegacyVaName,
  state: LegacyServerVulnerabilityAssessment['provisioningState'] = 'Succeeded',
): Promise<void> {
  const [, , subscriptionId, , resourceGroupName] = machineId.split('/');
  await putResource(
    t.server.store.db,
    legacyVaRecord({
      machine: {
        id: machineId,
        subscriptionId: subscriptionId!.toLowerCase(),
        resourceGroup: resourceGroupName!.toLowerCase(),
      },
      name,
      state,
      now: now(t),
    }),
  );
}

/** A GCP or AWS security connector (2023-10-01-preview) with a Defender for Servers offering. */
export async function connector(
  t: TestServer,
  subscriptionId: string,
  name: string,
  options: {
    cloud?: 'GCP' | 'AWS';
    va?: 'Qualys' | 'TVM';
    subPlan?: 'P1' | 'P2';
    mdeAutoProvisioning?: boolean;
    group?: string;
  } = {},
): Promise<string> {
  const cloud = options.cloud ?? 'GCP';
  const servers = {
    arcAutoProvisioning: { enabled: true, configuration: {} },
    mdeAutoProvisioning: { enabled: options.mdeAutoProvisioning ?? false, configuration: {} },
    vaAutoProvisioning: { enabled: true, configuration: { type: options.va ?? 'TVM' } },
    subPlan: { type: options.subPlan ?? 'P2' },
  };
  const properties =
    cloud === 'GCP'
      ? {
          hierarchyIdentifier: '123456789012',
          environmentName: 'GCP',
          offerings: [
            {
              offeringType: 'DefenderForServersGcp',
              defenderForServers: {
                workloadIdentityProviderId: 'defender-for-servers',
                serviceAccountEmailAddress: 'microsoft-defender-for-servers@contoso.iam.gserviceaccount.com',
              },
              ...servers,
            },
          ],
          environmentData: {
            environmentType: 'GcpProject',
            projectDetails: { projectId: 'contoso-prod', projectNumber: '123456789012' },
          },
        }
      : {
          hierarchyIdentifier: '123456789012',
          environmentName: 'AWS',
          offerings: [
            {
              offeringType: 'DefenderForServersAws',
              defenderForServers: {
                cloudRoleArn: 'arn:aws:iam::123456789012:role/DefenderForCloud-DefenderForServers',
              },
              ...servers,
              arcAutoProvisioning: {
                enabled: true,
                cloudRoleArn: 'arn:aws:iam::123456789012:role/DefenderForCloud-ArcAutoProvisioning',
                configuration: {},
              },
            },
          ],
          environmentData: { environmentType: 'AwsAccount' },
        };
  const group = options.group ?? GROUP;
  await put(
    t,
    `/subscriptions/${subscriptionId}/resourceGroups/${group}/providers/Microsoft.Security/securityConnectors/${name}?api-version=2023-10-01-preview`,
    { location: 'westeurope', properties },
  );
  return `/subscriptions/${subscriptionId}/resourcegroups/${group}/providers/Microsoft.Security/securityConnectors/${name}`;
}

/** A BYOL solution created as Microsoft's New-ASCVASolution.ps1 creates it (2015-06-01-preview). */
export async function byolSolution(
  t: TestServer,
  subscriptionId: string,
  name: string,
  options: { partner?: 'qualys' | 'rapid7'; autoDeploy?: boolean; group?: string } = {},
): Promise<void> {
  const qualys = (options.partner ?? 'qualys') === 'qualys';
  await put(
    t,
    `/subscriptions/${subscriptionId}/resourceGroups/${options.group ?? GROUP}/providers/Microsoft.Security/locations/westeurope/securitySolutions/${name}?api-version=2015-06-01-preview`,
    {
      Properties: {
        Location: 'westeurope',
        Template: qualys ? 'qualys.qualysAgent' : 'rapid7.insightplatform',
        ProvisioningParameters: JSON.stringify({
          // A Rapid7 license is the base64 of the configuration zip it issues.
          licenseCode: qualys ? randomUUID() : Buffer.from(`PK${randomUUID()}`).toString('base64'),
          ...(qualys ? { publicKey: 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' } : {}),
          autoUpdate: options.autoDeploy ?? true,
        }),
      },
    },
  );
}

/** GET of the machine's ffff0522 assessment at 2021-06-01 (or `apiVersion`), with `$expand` when given. */
export async function vaAssessment(
  t: TestServer,
  machineId: string,
  options: { apiVersion?: string; expand?: string } = {},
): Promise<{ status: number; body: any }> {
  const query = new URLSearchParams({ 'api-version': options.apiVersion ?? '2021-06-01' });
  if (options.expand !== undefined) query.set('$expand', options.expand);
  return t.inject({
    method: 'GET',
    url: `${machineId}/providers/Microsoft.Security/assessments/ffff0522-1e88-47fc-8382-2a80ba848f5d?${query}`,
  });
}
