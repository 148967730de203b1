/**
 * Passes 3-4: analyse each block's Python, resolve every free name to the nearest earlier producer
 * (notebook order), and build + validate the step graph.
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
import { describeCell, diagnosticFor, excerptOfLine, type Diagnostic } from '../diagnostics.js';
import type { Notebook } from '../notebook/notebook.js';
import { analyzeCells } from '../python/analyze-cells.js';
import { BoundedCache } from '../python/bounded-cache.js';
import {
  passedTo,
  type CodeAnalysis,
  type FileAccess,
  type NameSite,
} from '../python/analyze-python.js';
import { PYTHON_BUILTINS } from '../python/builtins.js';
import { readCodeUnits, type CodeUnit } from '../python/code-units.js';
import { toPlainPython } from '../python/ipython-syntax.js';
import { readMetricPrints, readParameterAssignments } from '../python/read-literals.js';
import { EMPTY_CELL_TAGS, parseCellTags, type CellTags } from '../tags/cell-tags.js';
import { durationToSeconds } from '../tags/tag-value-limits.js';
import type { NotebookSettings } from '../tags/notebook-settings.js';
import type {
  PipelineGraph,
  PipelineMetric,
  PipelineParameter,
  PipelineStep,
  StepResources,
  StepUnit,
} from './pipeline-graph.js';
import { readBlocks, type Block } from './read-blocks.js';

/** The pseudo-variable that carries the global random generators' state between steps. */
export const RANDOM_STATE_VARIABLE = 'random-state';
const RANDOM_STATE = RANDOM_STATE_VARIABLE;

export interface BuildGraphOptions {
  /** Used for the pipeline name when the notebook metadata has none (`digits.ipynb` -> `digits`). */
  readonly fileName?: string;
  /** Image for steps without `image:` and without a notebook default. */
  readonly defaultImage?: string;
}

export const DEFAULT_IMAGE = 'python:3.11';

export interface BuildGraphResult {
  readonly graph: PipelineGraph;
  /** Plain-Python code of every analysed cell (IPython syntax rewritten), by cell index. */
  readonly code: ReadonlyMap<number, string>;
  readonly diagnostics: Diagnostic[];
}

/** A code unit, numbered in the order units were read. */
interface UnitRef {
  readonly id: number;
  readonly unit: CodeUnit;
  /** From an `imports`/`functions` cell: there in every step. */
  readonly global: boolean;
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
  readonly after: Set<string>;
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

/** KFP pipeline names: lowercase letters, digits and '-'. */
export function toPipelineName(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/\.ipynb$/, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 128);
  return s === '' ? 'pipeline' : /^[0-9]/.test(s) ? `p-${s}` : s;
}

/** `sum_result` -> `sum-result` (Kale's convention; valid KFP and Katib metric names). */
export function toMetricName(variable: string): string {
  return (
    variable
      .toLowerCase()
      .replace(/_/g, '-')
      .replace(/^-+|-+$/g, '') || 'metric'
  );
}

export { durationToSeconds };

/** `%%writefile name.py` as the runtime call it becomes: the module name it writes. */
const WRITTEN_MODULE = /__cellflow__\.write_file\((['"])(\w+)\.py\1/g;
/** The top-level module of each `import a.b` / `from a.b import c` at a line's start. */
const IMPORTED_MODULE = /^[ \t]*(?:from[ \t]+(\w+)|import[ \t]+(\w+))/gm;

/** Later tags win over earlier ones (defaults, then each cell of the step in order). */
function mergeTags(layers: readonly CellTags[]): CellTags {
  let out: CellTags = EMPTY_CELL_TAGS;
  for (const t of layers) {
    out = {
      role: t.role.kind !== 'continue' ? t.role : out.role,
      prev: [...out.prev, ...t.prev.filter((p) => !out.prev.includes(p))],
      ...((t.image ?? out.image) !== undefined ? { image: (t.image ?? out.image)! } : {}),
      ...((t.cache ?? out.cache) !== undefined ? { cache: (t.cache ?? out.cache)! } : {}),
      ...((t.gpu ?? out.gpu) !== undefined ? { gpu: (t.gpu ?? out.gpu)! } : {}),
      ...((t.gpuVendor ?? out.gpuVendor) !== undefined
        ? { gpuVendor: (t.gpuVendor ?? out.gpuVendor)! }
        : {}),
      ...((t.cpu ?? out.cpu) !== undefined ? { cpu: (t.cpu ?? out.cpu)! } : {}),
      ...((t.memory ?? out.memory) !== undefined ? { memory: (t.memory ?? out.memory)! } : {}),
      limits: { ...out.limits, ...t.limits },
      ...((t.retries ?? out.retries) !== undefined ? { retries: (t.retries ?? out.retries)! } : {}),
      ...((t.timeout ?? out.timeout) !== undefined ? { timeout: (t.timeout ?? out.timeout)! } : {}),
      env: { ...out.env, ...t.env },
      secrets: [...out.secrets, ...t.secrets],
      labels: { ...out.labels, ...t.labels },
      annotations: { ...out.annotations, ...t.annotations },
      serve: [...out.serve, ...t.serve.filter((s) => !out.serve.includes(s))],
      packages: [...out.packages, ...t.packages.filter((p) => !out.packages.includes(p))],
      foreign: [...out.foreign, ...t.foreign],
    };
  }
  return out;
}

function resourcesOf(tags: CellTags): StepResources {
  const vendor = tags.gpuVendor ?? 'nvidia';
  return {
    cpu: tags.cpu ?? null,
    memory: tags.memory ?? null,
    gpu:
      tags.gpu !== undefined
        ? {
            count: tags.gpu.count,
            resource: vendor === 'amd' ? 'amd.com/gpu' : 'nvidia.com/gpu',
            product: tags.gpu.product ?? null,
          }
        : null,
    limits: tags.limits,
  };
}

export function buildPipelineGraph(
  notebook: Notebook,
  settings: NotebookSettings,
  options: BuildGraphOptions = {},
): BuildGraphResult {
  const diagnostics: Diagnostic[] = [];
  const { blocks, segments, diagnostics: blockDiagnostics } = readBlocks(notebook);
  diagnostics.push(...blockDiagnostics);
  const code = new Map<number, string>();
  const magicEnv = new Map<number, readonly { name: string; value: string }[]>();
  const cellSource = (i: number): string => notebook.cells[i]?.source ?? '';

  const plain = (cell: number): string => {
    const cached = code.get(cell);
    if (cached !== undefined) return cached;
    const converted = toPlainPython(cellSource(cell));
    for (const n of converted.notes)
      diagnostics.push(diagnosticFor(n.code, cell, n.line, n.message));
    code.set(cell, converted.code);
    magicEnv.set(cell, converted.env);
    return converted.code;
  };

  const reportProblems = (analysis: CodeAnalysis): void => {
    for (const e of analysis.syntaxErrors) {
      diagnostics.push({
        severity: 'error',
        code: 'syntax-error',
        cell: e.cell,
        line: e.line,
        message:
          e.tooDeep !== undefined
            ? `This line is nested too deeply: ${e.tooDeep}. Fix: split the expression into named parts (intermediate variables or a loop).`
            : `Python syntax error: \`${excerptOfLine(e.text)}\`. Fix: correct the line (run the cell in the notebook to see Python's message).`,
      });
    }
    for (const s of analysis.starImports) {
      diagnostics.push({
        severity: 'warning',
        code: 'import-star',
        cell: s.cell,
        line: s.line,
        message: `\`import *\` hides which names it defines, so Cellflow cannot check them. Fix: import the names you use explicitly.`,
      });
    }
  };

  /** How often a name appears as a word in the pipeline's code (an import's own line counts). */
  const codeCells = notebook.cells.filter((c) => c.kind === 'code');
  const mentionCounts = new Map<string, number>();
  const mentions = (name: string): number => {
    let count = mentionCounts.get(name);
    if (count === undefined) {
      count = 0;
      for (const cell of codeCells) count += wordsOf(cell.source).get(name) ?? 0;
      mentionCounts.set(name, count);
    }
    return count;
  };

  // ---- code units: imports, definitions, configuration, in notebook order ----
  const unitsOfCell = new Map<number, UnitRef[]>();
  let unitCount = 0;
  const unitsOf = (cell: number, global: boolean): UnitRef[] => {
    let refs = unitsOfCell.get(cell);
    if (refs === undefined) {
      refs = readCodeUnits(cell, plain(cell)).map((unit) => ({ id: unitCount++, unit, global }));
      unitsOfCell.set(cell, refs);
    }
    return refs;
  };

  // ---- imports and functions cells: code for every step; other statements run once ----
  const preludeBlocks = blocks.filter((b) => b.kind === 'imports' || b.kind === 'functions');
  const preludeCells = preludeBlocks.flatMap((b) => b.cells);
  const globalUnits = new Map<string, UnitRef>();
  const globalConfig: UnitRef[] = [];
  const hostCells = new Map<Block, number[]>();
  /** An `import *` seen so far: names it may define are not reported as undefined. */
  let starSoFar = false;
  {
    const prelude = analyzeCells(preludeCells, plain);
    reportProblems(prelude);
    starSoFar = prelude.starImports.length > 0;
    const stepBlocks = blocks.filter((b) => b.kind === 'step');
    for (const cell of preludeCells) {
      const refs = unitsOf(cell, true);
      for (const ref of refs) {
        if (ref.unit.kind === 'seed') continue;
        if (isAmbient(ref, mentions)) globalConfig.push(ref);
        else for (const n of ref.unit.names) globalUnits.set(n, ref);
      }
      // What is left (data statements, and seeding: the random state then flows) runs once, in
      // the step after the cell (else the one before).
      const rest = blankUnits(
        plain(cell),
        refs.filter((r) => r.unit.kind !== 'seed'),
      );
      code.set(cell, rest);
      if (isBlankCode(rest)) continue;
      const host =
        stepBlocks.find((b) => b.cells[0]! > cell) ??
        [...stepBlocks].reverse().find((b) => b.cells[0]! < cell);
      if (host === undefined) continue;
      hostCells.set(host, [...(hostCells.get(host) ?? []), cell]);
    }
  }

  // ---- parameters cells ----
  const parameters = new Map<string, PipelineParameter>();
  for (const block of blocks.filter((b) => b.kind === 'parameters')) {
    for (const cell of block.cells) {
      const { parameters: found, problems } = readParameterAssignments(plain(cell));
      for (const p of problems) {
        diagnostics.push({
          severity: 'error',
          code: 'non-literal-parameter',
          cell,
          line: p.line,
          message: p.message,
        });
      }
      for (const p of found)
        parameters.set(p.name, {
          name: p.name,
          type: p.type,
          default: p.value,
          cell,
          line: p.line,
        });
    }
  }

  const settingsDefaults = mergeTags(settings.stepDefaults.map((t) => parseCellTags([t]).tags));
  const drafts: StepDraft[] = [];
  const draftOf = new Map<Block, StepDraft>();
  const current = new Map<string, Source>();
  const metrics: PipelineMetric[] = [];
  /** Step cells' configuration, seed and `import *` units seen so far, in notebook order. */
  const stepConfig: { ref: UnitRef; step: StepDraft }[] = [];
  let seeded = false;
  const laterDefinitions = new Map<string, { step: string; cell: number }>();
  const everBound = new Set<string>([...globalUnits.keys(), ...parameters.keys()]);
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

  const undefinedName = (draft: StepDraft | null, site: NameSite, what: string): void => {
    const later = laterDefinitions.get(site.name);
    const where = draft !== null ? `Step \`${draft.name}\`` : 'The metrics cell';
    const laterText =
      later !== undefined && later.step !== draft?.name
        ? ` It is first defined in step \`${later.step}\` (${describeCell(later.cell)}), which comes later in the notebook. Fix: move that cell above this one, or define \`${site.name}\` earlier.`
        : ` Fix: define \`${site.name}\` in an earlier step, import it in the \`imports\` cell, or add it to the \`pipeline-parameters\` cell.`;
    diagnostics.push({
      severity: 'error',
      code: 'undefined-name',
      cell: site.cell,
      line: site.line,
      message: `${where} ${what} \`${site.name}\`, but no earlier cell of the pipeline defines it.${laterText}`,
    });
  };

  /** Loads a value produced by an earlier step into `draft`. */
  const loadFrom = (draft: StepDraft, name: string, source: Source & { kind: 'step' }): void => {
    if (source.carried !== undefined) loadFrom(source.step, name, source.carried);
    loadInput(draft, name, source.step, source.cell);
  };
  const loadInput = (draft: StepDraft, name: string, source: StepDraft, cell: number): void => {
    if (source === draft) return;
    draft.inputs.set(name, source.name);
    draft.after.add(source.name);
    source.outputs.set(name, cell);
    // The value may hold instances of notebook classes or notebook functions (`acc = Acc()`,
    // `FunctionTransformer(func=f)`): their definitions can run on demand while it loads.
    // Through the values it was made from too (`models = [svc]`, `svc = MySVC()`).
    const seen = new Set([name]);
    const pending = [name];
    for (let v = pending.pop(); v !== undefined; v = pending.pop()) {
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
    return entry;
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
        undefinedName(draft, site, 'calls a function that uses');
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
        diagnostics.push({
          severity: 'error',
          code: 'deleted-name',
          cell: site.cell,
          line: site.line,
          message: `Step \`${draft.name}\` ${what} \`${site.name}\`, but step \`${source.step.name}\` deleted it (${describeCell(source.cell)}). Fix: remove the \`del\`, or stop using the name here.`,
        });
        return null;
      case 'skipped':
        if (what === null) return null;
        diagnostics.push({
          severity: 'error',
          code: 'defined-in-skipped-cell',
          cell: site.cell,
          line: site.line,
          message: `Step \`${draft.name}\` ${what} \`${site.name}\`, which only ${describeCell(source.cell)} defines, and that cell is not part of the pipeline (tagged \`skip\` or untagged). Fix: tag ${describeCell(source.cell)} as a step, or define \`${site.name}\` in a step.`,
        });
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
  const warnedContinued = new Set<string>();

  /** A config or seed unit holds only while its root is still the module it imported. */
  const rootIsImport = (ref: UnitRef): boolean => {
    if (ref.unit.root === null) return false;
    const s = resolve(ref.unit.root);
    return s?.kind === 'code' && s.ref.unit.kind === 'import';
  };

  const newDraft = (block: Block): StepDraft => {
    const draft: StepDraft = {
      block,
      name: block.name,
      analysis: analyzeCells([], plain),
      written: new Set(),
      starVisible: starSoFar,
      tags: mergeTags([settingsDefaults, ...block.tags]),
      after: new Set(),
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
    for (const w of analyseQuietly(ownCells, plain).writes) draft.written.add(w.name);
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
      preludeCells.includes(c)
        ? unitsOf(c, true).filter((r) => r.unit.kind === 'seed')
        : unitsOf(c, false),
    );
    const seeds = ownUnits.filter((r) => r.unit.kind === 'seed' && rootIsImportHere(r));
    if (seeded && analysis.callsNonBuiltin && seeds.length === 0) {
      const s = current.get(RANDOM_STATE);
      if (s?.kind === 'step') loadInput(draft, RANDOM_STATE, s.step, s.cell);
    }

    for (const [name, reads] of analysis.valueReads) {
      const all = valueReads.get(name) ?? new Set<string>();
      for (const r of reads) all.add(r);
      valueReads.set(name, all);
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
    const ownMutations = firstSegment ? analysis.mutations : analyseQuietly(own, plain).mutations;
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
        diagnostics.push({
          severity: 'warning',
          code: 'continued-step-changes-value',
          cell: site.cell,
          line: site.line,
          message:
            `This cell continues step \`${draft.name}\` (its name is used again) and changes \`${site.name}\`, which ${between.map((b) => `\`${b}\``).join(', ')} above it already use${between.length === 1 ? 's' : ''}: a step runs all its cells before the steps after it, so they see \`${site.name}\` as it is after this cell. ` +
            `Fix: give this cell a step name of its own.`,
        });
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
    for (const ref of ownUnits) if (isAmbient(ref, mentions)) stepConfig.push({ ref, step: draft });
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
        for (const p of parameters.values())
          if (segment.cells.includes(p.cell)) current.set(p.name, { kind: 'parameter' });
        continue;
      case 'skip':
      case 'untagged': {
        const analysis = analyseQuietly(segment.cells, plain);
        for (const w of analysis.writes) current.set(w.name, { kind: 'skipped', cell: w.cell });
        if (block.kind === 'untagged' && segment.cells[0] === block.cells[0])
          diagnostics.push(untaggedCellDiagnostic(block.cells[0]!, analysis));
        continue;
      }
      case 'metrics': {
        const host = drafts[drafts.length - 1];
        for (const cell of segment.cells) {
          const { metrics: prints, problems } = readMetricPrints(plain(cell));
          for (const p of problems) {
            diagnostics.push({
              severity: 'error',
              code: 'bad-metrics-cell',
              cell,
              line: p.line,
              message: p.message,
            });
          }
          for (const m of prints) {
            if (host === undefined) {
              diagnostics.push({
                severity: 'error',
                code: 'metrics-before-steps',
                cell,
                line: m.line,
                message: `The metrics cell comes before any step, so no step can report \`${m.variable}\`. Fix: move it after the steps.`,
              });
              continue;
            }
            const name = toMetricName(m.variable);
            if (metrics.some((x) => x.name === name)) continue;
            need(host, { name: m.variable, cell, line: m.line }, true, 'reports the metric');
            metrics.push({ name, variable: m.variable, cell, line: m.line, step: host.name });
            host.metrics.push(name);
          }
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

  for (const draft of drafts) {
    reportProblems(draft.analysis);
    if (draft.block.cells.every((c) => plain(c).trim() === '')) {
      diagnostics.push({
        severity: 'warning',
        code: 'empty-step',
        cell: draft.block.cells[0]!,
        line: null,
        message: `Step \`${draft.name}\` has no code. Fix: add code, or remove the \`step:${draft.name}\` tag.`,
      });
    }
  }
  // ---- prev: edges, then cycles ----
  const order = new Map(drafts.map((d, i) => [d.name, i]));
  for (const draft of drafts) {
    for (const prev of draft.tags.prev) {
      const at = order.get(prev);
      const cell = draft.block.cells[0]!;
      if (at === undefined) {
        const names = [...order.keys()];
        diagnostics.push({
          severity: 'error',
          code: 'unknown-prev',
          cell,
          line: null,
          message: `\`prev:${prev}\` on step \`${draft.name}\` names no step. Steps: ${names.map((n) => `\`${n}\``).join(', ')}. Fix: correct the name or remove the tag.`,
        });
      } else if (prev === draft.name) {
        diagnostics.push({
          severity: 'error',
          code: 'cycle',
          cell,
          line: null,
          message: `Step \`${draft.name}\` lists itself in \`prev:\`. Fix: remove \`prev:${prev}\`.`,
        });
      } else {
        if (at > order.get(draft.name)!) {
          diagnostics.push({
            severity: 'error',
            code: 'prev-to-later-step',
            cell,
            line: null,
            message: `Step \`${draft.name}\` waits for \`${prev}\` (\`prev:${prev}\`), which comes later in the notebook; steps run in notebook order. Fix: move step \`${prev}\` above this cell, or remove the tag.`,
          });
        }
        draft.after.add(prev);
      }
    }
  }
  const cycle = findCycle(drafts);
  if (cycle !== null) {
    const first = drafts.find((d) => d.name === cycle[0])!;
    diagnostics.push({
      severity: 'error',
      code: 'cycle',
      cell: first.block.cells[0]!,
      line: null,
      message: `Steps depend on each other in a loop: ${cycle.join(' -> ')}. Fix: remove one of the \`prev:\` tags in the loop, or keep a step's cells before the cells of the steps that use its values.`,
    });
  }

  // Files are shared state the data flow does not see: a step that reads or writes files (or runs
  // a shell command) runs after every step above it that may write them, as in the notebook.
  // A module the notebook writes (`%%writefile helper.py`) is a file its importers read.
  const writtenModules = new Set<string>();
  for (let cell = 0; cell < notebook.cells.length; cell++)
    if (notebook.cells[cell]!.kind === 'code')
      for (const m of plain(cell).matchAll(WRITTEN_MODULE)) writtenModules.add(m[2]!);
  const importsWritten = (code: string): boolean =>
    writtenModules.size > 0 &&
    [...code.matchAll(IMPORTED_MODULE)].some((m) => writtenModules.has(m[1] ?? m[2]!));
  const touchesFiles = (d: StepDraft): FileAccess => {
    const eager = [...d.units.values()].filter((u) => u.eager).map((u) => u.ref.unit);
    const units = eager.map((u) => u.fileAccess);
    return {
      reads:
        d.analysis.fileAccess.reads ||
        units.some((u) => u.reads) ||
        eager.some((u) => u.kind === 'import' && importsWritten(u.code)) ||
        d.cells.some((c) => importsWritten(plain(c))),
      writes: d.analysis.fileAccess.writes || units.some((u) => u.writes),
    };
  };
  const writers: StepDraft[] = [];
  for (const d of drafts) {
    const access = touchesFiles(d);
    if (!access.reads && !access.writes) continue;
    for (const w of writers) if (w !== d) d.after.add(w.name);
    if (access.writes) writers.push(d);
  }

  const image = settings.image ?? options.defaultImage ?? DEFAULT_IMAGE;
  // `%env` in a step changes its process; later steps run in new processes and get it explicitly.
  const inheritedEnv = new Map<StepDraft, Record<string, string>>();
  let envSoFar: Record<string, string> = {};
  for (const d of drafts) {
    inheritedEnv.set(d, envSoFar);
    envSoFar = { ...envSoFar };
    for (const c of d.cells) for (const e of magicEnv.get(c) ?? []) envSoFar[e.name] = e.value;
  }
  const steps: PipelineStep[] = drafts.map((d) => {
    const sortedAfter = [...d.after].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    const inputs = [...d.inputs.keys()].sort();
    // A model to serve is saved even when no later step loads it.
    for (const v of d.tags.serve)
      if ((d.written.has(v) || d.inputs.has(v)) && !d.outputs.has(v))
        d.outputs.set(v, d.cells[d.cells.length - 1]!);
    const outputs = [...d.outputs.keys()].sort();
    for (const o of outputs) {
      const origin = d.analysis.unsavable.get(o);
      if (origin === undefined) continue;
      const users = drafts.filter((u) => u.inputs.get(o) === d.name).map((u) => `\`${u.name}\``);
      diagnostics.push({
        severity: 'error',
        code: 'unsavable-value',
        cell: origin.cell,
        line: origin.line,
        message:
          `\`${o}\` is ${origin.what}, which cannot be passed from step \`${d.name}\` to ${users.join(', ') || 'a later step'}. ` +
          `Fix: ${UNSAVABLE_FIX[origin.what] ?? 'create it in the step that uses it'}.`,
      });
    }
    for (const s of d.tags.serve) {
      if (!d.written.has(s) && !d.inputs.has(s)) {
        diagnostics.push({
          severity: 'error',
          code: 'unknown-serve-variable',
          cell: d.block.cells[0]!,
          line: null,
          message: `\`serve:${s}\` on step \`${d.name}\`: the step neither defines nor loads \`${s}\`. Fix: tag the step that trains the model.`,
        });
      }
    }
    return {
      name: d.name,
      cells: d.cells,
      after: sortedAfter,
      units: stepUnits(d),
      inputs,
      inputSources: Object.fromEntries(inputs.map((i) => [i, d.inputs.get(i)!])),
      parameters: [...d.parameters].sort(),
      outputs,
      outputCells: Object.fromEntries(outputs.map((o) => [o, d.outputs.get(o)!])),
      shared: sharing
        .partition(outputs.map((o) => d.versions.get(o) ?? o))
        .map((g) => g.map((k) => k.slice(0, k.lastIndexOf('#')))),
      metrics: d.metrics,
      image: d.tags.image ?? image,
      resources: resourcesOf(d.tags),
      labels: d.tags.labels,
      annotations: d.tags.annotations,
      env: { ...inheritedEnv.get(d), ...d.tags.env },
      secrets: d.tags.secrets,
      retries: d.tags.retries ?? 0,
      timeoutSeconds: d.tags.timeout !== undefined ? durationToSeconds(d.tags.timeout) : null,
      cache: d.tags.cache ?? true,
      serve: d.tags.serve,
      packages: d.tags.packages,
    };
  });

  if (steps.length === 0 && !diagnostics.some((d) => d.severity === 'error')) {
    diagnostics.push({
      severity: 'error',
      code: 'no-steps',
      cell: null,
      line: null,
      message:
        'The notebook has no steps. Fix: tag the first cell of each step `step:NAME` (e.g. `step:load_data`).',
    });
  }

  return {
    graph: {
      pipeline: {
        name: toPipelineName(settings.name ?? options.fileName ?? 'pipeline'),
        description: settings.description ?? '',
        experiment: settings.experiment ?? null,
      },
      parameters: [...parameters.values()],
      metrics,
      preludeCells,
      steps,
    },
    code,
    diagnostics,
  };
}

/** How to keep each kind of value that cannot be saved out of what crosses steps. */
const UNSAVABLE_FIX: Readonly<Record<string, string>> = {
  'a generator':
    'make a list instead (`[... for ...]`), or create the generator in the step that uses it',
  'an open file':
    "keep the file's path in a variable and open the file in the step that reads it (`with open(path) as f:`)",
  'a CSV reader or writer on an open file':
    'read the rows into a list in the step that opens the file, or open it in the step that uses it',
  'a database connection':
    'keep the connection settings in variables and connect in the step that uses the connection',
  'a database cursor':
    'fetch the rows into a variable (`rows = cursor.fetchall()`) in the same step',
  'an open network response': 'read the data (`data = response.read()`) in the step that opens it',
};

/** Names whose values may share objects, as disjoint groups (union-find with member lists). */
class SharingGroups {
  private readonly parent = new Map<string, string>();
  private readonly groups = new Map<string, string[]>();

  private find(name: string): string {
    let root = name;
    for (let p = this.parent.get(root); p !== undefined && p !== root; p = this.parent.get(root))
      root = p;
    // Path compression: later look-ups are one step.
    for (let n = name; n !== root;) {
      const next = this.parent.get(n)!;
      this.parent.set(n, root);
      n = next;
    }
    return root;
  }

  union(a: string, b: string): void {
    for (const n of [a, b])
      if (!this.parent.has(n)) {
        this.parent.set(n, n);
        this.groups.set(n, [n]);
      }
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if (this.groups.get(ra)!.length < this.groups.get(rb)!.length) [ra, rb] = [rb, ra];
    this.parent.set(rb, ra);
    this.groups.get(ra)!.push(...this.groups.get(rb)!);
    this.groups.delete(rb);
  }

  members(name: string): readonly string[] {
    return this.parent.has(name) ? this.groups.get(this.find(name))! : [name];
  }

  /** The groups of two or more among `names`. */
  partition(names: readonly string[]): string[][] {
    const groups = new Map<string, string[]>();
    for (const n of names) {
      const root = this.parent.has(n) ? this.find(n) : n;
      groups.set(root, [...(groups.get(root) ?? []), n]);
    }
    return [...groups.values()].filter((g) => g.length > 1);
  }
}

/**
 * Units that hold in every later step rather than bind a name used later: configuration, seeds,
 * `import *`, and imports kept for their effect (`from sklearn.experimental import
 * enable_halving_search_cv`: its name is used nowhere else).
 */
function isAmbient(ref: UnitRef, mentions: (name: string) => number): boolean {
  return (
    ref.unit.kind === 'config' ||
    ref.unit.kind === 'seed' ||
    ref.unit.names.length === 0 ||
    (ref.unit.kind === 'import' && ref.unit.names.every((n) => mentions(n) <= 1))
  );
}

/** The units a step runs again, in notebook order, with their needs as positions in the list. */
function stepUnits(draft: StepDraft): StepUnit[] {
  const entries = [...draft.units.values()].sort(
    (a, b) => a.ref.unit.cell - b.ref.unit.cell || a.ref.unit.from - b.ref.unit.from,
  );
  const position = new Map(entries.map((e, i) => [e.ref.id, i]));
  return entries.map((e) => ({
    kind: e.ref.unit.kind,
    cell: e.ref.unit.cell,
    line: e.ref.unit.line,
    code: e.ref.unit.code,
    names: e.ref.unit.names,
    eager: e.eager,
    needs: [...e.needs].flatMap((id) => (position.has(id) ? [position.get(id)!] : [])).sort(),
    inputs: [...e.inputs].sort(),
  }));
}

/** The cell's code with the given units' statements blanked out (lines and columns kept). */
function blankUnits(code: string, refs: readonly UnitRef[]): string {
  let out = code;
  for (const { unit } of refs)
    out =
      out.slice(0, unit.from) +
      out.slice(unit.from, unit.to).replace(/[^\n]/g, ' ') +
      out.slice(unit.to);
  return out;
}

/** Nothing to run: blank lines, comments, and the `pass` lines session-only magics become. */
function isBlankCode(code: string): boolean {
  return code.split('\n').every((l) => /^\s*(pass\b\s*)?(#.*)?$/.test(l));
}

/** True when one of `cells` binds `name` (its last binding so far is there). */
function bindsIn(analysis: CodeAnalysis, name: string, cells: readonly number[]): boolean {
  const last = analysis.lastBindings.get(name);
  return last !== undefined && cells.includes(last.cell);
}

/** Code above the first step with no tag: offer to make it the imports cell when that is all it does. */
function untaggedCellDiagnostic(cell: number, analysis: CodeAnalysis): Diagnostic {
  const onlyImports =
    analysis.writes.length > 0 && analysis.imports.length === analysis.writes.length;
  return {
    severity: 'warning',
    code: 'untagged-cell',
    cell,
    line: null,
    message: onlyImports
      ? `This cell imports modules but has no tag and no step above it, so steps do not get its imports. Fix: tag it \`imports\`.`
      : `This cell has no tag and no step above it, so it is not part of the pipeline. Fix: tag it \`step:NAME\` (or \`imports\`, \`functions\`, \`skip\`).`,
    ...(onlyImports
      ? { fix: { title: 'Tag the cell `imports`', tags: { cell, tags: ['imports'] } } }
      : {}),
  };
}

/** Analysis of cells outside the pipeline, only to know what they define; their problems are not reported. */
function analyseQuietly(cells: readonly number[], plain: (c: number) => string): CodeAnalysis {
  return analyzeCells(cells, plain);
}

/** How often each word appears in a cell's source (remembered by source). */
const wordCountsBySource = new BoundedCache<ReadonlyMap<string, number>>(8192);
function wordsOf(source: string): ReadonlyMap<string, number> {
  return wordCountsBySource.get(source, () => {
    const counts = new Map<string, number>();
    for (const word of source.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])
      counts.set(word, (counts.get(word) ?? 0) + 1);
    return counts;
  });
}

function findCycle(drafts: readonly StepDraft[]): string[] | null {
  const byName = new Map(drafts.map((d) => [d.name, d]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of byName.get(name)?.after ?? []) {
      const found = visit(dep);
      if (found !== null) return found;
    }
    stack.pop();
    state.set(name, 'done');
    return null;
  };
  for (const d of drafts) {
    const found = visit(d.name);
    if (found !== null) return found.reverse();
  }
  return null;
}
