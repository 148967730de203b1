/**
 * The per-step Python entry script: the same file runs a step on the laptop and in a KFP container.
 * It embeds the step runtime, then hands it the step's tables and cell code.
 */
import type { PipelineGraph, PipelineStep, StepUnit } from '../../graph/pipeline-graph.js';
import { RUNTIME_SOURCE } from './runtime-source.generated.js';

/** A Python string literal for `text`: a readable raw triple-quoted string when safe, else escaped. */
export function pythonStringLiteral(text: string): string {
  if (!text.includes("'''") && !/['\\]$/.test(text) && !/[\r\u2028\u2029]/.test(text))
    return `r'''${text}'''`;
  return JSON.stringify(text);
}

/** A Python dict of `keys`, each to the Python text `valueOf` gives for it. */
function dict(keys: readonly string[], valueOf: (key: string) => string): string {
  if (keys.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < keys.length; i++)
    out += `${i > 0 ? ', ' : ''}${JSON.stringify(keys[i])}: ${valueOf(keys[i]!)}`;
  return `${out}}`;
}

function cellList(
  cells: readonly number[],
  code: ReadonlyMap<number, string>,
  label: (cell: number) => number,
): string {
  if (cells.length === 0) return '[]';
  let list = '[';
  for (const c of cells)
    list += `\n        (${label(c)}, ${pythonStringLiteral(code.get(c) ?? '')}),`;
  return `${list}\n    ]`;
}

/** The part of a unit that is the same in every step that runs it (its code and where it is). */
function unitCodeEntry(u: StepUnit, label: (cell: number) => number): string {
  return (
    `{"kind": ${JSON.stringify(u.kind)}, "cell": ${label(u.cell)}, "line": ${u.line}, ` +
    `"names": ${JSON.stringify(u.names)}, "code": ${pythonStringLiteral(u.code)}}`
  );
}

/**
 * The pipeline's units that several steps run, each once, for scripts that refer to them by
 * position (`{"unit": N}`): an import or a function most steps run again is written once in a KFP
 * pipeline, not per step.
 */
export interface UnitTable {
  /** Position of a unit in the table, if it is there. */
  readonly positionOf: (u: StepUnit) => number | undefined;
  /** The table as a Python list literal (the runtime's `UNIT_TABLE`). */
  readonly source: string;
}

/**
 * What a unit is apart from its code: kind, cell, line and names. Names are Python names (no NUL,
 * no comma): no two heads of different units are equal. Made once per unit (units are plain data
 * nothing changes): a pipeline's table and scripts look each unit up several times.
 */
const heads = new WeakMap<StepUnit, string>();
function headOf(u: StepUnit): string {
  let head = heads.get(u);
  if (head === undefined) {
    head = `${u.kind}\0${u.cell}\0${u.line}\0${u.names.join(',')}`;
    heads.set(u, head);
  }
  return head;
}

/**
 * Values by what a unit is, whichever step runs it: its head, then its code. The steps that run a
 * unit share its code string, so a look-up by code hashes it once, not once a step.
 */
class UnitMap<V> {
  private readonly byHead = new Map<string, Map<string, V>>();

  private codes(u: StepUnit): Map<string, V> {
    const head = headOf(u);
    let codes = this.byHead.get(head);
    if (codes === undefined) {
      codes = new Map();
      this.byHead.set(head, codes);
    }
    return codes;
  }

  get(u: StepUnit): V | undefined {
    return this.codes(u).get(u.code);
  }

  set(u: StepUnit, value: V): void {
    this.codes(u).set(u.code, value);
  }
}

export function buildUnitTableForGraph(graph: PipelineGraph): UnitTable {
  const uses = new UnitMap<number>();
  for (const step of graph.steps) for (const u of step.units) uses.set(u, (uses.get(u) ?? 0) + 1);
  const positions = new UnitMap<number>();
  const entries: string[] = [];
  for (const step of graph.steps) {
    for (const u of step.units) {
      // A unit only one step runs stays in that step's script.
      if (positions.get(u) !== undefined || (uses.get(u) ?? 0) < 2) continue;
      positions.set(u, entries.length);
      entries.push(`    ${unitCodeEntry(u, (cell) => cell)},`);
    }
  }
  return {
    positionOf: (u) => positions.get(u),
    source: entries.length > 0 ? `[\n${entries.join('\n')}\n]\n` : '[]\n',
  };
}

function unitList(
  units: readonly StepUnit[],
  label: (cell: number) => number,
  table: UnitTable | undefined,
): string {
  if (units.length === 0) return '[]';
  // `needs` and `inputs` are left out when empty (most units): the runtime reads them as empty.
  const stepPart = (u: StepUnit): string =>
    `"eager": ${u.eager ? 'True' : 'False'}` +
    (u.needs.length > 0 ? `, "needs": ${JSON.stringify(u.needs)}` : '') +
    (u.inputs.length > 0 ? `, "inputs": ${JSON.stringify(u.inputs)}` : '');
  const entry = (u: StepUnit): string => {
    const position = table?.positionOf(u);
    return position !== undefined
      ? `        {"unit": ${position}, ${stepPart(u)}},`
      : `        ${unitCodeEntry(u, label).slice(0, -1)}, ${stepPart(u)}},`;
  };
  let list = '[';
  for (const u of units) list += `\n${entry(u)}`;
  return `${list}\n    ]`;
}

/** The runtime as it appears, identical, in every entry script. */
export const RUNTIME_LITERAL = pythonStringLiteral(RUNTIME_SOURCE);

/**
 * The lines that load the embedded runtime, made once: each script joins this one string (70 KB)
 * by reference instead of copying it (a 200-step compile would otherwise copy 14 MB).
 */
const EMBEDDED_RUNTIME = [
  'import sys, types',
  '__cellflow__ = sys.modules["__cellflow__"] = types.ModuleType("__cellflow__")',
  `exec(compile(${RUNTIME_LITERAL}, "<cellflow runtime>", "exec"), __cellflow__.__dict__)`,
  'del sys, types',
].join('\n');

/**
 * How the script gets the runtime: embedded in it (local runs, one self-contained file), or read
 * from the file named by its first argument (KFP: one runtime artifact serves every step, with the
 * pipeline's unit table, see `buildUnitTableForGraph`).
 */
export type RuntimeSource = 'embedded' | 'argument';

/**
 * Loads the runtime from the file named by the first argument, taking it out of `sys.argv`. Terse
 * on purpose: every step of a KFP pipeline carries these lines, and the IR has a size limit.
 */
const RUNTIME_FROM_ARGUMENT = [
  'import sys;__cellflow__=sys.modules["__cellflow__"]=type(sys)("__cellflow__")',
  'exec(compile(open(sys.argv.pop(1),"rb").read(),"<cellflow runtime>","exec"),__cellflow__.__dict__);del sys',
];

/**
 * `label` numbers the cells in the script (messages and tracebacks say `cell N`); the default is
 * the cell's index in the notebook.
 */
export function buildEntryScriptForStep(
  graph: PipelineGraph,
  step: PipelineStep,
  code: ReadonlyMap<number, string>,
  label: (cell: number) => number = (cell) => cell,
  runtime: RuntimeSource = 'embedded',
  unitTable?: UnitTable,
): string {
  const parameterTypes = new Map(graph.parameters.map((p) => [p.name, p.type]));
  const metricVariables = new Map(graph.metrics.map((m) => [m.name, m.variable]));
  const head =
    runtime === 'embedded'
      ? [
          `# Cellflow step \`${step.name}\` of pipeline \`${graph.pipeline.name}\`, from notebook cells ${step.cells.map(label).join(', ')}.`,
          '# Generated by Cellflow; edit the notebook, not this file.',
        ]
      : [
          `# Cellflow step \`${step.name}\` of pipeline \`${graph.pipeline.name}\`: edit the notebook, not this.`,
          ...RUNTIME_FROM_ARGUMENT,
        ];
  // Joined with `+`, not `join`: the cells' code, most of a script, is then not copied into each
  // string built around it (the parts are copied once, where the script is read).
  let main = 'raise SystemExit(__cellflow__.main(\n';
  main += `    step=${JSON.stringify(step.name)},\n`;
  main += `    parameters=${dict(step.parameters, (p) => JSON.stringify(parameterTypes.get(p) ?? 'str'))},\n`;
  main += `    inputs=${dict(step.inputs, (i) => JSON.stringify(step.inputSources[i] ?? ''))},\n`;
  main += `    outputs=${dict(step.outputs, (o) => String(label(step.outputCells[o] ?? step.cells[0] ?? 0)))},\n`;
  // Left out when empty, as most steps have them.
  if (step.shared.length > 0) main += `    shared=${JSON.stringify(step.shared)},\n`;
  if (step.metrics.length > 0)
    main += `    metrics=${dict(step.metrics, (m) => JSON.stringify(metricVariables.get(m) ?? m))},\n`;
  main += `    units=${unitList(step.units, label, unitTable)},\n`;
  main += `    cells=${cellList(step.cells, code, label)},\n`;
  // Installing is for a cluster's container; a local run uses the chosen Python as it is.
  if (runtime === 'argument' && step.packages.length > 0)
    main += `    packages=${JSON.stringify(step.packages)},\n`;
  main += '))\n';
  // `+` also keeps EMBEDDED_RUNTIME a shared part of the string rather than a copy of it.
  return runtime === 'embedded'
    ? head.join('\n') + '\n' + EMBEDDED_RUNTIME + '\n' + main
    : head.join('\n') + '\n' + main;
}

/**
 * What decides a step's outputs, as text for a cache key: the entry script with the cells it uses
 * numbered 0, 1, 2... in notebook order instead of by their index. Adding, removing or moving
 * other cells (a markdown note above) leaves it unchanged, so the step stays cached.
 */
export function buildCacheScriptForStep(
  graph: PipelineGraph,
  step: PipelineStep,
  code: ReadonlyMap<number, string>,
): string {
  const used = [
    ...new Set([
      ...step.units.map((u) => u.cell),
      ...step.cells,
      ...Object.values(step.outputCells),
    ]),
  ].sort((a, b) => a - b);
  const ordinal = new Map(used.map((cell, i) => [cell, i]));
  return buildEntryScriptForStep(graph, step, code, (cell) => ordinal.get(cell) ?? -1);
}
