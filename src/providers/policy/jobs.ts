/**
 * Background evaluation. Three triggers, as Azure has them (how-to/get-compliance-data.md):
 * - an assignment is created or updated: an operation recorded in the PUT's transaction evaluates it;
 * - `policyStates/latest/triggerEvaluation`: an operation that evaluates every assignment applying to
 *   the subscription; its `Location` answers 202 until done, then 200 `{"status":"Succeeded"}`;
 * - a resource is written: the subscriptions it was written in are re-evaluated shortly after the
 *   write commits (Azure waits about 15 minutes, `evaluationDelay` for the existence checks; vaplane
 *   waits `RESOURCE_WRITE_DELAY_MS` so a rehearsal does not stall).
 * The first two survive a restart (they are operations); the third is derived state that a full scan
 * recomputes.
 */
import type { LroStyle } from '../../arm/lro.js';
import type { Services } from '../../arm/registry.js';
import { getResource, inTransaction, listResources } from '../../store/index.js';
import { evaluateAssignment, evaluateSubscriptions } from './evaluation.js';
import { ASSIGNMENT_TYPE } from './model.js';

export const EVALUATE_ASSIGNMENT = 'policyinsights.evaluateAssignment';
export const TRIGGER_EVALUATION = 'policyinsights.triggerEvaluation';
const RESOURCE_WRITE_DELAY_MS = 200;

/** `…/providers/Microsoft.PolicyInsights/asyncOperationResults/{id}` on the subscription. */
export const evaluationStyle: LroStyle = {
  resultPath: (operation) =>
    `/subscriptions/${operation.subscriptionId}/providers/Microsoft.PolicyInsights/asyncOperationResults/${operation.id}`,
};

export function registerEvaluationJobs(services: Services): void {
  services.lro.registerKind(EVALUATE_ASSIGNMENT, {
    async complete(db, operation) {
      const assignment = await getResource(db, operation.input.assignmentKey);
      if (assignment?.type === ASSIGNMENT_TYPE)
        await evaluateAssignment(db, assignment, services.clock.now());
      return { final: { status: 200, body: { status: 'Succeeded' } } };
    },
  });
  services.lro.registerKind(TRIGGER_EVALUATION, {
    async complete(db, operation) {
      await evaluateSubscriptions(db, new Set([operation.input.subscriptionId]), services.clock.now());
      return { final: { status: 200, body: { status: 'Succeeded' } } };
    },
  });
  // A write anywhere: re-evaluate soon after it commits. The store does not tell which subscription a
  // write touched, so every subscription with an assignment is re-evaluated, once per quiet period.
  let timer: NodeJS.Timeout | undefined;
  services.onInvalidate((type) => {
    if (type.startsWith('microsoft.policyinsights/') || type === 'microsoft.resources/deployments') return;
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void reevaluateAll(services).catch(() => undefined);
    }, RESOURCE_WRITE_DELAY_MS);
    timer.unref();
  });
}

export async function reevaluateAll(services: Services): Promise<void> {
  await inTransaction(services.store.db, async (tx) => {
    const now = services.clock.now();
    for (const assignment of await listResources(tx, { type: ASSIGNMENT_TYPE, limit: 100_000 })) {
      await evaluateAssignment(tx, assignment, now);
    }
  });
}
