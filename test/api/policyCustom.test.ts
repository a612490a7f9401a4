/**
 * Microsoft's verbatim definitions (read from the shared corpus), loaded as custom definitions, give
 * the same compliance as vaplane's built-in entries on a small generated estate.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defenderSubscription, selectMdeTvm, serversPlan, setting, vm } from '../support/defender.js';
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

async function compliance(subscriptionId: string, assignment: string): Promise<Record<string, string>> {
  const reply = await t.inject({
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
        const builtIn = await compliance(subscriptionId, names.find((n: string) => n.startsWith('builtin'))!);
        const customStates = await compliance(
          subscriptionId,
          names.find((n: string) => n.startsWith('custom'))!,
        );
        expect(Object.keys(builtIn).length, situation.name).toBeGreaterThan(0);
        expect(customStates, situation.name).toEqual(builtIn);
      }
    });
  }
});
