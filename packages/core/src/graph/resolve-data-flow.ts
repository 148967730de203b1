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
 * - Configuration calls on imported modules (`warnings.filterwarnings`, `pd.set_option`, ...)
 *   hold in every later step, which runs them again.
 * - Once the notebook seeds a global random generator, its state flows like a value
 *   (`random-state`) through the steps that call code, in notebook order.
 * - `imports`/`functions` cells' code is there in every step; their other statements run once.
 * - Parameters become pipeline inputs.
 */
import type { Diagnostic } from '../diagnostics.js';
import { analyzeCells } from '../python/analyze-cells.js';
import { passedTo, type CodeAnalysis, type NameSite } from '../python/analyze-python.js';
import { PYTHON_BUILTINS } from '../python/builtins.js';
import type { CellTags } from '../tags/cell-tags.js';
import type { AnalyzedBlocks, UnitRef } from './analyze-blocks.js';
import {
  continuedStepChangesValueDiagnostic,
  deletedNameDiagnostic,
  functionUsesUndefinedNameDiagnostic,
  skippedNameDiagnostic,
  undefinedNameDiagnostic,
  untaggedCellDiagnostic,
} from './data-flow-diagnostics.js';
import type { PipelineMetric, PipelineParameter } from './pipeline-graph.js';
import type { Prelude } from './read-prelude.js';
import type { Block } from './read-blocks.js';
import { SharingGroups } from './sharing-groups.js';
import { mergeTags } from './step-tags.js';

/** The pseudo-variable that carries the global random generators' state between steps. */
export const RANDOM_STATE_VARIABLE = 'random-state';
const RANDOM_STATE = RANDOM_STATE_VARIABLE;

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
}

type Source =
  | { readonly kind: 'code'; readonly ref: UnitRef }
  | { readonly kind: 'parameter' }
  | {
      readonly kind: 'step';
      readonly step: StepDraft;
      readonly cell: number;
      /**
       * The step may have changed this value through a name sharing its objects, without using
       * it: should a later step use it, the step loads it from here and saves it.
       */
      readonly carried?: Source & { kind: 'step' };
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
}

export function resolveDataFlow(input: DataFlowInput): DataFlow {
  const { blocks, segments, units: unitsOfCell } = input.blocks;
  const {
    cells: preludeCells,
    units: globalUnits,
    config: globalConfig,
    hostCells,
    code,
  } = input.prelude;
  const plain = (cell: number): string => code.get(cell) ?? '';
  const unitsOf = (cell: number): readonly UnitRef[] => unitsOfCell.get(cell) ?? [];
  /** The notebook's functions and classes that run code they are given as strings. */
  const evaluators = new Set<string>();
  for (const refs of unitsOfCell.values())
    for (const r of refs)
      if (r.unit.evaluatesStrings) for (const n of r.unit.names) evaluators.add(n);
  const diagnostics: Diagnostic[] = [];
  /** An `import *` seen so far: names it may define are not reported as undefined. */
  let starSoFar = input.prelude.starImport;
  const drafts: StepDraft[] = [];
  const draftOf = new Map<Block, StepDraft>();
  const current = new Map<string, Source>();
  /** Step cells' configuration, seed and `import *` units seen so far, in notebook order. */
  const stepConfig: { ref: UnitRef; step: StepDraft }[] = [];
  let seeded = false;
  const laterDefinitions = new Map<string, { step: string; cell: number }>();
  const everBound = new Set<string>([
    ...globalUnits.keys(),
    ...input.parameters.map((p) => p.name),
  ]);
  for (const b of blocks.filter((x) => x.kind === 'step')) {
    for (const w of analyzeCells(b.cells, plain).writes) {
      everBound.add(w.name);
      if (!laterDefinitions.has(w.name))
        laterDefinitions.set(w.name, { step: b.name, cell: w.cell });
    }
  }

  /** The nearest producer; the imports and functions cells' code is there in every step. */
  const resolve = (name: string): Source | undefined => {
    const source = current.get(name);
    const global = globalUnits.get(name);
    if (global !== undefined && (source === undefined || source.kind === 'skipped'))
      return { kind: 'code', ref: global };
    return source;
  };

  const undefinedName = (draft: StepDraft, site: NameSite, what: string): void => {
    diagnostics.push(
      undefinedNameDiagnostic(draft.name, site, what, laterDefinitions.get(site.name)),
    );
  };

  /** Loads a value produced by an earlier step into `draft`. */
  const loadFrom = (draft: StepDraft, name: string, source: Source & { kind: 'step' }): void => {
    if (source.carried !== undefined) loadFrom(source.step, name, source.carried);
    loadInput(draft, name, source.step, source.cell);
  };
  const loadInput = (draft: StepDraft, name: string, source: StepDraft, cell: number): void => {
    if (source === draft) return;
    draft.inputs.set(name, source.name);
    draft.loadsFrom.add(source.name);
    source.outputs.set(name, cell);
    // The value may hold instances of notebook classes or notebook functions (`acc = Acc()`,
    // `FunctionTransformer(func=f)`): their definitions can run on demand while it loads.
    // Through the values it was made from too (`models = [svc]`, `svc = MySVC()`).
    const seen = new Set([name]);
    const pending = [name];
    // And the notebook functions passed to the calls that made them (`df.groupby(get_year)`).
    for (let v = pending.pop(); v !== undefined; v = pending.pop()) {
      for (const read of passedReads.get(v) ?? []) {
        const s = seen.has(read) ? undefined : resolve(read);
        if (s?.kind === 'code' && s.ref.unit.kind === 'definition')
          includeUnit(draft, s.ref, false);
      }
      for (const read of valueReads.get(v) ?? []) {
        if (seen.has(read)) continue;
        seen.add(read);
        const s = resolve(read);
        if (s?.kind === 'code' && s.ref.unit.kind === 'definition')
          includeUnit(draft, s.ref, false);
        else if (s?.kind === 'step') pending.push(read);
      }
    }
  };

  /**
   * Makes `draft` run a unit again. Eager units run before the step's cells; the others only when
   * a loaded value refers to them, so they may not need values from other steps.
   */
  const includeUnit = (draft: StepDraft, ref: UnitRef, eager: boolean): StepUnitDraft | null => {
    const existing = draft.units.get(ref.id);
    if (existing !== undefined && (existing.eager || !eager)) return existing;
    if (!eager && !replayableAlone(ref, new Set())) return null;
    const entry: StepUnitDraft = existing ?? { ref, eager, needs: new Set(), inputs: new Set() };
    entry.eager = eager;
    draft.units.set(ref.id, entry);
    const site = (name: string): NameSite => ({ name, cell: ref.unit.cell, line: ref.unit.line });
    for (const name of ref.unit.reads) {
      const needed = need(draft, site(name), eager, 'runs code that uses');
      if (needed?.kind === 'code') entry.needs.add(needed.ref.id);
      else if (needed?.kind === 'input') entry.inputs.add(name);
    }
    // A function's body reads names when it is called: as Jupyter would, at the step's time.
    // The code among them runs with the definition (which may run on demand).
    for (const name of ref.unit.callReads) {
      const needed = need(draft, site(name), eager, null);
      if (needed?.kind === 'code') entry.needs.add(needed.ref.id);
    }
    if (eager) for (const name of ref.unit.callEffects) draft.callEffects.add(name);
    // What earlier steps changed on a notebook class or function after defining it
    // (`Counter.count += 1`, `Model.predict = predict`) holds wherever it is defined again.
    if (ref.unit.kind === 'definition')
      for (const change of changesOf(ref, draft)) includeUnit(draft, change, eager);
    return entry;
  };

  /**
   * The configuration statements on a definition's names (`Counter.count += 1`) after it in the
   * notebook, from cells that run in every step or that earlier steps ran.
   */
  const changesOf = (definition: UnitRef, draft: StepDraft): UnitRef[] => {
    const { cell, names } = definition.unit;
    const after = (r: UnitRef): boolean =>
      r.unit.cell > cell || (r.unit.cell === cell && r.unit.from >= definition.unit.to);
    return [
      ...globalConfig,
      ...stepConfig.filter((c) => c.step !== draft).map((c) => c.ref),
    ].filter(
      (r) =>
        r.unit.kind === 'config' && r.unit.root !== null && names.includes(r.unit.root) && after(r),
    );
  };

  /** True when a unit and what it needs when it runs are code, not values of other steps. */
  const replayableAlone = (ref: UnitRef, seen: Set<number>): boolean => {
    if (seen.has(ref.id)) return true;
    seen.add(ref.id);
    return ref.unit.reads.every((name) => {
      const s = resolve(name);
      return s === undefined
        ? PYTHON_BUILTINS.has(name)
        : s.kind === 'code'
          ? replayableAlone(s.ref, seen)
          : s.kind === 'parameter';
    });
  };

  /**
   * Resolves a name `draft` needs. `what` says how a missing name is reported; null: a function
   * body's name, looked up when the function is called, reported only when nothing defines it.
   */
  const need = (
    draft: StepDraft,
    site: NameSite,
    eager: boolean,
    what: string | null,
  ): { kind: 'code'; ref: UnitRef } | { kind: 'input' } | null => {
    const source = resolve(site.name);
    if (source === undefined) {
      if (PYTHON_BUILTINS.has(site.name) || draft.written.has(site.name)) return null;
      if (draft.starVisible) return null;
      if (what !== null) undefinedName(draft, site, what);
      else if (!everBound.has(site.name) && !reportedUnbound.has(site.name)) {
        reportedUnbound.add(site.name);
        diagnostics.push(functionUsesUndefinedNameDiagnostic(draft.name, site));
      }
      return null;
    }
    switch (source.kind) {
      case 'code': {
        const own = !source.ref.global && draft.block.cells.includes(source.ref.unit.cell);
        if (!own) includeUnit(draft, source.ref, eager);
        return { kind: 'code', ref: source.ref };
      }
      case 'parameter':
        draft.parameters.add(site.name);
        return null;
      case 'step': {
        if (!eager) return null;
        loadFrom(draft, site.name, source);
        // Functions inside the value read these names when called: the step needs them.
        const carried = source.step.analysis.carriedReads.get(site.name) ?? [];
        for (const name of carried) {
          const key = `${site.name}>${name}`;
          if (draft.carriedDone.has(key)) continue;
          draft.carriedDone.add(key);
          need(draft, { ...site, name }, true, null);
        }
        return { kind: 'input' };
      }
      case 'deleted':
        if (what === null) return null;
        diagnostics.push(
          deletedNameDiagnostic(draft.name, site, what, {
            step: source.step.name,
            cell: source.cell,
          }),
        );
        return null;
      case 'skipped':
        if (what === null) return null;
        diagnostics.push(skippedNameDiagnostic(draft.name, site, what, source.cell));
        return null;
    }
  };
  const reportedUnbound = new Set<string>();
  const sharing = new SharingGroups();
  /** How many times each name has been bound: `name#n` is its n-th value, in sharing groups. */
  const versions = new Map<string, number>();
  const versionOf = (name: string): string => `${name}#${versions.get(name) ?? 0}`;
  /** Names whose current value may share objects with `name`'s. */
  const sharingNow = (name: string): string[] =>
    sharing
      .members(versionOf(name))
      .filter((k) => versionOf(k.slice(0, k.lastIndexOf('#'))) === k)
      .map((k) => k.slice(0, k.lastIndexOf('#')));
  /** For each value, the names its binding and storing statements read so far (any step). */
  const valueReads = new Map<string, Set<string>>();
  const passedReads = new Map<string, Set<string>>();
  const warnedContinued = new Set<string>();

  /**
   * A config or seed unit holds only while its root is still the module it imported (or a name
   * nothing binds after an `import *`, which may have imported it: `init_printing()`).
   */
  const rootIsImport = (ref: UnitRef): boolean => {
    if (ref.unit.root === null) return false;
    const s = resolve(ref.unit.root);
    if (s === undefined) return starSoFar && !everBound.has(ref.unit.root);
    return s.kind === 'code' && s.ref.unit.kind === 'import';
  };

  const newDraft = (block: Block): StepDraft => {
    const draft: StepDraft = {
      block,
      name: block.name,
      analysis: analyzeCells([], plain),
      written: new Set(),
      starVisible: starSoFar,
      tags: mergeTags([input.stepDefaults, ...block.tags]),
      loadsFrom: new Set(),
      inputs: new Map(),
      parameters: new Set(),
      outputs: new Map(),
      metrics: [],
      units: new Map(),
      cells: [],
      carriedDone: new Set(),
      versions: new Map(),
      callEffects: new Set(),
    };
    // Statements of an imports/functions cell that run once in this step are the step's too.
    const ownCells = [...(hostCells.get(block) ?? []), ...block.cells].sort((a, b) => a - b);
    for (const w of analyzeCells(ownCells, plain).writes) draft.written.add(w.name);
    return draft;
  };

  /** One run of consecutive cells of a step: its reads are resolved where it is in the notebook. */
  const stepSegment = (draft: StepDraft, cells: readonly number[]): void => {
    const before = draft.analysis;
    const firstSegment = draft.cells.length === 0;
    // An imports/functions cell's statements that run once join the step after it.
    const own = [...(firstSegment ? (hostCells.get(draft.block) ?? []) : []), ...cells].sort(
      (a, b) => a - b,
    );
    draft.cells.push(...own);
    const analysis = analyzeCells(draft.cells, plain);
    draft.analysis = analysis;
    if (analysis.starImports.length > 0) draft.starVisible = starSoFar = true;
    const isNew = <T extends { name: string }>(list: readonly T[], old: readonly T[]): T[] => {
      const seen = new Set(old.map((x) => x.name));
      return list.filter((x) => !seen.has(x.name));
    };
    const reads: { site: NameSite; deferred: boolean }[] = [
      ...isNew(analysis.freeReads, before.freeReads).map((site) => ({ site, deferred: false })),
      ...isNew(analysis.deferredReads, before.deferredReads).map((site) => ({
        site,
        deferred: true,
      })),
      // A builtin name (`display`) that the notebook defines is the notebook's.
      ...isNew(analysis.builtinReads, before.builtinReads)
        .filter((site) => current.has(site.name) || globalUnits.has(site.name))
        .map((site) => ({ site, deferred: false })),
    ];
    for (const { site, deferred } of reads) need(draft, site, true, deferred ? null : 'uses');
    // A function from another cell that changes a parameter in place changes what this segment
    // passes there (`prep(train)` with `def prep(df): df["y"] = ...`).
    for (const call of analysis.calls.slice(before.calls.length)) {
      const s = resolve(call.callee);
      if (s?.kind !== 'code' || draft.cells.includes(s.ref.unit.cell)) continue;
      const { parameters, mutatedParameters } = s.ref.unit;
      if (mutatedParameters.length === 0) continue;
      for (const argument of call.args)
        if (passedTo(argument, parameters, mutatedParameters)) draft.callEffects.add(argument.name);
    }
    // A notebook function or class that runs the code it is given (`eval(a)` in its body), called
    // with string literals (`display('df1', 'pd.concat([df1, df2])')`): that code's names.
    for (const call of analysis.calls.slice(before.calls.length))
      if (evaluators.has(call.callee))
        for (const name of call.codeStrings)
          if (resolve(name) !== undefined)
            need(draft, { name, cell: call.cell, line: call.line }, true, null);
    // Functions from other cells that this segment may call change names as they run: the step
    // loads each one's value and leaves it changed, as Jupyter would.
    const lastCell = own[own.length - 1] ?? draft.cells[draft.cells.length - 1]!;
    const effectSites: NameSite[] = [];
    for (const name of draft.callEffects) {
      const s = resolve(name);
      if (s?.kind === 'step' || s?.kind === 'parameter')
        need(draft, { name, cell: lastCell, line: 1 }, true, null);
      if (s?.kind !== 'code') effectSites.push({ name, cell: lastCell, line: 1 });
    }
    draft.callEffects.clear();
    for (const site of effectSites) draft.written.add(site.name);

    // Configuration that earlier cells made holds here too; the global random state flows.
    if (firstSegment) {
      const holds = (ref: UnitRef): boolean =>
        ref.unit.kind === 'import' || (ref.unit.kind === 'config' && rootIsImport(ref));
      for (const ref of globalConfig) if (holds(ref)) includeUnit(draft, ref, true);
      for (const { ref, step } of stepConfig)
        if (step !== draft && holds(ref)) includeUnit(draft, ref, true);
    }
    const ownUnits = own.flatMap((c) =>
      preludeCells.includes(c) ? unitsOf(c).filter((r) => r.unit.kind === 'seed') : unitsOf(c),
    );
    const seeds = ownUnits.filter((r) => r.unit.kind === 'seed' && rootIsImportHere(r));
    if (seeded && analysis.callsNonBuiltin && seeds.length === 0) {
      const s = current.get(RANDOM_STATE);
      if (s?.kind === 'step') loadInput(draft, RANDOM_STATE, s.step, s.cell);
    }

    for (const [into, from] of [
      [valueReads, analysis.valueReads],
      [passedReads, analysis.passedReads],
    ] as const) {
      for (const [name, reads] of from) {
        const all = into.get(name) ?? new Set<string>();
        for (const r of reads) all.add(r);
        into.set(name, all);
      }
    }

    // What this segment leaves behind for later steps: code stays code, values are data.
    const unitFor = (name: string): UnitRef | undefined => {
      const last = analysis.lastBindings.get(name);
      if (last === undefined) return undefined;
      return ownUnits.find(
        (r) =>
          r.unit.cell === last.cell &&
          r.unit.from <= last.offset &&
          last.offset < r.unit.to &&
          r.unit.names.includes(name),
      );
    };
    // A change through one name is a change of every name that may share its objects: the step
    // loads them together and saves them together (see the runtime's shared outputs).
    const isCode = (n: string): boolean =>
      resolve(n)?.kind === 'code' ||
      ownUnits.some((r) => r.unit.kind !== 'config' && r.unit.names.includes(n));
    // A name bound again is a new value: what the old one shared stays with the old one.
    for (const w of analysis.writes)
      if (bindsIn(analysis, w.name, own)) versions.set(w.name, (versions.get(w.name) ?? 0) + 1);
    const newAliases = analysis.aliases.slice(before.aliases.length);
    for (const [a, b] of newAliases)
      if (!isCode(a) && !isCode(b)) sharing.union(versionOf(a), versionOf(b));
    // What this segment changes in place (a later segment may change names an earlier one did).
    const ownMutations = firstSegment ? analysis.mutations : analyzeCells(own, plain).mutations;
    const segmentMutations = [
      ...ownMutations,
      ...effectSites.filter((e) => !ownMutations.some((m) => m.name === e.name)),
    ];
    const takenOver = new Map<string, Source & { kind: 'step' }>();
    const touched = new Set([
      ...segmentMutations.map((m) => m.name),
      ...newAliases.map(([t]) => t),
    ]);
    for (const name of touched) {
      for (const g of sharingNow(name)) {
        const s = current.get(g);
        if (g === name || s?.kind !== 'step' || s.step === draft) continue;
        takenOver.set(g, s);
      }
    }
    // Names the step itself uses are loaded already; the others only if a later step uses them.
    for (const [g, carried] of takenOver)
      current.set(g, {
        kind: 'step',
        step: draft,
        cell: own[own.length - 1]!,
        ...(draft.inputs.has(g) ? {} : { carried }),
      });
    // Which value of each name this step leaves (for the groups it saves together).
    for (const n of [
      ...analysis.writes.map((w) => w.name),
      ...segmentMutations.map((m) => m.name),
      ...takenOver.keys(),
    ])
      draft.versions.set(n, versionOf(n));

    // A step continued further down changes, in its later cells, a value that steps in between
    // already load: they get the value from the step's end, not the one the notebook shows them.
    if (!firstSegment) {
      const changed = [
        ...analysis.writes.filter((w) => bindsIn(analysis, w.name, own)),
        ...segmentMutations,
        ...[...takenOver.keys()].map((name) => ({ name, cell: own[0]!, line: 1 })),
      ];
      const readers = (name: string): string[] =>
        drafts.filter((d) => d !== draft && d.inputs.get(name) === draft.name).map((d) => d.name);
      for (const site of changed) {
        const between = readers(site.name);
        if (between.length === 0 || warnedContinued.has(site.name)) continue;
        warnedContinued.add(site.name);
        diagnostics.push(continuedStepChangesValueDiagnostic(draft.name, site, between));
      }
    }
    for (const m of segmentMutations) {
      const s = resolve(m.name);
      if (s?.kind === 'step' || s?.kind === 'parameter')
        current.set(m.name, { kind: 'step', step: draft, cell: m.cell });
    }
    // A name only a called function binds (`global model` in `def train()`) is this step's value.
    for (const e of effectSites) {
      const s = resolve(e.name);
      if (s === undefined || s.kind === 'deleted' || s.kind === 'skipped')
        current.set(e.name, { kind: 'step', step: draft, cell: e.cell });
    }
    const mutationCell = new Map(analysis.mutations.map((m) => [m.name, m.cell]));
    for (const w of analysis.writes) {
      if (before.writes.some((x) => x.name === w.name) && !bindsIn(analysis, w.name, own)) continue;
      const ref = unitFor(w.name);
      if (ref !== undefined && ref.unit.kind !== 'config' && ref.unit.kind !== 'seed')
        current.set(w.name, { kind: 'code', ref });
      else
        current.set(w.name, {
          kind: 'step',
          step: draft,
          cell: Math.max(
            analysis.lastBindings.get(w.name)?.cell ?? w.cell,
            mutationCell.get(w.name) ?? -1,
          ),
        });
    }
    for (const d of isNew(analysis.deletes, before.deletes))
      current.set(d.name, { kind: 'deleted', step: draft, cell: d.cell });
    for (const ref of ownUnits) if (ref.ambient) stepConfig.push({ ref, step: draft });
    if (seeds.length > 0 || (seeded && analysis.callsNonBuiltin)) {
      seeded = true;
      current.set(RANDOM_STATE, {
        kind: 'step',
        step: draft,
        cell: own[own.length - 1]!,
      });
    }
  };
  /** A seed call in the step's own cells, on a module imported by then. */
  const rootIsImportHere = (ref: UnitRef): boolean => {
    if (ref.unit.root === null) return false;
    const s = resolve(ref.unit.root);
    return (
      (s?.kind === 'code' && s.ref.unit.kind === 'import') ||
      unitsOfCell
        .get(ref.unit.cell)
        ?.some((r) => r.unit.kind === 'import' && r.unit.names.includes(ref.unit.root!)) === true
    );
  };

  for (const segment of segments) {
    const block = segment.block;
    switch (block.kind) {
      case 'imports':
      case 'functions':
        continue;
      case 'parameters':
        for (const p of input.parameters)
          if (segment.cells.includes(p.cell)) current.set(p.name, { kind: 'parameter' });
        continue;
      case 'skip':
      case 'untagged': {
        const analysis = analyzeCells(segment.cells, plain);
        for (const w of analysis.writes) current.set(w.name, { kind: 'skipped', cell: w.cell });
        if (block.kind === 'untagged' && segment.cells[0] === block.cells[0])
          diagnostics.push(untaggedCellDiagnostic(block.cells[0]!, analysis));
        continue;
      }
      case 'metrics': {
        for (const m of input.metrics) {
          if (!segment.cells.includes(m.cell)) continue;
          const host = drafts.find((d) => d.name === m.step)!;
          need(host, { name: m.variable, cell: m.cell, line: m.line }, true, 'reports the metric');
          host.metrics.push(m.name);
        }
        continue;
      }
      case 'step': {
        let draft = draftOf.get(block);
        if (draft === undefined) {
          draft = newDraft(block);
          draftOf.set(block, draft);
          drafts.push(draft);
        }
        stepSegment(draft, segment.cells);
        continue;
      }
    }
  }

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
      shared: sharing
        .partition(outputs.map((o) => d.versions.get(o) ?? o))
        .map((g) => g.map((k) => k.slice(0, k.lastIndexOf('#')))),
      metrics: d.metrics,
      units: resolvedUnits(d),
    };
  });
  return { steps, diagnostics };
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
    inputs: [...e.inputs].sort(),
  }));
}

/** True when one of `cells` binds `name` (its last binding so far is there). */
function bindsIn(analysis: CodeAnalysis, name: string, cells: readonly number[]): boolean {
  const last = analysis.lastBindings.get(name);
  return last !== undefined && cells.includes(last.cell);
}
