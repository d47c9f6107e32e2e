// Parses Mermaid diagrams with Mermaid's own parser (what GitHub and mermaid-cli render with):
// `node ci/mermaid-check.mjs FILE.mmd...`; exit 1 naming each file that does not parse.
// Needs `npm install mermaid@11 jsdom` next to this file (ES modules resolve from the script's
// folder; Mermaid's parser wants a DOM for its sanitiser). ci/github-actions.yml runs it.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');

let bad = 0;
for (const file of process.argv.slice(2)) {
  try {
    await mermaid.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    bad += 1;
    console.error(`${file}: ${String(e.message ?? e).split('\n').slice(0, 3).join(' | ')}`);
  }
}
console.log(`mermaid: ${process.argv.length - 2 - bad} diagrams parsed, ${bad} failed`);
process.exit(bad ? 1 : 0);
