/**
 * Passes 3-4: analyse each block's Python, resolve every free name to the nearest earlier producer
 * (notebook order), and build + validate the step graph.
 *
 * The contract: running the pipeline gives the results of running the notebook top to bottom.
 * A step loads each free variable from the nearest earlier step that binds or changes it in place;
 * `imports`/`functions` cells are prepended to every step; parameters become pipeline inputs.
 */
import type { Diagnostic } from '../diagnostics.js';
import type { Notebook } from '../notebook/notebook.js';
import { PythonAnalyzer, type CodeAnalysis, type NameSite } from '../python/analyze-python.js';
import { toPlainPython } from '../python/ipython-syntax.js';
import { readMetricPrints, readParameterAssignments } from '../python/read-literals.js';
import { EMPTY_CELL_TAGS, parseCellTags, type CellTags } from '../tags/cell-tags.js';
import type { NotebookSettings } from '../tags/notebook-settings.js';
import type {
  PipelineGraph,
  PipelineMetric,
  PipelineParameter,
  PipelineStep,
  StepResources,
} from './pipeline-graph.js';
import { readBlocks, type Block } from './read-blocks.js';

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

type Source =
  | { readonly kind: 'prelude' }
  | { readonly kind: 'parameter' }
  | { readonly kind: 'step'; readonly step: StepDraft; readonly cell: number }
  | { readonly kind: 'deleted'; readonly step: StepDraft; readonly cell: number }
  | { readonly kind: 'skipped'; readonly cell: number };

interface StepDraft {
  readonly block: Block;
  readonly name: string;
  readonly analysis: CodeAnalysis;
  /** Names the step binds anywhere (for quick look-ups). */
  readonly written: ReadonlySet<string>;
  readonly tags: CellTags;
  readonly after: Set<string>;
  readonly inputs: Map<string, string>;
  readonly parameters: Set<string>;
  readonly outputs: Map<string, number>;
  readonly metrics: string[];
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

/** `1h30m` -> 5400. */
export function durationToSeconds(duration: string): number {
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+)([dhms])/g)) {
    total += Number(n) * { d: 86400, h: 3600, m: 60, s: 1 }[unit as 'd' | 'h' | 'm' | 's'];
  }
  return total;
}

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
  const { blocks, diagnostics: blockDiagnostics } = readBlocks(notebook);
  diagnostics.push(...blockDiagnostics);
  const code = new Map<number, string>();
  const magicEnv = new Map<number, readonly { name: string; value: string }[]>();
  const cellSource = (i: number): string => notebook.cells[i]?.source ?? '';

  const plain = (cell: number): string => {
    const cached = code.get(cell);
    if (cached !== undefined) return cached;
    const converted = toPlainPython(cellSource(cell));
    for (const n of converted.notes) {
      diagnostics.push({
        severity: n.severity,
        code: n.code,
        cell,
        line: n.line,
        message: `Cell ${cell}, line ${n.line}: ${n.message}`,
      });
    }
    code.set(cell, converted.code);
    magicEnv.set(cell, converted.env);
    return converted.code;
  };

  const analyse = (cells: readonly number[]): CodeAnalysis => {
    const analyzer = new PythonAnalyzer();
    for (const c of cells) analyzer.addCell(c, plain(c));
    const analysis = analyzer.result();
    for (const e of analysis.syntaxErrors) {
      diagnostics.push({
        severity: 'error',
        code: 'syntax-error',
        cell: e.cell,
        line: e.line,
        message: `Python syntax error in cell ${e.cell}, line ${e.line}: \`${e.text.trim()}\`. Fix: correct the line (run the cell in the notebook to see Python's message).`,
      });
    }
    for (const s of analysis.starImports) {
      diagnostics.push({
        severity: 'warning',
        code: 'import-star',
        cell: s.cell,
        line: s.line,
        message: `\`import *\` in cell ${s.cell}, line ${s.line} hides which names it defines, so Cellflow cannot check them. Fix: import the names you use explicitly.`,
      });
    }
    return analysis;
  };

  // ---- prelude: imports and functions cells ----
  const preludeCells = blocks
    .filter((b) => b.kind === 'imports' || b.kind === 'functions')
    .flatMap((b) => b.cells);
  const prelude = analyse(preludeCells);
  const preludeNames = new Set(prelude.writes.map((w) => w.name));
  const starVisible = prelude.starImports.length > 0;
  for (const r of prelude.freeReads) {
    diagnostics.push({
      severity: 'error',
      code: 'prelude-uses-variable',
      cell: r.cell,
      line: r.line,
      message:
        `Cell ${r.cell}, line ${r.line} uses \`${r.name}\` at definition time, but \`imports\`/\`functions\` cells run before every step and cannot see step variables. ` +
        'Fix: move that line into a step, or only use the name inside a function body.',
    });
  }
  /** Module-level names a prelude function needs when called, transitively through other prelude functions. */
  const functionGlobals = (name: string, seen = new Set<string>()): string[] => {
    const def = prelude.definitions.get(name);
    if (def === undefined || seen.has(name)) return [];
    seen.add(name);
    return def.globals.flatMap((g) =>
      prelude.definitions.has(g) ? functionGlobals(g, seen) : preludeNames.has(g) ? [] : [g],
    );
  };

  // ---- parameters and metrics cells ----
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
          message: `Cell ${cell}: ${p.message}`,
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
  const current = new Map<string, Source>();
  const metrics: PipelineMetric[] = [];
  const laterDefinitions = new Map<string, { step: string; cell: number }>();
  const stepBlocks = blocks.filter((b) => b.kind === 'step');
  const stepAnalyses = new Map<Block, CodeAnalysis>(stepBlocks.map((b) => [b, analyse(b.cells)]));
  for (const b of stepBlocks) {
    for (const w of stepAnalyses.get(b)!.writes)
      if (!laterDefinitions.has(w.name))
        laterDefinitions.set(w.name, { step: b.name, cell: w.cell });
  }

  /** The nearest producer; names the prelude also defines are always there (it runs in every step). */
  const resolve = (name: string): Source | undefined => {
    const source = current.get(name);
    if (preludeNames.has(name) && (source === undefined || source.kind === 'skipped'))
      return { kind: 'prelude' };
    return source;
  };

  const undefinedName = (draft: StepDraft | null, site: NameSite, what: string): void => {
    const later = laterDefinitions.get(site.name);
    const where = draft !== null ? `Step \`${draft.name}\`` : 'The metrics cell';
    const laterText =
      later !== undefined && later.step !== draft?.name
        ? ` It is first defined in step \`${later.step}\` (cell ${later.cell}), which comes later in the notebook. Fix: move that cell above cell ${site.cell}, or define \`${site.name}\` earlier.`
        : ` Fix: define \`${site.name}\` in an earlier step, import it in the \`imports\` cell, or add it to the \`pipeline-parameters\` cell.`;
    diagnostics.push({
      severity: 'error',
      code: 'undefined-name',
      cell: site.cell,
      line: site.line,
      message: `${where} ${what} \`${site.name}\` (cell ${site.cell}, line ${site.line}), but no earlier cell of the pipeline defines it.${laterText}`,
    });
  };

  /** Connects a read of `name` by `draft` to its producer. */
  const connect = (draft: StepDraft, site: NameSite, what: string, starHere: boolean): void => {
    const source = resolve(site.name);
    if (source === undefined) {
      const boundHere = draft.written.has(site.name);
      if (!boundHere && !starVisible && !starHere) undefinedName(draft, site, what);
      return;
    }
    switch (source.kind) {
      case 'prelude':
        return;
      case 'parameter':
        draft.parameters.add(site.name);
        return;
      case 'step':
        if (source.step === draft) return;
        draft.inputs.set(site.name, source.step.name);
        draft.after.add(source.step.name);
        source.step.outputs.set(site.name, source.cell);
        if (source.step.analysis.definitions.has(site.name)) {
          const def = source.step.analysis.definitions.get(site.name)!;
          diagnostics.push({
            severity: 'error',
            code: 'function-across-steps',
            cell: site.cell,
            line: site.line,
            message:
              `Step \`${draft.name}\` uses \`${site.name}\`, a function or class defined in step \`${source.step.name}\` (cell ${def.site.cell}, line ${def.site.line}). ` +
              `Functions and classes cannot be passed between steps. Fix: tag cell ${def.site.cell} \`functions\` (or move the definition into a \`functions\` cell) so every step has it.`,
          });
        }
        return;
      case 'deleted':
        diagnostics.push({
          severity: 'error',
          code: 'deleted-name',
          cell: site.cell,
          line: site.line,
          message: `Step \`${draft.name}\` ${what} \`${site.name}\` (cell ${site.cell}, line ${site.line}), but step \`${source.step.name}\` deleted it (cell ${source.cell}). Fix: remove the \`del\`, or stop using the name here.`,
        });
        return;
      case 'skipped':
        diagnostics.push({
          severity: 'error',
          code: 'defined-in-skipped-cell',
          cell: site.cell,
          line: site.line,
          message: `Step \`${draft.name}\` ${what} \`${site.name}\` (cell ${site.cell}, line ${site.line}), which only cell ${source.cell} defines, and that cell is not part of the pipeline (tagged \`skip\` or untagged). Fix: tag cell ${source.cell} as a step, or define \`${site.name}\` in a step.`,
        });
    }
  };

  for (const block of blocks) {
    switch (block.kind) {
      case 'imports':
      case 'functions':
        continue;
      case 'parameters':
        for (const p of parameters.values())
          if (block.cells.includes(p.cell)) current.set(p.name, { kind: 'parameter' });
        continue;
      case 'skip':
      case 'untagged': {
        const analysis = analyseQuietly(block.cells, plain);
        for (const w of analysis.writes) current.set(w.name, { kind: 'skipped', cell: w.cell });
        if (block.kind === 'untagged')
          diagnostics.push(untaggedCellDiagnostic(block.cells[0]!, analysis));
        continue;
      }
      case 'metrics': {
        const host = drafts[drafts.length - 1];
        for (const cell of block.cells) {
          const { metrics: prints, problems } = readMetricPrints(plain(cell));
          for (const p of problems) {
            diagnostics.push({
              severity: 'error',
              code: 'bad-metrics-cell',
              cell,
              line: p.line,
              message: `Cell ${cell}: ${p.message}`,
            });
          }
          for (const m of prints) {
            if (host === undefined) {
              diagnostics.push({
                severity: 'error',
                code: 'metrics-before-steps',
                cell,
                line: m.line,
                message: `The metrics cell (cell ${cell}) comes before any step, so no step can report \`${m.variable}\`. Fix: move it after the steps.`,
              });
              continue;
            }
            const name = toMetricName(m.variable);
            if (metrics.some((x) => x.name === name)) continue;
            connect(host, { name: m.variable, cell, line: m.line }, 'reports the metric', false);
            metrics.push({ name, variable: m.variable, cell, line: m.line, step: host.name });
            host.metrics.push(name);
          }
        }
        continue;
      }
      case 'step': {
        const analysis = stepAnalyses.get(block)!;
        const draft: StepDraft = {
          block,
          name: block.name,
          analysis,
          written: new Set(analysis.writes.map((w) => w.name)),
          tags: mergeTags([settingsDefaults, ...block.tags]),
          after: new Set(),
          inputs: new Map(),
          parameters: new Set(),
          outputs: new Map(),
          metrics: [],
        };
        const starHere = analysis.starImports.length > 0;
        const direct = [...analysis.freeReads, ...analysis.deferredReads];
        const reads: { site: NameSite; what: string }[] = direct.map((site) => ({
          site,
          what: 'uses',
        }));
        for (const r of direct) {
          for (const g of functionGlobals(r.name)) {
            reads.push({ site: { ...r, name: g }, what: `calls \`${r.name}\`, which uses` });
          }
        }
        const seen = new Set<string>();
        for (const { site, what } of reads) {
          if (seen.has(site.name)) continue;
          seen.add(site.name);
          connect(draft, site, what, starHere);
        }
        if (block.cells.every((c) => plain(c).trim() === '')) {
          diagnostics.push({
            severity: 'warning',
            code: 'empty-step',
            cell: block.cells[0]!,
            line: null,
            message: `Step \`${block.name}\` has no code. Fix: add code, or remove the \`step:${block.name}\` tag.`,
          });
        }
        // What this step leaves behind for later steps.
        for (const m of analysis.mutations) {
          const s = resolve(m.name);
          if (s?.kind === 'step' || s?.kind === 'parameter')
            current.set(m.name, { kind: 'step', step: draft, cell: m.cell });
        }
        const mutationCell = new Map(analysis.mutations.map((m) => [m.name, m.cell]));
        for (const w of analysis.writes)
          current.set(w.name, {
            kind: 'step',
            step: draft,
            cell: Math.max(w.cell, mutationCell.get(w.name) ?? -1),
          });
        for (const d of analysis.deletes)
          current.set(d.name, { kind: 'deleted', step: draft, cell: d.cell });
        drafts.push(draft);
        continue;
      }
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
            message: `Step \`${draft.name}\` waits for \`${prev}\` (\`prev:${prev}\`), which comes later in the notebook; steps run in notebook order. Fix: move step \`${prev}\` above cell ${cell}, or remove the tag.`,
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
      message: `Steps depend on each other in a loop: ${cycle.join(' -> ')}. Fix: remove one of the \`prev:\` tags in the loop.`,
    });
  }

  const image = settings.image ?? options.defaultImage ?? DEFAULT_IMAGE;
  // `%env` in a step changes its process; later steps run in new processes and get it explicitly.
  const inheritedEnv = new Map<StepDraft, Record<string, string>>();
  let envSoFar: Record<string, string> = {};
  for (const d of drafts) {
    inheritedEnv.set(d, envSoFar);
    envSoFar = { ...envSoFar };
    for (const c of d.block.cells)
      for (const e of magicEnv.get(c) ?? []) envSoFar[e.name] = e.value;
  }
  const steps: PipelineStep[] = drafts.map((d) => {
    const sortedAfter = [...d.after].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    const inputs = [...d.inputs.keys()].sort();
    // A model to serve is saved even when no later step loads it.
    for (const v of d.tags.serve)
      if ((d.written.has(v) || d.inputs.has(v)) && !d.outputs.has(v))
        d.outputs.set(v, d.block.cells[d.block.cells.length - 1]!);
    const outputs = [...d.outputs.keys()].sort();
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
      cells: d.block.cells,
      after: sortedAfter,
      inputs,
      inputSources: Object.fromEntries(inputs.map((i) => [i, d.inputs.get(i)!])),
      parameters: [...d.parameters].sort(),
      outputs,
      outputCells: Object.fromEntries(outputs.map((o) => [o, d.outputs.get(o)!])),
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
      ? `Cell ${cell} imports modules but has no tag and no step above it, so steps do not get its imports. Fix: tag it \`imports\`.`
      : `Cell ${cell} has no tag and no step above it, so it is not part of the pipeline. Fix: tag it \`step:NAME\` (or \`imports\`, \`functions\`, \`skip\`).`,
    ...(onlyImports
      ? { fix: { title: 'Tag the cell `imports`', tags: { cell, tags: ['imports'] } } }
      : {}),
  };
}

/** Analysis of cells outside the pipeline, only to know what they define; their problems are not reported. */
function analyseQuietly(cells: readonly number[], plain: (c: number) => string): CodeAnalysis {
  const analyzer = new PythonAnalyzer();
  for (const c of cells) analyzer.addCell(c, plain(c));
  return analyzer.result();
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
