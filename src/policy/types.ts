/**
 * The values the policy engine reads and returns. Definitions arrive as the JSON Azure Policy stores
 * (`Microsoft.Authorization/policyDefinitions` `properties`), are compiled once by `compileDefinition`
 * and are then evaluated against resource views any number of times. Nothing here does I/O: the caller
 * fetches resources and related resources and passes them in.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// ─── Definitions (wire shape) ────────────────────────────────────────────────────────────────────

/** Parameter types as Azure Policy spells them; the wire accepts any casing (`string`, `String`). */
export type ParameterType = 'String' | 'Array' | 'Object' | 'Boolean' | 'Integer' | 'Float' | 'DateTime';

export interface PolicyParameterDefinition {
  type: ParameterType;
  metadata?: {
    displayName?: string;
    description?: string;
    strongType?: string;
    [key: string]: JsonValue | undefined;
  };
  allowedValues?: JsonValue[];
  defaultValue?: JsonValue;
}

/** `Indexed` evaluates only resource types that support tags and location (never subscriptions or groups). */
export type PolicyMode = 'All' | 'Indexed';

/** The `properties` of a policy definition, as stored and as Microsoft's built-in files carry them. */
export interface PolicyDefinitionProperties {
  displayName?: string;
  description?: string;
  policyType?: string;
  mode?: string;
  metadata?: JsonObject;
  version?: string;
  versions?: string[];
  parameters?: Record<string, unknown>;
  policyRule: unknown;
}

/**
 * An assignment's parameter values in the ARM wire shape: `{ "effect": { "value": "Disabled" } }`.
 * Names match the definition's case-insensitively.
 */
export type AssignmentParameterValues = Record<string, { value: JsonValue }>;

// ─── Effects ─────────────────────────────────────────────────────────────────────────────────────

/** The effects this engine implements, in Azure's canonical casing (the wire accepts any casing). */
export type Effect = 'Audit' | 'AuditIfNotExists' | 'DeployIfNotExists' | 'Deny' | 'Modify' | 'Disabled';

// ─── What the evaluator reads ────────────────────────────────────────────────────────────────────

/**
 * An ARM resource as its provider returns it on GET (`id`, `name`, `type` always; the rest as the type
 * has them). A subscription is the resource `{ id: "/subscriptions/{id}", name: "{id}", type:
 * "Microsoft.Resources/subscriptions" }` (see `subscriptionResource`).
 */
export interface ArmResource {
  id: string;
  name: string;
  type: string;
  kind?: string;
  location?: string;
  tags?: Record<string, string>;
  identity?: JsonObject;
  properties?: JsonObject;
  [key: string]: JsonValue | undefined;
}

export interface SubscriptionContext {
  subscriptionId: string;
  displayName: string;
  tenantId?: string;
}

export interface ResourceGroupContext {
  name: string;
  location: string;
  tags?: Record<string, string>;
  managedBy?: string;
}

/**
 * A resource plus the context its template functions read: `subscription()` and `resourceGroup()`.
 * `resourceGroup` is absent for resources outside a resource group (subscriptions, subscription-level
 * extension resources such as `Microsoft.Security/pricings`).
 */
export interface ResourceView {
  resource: ArmResource;
  subscription: SubscriptionContext;
  resourceGroup?: ResourceGroupContext;
}

/** What the evaluation may know about the request and the assignment (all optional). */
export interface RequestContext {
  /** `requestContext().apiVersion`: the api-version of the triggering PUT/PATCH, or the latest on a scan. */
  apiVersion?: string;
  /** `requestContext().identity`: claims of the caller (`idtyp`, `appid`, `acrs`). */
  identity?: JsonObject;
}

/** `policy()`: which assignment and definition are being evaluated. */
export interface PolicyInfo {
  assignmentId?: string;
  definitionId?: string;
  setDefinitionId?: string;
  definitionReferenceId?: string;
}
