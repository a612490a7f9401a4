/**
 * Bad input of every kind, one row per request: each gets its ARM error (status, code and, where ARM's
 * wording is known, the message) in the `{"error":{...}}` envelope as JSON — never a 500, never a stack
 * trace — and writes nothing: the `resources` and `operations` tables hold the same rows afterwards.
 */
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES_API_VERSIONS } from '../../src/providers/resources/apiVersions.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUB = '41111111-2222-4333-8444-555555555555';
const MISSING_SUB = '41111111-2222-4333-8444-000000000000';
const V = 'api-version=2021-04-01';
const GROUPS = `/subscriptions/${SUB}/resourceGroups`;
const RG = `${GROUPS}/existing`;
const NEW_RG = `${GROUPS}/fresh`;
const MG_API = 'api-version=2021-04-01';

type Caller = 'admin' | 'none' | 'forged' | 'expired' | 'unsigned' | 'basic' | 'reader';

interface Row {
  name: string;
  method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST' | 'HEAD';
  url: string;
  /** Raw text is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  caller?: Caller;
  status: number;
  code: string;
  message?: string | RegExp;
}

const oversized = `{"location":"eastus","tags":{"big":"${'x'.repeat(4 * 1024 * 1024)}"}}`;

const rows: Row[] = [
  // Malformed ids
  {
    name: 'a subscription id that is not a GUID',
    method: 'PUT',
    url: `/subscriptions/not-a-guid/resourceGroups/x?${V}`,
    body: { location: 'eastus' },
    status: 400,
    code: 'InvalidSubscriptionId',
    message: "The provided subscription identifier 'not-a-guid' is malformed or invalid.",
  },
  {
    name: 'a resource group name with invalid characters',
    method: 'PUT',
    url: `${GROUPS}/bad*name?${V}`,
    body: { location: 'eastus' },
    status: 400,
    code: 'InvalidResourceGroup',
    message:
      "The provided resource group name 'bad*name' has these invalid characters: '*'. The name can only be a letter, digit, '-', '.', '_', '(', and ')'.",
  },
  {
    name: 'a resource group name longer than 90 characters',
    method: 'PUT',
    url: `${GROUPS}/${'r'.repeat(91)}?${V}`,
    body: { location: 'eastus' },
    status: 400,
    code: 'InvalidResourceGroup',
  },
  {
    name: 'a dangling providers segment below a resource group',
    method: 'PUT',
    url: `${RG}/providers?${V}`,
    body: {},
    status: 400,
    code: 'InvalidRequestUri',
  },
  {
    name: 'a segment that is neither providers nor a known keyword',
    method: 'PUT',
    url: `${RG}/widgets/w1?${V}`,
    body: {},
    status: 400,
    code: 'InvalidRequestUri',
  },
  {
    name: 'a broken percent-encoding',
    method: 'PUT',
    url: `${GROUPS}/bad%zz?${V}`,
    body: { location: 'eastus' },
    status: 400,
    code: 'InvalidRequestUri',
  },
  {
    name: 'an encoded slash inside a name',
    method: 'PUT',
    url: `${GROUPS}/a%2Fb?${V}`,
    body: { location: 'eastus' },
    status: 400,
    code: 'InvalidRequestUri',
  },
  {
    name: 'a resource group in a subscription that does not exist',
    method: 'PUT',
    url: `/subscriptions/${MISSING_SUB}/resourceGroups/x?${V}`,
    body: { location: 'eastus' },
    status: 404,
    code: 'SubscriptionNotFound',
    message: `The subscription '${MISSING_SUB}' could not be found.`,
  },
  {
    name: 'a role assignment into a resource group that does not exist',
    method: 'PUT',
    url: `${GROUPS}/absent/providers/Microsoft.Authorization/roleAssignments/0b5c3a4e-1d2f-4a6b-8c9d-0e1f2a3b4c5d?api-version=2022-04-01`,
    body: {
      properties: {
        roleDefinitionId:
          '/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7',
        principalId: '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
      },
    },
    status: 404,
    code: 'ResourceGroupNotFound',
    message: "Resource group 'absent' could not be found.",
  },
  {
    name: 'DELETE of a resource group that does not exist',
    method: 'DELETE',
    url: `${GROUPS}/absent?${V}`,
    status: 404,
    code: 'ResourceGroupNotFound',
    message: "Resource group 'absent' could not be found.",
  },
  // api-versions, namespaces, types, methods
  {
    name: 'no api-version',
    method: 'PUT',
    url: NEW_RG,
    body: { location: 'eastus' },
    status: 400,
    code: 'MissingApiVersionParameter',
    message: 'The api-version query parameter (?api-version=) is required for all requests.',
  },
  {
    name: 'an api-version the type does not have',
    method: 'PUT',
    url: `${NEW_RG}?api-version=2099-01-01`,
    body: { location: 'eastus' },
    status: 400,
    code: 'InvalidApiVersionParameter',
    message: `The api-version '2099-01-01' is invalid. The supported versions are '${RESOURCES_API_VERSIONS.join(',')}'.`,
  },
  {
    name: 'an api-version that is not a date',
    method: 'PUT',
    url: `${NEW_RG}?api-version=latest`,
    body: { location: 'eastus' },
    status: 400,
    code: 'InvalidApiVersionParameter',
  },
  {
    name: 'an unknown namespace',
    method: 'PUT',
    url: `${RG}/providers/Microsoft.Nope/things/t1?${V}`,
    body: {},
    status: 400,
    code: 'InvalidResourceNamespace',
    message: "The resource namespace 'Microsoft.Nope' is invalid.",
  },
  {
    name: 'an unknown type in a known namespace',
    method: 'PUT',
    url: `/providers/Microsoft.Management/managementThings/x?${MG_API}`,
    body: {},
    status: 404,
    code: 'InvalidResourceType',
    message:
      "The resource type 'managementThings' could not be found in the namespace 'Microsoft.Management' for api version '2021-04-01'.",
  },
  {
    name: 'a method the type does not serve',
    method: 'POST',
    url: `${RG}?${V}`,
    status: 405,
    code: 'MethodNotAllowed',
  },
  // Bodies
  {
    name: 'JSON cut short',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: '{"location":',
    status: 400,
    code: 'InvalidRequestContent',
    message:
      "The request content was invalid and could not be deserialized: 'Unexpected end when reading JSON. Path 'location', line 1, position 12.'.",
  },
  {
    name: 'JSON with trailing text',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: '{"location":"eastus"} x',
    status: 400,
    code: 'InvalidRequestContent',
    message:
      "The request content was invalid and could not be deserialized: 'Additional text encountered after finished reading JSON content: x. Path '', line 1, position 22.'.",
  },
  {
    name: 'JSON nested deeper than 64 levels',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: `{"location":"eastus","properties":${'['.repeat(100)}${']'.repeat(100)}}`,
    status: 400,
    code: 'InvalidRequestContent',
    message:
      /The reader's MaxDepth of 64 has been exceeded\. Path 'properties(\[0\])+', line 1, position \d+\./,
  },
  {
    name: 'a deeply nested broken body (the error scan must not overflow the stack)',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: '['.repeat(1_000_000),
    status: 400,
    code: 'InvalidRequestContent',
  },
  {
    name: 'a JSON array body',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: [{ location: 'eastus' }],
    status: 400,
    code: 'InvalidRequestContent',
    message:
      "The request content was invalid and could not be deserialized: 'Cannot deserialize the current JSON array into an object because the type requires a JSON object. Path ''.'.",
  },
  {
    name: 'a JSON null body',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: 'null',
    status: 400,
    code: 'InvalidRequestContent',
  },
  {
    name: 'no body at all',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    status: 400,
    code: 'InvalidRequestContent',
  },
  {
    name: 'tags as a string',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: { location: 'eastus', tags: 'env=dev' },
    status: 400,
    code: 'InvalidRequestContent',
    message: /Path 'tags'/,
  },
  {
    name: 'a tag value that is not a string',
    method: 'PATCH',
    url: `${RG}?${V}`,
    body: { tags: { env: 1 } },
    status: 400,
    code: 'InvalidRequestContent',
    message: /Path 'tags\.env'/,
  },
  {
    name: 'more than 50 tags',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: {
      location: 'eastus',
      tags: Object.fromEntries(Array.from({ length: 51 }, (_, k) => [`t${k}`, 'v'])),
    },
    status: 400,
    code: 'InvalidTag',
  },
  {
    name: 'location as a number',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: { location: 5 },
    status: 400,
    code: 'InvalidRequestContent',
    message: /Error converting value 5 to type 'System\.String'\. Path 'location'/,
  },
  {
    name: 'no location',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: { tags: {} },
    status: 400,
    code: 'LocationRequired',
    message: 'The location property is required for this definition.',
  },
  {
    name: 'a location that does not exist',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: { location: 'atlantis' },
    status: 400,
    code: 'LocationNotAvailableForResourceGroup',
  },
  {
    name: 'an unknown member',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: { location: 'eastus', colour: 'red' },
    status: 400,
    code: 'InvalidRequestContent',
    message:
      "The request content was invalid and could not be deserialized: 'Could not find member 'colour' on object of type 'ResourceGroup'. Path 'colour''.",
  },
  {
    name: 'an unknown member in a management group',
    method: 'PUT',
    url: `/providers/Microsoft.Management/managementGroups/newgroup?${MG_API}`,
    body: { properties: { displayName: 'x', colour: 'red' } },
    status: 400,
    code: 'InvalidRequestContent',
    message: /Path 'properties\.colour'/,
  },
  {
    name: 'a management group parent id that is not a string',
    method: 'PUT',
    url: `/providers/Microsoft.Management/managementGroups/newgroup?${MG_API}`,
    body: { properties: { details: { parent: { id: 5 } } } },
    status: 400,
    code: 'InvalidRequestContent',
    message: /Path 'properties\.details\.parent\.id'/,
  },
  {
    name: 'management group properties that are not an object',
    method: 'PUT',
    url: `/providers/Microsoft.Management/managementGroups/newgroup?${MG_API}`,
    body: { properties: 'x' },
    status: 400,
    code: 'InvalidRequestContent',
    message: /Path 'properties'/,
  },
  {
    name: 'a management group moved under its own grandchild',
    method: 'PUT',
    url: `/providers/Microsoft.Management/managementGroups/mg-a?${MG_API}`,
    body: {
      properties: { details: { parent: { id: '/providers/Microsoft.Management/managementGroups/mg-c' } } },
    },
    status: 400,
    code: 'BadRequest',
    message: 'Moving a management group under itself or its descendant is not allowed.',
  },
  {
    name: 'a role assignment name that is not a GUID',
    method: 'PUT',
    url: `${RG}/providers/Microsoft.Authorization/roleAssignments/not-a-guid?api-version=2022-04-01`,
    body: { properties: { roleDefinitionId: 'x', principalId: 'y' } },
    status: 400,
    code: 'InvalidRoleAssignmentId',
  },
  {
    name: 'a body over the 4 MiB limit',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: oversized,
    status: 413,
    code: 'RequestEntityTooLarge',
  },
  {
    name: 'content-type text/plain',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: '{"location":"eastus"}',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'UnsupportedMediaType',
    message: "The content media type 'text/plain' is not supported. Only 'application/json' is supported.",
  },
  {
    name: 'a form-encoded body (curl -d without a content type)',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: 'location=eastus',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'UnsupportedMediaType',
  },
  {
    name: 'a stale If-Match',
    method: 'PUT',
    url: `${RG}?${V}`,
    body: { location: 'eastus', tags: { changed: 'yes' } },
    headers: { 'if-match': '"stale"' },
    status: 412,
    code: 'PreconditionFailed',
  },
  {
    name: 'a $top out of range',
    method: 'GET',
    url: `${GROUPS}?${V}&$top=100000`,
    status: 400,
    code: 'InvalidQueryParameterValue',
  },
  // Callers
  {
    name: 'no token',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: { location: 'eastus' },
    caller: 'none',
    status: 401,
    code: 'AuthenticationFailed',
    message: "Authentication failed. The 'Authorization' header is missing.",
  },
  {
    name: 'no token and a body over the limit (refused before the body is read)',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: oversized,
    caller: 'none',
    status: 401,
    code: 'AuthenticationFailed',
  },
  {
    name: 'an Authorization header that is not a bearer token',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: { location: 'eastus' },
    caller: 'basic',
    status: 401,
    code: 'AuthenticationFailed',
    message: "Authentication failed. The 'Authorization' header is provided in an invalid format.",
  },
  {
    name: 'a token signed with another key',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: { location: 'eastus' },
    caller: 'forged',
    status: 401,
    code: 'InvalidAuthenticationToken',
    message: 'The access token is invalid.',
  },
  {
    name: 'an unsigned token',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: { location: 'eastus' },
    caller: 'unsigned',
    status: 401,
    code: 'InvalidAuthenticationToken',
  },
  {
    name: 'an expired token',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: { location: 'eastus' },
    caller: 'expired',
    status: 401,
    code: 'ExpiredAuthenticationToken',
    message: /^The access token expiry UTC time '.+' is earlier than current UTC time '.+'\.$/,
  },
  {
    name: 'a Reader writing',
    method: 'PUT',
    url: `${NEW_RG}?${V}`,
    body: { location: 'eastus' },
    caller: 'reader',
    status: 403,
    code: 'AuthorizationFailed',
    message: new RegExp(
      `^The client 'reader' with object id '[0-9a-f-]{36}' does not have authorization to perform action 'Microsoft\\.Resources/subscriptions/resourceGroups/write' over scope '${NEW_RG}' or the scope is invalid\\. If access was recently granted, please refresh your credentials\\.$`,
    ),
  },
  {
    name: 'a Reader deleting',
    method: 'DELETE',
    url: `${RG}?${V}`,
    caller: 'reader',
    status: 403,
    code: 'AuthorizationFailed',
  },
];

describe('bad input', () => {
  let t: TestServer;
  const tokens = new Map<Caller, string | null>();

  async function rowCounts(): Promise<{ resources: number; operations: number }> {
    const db = t.server.store.db;
    const resources = await db
      .selectFrom('resources')
      .select((eb) => eb.fn.countAll<string | number>().as('count'))
      .executeTakeFirstOrThrow();
    const operations = await db
      .selectFrom('operations')
      .select((eb) => eb.fn.countAll<string | number>().as('count'))
      .executeTakeFirstOrThrow();
    return { resources: Number(resources.count), operations: Number(operations.count) };
  }

  beforeAll(async () => {
    t = await startTestServer({ listen: false });
    await addSubscription(t.server, { subscriptionId: SUB });
    const created = await t.inject({ method: 'PUT', url: `${RG}?${V}`, body: { location: 'eastus' } });
    expect(created.status).toBe(201);
    let parent: string | undefined;
    for (const group of ['mg-a', 'mg-b', 'mg-c']) {
      const details = parent
        ? { parent: { id: `/providers/Microsoft.Management/managementGroups/${parent}` } }
        : {};
      const put = await t.inject({
        method: 'PUT',
        url: `/providers/Microsoft.Management/managementGroups/${group}?${MG_API}`,
        body: { properties: { displayName: group, details } },
      });
      expect(put.status).toBe(200);
      parent = group;
    }

    const admin = await t.token();
    const claims = decodeJwt(admin);
    const { kid } = t.server.keys;
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
      .sign(privateKey);
    const [header, payload] = admin.split('.');
    const unsignedHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    tokens.set('admin', admin);
    tokens.set('none', null);
    tokens.set('forged', forged);
    tokens.set('unsigned', `${unsignedHeader}.${payload}.`);
    tokens.set('basic', `${header}`);
    tokens.set('expired', await t.token({ lifetimeSeconds: -3600 }));
    tokens.set('reader', await t.token({ principal: 'reader', role: 'Reader' }));
  });
  afterAll(() => t.close());

  it.each(rows)('$name → $status $code, nothing written', async (row) => {
    const before = await rowCounts();
    const caller = row.caller ?? 'admin';
    const headers: Record<string, string> = { ...row.headers };
    let token = tokens.get(caller) ?? null;
    if (caller === 'basic') {
      headers.authorization = 'Basic dXNlcjpwYXNz';
      token = null;
    }
    const response = await t.inject({ method: row.method, url: row.url, body: row.body, headers, token });

    expect(response.status).toBe(row.status);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(response.body)).toEqual(['error']);
    expect(typeof response.body.error.code).toBe('string');
    expect(typeof response.body.error.message).toBe('string');
    expect(response.body.error.code).toBe(row.code);
    if (typeof row.message === 'string') expect(response.body.error.message).toBe(row.message);
    else if (row.message) expect(response.body.error.message).toMatch(row.message);
    expect(response.text).not.toMatch(/\bat .+\.(ts|js):\d+|stack|FST_ERR/);

    expect(await rowCounts()).toEqual(before);
  });
});
