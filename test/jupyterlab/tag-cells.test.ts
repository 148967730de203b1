/**
 * Tagging in a real JupyterLab (npm-built page, Debian jupyter_server, headless Chromium): the
 * digits example shows its steps on the cells, a tag edited through the cell's editor is saved as
 * standard `metadata.tags` (core's canonical form) and nothing else in the notebook changes, and
 * core's diagnostics appear on the cell they are about. Screenshots go to artifacts/jupyterlab/.
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { notebookJson } from '../support/notebook-json.js';
import { REPO, SHOTS, skipReason, startJupyterLab, type JupyterLab } from './jupyterlab-host.js';

const missing = skipReason();

/** A notebook as Kale writes it: `block:`/`prev:` tags and `metadata.kubeflow_notebook`. */
const KALE = notebookJson(
  [
    [['imports'], 'import math'],
    [['block:load_data'], 'data = [1, 2, 3]'],
    [['block:total', 'prev:load_data', 'limit:nvidia.com/gpu:1'], 'total = math.fsum(data)'],
  ],
  {
    kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
    kubeflow_notebook: {
      pipeline_name: 'kale-sum',
      pipeline_description: 'Made with Kale',
      experiment: { name: 'kale-experiments' },
      docker_image: 'python:3.11-slim',
    },
  },
);

/** The code cell whose chips include `text`. */
function cellWithChip(page: Page, text: string) {
  return page.locator('.jp-CodeCell', { has: page.locator('.cf-chip', { hasText: text }) });
}

describe('JupyterLab: cell tags', { skip: missing, timeout: 300_000, concurrency: 1 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellflow-jl-tags-'));
  const notebook = join(dir, 'digits.ipynb');
  let lab: JupyterLab;
  let page: Page;

  before(async () => {
    copyFileSync(join(REPO, 'examples/digits.ipynb'), notebook);
    mkdirSync(SHOTS, { recursive: true });
    lab = await startJupyterLab({ root: dir });
    page = await lab.open('lab/tree/digits.ipynb');
  });
  after(async () => {
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows each code cell its step and dependencies', async () => {
    await cellWithChip(page, 'step: load_data').waitFor({ timeout: 60_000 });
    // Cells render as they scroll into view: scroll to the end, then every code cell has its strip.
    const pick = cellWithChip(page, 'step: pick_best');
    await page.mouse.move(800, 500);
    const codeCells = (
      JSON.parse(readFileSync(notebook, 'utf8')) as { cells: { cell_type: string }[] }
    ).cells.filter((c) => c.cell_type === 'code').length;
    const strips = page.locator('.jp-CodeCell .cf-cell-chips');
    for (let i = 0; i < 60 && (await strips.count()) < codeCells; i++) {
      await page.mouse.wheel(0, 400);
      await page.waitForTimeout(150);
    }
    assert.equal(await strips.count(), codeCells);
    assert.equal(await cellWithChip(page, 'imports').count(), 1);
    assert.match(
      (await pick.locator('.cf-chip-after').textContent()) ?? '',
      /train_logistic, train_svm, train_forest/,
    );
  });

  it('saves a GPU request edited in the tag editor as metadata.tags, leaving the rest alone', async () => {
    const original = JSON.parse(readFileSync(notebook, 'utf8'));
    const mtime = statSync(notebook).mtimeMs;
    const forest = cellWithChip(page, 'step: train_forest');
    await forest.locator('.cf-cell-edit').click();
    const dialog = page.locator('.jp-Dialog');
    await dialog.locator('input[name="gpu"]').fill('1');
    await dialog.locator('input[name="memory"]').fill('2Gi');
    await page.screenshot({ path: join(SHOTS, 'tag-editor.png') });
    await dialog.locator('button.jp-mod-accept').click();
    await forest.locator('.cf-chip-gpu', { hasText: 'GPU 1' }).waitFor();
    await forest.locator('.cf-chip-memory', { hasText: 'mem 2Gi' }).waitFor();

    await forest.locator('.jp-InputArea-editor').click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+s');
    // The server writes the file in place: wait until it is complete and has the new tags.
    const deadline = Date.now() + 30_000;
    let saved: any;
    for (;;) {
      try {
        if (statSync(notebook).mtimeMs !== mtime) {
          saved = JSON.parse(readFileSync(notebook, 'utf8'));
          if (JSON.stringify(saved).includes('gpu:1')) break;
        }
      } catch {
        // half-written
      }
      assert.ok(Date.now() < deadline, 'the notebook was not saved within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const index = original.cells.findIndex((c: { metadata: { tags?: string[] } }) =>
      c.metadata.tags?.includes('step:train_forest'),
    );
    assert.deepEqual(saved.cells[index].metadata.tags, [
      'step:train_forest',
      'gpu:1',
      'memory:2Gi',
    ]);
    // Everything else is as it was (Jupyter's server re-sorts JSON keys when it writes; the
    // content is what must not change).
    original.cells[index].metadata.tags = saved.cells[index].metadata.tags;
    // When the Python kernel has connected before the save, JupyterLab itself writes the kernel's
    // `language_info` (version 3.11 -> 3.11.2): that is JupyterLab's, not an edit of ours.
    if (saved.metadata.language_info !== undefined) {
      assert.equal(saved.metadata.language_info.name, original.metadata.language_info?.name);
      original.metadata.language_info = saved.metadata.language_info;
    }
    assert.deepEqual(saved, original);
    await page.screenshot({ path: join(SHOTS, 'tagged-cells.png') });
  });

  it("shows core's diagnostics on the cell they are about", async () => {
    const pick = cellWithChip(page, 'step: pick_best');
    await pick.locator('.cf-cell-edit').click();
    const dialog = page.locator('.jp-Dialog');
    await dialog.locator('input[name="prev"]').fill('train_tree');
    await dialog.locator('button.jp-mod-accept').click();
    const problem = pick.locator('.cf-cell-diagnostics .cf-diagnostic-error');
    await problem.first().waitFor({ timeout: 10_000 });
    // Under its cell the problem does not say where it is (issue 15: no "cell N" in the message).
    const onCell = (await problem.first().textContent()) ?? '';
    assert.match(onCell, /^`prev:train_tree` on step `pick_best` names no step\./);
    assert.doesNotMatch(onCell, /\bcell \d/i);
    // The panel lists it too, numbered as JupyterLab numbers the cell (the 14th), once.
    await page.locator('.jp-SideBar [data-id="cellflow-panel"]').click();
    const listed = page.locator('.cf-section-problems .cf-diagnostic-error', {
      hasText: 'train_tree',
    });
    await listed.waitFor();
    const inPanel = (await listed.textContent()) ?? '';
    assert.match(inPanel, /^Cell 14: `prev:train_tree` on step `pick_best` names no step\./);
    assert.equal(inPanel.match(/\bcell \d/gi)?.length, 1, inPanel);
    await page.screenshot({ path: join(SHOTS, 'diagnostics.png') });
  });
});

describe('JupyterLab: a notebook tagged by Kale', { skip: missing, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellflow-jl-kale-'));
  let lab: JupyterLab;

  before(async () => {
    writeFileSync(join(dir, 'kale.ipynb'), KALE);
    mkdirSync(SHOTS, { recursive: true });
    lab = await startJupyterLab({ root: dir });
  });
  after(async () => {
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a notebook tagged by Kale: steps, dependencies, GPU and pipeline settings', async () => {
    const kale = await lab.open('lab/tree/kale.ipynb');
    const total = cellWithChip(kale, 'step: total');
    await total.waitFor({ timeout: 60_000 });
    assert.match((await total.locator('.cf-chip-after').textContent()) ?? '', /load_data/);
    assert.match((await total.locator('.cf-chip-gpu').textContent()) ?? '', /GPU 1/);
    const panel = kale.locator('.cf-panel');
    if (!(await panel.isVisible()))
      await kale.locator('.jp-SideBar [data-id="cellflow-panel"]').click();
    await kale.locator('.cf-row-name .cf-row-value', { hasText: 'kale-sum' }).waitFor();
    assert.equal(
      await kale.locator('.cf-row-experiment .cf-row-value').textContent(),
      'kale-experiments',
    );
    assert.equal(
      await kale.locator('.cf-row-image .cf-row-value').textContent(),
      'python:3.11-slim',
    );
    await kale.screenshot({ path: join(SHOTS, 'kale-notebook.png') });
  });
});
