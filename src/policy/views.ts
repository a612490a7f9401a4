/** Builders for the resource views callers hand to the evaluator. */
import type { ArmResource, ResourceGroupContext, ResourceView, SubscriptionContext } from './types.js';

/**
 * A subscription as the resource DeployIfNotExists definitions on `Microsoft.Resources/subscriptions`
 * evaluate. `GET /subscriptions/{id}` carries no `name`; like Resource Graph's `resourcecontainers`, the
 * view names the subscription by its display name.
 */
export function subscriptionView(subscription: SubscriptionContext): ResourceView {
  return {
    resource: {
      id: `/subscriptions/${subscription.subscriptionId}`,
      name: subscription.displayName,
      type: 'Microsoft.Resources/subscriptions',
      properties: { subscriptionId: subscription.subscriptionId, displayName: subscription.displayName },
    },
    subscription,
  };
}

/** A resource in a resource group (or at subscription level when `resourceGroup` is omitted). */
export function resourceView(
  resource: ArmResource,
  subscription: SubscriptionContext,
  resourceGroup?: ResourceGroupContext,
): ResourceView {
  return resourceGroup ? { resource, subscription, resourceGroup } : { resource, subscription };
}
