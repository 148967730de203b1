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

export interface PipelineStep {
  readonly name: string;
  /** Notebook cell indices of the step's code, in order. */
  readonly cells: readonly number[];
  /** Steps that must finish first: `prev:` tags plus inferred data edges, in notebook order. */
  readonly after: readonly string[];
  /** Variables loaded from earlier steps, sorted. */
  readonly inputs: readonly string[];
  /** For each input, the step that produces it. */
  readonly inputSources: Readonly<Record<string, string>>;
  /** Pipeline parameters the step reads, sorted. */
  readonly parameters: readonly string[];
  /** Variables saved for later steps, sorted. */
  readonly outputs: readonly string[];
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
}

export interface PipelineGraph {
  readonly pipeline: {
    readonly name: string;
    readonly description: string;
    readonly experiment: string | null;
  };
  readonly parameters: readonly PipelineParameter[];
  readonly metrics: readonly PipelineMetric[];
  /** `imports` and `functions` cells, prepended to every step in this order. */
  readonly preludeCells: readonly number[];
  readonly steps: readonly PipelineStep[];
}
