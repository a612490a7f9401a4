/**
 * `Microsoft.Security`: the Defender for Cloud surface of the VA transition — the subscription's VA
 * provider setting, the Defender plans (pricings) and the integration settings.
 */
import type { Registry } from '../../arm/registry.js';
import { pricingsType } from './pricings.js';
import { settingsType } from './settings.js';
import { serverVulnerabilityAssessmentsSettingsType } from './vaSettings.js';

export {
  FREE_PRICING,
  findPlan,
  offeredExtensions,
  PLANS,
  type PlanDef,
  type PricingState,
} from './plans.js';
export { PRICINGS_TYPE } from './pricings.js';
export { SETTINGS, SETTINGS_TYPE } from './settings.js';
export { AZURE_SERVERS_SETTING, type SelectedProvider, VA_SETTINGS_TYPE } from './vaSettings.js';

export function registerSecurityProvider(registry: Registry): void {
  registry.register(serverVulnerabilityAssessmentsSettingsType);
  registry.register(pricingsType);
  registry.register(settingsType);
}
