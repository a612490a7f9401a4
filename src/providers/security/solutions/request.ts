/**
 * The PUT body of a BYOL solution, as Microsoft's New-ASCVASolution.ps1 sends it at 2015-06-01-preview:
 *
 *   { "Properties": { "Location": "<RG location>", "Template": "qualys.qualysAgent",
 *                     "ProvisioningParameters": "{\"licenseCode\":\"…\",\"publicKey\":\"…\",\"autoUpdate\":false}" } }
 *
 * Member names match in any casing (the script writes them PascalCase, the 2020-01-01 model camelCase);
 * `ProvisioningParameters` is a JSON document serialised into a string, parsed and checked here.
 */
import { errors } from '../../../arm/errors.js';
import {
  expectString,
  isPlainObject,
  jsonSyntaxError,
  objectBody,
  rejectUnknown,
} from '../../../arm/validate.js';
import type { ArmBody } from '../../../store/index.js';
import { AZURE_LOCATIONS, normaliseLocation } from '../../locations.js';
import { BYOL_TEMPLATES, type ByolTemplate, findTemplate, PROVISIONING_PARAMETERS } from './model.js';

export interface SolutionRequest {
  /** Canonical region name; absent when the body names none (the resource group's is then used). */
  location?: string;
  template: ByolTemplate;
  licenseCode: string;
  publicKey?: string;
  autoProvisioning: boolean;
}

const READ_ONLY_PROPERTIES = ['securityFamily', 'protectionStatus', 'provisioningState'];
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The member named `name` in any casing, with the casing the client used. */
function member(object: ArmBody, name: string): { key: string; value: unknown } | undefined {
  const key = Object.keys(object).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : { key, value: object[key] };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value} (${JSON.stringify(value)})`;
}

export function parseSolutionRequest(raw: unknown): SolutionRequest {
  const body = objectBody(raw, 'Properties');
  rejectUnknown(body, ['properties', 'id', 'name', 'type'], 'SecuritySolution');
  const properties = member(body, 'properties');
  if (properties === undefined || properties.value === null) {
    throw errors.invalidRequestContent("Required property 'Properties' not found in JSON. Path ''");
  }
  if (!isPlainObject(properties.value)) {
    throw errors.invalidRequestContent(
      `Cannot deserialize the current JSON value into type 'SecuritySolutionProperties'. Path '${properties.key}'`,
    );
  }
  const props = properties.value;
  for (const name of Object.keys(props)) {
    if (READ_ONLY_PROPERTIES.some((readOnly) => readOnly.toLowerCase() === name.toLowerCase())) {
      throw errors.readOnlyProperty(`${properties.key}.${name}`);
    }
  }
  rejectUnknown(
    props,
    ['location', 'template', 'provisioningParameters'],
    'SecuritySolutionProperties',
    properties.key,
  );

  const supported = BYOL_TEMPLATES.map((candidate) => candidate.template);
  const templateMember = member(props, 'template');
  if (templateMember === undefined || templateMember.value === null) {
    throw errors.securitySolutionTemplateNotSupported(undefined, supported);
  }
  const templateName = expectString(templateMember.value, `${properties.key}.${templateMember.key}`)!;
  const template = findTemplate(templateName);
  if (!template) throw errors.securitySolutionTemplateNotSupported(templateName, supported);

  let location: string | undefined;
  const locationMember = member(props, 'location');
  if (locationMember !== undefined && locationMember.value !== null) {
    const requested = expectString(locationMember.value, `${properties.key}.${locationMember.key}`)!;
    location = normaliseLocation(requested);
    if (!location) {
      throw errors.locationNotAvailableForResourceType(
        requested,
        'Microsoft.Security/locations/securitySolutions',
        AZURE_LOCATIONS,
      );
    }
  }

  const parameters = parseProvisioningParameters(member(props, 'provisioningParameters')?.value);
  for (const required of template.required) {
    if (parameters[required] === undefined)
      throw errors.provisioningParameterMissing(required, template.template);
  }
  const licenseCode = parameters.licenseCode as string;
  if (template.partner === 'rapid7' && !BASE64.test(licenseCode)) {
    throw errors.provisioningParameterInvalid(
      'licenseCode',
      'the base64 of the configuration zip Rapid7 issued',
    );
  }
  return {
    ...(location ? { location } : {}),
    template,
    licenseCode,
    ...(parameters.publicKey !== undefined ? { publicKey: parameters.publicKey as string } : {}),
    autoProvisioning: parameters.autoUpdate === true,
  };
}

/** The members of the JSON object inside the string, by their canonical names, type-checked. */
function parseProvisioningParameters(value: unknown): Partial<Record<string, string | boolean>> {
  if (typeof value !== 'string') {
    throw errors.provisioningParametersNotString(value === undefined ? 'none' : describe(value));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw errors.provisioningParametersNotJson(jsonSyntaxError(value));
  }
  if (!isPlainObject(parsed)) {
    throw errors.provisioningParametersNotJson(`the string holds ${describe(parsed)}.`);
  }
  const found: Partial<Record<string, string | boolean>> = {};
  for (const [key, inner] of Object.entries(parsed)) {
    const name = PROVISIONING_PARAMETERS.find((known) => known.toLowerCase() === key.toLowerCase());
    if (!name) throw errors.provisioningParameterUnknown(key, PROVISIONING_PARAMETERS);
    if (inner === null) continue;
    if (name === 'autoUpdate') {
      if (typeof inner !== 'boolean') throw errors.provisioningParameterInvalid(name, 'true or false');
    } else if (typeof inner !== 'string' || inner.trim() === '') {
      throw errors.provisioningParameterInvalid(name, 'a non-empty string');
    }
    found[name] = inner;
  }
  return found;
}
