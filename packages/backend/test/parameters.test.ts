import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PipelineGraph } from '@cellflow/core';
import {
  BackendError,
  findPythonInterpreter,
  formatParameterForScript,
  parseParameterAssignments,
  resolveRunParameters,
} from '@cellflow/backend';

const graph = {
  parameters: [
    { name: 'N', type: 'int', default: 3, cell: 1, line: 1 },
    { name: 'RATE', type: 'float', default: 0.5, cell: 1, line: 2 },
    { name: 'NAME', type: 'str', default: 'a', cell: 1, line: 3 },
    { name: 'FLAG', type: 'bool', default: false, cell: 1, line: 4 },
    { name: 'SIZES', type: 'list', default: [1], cell: 1, line: 5 },
    { name: 'OPTS', type: 'dict', default: {}, cell: 1, line: 6 },
  ],
} as unknown as PipelineGraph;

function refusal(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof BackendError && e.code === code && message.test(e.message),
  );
}

describe('run parameters', () => {
  it('types -p NAME=VALUE against the parameters cell', () => {
    assert.deepEqual(
      parseParameterAssignments(graph, [
        'N=10',
        'RATE=1e-3',
        'NAME=x=y',
        'FLAG=yes',
        'SIZES=[1, 2]',
        'OPTS={"k": 1}',
      ]),
      { N: 10, RATE: 0.001, NAME: 'x=y', FLAG: true, SIZES: [1, 2], OPTS: { k: 1 } },
    );
  });

  it('says which parameter, what was wrong and how to fix it', () => {
    refusal(
      () => parseParameterAssignments(graph, ['N=2.5']),
      'bad-parameter',
      /`N` is an int .* `2\.5` does not fit: expected a whole number\. Fix: pass e\.g\. -p N=42/,
    );
    refusal(
      () => parseParameterAssignments(graph, ['RATE=fast']),
      'bad-parameter',
      /`RATE` is a float/,
    );
    refusal(
      () => parseParameterAssignments(graph, ['FLAG=maybe']),
      'bad-parameter',
      /expected true or false/,
    );
    refusal(
      () => parseParameterAssignments(graph, ['SIZES={}']),
      'bad-parameter',
      /`SIZES` is a list/,
    );
    refusal(
      () => parseParameterAssignments(graph, ['n=1']),
      'unknown-parameter',
      /Unknown parameter `n` \(did you mean `N`\?\)\. The notebook's parameters are: N \(int, default 3\)/,
    );
    refusal(
      () => parseParameterAssignments(graph, ['N']),
      'bad-parameter',
      /`N` is not NAME=VALUE/,
    );
  });

  it('fills in defaults and checks typed values from editors', () => {
    assert.deepEqual(resolveRunParameters(graph, { N: 4 }), {
      N: 4,
      RATE: 0.5,
      NAME: 'a',
      FLAG: false,
      SIZES: [1],
      OPTS: {},
    });
    refusal(() => resolveRunParameters(graph, { N: 'four' }), 'bad-parameter', /`N` is an int/);
  });

  it('hands the runtime text it converts back to the same value', () => {
    assert.deepEqual(
      [true, 3, 0.25, 'text', [1, 'a'], { k: null }].map((v) =>
        formatParameterForScript(v as never),
      ),
      ['true', '3', '0.25', 'text', '[1,"a"]', '{"k":null}'],
    );
  });
});

describe('Python discovery', () => {
  it("takes Debian's /usr/bin/python3 before the python3 first on PATH", async () => {
    const found = await findPythonInterpreter(undefined, { PATH: process.env.PATH });
    assert.equal(found.path, '/usr/bin/python3');
    assert.match(found.version, /^3\.\d+/);
  });

  it('an explicit interpreter that does not exist is a clear error', async () => {
    await assert.rejects(findPythonInterpreter('/nowhere/python3'), (e: unknown) => {
      assert.ok(e instanceof BackendError && e.code === 'python-not-found');
      assert.match(e.message, /\/nowhere\/python3 \(--python\): not found or not executable/);
      assert.match(e.message, /--python PATH/);
      return true;
    });
  });
});
