/**
 * The api-versions the portal sends. The VA setting, `WDATP` and connector versions are the ones
 * Microsoft's transition page and MDE-integration doc print, so Save makes the REST path's calls.
 */
export const API = {
  subscriptions: '2022-12-01',
  managementGroups: '2023-04-01',
  roleAssignments: '2022-04-01',
  roleDefinitions: '2022-04-01',
  pricings: '2024-01-01',
  settings: '2022-05-01',
  vaSettings: '2022-01-01-preview',
  securityConnectors: '2023-10-01-preview',
  assessments: '2021-06-01',
  compute: '2024-07-01',
  hybridCompute: '2024-07-10',
} as const;

/** "Machines should have a vulnerability assessment solution". */
export const VA_ASSESSMENT_KEY = 'ffff0522-1e88-47fc-8382-2a80ba848f5d';
