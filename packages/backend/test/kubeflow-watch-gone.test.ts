/**
 * A watch resumed from a version etcd has already compacted gets 410 Gone from the API server;
 * Cellflow then lists again and carries on without losing or repeating a change, for a run's
 * Workflow and for a study's Experiment and Trials alike. The cluster runs without the watch cache
 * and compacts every second, so the 410 is the API server's own.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { KubeflowBackend, type RunEvent } from '@cellflow/backend';
import { compile } from '@cellflow/core';
import {
  describeWithCluster,
  type ClusterSuiteContext,
} from '../../../test/cluster/cluster-suite.js';
import { ControllerDriver } from '../../../test/cluster/controller-driver.js';
import { RESOURCES, resourcePath } from '../../../test/cluster/kube-client.js';
import { startKfpDouble, type KfpDouble } from '../../../test/cluster/kfp-double/index.js';
import { notebookJson } from '../../../test/support/notebook-json.js';
import { describe, digitsStudy, recordStudy } from './support/study-events.js';

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Other writes move etcd's revision on; the once-a-second compaction then passes the version a
 * quiet watch would resume from. */
async function moveRevisionOn(ctx: ClusterSuiteContext, prefix: string): Promise<void> {
  for (let i = 0; i < 25; i++) {
    await ctx
      .cluster()
      .admin.create(resourcePath(RESOURCES.configMaps, { namespace: 'kubeflow' }), {
        metadata: { name: `${prefix}-${i}` },
        data: { i: String(i) },
      });
    await pause(150);
  }
}

describeWithCluster(
  'KubeflowBackend watch after 410 Gone',
  (ctx) => {
    let kfp: KfpDouble;
    before(async () => {
      kfp = await startKfpDouble(ctx.cluster());
    });
    after(async () => {
      await kfp.stop();
    });

    /** A backend whose watches the server ends every 2 s; `restarts` records how each resumed. */
    async function connectWithShortWatches(): Promise<{
      backend: KubeflowBackend;
      restarts: string[];
    }> {
      const restarts: string[] = [];
      const backend = await KubeflowBackend.connect({
        kubeconfig: ctx.cluster().kubeconfigPath,
        context: 'admin',
        namespace: 'kubeflow',
        kfp: { endpoint: kfp.url },
        watchTimeoutSeconds: 2,
        onWatchRestart: (how) => restarts.push(how),
      });
      return { backend, restarts };
    }

    it('relists and delivers every change once, in order', async () => {
      const { backend, restarts } = await connectWithShortWatches();
      const text = notebookJson(
        [
          [['step:first'], 'x = 1'],
          [['step:second'], 'y = x'],
        ],
        { cellflow: { name: 'gone' } },
      );
      const run = await backend.submit(compile(text).pipeline!);
      const driver = new ControllerDriver(ctx.cluster());
      const seen: RunEvent[] = [];
      const done = (async () => {
        for await (const e of backend.watch(run)) seen.push(e);
      })();
      const name = (await driver.findWorkflowForRun('kubeflow', run.id))!.metadata.name!;
      await driver.setTaskPhase('kubeflow', name, 'first', 'Running');
      await moveRevisionOn(ctx, 'filler');
      await driver.setTaskPhase('kubeflow', name, 'first', 'Succeeded');
      await driver.runWorkflowToCompletion('kubeflow', name);
      await done;
      assert.ok(
        restarts.includes('relisted'),
        `the watch was relisted after 410 (restarts: ${restarts.join(', ')})`,
      );
      const steps = seen
        .filter((e) => e.type === 'step')
        .map((e) => (e.type === 'step' ? `${e.step}:${e.state}` : ''));
      assert.equal(new Set(steps).size, steps.length, `no change twice: ${steps.join(', ')}`);
      // `second` runs and finishes in quick succession; a relist may fold the two into one change.
      assert.deepEqual(
        steps.filter((s) => s !== 'second:running'),
        ['first:queued', 'second:queued', 'first:running', 'first:succeeded', 'second:succeeded'],
      );
      assert.deepEqual(
        seen.map((e) => e.seq),
        seen.map((_, i) => i),
      );
    });

    it('a study relists its Experiment and Trials and delivers every change once, in order', async () => {
      const { backend, restarts } = await connectWithShortWatches();
      const { pipeline, study } = digitsStudy();
      const ref = await backend.tune(pipeline, study);
      const driver = new ControllerDriver(ctx.cluster());
      const watch = recordStudy(backend.watchStudy(ref));
      await watch.waitFor('first study', (e) => e.type === 'study');
      const trial = (await driver.createTrial('kubeflow', ref.id, { SVM_C: 5, SVM_GAMMA: 0.02 }))
        .metadata.name!;
      await driver.setTrialCondition('kubeflow', trial, 'Running');
      await driver.syncExperimentStatus('kubeflow', ref.id);
      await moveRevisionOn(ctx, 'study-filler');
      await driver.setTrialCondition('kubeflow', trial, 'Succeeded', {
        metrics: { 'svm-accuracy': 0.95 },
      });
      await driver.syncExperimentStatus('kubeflow', ref.id, 'Succeeded');
      await watch.done;
      assert.ok(
        restarts.includes('relisted'),
        `the watches were relisted after 410 (restarts: ${restarts.join(', ')})`,
      );
      assert.deepEqual(
        watch.events.map((e) => describe(e.event).replace(trial, 'trial')),
        [
          'study:running',
          'trial:trial:pending',
          'trial:trial:running',
          'trial:trial:succeeded',
          'best:trial:succeeded',
          'study:succeeded',
        ],
      );
    });
  },
  { apiServerArgs: ['--watch-cache=false', '--etcd-compaction-interval=1s'] },
);
