/**
 * Legacy per-machine `serverVulnerabilityAssessments/{default|mdeTvm}` before the Qualys retirement:
 * the server clock starts at 2024-03-01, so `default` still onboards the built-in Qualys scanner.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PowerState, virtualMachineRecord } from '../../src/providers/compute/index.js';
import { type ArcStatus, arcMachineRecord } from '../../src/providers/hybridcompute/index.js';
import { resourceGroupRecord } from '../../src/providers/resources/index.js';
import { deleteResource, getResource, putResource } from '../../src/store/index.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const V = 'api-version=2020-01-01';
const PREVIEW = 'api-version=2015-06-01-preview';
const COMPUTE = 'api-version=2024-03-01';
const ARC = 'api-version=2024-07-10';
const RG = 'Rg-Legacy';
const LOCATION =
  /^https:\/\/localhost(\/subscriptions\/[^?]+\/providers\/Microsoft\.Security\/serverVulnerabilityAssessments\/(Default|MdeTvm)\/operationResults\/[0-9a-f-]{36})\?(api-version=[^&]+)$/;

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ listen: false, now: new Date('2024-03-01T00:00:00Z') });
});
afterAll(() => t.close());

const now = () => t.server.services.clock.now().toISOString();

async function rowCount(): Promise<number> {
  const row = await t.server.store.db
    .selectFrom('resources')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

type Request = Parameters<TestServer['inject']>[0];

/** Sends a request that must be refused with `status`/`code`, and proves that nothing was written. */
async function refused(request: Request, status: number, code: string): Promise<{ message: string }> {
  const before = await rowCount();
  const response = await t.inject(request);
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(await rowCount()).toBe(before);
  return response.body.error;
}

/** A fresh subscription with a resource group and Defender for Servers at `plan` (none = Free). */
async function subscription(plan: 'P1' | 'P2' | 'Free' = 'P2'): Promise<string> {
  const sub = randomUUID();
  await addSubscription(t.server, { subscriptionId: sub });
  await putResource(
    t.server.store.db,
    resourceGroupRecord({ subscriptionId: sub, name: RG, location: 'westeurope', now: now() }),
  );
  if (plan !== 'Free') {
    const priced = await t.inject({
      method: 'PUT',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2023-01-01`,
      body: { properties: { pricingTier: 'Standard', subPlan: plan } },
    });
    expect(priced.status).toBe(200);
  }
  return sub;
}

async function vm(
  sub: string,
  name: string,
  options: { osType?: 'Windows' | 'Linux'; powerState?: PowerState } = {},
): Promise<string> {
  const osType = options.osType ?? 'Windows';
  const record = virtualMachineRecord({
    subscriptionId: sub,
    resourceGroup: RG,
    name,
    location: 'westeurope',
    osType,
    image:
      osType === 'Windows'
        ? { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter' }
        : { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server' },
    powerState: options.powerState ?? 'running',
    now: now(),
  });
  await putResource(t.server.store.db, record);
  return record.id;
}

async function arc(sub: string, name: string, status: ArcStatus = 'Connected'): Promise<string> {
  const record = arcMachineRecord({
    subscriptionId: sub,
    resourceGroup: RG,
    name,
    location: 'westeurope',
    osType: 'linux',
    status,
    now: now(),
  });
  await putResource(t.server.store.db, record);
  return record.id;
}

const va = (machineId: string, name = 'default') =>
  `${machineId}/providers/Microsoft.Security/serverVulnerabilityAssessments/${name}`;

/** The path and query of an absolute `Location`. */
function pathOf(location: unknown): string {
  const url = new URL(String(location));
  return url.pathname + url.search;
}

/** Lets the 50 ms test delay pass, then completes every due operation. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 70));
  await t.server.services.lro.runDue();
}

async function extensionsOf(machineId: string): Promise<{ name: string; properties: any }[]> {
  const arcMachine = machineId.includes('Microsoft.HybridCompute');
  const list = await t.inject({
    method: 'GET',
    url: `${machineId}/extensions?${arcMachine ? ARC : COMPUTE}`,
  });
  expect(list.status).toBe(200);
  return list.body.value;
}

describe('PUT and the operation it starts', () => {
  it('PUT of default with an empty body answers 202 with the resource Provisioning, named Default, and a Location below it', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-win');
    const accepted = await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({
      properties: { provisioningState: 'Provisioning' },
      name: 'Default',
      type: 'providers/Microsoft.Security/serverVulnerabilityAssessments',
      id: `${machine}/providers/Microsoft.Security/serverVulnerabilityAssessments/Default`,
    });
    const location = LOCATION.exec(String(accepted.headers.location));
    expect(location?.[1]).toMatch(
      `${machine}/providers/Microsoft.Security/serverVulnerabilityAssessments/Default/operationResults/`,
    );
    expect(location?.[3]).toBe(V);
    expect(Number(accepted.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(accepted.headers['azure-asyncoperation']).toBeUndefined();
    // Decision: visible at once in `Provisioning` (recorded), not 404 until provisioned.
    const got = await t.inject({ method: 'GET', url: `${va(machine)}?${V}` });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(accepted.body);
  });

  it('the Location answers 202 {} while provisioning runs, then 200 with the Succeeded resource, and the Windows VM has the Qualys extension', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-win');
    const accepted = await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    const running = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
    expect(running.status).toBe(202);
    expect(running.body).toEqual({});
    expect(running.headers.location).toBe(accepted.headers.location);
    expect(await extensionsOf(machine)).toEqual([]);
    await settle();
    const done = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ ...accepted.body, properties: { provisioningState: 'Succeeded' } });
    const got = await t.inject({ method: 'GET', url: `${va(machine)}?${V}` });
    expect(got.body.properties.provisioningState).toBe('Succeeded');
    const [extension, ...others] = await extensionsOf(machine);
    expect(others).toEqual([]);
    expect(extension).toMatchObject({
      name: 'WindowsAgent.AzureSecurityCenter',
      type: 'Microsoft.Compute/virtualMachines/extensions',
      properties: {
        publisher: 'Qualys',
        type: 'WindowsAgent.AzureSecurityCenter',
        typeHandlerVersion: '1.0',
        provisioningState: 'Succeeded',
      },
    });
  });

  it('a Linux VM gets LinuxAgent.AzureSecurityCenter and a connected Arc machine gets the Arc extension', async () => {
    const sub = await subscription();
    const linux = await vm(sub, 'vm-linux', { osType: 'Linux' });
    const arcMachine = await arc(sub, 'arc-1');
    expect((await t.inject({ method: 'PUT', url: `${va(linux)}?${V}` })).status).toBe(202);
    expect((await t.inject({ method: 'PUT', url: `${va(arcMachine)}?${V}` })).status).toBe(202);
    await settle();
    expect(
      (await extensionsOf(linux)).map((e) => [e.name, e.properties.publisher, e.properties.type]),
    ).toEqual([['LinuxAgent.AzureSecurityCenter', 'Qualys', 'LinuxAgent.AzureSecurityCenter']]);
    const [arcExtension] = await extensionsOf(arcMachine);
    expect(arcExtension).toMatchObject({
      name: 'LinuxAgent.AzureSecurityCenter',
      type: 'Microsoft.HybridCompute/machines/extensions',
      properties: { publisher: 'Qualys', type: 'LinuxAgent.AzureSecurityCenter', typeHandlerVersion: '1.0' },
    });
    const got = await t.inject({ method: 'GET', url: `${va(arcMachine)}?${V}` });
    expect(got.body.properties.provisioningState).toBe('Succeeded');
  });

  it('2015-06-01-preview serves the same resource, and its Location keeps that api-version', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-preview');
    const accepted = await t.inject({ method: 'PUT', url: `${va(machine)}?${PREVIEW}` });
    expect(accepted.status).toBe(202);
    expect(LOCATION.exec(String(accepted.headers.location))?.[3]).toBe(PREVIEW);
    await settle();
    const done = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
    expect(done.status).toBe(200);
    const viaStable = await t.inject({ method: 'GET', url: `${va(machine)}?${V}` });
    expect(viaStable.body).toEqual(done.body);
  });

  it('default and mdeTvm are accepted in any casing and echoed as Default and MdeTvm; the list holds both, not paged', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-names');
    for (const name of ['default', 'DEFAULT']) {
      const response = await t.inject({ method: 'PUT', url: `${va(machine, name)}?${V}` });
      expect(response.status).toBe(202);
      expect(response.body.name).toBe('Default');
      await settle();
    }
    for (const name of ['mdetvm', 'MdeTvm', 'mdeTvm']) {
      const response = await t.inject({ method: 'PUT', url: `${va(machine, name)}?${V}` });
      expect(response.status).toBe(202);
      expect(response.body.name).toBe('MdeTvm');
      expect(response.body.id).toBe(
        `${machine}/providers/Microsoft.Security/serverVulnerabilityAssessments/MdeTvm`,
      );
      await settle();
    }
    const got = await t.inject({ method: 'GET', url: `${va(machine, 'MDETVM')}?${V}` });
    expect(got.body.name).toBe('MdeTvm');
    const list = await t.inject({
      method: 'GET',
      url: `${machine}/providers/Microsoft.Security/serverVulnerabilityAssessments?${V}`,
    });
    expect(list.status).toBe(200);
    expect(Object.keys(list.body)).toEqual(['value']);
    expect(list.body.value.map((item: { name: string }) => item.name)).toEqual(['Default', 'MdeTvm']);
    expect(list.body.value.every((item: any) => item.properties.provisioningState === 'Succeeded')).toBe(
      true,
    );
  });

  it('mdeTvm onboards without installing anything, on any plan and on a deallocated VM', async () => {
    const sub = await subscription('Free');
    const machine = await vm(sub, 'vm-off', { powerState: 'deallocated' });
    const accepted = await t.inject({ method: 'PUT', url: `${va(machine, 'mdeTvm')}?${V}` });
    expect(accepted.status).toBe(202);
    await settle();
    const done = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
    expect(done.status).toBe(200);
    expect(done.body.properties.provisioningState).toBe('Succeeded');
    expect(await extensionsOf(machine)).toEqual([]);
  });

  it('a PUT of a Succeeded default provisions again and reinstalls a Qualys extension that was removed', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-again');
    await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    await settle();
    await deleteResource(
      t.server.store.db,
      `${machine}/extensions/WindowsAgent.AzureSecurityCenter`.toLowerCase(),
    );
    expect(await extensionsOf(machine)).toEqual([]);
    const again = await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    expect(again.status).toBe(202);
    expect(again.body.properties.provisioningState).toBe('Provisioning');
    await settle();
    expect((await extensionsOf(machine)).map((e) => e.name)).toEqual(['WindowsAgent.AzureSecurityCenter']);
  });

  it('an existing Qualys extension under another name is kept, not installed twice', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-has-qualys');
    const installed = await t.inject({
      method: 'PUT',
      url: `${machine}/extensions/QualysAgent?${COMPUTE}`,
      body: {
        location: 'westeurope',
        properties: {
          publisher: 'Qualys',
          type: 'WindowsAgent.AzureSecurityCenter',
          typeHandlerVersion: '1.0',
        },
      },
    });
    expect(installed.status).toBe(201);
    await settle();
    await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    await settle();
    expect((await extensionsOf(machine)).map((e) => e.name)).toEqual(['QualysAgent']);
  });
});

describe('machines that cannot take the extension', () => {
  it('default on a deallocated VM is accepted, then fails as Compute fails extension changes: Failed, no extension', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-deallocated', { powerState: 'deallocated' });
    const accepted = await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    expect(accepted.status).toBe(202);
    await settle();
    const result = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
    expect(result.status).toBe(409);
    expect(result.body.error).toEqual({
      code: 'OperationNotAllowed',
      message: 'Cannot modify extensions in the VM when the VM is not running.',
    });
    const got = await t.inject({ method: 'GET', url: `${va(machine)}?${V}` });
    expect(got.status).toBe(200);
    expect(got.body.properties.provisioningState).toBe('Failed');
    expect(await extensionsOf(machine)).toEqual([]);
  });

  it('the VM that starts before the operation comes due does get the extension (the state is read when it completes)', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-starting', { powerState: 'stopped' });
    await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    const stored = (await getResource(t.server.store.db, machine.toLowerCase()))!;
    await putResource(t.server.store.db, {
      ...stored,
      ...virtualMachineRecord({
        subscriptionId: sub,
        resourceGroup: RG,
        name: 'vm-starting',
        location: 'westeurope',
        osType: 'Windows',
        image: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter' },
        powerState: 'running',
        now: now(),
      }),
    });
    await settle();
    const got = await t.inject({ method: 'GET', url: `${va(machine)}?${V}` });
    expect(got.body.properties.provisioningState).toBe('Succeeded');
  });

  it('default on a disconnected Arc machine fails with MachineNotConnected', async () => {
    const sub = await subscription();
    const machine = await arc(sub, 'arc-off', 'Disconnected');
    const accepted = await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    expect(accepted.status).toBe(202);
    await settle();
    const result = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
    expect(result.status).toBe(409);
    expect(result.body.error.code).toBe('MachineNotConnected');
    const got = await t.inject({ method: 'GET', url: `${va(machine)}?${V}` });
    expect(got.body.properties.provisioningState).toBe('Failed');
  });

  it('a Failed default can be deleted, or provisioned again once the VM runs', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-retry', { powerState: 'deallocated' });
    await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    await settle();
    const started = await t.inject({ method: 'POST', url: `${machine}/start?${COMPUTE}` });
    expect(started.status).toBe(202);
    await settle();
    const again = await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    expect(again.status).toBe(202);
    await settle();
    const got = await t.inject({ method: 'GET', url: `${va(machine)}?${V}` });
    expect(got.body.properties.provisioningState).toBe('Succeeded');
  });
});

describe('Defender for Servers Plan 2 (§3.5)', () => {
  it.each([
    ['Free', 'no Defender for Servers plan (Free)'],
    ['P1', 'Defender for Servers P1'],
  ] as const)(
    'default on a %s subscription is refused with DefenderForServersPlan2Required, nothing written',
    async (plan, wording) => {
      const sub = await subscription(plan);
      const machine = await vm(sub, 'vm-plan');
      const error = await refused(
        { method: 'PUT', url: `${va(machine)}?${V}` },
        400,
        'DefenderForServersPlan2Required',
      );
      expect(error.message).toContain('requires Microsoft Defender for Servers Plan 2');
      expect(error.message).toContain(wording);
    },
  );

  it('Standard without a sub plan is the full plan (P2) and is enough', async () => {
    const sub = await subscription('Free');
    const priced = await t.inject({
      method: 'PUT',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2023-01-01`,
      body: { properties: { pricingTier: 'Standard' } },
    });
    expect(priced.status).toBe(200);
    const machine = await vm(sub, 'vm-full');
    expect((await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` })).status).toBe(202);
  });

  it('a machine whose own pricing disables the plan cannot get default although the subscription is P2', async () => {
    const sub = await subscription('P2');
    const machine = await vm(sub, 'vm-excluded');
    const disabled = await t.inject({
      method: 'PUT',
      url: `${machine}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2024-01-01`,
      body: { properties: { pricingTier: 'Free' } },
    });
    expect(disabled.status).toBe(201);
    await refused({ method: 'PUT', url: `${va(machine)}?${V}` }, 400, 'DefenderForServersPlan2Required');
  });
});

describe('DELETE', () => {
  it('answers 202 with a Location; Deprovisioning until done, then gone (404) — the Qualys extension stays', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-delete');
    await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    await settle();
    const accepted = await t.inject({ method: 'DELETE', url: `${va(machine)}?${V}` });
    expect(accepted.status).toBe(202);
    expect(accepted.text).toBe('');
    expect(String(accepted.headers.location)).toMatch(LOCATION);
    const during = await t.inject({ method: 'GET', url: `${va(machine)}?${V}` });
    expect(during.status).toBe(200);
    expect(during.body.properties.provisioningState).toBe('Deprovisioning');
    const running = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
    expect(running.status).toBe(202);
    expect(running.body).toEqual({});
    await settle();
    const done = await t.inject({ method: 'GET', url: pathOf(accepted.headers.location) });
    expect(done.status).toBe(200);
    expect(done.text).toBe('');
    const gone = await t.inject({ method: 'GET', url: `${va(machine)}?${V}` });
    expect(gone.status).toBe(404);
    expect(gone.body.error).toEqual({
      code: 'ResourceNotFound',
      message: `The Resource 'Microsoft.Security/serverVulnerabilityAssessments/default' under resource group '${RG}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    });
    // Decision: offboarding does not uninstall; removing the extension is its own step (§10).
    expect((await extensionsOf(machine)).map((e) => e.properties.publisher)).toEqual(['Qualys']);
    const again = await t.inject({ method: 'DELETE', url: `${va(machine)}?${V}` });
    expect(again.status).toBe(204);
  });

  it('a resource still Provisioning cannot be deleted, and one Deprovisioning cannot be written (409 Conflict)', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-busy');
    await t.inject({ method: 'PUT', url: `${va(machine)}?${V}` });
    const early = await refused({ method: 'DELETE', url: `${va(machine)}?${V}` }, 409, 'Conflict');
    expect(early.message).toContain('is Provisioning');
    await settle();
    await t.inject({ method: 'DELETE', url: `${va(machine)}?${V}` });
    const late = await refused({ method: 'PUT', url: `${va(machine)}?${V}` }, 409, 'Conflict');
    expect(late.message).toContain('is Deprovisioning');
    await settle();
  });

  it('deleting the VM removes its serverVulnerabilityAssessments with it', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-gone');
    await t.inject({ method: 'PUT', url: `${va(machine, 'mdeTvm')}?${V}` });
    await settle();
    const deleted = await t.inject({ method: 'DELETE', url: `${machine}?${COMPUTE}` });
    expect(deleted.status).toBe(202);
    await settle();
    expect(await getResource(t.server.store.db, va(machine, 'mdetvm').toLowerCase())).toBeUndefined();
  });
});

describe('bad input', () => {
  const cases: [string, (machine: string, sub: string) => Request, number, string][] = [
    [
      'an unknown name',
      (m) => ({ method: 'PUT', url: `${va(m, 'qualys')}?${V}` }),
      400,
      'InvalidResourceName',
    ],
    [
      'a near miss of default',
      (m) => ({ method: 'PUT', url: `${va(m, 'defaults')}?${V}` }),
      400,
      'InvalidResourceName',
    ],
    [
      'an unknown api-version',
      (m) => ({ method: 'PUT', url: `${va(m)}?api-version=2019-01-01-preview` }),
      400,
      'InvalidApiVersionParameter',
    ],
    ['no api-version', (m) => ({ method: 'PUT', url: va(m) }), 400, 'MissingApiVersionParameter'],
    [
      'a machine that does not exist',
      (_m, s) => ({
        method: 'PUT',
        url: `${va(`/subscriptions/${s}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/nope`)}?${V}`,
      }),
      404,
      'ResourceNotFound',
    ],
    [
      'a resource group that does not exist',
      (_m, s) => ({
        method: 'PUT',
        url: `${va(`/subscriptions/${s}/resourceGroups/nope/providers/Microsoft.Compute/virtualMachines/vm`)}?${V}`,
      }),
      404,
      'ResourceGroupNotFound',
    ],
    [
      'a read-only provisioningState in the body',
      (m) => ({
        method: 'PUT',
        url: `${va(m)}?${V}`,
        body: { properties: { provisioningState: 'Succeeded' } },
      }),
      400,
      'InvalidInputJson',
    ],
    [
      'an unknown member',
      (m) => ({ method: 'PUT', url: `${va(m)}?${V}`, body: { properties: { vendor: 'qualys' } } }),
      400,
      'InvalidRequestContent',
    ],
    [
      'a body name of another resource',
      (m) => ({ method: 'PUT', url: `${va(m)}?${V}`, body: { name: 'mdeTvm' } }),
      400,
      'InvalidInputJson',
    ],
    [
      'a body that is not an object',
      (m) => ({ method: 'PUT', url: `${va(m)}?${V}`, body: '[]' }),
      400,
      'InvalidRequestContent',
    ],
    [
      'an unknown operation id',
      (m) => ({ method: 'GET', url: `${va(m)}/operationResults/${randomUUID()}?${V}` }),
      404,
      'ResourceNotFound',
    ],
    [
      'a wrong name on operationResults',
      (m) => ({ method: 'GET', url: `${va(m, 'other')}/operationResults/${randomUUID()}?${V}` }),
      400,
      'InvalidResourceName',
    ],
  ];

  it.each(cases)('%s is refused and nothing is written', async (_title, request, status, code) => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-bad');
    await refused(request(machine, sub), status, code);
  });

  it('an extension resource on something other than a VM or Arc machine is an unknown type', async () => {
    const sub = await subscription();
    const machine = await vm(sub, 'vm-nested');
    const extension = await t.inject({
      method: 'PUT',
      url: `${machine}/extensions/Custom?${COMPUTE}`,
      body: {
        location: 'westeurope',
        properties: {
          publisher: 'Microsoft.Compute',
          type: 'CustomScriptExtension',
          typeHandlerVersion: '1.10',
        },
      },
    });
    expect(extension.status).toBe(201);
    await settle();
    await refused(
      { method: 'PUT', url: `${va(`${machine}/extensions/Custom`)}?${V}` },
      404,
      'InvalidResourceType',
    );
  });

  it('an operation id of another resource is not found under this one', async () => {
    const sub = await subscription();
    const first = await vm(sub, 'vm-a');
    const second = await vm(sub, 'vm-b');
    const accepted = await t.inject({ method: 'PUT', url: `${va(first)}?${V}` });
    const operationId = pathOf(accepted.headers.location).split('/operationResults/')[1]!.split('?')[0];
    const other = await t.inject({
      method: 'GET',
      url: `${va(second)}/operationResults/${operationId}?${V}`,
    });
    expect(other.status).toBe(404);
    await settle();
  });
});
