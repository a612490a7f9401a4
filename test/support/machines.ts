/** A small world of machines, written straight to the store: one VM and one Arc machine in a resource group. */
import { virtualMachineRecord } from '../../src/providers/compute/model.js';
import { arcMachineRecord } from '../../src/providers/hybridcompute/model.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { putResource } from '../../src/store/index.js';
import { addSubscription } from './estate.js';
import type { TestServer } from './server.js';

/** A subscription with a resource group, a running Linux VM and a connected Windows Arc machine, all in westeurope. */
export async function vmAndArcMachine(
  t: TestServer,
  names: { subscriptionId: string; resourceGroup: string; vm: string; arc: string },
): Promise<void> {
  const { subscriptionId, resourceGroup } = names;
  const now = t.server.services.clock.now().toISOString();
  await addSubscription(t.server, { subscriptionId });
  await putResource(
    t.server.store.db,
    resourceGroupRecord({ subscriptionId, name: resourceGroup, location: 'westeurope', now }),
  );
  await putResource(
    t.server.store.db,
    virtualMachineRecord({
      subscriptionId,
      resourceGroup,
      name: names.vm,
      location: 'westeurope',
      osType: 'Linux',
      image: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server' },
      powerState: 'running',
      now,
    }),
  );
  await putResource(
    t.server.store.db,
    arcMachineRecord({
      subscriptionId,
      resourceGroup,
      name: names.arc,
      location: 'westeurope',
      osType: 'windows',
      status: 'Connected',
      now,
    }),
  );
}
