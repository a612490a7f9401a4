/**
 * The three steps of Microsoft's "Transition to Microsoft Defender Vulnerability Management for
 * servers" page, end to end over the in-process server, on the demo estate rehearsed before the
 * built-in Qualys retirement (server clock 2024-03-01, so Qualys still covers machines and the switch
 * shows): the subscription PUT and the GCP connector PUT exactly as printed, then every Qualys
 * extension removed through Compute and HybridCompute — and assessment ffff0522 afterwards.
 *
 * Everything is found through the API as a user's script would find it: the subscription by its plan
 * and settings, the connector by its VA provider, the extensions by publisher and type (never name).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoEstate } from '../../src/estate/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  fill,
  GCP_CONNECTOR_PUT,
  gcpConnectorValues,
  PAGE_HOST,
  SUBSCRIPTION_PUT,
} from '../support/transitionPage.js';

const BEFORE_RETIREMENT = new Date('2024-03-01T09:00:00Z');
const COMPUTE = 'api-version=2024-03-01';
const ARC = 'api-version=2024-07-10';
const CONNECTORS = 'api-version=2022-08-01-preview';
const VA_ASSESSMENT = 'ffff0522-1e88-47fc-8382-2a80ba848f5d';
const CONNECTOR_TAG = 'MDFCSecurityConnector';

type Body = any;

/** The built-in scanner's extension (§10.1), by publisher and type. */
const isBuiltInQualys = (extension: Body): boolean =>
  extension.properties.publisher === 'Qualys' &&
  ['WindowsAgent.AzureSecurityCenter', 'LinuxAgent.AzureSecurityCenter'].includes(extension.properties.type);

interface Machine {
  id: string;
  kind: 'vm' | 'arc';
  subscriptionId: string;
  tags: Record<string, string>;
  /** VM power state or Arc status. */
  state: string;
}

interface Status {
  code: string;
  cause?: string;
}

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ listen: false, now: BEFORE_RETIREMENT });
  await seedDemoEstate(t.server.store.db, {
    tenantId: t.server.tenantId,
    now: t.server.services.clock.now(),
  });
  t.server.services.authz.invalidate();
});
afterAll(() => t.close());

async function get(url: string): Promise<Body> {
  const response = await t.inject({ method: 'GET', url });
  expect(response.status, `GET ${url}: ${response.text}`).toBe(200);
  return response.body;
}

/** Every item of a list, following `nextLink`. */
async function listAll(url: string): Promise<Body[]> {
  const items: Body[] = [];
  let next: string | undefined = url;
  while (next) {
    const page = await get(next);
    items.push(...page.value);
    next = page.nextLink ? pathOf(page.nextLink) : undefined;
  }
  return items;
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

/** Lets the 50 ms test delay pass, then completes every due operation. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 70));
  await t.server.services.lro.runDue();
}

/** Polls a 202's `Azure-AsyncOperation` until the operation has ended; its final status resource. */
async function completed(accepted: {
  status: number;
  headers: Record<string, unknown>;
  text: string;
}): Promise<Body> {
  expect(accepted.status, accepted.text).toBe(202);
  const monitor = pathOf(String(accepted.headers['azure-asyncoperation']));
  for (let attempt = 0; attempt < 50; attempt++) {
    const status = await get(monitor);
    if (status.status !== 'InProgress') return status;
    await settle();
  }
  throw new Error(`${monitor} is still in progress`);
}

async function machinesOf(subscriptionId: string): Promise<Machine[]> {
  const machines: Machine[] = [];
  const scope = `/subscriptions/${subscriptionId}/providers`;
  for (const vm of await listAll(`${scope}/Microsoft.Compute/virtualMachines?${COMPUTE}`)) {
    const view = await get(`${vm.id}/instanceView?${COMPUTE}`);
    const power = view.statuses.find((status: Body) => status.code.startsWith('PowerState/')).code;
    machines.push({ id: vm.id, kind: 'vm', subscriptionId, tags: vm.tags ?? {}, state: power.split('/')[1] });
  }
  for (const arc of await listAll(`${scope}/Microsoft.HybridCompute/machines?${ARC}`)) {
    machines.push({
      id: arc.id,
      kind: 'arc',
      subscriptionId,
      tags: arc.tags ?? {},
      state: arc.properties.status,
    });
  }
  return machines;
}

async function extensionsOf(machine: Machine): Promise<Body[]> {
  return listAll(`${machine.id}/extensions?${machine.kind === 'vm' ? COMPUTE : ARC}`);
}

async function vaStatus(machine: Machine): Promise<Status> {
  const assessment = await get(
    `${machine.id}/providers/Microsoft.Security/assessments/${VA_ASSESSMENT}?api-version=2021-06-01`,
  );
  return assessment.properties.status;
}

const serversOffering = (connector: Body): Body =>
  connector.properties.offerings.find((offering: Body) => offering.offeringType === 'DefenderForServersGcp');

describe("the transition page's three steps", () => {
  it('MdeTvm on a subscription, TVM on a GCP connector, every Qualys extension removed: ffff0522 then says mdeTvm on every covered machine', async () => {
    const subscriptions: string[] = (await listAll('/subscriptions?api-version=2022-12-01')).map(
      (subscription) => subscription.subscriptionId,
    );
    const machines = (await Promise.all(subscriptions.map(machinesOf))).flat();

    // The subscription to move: Defender for Servers with Endpoint protection, no VA setting yet,
    // and machines the built-in Qualys scanner still covers.
    let target: string | undefined;
    for (const subscriptionId of subscriptions) {
      const scope = `/subscriptions/${subscriptionId}/providers/Microsoft.Security`;
      const pricing = await get(`${scope}/pricings/VirtualMachines?api-version=2024-01-01`);
      const wdatp = await get(`${scope}/settings/WDATP?api-version=2022-05-01`);
      const setting = await t.inject({
        method: 'GET',
        url: `${scope}/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
      });
      const onQualys = [];
      for (const machine of machines.filter((candidate) => candidate.subscriptionId === subscriptionId)) {
        if ((await vaStatus(machine)).cause === 'default' && machine.tags[CONNECTOR_TAG] === undefined) {
          onQualys.push(machine);
        }
      }
      if (
        pricing.properties.pricingTier === 'Standard' &&
        wdatp.properties.enabled &&
        setting.status === 404 &&
        onQualys.length > 0
      ) {
        target = subscriptionId;
        break;
      }
    }
    expect(
      target,
      'a subscription on P1/P2 with Endpoint protection whose machines are on Qualys',
    ).toBeDefined();

    // The GCP connector still provisioning Qualys, and the machines it discovered.
    const connectors = (
      await Promise.all(
        subscriptions.map((subscriptionId) =>
          listAll(
            `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityConnectors?${CONNECTORS}`,
          ),
        ),
      )
    ).flat();
    const gcp = connectors.find(
      (connector) =>
        connector.properties.environmentName === 'GCP' &&
        serversOffering(connector).vaAutoProvisioning.configuration.type === 'Qualys',
    );
    expect(gcp, 'a GCP connector on Qualys').toBeDefined();
    const discovered = (machine: Machine) =>
      machine.tags[CONNECTOR_TAG]?.toLowerCase() === gcp.id.toLowerCase();
    const inScope = machines.filter((machine) => machine.subscriptionId === target || discovered(machine));

    const before = new Map<string, Status>();
    for (const machine of inScope) before.set(machine.id, await vaStatus(machine));
    const onQualysBefore = inScope.filter((machine) => before.get(machine.id)!.cause === 'default');
    expect(onQualysBefore.some((machine) => machine.kind === 'vm')).toBe(true);
    expect(onQualysBefore.some(discovered)).toBe(true);

    // (a) The subscription PUT, byte for byte as printed.
    const selected = await t.inject({
      method: 'PUT',
      url: fill(SUBSCRIPTION_PUT.url, { subscriptionId: target! }).replace(PAGE_HOST, ''),
      body: SUBSCRIPTION_PUT.body,
    });
    expect(selected.status, selected.text).toBe(200);
    expect(selected.body).toMatchObject({
      id: `/subscriptions/${target}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
      kind: 'AzureServersSetting',
      properties: { selectedProvider: 'MdeTvm' },
    });

    // (b) The connector PUT as printed: GET the connector, fill the page's body with what it has
    // (the identifiers stay), PUT it back under If-Match.
    const connectorPath = fill(GCP_CONNECTOR_PUT.url, gcpConnectorValues(gcp)).replace(PAGE_HOST, '');
    expect(connectorPath).toContain('/resourcegroups/');
    expect(connectorPath).toContain('/securityconnectors/');
    const read = await t.inject({ method: 'GET', url: connectorPath });
    expect(read.status, read.text).toBe(200);
    const etag = String(read.headers.etag);
    const switched = await t.inject({
      method: 'PUT',
      url: connectorPath,
      body: fill(GCP_CONNECTOR_PUT.body, gcpConnectorValues(read.body)),
      headers: { 'if-match': etag },
    });
    expect(switched.status, switched.text).toBe(200);
    expect(serversOffering(switched.body)).toMatchObject({
      vaAutoProvisioning: { enabled: true, configuration: { type: 'TVM' } },
      mdeAutoProvisioning: { enabled: true },
      subPlan: { type: serversOffering(read.body).subPlan.type },
    });
    expect(switched.body.properties.environmentData.projectDetails).toEqual(
      read.body.properties.environmentData.projectDetails,
    );
    expect(switched.headers.etag).not.toBe(etag);
    // The same PUT under the etag it was read with is now stale.
    const stale = await t.inject({
      method: 'PUT',
      url: connectorPath,
      body: fill(GCP_CONNECTOR_PUT.body, gcpConnectorValues(read.body)),
      headers: { 'if-match': etag },
    });
    expect(stale.status).toBe(412);

    // MDVM now covers the machines Qualys covered, though the Qualys extensions are still on them.
    for (const machine of onQualysBefore) {
      expect(await vaStatus(machine), machine.id).toEqual(
        expect.objectContaining({ code: 'Healthy', cause: 'mdeTvm' }),
      );
    }

    // (c) Every built-in Qualys extension in the estate, found by publisher and type. Compute changes
    // extensions only on a running VM, so stopped ones are started first (as Microsoft's removal
    // scripts do); an Arc machine's agent must be connected to act on the removal.
    const withQualys: { machine: Machine; extensions: Body[] }[] = [];
    for (const machine of machines) {
      const extensions = (await extensionsOf(machine)).filter(isBuiltInQualys);
      if (extensions.length > 0) withQualys.push({ machine, extensions });
    }
    expect(withQualys.length).toBeGreaterThan(0);
    expect(
      withQualys.some(({ extensions }) => extensions.some((e: Body) => e.name !== e.properties.type)),
    ).toBe(true);
    const stopped = withQualys.filter(({ machine }) => machine.kind === 'vm' && machine.state !== 'running');
    expect(stopped.length).toBeGreaterThan(0);
    const starts = await Promise.all(
      stopped.map(({ machine }) => t.inject({ method: 'POST', url: `${machine.id}/start?${COMPUTE}` })),
    );
    await settle();
    for (const start of starts) expect((await completed(start)).status).toBe('Succeeded');
    for (const { machine } of stopped) machine.state = 'running';

    const removals = [];
    for (const { machine, extensions } of withQualys) {
      for (const extension of extensions) {
        const url = `${extension.id}?${machine.kind === 'vm' ? COMPUTE : ARC}`;
        removals.push({ machine, extension, accepted: await t.inject({ method: 'DELETE', url }) });
      }
    }
    await settle();
    const unreachable: Machine[] = [];
    for (const { machine, accepted } of removals) {
      const outcome = await completed(accepted);
      if (machine.kind === 'arc' && machine.state !== 'Connected') {
        expect(outcome.status).toBe('Failed');
        expect(outcome.error.code).toBe('MachineNotConnected');
        unreachable.push(machine);
      } else {
        expect(outcome.status, `${machine.id}: ${JSON.stringify(outcome)}`).toBe('Succeeded');
      }
    }

    // No reachable machine carries a Qualys extension any more; a disconnected Arc machine keeps its
    // own, failed, until its agent reconnects (the server does not pretend it was removed).
    for (const machine of machines) {
      const left = (await extensionsOf(machine)).filter(isBuiltInQualys);
      if (unreachable.includes(machine)) {
        expect(left.map((extension: Body) => extension.properties.provisioningState)).not.toHaveLength(0);
        expect(left.every((extension: Body) => extension.properties.provisioningState === 'Failed')).toBe(
          true,
        );
      } else {
        expect(left, machine.id).toEqual([]);
      }
    }

    // ffff0522: every machine of the moved subscription and of the switched connector that can be
    // assessed is Healthy with cause mdeTvm; the others are offline (NotApplicable).
    const after = new Map<string, Status>();
    for (const machine of inScope) after.set(machine.id, await vaStatus(machine));
    const healthy = inScope.filter((machine) => after.get(machine.id)!.code === 'Healthy');
    expect(healthy.length).toBeGreaterThanOrEqual(
      onQualysBefore.length + stopped.filter(({ machine }) => inScope.includes(machine)).length,
    );
    for (const machine of inScope) {
      const status = after.get(machine.id)!;
      if (status.code === 'Healthy') expect(status.cause, machine.id).toBe('mdeTvm');
      else {
        expect(status, machine.id).toMatchObject({ code: 'NotApplicable' });
        expect(['MachineNotRunning', 'MachineDisconnected']).toContain(status.cause);
      }
    }
    // Nowhere in the estate does built-in Qualys cover a machine any more.
    for (const machine of machines) expect((await vaStatus(machine)).cause, machine.id).not.toBe('default');
  });
});
