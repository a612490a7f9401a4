/**
 * The real `@azure/arm-security` 5 client (`SecurityCenter`, the newest published) against a vaplane
 * server over real HTTPS, trusting the server's CA through the pipeline's `tlsOptions`.
 *
 * The SDK pins one api-version per operation group. A per-call policy records what it sends, and the
 * first test prints them and proves vaplane serves each one — except the versions listed in
 * `NOT_SERVED`, each with its reason, which must still be refused (so the list stays true). Operations
 * the SDK lacks (`serverVulnerabilityAssessmentsSettings`) or sends at a version whose model vaplane
 * does not serve (`securityConnectors`) go through `client.sendRequest()`, the SDK's own pipeline
 * (token, TLS, retries) with a request built by `@azure/core-rest-pipeline`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SecurityCenter } from '@azure/arm-security';
import { createHttpHeaders, createPipelineRequest, type PipelinePolicy } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vmAndArcMachine } from '../support/machines.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUB = '66666666-7777-4888-9999-aaaaaaaaaaaa';
const RG = 'Rg-Security-Sdk';
const VM = 'vm-sdk';
const ARC = 'arc-sdk';
const ASSESSMENT = 'ffff0522-1e88-47fc-8382-2a80ba848f5d';
const POLL = { updateIntervalInMs: 20 };

type TokenCredential = ConstructorParameters<typeof SecurityCenter>[0];

/**
 * SDK api-versions vaplane does not serve, and why. Each must still be refused with
 * InvalidApiVersionParameter: when vaplane starts serving one, take it off this list.
 */
const NOT_SERVED: Record<string, string> = {
  'securityConnectors 2021-07-01-preview':
    'that version has another model (no environmentData) and is refused on purpose (securityConnectors/README.md); newer versions go through sendRequest',
};

describe('@azure/arm-security 5 against vaplane over HTTPS', () => {
  let t: TestServer;
  let client: SecurityCenter;
  /** The api-version of every request the SDK's operations sent, by operation group (the path's last type). */
  const sentVersions = new Map<string, Set<string>>();
  /** Set while `send` runs: hand-built requests are not the SDK's choice of api-version. */
  let handBuilt = false;
  /** Rewrites the SDK's pricings api-version, for the tests that need pricings to work through it. */
  let pricingsVersion: string | undefined;

  beforeAll(async () => {
    // Before the Qualys retirement, so that the SDK's `default` (the built-in scanner) can be created.
    t = await startTestServer({ now: new Date('2024-03-01T00:00:00Z') });
    await vmAndArcMachine(t, { subscriptionId: SUB, resourceGroup: RG, vm: VM, arc: ARC });

    const recordVersion: PipelinePolicy = {
      name: 'recordApiVersion',
      sendRequest(request, next) {
        const url = new URL(request.url);
        // Type names sit at even positions below the namespace: `locations/{l}/securitySolutions/{n}`.
        const segments = url.pathname
          .split(/\/providers\/Microsoft\.Security\//i)
          .pop()!
          .split('/');
        const group = segments[(segments.length - 1) & ~1]!;
        const version = url.searchParams.get('api-version');
        if (version && !handBuilt)
          sentVersions.set(group, (sentVersions.get(group) ?? new Set()).add(version));
        if (pricingsVersion && /\/providers\/Microsoft\.Security\/pricings(\/|$)/i.test(url.pathname)) {
          url.searchParams.set('api-version', pricingsVersion);
          request.url = url.toString();
        }
        return next(request);
      },
    };
    const credential: TokenCredential = {
      async getToken() {
        return { token: await t.token(), expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    client = new SecurityCenter(credential, SUB, {
      endpoint: t.url,
      tlsOptions: { ca: readFileSync(t.caPath, 'utf8') },
      additionalPolicies: [{ policy: recordVersion, position: 'perCall' }],
    });
  });
  afterAll(async () => {
    // Completion passes of started operations run 5 ms after they are due; let them finish.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await t?.close();
  });

  /** A request through the SDK's own pipeline (bearer token, TLS, retries). */
  async function send(method: 'GET' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown) {
    const request = createPipelineRequest({
      url: `${t.url}${path}`,
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: createHttpHeaders(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    handBuilt = true;
    const response = await client.sendRequest(request).finally(() => {
      handBuilt = false;
    });
    return {
      status: response.status,
      body: response.bodyAsText ? JSON.parse(response.bodyAsText) : undefined,
      headers: response.headers,
    };
  }

  /** What the SDK call answered: `ok`, or the ARM error code and status it was refused with. */
  async function outcome(call: () => Promise<unknown>): Promise<string> {
    try {
      await call();
      return 'ok';
    } catch (error) {
      const { statusCode, code } = error as { statusCode?: number; code?: string };
      return `${statusCode} ${code}`;
    }
  }

  async function drain<T>(pages: AsyncIterable<T>): Promise<T[]> {
    const items: T[] = [];
    for await (const item of pages) items.push(item);
    return items;
  }

  it('vaplane serves the api-version the SDK sends for each operation group, except the ones listed with a reason', async () => {
    const machine = [RG, 'Microsoft.Compute', 'virtualMachines', VM] as const;
    const calls: Record<string, () => Promise<unknown>> = {
      pricings: () => client.pricings.list(),
      settings: () => drain(client.settings.list()),
      securitySolutions: () => drain(client.securitySolutions.list()),
      serverVulnerabilityAssessments: () =>
        client.serverVulnerabilityAssessmentOperations.listByExtendedResource(...machine),
      securityConnectors: () => drain(client.securityConnectors.list()),
      assessments: () => drain(client.assessments.list(`subscriptions/${SUB}`)),
      assessmentMetadata: () => drain(client.assessmentsMetadata.list()),
      subAssessments: () =>
        drain(
          client.subAssessments.list(
            `subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/${VM}`,
            ASSESSMENT,
          ),
        ),
    };
    // The assessment types are another provider's, still in progress: proven once they are served.
    const assessmentsServed =
      (
        await send(
          'GET',
          `/providers/Microsoft.Security/assessmentMetadata/${ASSESSMENT}?api-version=2021-06-01`,
        )
      ).status === 200;
    const rows: string[][] = [];
    const unexpected: string[] = [];
    for (const [group, call] of Object.entries(calls)) {
      if (
        !assessmentsServed &&
        /assessment(s|Metadata)$/i.test(group) &&
        group !== 'serverVulnerabilityAssessments'
      ) {
        rows.push([group, '-', 'skipped: assessments not served yet']);
        continue;
      }
      const result = await outcome(call);
      const versions = [...(sentVersions.get(group) ?? [])].join(', ');
      rows.push([group, versions, result]);
      const key = `${group} ${versions}`;
      if (NOT_SERVED[key]) {
        if (result !== '400 InvalidApiVersionParameter')
          unexpected.push(`${key}: listed as not served, answered ${result}`);
      } else if (result !== 'ok') {
        unexpected.push(`${key}: ${result}`);
      }
    }
    const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length), 10));
    console.log(
      `\n${['operation group', 'SDK api-version', 'vaplane'].map((h, k) => h.padEnd(widths[k]!)).join(' | ')}\n${rows
        .map((row) => row.map((cell, k) => cell.padEnd(widths[k]!)).join(' | '))
        .join('\n')}\n`,
    );
    expect(unexpected).toEqual([]);
  });

  it('securityConnectors.get at the SDK’s built-in 2021-07-01-preview is refused with InvalidApiVersionParameter, naming the versions served', async () => {
    const created = await send(
      'PUT',
      `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Security/securityConnectors/gcp-sdk?api-version=2023-10-01-preview`,
      gcpConnector('Qualys'),
    );
    expect(created.status).toBe(201);
    const refused = await client.securityConnectors.get(RG, 'gcp-sdk').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ statusCode: 400, code: 'InvalidApiVersionParameter' });
    expect((refused as Error).message).toContain("'2021-07-01-preview'");
    expect((refused as Error).message).toMatch(/2024-08-01-preview.*2023-10-01-preview.*2022-08-01-preview/);
  });

  it('sendRequest: securityConnectors at 2023-10-01-preview — PUT, GET, switch the VA to TVM, list, PATCH, DELETE', async () => {
    const v = 'api-version=2023-10-01-preview';
    const connector = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Security/securityConnectors/gcp-transition`;
    expect((await send('PUT', `${connector}?${v}`, gcpConnector('Qualys'))).status).toBe(201);
    const read = await send('GET', `${connector}?${v}`);
    expect(read.status).toBe(200);
    expect(read.body.properties.offerings[1].vaAutoProvisioning).toEqual({
      enabled: true,
      configuration: { type: 'Qualys' },
    });
    expect(read.body.etag).toBe(read.headers.get('etag'));
    read.body.properties.offerings[1].vaAutoProvisioning.configuration.type = 'TVM';
    const switched = await send('PUT', `${connector}?${v}`, {
      location: read.body.location,
      properties: read.body.properties,
    });
    expect(switched.status).toBe(200);
    expect(switched.body.properties.offerings[1].vaAutoProvisioning.configuration.type).toBe('TVM');
    const listed = await send(
      'GET',
      `/subscriptions/${SUB}/providers/Microsoft.Security/securityConnectors?${v}`,
    );
    expect(listed.body.value.map((item: { name: string }) => item.name)).toContain('gcp-transition');
    const patched = await send('PATCH', `${connector}?${v}`, { tags: { owner: 'secops' } });
    expect(patched).toMatchObject({ status: 200, body: { tags: { owner: 'secops' } } });
    expect(patched.body.properties.offerings[1].vaAutoProvisioning.configuration.type).toBe('TVM');
    expect((await send('DELETE', `${connector}?${v}`)).status).toBe(204);
    expect((await send('GET', `${connector}?${v}`)).status).toBe(404);
  });

  it('sendRequest: serverVulnerabilityAssessmentsSettings at 2023-05-01 — 404 unset, PUT 201 then 200, GET, list, DELETE 200 then 204', async () => {
    const collection = `/subscriptions/${SUB}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings`;
    const setting = `${collection}/azureServersSetting?api-version=2023-05-01`;
    const body = { kind: 'AzureServersSetting', properties: { selectedProvider: 'MdeTvm' } };
    expect(await send('GET', setting)).toMatchObject({
      status: 404,
      body: { error: { code: 'ResourceNotFound' } },
    });
    const created = await send('PUT', setting, body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: `${collection}/AzureServersSetting`,
      name: 'AzureServersSetting',
      type: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
      kind: 'AzureServersSetting',
      properties: { selectedProvider: 'MdeTvm' },
      systemData: { createdByType: 'User' },
    });
    expect((await send('PUT', setting, body)).status).toBe(200);
    expect((await send('GET', setting)).body).toMatchObject({ properties: { selectedProvider: 'MdeTvm' } });
    const listed = await send('GET', `${collection}?api-version=2023-05-01`);
    expect(listed.body.value).toHaveLength(1);
    expect((await send('DELETE', setting)).status).toBe(200);
    expect((await send('DELETE', setting)).status).toBe(204);
  });

  it('settings.list, get and update (WDATP, the Endpoint protection toggle) at the SDK’s 2021-07-01', async () => {
    const names = (await drain(client.settings.list())).map((setting) => setting.name).sort();
    expect(names).toEqual([
      'MCAS',
      'Sentinel',
      'WDATP',
      'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW',
      'WDATP_UNIFIED_SOLUTION',
    ]);
    expect(await client.settings.get('WDATP')).toMatchObject({
      name: 'WDATP',
      kind: 'DataExportSettings',
      enabled: false,
    });
    const updated = await client.settings.update('WDATP', { kind: 'DataExportSettings', enabled: true });
    expect(updated).toMatchObject({ name: 'WDATP', kind: 'DataExportSettings', enabled: true });
    expect(await client.settings.get('WDATP')).toMatchObject({ enabled: true });
    expect(sentVersions.get('settings')).toEqual(new Set(['2021-07-01']));
  });

  it('pricings.list, get and update at the SDK’s own 2022-03-01, which keeps extensions set at a newer version', async () => {
    try {
      const list = await client.pricings.list();
      expect(list.value?.find((pricing) => pricing.name === 'VirtualMachines')).toMatchObject({
        pricingTier: 'Free',
        freeTrialRemainingTime: 'PT0S',
      });
      const updated = await client.pricings.update('VirtualMachines', {
        pricingTier: 'Standard',
        subPlan: 'P2',
      });
      expect(updated).toMatchObject({ name: 'VirtualMachines', pricingTier: 'Standard', subPlan: 'P2' });
      expect(await client.pricings.get('VirtualMachines')).toMatchObject({
        pricingTier: 'Standard',
        subPlan: 'P2',
      });
      await expect(
        client.pricings.update('VirtualMachines', { pricingTier: 'Standard', subPlan: 'P3' }),
      ).rejects.toMatchObject({ statusCode: 400 });
      expect(sentVersions.get('pricings')).toEqual(new Set(['2022-03-01']));
      const newer = await t.inject({
        method: 'GET',
        url: `/subscriptions/${SUB}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2023-01-01`,
      });
      expect(newer.body.properties.extensions.map((extension: { name: string }) => extension.name)).toContain(
        'AgentlessVmScanning',
      );
      const shown = await client.pricings.get('VirtualMachines');
      expect(shown).not.toHaveProperty('extensions');
    } finally {
      pricingsVersion = undefined;
    }
  });

  it('serverVulnerabilityAssessmentOperations on an Arc machine: createOrUpdate (202 with a body), get, listByExtendedResource, beginDeleteAndWait', async () => {
    pricingsVersion = '2023-01-01';
    await client.pricings.update('VirtualMachines', { pricingTier: 'Standard', subPlan: 'P2' });
    pricingsVersion = undefined;
    const machine = [RG, 'Microsoft.HybridCompute', 'machines', ARC] as const;
    const operations = client.serverVulnerabilityAssessmentOperations;
    expect(await operations.listByExtendedResource(...machine)).toEqual({ value: [] });
    const created = await operations.createOrUpdate(...machine);
    expect(created).toMatchObject({
      name: 'Default',
      type: 'providers/Microsoft.Security/serverVulnerabilityAssessments',
      provisioningState: 'Provisioning',
    });
    await t.server.services.lro.runDue();
    await new Promise((resolve) => setTimeout(resolve, 70));
    await t.server.services.lro.runDue();
    expect(await operations.get(...machine)).toMatchObject({ provisioningState: 'Succeeded' });
    const listed = await operations.listByExtendedResource(...machine);
    expect(listed.value?.map((item) => item.name)).toEqual(['Default']);
    await operations.beginDeleteAndWait(...machine, POLL);
    await expect(operations.get(...machine)).rejects.toMatchObject({ statusCode: 404 });
    expect(sentVersions.get('serverVulnerabilityAssessments')).toEqual(new Set(['2020-01-01']));
  });

  it('securitySolutions.list and get read a BYOL solution PUT at 2015-06-01-preview as New-ASCVASolution.ps1 does', async () => {
    const solution = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Security/locations/westeurope/securitySolutions/Rapid7Va`;
    const written = await send('PUT', `${solution}?api-version=2015-06-01-preview`, {
      Properties: {
        Location: 'westeurope',
        Template: 'rapid7.insightplatform',
        ProvisioningParameters: JSON.stringify({
          licenseCode: Buffer.from(randomUUID()).toString('base64'),
          autoUpdate: false,
        }),
      },
    });
    expect(written.status, JSON.stringify(written.body)).toBe(201);
    const listed = await drain(client.securitySolutions.list());
    expect(listed).toEqual([
      {
        id: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Security/locations/westeurope/SecuritySolutions/Rapid7Va`,
        name: 'Rapid7Va',
        type: 'Microsoft.Security/locations/SecuritySolutions',
        location: 'westeurope',
        securityFamily: 'Va',
        protectionStatus: 'Good',
        template: 'rapid7.insightplatform',
        provisioningState: 'Succeeded',
      },
    ]);
    expect(await client.securitySolutions.get(RG, 'westeurope', 'Rapid7Va')).toEqual(listed[0]);
    expect(sentVersions.get('securitySolutions')).toEqual(new Set(['2020-01-01']));
    expect((await send('DELETE', `${solution}?api-version=2015-06-01-preview`)).status).toBe(200);
  });
});

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
