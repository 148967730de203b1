/**
 * An editor's re-check (`NotebookAnalyzer`) gives exactly what a fresh `analyzeNotebook` gives,
 * edit after edit, on every fixture notebook; edits that cannot change the graph keep it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyzeNotebook, NotebookAnalyzer, type AnalyzeResult } from '@cellflow/core';
import { REPO_ROOT as root } from '../../../test/support/paths.js';

const notebooks = [
  ...readdirSync(join(root, 'test/fixtures/notebooks')).map((f) => `test/fixtures/notebooks/${f}`),
  ...readdirSync(join(root, 'examples'))
    .filter((f) => f.endsWith('.ipynb'))
    .map((f) => `examples/${f}`),
];

type Cells = { cell_type: string; source: string | string[]; metadata: { tags?: string[] } }[];

/** Edits to one cell's source, each a different kind of change. */
const EDITS: [string, (source: string) => string][] = [
  ['a comment at the end', (s) => `${s}\n# checked`],
  ['a number changed', (s) => s.replace(/\d/, (d) => String((Number(d) + 1) % 10))],
  ['a line added above', (s) => `\n${s}`],
  ['a new name bound', (s) => `${s}\nfresh_name_zz = 1`],
  ['an undefined name read', (s) => `${s}\nprint(undefined_name_zz)`],
  ['a syntax error', (s) => `${s}\nif (:`],
  ['the original back', (s) => s],
];

function same(actual: AnalyzeResult, expected: AnalyzeResult, what: string): void {
  assert.deepEqual(actual.diagnostics, expected.diagnostics, `${what}: diagnostics`);
  assert.deepEqual(actual.graph, expected.graph, `${what}: graph`);
  assert.deepEqual(actual.code, expected.code, `${what}: code`);
  assert.deepEqual(actual.notebook, expected.notebook, `${what}: notebook`);
}

describe('re-checks after edits', () => {
  for (const path of notebooks) {
    it(`${path}: every edit, as a fresh analysis would see it`, () => {
      const json = JSON.parse(readFileSync(join(root, path), 'utf8')) as { cells: Cells };
      const text = (): string => JSON.stringify(json);
      const analyzer = new NotebookAnalyzer();
      same(analyzer.analyze(text()), analyzeNotebook(text()), 'first');
      const codeCells = json.cells.flatMap((c, i) => (c.cell_type === 'code' ? [i] : []));
      for (const cell of codeCells.slice(0, 6)) {
        const original = ([] as string[]).concat(json.cells[cell]!.source).join('');
        for (const [name, edit] of EDITS) {
          json.cells[cell]!.source = edit(original);
          same(analyzer.analyze(text()), analyzeNotebook(text()), `cell ${cell}, ${name}`);
        }
      }
      // A tag edited, then a cell inserted: the structure changes.
      const first = json.cells[codeCells[0] ?? -1];
      if (first === undefined) return;
      first.metadata.tags = [...(first.metadata.tags ?? []), 'step:renamed_zz'];
      same(analyzer.analyze(text()), analyzeNotebook(text()), 'tag added');
      json.cells.splice(1, 0, { cell_type: 'code', source: 'inserted_zz = 2', metadata: {} });
      same(analyzer.analyze(text()), analyzeNotebook(text()), 'cell inserted');
    });
  }

  it('keeps the graph for an edit to a literal or a comment, and resolves it again for a new name', () => {
    const cells = [
      {
        cell_type: 'code',
        metadata: { tags: ['step:a'] },
        source: 'x = 1\ny = x + 2',
        outputs: [],
      },
      { cell_type: 'code', metadata: { tags: ['step:b'] }, source: 'z = y * 3', outputs: [] },
    ];
    const text = (): string =>
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells });
    const analyzer = new NotebookAnalyzer();
    const before = analyzer.analyze(text());
    cells[1]!.source = 'z = y * 4  # four';
    const literal = analyzer.analyze(text());
    assert.equal(literal.graph, before.graph);
    assert.equal(literal.code.get(1), 'z = y * 4  # four');
    cells[1]!.source = 'z = y * x';
    const name = analyzer.analyze(text());
    assert.notEqual(name.graph, before.graph);
    assert.deepEqual(name.graph?.steps[1]?.inputs, ['x', 'y']);
  });
});
