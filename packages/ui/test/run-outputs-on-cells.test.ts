/** Which of a run's executed cells each cell now is, for the editors' outputs-inline toggle (issue 18). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildExecutedNotebook, parseNotebook } from '@cellflow/core';
import { outputsAsOneLine, runOutputsForCells, type CellNow } from '@cellflow/ui';

const NOTEBOOK = JSON.stringify({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    { cell_type: 'markdown', id: 'm', metadata: {}, source: '# Title' },
    {
      cell_type: 'code',
      id: 'a',
      metadata: {},
      source: 'print("a")',
      outputs: [],
      execution_count: null,
    },
    {
      cell_type: 'code',
      id: 'b',
      metadata: {},
      source: 'x = 1\nx',
      outputs: [],
      execution_count: null,
    },
    {
      cell_type: 'code',
      id: 'c',
      metadata: {},
      source: 'print("a")',
      outputs: [],
      execution_count: null,
    },
  ],
});

function executed() {
  const { notebook } = parseNotebook(NOTEBOOK);
  assert.ok(notebook !== undefined);
  return buildExecutedNotebook(notebook, [
    { cell: 1, outputs: [{ output_type: 'stream', name: 'stdout', text: 'a\n' }] },
    {
      cell: 2,
      outputs: [
        {
          output_type: 'execute_result',
          data: { 'text/plain': '1', 'image/png': 'iVBOR' },
          metadata: {},
        },
      ],
    },
    { cell: 3, outputs: [{ output_type: 'stream', name: 'stdout', text: 'second a\n' }] },
  ]);
}

const cellsOf = (sources: readonly [CellNow['kind'], string, string?][]): CellNow[] =>
  sources.map(([kind, source, id]) => ({ kind, source, ...(id !== undefined ? { id } : {}) }));

describe('run outputs on the cells now (issue 18)', () => {
  it('gives each unchanged cell its own outputs, markdown none', () => {
    const found = runOutputsForCells(
      executed(),
      cellsOf([
        ['markdown', '# Title'],
        ['code', 'print("a")'],
        ['code', 'x = 1\nx\n'],
        ['code', 'print("a")'],
      ]),
    );
    assert.equal(found[0], undefined);
    assert.equal(found[1]?.executionCount, 1);
    assert.equal(outputsAsOneLine(found[1].outputs), 'a');
    assert.equal(found[2]?.executionCount, 2);
    assert.equal(outputsAsOneLine(found[3]!.outputs), 'second a');
  });

  it('follows a moved cell by its code, and by id among cells of the same code', () => {
    const moved = runOutputsForCells(
      executed(),
      cellsOf([
        ['code', 'x = 1\nx'],
        ['code', 'print("a")', 'c'],
        ['code', 'print("a")', 'a'],
      ]),
    );
    assert.equal(moved[0]?.executionCount, 2);
    assert.equal(outputsAsOneLine(moved[1]!.outputs), 'second a');
    assert.equal(outputsAsOneLine(moved[2]!.outputs), 'a');
  });

  it('shows nothing on a cell whose code changed since the run', () => {
    const edited = runOutputsForCells(
      executed(),
      cellsOf([
        ['markdown', '# Title'],
        ['code', 'print("b")'],
        ['code', 'x = 2\nx'],
      ]),
    );
    assert.deepEqual(edited, [undefined, undefined, undefined]);
  });

  it('says an image is an image, and cuts long text', () => {
    const found = runOutputsForCells(executed(), cellsOf([['code', 'x = 1\nx']]));
    assert.equal(outputsAsOneLine(found[0]!.outputs), '[image/png image]');
    const long = outputsAsOneLine(
      [{ output_type: 'stream', name: 'stdout', text: `${'y'.repeat(50)}\n${'z'.repeat(50)}` }],
      40,
    );
    assert.equal(long.length, 40);
    assert.ok(long.startsWith('yyyy') && long.endsWith('…'));
  });
});
