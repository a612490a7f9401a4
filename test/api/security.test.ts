import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { virtualMachineRecord } from '../../src/providers/compute/model.js';
import { arcMachineRecord } from '../../src/providers/hybridcompute/model.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { putResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const VA_PREVIEW = 'api-version=2022-01-01-preview';
const VA_STABLE = 'api-version=2023-05-01';
const P2023 = 'api-version=2023-01-01';
const P2024 = 'api-version=2024-01-01';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ listen: false });
});
afterAll(() => t.close());

/** A fresh subscription per test keeps the tests independent of each other's writes. */
async function subscription(): Promise<string> {
  const subscriptionId = randomUUID();
  await addSubscription(t.server, { subscriptionId });
  return subscriptionId;
}

async function rowCount(): Promise<number> {
  const row = await t.server.store.db
    .selectFrom('resources')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

type Request = Parameters<TestServer['inject']>[0];

/** Sends a request that must be refused with `status`/`code`, and proves that nothing was written. */
async function refused(request: Request, status: number, code: string): Promise<{ message: string }> {
  const before = await rowCount();
  const response = await t.inject(request);
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(typeof response.body.error.message).toBe('string');
  expect(await rowCount()).toBe(before);
  return response.body.error;
}

async function machine(subscriptionId: string, kind: 'vm' | 'arc' = 'vm'): Promise<string> {
  const now = new Date().toISOString();
  await putResource(
    t.server.store.db,
    resourceGroupRecord({ subscriptionId, name: 'DEMO', location: 'westeurope', now }),
  );
  const record =
    kind === 'vm'
      ? virtualMachineRecord({
          subscriptionId,
          resourceGroup: 'DEMO',
          name: 'VM-1',
          location: 'westeurope',
          osType: 'Linux',
          image: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server' },
          powerState: 'running',
          now,
        })
      : arcMachineRecord({
          subscriptionId,
          resourceGroup: 'DEMO',
          name: 'arc-1',
          location: 'westeurope',
          osType: 'linux',
          status: 'Connected',
          now,
        });
  await putResource(t.server.store.db, record);
  return record.id;
}

describe('serverVulnerabilityAssessmentsSettings', () => {
  const path = (subscriptionId: string, name = 'AzureServersSetting') =>
    `/subscriptions/${subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/${name}`;

  it("the PUT printed on Microsoft's transition page works byte for byte at 2022-01-01-preview (200)", async () => {
    const sub = await subscription();
    const response = await t.inject({
      method: 'PUT',
      url: `${path(sub)}?${VA_PREVIEW}`,
      body: '{"kind":"AzureServersSetting","properties":{"selectedProvider":"MdeTvm"}}',
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: `/subscriptions/${sub}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
      name: 'AzureServersSetting',
      type: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
      kind: 'AzureServersSetting',
      properties: { selectedProvider: 'MdeTvm' },
      systemData: { createdByType: 'User', lastModifiedByType: 'User' },
    });
    expect(response.body.systemData.createdAt).toBe(response.body.systemData.lastModifiedAt);
  });

  it('GET of an unset setting answers 404 ResourceNotFound, and the list is empty', async () => {
    const sub = await subscription();
    const missing = await t.inject({ method: 'GET', url: `${path(sub)}?${VA_STABLE}` });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({
      code: 'ResourceNotFound',
      message: `Server vulnerability assessments setting 'AzureServersSetting' does not exist in scope '${sub}'`,
    });
    const list = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings?${VA_STABLE}`,
    });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ value: [] });
  });

  it('PUT of an unset setting at 2023-05-01 answers 201, an update 200, and the name is normalised to AzureServersSetting', async () => {
    const sub = await subscription();
    const body = { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm' } };
    const created = await t.inject({
      method: 'PUT',
      url: `${path(sub, 'azureServersSetting')}?${VA_STABLE}`,
      body,
    });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('AzureServersSetting');
    expect(created.body.id).toBe(
      `/subscriptions/${sub}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
    );
    const updated = await t.inject({
      method: 'PUT',
      url: `${path(sub, 'AZURESERVERSSETTING')}?${VA_STABLE}`,
      body,
    });
    expect(updated.status).toBe(200);
    expect(updated.body.systemData.createdAt).toBe(created.body.systemData.createdAt);
    const got = await t.inject({
      method: 'GET',
      url: `/SUBSCRIPTIONS/${sub}/PROVIDERS/microsoft.security/SERVERVULNERABILITYASSESSMENTSSETTINGS/azureserverssetting?${VA_STABLE}`,
    });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(updated.body);
    expect(got.headers.etag).toBe(updated.headers.etag);
    const list = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings?${VA_PREVIEW}`,
    });
    expect(list.body.value).toEqual([got.body]);
  });

  it('a PUT at the preview always answers 200, even when it creates the setting', async () => {
    const sub = await subscription();
    const body = { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm' } };
    expect((await t.inject({ method: 'PUT', url: `${path(sub)}?${VA_PREVIEW}`, body })).status).toBe(200);
    expect((await t.inject({ method: 'PUT', url: `${path(sub)}?${VA_PREVIEW}`, body })).status).toBe(200);
  });

  it('Terraform-shaped body (name and an odd type echoed) is accepted', async () => {
    const sub = await subscription();
    const response = await t.inject({
      method: 'PUT',
      url: `${path(sub)}?${VA_STABLE}`,
      body: {
        type: 'AzureServersSetting',
        name: 'AzureServersSetting',
        kind: 'AzureServersSetting',
        properties: { selectedProvider: 'MdeTvm' },
      },
    });
    expect(response.status).toBe(201);
    expect(response.body.type).toBe('Microsoft.Security/serverVulnerabilityAssessmentsSettings');
  });

  it('DELETE answers 200 when it removes the setting, then 204, and GET answers 404 again', async () => {
    const sub = await subscription();
    const body = { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm' } };
    await t.inject({ method: 'PUT', url: `${path(sub)}?${VA_STABLE}`, body });
    const removed = await t.inject({
      method: 'DELETE',
      url: `${path(sub, 'azureServersSetting')}?${VA_STABLE}`,
    });
    expect(removed.status).toBe(200);
    expect(removed.text).toBe('');
    expect((await t.inject({ method: 'DELETE', url: `${path(sub)}?${VA_PREVIEW}` })).status).toBe(204);
    expect((await t.inject({ method: 'GET', url: `${path(sub)}?${VA_STABLE}` })).status).toBe(404);
  });

  it('refuses bad input with an ARM error and writes nothing', async () => {
    const sub = await subscription();
    const url = `${path(sub)}?${VA_STABLE}`;
    const wrongKind = await refused(
      { method: 'PUT', url, body: { kind: 'AwsServersSetting', properties: { selectedProvider: 'MdeTvm' } } },
      400,
      'InvalidRequestContent',
    );
    expect(wrongKind.message).toBe(
      "The value 'AwsServersSetting' is not valid for 'kind'. The allowed values are 'AzureServersSetting'.",
    );
    await refused(
      { method: 'PUT', url, body: { properties: { selectedProvider: 'MdeTvm' } } },
      400,
      'InvalidRequestContent',
    );
    const qualys = await refused(
      {
        method: 'PUT',
        url,
        body: { kind: 'AzureServersSetting', properties: { selectedProvider: 'Qualys' } },
      },
      400,
      'InvalidRequestContent',
    );
    expect(qualys.message).toBe(
      "The value 'Qualys' is not valid for 'properties.selectedProvider'. The allowed values are 'MdeTvm'.",
    );
    await refused(
      { method: 'PUT', url, body: { kind: 'AzureServersSetting', properties: {} } },
      400,
      'InvalidRequestContent',
    );
    await refused(
      { method: 'PUT', url, body: { kind: 'AzureServersSetting' } },
      400,
      'InvalidRequestContent',
    );
    const unknown = await refused(
      {
        method: 'PUT',
        url,
        body: { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm', scanner: 'x' } },
      },
      400,
      'InvalidRequestContent',
    );
    expect(unknown.message).toContain("Could not find member 'scanner'");
    await refused(
      {
        method: 'PUT',
        url,
        body: {
          kind: 'AzureServersSetting',
          location: 'westeurope',
          properties: { selectedProvider: 'MdeTvm' },
        },
      },
      400,
      'InvalidRequestContent',
    );
    await refused(
      {
        method: 'PUT',
        url,
        body: {
          name: 'OtherSetting',
          kind: 'AzureServersSetting',
          properties: { selectedProvider: 'MdeTvm' },
        },
      },
      400,
      'InvalidInputJson',
    );
    await refused(
      {
        method: 'PUT',
        url,
        body: {
          id: `/subscriptions/${randomUUID()}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
          kind: 'AzureServersSetting',
          properties: { selectedProvider: 'MdeTvm' },
        },
      },
      400,
      'InvalidInputJson',
    );
    await refused({ method: 'PUT', url, body: '[1]' }, 400, 'InvalidRequestContent');
    const name = await refused(
      {
        method: 'PUT',
        url: `${path(sub, 'AwsServersSetting')}?${VA_STABLE}`,
        body: { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm' } },
      },
      400,
      'InvalidResourceName',
    );
    expect(name.message).toBe(
      "The resource name 'AwsServersSetting' is invalid for resource type 'Microsoft.Security/serverVulnerabilityAssessmentsSettings'. The supported names are 'AzureServersSetting'.",
    );
  });

  it('honours If-Match: a stale etag is refused with 412 and nothing changes', async () => {
    const sub = await subscription();
    const body = { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm' } };
    const created = await t.inject({ method: 'PUT', url: `${path(sub)}?${VA_STABLE}`, body });
    await refused(
      { method: 'PUT', url: `${path(sub)}?${VA_STABLE}`, body, headers: { 'if-match': '"stale"' } },
      412,
      'PreconditionFailed',
    );
    await refused(
      { method: 'DELETE', url: `${path(sub)}?${VA_STABLE}`, headers: { 'if-match': '"stale"' } },
      412,
      'PreconditionFailed',
    );
    await refused(
      { method: 'PUT', url: `${path(sub)}?${VA_STABLE}`, body, headers: { 'if-none-match': '*' } },
      412,
      'PreconditionFailed',
    );
    const matched = await t.inject({
      method: 'PUT',
      url: `${path(sub)}?${VA_STABLE}`,
      body,
      headers: { 'if-match': created.headers.etag as string },
    });
    expect(matched.status).toBe(200);
  });

  it('unknown api-versions and subscriptions are ARM errors', async () => {
    const sub = await subscription();
    const version = await t.inject({ method: 'GET', url: `${path(sub)}?api-version=2020-01-01` });
    expect(version.status).toBe(400);
    expect(version.body.error).toEqual({
      code: 'InvalidApiVersionParameter',
      message:
        "The api-version '2020-01-01' is invalid. The supported versions are '2023-05-01,2022-01-01-preview'.",
    });
    const absent = randomUUID();
    const missing = await t.inject({
      method: 'PUT',
      url: `${path(absent)}?${VA_STABLE}`,
      body: { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm' } },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('SubscriptionNotFound');
  });
});

describe('pricings at subscription scope', () => {
  const plan = (subscriptionId: string, name: string) =>
    `/subscriptions/${subscriptionId}/providers/Microsoft.Security/pricings/${name}`;

  it('a subscription without pricing rows reads Free for every plan, deprecated plans flagged', async () => {
    const sub = await subscription();
    const list = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings?${P2023}`,
    });
    expect(list.status).toBe(200);
    const names = list.body.value.map((item: { name: string }) => item.name);
    expect(names).toEqual([
      'VirtualMachines',
      'SqlServers',
      'AppServices',
      'StorageAccounts',
      'SqlServerVirtualMachines',
      'KubernetesService',
      'ContainerRegistry',
      'KeyVaults',
      'Dns',
      'Arm',
      'OpenSourceRelationalDatabases',
      'Containers',
      'CloudPosture',
      'Api',
      'CosmosDbs',
      'AI',
    ]);
    expect(list.body.nextLink).toBeUndefined();
    for (const item of list.body.value) expect(item.properties.pricingTier).toBe('Free');
    const kubernetes = list.body.value.find((item: { name: string }) => item.name === 'KubernetesService');
    expect(kubernetes).toEqual({
      id: `/subscriptions/${sub}/providers/Microsoft.Security/pricings/KubernetesService`,
      name: 'KubernetesService',
      type: 'Microsoft.Security/pricings',
      properties: {
        pricingTier: 'Free',
        freeTrialRemainingTime: 'PT0S',
        deprecated: true,
        replacedBy: ['Containers'],
      },
    });
    const vm = await t.inject({ method: 'GET', url: `${plan(sub, 'virtualmachines')}?${P2024}` });
    expect(vm.body).toEqual({
      id: `/subscriptions/${sub}/providers/Microsoft.Security/pricings/VirtualMachines`,
      name: 'VirtualMachines',
      type: 'Microsoft.Security/pricings',
      properties: {
        pricingTier: 'Free',
        freeTrialRemainingTime: 'PT0S',
        enforce: 'False',
        resourcesCoverageStatus: 'NotCovered',
      },
    });
  });

  it('PUT VirtualMachines P2 lists every extension of the plan, operationStatus on enabled ones only; GET omits it', async () => {
    const sub = await subscription();
    const put = await t.inject({
      method: 'PUT',
      url: `${plan(sub, 'VirtualMachines')}?${P2023}`,
      body: { properties: { pricingTier: 'standard', subPlan: 'p2' } },
    });
    expect(put.status).toBe(200);
    expect(put.body.properties).toMatchObject({
      pricingTier: 'Standard',
      subPlan: 'P2',
      freeTrialRemainingTime: 'PT0S',
    });
    expect(Date.parse(put.body.properties.enablementTime)).not.toBeNaN();
    expect(put.body.properties.extensions).toEqual([
      { name: 'MdeDesignatedSubscription', isEnabled: 'False' },
      {
        name: 'AgentlessVmScanning',
        isEnabled: 'True',
        operationStatus: { code: 'Succeeded', message: 'Successfully enabled extension' },
      },
      { name: 'FileIntegrityMonitoring', isEnabled: 'False' },
    ]);
    expect(put.body.properties.enforce).toBeUndefined();
    const got = await t.inject({ method: 'GET', url: `${plan(sub, 'VirtualMachines')}?${P2023}` });
    expect(got.body.properties.extensions).toEqual([
      { name: 'MdeDesignatedSubscription', isEnabled: 'False' },
      { name: 'AgentlessVmScanning', isEnabled: 'True' },
      { name: 'FileIntegrityMonitoring', isEnabled: 'False' },
    ]);
    expect(got.body.properties.enablementTime).toBe(put.body.properties.enablementTime);
  });

  it('at 2024-01-01 the first PUT answers 201 and the next 200, with enforce and coverage', async () => {
    const sub = await subscription();
    const body = { properties: { pricingTier: 'Standard', subPlan: 'P2', enforce: 'True' } };
    const created = await t.inject({ method: 'PUT', url: `${plan(sub, 'VirtualMachines')}?${P2024}`, body });
    expect(created.status).toBe(201);
    expect(created.body.properties).toMatchObject({
      enforce: 'True',
      resourcesCoverageStatus: 'FullyCovered',
    });
    const again = await t.inject({ method: 'PUT', url: `${plan(sub, 'VirtualMachines')}?${P2024}`, body });
    expect(again.status).toBe(200);
    expect(again.body.properties.enablementTime).toBe(created.body.properties.enablementTime);
  });

  it('a PUT without extensions keeps their state; sent extensions and their properties are stored', async () => {
    const sub = await subscription();
    const url = `${plan(sub, 'VirtualMachines')}?${P2024}`;
    await t.inject({
      method: 'PUT',
      url,
      body: {
        properties: {
          pricingTier: 'Standard',
          subPlan: 'P2',
          extensions: [
            { name: 'AgentlessVmScanning', isEnabled: 'false' },
            {
              name: 'MdeDesignatedSubscription',
              isEnabled: 'True',
              additionalExtensionProperties: { ExclusionTags: '[]' },
            },
          ],
        },
      },
    });
    const kept = await t.inject({
      method: 'PUT',
      url,
      body: { properties: { pricingTier: 'Standard', subPlan: 'P2' } },
    });
    expect(kept.body.properties.extensions).toEqual([
      {
        name: 'MdeDesignatedSubscription',
        isEnabled: 'True',
        additionalExtensionProperties: { ExclusionTags: '[]' },
        operationStatus: { code: 'Succeeded', message: 'Successfully enabled extension' },
      },
      { name: 'AgentlessVmScanning', isEnabled: 'False' },
      { name: 'FileIntegrityMonitoring', isEnabled: 'False' },
    ]);
  });

  it('AgentlessVmScanning on P1 is refused with InvalidInputJson as Azure words it, even when disabled', async () => {
    const sub = await subscription();
    for (const isEnabled of ['True', 'False']) {
      const error = await refused(
        {
          method: 'PUT',
          url: `${plan(sub, 'VirtualMachines')}?${P2024}`,
          body: {
            properties: {
              pricingTier: 'Standard',
              subPlan: 'P1',
              extensions: [{ name: 'AgentlessVmScanning', isEnabled }],
            },
          },
        },
        400,
        'InvalidInputJson',
      );
      expect(error.message).toBe(
        "Extension with name 'AgentlessVmScanning' is not supported for 'VirtualMachines' plan and 'P1' SubPlan",
      );
    }
    const onDns = await refused(
      {
        method: 'PUT',
        url: `${plan(sub, 'Dns')}?${P2024}`,
        body: {
          properties: {
            pricingTier: 'Standard',
            extensions: [{ name: 'AgentlessVmScanning', isEnabled: 'True' }],
          },
        },
      },
      400,
      'InvalidInputJson',
    );
    expect(onDns.message).toBe("Extension with name 'AgentlessVmScanning' is not supported for 'Dns' plan");
  });

  it('P1 offers MdeDesignatedSubscription only; moving P2 → P1 drops the P2 extensions', async () => {
    const sub = await subscription();
    const url = `${plan(sub, 'VirtualMachines')}?${P2023}`;
    await t.inject({ method: 'PUT', url, body: { properties: { pricingTier: 'Standard' } } });
    const p1 = await t.inject({
      method: 'PUT',
      url,
      body: { properties: { pricingTier: 'Standard', subPlan: 'P1' } },
    });
    expect(p1.body.properties.subPlan).toBe('P1');
    expect(p1.body.properties.extensions).toEqual([
      { name: 'MdeDesignatedSubscription', isEnabled: 'False' },
    ]);
  });

  it('Free drops sub-plan and extensions, and Free with an enabled extension is accepted (the extension is dropped)', async () => {
    const sub = await subscription();
    const url = `${plan(sub, 'CloudPosture')}?${P2024}`;
    await t.inject({ method: 'PUT', url, body: { properties: { pricingTier: 'Standard' } } });
    const free = await t.inject({
      method: 'PUT',
      url,
      body: {
        properties: {
          pricingTier: 'Free',
          subPlan: 'P2',
          extensions: [{ name: 'ContainerRegistriesVulnerabilityAssessments', isEnabled: 'True' }],
        },
      },
    });
    expect(free.status).toBe(200);
    expect(free.body.properties).toEqual({
      pricingTier: 'Free',
      freeTrialRemainingTime: 'PT0S',
      enforce: 'False',
      resourcesCoverageStatus: 'NotCovered',
    });
  });

  it('the full plan applies when no sub-plan is named; Api has none, so it must be named', async () => {
    const sub = await subscription();
    const vm = await t.inject({
      method: 'PUT',
      url: `${plan(sub, 'VirtualMachines')}?${P2023}`,
      body: { properties: { pricingTier: 'Standard' } },
    });
    expect(vm.body.properties.subPlan).toBe('P2');
    const api = await refused(
      {
        method: 'PUT',
        url: `${plan(sub, 'Api')}?${P2023}`,
        body: { properties: { pricingTier: 'Standard' } },
      },
      400,
      'InvalidInputJson',
    );
    expect(api.message).toContain("The 'Api' plan requires a SubPlan");
    const bad = await refused(
      {
        method: 'PUT',
        url: `${plan(sub, 'VirtualMachines')}?${P2023}`,
        body: { properties: { pricingTier: 'Standard', subPlan: 'P3' } },
      },
      400,
      'InvalidInputJson',
    );
    expect(bad.message).toBe(
      "SubPlan 'P3' is not supported for 'VirtualMachines' plan. The supported sub plans are 'P2, P1'.",
    );
  });

  it('deprecated sub-plans are refused unless the subscription already uses them', async () => {
    const sub = await subscription();
    const error = await refused(
      {
        method: 'PUT',
        url: `${plan(sub, 'KeyVaults')}?${P2024}`,
        body: { properties: { pricingTier: 'Standard', subPlan: 'PerTransaction' } },
      },
      400,
      'InvalidInputError',
    );
    expect(error.message).toBe(
      `Failed to enable the 'PerTransaction' sub plan on the 'KeyVaults' plan for subscription '${sub}' - this sub plan is deprecated and is no longer available for new subscriptions or for re-enabling after migrating away from it. Subscriptions already using it can continue. Please migrate to a supported sub plan.`,
    );
    const id = `/subscriptions/${sub}/providers/Microsoft.Security/pricings/KeyVaults`;
    const now = new Date().toISOString();
    await putResource(t.server.store.db, {
      key: id.toLowerCase(),
      id,
      type: 'microsoft.security/pricings',
      subscriptionId: sub,
      resourceGroup: null,
      parentKey: `/subscriptions/${sub}`,
      name: 'KeyVaults',
      body: {
        id,
        name: 'KeyVaults',
        type: 'Microsoft.Security/pricings',
        properties: { pricingTier: 'Standard', subPlan: 'PerTransaction', enablementTime: now },
      },
      etag: '"seeded"',
      createdAt: now,
      updatedAt: now,
    });
    const kept = await t.inject({
      method: 'PUT',
      url: `${plan(sub, 'KeyVaults')}?${P2024}`,
      body: { properties: { pricingTier: 'Standard', subPlan: 'PerTransaction' } },
    });
    expect(kept.status).toBe(200);
    expect(kept.body.properties.subPlan).toBe('PerTransaction');
  });

  it('refuses bad pricing input with an ARM error and writes nothing', async () => {
    const sub = await subscription();
    const url = `${plan(sub, 'VirtualMachines')}?${P2024}`;
    const tier = await refused(
      { method: 'PUT', url, body: { properties: { pricingTier: 'Premium' } } },
      400,
      'InvalidRequestContent',
    );
    expect(tier.message).toBe(
      "The value 'Premium' is not valid for 'properties.pricingTier'. The allowed values are 'Free, Standard'.",
    );
    await refused({ method: 'PUT', url, body: { properties: {} } }, 400, 'InvalidRequestContent');
    await refused({ method: 'PUT', url, body: {} }, 400, 'InvalidRequestContent');
    await refused(
      {
        method: 'PUT',
        url,
        body: {
          properties: {
            pricingTier: 'Standard',
            extensions: [{ name: 'AgentlessVmScanning', isEnabled: true }],
          },
        },
      },
      400,
      'InvalidRequestContent',
    );
    await refused(
      {
        method: 'PUT',
        url,
        body: {
          properties: {
            pricingTier: 'Standard',
            extensions: [{ name: 'AgentlessVmScanning', isEnabled: 'Yes' }],
          },
        },
      },
      400,
      'InvalidRequestContent',
    );
    await refused(
      {
        method: 'PUT',
        url,
        body: { properties: { pricingTier: 'Standard', extensions: [{ name: 'AgentlessVmScanning' }] } },
      },
      400,
      'InvalidRequestContent',
    );
    await refused(
      {
        method: 'PUT',
        url,
        body: {
          properties: {
            pricingTier: 'Standard',
            extensions: [{ name: 'AgentlessVmScanning', isEnabled: 'True', mode: 'x' }],
          },
        },
      },
      400,
      'InvalidRequestContent',
    );
    const readOnly = await refused(
      {
        method: 'PUT',
        url,
        body: { properties: { pricingTier: 'Standard', freeTrialRemainingTime: 'PT0S' } },
      },
      400,
      'InvalidInputJson',
    );
    expect(readOnly.message).toBe(
      "The property 'properties.freeTrialRemainingTime' is read-only and cannot be set in a request. Remove it from the request body.",
    );
    await refused(
      {
        method: 'PUT',
        url,
        body: { properties: { pricingTier: 'Standard', resourcesCoverageStatus: 'FullyCovered' } },
      },
      400,
      'InvalidInputJson',
    );
    await refused(
      {
        method: 'PUT',
        url,
        body: {
          properties: {
            pricingTier: 'Standard',
            extensions: [
              { name: 'AgentlessVmScanning', isEnabled: 'True', operationStatus: { code: 'Succeeded' } },
            ],
          },
        },
      },
      400,
      'InvalidInputJson',
    );
    await refused(
      {
        method: 'PUT',
        url,
        body: {
          properties: {
            pricingTier: 'Standard',
            extensions: [
              { name: 'AgentlessVmScanning', isEnabled: 'True' },
              { name: 'agentlessVmScanning', isEnabled: 'False' },
            ],
          },
        },
      },
      400,
      'InvalidInputJson',
    );
    await refused(
      { method: 'PUT', url, body: { properties: { pricingTier: 'Standard', enforce: 'Always' } } },
      400,
      'InvalidRequestContent',
    );
    const enforce2023 = await refused(
      {
        method: 'PUT',
        url: `${plan(sub, 'VirtualMachines')}?${P2023}`,
        body: { properties: { pricingTier: 'Standard', enforce: 'True' } },
      },
      400,
      'InvalidRequestContent',
    );
    expect(enforce2023.message).toContain(
      "Could not find member 'enforce' on object of type 'PricingProperties'",
    );
    const unknownPlan = await refused(
      {
        method: 'PUT',
        url: `${plan(sub, 'Printers')}?${P2024}`,
        body: { properties: { pricingTier: 'Standard' } },
      },
      400,
      'InvalidResourceName',
    );
    expect(unknownPlan.message).toContain(
      "The resource name 'Printers' is invalid for resource type 'Microsoft.Security/pricings'",
    );
    expect((await t.inject({ method: 'GET', url: `${plan(sub, 'Printers')}?${P2024}` })).status).toBe(400);
    await refused(
      { method: 'PUT', url, body: { name: 'Containers', properties: { pricingTier: 'Standard' } } },
      400,
      'InvalidInputJson',
    );
    await refused({ method: 'DELETE', url }, 405, 'MethodNotAllowed');
  });

  it('filters the list with $filter=name in (...) at 2024-01-01 only', async () => {
    const sub = await subscription();
    const list = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings?${P2024}&$filter=${encodeURIComponent('name in (VirtualMachines, keyvaults)')}`,
    });
    expect(list.status).toBe(200);
    expect(list.body.value.map((item: { name: string }) => item.name)).toEqual([
      'VirtualMachines',
      'KeyVaults',
    ]);
    const bad = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings?${P2024}&$filter=${encodeURIComponent("pricingTier eq 'Standard'")}`,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('InvalidQueryParameterValue');
    const old = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings?${P2023}&$filter=${encodeURIComponent('name in (Dns)')}`,
    });
    expect(old.status).toBe(400);
  });
});

describe('pricings at resource scope (2024-01-01)', () => {
  const pricing = (scope: string, name = 'VirtualMachines') =>
    `${scope}/providers/Microsoft.Security/pricings/${name}`;

  it('a machine without its own pricing inherits the subscription pricing', async () => {
    const sub = await subscription();
    const vm = await machine(sub);
    await t.inject({
      method: 'PUT',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings/VirtualMachines?${P2024}`,
      body: { properties: { pricingTier: 'Standard', subPlan: 'P2' } },
    });
    const got = await t.inject({ method: 'GET', url: `${pricing(vm, 'virtualMachines')}?${P2024}` });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      id: `${vm}/providers/Microsoft.Security/pricings/VirtualMachines`,
      name: 'VirtualMachines',
      type: 'Microsoft.Security/pricings',
      properties: {
        pricingTier: 'Standard',
        subPlan: 'P2',
        inherited: 'True',
        inheritedFrom: `/subscriptions/${sub}`,
      },
    });
    expect(got.body.properties.enforce).toBeUndefined();
    expect(got.body.properties.resourcesCoverageStatus).toBeUndefined();
    const list = await t.inject({
      method: 'GET',
      url: `${vm}/providers/Microsoft.Security/pricings?${P2024}`,
    });
    expect(list.body.value).toEqual([got.body]);
  });

  it('PUT P1 on a VM answers 201 with inherited False; GET returns it; DELETE falls back to the subscription', async () => {
    const sub = await subscription();
    const vm = await machine(sub);
    const created = await t.inject({
      method: 'PUT',
      url: `${pricing(vm, 'virtualMachines')}?${P2024}`,
      body: { properties: { pricingTier: 'Standard', subPlan: 'P1' } },
    });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('VirtualMachines');
    expect(created.body.properties).toMatchObject({
      pricingTier: 'Standard',
      subPlan: 'P1',
      inherited: 'False',
      inheritedFrom: null,
      extensions: [{ name: 'MdeDesignatedSubscription', isEnabled: 'False' }],
    });
    const subscriptionLevel = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings/VirtualMachines?${P2024}`,
    });
    expect(subscriptionLevel.body.properties).toMatchObject({
      pricingTier: 'Free',
      resourcesCoverageStatus: 'PartiallyCovered',
    });
    const again = await t.inject({
      method: 'PUT',
      url: `${pricing(vm)}?${P2024}`,
      body: { properties: { pricingTier: 'Free' } },
    });
    expect(again.status).toBe(200);
    expect(again.body.properties).toEqual({
      pricingTier: 'Free',
      freeTrialRemainingTime: 'PT0S',
      inherited: 'False',
      inheritedFrom: null,
    });
    expect((await t.inject({ method: 'DELETE', url: `${pricing(vm)}?${P2024}` })).status).toBe(200);
    expect((await t.inject({ method: 'DELETE', url: `${pricing(vm)}?${P2024}` })).status).toBe(204);
    const inherited = await t.inject({ method: 'GET', url: `${pricing(vm)}?${P2024}` });
    expect(inherited.body.properties.inherited).toBe('True');
  });

  it('Arc machines take resource-level pricing too', async () => {
    const sub = await subscription();
    const arc = await machine(sub, 'arc');
    const created = await t.inject({
      method: 'PUT',
      url: `${pricing(arc)}?${P2024}`,
      body: { properties: { pricingTier: 'Standard', subPlan: 'P1' } },
    });
    expect(created.status).toBe(201);
  });

  it('enforce at the subscription makes machines inherit and refuses their own pricing', async () => {
    const sub = await subscription();
    const vm = await machine(sub);
    await t.inject({
      method: 'PUT',
      url: `${pricing(vm)}?${P2024}`,
      body: { properties: { pricingTier: 'Free' } },
    });
    await t.inject({
      method: 'PUT',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings/VirtualMachines?${P2024}`,
      body: { properties: { pricingTier: 'Standard', subPlan: 'P2', enforce: 'True' } },
    });
    const got = await t.inject({ method: 'GET', url: `${pricing(vm)}?${P2024}` });
    expect(got.body.properties).toMatchObject({ pricingTier: 'Standard', subPlan: 'P2', inherited: 'True' });
    const error = await refused(
      {
        method: 'PUT',
        url: `${pricing(vm)}?${P2024}`,
        body: { properties: { pricingTier: 'Standard', subPlan: 'P1' } },
      },
      409,
      'OperationNotAllowed',
    );
    expect(error.message).toContain("enforced by '/subscriptions/");
  });

  it('refuses what resource level does not support, writing nothing', async () => {
    const sub = await subscription();
    const vm = await machine(sub);
    await refused(
      {
        method: 'PUT',
        url: `${pricing(vm)}?${P2024}`,
        body: { properties: { pricingTier: 'Standard', subPlan: 'P2' } },
      },
      400,
      'InvalidInputJson',
    );
    await refused(
      { method: 'PUT', url: `${pricing(vm)}?${P2024}`, body: { properties: { pricingTier: 'Standard' } } },
      400,
      'InvalidInputJson',
    );
    await refused(
      {
        method: 'PUT',
        url: `${pricing(vm)}?${P2024}`,
        body: { properties: { pricingTier: 'Free', enforce: 'True' } },
      },
      400,
      'InvalidInputJson',
    );
    await refused(
      {
        method: 'PUT',
        url: `${pricing(vm, 'Containers')}?${P2024}`,
        body: { properties: { pricingTier: 'Standard' } },
      },
      400,
      'InvalidInputJson',
    );
    await refused(
      {
        method: 'PUT',
        url: `${pricing(vm)}?${P2023}`,
        body: { properties: { pricingTier: 'Standard', subPlan: 'P1' } },
      },
      404,
      'InvalidResourceType',
    );
    const missing = `/subscriptions/${sub}/resourceGroups/DEMO/providers/Microsoft.Compute/virtualMachines/nope`;
    await refused(
      { method: 'PUT', url: `${pricing(missing)}?${P2024}`, body: { properties: { pricingTier: 'Free' } } },
      404,
      'ResourceNotFound',
    );
    await refused(
      {
        method: 'PUT',
        url: `/subscriptions/${sub}/resourceGroups/DEMO/providers/Microsoft.Security/pricings/VirtualMachines?${P2024}`,
        body: { properties: { pricingTier: 'Free' } },
      },
      404,
      'InvalidResourceType',
    );
  });
});

describe('settings', () => {
  const setting = (subscriptionId: string, name: string) =>
    `/subscriptions/${subscriptionId}/providers/Microsoft.Security/settings/${name}`;

  it('unset settings read with their defaults: MCAS enabled, the others disabled', async () => {
    const sub = await subscription();
    const list = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/settings?api-version=2022-05-01`,
    });
    expect(list.status).toBe(200);
    expect(list.body.value).toEqual(
      [
        ['MCAS', 'DataExportSettings', true],
        ['WDATP', 'DataExportSettings', false],
        ['WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW', 'DataExportSettings', false],
        ['WDATP_UNIFIED_SOLUTION', 'DataExportSettings', false],
        ['Sentinel', 'AlertSyncSettings', false],
      ].map(([name, kind, enabled]) => ({
        id: `/subscriptions/${sub}/providers/Microsoft.Security/settings/${name}`,
        name,
        kind,
        type: 'Microsoft.Security/settings',
        properties: { enabled },
      })),
    );
    const wdatp = await t.inject({ method: 'GET', url: `${setting(sub, 'wdatp')}?api-version=2019-01-01` });
    expect(wdatp.status).toBe(200);
    expect(wdatp.body.name).toBe('WDATP');
    expect(wdatp.body.properties.enabled).toBe(false);
  });

  it('the MDE integration body from the docs enables WDATP at every api-version (200)', async () => {
    const sub = await subscription();
    for (const version of ['2019-01-01', '2021-06-01', '2021-07-01', '2022-05-01', '2023-01-01']) {
      const enabled = version !== '2021-06-01';
      const response = await t.inject({
        method: 'PUT',
        url: `${setting(sub, 'WDATP')}?api-version=${version}`,
        body: {
          name: 'WDATP',
          type: 'Microsoft.Security/settings',
          kind: 'DataExportSettings',
          properties: { enabled },
        },
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id: `/subscriptions/${sub}/providers/Microsoft.Security/settings/WDATP`,
        name: 'WDATP',
        kind: 'DataExportSettings',
        type: 'Microsoft.Security/settings',
        properties: { enabled },
      });
      const got = await t.inject({ method: 'GET', url: `${setting(sub, 'WDATP')}?api-version=${version}` });
      expect(got.body.properties.enabled).toBe(enabled);
    }
  });

  it('Sentinel is AlertSyncSettings; WDATP_UNIFIED_SOLUTION and WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW are writable', async () => {
    const sub = await subscription();
    const sentinel = await t.inject({
      method: 'PUT',
      url: `${setting(sub, 'sentinel')}?api-version=2021-07-01`,
      body: { kind: 'AlertSyncSettings', properties: { enabled: true } },
    });
    expect(sentinel.status).toBe(200);
    expect(sentinel.body).toMatchObject({
      name: 'Sentinel',
      kind: 'AlertSyncSettings',
      properties: { enabled: true },
    });
    for (const name of ['WDATP_UNIFIED_SOLUTION', 'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW']) {
      const response = await t.inject({
        method: 'PUT',
        url: `${setting(sub, name)}?api-version=2022-05-01`,
        body: { kind: 'DataExportSettings', properties: { enabled: true } },
      });
      expect(response.status).toBe(200);
    }
    const list = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/settings?api-version=2022-05-01`,
    });
    expect(
      list.body.value.map((item: { properties: { enabled: boolean } }) => item.properties.enabled),
    ).toEqual([true, false, true, true, true]);
  });

  it('refuses bad setting input with an ARM error and writes nothing', async () => {
    const sub = await subscription();
    const url = `${setting(sub, 'WDATP')}?api-version=2022-05-01`;
    const kind = await refused(
      { method: 'PUT', url, body: { kind: 'AlertSyncSettings', properties: { enabled: true } } },
      400,
      'InvalidInputJson',
    );
    expect(kind.message).toBe(
      "The setting 'WDATP' is of kind 'DataExportSettings'; the request body has kind 'AlertSyncSettings'.",
    );
    await refused(
      { method: 'PUT', url, body: { kind: 'AlertSuppressionSetting', properties: { enabled: true } } },
      400,
      'InvalidInputJson',
    );
    await refused(
      { method: 'PUT', url, body: { kind: 'Export', properties: { enabled: true } } },
      400,
      'InvalidRequestContent',
    );
    await refused(
      { method: 'PUT', url, body: { properties: { enabled: true } } },
      400,
      'InvalidRequestContent',
    );
    await refused(
      { method: 'PUT', url, body: { kind: 'DataExportSettings', properties: { enabled: 'yes' } } },
      400,
      'InvalidRequestContent',
    );
    await refused(
      { method: 'PUT', url, body: { kind: 'DataExportSettings', properties: {} } },
      400,
      'InvalidRequestContent',
    );
    await refused({ method: 'PUT', url, body: { kind: 'DataExportSettings' } }, 400, 'InvalidRequestContent');
    await refused(
      { method: 'PUT', url, body: { kind: 'DataExportSettings', properties: { enabled: true, mode: 'x' } } },
      400,
      'InvalidRequestContent',
    );
    await refused(
      {
        method: 'PUT',
        url,
        body: { name: 'MCAS', kind: 'DataExportSettings', properties: { enabled: true } },
      },
      400,
      'InvalidInputJson',
    );
    const unknown = await refused(
      {
        method: 'PUT',
        url: `${setting(sub, 'current')}?api-version=2022-05-01`,
        body: { kind: 'DataExportSettings', properties: { enabled: true } },
      },
      400,
      'InvalidResourceName',
    );
    expect(unknown.message).toContain(
      "The supported names are 'MCAS, WDATP, WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW, WDATP_UNIFIED_SOLUTION, Sentinel'",
    );
    await refused({ method: 'DELETE', url }, 405, 'MethodNotAllowed');
  });

  it('honours If-Match once a setting has been written', async () => {
    const sub = await subscription();
    const url = `${setting(sub, 'MCAS')}?api-version=2022-05-01`;
    const body = { kind: 'DataExportSettings', properties: { enabled: false } };
    const written = await t.inject({ method: 'PUT', url, body });
    expect(written.headers.etag).toBeTruthy();
    await refused(
      { method: 'PUT', url, body, headers: { 'if-match': '"stale"' } },
      412,
      'PreconditionFailed',
    );
  });
});
