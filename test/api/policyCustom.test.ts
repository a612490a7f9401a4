/**
 * Microsoft's verbatim definitions (read from the shared corpus), loaded as custom definitions, give
 * the same compliance as vaplane's built-in entries, and each situation of a small generated estate
 * gets the verdict its table row expects, from both.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEstate } from '../../src/estate/index.js';
import {
  defenderSubscription,
  selectMdeTvm,
  serversPlan,
  setting,
  vaAssessment,
  vm,
} from '../support/defender.js';
import { startTestServer, type TestServer } from '../support/server.js';

const repository = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = process.env.VAPLANE_AZURE_CORPUS ?? resolve(repository, '../shared/azure');
const folder = join(corpus, 'azure-policy/built-in-policies/policyDefinitions/Security Center');
const present = existsSync(folder);
if (!present)
  console.log(`SKIP custom copies of the built-ins: ${folder} is absent (set VAPLANE_AZURE_CORPUS)`);

const DEFINITIONS = [
  '766e621d-ba95-4e43-a6f2-e945db3d7888',
  '13ce0167-8ca6-4048-8e6b-f996402e3c1b',
  '501541f7-f7e7-4cd6-868c-4190fdad3ac9',
];

function microsoft(name: string): { properties: Record<string, unknown> } {
  for (const file of readdirSync(folder)) {
    const document = JSON.parse(readFileSync(join(folder, file), 'utf8'));
    if (document.name === name) return document;
  }
  throw new Error(`no definition ${name}`);
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

async function compliance(
  server: TestServer,
  subscriptionId: string,
  assignment: string,
): Promise<Record<string, string>> {
  const reply = await server.inject({
    method: 'POST',
    url: `/subscriptions/${subscriptionId}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?api-version=2019-10-01&$filter=${encodeURIComponent(`policyAssignmentName eq '${assignment}'`)}`,
  });
  return Object.fromEntries(
    reply.body.value.map((state: any) => [state.resourceId.toLowerCase(), state.complianceState]),
  );
}

describe.skipIf(!present)("Microsoft's definitions as custom definitions", () => {
  // Situations: MDVM fully ready; P2 and Endpoint protection without the setting; no Defender plan.
  const situations = [
    { name: 'mdvm-ready', plan: 'P2', wdatp: true, mdeTvm: true },
    { name: 'p2-without-setting', plan: 'P2', wdatp: true, mdeTvm: false },
    { name: 'no-plan', plan: 'Free', wdatp: false, mdeTvm: false },
  ] as const;

  for (const name of DEFINITIONS) {
    it(`${name} judges every situation as the built-in does`, async () => {
      for (const situation of situations) {
        const subscriptionId = await defenderSubscription(t);
        await serversPlan(t, subscriptionId, situation.plan, { agentless: false });
        if (situation.wdatp) await setting(t, subscriptionId, 'WDATP', true);
        if (situation.mdeTvm) await selectMdeTvm(t, subscriptionId);
        await vm(t, subscriptionId, 'web01');
        await vm(t, subscriptionId, 'db01', { os: 'windows' });
        const scope = `/subscriptions/${subscriptionId}`;
        const custom = await t.inject({
          method: 'PUT',
          url: `${scope}/providers/Microsoft.Authorization/policyDefinitions/custom-${name}?api-version=2023-04-01`,
          body: { properties: { ...microsoft(name).properties, policyType: 'Custom' } },
        });
        expect(custom.status, JSON.stringify(custom.body)).toBe(201);
        for (const [assignment, definitionId] of [
          ['builtin', `/providers/Microsoft.Authorization/policyDefinitions/${name}`],
          ['custom', custom.body.id],
        ]) {
          const reply = await t.inject({
            method: 'PUT',
            url: `${scope}/providers/Microsoft.Authorization/policyAssignments/${assignment}-${randomUUID().slice(0, 4)}?api-version=2023-04-01`,
            body: { properties: { policyDefinitionId: definitionId } },
          });
          expect(reply.status, JSON.stringify(reply.body)).toBe(201);
        }
        const trigger = await t.inject({
          method: 'POST',
          url: `${scope}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation?api-version=2019-10-01`,
        });
        expect(trigger.status).toBe(202);
        const location = new URL(String(trigger.headers.location));
        for (let k = 0; k < 100; k++) {
          if (
            (await t.inject({ method: 'GET', url: `${location.pathname}${location.search}` })).status === 200
          )
            break;
          await new Promise((done) => setTimeout(done, 50));
        }
        const assignments = await t.inject({
          method: 'GET',
          url: `${scope}/providers/Microsoft.Authorization/policyAssignments?api-version=2023-04-01`,
        });
        const names = assignments.body.value.map((a: any) => a.name as string);
        const builtIn = await compliance(
          t,
          subscriptionId,
          names.find((n: string) => n.startsWith('builtin'))!,
        );
        const customStates = await compliance(
          t,
          subscriptionId,
          names.find((n: string) => n.startsWith('custom'))!,
        );
        expect(Object.keys(builtIn).length, situation.name).toBeGreaterThan(0);
        expect(customStates, situation.name).toEqual(builtIn);
      }
    });
  }
});

/**
 * The expected verdict of each situation a generated estate holds, per definition. A situation is
 * what a user sees through the API: the subscription's AzureServersSetting, or a machine's type, tags
 * and assessment ffff0522 (status code and cause, or none).
 */
interface Situation {
  type: string;
  selectedProvider?: string;
  connectorTagged?: boolean;
  assessment?: { code: string; cause?: string };
}
type Verdict = 'Compliant' | 'NonCompliant' | 'NotApplicable';

const EXPECTED: {
  name: string;
  parameters?: Record<string, unknown>;
  expected: (s: Situation) => Verdict;
}[] = [
  {
    // Subscriptions on MdeTvm are Compliant, any other provider or no setting NonCompliant.
    name: '766e621d-ba95-4e43-a6f2-e945db3d7888',
    expected: (s) =>
      s.type !== 'microsoft.resources/subscriptions'
        ? 'NotApplicable'
        : s.selectedProvider === 'MdeTvm'
          ? 'Compliant'
          : 'NonCompliant',
  },
  {
    // VMs and Arc machines outside a security connector: NotApplicable, or Healthy through vaType.
    name: '13ce0167-8ca6-4048-8e6b-f996402e3c1b',
    parameters: { vaType: { value: 'mdeTvm' } },
    expected: (s) => {
      const machine =
        s.type === 'microsoft.compute/virtualmachines' ||
        (s.type === 'microsoft.hybridcompute/machines' && !s.connectorTagged);
      if (!machine) return 'NotApplicable';
      const code = s.assessment?.code;
      return code === 'NotApplicable' ||
        (code === 'Healthy' && s.assessment?.cause?.toLowerCase() === 'mdetvm')
        ? 'Compliant'
        : 'NonCompliant';
    },
  },
  {
    // VMs only: Healthy by any solution, or NotApplicable.
    name: '501541f7-f7e7-4cd6-868c-4190fdad3ac9',
    expected: (s) =>
      s.type !== 'microsoft.compute/virtualmachines'
        ? 'NotApplicable'
        : s.assessment?.code === 'Healthy' || s.assessment?.code === 'NotApplicable'
          ? 'Compliant'
          : 'NonCompliant',
  },
];

describe.skipIf(!present)('the expected verdict for each situation of a generated estate', () => {
  let e: TestServer;
  const situations = new Map<string, Situation>();
  const verdicts = new Map<string, Map<string, string>>();
  beforeAll(async () => {
    e = await startTestServer();
    const db = e.server.store.db;
    await generateEstate(db, {
      subscriptions: 6,
      machines: 60,
      seed: 34,
      tenantId: e.server.tenantId,
      now: e.server.services.clock.now(),
    });
    e.server.services.authz.invalidate();
    const root = `/providers/Microsoft.Management/managementGroups/${e.server.tenantId}`;
    for (const { name, parameters } of EXPECTED) {
      const custom = await e.inject({
        method: 'PUT',
        url: `${root}/providers/Microsoft.Authorization/policyDefinitions/ms-${name}?api-version=2023-04-01`,
        body: { properties: { ...microsoft(name).properties, policyType: 'Custom' } },
      });
      expect(custom.status, JSON.stringify(custom.body)).toBe(201);
      for (const [kind, definitionId] of [
        ['builtin', `/providers/Microsoft.Authorization/policyDefinitions/${name}`],
        ['microsoft', custom.body.id],
      ]) {
        const reply = await e.inject({
          method: 'PUT',
          url: `${root}/providers/Microsoft.Authorization/policyAssignments/${kind}-${name.slice(0, 8)}?api-version=2023-04-01`,
          body: { properties: { policyDefinitionId: definitionId, ...(parameters ? { parameters } : {}) } },
        });
        expect(reply.status, JSON.stringify(reply.body)).toBe(201);
      }
    }
    const subscriptions = (await e.inject({ method: 'GET', url: '/subscriptions?api-version=2022-12-01' }))
      .body.value as { subscriptionId: string }[];
    const trigger = await e.inject({
      method: 'POST',
      url: `/subscriptions/${subscriptions[0]!.subscriptionId}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation?api-version=2019-10-01`,
    });
    expect(trigger.status).toBe(202);
    const location = new URL(String(trigger.headers.location));
    for (let k = 0; k < 200; k++) {
      if ((await e.inject({ method: 'GET', url: `${location.pathname}${location.search}` })).status === 200)
        break;
      await new Promise((done) => setTimeout(done, 50));
    }
    for (const { subscriptionId } of subscriptions) {
      const scope = `/subscriptions/${subscriptionId}`;
      const setting = await e.inject({
        method: 'GET',
        url: `${scope}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
      });
      situations.set(scope.toLowerCase(), {
        type: 'microsoft.resources/subscriptions',
        ...(setting.status === 200 ? { selectedProvider: setting.body.properties.selectedProvider } : {}),
      });
      for (const type of ['Microsoft.Compute/virtualMachines', 'Microsoft.HybridCompute/machines']) {
        const machines = await e.inject({
          method: 'GET',
          url: `${scope}/providers/${type}?api-version=${type.startsWith('Microsoft.Compute') ? '2024-03-01' : '2024-07-10'}`,
        });
        expect(machines.status, JSON.stringify(machines.body)).toBe(200);
        for (const machine of machines.body.value) {
          const assessment = await vaAssessment(e, machine.id);
          situations.set(String(machine.id).toLowerCase(), {
            type: type.toLowerCase(),
            connectorTagged: Object.keys(machine.tags ?? {}).some(
              (tag) => tag.toLowerCase() === 'mdfcsecurityconnector',
            ),
            ...(assessment.status === 200
              ? {
                  assessment: {
                    code: assessment.body.properties.status.code,
                    cause: assessment.body.properties.status.cause,
                  },
                }
              : {}),
          });
        }
      }
      for (const kind of ['builtin', 'microsoft']) {
        for (const { name } of EXPECTED) {
          const assignment = `${kind}-${name.slice(0, 8)}`;
          const states = verdicts.get(assignment) ?? new Map<string, string>();
          for (const [id, state] of Object.entries(await compliance(e, subscriptionId, assignment)))
            states.set(id, state);
          verdicts.set(assignment, states);
        }
      }
    }
  });
  afterAll(async () => e?.close());

  for (const { name, expected } of EXPECTED) {
    for (const kind of ['builtin', 'microsoft']) {
      it(`${name} (${kind === 'builtin' ? "vaplane's built-in" : "Microsoft's JSON as a custom definition"}) judges each situation as expected`, () => {
        const states = verdicts.get(`${kind}-${name.slice(0, 8)}`)!;
        const seen = new Map<string, number>();
        for (const [id, situation] of situations) {
          const verdict = expected(situation);
          const label = `${situation.type} ${situation.selectedProvider ?? ''}${situation.assessment ? `${situation.assessment.code}/${situation.assessment.cause ?? ''}` : ''} → ${verdict}`;
          seen.set(label, (seen.get(label) ?? 0) + 1);
          expect(states.get(id) ?? 'NotApplicable', `${id}: ${label}`).toBe(verdict);
        }
        // The estate holds both verdicts, so the table is exercised on each side.
        const labels = [...seen.keys()];
        expect(
          labels.some((label) => label.endsWith('→ Compliant')),
          labels.join('; '),
        ).toBe(true);
        expect(
          labels.some((label) => label.endsWith('→ NonCompliant')),
          labels.join('; '),
        ).toBe(true);
      });
    }
  }
});
