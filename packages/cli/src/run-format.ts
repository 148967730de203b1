/** How runs read on a terminal: durations, metric values, failures located in the notebook. */
import { describeLocation, formatMetricValue } from '@cellflow/core';
import type { MetricValues, StepFailure, StepSummary } from '@cellflow/backend';

export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatMetrics(metrics: MetricValues): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k} ${formatMetricValue(v)}`)
    .join(', ');
}

/** `train.model  s3://…/model  sklearn.svm._classes.SVC`: each step's saved variables, aligned. */
export function formatStepOutputs(steps: readonly StepSummary[]): string[] {
  const rows = steps.flatMap((s) =>
    Object.entries(s.outputs ?? {}).map(([variable, o]) => [
      `${s.name}.${variable}`,
      o.uri,
      o.type,
    ]),
  );
  const width = (i: number): number => Math.max(...rows.map((r) => r[i]!.length));
  return rows.map((r) => `${r[0]!.padEnd(width(0))}  ${r[1]!.padEnd(width(1))}  ${r[2]!}`);
}

/** The first line a user needs: what failed, where (`cell 9, line 3`), and the fix when known. */
export function formatFailureHeadline(failure: StepFailure): string {
  const where = failure.cell !== null ? describeLocation(failure.cell, failure.line) : null;
  return where === null || failure.message.includes(where)
    ? failure.message
    : `${failure.message} (${where})`;
}

/** The headline, then the Python traceback (frames named `<cell N>`), indented. */
export function formatFailureDetails(failure: StepFailure): string[] {
  const lines = [formatFailureHeadline(failure)];
  if (failure.traceback !== undefined) {
    lines.push(
      ...failure.traceback
        .trimEnd()
        .split('\n')
        .map((l) => `    ${l}`),
    );
  }
  return lines;
}
