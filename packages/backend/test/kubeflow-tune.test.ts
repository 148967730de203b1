/**
 * Studies on a cluster against the real API server with Katib's CRDs and the KFP double: the
 * Experiment and its ConfigMap; a trial whose Job the API server accepts and whose runner (the real
 * Python script, run here as the trial pod would) starts a KFP run, waits for it and prints the
 * metrics the metrics step logged; trial states, metrics and the best trial as Katib reports them;
 * failed trials counted; cancel deletes the Experiment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { BackendError, KubeflowBackend, type StudyEvent } from '@cellflow/backend';
import { compile, readStudySpec, TRIAL_METRICS_FORMAT, type StudySpec } from '@cellflow/core';
import { describeWithCluster } from '../../../test/cluster/cluster-suite.js';
import { ControllerDriver } from '../../../test/cluster/controller-driver.js';
import { startKfpDouble, type KfpDouble } from '../../../test/cluster/kfp-double/index.js';
import { validateKatibExperimentObject } from '../../../test/validate/katib.js';
import { repoRoot } from './support/notebooks.js';

const NS = 'kubeflow';

interface Json {
  [key: string]: any;
}

describeWithCluster('KubeflowBackend tuning (Katib)', (ctx) => {
  let kfp: KfpDouble;
  let backend: KubeflowBackend;
  const digits = compile(readFileSync(join(repoRoot, 'examples/digits.ipynb')), {
    fileName: 'digits.ipynb',
  }).pipeline!;
  const study: StudySpec = {
    ...readStudySpec(digits.notebook.metadata, digits.graph).study!,
    maxTrials: 4,
    parallelTrials: 2,
  };
  before(async () => {
    kfp = await startKfpDouble(ctx.cluster());
    backend = await KubeflowBackend.connect({
      kubeconfig: ctx.cluster().kubeconfigPath,
      context: 'admin',
      namespace: NS,
      kfp: { endpoint: kfp.url },
    });
  });
  after(async () => {
    await kfp.stop();
  });

  it('creates a valid Experiment; a real trial runner runs the pipeline in KFP and reports its metrics; trials, best and counts come back', async () => {
    const cluster = ctx.cluster();
    const driver = new ControllerDriver(cluster);
    const ref = await backend.tune(digits, study, {
      notebookPath: 'examples/digits.ipynb',
      parameters: { TEST_SIZE: 0.3 },
      trialKfpEndpoint: kfp.url,
    });
    const experiment = await cluster.admin.get<Json>(
      `/apis/kubeflow.org/v1beta1/namespaces/${NS}/experiments/${ref.id}`,
    );
    assert.deepEqual(validateKatibExperimentObject(experiment), []);
    assert.equal(experiment.spec.objective.objectiveMetricName, 'svm-accuracy');
    const configMap = await cluster.admin.get<Json>(
      `/api/v1/namespaces/${NS}/configmaps/${ref.id}-trial`,
    );
    assert.equal(configMap.metadata.ownerReferences[0].uid, experiment.metadata.uid);
    const template = JSON.parse(configMap.data['run.json']);
    assert.equal(template.runtime_config.parameters.TEST_SIZE, 0.3, 'fixed values are kept');
    assert.ok(kfp.store.experiments.has(template.experiment_id), 'the KFP experiment exists');

    const events: StudyEvent[] = [];
    const watching = (async () => {
      for await (const e of backend.watchStudy(ref)) events.push(e);
    })();

    // Katib's controller makes a trial from a suggestion; the API server must accept its Job.
    const trial = await driver.createTrial(NS, ref.id, { SVM_C: 4, SVM_GAMMA: 0.05 });
    const job = (trial as Json).spec.runSpec;
    await cluster.admin.create(`/apis/batch/v1/namespaces/${NS}/jobs?dryRun=All`, job);
    await driver.setTrialCondition(NS, trial.metadata.name!, 'Running');
    await driver.syncExperimentStatus(NS, ref.id);

    // The trial pod's container, run here: the runner from the ConfigMap with the Job's arguments.
    const dir = cluster.dir;
    writeFileSync(join(dir, 'trial.py'), configMap.data['trial.py']);
    writeFileSync(join(dir, 'run.json'), configMap.data['run.json']);
    writeFileSync(join(dir, 'token'), cluster.adminToken);
    writeFileSync(join(dir, 'ca.crt'), cluster.caCert);
    const container = job.spec.template.spec.containers[0];
    const args = (container.args as string[]).map((a) => a.replace('/cellflow/trial', dir));
    assert.ok(args.includes('SVM_C:float=4'), args.join(' '));
    const runner = spawn('/usr/bin/python3', ['-u', ...args, '--poll', '0.2'], {
      env: {
        PATH: process.env.PATH,
        CELLFLOW_KUBE_API: cluster.server,
        CELLFLOW_KUBE_TOKEN_PATH: join(dir, 'token'),
        CELLFLOW_KUBE_CA: join(dir, 'ca.crt'),
        HOSTNAME: trial.metadata.name,
      },
    });
    let stdout = '';
    let stderr = '';
    runner.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    runner.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => runner.on('exit', (code) => r(code)));

    // KFP runs the pipeline: its metrics step prints `name=value` lines (as the step runtime does).
    let runId: string | undefined;
    for (let i = 0; i < 100 && runId === undefined; i++) {
      runId = [...kfp.store.runs.values()].find(
        (r) => r.experiment_id === template.experiment_id,
      )?.run_id;
      if (runId === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(runId !== undefined, `the runner started a KFP run: ${stderr}`);
    const run = kfp.store.runs.get(runId)!;
    const params = (run.runtime_config?.parameters ?? {}) as Record<string, unknown>;
    assert.deepEqual([params.SVM_C, params.SVM_GAMMA, params.TEST_SIZE], [4, 0.05, 0.3]);
    const wf = (await driver.findWorkflowForRun(NS, runId))!;
    await driver.runWorkflowToCompletion(NS, wf.metadata.name!, {
      logs: {
        'pick-best':
          'support vector machine (C=4, gamma=0.05): 0.9900\nlogistic-accuracy=0.9622\nsvm-accuracy=0.99\nforest-accuracy=0.9667\nbest-accuracy=0.99\n',
      },
    });
    assert.equal(await exited, 0, stderr);
    const filter = new RegExp(TRIAL_METRICS_FORMAT);
    const printed = Object.fromEntries(
      stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const m = filter.exec(l);
          assert.ok(m !== null, `every stdout line is a metric line: ${l}`);
          return [m[1], Number(m[2])];
        }),
    );
    assert.deepEqual(printed, {
      'svm-accuracy': 0.99,
      'logistic-accuracy': 0.9622,
      'forest-accuracy': 0.9667,
      'best-accuracy': 0.99,
    });

    // Katib's collector reports them; a second trial fails; the study ends.
    await driver.setTrialCondition(NS, trial.metadata.name!, 'Succeeded', { metrics: printed });
    await driver.syncExperimentStatus(NS, ref.id);
    const failing = await driver.createTrial(NS, ref.id, { SVM_C: 0.2, SVM_GAMMA: 0.9 });
    await driver.setTrialCondition(NS, failing.metadata.name!, 'Failed', {
      message: 'Trial has failed. Job message: BackoffLimitExceeded',
    });
    await driver.syncExperimentStatus(NS, ref.id);
    await new Promise((r) => setTimeout(r, 300));
    await driver.syncExperimentStatus(NS, ref.id, 'Succeeded');
    await watching;

    assert.equal(events[0]?.type, 'study');
    const final = events.at(-1)!;
    assert.ok(final.type === 'study');
    const s = final.study;
    assert.equal(s.state, 'succeeded');
    assert.equal(s.target, 'cluster');
    assert.equal(s.notebookPath, 'examples/digits.ipynb');
    assert.deepEqual(s.counts, {
      pending: 0,
      running: 0,
      succeeded: 1,
      failed: 1,
      earlyStopped: 0,
      cancelled: 0,
    });
    assert.deepEqual(s.trials[0]?.parameters, { SVM_C: 4, SVM_GAMMA: 0.05 });
    assert.equal(s.trials[0]?.objective, 0.99);
    assert.equal(s.trials[0]?.metrics['forest-accuracy'], 0.9667);
    assert.equal(s.trials[1]?.state, 'failed');
    assert.match(s.trials[1]?.reason ?? '', /BackoffLimitExceeded/);
    assert.equal(s.best?.id, trial.metadata.name);
    const bestEvents = events.filter((e) => e.type === 'best');
    assert.equal(bestEvents.length, 1);
    // what a watcher saw of the first trial, from the first snapshot on
    const states = events.flatMap((e) =>
      e.type === 'trial'
        ? e.trial.id === trial.metadata.name
          ? [e.trial.state]
          : []
        : e.type === 'study'
          ? e.study.trials.filter((t) => t.id === trial.metadata.name).map((t) => t.state)
          : [],
    );
    assert.deepEqual(
      [...new Set(states)].filter((x) => x !== 'pending'),
      ['running', 'succeeded'],
    );

    const listed = await backend.listStudies();
    assert.equal(listed.find((x) => x.id === ref.id)?.best?.objective, 0.99);
  });

  it('cancel deletes the Experiment and a watcher sees the study cancelled', async () => {
    const ref = await backend.tune(digits, study);
    const events: StudyEvent[] = [];
    const watching = (async () => {
      for await (const e of backend.watchStudy(ref)) events.push(e);
    })();
    await new Promise((r) => setTimeout(r, 200));
    await backend.cancelStudy(ref);
    await watching;
    const last = events.at(-1);
    assert.ok(last?.type === 'study' && last.study.state === 'cancelled');
    await assert.rejects(backend.cancelStudy(ref), /No Katib Experiment/);
  });

  it('refuses a study that does not fit the pipeline before it creates anything (issue 15)', async () => {
    const list = (): Promise<{ items: unknown[] }> =>
      ctx.cluster().admin.get(`/apis/kubeflow.org/v1beta1/namespaces/${NS}/experiments`);
    const before = (await list()).items.length;
    await assert.rejects(
      backend.tune(digits, {
        ...study,
        objective: 'f1',
        parameters: [{ name: 'SVM_C', type: 'double', min: 10, max: 1 }],
      }),
      (error: unknown) =>
        error instanceof BackendError &&
        error.code === 'invalid-study' &&
        error.message.startsWith(
          'The study cannot run: `study`: the objective `f1` is not a pipeline metric. Fix: use one of `logistic-accuracy`',
        ) &&
        error.message.includes(
          '`study`: parameter `SVM_C` has min 10 above max 1. Fix: swap them.',
        ),
    );
    assert.equal((await list()).items.length, before, 'no Experiment was created');
  });

  it('an unknown study says which, and in which namespace', async () => {
    const other = await KubeflowBackend.connect({
      kubeconfig: ctx.cluster().kubeconfigPath,
      context: 'admin',
      namespace: 'no-katib-here',
      kfp: { endpoint: kfp.url },
    });
    await ctx.cluster().ensureNamespace('no-katib-here');
    await assert.rejects(
      other.watchStudy({ id: 'nope' })[Symbol.asyncIterator]().next(),
      /No Katib Experiment nope in namespace no-katib-here/,
    );
  });
});
