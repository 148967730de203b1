/**
 * Runs the in-host mocha suite (suite/) the way VS Code extensions run theirs: through
 * `@vscode/test-electron`'s `runTests`. Here its `vscodeExecutablePath` is code-server-launcher,
 * which plays VS Code with code-server in headless Chromium; on a desktop, set
 * CELLFLOW_VSCODE_VERSION (`1.95.0`, the manifest's minimum engine, or `stable`) and runTests
 * downloads that VS Code and runs the same suite in it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTests, TestRunFailedError } from '@vscode/test-electron';
import { SUITE_DIR } from './build-extension.js';
import { REPO } from './code-server.js';

/** The "VS Code executable" that starts code-server (see code-server-launcher.ts). */
export const CODE_SERVER_LAUNCHER = join(REPO, 'test/vscode/code-server-launcher');

export interface VscodeSuiteOptions {
  /** The folder VS Code opens. */
  readonly workspace: string;
  /** User settings. */
  readonly settings?: Record<string, unknown>;
  /** Environment of the extension host (the suite reads CELLFLOW_TEST_* from it). */
  readonly env?: NodeJS.ProcessEnv;
  /** Workspace trust on and the folder not trusted (code-server only). */
  readonly untrusted?: boolean;
}

export interface VscodeSuiteRun {
  /** VS Code's exit code: 0 when every test passed. */
  readonly code: number;
  /** What the workbench and code-server logged (code-server only), for failure messages. */
  readonly log: string;
}

export async function runVscodeSuite(options: VscodeSuiteOptions): Promise<VscodeSuiteRun> {
  const scratch = mkdtempSync(join(tmpdir(), 'cellflow-vscode-run-'));
  const logFile = join(scratch, 'host.log');
  const version = process.env.CELLFLOW_VSCODE_VERSION;
  // A desktop VS Code reads the settings from its profile; the launcher from the environment.
  mkdirSync(join(scratch, 'user-data', 'User'), { recursive: true });
  writeFileSync(
    join(scratch, 'user-data', 'User', 'settings.json'),
    JSON.stringify(options.settings ?? {}),
  );
  try {
    let code: number;
    try {
      code = await runTests({
        ...(version === undefined || version === ''
          ? { vscodeExecutablePath: CODE_SERVER_LAUNCHER }
          : { version }),
        extensionDevelopmentPath: REPO,
        extensionTestsPath: join(SUITE_DIR, 'index.js'),
        launchArgs: [
          options.workspace,
          `--user-data-dir=${join(scratch, 'user-data')}`,
          `--extensions-dir=${join(scratch, 'extensions')}`,
        ],
        extensionTestsEnv: {
          ...options.env,
          CELLFLOW_NODE: process.execPath,
          CELLFLOW_CODE_SERVER_SETTINGS: JSON.stringify(options.settings ?? {}),
          CELLFLOW_CODE_SERVER_UNTRUSTED: options.untrusted === true ? '1' : '0',
          CELLFLOW_CODE_SERVER_LOG: logFile,
        },
      });
    } catch (error) {
      if (!(error instanceof TestRunFailedError)) throw error;
      code = error.code ?? 1;
    }
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8');
    } catch {
      // A desktop VS Code writes no such log.
    }
    return { code, log };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
