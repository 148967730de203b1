/**
 * The two ways a notebook stores a study, each read into the shape of a `StudySpec` (unchecked:
 * `checkStudySpec` validates it against the pipeline) and Cellflow's written back:
 *
 * - Cellflow's `metadata.cellflow.tuning`: a `StudySpec` whose settings may be left out (the
 *   defaults of `study-defaults.ts`) and whose parameters may be keyed by name
 *   (`{"C": {"min": 0.1, "max": 10}}`, `{"KERNEL": ["rbf", "linear"]}`);
 * - Kale's `metadata.kubeflow_notebook.katib_metadata`: Katib's Experiment spec, numbers as strings.
 */
import type { StudySpec } from './study-spec.js';
import {
  DEFAULT_MAX_FAILED_TRIALS,
  DEFAULT_MAX_TRIALS,
  DEFAULT_PARALLEL_TRIALS,
} from './study-defaults.js';
import { isJsonRecord, toStringRecord, type JsonRecord } from './study-json-values.js';

export type StudyFormat = 'cellflow' | 'kale';

/** Where each format lives in the notebook's metadata, as messages name it. */
export const STUDY_METADATA_PATHS: Readonly<Record<StudyFormat, string>> = {
  cellflow: '`metadata.cellflow.tuning`',
  kale: '`metadata.kubeflow_notebook.katib_metadata`',
};

/** The study the notebook's metadata holds as it is written (Cellflow's first), or null. */
export function findStudyInMetadata(
  metadata: Readonly<Record<string, unknown>>,
): { readonly format: StudyFormat; readonly raw: unknown } | null {
  const ours = isJsonRecord(metadata.cellflow) ? metadata.cellflow.tuning : undefined;
  if (ours !== undefined) return { format: 'cellflow', raw: ours };
  const kale = isJsonRecord(metadata.kubeflow_notebook)
    ? metadata.kubeflow_notebook.katib_metadata
    : undefined;
  if (kale !== undefined) return { format: 'kale', raw: kale };
  return null;
}

/** A study as written in `format`, in the shape of a `StudySpec`; anything not an object as it is. */
export function studyOfFormat(format: StudyFormat, raw: unknown): unknown {
  if (!isJsonRecord(raw)) return raw;
  return format === 'cellflow' ? studyOfCellflowTuning(raw) : studyOfKaleKatibMetadata(raw);
}

/** `metadata.cellflow.tuning`: settings left out take their defaults, parameters become a list. */
export function studyOfCellflowTuning(t: JsonRecord): JsonRecord {
  const parameters: unknown[] = [];
  if (Array.isArray(t.parameters)) {
    parameters.push(...(t.parameters as unknown[]));
  } else if (isJsonRecord(t.parameters)) {
    for (const [name, p] of Object.entries(t.parameters))
      parameters.push({
        ...(isJsonRecord(p) ? p : Array.isArray(p) ? { values: p } : {}),
        name,
      });
  }
  return {
    objective: t.objective,
    goal: t.goal ?? 'maximize',
    goalValue: t.goalValue,
    additionalMetrics: t.additionalMetrics,
    algorithm: t.algorithm ?? 'tpe',
    algorithmSettings: t.algorithmSettings,
    parameters,
    maxTrials: t.maxTrials ?? DEFAULT_MAX_TRIALS,
    parallelTrials: t.parallelTrials ?? DEFAULT_PARALLEL_TRIALS,
    maxFailedTrials: t.maxFailedTrials ?? DEFAULT_MAX_FAILED_TRIALS,
    seed: t.seed,
    earlyStopping: t.earlyStopping,
  };
}

/** Kale's `katib_metadata` (Katib's Experiment spec): its objective, algorithm and feasible spaces. */
export function studyOfKaleKatibMetadata(k: JsonRecord): JsonRecord {
  const objective = isJsonRecord(k.objective) ? k.objective : {};
  const algorithm = isJsonRecord(k.algorithm) ? k.algorithm : {};
  const parameters: JsonRecord[] = [];
  for (const p of Array.isArray(k.parameters) ? (k.parameters as unknown[]) : []) {
    if (!isJsonRecord(p)) continue;
    const space = isJsonRecord(p.feasibleSpace) ? p.feasibleSpace : {};
    parameters.push({
      name: p.name,
      type: p.parameterType,
      min: space.min,
      max: space.max,
      step: space.step,
      values: space.list,
    });
  }
  const settings = toStringRecord(algorithm.algorithmSettings);
  return {
    objective: objective.objectiveMetricName,
    goal: objective.type ?? 'maximize',
    goalValue: objective.goal,
    additionalMetrics: objective.additionalMetricNames,
    algorithm: algorithm.algorithmName ?? 'random',
    algorithmSettings: settings,
    parameters,
    maxTrials: k.maxTrialCount ?? DEFAULT_MAX_TRIALS,
    parallelTrials: k.parallelTrialCount ?? DEFAULT_PARALLEL_TRIALS,
    maxFailedTrials: k.maxFailedTrialCount ?? DEFAULT_MAX_FAILED_TRIALS,
    seed: settings.random_state,
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
