/**
 * Transition test worlds and probes: subscriptions with chosen ids (so tests know which comes first),
 * the transition commands run in process with captured output, and reads of what a user would check
 * afterwards — through the ARM API, not the store.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ApplyCommandOptions,
  type PlanCommandOptions,
  runApply,
  runPlan,
  runStatus,
  type Streams,
} from '../../src/cli/transition.js';
import { vmExtensionRecord } from '../../src/providers/compute/model.js';
import { putResource } from '../../src/store/index.js';
import type { TransitionPlan } from '../../src/transition/index.js';
import { GROUP, resourceGroup } from '../support/defender.js';
import { addSubscription } from '../support/estate.js';
import type { TestServer } from '../support/server.js';

/** A subscription with a fixed id (the plan orders subscriptions by id) and resource group `rg-va`. */
export async function subscription(
  t: TestServer,
  subscriptionId: string,
  options: { managementGroup?: string } = {},
): Promise<string> {
  await addSubscription(t.server, { subscriptionId, managementGroup: options.managementGroup });
  await resourceGroup(t, subscriptionId, GROUP);
  return subscriptionId;
}

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(): { streams: Streams; stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    streams: {
      stdout: { write: (text) => void stdout.push(text) },
      stderr: { write: (text) => void stderr.push(text) },
    },
    stdout,
    stderr,
  };
}

/** The target options of a run against `t`, polling fast (the test server's operations take 50 ms). */
export async function targetFor(t: TestServer) {
  return {
    endpoint: t.url,
    ca: t.caPath,
    token: await t.token(),
    maxConcurrency: 8,
    pollInterval: 20,
  };
}

export async function plan(
  t: TestServer,
  options: Partial<PlanCommandOptions> & { scope: string[] },
): Promise<Captured & { plan?: TransitionPlan }> {
  const { streams, stdout, stderr } = capture();
  const code = await runPlan({ ...(await targetFor(t)), json: true, ...options }, streams);
  const text = stdout.join('');
  return {
    code,
    stdout: text,
    stderr: stderr.join(''),
    plan: options.json === false || code === 2 ? undefined : (JSON.parse(text) as TransitionPlan),
  };
}

export async function apply(
  t: TestServer,
  planFile: string,
  options: Partial<ApplyCommandOptions> = {},
): Promise<Captured & { report?: any }> {
  const { streams, stdout, stderr } = capture();
  const code = await runApply(planFile, { ...(await targetFor(t)), json: true, ...options }, streams);
  const text = stdout.join('');
  return {
    code,
    stdout: text,
    stderr: stderr.join(''),
    report: options.json === false || text === '' ? undefined : JSON.parse(text),
  };
}

export async function status(planFile: string, options: { json?: boolean } = {}): Promise<Captured> {
  const { streams, stdout, stderr } = capture();
  const code = await runStatus(planFile, { json: options.json }, streams);
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

export function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'vaplane-transition-'));
}

// ─── What a user checks afterwards ───────────────────────────────────────────────────────────────

async function get(t: TestServer, url: string): Promise<{ status: number; body: any }> {
  const response = await t.inject({ method: 'GET', url });
  return { status: response.status, body: response.body };
}

export async function vaProvider(t: TestServer, subscriptionId: string): Promise<string | null> {
  const reply = await get(
    t,
    `/subscriptions/${subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2023-05-01`,
  );
  return reply.status === 200 ? reply.body.properties.selectedProvider : null;
}

export async function extensionsOf(
  t: TestServer,
  machineId: string,
): Promise<{ publisher: string; type: string; name: string }[]> {
  const arc = /hybridcompute/i.test(machineId);
  const reply = await get(t, `${machineId}/extensions?api-version=${arc ? '2024-07-10' : '2024-03-01'}`);
  return reply.body.value.map((extension: any) => ({
    name: extension.name,
    publisher: extension.properties.publisher,
    type: extension.properties.type,
  }));
}

export async function legacyVaNames(t: TestServer, machineId: string): Promise<string[]> {
  const reply = await get(
    t,
    `${machineId}/providers/Microsoft.Security/serverVulnerabilityAssessments?api-version=2020-01-01`,
  );
  return reply.body.value.map((resource: any) => resource.name);
}

export async function powerState(t: TestServer, vmId: string): Promise<string> {
  const reply = await get(t, `${vmId}?api-version=2024-03-01&$expand=instanceView`);
  const code: string = reply.body.properties.instanceView.statuses.find((status: any) =>
    status.code.startsWith('PowerState/'),
  ).code;
  return code.slice('PowerState/'.length);
}

export async function connectorVa(
  t: TestServer,
  connectorId: string,
): Promise<{ enabled: boolean; type: string }> {
  const reply = await get(t, `${connectorId}?api-version=2023-10-01-preview`);
  const offering = reply.body.properties.offerings.find((candidate: any) =>
    /^DefenderForServers/.test(candidate.offeringType),
  );
  return {
    enabled: offering.vaAutoProvisioning.enabled,
    type: offering.vaAutoProvisioning.configuration.type,
  };
}

export async function endpointProtection(t: TestServer, subscriptionId: string): Promise<boolean> {
  const reply = await get(
    t,
    `/subscriptions/${subscriptionId}/providers/Microsoft.Security/settings/WDATP?api-version=2022-05-01`,
  );
  return reply.body.properties.enabled;
}

export async function agentlessScanning(t: TestServer, subscriptionId: string): Promise<string | undefined> {
  const reply = await get(
    t,
    `/subscriptions/${subscriptionId}/providers/Microsoft.Security/pricings/VirtualMachines?api-version=2024-01-01`,
  );
  return reply.body.properties.extensions?.find((extension: any) => extension.name === 'AgentlessVmScanning')
    ?.isEnabled;
}

/** Operations the server started, by kind and target: proves a write was sent once. */
export async function operationCounts(t: TestServer): Promise<Map<string, number>> {
  const rows = await t.server.store.db
    .selectFrom('operations')
    .select(['kind', 'target_key', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy(['kind', 'target_key'])
    .execute();
  return new Map(rows.map((row) => [`${row.kind} ${row.target_key}`, Number(row.count)]));
}

/** The Qualys cloud agent of a BYOL solution on a VM: publisher `Qualys` like the built-in scanner, other type. */
export async function byolAgent(t: TestServer, machineId: string): Promise<void> {
  const [, , subscriptionId, , resourceGroupName] = machineId.split('/');
  await putResource(
    t.server.store.db,
    vmExtensionRecord({
      machineId,
      subscriptionId: subscriptionId!,
      resourceGroup: resourceGroupName!,
      name: 'QualysAgent',
      location: 'westeurope',
      publisher: 'Qualys',
      type: 'QualysAgentLinux',
      typeHandlerVersion: '1.6',
      now: new Date().toISOString(),
    }),
  );
}
