/**
 * Errors of the transition's ARM client. `ArmRequestError` is what ARM (or the wire) answered when a
 * request failed: the ARM `code` and `message` verbatim, the HTTP status, the `x-ms-request-id` a
 * support case needs, and which request it was. `ArmClientError` is the client refusing to go on
 * (an operation that never ends, a link to another host). Neither is ever swallowed by the client.
 */
import { STATUS_CODES } from 'node:http';

export interface ArmErrorDetail {
  code: string;
  message: string;
  target?: string;
  details?: ArmErrorDetail[];
}

export interface ArmRequestErrorInit extends ArmErrorDetail {
  /** HTTP status of the reply that carried the error; 0 when no reply came (connection refused, TLS). */
  status: number;
  method: string;
  /** Path and query of the request, without the endpoint. */
  path: string;
  requestId?: string;
  correlationId?: string;
  /** Set when the error is the terminal status of a long-running operation. */
  operationStatus?: 'Failed' | 'Canceled';
  cause?: unknown;
}

export class ArmRequestError extends Error {
  override readonly name = 'ArmRequestError';
  readonly code: string;
  readonly status: number;
  readonly method: string;
  readonly path: string;
  readonly requestId?: string;
  readonly correlationId?: string;
  readonly target?: string;
  readonly details: ArmErrorDetail[];
  readonly operationStatus?: 'Failed' | 'Canceled';

  constructor(init: ArmRequestErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.requestId = init.requestId;
    this.correlationId = init.correlationId;
    this.target = init.target;
    this.details = init.details ?? [];
    this.operationStatus = init.operationStatus;
  }

  /** One line for logs and terminals: what was asked, what ARM said, and the id to quote. */
  get summary(): string {
    const outcome = this.operationStatus ? `operation ${this.operationStatus}` : `${this.status}`;
    const id = this.requestId ? ` (x-ms-request-id ${this.requestId})` : '';
    return `${this.method} ${this.path} → ${outcome} ${this.code}: ${this.message}${id}`;
  }

  override toString(): string {
    return `${this.name}: ${this.summary}`;
  }
}

export type ArmClientErrorCode = 'OperationWaitExceeded' | 'ForeignLink' | 'RepeatedNextLink';

export class ArmClientError extends Error {
  override readonly name = 'ArmClientError';
  constructor(
    readonly code: ArmClientErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * The error an ARM reply body describes. ARM's envelope is `{"error":{code,message,target,details}}`;
 * Microsoft.Security sometimes answers `{"Error":{"Code","Message"}}` and some RPs send the inner
 * object unwrapped (`{"code","message"}`). Undefined when the body is none of these.
 */
export function errorOfBody(body: unknown): ArmErrorDetail | undefined {
  if (!isObject(body)) return undefined;
  const inner = body.error ?? body.Error;
  return detailOf(isObject(inner) ? inner : body);
}

function detailOf(value: Record<string, unknown>): ArmErrorDetail | undefined {
  const code = value.code ?? value.Code;
  const message = value.message ?? value.Message;
  if (typeof code !== 'string' || code === '') return undefined;
  const detail: ArmErrorDetail = { code, message: typeof message === 'string' ? message : '' };
  const target = value.target ?? value.Target;
  if (typeof target === 'string') detail.target = target;
  const details = value.details ?? value.Details;
  if (Array.isArray(details)) {
    detail.details = details.flatMap((item) => {
      const inner = isObject(item) ? detailOf(item) : undefined;
      return inner ? [inner] : [];
    });
  }
  return detail;
}

/**
 * The error of a failed reply whose body may not be JSON at all (a proxy's HTML page, an empty 503):
 * the reason phrase becomes the code (`BadGateway`) and the text, shortened, the message.
 */
export function errorOfReply(status: number, text: string | undefined): ArmErrorDetail {
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  const fromBody = errorOfBody(parsed);
  if (fromBody) return fromBody;
  const reason = STATUS_CODES[status] ?? 'Unknown Status';
  const trimmed = text?.trim() ?? '';
  return {
    code: reason.replace(/[^A-Za-z0-9]+/g, ''),
    message: trimmed === '' ? reason : trimmed.length > 500 ? `${trimmed.slice(0, 500)}…` : trimmed,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
