/** The study editor's text shared by both editors: ranges typed by a person, checked by core. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile, type StudySpec } from '@cellflow/core';
import {
  parameterRangeText,
  parseParameterRange,
  studyFormValuesOf,
  studyFromFormValues,
  suggestedRangeText,
} from '@cellflow/ui';
import { notebookJson } from '../../../test/support/notebook-json.js';

const graph = compile(
  notebookJson([
    [['pipeline-parameters'], 'C = 1.0\nDEPTH = 3\nKERNEL = "rbf"'],
    [['step:train'], 'accuracy = C * DEPTH / 10 if KERNEL else 0'],
    [['pipeline-metrics'], 'print(accuracy)'],
  ]),
).pipeline!.graph;

const base: StudySpec = {
  objective: 'accuracy',
  goal: 'maximize',
  additionalMetrics: [],
  algorithm: 'random',
  algorithmSettings: {},
  parameters: [{ name: 'DEPTH', type: 'int', min: 1, max: 5 }],
  maxTrials: 12,
  parallelTrials: 3,
  maxFailedTrials: 3,
};

describe('study form', () => {
  it('reads ranges and lists as a person types them', () => {
    assert.deepEqual(parseParameterRange('0.1 .. 100 log'), { min: 0.1, max: 100, scale: 'log' });
    assert.deepEqual(parseParameterRange('1..10 step 2'), { min: 1, max: 10, step: 2 });
    assert.deepEqual(parseParameterRange('rbf, linear'), { values: ['rbf', 'linear'] });
    assert.match(String(parseParameterRange('rbf')), /range such as/);
    assert.equal(suggestedRangeText(1), '0.1 .. 10 log');
    assert.equal(
      parameterRangeText({ name: 'C', type: 'double', min: 0.1, max: 10, scale: 'log' }),
      '0.1 .. 10 log',
    );
  });

  it('turns edited form values into a study core accepts, keeping int ranges whole', () => {
    const values = {
      ...studyFormValuesOf(base),
      maxTrials: '6',
      parallelTrials: '2',
      ranges: { DEPTH: '2 .. 4', C: '0.1 .. 10 log', KERNEL: '' },
    };
    const study = studyFromFormValues(base, values, graph);
    assert.ok(typeof study !== 'string', String(study));
    assert.equal(study.maxTrials, 6);
    assert.equal(study.parallelTrials, 2);
    assert.deepEqual(
      study.parameters.map((p) => [p.name, p.type, p.min, p.max]),
      [
        ['DEPTH', 'int', 2, 4],
        ['C', 'double', 0.1, 10],
      ],
    );
  });

  it('says what is wrong with a field instead of starting', () => {
    const values = studyFormValuesOf(base);
    assert.match(
      String(studyFromFormValues(base, { ...values, maxTrials: 'many' }, graph)),
      /Trials in all must be a whole number/,
    );
    assert.match(
      String(studyFromFormValues(base, { ...values, ranges: { C: 'big' } }, graph)),
      /^C: /,
    );
  });
});
