/**
 * A user's path through the browser UI of a real VS Code (code-server + headless Chromium): open
 * the digits example, set a step from the palette, run the pipeline locally, watch the cells'
 * status and the Runs view. Screenshots go to artifacts/vscode/ (ignored by git).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { buildExtensionAndSuite } from './build-extension.js';
import { missingHost, REPO } from './code-server.js';
import { vscodeSession } from './vscode-session.js';
import { frameWith, palette, scrollTo } from './workbench-page.js';

const missing = missingHost();
if (missing !== undefined && process.env.CELLFLOW_REQUIRE_CODE_SERVER === '1')
  throw new Error(missing);
const SHOTS = join(REPO, 'artifacts', 'vscode');

describe('VS Code UI scenario', { skip: missing }, () => {
  const session = vscodeSession('cellflow-vscode-ui-');
  const { work } = session;

  it('tags, runs and shows status in the browser', { timeout: 600_000 }, async () => {
    buildExtensionAndSuite();
    mkdirSync(SHOTS, { recursive: true });
    copyFileSync(join(REPO, 'examples/digits.ipynb'), join(work, 'digits.ipynb'));
    const server = await session.start({
      'cellflow.python': '/usr/bin/python3',
      'chat.disableAIFeatures': true,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
    });
    const page = await server.open([['extensionDevelopmentPath', `vscode-remote://remote${REPO}`]]);
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !/open-vsx|github|ENOTFOUND/.test(m.text()))
        consoleErrors.push(m.text());
    });
    try {
      await scenario(page, work);
      if (session.cluster !== undefined) await deployScenario(page);
    } catch (error) {
      await page.screenshot({ path: join(SHOTS, 'failure.png') });
      throw new Error(
        `${String(error)}\nbrowser console errors:\n${consoleErrors.join('\n').slice(0, 4000)}`,
      );
    }
  });
});

async function scenario(page: Page, work: string): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });

  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget:visible input').fill('digits.ipynb');
  await page
    .locator('.quick-input-widget:visible .monaco-list-row', { hasText: 'digits.ipynb' })
    .first()
    .waitFor();
  await page.keyboard.press('Enter');
  const items = page.locator('.cell-statusbar-container .cell-status-item');
  await items.filter({ hasText: 'imports' }).first().waitFor({ timeout: 60_000 });
  await scrollTo(page, items.filter({ hasText: 'step: load_data' }));
  await page.screenshot({ path: join(SHOTS, '1-tags.png') });

  // Select the `split` cell through its status item's neighbour (the cell editor), then rename
  // its step from the palette.
  const splitCell = page.locator('.cell-inner-container', {
    has: page.locator('.cell-status-item', { hasText: 'step: split' }),
  });
  // The click selects the cell (index 7) before the palette acts on "the active cell". On a
  // busy machine the virtualized list may still be laying out and the click lands elsewhere:
  // scroll and click again until the status bar says cell 8 is the active one.
  const cell8 = page.locator('.statusbar-item', { hasText: /^Cell 8 of/ }).first();
  for (let attempt = 1; ; attempt++) {
    await scrollTo(page, splitCell);
    await splitCell.locator('.monaco-editor').first().click();
    const selected = await cell8
      .waitFor({ timeout: 10_000 })
      .then(() => true)
      .catch(() => false);
    if (selected) break;
    if (attempt === 4) throw new Error('clicking the split cell did not make it the active cell');
  }
  await palette(page, 'Cellflow: Set Step');
  const input = page.locator('.quick-input-widget:visible input');
  await input.fill('hold_out');
  await page.keyboard.press('Enter');
  await items.filter({ hasText: 'step: hold_out' }).first().waitFor({ timeout: 20_000 });

  await palette(page, 'Cellflow: Run Pipeline Locally');
  // The split cell is in view: its status item follows the step (queued, running, succeeded).
  await items
    .filter({ hasText: /queued|running|succeeded/ })
    .first()
    .waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(SHOTS, '2-running.png') });

  await page.locator('.part.activitybar .action-label[aria-label*="Cellflow"]').click();
  const rows = page.locator('.part.sidebar .monaco-list-row');
  const run = rows.filter({ hasText: /^digits \d/ }).first();
  await run.waitFor({ timeout: 30_000 });
  await rows
    .filter({ hasText: /digits \d.*succeeded/ })
    .first()
    .waitFor({ timeout: 240_000 });
  await run.click();
  await rows.filter({ hasText: 'hold_out' }).first().waitFor({ timeout: 30_000 });
  await items
    .filter({ hasText: /succeeded \d/ })
    .first()
    .waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(SHOTS, '3-run-succeeded.png') });

  await palette(page, 'Cellflow: Show Pipeline Graph');
  await frameWith(page, '.cf-node.cf-state-succeeded', 6);
  await page.screenshot({ path: join(SHOTS, '4-graph.png') });

  await page.keyboard.press('Control+S');
  // The save is asynchronous: read the file until it has the tag (or give up after 30 s).
  const tagsOnDisk = (): string[] | undefined =>
    (
      JSON.parse(readFileSync(join(work, 'digits.ipynb'), 'utf8')) as {
        cells: { metadata?: { tags?: string[] } }[];
      }
    ).cells[7]?.metadata?.tags;
  for (let i = 0; i < 60 && tagsOnDisk()?.[0] !== 'step:hold_out'; i++)
    await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(tagsOnDisk(), ['step:hold_out']);
}

/** Deploy from the palette to the test cluster; the cells and the views follow the cluster run. */
async function deployScenario(page: Page): Promise<void> {
  // Back to the notebook (the graph webview has the focus).
  await page.locator('.tabs-container .tab', { hasText: 'digits.ipynb' }).first().click();
  await page.waitForTimeout(500);
  await palette(page, 'Cellflow: Deploy Pipeline to Cluster');
  const input = page.locator('.quick-input-widget:visible input');
  const row = (text: string | RegExp): ReturnType<Page['locator']> =>
    page.locator('.quick-input-widget:visible .monaco-list-row', { hasText: text }).first();
  await row('admin').waitFor({ timeout: 60_000 });
  await input.fill('admin');
  await page.keyboard.press('Enter');
  // Namespace, prefilled.
  await page.waitForFunction(
    () =>
      document.querySelector<HTMLInputElement>('.quick-input-widget input')?.value === 'kubeflow',
    undefined,
    { timeout: 30_000 },
  );
  await page.keyboard.press('Enter');
  // How to deploy: run now (first), upload as a new version, or schedule.
  await row('Run now').waitFor({ timeout: 60_000 });
  await page.keyboard.press('Enter');
  await row('Use the defaults').waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(SHOTS, '5-deploy-parameters.png') });
  await page.keyboard.press('Enter');
  // The cluster run (a KFP run id) is listed, and ends as the test's controller plays it.
  const rows = page.locator('.part.sidebar .monaco-list-row');
  await rows
    .filter({ hasText: /digits [0-9a-f]{8}.*cluster · succeeded/ })
    .first()
    .waitFor({ timeout: 120_000 });
  // The Cluster view shows the context and that Kubeflow Pipelines answers.
  await rows
    .filter({ hasText: 'Kubeflow Pipelines' })
    .filter({ hasText: 'reachable' })
    .first()
    .waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(SHOTS, '6-cluster-run.png') });
}
