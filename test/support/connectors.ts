/** An AWS member account with CSPM and Defender for Servers P1 on TVM, valid at every served api-version. */
export function awsConnector() {
  return {
    location: 'Central US',
    properties: {
      hierarchyIdentifier: '210987654321',
      environmentName: 'AWS',
      offerings: [
        {
          offeringType: 'CspmMonitorAws',
          nativeCloudConnection: { cloudRoleArn: 'arn:aws:iam::210987654321:role/CspmMonitorAws' },
        },
        {
          offeringType: 'DefenderForServersAws',
          defenderForServers: {
            cloudRoleArn: 'arn:aws:iam::210987654321:role/DefenderForCloud-DefenderForServers',
          },
          arcAutoProvisioning: {
            enabled: true,
            cloudRoleArn: 'arn:aws:iam::210987654321:role/DefenderForCloud-ArcAutoProvisioning',
          },
          vaAutoProvisioning: { enabled: true, configuration: { type: 'TVM' } },
          subPlan: { type: 'P1' },
        },
      ],
      environmentData: {
        environmentType: 'AwsAccount',
        organizationalData: { organizationMembershipType: 'Member', parentHierarchyId: '999999999999' },
      },
    },
  };
}
