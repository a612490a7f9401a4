/**
 * Replays Microsoft's `SecurityConnectors` examples (2022-08-01-preview, 2023-10-01-preview) with the
 * shared harness (replay.ts) and prints a per-operation table. The 2024-08-01-preview PATCH example
 * lives beside the TypeSpec, which the corpus does not hold.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import {
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
const VERSIONS = ['2022-08-01-preview', '2023-10-01-preview'] as const;
const examples = (version: string) => `${S}/preview/${version}/examples/SecurityConnectors`;

const targets: ReplayTarget[] = VERSIONS.map((version) => ({
  spec: `${S}/preview/${version}/securityConnectors.json`,
  operations: [
    'SecurityConnectors_List',
    'SecurityConnectors_ListByResourceGroup',
    'SecurityConnectors_Get',
    'SecurityConnectors_CreateOrUpdate',
    'SecurityConnectors_Update',
    'SecurityConnectors_Delete',
  ],
}));

const corpus = corpusRoot();
const present = existsSync(corpus);

/** The PATCH example updates the connector its PUT example creates: seed it from that example's body. */
const seeds: Record<string, SeedPlan> = present
  ? Object.fromEntries(
      VERSIONS.map((version) => {
        const put = JSON.parse(
          readFileSync(
            join(
              corpus,
              'azure-rest-api-specs/specification',
              examples(version),
              'PutSecurityConnector_example.json',
            ),
            'utf8',
          ),
        );
        const path =
          '/subscriptions/{subscriptionId}/resourceGroups/exampleResourceGroup/providers/Microsoft.Security/securityConnectors/exampleSecurityConnectorName';
        return [
          `${examples(version)}/PatchSecurityConnector_example.json`,
          { steps: [{ path, body: put.parameters.securityConnector }] },
        ];
      }),
    )
  : {};

const ID_AND_TYPE =
  "Azure answers `type` 'Microsoft.Security/securityconnectors' and an `id` with 'resourcegroups' and the group's name lower-cased (recorded at 2023-10-01-preview by Az.Security's tests, arm-behaviour.md); the example shows the swagger's casing (its own Github items show the lower-case type)";
const KIND =
  'Azure omits `kind` when the connector has none (every recorded connector body); the example shows `"kind": ""` although the request sends no kind';
const POOL_ID =
  'workloadIdentityPoolId is read-only: Azure creates the pool, so vaplane gives each GCP connector its own id and ignores the one sent (trap 2); the example shows a value the replay cannot send';
const NAME_VS_ID =
  "the example's item is named differently from the last segment of its id ('githubTest' vs 'exampleSecurityConnectorGithub'); a resource's name is the last segment of its id";

const SCAN_INTERVAL =
  "the request sets environmentData.scanInterval 4 and vaplane answers what it stored, as the 2023-10-01-preview GET example shows (scanInterval 4); this PUT example's responses leave it out";

const divergences: Divergence[] = [
  {
    example: `${examples('2023-10-01-preview')}/PutSecurityConnector_example.json`,
    paths: ['properties.environmentData.scanInterval'],
    reason: SCAN_INTERVAL,
  },
  ...VERSIONS.flatMap((version) => {
    const folder = examples(version);
    return [
      { example: `${folder}/PutSecurityConnector_example.json`, paths: ['id', 'type'], reason: ID_AND_TYPE },
      { example: `${folder}/PutSecurityConnector_example.json`, paths: ['kind'], reason: KIND },
      {
        example: `${folder}/PatchSecurityConnector_example.json`,
        paths: ['id', 'type'],
        reason: ID_AND_TYPE,
      },
      { example: `${folder}/PatchSecurityConnector_example.json`, paths: ['kind'], reason: KIND },
      {
        example: `${folder}/GetSecurityConnectorSingleResource_example.json`,
        paths: ['id', 'type'],
        reason: ID_AND_TYPE,
      },
      {
        example: `${folder}/GetSecurityConnectorsResourceGroup_example.json`,
        paths: [
          'value[name=exampleSecurityConnectorAws].id',
          'value[name=exampleSecurityConnectorAws].type',
          'value[name=exampleSecurityConnectorAwsOrganization].id',
          'value[name=exampleSecurityConnectorAwsOrganization].type',
          'value[name=exampleSecurityConnectorGcp].id',
          'value[name=exampleSecurityConnectorGcp].type',
        ],
        reason: ID_AND_TYPE,
      },
      {
        example: `${folder}/GetSecurityConnectorsResourceGroup_example.json`,
        paths: [
          'value[name=exampleSecurityConnectorGcp].properties.environmentData.projectDetails.workloadIdentityPoolId',
        ],
        reason: POOL_ID,
      },
      {
        example: `${folder}/GetSecurityConnectorsSubscription_example.json`,
        paths: [
          'value[name=exampleSecurityConnectorAws].id',
          'value[name=exampleSecurityConnectorAws].type',
          'value[name=exampleSecurityConnectorAwsOrganization].id',
          'value[name=exampleSecurityConnectorAwsOrganization].type',
          'value[name=exampleSecurityConnectorGcp].id',
          'value[name=exampleSecurityConnectorGcp].type',
        ],
        reason: ID_AND_TYPE,
      },
      {
        example: `${folder}/GetSecurityConnectorsSubscription_example.json`,
        paths: [
          'value[name=exampleSecurityConnectorGcp].properties.environmentData.projectDetails.workloadIdentityPoolId',
        ],
        reason: POOL_ID,
      },
      {
        example: `${folder}/GetSecurityConnectorsSubscription_example.json`,
        paths: [
          'value[name=githubTest]',
          'value[name=AzureDevOpsTest]',
          'value[name=exampleSecurityConnectorGithub]',
          'value[name=exampleSecurityConnectorAzureDevOpsConnectors]',
        ],
        reason: NAME_VS_ID,
      },
    ];
  }),
];

if (!present) {
  console.log(
    `SKIP conformance (securityConnectors): the Azure corpus ${corpus} is absent (set VAPLANE_AZURE_CORPUS or add ../shared/azure)`,
  );
}

describe.skipIf(!present)('conformance: Microsoft.Security/securityConnectors examples', () => {
  const cases = present ? collectCases(targets, [], corpus) : [];
  const results: ReplayResult[] = [];
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ listen: false });
  });
  afterAll(async () => {
    reportResults('conformance (securityConnectors)', results);
    await t?.close();
  });

  replayEach(cases, results, (replayCase) => replay(t, replayCase, divergences, seeds));

  it('replays every SecurityConnectors example the corpus holds', () => {
    expect(unreplayedExamples(cases, corpus)).toEqual([]);
  });

  it('every divergence and seed names an example that is replayed', () => {
    expect(namedButNotReplayed(cases, [...divergences.map((d) => d.example), ...Object.keys(seeds)])).toEqual(
      [],
    );
  });
});
