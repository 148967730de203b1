/**
 * Local studies with real Python: the digits example's study beats its defaults, a seed makes a
 * study reproducible, failing trials are counted without stopping the study, steps that do not
 * depend on the searched parameters run once, and history survives the backend.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { compile, readStudySpec, type CompiledPipeline, type StudySpec } from '@cellflow/core';
import { LocalBackend, type StudyEvent, type StudySummary } from '@cellflow/backend';
import { code, compileNotebook, notebook, PYTHON, repoRoot, tempDir } from './support/notebooks.js';
import { processesOfRun } from './support/processes.js';

async function studyToEnd(
  backend: LocalBackend,
  pipeline: CompiledPipeline,
  spec: StudySpec,
  notebookPath?: string,
): Promise<{ summary: StudySummary; events: StudyEvent[] }> {
  const ref = await backend.tune(
    pipeline,
    spec,
    notebookPath !== undefined ? { notebookPath } : {},
  );
  const events: StudyEvent[] = [];
  for await (const e of backend.watchStudy(ref)) events.push(e);
  const last = events.at(-1);
  assert.equal(last?.type, 'study', 'watchStudy ends with the study snapshot');
  return { summary: (last as { study: StudySummary }).study, events };
}

describe('local studies', () => {
  const work = tempDir('study');
  after(work.remove);
  const backend = new LocalBackend({ workspace: work.dir, python: PYTHON });
  after(() => backend.dispose());

  it('digits: the study in the notebook finds a better svm-accuracy than the defaults, reusing the shared steps', async () => {
    const path = join(repoRoot, 'examples/digits.ipynb');
    const pipeline = compile(readFileSync(path), { fileName: 'digits.ipynb' }).pipeline!;
    const { study } = readStudySpec(pipeline.notebook.metadata, pipeline.graph);
    assert.ok(study !== null);
    const defaults = await backend.submit(pipeline, { notebookPath: path });
    let defaultAccuracy = NaN;
    for await (const e of backend.watch(defaults))
      if (e.type === 'run' && e.state === 'succeeded')
        defaultAccuracy = e.metrics['svm-accuracy'] as number;
    assert.ok(defaultAccuracy > 0.9 && defaultAccuracy < 0.96, `default ${defaultAccuracy}`);

    const { summary, events } = await studyToEnd(
      backend,
      pipeline,
      { ...study, maxTrials: 6 },
      path,
    );
    assert.equal(summary.state, 'succeeded', summary.reason);
    assert.equal(summary.counts.succeeded, 6);
    assert.ok(
      summary.best !== null && summary.best.objective! > defaultAccuracy,
      `best ${summary.best?.objective} > ${defaultAccuracy}`,
    );
    assert.deepEqual(Object.keys(summary.best.parameters).sort(), ['SVM_C', 'SVM_GAMMA']);
    // best events only ever improve
    const bests = events
      .filter((e) => e.type === 'best')
      .map((e) => (e as { trial: { objective: number } }).trial.objective);
    assert.deepEqual(
      bests,
      [...bests].sort((a, b) => a - b),
    );
    // load_data, split and the two other models do not read SVM_C / SVM_GAMMA: every trial reuses them
    const runs = await backend.listRuns();
    for (const trial of summary.trials) {
      const run = runs.find((r) => r.id === trial.runId)!;
      const state = Object.fromEntries(run.steps.map((s) => [s.name, s.state]));
      for (const shared of ['load_data', 'split', 'train_logistic', 'train_forest'])
        assert.equal(state[shared], 'cached', `trial ${trial.index}: ${shared} reused`);
      assert.equal(state.train_svm, 'succeeded');
      assert.deepEqual(processesOfRun(run.id), []);
    }
    // persisted beside run history, and listed by a new backend
    const listed = await new LocalBackend({ workspace: work.dir, python: PYTHON }).listStudies();
    assert.equal(listed[0]?.id, summary.id);
    assert.deepEqual(listed[0]?.best, summary.best);
  });

  const fast = notebook(
    [
      code('X = 1.0\nN = 2\nMODE = "a"', ['pipeline-parameters']),
      code('base = 10', ['step:prepare']),
      code(
        'if N == 7:\n    raise ValueError("N=7 is not allowed")\nscore = base - (X - 3.0) ** 2 - (N - 4) ** 2 + (1 if MODE == "b" else 0)',
        ['step:evaluate'],
      ),
      code('print(score)', ['pipeline-metrics']),
    ],
    'fast',
  );

  it('is reproducible with a seed, counts failing trials and carries on', async () => {
    const { pipeline, path } = compileNotebook(fast, work.dir, 'fast.ipynb');
    const spec: StudySpec = {
      objective: 'score',
      goal: 'maximize',
      additionalMetrics: [],
      algorithm: 'tpe',
      algorithmSettings: {},
      parameters: [
        { name: 'X', type: 'double', min: 0, max: 6 },
        { name: 'N', type: 'int', min: 1, max: 8 },
        { name: 'MODE', type: 'categorical', values: ['a', 'b'] },
      ],
      maxTrials: 10,
      parallelTrials: 3,
      maxFailedTrials: 10,
      seed: 11,
    };
    const first = await studyToEnd(backend, pipeline, spec, path);
    const second = await studyToEnd(backend, pipeline, spec, path);
    assert.equal(first.summary.state, 'succeeded', first.summary.reason);
    assert.deepEqual(
      first.summary.trials.map((t) => t.parameters),
      second.summary.trials.map((t) => t.parameters),
      'same seed, same trials',
    );
    assert.equal(first.summary.trials.length, 10);
    // a different seed explores differently
    const third = await studyToEnd(backend, pipeline, { ...spec, seed: 12, maxTrials: 3 }, path);
    assert.notDeepEqual(
      third.summary.trials.map((t) => t.parameters),
      first.summary.trials.slice(0, 3).map((t) => t.parameters),
    );

    // N=7 fails: the failure is counted with the step's reason, and the study goes on
    const failing = await studyToEnd(
      backend,
      pipeline,
      {
        ...spec,
        algorithm: 'grid',
        parameters: [{ name: 'N', type: 'int', min: 6, max: 8 }],
        maxFailedTrials: 1,
      },
      path,
    );
    assert.equal(failing.summary.state, 'succeeded');
    assert.deepEqual(
      failing.summary.trials.map((t) => [t.parameters.N, t.state]),
      [
        [6, 'succeeded'],
        [7, 'failed'],
        [8, 'succeeded'],
      ],
    );
    assert.match(
      failing.summary.trials[1]!.reason ?? '',
      /Step `evaluate` failed: .*ValueError.*N=7 is not allowed/,
    );
    assert.equal(failing.summary.counts.failed, 1);
    assert.equal(failing.summary.best?.parameters.N, 6);

    // more failures than allowed: the study fails and says why
    const tooMany = await studyToEnd(
      backend,
      pipeline,
      {
        ...spec,
        algorithm: 'grid',
        parameters: [{ name: 'N', type: 'discrete', values: [7, 2, 3] }],
        maxFailedTrials: 0,
      },
      path,
    );
    assert.equal(tooMany.summary.state, 'failed', JSON.stringify(tooMany.summary.trials));
    assert.match(
      tooMany.summary.reason ?? '',
      /1 trials failed \(the study allows 0\)/,
      JSON.stringify(tooMany.summary.trials),
    );
  });

  it('cancels: running trials stop, no new ones start, the study says cancelled', async () => {
    const slow = notebook(
      [
        code('X = 1.0', ['pipeline-parameters']),
        code('import time\ntime.sleep(30)\nscore = X', ['step:wait']),
        code('print(score)', ['pipeline-metrics']),
      ],
      'slow',
    );
    const { pipeline, path } = compileNotebook(slow, work.dir, 'slow.ipynb');
    const ref = await backend.tune(
      pipeline,
      {
        objective: 'score',
        goal: 'maximize',
        additionalMetrics: [],
        algorithm: 'random',
        algorithmSettings: {},
        parameters: [{ name: 'X', type: 'double', min: 0, max: 1 }],
        maxTrials: 4,
        parallelTrials: 2,
        maxFailedTrials: 0,
      },
      { notebookPath: path },
    );
    let running = 0;
    for await (const e of backend.watchStudy(ref)) {
      if (e.type === 'trial' && e.trial.state === 'running' && ++running === 2) break;
    }
    const started = Date.now();
    await backend.cancelStudy(ref);
    assert.ok(Date.now() - started < 10_000);
    const [summary] = (await backend.listStudies()).filter((s) => s.id === ref.id);
    assert.equal(summary?.state, 'cancelled');
    assert.equal(summary?.trials.length, 2);
    for (const t of summary.trials) {
      assert.equal(t.state, 'cancelled');
      assert.deepEqual(processesOfRun(t.runId!), []);
    }
  });

  it('refuses a study whose objective or parameters the pipeline does not have', async () => {
    const { pipeline } = compileNotebook(fast, work.dir, 'fast2.ipynb');
    const base: StudySpec = {
      objective: 'accuracy',
      goal: 'maximize',
      additionalMetrics: [],
      algorithm: 'random',
      algorithmSettings: {},
      parameters: [{ name: 'X', type: 'double', min: 0, max: 1 }],
      maxTrials: 1,
      parallelTrials: 1,
      maxFailedTrials: 0,
    };
    await assert.rejects(
      backend.tune(pipeline, base),
      /^BackendError: The study cannot run: `study`: the objective `accuracy` is not a pipeline metric\. Fix: use one of `score`\./,
    );
    await assert.rejects(
      backend.tune(pipeline, {
        ...base,
        objective: 'score',
        parameters: [{ name: 'Y', type: 'int', min: 0, max: 1 }],
      }),
      /`study`: `Y` is not in the parameters cell \(parameters: `X`, `N`, `MODE`\)\. Fix: add `Y = <default>`/,
    );
    await assert.rejects(
      backend.watchStudy({ id: 'nope' })[Symbol.asyncIterator]().next(),
      /No study nope/,
    );
  });
});
