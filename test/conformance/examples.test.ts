/**
 * Replays Microsoft's examples for the Defender for Cloud VA surface (see replay.ts) and prints a
 * per-operation table. The next types join by listing their operations in `targets`.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  type AdoptedExample,
  collectCases,
  corpusRoot,
  type Divergence,
  namedButNotReplayed,
  type ReplayResult,
  type ReplayTarget,
  replay,
  replayEach,
  reportResults,
  type SeedPlan,
  unreplayedExamples,
} from './replay.js';

const S = 'security/resource-manager/Microsoft.Security';
const P2023 = `${S}/stable/2023-01-01/examples/Pricings`;
const P2024 = `${S}/stable/2024-01-01/examples/Pricings`;
const VA_PREVIEW = `${S}/preview/2022-01-01-preview/examples/ServerVulnerabilityAssessmentsSettings`;
const VA_STABLE = `${S}/stable/2023-05-01/examples/ServerVulnerabilityAssessmentsSettings`;

const targets: ReplayTarget[] = [
  {
    spec: `${S}/preview/2022-01-01-preview/ServerVulnerabilityAssessmentsSettings.json`,
    operations: [
      'ServerVulnerabilityAssessmentsSettings_List',
      'ServerVulnerabilityAssessmentsSettings_Get',
      'ServerVulnerabilityAssessmentsSettings_CreateOrUpdate',
      'ServerVulnerabilityAssessmentsSettings_Delete',
    ],
  },
  {
    spec: `${S}/stable/2023-05-01/ServerVulnerabilityAssessmentsSettings.json`,
    operations: [
      'ServerVulnerabilityAssessmentsSettings_ListBySubscription',
      'ServerVulnerabilityAssessmentsSettings_Get',
      'ServerVulnerabilityAssessmentsSettings_CreateOrUpdate',
      'ServerVulnerabilityAssessmentsSettings_Delete',
    ],
  },
  {
    spec: `${S}/stable/2023-01-01/pricings.json`,
    operations: ['Pricings_List', 'Pricings_Get', 'Pricings_Update'],
  },
  {
    spec: `${S}/stable/2024-01-01/pricings.json`,
    operations: ['Pricings_List', 'Pricings_Get', 'Pricings_Update', 'Pricings_Delete'],
  },
  {
    spec: `${S}/stable/2022-05-01/settings.json`,
    operations: ['Settings_List', 'Settings_Get', 'Settings_Update'],
  },
  {
    spec: `${S}/stable/2023-01-01/settings.json`,
    operations: ['Settings_List', 'Settings_Get', 'Settings_Update'],
  },
];

const NEWER_PRICING_EXAMPLE =
  "a newer example that the corpus's 2024-01-01 pricings.json (commit 095ae677) does not reference; same operation";
const SETTINGS_2021 =
  "the corpus holds the 2021-06-01 settings examples but not that version's settings.json; 2022-05-01's has the same paths, parameters and schemas (and enumerates more setting names)";

const adopted: AdoptedExample[] = [
  ...['GetSettings', 'GetSetting', 'UpdateSetting'].map((name, k) => ({
    example: `${S}/stable/2021-06-01/examples/Settings/${name}_example.json`,
    spec: `${S}/stable/2022-05-01/settings.json`,
    operation: ['Settings_List', 'Settings_Get', 'Settings_Update'][k]!,
    reason: SETTINGS_2021,
  })),
  ...[
    ['GetResourcePricingByNameContainers', 'Pricings_Get'],
    ['PutResourcePricingByNameContainers', 'Pricings_Update'],
    ['PutResourcePricingByNameContainersACR', 'Pricings_Update'],
    ['DeleteResourcePricingByNameContainers', 'Pricings_Delete'],
  ].map(([name, operation]) => ({
    example: `${P2024}/${name}_example.json`,
    spec: `${S}/stable/2024-01-01/pricings.json`,
    operation: operation!,
    reason: NEWER_PRICING_EXAMPLE,
  })),
  {
    example: `${P2023}/GetPricingByName_example.json`,
    spec: `${S}/stable/2023-01-01/pricings.json`,
    operation: 'Pricings_Get',
    reason:
      "an older example that the corpus's 2023-01-01 pricings.json no longer references; same operation",
  },
];

const VM =
  '/subscriptions/{subscriptionId}/resourceGroups/DEMO/providers/Microsoft.Compute/virtualMachines/VM-1';
const EXCLUSION_TAGS = '[{"Key":"TestKey1","Value":"TestValue1"},{"Key":"TestKey2","Value":"TestValue2"}]';
/** The subscription's Servers P2 pricing the 2024-01-01 VM examples show (and machines inherit). */
const serversP2 = {
  path: '/subscriptions/{subscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines',
  body: {
    properties: {
      pricingTier: 'Standard',
      subPlan: 'P2',
      extensions: [
        {
          name: 'AgentlessVmScanning',
          isEnabled: 'True',
          additionalExtensionProperties: { ExclusionTags: EXCLUSION_TAGS },
        },
        { name: 'MdeDesignatedSubscription', isEnabled: 'True' },
      ],
    },
  },
};
/** A machine with Servers switched off: what makes the subscription "PartiallyCovered". */
const machineOptedOut = {
  path: `${VM}/providers/Microsoft.Security/pricings/VirtualMachines`,
  body: { properties: { pricingTier: 'Free' } },
};

const seeds: Record<string, SeedPlan> = {
  [`${P2024}/GetResourcePricingByNameVirtualMachines_example.json`]: { steps: [serversP2] },
  [`${P2024}/ListResourcePricings_example.json`]: { steps: [serversP2] },
  [`${P2024}/GetPricingByNameVirtualMachines_example.json`]: { steps: [machineOptedOut], automatic: true },
  [`${P2024}/ListPricings_example.json`]: { steps: [machineOptedOut], automatic: true },
  [`${P2024}/ListPricingsWithPlanFilter_example.json`]: { steps: [machineOptedOut], automatic: true },
  // The reply shows ExclusionTags the request does not send: they were set before.
  [`${P2024}/PutPricingVMsByName_example.json`]: { steps: [serversP2] },
};

const NAME_CASING =
  "Azure answers name and id with 'AzureServersSetting' whatever casing the request used (recorded: PUT to .../azureServersSetting at 2023-05-01, see arm-behaviour.md); the example echoes the path's 'azureServersSetting'";
const ALL_EXTENSIONS =
  "GET and PUT list every extension the plan offers at its sub-plan (arm-behaviour.md: replies list all extensions of the plan); the swagger's Extension.name description is the catalogue (VirtualMachines P2: MdeDesignatedSubscription, AgentlessVmScanning, FileIntegrityMonitoring; CloudPosture adds EntraPermissionsManagement; Containers: ContainerSensor, AgentlessDiscoveryForKubernetes, AgentlessVmScanning, plus ContainerIntegrityContribution from the 2024-01-01 examples); the example lists a subset";
const DNS_DEPRECATED =
  'Defender for DNS is deprecated (replacedBy VirtualMachines) as the 2024-01-01 examples show; deprecation is service state, not per api-version, and the 2023-01-01 example predates it';
const SUB_PLANS =
  'a Standard plan reports the sub-plan it runs; KeyVaults and Arm run PerKeyVault and PerSubscription when none is named (the 2024-01-01 list shows them); the 2023-01-01 example predates these sub-plans';
const NEWER_PLANS =
  'vaplane lists every plan a subscription holds today (Api is in the 2024-01-01 list; CosmosDbs and AI in the Terraform plan list and the swagger description); the example lists fewer';
const MESSAGE_2023 =
  "recorded 2023-01-01 PUTs answer operationStatus.message 'Successfully enabled extension' (arm-behaviour.md), as the 2024-01-01 examples do; this example shows ''";
const PARTIAL_SUCCESS =
  "partial success needs an extension's enablement to fail (missing permissions, no first-party application); vaplane has no such failure to simulate, so every enabled extension reports Succeeded";
const CONTAINERS_RESOURCE =
  "the swagger supports resource-level pricing for 'VirtualMachines, VMSS and ARC Machines' and 'only for plan=VirtualMachines'; vaplane refuses the Containers plan on AKS clusters and registries with InvalidInputJson";

const divergences: Divergence[] = [
  {
    example: `${VA_PREVIEW}/GetServerVulnerabilityAssessmentsSetting_example.json`,
    paths: ['id', 'name'],
    reason: NAME_CASING,
  },
  {
    example: `${VA_STABLE}/GetServerVulnerabilityAssessmentsSetting_example.json`,
    paths: ['id', 'name'],
    reason: NAME_CASING,
  },
  {
    example: `${VA_STABLE}/PutServerVulnerabilityAssessmentsSetting_example.json`,
    paths: ['id', 'name'],
    reason: NAME_CASING,
  },
  {
    example: `${VA_STABLE}/ListServerVulnerabilityAssessmentsSettings_example.json`,
    paths: ['value[name=azureServersSetting].id', 'value[name=azureServersSetting].name'],
    reason: NAME_CASING,
  },
  {
    example: `${P2023}/ListPricings_example.json`,
    paths: [
      'value[name=VirtualMachines].properties.extensions',
      'value[name=Containers].properties.extensions',
      'value[name=CloudPosture].properties.extensions',
    ],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2023}/ListPricings_example.json`,
    paths: ['value[name=KeyVaults].properties.subPlan', 'value[name=Arm].properties.subPlan'],
    reason: SUB_PLANS,
  },
  {
    example: `${P2023}/ListPricings_example.json`,
    paths: ['value[name=Dns].properties.deprecated', 'value[name=Dns].properties.replacedBy'],
    reason: DNS_DEPRECATED,
  },
  {
    example: `${P2023}/ListPricings_example.json`,
    paths: ['value[name=Api]', 'value[name=CosmosDbs]', 'value[name=AI]'],
    reason: NEWER_PLANS,
  },
  {
    example: `${P2023}/GetPricingByNameVirtualMachines_example.json`,
    paths: ['properties.extensions'],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2023}/GetPricingByName_example.json`,
    paths: ['properties.extensions'],
    reason: `${ALL_EXTENSIONS} (P1: MdeDesignatedSubscription)`,
  },
  {
    example: `${P2023}/GetPricingByName_example.json`,
    paths: ['properties.enablementTime'],
    reason:
      'a Standard plan carries the time it was last set to Standard (the other 2023-01-01 Standard examples show enablementTime); this older example omits it',
  },
  {
    example: `${P2023}/GetPricingByNameContainers_example.json`,
    paths: ['properties.extensions'],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2023}/GetPricingByNameCloudPosture_example.json`,
    paths: ['properties.extensions'],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2023}/GetPricingByNameDns_example.json`,
    paths: ['properties.deprecated', 'properties.replacedBy'],
    reason: DNS_DEPRECATED,
  },
  {
    example: `${P2023}/PutPricingByName_example.json`,
    paths: ['properties.extensions[*].operationStatus.message'],
    reason: MESSAGE_2023,
  },
  {
    example: `${P2023}/PutPricingByName_example.json`,
    paths: ['properties.extensions[name=EntraPermissionsManagement]'],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2023}/PutPricingByNamePartialSuccess_example.json`,
    paths: ['properties.extensions[*].operationStatus'],
    reason: `${PARTIAL_SUCCESS}; and ${MESSAGE_2023}`,
  },
  {
    example: `${P2023}/PutPricingByNamePartialSuccess_example.json`,
    paths: ['properties.extensions[name=EntraPermissionsManagement]'],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2024}/ListPricings_example.json`,
    paths: [
      'value[name=VirtualMachines].properties.extensions',
      'value[name=Containers].properties.extensions',
    ],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2024}/ListPricings_example.json`,
    paths: [
      'value[name=OpenSourceRelationalDatabases].properties.enablementTime',
      'value[name=Api].properties.enablementTime',
      'value[name=Api].properties.enforce',
      'value[name=Api].properties.resourcesCoverageStatus',
    ],
    reason:
      "the example's OpenSourceRelationalDatabases and Api items are Standard without enablementTime, and Api also lacks the 2024-01-01 fields enforce and resourcesCoverageStatus (and its id its leading slash), unlike every other Standard item of the same list; vaplane answers every item alike",
  },
  {
    example: `${P2024}/ListPricings_example.json`,
    paths: ['value[name=CosmosDbs]', 'value[name=AI]'],
    reason: NEWER_PLANS,
  },
  {
    example: `${P2024}/ListPricingsWithPlanFilter_example.json`,
    paths: ['value[name=VirtualMachines].properties.extensions'],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2024}/ListPricingsWithPlanFilter_example.json`,
    paths: ['value[name=KeyVaults].properties.subPlan'],
    reason:
      'a Standard plan reports the sub-plan it runs (PerKeyVault when none is named), as the 2024-01-01 ListPricings example shows for KeyVaults; this example omits it',
  },
  {
    example: `${P2024}/GetPricingByNameVirtualMachines_example.json`,
    paths: ['properties.extensions'],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2024}/GetResourcePricingByNameVirtualMachines_example.json`,
    paths: ['properties.extensions'],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2024}/ListResourcePricings_example.json`,
    paths: ['value[name=VirtualMachines].properties.extensions'],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2024}/ListResourcePricings_example.json`,
    paths: ['value[name=CloudPosture]'],
    reason:
      "resource-level pricing exists for the VirtualMachines plan only (swagger: 'only for plan=VirtualMachines'); the example's Free CloudPosture item, whose id names another subscription, cannot exist on a VM",
  },
  {
    example: `${P2024}/PutPricingVMsByName_example.json`,
    paths: ['properties.extensions'],
    reason: ALL_EXTENSIONS,
  },
  {
    example: `${P2024}/PutResourcePricingByNameVirtualMachines_example.json`,
    paths: ['properties.extensions[name=AgentlessVmScanning]'],
    reason:
      'the example answers a resource-level P1 pricing with AgentlessVmScanning, which the swagger offers on P2 only and Azure refuses on P1 (Azure-Landing-Zones#1678); P1 offers MdeDesignatedSubscription only',
  },
  {
    example: `${P2024}/PutResourcePricingByNameVirtualMachines_example.json`,
    paths: ['id', 'name'],
    reason:
      "plan names are RP-defined: vaplane echoes the canonical 'VirtualMachines' for a request to 'virtualMachines', as it does at subscription scope and as Azure does for the VA setting's name",
  },
  {
    example: `${P2024}/PutPricingByNamePartialSuccess_example.json`,
    paths: ['properties.extensions[*].operationStatus'],
    reason: PARTIAL_SUCCESS,
  },
  {
    example: `${P2024}/PutPricingByNamePartialSuccess_example.json`,
    paths: ['properties.extensions[name=EntraPermissionsManagement]'],
    reason: `${ALL_EXTENSIONS} (the 2024-01-01 PutPricingByName example enables it on the same request)`,
  },
  {
    example: `${P2024}/GetResourcePricingByNameContainers_example.json`,
    status: 400,
    reason: CONTAINERS_RESOURCE,
  },
  {
    example: `${P2024}/PutResourcePricingByNameContainers_example.json`,
    status: 400,
    reason: CONTAINERS_RESOURCE,
  },
  {
    example: `${P2024}/PutResourcePricingByNameContainersACR_example.json`,
    status: 400,
    reason: CONTAINERS_RESOURCE,
  },
  {
    example: `${P2024}/DeleteResourcePricingByNameContainers_example.json`,
    status: 400,
    reason: CONTAINERS_RESOURCE,
  },
  {
    example: `${S}/stable/2022-05-01/examples/Settings/GetSettings_example.json`,
    paths: ['value[name=MCAS]'],
    reason:
      'vaplane always lists all five settings; this example omits MCAS, which every other GetSettings example lists',
  },
  {
    example: `${S}/stable/2021-06-01/examples/Settings/GetSettings_example.json`,
    paths: ['value[name=WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW]', 'value[name=WDATP_UNIFIED_SOLUTION]'],
    reason:
      'the 2021-06-01 swagger enumerates MCAS, WDATP and Sentinel only, but Azure serves all five setting names at every api-version (recorded at 2021-07-01, arm-behaviour.md)',
  },
];

const corpus = corpusRoot();
const present = existsSync(corpus);
if (!present) {
  console.log(
    `SKIP conformance: the Azure corpus ${corpus} is absent (set VAPLANE_AZURE_CORPUS or add ../shared/azure)`,
  );
}

describe.skipIf(!present)('conformance: Microsoft.Security examples', () => {
  const cases = present ? collectCases(targets, adopted, corpus) : [];
  const results: ReplayResult[] = [];
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ listen: false });
  });
  afterAll(async () => {
    reportResults('conformance', results, '');
    await t?.close();
  });

  replayEach(cases, results, (replayCase) => replay(t, replayCase, divergences, seeds));

  it('replays every example the corpus holds for these operations (referenced or adopted)', () => {
    expect(unreplayedExamples(cases, corpus)).toEqual([]);
  });

  it('every divergence, adoption and seed names an example that is replayed', () => {
    expect(
      namedButNotReplayed(cases, [
        ...divergences.map((d) => d.example),
        ...adopted.map((a) => a.example),
        ...Object.keys(seeds),
      ]),
    ).toEqual([]);
  });
});
