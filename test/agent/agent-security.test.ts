/**
 * The agent's security model with real processes: token required (constant-time compared, never in
 * its logs), other origins and non-loopback Host headers refused, loopback-only binding, bounded
 * bodies, and it ends (with its running steps) when its parent dies.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compile } from '@cellflow/core';
import { pipelinePayloadOf, AGENT_READY_PREFIX } from '@cellflow/backend/agent-protocol';
import { notebookJson } from '../support/notebook-json.js';
import { runCliAsync } from '../cli/run-cli.js';
import {
  cliPath,
  descendantsOf,
  startAgentProcess,
  tokenOf,
  type AgentProcess,
} from './agent-process.js';
import { PYTHON } from '../support/paths.js';
import { isRunning } from '../support/processes.js';
import { waitFor } from '../support/wait-for.js';

function rawGet(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/info', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('agent security', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'cellflow-agent-sec-'));
  let agent: AgentProcess;
  let token: string;
  before(async () => {
    agent = await startAgentProcess([
      '--workspace',
      workspace,
      '--allow-origin',
      'http://localhost:8888',
      '--max-body-bytes',
      '4096',
    ]);
    token = tokenOf(agent);
  });
  after(async () => {
    await agent?.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('answers 401 without the token or with a wrong one, and takes `token X` and `Bearer X`', async () => {
    const info = `${agent.baseUrl}info`;
    const none = await fetch(info);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { code: string }).code, 'unauthorized');
    for (const header of [
      `Bearer ${token}x`,
      `token ${token.slice(1)}`,
      'Bearer',
      token,
      `Basic ${token}`,
    ]) {
      const wrong = await fetch(info, { headers: { Authorization: header } });
      assert.equal(wrong.status, 401, header.replace(token, '<token>'));
    }
    const noQueryToken = await fetch(`${info}?token=${token}`);
    assert.equal(noQueryToken.status, 401, 'the token is never taken from the URL');
    for (const scheme of ['token', 'Bearer', 'bearer'])
      assert.equal(
        (await fetch(info, { headers: { Authorization: `${scheme} ${token}` } })).status,
        200,
      );
  });

  it('answers 403 to other origins and to a non-loopback Host (DNS rebinding)', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    const evil = await fetch(`${agent.baseUrl}info`, {
      headers: { ...auth, Origin: 'http://evil.example' },
    });
    assert.equal(evil.status, 403);
    assert.match(((await evil.json()) as { message: string }).message, /--allow-origin/);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    const preflight = await fetch(`${agent.baseUrl}info`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(preflight.status, 403);

    const allowed = await fetch(`${agent.baseUrl}info`, {
      headers: { ...auth, Origin: 'http://localhost:8888' },
    });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://localhost:8888');
    const same = await fetch(`${agent.baseUrl}info`, {
      headers: { ...auth, Origin: `http://127.0.0.1:${agent.ready.port}` },
    });
    assert.equal(same.status, 200);

    const rebound = await rawGet(agent.ready.port, {
      ...auth,
      Host: `attacker.example:${agent.ready.port}`,
    });
    assert.equal(rebound.status, 403);
    const loopback = await rawGet(agent.ready.port, {
      ...auth,
      Host: `localhost:${agent.ready.port}`,
    });
    assert.equal(loopback.status, 200);
  });

  it('answers 413 to a body over the bound, before running anything', async () => {
    const notebook = notebookJson([[['step:big'], `x = "${'a'.repeat(8000)}"`]]);
    const result = compile(notebook, { fileName: 'big.ipynb' });
    const response = await fetch(`${agent.baseUrl}runs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ pipeline: pipelinePayloadOf(result.pipeline!) }),
    });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { code: string }).code, 'payload-too-large');
    const runs = await fetch(`${agent.baseUrl}runs`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.deepEqual(await runs.json(), []);
  });

  it('never writes the token to its logs, except the ready line that hands it to the parent', () => {
    const out = agent.stdout().split('\n');
    const ready = out.filter((l) => l.startsWith(AGENT_READY_PREFIX));
    assert.equal(ready.length, 1);
    assert.ok(ready[0]!.includes(token));
    assert.ok(agent.stderr().includes('GET /api/info 401'), 'requests are logged');
    assert.ok(!agent.stderr().includes(token), 'stderr has no token');
    assert.ok(
      !out
        .filter((l) => !l.startsWith(AGENT_READY_PREFIX))
        .join('\n')
        .includes(token),
    );
  });

  it('refuses to listen anywhere but loopback', async () => {
    for (const host of ['0.0.0.0', '192.168.1.10']) {
      const cli = await runCliAsync(['agent', '--host', host]);
      assert.equal(cli.code, 2, host);
      assert.match(cli.stderr, /only listens on loopback/);
      assert.equal(cli.stdout, '', 'no ready line');
    }
  });

  it('takes its token from the environment or a 0600 token file, and then prints none', async () => {
    const secret = 'environment-token-0123456789abcdef';
    const fromEnv = await startAgentProcess(['--workspace', workspace], {
      env: { ...process.env, CELLFLOW_AGENT_TOKEN: secret },
    });
    try {
      assert.equal(fromEnv.ready.token, undefined);
      const ok = await fetch(`${fromEnv.baseUrl}info`, {
        headers: { Authorization: `token ${secret}` },
      });
      assert.equal(ok.status, 200);
      assert.ok(!fromEnv.stdout().includes(secret) && !fromEnv.stderr().includes(secret));
    } finally {
      await fromEnv.stop();
    }
    const tokenFile = join(workspace, 'agent-token');
    const fromFile = await startAgentProcess(['--workspace', workspace, '--token-file', tokenFile]);
    try {
      assert.equal(fromFile.ready.token, undefined);
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      const written = readFileSync(tokenFile, 'utf8').trim();
      assert.ok(written.length >= 32);
      assert.ok(!fromFile.stdout().includes(written));
      const ok = await fetch(`${fromFile.baseUrl}info`, {
        headers: { Authorization: `Bearer ${written}` },
      });
      assert.equal(ok.status, 200);
    } finally {
      await fromFile.stop();
    }
  });
});

describe('agent lifetime', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'cellflow-agent-life-'));
  after(() => rmSync(workspace, { recursive: true, force: true }));
  const notebookPath = join(workspace, 'sleepy.ipynb');
  writeFileSync(
    notebookPath,
    notebookJson([
      [['step:sleepy'], 'import time\nprint("started", flush=True)\ntime.sleep(120)\nx = 1'],
    ]),
  );

  for (const stdin of ['pipe', 'ignore'] as const) {
    it(`ends with its running steps when its parent is killed (stdin ${stdin === 'pipe' ? 'a pipe' : 'not a pipe: pid watch'})`, async () => {
      // A parent that starts the agent and passes its ready line on, as Jupyter's extension does.
      const parentSource = `
        const { spawn } = require('node:child_process');
        const agent = spawn(process.execPath, ${JSON.stringify([cliPath, 'agent', '--workspace', workspace, '--python', PYTHON])},
          { stdio: ['${stdin}', 'pipe', 'inherit'] });
        agent.stdout.pipe(process.stdout);
        setInterval(() => {}, 1000);`;
      const parent = spawn(process.execPath, ['-e', parentSource], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      parent.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      try {
        await waitFor('ready line', () => out.includes(AGENT_READY_PREFIX), 20_000);
        const line = out.split('\n').find((l) => l.startsWith(AGENT_READY_PREFIX))!;
        const ready = JSON.parse(line.slice(AGENT_READY_PREFIX.length)) as {
          port: number;
          pid: number;
          token: string;
        };
        const base = `http://127.0.0.1:${ready.port}/api/`;
        const auth = { Authorization: `Bearer ${ready.token}` };
        const result = compile(readFileSync(notebookPath), { fileName: 'sleepy.ipynb' });
        const submitted = await fetch(`${base}runs`, {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            pipeline: pipelinePayloadOf(result.pipeline!),
            options: { notebookPath },
          }),
        });
        assert.equal(submitted.status, 201, await submitted.clone().text());
        const run = (await submitted.json()) as { id: string };
        // Wait for the step to print, so its Python process is running.
        const logs = await fetch(`${base}runs/${run.id}/steps/sleepy/logs`, { headers: auth });
        const reader = logs.body!.getReader();
        let text = '';
        while (!text.includes('started')) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        assert.match(text, /started/);
        await reader.cancel();
        const descendants = descendantsOf(ready.pid);
        assert.ok(descendants.length > 0, 'the running step has processes');

        parent.kill('SIGKILL');
        const took = await waitFor(
          'agent and step processes gone',
          () => !isRunning(ready.pid) && descendants.every((pid) => !isRunning(pid)),
          5_000,
        );
        assert.ok(took < 5_000);
      } finally {
        parent.kill('SIGKILL');
      }
    });
  }
});
