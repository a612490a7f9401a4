/**
 * The one ARM error catalogue. Every error the server can answer is a named entry with its ARM code,
 * HTTP status and message template, worded as Azure words it (see shared/reference/arm-behaviour.md).
 * `gateway` marks errors that Azure's front door produces rather than a resource provider: those carry
 * the `x-ms-failure-cause: gateway` header.
 */
export interface ArmErrorBody {
  code: string;
  message: string;
  target?: string;
  details?: ArmErrorBody[];
  additionalInfo?: { type: string; info: unknown }[];
}

export class ArmError extends Error {
  readonly status: number;
  readonly code: string;
  readonly target?: string;
  readonly details?: ArmErrorBody[];
  readonly additionalInfo?: { type: string; info: unknown }[];
  readonly gateway: boolean;
  readonly headers: Record<string, string>;

  constructor(options: {
    status: number;
    code: string;
    message: string;
    target?: string;
    details?: ArmErrorBody[];
    additionalInfo?: { type: string; info: unknown }[];
    gateway?: boolean;
    headers?: Record<string, string>;
  }) {
    super(options.message);
    this.status = options.status;
    this.code = options.code;
    this.target = options.target;
    this.details = options.details;
    this.additionalInfo = options.additionalInfo;
    this.gateway = options.gateway ?? false;
    this.headers = options.headers ?? {};
  }

  toBody(): { error: ArmErrorBody } {
    const error: ArmErrorBody = { code: this.code, message: this.message };
    if (this.target !== undefined) error.target = this.target;
    if (this.details) error.details = this.details;
    if (this.additionalInfo) error.additionalInfo = this.additionalInfo;
    return { error };
  }
}

const gateway = true;

export const errors = {
  missingApiVersion: () =>
    new ArmError({
      status: 400,
      code: 'MissingApiVersionParameter',
      message: 'The api-version query parameter (?api-version=) is required for all requests.',
      gateway,
    }),
  invalidApiVersion: (requested: string, supported: readonly string[]) =>
    new ArmError({
      status: 400,
      code: 'InvalidApiVersionParameter',
      message: `The api-version '${requested}' is invalid. The supported versions are '${supported.join(',')}'.`,
      gateway,
    }),
  noRegisteredProvider: (o: {
    location: string;
    apiVersion: string;
    type: string;
    apiVersions: readonly string[];
    locations: readonly string[];
  }) =>
    new ArmError({
      status: 400,
      code: 'NoRegisteredProviderFound',
      message: `No registered resource provider found for location '${o.location}' and API version '${o.apiVersion}' for type '${o.type}'. The supported api-versions are '${o.apiVersions.join(', ')}'. The supported locations are '${o.locations.join(', ')}'.`,
      gateway,
    }),
  invalidResourceNamespace: (namespace: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidResourceNamespace',
      message: `The resource namespace '${namespace}' is invalid.`,
      gateway,
    }),
  invalidResourceType: (type: string, namespace: string, apiVersion: string) =>
    new ArmError({
      status: 404,
      code: 'InvalidResourceType',
      message: `The resource type '${type}' could not be found in the namespace '${namespace}' for api version '${apiVersion}'.`,
      gateway,
    }),
  invalidRequestUri: (path: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidRequestUri',
      message: `The request URI '${path}' is not valid. It does not address a resource, a collection or an action that this server knows.`,
      gateway,
    }),
  unsupportedHttpMethod: (method: string) =>
    new ArmError({
      status: 405,
      code: 'MethodNotAllowed',
      message: `The HTTP method '${method}' is not supported. ARM requests use GET, HEAD, PUT, PATCH, DELETE or POST.`,
      gateway,
    }),
  /** A request the HTTP layer refused before ARM could read it (bad framing, headers Node rejects). */
  badRequest: (message: string, status = 400) =>
    new ArmError({ status, code: 'BadRequest', message, gateway }),
  requestTimeout: () =>
    new ArmError({
      status: 408,
      code: 'RequestTimeout',
      message: 'The request was not received completely in time.',
      gateway,
    }),
  requestHeadersTooLarge: () =>
    new ArmError({
      status: 431,
      code: 'RequestHeaderFieldsTooLarge',
      message: 'The request headers exceed the maximum allowed size.',
      gateway,
    }),
  methodNotAllowed: (method: string, type: string) =>
    new ArmError({
      status: 405,
      code: 'MethodNotAllowed',
      message: `The requested method '${method}' is not allowed for resource type '${type}'.`,
      gateway,
    }),
  resourceNotFound: (typeAndName: string, resourceGroup: string) =>
    new ArmError({
      status: 404,
      code: 'ResourceNotFound',
      message: `The Resource '${typeAndName}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      gateway,
    }),
  scopedResourceNotFound: (id: string) =>
    new ArmError({
      status: 404,
      code: 'ResourceNotFound',
      message: `The Resource '${id}' was not found.`,
      gateway,
    }),
  parentResourceNotFound: (parentName: string) =>
    new ArmError({
      status: 404,
      code: 'ParentResourceNotFound',
      message: `Can not perform requested operation on nested resource. Parent resource '${parentName}' not found.`,
      gateway,
    }),
  resourceGroupNotFound: (resourceGroup: string) =>
    new ArmError({
      status: 404,
      code: 'ResourceGroupNotFound',
      message: `Resource group '${resourceGroup}' could not be found.`,
      gateway,
    }),
  subscriptionNotFound: (subscriptionId: string) =>
    new ArmError({
      status: 404,
      code: 'SubscriptionNotFound',
      message: `The subscription '${subscriptionId}' could not be found.`,
      gateway,
    }),
  managementGroupNotFound: (groupId: string) =>
    new ArmError({
      status: 404,
      code: 'NotFound',
      message: `'${groupId}' not found`,
    }),
  invalidSubscriptionId: (value: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidSubscriptionId',
      message: `The provided subscription identifier '${value}' is malformed or invalid.`,
      gateway,
    }),
  invalidResourceGroupName: (value: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidResourceGroup',
      message: `The provided resource group name '${value}' has these invalid characters: ${invalidCharacters(value, /[-\w._()]/u)}. The name can only be a letter, digit, '-', '.', '_', '(', and ')'.`,
      gateway,
    }),
  invalidResourceName: (value: string, type: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidResourceName',
      message: `The resource name '${value}' is invalid for resource type '${type}'.`,
      target: value,
    }),
  authenticationMissing: (authorizationUri: string) =>
    new ArmError({
      status: 401,
      code: 'AuthenticationFailed',
      message: "Authentication failed. The 'Authorization' header is missing.",
      headers: {
        'www-authenticate': `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
      },
      gateway,
    }),
  authenticationMalformed: (authorizationUri: string) =>
    new ArmError({
      status: 401,
      code: 'AuthenticationFailed',
      message: "Authentication failed. The 'Authorization' header is provided in an invalid format.",
      headers: {
        'www-authenticate': `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="The authentication failed because of malformed 'Authorization' header."`,
      },
      gateway,
    }),
  invalidAuthenticationToken: (authorizationUri: string) =>
    new ArmError({
      status: 401,
      code: 'InvalidAuthenticationToken',
      message: 'The access token is invalid.',
      headers: {
        'www-authenticate': `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="The access token is invalid."`,
      },
      gateway,
    }),
  invalidAuthenticationTokenAudience: (
    authorizationUri: string,
    audience: string,
    allowed: readonly string[],
  ) =>
    new ArmError({
      status: 401,
      code: 'InvalidAuthenticationTokenAudience',
      message: `The access token has been obtained for wrong audience or resource '${audience}'. It should exactly match with one of the allowed audiences ${allowed.map((value) => `'${value}'`).join(',')}.`,
      headers: {
        'www-authenticate': `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="The access token has been obtained for wrong audience or resource '${audience}'."`,
      },
      gateway,
    }),
  /** Times as ARM (.NET, invariant culture) prints them: `6/15/2026 8:22:51 AM`. */
  expiredAuthenticationToken: (authorizationUri: string, expiry: Date, now: Date) => {
    const message = `The access token expiry UTC time '${dotNetUtc(expiry)}' is earlier than current UTC time '${dotNetUtc(now)}'.`;
    return new ArmError({
      status: 401,
      code: 'ExpiredAuthenticationToken',
      message,
      headers: {
        'www-authenticate': `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="${message}"`,
      },
      gateway,
    });
  },
  authorizationFailed: (o: { clientId: string; objectId: string; action: string; scope: string }) =>
    new ArmError({
      status: 403,
      code: 'AuthorizationFailed',
      message: `The client '${o.clientId}' with object id '${o.objectId}' does not have authorization to perform action '${o.action}' over scope '${o.scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
      gateway,
    }),
  invalidRequestContent: (detail: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidRequestContent',
      message: `The request content was invalid and could not be deserialized: '${detail}'.`,
      gateway,
    }),
  requestTooLarge: (limitBytes: number) =>
    new ArmError({
      status: 413,
      code: 'RequestEntityTooLarge',
      message: `The request content size exceeds the maximum allowed size of ${limitBytes} bytes.`,
      gateway,
    }),
  unsupportedMediaType: (contentType: string) =>
    new ArmError({
      status: 415,
      code: 'UnsupportedMediaType',
      message: `The content media type '${contentType}' is not supported. Only 'application/json' is supported.`,
      gateway,
    }),
  invalidRequestBody: (message: string, target?: string) =>
    new ArmError({ status: 400, code: 'InvalidRequestContent', message, target }),
  propertyValidation: (message: string, target: string) =>
    new ArmError({ status: 400, code: 'InvalidParameter', message, target }),
  locationRequired: () =>
    new ArmError({
      status: 400,
      code: 'LocationRequired',
      message: 'The location property is required for this definition.',
      target: 'location',
    }),
  preconditionFailed: (message: string) => new ArmError({ status: 412, code: 'PreconditionFailed', message }),
  conflict: (code: string, message: string) => new ArmError({ status: 409, code, message }),
  operationNotAllowed: (message: string) =>
    new ArmError({ status: 409, code: 'OperationNotAllowed', message }),
  invalidQueryParameter: (name: string, value: string, reason: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidQueryParameterValue',
      message: `The query parameter '${name}' has an invalid value '${value}': ${reason}`,
      target: name,
    }),
  /** ARM's token-bucket wording; `actor` is `{subscription}:{principal object id}`. */
  tooManyRequests: (retryAfterSeconds: number, kind: 'read' | 'write' | 'delete', actor: string) =>
    new ArmError({
      status: 429,
      code: 'SubscriptionRequestsThrottled',
      message: `Number of '${kind}' requests for subscription actor '${actor}' exceeded. Please try again after '${retryAfterSeconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`,
      headers: { 'retry-after': String(retryAfterSeconds) },
      gateway,
    }),
  missingRequiredParameter: (name: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidParameter',
      message: `Required parameter '${name}' is missing (null).`,
      target: name,
    }),
  propertyChangeNotAllowed: (property: string) =>
    new ArmError({
      status: 409,
      code: 'PropertyChangeNotAllowed',
      message: `Changing property '${property}' is not allowed.`,
      target: property,
    }),
  invalidResourceLocation: (o: {
    name: string;
    existing: string;
    resourceGroup: string;
    requested: string;
  }) =>
    new ArmError({
      status: 409,
      code: 'InvalidResourceLocation',
      message: `The resource '${o.name}' already exists in location '${o.existing}' in resource group '${o.resourceGroup}'. A resource with the same name cannot be created in location '${o.requested}'. Please select a new resource name.`,
      gateway,
    }),
  locationNotAvailableForResourceType: (location: string, type: string, locations: readonly string[]) =>
    new ArmError({
      status: 400,
      code: 'LocationNotAvailableForResourceType',
      message: `The provided location '${location}' is not available for resource type '${type}'. List of available regions for the resource type is '${locations.join(',')}'.`,
      gateway,
    }),
  // Microsoft.Compute: RP errors (no x-ms-failure-cause), worded as Compute's error catalogue words them.
  vmNotRunningForExtensions: () =>
    new ArmError({
      status: 409,
      code: 'OperationNotAllowed',
      message: 'Cannot modify extensions in the VM when the VM is not running.',
    }),
  vmExtensionOperationsDisallowed: () =>
    new ArmError({
      status: 409,
      code: 'OperationNotAllowed',
      message:
        'This operation cannot be performed when extension operations are disallowed. To allow, please ensure VM Agent is installed on the VM and the osProfile.allowExtensionOperations property is true.',
    }),
  vmExtensionMarkedForDeletion: (operation: string, extension: string) =>
    new ArmError({
      status: 409,
      code: 'OperationNotAllowed',
      message: `Operation '${operation}' is not allowed on VM extension '${extension}' since it is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).`,
    }),
  /** Worded after the extension variant above: Compute's text for a VM being deleted was not recorded. */
  vmMarkedForDeletion: (operation: string, vm: string) =>
    new ArmError({
      status: 409,
      code: 'OperationNotAllowed',
      message: `Operation '${operation}' is not allowed on VM '${vm}' since it is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).`,
    }),
  vmDeallocated: (operation: string, vm: string) =>
    new ArmError({
      status: 409,
      code: 'OperationNotAllowed',
      message: `Operation '${operation}' is not allowed on VM '${vm}' since the VM is either deallocated or marked to be deallocated.`,
    }),
  vmMustBeRunning: () =>
    new ArmError({
      status: 409,
      code: 'OperationNotAllowed',
      message: 'The operation requires the VM to be running (or set to run).',
    }),
  // Microsoft.HybridCompute
  /** The error a queued extension operation fails with when the Arc agent is not connected (vaplane's wording). */
  arcMachineNotConnected: (machine: string, status: string) =>
    new ArmError({
      status: 409,
      code: 'MachineNotConnected',
      message: `The machine '${machine}' is disconnected (status '${status}'): extension operations need the Azure Connected Machine agent to be connected. Reconnect the agent and retry the operation.`,
    }),
  // Microsoft.Security: RP errors (no x-ms-failure-cause). The RP's recorded input-validation code is
  // `InvalidInputJson` (Azure-Landing-Zones#1678); deprecated sub-plans answer `InvalidInputError`.
  /** RP-defined names (plans, settings, setting kinds) with the names the type supports. */
  unsupportedResourceName: (value: string, type: string, supported: readonly string[]) =>
    new ArmError({
      status: 400,
      code: 'InvalidResourceName',
      message: `The resource name '${value}' is invalid for resource type '${type}'. The supported names are '${supported.join(', ')}'.`,
      target: value,
    }),
  /** Worded after the RP's recorded secure-score 404 (`Secure score '{name}' does not exist in scope '{subscriptionId}'`). */
  securityResourceNotFound: (what: string, name: string, scope: string) =>
    new ArmError({
      status: 404,
      code: 'ResourceNotFound',
      message: `${what} '${name}' does not exist in scope '${scope}'`,
    }),
  bodyNameMismatch: (member: 'name' | 'id', sent: string, expected: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `The ${member} '${sent}' in the request body does not match the ${member} '${expected}' of the request URI.`,
      target: member,
    }),
  readOnlyProperty: (path: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `The property '${path}' is read-only and cannot be set in a request. Remove it from the request body.`,
      target: path,
    }),
  settingKindMismatch: (name: string, expected: string, sent: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `The setting '${name}' is of kind '${expected}'; the request body has kind '${sent}'.`,
      target: 'kind',
    }),
  /** Azure's wording, recorded in Azure-Landing-Zones#1678 (without a sub-plan for plans that have none). */
  pricingExtensionNotSupported: (extension: string, plan: string, subPlan: string | undefined) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message:
        subPlan === undefined
          ? `Extension with name '${extension}' is not supported for '${plan}' plan`
          : `Extension with name '${extension}' is not supported for '${plan}' plan and '${subPlan}' SubPlan`,
      target: 'properties.extensions',
    }),
  pricingExtensionRepeated: (extension: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `Extension with name '${extension}' appears more than once in the request.`,
      target: 'properties.extensions',
    }),
  pricingSubPlanNotSupported: (subPlan: string, plan: string, supported: readonly string[]) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `SubPlan '${subPlan}' is not supported for '${plan}' plan. The supported sub plans are '${supported.join(', ')}'.`,
      target: 'properties.subPlan',
    }),
  pricingSubPlanRequired: (plan: string, supported: readonly string[]) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `The '${plan}' plan requires a SubPlan when its pricing tier is 'Standard'. The supported sub plans are '${supported.join(', ')}'.`,
      target: 'properties.subPlan',
    }),
  /** Azure's wording, quoted in Azure/Azure-Landing-Zones#4203 (KeyVaults `PerTransaction`, Arm `PerApiCall`). */
  deprecatedSubPlan: (subPlan: string, plan: string, subscriptionId: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputError',
      message: `Failed to enable the '${subPlan}' sub plan on the '${plan}' plan for subscription '${subscriptionId}' - this sub plan is deprecated and is no longer available for new subscriptions or for re-enabling after migrating away from it. Subscriptions already using it can continue. Please migrate to a supported sub plan.`,
      target: 'properties.subPlan',
    }),
  // Legacy per-machine serverVulnerabilityAssessments and BYOL securitySolutions: vaplane's wording
  // (no RP text for these refusals is on record).
  /** `default` onboards the built-in Qualys scanner, which retired on `retiredOn` (§11 timeline). */
  qualysRetired: (retiredOn: string) =>
    new ArmError({
      status: 400,
      code: 'QualysRetired',
      message: `The built-in vulnerability assessment powered by Qualys was retired on ${retiredOn}: no machine can be onboarded to it ('serverVulnerabilityAssessments/default') any more. Use Microsoft Defender Vulnerability Management (MDVM): set 'Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting' to selectedProvider 'MdeTvm' on the subscription, or onboard this machine with 'serverVulnerabilityAssessments/mdeTvm'.`,
    }),
  qualysNeedsServersPlan2: (machine: string, plan: string, subscriptionId: string) =>
    new ArmError({
      status: 400,
      code: 'DefenderForServersPlan2Required',
      message: `The built-in vulnerability assessment powered by Qualys requires Microsoft Defender for Servers Plan 2; machine '${machine}' is on ${plan === 'Free' ? 'no Defender for Servers plan (Free)' : `Defender for Servers ${plan}`} ('Microsoft.Security/pricings/VirtualMachines' of subscription '${subscriptionId}' and the machine). Enable Standard with sub plan P2, or onboard the machine to MDVM with 'serverVulnerabilityAssessments/mdeTvm'.`,
    }),
  serverVulnerabilityAssessmentBusy: (name: string, machine: string, state: string) =>
    new ArmError({
      status: 409,
      code: 'Conflict',
      message: `The server vulnerability assessment '${name}' on '${machine}' is ${state}. Wait for the running operation to finish (poll its Location), then retry.`,
    }),
  /** A request method that only one of a type's api-versions serves (BYOL solutions are written at 2015-06-01-preview only). */
  apiVersionNotForMethod: (requested: string, method: string, type: string, supported: readonly string[]) =>
    new ArmError({
      status: 400,
      code: 'InvalidApiVersionParameter',
      message: `The api-version '${requested}' is invalid for ${method} on resource type '${type}'. The supported versions are '${supported.join(',')}'.`,
    }),
  securitySolutionNeedsResourceGroup: () =>
    new ArmError({
      status: 400,
      code: 'ResourceGroupRequired',
      message:
        "A BYOL vulnerability assessment solution lives in a resource group: address it as '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Security/locations/{ascLocation}/securitySolutions/{name}'. Deleting that resource group later removes the solution.",
    }),
  securitySolutionTemplateNotSupported: (template: string | undefined, supported: readonly string[]) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `${template === undefined ? "The request has no 'Properties.Template'." : `The template '${template}' is not a BYOL vulnerability assessment template.`} The supported templates are '${supported.join(', ')}'.`,
      target: 'properties.template',
    }),
  provisioningParametersNotString: (sent: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `'Properties.ProvisioningParameters' must be a string that holds a JSON object, such as "{\\"licenseCode\\":\\"...\\",\\"publicKey\\":\\"...\\",\\"autoUpdate\\":false}"; the request sends ${sent}.`,
      target: 'properties.provisioningParameters',
    }),
  provisioningParametersNotJson: (detail: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `'Properties.ProvisioningParameters' is not a JSON object: ${detail}`,
      target: 'properties.provisioningParameters',
    }),
  provisioningParameterMissing: (parameter: string, template: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `'Properties.ProvisioningParameters' has no '${parameter}', which the template '${template}' requires.`,
      target: `properties.provisioningParameters.${parameter}`,
    }),
  provisioningParameterInvalid: (parameter: string, expected: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `'${parameter}' in 'Properties.ProvisioningParameters' must be ${expected}.`,
      target: `properties.provisioningParameters.${parameter}`,
    }),
  provisioningParameterUnknown: (parameter: string, known: readonly string[]) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `'Properties.ProvisioningParameters' has an unknown member '${parameter}'. The known members are '${known.join(', ')}'.`,
      target: `properties.provisioningParameters.${parameter}`,
    }),
  /** "Only one solution can be created per license" (New-ASCVASolution.ps1). */
  /** `solutionId` only when the caller's own subscription holds the other solution. */
  securitySolutionLicenseInUse: (solutionId: string | undefined) =>
    new ArmError({
      status: 409,
      code: 'LicenseAlreadyInUse',
      message: `The license code is already used by ${solutionId === undefined ? 'another security solution' : `the security solution '${solutionId}'`}. Only one solution can be created per license.`,
    }),
  securitySolutionNameInUse: (name: string, solutionId: string) =>
    new ArmError({
      status: 409,
      code: 'SecuritySolutionAlreadyExists',
      message: `A security solution named '${name}' already exists in this subscription ('${solutionId}'). Choose another name, or delete that solution first.`,
    }),
  securitySolutionChangeNotAllowed: (name: string, member: string) =>
    new ArmError({
      status: 409,
      code: 'PropertyChangeNotAllowed',
      message: `The security solution '${name}' exists with another ${member}; a solution's template and license cannot change. Delete it and create it again.`,
      target: member === 'template' ? 'properties.template' : 'properties.provisioningParameters.licenseCode',
    }),
  resourcePricingPlanNotSupported: (plan: string) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `Pricing at resource level is supported only for the 'VirtualMachines' plan; the '${plan}' plan can be set at subscription level only.`,
    }),
  resourcePricingSubPlanNotSupported: (subPlan: string | undefined) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `Pricing at resource level supports only the 'P1' sub plan of the 'VirtualMachines' plan; the request ${subPlan === undefined ? 'names no sub plan (which applies the full plan, P2)' : `names '${subPlan}'`}.`,
      target: 'properties.subPlan',
    }),
  resourcePricingEnforce: () =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: "The 'enforce' property is available for subscription-level pricing only.",
      target: 'properties.enforce',
    }),
  pricingEnforced: (plan: string, enforcedBy: string) =>
    new ArmError({
      status: 409,
      code: 'OperationNotAllowed',
      message: `The pricing of the '${plan}' plan is enforced by '${enforcedBy}' (enforce = 'True'), so it cannot be overridden on this resource.`,
    }),
  // Security connectors: vaplane's wording (the RP's own connector-validation texts were not recorded).
  connectorEnvironmentMismatch: (
    environmentName: string,
    environmentType: string,
    expected: string | undefined,
  ) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message:
        expected === undefined
          ? `A security connector with environmentName '${environmentName}' has no environment data; the request sends environmentType '${environmentType}'.`
          : `A security connector with environmentName '${environmentName}' needs environmentType '${expected}'; the request sends '${environmentType}'.`,
      target: 'properties.environmentData.environmentType',
    }),
  connectorOfferingNotForEnvironment: (offeringType: string, environmentName: string, index: number) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `The offering '${offeringType}' cannot be used on a security connector with environmentName '${environmentName}'.`,
      target: `properties.offerings[${index}].offeringType`,
    }),
  connectorOfferingRepeated: (offeringType: string, index: number) =>
    new ArmError({
      status: 400,
      code: 'InvalidInputJson',
      message: `The offering '${offeringType}' appears more than once in the request.`,
      target: `properties.offerings[${index}]`,
    }),
  /** vaplane's wording: Arc's own text for a change to an extension that is being deleted was not recorded. */
  arcExtensionBeingDeleted: (extension: string) =>
    new ArmError({
      status: 409,
      code: 'Conflict',
      message: `The extension '${extension}' is being deleted. Wait for the delete operation to complete before changing it.`,
    }),
  internal: () =>
    new ArmError({
      status: 500,
      code: 'InternalServerError',
      message: 'The server encountered an internal error. Please retry the request.',
    }),
};

function dotNetUtc(date: Date): string {
  const hours = date.getUTCHours();
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getUTCMonth() + 1}/${date.getUTCDate()}/${date.getUTCFullYear()} ${hours % 12 || 12}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${hours < 12 ? 'AM' : 'PM'}`;
}

function invalidCharacters(value: string, allowed: RegExp): string {
  const bad = [...new Set([...value].filter((ch) => !allowed.test(ch)))];
  return bad.map((ch) => `'${ch}'`).join(', ');
}
