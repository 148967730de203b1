import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  analyzeNotebook,
  applyParameterValues,
  checkStudySpec,
  describeStudyErrors,
  gridOf,
  parseStudySpec,
  readStudySpec,
  studyToMetadata,
  suggestTrial,
  type PipelineGraph,
  type StudySpec,
  type TrialResult,
} from '@cellflow/core';
import { notebookJson } from '../../../test/support/notebook-json.js';
import { REPO_ROOT as repo } from '../../../test/support/paths.js';

const TUNABLE = notebookJson([
  [
    ['pipeline-parameters'],
    'LR = 0.1  # learning rate\nDEPTH = 3\nKIND = "tree"\nFAST = True\nLAYERS = [1, 2]',
  ],
  [
    ['step:train'],
    'score = LR * DEPTH if KIND == "tree" and FAST else 0\nloss = 1 - score\nprint(LAYERS)',
  ],
  [['pipeline-metrics'], 'print(score)\nprint(loss)'],
]);

function graphOf(text: string): PipelineGraph {
  const r = analyzeNotebook(text);
  assert.ok(r.graph !== undefined, JSON.stringify(r.diagnostics));
  return r.graph;
}

const graph = graphOf(TUNABLE);

function messages(tuning: unknown): string[] {
  return parseStudySpec(tuning, graph).diagnostics.map((d) => `${d.severity}: ${d.message}`);
}

describe('study spec', () => {
  it('reads metadata.cellflow.tuning with types from the parameters cell and defaults filled in', () => {
    const { study, diagnostics } = parseStudySpec(
      {
        objective: 'score',
        parameters: {
          LR: { min: 0.001, max: 1, scale: 'log' },
          DEPTH: { min: 1, max: 8 },
          KIND: { values: ['tree', 'linear'] },
          FAST: ['True', false],
        },
      },
      graph,
    );
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(study, {
      objective: 'score',
      goal: 'maximize',
      additionalMetrics: ['loss'],
      algorithm: 'tpe',
      algorithmSettings: {},
      parameters: [
        { name: 'LR', type: 'double', min: 0.001, max: 1, scale: 'log' },
        { name: 'DEPTH', type: 'int', min: 1, max: 8 },
        { name: 'KIND', type: 'categorical', values: ['tree', 'linear'] },
        { name: 'FAST', type: 'categorical', values: [true, false] },
      ],
      maxTrials: 12,
      parallelTrials: 3,
      maxFailedTrials: 3,
    });
    // what studyToMetadata writes reads back the same
    assert.deepEqual(parseStudySpec(studyToMetadata(study), graph).study, study);
  });

  it('names each problem: objective, unknown parameter, inverted and empty ranges, bad types', () => {
    assert.match(
      messages({ objective: 'accuracy', parameters: { LR: { min: 0, max: 1 } } })[0]!,
      /objective `accuracy` is not a pipeline metric\. Fix: use one of `score`, `loss`/,
    );
    assert.match(
      messages({ objective: 'score', parameters: { ETA: { min: 0, max: 1 } } }).join('\n'),
      /`ETA` is not in the parameters cell \(parameters: `LR`, `DEPTH`, `KIND`, `FAST`, `LAYERS`\)\. Fix: add `ETA = <default>`/,
    );
    assert.match(
      messages({ objective: 'score', parameters: { LR: { min: 1, max: 0.1 } } }).join('\n'),
      /`LR` has min 1 above max 0.1\. Fix: swap them/,
    );
    assert.match(
      messages({ objective: 'score', parameters: { KIND: { values: [] } } }).join('\n'),
      /`KIND` has an empty list of values/,
    );
    assert.match(
      messages({ objective: 'score', parameters: { DEPTH: { values: [1, 2.5] } } }).join('\n'),
      /`DEPTH` is an int .* but the value 2\.5 is not/,
    );
    assert.match(
      messages({
        objective: 'score',
        parameters: { DEPTH: { type: 'double', min: 1, max: 4 } },
      }).join('\n'),
      /`DEPTH` is an int in the parameters cell .* searched as double/,
    );
    assert.match(
      messages({ objective: 'score', parameters: { KIND: { min: 1, max: 4 } } }).join('\n'),
      /`KIND` is a str; a numeric range does not fit it/,
    );
    assert.match(
      messages({ objective: 'score', parameters: { LAYERS: { values: [1] } } }).join('\n'),
      /`LAYERS` is a list .* only numbers, strings and booleans/,
    );
    assert.match(
      messages({ objective: 'score', parameters: { LR: { min: 0, max: 1, scale: 'log' } } }).join(
        '\n',
      ),
      /log scale but its min is 0/,
    );
    assert.match(
      messages({
        objective: 'score',
        algorithm: 'grid',
        parameters: { LR: { min: 0, max: 1 } },
      }).join('\n'),
      /grid search needs a "step" for the double parameter `LR`/,
    );
    assert.match(
      messages({
        objective: 'score',
        algorithm: 'hillclimb',
        parameters: { LR: { min: 0, max: 1 } },
      }).join('\n'),
      /algorithm "hillclimb" is not known/,
    );
    assert.match(
      messages({ objective: 'score', maxTrials: 0, parameters: { LR: { min: 0, max: 1 } } }).join(
        '\n',
      ),
      /`maxTrials` must be a whole number >= 1/,
    );
    // parameter problems point at the parameters cell
    const d = parseStudySpec(
      { objective: 'score', parameters: { NOPE: { min: 0, max: 1 } } },
      graph,
    ).diagnostics;
    assert.equal(d[0]?.cell, 0);
    assert.equal(
      parseStudySpec({ objective: 'score', parameters: { NOPE: {} } }, graph).study,
      null,
    );
  });

  it("reads Kale's katib_metadata (iris: its study names parameters the notebook does not have)", () => {
    const text = readFileSync(join(repo, '../shared/fixtures/kale/iris.ipynb'), 'utf8');
    const r = analyzeNotebook(text);
    const metadata = (JSON.parse(text) as { metadata: Record<string, unknown> }).metadata;
    const { source, study, diagnostics } = readStudySpec(metadata, r.graph!);
    assert.equal(source, 'kale');
    assert.equal(study, null);
    const text2 = diagnostics.map((x) => x.message).join('\n');
    for (const missing of ['ETA', 'OBJECTIVE', 'STEPS'])
      assert.match(text2, new RegExp(`\`${missing}\` is not in the parameters cell`));
    assert.doesNotMatch(text2, /`MAX_DEPTH` is not/, 'MAX_DEPTH is a parameter of the notebook');
    assert.doesNotMatch(text2, /the objective/, 'accuracy is one of its metrics');
  });

  it("maps Kale's string-typed feasible spaces and algorithm settings", () => {
    const kale = {
      kubeflow_notebook: {
        katib_metadata: {
          algorithm: {
            algorithmName: 'random',
            algorithmSettings: [{ name: 'random_state', value: '10' }],
          },
          maxFailedTrialCount: 1,
          maxTrialCount: 6,
          parallelTrialCount: 2,
          objective: { objectiveMetricName: 'loss', type: 'minimize', goal: 0.01 },
          parameters: [
            {
              name: 'LR',
              parameterType: 'double',
              feasibleSpace: { min: '0.1', max: '0.3', step: '0.1' },
            },
            {
              name: 'KIND',
              parameterType: 'categorical',
              feasibleSpace: { list: ['tree', 'linear'] },
            },
          ],
        },
      },
    };
    const { study, diagnostics } = readStudySpec(kale, graph);
    assert.deepEqual(diagnostics, []);
    assert.equal(study?.goal, 'minimize');
    assert.equal(study?.goalValue, 0.01);
    assert.equal(study?.seed, 10);
    assert.deepEqual(study?.parameters[0], {
      name: 'LR',
      type: 'double',
      min: 0.1,
      max: 0.3,
      step: 0.1,
    });
    assert.deepEqual(study?.additionalMetrics, ['score']);
  });
});

describe('checkStudySpec: a study as a client sends it', () => {
  const read = parseStudySpec(
    {
      objective: 'score',
      goalValue: 0.9,
      seed: 4,
      earlyStopping: 'medianstop',
      parameters: {
        LR: { min: 0.001, max: 1, scale: 'log' },
        DEPTH: { min: 1, max: 8, step: 2 },
        KIND: { values: ['tree', 'linear'] },
        FAST: [true, false],
      },
    },
    graph,
  );

  it('passes a checked study through unchanged (what an editor sends, the agent and backends accept)', () => {
    assert.deepEqual(read.diagnostics, []);
    const again = checkStudySpec(JSON.parse(JSON.stringify(read.study)), graph);
    assert.deepEqual(again, { study: read.study, diagnostics: [] });
  });

  it('refuses a study that is not one, naming the field and the fix', () => {
    const study = read.study!;
    const problems = (value: unknown): string =>
      checkStudySpec(value, graph)
        .diagnostics.map((d) => d.message)
        .join('\n');
    assert.match(problems('score'), /^`study` is not an object\. Fix: make it a JSON object/);
    assert.match(
      problems({ ...study, maxTrials: undefined }),
      /^`study`: `maxTrials` must be a whole number >= 1; it is undefined\.$/,
    );
    assert.match(
      problems({ ...study, parameters: [{ name: 'DEPTH', type: 'int', min: 8, max: 1 }] }),
      /^`study`: parameter `DEPTH` has min 8 above max 1\. Fix: swap them\.$/,
    );
    assert.match(
      problems({ ...study, parameters: 'LR' }),
      /`study`: no parameters to search\. Fix: add some of the parameters cell's names/,
    );
    assert.match(
      problems({ ...study, parameters: ['LR'] }),
      /`study`: parameter `LR` needs a range \("min" and "max"\) or a list \("values"\)/,
    );
    const bad = checkStudySpec({ ...study, objective: 'accuracy', goal: 'up' }, graph);
    assert.equal(bad.study, null);
    assert.equal(
      describeStudyErrors(bad.diagnostics),
      'The study cannot run: `study`: the objective `accuracy` is not a pipeline metric. Fix: use one of `score`, `loss`. `study`: "goal" is "up". Fix: use "maximize" or "minimize".',
    );
  });
});

describe('search', () => {
  const spec = parseStudySpec(
    {
      objective: 'score',
      seed: 3,
      maxTrials: 30,
      parameters: {
        LR: { min: 0.001, max: 1, scale: 'log' },
        DEPTH: { min: 1, max: 8 },
        KIND: { values: ['tree', 'linear'] },
      },
    },
    graph,
  ).study!;

  it('is reproducible: the same seed, index and results give the same values; another seed differs', () => {
    const a = Array.from({ length: 5 }, (_, i) => suggestTrial(spec, i, []));
    const b = Array.from({ length: 5 }, (_, i) => suggestTrial(spec, i, []));
    assert.deepEqual(a, b);
    const c = Array.from({ length: 5 }, (_, i) => suggestTrial({ ...spec, seed: 4 }, i, []));
    assert.notDeepEqual(a, c);
    for (const t of a) {
      assert.ok(typeof t.LR === 'number' && t.LR >= 0.001 && t.LR <= 1);
      assert.ok(Number.isInteger(t.DEPTH) && (t.DEPTH as number) >= 1 && (t.DEPTH as number) <= 8);
      assert.ok(t.KIND === 'tree' || t.KIND === 'linear');
    }
  });

  it('grid walks every combination in order and snaps ranges to their step', () => {
    const grid: StudySpec = {
      ...spec,
      algorithm: 'grid',
      parameters: [
        { name: 'LR', type: 'double', min: 0.1, max: 0.3, step: 0.1 },
        { name: 'KIND', type: 'categorical', values: ['tree', 'linear'] },
      ],
    };
    assert.deepEqual(gridOf(grid), [
      { LR: 0.1, KIND: 'tree' },
      { LR: 0.1, KIND: 'linear' },
      { LR: 0.2, KIND: 'tree' },
      { LR: 0.2, KIND: 'linear' },
      { LR: 0.3, KIND: 'tree' },
      { LR: 0.3, KIND: 'linear' },
    ]);
    assert.deepEqual(suggestTrial(grid, 3, []), { LR: 0.2, KIND: 'linear' });
  });

  it('TPE finds a better optimum than random search with the same budget (on average over seeds)', () => {
    // A narrow optimum at LR=0.02 (log scale), DEPTH=6, KIND=linear.
    const f = (t: Record<string, unknown>): number =>
      -((Math.log10(t.LR as number) - Math.log10(0.02)) ** 2) -
      ((t.DEPTH as number) - 6) ** 2 / 10 -
      (t.KIND === 'linear' ? 0 : 0.5);
    const study = (algorithm: 'tpe' | 'random', seed: number): number => {
      const results: TrialResult[] = [];
      const s = { ...spec, algorithm, seed };
      for (let i = 0; i < 30; i++) {
        const p = suggestTrial(s, i, results);
        results.push({ parameters: p, objective: f(p) });
      }
      return Math.max(...results.map((r) => r.objective!));
    };
    let tpe = 0;
    let random = 0;
    for (let seed = 0; seed < 12; seed++) {
      tpe += study('tpe', seed);
      random += study('random', seed);
    }
    assert.ok(tpe > random, `TPE mean best ${tpe / 12} should beat random ${random / 12}`);
  });
});

describe('apply parameter values', () => {
  const text = JSON.stringify(JSON.parse(TUNABLE), null, 1).replace('"cells": [', '"cells": [\n  ');

  it('changes only the values, keeping comments, quotes and every other byte', () => {
    const r = applyParameterValues(text, graph, {
      LR: 0.25,
      DEPTH: 7,
      KIND: 'lin"ear',
      FAST: false,
    });
    assert.deepEqual(r.diagnostics, []);
    const expected = text
      .replace('LR = 0.1  # learning rate', 'LR = 0.25  # learning rate')
      .replace('DEPTH = 3', 'DEPTH = 7')
      .replace('KIND = \\"tree\\"', 'KIND = \\"lin\\\\\\"ear\\"')
      .replace('FAST = True', 'FAST = False');
    assert.equal(r.text, expected);
    const again = analyzeNotebook(r.text).graph!;
    assert.deepEqual(Object.fromEntries(again.parameters.map((p) => [p.name, p.default])), {
      LR: 0.25,
      DEPTH: 7,
      KIND: 'lin"ear',
      FAST: false,
      LAYERS: [1, 2],
    });
  });

  it('writes floats as floats and refuses values of the wrong type or unknown names, changing nothing', () => {
    assert.match(applyParameterValues(text, graph, { LR: 2 }).text, /LR = 2\.0 /);
    const bad = applyParameterValues(text, graph, { DEPTH: 2.5, NOPE: 1 });
    assert.equal(bad.text, text);
    assert.match(
      bad.diagnostics.map((d) => d.message).join('\n'),
      /`DEPTH` is an int \(`3`\), but the new value 2\.5 is not/,
    );
    assert.match(
      bad.diagnostics.map((d) => d.message).join('\n'),
      /`NOPE` is not in the parameters cell/,
    );
  });

  it('edits a notebook whose sources are line arrays (the digits example) byte-safely', () => {
    const digits = readFileSync(join(repo, 'examples/digits.ipynb'), 'utf8');
    const g = analyzeNotebook(digits).graph!;
    const r = applyParameterValues(digits, g, { SVM_C: 12.5, SVM_GAMMA: 0.05 });
    assert.deepEqual(r.diagnostics, []);
    const before = digits.split('\n');
    const after = r.text.split('\n');
    assert.equal(after.length, before.length);
    const changed = before.map((l, i) => [l, after[i]]).filter(([a, b]) => a !== b);
    assert.deepEqual(changed, [
      [
        before.find((l) => l.includes('"SVM_C = 1.0 '))!,
        before.find((l) => l.includes('"SVM_C = 1.0 '))!.replace('SVM_C = 1.0', 'SVM_C = 12.5'),
      ],
      [
        before.find((l) => l.includes('"SVM_GAMMA = 0.01 '))!,
        before
          .find((l) => l.includes('"SVM_GAMMA = 0.01 '))!
          .replace('SVM_GAMMA = 0.01', 'SVM_GAMMA = 0.05'),
      ],
    ]);
  });
});
