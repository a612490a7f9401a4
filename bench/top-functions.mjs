// Summarises a `.cpuprofile` (from `npm run bench -- --profile`): the functions with the most self
// time, and the files with the most total self time, so the hot path is visible without DevTools.
import { readFileSync } from 'node:fs';

const [file, limitText] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/top-functions.mjs FILE.cpuprofile [N]');
const limit = Number(limitText ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8'));

const selfSamples = new Map();
for (const id of profile.samples) selfSamples.set(id, (selfSamples.get(id) ?? 0) + 1);
const total = profile.samples.length;
const byFunction = new Map();
const byFile = new Map();
for (const node of profile.nodes) {
  const samples = selfSamples.get(node.id) ?? 0;
  if (samples === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const place = url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');
  const name = `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + samples);
  const where = place.replace(/^(node_modules\/(@[^/]+\/)?[^/]+).*$/, '$1') || functionName;
  byFile.set(where, (byFile.get(where) ?? 0) + samples);
}
const show = (title, map) => {
  console.log(`\n${title}`);
  for (const [name, samples] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    console.log(`${((samples / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
  }
};
show('self time by function', byFunction);
show('self time by file or package', byFile);
