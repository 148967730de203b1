import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeNotebook, compile, type PipelineStep } from '@cellflow/core';
import { notebookJson } from '../../../test/support/notebook-json.js';

const nb = notebookJson;

/** The notebook's analysis, with its steps by name. */
function analyzed(text: string): ReturnType<typeof analyzeNotebook> & {
  byName: Record<string, PipelineStep>;
} {
  const r = analyzeNotebook(text);
  return { ...r, byName: Object.fromEntries((r.graph?.steps ?? []).map((s) => [s.name, s])) };
}

function steps(text: string): Record<string, PipelineStep> {
  return analyzed(text).byName;
}

describe('pipeline graph', () => {
  it('a loop name shared with a value made by passing a function later rebound loads once', () => {
    // From a public notebook's ODE chapter: `c` of the loop shares with `xyz3`, made by passing
    // the former `f`, which reads `c`; loading `c` must not load it again while it loads.
    const s = steps(
      nb([
        [
          ['step:c105'],
          'def f(xy, t):\n    x, y = xy\n    return [a * x - b * x * y,\n            c * x * y - d * y]',
        ],
        [['step:c117'], 'xyz3 = integrate.odeint(f, xyz0, t, args=(rho, 2*sigma, 0.6*beta))'],
        [
          ['step:c120'],
          "fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(12, 3.5), subplot_kw={'projection': '3d'})\n\nfor ax, xyz, c, p in [(ax1, xyz1, 'r', (rho, sigma, beta)),\n                      (ax2, xyz2, 'b', (rho, sigma, 0.6*beta)),\n                      (ax3, xyz3, 'g', (rho, 2*sigma, 0.6*beta))]:\n    ax.plot(xyz[:,0], xyz[:,1], xyz[:,2], c, alpha=0.5)\n    ax.set_xlabel('$x$', fontsize=16)\n    ax.set_ylabel('$y$', fontsize=16)\n    ax.set_zlabel('$z$', fontsize=16)\n    ax.set_xticks([-15, 0, 15])\n    ax.set_yticks([-20, 0, 20])\n    ax.set_zticks([0, 20, 40])\n    ax.set_title(r\"$\\rho=%.1f, \\sigma=%.1f, \\beta=%.1f$\" % (p[0], p[1], p[2]))\n\nfig.tight_layout()\nfig.savefig('ch9-lorenz-equations.pdf')",
        ],
        [['step:c171'], 'f = y.diff(t).subs(vcsol[0])'],
        [['step:c175'], 'jac = sympy.Matrix([[fj.diff(yi) for yi in y] for fj in f])'],
        [
          ['step:c176'],
          "_jac_np = sympy.lambdify((t, y), jac.subs(params), 'numpy')\njac_np = lambda _t, _y, *args: _jac_np(_t, _y)",
        ],
      ]),
    );
    assert.deepEqual(Object.keys(s).length, 6);
  });

  it('a value a decorator keeps the function in loads with its definition, run on demand', () => {
    const s = steps(
      nb([
        [
          ['step:make'],
          'registry = {}\n\ndef register(name):\n    def keep(f):\n        registry[name] = f\n        return f\n    return keep',
        ],
        [['step:define'], "@register('double')\ndef double(x):\n    return 2 * x"],
        [['step:use'], "print(registry['double'](4))"],
      ]),
    );
    assert.deepEqual(s.define?.outputs, ['registry']);
    assert.deepEqual(
      s.use?.units.map((u) => [u.names, u.eager]),
      [
        [['register'], false],
        [['double'], false],
      ],
    );
  });

  it('`%run FILE` runs again, as an import does, in each later step; a warning says its names are unseen', () => {
    const r = analyzed(
      nb([
        [['step:setup'], '%run helpers.py'],
        [['step:use'], 'print(triple(14))'],
      ]),
    );
    const units = r.byName.use?.units ?? [];
    assert.deepEqual(
      units.map((u) => [u.kind, u.eager]),
      [['import', true]],
    );
    assert.match(units[0]?.code ?? '', /^__cellflow__\.run_file\("helpers\.py"/);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.cell]),
      [['import-star', 0]],
    );
    assert.match(r.diagnostics[0]!.message, /`%run` hides which names the file defines/);
  });

  it("a model formula's names that the notebook binds are there where it is fitted and where the model loads", () => {
    const r = analyzed(
      nb([
        [
          ['imports'],
          'import numpy as np\nimport pandas as pd\nfrom statsmodels.formula.api import ols',
        ],
        [['step:data'], 'df = pd.DataFrame({"y": [1.0, 2.0, 3.0], "x": [1.0, 2.0, 4.0]})'],
        [
          ['step:spec'],
          'def double_it(v):\n    return 2 * v\n\nformula = "y ~ double_it(x) + np.log(x)"',
        ],
        [
          ['step:fit'],
          'res = ols(formula, data=df).fit()\nres2 = ols("y ~ np.sqrt(x) + scale", data=df).fit()',
        ],
        [['step:use'], 'print(res.params, res2.params)'],
      ]),
    );
    const eager = (step: string) =>
      (r.byName[step]?.units ?? [])
        .filter((u) => u.eager)
        .flatMap((u) => u.names)
        .sort();
    assert.deepEqual(eager('fit'), ['double_it', 'np', 'ols']);
    assert.deepEqual(eager('use'), ['double_it', 'np']);
    assert.deepEqual([...(r.byName.use?.inputs ?? [])].sort(), ['res', 'res2']);
    assert.deepEqual(r.diagnostics, []);
  });

  it('a name only computed code binds is loaded from the latest step that binds computed names', () => {
    const r = analyzed(
      nb([
        [['step:make'], 'for i in range(3):\n    globals()[f"v{i}"] = i * 10'],
        [['step:same'], 'for k in ["p", "q"]:\n    globals()[k] = 1\nprint(p + q)'],
        [['step:use'], 'print(v2)\nexec("z = 5")'],
        [['step:after'], 'print(z + v1)\nprint(missing)'],
      ]),
    );
    assert.deepEqual(r.byName.use?.inputSources, { v2: 'same' });
    assert.deepEqual(r.byName.same?.inputs, []);
    assert.deepEqual(r.byName.after?.inputSources, { missing: 'same', v1: 'same', z: 'use' });
    assert.deepEqual(
      r.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
  });

  it('a step that may write files waits for the steps above that read them; a database is a file', () => {
    const s = steps(
      nb([
        [['imports'], 'import pandas as pd\nimport sqlite3'],
        [['step:read'], 'old = pd.read_csv("data.csv")'],
        [['step:other'], 'n = 1 + 1'],
        [['step:write'], 'pd.DataFrame({"a": [n]}).to_csv("data.csv")'],
        [['step:store'], 'con = sqlite3.connect("t.db")\nold.to_sql("t", con)'],
        [['step:query'], 'rows = pd.read_sql("SELECT * FROM t", sqlite3.connect("t.db"))'],
      ]),
    );
    assert.deepEqual([...(s.write?.after ?? [])].sort(), ['other', 'read']);
    assert.deepEqual([...(s.query?.after ?? [])].sort(), ['read', 'store', 'write']);
  });

  it("a process pool is made again where used; catboost's Pool(X, y) is data", () => {
    const s = steps(
      nb([
        [
          ['step:a'],
          'from multiprocessing import Pool\nimport multiprocessing as mp\n' +
            'pool = Pool(4)\nnamed = Pool(processes=2, maxtasksperchild=5)\nfull = mp.Pool()',
        ],
        [['step:b'], 'print(pool.map(abs, [-1]), named, full)'],
        [
          ['step:c'],
          'from catboost import Pool as CatPool\nPool = CatPool\ndata = Pool([[1]], [0])',
        ],
        [['step:d'], 'print(data)'],
      ]),
    );
    assert.deepEqual(s.b?.inputSources, {});
    assert.deepEqual(
      s.b?.units.filter((u) => u.kind === 'definition').map((u) => u.names),
      [['pool'], ['named'], ['full']],
    );
    assert.deepEqual(s.d?.inputSources, { data: 'c' });
  });

  it("pathlib's listings read files: a step listing a folder runs after the step writing into it", () => {
    const s = steps(
      nb([
        [['imports'], 'from pathlib import Path'],
        [['step:make'], "out = Path('outputs')\nout.mkdir(exist_ok=True)"],
        [['step:write'], "(out / 'a.txt').write_text('hello')"],
        [['step:list'], 'names = sorted(p.name for p in out.iterdir())'],
        [['step:deep'], "found = list(out.rglob('*.txt'))"],
      ]),
    );
    assert.ok(s.list?.after.includes('write'), JSON.stringify(s.list?.after));
    assert.ok(s.deep?.after.includes('write'), JSON.stringify(s.deep?.after));
  });

  it('plot and hist draw on axes (a change a later step sees), not on frames', () => {
    const s = steps(
      nb([
        [['imports'], 'import matplotlib.pyplot as plt\nimport pandas as pd'],
        [
          ['step:make'],
          'fig, ax = plt.subplots()\nfig2, axes = plt.subplots(1, 2)\ndf = pd.DataFrame({"a": [1, 2]})',
        ],
        [['step:draw'], 'ax.plot([1, 2])\ndf.plot()\ndf["a"].hist()'],
        [['step:loop'], 'for a in axes:\n    a.hist([1, 2])'],
        [['step:onto'], 'pd.Series([3, 4]).plot(ax=ax)'],
        [['step:show'], 'lines = ax.get_lines()\nn = len(df)\nshown = fig\nboth = fig2'],
      ]),
    );
    assert.deepEqual(s.show?.inputSources, { ax: 'onto', df: 'make', fig: 'onto', fig2: 'loop' });
    assert.deepEqual(s.draw?.outputs, ['ax', 'fig']);
  });

  it('a deleted name that shadowed a builtin is the builtin again; any other deleted name is an error', () => {
    const r = analyzed(
      nb([
        [
          ['step:a'],
          'def len(x):\n    return 0\n\nsize = len([1])\ndel len\nitems = [1, 2]\ndel items',
        ],
        [['step:b'], 'n = len([1, 2]) + size'],
        [['step:c'], 'm = len(items)'],
      ]),
    );
    assert.deepEqual(r.byName.b?.inputSources, { size: 'a' });
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.cell]),
      [['deleted-name', 2]],
    );
  });

  it('loads each variable from the nearest earlier producer, and a change in place makes a new producer', () => {
    const s = steps(
      nb([
        [['step:a'], 'x = [1]\ny = 2'],
        [['step:b'], 'x.append(y)'],
        [['step:c'], 'y = 5'],
        [['step:d'], 'z = len(x) + y'],
      ]),
    );
    assert.deepEqual(s.d?.inputSources, { x: 'b', y: 'c' });
    assert.deepEqual(s.a?.outputs, ['x', 'y']);
    assert.deepEqual(s.b?.outputs, ['x']);
    assert.deepEqual(s.d?.after, ['b', 'c']);
  });

  it('merges neighbouring cells with the same step tag and lets untagged cells join the step above', () => {
    const s = steps(
      nb([
        [['step:a'], 'x = 1'],
        [['step:a'], 'y = x'],
        [[], 'w = y'],
        [['step:b'], 'print(w)'],
      ]),
    );
    assert.deepEqual(s.a?.cells, [0, 1, 2]);
    assert.deepEqual(s.b?.inputs, ['w']);
  });

  it('the metrics cell is reported by the last step before it, which loads what it lacks', () => {
    const other = analyzed(
      nb([
        [['pipeline-parameters'], 'rate = 0.1'],
        [['step:train'], 'acc = 0.9'],
        [['step:other'], 'note = "x"'],
        [['pipeline-metrics'], 'print(acc)\nprint(rate)'],
      ]),
    ).byName.other;
    assert.deepEqual(other?.metrics, ['acc', 'rate']);
    // It runs the cell too: its prints show as in the notebook.
    assert.deepEqual(other?.cells, [2, 3]);
    assert.deepEqual(other?.inputs, ['acc']);
    assert.deepEqual(other?.parameters, ['rate']);
  });

  it('typed parameters, including negative numbers, lists and dicts', () => {
    const r = analyzeNotebook(
      nb([
        [['parameters'], 'a = -3\nb = 2.5e-3\nc = "s"\nd = False\ne = [1, "x"]\nf = {"k": 1}'],
        [['step:s'], 'print(a, b, c, d, e, f)'],
      ]),
    );
    assert.deepEqual(
      r.graph?.parameters.map((p) => [p.name, p.type, p.default]),
      [
        ['a', 'int', -3],
        ['b', 'float', 0.0025],
        ['c', 'str', 's'],
        ['d', 'bool', false],
        ['e', 'list', [1, 'x']],
        ['f', 'dict', { k: 1 }],
      ],
    );
  });

  it('notebook defaults: Cellflow metadata over Kale metadata, cell tags over both', () => {
    const r = analyzeNotebook(
      nb([[['step:a', 'cpu:2'], 'x = 1']], {
        kubeflow_notebook: {
          pipeline_name: 'kale-name',
          docker_image: 'kale:img',
          steps_defaults: ['label:from:kale', 'cpu:1'],
        },
        cellflow: { name: 'Our Name!', image: 'ours:img', stepDefaults: ['memory:2Gi'] },
      }),
    );
    assert.equal(r.graph?.pipeline.name, 'our-name');
    const a = r.graph?.steps[0];
    assert.equal(a?.image, 'ours:img');
    assert.deepEqual(a?.labels, { from: 'kale' });
    assert.deepEqual([a?.resources.cpu, a?.resources.memory], ['2', '2Gi']);
  });

  it('untagged code above the first step that no step needs is reported and left out (Kale)', () => {
    const r = analyzed(
      nb([
        [[], '!pip install --user -r requirements.txt\nsetup = 1'],
        [['step:a'], 'x = 2'],
        [['step:b'], 'print(x)'],
      ]),
    );
    assert.deepEqual(
      r.diagnostics.map((d) => d.code),
      ['untagged-cell'],
    );
    assert.deepEqual(r.byName.a?.cells, [1]);
  });

  it('names looked up through globals() by an f-string key are what a step needs', () => {
    const s = steps(
      nb([
        [
          ['step:define'],
          "def do(day):\n    g = globals()\n    fname = f'day{day}_1'\n    return g[fname](g[f'in{day}']) if fname in g else None",
        ],
        [['step:data'], 'in13 = [1, 2]\nin14 = [3]\nother = 0'],
        [['step:solve'], 'def day13_1(xs):\n    return sum(xs)'],
        [['step:run'], 'print(do(13), globals()["other"])'],
      ]),
    );
    assert.deepEqual(s.run?.inputs, ['in13', 'in14', 'other']);
    assert.deepEqual(
      s.run?.units.map((u) => u.names),
      [['do'], ['day13_1']],
    );
  });

  it('a notebook without step tags runs whole, as one step (its skip cells left out)', () => {
    const r = analyzed(
      nb([
        [[], 'import json\nrows = [1, 2]'],
        [['skip'], 'print("scratch")'],
        [[], 'rows.append(3)\nprint(json.dumps(rows))'],
      ]),
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.severity, d.cell]),
      [['whole-notebook-step', 'info', 0]],
    );
    assert.deepEqual(Object.keys(r.byName), ['notebook']);
    assert.deepEqual(r.byName.notebook?.cells, [0, 2]);
    // A role tag makes the notebook Kale's again: here, no step.
    const imports = analyzed(
      nb([
        [['imports'], 'import json'],
        [[], 'print(json)'],
      ]),
    );
    assert.deepEqual(
      imports.diagnostics.map((d) => d.code),
      ['no-steps'],
    );
  });

  it('untagged code above the first step that a step needs starts the first step', () => {
    const r = analyzed(
      nb([
        [[], 'rows = [1, 2]'],
        [[], 'rows.append(3)'],
        [['imports'], 'import json\nlimit = 2'],
        [['step:a'], 'x = 1'],
        [['step:b'], 'print(json.dumps(rows), x)'],
      ]),
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.cell, d.message]),
      [
        [
          'untagged-cells-start-step',
          0,
          'Cells 1-2 have no tag and no step above, and step `b` uses `rows`, which cell 1 defines, so they run at the start of step `a`. Fix: tag cell 1 `step:NAME` to make them a step of their own.',
        ],
      ],
    );
    // The imports cell's statement that runs once runs in the step after it, as without them.
    assert.deepEqual(r.byName.a?.cells, [0, 1, 2, 3]);
    assert.deepEqual(r.byName.a?.outputs, ['rows', 'x']);
    assert.deepEqual(r.byName.b?.inputs, ['rows', 'x']);
  });

  it('untagged imports above the first step: offers to tag them, and the prelude wins over skipped cells', () => {
    const r = analyzeNotebook(
      nb([
        [[], 'import json'],
        [['imports'], 'import json'],
        [['step:a'], 'x = json.dumps(1)'],
        [['skip'], 'import json'],
        [['step:b'], 'y = json.loads(x)'],
      ]),
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.fix?.tags]),
      [['untagged-cell', { cell: 0, tags: ['imports'] }]],
    );
  });

  it('offers tag fixes the editors can apply', () => {
    const bad = analyzeNotebook(nb([[['step:Train Model'], 'x = 1']])).diagnostics[0];
    assert.deepEqual(bad?.fix?.tags, { cell: 0, tags: ['step:train_model'] });
  });

  it('issue 13: Kale block rules: a skip cell is never the block above, a repeated name continues its step, an empty block: is no tag', () => {
    const { diagnostics, byName: s } = analyzed(
      nb([
        [['step:a'], 'x = 1'],
        [['skip'], 'print("scratch")'],
        [[], 'y = x + 1'],
        [['step:b'], 'z = y * 2'],
        [['step:a', 'label:k:v'], 'w = x * 3'],
        [['block:'], 'v = w'],
        [['step:c'], 'print(v)'],
      ]),
    );
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(s.a?.cells, [0, 2, 4, 5]);
    assert.deepEqual(s.b?.inputSources, { y: 'a' });
    assert.deepEqual(s.a?.inputSources, {});
    assert.deepEqual(s.c?.inputSources, { v: 'a' });
    assert.deepEqual(s.a?.labels, { k: 'v' });
  });

  it('issue 13: a continued step that changes what a step in between uses is warned about', () => {
    const r = analyzeNotebook(
      nb([
        [['step:a'], 'xs = [1]'],
        [['step:b'], 'print(xs)'],
        [['step:a'], 'xs.append(2)'],
      ]),
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.cell]),
      [['continued-step-changes-value', 2]],
    );
  });

  it('a continued step that reads its own value a step in between changed is warned about', () => {
    const diagnostics = (cells: [string[], string][]) =>
      analyzeNotebook(nb(cells)).diagnostics.map((d) => [d.code, d.cell, d.line]);
    assert.deepEqual(
      diagnostics([
        [['block:a'], 'x = 1\ny = 2'],
        [['block:b'], 'x = x + 1\nprint(y)'],
        [['block:a'], 'z = 0\nprint(x, y)'],
      ]),
      [['continued-step-reads-changed-value', 2, 2]],
    );
    // What it reads, nothing in between changes (or it binds it first): its own value is right.
    for (const last of ['print(y)', 'y = 5\nprint(y)'])
      assert.deepEqual(
        diagnostics([
          [['block:a'], 'x = 1\ny = 2'],
          [['block:b'], 'x = x + 1'],
          [['block:a'], last],
        ]),
        [],
        last,
      );
  });

  it('issue 13: imports and definitions are code, not data: later steps run them again', () => {
    const s = steps(
      nb([
        [['step:a'], 'import numpy as np\nfrom math import (sqrt,\n  pi)\nx = np.zeros(3)'],
        [['step:b'], 'def f(a, k=2):\n    return sqrt(a) * k + OFFSET\nsq = lambda v: v * v'],
        [['step:c'], 'import os.path\nOFFSET = np.pi'],
        [['step:d'], 'print(f(4), sq(2), os.path.sep, x)'],
      ]),
    );
    assert.deepEqual(s.a?.outputs, ['x']);
    assert.deepEqual(s.b?.outputs, []);
    assert.deepEqual(s.c?.inputs, []);
    // f's body reads OFFSET when called (in d), where c has bound it; `sqrt` comes with f.
    assert.deepEqual(s.d?.inputSources, { OFFSET: 'c', x: 'a' });
    assert.deepEqual(
      s.d?.units.filter((u) => u.eager).map((u) => [u.cell, u.line, u.names]),
      [
        [0, 2, ['sqrt', 'pi']],
        [1, 1, ['f']],
        [1, 3, ['sq']],
        [2, 1, ['os']],
      ],
    );
  });

  it("issue 13: a function may use a name a later cell defines; a builtin the notebook redefines is the notebook's", () => {
    const { diagnostics, byName } = analyzed(
      nb([
        [
          ['step:a'],
          'def show(v):\n    return np.round(v, 1)\ndef display(v):\n    print("mine", v)',
        ],
        [['step:b'], 'import numpy as np'],
        [['step:c'], 'display(show(1.23))'],
      ]),
    );
    assert.deepEqual(diagnostics, []);
    const c = byName.c;
    assert.deepEqual(
      c?.units.map((u) => u.names),
      [['show'], ['display'], ['np']],
    );
  });

  it('issue 13: configuration calls hold in later steps; a seeded random state flows through the steps that call code', () => {
    const s = steps(
      nb([
        [
          ['step:a'],
          'import warnings\nimport numpy as np\nwarnings.filterwarnings("ignore")\nnp.random.seed(0)',
        ],
        [['step:b'], 'r = np.random.rand(2)'],
        [['step:c'], 'print(len(r))'],
        [['step:d'], 'q = np.random.rand(2)'],
      ]),
    );
    assert.deepEqual(s.b?.inputSources, { 'random-state': 'a' });
    assert.deepEqual(s.c?.inputSources, { r: 'b' });
    assert.deepEqual(s.d?.inputSources, { 'random-state': 'b' });
    assert.ok(s.d?.units.some((u) => u.kind === 'config' && u.code.includes('filterwarnings')));
    assert.ok(!s.d?.units.some((u) => u.code.includes('seed')));
  });

  it("libraries' registration calls hold in later steps: tqdm.pandas(), pandarallel's initialize, plotly's notebook mode", () => {
    const s = steps(
      nb([
        [
          ['step:a'],
          'from tqdm import tqdm\nfrom pandarallel import pandarallel\nfrom plotly.offline import init_notebook_mode\ntqdm.pandas()\npandarallel.initialize()\ninit_notebook_mode(connected=True)\nimport pandas as pd\ndf = pd.DataFrame({"a": [1]})',
        ],
        [['step:b'], 'df["b"] = df["a"].progress_apply(str)'],
      ]),
    );
    const config = s.b?.units.filter((u) => u.kind === 'config').map((u) => u.code);
    assert.deepEqual(config, [
      'tqdm.pandas()',
      'pandarallel.initialize()',
      'init_notebook_mode(connected=True)',
    ]);
  });

  it("issue 13: an imports cell's other statements run once, in the step after it, and flow as values", () => {
    const s = steps(
      nb([
        [['imports'], 'import numpy as np\nx = np.zeros(3)'],
        [['step:a'], 'x[0] = 12'],
        [['step:b'], 'print(x)'],
      ]),
    );
    assert.deepEqual(s.a?.cells, [0, 1]);
    assert.deepEqual(s.b?.inputSources, { x: 'a' });
    assert.deepEqual(s.b?.units, []);
    assert.deepEqual(
      s.a?.units.map((u) => u.names),
      [['np']],
    );
  });

  it('issue 13: fitting models on shared data keeps the training steps independent', () => {
    const s = steps(
      nb([
        [['imports'], 'from x import train_test_split, GridSearchCV, A, B, Pipeline, score'],
        [['step:load'], 'X, y = [1, 2], [0, 1]'],
        [['step:split'], 'X_train, X_test, y_train, y_test = train_test_split(X, y)'],
        [
          ['step:a'],
          'm1 = GridSearchCV(A(), {}).fit(X_train, y_train)\ns1 = score(y_test, m1.predict(X_test))',
        ],
        [['step:b'], 'm2 = B().fit(X_train, y_train)\ns2 = score(y_test, m2.predict(X_test))'],
        [['step:c'], 'pipe = Pipeline([("m", m2)])\npipe.fit(X_train, y_train)'],
        [['step:d'], 'print(s1, s2, m2)'],
      ]),
    );
    assert.deepEqual(s.a?.after, ['split']);
    assert.deepEqual(s.b?.after, ['split']);
    // Fitting the pipeline fits the model inside it: d gets m2 from c.
    assert.deepEqual(s.d?.inputSources, { m2: 'c', s1: 'a', s2: 'b' });
  });

  it('issue 13: a value that cannot cross a step is reported where its origin shows it', () => {
    const r = analyzeNotebook(
      nb([
        [
          ['step:a'],
          'import socket\nsock = socket.socket()\nsquares = (i * i for i in range(3))\nrows = [1, 2]',
        ],
        [['step:b'], 'print(sock.fileno(), sum(squares), rows)'],
        [['step:c'], 'sock = socket.socket()\nname = sock.getsockname()'],
        [['step:d'], 'print(name)'],
      ]),
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.cell, d.line]),
      [['unsavable-value', 0, 2]],
    );
    assert.match(r.diagnostics[0]!.message, /network socket.*from step `a` to `b`/);
  });

  it('an open file and a sqlite3 connection cross steps: the loading step opens them again', () => {
    const text = nb([
      [['step:a'], 'import sqlite3\nf = open("data.txt")\ncon = sqlite3.connect("data.db")'],
      [['step:b'], 'print(f.readline(), con.execute("select 1").fetchall())'],
    ]);
    assert.deepEqual(analyzeNotebook(text).diagnostics, []);
    assert.deepEqual(steps(text).b?.inputSources, { f: 'a', con: 'a' });
  });

  it('a generator expression or a factory-made class crosses steps as code: the step runs it again', () => {
    const s = steps(
      nb([
        [['imports'], 'from collections import namedtuple\nfrom typing import Union'],
        [
          ['step:a'],
          'rows = [1, 2]\nsquares = (i * i for i in rows)\nPair = namedtuple("Pair", "a b")\n' +
            'Dyn = type("Dyn", (), {"k": 5},)\nkind = type(rows)\nTree = Union["Node", int]',
        ],
        [['step:b'], 'p = Pair(1, 2)\nd = Dyn()'],
        [['step:c'], 'print(sum(squares), p, d.k, kind, Tree)'],
      ]),
    );
    assert.deepEqual(s.c?.inputSources, { rows: 'a', kind: 'a', p: 'b', d: 'b' });
    assert.ok(s.c?.units.some((u) => u.code.startsWith('squares = ')));
    assert.ok(s.c?.units.some((u) => u.code.startsWith('Pair = ')));
    // `type` given three arguments makes a class; given one, it is a value.
    assert.ok(s.c?.units.some((u) => u.code.startsWith('Dyn = ')));
    // A type alias is code too: one naming a type in quotes cannot be saved.
    assert.ok(s.c?.units.some((u) => u.code.startsWith('Tree = ')));
  });

  it('a value a function made loads with the function, its defaults loaded from other steps, and the classes it uses', () => {
    const s = steps(
      nb([
        [['step:a'], 'from typing import *\nfrom collections import Counter\nMEAN = 100'],
        [
          ['step:b'],
          'class Dist(Counter):\n    def __init__(self, xs: Iterable):\n        super().__init__(xs)',
        ],
        [['step:c'], 'def normal(s, m=MEAN) -> Dist:\n    return Dist([m, m + s])'],
        [['step:d'], 'stock = normal(1)'],
        [['step:e'], 'print(stock)'],
      ]),
    );
    // `normal` runs on demand as `stock` loads: its default is a value of step `a`, which the
    // step loads first; `Dist`'s `Iterable` comes from `import *`, which every step runs first.
    assert.deepEqual(
      s.e?.units.map((u) => [u.names, u.eager, u.inputs]),
      [
        [[], true, []],
        [['Counter'], false, []],
        [['Dist'], false, []],
        [['normal'], false, ['MEAN']],
      ],
    );
    assert.deepEqual(s.e?.inputSources, { MEAN: 'a', stock: 'd' });
  });

  it('a name a step binds on some paths only keeps the value from before where it does not', () => {
    const s = steps(
      nb([
        [['step:a'], 'x = 0\nuse_gpu = False\nfor i in range(3):\n    pass'],
        [['step:b'], 'if use_gpu:\n    x = 1\nfor i in []:\n    pass\nif use_gpu:\n    y = 2'],
        [['step:c'], 'print(x, i)'],
      ]),
    );
    // Step b saves `x` and `i` for step c, so it loads the values it may not bind; `y` has none.
    assert.deepEqual(s.b?.inputSources, { i: 'a', use_gpu: 'a', x: 'a' });
    assert.deepEqual(s.c?.inputSources, { i: 'b', x: 'b' });
  });

  it('a definition whose definition-time name is bound again loads from the step defining it', () => {
    const s = steps(
      nb([
        [['step:a'], 'N = 3\ndef f(x=N):\n    return x\nclass C:\n    size = N'],
        [['step:b'], 'N = 5'],
        [['step:c'], 'print(f(), C.size, N)'],
      ]),
    );
    // What `f` and `C` hold (the default, the class attribute) is step a's value; their
    // definitions still run again in step c, which loads `N` for that from step b.
    assert.deepEqual(s.a?.outputs, ['C', 'f']);
    assert.deepEqual(s.c?.inputSources, { C: 'a', N: 'b', f: 'a' });
    assert.deepEqual(
      s.c?.units.map((u) => [u.names, u.eager]),
      [
        [['f'], true],
        [['C'], true],
      ],
    );
  });

  it('`t = %timeit -o EXPR` loads what the timed expression reads', () => {
    const s = steps(
      nb([
        [['step:a'], 'xs = [1, 2]\ndef total(v):\n    return sum(v)'],
        [['step:b'], 't = %timeit -o -n1 -r1 total(xs)'],
      ]),
    );
    assert.deepEqual(s.b?.inputSources, { xs: 'a' });
    assert.deepEqual(
      s.b?.units.map((u) => u.names),
      [['total']],
    );
  });

  it('a seed after an import in an earlier cell of its step makes the random state flow', () => {
    const s = steps(
      nb([
        [['step:seed'], 'import random'],
        [[], 'random.seed(101)\nprint(random.randint(0, 100))'],
        [['step:draw'], 'random.randint(0, 100)'],
      ]),
    );
    assert.deepEqual(s.seed?.outputs, ['random-state']);
    assert.deepEqual(s.draw?.inputSources, { 'random-state': 'seed' });
  });

  it('a definition on some paths only runs the one before it first', () => {
    const s = steps(
      nb([
        [['step:a'], 'def g():\n    return 1\nfast = False'],
        [['step:b'], 'if fast:\n    def g():\n        return 2'],
        [['step:c'], 'print(g())'],
      ]),
    );
    assert.deepEqual(
      s.c?.units.map((u) => u.code.split('\n')[0]),
      ['def g():', 'if fast:'],
    );
    assert.deepEqual(s.c?.inputSources, { fast: 'a' });
  });

  it('a step that only defines a function binding a global leaves that name to the steps calling it', () => {
    const s = steps(
      nb([
        [['step:a'], 'class F:\n    def __call__(self, v):\n        variables["x"] = v'],
        [['step:b'], 'def execute():\n    global variables\n    variables = {}\n    F()(1)'],
        [['step:c'], 'execute()\nprint(variables)'],
      ]),
    );
    // Step b's function body reads `F`, whose method changes `variables`, but b calls nothing.
    assert.deepEqual(s.b?.outputs, []);
    assert.deepEqual(s.c?.inputSources, {});
  });

  it("IPython's `_` is the last value a cell showed, loaded from the step that showed it", () => {
    const s = steps(
      nb([
        [['step:a'], "words = ['b', 'a']\nsorted(words)"],
        [['step:b'], "print('no value')"],
        [['step:c'], 'len(words) if words else None'],
        [['step:d'], 'print(_, __)'],
        [['step:e'], 'for _ in range(3):\n    pass'],
        [['step:f'], '7 * 7'],
        [['step:g'], 'print(_)'],
      ]),
    );
    // `c`'s value may be None, when `_` and `__` stay `a`'s: `c` loads them. `print` shows none.
    assert.deepEqual(s.b?.inputSources, {});
    assert.deepEqual(s.c?.inputSources, { _: 'a', __: 'a', words: 'a' });
    assert.deepEqual(s.d?.inputSources, { _: 'c', __: 'c' });
    // Once the notebook binds `_` itself, IPython leaves it to the notebook.
    assert.deepEqual(s.g?.inputSources, { _: 'e' });
  });

  it('calling a cached function changes it: later steps load what it keeps', () => {
    const s = steps(
      nb([
        [
          ['step:a'],
          'import functools\n\n@functools.lru_cache(maxsize=None)\ndef f(n):\n    return n',
        ],
        [['step:b'], 'f(3)'],
        [['step:c'], 'print(f.cache_info())'],
      ]),
    );
    assert.deepEqual(s.c?.inputSources, { f: 'b' });
    assert.deepEqual(
      s.c?.units.map((u) => [u.names, u.eager]),
      [
        [['functools'], true],
        [['f'], true],
      ],
    );
  });

  it("a method's names are the module's, and a function finds the notebook's own builtin", () => {
    const s = steps(
      nb([
        [['step:a'], "def helper(x):\n    return x + 1\n\ndef abs(x):\n    return 'mine'"],
        [['step:b'], 'class A:\n    def helper(self, x):\n        return helper(x) * 10'],
        [['step:c'], 'def run(x):\n    return abs(x)'],
        [['step:d'], 'print(A().helper(1), run(3))'],
      ]),
    );
    assert.deepEqual(s.d?.units.map((u) => u.names).sort(), [['A'], ['abs'], ['helper'], ['run']]);
  });

  it("IPython's %precision and %cd hold in later steps", () => {
    const s = steps(
      nb([
        [['step:a'], '%precision 3\n%cd data'],
        [['step:b'], 'x = 1.5\nx'],
      ]),
    );
    assert.deepEqual(
      s.b?.units.map((u) => u.code),
      ['__cellflow__.set_precision("3")', '__cellflow__.chdir("data")'],
    );
  });

  it('a step that loads a comprehension of instances defines their class', () => {
    const s = steps(
      nb([
        [['imports'], 'from collections import namedtuple'],
        [['step:a'], 'Pair = namedtuple("Pair", "a b")'],
        [['step:b'], 'pairs = [Pair(i, i) for i in range(3)]\nby_a = {p.a: p for p in pairs}'],
        [['step:c'], 'print(by_a[1])'],
      ]),
    );
    assert.deepEqual(s.c?.inputSources, { by_a: 'b' });
    assert.ok(s.c?.units.some((u) => u.code.startsWith('Pair = ')));
  });

  it('a call of a notebook function that yields crosses steps as code; of one that never ends, a second user is warned', () => {
    const text = nb([
      [['functions'], 'def squares(n):\n    for i in range(n):\n        yield i * i'],
      [['step:a'], 'n = 4\ngen = squares(n)\nlate = gen'],
      [['step:b'], 'print(list(gen))'],
      [['step:c'], 'print(next(gen))'],
    ]);
    const s = steps(text);
    // Step `a` uses `gen` after making it: `b` makes it again and loads where `a` left it (the
    // runtime saves a generator with the items it has left, unless it never ends).
    assert.deepEqual(s.b?.inputSources, { n: 'a', gen: 'a' });
    assert.ok(s.b?.units.some((u) => u.code === 'gen = squares(n)'));
    assert.deepEqual(s.c?.inputSources, { n: 'a', gen: 'b' });
    assert.deepEqual(analyzeNotebook(text).diagnostics, []);
    // One that yields in a `while True:` loop cannot be saved part way: it starts again.
    for (const where of [['functions'], ['step:defs']])
      assert.deepEqual(
        analyzeNotebook(
          nb([
            [where, 'def naturals():\n    n = 0\n    while True:\n        yield n\n        n += 1'],
            [['step:a'], 'nat = naturals()\nnext(nat)'],
            [['step:b'], 'print(next(nat))'],
          ]),
        ).diagnostics.map((d) => [d.code, d.cell, d.line]),
        [['generator-restarted', 1, 1]],
        where[0],
      );
    // A function whose generator is only in a nested function returns that function: data.
    const nested = steps(
      nb([
        [['step:a'], 'def outer():\n    def inner():\n        yield 1\n    return 3\nv = outer()'],
        [['step:b'], 'print(v)'],
      ]),
    );
    assert.deepEqual(nested.b?.inputSources, { v: 'a' });
  });

  it('a generator a step goes through goes on in the next step from where it was left', () => {
    const text = nb([
      [['step:a'], 'G = (n ** 2 for n in range(12))\nlist(G)'],
      [['step:b'], 'list(G)'],
      [['step:c'], 'H = (n for n in range(6))'],
      [['step:d'], 'next(H)'],
      [['step:e'], 'print(list(H))'],
    ]);
    const s = steps(text);
    assert.deepEqual(s.b?.inputSources, { G: 'a' });
    assert.ok(s.b?.units.some((u) => u.code.startsWith('G = ')));
    // `c` makes `H` and does not use it: `d` makes it again, and `e` loads where `d` left it.
    assert.deepEqual(s.d?.inputSources, {});
    assert.deepEqual(s.e?.inputSources, { H: 'd' });
    // A generator expression over one `for` is saved where it is: no warning, no error.
    assert.deepEqual(analyzeNotebook(text).diagnostics, []);
  });

  it('a CSV reader and a ufunc made from a Python function are made again where they are used', () => {
    const text = nb([
      [['imports'], 'import csv\nimport numpy as np'],
      [
        ['step:a'],
        'f = open("d.csv")\nrows = csv.reader(f)\nadd = np.frompyfunc(lambda a, b: a + b, 2, 1)',
      ],
      [['step:b'], 'print(next(rows), add(1, 2))'],
    ]);
    assert.deepEqual(analyzeNotebook(text).diagnostics, []);
    const b = steps(text).b!;
    assert.deepEqual(b.inputSources, { f: 'a' });
    assert.deepEqual(
      b.units.map((u) => u.code),
      [
        'import csv',
        'import numpy as np',
        'rows = csv.reader(f)',
        'add = np.frompyfunc(lambda a, b: a + b, 2, 1)',
      ],
    );
  });

  it('a vectorized function and patsy design matrices are made again where they are used', () => {
    const s = steps(
      nb([
        [['imports'], 'import numpy as np\nimport patsy'],
        [
          ['step:a'],
          "def f(v):\n    return v + 1\nvec = np.vectorize(f, otypes=[float])\ndata = {'x': [1, 2], 'y': [3, 4]}\ny, X = patsy.dmatrices('y ~ x', data)",
        ],
        [['step:b'], 'print(vec(np.arange(2)), X, y)'],
      ]),
    );
    assert.deepEqual(s.b?.inputSources, { data: 'a' });
    assert.ok(s.b?.units.some((u) => u.code === "y, X = patsy.dmatrices('y ~ x', data)"));
    assert.ok(s.b?.units.some((u) => u.code.startsWith('vec = np.vectorize(')));
  });

  it('string literals passed to a notebook function or class that evaluates them are code: their names load', () => {
    const display = [
      'class display(object):',
      '    def __init__(self, *args):',
      '        self.args = args',
      '    def __repr__(self):',
      "        return '\\n'.join(a + repr(eval(a)) for a in self.args)",
      'def show(*names):',
      '    print(names)',
    ].join('\n');
    const { diagnostics, byName: s } = analyzed(
      nb([
        [['imports'], 'import pandas as pd'],
        [['step:a'], "df1 = pd.DataFrame({'a': [1]})\ndf2 = df1 * 2\ndf3 = df1"],
        [['step:b'], display],
        [['step:c'], "display('df1', 'pd.concat([df1, df2])', 'not code', 'no_such_name')"],
        [['step:d'], "show('df3')\ndf1 = 5\ndisplay('df1')"],
      ]),
    );
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(s.c?.inputSources, { df1: 'a', df2: 'a' });
    assert.ok(s.c?.units.some((u) => u.names.includes('display')));
    // `show` runs no code it is given; `df1` is bound before the call.
    assert.deepEqual(s.d?.inputSources, {});
  });

  it('an if/try that defines functions (and imports) is code: a later step runs it again', () => {
    const s = steps(
      nb([
        [['step:a'], 'FAST = True'],
        [
          ['step:b'],
          'if FAST:\n    def f(x):\n        return x + 1\nelse:\n    def f(x):\n        return x - 1\ntry:\n    import numpy as np\n    HAVE_NP = True\nexcept ImportError:\n    HAVE_NP = False',
        ],
        [['step:c'], 'print(f(1), HAVE_NP)'],
      ]),
    );
    assert.deepEqual(s.c?.inputSources, { FAST: 'a' });
    assert.deepEqual(
      s.c?.units.map((u) => u.names),
      [['f'], ['np', 'HAVE_NP']],
    );
  });

  it('a value saved with others (they may share objects) loads with the classes they need', () => {
    const s = steps(
      nb([
        [
          ['step:a'],
          'class Model:\n    def __init__(self, C=1):\n        self.C = C\nC = 2\nm = Model(C=C)',
        ],
        [['step:b'], 'print(C + 1)'],
        [['step:c'], 'print(m.C)'],
      ]),
    );
    assert.deepEqual(s.a?.shared, [['C', 'm']]);
    assert.deepEqual(s.b?.inputSources, { C: 'a' });
    assert.deepEqual(
      s.b?.units.map((u) => [u.names, u.eager]),
      [[['Model'], false]],
    );
  });

  it('a function changing a name nothing binds makes no step its producer (the call would fail)', () => {
    const { diagnostics, byName: s } = analyzed(
      nb([
        [['step:a'], 'def load(path):\n    return image.load_img(path)'],
        [['step:b'], 'def predict(path):\n    return load(path)'],
        [['step:c'], 'def detect(path):\n    return predict(path) > 0\nprint("defined")'],
        [['step:d'], 'def init():\n    global counter\n    counter = 0\ninit()'],
        [['step:e'], 'print(counter)'],
      ]),
    );
    assert.deepEqual(s.b?.inputSources, {});
    assert.deepEqual(s.c?.inputSources, {});
    // A function that binds a global makes it.
    assert.deepEqual(s.e?.inputSources, { counter: 'd' });
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['function-uses-undefined-name'],
    );
  });

  it("sympy's lambdify functions (a generated module's, unsavable) are made again where used", () => {
    const s = steps(
      nb([
        [['imports'], 'import sympy\nfrom sympy import lambdify'],
        [['step:a'], "x = sympy.Symbol('x')\nf = sympy.lambdify(x, x**2)\ng = lambdify(x, x + 1)"],
        [['step:b'], 'print(f(3), g(3))'],
      ]),
    );
    assert.deepEqual(s.b?.inputSources, { x: 'a' });
    assert.deepEqual(
      s.b?.units.filter((u) => u.code.includes('lambdify(x')).map((u) => u.names),
      [['f'], ['g']],
    );
  });

  it("scipy's sparse LU factorization (unsavable) is made again where used", () => {
    const s = steps(
      nb([
        [['imports'], 'import scipy as sp\nimport scipy.sparse.linalg'],
        [['step:a'], 'A = sp.sparse.identity(3, format="csc")\nlu = sp.sparse.linalg.splu(A)'],
        [['step:b'], 'print(lu.solve([1.0, 2.0, 3.0]))'],
      ]),
    );
    assert.deepEqual(s.b?.inputSources, { A: 'a' });
    assert.deepEqual(
      s.b?.units.filter((u) => u.code.includes('splu(')).map((u) => u.names),
      [['lu']],
    );
  });

  it('a function using a name nothing defines is a warning: Jupyter fails only if it is called', () => {
    const r = analyzeNotebook(
      nb([
        [['step:a'], 'def f():\n    return np.arange(3)\nx = 1'],
        [['step:b'], 'print(x)'],
      ]),
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.cell, d.line]),
      [['warning', 'function-uses-undefined-name', 0, 2]],
    );
    assert.ok(r.graph !== undefined);
  });

  it('names read by code in strings a call runs (eval, pd.eval, query) are loaded', () => {
    const s = steps(
      nb([
        [['imports'], 'import pandas as pd'],
        [['step:a'], "df1 = pd.DataFrame({'a': [1, 2]})\nlimit = 1\nk = 2\nunused = 3"],
        [['step:b'], "pd.eval('df1 + 1')"],
        [['step:c'], 'df1.query(\'a > @limit and a != "@unused"\')'],
        [['step:d'], "eval('k * 2')"],
      ]),
    );
    assert.deepEqual(s.b?.inputSources, { df1: 'a' });
    assert.deepEqual(s.c?.inputSources, { df1: 'a', limit: 'a' });
    assert.deepEqual(s.d?.inputSources, { k: 'a' });
  });

  it("sympy's init_printing() after `import *` holds in later steps, as configuration", () => {
    const s = steps(
      nb([
        [['step:a'], "from sympy import *\nx = Symbol('x')"],
        [['step:b'], 'init_printing()'],
        [['step:c'], '(x + pi)**2'],
      ]),
    );
    assert.deepEqual(
      s.c?.units.map((u) => u.code),
      ['from sympy import *', 'init_printing()'],
    );
  });

  it('what a step changes on a notebook class or function holds where it is defined again', () => {
    const s = steps(
      nb([
        [['step:a'], 'class Counter:\n    count = 0\nc = Counter()\ndef f():\n    return 1'],
        [['step:b'], 'Counter.count += 5\nf.calls = 1\nlimit = 3'],
        [['step:c'], 'Counter.limit = limit'],
        [['step:d'], 'print(c.count, Counter.limit, f.calls)'],
      ]),
    );
    const d = s.d!;
    // The definitions run again, and the changes load onto them as values (running the changes
    // again too would count twice).
    assert.deepEqual(
      d.units.map((u) => u.code.trimEnd()),
      ['class Counter:\n    count = 0', 'def f():\n    return 1'],
    );
    assert.deepEqual(d.inputSources, { c: 'a', Counter: 'c', f: 'b' });
  });

  it('what calls change on a notebook class or function flows like a value', () => {
    const s = steps(
      nb([
        [
          ['step:a'],
          'class Tracker:\n    history = []\n    @classmethod\n    def log(cls, x):\n        cls.history.append(x)',
        ],
        [['step:b'], 'Tracker.log(1)'],
        [['step:c'], 'Tracker.log(2)'],
        [['step:d'], 'print(Tracker.history)'],
        [['step:e'], 'class Config:\n    debug = False\ndef enable():\n    Config.debug = True'],
        [['step:f'], 'enable()'],
        [['step:g'], 'print(Config.debug)'],
        [
          ['step:h'],
          'class Counter:\n    made = 0\n    def __init__(self):\n        Counter.made += 1\nfirst = Counter()',
        ],
        [['step:i'], 'second = Counter()'],
        [['step:j'], 'print(Counter.made, first)'],
        [['step:k'], 'def ping():\n    ping.calls += 1\nping.calls = 0\nping()'],
        [['step:l'], 'ping()\nprint(ping.calls)'],
      ]),
    );
    // Each step that changes the class runs its definition and loads the changes before it.
    assert.deepEqual(
      s.b?.units.map((u) => u.names),
      [['Tracker']],
    );
    assert.deepEqual(s.b?.outputs, ['Tracker']);
    assert.deepEqual(s.c?.inputSources, { Tracker: 'b' });
    assert.deepEqual(
      s.c?.units.map((u) => u.names),
      [['Tracker']],
    );
    assert.deepEqual(s.d?.inputSources, { Tracker: 'c' });
    // A function's body that changes a class changes it when called.
    assert.deepEqual(s.f?.outputs, ['Config']);
    assert.deepEqual(s.g?.inputSources, { Config: 'f' });
    // A class that counts in itself in `__init__`, defined and used in the same step: the step
    // leaves the count; a loaded instance comes with the class as it is now.
    assert.deepEqual(s.i?.inputSources, { Counter: 'h' });
    assert.deepEqual(s.j?.inputSources, { Counter: 'i', first: 'h' });
    assert.deepEqual(s.l?.inputSources, { ping: 'k' });
    // The definitions stay code to the steps that change nothing on them.
    assert.deepEqual(s.a?.outputs, []);
    assert.deepEqual(s.e?.outputs, []);
  });

  it('a call of a closure with state changes it; a class that keeps its subclasses loads with them', () => {
    const s = steps(
      nb([
        [
          ['step:a'],
          'def make_counter():\n    n = 0\n    def step():\n        nonlocal n\n        n += 1\n        return n\n    return step\ncounter = make_counter()\ndef plain():\n    return lambda: 1\none = plain()\n' +
            'def collector():\n    seen = []\n    return lambda v: seen.append(v)\ncollect = collector()',
        ],
        [['step:b'], 'counter()\none()\ncollect(1)'],
        [['step:c'], 'print(counter(), one(), collect(2))'],
        [
          ['step:d'],
          'class Registry:\n    items = {}\n    def __init_subclass__(cls):\n        Registry.items[cls.__name__] = cls',
        ],
        [['step:e'], 'class Alpha(Registry):\n    pass'],
        [['step:f'], 'print(sorted(Registry.items))'],
      ]),
    );
    // `counter()` changes what `counter` counts, `collect(1)` the list it appends to; `one()`
    // changes nothing.
    assert.deepEqual(s.b?.outputs, ['collect', 'counter']);
    assert.deepEqual(s.c?.inputSources, { counter: 'b', one: 'a', collect: 'b' });
    // Defining a subclass changes the class (its `__init_subclass__` runs); a step that loads the
    // class can define the subclasses it holds on demand.
    assert.deepEqual(s.f?.inputSources, { Registry: 'e' });
    assert.deepEqual(
      s.f?.units.map((u) => [u.names, u.eager]),
      [
        [['Registry'], true],
        [['Alpha'], false],
      ],
    );
  });

  it('a method changes its class through its first parameter only where the class holds it', () => {
    const s = steps(
      nb([
        [
          ['step:a'],
          'import random\nclass Dice:\n    rng = random.Random(4)\n    def roll(self):\n        return self.rng.randint(1, 6)\nd = Dice()',
        ],
        [['step:b'], 'd.roll()'],
        [['step:c'], 'print(Dice().roll())'],
        [
          ['step:d'],
          'class Node:\n    made = 0\n    def __init__(self):\n        type(self).made += 1',
        ],
        [['step:e'], 'n = Node()'],
        [['step:f'], 'print(Node.made)'],
        [
          ['step:g'],
          'class Acc:\n    total = 0\n    def add(self, x):\n        self.total += x\n        self.seen = []\n        self.seen.append(x)',
        ],
        [['step:h'], 'acc = Acc()\nacc.add(2)'],
        [['step:i'], 'print(Acc.total, acc.total)'],
      ]),
    );
    // `self.rng` is the class's (no method sets it on `self`): rolling changes the class.
    assert.deepEqual(s.c?.inputSources, { Dice: 'b' });
    assert.deepEqual(s.f?.inputSources, { Node: 'e' });
    // `self.total += x` and `self.seen` are the instance's own: the class is unchanged.
    assert.deepEqual(s.i?.inputSources, { acc: 'h' });
  });

  it("a loaded instance's methods find the values they use, and leave them changed", () => {
    const s = steps(
      nb([
        [
          ['step:a'],
          "settings = {'n': 1}\nclass Job:\n    def run(self):\n        settings['n'] += 1\njob = Job()",
        ],
        [['step:b'], 'job.run()'],
        [['step:c'], 'print(settings)'],
      ]),
    );
    assert.deepEqual(s.b?.inputSources, { job: 'a', settings: 'a' });
    assert.deepEqual(s.b?.outputs, ['settings']);
    assert.deepEqual(s.c?.inputSources, { settings: 'b' });
  });

  it('`del g[k]` inside a function changes g when the function is called', () => {
    const s = steps(
      nb([
        [['step:a'], 'g = {"a": 1, "b": 2}\ndef drop(k):\n    del g[k]'],
        [['step:b'], 'drop("a")'],
        [['step:c'], 'print(g)'],
      ]),
    );
    assert.deepEqual(s.b?.outputs, ['g']);
    assert.deepEqual(s.c?.inputSources, { g: 'b' });
  });

  it('a value made in the functions cell is a value of the step after it, used by its functions', () => {
    const { diagnostics, byName: s } = analyzed(
      nb([
        [['functions'], "CONFIG = {'k': 3}\ndef score(v):\n    return v * CONFIG['k']"],
        [['step:a'], 'vals = [score(i) for i in range(3)]'],
        [['step:b'], "CONFIG['k'] = 10"],
        [['step:c'], 'print(score(9))'],
      ]),
    );
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(s.b?.inputSources, { CONFIG: 'a' });
    assert.deepEqual(s.c?.inputSources, { CONFIG: 'b' });
  });

  it("a step before a functions cell's values run gets them as Kale does: the cell's statements run there too", () => {
    const { diagnostics, byName: s } = analyzed(
      nb([
        [['imports'], 'import math'],
        [['step:load'], 'print(encode(2))'],
        [
          ['functions'],
          "LEVELS = ['lo', 'hi']\nWIDTH = len(LEVELS) * math.pi\ndef encode(v):\n    return LEVELS[v % 2], WIDTH",
        ],
        [['step:use'], 'LEVELS.append("mid")\nprint(encode(3))'],
        [['step:after'], 'print(LEVELS)'],
      ]),
    );
    assert.deepEqual(diagnostics, []);
    // `load` runs the cell's statements (not the definition's) itself; they run once in `use`.
    const rest = s.load?.units.find((u) => u.names.includes('LEVELS'));
    assert.deepEqual(rest?.names, ['LEVELS', 'WIDTH']);
    assert.equal(rest?.code.trim(), "LEVELS = ['lo', 'hi']\nWIDTH = len(LEVELS) * math.pi");
    assert.ok(s.load?.units.some((u) => u.names.includes('math')));
    assert.ok(!s.use?.units.some((u) => u.names.includes('LEVELS')));
    assert.deepEqual(s.after?.inputSources, { LEVELS: 'use' });
    // Statements that need a value no step has made by then do not run there: still a warning.
    const early = analyzed(
      nb([
        [['step:a'], 'print(helper())'],
        [['step:b'], 'X = [1, 2]'],
        [['functions'], 'CONST = 3\nmodel = sum(X)\ndef helper():\n    return CONST'],
      ]),
    );
    assert.deepEqual(
      early.diagnostics.map((d) => [d.severity, d.code]),
      [['warning', 'function-uses-undefined-name']],
    );
    assert.ok(!early.byName.a?.units.some((u) => u.names.includes('CONST')));
  });

  it('names bound together (`x = y = []`) cross steps together, one object', () => {
    const s = steps(
      nb([
        [['step:a'], 'x = y = []\nx.append(1)'],
        [['step:b'], 'print(y, x is y)'],
      ]),
    );
    assert.deepEqual(s.a?.shared, [['x', 'y']]);
  });

  it('a list a comprehension or `*` fills with an object crosses steps with that object', () => {
    const s = steps(
      nb([
        [['step:a'], 'empty = (0, 0)\nrows = [[1], [2]]'],
        [
          ['step:b'],
          'grid = [[empty] * 3 for _ in range(2)]\nline = [empty] * 4\nkept = [r for r in rows if r]\nsizes = [len(r) for r in rows]',
        ],
        [['step:c'], 'print(grid[0][0] is empty, line[1] is empty, kept[0] is rows[0], sizes)'],
      ]),
    );
    // A filtered list does not bring its source along (its items are most often numbers).
    assert.deepEqual(s.b?.shared, [['empty', 'grid', 'line']]);
  });

  it('a step that touches files runs after the steps above it that write files', () => {
    const s = steps(
      nb([
        [['step:plot'], 'import matplotlib.pyplot as plt\nfig = plt.figure()'],
        [['step:save'], 'fig.savefig("figure.png")'],
        [['step:other'], 'n = 1 + 1'],
        [['step:show'], '!ls -l figure.png'],
        [['step:load'], 'import pandas as pd\ndf = pd.read_csv("data.csv")'],
        [['step:svg'], 'from IPython.display import SVG\nsvg = SVG(filename="figure.svg")'],
        [['step:text'], 'label = "not a file name: x.y z"'],
      ]),
    );
    assert.deepEqual(s.show?.after, ['save']);
    assert.deepEqual(s.load?.after, ['save', 'show']);
    assert.deepEqual(s.other?.after, []);
    // A call given a file's name may read it, whatever the call.
    assert.deepEqual(s.svg?.after, ['save', 'show']);
    assert.deepEqual(s.text?.after, []);
    // `%run foo` reads foo.py (IPython adds the extension), which a cell above writes.
    const run = steps(
      nb([
        [['step:write'], "%%writefile foo.py\nprint('Hello world')"],
        [['step:run'], '%run foo'],
      ]),
    );
    assert.deepEqual(run.run?.after, ['write']);
  });

  it('a step that loads a value crossing as its file touches that file', () => {
    const s = steps(
      nb([
        [['step:make'], "import numpy as np\nmm = np.memmap('m.dat', mode='w+', shape=(4,))"],
        [['step:view'], 'section = mm[:2]'],
        [['step:write'], 'section[:] = 1.0'],
        [['step:log'], "log = open('log.txt', 'a')"],
        [['step:note'], "log.write('x')\nn = 2"],
        [['step:count'], 'm = n + 1'],
        [['step:remove'], '!rm m.dat'],
      ]),
    );
    assert.deepEqual(s.view?.after, ['make']);
    assert.deepEqual(s.write?.after, ['make', 'view']);
    assert.deepEqual(s.count?.after, ['note']);
    assert.deepEqual([...(s.remove?.after ?? [])].sort(), ['log', 'make', 'note', 'view', 'write']);
  });

  it('a model marked serve: is saved even when no later step loads it', () => {
    const s = steps(nb([[['step:train', 'serve:model'], 'model = {"w": 1}\nscore = 1']]));
    assert.deepEqual(s.train?.outputs, ['model']);
    assert.deepEqual(s.train?.serve, ['model']);
  });

  it('compiles nothing when there are errors', () => {
    const r = compile(nb([[['step:a'], 'x = y']]));
    assert.equal(r.yaml, undefined);
    assert.equal(r.pipeline, undefined);
    assert.equal(r.diagnostics[0]?.code, 'undefined-name');
  });

  it('a name read only where NameError is caught is a test of whether it is defined, not an error', () => {
    const r = compile(
      nb([
        [
          ['step:a'],
          'import os\ntry:\n    here = os.path.dirname(__file__)\nexcept NameError:\n    here = os.getcwd()',
        ],
        [
          ['step:b'],
          'try:\n    model\nexcept Exception:\n    model = 1\ntry:\n    print(later)\nexcept:\n    pass',
        ],
        [['step:c'], 'later = here'],
      ]),
    );
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.graph?.steps.find((s) => s.name === 'b')?.inputs, []);
    // Read outside such a `try` too, or where only other errors are caught: it is needed.
    for (const code of [
      'try:\n    x = __file__\nexcept NameError:\n    pass\ny = __file__',
      'try:\n    x = __file__\nexcept KeyError:\n    pass',
    ]) {
      const bad = compile(nb([[['step:a'], code]]));
      assert.deepEqual(
        bad.diagnostics.map((d) => d.code),
        ['undefined-name'],
        code,
      );
    }
  });

  it('code for another Python or platform may read names this one lacks: they are not errors', () => {
    const r = compile(
      nb([
        [
          ['step:a'],
          "import sys\ncsv = 'a,b'\nif (sys.version_info < (3, 0)):\n    csv = unicode(csv)",
        ],
        [
          ['step:b'],
          "if sys.version_info[0] >= 3:\n    text = str\nelse:\n    text = unicode\nif sys.platform == 'win32':\n    print(winreg_key)\nprint(text(csv))",
        ],
      ]),
    );
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.graph?.steps.find((s) => s.name === 'b')?.inputs, ['csv']);
    // Any other condition does not: the name is needed where the branch runs.
    const bad = compile(
      nb([[['step:a'], 'import sys\nif len(sys.argv) > 5:\n    print(unicode)']]),
    );
    assert.deepEqual(
      bad.diagnostics.map((d) => d.code),
      ['undefined-name'],
    );
  });
});
