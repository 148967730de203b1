/**
 * The cells a KFP step's entry script runs, read back from the compiled IR: exactly the code the
 * compiler put there, in both of the forms it writes a cell's code in (raw and JSON-escaped).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { cellsOfEntryScript, compile } from '@cellflow/core';
import { notebookJson } from '../../../test/support/notebook-json.js';

describe('cells of an entry script', () => {
  it('gives back each step cell’s code, raw or escaped, in order', () => {
    const cells: [string[], string][] = [
      [['imports'], 'import json'],
      [['step:load'], "data = json.loads('[1, 2]')\nprint('''quotes''')"],
      [['step:show', 'prev:load'], 'path = "C:\\\\data\\\\"\nprint(path, len(data))'],
      [[], 'total = sum(data)  # → unicode\n\n\n'],
      [['step:end', 'prev:show'], '%time x = 1\nprint(x)'],
    ];
    const result = compile(notebookJson(cells));
    assert.ok(result.yaml !== undefined && result.pipeline !== undefined);
    const spec = parseAllDocuments(result.yaml)[0]!.toJS() as {
      deploymentSpec: { executors: Record<string, { container: { command: string[] } }> };
    };
    const ran = new Map<number, string>();
    for (const [label, executor] of Object.entries(spec.deploymentSpec.executors)) {
      if (label === 'exec-cellflow-runtime') continue;
      for (const { cell, code } of cellsOfEntryScript(executor.container.command[3]!))
        ran.set(cell, code);
    }
    const stepCells = result.pipeline.graph.steps.flatMap((s) => s.cells);
    assert.deepEqual([...ran.keys()].sort(), [...stepCells].sort());
    for (const cell of stepCells) assert.equal(ran.get(cell), result.pipeline.code.get(cell));
    assert.deepEqual(cellsOfEntryScript('print(1)\n'), []);
  });
});
