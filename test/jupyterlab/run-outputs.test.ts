/**
 * Issue 18 in a real JupyterLab (npm-built page, Debian jupyter_server with the Cellflow server
 * extension and its agent, headless Chromium): run the cell-outputs fixture from the panel, then
 * **Show outputs** on the run opens its executed notebook beside the notebook, read-only, with the
 * step's matplotlib plot drawn by JupyterLab's renderers (screenshot
 * media/screenshots/jupyterlab-run-outputs.png, shown in docs/jupyterlab.md); **Outputs on cells**
 * shows the run's outputs under the notebook's own cells and takes them away again, and the
 * notebook on disk is the same bytes throughout (a save while they show writes none of them).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import {
  REPO,
  SERVER_EXTENSION,
  SHOTS,
  openCellflowPanel,
  serverExtensionEnv,
  skipReason,
  startJupyterLab,
  type JupyterLab,
} from './jupyterlab-host.js';

const missing = skipReason({ serverExtension: true });
const SCREENSHOT = join(REPO, 'media', 'screenshots', 'jupyterlab-run-outputs.png');

/** Waits until an image under `scope` is drawn (loaded, wider than the 1-pixel PNG the fixture shows). */
async function plotDrawn(scope: Locator, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const drawn = await scope
      .locator('img')
      .evaluateAll((images) =>
        images.some(
          (i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 100,
        ),
      );
    if (drawn) return;
    if (Date.now() > deadline) throw new Error('no plot was drawn');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The user's notebook as JupyterLab holds it: its cells' output counts and whether it is dirty. */
async function notebookModel(page: Page): Promise<{ outputs: number[]; dirty: boolean }> {
  return page.evaluate(() => {
    interface Panel {
      context?: { path: string; model: { dirty: boolean } };
      content: {
        model: { cells: { length: number; get(i: number): { outputs?: { length: number } } } };
      };
    }
    const lab = (
      window as unknown as { lab: { shell: { widgets(area: string): Iterable<unknown> } } }
    ).lab;
    for (const widget of lab.shell.widgets('main')) {
      const panel = widget as Panel;
      if (panel.context?.path !== 'outputs.ipynb') continue;
      const cells = panel.content.model.cells;
      const outputs: number[] = [];
      for (let i = 0; i < cells.length; i++) outputs.push(cells.get(i).outputs?.length ?? 0);
      return { outputs, dirty: panel.context.model.dirty };
    }
    throw new Error('outputs.ipynb is not open');
  });
}

describe(
  "JupyterLab: a run's outputs (issue 18)",
  { skip: missing, timeout: 600_000, concurrency: 1 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-jl-outputs-'));
    const notebook = join(dir, 'outputs.ipynb');
    let lab: JupyterLab;
    let page: Page;
    let original: Buffer;

    before(async () => {
      copyFileSync(join(REPO, 'test/fixtures/notebooks/cell-outputs.ipynb'), notebook);
      original = readFileSync(notebook);
      mkdirSync(SHOTS, { recursive: true });
      lab = await startJupyterLab({
        root: dir,
        serverExtensions: [SERVER_EXTENSION],
        env: serverExtensionEnv(),
      });
      page = await lab.open('lab/tree/outputs.ipynb');
      await openCellflowPanel(page, 'local');
    });
    after(async () => {
      await page?.screenshot({ path: join(SHOTS, 'run-outputs-end.png') }).catch(() => undefined);
      await lab?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('Show outputs opens the executed notebook beside the notebook, read-only, the plot drawn', async () => {
      // The panel knows the notebook (its steps show) before Run uses it.
      await page.locator('.cf-section-steps .cf-step-name', { hasText: 'plot' }).waitFor();
      await page.locator('.cf-panel .cf-action-run').click();
      // The fixture's last step fails on purpose: the run ends failed, with every step's outputs.
      const run = page.locator('.cf-run[data-state="failed"]');
      await run.waitFor({ timeout: 300_000 });
      await run.locator('.cf-run-show-outputs').click();
      const view = page.locator('.cf-run-outputs');
      await view.waitFor({ timeout: 60_000 });
      await plotDrawn(view, 60_000);
      const texts = (await view.locator('.jp-OutputArea-output').allTextContents()).join('\n');
      assert.match(texts, /loading/, 'the load step printed');
      assert.match(texts, /plotted/, 'the plot step printed');
      assert.match(texts, /ValueError/, 'the failing cell shows its error');
      // Read-only: every cell's editor is, and typing into one changes nothing.
      const cells = view.locator('.jp-CodeCell');
      assert.ok((await cells.count()) > 0);
      assert.equal(
        await view.locator('.jp-CodeCell .cm-editor.jp-mod-readOnly').count(),
        await cells.count(),
      );
      const firstEditor = view.locator('.jp-CodeCell .cm-content').first();
      const source = await firstEditor.textContent();
      await firstEditor.click();
      await page.keyboard.type('zzz');
      assert.equal(await firstEditor.textContent(), source);
      await page.keyboard.press('Escape');
      // Beside the notebook: both are shown at once.
      assert.ok(await page.locator('.jp-NotebookPanel').first().isVisible());
      // The run's end notification would cover the plot in the screenshot.
      await page.evaluate(() =>
        (
          window as unknown as { lab: { commands: { execute(id: string): Promise<unknown> } } }
        ).lab.commands.execute('apputils:dismiss-notification'),
      );
      await page
        .locator('.Toastify__toast')
        .first()
        .waitFor({ state: 'detached', timeout: 10_000 })
        .catch(() => undefined);
      await view.locator('img').last().scrollIntoViewIfNeeded();
      mkdirSync(join(REPO, 'media', 'screenshots'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
      assert.ok(readFileSync(notebook).equals(original), 'the notebook file is unchanged');
    });

    it('Outputs on cells shows the run under the cells and takes it away; the file stays the same bytes', async () => {
      const toggle = page.locator('.cf-panel .cf-inline-outputs input');
      const shown = page.locator('.jp-NotebookPanel .cf-cell-run-outputs');
      const before = await notebookModel(page);

      await toggle.check();
      await page
        .locator('.jp-NotebookPanel .jp-CodeCell[data-cellflow-step="load"] .cf-cell-run-outputs', {
          hasText: 'loading',
        })
        .waitFor({ timeout: 60_000 });
      const plotCell = page.locator('.jp-NotebookPanel .jp-CodeCell[data-cellflow-step="plot"]');
      await plotCell.scrollIntoViewIfNeeded();
      await plotDrawn(plotCell.locator('.cf-cell-run-outputs'), 60_000);
      await page.screenshot({ path: join(SHOTS, 'run-outputs-on-cells.png') });
      const showing = await notebookModel(page);
      assert.deepEqual(showing, before, "the cells' own outputs are untouched, the notebook clean");
      assert.ok(readFileSync(notebook).equals(original), 'the notebook file is unchanged');

      await toggle.uncheck();
      await shown.first().waitFor({ state: 'detached', timeout: 30_000 });
      assert.equal(await shown.count(), 0);
      assert.ok(readFileSync(notebook).equals(original), 'the notebook file is unchanged');

      // A save while the outputs show writes none of them.
      await toggle.check();
      await shown.first().waitFor({ timeout: 60_000 });
      const savedAt = statSync(notebook).mtimeMs;
      await page.locator('.jp-NotebookPanel .jp-CodeCell').first().click();
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+s');
      const deadline = Date.now() + 30_000;
      while (statSync(notebook).mtimeMs === savedAt) {
        assert.ok(Date.now() < deadline, 'the notebook was not saved within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const saved = JSON.parse(readFileSync(notebook, 'utf8')) as {
        cells: { cell_type: string; outputs?: unknown[] }[];
      };
      const written = saved.cells.filter((c) => (c.outputs ?? []).length > 0);
      assert.equal(written.length, 0, 'no cell was saved with outputs');
      assert.ok((await shown.count()) > 0, 'the outputs still show after the save');
    });
  },
);
