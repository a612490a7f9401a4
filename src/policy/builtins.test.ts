/**
 * Microsoft's own built-in definitions, read verbatim from the shared corpus (never copied into the
 * repository), compiled and evaluated against hand-built resources for each situation. The expected
 * results are read off the definitions.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALIASES } from './aliases.js';
import { bindParameters, type CompiledDefinition, compileDefinition } from './definition.js';
import { evaluatePolicy, type PolicyEvaluation } from './effects.js';
import { decisiveConditions, describeLeaf } from './explain.js';
import { renderTemplate } from './template.js';
import type {
  ArmResource,
  AssignmentParameterValues,
  JsonObject,
  JsonValue,
  PolicyDefinitionProperties,
  ResourceView,
} from './types.js';
import { resourceView, subscriptionView } from './views.js';

const repository = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = process.env.VAPLANE_AZURE_CORPUS ?? resolve(repository, '../shared/azure');
const policyRoot = join(corpus, 'azure-policy');
const present = existsSync(policyRoot);
if (!present) {
  console.log(
    `SKIP built-in policy definitions: the Azure corpus ${policyRoot} is absent (set VAPLANE_AZURE_CORPUS or add ../shared/azure)`,
  );
}

interface DefinitionFile {
  path: string;
  document: { name: string; properties: PolicyDefinitionProperties };
}

function jsonFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) return jsonFiles(path);
    return entry.endsWith('.json') ? [path] : [];
  });
}

const files: DefinitionFile[] = present
  ? jsonFiles(policyRoot).map((path) => ({ path, document: JSON.parse(readFileSync(path, 'utf8')) }))
  : [];

function load(id: string): CompiledDefinition {
  const file = files.find((candidate) => candidate.document.name === id);
  if (!file) throw new Error(`The corpus has no definition named ${id}`);
  return compileDefinition(file.document.properties, { name: id });
}

// ─── The estate ──────────────────────────────────────────────────────────────────────────────────

const NOW = new Date('2025-06-01T00:00:00Z');
const SUBSCRIPTION = {
  subscriptionId: '11111111-2222-3333-4444-555555555555',
  displayName: 'Contoso Production',
};
const OTHER = { subscriptionId: '99999999-2222-3333-4444-555555555555', displayName: 'Contoso Sandbox' };
const GROUP = { name: 'rg-app', location: 'westeurope' };
const GROUP_ID = `/subscriptions/${SUBSCRIPTION.subscriptionId}/resourceGroups/rg-app`;
const VM_ID = `${GROUP_ID}/providers/Microsoft.Compute/virtualMachines/vm-app-01`;
const ARC_ID = `${GROUP_ID}/providers/Microsoft.HybridCompute/machines/srv-ams-01`;
const VA_ASSESSMENT = 'ffff0522-1e88-47fc-8382-2a80ba848f5d';
const SECURITY_ADMIN =
  '/providers/Microsoft.Authorization/roleDefinitions/fb1c8493-542b-48eb-b624-b4c8fea62acd';
const OWNER = '/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635';

const subscription = subscriptionView(SUBSCRIPTION);

const ubuntu = {
  publisher: 'Canonical',
  offer: '0001-com-ubuntu-server-jammy',
  sku: '22_04-lts-gen2',
  version: 'latest',
};
const vm = (
  overrides: Partial<ArmResource> = {},
  image: JsonObject = ubuntu,
  osType = 'Linux',
): ResourceView =>
  resourceView(
    {
      id: VM_ID,
      name: 'vm-app-01',
      type: 'Microsoft.Compute/virtualMachines',
      location: 'westeurope',
      tags: {},
      properties: { storageProfile: { imageReference: image, osDisk: { osType, name: 'osdisk' } } },
      ...overrides,
    },
    SUBSCRIPTION,
    GROUP,
  );

const arc = (tags: Record<string, string> = {}): ResourceView =>
  resourceView(
    {
      id: ARC_ID,
      name: 'srv-ams-01',
      type: 'Microsoft.HybridCompute/machines',
      location: 'westeurope',
      tags,
      properties: { osName: 'linux', osType: 'linux', status: 'Connected' },
    },
    SUBSCRIPTION,
    GROUP,
  );

const assessment = (resourceId: string, code: string, cause?: string, key = VA_ASSESSMENT): ResourceView =>
  resourceView(
    {
      id: `${resourceId}/providers/Microsoft.Security/assessments/${key}`,
      name: key,
      type: 'Microsoft.Security/assessments',
      properties: {
        displayName: 'Machines should have a vulnerability assessment solution',
        resourceDetails: { Source: 'Azure', Id: resourceId },
        status: cause === undefined ? { code } : { code, cause },
      },
    },
    SUBSCRIPTION,
    GROUP,
  );

const vaSetting = (
  selectedProvider: string,
  owner = SUBSCRIPTION,
  kind = 'AzureServersSetting',
): ResourceView =>
  resourceView(
    {
      id: `/subscriptions/${owner.subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
      name: 'AzureServersSetting',
      type: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
      kind,
      properties: { selectedProvider },
    },
    owner,
  );

const securitySetting = (name: string, enabled: boolean): ResourceView =>
  resourceView(
    {
      id: `/subscriptions/${SUBSCRIPTION.subscriptionId}/providers/Microsoft.Security/settings/${name}`,
      name,
      type: 'Microsoft.Security/settings',
      kind: 'DataExportSettings',
      properties: { enabled },
    },
    SUBSCRIPTION,
  );

const pricing = (name: string, properties: JsonObject): ResourceView =>
  resourceView(
    {
      id: `/subscriptions/${SUBSCRIPTION.subscriptionId}/providers/Microsoft.Security/pricings/${name}`,
      name,
      type: 'Microsoft.Security/pricings',
      properties,
    },
    SUBSCRIPTION,
  );

const extensionOf = (vmId: string, name: string, provisioningState: string): ResourceView =>
  resourceView(
    {
      id: `${vmId}/extensions/${name}`,
      name,
      type: 'Microsoft.Compute/virtualMachines/extensions',
      location: 'westeurope',
      properties: { publisher: 'Microsoft.Azure.AzureDefenderForServers', type: name, provisioningState },
    },
    SUBSCRIPTION,
    GROUP,
  );

function evaluate(
  definition: CompiledDefinition,
  resource: ResourceView,
  related: ResourceView[],
  values: AssignmentParameterValues = {},
): PolicyEvaluation {
  return evaluatePolicy({
    definition,
    parameters: bindParameters(definition, values),
    resource,
    now: NOW,
    relatedResources: related,
  });
}

function deploymentOf(evaluation: PolicyEvaluation) {
  if (!('check' in evaluation) || !evaluation.check.deployment)
    throw new Error(`no deployment in ${evaluation.state}`);
  return evaluation.check.deployment;
}

function rendered(
  evaluation: PolicyEvaluation,
  reference?: (id: string, apiVersion: string | undefined, full: boolean) => JsonValue,
) {
  const deployment = deploymentOf(evaluation);
  return renderTemplate(deployment.template, deployment.parameters, {
    now: NOW,
    subscription: SUBSCRIPTION,
    ...(deployment.scope.kind === 'resourceGroup' ? { resourceGroup: GROUP } : {}),
    ...(reference ? { reference } : {}),
  });
}

// ─── Every file ──────────────────────────────────────────────────────────────────────────────────

describe.skipIf(!present)('Microsoft built-in definitions (verbatim from the shared corpus)', () => {
  it('finds the definitions the transition needs', () => {
    const names = files.map((file) => file.document.name);
    for (const id of [
      '766e621d-ba95-4e43-a6f2-e945db3d7888',
      '13ce0167-8ca6-4048-8e6b-f996402e3c1b',
      '501541f7-f7e7-4cd6-868c-4190fdad3ac9',
      'da56d295-2889-41ce-a4cd-6f50fb93aa68',
      'f9e2bd2f-47c7-4059-8265-c5292aa62c8a',
      '48666c5d-cec1-4043-ab6b-1be05abb24f2',
    ]) {
      expect(names).toContain(id);
    }
  });

  it.each(files.map((file) => [relative(policyRoot, file.path), file] as const))(
    'compiles %s: every function, alias and template expression it uses is known',
    (_path, file) => {
      const compiled = compileDefinition(file.document.properties, { name: file.document.name });
      expect(compiled.name).toBe(file.document.name);
    },
  );

  it('every alias vaplane registers is one a Microsoft definition uses', () => {
    const text = files.map((file) => JSON.stringify(file.document).toLowerCase()).join('\n');
    const attestedElsewhere = [
      'Microsoft.Security/pricings/enforce',
      'Microsoft.HybridCompute/machines/osName',
    ];
    for (const alias of DEFAULT_ALIASES) {
      if (attestedElsewhere.includes(alias.name)) continue;
      expect(text, alias.name).toContain(alias.name.toLowerCase());
    }
  });

  // ─── 766e621d ────────────────────────────────────────────────────────────────────────────────

  describe('766e621d: Setup subscriptions to transition to an alternative vulnerability assessment solution', () => {
    const definition = present ? load('766e621d-ba95-4e43-a6f2-e945db3d7888') : (undefined as never);

    it.each<[string, ResourceView, ResourceView[], AssignmentParameterValues, JsonObject]>([
      [
        'a subscription without the setting',
        subscription,
        [],
        {},
        { state: 'NonCompliant', effect: 'DeployIfNotExists' },
      ],
      [
        'a subscription whose setting is MdeTvm',
        subscription,
        [vaSetting('MdeTvm')],
        {},
        { state: 'Compliant' },
      ],
      [
        'a setting spelled mdetvm (compared case-insensitively)',
        subscription,
        [vaSetting('mdetvm')],
        {},
        { state: 'Compliant' },
      ],
      [
        'only another subscription has the setting',
        subscription,
        [vaSetting('MdeTvm', OTHER)],
        {},
        { state: 'NonCompliant', existence: { exists: false, ignored: 1 } },
      ],
      [
        'a setting of another kind (the alias is AzureServersSetting only)',
        subscription,
        [vaSetting('MdeTvm', SUBSCRIPTION, 'OtherSetting')],
        {},
        { state: 'NonCompliant' },
      ],
      [
        'the effect Disabled',
        subscription,
        [],
        { effect: { value: 'Disabled' } },
        { state: 'NotApplicable', reason: 'effectDisabled' },
      ],
      ['a virtual machine', vm(), [], {}, { state: 'NotApplicable', reason: 'ifFalse' }],
    ])('%s', (_name, resource, related, values, expected) => {
      expect(evaluate(definition, resource, related, values)).toMatchObject(expected);
    });

    it('deploys {"kind":"AzureServersSetting","properties":{"selectedProvider":"MdeTvm"}} at subscription scope', () => {
      const evaluation = evaluate(definition, subscription, []);
      expect(evaluation).toMatchObject({
        check: {
          query: {
            type: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
            name: 'AzureServersSetting',
            scope: { kind: 'subscription', subscriptionId: SUBSCRIPTION.subscriptionId },
            resourceId: `/subscriptions/${SUBSCRIPTION.subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting`,
          },
          evaluationDelay: { kind: 'Duration', minutes: 10 },
          roleDefinitionIds: [SECURITY_ADMIN],
        },
      });
      expect(deploymentOf(evaluation)).toMatchObject({
        scope: { kind: 'subscription', subscriptionId: SUBSCRIPTION.subscriptionId },
        location: 'eastus',
        mode: 'Incremental',
        parameters: { selectedProvider: { value: 'MdeTvm' } },
      });
      expect(rendered(evaluation)).toEqual({
        resources: [
          {
            type: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
            apiVersion: '2023-05-01',
            name: 'AzureServersSetting',
            kind: 'AzureServersSetting',
            properties: { selectedProvider: 'MdeTvm' },
          },
        ],
        skipped: 0,
      });
    });

    it('explains a non-compliant setting by the value it read', () => {
      const evaluation = evaluate(definition, subscription, [vaSetting('Qualys')]);
      if (!('existence' in evaluation)) throw new Error(evaluation.state);
      const explanation = evaluation.existence.related[0]!.explanation!;
      expect(decisiveConditions(explanation).map(describeLeaf)).toEqual([
        `then.details.existenceCondition: field 'Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting.selectedProvider' is "Qualys"; equals "MdeTvm" → false`,
      ]);
    });

    it.each<[AssignmentParameterValues, string]>([
      [
        { effect: { value: 'AuditIfNotExists' } },
        "The value 'AuditIfNotExists' is not allowed for policy parameter 'effect'",
      ],
      [
        { selectedProvider: { value: 'mdeTvm' } },
        "The value 'mdeTvm' is not allowed for policy parameter 'selectedProvider'",
      ],
    ])('refuses the assignment parameters %j', (values, message) => {
      expect(() => bindParameters(definition, values)).toThrow(message);
    });
  });

  // ─── 13ce0167 ────────────────────────────────────────────────────────────────────────────────

  describe('13ce0167: Configure machines to receive a vulnerability assessment provider', () => {
    const definition = present ? load('13ce0167-8ca6-4048-8e6b-f996402e3c1b') : (undefined as never);
    const mdeTvm = { vaType: { value: 'mdeTvm' } };

    it.each<[string, ResourceView, ResourceView[], AssignmentParameterValues, JsonObject]>([
      [
        'a VM Healthy by mdeTvm, vaType mdeTvm',
        vm(),
        [assessment(VM_ID, 'Healthy', 'mdeTvm')],
        mdeTvm,
        { state: 'Compliant' },
      ],
      [
        'a VM Healthy by mdeTvm under the default vaType (Qualys): the ALZ trap',
        vm(),
        [assessment(VM_ID, 'Healthy', 'mdeTvm')],
        {},
        { state: 'NonCompliant' },
      ],
      [
        'a VM Healthy by default, vaType default',
        vm(),
        [assessment(VM_ID, 'Healthy', 'default')],
        {},
        { state: 'Compliant' },
      ],
      [
        'a VM Healthy by MdeTvm (other casing)',
        vm(),
        [assessment(VM_ID, 'Healthy', 'MdeTvm')],
        mdeTvm,
        { state: 'Compliant' },
      ],
      [
        'a VM Unhealthy',
        vm(),
        [assessment(VM_ID, 'Unhealthy', 'VaScannerNotInstalled')],
        mdeTvm,
        { state: 'NonCompliant' },
      ],
      [
        'a VM NotApplicable',
        vm(),
        [assessment(VM_ID, 'NotApplicable', 'MachineNotRunning')],
        mdeTvm,
        { state: 'Compliant' },
      ],
      ['a VM without the assessment', vm(), [], mdeTvm, { state: 'NonCompliant' }],
      [
        "only another VM's assessment",
        vm(),
        [assessment(VM_ID.replace('vm-app-01', 'vm-app-02'), 'Healthy', 'mdeTvm')],
        mdeTvm,
        { state: 'NonCompliant', existence: { ignored: 1 } },
      ],
      [
        'a VM with a different assessment',
        vm(),
        [assessment(VM_ID, 'Healthy', 'mdeTvm', '1195afff-c881-495e-9bc5-1486211ae03f')],
        mdeTvm,
        { state: 'NonCompliant' },
      ],
      [
        'an Arc machine Healthy by mdeTvm',
        arc(),
        [assessment(ARC_ID, 'Healthy', 'mdeTvm')],
        mdeTvm,
        { state: 'Compliant' },
      ],
      [
        'an Arc machine Unhealthy',
        arc(),
        [assessment(ARC_ID, 'Unhealthy')],
        mdeTvm,
        { state: 'NonCompliant' },
      ],
      [
        'an Arc machine of a security connector (tag MDFCSecurityConnector)',
        arc({ MDFCSecurityConnector: 'gcp-prod' }),
        [],
        mdeTvm,
        { state: 'NotApplicable', reason: 'ifFalse' },
      ],
      [
        'an Arc machine tagged mdfcsecurityconnector (tag keys compare case-insensitively)',
        arc({ mdfcsecurityconnector: 'aws-prod' }),
        [],
        mdeTvm,
        { state: 'NotApplicable', reason: 'ifFalse' },
      ],
      [
        'a subscription (mode Indexed)',
        subscription,
        [],
        mdeTvm,
        { state: 'NotApplicable', reason: 'modeExcluded' },
      ],
      [
        'the effect Disabled',
        vm(),
        [],
        { effect: { value: 'Disabled' } },
        { state: 'NotApplicable', reason: 'effectDisabled' },
      ],
    ])('%s', (_name, resource, related, values, expected) => {
      expect(evaluate(definition, resource, related, values)).toMatchObject(expected);
    });

    it('looks for the assessment on the machine, an hour after provisioning', () => {
      expect(evaluate(definition, vm(), [], mdeTvm)).toMatchObject({
        check: {
          query: {
            type: 'Microsoft.Security/assessments',
            name: VA_ASSESSMENT,
            scope: { kind: 'resource', resourceId: VM_ID },
            resourceId: `${VM_ID}/providers/Microsoft.Security/assessments/${VA_ASSESSMENT}`,
          },
          evaluationDelay: { kind: 'Duration', minutes: 60, text: 'PT60M' },
          roleDefinitionIds: [SECURITY_ADMIN],
        },
      });
    });

    it.each<[string, ResourceView, string]>([
      ['a VM', vm(), 'Microsoft.Compute/virtualMachines/providers/serverVulnerabilityAssessments'],
      ['an Arc machine', arc(), 'Microsoft.HybridCompute/machines/providers/serverVulnerabilityAssessments'],
    ])(
      'deploys the legacy per-machine resource for %s (the template condition picks the type)',
      (_name, resource, type) => {
        const evaluation = evaluate(definition, resource, [], mdeTvm);
        const name = `${resource.resource.name}/Microsoft.Security/mdeTvm`;
        expect(deploymentOf(evaluation)).toMatchObject({
          scope: { kind: 'resourceGroup', resourceGroupName: 'rg-app' },
          parameters: {
            vmName: { value: resource.resource.name },
            resourceType: { value: resource.resource.type },
            vaType: { value: 'mdeTvm' },
          },
        });
        expect(deploymentOf(evaluation).location).toBeUndefined();
        expect(rendered(evaluation)).toEqual({
          resources: [{ type, name, apiVersion: '2020-01-01' }],
          skipped: 1,
        });
      },
    );

    it('explains why a machine Healthy by mdeTvm fails the default vaType', () => {
      const evaluation = evaluate(definition, vm(), [assessment(VM_ID, 'Healthy', 'mdeTvm')]);
      if (!('existence' in evaluation)) throw new Error(evaluation.state);
      expect(decisiveConditions(evaluation.existence.related[0]!.explanation!).map(describeLeaf)).toEqual([
        `then.details.existenceCondition.anyOf[0]: field 'Microsoft.Security/assessments/status.code' is "Healthy"; equals "NotApplicable" → false`,
        `then.details.existenceCondition.anyOf[1].allOf[1]: field 'Microsoft.Security/assessments/status.cause' is "mdeTvm"; equals "[parameters('vaType')]" (= "default") → false`,
      ]);
    });
  });

  // ─── 501541f7 ────────────────────────────────────────────────────────────────────────────────

  describe('501541f7: A vulnerability assessment solution should be enabled on your virtual machines', () => {
    const definition = present ? load('501541f7-f7e7-4cd6-868c-4190fdad3ac9') : (undefined as never);
    const classic = resourceView(
      {
        id: `${GROUP_ID}/providers/Microsoft.ClassicCompute/virtualMachines/classic-01`,
        name: 'classic-01',
        type: 'Microsoft.ClassicCompute/virtualMachines',
        location: 'westeurope',
      },
      SUBSCRIPTION,
      GROUP,
    );

    it.each<[string, ResourceView, ResourceView[], AssignmentParameterValues, JsonObject]>([
      [
        'a Healthy VM',
        vm(),
        [assessment(VM_ID, 'Healthy', 'mdeTvm')],
        {},
        { state: 'Compliant', effect: 'AuditIfNotExists' },
      ],
      [
        'a NotApplicable VM',
        vm(),
        [assessment(VM_ID, 'NotApplicable', 'OffByPolicy')],
        {},
        { state: 'Compliant' },
      ],
      [
        'an Unhealthy VM',
        vm(),
        [assessment(VM_ID, 'Unhealthy', 'VaScannerNotInstalled')],
        {},
        { state: 'NonCompliant' },
      ],
      ['a VM without the assessment', vm(), [], {}, { state: 'NonCompliant' }],
      [
        'a classic VM that is Healthy',
        classic,
        [assessment(classic.resource.id, 'Healthy')],
        {},
        { state: 'Compliant' },
      ],
      [
        'an Arc machine (not in the if: the audit ignores Arc)',
        arc(),
        [],
        {},
        { state: 'NotApplicable', reason: 'ifFalse' },
      ],
      [
        'the effect Disabled',
        vm(),
        [],
        { effect: { value: 'Disabled' } },
        { state: 'NotApplicable', reason: 'effectDisabled' },
      ],
    ])('%s', (_name, resource, related, values, expected) => {
      expect(evaluate(definition, resource, related, values)).toMatchObject(expected);
    });

    it('audits only: no deployment, default delay', () => {
      const evaluation = evaluate(definition, vm(), []);
      if (!('check' in evaluation)) throw new Error(evaluation.state);
      expect(evaluation.check.deployment).toBeUndefined();
      expect(evaluation.check.evaluationDelay).toEqual({ kind: 'Duration', minutes: 10, text: 'PT10M' });
    });
  });

  // ─── Endpoint protection (WDATP) settings ────────────────────────────────────────────────────

  describe('Defender for Endpoint integration settings (WDATP)', () => {
    it.each<[string, string, string, boolean, ResourceView[], string]>([
      [
        'WDATP on',
        'da56d295-2889-41ce-a4cd-6f50fb93aa68',
        'WDATP',
        true,
        [securitySetting('WDATP', true)],
        'Compliant',
      ],
      [
        'WDATP off',
        'da56d295-2889-41ce-a4cd-6f50fb93aa68',
        'WDATP',
        true,
        [securitySetting('WDATP', false)],
        'NonCompliant',
      ],
      ['WDATP absent', 'da56d295-2889-41ce-a4cd-6f50fb93aa68', 'WDATP', true, [], 'NonCompliant'],
      [
        'only WDATP_UNIFIED_SOLUTION present',
        'da56d295-2889-41ce-a4cd-6f50fb93aa68',
        'WDATP',
        true,
        [securitySetting('WDATP_UNIFIED_SOLUTION', true)],
        'NonCompliant',
      ],
      [
        'Linux not excluded (WDATP_EXCLUDE_LINUX… false)',
        'f9e2bd2f-47c7-4059-8265-c5292aa62c8a',
        'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW',
        false,
        [securitySetting('WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW', false)],
        'Compliant',
      ],
      [
        'Linux excluded',
        'f9e2bd2f-47c7-4059-8265-c5292aa62c8a',
        'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW',
        false,
        [securitySetting('WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW', true)],
        'NonCompliant',
      ],
      [
        'unified agent on',
        '48666c5d-cec1-4043-ab6b-1be05abb24f2',
        'WDATP_UNIFIED_SOLUTION',
        true,
        [securitySetting('WDATP_UNIFIED_SOLUTION', true)],
        'Compliant',
      ],
      [
        'unified agent absent',
        '48666c5d-cec1-4043-ab6b-1be05abb24f2',
        'WDATP_UNIFIED_SOLUTION',
        true,
        [],
        'NonCompliant',
      ],
    ])('%s → %s', (_name, id, settingName, deployedValue, related, state) => {
      const definition = load(id);
      const evaluation = evaluate(definition, subscription, related);
      expect(evaluation).toMatchObject({ state, effect: 'DeployIfNotExists' });
      expect(deploymentOf(evaluation)).toMatchObject({
        scope: { kind: 'subscription' },
        location: 'northeurope',
        roleDefinitionIds: [SECURITY_ADMIN],
      });
      // The templates send `enabled` as the string "true"/"false"; the 2022-05-01 swagger types it boolean.
      expect(rendered(evaluation).resources).toEqual([
        {
          type: 'Microsoft.Security/settings',
          apiVersion: '2022-05-01',
          name: settingName,
          kind: 'DataExportSettings',
          properties: { enabled: String(deployedValue) },
        },
      ]);
    });
  });

  // ─── Defender plans ──────────────────────────────────────────────────────────────────────────

  describe('5eb6d64a: Configure Microsoft Defender for Servers plan', () => {
    const definition = present ? load('5eb6d64a-4086-4d7a-92da-ec51aed0332d') : (undefined as never);
    const servers = (properties: JsonObject) => pricing('VirtualMachines', properties);
    const extensions = (agentless: string, designated: string) => [
      { name: 'AgentlessVmScanning', isEnabled: agentless },
      { name: 'MdeDesignatedSubscription', isEnabled: designated },
    ];

    it.each<[string, ResourceView[], AssignmentParameterValues, string]>([
      [
        'P2 with agentless scanning (isEnabled "True" matches "true")',
        [servers({ pricingTier: 'Standard', subPlan: 'P2', extensions: extensions('True', 'False') })],
        {},
        'Compliant',
      ],
      [
        'P2 without the MdeDesignatedSubscription extension',
        [
          servers({
            pricingTier: 'Standard',
            subPlan: 'P2',
            extensions: extensions('True', 'False').slice(0, 1),
          }),
        ],
        {},
        'NonCompliant',
      ],
      [
        'P2 with agentless scanning off',
        [servers({ pricingTier: 'Standard', subPlan: 'P2', extensions: extensions('False', 'False') })],
        {},
        'NonCompliant',
      ],
      [
        'P1 assigned, agentless expected off by the if() in existenceCondition',
        [servers({ pricingTier: 'Standard', subPlan: 'P1', extensions: extensions('False', 'False') })],
        { subPlan: { value: 'P1' } },
        'Compliant',
      ],
      ['the Free tier', [servers({ pricingTier: 'Free' })], {}, 'NonCompliant'],
    ])('%s → %s', (_name, related, values, state) => {
      expect(evaluate(definition, subscription, related, values)).toMatchObject({ state });
    });

    it('deploys the plan with both extensions', () => {
      const evaluation = evaluate(definition, subscription, []);
      expect(deploymentOf(evaluation)).toMatchObject({
        scope: { kind: 'subscription' },
        location: 'westeurope',
        roleDefinitionIds: [OWNER],
      });
      expect(rendered(evaluation).resources).toEqual([
        {
          type: 'Microsoft.Security/pricings',
          apiVersion: '2023-01-01',
          name: 'VirtualMachines',
          properties: { pricingTier: 'Standard', subPlan: 'P2', extensions: extensions('true', 'false') },
        },
      ]);
    });
  });

  describe('Configure Microsoft Defender for Containers plan (current(), tryGet(), coalesce())', () => {
    const definition = present
      ? compileDefinition(
          files.find((file) => file.path.endsWith('ASC_Azure_Defender_Containers_Full_Features_DINE.json'))!
            .document.properties,
          { name: 'containers-plan' },
        )
      : (undefined as never);
    const containers = (sensorProperties?: JsonObject) =>
      pricing('Containers', {
        pricingTier: 'Standard',
        extensions: [
          { name: 'ContainerRegistriesVulnerabilityAssessments', isEnabled: 'True' },
          { name: 'AgentlessDiscoveryForKubernetes', isEnabled: 'True' },
          { name: 'AgentlessVmScanning', isEnabled: 'True' },
          {
            name: 'ContainerSensor',
            isEnabled: 'True',
            ...(sensorProperties ? { additionalExtensionProperties: sensorProperties } : {}),
          },
          { name: 'ContainerIntegrityContribution', isEnabled: 'True' },
        ],
      });

    it('counts five matching extensions when security gating is on', () => {
      const evaluation = evaluate(definition, subscription, [containers({ SecurityGatingEnabled: 'True' })]);
      expect(evaluation).toMatchObject({ state: 'Compliant' });
    });

    it('counts four when the sensor lacks additionalExtensionProperties', () => {
      const evaluation = evaluate(definition, subscription, [containers()]);
      expect(evaluation).toMatchObject({ state: 'NonCompliant' });
      if (!('existence' in evaluation)) throw new Error(evaluation.state);
      const failing = decisiveConditions(evaluation.existence.related[0]!.explanation!);
      expect(failing).toMatchObject([{ kind: 'count', count: 4, expected: 5 }]);
    });
  });

  describe('72f8cee7: Configure Microsoft Defender CSPM plan', () => {
    const definition = present ? load('72f8cee7-2937-403d-84a1-a4e3e57f3c21') : (undefined as never);
    const cspm = (vmScanning: string) =>
      pricing('CloudPosture', {
        pricingTier: 'Standard',
        extensions: [
          { name: 'SensitiveDataDiscovery', isEnabled: 'True' },
          { name: 'ContainerRegistriesVulnerabilityAssessments', isEnabled: 'True' },
          { name: 'AgentlessDiscoveryForKubernetes', isEnabled: 'True' },
          { name: 'AgentlessVmScanning', isEnabled: vmScanning },
          { name: 'EntraPermissionsManagement', isEnabled: 'True' },
        ],
      });

    it.each([
      ['True', 'Compliant'],
      ['False', 'NonCompliant'],
    ])('AgentlessVmScanning %s → %s', (vmScanning, state) => {
      expect(evaluate(definition, subscription, [cspm(vmScanning)])).toMatchObject({ state });
    });
  });

  // ─── MDE for Linux ───────────────────────────────────────────────────────────────────────────

  describe('d30025d0: Deploy Microsoft Defender for Endpoint agent on Linux virtual machines', () => {
    const definition = present ? load('d30025d0-6d64-656d-6465-67688881b632') : (undefined as never);

    it.each<[string, ResourceView, ResourceView[], AssignmentParameterValues, JsonObject]>([
      ['an Ubuntu VM without MDE', vm(), [], {}, { state: 'NonCompliant', effect: 'DeployIfNotExists' }],
      [
        'an Ubuntu VM with MDE.Linux',
        vm(),
        [extensionOf(VM_ID, 'MDE.Linux', 'Succeeded')],
        {},
        { state: 'Compliant' },
      ],
      [
        'an Ubuntu VM whose MDE.Linux failed',
        vm(),
        [extensionOf(VM_ID, 'MDE.Linux', 'Failed')],
        {},
        { state: 'NonCompliant' },
      ],
      [
        'a Windows VM',
        vm(
          {},
          { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter' },
          'Windows',
        ),
        [],
        {},
        { reason: 'ifFalse' },
      ],
      [
        'CentOS 6',
        vm({}, { publisher: 'OpenLogic', offer: 'CentOS', sku: '6.10' }),
        [],
        {},
        { reason: 'ifFalse' },
      ],
      [
        'a Cisco appliance',
        vm({}, { publisher: 'cisco', offer: 'cisco-csr-1000v', sku: '17_3_4a-byol' }),
        [],
        {},
        { reason: 'ifFalse' },
      ],
      [
        'a firewall image',
        vm({}, { publisher: 'contoso', offer: 'next-gen-firewall', sku: 'byol' }),
        [],
        {},
        { reason: 'ifFalse' },
      ],
      [
        'Ubuntu 14.04',
        vm({}, { publisher: 'Canonical', offer: 'UbuntuServer', sku: '14.04.5-LTS' }),
        [],
        {},
        { reason: 'ifFalse' },
      ],
      [
        'a publisher excluded by parameter',
        vm(),
        [],
        { PublishersToExclude: { value: ['canonical'] } },
        { reason: 'ifFalse' },
      ],
      [
        'another image excluded by parameter',
        vm(),
        [],
        {
          ImageIdsToExclude: {
            value: ['/subscriptions/x/resourceGroups/img/providers/Microsoft.Compute/images/golden'],
          },
        },
        { state: 'NonCompliant' },
      ],
      [
        'the effect AuditIfNotExists',
        vm(),
        [],
        { effect: { value: 'AuditIfNotExists' } },
        { state: 'NonCompliant', effect: 'AuditIfNotExists' },
      ],
    ])('%s', (_name, resource, related, values, expected) => {
      expect(evaluate(definition, resource, related, values)).toMatchObject(expected);
    });

    it('deploys MDE.Linux with the onboarding package read by reference()', () => {
      const evaluation = evaluate(definition, vm(), []);
      expect(evaluation).toMatchObject({ check: { query: { resourceId: `${VM_ID}/extensions/MDE.Linux` } } });
      expect(deploymentOf(evaluation).parameters).toEqual({
        vmName: { value: 'vm-app-01' },
        location: { value: 'westeurope' },
        azureResourceId: { value: VM_ID },
      });
      const references: JsonValue[] = [];
      const { resources } = rendered(evaluation, (id, apiVersion, full) => {
        references.push({ id, apiVersion: apiVersion ?? null, full });
        return { properties: { onboardingPackageLinux: 'base64-package' } };
      });
      expect(references).toEqual([
        {
          id: `/subscriptions/${SUBSCRIPTION.subscriptionId}/providers/Microsoft.Security/mdeOnboardings/Linux`,
          apiVersion: '2021-10-01-preview',
          full: true,
        },
      ]);
      expect(resources).toMatchObject([
        {
          name: 'vm-app-01/MDE.Linux',
          type: 'Microsoft.Compute/virtualMachines/extensions',
          location: 'westeurope',
          properties: {
            publisher: 'Microsoft.Azure.AzureDefenderForServers',
            settings: { azureResourceId: VM_ID, installedBy: 'Policy' },
            protectedSettings: { defenderForEndpointOnboardingScript: 'base64-package' },
          },
        },
      ]);
    });

    it('without a deployment engine, rendering names the function it needs', () => {
      expect(() => rendered(evaluate(definition, vm(), []))).toThrow("'reference' is not available");
    });
  });

  // ─── Deprecated Qualys container audits ──────────────────────────────────────────────────────

  describe('the deprecated Qualys container audits', () => {
    const registry = resourceView(
      {
        id: `${GROUP_ID}/providers/Microsoft.ContainerRegistry/registries/acr1`,
        name: 'acr1',
        type: 'Microsoft.ContainerRegistry/registries',
        location: 'westeurope',
      },
      SUBSCRIPTION,
      GROUP,
    );

    it('are Disabled by default', () => {
      expect(evaluate(load('5f0f936f-2f01-4bf5-b6be-d423792fa562'), registry, [])).toMatchObject({
        state: 'NotApplicable',
        reason: 'effectDisabled',
      });
    });

    it('audit their own assessment when enabled', () => {
      const definition = load('5f0f936f-2f01-4bf5-b6be-d423792fa562');
      const healthy = assessment(
        registry.resource.id,
        'Healthy',
        undefined,
        'dbd0cb49-b563-45e7-9724-889e799fa648',
      );
      expect(
        evaluate(definition, registry, [healthy], { effect: { value: 'AuditIfNotExists' } }),
      ).toMatchObject({ state: 'Compliant' });
    });
  });
});
