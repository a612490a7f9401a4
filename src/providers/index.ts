import type { Registry, Services } from '../arm/registry.js';
import { registerAuthorizationProvider } from './authorization/index.js';
import { registerComputeProvider } from './compute/index.js';
import { registerHybridComputeProvider } from './hybridcompute/index.js';
import { registerManagementProvider } from './management/index.js';
import { registerPolicyProvider } from './policy/index.js';
import { registerResourcesProvider } from './resources/index.js';
import { registerAssessments } from './security/assessments/index.js';
import { registerSecurityProvider } from './security/index.js';
import { registerLegacyServerVulnerabilityAssessments } from './security/legacyVa/index.js';
import { registerSecurityConnectors } from './security/securityConnectors/index.js';
import { registerSecuritySolutions } from './security/solutions/index.js';

export interface ProviderOptions {
  /** See `ServerOptions.policyEvaluationDelayMs`. */
  policyEvaluationDelayMs: number;
}

/** Every namespace vaplane serves. */
export function registerProviders(registry: Registry, services: Services, options: ProviderOptions): void {
  registerResourcesProvider(registry, services);
  registerManagementProvider(registry);
  registerAuthorizationProvider(registry);
  registerComputeProvider(registry, services);
  registerHybridComputeProvider(registry, services);
  registerSecurityProvider(registry);
  registerLegacyServerVulnerabilityAssessments(registry, services);
  registerSecurityConnectors(registry, services);
  registerSecuritySolutions(registry);
  registerAssessments(registry);
  registerPolicyProvider(registry, services, { evaluationDelayMs: options.policyEvaluationDelayMs });
}
