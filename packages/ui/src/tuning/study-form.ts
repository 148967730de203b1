/**
 * The study editor's text, shared by both editors: a searched parameter as a person types it
 * (`0.1 .. 100 log`, `1 .. 10 step 1`, `rbf, linear`), read back into the stored shape of
 * `metadata.cellflow.tuning`, and a whole edited study checked by core (`parseStudySpec`).
 */
import {
  parseStudySpec,
  studyToMetadata,
  type ParameterValue,
  type PipelineGraph,
  type SearchParameter,
  type StudySpec,
} from '@cellflow/core';

/** `0.1 .. 100 log`, `1..10 step 2`, `rbf, linear` -> the stored shape of one parameter, or why not. */
export function parseParameterRange(text: string): Record<string, unknown> | string {
  const t = text.trim();
  const range =
    /^(-?[\d.e+-]+)\s*(?:\.\.|…|-|to)\s*(-?[\d.e+-]+)(?:\s+step\s+([\d.e+-]+))?(\s+log)?$/i.exec(t);
  if (range !== null) {
    const [min, max, step] = [
      Number(range[1]),
      Number(range[2]),
      range[3] !== undefined ? Number(range[3]) : undefined,
    ];
    if (!Number.isFinite(min) || !Number.isFinite(max)) return 'The bounds must be numbers';
    return {
      min,
      max,
      ...(step !== undefined ? { step } : {}),
      ...(range[4] !== undefined ? { scale: 'log' } : {}),
    };
  }
  const values = t
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((v) =>
      /^-?[\d.]+(e[+-]?\d+)?$/i.test(v)
        ? Number(v)
        : v === 'true'
          ? true
          : v === 'false'
            ? false
            : v.replace(/^["']|["']$/g, ''),
    );
  if (values.length < 2)
    return 'Write a range such as `0.1 .. 100 log` or `1 .. 10 step 1`, or a list such as `rbf, linear`';
  return { values };
}

/** A searched parameter as the editor shows it for editing: `0.1 .. 100 log`, `rbf, linear`. */
export function parameterRangeText(p: SearchParameter): string {
  if (p.values !== undefined) return p.values.map(String).join(', ');
  return `${p.min} .. ${p.max}${p.step !== undefined ? ` step ${p.step}` : ''}${p.scale === 'log' ? ' log' : ''}`;
}

/** A searched parameter described: `one of 1, 2, 3`, `double 0.1 … 100 (log)`. */
export function describeSearchParameter(p: SearchParameter): string {
  if (p.values !== undefined) return `one of ${p.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${p.type} ${p.min} … ${p.max}${p.step !== undefined ? ` step ${p.step}` : ''}${p.scale === 'log' ? ' (log)' : ''}`;
}

/** A starting range for a parameter not searched yet, from its default value. */
export function suggestedRangeText(def: ParameterValue | undefined): string {
  if (typeof def === 'number') return `${def / 10} .. ${def * 10}${def > 0 ? ' log' : ''}`;
  if (typeof def === 'boolean') return 'true, false';
  return `${typeof def === 'string' ? def : JSON.stringify(def)}, `;
}

/** What the editor's form holds: the study's settings, and each parameter's range text ('' = not searched). */
export interface StudyFormValues {
  readonly objective: string;
  readonly goal: string;
  readonly algorithm: string;
  readonly maxTrials: string;
  readonly parallelTrials: string;
  readonly maxFailedTrials: string;
  readonly ranges: Readonly<Record<string, string>>;
}

/** The form's values for a study. */
export function studyFormValuesOf(study: StudySpec): StudyFormValues {
  return {
    objective: study.objective,
    goal: study.goal,
    algorithm: study.algorithm,
    maxTrials: String(study.maxTrials),
    parallelTrials: String(study.parallelTrials),
    maxFailedTrials: String(study.maxFailedTrials),
    ranges: Object.fromEntries(study.parameters.map((p) => [p.name, parameterRangeText(p)])),
  };
}

/**
 * The study the form describes, starting from `base` (settings the form does not show are kept),
 * checked by core against the pipeline; or the first problem, naming the field.
 */
export function studyFromFormValues(
  base: StudySpec,
  values: StudyFormValues,
  graph: PipelineGraph,
): StudySpec | string {
  const parameters: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(values.ranges)) {
    if (text.trim() === '') continue;
    const parsed = parseParameterRange(text);
    if (typeof parsed === 'string') return `${name}: ${parsed}`;
    // A whole-number range stays one (the stored shape says `type: int`).
    const before = base.parameters.find((p) => p.name === name);
    parameters[name] =
      before?.type === 'int' && parsed.values === undefined ? { type: 'int', ...parsed } : parsed;
  }
  const count = (label: string, text: string): number | string => {
    const n = Number(text.trim());
    return Number.isInteger(n) && n >= 0 ? n : `${label} must be a whole number, not "${text}"`;
  };
  const maxTrials = count('Trials in all', values.maxTrials);
  const parallelTrials = count('Trials at once', values.parallelTrials);
  const maxFailedTrials = count('Failed trials allowed', values.maxFailedTrials);
  for (const n of [maxTrials, parallelTrials, maxFailedTrials]) if (typeof n === 'string') return n;
  const tuning = {
    ...studyToMetadata(base),
    objective: values.objective,
    goal: values.goal,
    algorithm: values.algorithm,
    maxTrials,
    parallelTrials,
    maxFailedTrials,
    parameters,
  };
  const { study, diagnostics } = parseStudySpec(tuning, graph);
  const error = diagnostics.find((d) => d.severity === 'error');
  if (study === null || error !== undefined) return error?.message ?? 'The study is not valid.';
  return study;
}
