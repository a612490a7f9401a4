/**
 * What the policy providers store and share: definitions (vaplane's built-ins and custom ones),
 * assignments, their compiled forms, the scope an assignment covers and its managed identity.
 */
import { uuidFromHash } from '../../arm/auth.js';
import { ArmError, errors } from '../../arm/errors.js';
import type { Principal } from '../../arm/identity.js';
import { keyOf } from '../../arm/resourceId.js';
import { type BuiltInDefinition, builtInDefinition } from '../../policy/builtins/index.js';
import {
  type AssignmentParameterValues,
  bindParameters,
  bindSetParameters,
  type CompiledDefinition,
  type CompiledSet,
  compileDefinition,
  compileSet,
  type JsonValue,
  type PolicyDefinitionProperties,
  PolicyError,
  type PolicySetDefinitionProperties,
} from '../../policy/index.js';
import { type ArmBody, type Db, getResource, listResources, type StoredResource } from '../../store/index.js';
import { GROUP_SUBSCRIPTION_TYPE, MANAGEMENT_GROUP_TYPE } from '../management/index.js';

export const DEFINITION_TYPE = 'microsoft.authorization/policydefinitions';
export const SET_DEFINITION_TYPE = 'microsoft.authorization/policysetdefinitions';
export const ASSIGNMENT_TYPE = 'microsoft.authorization/policyassignments';
/** Internal rows: one per assignment × evaluated resource (never served as a resource type). */
export const STATE_TYPE = 'microsoft.policyinsights/policystates';
export const REMEDIATION_TYPE = 'microsoft.policyinsights/remediations';
export const DEPLOYMENT_TYPE = 'microsoft.resources/deployments';

export const AUTHORIZATION_POLICY_API_VERSIONS = ['2023-04-01', '2022-06-01', '2021-06-01', '2020-09-01'];
export const POLICY_INSIGHTS_API_VERSIONS = ['2019-10-01'];
export const REMEDIATION_API_VERSIONS = ['2021-10-01', '2019-07-01'];

export function builtInDefinitionId(name: string): string {
  return `/providers/Microsoft.Authorization/policyDefinitions/${name}`;
}

export function builtInBody(entry: BuiltInDefinition): ArmBody {
  return {
    properties: entry.properties,
    id: builtInDefinitionId(entry.name),
    type: 'Microsoft.Authorization/policyDefinitions',
    name: entry.name,
  };
}

/** A policy engine error as the ARM error Azure Policy answers with (400 and the engine's code). */
export function armErrorOf(error: unknown): unknown {
  if (error instanceof PolicyError)
    return new ArmError({ status: error.status, code: error.code, message: error.message });
  return error;
}

export function compileOrRefuse(properties: PolicyDefinitionProperties, name: string): CompiledDefinition {
  try {
    return compileDefinition(properties, { name });
  } catch (error) {
    throw armErrorOf(error);
  }
}

const compiledCache = new Map<string, { etag: string; compiled: CompiledDefinition }>();

export interface LoadedDefinition {
  id: string;
  name: string;
  body: ArmBody;
  /** The stored row's etag ('' for a built-in): a set compiled against it is current while it holds. */
  etag: string;
  compiled: CompiledDefinition;
}

/** The definition an assignment names: a built-in, or a custom one at a management group or subscription. */
export async function loadDefinition(db: Db, definitionId: string): Promise<LoadedDefinition | undefined> {
  const builtIn = /^\/providers\/Microsoft\.Authorization\/policyDefinitions\/([^/]+)$/i.exec(definitionId);
  if (builtIn) {
    const entry = builtInDefinition(builtIn[1]!);
    if (!entry) return undefined;
    const body = builtInBody(entry);
    return {
      id: body.id,
      name: entry.name,
      body,
      etag: '',
      compiled: compiledFor(`builtin:${entry.name}`, '', entry.properties, entry.name),
    };
  }
  const stored = await getResource(db, keyOf(definitionId));
  if (!stored || stored.type !== DEFINITION_TYPE) return undefined;
  return {
    id: stored.id,
    name: stored.name,
    body: stored.body,
    etag: stored.etag,
    compiled: compiledFor(stored.key, stored.etag, stored.body.properties, stored.name),
  };
}

function compiledFor(
  key: string,
  etag: string,
  properties: PolicyDefinitionProperties,
  name: string,
): CompiledDefinition {
  const cached = compiledCache.get(key);
  if (cached && cached.etag === etag) return cached.compiled;
  const compiled = compileOrRefuse(properties, name);
  compiledCache.set(key, { etag, compiled });
  return compiled;
}

/** A custom policy set definition with its members, loaded and compiled against them. */
export interface LoadedSet {
  id: string;
  name: string;
  body: ArmBody;
  compiled: CompiledSet;
  /** The member definitions, in the order of `compiled.members`. */
  members: LoadedDefinition[];
}

const compiledSetCache = new Map<string, { version: string; compiled: CompiledSet }>();

/** Compiles set properties against loaded members (keyed by `keyOf(policyDefinitionId)`), refusing as Azure does. */
export function compileSetOrRefuse(
  properties: PolicySetDefinitionProperties,
  name: string,
  members: ReadonlyMap<string, LoadedDefinition>,
): CompiledSet {
  try {
    return compileSet(properties, {
      name,
      memberDefinition: (policyDefinitionId) => members.get(keyOf(policyDefinitionId))!.compiled,
    });
  } catch (error) {
    throw armErrorOf(error);
  }
}

/**
 * The set an assignment names: a custom one at a management group or subscription (vaplane's
 * catalogue holds no built-in set). Undefined when it, or one of its members, no longer exists.
 */
export async function loadSet(db: Db, setId: string): Promise<LoadedSet | undefined> {
  const stored = await getResource(db, keyOf(setId));
  if (!stored || stored.type !== SET_DEFINITION_TYPE) return undefined;
  const references: { policyDefinitionId: string }[] = stored.body.properties?.policyDefinitions ?? [];
  const members: LoadedDefinition[] = [];
  for (const reference of references) {
    const member = await loadDefinition(db, String(reference.policyDefinitionId));
    if (!member) return undefined;
    members.push(member);
  }
  const version = [stored.etag, ...members.map((member) => member.etag)].join('|');
  const cached = compiledSetCache.get(stored.key);
  const compiled =
    cached && cached.version === version
      ? cached.compiled
      : compileSetOrRefuse(
          stored.body.properties,
          stored.name,
          new Map(
            members.map((member, index) => [keyOf(String(references[index]!.policyDefinitionId)), member]),
          ),
        );
  compiledSetCache.set(stored.key, { version, compiled });
  return { id: stored.id, name: stored.name, body: stored.body, compiled, members };
}

/** What an assignment's `policyDefinitionId` names: a definition or a set. */
export type Assignable =
  | { kind: 'definition'; definition: LoadedDefinition }
  | { kind: 'set'; set: LoadedSet };

export async function loadAssignable(db: Db, policyDefinitionId: string): Promise<Assignable | undefined> {
  if (/\/providers\/Microsoft\.Authorization\/policySetDefinitions\/[^/]+$/i.test(policyDefinitionId)) {
    const set = await loadSet(db, policyDefinitionId);
    return set && { kind: 'set', set };
  }
  const definition = await loadDefinition(db, policyDefinitionId);
  return definition && { kind: 'definition', definition };
}

/** One policy an assignment applies: its definition, or one member of its set, with bound parameters. */
export interface AssignedPolicy {
  definition: LoadedDefinition;
  parameters: Map<string, JsonValue>;
  /** The member's `policyDefinitionReferenceId` when the assignment assigns a set. */
  referenceId?: string;
  groupNames: readonly string[];
}

/** Binds an assignment's parameters to what it assigns: one policy, or every member of a set. */
export function assignedPolicies(
  assignable: Assignable,
  values: AssignmentParameterValues | undefined,
  assignmentName: string,
  now: Date,
): { policies: AssignedPolicy[]; setParameters?: Map<string, JsonValue> } {
  if (assignable.kind === 'definition') {
    const parameters = bindOrRefuse(assignable.definition.compiled, values, assignmentName);
    return { policies: [{ definition: assignable.definition, parameters, groupNames: [] }] };
  }
  try {
    const bound = bindSetParameters(assignable.set.compiled, values, assignmentName, now);
    return {
      setParameters: bound.parameters,
      policies: bound.members.map(({ member, parameters }, index) => ({
        definition: assignable.set.members[index]!,
        parameters,
        referenceId: member.referenceId,
        groupNames: member.groupNames,
      })),
    };
  } catch (error) {
    throw armErrorOf(error);
  }
}

/** Every role the assigned policies' DeployIfNotExists and Modify effects need, once each. */
export function requiredRoleIds(policies: readonly AssignedPolicy[]): string[] {
  const ids = policies.flatMap(({ definition }) => [
    ...(definition.compiled.existence?.roleDefinitionIds ?? []),
    ...(definition.compiled.modify?.roleDefinitionIds ?? []),
  ]);
  return [...new Set(ids.map((id) => String(id).split('/').pop()!.toLowerCase()))];
}

/**
 * The management groups above a scope, nearest first: a subscription's group and its ancestors, or a
 * group's own ancestors (with `includeSelf`, the group first).
 */
export async function ancestorGroupKeys(db: Db, scopeId: string, includeSelf = false): Promise<string[]> {
  const found: string[] = [];
  let current: string | undefined;
  const subscription = /^\/subscriptions\/([^/]+)$/i.exec(keyOf(scopeId));
  if (subscription) {
    const link = await db
      .selectFrom('resources')
      .select('parent_key')
      .where('type', '=', GROUP_SUBSCRIPTION_TYPE)
      .where('name', '=', subscription[1]!)
      .executeTakeFirst();
    current = link?.parent_key;
  } else if (/^\/providers\/microsoft\.management\/managementgroups\/[^/]+$/.test(keyOf(scopeId))) {
    current = keyOf(scopeId);
    if (!includeSelf) current = await parentGroupKey(db, current);
  }
  while (current && !found.includes(current)) {
    found.push(current);
    current = await parentGroupKey(db, current);
  }
  return found;
}

async function parentGroupKey(db: Db, groupKey: string): Promise<string | undefined> {
  const group = await getResource(db, groupKey);
  const parent = group?.body.properties?.details?.parent?.id;
  return typeof parent === 'string' && parent !== '' ? keyOf(parent) : undefined;
}

/** The scope a custom definition or set was created at: its id without the `providers/Microsoft.Authorization/…` tail. */
export function definitionScopeKey(id: string): string {
  return keyOf(id).replace(/\/providers\/microsoft\.authorization\/[^/]+\/[^/]+$/, '');
}

export function bindOrRefuse(
  definition: CompiledDefinition,
  values: AssignmentParameterValues | undefined,
  assignmentName: string,
): Map<string, JsonValue> {
  try {
    return bindParameters(definition, values ?? {}, assignmentName);
  } catch (error) {
    throw armErrorOf(error);
  }
}

/** The subscriptions an assignment scope covers: one, or every one below a management group. */
export async function subscriptionsUnder(db: Db, scopeId: string): Promise<string[]> {
  const subscription = /^\/subscriptions\/([^/]+)/i.exec(scopeId);
  if (subscription) return [subscription[1]!.toLowerCase()];
  const group = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)$/i.exec(scopeId);
  if (!group) return [];
  const groups = await listResources(db, { type: MANAGEMENT_GROUP_TYPE, limit: 100_000 });
  const links = await listResources(db, { type: GROUP_SUBSCRIPTION_TYPE, limit: 1_000_000 });
  const wanted = new Set([keyOf(scopeId)]);
  for (let grown = true; grown; ) {
    grown = false;
    for (const candidate of groups) {
      const parent = candidate.body.properties?.details?.parent?.id;
      if (!wanted.has(candidate.key) && typeof parent === 'string' && wanted.has(keyOf(parent))) {
        wanted.add(candidate.key);
        grown = true;
      }
    }
  }
  return links.filter((link) => wanted.has(link.parentKey)).map((link) => link.name.toLowerCase());
}

/** Whether `resourceId` lies in (or is) `scopeId`. */
export function isWithin(resourceId: string, scopeId: string): boolean {
  const resource = keyOf(resourceId);
  const scope = keyOf(scopeId);
  return resource === scope || resource.startsWith(`${scope}/`);
}

/** The managed identity of an assignment as RBAC sees it when a remediation acts. */
export function assignmentPrincipal(assignment: StoredResource, tenantId: string): Principal {
  const principalId = String(assignment.body.identity?.principalId ?? '');
  return {
    objectId: principalId,
    clientId: principalId,
    tenantId,
    name: assignment.name,
    type: 'ManagedIdentity',
  };
}

export function identityPrincipalId(assignmentKey: string): string {
  return uuidFromHash(`policy-assignment-identity:${assignmentKey}`);
}

export function setNotFound(setId: string): ArmError {
  return new ArmError({
    status: 404,
    code: 'PolicySetDefinitionNotFound',
    message: `The policy set definition '${setId.split('/').pop()}' could not be found.`,
  });
}

export function definitionNotFound(definitionId: string): ArmError {
  return new ArmError({
    status: 404,
    code: 'PolicyDefinitionNotFound',
    message: `The policy definition '${definitionId.split('/').pop()}' could not be found.`,
  });
}

export { errors };

/** An assignment that assigns the definition or set with this key, if any (deleting it is then refused). */
export async function assignmentOf(db: Db, definitionKey: string): Promise<StoredResource | undefined> {
  const assignments = await listResources(db, { type: ASSIGNMENT_TYPE, limit: 100_000 });
  return assignments.find(
    (assignment) => keyOf(String(assignment.body.properties?.policyDefinitionId ?? '')) === definitionKey,
  );
}
