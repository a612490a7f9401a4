/**
 * Records what a vaplane test server answers and validates it against Microsoft's OpenAPI files with
 * `oav validate-traffic` (Microsoft's own live-traffic validator, 4.0.3).
 *
 * - `recording(t, exchanges)` wraps a test server: every request sent through its `inject` — the
 *   replay harness's seeding PUTs included — is kept with the server's answer.
 * - `loadSpecs` / `routeExchange` say which swagger file and operation an exchange belongs to, by the
 *   swagger's path templates (case-insensitive, as ARM routes), its method and its `info.version`:
 *   oav only matches an operation of the exchange's exact api-version, so an exchange whose version no
 *   swagger in the corpus describes cannot be validated and is reported as such.
 * - `writeTraffic` writes one oav traffic file per exchange (`liveRequest` / `liveResponse`, status as
 *   a string, URL on https://management.azure.com) in one directory per swagger file.
 * - `validateTraffic` runs `oav validate-traffic DIR SPEC --jsonReport … -l error --report ''` and
 *   reads the JSON report. `--report ''` skips the HTML report, whose template the oav package lacks
 *   (it would print a fatal error after the JSON is written); the report's counts are the authority.
 *   The JSON report names no traffic file, so each error is tied to its file through the per-file
 *   results oav then logs, and the two are checked to agree. oav does not put an exchange that matches
 *   no operation in either: it prints `Error: Undefined operation …`, which is collected.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { TestServer } from '../support/server.js';

const SPECIFICATION = 'azure-rest-api-specs/specification';

/** One request the server answered. */
export interface Exchange {
  /** What produced it (a replayed example, a hand-made step). */
  label: string;
  method: string;
  /** Path and query as sent. */
  url: string;
  requestHeaders: Record<string, string>;
  requestBody?: unknown;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody?: unknown;
}

/** The label the next recorded exchanges get. */
export interface RecordingLabel {
  current: string;
}

/**
 * The test server, with every `inject` recorded into `exchanges` under `label.current`. The bearer
 * token is not recorded: it is no part of the contract oav checks.
 */
export function recording(t: TestServer, exchanges: Exchange[], label: RecordingLabel): TestServer {
  const inject: TestServer['inject'] = async (request) => {
    const response = await t.inject(request);
    const requestHeaders: Record<string, string> = { ...(request.headers ?? {}) };
    let requestBody = request.body;
    if (requestBody !== undefined) {
      requestHeaders['content-type'] ??= 'application/json';
      if (typeof requestBody === 'string') {
        try {
          requestBody = JSON.parse(requestBody);
        } catch {
          // A body that is not JSON is recorded as sent.
        }
      }
    }
    const responseHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined)
        responseHeaders[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    exchanges.push({
      label: label.current,
      method: request.method,
      url: request.url,
      requestHeaders,
      requestBody,
      status: response.status,
      responseHeaders,
      responseBody: response.text === '' ? undefined : response.body,
    });
    return response;
  };
  return { ...t, inject };
}

// ---------------------------------------------------------------------------------------------------
// Swagger routing

export interface SpecOperation {
  operationId: string;
  method: string;
  pathTemplate: string;
  pattern: RegExp;
}

export interface SpecFile {
  /** Relative to `specification/`. */
  spec: string;
  file: string;
  apiVersion: string;
  operations: SpecOperation[];
}

function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** A parameter object, its `$ref` (local or into another file) followed. */
function parameterOf(raw: any, file: string): any {
  if (typeof raw?.$ref !== 'string') return raw;
  const [target, pointer = ''] = raw.$ref.split('#');
  let node = readJson(target ? resolve(dirname(file), target) : file);
  for (const segment of pointer.split('/').filter(Boolean)) node = node?.[segment];
  return node;
}

/**
 * The swagger's path template as a case-insensitive pattern: a parameter marked
 * `x-ms-skip-url-encoding` (`{scope}`, `{scopeId}`, `{resourceId}`) spans segments, others one.
 */
function templatePattern(pathTemplate: string, parameters: any[]): RegExp {
  const spanning = new Set(
    parameters.filter((p) => p?.in === 'path' && p['x-ms-skip-url-encoding']).map((p) => p.name),
  );
  const source = pathTemplate
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const name = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (name) return spanning.has(name) ? '(.+)' : '([^/]+)';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`, 'i');
}

/** The swagger files (relative to `specification/`), each with its operations and path patterns. */
export function loadSpecs(corpus: string, specs: readonly string[]): SpecFile[] {
  return specs.map((spec) => {
    const file = join(corpus, SPECIFICATION, spec);
    const swagger = readJson(file);
    const operations: SpecOperation[] = [];
    for (const [pathTemplate, pathItem] of Object.entries<any>(swagger.paths ?? {})) {
      for (const method of ['get', 'put', 'patch', 'delete', 'post', 'head']) {
        const operation = pathItem[method];
        if (!operation) continue;
        const parameters = [...(pathItem.parameters ?? []), ...(operation.parameters ?? [])].map((raw) =>
          parameterOf(raw, file),
        );
        operations.push({
          operationId: operation.operationId,
          method: method.toUpperCase(),
          pathTemplate,
          pattern: templatePattern(pathTemplate, parameters),
        });
      }
    }
    return { spec, file, apiVersion: swagger.info.version, operations };
  });
}

export interface Route {
  spec: SpecFile;
  operation: SpecOperation;
}

/** The swagger operation an exchange belongs to, or why there is none. */
export function routeExchange(specs: readonly SpecFile[], exchange: Exchange): Route | { unrouted: string } {
  const [rawPath = '', query = ''] = exchange.url.split('?');
  const path = rawPath.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
  const apiVersion = new URLSearchParams(query).get('api-version');
  const matches: Route[] = [];
  let otherVersions = false;
  for (const spec of specs) {
    for (const operation of spec.operations) {
      if (operation.method !== exchange.method || !operation.pattern.test(path)) continue;
      if (spec.apiVersion === apiVersion) matches.push({ spec, operation });
      else otherVersions = true;
    }
  }
  // The most specific template wins (`/{scope}/…/assessments` against `/subscriptions/{id}/…`).
  matches.sort((a, b) => b.operation.pathTemplate.length - a.operation.pathTemplate.length);
  if (matches[0]) return matches[0];
  return {
    unrouted: otherVersions
      ? `no swagger of api-version ${apiVersion} in the corpus`
      : 'no swagger operation has this method and path',
  };
}

// ---------------------------------------------------------------------------------------------------
// oav

const ARM = 'https://management.azure.com';

/** oav's traffic file for one exchange. */
export function trafficFile(exchange: Exchange): unknown {
  return {
    liveRequest: {
      method: exchange.method,
      url: `${ARM}${exchange.url}`,
      headers: exchange.requestHeaders,
      body: exchange.requestBody ?? null,
    },
    liveResponse: {
      statusCode: String(exchange.status),
      headers: exchange.responseHeaders,
      body: exchange.responseBody ?? null,
    },
  };
}

/** Writes the exchanges as `0001.json`, `0002.json`, … in `dir`; returns the file of each. */
export function writeTraffic(dir: string, exchanges: readonly Exchange[]): Map<string, Exchange> {
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, Exchange>();
  exchanges.forEach((exchange, k) => {
    const file = join(dir, `${String(k + 1).padStart(4, '0')}.json`);
    writeFileSync(file, JSON.stringify(trafficFile(exchange), null, 2));
    files.set(file, exchange);
  });
  return files;
}

/** The JSON report `oav validate-traffic --jsonReport` writes. */
export interface OavReport {
  coveredSpecFiles: string[];
  allOperations: number;
  coveredOperations: number;
  unCoveredOperationsList: { spec: string; operationIds: string[] }[];
  passedOperationsList: { spec: string; operationIds: string[] }[];
  failedOperations: number;
  errors: {
    spec: string;
    errorCode: string;
    errorMessage: string;
    issueSource: 'request' | 'response';
    operationId: string;
    schemaPathWithPosition: string;
  }[];
}

/** One validation error, tied to the traffic file it was found in. */
export interface OavError {
  payloadFile: string;
  operationId: string;
  code: string;
  message: string;
  issueSource: 'request' | 'response';
  /** JSON paths into the request or response, e.g. `$.properties.bogus`. */
  paths: string[];
}

export interface OavRun {
  spec: SpecFile;
  report: OavReport;
  errors: OavError[];
  /** Traffic oav matched to no operation (its `Error: Undefined operation …` lines). */
  undefinedOperations: string[];
  /** Runtime exceptions oav reported for a traffic file. */
  runtimeExceptions: { payloadFile: string; code: string; message: string }[];
  output: string;
}

const require = createRequire(import.meta.url);

function oavCli(): string {
  const manifest = require.resolve('oav/package.json');
  const bin = readJson(manifest).bin;
  return resolve(dirname(manifest), typeof bin === 'string' ? bin : bin.oav);
}

/** A string as util.inspect printed it (oav's console log), back to its value. */
function uninspect(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Runs `oav validate-traffic` on one directory against one swagger file. */
export async function validateTraffic(spec: SpecFile, dir: string): Promise<OavRun> {
  const reportFile = join(dir, 'oav-report.json');
  const args = [
    oavCli(),
    'validate-traffic',
    dir,
    spec.file,
    '--jsonReport',
    reportFile,
    '-l',
    'error',
    '-f',
    join(dir, 'oav.log'),
    '--report',
    '',
  ];
  // oav's exit code only says whether it found errors: the report says which.
  const output = await new Promise<string>((done) => {
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (_error, stdout, stderr) =>
      done(`${stdout}${stderr}`),
    );
  });
  let report: OavReport;
  try {
    report = readJson(reportFile);
  } catch (cause) {
    throw new Error(`oav wrote no JSON report for ${spec.spec}:\n${output}`, { cause });
  }
  const errors: OavError[] = [];
  const runtimeExceptions: OavRun['runtimeExceptions'] = [];
  for (const match of output.matchAll(
    /^\s*message: ((['"`])\{"(?:specFilePath|payloadFilePath)".*\}\2),?$/gm,
  )) {
    const result = JSON.parse(uninspect(match[1]!));
    for (const error of result.errors ?? []) {
      errors.push({
        payloadFile: result.payloadFilePath,
        operationId: result.operationInfo?.operationId,
        code: error.code,
        message: error.message,
        issueSource: error.issueSource,
        paths: error.jsonPathsInPayload ?? [],
      });
    }
    for (const exception of result.runtimeExceptions ?? []) {
      runtimeExceptions.push({
        payloadFile: result.payloadFilePath,
        code: exception.code,
        message: exception.message,
      });
    }
  }
  if (errors.length !== report.errors.length) {
    throw new Error(
      `oav's JSON report for ${spec.spec} lists ${report.errors.length} errors, its log ${errors.length}:\n${output}`,
    );
  }
  const undefinedOperations = [...output.matchAll(/^Error: Undefined operation (.*)$/gm)].map((m) => m[1]!);
  return { spec, report, errors, undefinedOperations, runtimeExceptions, output };
}

// ---------------------------------------------------------------------------------------------------
// Divergences

/** A validation error vaplane's traffic is known to raise, and why that is right. */
export interface TrafficDivergence {
  /** Swagger files (relative to `specification/`) it applies to. */
  specs: readonly string[];
  operationIds: readonly string[];
  code: string;
  issueSource: 'request' | 'response';
  /** The JSON path in the payload (a prefix; `*` matches within one segment). */
  path: string;
  reason: string;
}

function pathMatches(pattern: string, path: string): boolean {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.\\]]*');
  return new RegExp(`^${escaped}(?=$|[.[])`).test(path);
}

/** The divergence that explains an error, if any. */
export function explainedBy(
  divergences: readonly TrafficDivergence[],
  spec: string,
  error: OavError,
): TrafficDivergence | undefined {
  return divergences.find(
    (divergence) =>
      divergence.specs.includes(spec) &&
      divergence.operationIds.includes(error.operationId) &&
      divergence.code === error.code &&
      divergence.issueSource === error.issueSource &&
      (error.paths.length === 0
        ? divergence.path === '$'
        : error.paths.every((path) => pathMatches(divergence.path, path))),
  );
}

/** A table in the replay harness's style. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, k) => cell.padEnd(widths[k]!)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
