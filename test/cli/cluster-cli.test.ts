/** The `cellflow` cluster commands, as a user runs them, against the test cluster and KFP double. */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { clusterFlags } from '../cluster/cli-flags.js';
import { describeWithCluster } from '../cluster/cluster-suite.js';
import { ControllerDriver } from '../cluster/controller-driver.js';
import { openWatches, waitForOpenWatches } from '../cluster/open-watches.js';
import { runCliAsync, type CliRun } from './run-cli.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESOURCES, resourcePath } from '../cluster/kube-client.js';
import { notebookJson } from '../support/notebook-json.js';
import { startKfpDouble, type KfpDouble } from '../cluster/kfp-double/index.js';

describeWithCluster(
  'cellflow submit / status / logs / cancel / runs --cluster / capacity',
  (ctx) => {
    let kfp: KfpDouble;
    let driver: ControllerDriver;
    let flags: string[];
    before(async () => {
      kfp = await startKfpDouble(ctx.cluster());
      driver = new ControllerDriver(ctx.cluster());
      flags = clusterFlags(ctx.cluster(), kfp);
    });
    after(async () => {
      await kfp.stop();
    });

    const cellflow = (...args: string[]): Promise<CliRun> => runCliAsync(args);

    it('submits digits, shows status, streams logs, lists and cancels', async () => {
      const submitted = await cellflow(
        'submit',
        'examples/digits.ipynb',
        '-p',
        'TEST_SIZE=0.3',
        ...flags,
      );
      assert.equal(submitted.code, 0, submitted.stderr);
      const id = /Submitted run (\S+) to cluster context `admin`/.exec(submitted.stdout)?.[1];
      assert.ok(id, submitted.stdout);
      const request = kfp.requests.find((r) => r.method === 'POST' && r.path.endsWith('/runs'))!;
      assert.deepEqual(
        (request.body as { runtime_config: { parameters: Record<string, unknown> } }).runtime_config
          .parameters.TEST_SIZE,
        0.3,
      );

      const wf = (await driver.findWorkflowForRun('kubeflow', id))!;
      await driver.setTaskPhase('kubeflow', wf.metadata.name!, 'load-data', 'Succeeded', {
        log: 'loaded 1797 images\n',
      });
      const status = await cellflow('status', id, ...flags);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /load_data\s+succeeded/);
      assert.match(status.stdout, /pick_best\s+queued/);
      const logs = await cellflow('logs', id, 'load_data', ...flags);
      assert.equal(logs.stdout, 'loaded 1797 images\n');
      const runs = await cellflow('runs', '--cluster', ...flags);
      assert.match(runs.stdout, new RegExp(`${id}\\s+running`));
      const cancelled = await cellflow('cancel', id, ...flags);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.equal(
        (await driver.getWorkflow('kubeflow', wf.metadata.name!)).spec.activeDeadlineSeconds,
        0,
      );
    });

    it('submit: steps whose bare image lacks their imports are named; in a Kubeflow notebook server, its image is the default', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cellflow-images-'));
      const path = join(dir, 'svm.ipynb');
      writeFileSync(
        path,
        notebookJson(
          [
            [['imports'], 'from sklearn.svm import SVC'],
            [['step:train'], 'model = SVC()'],
          ],
          { cellflow: { name: 'svm' } },
        ),
      );
      const bare = await cellflow('submit', path, ...flags);
      assert.equal(bare.code, 0, bare.stderr);
      assert.match(
        bare.stderr,
        /Step `train` imports `sklearn`, which its image `python:3\.11` does not have/,
      );
      assert.match(bare.stderr, /Fix: tag the step `packages:scikit-learn`/);

      // A notebook server's pod, as Kubeflow's notebook controller makes it (a sidecar first).
      await ctx.cluster().admin.create(resourcePath(RESOURCES.pods, { namespace: 'kubeflow' }), {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'lab-0', namespace: 'kubeflow', labels: { 'notebook-name': 'lab' } },
        spec: {
          containers: [
            { name: 'istio-proxy', image: 'istio/proxyv2:1.17.2' },
            { name: 'lab', image: 'ghcr.io/acme/jupyter-scikit:v1.9' },
          ],
        },
      });
      const posts = kfp.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/runs'));
      const inLab = await runCliAsync(['submit', path, '--name', 'in the lab', ...flags], {
        env: { NB_PREFIX: '/notebook/kubeflow/lab', HOSTNAME: 'lab-0' },
      });
      assert.equal(inLab.code, 0, inLab.stderr);
      assert.doesNotMatch(inLab.stderr, /does not have/);
      const request = kfp.requests
        .filter((r) => r.method === 'POST' && r.path.endsWith('/runs'))
        .slice(posts.length)[0]!;
      const body = request.body as { pipeline_spec: Record<string, any> };
      const spec = body.pipeline_spec.pipeline_spec ?? body.pipeline_spec;
      const images = Object.values(spec.deploymentSpec.executors).map(
        (e: any) => e.container.image,
      );
      assert.deepEqual([...new Set(images)], ['ghcr.io/acme/jupyter-scikit:v1.9']);
      rmSync(dir, { recursive: true, force: true });
    });

    it('tune --cluster: creates the Katib Experiment, prints trials as Katib reports them, and the best', async () => {
      const watchingTrials = await openWatches(ctx.cluster(), 'trials');
      const tuning = cellflow(
        'tune',
        'examples/digits.ipynb',
        '--cluster',
        '--max-trials',
        '2',
        ...flags,
      );
      const admin = ctx.cluster().admin;
      let name: string | undefined;
      for (let i = 0; i < 200 && name === undefined; i++) {
        const list = await admin.get<{ items: { metadata: { name: string } }[] }>(
          '/apis/kubeflow.org/v1beta1/namespaces/kubeflow/experiments?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dcellflow',
        );
        name = list.items[0]?.metadata.name;
        if (name === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(name !== undefined, 'the Experiment was created');
      // Trials change only once the CLI watches them, so every change reaches it as an event.
      await waitForOpenWatches(ctx.cluster(), 'trials', watchingTrials + 1, 30_000);
      const one = await driver.createTrial('kubeflow', name, { SVM_C: 10, SVM_GAMMA: 0.03 });
      await driver.setTrialCondition('kubeflow', one.metadata.name!, 'Running');
      await driver.syncExperimentStatus('kubeflow', name);
      await driver.setTrialCondition('kubeflow', one.metadata.name!, 'Succeeded', {
        metrics: { 'svm-accuracy': 0.9911, 'best-accuracy': 0.9911 },
      });
      const two = await driver.createTrial('kubeflow', name, { SVM_C: 0.1, SVM_GAMMA: 0.001 });
      await driver.setTrialCondition('kubeflow', two.metadata.name!, 'Succeeded', {
        metrics: { 'svm-accuracy': 0.1022, 'best-accuracy': 0.9667 },
      });
      await driver.syncExperimentStatus('kubeflow', name);
      await new Promise((r) => setTimeout(r, 1500));
      await driver.syncExperimentStatus('kubeflow', name, 'Succeeded');
      const done = await tuning;
      assert.equal(done.code, 0, done.stderr);
      assert.match(
        done.stdout,
        new RegExp(`^Study ${name} on Katib on the cluster: tpe, up to 2 trials`, 'm'),
      );
      assert.match(done.stdout, /^ {2}trial +state +SVM_C +SVM_GAMMA +svm-accuracy +time$/m);
      assert.match(done.stdout, /^ {2}#\d +succeeded +10 +0\.03 +0\.9911 /m);
      assert.match(done.stdout, /^ {2}#\d +succeeded +0\.1 +0\.001 +0\.1022 /m);
      assert.match(
        done.stdout,
        /^Best: trial #\d, svm-accuracy 0\.9911 with SVM_C=10 SVM_GAMMA=0\.03$/m,
      );
      const studies = await cellflow('studies', '--cluster', ...flags);
      assert.match(
        studies.stdout,
        new RegExp(`^${name} +succeeded +2/2 trials succeeded +best svm-accuracy 0\\.9911`, 'm'),
      );
    });

    it('endpoints --cluster, and serve --cluster needs a step and variable', async () => {
      const none = await cellflow('endpoints', '--cluster', ...flags);
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stdout, /No Cellflow InferenceServices in this namespace/);
      const usage = await cellflow('serve', 'some-run', '--cluster', ...flags);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /give the run id, --step and --variable/);
    });

    it('capacity lists GPUs per node and product', async () => {
      const out = await cellflow('capacity', ...flags);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /8 × NVIDIA-A100-SXM4-80GB on gpu-a100-node-0 \(8 free\)/);
    });

    it('a wrong context, and a forbidden call, exit 1 with a clear message', async () => {
      const wrong = await cellflow(
        'capacity',
        '--kubeconfig',
        ctx.cluster().kubeconfigPath,
        '--context',
        'nope',
      );
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /no context `nope`. Contexts: admin, restricted/);
      const forbidden = await cellflow(
        'capacity',
        '--kubeconfig',
        ctx.cluster().kubeconfigPath,
        '--context',
        'restricted',
      );
      assert.equal(forbidden.code, 1);
      assert.match(forbidden.stderr, /Not allowed to list the cluster's nodes/);
      assert.doesNotMatch(
        forbidden.stderr + wrong.stderr,
        new RegExp(ctx.cluster().restrictedToken),
        'no token in messages',
      );
    });
  },
);
