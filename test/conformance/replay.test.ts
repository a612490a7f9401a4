import { describe, expect, it } from 'vitest';
import { diff, normalise, patternMatches } from './replay.js';

describe('replay comparison', () => {
  it('normalises ids, subscription GUIDs, timestamps, etags and the systemData actor alike on both sides', () => {
    const expected = normalise({
      id: 'subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/providers/Microsoft.Security/pricings/Dns',
      etag: '"1"',
      properties: { enablementTime: '2023-03-01T12:42:42.1921106Z' },
      systemData: { createdBy: 'user@contoso.com', createdAt: '2022-01-12T13:47:50.328Z' },
    });
    const actual = normalise({
      id: '/subscriptions/0b4a4b52-0d7f-4d1a-9c54-5d3d0c1f3a11/providers/Microsoft.Security/pricings/Dns',
      etag: '"2"',
      properties: { enablementTime: '2026-01-01T00:00:00.000Z' },
      systemData: { createdBy: 'admin', createdAt: '2026-01-01T00:00:00.000Z' },
    });
    expect(diff(expected, actual)).toEqual([]);
  });

  it('matches named items by name in any order and reports what is missing, extra or changed', () => {
    const found = diff(
      { value: [{ name: 'A', x: 1 }, { name: 'B' }] },
      { value: [{ name: 'C' }, { name: 'a', x: 2 }] },
    );
    expect(found).toEqual([
      { path: 'value[name=A].name', kind: 'changed', expected: 'A', actual: 'a' },
      { path: 'value[name=A].x', kind: 'changed', expected: 1, actual: 2 },
      { path: 'value[name=B]', kind: 'missing', expected: { name: 'B' } },
      { path: 'value[name=C]', kind: 'extra', actual: { name: 'C' } },
    ]);
  });

  it('divergence paths cover a difference at or below them, `*` within one segment', () => {
    expect(patternMatches('properties.extensions', 'properties.extensions[name=X].isEnabled')).toBe(true);
    expect(
      patternMatches(
        'properties.extensions[*].operationStatus',
        'properties.extensions[name=X].operationStatus.code',
      ),
    ).toBe(true);
    expect(patternMatches('properties.ext', 'properties.extensions')).toBe(false);
    expect(patternMatches('name', 'name')).toBe(true);
  });
});
