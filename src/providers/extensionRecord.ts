/**
 * The stored record of a machine extension, shared by `Microsoft.Compute` VM extensions and
 * `Microsoft.HybridCompute` (Arc) extensions: a child of its machine, named under `/extensions/`. Each
 * namespace supplies its own resource types and the properties its spec returns.
 */
import { randomUUID } from 'node:crypto';
import { keyOf } from '../arm/resourceId.js';
import type { ArmBody, StoredResource } from '../store/index.js';

/** What both namespaces say about an extension they store. */
export interface MachineExtensionSpec {
  /** The machine's id, stored casing. */
  machineId: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  publisher: string;
  type: string;
  typeHandlerVersion: string;
  settings?: ArmBody;
  now: string;
}

export function machineExtensionRecord(
  spec: MachineExtensionSpec,
  types: { armType: string; storedType: string },
  properties: ArmBody,
): StoredResource {
  const id = `${spec.machineId}/extensions/${spec.name}`;
  const body: ArmBody = { id, name: spec.name, type: types.armType, location: spec.location, properties };
  return {
    key: keyOf(id),
    id,
    type: types.storedType,
    subscriptionId: spec.subscriptionId.toLowerCase(),
    resourceGroup: spec.resourceGroup.toLowerCase(),
    parentKey: keyOf(spec.machineId),
    name: spec.name,
    body,
    etag: `"${randomUUID()}"`,
    createdAt: spec.now,
    updatedAt: spec.now,
  };
}
