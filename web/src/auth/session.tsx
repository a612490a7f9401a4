/**
 * The signed-in user: a bearer token (pasted, or obtained by the client-credentials grant against
 * vaplane's Entra-shaped token endpoint), the claims it carries, and an ARM client that sends it.
 * The token lives in sessionStorage: it is gone when the tab closes.
 */
import { createContext, type ReactNode, useContext, useMemo, useState } from 'react';
import { type ArmClient, ArmRequestError, createArmClient } from '../arm/client';
import { clearCache } from '../data';

const STORAGE_KEY = 'vaplane.session';

export interface TokenClaims {
  oid: string;
  tid: string;
  name: string;
  /** `user` or `app`. */
  kind: 'user' | 'app';
  expiresAt: number;
}

export interface Session {
  token: string;
  claims: TokenClaims;
  client: ArmClient;
}

function base64UrlDecode(text: string): string {
  const padded = text
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(text.length / 4) * 4, '=');
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (character) => character.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Reads the claims the portal needs; the server, not the portal, checks the signature. */
export function readClaims(token: string): TokenClaims {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new Error('This is not a JWT: a bearer token has three dot-separated parts.');
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(base64UrlDecode(parts[1]!)) as Record<string, unknown>;
  } catch {
    throw new Error('The token payload is not readable JSON.');
  }
  const oid = typeof payload.oid === 'string' ? payload.oid : undefined;
  const tid = typeof payload.tid === 'string' ? payload.tid : undefined;
  if (!oid || !tid) throw new Error('The token has no oid or tid claim, so it names no principal.');
  const name =
    [payload.name, payload.upn, payload.unique_name, payload.appid].find(
      (value): value is string => typeof value === 'string' && value !== '',
    ) ?? oid;
  const exp = typeof payload.exp === 'number' ? payload.exp : 0;
  if (exp * 1000 <= Date.now()) throw new Error('The token has expired: get a new one.');
  return { oid, tid, name, kind: payload.idtyp === 'app' ? 'app' : 'user', expiresAt: exp * 1000 };
}

/** The client-credentials grant, as MSAL sends it, against `/{tenant}/oauth2/v2.0/token`. */
export async function tokenFromClientCredentials(options: {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: options.clientId,
    client_secret: options.clientSecret,
    scope: 'https://management.azure.com/.default',
  });
  let response: Response;
  try {
    response = await fetch(`/${encodeURIComponent(options.tenantId)}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  } catch (error) {
    throw new ArmRequestError(0, { code: 'NetworkError', message: (error as Error).message });
  }
  const body = (await response.json().catch(() => ({}))) as {
    access_token?: string;
    error?: string;
    error_description?: string;
  };
  if (!response.ok || !body.access_token) {
    throw new ArmRequestError(response.status, {
      code: body.error ?? `Http${response.status}`,
      message: body.error_description ?? 'The token endpoint refused the request.',
    });
  }
  return body.access_token;
}

interface SessionContextValue {
  session: Session | undefined;
  signIn(token: string): void;
  signOut(): void;
}

const SessionContext = createContext<SessionContextValue | undefined>(undefined);

function sessionFrom(token: string): Session {
  const claims = readClaims(token);
  return { token, claims, client: createArmClient({ baseUrl: window.location.origin, token }) };
}

function restored(): Session | undefined {
  const token = sessionStorage.getItem(STORAGE_KEY);
  if (!token) return undefined;
  try {
    return sessionFrom(token);
  } catch {
    sessionStorage.removeItem(STORAGE_KEY);
    return undefined;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | undefined>(restored);
  const value = useMemo<SessionContextValue>(
    () => ({
      session,
      signIn(token) {
        const next = sessionFrom(token);
        sessionStorage.setItem(STORAGE_KEY, next.token);
        clearCache();
        setSession(next);
      },
      signOut() {
        sessionStorage.removeItem(STORAGE_KEY);
        clearCache();
        setSession(undefined);
      },
    }),
    [session],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionContext(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSessionContext outside SessionProvider');
  return value;
}

/** The session of a signed-in page (pages render only when signed in). */
export function useSession(): Session {
  const { session } = useSessionContext();
  if (!session) throw new Error('No session: the page rendered before sign-in.');
  return session;
}
