/**
 * `cellflow agent` over a real LocalBackend: the word-count example through the HTTP API and
 * through `AgentClient` gives exactly the events and log lines the backend itself gives, streams
 * resume after a cut connection without loss or repeats, and refusals come back as typed errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compile, type CompiledPipeline, type StudySpec } from '@cellflow/core';
import {
  BackendError,
  LocalBackend,
  type Backend,
  type RunEvent,
  type StudyEvent,
} from '@cellflow/backend';
import {
  pipelinePayloadOf,
  type AgentErrorBody,
  type AgentInfo,
} from '@cellflow/backend/agent-protocol';
import { AgentClient } from '@cellflow/ui';
import { repoRoot } from '../golden/golden-cases.js';
import { startAgentProcess, tokenOf, type AgentProcess } from './agent-process.js';
import { PYTHON } from '../support/paths.js';

const notebookPath = join(repoRoot, 'examples/word-count.ipynb');

function compileWordCount(): CompiledPipeline {
  const result = compile(readFileSync(notebookPath), { fileName: 'word-count.ipynb' });
  assert.ok(result.pipeline !== undefined, JSON.stringify(result.diagnostics));
  return result.pipeline;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

interface RawEvent {
  readonly id: string | null;
  readonly event: string;
  readonly data: string;
}

/** Reads a whole SSE answer with plain fetch (no client code), to check the wire format itself. */
async function rawEvents(url: string, headers: Record<string, string>): Promise<RawEvent[]> {
  const response = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers } });
  assert.equal(response.status, 200, await response.clone().text());
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.split('\n').some((l) => l.startsWith('data:')))
    .map((block) => {
      const field = (name: string): string | null =>
        block
          .split('\n')
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2) ?? null;
      return { id: field('id'), event: field('event') ?? 'message', data: field('data') ?? '' };
    });
}

describe('cellflow agent over the local backend', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'cellflow-agent-api-'));
  let agent: AgentProcess;
  let client: AgentClient;
  let auth: Record<string, string>;
  const pipeline = compileWordCount();

  before(async () => {
    agent = await startAgentProcess(['--workspace', workspace, '--python', PYTHON]);
    auth = { Authorization: `Bearer ${tokenOf(agent)}` };
    client = new AgentClient({ baseUrl: agent.baseUrl, headers: () => auth });
  });
  after(async () => {
    await agent?.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('says what it drives', async () => {
    const info: AgentInfo = await client.info();
    assert.equal(info.protocol, 3);
    assert.equal(info.target, 'local');
    assert.deepEqual(info.defaultTarget, { kind: 'local' });
    assert.equal(info.workspace, workspace);
    assert.equal(info.context, null);
    const capacity = await client.capacity();
    assert.equal(capacity.target, 'this machine');
    assert.ok(capacity.cpus >= 1);
  });

  it('runs word-count: the client sees the events and log lines the backend records', async () => {
    const run = await client.submit(pipeline, { notebookPath, cache: false });
    assert.match(run.id, /-word-count-/, 'a local run id names its pipeline');
    const events = await collect(client.watch(run));
    const last = events.at(-1)!;
    assert.equal(last.type, 'run');
    assert.equal(last.type === 'run' && last.state, 'succeeded', JSON.stringify(last));
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i),
      'every event once, in order',
    );
    const steps = new Set(events.flatMap((e) => (e.type === 'step' ? [e.step] : [])));
    assert.deepEqual([...steps].sort(), pipeline.graph.steps.map((s) => s.name).sort());

    const direct = new LocalBackend({ workspace, python: PYTHON });
    assert.deepEqual(events, await collect(direct.watch(run)));
    const lines = await collect(client.logs(run, 'report'));
    assert.ok(lines.length > 0, 'the report step prints');
    assert.deepEqual(lines, await collect(direct.logs(run, 'report')));

    const runs = await client.listRuns({ pipeline: 'word-count', limit: 5 });
    assert.equal(runs[0]?.id, run.id);
    assert.deepEqual(runs, await direct.listRuns({ pipeline: 'word-count', limit: 5 }));
    // One run by id (issue 15): what the backend says of it, and run-not-found for no run.
    const one = await client.getRun(run);
    assert.equal(one.pipeline, 'word-count');
    assert.equal(one.state, 'succeeded');
    assert.deepEqual(one, await direct.getRun(run));
    await assert.rejects(
      client.getRun({ id: 'no-such-run' }),
      (error: unknown) => error instanceof BackendError && error.code === 'run-not-found',
    );
    const local: Backend = direct;
    assert.deepEqual(
      [local.target.kind, local.target.description, local.target.runUrl(run), local.cluster],
      ['local', 'this machine', null, undefined],
    );
  });

  it("gives a run's executed notebook as the backend builds it; an unknown run is not found (issue 18)", async () => {
    const run = await client.submit(pipeline, { notebookPath, cache: false });
    await collect(client.watch(run));
    const notebook = await client.executedNotebook(run);
    const direct = new LocalBackend({ workspace, python: PYTHON });
    assert.deepEqual(notebook, await direct.executedNotebook(run));
    const ran = notebook.cells.filter((c) => typeof c['execution_count'] === 'number');
    assert.ok(ran.length > 0, 'cells that ran have a count');
    assert.ok(
      ran.some((c) => JSON.stringify(c['outputs']).includes('"output_type":"stream"')),
      'a printing cell keeps what it printed',
    );
    await assert.rejects(
      client.executedNotebook({ id: 'no-such-run' }),
      (error: unknown) => error instanceof BackendError && error.code === 'run-not-found',
    );
  });

  it('streams SSE with id = seq, and Last-Event-ID resumes right after it', async () => {
    const run = await client.submit(pipeline, { notebookPath });
    const all = await collect(client.watch(run));
    const url = `${agent.baseUrl}runs/${run.id}/events`;
    const whole = await rawEvents(url, auth);
    assert.equal(whole.at(-1)?.event, 'end');
    const wire = whole.filter((e) => e.event === 'run-event');
    assert.deepEqual(
      wire.map((e) => Number(e.id)),
      wire.map((e) => (JSON.parse(e.data) as RunEvent).seq),
    );
    assert.deepEqual(
      wire.map((e) => JSON.parse(e.data) as RunEvent),
      all,
    );
    const resumed = await rawEvents(url, { ...auth, 'Last-Event-ID': '2' });
    assert.deepEqual(
      resumed.filter((e) => e.event === 'run-event').map((e) => JSON.parse(e.data) as RunEvent),
      all.slice(3),
    );
    const bad = await fetch(url, { headers: { ...auth, 'Last-Event-ID': 'x' } });
    assert.equal(bad.status, 400);
  });

  it('AgentClient reconnects after a cut connection and loses or repeats nothing', async () => {
    // A proxy that passes two events of the first stream, then cuts it.
    const seenLastEventIds: (string | undefined)[] = [];
    let streams = 0;
    const target = new URL(agent.baseUrl);
    const proxy: Server = createServer((req, res) => {
      const isStream = (req.url ?? '').includes('/events');
      const cut = isStream && streams++ === 0;
      if (isStream) seenLastEventIds.push(req.headers['last-event-id'] as string | undefined);
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          let buffered = '';
          let passed = 0;
          up.setEncoding('utf8').on('data', (chunk: string) => {
            if (!cut) return void res.write(chunk);
            buffered += chunk;
            let end: number;
            while ((end = buffered.indexOf('\n\n')) !== -1) {
              const block = buffered.slice(0, end + 2);
              buffered = buffered.slice(end + 2);
              res.write(block);
              if (block.includes('\nevent: run-event') && ++passed === 2) {
                // Flush what was written, then close the socket without ending the response.
                up.destroy();
                res.socket?.end();
                return;
              }
            }
          });
          up.on('end', () => res.end());
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const viaProxy = new AgentClient({
        baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api/`,
        headers: () => auth,
        reconnectDelayMs: 50,
      });
      const run = await viaProxy.submit(pipeline, { notebookPath, cache: false });
      const events = await collect(viaProxy.watch(run));
      assert.equal(streams, 2, 'one reconnect');
      assert.deepEqual(seenLastEventIds, [undefined, '1']);
      assert.deepEqual(events, await collect(client.watch(run)));
      assert.deepEqual(
        events.map((e) => e.seq),
        events.map((_, i) => i),
      );
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('tunes through the agent: study events stream live, resume by index, and end with the summary', async () => {
    const spec: StudySpec = {
      objective: 'distinct-words',
      goal: 'maximize',
      additionalMetrics: [],
      algorithm: 'grid',
      algorithmSettings: {},
      parameters: [{ name: 'MIN_LENGTH', type: 'discrete', values: [3, 6] }],
      maxTrials: 2,
      parallelTrials: 1,
      maxFailedTrials: 1,
    };
    const study = await client.tune(pipeline, spec, { notebookPath });
    assert.deepEqual(Object.keys(study), ['id'], 'a study is named by its id alone (issue 15)');
    const events = await collect(client.watchStudy(study));
    assert.equal(events[0]?.type, 'study');
    const last = events.at(-1)!;
    assert.equal(last.type, 'study');
    const summary = last.study;
    assert.equal(summary.state, 'succeeded', summary.reason);
    assert.equal(summary.counts.succeeded, 2);
    assert.ok(events.some((e) => e.type === 'trial'));
    // The study's history may be written a moment after its last event: wait for it to settle.
    let listed = (await client.listStudies()).find((s) => s.id === study.id);
    for (let i = 0; i < 50 && listed?.state === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      listed = (await client.listStudies()).find((s) => s.id === study.id);
    }
    assert.equal(listed?.state, 'succeeded');
    assert.equal(listed.best?.id, summary.best?.id);

    const url = `${agent.baseUrl}studies/${study.id}/events`;
    const again = await rawEvents(url, auth);
    assert.deepEqual(
      again.filter((e) => e.event === 'study-event').map((e) => JSON.parse(e.data) as StudyEvent),
      events,
      'a second reader gets the same stream',
    );
    const resumed = await rawEvents(url, { ...auth, 'Last-Event-ID': String(events.length - 2) });
    assert.deepEqual(
      resumed.filter((e) => e.event === 'study-event').map((e) => Number(e.id)),
      [events.length - 1],
    );
  });

  it('refuses a bad study with a 400 naming the field and the fix, before anything starts (issue 15)', async () => {
    const good: StudySpec = {
      objective: 'distinct-words',
      goal: 'maximize',
      additionalMetrics: [],
      algorithm: 'grid',
      algorithmSettings: {},
      parameters: [{ name: 'MIN_LENGTH', type: 'discrete', values: [3, 6] }],
      maxTrials: 2,
      parallelTrials: 1,
      maxFailedTrials: 1,
    };
    const post = async (study: unknown): Promise<{ status: number; body: AgentErrorBody }> => {
      const response = await fetch(`${agent.baseUrl}studies`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ pipeline: pipelinePayloadOf(pipeline), study }),
      });
      return { status: response.status, body: (await response.json()) as AgentErrorBody };
    };
    const before = (await client.listStudies()).length;

    const inverted = await post({
      ...good,
      parameters: [{ name: 'MIN_LENGTH', type: 'int', min: 6, max: 3 }],
    });
    assert.equal(inverted.status, 400);
    assert.equal(inverted.body.code, 'invalid-study');
    assert.equal(
      inverted.body.message,
      'The study cannot run: `study`: parameter `MIN_LENGTH` has min 6 above max 3. Fix: swap them.',
    );
    assert.deepEqual(
      inverted.body.diagnostics?.map((d) => [d.severity, d.code]),
      [['error', 'bad-study']],
    );

    const unknown = await post({ ...good, objective: 'words', maxTrials: 'lots' });
    assert.equal(unknown.status, 400);
    assert.match(
      unknown.body.message,
      /`study`: the objective `words` is not a pipeline metric\. Fix: use one of `total-words`, `distinct-words`, `top-count`\. `study`: `maxTrials` must be a whole number >= 1; it is "lots"\./,
    );
    const missing = await post(undefined);
    assert.equal(missing.status, 400);
    assert.match(missing.body.message, /`study` is not an object\. Fix: make it a JSON object/);

    await assert.rejects(
      client.tune(pipeline, { ...good, algorithm: 'hillclimb' as StudySpec['algorithm'] }),
      (error: unknown) =>
        error instanceof BackendError &&
        error.code === 'invalid-study' &&
        /the algorithm "hillclimb" is not known\. Fix: use one of `random`, `grid`/.test(
          error.message,
        ),
    );
    assert.equal((await client.listStudies()).length, before, 'no study was started');
  });

  it('refuses uploads and schedules: they need Kubeflow Pipelines (issue 14)', async () => {
    const needsCluster = (error: unknown): boolean =>
      error instanceof BackendError &&
      error.code === 'not-supported' &&
      /need Kubeflow Pipelines; this request's target is this machine\. Fix: name a cluster target/.test(
        error.message,
      );
    await assert.rejects(client.upload(pipeline), needsCluster);
    await assert.rejects(client.schedule(pipeline, { trigger: '1h', upload: true }), needsCluster);
    await assert.rejects(client.listSchedules(), needsCluster);
  });

  it('refuses a graph that does not match its notebook, and unknown runs, with typed errors', async () => {
    const payload = pipelinePayloadOf(pipeline);
    const tampered = {
      ...payload,
      graph: {
        ...payload.graph,
        steps: payload.graph.steps.map((s, i) => (i === 0 ? { ...s, name: 'evil' } : s)),
      },
    };
    const response = await fetch(`${agent.baseUrl}runs`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ pipeline: tampered }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, 'invalid-pipeline');
    assert.match(body.message, /does not match its notebook/);

    const notJson = await fetch(`${agent.baseUrl}runs`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: '{nope',
    });
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as { code: string }).code, 'bad-request');

    await assert.rejects(
      collect(client.watch({ id: 'no-such-run' })),
      (error: unknown) => error instanceof BackendError && error.code === 'run-not-found',
    );
    await assert.rejects(
      client.cancel({ id: 'no-such-run' }),
      (error: unknown) => error instanceof BackendError && error.code === 'run-not-found',
    );
    const noEndpoint = await fetch(`${agent.baseUrl}endpoints/nope/predict`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: '{"instances": [[1]]}',
    });
    assert.equal(noEndpoint.status, 404);
    assert.match(((await noEndpoint.json()) as { message: string }).message, /No endpoint "nope"/);
    const unknown = await fetch(`${agent.baseUrl}nothing-here`, { headers: auth });
    assert.equal(unknown.status, 404);
    const wrongMethod = await fetch(`${agent.baseUrl}capacity`, { method: 'POST', headers: auth });
    assert.equal(wrongMethod.status, 405);
  });
});
