/**
 * Status latency on a cluster: the time from a status change written to the API server (a step's
 * Argo node changing phase, written by the test driver) to the event leaving `watch()`, over 100
 * changes; against a 2-second polling loop of the KFP API (what Kale's panel does), measured on the
 * same changes in the same run. Each change is timestamped just before its write is sent, so a
 * latency includes the write itself and is never negative. Needs the cluster harness
 * (scripts/setup-cluster-harness.sh).
 */
import { KubeflowBackend } from '@cellflow/backend';
import { compile } from '@cellflow/core';
import { ControllerDriver } from '../../test/cluster/controller-driver.js';
import { clusterUnavailableReason, startCluster } from '../../test/cluster/harness.js';
import { startKfpDouble } from '../../test/cluster/kfp-double/index.js';

const STEPS = 50; // each goes Running then Succeeded: 100 changes
const SPACING_MS = 100;
const POLL_MS = 2000;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const reason = clusterUnavailableReason();
if (reason !== undefined) {
  console.log(`status-latency: skipped: ${reason}`);
  process.exit(0);
}

const cluster = await startCluster();
const kfp = await startKfpDouble(cluster);
try {
  const driver = new ControllerDriver(cluster);
  const cells = Array.from({ length: STEPS }, (_, i) => ({
    cell_type: 'code',
    metadata: { tags: [`step:s${i}`] },
    source: `v${i} = ${i}`,
    outputs: [],
    execution_count: null,
  }));
  const pipeline = compile(
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { cellflow: { name: 'latency' } },
      cells,
    }),
  ).pipeline!;
  const backend = await KubeflowBackend.connect({
    kubeconfig: cluster.kubeconfigPath,
    context: 'admin',
    namespace: 'kubeflow',
    kfp: { endpoint: kfp.url },
  });
  const run = await backend.submit(pipeline);
  const workflow = (await driver.findWorkflowForRun('kubeflow', run.id))!.metadata.name!;

  const written = new Map<string, number>(); // "step:state" -> time its write was sent
  const watched = new Map<string, number>();
  const polled = new Map<string, number>();
  let ready!: () => void;
  const started = new Promise<void>((r) => (ready = r));
  const watching = (async () => {
    for await (const e of backend.watch(run)) {
      if (e.type === 'step') {
        const key = `${e.step}:${e.state}`;
        if (!watched.has(key)) watched.set(key, performance.now());
        if (e.step === 's0' && e.state === 'queued') ready();
      }
    }
  })();
  await started;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const summary = await backend.getRun(run);
      const now = performance.now();
      for (const s of summary.steps) {
        const seen =
          s.state === 'succeeded'
            ? [`${s.name}:running`, `${s.name}:succeeded`]
            : [`${s.name}:${s.state}`];
        for (const key of seen) if (!polled.has(key)) polled.set(key, now);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();

  for (let i = 0; i < STEPS; i++) {
    for (const phase of ['Running', 'Succeeded'] as const) {
      const key = `s${i}:${phase.toLowerCase()}`;
      await driver.setTaskPhase('kubeflow', workflow, `s${i}`, phase, {
        beforeWrite: () => written.set(key, performance.now()),
      });
      await new Promise((r) => setTimeout(r, SPACING_MS));
    }
  }
  await driver.runWorkflowToCompletion('kubeflow', workflow);
  await watching;
  await new Promise((r) => setTimeout(r, POLL_MS + 500));
  polling = false;
  await poller;

  const latency = (seen: Map<string, number>): number[] =>
    [...written].filter(([k]) => seen.has(k)).map(([k, t]) => seen.get(k)! - t);
  const w = latency(watched);
  const p = latency(polled);
  if ([...w, ...p].some((ms) => ms < 0))
    throw new Error('a change was seen before its write was sent: the measurement is wrong');
  console.log(
    `status changes written: ${written.size}; seen by watch(): ${w.length}; by 2 s polling: ${p.length}`,
  );
  console.log(
    `watch():      p50 ${percentile(w, 50).toFixed(1)} ms   p95 ${percentile(w, 95).toFixed(1)} ms   (target p95 < 200 ms)`,
  );
  console.log(
    `2 s polling:  p50 ${percentile(p, 50).toFixed(1)} ms   p95 ${percentile(p, 95).toFixed(1)} ms`,
  );
  console.log(
    `ratio polling / watch: p50 ${(percentile(p, 50) / percentile(w, 50)).toFixed(1)}x, p95 ${(percentile(p, 95) / percentile(w, 95)).toFixed(1)}x`,
  );
  console.log(
    `status-latency: watch p50 ${percentile(w, 50).toFixed(1)} ms, p95 ${percentile(w, 95).toFixed(1)} ms; polling p50 ${percentile(p, 50).toFixed(1)} ms, p95 ${percentile(p, 95).toFixed(1)} ms`,
  );
} finally {
  await kfp.stop();
  await cluster.stop();
}
