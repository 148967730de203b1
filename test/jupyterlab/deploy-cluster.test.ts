/**
 * Deploy from JupyterLab to a cluster (issues 14 and 15): Jupyter's Cellflow server extension
 * starts one agent for this machine, with the cluster harness's kubeconfig (no cluster setting);
 * the page runs digits locally, then Deploy asks for the kubeconfig context and namespace, shows
 * the GPU steps checked against that cluster and the parameters, and runs it there, from the same
 * page and agent (issue 15), and opens that run's outputs once it is over; a GPU request the cluster cannot give is changed in Deploy, which
 * rewrites the step's gpu: tag and asks again (issue 15). Upload makes a version of the notebook's pipeline; Schedule uploads
 * another and creates a recurring run that starts a run when due (issue 14). Screenshots go to
 * artifacts/jupyterlab/.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { Page } from 'playwright-core';
import { describeWithCluster } from '../cluster/cluster-suite.js';
import { ControllerDriver } from '../cluster/controller-driver.js';
import { startKfpDouble, type KfpDouble } from '../cluster/kfp-double/index.js';
import { PICK_BEST_SHOWS, reportedLogs } from '../support/digits-cluster-logs.js';
import { notebookJson } from '../support/notebook-json.js';
import { waitFor } from '../support/wait-for.js';
import {
  skipReason,
  SHOTS,
  REPO,
  SERVER_EXTENSION,
  serverExtensionEnv,
  startJupyterLab,
  type JupyterLab,
  openCellflowPanel,
} from './jupyterlab-host.js';

const missing = skipReason({ serverExtension: true });

/** Answers Deploy's first question: the test cluster's context `admin`, namespace kubeflow. */
async function chooseTestCluster(page: Page): Promise<void> {
  const where = page.locator('.jp-Dialog .cf-deploy-target');
  await where.waitFor({ timeout: 30_000 });
  await where.locator('select[name="context"]').selectOption('admin');
  await where.locator('input[name="namespace"]').fill('kubeflow');
  await page.locator('.jp-Dialog .jp-mod-accept').click();
  await where.waitFor({ state: 'detached' });
}

/** Deploy from the panel, answering the dialogs with `choice` (and a trigger for schedule). */
async function deploy(page: Page, choice: 'upload' | 'schedule', trigger?: string): Promise<void> {
  // Deploy acts on the notebook in focus.
  await page.locator('.jp-NotebookPanel .jp-Cell').first().click();
  await page.locator('.cf-panel .cf-action-deploy').click();
  await chooseTestCluster(page);
  const dialog = page.locator('.jp-Dialog .cf-deploy');
  await dialog.waitFor({ timeout: 30_000 });
  await dialog.locator(`input[name="choice"][value="${choice}"]`).check();
  if (trigger !== undefined) await dialog.locator('input[name="trigger"]').fill(trigger);
  await page.locator('.jp-Dialog .jp-mod-accept').click();
}

if (missing !== undefined) {
  it('JupyterLab Deploy to a cluster', { skip: missing }, () => undefined);
} else {
  describeWithCluster('JupyterLab: Deploy to a cluster (upload, schedule)', (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-jl-deploy-'));
    let kfp: KfpDouble;
    let lab: JupyterLab;
    let page: Page;

    before(async () => {
      kfp = await startKfpDouble(ctx.cluster());
      assert.ok(kfp.proxyUrl !== undefined, 'the agent reaches KFP through the API server');
      copyFileSync(join(REPO, 'examples/digits.ipynb'), join(dir, 'digits.ipynb'));
      writeFileSync(
        join(dir, 'gpu.ipynb'),
        notebookJson(
          [
            [['step:fit', 'gpu:2:NVIDIA-A100-SXM4-80GB'], 'x = 1'],
            [['step:huge', 'prev:fit', 'gpu:64'], 'y = x'],
          ],
          {
            cellflow: { name: 'gpu' },
            kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
          },
        ),
      );
      writeFileSync(
        join(dir, 'svm.ipynb'),
        notebookJson(
          [
            [['imports'], 'from sklearn.svm import SVC'],
            [['step:train'], 'model = SVC()'],
          ],
          {
            cellflow: { name: 'svm' },
            kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
          },
        ),
      );
      mkdirSync(SHOTS, { recursive: true });
      lab = await startJupyterLab({
        root: dir,
        serverExtensions: [SERVER_EXTENSION],
        env: { ...serverExtensionEnv(), KUBECONFIG: ctx.cluster().kubeconfigPath },
      });
      page = await lab.open('lab/tree/digits.ipynb');
      await openCellflowPanel(page, 'local');
    });
    after(async () => {
      await page?.screenshot({ path: join(SHOTS, 'deploy-after.png') }).catch(() => undefined);
      await lab?.stop();
      await kfp?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs digits on this machine, then deploys it to the cluster from the same page (issue 15)', async () => {
      await page.locator('.jp-NotebookPanel .jp-Cell').first().click();
      await page.locator('.cf-panel .cf-action-run').click();
      await page.locator('.cf-run[data-state="succeeded"]').waitFor({ timeout: 240_000 });
      assert.match(
        (await page.locator('.cf-run-metrics').first().textContent()) ?? '',
        /accuracy = /,
      );
      assert.equal(kfp.store.runs.size, 0, 'the local run went nowhere near the cluster');

      await page.locator('.jp-NotebookPanel .jp-Cell').first().click();
      await page.locator('.cf-panel .cf-action-deploy').click();
      await chooseTestCluster(page);
      const dialog = page.locator('.jp-Dialog .cf-deploy');
      await dialog.waitFor({ timeout: 60_000 });
      assert.match(
        await dialog.innerText(),
        /Deploy to cluster context `admin` \(namespace kubeflow\)/,
      );
      // The parameters cell's values, editable; a changed one goes with the run.
      await dialog.locator('input[name="param-SVM_C"]').fill('2.5');
      await page.screenshot({ path: join(SHOTS, 'deploy-run-now.png') });
      await page.locator('.jp-Dialog .jp-mod-accept').click();
      await page
        .locator('.Toastify__toast', { hasText: /Submitted run .* to cluster context `admin`/ })
        .waitFor({ timeout: 60_000 });
      const [run] = [...kfp.store.runs.values()];
      assert.ok(run !== undefined, 'Run now made a KFP run');
      assert.equal(
        (run.runtime_config as { parameters?: Record<string, unknown> }).parameters?.['SVM_C'],
        2.5,
      );
      // Both runs are in the panel: the local one succeeded, the cluster one is followed.
      await page.locator('.cf-run').nth(1).waitFor({ timeout: 30_000 });

      // The cluster run, played to its end as Argo would, shows its cells' outputs too.
      const [runId] = [...kfp.store.runs.keys()];
      assert.ok(runId !== undefined);
      const driver = new ControllerDriver(ctx.cluster());
      let workflow: string | undefined;
      await waitFor(
        'the run’s workflow',
        async () => {
          workflow = (await driver.findWorkflowForRun('kubeflow', runId))?.metadata.name;
          return workflow !== undefined;
        },
        30_000,
        300,
      );
      await driver.runWorkflowToCompletion('kubeflow', workflow!, { logs: reportedLogs(runId) });
      const clusterRun = page.locator('.cf-run[data-state="succeeded"]', {
        has: page.locator('.cf-run-ui-link'),
      });
      await clusterRun.waitFor({ timeout: 60_000 });
      await clusterRun.locator('.cf-run-show-outputs').click();
      await page
        .locator('.cf-run-outputs .jp-OutputArea-output', { hasText: PICK_BEST_SHOWS.trim() })
        .waitFor({ timeout: 60_000 });
      await page.screenshot({ path: join(SHOTS, 'deploy-cluster-run-outputs.png') });
      await page
        .locator('.lm-TabBar-tab', { hasText: `outputs · ${runId}` })
        .locator('.lm-TabBar-tabCloseIcon')
        .click();
      await page.locator('.cf-run-outputs').waitFor({ state: 'detached' });
    });

    it('uploads as a new version, then schedules a newer one; the schedule starts a run', async () => {
      await deploy(page, 'upload');
      await page
        .locator('.Toastify__toast', { hasText: /Uploaded digits as version digits-\d{8}-\d{6}-/ })
        .waitFor({ timeout: 60_000 });
      const [pipeline] = [...kfp.pipelines.pipelines.values()];
      assert.equal(pipeline?.name, 'digits');
      assert.equal(kfp.pipelines.versionsOf(pipeline.pipeline_id).length, 1);
      await page.screenshot({ path: join(SHOTS, 'deploy-uploaded.png') });

      await deploy(page, 'schedule', '1h');
      await page
        .locator('.Toastify__toast', { hasText: 'Scheduled digits every 1h (every 1h, enabled)' })
        .waitFor({ timeout: 60_000 });
      const versions = kfp.pipelines.versionsOf(pipeline.pipeline_id);
      assert.equal(versions.length, 2, 'Schedule uploads a new version first');
      const [schedule] = [...kfp.recurringRuns.schedules.values()];
      assert.equal(
        (schedule?.pipeline_version_reference as { pipeline_version_id?: string })
          .pipeline_version_id,
        versions[1]!.pipeline_version_id,
      );
      assert.deepEqual(schedule?.trigger, { periodic_schedule: { interval_second: '3600' } });
      const [runId] = await kfp.recurringRuns.tick(Date.now() + 3600_000 + 1000);
      assert.ok(runId !== undefined, 'the schedule starts a run when due');
      await page.screenshot({ path: join(SHOTS, 'deploy-scheduled.png') });
    });

    it('names, before deploying, the steps whose image lacks modules they import', async () => {
      // Open svm.ipynb beside digits from the file browser; Deploy acts on the notebook in focus.
      await page.locator('.jp-SideBar [data-id="filebrowser"]').click();
      await page.locator('.jp-DirListing-item', { hasText: 'svm.ipynb' }).dblclick();
      const svmCell = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').first();
      await svmCell.waitFor({ timeout: 60_000 });
      await page.locator('.jp-SideBar [data-id="cellflow-panel"]').click();
      await page.locator('.cf-row-name .cf-row-value', { hasText: 'svm' }).waitFor();
      await svmCell.click();
      await page.locator('.cf-panel .cf-action-deploy').click();
      await chooseTestCluster(page);
      const warnings = page.locator('.jp-Dialog .cf-deploy-warnings');
      await warnings.waitFor({ timeout: 30_000 });
      const text = await warnings.innerText();
      assert.match(text, /These steps may fail on the cluster/);
      assert.match(
        text,
        /Cell 2: Step `train` imports `sklearn`, which its image `python:3\.11` does not have/,
      );
      assert.match(text, /packages:scikit-learn/);
      await page.screenshot({ path: join(SHOTS, 'deploy-image-warning.png') });
      await page.locator('.jp-Dialog .jp-mod-reject').click();
    });

    it('shows the GPU steps against the chosen cluster; a request that does not fit is changed there, into the gpu: tag (issue 15)', async () => {
      const runsBefore = kfp.store.runs.size;
      await page.locator('.jp-SideBar [data-id="filebrowser"]').click();
      await page.locator('.jp-DirListing-item', { hasText: 'gpu.ipynb' }).dblclick();
      const cell = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').first();
      await cell.waitFor({ timeout: 60_000 });
      await page.locator('.jp-SideBar [data-id="cellflow-panel"]').click();
      await page.locator('.cf-row-name .cf-row-value', { hasText: 'gpu' }).waitFor();
      await cell.click();
      await page.locator('.cf-panel .cf-action-deploy').click();
      await chooseTestCluster(page);
      const gpus = page.locator('.jp-Dialog .cf-deploy-gpus');
      await gpus.waitFor({ timeout: 60_000 });
      const fit = gpus.locator('.cf-deploy-gpu[data-step="fit"]');
      const huge = gpus.locator('.cf-deploy-gpu[data-step="huge"]');
      assert.match((await fit.getAttribute('class')) ?? '', /cf-mod-fits/);
      assert.match(
        await fit.locator('.cf-deploy-gpu-fit').innerText(),
        /fit: 2 × NVIDIA-A100-SXM4-80GB: fits/,
      );
      assert.match((await huge.getAttribute('class')) ?? '', /cf-mod-error/);
      assert.match(await huge.locator('.cf-deploy-gpu-fit').innerText(), /huge: 64 × .*/);
      // The choices are the cluster's products with their free counts, any GPU, and none.
      const offered = await huge.locator('select[name="gpu-huge"] option').allInnerTexts();
      assert.deepEqual(offered.slice(0, 1), ['Change to…']);
      assert.ok(
        offered.some((o) => /^Tesla-T4 \(1 of 1 free\)$/.test(o)),
        offered.join(' | '),
      );
      assert.ok(offered.some((o) => /^NVIDIA-A100-SXM4-80GB \(\d+ of 8 free\)$/.test(o)));
      assert.ok(offered.includes('Any GPU (no product constraint)'));
      assert.ok(offered.includes('No GPU (run this step on CPUs)'));
      await page.screenshot({ path: join(SHOTS, 'deploy-gpus.png') });

      // Deploying a request the cluster cannot give is refused, naming the step and the fix.
      await page.locator('.jp-Dialog .jp-mod-accept').click();
      const refusal = page.locator('.jp-Dialog', { hasText: 'the cluster cannot give these GPUs' });
      await refusal.waitFor({ timeout: 30_000 });
      assert.match(
        await refusal.innerText(),
        /huge: .*Fix: ask for at most 8 .*Or choose another GPU request for the step in Deploy/s,
      );
      await page.keyboard.press('Escape');
      await refusal.waitFor({ state: 'detached' });
      assert.equal(kfp.store.runs.size, runsBefore, 'nothing went to the cluster');

      // Again, now with one Tesla T4 for `huge`: the tag is rewritten and Deploy asks again.
      await cell.click();
      await page.locator('.cf-panel .cf-action-deploy').click();
      await chooseTestCluster(page);
      await huge.waitFor({ timeout: 60_000 });
      await huge.locator('select[name="gpu-huge"]').selectOption('product:Tesla-T4');
      assert.equal(await huge.locator('input[name="gpu-count-huge"]').inputValue(), '1');
      await page.locator('.jp-Dialog .jp-mod-accept').click();
      await huge
        .locator('.cf-deploy-gpu-fit', { hasText: 'huge: 1 × Tesla-T4: fits' })
        .waitFor({ timeout: 30_000 });
      assert.match((await huge.getAttribute('class')) ?? '', /cf-mod-fits/);
      await page.screenshot({ path: join(SHOTS, 'deploy-gpus-changed.png') });
      const submitted = page.locator('.Toastify__toast', {
        hasText: /Submitted run .* to cluster context `admin`/,
      });
      const submittedBefore = await submitted.count();
      await page.locator('.jp-Dialog .jp-mod-accept').click();
      await waitFor(
        'the run to be submitted',
        async () => (await submitted.count()) > submittedBefore,
        60_000,
      );
      await waitFor(
        'the GPU pipeline on the cluster',
        () => kfp.store.runs.size > runsBefore,
        10_000,
      );
      const runs = [...kfp.store.runs.values()];
      assert.equal(runs.length, runsBefore + 1, 'one run of the GPU pipeline');
      assert.match(JSON.stringify(runs.at(-1)), /Tesla-T4/, 'with the changed request');

      // The change is an edit of the notebook like any other: saved, it is in the file.
      await cell.click();
      await page.keyboard.press('Control+s');
      // Read whole: the server may be writing the file.
      const tagsOnDisk = (): string => {
        try {
          const saved = JSON.parse(readFileSync(join(dir, 'gpu.ipynb'), 'utf8')) as {
            cells: { metadata: { tags?: string[] } }[];
          };
          return JSON.stringify(saved.cells[1]?.metadata.tags);
        } catch {
          return '';
        }
      };
      const changed = JSON.stringify(['step:huge', 'prev:fit', 'gpu:1:Tesla-T4']);
      await waitFor('the saved gpu.ipynb', () => tagsOnDisk() === changed, 10_000).catch(
        () => undefined,
      );
      assert.equal(tagsOnDisk(), changed);
    });
  });
}
