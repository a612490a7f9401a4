/**
 * Which subscriptions have selected MDVM (`AzureServersSetting` = `MdeTvm`) and which connectors
 * exist: one list per subscription, read a few at a time with progress, shared by the overview and
 * Environment settings.
 */
import { useState } from 'react';
import type { ArmClient } from '../arm/client';
import { API } from '../arm/versions';
import { useSession } from '../auth/session';
import { mapLimit } from '../concurrency';
import { type Query, useArmQuery } from '../data';
import { type Subscription, selectsMdeTvm, type VaSettingBody } from './subscriptions';

export interface SubscriptionVaStatus {
  subscription: Subscription;
  selectsMdeTvm: boolean;
  /** The list could not be read (e.g. no permission): the status is unknown. */
  error?: string;
}

export interface Progress {
  done: number;
  total: number;
}

const CONCURRENCY = 8;

/** A short cache key for a subscription list (the full list can hold thousands of ids). */
function fingerprint(subscriptions: Subscription[]): string {
  let hash = 0;
  for (const subscription of subscriptions) {
    for (const character of subscription.subscriptionId) hash = (hash * 31 + character.charCodeAt(0)) | 0;
  }
  return `${subscriptions.length}:${hash}`;
}

export function useVaStatuses(subscriptions: Subscription[] | undefined): Query<SubscriptionVaStatus[]> & {
  progress: Progress;
} {
  const session = useSession();
  const [progress, setProgress] = useState<Progress>({ done: 0, total: 0 });
  const key = subscriptions ? `va-status:${fingerprint(subscriptions)}` : null;
  const query = useArmQuery(key, (signal) => {
    setProgress({ done: 0, total: subscriptions!.length });
    return mapLimit(
      subscriptions!,
      CONCURRENCY,
      (subscription) => vaStatusOf(session.client, subscription, signal),
      { signal, onProgress: (done) => setProgress({ done, total: subscriptions!.length }) },
    );
  });
  return { ...query, progress };
}

async function vaStatusOf(
  client: ArmClient,
  subscription: Subscription,
  signal: AbortSignal,
): Promise<SubscriptionVaStatus> {
  try {
    const settings = await client.listAll<VaSettingBody>(
      `/subscriptions/${subscription.subscriptionId}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings`,
      { apiVersion: API.vaSettings, signal },
    );
    return {
      subscription,
      selectsMdeTvm: settings.some(
        (setting) => setting.name.toLowerCase() === 'azureserverssetting' && selectsMdeTvm(setting),
      ),
    };
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    return { subscription, selectsMdeTvm: false, error: (error as Error).message };
  }
}

export interface ConnectorBody {
  id: string;
  name: string;
  location: string;
  etag?: string;
  tags?: Record<string, string>;
  kind?: string;
  properties: {
    hierarchyIdentifier?: string;
    environmentName?: string;
    environmentData?: { environmentType?: string } & Record<string, unknown>;
    offerings?: ({ offeringType: string; description?: string } & Record<string, unknown>)[];
  };
}

export interface ConnectorsOf {
  subscription: Subscription;
  connectors: ConnectorBody[];
  error?: string;
}

export function useConnectors(subscriptions: Subscription[] | undefined): Query<ConnectorsOf[]> & {
  progress: Progress;
} {
  const session = useSession();
  const [progress, setProgress] = useState<Progress>({ done: 0, total: 0 });
  const key = subscriptions ? `connectors:${fingerprint(subscriptions)}` : null;
  const query = useArmQuery(key, (signal) => {
    setProgress({ done: 0, total: subscriptions!.length });
    return mapLimit(
      subscriptions!,
      CONCURRENCY,
      async (subscription): Promise<ConnectorsOf> => {
        try {
          const connectors = await session.client.listAll<ConnectorBody>(
            `/subscriptions/${subscription.subscriptionId}/providers/Microsoft.Security/securityConnectors`,
            { apiVersion: API.securityConnectors, signal },
          );
          return { subscription, connectors };
        } catch (error) {
          if ((error as Error).name === 'AbortError') throw error;
          return { subscription, connectors: [], error: (error as Error).message };
        }
      },
      { signal, onProgress: (done) => setProgress({ done, total: subscriptions!.length }) },
    );
  });
  return { ...query, progress };
}

export type VaType = 'TVM' | 'Qualys';

/** The connector's Defender for Servers offering (`DefenderForServersAws` / `DefenderForServersGcp`). */
export function serversOffering(connector: ConnectorBody): Record<string, unknown> | undefined {
  return connector.properties.offerings?.find((offering) =>
    /^DefenderForServers(Aws|Gcp)$/i.test(offering.offeringType),
  );
}

export function connectorVaProvider(
  connector: ConnectorBody,
): { enabled: boolean; type?: string } | undefined {
  const offering = serversOffering(connector);
  if (!offering) return undefined;
  const va = offering.vaAutoProvisioning as
    | { enabled?: boolean; configuration?: { type?: string } }
    | undefined;
  return { enabled: va?.enabled === true, type: va?.configuration?.type };
}
