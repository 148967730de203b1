/**
 * What an analysis of Python code says (`CodeAnalysis`), as plain data: made by the statement
 * walker in analyze-python, read by code-units and the graph's passes.
 */

/** Where a name is used: cell index in the notebook and 1-based line in that cell. */
export interface NameSite {
  readonly name: string;
  readonly cell: number;
  readonly line: number;
}

export interface SyntaxProblem {
  readonly cell: number;
  readonly line: number;
  readonly text: string;
  /** Set when the code parses but is nested too deeply to analyse (and for Python to compile). */
  readonly tooDeep?: string;
}

/** What calling a notebook function does to module-level names (its own calls included). */
export interface DefinitionEffects {
  /** Names its body binds after `global name`. */
  readonly writes: readonly string[];
  /** Names whose objects its body changes in place (`items.append(x)`, `cache[k] = v`). */
  readonly mutations: readonly string[];
  /**
   * Parameters whose objects its body changes in place (`def prep(df): df["y"] = 1`): a call
   * changes what it passes there. `index` is the parameter's position, null when keyword-only.
   */
  readonly mutatedParameters: readonly ParameterRef[];
  /** All its parameters, in order. */
  readonly parameters: readonly ParameterRef[];
  /** A class's methods that change a parameter in place (`def melee(self, agents)`). */
  readonly methods: readonly MethodEffects[];
  /** Module-level names its body stores parameters' objects in (`registry[k].append(obj)`). */
  readonly stores: readonly StoredParameters[];
  /** Its calls of module-level functions that pass its parameters (`inner(df)`, `inner(a[0])`). */
  readonly passes: readonly PassedParameter[];
}

/** A parameter's object passed to a module-level function: `argument.name` is the parameter. */
export interface PassedParameter {
  readonly callee: string;
  readonly argument: CallArgument;
}

/** A module-level name a function keeps some of its parameters' objects in. */
export interface StoredParameters {
  readonly holder: string;
  readonly parameters: readonly ParameterRef[];
}

/**
 * A method that changes a parameter in place, its parameters as a call on an instance passes them
 * (`self` left out): `tour.melee(agents)` changes `agents`.
 */
export interface MethodEffects {
  readonly name: string;
  readonly parameters: readonly ParameterRef[];
  readonly mutatedParameters: readonly ParameterRef[];
}

/** A module-level call of a method of a plain name, `receiver.method(...)`, with names passed. */
export interface MethodCallSite {
  readonly receiver: string;
  readonly method: string;
  readonly cell: number;
  readonly line: number;
  readonly args: readonly CallArgument[];
}

export interface ParameterRef {
  readonly name: string;
  readonly index: number | null;
}

/**
 * A module-level call of a plain name, with the arguments that are names (or hang off one:
 * `f(data["train"])`): a notebook function that changes a parameter in place changes them. Or
 * with string literals that are Python expressions: a notebook function that runs the code it is
 * given (`eval(a)` in its body) reads the names in them (`show('df1', 'pd.concat([df1, df2])')`).
 */
export interface CallSite {
  readonly callee: string;
  readonly cell: number;
  readonly line: number;
  readonly args: readonly CallArgument[];
  /** The names the string-literal arguments' code reads, those not bound before the call. */
  readonly codeStrings: readonly string[];
}

export interface CallArgument {
  /** Position among the positional arguments; null for keyword arguments and after `*args`. */
  readonly index: number | null;
  readonly keyword: string | null;
  /** The name the argument's value hangs off. */
  readonly name: string;
}

export interface CodeAnalysis {
  /** Names read before this code binds them on every path (first read of each), builtins excluded. */
  readonly freeReads: readonly NameSite[];
  /** Module-level names read inside function bodies (when called), that this code never binds. */
  readonly deferredReads: readonly NameSite[];
  /**
   * Names of `freeReads` first read in an annotation (`def f(x: Node)`, `y: Node = ...`): needed
   * as any read, but never missing, since under `from __future__ import annotations` they are not
   * evaluated.
   */
  readonly annotationReads: ReadonlySet<string>;
  /** Names this code binds at module level (first binding of each), including maybe-bindings. */
  readonly writes: readonly NameSite[];
  /**
   * Among `writes`, the names bound on some paths only (`if c: x = 1`, a `for` loop's target):
   * where the code does not bind one, the value from before stays.
   */
  readonly maybeWrites: ReadonlySet<string>;
  /**
   * The cells that end in an expression whose value they show (`df.head()`): IPython keeps the
   * last three such values that are not None in `_`, `__` and `___`.
   */
  readonly shownValues: readonly number[];
  /** Names whose value this code changes in place (`x.fit()`, `x[i] = v`, `x.a = v`, `x[i] += v`). */
  readonly mutations: readonly NameSite[];
  /**
   * Names `plot` or `hist` is called on (`ax.plot(x)`): changed in place when they are axes, that
   * is when a cell binds them from a figure maker (`figures`), not when they are frames.
   */
  readonly drawnOn: readonly NameSite[];
  /** Module-level names bound from a figure or axes maker (`fig, ax = plt.subplots()`), or looping over one. */
  readonly figures: readonly string[];
  /**
   * Names read by key at module level (`counts[word]`, `tree[a][b]`): changed in place when they
   * are a `defaultdict`, that is when a cell binds them from one (`autoKeyed`), since reading a
   * missing key there adds it.
   */
  readonly keyedReads: readonly NameSite[];
  /** Module-level names bound from a `defaultdict(...)` call. */
  readonly autoKeyed: readonly string[];
  /** Module-level names bound from a call of a plain name (`reg = Registry()`), with that name. */
  readonly madeBy: readonly { readonly name: string; readonly maker: string }[];
  /**
   * For each top-level class, the names its body binds (`items = []`) that its methods never set
   * on `self`: every instance shares them, through the class.
   */
  readonly sharedAttributes: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Module-level changes to what an attribute holds (`reg.items.append(x)`, `c.opts["lr"] = v`):
   * a change to the class when the name holds an instance whose class shares that attribute.
   */
  readonly attributeChanges: readonly (NameSite & { readonly attribute: string })[];
  /**
   * Names read before being bound only inside `try` bodies whose handlers catch NameError
   * (`try: model` / `except NameError: model = train()`, `__file__`): a notebook's test of
   * whether a name is defined, not a use that needs it.
   */
  readonly probedNames: ReadonlySet<string>;
  /**
   * Where module-level code first binds names computed as it runs (`globals()[f"v{i}"] = i`,
   * `exec(code)`, `globals().update(d)`), or null: later reads of names nothing else binds are
   * taken to be these.
   */
  readonly dynamicBindings: NameSite | null;
  /**
   * Names whose every module-level binding here is an augmented assignment (`a += 1`): the same
   * object changed in place when it is mutable, so what shares it keeps sharing it.
   */
  readonly updatedInPlace: readonly string[];
  /**
   * Names in model formulas passed to module-level calls (`ols("y ~ np.log(x)", data=df)`), not
   * bound before the call: mostly the data's columns, so a step needs only those the notebook
   * binds.
   */
  readonly formulaReads: readonly NameSite[];
  /**
   * For a name bound to a value whose statement holds a model formula (`formula = "y ~ f(x)"`,
   * `res = ols("y ~ np.log(x)", ...).fit()`), the formula's names: a statsmodels model evaluates
   * its formula again when it loads and predicts, so a step loading it needs those the notebook binds.
   */
  readonly formulaNames: ReadonlyMap<string, readonly string[]>;
  /** Names deleted with `del name` and not bound again afterwards. */
  readonly deletes: readonly NameSite[];
  /**
   * Top-level functions and classes, with the module-level names their bodies read, and their
   * effects when called: module-level names their bodies rebind (`global n`) or change in place.
   */
  readonly definitions: ReadonlyMap<
    string,
    {
      readonly site: NameSite;
      readonly globals: readonly string[];
      readonly effects: DefinitionEffects;
    }
  >;
  readonly starImports: readonly NameSite[];
  /** Names bound by import statements. */
  readonly imports: readonly NameSite[];
  /**
   * Where each module-level name is bound last (cell and offset in that cell's code): tells
   * whether a name leaves the code as an import or definition, or as a value.
   */
  readonly lastBindings: ReadonlyMap<string, { readonly cell: number; readonly offset: number }>;
  /** Builtin names read at module level or by function bodies (a notebook may shadow them). */
  readonly builtinReads: readonly NameSite[];
  /** True when the code calls something other than a builtin (a library, a method, a function). */
  readonly callsNonBuiltin: boolean;
  /**
   * Pairs of module-level names whose values may share objects (`b = a`, `sub = x[:1]`,
   * `data = [x]`, `for d in data`, `xs.append(x)`, `a, b = f()`).
   */
  readonly aliases: readonly (readonly [string, string])[];
  /**
   * Module-level names last bound to a value that cannot cross a step, as its origin shows: a
   * generator expression, `open(...)`, a connection, a lock (see `UNSAVABLE_ORIGINS`).
   */
  readonly unsavable: ReadonlyMap<string, NameSite & { readonly what: string }>;
  /**
   * Module-level names last bound to a value that crosses steps as its file, opened again in the
   * loading step (`f = open(...)`, `mm = np.memmap(...)`, see `FILE_BACKED`).
   */
  readonly fileBacked: ReadonlySet<string>;
  /**
   * Names whose value holds functions made in its statement (`cfg = {"f": lambda c: np.log(c)}`):
   * the module-level names those functions read when called, which a step loading it needs.
   */
  readonly carriedReads: ReadonlyMap<string, readonly string[]>;
  /**
   * The names whose objects a value may hold, from the statements that bind it or store into it
   * (`acc = Acc()`, `models["a"] = make_model()`): the notebook classes and functions it may hold.
   */
  readonly valueReads: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * The names passed bare to the calls that make a value (`by_year = df.groupby(get_year)`): the
   * result may keep them, so a step loading it needs those that are notebook functions defined.
   */
  readonly passedReads: ReadonlyMap<string, ReadonlySet<string>>;
  readonly syntaxErrors: readonly SyntaxProblem[];
  /** Module-level calls of plain names with name or code-string arguments, in order (see `CallSite`). */
  readonly calls: readonly CallSite[];
  /** Module-level method calls of plain names with names passed, in order. */
  readonly methodCalls: readonly MethodCallSite[];
  /**
   * Whether the code (function bodies included) may read or write files or run shell commands,
   * by the calls it makes (`pd.read_csv`, `fig.savefig`, `open(p, "w")`, `!ls`): steps that touch
   * files keep the notebook's order with the steps above them that write files.
   */
  readonly fileAccess: FileAccess;
}

export interface FileAccess {
  readonly reads: boolean;
  readonly writes: boolean;
}

/** Whether an argument lands on one of `mutated` among a function's `parameters`. */
export function passedTo(
  argument: CallArgument,
  parameters: readonly ParameterRef[],
  mutated: ReadonlySet<string> | readonly ParameterRef[],
): boolean {
  const target =
    argument.keyword !== null
      ? parameters.find((p) => p.name === argument.keyword)
      : argument.index !== null
        ? parameters.find((p) => p.index === argument.index)
        : undefined;
  if (target === undefined) return false;
  return mutated instanceof Set
    ? mutated.has(target.name)
    : (mutated as readonly ParameterRef[]).some((p) => p.name === target.name);
}
