/** The fidelity corpus's converter (sphinx-gallery conventions) and its taggings. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cellsOutsideSteps,
  galleryCells,
  galleryNotebook,
  hasPipelineTags,
  kaleRoleOfCell,
  listGalleryExamples,
  taggedExampleNotebook,
  tagNotebook,
  TAGGINGS,
  type Notebook,
  type NotebookExample,
} from '../support/fidelity-corpus.js';

const EXAMPLE = [
  '# -*- coding: utf-8 -*-',
  '"""',
  '=====',
  'Title',
  '=====',
  '',
  'What it shows.',
  '"""',
  '',
  '# Author: someone',
  'import numpy as np',
  '',
  '# %%',
  '# Load',
  '# ----',
  '#',
  '# The data.',
  '',
  'X = np.arange(3)',
  '',
  '# %%',
  'print(X)  # a code-only block: no markdown',
  '',
  '#' + '#'.repeat(40),
  '# A line of hashes works too.',
  'def f():',
  '    # %%',
  '    # indented: stays in the code',
  '    return 1',
  '#%%',
  '# Last words.',
  '',
].join('\n');

describe('gallery notebook', () => {
  it('splits cells as sphinx-gallery does', () => {
    assert.deepEqual(galleryCells(EXAMPLE), [
      { kind: 'markdown', text: '=====\nTitle\n=====\n\nWhat it shows.' },
      { kind: 'code', text: '# Author: someone\nimport numpy as np' },
      { kind: 'markdown', text: 'Load\n----\n\nThe data.' },
      { kind: 'code', text: 'X = np.arange(3)' },
      { kind: 'code', text: 'print(X)  # a code-only block: no markdown' },
      { kind: 'markdown', text: 'A line of hashes works too.' },
      { kind: 'code', text: 'def f():\n    # %%\n    # indented: stays in the code\n    return 1' },
      { kind: 'markdown', text: 'Last words.' },
    ]);
  });

  it('tags a step per code cell, or per markdown section', () => {
    const notebook = galleryNotebook(EXAMPLE);
    const steps = (tagging: (typeof TAGGINGS)[number]): string[] =>
      tagNotebook(notebook, tagging).cells.map((c) =>
        c.cell_type === 'markdown' ? 'md' : (c.metadata.tags ?? []).join(' ') || '-',
      );
    assert.deepEqual(steps('per-cell'), [
      'md',
      'step:c0',
      'md',
      'step:c1',
      'step:c2',
      'md',
      'step:c3',
      'md',
    ]);
    assert.deepEqual(steps('per-section'), [
      'md',
      'step:s0',
      'md',
      'step:s1',
      '-',
      'md',
      'step:s2',
      'md',
    ]);
  });

  it('tags as a Kale user does: imports, functions, then blocks per cell or per section', () => {
    assert.equal(kaleRoleOfCell('%matplotlib inline\nimport numpy as np  # arrays'), 'imports');
    assert.equal(kaleRoleOfCell('from a import b\n\n@cache\ndef f():\n    return b'), 'functions');
    assert.equal(kaleRoleOfCell('class A:\n    pass\nA.x = 1'), 'block');
    assert.equal(kaleRoleOfCell('# nothing yet'), 'empty');
    assert.equal(kaleRoleOfCell('def f(:'), 'block');
    const notebook = galleryNotebook(EXAMPLE);
    const cells = [
      ...notebook.cells,
      { ...notebook.cells[3]!, source: 'import math' },
      { ...notebook.cells[3]!, source: 'y = math.pi' },
      { ...notebook.cells[3]!, source: '' },
    ];
    const steps = (tagging: 'kale-cells' | 'kale-sections'): string[] =>
      tagNotebook({ ...notebook, cells }, tagging).cells.map((c) =>
        c.cell_type === 'markdown' ? 'md' : (c.metadata.tags ?? []).join(' ') || '-',
      );
    assert.deepEqual(steps('kale-cells'), [
      'md',
      'imports',
      'md',
      'block:c1',
      'block:c2',
      'md',
      'functions',
      'md',
      'imports',
      'block:c5',
      '-',
    ]);
    const definitionsOnly = { ...notebook, cells: [notebook.cells[1]!, notebook.cells[6]!] };
    assert.equal(tagNotebook(definitionsOnly, 'kale-cells'), definitionsOnly, 'left untagged');
    assert.deepEqual(steps('kale-sections'), [
      'md',
      'imports',
      'md',
      'block:s1',
      '-',
      'md',
      'functions',
      'md',
      'imports',
      'block:s3',
      '-',
    ]);
  });

  it('gives every gallery example valid step names and a leading markdown cell', (t) => {
    const examples = listGalleryExamples();
    if (examples.length === 0) return t.skip('python-sklearn-doc is not installed');
    for (const example of examples) {
      const notebook = galleryNotebook(example.source);
      assert.equal(notebook.cells[0]?.cell_type, 'markdown', example.name);
      for (const tagging of TAGGINGS) {
        for (const cell of tagNotebook(notebook, tagging).cells) {
          for (const tag of cell.metadata.tags ?? []) {
            assert.match(tag, /^step:[a-z_][a-z0-9_]*$/, example.name);
          }
        }
      }
    }
  });

  it("runs a Kale notebook with its own tags, moving a dropped cell's tags on", () => {
    const code = (source: string, tags: string[]): Notebook['cells'][number] => ({
      cell_type: 'code',
      id: source,
      metadata: { tags },
      source,
      outputs: [],
      execution_count: null,
    });
    const notebook: Notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        code('import random', ['imports']),
        code('!pip install x', ['skip']),
        { cell_type: 'markdown', id: 'md', metadata: {}, source: '# Load' },
        code('n = 1', ['block:load']),
        code('raise ValueError', ['block:train', 'prev:load']),
        code('print(n)', []),
        code('raise KeyError', ['skip']),
        code('print(n + 1)', []),
        code('raise OSError', ['block:gone']),
        code('print(n + 2)', ['block:last', 'prev:gone', 'prev:load']),
      ],
    };
    const example: NotebookExample = {
      name: 'kale/nb.ipynb',
      path: '/nb.ipynb',
      source: JSON.stringify(notebook),
      folder: '/',
    };
    assert.equal(hasPipelineTags(notebook), true);
    assert.equal(hasPipelineTags(galleryNotebook(EXAMPLE)), false);
    assert.equal(tagNotebook(notebook, 'kale'), notebook);
    const tags = (n: Notebook): string[] => n.cells.map((c) => (c.metadata.tags ?? []).join(' '));
    assert.deepEqual(tags(taggedExampleNotebook(example, 'kale', [4, 6, 8])), [
      'imports',
      'skip',
      '',
      'block:load',
      'block:train prev:load',
      '',
      'block:last prev:load',
    ]);
    assert.deepEqual(tags(taggedExampleNotebook(example, 'per-cell', [4, 6, 8])), [
      'step:c0',
      'step:c1',
      '',
      'step:c2',
      'step:c3',
      'step:c4',
      'step:c5',
    ]);
    assert.deepEqual(cellsOutsideSteps(taggedExampleNotebook(example, 'kale', [4, 6, 8])), {
      leftOut: [1],
      asUnits: [0],
    });
  });
});
