/**
 * A hyperparameter study: which pipeline parameters to search, over what, for which metric.
 *
 * Stored in `metadata.cellflow.tuning` (written by `studyToMetadata`, read by `readStudySpec`):
 * ```json
 * {
 *   "objective": "accuracy",             // a pipeline metric (KFP name or Python variable)
 *   "goal": "maximize",                  // or "minimize"
 *   "algorithm": "tpe",                  // random | grid | tpe | bayesianoptimization | ...
 *   "maxTrials": 12, "parallelTrials": 3, "maxFailedTrials": 3, "seed": 7,
 *   "parameters": {
 *     "C": { "min": 0.01, "max": 100, "scale": "log" },
 *     "N_ESTIMATORS": { "min": 20, "max": 200, "step": 20 },
 *     "KERNEL": { "values": ["rbf", "linear"] }
 *   }
 * }
 * ```
 * A parameter's type comes from its default in the parameters cell (`int`, `float`, `str`, `bool`)
 * unless `"type"` says otherwise. Kale's `metadata.kubeflow_notebook.katib_metadata` is read too.
 */

/** Search algorithms; the names are Katib's. */
export type TuningAlgorithm =
  'random' | 'grid' | 'tpe' | 'multivariate-tpe' | 'bayesianoptimization' | 'cmaes' | 'sobol';

export const TUNING_ALGORITHMS: readonly TuningAlgorithm[] = [
  'random',
  'grid',
  'tpe',
  'multivariate-tpe',
  'bayesianoptimization',
  'cmaes',
  'sobol',
];

/** Katib parameter types: `int`/`double` ranges, `categorical` strings, `discrete` numbers. */
export type SearchParameterType = 'int' | 'double' | 'categorical' | 'discrete';

export interface SearchParameter {
  /** The parameter's name in the parameters cell. */
  readonly name: string;
  readonly type: SearchParameterType;
  /** Range bounds (`int`/`double`), inclusive. */
  readonly min?: number;
  readonly max?: number;
  /** Grid step for ranges (grid search needs one for `double`). */
  readonly step?: number;
  /** `log`: sample the range uniformly in log space (both bounds > 0). */
  readonly scale?: 'linear' | 'log';
  /** The choices (`categorical`: strings or booleans; `discrete`: numbers). */
  readonly values?: readonly (string | number | boolean)[];
}

export interface StudySpec {
  /** Metric to optimize: its KFP/Katib name (`best-accuracy`). */
  readonly objective: string;
  readonly goal: 'maximize' | 'minimize';
  /** Stop early once a trial reaches this objective value. */
  readonly goalValue?: number;
  /** Other metrics recorded for every trial. */
  readonly additionalMetrics: readonly string[];
  readonly algorithm: TuningAlgorithm;
  /** Algorithm settings passed to Katib as-is (`random_state`, `n_startup_trials`...). */
  readonly algorithmSettings: Readonly<Record<string, string>>;
  readonly parameters: readonly SearchParameter[];
  readonly maxTrials: number;
  readonly parallelTrials: number;
  /** The study fails once this many trials have failed. */
  readonly maxFailedTrials: number;
  /** Random seed: the same seed and results give the same suggestions. */
  readonly seed?: number;
  /** Katib early stopping (`medianstop`), cluster only. */
  readonly earlyStopping?: {
    readonly algorithm: 'medianstop';
    readonly settings: Readonly<Record<string, string>>;
  };
}

/** Parameter values of one trial, by parameter name, typed as in the parameters cell. */
export type TrialAssignment = Readonly<Record<string, string | number | boolean>>;
