/**
 * Compares the fast Python front end with Lezer's parser on one text (fast-parser-*.test.ts):
 * the fast one answers with exactly Lezer's tree (every node's type, from, to and nesting) or
 * gives up. Where Lezer's tree has an error node, a different answer is only allowed on code that
 * CPython accepts (`cpythonAccepts`): Lezer then reported an error in valid code.
 */
import { execFileSync } from 'node:child_process';
import { fastParsePython, parseWithLezer } from '@cellflow/core';
import { PYTHON } from '../support/paths.js';

type Tree = NonNullable<ReturnType<typeof fastParsePython>>;

/** Every node, in document order: `name#type:from-to`, `)` closing a node's children. */
export function walkTree(tree: Tree): string[] {
  const out: string[] = [];
  const cursor = tree.cursor();
  for (;;) {
    out.push(`${cursor.type.name}#${cursor.type.id}:${cursor.from}-${cursor.to}`);
    if (cursor.firstChild()) continue;
    for (;;) {
      if (cursor.nextSibling()) break;
      if (!cursor.parent()) return out;
      out.push(')');
    }
    out.push(')');
  }
}

function hasErrorNode(tree: Tree): boolean {
  let found = false;
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) found = true;
      return !found;
    },
  });
  return found;
}

export type Verdict =
  | { readonly kind: 'identical' }
  /** The fast parser gave up; `lezerError` when Lezer's tree has an error node too. */
  | { readonly kind: 'gave-up'; readonly lezerError: boolean }
  /** Different trees where Lezer's has an error node: fine only if CPython accepts the code. */
  | { readonly kind: 'differs-at-lezer-error'; readonly detail: string }
  | { readonly kind: 'differs'; readonly detail: string };

export function compareParsers(code: string): Verdict {
  const fast = fastParsePython(code);
  const lezer = parseWithLezer(code);
  if (!('cursor' in lezer)) {
    return fast === null
      ? { kind: 'gave-up', lezerError: true }
      : { kind: 'differs', detail: `Lezer's path reports nesting: ${lezer.message}` };
  }
  const lezerError = hasErrorNode(lezer);
  if (fast === null) return { kind: 'gave-up', lezerError };
  const a = walkTree(fast);
  const b = walkTree(lezer);
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  if (i === a.length && a.length === b.length) return { kind: 'identical' };
  const detail = `node ${i}: fast ${describe(code, a[i])}, Lezer ${describe(code, b[i])}`;
  return lezerError ? { kind: 'differs-at-lezer-error', detail } : { kind: 'differs', detail };
}

function describe(code: string, entry: string | undefined): string {
  if (entry === undefined) return 'nothing';
  if (entry === ')') return 'end of children';
  const colon = entry.lastIndexOf(':');
  const [from, to] = entry
    .slice(colon + 1)
    .split('-')
    .map(Number) as [number, number];
  return `${entry.slice(0, colon)} ${from}-${to} ${JSON.stringify(code.slice(from, to)).slice(0, 60)}`;
}

/** For each text, whether CPython 3.11's parser accepts it (one process for all). */
export function cpythonAccepts(codes: readonly string[]): boolean[] {
  if (codes.length === 0) return [];
  const script = `
import ast, json, sys
out = []
for src in json.load(sys.stdin):
    try:
        ast.parse(src)
        out.append(True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        out.append(False)
print(json.dumps(out))
`;
  return JSON.parse(
    execFileSync(PYTHON, ['-c', script], {
      input: JSON.stringify(codes),
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    }),
  ) as boolean[];
}
