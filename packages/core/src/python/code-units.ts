/**
 * Top-level statements that are code rather than data: imports, function and class definitions
 * (lambdas, factory-made classes such as `namedtuple` and generator expressions bound to a name
 * too), and process-wide configuration calls. A later step does not load their names as data; it
 * runs the statement again (replays it), as Jupyter would still have it.
 *
 * - `import` units bind modules and imported objects. An `if`/`try` whose branches only import
 *   (with `pass`, literals and fallbacks such as `x = None`) is one unit.
 * - `definition` units bind a function, class, lambda, factory-made class or generator (a
 *   generator expression, or a call of a notebook function that yields: `gen = squares(4)`). Their
 *   `reads` are evaluated when the statement runs (decorators, defaults, annotations, base
 *   classes, class bodies); `callReads` are the module-level names their bodies read when called,
 *   which Jupyter looks up at call time.
 * - `config` units change process state that later cells rely on (`warnings.filterwarnings`,
 *   `pd.set_option`, `plt.rcParams[...] = ...`, `sys.path.append`, `os.environ[...] = ...`): a
 *   call or an attribute/item assignment hanging off a name (`root`) that must be an import.
 * - `seed` units seed a global random generator (`np.random.seed`, `random.seed`).
 */
import type { SyntaxNode } from '@lezer/common';
import { textId } from './analyze-cells.js';
import {
  analyzePython,
  firstSyntaxError,
  PythonAnalyzer,
  type CodeAnalysis,
  type FileAccess,
  type MethodEffects,
  type PassedParameter,
  type StoredParameters,
  type ParameterRef,
} from './analyze-python.js';
import { BoundedCache } from './bounded-cache.js';
import { globalLookupPatterns } from './global-lookups.js';
import { CACHING_CALLEE, REMADE_BY_RUNNING } from './call-kinds.js';
import { parsePython } from './parse-python.js';

export type CodeUnitKind = 'import' | 'definition' | 'config' | 'seed';

export interface CodeUnit {
  readonly kind: CodeUnitKind;
  /** Notebook cell index. */
  readonly cell: number;
  /** 1-based line of the statement's first line in the cell. */
  readonly line: number;
  /** Offsets of the statement in the cell's plain code. */
  readonly from: number;
  readonly to: number;
  /** The statement's text, starting at its first line's first column. */
  readonly code: string;
  /** Names the statement binds. */
  readonly names: readonly string[];
  /** Names read when the statement runs (builtins and its own bindings excluded). */
  readonly reads: readonly string[];
  /** Of `reads`, those only annotations read (see `CodeAnalysis.annotationReads`). */
  readonly annotationReads: readonly string[];
  /** Definitions: module-level names the body reads when called. */
  readonly callReads: readonly string[];
  /**
   * Definitions: module-level names a call rebinds (`global n`) or changes in place; a step that
   * may call the function loads them and leaves them changed.
   */
  readonly callEffects: readonly string[];
  /** Definitions: those of `callEffects` that a call binds (`global n`), not only changes. */
  readonly callWrites: readonly string[];
  /**
   * Functions: the parameters and those whose objects a call changes in place
   * (`def prep(df): df["y"] = 1`): a step calling it changes what it passes there.
   */
  readonly parameters: readonly ParameterRef[];
  readonly mutatedParameters: readonly ParameterRef[];
  /** Classes: the methods that change a parameter in place (`tour.melee(agents)`). */
  readonly mutatingMethods: readonly MethodEffects[];
  /** Functions: module-level names a call keeps passed objects in (`register(kind, obj)`). */
  readonly stores: readonly StoredParameters[];
  /** Functions: the calls that pass its parameters to module-level functions (`inner(df)`). */
  readonly passes: readonly PassedParameter[];
  /** Whether running the statement, or calling what it defines, may read or write files. */
  readonly fileAccess: FileAccess;
  /** Config and seed units: the name the call or assignment hangs off (must be an import). */
  readonly root: string | null;
  /** A function definition whose calls make generators (its own body yields). */
  readonly yields: boolean;
  /**
   * Its body yields in a loop with no condition to end it (`while True:`): a generator it makes
   * may never end, so a step cannot save what one has left (it starts again in the next step).
   */
  readonly yieldsEndlessly: boolean;
  /**
   * A function or class that runs code it is given (`eval(a)`, `exec(src)` in its body): string
   * literals passed to it are code (see `CallSite.codeStrings`).
   */
  readonly evaluatesStrings: boolean;
  /**
   * It binds a generator (a generator expression, a call of a function that yields): a step that
   * runs it again gets the generator fresh, from its start.
   */
  readonly startsGenerator: boolean;
  /**
   * A `class` or `def` statement (decorated or not): what steps change on the class or function
   * it defines (`Tracker.history.append(x)`, `Config.debug = True` in a function) is a value.
   */
  readonly holdsState: boolean;
  /**
   * A function whose body makes functions that may keep state between their calls (`nonlocal n`
   * in a function it defines, a list of the enclosing call they append to): what a call returns
   * may change when it is called (`counter()`).
   */
  readonly makesClosures: boolean;
  /**
   * A decorated definition's decorators, by the name each starts with (`@counted`,
   * `@register("x")`, `@functools.wraps(f)` as `functools`): a notebook function among them that
   * makes closures with state (`makesClosures`) makes the name a function whose calls change it.
   */
  readonly decorators: readonly string[];
  /**
   * Definitions: the names its code looks up through `globals()` by a computed key, as patterns
   * (`do(day)` reading `globals()[f"in{day}"]`: `^in\w*$`; see `global-lookups.ts`).
   */
  readonly globalLookups: readonly string[];
}

/** The statements that define a class or function object (see `CodeUnit.holdsState`). */
const DEFINITION_STATEMENTS = new Set([
  'ClassDefinition',
  'FunctionDefinition',
  'DecoratedStatement',
]);

/** No notebook function yields: the default of `readCodeUnits`. */
const NO_GENERATOR_FUNCTIONS: ReadonlySet<string> = new Set();

/**
 * Method names that configure a library or the process rather than compute a value (`pandas`:
 * `tqdm.pandas()` adds `progress_apply` to pandas; `initialize`: pandarallel's).
 */
const CONFIG_METHOD =
  /^(set|set_\w+|use|init_printing|filterwarnings|simplefilter|resetwarnings|basicConfig|seterr|append|insert|extend|update|setdefault|disable\w*|enable\w*|chdir|putenv|setLevel|setlocale|setrecursionlimit|rc|switch_backend|register\w*|manual_seed|reset_option|config|configure|addHandler|pandas|initialize|init_notebook_mode)$/;
/** Calls that seed (or set) a global random generator. */
const SEED_METHOD = /^(seed|set_state|setstate)$/;
/** Bare functions (`from warnings import filterwarnings`) that configure the process. */
const CONFIG_FUNCTION =
  /^(init_printing|filterwarnings|simplefilter|set_config|set_option|set_printoptions|seterr|register_matplotlib_converters|set_theme|set_style|set_context|set_palette|use|manual_seed|set_seed|basicConfig|disable_warnings|init_notebook_mode)$/;

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c);
  return out;
}

/** The plain name `a.b(c).d[e]` hangs off, and the last attribute name of the chain. */
function chain(
  node: SyntaxNode,
  text: (n: SyntaxNode) => string,
): { root: string; last: string } | null {
  let n: SyntaxNode | null = node;
  let last = '';
  while (n !== null && (n.name === 'MemberExpression' || n.name === 'CallExpression')) {
    if (n.name === 'MemberExpression' && last === '') {
      const prop = children(n).find((c) => c.name === 'PropertyName');
      if (prop !== undefined) last = text(prop);
    }
    n = n.firstChild;
  }
  return n?.name === 'VariableName' ? { root: text(n), last } : null;
}

const LITERALS = new Set(['None', 'Boolean', 'Number', 'String', 'Ellipsis', 'True', 'False']);

/**
 * An `if`/`try` whose every statement imports, defines a function or class, passes, or binds a
 * literal fallback (`try: import xgboost ... except ImportError: HAS_XGB = False`, `if GPU: def
 * f(): ... else: def f(): ...`): a definition when it defines something, else an import; null for
 * any other statement.
 */
function compoundKind(
  node: SyntaxNode,
  text: (n: SyntaxNode) => string,
): 'import' | 'definition' | null {
  let sawImport = false;
  let sawDefinition = false;
  const ok = (statement: SyntaxNode): boolean => {
    switch (statement.name) {
      case 'ImportStatement':
        sawImport = true;
        return true;
      case 'FunctionDefinition':
      case 'ClassDefinition':
      case 'DecoratedStatement':
        sawDefinition = true;
        return true;
      case 'PassStatement':
        return true;
      case 'ExpressionStatement': {
        const e = statement.firstChild;
        if (e === null) return true;
        if (LITERALS.has(e.name)) return true;
        if (e.name !== 'CallExpression') return false;
        const callee = e.firstChild;
        return (
          callee !== null && (text(callee) === 'print' || /^(warnings\.)?warn$/.test(text(callee)))
        );
      }
      case 'AssignStatement': {
        const parts = children(statement);
        const value = parts[parts.length - 1];
        return (
          value !== undefined &&
          LITERALS.has(value.name) &&
          parts.slice(0, -1).every((p) => p.name === 'VariableName' || p.name === 'AssignOp')
        );
      }
      case 'IfStatement':
      case 'TryStatement':
        return children(statement)
          .filter((c) => c.name === 'Body')
          .every((b) => children(b).every((s) => s.name === ':' || ok(s)));
      default:
        return false;
    }
  };
  if (!ok(node)) return null;
  return sawDefinition ? 'definition' : sawImport ? 'import' : null;
}

/**
 * Calls that make a class (`Pair = namedtuple("Pair", "a b")`, and `type` given three arguments):
 * instances pickle by its name.
 */
const CLASS_FACTORY =
  /^(namedtuple|NamedTuple|TypedDict|make_dataclass|Enum|IntEnum|StrEnum|Flag|IntFlag|TypeVar|NewType|new_class)$/;

/**
 * A value that is code rather than data: a lambda, a class made by a factory call, a generator
 * (which cannot be saved; running its statement again gives the same fresh generator): a generator
 * expression, or a call of one of the notebook's functions that yield; or a library value that
 * cannot be saved but is made again the same (`REMADE_BY_RUNNING`).
 */
function definesCode(
  value: SyntaxNode,
  text: (n: SyntaxNode) => string,
  generatorFunctions: ReadonlySet<string>,
): boolean {
  if (value.name === 'LambdaExpression' || value.name === 'ComprehensionExpression') return true;
  if (value.name === 'MemberExpression') return typingAlias(value, text);
  if (value.name !== 'CallExpression' || value.firstChild === null) return false;
  const callee = value.firstChild;
  if (callee.name === 'VariableName' && generatorFunctions.has(text(callee))) return true;
  if (remadeByRunning(value, text)) return true;
  const name =
    callee.name === 'VariableName'
      ? text(callee)
      : callee.name === 'MemberExpression'
        ? text(children(callee).find((c) => c.name === 'PropertyName') ?? callee)
        : '';
  if (name === 'type') return argumentCount(value) === 3; // `type("Dyn", (Base,), {...})`
  return CLASS_FACTORY.test(name);
}

/** How many arguments a call passes. */
function argumentCount(call: SyntaxNode): number {
  const args = call.lastChild;
  if (args?.name !== 'ArgList') return 0;
  let count = 0;
  let empty = true;
  for (let c = args.firstChild; c !== null; c = c.nextSibling) {
    if (c.name === ',') {
      if (!empty) count++;
      empty = true;
    } else if (c.name !== '(' && c.name !== ')') empty = false;
  }
  return empty ? count : count + 1;
}

/**
 * A type alias (`Tree = Union["Node", int]`, `Strategy = Callable[[int], str]`): a type, which
 * one with a name in quotes (a forward reference) cannot be saved as.
 */
function typingAlias(value: SyntaxNode, text: (n: SyntaxNode) => string): boolean {
  const object = value.firstChild;
  return (
    object !== null &&
    object.nextSibling?.name === '[' &&
    TYPING_ALIAS.test(text(object).replace(/\s+/g, ''))
  );
}

const TYPING_ALIAS =
  /^(typing\.)?(Union|Optional|Callable|Literal|List|Dict|Tuple|Set|FrozenSet|Type|Iterable|Iterator|Sequence|Mapping|Generator|Annotated|ClassVar|Final|DefaultDict|Counter|Deque)$/;

/** A call of one of `REMADE_BY_RUNNING`, or of multiprocessing's `Pool` (`Pool(4)`, `mp.Pool()`). */
function remadeByRunning(value: SyntaxNode, text: (n: SyntaxNode) => string): boolean {
  const callee = value.name === 'CallExpression' ? value.firstChild : null;
  if (callee === null) return false;
  const name = text(callee).replace(/\s+/g, '');
  return (
    REMADE_BY_RUNNING.test(name) ||
    ((name === 'Pool' || name.endsWith('.Pool')) && givesProcessesOnly(value, text))
  );
}

const POOL_KEYWORDS = new Set(['processes', 'initializer', 'initargs', 'maxtasksperchild']);

/**
 * Whether a `Pool(...)` call is given at most the number of processes, and multiprocessing's
 * keywords (`Pool()`, `Pool(4)`, `Pool(processes=n)`): multiprocessing's pool, not a data
 * container such as catboost's `Pool(X, y)`.
 */
function givesProcessesOnly(call: SyntaxNode, text: (n: SyntaxNode) => string): boolean {
  const args = call.lastChild;
  if (args?.name !== 'ArgList') return false;
  let positional = 0;
  for (let c = args.firstChild; c !== null; c = c.nextSibling) {
    if (c.name === '(' || c.name === ')' || c.name === ',') continue;
    if (c.nextSibling?.name === 'AssignOp') {
      if (!POOL_KEYWORDS.has(text(c))) return false;
      c = c.nextSibling.nextSibling ?? c.nextSibling; // the keyword's value
      continue;
    }
    positional++;
  }
  return positional <= 1;
}

/**
 * Whether `value` (which `definesCode` says is code) makes something that keeps its place as it
 * is used, which running it again does not: a generator, a CSV reader or writer.
 */
function makesGenerator(
  value: SyntaxNode,
  text: (n: SyntaxNode) => string,
  generatorFunctions: ReadonlySet<string>,
): boolean {
  if (value.name === 'ComprehensionExpression') return true;
  const callee = value.name === 'CallExpression' ? value.firstChild : null;
  if (callee === null || callee === undefined) return false;
  if (callee.name === 'VariableName') return generatorFunctions.has(text(callee));
  return /^csv\./.test(text(callee).replace(/\s+/g, ''));
}

/** Whether a function definition's own body (not the functions and classes in it) yields. */
function bodyYields(definition: SyntaxNode): boolean {
  const pending = children(definition).filter((c) => c.name === 'Body');
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node.name === 'yield') return true;
    if (
      node.name === 'FunctionDefinition' ||
      node.name === 'ClassDefinition' ||
      node.name === 'LambdaExpression'
    )
      continue;
    for (let c = node.firstChild; c !== null; c = c.nextSibling) pending.push(c);
  }
  return false;
}

/** Whether a function definition's body has a `while True:` (or `while 1:`) loop. */
function loopsEndlessly(definition: SyntaxNode, text: (n: SyntaxNode) => string): boolean {
  if (!/\bwhile\s+(True|1)\s*:/.test(text(definition))) return false;
  const pending = children(definition).filter((c) => c.name === 'Body');
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node.name === 'WhileStatement') {
      const condition = node.firstChild?.nextSibling;
      if (condition !== undefined && condition !== null && /^(True|1)$/.test(text(condition)))
        return true;
    }
    if (node.name === 'FunctionDefinition' || node.name === 'ClassDefinition') continue;
    for (let c = node.firstChild; c !== null; c = c.nextSibling) pending.push(c);
  }
  return false;
}

const NO_NAMES: readonly string[] = [];

/** The name each decorator of a decorated statement starts with (`@a.b(c)` is `a`). */
function decoratorNames(node: SyntaxNode, text: (n: SyntaxNode) => string): string[] {
  const names: string[] = [];
  for (let d = node.firstChild; d !== null; d = d.nextSibling) {
    if (d.name !== 'Decorator') continue;
    let base = d.firstChild?.nextSibling ?? null; // after the `@`
    while (base !== null && (base.name === 'MemberExpression' || base.name === 'CallExpression'))
      base = base.firstChild;
    if (base?.name === 'VariableName') names.push(text(base));
  }
  return names;
}

/**
 * Whether a function makes functions that may keep state between their calls: one that rebinds
 * a name of the enclosing call (`nonlocal n`), or calls a method of one or stores into one
 * (`seen.append(v)`, `cache[k] = v`). A function that only computes (`lambda x: x * k`) does not.
 */
function makesStatefulFunctions(definition: SyntaxNode, text: (n: SyntaxNode) => string): boolean {
  if (/\bnonlocal\b/.test(text(definition))) return true;
  const own = new Set<string>();
  const inner: SyntaxNode[] = [];
  const params = children(definition).find((c) => c.name === 'ParamList');
  if (params !== undefined)
    for (const p of children(params)) if (p.name === 'VariableName') own.add(text(p));
  const pending = children(definition).filter((c) => c.name === 'Body');
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node.name === 'FunctionDefinition' || node.name === 'LambdaExpression') {
      inner.push(node);
      // The function itself is the enclosing call's too (`wrapper.calls += 1` in `wrapper`).
      const named =
        node.name === 'FunctionDefinition'
          ? children(node).find((c) => c.name === 'VariableName')
          : undefined;
      if (named !== undefined) own.add(text(named));
      continue;
    }
    if (node.name === 'AssignStatement')
      for (const t of children(node)) if (t.name === 'VariableName') own.add(text(t));
    for (let c = node.firstChild; c !== null; c = c.nextSibling) pending.push(c);
  }
  const ownRoot = (n: SyntaxNode | null): boolean =>
    n?.name === 'MemberExpression' &&
    n.firstChild?.name === 'VariableName' &&
    own.has(text(n.firstChild));
  for (let node = inner.pop(); node !== undefined; node = inner.pop()) {
    if (node.name === 'CallExpression' && ownRoot(node.firstChild)) return true;
    if (
      (node.name === 'AssignStatement' || node.name === 'UpdateStatement') &&
      children(node).some((t) => t.name !== 'AssignOp' && ownRoot(t))
    )
      return true;
    for (let c = node.firstChild; c !== null; c = c.nextSibling) inner.push(c);
  }
  return false;
}

/**
 * Whether a definition (its methods and inner functions too) calls `eval` or `exec` on something
 * other than a string literal.
 */
function evaluatesStrings(definition: SyntaxNode, text: (n: SyntaxNode) => string): boolean {
  if (!/\b(eval|exec)\s*\(/.test(text(definition))) return false;
  const pending = [definition];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node.name === 'CallExpression') {
      const callee = node.firstChild;
      const first = callee?.nextSibling?.firstChild?.nextSibling; // after `(`
      if (
        callee?.name === 'VariableName' &&
        /^(eval|exec)$/.test(text(callee)) &&
        first != null &&
        first.name !== 'String' &&
        first.name !== ')'
      )
        return true;
    }
    for (let c = node.firstChild; c !== null; c = c.nextSibling) pending.push(c);
  }
  return false;
}

/**
 * Whether `value` is a call that passes `name`, one of the notebook's classes or functions, as it
 * is (`Honeycomb = functools.lru_cache(None)(Honeycomb)`, `Point = dataclass(Point)`, `f =
 * jit(f)`): a decorator applied after the definition, so the statement defines the name again.
 */
function wrapsDefinition(
  name: string,
  value: SyntaxNode,
  text: (n: SyntaxNode) => string,
  wrapped: ReadonlySet<string>,
): boolean {
  if (!wrapped.has(name) || value.name !== 'CallExpression') return false;
  for (
    let call: SyntaxNode | null = value;
    call?.name === 'CallExpression';
    call = call.firstChild
  ) {
    const args = call.lastChild;
    if (args?.name !== 'ArgList') continue;
    for (let a = args.firstChild; a !== null; a = a.nextSibling)
      if (a.name === 'VariableName' && text(a) === name && a.nextSibling?.name !== 'AssignOp')
        return true;
  }
  return false;
}

/** The name a wrapping call starts with (`functools.lru_cache(None)(f)` is `functools`). */
function callRoot(value: SyntaxNode, text: (n: SyntaxNode) => string): readonly string[] {
  let base: SyntaxNode | null = value;
  while (base !== null && (base.name === 'MemberExpression' || base.name === 'CallExpression'))
    base = base.firstChild;
  return base?.name === 'VariableName' ? [text(base)] : NO_NAMES;
}

/**
 * The notebook's classes and functions that a top-level line of `code` may bind again from a
 * call passing them (see `wrapsDefinition`): a quick test on the text, which the syntax tree
 * then decides.
 */
function rewrappedNames(code: string, definitions: ReadonlySet<string>): string[] {
  if (definitions.size === 0) return NO_NAMES as string[];
  const found = new Set<string>();
  for (const m of code.matchAll(/^([A-Za-z_]\w*)[ \t]*=(?!=)(.*)$/gm)) {
    const name = m[1]!;
    if (definitions.has(name) && new RegExp(`\\b${name}\\b`).test(m[2]!)) found.add(name);
  }
  return [...found].sort();
}

function classify(
  node: SyntaxNode,
  text: (n: SyntaxNode) => string,
  generatorFunctions: ReadonlySet<string>,
  wrapped: ReadonlySet<string>,
): { kind: CodeUnitKind; root: string | null } | null {
  switch (node.name) {
    case 'ImportStatement':
      // `from __future__ import x` changes how every later cell compiles (IPython keeps it), so
      // it holds in every later step, as configuration of the step runtime (always there) does.
      return /^from\s+__future__\b/.test(text(node))
        ? { kind: 'config', root: '__cellflow__' }
        : { kind: 'import', root: null };
    case 'IfStatement':
    case 'TryStatement': {
      const kind = compoundKind(node, text);
      return kind === null ? null : { kind, root: null };
    }
    case 'FunctionDefinition':
    case 'ClassDefinition':
    case 'DecoratedStatement':
      return { kind: 'definition', root: null };
    case 'AssignStatement': {
      const parts = children(node);
      const ops = parts.filter((p) => p.name === 'AssignOp');
      const value = parts[parts.length - 1];
      if (ops.length === 1 && parts.length === 3 && parts[0]!.name === 'VariableName') {
        return value !== undefined &&
          (definesCode(value, text, generatorFunctions) ||
            wrapsDefinition(text(parts[0]!), value, text, wrapped))
          ? { kind: 'definition', root: null }
          : null;
      }
      // `y, X = dmatrices(...)`: names bound together to what running it again makes again.
      if (ops.length === 1 && value !== undefined && remadeByRunning(value, text)) {
        const targets = parts.slice(0, -2);
        const names = targets.length === 1 ? children(targets[0]!) : targets;
        if (names.every((n) => ['VariableName', ',', '(', ')', '[', ']'].includes(n.name)))
          return { kind: 'definition', root: null };
      }
      // `pd.options.display.max_rows = 10`, `plt.rcParams["a"] = 1`, `os.environ["X"] = "1"`.
      const targets = parts.slice(0, parts.lastIndexOf(ops[ops.length - 1]!));
      const roots = targets
        .filter((t) => t.name !== 'AssignOp' && t.name !== ',')
        .map((t) => (t.name === 'MemberExpression' ? chain(t, text) : null));
      if (roots.length === 0 || roots.some((r) => r === null)) return null;
      const root = roots[0]!.root;
      return roots.every((r) => r!.root === root) ? { kind: 'config', root } : null;
    }
    case 'UpdateStatement': {
      // `Counter.count += 1`, `plt.rcParams["lines.linewidth"] *= 2`.
      const target = node.firstChild;
      const c = target?.name === 'MemberExpression' ? chain(target, text) : null;
      return c === null ? null : { kind: 'config', root: c.root };
    }
    case 'ExpressionStatement': {
      const call = node.firstChild;
      if (call?.name !== 'CallExpression') return null;
      const callee = call.firstChild;
      if (callee === null) return null;
      if (callee.name === 'VariableName') {
        const name = text(callee);
        if (name === 'seed') return { kind: 'seed', root: name };
        return CONFIG_FUNCTION.test(name) ? { kind: 'config', root: name } : null;
      }
      if (callee.name !== 'MemberExpression') return null;
      // `%run FILE` binds names as an import does: it runs again where they are used.
      // `%load_ext NAME` of the notebook's own module registers its magics for every later cell.
      if (/^__cellflow__\.(run_file|load_ext)$/.test(text(callee)))
        return { kind: 'import', root: null };
      const c = chain(callee, text);
      if (c === null) return null;
      if (
        SEED_METHOD.test(c.last) &&
        /(^|\.)random\b|^(np|numpy|rnd|rng)$/.test(text(callee).replace(/\.[^.]*$/, ''))
      )
        return { kind: 'seed', root: c.root };
      return CONFIG_METHOD.test(c.last) ? { kind: 'config', root: c.root } : null;
    }
    default:
      return null;
  }
}

const unitsByCell = new BoundedCache<readonly CodeUnit[]>(8192);
const NO_CALLED: readonly string[] = [];

/**
 * The code units of one cell's plain-Python code (remembered by cell and code). A call of one of
 * `generatorFunctions` (the notebook's functions that yield, see `readNotebookCodeUnits`) bound to
 * a name makes a generator, which is code; so is one of `definitions` (the notebook's classes and
 * functions) bound again from a call that wraps it (`f = lru_cache(None)(f)`).
 */
export function readCodeUnits(
  cell: number,
  code: string,
  generatorFunctions: ReadonlySet<string> = NO_GENERATOR_FUNCTIONS,
  definitions: ReadonlySet<string> = NO_GENERATOR_FUNCTIONS,
): readonly CodeUnit[] {
  const called =
    generatorFunctions.size === 0
      ? NO_CALLED
      : [...generatorFunctions].filter((f) => code.includes(f)).sort();
  const wrapped = rewrappedNames(code, definitions);
  return unitsByCell.get(`${cell}:${textId(code)}:${called.join(',')}:${wrapped.join(',')}`, () =>
    readCodeUnitsOnce(cell, code, new Set(called), new Set(wrapped)),
  );
}

/** Adds to `names` the names of the functions among `units` whose calls make generators. */
function addGeneratorFunctions(units: Iterable<CodeUnit>, names: Set<string>): void {
  for (const unit of units) if (unit.yields) for (const n of unit.names) names.add(n);
}

export interface NotebookCodeUnits {
  /** Each cell's code units, in the order the cells were given. */
  readonly units: ReadonlyMap<number, readonly CodeUnit[]>;
  /** The functions any of the cells defines that yield: a call of one makes a generator. */
  readonly generatorFunctions: ReadonlySet<string>;
  /** The classes and functions the cells define (`class`, `def`, and wraps of them). */
  readonly definitions: ReadonlySet<string>;
}

/**
 * The code units of several cells (cell index, plain-Python code) read together: a call of a
 * function that yields, defined in any of them, makes a generator, which is code; a class or
 * function defined in any of them and bound again from a call passing it is defined again.
 */
export function readNotebookCodeUnits(
  cells: readonly (readonly [number, string])[],
): NotebookCodeUnits {
  const generatorFunctions = new Set<string>();
  const definitions = new Set<string>();
  const read = cells.map(([cell, code]) => readCodeUnits(cell, code));
  for (const units of read) {
    addGeneratorFunctions(units, generatorFunctions);
    for (const unit of units) if (unit.holdsState) for (const n of unit.names) definitions.add(n);
  }
  const units = new Map<number, readonly CodeUnit[]>();
  // Without such functions and wraps (most notebooks), each cell's units are the ones just read.
  cells.forEach(([cell, code], i) =>
    units.set(
      cell,
      generatorFunctions.size === 0 && rewrappedNames(code, definitions).length === 0
        ? read[i]!
        : readCodeUnits(cell, code, generatorFunctions, definitions),
    ),
  );
  return { units, generatorFunctions, definitions };
}

function readCodeUnitsOnce(
  cell: number,
  code: string,
  generatorFunctions: ReadonlySet<string>,
  wrapped: ReadonlySet<string>,
): CodeUnit[] {
  const tree = parsePython(code);
  const text = (n: SyntaxNode): string => code.slice(n.from, n.to);
  const newlines: number[] = [];
  for (let i = code.indexOf('\n'); i !== -1; i = code.indexOf('\n', i + 1)) newlines.push(i);
  /** 1 + the number of newlines before `offset` (a binary search: cells can have many units). */
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newlines[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  const units: CodeUnit[] = [];
  // A statement of a cell the parser read whole is analysed in the cell's tree; in a cell with a
  // syntax error, from its own text (what the parser recovered around it is not the statement).
  const clean = firstSyntaxError(tree) === null;
  const visit = (node: SyntaxNode): void => {
    if (node.name === 'StatementGroup') {
      for (const c of children(node)) if (c.name !== ';') visit(c);
      return;
    }
    const kind = classify(node, text, generatorFunctions, wrapped);
    if (kind === null) return;
    const definition =
      node.name === 'DecoratedStatement'
        ? children(node).find((c) => c.name === 'FunctionDefinition')
        : node.name === 'FunctionDefinition'
          ? node
          : undefined;
    const value = node.name === 'AssignStatement' ? node.lastChild : null;
    // `f = lru_cache(None)(f)`: the class or function defined again, wrapped as by a decorator.
    const wraps =
      value !== null &&
      node.firstChild?.name === 'VariableName' &&
      wrapsDefinition(text(node.firstChild), value, text, wrapped);
    // A statement that does not start its line (`a = 1; import b`) is replayed from its own start.
    const statement = code.slice(node.from, node.to);
    const analysis = clean ? analyzeStatement(cell, code, node) : analyzePython(statement, cell);
    const names = analysis.writes.map((w) => w.name);
    let effects = definitionEffects(kind.kind === 'definition' ? analysis : null);
    // A cache put around a function keeps what each call computed: calling it changes it.
    if (wraps && CACHING_CALLEE.test(text(value.firstChild!)))
      effects = { ...effects, callEffects: [...effects.callEffects, ...names] };
    units.push({
      kind: kind.kind,
      cell,
      line: lineOf(node.from),
      from: node.from,
      to: node.to,
      code: statement,
      names,
      reads: [...new Set(analysis.freeReads.map((r) => r.name))],
      annotationReads: [...analysis.annotationReads],
      callReads:
        kind.kind === 'definition' ? [...new Set(analysis.deferredReads.map((r) => r.name))] : [],
      ...effects,
      ...definitionParameters(kind.kind === 'definition' ? analysis : null),
      root: kind.root,
      fileAccess: analysis.fileAccess,
      yields: definition !== undefined && bodyYields(definition),
      yieldsEndlessly:
        definition !== undefined && bodyYields(definition) && loopsEndlessly(definition, text),
      evaluatesStrings: kind.kind === 'definition' && evaluatesStrings(node, text),
      startsGenerator:
        kind.kind === 'definition' &&
        value !== null &&
        makesGenerator(value, text, generatorFunctions),
      holdsState: kind.kind === 'definition' && (wraps || DEFINITION_STATEMENTS.has(node.name)),
      makesClosures: definition !== undefined && makesStatefulFunctions(definition, text),
      decorators:
        node.name === 'DecoratedStatement'
          ? decoratorNames(node, text)
          : wraps
            ? callRoot(value, text)
            : NO_NAMES,
      globalLookups: kind.kind === 'definition' ? globalLookupPatterns(statement) : NO_NAMES,
    });
  };
  for (const node of children(tree.topNode)) visit(node);
  return units;
}

/**
 * What an `imports`/`functions` cell runs once, its statements that are not code units (its code
 * with those blanked out, lines kept), as one unit, or null when it binds nothing: Kale runs the
 * whole cell at the start of every step, so a step that comes before the cell's statements run
 * and needs a name they bind (`encode` reading `features_nom` from the same cell) runs them too.
 */
export function restOfCellUnit(cell: number, rest: string): CodeUnit | null {
  const analysis = analyzePython(rest, cell);
  const names = [...new Set(analysis.writes.map((w) => w.name))];
  if (names.length === 0) return null;
  const from = rest.search(/\S/);
  const start = rest.lastIndexOf('\n', from) + 1;
  let line = 1;
  for (let i = rest.indexOf('\n'); i !== -1 && i < start; i = rest.indexOf('\n', i + 1)) line++;
  return {
    kind: 'definition',
    cell,
    line,
    from: start,
    to: rest.length,
    code: rest.slice(start),
    names,
    reads: [...new Set(analysis.freeReads.map((r) => r.name))],
    annotationReads: [...analysis.annotationReads],
    callReads: [...new Set(analysis.deferredReads.map((r) => r.name))],
    ...definitionEffects(analysis),
    parameters: [],
    mutatedParameters: [],
    mutatingMethods: [],
    stores: [],
    passes: [],
    root: null,
    fileAccess: analysis.fileAccess,
    yields: false,
    yieldsEndlessly: false,
    evaluatesStrings: false,
    startsGenerator: false,
    holdsState: false,
    makesClosures: false,
    decorators: NO_NAMES,
    globalLookups: globalLookupPatterns(rest),
  };
}

function analyzeStatement(cell: number, code: string, node: SyntaxNode): CodeAnalysis {
  const analyzer = new PythonAnalyzer();
  analyzer.addStatement(cell, code, node);
  return analyzer.result();
}

/** What calling the unit's definitions can do to module names, from one walk over them. */
function definitionEffects(
  analysis: CodeAnalysis | null,
): Pick<CodeUnit, 'callEffects' | 'callWrites'> {
  if (analysis === null) return { callEffects: [], callWrites: [] };
  const effects = new Set<string>();
  const writes = new Set<string>();
  for (const d of analysis.definitions.values()) {
    for (const n of d.effects.writes) {
      writes.add(n);
      effects.add(n);
    }
    for (const n of d.effects.mutations) effects.add(n);
  }
  return { callEffects: [...effects], callWrites: [...writes] };
}

function definitionParameters(
  analysis: CodeAnalysis | null,
): Pick<CodeUnit, 'parameters' | 'mutatedParameters' | 'mutatingMethods' | 'stores' | 'passes'> {
  const def = analysis === null ? undefined : [...analysis.definitions.values()][0];
  return {
    parameters: def?.effects.parameters ?? [],
    mutatedParameters: def?.effects.mutatedParameters ?? [],
    mutatingMethods: def?.effects.methods ?? [],
    stores: def?.effects.stores ?? [],
    passes: def?.effects.passes ?? [],
  };
}
