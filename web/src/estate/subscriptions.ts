/** Subscriptions and their Defender settings, as several pages need them. */
import type { ArmClient } from '../arm/client';
import { API } from '../arm/versions';
import { useSession } from '../auth/session';
import { type Query, useArmQuery } from '../data';

export interface Subscription {
  subscriptionId: string;
  displayName: string;
  state: string;
}

export function useSubscriptions(): Query<Subscription[]> {
  const session = useSession();
  return useArmQuery('subscriptions', (signal) => listSubscriptions(session.client, signal));
}

export async function listSubscriptions(client: ArmClient, signal?: AbortSignal): Promise<Subscription[]> {
  const list = await client.listAll<Subscription>('/subscriptions', {
    apiVersion: API.subscriptions,
    signal,
  });
  return list.sort((left, right) => left.displayName.localeCompare(right.displayName));
}

export interface PricingBody {
  id: string;
  name: string;
  properties: {
    pricingTier: 'Free' | 'Standard';
    subPlan?: string;
    enforce?: string;
    deprecated?: boolean;
    replacedBy?: string[];
    resourcesCoverageStatus?: string;
    extensions?: {
      name: string;
      isEnabled: string;
      additionalExtensionProperties?: Record<string, unknown>;
      operationStatus?: unknown;
    }[];
  };
}

export interface SettingBody {
  name: string;
  kind: string;
  properties: { enabled: boolean };
}

export interface VaSettingBody {
  name: string;
  kind: string;
  properties: { selectedProvider: string };
}

export interface DefenderState {
  pricings: PricingBody[];
  settings: SettingBody[];
  vaSetting: VaSettingBody | undefined;
}

export async function loadDefenderState(
  client: ArmClient,
  subscriptionId: string,
  signal?: AbortSignal,
): Promise<DefenderState> {
  const base = `/subscriptions/${subscriptionId}/providers/Microsoft.Security`;
  const [pricings, settings, vaSettings] = await Promise.all([
    client.listAll<PricingBody>(`${base}/pricings`, { apiVersion: API.pricings, signal }),
    client.listAll<SettingBody>(`${base}/settings`, { apiVersion: API.settings, signal }),
    client.listAll<VaSettingBody>(`${base}/serverVulnerabilityAssessmentsSettings`, {
      apiVersion: API.vaSettings,
      signal,
    }),
  ]);
  return {
    pricings,
    settings,
    vaSetting: vaSettings.find((setting) => setting.name.toLowerCase() === 'azureserverssetting'),
  };
}

export function useDefenderState(subscriptionId: string): Query<DefenderState> {
  const session = useSession();
  return useArmQuery(`defender:${subscriptionId.toLowerCase()}`, (signal) =>
    loadDefenderState(session.client, subscriptionId, signal),
  );
}

/** `MdeTvm` in any casing (§2.3: an open enum). */
export function selectsMdeTvm(setting: VaSettingBody | undefined): boolean {
  return setting?.properties.selectedProvider?.toLowerCase() === 'mdetvm';
}

export function isTrue(value: string | boolean | undefined): boolean {
  return String(value).toLowerCase() === 'true';
}
