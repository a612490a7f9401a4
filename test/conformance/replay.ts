/**
 * Replays Microsoft's `x-ms-examples` against a running vaplane and compares what it answers with what
 * the example says Azure answers.
 *
 * For each listed operation of a swagger file, every example it references becomes a case: the request
 * is built from the example's `parameters` (path from the operation's path template, query and body
 * parameters as the swagger declares them), on a fresh subscription so cases do not see each other's
 * writes. Before it is sent, the world the example assumes is seeded:
 * - the subscription, resource groups and scope resources (VMs, Arc machines — see `SCOPE_SEEDERS`);
 * - for a GET of one resource, a PUT of the example's response body with its read-only properties
 *   removed (read off the response schema);
 * - for a list, the same PUT for every listed item, at the listed scope;
 * - for a DELETE, the body of a PUT example of the same path and parameters.
 * The status must be one the example lists, and the body must equal the example's body for that status
 * once volatile values are normalised on both sides: ids' leading slash, subscription GUIDs, timestamps,
 * etags and the `systemData` actor. Arrays of named items (lists' `value`, pricing `extensions`) are
 * matched by name in any order.
 *
 * Differences are reported with paths such as `value[name=Dns].properties.deprecated`; a `Divergence`
 * accepts the differences under its paths (or a different status) and must say why. A divergence that
 * the replay no longer observes is reported too, so the table stays true.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { virtualMachineRecord } from '../../src/providers/compute/model.js';
import { arcMachineRecord } from '../../src/providers/hybridcompute/model.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import type { VaplaneServer } from '../../src/server.js';
import { putResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import type { TestServer } from '../support/server.js';

/** `../shared/azure` beside the repository, or `VAPLANE_AZURE_CORPUS`. */
export function corpusRoot(): string {
  const repository = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  return process.env.VAPLANE_AZURE_CORPUS ?? resolve(repository, '../shared/azure');
}

const SPECIFICATION = 'azure-rest-api-specs/specification';

/** Operations to replay: every example their swagger references through `x-ms-examples`. */
export interface ReplayTarget {
  /** The swagger file, relative to `specification/`. */
  spec: string;
  operations: readonly string[];
}

/**
 * An example the corpus holds without the swagger of its api-version: it is replayed with the
 * operation shape (path template, parameters, schemas) of a sibling version's swagger.
 */
export interface AdoptedExample {
  example: string;
  spec: string;
  operation: string;
  reason: string;
}

/**
 * Requests that build the world an example assumes when the automatic seeding cannot (state the
 * example implies but does not show, such as a pricing a machine inherits from its subscription).
 * `{subscriptionId}` in a path is the case's fresh subscription; the case's api-version is appended.
 */
export interface SeedPlan {
  steps: readonly { path: string; body: unknown }[];
  /** Also run the automatic seeding (after the steps). Default false. */
  automatic?: boolean;
}

/** A known, explained difference between vaplane and one example. */
export interface Divergence {
  /** The example file, relative to `specification/`. */
  example: string;
  /** Difference paths (prefixes, `*` matching within one segment) vaplane answers differently. */
  paths?: readonly string[];
  /** The status vaplane answers instead of the example's (the body is then not compared). */
  status?: number;
  reason: string;
}

export interface ReplayCase {
  operationId: string;
  apiVersion: string;
  method: string;
  pathTemplate: string;
  /** Relative to `specification/`. */
  example: string;
  spec: string;
  present: boolean;
  adopted?: string;
}

export interface Difference {
  path: string;
  kind: 'missing' | 'extra' | 'changed' | 'status';
  expected?: unknown;
  actual?: unknown;
}

export interface ReplayResult {
  replayCase: ReplayCase;
  outcome: 'pass' | 'diverges' | 'FAIL' | 'absent';
  differences: Difference[];
  /** Differences no divergence explains. */
  unexpected: Difference[];
  /** Declared divergence paths (or status) that did not occur. */
  stale: string[];
  /** Seeding requests that failed (they explain differences, they do not fail a case). */
  seedNotes: string[];
  status?: number;
}

// ---------------------------------------------------------------------------------------------------
// Swagger reading

interface Located<T = any> {
  value: T;
  file: string;
}

const jsonCache = new Map<string, any>();

function readJson(file: string): any {
  let value = jsonCache.get(file);
  if (value === undefined) {
    value = JSON.parse(readFileSync(file, 'utf8'));
    jsonCache.set(file, value);
  }
  return value;
}

/** Follows `$ref`s (local `#/...` or relative `file.json#/...`) until a non-reference value. */
function deref(value: any, file: string): Located {
  let current: Located = { value, file };
  for (let hops = 0; current.value && typeof current.value.$ref === 'string'; hops++) {
    if (hops > 20) throw new Error(`$ref loop at ${file}`);
    const [target, pointer = ''] = current.value.$ref.split('#');
    const targetFile = target ? resolve(dirname(current.file), target) : current.file;
    let node = readJson(targetFile);
    for (const segment of pointer.split('/').filter(Boolean)) {
      node = node?.[decodeURIComponent(segment.replace(/~1/g, '/').replace(/~0/g, '~'))];
    }
    if (node === undefined) throw new Error(`unresolved $ref ${current.value.$ref} in ${current.file}`);
    current = { value: node, file: targetFile };
  }
  return current;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'body' | 'header';
  'x-ms-skip-url-encoding'?: boolean;
  schema?: any;
  file: string;
}

interface Operation {
  spec: string;
  file: string;
  pathTemplate: string;
  method: string;
  operationId: string;
  apiVersion: string;
  parameters: Parameter[];
  responses: Record<string, any>;
  pathItem: any;
}

function operationsOf(specFile: string): Operation[] {
  const swagger = readJson(specFile);
  const found: Operation[] = [];
  for (const [pathTemplate, pathItem] of Object.entries<any>(swagger.paths ?? {})) {
    for (const method of ['get', 'put', 'patch', 'delete', 'post', 'head']) {
      const operation = pathItem[method];
      if (!operation) continue;
      const parameters = [...(pathItem.parameters ?? []), ...(operation.parameters ?? [])].map((raw: any) => {
        const located = deref(raw, specFile);
        return { ...located.value, file: located.file } as Parameter;
      });
      found.push({
        spec: specFile,
        file: specFile,
        pathTemplate,
        method: method.toUpperCase(),
        operationId: operation.operationId,
        apiVersion: swagger.info.version,
        parameters,
        responses: operation.responses ?? {},
        pathItem,
      });
    }
  }
  return found;
}

function examplesOf(operation: Operation): string[] {
  const examples = operation.pathItem[operation.method.toLowerCase()]['x-ms-examples'] ?? {};
  return Object.values<any>(examples).map((entry) => resolve(dirname(operation.file), entry.$ref));
}

export interface CollectedCase extends ReplayCase {
  operation: Operation;
  file: string;
}

/** Every example of the listed operations (and the adopted ones), in the order the swaggers list them. */
export function collectCases(
  targets: readonly ReplayTarget[],
  adopted: readonly AdoptedExample[] = [],
  corpus = corpusRoot(),
): CollectedCase[] {
  const specification = join(corpus, SPECIFICATION);
  const cases: CollectedCase[] = [];
  const toCase = (operation: Operation, file: string, adoptedReason?: string): CollectedCase => {
    const present = existsSync(file);
    const apiVersion = present
      ? (readJson(file).parameters?.['api-version'] ?? operation.apiVersion)
      : operation.apiVersion;
    return {
      operationId: operation.operationId,
      apiVersion,
      method: operation.method,
      pathTemplate: operation.pathTemplate,
      example: relative(specification, file),
      spec: relative(specification, operation.file),
      present,
      adopted: adoptedReason,
      operation,
      file,
    };
  };
  for (const target of targets) {
    const specFile = join(specification, target.spec);
    const operations = operationsOf(specFile);
    for (const operationId of target.operations) {
      const operation = operations.find((candidate) => candidate.operationId === operationId);
      if (!operation) throw new Error(`${target.spec} has no operation ${operationId}`);
      for (const file of examplesOf(operation)) cases.push(toCase(operation, file));
    }
  }
  for (const entry of adopted) {
    const operation = operationsOf(join(specification, entry.spec)).find(
      (candidate) => candidate.operationId === entry.operation,
    );
    if (!operation) throw new Error(`${entry.spec} has no operation ${entry.operation}`);
    cases.push(toCase(operation, join(specification, entry.example), entry.reason));
  }
  return cases;
}

/**
 * Example files the corpus holds for the collected cases' example groups (`examples/Pricings`, … in
 * every api-version folder of the same namespace) that no case replays: examples a swagger does not
 * reference, or whose version's swagger is not in the corpus. Adopt them or say why not.
 */
export function unreplayedExamples(cases: readonly CollectedCase[], corpus = corpusRoot()): string[] {
  const specification = join(corpus, SPECIFICATION);
  const replayed = new Set(cases.map((replayCase) => replayCase.file));
  const folders = new Set<string>();
  for (const replayCase of cases) {
    // {namespace}/{stable|preview}/{version}/examples/{group}/{file}
    const group = dirname(replayCase.file);
    const namespace = dirname(dirname(dirname(dirname(group))));
    for (const stage of ['stable', 'preview']) {
      if (!existsSync(join(namespace, stage))) continue;
      for (const version of readdirSync(join(namespace, stage))) {
        const folder = join(namespace, stage, version, 'examples', basename(group));
        if (existsSync(folder)) folders.add(folder);
      }
    }
  }
  const found: string[] = [];
  for (const folder of folders) {
    for (const name of readdirSync(folder)) {
      const file = join(folder, name);
      if (name.endsWith('.json') && !replayed.has(file)) found.push(relative(specification, file));
    }
  }
  return found.sort();
}

// ---------------------------------------------------------------------------------------------------
// Requests

function parameterValue(parameters: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(parameters).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : parameters[key];
}

interface BuiltRequest {
  method: string;
  url: string;
  body?: unknown;
  headers: Record<string, string>;
}

function buildRequest(operation: Operation, parameters: Record<string, unknown>): BuiltRequest {
  let path = operation.pathTemplate;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  let body: unknown;
  for (const parameter of operation.parameters) {
    const value = parameterValue(parameters, parameter.name);
    if (parameter.in === 'path') {
      if (value === undefined) throw new Error(`example lacks path parameter ${parameter.name}`);
      const text = String(value);
      path = path.replace(
        `{${parameter.name}}`,
        parameter['x-ms-skip-url-encoding'] ? text : encodeURIComponent(text),
      );
    } else if (value === undefined) {
    } else if (parameter.in === 'query') {
      query.set(parameter.name, String(value));
    } else if (parameter.in === 'header') {
      headers[parameter.name.toLowerCase()] = String(value);
    } else if (parameter.in === 'body') {
      body = value;
    }
  }
  path = path.replace(/\/{2,}/g, '/');
  return { method: operation.method, url: `${path}?${query.toString()}`, body, headers };
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const SUBSCRIPTION_IN_ID =
  /(^|\/)subscriptions\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/gi;

/** The example's parameters with each subscription id it uses replaced by a fresh one. */
function freshSubscriptions(parameters: Record<string, unknown>): {
  parameters: Record<string, unknown>;
  subscriptions: string[];
} {
  const mapping = new Map<string, string>();
  const fresh = (id: string) => {
    const key = id.toLowerCase();
    if (!mapping.has(key)) mapping.set(key, randomUUID());
    return mapping.get(key)!;
  };
  const subscriptionId = parameterValue(parameters, 'subscriptionId');
  if (typeof subscriptionId === 'string') fresh(subscriptionId);
  for (const value of Object.values(parameters)) {
    if (typeof value === 'string') for (const match of value.matchAll(SUBSCRIPTION_IN_ID)) fresh(match[2]!);
  }
  const rewrite = (value: unknown): unknown => {
    if (typeof value === 'string')
      return value.replace(GUID, (guid) => mapping.get(guid.toLowerCase()) ?? guid);
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, rewrite(inner)]));
    }
    return value;
  };
  return { parameters: rewrite(parameters) as Record<string, unknown>, subscriptions: [...mapping.values()] };
}

// ---------------------------------------------------------------------------------------------------
// Seeding

export type ScopeSeeder = (
  server: VaplaneServer,
  scope: { subscriptionId: string; resourceGroup: string; name: string; now: string },
) => Promise<void>;

/** Scope resources the examples hang pricings and assessments off; the next types add theirs here. */
export const SCOPE_SEEDERS: Record<string, ScopeSeeder> = {
  'microsoft.compute/virtualmachines': async (server, scope) => {
    await putResource(
      server.store.db,
      virtualMachineRecord({
        ...scope,
        location: 'westeurope',
        osType: 'Linux',
        image: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server' },
        powerState: 'running',
      }),
    );
  },
  'microsoft.hybridcompute/machines': async (server, scope) => {
    await putResource(
      server.store.db,
      arcMachineRecord({ ...scope, location: 'westeurope', osType: 'linux', status: 'Connected' }),
    );
  },
};

/** Creates the subscription, resource group and scope resource a request path names. */
async function seedScopes(server: VaplaneServer, url: string, notes: string[]): Promise<void> {
  const segments = url.split('?')[0]!.split('/').filter(Boolean);
  const now = server.services.clock.now().toISOString();
  if (segments[0]?.toLowerCase() !== 'subscriptions' || !segments[1]) return;
  const subscriptionId = segments[1];
  await addSubscription(server, { subscriptionId });
  if (segments[2]?.toLowerCase() !== 'resourcegroups' || !segments[3]) return;
  const resourceGroup = segments[3];
  await putResource(
    server.store.db,
    resourceGroupRecord({ subscriptionId, name: resourceGroup, location: 'westeurope', now }),
  );
  if (segments[4]?.toLowerCase() !== 'providers' || !segments[5] || !segments[6] || !segments[7]) return;
  const type = `${segments[5]}/${segments[6]}`.toLowerCase();
  if (segments[5].toLowerCase() === 'microsoft.security') return;
  const seeder = SCOPE_SEEDERS[type];
  if (!seeder) {
    notes.push(`no seeder for scope type ${segments[5]}/${segments[6]}`);
    return;
  }
  await seeder(server, { subscriptionId, resourceGroup, name: segments[7], now });
}

/** The properties a schema defines: its own, its `allOf` bases' and, for a discriminated base, the subtype's. */
function schemaProperties(schema: any, file: string, value: any): Map<string, Located> {
  const properties = new Map<string, Located>();
  const visit = (raw: any, from: string, depth: number) => {
    if (depth > 10 || !raw) return;
    const { value: node, file: nodeFile } = deref(raw, from);
    for (const base of node.allOf ?? []) visit(base, nodeFile, depth + 1);
    for (const [name, property] of Object.entries<any>(node.properties ?? {})) {
      properties.set(name, { value: property, file: nodeFile });
    }
    if (node.discriminator && value && typeof value[node.discriminator] === 'string') {
      const definitions = readJson(nodeFile).definitions ?? {};
      for (const [name, definition] of Object.entries<any>(definitions)) {
        const tag = definition['x-ms-discriminator-value'] ?? name;
        const extendsBase = (definition.allOf ?? []).some(
          (base: any) => deref(base, nodeFile).value === node,
        );
        if (extendsBase && tag === value[node.discriminator]) {
          for (const [propertyName, property] of Object.entries<any>(definition.properties ?? {})) {
            properties.set(propertyName, { value: property, file: nodeFile });
          }
        }
      }
    }
  };
  visit(schema, file, 0);
  return properties;
}

/** A response body turned into a request body: every property the schema marks read-only removed. */
function withoutReadOnly(value: unknown, schema: any, file: string): unknown {
  if (!schema) return value;
  if (Array.isArray(value)) {
    const { value: node, file: nodeFile } = deref(schema, file);
    return value.map((item) => withoutReadOnly(item, node.items, nodeFile));
  }
  if (!value || typeof value !== 'object') return value;
  const properties = schemaProperties(schema, file, value);
  const result: Record<string, unknown> = {};
  for (const [name, inner] of Object.entries(value)) {
    const property = properties.get(name);
    if (property) {
      const resolved = deref(property.value, property.file);
      if (property.value.readOnly || resolved.value.readOnly) continue;
      result[name] = withoutReadOnly(inner, property.value, property.file);
    } else {
      result[name] = inner;
    }
  }
  return result;
}

function responseSchema(operation: Operation, status: string): Located | undefined {
  const schema = operation.responses[status]?.schema;
  return schema ? { value: schema, file: operation.file } : undefined;
}

async function seedFor(
  t: TestServer,
  replayCase: CollectedCase,
  request: BuiltRequest,
  example: any,
  parameters: Record<string, unknown>,
  notes: string[],
): Promise<void> {
  const { operation } = replayCase;
  const apiVersion = new URLSearchParams(request.url.split('?')[1]).get('api-version');
  const put = async (url: string, body: unknown) => {
    await seedScopes(t.server, url, notes);
    const response = await t.inject({ method: 'PUT', url, body });
    if (response.status >= 300)
      notes.push(`seed PUT ${url.split('?')[0]} → ${response.status} ${response.body?.error?.code ?? ''}`);
  };
  const expected = example.responses?.['200']?.body;
  if (operation.method === 'GET' && expected && Array.isArray(expected.value)) {
    const schema = responseSchema(operation, '200')!;
    const itemSchema = schemaProperties(schema.value, schema.file, expected).get('value');
    const subscriptionId = /\/subscriptions\/([^/?]+)/i.exec(request.url)?.[1];
    for (const item of expected.value) {
      if (typeof item?.id !== 'string') continue;
      const id = `/${item.id.replace(/^\/+/, '')}`.replace(
        SUBSCRIPTION_IN_ID,
        `$1subscriptions/${subscriptionId}`,
      );
      const items = itemSchema && deref(itemSchema.value, itemSchema.file);
      await put(
        `${id}?api-version=${apiVersion}`,
        withoutReadOnly(item, items?.value.items, items?.file ?? operation.file),
      );
    }
  } else if (operation.method === 'GET' && expected) {
    const schema = responseSchema(operation, '200')!;
    await put(request.url, withoutReadOnly(expected, schema.value, schema.file));
  } else if (operation.method === 'DELETE') {
    const sibling = operation.pathItem.put;
    const body = sibling ? siblingPutBody(operation, parameters) : undefined;
    if (body === undefined) notes.push('no PUT example with the same parameters to seed from');
    else await put(buildRequest({ ...operation, method: 'PUT' }, { ...parameters }).url, body);
  }
}

/** The body of a PUT example of the same path whose path parameters equal the DELETE's. */
function siblingPutBody(operation: Operation, parameters: Record<string, unknown>): unknown {
  const put = operationsOf(operation.file).find(
    (candidate) => candidate.pathTemplate === operation.pathTemplate && candidate.method === 'PUT',
  );
  if (!put) return undefined;
  const bodyParameter = put.parameters.find((parameter) => parameter.in === 'body');
  const pathNames = operation.parameters.filter((parameter) => parameter.in === 'path').map((p) => p.name);
  for (const file of examplesOf(put)) {
    if (!existsSync(file)) continue;
    const candidate = readJson(file).parameters ?? {};
    const same = pathNames.every((name) => {
      const mine = String(parameterValue(parameters, name) ?? '').replace(GUID, '');
      const theirs = String(parameterValue(candidate, name) ?? '').replace(GUID, '');
      return mine.toLowerCase() === theirs.toLowerCase();
    });
    if (same && bodyParameter) return parameterValue(candidate, bodyParameter.name);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Comparison

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/** Volatile values replaced by placeholders, on both sides alike. */
export function normalise(value: unknown, key?: string, parentKey?: string): unknown {
  if (typeof value === 'string') {
    if (key?.toLowerCase() === 'etag') return '{etag}';
    if (parentKey === 'systemData' && (key === 'createdBy' || key === 'lastModifiedBy')) return '{actor}';
    if (TIMESTAMP.test(value)) return '{timestamp}';
    if (/^\/?subscriptions\//i.test(value)) {
      return `/${value.replace(/^\/+/, '')}`.replace(SUBSCRIPTION_IN_ID, '$1subscriptions/{subscriptionId}');
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => normalise(item, undefined, parentKey));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([inner, item]) => [inner, normalise(item, inner, key)]),
    );
  }
  return value;
}

function isNamedArray(value: unknown[]): boolean {
  return value.every((item) => item && typeof item === 'object' && typeof (item as any).name === 'string');
}

/** Differences between an expected and an actual JSON value, with paths into the expected shape. */
export function diff(expected: unknown, actual: unknown, path = ''): Difference[] {
  const at = (suffix: string) => (path ? `${path}${suffix.startsWith('[') ? '' : '.'}${suffix}` : suffix);
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (isNamedArray(expected) && isNamedArray(actual)) {
      const found: Difference[] = [];
      const unmatched = new Set(actual);
      for (const item of expected as any[]) {
        const match = (actual as any[]).find(
          (candidate) => unmatched.has(candidate) && candidate.name.toLowerCase() === item.name.toLowerCase(),
        );
        const itemPath = at(`[name=${item.name}]`);
        if (!match) found.push({ path: itemPath, kind: 'missing', expected: item });
        else {
          unmatched.delete(match);
          found.push(...diff(item, match, itemPath));
        }
      }
      for (const extra of unmatched as Set<any>)
        found.push({ path: at(`[name=${extra.name}]`), kind: 'extra', actual: extra });
      return found;
    }
    const found: Difference[] = [];
    for (let k = 0; k < Math.max(expected.length, actual.length); k++) {
      if (k >= actual.length) found.push({ path: at(`[${k}]`), kind: 'missing', expected: expected[k] });
      else if (k >= expected.length) found.push({ path: at(`[${k}]`), kind: 'extra', actual: actual[k] });
      else found.push(...diff(expected[k], actual[k], at(`[${k}]`)));
    }
    return found;
  }
  const isObject = (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (isObject(expected) && isObject(actual)) {
    const found: Difference[] = [];
    const expectedObject = expected as Record<string, unknown>;
    const actualObject = actual as Record<string, unknown>;
    for (const [key, value] of Object.entries(expectedObject)) {
      if (!(key in actualObject)) found.push({ path: at(key), kind: 'missing', expected: value });
      else found.push(...diff(value, actualObject[key], at(key)));
    }
    for (const [key, value] of Object.entries(actualObject)) {
      if (!(key in expectedObject)) found.push({ path: at(key), kind: 'extra', actual: value });
    }
    return found;
  }
  return Object.is(expected, actual) ? [] : [{ path: path || '(body)', kind: 'changed', expected, actual }];
}

export function patternMatches(pattern: string, path: string): boolean {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.\\]]*');
  return new RegExp(`^${escaped}(?=$|[.[])`).test(path);
}

// ---------------------------------------------------------------------------------------------------
// Replay

export async function replay(
  t: TestServer,
  replayCase: CollectedCase,
  divergences: readonly Divergence[],
  seeds: Readonly<Record<string, SeedPlan>> = {},
): Promise<ReplayResult> {
  const declared = divergences.filter((divergence) => divergence.example === replayCase.example);
  const result: ReplayResult = {
    replayCase,
    outcome: 'pass',
    differences: [],
    unexpected: [],
    stale: [],
    seedNotes: [],
  };
  if (!replayCase.present) {
    result.outcome = 'absent';
    return result;
  }
  const example = readJson(replayCase.file);
  const { parameters, subscriptions } = freshSubscriptions(example.parameters ?? {});
  for (const subscriptionId of subscriptions) await addSubscription(t.server, { subscriptionId });
  const request = buildRequest(replayCase.operation, parameters);
  await seedScopes(t.server, request.url, result.seedNotes);
  const plan = seeds[replayCase.example];
  if (plan) {
    const apiVersion = new URLSearchParams(request.url.split('?')[1]).get('api-version');
    for (const step of plan.steps) {
      const url = `${step.path.replace('{subscriptionId}', subscriptions[0]!)}?api-version=${apiVersion}`;
      await seedScopes(t.server, url, result.seedNotes);
      const seeded = await t.inject({ method: 'PUT', url, body: step.body });
      if (seeded.status >= 300) result.seedNotes.push(`seed PUT ${url.split('?')[0]} → ${seeded.status}`);
    }
  }
  if (!plan || plan.automatic) await seedFor(t, replayCase, request, example, parameters, result.seedNotes);
  const response = await t.inject({
    method: request.method as 'GET',
    url: request.url,
    body: request.body,
    headers: request.headers,
  });
  result.status = response.status;

  const statuses = Object.keys(example.responses ?? {});
  const statusDivergence = declared.find((divergence) => divergence.status !== undefined);
  if (statusDivergence) {
    if (response.status !== statusDivergence.status) {
      result.differences.push({
        path: '(status)',
        kind: 'status',
        expected: statusDivergence.status,
        actual: response.status,
      });
      result.unexpected.push(result.differences[0]!);
    }
  } else if (!statuses.includes(String(response.status))) {
    const difference: Difference = {
      path: '(status)',
      kind: 'status',
      expected: statuses,
      actual: response.status,
    };
    result.differences.push(difference);
    result.unexpected.push({ ...difference, actual: { status: response.status, body: response.body } });
  } else {
    const expectedResponse = example.responses[String(response.status)];
    if (expectedResponse && 'body' in expectedResponse) {
      result.differences = diff(normalise(expectedResponse.body), normalise(response.body));
    }
  }

  const patterns = declared.flatMap((divergence) => divergence.paths ?? []);
  const used = new Set<string>();
  for (const difference of result.differences) {
    if (difference.kind === 'status') continue;
    const pattern = patterns.find((candidate) => patternMatches(candidate, difference.path));
    if (pattern) used.add(pattern);
    else result.unexpected.push(difference);
  }
  result.stale = patterns.filter((pattern) => !used.has(pattern));
  if (statusDivergence && response.status === statusDivergence.status) used.add('(status)');
  if (result.unexpected.length > 0 || result.stale.length > 0) result.outcome = 'FAIL';
  else if (used.size > 0) result.outcome = 'diverges';
  return result;
}

/** The per-operation table printed after a run. */
export function resultTable(results: readonly ReplayResult[]): string {
  const rows = results.map((result) => [
    result.replayCase.operationId,
    result.replayCase.apiVersion,
    result.replayCase.example.replace(/^security\/resource-manager\/Microsoft\.Security\//, ''),
    result.outcome === 'FAIL'
      ? `FAIL (${[...result.unexpected.map((d) => `${d.kind} ${d.path}`), ...result.stale.map((p) => `stale ${p}`)].join('; ')})`
      : result.outcome === 'absent'
        ? 'absent (referenced, not in the corpus)'
        : `${result.outcome}${result.status === undefined ? '' : ` (${result.status})`}`,
  ]);
  const header = ['operationId', 'api-version', 'example', 'result'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) => `| ${cells.map((cell, k) => cell.padEnd(widths[k]!)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/**
 * One test per case, named by operation, api-version and example file: `run` replays the case (on
 * whatever world the suite prepares) and the test expects no unexpected or stale difference.
 */
export function replayEach(
  cases: readonly CollectedCase[],
  results: ReplayResult[],
  run: (replayCase: CollectedCase) => Promise<ReplayResult>,
): void {
  it.each(
    cases.map(
      (replayCase) =>
        [
          `${replayCase.operationId} ${replayCase.apiVersion} ${replayCase.example.split('/').pop()}`,
          replayCase,
        ] as const,
    ),
  )('%s', async (_title, replayCase) => {
    const result = await run(replayCase);
    results.push(result);
    expect(
      { unexpected: result.unexpected, stale: result.stale },
      `seed notes: ${result.seedNotes.join('; ') || 'none'}`,
    ).toEqual({ unexpected: [], stale: [] });
  });
}

/**
 * Prints the results table and `{title}: N examples: n pass, …`. With `VAPLANE_REPLAY_REPORT` set and a
 * `reportSuffix` given ('' for the file as named), also writes the results there as JSON, the suffix
 * before `.json`.
 */
export function reportResults(title: string, results: readonly ReplayResult[], reportSuffix?: string): void {
  console.log(`\n${resultTable(results)}\n`);
  const counts = ['pass', 'diverges', 'FAIL', 'absent'].map(
    (outcome) => `${results.filter((result) => result.outcome === outcome).length} ${outcome}`,
  );
  console.log(`${title}: ${results.length} examples: ${counts.join(', ')}`);
  const report = process.env.VAPLANE_REPLAY_REPORT;
  if (report && reportSuffix !== undefined) {
    writeFileSync(report.replace(/(\.json)?$/, `${reportSuffix}$1`), JSON.stringify(results, null, 2));
  }
}

/** The examples named (by divergences, adoptions, seeds) that no case replays. */
export function namedButNotReplayed(cases: readonly CollectedCase[], named: readonly string[]): string[] {
  const known = new Set(cases.map((replayCase) => replayCase.example));
  return named.filter((example) => !known.has(example));
}
