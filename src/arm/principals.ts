/**
 * Principals the token endpoints know: applications (client id + secret, for the client-credentials
 * grant) and managed identities (a secret the managed-identity endpoint checks). Secrets are random
 * 32-byte values, so a plain SHA-256 of them is stored rather than a slow password hash.
 */
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Db, PrincipalsTable } from '../store/index.js';
import { hashSecret, principalIdsFor } from './auth.js';
import type { Principal } from './identity.js';

export interface CreatedPrincipal {
  principal: Principal;
  secret: string;
}

export async function createPrincipal(
  db: Db,
  options: { name: string; type: Principal['type']; tenantId: string; now: Date },
): Promise<CreatedPrincipal> {
  const ids = principalIdsFor(`${options.type}:${options.name}`);
  const tenantId = options.tenantId.toLowerCase();
  const secret = randomBytes(32).toString('base64url');
  await db
    .insertInto('principals')
    .values({
      object_id: ids.objectId,
      client_id: ids.clientId,
      tenant_id: tenantId,
      name: options.name,
      principal_type: options.type,
      secret_hash: hashSecret(secret),
      created_at: options.now.toISOString(),
    })
    .onConflict((conflict) => conflict.column('object_id').doUpdateSet({ secret_hash: hashSecret(secret) }))
    .execute();
  return {
    principal: {
      objectId: ids.objectId,
      clientId: ids.clientId,
      tenantId,
      name: options.name,
      type: options.type,
    },
    secret,
  };
}

/** The principal whose client id (or, for managed identities, any id) and secret match, if any. */
export async function principalBySecret(
  db: Db,
  options: { clientId?: string; secret: string; type?: Principal['type'] },
): Promise<Principal | undefined> {
  let query = db.selectFrom('principals').selectAll().where('secret_hash', '=', hashSecret(options.secret));
  if (options.clientId) query = query.where('client_id', '=', options.clientId.toLowerCase());
  if (options.type) query = query.where('principal_type', '=', options.type);
  const row = await query.executeTakeFirst();
  return row ? principalOf(row) : undefined;
}

/** The application or managed identity with this client id, whatever its secret. */
export async function principalByClientId(db: Db, clientId: string): Promise<Principal | undefined> {
  const row = await db
    .selectFrom('principals')
    .selectAll()
    .where('client_id', '=', clientId.toLowerCase())
    .executeTakeFirst();
  return row ? principalOf(row) : undefined;
}

/** Whether any principal lives in `tenantId` (the token endpoints answer only for known tenants). */
export async function tenantHasPrincipals(db: Db, tenantId: string): Promise<boolean> {
  const row = await db
    .selectFrom('principals')
    .select('object_id')
    .where('tenant_id', '=', tenantId.toLowerCase())
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

function principalOf(row: Selectable<PrincipalsTable>): Principal {
  return {
    objectId: row.object_id,
    clientId: row.client_id,
    tenantId: row.tenant_id,
    name: row.name,
    type: row.principal_type as Principal['type'],
  };
}
