/**
 * Local serving throughput: single-row predictions against the local model server under a bounded
 * loopback load (CONNECTIONS concurrent clients for DURATION_S seconds), against calling the same
 * model in-process in the same Python, in the same run. Prints requests/s and p50/p95 latency.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBackend } from '@cellflow/backend';
import { compile, RUNTIME_SOURCE } from '@cellflow/core';
import { notebookJson } from '../../test/support/notebook-json.js';

const DURATION_S = Number(process.env.DURATION_S ?? 30);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 16);
const ROW = [
  0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8,
  8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13,
  10, 0, 0, 0,
].map((v) => v / 16);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const workspace = mkdtempSync(join(tmpdir(), 'cellflow-bench-serve-'));
const backend = new LocalBackend({ workspace });
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
  const url = `${endpoint.url}/v1/models/${ref.name}:predict`;
  const body = JSON.stringify({ instances: [ROW] });

  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + DURATION_S * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const res = await fetch(url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
        });
        await res.arrayBuffer();
        if (res.ok) latencies.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  const served = latencies.length / DURATION_S;

  // The same model, called in-process for the same time, one row at a time.
  const dir = mkdtempSync(join(tmpdir(), 'cellflow-bench-inproc-'));
  writeFileSync(join(dir, 'runtime.py'), RUNTIME_SOURCE);
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
  const inproc = JSON.parse(
    execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        script,
        join(dir, 'runtime.py'),
        modelDir,
        JSON.stringify(ROW),
        String(Math.min(DURATION_S, 10)),
      ],
      { encoding: 'utf8' },
    ),
  ) as { n: number; p50: number; p95: number };
  rmSync(dir, { recursive: true, force: true });
  const inprocRps = inproc.n / Math.min(DURATION_S, 10);
  console.log(
    `local endpoint, ${CONNECTIONS} connections for ${DURATION_S} s: ${served.toFixed(0)} req/s, p50 ${percentile(latencies, 50).toFixed(2)} ms, p95 ${percentile(latencies, 95).toFixed(2)} ms, ${errors} errors`,
  );
  console.log(
    `in-process model.predict (1 row), same Python: ${inprocRps.toFixed(0)} calls/s, p50 ${inproc.p50.toFixed(3)} ms, p95 ${inproc.p95.toFixed(3)} ms`,
  );
  console.log(
    `ratio endpoint / in-process: throughput ${(served / inprocRps).toFixed(3)}x, p95 latency ${(percentile(latencies, 95) / inproc.p95).toFixed(1)}x`,
  );
} finally {
  await backend.dispose();
  rmSync(workspace, { recursive: true, force: true });
}
