/**
 * Replays Microsoft's 2020-01-01 examples for BYOL `securitySolutions` through the shared harness
 * (replay.ts) and prints the per-operation table.
 *
 * The 2020-01-01 swagger is read-only; vaplane writes solutions only the way Microsoft's
 * New-ASCVASolution.ps1 does, at 2015-06-01-preview. So the server the harness talks to is wrapped
 * (`scriptWrites`): the harness's seeding PUT of a 2020-01-01 body is sent as the script's PUT of the
 * same solution — its `Template`, a fresh license, and as `Location` the one the example shows for
 * that solution (the script sends the resource group's; any region is allowed).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  type AdoptedExample,
  type CollectedCase,
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
const EXAMPLES = `${S}/stable/2020-01-01/examples/SecuritySolutions`;

const targets: ReplayTarget[] = [
  {
    spec: `${S}/stable/2020-01-01/SecuritySolutions.json`,
    operations: ['SecuritySolutions_List', 'SecuritySolutions_ListByHomeRegion', 'SecuritySolutions_Get'],
  },
];

const adopted: AdoptedExample[] = [
  {
    example: `${EXAMPLES}/GetSecuritySolutionsResourceGroupLocation_example.json`,
    spec: `${S}/stable/2020-01-01/SecuritySolutions.json`,
    operation: 'SecuritySolutions_Get',
    reason:
      'a sibling of the referenced Get example (lower-case securitySolutions in its parameter name, id and type) that the swagger does not reference; same operation',
  },
];

const ID_NAMES_ANOTHER =
  "the example's id ends in 'paloalto7' while its name — and the solution the request names — is 'MyVA'; vaplane's id ends in the solution's name";

const divergences: Divergence[] = [
  {
    example: `${EXAMPLES}/GetSecuritySolutionResourceGroupLocation_example.json`,
    paths: ['id'],
    reason: ID_NAMES_ANOTHER,
  },
  {
    example: `${EXAMPLES}/GetSecuritySolutionsResourceGroupLocation_example.json`,
    paths: ['id', 'type'],
    reason: `${ID_NAMES_ANOTHER}; its type is 'Microsoft.Security/locations/securitySolutions', where the referenced examples say 'Microsoft.Security/locations/SecuritySolutions' (vaplane's)`,
  },
  {
    example: `${EXAMPLES}/GetSecuritySolutionsSubscription_example.json`,
    paths: ['value[name=MySaasWaf]'],
    reason:
      "vaplane serves the vulnerability-assessment family only (BYOL Qualys and Rapid7, securityFamily 'Va'); the example also lists a SaaS WAF partner solution, which cannot be created here",
  },
];

const SOLUTION_PATH =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Security\/locations\/[^/]+\/securitySolutions\/([^/]+)$/i;

/** `location` of each solution the example shows, by the name its id ends in and by its name. */
function exampleLocations(replayCase: CollectedCase): Map<string, string> {
  if (!replayCase.present) return new Map();
  const example = JSON.parse(readFileSync(replayCase.file, 'utf8'));
  const body = example.responses?.['200']?.body;
  const items: { id?: string; name?: string; location?: string }[] = Array.isArray(body?.value)
    ? body.value
    : [body];
  const found = new Map<string, string>();
  for (const item of items) {
    if (!item?.location) continue;
    if (item.name) found.set(item.name.toLowerCase(), item.location);
    if (item.id) found.set(item.id.split('/').pop()!.toLowerCase(), item.location);
  }
  return found;
}

/** The test server, with the harness's 2020-01-01 seeding PUTs sent as the script's PUTs (see above). */
function scriptWrites(t: TestServer, replayCase: CollectedCase): TestServer {
  const locations = exampleLocations(replayCase);
  const inject: TestServer['inject'] = async (request) => {
    const [path, query = ''] = request.url.split('?');
    const match = SOLUTION_PATH.exec(path!);
    const version = new URLSearchParams(query).get('api-version');
    if (request.method !== 'PUT' || !match || version !== '2020-01-01') return t.inject(request);
    const sent = (request.body ?? {}) as { properties?: { template?: string } };
    const body = {
      Properties: {
        Location: locations.get(match[1]!.toLowerCase()) ?? 'westeurope',
        Template: sent.properties?.template,
        ProvisioningParameters: JSON.stringify({
          licenseCode: randomUUID(),
          publicKey: randomUUID(),
          autoUpdate: false,
        }),
      },
    };
    return t.inject({ method: 'PUT', url: `${path}?api-version=2015-06-01-preview`, body });
  };
  return { ...t, inject };
}

const corpus = corpusRoot();
const present = existsSync(corpus);
if (!present) {
  console.log(
    `SKIP conformance (securitySolutions): the Azure corpus ${corpus} is absent (set VAPLANE_AZURE_CORPUS or add ../shared/azure)`,
  );
}

describe.skipIf(!present)('conformance: Microsoft.Security/securitySolutions examples', () => {
  const cases = present ? collectCases(targets, adopted, corpus) : [];
  const results: ReplayResult[] = [];
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ listen: false });
  });
  afterAll(async () => {
    reportResults('conformance (securitySolutions)', results, '.securitySolutions');
    await t?.close();
  });

  replayEach(cases, results, (replayCase) => replay(scriptWrites(t, replayCase), replayCase, divergences));

  it('replays every example the corpus holds for these operations (referenced or adopted)', () => {
    expect(unreplayedExamples(cases, corpus)).toEqual([]);
  });

  it('every divergence and adoption names an example that is replayed', () => {
    expect(
      namedButNotReplayed(cases, [...divergences.map((d) => d.example), ...adopted.map((a) => a.example)]),
    ).toEqual([]);
  });
});
