/**
 * Cellflow's tag form as a JupyterLab metadata form (schema/tag-form.json): the property
 * inspector's "Cellflow" section edits the active cell's tags, and the cells' chips follow tag
 * edits made anywhere (that form, or any other writer of the cell's `metadata.tags`, as
 * JupyterLab's own tag editor and the raw metadata editor are) at once, not after the typing
 * delay. Screenshots go to artifacts/jupyterlab/.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { REPO, SHOTS, skipReason, startJupyterLab, type JupyterLab } from './jupyterlab-host.js';

const missing = skipReason();

/** The code cell whose chips include `text`. */
function cellWithChip(page: Page, text: string) {
  return page.locator('.jp-CodeCell', { has: page.locator('.cf-chip', { hasText: text }) });
}

/** Sets the tags of the cell tagged `step:NAME` the way any other editor does: on its model. */
async function setTagsElsewhere(page: Page, step: string, tags: string[]): Promise<void> {
  await page.evaluate(
    ([step, tags]) => {
      interface CellLike {
        model: { getMetadata(key: string): unknown; setMetadata(key: string, v: unknown): void };
      }
      const lab = (window as unknown as { lab: { shell: { currentWidget: unknown } } }).lab;
      const panel = lab.shell.currentWidget as { content: { widgets: readonly CellLike[] } };
      const cell = panel.content.widgets.find((c) => {
        const t = c.model.getMetadata('tags');
        return Array.isArray(t) && t.includes(`step:${step}`);
      });
      if (cell === undefined) throw new Error(`no cell tagged step:${step}`);
      cell.model.setMetadata('tags', tags);
    },
    [step, tags] as const,
  );
}

describe('JupyterLab: the tag metadata form', { skip: missing, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellflow-jl-form-'));
  let lab: JupyterLab;
  let page: Page;

  before(async () => {
    copyFileSync(join(REPO, 'examples/digits.ipynb'), join(dir, 'digits.ipynb'));
    mkdirSync(SHOTS, { recursive: true });
    // A typing delay far longer than the test waits: only an at-once update passes.
    lab = await startJupyterLab({
      root: dir,
      settings: { 'cellflow-jupyterlab:plugin': { diagnosticsDelay: 60_000 } },
    });
    page = await lab.open('lab/tree/digits.ipynb');
    await cellWithChip(page, 'step: load_data').waitFor({ timeout: 60_000 });
  });
  after(async () => {
    await page?.screenshot({ path: join(SHOTS, 'tag-metadata-form.png') }).catch(() => undefined);
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('updates the chips at once when a cell’s tags change elsewhere', async () => {
    await setTagsElsewhere(page, 'load_data', ['step:load_data', 'gpu:2']);
    await cellWithChip(page, 'step: load_data')
      .locator('.cf-chip-gpu', { hasText: 'GPU 2' })
      .waitFor({ timeout: 3_000 });
  });

  it('edits the active cell’s tags from the property inspector’s Cellflow section', async () => {
    const cell = cellWithChip(page, 'step: load_data');
    await cell.locator('.jp-InputArea-editor').click();
    await page.keyboard.press('Escape');
    await page.locator('.jp-SideBar.jp-mod-right [data-id="jp-property-inspector"]').click();
    const section = page.locator('.jp-NotebookTools .jp-Collapse', { hasText: 'Cellflow' });
    await section.locator('.jp-Collapse-header').first().click();
    const form = section.locator('.cf-tag-metadata-form');
    // The form shows the cell's tags, including the one set elsewhere.
    await form.locator('input[name="gpu"]').waitFor({ timeout: 10_000 });
    assert.equal(await form.locator('input[name="gpu"]').inputValue(), '2');
    await form.locator('input[name="memory"]').fill('3Gi');
    await form.locator('input[name="memory"]').press('Tab');
    await cell.locator('.cf-chip-memory', { hasText: 'mem 3Gi' }).waitFor({ timeout: 3_000 });
    assert.deepEqual(
      await page.evaluate(() => {
        const lab = (window as unknown as { lab: { shell: { currentWidget: unknown } } }).lab;
        const panel = lab.shell.currentWidget as {
          content: { activeCell: { model: { getMetadata(key: string): unknown } } };
        };
        return panel.content.activeCell.model.getMetadata('tags');
      }),
      ['step:load_data', 'gpu:2', 'memory:3Gi'],
    );
    await page.screenshot({ path: join(SHOTS, 'tag-metadata-form.png') });

    // The form follows an edit made elsewhere to the cell it shows.
    await setTagsElsewhere(page, 'load_data', ['step:load_data', 'image:python:3.12']);
    await page.waitForFunction(
      () =>
        document.querySelector<HTMLInputElement>('.cf-tag-metadata-form input[name="image"]')
          ?.value === 'python:3.12',
      undefined,
      { timeout: 3_000 },
    );
    assert.equal(await form.locator('input[name="gpu"]').inputValue(), '');
  });
});
