import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyStudyEvent, type StudySummary, type TrialSummary } from '@cellflow/protocol';

const trial = (index: number, objective: number | null): TrialSummary => ({
  id: `s1-t${index}`,
  index,
  parameters: { C: index + 1 },
  state: objective === null ? 'running' : 'succeeded',
  metrics: objective === null ? {} : { accuracy: objective },
  objective,
  startedAt: null,
  finishedAt: null,
});
const snapshot = (trials: TrialSummary[], best: TrialSummary | null = null): StudySummary => ({
  id: 's1',
  pipeline: 'digits',
  state: 'running',
  target: 'local',
  spec: {
    objective: 'accuracy',
    goal: 'maximize',
    additionalMetrics: [],
    algorithm: 'random',
    algorithmSettings: {},
    maxTrials: 4,
    parallelTrials: 2,
    maxFailedTrials: 1,
    parameters: [{ name: 'C', type: 'double', min: 0.1, max: 10 }],
  },
  createdAt: '2026-12-05T12:00:00.000Z',
  finishedAt: null,
  notebookPath: null,
  trials,
  best,
  counts: { pending: 0, running: 0, succeeded: 0, failed: 0, earlyStopped: 0, cancelled: 0 },
});

describe('applyStudyEvent', () => {
  it('keeps the first snapshot’s trials and adds later ones in suggestion order', () => {
    // Attaching to a running study: trial 0 ended before the watch began, only the snapshot has it.
    let summary = applyStudyEvent(null, { type: 'study', study: snapshot([trial(0, 0.9)]) });
    summary = applyStudyEvent(summary, { type: 'trial', studyId: 's1', trial: trial(2, null) });
    summary = applyStudyEvent(summary, { type: 'trial', studyId: 's1', trial: trial(1, 0.8) });
    summary = applyStudyEvent(summary, { type: 'best', studyId: 's1', trial: trial(2, 0.95) });
    assert.deepEqual(
      summary?.trials.map((t) => [t.index, t.objective]),
      [
        [0, 0.9],
        [1, 0.8],
        [2, 0.95],
      ],
    );
    assert.equal(summary?.best?.id, 's1-t2');
  });

  it("leaves the summary alone for another study's events and before any snapshot", () => {
    const summary = snapshot([trial(0, 0.9)]);
    const frozen = JSON.stringify(summary);
    assert.equal(
      applyStudyEvent(summary, { type: 'trial', studyId: 's2', trial: trial(1, 0.1) }),
      summary,
    );
    assert.equal(applyStudyEvent(null, { type: 'best', studyId: 's1', trial: trial(0, 1) }), null);
    applyStudyEvent(summary, { type: 'trial', studyId: 's1', trial: trial(1, 0.1) });
    assert.equal(JSON.stringify(summary), frozen);
  });
});
