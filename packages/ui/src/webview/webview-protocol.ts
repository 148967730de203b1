/**
 * The one message protocol between an editor host (the VS Code extension) and Cellflow's webviews:
 * pipeline graph, run details, tuning results, endpoint tester. Plain JSON both ways; the view
 * models here are plain data the host builds from `@cellflow/protocol`'s types (browser-safe).
 */
import type { StepState } from '@cellflow/protocol';
import type { GraphLayout } from '../graph/graph-layout.js';

// ---- shared ------------------------------------------------------------------------------

/** Metric values by name. */
export type MetricMap = Readonly<Record<string, number | string>>;

/** Every view says `ready` once its script runs; the host then sends its data. */
export interface ReadyMessage {
  readonly type: 'ready';
}

// ---- pipeline graph ----------------------------------------------------------------------

export type HostToGraphMessage =
  | {
      readonly type: 'graph';
      readonly layout: GraphLayout;
      readonly states: Readonly<Record<string, StepState>>;
    }
  | { readonly type: 'states'; readonly states: Readonly<Record<string, StepState>> };

export type GraphToHostMessage =
  ReadyMessage | { readonly type: 'revealStep'; readonly step: string };

// ---- run details -------------------------------------------------------------------------

export interface RunDetailsFailure {
  readonly message: string;
  /** Notebook cell (0-based) and line (1-based) of the failure, when known. */
  readonly cell: number | null;
  readonly line: number | null;
  readonly type?: string;
  /** `exception`, `exit`, ... (`StepFailure.kind`). */
  readonly kind?: string;
  /** The Python traceback, frames named `<cell N>`. */
  readonly traceback?: string;
}

/** A saved variable of a cluster step: where the cluster keeps it, and its Python type. */
export interface RunDetailsOutput {
  readonly uri: string;
  readonly type: string;
}

export interface RunDetailsStep {
  readonly name: string;
  readonly state: StepState;
  readonly attempts: number;
  readonly startedAt: string | null;
  readonly durationMs: number | null;
  readonly metrics: MetricMap;
  readonly cachedFrom?: string;
  readonly failure?: RunDetailsFailure;
  /** Saved variables by name (cluster runs). */
  readonly outputs?: Readonly<Record<string, RunDetailsOutput>>;
}

export interface RunDetails {
  readonly id: string;
  readonly pipeline: string;
  readonly target: 'local' | 'cluster';
  readonly state: StepState;
  readonly startedAt: string | null;
  readonly durationMs: number | null;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly metrics: MetricMap;
  readonly steps: readonly RunDetailsStep[];
  readonly reason?: string;
}

export type HostToRunDetailsMessage = { readonly type: 'run'; readonly run: RunDetails };

export type RunDetailsToHostMessage =
  | ReadyMessage
  | { readonly type: 'revealFailure'; readonly step: string }
  | { readonly type: 'showLogs'; readonly step: string };

// ---- tuning results ----------------------------------------------------------------------

export type TrialStateName =
  'pending' | 'running' | 'succeeded' | 'failed' | 'early-stopped' | 'cancelled';

export interface TrialRow {
  readonly id: string;
  readonly index: number;
  readonly state: TrialStateName;
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  readonly metrics: MetricMap;
  readonly objective: number | null;
}

export interface StudyResults {
  readonly id: string;
  readonly pipeline: string;
  readonly state: 'running' | 'succeeded' | 'failed' | 'cancelled';
  readonly objective: string;
  readonly goal: 'maximize' | 'minimize';
  /** Names of the searched parameters, in the study's order. */
  readonly parameters: readonly string[];
  readonly maxTrials: number;
  readonly trials: readonly TrialRow[];
  readonly bestTrialId: string | null;
  readonly reason?: string;
}

export type HostToTuningMessage = { readonly type: 'study'; readonly study: StudyResults };

export type TuningToHostMessage = ReadyMessage | { readonly type: 'applyBest' };

// ---- endpoint tester ---------------------------------------------------------------------

export interface EndpointInfo {
  readonly name: string;
  /** Base URL of the model server. */
  readonly url: string;
  readonly state: 'pending' | 'ready' | 'failed';
  readonly target: 'local' | 'cluster';
  /** Where requests go (the V1 predict URL). */
  readonly predictUrl: string;
  readonly message?: string;
}

export type HostToEndpointTesterMessage =
  | {
      readonly type: 'endpoint';
      readonly endpoint: EndpointInfo;
      /** A request body shaped like the model's input, to start from. */
      readonly example: string;
    }
  | {
      readonly type: 'answer';
      readonly status: number;
      readonly body: string;
      readonly latencyMs: number;
    }
  | { readonly type: 'failure'; readonly message: string };

export type EndpointTesterToHostMessage =
  ReadyMessage | { readonly type: 'send'; readonly body: string };
