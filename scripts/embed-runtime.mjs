// Embeds Python sources into TypeScript modules as strings: the step runtime into core (so core
// stays free of I/O) and the step host into backend (so `dist/` needs no extra files).
// Run after editing either .py file: `npm run embed-runtime`.
import { readFileSync, writeFileSync } from 'node:fs';

const EMBEDDED = [
  [
    '../packages/core/src/emit/entry-script/',
    'runtime.py',
    'runtime-source.generated.ts',
    'RUNTIME_SOURCE',
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

for (const [folder, python, generated, name] of EMBEDDED) {
  const dir = new URL(folder, import.meta.url);
  const source = readFileSync(new URL(python, dir), 'utf8');
  const out =
    `// Generated from ${python} by scripts/embed-runtime.mjs; do not edit.\n` +
    `export const ${name} = ${JSON.stringify(source)};\n`;
  writeFileSync(new URL(generated, dir), out);
}
