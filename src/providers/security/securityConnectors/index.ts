/**
 * `Microsoft.Security/securityConnectors`: the multicloud (AWS, GCP, DevOps) connectors whose
 * Defender for Servers offering decides how a GCP or AWS machine's vulnerabilities are assessed.
 * Others read connectors from the store (`SECURITY_CONNECTORS_TYPE`) and interpret them with
 * `serversOffering`; the transition flips one with `withVaProvider`.
 */
import type { Registry, Services } from '../../../arm/registry.js';
import { securityConnectorsType } from './connectors.js';

export {
  SECURITY_CONNECTORS_API_VERSIONS,
  SECURITY_CONNECTORS_TYPE,
  securityConnectorRecord,
} from './connectors.js';
export {
  type CloudName,
  type CloudOffering,
  type ConnectorApiVersion,
  type DefenderForServersOffering,
  type EnvironmentData,
  type OtherOffering,
  type SecurityConnector,
  type SecurityConnectorProperties,
  type ServersOffering,
  type ServersSubPlan,
  serversOffering,
  type VaSolution,
  withVaProvider,
} from './model.js';

/** `services` is part of every provider's registration; connectors need nothing beyond the request. */
export function registerSecurityConnectors(registry: Registry, _services: Services): void {
  registry.register(securityConnectorsType);
}
