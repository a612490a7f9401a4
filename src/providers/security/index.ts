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
  type PricingRequest,
  type PricingState,
} from './plans.js';
export { PRICINGS_TYPE, subscriptionPricingRecord } from './pricings.js';
export { SETTINGS, SETTINGS_TYPE, settingRecord } from './settings.js';
export {
  AZURE_SERVERS_SETTING,
  type SelectedProvider,
  VA_SETTINGS_TYPE,
  vaSettingRecord,
} from './vaSettings.js';

export function registerSecurityProvider(registry: Registry): void {
  registry.register(serverVulnerabilityAssessmentsSettingsType);
  registry.register(pricingsType);
  registry.register(settingsType);
}
