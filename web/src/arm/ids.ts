/** Reading ARM resource ids, which are case-insensitive in their type segments (§1.4). */

export interface ResourceIdParts {
  subscriptionId?: string;
  resourceGroup?: string;
  /** `Microsoft.Compute/virtualMachines`, as spelled in the id. */
  type?: string;
  name?: string;
}

export function parseResourceId(id: string): ResourceIdParts {
  const segments = id.split('/').filter(Boolean);
  const parts: ResourceIdParts = {};
  for (let index = 0; index < segments.length; index += 1) {
    const segment = segments[index]!.toLowerCase();
    if (segment === 'subscriptions' && parts.subscriptionId === undefined)
      parts.subscriptionId = segments[index + 1];
    if (segment === 'resourcegroups' && parts.resourceGroup === undefined)
      parts.resourceGroup = segments[index + 1];
    if (segment === 'providers' && segments[index + 2] !== undefined) {
      parts.type = `${segments[index + 1]}/${segments[index + 2]}`;
      parts.name = segments[index + 3];
    }
  }
  return parts;
}

export function sameId(left: string, right: string): boolean {
  return left.toLowerCase() === right.toLowerCase();
}

export function isArcMachineId(id: string): boolean {
  return /\/providers\/microsoft\.hybridcompute\/machines\//i.test(id);
}
