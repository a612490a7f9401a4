/**
 * Replays Microsoft's 2020-01-01 examples for the legacy per-machine `serverVulnerabilityAssessments`
 * through the shared harness (replay.ts) and prints the per-operation table.
 *
 * The examples assume a world the automatic seeding cannot build, so the server the harness talks to
 * is wrapped (`exampleWorld`) to build it around the harness's own requests:
 * - the clock stands before the Qualys retirement (2024-03-01) and operations complete at once, since
 *   `default` is the built-in Qualys scanner and the examples show it provisioning and Succeeded;
 * - the example's subscription runs Defender for Servers P2, which `default` requires (§3.5);
 * - a DELETE example deletes an onboarded machine's resource: it is onboarded first (the harness finds
 *   no PUT body to seed from, as the PUT takes none);
 * - the operation id of the GetLocationHeaderResult example (`fedcba98-…`) names an operation only
 *   Azure started: when the harness seeds that example, the operation it reports on (a PUT of the
 *   same resource) is started, and the example's id is read as the id vaplane issued.
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
  unreplayedExamples,
} from './replay.js';

const S = 'security/resource-manager/Microsoft.Security';
const EXAMPLES = `${S}/stable/2020-01-01/examples/ServerVulnerabilityAssessments`;

const targets: ReplayTarget[] = [
  {
    spec: `${S}/stable/2020-01-01/serverVulnerabilityAssessments.json`,
    operations: [
      'ServerVulnerabilityAssessment_ListByExtendedResource',
      'ServerVulnerabilityAssessment_Get',
      'ServerVulnerabilityAssessment_CreateOrUpdate',
      'ServerVulnerabilityAssessment_Delete',
      'ServerVulnerabilityAssessment_GetLocationHeaderResult',
    ],
  },
];

const adopted: AdoptedExample[] = [
  {
    example: `${EXAMPLES}/GetLocationHeaderResultServerVulnerabilityAssessments_example.json`,
    spec: `${S}/stable/2020-01-01/serverVulnerabilityAssessments.json`,
    operation: 'ServerVulnerabilityAssessment_GetLocationHeaderResult',
    reason:
      "the swagger's $ref points at examples/GetLocationHeaderResult…_example.json, where no file is; the example sits in examples/ServerVulnerabilityAssessments/ with its siblings",
  },
];

const RECORDED_SHAPE =
  "Azure answered a PUT to '.../serverVulnerabilityAssessments/default' at 2020-01-01 with name 'Default', the id ending in '/Default' and type 'providers/Microsoft.Security/serverVulnerabilityAssessments' (recorded, arm-behaviour.md); the examples show the request's 'default', the documented type, and some a lower-case 'resourcegroups'";

const divergences: Divergence[] = [
  {
    example: `${EXAMPLES}/CreateServerVulnerabilityAssessments_example.json`,
    paths: ['id', 'name', 'type'],
    reason: RECORDED_SHAPE,
  },
  {
    example: `${EXAMPLES}/ListByExtendedResourceServerVulnerabilityAssessments_example.json`,
    paths: ['value[name=default].id', 'value[name=default].name', 'value[name=default].type'],
    reason: RECORDED_SHAPE,
  },
  {
    example: `${EXAMPLES}/GetLocationHeaderResultServerVulnerabilityAssessments_example.json`,
    paths: ['id', 'name', 'type'],
    reason: RECORDED_SHAPE,
  },
  {
    example: `${EXAMPLES}/DeleteServerVulnerabilityAssessments_example.json`,
    status: 202,
    reason:
      "the newest 2020-01-01 revision (bdf3d534) makes DELETE a long-running operation answering 202 only (azure-rest-api-specs#12308: Azure answered 202 where the swagger said 200); this example still lists the older revision's 200/204",
  },
];

/** Examples of this type's folder that are not replayed, and why. */
const NOT_REPLAYED: Record<string, string> = Object.fromEntries(
  [
    'CreateServerVulnerabilityAssessments_example.json',
    'DeleteServerVulnerabilityAssessments_example.json',
    'GetServerVulnerabilityAssessments_example.json',
    'ListByExtendedResourceServerVulnerabilityAssessments_example.json',
  ].map((name) => [
    `${S}/preview/2019-01-01-preview/examples/ServerVulnerabilityAssessments/${name}`,
    'api-version 2019-01-01-preview is not served (2020-01-01 and the 2015-06-01-preview of Microsoft’s scripts are); the corpus holds no swagger of that version',
  ]),
);

const VA_PATH =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/[^/]+\/providers\/[^/]+\/[^/]+\/[^/]+\/providers\/Microsoft\.Security\/serverVulnerabilityAssessments\/[^/]+(?:\/operationResults\/([^/]+))?$/i;

/** The test server, with the examples' world built around the harness's requests (see above). */
function exampleWorld(t: TestServer): TestServer {
  const issuedFor = new Map<string, string>();
  const servesP2 = new Set<string>();
  const inject: TestServer['inject'] = async (request) => {
    const [path, query = ''] = request.url.split('?');
    const match = VA_PATH.exec(path!);
    if (!match) return t.inject(request);
    const [, subscriptionId, exampleOperationId] = match;
    if (!servesP2.has(subscriptionId!)) {
      const priced = await t.inject({
        method: 'PUT',
        url: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2023-01-01`,
        body: { properties: { pricingTier: 'Standard', subPlan: 'P2' } },
      });
      expect(priced.status).toBe(200);
      servesP2.add(subscriptionId!);
    }
    if (exampleOperationId && request.method === 'PUT') {
      const started = await t.inject({
        method: 'PUT',
        url: `${path!.split(/\/operationResults\//i)[0]}?${query}`,
      });
      const issued = /\/operationResults\/([^/?]+)/i.exec(String(started.headers.location))?.[1];
      if (issued) issuedFor.set(exampleOperationId.toLowerCase(), issued);
      await t.server.services.lro.runDue();
      return started;
    }
    if (request.method === 'DELETE') {
      await t.inject({ method: 'PUT', url: request.url });
      await t.server.services.lro.runDue();
    }
    const issued = exampleOperationId && issuedFor.get(exampleOperationId.toLowerCase());
    const url = issued ? request.url.replace(exampleOperationId!, issued) : request.url;
    const response = await t.inject({ ...request, url });
    if (request.method === 'PUT') await t.server.services.lro.runDue();
    return response;
  };
  return { ...t, inject };
}

const corpus = corpusRoot();
const present = existsSync(corpus);
if (!present) {
  console.log(
    `SKIP conformance (serverVulnerabilityAssessments): the Azure corpus ${corpus} is absent (set VAPLANE_AZURE_CORPUS or add ../shared/azure)`,
  );
}

describe.skipIf(!present)('conformance: Microsoft.Security/serverVulnerabilityAssessments examples', () => {
  const cases = present ? collectCases(targets, adopted, corpus) : [];
  const results: ReplayResult[] = [];
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ listen: false, now: new Date('2024-03-01T00:00:00Z'), lroDelayMs: 0 });
  });
  afterAll(async () => {
    reportResults('conformance (serverVulnerabilityAssessments)', results, '.legacyVa');
    // Each started operation also schedules a completion pass 5 ms after it is due; let those run
    // before the store closes.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await t?.close();
  });

  replayEach(cases, results, (replayCase) => replay(exampleWorld(t), replayCase, divergences));

  it('replays every example the corpus holds for this type, except the ones listed with a reason', () => {
    expect(unreplayedExamples(cases, corpus)).toEqual(Object.keys(NOT_REPLAYED).sort());
  });

  it('every divergence names an example that is replayed', () => {
    expect(
      namedButNotReplayed(
        cases,
        divergences.map((d) => d.example),
      ),
    ).toEqual([]);
  });
});
