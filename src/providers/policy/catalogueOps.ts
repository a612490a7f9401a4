/**
 * What the two policy catalogues, `policyDefinitions` and `policySetDefinitions`, handle alike: the
 * refusal of a write to a built-in, reading a custom entry, the PUT body's outer checks (only Custom
 * entries are written), and listing with `$filter`. What differs — the members a body may hold, what
 * each compiles against, which custom entries a scope sees — stays in each type's module.
 */
import { ArmError, errors } from '../../arm/errors.js';
import type { ArmContext, ArmReply } from '../../arm/registry.js';
import { collectionQuery, resourceReply, targetKey } from '../../arm/resourceOps.js';
import { objectBody, optionalObject, rejectUnknown } from '../../arm/validate.js';
import { type ArmBody, getResource } from '../../store/index.js';

export type CatalogueKind = 'definition' | 'set';

const CATALOGUES: Record<CatalogueKind, { noun: string; armType: string; updateCode: string }> = {
  definition: {
    noun: 'policy definition',
    armType: 'PolicyDefinition',
    updateCode: 'InvalidPolicyDefinitionUpdate',
  },
  set: {
    noun: 'policy set definition',
    armType: 'PolicySetDefinition',
    updateCode: 'InvalidPolicySetDefinitionUpdate',
  },
};

/** A write or delete of a built-in entry (or anything at the tenant path, where only built-ins live). */
export function builtInRefused(kind: CatalogueKind, name: string): ArmError {
  const { noun, updateCode } = CATALOGUES[kind];
  return new ArmError({
    status: 400,
    code: updateCode,
    message: `The ${noun} '${name}' is a built-in ${noun} and cannot be created, updated or deleted.`,
  });
}

/** The custom entry the request addresses; `notFound` when it is absent or addressed at the tenant. */
export async function customEntryReply(
  ctx: ArmContext,
  notFound: (name: string) => ArmError,
): Promise<ArmReply> {
  const name = ctx.parsed.target.names[0]!;
  if (ctx.parsed.scope.kind === 'tenant') throw notFound(name);
  const stored = await getResource(ctx.db, targetKey(ctx));
  if (!stored) throw notFound(name);
  return resourceReply(stored);
}

/**
 * The `properties` of a PUT body, checked against the members the type knows; a `policyType` other
 * than Custom is refused, as Azure refuses writing built-in or static entries.
 */
export function customProperties(ctx: ArmContext, kind: CatalogueKind, members: readonly string[]): ArmBody {
  const { noun, armType } = CATALOGUES[kind];
  const body = objectBody(ctx.body);
  rejectUnknown(body, ['properties', 'id', 'name', 'type', 'systemData'], armType);
  const properties = optionalObject(body.properties, 'properties', `${armType}Properties`);
  rejectUnknown(properties, members, `${armType}Properties`, 'properties');
  if (properties.policyType !== undefined && String(properties.policyType).toLowerCase() !== 'custom') {
    throw new ArmError({
      status: 400,
      code: 'InvalidPolicyType',
      message: `The policy type '${properties.policyType}' is not allowed. Only 'Custom' ${noun}s can be created or updated.`,
    });
  }
  return properties;
}

export interface CatalogueFilter {
  policyType?: string;
  category?: string;
  atExactScope?: boolean;
}

/**
 * `$filter=policyType eq '…'` (BuiltIn, Custom, Static) or `category eq '…'`, as the CLI sends them,
 * and `atExactScope()` where the type accepts it; anything else is refused, naming what is supported.
 */
export function catalogueFilterOf(ctx: ArmContext, accepts: { atExactScope: boolean }): CatalogueFilter {
  const filter = ctx.query.$filter;
  if (!filter) return {};
  if (accepts.atExactScope && /^\s*atExactScope\(\)\s*$/i.test(filter)) return { atExactScope: true };
  const match = /^\s*(policyType|category)\s+eq\s+'([^']*)'\s*$/i.exec(filter);
  if (!match) {
    const supported = ["policyType eq '{value}'", "category eq '{value}'"];
    if (accepts.atExactScope) supported.push('atExactScope()');
    throw errors.invalidQueryParameter('$filter', filter, `Supported: ${supported.join(', ')}.`);
  }
  return match[1]!.toLowerCase() === 'policytype' ? { policyType: match[2]! } : { category: match[2]! };
}

/**
 * A catalogue's list: the built-ins, then (below the tenant, after the paging query is checked) the
 * custom entries `visibleCustom` says the scope sees, all narrowed by `filter`'s policyType and
 * category.
 */
export async function catalogueList(
  ctx: ArmContext,
  options: {
    filter: CatalogueFilter;
    builtIns: readonly ArmBody[];
    /** The custom entries the addressed scope sees (`atExactScope` says whether only its own). */
    visibleCustom: (filter: CatalogueFilter) => Promise<ArmBody[]>;
  },
): Promise<ArmReply> {
  const { filter } = options;
  let custom: ArmBody[] = [];
  if (ctx.parsed.scope.kind !== 'tenant') {
    await collectionQuery(ctx);
    custom = await options.visibleCustom(filter);
  }
  const value = [...options.builtIns, ...custom].filter((body) => {
    const properties = body.properties as Record<string, unknown>;
    if (filter.policyType && String(properties.policyType).toLowerCase() !== filter.policyType.toLowerCase())
      return false;
    const metadata = properties.metadata as Record<string, unknown> | undefined;
    if (filter.category && String(metadata?.category ?? '').toLowerCase() !== filter.category.toLowerCase())
      return false;
    return true;
  });
  return { status: 200, body: { value } };
}
