/**
 * Name analysis of Python code with a real parser (@lezer/python): which names a block of cells
 * reads before binding them, binds, mutates in place and deletes, in execution order.
 *
 * The analysis is flow-aware at module level (a name bound on every path before a read is local;
 * one bound only in an `if` branch or a loop body is not) and scope-aware inside functions,
 * lambdas, classes and comprehensions (their own names never leak out).
 */
import type { SyntaxNode, Tree } from '@lezer/common';
import { knownErrorFree, nestingProblemOf, parsePython } from './parse-python.js';
import { PYTHON_BUILTINS } from './builtins.js';
import { BoundedCache } from './bounded-cache.js';
import { internedSlice } from './interned-text.js';
import { codeStringReads, formulaNames, literalExpressionReads } from './code-strings.js';
import {
  aliasSources,
  heldNames,
  heldNamesAndMakers,
  passedNames,
  STORING_METHODS,
  type TextSpan,
} from './alias-sources.js';
import {
  FILE_BACKED,
  CACHING_CALLEE,
  FILE_READERS,
  FILE_WRITERS,
  FIRST_ARGUMENT_MUTATORS,
  DRAW_TARGET_KEYWORDS,
  DRAWING_METHODS,
  FIGURE_MAKERS,
  NON_MUTATING_METHODS,
  SEPARATE_PARTS_MAKERS,
  UNSAVABLE_ENDINGS,
  UNSAVABLE_ORIGINS,
} from './call-kinds.js';
import {
  passedTo,
  type CallArgument,
  type CallSite,
  type CodeAnalysis,
  type DefinitionEffects,
  type MethodCallSite,
  type MethodEffects,
  type StoredParameters,
  type NameSite,
  type ParameterRef,
  type PassedParameter,
  type SyntaxProblem,
} from './code-analysis.js';

export * from './code-analysis.js';

const SCOPE_BOUNDARIES = new Set([
  'FunctionDefinition',
  'ClassDefinition',
  'LambdaExpression',
  'ArrayComprehensionExpression',
  'SetComprehensionExpression',
  'DictionaryComprehensionExpression',
  'ComprehensionExpression',
]);

/** Targets made of targets: `a, b = ...`, `[a, *b] = ...`. */
const TARGET_GROUPS = new Set([
  'TupleExpression',
  'ArrayExpression',
  'ParenthesizedExpression',
  'StarExpression',
]);

const BRACKETS_AND_COMMAS = new Set(['(', ')', '[', ']', ',']);

/** The parts of a comprehension that are not expressions, besides its `for` and `in`. */
const COMPREHENSION_PUNCTUATION = new Set(['[', ']', '{', '}', '(', ')', ':', ',', 'if', 'async']);

const COMPREHENSIONS = new Set([
  'ArrayComprehensionExpression',
  'SetComprehensionExpression',
  'DictionaryComprehensionExpression',
  'ComprehensionExpression',
]);

/**
 * What an analysis holds for a kind of name most code never has (deletions, figures, formulas...):
 * the analyzer makes a map or set for one only when it first has an entry, and an analysis (plain
 * data nothing changes) without one shares this empty map.
 */
const NO_NAMES: ReadonlySet<string> = new Set<string>();
/** A list, dict or set written out (`[]`, `{}`, `{1}`), as a default value. */
const CONTAINER_DISPLAYS: ReadonlySet<string> = new Set([
  'ArrayExpression',
  'DictionaryExpression',
  'SetExpression',
]);
/** Calls that make an empty container (`list()`, `collections.defaultdict(int)`). */
const CONTAINER_MAKERS =
  /^(?:[\w.]+\.)?(?:list|dict|set|bytearray|defaultdict|Counter|OrderedDict|deque)$/;
/** Functions whose calls give None: a cell ending in one shows no value. */
const SHOWS_NONE: ReadonlySet<string> = new Set(['print', 'display']);
/** The first statement of a `%%capture` cell that keeps displays (see `ipython-syntax.ts`). */
const CAPTURES_DISPLAY = /__cellflow__\.capture\(.*display=True/;
const NO_ENTRIES: ReadonlyMap<string, never> = new Map<string, never>();

/** A condition on the Python version or the platform (`sys.version_info < (3, 0)`, `six.PY2`). */
const INTERPRETER_TEST =
  /\bsys\.(version_info|version|hexversion|platform|implementation)\b|\bplatform\.\w+\(|\bsix\.PY[23]\b|\b(IS_)?PY_?[23]K?\b|\bos\.name\b/;

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c);
  return out;
}

/**
 * The first child called `name`, or undefined. Hot walks step through siblings rather than
 * collect `children` into an array: each step of a walk makes a node object, an array more.
 */
function childNamed(node: SyntaxNode, name: string): SyntaxNode | undefined {
  for (let c = node.firstChild; c !== null; c = c.nextSibling) if (c.name === name) return c;
  return undefined;
}

/** The module-level names a function stores its parameters' objects in, as analyses hand them on. */
function storedParameters(effects: EffectsRecord): readonly StoredParameters[] {
  if (effects.stored === null) return NO_STORES;
  return [...effects.stored].map(([holder, names]) => ({
    holder,
    parameters: effects.parameters.filter((p) => names.has(p.name)),
  }));
}
const NO_STORES: readonly StoredParameters[] = [];
const NO_PASSES: readonly PassedParameter[] = [];

/**
 * The names a step runtime call reads, by its callee and first argument's text, where the notebook
 * has them: `!ls $path`'s `path` (`$HOME` is the shell's); `%name args`' `name`, a magic the
 * notebook registers (`@register_line_magic def name`), whose definition runs first; and the
 * object of `name?`.
 */
function runtimeProbes(callee: string, argument: string): readonly string[] {
  if (SHELL_LINE.test(callee)) return dollarNames(argument);
  const name = USER_MAGIC.test(callee) ? /^"(\w+)[".]/.exec(argument) : null;
  return name === null ? NO_PROBES : [name[1]!];
}
const NO_PROBES: readonly string[] = [];

/** The step runtime's calls that run a magic the notebook registers (`%name`, `%%name`). */
const USER_MAGIC = /^__cellflow__\.(user_magic|user_cell_magic|pinfo)$/;

/** sympy's `var` through the module's usual names (`sympy.var`, `sp.var`). */
const SYMPY_VAR = /^(sympy|sp|sym|smp)\.var$/;

/**
 * The names of sympy's symbol list (`"x y"`, `"a, b"`, `"x:3"` for x0 to x2, `"k1:3"` for k1 and k2,
 * `"a:c"` for a to c), as `symbols` reads it; null for what this does not read (`"x(1:3)"`).
 */
function symbolNames(text: string): string[] | null {
  const names: string[] = [];
  for (const part of text.split(/[\s,]+/)) {
    if (part === '') continue;
    const numbered = /^([A-Za-z_]\w*?)(\d*):(\d+)$/.exec(part);
    const letters = /^([a-zA-Z]):([a-zA-Z])$/.exec(part);
    if (/^[A-Za-z_]\w*$/.test(part)) names.push(part);
    else if (numbered !== null)
      for (let i = Number(numbered[2] || 0); i < Number(numbered[3]); i++)
        names.push(`${numbered[1]}${i}`);
    else if (letters !== null)
      for (let c = letters[1]!.charCodeAt(0); c <= letters[2]!.charCodeAt(0); c++)
        names.push(String.fromCharCode(c));
    else return null;
  }
  return names;
}

/** The step runtime's calls that run a shell line as IPython runs `!cmd` (`$name` expanded). */
const SHELL_LINE = /^__cellflow__\.(shell|shell_lines)$/;

/**
 * The names of IPython's `$name` fields in a shell line's text (`$$x` is a `$`; a `$` in single
 * quotes is the shell's), as the step runtime expands them.
 */
function dollarNames(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/\$(\$?)([A-Za-z_]\w*)/g)) {
    if (m[1] !== '') continue;
    let quotes = 0;
    for (let i = m.index + m[0].length; i < text.length; i++) if (text[i] === "'") quotes++;
    // The literal's own closing quote, when it is a single quote, is not the shell's.
    if (/'$/.test(text)) quotes--;
    if (quotes % 2 === 0) names.push(m[2]!);
  }
  return names;
}

/** The scope of `scope`'s chain whose locals hold `name`, or null (a module-level name). */
function ownerOf(name: string, scope: InnerScope): InnerScope | null {
  let owner: InnerScope | null = scope;
  while (owner !== null && !owner.locals.has(name)) owner = owner.parent;
  return owner;
}

/** A class's methods that change a parameter in place, as analyses hand them on. */
function mutatingMethods(methods: Map<string, MethodRecord> | null): readonly MethodEffects[] {
  if (methods === null) return NO_METHODS;
  const out: MethodEffects[] = [];
  for (const [name, m] of methods)
    if (m.mutatedParameters.size > 0)
      out.push({
        name,
        parameters: m.parameters,
        mutatedParameters: m.parameters.filter((p) => m.mutatedParameters.has(p.name)),
      });
  return out.length === 0 ? NO_METHODS : out;
}
const NO_METHODS: readonly MethodEffects[] = [];

/** Whether `node` has a child called `name`. */
function hasChildNamed(node: SyntaxNode, name: string): boolean {
  return childNamed(node, name) !== undefined;
}

/** What a function's body does to module-level names, and the notebook functions it calls. */
interface EffectsRecord {
  /** Module-level names the body reads (the definition's globals). */
  readonly reads: Set<string>;
  readonly writes: Set<string>;
  readonly mutations: Set<string>;
  readonly calls: Set<EffectsRecord>;
  /** Its parameters in order (null where keyword-only), and those its body changes in place. */
  readonly parameters: readonly ParameterRef[];
  readonly mutatedParameters: Set<string>;
  /** A class's methods that change a parameter in place, by name (null: none, or a function). */
  methods: Map<string, MethodRecord> | null;
  /**
   * Module-level names the body stores a parameter's object in (`registry[kind].append(obj)`,
   * `seen[k] = obj`): a call makes them share objects with what it passes there.
   */
  stored: Map<string, Set<string>> | null;
  /**
   * Calls of module-level functions that pass its parameters' objects (`inner(df)`, `inner(a[0])`):
   * what those functions change in place, a call of this one changes too.
   */
  passes: PassedParameter[] | null;
  /** Its loops' names over a parameter's items (`for x in xs`), each with the parameter. */
  itemsOf: Map<string, string> | null;
}

/** A method's parameters as a call on an instance passes them (`self` left out), and those it changes. */
interface MethodRecord {
  readonly parameters: readonly ParameterRef[];
  readonly mutatedParameters: Set<string>;
}

/** Whether code in `scope` runs as the statement does: comprehensions at module level. */
function runsAtOnce(scope: InnerScope): boolean {
  for (let s: InnerScope | null = scope; s !== null; s = s.parent)
    if (s.kind !== 'comprehension') return false;
  return true;
}

/** A function/lambda/class/comprehension scope: its local names, and reads that escape it. */
interface InnerScope {
  readonly kind: 'function' | 'class' | 'comprehension';
  readonly locals: Set<string>;
  readonly globals: Set<string>;
  readonly parent: InnerScope | null;
  /** Module-level flow state where the outermost scope was entered (for reads that run at once). */
  readonly moduleState: Set<string>;
}

/**
 * How the statement walker carries what is bound through compound statements. At module level
 * statements run now, in order: a name bound on every path before a read is bound there, one
 * bound only in an `if` branch or a loop body is not, so each branch starts from a copy of the
 * state and the branches are merged after. In a function or class body names resolve through the
 * scopes (a function's body runs when it is called), so there is no state to carry.
 */
interface FlowStrategy {
  /** The state a branch (a body that may or may not run) starts with. */
  branch(state: ReadonlySet<string>): Set<string>;
  /** After the branches of an `if` or `match` (one of them for taking none). */
  merge(state: Set<string>, branches: readonly Set<string>[]): void;
}

const MODULE_FLOW: FlowStrategy = {
  branch: (state) => new Set(state),
  // A name is definitely bound after the branches only when every branch bound it.
  merge(state, branches) {
    const first = branches[0];
    if (first === undefined) return;
    for (const name of first) if (boundInAll(branches, name, 1)) state.add(name);
    // Deleting the entry being visited is safe in a Set's iteration; nothing is added meanwhile.
    for (const name of state) if (!boundInAll(branches, name, 0)) state.delete(name);
  },
};

/** Whether every branch from `from` on binds `name`. */
function boundInAll(branches: readonly Set<string>[], name: string, from: number): boolean {
  for (let i = from; i < branches.length; i++) if (!branches[i]!.has(name)) return false;
  return true;
}

const SCOPE_FLOW: FlowStrategy = {
  branch: () => new Set(),
  merge: () => undefined,
};

/** What `expression` does after a node's parts are walked; its operands lie below it. */
const Task = {
  /** `argumentEffects(callee, args)`: callee, then args, below. */
  ArgumentEffects: 0,
  /** `argList(args)`. */
  ArgList: 1,
  /** `methodCall(callee, args)`: callee, then args or null, below. */
  MethodCall: 2,
  /** `bind(target)` in the scope a named expression binds in. */
  Bind: 3,
} as const;
type Task = (typeof Task)[keyof typeof Task];

/** `expression`'s work list: nodes to walk, and tasks above their operands. */
type PendingWork = SyntaxNode | Task | null;

function flowOf(scope: InnerScope | null): FlowStrategy {
  return scope === null ? MODULE_FLOW : SCOPE_FLOW;
}

/** Incremental analysis over the cells of one block; module-level state carries across cells. */
export class PythonAnalyzer {
  private readonly definite = new Set<string>();
  private readonly bound = new Map<string, NameSite>();
  private readonly free = new Map<string, NameSite>();
  private readonly deferred = new Map<string, NameSite>();
  private readonly mutated = new Map<string, NameSite>();
  private drawn: Map<string, NameSite> | null = null;
  /** How many `try` bodies whose handlers catch NameError the walk is in. */
  private probing = 0;
  /** Module-level names read before being bound: inside such bodies only, and elsewhere too. */
  private probed: Set<string> | null = null;
  private unprobed: Set<string> | null = null;
  private keyed: Map<string, NameSite> | null = null;
  private autoKeyedNames: Set<string> | null = null;
  private madeBy: Map<string, string> | null = null;
  private classShared: Map<string, ReadonlySet<string>> | null = null;
  private attributeChanges: (NameSite & { attribute: string })[] | null = null;
  /** Names bound at module level by `=` and the like, and by augmented assignment (`a += 1`). */
  private readonly plainBound = new Set<string>();
  private readonly updatedNames = new Set<string>();
  private updating = false;
  private readonly formulaSites: NameSite[] = [];
  private formulaOf: Map<string, readonly string[]> | null = null;
  /** Where module-level code first binds names it computes (`globals()[f"v{i}"] = ...`). */
  private dynamicSite: NameSite | null = null;
  private figureNames: Set<string> | null = null;
  private deleted: Map<string, NameSite> | null = null;
  private shown: number[] | null = null;
  private readonly importSites = new Map<string, NameSite>();
  private readonly lastBound = new Map<string, { cell: number; offset: number }>();
  private readonly builtins = new Map<string, NameSite>();
  private nonBuiltinCall = false;
  private fileReads = false;
  private fileWrites = false;
  private readonly aliasPairs: [string, string][] = [];
  private unsavableValues: Map<string, NameSite & { what: string }> | null = null;
  private fileBackedValues: Set<string> | null = null;
  private carried: Map<string, string[]> | null = null;
  /**
   * Whether the deferred reads of the statement being walked (lambdas inside a value) are
   * collected, into `deferredSink`, made at the first (most values have none).
   */
  private collectsDeferred = false;
  /**
   * Whether the names read are an annotation's: evaluated where the statement runs, except with
   * `from __future__ import annotations` (which IPython keeps for every later cell), where a name
   * only an annotation reads may be one the notebook never binds (see `annotationReads`).
   */
  private inAnnotation = false;
  private readonly annotationFirst = new Set<string>();
  private deferredSink: Set<string> | null = null;
  /** Whether the names in a module-level assignment's model formulas are collected, likewise. */
  private collectsFormulas = false;
  private formulaSink: Set<string> | null = null;
  private readonly valueNames = new Map<string, Set<string>>();
  private readonly passedReads = new Map<string, Set<string>>();
  private readonly defs = new Map<
    string,
    { site: NameSite; globals: Set<string>; effects: EffectsRecord }
  >();
  /** Module-level names bound to a function definition now: reading one may call it. */
  private readonly liveDefs = new Map<string, EffectsRecord>();
  /** The effects of the top-level function whose body is being walked, and its scope. */
  private currentEffects: EffectsRecord | null = null;
  private currentFunctionScope: InnerScope | null = null;
  /** The method of a top-level class whose body is being walked, and its scope. */
  private currentMethodEffects: MethodRecord | null = null;
  private currentMethodScope: InnerScope | null = null;
  /**
   * The top-level class whose body is being walked, with the attributes its body binds that no
   * method sets on an instance (shared by every instance), and the method being walked in it:
   * its first parameter (`self`, `cls`) and whether it is a class method.
   */
  private currentClass: { name: string; shared: Set<string> } | null = null;
  private currentMethod: { self: string; classmethod: boolean } | null = null;
  private readonly callSites: CallSite[] = [];
  private readonly methodCallSites: MethodCallSite[] = [];
  private readonly stars: NameSite[] = [];
  private readonly errors: SyntaxProblem[] = [];
  private source = '';
  /** `text`, made once: the name walks of alias-sources take it. */
  private readonly textOf = (node: TextSpan): string => this.text(node);
  /** `expression`'s work list. */
  private readonly pending: PendingWork[] = [];
  private cell = 0;
  private lineStarts: readonly number[] = [0];
  /** The top-level def/class whose body is being walked, to attribute global reads to it. */
  private currentDefinition: Set<string> | null = null;

  addCell(cell: number, code: string): void {
    this.begin(cell, code);
    const tree = parsePython(code);
    this.collectSyntaxErrors(tree, nestingProblemOf(tree)?.message);
    this.bodyStatements(tree.topNode, this.definite, null);
    if (showsValue(tree.topNode, this.textOf)) (this.shown ??= []).push(cell);
  }

  /**
   * Adds one top-level statement of a cell as if it ran alone, `node` being the statement in the
   * cell's syntax tree (`parsePython(code)`): what running it reads, binds and defines. Syntax
   * errors are the cell's (`addCell` reports them).
   */
  addStatement(cell: number, code: string, node: SyntaxNode): void {
    this.begin(cell, code);
    this.statement(node, this.definite, null);
  }

  private begin(cell: number, code: string): void {
    this.source = code;
    this.cell = cell;
    this.lineStarts = lineStartsOf(code);
  }

  result(): CodeAnalysis {
    const freeReads = [...this.free.values()];
    const deferredReads = [...this.deferred.values()].filter(
      (s) => !this.bound.has(s.name) && !this.free.has(s.name),
    );
    const definitions = new Map<
      string,
      { site: NameSite; globals: readonly string[]; effects: DefinitionEffects }
    >();
    for (const [name, d] of this.defs) {
      const effects = this.effectsOf(d.effects);
      definitions.set(name, {
        site: d.site,
        globals: [...d.globals].sort(),
        effects: {
          writes: [...effects.writes].sort(),
          mutations: [...effects.mutations].sort(),
          mutatedParameters: d.effects.parameters.filter((p) =>
            d.effects.mutatedParameters.has(p.name),
          ),
          parameters: d.effects.parameters,
          methods: mutatingMethods(d.effects.methods),
          stores: storedParameters(d.effects),
          passes: d.effects.passes ?? NO_PASSES,
        },
      });
    }
    return {
      freeReads,
      deferredReads,
      annotationReads: this.annotationFirst,
      writes: [...this.bound.values()],
      maybeWrites: this.maybeBound(),
      shownValues: this.shown ?? [],
      mutations: [...this.mutated.values()],
      drawnOn: this.drawn === null ? [] : [...this.drawn.values()],
      dynamicBindings: this.dynamicSite,
      formulaReads: this.formulaSites,
      formulaNames: this.formulaOf ?? NO_ENTRIES,
      updatedInPlace: [...this.updatedNames].filter((n) => !this.plainBound.has(n)),
      figures: this.figureNames === null ? [] : [...this.figureNames],
      keyedReads: this.keyed === null ? [] : [...this.keyed.values()],
      probedNames: this.probedNames(),
      autoKeyed: this.autoKeyedNames === null ? [] : [...this.autoKeyedNames],
      madeBy:
        this.madeBy === null ? [] : [...this.madeBy].map(([name, maker]) => ({ name, maker })),
      sharedAttributes: this.classShared ?? NO_ENTRIES,
      attributeChanges: this.attributeChanges ?? [],
      deletes: this.deleted === null ? [] : [...this.deleted.values()],
      definitions,
      starImports: this.stars,
      imports: [...this.importSites.values()],
      lastBindings: this.lastBound,
      builtinReads: [...this.builtins.values()],
      callsNonBuiltin: this.nonBuiltinCall,
      aliases: [...this.aliasPairs],
      unsavable: this.unsavableValues ?? NO_ENTRIES,
      fileBacked: this.fileBackedValues ?? NO_NAMES,
      carriedReads: this.carried ?? NO_ENTRIES,
      valueReads: this.valueNames,
      passedReads: this.passedReads,
      syntaxErrors: this.errors,
      calls: this.callSites,
      methodCalls: this.methodCallSites,
      fileAccess: { reads: this.fileReads, writes: this.fileWrites },
    };
  }

  // ---- positions ----------------------------------------------------------------------------

  private lineOf(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  private site(name: string, node: SyntaxNode): NameSite {
    return { name, cell: this.cell, line: this.lineOf(node.from) };
  }

  private text(node: TextSpan): string {
    return internedSlice(this.source, node.from, node.to);
  }

  /** Whether `node`'s text is `word` (without slicing it out). */
  private textIs(node: SyntaxNode, word: string): boolean {
    return node.to - node.from === word.length && this.source.startsWith(word, node.from);
  }

  /** Whether `node`'s text is `*` or `**`. */
  private isStars(node: SyntaxNode): boolean {
    const length = node.to - node.from;
    return (
      (length === 1 || length === 2) &&
      this.source.charCodeAt(node.from) === 42 &&
      this.source.charCodeAt(node.to - 1) === 42
    );
  }

  /** The first error only: the parser's recovery makes the rest noise. */
  private collectSyntaxErrors(tree: Tree, tooDeep: string | undefined): void {
    const offset = firstSyntaxError(tree);
    if (offset === null) return;
    const line = this.lineOf(offset);
    const lineText = this.source.slice(
      this.lineStarts[line - 1],
      this.lineStarts[line] ?? this.source.length,
    );
    const text = lineText.replace(/\n$/, '');
    this.errors.push({
      cell: this.cell,
      line,
      text,
      ...(tooDeep !== undefined && { tooDeep }),
    });
  }

  // ---- statements: one walker; the flow strategy says how branches share what is bound --------

  /** A body's statements, in order (its `:` is no statement). */
  private bodyStatements(
    body: SyntaxNode | undefined,
    state: Set<string>,
    scope: InnerScope | null,
  ): void {
    if (body === undefined) return;
    for (let c = body.firstChild; c !== null; c = c.nextSibling)
      if (c.name !== ':') this.statement(c, state, scope);
  }

  /** Statements inside a function or class body: names resolve through the inner scopes. */
  private innerBody(body: SyntaxNode | undefined, scope: InnerScope): void {
    this.bodyStatements(body, new Set(), scope);
  }

  /**
   * One statement, at module level (`scope` null: it runs now, in order) or in a function or
   * class body (it runs when called, or at once for a class, and its names resolve through
   * `scope`). `state` holds the names bound on every path so far (see `FlowStrategy`).
   */
  private statement(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    switch (node.name) {
      case 'StatementGroup': // `a = 1; b = a`
        for (let c = node.firstChild; c !== null; c = c.nextSibling)
          if (c.name !== ';') this.statement(c, state, scope);
        return;
      case 'AssignStatement':
        return this.assignment(node, state, scope);
      case 'UpdateStatement': {
        const target = node.firstChild ?? undefined;
        const value = target?.nextSibling?.nextSibling ?? undefined;
        if (value !== undefined) this.expression(value, state, scope);
        if (target?.name === 'VariableName') {
          this.read(target, state, scope);
          // `a += 1` changes a list or an array in place (what shares it sees the change), and
          // binds the name again (an int's new value).
          this.updating = true;
          this.bind(target, state, scope);
          this.updating = false;
          // (A `global` name's new binding is the call's effect already.)
          if (scope === null || !scope.globals.has(this.text(target))) this.mutate(target, scope);
        } else if (target !== undefined) this.target(target, state, scope);
        return;
      }
      case 'DeleteStatement':
        return this.deleteStatement(node, state, scope);
      case 'ImportStatement':
        return this.importStatement(node, state, scope);
      case 'FunctionDefinition':
      case 'ClassDefinition':
        this.declareInClass(node, scope);
        return this.definition(node, state, scope, []);
      case 'DecoratedStatement': {
        const parts = children(node);
        const def = parts.find(
          (c) => c.name === 'FunctionDefinition' || c.name === 'ClassDefinition',
        );
        if (def === undefined) return;
        this.declareInClass(def, scope);
        return this.definition(
          def,
          state,
          scope,
          parts.filter((c) => c.name === 'Decorator'),
        );
      }
      case 'IfStatement':
        return this.ifStatement(node, state, scope);
      case 'ForStatement':
      case 'WhileStatement':
        return this.loop(node, state, scope);
      case 'TryStatement':
        return this.tryStatement(node, state, scope);
      case 'WithStatement':
        return this.withStatement(node, state, scope);
      case 'MatchStatement':
        return this.matchStatement(node, state, scope);
      case 'ScopeStatement':
        return;
      default:
        if (scope === null) return this.expression(node, state, null);
        for (let c = node.firstChild; c !== null; c = c.nextSibling) this.unplaced(c, state, scope);
    }
  }

  /**
   * A part of a statement that is none of the parts the walker knows (a comment, or what the
   * parser made of a syntax error): left out at module level; in a body read as an expression,
   * a body in it walked as statements.
   */
  private unplaced(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    if (scope === null) return;
    if (node.name === 'Body') this.innerBody(node, scope);
    else if (node.name === 'MatchBody' || node.name === 'MatchClause')
      this.statement(node, state, scope);
    else this.expression(node, state, scope);
  }

  /** In a class body a definition's name is the class's own from the start of the statement. */
  private declareInClass(def: SyntaxNode, scope: InnerScope | null): void {
    if (scope?.kind !== 'class') return;
    const n = childNamed(def, 'VariableName');
    if (n !== undefined) scope.locals.add(this.text(n));
  }

  /**
   * `del name` unbinds a module-level name; in a function or class body it reads what it names
   * (and unbinds the module's name after `global name`). `del g[k]` and `del g.a` change g.
   */
  private deleteStatement(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    for (let c = node.firstChild; c !== null; c = c.nextSibling) {
      if (c.name === 'del' || c.name === ',') continue;
      if (scope === null && c.name === 'VariableName') this.deleteName(c, state);
      else if (c.name === 'VariableName') {
        // `del x` in a function: a local, or the module's name after `global x`.
        this.expression(c, state, scope);
        if (scope !== null && scope.globals.has(this.text(c))) this.bind(c, state, scope);
      }
      // `del g[k]`, `del g.a`: a change to g, also inside a function.
      else this.target(c, state, scope);
    }
  }

  private ifStatement(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    const flow = flowOf(scope);
    const branches: Set<string>[] = [];
    let sawElse = false;
    let before: string | undefined;
    // `if sys.version_info < (3, 0): csv = unicode(csv)`: code for another Python or platform may
    // read names this one does not have, as the notebook does not run it here.
    const probes = this.testsInterpreter(node);
    if (probes) this.probing++;
    try {
      for (let p = node.firstChild; p !== null; before = p.name, p = p.nextSibling) {
        if (p.name === 'if' || p.name === 'elif') continue;
        if (p.name === 'else') sawElse = true;
        else if (p.name === 'Body') {
          const branch = flow.branch(state);
          this.bodyStatements(p, branch, scope);
          branches.push(branch);
        } else if (before === 'if' || before === 'elif') this.expression(p, state, scope);
        else this.unplaced(p, state, scope);
      }
    } finally {
      if (probes) this.probing--;
    }
    if (!sawElse) branches.push(flow.branch(state));
    flow.merge(state, branches);
  }

  /** Whether one of an `if` statement's conditions tests the Python version or the platform. */
  private testsInterpreter(node: SyntaxNode): boolean {
    let before: string | undefined;
    for (let p = node.firstChild; p !== null; before = p.name, p = p.nextSibling)
      if ((before === 'if' || before === 'elif') && INTERPRETER_TEST.test(this.text(p)))
        return true;
    return false;
  }

  private loop(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    const flow = flowOf(scope);
    const parts = children(node);
    const inner = flow.branch(state);
    if (node.name === 'ForStatement') {
      const inAt = parts.findIndex((c) => c.name === 'in');
      const targets = parts.slice(1, inAt).filter((t) => t.name !== ',');
      // In a class body the loop's names are the class's before its iterable is read.
      if (scope !== null) for (const t of targets) this.target(t, inner, scope);
      let rest = inAt + 1;
      const iterable = parts[rest];
      if (iterable !== undefined && iterable.name !== 'Body') {
        this.expression(iterable, state, scope);
        rest++;
        // In a function, a loop over a parameter's items (`for x in xs: x.append(0)`) changes
        // what a call passes there when it changes them.
        const effects = this.currentEffects;
        if (scope !== null && effects !== null) {
          const parameter = this.loopSources(iterable).find((n) => this.isOwnParameter(n, scope));
          if (parameter !== undefined)
            for (const t of targets)
              for (const n of this.targetNames(t))
                (effects.itemsOf ??= new Map()).set(n, parameter);
        }
        if (scope === null) {
          // Loop variables are the iterable's elements: all its names may share with them.
          const sources = this.loopSources(iterable);
          const figures = this.figureNames;
          const overFigures = figures !== null && sources.some((n) => figures.has(n));
          for (const t of targets) {
            const names = this.targetNames(t);
            this.alias(names, sources);
            if (overFigures) for (const n of names) figures.add(n);
          }
        }
      }
      if (scope === null) for (const t of targets) this.target(t, inner, null);
      for (const c of parts.slice(rest)) {
        if (c.name === 'Body') this.bodyStatements(c, flow.branch(inner), scope);
        else if (c.name !== 'else') this.unplaced(c, state, scope);
      }
      return;
    }
    for (let i = 0; i < parts.length; i++) {
      const c = parts[i]!;
      if (c.name === 'Body') this.bodyStatements(c, flow.branch(inner), scope);
      else if (i === 1)
        this.expression(c, state, scope); // the condition
      else this.unplaced(c, state, scope);
    }
  }

  private tryStatement(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    const flow = flowOf(scope);
    const parts = children(node);
    let mode: 'try' | 'except' | 'else' | 'finally' = 'try';
    const tried = flow.branch(state);
    const probes = this.catchesNameError(parts);
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (p.name === 'try') mode = 'try';
      else if (p.name === 'except') {
        mode = 'except';
        const handler = flow.branch(state);
        let j = i + 1;
        let caught: SyntaxNode | undefined;
        for (; j < parts.length && parts[j]!.name !== 'Body'; j++) {
          const c = parts[j]!;
          if (c.name === 'as') {
            const name = parts[j + 1];
            if (name?.name === 'VariableName') this.exceptName(name, handler, scope, caught);
            else if (name !== undefined) this.unplaced(name, state, scope);
            j++;
          } else if (c.name !== '*') {
            this.expression(c, state, scope);
            caught = c;
          }
        }
        this.bodyStatements(parts[j], handler, scope);
        i = j;
      } else if (p.name === 'else') mode = 'else';
      else if (p.name === 'finally') mode = 'finally';
      else if (p.name === 'Body') {
        if (mode === 'finally') this.bodyStatements(p, state, scope);
        else if (mode === 'try' && probes) {
          this.probing++;
          try {
            this.bodyStatements(p, tried, scope);
          } finally {
            this.probing--;
          }
        } else this.bodyStatements(p, mode === 'else' ? flow.branch(tried) : tried, scope);
      } else this.unplaced(p, state, scope);
    }
  }

  /**
   * Whether a `try` statement's handlers catch NameError (`except NameError`, `except Exception`,
   * a bare `except`): a name its body reads may be one the notebook has not defined (yet).
   */
  private catchesNameError(parts: readonly SyntaxNode[]): boolean {
    for (let i = 0; i < parts.length; i++) {
      if (parts[i]!.name !== 'except') continue;
      const caught = parts[i + 1];
      if (caught === undefined || caught.name === 'Body' || caught.name === ':') return true;
      if (/\b(NameError|Exception|BaseException)\b/.test(this.text(caught))) return true;
    }
    return false;
  }

  /** Names read before being bound only inside `try` bodies that catch NameError. */
  private probedNames(): ReadonlySet<string> {
    if (this.probed === null) return NO_NAMES;
    const unprobed = this.unprobed;
    return unprobed === null
      ? this.probed
      : new Set([...this.probed].filter((n) => !unprobed.has(n)));
  }

  /**
   * `except E as name`: bound at module level, to an instance of `E` (a notebook class, which a
   * step loading the value defines); a class body's own name in a class.
   */
  private exceptName(
    name: SyntaxNode,
    handler: Set<string>,
    scope: InnerScope | null,
    caught: SyntaxNode | undefined,
  ): void {
    if (scope === null) {
      this.bind(name, handler, null);
      if (caught !== undefined)
        this.addValueReads(this.valueNames, this.text(name), heldNames(caught, this.textOf));
    } else if (scope.kind === 'class') scope.locals.add(this.text(name));
  }

  private withStatement(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    const parts = children(node);
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (p.name === 'with' || p.name === ',' || p.name === 'async') continue;
      if (p.name === 'as') {
        const t = parts[i + 1];
        if (t !== undefined) this.target(t, state, scope);
        i++;
      } else if (p.name === 'Body') this.bodyStatements(p, state, scope);
      else this.expression(p, state, scope);
    }
  }

  private matchStatement(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    const flow = flowOf(scope);
    const parts = children(node);
    // The subject; in a body every part but the clauses is read, in order.
    if (scope === null && parts[1] !== undefined) this.expression(parts[1], state, null);
    const branches: Set<string>[] = [flow.branch(state)];
    for (const part of parts) {
      if (part.name === 'match') continue;
      if (part.name !== 'MatchBody') {
        if (scope !== null) this.expression(part, state, scope);
        continue;
      }
      for (const clause of children(part).filter((c) => c.name === 'MatchClause')) {
        const branch = flow.branch(state);
        for (const c of children(clause)) {
          if (c.name === 'Body') this.bodyStatements(c, branch, scope);
          else if (c.name !== 'case') this.pattern(c, branch, scope);
        }
        branches.push(branch);
      }
    }
    flow.merge(state, branches);
  }

  private pattern(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    if (node.name === 'CapturePattern') {
      for (const c of children(node)) if (c.name === 'VariableName') this.bind(c, state, scope);
      return;
    }
    if (node.name === 'KeywordPattern') {
      for (const c of children(node).slice(1)) this.pattern(c, state, scope);
      return;
    }
    if (node.name === 'ClassPattern') {
      const [cls, ...rest] = children(node);
      if (cls !== undefined) this.expression(cls, state, scope);
      for (const c of rest) this.pattern(c, state, scope);
      return;
    }
    if (node.name === 'VariableName' || node.name === 'MemberExpression') {
      this.expression(node, state, scope);
      return;
    }
    for (const c of children(node)) this.pattern(c, state, scope);
  }

  // ---- bindings -----------------------------------------------------------------------------

  private assignment(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    const parts = children(node);
    const ops: number[] = [];
    for (let i = 0; i < parts.length; i++) if (parts[i]!.name === 'AssignOp') ops.push(i);
    const lastOp = ops[ops.length - 1];
    // Annotations are evaluated (reads); the value comes before the targets are bound.
    for (const c of parts) if (c.name === 'TypeDef') this.annotation(c, state, scope);
    if (scope === null && parts[0]?.name === 'VariableName' && parts[1]?.name === 'TypeDef')
      this.moduleAnnotations(parts[0], state);
    if (lastOp === undefined) return; // `x: int` binds nothing
    const collects = scope === null;
    if (collects) {
      this.collectsDeferred = true;
      this.deferredSink = null;
    }
    const outerCollectsFormulas = this.collectsFormulas;
    const outerFormulas = this.formulaSink;
    this.collectsFormulas = collects;
    this.formulaSink = null;
    for (let i = lastOp + 1; i < parts.length; i++) this.expression(parts[i]!, state, scope);
    const formulas = this.formulaSink as Set<string> | null; // made by the walk, if at all
    this.collectsFormulas = outerCollectsFormulas;
    this.formulaSink = outerFormulas;
    // What the value may hold (its makers among it) and share: one walk of each value.
    const held = collects ? this.heldByValues(parts, lastOp + 1) : null;
    if (collects) {
      const sink = this.deferredSink;
      this.collectsDeferred = false;
      this.deferredSink = null;
      const reads = held!.names;
      const targets: string[] = [];
      for (let i = 0; i < lastOp; i++) {
        const t = parts[i]!;
        if (t.name !== 'AssignOp' && t.name !== ',') this.targetNames(t, targets);
      }
      for (const t of targets) this.addValueReads(this.valueNames, t, reads);
      for (const t of targets) this.addValueReads(this.passedReads, t, held!.passed);
      for (const t of targets) {
        if (sink !== null && sink.size > 0) (this.carried ??= new Map()).set(t, [...sink]);
        else if (t !== '' && parts[0]?.name === 'VariableName') this.carried?.delete(t);
      }
    }
    if (scope !== null && this.currentEffects !== null)
      this.storedByAssignment(parts, lastOp, scope);
    if (scope === null) {
      this.assignmentAliases(parts, ops, held!.shared);
      const value = parts[parts.length - 1];
      if (value !== undefined && this.makesFigure(value))
        for (let i = 0; i < lastOp; i++) {
          const t = parts[i]!;
          if (t.name === 'VariableName' || TARGET_GROUPS.has(t.name))
            for (const n of this.targetNames(t)) (this.figureNames ??= new Set()).add(n);
        }
      const target = parts[0];
      if (parts.length === 3 && target?.name === 'VariableName') {
        const callee = value?.name === 'CallExpression' ? value.firstChild : null;
        if (callee?.name === 'VariableName')
          (this.madeBy ??= new Map()).set(this.text(target), this.text(callee));
        else this.madeBy?.delete(this.text(target));
      }
      if (value?.name === 'CallExpression' && this.calleeName(value.firstChild) === 'defaultdict')
        for (let i = 0; i < lastOp; i++) {
          const t = parts[i]!;
          if (t.name === 'VariableName') (this.autoKeyedNames ??= new Set()).add(this.text(t));
        }
      const formula = formulas !== null && formulas.size > 0 ? [...formulas] : null;
      for (let i = 0; i < lastOp; i++) {
        const t = parts[i]!;
        if (t.name !== 'VariableName') continue;
        if (formula !== null) (this.formulaOf ??= new Map()).set(this.text(t), formula);
        else this.formulaOf?.delete(this.text(t));
      }
      const what = value !== undefined && parts.length === 3 ? this.unsavableOrigin(value) : null;
      if (target?.name === 'VariableName') {
        const name = this.text(target);
        if (what !== null)
          (this.unsavableValues ??= new Map()).set(name, { ...this.site(name, target), what });
        else this.unsavableValues?.delete(name);
        if (value !== undefined && parts.length === 3 && this.crossesAsFile(value))
          (this.fileBackedValues ??= new Set()).add(name);
        else this.fileBackedValues?.delete(name);
      }
    }
    let start = 0;
    for (const op of ops) {
      for (let i = start; i < op; i++) {
        const t = parts[i]!;
        if (t.name !== ',' && t.name !== 'TypeDef') this.target(t, state, scope);
      }
      start = op + 1;
    }
  }

  /**
   * `heldNames` of an assignment's values (`parts` from `from` on), with (`names`) and without (`shared`) their makers, and
   * the names passed to their calls (`passed`).
   */
  private heldByValues(
    parts: readonly SyntaxNode[],
    from: number,
  ): {
    names: string[];
    shared: string[];
    passed: string[];
  } {
    const names: string[] = [];
    const shared: string[] = [];
    const passed: string[] = [];
    const text = this.textOf;
    for (let at = from; at < parts.length; at++) {
      const v = parts[at]!;
      const { found, makers } = heldNamesAndMakers(v, text);
      for (let i = 0; i < found.length; i++) {
        names.push(found[i]!);
        if (!makers.has(i)) shared.push(found[i]!);
      }
      passed.push(...passedNames(v, text));
    }
    return { names, shared, passed };
  }

  /** Whether the node's text has a `~` (a model formula may be in it), without slicing it. */
  private hasTilde(node: SyntaxNode): boolean {
    const at = this.source.indexOf('~', node.from);
    return at >= 0 && at < node.to;
  }

  /** The key of `globals()[key]`, and the name it spells when it is a plain string (`"s"`). */
  private namespaceKey(node: SyntaxNode): { key: SyntaxNode | null; literal: string | null } {
    const key = node.firstChild?.nextSibling?.nextSibling ?? null;
    const literal = key?.name === 'String' ? /^(['"])(\w+)\1$/.exec(this.text(key)) : null;
    return { key, literal: literal?.[2] ?? null };
  }

  /** `globals()`, or at module level `vars()` or `locals()`: the notebook's namespace itself. */
  private isNamespaceCall(node: SyntaxNode | null): boolean {
    if (node?.name !== 'CallExpression') return false;
    const callee = node.firstChild;
    const args = callee?.nextSibling;
    return (
      callee?.name === 'VariableName' &&
      /^(globals|vars|locals)$/.test(this.text(callee)) &&
      args?.name === 'ArgList' &&
      args.firstChild?.nextSibling?.name === ')'
    );
  }

  /**
   * Module-level `exec("z = 5")` binds what its code binds; `exec(code)`, `globals().update(d)`
   * bind names no one can read off.
   */
  private dynamicCall(
    callee: SyntaxNode,
    args: SyntaxNode | undefined,
    state: Set<string>,
    scope: InnerScope | null,
  ): void {
    if (scope !== null) return;
    // `%run FILE`: the names the file binds join the notebook's, unseen, as with `import *`.
    if (callee.name === 'MemberExpression' && this.textIs(callee, '__cellflow__.run_file')) {
      this.stars.push({ name: '%run', cell: this.cell, line: this.lineOf(callee.from) });
      return;
    }
    // sympy's `var("x y z")` binds its symbols in the notebook's names.
    const symbols = this.sympyVarNames(callee, args);
    if (symbols !== undefined) {
      if (symbols === null) this.dynamicSite ??= this.site('globals', callee);
      else for (const name of symbols) this.bindName(name, callee, state, scope);
      return;
    }
    if (callee.name === 'VariableName' && this.textIs(callee, 'exec')) {
      const first = args?.firstChild?.nextSibling;
      const code = first?.name === 'String' ? /^(['"])([^'"\\]*)\1$/.exec(this.text(first)) : null;
      if (code === null) this.dynamicSite ??= this.site('globals', callee);
      else
        for (const w of analyzePython(code[2]!).writes) this.bindName(w.name, first!, state, scope);
    } else if (
      callee.name === 'MemberExpression' &&
      this.isNamespaceCall(callee.firstChild) &&
      /^(update|setdefault)$/.test(this.text(childNamed(callee, 'PropertyName') ?? callee))
    )
      this.dynamicSite ??= this.site('globals', callee);
  }

  /**
   * The names sympy's `var` binds (`var("x y")`, `sp.var("a:c, k1:3")`), undefined for other
   * calls, null where they cannot be read off (not one literal).
   */
  private sympyVarNames(
    callee: SyntaxNode,
    args: SyntaxNode | undefined,
  ): readonly string[] | null | undefined {
    const named =
      callee.name === 'VariableName'
        ? this.textIs(callee, 'var')
        : callee.name === 'MemberExpression' && SYMPY_VAR.test(this.text(callee));
    if (!named) return undefined;
    const first = args?.firstChild?.nextSibling;
    if (first?.name !== 'String') return null;
    const literal = /^(['"])([^'"\\]*)\1$/.exec(this.text(first));
    return literal === null ? null : symbolNames(literal[2]!);
  }

  /** Whether a value is a call that makes a figure, axes or a grid of them (`FIGURE_MAKERS`). */
  private makesFigure(value: SyntaxNode): boolean {
    return value.name === 'CallExpression' && FIGURE_MAKERS.test(this.calleeName(value.firstChild));
  }

  /** Whether a value is a call whose parts share nothing (`SEPARATE_PARTS_MAKERS`). */
  private makesSeparateParts(value: SyntaxNode): boolean {
    return (
      value.name === 'CallExpression' &&
      SEPARATE_PARTS_MAKERS.test(this.calleeName(value.firstChild))
    );
  }

  /** A callee's last name: `f` in `f(x)`, `subplots` in `plt.subplots(2)`; '' for others (`fs[0](x)`). */
  private calleeName(callee: SyntaxNode | null): string {
    if (callee?.name === 'VariableName') return this.text(callee);
    if (callee?.name === 'MemberExpression')
      return this.text(childNamed(callee, 'PropertyName') ?? callee);
    return '';
  }

  /** What a value is when it surely cannot be saved for another step, else null. */
  private unsavableOrigin(value: SyntaxNode): string | null {
    if (value.name === 'ComprehensionExpression') return 'a generator';
    if (value.name !== 'CallExpression') return null;
    const callee = value.firstChild;
    if (callee === null) return null;
    const raw = this.text(callee);
    if (!UNSAVABLE_ENDINGS.test(raw)) return null;
    const text = raw.replace(/\s+/g, '');
    for (const [pattern, what] of UNSAVABLE_ORIGINS) if (pattern.test(text)) return what;
    return null;
  }

  /** Whether a value is made by a call whose result crosses steps as its file (see `FILE_BACKED`). */
  private crossesAsFile(value: SyntaxNode): boolean {
    if (value.name !== 'CallExpression') return false;
    const callee = value.firstChild;
    return callee !== null && FILE_BACKED.test(this.text(callee).replace(/\s+/g, ''));
  }

  /**
   * In a function's body, `holder[k] = value` or `holder.x = value` on a module-level `holder`:
   * it keeps the objects of the parameters the value shares with (see `storeParameters`).
   */
  private storedByAssignment(
    parts: readonly SyntaxNode[],
    lastOp: number,
    scope: InnerScope,
  ): void {
    const shared: string[] = [];
    for (let i = lastOp + 1; i < parts.length; i++)
      if (parts[i]!.name !== ',') shared.push(...aliasSources(parts[i]!, this.textOf));
    if (shared.length === 0) return;
    for (let i = 0; i < lastOp; i++) {
      const t = parts[i]!;
      if (t.name !== 'SubscriptExpression' && t.name !== 'MemberExpression') continue;
      const base = this.baseName(t);
      if (base !== null) this.storeParameters(this.text(base), shared, scope);
    }
  }

  /**
   * A top-level function's body storing objects that `names` hold in the module-level `holder`:
   * those of its parameters it may keep there (a call then makes `holder` share with what it
   * passes, see `stored`).
   */
  private storeParameters(holder: string, names: readonly string[], scope: InnerScope): void {
    const effects = this.currentEffects;
    if (effects === null || this.currentFunctionScope === null) return;
    if (PYTHON_BUILTINS.has(holder) || this.resolvesLocally(holder, scope)) return;
    for (const n of names) {
      if (!effects.parameters.some((p) => p.name === n)) continue;
      if (ownerOf(n, scope) !== this.currentFunctionScope) continue;
      const stored = (effects.stored ??= new Map<string, Set<string>>());
      stored.set(holder, (stored.get(holder) ?? new Set<string>()).add(n));
    }
  }

  /** `t = a`, `t[k] = a`, `t.x = a`: t shares with a; `a, b = f()`: a and b may share. */
  private assignmentAliases(
    parts: readonly SyntaxNode[],
    ops: readonly number[],
    /** What a call is made from may be held by its result (`pipe = Pipeline([("rbm", rbm)])`). */
    sources: readonly string[],
  ): void {
    let values = 0;
    for (let i = ops[ops.length - 1]! + 1; i < parts.length; i++)
      if (parts[i]!.name !== ',') values++;
    let start = 0;
    const chained: string[] = [];
    for (const op of ops) {
      const from = start;
      start = op + 1;
      // The names of one target, bare (`fig, ax`) or bracketed (`(fig, ax)`, `fig, (a, b)`).
      const group: string[] = [];
      for (let i = from; i < op; i++) {
        const t = parts[i]!;
        if (t.name === ',' || t.name === 'TypeDef') continue;
        const names = this.targetNames(t);
        this.alias(names, sources);
        group.push(...names);
      }
      // Unpacking one value: its parts may share objects (`fig, ax = plt.subplots()`).
      if (group.length > 1 && values === 1 && !this.makesSeparateParts(parts[parts.length - 1]!))
        this.alias(group, group);
      chained.push(...group);
    }
    // `x = y = []`: every target holds the one object.
    if (ops.length > 1) this.alias(chained, chained);
  }

  /**
   * Names an assignment target stands for: bound names, or the object a subscript changes;
   * pushed onto `into`, which is returned.
   */
  private targetNames(node: SyntaxNode, into: string[] = []): string[] {
    if (node.name === 'VariableName') into.push(this.text(node));
    else if (node.name === 'MemberExpression') {
      const base = this.baseName(node);
      if (base !== null) into.push(this.text(base));
    } else if (TARGET_GROUPS.has(node.name))
      for (let c = node.firstChild; c !== null; c = c.nextSibling) this.targetNames(c, into);
    return into;
  }

  private loopSources(iterable: SyntaxNode): string[] {
    const names: string[] = [];
    const visit = (n: SyntaxNode): void => {
      const found = aliasSources(n, (x) => this.text(x));
      if (found.length > 0) names.push(...found);
      else if (n.name === 'CallExpression' || n.name === 'ArgList')
        for (const c of children(n)) visit(c);
    };
    visit(iterable);
    return names;
  }

  private addValueReads(
    into: Map<string, Set<string>>,
    name: string,
    reads: Iterable<string>,
  ): void {
    // A set only for a value that reads something: most hold none of the names they read.
    let set = into.get(name);
    for (const r of reads) {
      if (r === name) continue;
      if (set === undefined) into.set(name, (set = new Set()));
      set.add(r);
    }
  }

  private alias(targets: readonly string[], sources: readonly string[]): void {
    for (const t of targets)
      for (const s of sources)
        if (t !== s && !PYTHON_BUILTINS.has(s) && !PYTHON_BUILTINS.has(t))
          this.aliasPairs.push([t, s]);
  }

  /** An assignment target: names are bound, subscripts/attributes mutate their base object. */
  private target(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    switch (node.name) {
      case 'VariableName':
        return this.bind(node, state, scope);
      case 'TupleExpression':
      case 'ArrayExpression':
      case 'ParenthesizedExpression':
        for (let c = node.firstChild; c !== null; c = c.nextSibling)
          if (!BRACKETS_AND_COMMAS.has(c.name)) this.target(c, state, scope);
        return;
      case 'StarExpression':
        for (let c = node.firstChild; c !== null; c = c.nextSibling)
          if (c.name !== '*') this.target(c, state, scope);
        return;
      case 'MemberExpression': {
        const base = this.baseName(node);
        if (this.isNamespaceCall(node.firstChild)) {
          // `globals()["name"] = v` binds name; a computed key binds names no one can read off.
          const { key, literal } = this.namespaceKey(node);
          if (literal === null && key) this.expression(key, state, scope);
          if (scope !== null) return;
          if (literal !== null) this.bindName(literal, key!, state, scope);
          else this.dynamicSite ??= this.site('globals', node);
          return;
        }
        this.expression(node, state, scope);
        if (base !== null) this.mutate(base, scope);
        return;
      }
      default:
        if (node.name.startsWith('*')) return;
        this.expression(node, state, scope);
    }
  }

  private bind(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    this.bindName(this.text(node), node, state, scope);
  }

  /** Binds `name` where `node` stands (`node` places it). */
  private bindName(
    name: string,
    node: SyntaxNode,
    state: Set<string>,
    scope: InnerScope | null,
  ): void {
    if (scope !== null) {
      if (scope.kind === 'class') scope.locals.add(name);
      // `global n` in a function: n is bound when the function is called, not where it is defined.
      if (scope.globals.has(name) && this.currentEffects !== null && this.insideFunction(scope)) {
        this.currentEffects.writes.add(name);
        return;
      }
      if (scope.globals.has(name)) {
        if (!this.bound.has(name)) this.bound.set(name, this.site(name, node));
        this.lastBound.set(name, { cell: this.cell, offset: node.from });
      }
      return;
    }
    this.lastBound.set(name, { cell: this.cell, offset: node.from });
    (this.updating ? this.updatedNames : this.plainBound).add(name);
    state.add(name);
    this.deleted?.delete(name);
    this.liveDefs.delete(name);
    if (!this.bound.has(name)) this.bound.set(name, this.site(name, node));
  }

  private deleteName(node: SyntaxNode, state: Set<string>): void {
    const name = this.text(node);
    this.read(node, state, null);
    state.delete(name);
    (this.deleted ??= new Map()).set(name, this.site(name, node));
  }

  /** Whether `name` in `scope` is a local name of the top-level function being read. */
  private isLocalOf(name: string, scope: InnerScope): boolean {
    const owner = ownerOf(name, scope);
    return owner !== null && owner === this.currentFunctionScope;
  }

  /** Whether `name` in `scope` is a parameter of the top-level function being read. */
  private isOwnParameter(name: string, scope: InnerScope): boolean {
    return (
      this.isLocalOf(name, scope) &&
      this.currentEffects?.parameters.some((p) => p.name === name) === true
    );
  }

  private mutate(base: SyntaxNode, scope: InnerScope | null): void {
    const name = this.text(base);
    // A method that changes its class (`cls.items.append(x)`, `type(self).count += 1`,
    // `self.rng.shuffle(x)` on a class attribute) changes it wherever it is called.
    if (this.currentMethod !== null && this.changesClass(base, name, this.currentMethod)) {
      this.currentEffects?.mutations.add(this.currentClass!.name);
      return;
    }
    if (PYTHON_BUILTINS.has(name)) return;
    if (scope !== null && this.resolvesLocally(name, scope)) {
      // A parameter of the function: a call changes what it passes there.
      const owner = ownerOf(name, scope);
      const items = this.currentEffects?.itemsOf?.get(name);
      if (
        owner !== null &&
        owner === this.currentFunctionScope &&
        this.currentEffects?.parameters.some((p) => p.name === name) === true
      )
        this.currentEffects.mutatedParameters.add(name);
      else if (owner !== null && owner === this.currentFunctionScope && items !== undefined)
        this.currentEffects!.mutatedParameters.add(items);
      else if (
        owner !== null &&
        owner === this.currentMethodScope &&
        this.currentMethodEffects?.parameters.some((p) => p.name === name) === true
      )
        this.currentMethodEffects.mutatedParameters.add(name);
      return;
    }
    // A function's body changes the object when the function is called.
    if (scope !== null && this.currentEffects !== null && this.insideFunction(scope)) {
      this.currentEffects.mutations.add(name);
      return;
    }
    if (!this.mutated.has(name)) this.mutated.set(name, this.site(name, base));
    // `reg.items.append(x)`: what `reg.items` holds changes, the class's when it shares it.
    const attribute = scope === null ? this.changedAttribute(base) : null;
    if (attribute !== null)
      (this.attributeChanges ??= []).push({ ...this.site(name, base), attribute });
  }

  /** `x` of `name.x.f(...)`, `name.x[k] = v` (a change to what `name.x` holds), else null. */
  private changedAttribute(base: SyntaxNode): string | null {
    const parent = base.parent;
    // (Nodes are compared by where they end: a tree hands out a new object for each visit.)
    if (parent?.name !== 'MemberExpression' || parent.firstChild?.to !== base.to) return null;
    const attribute = childNamed(parent, 'PropertyName');
    const outer = parent.parent;
    return attribute !== undefined &&
      outer?.name === 'MemberExpression' &&
      outer.firstChild?.to === parent.to
      ? this.text(attribute)
      : null;
  }

  private changesClass(
    base: SyntaxNode,
    name: string,
    method: { self: string; classmethod: boolean },
  ): boolean {
    const parent = base.parent;
    if (name === 'type') {
      // `type(self).count += 1`
      const args = parent?.name === 'CallExpression' ? parent.lastChild : null;
      const only = args?.firstChild?.nextSibling;
      return (
        only?.name === 'VariableName' &&
        this.text(only) === method.self &&
        only.nextSibling?.name === ')'
      );
    }
    if (name !== method.self) return false;
    if (method.classmethod) return true;
    // (Nodes are compared by where they end: a tree hands out a new object for each visit.)
    if (parent?.name !== 'MemberExpression' || parent.firstChild?.to !== base.to) return false;
    const attribute = childNamed(parent, 'PropertyName');
    if (attribute === undefined) return false;
    const attr = this.text(attribute);
    if (attr === '__class__') return true;
    // `self.x = v` and `self.x += 1` set the instance's own `x`; `self.x.append(v)` and
    // `self.x[k] = v` change the object `x` names, the class's when the class holds it (a
    // member's first part that ends where `self.x` ends is `self.x`).
    const outer = parent.parent;
    return (
      outer?.name === 'MemberExpression' &&
      outer.firstChild?.to === parent.to &&
      this.currentClass!.shared.has(attr)
    );
  }

  /** A function's effects with those of the notebook functions it calls. */
  private effectsOf(record: EffectsRecord): {
    reads: Set<string>;
    writes: Set<string>;
    mutations: Set<string>;
  } {
    const reads = new Set<string>();
    const writes = new Set<string>();
    const mutations = new Set<string>();
    const seen = new Set<EffectsRecord>();
    const pending = [record];
    for (let r = pending.pop(); r !== undefined; r = pending.pop()) {
      if (seen.has(r)) continue;
      seen.add(r);
      for (const n of r.reads) reads.add(n);
      for (const w of r.writes) writes.add(w);
      for (const m of r.mutations) mutations.add(m);
      pending.push(...r.calls);
    }
    return { reads, writes, mutations };
  }

  /**
   * Reading a name bound to a notebook function may call it: what its body rebinds (`global n`)
   * or changes in place is read and changed here, as when Jupyter runs the call.
   */
  private callEffects(name: string, node: SyntaxNode, state: Set<string>): void {
    const def = this.liveDefs.get(name);
    if (def === undefined) return;
    const { reads, writes, mutations } = this.effectsOf(def);
    for (const m of mutations) {
      if (PYTHON_BUILTINS.has(m)) continue;
      this.moduleRead(m, node, state);
      if (!this.mutated.has(m)) this.mutated.set(m, this.site(m, node));
    }
    for (const w of writes) {
      if (reads.has(w) || mutations.has(w)) this.moduleRead(w, node, state);
      // What it binds (`global fns`) may hold what its body makes (`fns = {k: Fn(k) ...}`).
      this.addValueReads(this.valueNames, w, [name]);
      this.lastBound.set(w, { cell: this.cell, offset: node.from });
      state.add(w);
      this.deleted?.delete(w);
      this.liveDefs.delete(w);
      if (!this.bound.has(w)) this.bound.set(w, this.site(w, node));
    }
  }

  private importStatement(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    const parts = children(node);
    const isFrom = parts[0]?.name === 'from';
    const importAt = parts.findIndex((c) => c.name === 'import');
    const names = parts.slice(importAt + 1);
    if (isFrom && names.some((c) => c.name === '*')) {
      this.stars.push({ name: '*', cell: this.cell, line: this.lineOf(node.from) });
      return;
    }
    // Split into clauses at commas: `a.b as c` binds c; `a.b` binds a (plain import) or b (from).
    const clauses: SyntaxNode[][] = [[]];
    for (const c of names) {
      if (c.name === ',') clauses.push([]);
      else if (c.name !== '(' && c.name !== ')') clauses[clauses.length - 1]!.push(c);
    }
    for (const clause of clauses) {
      const asAt = clause.findIndex((c) => c.name === 'as');
      const bound = asAt >= 0 ? clause[asAt + 1] : isFrom ? clause[clause.length - 1] : clause[0];
      if (bound?.name !== 'VariableName') continue;
      this.bind(bound, state, scope);
      if (scope === null) {
        const name = this.text(bound);
        if (!this.importSites.has(name)) this.importSites.set(name, this.site(name, bound));
      }
    }
  }

  // ---- definitions and inner scopes ----------------------------------------------------------

  private definition(
    node: SyntaxNode,
    state: Set<string>,
    scope: InnerScope | null,
    decorators: readonly SyntaxNode[],
  ): void {
    for (const d of decorators) this.expression(d, state, scope);
    const isClass = node.name === 'ClassDefinition';
    let nameNode: SyntaxNode | undefined;
    let body: SyntaxNode | undefined;
    let paramList: SyntaxNode | undefined;
    let bases: SyntaxNode | undefined;
    for (let c = node.firstChild; c !== null; c = c.nextSibling) {
      if (c.name === 'VariableName') nameNode ??= c;
      else if (c.name === 'Body') body ??= c;
      else if (c.name === 'ParamList') paramList ??= c;
      else if (c.name === 'ArgList') bases ??= c;
    }
    if (isClass) paramList = undefined;
    const topLevel = scope === null && this.currentDefinition === null;
    const previous = this.currentDefinition;
    const previousEffects = this.currentEffects;
    const previousFunctionScope = this.currentFunctionScope;
    // What a top-level definition reads and does; one inside it is part of its body.
    const effects: EffectsRecord | null = topLevel
      ? {
          reads: new Set(),
          writes: new Set(),
          mutations: new Set(),
          calls: new Set(),
          parameters: paramList === undefined ? [] : this.parameterRefs(paramList),
          mutatedParameters: new Set(),
          methods: null,
          stored: null,
          passes: null,
          itemsOf: null,
        }
      : null;
    if (effects !== null) this.currentDefinition = effects.reads;
    // A class's methods run when it is used: what they change is the class's effects.
    if (effects !== null) this.currentEffects = effects;
    const previousClass = this.currentClass;
    const previousMethod = this.currentMethod;
    const previousMethodEffects = this.currentMethodEffects;
    const previousMethodScope = this.currentMethodScope;
    let methodRecord: MethodRecord | null = null;
    if (isClass && topLevel && nameNode !== undefined && body !== undefined) {
      this.currentClass = { name: this.text(nameNode), shared: this.sharedAttributes(body) };
      if (scope === null)
        (this.classShared ??= new Map()).set(this.currentClass.name, this.currentClass.shared);
    } else if (!isClass && scope?.kind === 'class' && this.currentClass !== null) {
      this.currentMethod = this.methodOf(paramList, decorators);
      // A call on an instance (`tour.melee(agents)`) passes its arguments after `self`/`cls`.
      const refs = paramList === undefined ? [] : this.parameterRefs(paramList);
      methodRecord = {
        parameters:
          this.currentMethod === null
            ? refs
            : refs.slice(1).map((r) => (r.index === null ? r : { ...r, index: r.index - 1 })),
        mutatedParameters: new Set(),
      };
      if (nameNode !== undefined && previousEffects !== null)
        (previousEffects.methods ??= new Map()).set(this.text(nameNode), methodRecord);
    } else if (isClass) this.currentClass = this.currentMethod = null; // a class inside one
    this.currentMethodEffects = methodRecord ?? (isClass ? null : this.currentMethodEffects);
    if (isClass) {
      if (bases !== undefined) this.expression(bases, state, scope);
      const classScope: InnerScope = {
        kind: 'class',
        locals: new Set(),
        globals: new Set(),
        parent: scope,
        moduleState: scope?.moduleState ?? state,
      };
      this.innerBody(body, classScope);
    } else {
      const params = paramList;
      const fnScope = this.functionScope(params, body, scope, state);
      if (topLevel) this.currentFunctionScope = fnScope;
      if (methodRecord !== null) this.currentMethodScope = fnScope;
      if (params !== undefined) this.parameters(params, state, scope);
      for (let c = node.firstChild; c !== null; c = c.nextSibling)
        if (c.name === 'TypeDef') this.annotation(c, state, scope);
      this.innerBody(body, fnScope);
    }
    this.currentDefinition = previous;
    this.currentEffects = previousEffects;
    this.currentFunctionScope = previousFunctionScope;
    this.currentClass = previousClass;
    this.currentMethod = previousMethod;
    this.currentMethodEffects = previousMethodEffects;
    this.currentMethodScope = previousMethodScope;
    if (nameNode !== undefined) {
      this.bind(nameNode, state, scope);
      if (scope === null) this.decoratorCalls(decorators, this.text(nameNode));
      if (effects !== null) {
        const name = this.text(nameNode);
        this.defs.set(name, { site: this.site(name, nameNode), globals: effects.reads, effects });
        this.liveDefs.set(name, effects);
        // A cached function (`@functools.cache`, `@lru_cache(maxsize=None)`) keeps what each
        // call computed: calling it changes it.
        if (
          !isClass &&
          decorators.some((d) => CACHING_CALLEE.test(this.text(d).replace(/^@\s*/, '')))
        )
          effects.mutations.add(name);
        // So does a function that changes a default it keeps (`def fib(n, memo={})`).
        if (paramList !== undefined && this.changesDefault(paramList, effects.mutatedParameters))
          effects.mutations.add(name);
      }
    }
  }

  /** The names a class body binds (`history = []`) that its methods never set on `self`. */
  private sharedAttributes(body: SyntaxNode): Set<string> {
    const shared = new Set<string>();
    for (let c = body.firstChild; c !== null; c = c.nextSibling) {
      if (c.name !== 'AssignStatement') continue;
      for (let t = c.firstChild; t !== null && t.name !== 'AssignOp'; t = t.nextSibling)
        if (t.name === 'VariableName') shared.add(this.text(t));
    }
    if (shared.size === 0) return shared;
    const text = this.text(body);
    for (const m of text.matchAll(/\bself\.(\w+)\s*(?:[-+*/%&|^@]|\/\/|\*\*|<<|>>)?=(?!=)/g))
      shared.delete(m[1]!);
    return shared;
  }

  /** A method's first parameter and whether it is a class method; null for a static method. */
  private methodOf(
    params: SyntaxNode | undefined,
    decorators: readonly SyntaxNode[],
  ): { self: string; classmethod: boolean } | null {
    const first = params === undefined ? undefined : childNamed(params, 'VariableName');
    if (first === undefined) return null;
    let classmethod = false;
    for (const d of decorators) {
      const text = this.text(d);
      if (/^@\s*staticmethod\b/.test(text)) return null;
      if (/^@\s*classmethod\b/.test(text)) classmethod = true;
    }
    return { self: this.text(first), classmethod };
  }

  /**
   * A decorator is a call given the definition (`@register` calls `register(f)`; `@register("x")`
   * calls what `register("x")` makes): a notebook function that keeps what it is given in a
   * module-level value (`registry[name] = f`) makes that value hold the definition.
   */
  private decoratorCalls(decorators: readonly SyntaxNode[], defined: string): void {
    for (const d of decorators) {
      // `@name` or `@name(...)` (a call, or the name and its arguments); dotted ones are skipped.
      const expression = d.firstChild?.nextSibling ?? null;
      const call = expression?.name === 'CallExpression';
      const callee = call ? expression.firstChild : expression;
      if (callee?.name !== 'VariableName') continue;
      const factory = call || callee.nextSibling?.name === 'ArgList';
      const name = this.text(callee);
      const argument = { index: factory ? null : 0, keyword: null, name: defined };
      const live = this.liveDefs.get(name);
      if (live !== undefined)
        for (const m of this.effectsOf(live).mutations)
          this.addValueReads(this.passedReads, m, [defined]);
      this.callSites.push({
        callee: name,
        cell: this.cell,
        line: this.lineOf(callee.from),
        args: [argument],
        codeStrings: [],
      });
    }
  }

  /** A function's parameters in order; keyword-only ones (after `*` or `*args`) have no index. */
  /** Whether one of the parameters `mutated` has a container as its default (`memo={}`). */
  private changesDefault(params: SyntaxNode, mutated: ReadonlySet<string>): boolean {
    if (mutated.size === 0) return false;
    let last: string | null = null;
    for (let p = params.firstChild; p !== null; p = p.nextSibling)
      if (p.name === 'VariableName') last = this.text(p);
      else if (p.name === ',') last = null;
      else if (p.name === 'AssignOp' && last !== null && mutated.has(last)) {
        const value = p.nextSibling;
        if (value === null) return false;
        if (CONTAINER_DISPLAYS.has(value.name)) return true;
        const callee = value.name === 'CallExpression' ? value.firstChild : null;
        if (callee !== null && CONTAINER_MAKERS.test(this.text(callee))) return true;
      }
    return false;
  }

  private parameterRefs(params: SyntaxNode): ParameterRef[] {
    const refs: ParameterRef[] = [];
    let index: number | null = 0;
    // `next` is where the walk goes on: past a default, or a `*`'s name.
    for (
      let p: SyntaxNode | null = params.firstChild, next: SyntaxNode | null;
      p !== null;
      p = next
    ) {
      next = p.nextSibling;
      if (this.isStars(p)) {
        index = null;
        if (next?.name === 'VariableName') next = next.nextSibling;
      } else if (this.textIs(p, '/')) continue;
      else if (p.name === 'AssignOp') next = next?.nextSibling ?? null;
      else if (p.name === 'VariableName') {
        refs.push({ name: this.text(p), index });
        if (index !== null) index++;
      }
    }
    return refs;
  }

  /**
   * What a call does to its arguments: a library function that changes its first argument, or a
   * notebook function whose body changes a parameter, changes the names passed there. Module-level
   * calls are kept (`calls`) for functions defined in other cells, with the code in their string
   * literals (`state`: the names bound before the call).
   */
  private argumentEffects(
    callee: SyntaxNode,
    args: SyntaxNode,
    scope: InnerScope | null,
    state: Set<string>,
  ): void {
    const calleeName = this.calleeName(callee);
    if (calleeName === '') return;
    const found: { argument: CallArgument; node: SyntaxNode }[] = [];
    let index: number | null = 0;
    // The arguments' nodes in order; `next` is where the walk goes on (null: past the end).
    for (
      let p: SyntaxNode | null = args.firstChild, next: SyntaxNode | null;
      p !== null;
      p = next
    ) {
      next = p.nextSibling;
      if (p.name === '(' || p.name === ')' || p.name === ',') continue;
      if (this.isStars(p)) {
        index = null;
        next = next?.nextSibling ?? null;
        continue;
      }
      let keyword: string | null = null;
      let value = p;
      if (p.name === 'VariableName' && next?.name === 'AssignOp') {
        keyword = this.text(p);
        const after = next.nextSibling;
        value = after ?? p;
        next = after?.nextSibling ?? null;
      }
      const position = keyword === null ? index : null;
      if (keyword === null && index !== null) index++;
      let base: SyntaxNode | null = value;
      while (base !== null && base.name === 'MemberExpression') base = base.firstChild;
      if (base?.name === 'VariableName')
        found.push({ argument: { index: position, keyword, name: this.text(base) }, node: base });
    }
    // String literals that are Python expressions (`show('df1')`), with the names their code
    // reads that are not bound before the call: the callee may run them.
    const codeStrings =
      scope === null && callee.name === 'VariableName'
        ? literalExpressionReads(args, this.textOf, expressionReads).filter((n) => !state.has(n))
        : [];
    // A module-level call of a name is a call site even without names passed (`counter()`); so
    // is one in a comprehension there, which runs now too (`[counter() for _ in range(3)]`), of
    // the module's names.
    const runsNow =
      scope === null || (runsAtOnce(scope) && !this.resolvesLocally(calleeName, scope));
    if (found.length === 0 && codeStrings.length === 0) {
      if (runsNow && callee.name === 'VariableName')
        this.callSites.push({
          callee: calleeName,
          cell: this.cell,
          line: this.lineOf(callee.from),
          args: [],
          codeStrings,
        });
      return;
    }
    for (const f of found)
      if (f.argument.keyword !== null && DRAW_TARGET_KEYWORDS.has(f.argument.keyword))
        this.mutate(f.node, scope);
    if (FIRST_ARGUMENT_MUTATORS.test(calleeName)) {
      const first = found.find((f) => f.argument.index === 0);
      if (first !== undefined) this.mutate(first.node, scope);
    }
    if (callee.name === 'MemberExpression') this.methodArgumentEffects(callee, found, scope);
    if (
      callee.name !== 'VariableName' ||
      (scope !== null && this.resolvesLocally(calleeName, scope))
    )
      return;
    const def = this.liveDefs.get(calleeName);
    if (def !== undefined)
      for (const f of found)
        if (passedTo(f.argument, def.parameters, def.mutatedParameters)) this.mutate(f.node, scope);
    // A function's body passing its parameter to a function of another cell (`inner(df)`): the
    // data flow finds what that one changes.
    if (scope !== null && this.currentEffects !== null && this.currentFunctionScope !== null)
      for (const f of found) {
        const { name } = f.argument;
        const items = this.currentEffects.itemsOf?.get(name);
        const parameter = this.isOwnParameter(name, scope)
          ? name
          : items !== undefined && this.isLocalOf(name, scope)
            ? items
            : undefined;
        if (parameter !== undefined)
          (this.currentEffects.passes ??= []).push({
            callee: calleeName,
            argument: { ...f.argument, name: parameter },
          });
      }
    // `register("a", agent)` with `def register(kind, obj): registry[kind].append(obj)`.
    if (def?.stored != null && scope === null)
      for (const [holder, stored] of def.stored)
        for (const f of found)
          if (passedTo(f.argument, def.parameters, stored)) this.alias([holder], [f.argument.name]);
    if (runsNow)
      this.callSites.push({
        callee: calleeName,
        cell: this.cell,
        line: this.lineOf(callee.from),
        args: (scope === null
          ? found
          : found.filter((f) => !this.resolvesLocally(f.argument.name, scope))
        ).map((f) => f.argument),
        codeStrings,
      });
  }

  /**
   * `obj.method(x)` where `obj` is an instance of a notebook class (`obj = Cls()`) whose method
   * changes that parameter in place: the call changes `x`. A module-level call is a method call
   * site, for a class or instance of another cell (see `MethodCallSite`).
   */
  private methodArgumentEffects(
    callee: SyntaxNode,
    found: readonly { argument: CallArgument; node: SyntaxNode }[],
    scope: InnerScope | null,
  ): void {
    const receiver = callee.firstChild;
    const property = callee.lastChild;
    if (receiver?.name !== 'VariableName' || property?.name !== 'PropertyName') return;
    if (scope !== null && this.resolvesLocally(this.text(receiver), scope)) return;
    const name = this.text(receiver);
    const method = this.text(property);
    const maker = this.madeBy?.get(name);
    const record = maker === undefined ? undefined : this.liveDefs.get(maker)?.methods?.get(method);
    if (record !== undefined)
      for (const f of found)
        if (passedTo(f.argument, record.parameters, record.mutatedParameters))
          this.mutate(f.node, scope);
    if (scope === null)
      this.methodCallSites.push({
        receiver: name,
        method,
        cell: this.cell,
        line: this.lineOf(callee.from),
        args: found.map((f) => f.argument),
      });
  }

  /** Defaults and annotations of parameters are evaluated where the function is defined. */
  private parameters(params: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    for (
      let p: SyntaxNode | null = params.firstChild, next: SyntaxNode | null;
      p !== null;
      p = next
    ) {
      next = p.nextSibling;
      if (p.name === 'AssignOp') {
        // The default value, walked over.
        if (next !== null) this.expression(next, state, scope);
        next = next?.nextSibling ?? null;
      } else if (p.name === 'TypeDef') this.annotation(p, state, scope);
    }
  }

  /**
   * A module-level `name: T` adds to the module's `__annotations__`, which it makes when the
   * notebook has none yet: read where an earlier step has it, never missing, then bound.
   */
  private moduleAnnotations(node: SyntaxNode, state: Set<string>): void {
    const outer = this.inAnnotation;
    this.inAnnotation = true;
    try {
      this.readName('__annotations__', node, state, null);
    } finally {
      this.inAnnotation = outer;
    }
    this.bindName('__annotations__', node, state, null);
  }

  /** An annotation's names (see `inAnnotation`). */
  private annotation(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    const outer = this.inAnnotation;
    this.inAnnotation = true;
    try {
      this.expression(node, state, scope);
    } finally {
      this.inAnnotation = outer;
    }
  }

  private functionScope(
    params: SyntaxNode | undefined,
    body: SyntaxNode | undefined,
    parent: InnerScope | null,
    state: Set<string>,
  ): InnerScope {
    const locals = new Set<string>();
    const globals = new Set<string>();
    if (params !== undefined) {
      for (let p: SyntaxNode | null = params.firstChild; p !== null; p = p.nextSibling) {
        if (p.name === 'VariableName') locals.add(this.text(p));
        else if (p.name === 'AssignOp') p = p.nextSibling ?? p; // past the default
      }
    }
    if (body !== undefined) this.collectLocals(body, locals, globals);
    return { kind: 'function', locals, globals, parent, moduleState: parent?.moduleState ?? state };
  }

  /** Python's rule: a name bound anywhere in a function body is local to it, unless declared global. */
  private collectLocals(node: SyntaxNode, locals: Set<string>, globals: Set<string>): void {
    for (let c = node.firstChild; c !== null; c = c.nextSibling) {
      switch (c.name) {
        case 'FunctionDefinition':
        case 'ClassDefinition': {
          const n = childNamed(c, 'VariableName');
          if (n !== undefined) locals.add(this.text(n));
          continue;
        }
        case 'LambdaExpression':
          continue;
        case 'ScopeStatement': {
          const parts = children(c);
          const isGlobal = parts[0]?.name === 'global';
          for (const n of parts)
            if (n.name === 'VariableName') (isGlobal ? globals : locals).add(this.text(n));
          continue;
        }
        case 'AssignStatement': {
          const parts = children(c);
          let lastOp = parts.length - 1;
          while (lastOp >= 0 && parts[lastOp]!.name !== 'AssignOp') lastOp--;
          for (let i = 0; i < lastOp; i++) this.collectTargetNames(parts[i], locals);
          for (let i = lastOp + 1; i < parts.length; i++)
            this.collectLocals(parts[i]!, locals, globals);
          continue;
        }
        case 'UpdateStatement':
          this.collectTargetNames(c.firstChild ?? undefined, locals);
          continue;
        case 'ForStatement': {
          const parts = children(c);
          const inAt = parts.findIndex((x) => x.name === 'in');
          for (const t of parts.slice(1, inAt)) this.collectTargetNames(t, locals);
          this.collectLocals(c, locals, globals);
          continue;
        }
        case 'ImportStatement': {
          const parts = children(c);
          const isFrom = parts[0]?.name === 'from';
          const names = parts.slice(parts.findIndex((x) => x.name === 'import') + 1);
          const clauses: SyntaxNode[][] = [[]];
          for (const n of names) {
            if (n.name === ',') clauses.push([]);
            else if (n.name !== '(' && n.name !== ')') clauses[clauses.length - 1]!.push(n);
          }
          for (const clause of clauses) {
            const asAt = clause.findIndex((x) => x.name === 'as');
            const b = asAt >= 0 ? clause[asAt + 1] : isFrom ? clause[clause.length - 1] : clause[0];
            if (b?.name === 'VariableName') locals.add(this.text(b));
          }
          continue;
        }
        case 'NamedExpression': {
          const n = c.firstChild;
          if (n?.name === 'VariableName') locals.add(this.text(n));
          this.collectLocals(c, locals, globals);
          continue;
        }
        case 'as': {
          const n = c.nextSibling;
          if (n !== null) this.collectTargetNames(n, locals);
          continue;
        }
        case 'CapturePattern':
          for (let n = c.firstChild; n !== null; n = n.nextSibling)
            if (n.name === 'VariableName') locals.add(this.text(n));
          continue;
        default:
          if (COMPREHENSIONS.has(c.name)) continue;
          this.collectLocals(c, locals, globals);
      }
    }
    for (const g of globals) locals.delete(g);
  }

  private collectTargetNames(node: SyntaxNode | undefined, into: Set<string>): void {
    if (node === undefined) return;
    if (node.name === 'VariableName') into.add(this.text(node));
    else if (TARGET_GROUPS.has(node.name)) {
      for (let c = node.firstChild; c !== null; c = c.nextSibling) this.collectTargetNames(c, into);
    }
  }

  private resolvesLocally(name: string, scope: InnerScope | null): boolean {
    let inFunction = false;
    for (let s = scope; s !== null; s = s.parent) {
      // A class body's names are not seen from the functions in it (a method's `helper` is the
      // module's, not the class's method of that name).
      if (s.kind === 'class' && inFunction) continue;
      if (s.kind === 'function') inFunction = true;
      if (s.globals.has(name)) return false;
      if (s.locals.has(name)) return true;
    }
    return false;
  }

  // ---- expressions --------------------------------------------------------------------------

  private read(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    this.readName(this.text(node), node, state, scope);
  }

  /** A read of `name` at `node` (a name, or code in a string a call runs). */
  private readName(
    name: string,
    node: SyntaxNode,
    state: Set<string>,
    scope: InnerScope | null,
  ): void {
    if (this.inAnnotation && !this.free.has(name)) {
      this.inAnnotation = false;
      try {
        this.readName(name, node, state, scope);
      } finally {
        this.inAnnotation = true;
      }
      if (this.free.has(name)) this.annotationFirst.add(name);
      return;
    }
    if (scope !== null) {
      if (this.resolvesLocally(name, scope)) return;
      // Reads inside functions happen when the function runs; class bodies run at once.
      const immediate = scope.kind !== 'function' && !this.insideFunction(scope);
      if (PYTHON_BUILTINS.has(name)) {
        this.builtinRead(name, node);
        // The notebook may define one of that name (its own `eval`): when called, it is found.
        if (!immediate && !this.deferred.has(name)) this.deferred.set(name, this.site(name, node));
        return;
      }
      this.currentDefinition?.add(name);
      if (immediate) {
        this.moduleRead(name, node, scope.moduleState);
        this.callEffects(name, node, scope.moduleState);
      } else {
        const called = this.liveDefs.get(name);
        if (called !== undefined) this.currentEffects?.calls.add(called);
        if (!this.deferred.has(name)) this.deferred.set(name, this.site(name, node));
        if (this.collectsDeferred) (this.deferredSink ??= new Set()).add(name);
      }
      return;
    }
    if (PYTHON_BUILTINS.has(name)) {
      if (!state.has(name)) this.builtinRead(name, node);
      return;
    }
    this.moduleRead(name, node, state);
    this.callEffects(name, node, state);
  }

  /** The names bound at module level on some paths only (`maybeWrites`). */
  private maybeBound(): ReadonlySet<string> {
    let maybe: Set<string> | null = null;
    for (const name of this.bound.keys())
      if (!this.definite.has(name) && !this.deleted?.has(name)) (maybe ??= new Set()).add(name);
    return maybe ?? NO_NAMES;
  }

  private builtinRead(name: string, node: SyntaxNode): void {
    if (!this.builtins.has(name)) this.builtins.set(name, this.site(name, node));
  }

  private insideFunction(scope: InnerScope): boolean {
    for (let s: InnerScope | null = scope; s !== null; s = s.parent)
      if (s.kind === 'function') return true;
    return false;
  }

  private moduleRead(name: string, node: SyntaxNode, state: Set<string>): void {
    if (state.has(name)) return;
    if (this.probing > 0) (this.probed ??= new Set()).add(name);
    else (this.unprobed ??= new Set()).add(name);
    if (!this.free.has(name)) this.free.set(name, this.site(name, node));
  }

  /** The variable a `a.b[c].d` expression hangs off, when it is a plain name. */
  private baseName(node: SyntaxNode): SyntaxNode | null {
    let n: SyntaxNode | null = node;
    while (n !== null && (n.name === 'MemberExpression' || n.name === 'CallExpression'))
      n = n.firstChild;
    return n?.name === 'VariableName' ? n : null;
  }

  /**
   * Walks an expression in source order with an explicit work list instead of recursion, so that
   * long chains (`a + b + ...`, `-(-(...))`, `f()()()`, `a.b.c...`) cost no JavaScript stack.
   */
  private expression(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    // Work done after a node's parts is a task code (`Task`) above its operands, so that the walk
    // makes no closure per call. The work list is the analyzer's, shared by the walks nested in
    // this one (a lambda's, an argument's): each takes only what lies above where it started.
    const pending = this.pending;
    const base = pending.length;
    pending.push(node);
    while (pending.length > base) {
      const next = pending.pop()!;
      if (typeof next !== 'number') {
        this.expressionNode(next, state, scope, pending);
        continue;
      }
      const first = pending.pop() as SyntaxNode;
      switch (next) {
        case Task.ArgumentEffects:
          this.argumentEffects(first, pending.pop() as SyntaxNode, scope, state);
          break;
        case Task.ArgList:
          this.argList(first, state, scope);
          break;
        case Task.MethodCall: {
          const args = pending.pop() as SyntaxNode | null;
          this.methodCall(first, args ?? undefined, scope);
          break;
        }
        case Task.Bind:
          this.bind(first, state, this.enclosingNonComprehension(scope));
          break;
      }
    }
  }

  /** One node of `expression`: work it does later (or parts to walk) goes on `pending`, last first. */
  private expressionNode(
    node: SyntaxNode,
    state: Set<string>,
    scope: InnerScope | null,
    pending: PendingWork[],
  ): void {
    const name = node.name;
    switch (name) {
      case 'VariableName':
        return this.read(node, state, scope);
      case 'PropertyName':
        return;
      case 'CallExpression': {
        const callee = node.firstChild ?? undefined;
        const args = callee?.nextSibling ?? undefined;
        if (callee?.name !== 'VariableName' || !PYTHON_BUILTINS.has(this.text(callee)))
          this.nonBuiltinCall = true;
        if (callee !== undefined) this.fileCall(callee, args);
        if (callee !== undefined) this.dynamicCall(callee, args, state, scope);
        if (scope === null && args !== undefined && this.hasTilde(args))
          for (const n of formulaNames(args, this.textOf))
            if (!state.has(n)) this.formulaSites.push(this.site(n, args));
        // `eval("x + 1")`, `df.query("a > @limit")`: the names the string's code reads.
        if (callee !== undefined && args?.firstChild?.nextSibling?.name === 'String')
          for (const name of codeStringReads(this.text(callee), args, this.textOf, codeReads))
            this.readName(name, args, state, scope);
        // Names a step runtime call reads where the notebook has them (see `runtimeProbes`).
        const first = args?.firstChild?.nextSibling;
        if (callee?.name === 'MemberExpression' && first != null && /String$/.test(first.name)) {
          const probes = runtimeProbes(this.text(callee), this.text(first));
          if (probes.length > 0) {
            this.probing++;
            try {
              for (const name of probes) this.readName(name, first, state, scope);
            } finally {
              this.probing--;
            }
          }
        }
        if (callee !== undefined && args !== undefined)
          pending.push(args, callee, Task.ArgumentEffects);
        if (args !== undefined) pending.push(args, Task.ArgList);
        if (callee?.name === 'MemberExpression')
          pending.push(args ?? null, callee, Task.MethodCall);
        if (callee !== undefined) pending.push(callee);
        return;
      }
      case 'ArgList':
        return this.argList(node, state, scope);
      case 'String':
        // A model formula in a module-level assignment's value (`formula = "y ~ f(x)"`).
        if (this.collectsFormulas && this.hasTilde(node))
          for (const n of formulaNames(node, this.textOf)) (this.formulaSink ??= new Set()).add(n);
        return;
      case 'NamedExpression': {
        const target = node.firstChild ?? undefined;
        const value = target?.nextSibling?.nextSibling ?? undefined;
        if (target !== undefined) pending.push(target, Task.Bind);
        if (value !== undefined) pending.push(value);
        return;
      }
      case 'LambdaExpression': {
        let params: SyntaxNode | undefined;
        let colon: SyntaxNode | undefined;
        for (let c = node.firstChild; c !== null; c = c.nextSibling) {
          if (c.name === 'ParamList') params ??= c;
          else if (c.name === ':') colon ??= c;
        }
        const locals = new Set<string>();
        if (params !== undefined) {
          this.parameters(params, state, scope);
          for (let p = params.firstChild; p !== null; p = p.nextSibling)
            if (p.name === 'VariableName') locals.add(this.text(p));
        }
        const lambdaScope: InnerScope = {
          kind: 'function',
          locals,
          globals: new Set(),
          parent: scope,
          moduleState: scope?.moduleState ?? state,
        };
        // The body: what follows the colon (everything, when there is none).
        for (
          let c = colon !== undefined ? colon.nextSibling : node.firstChild;
          c !== null;
          c = c.nextSibling
        )
          this.expression(c, state, lambdaScope);
        return;
      }
      default: {
        if (COMPREHENSIONS.has(name)) return this.comprehension(node, state, scope);
        if (SCOPE_BOUNDARIES.has(name)) return;
        // `globals()["name"]` reads name (`globals()["name"] = v` binds it, see `target`).
        if (name === 'MemberExpression' && this.isNamespaceCall(node.firstChild)) {
          const { key, literal } = this.namespaceKey(node);
          if (literal !== null) this.readName(literal, key!, state, scope);
        }
        if (name === 'MemberExpression') this.keyedRead(node, scope);
        // The parts, last first: pushed in order, then that stretch of `pending` reversed.
        const start = pending.length;
        for (let c = node.firstChild; c !== null; c = c.nextSibling) pending.push(c);
        for (let i = start, j = pending.length - 1; i < j; i++, j--) {
          const t = pending[i]!;
          pending[i] = pending[j]!;
          pending[j] = t;
        }
      }
    }
  }

  /** A method call changes its object unless the method is known not to; some store arguments. */
  private methodCall(
    callee: SyntaxNode,
    args: SyntaxNode | undefined,
    scope: InnerScope | null,
  ): void {
    const method = childNamed(callee, 'PropertyName');
    const methodName = method !== undefined ? this.text(method) : '';
    const base = this.baseName(callee.firstChild ?? callee);
    if (base !== null && methodName !== '') {
      if (!NON_MUTATING_METHODS.has(methodName) || (args !== undefined && this.inPlace(args)))
        this.mutate(base, scope);
      else if (scope === null && DRAWING_METHODS.has(methodName)) {
        const name = this.text(base);
        const drawn = (this.drawn ??= new Map());
        if (!drawn.has(name)) drawn.set(name, this.site(name, base));
      }
    }
    if (scope === null && base !== null && args && !NON_MUTATING_METHODS.has(methodName)) {
      // A method may keep what it is given (`hand.add_card(deck.deal())` appending the card):
      // the classes and functions that made it may be what the object holds now.
      const held: string[] = [];
      for (let a = args.firstChild; a !== null; a = a.nextSibling)
        for (const name of heldNames(a, this.textOf)) held.push(name);
      this.addValueReads(this.valueNames, this.text(base), held);
    }
    if (base !== null && STORING_METHODS.has(methodName) && args) {
      const shared: string[] = [];
      for (let a = args.firstChild; a !== null; a = a.nextSibling)
        for (const name of aliasSources(a, this.textOf)) shared.push(name);
      if (scope === null) this.alias([this.text(base)], shared);
      else this.storeParameters(this.text(base), shared, scope);
    }
    if (methodName === 'shuffle' && args !== undefined) {
      const first = childNamed(args, 'VariableName');
      if (first !== undefined) this.mutate(first, scope);
    }
  }

  /**
   * Notes a module-level name read by key (`counts[word]`, `tree[a][b]`, also in a comprehension):
   * it changes when the name is a `defaultdict` (see `keyedReads`).
   */
  private keyedRead(node: SyntaxNode, scope: InnerScope | null): void {
    if (this.enclosingNonComprehension(scope) !== null || !hasChildNamed(node, '[')) return;
    let base = node.firstChild;
    while (base?.name === 'MemberExpression' && hasChildNamed(base, '[')) base = base.firstChild;
    if (base?.name !== 'VariableName') return;
    const name = this.text(base);
    if (scope !== null && this.resolvesLocally(name, scope)) return;
    const keyed = (this.keyed ??= new Map());
    if (!keyed.has(name)) keyed.set(name, this.site(name, base));
  }

  /** Notes a call that may read or write files (see `FILE_READERS`, `FILE_WRITERS`). */
  private fileCall(callee: SyntaxNode, args: SyntaxNode | undefined): void {
    const nameNode =
      callee.name === 'VariableName'
        ? callee
        : callee.name === 'MemberExpression'
          ? childNamed(callee, 'PropertyName')
          : undefined;
    if (nameNode === undefined) return;
    const name = this.text(nameNode);
    if (FILE_WRITERS.test(name)) this.fileWrites = true;
    if (FILE_READERS.test(name)) this.fileReads = true;
    // A call given a file's name (`SVG(filename="t.svg")`, `load("data/x.bin")`) may read it.
    if (!this.fileReads && args !== undefined)
      for (let a = args.firstChild; a !== null; a = a.nextSibling)
        if (a.name === 'String' && FILE_NAME_LITERAL.test(this.text(a))) {
          this.fileReads = true;
          break;
        }
    // `open(path, "w")`: the mode says it writes.
    if (name === 'open' && args !== undefined) {
      const mode = (m: SyntaxNode): boolean =>
        m.name === 'String' && /^['"][rwabxt+]{1,4}['"]$/.test(this.text(m));
      for (let m = args.firstChild; m !== null; m = m.nextSibling)
        if (mode(m) && /[wax+]/.test(this.text(m))) {
          this.fileWrites = true;
          break;
        }
    }
  }

  /** `inplace=...` among a call's arguments, other than `inplace=False` (pandas' in-place form). */
  private inPlace(args: SyntaxNode): boolean {
    for (let c = args.firstChild; c !== null; c = c.nextSibling) {
      if (c.name !== 'VariableName' || !this.textIs(c, 'inplace')) continue;
      const op = c.nextSibling;
      if (op?.name !== 'AssignOp') continue;
      const value = op.nextSibling;
      if (value !== null && !this.textIs(value, 'False')) return true;
    }
    return false;
  }

  private enclosingNonComprehension(scope: InnerScope | null): InnerScope | null {
    let s = scope;
    while (s !== null && s.kind === 'comprehension') s = s.parent;
    return s;
  }

  /** Keyword names in calls (`f(k=1)`) are not reads; `f(x for x in xs)` is a generator. */
  private argList(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    if (hasChildNamed(node, 'for')) return this.comprehension(node, state, scope);
    for (let c = node.firstChild; c !== null;) {
      const next = c.nextSibling;
      if (c.name !== 'VariableName' || next?.name !== 'AssignOp') this.expression(c, state, scope);
      c = next;
    }
  }

  private comprehension(node: SyntaxNode, state: Set<string>, scope: InnerScope | null): void {
    const parts = children(node);
    const compScope: InnerScope = {
      kind: 'comprehension',
      locals: new Set(),
      globals: new Set(),
      parent: scope,
      moduleState: scope?.moduleState ?? state,
    };
    // Targets of every `for` clause are local to the comprehension.
    for (let i = 0; i < parts.length; i++) {
      if (parts[i]!.name !== 'for') continue;
      for (let j = i + 1; j < parts.length && parts[j]!.name !== 'in'; j++)
        this.collectTargetNames(parts[j], compScope.locals);
    }
    let firstIterable = true;
    let inTarget = false;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (p.name === 'for') {
        inTarget = true;
        continue;
      }
      if (p.name === 'in') {
        inTarget = false;
        const iterable = parts[i + 1];
        // The first iterable is evaluated in the enclosing scope.
        if (iterable !== undefined)
          this.expression(iterable, state, firstIterable ? scope : compScope);
        firstIterable = false;
        i++;
        continue;
      }
      if (inTarget || COMPREHENSION_PUNCTUATION.has(p.name)) continue;
      this.expression(p, state, compScope);
    }
  }
}

const firstErrors = new WeakMap<Tree, number | null>();

/** Where the first part the parser could not read starts (null: none), remembered by tree. */
export function firstSyntaxError(tree: Tree): number | null {
  if (knownErrorFree(tree)) return null;
  let found = firstErrors.get(tree);
  if (found === undefined) {
    found = null;
    const cursor = tree.cursor();
    do {
      if (cursor.type.isError) {
        found = cursor.from;
        break;
      }
    } while (cursor.next());
    firstErrors.set(tree, found);
  }
  return found;
}

/** The offset of each line's start; the last code's are kept (a cell's statements share them). */
let lastLineStarts: { readonly code: string; readonly starts: readonly number[] } = {
  code: '',
  starts: [0],
};
function lineStartsOf(code: string): readonly number[] {
  if (lastLineStarts.code !== code) {
    const starts = [0];
    for (let i = code.indexOf('\n'); i !== -1; i = code.indexOf('\n', i + 1)) starts.push(i + 1);
    lastLineStarts = { code, starts };
  }
  return lastLineStarts.starts;
}

/** Convenience: analyse a single piece of code as cell `cell`. */
export function analyzePython(code: string, cell = 0): CodeAnalysis {
  const analyzer = new PythonAnalyzer();
  analyzer.addCell(cell, code);
  return analyzer.result();
}

/**
 * A string literal that names a file: a path with a file extension (`"t.svg"`, `'data/a.csv'`),
 * no spaces or format fields.
 */
const FILE_NAME_LITERAL = /^[rRuUbB]?(['"])[\w./~-]*\w\.[A-Za-z][A-Za-z0-9]{0,5}\1$/;

/** The names a Python snippet reads from the notebook (`eval`/`exec` strings). */
function codeReads(code: string): readonly string[] {
  return analyzePython(code).freeReads.map((r) => r.name);
}

/**
 * Words side by side that no Python expression has (`'hello world'`): most string arguments are
 * prose, told apart without parsing them.
 */
const PROSE =
  /(?:^|[^\w.])(?!(?:and|or|not|in|is|if|else|for|lambda|await)\s)[A-Za-z_]\w*\s+(?!(?:and|or|not|in|is|if|else|for)\b)[A-Za-z_]/;
const expressionReadsByText = new BoundedCache<readonly string[] | null>(4096);

/** The names a one-line Python expression reads; null for text that is not one. */
function expressionReads(code: string): readonly string[] | null {
  if (code.trim() === '' || code.length > 500 || code.includes('\n') || PROSE.test(code))
    return null;
  return expressionReadsByText.get(code, () => {
    const analysis = analyzePython(code);
    if (analysis.syntaxErrors.length > 0 || analysis.writes.length > 0) return null;
    return analysis.freeReads.map((r) => r.name);
  });
}

/**
 * Whether a cell ends in an expression whose value it shows (`df.head()`; not `x;`, where the
 * `;` hides it), as IPython's last-statement rule has it.
 */
function showsValue(top: SyntaxNode, text: (node: SyntaxNode) => string): boolean {
  // A `%%capture` cell keeps its value in the captured output, not in `_`.
  let first: SyntaxNode | null = top.firstChild;
  while (first !== null && first.name === 'Comment') first = first.nextSibling;
  if (first !== null && CAPTURES_DISPLAY.test(text(first))) return false;
  let last: SyntaxNode | null = top.lastChild;
  while (last !== null && last.name === 'Comment') last = last.prevSibling;
  if (last?.name === 'StatementGroup') last = last.lastChild;
  if (last?.name !== 'ExpressionStatement') return false;
  // `print(...)` and `display(...)` give None, which IPython does not keep.
  const call = last.firstChild;
  const callee = call?.name === 'CallExpression' ? call.firstChild : null;
  return !(callee?.name === 'VariableName' && SHOWS_NONE.has(text(callee)));
}
