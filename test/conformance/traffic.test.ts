/**
 * Validates vaplane's Microsoft.Security traffic against Microsoft's OpenAPI files with `oav
 * validate-traffic` (see traffic.ts).
 *
 * The traffic: a replay of every example the swaggers below reference (through the shared harness,
 * replay.ts, whose seeding requests are recorded too), and hand-made requests that reach every
 * operation of every swagger — creates and updates, reads of what exists and of what does not, and
 * refused requests, whose ARM errors must fit each operation's `default` response. Each exchange is
 * validated against the swagger of its api-version; exchanges no swagger in the corpus describes (BYOL
 * writes at 2015-06-01-preview, the harness's seeding PUTs of read-only types) must be in `UNVALIDATED`.
 *
 * It proves, per swagger: oav matched every exchange to an operation, every operation was exercised,
 * and every validation error is one listed in `divergences` with its reason (a divergence that no
 * longer occurs fails too, so the list stays true). A request error on a request vaplane refused
 * (4xx) is not a divergence: the swagger and vaplane agree the request is invalid. A doctored reply
 * proves the validator flags what it should. The legacy `default` needs the clock before the Qualys
 * retirement, so the server starts on 2024-03-01.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsConnector } from '../support/connectors.js';
import { vmAndArcMachine } from '../support/machines.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { collectCases, corpusRoot, type ReplayTarget, replay } from './replay.js';
import {
  type Exchange,
  explainedBy,
  loadSpecs,
  type OavError,
  type OavRun,
  type RecordingLabel,
  recording,
  routeExchange,
  type SpecFile,
  type TrafficDivergence,
  table,
  validateTraffic,
  writeTraffic,
} from './traffic.js';

const S = 'security/resource-manager/Microsoft.Security';
const VA_SETTINGS = [
  `${S}/preview/2022-01-01-preview/ServerVulnerabilityAssessmentsSettings.json`,
  `${S}/stable/2023-05-01/ServerVulnerabilityAssessmentsSettings.json`,
];
const PRICINGS = [`${S}/stable/2023-01-01/pricings.json`, `${S}/stable/2024-01-01/pricings.json`];
const SETTINGS = [`${S}/stable/2022-05-01/settings.json`, `${S}/stable/2023-01-01/settings.json`];
const CONNECTORS = [
  `${S}/preview/2022-08-01-preview/securityConnectors.json`,
  `${S}/preview/2023-10-01-preview/securityConnectors.json`,
];
const LEGACY_VA = `${S}/stable/2020-01-01/serverVulnerabilityAssessments.json`;
const SOLUTIONS = `${S}/stable/2020-01-01/SecuritySolutions.json`;
const ASSESSMENTS = [
  `${S}/stable/2021-06-01/assessments.json`,
  `${S}/stable/2021-06-01/assessmentMetadata.json`,
  `${S}/preview/2019-01-01-preview/subAssessments.json`,
];

const LEGACY_VA_OPERATIONS = [
  'ServerVulnerabilityAssessment_Get',
  'ServerVulnerabilityAssessment_CreateOrUpdate',
  'ServerVulnerabilityAssessment_Delete',
  'ServerVulnerabilityAssessment_GetLocationHeaderResult',
];
const CONNECTOR_READS = [
  'SecurityConnectors_CreateOrUpdate',
  'SecurityConnectors_Get',
  'SecurityConnectors_List',
  'SecurityConnectors_ListByResourceGroup',
  'SecurityConnectors_Update',
];
const ARC_CONFIGURATION =
  "the corpus holds the older of the two published 2022-08-01-preview revisions (acfdec33), without DefenderForServersGcp's arcAutoProvisioning.configuration; vaplane follows the newer one (29187a38), which adds it as an empty object and which Microsoft's transition page sends (defender-va-spec.md §4.3, read from 29187a38; securityConnectors/README.md, schema.ts)";

/**
 * Every validation error vaplane's traffic raises, with the reason it is right. Request errors on
 * requests vaplane refused are not listed: the swagger and vaplane agree that those are invalid.
 */
const divergences: TrafficDivergence[] = [
  {
    specs: [VA_SETTINGS[0]!],
    operationIds: [
      'ServerVulnerabilityAssessmentsSettings_CreateOrUpdate',
      'ServerVulnerabilityAssessmentsSettings_Delete',
    ],
    code: 'ENUM_CASE_MISMATCH',
    issueSource: 'request',
    path: '.path.settingKind',
    reason:
      "Microsoft's own 2022-01-01-preview Put and Delete examples (and the List example's item id, which the replay seeds from) name the setting 'AzureServersSetting', the casing of the docs, policy 766e621d and Terraform, while the swagger's path enum says 'azureServersSetting'; ARM paths are case-insensitive and vaplane accepts any casing (providers/security/README.md)",
  },
  {
    specs: [VA_SETTINGS[1]!],
    operationIds: ['ServerVulnerabilityAssessmentsSettings_CreateOrUpdate'],
    code: 'ENUM_CASE_MISMATCH',
    issueSource: 'request',
    path: '.path.settingKind',
    reason:
      "Microsoft's built-in policy 766e621d deploys the setting at 2023-05-01 under the name 'AzureServersSetting' (and Terraform reads it back so), while the swagger's path enum says 'azureServersSetting'; ARM paths are case-insensitive and vaplane accepts any casing (providers/security/README.md)",
  },
  {
    specs: [CONNECTORS[0]!],
    operationIds: ['SecurityConnectors_CreateOrUpdate'],
    code: 'OBJECT_ADDITIONAL_PROPERTIES',
    issueSource: 'request',
    path: '$.properties.offerings[*].arcAutoProvisioning.configuration',
    reason: ARC_CONFIGURATION,
  },
  {
    specs: [CONNECTORS[0]!],
    operationIds: CONNECTOR_READS,
    code: 'OBJECT_ADDITIONAL_PROPERTIES',
    issueSource: 'response',
    path: '$.properties.offerings[*].arcAutoProvisioning.configuration',
    reason: ARC_CONFIGURATION,
  },
  {
    specs: [CONNECTORS[0]!],
    operationIds: CONNECTOR_READS,
    code: 'OBJECT_ADDITIONAL_PROPERTIES',
    issueSource: 'response',
    path: '$.value[*].properties.offerings[*].arcAutoProvisioning.configuration',
    reason: ARC_CONFIGURATION,
  },
  {
    specs: [CONNECTORS[0]!],
    operationIds: ['SecurityConnectors_CreateOrUpdate'],
    code: 'INVALID_TYPE',
    issueSource: 'request',
    path: '$.properties.offerings[*].subPlan',
    reason:
      'the transition page sends the servers offering\'s subPlan as a string ("P2") where every swagger has {"type": "P2"}; vaplane accepts both and answers the object (trap 1, securityConnectors/README.md)',
  },
  {
    specs: [CONNECTORS[0]!],
    operationIds: ['SecurityConnectors_CreateOrUpdate'],
    code: 'READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST',
    issueSource: 'request',
    path: '$.properties.environmentData.projectDetails.workloadIdentityPoolId',
    reason:
      'the transition page sends the read-only workloadIdentityPoolId back ("{identityPoolIdRemainsTheSame}"); vaplane ignores it rather than refusing the page\'s request (trap 2, securityConnectors/README.md)',
  },
  {
    specs: [LEGACY_VA],
    operationIds: LEGACY_VA_OPERATIONS,
    code: 'ENUM_MISMATCH',
    issueSource: 'request',
    path: '.path.serverVulnerabilityAssessment',
    reason:
      "the swagger's name enum has 'default' only; Azure also serves 'mdeTvm' (Microsoft's Enable-MDETVM Logic App, Az.Security), and vaplane serves both (trap 5, legacyVa/README.md)",
  },
  {
    specs: [LEGACY_VA],
    operationIds: ['ServerVulnerabilityAssessment_GetLocationHeaderResult'],
    code: 'ENUM_CASE_MISMATCH',
    issueSource: 'request',
    path: '.path.serverVulnerabilityAssessment',
    reason:
      "the Location vaplane issues names the resource as its id does, 'Default' (the casing Azure answered for a PUT to .../default, recorded: legacyVa/README.md); a client polls it verbatim and ARM paths are case-insensitive",
  },
  {
    specs: [LEGACY_VA],
    operationIds: ['ServerVulnerabilityAssessment_Delete'],
    code: 'INVALID_RESPONSE_CODE',
    issueSource: 'response',
    path: '$',
    reason:
      "a DELETE of a resource that does not exist answers 204 (ARM RPC; the example's own 200/204, from the revision before bdf3d534 made DELETE 202-only) — legacyVa/README.md",
  },
  {
    specs: [LEGACY_VA],
    operationIds: ['ServerVulnerabilityAssessment_GetLocationHeaderResult'],
    code: 'INVALID_TYPE',
    issueSource: 'response',
    path: '$',
    reason:
      "the Location of a finished DELETE answers 200 without a body (ARM RPC: 'what the original call would have returned', the resource being gone); the swagger's one 200 schema is the PUT's result (legacyVa/README.md)",
  },
];

/** Traffic that no swagger in the corpus describes, and why; every such exchange must be one of these. */
const UNVALIDATED: { method: string; path: RegExp; apiVersion: string; reason: string }[] = [
  ...['PUT', 'DELETE'].map((method) => ({
    method,
    path: /\/locations\/[^/]+\/securitySolutions\/[^/]+$/i,
    apiVersion: '2015-06-01-preview',
    reason:
      'BYOL solutions are written at 2015-06-01-preview, as New-ASCVASolution.ps1 writes them; no swagger of that version is published',
  })),
  {
    method: 'PUT',
    path: /\/locations\/[^/]+\/securitySolutions\/[^/]+$/i,
    apiVersion: '2020-01-01',
    reason:
      "the replay seeds each GET example with a PUT at the example's version; 2020-01-01 securitySolutions are read-only (vaplane refuses the PUT)",
  },
  {
    method: 'PUT',
    path: /\/subAssessments\/[^/]+$/i,
    apiVersion: '2019-01-01-preview',
    reason:
      'the replay seeds the GET example with a PUT; sub-assessments are read-only (vaplane refuses the PUT)',
  },
];

const RG = 'Traffic-RG';
const VM = 'vm-traffic';
const ARC = 'arc-traffic';
const ASSESSMENT = 'ffff0522-1e88-47fc-8382-2a80ba848f5d';
/** Before the Qualys retirement, so that the built-in scanner (`default`) can still be provisioned. */
const NOW = new Date('2024-03-01T00:00:00Z');

type Send = (
  label: string,
  request: Parameters<TestServer['inject']>[0],
  expected: number,
) => Promise<Awaited<ReturnType<TestServer['inject']>>>;

/** A subscription with a resource group, a running Linux VM and a connected Arc machine. */
async function world(t: TestServer): Promise<{ sub: string; vmId: string; arcId: string }> {
  const sub = randomUUID();
  await vmAndArcMachine(t, { subscriptionId: sub, resourceGroup: RG, vm: VM, arc: ARC });
  return {
    sub,
    vmId: `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/${VM}`,
    arcId: `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.HybridCompute/machines/${ARC}`,
  };
}

const MDE_TVM = { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm' } };

async function vaSettingsTraffic(t: TestServer, send: Send): Promise<void> {
  for (const [version, created] of [
    ['2022-01-01-preview', 200],
    ['2023-05-01', 201],
  ] as const) {
    const { sub } = await world(t);
    const collection = `/subscriptions/${sub}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings`;
    const setting = `${collection}/azureServersSetting?api-version=${version}`;
    await send('VA setting: GET of an unset setting', { method: 'GET', url: setting }, 404);
    await send(
      'VA setting: list, none set',
      { method: 'GET', url: `${collection}?api-version=${version}` },
      200,
    );
    await send(
      'VA setting: PUT MdeTvm (transition page)',
      { method: 'PUT', url: setting, body: MDE_TVM },
      created,
    );
    await send('VA setting: PUT again', { method: 'PUT', url: setting, body: MDE_TVM }, 200);
    await send('VA setting: GET', { method: 'GET', url: setting }, 200);
    await send('VA setting: list', { method: 'GET', url: `${collection}?api-version=${version}` }, 200);
    await send(
      'VA setting: PUT with an unknown provider',
      {
        method: 'PUT',
        url: setting,
        body: { kind: 'AzureServersSetting', properties: { selectedProvider: 'Qualys' } },
      },
      400,
    );
    await send('VA setting: DELETE', { method: 'DELETE', url: setting }, 200);
    await send(
      "VA setting: PUT with the name's casing of policy 766e621d",
      { method: 'PUT', url: setting.replace('azureServersSetting', 'AzureServersSetting'), body: MDE_TVM },
      created,
    );
    await send('VA setting: DELETE again', { method: 'DELETE', url: setting }, 200);
    await send('VA setting: DELETE of an unset setting', { method: 'DELETE', url: setting }, 204);
  }
}

async function pricingsTraffic(t: TestServer, send: Send): Promise<void> {
  {
    const { sub } = await world(t);
    const v = 'api-version=2023-01-01';
    const plans = `/subscriptions/${sub}/providers/Microsoft.Security/pricings`;
    await send('pricing 2023: list', { method: 'GET', url: `${plans}?${v}` }, 200);
    await send(
      'pricing 2023: GET VirtualMachines (Free)',
      { method: 'GET', url: `${plans}/VirtualMachines?${v}` },
      200,
    );
    await send(
      'pricing 2023: PUT Servers P1',
      {
        method: 'PUT',
        url: `${plans}/VirtualMachines?${v}`,
        body: { properties: { pricingTier: 'Standard', subPlan: 'P1' } },
      },
      200,
    );
    await send(
      'pricing 2023: PUT Servers P2 with agentless scanning',
      {
        method: 'PUT',
        url: `${plans}/VirtualMachines?${v}`,
        body: {
          properties: {
            pricingTier: 'Standard',
            subPlan: 'P2',
            extensions: [
              {
                name: 'AgentlessVmScanning',
                isEnabled: 'True',
                additionalExtensionProperties: { ExclusionTags: '[]' },
              },
              { name: 'MdeDesignatedSubscription', isEnabled: 'False' },
            ],
          },
        },
      },
      200,
    );
    await send(
      'pricing 2023: PUT P1 with agentless scanning (refused)',
      {
        method: 'PUT',
        url: `${plans}/VirtualMachines?${v}`,
        body: {
          properties: {
            pricingTier: 'Standard',
            subPlan: 'P1',
            extensions: [{ name: 'AgentlessVmScanning', isEnabled: 'True' }],
          },
        },
      },
      400,
    );
    await send('pricing 2023: GET an unknown plan', { method: 'GET', url: `${plans}/NoSuchPlan?${v}` }, 400);
    await send(
      'pricing 2023: PUT Free',
      { method: 'PUT', url: `${plans}/VirtualMachines?${v}`, body: { properties: { pricingTier: 'Free' } } },
      200,
    );
  }
  {
    const { sub, vmId, arcId } = await world(t);
    const v = 'api-version=2024-01-01';
    const plans = `/subscriptions/${sub}/providers/Microsoft.Security/pricings`;
    await send('pricing 2024: list', { method: 'GET', url: `${plans}?${v}` }, 200);
    await send(
      'pricing 2024: list with a name filter',
      {
        method: 'GET',
        url: `${plans}?${v}&$filter=${encodeURIComponent('name in (VirtualMachines,KeyVaults)')}`,
      },
      200,
    );
    await send(
      'pricing 2024: PUT Servers P2 (first write)',
      {
        method: 'PUT',
        url: `${plans}/VirtualMachines?${v}`,
        body: { properties: { pricingTier: 'Standard', subPlan: 'P2' } },
      },
      201,
    );
    await send(
      'pricing 2024: GET VirtualMachines',
      { method: 'GET', url: `${plans}/VirtualMachines?${v}` },
      200,
    );
    await send(
      'pricing 2024: PUT Containers',
      { method: 'PUT', url: `${plans}/Containers?${v}`, body: { properties: { pricingTier: 'Standard' } } },
      201,
    );
    const vmPlan = `${vmId}/providers/Microsoft.Security/pricings/VirtualMachines?${v}`;
    await send('pricing 2024: GET a VM (inherited)', { method: 'GET', url: vmPlan }, 200);
    await send(
      'pricing 2024: PUT a VM to P1',
      { method: 'PUT', url: vmPlan, body: { properties: { pricingTier: 'Standard', subPlan: 'P1' } } },
      201,
    );
    await send('pricing 2024: GET a VM (own)', { method: 'GET', url: vmPlan }, 200);
    await send(
      "pricing 2024: list a VM's pricings",
      { method: 'GET', url: `${vmId}/providers/Microsoft.Security/pricings?${v}` },
      200,
    );
    await send(
      'pricing 2024: PUT a VM to P2 (refused)',
      { method: 'PUT', url: vmPlan, body: { properties: { pricingTier: 'Standard', subPlan: 'P2' } } },
      400,
    );
    await send('pricing 2024: DELETE a VM pricing', { method: 'DELETE', url: vmPlan }, 200);
    await send('pricing 2024: DELETE a VM pricing again', { method: 'DELETE', url: vmPlan }, 204);
    await send(
      'pricing 2024: PUT an Arc machine to Free',
      {
        method: 'PUT',
        url: `${arcId}/providers/Microsoft.Security/pricings/VirtualMachines?${v}`,
        body: { properties: { pricingTier: 'Free' } },
      },
      201,
    );
    await send(
      'pricing 2024: DELETE at subscription scope (not allowed)',
      { method: 'DELETE', url: `${plans}/VirtualMachines?${v}` },
      405,
    );
  }
}

async function settingsTraffic(t: TestServer, send: Send): Promise<void> {
  for (const version of ['2022-05-01', '2023-01-01']) {
    const { sub } = await world(t);
    const settings = `/subscriptions/${sub}/providers/Microsoft.Security/settings`;
    const v = `api-version=${version}`;
    await send('settings: list', { method: 'GET', url: `${settings}?${v}` }, 200);
    await send('settings: GET WDATP (unset)', { method: 'GET', url: `${settings}/WDATP?${v}` }, 200);
    await send(
      'settings: PUT WDATP on (Endpoint protection)',
      {
        method: 'PUT',
        url: `${settings}/WDATP?${v}`,
        body: { kind: 'DataExportSettings', properties: { enabled: true } },
      },
      200,
    );
    await send(
      'settings: PUT Sentinel',
      {
        method: 'PUT',
        url: `${settings}/Sentinel?${v}`,
        body: { kind: 'AlertSyncSettings', properties: { enabled: true } },
      },
      200,
    );
    await send(
      'settings: PUT WDATP with the wrong kind',
      {
        method: 'PUT',
        url: `${settings}/WDATP?${v}`,
        body: { kind: 'AlertSyncSettings', properties: { enabled: true } },
      },
      400,
    );
    await send(
      'settings: GET an unknown setting',
      { method: 'GET', url: `${settings}/NoSuchSetting?${v}` },
      400,
    );
  }
}

function gcpConnector(va: 'Qualys' | 'TVM') {
  return {
    location: 'westeurope',
    properties: {
      hierarchyIdentifier: '123456789012',
      environmentName: 'GCP',
      offerings: [
        {
          offeringType: 'CspmMonitorGcp',
          nativeCloudConnection: {
            workloadIdentityProviderId: 'cspm',
            serviceAccountEmailAddress: 'microsoft-defender-cspm@contoso-prod.iam.gserviceaccount.com',
          },
        },
        {
          offeringType: 'DefenderForServersGcp',
          defenderForServers: {
            workloadIdentityProviderId: 'defender-for-servers',
            serviceAccountEmailAddress: 'microsoft-defender-for-servers@contoso-prod.iam.gserviceaccount.com',
          },
          arcAutoProvisioning: { enabled: true, configuration: {} },
          mdeAutoProvisioning: { enabled: true, configuration: {} },
          vaAutoProvisioning: { enabled: true, configuration: { type: va } },
          subPlan: { type: 'P2' },
        },
      ],
      environmentData: {
        environmentType: 'GcpProject',
        projectDetails: { projectId: 'contoso-prod', projectNumber: '123456789012' },
      },
    },
  };
}

const AWS_CONNECTOR = { ...awsConnector(), tags: { owner: 'secops' } };

/** The transition page's GCP connector PUT, placeholders filled in (§4.5 of the domain spec). */
const TRANSITION_PAGE_CONNECTOR = {
  properties: {
    hierarchyIdentifier: '123456789012',
    environmentName: 'GCP',
    offerings: [
      {
        offeringType: 'CspmMonitorGcp',
        nativeCloudConnection: {
          workloadIdentityProviderId: 'cspm',
          serviceAccountEmailAddress: 'microsoft-defender-cspm@contoso-prod.iam.gserviceaccount.com',
        },
      },
      { offeringType: 'DefenderCspmGcp' },
      {
        offeringType: 'DefenderForServersGcp',
        defenderForServers: {
          workloadIdentityProviderId: 'defender-for-servers',
          serviceAccountEmailAddress: 'microsoft-defender-for-servers@contoso-prod.iam.gserviceaccount.com',
        },
        arcAutoProvisioning: { enabled: true, configuration: {} },
        mdeAutoProvisioning: { enabled: true, configuration: {} },
        vaAutoProvisioning: { enabled: true, configuration: { type: 'TVM' } },
        subPlan: 'P2',
      },
    ],
    environmentData: {
      environmentType: 'GcpProject',
      projectDetails: {
        projectId: 'contoso-prod',
        projectNumber: '123456789012',
        workloadIdentityPoolId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      },
    },
  },
  location: 'westeurope',
};

async function connectorsTraffic(t: TestServer, send: Send): Promise<void> {
  for (const version of ['2022-08-01-preview', '2023-10-01-preview']) {
    const { sub } = await world(t);
    const v = `api-version=${version}`;
    const group = `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Security/securityConnectors`;
    await send(
      'connector: PUT GCP (Qualys)',
      { method: 'PUT', url: `${group}/gcp-1?${v}`, body: gcpConnector('Qualys') },
      201,
    );
    await send('connector: GET', { method: 'GET', url: `${group}/gcp-1?${v}` }, 200);
    await send(
      'connector: PUT GCP (TVM)',
      { method: 'PUT', url: `${group}/gcp-1?${v}`, body: gcpConnector('TVM') },
      200,
    );
    await send('connector: PUT AWS', { method: 'PUT', url: `${group}/aws-1?${v}`, body: AWS_CONNECTOR }, 201);
    await send(
      'connector: list by subscription',
      { method: 'GET', url: `/subscriptions/${sub}/providers/Microsoft.Security/securityConnectors?${v}` },
      200,
    );
    await send('connector: list by resource group', { method: 'GET', url: `${group}?${v}` }, 200);
    await send(
      'connector: PATCH tags',
      { method: 'PATCH', url: `${group}/aws-1?${v}`, body: { tags: { owner: 'platform' } } },
      200,
    );
    await send(
      'connector: PUT with an unknown environment type',
      {
        method: 'PUT',
        url: `${group}/bad?${v}`,
        body: {
          ...AWS_CONNECTOR,
          properties: { ...AWS_CONNECTOR.properties, environmentData: { environmentType: 'Mars' } },
        },
      },
      400,
    );
    await send('connector: DELETE', { method: 'DELETE', url: `${group}/aws-1?${v}` }, 204);
    await send('connector: GET of a deleted connector', { method: 'GET', url: `${group}/aws-1?${v}` }, 404);
    await send(
      'connector: PATCH of a missing connector',
      { method: 'PATCH', url: `${group}/aws-1?${v}`, body: { tags: {} } },
      404,
    );
  }
  const { sub } = await world(t);
  await send(
    "connector: the transition page's PUT (lower-case path, subPlan string, pool id)",
    {
      method: 'PUT',
      url: `/subscriptions/${sub}/resourcegroups/${RG.toLowerCase()}/providers/Microsoft.Security/securityconnectors/gcp-contoso-prod?api-version=2022-08-01-preview`,
      body: TRANSITION_PAGE_CONNECTOR,
    },
    201,
  );
}

/** The path (and query) of an absolute or relative `Location`. */
function locationPath(location: unknown): string {
  const text = String(location);
  return text.startsWith('/') ? text : `${new URL(text).pathname}${new URL(text).search}`;
}

async function legacyVaTraffic(t: TestServer, send: Send): Promise<void> {
  const { sub, vmId, arcId } = await world(t);
  const v = 'api-version=2020-01-01';
  await send(
    'legacy VA: Defender for Servers P2 (what default needs)',
    {
      method: 'PUT',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2023-01-01`,
      body: { properties: { pricingTier: 'Standard', subPlan: 'P2' } },
    },
    200,
  );
  for (const [machine, name] of [
    [vmId, 'default'],
    [arcId, 'mdeTvm'],
  ] as const) {
    const collection = `${machine}/providers/Microsoft.Security/serverVulnerabilityAssessments`;
    const resource = `${collection}/${name}?${v}`;
    await send('legacy VA: list, none', { method: 'GET', url: `${collection}?${v}` }, 200);
    await send('legacy VA: GET before onboarding', { method: 'GET', url: resource }, 404);
    const put = await send(`legacy VA: PUT ${name}`, { method: 'PUT', url: resource }, 202);
    await send('legacy VA: GET while provisioning', { method: 'GET', url: resource }, 200);
    const operation = locationPath(put.headers.location);
    await send('legacy VA: operation result, running', { method: 'GET', url: operation }, 202);
    await t.server.services.lro.runDue();
    await send('legacy VA: operation result, done', { method: 'GET', url: operation }, 200);
    await send('legacy VA: GET, Succeeded', { method: 'GET', url: resource }, 200);
    await send('legacy VA: list', { method: 'GET', url: `${collection}?${v}` }, 200);
    const deleted = await send('legacy VA: DELETE', { method: 'DELETE', url: resource }, 202);
    await t.server.services.lro.runDue();
    await send(
      'legacy VA: operation result of the DELETE',
      { method: 'GET', url: locationPath(deleted.headers.location) },
      200,
    );
    await send('legacy VA: DELETE of an absent resource', { method: 'DELETE', url: resource }, 204);
  }
  await send(
    'legacy VA: PUT of an unknown name',
    { method: 'PUT', url: `${vmId}/providers/Microsoft.Security/serverVulnerabilityAssessments/qualys?${v}` },
    400,
  );
}

async function solutionsTraffic(t: TestServer, send: Send): Promise<void> {
  const { sub } = await world(t);
  const solution = `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Security/locations/westeurope/securitySolutions/QualysVa001`;
  await send(
    'BYOL: PUT as New-ASCVASolution.ps1 (2015-06-01-preview)',
    {
      method: 'PUT',
      url: `${solution}?api-version=2015-06-01-preview`,
      body: {
        Properties: {
          Location: 'westeurope',
          Template: 'qualys.qualysAgent',
          ProvisioningParameters:
            '{"licenseCode":"eyJjaWQiOiJ0cmFmZmljIn0=","publicKey":"MIGfMA0GCSq","autoUpdate":true}',
        },
      },
    },
    201,
  );
  const v = 'api-version=2020-01-01';
  await send('BYOL: GET', { method: 'GET', url: `${solution}?${v}` }, 200);
  await send(
    'BYOL: list by subscription',
    { method: 'GET', url: `/subscriptions/${sub}/providers/Microsoft.Security/securitySolutions?${v}` },
    200,
  );
  await send(
    'BYOL: list by home region',
    {
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/locations/westeurope/securitySolutions?${v}`,
    },
    200,
  );
  await send('BYOL: GET of a missing solution', { method: 'GET', url: `${solution}-missing?${v}` }, 404);
  await send(
    'BYOL: DELETE (2015-06-01-preview)',
    { method: 'DELETE', url: `${solution}?api-version=2015-06-01-preview` },
    200,
  );
}

async function assessmentsTraffic(t: TestServer, send: Send): Promise<void> {
  const { sub, vmId, arcId } = await world(t);
  const v = 'api-version=2021-06-01';
  const onVm = `${vmId}/providers/Microsoft.Security/assessments/${ASSESSMENT}`;
  await send(
    'assessments: list by subscription',
    { method: 'GET', url: `/subscriptions/${sub}/providers/Microsoft.Security/assessments?${v}` },
    200,
  );
  await send(
    'assessments: list by resource group',
    {
      method: 'GET',
      url: `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Security/assessments?${v}`,
    },
    200,
  );
  await send(
    'assessments: list on a VM',
    { method: 'GET', url: `${vmId}/providers/Microsoft.Security/assessments?${v}` },
    200,
  );
  await send('assessments: GET ffff0522 on a VM', { method: 'GET', url: `${onVm}?${v}` }, 200);
  await send(
    'assessments: GET ffff0522 on an Arc machine with links and metadata',
    {
      method: 'GET',
      url: `${arcId}/providers/Microsoft.Security/assessments/${ASSESSMENT}?${v}&$expand=links,metadata`,
    },
    200,
  );
  await send(
    'assessments: GET another assessment',
    { method: 'GET', url: `${vmId}/providers/Microsoft.Security/assessments/${randomUUID()}?${v}` },
    404,
  );
  await send(
    'assessments: PUT (read-only)',
    {
      method: 'PUT',
      url: `${onVm}?${v}`,
      body: { properties: { resourceDetails: { source: 'Azure' }, status: { code: 'Healthy' } } },
    },
    405,
  );
  await send('assessments: DELETE (read-only)', { method: 'DELETE', url: `${onVm}?${v}` }, 405);

  const metadata = '/providers/Microsoft.Security/assessmentMetadata';
  const inSubscription = `/subscriptions/${sub}${metadata}`;
  await send('assessment metadata: list', { method: 'GET', url: `${metadata}?${v}` }, 200);
  await send('assessment metadata: GET', { method: 'GET', url: `${metadata}/${ASSESSMENT}?${v}` }, 200);
  await send(
    'assessment metadata: list in a subscription',
    { method: 'GET', url: `${inSubscription}?${v}` },
    200,
  );
  await send(
    'assessment metadata: GET in a subscription',
    { method: 'GET', url: `${inSubscription}/${ASSESSMENT}?${v}` },
    200,
  );
  await send(
    'assessment metadata: PUT in a subscription (read-only)',
    {
      method: 'PUT',
      url: `${inSubscription}/${randomUUID()}?${v}`,
      body: { properties: { displayName: 'Custom', severity: 'Low', assessmentType: 'CustomerManaged' } },
    },
    405,
  );
  await send(
    'assessment metadata: DELETE in a subscription (read-only)',
    { method: 'DELETE', url: `${inSubscription}/${randomUUID()}?${v}` },
    405,
  );

  const sv = 'api-version=2019-01-01-preview';
  await send(
    'sub-assessments: list every one under a subscription (not served yet)',
    { method: 'GET', url: `/subscriptions/${sub}/providers/Microsoft.Security/subAssessments?${sv}` },
    404,
  );
  await send(
    'sub-assessments: list of ffff0522',
    { method: 'GET', url: `${onVm}/subAssessments?${sv}` },
    200,
  );
  await send(
    'sub-assessments: GET one of ffff0522',
    { method: 'GET', url: `${onVm}/subAssessments/${randomUUID()}?${sv}` },
    404,
  );
}

// ---------------------------------------------------------------------------------------------------

const corpus = corpusRoot();
const present = existsSync(corpus);
if (!present) {
  console.log(
    `SKIP traffic validation: the Azure corpus ${corpus} is absent (set VAPLANE_AZURE_CORPUS or add ../shared/azure)`,
  );
}

interface SpecResult {
  spec: SpecFile;
  exchanges: Exchange[];
  /** The operation each exchange was routed to (by vaplane's reading of the swagger). */
  operations: Set<string>;
  run: OavRun;
  files: Map<string, Exchange>;
  explained: { error: OavError; divergence: TrafficDivergence }[];
  /** Request errors on requests vaplane refused: the swagger and vaplane agree they are invalid. */
  refused: OavError[];
  unexplained: OavError[];
}

const short = (spec: string) => spec.replace(`${S}/`, '');

function describeError(error: OavError, files: Map<string, Exchange>) {
  const exchange = files.get(error.payloadFile);
  return {
    operationId: error.operationId,
    code: error.code,
    issueSource: error.issueSource,
    paths: error.paths,
    message: error.message,
    exchange: exchange && `${exchange.label}: ${exchange.method} ${exchange.url} → ${exchange.status}`,
  };
}

describe.skipIf(!present)(
  'traffic: vaplane answers as Microsoft.Security OpenAPI files say (oav validate-traffic)',
  () => {
    const exchanges: Exchange[] = [];
    const mismatches: string[] = [];
    const skippedSpecs = new Map<string, string>();
    const results: SpecResult[] = [];
    const unrouted: { exchange: Exchange; why: string }[] = [];
    let canary: OavRun | undefined;
    let replayed = 0;
    let dir = '';
    let t: TestServer | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vaplane-traffic-'));
      t = await startTestServer({ listen: false, now: NOW, lroDelayMs: 0 });
      const label: RecordingLabel = { current: '' };
      const recorded = recording(t, exchanges, label);
      const send: Send = async (title, request, expected) => {
        label.current = title;
        const response = await recorded.inject(request);
        if (response.status !== expected) {
          mismatches.push(
            `${title}: ${request.method} ${request.url} → ${response.status} (expected ${expected}) ${response.text}`,
          );
        }
        return response;
      };

      const probe = await t.inject({
        method: 'GET',
        url: `/providers/Microsoft.Security/assessmentMetadata/${ASSESSMENT}?api-version=2021-06-01`,
      });
      const assessmentsServed = probe.status === 200;
      if (!assessmentsServed) {
        for (const spec of ASSESSMENTS) {
          skippedSpecs.set(spec, `not served yet (probe: ${probe.status} ${probe.body?.error?.code ?? ''})`);
        }
      }
      const specs = loadSpecs(
        corpus,
        [
          ...VA_SETTINGS,
          ...PRICINGS,
          ...SETTINGS,
          ...CONNECTORS,
          LEGACY_VA,
          SOLUTIONS,
          ...ASSESSMENTS,
        ].filter((spec) => !skippedSpecs.has(spec)),
      );

      // Every example each swagger references, replayed as the harness does (seeding included).
      const targets: ReplayTarget[] = specs.map((spec) => ({
        spec: spec.spec,
        operations: spec.operations.map((operation) => operation.operationId),
      }));
      for (const replayCase of collectCases(targets, [], corpus)) {
        if (!replayCase.present) continue;
        label.current = `example ${replayCase.example.split('/').slice(-2).join('/')}`;
        replayed += 1;
        try {
          await replay(recorded, replayCase, []);
        } catch (error) {
          mismatches.push(`${label.current}: the replay failed: ${(error as Error).message}`);
        }
      }

      await vaSettingsTraffic(t, send);
      await pricingsTraffic(t, send);
      await settingsTraffic(t, send);
      await connectorsTraffic(t, send);
      await legacyVaTraffic(t, send);
      await solutionsTraffic(t, send);
      if (assessmentsServed) await assessmentsTraffic(t, send);

      const bySpec = new Map<SpecFile, { exchanges: Exchange[]; operations: Set<string> }>(
        specs.map((spec) => [spec, { exchanges: [], operations: new Set() }]),
      );
      for (const exchange of exchanges) {
        const route = routeExchange(specs, exchange);
        if ('unrouted' in route) {
          unrouted.push({ exchange, why: route.unrouted });
          continue;
        }
        const entry = bySpec.get(route.spec)!;
        entry.exchanges.push(exchange);
        entry.operations.add(route.operation.operationId);
      }

      // The validator is awake: a 2xx reply with a member no swagger defines must be flagged.
      const [pricingSpec, pricingTraffic] = [...bySpec].find(([spec]) => spec.spec === PRICINGS[1])!;
      const sample = pricingTraffic.exchanges.find(
        (exchange) =>
          exchange.method === 'GET' && exchange.status === 200 && !exchange.url.includes('pricings?'),
      )!;
      const doctored: Exchange = {
        ...sample,
        responseBody: {
          ...(sample.responseBody as object),
          properties: { ...(sample.responseBody as any).properties, qualysLicense: 'x' },
        },
      };

      const [runs, canaryRun] = await Promise.all([
        Promise.all(
          [...bySpec].map(async ([spec, entry], k) => {
            const specDir = join(dir, String(k));
            const files = writeTraffic(specDir, entry.exchanges);
            return { spec, ...entry, files, run: await validateTraffic(spec, specDir) };
          }),
        ),
        (async () => {
          const canaryDir = join(dir, 'canary');
          writeTraffic(canaryDir, [doctored]);
          return validateTraffic(pricingSpec, canaryDir);
        })(),
      ]);
      canary = canaryRun;
      for (const { spec, exchanges: specExchanges, operations, files, run } of runs) {
        const result: SpecResult = {
          spec,
          exchanges: specExchanges,
          operations,
          run,
          files,
          explained: [],
          refused: [],
          unexplained: [],
        };
        for (const error of run.errors) {
          const divergence = explainedBy(divergences, spec.spec, error);
          const status = files.get(error.payloadFile)?.status ?? 0;
          if (divergence) result.explained.push({ error, divergence });
          else if (error.issueSource === 'request' && status >= 400) result.refused.push(error);
          else result.unexplained.push(error);
        }
        results.push(result);
      }
    });

    afterAll(async () => {
      const rows = results.map((result) => [
        short(result.spec.spec),
        String(result.exchanges.length),
        `${result.run.report.coveredOperations}/${result.run.report.allOperations}`,
        String(result.run.undefinedOperations.length + result.run.runtimeExceptions.length),
        String(result.run.errors.length),
        String(result.explained.length),
        String(result.refused.length),
        String(result.unexplained.length),
      ]);
      for (const [spec, reason] of skippedSpecs)
        rows.push([short(spec), '-', '-', '-', '-', '-', '-', reason]);
      const header = [
        'swagger',
        'exchanges',
        'operations matched',
        'unmatched',
        'oav errors',
        'divergences',
        'refused invalid requests',
        'unexpected',
      ];
      console.log(`\n${table(header, rows)}\n`);
      const divergenceRows = divergences.map((divergence) => {
        const count = results.reduce(
          (sum, result) => sum + result.explained.filter((entry) => entry.divergence === divergence).length,
          0,
        );
        return [
          divergence.specs.map(short).join(', '),
          `${divergence.issueSource} ${divergence.code} ${divergence.path}`,
          String(count),
          divergence.reason,
        ];
      });
      console.log(`${table(['swagger', 'error', 'times', 'why'], divergenceRows)}\n`);
      const unvalidatedRows = UNVALIDATED.map((entry) => [
        `${entry.method} …${entry.path.source.replace(/\\/g, '')} ${entry.apiVersion}`,
        String(unrouted.filter(({ exchange }) => unvalidatedReason(exchange) === entry).length),
        entry.reason,
      ]);
      console.log(`${table(['not validated', 'exchanges', 'why'], unvalidatedRows)}\n`);
      const validated = results.reduce((sum, result) => sum + result.exchanges.length, 0);
      console.log(
        `traffic: ${replayed} examples replayed; ${exchanges.length} exchanges recorded, ${validated} validated by oav against ${results.length} swagger files, ${unrouted.length} without a swagger`,
      );
      await t?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('the hand-made requests got the answers they were written for', () => {
      expect(mismatches).toEqual([]);
    });

    it('oav flags a reply with a member the swagger does not define (the validator is awake)', () => {
      expect(canary?.errors.map((error) => [error.code, error.paths])).toEqual([
        ['OBJECT_ADDITIONAL_PROPERTIES', ['$.properties.qualysLicense']],
      ]);
    });

    it('every exchange without a swagger is one listed with its reason', () => {
      const unlisted = unrouted
        .filter(({ exchange }) => !unvalidatedReason(exchange))
        .map(
          ({ exchange, why }) =>
            `${exchange.label}: ${exchange.method} ${exchange.url} → ${exchange.status} (${why})`,
        );
      expect(unlisted).toEqual([]);
    });

    it('oav matched every exchange to an operation, the one vaplane routed it to, and every operation was exercised', () => {
      const problems: string[] = [];
      for (const { spec, operations, run } of results) {
        for (const line of run.undefinedOperations)
          problems.push(`${spec.spec}: undefined operation ${line}`);
        for (const exception of run.runtimeExceptions) {
          problems.push(`${spec.spec}: ${exception.code} ${exception.message} (${exception.payloadFile})`);
        }
        const uncovered = new Set(run.report.unCoveredOperationsList.flatMap((entry) => entry.operationIds));
        const unexercised = spec.operations.map((o) => o.operationId).filter((id) => !operations.has(id));
        if (unexercised.length > 0) problems.push(`${spec.spec}: no traffic for ${unexercised.join(', ')}`);
        const unmatched = [...operations].filter((id) => uncovered.has(id));
        if (unmatched.length > 0)
          problems.push(`${spec.spec}: oav matched no traffic to ${unmatched.join(', ')}`);
        if (run.report.coveredOperations !== operations.size) {
          problems.push(
            `${spec.spec}: oav covered ${run.report.coveredOperations} operations, vaplane routed ${operations.size}`,
          );
        }
      }
      expect(problems).toEqual([]);
    });

    it('every oav error is a listed divergence with its reason', () => {
      const unexpected = results.flatMap(({ spec, unexplained, files }) =>
        unexplained.map((error) => ({ spec: spec.spec, ...describeError(error, files) })),
      );
      expect(unexpected).toEqual([]);
    });

    it('every divergence still occurs', () => {
      const used = new Set(results.flatMap(({ explained }) => explained.map(({ divergence }) => divergence)));
      expect(divergences.filter((divergence) => !used.has(divergence)).map((d) => d.reason)).toEqual([]);
    });
  },
);

function unvalidatedReason(exchange: Exchange): (typeof UNVALIDATED)[number] | undefined {
  const [path = '', query = ''] = exchange.url.split('?');
  const apiVersion = new URLSearchParams(query).get('api-version');
  return UNVALIDATED.find(
    (entry) => entry.method === exchange.method && entry.apiVersion === apiVersion && entry.path.test(path),
  );
}
