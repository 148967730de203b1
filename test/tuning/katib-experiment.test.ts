/** The Katib Experiment Cellflow writes for a study, checked against Katib's swagger and golden. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  analyzeNotebook,
  buildKatibExperimentForStudy,
  buildTrialConfigMapForStudy,
  parseStudySpec,
  TRIAL_METRICS_FORMAT,
  TRIAL_RUNNER_SOURCE,
  TUNING_ALGORITHMS,
} from '@cellflow/core';
import { katibExperimentGolden } from '../golden/golden-cases.js';
import { notebookJson } from '../support/notebook-json.js';
import { validateKatibExperimentObject, validateKatibYaml } from '../validate/katib.js';

describe('Katib Experiment for a study', () => {
  it('digits: matches the golden file and validates against the Katib swagger', () => {
    const golden = katibExperimentGolden();
    assert.equal(
      golden.yaml,
      readFileSync(golden.path, 'utf8'),
      'run `npm run golden` and review the diff',
    );
    assert.deepEqual(validateKatibYaml(golden.yaml), []);
  });

  it('every algorithm and parameter kind validates; types, lists and log scales map to Katib', () => {
    const graph = analyzeNotebook(
      notebookJson([
        [['pipeline-parameters'], 'LR = 0.1\nDEPTH = 3\nKIND = "tree"\nFAST = True'],
        [['step:train'], 'score = LR * DEPTH if KIND == "tree" and FAST else 0\nloss = 1 - score'],
        [['pipeline-metrics'], 'print(score)\nprint(loss)'],
      ]),
    ).graph!;
    for (const algorithm of TUNING_ALGORITHMS) {
      const { study, diagnostics } = parseStudySpec(
        {
          objective: 'loss',
          goal: 'minimize',
          goalValue: 0.01,
          algorithm,
          seed: 3,
          earlyStopping: { algorithm: 'medianstop', settings: { min_trials_required: 3 } },
          parameters: {
            LR: { min: 0.001, max: 1, step: 0.001, scale: 'log' },
            DEPTH: { min: 1, max: 8 },
            KIND: { values: ['tree', 'linear'] },
            FAST: { values: [true, false] },
          },
        },
        graph,
      );
      assert.deepEqual(diagnostics, []);
      const experiment = buildKatibExperimentForStudy({
        graph,
        study: study!,
        name: 'train-study',
        namespace: 'team',
      });
      assert.deepEqual(validateKatibExperimentObject(experiment), [], algorithm);
      const spec = (experiment as { spec: Record<string, unknown> }).spec as {
        parameters: {
          name: string;
          parameterType: string;
          feasibleSpace: Record<string, unknown>;
        }[];
        objective: Record<string, unknown>;
        trialTemplate: {
          trialSpec: { spec: { template: { spec: { containers: { args: string[] }[] } } } };
        };
      };
      assert.deepEqual(spec.objective, {
        type: 'minimize',
        objectiveMetricName: 'loss',
        goal: 0.01,
        additionalMetricNames: ['score'],
      });
      assert.deepEqual(spec.parameters, [
        {
          name: 'LR',
          parameterType: 'double',
          feasibleSpace: { min: '0.001', max: '1', step: '0.001', distribution: 'logUniform' },
        },
        { name: 'DEPTH', parameterType: 'int', feasibleSpace: { min: '1', max: '8' } },
        { name: 'KIND', parameterType: 'categorical', feasibleSpace: { list: ['tree', 'linear'] } },
        { name: 'FAST', parameterType: 'categorical', feasibleSpace: { list: ['True', 'False'] } },
      ]);
      const args = spec.trialTemplate.trialSpec.spec.template.spec.containers[0]!.args;
      assert.ok(args.includes('LR:float=${trialParameters.LR}'));
      assert.ok(args.includes('DEPTH:int=${trialParameters.DEPTH}'));
      assert.ok(args.includes('FAST:bool=${trialParameters.FAST}'));
      assert.deepEqual(
        args.slice(args.indexOf('--metrics-task'), args.indexOf('--metrics-task') + 2),
        ['--metrics-task', 'train'],
      );
    }
  });

  it('the metric filter takes exactly the lines the step runtime prints', () => {
    const filter = new RegExp(TRIAL_METRICS_FORMAT);
    assert.deepEqual(filter.exec('svm-accuracy=0.9911')?.slice(1), ['svm-accuracy', '0.9911']);
    assert.deepEqual(filter.exec('loss=-1.5e-05')?.slice(1), ['loss', '-1.5e-05']);
    for (const other of [
      'cellflow-trial: started run 1 with {"C": 1}',
      'x = 1',
      'acc=0.9 (best)',
      'name=abc',
    ])
      assert.equal(filter.exec(other), null, other);
  });

  it('the ConfigMap carries the run request and the runner', () => {
    const cm = buildTrialConfigMapForStudy({
      name: 'digits-study',
      namespace: 'team',
      runTemplate: { display_name: 'digits' },
    }) as {
      metadata: { name: string };
      data: Record<string, string>;
    };
    assert.equal(cm.metadata.name, 'digits-study-trial');
    assert.deepEqual(JSON.parse(cm.data['run.json']!), { display_name: 'digits' });
    assert.equal(cm.data['trial.py'], TRIAL_RUNNER_SOURCE);
  });
});
