/** What the Microsoft.Security types share: RP-defined names, the resource envelope of a PUT body. */
import { errors } from '../../arm/errors.js';
import type { ArmContext } from '../../arm/registry.js';
import { keyOf } from '../../arm/resourceId.js';
import type { Placement } from '../../arm/resourceOps.js';
import type { ArmBody } from '../../store/index.js';

export const SECURITY_NAMESPACE = 'Microsoft.Security';

/** The name the request addresses (the last segment of the target). */
export function requestedName(ctx: ArmContext): string {
  const { names } = ctx.parsed.target;
  return names[names.length - 1]!;
}

/**
 * The RP-defined name matching `requested` in any casing, or InvalidResourceName listing the names the
 * type knows. Responses echo the canonical casing, whatever the request used.
 */
export function canonicalName(requested: string, known: readonly string[], type: string): string {
  const found = known.find((name) => name.toLowerCase() === requested.toLowerCase());
  if (!found) throw errors.unsupportedResourceName(requested, `${SECURITY_NAMESPACE}/${type}`, known);
  return found;
}

/** The placement with the id's last segment (the name as requested) replaced by the canonical name. */
export function withCanonicalName(placement: Placement, name: string): Placement {
  const id = `${placement.id.slice(0, placement.id.lastIndexOf('/'))}/${name}`;
  return { ...placement, id, name };
}

/** Members of the resource envelope a client may echo back in a PUT (all read-only in every schema). */
export const ENVELOPE_MEMBERS = ['id', 'name', 'type', 'systemData'] as const;

/**
 * Checks the read-only envelope a client echoed back: `name` and `id`, when sent, must address the
 * request's resource (any casing, with or without the leading slash). `type` and `systemData` are
 * ignored: Terraform's azurerm provider sends `type: "AzureServersSetting"` in the VA setting body.
 */
export function checkEnvelope(body: ArmBody, placement: Placement): void {
  if (body.name !== undefined && body.name !== null) {
    if (typeof body.name !== 'string' || body.name.toLowerCase() !== placement.name.toLowerCase()) {
      throw errors.bodyNameMismatch('name', String(body.name), placement.name);
    }
  }
  if (body.id !== undefined && body.id !== null) {
    if (typeof body.id !== 'string' || keyOf(body.id) !== placement.key) {
      throw errors.bodyNameMismatch('id', String(body.id), placement.id);
    }
  }
}
