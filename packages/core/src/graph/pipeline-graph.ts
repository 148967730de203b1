/** The pipeline as Cellflow understands it: steps, the data between them, and their resources. */
import type { ParameterType, ParameterValue } from '../python/read-literals.js';
import type { SecretEnv } from '../tags/cell-tags.js';

export type { ParameterType, ParameterValue };

export interface PipelineParameter {
  readonly name: string;
  readonly type: ParameterType;
  readonly default: ParameterValue;
  readonly cell: number;
  readonly line: number;
}

export interface PipelineMetric {
  /** KFP/Katib metric name: lowercase, `_` -> `-` (`sum_result` -> `sum-result`). */
  readonly name: string;
  /** The Python variable printed in the metrics cell. */
  readonly variable: string;
  readonly cell: number;
  readonly line: number;
  /** The step that writes the metric (the last step before the metrics cell). */
  readonly step: string;
}

export interface GpuResources {
  readonly count: number;
  /** Extended resource name: `nvidia.com/gpu` or `amd.com/gpu`. */
  readonly resource: string;
  /** Node label value of the wanted product, or null for any. */
  readonly product: string | null;
}

export interface StepResources {
  readonly cpu: string | null;
  readonly memory: string | null;
  readonly gpu: GpuResources | null;
  /** Other `limit:KEY:VAL` resources. */
  readonly limits: Readonly<Record<string, string>>;
}

/**
 * Code a step runs again before its cells, because an earlier cell ran it in the notebook: an
 * import, a function/class/lambda definition, or a configuration call (see `python/code-units`).
 */
export interface StepUnit {
  readonly kind: 'import' | 'definition' | 'config' | 'seed';
  readonly cell: number;
  /** 1-based line of the statement in its cell. */
  readonly line: number;
  readonly code: string;
  /** Names it binds. */
  readonly names: readonly string[];
  /**
   * Run before the step's cells (the step needs it), or only on demand: a definition that a
   * loaded value refers to (an instance of a notebook class, a function inside a model).
   */
  readonly eager: boolean;
  /** Positions in `units` of the units it needs when it runs. */
  readonly needs: readonly number[];
  /** Inputs it reads when it runs (loaded first). */
  readonly inputs: readonly string[];
}

export interface PipelineStep {
  readonly name: string;
  /** Notebook cell indices of the step's code, in order. */
  readonly cells: readonly number[];
  /** Steps that must finish first: `prev:` tags plus inferred data edges, in notebook order. */
  readonly after: readonly string[];
  /** Code from earlier cells that the step runs again first, in notebook order. */
  readonly units: readonly StepUnit[];
  /** Variables loaded from earlier steps, sorted. */
  readonly inputs: readonly string[];
  /** For each input, the step that produces it. */
  readonly inputSources: Readonly<Record<string, string>>;
  /** Pipeline parameters the step reads, sorted. */
  readonly parameters: readonly string[];
  /** Variables saved for later steps, sorted. */
  readonly outputs: readonly string[];
  /** Outputs that may share objects (`b = a`, a view, a list holding another): saved together. */
  readonly shared: readonly (readonly string[])[];
  /** For each output, the cell that last binds or changes it (for error messages). */
  readonly outputCells: Readonly<Record<string, number>>;
  /** Metrics written at the end of this step (names from `PipelineGraph.metrics`). */
  readonly metrics: readonly string[];
  readonly image: string;
  readonly resources: StepResources;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: readonly SecretEnv[];
  readonly retries: number;
  /** Seconds, or null for no limit. */
  readonly timeoutSeconds: number | null;
  readonly cache: boolean;
  /** Variables marked `serve:` in this step. */
  readonly serve: readonly string[];
  /** pip requirements installed when the step starts on a cluster (`packages:` tags). */
  readonly packages: readonly string[];
}

export interface PipelineGraph {
  readonly pipeline: {
    readonly name: string;
    readonly description: string;
    readonly experiment: string | null;
  };
  readonly parameters: readonly PipelineParameter[];
  readonly metrics: readonly PipelineMetric[];
  /**
   * `imports` and `functions` cells. Their imports, definitions and configuration calls are there
   * in every step (steps run them again as `units`); their other statements run once, in the step
   * that follows them (the one before them when none follows), listed in that step's `cells`.
   */
  readonly preludeCells: readonly number[];
  readonly steps: readonly PipelineStep[];
}
