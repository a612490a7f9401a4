/**
 * The security connector as the rest of vaplane sees it: typed after the contract for what the VA
 * transition reads (the environment and the Defender for Servers offering), open for the rest, and
 * the pure helpers that read and flip a connector's VA provider.
 */
import type { CloudName, ConnectorApiVersion } from './schema.js';

export type { CloudName, ConnectorApiVersion };

/** The VA solution a connector's servers offering auto-provisions: MDVM (`TVM`) or the retired built-in Qualys. */
export type VaSolution = 'TVM' | 'Qualys';
export type ServersSubPlan = 'P1' | 'P2';

export interface AwsOrganizationalData {
  organizationMembershipType: 'Organization' | 'Member';
  stacksetName?: string;
  excludedAccountIds?: string[];
  parentHierarchyId?: string;
}

export interface GcpOrganizationalData {
  organizationMembershipType: 'Organization' | 'Member';
  excludedProjectNumbers?: string[];
  serviceAccountEmailAddress?: string;
  workloadIdentityProviderId?: string;
  organizationName?: string;
  parentHierarchyId?: string;
  managementProjectNumber?: string;
}

export type EnvironmentData =
  | {
      environmentType: 'AwsAccount';
      organizationalData?: AwsOrganizationalData;
      regions?: string[];
      accountName?: string;
      scanInterval?: number;
    }
  | {
      environmentType: 'GcpProject';
      organizationalData?: GcpOrganizationalData;
      projectDetails?: {
        projectNumber?: string;
        projectId?: string;
        workloadIdentityPoolId?: string;
        projectName?: string;
      };
      scanInterval?: number;
    }
  | {
      environmentType:
        | 'GithubScope'
        | 'AzureDevOpsScope'
        | 'GitlabScope'
        | 'DockerHubOrganization'
        | 'JFrogArtifactory';
      [member: string]: unknown;
    };

export interface DefenderForServersOffering {
  offeringType: 'DefenderForServersAws' | 'DefenderForServersGcp';
  description?: string;
  defenderForServers?: {
    cloudRoleArn?: string;
    workloadIdentityProviderId?: string;
    serviceAccountEmailAddress?: string;
  };
  arcAutoProvisioning?: {
    enabled?: boolean;
    cloudRoleArn?: string;
    configuration?: { proxy?: string; privateLinkScope?: string };
  };
  vaAutoProvisioning?: { enabled?: boolean; configuration?: { type?: VaSolution } };
  mdeAutoProvisioning?: { enabled?: boolean; configuration?: Record<string, unknown> };
  subPlan?: { type?: ServersSubPlan };
  vmScanners?: {
    enabled?: boolean;
    cloudRoleArn?: string;
    configuration?: {
      cloudRoleArn?: string;
      scanningMode?: 'Default';
      exclusionTags?: Record<string, string>;
    };
  };
}

export type OtherOfferingType =
  | 'CspmMonitorAws'
  | 'DefenderForContainersAws'
  | 'DefenderForDatabasesAws'
  | 'InformationProtectionAws'
  | 'DefenderCspmAws'
  | 'CspmMonitorGcp'
  | 'DefenderForContainersGcp'
  | 'DefenderForDatabasesGcp'
  | 'DefenderCspmGcp'
  | 'CspmMonitorGithub'
  | 'DefenderForDevOpsGithub'
  | 'CspmMonitorAzureDevOps'
  | 'DefenderForDevOpsAzureDevOps'
  | 'CspmMonitorGitLab'
  | 'DefenderForDevOpsGitLab'
  | 'CspmMonitorDockerHub'
  | 'DefenderForContainersDockerHub'
  | 'DefenderCspmDockerHub'
  | 'CspmMonitorJFrog'
  | 'DefenderForContainersJFrog'
  | 'DefenderCspmJFrog';

/** Every other offering: its type and members as the contract of its api-version has them. */
export interface OtherOffering {
  offeringType: OtherOfferingType;
  [member: string]: unknown;
}

export type CloudOffering = DefenderForServersOffering | OtherOffering;

export interface SecurityConnectorProperties {
  hierarchyIdentifier?: string;
  hierarchyIdentifierTrialEndDate?: string;
  environmentName?: CloudName;
  offerings?: CloudOffering[];
  environmentData?: EnvironmentData;
}

/** A connector as stored and answered (the body a GET returns). */
export interface SecurityConnector {
  id: string;
  name: string;
  type: string;
  location: string;
  kind?: string;
  etag?: string;
  tags: Record<string, string>;
  systemData?: Record<string, string>;
  properties: SecurityConnectorProperties;
}

function isServersOffering(offering: CloudOffering): offering is DefenderForServersOffering {
  return (
    offering.offeringType === 'DefenderForServersAws' || offering.offeringType === 'DefenderForServersGcp'
  );
}

/** What a connector's Defender for Servers offering means for the VA transition. */
export interface ServersOffering {
  cloud: 'AWS' | 'GCP';
  offering: DefenderForServersOffering;
  /**
   * The VA solution the connector provisions on its machines: `configuration.type` when VA
   * auto-provisioning is enabled, undefined when it is off or names no solution.
   */
  vaProvider: VaSolution | undefined;
  subPlan: ServersSubPlan | undefined;
}

/** The connector's Defender for Servers offering (AWS or GCP), or undefined when it has none. */
export function serversOffering(connector: {
  properties?: SecurityConnectorProperties;
}): ServersOffering | undefined {
  const offering = connector.properties?.offerings?.find(isServersOffering);
  if (!offering) return undefined;
  const va = offering.vaAutoProvisioning;
  return {
    cloud: offering.offeringType === 'DefenderForServersAws' ? 'AWS' : 'GCP',
    offering,
    vaProvider: va?.enabled === true ? va.configuration?.type : undefined,
    subPlan: offering.subPlan?.type,
  };
}

/**
 * The connector's properties with VA auto-provisioning enabled for `provider` on its Defender for
 * Servers offering — the change Microsoft's transition page makes with a full PUT. Properties without
 * that offering come back unchanged. The input is not modified.
 */
export function withVaProvider(
  properties: SecurityConnectorProperties,
  provider: VaSolution,
): SecurityConnectorProperties {
  if (!properties.offerings?.some(isServersOffering)) return properties;
  return {
    ...properties,
    offerings: properties.offerings.map((offering) =>
      isServersOffering(offering)
        ? {
            ...offering,
            vaAutoProvisioning: {
              ...offering.vaAutoProvisioning,
              enabled: true,
              configuration: { ...offering.vaAutoProvisioning?.configuration, type: provider },
            },
          }
        : offering,
    ),
  };
}
