/**
 * Step logs as a cluster's pods print them, for tests that read runs back. The pipeline's IR runs
 * through the upstream KFP SDK's placeholder resolution (test/kfp-sdk/kfp-sdk-driver.py): each
 * task's log is what its command printed, metric lines included. kfp.local keeps artifacts in
 * local folders, where the runtime prints no artifact lines; on a cluster KFP's launcher mounts
 * the object store at `/minio/`, so the runtime's own `_print_artifact_uris` then writes each
 * saved value's lines from its `/minio/…` path, as the step would have there.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTIME_SOURCE } from '@cellflow/core';
import { runManaged } from '../cluster/processes.js';
import { repoRoot } from '../golden/golden-cases.js';
import { SHARED_SCHEMAS } from '../validate/kfp-ir.js';
import { PYTHON } from './paths.js';

export const KFP_SDK_PYTHONPATH = join(SHARED_SCHEMAS, '../kfp-sdk/python');

interface RunReport {
  readonly tasks: {
    readonly task: string;
    readonly exitCode?: number;
    readonly artifacts: Record<string, { readonly type: string; readonly uri: string }>;
  }[];
  /** Set when a task failed: the run stopped there. */
  readonly failed?: string;
}

/** A task's output artifact: its type, where kfp.local wrote it, and its URI on a cluster. */
export interface KfpTaskArtifact {
  readonly type: string;
  readonly file: string;
  readonly clusterUri: string;
}

/** A pipeline run through the KFP SDK, as a cluster would show it. */
export interface KfpStepRun {
  /** KFP task name -> its log, as its pod prints it. */
  readonly logs: Record<string, string>;
  /** KFP task name -> output key -> artifact (a failed task has none, as KFP keeps none). */
  readonly artifacts: Record<string, Record<string, KfpTaskArtifact>>;
  /** The task that failed, if one did (the run stops there). */
  readonly failedTask?: string;
}

/** Where KFP keeps a task's output artifact in the default MinIO store. */
export function clusterArtifactUri(
  pipeline: string,
  runId: string,
  task: string,
  key: string,
): string {
  return `minio://mlpipeline/v2/artifacts/${pipeline}/${runId}/${task}/${key}`;
}

const ARTIFACT_LINES = `
import json, sys, types
rt = types.ModuleType("__cellflow__")
exec(open(sys.argv[1]).read(), rt.__dict__)
sys.modules["__cellflow__"] = rt
out = {}
for task, artifacts in json.loads(sys.argv[2]).items():
    lines = []
    for key, (local, mounted) in artifacts.items():
        name = "metrics" if key == "metrics_value" else key
        value = rt.load_value(local)
        sys.stdout, printed = __import__("io").StringIO(), sys.stdout
        rt._print_artifact_uris(None, {name: value}, {name: 0}, {name: mounted})
        sys.stdout, text = printed, sys.stdout.getvalue()
        lines.append(text)
    out[task] = "".join(lines)
print(json.dumps(out))
`;

/**
 * Runs the IR at `irPath` through the KFP SDK in `dir`; returns each task's log (KFP task name ->
 * text) as a cluster run `runId` of `pipeline` would print it. The runtime task is left out.
 */
export async function kfpStepLogs(
  irPath: string,
  dir: string,
  pipeline: string,
  runId: string,
): Promise<Record<string, string>> {
  return (await kfpStepRun(irPath, dir, pipeline, runId)).logs;
}

/**
 * `kfpStepLogs` with each task's output artifacts, and (`allowFailure`) a run whose task fails: it
 * stops there, and the failed task's log is kept. A step's `cellflow-cell-outputs:` line names
 * its artifact by the URI a cluster keeps it at, as it would there.
 */
export async function kfpStepRun(
  irPath: string,
  dir: string,
  pipeline: string,
  runId: string,
  options: { allowFailure?: boolean } = {},
): Promise<KfpStepRun> {
  const report = join(dir, 'kfp-sdk-report.json');
  const run = await runManaged(
    'kfp-sdk-driver',
    PYTHON,
    [join(repoRoot, 'test/kfp-sdk/kfp-sdk-driver.py'), 'run', report, irPath, join(dir, 'work')],
    {
      cwd: dir,
      logFile: join(dir, 'kfp-sdk-driver.log'),
      env: { ...process.env, PYTHONPATH: KFP_SDK_PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' },
      timeoutMs: 300_000,
    },
  );
  const failedAsAllowed = options.allowFailure === true && run.code === 3;
  assert.ok(
    run.code === 0 || failedAsAllowed,
    `the KFP SDK run failed:\n${run.output.slice(-4000)}`,
  );
  const tasks = (JSON.parse(readFileSync(report, 'utf8')) as RunReport).tasks.filter(
    (t) => t.task !== 'cellflow-runtime',
  );
  const root = join(dir, 'work', 'pipeline-root');
  const runRoot = join(root, readdirSync(root)[0]!);
  const saved: Record<string, Record<string, [string, string]>> = {};
  for (const t of tasks) {
    saved[t.task] = {};
    for (const [key, artifact] of Object.entries(t.artifacts)) {
      // Saved variables only: a variable's key holds no `-` (`cell-outputs` and the like do).
      if (artifact.type !== 'system.Artifact' || key.includes('-')) continue;
      const mounted = clusterArtifactUri(pipeline, runId, t.task, key).replace(
        'minio://',
        '/minio/',
      );
      saved[t.task]![key] = [artifact.uri, mounted];
    }
  }
  const runtime = join(dir, 'runtime.py');
  writeFileSync(runtime, RUNTIME_SOURCE);
  const artifactLines = JSON.parse(
    execFileSync(PYTHON, ['-c', ARTIFACT_LINES, runtime, JSON.stringify(saved)], {
      encoding: 'utf8',
    }),
  ) as Record<string, string>;
  const logs: Record<string, string> = {};
  const artifacts: Record<string, Record<string, KfpTaskArtifact>> = {};
  for (const t of tasks) {
    const logFile = join(runRoot, t.task, 'log.txt');
    let own = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    artifacts[t.task] = {};
    for (const [key, artifact] of Object.entries(t.artifacts)) {
      const clusterUri = clusterArtifactUri(pipeline, runId, t.task, key);
      artifacts[t.task]![key] = { type: artifact.type, file: artifact.uri, clusterUri };
      own = own.replaceAll(
        `cellflow-cell-outputs: ${artifact.uri}\n`,
        `cellflow-cell-outputs: ${clusterUri}\n`,
      );
    }
    logs[t.task] = own + (artifactLines[t.task] ?? '');
  }
  const failedTask = tasks.find((t) => t.exitCode !== undefined)?.task;
  return { logs, artifacts, ...(failedTask !== undefined ? { failedTask } : {}) };
}
