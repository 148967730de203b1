/**
 * The fast Python front end builds exactly Lezer's tree, on real code (issue 16): every code cell
 * of the fixture notebooks (the shared Kale fixtures, the repository's examples and test
 * notebooks, as `toPlainPython` gives them to the parser), every cell of scikit-learn's gallery
 * (Debian `python-sklearn-doc`, split at its `# %%` cell marks) and every file of CPython 3.11's
 * test suite (Debian `libpython3.11-testsuite`) goes through both parsers. Wherever the fast one
 * answers, the trees are identical (type, from, to and nesting of every node), unless Lezer's tree
 * has an error node on code that CPython's parser accepts (then the fast tree is the right one;
 * such texts are listed). It must answer for nearly all texts Lezer parses without error.
 * Texts without their host are skipped, unless CELLFLOW_REQUIRE_PYTHON_TESTSUITE=1 (CI).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { toPlainPython } from '@cellflow/core';
import { REPO_ROOT } from '../support/paths.js';
import { compareParsers, cpythonAccepts } from './parser-identity.js';

const TESTSUITE = '/usr/lib/python3.11/test';
const GALLERY = '/usr/share/doc/python-sklearn-doc/examples';
const SHARED_FIXTURES = '/work/shared/fixtures';
/** Least share of the texts Lezer parses without error that the fast parser must answer. */
const MIN_ANSWERED = 0.99;

const missing = [
  existsSync(`${TESTSUITE}/test_grammar.py`) ? [] : [`no CPython test suite at ${TESTSUITE}`],
  existsSync(GALLERY) ? [] : [`no scikit-learn gallery at ${GALLERY} (python-sklearn-doc)`],
].flat();
if (missing.length > 0 && process.env.CELLFLOW_REQUIRE_PYTHON_TESTSUITE === '1')
  throw new Error(missing.join('; '));

interface Text {
  readonly name: string;
  readonly code: string;
}

function filesUnder(dir: string, ending: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ending) && !f.includes('node_modules'))
    .sort()
    .map((f) => join(dir, f));
}

function notebookCells(path: string): Text[] {
  const json = JSON.parse(readFileSync(path, 'utf8')) as {
    cells?: { cell_type?: string; source?: string | string[] }[];
  };
  return (json.cells ?? []).flatMap((cell, i) => {
    if (cell.cell_type !== 'code') return [];
    const source = Array.isArray(cell.source) ? cell.source.join('') : (cell.source ?? '');
    return [{ name: `${path} cell ${i}`, code: toPlainPython(source).code }];
  });
}

/** A gallery example's cells: sphinx-gallery starts one at each `# %%` line. */
function galleryCells(path: string): Text[] {
  const parts = readFileSync(path, 'utf8').split(/^(?=# %%)/m);
  return parts.map((code, i) => ({ name: `${path} cell ${i}`, code }));
}

function corpus(): Text[] {
  const notebooks = [
    ...filesUnder(SHARED_FIXTURES, '.ipynb'),
    ...filesUnder(join(REPO_ROOT, 'examples'), '.ipynb'),
    ...filesUnder(join(REPO_ROOT, 'test/fixtures'), '.ipynb'),
  ];
  return [
    ...notebooks.flatMap(notebookCells),
    ...filesUnder(GALLERY, '.py').flatMap(galleryCells),
    ...(existsSync(TESTSUITE)
      ? readdirSync(TESTSUITE)
          .filter((f) => f.endsWith('.py'))
          .sort()
          .map((f) => ({
            name: join(TESTSUITE, f),
            code: readFileSync(join(TESTSUITE, f), 'utf8'),
          }))
      : []),
  ];
}

describe('fast Python parser: identical to Lezer on notebooks, the sklearn gallery and CPython tests', () => {
  it('answers nearly every text Lezer parses cleanly, always with Lezer’s tree', () => {
    const started = Date.now();
    const texts = corpus();
    assert.ok(texts.length > 100, `only ${texts.length} texts found`);
    const differs: string[] = [];
    const atLezerError: { name: string; code: string; detail: string }[] = [];
    const gaveUpOnClean: string[] = [];
    let clean = 0;
    let answeredClean = 0;
    for (const { name, code } of texts) {
      const verdict = compareParsers(code);
      switch (verdict.kind) {
        case 'identical':
          clean++;
          answeredClean++;
          break;
        case 'gave-up':
          if (!verdict.lezerError) {
            clean++;
            gaveUpOnClean.push(name);
          }
          break;
        case 'differs-at-lezer-error':
          atLezerError.push({ name, code, detail: verdict.detail });
          break;
        case 'differs':
          differs.push(`${name}: ${verdict.detail}`);
      }
    }
    const accepted = cpythonAccepts(atLezerError.map((t) => t.code));
    const wrongAtError = atLezerError.filter((_, i) => accepted[i] !== true);
    const share = answeredClean / clean;
    console.log(
      `${texts.length} texts (${missing.length > 0 ? `skipped: ${missing.join('; ')}; ` : ''}` +
        `in ${Date.now() - started} ms): the fast parser answered ${answeredClean} of the ` +
        `${clean} Lezer parses without error (${(100 * share).toFixed(2)}%), every tree identical; ` +
        `it gave up on ${gaveUpOnClean.length} of them${gaveUpOnClean.length > 0 ? ` (${gaveUpOnClean.slice(0, 5).join(', ')})` : ''}` +
        `; texts where Lezer reports an error in code CPython parses and the fast parser does ` +
        `not: ${atLezerError.length}${atLezerError.map((t) => `\n  ${t.name}: ${t.detail}`).join('')}`,
    );
    assert.deepEqual(differs.slice(0, 10), [], `${differs.length} texts parse differently`);
    assert.deepEqual(
      wrongAtError.map((t) => `${t.name}: ${t.detail}`),
      [],
      'the fast parser answered on code Lezer and CPython both refuse',
    );
    assert.ok(
      share >= MIN_ANSWERED,
      `the fast parser answered only ${(100 * share).toFixed(2)}% of clean texts; gave up on ${gaveUpOnClean.slice(0, 20).join(', ')}`,
    );
  });
});
