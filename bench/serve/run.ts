/**
 * Local serving: single-row KServe V1 predictions against the local model server and against the
 * same model behind FastAPI + uvicorn (bench/serve/fastapi-peer.py), under a closed-loop loopback
 * load at 1, 16 and 64 connections (DURATION_S seconds each), in the same run; and the same model
 * called in-process, for the overhead each request adds. Needs Debian's python3-fastapi and
 * python3-uvicorn (scripts/setup-machine.sh). Prints last
 * `serve: cellflow/uvicorn throughput X.XXx, p95 Y.YYx`, the worst of the three loads.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalBackend } from '@cellflow/backend';
import { compile, RUNTIME_SOURCE } from '@cellflow/core';
import { notebookJson } from '../../test/support/notebook-json.js';
import { runClosedLoopLoad, type LoadResult } from './closed-loop-load.js';
import { PYTHON } from '../../test/support/paths.js';

const DURATION_S = Number(process.env.DURATION_S ?? 10);
const LOADS = (process.env.CONNECTIONS ?? '1,16,64').split(',').map(Number);
const ROW = [
  0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8,
  8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13,
  10, 0, 0, 0,
].map((v) => v / 16);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

interface Measured {
  readonly rps: number;
  readonly p50: number;
  readonly p95: number;
  readonly errors: number;
}

function summarize(result: LoadResult): Measured {
  return {
    rps: result.latencies.length / result.seconds,
    p50: percentile(result.latencies, 50),
    p95: percentile(result.latencies, 95),
    errors: result.errors,
  };
}

const show = (m: Measured): string =>
  `${m.rps.toFixed(0).padStart(6)} req/s, p50 ${m.p50.toFixed(2)} ms, p95 ${m.p95.toFixed(2)} ms${m.errors ? `, ${m.errors} errors` : ''}`;

const workspace = mkdtempSync(join(tmpdir(), 'cellflow-bench-serve-'));
const scratch = mkdtempSync(join(tmpdir(), 'cellflow-bench-peer-'));
const backend = new LocalBackend({ workspace });
let peer: ReturnType<typeof spawn> | undefined;
try {
  const notebook = notebookJson(
    [
      [
        ['imports'],
        'from sklearn.datasets import load_digits\nfrom sklearn.linear_model import LogisticRegression',
      ],
      [
        ['step:train', 'serve:model'],
        'X, y = load_digits(return_X_y=True)\nmodel = LogisticRegression(max_iter=3000).fit(X / 16.0, y)',
      ],
    ],
    { cellflow: { name: 'bench-serve' } },
  );
  const run = await backend.submit(compile(notebook).pipeline!);
  for await (const _ of backend.watch(run));
  const ref = await backend.serve({ runId: run.id, step: 'train', variable: 'model' });
  const endpoint = (await backend.listEndpoints()).find((e) => e.name === ref.name)!;
  const modelDir = join(
    workspace,
    '.cellflow',
    'runs',
    run.id,
    'steps',
    'train',
    'outputs',
    'model',
  );
  writeFileSync(join(scratch, 'runtime.py'), RUNTIME_SOURCE);

  const peerPort = await freePort();
  peer = spawn(
    PYTHON,
    [
      fileURLToPath(new URL('fastapi-peer.py', import.meta.url)),
      join(scratch, 'runtime.py'),
      modelDir,
      ref.name,
      String(peerPort),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${peerUrl}/v1/models/${ref.name}`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i > 300 || peer.exitCode !== null)
      throw new Error(
        'The FastAPI + uvicorn peer did not start (apt-get install python3-fastapi python3-uvicorn).',
      );
    await sleep(100);
  }

  const path = `/v1/models/${ref.name}:predict`;
  const body = JSON.stringify({ instances: [ROW] });
  for (const url of [endpoint.url, peerUrl]) await runClosedLoopLoad(url + path, body, 4, 1); // warm-up
  const rows: { connections: number; cellflow: Measured; uvicorn: Measured }[] = [];
  for (const connections of LOADS) {
    const cellflow = summarize(
      await runClosedLoopLoad(endpoint.url + path, body, connections, DURATION_S),
    );
    const uvicorn = summarize(
      await runClosedLoopLoad(peerUrl + path, body, connections, DURATION_S),
    );
    rows.push({ connections, cellflow, uvicorn });
    console.log(`${String(connections).padStart(2)} connections, ${DURATION_S} s each:`);
    console.log(`   cellflow         ${show(cellflow)}`);
    console.log(`   fastapi+uvicorn  ${show(uvicorn)}`);
    console.log(
      `   cellflow/uvicorn throughput ${(cellflow.rps / uvicorn.rps).toFixed(2)}x, p95 ${(cellflow.p95 / uvicorn.p95).toFixed(2)}x`,
    );
  }

  // The same model, called in-process, one row at a time.
  const script = `
import json, sys, time, types
m = types.ModuleType("r"); exec(open(sys.argv[1]).read(), m.__dict__)
import numpy
model = m.load_value(sys.argv[2])
row = numpy.asarray([json.loads(sys.argv[3])])
lat = []
end = time.perf_counter() + float(sys.argv[4])
while time.perf_counter() < end:
    t0 = time.perf_counter(); model.predict(row); lat.append((time.perf_counter() - t0) * 1000)
lat.sort()
print(json.dumps({"n": len(lat), "p50": lat[len(lat) // 2], "p95": lat[int(len(lat) * 0.95)]}))
`;
  const inprocSeconds = Math.min(DURATION_S, 5);
  const inproc = JSON.parse(
    execFileSync(
      PYTHON,
      [
        '-c',
        script,
        join(scratch, 'runtime.py'),
        modelDir,
        JSON.stringify(ROW),
        String(inprocSeconds),
      ],
      { encoding: 'utf8' },
    ),
  ) as { n: number; p50: number; p95: number };
  console.log(
    `in-process model.predict (1 row), same Python: ${(inproc.n / inprocSeconds).toFixed(0)} calls/s, p50 ${(inproc.p50 * 1000).toFixed(1)} µs`,
  );
  const single = rows.find((r) => r.connections === 1);
  if (single) {
    const overhead = (m: Measured): string => `${((m.p50 - inproc.p50) * 1000).toFixed(0)} µs`;
    console.log(
      `per-request overhead over in-process predict (p50 at 1 connection): cellflow ${overhead(single.cellflow)}, fastapi+uvicorn ${overhead(single.uvicorn)}`,
    );
  }
  const throughput = Math.min(...rows.map((r) => r.cellflow.rps / r.uvicorn.rps));
  const p95 = Math.max(...rows.map((r) => r.cellflow.p95 / r.uvicorn.p95));
  console.log(`worst of ${LOADS.join(', ')} connections:`);
  console.log(
    `serve: cellflow/uvicorn throughput ${throughput.toFixed(2)}x, p95 ${p95.toFixed(2)}x`,
  );
} finally {
  peer?.kill('SIGTERM');
  await backend.dispose();
  rmSync(workspace, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
}
