/**
 * What the transition sends, byte for byte on the wire: the client talks to a small HTTPS recorder
 * (node:https with a certificate from vaplane's local CA, trusted only through the client's CA file)
 * that answers as Azure does and keeps every request. The recorder is not vaplane, so these
 * assertions hold for whatever server is on the other end, real Azure included: the only difference
 * between the targets is the endpoint, the CA and the credential.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import { arch, tmpdir, type } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateTls } from '../../src/tls.js';
import {
  type ArmClient,
  createArmClient,
  deleteVmExtension,
  getSecurityConnector,
  putSecurityConnector,
  type SecurityConnector,
  setVaProvider,
} from '../../src/transition/index.js';

const SUB = '71111111-2222-4333-8444-555555555555';
const TOKEN = 'eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.recorded';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The Azure SDKs' user agent after our prefix: core version, runtime and platform. */
const USER_AGENT = new RegExp(
  `^vaplane-transition core-rest-pipeline/1\\.22\\.\\d+ Node/${process.versions.node.replaceAll('.', '\\.')} \\(${type()} [^;]+; ${arch()}\\)$`,
);

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Answer = { status: number; headers?: Record<string, string>; body?: unknown };

const CONNECTOR_ID = `/subscriptions/${SUB}/resourcegroups/rg-multicloud/providers/Microsoft.Security/securityconnectors/gcp-prod`;
/** As Azure answers a GET at 2023-10-01-preview: lower-case id segments, etag, systemData. */
const storedConnector: SecurityConnector = {
  id: CONNECTOR_ID,
  name: 'gcp-prod',
  type: 'Microsoft.Security/securityconnectors',
  location: 'westeurope',
  etag: '"0b00f3a1-0000-0d00-0000-6650a1b20000"',
  kind: '',
  tags: {},
  systemData: { createdBy: 'someone@example.com', createdAt: '2024-05-01T10:00:00Z' },
  properties: {
    hierarchyIdentifier: '123456789012',
    environmentName: 'GCP',
    environmentData: {
      environmentType: 'GcpProject',
      projectDetails: { projectNumber: '123456789012', projectId: 'prod' },
    },
    offerings: [
      {
        offeringType: 'DefenderForServersGcp',
        vaAutoProvisioning: { enabled: true, configuration: { type: 'Qualys' } },
        subPlan: { type: 'P2' },
      },
    ],
  },
};

describe('recorded requests: what the transition sends', () => {
  let dir: string;
  let recorder: Server;
  let client: ArmClient;
  let endpoint: string;
  const recorded: Recorded[] = [];
  let answer: (request: Recorded) => Answer = () => ({ status: 200 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vaplane-recorder-'));
    const tls = await loadOrCreateTls(dir);
    recorder = createServer({ cert: tls.cert, key: tls.key }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const entry: Recorded = {
          method: request.method!,
          url: request.url!,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        recorded.push(entry);
        const reply = answer(entry);
        response.writeHead(reply.status, {
          'content-type': 'application/json; charset=utf-8',
          'x-ms-request-id': `recorded-${recorded.length}`,
          ...reply.headers,
        });
        response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const address = recorder.address();
    endpoint = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    client = createArmClient(
      { kind: 'vaplane', endpoint, caPath: tls.caPath!, auth: { token: TOKEN } },
      { polling: { fixedDelayMs: 0 } },
    );
  });

  afterAll(async () => {
    await new Promise((resolve) => recorder.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  function lastRequests(count: number): Recorded[] {
    return recorded.slice(-count);
  }

  function expectCommonHeaders(request: Recorded, withBody: boolean) {
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers.accept).toBe('application/json');
    expect(request.headers['x-ms-client-request-id']).toMatch(UUID);
    expect(request.headers['user-agent']).toMatch(USER_AGENT);
    if (withBody) expect(request.headers['content-type']).toBe('application/json');
    else expect(request.headers['content-type']).toBeUndefined();
  }

  it('sets the VA provider of a subscription: PUT AzureServersSetting at 2023-05-01 with selectedProvider MdeTvm', async () => {
    answer = () => ({
      status: 200,
      body: {
        id: `/subscriptions/${SUB}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
        name: 'AzureServersSetting',
        type: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
        kind: 'AzureServersSetting',
        properties: { selectedProvider: 'MdeTvm' },
      },
    });
    const reply = await client.send(setVaProvider(SUB));
    expect(reply.status).toBe(200);
    const [request] = lastRequests(1);
    expect(request!.method).toBe('PUT');
    expect(request!.url).toBe(
      `/subscriptions/${SUB}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
    );
    expect(request!.body).toBe('{"kind":"AzureServersSetting","properties":{"selectedProvider":"MdeTvm"}}');
    expect(request!.headers['content-length']).toBe(String(Buffer.byteLength(request!.body)));
    expectCommonHeaders(request!, true);
    expect(request!.headers['if-match']).toBeUndefined();
  });

  it('removes a Qualys VM extension: DELETE in canonical casing at 2024-03-01, no body, then polls Azure-AsyncOperation', async () => {
    const status = `${endpoint}/subscriptions/${SUB}/providers/Microsoft.Compute/locations/westeurope/operations/9d1f?api-version=2024-03-01`;
    answer = (request) =>
      request.method === 'DELETE'
        ? {
            status: 202,
            headers: {
              'azure-asyncoperation': status,
              location: `${status}&monitor=true`,
              'retry-after': '0',
            },
          }
        : { status: 200, body: { startTime: '2025-01-01T00:00:00Z', status: 'Succeeded', name: '9d1f' } };
    // As a listing may spell it: lower-case resource group segment and provider namespace.
    const listedId = `/subscriptions/${SUB}/resourcegroups/Rg-Web/providers/microsoft.compute/virtualmachines/Web-01/extensions/WindowsAgent.AzureSecurityCenter`;
    const done = await client.awaitOperation(await client.send(deleteVmExtension(listedId)));
    expect(done.body).toMatchObject({ status: 'Succeeded' });
    const [deletion, poll] = lastRequests(2);
    expect(deletion!.method).toBe('DELETE');
    expect(deletion!.url).toBe(
      `/subscriptions/${SUB}/resourceGroups/Rg-Web/providers/Microsoft.Compute/virtualMachines/Web-01/extensions/WindowsAgent.AzureSecurityCenter?api-version=2024-03-01`,
    );
    expect(deletion!.body).toBe('');
    expectCommonHeaders(deletion!, false);
    expect(poll!.method).toBe('GET');
    expect(poll!.url).toBe(
      `/subscriptions/${SUB}/providers/Microsoft.Compute/locations/westeurope/operations/9d1f?api-version=2024-03-01`,
    );
    expectCommonHeaders(poll!, false);
  });

  it('flips a GCP connector to TVM: GET, then PUT of the whole connector with If-Match of the ETag read', async () => {
    answer = (request) =>
      request.method === 'GET'
        ? { status: 200, headers: { etag: storedConnector.etag! }, body: storedConnector }
        : { status: 200, body: { ...storedConnector, etag: '"0b00f3a1-0000-0d00-0000-6650a1b20001"' } };
    const read = await client.send<SecurityConnector>(getSecurityConnector(CONNECTOR_ID));
    const changed = structuredClone(read.body);
    (changed.properties as any).offerings[0].vaAutoProvisioning.configuration.type = 'TVM';
    await client.send(putSecurityConnector(changed, read.etag));

    const [get, put] = lastRequests(2);
    const path = `/subscriptions/${SUB}/resourceGroups/rg-multicloud/providers/Microsoft.Security/securityConnectors/gcp-prod?api-version=2023-10-01-preview`;
    expect(get!.method).toBe('GET');
    expect(get!.url).toBe(path);
    expectCommonHeaders(get!, false);
    expect(put!.method).toBe('PUT');
    expect(put!.url).toBe(path);
    expect(put!.headers['if-match']).toBe('"0b00f3a1-0000-0d00-0000-6650a1b20000"');
    expectCommonHeaders(put!, true);
    expect(JSON.parse(put!.body)).toEqual({
      location: 'westeurope',
      etag: '"0b00f3a1-0000-0d00-0000-6650a1b20000"',
      kind: '',
      tags: {},
      properties: {
        hierarchyIdentifier: '123456789012',
        environmentName: 'GCP',
        environmentData: {
          environmentType: 'GcpProject',
          projectDetails: { projectNumber: '123456789012', projectId: 'prod' },
        },
        offerings: [
          {
            offeringType: 'DefenderForServersGcp',
            vaAutoProvisioning: { enabled: true, configuration: { type: 'TVM' } },
            subPlan: { type: 'P2' },
          },
        ],
      },
    });
  });

  it('each call carries its own client request id', async () => {
    answer = () => ({ status: 200, body: {} });
    await client.get(`/subscriptions/${SUB}`, '2022-12-01');
    await client.get(`/subscriptions/${SUB}`, '2022-12-01');
    const [first, second] = lastRequests(2);
    expect(first!.headers['x-ms-client-request-id']).not.toBe(second!.headers['x-ms-client-request-id']);
  });
});
