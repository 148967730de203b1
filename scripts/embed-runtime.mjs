// Embeds the step runtime (Python) into core as a string, so core stays free of I/O.
// Run after editing packages/core/src/emit/entry-script/runtime.py: `npm run embed-runtime`.
import { readFileSync, writeFileSync } from 'node:fs';

const dir = new URL('../packages/core/src/emit/entry-script/', import.meta.url);
const source = readFileSync(new URL('runtime.py', dir), 'utf8');
const out =
  '// Generated from runtime.py by scripts/embed-runtime.mjs; do not edit.\n' +
  `export const RUNTIME_SOURCE = ${JSON.stringify(source)};\n`;
writeFileSync(new URL('runtime-source.generated.ts', dir), out);
