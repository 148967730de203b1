/**
 * What a step on a cluster reports in its log for Cellflow to read back: a line per metric and a
 * line per saved output, printed by the step runtime (`_metric_report_line` and
 * `_artifact_report_line` in runtime.py) after the step's cells ran, so they are the log's last
 * lines of the step's own. The two are tested against each other (core's step-report-lines test).
 *
 *   cellflow-metric: NAME=VALUE            VALUE is JSON: a number, or a string in quotes
 *   cellflow-artifact: VAR=URI type=TYPE   where the cluster keeps the saved variable (`s3://…`,
 *                                          `minio://…`, `gs://…`) and its Python type
 *
 * A cell may print anything, these prefixes too: the last line for a name wins, and the runtime's
 * come last.
 */

export const METRIC_LINE_PREFIX = 'cellflow-metric: ';
export const ARTIFACT_LINE_PREFIX = 'cellflow-artifact: ';

/** Where a cluster keeps a step's saved variable, and the variable's Python type. */
export interface StepOutputArtifact {
  /** `minio://mlpipeline/v2/artifacts/…`, `s3://…`, `gs://…`. */
  readonly uri: string;
  /** Python type, module-qualified (`sklearn.svm._classes.SVC`). */
  readonly type: string;
}

export interface StepReport {
  /** Metric values by metric name; non-numeric values stay strings. */
  readonly metrics: Readonly<Record<string, number | string>>;
  /** Saved variables by name. */
  readonly artifacts: Readonly<Record<string, StepOutputArtifact>>;
}

const METRIC_LINE = /^cellflow-metric: ([^\s=]+)=(.+)$/;
const ARTIFACT_LINE = /^cellflow-artifact: ([A-Za-z_]\w*)=(\S+) type=(\S+)$/;

export function formatMetricLine(name: string, value: number | string): string {
  return `${METRIC_LINE_PREFIX}${name}=${typeof value === 'number' && Number.isFinite(value) ? String(value) : JSON.stringify(String(value))}`;
}

export function formatArtifactLine(variable: string, artifact: StepOutputArtifact): string {
  return `${ARTIFACT_LINE_PREFIX}${variable}=${artifact.uri} type=${artifact.type}`;
}

function metricValueOf(text: string): number | string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'number' || typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The metrics and artifacts a step's log reports (empty when it reports none). */
export function parseStepReport(log: string): StepReport {
  const metrics: Record<string, number | string> = {};
  const artifacts: Record<string, StepOutputArtifact> = {};
  for (const raw of log.split('\n')) {
    if (!raw.startsWith('cellflow-')) continue;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const metric = METRIC_LINE.exec(line);
    if (metric !== null) {
      const value = metricValueOf(metric[2]!);
      if (value !== undefined) metrics[metric[1]!] = value;
      continue;
    }
    const artifact = ARTIFACT_LINE.exec(line);
    if (artifact !== null) artifacts[artifact[1]!] = { uri: artifact[2]!, type: artifact[3]! };
  }
  return { metrics, artifacts };
}

/**
 * Where a step on a cluster left what its cells showed (`_write_kfp_cell_outputs` in runtime.py):
 *
 *   cellflow-cell-outputs: URI              its `cell-outputs` artifact (a step that succeeded)
 *   cellflow-cell-outputs: inline:DATA      the outputs themselves, zlib-compressed JSON in base64
 *                                           (a failed step: KFP keeps no artifacts of a failed task)
 */
export const CELL_OUTPUTS_LINE_PREFIX = 'cellflow-cell-outputs: ';

export type CellOutputsLocation = { readonly uri: string } | { readonly inline: string };

const CELL_OUTPUTS_LINE =
  /^cellflow-cell-outputs: (?:inline:([A-Za-z0-9+/=]+)|([a-z][\w+.-]*:\/\/\S+|\/\S+))$/;

/** The last cell-outputs line of a step's log, if it has one. */
export function readCellOutputsLine(log: string): CellOutputsLocation | undefined {
  let found: CellOutputsLocation | undefined;
  for (const raw of log.split('\n')) {
    if (!raw.startsWith(CELL_OUTPUTS_LINE_PREFIX)) continue;
    const m = CELL_OUTPUTS_LINE.exec(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (m !== null) found = m[1] !== undefined ? { inline: m[1] } : { uri: m[2]! };
  }
  return found;
}
