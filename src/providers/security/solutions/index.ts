/**
 * BYOL vulnerability-assessment solutions (Qualys, Rapid7), `Microsoft.Security/locations/{ascLocation}/securitySolutions`
 * (spec §7). See README.md for the decisions.
 */
import type { Registry } from '../../../arm/registry.js';
import { securitySolutionsType, subscriptionSecuritySolutionsType } from './securitySolutions.js';

export {
  BYOL_TEMPLATES,
  type ByolTemplate,
  byolSolutionOf,
  type Licensing,
  SECURITY_SOLUTION_TYPE,
  securitySolutionRecord,
} from './model.js';
export { SECURITY_SOLUTIONS_API_VERSIONS } from './securitySolutions.js';

export function registerSecuritySolutions(registry: Registry): void {
  registry.register(securitySolutionsType);
  registry.register(subscriptionSecuritySolutionsType);
}
