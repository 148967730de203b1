/**
 * Runs the mocha suite in `suite/` inside a real VS Code extension host, with this repository as
 * the extension under development, through `@vscode/test-electron`'s `runTests`; the VS Code it
 * starts is code-server with the smoke-test driver in headless Chromium (run-vscode-suite.ts).
 * Skipped with a message when code-server is not installed, unless CELLFLOW_REQUIRE_CODE_SERVER=1
 * (set by .ci/run).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildExtensionAndSuite } from './build-extension.js';
import { missingHost, REPO } from './code-server.js';
import { runVscodeSuite } from './run-vscode-suite.js';
import { vscodeSession } from './vscode-session.js';

/** A desktop VS Code runTests downloads (`1.95.0`, `stable`) instead of code-server. */
const desktop = process.env.CELLFLOW_VSCODE_VERSION ?? '';
const missing = desktop !== '' ? undefined : missingHost();
if (missing !== undefined && process.env.CELLFLOW_REQUIRE_CODE_SERVER === '1')
  throw new Error(missing);

describe('VS Code extension in code-server', { skip: missing }, () => {
  const session = vscodeSession('cellflow-vscode-ws-');
  const { work } = session;

  it('passes the in-host suite: tags, diagnostics, a local run', { timeout: 600_000 }, async () => {
    const t0 = Date.now();
    buildExtensionAndSuite();
    const buildMs = Date.now() - t0;
    for (const name of ['digits.ipynb', 'tagging.ipynb'])
      copyFileSync(join(REPO, 'examples/digits.ipynb'), join(work, name));
    const resultsFile = join(work, 'results.json');
    // The cluster tests deploy to a real kube-apiserver with the KFP double.
    const { settings, env } = await session.withCluster(
      { 'cellflow.python': '/usr/bin/python3' },
      { CELLFLOW_TEST_RESULTS: resultsFile },
    );
    // VS Code ends when the suite does (code-server stopped with it).
    const { code, log } = await runVscodeSuite({ workspace: work, settings, env });
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
      passed: string[];
      failed: { title: string; error: string }[];
      measurements: Record<string, number>;
    };
    console.log(
      `VS Code suite: ${results.passed.length} passed in ${Date.now() - t0} ms (build ${buildMs} ms); ` +
        `activation ${results.measurements.activationWallMs?.toFixed(1)} ms (activate() ${results.measurements.activationMs?.toFixed(1)} ms), ` +
        `digits run ${results.measurements.digitsRunMs} ms`,
    );
    // The failures first: CI shows only the start of a failed assertion's message.
    const failures = results.failed.map((f) => `FAILED: ${f.title}\n${f.error}`).join('\n\n');
    const context = `${failures}\n--- host log ---\n${log.slice(-8000)}`;
    assert.deepEqual(results.failed, [], context);
    assert.equal(code, 0, context);
    assert.ok(results.passed.length >= 3);

    // Issue 20: a local model server started from VS Code goes with it. VS Code's end (code-server
    // stopped: SIGTERM to its process group) ends the extension host; the server, in a process
    // group of its own, must stop listening and remove its temp folder.
    const left = JSON.parse(readFileSync(join(work, 'left-serving.json'), 'utf8')) as {
      port: number;
      folder: string;
    };
    const { port, folder } = left;
    const deadline = Date.now() + 10_000;
    while ((await answers(port)) || existsSync(folder)) {
      assert.ok(
        Date.now() < deadline,
        `10 s after code-server stopped, port ${port} ${(await answers(port)) ? 'still answers' : 'is closed'} and ${folder} ${existsSync(folder) ? 'is still there' : 'is gone'}`,
      );
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it(
    'in an untrusted workspace: run, deploy, tune and serve refuse; read-only features work',
    {
      timeout: 300_000,
      // runTests always passes --disable-workspace-trust to a desktop VS Code.
      skip: desktop !== '' ? 'restricted mode is tested in code-server' : false,
    },
    async () => {
      const untrusted = mkdtempSync(join(tmpdir(), 'cellflow-vscode-untrusted-'));
      copyFileSync(join(REPO, 'examples/digits.ipynb'), join(untrusted, 'digits.ipynb'));
      const resultsFile = join(untrusted, 'results.json');
      try {
        const { code, log } = await runVscodeSuite({
          workspace: untrusted,
          untrusted: true,
          settings: { 'cellflow.python': '/usr/bin/python3' },
          env: { CELLFLOW_TEST_RESULTS: resultsFile, CELLFLOW_TEST_SUITE: 'untrusted' },
        });
        const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
          passed: string[];
          failed: { title: string; error: string }[];
        };
        assert.deepEqual(results.failed, [], log.slice(-4000));
        assert.equal(code, 0);
        assert.equal(results.passed.length, 3);
      } finally {
        rmSync(untrusted, { recursive: true, force: true });
      }
    },
  );
});

/** Whether something answers HTTP on loopback `port`. */
async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/v2/health/live`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}
