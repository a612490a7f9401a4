/** Which vulnerability-assessment provider covers a machine, and why: the rules every other area derives from. */
export {
  armFalse,
  armTrue,
  byolPartnerOfTemplate,
  extensionSucceeded,
  isLegacyQualysExtension,
  isMdeExtension,
  isQualysRetired,
  LEGACY_QUALYS_PUBLISHER,
  LEGACY_QUALYS_TYPES,
  MDE_PUBLISHER,
  MDE_TYPES,
  QUALYS_RETIREMENT,
  SECURITY_CONNECTOR_TAG,
  VA_ASSESSMENT_KEY,
} from './catalogue.js';
export {
  describeOs,
  type MdeDeployPath,
  mdeDeployPath,
  mdvmSupport,
  type OsSupport,
  osFromImage,
  osFromName,
} from './operatingSystems.js';
export { coverageOf } from './rules.js';
export type * from './types.js';
