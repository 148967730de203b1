/**
 * Values that cross to later steps in ways pickle alone does not give (see the step runtime's
 * `_SharingPickler`): what steps change on a notebook class crosses as its attributes, and an
 * attribute that cannot be saved (a lock) keeps the value its definition makes; an array of a
 * type that refuses pickling (patsy's DesignMatrix) crosses as its data; a numpy memmap opens
 * again on its file, its views as views of it; an instance of a class a call made (`type(...)`,
 * `make_dataclass`, `namedtuple`) loads with its class made again. The run goes on.
 */
import assert from 'node:assert/strict';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Cell } from '../support/executed-notebooks.js';
import { withTempDir } from '../support/temp-dirs.js';
import { runCells } from './run-cli.js';

const text = (cell: Cell | undefined): string =>
  (cell?.outputs ?? []).map((o) => o.text ?? '').join('');

describe('a notebook class changed by a step, in later steps', () => {
  it('carries what can be saved; a lock it holds is its definition again', async () => {
    await withTempDir('cellflow-definition-state-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'import threading\n\nclass Jobs:\n    lock = threading.Lock()\n    done = []\n\n' +
            '    @classmethod\n    def finish(cls, name):\n        with cls.lock:\n' +
            '            cls.done.append(name)',
        ],
        [['step:first'], "Jobs.finish('a')"],
        [['step:second'], "Jobs.finish('b')"],
        [['step:report'], 'print(Jobs.done, type(Jobs.lock).__name__, Jobs.lock.locked())'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[3]), "['a', 'b'] lock False\n");
    });
  });
});

describe('an array whose type refuses pickling, in a later step', () => {
  it('crosses as its data', async () => {
    await withTempDir('cellflow-array-data-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          'import numpy as np\n\nclass Locked(np.ndarray):\n    def __reduce_ex__(self, protocol):\n' +
            '        raise NotImplementedError("no pickling")\n\nwide = np.arange(4.0).view(Locked)',
        ],
        [['step:use'], 'print(type(wide).__name__, wide.sum(), wide.shape)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), 'ndarray 6.0 (4,)\n');
    });
  });
});

describe('a numpy memmap, in later steps', () => {
  it('opens again on its file: writes through it and its views reach the file', async () => {
    await withTempDir('cellflow-memmap-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          "import numpy as np\n\nmm = np.memmap('values.dat', dtype='float64', mode='w+', shape=(4, 3))\n" +
            'mm[:] = 1.0\nsection = mm[1:3, ::2]',
        ],
        [['step:write'], 'section[:] = 7.0\nmm[0, 0] = 2.0'],
        [
          ['step:report'],
          "on_disk = np.memmap('values.dat', dtype='float64', mode='r', shape=(4, 3))\n" +
            'print(type(mm).__name__, type(section).__name__, mm.mode, mm.sum(), on_disk.sum())\n' +
            'section[0, 0] = 5.0\nprint(mm[1, 0], on_disk[1, 0])',
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), 'memmap memmap w+ 37.0 37.0\n5.0 5.0\n');
    });
  });
});

describe('instances of classes a call made, in later steps', () => {
  it('load with their class made again: type(), make_dataclass, a namedtuple in a comprehension', async () => {
    await withTempDir('cellflow-made-classes-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'from collections import namedtuple\nfrom dataclasses import make_dataclass\n\n' +
            "Dyn = type('Dyn', (), {'k': 5})\nItem = make_dataclass('Item', [('name', str), ('qty', int)])\n" +
            "Point = namedtuple('Point', 'x y')",
        ],
        [
          ['step:make'],
          "d = Dyn()\nd.extra = 1\nit = Item('pen', 3)\nby_x = {p.x: p for p in [Point(i, i * i) for i in range(3)]}",
        ],
        [
          ['step:use'],
          "print(d.k, d.extra, isinstance(d, Dyn), it, it == Item('pen', 3), by_x[2])",
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), "5 1 True Item(name='pen', qty=3) True Point(x=2, y=4)\n");
    });
  });
});

describe('a function made inside another that calls itself, in later steps', () => {
  it('loads with its closure holding itself, and with what was set on it', async () => {
    await withTempDir('cellflow-recursive-closure-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          'def make():\n    def fact(n):\n        return 1 if n < 2 else n * fact(n - 1)\n\n' +
            "    fact.label = 'factorial'\n    return fact\n\n\nf = make()",
        ],
        [['step:use'], 'print(f(5), f.label)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), '120 factorial\n');
    });
  });
});

describe("a definition that reads other steps' values as it runs, needed by a loaded value", () => {
  it('runs on demand after those values load: a class attribute, a default', async () => {
    await withTempDir('cellflow-definition-reads-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:size'], 'N = 3'],
        [
          ['step:define'],
          'class Puzzle:\n    size = N\n\n    def __init__(self, k):\n        self.k = k\n\n\n' +
            'def double(x=N):\n    return x * 2',
        ],
        [['step:make'], 'p = Puzzle(2)\nfs = [double]'],
        [['step:use'], 'print(p.k, p.size, fs[0]())'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[3]), '2 3 6\n');
    });
  });
});

describe('a name a step binds on some paths only, in later steps', () => {
  it('is the value from before where the step does not bind it', async () => {
    await withTempDir('cellflow-maybe-bound-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:setup'], 'best = None\nlimit = 0.5\nscores = [0.1, 0.2]'],
        [['step:search'], 'for s in scores:\n    if s > limit:\n        best = s'],
        [['step:report'], 'print(best, s)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), 'None 0.2\n');
    });
  });
});

describe('a functools cache of a notebook function, in later steps', () => {
  it('crosses as a decorator kept in a variable, and around an inner function', async () => {
    await withTempDir('cellflow-cache-decorator-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:define'], 'import functools\n\ncache = functools.lru_cache(None)'],
        [
          ['step:make'],
          "@cache\ndef twice(x):\n    print('twice', x)\n    return 2 * x\n\n\n" +
            "def make():\n    @functools.cache\n    def inner(x):\n        print('inner', x)\n" +
            '        return x + 1\n\n    return inner\n\n\nplus = make()\nplus(1), twice(1)',
        ],
        [['step:use'], 'print(plus(1), twice(1), plus.cache_info().hits, twice.cache_info().hits)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), '2 2 1 1\n');
    });
  });

  it('keeps what earlier steps computed: no second computation, the same cache_info, as deep a recursion', async () => {
    await withTempDir('cellflow-function-cache-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'import functools\n\n\n@functools.cache\ndef depth(n):\n    return 0 if n == 0 else depth(n - 1) + 1\n\n\n' +
            "@functools.lru_cache(maxsize=2)\ndef square(x):\n    print('computing', x)\n    return x * x",
        ],
        [
          ['step:warm'],
          'for k in range(0, 3000, 300):\n    depth(k)\nsquare(1), square(2), square(3)',
        ],
        [['step:use'], 'print(depth(2999), square(3), square(1))\nprint(square.cache_info())'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        text(cells[2]),
        'computing 1\n2999 9 1\nCacheInfo(hits=1, misses=4, maxsize=2, currsize=2)\n',
      );
    });
  });
});

describe('a default value its function changes, in later steps', () => {
  it('keeps what earlier calls put in it (`def fib(n, memo={})`)', async () => {
    await withTempDir('cellflow-mutable-default-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'def log(item, seen=[]):\n    seen.append(item)\n    return len(seen)\n\n\n' +
            'def fib(n, memo={}):\n    if n not in memo:\n        memo[n] = n if n < 2 else fib(n - 1) + fib(n - 2)\n' +
            '    return memo[n]',
        ],
        [['step:first'], "log('a'), fib(20)"],
        [['step:second'], "print(log('b'), len(fib.__defaults__[0]))"],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), '2 21\n');
    });
  });
});

describe('an instance of a notebook class whose base pickles without its attributes', () => {
  it('keeps them: a Counter subclass with a name', async () => {
    await withTempDir('cellflow-counter-subclass-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'from collections import Counter\n\n\nclass Dist(Counter):\n' +
            "    def __init__(self, xs, name='Dist'):\n        super().__init__(xs)\n        self.name = name",
        ],
        [['step:make'], "d = Dist('abca', 'letters')\nd.extra = 5"],
        [['step:use'], 'print(d.name, d.extra, d)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), "letters 5 Dist({'a': 2, 'b': 1, 'c': 1})\n");
    });
  });
});

describe('what a definition read as it ran, once the name is bound again', () => {
  it('keeps the value it read then, as Jupyter does (`def f(x=N)`, then `N = 5`)', async () => {
    await withTempDir('cellflow-definition-time-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'N = 3\nlabel = "three"\n\n\ndef scale(x, k=N, *, name=label):\n    return x * k, name\n\n\n' +
            'class Grid:\n    size = N',
        ],
        [['step:rebind'], 'N = 5\nlabel = "five"'],
        [['step:use'], 'print(scale(2), Grid.size, N)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), "(6, 'three') 3 5\n");
    });
  });
});

describe('a function defined on some paths only, in later steps', () => {
  it('is the earlier definition where the step does not define it', async () => {
    await withTempDir('cellflow-maybe-defined-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:first'], 'def greet():\n    return "first"\n\n\nfast = False'],
        [['step:maybe'], 'if fast:\n\n    def greet():\n        return "second"'],
        [['step:use'], 'print(greet())'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), 'first\n');
    });
  });
});

describe('builtin objects pickle refuses, in later steps', () => {
  it("a dict's view follows its dict, a regex match is the same match, a module is its import", async () => {
    await withTempDir('cellflow-builtin-objects-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          "import math, re\nd = {'a': 1}\nkeys = d.keys()\nlibs = {'real': math}\n" +
            "found = list(re.compile(r'(?<=a)b+').finditer('abbb cab ab'))",
        ],
        [['step:change'], "d['b'] = 2"],
        [['step:use'], "print(sorted(keys), libs['real'].sqrt(9), [m.span() for m in found])"],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), "['a', 'b'] 3.0 [(1, 4), (7, 8), (10, 11)]\n");
    });
  });
});

describe('an instance holding what a method was given, in a later step', () => {
  it('loads with the classes that made it (`hand.add_card(deck.deal())`)', async () => {
    await withTempDir('cellflow-held-by-method-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'class Card:\n    def __init__(self, rank):\n        self.rank = rank\n\n\n' +
            'class Deck:\n    def __init__(self):\n        self.cards = [Card(r) for r in "A23"]\n\n' +
            '    def deal(self):\n        return self.cards.pop()\n\n\n' +
            'class Hand:\n    def __init__(self):\n        self.cards = []\n\n' +
            '    def add_card(self, card):\n        self.cards.append(card)',
        ],
        [['step:deal'], 'deck = Deck()\nhand = Hand()\nhand.add_card(deck.deal())'],
        [['step:show'], 'print([c.rank for c in hand.cards])'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), "['3']\n");
    });
  });
});

describe('an open file, in a later step', () => {
  it('keeps the name the notebook opened it by', async () => {
    await withTempDir('cellflow-file-name-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:open'], "notes = open('notes.txt', 'w')\nnotes.write('one\\n')"],
        [
          ['step:use'],
          "notes.write('two\\n')\nnotes.close()\nprint(notes.name, open('notes.txt').read().split())",
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), "notes.txt ['one', 'two']\n");
    });
  });
});

describe('a function held by another name, once its own name is deleted or bound again', () => {
  it('is the function it was, with what its body uses (`greet = hello`, then `del hello`)', async () => {
    await withTempDir('cellflow-former-function-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          "def fmt(s):\n    return '<' + s + '>'\n\n\ndef hello(name='Jose'):\n    return fmt('Hi ' + name)",
        ],
        [['step:alias'], 'greet = hello\nsame = greet is hello'],
        [['step:redefine'], "def hello(name='Ann'):\n    return 'Bye ' + name"],
        [['step:both'], 'print(same, greet(), hello())'],
        [['step:delete'], 'del hello'],
        [['step:after'], 'print(greet(), greet.__name__)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[3]), 'True <Hi Jose> Bye Ann\n');
      assert.equal(text(cells[5]), '<Hi Jose> hello\n');
    });
  });

  it('is the very function where the name still has it', async () => {
    await withTempDir('cellflow-same-function-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:define'], "def hello(name='Jose'):\n    return 'Hi ' + name\n\n\nhello.calls = 3"],
        [['step:alias'], "greet = hello\nfuncs = {'h': hello}"],
        [['step:use'], "print(greet is hello, funcs['h'] is hello, greet.calls, greet())"],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), 'True True 3 Hi Jose\n');
    });
  });
});

describe('a sqlite3 cursor, its connection and rows, in later steps', () => {
  it('gives the rows its query left, on the connection it shares', async () => {
    await withTempDir('cellflow-sqlite-cursor-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:create'],
          "import sqlite3\nconn = sqlite3.connect('shop.db')\nconn.row_factory = sqlite3.Row\n" +
            'c = conn.cursor()\nc.execute(\'CREATE TABLE items (name TEXT, "unit price" REAL)\')\nconn.commit()',
        ],
        [
          ['step:insert'],
          "c.executemany('INSERT INTO items VALUES (?, ?)', [('pen', 1.5), ('ink', 3.25), ('pad', 2.0)])\nconn.commit()",
        ],
        [['step:query'], "c.execute('SELECT * FROM items ORDER BY name');"],
        [['step:iterate'], 'for row in c:\n    print(dict(row))\n    break'],
        [
          ['step:fetch'],
          'print([d[0] for d in c.description], [tuple(r) for r in c.fetchmany(1)])\nlast = c.fetchone()',
        ],
        [['step:rows'], "print(last['unit price'], last.keys(), c.fetchone(), type(c).__name__)"],
        [
          ['step:again'],
          "print([r['n'] for r in conn.execute('SELECT count(*) AS n FROM items')])\nconn.close()",
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[3]), "{'name': 'ink', 'unit price': 3.25}\n");
      assert.equal(text(cells[4]), "['name', 'unit price'] [('pad', 2.0)]\n");
      assert.equal(text(cells[5]), "1.5 ['name', 'unit price'] None Cursor\n");
      assert.equal(text(cells[6]), '[3]\n');
    });
  });
});

describe('CSV readers and writers, and a file part way through a loop, in later steps', () => {
  it('go on where they were, on the very file', async () => {
    await withTempDir('cellflow-csv-across-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:open'],
          "import csv\nlog = open('log.csv', 'w', newline='')\nw = csv.writer(log, delimiter=';')\nw.writerow(['a', 'b'])",
        ],
        [['step:write'], 'w.writerows([[1, 2], [3, 4]])'],
        [['step:more'], "w.writerow(['x', 'y'])\nlog.close()\nprint(repr(open('log.csv').read()))"],
        [
          ['step:header'],
          "r = csv.reader(open('log.csv', newline=''), delimiter=';')\nprint(next(r))",
        ],
        [['step:rows'], 'print(next(r), r.dialect.delimiter)'],
        [['step:rest'], 'print(list(r))'],
        [['step:lines'], "fh = open('log.csv')\nfor line in fh:\n    break\nprint(line.strip())"],
        [['step:next_line'], 'print(fh.readline().strip(), len(fh.readlines()))'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), "'a;b\\n1;2\\n3;4\\nx;y\\n'\n");
      assert.equal(text(cells[3]), "['a', 'b']\n");
      assert.equal(text(cells[4]), "['1', '2'] ;\n");
      assert.equal(text(cells[5]), "[['3', '4'], ['x', 'y']]\n");
      assert.equal(text(cells[6]), 'a;b\n');
      assert.equal(text(cells[7]), '1;2 2\n');
    });
  });
});

describe('a zip archive, in later steps', () => {
  it('goes on adding to the archive it writes, then reads it', async () => {
    await withTempDir('cellflow-zip-across-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:open'],
          "import zipfile\nfor n in 'ab':\n    open(n + '.txt', 'w').write(n * 3)\nz = zipfile.ZipFile('out.zip', 'w')",
        ],
        [['step:add'], "z.write('a.txt', compress_type=zipfile.ZIP_DEFLATED)"],
        [['step:more'], "z.write('b.txt')\nprint(z.namelist(), z.filename)"],
        [['step:close'], 'z.close()'],
        [['step:read'], "r = zipfile.ZipFile('out.zip')\nprint(r.namelist())"],
        [['step:use'], "print(r.read('a.txt'), r.getinfo('a.txt').compress_type)"],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), "['a.txt', 'b.txt'] out.zip\n");
      assert.equal(text(cells[4]), "['a.txt', 'b.txt']\n");
      assert.equal(text(cells[5]), "b'aaa' 8\n");
    });
  });
});

describe("sympy's undefined functions, in later steps", () => {
  it('are the same functions and symbols, with the assumptions they were given', async () => {
    await withTempDir('cellflow-sympy-function-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          "from sympy import symbols, Function, Eq, Derivative, dsolve, srepr, Symbol\nx = symbols('x')\np = Symbol('p', positive=True)\n" +
            "f, g = map(Function, 'fg')\nk = Function('k', real=True)\neqn = Eq(Derivative(f(x), x, x) + 9*f(x), 1)",
        ],
        [['step:use'], 'print(eqn, k(x).is_real, g(x) == Function("g")(x), srepr(x), srepr(p))'],
        [['step:solve'], 'print(dsolve(eqn, f(x)).lhs)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        text(cells[1]),
        "Eq(9*f(x) + Derivative(f(x), (x, 2)), 1) True True Symbol('x') Symbol('p', positive=True)\n",
      );
      assert.equal(text(cells[2]), 'f(x)\n');
    });
  });

  it('a function lambdify generated, held by a value, is its code with the names it uses', async () => {
    await withTempDir('cellflow-sympy-lambdify-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          "import sympy\nx, y = sympy.symbols('x y')\n\nclass Fit:\n    def __init__(self, func):\n" +
            '        self.func = func\n\nfit = Fit(sympy.lambdify([x, y], sympy.exp(x) + 2 * sympy.sin(y)))',
        ],
        [['step:use'], 'print(round(fit.func(0.0, 0.0), 3), fit.func.__name__)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), '1.0 _lambdifygenerated\n');
    });
  });
});

describe('a defaultdict read by a missing key, in later steps', () => {
  it('keeps the key the read added, as it does in a notebook', async () => {
    await withTempDir('cellflow-defaultdict-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          'from collections import defaultdict\ncounts = defaultdict(int)\n' +
            'tree = defaultdict(lambda: defaultdict(list))',
        ],
        [['step:peek'], "counts['one']"],
        [['step:walk'], "seen = [tree[k]['leaf'] for k in 'ab']"],
        [['step:report'], 'print(dict(counts), sorted(tree), len(seen))'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), '');
      assert.equal(text(cells[3]), "{'one': 0} ['a', 'b'] 2\n");
    });
  });
});

describe('what a library keeps of the process, in later steps', () => {
  it("a standard stream is the loading step's, a bound private method is found by its class's name for it", async () => {
    await withTempDir('cellflow-kept-streams-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'import sys\nfrom sys import stdout\n\nclass Fitter:\n    def __init__(self):\n' +
            '        self.writer, self.err, self.raw = stdout, sys.stderr, sys.__stdout__\n' +
            "        self.options = {'jac': self.__jacobian}\n\n    def __jacobian(self, x):\n" +
            '        return 2 * x\n\nfit = Fitter()',
        ],
        [
          ['step:use'],
          "fit.writer.write('through the kept stream\\n')\nprint(fit.options['jac'](21))",
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), 'through the kept stream\n42\n');
    });
  });
});

describe('objects that hold a place in the process, in later steps', () => {
  it('a logger keeps its handlers and level, a weak reference its referent, a chunk reader and `arr.flat` their place', async () => {
    await withTempDir('cellflow-process-objects-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'import logging, sys, weakref\nimport numpy as np\nimport pandas as pd\n\n' +
            "pd.DataFrame({'a': range(5)}).to_csv('rows.csv', index=False)\n" +
            "log = logging.getLogger('notes')\nhandler = logging.StreamHandler(sys.stdout)\n" +
            "handler.setFormatter(logging.Formatter('%(levelname)s %(name)s: %(message)s'))\n" +
            'log.addHandler(handler)\nlog.setLevel(logging.INFO)\n\n' +
            'class Node:\n    def __init__(self, parent=None):\n' +
            '        self.parent = weakref.ref(parent) if parent is not None else None\n\n' +
            "root = Node()\nleaf = Node(root)\nreader = pd.read_csv('rows.csv', chunksize=2)\n" +
            'first = next(iter(reader))\nflat = np.arange(6).flat\nnext(flat)',
        ],
        [
          ['step:use'],
          "log.info('from a later step')\nlog.debug('not shown')\n" +
            'print(type(leaf.parent()).__name__, next(flat), [len(c) for c in reader])',
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), 'INFO notes: from a later step\nNode 1 [2, 1]\n');
    });
  });
});

describe('an instance of a class a later cell defines again, in later steps', () => {
  it('is an instance of the class it was made from, as in the notebook', async () => {
    await withTempDir('cellflow-class-again-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:first'],
          'class Animal:\n    def __init__(self, name):\n        self.name = name\n\n' +
            'class Dog(Animal):\n    def __init__(self, name):\n        super().__init__(name.upper())\n' +
            "    def __repr__(self):\n        return f'Dog({self.name})'\n\nrex = Dog('rex')",
        ],
        [
          ['step:again'],
          "class Dog(Animal):\n    def __repr__(self):\n        return f'New({self.name})'\n\nfido = Dog('fido')",
        ],
        [
          ['step:report'],
          "print(rex, fido, type(rex) is Dog, isinstance(rex, Animal), Dog('a'), type(rex)('b'))",
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), 'Dog(REX) New(fido) False True New(a) Dog(B)\n');
    });
  });

  it('is saved without a copy of the data its class holds', async () => {
    await withTempDir('cellflow-class-data-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:first'],
          'import numpy as np\n\nclass Data:\n    X = np.zeros((512, 512))\n\n' +
            '    def __init__(self, n):\n        self.n = n\n\nd = Data(3)',
        ],
        [['step:report'], 'print(d.n, Data.X.shape)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), '3 (512, 512)\n');
      const [runId] = readdirSync(join(dir, '.cellflow', 'runs'));
      const saved = join(dir, '.cellflow', 'runs', runId!, 'steps', 'first', 'outputs', 'd');
      const bytes = readdirSync(saved, { recursive: true, encoding: 'utf8' })
        .map((f) => statSync(join(saved, f)))
        .reduce((sum, st) => sum + (st.isFile() ? st.size : 0), 0);
      assert.ok(bytes < 100_000, `d saved in ${bytes} bytes`);
    });
  });
});

describe('a function a notebook decorator made with state, in later steps', () => {
  it('goes on counting: what its wrapper holds and its closure’s data cross', async () => {
    await withTempDir('cellflow-decorator-state-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'import functools\n\ndef counted(f):\n    n = 0\n    @functools.wraps(f)\n' +
            '    def wrapper(*a):\n        nonlocal n\n        n += 1\n        wrapper.calls += 1\n' +
            '        return f(*a)\n    wrapper.calls = 0\n    return wrapper\n\n' +
            '@counted\ndef add(a, b):\n    return a + b\n\nadd(1, 2)',
        ],
        [['step:again'], 'add(3, 4)'],
        [['step:report'], 'add(5, 6)\nprint(add.calls, add.__closure__[1].cell_contents)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), '3 3\n');
    });
  });
});

describe('generators in later steps', () => {
  it('one not started crosses as its call; one used part way goes on with what it printed', async () => {
    await withTempDir('cellflow-generators-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          'import pandas as pd\n\ndf = pd.DataFrame({"a": [1, 2, 3]})\nrows = df.iterrows()\n\n' +
            'def fib(n):\n    a, b = 0, 1\n    for i in range(n):\n        print("making", i)\n' +
            '        yield a\n        a, b = b, a + b\n    print("done")\n    raise ValueError("the end")\n\n' +
            'g = fib(4)\nnext(g)',
        ],
        [
          ['step:loader'],
          'class Loader:\n    def batches(self, size):\n        for i in range(0, 5, size):\n' +
            '            yield list(range(i, min(i + size, 5)))\n\nbatches = Loader().batches(2)',
        ],
        [['step:rows'], 'print([int(r["a"]) for _, r in rows], list(batches))'],
        [['step:more'], 'print(next(g))'],
        [
          ['step:rest'],
          'try:\n    for v in g:\n        print("got", v)\nexcept ValueError as e:\n    print("raised", e)',
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), '[1, 2, 3] [[0, 1], [2, 3], [4]]\n');
      assert.equal(text(cells[3]), 'making 1\n1\n');
      assert.equal(text(cells[4]), 'making 2\ngot 1\nmaking 3\ngot 2\ndone\nraised the end\n');
    });
  });
});

describe("a functions cell's values, in a step above it", () => {
  it('are there as Kale has them: the step runs the cell’s statements first', async () => {
    await withTempDir('cellflow-functions-values-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['imports'], 'import math'],
        [['block:load'], 'print(encode(3))'],
        [
          ['functions'],
          "LEVELS = ['lo', 'hi']\nWIDTH = round(len(LEVELS) * math.pi, 2)\n\n" +
            'def encode(v):\n    return LEVELS[v % 2], WIDTH',
        ],
        [['block:use'], "LEVELS.append('mid')\nprint(encode(4), LEVELS)"],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), "('hi', 6.28)\n");
      assert.equal(text(cells[3]), "('lo', 6.28) ['lo', 'hi', 'mid']\n");
    });
  });
});

describe('imports after the notebook changes directory', () => {
  it('find modules in the current directory, as a kernel does', async () => {
    await withTempDir('cellflow-chdir-import-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:write'],
          "import os\nos.makedirs('app', exist_ok=True)\n" +
            "with open(os.path.join('app', 'helper_in_app.py'), 'w') as f:\n    f.write('VALUE = 42\\n')",
        ],
        [['step:enter'], "os.chdir('app')"],
        [
          ['step:use'],
          'from helper_in_app import VALUE\nprint(VALUE, os.path.basename(os.getcwd()))',
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), '42 app\n');
    });
  });
});

describe('an instance of a class a notebook function defines, in later steps', () => {
  it('loads with its class made again, methods and base included', async () => {
    await withTempDir('cellflow-local-class-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          'from sklearn.base import BaseEstimator, TransformerMixin\n\n' +
            'def make_scaler(k):\n    class Scale(BaseEstimator, TransformerMixin):\n' +
            '        def __init__(self, k=1):\n            self.k = k\n' +
            '        def fit(self, X, y=None):\n            return self\n' +
            '        def transform(self, X):\n            return [x * self.k for x in X]\n' +
            '    return Scale(k)\n\ntriple = make_scaler(3)\ndouble = make_scaler(2)',
        ],
        [
          ['step:use'],
          'print(triple.fit_transform([1, 2]), double.transform([5]), type(triple).__name__, triple)',
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), '[3, 6] [10] Scale Scale(k=3)\n');
    });
  });
});

describe('an exception a step caught, in a later step', () => {
  it('loads with its class and the arguments its __init__ took', async () => {
    await withTempDir('cellflow-caught-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:fail'],
          'class MyErr(Exception):\n    def __init__(self, msg, code):\n        super().__init__(msg)\n' +
            "        self.code = code\n\ntry:\n    raise MyErr('bad thing', 42)\nexcept MyErr as e:\n    caught = e",
        ],
        [['step:report'], 'print(repr(caught), caught.code, isinstance(caught, MyErr))'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), "MyErr('bad thing') 42 True\n");
    });
  });
});

describe('an instance whose class has its own __getstate__ or __setstate__, in a later step', () => {
  it('is the object as it was; one holding what cannot be saved uses its own pickling', async () => {
    await withTempDir('cellflow-own-state-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          'import threading\n\nclass Cached:\n    def __init__(self):\n        self.data, self.cache = [1], {}\n' +
            "    def __getstate__(self):\n        return {'data': self.data}\n" +
            "    def __setstate__(self, state):\n        self.__dict__.update(state)\n        self.cache = {'filled': True}\n\n" +
            'class Guarded:\n    def __init__(self):\n        self.n, self.lock = 3, threading.Lock()\n' +
            "    def __getstate__(self):\n        return {'n': self.n}\n" +
            '    def __setstate__(self, state):\n        self.__dict__.update(state)\n        self.lock = threading.Lock()\n\n' +
            'c, g = Cached(), Guarded()',
        ],
        [['step:use'], 'print(c.data, c.cache, g.n, g.lock.locked())'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), '[1] {} 3 False\n');
    });
  });
});

describe("a change through an instance to what its class's instances share, in a later step", () => {
  it('holds for the class and every instance, as in the notebook', async () => {
    await withTempDir('cellflow-shared-attribute-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          "class Registry:\n    items = []\n    opts = {'lr': 0.1}\n    def __init__(self, name):\n        self.name = name\n\nreg = Registry('a')",
        ],
        [['step:change'], "reg.items.append('x')\nreg.opts['lr'] = 0.5"],
        [['step:use'], "print(Registry.items, Registry('b').items, Registry.opts, reg.name)"],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), "['x'] ['x'] {'lr': 0.5} a\n");
    });
  });
});

describe('an iterator of calls a step used part of, in a later step', () => {
  it('goes on with the items it had left (re.finditer, iter(f, sentinel))', async () => {
    await withTempDir('cellflow-call-iterator-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:start'],
          "import re\nmatches = re.finditer(r'\\d+', 'a1 b22 c333')\nfirst = next(matches)\n" +
            'left = [0, 1, 2, 3]\ncountdown = iter(left.pop, 0)\nnext(countdown)',
        ],
        [
          ['step:rest'],
          'print(first.group(), [m.group() for m in matches], list(countdown), list(matches))',
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), "1 ['22', '333'] [2, 1] []\n");
    });
  });
});

describe('a process pool, an executor or a lock a later step uses', () => {
  it('is made again there by its statement, as code is', async () => {
    await withTempDir('cellflow-pools-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          'import multiprocessing\nimport threading\nfrom concurrent.futures import ThreadPoolExecutor\n' +
            'workers = 2\npool = multiprocessing.Pool(processes=workers)\nex = ThreadPoolExecutor(workers)\nlock = threading.Lock()',
        ],
        [
          ['step:use'],
          "print(pool.map(abs, [-1, -2]), list(ex.map(abs, [-3])))\nwith lock:\n    print('held')\npool.close()",
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), '[1, 2] [3]\nheld\n');
    });
  });
});

describe('a numpy view of an array no variable holds, in a later step', () => {
  it('is the same view of that array (a reshape, a transpose, a slice of a small array)', async () => {
    await withTempDir('cellflow-array-views-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          'import numpy as np\na = np.arange(15).reshape(3, 5)\nt = np.ones((2, 3)).T\n' +
            'part = np.arange(10)[2:5]\nbig = np.zeros(300_000).reshape(1000, 300)\nown = np.arange(3)',
        ],
        [
          ['step:use'],
          'print(a.flags.owndata, a.base.shape, t.flags.f_contiguous, t.base.shape, part.base.tolist())\n' +
            'print(big.base.shape, own.base is None)\npart[0] = 99\nprint(part.base[2])',
        ],
        [['step:pair'], 'e = np.arange(12)\nf = e.reshape(3, 4)'],
        [['step:change'], 'e[5:] = 0'],
        [['step:look'], 'print(f.flags.owndata, f[1].tolist())'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        text(cells[1]),
        'False (15,) True (2, 3) [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n(300000,) True\n99\n',
      );
      // A view saved alone by a step that changed the array it shares (loaded with it).
      assert.equal(text(cells[4]), 'False [4, 0, 0, 0]\n');
    });
  });
});

describe("%cd, as IPython's", () => {
  it('says a folder that is not there and goes on; holds in later steps; -q prints nothing', async () => {
    await withTempDir('cellflow-cd-magic-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:missing'], "import os\nos.makedirs('sub', exist_ok=True)\n%cd no-such-folder"],
        [['step:enter'], '%cd -q sub'],
        [['step:where'], 'print(os.path.basename(os.getcwd()))'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        text(cells[0]),
        `[Errno 2] No such file or directory: 'no-such-folder'\n${realpathSync(dir)}\n`,
      );
      assert.equal(text(cells[1]), '');
      assert.equal(text(cells[2]), 'sub\n');
    });
  });
});

describe('a Papermill `parameters` cell with code in it, as Papermill runs it', () => {
  const notebook: (readonly [string[], string])[] = [
    [
      ['parameters'],
      'import os\nalpha = 0.5\nn = 4\nlabel = None\nbase = "data"\n' +
        'out_dir = os.path.join(base, "out")\nprint("set", alpha, n, label, out_dir)',
    ],
    [['step:first'], 'import math\nprint(alpha * n, label, out_dir)'],
    [[], 'vals = [math.sqrt(i) for i in range(n)]\nprint(round(sum(vals), 3))'],
    [['step:second'], 'print(len(vals), label, out_dir.upper())'],
  ];

  it('runs its computed values and prints in the step after it; literals are parameters', async () => {
    await withTempDir('cellflow-papermill-parameters-', async (dir) => {
      const { run, cells } = await runCells(dir, notebook);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout + run.stderr, /info \[non-literal-parameter\] `label` is computed/);
      assert.equal(text(cells[0]), 'set 0.5 4 None data/out\n');
      assert.equal(text(cells[1]), '2.0 None data/out\n');
      assert.equal(text(cells[2]), '4.146\n');
      assert.equal(text(cells[3]), '4 None DATA/OUT\n');
    });
  });

  it('a literal set per run reaches the code computed from it', async () => {
    await withTempDir('cellflow-papermill-parameters-', async (dir) => {
      const { run, cells } = await runCells(dir, notebook, undefined, [
        '-p',
        'base=other',
        '-p',
        'n=9',
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[0]), 'set 0.5 9 None other/out\n');
      assert.equal(text(cells[1]), '4.5 None other/out\n');
      assert.equal(text(cells[2]), '16.306\n');
      assert.equal(text(cells[3]), '9 None OTHER/OUT\n');
    });
  });

  it('a name the code binds too, or reads before its last literal, is no parameter', async () => {
    await withTempDir('cellflow-papermill-parameters-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['parameters'], 'n = 4\nn = n * 2\nk = 1\nprint(k)\nk = 2\nm = 3'],
        [['step:first'], 'print(n, k, m)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[0]), '1\n');
      assert.equal(text(cells[1]), '8 2 3\n');
      const refused = await runCells(
        dir,
        [
          [['parameters'], 'n = 4\nn = n * 2\nk = 1\nprint(k)\nk = 2\nm = 3'],
          [['step:first'], 'print(n, k, m)'],
        ],
        undefined,
        ['-p', 'k=5'],
      );
      assert.notEqual(refused.run.code, 0);
      assert.match(
        refused.run.stderr,
        /info \[non-literal-parameter\] `k` is read by this cell's code/,
      );
      assert.match(refused.run.stderr, /Unknown parameter `k`\. The notebook's parameters are: m /);
    });
  });
});

describe("a notebook class's method that changes what a call passes it", () => {
  it('changes it for later steps: `tour.melee(agents)` sets each agent’s fitness', async () => {
    await withTempDir('cellflow-method-argument-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'import numpy as np\n\nclass Agent:\n    def __init__(self, v):\n        self.v = v\n' +
            '        self.fitness = np.nan\n\nclass Tour:\n    def melee(self, agents, randomize=True):\n' +
            '        if randomize:\n            agents = np.random.permutation(agents)\n' +
            '        for i in range(len(agents)):\n            agents[i].fitness = agents[i].v * 2',
        ],
        [['step:make'], 'a, b = Agent(1), Agent(2)\nagents = [a, b]\ntour = Tour()'],
        [['step:play'], 'tour.melee(agents)'],
        [['step:report'], 'print([ag.fitness for ag in agents], a.fitness)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[3]), '[2, 4] 2\n');
    });
  });
});

describe('a notebook function that keeps what it is given in a module-level value', () => {
  it('makes the two share it: a later change through one name shows through the other', async () => {
    await withTempDir('cellflow-stored-argument-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'import collections\nregistry = collections.defaultdict(list)\n\n' +
            'def register(kind, obj):\n    registry[kind].append(obj)',
        ],
        [['step:make'], "agents = [{'score': 1}, {'score': 2}]"],
        [['step:keep'], "register('agent', agents[0])"],
        [['step:change'], "agents[0]['score'] = -1"],
        [
          ['step:report'],
          "print(registry['agent'][0]['score'], registry['agent'][0] is agents[0])",
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[4]), '-1 True\n');
    });
  });
});

describe('a function a notebook function made, loaded by a later step', () => {
  it('finds the modules its body uses when that step calls it', async () => {
    await withTempDir('cellflow-made-function-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:imports'], 'import numpy as np'],
        [['step:define'], 'def wrap(f):\n    return lambda X: np.array(f(X[0], X[1]))'],
        [['step:make'], 'g = wrap(lambda a, b: a + b)'],
        [['step:call'], 'print(g((1, 2)), type(g((1, 2))).__name__)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[3]), '3 ndarray\n');
    });
  });
});

describe('a notebook function passing its parameter to one of another cell that changes it', () => {
  it('changes what a call passes: `play(beliefs)` calling `update(beliefs[m], x)`', async () => {
    await withTempDir('cellflow-passed-parameter-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:helpers'],
          'def update(pmf, data):\n    pmf *= data\n    pmf /= pmf.sum()\ndef grow(items):\n    items.append(0)',
        ],
        [
          ['step:callers'],
          'def play(beliefs, m):\n    update(beliefs[m], 2.0)\ndef prep(rows):\n    grow(rows)\n' +
            'def prep_all(groups):\n    for g in groups:\n        grow(g)\n' +
            'def bump_all(groups):\n    for g in groups:\n        g.append(9)',
        ],
        [
          ['step:make'],
          'import numpy as np\nbeliefs = [np.array([1.0, 3.0]) for _ in range(2)]\nrows = [1]\ngroups = [[1], [2]]\nmore = [[3]]',
        ],
        [['step:call'], 'play(beliefs, 1)\nprep(rows)\nprep_all(groups)\nbump_all(more)'],
        [['step:show'], 'print([b.tolist() for b in beliefs], rows, groups, more)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[4]), '[[1.0, 3.0], [0.25, 0.75]] [1, 0] [[1, 0], [2, 0]] [[3, 9]]\n');
    });
  });
});

describe("a class's __init_subclass__, whose subclasses' definitions run again in later steps", () => {
  it('leaves the class as it loaded: the hook ran for each subclass once, as in the notebook', async () => {
    await withTempDir('cellflow-subclass-hook-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:base'],
          'class Plugin:\n' +
            '    kinds = {}\n' +
            '    made = []\n' +
            '    count = 0\n' +
            '    def __init_subclass__(cls, kind=None, **kw):\n' +
            '        super().__init_subclass__(**kw)\n' +
            '        cls.kind = kind\n' +
            '        Plugin.kinds[kind] = cls.__name__\n' +
            '        Plugin.made.append(cls.__name__)\n' +
            '        Plugin.count += 1',
        ],
        [['step:one'], "class P1(Plugin, kind='one'):\n    pass"],
        [['step:two'], "class P2(P1, kind='two'):\n    pass\np = P2()"],
        [['step:show'], 'print(Plugin.count, Plugin.made, Plugin.kinds, p.kind, P1.kind)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[3]), "2 ['P1', 'P2'] {'one': 'P1', 'two': 'P2'} two one\n");
    });
  });
});

describe('a class decorator or metaclass that registers each class, run again in later steps', () => {
  it('registers each class once, as in the notebook, with what the decorator reads loaded first', async () => {
    await withTempDir('cellflow-class-registry-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'registry = []\nnames = {}\ndef reg(cls):\n    registry.append(cls.__name__)\n    names[cls.__name__] = len(registry)\n    return cls\n' +
            'class Meta(type):\n    made = []\n    def __new__(mcls, name, bases, ns):\n        Meta.made.append(name)\n        return super().__new__(mcls, name, bases, ns)',
        ],
        [['step:decorated'], '@reg\nclass A(metaclass=Meta):\n    pass'],
        [['step:make'], 'a = A()'],
        [['step:sub'], 'class B(A):\n    pass\nb = B()'],
        [['step:show'], 'print(registry, names, Meta.made, type(a).__name__, type(b).__name__)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[4]), "['A'] {'A': 1} ['A', 'B'] A B\n");
    });
  });
});

describe("sympy's var, which binds its symbols in the notebook's names", () => {
  it('gives later steps the symbols it bound, ranges included', async () => {
    await withTempDir('cellflow-sympy-var-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:imports'], 'from sympy import *'],
        [['step:symbols'], "var('x a')\nimport sympy as sp\nsp.var('k1:3, u:w')"],
        [['step:solve'], 'print(solve(x**2 - a, x), k1 + k2, u * v * w)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), '[-sqrt(a), sqrt(a)] k1 + k2 u*v*w\n');
    });
  });
});

describe('a value made from a value that holds a lambda, loaded by a later step', () => {
  it('finds the modules the lambda uses: a pipeline around `FunctionTransformer(lambda x: np.log1p(x))`', async () => {
    await withTempDir('cellflow-carried-through-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:fit'],
          'import numpy as np\n' +
            'from sklearn.preprocessing import FunctionTransformer\n' +
            'from sklearn.pipeline import make_pipeline\n' +
            'from sklearn.linear_model import LinearRegression\n' +
            'ft = FunctionTransformer(lambda x: np.log1p(x))\n' +
            'X = np.arange(10.).reshape(-1, 1)\n' +
            'pipe = make_pipeline(ft, LinearRegression()).fit(X, 3 * X.ravel())',
        ],
        [['step:wrapped'], 'models = {"log": pipe}'],
        [['step:predict'], 'print(models["log"].predict([[0.0], [9.0]]).round(3))'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), '[-4.311 22.841]\n');
    });
  });
});

describe('a statement that binds again what it reads, run again by a later step', () => {
  it('runs after what it read: `heaviside = np.vectorize(heaviside)` wraps the function above', async () => {
    await withTempDir('cellflow-rebinding-unit-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:imports'], 'import numpy as np'],
        [['step:define'], 'def heaviside(x):\n    return 1 if x > 0 else 0'],
        [['step:points'], 'x = np.linspace(-2, 2, 5)'],
        [['step:wrap'], 'heaviside = np.vectorize(heaviside)'],
        [['step:use'], 'print(heaviside(x))'],
        [['step:again'], 'def heaviside(x):\n    return 1.0 * (x > 0)\nprint(heaviside(x))'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[4]), '[0 0 0 1 1]\n');
      assert.equal(text(cells[5]), '[0. 0. 0. 1. 1.]\n');
    });
  });
});

describe('a value of a class without a module, in a later step', () => {
  it("crosses: sympy's applied undefined function `Function('g')(x, y)`", async () => {
    await withTempDir('cellflow-moduleless-class-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          "import sympy\nx, y = sympy.symbols('x, y')\ng = sympy.Function('g')(x, y)",
        ],
        [['step:use'], 'print(g, sorted(map(str, g.free_symbols)), sympy.diff(g, x))'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), "g(x, y) ['x', 'y'] Derivative(g(x, y), x)\n");
    });
  });
});

describe("a shell line's `$name`, as IPython expands it", () => {
  it("is the notebook's value, loaded from the step that made it; `$HOME` stays the shell's", async () => {
    await withTempDir('cellflow-shell-dollar-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:name'], "file = 'f.txt'"],
        [['step:echo'], '!echo $file "$file" \'$file\' $$file'],
        [['step:lines'], 'out = !echo $file\nprint(out)'],
        [['step:shell'], '!echo $file $NOT_A_NAME_ANYWHERE'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.doesNotMatch(run.stderr, /NOT_A_NAME_ANYWHERE/);
      assert.equal(text(cells[1]), 'f.txt f.txt $file\r\n');
      assert.equal(text(cells[2]), "['f.txt']\n");
      // A name the notebook does not have leaves the whole line to the shell.
      assert.equal(text(cells[3]), '\r\n');
    });
  });
});

describe("a value holding the process's global random generator", () => {
  it("draws from the loading step's, so the notebook's random sequence goes on", async () => {
    await withTempDir('cellflow-global-random-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:seed'], 'import numpy as np\nfrom scipy import stats\nnp.random.seed(123)'],
        [['step:make'], 'X = stats.norm(1, 0.5)'],
        [['step:draw'], 'samples = X.rvs(3)'],
        [['step:next'], 'print(round(float(samples.sum()), 6), round(float(np.random.rand()), 6))'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[3]), '3.097347 0.719469\n');
    });
  });
});

describe('untagged cells above every tag', () => {
  it('start the first step when a step needs what they define, and print there as in the notebook', async () => {
    await withTempDir('cellflow-leading-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [[], 'rows = [1, 2]\nprint("setup", rows)'],
        [[], 'rows.append(3)'],
        [['imports'], 'import json'],
        [['step:a'], 'x = len(rows)'],
        [['step:b'], 'print(json.dumps(rows), x)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /untagged-cells-start-step/);
      assert.equal(text(cells[0]), 'setup [1, 2]\n');
      assert.equal(text(cells[4]), '[1, 2, 3] 3\n');
    });
  });
});

describe('`from __future__ import annotations` in an earlier step', () => {
  it('holds in later steps, as IPython keeps it for later cells: annotations are not evaluated', async () => {
    await withTempDir('cellflow-future-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:future'], 'from __future__ import annotations\nimport dataclasses'],
        [
          ['step:define'],
          'def f(x: Later, n: int = 1) -> list[Later]:\n    return [x] * n\ny: Later = 5\nprint(f.__annotations__, y)',
        ],
        [
          ['step:data'],
          '@dataclasses.dataclass\nclass P:\n    x: int\n    nxt: Optional[P] = None\nprint(P(1), dataclasses.fields(P)[1].type)',
        ],
        [['step:later'], 'class Later:\n    pass\nprint(len(f(Later(), 2)))'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), "{'x': 'Later', 'n': 'int', 'return': 'list[Later]'} 5\n");
      assert.equal(text(cells[2]), 'P(x=1, nxt=None) Optional[P]\n');
      assert.equal(text(cells[3]), '2\n');
    });
  });

  it("a module-level annotation adds to the notebook's `__annotations__`, made by the first", async () => {
    await withTempDir('cellflow-module-annotations-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:none'], 'print("__annotations__" in globals())'],
        [['step:first'], 'y: int = 5\nprint(__annotations__)'],
        [['step:second'], 'z: str\nprint(__annotations__)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[0]), 'False\n');
      assert.equal(text(cells[1]), "{'y': <class 'int'>}\n");
      assert.equal(text(cells[2]), "{'y': <class 'int'>, 'z': <class 'str'>}\n");
    });
  });

  it('without it, what an annotation reads loads where a definition runs again', async () => {
    await withTempDir('cellflow-annotations-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:types'], 'Square = str'],
        [['step:define'], 'def solve(grid: Square) -> Square:\n    return grid * 2'],
        [['step:use'], 'print(solve("x"), solve.__annotations__)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), "xx {'grid': <class 'str'>, 'return': <class 'str'>}\n");
    });
  });
});

describe('a notebook class whose definition needs a value loading with its instances', () => {
  it('is one class: the instances loaded are of the class the step names', async () => {
    await withTempDir('cellflow-class-once-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:settings'], 'ACROSS = 1\ncolors = {".": "white"}'],
        [
          ['step:board_class'],
          'class Board(list):\n    def __init__(self, squares):\n        list.__init__(self, squares)\n        self.dirs = (ACROSS, -ACROSS)\n    def _repr_html_(self):\n        return html(self)',
        ],
        [['step:html'], 'def html(board):\n    return "".join(colors.get(s, s) for s in board)'],
        [
          ['step:make'],
          'WWF = Board(". . x".split())\nboard = WWF\nshared = [colors, ACROSS, board]',
        ],
        [
          ['step:play'],
          'board2 = Board(board)\nboard2[0] = "*"\nprint(board2, WWF, type(WWF) is Board)\nWWF.append("y")',
        ],
        [['step:after'], 'print(WWF, board is WWF)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[4]), "['*', '.', 'x'] ['.', '.', 'x'] True\n");
      assert.equal(text(cells[5]), "['.', '.', 'x', 'y'] True\n");
    });
  });
});

describe('a class or function bound again to a wrapper of it (`X = wrap(X)`)', () => {
  it('runs again in later steps, with what a cache put around it keeps', async () => {
    await withTempDir('cellflow-rewrapped-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:setup'], 'import functools\nfrom dataclasses import dataclass'],
        [
          ['step:define'],
          'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nclass Q:\n    a: int = 1\n    b: int = 2\n',
        ],
        [['step:cache'], 'fib = functools.lru_cache(None)(fib)\nprint(fib(30), fib.cache_info())'],
        [['step:data'], 'Q = dataclass(Q)\nprint(Q(3))'],
        [['step:use'], 'print(fib(31), fib.cache_info(), Q(5, 6))'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        text(cells[4]),
        '1346269 CacheInfo(hits=30, misses=32, maxsize=None, currsize=32) Q(a=5, b=6)\n',
      );
    });
  });

  it('keeps the instances of a class whose name now holds a cache of it', async () => {
    await withTempDir('cellflow-rewrapped-class-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:setup'], 'import functools\nfrom dataclasses import dataclass'],
        [
          ['step:define'],
          '@dataclass(frozen=True, order=True)\nclass Honeycomb:\n    letters: str\n    center: str',
        ],
        [['step:before'], "hc = Honeycomb('ABC', 'A')"],
        [
          ['step:cache'],
          "Honeycomb = functools.lru_cache(None)(Honeycomb)\nbest = max(Honeycomb(p, 'X') for p in ['AB', 'XYZ'])",
        ],
        [
          ['step:use'],
          "print(hc, best, Honeycomb('AB', 'X') is Honeycomb('AB', 'X'), Honeycomb.cache_info())",
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        text(cells[4]),
        "Honeycomb(letters='ABC', center='A') Honeycomb(letters='XYZ', center='X') True CacheInfo(hits=2, misses=2, maxsize=None, currsize=2)\n",
      );
    });
  });
});

describe('a value a function binds (`global`), holding instances of a class that calls it', () => {
  it('loads in a later step, the class defined as it loads', async () => {
    await withTempDir('cellflow-global-made-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:setup'], 'from collections import namedtuple'],
        [['step:evaluate'], 'def evaluate(x):\n    return x * scale[0]'],
        [
          ['step:fn'],
          "class Fn(namedtuple('_', 'parm')):\n    def __call__(self, v):\n        return evaluate(self.parm + v)",
        ],
        [
          ['step:execute'],
          'def execute(n):\n    global fns, scale\n    scale = [2]\n    fns = {k: Fn(k) for k in range(n)}',
        ],
        [['step:run'], 'execute(3)'],
        [['step:use'], 'print(fns[2](1), scale)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[5]), '6 [2]\n');
      assert.doesNotMatch(run.stdout + run.stderr, /function-uses-undefined-name/);
    });
  });
});

describe('calls in a comprehension at module level', () => {
  it('change what they change, as the statement runs', async () => {
    await withTempDir('cellflow-comprehension-calls-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'def make_counter():\n    n = 0\n    def counter():\n        nonlocal n\n        n += 1\n        return n\n    return counter\ndef bump(xs):\n    xs.append(len(xs))',
        ],
        [['step:make'], 'counter = make_counter()\ndata = []'],
        [
          ['step:call'],
          'firsts = [counter() for _ in range(3)]\n_ = [bump(data) for _ in range(2)]',
        ],
        [['step:use'], 'print(firsts, counter(), data)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[3]), '[1, 2, 3] 4 [0, 1]\n');
    });
  });
});

describe('two definitions that need each other, one as it is defined, the other when called', () => {
  it('are both defined again in a later step', async () => {
    await withTempDir('cellflow-definition-cycle-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:alias'], "Coins = ''.join"],
        [
          ['step:rotations'],
          'def rotations(coins) -> {Coins}:\n    return {coins[r:] + coins[:r] for r in range(len(coins))}',
        ],
        [['step:coins'], "def Coins(coins) -> str:\n    return min(rotations(''.join(coins)))"],
        [
          ['step:again'],
          'def rotations(coins) -> {Coins}:\n    return {coins[r:] + coins[:r] for r in range(len(coins))}',
        ],
        [
          ['step:use'],
          "print(Coins('THHH'), sorted(rotations('HT')), rotations.__annotations__['return'] == {Coins})",
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[4]), "HHHT ['HT', 'TH'] True\n");
    });
  });
});

describe('a notebook without tags', () => {
  it('runs whole, as one step, with what it prints and shows', async () => {
    await withTempDir('cellflow-untagged-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [[], 'import json\nrows = [1, 2]'],
        [[], 'rows.append(3)\nprint(json.dumps(rows))'],
        [[], 'print(len(rows))'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr + run.stdout, /info \[whole-notebook-step\]/);
      assert.equal(text(cells[1]), '[1, 2, 3]\n');
      assert.equal(text(cells[2]), '3\n');
    });
  });
});

describe('a statement given to a profiler or a timer as a string', () => {
  it('finds the names of earlier steps it runs with', async () => {
    await withTempDir('cellflow-profiled-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:setup'], 'import cProfile, timeit'],
        [['step:define'], 'def solve(p):\n    return sum(range(p))\npuzzle1 = 1000'],
        [
          ['step:profile'],
          'cProfile.run("solve(puzzle1)")\nt = timeit.timeit("solve(puzzle1)", globals=globals(), number=3)\nprint(t > 0)',
        ],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(text(cells[2]), /function calls in [\d.]+ seconds[\s\S]*\nTrue\n$/);
    });
  });
});

describe('a `functions` cell that defines again what a step above defined', () => {
  it('is what the name holds below it', async () => {
    await withTempDir('cellflow-functions-again-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['block:first'],
          'class LinearMap:\n    def __init__(self):\n        self.items = []\nlmap = LinearMap()\nprint(lmap.items)',
        ],
        [
          ['functions'],
          'class LinearMap:\n    def __init__(self):\n        self.items = []\n    def add(self, k, v):\n        self.items.append((k, v))',
        ],
        [['block:use'], 'lmap = LinearMap()\nlmap.add("a", 1)\nprint(lmap.items)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[0]), '[]\n');
      assert.equal(text(cells[2]), "[('a', 1)]\n");
    });
  });
});

describe('two `functions` cells that define one name', () => {
  it('give a step below each the definition above it', async () => {
    await withTempDir('cellflow-functions-twice-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['functions'], 'def reverse(xs):\n    return xs[::-1]'],
        [['block:first'], 'xs = [1, 2, 3]\nprint(reverse(xs))'],
        [['functions'], 'def reverse(xs):\n    xs.reverse()'],
        [['block:second'], 'print(reverse(xs), xs)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), '[3, 2, 1]\n');
      assert.equal(text(cells[3]), 'None [3, 2, 1]\n');
    });
  });
});

describe('names looked up through globals() by a computed key', () => {
  it('are there in the step that looks them up', async () => {
    await withTempDir('cellflow-global-lookups-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          "def do(day):\n    g = globals()\n    got = []\n    for part in (1, 2):\n        fname = f'day{day}_{part}'\n        got.append(g[fname](g[f'in{day}']) if fname in g else None)\n    return got",
        ],
        [['step:data'], 'in13 = [1, 2, 3]'],
        [['step:one'], 'def day13_1(xs):\n    return sum(xs)'],
        [['step:two'], 'def day13_2(xs):\n    return max(xs) * scale\nscale = 10'],
        [['step:run'], "print(do(13), globals()[f'in{13}'], globals().get('scale'))"],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[4]), '[6, 30] [1, 2, 3] 10\n');
    });
  });
});

describe('a set a later step loads', () => {
  it('iterates in the order it did in the step that made it', async () => {
    await withTempDir('cellflow-set-order-', async (dir) => {
      const show =
        'print(list(a), list(b), sorted(ps.index(p) for p in c), list(words), list(seen[0]))\n' +
        "print(held['again'] is a, held['in'][0] is a, len(loop), next(iter(loop)).of is loop)";
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          'a = set(range(40))\nfor x in range(40):\n    if x not in (2, 33, 39):\n        a.discard(x)\n' +
            'b = set()\nb.add(7)\nb.add(15)\n' +
            'class P:\n    pass\nps = [P() for _ in range(9)]\nc = set(reversed(ps))\n' +
            "words = set('pear fig apple kiwi plum lime date'.split()) - {'fig'}\n" +
            'seen = [set(range(60, 0, -7)) & set(range(0, 70, 2))]\n' +
            "held = {'again': a, 'in': (a,)}\n" +
            'class Node:\n    pass\nloop = set()\nnode = Node()\nnode.of = loop\nloop.add(node)\n' +
            show,
        ],
        [['step:show'], show],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), text(cells[0]));
      assert.match(text(cells[1]), /\nTrue True 1 True\n$/);
    });
  });
});

describe('a set of strings a step in a fresh interpreter loads', () => {
  it('iterates in the same order: one hash seed for the run', async () => {
    await withTempDir('cellflow-hash-seed-', async (dir) => {
      // The set's own order; a copy of it (`frozenset(words)`) may order its items otherwise: the
      // loaded set lacks the slot its removed item left.
      const show = 'print(list(words), sorted(words) == sorted(set(words)))';
      const { run, cells } = await runCells(
        dir,
        [
          [
            ['step:make'],
            "words = set('pear fig apple kiwi plum lime date cherry mango'.split()) - {'fig'}\n" +
              show,
          ],
          // `env:` runs the step in an interpreter of its own, not a fork.
          [['step:show', 'env:SHOWN=1'], show],
        ],
        { ...process.env, PYTHONHASHSEED: '' },
      );
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), text(cells[0]));
    });
  });
});

describe('a list a comprehension fills with an object of an earlier step', () => {
  it('holds that very object in a later step', async () => {
    await withTempDir('cellflow-filled-list-', async (dir) => {
      const { run, cells } = await runCells(dir, [
        [['step:define'], 'empty = (0, 0)\nrows = [[1], [2]]'],
        [
          ['step:fill'],
          'grid = [[empty] * 3 for _ in range(2)]\nline = [empty] * 4\nby_row = {k: empty for k in rows[0]}',
        ],
        [['step:check'], 'print(grid[1][2] is empty, line[3] is empty, by_row[1] is empty)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[2]), 'True True True\n');
    });
  });
});
