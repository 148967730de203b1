/**
 * Issue 18 in a real VS Code (code-server + headless Chromium): run the cell-outputs fixture from
 * the palette, then **Show Run Outputs**: the executed notebook opens beside the notebook and VS
 * Code's own renderers draw the step's matplotlib plot (an image in an output frame). The
 * screenshot goes to media/screenshots/vscode-run-outputs.png (docs/vscode.md shows it). Then
 * **Toggle Run Outputs on Cells** puts each cell's run outputs after its code (a decoration: VS
 * Code saves a notebook's own outputs into the file) and takes them away again, with the notebook
 * never dirty and its file the same bytes.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { buildExtensionAndSuite } from './build-extension.js';
import { missingHost, REPO } from './code-server.js';
import { vscodeSession } from './vscode-session.js';

const missing = missingHost();
if (missing !== undefined && process.env.CELLFLOW_REQUIRE_CODE_SERVER === '1')
  throw new Error(missing);
const SCREENSHOT = join(REPO, 'media', 'screenshots', 'vscode-run-outputs.png');
const FAILURE_SHOTS = join(REPO, 'artifacts', 'vscode');

async function palette(page: Page, command: string): Promise<void> {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget:visible input').fill(`>${command}`);
  await page
    .locator('.quick-input-widget:visible .monaco-list-row', { hasText: command })
    .first()
    .waitFor();
  await page.keyboard.press('Enter');
}

/** The frame (outputs are drawn in nested webview frames) where `selector` shows a drawn image. */
async function frameWithImage(page: Page, selector: string, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      const drawn = await frame
        .locator(selector)
        .evaluateAll((images) =>
          images.some(
            (i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 100,
          ),
        )
        .catch(() => false);
      if (drawn) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no output frame draws ${selector}`);
    await page.waitForTimeout(250);
  }
}

/** The texts the cells' editors draw after their lines with Cellflow's `⇢` (decorations). */
async function decorationTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const texts: string[] = [];
    for (const el of document.querySelectorAll('.view-lines span')) {
      for (const pseudo of ['::before', '::after']) {
        const content = getComputedStyle(el, pseudo).content;
        if (content.includes('⇢')) texts.push(content);
      }
      if (el.childElementCount === 0 && (el.textContent ?? '').includes('⇢'))
        texts.push(el.textContent ?? '');
    }
    return texts;
  });
}

describe('VS Code: Show Run Outputs (issue 18)', { skip: missing }, () => {
  const session = vscodeSession('cellflow-vscode-outputs-');
  const { work } = session;

  it(
    'opens the executed notebook beside the notebook, with the plot drawn; shows the outputs on the cells and takes them away',
    { timeout: 600_000 },
    async () => {
      buildExtensionAndSuite();
      copyFileSync(
        join(REPO, 'test/fixtures/notebooks/cell-outputs.ipynb'),
        join(work, 'outputs.ipynb'),
      );
      const original = readFileSync(join(work, 'outputs.ipynb'));
      const server = await session.start({
        'cellflow.python': '/usr/bin/python3',
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
      });
      const page = await server.open([
        ['extensionDevelopmentPath', `vscode-remote://remote${REPO}`],
      ]);
      try {
        await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        await page.keyboard.press('Control+P');
        await page.locator('.quick-input-widget:visible input').fill('outputs.ipynb');
        await page
          .locator('.quick-input-widget:visible .monaco-list-row', { hasText: 'outputs.ipynb' })
          .first()
          .waitFor();
        await page.keyboard.press('Enter');
        const items = page.locator('.cell-statusbar-container .cell-status-item');
        await items.filter({ hasText: 'step: load' }).first().waitFor({ timeout: 60_000 });
        await palette(page, 'Cellflow: Run Pipeline Locally');
        // The fixture's last step fails on purpose: the run ends once its cell (the notebook draws
        // only the cells in view: scroll down to it) says so.
        const failed = items.filter({ hasText: /failed/ }).first();
        const deadline = Date.now() + 240_000;
        await page.mouse.move(800, 500);
        while (!(await failed.isVisible())) {
          if (Date.now() > deadline)
            throw new Error('the run did not end with its last step failed');
          await page.mouse.wheel(0, 400);
          await page.waitForTimeout(500);
        }
        await palette(page, 'Cellflow: Show Run Outputs');
        await page
          .locator('.tabs-container .tab', { hasText: 'outputs outputs.ipynb' })
          .first()
          .waitFor({ timeout: 60_000 });
        const frame = await frameWithImage(page, 'img', 120_000);
        // The notebook list scrolls itself, not the output frame: wheel it until the plot is in view.
        const plot = frame.locator('img').first();
        const shown = Date.now() + 30_000;
        await page.mouse.move(1100, 500);
        for (;;) {
          const box = await plot.boundingBox();
          if (box !== null && box.y >= 80 && box.y + box.height <= 880) break;
          if (Date.now() > shown) break;
          await page.mouse.wheel(0, box === null || box.y > 80 ? 250 : -250);
          await page.waitForTimeout(400);
        }
        mkdirSync(join(REPO, 'media', 'screenshots'), { recursive: true });
        await page.screenshot({ path: SCREENSHOT });

        // Outputs on the notebook's own cells.
        await page
          .locator('.tabs-container .tab', { hasText: /^\s*outputs\.ipynb/ })
          .first()
          .click();
        await palette(page, 'Cellflow: Toggle Run Outputs on Cells');
        const loading = async (): Promise<boolean> =>
          (await decorationTexts(page)).some((t) => t.includes('⇢ loading'));
        const until = Date.now() + 60_000;
        await page.mouse.move(400, 400);
        while (!(await loading())) {
          if (Date.now() > until)
            throw new Error(
              `the load cell does not show 'loading'; decorations: ${JSON.stringify(await decorationTexts(page))}`,
            );
          // The notebook draws only the cells in view: the load cell is near the top.
          await page.mouse.wheel(0, -400);
          await page.waitForTimeout(500);
        }
        mkdirSync(FAILURE_SHOTS, { recursive: true });
        await page.screenshot({ path: join(FAILURE_SHOTS, 'outputs-on-cells.png') });
        assert.equal(
          await page.locator('.tabs-container .tab.dirty').count(),
          0,
          'nothing is dirty',
        );
        assert.ok(readFileSync(join(work, 'outputs.ipynb')).equals(original), 'file unchanged');

        await palette(page, 'Cellflow: Toggle Run Outputs on Cells');
        const gone = Date.now() + 30_000;
        while ((await decorationTexts(page)).length > 0) {
          if (Date.now() > gone) throw new Error('the outputs stayed on the cells');
          await page.waitForTimeout(250);
        }
        assert.equal(
          await page.locator('.tabs-container .tab.dirty').count(),
          0,
          'nothing is dirty',
        );
        assert.ok(readFileSync(join(work, 'outputs.ipynb')).equals(original), 'file unchanged');
      } catch (error) {
        mkdirSync(FAILURE_SHOTS, { recursive: true });
        await page.screenshot({ path: join(FAILURE_SHOTS, 'outputs-failure.png') });
        throw error;
      }
    },
  );
});
