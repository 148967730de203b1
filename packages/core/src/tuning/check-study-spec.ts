/**
 * Checks a study against the pipeline it tunes: the objective must be a pipeline metric, every
 * searched parameter must be in the parameters cell with a type its values fit, ranges must be
 * non-empty, counts whole. Pure: problems are diagnostics naming the field and the fix, nothing
 * throws. Every study is checked here, whoever sends it: the notebook's (through `readStudySpec`),
 * an editor's, one that arrives over the agent, and each backend's before it starts trials.
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
import { isJsonRecord, toNumber, toStringRecord, type JsonRecord } from './study-json-values.js';

export interface CheckedStudy {
  /** The study, normalized (metrics by their KFP names, types from the parameters cell), or null when it has errors. */
  readonly study: StudySpec | null;
  readonly diagnostics: Diagnostic[];
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
      code: 'study-setting-ignored',
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
  raw: JsonRecord,
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

/**
 * Checks `value`, which should be a `StudySpec` (as `studyOfFormat` reads one from a notebook, or as
 * a client sends one), against `graph`. `where` names the study in messages (the metadata key it
 * came from, or the request's field).
 */
export function checkStudySpec(
  value: unknown,
  graph: PipelineGraph,
  where = '`study`',
): CheckedStudy {
  if (!isJsonRecord(value)) {
    return {
      study: null,
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
  const d = value;
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
  const items: readonly unknown[] = Array.isArray(d.parameters) ? d.parameters : [];
  if (items.length === 0)
    check.error(
      `no parameters to search. Fix: add some of the parameters cell's names: ${listOf(graph.parameters.map((p) => p.name))}.`,
    );
  for (const item of items) {
    const p = { name: isJsonRecord(item) ? item.name : item, raw: isJsonRecord(item) ? item : {} };
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
    const name = typeof e === 'string' ? e : isJsonRecord(e) ? e.algorithm : undefined;
    if (name !== 'medianstop')
      check.error(
        `"earlyStopping" ${JSON.stringify(e)} is not known. Fix: use "medianstop" or leave it out.`,
      );
    else
      earlyStopping = {
        algorithm: 'medianstop',
        settings: isJsonRecord(e) ? toStringRecord(e.settings) : {},
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
      algorithmSettings: toStringRecord(d.algorithmSettings),
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

/**
 * One line for a refusal (an agent's 400, a backend's `invalid-study`): the study's errors, each
 * naming its field and fix.
 */
export function describeStudyErrors(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
  return `The study cannot run: ${errors.join(' ')}`;
}
