/**
 * Running from JupyterLab (npm-built page, Debian jupyter_server with the Cellflow server
 * extension, which starts `cellflow agent` and proxies it behind Jupyter's auth; headless
 * Chromium): Run from the panel shows live step states on the cells and in the panel; Tune shows
 * the trials and the best one; Serve lists an endpoint and its tester gets an answer.
 * Screenshots go to artifacts/jupyterlab/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { notebookJson } from '../support/notebook-json.js';
import {
  skipReason,
  SHOTS,
  SERVER_EXTENSION,
  serverExtensionEnv,
  startJupyterLab,
  type JupyterLab,
  openCellflowPanel,
} from './jupyterlab-host.js';
import { isRunning } from '../support/processes.js';

const missing = skipReason({ serverExtension: true });

/** A small pipeline that trains and serves a model, with a study over one parameter. */
const IRIS = notebookJson(
  [
    [
      ['imports'],
      'from sklearn.datasets import load_iris\nfrom sklearn.tree import DecisionTreeClassifier',
    ],
    [['pipeline-parameters'], 'MAX_DEPTH = 2'],
    [['step:load'], 'X, y = load_iris(return_X_y=True)'],
    [
      ['step:train', 'serve:model'],
      'import time\ntime.sleep(1.5)\nmodel = DecisionTreeClassifier(max_depth=MAX_DEPTH, random_state=0).fit(X, y)\naccuracy = model.score(X, y)',
    ],
    [['pipeline-metrics'], 'print(accuracy)'],
  ],
  {
    kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
    cellflow: {
      name: 'iris',
      tuning: {
        objective: 'accuracy',
        goal: 'maximize',
        algorithm: 'grid',
        maxTrials: 3,
        parallelTrials: 3,
        parameters: { MAX_DEPTH: { values: [1, 2, 3] } },
      },
    },
  },
);

async function panelButton(page: Page, name: string): Promise<void> {
  await page.locator(`.cf-panel .cf-action-${name}`).click();
}

describe(
  'JupyterLab: run, tune and serve from the panel',
  { skip: missing, timeout: 600_000, concurrency: 1 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-jl-run-'));
    let lab: JupyterLab;
    let page: Page;

    before(async () => {
      writeFileSync(join(dir, 'iris.ipynb'), IRIS);
      mkdirSync(SHOTS, { recursive: true });
      lab = await startJupyterLab({
        root: dir,
        serverExtensions: [SERVER_EXTENSION],
        env: serverExtensionEnv(),
      });
      page = await lab.open('lab/tree/iris.ipynb');
      await openCellflowPanel(page, 'local');
    });
    afterEach(async (t) => {
      await page
        ?.screenshot({ path: join(SHOTS, `after-${t.name.replace(/\W+/g, '-').slice(0, 40)}.png`) })
        .catch(() => undefined);
    });
    after(async () => {
      await lab?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('shows the target, its GPU capacity and the steps', async () => {
      assert.ok(await page.locator('.cf-row-gpus').isVisible());
      await page.locator('.cf-section-steps .cf-step-name').nth(1).waitFor();
      assert.deepEqual(await page.locator('.cf-section-steps .cf-step-name').allTextContents(), [
        'load',
        'train',
      ]);
      assert.match(
        (await page.locator('.cf-step[data-step="train"] .cf-step-after').textContent()) ?? '',
        /load/,
      );
    });

    it('runs the pipeline with live step states on the cells and in the panel', async () => {
      await panelButton(page, 'run');
      const trainCell = page.locator('.jp-CodeCell[data-cellflow-step="train"]').first();
      // train sleeps: it is seen running before it succeeds.
      await page
        .locator('.jp-CodeCell[data-cellflow-step="train"][data-cellflow-state="running"]')
        .first()
        .waitFor({ timeout: 120_000 });
      await page.locator('.cf-run-step[data-step="train"][data-state="running"]').waitFor();
      await page.screenshot({ path: join(SHOTS, 'run-live.png') });
      await page.locator('.cf-run[data-state="succeeded"]').waitFor({ timeout: 120_000 });
      assert.equal(await trainCell.getAttribute('data-cellflow-state'), 'succeeded');
      assert.equal(
        await page
          .locator('.jp-CodeCell[data-cellflow-step="load"]')
          .getAttribute('data-cellflow-state'),
        'succeeded',
      );
      assert.match(
        (await page.locator('.cf-run-metrics').first().textContent()) ?? '',
        /accuracy = /,
      );
      await page.screenshot({ path: join(SHOTS, 'run-done.png') });
    });

    it('tunes: the trials table fills and the best trial is named', async () => {
      await panelButton(page, 'tune');
      // Tune shows the study for review first; it starts from the editor.
      const editor = page.locator('.jp-Dialog', { has: page.locator('.cf-study-editor') });
      await editor.getByRole('button', { name: 'Start tuning' }).click();
      await page
        .locator('.cf-section-tuning .cf-trials tbody tr')
        .nth(2)
        .waitFor({ timeout: 240_000 });
      await page
        .locator('.cf-section-tuning .cf-best', { hasText: 'Best: trial' })
        .waitFor({ timeout: 240_000 });
      await page.screenshot({ path: join(SHOTS, 'tuning.png') });
      await page
        .locator('.cf-section-tuning .cf-header .cf-state-succeeded')
        .waitFor({ timeout: 240_000 });
      assert.equal(
        await page.locator('.cf-section-tuning .cf-trials tr.cf-state-succeeded').count(),
        3,
      );
      // The grid's best depth (3 fits iris best) goes into the parameters cell of the open notebook.
      assert.match(
        (await page.locator('.cf-section-tuning .cf-best').textContent()) ?? '',
        /MAX_DEPTH=3/,
      );
      await page.locator('.cf-section-tuning .cf-apply-best').click();
      await page
        .locator('.jp-CodeCell', { hasText: 'MAX_DEPTH = 3' })
        .first()
        .waitFor({ timeout: 10_000 });
    });

    it('serves the trained model and the tester gets an answer', async () => {
      await panelButton(page, 'serve');
      const endpoint = page.locator('.cf-section-endpoints .cf-endpoint').first();
      await endpoint.waitFor({ timeout: 60_000 });
      await page
        .locator('.cf-section-endpoints .cf-request')
        .fill('{"instances": [[5.1, 3.5, 1.4, 0.2]]}');
      await page.locator('.cf-section-endpoints .cf-send').click();
      const status = page.locator('.cf-section-endpoints .cf-answer-status');
      await status.filter({ hasText: 'HTTP' }).waitFor({ timeout: 30_000 });
      assert.match((await status.textContent()) ?? '', /HTTP 200/);
      assert.match(
        (await page.locator('.cf-section-endpoints .cf-answer').textContent()) ?? '',
        /predictions/,
      );
      await page.screenshot({ path: join(SHOTS, 'endpoint.png') });
    });

    it('cancels a run from its Cancel button: the step process ends, cells and panel say cancelled', async () => {
      writeFileSync(
        join(dir, 'slow.ipynb'),
        notebookJson(
          [
            [['step:prepare'], 'size = 3'],
            [
              ['step:wait'],
              "import os, time\nopen('wait.pid', 'w').write(str(os.getpid()))\ntime.sleep(300)\ndone = size",
            ],
          ],
          { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
        ),
      );
      // Opened as a user would, from the palette's "Open from Path…"; the panel follows it.
      await page.keyboard.press('Control+Shift+C');
      await page.locator('.lm-CommandPalette-input').fill('Open from Path');
      await page.keyboard.press('Enter');
      await page.locator('.jp-Dialog input').fill('slow.ipynb');
      await page.keyboard.press('Enter');
      // Opening from a path shows the file browser: bring the Cellflow panel back (a click on
      // the selected tab would close the sidebar).
      const tab = page.locator('.jp-SideBar [data-id="cellflow-panel"]');
      await page.locator('.jp-NotebookPanel', { hasText: 'time.sleep(300)' }).waitFor();
      if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
      await page
        .locator('.cf-section-steps .cf-step-name', { hasText: 'wait' })
        .waitFor({ timeout: 60_000 });
      // Named after its file, as the CLI names it, since it has no `name` setting.
      await page
        .locator('.cf-row-name .cf-row-value', { hasText: /^slow$/ })
        .waitFor({ timeout: 10_000 });
      await page.locator('.cf-panel .cf-action-run').click();
      await page
        .locator('.jp-CodeCell[data-cellflow-step="wait"][data-cellflow-state="running"]')
        .waitFor({ timeout: 120_000 });
      const pidFile = join(dir, 'wait.pid');
      for (let i = 0; i < 100 && !existsSync(pidFile); i++)
        await new Promise((r) => setTimeout(r, 100));
      const pid = Number(readFileSync(pidFile, 'utf8'));
      assert.ok(pid > 0 && isRunning(pid), 'the step is running');
      await page.locator('.cf-run[data-state="running"] .cf-run-cancel').first().click();
      await page.locator('.cf-run[data-state="cancelled"]').first().waitFor({ timeout: 30_000 });
      assert.equal(
        await page
          .locator('.jp-CodeCell[data-cellflow-step="wait"]')
          .getAttribute('data-cellflow-state'),
        'cancelled',
      );
      assert.equal(await page.locator('.cf-run-cancel').count(), 0, 'no Cancel on an ended run');
      for (let i = 0; i < 50 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(!isRunning(pid), `the step's process ${pid} is gone`);
      await page.screenshot({ path: join(SHOTS, 'run-cancelled.png') });
    });
  },
);
