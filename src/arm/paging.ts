import { errors } from './errors.js';
import type { ArmContext } from './registry.js';

/** Largest page ARM hands out here; `$top` may ask for less. */
export const MAX_PAGE_SIZE = 1000;

export interface PageRequest {
  size: number;
  /** The key after which this page starts (decoded `$skipToken`). */
  after?: string;
}

export function pageRequest(ctx: Pick<ArmContext, 'query'>): PageRequest {
  const top = ctx.query.$top;
  let size = MAX_PAGE_SIZE;
  if (top !== undefined) {
    const parsed = Number(top);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > MAX_PAGE_SIZE) {
      throw errors.invalidQueryParameter(
        '$top',
        top,
        `it must be an integer between 1 and ${MAX_PAGE_SIZE}.`,
      );
    }
    size = parsed;
  }
  const token = ctx.query.$skipToken ?? ctx.query.$skiptoken;
  if (token === undefined) return { size };
  const after = Buffer.from(token, 'base64url').toString('utf8');
  if (!after.startsWith('/') || Buffer.from(after, 'utf8').toString('base64url') !== token) {
    throw errors.invalidQueryParameter('$skipToken', token, 'it is not a token this server issued.');
  }
  return { size, after };
}

/**
 * Builds a list reply from `size + 1` fetched items: the extra one only tells that another page exists.
 * `keyOf` gives the cursor of an item (its store key).
 */
export function pageReply<T>(
  ctx: Pick<ArmContext, 'query' | 'baseUrl' | 'parsed'>,
  page: PageRequest,
  items: T[],
  toBody: (item: T) => unknown,
  cursorOf: (item: T) => string,
): { status: number; body: { value: unknown[]; nextLink?: string } } {
  const shown = items.slice(0, page.size);
  const body: { value: unknown[]; nextLink?: string } = { value: shown.map(toBody) };
  if (items.length > page.size && shown.length > 0) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(ctx.query)) {
      if (value !== undefined && name.toLowerCase() !== '$skiptoken') params.set(name, value);
    }
    params.set('$skipToken', Buffer.from(cursorOf(shown[shown.length - 1]!), 'utf8').toString('base64url'));
    body.nextLink = `${ctx.baseUrl}${ctx.parsed.path}?${params.toString()}`;
  }
  return { status: 200, body };
}
