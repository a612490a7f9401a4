/**
 * The real `@azure/arm-security` 5 client over real HTTPS, before the Qualys retirement (server clock
 * 2024-03-01): its `serverVulnerabilityAssessment` operations (2020-01-01; create is not an LRO in
 * this SDK, delete polls the `Location`) and its read-only `securitySolutions`, against solutions
 * written the way New-ASCVASolution.ps1 writes them.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { SecurityCenter } from '@azure/arm-security';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { virtualMachineRecord } from '../../src/providers/compute/index.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { putResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUB = '55555555-6666-4777-8888-999999999999';
const RG = 'Rg-Sdk-Security';
const POLL = { updateIntervalInMs: 20 };

type TokenCredential = ConstructorParameters<typeof SecurityCenter>[0];

describe('@azure/arm-security against vaplane', () => {
  let t: TestServer;
  let client: SecurityCenter;
  let agent: Agent;

  beforeAll(async () => {
    t = await startTestServer({ now: new Date('2024-03-01T00:00:00Z') });
    const now = t.server.services.clock.now().toISOString();
    await addSubscription(t.server, { subscriptionId: SUB });
    await putResource(
      t.server.store.db,
      resourceGroupRecord({ subscriptionId: SUB, name: RG, location: 'westeurope', now }),
    );
    await putResource(
      t.server.store.db,
      virtualMachineRecord({
        subscriptionId: SUB,
        resourceGroup: RG,
        name: 'vm-sdk',
        location: 'westeurope',
        osType: 'Linux',
        image: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server' },
        powerState: 'running',
        now,
      }),
    );
    const priced = await t.inject({
      method: 'PUT',
      url: `/subscriptions/${SUB}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2023-01-01`,
      body: { properties: { pricingTier: 'Standard', subPlan: 'P2' } },
    });
    expect(priced.status).toBe(200);

    agent = new Agent({ ca: readFileSync(t.caPath), keepAlive: true });
    const trustServerCa: PipelinePolicy = {
      name: 'trustVaplaneCa',
      sendRequest(request, next) {
        request.agent = agent;
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
      additionalPolicies: [{ policy: trustServerCa, position: 'perCall' }],
    });
  });
  afterAll(async () => {
    agent?.destroy();
    await t.close();
  });

  it('createOrUpdate onboards the VM (202 with a body), get and list read it, beginDeleteAndWait removes it', async () => {
    const operations = client.serverVulnerabilityAssessmentOperations;
    const created = await operations.createOrUpdate(RG, 'Microsoft.Compute', 'virtualMachines', 'vm-sdk');
    expect(created).toMatchObject({ name: 'Default', provisioningState: 'Provisioning' });
    await new Promise((resolve) => setTimeout(resolve, 70));
    await t.server.services.lro.runDue();
    const got = await operations.get(RG, 'Microsoft.Compute', 'virtualMachines', 'vm-sdk');
    expect(got.provisioningState).toBe('Succeeded');
    const list = await operations.listByExtendedResource(
      RG,
      'Microsoft.Compute',
      'virtualMachines',
      'vm-sdk',
    );
    expect(list.value?.map((item) => item.name)).toEqual(['Default']);
    await operations.beginDeleteAndWait(RG, 'Microsoft.Compute', 'virtualMachines', 'vm-sdk', POLL);
    await expect(operations.get(RG, 'Microsoft.Compute', 'virtualMachines', 'vm-sdk')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound',
    });
  });

  it('securitySolutions.list and get read a solution written by the script', async () => {
    const written = await t.inject({
      method: 'PUT',
      url: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Security/locations/centralus/securitySolutions/QualysVa001?api-version=2015-06-01-preview`,
      body: {
        Properties: {
          Location: 'westeurope',
          Template: 'qualys.qualysAgent',
          ProvisioningParameters:
            '{"licenseCode":"eyJjaWQiOiJzZGsifQ==","publicKey":"MIGfMA0GCSq","autoUpdate":true}',
        },
      },
    });
    expect(written.status).toBe(201);
    const listed = [];
    for await (const solution of client.securitySolutions.list()) listed.push(solution);
    expect(listed).toEqual([
      {
        id: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Security/locations/centralus/SecuritySolutions/QualysVa001`,
        name: 'QualysVa001',
        type: 'Microsoft.Security/locations/SecuritySolutions',
        location: 'westeurope',
        securityFamily: 'Va',
        protectionStatus: 'Good',
        template: 'qualys.qualysAgent',
        provisioningState: 'Succeeded',
      },
    ]);
    const got = await client.securitySolutions.get(RG, 'centralus', 'QualysVa001');
    expect(got).toEqual(listed[0]);
  });
});
