/**
 * Fields and aliases: what a `field` names and where its value lives in a resource body.
 *
 * Fields are the built-in ones (`type`, `name`, `fullName`, `kind`, `location`, `id`, `identity.type`,
 * `tags`, `tags['x']`, `tags.x`, `tags[x]`) or aliases such as
 * `Microsoft.Security/assessments/status.code`. Azure keeps its alias table server-side (`GET
 * /providers?$expand=resourceTypes/aliases`); vaplane records the subset its policies use, each alias
 * with the body path per resource type. An alias applies only to its resource types (and, for
 * polymorphic resources, to its `kind`): on any other resource its value is absent.
 *
 * An array alias (`…/extensions[*].name`) selects a collection: one value per array member. Inside a
 * `count`, the counted array's `[*]` selects only the member being enumerated.
 */
import type { CountScope } from './expressions.js';
import { isJsonObject, keyOf, propertyOf } from './json.js';
import type { ArmResource, JsonValue } from './types.js';

// ─── Registry ────────────────────────────────────────────────────────────────────────────────────

export interface AliasPath {
  resourceType: string;
  /** Dotted path from the resource root: `properties.extensions[*].name`. */
  path: string;
  /** For polymorphic types: the `kind` values the alias applies to. */
  kinds?: readonly string[];
}

export interface AliasDefinition {
  name: string;
  paths: readonly AliasPath[];
  /** Usable by Modify (Azure marks such aliases `Modifiable`). */
  modifiable?: boolean;
  /** Where the alias is attested: the definitions that use it. */
  usedBy: readonly string[];
}

export type PathSegment = { kind: 'key'; name: string } | { kind: 'wildcard' };

export interface CompiledAliasPath {
  segments: readonly PathSegment[];
  /** Lower-case resource type, the first part of every count-scope key. */
  typeKey: string;
  kinds?: ReadonlySet<string>;
}

export interface CompiledAlias {
  name: string;
  /** Whether the alias ends in or passes through `[*]`: it selects a collection. */
  isArray: boolean;
  modifiable: boolean;
  paths: ReadonlyMap<string, CompiledAliasPath>;
}

export interface AliasRegistry {
  lookup(name: string): CompiledAlias | undefined;
  readonly aliases: readonly CompiledAlias[];
}

export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[\]]*)((?:\[\*\])*)$/.exec(part);
    if (!match) throw new Error(`The alias path '${path}' is malformed at '${part}'.`);
    if (match[1]) segments.push({ kind: 'key', name: match[1] });
    for (let count = match[2]!.length / 3; count > 0; count--) segments.push({ kind: 'wildcard' });
  }
  return segments;
}

export function createAliasRegistry(definitions: readonly AliasDefinition[]): AliasRegistry {
  const byName = new Map<string, CompiledAlias>();
  for (const definition of definitions) {
    const wildcards = definition.name.split('[*]').length - 1;
    const paths = new Map<string, CompiledAliasPath>();
    for (const path of definition.paths) {
      const segments = parsePath(path.path);
      if (segments.filter((segment) => segment.kind === 'wildcard').length !== wildcards) {
        throw new Error(`The alias '${definition.name}' and its path '${path.path}' disagree on [*].`);
      }
      const typeKey = path.resourceType.toLowerCase();
      paths.set(typeKey, {
        segments,
        typeKey,
        ...(path.kinds ? { kinds: new Set(path.kinds.map((kind) => kind.toLowerCase())) } : {}),
      });
    }
    byName.set(definition.name.toLowerCase(), {
      name: definition.name,
      isArray: wildcards > 0,
      modifiable: definition.modifiable ?? false,
      paths,
    });
  }
  return { lookup: (name) => byName.get(name.toLowerCase()), aliases: [...byName.values()] };
}

// The built-in definitions that attest each alias, by file in Azure/azure-policy
// built-in-policies/policyDefinitions/Security Center/.
const VA_SETTINGS = '766e621d (ASC_VulnerabilityAssessmentsSettings_DINE)';
const VA_PROVISION = '13ce0167 (ASC_VulnerabilityAssessment_ProvisionQualysAgent_DINE)';
const VA_AUDIT = '501541f7 (ASC_ServerVulnerabilityAssessment_Audit)';
const WDATP = 'da56d295, f9e2bd2f, 48666c5d (MDC_MDE_WDATP*_DINE)';
const SERVERS_PLAN = '5eb6d64a (ASC_Azure_Defender_Servers_Full_Features_DINE)';
const PLANS = '72f8cee7, 5eb6d64a, Containers plan (ASC_Azure_Defender_*_Full_Features_DINE)';
const MDE_LINUX = 'd30025d0 (ASC_MicrosoftDefenderForEndpoint_LinuxAgent_VM_DINE)';
const VM = 'Microsoft.Compute/virtualMachines';
const VMSS = 'Microsoft.Compute/virtualMachineScaleSets';
const ARC = 'Microsoft.HybridCompute/machines';
const PRICINGS = 'Microsoft.Security/pricings';

const imageAlias = (property: string, usedBy: string[]): AliasDefinition => ({
  name: `Microsoft.Compute/image${property === 'sku' ? 'SKU' : property[0]!.toUpperCase() + property.slice(1)}`,
  paths: [
    { resourceType: VM, path: `properties.storageProfile.imageReference.${property}` },
    {
      resourceType: VMSS,
      path: `properties.virtualMachineProfile.storageProfile.imageReference.${property}`,
    },
  ],
  usedBy,
});

/** The aliases vaplane knows. Every entry is used by a Microsoft definition named in `usedBy`. */
export const DEFAULT_ALIASES: readonly AliasDefinition[] = [
  {
    name: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting.selectedProvider',
    paths: [
      {
        resourceType: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
        path: 'properties.selectedProvider',
        kinds: ['AzureServersSetting'],
      },
    ],
    usedBy: [VA_SETTINGS],
  },
  {
    name: 'Microsoft.Security/assessments/status.code',
    paths: [{ resourceType: 'Microsoft.Security/assessments', path: 'properties.status.code' }],
    usedBy: [VA_PROVISION, VA_AUDIT, 'the deprecated container VA audits'],
  },
  {
    name: 'Microsoft.Security/assessments/status.cause',
    paths: [{ resourceType: 'Microsoft.Security/assessments', path: 'properties.status.cause' }],
    usedBy: [VA_PROVISION],
  },
  {
    // The alias is named after the `DataExportSettingProperties` model; the resource kind is
    // `DataExportSettings` (stable/2022-05-01/settings.json).
    name: 'Microsoft.Security/settings/DataExportSetting.enabled',
    paths: [
      {
        resourceType: 'Microsoft.Security/settings',
        path: 'properties.enabled',
        kinds: ['DataExportSettings'],
      },
    ],
    usedBy: [WDATP],
  },
  {
    name: 'Microsoft.Security/pricings/pricingTier',
    paths: [{ resourceType: PRICINGS, path: 'properties.pricingTier' }],
    usedBy: [PLANS],
  },
  {
    name: 'Microsoft.Security/pricings/subPlan',
    paths: [{ resourceType: PRICINGS, path: 'properties.subPlan' }],
    usedBy: [SERVERS_PLAN],
  },
  {
    name: 'Microsoft.Security/pricings/enforce',
    paths: [{ resourceType: PRICINGS, path: 'properties.enforce' }],
    usedBy: ['5f57b753 (defender-va-spec.md §9.3)'],
  },
  {
    name: 'Microsoft.Security/pricings/extensions[*]',
    paths: [{ resourceType: PRICINGS, path: 'properties.extensions[*]' }],
    usedBy: [PLANS],
  },
  {
    name: 'Microsoft.Security/pricings/extensions[*].name',
    paths: [{ resourceType: PRICINGS, path: 'properties.extensions[*].name' }],
    usedBy: [PLANS],
  },
  {
    name: 'Microsoft.Security/pricings/extensions[*].isEnabled',
    paths: [{ resourceType: PRICINGS, path: 'properties.extensions[*].isEnabled' }],
    usedBy: [PLANS],
  },
  {
    name: 'Microsoft.Security/pricings/extensions[*].additionalExtensionProperties',
    paths: [{ resourceType: PRICINGS, path: 'properties.extensions[*].additionalExtensionProperties' }],
    usedBy: ['Containers plan (ASC_Azure_Defender_Containers_Full_Features_DINE)'],
  },
  imageAlias('publisher', [MDE_LINUX]),
  imageAlias('offer', [MDE_LINUX]),
  imageAlias('sku', [MDE_LINUX]),
  {
    name: 'Microsoft.Compute/virtualMachines/imagePublisher',
    paths: [{ resourceType: VM, path: 'properties.storageProfile.imageReference.publisher' }],
    usedBy: [MDE_LINUX],
  },
  {
    name: 'Microsoft.Compute/virtualMachines/storageProfile.imageReference.id',
    paths: [{ resourceType: VM, path: 'properties.storageProfile.imageReference.id' }],
    usedBy: [MDE_LINUX],
  },
  {
    name: 'Microsoft.Compute/virtualMachines/storageProfile.osDisk.osType',
    paths: [{ resourceType: VM, path: 'properties.storageProfile.osDisk.osType' }],
    usedBy: [MDE_LINUX],
  },
  ...(['publisher', 'type', 'provisioningState'] as const).map(
    (property): AliasDefinition => ({
      name: `Microsoft.Compute/virtualMachines/extensions/${property}`,
      paths: [{ resourceType: `${VM}/extensions`, path: `properties.${property}` }],
      usedBy: [MDE_LINUX],
    }),
  ),
  {
    name: 'Microsoft.HybridCompute/machines/osName',
    paths: [{ resourceType: ARC, path: 'properties.osName' }],
    usedBy: ['the MDE and AMA deployments for Arc machines (not in the local corpus)'],
  },
];

export const defaultAliasRegistry: AliasRegistry = createAliasRegistry(DEFAULT_ALIASES);

// ─── Fields ──────────────────────────────────────────────────────────────────────────────────────

type SimpleFieldKind = 'type' | 'name' | 'fullName' | 'kind' | 'location' | 'id' | 'identityType' | 'tags';

export type FieldRef =
  | { [Kind in SimpleFieldKind]: { kind: Kind; text: string } }[SimpleFieldKind]
  | { kind: 'tag'; tag: string; text: string }
  | { kind: 'alias'; alias: CompiledAlias; text: string };

const SIMPLE_FIELDS: Record<string, SimpleFieldKind> = {
  type: 'type',
  name: 'name',
  fullname: 'fullName',
  kind: 'kind',
  location: 'location',
  id: 'id',
  'identity.type': 'identityType',
  tags: 'tags',
};

/** The tag a `tags…` field names, or undefined when the text is not a tag field. */
function tagName(text: string): string | undefined {
  const quoted = /^tags\['((?:[^']|'')*)'\]$/i.exec(text);
  if (quoted) return quoted[1]!.replaceAll("''", "'");
  const bracketed = /^tags\[(.+)\]$/i.exec(text);
  if (bracketed) return bracketed[1];
  const dotted = /^tags\.(.+)$/i.exec(text);
  return dotted ? dotted[1] : undefined;
}

/** Resolves a field's text to what it names; undefined when it is neither a field nor a known alias. */
export function parseField(text: string, registry: AliasRegistry): FieldRef | undefined {
  const simple = SIMPLE_FIELDS[text.toLowerCase()];
  if (simple) return { kind: simple, text };
  const tag = tagName(text);
  if (tag !== undefined) return { kind: 'tag', tag, text };
  const alias = registry.lookup(text);
  return alias ? { kind: 'alias', alias, text } : undefined;
}

/** What a field selects: one value (maybe absent), or a collection for an array alias. */
export type Selection =
  | { collection: false; value: JsonValue | undefined }
  | { collection: true; values: (JsonValue | undefined)[] };

/** One selected value with the count scopes that enumerate to it (one per `[*]` on its path). */
export interface SelectedMember {
  value: JsonValue | undefined;
  bindings: CountScope[];
}

/**
 * The name with its parents' names, `vm/extension`: the name segments after the last `/providers/{ns}/`
 * of the id (for a subscription or a resource group, its name).
 */
export function fullNameOf(resource: ArmResource): string {
  const marker = resource.id.toLowerCase().lastIndexOf('/providers/');
  if (marker < 0) return resource.name;
  const segments = resource.id
    .slice(marker + '/providers/'.length)
    .split('/')
    .filter((segment) => segment !== '');
  // [namespace, type1, name1, type2, name2 …]
  const names = segments.slice(1).filter((_, index) => index % 2 === 1);
  return names.length > 0 ? names.join('/') : resource.name;
}

function lookupTag(resource: ArmResource, tag: string): string | undefined {
  const tags = resource.tags;
  if (!tags) return undefined;
  const value = propertyOf(tags, tag);
  return typeof value === 'string' ? value : undefined;
}

/** The path an alias takes on this resource, or undefined when the alias does not apply to it. */
export function aliasPathFor(alias: CompiledAlias, resource: ArmResource): CompiledAliasPath | undefined {
  const path = alias.paths.get(resource.type.toLowerCase());
  if (!path) return undefined;
  if (path.kinds && !path.kinds.has((resource.kind ?? '').toLowerCase())) return undefined;
  return path;
}

/** Walks a path from `root`, fanning out at each `[*]` unless a count scope binds that array. */
export function selectPath(
  root: JsonValue | undefined,
  path: CompiledAliasPath,
  scopes: readonly CountScope[],
  startAt = 0,
  prefixKey = `${path.typeKey}|`,
): SelectedMember[] {
  let members: SelectedMember[] = [{ value: root, bindings: [] }];
  let key = prefixKey;
  for (let index = startAt; index < path.segments.length; index++) {
    const segment = path.segments[index]!;
    if (segment.kind === 'key') {
      key += `${key.endsWith('|') ? '' : '.'}${segment.name.toLowerCase()}`;
      members = members.map((member) => ({
        value: isJsonObject(member.value) ? propertyOf(member.value, segment.name) : undefined,
        bindings: member.bindings,
      }));
      continue;
    }
    key += '[*]';
    const scopeKey = key;
    const bound = findFieldScope(scopes, scopeKey);
    if (bound) {
      members = members.map((member) => ({ value: bound.element, bindings: member.bindings }));
      continue;
    }
    members = members.flatMap((member) =>
      Array.isArray(member.value)
        ? member.value.map((element) => ({
            value: element,
            bindings: [...member.bindings, { kind: 'field' as const, key: scopeKey, element }],
          }))
        : [],
    );
  }
  return members;
}

function findFieldScope(scopes: readonly CountScope[], key: string) {
  for (let index = scopes.length - 1; index >= 0; index--) {
    const scope = scopes[index]!;
    if (scope.kind === 'field' && scope.key === key) return scope;
  }
  return undefined;
}

/** A resource as the JSON value alias paths walk. */
const bodyOf = (resource: ArmResource): JsonValue => resource as unknown as JsonValue;

/** The value(s) a field selects on a resource, honouring the enclosing count scopes. */
export function selectField(
  field: FieldRef,
  resource: ArmResource,
  scopes: readonly CountScope[],
): Selection {
  switch (field.kind) {
    case 'type':
      return { collection: false, value: resource.type };
    case 'name':
      return { collection: false, value: resource.name };
    case 'fullName':
      return { collection: false, value: fullNameOf(resource) };
    case 'kind':
      return { collection: false, value: resource.kind };
    case 'location':
      return { collection: false, value: resource.location };
    case 'id':
      return { collection: false, value: resource.id };
    case 'identityType':
      return {
        collection: false,
        value: isJsonObject(resource.identity) ? propertyOf(resource.identity, 'type') : undefined,
      };
    case 'tags':
      return { collection: false, value: resource.tags };
    case 'tag':
      return { collection: false, value: lookupTag(resource, field.tag) };
    case 'alias': {
      const path = aliasPathFor(field.alias, resource);
      if (!field.alias.isArray) {
        return {
          collection: false,
          value: path ? selectPath(bodyOf(resource), path, scopes)[0]?.value : undefined,
        };
      }
      return {
        collection: true,
        values: path ? selectPath(bodyOf(resource), path, scopes).map((member) => member.value) : [],
      };
    }
  }
}

/** The members a `count` over an array alias enumerates, each with the scopes that bind it. */
export function enumerateAlias(
  alias: CompiledAlias,
  resource: ArmResource,
  scopes: readonly CountScope[],
): SelectedMember[] {
  const path = aliasPathFor(alias, resource);
  return path ? selectPath(bodyOf(resource), path, scopes) : [];
}

/**
 * `current('<alias>')` inside a field count: the value of the alias relative to the innermost
 * enumerated member on its path. Undefined when no enclosing count enumerates a prefix of it.
 */
export function currentOfAlias(
  alias: CompiledAlias,
  resource: ArmResource,
  scopes: readonly CountScope[],
): { found: boolean; value: JsonValue | undefined } {
  const path = aliasPathFor(alias, resource);
  if (!path) return { found: false, value: undefined };
  // The scope key after each wildcard of the path, deepest first.
  const keys: { key: string; next: number }[] = [];
  let key = `${path.typeKey}|`;
  path.segments.forEach((segment, index) => {
    if (segment.kind === 'key') key += `${key.endsWith('|') ? '' : '.'}${segment.name.toLowerCase()}`;
    else {
      key += '[*]';
      keys.unshift({ key, next: index + 1 });
    }
  });
  for (const candidate of keys) {
    const scope = findFieldScope(scopes, candidate.key);
    if (!scope) continue;
    const members = selectPath(scope.element, path, scopes, candidate.next, candidate.key);
    const rest = path.segments.slice(candidate.next);
    const value = rest.some((segment) => segment.kind === 'wildcard')
      ? members.map((member) => member.value ?? null)
      : members[0]?.value;
    return { found: true, value };
  }
  return { found: false, value: undefined };
}

/** The stored key for a tag, found case-insensitively, for Modify. */
export function tagKey(resource: ArmResource, tag: string): string | undefined {
  return resource.tags ? keyOf(resource.tags, tag) : undefined;
}
