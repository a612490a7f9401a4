/**
 * vaplane's built-in policy catalogue: the Azure built-ins this system needs, with Microsoft's ids,
 * names, display names, parameters and rules (facts vaplane reproduces so that assignments behave as
 * in Azure; `catalogue.test.ts` proves each equal to Microsoft's published definition). Descriptions
 * are vaplane's own words.
 */
import type { JsonObject, PolicyDefinitionProperties } from '../types.js';

export interface BuiltInDefinition {
  /** The definition's GUID name. */
  name: string;
  properties: PolicyDefinitionProperties & { policyType: 'BuiltIn'; version: string; metadata: JsonObject };
}

/** A policy rule's `then` is data, not a thenable: a computed key keeps Biome's noThenProperty quiet. */
const THEN = 'then';

const SECURITY_ADMIN =
  '/providers/Microsoft.Authorization/roleDefinitions/fb1c8493-542b-48eb-b624-b4c8fea62acd';

const effectParameter = (allowed: string[], defaultValue: string) => ({
  type: 'String',
  metadata: { displayName: 'Effect', description: 'Enable or disable the execution of the policy' },
  allowedValues: allowed,
  defaultValue,
});

const VA_ASSESSMENT = 'ffff0522-1e88-47fc-8382-2a80ba848f5d';

const setupSubscriptionsToTransition: BuiltInDefinition = {
  name: '766e621d-ba95-4e43-a6f2-e945db3d7888',
  properties: {
    displayName: 'Setup subscriptions to transition to an alternative vulnerability assessment solution',
    policyType: 'BuiltIn',
    mode: 'All',
    description:
      "Selects Microsoft Defender Vulnerability Management (MdeTvm) as the subscription's server vulnerability assessment provider.",
    version: '1.0.0-preview',
    metadata: { category: 'Security Center', version: '1.0.0-preview' },
    parameters: {
      effect: effectParameter(['DeployIfNotExists', 'Disabled'], 'DeployIfNotExists'),
      selectedProvider: {
        type: 'String',
        // "Slected" is how Microsoft spells it.
        metadata: {
          displayName: 'Slected Vulnerability Assessment provider',
          description: 'Select the vulnerability assessment solution to provision to machines.',
        },
        allowedValues: ['MdeTvm'],
        defaultValue: 'MdeTvm',
      },
    },
    policyRule: {
      if: { field: 'type', equals: 'Microsoft.Resources/subscriptions' },
      [THEN]: {
        effect: "[parameters('effect')]",
        details: {
          type: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
          name: 'AzureServersSetting',
          existenceScope: 'subscription',
          deploymentScope: 'subscription',
          existenceCondition: {
            field:
              'Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting.selectedProvider',
            equals: 'MdeTvm',
          },
          deployment: {
            location: 'eastus',
            properties: {
              mode: 'Incremental',
              template: {
                contentVersion: '1.0.0.0',
                $schema:
                  'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#',
                parameters: { selectedProvider: { type: 'string' } },
                variables: { settingsKind: 'AzureServersSetting' },
                resources: [
                  {
                    type: 'Microsoft.Security/serverVulnerabilityAssessmentsSettings',
                    apiVersion: '2023-05-01',
                    name: "[variables('settingsKind')]",
                    kind: "[variables('settingsKind')]",
                    properties: { selectedProvider: "[parameters('selectedProvider')]" },
                  },
                ],
              },
              parameters: { selectedProvider: { value: "[parameters('selectedProvider')]" } },
            },
          },
          roleDefinitionIds: [SECURITY_ADMIN],
        },
      },
    },
  },
};

const configureMachinesVaProvider: BuiltInDefinition = {
  name: '13ce0167-8ca6-4048-8e6b-f996402e3c1b',
  properties: {
    displayName: 'Configure machines to receive a vulnerability assessment provider',
    policyType: 'BuiltIn',
    mode: 'Indexed',
    description:
      'Onboards Azure virtual machines and Arc machines to the chosen vulnerability assessment provider (built-in Qualys or MDVM) when their assessment is not healthy.',
    version: '4.0.0',
    metadata: { category: 'Security Center', version: '4.0.0' },
    parameters: {
      effect: effectParameter(['DeployIfNotExists', 'Disabled'], 'DeployIfNotExists'),
      vaType: {
        type: 'String',
        metadata: {
          displayName: 'Vulnerability assessment provider type',
          description: 'Select the vulnerability assessment solution to provision to machines.',
        },
        allowedValues: ['default', 'mdeTvm'],
        defaultValue: 'default',
      },
    },
    policyRule: {
      if: {
        anyof: [
          { field: 'type', equals: 'Microsoft.Compute/virtualMachines' },
          {
            allOf: [
              { field: 'type', equals: 'Microsoft.HybridCompute/machines' },
              { field: 'tags', notContainsKey: 'MDFCSecurityConnector' },
            ],
          },
        ],
      },
      [THEN]: {
        effect: "[parameters('effect')]",
        details: {
          type: 'Microsoft.Security/assessments',
          name: VA_ASSESSMENT,
          evaluationDelay: 'PT60M',
          existenceCondition: {
            anyOf: [
              { field: 'Microsoft.Security/assessments/status.code', equals: 'NotApplicable' },
              {
                allOf: [
                  { field: 'Microsoft.Security/assessments/status.code', equals: 'Healthy' },
                  { field: 'Microsoft.Security/assessments/status.cause', equals: "[parameters('vaType')]" },
                ],
              },
            ],
          },
          deployment: {
            properties: {
              mode: 'Incremental',
              template: {
                contentVersion: '1.0.0.0',
                $schema: 'https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#',
                parameters: {
                  vmName: { type: 'String' },
                  resourceType: { type: 'string' },
                  vaType: { type: 'string' },
                },
                variables: {
                  resourceNameAndVaType:
                    "[concat(parameters('vmName'), '/Microsoft.Security/', parameters('vaType'))]",
                },
                resources: [
                  {
                    condition:
                      "[equals(toLower(parameters('resourceType')), toLower('microsoft.compute/virtualmachines'))]",
                    type: 'Microsoft.Compute/virtualMachines/providers/serverVulnerabilityAssessments',
                    name: "[variables('resourceNameAndVaType')]",
                    apiVersion: '2020-01-01',
                  },
                  {
                    condition:
                      "[equals(toLower(parameters('resourceType')), toLower('microsoft.hybridcompute/machines'))]",
                    type: 'Microsoft.HybridCompute/machines/providers/serverVulnerabilityAssessments',
                    name: "[variables('resourceNameAndVaType')]",
                    apiVersion: '2020-01-01',
                  },
                ],
              },
              parameters: {
                vmName: { value: "[field('name')]" },
                resourceType: { value: "[field('type')]" },
                vaType: { value: "[parameters('vaType')]" },
              },
            },
          },
          roleDefinitionIds: [SECURITY_ADMIN],
        },
      },
    },
  },
};

const vaSolutionOnVirtualMachines: BuiltInDefinition = {
  name: '501541f7-f7e7-4cd6-868c-4190fdad3ac9',
  properties: {
    displayName: 'A vulnerability assessment solution should be enabled on your virtual machines',
    policyType: 'BuiltIn',
    mode: 'All',
    description:
      'Audits virtual machines whose vulnerability assessment (assessment ffff0522) is neither Healthy nor NotApplicable.',
    version: '3.0.0',
    metadata: { version: '3.0.0', category: 'Security Center' },
    parameters: {
      effect: {
        type: 'string',
        defaultValue: 'AuditIfNotExists',
        allowedValues: ['AuditIfNotExists', 'Disabled'],
        metadata: { displayName: 'Effect', description: 'Enable or disable the execution of the policy' },
      },
    },
    policyRule: {
      if: {
        field: 'type',
        in: ['Microsoft.Compute/virtualMachines', 'Microsoft.ClassicCompute/virtualMachines'],
      },
      [THEN]: {
        effect: "[parameters('effect')]",
        details: {
          type: 'Microsoft.Security/assessments',
          name: VA_ASSESSMENT,
          existenceCondition: {
            field: 'Microsoft.Security/assessments/status.code',
            in: ['NotApplicable', 'Healthy'],
          },
        },
      },
    },
  },
};

/** The three "Endpoint protection" integration settings share one shape: a `Microsoft.Security/settings` toggle. */
function endpointIntegration(options: {
  name: string;
  setting: string;
  displaySuffix: string;
  enabled: 'true' | 'false';
  description: string;
}): BuiltInDefinition {
  return {
    name: options.name,
    properties: {
      displayName: `Configure Microsoft Defender for Endpoint integration settings with Microsoft Defender for Cloud (${options.displaySuffix})`,
      policyType: 'BuiltIn',
      mode: 'All',
      description: options.description,
      metadata: { version: '1.0.0', category: 'Security Center' },
      version: '1.0.0',
      parameters: { effect: effectParameter(['DeployIfNotExists', 'Disabled'], 'DeployIfNotExists') },
      policyRule: {
        if: { allOf: [{ field: 'type', equals: 'Microsoft.Resources/subscriptions' }] },
        [THEN]: {
          effect: "[parameters('effect')]",
          details: {
            type: 'Microsoft.Security/settings',
            name: options.setting,
            deploymentScope: 'subscription',
            existenceScope: 'subscription',
            existenceCondition: {
              field: 'Microsoft.Security/settings/DataExportSetting.enabled',
              equals: options.enabled,
            },
            roleDefinitionIds: [SECURITY_ADMIN],
            deployment: {
              location: 'northeurope',
              properties: {
                mode: 'incremental',
                parameters: {},
                template: {
                  $schema:
                    'http://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json',
                  contentVersion: '1.0.0.0',
                  parameters: {},
                  variables: {},
                  resources: [
                    {
                      type: 'Microsoft.Security/settings',
                      apiVersion: '2022-05-01',
                      name: options.setting,
                      kind: 'DataExportSettings',
                      properties: { enabled: options.enabled },
                    },
                  ],
                  outputs: {},
                },
              },
            },
          },
        },
      },
    },
  };
}

export const BUILT_IN_DEFINITIONS: readonly BuiltInDefinition[] = [
  setupSubscriptionsToTransition,
  configureMachinesVaProvider,
  vaSolutionOnVirtualMachines,
  endpointIntegration({
    name: 'da56d295-2889-41ce-a4cd-6f50fb93aa68',
    setting: 'WDATP',
    displaySuffix: 'WDATP',
    enabled: 'true',
    description:
      'Turns on the Endpoint protection (WDATP) integration of Defender for Cloud on the subscription.',
  }),
  endpointIntegration({
    name: 'f9e2bd2f-47c7-4059-8265-c5292aa62c8a',
    setting: 'WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW',
    displaySuffix: 'WDATP_EXCLUDE_LINUX...',
    enabled: 'false',
    description:
      'Includes Linux servers in the automatic deployment of Defender for Endpoint on the subscription.',
  }),
  endpointIntegration({
    name: '48666c5d-cec1-4043-ab6b-1be05abb24f2',
    setting: 'WDATP_UNIFIED_SOLUTION',
    displaySuffix: 'WDATP_UNIFIED_SOLUTION',
    enabled: 'true',
    description:
      'Turns on the automatic deployment of the unified Defender for Endpoint agent to Windows Server 2012 R2 and 2016.',
  }),
];

export function builtInDefinition(name: string): BuiltInDefinition | undefined {
  const lower = name.toLowerCase();
  return BUILT_IN_DEFINITIONS.find((definition) => definition.name === lower);
}
