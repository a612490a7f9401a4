/**
 * Legacy per-machine VA onboarding, `Microsoft.Security/serverVulnerabilityAssessments/{default|mdeTvm}`
 * on Azure VMs and Arc machines (spec §3). See README.md for the decisions.
 */
import type { Registry, Services } from '../../../arm/registry.js';
import {
  DEPROVISION_LEGACY_VA,
  deprovisionKind,
  PROVISION_LEGACY_VA,
  provisionKind,
} from './provisioning.js';
import { legacyVaOperationResultsType, legacyVaType } from './serverVulnerabilityAssessments.js';

export {
  LEGACY_VA_BODY_TYPE,
  LEGACY_VA_MACHINE_TYPES,
  LEGACY_VA_TYPE,
  type LegacyVaName,
  legacyAssessmentOf,
  legacyVaName,
  legacyVaRecord,
} from './model.js';
export { type ServersPlan, serversPlanOf } from './provisioning.js';
export { LEGACY_VA_API_VERSIONS } from './serverVulnerabilityAssessments.js';

export function registerLegacyServerVulnerabilityAssessments(registry: Registry, services: Services): void {
  registry.register(legacyVaType);
  registry.register(legacyVaOperationResultsType);
  const now = () => services.clock.now().toISOString();
  services.lro.registerKind(PROVISION_LEGACY_VA, provisionKind(now));
  services.lro.registerKind(DEPROVISION_LEGACY_VA, deprovisionKind);
}
