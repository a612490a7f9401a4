/**
 * BYOL vulnerability-assessment solutions: written at 2015-06-01-preview the way Microsoft's
 * New-ASCVASolution.ps1 writes them, read at 2020-01-01 as its swagger reads them.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coverageOf, type Machine } from '../../src/coverage/index.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { byolSolutionOf, SECURITY_SOLUTION_TYPE } from '../../src/providers/security/solutions/index.js';
import { listResources, putResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const WRITE = 'api-version=2015-06-01-preview';
const READ = 'api-version=2020-01-01';
const RG = 'DefaultResourceGroup-WEU';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ listen: false });
});
afterAll(() => t.close());

const now = () => t.server.services.clock.now().toISOString();

async function rowCount(): Promise<number> {
  const row = await t.server.store.db
    .selectFrom('resources')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

type Request = Parameters<TestServer['inject']>[0];

async function refused(
  request: Request,
  status: number,
  code: string,
): Promise<{ message: string; target?: string }> {
  const before = await rowCount();
  const response = await t.inject(request);
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(await rowCount()).toBe(before);
  return response.body.error;
}

async function subscription(): Promise<string> {
  const sub = randomUUID();
  await addSubscription(t.server, { subscriptionId: sub });
  for (const [name, location] of [
    [RG, 'westeurope'],
    ['Rg-Other', 'eastus2'],
  ] as const) {
    await putResource(
      t.server.store.db,
      resourceGroupRecord({ subscriptionId: sub, name, location, now: now() }),
    );
  }
  return sub;
}

const solution = (sub: string, name: string, options: { group?: string; ascLocation?: string } = {}) =>
  `/subscriptions/${sub}/resourceGroups/${options.group ?? RG}/providers/Microsoft.Security/locations/${options.ascLocation ?? 'centralus'}/securitySolutions/${name}`;

/** A fresh license string per solution: one license can back one solution only. */
const license = () => Buffer.from(`{"cid":"${randomUUID()}","pwsPort":"443"}`).toString('base64');
const PUBLIC_KEY = 'MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCOiOLXjOywMfLZIBGPZLwSocf1Q64';

/** The body New-ASCVASolution.ps1 sends (its here-string, with the member names quoted). */
function scriptBody(options: {
  location?: string;
  template?: string;
  licenseCode?: string;
  publicKey?: string;
  autoUpdate?: boolean;
}): string {
  const parameters = `{"licenseCode":"${options.licenseCode ?? license()}","publicKey":"${options.publicKey ?? PUBLIC_KEY}","autoUpdate":${options.autoUpdate ?? false}}`;
  return JSON.stringify({
    Properties: {
      Location: options.location ?? 'westeurope',
      Template: options.template ?? 'qualys.qualysAgent',
      ProvisioningParameters: parameters,
    },
  });
}

describe('create, read, list and delete', () => {
  it("the script's PUT answers 201 with the 2020-01-01 model, and GET at 2020-01-01 reads it back", async () => {
    const sub = await subscription();
    const created = await t.inject({
      method: 'PUT',
      url: `${solution(sub, 'QualysVa001')}?${WRITE}`,
      body: scriptBody({}),
    });
    expect(created.status).toBe(201);
    const expected = {
      id: `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Security/locations/centralus/SecuritySolutions/QualysVa001`,
      name: 'QualysVa001',
      type: 'Microsoft.Security/locations/SecuritySolutions',
      location: 'westeurope',
      properties: {
        securityFamily: 'Va',
        protectionStatus: 'Good',
        template: 'qualys.qualysAgent',
        provisioningState: 'Succeeded',
      },
    };
    expect(created.body).toEqual(expected);
    const got = await t.inject({
      method: 'GET',
      url: `${solution(sub, 'qualysva001', { ascLocation: 'CentralUS' })}?${READ}`,
    });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(expected);
    // The license and the key never come back.
    expect(JSON.stringify(got.body)).not.toContain(PUBLIC_KEY);
  });

  it('lists the subscription solutions, and those of one home region, as {"value": [...]} without paging', async () => {
    const sub = await subscription();
    await t.inject({
      method: 'PUT',
      url: `${solution(sub, 'qualys-central')}?${WRITE}`,
      body: scriptBody({}),
    });
    await t.inject({
      method: 'PUT',
      url: `${solution(sub, 'rapid7-west', { ascLocation: 'westeurope', group: 'Rg-Other' })}?${WRITE}`,
      body: scriptBody({ template: 'rapid7.insightplatform', location: 'eastus2' }),
    });
    const all = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/securitySolutions?${READ}`,
    });
    expect(all.status).toBe(200);
    expect(Object.keys(all.body)).toEqual(['value']);
    expect(all.body.value.map((item: any) => [item.name, item.properties.template, item.location])).toEqual([
      ['qualys-central', 'qualys.qualysAgent', 'westeurope'],
      ['rapid7-west', 'rapid7.insightplatform', 'eastus2'],
    ]);
    const central = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/locations/centralus/securitySolutions?${READ}`,
    });
    expect(central.body.value.map((item: any) => item.name)).toEqual(['qualys-central']);
    const preview = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/SecuritySolutions?${WRITE}`,
    });
    expect(preview.body).toEqual(all.body);
    const elsewhere = await t.inject({
      method: 'GET',
      url: `/subscriptions/${randomUUID()}/providers/Microsoft.Security/securitySolutions?${READ}`,
    });
    expect(elsewhere.status).toBe(404);
  });

  it('Location defaults to the resource group location and is normalised when given as a display name', async () => {
    const sub = await subscription();
    const implicit = await t.inject({
      method: 'PUT',
      url: `${solution(sub, 'no-location', { group: 'Rg-Other' })}?${WRITE}`,
      body: {
        Properties: {
          Template: 'qualys.qualysAgent',
          ProvisioningParameters: JSON.stringify({ licenseCode: license(), publicKey: PUBLIC_KEY }),
        },
      },
    });
    expect(implicit.status).toBe(201);
    expect(implicit.body.location).toBe('eastus2');
    const display = await t.inject({
      method: 'PUT',
      url: `${solution(sub, 'display-name')}?${WRITE}`,
      body: scriptBody({ location: 'West Europe' }),
    });
    expect(display.body.location).toBe('westeurope');
  });

  it('camelCase members (the 2020-01-01 spelling) are read as well, and a Rapid7 solution needs no publicKey', async () => {
    const sub = await subscription();
    const created = await t.inject({
      method: 'PUT',
      url: `${solution(sub, 'rapid7')}?${WRITE}`,
      body: {
        properties: {
          location: 'westeurope',
          template: 'Rapid7.InsightPlatform',
          provisioningParameters: JSON.stringify({ licenseCode: license(), autoUpdate: true }),
        },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.properties.template).toBe('rapid7.insightplatform');
  });

  it('the same PUT again answers 200; the auto-deploy flag may change, the template and the license may not', async () => {
    const sub = await subscription();
    const licenseCode = license();
    const url = `${solution(sub, 'stable')}?${WRITE}`;
    const first = await t.inject({ method: 'PUT', url, body: scriptBody({ licenseCode }) });
    expect(first.status).toBe(201);
    const again = await t.inject({ method: 'PUT', url, body: scriptBody({ licenseCode, autoUpdate: true }) });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const [stored] = await listResources(t.server.store.db, {
      type: SECURITY_SOLUTION_TYPE,
      subscriptionId: sub,
      limit: 10,
    });
    expect(byolSolutionOf(stored!)?.autoProvisioning).toBe(true);
    const template = await refused(
      { method: 'PUT', url, body: scriptBody({ licenseCode, template: 'rapid7.insightplatform' }) },
      409,
      'PropertyChangeNotAllowed',
    );
    expect(template.message).toContain('template');
    await refused({ method: 'PUT', url, body: scriptBody({}) }, 409, 'PropertyChangeNotAllowed');
  });

  it('DELETE at 2015-06-01-preview answers 200, then 204; the solution is gone', async () => {
    const sub = await subscription();
    const url = solution(sub, 'doomed');
    await t.inject({ method: 'PUT', url: `${url}?${WRITE}`, body: scriptBody({}) });
    const deleted = await t.inject({ method: 'DELETE', url: `${url}?${WRITE}` });
    expect(deleted.status).toBe(200);
    expect((await t.inject({ method: 'DELETE', url: `${url}?${WRITE}` })).status).toBe(204);
    const got = await t.inject({ method: 'GET', url: `${url}?${READ}` });
    expect(got.status).toBe(404);
    expect(got.body.error).toEqual({
      code: 'ResourceNotFound',
      message: `Security solution 'doomed' does not exist in scope '/subscriptions/${sub}/resourceGroups/${RG}'`,
    });
  });

  it('deleting the resource group removes the solution (§7: the resource group is mandatory)', async () => {
    const sub = await subscription();
    await t.inject({
      method: 'PUT',
      url: `${solution(sub, 'tied', { group: 'Rg-Other' })}?${WRITE}`,
      body: scriptBody({}),
    });
    const accepted = await t.inject({
      method: 'DELETE',
      url: `/subscriptions/${sub}/resourceGroups/Rg-Other?api-version=2021-04-01`,
    });
    expect(accepted.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 70));
    await t.server.services.lro.runDue();
    const all = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/securitySolutions?${READ}`,
    });
    expect(all.body).toEqual({ value: [] });
  });
});

describe('one license per solution, one name per subscription, auto deploy', () => {
  it('a second solution on the same license is refused with 409 LicenseAlreadyInUse, in this or another subscription', async () => {
    const sub = await subscription();
    const licenseCode = license();
    await t.inject({
      method: 'PUT',
      url: `${solution(sub, 'first')}?${WRITE}`,
      body: scriptBody({ licenseCode }),
    });
    const own = await refused(
      { method: 'PUT', url: `${solution(sub, 'second')}?${WRITE}`, body: scriptBody({ licenseCode }) },
      409,
      'LicenseAlreadyInUse',
    );
    expect(own.message).toContain('/SecuritySolutions/first');
    const other = await subscription();
    const foreign = await refused(
      { method: 'PUT', url: `${solution(other, 'elsewhere')}?${WRITE}`, body: scriptBody({ licenseCode }) },
      409,
      'LicenseAlreadyInUse',
    );
    // The other subscription's solution is not named to a caller of this one.
    expect(foreign.message).toContain('another security solution');
  });

  it('a name used by another solution of the subscription (another group or home region) is refused with 409', async () => {
    const sub = await subscription();
    await t.inject({ method: 'PUT', url: `${solution(sub, 'Shared')}?${WRITE}`, body: scriptBody({}) });
    await refused(
      {
        method: 'PUT',
        url: `${solution(sub, 'shared', { group: 'Rg-Other', ascLocation: 'westeurope' })}?${WRITE}`,
        body: scriptBody({}),
      },
      409,
      'SecuritySolutionAlreadyExists',
    );
  });

  it('a second auto-deploy solution is accepted, and then no solution auto-links machines (docs: several flagged, no auto-remediation)', async () => {
    const sub = await subscription();
    const machine: Machine = {
      kind: 'azureVm',
      id: `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/vm1`,
      name: 'vm1',
      subscriptionId: sub,
      os: { family: 'Linux', distribution: 'Ubuntu', version: '22.04' },
      extensions: [],
      tags: {},
      powerState: 'running',
    };
    const providerWith = async () => {
      const rows = await listResources(t.server.store.db, {
        type: SECURITY_SOLUTION_TYPE,
        subscriptionId: sub,
        limit: 10,
      });
      return coverageOf(machine, {
        now: t.server.services.clock.now(),
        serversPricing: { pricingTier: 'Free' },
        settings: { wdatp: false },
        byolSolutions: rows.map((row) => byolSolutionOf(row)!),
      }).provider;
    };
    const first = await t.inject({
      method: 'PUT',
      url: `${solution(sub, 'auto-1')}?${WRITE}`,
      body: scriptBody({ autoUpdate: true }),
    });
    expect(first.status).toBe(201);
    expect(await providerWith()).toBe('byol');
    const second = await t.inject({
      method: 'PUT',
      url: `${solution(sub, 'auto-2')}?${WRITE}`,
      body: scriptBody({ autoUpdate: true, template: 'rapid7.insightplatform' }),
    });
    expect(second.status).toBe(201);
    expect(await providerWith()).toBe('none');
  });
});

describe('bad input', () => {
  const put = (url: string, body: unknown): Request => ({ method: 'PUT', url: `${url}?${WRITE}`, body });
  const parameters = (value: unknown) => ({
    Properties: { Location: 'westeurope', Template: 'qualys.qualysAgent', ProvisioningParameters: value },
  });
  /** A PUT of `value()` to a fresh solution of the test's subscription. */
  const body =
    (value: () => unknown) =>
    (sub: string): Request =>
      put(solution(sub, 'bad'), value());
  const cases: [string, (sub: string) => Request, number, string, string?][] = [
    [
      'a PUT at subscription scope (no resource group)',
      (s) =>
        put(
          `/subscriptions/${s}/providers/Microsoft.Security/locations/centralus/securitySolutions/x`,
          JSON.parse(scriptBody({})),
        ),
      400,
      'ResourceGroupRequired',
    ],
    [
      'a resource group that does not exist',
      (s) => put(solution(s, 'x', { group: 'missing' }), JSON.parse(scriptBody({}))),
      404,
      'ResourceGroupNotFound',
    ],
    [
      'a PUT at the read-only 2020-01-01',
      (s) => ({ method: 'PUT', url: `${solution(s, 'x')}?${READ}`, body: scriptBody({}) }),
      400,
      'InvalidApiVersionParameter',
    ],
    [
      'a DELETE at the read-only 2020-01-01',
      (s) => ({ method: 'DELETE', url: `${solution(s, 'x')}?${READ}` }),
      400,
      'InvalidApiVersionParameter',
    ],
    [
      'an unknown api-version',
      (s) => ({
        method: 'PUT',
        url: `${solution(s, 'x')}?api-version=2017-08-01-preview`,
        body: scriptBody({}),
      }),
      400,
      'InvalidApiVersionParameter',
    ],
    [
      'an unknown home region',
      (s) => put(solution(s, 'x', { ascLocation: 'moon' }), JSON.parse(scriptBody({}))),
      400,
      'LocationNotAvailableForResourceType',
    ],
    [
      'an unknown Location',
      (s) => put(solution(s, 'x'), JSON.parse(scriptBody({ location: 'atlantis' }))),
      400,
      'LocationNotAvailableForResourceType',
    ],
    [
      'an unknown template',
      body(() => JSON.parse(scriptBody({ template: 'tenable.nessus' }))),
      400,
      'InvalidInputJson',
      'properties.template',
    ],
    [
      'no template',
      body(() => ({ Properties: { ProvisioningParameters: '{"licenseCode":"a","publicKey":"b"}' } })),
      400,
      'InvalidInputJson',
      'properties.template',
    ],
    ['no Properties', body(() => ({})), 400, 'InvalidRequestContent'],
    ['no body', body(() => undefined), 400, 'InvalidRequestContent'],
    [
      'a read-only property',
      body(() => ({
        Properties: { ...JSON.parse(scriptBody({})).Properties, provisioningState: 'Succeeded' },
      })),
      400,
      'InvalidInputJson',
    ],
    [
      'an unknown member',
      body(() => ({ Properties: { ...JSON.parse(scriptBody({})).Properties, Vendor: 'x' } })),
      400,
      'InvalidRequestContent',
    ],
    [
      'ProvisioningParameters as an object, not a string',
      body(() => parameters({ licenseCode: 'a', publicKey: 'b' })),
      400,
      'InvalidInputJson',
      'properties.provisioningParameters',
    ],
    [
      'no ProvisioningParameters',
      body(() => ({ Properties: { Template: 'qualys.qualysAgent' } })),
      400,
      'InvalidInputJson',
      'properties.provisioningParameters',
    ],
    [
      'ProvisioningParameters that is not JSON',
      body(() => parameters('{licenseCode:abc')),
      400,
      'InvalidInputJson',
      'properties.provisioningParameters',
    ],
    [
      'ProvisioningParameters holding an array',
      body(() => parameters('["abc"]')),
      400,
      'InvalidInputJson',
      'properties.provisioningParameters',
    ],
    [
      'no licenseCode',
      body(() => parameters(JSON.stringify({ publicKey: PUBLIC_KEY, autoUpdate: false }))),
      400,
      'InvalidInputJson',
      'properties.provisioningParameters.licenseCode',
    ],
    [
      'an empty licenseCode',
      body(() => parameters(JSON.stringify({ licenseCode: ' ', publicKey: PUBLIC_KEY }))),
      400,
      'InvalidInputJson',
      'properties.provisioningParameters.licenseCode',
    ],
    [
      'a Qualys solution without publicKey',
      body(() => parameters(JSON.stringify({ licenseCode: license() }))),
      400,
      'InvalidInputJson',
      'properties.provisioningParameters.publicKey',
    ],
    [
      'a Rapid7 licenseCode that is not base64',
      body(() => ({
        Properties: {
          Template: 'rapid7.insightplatform',
          ProvisioningParameters: JSON.stringify({ licenseCode: 'not base64!' }),
        },
      })),
      400,
      'InvalidInputJson',
      'properties.provisioningParameters.licenseCode',
    ],
    [
      'autoUpdate as a string',
      body(() =>
        parameters(JSON.stringify({ licenseCode: license(), publicKey: PUBLIC_KEY, autoUpdate: 'yes' })),
      ),
      400,
      'InvalidInputJson',
      'properties.provisioningParameters.autoUpdate',
    ],
    [
      'an unknown provisioning parameter',
      body(() => parameters(JSON.stringify({ licenseCode: license(), publicKey: PUBLIC_KEY, region: 'eu' }))),
      400,
      'InvalidInputJson',
      'properties.provisioningParameters.region',
    ],
  ];

  it.each(cases)('%s is refused and nothing is written', async (_title, build, status, code, target) => {
    const sub = await subscription();
    const error = await refused(build(sub), status, code);
    if (target) expect(error.target).toBe(target);
  });

  it('the errors say what to send', async () => {
    const sub = await subscription();
    const notString = await refused(
      put(solution(sub, 'x'), parameters({ licenseCode: 'a' })),
      400,
      'InvalidInputJson',
    );
    expect(notString.message).toContain('must be a string that holds a JSON object');
    expect(notString.message).toContain('the request sends an object');
    const notJson = await refused(
      put(solution(sub, 'x'), parameters('{licenseCode:abc')),
      400,
      'InvalidInputJson',
    );
    expect(notJson.message).toBe(
      "'Properties.ProvisioningParameters' is not a JSON object: Invalid property identifier character: l. Path '', line 1, position 1.",
    );
    const template = await refused(
      put(solution(sub, 'x'), JSON.parse(scriptBody({ template: 'tenable.nessus' }))),
      400,
      'InvalidInputJson',
    );
    expect(template.message).toBe(
      "The template 'tenable.nessus' is not a BYOL vulnerability assessment template. The supported templates are 'qualys.qualysAgent, rapid7.insightplatform'.",
    );
    const scope = await refused(
      put(
        `/subscriptions/${sub}/providers/Microsoft.Security/locations/centralus/securitySolutions/x`,
        JSON.parse(scriptBody({})),
      ),
      400,
      'ResourceGroupRequired',
    );
    expect(scope.message).toContain(
      '/resourceGroups/{resourceGroupName}/providers/Microsoft.Security/locations/{ascLocation}/securitySolutions/{name}',
    );
    const version = await refused(
      { method: 'PUT', url: `${solution(sub, 'x')}?${READ}`, body: scriptBody({}) },
      400,
      'InvalidApiVersionParameter',
    );
    expect(version.message).toBe(
      "The api-version '2020-01-01' is invalid for PUT on resource type 'Microsoft.Security/locations/securitySolutions'. The supported versions are '2015-06-01-preview'.",
    );
  });

  it('reads outside the swagger paths are refused: a list in a resource group, one solution by subscription', async () => {
    const sub = await subscription();
    const inGroup = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Security/locations/centralus/securitySolutions?${READ}`,
    });
    expect(inGroup.status).toBe(404);
    expect(inGroup.body.error.code).toBe('InvalidResourceType');
    const bySubscription = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/locations/centralus/securitySolutions/x?${READ}`,
    });
    expect(bySubscription.status).toBe(400);
    expect(bySubscription.body.error.code).toBe('ResourceGroupRequired');
  });
});
