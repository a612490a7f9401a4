/**
 * The identity endpoints Azure clients call before ARM: an OAuth2 client-credentials token endpoint
 * shaped like Entra ID's (`/{tenant}/oauth2/v2.0/token`, with the OpenID metadata and keys MSAL reads
 * first), and a managed-identity endpoint in the App Service (`MSI_ENDPOINT` + `secret`/
 * `X-IDENTITY-HEADER`) and IMDS (`Metadata: true`) shapes.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Db } from '../store/index.js';
import { issueToken, type SigningKeys } from './auth.js';
import type { Principal } from './identity.js';
import { principalBySecret } from './principals.js';

export const IDENTITY_PATH =
  /^\/(?:[^/]+\/(?:oauth2\/|v2\.0\/\.well-known|\.well-known|discovery\/)|msi\/|metadata\/identity\/|common\/discovery)/i;

interface OAuthErrorBody {
  error: string;
  error_description: string;
  error_codes?: number[];
  timestamp: string;
}

function oauthError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  const body: OAuthErrorBody = { error, error_description: description, timestamp: new Date().toISOString() };
  return reply.code(status).send(body);
}

export function registerTokenEndpoints(
  app: FastifyInstance,
  options: { db: Db; keys: SigningKeys; tenantId: string },
) {
  const { db, keys } = options;

  app.get('/:tenant/v2.0/.well-known/openid-configuration', async (request) => {
    const { tenant } = request.params as { tenant: string };
    const base = `https://${request.headers.host}`;
    return {
      issuer: `${base}/${tenant}/v2.0`,
      token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
      jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
      response_types_supported: ['code', 'token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      tenant_region_scope: 'WW',
      cloud_instance_name: 'vaplane',
    };
  });

  app.get('/:tenant/discovery/v2.0/keys', async () => ({
    keys: [{ ...keys.publicJwk, use: 'sig', alg: 'RS256' }],
  }));

  async function clientCredentials(
    request: { body: unknown; headers: Record<string, unknown> },
    reply: FastifyReply,
    tenant: string,
  ) {
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    let clientId = form.client_id;
    let secret = form.client_secret;
    const basic = /^Basic\s+(.+)$/i.exec(String(request.headers.authorization ?? ''));
    if (basic) {
      const [id, pass] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      clientId ??= decodeURIComponent(id ?? '');
      secret ??= decodeURIComponent(pass ?? '');
    }
    if (form.grant_type !== 'client_credentials') {
      return oauthError(
        reply,
        400,
        'unsupported_grant_type',
        `AADSTS70003: The app requested an unsupported grant type '${form.grant_type ?? ''}'.`,
      );
    }
    if (!clientId || !secret) {
      return oauthError(
        reply,
        400,
        'invalid_request',
        "AADSTS900144: The request body must contain the following parameter: 'client_secret'.",
      );
    }
    const principal = await principalBySecret(db, { clientId, secret, type: 'Application' });
    if (!principal) {
      return oauthError(
        reply,
        401,
        'invalid_client',
        `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    if (
      tenant.toLowerCase() !== principal.tenantId &&
      !['organizations', 'common'].includes(tenant.toLowerCase())
    ) {
      return oauthError(reply, 400, 'invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
    }
    const resource = (form.scope ?? form.resource ?? '').split(' ')[0]?.replace(/\.default$/, '');
    const { token } = await issueToken(keys, { principal, audience: resource || undefined });
    return { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token };
  }

  app.post('/:tenant/oauth2/v2.0/token', async (request, reply) =>
    clientCredentials(request as never, reply, (request.params as { tenant: string }).tenant),
  );
  app.post('/:tenant/oauth2/token', async (request, reply) =>
    clientCredentials(request as never, reply, (request.params as { tenant: string }).tenant),
  );

  async function managedIdentityToken(
    secret: string | undefined,
    clientId: string | undefined,
    resource: string | undefined,
  ) {
    if (!secret) return undefined;
    const principal: Principal | undefined = await principalBySecret(db, {
      secret,
      clientId,
      type: 'ManagedIdentity',
    });
    if (!principal) return undefined;
    const { token, expiresOn } = await issueToken(keys, { principal, audience: resource || undefined });
    return { principal, token, expiresOn };
  }

  // App Service / Functions shape (MSI_ENDPOINT + MSI_SECRET, or IDENTITY_ENDPOINT + IDENTITY_HEADER).
  app.get('/msi/token', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const secret = (request.headers.secret ?? request.headers['x-identity-header']) as string | undefined;
    const resource = query.resource?.replace(/\/\.default$/, '/');
    const issued = await managedIdentityToken(secret, query.clientid ?? query.client_id, resource);
    if (!issued)
      return oauthError(reply, 401, 'invalid_client', 'The managed identity secret is missing or unknown.');
    return {
      access_token: issued.token,
      expires_on: String(issued.expiresOn),
      resource: resource ?? 'https://management.azure.com/',
      token_type: 'Bearer',
      client_id: issued.principal.clientId,
    };
  });

  // IMDS shape: Metadata: true, and the identity's secret as `X-IDENTITY-HEADER` (a real VM has none).
  app.get('/metadata/identity/oauth2/token', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    if (String(request.headers.metadata).toLowerCase() !== 'true') {
      return oauthError(reply, 400, 'invalid_request', 'Required metadata header not specified');
    }
    const secret = request.headers['x-identity-header'] as string | undefined;
    const issued = await managedIdentityToken(secret, query.client_id, query.resource);
    if (!issued) return oauthError(reply, 400, 'invalid_request', 'Identity not found');
    const expiresIn = issued.expiresOn - Math.floor(Date.now() / 1000);
    return {
      access_token: issued.token,
      refresh_token: '',
      expires_in: String(expiresIn),
      expires_on: String(issued.expiresOn),
      not_before: String(issued.expiresOn - 3600),
      resource: query.resource ?? 'https://management.azure.com/',
      token_type: 'Bearer',
      client_id: issued.principal.clientId,
    };
  });
}
