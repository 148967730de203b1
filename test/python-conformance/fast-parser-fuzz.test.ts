/**
 * The fast Python front end on broken code (issue 16): valid snippets (the repository's example
 * and fixture notebooks' cells, and forms that stress the parser) mutated by deleting, repeating,
 * swapping or inserting tokens, with a fixed seed. For every mutant the fast parser gives up or
 * answers with exactly Lezer's tree; a different answer is only allowed where Lezer's tree has an
 * error node and CPython's parser accepts the mutant.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { toPlainPython } from '@cellflow/core';
import { REPO_ROOT } from '../support/paths.js';
import { compareParsers, cpythonAccepts } from './parser-identity.js';

const MUTANTS = 4000;

const FORMS = [
  '@dec(1)\nasync def f(a, /, b: int = 1, *c, d, **e) -> int:\n    return [x async for x in a if x]\n',
  `s = f'a{x!r:>{w}.{p}f} {y=} {{z}}' rb'\\d' "x\\n" '''a\nb'''\n`,
  'match p:\n    case [a, *r] if a > 0:\n        pass\n    case {"k": v, **kw} | Point(x=0) as q:\n        pass\n',
  'with (a as b, c): pass\ntry:\n    x\nexcept* E as e:\n    y\nfinally:\n    z\n',
  'x = (  # c\n  a,\n\n  b if c else lambda d=1, *e: d,\n)\nif a:\n    b\n    # c\nelse:\n    d\n',
  'y = not a and b or c < d not in e is not f\nz = -a ** -b @ c // d % e << f | g ^ h & i\n',
  'for i, *j in k, l:\n    while m := n:\n        del o[p:q:r, s]\n        global t\n        yield from u\n',
  'class A(B, metaclass=M):\n    x: int = 1\n    def m(self, *args, **kw): ...\n',
];

/** Pieces of Python to insert: brackets, operators, keywords, quotes, line breaks. */
const INSERTS = [
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ':',
  ',',
  '=',
  ':=',
  '.',
  '*',
  '**',
  '@',
  '-',
  'not',
  'in',
  'if',
  'else',
  'lambda',
  'yield',
  'await',
  'async',
  'for',
  'match',
  'case',
  'as',
  'from',
  'import',
  'def',
  'return',
  '\n',
  '\n    ',
  '    ',
  '\t',
  '\\\n',
  '#',
  "'",
  '"',
  "f'{",
  '}',
  '"""',
  '!r',
  '1.e5',
  '0x',
  'x',
  ';',
  '->',
  '...',
  '\f',
];

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seeds(): string[] {
  const notebooks = [join(REPO_ROOT, 'examples'), join(REPO_ROOT, 'test/fixtures/notebooks')]
    .filter((dir) => existsSync(dir))
    .flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.ipynb'))
        .sort()
        .map((f) => join(dir, f)),
    );
  const cells = notebooks.flatMap((path) => {
    const json = JSON.parse(readFileSync(path, 'utf8')) as {
      cells?: { cell_type?: string; source?: string | string[] }[];
    };
    return (json.cells ?? [])
      .filter((c) => c.cell_type === 'code')
      .map(
        (c) => toPlainPython(Array.isArray(c.source) ? c.source.join('') : (c.source ?? '')).code,
      )
      .filter((code) => code.trim() !== '');
  });
  return [...FORMS, ...cells];
}

function mutate(code: string, random: () => number): string {
  const pieces = code.match(/\w+|\s+|[^\w\s]/g) ?? [];
  const pick = (n: number): number => Math.floor(random() * n);
  const edits = 1 + pick(3);
  for (let e = 0; e < edits && pieces.length > 0; e++) {
    const i = pick(pieces.length);
    switch (pick(4)) {
      case 0:
        pieces.splice(i, 1);
        break;
      case 1:
        pieces.splice(i, 0, pieces[i]!);
        break;
      case 2: {
        const j = pick(pieces.length);
        [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
        break;
      }
      default:
        pieces.splice(i, 0, INSERTS[pick(INSERTS.length)]!);
    }
  }
  return pieces.join('');
}

describe('fast Python parser: mutated code', () => {
  it(`gives up or answers with Lezer's tree on ${MUTANTS} mutants`, () => {
    const random = mulberry32(16);
    const sources = seeds();
    const counts = { identical: 0, 'gave-up': 0, 'differs-at-lezer-error': 0, differs: 0 };
    const differs: string[] = [];
    const atLezerError: { code: string; detail: string }[] = [];
    for (let n = 0; n < MUTANTS; n++) {
      const code = mutate(sources[n % sources.length]!, random);
      const verdict = compareParsers(code);
      counts[verdict.kind]++;
      if (verdict.kind === 'differs') differs.push(`${JSON.stringify(code)}: ${verdict.detail}`);
      if (verdict.kind === 'differs-at-lezer-error')
        atLezerError.push({ code, detail: verdict.detail });
    }
    const accepted = cpythonAccepts(atLezerError.map((m) => m.code));
    const wrong = atLezerError.filter((_, i) => accepted[i] !== true);
    console.log(`${MUTANTS} mutants of ${sources.length} snippets: ${JSON.stringify(counts)}`);
    assert.deepEqual(differs.slice(0, 5), [], `${differs.length} mutants parse differently`);
    assert.deepEqual(
      wrong.slice(0, 5).map((m) => `${JSON.stringify(m.code)}: ${m.detail}`),
      [],
      'answers on code Lezer and CPython both refuse',
    );
    assert.ok(counts.identical > MUTANTS / 10, 'too few mutants parse: the test would not fail');
  });
});
