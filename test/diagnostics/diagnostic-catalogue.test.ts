/**
 * The diagnostic catalogue is the whole truth about codes (issue 15): every code in it is raised
 * somewhere in the sources, every diagnostic the compiler gives (fixtures, examples, eighty
 * malformed notebooks) has a catalogue code with the catalogue's severity and a message that does
 * not repeat its own location, and docs/diagnostics.md is the page the catalogue makes. That no
 * code outside the catalogue can be raised at all is the type system's part, checked below too.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  compile,
  describeLocation,
  DIAGNOSTIC_CATALOGUE,
  DIAGNOSTIC_CODES,
  isDiagnosticCode,
  parseStudySpec,
  type Diagnostic,
} from '@cellflow/core';
import { adversarialNotebooks } from '../support/adversarial-notebooks.js';
import { REPO_ROOT } from '../support/paths.js';
import { goldenCases } from '../golden/golden-cases.js';
import { DIAGNOSTICS_DOC_PATH, diagnosticsDoc } from './diagnostics-doc.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.includes('.generated.'))
    .map((f) => join(dir, f));
}

const sources = readdirSync(join(REPO_ROOT, 'packages'))
  .flatMap((p) => {
    try {
      return sourceFiles(join(REPO_ROOT, 'packages', p, 'src'));
    } catch {
      return [];
    }
  })
  .filter((f) => !f.endsWith('diagnostic-catalogue.ts'))
  .map((f) => ({ file: f, text: readFileSync(f, 'utf8') }));

/** What the compiler and the study check say about `notebooks`. */
function diagnosticsOf(notebooks: readonly (string | Uint8Array)[]): Diagnostic[] {
  return notebooks.flatMap((n) => [...compile(n, { fileName: 'case.ipynb' }).diagnostics]);
}

const fixtures = goldenCases().map((c) => readFileSync(c.notebookPath, 'utf8'));

describe('diagnostic catalogue', () => {
  it('lists only codes some source raises', () => {
    assert.ok(sources.length > 50, `read the packages' sources (${sources.length} files)`);
    const unraised = DIAGNOSTIC_CODES.filter(
      (code) => !sources.some((s) => s.text.includes(`'${code}'`)),
    );
    assert.deepEqual(unraised, [], 'codes in the catalogue that no source file names');
  });

  it('holds every code the compiler and the study check raise, with its severity', () => {
    const seen = new Set<string>();
    const check = (d: Diagnostic, where: string): void => {
      assert.ok(isDiagnosticCode(d.code), `${where}: [${d.code}] is not in the catalogue`);
      assert.equal(
        d.severity,
        DIAGNOSTIC_CATALOGUE[d.code].severity,
        `${where}: [${d.code}] has the catalogue's severity`,
      );
      seen.add(d.code);
    };
    const bases = fixtures.filter((text) => compile(text).pipeline !== undefined);
    const cases = adversarialNotebooks(bases, 15, 80);
    for (const d of diagnosticsOf(fixtures)) check(d, 'fixture');
    for (const c of cases) for (const d of diagnosticsOf([c.bytes])) check(d, c.label);
    const digits = compile(readFileSync(join(REPO_ROOT, 'examples/digits.ipynb'))).graph!;
    for (const d of parseStudySpec(
      {
        objective: 'nope',
        maxTrials: 1,
        parallelTrials: 4,
        additionalMetrics: ['also-nope'],
        parameters: { C: { min: 2, max: 2 } },
      },
      digits,
    ).diagnostics)
      check(d, 'study');
    // The check ran over many kinds of problem, not a handful.
    assert.ok(seen.size >= 20, `codes seen: ${[...seen].sort().join(', ')}`);
    for (const code of ['bad-study', 'study-setting-ignored', 'unknown-tag', 'syntax-error'])
      assert.ok(seen.has(code), `${code} was raised`);
  });

  it('messages never carry their own location (the renderers add it)', () => {
    const diagnostics = diagnosticsOf(fixtures);
    assert.ok(diagnostics.some((d) => d.cell !== null && d.line !== null));
    for (const d of diagnostics) {
      assert.doesNotMatch(d.message, /^(cell|line) \d/i, `[${d.code}] ${d.message}`);
      if (d.cell !== null)
        assert.ok(
          !d.message.includes(describeLocation(d.cell, d.line)) &&
            !d.message.includes(`Cell ${d.cell} `),
          `[${d.code}] ${d.message} names its own ${describeLocation(d.cell, d.line)}`,
        );
    }
    const oddCells = compile(
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          42,
          { cell_type: 'code', source: 7, metadata: { tags: ['step:a', 5] } },
          { cell_type: 'markdown', source: '# B', metadata: { tags: ['step:b'] } },
          { cell_type: 'code', source: 'x = 1', metadata: { tags: 'step:c' } },
        ],
      }),
    ).diagnostics;
    assert.deepEqual(
      oddCells.map((d) => [d.cell, d.code, d.message.split('.')[0]]),
      [
        [0, 'malformed-cell', 'The cell is not a JSON object'],
        [1, 'malformed-cell', 'The cell has a source that is neither text nor a list of lines'],
        [1, 'non-string-tag', 'The cell has tags that are not strings; they are ignored'],
        [2, 'tag-on-markdown', 'This is a markdown cell, so its tags (`step:b`) make no step'],
        [3, 'malformed-tag', "The cell's `metadata"],
      ],
    );
  });

  it('is the type of a diagnostic: an unknown code or another severity does not compile', () => {
    const unknown: Diagnostic = {
      severity: 'error',
      // @ts-expect-error: not a code of the catalogue
      code: 'no-such-code',
      cell: null,
      line: null,
      message: '',
    };
    // @ts-expect-error: the catalogue gives unknown-tag the severity warning
    const otherSeverity: Diagnostic = {
      severity: 'error',
      code: 'unknown-tag',
      cell: 0,
      line: null,
      message: '',
    };
    assert.equal(isDiagnosticCode(unknown.code), false);
    assert.notEqual(otherSeverity.severity, DIAGNOSTIC_CATALOGUE['unknown-tag'].severity);
  });

  it('is what docs/diagnostics.md lists (npm run diagnostics-doc writes it)', async () => {
    const page = readFileSync(DIAGNOSTICS_DOC_PATH, 'utf8');
    assert.equal(page, await diagnosticsDoc(), 'run `npm run diagnostics-doc` and commit the page');
    for (const code of DIAGNOSTIC_CODES) assert.ok(page.includes(`| \`${code}\``), code);
  });
});
