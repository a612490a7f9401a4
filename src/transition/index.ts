/** The transition's ARM client and the requests it sends; plan, apply and verify build on these. */
export {
  type ArmClient,
  type ArmClientOptions,
  type ArmResponse,
  type CallOptions,
  createArmClient,
  createArmClientFor,
  DEFAULT_MAX_CONCURRENCY,
} from './client.js';
export { ArmClientError, type ArmErrorDetail, ArmRequestError } from './errors.js';
export type { PollingOptions } from './operations.js';
export {
  ARM_LIMITS,
  type BucketLimit,
  minimumSeconds,
  type OperationKind,
  operationKindOf,
  type RateLimits,
  rateScopeOf,
} from './rateLimits.js';
export {
  API_VERSIONS,
  type ArmMethod,
  type ArmRequest,
  deleteVmExtension,
  getSecurityConnector,
  getVaSetting,
  putSecurityConnector,
  type SecurityConnector,
  type SelectedProvider,
  securityConnectorPath,
  setVaProvider,
  vaSettingPath,
} from './requests.js';
export { type ArmConnection, type ArmTarget, connectionFor, type VaplaneAuth } from './target.js';
