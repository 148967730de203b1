/**
 * A cluster study's status is pushed by watches on its Katib Experiment and Trials: a trial's
 * status write reaches the watcher well within the second the old polling took; a watch the server
 * ends is resumed without losing or repeating a change; deleting the Experiment ends the study
 * cancelled; a consumer that stops leaves no watch request open on the API server.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, it, type TestContext } from 'node:test';
import { KubeflowBackend, type StudyEvent } from '@cellflow/backend';
import { describeWithCluster } from '../../../test/cluster/cluster-suite.js';
import { ControllerDriver } from '../../../test/cluster/controller-driver.js';
import { RESOURCES, resourcePath } from '../../../test/cluster/kube-client.js';
import { startKfpDouble, type KfpDouble } from '../../../test/cluster/kfp-double/index.js';
import { openWatches, waitForOpenWatches } from '../../../test/cluster/open-watches.js';
import { describe, digitsStudy, recordStudy } from './support/study-events.js';

const NS = 'kubeflow';
/** Half the old polling interval: a watch delivers in milliseconds. */
const PROMPT_MS = 500;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeWithCluster('KubeflowBackend study watch', (ctx) => {
  let kfp: KfpDouble;
  const { pipeline, study } = digitsStudy();
  const connect = (
    more: { watchTimeoutSeconds?: number; onWatchRestart?: (how: string) => void } = {},
  ): Promise<KubeflowBackend> =>
    KubeflowBackend.connect({
      kubeconfig: ctx.cluster().kubeconfigPath,
      context: 'admin',
      namespace: NS,
      kfp: { endpoint: kfp.url },
      ...more,
    });
  before(async () => {
    kfp = await startKfpDouble(ctx.cluster());
  });
  after(async () => {
    await kfp.stop();
  });

  it('a trial status write, a new best and the end reach the watcher within 500 ms', async (t: TestContext) => {
    const backend = await connect();
    const driver = new ControllerDriver(ctx.cluster());
    const ref = await backend.tune(pipeline, study);
    const watch = recordStudy(backend.watchStudy(ref));
    await watch.waitFor('first study', (e) => e.type === 'study');
    const latencies: Record<string, number> = {};
    const timed = async (
      what: string,
      write: () => Promise<unknown>,
      match: (e: StudyEvent) => boolean,
    ): Promise<void> => {
      const start = performance.now();
      await write();
      latencies[what] = (await watch.waitFor(what, match, start)).at - start;
    };
    let trial = '';
    await timed(
      'new trial',
      async () => (trial = (await driver.createTrial(NS, ref.id, { SVM_C: 2, SVM_GAMMA: 0.01 })).metadata.name!), // prettier-ignore
      (e) => e.type === 'trial' && e.trial.id === trial && e.trial.state === 'pending',
    );
    await timed(
      'trial running',
      () => driver.setTrialCondition(NS, trial, 'Running'),
      (e) => e.type === 'trial' && e.trial.id === trial && e.trial.state === 'running',
    );
    await timed(
      'trial succeeded and best',
      () => driver.setTrialCondition(NS, trial, 'Succeeded', { metrics: { 'svm-accuracy': 0.97 } }),
      (e) => e.type === 'best' && e.trial.id === trial && e.trial.objective === 0.97,
    );
    await driver.syncExperimentStatus(NS, ref.id);
    await timed(
      'study succeeded',
      () => driver.syncExperimentStatus(NS, ref.id, 'Succeeded'),
      (e) => e.type === 'study' && e.study.state === 'succeeded',
    );
    await watch.done;
    t.diagnostic(
      `ms from status write to event: ${Object.entries(latencies)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')}`,
    );
    for (const [what, ms] of Object.entries(latencies))
      assert.ok(ms < PROMPT_MS, `${what} arrived ${ms.toFixed(0)} ms after the write`);
    assert.deepEqual(watch.trialStates(trial), ['pending', 'running', 'succeeded']);
    assert.equal(watch.events.filter((e) => e.event.type === 'best').length, 1);
    const final = watch.events.at(-1)!.event;
    assert.ok(final.type === 'study' && final.study.best?.objective === 0.97);
  });

  it('a watch the server ends every second is resumed: every change arrives once, in order', async () => {
    const restarts: string[] = [];
    const backend = await connect({
      watchTimeoutSeconds: 1,
      onWatchRestart: (how) => restarts.push(how),
    });
    const driver = new ControllerDriver(ctx.cluster());
    const ref = await backend.tune(pipeline, study);
    const watch = recordStudy(backend.watchStudy(ref));
    await watch.waitFor('first study', (e) => e.type === 'study');
    const a = (await driver.createTrial(NS, ref.id, { SVM_C: 1, SVM_GAMMA: 0.1 })).metadata.name!;
    await pause(1300);
    await driver.setTrialCondition(NS, a, 'Running');
    const b = (await driver.createTrial(NS, ref.id, { SVM_C: 3, SVM_GAMMA: 0.2 })).metadata.name!;
    await pause(1300);
    await driver.setTrialCondition(NS, a, 'Succeeded', { metrics: { 'svm-accuracy': 0.9 } });
    await driver.syncExperimentStatus(NS, ref.id);
    await pause(1300);
    await driver.setTrialCondition(NS, b, 'Failed', { message: 'BackoffLimitExceeded' });
    await pause(1300);
    await driver.syncExperimentStatus(NS, ref.id, 'Succeeded');
    await watch.done;
    assert.ok(restarts.includes('resumed'), `resumed (restarts: ${restarts.join(', ')})`);
    const names = watch.events.map((e) => describe(e.event).replace(a, 'a').replace(b, 'b'));
    assert.deepEqual(names, [
      'study:running',
      'trial:a:pending',
      'trial:a:running',
      'trial:b:pending',
      'trial:a:succeeded',
      'best:a:succeeded',
      'trial:b:failed',
      'study:succeeded',
    ]);
    const final = watch.events.at(-1)!.event;
    assert.ok(final.type === 'study');
    assert.deepEqual(
      final.study.trials.map((t) => [t.id, t.index]),
      [
        [a, 0],
        [b, 1],
      ],
    );
  });

  it('deleting the Experiment ends the study cancelled, at once', async () => {
    const backend = await connect();
    const ref = await backend.tune(pipeline, study);
    const watch = recordStudy(backend.watchStudy(ref));
    await watch.waitFor('first study', (e) => e.type === 'study');
    const start = performance.now();
    await ctx
      .cluster()
      .admin.delete(resourcePath(RESOURCES.experiments, { namespace: NS, name: ref.id }));
    const cancelled = await watch.waitFor(
      'cancelled study',
      (e) => e.type === 'study' && e.study.state === 'cancelled',
      start,
    );
    await watch.done;
    assert.ok(cancelled.at - start < PROMPT_MS, `${(cancelled.at - start).toFixed(0)} ms`);
    assert.equal(watch.events.at(-1), cancelled);
    assert.ok(cancelled.event.type === 'study');
    assert.equal(cancelled.event.study.reason, 'The Katib Experiment was deleted.');
  });

  it('a consumer that stops (return) leaves no watch request open', async () => {
    const cluster = ctx.cluster();
    const backend = await connect();
    const ref = await backend.tune(pipeline, study);
    const before = {
      experiments: await openWatches(cluster, 'experiments'),
      trials: await openWatches(cluster, 'trials'),
    };
    const iterator = backend.watchStudy(ref)[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.ok(first.value?.type === 'study' && first.value.study.state === 'running');
    // Both watches are open on the server (the metric counts them)...
    await waitForOpenWatches(cluster, 'experiments', before.experiments + 1);
    await waitForOpenWatches(cluster, 'trials', before.trials + 1);
    // ...and are gone once the consumer stops.
    const stopping = performance.now();
    assert.deepEqual(await iterator.return!(), { done: true, value: undefined });
    const stopMs = performance.now() - stopping;
    assert.ok(stopMs < 1000, `return() took ${stopMs.toFixed(0)} ms`);
    await waitForOpenWatches(cluster, 'experiments', before.experiments);
    await waitForOpenWatches(cluster, 'trials', before.trials);
    await backend.cancelStudy(ref);
  });
});
