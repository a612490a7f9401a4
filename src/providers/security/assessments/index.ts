/**
 * `Microsoft.Security/assessments` (with `subAssessments`) and `assessmentMetadata`: the read API of
 * assessment ffff0522, computed from coverage at request time. Other areas (portal, policy,
 * transition) read assessments through `vaAssessmentFor` and `vaAssessmentsForSubscription`.
 */
import type { Registry } from '../../../arm/registry.js';
import { assessmentMetadataType, assessmentsType, subAssessmentsType } from './assessments.js';

export {
  ASSESSMENT_METADATA_API_VERSIONS,
  ASSESSMENTS_API_VERSIONS,
  SUB_ASSESSMENTS_API_VERSIONS,
} from './assessments.js';
export {
  type AssessmentExpand,
  computeVaAssessment,
  VA_ASSESSMENT_DISPLAY_NAME,
  VA_ASSESSMENT_METADATA,
  VA_ASSESSMENT_PORTAL_URI,
  type VaAssessment,
  type VaAssessmentPage,
  vaAssessmentBody,
  vaAssessmentFor,
  vaAssessmentsForSubscription,
} from './model.js';

export function registerAssessments(registry: Registry): void {
  registry.register(assessmentsType);
  registry.register(subAssessmentsType);
  registry.register(assessmentMetadataType);
}
