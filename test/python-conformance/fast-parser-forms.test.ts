/**
 * The fast Python front end on a fixed set of tricky forms (issue 16): each must be answered with
 * exactly Lezer's tree, including where Lezer reads code otherwise than CPython (`not a and b`,
 * `await a + b`, an over-indented top-level line). Broken code and the forms it leaves to Lezer
 * must make it give up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toPlainPython } from '@cellflow/core';
import { compareParsers } from './parser-identity.js';

const ANSWERED: Record<string, string> = {
  decorators:
    '@a.b(1)\n@c\n@(lambda f: f)\n@x[0].y\nasync def f(a, /, b: int = 1, *c: *T, d, **e) -> int:\n  return 1, *x\n',
  'class with keywords':
    'class A(B, metaclass=M):\n    """doc"""\n    x: int = 1\n    def m(self): ...\n',
  'f-strings': `f'a{x!r:>{w}.{p}f} {y=} {{z}} {a:%Y-%m} {b=!r:10}' f"{'a' if b else 'c'}"\n`,
  'nested f-strings': `f"{f'{x:{y}}'!s:>{w}}" rf'\\d{x}\\n' fr"{x}" F'{x:=10}' f'{(x:=10)}' f'{a[1:2]}'\n`,
  'f-string spec with newline and quotes': `f"""{x:
>10}""" f'{x:"}'\n`,
  'string prefixes and escapes':
    "s = b'\\x41\\n' r'\\d' u'x' Rb'\\'' BR\"x\" '\\N{DASH}\\u1234\\x4\\o12\\777' '''a\nb'''\n'a\\\nb'\n",
  numbers: 'n = [1_000, 0x_ff, 0o17, 0b1_0, 1.5e-3j, 3., .5, 1.e5, 1E+5J, 0, 00, 1_0.0_1e1_0]\n',
  walrus:
    'if (n := len(a)) > 10: pass\n[y := f(x), y**2]\nf(x := 1)\na[x := 1]\nwhile chunk := f.read(): pass\n',
  lambdas:
    'f = lambda x=1, *a, k=2, **kw: x\ng = lambda: (yield)\nh = lambda *, a: 1\ni = lambda /: 1\nj = lambda : 0\n',
  'star expressions':
    '*a, b = c\nx = *a, *b\nfor x in *a, b: pass\nreturn *a, b\nprint(*a, **b)\n[*a, *b]\n{*a}\n{**a, "k": 1}\n',
  comprehensions:
    '[x for x in y if a if b for z in w]\n{k: v for k, v in d.items()}\n{x async for x in y}\n(x for x, in y)\n[lambda: x for x in y if lambda: z]\n',
  'match statement':
    'match x, *y:\n    case 1 | -2 | 3 + 4j | "s" | None | True:\n        pass\n    case [a, *rest] if a > 0:\n        pass\n    case {"k": v, a.b: 1, **kw}:\n        pass\n    case Point(1, x=0, y=_) as p:\n        pass\n    case a.b.c | (d, e), f:\n        pass\n    case {} | [] | () | str():\n        pass\n',
  'match as a name': 'match = 1\nmatch.x\nmatch(x)\nmatch[x]\ncase = 2\ntype = 3\ntype(x)\n',
  'type statement': 'type X[T, *U, **V] = list[T]\ndef f[T: int](x: T) -> T: return x\n',
  async:
    'async def f():\n    async with a as b, c: pass\n    async for x in y: await z\n    return await a + b\n',
  'with items':
    'with (a as b, c): pass\nwith (a, b): pass\nwith (a) as b, (c): pass\nwith (a, b) as c: pass\nwith (): pass\n',
  'try and except':
    'try:\n  a\nexcept* (A, B) as e:\n  b\nexcept A, e:\n  pass\nexcept:\n  c\nelse:\n  d\nfinally:\n  e\n',
  'IPython magics and shell lines': toPlainPython(
    '%matplotlib inline\n!pip install x\nfiles = !ls\n%time y = f(x)\nx?\n',
  ).code,
  'a cell magic': toPlainPython('%%time\nx = 1\n').code,
  'line continuations':
    'x = 1 + \\\n    2\nif a and \\\n        b:\n    pass\nassert x, \\\n  "m"\n',
  'comments and blank lines in brackets':
    'x = (  # c\n  a,  # d\n\n  b\n  # e\n)\nf(\n    a,\n\n    # c\n    b=1,\n)\n',
  'comments around blocks':
    '# top\nif a:  # c\n    # d\n    b  # e\n    # f\n\n# g\nelse:\n    c\n# h\n    # i\nx\n# end',
  'tabs and form feeds': 'if a:\n\tb\n\tif c:\n\t\td\n\x0c\ne\n',
  'over-indented top-level lines (Lezer accepts them)': 'x = 1\n    y = 2\n  if a:\n      b\n  c\n',
  'Lezer readings':
    'not a and b\na and not b or c\nawait a + b\n-await a.b ** c\nx = a < not b\n-a ** -b\na <> b\n',
  'print >> f': 'print >> f, x\nprint >>sys.stderr, "x"\n',
  statements:
    'del a, b[1]\nglobal a, b\nnonlocal c\nassert a, b\nraise A from B\nraise\nx = yield a, b\ny = yield from z\nyield\nimport a.b as c, d\nfrom ..a import (b as c, d,)\nfrom . import *\nfrom .... import x\na; b; \nx: int\n(a) = 1\nx += yield\n',
  'subscripts and slices': 'a[b:c:d, e]\na[::]\na[*b]\na[:, 1]\na[...]\nx[1:2, ::3].y\n',
  'conditional expressions':
    'a if b else c if d else e\nx = a if b else lambda: c\nlambda x: x if y else z\n',
  'empty and blank': '\n\n   \n# only a comment\n',
  'no final newline': 'if a:\n    b',
  'dedent to a blank end': 'def f():\n    return 1\n    \n',
};

const GIVES_UP: Record<string, string> = {
  'unclosed bracket': 'x = (1,\n',
  'unterminated string': "x = 'abc\ny = 1\n",
  'carriage returns': 'x = 1\r\ny = 2\r\n',
  'missing block': 'if a:\nb\n',
  'over-indented line in a block': 'if a:\n    b\n      c\n',
  'bad dedent in a block': 'if a:\n    if b:\n        c\n      d\n',
  'stray operator': 'x = = 1\n',
  'lambda in an f-string': "f'{lambda x: 1}'\n",
  'blank line after a continuation': 'x = 1 + \\\n\n2\n',
  'unknown character': 'x = $y\n',
  'empty subscript': 'a[]\n',
  'deep nesting': `x = ${'('.repeat(150)}1${')'.repeat(150)}\n`,
  'long chain': `x = ${Array.from({ length: 600 }, (_, i) => `a${i}`).join(' + ')}\n`,
};

describe('fast Python parser: tricky forms', () => {
  for (const [name, code] of Object.entries(ANSWERED))
    it(`answers with Lezer's tree: ${name}`, () => {
      assert.deepEqual(compareParsers(code), { kind: 'identical' });
    });
  for (const [name, code] of Object.entries(GIVES_UP))
    it(`gives up: ${name}`, () => {
      assert.equal(compareParsers(code).kind, 'gave-up');
    });
});
