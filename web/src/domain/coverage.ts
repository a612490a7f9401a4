/**
 * A machine's VA coverage as the public API reports it: assessment `ffff0522-…` ("Machines should
 * have a vulnerability assessment solution"). The portal never recomputes coverage; without the
 * assessment it says "Unknown".
 */

export type ProviderKey =
  | 'builtInQualys'
  | 'mdvmAgent'
  | 'mdvmAgentless'
  | 'mdvm'
  | 'byol'
  | 'none'
  | 'unknown';

export const PROVIDER_LABELS: Record<ProviderKey, string> = {
  builtInQualys: 'Built-in Qualys',
  mdvmAgent: 'MDVM agent-based',
  mdvmAgentless: 'MDVM agentless',
  mdvm: 'MDVM',
  byol: 'BYOL partner',
  none: 'None',
  unknown: 'Unknown',
};

/** The chart's order and colours (each passes 3:1 against white for graphics, WCAG 1.4.11). */
export const PROVIDER_ORDER: ProviderKey[] = [
  'builtInQualys',
  'mdvmAgent',
  'mdvmAgentless',
  'mdvm',
  'byol',
  'none',
  'unknown',
];

export const PROVIDER_COLOURS: Record<ProviderKey, string> = {
  builtInQualys: '#b4009e',
  mdvmAgent: '#0f6cbd',
  mdvmAgentless: '#0e7a0d',
  mdvm: '#115ea3',
  byol: '#8a5a00',
  none: '#c50f1f',
  unknown: '#616161',
};

export interface AssessmentBody {
  id: string;
  name: string;
  properties: {
    displayName?: string;
    status: { code: string; cause?: string; description?: string };
    resourceDetails?: { id?: string; Id?: string; source?: string };
    additionalData?: Record<string, unknown>;
  };
}

export interface MachineCoverage {
  provider: ProviderKey;
  status: string;
  cause?: string;
  description?: string;
  /** How the provider covers the machine (`additionalData.method`), when the assessment says. */
  method?: string;
  /** Why, when the assessment says (`additionalData.reason` / `reasons`). */
  reasons: string[];
  /** Whether the legacy Qualys extension is on the machine, when the assessment says. */
  legacyQualys?: boolean;
}

const PROVIDER_NAMES: Record<string, ProviderKey> = {
  builtinqualys: 'builtInQualys',
  mdvmagent: 'mdvmAgent',
  mdvmagentless: 'mdvmAgentless',
  byol: 'byol',
  none: 'none',
};

/** Reads `additionalData` defensively: its members are the provider's to choose. */
function additionalProvider(data: Record<string, unknown> | undefined): ProviderKey | undefined {
  const value = data?.provider ?? data?.vaProvider;
  return typeof value === 'string' ? PROVIDER_NAMES[value.toLowerCase()] : undefined;
}

function reasonsOf(data: Record<string, unknown> | undefined): string[] {
  const reasons = data?.reasons ?? data?.reason;
  if (Array.isArray(reasons))
    return reasons.map((reason) =>
      typeof reason === 'string'
        ? reason
        : String((reason as { message?: unknown }).message ?? JSON.stringify(reason)),
    );
  if (typeof reasons === 'string') return [reasons];
  return [];
}

export function coverageOfAssessment(assessment: AssessmentBody): MachineCoverage {
  const { status, additionalData } = assessment.properties;
  const cause = status.cause?.toLowerCase();
  const fromCause: ProviderKey =
    status.code !== 'Healthy'
      ? 'none'
      : cause === 'default'
        ? 'builtInQualys'
        : cause === 'mdetvm'
          ? 'mdvm'
          : cause === 'byol'
            ? 'byol'
            : 'unknown';
  const legacy = additionalData?.legacyQualysExtensionInstalled;
  return {
    provider: additionalProvider(additionalData) ?? fromCause,
    status: status.code,
    cause: status.cause,
    description: status.description,
    method: typeof additionalData?.method === 'string' ? additionalData.method : undefined,
    reasons: reasonsOf(additionalData),
    legacyQualys: legacy === undefined ? undefined : String(legacy).toLowerCase() === 'true',
  };
}

export const UNKNOWN_COVERAGE: MachineCoverage = { provider: 'unknown', status: 'Unknown', reasons: [] };

/** The resource an assessment is about: its `resourceDetails.id`, else the prefix of its own id. */
export function assessedResourceId(assessment: AssessmentBody): string {
  const details = assessment.properties.resourceDetails;
  const fromDetails = details?.id ?? details?.Id;
  if (fromDetails) return fromDetails;
  const index = assessment.id.toLowerCase().indexOf('/providers/microsoft.security/assessments/');
  return index > 0 ? assessment.id.slice(0, index) : assessment.id;
}
