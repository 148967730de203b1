import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DUMP_SCHEMA, loadAll } from 'js-yaml';
import { buildPipelineSpecForGraph, compile } from '@cellflow/core';
import { notebookJson } from '../../../test/support/notebook-json.js';

/** Values YAML quotes, escapes or writes on several lines, in every place the IR holds text. */
const awkward = notebookJson(
  [
    [
      ['pipeline-parameters'],
      [
        'ANSWER = "yes"',
        'EMPTY = ""',
        'HEX = "0x1f"',
        'DASH = "- x"',
        'PAIR = "a: b"',
        'LINES = "one\\ntwo\\n\\n"',
        'INDENTED = "  lead"',
        'POEM = "  first\\n  second\\n"',
        'WORDS = "null True off"',
        'TAB = "a\\tb"',
        'MARKER = "--- x"',
        'TINY = 1e-7',
        'NEGATIVE = -2.5',
        'BIG = 12345678901234567890',
        'ITEMS = ["n", "on", "~", "", "#x"]',
        'TABLE = {"null": 1, "key with: colon": "v # not a comment"}',
      ].join('\n'),
    ],
    [
      [
        'step:first',
        'env:MODE=yes',
        'env:QUOTE=it\'s "quoted"',
        'label:team:No',
        'annotation:note:a: b # c',
      ],
      'x = [ANSWER, POEM, WORDS, EMPTY, HEX, DASH, PAIR, LINES, INDENTED, TAB, MARKER, TINY, NEGATIVE, BIG, ITEMS, TABLE]',
    ],
    [['step:second', 'retries:2', 'timeout:90s'], 'y = len(x)\n\n\n'],
  ],
  {
    cellflow: {
      name: 'awkward',
      description: 'Line one: "quoted"\n  line two # not a comment\n',
    },
  },
);

describe('KFP IR as YAML', () => {
  it('reads back as exactly the documents it was written from, whatever the text holds', () => {
    const result = compile(awkward);
    assert.deepEqual(
      result.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    const { graph, code } = result.pipeline!;
    const documents = buildPipelineSpecForGraph(graph, code);
    // Read as YAML 1.1 and 1.2 both (KFP reads it with PyYAML, 1.1): `yes` left plain is true.
    const read = loadAll(result.yaml!, { schema: DUMP_SCHEMA });
    assert.deepEqual(read, [documents.pipelineSpec, documents.platformSpec]);
  });

  it('writes the step scripts as literal blocks', () => {
    const yaml = compile(awkward).yaml!;
    assert.match(yaml, /\n( +)- \|-?\n\1 {2}# Cellflow step `first`/);
  });
});

describe('KFP IR: the steps’ hash seed', () => {
  it('is one per pipeline, in every step, unless an env tag sets it', () => {
    const envOf = (notebook: string): Record<string, unknown> => {
      const { graph, code } = compile(notebook).pipeline!;
      const executors = (
        buildPipelineSpecForGraph(graph, code).pipelineSpec as {
          deploymentSpec: { executors: Record<string, { container: { env?: unknown } }> };
        }
      ).deploymentSpec.executors;
      return Object.fromEntries(
        Object.entries(executors).map(([name, e]) => [name, e.container.env]),
      );
    };
    const seed = (name: string): string =>
      (
        envOf(notebookJson([[['step:one'], 'x = 1']], { cellflow: { name } }))['exec-one'] as {
          value: string;
        }[]
      )[0]!.value;
    const env = envOf(awkward);
    assert.deepEqual(env['exec-first'], [
      { name: 'PYTHONHASHSEED', value: seed('awkward') },
      { name: 'MODE', value: 'yes' },
      { name: 'QUOTE', value: 'it\'s "quoted"' },
    ]);
    assert.deepEqual(env['exec-second'], [{ name: 'PYTHONHASHSEED', value: seed('awkward') }]);
    assert.match(seed('awkward'), /^[1-9]\d*$/);
    assert.notEqual(seed('awkward'), seed('digits'));
    assert.equal(
      env['exec-cellflow-runtime'],
      undefined,
      'the runtime writer runs no notebook code',
    );
    const own = envOf(
      notebookJson([[['step:one', 'env:PYTHONHASHSEED=0'], 'x = 1']], { cellflow: { name: 'a' } }),
    );
    assert.deepEqual(own['exec-one'], [{ name: 'PYTHONHASHSEED', value: '0' }]);
  });
});
