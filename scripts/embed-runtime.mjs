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

for (const [folder, python, generated, name, options = {}] of EMBEDDED) {
  const dir = new URL(folder, import.meta.url);
  const source = readFileSync(new URL(python, dir), 'utf8');
  // Comment lines are blanked (line numbers stay) before deflating: KFP pipelines carry less.
  const shipped = source.replace(/^[ \t]*#.*$/gm, '');
  const deflated = options.deflated
    ? `export const ${name}_DEFLATED = ${JSON.stringify(deflateSync(shipped, { level: 9 }).toString('base64'))};\n`
    : '';
  const out =
    `// Generated from ${python} by scripts/embed-runtime.mjs; do not edit.\n` +
    `export const ${name} = ${JSON.stringify(source)};\n` +
    deflated;
  writeFileSync(new URL(generated, dir), out);
}
