/**
 * Issue 19, the agent: ids are checked before any path is built, deeply nested bodies are a 400,
 * the token never reaches what the agent starts, run history is private, and every start-up error
 * ends the process with a non-zero code.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
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
import { compile } from '@cellflow/core';
import { pipelinePayloadOf } from '@cellflow/backend/agent-protocol';
import { notebookJson } from '../support/notebook-json.js';
import { cliPath, startAgentProcess, type AgentProcess } from './agent-process.js';
import { PYTHON } from '../support/paths.js';

const TOKEN = 'issue-19-agent-token-0123456789';

describe('issue 19: the agent under hostile requests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellflow-issue-19-agent-'));
  const workspace = join(dir, 'workspace');
  let agent: AgentProcess;
  const auth = { Authorization: `Bearer ${TOKEN}` };
  before(async () => {
    mkdirSync(workspace);
    // Something outside the workspace a `..` path would reach.
    mkdirSync(join(dir, 'outside/steps/a'), { recursive: true });
    writeFileSync(join(dir, 'outside/steps/a/log.txt'), 'secret outside the workspace\n');
    agent = await startAgentProcess(['--workspace', workspace, '--python', PYTHON], {
      env: { ...process.env, CELLFLOW_AGENT_TOKEN: TOKEN },
    });
  });
  after(async () => {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a URL-encoded `..` run id before any path is built', async () => {
    for (const id of ['..%2F..%2F..%2Foutside', '..%2f..%2foutside', 'a%2Fb', '%00x', '%2E%2E']) {
      const response = await fetch(`${agent.baseUrl}runs/${id}/steps/a/logs`, { headers: auth });
      const text = await response.text();
      assert.doesNotMatch(text, /secret outside/, id);
      // Plain dot segments are resolved by the URL itself and name no route.
      assert.equal(response.status, id === '%2E%2E' ? 404 : 400, id);
    }
  });

  it('refuses a model variable or run id in a body that would leave the workspace', async () => {
    for (const model of [
      { runId: '..', step: 'a', variable: 'x' },
      { runId: 'r', step: '../..', variable: 'x' },
      { runId: 'r', step: 'a', variable: '../../../outside' },
    ]) {
      const response = await fetch(`${agent.baseUrl}endpoints`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model }),
      });
      assert.ok(response.status >= 400 && response.status < 500, JSON.stringify(model));
      assert.doesNotMatch(await response.text(), /secret outside/);
    }
  });

  it('answers a body nested 10,000 levels deep with 400, not 500', async () => {
    const response = await fetch(`${agent.baseUrl}runs`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: `{"pipeline":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { message: string }).message, /nests .* deep/);
  });

  it('steps do not inherit the agent token; history is 0600 files in a 0700 .cellflow', async () => {
    const text = notebookJson([
      [['step:a'], 'import os\nprint("token:", os.environ.get("CELLFLOW_AGENT_TOKEN"))'],
    ]);
    const compiled = compile(text, { fileName: 'env.ipynb' });
    assert.ok(compiled.pipeline !== undefined);
    const response = await fetch(`${agent.baseUrl}runs`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ pipeline: pipelinePayloadOf(compiled.pipeline) }),
    });
    assert.equal(response.status, 201);
    const { id } = (await response.json()) as { id: string };
    const runDir = join(workspace, '.cellflow/runs', id);
    const deadline = Date.now() + 60_000;
    let state = '';
    while (Date.now() < deadline) {
      try {
        state = (JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { state: string })
          .state;
      } catch {
        // not written yet
      }
      if (state === 'succeeded' || state === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(state, 'succeeded');
    const log = readFileSync(join(runDir, 'steps/a/log.txt'), 'utf8');
    assert.match(log, /token: None/);
    assert.doesNotMatch(log, new RegExp(TOKEN));
    assert.equal(statSync(join(workspace, '.cellflow')).mode & 0o777, 0o700);
    for (const file of ['run.json', 'events.jsonl', 'steps/a/log.txt'])
      assert.equal(statSync(join(runDir, file)).mode & 0o777, 0o600, file);
  });
});

describe('issue 19: agent start-up errors end the process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellflow-issue-19-agent-start-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function startAgent(args: string[]): { code: number | null; stderr: string } {
    const run = spawnSync(process.execPath, [cliPath, 'agent', '--workspace', dir, ...args], {
      encoding: 'utf8',
      input: '',
      timeout: 20_000,
      env: { ...process.env, CELLFLOW_AGENT_TOKEN: '' },
    });
    return { code: run.status, stderr: run.stderr };
  }

  it('`--token-file` naming a folder, or a file in a missing folder, exits 1 with the fix', () => {
    const folder = startAgent(['--token-file', dir]);
    assert.equal(folder.code, 1);
    assert.match(folder.stderr, /is a folder/);
    assert.doesNotMatch(folder.stderr, /unexpected error/);
    const missing = startAgent(['--token-file', join(dir, 'no/such/folder/token')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /does not exist\. Fix: create it/);
  });

  it('a bad port or a missing workspace exits with the reason, not a crash', () => {
    const port = startAgent(['--port', '99999']);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /a port is from 0 to 65535/);
    const workspace = startAgent(['--workspace', join(dir, 'missing')]);
    assert.equal(workspace.code, 1);
    assert.match(workspace.stderr, /is not a folder/);
  });

  it('warns about a token file others can read', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o644);
    const agent = await startAgentProcess(['--workspace', dir, '--token-file', tokenFile], {
      env: { ...process.env, CELLFLOW_AGENT_TOKEN: '' },
    });
    try {
      assert.match(agent.stderr(), /token file .* can be read by other users.*chmod 600/);
    } finally {
      await agent.stop();
    }
  });
});
