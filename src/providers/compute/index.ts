/**
 * The `Microsoft.Compute` provider: virtual machines (with power actions and instance view), their
 * extensions, and the operation status endpoint their long-running operations point at.
 */
import { operationEndpoint } from '../../arm/lro.js';
import type { Registry, Services } from '../../arm/registry.js';
import { COMPUTE_API_VERSIONS } from './apiVersions.js';
import { computeLroStyle, registerComputeOperations } from './operations.js';
import { virtualMachineInstanceViewType, virtualMachinesType } from './virtualMachines.js';
import { vmExtensionsType } from './vmExtensions.js';

export { COMPUTE_API_VERSIONS } from './apiVersions.js';
export {
  acceptsExtensionChanges,
  type ImageReference,
  instanceView,
  type PowerState,
  powerStateOf,
  VIRTUAL_MACHINE_TYPE,
  type VirtualMachineSpec,
  VM_EXTENSION_TYPE,
  type VmExtensionSpec,
  virtualMachineId,
  virtualMachineRecord,
  vmExtensionRecord,
} from './model.js';

export function registerComputeProvider(registry: Registry, services: Services): void {
  registry.register(virtualMachinesType);
  registry.register(virtualMachineInstanceViewType);
  registry.register(vmExtensionsType);
  registry.register(
    operationEndpoint({
      namespace: 'Microsoft.Compute',
      type: 'locations/operations',
      apiVersions: COMPUTE_API_VERSIONS,
      style: computeLroStyle,
      serves: 'status',
    }),
  );
  registerComputeOperations(services);
}
