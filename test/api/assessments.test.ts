import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyOf } from '../../src/arm/resourceId.js';
import { VA_ASSESSMENT_KEY } from '../../src/coverage/index.js';
import { vaAssessmentFor } from '../../src/providers/security/assessments/index.js';
import {
  arcMachine,
  byolSolution,
  connector,
  defenderSubscription,
  EXTENSIONS,
  GROUP,
  legacyOnboarding,
  machinePlan,
  mdvmReady,
  resourceGroup,
  selectMdeTvm,
  serversPlan,
  setting,
  vaAssessment,
  vm,
} from '../support/defender.js';
import { addSubscription } from '../support/estate.js';
import { startTestServer, type TestServer } from '../support/server.js';

const API = 'api-version=2021-06-01';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ listen: false });
});
afterAll(() => t.close());

async function status(machineId: string): Promise<{ code: string; cause: string }> {
  const response = await vaAssessment(t, machineId);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  const { code, cause } = response.body.properties.status;
  return { code, cause };
}

describe('ffff0522 on an Azure VM follows the subscription through the transition', () => {
  it('is Unhealthy (VaScannerNotInstalled) on P2 with agentless off and Endpoint protection off', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    await serversPlan(t, sub, 'P2', { agentless: false });
    expect(await status(id)).toEqual({ code: 'Unhealthy', cause: 'VaScannerNotInstalled' });
  });

  it('is Healthy with cause mdeTvm after MdeTvm, P2 and Endpoint protection are set', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    await serversPlan(t, sub, 'P2', { agentless: false });
    expect((await status(id)).code).toBe('Unhealthy');
    await mdvmReady(t, sub);
    const response = await vaAssessment(t, id);
    expect(response.body.properties.status).toMatchObject({ code: 'Healthy', cause: 'mdeTvm' });
    expect(response.body.properties.additionalData).toMatchObject({
      provider: 'mdvmAgent',
      method: 'mdeAutoDeploy',
      legacyQualysExtensionInstalled: 'False',
    });
  });

  it('is NotApplicable (NotCoveredByPlan) while Defender for Servers is Free', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    await serversPlan(t, sub, 'Free');
    await setting(t, sub, 'WDATP', true);
    expect(await status(id)).toEqual({ code: 'NotApplicable', cause: 'NotCoveredByPlan' });
  });

  it('is NotApplicable (NotCoveredByPlan) on a machine whose own pricing opts it out of P1', async () => {
    const sub = await defenderSubscription(t);
    const optedOut = await vm(t, sub, 'opted-out');
    const covered = await vm(t, sub, 'covered');
    await mdvmReady(t, sub, 'P1');
    await machinePlan(t, optedOut, 'Free');
    expect(await status(optedOut)).toEqual({ code: 'NotApplicable', cause: 'NotCoveredByPlan' });
    expect(await status(covered)).toEqual({ code: 'Healthy', cause: 'mdeTvm' });
  });

  it('is NotApplicable (MachineNotRunning) on a deallocated VM, which still names its provider', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'parked', { powerState: 'deallocated' });
    await mdvmReady(t, sub);
    const response = await vaAssessment(t, id);
    expect(response.body.properties.status).toMatchObject({
      code: 'NotApplicable',
      cause: 'MachineNotRunning',
    });
    expect(response.body.properties.additionalData.provider).toBe('mdvmAgent');
  });

  it('reads agentless scanning and its ExclusionTags from the P2 pricing', async () => {
    const sub = await defenderSubscription(t);
    const scanned = await vm(t, sub, 'scanned');
    const excluded = await vm(t, sub, 'excluded', { tags: { scan: 'no' } });
    await t.inject({
      method: 'PUT',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2024-01-01`,
      body: {
        properties: {
          pricingTier: 'Standard',
          subPlan: 'P2',
          extensions: [
            {
              name: 'AgentlessVmScanning',
              isEnabled: 'True',
              additionalExtensionProperties: { ExclusionTags: '[{"key":"scan","value":"no"}]' },
            },
          ],
        },
      },
    });
    const healthy = await vaAssessment(t, scanned);
    expect(healthy.body.properties.status).toMatchObject({ code: 'Healthy', cause: 'mdeTvm' });
    expect(healthy.body.properties.additionalData.method).toBe('serversPlanAgentlessScanning');
    expect(await status(excluded)).toEqual({ code: 'Unhealthy', cause: 'VaScannerNotInstalled' });
  });

  it('reads the legacy WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW opt-out: MDE is not deployed to Linux on P1', async () => {
    const sub = await defenderSubscription(t);
    const linux = await vm(t, sub, 'linux01');
    const windows = await vm(t, sub, 'win01', { os: 'windows' });
    await mdvmReady(t, sub, 'P1');
    await setting(t, sub, 'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW', true);
    expect(await status(linux)).toEqual({ code: 'Unhealthy', cause: 'VaScannerNotInstalled' });
    expect(await status(windows)).toEqual({ code: 'Healthy', cause: 'mdeTvm' });
  });

  it('reports the legacy Qualys extension still installed on a machine MDVM covers', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01', {
      extensions: [{ ...EXTENSIONS.qualysLinux, name: 'QualysAgent' }],
    });
    await legacyOnboarding(t, id, 'Default');
    await mdvmReady(t, sub);
    const response = await vaAssessment(t, id);
    expect(response.body.properties.status).toMatchObject({ code: 'Healthy', cause: 'mdeTvm' });
    expect(response.body.properties.additionalData).toMatchObject({
      legacyQualysExtensionInstalled: 'True',
      legacyQualysExtensions: 'QualysAgent',
    });
  });
});

describe('ffff0522 and the Qualys retirement (2024-05-01)', () => {
  /** A VM onboarded to built-in Qualys on P2, with no MDVM route (agentless and Endpoint protection off). */
  async function qualysWorld(server: TestServer): Promise<string> {
    const subscriptionId = randomUUID();
    await addSubscription(server.server, { subscriptionId });
    await resourceGroup(server, subscriptionId, GROUP);
    const id = await vm(server, subscriptionId, 'legacy01', { extensions: [EXTENSIONS.qualysLinux] });
    await legacyOnboarding(server, id, 'Default');
    await serversPlan(server, subscriptionId, 'P2', { agentless: false });
    return id;
  }

  it('built-in Qualys covers the machine before the retirement: Healthy with cause default', async () => {
    const rehearsal = await startTestServer({ listen: false, now: new Date('2024-03-01T00:00:00Z') });
    try {
      const id = await qualysWorld(rehearsal);
      const response = await vaAssessment(rehearsal, id);
      expect(response.body.properties.status).toMatchObject({ code: 'Healthy', cause: 'default' });
      expect(response.body.properties.additionalData).toMatchObject({
        provider: 'builtInQualys',
        method: 'legacyDefaultResource',
        legacyQualysExtensionInstalled: 'True',
      });
      expect(response.body.properties.status.statusChangeDate < '2024-05-01').toBe(true);
    } finally {
      await rehearsal.close();
    }
  });

  it('onboarding serverVulnerabilityAssessments/default through its API before the retirement turns the VM Healthy (default)', async () => {
    const rehearsal = await startTestServer({ listen: false, now: new Date('2024-03-01T00:00:00Z') });
    try {
      const subscriptionId = randomUUID();
      await addSubscription(rehearsal.server, { subscriptionId });
      await resourceGroup(rehearsal, subscriptionId, GROUP);
      const id = await vm(rehearsal, subscriptionId, 'web01');
      await serversPlan(rehearsal, subscriptionId, 'P2', { agentless: false });
      expect((await vaAssessment(rehearsal, id)).body.properties.status.code).toBe('Unhealthy');
      const url = `${id}/providers/Microsoft.Security/serverVulnerabilityAssessments/default?api-version=2015-06-01-preview`;
      expect((await rehearsal.inject({ method: 'PUT', url })).status).toBe(202);
      for (let attempt = 0; attempt < 100; attempt++) {
        const onboarding = await rehearsal.inject({ method: 'GET', url });
        if (onboarding.status === 200 && onboarding.body.properties.provisioningState === 'Succeeded') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const response = await vaAssessment(rehearsal, id);
      expect(response.body.properties.status).toMatchObject({ code: 'Healthy', cause: 'default' });
      expect(response.body.properties.additionalData.legacyQualysExtensionInstalled).toBe('True');
    } finally {
      await rehearsal.close();
    }
  });

  it('after the retirement the same machine is Unhealthy, and its statusChangeDate is the retirement', async () => {
    const id = await qualysWorld(t);
    const response = await vaAssessment(t, id);
    expect(response.body.properties.status).toMatchObject({
      code: 'Unhealthy',
      cause: 'VaScannerNotInstalled',
    });
    expect(response.body.properties.additionalData.reason).toMatch(/retired on 2024-05-01/);
    expect(response.body.properties.additionalData.legacyQualysExtensionInstalled).toBe('True');
  });
});

describe('ffff0522 on Arc machines and multicloud machines', () => {
  it('an Arc machine is covered by MDE through Endpoint protection, never agentlessly', async () => {
    const sub = await defenderSubscription(t);
    const id = await arcMachine(t, sub, 'onprem01');
    await serversPlan(t, sub, 'P2');
    expect(await status(id)).toEqual({ code: 'Unhealthy', cause: 'VaScannerNotInstalled' });
    await setting(t, sub, 'WDATP', true);
    await selectMdeTvm(t, sub);
    const response = await vaAssessment(t, id);
    expect(response.body.properties.status).toMatchObject({ code: 'Healthy', cause: 'mdeTvm' });
    expect(response.body.properties.resourceDetails).toEqual({ source: 'Azure', id });
  });

  it('a disconnected Arc machine is NotApplicable (MachineDisconnected)', async () => {
    const sub = await defenderSubscription(t);
    const id = await arcMachine(t, sub, 'onprem02', { status: 'Disconnected' });
    await mdvmReady(t, sub);
    expect(await status(id)).toEqual({ code: 'NotApplicable', cause: 'MachineDisconnected' });
  });

  it("a GCP machine follows its connector's offering, not the subscription's plan", async () => {
    const sub = await defenderSubscription(t);
    const connectorId = await connector(t, sub, 'gcp-prod', { va: 'TVM', mdeAutoProvisioning: true });
    const id = await arcMachine(t, sub, 'gce-01', {
      cloudProvider: 'GCP',
      tags: { MDFCSecurityConnector: 'gcp-prod' },
    });
    const response = await vaAssessment(t, id);
    expect(response.body.properties.status).toMatchObject({ code: 'Healthy', cause: 'mdeTvm' });
    expect(response.body.properties.additionalData).toMatchObject({
      method: 'connectorMdeAutoProvisioning',
      securityConnectorId: connectorId,
    });
  });

  it('a connector still on Qualys leaves its machines Unhealthy after the retirement; the tag may name no connector', async () => {
    const sub = await defenderSubscription(t);
    await connector(t, sub, 'aws-prod', { cloud: 'AWS', va: 'Qualys' });
    const id = await arcMachine(t, sub, 'ec2-01', {
      cloudProvider: 'AWS',
      tags: { MDFCSecurityConnector: 'true' },
    });
    const response = await vaAssessment(t, id);
    expect(response.body.properties.status).toMatchObject({
      code: 'Unhealthy',
      cause: 'VaScannerNotInstalled',
    });
    expect(response.body.properties.additionalData.reason).toMatch(/still selects Qualys/);
  });
});

describe("the transition page's three steps", () => {
  it('MdeTvm on the subscription, TVM on the GCP connector, Qualys extensions deleted: every covered machine is Healthy (mdeTvm)', async () => {
    const sub = await defenderSubscription(t);
    await serversPlan(t, sub, 'P2');
    await setting(t, sub, 'WDATP', true);
    const vmId = await vm(t, sub, 'web01', {
      extensions: [{ ...EXTENSIONS.qualysLinux, name: 'QualysAgent' }],
    });
    await legacyOnboarding(t, vmId, 'Default');
    await connector(t, sub, 'gcp-prod', { va: 'Qualys', mdeAutoProvisioning: true });
    const gceId = await arcMachine(t, sub, 'gce-01', {
      cloudProvider: 'GCP',
      tags: { MDFCSecurityConnector: 'gcp-prod' },
    });

    await selectMdeTvm(t, sub);
    await connector(t, sub, 'gcp-prod', { va: 'TVM', mdeAutoProvisioning: true });
    const extension = `${vmId}/extensions/QualysAgent?api-version=2024-03-01`;
    expect((await t.inject({ method: 'DELETE', url: extension })).status).toBe(202);
    for (let attempt = 0; attempt < 100; attempt++) {
      if ((await t.inject({ method: 'GET', url: extension })).status === 404) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const list = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/assessments?${API}`,
    });
    const byMachine = new Map(
      list.body.value.map((item: any) => [item.properties.resourceDetails.id, item.properties] as const),
    );
    for (const id of [vmId, gceId]) {
      expect(byMachine.get(id)).toMatchObject({
        status: { code: 'Healthy', cause: 'mdeTvm' },
        additionalData: { legacyQualysExtensionInstalled: 'False' },
      });
    }
  });
});

describe('ffff0522 with a BYOL solution', () => {
  it('the auto-deploy BYOL solution covers Azure VMs (cause byol) until the subscription selects MdeTvm', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    await byolSolution(t, sub, 'qualys-byol', { autoDeploy: true });
    const byol = await vaAssessment(t, id);
    expect(byol.body.properties.status).toMatchObject({ code: 'Healthy', cause: 'byol' });
    expect(byol.body.properties.additionalData).toMatchObject({
      provider: 'byol',
      byolPartner: 'qualys',
      byolSolution: 'qualys-byol',
    });
    await mdvmReady(t, sub);
    expect(await status(id)).toEqual({ code: 'Healthy', cause: 'mdeTvm' });
  });

  it('does not cover Arc machines', async () => {
    const sub = await defenderSubscription(t);
    const id = await arcMachine(t, sub, 'onprem01');
    await byolSolution(t, sub, 'rapid7', { partner: 'rapid7', autoDeploy: true });
    expect(await status(id)).toEqual({ code: 'NotApplicable', cause: 'NotCoveredByPlan' });
  });
});

describe('assessment representation', () => {
  it('$expand=links,metadata adds the portal link and the metadata', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    const response = await vaAssessment(t, id, { expand: 'links,metadata' });
    expect(response.body.properties.links.azurePortalUri).toContain(`assessmentKey/${VA_ASSESSMENT_KEY}`);
    expect(response.body.properties.metadata).toMatchObject({
      displayName: 'Machines should have a vulnerability assessment solution',
      severity: 'Medium',
      assessmentType: 'BuiltIn',
      categories: ['Compute'],
    });
    const plain = await vaAssessment(t, id);
    expect(plain.body.properties.links).toBeUndefined();
    expect(plain.body.properties.metadata).toBeUndefined();
  });

  it('2021-06-01 dates the status; 2020-01-01 and 2019-01-01-preview answer the older status shape', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    const dated = await vaAssessment(t, id);
    expect(dated.body.properties.status.firstEvaluationDate).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(
      dated.body.properties.status.statusChangeDate >= dated.body.properties.status.firstEvaluationDate,
    ).toBe(true);
    for (const apiVersion of ['2020-01-01', '2019-01-01-preview']) {
      const older = await vaAssessment(t, id, { apiVersion });
      expect(older.status).toBe(200);
      expect(Object.keys(older.body.properties.status).sort()).toEqual(['cause', 'code', 'description']);
    }
  });

  it('the id keeps the stored casing of the machine, whatever casing the request used', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'Web01');
    const response = await t.inject({
      method: 'GET',
      url: `${id.toLowerCase()}/providers/microsoft.security/ASSESSMENTS/${VA_ASSESSMENT_KEY.toUpperCase()}?${API}`,
    });
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(`${id}/providers/Microsoft.Security/assessments/${VA_ASSESSMENT_KEY}`);
    expect(response.body.name).toBe(VA_ASSESSMENT_KEY);
  });

  it('vaAssessmentFor gives the portal, policy and transition the same status as the API', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    await mdvmReady(t, sub);
    const assessment = await vaAssessmentFor(t.server.store.db, keyOf(id), t.server.services.clock.now());
    expect(assessment?.coverage.assessmentStatus).toMatchObject({ code: 'Healthy', cause: 'mdeTvm' });
    expect(assessment?.machineId).toBe(id);
    expect(
      await vaAssessmentFor(
        t.server.store.db,
        keyOf(`/subscriptions/${sub}/resourceGroups/${GROUP}`),
        new Date(),
      ),
    ).toBe(undefined);
  });
});

describe('errors', () => {
  it('another assessment key on a machine is 404 ResourceNotFound', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    const response = await t.inject({
      method: 'GET',
      url: `${id}/providers/Microsoft.Security/assessments/1195afff-c881-495e-9bc5-1486211ae03f?${API}`,
    });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('ResourceNotFound');
    expect(response.body.error.message).toContain('1195afff-c881-495e-9bc5-1486211ae03f');
  });

  it('ffff0522 at a subscription or on a resource that is not a machine is 404', async () => {
    const sub = await defenderSubscription(t);
    for (const scope of [`/subscriptions/${sub}`, `/subscriptions/${sub}/resourceGroups/${GROUP}`]) {
      const response = await t.inject({
        method: 'GET',
        url: `${scope}/providers/Microsoft.Security/assessments/${VA_ASSESSMENT_KEY}?${API}`,
      });
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('ResourceNotFound');
    }
  });

  it('a machine that does not exist is the gateway 404 for the machine', async () => {
    const sub = await defenderSubscription(t);
    const response = await vaAssessment(
      t,
      `/subscriptions/${sub}/resourceGroups/${GROUP}/providers/Microsoft.Compute/virtualMachines/nowhere`,
    );
    expect(response.status).toBe(404);
    expect(response.body.error.message).toContain(
      "Microsoft.Compute/virtualMachines/nowhere' under resource group",
    );
  });

  it('an $expand other than links or metadata is 400 InvalidQueryParameterValue', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    const response = await vaAssessment(t, id, { expand: 'links,statusHistory' });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'InvalidQueryParameterValue', target: '$expand' });
  });

  it('PUT and DELETE are 405: the assessment is computed, custom assessments are not modelled', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    const url = `${id}/providers/Microsoft.Security/assessments/${VA_ASSESSMENT_KEY}?${API}`;
    const put = await t.inject({
      method: 'PUT',
      url,
      body: { properties: { resourceDetails: { source: 'Azure' }, status: { code: 'Healthy' } } },
    });
    expect(put.status).toBe(405);
    expect(put.body.error.code).toBe('MethodNotAllowed');
    expect((await t.inject({ method: 'DELETE', url })).status).toBe(405);
    expect(await status(id)).toEqual({ code: 'NotApplicable', cause: 'NotCoveredByPlan' });
  });

  it('an api-version the type does not serve is 400 listing the served ones', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    const response = await vaAssessment(t, id, { apiVersion: '2025-05-04' });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain(
      "'2023-10-01-preview,2021-06-01,2020-01-01,2019-01-01-preview'",
    );
  });
});

describe('access', () => {
  it('a Security Reader of the subscription reads and lists assessments; a principal without a role cannot', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    const reader = await t.token({
      principal: 'security-reader',
      role: 'Security Reader',
      scope: `/subscriptions/${sub}`,
    });
    const url = `${id}/providers/Microsoft.Security/assessments/${VA_ASSESSMENT_KEY}?${API}`;
    expect((await t.inject({ method: 'GET', url, token: reader })).status).toBe(200);
    const list = await t.inject({
      method: 'GET',
      url: `/subscriptions/${sub}/providers/Microsoft.Security/assessments?${API}`,
      token: reader,
    });
    expect(list.body.value).toHaveLength(1);
    const stranger = await t.token({ principal: 'stranger' });
    const refused = await t.inject({ method: 'GET', url, token: stranger });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('AuthorizationFailed');
  });
});

describe('subAssessments of ffff0522', () => {
  const SUB_API = 'api-version=2019-01-01-preview';

  it('lists none, on a machine and across a subscription', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    for (const scope of [id, `/subscriptions/${sub}`]) {
      const response = await t.inject({
        method: 'GET',
        url: `${scope}/providers/Microsoft.Security/assessments/${VA_ASSESSMENT_KEY}/subAssessments?${SUB_API}`,
      });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body).toEqual({ value: [] });
    }
  });

  it('getting one is 404, and so is listing those of an assessment vaplane does not compute', async () => {
    const sub = await defenderSubscription(t);
    const id = await vm(t, sub, 'web01');
    const one = await t.inject({
      method: 'GET',
      url: `${id}/providers/Microsoft.Security/assessments/${VA_ASSESSMENT_KEY}/subAssessments/${randomUUID()}?${SUB_API}`,
    });
    expect(one.status).toBe(404);
    expect(one.body.error.message).toMatch(/^Sub-assessment /);
    const other = await t.inject({
      method: 'GET',
      url: `${id}/providers/Microsoft.Security/assessments/1195afff-c881-495e-9bc5-1486211ae03f/subAssessments?${SUB_API}`,
    });
    expect(other.status).toBe(404);
  });
});

describe('assessmentMetadata', () => {
  it('ffff0522 is readable at the tenant and in a subscription, and listed there', async () => {
    const sub = await defenderSubscription(t);
    for (const scope of ['', `/subscriptions/${sub}`]) {
      const one = await t.inject({
        method: 'GET',
        url: `${scope}/providers/Microsoft.Security/assessmentMetadata/${VA_ASSESSMENT_KEY}?${API}`,
      });
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({
        id: `${scope}/providers/Microsoft.Security/assessmentMetadata/${VA_ASSESSMENT_KEY}`,
        name: VA_ASSESSMENT_KEY,
        type: 'Microsoft.Security/assessmentMetadata',
        properties: { severity: 'Medium', assessmentType: 'BuiltIn' },
      });
      const list = await t.inject({
        method: 'GET',
        url: `${scope}/providers/Microsoft.Security/assessmentMetadata?${API}`,
      });
      expect(list.body.value.map((item: { name: string }) => item.name)).toEqual([VA_ASSESSMENT_KEY]);
    }
  });

  it('other metadata is 404', async () => {
    const response = await t.inject({
      method: 'GET',
      url: `/providers/Microsoft.Security/assessmentMetadata/${randomUUID()}?${API}`,
    });
    expect(response.status).toBe(404);
  });
});
