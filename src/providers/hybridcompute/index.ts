/**
 * The `Microsoft.HybridCompute` provider (Azure Arc): machines, their extensions, and the
 * `operationstatus` / `operationresults` endpoints that extension operations point at.
 */
import { operationEndpoint } from '../../arm/lro.js';
import type { Registry, Services } from '../../arm/registry.js';
import { HYBRID_COMPUTE_API_VERSIONS } from './apiVersions.js';
import { machineExtensionsType } from './extensions.js';
import { machinesType } from './machines.js';
import { hybridComputeLroStyle, registerHybridComputeOperations } from './operations.js';

export { HYBRID_COMPUTE_API_VERSIONS } from './apiVersions.js';
export {
  ARC_EXTENSION_TYPE,
  ARC_MACHINE_TYPE,
  type ArcExtensionSpec,
  type ArcMachineSpec,
  type ArcStatus,
  arcExtensionRecord,
  arcMachineId,
  arcMachineRecord,
} from './model.js';

export function registerHybridComputeProvider(registry: Registry, services: Services): void {
  registry.register(machinesType);
  registry.register(machineExtensionsType);
  for (const [type, serves] of [
    ['locations/operationstatus', 'status'],
    ['locations/operationresults', 'result'],
  ] as const) {
    registry.register(
      operationEndpoint({
        namespace: 'Microsoft.HybridCompute',
        type,
        apiVersions: HYBRID_COMPUTE_API_VERSIONS,
        style: hybridComputeLroStyle,
        serves,
      }),
    );
  }
  registerHybridComputeOperations(services);
}
