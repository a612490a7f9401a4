/**
 * ARM's long-running-operation contract, as pure decisions (learn.microsoft.com "Track asynchronous
 * Azure operations"; Azure/azure-resource-manager-rpc async-api-reference):
 * - A reply with `Azure-AsyncOperation` is polled there first: a status resource whose `status` ends
 *   as Succeeded, Failed or Canceled (any other value means still running).
 * - Else a reply with `Location` is polled there: 202 means still running; anything else is the result.
 * - Else a PUT or PATCH whose body's `provisioningState` is not terminal is polled on the resource.
 * Between polls the client waits what `Retry-After` says, kept within bounds.
 * After an Azure-AsyncOperation succeeds, a PUT or PATCH reads the resource again, a POST reads its
 * `Location` if it has one, and a DELETE is done.
 */

export type TerminalStatus = 'Succeeded' | 'Failed' | 'Canceled';
export type OperationStatus = TerminalStatus | 'InProgress';

/** A status resource's or resource's state, with ARM's case-insensitive terminal values normalised. */
export function operationStatusOf(value: unknown): OperationStatus {
  if (typeof value !== 'string') return 'InProgress';
  switch (value.toLowerCase()) {
    case 'succeeded':
      return 'Succeeded';
    case 'failed':
      return 'Failed';
    case 'canceled':
    case 'cancelled':
      return 'Canceled';
    default:
      return 'InProgress';
  }
}

export type PollingPlan =
  | { via: 'asyncOperation'; url: string }
  | { via: 'location'; url: string }
  | { via: 'resource'; url: string }
  | { via: 'none' };

/** Where to poll for the outcome of a request that answered `status` with these headers and body. */
export function pollingPlanOf(reply: {
  method: string;
  url: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}): PollingPlan {
  const asyncOperation = reply.headers['azure-asyncoperation'];
  if (asyncOperation) return { via: 'asyncOperation', url: asyncOperation };
  const location = reply.headers.location;
  if (location && reply.status === 202) return { via: 'location', url: location };
  const method = reply.method.toUpperCase();
  if ((method === 'PUT' || method === 'PATCH') && (reply.status === 200 || reply.status === 201)) {
    const state = provisioningStateOf(reply.body);
    if (state !== undefined && operationStatusOf(state) === 'InProgress')
      return { via: 'resource', url: reply.url };
  }
  return { via: 'none' };
}

/** The URL to read once an Azure-AsyncOperation has succeeded, if any. */
export function finalReadAfterSuccess(reply: {
  method: string;
  url: string;
  headers: Record<string, string>;
}): string | undefined {
  const method = reply.method.toUpperCase();
  if (method === 'PUT' || method === 'PATCH') return reply.url;
  if (method === 'POST') return reply.headers.location;
  return undefined;
}

export function provisioningStateOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const properties = (body as { properties?: unknown }).properties;
  if (typeof properties !== 'object' || properties === null) return undefined;
  const state = (properties as { provisioningState?: unknown }).provisioningState;
  return typeof state === 'string' ? state : undefined;
}

export interface PollingOptions {
  /** Least wait between polls, whatever `Retry-After` says (ARM's Compute sometimes says 0). */
  minDelayMs?: number;
  /** Longest wait between polls. */
  maxDelayMs?: number;
  /** Wait when the reply has no `Retry-After` (the Azure SDKs' default). */
  defaultDelayMs?: number;
  /** Poll at exactly this interval, ignoring `Retry-After`: for tests against a local server. */
  fixedDelayMs?: number;
  /** Give up (with `ArmClientError` `OperationWaitExceeded`) after this long. */
  maxWaitMs?: number;
}

export const DEFAULT_POLLING: Required<Omit<PollingOptions, 'fixedDelayMs'>> = {
  minDelayMs: 1_000,
  maxDelayMs: 60_000,
  defaultDelayMs: 2_000,
  maxWaitMs: 60 * 60_000,
};

/** The wait before the next poll, from the last reply's `Retry-After` (in ms, when it had one). */
export function pollDelayMs(retryAfterMs: number | undefined, options: PollingOptions = {}): number {
  if (options.fixedDelayMs !== undefined) return options.fixedDelayMs;
  const min = options.minDelayMs ?? DEFAULT_POLLING.minDelayMs;
  const max = Math.max(min, options.maxDelayMs ?? DEFAULT_POLLING.maxDelayMs);
  const wanted = retryAfterMs ?? options.defaultDelayMs ?? DEFAULT_POLLING.defaultDelayMs;
  return Math.min(max, Math.max(min, wanted));
}
