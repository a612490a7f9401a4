import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import {
  type SecurityConnector,
  serversOffering,
  withVaProvider,
} from '../../src/providers/security/securityConnectors/index.js';
import { putResource } from '../../src/store/index.js';
import { awsConnector } from '../support/connectors.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const V2022 = '2022-08-01-preview';
const V2023 = '2023-10-01-preview';
const V2024 = '2024-08-01-preview';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ listen: false });
});
afterAll(() => t.close());

/** A fresh subscription with resource group `Connectors-RG` keeps the tests independent. */
async function world(): Promise<{ sub: string; group: string }> {
  const sub = randomUUID();
  await addSubscription(t.server, { subscriptionId: sub });
  const now = new Date().toISOString();
  await putResource(
    t.server.store.db,
    resourceGroupRecord({ subscriptionId: sub, name: 'Connectors-RG', location: 'westeurope', now }),
  );
  return { sub, group: 'Connectors-RG' };
}

function connectorUrl(sub: string, name: string, version = V2023, group = 'Connectors-RG'): string {
  return `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.Security/securityConnectors/${name}?api-version=${version}`;
}

async function rowCount(): Promise<number> {
  const row = await t.server.store.db
    .selectFrom('resources')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** A GCP connector whose servers offering still provisions Qualys (the state before the transition). */
function gcpConnector(overrides: { subPlan?: unknown; va?: string } = {}) {
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
          vaAutoProvisioning: { enabled: true, configuration: { type: overrides.va ?? 'Qualys' } },
          subPlan: overrides.subPlan ?? { type: 'P2' },
        },
      ],
      environmentData: {
        environmentType: 'GcpProject',
        projectDetails: { projectId: 'contoso-prod', projectNumber: '123456789012' },
      },
    },
  };
}

type Request = Parameters<TestServer['inject']>[0];

/** Sends a request that must be refused with `status`/`code`, and proves that nothing was written. */
async function refused(request: Request, status: number, code: string) {
  const before = await rowCount();
  const response = await t.inject(request);
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code, JSON.stringify(response.body)).toBe(code);
  expect(await rowCount()).toBe(before);
  return response.body.error as { code: string; message: string; target?: string };
}

describe("the transition page's GCP connector PUT", () => {
  it('works byte for byte at 2022-08-01-preview with the lower-case path: 201, TVM, subPlan as an object, the pool id kept by Azure', async () => {
    const { sub } = await world();
    // Microsoft's body with its placeholders filled in, key order and spacing as printed.
    const body = `{
  "properties": {
    "hierarchyIdentifier": "123456789012",
    "environmentName": "GCP",
    "offerings": [
      {
        "offeringType": "CspmMonitorGcp",
        "nativeCloudConnection": {
          "workloadIdentityProviderId": "cspm",
          "serviceAccountEmailAddress": "microsoft-defender-cspm@contoso-prod.iam.gserviceaccount.com"
        }
      },
      {
        "offeringType": "DefenderCspmGcp"
      },
      {
        "offeringType": "DefenderForServersGcp",
        "defenderForServers": {
          "workloadIdentityProviderId": "defender-for-servers",
          "serviceAccountEmailAddress": "microsoft-defender-for-servers@contoso-prod.iam.gserviceaccount.com"
        },
        "arcAutoProvisioning": {
          "enabled": true,
          "configuration": {}
        },
        "mdeAutoProvisioning": {
          "enabled": true,
          "configuration": {}
        },
        "vaAutoProvisioning": {
          "enabled": true,
          "configuration": {
            "type": "TVM"
          }
        },
        "subPlan": "P2"
      }
    ],
    "environmentData": {
      "environmentType": "GcpProject",
      "projectDetails": {
        "projectId": "contoso-prod",
        "projectNumber": "123456789012",
        "workloadIdentityPoolId": "a1b2c3d4e5f60718293a4b5c6d7e8f90"
      }
    }
  },
  "location": "westeurope"
}`;
    const url = `/subscriptions/${sub}/resourcegroups/connectors-rg/providers/Microsoft.Security/securityconnectors/gcp-contoso-prod?api-version=2022-08-01-preview`;
    const created = await t.inject({ method: 'PUT', url, body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      id: `/subscriptions/${sub}/resourcegroups/connectors-rg/providers/Microsoft.Security/securityConnectors/gcp-contoso-prod`,
      name: 'gcp-contoso-prod',
      type: 'Microsoft.Security/securityconnectors',
      location: 'westeurope',
      tags: {},
      systemData: { createdByType: 'User', lastModifiedByType: 'User' },
      properties: {
        hierarchyIdentifier: '123456789012',
        environmentName: 'GCP',
        offerings: [
          { offeringType: 'CspmMonitorGcp' },
          { offeringType: 'DefenderCspmGcp' },
          {
            offeringType: 'DefenderForServersGcp',
            arcAutoProvisioning: { enabled: true, configuration: {} },
            vaAutoProvisioning: { enabled: true, configuration: { type: 'TVM' } },
            subPlan: { type: 'P2' },
          },
        ],
        environmentData: {
          environmentType: 'GcpProject',
          projectDetails: { projectId: 'contoso-prod', projectNumber: '123456789012' },
        },
      },
    });
    expect(created.body.kind).toBeUndefined();
    expect(created.body.etag).toBe(created.headers.etag);
    const poolId = created.body.properties.environmentData.projectDetails.workloadIdentityPoolId;
    expect(poolId).toMatch(/^[0-9a-f]{32}$/);
    expect(poolId).not.toBe('a1b2c3d4e5f60718293a4b5c6d7e8f90');
    expect(serversOffering(created.body)).toMatchObject({ cloud: 'GCP', vaProvider: 'TVM', subPlan: 'P2' });

    const again = await t.inject({ method: 'PUT', url, body });
    expect(again.status).toBe(200);
    expect(again.body.properties.environmentData.projectDetails.workloadIdentityPoolId).toBe(poolId);
    expect(again.body.systemData.createdAt).toBe(created.body.systemData.createdAt);
    expect(again.headers.etag).not.toBe(created.headers.etag);
  });
});

describe('security connectors: create, read, update, delete', () => {
  it.each([V2022, V2023, V2024])('PUT at %s answers 201 on create and 200 on update', async (version) => {
    const { sub } = await world();
    const created = await t.inject({
      method: 'PUT',
      url: connectorUrl(sub, 'aws-1', version),
      body: awsConnector(),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.location).toBe('Central US');
    const updated = await t.inject({
      method: 'PUT',
      url: connectorUrl(sub, 'aws-1', version),
      body: awsConnector(),
    });
    expect(updated.status).toBe(200);
  });

  it('GET answers the stored connector for any casing of the path, with its ETag in the header and the body', async () => {
    const { sub } = await world();
    await t.inject({ method: 'PUT', url: connectorUrl(sub, 'Gcp-One'), body: gcpConnector() });
    const got = await t.inject({
      method: 'GET',
      url: `/SUBSCRIPTIONS/${sub}/RESOURCEGROUPS/connectors-rg/providers/microsoft.security/SECURITYCONNECTORS/gcp-one?api-version=${V2023}`,
    });
    expect(got.status).toBe(200);
    expect(got.body.name).toBe('Gcp-One');
    expect(got.body.id).toBe(
      `/subscriptions/${sub}/resourcegroups/connectors-rg/providers/Microsoft.Security/securityConnectors/Gcp-One`,
    );
    expect(got.headers.etag).toBe(got.body.etag);
    expect(got.body.properties.offerings[1].vaAutoProvisioning.configuration.type).toBe('Qualys');
  });

  it('GET of a missing connector is ResourceNotFound; in a missing group ResourceGroupNotFound', async () => {
    const { sub } = await world();
    const missing = await t.inject({ method: 'GET', url: connectorUrl(sub, 'nope') });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ResourceNotFound');
    expect(missing.body.error.message).toContain("'Microsoft.Security/securityConnectors/nope'");
    const noGroup = await t.inject({ method: 'GET', url: connectorUrl(sub, 'nope', V2023, 'other-rg') });
    expect(noGroup.status).toBe(404);
    expect(noGroup.body.error.code).toBe('ResourceGroupNotFound');
  });

  it('DELETE answers 204 when it removed the connector and 204 again when there is none', async () => {
    const { sub } = await world();
    await t.inject({ method: 'PUT', url: connectorUrl(sub, 'doomed'), body: awsConnector() });
    const before = await rowCount();
    const deleted = await t.inject({ method: 'DELETE', url: connectorUrl(sub, 'doomed') });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect(await rowCount()).toBe(before - 1);
    expect((await t.inject({ method: 'GET', url: connectorUrl(sub, 'doomed') })).status).toBe(404);
    const again = await t.inject({ method: 'DELETE', url: connectorUrl(sub, 'doomed') });
    expect(again.status).toBe(204);
    const noGroup = await t.inject({ method: 'DELETE', url: connectorUrl(sub, 'doomed', V2023, 'other-rg') });
    expect(noGroup.status).toBe(404);
    expect(noGroup.body.error.code).toBe('ResourceGroupNotFound');
  });

  it('lists by subscription and by resource group, paging with $top and nextLink', async () => {
    const { sub } = await world();
    const now = new Date().toISOString();
    await putResource(
      t.server.store.db,
      resourceGroupRecord({ subscriptionId: sub, name: 'Other-RG', location: 'eastus', now }),
    );
    for (const name of ['c1', 'c2', 'c3']) {
      await t.inject({ method: 'PUT', url: connectorUrl(sub, name), body: awsConnector() });
    }
    await t.inject({ method: 'PUT', url: connectorUrl(sub, 'c4', V2023, 'Other-RG'), body: gcpConnector() });

    const collect = async (first: string) => {
      const seen: string[] = [];
      let url: string | undefined = first;
      while (url) {
        const page = await t.inject({ method: 'GET', url });
        expect(page.status).toBe(200);
        expect(page.body.value.length).toBeLessThanOrEqual(2);
        for (const item of page.body.value) expect(item.type).toBe('Microsoft.Security/securityconnectors');
        seen.push(...page.body.value.map((item: SecurityConnector) => item.name));
        url = page.body.nextLink
          ? new URL(page.body.nextLink).pathname + new URL(page.body.nextLink).search
          : undefined;
      }
      return seen.sort();
    };
    expect(
      await collect(
        `/subscriptions/${sub}/providers/Microsoft.Security/securityConnectors?api-version=${V2023}&$top=2`,
      ),
    ).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(
      await collect(
        `/subscriptions/${sub}/resourceGroups/connectors-rg/providers/Microsoft.Security/securityConnectors?api-version=${V2023}&$top=2`,
      ),
    ).toEqual(['c1', 'c2', 'c3']);
    const empty = await t.inject({
      method: 'GET',
      url: `/subscriptions/${(await world()).sub}/providers/Microsoft.Security/securityConnectors?api-version=${V2022}`,
    });
    expect(empty.body).toEqual({ value: [] });
  });

  it('an api-version outside 2022-08-01-preview … 2024-08-01-preview is InvalidApiVersionParameter', async () => {
    const { sub } = await world();
    const error = await refused(
      { method: 'PUT', url: connectorUrl(sub, 'old', '2021-07-01-preview'), body: awsConnector() },
      400,
      'InvalidApiVersionParameter',
    );
    expect(error.message).toBe(
      "The api-version '2021-07-01-preview' is invalid. The supported versions are '2024-08-01-preview,2023-10-01-preview,2022-08-01-preview'.",
    );
  });
});

describe('security connectors: the GET → change → PUT flow with ETags', () => {
  it('flips vaAutoProvisioning to TVM with If-Match; a stale ETag then answers 412 and changes nothing', async () => {
    const { sub } = await world();
    const url = connectorUrl(sub, 'gcp-flip', V2022);
    await t.inject({ method: 'PUT', url, body: gcpConnector({ va: 'Qualys' }) });
    const before = await t.inject({ method: 'GET', url });
    expect(serversOffering(before.body)?.vaProvider).toBe('Qualys');

    const flipped = { ...before.body, properties: withVaProvider(before.body.properties, 'TVM') };
    const put = await t.inject({
      method: 'PUT',
      url,
      body: flipped,
      headers: { 'if-match': before.headers.etag as string },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(serversOffering(put.body)).toMatchObject({ vaProvider: 'TVM', subPlan: 'P2' });
    expect(put.headers.etag).not.toBe(before.headers.etag);
    expect(put.body.properties.environmentData.projectDetails.workloadIdentityPoolId).toBe(
      before.body.properties.environmentData.projectDetails.workloadIdentityPoolId,
    );

    const stale = await refused(
      { method: 'PUT', url, body: before.body, headers: { 'if-match': before.headers.etag as string } },
      412,
      'PreconditionFailed',
    );
    expect(stale.message).toContain('etag mismatch');
    const after = await t.inject({ method: 'GET', url });
    expect(serversOffering(after.body)?.vaProvider).toBe('TVM');
    expect(after.headers.etag).toBe(put.headers.etag);
  });

  it('If-None-Match: * refuses to overwrite, If-Match on a missing connector refuses to create (412)', async () => {
    const { sub } = await world();
    const url = connectorUrl(sub, 'guarded');
    await refused(
      { method: 'PUT', url, body: awsConnector(), headers: { 'if-match': '*' } },
      412,
      'PreconditionFailed',
    );
    const created = await t.inject({
      method: 'PUT',
      url,
      body: awsConnector(),
      headers: { 'if-none-match': '*' },
    });
    expect(created.status).toBe(201);
    await refused(
      { method: 'PUT', url, body: awsConnector(), headers: { 'if-none-match': '*' } },
      412,
      'PreconditionFailed',
    );
    await refused({ method: 'DELETE', url, headers: { 'if-match': '"stale"' } }, 412, 'PreconditionFailed');
    const wildcard = await t.inject({
      method: 'PUT',
      url,
      body: awsConnector(),
      headers: { 'if-match': '*' },
    });
    expect(wildcard.status).toBe(200);
  });

  it("a body's etag is not a precondition: Microsoft's example sends a placeholder", async () => {
    const { sub } = await world();
    const url = connectorUrl(sub, 'placeholder');
    await t.inject({ method: 'PUT', url, body: awsConnector() });
    const updated = await t.inject({
      method: 'PUT',
      url,
      body: { ...awsConnector(), etag: 'etag value (must be supplied for update)' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.etag).toBe(updated.headers.etag);
  });
});

describe('security connectors: PATCH merges member by member (trap 8)', () => {
  it('PATCH of tags alone replaces the tags and keeps the properties, as Azure answered (recorded)', async () => {
    const { sub } = await world();
    const url = connectorUrl(sub, 'patched');
    await t.inject({
      method: 'PUT',
      url,
      body: { ...awsConnector(), tags: { owner: 'secops', env: 'prod' } },
    });
    const patched = await t.inject({ method: 'PATCH', url, body: { tags: { pwshsdktest: 'true' } } });
    expect(patched.status).toBe(200);
    expect(patched.body.tags).toEqual({ pwshsdktest: 'true' });
    expect(patched.body.properties).toEqual(awsConnector().properties);
    expect(patched.body.location).toBe('Central US');
  });

  it('PATCH of properties.offerings replaces the offerings and keeps the environment', async () => {
    const { sub } = await world();
    const url = connectorUrl(sub, 'patched-offerings', V2022);
    await t.inject({ method: 'PUT', url, body: gcpConnector() });
    const got = await t.inject({ method: 'GET', url });
    const offerings = withVaProvider(got.body.properties, 'TVM').offerings;
    const patched = await t.inject({ method: 'PATCH', url, body: { properties: { offerings } } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(serversOffering(patched.body)?.vaProvider).toBe('TVM');
    expect(patched.body.properties.environmentData).toEqual(got.body.properties.environmentData);
    expect(patched.body.properties.hierarchyIdentifier).toBe('123456789012');
  });

  it('PATCH of a missing connector is 404; another location is 409; a stale If-Match is 412; an offering of another cloud 400 — nothing written', async () => {
    const { sub } = await world();
    await refused(
      { method: 'PATCH', url: connectorUrl(sub, 'absent'), body: { tags: {} } },
      404,
      'ResourceNotFound',
    );
    const url = connectorUrl(sub, 'present');
    await t.inject({ method: 'PUT', url, body: awsConnector() });
    await refused({ method: 'PATCH', url, body: { location: 'westeurope' } }, 409, 'InvalidResourceLocation');
    const same = await t.inject({ method: 'PATCH', url, body: { location: 'centralus' } });
    expect(same.status).toBe(200);
    expect(same.body.location).toBe('Central US');
    await refused(
      { method: 'PATCH', url, body: { tags: {} }, headers: { 'if-match': '"stale"' } },
      412,
      'PreconditionFailed',
    );
    await refused(
      { method: 'PATCH', url, body: { properties: { offerings: [{ offeringType: 'CspmMonitorGcp' }] } } },
      400,
      'InvalidInputJson',
    );
  });
});

describe('security connectors: traps 1 and 2', () => {
  it.each([
    ['"P1"', 'P1', 'P1'],
    ['"p2"', 'p2', 'P2'],
    ['{"type":"P2"}', { type: 'P2' }, 'P2'],
  ])('subPlan %s is accepted and answered as an object (trap 1)', async (_label, subPlan, expected) => {
    const { sub } = await world();
    const response = await t.inject({
      method: 'PUT',
      url: connectorUrl(sub, 'sub-plan'),
      body: gcpConnector({ subPlan }),
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body.properties.offerings[1].subPlan).toEqual({ type: expected });
  });

  it('read-only members are ignored on input, not refused (trap 2)', async () => {
    const { sub } = await world();
    const body = {
      location: 'westeurope',
      properties: {
        hierarchyIdentifier: '123456789012',
        hierarchyIdentifierTrialEndDate: '2030-01-01T00:00:00Z',
        environmentName: 'GCP',
        offerings: [{ offeringType: 'CspmMonitorGcp', description: 'set by the client' }],
        environmentData: {
          environmentType: 'GcpProject',
          organizationalData: {
            organizationMembershipType: 'Organization',
            excludedProjectNumbers: ['1'],
            organizationName: 'set by the client',
          },
          projectDetails: {
            projectNumber: '123456789012',
            projectName: 'set by the client',
            workloadIdentityPoolId: 'mine',
          },
        },
      },
    };
    const response = await t.inject({ method: 'PUT', url: connectorUrl(sub, 'readonly'), body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    const { properties } = response.body;
    expect(properties.hierarchyIdentifierTrialEndDate).toBeUndefined();
    expect(properties.offerings[0]).toEqual({ offeringType: 'CspmMonitorGcp' });
    expect(properties.environmentData.organizationalData).toEqual({
      organizationMembershipType: 'Organization',
      excludedProjectNumbers: ['1'],
    });
    expect(properties.environmentData.projectDetails.projectName).toBeUndefined();
    expect(properties.environmentData.projectDetails.workloadIdentityPoolId).not.toBe('mine');

    const aws = await t.inject({
      method: 'PUT',
      url: connectorUrl(sub, 'readonly-aws'),
      body: {
        ...awsConnector(),
        properties: {
          ...awsConnector().properties,
          environmentData: { environmentType: 'AwsAccount', accountName: 'mine' },
        },
      },
    });
    expect(aws.status).toBe(201);
    expect(aws.body.properties.environmentData).toEqual({ environmentType: 'AwsAccount' });
  });

  it('member names and enum values bind in any casing and answer in the contract casing', async () => {
    const { sub } = await world();
    const body = {
      Location: 'westeurope',
      Properties: {
        HierarchyIdentifier: '123456789012',
        environmentname: 'gcp',
        offerings: [
          {
            offeringtype: 'defenderforserversgcp',
            VaAutoProvisioning: { enabled: true, configuration: { type: 'tvm' } },
          },
        ],
        environmentData: { EnvironmentType: 'gcpproject' },
      },
    };
    const response = await t.inject({ method: 'PUT', url: connectorUrl(sub, 'casing'), body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body.properties).toMatchObject({
      hierarchyIdentifier: '123456789012',
      environmentName: 'GCP',
      offerings: [
        { offeringType: 'DefenderForServersGcp', vaAutoProvisioning: { configuration: { type: 'TVM' } } },
      ],
      environmentData: { environmentType: 'GcpProject' },
    });
  });
});

describe('security connectors: per api-version contract', () => {
  it('a connector written at 2023-10-01-preview reads at 2022-08-01-preview without what that version lacks', async () => {
    const { sub } = await world();
    const body = gcpConnector();
    const servers = body.properties.offerings[1] as Record<string, unknown>;
    servers.vmScanners = {
      enabled: true,
      configuration: { scanningMode: 'Default', exclusionTags: { skip: 'yes' } },
    };
    servers.arcAutoProvisioning = { enabled: true, configuration: { proxy: 'http://proxy:3128' } };
    (body.properties.environmentData as Record<string, unknown>).scanInterval = 12;
    const created = await t.inject({ method: 'PUT', url: connectorUrl(sub, 'versions', V2023), body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.properties.offerings[1].vmScanners).toBeDefined();

    const old = await t.inject({ method: 'GET', url: connectorUrl(sub, 'versions', V2022) });
    expect(old.body.properties.offerings[1].vmScanners).toBeUndefined();
    expect(old.body.properties.offerings[1].arcAutoProvisioning).toEqual({
      enabled: true,
      configuration: {},
    });
    expect(old.body.properties.environmentData.scanInterval).toBeUndefined();
    // What a version shows is a valid body at that version.
    const roundTrip = await t.inject({
      method: 'PUT',
      url: connectorUrl(sub, 'versions', V2022),
      body: old.body,
    });
    expect(roundTrip.status, JSON.stringify(roundTrip.body)).toBe(200);
  });

  it('a member of a later version is refused and the message says from which version it exists', async () => {
    const { sub } = await world();
    const body = gcpConnector();
    (body.properties.offerings[1] as Record<string, unknown>).vmScanners = { enabled: true };
    const error = await refused(
      { method: 'PUT', url: connectorUrl(sub, 'later', V2022), body },
      400,
      'InvalidRequestContent',
    );
    expect(error.target).toBe('properties.offerings[1].vmScanners');
    expect(error.message).toContain("The member exists from api-version '2023-10-01-preview'.");
  });

  it('the AWS scanner role moves from vmScanners.configuration (≤ 2023-10-01-preview) to vmScanners (2024-08-01-preview)', async () => {
    const { sub } = await world();
    const withRole = (placement: 'configuration' | 'scanner') => {
      const body = awsConnector();
      const role = 'arn:aws:iam::210987654321:role/DefenderForCloud-AgentlessScanner';
      (body.properties.offerings[1] as Record<string, unknown>).vmScanners =
        placement === 'scanner'
          ? { enabled: true, cloudRoleArn: role, configuration: { scanningMode: 'Default' } }
          : { enabled: true, configuration: { cloudRoleArn: role, scanningMode: 'Default' } };
      return body;
    };
    expect(
      (await t.inject({ method: 'PUT', url: connectorUrl(sub, 'a', V2023), body: withRole('configuration') }))
        .status,
    ).toBe(201);
    expect(
      (await t.inject({ method: 'PUT', url: connectorUrl(sub, 'b', V2024), body: withRole('scanner') }))
        .status,
    ).toBe(201);
    const old = await refused(
      { method: 'PUT', url: connectorUrl(sub, 'c', V2023), body: withRole('scanner') },
      400,
      'InvalidRequestContent',
    );
    expect(old.target).toBe('properties.offerings[1].vmScanners.cloudRoleArn');
    const newer = await refused(
      { method: 'PUT', url: connectorUrl(sub, 'c', V2024), body: withRole('configuration') },
      400,
      'InvalidRequestContent',
    );
    expect(newer.target).toBe('properties.offerings[1].vmScanners.configuration.cloudRoleArn');
  });

  it('DevOps and 2024-08-01-preview environments are accepted by shape; an access token is stored, never answered', async () => {
    const { sub } = await world();
    const gitlab = await t.inject({
      method: 'PUT',
      url: connectorUrl(sub, 'gitlab', V2023),
      body: {
        location: 'centralus',
        properties: {
          hierarchyIdentifier: '15397162-d8b4-44d1-a5c4-024ca4aabd44',
          environmentName: 'GitLab',
          offerings: [{ offeringType: 'CspmMonitorGitLab' }, { offeringType: 'DefenderForDevOpsGitLab' }],
          environmentData: { environmentType: 'GitlabScope' },
        },
      },
    });
    expect(gitlab.status, JSON.stringify(gitlab.body)).toBe(201);
    const seenFrom2022 = await t.inject({ method: 'GET', url: connectorUrl(sub, 'gitlab', V2022) });
    expect(seenFrom2022.body.properties.offerings).toEqual([
      { offeringType: 'CspmMonitorGitLab' },
      { offeringType: 'DefenderForDevOpsGitLab' },
    ]);
    const seenFrom2024 = await t.inject({ method: 'GET', url: connectorUrl(sub, 'gitlab', V2024) });
    expect(seenFrom2024.body.properties.offerings).toEqual([
      { offeringType: 'CspmMonitorGitLab' },
      { offeringType: 'DefenderForDevOpsGitLab' },
    ]);

    const dockerHub = await t.inject({
      method: 'PUT',
      url: connectorUrl(sub, 'dockerhub', V2024),
      body: {
        location: 'centralus',
        properties: {
          hierarchyIdentifier: 'contoso',
          environmentName: 'DockerHub',
          offerings: [
            { offeringType: 'CspmMonitorDockerHub' },
            { offeringType: 'DefenderForContainersDockerHub' },
          ],
          environmentData: {
            environmentType: 'DockerHubOrganization',
            authentication: {
              authenticationType: 'AccessToken',
              username: 'contoso-bot',
              accessToken: 'dckr_pat_secret',
            },
            scanInterval: 24,
          },
        },
      },
    });
    expect(dockerHub.status, JSON.stringify(dockerHub.body)).toBe(201);
    expect(dockerHub.body.properties.environmentData.authentication).toEqual({
      authenticationType: 'AccessToken',
      username: 'contoso-bot',
    });
    expect(dockerHub.text).not.toContain('dckr_pat_secret');
  });
});

describe('security connectors: bad input is refused with an ARM error and nothing is written', () => {
  const base = () => gcpConnector();
  const mutate = (change: (body: any) => void) => {
    const body = base();
    change(body);
    return body;
  };
  const servers = (body: any) => body.properties.offerings[1];

  const cases: [string, unknown, number, string, string | undefined, string?][] = [
    [
      'an unknown top-level member',
      mutate((b) => {
        b.sku = 'Free';
      }),
      400,
      'InvalidRequestContent',
      'sku',
    ],
    [
      'an unknown member of properties',
      mutate((b) => {
        b.properties.cloudName = 'GCP';
      }),
      400,
      'InvalidRequestContent',
      'properties.cloudName',
    ],
    [
      'an unknown member of vaAutoProvisioning',
      mutate((b) => {
        servers(b).vaAutoProvisioning.solution = 'TVM';
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[1].vaAutoProvisioning.solution',
    ],
    [
      'a VA solution that is neither TVM nor Qualys',
      mutate((b) => {
        servers(b).vaAutoProvisioning.configuration.type = 'Rapid7';
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[1].vaAutoProvisioning.configuration.type',
    ],
    [
      'a sub-plan string that is not P1 or P2',
      mutate((b) => {
        servers(b).subPlan = 'P3';
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[1].subPlan.type',
    ],
    [
      'a sub-plan object that is not P1 or P2',
      mutate((b) => {
        servers(b).subPlan = { type: 'P3' };
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[1].subPlan.type',
    ],
    [
      'a sub-plan that is a number',
      mutate((b) => {
        servers(b).subPlan = 2;
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[1].subPlan',
    ],
    [
      'enabled that is not a boolean',
      mutate((b) => {
        servers(b).vaAutoProvisioning.enabled = 'yes';
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[1].vaAutoProvisioning.enabled',
    ],
    [
      'an unknown offering type',
      mutate((b) => {
        servers(b).offeringType = 'DefenderForServersAzure';
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[1].offeringType',
    ],
    [
      'an offering without offeringType',
      mutate((b) => {
        delete servers(b).offeringType;
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[1].offeringType',
    ],
    [
      'an offering of a later api-version',
      mutate((b) => {
        b.properties.offerings.push({ offeringType: 'CspmMonitorGitLab' });
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[2].offeringType',
      V2022,
    ],
    [
      'an offering dropped by 2024-08-01-preview',
      mutate((b) => {
        b.properties.environmentName = 'Github';
        b.properties.environmentData = { environmentType: 'GithubScope' };
        b.properties.offerings = [{ offeringType: 'DefenderForDevOpsGithub' }];
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[0].offeringType',
      V2024,
    ],
    [
      'offerings that are not a list',
      mutate((b) => {
        b.properties.offerings = { offeringType: 'CspmMonitorGcp' };
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings',
    ],
    [
      'a null offering',
      mutate((b) => {
        b.properties.offerings.push(null);
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[2]',
    ],
    [
      'an unknown environment type',
      mutate((b) => {
        b.properties.environmentData.environmentType = 'AzureSubscription';
      }),
      400,
      'InvalidRequestContent',
      'properties.environmentData.environmentType',
    ],
    [
      'environment data without environmentType',
      mutate((b) => {
        delete b.properties.environmentData.environmentType;
      }),
      400,
      'InvalidRequestContent',
      'properties.environmentData.environmentType',
    ],
    [
      'environment data that is a list',
      mutate((b) => {
        b.properties.environmentData = [];
      }),
      400,
      'InvalidRequestContent',
      'properties.environmentData',
    ],
    [
      'an unknown organization membership type',
      mutate((b) => {
        b.properties.environmentData.organizationalData = { organizationMembershipType: 'Child' };
      }),
      400,
      'InvalidRequestContent',
      'properties.environmentData.organizationalData.organizationMembershipType',
    ],
    [
      'a member of the Organization variant on a Member',
      mutate((b) => {
        b.properties.environmentData.organizationalData = {
          organizationMembershipType: 'Member',
          excludedProjectNumbers: ['1'],
        };
      }),
      400,
      'InvalidRequestContent',
      'properties.environmentData.organizationalData.excludedProjectNumbers',
    ],
    [
      'a project number that is a number',
      mutate((b) => {
        b.properties.environmentData.projectDetails.projectNumber = 123456789012;
      }),
      400,
      'InvalidRequestContent',
      'properties.environmentData.projectDetails.projectNumber',
    ],
    [
      'a hierarchyIdentifier that is a number',
      mutate((b) => {
        b.properties.hierarchyIdentifier = 123456789012;
      }),
      400,
      'InvalidRequestContent',
      'properties.hierarchyIdentifier',
    ],
    [
      'exclusion tags whose value is not a string',
      mutate((b) => {
        b.properties.offerings[0] = {
          offeringType: 'DefenderCspmGcp',
          vmScanners: { enabled: true, configuration: { exclusionTags: { skip: true } } },
        };
      }),
      400,
      'InvalidRequestContent',
      'properties.offerings[0].vmScanners.configuration.exclusionTags.skip',
      V2023,
    ],
    [
      'an unknown environment name',
      mutate((b) => {
        b.properties.environmentName = 'OCI';
      }),
      400,
      'InvalidRequestContent',
      'properties.environmentName',
    ],
    [
      'environmentName GCP with AwsAccount data',
      mutate((b) => {
        b.properties.environmentData = { environmentType: 'AwsAccount' };
      }),
      400,
      'InvalidInputJson',
      'properties.environmentData.environmentType',
    ],
    [
      'an AWS offering on a GCP connector',
      mutate((b) => {
        b.properties.offerings.push({ offeringType: 'CspmMonitorAws' });
      }),
      400,
      'InvalidInputJson',
      'properties.offerings[2].offeringType',
    ],
    [
      'the same offering twice',
      mutate((b) => {
        b.properties.offerings.push({ offeringType: 'CspmMonitorGcp' });
      }),
      400,
      'InvalidInputJson',
      'properties.offerings[2]',
    ],
    ['no properties', { location: 'westeurope' }, 400, 'InvalidRequestContent', 'properties'],
    [
      'no environmentName',
      mutate((b) => {
        delete b.properties.environmentName;
      }),
      400,
      'InvalidRequestContent',
      'properties.environmentName',
    ],
    [
      'no hierarchyIdentifier',
      mutate((b) => {
        delete b.properties.hierarchyIdentifier;
      }),
      400,
      'InvalidRequestContent',
      'properties.hierarchyIdentifier',
    ],
    [
      'no environmentData',
      mutate((b) => {
        delete b.properties.environmentData;
      }),
      400,
      'InvalidRequestContent',
      'properties.environmentData',
    ],
    [
      'no location',
      mutate((b) => {
        delete b.location;
      }),
      400,
      'LocationRequired',
      'location',
    ],
    [
      'a location Azure does not have',
      mutate((b) => {
        b.location = 'moon-west';
      }),
      400,
      'LocationNotAvailableForResourceType',
      undefined,
    ],
    [
      'tags that are not strings',
      mutate((b) => {
        b.tags = { owner: 42 };
      }),
      400,
      'InvalidRequestContent',
      undefined,
    ],
    ['a body that is a list', [], 400, 'InvalidRequestContent', undefined],
    [
      'a name in the body that is not the URI name',
      mutate((b) => {
        b.name = 'someone-else';
      }),
      400,
      'InvalidInputJson',
      'name',
    ],
    [
      'a JFrog scan interval over 24 hours',
      {
        location: 'westeurope',
        properties: {
          hierarchyIdentifier: 'x',
          environmentName: 'JFrog',
          environmentData: { environmentType: 'JFrogArtifactory', scanInterval: 30 },
        },
      },
      400,
      'InvalidRequestContent',
      'properties.environmentData.scanInterval',
      V2024,
    ],
  ];

  it.each(cases)('%s', async (_title, body, status, code, target, version = V2022) => {
    const { sub } = await world();
    const error = await refused(
      { method: 'PUT', url: connectorUrl(sub, 'bad', version), body },
      status,
      code,
    );
    if (target !== undefined) expect(error.target === undefined ? 'undefined' : error.target).toBe(target);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('a refused update leaves the stored connector as it was', async () => {
    const { sub } = await world();
    const url = connectorUrl(sub, 'kept', V2022);
    const created = await t.inject({ method: 'PUT', url, body: gcpConnector() });
    const bad = gcpConnector({ va: 'TVM' });
    (bad.properties.offerings[1] as Record<string, unknown>).subPlan = 'P3';
    await refused({ method: 'PUT', url, body: bad }, 400, 'InvalidRequestContent');
    await refused(
      { method: 'PUT', url, body: { ...gcpConnector(), location: 'eastus' } },
      409,
      'InvalidResourceLocation',
    );
    const after = await t.inject({ method: 'GET', url });
    expect(after.body).toEqual(created.body);
  });
});
