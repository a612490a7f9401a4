/**
 * Where the transition talks to, resolved once into an endpoint, a credential, the token scope and
 * the TLS trust. Real Azure and a vaplane server differ only here: everything above the client sees
 * the same `ArmClient`.
 */
import { readFileSync } from 'node:fs';
import {
  type AccessToken,
  ClientSecretCredential,
  DefaultAzureCredential,
  type TokenCredential,
} from '@azure/identity';

export const AZURE_ENDPOINT = 'https://management.azure.com';
/** The ARM audience; vaplane accepts tokens for it as for itself. */
export const ARM_SCOPE = 'https://management.azure.com/.default';

export type ArmTarget =
  | {
      kind: 'azure';
      /** Defaults to the public cloud; a sovereign cloud gives its own endpoint and `scope`. */
      endpoint?: string;
      scope?: string;
      /** Defaults to `DefaultAzureCredential` (environment, workload or managed identity, `az login`, …). */
      credential?: TokenCredential;
    }
  | {
      kind: 'vaplane';
      /** The server's URL, e.g. `https://127.0.0.1:8443`. */
      endpoint: string;
      /** The CA file the server printed at start-up (`ca.pem` beside its database); none for a public certificate. */
      caPath?: string;
      auth: VaplaneAuth;
    };

/** A token from `vaplane token`, or an application's client credentials for the server's token endpoint. */
export type VaplaneAuth = { token: string } | { tenantId: string; clientId: string; clientSecret: string };

export interface ArmConnection {
  endpoint: string;
  scope: string;
  credential: TokenCredential;
  /** PEM text of extra CAs to trust for this endpoint only. */
  ca?: string;
}

export function connectionFor(target: ArmTarget): ArmConnection {
  if (target.kind === 'azure') {
    return {
      endpoint: originOf(target.endpoint ?? AZURE_ENDPOINT),
      scope: target.scope ?? ARM_SCOPE,
      credential: target.credential ?? new DefaultAzureCredential(),
    };
  }
  const endpoint = originOf(target.endpoint);
  const ca = target.caPath ? readFileSync(target.caPath, 'utf8') : undefined;
  const credential =
    'token' in target.auth
      ? staticTokenCredential(target.auth.token)
      : new ClientSecretCredential(target.auth.tenantId, target.auth.clientId, target.auth.clientSecret, {
          authorityHost: endpoint,
          disableInstanceDiscovery: true,
          ...(ca ? { tlsOptions: { ca } } : {}),
        });
  return { endpoint, scope: ARM_SCOPE, credential, ca };
}

/**
 * A credential that always returns one bearer token. Its expiry is read from the JWT's `exp` (unverified:
 * only the server can verify it) so the pipeline knows when it is stale; the server then answers 401.
 */
export function staticTokenCredential(token: string): TokenCredential {
  const expiresOnTimestamp = jwtExpiryMs(token) ?? Date.now() + 60 * 60_000;
  return {
    async getToken(): Promise<AccessToken> {
      return { token, expiresOnTimestamp, tokenType: 'Bearer' };
    },
  };
}

function jwtExpiryMs(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** `https://host[:port]` of an endpoint; bearer tokens go over HTTPS only. */
function originOf(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') {
    throw new Error(
      `The ARM endpoint must use https (bearer tokens are never sent in clear): '${endpoint}'.`,
    );
  }
  return url.origin;
}
