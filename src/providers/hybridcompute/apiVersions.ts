/** Microsoft.HybridCompute (Azure Arc) api-versions for machines, extensions and operations, newest first. */
export const HYBRID_COMPUTE_API_VERSIONS = [
  '2024-07-10',
  '2024-05-20-preview',
  '2024-03-31-preview',
  '2023-10-03-preview',
  '2023-06-20-preview',
  '2023-03-15-preview',
  '2022-12-27',
  '2022-11-10',
  '2022-08-11-preview',
  '2022-05-10-preview',
  '2022-03-10',
  '2021-05-20',
  '2020-08-02',
  '2020-07-30-preview',
  '2019-12-12',
] as const;
