/**
 * The transition's ARM client against a real vaplane server over HTTPS: paging, long-running
 * operations as the Compute and Resources providers answer them, ARM errors, conditional writes,
 * both kinds of vaplane credential, and a run against `--throttle arm` that stays under ARM's limits.
 */
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreatedPrincipal, createPrincipal } from '../../src/arm/principals.js';
import { roleByName } from '../../src/arm/rbac.js';
import { grantRole } from '../../src/providers/authorization/index.js';
import {
  type PowerState,
  virtualMachineRecord,
  vmExtensionRecord,
} from '../../src/providers/compute/index.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { putResource } from '../../src/store/index.js';
import {
  type ArmClient,
  type ArmClientOptions,
  ArmRequestError,
  createArmClient,
  deleteVmExtension,
  minimumSeconds,
} from '../../src/transition/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUB = '81111111-2222-4333-8444-555555555555';
const RESOURCES = '2024-11-01';
const COMPUTE = '2024-03-01';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RG = `/subscriptions/${SUB}/resourceGroups/Rg-Transition`;

/** A policy that sees every attempt on the wire, retries included. */
function attemptRecorder() {
  const attempts: { method: string; url: string; status: number; requestId?: string }[] = [];
  const policy: PipelinePolicy = {
    name: 'testAttemptRecorder',
    async sendRequest(request, next) {
      const response = await next(request);
      attempts.push({
        method: request.method,
        url: request.url,
        status: response.status,
        requestId: response.headers.get('x-ms-request-id'),
      });
      return response;
    },
  };
  return { attempts, policy };
}

async function failure(promise: Promise<unknown>): Promise<ArmRequestError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ArmRequestError);
  return error as ArmRequestError;
}

describe('transition client against vaplane', () => {
  let t: TestServer;
  let client: ArmClient;
  const recorder = attemptRecorder();

  const now = () => t.server.services.clock.now().toISOString();

  function clientWith(token: string, options: ArmClientOptions = {}): ArmClient {
    return createArmClient(
      { kind: 'vaplane', endpoint: t.url, caPath: t.caPath, auth: { token } },
      { polling: { fixedDelayMs: 50 }, ...options },
    );
  }

  async function seedVm(name: string, powerState: PowerState = 'running'): Promise<string> {
    const vm = virtualMachineRecord({
      subscriptionId: SUB,
      resourceGroup: 'Rg-Transition',
      name,
      location: 'westeurope',
      osType: 'Windows',
      image: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter' },
      powerState,
      now: now(),
    });
    await putResource(t.server.store.db, vm);
    return vm.id;
  }

  async function seedQualys(vmId: string): Promise<string> {
    const extension = vmExtensionRecord({
      machineId: vmId,
      subscriptionId: SUB,
      resourceGroup: 'Rg-Transition',
      name: 'WindowsAgent.AzureSecurityCenter',
      location: 'westeurope',
      publisher: 'Qualys',
      type: 'WindowsAgent.AzureSecurityCenter',
      typeHandlerVersion: '1.0',
      now: now(),
    });
    await putResource(t.server.store.db, extension);
    return extension.id;
  }

  beforeAll(async () => {
    // Operations take 300 ms: long enough to change the VM under a running delete.
    t = await startTestServer({ lroDelayMs: 300 });
    await addSubscription(t.server, { subscriptionId: SUB });
    await putResource(
      t.server.store.db,
      resourceGroupRecord({ subscriptionId: SUB, name: 'Rg-Transition', location: 'westeurope', now: now() }),
    );
    client = clientWith(await t.token(), {
      additionalPolicies: [{ policy: recorder.policy, position: 'perRetry' }],
    });
  });
  afterAll(() => t.close());

  it('lists 120 resource groups 50 at a time, following nextLink to the last page', async () => {
    for (let k = 0; k < 119; k++) {
      await putResource(
        t.server.store.db,
        resourceGroupRecord({
          subscriptionId: SUB,
          name: `rg-page-${String(k).padStart(3, '0')}`,
          location: 'northeurope',
          now: now(),
        }),
      );
    }
    const before = recorder.attempts.length;
    const names: string[] = [];
    for await (const group of client.list<{ name: string }>(
      `/subscriptions/${SUB}/resourcegroups`,
      RESOURCES,
      {
        query: { $top: '50' },
      },
    )) {
      names.push(group.name);
    }
    expect(names).toHaveLength(120);
    expect(new Set(names).size).toBe(120);
    expect(names).toContain('Rg-Transition');
    const pages = recorder.attempts.slice(before);
    expect(pages.map((page) => page.status)).toEqual([200, 200, 200]);
    expect(new URL(pages[0]!.url).searchParams.get('$skipToken')).toBeNull();
    for (const page of pages.slice(1)) {
      const query = new URL(page.url).searchParams;
      expect(query.get('$skipToken')).toBeTruthy();
      expect(query.get('$top')).toBe('50');
      expect(query.get('api-version')).toBe(RESOURCES);
    }
  });

  it('removes a Qualys extension: 202, Azure-AsyncOperation polled to Succeeded, then the extension is gone', async () => {
    const extensionId = await seedQualys(await seedVm('Vm-Clean'));
    const before = recorder.attempts.length;
    const accepted = await client.send(deleteVmExtension(extensionId));
    expect(accepted.status).toBe(202);
    const statusUrl = accepted.headers['azure-asyncoperation']!;
    expect(statusUrl).toMatch(
      new RegExp(
        `^${t.url}/subscriptions/${SUB}/providers/Microsoft\\.Compute/locations/westeurope/operations/`,
      ),
    );
    const done = await client.awaitOperation<{ status: string; name: string }>(accepted);
    expect(done.body).toMatchObject({ status: 'Succeeded', name: statusUrl.split('/').pop()!.split('?')[0] });
    const polls = recorder.attempts.slice(before + 1);
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls.every((poll) => poll.method === 'GET' && poll.url === statusUrl)).toBe(true);

    const gone = await failure(client.get(extensionId, COMPUTE));
    expect(gone).toMatchObject({ status: 404, code: 'ResourceNotFound', method: 'GET' });
  });

  it('a delete that fails on the server (the VM was deallocated meanwhile) throws the operation’s error', async () => {
    const vmId = await seedVm('Vm-Race');
    const extensionId = await seedQualys(vmId);
    const accepted = await client.send(deleteVmExtension(extensionId));
    expect(accepted.status).toBe(202);
    await seedVm('Vm-Race', 'deallocated');
    const error = await failure(client.awaitOperation(accepted));
    expect(error).toMatchObject({
      code: 'OperationNotAllowed',
      message: 'Cannot modify extensions in the VM when the VM is not running.',
      operationStatus: 'Failed',
      status: 200,
      method: 'DELETE',
      requestId: accepted.requestId,
    });
    expect(error.path).toBe(`${deleteVmExtension(extensionId).path}?api-version=${COMPUTE}`);
  });

  it('an extension PUT (201 Creating + Azure-AsyncOperation) ends with the extension read again, Succeeded', async () => {
    const vmId = await seedVm('Vm-Install');
    const created = await client.put(`${vmId}/extensions/MDE.Windows`, COMPUTE, {
      location: 'westeurope',
      properties: {
        publisher: 'Microsoft.Azure.AzureDefenderForServers',
        type: 'MDE.Windows',
        typeHandlerVersion: '1.0',
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ properties: { provisioningState: 'Creating' } });
    const done = await client.awaitOperation<{ id: string; properties: { provisioningState: string } }>(
      created,
    );
    expect(done.status).toBe(200);
    expect(done.body.properties.provisioningState).toBe('Succeeded');
    expect(done.body.id).toBe(`${vmId}/extensions/MDE.Windows`);
  });

  it('a resource group DELETE (Location only) is followed until the group is gone', async () => {
    await putResource(
      t.server.store.db,
      resourceGroupRecord({ subscriptionId: SUB, name: 'Rg-Doomed', location: 'westeurope', now: now() }),
    );
    const path = `/subscriptions/${SUB}/resourceGroups/Rg-Doomed`;
    const accepted = await client.delete(path, RESOURCES);
    expect(accepted.status).toBe(202);
    expect(accepted.headers['azure-asyncoperation']).toBeUndefined();
    const done = await client.awaitOperation(accepted);
    expect(done.status).toBe(200);
    const gone = await failure(client.get(path, RESOURCES));
    expect(gone).toMatchObject({
      status: 404,
      code: 'ResourceGroupNotFound',
      message: "Resource group 'Rg-Doomed' could not be found.",
    });
  });

  it('a 404 is an ArmRequestError with ARM’s code and message, the status and the reply’s x-ms-request-id', async () => {
    const error = await failure(client.get(`/subscriptions/${SUB}/resourceGroups/Rg-Missing`, RESOURCES));
    expect(error).toMatchObject({
      code: 'ResourceGroupNotFound',
      message: "Resource group 'Rg-Missing' could not be found.",
      status: 404,
      method: 'GET',
      path: `/subscriptions/${SUB}/resourceGroups/Rg-Missing?api-version=${RESOURCES}`,
    });
    expect(error.requestId).toMatch(UUID);
    expect(error.requestId).toBe(recorder.attempts.at(-1)!.requestId);
  });

  it('a 403 for a principal without a role is an ArmRequestError AuthorizationFailed', async () => {
    const outsider = clientWith(await t.token({ principal: 'outsider' }));
    const error = await failure(
      outsider.put(`/subscriptions/${SUB}/resourceGroups/Rg-Forbidden`, RESOURCES, {
        location: 'westeurope',
      }),
    );
    expect(error).toMatchObject({ status: 403, code: 'AuthorizationFailed', method: 'PUT' });
    expect(error.message).toMatch(
      /^The client '.+' with object id '.+' does not have authorization to perform action 'Microsoft\.Resources\/subscriptions\/resourceGroups\/write' over scope/,
    );
    expect(error.requestId).toMatch(UUID);
  });

  it('If-Match: a stale ETag is refused with 412 and nothing changes; the current one writes', async () => {
    const read = await client.get<{ tags?: Record<string, string> }>(RG, RESOURCES);
    expect(read.etag).toBeTruthy();
    const stale = await failure(
      client.put(
        RG,
        RESOURCES,
        { location: 'westeurope', tags: { by: 'stale' } },
        { ifMatch: '"not-the-etag"' },
      ),
    );
    expect(stale).toMatchObject({ status: 412, code: 'PreconditionFailed' });
    expect(
      (await client.get<{ tags?: Record<string, string> }>(RG, RESOURCES)).body.tags?.by,
    ).toBeUndefined();
    const written = await client.put<{ tags: Record<string, string> }>(
      RG,
      RESOURCES,
      { location: 'westeurope', tags: { by: 'transition' } },
      { ifMatch: read.etag },
    );
    expect(written.status).toBe(200);
    expect(written.body.tags).toEqual({ by: 'transition' });
  });

  describe('client credentials', () => {
    let app: CreatedPrincipal;

    beforeAll(async () => {
      const db = t.server.store.db;
      app = await createPrincipal(db, {
        name: 'transition-pipeline',
        type: 'Application',
        tenantId: t.server.tenantId,
        now: new Date(),
      });
      await grantRole(db, {
        scope: `/subscriptions/${SUB}`,
        roleId: roleByName('Reader')!.id,
        principalId: app.principal.objectId,
        principalType: 'ServicePrincipal',
        by: 'test',
        now: new Date(),
      });
      t.server.services.authz.invalidate();
    });

    it('get a token from the server’s token endpoint (ClientSecretCredential) and read as that application', async () => {
      const asApp = createArmClient({
        kind: 'vaplane',
        endpoint: t.url,
        caPath: t.caPath,
        auth: { tenantId: t.server.tenantId, clientId: app.principal.clientId, clientSecret: app.secret },
      });
      const subscriptions: { subscriptionId: string }[] = [];
      for await (const subscription of asApp.list<{ subscriptionId: string }>(
        '/subscriptions',
        '2022-12-01',
      )) {
        subscriptions.push(subscription);
      }
      expect(subscriptions.map((subscription) => subscription.subscriptionId)).toEqual([SUB]);
      const refused = await failure(
        asApp.put(`/subscriptions/${SUB}/resourceGroups/Rg-Reader`, RESOURCES, { location: 'westeurope' }),
      );
      expect(refused.code).toBe('AuthorizationFailed');
    });

    it('a wrong secret fails at the token endpoint, before any ARM request', async () => {
      const wrong = createArmClient(
        {
          kind: 'vaplane',
          endpoint: t.url,
          caPath: t.caPath,
          auth: {
            tenantId: t.server.tenantId,
            clientId: app.principal.clientId,
            clientSecret: 'not-the-secret',
          },
        },
        { additionalPolicies: [{ policy: attemptRecorder().policy, position: 'perRetry' }] },
      );
      await expect(wrong.get(`/subscriptions/${SUB}`, '2022-12-01')).rejects.toThrow(
        /invalid_client|AADSTS7000215/,
      );
    });
  });
});

describe('transition client against --throttle arm', () => {
  const THROTTLED_SUB = '91111111-2222-4333-8444-555555555555';
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ throttle: 'arm' });
    await addSubscription(t.server, { subscriptionId: THROTTLED_SUB });
    await putResource(
      t.server.store.db,
      resourceGroupRecord({
        subscriptionId: THROTTLED_SUB,
        name: 'rg-read',
        location: 'westeurope',
        now: t.server.services.clock.now().toISOString(),
      }),
    );
  });
  afterAll(() => t.close());

  it('600 reads and 300 writes against one subscription: under 1% get a 429, in about the time the buckets allow', async () => {
    const recorder = attemptRecorder();
    const client = createArmClient(
      { kind: 'vaplane', endpoint: t.url, caPath: t.caPath, auth: { token: await t.token() } },
      { additionalPolicies: [{ policy: recorder.policy, position: 'perRetry' }] },
    );
    const reads = 600;
    const writes = 300;
    const started = performance.now();
    await Promise.all([
      ...Array.from({ length: reads }, () =>
        client.get(`/subscriptions/${THROTTLED_SUB}/resourceGroups/rg-read`, RESOURCES),
      ),
      ...Array.from({ length: writes }, (_, k) =>
        client.put(`/subscriptions/${THROTTLED_SUB}/resourceGroups/rg-write-${k}`, RESOURCES, {
          location: 'westeurope',
        }),
      ),
    ]);
    const elapsedSeconds = (performance.now() - started) / 1000;
    const minimum = minimumSeconds({ reads, writes });
    const throttled = recorder.attempts.filter((attempt) => attempt.status === 429).length;
    const calls = reads + writes;
    console.log(
      `throttle arm: ${calls} calls (${reads} reads, ${writes} writes) in ${elapsedSeconds.toFixed(2)} s; ` +
        `the buckets allow no less than ${minimum.toFixed(2)} s; ${recorder.attempts.length} attempts, ` +
        `${throttled} answered 429 (${((100 * throttled) / calls).toFixed(2)}%)`,
    );
    expect(throttled).toBeLessThan(calls * 0.01);
    expect(recorder.attempts.filter((attempt) => attempt.status >= 400 && attempt.status !== 429)).toEqual(
      [],
    );
    // The server really enforced the limits (the run cannot beat them) and the client did not dawdle.
    expect(elapsedSeconds).toBeGreaterThan(minimum * 0.95);
    expect(elapsedSeconds).toBeLessThan(minimum * 1.5);
  }, 40_000);
});
