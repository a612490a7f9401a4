import { describe, expect, it } from 'vitest';
import { ArmError } from './errors.js';
import { enclosingScopes, keyOf, parseArmPath } from './resourceId.js';

const SUB = '11111111-2222-4333-8444-555555555555';
const RG = `/subscriptions/${SUB}/resourceGroups/rg1`;
const VM = `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`;
const MG = '/providers/Microsoft.Management/managementGroups/mg1';

function armErrorOf(path: string): { status: number; code: string; message: string; gateway: boolean } {
  try {
    parseArmPath(path);
  } catch (error) {
    expect(error).toBeInstanceOf(ArmError);
    const { status, code, message, gateway } = error as ArmError;
    return { status, code, message, gateway };
  }
  throw new Error(`${path} parsed without an error`);
}

describe('parseArmPath: scopes', () => {
  it('a management group is a tenant-level resource of Microsoft.Management', () => {
    expect(parseArmPath(MG)).toEqual({
      path: MG,
      scope: { kind: 'tenant', id: '' },
      target: { namespace: 'Microsoft.Management', types: ['managementGroups'], names: ['mg1'] },
    });
  });

  it('an extension resource on a management group has the group as its scope', () => {
    const parsed = parseArmPath(`${MG}/providers/Microsoft.Authorization/roleAssignments/ra1`);
    expect(parsed.scope).toEqual({
      kind: 'managementGroup',
      id: MG,
      subscriptionId: undefined,
      resourceGroup: undefined,
      resourceType: 'microsoft.management/managementgroups',
      managementGroup: 'mg1',
    });
    expect(parsed.target).toEqual({
      namespace: 'Microsoft.Authorization',
      types: ['roleAssignments'],
      names: ['ra1'],
    });
  });

  it('a tenant-level extension resource (role assignment at /) has the tenant as its scope', () => {
    const parsed = parseArmPath('/providers/Microsoft.Authorization/roleAssignments/ra1');
    expect(parsed.scope).toEqual({ kind: 'tenant', id: '' });
    expect(parsed.target.namespace).toBe('Microsoft.Authorization');
  });

  it('a subscription is Microsoft.Resources/subscriptions at the tenant', () => {
    expect(parseArmPath(`/subscriptions/${SUB}`)).toEqual({
      path: `/subscriptions/${SUB}`,
      scope: { kind: 'tenant', id: '' },
      target: { namespace: 'Microsoft.Resources', types: ['subscriptions'], names: [SUB] },
    });
  });

  it('a resource group is Microsoft.Resources/resourceGroups at its subscription', () => {
    expect(parseArmPath(RG)).toEqual({
      path: RG,
      scope: { kind: 'subscription', id: `/subscriptions/${SUB}`, subscriptionId: SUB },
      target: { namespace: 'Microsoft.Resources', types: ['resourceGroups'], names: ['rg1'] },
    });
  });

  it('a resource in a resource group has the group as its scope', () => {
    expect(parseArmPath(VM)).toEqual({
      path: VM,
      scope: { kind: 'resourceGroup', id: RG, subscriptionId: SUB, resourceGroup: 'rg1' },
      target: { namespace: 'Microsoft.Compute', types: ['virtualMachines'], names: ['vm1'] },
    });
  });

  it('a nested child resource carries every type and name below the namespace', () => {
    const parsed = parseArmPath(`${VM}/extensions/ext1`);
    expect(parsed.scope.kind).toBe('resourceGroup');
    expect(parsed.target).toEqual({
      namespace: 'Microsoft.Compute',
      types: ['virtualMachines', 'extensions'],
      names: ['vm1', 'ext1'],
    });
  });

  it('an extension resource on a resource has the resource as its scope', () => {
    const parsed = parseArmPath(`${VM}/providers/Microsoft.Security/serverVulnerabilityAssessments/default`);
    expect(parsed.scope).toEqual({
      kind: 'resource',
      id: VM,
      subscriptionId: SUB,
      resourceGroup: 'rg1',
      resourceType: 'microsoft.compute/virtualmachines',
    });
    expect(parsed.target).toEqual({
      namespace: 'Microsoft.Security',
      types: ['serverVulnerabilityAssessments'],
      names: ['default'],
    });
  });

  it('an extension resource on a nested child resource has the child as its scope', () => {
    const parsed = parseArmPath(`${VM}/extensions/ext1/providers/Microsoft.Security/assessments/a1`);
    expect(parsed.scope.id).toBe(`${VM}/extensions/ext1`);
    expect(parsed.scope.resourceType).toBe('microsoft.compute/virtualmachines/extensions');
  });

  it('a subscription-level provider resource has the subscription as its scope', () => {
    const parsed = parseArmPath(
      `/subscriptions/${SUB}/providers/Microsoft.Security/pricings/VirtualMachines`,
    );
    expect(parsed.scope).toEqual({ kind: 'subscription', id: `/subscriptions/${SUB}`, subscriptionId: SUB });
    expect(parsed.target).toEqual({
      namespace: 'Microsoft.Security',
      types: ['pricings'],
      names: ['VirtualMachines'],
    });
  });
});

describe('parseArmPath: collections, actions and ARM-level paths', () => {
  it('a collection has one name fewer than types', () => {
    expect(parseArmPath(`${RG}/providers/Microsoft.Compute/virtualMachines`).target).toEqual({
      namespace: 'Microsoft.Compute',
      types: ['virtualMachines'],
      names: [],
    });
    expect(parseArmPath(`${VM}/extensions`).target).toEqual({
      namespace: 'Microsoft.Compute',
      types: ['virtualMachines', 'extensions'],
      names: ['vm1'],
    });
    expect(parseArmPath(`/subscriptions/${SUB}/resourceGroups`).target).toEqual({
      namespace: 'Microsoft.Resources',
      types: ['resourceGroups'],
      names: [],
    });
    expect(parseArmPath('/subscriptions').target).toEqual({
      namespace: 'Microsoft.Resources',
      types: ['subscriptions'],
      names: [],
    });
    expect(parseArmPath('/providers/Microsoft.Management/managementGroups').target.names).toEqual([]);
  });

  it('an action on a resource parses like a child collection: the registry tells them apart', () => {
    expect(parseArmPath(`${VM}/start`).target).toEqual({
      namespace: 'Microsoft.Compute',
      types: ['virtualMachines', 'start'],
      names: ['vm1'],
    });
  });

  it("ARM's own subscription- and tenant-level paths belong to Microsoft.Resources", () => {
    expect(parseArmPath(`/subscriptions/${SUB}/operationresults/op1`)).toMatchObject({
      scope: { kind: 'subscription' },
      target: { namespace: 'Microsoft.Resources', types: ['operationresults'], names: ['op1'] },
    });
    expect(parseArmPath('/tenants').target).toEqual({
      namespace: 'Microsoft.Resources',
      types: ['tenants'],
      names: [],
    });
    expect(parseArmPath(`/subscriptions/${SUB}/providers`).target).toEqual({
      namespace: 'Microsoft.Resources',
      types: ['providers'],
      names: [],
    });
    expect(parseArmPath(`/subscriptions/${SUB}/providers/Microsoft.Security`).target).toEqual({
      namespace: 'Microsoft.Resources',
      types: ['providers'],
      names: ['Microsoft.Security'],
    });
  });

  it('register on a provider namespace is an action on the registration', () => {
    expect(parseArmPath(`/subscriptions/${SUB}/providers/Microsoft.Security/register`).target).toEqual({
      namespace: 'Microsoft.Resources',
      types: ['providers', 'register'],
      names: ['Microsoft.Security'],
    });
    expect(parseArmPath(`${RG}/providers/Microsoft.Security/register`).target).toEqual({
      namespace: 'Microsoft.Security',
      types: ['register'],
      names: [],
    });
  });

  it('a resource named like a keyword stays a name', () => {
    const group = parseArmPath(
      `/subscriptions/${SUB}/resourceGroups/providers/providers/Microsoft.Compute/virtualMachines/providers`,
    );
    expect(group.scope).toMatchObject({ kind: 'resourceGroup', resourceGroup: 'providers' });
    expect(group.target).toEqual({
      namespace: 'Microsoft.Compute',
      types: ['virtualMachines'],
      names: ['providers'],
    });
    const child = parseArmPath(`${RG}/providers/Microsoft.Compute/virtualMachines/providers/extensions/e1`);
    expect(child.target.names).toEqual(['providers', 'e1']);
  });
});

describe('parseArmPath: spelling', () => {
  it('collapses duplicate slashes and drops a trailing slash', () => {
    const parsed = parseArmPath(
      `//subscriptions//${SUB}///resourceGroups/rg1//providers/Microsoft.Compute/virtualMachines/vm1/`,
    );
    expect(parsed.path).toBe(VM);
    expect(parsed.target.names).toEqual(['vm1']);
  });

  it('decodes percent-encoded segments', () => {
    const parsed = parseArmPath(`/subscriptions/${SUB}/resourceGroups/my_rg%28x%29`);
    expect(parsed.target.names).toEqual(['my_rg(x)']);
    expect(parseArmPath(`${RG}/providers/Microsoft.Compute/virtualMachines/vm%2D1`).target.names).toEqual([
      'vm-1',
    ]);
  });

  it('matches keywords in any casing and keeps the caller casing of every segment', () => {
    const parsed = parseArmPath(
      `/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourcegroups/RG1/PROVIDERS/microsoft.security/securityconnectors/c1`,
    );
    expect(parsed.scope).toEqual({
      kind: 'resourceGroup',
      id: `/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourcegroups/RG1`,
      subscriptionId: SUB.toUpperCase(),
      resourceGroup: 'RG1',
    });
    expect(parsed.target).toEqual({
      namespace: 'microsoft.security',
      types: ['securityconnectors'],
      names: ['c1'],
    });
  });
});

describe('parseArmPath: malformed ids', () => {
  it('a subscription id that is not a GUID is InvalidSubscriptionId', () => {
    expect(armErrorOf('/subscriptions/not-a-guid/resourceGroups/rg1')).toEqual({
      status: 400,
      code: 'InvalidSubscriptionId',
      message: "The provided subscription identifier 'not-a-guid' is malformed or invalid.",
      gateway: true,
    });
    expect(armErrorOf(`/subscriptions/${SUB}x`).code).toBe('InvalidSubscriptionId');
  });

  it('a resource group name with characters ARM refuses is InvalidResourceGroup naming them', () => {
    expect(armErrorOf(`/subscriptions/${SUB}/resourceGroups/bad%20name*`)).toEqual({
      status: 400,
      code: 'InvalidResourceGroup',
      message:
        "The provided resource group name 'bad name*' has these invalid characters: ' ', '*'. The name can only be a letter, digit, '-', '.', '_', '(', and ')'.",
      gateway: true,
    });
    expect(armErrorOf(`/subscriptions/${SUB}/resourceGroups/${'r'.repeat(91)}`).code).toBe(
      'InvalidResourceGroup',
    );
  });

  it('a dangling providers or namespace below a resource group or resource is InvalidRequestUri', () => {
    for (const path of [
      `${RG}/providers`,
      `${RG}/providers/Microsoft.Compute`,
      `${VM}/providers`,
      `${VM}/providers/Microsoft.Security`,
    ]) {
      expect(armErrorOf(path)).toMatchObject({ status: 400, code: 'InvalidRequestUri' });
    }
  });

  it('a segment that is neither resourceGroups nor providers below a resource group is InvalidRequestUri', () => {
    expect(armErrorOf(`${RG}/virtualMachines/vm1`)).toEqual({
      status: 400,
      code: 'InvalidRequestUri',
      message: `The request URI '${RG}/virtualMachines/vm1' is not valid. It does not address a resource, a collection or an action that this server knows.`,
      gateway: true,
    });
  });

  it('an empty path, a broken percent-encoding and an encoded slash are InvalidRequestUri', () => {
    expect(armErrorOf('/').code).toBe('InvalidRequestUri');
    expect(armErrorOf('//').code).toBe('InvalidRequestUri');
    expect(armErrorOf(`${RG}/providers/Microsoft.Compute/virtualMachines/vm%zz`).code).toBe(
      'InvalidRequestUri',
    );
    expect(armErrorOf(`${RG}/providers/Microsoft.Compute/virtualMachines/a%2Fb`).code).toBe(
      'InvalidRequestUri',
    );
  });
});

describe('keyOf and enclosingScopes', () => {
  it('keyOf lower-cases and collapses slashes without decoding', () => {
    expect(keyOf(`//Subscriptions/${SUB.toUpperCase()}/ResourceGroups/RG1/`)).toBe(
      `/subscriptions/${SUB}/resourcegroups/rg1`,
    );
    expect(keyOf('/')).toBe('/');
    expect(keyOf(`${RG}/providers/Microsoft.Compute/virtualMachines/a%41`)).toBe(
      `${RG}/providers/microsoft.compute/virtualmachines/a%41`.toLowerCase(),
    );
  });

  it('lists every enclosing scope outermost first, skipping provider namespaces', () => {
    expect(enclosingScopes(`${VM}/extensions/ext1`)).toEqual([
      '/',
      `/subscriptions/${SUB}`,
      RG,
      VM,
      `${VM}/extensions/ext1`,
    ]);
    expect(
      enclosingScopes(`${VM}/providers/Microsoft.Security/serverVulnerabilityAssessments/default`),
    ).toEqual([
      '/',
      `/subscriptions/${SUB}`,
      RG,
      VM,
      `${VM}/providers/Microsoft.Security/serverVulnerabilityAssessments/default`,
    ]);
    expect(enclosingScopes(`${MG}/providers/Microsoft.Authorization/roleAssignments/ra1`)).toEqual([
      '/',
      MG,
      `${MG}/providers/Microsoft.Authorization/roleAssignments/ra1`,
    ]);
    expect(enclosingScopes('/')).toEqual(['/']);
  });

  it('stops at the last complete scope for collections and actions', () => {
    expect(enclosingScopes(`${RG}/providers/Microsoft.Compute/virtualMachines`)).toEqual([
      '/',
      `/subscriptions/${SUB}`,
      RG,
    ]);
    expect(enclosingScopes(`${VM}/start`)).toEqual(['/', `/subscriptions/${SUB}`, RG, VM]);
  });

  it('a resource group named providers is still a scope', () => {
    const group = `/subscriptions/${SUB}/resourceGroups/providers`;
    expect(enclosingScopes(`${group}/providers/Microsoft.Compute/virtualMachines/vm1`)).toEqual([
      '/',
      `/subscriptions/${SUB}`,
      group,
      `${group}/providers/Microsoft.Compute/virtualMachines/vm1`,
    ]);
  });
});
