/**
 * Issue 18 in a real VS Code (code-server + headless Chromium): run the cell-outputs fixture from
 * the palette, then **Show Run Outputs**: the executed notebook opens beside the notebook and VS
 * Code's own renderers draw the step's matplotlib plot (an image in an output frame). The
 * screenshot goes to media/screenshots/vscode-run-outputs.png (docs/vscode.md shows it).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
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

describe('VS Code: Show Run Outputs (issue 18)', { skip: missing }, () => {
  const session = vscodeSession('cellflow-vscode-outputs-');
  const { work } = session;

  it(
    'opens the executed notebook beside the notebook, with the plot drawn',
    { timeout: 600_000 },
    async () => {
      buildExtensionAndSuite();
      copyFileSync(
        join(REPO, 'test/fixtures/notebooks/cell-outputs.ipynb'),
        join(work, 'outputs.ipynb'),
      );
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
        await frame.locator('img').first().scrollIntoViewIfNeeded();
        mkdirSync(join(REPO, 'media', 'screenshots'), { recursive: true });
        await page.screenshot({ path: SCREENSHOT });
      } catch (error) {
        mkdirSync(FAILURE_SHOTS, { recursive: true });
        await page.screenshot({ path: join(FAILURE_SHOTS, 'outputs-failure.png') });
        throw error;
      }
    },
  );
});
