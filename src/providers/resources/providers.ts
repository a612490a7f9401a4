/**
 * `Microsoft.Resources/providers`: the resource providers ARM knows, as `az provider list|show|register`,
 * Terraform and the SDKs read them at `/providers[/{namespace}]` and `/subscriptions/{id}/providers[/{namespace}]`.
 * What a provider offers is read off the registry, so the answer always matches what vaplane serves.
 * Every served namespace is registered in every subscription: vaplane has no per-subscription
 * registration, so `register` answers the provider as it is and nothing can be unregistered.
 */
import { errors } from '../../arm/errors.js';
import { pageReply, pageRequest } from '../../arm/paging.js';
import type { ArmContext, Registry, ResourceTypeDef } from '../../arm/registry.js';
import { getResource } from '../../store/index.js';
import { AZURE_LOCATIONS, locationDisplayName } from '../locations.js';
import { RESOURCES_API_VERSIONS } from './apiVersions.js';

interface ProviderBody {
  id: string;
  namespace: string;
  registrationState?: 'Registered';
  registrationPolicy?: 'RegistrationRequired';
  resourceTypes: {
    resourceType: string;
    locations: string[];
    apiVersions: string[];
    capabilities: string;
  }[];
}

/** The namespaces the registry serves with their types, in canonical casing, sorted by namespace. */
function providerBodies(registry: Registry, subscriptionId: string | undefined): ProviderBody[] {
  const byNamespace = new Map<string, ResourceTypeDef[]>();
  for (const def of registry.all()) {
    const key = def.namespace.toLowerCase();
    byNamespace.set(key, [...(byNamespace.get(key) ?? []), def]);
  }
  return [...byNamespace.values()]
    .map((defs) => {
      const namespace = defs[0]!.namespace;
      return {
        id: `${subscriptionId ? `/subscriptions/${subscriptionId}` : ''}/providers/${namespace}`,
        namespace,
        ...(subscriptionId
          ? { registrationState: 'Registered' as const, registrationPolicy: 'RegistrationRequired' as const }
          : {}),
        resourceTypes: defs.map((def) => ({
          resourceType: def.type,
          // Types that live in resource groups are regional; the others are global, listed without locations.
          locations: def.scopes.includes('resourceGroup') ? AZURE_LOCATIONS.map(locationDisplayName) : [],
          apiVersions: [...def.apiVersions],
          capabilities: 'None',
        })),
      };
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace));
}

async function subscriptionOf(ctx: ArmContext): Promise<string | undefined> {
  const { subscriptionId } = ctx.parsed.scope;
  if (subscriptionId === undefined) return undefined;
  const subscription = await getResource(ctx.db, `/subscriptions/${subscriptionId.toLowerCase()}`);
  if (!subscription) throw errors.subscriptionNotFound(subscriptionId);
  return subscription.name;
}

export function providersType(registry: Registry): ResourceTypeDef {
  async function one(ctx: ArmContext) {
    const subscriptionId = await subscriptionOf(ctx);
    const wanted = ctx.parsed.target.names[0]!.toLowerCase();
    const provider = providerBodies(registry, subscriptionId).find(
      (candidate) => candidate.namespace.toLowerCase() === wanted,
    );
    if (!provider) throw errors.invalidResourceNamespace(ctx.parsed.target.names[0]!);
    return { status: 200, body: provider };
  }
  return {
    namespace: 'Microsoft.Resources',
    type: 'providers',
    apiVersions: RESOURCES_API_VERSIONS,
    scopes: ['tenant', 'subscription'],
    operationType: 'Microsoft.Resources/subscriptions/providers',
    get: one,
    async list(ctx) {
      const subscriptionId = await subscriptionOf(ctx);
      const page = pageRequest(ctx);
      const all = providerBodies(registry, subscriptionId);
      const after =
        page.after === undefined ? 0 : all.findIndex((item) => item.id.toLowerCase() === page.after) + 1;
      return pageReply(
        ctx,
        page,
        all.slice(after, after + page.size + 1),
        (item) => item,
        (item) => item.id.toLowerCase(),
      );
    },
    actions: { register: one },
  };
}
