/**
 * How KubeflowBackend behaves when things go wrong, against the real API server and the KFP double:
 * bad credentials, KFP answering 5xx, answers lost after the work was done, slow answers, watch
 * connections the server ends mid-run, and connections to the API server that drop. A small
 * fault-injecting proxy sits in front of the KFP double, a TCP one in front of the API server.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { KubeflowBackend, type RunEvent } from '@cellflow/backend';
import { compile, type CompiledPipeline } from '@cellflow/core';
import { parse, stringify } from 'yaml';
import { describeWithCluster } from '../../../test/cluster/cluster-suite.js';
import { ControllerDriver } from '../../../test/cluster/controller-driver.js';
import { startKfpDouble, type KfpDouble } from '../../../test/cluster/kfp-double/index.js';
import { notebookJson } from '../../../test/support/notebook-json.js';

type Fault = 'forward' | 'fail-503' | 'lose-answer' | { delayMs: number };

/** Forwards to the KFP double; `plan` decides, per request, what goes wrong. */
async function faultProxy(
  target: string,
  plan: (method: string, path: string) => Fault,
  record?: (req: IncomingMessage) => void,
): Promise<{ url: string; server: Server }> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    record?.(req);
    const fault = plan(req.method ?? 'GET', req.url ?? '/');
    if (fault === 'fail-503') {
      res
        .writeHead(503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code: 14, message: 'upstream connect error' }));
      return;
    }
    const forward = (): void => {
      const out = request(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          if (fault === 'lose-answer') {
            answer.resume();
            answer.on('end', () => req.socket.destroy());
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      // The client may be gone by now (timed out, or the proxy lost its answer on purpose).
      out.on('error', () => res.destroy());
      res.on('error', () => out.destroy());
      req.pipe(out);
    };
    if (typeof fault === 'object') setTimeout(forward, fault.delayMs);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`,
    server,
  };
}

/**
 * Forwards TCP to `target` (the API server; TLS passes through untouched). `drop()` cuts every
 * open connection; while `refusing`, new connections are closed at once.
 */
async function tcpProxy(target: string): Promise<{
  url: string;
  drop: () => void;
  refuse: (on: boolean) => void;
  connections: () => number;
  close: () => void;
}> {
  const upstream = new URL(target);
  const open = new Set<Socket>();
  let refusing = false;
  let accepted = 0;
  const server = createTcpServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    accepted++;
    const out = connect(Number(upstream.port), upstream.hostname);
    open.add(client).add(out);
    const end = (): void => {
      client.destroy();
      out.destroy();
      open.delete(client);
      open.delete(out);
    };
    client.on('error', end).on('close', end);
    out.on('error', end).on('close', end);
    client.pipe(out).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `https://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`,
    drop: () => {
      for (const socket of open) socket.destroy();
    },
    refuse: (on) => {
      refusing = on;
    },
    connections: () => accepted,
    close: () => {
      for (const socket of open) socket.destroy();
      server.close();
    },
  };
}

function tiny(name: string): CompiledPipeline {
  const result = compile(
    notebookJson(
      [
        [['step:first'], 'x = 1'],
        [['step:second'], 'y = x + 1'],
      ],
      { cellflow: { name } },
    ),
  );
  assert.ok(result.pipeline);
  return result.pipeline;
}

describeWithCluster('KubeflowBackend failure behaviour', (ctx) => {
  let kfp: KfpDouble;
  let driver: ControllerDriver;
  const servers: Server[] = [];
  before(async () => {
    kfp = await startKfpDouble(ctx.cluster());
    driver = new ControllerDriver(ctx.cluster());
  });
  after(async () => {
    for (const s of servers) s.close();
    await kfp.stop();
  });

  const through = async (
    plan: (method: string, path: string) => Fault,
    extra: { timeoutMs?: number } = {},
  ): Promise<KubeflowBackend> => {
    const proxy = await faultProxy(kfp.url, plan);
    servers.push(proxy.server);
    return KubeflowBackend.connect({
      kubeconfig: ctx.cluster().kubeconfigPath,
      context: 'admin',
      namespace: 'kubeflow',
      kfp: { endpoint: proxy.url, ...extra },
    });
  };
  const runsNamed = (name: string): number =>
    [...kfp.store.runs.values()].filter((r) =>
      JSON.stringify(r.pipeline_spec).includes(`"name":"${name}"`),
    ).length;

  it('rejected credentials say so (401), with no token in the message', async () => {
    const config = parse(readFileSync(ctx.cluster().kubeconfigPath, 'utf8')) as {
      users: { user: { token?: string } }[];
    };
    for (const u of config.users) u.user.token = 'not-a-valid-token';
    const path = join(ctx.cluster().dir, 'bad-token.kubeconfig');
    writeFileSync(path, stringify(config));
    const backend = await KubeflowBackend.connect({
      kubeconfig: path,
      context: 'admin',
      kfp: { endpoint: kfp.url },
    });
    await assert.rejects(backend.capacity(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'unauthorized');
      assert.match(e.message, /did not accept your credentials .* \(401 Unauthorized\)/);
      assert.doesNotMatch(e.message, /not-a-valid-token/);
      return true;
    });
  });

  it('KFP answering 503 is retried with backoff, and makes exactly one run', async () => {
    let failures = 2;
    const backend = await through((method, path) =>
      method === 'POST' && path.endsWith('/runs') && failures-- > 0 ? 'fail-503' : 'forward',
    );
    const run = await backend.submit(tiny('retried'));
    assert.ok(run.id);
    assert.equal(runsNamed('retried'), 1);
  });

  it('an answer lost after KFP made the run: the run is found, not made twice', async () => {
    let lose = 1;
    const backend = await through((method, path) =>
      method === 'POST' && path.endsWith('/runs') && lose-- > 0 ? 'lose-answer' : 'forward',
    );
    const run = await backend.submit(tiny('lost-answer'));
    assert.equal(runsNamed('lost-answer'), 1);
    assert.ok(kfp.store.runs.has(run.id));
  });

  it('KFP down for good: a clear error after bounded retries, and no run', async () => {
    const backend = await through((method, path) =>
      path.includes('/runs') ? 'fail-503' : 'forward',
    );
    const t0 = Date.now();
    await assert.rejects(backend.submit(tiny('never')), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'cluster-error');
      assert.match(e.message, /HTTP 503: upstream connect error/);
      return true;
    });
    assert.ok(Date.now() - t0 < 20_000, 'bounded');
    assert.equal(runsNamed('never'), 0);
  });

  it('slow answers time out instead of hanging', async () => {
    const backend = await through((method) => (method === 'GET' ? { delayMs: 3000 } : 'forward'), {
      timeoutMs: 300,
    });
    const t0 = Date.now();
    await assert.rejects(backend.listRuns(), /no answer within 300 ms/);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  });

  it('multi-user endpoint: a service-account token for pipelines.kubeflow.org is requested and sent', async () => {
    const seen: (string | undefined)[] = [];
    const proxy = await faultProxy(
      kfp.url,
      () => 'forward',
      (req) => seen.push(req.headers.authorization),
    );
    servers.push(proxy.server);
    const backend = await KubeflowBackend.connect({
      kubeconfig: ctx.cluster().kubeconfigPath,
      context: 'admin',
      namespace: 'kubeflow',
      kfp: { endpoint: proxy.url, serviceAccount: 'default' },
    });
    await backend.listRuns();
    const bearer = seen.find((h) => h?.startsWith('Bearer ') === true);
    assert.ok(bearer, 'requests carry a bearer token');
    const claims = JSON.parse(
      Buffer.from(bearer.slice(7).split('.')[1]!, 'base64url').toString('utf8'),
    );
    assert.deepEqual(claims.aud, ['pipelines.kubeflow.org']);
    assert.equal(claims['kubernetes.io'].serviceaccount.name, 'default');
    assert.notEqual(bearer.slice(7), ctx.cluster().adminToken, 'not the kubeconfig user token');
  });

  it('a watch the server ends every second is resumed: every change arrives, once, in order', async () => {
    const backend = await KubeflowBackend.connect({
      kubeconfig: ctx.cluster().kubeconfigPath,
      context: 'admin',
      namespace: 'kubeflow',
      kfp: { endpoint: kfp.url },
      watchTimeoutSeconds: 1,
    });
    const run = await backend.submit(tiny('resumed'));
    const seen: RunEvent[] = [];
    const done = (async () => {
      for await (const e of backend.watch(run)) seen.push(e);
    })();
    const wf = (await driver.findWorkflowForRun('kubeflow', run.id))!;
    const name = wf.metadata.name!;
    const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    await pause(1500);
    await driver.setTaskPhase('kubeflow', name, 'first', 'Running');
    await pause(1500);
    await driver.setTaskPhase('kubeflow', name, 'first', 'Succeeded');
    await pause(1500);
    await driver.setTaskPhase('kubeflow', name, 'second', 'Running');
    await pause(1200);
    await driver.runWorkflowToCompletion('kubeflow', name);
    await done;
    const steps = seen
      .filter((e) => e.type === 'step')
      .map((e) => (e.type === 'step' ? `${e.step}:${e.state}` : ''));
    assert.deepEqual(steps, [
      'first:queued',
      'second:queued',
      'first:running',
      'first:succeeded',
      'second:running',
      'second:succeeded',
    ]);
    const last = seen[seen.length - 1];
    assert.equal(last?.type === 'run' && last.state, 'succeeded');
  });

  it('a dropped API server connection, then refused ones, mid-watch: retried with backoff, every change arrives once, in order', async () => {
    const proxy = await tcpProxy(ctx.cluster().server);
    try {
      const kubeconfig = join(ctx.cluster().dir, 'kubeconfig-proxied');
      writeFileSync(
        kubeconfig,
        readFileSync(ctx.cluster().kubeconfigPath, 'utf8').replaceAll(
          ctx.cluster().server,
          proxy.url,
        ),
      );
      const restarts: string[] = [];
      const backend = await KubeflowBackend.connect({
        kubeconfig,
        context: 'admin',
        namespace: 'kubeflow',
        kfp: { endpoint: kfp.url },
        onWatchRestart: (how) => restarts.push(how),
        reportCacheDir: null,
      });
      const run = await backend.submit(tiny('dropped'));
      const seen: RunEvent[] = [];
      const done = (async () => {
        for await (const e of backend.watch(run)) seen.push(e);
      })();
      const name = (await driver.findWorkflowForRun('kubeflow', run.id))!.metadata.name!;
      const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
      await driver.setTaskPhase('kubeflow', name, 'first', 'Running');
      const deadline = Date.now() + 20_000;
      while (!seen.some((e) => e.type === 'step' && e.state === 'running')) {
        assert.ok(Date.now() < deadline, 'the watch saw the first step run');
        await pause(20);
      }
      // The watch's connection drops, and for 1.5 s the API server cannot be reached at all.
      proxy.refuse(true);
      proxy.drop();
      await driver.setTaskPhase('kubeflow', name, 'first', 'Succeeded');
      await pause(1500);
      const refusedAt = proxy.connections();
      proxy.refuse(false);
      await driver.setTaskPhase('kubeflow', name, 'second', 'Running');
      await pause(300);
      await driver.runWorkflowToCompletion('kubeflow', name);
      await done;
      const steps = seen
        .filter((e) => e.type === 'step')
        .map((e) => (e.type === 'step' ? `${e.step}:${e.state}` : ''));
      assert.deepEqual(
        steps.filter((s) => s !== 'second:running'),
        ['first:queued', 'second:queued', 'first:running', 'first:succeeded', 'second:succeeded'],
      );
      assert.equal(new Set(steps).size, steps.length, `no change twice: ${steps.join(', ')}`);
      const last = seen[seen.length - 1];
      assert.equal(last?.type === 'run' && last.state, 'succeeded');
      assert.ok(restarts.includes('resumed'), `resumed (restarts: ${restarts.join(', ')})`);
      assert.ok(
        proxy.connections() > refusedAt,
        'the watch came back once connections were let in',
      );
    } finally {
      proxy.close();
    }
  });
});
