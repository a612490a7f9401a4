/**
 * The client in-process, over a scripted transport: what it sends for each target, how it retries,
 * how ARM's error shapes become `ArmRequestError`, paging and the long-running-operation contract.
 * The same behaviour over real HTTPS against vaplane is in test/transition/.
 */
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
  RestError,
} from '@azure/core-rest-pipeline';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { type ArmClientOptions, createArmClient } from './client.js';
import { ArmClientError, ArmRequestError, errorOfReply } from './errors.js';
import { pollDelayMs } from './operations.js';
import { connectionFor } from './target.js';

const SUB = '61111111-2222-4333-8444-555555555555';
const AZURE = 'https://management.azure.com';

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A transport that answers from a script and records what it was sent. */
function scripted(answer: (request: PipelineRequest, index: number) => Reply | Promise<Reply>) {
  const sent: PipelineRequest[] = [];
  const httpClient: HttpClient = {
    async sendRequest(request): Promise<PipelineResponse> {
      sent.push(request);
      const reply = await answer(request, sent.length - 1);
      return {
        request,
        status: reply.status,
        headers: createHttpHeaders(reply.headers),
        bodyAsText:
          reply.body === undefined
            ? ''
            : typeof reply.body === 'string'
              ? reply.body
              : JSON.stringify(reply.body),
      };
    },
  };
  return { httpClient, sent };
}

function recordingCredential() {
  const scopes: string[][] = [];
  const credential: TokenCredential = {
    async getToken(requested) {
      scopes.push([requested].flat());
      return { token: 'token-for-tests', expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  return { credential, scopes };
}

function azureClient(httpClient: HttpClient, options: ArmClientOptions = {}) {
  const { credential, scopes } = recordingCredential();
  const client = createArmClient(
    { kind: 'azure', credential },
    {
      httpClient,
      retry: { retryDelayInMs: 1, maxRetryDelayInMs: 2 },
      polling: { fixedDelayMs: 0 },
      ...options,
    },
  );
  return { client, scopes };
}

async function failure(promise: Promise<unknown>): Promise<ArmRequestError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ArmRequestError);
  return error as ArmRequestError;
}

describe('targets', () => {
  it('real Azure is management.azure.com with DefaultAzureCredential, the ARM scope and the public CAs', () => {
    const connection = connectionFor({ kind: 'azure' });
    expect(connection.endpoint).toBe(AZURE);
    expect(connection.scope).toBe('https://management.azure.com/.default');
    expect(connection.credential).toBeInstanceOf(DefaultAzureCredential);
    expect(connection.ca).toBeUndefined();
  });

  it('a vaplane server with a static token uses it as the bearer, with the JWT’s own expiry', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`;
    const connection = connectionFor({
      kind: 'vaplane',
      endpoint: 'https://127.0.0.1:8443/',
      auth: { token },
    });
    expect(connection.endpoint).toBe('https://127.0.0.1:8443');
    expect(connection.scope).toBe('https://management.azure.com/.default');
    expect(await connection.credential.getToken(connection.scope)).toEqual({
      token,
      expiresOnTimestamp: exp * 1000,
      tokenType: 'Bearer',
    });
  });

  it('refuses an endpoint that is not https', () => {
    expect(() =>
      connectionFor({ kind: 'vaplane', endpoint: 'http://127.0.0.1:8080', auth: { token: 't' } }),
    ).toThrow(/must use https/);
  });

  it('asks the credential for the ARM scope and sends JSON with a bearer token to the endpoint', async () => {
    const transport = scripted(() => ({ status: 200, body: { id: `/subscriptions/${SUB}` } }));
    const { client, scopes } = azureClient(transport.httpClient);
    const reply = await client.put(
      `/subscriptions/${SUB}/resourceGroups/Rg One`,
      '2024-11-01',
      { location: 'x' },
      {
        ifMatch: '"etag-1"',
        query: { $top: '5' },
      },
    );
    expect(reply.body).toEqual({ id: `/subscriptions/${SUB}` });
    expect(scopes).toEqual([['https://management.azure.com/.default']]);
    const [request] = transport.sent;
    expect(request!.url).toBe(
      `${AZURE}/subscriptions/${SUB}/resourceGroups/Rg%20One?api-version=2024-11-01&$top=5`,
    );
    expect(request!.method).toBe('PUT');
    expect(request!.body).toBe('{"location":"x"}');
    expect(request!.headers.toJSON()).toMatchObject({
      authorization: 'Bearer token-for-tests',
      'content-type': 'application/json',
      accept: 'application/json',
      'if-match': '"etag-1"',
      'x-ms-client-request-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'user-agent': expect.stringMatching(/^vaplane-transition core-rest-pipeline\/1\.22\.\d+ Node\//),
    });
  });
});

describe('retries', () => {
  it('retries a 429 after its Retry-After and a 503 with backoff, under the same client request id', async () => {
    const transport = scripted((_request, index) =>
      index === 0
        ? {
            status: 429,
            headers: { 'retry-after': '0' },
            body: { error: { code: 'TooManyRequests', message: 'x' } },
          }
        : index === 1
          ? { status: 503 }
          : { status: 200, body: { ok: true } },
    );
    const { client } = azureClient(transport.httpClient);
    expect((await client.get(`/subscriptions/${SUB}`, '2022-12-01')).body).toEqual({ ok: true });
    expect(transport.sent).toHaveLength(3);
    const ids = transport.sent.map((request) => request.headers.get('x-ms-client-request-id'));
    expect(new Set(ids).size).toBe(1);
  });

  it('after the last retry, the 5xx surfaces as ArmRequestError with ARM’s code, message and request id', async () => {
    const transport = scripted(() => ({
      status: 500,
      headers: { 'x-ms-request-id': 'req-500' },
      body: { error: { code: 'InternalServerError', message: 'Encountered internal server error.' } },
    }));
    const { client } = azureClient(transport.httpClient, { retry: { maxRetries: 2, retryDelayInMs: 1 } });
    const error = await failure(client.delete(`/subscriptions/${SUB}/resourceGroups/rg`, '2024-11-01'));
    expect(transport.sent).toHaveLength(3);
    expect(error).toMatchObject({
      code: 'InternalServerError',
      message: 'Encountered internal server error.',
      status: 500,
      requestId: 'req-500',
      method: 'DELETE',
      path: `/subscriptions/${SUB}/resourceGroups/rg?api-version=2024-11-01`,
    });
    expect(String(error)).toBe(
      `ArmRequestError: DELETE /subscriptions/${SUB}/resourceGroups/rg?api-version=2024-11-01 → 500 InternalServerError: Encountered internal server error. (x-ms-request-id req-500)`,
    );
  });

  it('a connection that never succeeds surfaces as ArmRequestError with status 0 and the system code', async () => {
    const transport = scripted(() => {
      throw new RestError('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' });
    });
    const { client } = azureClient(transport.httpClient, { retry: { maxRetries: 1, retryDelayInMs: 1 } });
    const error = await failure(client.get('/subscriptions', '2022-12-01'));
    expect(error).toMatchObject({ status: 0, code: 'ECONNREFUSED', method: 'GET' });
    expect(error.cause).toBeInstanceOf(RestError);
    expect(transport.sent).toHaveLength(2);
  });
});

describe('ARM error shapes', () => {
  it('reads the ARM envelope with target and details', () => {
    const body = {
      error: {
        code: 'InvalidTemplate',
        message: 'bad',
        target: 'properties',
        details: [{ code: 'Inner', message: 'why', extra: 1 }, 'noise'],
      },
    };
    expect(errorOfReply(400, JSON.stringify(body))).toEqual({
      code: 'InvalidTemplate',
      message: 'bad',
      target: 'properties',
      details: [{ code: 'Inner', message: 'why' }],
    });
  });

  it('reads Microsoft.Security’s capitalised envelope and an unwrapped error', () => {
    expect(
      errorOfReply(
        404,
        '{"Error":{"Code":"ResourceNotFound","Message":"Secure score \'x\' does not exist"}}',
      ),
    ).toEqual({ code: 'ResourceNotFound', message: "Secure score 'x' does not exist" });
    expect(
      errorOfReply(412, '{"code":"PreconditionFailed","message":"The Zone z has been modified."}'),
    ).toEqual({
      code: 'PreconditionFailed',
      message: 'The Zone z has been modified.',
    });
  });

  it('names a reply without an ARM error after its status', () => {
    expect(errorOfReply(502, '<html>Bad gateway</html>')).toEqual({
      code: 'BadGateway',
      message: '<html>Bad gateway</html>',
    });
    expect(errorOfReply(404, '')).toEqual({ code: 'NotFound', message: 'Not Found' });
  });
});

describe('paging', () => {
  it('follows nextLink until the last page', async () => {
    const transport = scripted((request) => {
      const page = new URL(request.url).searchParams.get('$skipToken');
      if (page === null)
        return { status: 200, body: { value: [1, 2], nextLink: `${AZURE}/subscriptions?p=1&$skipToken=a` } };
      if (page === 'a')
        return { status: 200, body: { value: [3], nextLink: `${AZURE}/subscriptions?p=2&$skipToken=b` } };
      return { status: 200, body: { value: [4] } };
    });
    const { client } = azureClient(transport.httpClient);
    const items: number[] = [];
    for await (const item of client.list<number>('/subscriptions', '2022-12-01')) items.push(item);
    expect(items).toEqual([1, 2, 3, 4]);
    expect(transport.sent.map((request) => request.url)).toEqual([
      `${AZURE}/subscriptions?api-version=2022-12-01`,
      `${AZURE}/subscriptions?p=1&$skipToken=a`,
      `${AZURE}/subscriptions?p=2&$skipToken=b`,
    ]);
  });

  it('never sends its token to a nextLink on another host, nor loops on a repeated link', async () => {
    const foreign = scripted(() => ({
      status: 200,
      body: { value: [1], nextLink: 'https://evil.example/next' },
    }));
    const read = async (client: ReturnType<typeof azureClient>['client']) => {
      for await (const _ of client.list('/subscriptions', '2022-12-01'));
    };
    const foreignError = await read(azureClient(foreign.httpClient).client).catch((error: unknown) => error);
    expect(foreignError).toBeInstanceOf(ArmClientError);
    expect((foreignError as ArmClientError).code).toBe('ForeignLink');
    expect(foreign.sent).toHaveLength(1);

    const looping = scripted(() => ({
      status: 200,
      body: { value: [1], nextLink: `${AZURE}/subscriptions?page=2` },
    }));
    const loopError = await read(azureClient(looping.httpClient).client).catch((error: unknown) => error);
    expect((loopError as ArmClientError).code).toBe('RepeatedNextLink');
    expect(looping.sent).toHaveLength(2);
  });
});

describe('long-running operations', () => {
  const EXTENSION = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/extensions/ext`;
  const STATUS = `${AZURE}/subscriptions/${SUB}/providers/Microsoft.Compute/locations/westeurope/operations/op1?api-version=2024-03-01`;

  it('a DELETE polls Azure-AsyncOperation (not Location) until Succeeded and returns the final status', async () => {
    let polls = 0;
    const transport = scripted((request) => {
      if (request.method === 'DELETE') {
        return {
          status: 202,
          headers: {
            'azure-asyncoperation': STATUS,
            location: `${STATUS}&monitor=true`,
            'retry-after': '10',
          },
        };
      }
      polls++;
      return { status: 200, body: { name: 'op1', status: polls < 3 ? 'InProgress' : 'Succeeded' } };
    });
    const { client } = azureClient(transport.httpClient);
    const accepted = await client.delete(EXTENSION, '2024-03-01');
    expect(accepted.status).toBe(202);
    const done = await client.awaitOperation(accepted);
    expect(done.body).toEqual({ name: 'op1', status: 'Succeeded' });
    expect(transport.sent.slice(1).map((request) => request.url)).toEqual([STATUS, STATUS, STATUS]);
  });

  it('a PUT whose operation succeeds returns the resource read again', async () => {
    const transport = scripted((request) => {
      if (request.method === 'PUT') {
        return {
          status: 201,
          headers: { 'azure-asyncoperation': STATUS },
          body: { properties: { provisioningState: 'Creating' } },
        };
      }
      if (request.url === STATUS) return { status: 200, body: { status: 'succeeded' } };
      return { status: 200, body: { properties: { provisioningState: 'Succeeded' } } };
    });
    const { client } = azureClient(transport.httpClient);
    const done = await client.awaitOperation(
      await client.put(EXTENSION, '2024-03-01', { location: 'westeurope' }),
    );
    expect(done.body).toEqual({ properties: { provisioningState: 'Succeeded' } });
    expect(transport.sent.at(-1)!.url).toBe(`${AZURE}${EXTENSION}?api-version=2024-03-01`);
  });

  it('a Failed operation throws its error as ArmRequestError, naming the request that started it', async () => {
    const transport = scripted((request) =>
      request.method === 'DELETE'
        ? { status: 202, headers: { 'azure-asyncoperation': STATUS, 'x-ms-request-id': 'req-delete' } }
        : {
            status: 200,
            body: {
              status: 'Failed',
              error: {
                code: 'OperationNotAllowed',
                message: 'Cannot modify extensions in the VM when the VM is not running.',
              },
            },
          },
    );
    const { client } = azureClient(transport.httpClient);
    const error = await failure(client.awaitOperation(await client.delete(EXTENSION, '2024-03-01')));
    expect(error).toMatchObject({
      code: 'OperationNotAllowed',
      message: 'Cannot modify extensions in the VM when the VM is not running.',
      status: 200,
      operationStatus: 'Failed',
      requestId: 'req-delete',
      method: 'DELETE',
      path: `${EXTENSION}?api-version=2024-03-01`,
    });
  });

  it('a Canceled operation without an error still throws', async () => {
    const transport = scripted((request) =>
      request.method === 'POST'
        ? { status: 202, headers: { 'azure-asyncoperation': STATUS } }
        : { status: 200, body: { status: 'Canceled' } },
    );
    const { client } = azureClient(transport.httpClient);
    const error = await failure(client.awaitOperation(await client.post(`${EXTENSION}/x`, '2024-03-01')));
    expect(error).toMatchObject({ code: 'OperationCanceled', operationStatus: 'Canceled' });
  });

  it('without Azure-AsyncOperation, a 202 polls Location until it stops answering 202', async () => {
    const location = `${AZURE}/subscriptions/${SUB}/operationresults/abc?api-version=2024-11-01`;
    let polls = 0;
    const transport = scripted((request) => {
      if (request.method === 'DELETE') return { status: 202, headers: { location } };
      polls++;
      return polls < 3 ? { status: 202, headers: { location } } : { status: 200 };
    });
    const { client } = azureClient(transport.httpClient);
    const done = await client.awaitOperation(
      await client.delete(`/subscriptions/${SUB}/resourceGroups/rg`, '2024-11-01'),
    );
    expect(done.status).toBe(200);
    expect(done.body).toBeUndefined();
    expect(polls).toBe(3);
  });

  it('a Location that answers an error is the operation failing, reported against the request that started it', async () => {
    const location = `${AZURE}/subscriptions/${SUB}/operationresults/abc?api-version=2024-11-01`;
    const transport = scripted(
      (request): Reply =>
        request.method === 'DELETE'
          ? { status: 202, headers: { location, 'x-ms-request-id': 'req-delete' } }
          : {
              status: 409,
              headers: { 'x-ms-request-id': 'req-poll' },
              body: { error: { code: 'Conflict', message: 'The group is locked.' } },
            },
    );
    const { client } = azureClient(transport.httpClient);
    const accepted = await client.delete(`/subscriptions/${SUB}/resourceGroups/rg`, '2024-11-01');
    const error = await failure(client.awaitOperation(accepted));
    expect(error).toMatchObject({
      code: 'Conflict',
      message: 'The group is locked.',
      status: 409,
      operationStatus: 'Failed',
      method: 'DELETE',
      path: `/subscriptions/${SUB}/resourceGroups/rg?api-version=2024-11-01`,
      requestId: 'req-delete',
    });
    expect((error.cause as ArmRequestError).requestId).toBe('req-poll');
  });

  it('a PUT answered with a provisioning state in progress and no headers polls the resource', async () => {
    let reads = 0;
    const transport = scripted((request) => {
      if (request.method === 'PUT')
        return { status: 201, body: { properties: { provisioningState: 'Accepted' } } };
      reads++;
      return {
        status: 200,
        body: { properties: { provisioningState: reads < 2 ? 'Updating' : 'Succeeded' } },
      };
    });
    const { client } = azureClient(transport.httpClient);
    const done = await client.awaitOperation(await client.put(EXTENSION, '2024-03-01', {}));
    expect(done.body).toEqual({ properties: { provisioningState: 'Succeeded' } });
  });

  it('a synchronous reply is its own outcome', async () => {
    const transport = scripted(() => ({ status: 200, body: { properties: { selectedProvider: 'MdeTvm' } } }));
    const { client } = azureClient(transport.httpClient);
    const reply = await client.put(`/subscriptions/${SUB}/x`, '2023-05-01', {});
    expect(await client.awaitOperation(reply)).toBe(reply);
    expect(transport.sent).toHaveLength(1);
  });

  it('gives up with OperationWaitExceeded when the operation outlasts maxWaitMs', async () => {
    const transport = scripted((request) =>
      request.method === 'DELETE'
        ? { status: 202, headers: { 'azure-asyncoperation': STATUS } }
        : { status: 200, body: { status: 'InProgress' } },
    );
    const { client } = azureClient(transport.httpClient);
    const accepted = await client.delete(EXTENSION, '2024-03-01');
    const error = await client
      .awaitOperation(accepted, { fixedDelayMs: 20, maxWaitMs: 50 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArmClientError);
    expect((error as ArmClientError).code).toBe('OperationWaitExceeded');
  });

  it('waits what Retry-After says, within bounds, unless a fixed interval is set', () => {
    expect(pollDelayMs(10_000)).toBe(10_000);
    expect(pollDelayMs(0)).toBe(1_000);
    expect(pollDelayMs(undefined)).toBe(2_000);
    expect(pollDelayMs(3_600_000)).toBe(60_000);
    expect(pollDelayMs(5_000, { minDelayMs: 100, maxDelayMs: 2_000 })).toBe(2_000);
    expect(pollDelayMs(0, { minDelayMs: 0 })).toBe(0);
    expect(pollDelayMs(30_000, { fixedDelayMs: 25 })).toBe(25);
  });
});
