import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { buildExecutedNotebook, parseNotebook } from '@cellflow/core';

/** nbformat's own validation: '' when valid, else its message. */
function nbformatProblems(notebook: unknown): string {
  return execFileSync(
    '/usr/bin/python3',
    [
      '-c',
      'import json, sys, nbformat\ntry:\n    nbformat.validate(json.load(sys.stdin))\nexcept Exception as e:\n    print(e)',
    ],
    { input: JSON.stringify(notebook) },
  )
    .toString()
    .trim();
}

function notebookOf(minor: number, cells: object[]): string {
  return JSON.stringify({ nbformat: 4, nbformat_minor: minor, metadata: {}, cells });
}

const code = (source: string, extra: object = {}): object => ({
  cell_type: 'code',
  metadata: {},
  source,
  outputs: [],
  execution_count: null,
  ...extra,
});

describe('buildExecutedNotebook (issue 18)', () => {
  it('counts the cells that ran in notebook order and gives results their count', () => {
    const { notebook } = parseNotebook(
      notebookOf(5, [
        { cell_type: 'markdown', id: 'md', metadata: {}, source: '# title' },
        code('a = 1', { id: 'one' }),
        code('a', { id: 'two' }),
        code('b = 2', { id: 'three' }),
      ]),
    );
    const executed = buildExecutedNotebook(notebook!, [
      {
        cell: 2,
        outputs: [
          {
            output_type: 'execute_result',
            execution_count: null,
            data: { 'text/plain': '1' },
            metadata: {},
          },
        ],
      },
      { cell: 1, outputs: [] },
    ]);
    assert.deepEqual(
      executed.cells.map((c) => c.execution_count ?? null),
      [null, 1, 2, null],
    );
    assert.equal(
      (executed.cells[2]!.outputs as { execution_count: number }[])[0]!.execution_count,
      2,
    );
    assert.deepEqual(
      executed.cells.map((c) => c.id),
      ['md', 'one', 'two', 'three'],
    );
    assert.equal(nbformatProblems(executed), '');
  });

  it('keeps a 4.4 notebook without cell ids, and gives a 4.5 one ids where missing', () => {
    const old = buildExecutedNotebook(parseNotebook(notebookOf(4, [code('x = 1')])).notebook!);
    assert.equal(old.nbformat_minor, 4);
    assert.equal('id' in old.cells[0]!, false);
    assert.equal(nbformatProblems(old), '');
    const current = buildExecutedNotebook(
      parseNotebook(notebookOf(5, [code('x = 1'), code('y = 2', { id: 'kept' })])).notebook!,
    );
    assert.deepEqual(
      current.cells.map((c) => c.id),
      ['cellflow-0', 'kept'],
    );
    assert.equal(nbformatProblems(current), '');
  });
});
