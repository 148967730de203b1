import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzePython, toPlainPython } from '@cellflow/core';

function names(code: string) {
  const a = analyzePython(code);
  const list = (xs: readonly { name: string }[]) => xs.map((x) => x.name).sort();
  return {
    free: list(a.freeReads),
    deferred: list(a.deferredReads),
    writes: list(a.writes),
    mutations: list(a.mutations),
    deletes: list(a.deletes),
    syntax: a.syntaxErrors.map((e) => e.line),
  };
}

describe('Python name analysis', () => {
  it('finds reads before writes, in order', () => {
    const r = names('a = b + 1\nc = a * d\nb = 2');
    assert.deepEqual(r.free, ['b', 'd']);
    assert.deepEqual(r.writes, ['a', 'b', 'c']);
  });

  it('a name bound in only one branch is still read from outside', () => {
    assert.deepEqual(names('if flag:\n    x = 1\nprint(x)').free, ['flag', 'x']);
    assert.deepEqual(names('if flag:\n    x = 1\nelse:\n    x = 2\nprint(x)').free, ['flag']);
    assert.deepEqual(names('for i in items:\n    total = i\nprint(total)').free, [
      'items',
      'total',
    ]);
    assert.deepEqual(names('try:\n    v = f()\nexcept E as e:\n    v = str(e)\nprint(v)').free, [
      'E',
      'f',
      'v',
    ]);
  });

  it('keeps comprehension, lambda, function and class names inside', () => {
    const r = names(
      'ys = [x * k for x in xs if x]\ng = sum(v for v in ys)\nf = lambda u: u + w\ndef h(p, q=dflt):\n    local = p\n    return local + G\nclass C(Base):\n    attr = 1\n    other = attr + outer',
    );
    assert.deepEqual(r.free, ['Base', 'dflt', 'k', 'outer', 'xs']);
    assert.deepEqual(r.deferred, ['G', 'w']);
    assert.deepEqual(r.writes, ['C', 'f', 'g', 'h', 'ys']);
  });

  it('keyword arguments, attributes and f-strings', () => {
    assert.deepEqual(
      names('model = Cls(n_estimators=N, depth=obj.depth)\ns = f"{model} {extra!r}"').free,
      ['Cls', 'N', 'extra', 'obj'],
    );
  });

  it('in-place changes make a name an output; read-only methods do not', () => {
    const r = names(
      'lst.append(1)\nd["k"] = 2\nobj.attr = 3\nm.fit(X, y)\np = m.predict(X)\narr[0] += 1\nrandom.shuffle(deck)',
    );
    assert.deepEqual(r.mutations, ['arr', 'd', 'deck', 'lst', 'm', 'obj', 'random']);
    assert.ok(!r.mutations.includes('X'));
  });

  it('del, global declarations, walrus, with, imports', () => {
    const r = names(
      'del old\nimport os.path as osp, sys\nfrom pkg import (a as b, c)\nwith open(p) as fh:\n    text = fh.read()\nif (n := len(text)) > 1:\n    pass\ndef setter():\n    global CONFIG\n    CONFIG = 1',
    );
    assert.deepEqual(r.deletes, ['old']);
    assert.deepEqual(r.writes, ['CONFIG', 'b', 'c', 'fh', 'n', 'osp', 'setter', 'sys', 'text']);
    assert.deepEqual(r.free, ['old', 'p']);
  });

  it('reports the first syntax error line and star imports', () => {
    assert.deepEqual(names('x = 1\nif x\n    pass').syntax, [2]);
    assert.equal(analyzePython('from os import *').starImports.length, 1);
  });

  it('semicolon-separated statements on one line', () => {
    const r = names('import random as _r; _r.seed(0)\nx = 1; y = x + z');
    assert.deepEqual(r.free, ['z']);
    assert.deepEqual(r.writes, ['_r', 'x', 'y']);
  });

  it('match statements bind their captures', () => {
    const r = names(
      'match cmd:\n    case ["go", where]:\n        dest = where\n    case _:\n        dest = None',
    );
    assert.deepEqual(r.free, ['cmd']);
    assert.ok(r.writes.includes('where') && r.writes.includes('dest'));
  });
});

describe('IPython syntax', () => {
  it('keeps every line on its line', () => {
    const src =
      '%matplotlib inline\n!pip install {pkg}\nfiles = !ls\n%time y = f(x)\n%timeit -n 3 g(x)\nobj?\n%env A=1\n%unknown thing';
    const out = toPlainPython(src);
    assert.equal(out.code.split('\n').length, src.split('\n').length);
    assert.deepEqual(out.env, [{ name: 'A', value: '1' }]);
    assert.equal(out.notes.length, 1);
    assert.equal(out.notes[0]?.line, 8);
    const r = names(out.code);
    assert.deepEqual(r.free, ['f', 'g', 'pkg', 'x']);
    assert.deepEqual(r.writes, ['files', 'y']);
  });

  it('cell magics: Python bodies run, shell bodies become one call, display-only cells do nothing', () => {
    assert.match(toPlainPython('%%time\nz = w + 1').code, /^# %%time\nz = w \+ 1$/);
    const bash = toPlainPython('%%bash\necho "{x}"\nls');
    assert.equal(bash.code.split('\n').length, 3);
    assert.match(bash.code, /__cellflow__\.shell\(.*shell="bash"\)/);
    const html = toPlainPython('%%html\n<b>hi</b>');
    assert.equal(html.notes[0]?.code, 'display-magic');
    assert.deepEqual(names(html.code).free, []);
  });

  it('leaves magic-looking lines inside triple-quoted strings alone', () => {
    const src = 's = """\n!not a command\n%not a magic\n"""';
    assert.equal(toPlainPython(src).code, src);
  });
});
