/**
 * The ARM protocol rules every resource type shares, proved in-process: request ids, api-version and
 * type resolution, methods, HEAD, ETag preconditions, paging, `systemData` and where collections hang.
 * Besides the real resource groups, management groups and role assignments, a small test-only
 * namespace (`Microsoft.VaplaneTest`) is registered that is built from the same `arm/resourceOps`
 * helpers as the real providers, so the shared rules are proved apart from any one provider.
 */
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ArmContext,
  checkPreconditions,
  collectionQuery,
  listReply,
  placeTarget,
  type ResourceTypeDef,
  readTarget,
  resourceReply,
  writeTarget,
} from '../../src/arm/index.js';
import { objectBody, rejectUnknown } from '../../src/arm/validate.js';
import { RESOURCES_API_VERSIONS } from '../../src/providers/resources/apiVersions.js';
import { getResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUB = '31111111-2222-4333-8444-555555555555';
const MISSING_SUB = '31111111-2222-4333-8444-000000000000';
const V = 'api-version=2021-04-01';
const TV = 'api-version=2024-01-01';
const RG = `/subscriptions/${SUB}/resourceGroups/proto`;
const WIDGETS = `${RG}/providers/Microsoft.VaplaneTest/widgets`;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function putTestResource(ctx: ArmContext) {
  const body = objectBody(ctx.body);
  rejectUnknown(body, ['properties'], 'Widget');
  const placement = await placeTarget(ctx);
  const existing = await getResource(ctx.db, placement.key);
  checkPreconditions(ctx, existing);
  const stored = await writeTarget(ctx, placement, { properties: body.properties ?? {} }, existing, {
    etagInBody: true,
  });
  return resourceReply(stored, existing ? 200 : 201);
}

const testTypes: ResourceTypeDef[] = [
  {
    namespace: 'Microsoft.VaplaneTest',
    type: 'widgets',
    // Registered out of order on purpose: errors must still list them newest first.
    apiVersions: ['2023-01-01', '2024-01-01', '2024-06-01-preview'],
    scopes: ['resourceGroup'],
    listScopes: ['resourceGroup', 'subscription'],
    get: async (ctx) => resourceReply(await readTarget(ctx)),
    list: async (ctx) => listReply(ctx, await collectionQuery(ctx)),
    put: putTestResource,
    actions: { poke: async (ctx) => ({ status: 200, body: { poked: ctx.parsed.target.names[0] } }) },
  },
  {
    namespace: 'Microsoft.VaplaneTest',
    type: 'widgets/parts',
    apiVersions: ['2024-01-01'],
    scopes: ['resourceGroup'],
    get: async (ctx) => resourceReply(await readTarget(ctx)),
    list: async (ctx) => listReply(ctx, await collectionQuery(ctx)),
    put: putTestResource,
  },
  {
    namespace: 'Microsoft.VaplaneTest',
    type: 'notes',
    apiVersions: ['2024-01-01'],
    scopes: ['resource'],
    extensionOf: ['microsoft.vaplanetest/widgets'],
    get: async (ctx) => resourceReply(await readTarget(ctx)),
    list: async (ctx) => listReply(ctx, await collectionQuery(ctx)),
    put: putTestResource,
  },
];

describe('ARM protocol', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ listen: false });
    for (const def of testTypes) t.server.registry.register(def);
    await addSubscription(t.server, { subscriptionId: SUB });
    const group = await t.inject({ method: 'PUT', url: `${RG}?${V}`, body: { location: 'eastus' } });
    expect(group.status).toBe(201);
  });
  afterAll(() => t.close());

  describe('request ids', () => {
    it('every response carries a new x-ms-request-id, and the correlation id is the request id unless the client sent one', async () => {
      const first = await t.inject({ method: 'GET', url: `${RG}?${V}` });
      const second = await t.inject({ method: 'GET', url: `${RG}?${V}` });
      const ids = [first.headers['x-ms-request-id'], second.headers['x-ms-request-id']];
      for (const id of ids) expect(id).toMatch(GUID);
      expect(ids[0]).not.toBe(ids[1]);
      expect(first.headers['x-ms-correlation-request-id']).toBe(ids[0]);
      expect(first.headers['x-ms-client-request-id']).toBeUndefined();
    });

    it('echoes the client correlation id and client request id, on errors too', async () => {
      const headers = {
        'x-ms-correlation-request-id': 'corr-123',
        'x-ms-client-request-id': 'client-456',
        'x-ms-request-id': 'forged-by-client',
      };
      for (const request of [
        { method: 'GET' as const, url: `${RG}?${V}` },
        { method: 'GET' as const, url: `${RG}?${V}`, token: null },
        { method: 'GET' as const, url: `/subscriptions/%zz?${V}` },
        { method: 'GET' as const, url: `${RG}/nope?${V}` },
      ]) {
        const response = await t.inject({ ...request, headers });
        expect(response.headers['x-ms-request-id']).toMatch(GUID);
        expect(response.headers['x-ms-correlation-request-id']).toBe('corr-123');
        expect(response.headers['x-ms-client-request-id']).toBe('client-456');
      }
    });
  });

  describe('api-version and resource type', () => {
    it('a missing api-version is MissingApiVersionParameter from the gateway', async () => {
      const response = await t.inject({ method: 'GET', url: RG });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        error: {
          code: 'MissingApiVersionParameter',
          message: 'The api-version query parameter (?api-version=) is required for all requests.',
        },
      });
      expect(response.headers['x-ms-failure-cause']).toBe('gateway');
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    });

    it('an unknown api-version of a known type lists the supported ones, comma-separated, newest first', async () => {
      const groups = await t.inject({ method: 'GET', url: `${RG}?api-version=2099-01-01` });
      expect(groups.status).toBe(400);
      expect(groups.body.error).toEqual({
        code: 'InvalidApiVersionParameter',
        message: `The api-version '2099-01-01' is invalid. The supported versions are '${RESOURCES_API_VERSIONS.join(',')}'.`,
      });
      const widgets = await t.inject({ method: 'GET', url: `${WIDGETS}/w?api-version=2022-01-01` });
      expect(widgets.body.error.message).toBe(
        "The api-version '2022-01-01' is invalid. The supported versions are '2024-06-01-preview,2024-01-01,2023-01-01'.",
      );
    });

    it('the api-version parameter name and value match in any casing', async () => {
      const response = await t.inject({ method: 'GET', url: `${WIDGETS}?API-VERSION=2024-06-01-PREVIEW` });
      expect(response.status).toBe(200);
    });

    it('an unknown namespace is InvalidResourceNamespace', async () => {
      const response = await t.inject({
        method: 'GET',
        url: `${RG}/providers/Microsoft.Nope/things/x?${TV}`,
      });
      expect(response.status).toBe(400);
      expect(response.body.error).toEqual({
        code: 'InvalidResourceNamespace',
        message: "The resource namespace 'Microsoft.Nope' is invalid.",
      });
    });

    it('an unknown type in a known namespace is InvalidResourceType, 404 from the gateway', async () => {
      const response = await t.inject({
        method: 'GET',
        url: `${RG}/providers/Microsoft.VaplaneTest/gadgets/g?${TV}`,
      });
      expect(response.status).toBe(404);
      expect(response.body.error).toEqual({
        code: 'InvalidResourceType',
        message:
          "The resource type 'gadgets' could not be found in the namespace 'Microsoft.VaplaneTest' for api version '2024-01-01'.",
      });
      expect(response.headers['x-ms-failure-cause']).toBe('gateway');
    });

    it('a known type at a scope it does not live at is InvalidResourceType, nested types included', async () => {
      for (const url of [
        `/subscriptions/${SUB}/providers/Microsoft.VaplaneTest/widgets/w?${TV}`,
        `/subscriptions/${SUB}/providers/Microsoft.VaplaneTest/widgets/w/parts/p?${TV}`,
        `${RG}/providers/Microsoft.VaplaneTest/notes/n?${TV}`,
      ]) {
        const response = await t.inject({ method: 'GET', url });
        expect(response.status, url).toBe(404);
        expect(response.body.error.code, url).toBe('InvalidResourceType');
      }
    });

    it('namespaces, types and keywords match in any casing; responses keep the stored casing', async () => {
      const created = await t.inject({ method: 'PUT', url: `${WIDGETS}/CaseWidget?${TV}`, body: {} });
      expect(created.status).toBe(201);
      const got = await t.inject({
        method: 'GET',
        url: `/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourcegroups/PROTO/providers/microsoft.vaplanetest/WIDGETS/casewidget?${TV}`,
      });
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({
        id: `${WIDGETS}/CaseWidget`,
        name: 'CaseWidget',
        type: 'Microsoft.VaplaneTest/widgets',
      });
    });
  });

  describe('methods', () => {
    it('a method the type does not serve is MethodNotAllowed', async () => {
      const patch = await t.inject({ method: 'PATCH', url: `${WIDGETS}/CaseWidget?${TV}`, body: {} });
      expect(patch.status).toBe(405);
      expect(patch.body.error).toEqual({
        code: 'MethodNotAllowed',
        message:
          "The requested method 'PATCH' is not allowed for resource type 'Microsoft.VaplaneTest/widgets'.",
      });
      const post = await t.inject({ method: 'POST', url: `${RG}?${V}` });
      expect(post.status).toBe(405);
    });

    it('an HTTP method ARM does not use answers an ARM envelope, not a router 404', async () => {
      const response = await t.server.app.inject({
        method: 'OPTIONS',
        url: `${RG}?${V}`,
        headers: { host: 'localhost' },
      });
      expect(response.statusCode).toBe(405);
      expect(JSON.parse(response.body).error.code).toBe('MethodNotAllowed');
      expect(response.headers['x-ms-request-id']).toMatch(GUID);
    });

    it('POST runs a registered action and refuses an unknown one', async () => {
      const poked = await t.inject({ method: 'POST', url: `${WIDGETS}/CaseWidget/poke?${TV}` });
      expect(poked.status).toBe(200);
      expect(poked.body).toEqual({ poked: 'CaseWidget' });
      const unknown = await t.inject({ method: 'POST', url: `${WIDGETS}/CaseWidget/prod?${TV}` });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('InvalidResourceType');
      const getAction = await t.inject({ method: 'GET', url: `${WIDGETS}/CaseWidget/poke?${TV}` });
      expect(getAction.status).toBe(405);
    });
  });

  describe('HEAD', () => {
    it('HEAD on an existing resource group is 204 and on a missing one 404, both without a body', async () => {
      const found = await t.inject({ method: 'HEAD', url: `${RG}?${V}` });
      expect(found.status).toBe(204);
      expect(found.text).toBe('');
      const missing = await t.inject({
        method: 'HEAD',
        url: `/subscriptions/${SUB}/resourceGroups/absent?${V}`,
      });
      expect(missing.status).toBe(404);
      expect(missing.text).toBe('');
      expect(missing.headers['x-ms-failure-cause']).toBe('gateway');
    });
  });

  describe('ETag preconditions', () => {
    const url = `${WIDGETS}/etagged?${TV}`;

    it('If-None-Match: * creates once and refuses to overwrite', async () => {
      const created = await t.inject({
        method: 'PUT',
        url,
        body: { properties: { size: 1 } },
        headers: { 'if-none-match': '*' },
      });
      expect(created.status).toBe(201);
      expect(created.headers.etag).toBe(created.body.etag);
      const again = await t.inject({
        method: 'PUT',
        url,
        body: { properties: { size: 2 } },
        headers: { 'if-none-match': '*' },
      });
      expect(again.status).toBe(412);
      expect(again.body.error).toEqual({
        code: 'PreconditionFailed',
        message: "The resource 'etagged' exists already and hence cannot be created again.",
      });
      const got = await t.inject({ method: 'GET', url });
      expect(got.body.properties).toEqual({ size: 1 });
    });

    it('If-Match with the current etag writes; a stale etag is 412 and writes nothing', async () => {
      const before = await t.inject({ method: 'GET', url });
      const updated = await t.inject({
        method: 'PUT',
        url,
        body: { properties: { size: 3 } },
        headers: { 'if-match': before.headers.etag as string },
      });
      expect(updated.status).toBe(200);
      expect(updated.headers.etag).not.toBe(before.headers.etag);
      const stale = await t.inject({
        method: 'PUT',
        url,
        body: { properties: { size: 4 } },
        headers: { 'if-match': before.headers.etag as string },
      });
      expect(stale.status).toBe(412);
      expect(stale.body.error.code).toBe('PreconditionFailed');
      const after = await t.inject({ method: 'GET', url });
      expect(after.body.properties).toEqual({ size: 3 });
      expect(after.headers.etag).toBe(updated.headers.etag);
    });

    it('If-Match on a resource that does not exist is 412', async () => {
      const response = await t.inject({
        method: 'PUT',
        url: `${WIDGETS}/never?${TV}`,
        body: {},
        headers: { 'if-match': '"abc"' },
      });
      expect(response.status).toBe(412);
      const absent = await t.inject({ method: 'GET', url: `${WIDGETS}/never?${TV}` });
      expect(absent.status).toBe(404);
    });

    it('resource groups honour If-Match too', async () => {
      const stale = await t.inject({
        method: 'PUT',
        url: `${RG}?${V}`,
        body: { location: 'eastus', tags: { changed: 'yes' } },
        headers: { 'if-match': '"stale"' },
      });
      expect(stale.status).toBe(412);
      const group = await t.inject({ method: 'GET', url: `${RG}?${V}` });
      expect(group.body.tags).toBeUndefined();
    });
  });

  describe('paging', () => {
    beforeAll(async () => {
      for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) {
        await t.inject({ method: 'PUT', url: `${WIDGETS}/${name}?${TV}`, body: {} });
      }
    });

    it('$top sets the page size and nextLink carries an opaque $skipToken through every item once', async () => {
      const seen: string[] = [];
      let url: string | undefined = `${WIDGETS}?${TV}&$top=2`;
      let pages = 0;
      while (url) {
        const page = await t.inject({ method: 'GET', url });
        expect(page.status).toBe(200);
        expect(page.body.value.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.value.map((widget: { name: string }) => widget.name));
        pages++;
        if (page.body.nextLink) {
          const next = new URL(page.body.nextLink);
          expect(next.origin).toBe('https://localhost');
          expect(next.searchParams.get('$top')).toBe('2');
          expect(next.searchParams.get('$skipToken')).toBeTruthy();
          url = next.pathname + next.search;
        } else {
          url = undefined;
        }
      }
      const all = await t.inject({ method: 'GET', url: `${WIDGETS}?${TV}` });
      expect(all.body.nextLink).toBeUndefined();
      expect(seen).toEqual(all.body.value.map((widget: { name: string }) => widget.name));
      expect(new Set(seen).size).toBe(seen.length);
      expect(pages).toBe(Math.ceil(seen.length / 2));
    });

    it('a subscription-wide list finds resources in every group', async () => {
      const response = await t.inject({
        method: 'GET',
        url: `/subscriptions/${SUB}/providers/Microsoft.VaplaneTest/widgets?${TV}`,
      });
      expect(response.status).toBe(200);
      expect(response.body.value.map((widget: { name: string }) => widget.name)).toContain('p1');
    });

    it.each([
      ['$skipToken=not-a-token', '$skipToken', 'not-a-token'],
      ['$skipToken=', '$skipToken', ''],
      ['$top=0', '$top', '0'],
      ['$top=1001', '$top', '1001'],
      ['$top=two', '$top', 'two'],
      ['$top=1.5', '$top', '1.5'],
    ])('%s is InvalidQueryParameterValue', async (query, name, value) => {
      const response = await t.inject({ method: 'GET', url: `${WIDGETS}?${TV}&${query}` });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'InvalidQueryParameterValue', target: name });
      expect(response.body.error.message).toContain(`'${value}'`);
    });
  });

  describe('where a collection hangs', () => {
    it('listing in a missing resource group is ResourceGroupNotFound; in a missing subscription SubscriptionNotFound', async () => {
      const group = await t.inject({
        method: 'GET',
        url: `/subscriptions/${SUB}/resourceGroups/absent/providers/Microsoft.VaplaneTest/widgets?${TV}`,
      });
      expect(group.status).toBe(404);
      expect(group.body.error.code).toBe('ResourceGroupNotFound');
      const subscription = await t.inject({
        method: 'GET',
        url: `/subscriptions/${MISSING_SUB}/providers/Microsoft.VaplaneTest/widgets?${TV}`,
      });
      expect(subscription.status).toBe(404);
      expect(subscription.body.error).toEqual({
        code: 'SubscriptionNotFound',
        message: `The subscription '${MISSING_SUB}' could not be found.`,
      });
    });

    it('children list under their parent; a missing parent is ParentResourceNotFound', async () => {
      const part = await t.inject({ method: 'PUT', url: `${WIDGETS}/p1/parts/bolt?${TV}`, body: {} });
      expect(part.status).toBe(201);
      expect(part.body.id).toBe(`${WIDGETS}/p1/parts/bolt`);
      const listed = await t.inject({ method: 'GET', url: `${WIDGETS}/P1/parts?${TV}` });
      expect(listed.body.value.map((item: { name: string }) => item.name)).toEqual(['bolt']);
      const orphan = await t.inject({ method: 'GET', url: `${WIDGETS}/ghost/parts?${TV}` });
      expect(orphan.status).toBe(404);
      expect(orphan.body.error).toEqual({
        code: 'ParentResourceNotFound',
        message: "Can not perform requested operation on nested resource. Parent resource 'ghost' not found.",
      });
      const orphanPut = await t.inject({ method: 'PUT', url: `${WIDGETS}/ghost/parts/bolt?${TV}`, body: {} });
      expect(orphanPut.status).toBe(404);
      expect(orphanPut.body.error.code).toBe('ParentResourceNotFound');
    });

    it('extension resources list on their resource; a missing resource is ResourceNotFound', async () => {
      const note = await t.inject({
        method: 'PUT',
        url: `${WIDGETS}/p2/providers/Microsoft.VaplaneTest/notes/first?${TV}`,
        body: {},
      });
      expect(note.status).toBe(201);
      expect(note.body.id).toBe(`${WIDGETS}/p2/providers/Microsoft.VaplaneTest/notes/first`);
      const listed = await t.inject({
        method: 'GET',
        url: `${WIDGETS}/p2/providers/Microsoft.VaplaneTest/notes?${TV}`,
      });
      expect(listed.body.value.map((item: { name: string }) => item.name)).toEqual(['first']);
      const missing = await t.inject({
        method: 'GET',
        url: `${WIDGETS}/ghost/providers/Microsoft.VaplaneTest/notes?${TV}`,
      });
      expect(missing.status).toBe(404);
      expect(missing.body.error).toEqual({
        code: 'ResourceNotFound',
        message:
          "The Resource 'Microsoft.VaplaneTest/widgets/ghost' under resource group 'proto' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
      });
    });

    it('an extension type on a resource type it does not extend is InvalidResourceType', async () => {
      const response = await t.inject({
        method: 'PUT',
        url: `${WIDGETS}/p1/parts/bolt/providers/Microsoft.VaplaneTest/notes/n?${TV}`,
        body: {},
      });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('InvalidResourceType');
    });

    it('a name with characters ARM reserves is InvalidResourceName', async () => {
      const response = await t.inject({ method: 'PUT', url: `${WIDGETS}/a%3Fb?${TV}`, body: {} });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('InvalidResourceName');
    });
  });

  describe('bodies', () => {
    it('a PUT body of JSON null reads as no body at all', async () => {
      const widget = await t.inject({ method: 'PUT', url: `${WIDGETS}/nullbody?${TV}`, body: 'null' });
      const empty = await t.inject({
        method: 'PUT',
        url: `${WIDGETS}/emptybody?${TV}`,
        body: '',
        headers: { 'content-type': 'application/json' },
      });
      expect(widget.status).toBe(empty.status);
      expect(widget.body.error).toEqual(empty.body.error);
      const group = await t.inject({
        method: 'PUT',
        url: `/subscriptions/${SUB}/resourceGroups/nullbody?${V}`,
        body: 'null',
      });
      expect(group.status).toBe(400);
      expect(group.body.error.code).toBe('InvalidRequestContent');
    });

    it('a byte-order mark before the JSON is accepted', async () => {
      const response = await t.inject({
        method: 'PUT',
        url: `${WIDGETS}/bom?${TV}`,
        body: '\uFEFF{"properties":{}}',
      });
      expect(response.status).toBe(201);
    });
  });

  describe('resource providers', () => {
    it('lists every served namespace with its types and api-versions, registered in the subscription', async () => {
      const response = await t.inject({ method: 'GET', url: `/subscriptions/${SUB}/providers?${V}` });
      expect(response.status).toBe(200);
      const testProvider = response.body.value.find(
        (provider: { namespace: string }) => provider.namespace === 'Microsoft.VaplaneTest',
      );
      expect(testProvider).toMatchObject({
        id: `/subscriptions/${SUB}/providers/Microsoft.VaplaneTest`,
        registrationState: 'Registered',
      });
      expect(testProvider.resourceTypes).toContainEqual(
        expect.objectContaining({ resourceType: 'widgets/parts', apiVersions: ['2024-01-01'] }),
      );
    });

    it('shows one namespace in any casing, at the tenant too, and refuses an unknown one', async () => {
      const one = await t.inject({
        method: 'GET',
        url: `/subscriptions/${SUB}/providers/microsoft.resources?${V}`,
      });
      expect(one.status).toBe(200);
      expect(one.body.namespace).toBe('Microsoft.Resources');
      const tenant = await t.inject({ method: 'GET', url: `/providers/Microsoft.Resources?${V}` });
      expect(tenant.body.id).toBe('/providers/Microsoft.Resources');
      expect(tenant.body.registrationState).toBeUndefined();
      const unknown = await t.inject({
        method: 'GET',
        url: `/subscriptions/${SUB}/providers/Microsoft.Nope?${V}`,
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.code).toBe('InvalidResourceNamespace');
      const missing = await t.inject({ method: 'GET', url: `/subscriptions/${MISSING_SUB}/providers?${V}` });
      expect(missing.body.error.code).toBe('SubscriptionNotFound');
    });

    it('register answers the provider as registered', async () => {
      const response = await t.inject({
        method: 'POST',
        url: `/subscriptions/${SUB}/providers/Microsoft.VaplaneTest/register?${V}`,
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        namespace: 'Microsoft.VaplaneTest',
        registrationState: 'Registered',
      });
    });
  });

  describe('management groups', () => {
    const MG = '/providers/Microsoft.Management/managementGroups';

    it('PUT with no body creates a group under the tenant root, named after its id', async () => {
      const created = await t.inject({ method: 'PUT', url: `${MG}/bare?api-version=2021-04-01` });
      expect(created.status).toBe(200);
      expect(created.body.properties).toMatchObject({
        displayName: 'bare',
        details: { parent: { id: `${MG}/${t.server.tenantId}` } },
      });
    });

    it('a subscription taken out of a group goes back under the tenant root group', async () => {
      const moved = await t.inject({
        method: 'PUT',
        url: `${MG}/bare/subscriptions/${SUB}?api-version=2021-04-01`,
      });
      expect(moved.status).toBe(200);
      const removed = await t.inject({
        method: 'DELETE',
        url: `${MG}/bare/subscriptions/${SUB}?api-version=2021-04-01`,
      });
      expect(removed.status).toBe(200);
      const root = await t.inject({
        method: 'GET',
        url: `${MG}/${t.server.tenantId}?api-version=2021-04-01&$expand=children`,
      });
      expect(root.body.properties.children).toContainEqual(
        expect.objectContaining({ id: `/subscriptions/${SUB}`, type: '/subscriptions' }),
      );
      const again = await t.inject({
        method: 'DELETE',
        url: `${MG}/bare/subscriptions/${SUB}?api-version=2021-04-01`,
      });
      expect(again.status).toBe(204);
    });
  });

  describe('systemData', () => {
    it('records who created and who last modified a resource, and when, by the server clock', async () => {
      const url = `${WIDGETS}/audited?${TV}`;
      const created = await t.inject({ method: 'PUT', url, body: {} });
      expect(created.body.systemData).toEqual({
        createdBy: 'admin',
        createdByType: 'User',
        createdAt: expect.any(String),
        lastModifiedBy: 'admin',
        lastModifiedByType: 'User',
        lastModifiedAt: created.body.systemData.createdAt,
      });
      const alice = await t.token({ principal: 'alice', role: 'Contributor' });
      const updated = await t.inject({ method: 'PUT', url, body: {}, token: alice });
      expect(updated.status).toBe(200);
      expect(updated.body.systemData).toMatchObject({
        createdBy: 'admin',
        createdByType: 'User',
        createdAt: created.body.systemData.createdAt,
        lastModifiedBy: 'alice',
        lastModifiedByType: 'User',
      });
      expect(Date.parse(updated.body.systemData.lastModifiedAt)).toBeGreaterThanOrEqual(
        Date.parse(created.body.systemData.createdAt),
      );
    });

    it('resource groups carry no systemData, as in Azure', async () => {
      const group = await t.inject({ method: 'GET', url: `${RG}?${V}` });
      expect(group.body.systemData).toBeUndefined();
    });

    it('management groups and role assignments record the caller in their own properties', async () => {
      const alice = await t.token({ principal: 'alice', role: 'Owner' });
      const aliceId = JSON.parse(Buffer.from(alice.split('.')[1]!, 'base64url').toString()).oid;
      const group = await t.inject({
        method: 'PUT',
        url: `/providers/Microsoft.Management/managementGroups/audit-mg?api-version=2021-04-01`,
        body: { properties: { displayName: 'Audit' } },
        token: alice,
      });
      expect(group.status).toBe(200);
      expect(group.body.properties.details.updatedBy).toBe(aliceId);
      expect(group.body.systemData).toBeUndefined();
      const assignment = await t.inject({
        method: 'PUT',
        url: `${RG}/providers/Microsoft.Authorization/roleAssignments/0b5c3a4e-1d2f-4a6b-8c9d-0e1f2a3b4c5d?api-version=2022-04-01`,
        body: {
          properties: {
            roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
            principalId: '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
          },
        },
        token: alice,
      });
      expect(assignment.status).toBe(201);
      expect(assignment.body.properties).toMatchObject({ createdBy: aliceId, updatedBy: aliceId });
    });
  });
});

describe('ARM protocol on the wire', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ throttle: 'arm' });
    await addSubscription(t.server, { subscriptionId: SUB });
  });
  afterAll(() => t.close());

  /** Sends raw bytes over TLS and returns everything the server answers before it closes. */
  function rawExchange(bytes: string): Promise<string> {
    const { port } = new URL(t.url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false }, () =>
        socket.write(bytes),
      );
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => {
        answer += chunk;
      });
      socket.on('end', () => resolve(answer));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });
  }

  it("a request that is not HTTP gets an ARM 400 envelope, not Fastify's", async () => {
    const answer = await rawExchange('THIS IS NOT HTTP\r\n\r\n');
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(head).toMatch(/content-type: application\/json; charset=utf-8/i);
    expect(head).toMatch(/x-ms-request-id: [0-9a-f-]{36}/i);
    expect(JSON.parse(body!)).toEqual({
      error: { code: 'BadRequest', message: 'The request is not valid HTTP and could not be read.' },
    });
  });

  it('past the read bucket a caller gets 429 SubscriptionRequestsThrottled with Retry-After', async () => {
    const token = await t.token({ principal: 'busy', role: 'Reader' });
    const url = `/subscriptions/${SUB}/resourceGroups?${V}`;
    let last = await t.inject({ method: 'GET', url, token });
    expect(last.headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('249');
    for (let k = 0; k < 260 && last.status === 200; k++) last = await t.inject({ method: 'GET', url, token });
    expect(last.status).toBe(429);
    expect(last.body.error.code).toBe('SubscriptionRequestsThrottled');
    expect(Number(last.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(last.headers['x-ms-failure-cause']).toBe('gateway');
    const other = await t.inject({ method: 'GET', url });
    expect(other.status).toBe(200);
  });
});
