/**
 * Pass 5: resolve every name each step reads to the nearest earlier producer, in notebook order:
 * which values the steps load and save, which code units they run again, and what they change.
 *
 * The contract: running the pipeline gives the results of running the notebook top to bottom.
 * - A value (a name bound by any other statement) is loaded from the nearest earlier step that
 *   binds it or changes it in place, and that step saves it.
 * - Code is never a value: a name bound by an import, a function/class/lambda definition, is
 *   looked up the same way, and the step runs that statement again (a `unit`), with what it needs
 *   when it runs; a function's body names are resolved at the step that calls it, as Jupyter
 *   looks them up at call time. Definitions a loaded value may refer to (an instance of a
 *   notebook class) can run on demand.
 * - What a step changes on a notebook class or function (`Tracker.log(1)`, `Config.debug = True`
 *   in a function, a method through `cls` or `type(self)`) is a value: the definition runs again
 *   where it is used, and its attributes load onto it from the step that changed it last.
 * - Configuration calls on imported modules (`warnings.filterwarnings`, `pd.set_option`, ...)
 *   hold in every later step, which runs them again.
 * - Once the notebook seeds a global random generator, its state flows like a value
 *   (`random-state`) through the steps that call code, in notebook order.
 * - `imports`/`functions` cells' code is there in every step; their other statements run once.
 * - Parameters become pipeline inputs.
 */
import type { Diagnostic } from '../diagnostics.js';
import { analyzeCells } from '../python/analyze-cells.js';
import {
  passedTo,
  type CodeAnalysis,
  type NameSite,
  type ParameterRef,
} from '../python/analyze-python.js';
import { makesCsvWrapper } from '../python/call-kinds.js';
import { PYTHON_BUILTINS } from '../python/builtins.js';
import { globalLookupPatterns } from '../python/global-lookups.js';
import type { CellTags } from '../tags/cell-tags.js';
import type { AnalyzedBlocks, UnitRef } from './analyze-blocks.js';
import {
  continuedStepChangesValueDiagnostic,
  continuedStepReadsChangedValueDiagnostic,
  deletedNameDiagnostic,
  functionUsesUndefinedNameDiagnostic,
  skippedNameDiagnostic,
  undefinedNameDiagnostic,
  untaggedCellDiagnostic,
} from './data-flow-diagnostics.js';
import type { PipelineMetric, PipelineParameter } from './pipeline-graph.js';
import type { Prelude } from './read-prelude.js';
import type { Block, Segment } from './read-blocks.js';
import { SharingGroups } from './sharing-groups.js';
import { mergeTags } from './step-tags.js';

/** The pseudo-variable that carries the global random generators' state between steps. */
export const RANDOM_STATE_VARIABLE = 'random-state';
const RANDOM_STATE = RANDOM_STATE_VARIABLE;
/** The step runtime's name in step code, where IPython's syntax calls it. */
const RUNTIME = '__cellflow__';

/** A code unit a step runs again, before its cells (eager) or when a loaded value needs it. */
export interface ResolvedUnit {
  readonly ref: UnitRef;
  readonly eager: boolean;
  /** Positions, in the step's list of units, of the units it needs when it runs. */
  readonly needs: readonly number[];
  /** Values of other steps it needs when it runs (the step loads them). */
  readonly inputs: readonly string[];
}

/** A step with what it loads, saves and runs again, before `prev:` tags and files order it. */
export interface ResolvedStep {
  readonly block: Block;
  readonly name: string;
  readonly tags: CellTags;
  /** The cells the step runs, in notebook order (prelude cells whose statements run here too). */
  readonly cells: readonly number[];
  /** Analysis of the step's cells. */
  readonly analysis: CodeAnalysis;
  /** Names the step binds, or that functions it calls bind. */
  readonly written: ReadonlySet<string>;
  /** The steps it loads values from, in the order it first loads from each. */
  readonly loadsFrom: ReadonlySet<string>;
  /** Each value it loads, and the step it loads it from. */
  readonly inputs: ReadonlyMap<string, string>;
  readonly parameters: ReadonlySet<string>;
  /** Each value it saves for later steps (and models it serves), and the cell that makes it. */
  readonly outputs: ReadonlyMap<string, number>;
  /** Groups of its outputs that may share objects (saved together). */
  readonly shared: readonly (readonly string[])[];
  /**
   * Its outputs that are what it changed on a notebook class or function, or a generator it went
   * through: a step that loads one runs the definition again and loads them onto it.
   */
  readonly stateOutputs: ReadonlySet<string>;
  readonly metrics: readonly string[];
  /** Code units it runs again, in notebook order. */
  readonly units: readonly ResolvedUnit[];
}

export interface DataFlowInput {
  readonly blocks: AnalyzedBlocks;
  readonly prelude: Prelude;
  readonly parameters: readonly PipelineParameter[];
  readonly metrics: readonly PipelineMetric[];
  /** The notebook's step defaults, under every step's own tags. */
  readonly stepDefaults: CellTags;
}

export interface DataFlow {
  readonly steps: readonly ResolvedStep[];
  readonly diagnostics: readonly Diagnostic[];
  /** Names steps use that only a cell out of the pipeline (skipped or untagged) defines. */
  readonly skippedReads: readonly SkippedRead[];
}

/** A step's use of a name only a cell out of the pipeline defines. */
export interface SkippedRead {
  readonly step: string;
  readonly name: string;
  /** The cell that defines it. */
  readonly cell: number;
}

/** Values of earlier steps by name (see `Source`'s `carried`). */
type Carried = ReadonlyMap<string, StepSource>;

type Source =
  | { readonly kind: 'code'; readonly ref: UnitRef }
  | { readonly kind: 'parameter' }
  | {
      readonly kind: 'step';
      readonly step: StepDraft;
      readonly cell: number;
      /**
       * Values of earlier steps, by name, that this one is made from without the step using
       * them: should a later step use it, the step loads them from there and saves it. The step
       * may have changed the value through a name sharing its objects, bound it on some paths
       * only (`if c: x = 1`), or shown a value (`__` is `_` from before, or `__` if none).
       */
      readonly carried?: Carried;
      /**
       * A notebook class or function (`class Tracker`, `def ping`) the step changed: the value is
       * what it holds (class and function attributes), and a step that uses it runs this
       * definition again and loads the changes onto it.
       */
      readonly definition?: UnitRef;
    }
  | { readonly kind: 'deleted'; readonly step: StepDraft; readonly cell: number }
  | { readonly kind: 'skipped'; readonly cell: number };

interface StepUnitDraft {
  readonly ref: UnitRef;
  eager: boolean;
  readonly needs: Set<number>;
  readonly inputs: Set<string>;
}

interface StepDraft {
  readonly block: Block;
  readonly name: string;
  /** Analysis of the cells seen so far (a step continued later has several segments). */
  analysis: CodeAnalysis;
  /** Names the step binds anywhere (for quick look-ups). */
  readonly written: Set<string>;
  /** An `import *` is visible: names it may define are not reported as undefined. */
  starVisible: boolean;
  readonly tags: CellTags;
  /** The steps it loads values from. */
  readonly loadsFrom: Set<string>;
  readonly inputs: Map<string, string>;
  readonly parameters: Set<string>;
  readonly outputs: Map<string, number>;
  readonly stateOutputs: Set<string>;
  readonly metrics: string[];
  /** Units run again, by unit id. */
  readonly units: Map<number, StepUnitDraft>;
  /** The cells the step runs, in notebook order. */
  readonly cells: number[];
  /** The value (`name#n`) of each name the step binds or changes, for its shared outputs. */
  readonly versions: Map<string, string>;
  /** `value>name` pairs of names carried by loaded values, already resolved. */
  readonly carriedDone: Set<string>;
  /** Names that functions the step may call rebind or change, not yet taken over by the step. */
  readonly callEffects: Set<string>;
  /**
   * Those of `callEffects` that the functions bind (`global n`), not only change, each with the
   * functions that bind it.
   */
  readonly callWrites: Map<string, Set<string>>;
}

export function resolveDataFlow(input: DataFlowInput): DataFlow {
  return new DataFlowResolver(input).run();
}

/** A code unit or a value's read, resolved where a segment is in the notebook. */
interface SegmentRead {
  readonly site: NameSite;
  /** A function body's name, looked up when it is called. */
  readonly deferred: boolean;
}

/**
 * The resolution's state as it walks the notebook's segments in order. Its steps are methods
 * (each small enough to compile on its own) rather than closures in one function: the engine
 * recompiled that function whole whenever one of its parts met a new kind of object.
 */
class DataFlowResolver {
  private readonly input: DataFlowInput;
  private readonly unitsOfCell: ReadonlyMap<number, readonly UnitRef[]>;
  private readonly preludeCells: readonly number[];
  private readonly globalUnits: ReadonlyMap<string, UnitRef>;
  /**
   * Of the imports and functions cells' units, the last above the segment now resolved that binds
   * each name: a step below a cell that defines a name again gets that one, as in the notebook (a
   * step above every such cell gets the last, as Kale runs them all in every step).
   */
  private readonly globalAbove = new Map<string, UnitRef>();
  /** What prelude cells run once, for steps before it runs (see `Prelude.restUnits`). */
  private readonly restUnits: ReadonlyMap<string, UnitRef>;
  private readonly globalConfig: readonly UnitRef[];
  private readonly hostCells: ReadonlyMap<Block, readonly number[]>;
  private readonly code: ReadonlyMap<number, string>;
  private readonly plain = (cell: number): string => this.code.get(cell) ?? '';
  private readonly diagnostics: Diagnostic[] = [];
  private readonly skippedReads: SkippedRead[] = [];
  /** An `import *` seen so far: names it may define are not reported as undefined. */
  private starSoFar: boolean;
  private readonly drafts: StepDraft[] = [];
  private readonly draftOf = new Map<Block, StepDraft>();
  private readonly current = new Map<string, Source>();
  /** Step cells' configuration, seed and `import *` units seen so far, in notebook order. */
  private readonly stepConfig: { ref: UnitRef; step: StepDraft }[] = [];
  private seeded = false;
  private readonly laterDefinitions = new Map<string, { step: string; cell: number }>();
  private readonly everBound: Set<string>;
  private readonly reportedUnbound = new Set<string>();
  private readonly sharing = new SharingGroups();
  /** Whether the notebook has bound `_`, `__` or `___` itself (see `leaveShownValues`). */
  private historyTaken = false;
  /** How many times each name has been bound: `name#n` is its n-th value, in sharing groups. */
  private readonly versions = new Map<string, number>();
  /** Each name's current `name#n`, made when first asked for after the name is bound. */
  private readonly versionKeys = new Map<string, string>();
  /** The name of every `name#n` made, for reading the names back out of sharing groups. */
  private readonly nameOfVersion = new Map<string, string>();
  /** For each value, the names its binding and storing statements read so far (any step). */
  private readonly valueReads = new ReadsByValue();
  private readonly passedReads = new ReadsByValue();
  private readonly warnedContinued = new Set<string>();
  /** The notebook's functions and classes that run code they are given as strings. */
  private readonly evaluators = new Set<string>();
  /** The latest step that binds names computed as it runs (`globals()[f"v{i}"] = i`). */
  private dynamicWriter: StepSource | undefined;
  /** For each name, the notebook's class and function statements that read it when they run. */
  private readers: Map<string, UnitRef[]> | undefined;
  /** Names some cell binds to figures or axes: `plot` and `hist` on them draw (change them). */
  private readonly figureNames = new Set<string>();
  /** Names some cell binds to a `defaultdict`: reading a missing key adds it (changes them). */
  private readonly autoKeyedNames = new Set<string>();
  /** For each name, the plain names some cell calls to make its value (`reg = Registry()`). */
  private readonly makers = new Map<string, Set<string>>();
  /** For each notebook class, the attributes its instances share through it (`items = []`). */
  private readonly sharedAttributes = new Map<string, ReadonlySet<string>>();
  /** Whether `sharedAttributes` has the `functions` cells' classes yet (read when first needed). */
  private preludeShared = false;
  /** What names a unit binds on some paths only were before it, by unit id (see `leaveBindings`). */
  private readonly priorBindings = new Map<number, [string, Source][]>();
  /**
   * The notebook functions and classes each name was bound to before a step bound it again or
   * deleted it (`greet = hello` then `del hello`): a value made before may hold them.
   */
  private readonly formerDefinitions = new Map<string, UnitRef[]>();
  /**
   * Names a segment's calls of notebook functions from other cells made share objects (a call
   * keeps what it is given in a module-level name, see `CodeUnit.stores`), until `newValues`.
   */
  private readonly callAliases: [string, string][] = [];
  /** The loads under way (`loadInput`), by step, name and source step. */
  private readonly loading = new Set<string>();

  constructor(input: DataFlowInput) {
    this.input = input;
    this.unitsOfCell = input.blocks.units;
    this.preludeCells = input.prelude.cells;
    this.globalUnits = input.prelude.units;
    this.restUnits = input.prelude.restUnits;
    this.globalConfig = input.prelude.config;
    this.hostCells = input.prelude.hostCells;
    this.code = input.prelude.code;
    this.starSoFar = input.prelude.starImport;
    for (const refs of this.unitsOfCell.values())
      for (const r of refs)
        if (r.unit.evaluatesStrings) for (const n of r.unit.names) this.evaluators.add(n);
    this.everBound = new Set<string>([
      ...this.globalUnits.keys(),
      ...input.parameters.map((p) => p.name),
    ]);
    // A name only a function binds (`global scale` in `def execute()`) is bound once it is called.
    for (const refs of this.unitsOfCell.values())
      for (const r of refs) for (const n of r.unit.callWrites) this.everBound.add(n);
    for (const b of input.blocks.blocks) {
      if (b.kind !== 'step') continue;
      const analysis = analyzeCells(b.cells, this.plain);
      for (const f of analysis.figures) this.figureNames.add(f);
      for (const k of analysis.autoKeyed) this.autoKeyedNames.add(k);
      for (const { name, maker } of analysis.madeBy) {
        const makers = this.makers.get(name) ?? new Set<string>();
        this.makers.set(name, makers.add(maker));
      }
      for (const [cls, shared] of analysis.sharedAttributes) this.sharedAttributes.set(cls, shared);
      for (const w of analysis.writes) {
        this.everBound.add(w.name);
        if (!this.laterDefinitions.has(w.name))
          this.laterDefinitions.set(w.name, { step: b.name, cell: w.cell });
      }
    }
  }

  run(): DataFlow {
    for (const segment of this.input.blocks.segments) this.segment(segment);
    const { drafts } = this;
    // A model to serve is saved even when no later step loads it.
    for (const d of drafts)
      for (const v of d.tags.serve)
        if ((d.written.has(v) || d.inputs.has(v)) && !d.outputs.has(v))
          d.outputs.set(v, d.cells[d.cells.length - 1]!);
    const steps = drafts.map((d): ResolvedStep => {
      const outputs = [...d.outputs.keys()].sort();
      return {
        block: d.block,
        name: d.name,
        tags: d.tags,
        cells: d.cells,
        analysis: d.analysis,
        written: d.written,
        loadsFrom: d.loadsFrom,
        inputs: d.inputs,
        parameters: d.parameters,
        outputs: d.outputs,
        shared: this.sharing
          .partition(outputs.map((o) => d.versions.get(o) ?? o))
          .map((g) => g.map((k) => k.slice(0, k.lastIndexOf('#')))),
        stateOutputs: d.stateOutputs,
        metrics: d.metrics,
        units: resolvedUnits(d),
      };
    });
    return { steps, diagnostics: this.diagnostics, skippedReads: this.skippedReads };
  }

  private segment(segment: Segment): void {
    const block = segment.block;
    switch (block.kind) {
      case 'imports':
      case 'functions':
        // What its units define is there in every step; below it, it is what the names hold,
        // over what a step above bound (a step's `class LinearMap` redefined by a later
        // `functions` cell).
        for (const cell of segment.cells)
          for (const ref of this.unitsOfCell.get(cell) ?? []) {
            if (ref.unit.kind === 'seed' || ref.ambient) continue;
            for (const name of ref.unit.names) {
              if (this.current.has(name)) {
                this.noteFormerDefinition(name);
                this.current.delete(name);
              }
              this.globalAbove.set(name, ref);
            }
          }
        return;
      case 'parameters':
        for (const p of this.input.parameters)
          if (segment.cells.includes(p.cell)) this.current.set(p.name, PARAMETER);
        return;
      case 'skip':
      case 'untagged': {
        const analysis = analyzeCells(segment.cells, this.plain);
        for (const w of analysis.writes)
          this.current.set(w.name, { kind: 'skipped', cell: w.cell });
        if (block.kind === 'untagged' && segment.cells[0] === block.cells[0])
          this.diagnostics.push(untaggedCellDiagnostic(block.cells[0]!, analysis));
        return;
      }
      case 'metrics': {
        for (const m of this.input.metrics) {
          if (!segment.cells.includes(m.cell)) continue;
          const host = this.drafts.find((d) => d.name === m.step)!;
          this.need(
            host,
            { name: m.variable, cell: m.cell, line: m.line },
            true,
            'reports the metric',
          );
          host.metrics.push(m.name);
          // Its prints show what they show in the notebook: the step that reports the metrics
          // runs the cell too, after its own.
          if (!host.cells.includes(m.cell)) host.cells.push(m.cell);
        }
        return;
      }
      case 'step': {
        let draft = this.draftOf.get(block);
        if (draft === undefined) {
          draft = this.newDraft(block);
          this.draftOf.set(block, draft);
          this.drafts.push(draft);
        }
        this.stepSegment(draft, segment.cells);
        return;
      }
    }
  }

  /** The nearest producer; the imports and functions cells' code is there in every step. */
  private resolve(name: string): Source | undefined {
    const source = this.current.get(name);
    const global = this.globalAbove.get(name) ?? this.globalUnits.get(name);
    if (global !== undefined && (source === undefined || source.kind === 'skipped'))
      return { kind: 'code', ref: global };
    return source;
  }

  private undefinedName(draft: StepDraft, site: NameSite, what: string): void {
    this.diagnostics.push(
      undefinedNameDiagnostic(draft.name, site, what, this.laterDefinitions.get(site.name)),
    );
  }

  /**
   * The values of earlier steps that the current value of `name` is, or is made from, as seen
   * from `draft` (which may have taken it over already): empty when it is code or none.
   */
  private before(draft: StepDraft, name: string): Carried | undefined {
    const s = this.current.get(name);
    if (s?.kind !== 'step' || s.definition !== undefined) return undefined;
    return s.step === draft ? s.carried : new Map([[name, s]]);
  }

  /** Loads a value produced by an earlier step into `draft`. */
  private loadFrom(draft: StepDraft, name: string, source: StepSource): void {
    if (source.carried !== undefined)
      for (const [n, from] of source.carried) this.loadFrom(source.step, n, from);
    if (source.definition !== undefined && source.step !== draft)
      source.step.stateOutputs.add(name);
    this.loadInput(draft, name, source.step, source.cell);
  }

  private loadInput(draft: StepDraft, name: string, source: StepDraft, cell: number): void {
    if (source === draft) return;
    draft.inputs.set(name, source.name);
    draft.loadsFrom.add(source.name);
    source.outputs.set(name, cell);
    // What the value needs may come back to it (a loop's name shares with a value made by passing
    // a former function that reads that name): the load under way covers it.
    const key = `${draft.name}\0${name}\0${source.name}`;
    if (this.loading.has(key)) return;
    this.loading.add(key);
    try {
      this.loadHeld(draft, name, cell);
    } finally {
      this.loading.delete(key);
    }
  }

  /** What `loadInput` needs along with a value: see there. */
  private loadHeld(draft: StepDraft, name: string, cell: number): void {
    // The value may hold instances of notebook classes or notebook functions (`acc = Acc()`,
    // `FunctionTransformer(func=f)`): their definitions can run on demand while it loads.
    // Through the values it was made from too (`models = [svc]`, `svc = MySVC()`), and those of
    // the values saved with it, which load with it (`m = Model(C=C)`: loading `C` loads `m`).
    const pending = [name, ...this.sharingNow(name).filter((n) => n !== name)];
    const seen = new Set(pending);
    // The values among these that were made with a model formula (see `needFormulaNames`).
    const fitted = new Set<string>();
    // And the notebook functions passed to the calls that made them (`df.groupby(get_year)`).
    for (let v = pending.pop(); v !== undefined; v = pending.pop()) {
      fitted.add(v);
      const passed = this.passedReads.get(v);
      if (passed !== undefined)
        for (const read of passed) {
          if (!seen.has(read)) this.needFormerDefinitions(draft, read, cell);
          const s = seen.has(read) ? undefined : this.resolve(read);
          if (s?.kind === 'code' && s.ref.unit.kind === 'definition')
            this.includeHeld(draft, s.ref, cell);
          else if (s?.kind === 'step' && s.definition !== undefined)
            this.needChanged(draft, read, cell);
          else if (s?.kind === 'step') {
            fitted.add(read);
            this.needCarried(draft, read, s, { cell, line: 1 });
          }
        }
      const reads = this.valueReads.get(v);
      if (reads === undefined) continue;
      for (const read of reads) {
        if (seen.has(read)) continue;
        seen.add(read);
        this.needFormerDefinitions(draft, read, cell);
        const s = this.resolve(read);
        if (s?.kind === 'code' && s.ref.unit.kind === 'definition')
          this.includeHeld(draft, s.ref, cell);
        else if (s?.kind === 'step' && s.definition !== undefined)
          this.needChanged(draft, read, cell);
        else if (s?.kind === 'step') {
          // The value may hold its functions too (`make_pipeline(ft)`, `ft` keeping a lambda).
          this.needCarried(draft, read, s, { cell, line: 1 });
          pending.push(read);
        }
      }
    }
    for (const v of fitted) this.needFormulaNames(draft, v, cell);
  }

  /**
   * A definition a loaded value holds (an instance's class, a function passed to the call that
   * made it) runs on demand; the step may call it through the value (`job.run()`), so the values
   * its body uses load too, and what it changes is the step's to leave. A function that cannot
   * run on demand (its defaults are values of other steps) still made the value: the classes its
   * body uses, and those of the functions it calls, may be what the value holds
   * (`stock = normal(1)` returning a `ProbDist`).
   */
  private includeHeld(
    draft: StepDraft,
    ref: UnitRef,
    cell: number,
    seen: Set<number> = new Set([ref.id]),
  ): void {
    if (this.includeUnit(draft, ref, false) === null) {
      // Its definition's reads too: `def normal(...) -> ProbDist` reads the class there.
      for (const name of [...ref.unit.reads, ...ref.unit.callReads]) {
        const s = this.resolve(name);
        if (s?.kind !== 'code' || s.ref.unit.kind !== 'definition' || seen.has(s.ref.id)) continue;
        seen.add(s.ref.id);
        this.includeHeld(draft, s.ref, cell, seen);
      }
      return;
    }
    for (const name of ref.unit.callReads) {
      const s = this.resolve(name);
      if ((s?.kind === 'step' || s?.kind === 'parameter') && !draft.inputs.has(name))
        this.need(draft, { name, cell, line: 1 }, true, null);
      // A function it made (`wrap(f)` returning `lambda X: np.array(f(*X))`) loads by its code and
      // finds the modules its body uses when called, after the load: they are imported up front.
      else if (s?.kind === 'code' && s.ref.unit.kind === 'import')
        this.includeUnit(draft, s.ref, true);
      // What its methods make may be in the value too (`Deck` making `Card`s a hand then holds).
      else if (s?.kind === 'code' && s.ref.unit.holdsState && !seen.has(s.ref.id)) {
        seen.add(s.ref.id);
        this.includeHeld(draft, s.ref, cell, seen);
      }
    }
    takeEffectsOf(draft, ref.unit);
  }

  /**
   * A loaded value made with a notebook class or function that steps changed (`c = Counter()`
   * where `__init__` counts in `Counter.made`): the class comes with its changes, as it is now.
   */
  private needChanged(draft: StepDraft, name: string, cell: number): void {
    if (!draft.inputs.has(name)) this.need(draft, { name, cell, line: 1 }, true, null);
  }

  /**
   * A value made with a model formula evaluates it again as it loads and predicts (statsmodels):
   * the formula's names that the notebook binds are there before the value loads.
   */
  private needFormulaNames(draft: StepDraft, value: string, cell: number): void {
    const s = this.current.get(value);
    const names = s?.kind === 'step' ? s.step.analysis.formulaNames.get(value) : undefined;
    if (names === undefined) return;
    for (const name of names)
      if (!draft.inputs.has(name) && this.resolve(name) !== undefined)
        this.need(draft, { name, cell, line: 1 }, true, null);
  }

  /**
   * Makes `draft` run a unit again. Eager units run before the step's cells; the others only when
   * a loaded value refers to them. The values of other steps a unit reads as it runs
   * (`class Puzzle: size = N`, `def f(x=N)`) are the step's inputs, loaded before it runs.
   */
  private includeUnit(draft: StepDraft, ref: UnitRef, eager: boolean): StepUnitDraft | null {
    const existing = draft.units.get(ref.id);
    if (existing !== undefined && (existing.eager || !eager)) return existing;
    if (!eager && !this.replayableAlone(ref, new Set())) return null;
    const entry: StepUnitDraft = existing ?? { ref, eager, needs: new Set(), inputs: new Set() };
    entry.eager = eager;
    draft.units.set(ref.id, entry);
    const { unit } = ref;
    const priorCode = new Set<string>();
    for (const [name, prior] of this.priorBindings.get(ref.id) ?? []) {
      if (prior.kind === 'code') {
        if (this.includeUnit(draft, prior.ref, eager) !== null) entry.needs.add(prior.ref.id);
        priorCode.add(name);
      } else if (prior.kind === 'step' && eager && prior.step !== draft) {
        this.loadFrom(draft, name, prior);
        entry.inputs.add(name);
      }
    }
    for (const name of unit.reads) {
      // What it binds again from what the name was (`f = lru_cache(None)(f)`) reads that, above,
      // not what the name is now (which may be this very unit's changed state).
      if (priorCode.has(name)) continue;
      const site = { name, cell: unit.cell, line: unit.line };
      const s = eager ? undefined : this.resolve(name);
      const loads = eager || (s?.kind === 'step' && s.definition === undefined);
      const what = unit.annotationReads.includes(name) ? null : 'runs code that uses';
      const needed = this.need(draft, site, loads, what);
      if (needed === null) continue;
      if (needed.kind === 'code') entry.needs.add(needed.ref.id);
      else entry.inputs.add(name);
    }
    // A function's body reads names when it is called: as Jupyter would, at the step's time.
    // The code among them runs with the definition (which may run on demand).
    // Values among them load before it runs: a definition may call it as it runs (a decorator,
    // `@reg class A` with `reg` appending to `registry`).
    // So does what it looks up through `globals()` (`globals()[f"in{day}"]`), bound so far.
    for (const name of [...unit.callReads, ...this.lookedUp(unit.globalLookups)]) {
      const needed = this.need(draft, { name, cell: unit.cell, line: unit.line }, eager, null);
      if (needed?.kind === 'code') entry.needs.add(needed.ref.id);
      else if (needed === INPUT) entry.inputs.add(name);
    }
    if (eager) takeEffectsOf(draft, unit);
    // What earlier steps changed on a notebook class or function after defining it
    // (`Counter.count += 1`, `Model.predict = predict`) holds wherever it is defined again: the
    // step loads it with the changes, or, run on demand, runs them again.
    if (unit.kind === 'definition' && !(eager && this.loadsChanges(ref)))
      for (const change of this.changesOf(ref, draft)) this.includeUnit(draft, change, eager);
    return entry;
  }

  /** The names bound so far that match one of `patterns` (see `CodeUnit.globalLookups`). */
  private lookedUp(patterns: readonly string[]): string[] {
    if (patterns.length === 0) return [];
    const tests = patterns.map((p) => new RegExp(p));
    const names = new Set([...this.current.keys(), ...this.globalUnits.keys()]);
    return [...names].filter((n) => tests.some((t) => t.test(n))).sort();
  }

  /** The classes and functions defined so far, and not since replaced, that read `name`. */
  private definitionsReading(name: string): UnitRef[] {
    if (this.readers === undefined) {
      this.readers = new Map();
      for (const refs of this.unitsOfCell.values())
        for (const r of refs) {
          if (!r.unit.holdsState) continue;
          for (const read of r.unit.reads) {
            const list = this.readers.get(read);
            if (list === undefined) this.readers.set(read, [r]);
            else list.push(r);
          }
        }
    }
    const found: UnitRef[] = [];
    for (const r of this.readers.get(name) ?? [])
      if (r.unit.names.every((n) => stateOf(this.resolve(n)) === r)) found.push(r);
    return found;
  }

  /** Whether what steps changed on a definition is now a value (see `Source`). */
  private loadsChanges(ref: UnitRef): boolean {
    return ref.unit.names.some((n) => {
      const s = this.current.get(n);
      return s?.kind === 'step' && s.definition === ref;
    });
  }

  /**
   * The configuration statements on a definition's names (`Counter.count += 1`) after it in the
   * notebook, from cells that run in every step or that earlier steps ran.
   */
  private changesOf(definition: UnitRef, draft: StepDraft): UnitRef[] {
    const changes: UnitRef[] = [];
    for (const r of this.globalConfig) if (changesDefinition(definition, r)) changes.push(r);
    for (const c of this.stepConfig)
      if (c.step !== draft && changesDefinition(definition, c.ref)) changes.push(c.ref);
    return changes;
  }

  /** True when what a unit needs when it runs is defined: code, or values of other steps. */
  private replayableAlone(ref: UnitRef, seen: Set<number>): boolean {
    if (seen.has(ref.id)) return true;
    seen.add(ref.id);
    for (const name of ref.unit.reads) {
      const s = this.resolve(name);
      const ok =
        s === undefined || s.kind === 'deleted'
          ? PYTHON_BUILTINS.has(name) ||
            // A name an `import *` above gives (`Union` from `typing`): imports run in every step.
            (s === undefined && this.starSoFar && !this.everBound.has(name))
          : s.kind === 'code'
            ? this.replayableAlone(s.ref, seen)
            : s.kind === 'parameter' ||
              (s.kind === 'step' &&
                (s.definition === undefined || this.replayableAlone(s.definition, seen)));
      if (!ok) return false;
    }
    return true;
  }

  /**
   * Resolves a name `draft` needs. `what` says how a missing name is reported; null: a function
   * body's name, looked up when the function is called, reported only when nothing defines it.
   */
  private need(
    draft: StepDraft,
    site: NameSite,
    eager: boolean,
    what: string | null,
  ): { kind: 'code'; ref: UnitRef } | { kind: 'input' } | null {
    const source = this.resolve(site.name);
    if (source === undefined) {
      if (PYTHON_BUILTINS.has(site.name) || draft.written.has(site.name)) return null;
      if (draft.starVisible || draft.analysis.dynamicBindings !== null) return null;
      // A name nothing binds by name may be one that code computing names bound.
      if (this.dynamicWriter !== undefined) {
        if (eager) this.loadFrom(draft, site.name, this.dynamicWriter);
        return eager ? INPUT : null;
      }
      // `try: model` / `except NameError: ...` tests whether the name is defined: it is not.
      if (draft.analysis.probedNames.has(site.name)) return null;
      // What an `imports`/`functions` cell runs once has not run yet: Kale runs the whole cell at
      // the start of every step, and so does this step.
      // (Unless they need what is not there yet either: then the name stays undefined here.)
      const rest = this.restUnits.get(site.name);
      if (
        rest !== undefined &&
        rest.unit.reads.every(
          (r) =>
            PYTHON_BUILTINS.has(r) ||
            draft.written.has(r) ||
            this.restUnits.has(r) ||
            this.resolve(r) !== undefined,
        ) &&
        this.includeUnit(draft, rest, true) !== null
      )
        return { kind: 'code', ref: rest };
      if (what !== null) this.undefinedName(draft, site, what);
      else if (!this.everBound.has(site.name) && !this.reportedUnbound.has(site.name)) {
        this.reportedUnbound.add(site.name);
        this.diagnostics.push(functionUsesUndefinedNameDiagnostic(draft.name, site));
      }
      return null;
    }
    switch (source.kind) {
      case 'code': {
        const own = !source.ref.global && draft.block.cells.includes(source.ref.unit.cell);
        if (!own) this.includeUnit(draft, source.ref, eager);
        return source;
      }
      case 'parameter':
        draft.parameters.add(site.name);
        return null;
      case 'step': {
        const { definition } = source;
        if (definition !== undefined && source.step !== draft) {
          // A notebook class or function earlier steps changed: its definition runs again and
          // the changes load onto it (a definition run on demand has only what it defines).
          const own = !definition.global && draft.block.cells.includes(definition.unit.cell);
          if (!own) this.includeUnit(draft, definition, eager);
          // What a class holds may be its subclasses (`__init_subclass__` keeping them): they
          // can be defined on demand as it loads.
          for (const sub of this.definitionsReading(site.name))
            if (!draft.block.cells.includes(sub.unit.cell)) this.includeUnit(draft, sub, false);
          if (!eager) return { kind: 'code', ref: definition };
        }
        if (!eager) return null;
        this.loadFrom(draft, site.name, source);
        this.needCarried(draft, site.name, source, site);
        return INPUT;
      }
      case 'deleted':
        // `del print` after the notebook bound its own `print`: the builtin is back.
        if (what === null || PYTHON_BUILTINS.has(site.name)) return null;
        this.diagnostics.push(
          deletedNameDiagnostic(draft.name, site, what, {
            step: source.step.name,
            cell: source.cell,
          }),
        );
        return null;
      case 'skipped':
        if (what === null) return null;
        this.skippedReads.push({ step: draft.name, name: site.name, cell: source.cell });
        this.diagnostics.push(skippedNameDiagnostic(draft.name, site, what, source.cell));
        return null;
    }
  }

  /**
   * Functions inside a value a step loads read these names when called (`cfg = {"f": lambda c:
   * np.log(c)}`, see `CodeAnalysis.carriedReads`): the step needs them.
   */
  private needCarried(
    draft: StepDraft,
    name: string,
    source: StepSource,
    { cell, line }: { cell: number; line: number },
  ): void {
    const carried = source.step.analysis.carriedReads.get(name);
    if (carried === undefined) return;
    for (const read of carried) {
      const key = `${name}>${read}`;
      if (draft.carriedDone.has(key)) continue;
      draft.carriedDone.add(key);
      this.need(draft, { name: read, cell, line }, true, null);
    }
  }

  private versionOf(name: string): string {
    let key = this.versionKeys.get(name);
    if (key === undefined) {
      key = `${name}#${this.versions.get(name) ?? 0}`;
      this.versionKeys.set(name, key);
      this.nameOfVersion.set(key, name);
    }
    return key;
  }

  /** Names whose current value may share objects with `name`'s. */
  private sharingNow(name: string): string[] {
    const names: string[] = [];
    for (const k of this.sharing.members(this.versionOf(name))) {
      const n = this.nameOfVersion.get(k)!;
      if (this.versionOf(n) === k) names.push(n);
    }
    return names;
  }

  /**
   * A config or seed unit holds only while its root is still the module it imported (or a name
   * nothing binds after an `import *`, which may have imported it: `init_printing()`).
   */
  private rootIsImport(ref: UnitRef): boolean {
    if (ref.unit.root === null) return false;
    // IPython's magics as runtime calls (`%precision 3`, `%cd data`): the runtime is always there.
    if (ref.unit.root === RUNTIME) return true;
    const s = this.resolve(ref.unit.root);
    // IPython's `get_ipython()` is there in every cell, as a builtin: its settings are process state.
    if (s === undefined && ref.unit.root === 'get_ipython' && !this.everBound.has('get_ipython'))
      return true;
    if (s === undefined) return this.starSoFar && !this.everBound.has(ref.unit.root);
    return s.kind === 'code' && s.ref.unit.kind === 'import';
  }

  /**
   * A seed call in the step's own cells (`own`), on a module imported by then: by an earlier
   * step, or above it in the step (its cell, or an earlier cell of the step).
   */
  private rootIsImportHere(ref: UnitRef, own: readonly number[]): boolean {
    const root = ref.unit.root;
    if (root === null) return false;
    const s = this.resolve(root);
    if (s?.kind === 'code' && s.ref.unit.kind === 'import') return true;
    return own.some(
      (cell) =>
        cell <= ref.unit.cell &&
        (this.unitsOfCell.get(cell) ?? []).some(
          (r) =>
            r.unit.kind === 'import' &&
            r.unit.names.includes(root) &&
            (cell < ref.unit.cell || r.unit.from < ref.unit.from),
        ),
    );
  }

  private newDraft(block: Block): StepDraft {
    const draft: StepDraft = {
      block,
      name: block.name,
      analysis: analyzeCells([], this.plain),
      written: new Set(),
      starVisible: this.starSoFar,
      tags: mergeTags([this.input.stepDefaults, ...block.tags]),
      loadsFrom: new Set(),
      inputs: new Map(),
      parameters: new Set(),
      outputs: new Map(),
      stateOutputs: new Set(),
      metrics: [],
      units: new Map(),
      cells: [],
      carriedDone: new Set(),
      versions: new Map(),
      callEffects: new Set(),
      callWrites: new Map(),
    };
    // Statements of an imports/functions cell that run once in this step are the step's too.
    const ownCells = [...(this.hostCells.get(block) ?? []), ...block.cells].sort((a, b) => a - b);
    for (const w of analyzeCells(ownCells, this.plain).writes) draft.written.add(w.name);
    return draft;
  }

  /** One run of consecutive cells of a step: its reads are resolved where it is in the notebook. */
  private stepSegment(draft: StepDraft, cells: readonly number[]): void {
    const before = draft.analysis;
    const firstSegment = draft.cells.length === 0;
    // An imports/functions cell's statements that run once join the step after it.
    const host = firstSegment ? this.hostCells.get(draft.block) : undefined;
    const own = (host === undefined ? [...cells] : [...host, ...cells]).sort((a, b) => a - b);
    if (!firstSegment) this.warnStaleReads(draft, own, before);
    draft.cells.push(...own);
    const analysis = analyzeCells(draft.cells, this.plain);
    draft.analysis = analysis;
    if (analysis.starImports.length > 0) draft.starVisible = this.starSoFar = true;
    for (const { site, deferred } of this.segmentReads(analysis, before))
      this.need(draft, site, true, deferred ? null : 'uses');
    // What its cells look up through `globals()` by a computed key (see `globalLookupPatterns`).
    for (const cell of cells)
      for (const name of this.lookedUp(globalLookupPatterns(this.plain(cell))))
        this.need(draft, { name, cell, line: 1 }, true, null);
    // A model formula's names that the notebook binds (the others are the data's columns).
    for (const site of newSites(analysis.formulaReads, before.formulaReads))
      if (this.resolve(site.name) !== undefined) this.need(draft, site, true, null);
    this.noteArgumentChanges(draft, analysis, before);
    this.noteClosureCalls(draft, analysis, before);
    this.noteKeptArguments(analysis, before);
    this.needEvaluatedNames(draft, analysis, before);
    const effectSites = this.takeCallEffects(draft, own);
    // Configuration that earlier cells made holds here too; the global random state flows.
    if (firstSegment) this.includeConfigSoFar(draft);
    const ownUnits = this.ownUnitsOf(own);
    const seeds = ownUnits.filter((r) => r.unit.kind === 'seed' && this.rootIsImportHere(r, own));
    if (this.seeded && analysis.callsNonBuiltin && seeds.length === 0) {
      const s = this.current.get(RANDOM_STATE);
      if (s?.kind === 'step') this.loadInput(draft, RANDOM_STATE, s.step, s.cell);
    }
    this.valueReads.merge(analysis.valueReads);
    this.passedReads.merge(analysis.passedReads);
    this.leaveSegment(draft, { own, analysis, before, ownUnits, effectSites, firstSegment });
    if (seeds.length > 0 || (this.seeded && analysis.callsNonBuiltin)) {
      this.seeded = true;
      this.current.set(RANDOM_STATE, stepSource(draft, own[own.length - 1]!, undefined));
    }
  }

  /** The names a segment reads that the step's earlier segments did not. */
  private segmentReads(analysis: CodeAnalysis, before: CodeAnalysis): SegmentRead[] {
    const reads: SegmentRead[] = [];
    for (const site of newSites(analysis.freeReads, before.freeReads))
      reads.push({ site, deferred: analysis.annotationReads.has(site.name) });
    for (const site of newSites(analysis.deferredReads, before.deferredReads))
      reads.push({ site, deferred: true });
    // A builtin name (`display`) that the notebook defines is the notebook's.
    for (const site of newSites(analysis.builtinReads, before.builtinReads))
      if (this.current.has(site.name) || this.globalUnits.has(site.name))
        reads.push({ site, deferred: false });
    return reads;
  }

  /**
   * A function from another cell that changes a parameter in place changes what this segment
   * passes there (`prep(train)` with `def prep(df): df["y"] = ...`).
   */
  private noteArgumentChanges(draft: StepDraft, analysis: CodeAnalysis, before: CodeAnalysis) {
    const { calls, methodCalls } = analysis;
    for (let i = before.calls.length; i < calls.length; i++) {
      const call = calls[i]!;
      const s = this.resolve(call.callee);
      if (s?.kind !== 'code' || draft.cells.includes(s.ref.unit.cell)) continue;
      const { parameters, stores } = s.ref.unit;
      const mutatedParameters = this.changedParameters(s.ref);
      for (const argument of call.args) {
        if (passedTo(argument, parameters, mutatedParameters)) draft.callEffects.add(argument.name);
        // The call keeps the object in a module-level name: the two share it from now on.
        for (const { holder, parameters: kept } of stores)
          if (passedTo(argument, parameters, kept)) this.callAliases.push([holder, argument.name]);
      }
    }
    // `tour.melee(agents)`, `tour` made by a notebook class whose `melee` changes its `agents`.
    for (let i = before.methodCalls.length; i < methodCalls.length; i++) {
      const call = methodCalls[i]!;
      for (const maker of this.makers.get(call.receiver) ?? []) {
        const s = this.resolve(maker);
        if (s?.kind !== 'code') continue;
        const method = s.ref.unit.mutatingMethods.find((m) => m.name === call.method);
        if (method === undefined) continue;
        for (const argument of call.args)
          if (passedTo(argument, method.parameters, method.mutatedParameters))
            draft.callEffects.add(argument.name);
      }
    }
  }

  /**
   * The parameters whose objects a call of a notebook function changes in place: those its body
   * changes, and those it passes where a function of another cell changes them (`def prep(df):
   * add_features(df)`), as the names resolve now.
   */
  private changedParameters(ref: UnitRef, seen: Set<number> = new Set()): readonly ParameterRef[] {
    const { parameters, mutatedParameters, passes } = ref.unit;
    if (passes.length === 0 || seen.has(ref.id)) return mutatedParameters;
    seen.add(ref.id);
    const changed = [...mutatedParameters];
    for (const { callee, argument } of passes) {
      if (changed.some((p) => p.name === argument.name)) continue;
      const s = this.resolve(callee);
      if (s?.kind !== 'code' || s.ref.unit.kind !== 'definition') continue;
      if (!passedTo(argument, s.ref.unit.parameters, this.changedParameters(s.ref, seen))) continue;
      const parameter = parameters.find((p) => p.name === argument.name);
      if (parameter !== undefined) changed.push(parameter);
    }
    return changed.length === mutatedParameters.length ? mutatedParameters : changed;
  }

  /**
   * A call of a function an earlier step made with a notebook function that makes closures with
   * state (`counter = make_counter()`, then `counter()`) changes it: the step takes it over.
   */
  private noteClosureCalls(draft: StepDraft, analysis: CodeAnalysis, before: CodeAnalysis): void {
    const { calls } = analysis;
    for (let i = before.calls.length; i < calls.length; i++) {
      const { callee } = calls[i]!;
      if (this.current.get(callee)?.kind !== 'step') continue;
      const reads = this.valueReads.get(callee);
      if (reads === undefined) continue;
      for (const read of reads) {
        const s = this.resolve(read);
        if (s?.kind === 'code' && s.ref.unit.makesClosures) {
          draft.callEffects.add(callee);
          break;
        }
      }
    }
  }

  /**
   * The segment's calls of functions a notebook decorator made with state (`@counted def f`,
   * whose wrapper counts in `wrapper.calls` or a `nonlocal n`) or a cache put around after their
   * definition (`f = lru_cache(None)(f)`): each call changes the function,
   * as a call of `counter = make_counter()` changes `counter` (see `noteClosureCalls`), so the
   * step saves what the function holds and later steps load it onto its definition run again.
   */
  private statefulDecoratedCalls({ analysis, before, ownUnits }: LeftSegment): NameSite[] {
    const sites: NameSite[] = [];
    const { calls } = analysis;
    for (let i = before.calls.length; i < calls.length; i++) {
      const call = calls[i]!;
      const unit = this.definingUnit(call.callee, call.cell, ownUnits);
      if (
        unit?.holdsState === true &&
        // A cache put around it (`f = lru_cache(None)(f)`) keeps what each call computed.
        (unit.callEffects.includes(call.callee) ||
          unit.decorators.some(
            (d) => this.definingUnit(d, unit.cell, ownUnits)?.makesClosures === true,
          ))
      )
        sites.push({ name: call.callee, cell: call.cell, line: call.line });
    }
    return sites;
  }

  /**
   * The code unit that defines `name` as seen from `cell`: the segment's own last definition of it
   * above that cell, else the code it resolves to.
   */
  private definingUnit(
    name: string,
    cell: number,
    ownUnits: readonly UnitRef[],
  ): UnitRef['unit'] | undefined {
    for (let i = ownUnits.length - 1; i >= 0; i--) {
      const { unit } = ownUnits[i]!;
      if (unit.cell <= cell && unit.kind === 'definition' && unit.names.includes(name)) return unit;
    }
    const s = this.resolve(name);
    return s?.kind === 'code' ? s.ref.unit : stateOf(s)?.unit;
  }

  /**
   * A function from another cell that changes module-level values may keep what it is given in
   * them (`registry[name] = f`, a decorator's definition): those values hold the names passed, so
   * a step that loads one defines what it holds on demand (see `loadInput`).
   */
  private noteKeptArguments(analysis: CodeAnalysis, before: CodeAnalysis): void {
    const { calls } = analysis;
    let kept: Map<string, Set<string>> | undefined;
    for (let i = before.calls.length; i < calls.length; i++) {
      const call = calls[i]!;
      if (call.args.length === 0) continue;
      const s = this.resolve(call.callee);
      if (s?.kind !== 'code') continue;
      for (const changed of s.ref.unit.callEffects) {
        kept ??= new Map();
        let names = kept.get(changed);
        if (names === undefined) kept.set(changed, (names = new Set()));
        for (const argument of call.args) if (argument.name !== changed) names.add(argument.name);
      }
    }
    if (kept !== undefined) this.passedReads.merge(kept);
  }

  /**
   * A notebook function or class that runs the code it is given (`eval(a)` in its body), called
   * with string literals (`display('df1', 'pd.concat([df1, df2])')`): that code's names.
   */
  private needEvaluatedNames(draft: StepDraft, analysis: CodeAnalysis, before: CodeAnalysis) {
    const { calls } = analysis;
    for (let i = before.calls.length; i < calls.length; i++) {
      const call = calls[i]!;
      if (!this.evaluators.has(call.callee)) continue;
      for (const name of call.codeStrings)
        if (this.resolve(name) !== undefined)
          this.need(draft, { name, cell: call.cell, line: call.line }, true, null);
    }
  }

  /**
   * Functions from other cells that this segment may call change names as they run: the step
   * loads each one's value and leaves it changed, as Jupyter would. The names that are not code.
   */
  private takeCallEffects(draft: StepDraft, own: readonly number[]): NameSite[] {
    const lastCell = own[own.length - 1] ?? draft.cells[draft.cells.length - 1]!;
    const effectSites: NameSite[] = [];
    for (const name of draft.callEffects) {
      const s = this.resolve(name);
      // A change to a name nothing has bound yet changes nothing (the call would fail, if made),
      // unless one of the functions binds it (`global variables` in `def execute()`).
      if (s === undefined && !draft.callWrites.has(name)) continue;
      if (s?.kind === 'step' || s?.kind === 'parameter')
        this.need(draft, { name, cell: lastCell, line: 1 }, true, null);
      // Code stays code, but for what a class or function holds (`Config.debug = True`).
      if (s?.kind !== 'code' || s.ref.unit.holdsState)
        effectSites.push({ name, cell: lastCell, line: 1 });
    }
    // What a function binds (`global fns` in `execute`) may hold what its body makes (`Fn`s).
    if (draft.callWrites.size > 0) this.valueReads.merge(draft.callWrites);
    draft.callEffects.clear();
    draft.callWrites.clear();
    for (const site of effectSites) draft.written.add(site.name);
    return effectSites;
  }

  /** The imports and configuration of the cells above that hold in a step's first segment. */
  private includeConfigSoFar(draft: StepDraft): void {
    for (const ref of this.globalConfig) if (this.holds(ref)) this.includeUnit(draft, ref, true);
    for (const { ref, step } of this.stepConfig)
      if (step !== draft && this.holds(ref)) this.includeUnit(draft, ref, true);
  }

  private holds(ref: UnitRef): boolean {
    return ref.unit.kind === 'import' || (ref.unit.kind === 'config' && this.rootIsImport(ref));
  }

  /** The code units of a segment's cells (of a prelude cell that runs once here, its seeds). */
  private ownUnitsOf(own: readonly number[]): UnitRef[] {
    const units: UnitRef[] = [];
    for (const c of own) {
      const refs = this.unitsOfCell.get(c);
      if (refs === undefined) continue;
      const seedsOnly = this.preludeCells.includes(c);
      for (const r of refs) if (!seedsOnly || r.unit.kind === 'seed') units.push(r);
    }
    return units;
  }

  /** The attributes a notebook class's instances share through it, its `functions` cells' too. */
  private sharedBy(cls: string): ReadonlySet<string> | undefined {
    if (!this.preludeShared) {
      this.preludeShared = true;
      const prelude = analyzeCells(this.preludeCells, this.plain).sharedAttributes;
      for (const [name, shared] of prelude)
        if (!this.sharedAttributes.has(name)) this.sharedAttributes.set(name, shared);
    }
    return this.sharedAttributes.get(cls);
  }

  /** What a segment leaves behind for later steps: code stays code, values are data. */
  private leaveSegment(draft: StepDraft, segment: LeftSegment): void {
    const { own, analysis, before, effectSites, firstSegment } = segment;
    // What each name the segment binds was before it, for a statement that binds a name again
    // from what it was (see `leaveBindings`): calls in the segment may change it first.
    const priors = new Map<string, Source | undefined>();
    for (const w of analysis.writes) priors.set(w.name, this.resolve(w.name));
    this.newValues(segment);
    // What this segment changes in place (a later segment may change names an earlier one did).
    const ownAnalysis = firstSegment ? analysis : analyzeCells(own, this.plain);
    const ownMutations = ownAnalysis.mutations;
    const mutated = new Set(ownMutations.map((m) => m.name));
    const segmentMutations: NameSite[] = [...ownMutations];
    for (const d of ownAnalysis.drawnOn)
      if (this.figureNames.has(d.name) && !mutated.has(d.name)) segmentMutations.push(d);
    for (const k of ownAnalysis.keyedReads)
      if (this.autoKeyedNames.has(k.name) && !mutated.has(k.name)) segmentMutations.push(k);
    for (const e of effectSites) if (!mutated.has(e.name)) segmentMutations.push(e);
    // `reg.items.append(x)` where `items` is what every instance of `reg`'s class shares.
    for (const { attribute, ...site } of ownAnalysis.attributeChanges)
      for (const maker of this.makers.get(site.name) ?? [])
        if (this.sharedBy(maker)?.has(attribute) === true && !mutated.has(maker)) {
          mutated.add(maker);
          segmentMutations.push({ ...site, name: maker });
        }
    const decoratedCalls = this.statefulDecoratedCalls(segment);
    for (const c of decoratedCalls)
      if (!mutated.has(c.name)) {
        mutated.add(c.name);
        segmentMutations.push(c);
      }
    // A generator a step uses goes on from where the step leaves it.
    for (const site of newSites(analysis.freeReads, before.freeReads)) {
      const s = mutated.has(site.name) ? undefined : this.resolve(site.name);
      if (stateOf(s)?.unit.startsGenerator === true) segmentMutations.push(site);
    }
    if (ownAnalysis.dynamicBindings !== null)
      this.dynamicWriter = stepSource(draft, ownAnalysis.dynamicBindings.cell, undefined);
    // A CSV reader or writer holds the file it reads or writes (`w = csv.writer(f)`): once a step
    // uses it, the two cross together.
    for (const m of segmentMutations) {
      const ref = stateOf(this.resolve(m.name));
      if (ref?.unit.startsGenerator !== true || !makesCsvWrapper(ref.unit.code)) continue;
      for (const read of ref.unit.reads)
        if (this.resolve(read)?.kind === 'step')
          this.sharing.union(this.versionOf(m.name), this.versionOf(read));
    }
    const { aliases } = analysis;
    const takenOver = this.takeOverShared(draft, segmentMutations, aliases, before.aliases.length);
    this.leaveChanged(draft, segment, segmentMutations, takenOver);
    if (!firstSegment) this.warnContinued(draft, analysis, own, segmentMutations, takenOver);
    this.leaveChangedValues(draft, segmentMutations, effectSites);
    this.leaveBindings(draft, segment, decoratedCalls, priors);
    this.leaveShownValues(draft, segment);
  }

  /**
   * IPython's `_`, `__` and `___`: each cell that shows a value that is not None moves them on
   * (`___ = __`, `__ = _`, `_ = value`); where the value is None they stay, so each is made from
   * the values before it. Once the notebook binds one of them itself, IPython leaves them be.
   */
  private leaveShownValues(draft: StepDraft, { own, analysis }: LeftSegment): void {
    if (this.historyTaken) return;
    if (analysis.writes.some((w) => SHOWN_HISTORY.includes(w.name))) {
      this.historyTaken = true;
      return;
    }
    for (const cell of analysis.shownValues) {
      if (!own.includes(cell)) continue;
      const [last, second, third] = SHOWN_HISTORY.map((n) => this.before(draft, n));
      this.current.set('_', stepSource(draft, cell, last));
      this.current.set('__', stepSource(draft, cell, joined(last, second)));
      this.current.set('___', stepSource(draft, cell, joined(second, third)));
    }
  }

  /**
   * A name bound again is a new value: what the old one shared stays with the old one. A change
   * through one name is a change of every name that may share its objects: the step loads them
   * together and saves them together (see the runtime's shared outputs).
   */
  private newValues({ own, analysis, before, ownUnits }: LeftSegment): void {
    for (const w of analysis.writes)
      if (bindsIn(analysis, w.name, own) && !analysis.updatedInPlace.includes(w.name)) {
        this.versions.set(w.name, (this.versions.get(w.name) ?? 0) + 1);
        this.versionKeys.delete(w.name);
      }
    const { aliases } = analysis;
    const pairs = [...aliases.slice(before.aliases.length), ...this.callAliases.splice(0)];
    for (const [a, b] of pairs)
      if (!this.isCode(a, ownUnits) && !this.isCode(b, ownUnits))
        this.sharing.union(this.versionOf(a), this.versionOf(b));
  }

  /**
   * The values of other steps the segment takes over (names the step itself uses are loaded
   * already; the others only if a later step uses them), and which value of each name the step
   * leaves (for the groups it saves together).
   */
  private leaveChanged(
    draft: StepDraft,
    { own, analysis }: LeftSegment,
    segmentMutations: readonly NameSite[],
    takenOver: ReadonlyMap<string, StepSource>,
  ): void {
    for (const [g, carried] of takenOver)
      this.current.set(
        g,
        stepSource(
          draft,
          own[own.length - 1]!,
          draft.inputs.has(g) ? undefined : new Map([[g, carried]]),
          carried.definition,
        ),
      );
    for (const w of analysis.writes) draft.versions.set(w.name, this.versionOf(w.name));
    for (const m of segmentMutations) draft.versions.set(m.name, this.versionOf(m.name));
    for (const n of takenOver.keys()) draft.versions.set(n, this.versionOf(n));
  }

  /**
   * Values changed in place are the step's now; so is a name only a called function binds
   * (`global model` in `def train()`).
   */
  private leaveChangedValues(
    draft: StepDraft,
    segmentMutations: readonly NameSite[],
    effectSites: readonly NameSite[],
  ): void {
    for (const m of segmentMutations) {
      const s = this.resolve(m.name);
      const definition = stateOf(s);
      if (s?.kind === 'step' || s?.kind === 'parameter' || definition !== undefined)
        this.current.set(m.name, stepSource(draft, m.cell, undefined, definition));
    }
    for (const e of effectSites) {
      const s = this.resolve(e.name);
      if (s === undefined || s.kind === 'deleted' || s.kind === 'skipped')
        this.current.set(e.name, stepSource(draft, e.cell, undefined));
    }
  }

  /**
   * The names the segment binds (code or the step's values) and deletes, and its ambient units;
   * `changedByCalls`, names its calls change that its analysis does not see (see
   * `statefulDecoratedCalls`).
   */
  private leaveBindings(
    draft: StepDraft,
    { own, analysis, before, ownUnits }: LeftSegment,
    changedByCalls: readonly NameSite[],
    priors: ReadonlyMap<string, Source | undefined>,
  ): void {
    const { current } = this;
    const mutationAt = new Map<string, NameSite>();
    for (const m of analysis.mutations) mutationAt.set(m.name, m);
    for (const c of changedByCalls) if (!mutationAt.has(c.name)) mutationAt.set(c.name, c);
    const beforeWrites = new Set<string>();
    for (const x of before.writes) beforeWrites.add(x.name);
    for (const w of analysis.writes) {
      if (beforeWrites.has(w.name) && !bindsIn(analysis, w.name, own)) continue;
      this.noteFormerDefinition(w.name);
      const ref = unitFor(analysis, ownUnits, w.name);
      const changed = mutationAt.get(w.name);
      if (ref !== undefined && ref.unit.kind !== 'config' && ref.unit.kind !== 'seed') {
        // Defined on some paths only (`if fast: def f(...)`): where it is not, `f` from before
        // stays, so running the statement again needs that first. So does a statement that reads
        // what it binds again (`heaviside = np.vectorize(heaviside)`).
        // (Where the segment binds it above the statement, that; else what it was before.)
        const prior =
          analysis.maybeWrites.has(w.name) || ref.unit.reads.includes(w.name)
            ? (ownBindingAbove(ownUnits, ref, w.name) ?? priors.get(w.name))
            : undefined;
        if (prior !== undefined && !(prior.kind === 'code' && prior.ref === ref))
          this.priorBindings.set(ref.id, [
            ...(this.priorBindings.get(ref.id) ?? []),
            [w.name, prior],
          ]);
        // A class or function the step changes after defining it leaves its changes.
        current.set(
          w.name,
          (ref.unit.holdsState && changed !== undefined && after(changed, ref.unit)) ||
            (ref.unit.startsGenerator && usedAfter(ref, own, this.plain))
            ? stepSource(draft, changed?.cell ?? own[own.length - 1]!, undefined, ref)
            : { kind: 'code', ref },
        );
      } else {
        // Bound on some paths only (`if c: x = 1`): where it is not, the value from before stays.
        // The step loads it, should a later step use the name; code (`x = None`) runs first.
        const maybe = analysis.maybeWrites.has(w.name);
        if (maybe && current.get(w.name)?.kind === 'code') this.need(draft, w, true, null);
        const kept = maybe ? this.before(draft, w.name) : undefined;
        this.keepDefinitionTimeValues(w.name, analysis);
        current.set(
          w.name,
          stepSource(
            draft,
            Math.max(analysis.lastBindings.get(w.name)?.cell ?? w.cell, changed?.cell ?? -1),
            kept,
          ),
        );
      }
    }
    for (const d of newSites(analysis.deletes, before.deletes)) {
      this.noteFormerDefinition(d.name);
      current.set(d.name, { kind: 'deleted', step: draft, cell: d.cell });
    }
    for (const ref of ownUnits) if (ref.ambient) this.stepConfig.push({ ref, step: draft });
  }

  /** Keeps the definition `name` is bound to, before a step binds it again or deletes it. */
  private noteFormerDefinition(name: string): void {
    const s = this.current.get(name);
    const ref = s?.kind === 'code' ? s.ref : s?.kind === 'step' ? s.definition : undefined;
    if (ref === undefined || ref.unit.kind !== 'definition') return;
    const former = this.formerDefinitions.get(name);
    if (former === undefined) this.formerDefinitions.set(name, [ref]);
    else if (!former.includes(ref)) former.push(ref);
  }

  /**
   * A loaded value may hold a function `name` named before the notebook bound the name again or
   * deleted it (`greet = hello`, then `del hello`): the value loads it by its code, and what its
   * body uses when called is defined or loaded here.
   */
  private needFormerDefinitions(draft: StepDraft, name: string, cell: number): void {
    const former = this.formerDefinitions.get(name);
    if (former === undefined) return;
    // Where `name` is another definition now, the value may well hold that one: only code, which
    // costs no load, comes for the former.
    const now = this.resolve(name);
    const redefined =
      now?.kind === 'code' || (now?.kind === 'step' && now.definition !== undefined);
    for (const ref of former)
      for (const read of ref.unit.callReads)
        if (read !== name && (!redefined || this.resolve(read)?.kind === 'code'))
          this.need(draft, { name: read, cell, line: 1 }, true, null);
  }

  /**
   * A class or function keeps what it read as its definition ran (`def f(x=N)`, `class C: size =
   * N`). Once `name` is bound again after it, running the definition again would read the new
   * value: what it holds becomes a value instead, which the step that defined it saves (defaults
   * and class attributes included) and a step that uses it loads onto the definition run again.
   */
  private keepDefinitionTimeValues(name: string, analysis: CodeAnalysis): void {
    const last = analysis.lastBindings.get(name);
    if (last === undefined) return;
    for (const ref of this.definitionsReading(name)) {
      const { unit } = ref;
      if (ref.global || this.current.get(unit.names[0]!)?.kind !== 'code') continue;
      if (last.cell < unit.cell || (last.cell === unit.cell && last.offset < unit.to)) continue;
      const definer = this.drafts.find((d) => d.block.cells.includes(unit.cell));
      if (definer === undefined) continue;
      for (const n of unit.names)
        this.current.set(n, stepSource(definer, unit.cell, undefined, ref));
    }
  }

  /** Whether a name is code: resolved to a unit, or bound by one of the segment's units. */
  private isCode(n: string, ownUnits: readonly UnitRef[]): boolean {
    return (
      this.resolve(n)?.kind === 'code' ||
      ownUnits.some((r) => r.unit.kind !== 'config' && r.unit.names.includes(n))
    );
  }

  /**
   * The values of other steps that share objects with what a segment changes in place or makes
   * share (`from` on among `aliases`): the segment changes them too, so the step takes them over.
   */
  private takeOverShared(
    draft: StepDraft,
    segmentMutations: readonly NameSite[],
    aliases: CodeAnalysis['aliases'],
    from: number,
  ): Map<string, StepSource> {
    const takenOver = new Map<string, StepSource>();
    const touched = new Set<string>();
    for (const m of segmentMutations) touched.add(m.name);
    for (let i = from; i < aliases.length; i++) touched.add(aliases[i]![0]);
    for (const name of touched) {
      for (const g of this.sharingNow(name)) {
        const s = this.current.get(g);
        if (g === name || s?.kind !== 'step' || s.step === draft) continue;
        takenOver.set(g, s);
      }
    }
    return takenOver;
  }

  /**
   * A step continued further down reads, in its later cells, a value its earlier cells bound and
   * a step in between changed: it runs all its cells before that step, so it sees its own value.
   */
  private warnStaleReads(draft: StepDraft, own: readonly number[], before: CodeAnalysis): void {
    const bound = new Set(before.writes.map((w) => w.name));
    for (const site of analyzeCells(own, this.plain).freeReads) {
      if (!bound.has(site.name) || this.warnedContinued.has(site.name)) continue;
      const s = this.current.get(site.name);
      if (s?.kind !== 'step' || s.step === draft) continue;
      this.warnedContinued.add(site.name);
      this.diagnostics.push(
        continuedStepReadsChangedValueDiagnostic(draft.name, site, s.step.name),
      );
    }
  }

  /**
   * A step continued further down changes, in its later cells, a value that steps in between
   * already load: they get the value from the step's end, not the one the notebook shows them.
   */
  private warnContinued(
    draft: StepDraft,
    analysis: CodeAnalysis,
    own: readonly number[],
    segmentMutations: readonly NameSite[],
    takenOver: ReadonlyMap<string, StepSource>,
  ): void {
    const changed: NameSite[] = [
      ...analysis.writes.filter((w) => bindsIn(analysis, w.name, own)),
      ...segmentMutations,
      ...[...takenOver.keys()].map((name) => ({ name, cell: own[0]!, line: 1 })),
    ];
    const readers = (name: string): string[] =>
      this.drafts
        .filter((d) => d !== draft && d.inputs.get(name) === draft.name)
        .map((d) => d.name);
    for (const site of changed) {
      const between = readers(site.name);
      if (between.length === 0 || this.warnedContinued.has(site.name)) continue;
      this.warnedContinued.add(site.name);
      this.diagnostics.push(continuedStepChangesValueDiagnostic(draft.name, site, between));
    }
  }
}

type StepSource = Source & { kind: 'step' };

/** The names IPython keeps the last values cells showed in, last first. */
const SHOWN_HISTORY = ['_', '__', '___'];

function joined(a: Carried | undefined, b: Carried | undefined): Carried | undefined {
  return a === undefined ? b : b === undefined ? a : new Map([...b, ...a]);
}

/** What `leaveSegment` needs of the segment being resolved. */
interface LeftSegment {
  /** The segment's cells (with the prelude cells that run once in it). */
  readonly own: readonly number[];
  /** The analysis of the step's cells so far, this segment's included, and without it. */
  readonly analysis: CodeAnalysis;
  readonly before: CodeAnalysis;
  readonly ownUnits: readonly UnitRef[];
  /** Names functions it calls change, that are not code. */
  readonly effectSites: readonly NameSite[];
  readonly firstSegment: boolean;
}

const PARAMETER: Source = { kind: 'parameter' };
const INPUT = { kind: 'input' } as const;

/** A value `step` leaves, made in `cell` (every one the same shape). */
function stepSource(
  step: StepDraft,
  cell: number,
  carried: Carried | undefined,
  definition?: UnitRef,
): StepSource {
  return { kind: 'step', step, cell, carried, definition };
}

/**
 * The definition of a class or function whose changes a step leaves, or of a generator a step
 * goes through (see `Source`).
 */
function stateOf(source: Source | undefined): UnitRef | undefined {
  if (source?.kind === 'step') return source.definition;
  if (source?.kind !== 'code') return undefined;
  const { unit } = source.ref;
  return unit.holdsState || unit.startsGenerator ? source.ref : undefined;
}

/** Whether one of `cells` names what `ref` binds after it (a use of a generator it makes). */
export function usedAfter(
  ref: UnitRef,
  cells: readonly number[],
  plain: (cell: number) => string,
): boolean {
  const name = ref.unit.names[0];
  if (name === undefined) return false;
  const { cell, to } = ref.unit;
  const word = new RegExp(`\\b${name}\\b`);
  return cells.some((c) => c >= cell && word.test(c === cell ? plain(c).slice(to) : plain(c)));
}

/** Whether `r` is a configuration statement on `definition`'s names after it in the notebook. */
function changesDefinition(definition: UnitRef, r: UnitRef): boolean {
  const { unit } = r;
  if (unit.kind !== 'config' || unit.root === null) return false;
  if (!definition.unit.names.includes(unit.root)) return false;
  const { cell, to } = definition.unit;
  return unit.cell > cell || (unit.cell === cell && unit.from >= to);
}

/** The sites of `list` whose names `old` does not have. */
function newSites<T extends { name: string }>(list: readonly T[], old: readonly T[]): T[] {
  if (old.length === 0) return list as T[];
  const seen = new Set<string>();
  for (const x of old) seen.add(x.name);
  return list.filter((x) => !seen.has(x.name));
}

/**
 * For each value, the names read where it is made, merged from the steps' analyses. A value's
 * names are an analysis's own set until another analysis adds to them (analyses are plain data
 * nothing changes, and most values are made in one step): only then is the set copied.
 */
class ReadsByValue {
  private readonly reads = new Map<string, ReadonlySet<string>>();
  /** Values whose set is a copy made here (the others are an analysis's). */
  private readonly copied = new Set<string>();

  get(name: string): ReadonlySet<string> | undefined {
    return this.reads.get(name);
  }

  /** Adds each value's reads in `from`. */
  merge(from: ReadonlyMap<string, ReadonlySet<string>>): void {
    for (const [name, reads] of from) {
      const all = this.reads.get(name);
      if (all === undefined) this.reads.set(name, reads);
      else if (all !== reads) for (const r of reads) if (!all.has(r)) this.own(name, all).add(r);
    }
  }

  /** The value's set, copied first when it is an analysis's. */
  private own(name: string, all: ReadonlySet<string>): Set<string> {
    if (this.copied.has(name)) return all as Set<string>;
    const copy = new Set(all);
    this.reads.set(name, copy);
    this.copied.add(name);
    return copy;
  }
}

/** The segment's own last code unit above `ref` that binds `name`, as a source. */
function ownBindingAbove(
  ownUnits: readonly UnitRef[],
  ref: UnitRef,
  name: string,
): Source | undefined {
  const { cell, from } = ref.unit;
  let found: UnitRef | undefined;
  for (const r of ownUnits)
    if (
      r !== ref &&
      r.unit.names.includes(name) &&
      (r.unit.cell < cell || (r.unit.cell === cell && r.unit.to <= from))
    )
      found = r;
  return found === undefined ? undefined : { kind: 'code', ref: found };
}

/** The unit of the segment's own units that binds `name` last in `analysis`, if any. */
function unitFor(
  analysis: CodeAnalysis,
  ownUnits: readonly UnitRef[],
  name: string,
): UnitRef | undefined {
  const last = analysis.lastBindings.get(name);
  if (last === undefined) return undefined;
  return ownUnits.find(
    (r) =>
      r.unit.cell === last.cell &&
      r.unit.from <= last.offset &&
      last.offset < r.unit.to &&
      r.unit.names.includes(name),
  );
}

/** The units a step runs again, in notebook order, with their needs as positions in the list. */
function resolvedUnits(draft: StepDraft): ResolvedUnit[] {
  const entries = [...draft.units.values()].sort(
    (a, b) => a.ref.unit.cell - b.ref.unit.cell || a.ref.unit.from - b.ref.unit.from,
  );
  const position = new Map(entries.map((e, i) => [e.ref.id, i]));
  return entries.map((e) => ({
    ref: e.ref,
    eager: e.eager,
    needs: [...e.needs].flatMap((id) => (position.has(id) ? [position.get(id)!] : [])).sort(),
    // What the step's own cells bound is there already.
    inputs: [...e.inputs].filter((n) => draft.inputs.has(n)).sort(),
  }));
}

/** Whether `site` is below the unit's statement. */
function after(site: NameSite, unit: UnitRef['unit']): boolean {
  if (site.cell !== unit.cell) return site.cell > unit.cell;
  const code = unit.code.trimEnd();
  let last = unit.line;
  for (let i = code.indexOf('\n'); i !== -1; i = code.indexOf('\n', i + 1)) last++;
  return site.line > last;
}

/** True when one of `cells` binds `name` (its last binding so far is there). */
function bindsIn(analysis: CodeAnalysis, name: string, cells: readonly number[]): boolean {
  const last = analysis.lastBindings.get(name);
  return last !== undefined && cells.includes(last.cell);
}

/** What calling a unit's functions may do, for the step that may call them. */
function takeEffectsOf(draft: StepDraft, unit: UnitRef['unit']): void {
  for (const name of unit.callEffects) draft.callEffects.add(name);
  for (const name of unit.callWrites) {
    const writers = draft.callWrites.get(name);
    if (writers === undefined) draft.callWrites.set(name, new Set(unit.names));
    else for (const n of unit.names) writers.add(n);
  }
}
