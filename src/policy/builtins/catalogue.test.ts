/**
 * Each catalogue entry states the same facts as Microsoft's published definition, read from the shared
 * corpus: id, name, display name, mode, version, parameters and rule. Descriptions are our own words.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileDefinition } from '../definition.js';
import { BUILT_IN_DEFINITIONS } from './index.js';

const repository = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const corpus = process.env.VAPLANE_AZURE_CORPUS ?? resolve(repository, '../shared/azure');
const folder = join(corpus, 'azure-policy/built-in-policies/policyDefinitions/Security Center');
const present = existsSync(folder);
if (!present)
  console.log(`SKIP built-in catalogue comparison: ${folder} is absent (set VAPLANE_AZURE_CORPUS)`);

function microsoftDefinition(name: string): {
  name: string;
  id: string;
  properties: Record<string, unknown>;
} {
  for (const file of readdirSync(folder)) {
    const document = JSON.parse(readFileSync(join(folder, file), 'utf8'));
    if (document.name === name) return document;
  }
  throw new Error(`the corpus has no definition ${name}`);
}

describe.skipIf(!present)("vaplane's built-in catalogue", () => {
  for (const entry of BUILT_IN_DEFINITIONS) {
    it(`${entry.name} (${entry.properties.displayName}) states Microsoft's facts`, () => {
      const microsoft = microsoftDefinition(entry.name);
      expect(microsoft.id).toBe(`/providers/Microsoft.Authorization/policyDefinitions/${entry.name}`);
      const { description: _ours, ...facts } = entry.properties;
      const { description: _theirs, versions: _versions, ...theirs } = microsoft.properties;
      expect(facts).toEqual(theirs);
    });
  }

  it('every entry compiles', () => {
    for (const entry of BUILT_IN_DEFINITIONS) {
      expect(() => compileDefinition(entry.properties, { name: entry.name })).not.toThrow();
    }
  });
});
