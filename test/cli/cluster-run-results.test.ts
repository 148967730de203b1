/**
 * Cluster run results: digits runs on the test cluster with the step logs its pods would print
 * (its IR run through the upstream KFP SDK's placeholder resolution, see
 * test/support/kfp-step-logs.ts), and `cellflow status`, `cellflow runs --cluster`,
 * KubeflowBackend.runSummary and watch() show every step's metrics and saved outputs (URI and
 * type); a finished run's results are kept, so they still show once its pods are gone.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { KubeflowBackend, type RunEvent, type RunSummary } from '@cellflow/backend';
import { parseStepReport } from '@cellflow/core';
import { clusterFlags } from '../cluster/cli-flags.js';
import { describeWithCluster } from '../cluster/cluster-suite.js';
import { ControllerDriver } from '../cluster/controller-driver.js';
import { startKfpDouble, type KfpDouble } from '../cluster/kfp-double/index.js';
import { RESOURCES, resourcePath } from '../cluster/kube-client.js';
import { makeTempDir, removeTempDir } from '../support/temp-dirs.js';
import { clusterArtifactUri, KFP_SDK_PYTHONPATH, kfpStepLogs } from '../support/kfp-step-logs.js';
import { runCliAsync, type CliRun } from './run-cli.js';

const dir = makeTempDir('cellflow-cluster-results-');
const cacheHome = join(dir, 'cache');
mkdirSync(cacheHome);
// The CLI processes inherit it: their kept run results go under the test's folder.
process.env.XDG_CACHE_HOME = cacheHome;

describeWithCluster(
  'cluster run results: metrics and outputs in status, runs --cluster, runSummary and watch',
  (ctx) => {
    let kfp: KfpDouble;
    let driver: ControllerDriver;
    let flags: string[];
    let backend: KubeflowBackend;
    before(async () => {
      kfp = await startKfpDouble(ctx.cluster());
      driver = new ControllerDriver(ctx.cluster());
      flags = clusterFlags(ctx.cluster(), kfp);
      backend = await KubeflowBackend.connect({
        kubeconfig: ctx.cluster().kubeconfigPath,
        context: 'admin',
        namespace: 'kubeflow',
        reportCacheDir: null,
        ...(kfp.proxyUrl === undefined ? { kfp: { endpoint: kfp.url } } : {}),
      });
    });
    after(async () => {
      await kfp.stop();
      removeTempDir(dir);
    });

    const cellflow = (...args: string[]): Promise<CliRun> => runCliAsync(args);

    it('reads each step’s metrics and artifacts back from its pod log', async (t) => {
      if (!existsSync(join(KFP_SDK_PYTHONPATH, 'kfp/__init__.py'))) {
        t.skip(`no KFP SDK at ${KFP_SDK_PYTHONPATH}`);
        return;
      }
      const ir = join(dir, 'digits.yaml');
      const compiled = await cellflow('compile', 'examples/digits.ipynb', '-o', ir);
      assert.equal(compiled.code, 0, compiled.stderr);
      const submitted = await cellflow('submit', 'examples/digits.ipynb', ...flags);
      assert.equal(submitted.code, 0, submitted.stderr);
      const id = /Submitted run (\S+)/.exec(submitted.stdout)![1]!;
      const logs = await kfpStepLogs(ir, dir, 'digits', id);

      // What the steps printed: pick_best's metrics (also as Katib's NAME=VALUE lines), every
      // step's saved variables with their types.
      const best = parseStepReport(logs['pick-best']!).metrics;
      assert.deepEqual(Object.keys(best).sort(), [
        'best-accuracy',
        'forest-accuracy',
        'logistic-accuracy',
        'svm-accuracy',
      ]);
      for (const [name, value] of Object.entries(best))
        assert.match(logs['pick-best']!, new RegExp(`^${name}=${value}$`, 'm'));
      const svm = {
        uri: clusterArtifactUri('digits', id, 'train-svm', 'svm'),
        type: 'sklearn.svm._classes.SVC',
      };
      assert.deepEqual(parseStepReport(logs['train-svm']!).artifacts.svm, svm);

      const watched: RunEvent[] = [];
      const watching = (async () => {
        for await (const e of backend.watch({ id })) watched.push(e);
      })();
      const wf = (await driver.findWorkflowForRun('kubeflow', id))!;
      await driver.runWorkflowToCompletion('kubeflow', wf.metadata.name!, { logs });
      await watching;

      // watch(): succeeded steps carry what they reported; the run's last event every metric.
      const trained = watched.find(
        (e) => e.type === 'step' && e.step === 'train_svm' && e.state === 'succeeded',
      );
      assert.deepEqual(trained?.type === 'step' ? trained.outputs?.svm : undefined, svm);
      const picked = watched.find(
        (e) => e.type === 'step' && e.step === 'pick_best' && e.state === 'succeeded',
      );
      assert.deepEqual(picked?.type === 'step' ? picked.metrics : undefined, best);
      const last = watched.at(-1)!;
      assert.equal(last.type === 'run' && last.state, 'succeeded');
      assert.deepEqual(last.type === 'run' ? last.metrics : undefined, best);

      // backend.runSummary: run metrics, per-step metrics and outputs (URI, type).
      const summary = await backend.getRun({ id });
      assert.equal(summary.state, 'succeeded');
      assert.deepEqual(summary.metrics, best);
      const step = (name: string): RunSummary['steps'][number] =>
        summary.steps.find((s) => s.name === name)!;
      assert.deepEqual(step('pick_best').metrics, best);
      const trainedOutputs = step('train_svm').outputs ?? {};
      assert.deepEqual(Object.keys(trainedOutputs).sort(), ['svm', 'svm_accuracy']);
      assert.deepEqual(trainedOutputs.svm, svm);
      assert.equal(
        trainedOutputs.svm_accuracy?.uri,
        clusterArtifactUri('digits', id, 'train-svm', 'svm_accuracy'),
      );
      assert.match(trainedOutputs.svm_accuracy?.type ?? '', /float/);
      assert.deepEqual(Object.keys(step('load_data').outputs ?? {}).sort(), ['X', 'y']);
      assert.equal(step('load_data').outputs?.X?.type, 'numpy.ndarray');
      assert.ok(summary.steps.every((s) => s.name === 'pick_best' || s.outputs !== undefined));

      // cellflow status: metrics per step and for the run, then the outputs.
      const status = await cellflow('status', id, ...flags);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^ {2}pick_best +succeeded +\S+ +logistic-accuracy 0\.96\d*, /m);
      assert.match(
        status.stdout,
        new RegExp(`^Metrics: .*best-accuracy ${+Number(best['best-accuracy']).toFixed(4)}$`, 'm'),
      );
      assert.match(status.stdout, /^Outputs:$/m);
      assert.match(
        status.stdout,
        new RegExp(`^ {2}train_svm\\.svm +${svm.uri.replace(/[.]/g, '\\.')} +${svm.type}$`, 'm'),
      );
      const json = JSON.parse(
        (await cellflow('status', id, '--json', ...flags)).stdout,
      ) as RunSummary;
      assert.deepEqual(json.metrics, best);
      assert.deepEqual(json.steps.find((s) => s.name === 'train_svm')?.outputs?.svm, svm);

      // cellflow runs --cluster: the run's metrics, as for a local run.
      const runs = await cellflow('runs', '--cluster', ...flags);
      assert.equal(runs.code, 0, runs.stderr);
      assert.match(
        runs.stdout,
        new RegExp(
          `^${id} +succeeded .*best-accuracy ${+Number(best['best-accuracy']).toFixed(4)}`,
          'm',
        ),
      );
      assert.ok(
        existsSync(join(cacheHome, 'cellflow', 'run-reports', `${id}.json`)),
        'the finished run’s results are kept',
      );

      // Its pods gone, the kept results still show (and no pod log is asked for).
      const admin = ctx.cluster().admin;
      const pods = await admin.get<{ items: { metadata: { name: string } }[] }>(
        `${resourcePath(RESOURCES.pods, { namespace: 'kubeflow' })}?labelSelector=${encodeURIComponent(`workflows.argoproj.io/workflow=${wf.metadata.name!}`)}`,
      );
      assert.ok(pods.items.length >= 6);
      for (const pod of pods.items)
        await admin.delete(
          resourcePath(RESOURCES.pods, { namespace: 'kubeflow', name: pod.metadata.name }),
        );
      const again = await cellflow('runs', '--cluster', '--json', ...flags);
      const listed = (JSON.parse(again.stdout) as RunSummary[]).find((r) => r.id === id)!;
      assert.deepEqual(listed.metrics, best);
      assert.deepEqual(listed.steps.find((s) => s.name === 'train_svm')?.outputs?.svm, svm);
    });
  },
);
