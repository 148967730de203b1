/** What the tuning results view shows, from a backend's `StudySummary` (both editors use this). */
import type { StudySummary } from '@cellflow/protocol';
import type { StudyResults } from '../webview/webview-protocol.js';

export function studyResultsOf(summary: StudySummary): StudyResults {
  return {
    id: summary.id,
    pipeline: summary.pipeline,
    state: summary.state,
    objective: summary.spec.objective,
    goal: summary.spec.goal,
    parameters: summary.spec.parameters.map((p) => p.name),
    maxTrials: summary.spec.maxTrials,
    bestTrialId: summary.best?.id ?? null,
    ...(summary.reason !== undefined ? { reason: summary.reason } : {}),
    trials: summary.trials.map((t) => ({
      id: t.id,
      index: t.index,
      state: t.state,
      parameters: t.parameters,
      metrics: t.metrics,
      objective: t.objective,
    })),
  };
}

/** The one fold of study events; re-exported for the editors that import it from here. */
export { applyStudyEvent } from '@cellflow/protocol';
