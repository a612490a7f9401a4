/**
 * Azure Policy worlds for tests: custom definitions tests keep writing (a tag a resource group must
 * carry), and definitions, assignments and compliance states through the real API, each a line in a test.
 */
import { expect } from 'vitest';
import type { TestServer } from './server.js';

/** A policy rule's `then` is data, not a thenable: a computed key keeps Biome's noThenProperty quiet. */
export const THEN = 'then';

const AUTHORIZATION = 'api-version=2023-04-01';
const INSIGHTS = 'api-version=2019-10-01';

/** Probes until `done` holds, 50 ms apart, failing with `what` after `attempts` probes. */
export async function until<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  attempts = 200,
): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Resource groups must carry the tag an assignment names (`tagName`), with the effect a parameter
 * chooses (Audit, Deny or Disabled; `defaultEffect` unless the assignment says).
 */
export function requireTagDefinition(options: { displayName: string; defaultEffect: 'Audit' | 'Deny' }) {
  return {
    displayName: options.displayName,
    mode: 'All',
    parameters: {
      tagName: { type: 'String' },
      effect: {
        type: 'String',
        allowedValues: ['Audit', 'Deny', 'Disabled'],
        defaultValue: options.defaultEffect,
      },
    },
    policyRule: {
      if: {
        allOf: [
          { field: 'type', equals: 'Microsoft.Resources/subscriptions/resourceGroups' },
          { field: "[concat('tags[', parameters('tagName'), ']')]", exists: 'false' },
        ],
      },
      [THEN]: { effect: "[parameters('effect')]" },
    },
  };
}

/** Resource groups without an `owner` tag are audited: no parameters to assign. */
export const OWNER_TAG_AUDIT = {
  displayName: 'Resource groups need an owner tag',
  mode: 'All',
  policyRule: {
    if: {
      allOf: [
        { field: 'type', equals: 'Microsoft.Resources/subscriptions/resourceGroups' },
        { field: 'tags[owner]', exists: 'false' },
      ],
    },
    [THEN]: { effect: 'audit' },
  },
};

/** A custom definition at `scope` (a subscription or management group id), expected created; returns its id. */
export async function definePolicy(
  t: TestServer,
  scope: string,
  name: string,
  properties: unknown,
): Promise<string> {
  const reply = await t.inject({
    method: 'PUT',
    url: `${scope}/providers/Microsoft.Authorization/policyDefinitions/${name}?${AUTHORIZATION}`,
    body: { properties },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.id as string;
}

/** An assignment at `scope`, expected created; returns its id. */
export async function assignPolicy(
  t: TestServer,
  scope: string,
  name: string,
  properties: Record<string, unknown>,
): Promise<string> {
  const reply = await t.inject({
    method: 'PUT',
    url: `${scope}/providers/Microsoft.Authorization/policyAssignments/${name}?${AUTHORIZATION}`,
    body: { properties },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.id as string;
}

/** The latest compliance states at `scope` that `filter` selects (`policyStates/latest/queryResults`). */
export async function complianceStates(t: TestServer, scope: string, filter: string): Promise<any[]> {
  const reply = await t.inject({
    method: 'POST',
    url: `${scope}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?${INSIGHTS}&$filter=${encodeURIComponent(filter)}`,
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.value;
}
