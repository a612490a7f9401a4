/**
 * Azure Policy around the pure engine (`src/policy`): `Microsoft.Authorization` policyDefinitions,
 * policySetDefinitions and policyAssignments, `Microsoft.PolicyInsights` policyStates (query, summarize, triggerEvaluation) and
 * remediations, and the `Microsoft.Resources/deployments` that remediations run.
 */
import type { Registry, Services } from '../../arm/registry.js';
import { policyAssignmentsType } from './assignments.js';
import { policyDefinitionsType } from './definitions.js';
import { registerDenyCheck } from './deny.js';
import { deploymentsType } from './deployments.js';
import { registerEvaluationJobs } from './jobs.js';
import { registerRemediationRunner, remediationsType } from './remediations.js';
import { policySetDefinitionsType } from './setDefinitions.js';
import { asyncOperationResultsType, policyStatesType } from './states.js';

export function registerPolicyProvider(
  registry: Registry,
  services: Services,
  options: { evaluationDelayMs: number },
): void {
  registry.register(policyDefinitionsType);
  registry.register(policySetDefinitionsType);
  registry.register(policyAssignmentsType);
  registry.register(policyStatesType);
  registry.register(asyncOperationResultsType);
  registry.register(remediationsType);
  registry.register(deploymentsType);
  registerEvaluationJobs(services, options);
  registerRemediationRunner(registry, services);
  registerDenyCheck(services);
}
