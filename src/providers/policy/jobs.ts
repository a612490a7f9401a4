/**
 * Background evaluation. Three triggers, as Azure has them (how-to/get-compliance-data.md), each a
 * durable operation recorded in the transaction of the request that causes it, so each survives a
 * restart:
 * - an assignment is created or updated: `EVALUATE_ASSIGNMENT` evaluates that assignment alone;
 * - `policyStates/latest/triggerEvaluation`: `TRIGGER_EVALUATION` evaluates every assignment applying
 *   to the subscription; its `Location` answers 202 until done, then 200 `{"status":"Succeeded"}`;
 * - a resource is written: `EVALUATE_WRITE` evaluates what the write can change, after the policy's
 *   delay (`triggers.ts`).
 */
import type { LroStyle } from '../../arm/lro.js';
import type { Services } from '../../arm/registry.js';
import { getResource } from '../../store/index.js';
import { evaluateAssignment, evaluateSubscriptions } from './evaluation.js';
import { ASSIGNMENT_TYPE } from './model.js';
import { createWriteTriggers, EVALUATE_WRITE } from './triggers.js';

export const EVALUATE_ASSIGNMENT = 'policyinsights.evaluateAssignment';
export const TRIGGER_EVALUATION = 'policyinsights.triggerEvaluation';

/** `…/providers/Microsoft.PolicyInsights/asyncOperationResults/{id}` on the subscription. */
export const evaluationStyle: LroStyle = {
  resultPath: (operation) =>
    `/subscriptions/${operation.subscriptionId}/providers/Microsoft.PolicyInsights/asyncOperationResults/${operation.id}`,
};

export function registerEvaluationJobs(services: Services, options: { evaluationDelayMs: number }): void {
  services.lro.registerKind(EVALUATE_ASSIGNMENT, {
    leavesTargetUnchanged: true,
    async complete(db, operation) {
      const assignment = await getResource(db, operation.input.assignmentKey);
      if (assignment?.type === ASSIGNMENT_TYPE)
        await evaluateAssignment(db, assignment, services.clock.now());
      return { final: { status: 200, body: { status: 'Succeeded' } } };
    },
  });
  services.lro.registerKind(TRIGGER_EVALUATION, {
    leavesTargetUnchanged: true,
    async complete(db, operation) {
      await evaluateSubscriptions(db, new Set([operation.input.subscriptionId]), services.clock.now());
      return { final: { status: 200, body: { status: 'Succeeded' } } };
    },
  });
  const triggers = createWriteTriggers(services, options.evaluationDelayMs);
  services.lro.registerKind(EVALUATE_WRITE, {
    leavesTargetUnchanged: true,
    async complete(db, operation) {
      await triggers.evaluate(db, operation);
      return { final: { status: 200, body: { status: 'Succeeded' } } };
    },
  });
  services.afterWrite.push(triggers.record);
}
