import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { clusterUnavailableReason, startCluster } from './harness.js';
import { processesMentioning } from './processes.js';
import { cpuSeconds } from './startup-lock.js';
import { REPO_ROOT } from './paths.js';
import { isRunning } from '../support/processes.js';

const reason = clusterUnavailableReason();
const required = process.env.CELLFLOW_REQUIRE_CLUSTER === '1';

async function gone(dir: string, pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const watchdogs = processesMentioning('while kill -0').filter((p) =>
      pids.some((pid) => p.cmdline.endsWith(` ${pid}`)),
    );
    const left = [...processesMentioning(dir), ...watchdogs];
    const live = pids.filter((pid) => isRunning(pid));
    if (left.length === 0 && live.length === 0) return;
    if (Date.now() > deadline) {
      assert.fail(`left running: ${JSON.stringify({ left, live })}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the child fixture and resolves with what it printed and the child itself. */
async function startChild(mode: 'exit' | 'hang'): Promise<{
  dir: string;
  pids: { etcd: number; kubeApiserver: number };
  child: ReturnType<typeof spawn>;
}> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      join(REPO_ROOT, 'test/cluster/fixtures/start-cluster-child.ts'),
      mode,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    lines.close();
    return {
      ...(JSON.parse(line) as { dir: string; pids: { etcd: number; kubeApiserver: number } }),
      child,
    };
  }
  throw new Error('child printed nothing');
}

const suiteOptions = reason === undefined || required ? {} : { skip: reason };

describe('cluster lifecycle: start/stop time and no orphans', suiteOptions, () => {
  it('starts and stops within 15 s, leaving nothing running', async (t) => {
    if (reason !== undefined) throw new Error(reason);
    const t0 = Date.now();
    const cluster = await startCluster();
    const started = Date.now() - t0 - cluster.startupLockWaitMs;
    const { dir, pids } = cluster;
    assert.ok(isRunning(pids.etcd) && isRunning(pids.kubeApiserver));
    const cpu = (cpuSeconds(pids.etcd) ?? 0) + (cpuSeconds(pids.kubeApiserver) ?? 0);
    const t1 = Date.now();
    await cluster.stop();
    const stopped = Date.now() - t1;
    const total = started + stopped;
    const load = loadavg()[0] ?? 0;
    const cores = cpus().length;
    const message =
      `cluster start ${started} ms + stop ${stopped} ms = ${total} ms ` +
      `(etcd + kube-apiserver CPU ${cpu.toFixed(1)} s; load ${load.toFixed(1)} on ${cores} cores` +
      `${cluster.startupLockWaitMs > 0 ? `; waited ${cluster.startupLockWaitMs} ms for another start-up` : ''})`;
    t.diagnostic(message);
    console.log(`[cluster harness] ${message}`);
    await gone(dir, [pids.etcd, pids.kubeApiserver], 2_000);
    if (load <= cores) {
      assert.ok(total < 15_000, message);
    } else {
      // Other work holds the cores: wall time measures the neighbours. The cluster's own work
      // must still fit in the budget.
      t.diagnostic(`machine oversubscribed: checking CPU time instead of wall time`);
      assert.ok(cpu < 15, message);
    }
  });

  it('kills the cluster when the test process exits without stopping it', async () => {
    if (reason !== undefined) throw new Error(reason);
    const { dir, pids, child } = await startChild('exit');
    await new Promise((r) => child.once('exit', r));
    try {
      await gone(dir, [pids.etcd, pids.kubeApiserver], 3_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kills the cluster when the test process is SIGKILLed (watchdog)', async () => {
    if (reason !== undefined) throw new Error(reason);
    const { dir, pids, child } = await startChild('hang');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    try {
      await gone(dir, [pids.etcd, pids.kubeApiserver], 5_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
