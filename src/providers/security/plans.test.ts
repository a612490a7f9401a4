import { describe, expect, it } from 'vitest';
import { applyPricingUpdate, findPlan, offeredExtensions } from './plans.js';

const SUBSCRIPTION = '00000000-0000-0000-0000-000000000001';
const NOW = '2026-01-01T00:00:00.000Z';
const servers = findPlan('virtualmachines')!;

describe('pricing rules', () => {
  it('the full plan applies when no sub-plan is named, with its extensions at their defaults', () => {
    const state = applyPricingUpdate({
      plan: servers,
      request: { pricingTier: 'Standard' },
      previous: undefined,
      subscriptionId: SUBSCRIPTION,
      now: NOW,
    });
    expect(state).toEqual({
      pricingTier: 'Standard',
      subPlan: 'P2',
      enablementTime: NOW,
      extensions: [
        { name: 'MdeDesignatedSubscription', isEnabled: 'False' },
        { name: 'AgentlessVmScanning', isEnabled: 'True' },
        { name: 'FileIntegrityMonitoring', isEnabled: 'False' },
      ],
    });
  });

  it('keeps the enablement time and unsent extension states while the plan stays Standard', () => {
    const previous = applyPricingUpdate({
      plan: servers,
      request: { pricingTier: 'Standard', extensions: [{ name: 'AgentlessVmScanning', isEnabled: 'False' }] },
      previous: undefined,
      subscriptionId: SUBSCRIPTION,
      now: NOW,
    });
    const next = applyPricingUpdate({
      plan: servers,
      request: { pricingTier: 'Standard', subPlan: 'P2' },
      previous,
      subscriptionId: SUBSCRIPTION,
      now: '2027-01-01T00:00:00.000Z',
    });
    expect(next.enablementTime).toBe(NOW);
    expect(next.extensions?.find((extension) => extension.name === 'AgentlessVmScanning')?.isEnabled).toBe(
      'False',
    );
  });

  it('Free keeps only the tier and enforce, whatever else was sent', () => {
    expect(
      applyPricingUpdate({
        plan: servers,
        request: {
          pricingTier: 'Free',
          subPlan: 'P9',
          enforce: 'True',
          extensions: [{ name: 'Nope', isEnabled: 'True' }],
        },
        previous: undefined,
        subscriptionId: SUBSCRIPTION,
        now: NOW,
      }),
    ).toEqual({ pricingTier: 'Free', enforce: 'True' });
  });

  it('a plan without sub-plans drops a sent sub-plan', () => {
    const state = applyPricingUpdate({
      plan: findPlan('CloudPosture')!,
      request: { pricingTier: 'Standard', subPlan: 'P2' },
      previous: undefined,
      subscriptionId: SUBSCRIPTION,
      now: NOW,
    });
    expect(state.subPlan).toBeUndefined();
    expect(state.extensions).toHaveLength(5);
  });

  it('offers AgentlessVmScanning on Servers P2 only', () => {
    expect(offeredExtensions(servers, 'P1')).toEqual(['MdeDesignatedSubscription']);
    expect(offeredExtensions(servers, 'P2')).toContain('AgentlessVmScanning');
    expect(() =>
      applyPricingUpdate({
        plan: servers,
        request: {
          pricingTier: 'Standard',
          subPlan: 'P1',
          extensions: [{ name: 'agentlessvmscanning', isEnabled: 'False' }],
        },
        previous: undefined,
        subscriptionId: SUBSCRIPTION,
        now: NOW,
      }),
    ).toThrow(
      "Extension with name 'agentlessvmscanning' is not supported for 'VirtualMachines' plan and 'P1' SubPlan",
    );
  });
});
