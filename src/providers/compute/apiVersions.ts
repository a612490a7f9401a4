/**
 * Microsoft.Compute api-versions served for virtual machines, their extensions and operation status,
 * newest first. `@azure/arm-compute` 23 sends 2025-04-01; Microsoft's docs for extension removal cite
 * 2023-07-01 and the recordings use 2019-03-01 to 2020-12-01.
 */
export const COMPUTE_API_VERSIONS = [
  '2025-04-01',
  '2024-11-01',
  '2024-07-01',
  '2024-03-01',
  '2023-09-01',
  '2023-07-01',
  '2023-03-01',
  '2022-11-01',
  '2022-08-01',
  '2022-03-01',
  '2021-11-01',
  '2021-07-01',
  '2021-04-01',
  '2021-03-01',
  '2020-12-01',
  '2020-06-01',
  '2019-12-01',
  '2019-07-01',
  '2019-03-01',
  '2018-10-01',
  '2018-06-01',
  '2018-04-01',
] as const;
