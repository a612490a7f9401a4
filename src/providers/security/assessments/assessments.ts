/**
 * The read API of `Microsoft.Security/assessments`, `assessments/subAssessments` and
 * `assessmentMetadata` for the one assessment vaplane computes, ffff0522 on VMs and Arc machines.
 * Decisions are in README.md; those a reader of this file needs:
 * - Any other assessment key, and ffff0522 anywhere but on a VM or Arc machine, is 404.
 * - PUT and DELETE are not served (405): custom and partner assessments (`CustomerManaged`,
 *   `VerifiedPartner` metadata) are not modelled, and ffff0522 is computed, so it cannot be written.
 * - ffff0522 has no sub-assessments: per-vulnerability findings belong to 1195afff…, which the
 *   findings engine will compute. Listing them answers an empty list, getting one 404.
 */
import { type ArmError, errors } from '../../../arm/errors.js';
import { pageReply, pageRequest } from '../../../arm/paging.js';
import type { ArmContext, ArmReply, ResourceTypeDef } from '../../../arm/registry.js';
import { keyOf } from '../../../arm/resourceId.js';
import { existingParentId } from '../../../arm/resourceOps.js';
import { VA_ASSESSMENT_KEY } from '../../../coverage/index.js';
import { loadMachineCoveragePage, loadSubscriptionCoverage, MACHINE_TYPES } from '../coverageContext.js';
import {
  type AssessmentExpand,
  assessmentId,
  computeVaAssessment,
  vaAssessmentBody,
  vaAssessmentFor,
  vaAssessmentMetadataBody,
} from './model.js';

/** Newest first. 2021-06-01 is the swagger in the corpus; the others have its paths in their examples. */
export const ASSESSMENTS_API_VERSIONS = [
  '2023-10-01-preview',
  '2021-06-01',
  '2020-01-01',
  '2019-01-01-preview',
];
export const SUB_ASSESSMENTS_API_VERSIONS = ['2023-10-01-preview', '2019-01-01-preview'];
export const ASSESSMENT_METADATA_API_VERSIONS = ['2021-06-01'];

const EXPANDS: readonly AssessmentExpand[] = ['links', 'metadata'];

/** `$expand=links`, `metadata` or both, comma-separated, in any casing; anything else is a 400. */
function expandOf(ctx: ArmContext): Set<AssessmentExpand> {
  const key = Object.keys(ctx.query).find((name) => name.toLowerCase() === '$expand');
  const value = key === undefined ? undefined : ctx.query[key];
  const expand = new Set<AssessmentExpand>();
  if (value === undefined) return expand;
  for (const item of value.split(',').map((part) => part.trim().toLowerCase())) {
    const known = EXPANDS.find((candidate) => candidate === item);
    if (!known) {
      throw errors.invalidQueryParameter(
        '$expand',
        value,
        "the supported values are 'links' and 'metadata'.",
      );
    }
    expand.add(known);
  }
  return expand;
}

/** The assessment key the request names (`assessments/{key}`), lower-cased: keys are GUIDs. */
function assessmentKeyOf(ctx: ArmContext): string {
  return ctx.parsed.target.names[0]!.toLowerCase();
}

function assessmentNotFound(ctx: ArmContext): ArmError {
  return errors.securityResourceNotFound('Assessment', ctx.parsed.target.names[0]!, ctx.parsed.scope.id);
}

/** The scope is a machine the assessment covers (its existence was checked with the scope). */
function onMachine(ctx: ArmContext): boolean {
  const { scope } = ctx.parsed;
  return scope.kind === 'resource' && MACHINE_TYPES.includes(scope.resourceType ?? '');
}

/** Whether the assessment the request names exists at its scope: ffff0522, at a subscription, group or machine. */
function assessmentListedHere(ctx: ArmContext): boolean {
  return (
    assessmentKeyOf(ctx) === VA_ASSESSMENT_KEY && (ctx.parsed.scope.kind !== 'resource' || onMachine(ctx))
  );
}

async function listAssessments(ctx: ArmContext): Promise<ArmReply> {
  const expand = expandOf(ctx);
  await existingParentId(ctx);
  const now = ctx.services.clock.now();
  const { scope } = ctx.parsed;
  const render = { apiVersion: ctx.apiVersion, expand };
  if (scope.kind === 'resource') {
    const assessment = onMachine(ctx) ? await vaAssessmentFor(ctx.db, keyOf(scope.id), now) : undefined;
    return { status: 200, body: { value: assessment ? [vaAssessmentBody(assessment, render)] : [] } };
  }
  const page = pageRequest(ctx);
  const machines = await loadMachineCoveragePage(ctx.db, {
    subscriptionId: scope.subscriptionId!,
    resourceGroup: scope.resourceGroup,
    after: page.after,
    limit: page.size + 1,
  });
  // Once per page, whatever its size: the context every machine of the subscription shares.
  const subscription = await loadSubscriptionCoverage(ctx.db, scope.subscriptionId!);
  return pageReply(
    ctx,
    page,
    machines,
    (machine) => vaAssessmentBody(computeVaAssessment(machine, subscription, now), render),
    (machine) => machine.key,
  );
}

export const assessmentsType: ResourceTypeDef = {
  namespace: 'Microsoft.Security',
  type: 'assessments',
  apiVersions: ASSESSMENTS_API_VERSIONS,
  scopes: ['subscription', 'resourceGroup', 'resource'],
  async get(ctx) {
    const expand = expandOf(ctx);
    await existingParentId(ctx);
    if (assessmentKeyOf(ctx) !== VA_ASSESSMENT_KEY || !onMachine(ctx)) throw assessmentNotFound(ctx);
    const assessment = await vaAssessmentFor(ctx.db, keyOf(ctx.parsed.scope.id), ctx.services.clock.now());
    if (!assessment) throw assessmentNotFound(ctx);
    return { status: 200, body: vaAssessmentBody(assessment, { apiVersion: ctx.apiVersion, expand }) };
  },
  list: listAssessments,
};

export const subAssessmentsType: ResourceTypeDef = {
  namespace: 'Microsoft.Security',
  type: 'assessments/subAssessments',
  apiVersions: SUB_ASSESSMENTS_API_VERSIONS,
  scopes: ['subscription', 'resourceGroup', 'resource'],
  async get(ctx) {
    await existingParentId(ctx, 0);
    if (!assessmentListedHere(ctx)) throw assessmentNotFound(ctx);
    const name = ctx.parsed.target.names[1]!;
    const parent =
      ctx.parsed.scope.kind === 'resource'
        ? assessmentId(ctx.parsed.scope.id)
        : `${ctx.parsed.scope.id}/providers/Microsoft.Security/assessments/${VA_ASSESSMENT_KEY}`;
    throw errors.securityResourceNotFound('Sub-assessment', name, parent);
  },
  async list(ctx) {
    await existingParentId(ctx, 0);
    if (!assessmentListedHere(ctx)) throw assessmentNotFound(ctx);
    return { status: 200, body: { value: [] } };
  },
};

export const assessmentMetadataType: ResourceTypeDef = {
  namespace: 'Microsoft.Security',
  type: 'assessmentMetadata',
  apiVersions: ASSESSMENT_METADATA_API_VERSIONS,
  scopes: ['tenant', 'subscription'],
  async get(ctx) {
    await existingParentId(ctx);
    const name = ctx.parsed.target.names[0]!;
    if (name.toLowerCase() !== VA_ASSESSMENT_KEY) {
      throw errors.securityResourceNotFound('Assessment metadata', name, ctx.parsed.scope.id || '/');
    }
    return { status: 200, body: vaAssessmentMetadataBody(ctx.parsed.scope.id) };
  },
  async list(ctx) {
    await existingParentId(ctx);
    return { status: 200, body: { value: [vaAssessmentMetadataBody(ctx.parsed.scope.id)] } };
  },
};
