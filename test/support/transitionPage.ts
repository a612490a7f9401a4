/**
 * The two requests printed on Microsoft's "Transition to Microsoft Defender Vulnerability Management
 * for servers" page (how-to-transition-to-built-in.md; spec §2.4 and §4.5), as text with the page's
 * host and placeholders, so tests send them as printed with only the placeholders filled in and the
 * host swapped for vaplane's. The connector body's placeholders that the spec quotes
 * (`{GcpProjectNumber}`, `{cspm}`, `{defender-for-servers}`, `{P1/P2}`,
 * `{identityPoolIdRemainsTheSame}`, `{connectorRegion}`) are the page's; the page's wording of the
 * others (project id, service accounts) is not on record, so they are named after their members.
 */

export const PAGE_HOST = 'https://management.azure.com';

/** Step 1: the subscription selects MDVM. */
export const SUBSCRIPTION_PUT = {
  url: `${PAGE_HOST}/subscriptions/{subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting?api-version=2022-01-01-preview`,
  body: '{"kind":"AzureServersSetting","properties":{"selectedProvider":"MdeTvm"}}',
} as const;

/**
 * Step 2: a GCP connector's VA provider becomes TVM, by a full PUT that keeps the connector's
 * identifiers (lower-case `resourcegroups` and `securityconnectors`, `subPlan` as a string and the
 * read-only `workloadIdentityPoolId`, as printed).
 */
export const GCP_CONNECTOR_PUT = {
  url: `${PAGE_HOST}/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/Microsoft.Security/securityconnectors/{connectorName}?api-version=2022-08-01-preview`,
  body: `{
  "properties": {
    "hierarchyIdentifier": "{GcpProjectNumber}",
    "environmentName": "GCP",
    "offerings": [
      {
        "offeringType": "CspmMonitorGcp",
        "nativeCloudConnection": {
          "workloadIdentityProviderId": "{cspm}",
          "serviceAccountEmailAddress": "{cspmServiceAccountEmailAddress}"
        }
      },
      {
        "offeringType": "DefenderCspmGcp"
      },
      {
        "offeringType": "DefenderForServersGcp",
        "defenderForServers": {
          "workloadIdentityProviderId": "{defender-for-servers}",
          "serviceAccountEmailAddress": "{defenderForServersServiceAccountEmailAddress}"
        },
        "arcAutoProvisioning": {
          "enabled": true,
          "configuration": {}
        },
        "mdeAutoProvisioning": {
          "enabled": true,
          "configuration": {}
        },
        "vaAutoProvisioning": {
          "enabled": true,
          "configuration": {
            "type": "TVM"
          }
        },
        "subPlan": "{P1/P2}"
      }
    ],
    "environmentData": {
      "environmentType": "GcpProject",
      "projectDetails": {
        "projectId": "{GcpProjectId}",
        "projectNumber": "{GcpProjectNumber}",
        "workloadIdentityPoolId": "{identityPoolIdRemainsTheSame}"
      }
    }
  },
  "location": "{connectorRegion}"
}`,
} as const;

/**
 * The text with each `{placeholder}` replaced; a placeholder left unfilled is an error unless `keep`
 * names it (`az rest` fills `{subscriptionId}` itself).
 */
export function fill(text: string, values: Record<string, string>, keep: readonly string[] = []): string {
  return text.replace(/\{([^{}"]+)\}/g, (whole, name: string) => {
    if (values[name] !== undefined) return values[name];
    if (keep.includes(name)) return whole;
    throw new Error(`placeholder ${whole} is not filled`);
  });
}

/**
 * The values the GCP connector PUT needs, read from the connector as a GET at 2022-08-01-preview
 * shows it: the page's PUT keeps every identifier and changes only the VA provider.
 */
export function gcpConnectorValues(connector: {
  id: string;
  location: string;
  properties: any;
}): Record<string, string> {
  const [, , subscriptionId, , resourceGroupName, , , , connectorName] = connector.id.split('/');
  const offering = (type: string) =>
    connector.properties.offerings.find(
      (candidate: { offeringType: string }) => candidate.offeringType === type,
    );
  const cspm = offering('CspmMonitorGcp').nativeCloudConnection;
  const servers = offering('DefenderForServersGcp');
  const project = connector.properties.environmentData.projectDetails;
  return {
    subscriptionId: subscriptionId!,
    resourceGroupName: resourceGroupName!,
    connectorName: connectorName!,
    GcpProjectNumber: project.projectNumber,
    GcpProjectId: project.projectId,
    cspm: cspm.workloadIdentityProviderId,
    cspmServiceAccountEmailAddress: cspm.serviceAccountEmailAddress,
    'defender-for-servers': servers.defenderForServers.workloadIdentityProviderId,
    defenderForServersServiceAccountEmailAddress: servers.defenderForServers.serviceAccountEmailAddress,
    'P1/P2': servers.subPlan?.type ?? 'P2',
    identityPoolIdRemainsTheSame: project.workloadIdentityPoolId,
    connectorRegion: connector.location,
  };
}
