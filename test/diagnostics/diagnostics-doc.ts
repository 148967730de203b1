/**
 * docs/diagnostics.md, made from core's `DIAGNOSTIC_CATALOGUE`. `npm run diagnostics-doc` writes
 * it; diagnostic-catalogue.test.ts fails when the checked-in page differs from what this makes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { DIAGNOSTIC_CATALOGUE, DIAGNOSTIC_CODES, type DiagnosticArea } from '@cellflow/core';
import { REPO_ROOT } from '../support/paths.js';

export const DIAGNOSTICS_DOC_PATH = join(REPO_ROOT, 'docs/diagnostics.md');

const INTRO = `# Diagnostics

<!-- Made by \`npm run diagnostics-doc\` from packages/core/src/diagnostic-catalogue.ts: edit that. -->

Everything Cellflow finds wrong with a notebook is a diagnostic: a severity, a code from the list
below, the cell and line it is about, a message saying what is wrong and how to fix it, and
sometimes a fix an editor can apply (a quick fix in VS Code). Errors stop a compile or a run;
warnings and notes do not.

Each place shows the location its own way; the message never repeats it:

- \`cellflow compile\`, \`run\`, \`tune\`... print one line each, \`notebook\` in place of the cell for a
  problem of the whole notebook; \`cellflow inspect\` lists them under *Problems*:

  \`\`\`
  digits.ipynb: cell 4, line 2: error [undefined-name] Step \`train\` uses \`X_train\`, but no earlier cell of the pipeline defines it. Fix: ...
  \`\`\`

- VS Code puts them on the cell and line in the Problems view; JupyterLab under the cell they are
  about and in the Cellflow panel (\`Cell 4, line 2: ...\`).
- Cells are numbered as the editors number them, from 1, markdown cells included. JSON
  (\`cellflow inspect --json\`, the agent's answers) keeps \`cell\` as the 0-based index into the
  notebook's \`cells\` and \`line\` 1-based within the cell.
`;

const AREA_TITLES: Readonly<Record<DiagnosticArea, string>> = {
  'notebook file': 'The notebook file',
  'notebook metadata': 'Notebook metadata',
  'cell tags': 'Cell tags',
  steps: 'Steps',
  Python: 'Python',
  'data flow': 'Values between steps',
  'parameters and metrics': 'Parameters and metrics',
  target: 'The target (images, GPUs)',
  tuning: 'Tuning',
};

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The page as Markdown, formatted as the repository's Prettier formats it. */
export async function diagnosticsDoc(): Promise<string> {
  const out = [INTRO];
  for (const [area, title] of Object.entries(AREA_TITLES)) {
    const codes = DIAGNOSTIC_CODES.filter((c) => DIAGNOSTIC_CATALOGUE[c].area === area);
    if (codes.length === 0) continue;
    out.push(`## ${title}\n`);
    out.push('| code | severity | what it means |');
    out.push('| ---- | -------- | ------------- |');
    for (const code of codes) {
      const entry = DIAGNOSTIC_CATALOGUE[code];
      out.push(`| \`${code}\` | ${entry.severity} | ${escapeCell(entry.description)} |`);
    }
    out.push('');
  }
  const config = (await resolveConfig(DIAGNOSTICS_DOC_PATH)) ?? {};
  return format(out.join('\n'), { ...config, filepath: DIAGNOSTICS_DOC_PATH });
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  writeFileSync(DIAGNOSTICS_DOC_PATH, await diagnosticsDoc());
  console.log(`wrote ${DIAGNOSTICS_DOC_PATH}`);
}
