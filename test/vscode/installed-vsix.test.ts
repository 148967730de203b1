/**
 * The `.vsix` works alone: `npm run package:vscode` builds it, code-server installs it
 * (`--install-extension`) into a fresh profile (new user-data and extensions folders), and in a
 * workspace that holds only the digits notebook the pipeline runs from the palette to success, with
 * what the package carries and no checkout on any path. Screenshots go to artifacts/vscode/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { environmentWithoutCheckout } from '../support/environment-without-checkout.js';
import { missingHost, REPO, startCodeServer, type CodeServer } from './code-server.js';

const missing = missingHost();
if (missing !== undefined && process.env.CELLFLOW_REQUIRE_CODE_SERVER === '1')
  throw new Error(missing);
const SHOTS = join(REPO, 'artifacts', 'vscode');
const VERSION = (
  JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }
).version;
const VSIX = join(REPO, 'artifacts', `cellflow-${VERSION}.vsix`);

function packageVsix(): void {
  for (const args of [
    [process.execPath, join(REPO, 'node_modules/typescript/bin/tsc'), '-b'],
    [process.execPath, join(REPO, 'node_modules/webpack-cli/bin/cli.js'), '--no-color'],
    ['bash', join(REPO, 'scripts/package-vscode.sh')],
  ]) {
    const [command = '', ...rest] = args;
    const r = spawnSync(command, rest, { cwd: REPO, encoding: 'utf8' });
    assert.equal(r.status, 0, `${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  }
}

describe('VS Code: the installed .vsix', { skip: missing, concurrency: 1 }, () => {
  it('runs digits from the palette in a clean profile', { timeout: 600_000 }, async () => {
    packageVsix();
    mkdirSync(SHOTS, { recursive: true });
    // Nothing in the package points back at this checkout.
    const pointing = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); ' +
          'print(*[n for n in z.namelist() if sys.argv[2].encode() in z.read(n)])',
        VSIX,
        REPO,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(pointing.status, 0, pointing.stderr);
    assert.equal(pointing.stdout.trim(), '', `files naming ${REPO}`);
    const workspace = mkdtempSync(join(tmpdir(), 'cellflow-vsix-'));
    copyFileSync(join(REPO, 'examples/digits.ipynb'), join(workspace, 'digits.ipynb'));
    let server: CodeServer | undefined;
    try {
      server = await startCodeServer({
        workspace,
        install: [VSIX],
        // No cellflow.* setting: the defaults find Debian's Python through PATH.
        settings: {
          'chat.disableAIFeatures': true,
          'workbench.secondarySideBar.defaultVisibility': 'hidden',
        },
        env: environmentWithoutCheckout(REPO),
      });
      const page = await server.open();
      try {
        await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        await page.keyboard.press('Control+P');
        await page.locator('.quick-input-widget:visible input').fill('digits.ipynb');
        await page
          .locator('.quick-input-widget:visible .monaco-list-row', { hasText: 'digits.ipynb' })
          .first()
          .waitFor();
        await page.keyboard.press('Enter');
        // The installed extension is active: its status items are on the cells.
        await page
          .locator('.cell-statusbar-container .cell-status-item', { hasText: 'imports' })
          .first()
          .waitFor({ timeout: 60_000 });
        await page.keyboard.press('F1');
        await page
          .locator('.quick-input-widget:visible input')
          .fill('>Cellflow: Run Pipeline Locally');
        await page
          .locator('.quick-input-widget:visible .monaco-list-row', {
            hasText: 'Cellflow: Run Pipeline Locally',
          })
          .first()
          .waitFor();
        await page.keyboard.press('Enter');
        await page.locator('.part.activitybar .action-label[aria-label*="Cellflow"]').click();
        await page
          .locator('.part.sidebar .monaco-list-row', { hasText: /digits \d.*succeeded/ })
          .first()
          .waitFor({ timeout: 240_000 });
        await page.screenshot({ path: join(SHOTS, 'installed-vsix.png') });
      } catch (error) {
        await page.screenshot({ path: join(SHOTS, 'installed-vsix-failure.png') });
        throw new Error(`${String(error)}\ncode-server log:\n${server.log().slice(-4000)}`);
      }
      // The run is the workspace's, and its steps ran the runtime the package carries.
      const runs = readdirSync(join(workspace, '.cellflow', 'runs'));
      assert.equal(runs.length, 1);
      const run = JSON.parse(
        readFileSync(join(workspace, '.cellflow', 'runs', runs[0] ?? '', 'run.json'), 'utf8'),
      ) as { state: string; pipeline: string; steps: unknown[] };
      assert.equal(run.pipeline, 'digits');
      assert.equal(run.state, 'succeeded');
      assert.equal(run.steps.length, 6);
      assert.ok(!existsSync(join(workspace, 'node_modules')));
    } finally {
      await server?.stop();
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
