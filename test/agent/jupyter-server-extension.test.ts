/**
 * The cellflow_jupyter server extension in a real Jupyter server (Debian's jupyter_server): it
 * starts the agent, proxies /cellflow/api/* only to requests Jupyter authenticated, streams a run's
 * events through unbuffered, never shows the agent's token, and stops the agent with the server.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compile } from '@cellflow/core';
import { type RunEvent } from '@cellflow/backend';
import { AgentClient } from '@cellflow/ui';
import { freePort } from '../cluster/processes.js';
import { repoRoot } from '../golden/golden-cases.js';
import { notebookJson } from '../support/notebook-json.js';
import { descendantsOf } from './agent-process.js';
import { PYTHON } from '../support/paths.js';
import { isRunning } from '../support/processes.js';
import { waitFor } from '../support/wait-for.js';

const EXTENSION_DIR = join(repoRoot, 'packages/jupyterlab/jupyter_server_extension');

function missingJupyter(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import jupyter_server'], { encoding: 'utf8' });
  return probe.status === 0
    ? undefined
    : 'jupyter_server is missing for /usr/bin/python3: run `bash scripts/setup-machine.sh`';
}
const missing = missingJupyter();
if (missing !== undefined && process.env.CELLFLOW_REQUIRE_JUPYTERLAB === '1')
  throw new Error(missing);

function agentPidOf(serverPid: number): number | undefined {
  return descendantsOf(serverPid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('agent');
    } catch {
      return false;
    }
  });
}

describe('Jupyter server extension cellflow_jupyter', { skip: missing, timeout: 180_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'cellflow-jupyter-ext-'));
  const root = join(home, 'root');
  const token = `jupyter-${Math.random().toString(36).slice(2)}${Date.now()}`;
  let server: ChildProcess;
  let url: string;
  let log = '';

  before(async () => {
    for (const d of ['root', 'config', 'data', 'runtime'])
      mkdirSync(join(home, d), { recursive: true });
    copyFileSync(join(repoRoot, 'examples/word-count.ipynb'), join(root, 'word-count.ipynb'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(
      PYTHON,
      [
        '-m',
        'jupyter_server',
        `--port=${port}`,
        '--ip=127.0.0.1',
        '--no-browser',
        ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
        `--ServerApp.token=${token}`,
        `--ServerApp.root_dir=${root}`,
        '--ServerApp.jpserver_extensions=cellflow_jupyter=True',
        '--CellflowAgent.python=/usr/bin/python3',
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          PYTHONPATH: EXTENSION_DIR,
          CELLFLOW_NODE: process.execPath,
          JUPYTER_CONFIG_DIR: join(home, 'config'),
          JUPYTER_DATA_DIR: join(home, 'data'),
          JUPYTER_RUNTIME_DIR: join(home, 'runtime'),
          JUPYTER_PLATFORM_DIRS: '1',
          HOME: home,
        },
      },
    );
    server.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor(
      'jupyter server up',
      async () => {
        if (server.exitCode !== null) throw new Error(`jupyter server exited:\n${log}`);
        try {
          return (await fetch(`${url}/api/status?token=${token}`)).ok;
        } catch {
          return false;
        }
      },
      60_000,
    );
  });
  after(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
    const agent = server.pid !== undefined ? agentPidOf(server.pid) : undefined;
    if (agent !== undefined) process.kill(agent, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  it('answers only requests Jupyter authenticated', async () => {
    const anonymous = await fetch(`${url}/cellflow/api/info`, { redirect: 'manual' });
    assert.ok([401, 403].includes(anonymous.status), `anonymous: ${anonymous.status}`);
    const wrong = await fetch(`${url}/cellflow/api/info`, {
      headers: { Authorization: 'token not-the-token' },
      redirect: 'manual',
    });
    assert.ok([401, 403].includes(wrong.status), `wrong token: ${wrong.status}`);
    const info = await fetch(`${url}/cellflow/api/info`, {
      headers: { Authorization: `token ${token}` },
    });
    assert.equal(info.status, 200, await info.clone().text());
    const body = (await info.json()) as { target: string; workspace: string };
    assert.equal(body.target, 'local');
    assert.equal(body.workspace, root);
    // The agent's own errors come through as they are.
    const missingAgentRoute = await fetch(`${url}/cellflow/api/nothing`, {
      headers: { Authorization: `token ${token}` },
    });
    assert.equal(missingAgentRoute.status, 404);
    assert.equal(((await missingAgentRoute.json()) as { code: string }).code, 'not-found');
  });

  it('runs word-count through the proxy with live SSE, and never shows the agent token', async () => {
    const client = new AgentClient({
      baseUrl: `${url}/cellflow/api/`,
      headers: () => ({ Authorization: `token ${token}` }),
    });
    const result = compile(readFileSync(join(root, 'word-count.ipynb')), {
      fileName: 'word-count.ipynb',
    });
    const run = await client.submit(result.pipeline!, {
      notebookPath: 'word-count.ipynb',
      cache: false,
    });
    const events: RunEvent[] = [];
    for await (const event of client.watch(run)) events.push(event);
    const last = events.at(-1)!;
    assert.equal(last.type === 'run' && last.state, 'succeeded', JSON.stringify(last));
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i),
    );
    const lines = [];
    for await (const line of client.logs(run, 'report')) lines.push(line);
    assert.ok(lines.length > 0);

    const resumed = await fetch(`${url}/cellflow/api/runs/${run.id}/events`, {
      headers: { Authorization: `token ${token}`, 'Last-Event-ID': String(events.length - 2) },
    });
    assert.equal(resumed.headers.get('content-type')?.startsWith('text/event-stream'), true);
    const text = await resumed.text();
    assert.deepEqual(
      [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1])),
      [events.length - 1],
    );

    const agent = agentPidOf(server.pid!);
    assert.ok(agent !== undefined, 'the agent runs as a child of the server');
    const agentToken = readFileSync(`/proc/${agent}/environ`, 'utf8')
      .split('\0')
      .find((e) => e.startsWith('CELLFLOW_AGENT_TOKEN='))!
      .slice('CELLFLOW_AGENT_TOKEN='.length);
    assert.ok(agentToken.length >= 32);
    assert.notEqual(agentToken, token);
    assert.ok(!log.includes(agentToken), 'the server log never shows the agent token');
    assert.ok(!text.includes(agentToken));
    const cmdline = readFileSync(`/proc/${agent}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(agentToken), 'nor does the command line (ps)');
  });

  it('streams events through the proxy as they happen, not when the stream ends', async () => {
    const client = new AgentClient({
      baseUrl: `${url}/cellflow/api/`,
      headers: () => ({ Authorization: `token ${token}` }),
    });
    // A run that lasts about 2 s, so live events are spread over time; a buffering proxy would
    // hand them all over at once when the stream ends.
    const paced = compile(
      notebookJson(
        [
          [['step:first'], 'import time\ntime.sleep(1.0)\nx = 1'],
          [['step:second'], 'import time\ntime.sleep(1.0)\ny = x + 1'],
        ],
        { cellflow: { name: 'paced' } },
      ),
    ).pipeline!;
    const run = await client.submit(paced, { cache: false });
    const arrivals: number[] = [];
    for await (const event of client.watch(run)) {
      void event;
      arrivals.push(Date.now());
    }
    assert.ok(
      arrivals.at(-1)! - arrivals[0]! > 1000,
      `events arrived within ${arrivals.at(-1)! - arrivals[0]!} ms`,
    );
  });

  it('stops the agent when Jupyter stops', async () => {
    const agent = agentPidOf(server.pid!);
    assert.ok(agent !== undefined);
    server.kill('SIGTERM');
    const took = await waitFor(
      'agent gone',
      () => !isRunning(agent) && server.exitCode !== null,
      15_000,
    );
    assert.ok(took < 15_000);
    assert.match(log, /Cellflow: stopping agent/);
  });
});
