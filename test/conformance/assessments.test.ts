/**
 * Replays Microsoft's assessment and sub-assessment examples (see replay.ts) and prints a
 * per-operation table.
 *
 * The GET and list examples assess other recommendations (21300918… on VM scale sets, sub-assessments
 * of container registries, SQL servers and 1195afff…), which vaplane does not compute. They are replayed
 * transposed onto what vaplane serves: the example's assessment key becomes ffff0522 and its scale
 * sets and registries become VMs, everything else — paths, parameters, expected bodies — as Microsoft
 * wrote it. What remains different is then the content of ffff0522 itself (listed below, with reasons).
 * PUT and DELETE examples are replayed as written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VA_ASSESSMENT_KEY } from '../../src/coverage/index.js';
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
const STABLE = `${S}/stable/2021-06-01/examples/Assessments`;
const V2020 = `${S}/stable/2020-01-01/examples/Assessments`;
const V2019 = `${S}/preview/2019-01-01-preview/examples/Assessments`;
const V2023 = `${S}/preview/2023-10-01-preview/examples/Assessments`;
const SUB_2019 = `${S}/preview/2019-01-01-preview/examples/SubAssessments`;
const SUB_2023 = `${S}/preview/2023-10-01-preview/examples/SubAssessments`;
const ASSESSMENTS_SPEC = `${S}/stable/2021-06-01/assessments.json`;
const SUB_ASSESSMENTS_SPEC = `${S}/preview/2019-01-01-preview/subAssessments.json`;

const targets: ReplayTarget[] = [
  {
    spec: ASSESSMENTS_SPEC,
    operations: ['Assessments_List', 'Assessments_Get', 'Assessments_CreateOrUpdate', 'Assessments_Delete'],
  },
  {
    spec: SUB_ASSESSMENTS_SPEC,
    operations: ['SubAssessments_ListAll', 'SubAssessments_List', 'SubAssessments_Get'],
  },
];

const ASSESSMENTS_VERSION =
  "the corpus holds this version's assessment examples but not its assessments.json; 2021-06-01's has the same paths and parameters, and its schema is a superset";
const SUB_ASSESSMENTS_VERSION =
  "the corpus holds the 2023-10-01-preview sub-assessment examples but not that version's subAssessments.json; 2019-01-01-preview's has the same paths and parameters";

const ASSESSMENT_OPERATIONS: Record<string, string> = {
  GetAssessment: 'Assessments_Get',
  GetAssessmentWithExpand: 'Assessments_Get',
  ListAssessments: 'Assessments_List',
  PutAssessment: 'Assessments_CreateOrUpdate',
  DeleteAssessment: 'Assessments_Delete',
};

const adopted: AdoptedExample[] = [
  ...[V2020, V2019, V2023].flatMap((folder) =>
    Object.entries(ASSESSMENT_OPERATIONS).map(([name, operation]) => ({
      example: `${folder}/${name}_example.json`,
      spec: ASSESSMENTS_SPEC,
      operation,
      reason: ASSESSMENTS_VERSION,
    })),
  ),
  ...[
    ['GetSubAssessment', 'SubAssessments_Get'],
    ['ListSubAssessments', 'SubAssessments_List'],
    ['ListSubscriptionSubAssessments', 'SubAssessments_ListAll'],
  ].map(([name, operation]) => ({
    example: `${SUB_2023}/${name}_example.json`,
    spec: SUB_ASSESSMENTS_SPEC,
    operation: operation!,
    reason: SUB_ASSESSMENTS_VERSION,
  })),
];

const COMPUTED =
  "ffff0522's display name, status and additionalData are computed from coverage (the replay's fresh subscription has no Defender for Servers plan, so NotApplicable/NotCoveredByPlan, with the provider, method, legacy Qualys flag and reason in additionalData); the example shows another recommendation (21300918…, endpoint protection, off by policy, with a Log Analytics workspace)";
const PORTAL_LINK =
  "links.azurePortalUri is the recommendation's link as Defender's documentation gives it (https://portal.azure.com/#blade/…/assessmentKey/{key}); the example's host is www.portal.azure.com with a '?fea' query";
const DATES_2021 =
  'the 2021-06-01 schema (AssessmentStatusResponse) defines the read-only firstEvaluationDate and statusChangeDate, and the GetAssessment and ListAssessments examples of that version show them; this example omits them';
const DATES_2023 =
  "the 2023-10-01-preview examples are copies of the 2020-01-01 ones; vaplane answers that newer version with 2021-06-01's status, dates included";
const CAPITALISED =
  "the example writes resourceDetails' members 'Source' and 'Id' capitalised, unlike the schema and the version's own GetAssessment example; vaplane writes 'source' and 'id'";
const NOT_WRITABLE =
  'custom and partner assessments (CustomerManaged / VerifiedPartner metadata) are not modelled and ffff0522 is computed from coverage, so assessments are read-only: PUT and DELETE answer 405 MethodNotAllowed';
const NO_SUB_ASSESSMENTS =
  "ffff0522 has no sub-assessments (per-vulnerability findings belong to 1195afff…, which the findings engine will compute), so the list is empty; the example's item is a finding of another assessment";
const NO_SUB_ASSESSMENT =
  'ffff0522 has no sub-assessments, so getting one is 404 ResourceNotFound; the example is a finding of another assessment';
const NO_LIST_ALL =
  'the list of every sub-assessment under a scope is not served yet (404 InvalidResourceType): vaplane computes no findings; the findings engine will serve it';

const computed = (prefix = ''): string[] => [
  `${prefix}properties.displayName`,
  `${prefix}properties.status.cause`,
  `${prefix}properties.status.description`,
  `${prefix}properties.additionalData`,
];
const ITEM = `value[name=${VA_ASSESSMENT_KEY}].`;
const listComputed = [...computed(ITEM), `${ITEM}properties.status.code`];

const divergences: Divergence[] = [
  { example: `${STABLE}/GetAssessment_example.json`, paths: computed(), reason: COMPUTED },
  { example: `${STABLE}/GetAssessmentWithExpand_example.json`, paths: computed(), reason: COMPUTED },
  {
    example: `${STABLE}/GetAssessmentWithExpand_example.json`,
    paths: ['properties.links.azurePortalUri'],
    reason: PORTAL_LINK,
  },
  {
    example: `${STABLE}/GetAssessmentWithExpand_example.json`,
    paths: ['properties.status.firstEvaluationDate', 'properties.status.statusChangeDate'],
    reason: DATES_2021,
  },
  { example: `${STABLE}/ListAssessments_example.json`, paths: listComputed, reason: COMPUTED },
  { example: `${V2020}/GetAssessment_example.json`, paths: computed(), reason: COMPUTED },
  { example: `${V2020}/GetAssessmentWithExpand_example.json`, paths: computed(), reason: COMPUTED },
  {
    example: `${V2020}/GetAssessmentWithExpand_example.json`,
    paths: ['properties.links.azurePortalUri'],
    reason: PORTAL_LINK,
  },
  { example: `${V2020}/ListAssessments_example.json`, paths: listComputed, reason: COMPUTED },
  {
    example: `${V2020}/ListAssessments_example.json`,
    paths: [`${ITEM}properties.resourceDetails`],
    reason: CAPITALISED,
  },
  { example: `${V2019}/GetAssessment_example.json`, paths: computed(), reason: COMPUTED },
  { example: `${V2019}/GetAssessmentWithExpand_example.json`, paths: computed(), reason: COMPUTED },
  {
    example: `${V2019}/GetAssessmentWithExpand_example.json`,
    paths: ['properties.links.azurePortalUri'],
    reason: PORTAL_LINK,
  },
  {
    example: `${V2019}/GetAssessmentWithExpand_example.json`,
    paths: ['properties.resourceDetails'],
    reason: CAPITALISED,
  },
  { example: `${V2019}/ListAssessments_example.json`, paths: listComputed, reason: COMPUTED },
  {
    example: `${V2019}/ListAssessments_example.json`,
    paths: [`${ITEM}properties.resourceDetails`],
    reason: CAPITALISED,
  },
  { example: `${V2023}/GetAssessment_example.json`, paths: computed(), reason: COMPUTED },
  {
    example: `${V2023}/GetAssessment_example.json`,
    paths: ['properties.status.firstEvaluationDate', 'properties.status.statusChangeDate'],
    reason: DATES_2023,
  },
  { example: `${V2023}/GetAssessmentWithExpand_example.json`, paths: computed(), reason: COMPUTED },
  {
    example: `${V2023}/GetAssessmentWithExpand_example.json`,
    paths: ['properties.links.azurePortalUri'],
    reason: PORTAL_LINK,
  },
  {
    example: `${V2023}/GetAssessmentWithExpand_example.json`,
    paths: ['properties.status.firstEvaluationDate', 'properties.status.statusChangeDate'],
    reason: DATES_2023,
  },
  { example: `${V2023}/ListAssessments_example.json`, paths: listComputed, reason: COMPUTED },
  {
    example: `${V2023}/ListAssessments_example.json`,
    paths: [`${ITEM}properties.status.firstEvaluationDate`, `${ITEM}properties.status.statusChangeDate`],
    reason: DATES_2023,
  },
  ...[V2020, V2019, V2023].flatMap((folder) => [
    { example: `${folder}/PutAssessment_example.json`, status: 405, reason: NOT_WRITABLE },
    { example: `${folder}/DeleteAssessment_example.json`, status: 405, reason: NOT_WRITABLE },
  ]),
  { example: `${STABLE}/DeleteAssessment_example.json`, status: 405, reason: NOT_WRITABLE },
  {
    example: `${SUB_2019}/ListSubAssessments_example.json`,
    paths: ['value[name=*]'],
    reason: NO_SUB_ASSESSMENTS,
  },
  {
    example: `${SUB_2023}/ListSubAssessments_example.json`,
    paths: ['value[name=*]'],
    reason: NO_SUB_ASSESSMENTS,
  },
  { example: `${SUB_2019}/GetSubAssessment_example.json`, status: 404, reason: NO_SUB_ASSESSMENT },
  { example: `${SUB_2023}/GetSubAssessment_example.json`, status: 404, reason: NO_SUB_ASSESSMENT },
  { example: `${SUB_2019}/ListSubscriptionSubAssessments_example.json`, status: 404, reason: NO_LIST_ALL },
  { example: `${SUB_2023}/ListSubscriptionSubAssessments_example.json`, status: 404, reason: NO_LIST_ALL },
];

/** Resource types the examples assess that vaplane does not, and the machine type they become. */
const TRANSPOSED_TYPES: readonly [RegExp, string][] = [
  [/Microsoft\.Compute\/virtualMachineScaleSets/g, 'Microsoft.Compute/virtualMachines'],
  [/Microsoft\.ContainerRegistry\/registries/g, 'Microsoft.Compute/virtualMachines'],
];

const ASSESSMENT_IN_ID = /\/assessments\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/gi;

/**
 * A GET or list example moved onto ffff0522 on VMs, written to `folder`; the case keeps its example
 * name (for divergences and the table) and reads the transposed file.
 */
function transposed(replayCase: CollectedCase, folder: string): CollectedCase {
  const transposable =
    replayCase.present && replayCase.method === 'GET' && replayCase.operationId !== 'SubAssessments_ListAll';
  if (!transposable) return replayCase;
  let text = readFileSync(replayCase.file, 'utf8');
  const keys = new Set(
    [
      JSON.parse(text).parameters?.assessmentName,
      ...[...text.matchAll(ASSESSMENT_IN_ID)].map((match) => match[1]),
    ].filter((key): key is string => typeof key === 'string'),
  );
  for (const key of keys) text = text.replaceAll(key, VA_ASSESSMENT_KEY);
  for (const [pattern, replacement] of TRANSPOSED_TYPES) text = text.replace(pattern, replacement);
  const file = join(folder, `${replayCase.apiVersion}-${basename(replayCase.file)}`);
  writeFileSync(file, text);
  return { ...replayCase, file };
}

const corpus = corpusRoot();
const present = existsSync(corpus);
if (!present) {
  console.log(
    `SKIP assessment conformance: the Azure corpus ${corpus} is absent (set VAPLANE_AZURE_CORPUS or add ../shared/azure)`,
  );
}

describe.skipIf(!present)('conformance: Microsoft.Security assessments and sub-assessments', () => {
  const collected = present ? collectCases(targets, adopted, corpus) : [];
  const folder = mkdtempSync(join(tmpdir(), 'vaplane-assessment-examples-'));
  const cases = collected.map((replayCase) => transposed(replayCase, folder));
  const results: ReplayResult[] = [];
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ listen: false });
  });
  afterAll(async () => {
    reportResults('assessment conformance', results);
    rmSync(folder, { recursive: true, force: true });
    await t?.close();
  });

  replayEach(cases, results, (replayCase) => replay(t, replayCase, divergences));

  it('replays every assessment and sub-assessment example the corpus holds (referenced or adopted)', () => {
    expect(unreplayedExamples(collected, corpus)).toEqual([]);
  });

  it('every divergence and adoption names an example that is replayed', () => {
    expect(
      namedButNotReplayed(cases, [...divergences.map((d) => d.example), ...adopted.map((a) => a.example)]),
    ).toEqual([]);
  });
});
