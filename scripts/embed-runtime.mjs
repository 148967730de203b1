// Embeds Python sources into TypeScript modules as strings: the step runtime into core (so core
// stays free of I/O) and the step host into backend (so `dist/` needs no extra files).
// The step runtime is also embedded deflated (zlib, base64): KFP pipelines carry it that way, once.
// Run after editing any of the .py files: `npm run embed-runtime`.
import { readFileSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const EMBEDDED = [
  [
    '../packages/core/src/emit/entry-script/',
    'runtime.py',
    'runtime-source.generated.ts',
    'RUNTIME_SOURCE',
    { deflated: true },
  ],
  [
    '../packages/core/src/emit/katib/',
    'trial-runner.py',
    'trial-runner-source.generated.ts',
    'TRIAL_RUNNER_SOURCE',
  ],
  [
    '../packages/backend/src/local/',
    'step-host.py',
    'step-host-source.generated.ts',
    'STEP_HOST_SOURCE',
  ],
  [
    '../packages/backend/src/local/',
    'model-server.py',
    'model-server-source.generated.ts',
    'MODEL_SERVER_SOURCE',
  ],
];

/**
 * Ascii85 as Python's `base64.a85decode` reads it: 5 characters per 4 bytes (base64 takes 5.33),
 * none of them a brace, so Argo and KFP never see a `{{` placeholder in it.
 */
function ascii85(bytes) {
  let out = '';
  for (let at = 0; at < bytes.length; at += 4) {
    const group = bytes.subarray(at, at + 4);
    let value = 0;
    for (let i = 0; i < 4; i++) value = value * 256 + (group[i] ?? 0);
    const chars = [];
    for (let i = 0; i < 5; i++, value = Math.floor(value / 85)) chars.unshift(33 + (value % 85));
    out += String.fromCharCode(...chars.slice(0, group.length + 1));
  }
  return out;
}

for (const [folder, python, generated, name, options = {}] of EMBEDDED) {
  const dir = new URL(folder, import.meta.url);
  const source = readFileSync(new URL(python, dir), 'utf8');
  // Comment lines and docstrings are blanked (line numbers stay) before deflating: KFP pipelines
  // carry less. A docstring is a triple-quoted string that starts the line after a `def`/`class`
  // header; it becomes `""`. kfp-pipeline-shape.test.ts checks the syntax tree is otherwise the same.
  const shipped = source
    .replace(/^[ \t]*#.*$/gm, '')
    .replace(
      /(:[ \t]*\n)([ \t]*)"""[\s\S]*?"""[ \t]*(?=\n)/g,
      (all, header, indent) =>
        `${header}${indent}""${'\n'.repeat(all.slice(header.length).split('\n').length - 1)}`,
    );
  const deflated = options.deflated
    ? `export const ${name}_DEFLATED = ${JSON.stringify(ascii85(deflateSync(shipped, { level: 9 })))};\n`
    : '';
  const out =
    `// Generated from ${python} by scripts/embed-runtime.mjs; do not edit.\n` +
    `export const ${name} = ${JSON.stringify(source)};\n` +
    deflated;
  writeFileSync(new URL(generated, dir), out);
}
