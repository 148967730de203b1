import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzePython, readParameterAssignments, toPlainPython } from '@cellflow/core';

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
    // `CONFIG` is bound when `setter()` runs, not where it is defined.
    assert.deepEqual(r.writes, ['b', 'c', 'fh', 'n', 'osp', 'setter', 'sys', 'text']);
    assert.deepEqual(r.free, ['old', 'p']);
  });

  it('a method that changes a parameter changes what a call on an instance passes there', () => {
    const cls =
      'import numpy as np\nclass Tour:\n    def melee(self, agents, rounds=1):\n' +
      '        agents = np.random.permutation(agents)\n        agents[0].fitness = rounds\n' +
      '    @staticmethod\n    def clear(xs):\n        xs.clear()\n    def score(self, agents):\n' +
      '        return len(agents)\n';
    const effects = analyzePython(cls).definitions.get('Tour')?.effects;
    assert.deepEqual(effects?.methods, [
      {
        name: 'melee',
        parameters: [
          { name: 'agents', index: 0 },
          { name: 'rounds', index: 1 },
        ],
        mutatedParameters: [{ name: 'agents', index: 0 }],
      },
      {
        name: 'clear',
        parameters: [{ name: 'xs', index: 0 }],
        mutatedParameters: [{ name: 'xs', index: 0 }],
      },
    ]);
    const called = analyzePython(
      `${cls}tour = Tour()\nteam = [1]\nother = [2]\ntour.melee(team)\ntour.score(other)`,
    );
    const changed = called.mutations.map((m) => m.name);
    assert.ok(changed.includes('team') && !changed.includes('other'), changed.join());
    assert.deepEqual(
      called.methodCalls.map((c) => [c.receiver, c.method, c.args.map((a) => a.name)]),
      [
        ['tour', 'melee', ['team']],
        ['tour', 'score', ['other']],
      ],
    );
  });

  it('a function that keeps a parameter in a module-level name makes a call share it there', () => {
    const defs =
      'registry = {}\nseen = []\ndef register(kind, obj, note=None):\n' +
      '    registry.setdefault(kind, []).append(obj)\n    seen.append((kind, len(obj)))\n' +
      '    registry[kind + "-last"] = note\n';
    const effects = analyzePython(defs).definitions.get('register')?.effects;
    // A key is kept too (`setdefault(kind, ...)`); `len(obj)` is a new object.
    assert.deepEqual(effects?.stores, [
      {
        holder: 'registry',
        parameters: [
          { name: 'kind', index: 0 },
          { name: 'obj', index: 1 },
          { name: 'note', index: 2 },
        ],
      },
      { holder: 'seen', parameters: [{ name: 'kind', index: 0 }] },
    ]);
    const called = analyzePython(
      `${defs}agent = [1]\nregister("a", agent)\nregister("b", [2], note=seen)`,
    );
    assert.deepEqual(
      called.aliases.filter(([a]) => a === 'registry'),
      [
        ['registry', 'agent'],
        ['registry', 'seen'],
      ],
    );
  });

  it("a function's `global` bindings and in-place changes happen where it is called", () => {
    const defs =
      'def bump(k=1):\n    global counter\n    counter += k\ndef add(x):\n    items.append(x)\ndef both():\n    bump()\n    add(0)';
    const defined = names(defs);
    assert.deepEqual(defined.writes, ['add', 'both', 'bump']);
    assert.deepEqual(defined.mutations, []);
    const effects = analyzePython(defs).definitions.get('both')?.effects;
    assert.deepEqual(effects, {
      writes: ['counter'],
      mutations: ['items'],
      mutatedParameters: [],
      parameters: [],
      methods: [],
      stores: [],
      passes: [],
    });
    const called = names(`${defs}\nboth()`);
    assert.deepEqual(called.writes, ['add', 'both', 'bump', 'counter']);
    assert.deepEqual(called.mutations, ['items']);
    assert.deepEqual(called.free, ['counter', 'items']);
    // A name the call binds first is not read: `global model; model = ...`.
    const fresh = names('def train():\n    global model\n    model = 1\ntrain()\nprint(model)');
    assert.deepEqual(fresh.free, []);
    assert.deepEqual(fresh.writes, ['model', 'train']);
  });

  it('a function that changes a parameter in place changes what a call passes there', () => {
    const defs =
      "def prep(df, col='b', *rest, sink=None):\n    df[col] = 1\n    sink.append(len(rest))\n" +
      'def show(df):\n    print(df.head())\n' +
      'def copy_first(df):\n    df = df.copy()\n    df.x = 1\n    return df';
    const effects = (name: string) => analyzePython(defs).definitions.get(name)?.effects;
    assert.deepEqual(effects('prep')?.mutatedParameters, [
      { name: 'df', index: 0 },
      { name: 'sink', index: null },
    ]);
    assert.deepEqual(effects('show')?.mutatedParameters, []);
    // Rebinding the parameter first is not followed: a possible change costs a save, never a result.
    assert.deepEqual(effects('copy_first')?.mutatedParameters, [{ name: 'df', index: 0 }]);
    // Same code: the call changes what it passes, positionally or by keyword.
    assert.deepEqual(names(`${defs}\nprep(train, sink=log)\nshow(test)`).mutations, [
      'log',
      'train',
    ]);
    assert.deepEqual(names(`${defs}\nprep(data['train'])`).mutations, ['data']);
    // Another cell's function: the calls are kept for the pipeline to resolve.
    const calls = analyzePython("prep(train, 'c', sink=log)\nshow(x + 1)").calls;
    assert.deepEqual(calls, [
      {
        callee: 'prep',
        cell: 0,
        line: 1,
        args: [
          { index: 0, keyword: null, name: 'train' },
          { index: null, keyword: 'sink', name: 'log' },
        ],
        codeStrings: ['c'],
      },
      // A call passing no names is kept too (a call may change what it calls: `counter()`).
      { callee: 'show', cell: 0, line: 2, args: [], codeStrings: [] },
    ]);
    // Prose is not code: the call passes no code.
    assert.deepEqual(analyzePython("show('hello world', 'Accuracy:')").calls, [
      { callee: 'show', cell: 0, line: 1, args: [], codeStrings: [] },
    ]);
    // Library functions that change their first argument.
    const changed = names(
      'heapq.heappush(h, 1)\ninsort(s, 2)\nnp.copyto(dst, src)\nnn.init.zeros_(w)\nlen(xs)',
    ).mutations;
    for (const name of ['dst', 'h', 's', 'w']) assert.ok(changed.includes(name), name);
    assert.ok(!changed.includes('src') && !changed.includes('xs'));
  });

  it('a chained assignment makes its targets share one object', () => {
    const pairs = analyzePython('x = y = []').aliases.map(([a, b]) => `${a}~${b}`);
    assert.ok(pairs.includes('x~y') || pairs.includes('y~x'));
  });

  it('unpacking one value, bare or bracketed, makes its targets share, unless their maker makes them apart', () => {
    const pairs = (code: string) =>
      analyzePython(code)
        .aliases.map(([a, b]) => `${a}~${b}`)
        .sort();
    assert.deepEqual(pairs('fig, ax = plt.subplots()'), ['ax~fig', 'fig~ax']);
    assert.deepEqual(pairs('(fig, ax) = plt.subplots()'), ['ax~fig', 'fig~ax']);
    assert.ok(pairs('fig, (a1, a2) = plt.subplots(1, 2)').includes('fig~a2'));
    assert.deepEqual(pairs('a, b = 1, 2'), []);
    assert.deepEqual(pairs('X_tr, X_te, y_tr, y_te = train_test_split(X, y)'), []);
    assert.deepEqual(pairs('X, y = datasets.load_digits(return_X_y=True)'), []);
  });

  it('`plot` and `hist` on a name may draw on axes; `ax=` hands a call axes to change', () => {
    const a = analyzePython(
      'fig, axes = plt.subplots(2)\nfor ax in axes.flat:\n    ax.plot(x)\ndf.hist()\ns.plot(ax=ax2)\ng = sns.histplot(df)',
    );
    assert.deepEqual([...a.figures].sort(), ['ax', 'axes', 'fig', 'g']);
    assert.deepEqual(
      a.drawnOn.map((d) => d.name),
      ['ax', 'df', 's'],
    );
    const changed = a.mutations.map((m) => m.name);
    assert.ok(changed.includes('ax2') && !changed.includes('ax') && !changed.includes('df'));
  });

  it('names bound through the namespace: by name when the code says it, else computed', () => {
    const named = analyzePython('globals()["a"] = 1\nexec("b = a + 1")\nvars()["c"] = 3');
    assert.deepEqual(
      named.writes.map((w) => w.name),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(named.freeReads, []);
    assert.equal(named.dynamicBindings, null);
    for (const code of [
      'for i in range(3):\n    globals()[f"v{i}"] = i',
      'globals().update(params)',
      'exec(source)',
    ])
      assert.equal(analyzePython(code, 4).dynamicBindings?.cell, 4, code);
    // A function's body binds only when called, and `d[k] = v` is no namespace.
    assert.equal(analyzePython('def f():\n    globals()[k] = 1\nd[k] = 2').dynamicBindings, null);
  });

  it('records the calls a function makes that pass its parameters', () => {
    const a = analyzePython(
      'def play(beliefs, m, *, log=None):\n    update(beliefs[m], 2)\n    note(log=log)\n    helper(m.x)\n    local = []\n    grow(local)',
    );
    assert.deepEqual(
      a.definitions.get('play')?.effects.passes.map((p) => [p.callee, p.argument.name]),
      [
        ['update', 'beliefs'],
        ['note', 'log'],
        ['helper', 'm'],
      ],
    );
    // A loop's names over a parameter's items are its items: changing or passing one changes it.
    const loops = analyzePython(
      'def f(xs):\n    for x in xs:\n        x.append(0)\ndef g(xs):\n    for x in xs:\n        grow(x)',
    );
    assert.deepEqual(
      loops.definitions.get('f')?.effects.mutatedParameters.map((p) => p.name),
      ['xs'],
    );
    assert.deepEqual(
      loops.definitions.get('g')?.effects.passes.map((p) => [p.callee, p.argument.name]),
      [['grow', 'xs']],
    );
  });

  it("sympy's var binds the symbols its literal lists, as sympy reads the list", () => {
    const a = analyzePython('var("x y, z")\nsp.var("k1:3 a:c")\nsympy.var("t:2")');
    assert.deepEqual(
      a.writes.map((w) => w.name),
      ['x', 'y', 'z', 'k1', 'k2', 'a', 'b', 'c', 't0', 't1'],
    );
    assert.equal(a.dynamicBindings, null);
    // A list it does not read off is names no one can know.
    for (const code of ['var(names)', 'sp.var("x(1:3)")'])
      assert.equal(analyzePython(code, 2).dynamicBindings?.cell, 2, code);
    // Other modules' `var` bind nothing.
    assert.deepEqual(
      analyzePython('v = np.var(a)\ndf.var()').writes.map((w) => w.name),
      ['v'],
    );
  });

  it('`a += 1` binds a again and changes it in place; setattr changes its object', () => {
    const updated = analyzePython(
      'a += 1\nrow *= 10\nb = 0\nb += 1\nsetattr(obj, "x", 1)\nfirst = next(it)',
    );
    assert.deepEqual(updated.updatedInPlace, ['a', 'row']);
    assert.deepEqual(
      updated.mutations.map((m) => m.name),
      ['a', 'row', 'b', 'obj', 'it'],
    );
    assert.deepEqual(
      updated.writes.map((w) => w.name),
      ['a', 'row', 'b', 'first'],
    );
  });

  it("a model formula's names: read softly where it is passed, carried by what is made from it", () => {
    const a = analyzePython(
      'formula = "y ~ f(x) + np.log(z)"\nres = ols("w ~ g(v)", data=df).fit()\nplain = "a - b"',
    );
    assert.deepEqual(Object.fromEntries(a.formulaNames), {
      formula: ['y', 'f', 'x', 'np', 'z'],
      res: ['w', 'g', 'v'],
    });
    assert.deepEqual(
      a.formulaReads.map((r) => r.name),
      ['w', 'g', 'v'],
    );
    assert.deepEqual(
      a.freeReads.map((r) => r.name),
      ['ols', 'df'],
    );
  });

  it('pandas-style `inplace=True` changes the object; `inplace=False` does not', () => {
    assert.deepEqual(names('df.fillna(0, inplace=True)').mutations, ['df']);
    assert.deepEqual(names('df.drop(columns=["a"], inplace=flag)').mutations, ['df']);
    assert.deepEqual(names('out = df.fillna(0, inplace=False)').mutations, []);
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
  it("joins a magic or shell line's backslash continuations, as IPython does, keeping line numbers", () => {
    const cases: [string, string][] = [
      [
        '!!gcc -shared \\\n    -o m.so \\\n    m.c\nx = 1',
        '__cellflow__.shell_lines("gcc -shared      -o m.so      m.c")\n\n\nx = 1',
      ],
      ['%sx echo a', '__cellflow__.shell_lines("echo a")'],
      ['%system echo a', '__cellflow__.shell_lines("echo a")'],
      // A Python line's continuation stays Python's.
      ['x = 1 + \\\n    2', 'x = 1 + \\\n    2'],
    ];
    for (const [cell, python] of cases) assert.equal(toPlainPython(cell).code, python, cell);
  });

  it("runs the notebook's own magics, and loads its own extensions", () => {
    const cases: [string, string][] = [
      ['%hello french', '__cellflow__.user_magic("hello", "french")'],
      ['loud = %shout hi', 'loud = __cellflow__.user_magic("shout", "hi")'],
      ['%%csv\na,b\n1,2', '__cellflow__.user_cell_magic("csv", "", "a,b\\n1,2\\n")\n\n'],
      ['%load_ext csvmagic', '__cellflow__.load_ext("csvmagic")'],
      // IPython's own and the known extensions' change only the session, as before.
      [
        '%load_ext autoreload\n%autoreload 2',
        'pass  # %load_ext autoreload\npass  # %autoreload 2',
      ],
      ['%%cython\ndef f(): pass', '# %%cython\n# def f(): pass'],
    ];
    for (const [cell, python] of cases) assert.equal(toPlainPython(cell).code, python, cell);
    // The magic's name is read where the notebook has it (the decorated definition runs first).
    assert.deepEqual(
      analyzePython(toPlainPython('%hello french').code).freeReads.map((r) => r.name),
      ['hello'],
    );
  });

  it("takes IPython's call escapes as IPython does: `/f a`, `,f a b`, `;f a b`, a lone `;`", () => {
    const cases: [string, string][] = [
      ['/f a b', 'f(a, b)'],
      [',f a  b', 'f("a", "b")'],
      [';f a  b', 'f("a  b")'],
      // A lone `;` is a call of nothing: the cell shows `''`, as in IPython.
      ['df.plot()\n;', 'df.plot()\n("")'],
      ['  ;', '("")'],
      // Not at a line's start (inside brackets, after a statement) they are Python's own.
      ['y = (1,\n,2)', 'y = (1,\n,2)'],
      ['print(1); print(2)', 'print(1); print(2)'],
    ];
    for (const [cell, python] of cases) assert.equal(toPlainPython(cell).code, python, cell);
  });

  it("takes a cell's text as IPython does: indentation, pasted prompts, help, a %%timeit setup", () => {
    assert.equal(
      toPlainPython('\n    x = 1\n    if x:\n        y = 2').code,
      '\nx = 1\nif x:\n    y = 2',
    );
    assert.equal(
      toPlainPython('>>> a = 1\n>>> while a < 3:\n...     a += 1').code,
      'a = 1\nwhile a < 3:\n    a += 1',
    );
    assert.equal(
      toPlainPython('In [1]: for i in range(3):\n   ...:     print(i)\n   ...:     ').code,
      'for i in range(3):\n    print(i)\n    ',
    );
    // A prompt on a later line only is the cell's own text.
    const doc = "s = '''\n\n>>> f()\n'''";
    assert.equal(toPlainPython(doc).code, doc);
    for (const help of ['?', 'np.*load*?', '%load?', 'timeit?', '?%timeit'])
      assert.match(toPlainPython(help).code, /^pass {2}# help: /);
    // Help on a name says, as IPython does, when the notebook has no such object.
    for (const help of ['x??', '?x', '%pinfo x'])
      assert.equal(toPlainPython(help).code, '__cellflow__.pinfo("x")', help);
    assert.equal(toPlainPython('df.plot?').code, '__cellflow__.pinfo("df.plot")');
    assert.equal(
      toPlainPython('%%timeit -n 1 a = f()\ng(a)').code,
      'class _cellflow_timeit:  # %%timeit -n 1 a = f()\n    a = f(); g(a)',
    );
    assert.equal(
      toPlainPython('%%timeit a = f()\nfor v in a:\n    g(v)').code,
      'class _cellflow_timeit:  # %%timeit a = f()\n    a = f()\n    for v in a:\n        g(v)',
    );
  });

  it('`%run FILE ARGS` runs the file as IPython does; its names come in as with `import *`', () => {
    const out = toPlainPython('%run -n "my helpers.py" --fast 2  # setup\nx = triple(1)');
    assert.deepEqual(out.notes, []);
    assert.equal(
      out.code.split('\n')[0],
      `__cellflow__.run_file("my helpers.py", ["--fast", "2"], interactive=False, as_main=False, exit_ok=False, module=False)`,
    );
    assert.deepEqual(
      analyzePython(out.code).starImports.map((s) => [s.name, s.line]),
      [['%run', 1]],
    );
    const skipped = toPlainPython('%run -d helpers.py');
    assert.equal(skipped.notes[0]?.code, 'unsupported-magic');
    assert.match(skipped.code, /^pass {2}# %run -d helpers.py$/);
  });

  it('`%pylab` imports what IPython imports: numpy and pyplot, and pylab and numpy as `*`', () => {
    const out = toPlainPython('%pylab inline\na = arange(3)\nplt.plot(a)');
    assert.equal(out.code.split('\n').length, 3);
    assert.deepEqual(out.notes, []);
    const all = analyzePython(out.code);
    assert.deepEqual(
      all.starImports.map((s) => s.line),
      [1, 1],
    );
    assert.ok(
      all.imports.some((i) => i.name === 'np') && all.imports.some((i) => i.name === 'plt'),
    );
    const explicit = analyzePython(toPlainPython('%pylab --no-import-all').code);
    assert.deepEqual(explicit.starImports, []);
    // It says what IPython's says, after importing.
    assert.match(
      out.code.split('\n')[0]!,
      /; __cellflow__\.print_lines\("%pylab is deprecated.*"Populating the interactive namespace from numpy and matplotlib"\)$/,
    );
  });

  it('keeps every line on its line', () => {
    const src =
      '%matplotlib inline\n!pip install {pkg}\nfiles = !ls\n%time y = f(x)\n%timeit -n 3 g(x)\nobj?\n%env A=1\n%unknown thing';
    const out = toPlainPython(src);
    assert.equal(out.code.split('\n').length, src.split('\n').length);
    assert.deepEqual(out.env, [{ name: 'A', value: '1' }]);
    assert.equal(out.notes.length, 1);
    assert.equal(out.notes[0]?.line, 8);
    const r = names(out.code);
    // `%unknown` may be the notebook's own magic, and `obj?` says when there is no `obj`: their
    // names are read, where the notebook has them.
    assert.deepEqual(r.free, ['f', 'g', 'obj', 'pkg', 'unknown', 'x']);
    assert.deepEqual(r.writes, ['_cellflow_timeit', 'files', 'y']);
    assert.ok(analyzePython(out.code).probedNames.has('unknown'));
    assert.ok(analyzePython(out.code).probedNames.has('obj'));
  });

  it('`%timeit` and `%%timeit` keep what the timed code binds to themselves, as IPython does', () => {
    const line = names(toPlainPython('%timeit counts, edges = np.histogram(x, bins)').code);
    assert.deepEqual(line.free, ['bins', 'np', 'x']);
    assert.ok(!line.writes.includes('counts'));
    const cell = toPlainPython('%%timeit -n 3\ntotal = 0\nfor v in values:\n    total += v');
    assert.equal(cell.code.split('\n').length, 4);
    assert.deepEqual(names(cell.code).free, ['values']);
    assert.ok(!names(cell.code).writes.includes('total'));
  });

  it('`globals()["name"]` reads the name', () => {
    const r = names('print(globals()["s"], vars()[\'t\'])\ndef f():\n    return globals()["u"]');
    assert.deepEqual(r.free, ['s', 't']);
  });

  it('a last line of only spaces is blank, however deep its indent, as Python has it', () => {
    const r = analyzePython('def count(n):\n    return n\n                ');
    assert.deepEqual(r.syntaxErrors, []);
    assert.deepEqual(
      r.writes.map((w) => w.name),
      ['count'],
    );
  });

  it("`x = %magic` binds the magic's value", () => {
    const timed = toPlainPython('t = %timeit -o -n1 -r1 total(xs)\nwhere = %pwd\ny = %time f(x)');
    assert.equal(timed.code.split('\n').length, 3);
    assert.deepEqual(names(timed.code).writes, ['t', 'where', 'y']);
    assert.match(timed.code, /timeit_value\(lambda: \(total\(xs\)\), output=True, quiet=False\)/);
    assert.deepEqual(toPlainPython('t = %timeit -o -n1 -r1 total(xs)').notes, []);
  });

  it('`%%capture name` binds the name to what the cell prints and shows, which it keeps', () => {
    const cell = toPlainPython('%%capture --no-stderr cap\nprint(x)\nx');
    assert.equal(cell.code.split('\n').length, 3);
    assert.deepEqual(names(cell.code).free, ['x']);
    assert.deepEqual(names(cell.code).writes, ['cap']);
    assert.match(cell.code, /stderr=False, display=True/);
    // Its value is kept in the captured output, not in IPython's `_`.
    assert.deepEqual(analyzePython(cell.code).shownValues, []);
    assert.deepEqual(
      analyzePython(toPlainPython('%%capture --no-display\nx').code).shownValues,
      [0],
    );
  });

  it("a cell of one line runs a magic without its `%`, as IPython's automagic does", () => {
    const plain = (src: string): string => toPlainPython(src).code;
    assert.equal(plain('ls data/'), '__cellflow__.shell("ls -F --color data/", terminal=True)');
    assert.equal(plain('ll'), '__cellflow__.shell("ls -F -o --color", terminal=True)');
    assert.equal(
      plain('ldir src'),
      '__cellflow__.shell("ls -F -o --color src | grep /$", terminal=True)',
    );
    assert.equal(plain('cd ..\n'), '__cellflow__.chdir("..")\n');
    assert.equal(plain('pwd'), '__cellflow__.pwd()');
    assert.equal(
      plain('pip install -q numpy'),
      '__cellflow__.shell("pip install -q numpy", terminal=True)',
    );
    // Python stays Python: an assignment, an attribute, a call, a valid line, a cell of two lines.
    for (const python of [
      'ls = 3',
      'ls, x = 1, 2',
      'time.sleep(1)',
      'env',
      'run(x)',
      'x = 1\nls data/',
    ])
      assert.equal(plain(python), python);
    assert.match(plain('%%file notes.txt\nhello'), /^__cellflow__\.write_file\("notes\.txt"/);
  });

  it('`%time` and `%timeit` print their times around what they run, on its line', () => {
    assert.equal(
      toPlainPython('%time y = f(x)  # note').code,
      'with __cellflow__.timing(): y = f(x)  # note',
    );
    assert.equal(
      toPlainPython('%time f(x) + 1').code,
      '__cellflow__.timed(__cellflow__.time_start(), (f(x) + 1))',
    );
    assert.equal(
      toPlainPython('%timeit -n 3 g("#", x)  # note').code,
      'class _cellflow_timeit: _cellflow_start = __cellflow__.time_start(); g("#", x); __cellflow__.timed(_cellflow_start, None, per_loop=True)  # note',
    );
    // A statement that holds a block cannot follow `with ...:` on its line: it runs untimed.
    assert.equal(toPlainPython('%time for i in r: pass').code, 'for i in r: pass');
    const timed = names(toPlainPython('%time y = f(x)').code);
    assert.deepEqual([timed.free, timed.writes], [['f', 'x'], ['y']]);
  });

  it('`%prun` runs its statement, value not shown, then prints the space IPython prints', () => {
    const plain = toPlainPython('%prun -s cumulative -l 5 r = f(10)  # note');
    assert.deepEqual(plain.notes, []);
    assert.equal(plain.code, 'r = f(10); __cellflow__.prun_done()  # note');
    const { free, writes } = names(plain.code);
    assert.deepEqual([free, writes], [['f'], ['r']]);
  });

  it('cell magics: Python bodies run, shell bodies become one call, markup cells show their body', () => {
    assert.match(toPlainPython('%%time\nz = w + 1').code, /^# %%time\nz = w \+ 1$/);
    const bash = toPlainPython('%%bash\necho "{x}"\nls');
    assert.equal(bash.code.split('\n').length, 3);
    assert.match(bash.code, /^__cellflow__\.script\(".*", \["bash"\], raise_error=True\)$/m);
    // IPython's script magics: the program and its arguments, the body its input.
    assert.match(
      toPlainPython('%%perl -w\nprint "hi"').code,
      /__cellflow__\.script\(.*, \["perl", "-w"\], raise_error=True\)/,
    );
    assert.match(
      toPlainPython("%%script --no-raise-error python3 -c 'import sys'\nx").code,
      /__cellflow__\.script\(.*, \["python3", "-c", "import sys"\], raise_error=False\)/,
    );
    const background = toPlainPython('%%bash --bg\nsleep 1');
    assert.equal(background.notes[0]?.code, 'unsupported-magic');
    assert.match(background.notes[0]?.message ?? '', /--bg/);
    const html = toPlainPython('%%html\n<b>hi</b>');
    assert.deepEqual(html.notes, []);
    assert.equal(html.code, '__cellflow__.show_markup("html", "<b>hi</b>")\n');
    assert.deepEqual(names(html.code).free, []);
  });

  it('leaves magic-looking lines inside triple-quoted strings alone', () => {
    const src = 's = """\n!not a command\n%not a magic\n"""';
    assert.equal(toPlainPython(src).code, src);
  });
});

describe('issue 13: valid Python 3.11 is never a syntax error', () => {
  const valid: Record<string, string> = {
    'floats with a trailing dot':
      'x = 3.\ny = [1., 2.]\nz = 1./255 + 3.e5 + 1_000. + 0. + 1.j + 1.E-3',
    'a bare yield': 'def g():\n    x = yield\n    yield\n    return (yield)',
    'with targets and parenthesized items':
      'with f() as self.h, g() as (a, b):\n    pass\nwith (\n    f() as x,\n    g(),\n):\n    pass',
    'starred subscripts and for iterables':
      'def f(*args: *Ts): pass\nt = tuple[*Ts]\nfor x in *a, *b:\n    pass',
    'lambda parameters': 'f = lambda a, /, b, *, k: a\ng = lambda a, b, /,: a',
    'match patterns':
      'match x, *y:\n    case {}:\n        pass\n    case Point():\n        pass\n    case []:\n        pass\n    case {Keys.KEY: v}:\n        pass',
    'decorators with any expression': '@buttons[0].clicked.connect\n@(lambda f: f)\ndef f(): pass',
    'print is a name': 'print >> sys.stderr, "message"\nprint = log',
    'f-string `=` spec': "s = f'{x:=10}' + f'{yield_:>{width}}'",
    'except*, star arguments, unicode names':
      "try:\n    pass\nexcept* ValueError:\n    pass\nprint(*a, sep='')\nπ = 3.14",
    'form feeds, tabs, CRLF and backslash continuations':
      '\f\nx = 1\n\fif x:\n\ty = 2 + \\\n\t    3\r\nz = 4\r\n',
  };
  for (const [what, code] of Object.entries(valid)) {
    it(what, () => {
      assert.deepEqual(analyzePython(code).syntaxErrors, []);
    });
  }

  it('still reports Python 2 and other invalid code', () => {
    assert.deepEqual(names('print "hi"').syntax, [1]);
    assert.deepEqual(names('x = 1\ny = 1.real').syntax, [2]);
  });

  it('reads names in the new forms', () => {
    const r = names(
      'with f() as obj.attr, g() as (a, b):\n    pass\n@registry[key]\ndef h(): pass',
    );
    assert.deepEqual(r.free, ['f', 'g', 'key', 'obj', 'registry']);
    assert.deepEqual(r.writes, ['a', 'b', 'h']);
  });

  it('a parameter `LR = 1.` is a float', () => {
    const { parameters, computed } = readParameterAssignments('LR = 1.\nSCALE = 1_000.\nN = 3');
    assert.deepEqual(computed, []);
    assert.deepEqual(
      parameters.map((p) => [p.name, p.type, p.value]),
      [
        ['LR', 'float', 1],
        ['SCALE', 'float', 1000],
        ['N', 'int', 3],
      ],
    );
  });

  it('`%`, `!` and `?` are IPython syntax only at the start of a logical line', () => {
    const python = [
      // black's layout of a %-format inside brackets
      'msg = (\n    "x = %.2f"\n    % value\n)',
      'total = (a\n  !b)',
      'x = 1 + \\\n    %d',
      's = """\n%not a magic\n!not a command\n"""',
      's = r\'\'\'\n%magic\n\'\'\' ; t = f"""{x}\n!cmd\n"""',
      "s = 'a\\\n%b'",
      'call(x,  # ) is in a comment\n     %y)',
      'q = "("\n%matplotlib inline',
    ];
    const converted = python.map((src) => toPlainPython(src).code);
    assert.deepEqual(converted.slice(0, -1), python.slice(0, -1));
    assert.equal(converted.at(-1), 'q = "("\npass  # %matplotlib inline');
  });

  it('a magic or shell line ends with its line, as in IPython', () => {
    const out = toPlainPython('%time r = f(\n!ls\n!echo "it\'s (\n%pwd');
    assert.equal(
      out.code,
      'r = f(\n__cellflow__.shell("ls", terminal=True)\n__cellflow__.shell("echo \\"it\'s (", terminal=True)\n__cellflow__.pwd()',
    );
  });
});
