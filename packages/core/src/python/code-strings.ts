/**
 * Code inside string literals that a call runs: `eval("x + 1")`, `exec("y = x")`,
 * `cProfile.run("solve(p)")`, `pd.eval("df1 + df2")`, `df.query("a > @limit")`,
 * `df.eval("c = a + @k")`. The names such
 * code reads are the call's reads too: a step that runs it needs them, as Jupyter has them.
 */
import type { SyntaxNode } from '@lezer/common';
import { PYTHON_BUILTINS } from './builtins.js';

const KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except ' +
    'finally for from global if import in is lambda nonlocal not or pass raise return try while ' +
    'with yield'
  ).split(' '),
);

/** A string literal's text without its prefix and quotes (escapes left as they are). */
function literalText(node: SyntaxNode, text: (n: SyntaxNode) => string): string | null {
  if (node.name !== 'String') return null;
  const match = /^[rRuU]?('''|"""|'|")([\s\S]*)\1$/.exec(text(node));
  return match === null ? null : match[2]!;
}

/** The expression's identifiers that are not attributes, keywords or inside its own quotes. */
function identifiers(code: string, marked: boolean): string[] {
  const unquoted = code.replace(/'[^'\n]*'|"[^"\n]*"/g, '""');
  const names = new Set<string>();
  for (const m of unquoted.matchAll(/(@?)(\.?)\s*\b([A-Za-z_]\w*)/g)) {
    if (m[2] === '.') continue;
    if (marked ? m[1] !== '@' : KEYWORDS.has(m[3]!)) continue;
    names.add(m[3]!);
  }
  return [...names];
}

/**
 * Profilers and timers given a statement to run in the notebook's names (`cProfile.run("solve(p)")`
 * runs it in `__main__`; `timeit.timeit("f(x)", globals=globals())`).
 */
const PROFILED = /^(cProfile|profile)\.(run|runctx)$|^timeit\.(timeit|repeat)$/;

/**
 * The names the code in a call's first argument reads, when the callee runs code given as a
 * string literal; `pythonReads` gives a Python snippet's free names (for `eval` and `exec`).
 */
export function codeStringReads(
  callee: string,
  args: SyntaxNode,
  text: (n: SyntaxNode) => string,
  pythonReads: (code: string) => readonly string[],
): readonly string[] {
  const last = callee.slice(callee.lastIndexOf('.') + 1);
  const profiled = PROFILED.test(callee);
  if (!profiled && !/^(eval|exec|query|evaluate)$/.test(last)) return [];
  const first = args.firstChild?.nextSibling ?? null; // after `(`
  if (first === null) return [];
  const code = literalText(first, text);
  if (code === null) return [];
  // `eval(...)`, `exec(...)`: Python, looked up in the notebook's names.
  if (callee === 'eval' || callee === 'exec' || profiled) return pythonReads(code);
  // `pd.eval(...)`, `numexpr.evaluate(...)`: every name is the caller's.
  if (/^(pd|pandas|ne|numexpr)\.(eval|evaluate)$/.test(callee))
    return identifiers(code, false).filter((n) => !PYTHON_BUILTINS.has(n));
  // `df.query(...)`, `df.eval(...)`: bare names are columns; `@name` is the caller's.
  if (last === 'query' || last === 'eval') return identifiers(code, true);
  return [];
}

const NO_NAMES: readonly string[] = [];

/**
 * The names read by the positional string-literal arguments of a call that are Python
 * expressions (`'df1'`, `"pd.concat([df1, df2])"`); `expressionReads` gives an expression's free
 * names, or null for text that is not one (`'hello world'`).
 */
export function literalExpressionReads(
  args: SyntaxNode,
  text: (n: SyntaxNode) => string,
  expressionReads: (code: string) => readonly string[] | null,
): readonly string[] {
  // Made at the first name: most calls pass no such string.
  let names: Set<string> | undefined;
  for (let a = args.firstChild; a !== null; a = a.nextSibling) {
    if (a.name === 'AssignOp') break; // keyword arguments from here on
    const code = literalText(a, text);
    if (code === null || code.includes('\\')) continue;
    for (const name of expressionReads(code) ?? []) (names ??= new Set()).add(name);
  }
  return names === undefined ? NO_NAMES : [...names];
}

/**
 * The names in the model formulas among a node's string literals (`"y ~ np.log(x) + f(z)"`, as
 * patsy and statsmodels read them): `y`, `np`, `x`, `f`, `z`. Most are the data's columns; the
 * ones the notebook binds are looked up in its namespace when the formula is evaluated, also when
 * a model made from it loads again.
 */
export function formulaNames(node: SyntaxNode, text: (n: SyntaxNode) => string): string[] {
  const names = new Set<string>();
  const cursor = node.cursor();
  const end = node.to;
  do {
    if (cursor.name !== 'String') continue;
    const code = literalText(cursor.node, text);
    if (code === null || !code.includes('~')) continue;
    for (const name of identifiers(code, false)) names.add(name);
  } while (cursor.next() && cursor.from < end);
  return [...names];
}
