/**
 * Reads a study from notebook metadata (`metadata.cellflow.tuning`, else Kale's
 * `metadata.kubeflow_notebook.katib_metadata`) and checks it against the pipeline: the objective
 * must be a pipeline metric, every searched parameter must be in the parameters cell with a type
 * its values fit, ranges must be non-empty. Problems are diagnostics; nothing throws.
 */
import type { Diagnostic } from '../diagnostics.js';
import type { PipelineGraph, PipelineParameter } from '../graph/pipeline-graph.js';
import {
  TUNING_ALGORITHMS,
  type SearchParameter,
  type SearchParameterType,
  type StudySpec,
  type TuningAlgorithm,
} from './study-spec.js';

export const DEFAULT_MAX_TRIALS = 12;
export const DEFAULT_PARALLEL_TRIALS = 3;
export const DEFAULT_MAX_FAILED_TRIALS = 3;

export interface ReadStudySpecResult {
  /** The study, or null when the notebook has none or it has errors. */
  readonly study: StudySpec | null;
  /** Where it came from. */
  readonly source: 'cellflow' | 'kale' | null;
  readonly diagnostics: Diagnostic[];
}

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Kale writes every number as a string (`"0.1"`). */
function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A setting's text: strings as they are, numbers and booleans printed, anything else as JSON. */
function settingText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const item of value)
      if (isRecord(item) && typeof item.name === 'string' && item.value !== undefined)
        out[item.name] = settingText(item.value);
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = settingText(v);
  }
  return out;
}

interface Draft {
  objective: unknown;
  goal: unknown;
  goalValue: unknown;
  additionalMetrics: unknown;
  algorithm: unknown;
  algorithmSettings: unknown;
  parameters: { name: unknown; raw: Raw }[];
  maxTrials: unknown;
  parallelTrials: unknown;
  maxFailedTrials: unknown;
  seed: unknown;
  earlyStopping: unknown;
}

function draftOfCellflow(t: Raw): Draft {
  const params: { name: unknown; raw: Raw }[] = [];
  if (Array.isArray(t.parameters)) {
    for (const p of t.parameters)
      params.push({ name: isRecord(p) ? p.name : p, raw: isRecord(p) ? p : {} });
  } else if (isRecord(t.parameters)) {
    for (const [name, p] of Object.entries(t.parameters))
      params.push({ name, raw: isRecord(p) ? p : Array.isArray(p) ? { values: p } : {} });
  }
  return {
    objective: t.objective,
    goal: t.goal ?? 'maximize',
    goalValue: t.goalValue,
    additionalMetrics: t.additionalMetrics,
    algorithm: t.algorithm ?? 'tpe',
    algorithmSettings: t.algorithmSettings,
    parameters: params,
    maxTrials: t.maxTrials ?? DEFAULT_MAX_TRIALS,
    parallelTrials: t.parallelTrials ?? DEFAULT_PARALLEL_TRIALS,
    maxFailedTrials: t.maxFailedTrials ?? DEFAULT_MAX_FAILED_TRIALS,
    seed: t.seed,
    earlyStopping: t.earlyStopping,
  };
}

function draftOfKale(k: Raw): Draft {
  const objective = isRecord(k.objective) ? k.objective : {};
  const algorithm = isRecord(k.algorithm) ? k.algorithm : {};
  const params: { name: unknown; raw: Raw }[] = [];
  for (const p of Array.isArray(k.parameters) ? k.parameters : []) {
    if (!isRecord(p)) continue;
    const space = isRecord(p.feasibleSpace) ? p.feasibleSpace : {};
    params.push({
      name: p.name,
      raw: {
        type: p.parameterType,
        min: space.min,
        max: space.max,
        step: space.step,
        values: space.list,
      },
    });
  }
  const settings = stringRecord(algorithm.algorithmSettings);
  const seed = settings.random_state;
  return {
    objective: objective.objectiveMetricName,
    goal: objective.type ?? 'maximize',
    goalValue: objective.goal,
    additionalMetrics: objective.additionalMetricNames,
    algorithm: algorithm.algorithmName ?? 'random',
    algorithmSettings: settings,
    parameters: params,
    maxTrials: k.maxTrialCount ?? DEFAULT_MAX_TRIALS,
    parallelTrials: k.parallelTrialCount ?? DEFAULT_PARALLEL_TRIALS,
    maxFailedTrials: k.maxFailedTrialCount ?? DEFAULT_MAX_FAILED_TRIALS,
    seed,
    earlyStopping: undefined,
  };
}

const TYPE_ALIASES: Readonly<Record<string, SearchParameterType>> = {
  int: 'int',
  integer: 'int',
  double: 'double',
  float: 'double',
  categorical: 'categorical',
  discrete: 'discrete',
};

/** The study's problems, each naming where it is and how to fix it. */
class StudyChecker {
  readonly diagnostics: Diagnostic[] = [];
  constructor(
    private readonly where: string,
    private readonly cell: number | null,
  ) {}

  error(message: string): void {
    this.diagnostics.push({
      severity: 'error',
      code: 'bad-study',
      cell: this.cell,
      line: null,
      message: `${this.where}: ${message}`,
    });
  }

  warning(message: string): void {
    this.diagnostics.push({
      severity: 'warning',
      code: 'bad-study',
      cell: this.cell,
      line: null,
      message: `${this.where}: ${message}`,
    });
  }

  count(value: unknown, key: string, min: number): number | undefined {
    const n = toNumber(value);
    if (n === undefined || !Number.isInteger(n) || n < min) {
      this.error(`\`${key}\` must be a whole number >= ${min}; it is ${JSON.stringify(value)}.`);
      return undefined;
    }
    return n;
  }
}

function metricNameOf(graph: PipelineGraph, name: string): string | undefined {
  return graph.metrics.find((m) => m.name === name || m.variable === name)?.name;
}

function listOf(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.map((i) => `\`${i}\``).join(', ');
}

function checkParameter(
  check: StudyChecker,
  name: string,
  raw: Raw,
  param: PipelineParameter,
  algorithm: TuningAlgorithm,
): SearchParameter | undefined {
  const declared = typeof raw.type === 'string' ? TYPE_ALIASES[raw.type.toLowerCase()] : undefined;
  if (raw.type !== undefined && declared === undefined) {
    check.error(
      `parameter \`${name}\` has type ${JSON.stringify(raw.type)}. Fix: use one of int, double, categorical, discrete.`,
    );
    return undefined;
  }
  if (param.type === 'list' || param.type === 'dict') {
    check.error(
      `parameter \`${name}\` is a ${param.type} in the parameters cell; only numbers, strings and booleans can be searched. Fix: search a scalar parameter instead.`,
    );
    return undefined;
  }
  const scale = raw.scale === undefined ? 'linear' : raw.scale;
  if (scale !== 'linear' && scale !== 'log') {
    check.error(
      `parameter \`${name}\` has scale ${JSON.stringify(raw.scale)}. Fix: use "linear" or "log".`,
    );
    return undefined;
  }
  if (raw.values !== undefined) {
    if (!Array.isArray(raw.values) || raw.values.length === 0) {
      check.error(
        `parameter \`${name}\` has an empty list of values. Fix: list at least one value.`,
      );
      return undefined;
    }
    const values: (string | number | boolean)[] = [];
    for (const v of raw.values as unknown[]) {
      const typed = typedValue(v, param);
      if (typed === undefined) {
        check.error(
          `parameter \`${name}\` is ${article(param.type)} ${param.type} (its default is ${JSON.stringify(param.default)}), but the value ${JSON.stringify(v)} is not. Fix: list ${param.type} values only.`,
        );
        return undefined;
      }
      values.push(typed);
    }
    const type: SearchParameterType =
      param.type === 'int' || param.type === 'float' ? 'discrete' : 'categorical';
    if (
      declared !== undefined &&
      declared !== type &&
      !(declared === 'categorical' && type === 'discrete')
    ) {
      check.error(
        `parameter \`${name}\` lists values but says type ${declared}. Fix: drop "type" or use ${type}.`,
      );
      return undefined;
    }
    return { name, type, values: [...new Set(values)] };
  }
  const min = toNumber(raw.min);
  const max = toNumber(raw.max);
  if (min === undefined || max === undefined) {
    check.error(
      `parameter \`${name}\` needs a range ("min" and "max") or a list ("values"). Fix: e.g. {"min": 0.01, "max": 10} or {"values": [1, 2, 4]}.`,
    );
    return undefined;
  }
  if (param.type === 'str' || param.type === 'bool') {
    check.error(
      `parameter \`${name}\` is ${article(param.type)} ${param.type}; a numeric range does not fit it. Fix: list its values instead, e.g. {"values": [...]}.`,
    );
    return undefined;
  }
  if (min > max) {
    check.error(`parameter \`${name}\` has min ${min} above max ${max}. Fix: swap them.`);
    return undefined;
  }
  if (min === max)
    check.warning(`parameter \`${name}\` has min = max = ${min}: it is not searched.`);
  const type: SearchParameterType = declared ?? (param.type === 'int' ? 'int' : 'double');
  if (type === 'int' && (!Number.isInteger(min) || !Number.isInteger(max))) {
    check.error(
      `parameter \`${name}\` is an int but its range ${min}..${max} is not whole numbers. Fix: use whole bounds.`,
    );
    return undefined;
  }
  if (type === 'double' && param.type === 'int') {
    check.error(
      `parameter \`${name}\` is an int in the parameters cell (default ${JSON.stringify(param.default)}) but is searched as double. Fix: use "type": "int", or make the default a float (\`${name} = ${JSON.stringify(param.default)}.0\`).`,
    );
    return undefined;
  }
  if (type !== 'int' && type !== 'double') {
    check.error(
      `parameter \`${name}\` has a range but type ${type}. Fix: use "values" for ${type} parameters.`,
    );
    return undefined;
  }
  const step = raw.step === undefined ? undefined : toNumber(raw.step);
  if (raw.step !== undefined && (step === undefined || step <= 0)) {
    check.error(
      `parameter \`${name}\` has step ${JSON.stringify(raw.step)}. Fix: use a number above 0.`,
    );
    return undefined;
  }
  if (type === 'int' && step !== undefined && !Number.isInteger(step)) {
    check.error(
      `parameter \`${name}\` is an int but its step ${step} is not whole. Fix: use a whole step.`,
    );
    return undefined;
  }
  if (scale === 'log' && min <= 0) {
    check.error(
      `parameter \`${name}\` is searched on a log scale but its min is ${min}. Fix: use a min above 0.`,
    );
    return undefined;
  }
  if (algorithm === 'grid' && type === 'double' && step === undefined) {
    check.error(
      `grid search needs a "step" for the double parameter \`${name}\`. Fix: add e.g. "step": ${niceStep(min, max)}.`,
    );
    return undefined;
  }
  return {
    name,
    type,
    min,
    max,
    ...(step !== undefined ? { step } : {}),
    ...(scale === 'log' ? { scale: 'log' as const } : {}),
  };
}

function niceStep(min: number, max: number): number {
  const span = max - min;
  return span > 0 ? Number((span / 4).toPrecision(2)) : 1;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? 'an' : 'a';
}

/** A listed value as the parameter's type, or undefined when it does not fit. */
function typedValue(v: unknown, param: PipelineParameter): string | number | boolean | undefined {
  switch (param.type) {
    case 'int': {
      const n = toNumber(v);
      return n !== undefined && Number.isInteger(n) ? n : undefined;
    }
    case 'float':
      return toNumber(v);
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 'True' || v === 'true') return true;
      if (v === 'False' || v === 'false') return false;
      return undefined;
    case 'str':
      return typeof v === 'string' ? v : undefined;
    default:
      return undefined;
  }
}

export function readStudySpec(
  metadata: Readonly<Record<string, unknown>>,
  graph: PipelineGraph,
): ReadStudySpecResult {
  const ours = isRecord(metadata.cellflow) ? metadata.cellflow.tuning : undefined;
  const kale = isRecord(metadata.kubeflow_notebook)
    ? metadata.kubeflow_notebook.katib_metadata
    : undefined;
  if (ours === undefined && kale === undefined)
    return { study: null, source: null, diagnostics: [] };
  const source = ours !== undefined ? 'cellflow' : 'kale';
  const where =
    source === 'cellflow'
      ? '`metadata.cellflow.tuning`'
      : '`metadata.kubeflow_notebook.katib_metadata`';
  const raw = ours ?? kale;
  if (!isRecord(raw)) {
    return {
      study: null,
      source,
      diagnostics: [
        {
          severity: 'error',
          code: 'bad-study',
          cell: null,
          line: null,
          message: `${where} is not an object. Fix: make it a JSON object, e.g. {"objective": "accuracy", "parameters": {...}}.`,
        },
      ],
    };
  }
  const draft = source === 'cellflow' ? draftOfCellflow(raw) : draftOfKale(raw);
  const study = checkStudyDraft(draft, graph, where);
  return { ...study, source };
}

/** Checks a study given as plain JSON in the `metadata.cellflow.tuning` shape (editors, CLI flags). */
export function parseStudySpec(
  tuning: unknown,
  graph: PipelineGraph,
): { study: StudySpec | null; diagnostics: Diagnostic[] } {
  return readStudySpec({ cellflow: { tuning } }, graph);
}

function checkStudyDraft(
  d: Draft,
  graph: PipelineGraph,
  where: string,
): { study: StudySpec | null; diagnostics: Diagnostic[] } {
  const parametersCell = graph.parameters[0]?.cell ?? null;
  const check = new StudyChecker(where, null);
  const metricNames = graph.metrics.map((m) => m.name);

  let objective: string | undefined;
  if (typeof d.objective !== 'string' || d.objective.trim() === '') {
    check.error(
      `no objective. Fix: set "objective" to one of the pipeline's metrics: ${listOf(metricNames)}.`,
    );
  } else {
    objective = metricNameOf(graph, d.objective.trim());
    if (objective === undefined)
      check.error(
        `the objective \`${d.objective}\` is not a pipeline metric. Fix: use one of ${listOf(metricNames)}${metricNames.length === 0 ? ' (add a `pipeline-metrics` cell that prints it)' : ''}.`,
      );
  }
  const goal = typeof d.goal === 'string' ? d.goal.toLowerCase() : d.goal;
  if (goal !== 'maximize' && goal !== 'minimize')
    check.error(`"goal" is ${JSON.stringify(d.goal)}. Fix: use "maximize" or "minimize".`);
  const goalValue = d.goalValue === undefined ? undefined : toNumber(d.goalValue);
  if (d.goalValue !== undefined && goalValue === undefined)
    check.error(
      `"goalValue" is ${JSON.stringify(d.goalValue)}. Fix: use a number or leave it out.`,
    );

  const additional: string[] = [];
  if (d.additionalMetrics !== undefined) {
    if (!Array.isArray(d.additionalMetrics))
      check.error('"additionalMetrics" must be a list of metric names.');
    else
      for (const m of d.additionalMetrics) {
        const name = typeof m === 'string' ? metricNameOf(graph, m) : undefined;
        if (name === undefined)
          check.warning(
            `the additional metric ${JSON.stringify(m)} is not a pipeline metric and is ignored (metrics: ${listOf(metricNames)}).`,
          );
        else if (name !== objective && !additional.includes(name)) additional.push(name);
      }
  } else {
    additional.push(...metricNames.filter((m) => m !== objective));
  }

  const algorithmName = typeof d.algorithm === 'string' ? d.algorithm.toLowerCase() : '';
  const algorithm = TUNING_ALGORITHMS.find((a) => a === algorithmName);
  if (algorithm === undefined)
    check.error(
      `the algorithm ${JSON.stringify(d.algorithm)} is not known. Fix: use one of ${listOf(TUNING_ALGORITHMS)}.`,
    );

  const parameters: SearchParameter[] = [];
  const seen = new Set<string>();
  const paramChecker = new StudyChecker(where, parametersCell);
  if (d.parameters.length === 0)
    check.error(
      `no parameters to search. Fix: add some of the parameters cell's names: ${listOf(graph.parameters.map((p) => p.name))}.`,
    );
  for (const p of d.parameters) {
    if (typeof p.name !== 'string' || p.name === '') {
      check.error(`a parameter has no name (${JSON.stringify(p.raw)}).`);
      continue;
    }
    if (seen.has(p.name)) {
      check.error(`parameter \`${p.name}\` is listed twice. Fix: keep one entry.`);
      continue;
    }
    seen.add(p.name);
    const param = graph.parameters.find((q) => q.name === p.name);
    if (param === undefined) {
      paramChecker.error(
        `\`${p.name}\` is not in the parameters cell (parameters: ${listOf(graph.parameters.map((q) => q.name))}). Fix: add \`${p.name} = <default>\` to the \`pipeline-parameters\` cell, or remove it from the study.`,
      );
      continue;
    }
    const searched = checkParameter(paramChecker, p.name, p.raw, param, algorithm ?? 'random');
    if (searched !== undefined) parameters.push(searched);
  }

  const maxTrials = check.count(d.maxTrials, 'maxTrials', 1);
  let parallelTrials = check.count(d.parallelTrials, 'parallelTrials', 1);
  const maxFailedTrials = check.count(d.maxFailedTrials, 'maxFailedTrials', 0);
  if (maxTrials !== undefined && parallelTrials !== undefined && parallelTrials > maxTrials) {
    check.warning(
      `parallelTrials (${parallelTrials}) is above maxTrials (${maxTrials}); ${maxTrials} run at once.`,
    );
    parallelTrials = maxTrials;
  }
  const seed = d.seed === undefined ? undefined : toNumber(d.seed);
  if (d.seed !== undefined && (seed === undefined || !Number.isInteger(seed)))
    check.error(`"seed" is ${JSON.stringify(d.seed)}. Fix: use a whole number.`);

  let earlyStopping: StudySpec['earlyStopping'];
  if (d.earlyStopping !== undefined) {
    const e = d.earlyStopping;
    const name = typeof e === 'string' ? e : isRecord(e) ? e.algorithm : undefined;
    if (name !== 'medianstop')
      check.error(
        `"earlyStopping" ${JSON.stringify(e)} is not known. Fix: use "medianstop" or leave it out.`,
      );
    else
      earlyStopping = {
        algorithm: 'medianstop',
        settings: isRecord(e) ? stringRecord(e.settings) : {},
      };
  }

  const diagnostics = [...check.diagnostics, ...paramChecker.diagnostics];
  if (
    diagnostics.some((x) => x.severity === 'error') ||
    objective === undefined ||
    algorithm === undefined ||
    maxTrials === undefined ||
    parallelTrials === undefined ||
    maxFailedTrials === undefined
  )
    return { study: null, diagnostics };
  return {
    study: {
      objective,
      goal: goal as 'maximize' | 'minimize',
      ...(goalValue !== undefined ? { goalValue } : {}),
      additionalMetrics: additional,
      algorithm,
      algorithmSettings: stringRecord(d.algorithmSettings),
      parameters,
      maxTrials,
      parallelTrials,
      maxFailedTrials,
      ...(seed !== undefined ? { seed } : {}),
      ...(earlyStopping !== undefined ? { earlyStopping } : {}),
    },
    diagnostics,
  };
}

/** The study as stored in `metadata.cellflow.tuning` (what `readStudySpec` reads back). */
export function studyToMetadata(study: StudySpec): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  for (const p of study.parameters) {
    parameters[p.name] =
      p.values !== undefined
        ? { values: p.values }
        : {
            ...(p.type === 'int' ? { type: 'int' } : {}),
            min: p.min,
            max: p.max,
            ...(p.step !== undefined ? { step: p.step } : {}),
            ...(p.scale === 'log' ? { scale: 'log' } : {}),
          };
  }
  return {
    objective: study.objective,
    goal: study.goal,
    ...(study.goalValue !== undefined ? { goalValue: study.goalValue } : {}),
    algorithm: study.algorithm,
    ...(Object.keys(study.algorithmSettings).length > 0
      ? { algorithmSettings: study.algorithmSettings }
      : {}),
    maxTrials: study.maxTrials,
    parallelTrials: study.parallelTrials,
    maxFailedTrials: study.maxFailedTrials,
    ...(study.seed !== undefined ? { seed: study.seed } : {}),
    ...(study.earlyStopping !== undefined ? { earlyStopping: study.earlyStopping } : {}),
    parameters,
  };
}

/** A study to start from: every int/float parameter around its default, the first metric maximized. */
export function defaultStudyFor(graph: PipelineGraph): StudySpec | null {
  const metric = graph.metrics[graph.metrics.length - 1];
  if (metric === undefined) return null;
  const parameters: SearchParameter[] = [];
  for (const p of graph.parameters) {
    if (typeof p.default !== 'number') continue;
    if (p.type === 'int') {
      const lo = p.default > 0 ? Math.max(1, Math.floor(p.default / 2)) : p.default - 5;
      parameters.push({ name: p.name, type: 'int', min: lo, max: Math.max(lo + 1, p.default * 2) });
    } else if (p.default > 0) {
      parameters.push({
        name: p.name,
        type: 'double',
        min: p.default / 10,
        max: p.default * 10,
        scale: 'log',
      });
    }
  }
  if (parameters.length === 0) return null;
  return {
    objective: metric.name,
    goal: 'maximize',
    additionalMetrics: graph.metrics.filter((m) => m !== metric).map((m) => m.name),
    algorithm: 'tpe',
    algorithmSettings: {},
    parameters,
    maxTrials: DEFAULT_MAX_TRIALS,
    parallelTrials: DEFAULT_PARALLEL_TRIALS,
    maxFailedTrials: DEFAULT_MAX_FAILED_TRIALS,
  };
}
