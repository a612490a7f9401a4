/**
 * Hash routing (`#/environment/...`): the server serves the portal only at `/`, `/index.html` and
 * `/assets/*`, so a client route can never be mistaken for an ARM path such as `/subscriptions/...`.
 */
import { useSyncExternalStore } from 'react';

export interface Route {
  /** Path segments after `#/`, decoded. */
  segments: string[];
  query: URLSearchParams;
  /** The raw hash path, e.g. `/machines`. */
  path: string;
}

function currentHash(): string {
  return window.location.hash.replace(/^#/, '') || '/';
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

export function parseRoute(hash: string): Route {
  const [pathPart = '/', queryPart = ''] = hash.split('?', 2);
  const segments = pathPart
    .split('/')
    .filter(Boolean)
    .map((segment) => decodeURIComponent(segment));
  return { segments, query: new URLSearchParams(queryPart), path: pathPart || '/' };
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, currentHash, () => '/');
  return parseRoute(hash);
}

/** `href` for a client route: `hrefOf('machines', id)` → `#/machines/<id encoded>`. */
export function hrefOf(segments: readonly string[], query?: Record<string, string | undefined>): string {
  const path = segments.map((segment) => encodeURIComponent(segment)).join('/');
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== '') params.set(name, value);
  }
  const search = params.toString();
  return `#/${path}${search ? `?${search}` : ''}`;
}

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.location.replace(href);
  else window.location.hash = href.replace(/^#/, '');
}
