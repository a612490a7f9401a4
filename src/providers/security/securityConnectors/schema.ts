/**
 * The `SecurityConnector` contract as data: every member of `properties`, per api-version, read off
 * Microsoft's swaggers (2022-08-01-preview, 2023-10-01-preview) and the 2024-08-01-preview TypeSpec.
 * One table serves all three versions: a member, enum value or discriminated variant carries the
 * versions it exists in (`since`/`until`, both inclusive). `validation.ts` walks these shapes to parse
 * requests and to project stored connectors onto the version a client reads with.
 *
 * Where the 2022-08-01-preview swagger has two published revisions, the newer one is followed: it adds
 * `arcAutoProvisioning.configuration` (an empty object), which Microsoft's transition page sends.
 */

export const V2022 = '2022-08-01-preview';
export const V2023 = '2023-10-01-preview';
export const V2024 = '2024-08-01-preview';

export type ConnectorApiVersion = typeof V2022 | typeof V2023 | typeof V2024;

/** Oldest first: availability compares positions in this list. */
export const CONNECTOR_VERSIONS: readonly ConnectorApiVersion[] = [V2022, V2023, V2024];

export interface Availability {
  since?: ConnectorApiVersion;
  until?: ConnectorApiVersion;
}

export function availableAt(item: Availability, version: ConnectorApiVersion): boolean {
  const at = CONNECTOR_VERSIONS.indexOf(version);
  if (item.since && at < CONNECTOR_VERSIONS.indexOf(item.since)) return false;
  if (item.until && at > CONNECTOR_VERSIONS.indexOf(item.until)) return false;
  return true;
}

export interface EnumValue extends Availability {
  value: string;
}

export type Shape =
  | { kind: 'string' }
  | { kind: 'boolean' }
  | { kind: 'integer'; minimum?: number; maximum?: number }
  | { kind: 'enum'; values: readonly EnumValue[] }
  | { kind: 'array'; items: Shape; itemTypeName: string }
  | { kind: 'stringMap' }
  /** An object the contract leaves open (`unknown` in TypeSpec): stored as sent. */
  | { kind: 'anyObject' }
  | ObjectShape
  | UnionShape;

export interface ObjectShape {
  kind: 'object';
  typeName: string;
  members: Readonly<Record<string, Member>>;
  /** A bare string is read as `{ [shorthand]: value }` (trap 1: `"subPlan": "P2"`). */
  shorthand?: string;
}

/** A discriminated object: the discriminator's value picks the variant. */
export interface UnionShape {
  kind: 'union';
  typeName: string;
  discriminator: string;
  variants: readonly Variant[];
}

export interface Variant extends Availability {
  tag: string;
  typeName: string;
  members: Readonly<Record<string, Member>>;
}

export interface Member extends Availability {
  shape: Shape;
  /** Output only: ignored on input (trap 2), kept in responses. */
  readOnly?: boolean;
  /** Input only: stored, never echoed (secrets). */
  writeOnly?: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Building blocks

const string: Shape = { kind: 'string' };
const boolean: Shape = { kind: 'boolean' };
const integer: Shape = { kind: 'integer' };
const strings: Shape = { kind: 'array', items: string, itemTypeName: 'String' };
const stringMap: Shape = { kind: 'stringMap' };
const anyObject: Shape = { kind: 'anyObject' };

function member(shape: Shape, options: Omit<Member, 'shape'> = {}): Member {
  return { shape, ...options };
}

/** Members given as shapes are available in every version. */
function object(
  typeName: string,
  members: Record<string, Shape | Member>,
  options: { shorthand?: string } = {},
): ObjectShape {
  const normalised: Record<string, Member> = {};
  for (const [name, value] of Object.entries(members)) {
    normalised[name] = 'shape' in value ? value : { shape: value };
  }
  return { kind: 'object', typeName, members: normalised, ...options };
}

function enumeration(...values: (string | EnumValue)[]): Shape {
  return {
    kind: 'enum',
    values: values.map((value) => (typeof value === 'string' ? { value } : value)),
  };
}

const since2023 = { since: V2023 } as const;
const since2024 = { since: V2024 } as const;
const until2023 = { until: V2023 } as const;

const cloudRoleArn = (typeName: string) => object(typeName, { cloudRoleArn: string });
const enabledCloudRoleArn = (typeName: string) =>
  object(typeName, { enabled: boolean, cloudRoleArn: string });
const gcpIdentity = (typeName: string) =>
  object(typeName, { workloadIdentityProviderId: string, serviceAccountEmailAddress: string });
const enabledGcpIdentity = (typeName: string) =>
  object(typeName, {
    enabled: boolean,
    workloadIdentityProviderId: string,
    serviceAccountEmailAddress: string,
  });

/** 2022-08-01-preview: an empty object; 2023-10-01-preview on: proxy and private link scope. */
const arcConfiguration = object('ArcAutoProvisioningConfiguration', {
  proxy: member(string, since2023),
  privateLinkScope: member(string, since2023),
});
const arcAutoProvisioningGcp = object('ArcAutoProvisioningGcp', {
  enabled: boolean,
  configuration: arcConfiguration,
});
const arcAutoProvisioningAws = object('ArcAutoProvisioningAws', {
  enabled: boolean,
  cloudRoleArn: string,
  configuration: arcConfiguration,
});

export const VA_SOLUTIONS = ['TVM', 'Qualys'] as const;
export const SERVERS_SUB_PLANS = ['P1', 'P2'] as const;

const vaAutoProvisioning = object('VaAutoProvisioning', {
  enabled: boolean,
  configuration: object('VaAutoProvisioningConfiguration', { type: enumeration('Qualys', 'TVM') }),
});
const mdeAutoProvisioning = object('MdeAutoProvisioning', { enabled: boolean, configuration: anyObject });
const subPlan = object('SubPlan', { type: enumeration(...SERVERS_SUB_PLANS) }, { shorthand: 'type' });

const scanningMode = enumeration('Default');
const vmScannersGcp = object('VmScannersGcp', {
  enabled: boolean,
  configuration: object('VmScannersConfiguration', { scanningMode, exclusionTags: stringMap }),
});
/** The AWS scanner role sits in `configuration` up to 2023-10-01-preview and beside it from 2024-08-01-preview. */
const vmScannersAws = object('VmScannersAws', {
  enabled: boolean,
  cloudRoleArn: member(string, since2024),
  configuration: object('VmScannersAwsConfiguration', {
    cloudRoleArn: member(string, until2023),
    scanningMode,
    exclusionTags: stringMap,
  }),
});

// ---------------------------------------------------------------------------------------------------
// Environments

export const CLOUD_NAMES = [
  'Azure',
  'AWS',
  'GCP',
  'Github',
  'AzureDevOps',
  'GitLab',
  'DockerHub',
  'JFrog',
] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

export const ENVIRONMENT_NAME = enumeration(
  'Azure',
  'AWS',
  'GCP',
  'Github',
  'AzureDevOps',
  { value: 'GitLab', ...since2023 },
  { value: 'DockerHub', ...since2024 },
  { value: 'JFrog', ...since2024 },
);

/** The environment each cloud's connector describes (Azure has none). */
export const ENVIRONMENT_TYPE_OF_CLOUD: Readonly<Record<CloudName, string | undefined>> = {
  Azure: undefined,
  AWS: 'AwsAccount',
  GCP: 'GcpProject',
  Github: 'GithubScope',
  AzureDevOps: 'AzureDevOpsScope',
  GitLab: 'GitlabScope',
  DockerHub: 'DockerHubOrganization',
  JFrog: 'JFrogArtifactory',
};

const organizationMembershipType = 'organizationMembershipType';

export const ENVIRONMENT_DATA: UnionShape = {
  kind: 'union',
  typeName: 'EnvironmentData',
  discriminator: 'environmentType',
  variants: [
    {
      tag: 'AwsAccount',
      typeName: 'AwsEnvironmentData',
      members: object('', {
        organizationalData: {
          shape: {
            kind: 'union',
            typeName: 'AwsOrganizationalData',
            discriminator: organizationMembershipType,
            variants: [
              {
                tag: 'Organization',
                typeName: 'AwsOrganizationalDataMaster',
                members: object('', { stacksetName: string, excludedAccountIds: strings }).members,
              },
              {
                tag: 'Member',
                typeName: 'AwsOrganizationalDataMember',
                members: object('', { parentHierarchyId: string }).members,
              },
            ],
          },
        },
        regions: member(strings, since2023),
        accountName: member(string, { ...since2023, readOnly: true }),
        scanInterval: member(integer, since2023),
      }).members,
    },
    {
      tag: 'GcpProject',
      typeName: 'GcpProjectEnvironmentData',
      members: object('', {
        organizationalData: {
          shape: {
            kind: 'union',
            typeName: 'GcpOrganizationalData',
            discriminator: organizationMembershipType,
            variants: [
              {
                tag: 'Organization',
                typeName: 'GcpOrganizationalDataOrganization',
                members: object('', {
                  excludedProjectNumbers: strings,
                  serviceAccountEmailAddress: string,
                  workloadIdentityProviderId: string,
                  organizationName: member(string, { ...since2023, readOnly: true }),
                }).members,
              },
              {
                tag: 'Member',
                typeName: 'GcpOrganizationalDataMember',
                members: object('', { parentHierarchyId: string, managementProjectNumber: string }).members,
              },
            ],
          },
        },
        projectDetails: object('GcpProjectDetails', {
          projectNumber: string,
          projectId: string,
          workloadIdentityPoolId: member(string, { readOnly: true }),
          projectName: member(string, { ...since2023, readOnly: true }),
        }),
        scanInterval: member(integer, since2023),
      }).members,
    },
    { tag: 'GithubScope', typeName: 'GithubScopeEnvironmentData', members: {} },
    { tag: 'AzureDevOpsScope', typeName: 'AzureDevOpsScopeEnvironmentData', members: {} },
    { tag: 'GitlabScope', typeName: 'GitlabScopeEnvironmentData', members: {}, ...since2023 },
    {
      tag: 'DockerHubOrganization',
      typeName: 'DockerHubEnvironmentData',
      ...since2024,
      members: object('', {
        authentication: {
          shape: {
            kind: 'union',
            typeName: 'Authentication',
            discriminator: 'authenticationType',
            variants: [
              {
                tag: 'AccessToken',
                typeName: 'AccessTokenAuthentication',
                members: object('', { username: string, accessToken: member(string, { writeOnly: true }) })
                  .members,
              },
            ],
          },
        },
        scanInterval: integer,
      }).members,
    },
    {
      tag: 'JFrogArtifactory',
      typeName: 'JFrogEnvironmentData',
      ...since2024,
      members: object('', { scanInterval: { kind: 'integer', minimum: 1, maximum: 24 } }).members,
    },
  ],
};

// ---------------------------------------------------------------------------------------------------
// Offerings

interface OfferingDef extends Availability {
  offeringType: string;
  typeName: string;
  cloud: CloudName;
  members: Record<string, Shape | Member>;
}

const OFFERINGS: readonly OfferingDef[] = [
  {
    offeringType: 'CspmMonitorAws',
    typeName: 'CspmMonitorAwsOffering',
    cloud: 'AWS',
    members: { nativeCloudConnection: cloudRoleArn('CspmMonitorAwsOfferingNativeCloudConnection') },
  },
  {
    offeringType: 'DefenderForContainersAws',
    typeName: 'DefenderForContainersAwsOffering',
    cloud: 'AWS',
    members: {
      kubernetesService: cloudRoleArn('DefenderForContainersAwsOfferingKubernetesService'),
      kubernetesScubaReader: member(
        cloudRoleArn('DefenderForContainersAwsOfferingKubernetesScubaReader'),
        until2023,
      ),
      kubernetesDataCollection: member(
        cloudRoleArn('DefenderForContainersAwsOfferingKubernetesDataCollection'),
        since2024,
      ),
      cloudWatchToKinesis: cloudRoleArn('DefenderForContainersAwsOfferingCloudWatchToKinesis'),
      kinesisToS3: cloudRoleArn('DefenderForContainersAwsOfferingKinesisToS3'),
      containerVulnerabilityAssessment: member(
        cloudRoleArn('DefenderForContainersAwsOfferingContainerVulnerabilityAssessment'),
        until2023,
      ),
      containerVulnerabilityAssessmentTask: member(
        cloudRoleArn('DefenderForContainersAwsOfferingContainerVulnerabilityAssessmentTask'),
        until2023,
      ),
      enableContainerVulnerabilityAssessment: member(boolean, until2023),
      autoProvisioning: member(boolean, until2023),
      enableAuditLogsAutoProvisioning: member(boolean, since2024),
      enableDefenderAgentAutoProvisioning: member(boolean, since2024),
      enablePolicyAgentAutoProvisioning: member(boolean, since2024),
      kubeAuditRetentionTime: integer,
      scubaExternalId: member(string, until2023),
      dataCollectionExternalId: member(string, since2024),
      mdcContainersImageAssessment: member(enabledCloudRoleArn('MdcContainersImageAssessment'), since2023),
      mdcContainersAgentlessDiscoveryK8s: member(
        enabledCloudRoleArn('MdcContainersAgentlessDiscoveryK8s'),
        since2023,
      ),
      vmScanners: member(vmScannersAws, since2024),
    },
  },
  {
    offeringType: 'DefenderForServersAws',
    typeName: 'DefenderForServersAwsOffering',
    cloud: 'AWS',
    members: {
      defenderForServers: cloudRoleArn('DefenderForServersAwsOfferingDefenderForServers'),
      arcAutoProvisioning: arcAutoProvisioningAws,
      vaAutoProvisioning,
      mdeAutoProvisioning,
      subPlan,
      vmScanners: vmScannersAws,
    },
  },
  {
    offeringType: 'DefenderForDatabasesAws',
    typeName: 'DefenderForDatabasesAwsOffering',
    cloud: 'AWS',
    members: {
      arcAutoProvisioning: arcAutoProvisioningAws,
      rds: enabledCloudRoleArn('DefenderForDatabasesAwsOfferingRds'),
      databasesDspm: member(enabledCloudRoleArn('DefenderForDatabasesAwsOfferingDatabasesDspm'), since2023),
    },
  },
  {
    offeringType: 'InformationProtectionAws',
    typeName: 'InformationProtectionAwsOffering',
    cloud: 'AWS',
    ...until2023,
    members: { informationProtection: cloudRoleArn('InformationProtectionAwsOfferingInformationProtection') },
  },
  {
    offeringType: 'CspmMonitorGcp',
    typeName: 'CspmMonitorGcpOffering',
    cloud: 'GCP',
    members: { nativeCloudConnection: gcpIdentity('CspmMonitorGcpOfferingNativeCloudConnection') },
  },
  { offeringType: 'CspmMonitorGithub', typeName: 'CspmMonitorGithubOffering', cloud: 'Github', members: {} },
  {
    offeringType: 'CspmMonitorAzureDevOps',
    typeName: 'CspmMonitorAzureDevOpsOffering',
    cloud: 'AzureDevOps',
    members: {},
  },
  {
    offeringType: 'DefenderForServersGcp',
    typeName: 'DefenderForServersGcpOffering',
    cloud: 'GCP',
    members: {
      defenderForServers: gcpIdentity('DefenderForServersGcpOfferingDefenderForServers'),
      arcAutoProvisioning: arcAutoProvisioningGcp,
      vaAutoProvisioning,
      mdeAutoProvisioning,
      subPlan,
      vmScanners: member(vmScannersGcp, since2023),
    },
  },
  {
    offeringType: 'DefenderForContainersGcp',
    typeName: 'DefenderForContainersGcpOffering',
    cloud: 'GCP',
    members: {
      nativeCloudConnection: gcpIdentity('DefenderForContainersGcpOfferingNativeCloudConnection'),
      dataPipelineNativeCloudConnection: gcpIdentity(
        'DefenderForContainersGcpOfferingDataPipelineNativeCloudConnection',
      ),
      auditLogsAutoProvisioningFlag: member(boolean, until2023),
      defenderAgentAutoProvisioningFlag: member(boolean, until2023),
      policyAgentAutoProvisioningFlag: member(boolean, until2023),
      enableAuditLogsAutoProvisioning: member(boolean, since2024),
      enableDefenderAgentAutoProvisioning: member(boolean, since2024),
      enablePolicyAgentAutoProvisioning: member(boolean, since2024),
      mdcContainersImageAssessment: member(enabledGcpIdentity('MdcContainersImageAssessment'), since2023),
      mdcContainersAgentlessDiscoveryK8s: member(
        enabledGcpIdentity('MdcContainersAgentlessDiscoveryK8s'),
        since2023,
      ),
      vmScanners: member(vmScannersGcp, since2024),
    },
  },
  {
    offeringType: 'DefenderForDatabasesGcp',
    typeName: 'DefenderForDatabasesGcpOffering',
    cloud: 'GCP',
    members: {
      arcAutoProvisioning: arcAutoProvisioningGcp,
      defenderForDatabasesArcAutoProvisioning: gcpIdentity(
        'DefenderForDatabasesGcpOfferingDefenderForDatabasesArcAutoProvisioning',
      ),
    },
  },
  {
    offeringType: 'DefenderCspmAws',
    typeName: 'DefenderCspmAwsOffering',
    cloud: 'AWS',
    members: {
      vmScanners: vmScannersAws,
      dataSensitivityDiscovery: member(
        enabledCloudRoleArn('DefenderCspmAwsOfferingDataSensitivityDiscovery'),
        since2023,
      ),
      databasesDspm: member(enabledCloudRoleArn('DefenderCspmAwsOfferingDatabasesDspm'), since2023),
      ciem: member(
        object('DefenderCspmAwsOfferingCiem', {
          ciemDiscovery: cloudRoleArn('DefenderCspmAwsOfferingCiemCiemDiscovery'),
          ciemOidc: object('DefenderCspmAwsOfferingCiemCiemOidc', {
            cloudRoleArn: string,
            azureActiveDirectoryAppName: string,
          }),
        }),
        since2023,
      ),
      mdcContainersImageAssessment: member(enabledCloudRoleArn('MdcContainersImageAssessment'), since2023),
      mdcContainersAgentlessDiscoveryK8s: member(
        enabledCloudRoleArn('MdcContainersAgentlessDiscoveryK8s'),
        since2023,
      ),
    },
  },
  {
    offeringType: 'DefenderCspmGcp',
    typeName: 'DefenderCspmGcpOffering',
    cloud: 'GCP',
    members: {
      ciemDiscovery: member(
        object('DefenderCspmGcpOfferingCiemDiscovery', {
          workloadIdentityProviderId: string,
          serviceAccountEmailAddress: string,
          azureActiveDirectoryAppName: string,
        }),
        since2023,
      ),
      vmScanners: member(vmScannersGcp, since2023),
      dataSensitivityDiscovery: member(
        enabledGcpIdentity('DefenderCspmGcpOfferingDataSensitivityDiscovery'),
        since2023,
      ),
      mdcContainersImageAssessment: member(enabledGcpIdentity('MdcContainersImageAssessment'), since2023),
      mdcContainersAgentlessDiscoveryK8s: member(
        enabledGcpIdentity('MdcContainersAgentlessDiscoveryK8s'),
        since2023,
      ),
    },
  },
  {
    offeringType: 'DefenderForDevOpsGithub',
    typeName: 'DefenderForDevOpsGithubOffering',
    cloud: 'Github',
    ...until2023,
    members: {},
  },
  {
    offeringType: 'DefenderForDevOpsAzureDevOps',
    typeName: 'DefenderForDevOpsAzureDevOpsOffering',
    cloud: 'AzureDevOps',
    ...until2023,
    members: {},
  },
  {
    offeringType: 'CspmMonitorGitLab',
    typeName: 'CspmMonitorGitLabOffering',
    cloud: 'GitLab',
    ...since2023,
    members: {},
  },
  {
    offeringType: 'DefenderForDevOpsGitLab',
    typeName: 'DefenderForDevOpsGitLabOffering',
    cloud: 'GitLab',
    since: V2023,
    until: V2023,
    members: {},
  },
  {
    offeringType: 'CspmMonitorDockerHub',
    typeName: 'CspmMonitorDockerHubOffering',
    cloud: 'DockerHub',
    ...since2024,
    members: {},
  },
  {
    offeringType: 'DefenderForContainersDockerHub',
    typeName: 'DefenderForContainersDockerHubOffering',
    cloud: 'DockerHub',
    ...since2024,
    members: {},
  },
  {
    offeringType: 'DefenderCspmDockerHub',
    typeName: 'DefenderCspmDockerHubOffering',
    cloud: 'DockerHub',
    ...since2024,
    members: {},
  },
  {
    offeringType: 'CspmMonitorJFrog',
    typeName: 'CspmMonitorJFrogOffering',
    cloud: 'JFrog',
    ...since2024,
    members: {},
  },
  {
    offeringType: 'DefenderForContainersJFrog',
    typeName: 'DefenderForContainersJFrogOffering',
    cloud: 'JFrog',
    ...since2024,
    members: {},
  },
  {
    offeringType: 'DefenderCspmJFrog',
    typeName: 'DefenderCspmJFrogOffering',
    cloud: 'JFrog',
    ...since2024,
    members: {
      mdcContainersImageAssessment: object('DefenderCspmJFrogOfferingMdcContainersImageAssessment', {
        enabled: boolean,
      }),
    },
  },
];

/** The cloud whose connectors may carry each offering type. */
export const OFFERING_CLOUD: Readonly<Record<string, CloudName>> = Object.fromEntries(
  OFFERINGS.map((offering) => [offering.offeringType, offering.cloud]),
);

export const CLOUD_OFFERING: UnionShape = {
  kind: 'union',
  typeName: 'CloudOffering',
  discriminator: 'offeringType',
  variants: OFFERINGS.map(({ offeringType, typeName, members, since, until }) => ({
    tag: offeringType,
    typeName,
    since,
    until,
    // Every offering has the read-only description of the `cloudOffering` base.
    members: object('', { ...members, description: member(string, { readOnly: true }) }).members,
  })),
};

export const CONNECTOR_PROPERTIES: ObjectShape = object('SecurityConnectorProperties', {
  hierarchyIdentifier: string,
  hierarchyIdentifierTrialEndDate: member(string, { readOnly: true }),
  environmentName: ENVIRONMENT_NAME,
  offerings: { kind: 'array', items: CLOUD_OFFERING, itemTypeName: 'CloudOffering' },
  environmentData: ENVIRONMENT_DATA,
});
