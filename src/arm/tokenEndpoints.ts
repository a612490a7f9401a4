/**
 * The identity endpoints Azure clients call before ARM, none of which takes an ARM token:
 * - an Entra ID-shaped token endpoint for the client-credentials grant (`/{tenant}/oauth2/v2.0/token`
 *   as MSAL calls it, `/{tenant}/oauth2/token` as ADAL-era clients call it), with the OpenID metadata
 *   and signing keys MSAL reads first;
 * - managed-identity endpoints in the App Service shape (`/msi/token`: api-version 2019-08-01 with
 *   `X-IDENTITY-HEADER`, as `IDENTITY_ENDPOINT`/`IDENTITY_HEADER` clients call it, and 2017-09-01 with
 *   `secret`, as `MSI_ENDPOINT`/`MSI_SECRET` clients call it) and the IMDS shape
 *   (`/metadata/identity/oauth2/token`, `Metadata: true`);
 * - ARM's cloud metadata (`/metadata/endpoints`), from which `az cloud register` learns the login
 *   endpoint and audiences when given only `--endpoint-resource-manager`.
 *
 * A managed identity is identified by its secret (vaplane's stand-in for the platform knowing which
 * machine is asking); a client id, object id or principal id in the request must then name that same
 * identity.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../store/index.js';
import { acceptedAudiences, issuerFor, issueToken, type SigningKeys } from './auth.js';
import { errors } from './errors.js';
import type { Principal } from './identity.js';
import { principalByClientId, principalBySecret, tenantHasPrincipals } from './principals.js';

/** Tenant names every Entra tenant answers to besides its id. */
const MULTI_TENANT_NAMES = ['common', 'organizations'];
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const APP_SERVICE_API_VERSIONS = ['2019-08-01', '2017-09-01'];
const IMDS_API_VERSIONS = ['2018-02-01', '2019-08-01', '2019-11-01', '2020-06-01', '2021-02-01'];
const CLOUD_METADATA_API_VERSIONS = ['2022-09-01', '2020-06-01', '2019-05-01', '2015-01-01'];

interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes?: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri?: string;
}

/** Entra's error body: the AADSTS code leads the description, which ends with the trace details. */
function entraError(
  request: FastifyRequest,
  reply: FastifyReply,
  options: { status: number; error: string; code?: number; description: string },
): FastifyReply {
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  const traceId = randomUUID();
  const correlationId = headerOf(request, 'client-request-id') ?? randomUUID();
  const prefix = options.code === undefined ? '' : `AADSTS${options.code}: `;
  const body: EntraErrorBody = {
    error: options.error,
    error_description: `${prefix}${options.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    ...(options.code === undefined ? {} : { error_codes: [options.code] }),
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    ...(options.code === undefined
      ? {}
      : { error_uri: `https://login.microsoftonline.com/error?code=${options.code}` }),
  };
  return reply.code(options.status).send(body);
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function originOf(request: FastifyRequest): string {
  return `https://${request.headers.host}`;
}

/**
 * The resource a v2 scope list asks for: `https://management.core.windows.net//.default` →
 * `https://management.core.windows.net/`, `https://management.azure.com/.default` →
 * `https://management.azure.com` (Entra keeps what precedes the last `/`).
 */
export function resourceFromScopes(scopes: string): string | undefined {
  const scope = scopes.split(/\s+/).find((value) => value !== '' && !OIDC_SCOPES.has(value.toLowerCase()));
  if (scope === undefined) return undefined;
  const slash = scope.lastIndexOf('/');
  return slash > scope.indexOf('//') + 1 ? scope.slice(0, slash) : scope;
}

export function registerTokenEndpoints(
  app: FastifyInstance,
  options: { db: Db; keys: SigningKeys; tenantId: string },
) {
  const { db, keys } = options;
  const serverTenant = options.tenantId.toLowerCase();

  async function knownTenant(tenant: string): Promise<boolean> {
    const name = tenant.toLowerCase();
    return name === serverTenant || MULTI_TENANT_NAMES.includes(name) || tenantHasPrincipals(db, name);
  }

  function tenantNotFound(request: FastifyRequest, reply: FastifyReply, tenant: string) {
    return entraError(request, reply, {
      status: 400,
      error: 'invalid_tenant',
      code: 90002,
      description: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    });
  }

  /** The tenant id a metadata document speaks for: the id itself, or Entra's `{tenantid}` placeholder. */
  function metadataTenant(tenant: string): string {
    return MULTI_TENANT_NAMES.includes(tenant.toLowerCase()) ? '{tenantid}' : tenant.toLowerCase();
  }

  app.get('/:tenant/v2.0/.well-known/openid-configuration', async (request, reply) => {
    const { tenant } = request.params as { tenant: string };
    if (!(await knownTenant(tenant))) return tenantNotFound(request, reply, tenant);
    const base = originOf(request);
    const id = metadataTenant(tenant);
    return {
      token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/${id}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'tid', 'oid', 'ver'],
      tenant_region_scope: 'WW',
      cloud_instance_name: 'vaplane',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    };
  });

  app.get('/:tenant/.well-known/openid-configuration', async (request, reply) => {
    const { tenant } = request.params as { tenant: string };
    if (!(await knownTenant(tenant))) return tenantNotFound(request, reply, tenant);
    const base = originOf(request);
    return {
      token_endpoint: `${base}/${tenant}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${tenant}/discovery/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
      scopes_supported: ['openid'],
      issuer: issuerFor(metadataTenant(tenant)),
      authorization_endpoint: `${base}/${tenant}/oauth2/authorize`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${tenant}/oauth2/logout`,
      tenant_region_scope: 'WW',
      cloud_instance_name: 'vaplane',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    };
  });

  const jwks = () => ({ keys: [{ ...keys.publicJwk, use: 'sig', alg: 'RS256' }] });
  app.get('/:tenant/discovery/v2.0/keys', async () => jwks());
  app.get('/:tenant/discovery/keys', async () => jwks());

  /**
   * The client-credentials grant. `version` picks the response shape: v2 answers `expires_in` as a
   * number; v1 (`/oauth2/token`, `resource=`) answers strings and echoes `resource`.
   */
  async function clientCredentials(request: FastifyRequest, reply: FastifyReply, version: 'v1' | 'v2') {
    const { tenant } = request.params as { tenant: string };
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    let clientId = form.client_id;
    let secret = form.client_secret;
    const basic = /^Basic\s+(.+)$/i.exec(headerOf(request, 'authorization') ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      clientId ??= decodeURIComponent(colon < 0 ? decoded : decoded.slice(0, colon));
      secret ??= colon < 0 ? undefined : decodeURIComponent(decoded.slice(colon + 1));
    }
    if (!(await knownTenant(tenant))) return tenantNotFound(request, reply, tenant);
    if (form.grant_type !== 'client_credentials') {
      return entraError(request, reply, {
        status: 400,
        error: 'unsupported_grant_type',
        code: 70003,
        description: `The app requested an unsupported grant type '${form.grant_type ?? ''}'.`,
      });
    }
    for (const [name, value] of [
      ['client_id', clientId],
      ['client_secret', secret],
    ] as const) {
      if (!value) {
        return entraError(request, reply, {
          status: 400,
          error: 'invalid_request',
          code: 900144,
          description: `The request body must contain the following parameter: '${name}'.`,
        });
      }
    }
    const resource = version === 'v1' ? form.resource : resourceFromScopes(form.scope ?? '');
    if (!resource) {
      return entraError(request, reply, {
        status: 400,
        error: 'invalid_request',
        code: 900144,
        description: `The request body must contain the following parameter: '${version === 'v1' ? 'resource' : 'scope'}'.`,
      });
    }
    const application = await principalByClientId(db, clientId!);
    const requestedTenant = tenant.toLowerCase();
    if (
      application?.type !== 'Application' ||
      (!MULTI_TENANT_NAMES.includes(requestedTenant) && application.tenantId !== requestedTenant)
    ) {
      return entraError(request, reply, {
        status: 400,
        error: 'unauthorized_client',
        code: 700016,
        description: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      });
    }
    const principal = await principalBySecret(db, {
      clientId: clientId!,
      secret: secret!,
      type: 'Application',
    });
    if (!principal) {
      return entraError(request, reply, {
        status: 401,
        error: 'invalid_client',
        code: 7000215,
        description: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      });
    }
    if (!acceptedAudiences(originOf(request)).includes(resource)) {
      return resourceNotFound(request, reply, resource, principal.tenantId);
    }
    const { token, expiresOn } = await issueToken(keys, { principal, audience: resource });
    const expiresIn = expiresOn - Math.floor(Date.now() / 1000);
    if (version === 'v2') {
      return { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token };
    }
    return {
      token_type: 'Bearer',
      expires_in: String(expiresIn),
      ext_expires_in: String(expiresIn),
      expires_on: String(expiresOn),
      not_before: String(expiresOn - expiresIn - 300),
      resource,
      access_token: token,
    };
  }

  function resourceNotFound(request: FastifyRequest, reply: FastifyReply, resource: string, tenant: string) {
    return entraError(request, reply, {
      status: 400,
      error: 'invalid_resource',
      code: 500011,
      description: `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    });
  }

  app.post('/:tenant/oauth2/v2.0/token', async (request, reply) => clientCredentials(request, reply, 'v2'));
  app.post('/:tenant/oauth2/token', async (request, reply) => clientCredentials(request, reply, 'v1'));

  /** The managed identity holding `secret`, if `ids` (client, object or principal id) all name it. */
  async function managedIdentity(
    secret: string | undefined,
    ids: (string | undefined)[],
  ): Promise<Principal | undefined> {
    if (!secret) return undefined;
    const principal = await principalBySecret(db, { secret, type: 'ManagedIdentity' });
    if (!principal) return undefined;
    const named = ids.filter((id): id is string => id !== undefined && id !== '');
    const matches = named.every(
      (id) => id.toLowerCase() === principal.clientId || id.toLowerCase() === principal.objectId,
    );
    return matches ? principal : undefined;
  }

  /** `resource` as managed-identity endpoints accept it: a plain resource, or a v2 `.default` scope. */
  function managedIdentityResource(resource: string | undefined): string | undefined {
    if (!resource) return undefined;
    return resource.endsWith('/.default') ? resourceFromScopes(resource) : resource;
  }

  function missingParameter(request: FastifyRequest, reply: FastifyReply, description: string) {
    return entraError(request, reply, { status: 400, error: 'invalid_request', description });
  }

  // App Service / Functions (and Azure ML, which shares the 2017-09-01 shape). 2017-09-01 answers
  // `expires_on` in epoch seconds rather than App Service's `MM/dd/yyyy HH:mm:ss +00:00`: `az`
  // (msrestazure) reads both, MSAL's MSI_ENDPOINT source reads only epoch seconds.
  app.get('/msi/token', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const apiVersion = query['api-version'];
    if (!apiVersion || !APP_SERVICE_API_VERSIONS.includes(apiVersion)) {
      return missingParameter(
        request,
        reply,
        `The api-version '${apiVersion ?? ''}' is not supported. Use ${APP_SERVICE_API_VERSIONS.map((v) => `'${v}'`).join(' or ')}.`,
      );
    }
    const modern = apiVersion === '2019-08-01';
    const secret = headerOf(request, modern ? 'x-identity-header' : 'secret');
    if (!secret) {
      return entraError(request, reply, {
        status: 401,
        error: 'invalid_client',
        description: `The '${modern ? 'X-IDENTITY-HEADER' : 'secret'}' header is missing.`,
      });
    }
    const resource = managedIdentityResource(query.resource);
    if (!resource) return missingParameter(request, reply, "The 'resource' query parameter is required.");
    if (modern && query.mi_res_id) {
      return missingParameter(
        request,
        reply,
        'vaplane identifies managed identities by client_id or principal_id, not mi_res_id.',
      );
    }
    const ids = modern ? [query.client_id, query.principal_id] : [query.clientid];
    const principal = await managedIdentity(secret, ids);
    if (!principal) {
      return entraError(request, reply, {
        status: 400,
        error: 'invalid_request',
        description: 'Identity not found',
      });
    }
    if (!acceptedAudiences(originOf(request)).includes(resource)) {
      return resourceNotFound(request, reply, resource, principal.tenantId);
    }
    const { token, expiresOn } = await issueToken(keys, { principal, audience: resource });
    return {
      access_token: token,
      expires_on: String(expiresOn),
      resource,
      token_type: 'Bearer',
      client_id: principal.clientId,
    };
  });

  // The Cloud Shell / MSI-extension shape (POST `resource=` with `Metadata: true`, what `az` sends
  // when MSI_ENDPOINT is set outside App Service) carries no secret, so it cannot name an identity.
  app.post('/msi/token', async (request, reply) =>
    entraError(request, reply, {
      status: 400,
      error: 'invalid_request',
      description:
        'vaplane identifies a managed identity by its secret, and this request carries none. Use the App Service shape: GET with api-version=2019-08-01 and X-IDENTITY-HEADER (IDENTITY_ENDPOINT and IDENTITY_HEADER), or api-version=2017-09-01 and the secret header (MSI_ENDPOINT and MSI_SECRET; az also needs APPSETTING_WEBSITE_SITE_NAME set to send it).',
    }),
  );

  // IMDS: `Metadata: true`, and the identity's secret as `X-IDENTITY-HEADER` (a real VM needs none:
  // the platform knows the caller; vaplane does not).
  app.get('/metadata/identity/oauth2/token', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    if (String(headerOf(request, 'metadata')).toLowerCase() !== 'true') {
      return missingParameter(request, reply, 'Required metadata header not specified');
    }
    if (!query['api-version'] || !IMDS_API_VERSIONS.includes(query['api-version'])) {
      return missingParameter(
        request,
        reply,
        query['api-version'] ? 'Invalid version' : "Required query variable 'api-version' is missing",
      );
    }
    const resource = managedIdentityResource(query.resource);
    if (!resource) return missingParameter(request, reply, "Required query variable 'resource' is missing");
    if (query.msi_res_id) {
      return missingParameter(
        request,
        reply,
        'vaplane identifies managed identities by client_id or object_id, not msi_res_id.',
      );
    }
    const principal = await managedIdentity(headerOf(request, 'x-identity-header'), [
      query.client_id,
      query.object_id,
    ]);
    if (!principal) return missingParameter(request, reply, 'Identity not found');
    if (!acceptedAudiences(originOf(request)).includes(resource)) {
      return resourceNotFound(request, reply, resource, principal.tenantId);
    }
    const { token, expiresOn } = await issueToken(keys, { principal, audience: resource });
    const expiresIn = expiresOn - Math.floor(Date.now() / 1000);
    return {
      access_token: token,
      refresh_token: '',
      expires_in: String(expiresIn),
      expires_on: String(expiresOn),
      ext_expires_in: String(expiresIn),
      not_before: String(expiresOn - expiresIn - 300),
      resource,
      token_type: 'Bearer',
      client_id: principal.clientId,
    };
  });

  // ARM's cloud metadata. 2015-01-01 is the single-cloud object `az cloud register` reads; later
  // versions answer the list of clouds.
  app.get('/metadata/endpoints', async (request) => {
    const apiVersion = (request.query as Record<string, string | undefined>)['api-version'];
    if (!apiVersion) throw errors.missingApiVersion();
    const base = originOf(request);
    const audiences = ['https://management.core.windows.net/', 'https://management.azure.com/'];
    if (apiVersion === '2015-01-01') {
      return {
        galleryEndpoint: `${base}/`,
        graphEndpoint: 'https://graph.windows.net/',
        portalEndpoint: `${base}/`,
        authentication: { loginEndpoint: `${base}/`, audiences },
      };
    }
    if (!CLOUD_METADATA_API_VERSIONS.includes(apiVersion)) {
      throw errors.invalidApiVersion(apiVersion, CLOUD_METADATA_API_VERSIONS);
    }
    return [
      {
        name: 'vaplane',
        portal: base,
        resourceManager: `${base}/`,
        authentication: { loginEndpoint: base, audiences, tenant: serverTenant, identityProvider: 'AAD' },
        graph: 'https://graph.windows.net/',
        graphAudience: 'https://graph.windows.net/',
        microsoftGraphResourceId: 'https://graph.microsoft.com/',
        gallery: `${base}/`,
        suffixes: {},
      },
    ];
  });
}
