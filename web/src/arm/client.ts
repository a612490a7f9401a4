/**
 * The portal's only way to the server: ARM requests with the signed-in user's bearer token. Errors
 * keep ARM's own `code` and `message` so pages can show the API's words.
 */

export interface ArmErrorBody {
  code: string;
  message: string;
  target?: string;
  details?: ArmErrorBody[];
}

export class ArmRequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ArmErrorBody[];

  constructor(status: number, body: ArmErrorBody) {
    super(body.message);
    this.name = 'ArmRequestError';
    this.status = status;
    this.code = body.code;
    this.details = body.details ?? [];
  }
}

export interface ArmResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  apiVersion?: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ArmList<T> {
  value: T[];
  nextLink?: string;
}

export interface ArmClient {
  readonly baseUrl: string;
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<ArmResponse<T>>;
  get<T = unknown>(path: string, options?: RequestOptions): Promise<T>;
  /** One page of a list; `path` may be a `nextLink` (absolute URL). */
  page<T>(path: string, options?: RequestOptions): Promise<ArmList<T>>;
  /** Every item of a paged list, following `nextLink`. */
  listAll<T>(path: string, options?: RequestOptions): Promise<T[]>;
}

/** The error a failed response carries, in whichever envelope it came (ARM, Entra, or none). */
async function errorOf(response: Response): Promise<ArmRequestError> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as {
      error?: ArmErrorBody | string;
      error_description?: string;
      code?: string;
      message?: string;
    };
    if (parsed.error && typeof parsed.error === 'object')
      return new ArmRequestError(response.status, parsed.error);
    if (typeof parsed.error === 'string')
      return new ArmRequestError(response.status, {
        code: parsed.error,
        message: parsed.error_description ?? parsed.error,
      });
    if (parsed.code && parsed.message)
      return new ArmRequestError(response.status, { code: parsed.code, message: parsed.message });
  } catch {
    // Not JSON: fall through to the status line.
  }
  return new ArmRequestError(response.status, {
    code: `Http${response.status}`,
    message: text.trim() || `The server answered ${response.status} ${response.statusText}.`,
  });
}

export function createArmClient(options: { baseUrl: string; token: string }): ArmClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');

  function urlOf(path: string, request: RequestOptions): string {
    const url = new URL(/^https?:/i.test(path) ? path : `${baseUrl}${path}`);
    if (request.apiVersion && !url.searchParams.has('api-version'))
      url.searchParams.set('api-version', request.apiVersion);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    return url.toString();
  }

  async function request<T>(
    method: string,
    path: string,
    request: RequestOptions = {},
  ): Promise<ArmResponse<T>> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.token}`,
      accept: 'application/json',
      ...request.headers,
    };
    let payload: string | undefined;
    if (request.body !== undefined) {
      payload = JSON.stringify(request.body);
      headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await fetch(urlOf(path, request), {
        method,
        headers,
        body: payload,
        signal: request.signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ArmRequestError(0, {
        code: 'NetworkError',
        message: `The server could not be reached (${(error as Error).message}).`,
      });
    }
    if (!response.ok) throw await errorOf(response);
    const text = await response.text();
    return {
      status: response.status,
      body: (text ? JSON.parse(text) : undefined) as T,
      headers: response.headers,
    };
  }

  const client: ArmClient = {
    baseUrl,
    request,
    async get<T>(path: string, options?: RequestOptions) {
      return (await request<T>('GET', path, options)).body;
    },
    async page<T>(path: string, options?: RequestOptions) {
      const body = (await request<ArmList<T>>('GET', path, options)).body;
      return { value: body?.value ?? [], nextLink: body?.nextLink ?? undefined };
    },
    async listAll<T>(path: string, options?: RequestOptions) {
      const items: T[] = [];
      let next: string | undefined = path;
      let first = true;
      while (next) {
        const page: ArmList<T> = await client.page<T>(next, first ? options : { signal: options?.signal });
        items.push(...page.value);
        next = page.nextLink;
        first = false;
      }
      return items;
    },
  };
  return client;
}

/** ARM's terminal states of a long-running operation (§1.3). */
export const TERMINAL_STATES = ['Succeeded', 'Failed', 'Canceled'] as const;

export interface OperationStatus {
  status: string;
  percentComplete?: number;
  error?: ArmErrorBody;
}

/**
 * Follows a 202: polls `Azure-AsyncOperation` (or `Location` when there is none) every
 * `Retry-After` seconds (at least `minimumDelayMs`), reporting each status, until a terminal state.
 */
export async function pollOperation(
  client: ArmClient,
  accepted: ArmResponse<unknown>,
  options: {
    onStatus?: (status: OperationStatus) => void;
    minimumDelayMs?: number;
    signal?: AbortSignal;
  } = {},
): Promise<OperationStatus> {
  const asyncOperation = accepted.headers.get('azure-asyncoperation');
  const location = accepted.headers.get('location');
  const delayOf = (headers: Headers) =>
    Math.max(
      options.minimumDelayMs ?? 250,
      Math.min(Number(headers.get('retry-after') ?? '1') * 1000, 10_000),
    );
  let delay = delayOf(accepted.headers);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    options.signal?.throwIfAborted();
    if (asyncOperation) {
      const polled = await client.request<OperationStatus>('GET', asyncOperation, { signal: options.signal });
      const status = polled.body ?? { status: 'InProgress' };
      options.onStatus?.(status);
      if ((TERMINAL_STATES as readonly string[]).includes(status.status)) return status;
      delay = delayOf(polled.headers);
    } else if (location) {
      const polled = await client.request('GET', location, { signal: options.signal });
      if (polled.status !== 202) {
        const done = { status: 'Succeeded' };
        options.onStatus?.(done);
        return done;
      }
      options.onStatus?.({ status: 'InProgress' });
      delay = delayOf(polled.headers);
    } else {
      return { status: 'Succeeded' };
    }
  }
}
