/**
 * Issue 20: a run asking for GPUs this machine lacks is refused with the way out of whoever asks.
 * Through `cellflow agent` (what the JupyterLab plugin talks to) the refusal names the editors'
 * Run without GPUs and no command-line flag (`cellflow run` names `--cpu-only`: run-command.test.ts),
 * and then runs the notebook without GPUs when asked to.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compile } from '@cellflow/core';
import { BackendError, type RunEvent } from '@cellflow/backend';
import { AgentClient } from '@cellflow/ui';
import { notebookJson } from '../support/notebook-json.js';
import { PYTHON } from '../support/paths.js';
import { startAgentProcess, tokenOf, type AgentProcess } from './agent-process.js';

// More GPUs than any machine running these tests has.
const GPU_NOTEBOOK = notebookJson([[['step:train', 'gpu:64'], 'trained = 1']]);

describe('the refusal of GPU steps names the way out of whoever asks (issue 20)', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'cellflow-gpu-refusal-'));
  const notebookPath = join(workspace, 'gpu.ipynb');
  let agent: AgentProcess;
  let client: AgentClient;

  before(async () => {
    writeFileSync(notebookPath, GPU_NOTEBOOK);
    agent = await startAgentProcess(['--workspace', workspace, '--python', PYTHON]);
    const auth = { Authorization: `Bearer ${tokenOf(agent)}` };
    client = new AgentClient({ baseUrl: agent.baseUrl, headers: () => auth });
  });
  after(async () => {
    await agent?.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('through the agent: Run without GPUs, no --cpu-only; then it runs without GPUs', async () => {
    const compiled = compile(Buffer.from(GPU_NOTEBOOK), { fileName: 'gpu.ipynb' });
    assert.ok(compiled.pipeline !== undefined, JSON.stringify(compiled.diagnostics));
    await assert.rejects(client.submit(compiled.pipeline, { notebookPath }), (error: unknown) => {
      assert.ok(error instanceof BackendError, String(error));
      assert.equal(error.code, 'gpu-unavailable');
      assert.match(error.message, /^Not started: Step `train` asks for 64 × nvidia\.com\/gpu/);
      assert.match(
        error.message,
        /Or run those steps here without GPUs: choose Run without GPUs\.$/,
      );
      assert.doesNotMatch(error.message, /--cpu-only/);
      return true;
    });
    const run = await client.submit(compiled.pipeline, { notebookPath, cpuOnly: true });
    const events: RunEvent[] = [];
    for await (const event of client.watch(run)) events.push(event);
    const last = events.at(-1);
    assert.equal(last?.type === 'run' && last.state, 'succeeded', JSON.stringify(last));
  });
});
