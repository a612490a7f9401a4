/**
 * Tokens: RS256 JWTs signed with a key kept in the server's state directory (beside the SQLite file),
 * shaped like Microsoft Entra ID access tokens (`aud`, `iss`, `tid`, `oid`, `appid`, `idtyp`) so that
 * Azure clients that read claims (`az` reads `tid`) accept them.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose';
import { errors } from './errors.js';
import type { Principal } from './identity.js';

/** The audiences ARM accepts, in the order its `InvalidAuthenticationTokenAudience` message lists them. */
export const ARM_AUDIENCES = [
  'https://management.core.windows.net/',
  'https://management.core.windows.net',
  'https://management.azure.com/',
  'https://management.azure.com',
];

/**
 * ARM's audiences plus vaplane's own origin: an SDK pointed at a custom endpoint asks for
 * `{endpoint}/.default` (the `@azure/arm-*` clients do unless given `credentialScopes`), and vaplane
 * is that resource.
 */
export function acceptedAudiences(origin: string): string[] {
  const bare = origin.replace(/\/+$/, '');
  return [...ARM_AUDIENCES, `${bare}/`, bare];
}

/** How long issued tokens live: Entra's usual hour for apps and users, a day for managed identities. */
export const TOKEN_LIFETIME_SECONDS = { default: 3600, managedIdentity: 24 * 3600 } as const;

/** vaplane's one tenant unless the operator names another. */
export const DEFAULT_TENANT_ID = '72f988bf-0000-4000-8000-00000000a11e';

export interface SigningKeys {
  kid: string;
  privateKey: Awaited<ReturnType<typeof importJWK>>;
  publicKey: Awaited<ReturnType<typeof importJWK>>;
  publicJwk: JWK;
}

/** Loads the signing key from `stateDir`, creating it on first use (mode 0600). */
export async function loadSigningKeys(stateDir: string): Promise<SigningKeys> {
  const file = join(stateDir, 'signing-key.json');
  let privateJwk: JWK;
  if (existsSync(file)) {
    privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } else {
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateJwk = { ...(await exportJWK(pair.privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
    writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600 });
  }
  const { d, p, q, dp, dq, qi, ...publicJwk } = privateJwk;
  return {
    kid: privateJwk.kid!,
    privateKey: await importJWK(privateJwk, 'RS256'),
    publicKey: await importJWK(publicJwk, 'RS256'),
    publicJwk,
  };
}

export function issuerFor(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

export interface IssueOptions {
  principal: Principal;
  lifetimeSeconds?: number;
  audience?: string;
}

export async function issueToken(
  keys: SigningKeys,
  options: IssueOptions,
): Promise<{ token: string; expiresOn: number }> {
  const { principal } = options;
  const lifetime =
    options.lifetimeSeconds ??
    (principal.type === 'ManagedIdentity'
      ? TOKEN_LIFETIME_SECONDS.managedIdentity
      : TOKEN_LIFETIME_SECONDS.default);
  const now = Math.floor(Date.now() / 1000);
  // A v1 access token, as Entra issues for ARM even through the v2 endpoint.
  const claims: JWTPayload & Record<string, unknown> = {
    ver: '1.0',
    tid: principal.tenantId,
    oid: principal.objectId,
    sub: principal.objectId,
    appid: principal.clientId,
    appidacr: principal.type === 'Application' ? '1' : '2',
    idp: issuerFor(principal.tenantId),
    idtyp: principal.type === 'User' ? 'user' : 'app',
    name: principal.name,
    vaplane_type: principal.type,
  };
  if (principal.type === 'User') {
    claims.upn = principal.name;
    claims.unique_name = principal.name;
  }
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: keys.kid })
    .setIssuer(issuerFor(principal.tenantId))
    .setAudience(options.audience ?? ARM_AUDIENCES[0]!)
    .setIssuedAt(now)
    .setNotBefore(now - 5 * 60)
    .setExpirationTime(now + lifetime)
    .setJti(randomUUID())
    .sign(keys.privateKey);
  return { token, expiresOn: now + lifetime };
}

export interface Authenticator {
  /**
   * Verifies the `Authorization` header and returns the caller, or throws the ARM 401.
   * `authorizationUri` is vaplane's login endpoint for the tenant (`https://{host}/{tenant}`), named in
   * `WWW-Authenticate`; its origin is also an accepted audience (see `acceptedAudiences`).
   */
  authenticate(header: string | undefined, authorizationUri: string): Promise<Principal>;
  /**
   * The caller at once when the header's token was verified before and has not expired; `undefined`
   * when `authenticate` must verify it. Throws the ARM 401 as `authenticate` would.
   */
  known(header: string | undefined, authorizationUri: string): Principal | undefined;
}

/**
 * Verification is cached per token string (bounded) because clients reuse one token for an hour and
 * RS256 verification would otherwise dominate a fast GET.
 */
export function createAuthenticator(keys: SigningKeys): Authenticator {
  // Keyed by the token's last characters (its signature's) so a lookup hashes a few dozen characters
  // instead of the whole token; the entry keeps the whole token to compare.
  const verified = new Map<string, { token: string; principal: Principal; exp: number }>();
  const keyOf = (token: string) => token.slice(-48);
  const maxCached = 10_000;
  function bearerToken(header: string | undefined, authorizationUri: string): string {
    if (header === undefined || header === '') throw errors.authenticationMissing(authorizationUri);
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw errors.authenticationMalformed(authorizationUri);
    return match[1]!;
  }
  function cachedPrincipal(token: string, authorizationUri: string): Principal | undefined {
    const cached = verified.get(keyOf(token));
    if (cached?.token !== token) return undefined;
    if (cached.exp > Date.now() / 1000) return cached.principal;
    verified.delete(keyOf(token));
    throw errors.expiredAuthenticationToken(authorizationUri, new Date(cached.exp * 1000), new Date());
  }
  return {
    known(header, authorizationUri) {
      return cachedPrincipal(bearerToken(header, authorizationUri), authorizationUri);
    },
    async authenticate(header, authorizationUri) {
      const token = bearerToken(header, authorizationUri);
      const cached = cachedPrincipal(token, authorizationUri);
      if (cached) return cached;
      const audiences = acceptedAudiences(new URL(authorizationUri).origin);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys.publicKey, {
          audience: audiences,
          algorithms: ['RS256'],
        }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) {
          const exp = Number((error.payload as JWTPayload).exp ?? 0);
          throw errors.expiredAuthenticationToken(authorizationUri, new Date(exp * 1000), new Date());
        }
        if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud') {
          const audience = (error.payload as JWTPayload).aud;
          throw errors.invalidAuthenticationTokenAudience(
            authorizationUri,
            Array.isArray(audience) ? audience.join(',') : String(audience ?? ''),
            audiences,
          );
        }
        throw errors.invalidAuthenticationToken(authorizationUri);
      }
      const principal = principalFromClaims(payload);
      if (!principal) throw errors.invalidAuthenticationToken(authorizationUri);
      if (verified.size >= maxCached) verified.delete(verified.keys().next().value!);
      verified.set(keyOf(token), { token, principal, exp: Number(payload.exp) });
      return principal;
    },
  };
}

function principalFromClaims(payload: JWTPayload): Principal | undefined {
  const { tid, oid, appid, name, vaplane_type: type } = payload as Record<string, unknown>;
  if (typeof tid !== 'string' || typeof oid !== 'string' || typeof appid !== 'string') return undefined;
  const kind = type === 'User' || type === 'Application' || type === 'ManagedIdentity' ? type : 'Application';
  return {
    tenantId: tid,
    objectId: oid,
    clientId: appid,
    name: typeof name === 'string' ? name : appid,
    type: kind,
  };
}

/** Stable ids for a named principal, so `vaplane token --principal alice` is the same alice each time. */
export function principalIdsFor(name: string): { objectId: string; clientId: string } {
  return { objectId: uuidFromHash(`object:${name}`), clientId: uuidFromHash(`client:${name}`) };
}

export function uuidFromHash(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
