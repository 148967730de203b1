/**
 * Which names an expression's value may share objects with: `b = a`, `b = a[1:]` (a numpy view),
 * `b = a.attr`, `b = [a, c]`, `b = [a] * 3`, `b = a.reshape(2, 2)`, `model = pipe.fit(X, y)` (fit
 * returns self). A call or an operation (`a + 1`, `f(a)`) makes a new object and shares nothing. Used to keep a
 * change made through one name visible through the others across steps; a wrong guess costs a
 * load and a save, never a wrong result.
 */
import type { SyntaxNode, TreeCursor } from '@lezer/common';

/** Methods whose result is (a view of) their object, or holds its parts. */
const SHARING_METHODS = new Set([
  'reshape',
  'view',
  'ravel',
  'squeeze',
  'transpose',
  'swapaxes',
  'fit',
  'partial_fit',
  'set_params',
  'set_output',
  'get',
  'setdefault',
  'pop',
  'items',
  'values',
  'keys',
  'to_numpy',
  'asformat',
  'iter',
  // A database cursor holds its connection (`cur = conn.cursor()`, `rows = conn.execute(...)`).
  'cursor',
  'execute',
]);

/** Calls whose result holds their arguments' objects (for loops: `enumerate(xs)`, `zip(a, b)`). */
const SHARING_FUNCTIONS = new Set([
  'enumerate',
  'zip',
  'reversed',
  'sorted',
  'list',
  'tuple',
  'iter',
  'dict',
  'set',
  'filter',
]);

/**
 * Calls, by the callee's last name, whose result holds the file or lines it is given: CSV
 * readers and writers (`w = csv.writer(f)`: a step that loads `w` gets the very `f`).
 */
const WRAPPING_CALLS = new Set(['reader', 'writer', 'DictReader', 'DictWriter']);

/**
 * Pushes `node`'s children onto `pending` last first (so that they pop in order), leaving out
 * a container's `if` and `else` when `partsOnly`. Walks step through siblings rather than collect
 * arrays of children: each step makes a node object, an array more.
 */
function pushChildren<T>(pending: (SyntaxNode | T)[], node: SyntaxNode, partsOnly = false): void {
  const start = pending.length;
  for (let c = node.firstChild; c !== null; c = c.nextSibling)
    if (!partsOnly || (c.name !== 'if' && c.name !== 'else')) pending.push(c);
  for (let i = start, j = pending.length - 1; i < j; i++, j--) {
    const t = pending[i]!;
    pending[i] = pending[j]!;
    pending[j] = t;
  }
}

/** Comprehensions that build a new list, dict or set from their element expressions. */
const COMPREHENSIONS = new Set([
  'ArrayComprehensionExpression',
  'DictionaryComprehensionExpression',
  'SetComprehensionExpression',
]);

/**
 * What a list, dict or set comprehension's result may hold, in source order: what each `for` goes
 * through (`[r for r in rows]` holds the rows' objects, `[Point(i) for i in xs]` Points), then its
 * element expressions (a dict's keys and values; a bare loop variable stands for what its `for`
 * goes through). Without `withSources`, only the element expressions.
 */
function comprehensionParts(
  node: SyntaxNode,
  text: (n: SyntaxNode) => string,
  withSources = true,
): SyntaxNode[] {
  const sources: SyntaxNode[] = [];
  const elements: SyntaxNode[] = [];
  const loopNames = new Set<string>();
  let at: 'element' | 'target' | 'source' | 'condition' = 'element';
  for (let c = node.firstChild; c !== null; c = c.nextSibling) {
    if (c.name === 'for') at = 'target';
    else if (c.name === 'in') at = 'source';
    else if (c.name === 'if') at = 'condition';
    else if (at === 'element' && c.name !== ':' && !/^[[\]{}]$/.test(c.name)) elements.push(c);
    else if (at === 'target' && c.name === 'VariableName') loopNames.add(text(c));
    else if (at === 'source') {
      sources.push(c);
      at = 'condition';
    }
  }
  return [
    ...(withSources ? sources : []),
    ...elements.filter((e) => e.name !== 'VariableName' || !loopNames.has(text(e))),
  ];
}

/** Whether `node` has a child called `name`. */
function hasChildNamed(node: SyntaxNode, name: string): boolean {
  for (let c = node.firstChild; c !== null; c = c.nextSibling) if (c.name === name) return true;
  return false;
}

/** Expressions whose value is made of their parts: a tuple, a list, `a if c else b`, `*xs`. */
const CONTAINERS = new Set([
  'ParenthesizedExpression',
  'TupleExpression',
  'ArrayExpression',
  'SetExpression',
  'DictionaryExpression',
  'ConditionalExpression',
  'StarExpression',
]);

/**
 * Names passed bare to a call anywhere in an expression (`df.groupby(get_year)`,
 * `partial(scale, factor=2)`, `np.frompyfunc(add, 2, 1)`): the result may keep that object, most
 * often a notebook function, so a step that loads the result needs it defined. Lambdas and
 * comprehensions are not entered: what they call is looked up when they run.
 *
 * In the order of a walk that takes a node, then its children last first: the reverse of one that
 * takes the children first to last, then the node, which a cursor walks without making node
 * objects or a work list (`a or b or ...` chains can be thousands of levels deep).
 */
export function passedNames(node: SyntaxNode, text: (n: TextSpan) => string): string[] {
  const found: string[] = [];
  const cursor = node.cursor();
  let depth = 0;
  for (;;) {
    const name = cursor.name;
    if (name !== 'LambdaExpression' && !name.endsWith('ComprehensionExpression')) {
      if (cursor.firstChild()) {
        depth++;
        continue;
      }
    }
    // The node is done (its children are): then its next sibling, or its parent is done.
    for (;;) {
      if (cursor.name === 'ArgList') pushPassedReversed(cursor, text, found);
      if (depth === 0) return found.reverse();
      if (cursor.nextSibling()) break;
      cursor.parent();
      depth--;
    }
  }
}

/** What `text` reads: a node, or a cursor where it stands. */
export interface TextSpan {
  readonly from: number;
  readonly to: number;
}

/**
 * The names an argument list (where `cursor` stands, and is left) passes bare, pushed onto `found`
 * last first. A keyword's own name (`factor=`) is not passed.
 */
function pushPassedReversed(
  cursor: TreeCursor,
  text: (n: TextSpan) => string,
  found: string[],
): void {
  const start = found.length;
  if (!cursor.firstChild()) return;
  for (let more = true; more;) {
    if (cursor.name === 'VariableName') {
      const passed = text(cursor);
      more = cursor.nextSibling();
      if (!more || cursor.type.name !== 'AssignOp') found.push(passed);
    } else more = cursor.nextSibling();
  }
  cursor.parent();
  for (let i = start, j = found.length - 1; i < j; i++, j--) {
    const t = found[i]!;
    found[i] = found[j]!;
    found[j] = t;
  }
}

/**
 * Walked with a work list rather than recursion: `a or b or ...` and `x if c else y if ...` chains
 * can be thousands of levels deep.
 */
export function aliasSources(node: SyntaxNode, text: (n: SyntaxNode) => string): string[] {
  const found: string[] = [];
  const pending: SyntaxNode[] = [node];
  for (let next = pending.pop(); next !== undefined; next = pending.pop())
    pushSharedParts(next, text, found, pending);
  return found;
}

/**
 * One step of `aliasSources`: a name goes into `found`; the parts that may share are pushed onto
 * `pending`, last first.
 */
function pushSharedParts(
  node: SyntaxNode,
  text: (n: SyntaxNode) => string,
  found: string[],
  pending: SyntaxNode[],
): void {
  if (CONTAINERS.has(node.name)) return pushChildren(pending, node, true);
  switch (node.name) {
    case 'VariableName':
      found.push(text(node));
      return;
    case 'MemberExpression': {
      const object = node.firstChild;
      if (object !== null) pending.push(object);
      return;
    }
    case 'CallExpression': {
      const callee = node.firstChild;
      const args = callee?.nextSibling;
      if (callee?.name === 'MemberExpression') {
        let method: SyntaxNode | null = callee.firstChild;
        while (method !== null && method.name !== 'PropertyName') method = method.nextSibling;
        if (method !== null && SHARING_METHODS.has(text(method)) && callee.firstChild !== null) {
          pending.push(callee.firstChild);
          return;
        }
        if (method !== null && WRAPPING_CALLS.has(text(method)) && args)
          pushChildren(pending, args);
        return;
      }
      const name = callee?.name === 'VariableName' ? text(callee) : '';
      if ((SHARING_FUNCTIONS.has(name) || WRAPPING_CALLS.has(name)) && args)
        pushChildren(pending, args);
      return;
    }
    case 'BinaryExpression':
      if (hasChildNamed(node, 'or') || hasChildNamed(node, 'and')) pushChildren(pending, node);
      else if (repeatsOrJoinsLiterals(node, text))
        // `[empty] * 3`, `[x] + [y]`: a new list of the same objects.
        for (let c = node.lastChild; c !== null; c = c.prevSibling)
          if (LITERALS.has(c.name)) pending.push(c);
      return;
    default:
      if (COMPREHENSIONS.has(node.name)) pushSharedComprehensionParts(node, text, pending);
      return;
  }
}

/**
 * A comprehension's parts that its new list, dict or set shares objects with: element
 * expressions other than a loop variable, which put one object in many times (`[[empty] * 3 for
 * _ in rows]`, `{k: default for k in keys}`). The items a `for` goes through are left out
 * (`[r for r in rows if r]`): most are numbers or strings, and saving a filtered list with its
 * source would make the steps that use either wait on each other.
 */
function pushSharedComprehensionParts(
  node: SyntaxNode,
  text: (n: SyntaxNode) => string,
  pending: SyntaxNode[],
): void {
  const parts = comprehensionParts(node, text, false);
  for (let i = parts.length - 1; i >= 0; i--) pending.push(parts[i]!);
}

/** Literal lists, tuples and comprehensions, which `*` repeats and `+` joins. */
const LITERALS = new Set(['ArrayExpression', 'TupleExpression', ...COMPREHENSIONS]);

/** Whether `node` (a binary expression) is `*` or `+` with a literal list or tuple as an operand. */
function repeatsOrJoinsLiterals(node: SyntaxNode, text: (n: SyntaxNode) => string): boolean {
  let literal = false;
  let operator = '';
  for (let c = node.firstChild; c !== null; c = c.nextSibling) {
    if (c.name === 'ArithOp') operator = text(c);
    else if (LITERALS.has(c.name)) literal = true;
  }
  return literal && (operator === '*' || operator === '+');
}

/** Classes that copy what they are made from into new objects. */
const COPYING_CLASSES = new Set(['Counter', 'Decimal', 'Fraction', 'Path', 'PurePath', 'UUID']);

/** Functions whose result holds their arguments' objects. */
const HOLDING_FUNCTIONS = new Set([
  'make_pipeline',
  'make_union',
  'make_column_transformer',
  'dict',
  'list',
  'tuple',
  'set',
  'zip',
  'enumerate',
  'partial',
  'namedtuple',
  'SimpleNamespace',
  'deque',
  'defaultdict',
  'OrderedDict',
]);

/** Methods that put their arguments' objects inside their object (`xs.append(x)`). */
export const STORING_METHODS = new Set([
  'append',
  'extend',
  'insert',
  'add',
  'update',
  'setdefault',
  'appendleft',
  'put',
]);

/**
 * Names whose objects a value may hold: what it shares (above), the function or class that
 * makes it (`Acc()`, `make_model()`), and what it is made from (`Pipeline([("m", svc)])`,
 * `CalibratedClassifierCV(svc)`), and what a list, dict or set comprehension's elements hold
 * (`[Point(i) for i in xs]`; the new container is not shared as such). Arithmetic and comparisons
 * hold nothing (`acc.total / n`).
 */
export function heldNames(
  node: SyntaxNode,
  text: (n: SyntaxNode) => string,
  withMaker = true,
): string[] {
  const { found, makers } = heldNamesAndMakers(node, text);
  return withMaker ? found : found.filter((_, i) => !makers.has(i));
}

/** No makers: most values are not calls, so most walks make no set of their own. */
const NO_MAKERS: ReadonlySet<number> = new Set();

/** `heldNames`, and which of them (positions in `found`) are makers (`Acc` in `Acc()`). */
export function heldNamesAndMakers(
  node: SyntaxNode,
  text: (n: SyntaxNode) => string,
): { found: string[]; makers: ReadonlySet<number> } {
  // A work list (names found later in source order wait on it as lists) instead of recursion.
  const found: string[] = [];
  let makers: Set<number> | undefined;
  const pending: (SyntaxNode | readonly string[])[] = [node];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (!('name' in next)) {
      found.push(...next);
      continue;
    }
    if (next.name === 'CallExpression') {
      const callee = next.firstChild ?? undefined;
      const args = callee?.nextSibling ?? undefined;
      let root: SyntaxNode | null = callee ?? null;
      while (root !== null && (root.name === 'MemberExpression' || root.name === 'CallExpression'))
        root = root.firstChild;
      if (root?.name === 'VariableName') (makers ??= new Set()).add(found.push(text(root)) - 1);
      // A class (capitalised, `Pipeline(...)`) or a known holder keeps what it is made from; a
      // function or method result (`accuracy_score(y, p)`, `clf.fit(X, y)`) does not.
      const name = callee === undefined ? '' : (/([A-Za-z_]\w*)\s*$/.exec(text(callee))?.[1] ?? '');
      const holds =
        (/^_*[A-Z]/.test(name) && !COPYING_CLASSES.has(name)) || HOLDING_FUNCTIONS.has(name);
      // `Counter(w for w in words)`: a generator argument is consumed, not held.
      const generator = args !== undefined && hasChildNamed(args, 'for');
      pending.push(aliasSources(next, text));
      if (args !== undefined && holds && !generator) pushChildren(pending, args);
    } else if (CONTAINERS.has(next.name)) pushChildren(pending, next, true);
    else if (COMPREHENSIONS.has(next.name)) {
      // The objects it puts in as they are are shared (`[[empty] * 3 for _ in rows]`); what its
      // elements are made of is held, not shared as the value itself is.
      found.push(...aliasSources(next, text));
      for (const part of comprehensionParts(next, text))
        for (const name of heldNamesAndMakers(part, text).found)
          (makers ??= new Set()).add(found.push(name) - 1);
    } else if (next.name === 'VariableName')
      found.push(text(next)); // what aliasSources finds
    else found.push(...aliasSources(next, text));
  }
  return { found, makers: makers ?? NO_MAKERS };
}
