import { operationEndpoint } from '../../arm/lro.js';
import type { Registry, Services } from '../../arm/registry.js';
import { deleteResourceTree } from '../../store/index.js';
import { RESOURCES_API_VERSIONS } from './apiVersions.js';
import { providersType } from './providers.js';
import { DELETE_RESOURCE_GROUP, resourceGroupDeleteStyle, resourceGroupsType } from './resourceGroups.js';
import { subscriptionsType, tenantsType } from './subscriptions.js';

export { RESOURCE_GROUP_TYPE, resourceGroupRecord } from './resourceGroups.js';
export { SUBSCRIPTION_TYPE, subscriptionBody, subscriptionRecord } from './subscriptions.js';

export function registerResourcesProvider(registry: Registry, services: Services): void {
  registry.register(subscriptionsType);
  registry.register(tenantsType);
  registry.register(resourceGroupsType);
  registry.register(providersType(registry));
  registry.register(
    operationEndpoint({
      namespace: 'Microsoft.Resources',
      type: 'operationresults',
      apiVersions: RESOURCES_API_VERSIONS,
      style: resourceGroupDeleteStyle,
      serves: 'result',
    }),
  );
  services.lro.registerKind(DELETE_RESOURCE_GROUP, {
    async complete(db, operation) {
      await deleteResourceTree(db, operation.targetKey);
      return { final: { status: 200 } };
    },
  });
}
