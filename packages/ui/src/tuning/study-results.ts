/** What the tuning results view shows, from a backend's `StudySummary` (both editors use this). */
import type { StudyEvent, StudySummary } from '@cellflow/backend';
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

/** A study summary with one event applied (events of another study leave it as it is). */
export function applyStudyEvent(
  summary: StudySummary | null,
  event: StudyEvent,
): StudySummary | null {
  if (event.type === 'study') return event.study;
  if (summary === null || event.studyId !== summary.id) return summary;
  if (event.type === 'best') return { ...summary, best: event.trial };
  const trials = summary.trials.filter((t) => t.id !== event.trial.id);
  trials.push(event.trial);
  trials.sort((a, b) => a.index - b.index);
  return { ...summary, trials };
}
