import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chartObjectiveByParameter,
  chartObjectiveByTrial,
  endpointInfoOf,
  exampleV1Request,
  predictUrlOf,
  type StudyResults,
  type TrialRow,
} from '@cellflow/ui';

const trial = (
  index: number,
  objective: number | null,
  parameters: TrialRow['parameters'],
  state: TrialRow['state'] = 'succeeded',
): TrialRow => ({ id: `t${index}`, index, state, parameters, metrics: {}, objective });

const study: StudyResults = {
  id: 's1',
  pipeline: 'digits',
  state: 'succeeded',
  objective: 'accuracy',
  goal: 'maximize',
  parameters: ['C', 'KERNEL'],
  maxTrials: 5,
  bestTrialId: 't2',
  trials: [
    trial(0, 0.8, { C: 0.01, KERNEL: 'rbf' }),
    trial(1, 0.9, { C: 1, KERNEL: 'linear' }),
    trial(2, 0.95, { C: 100, KERNEL: 'rbf' }),
    trial(3, 0.85, { C: 10, KERNEL: 'linear' }),
    trial(4, null, { C: 5, KERNEL: 'rbf' }, 'failed'),
  ],
};

describe('tuning charts', () => {
  it('plots finished trials by number, highest objective on top, with the best-so-far line', () => {
    const chart = chartObjectiveByTrial(study);
    assert.deepEqual(
      chart.points.map((p) => p.trialId),
      ['t0', 't1', 't2', 't3'],
      'the failed trial has no objective to plot',
    );
    const [t0, , t2, t3] = chart.points;
    assert.ok(t2!.y > t3!.y && t3!.y > t0!.y);
    assert.ok(t0!.x < t2!.x && t2!.x < t3!.x);
    assert.deepEqual(
      chart.points.map((p) => p.best),
      [false, false, true, false],
    );
    // The best so far never falls when maximizing, and stays at t2's after it.
    const line = chart.bestSoFar!.map((p) => p.y);
    assert.deepEqual(
      line,
      [...line].sort((a, b) => a - b),
    );
    assert.equal(line[3], t2!.y);
    assert.deepEqual(
      chart.xTicks.map((t) => t.label),
      ['1', '2', '3', '4'],
    );
  });

  it('puts a parameter spanning decades on a log axis, and categories in slots', () => {
    const byC = chartObjectiveByParameter(study, 'C');
    const x = Object.fromEntries(byC.points.map((p) => [p.trialId, p.x]));
    // 0.01, 1, 100 are evenly spaced in log space.
    assert.ok(Math.abs(x.t1! - x.t0! - (x.t2! - x.t1!)) < 1e-9);
    assert.equal(byC.xLabel, 'C');
    const byKernel = chartObjectiveByParameter(study, 'KERNEL');
    assert.deepEqual(
      byKernel.xTicks.map((t) => [t.label, t.at]),
      [
        ['linear', 0.25],
        ['rbf', 0.75],
      ],
    );
    assert.equal(byKernel.points.find((p) => p.trialId === 't2')?.x, 0.75);
  });

  it('a single trial sits in the middle instead of dividing by zero', () => {
    const one = chartObjectiveByTrial({ ...study, trials: [trial(0, 0.5, { C: 1 })] });
    assert.deepEqual([one.points[0]?.x, one.points[0]?.y], [0.5, 0.5]);
  });
});

describe('endpoint example request', () => {
  it('is one row of zeros as wide as the V2 metadata says', () => {
    const body = exampleV1Request({ inputs: [{ shape: [-1, 4] }] });
    assert.deepEqual(JSON.parse(body), { instances: [[0, 0, 0, 0]] });
    assert.deepEqual(JSON.parse(exampleV1Request(undefined)), { instances: [[0]] });
    assert.equal(
      predictUrlOf('http://127.0.0.1:8080/', 'digits-model'),
      'http://127.0.0.1:8080/v1/models/digits-model:predict',
    );
  });

  it('the tester shows an endpoint with its predict URL, and its message when it has one', () => {
    const endpoint = {
      name: 'digits-model',
      url: 'http://127.0.0.1:8080',
      model: { runId: 'r1', step: 'train', variable: 'model' },
      state: 'ready',
      target: 'local',
    } as const;
    assert.deepEqual(endpointInfoOf(endpoint), {
      name: 'digits-model',
      url: 'http://127.0.0.1:8080',
      state: 'ready',
      target: 'local',
      predictUrl: 'http://127.0.0.1:8080/v1/models/digits-model:predict',
    });
    assert.equal(
      endpointInfoOf({ ...endpoint, state: 'pending', message: 'waiting for the predictor' })
        .message,
      'waiting for the predictor',
    );
  });
});
