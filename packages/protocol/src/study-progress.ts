/**
 * A study's summary as its events tell it: the one fold of `StudyEvent`s that the editors and the
 * CLI share. Pure: returns a new summary and leaves its arguments alone.
 */
import type { StudyEvent, StudySummary, TrialSummary } from './backend.js';

/** The trials with `trial` added or replacing the one with its id, in suggestion order. */
function withTrial(trials: readonly TrialSummary[], trial: TrialSummary): TrialSummary[] {
  return [...trials.filter((t) => t.id !== trial.id), trial].sort((a, b) => a.index - b.index);
}

/**
 * A study summary with one event applied: a `study` snapshot replaces it, a `trial` adds or
 * updates that trial, `best` does so too and makes it the best. Events of another study, or
 * changes before any snapshot (`summary` null), leave it as it is.
 */
export function applyStudyEvent(
  summary: StudySummary | null,
  event: StudyEvent,
): StudySummary | null {
  if (event.type === 'study') return event.study;
  if (summary === null || event.studyId !== summary.id) return summary;
  const trials = withTrial(summary.trials, event.trial);
  return event.type === 'best' ? { ...summary, trials, best: event.trial } : { ...summary, trials };
}
