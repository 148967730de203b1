/**
 * The upstream KFP SDK 2.17.0 (../shared/kfp-sdk, Apache-2.0 sources run by Debian's
 * /usr/bin/python3 with the packages scripts/setup-machine.sh installs) reads every pipeline
 * Cellflow emits, and runs digits, and a pipeline wider than one DAG (sub-DAG components), through
 * KFP's own executor-input and placeholder code to the metrics `cellflow run` reports.
 * kfp-sdk-driver.py beside this file does the SDK side; nothing here knows executor or component
 * names, so the IR's shape (shared executors, constant inputs, nested DAG components) may change
 * without touching this test.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { syntheticNotebook } from '../../bench/compile/synthetic-notebook.js';
import { runManaged } from '../cluster/processes.js';
import { runCliAsync } from '../cli/run-cli.js';
import { goldenDir, repoRoot } from '../golden/golden-cases.js';
import { makeTempDir, removeTempDir } from '../support/temp-dirs.js';
import { SHARED_SCHEMAS } from '../validate/kfp-ir.js';
import { PYTHON } from '../support/paths.js';

const SDK_PYTHONPATH = join(SHARED_SCHEMAS, '../kfp-sdk/python');
const DRIVER = join(repoRoot, 'test/kfp-sdk/kfp-sdk-driver.py');

interface CompileReport {
  file: string;
  name: string;
  inputs: string[];
  nestedTasks: string[];
  executors: Record<string, unknown>;
  platform: unknown;
}

interface RegisteredArtifact {
  type: string;
  uri: string;
  exists: boolean;
  metadata: Record<string, unknown>;
}

interface RunReport {
  tasks: {
    task: string;
    command: string[];
    parameters: Record<string, unknown>;
    artifacts: Record<string, RegisteredArtifact>;
  }[];
}

let driverRuns = 0;

/**
 * Runs the driver with the SDK on PYTHONPATH; resolves with what it wrote to `outFile` (its JSON
 * report by default).
 */
async function runDriver<T>(
  dir: string,
  args: string[],
  outFile: string = join(dir, `report-${++driverRuns}.json`),
): Promise<T> {
  const run = await runManaged(
    'kfp-sdk-driver',
    PYTHON,
    [DRIVER, args[0]!, outFile, ...args.slice(1)],
    {
      cwd: dir,
      logFile: join(dir, `driver-${++driverRuns}.log`),
      env: { ...process.env, PYTHONPATH: SDK_PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' },
      timeoutMs: 300_000,
    },
  );
  assert.equal(
    run.code,
    0,
    `${args[0]} through the KFP SDK failed${run.timedOut ? ' (timed out)' : ''}:\n${run.output.slice(-6000)}\n` +
      'The SDK needs Debian packages: run `bash scripts/setup-machine.sh`.',
  );
  const written = readFileSync(outFile, 'utf8');
  return (outFile.endsWith('.json') ? JSON.parse(written) : written) as T;
}

function readIr(path: string): { spec: any; platform: unknown } {
  const [spec, platform] = parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS());
  return { spec, platform: platform ?? null };
}

describe('the upstream KFP SDK 2.17.0 on what Cellflow emits', () => {
  it('has the SDK sources beside the repository', () => {
    assert.ok(
      existsSync(join(SDK_PYTHONPATH, 'kfp/__init__.py')),
      `no KFP SDK at ${SDK_PYTHONPATH} (../shared/kfp-sdk, cloned beside the repository)`,
    );
  });

  it('loads every golden IR as a component and compiles it inside an SDK pipeline', async () => {
    const files = readdirSync(goldenDir)
      .map((d) => join(goldenDir, d, 'pipeline.yaml'))
      .filter((f) => existsSync(f))
      .sort();
    assert.ok(files.length >= 15, `only ${files.length} golden pipelines`);
    const dir = makeTempDir('cellflow-kfp-sdk-');
    try {
      const reports = await runDriver<CompileReport[]>(dir, ['compile', ...files]);
      assert.equal(reports.length, files.length);
      for (const report of reports) {
        const { spec, platform } = readIr(report.file);
        const where = report.file.slice(repoRoot.length + 1);
        assert.equal(report.name, spec.pipelineInfo.name, where);
        assert.deepEqual(
          report.inputs,
          Object.keys(spec.root.inputDefinitions?.parameters ?? {}).sort(),
          where,
        );
        // The SDK nests the loaded pipeline as one DAG component with the same tasks, and keeps
        // every executor and the Kubernetes platform config as Cellflow wrote them.
        assert.deepEqual(report.nestedTasks, Object.keys(spec.root.dag.tasks).sort(), where);
        assert.deepEqual(report.executors, spec.deploymentSpec.executors, where);
        assert.deepEqual(report.platform, platform, where);
      }
    } finally {
      removeTempDir(dir);
    }
  });

  it('runs digits through kfp.local placeholder resolution to the metrics of `cellflow run`', async () => {
    const dir = makeTempDir('cellflow-kfp-sdk-digits-');
    try {
      // A non-default parameter shows that pipeline inputs reach the steps, not only defaults.
      const localRun = await runLocally('examples/digits.ipynb', join(dir, 'workspace'), [
        '-p',
        'TEST_SIZE=0.3',
      ]);
      assert.ok(Object.keys(localRun.metrics).length >= 4, JSON.stringify(localRun.metrics));

      const ir = join(dir, 'digits.yaml');
      const compiled = await runCliAsync(['compile', 'examples/digits.ipynb', '-o', ir]);
      assert.equal(compiled.code, 0, compiled.stderr);
      const asSubmitted = await runDriver<RunReport>(dir, [
        'run',
        ir,
        join(dir, 'as-submitted'),
        '{"TEST_SIZE": 0.3}',
      ]);
      assertSameRun(asSubmitted, localRun);
      assert.ok(
        asSubmitted.tasks.some((t) => t.parameters.TEST_SIZE === 0.3),
        'TEST_SIZE=0.3',
      );

      // The same pipeline as a nested DAG component of an SDK pipeline that passes TEST_SIZE as a
      // constant: the way through DAG components and constant task inputs gives the same result.
      const wrapped = join(dir, 'wrapped.yaml');
      await runDriver(dir, ['wrap', ir, '{"TEST_SIZE": 0.3}'], wrapped);
      const nested = await runDriver<RunReport>(dir, ['run', wrapped, join(dir, 'nested')]);
      assert.ok(nested.tasks.every((t) => t.task.includes('/')));
      assertSameRun(nested, localRun);
      assert.ok(
        nested.tasks.some((t) => t.parameters.TEST_SIZE === 0.3),
        'TEST_SIZE=0.3',
      );
    } finally {
      removeTempDir(dir);
    }
  });

  it('runs a pipeline wider than one DAG (70 steps) through kfp.local resolution to the metrics of `cellflow run`', async () => {
    const dir = makeTempDir('cellflow-kfp-sdk-wide-');
    try {
      const notebook = join(dir, 'wide.ipynb');
      writeFileSync(notebook, syntheticNotebook(70, 5));
      const localRun = await runLocally(notebook, join(dir, 'workspace'));
      assert.equal(localRun.steps.length, 70);
      const ir = join(dir, 'wide.yaml');
      const compiled = await runCliAsync(['compile', notebook, '-o', ir]);
      assert.equal(compiled.code, 0, compiled.stderr);
      const report = await runDriver<RunReport>(dir, ['run', ir, join(dir, 'kfp')]);
      assertSameRun(report, localRun);
    } finally {
      removeTempDir(dir);
    }
  });
});

/** `cellflow run` of a notebook in a workspace of its own; its run as `runs --json` lists it. */
async function runLocally(
  notebook: string,
  workspace: string,
  args: string[] = [],
): Promise<LocalRun> {
  const local = await runCliAsync(['run', notebook, ...args, '--workspace', workspace]);
  assert.equal(local.code, 0, local.stdout + local.stderr);
  const runs = await runCliAsync(['runs', '--json', '--workspace', workspace]);
  const [run] = JSON.parse(runs.stdout) as LocalRun[];
  assert.equal(run?.state, 'succeeded');
  return run;
}

interface LocalRun {
  state: string;
  metrics: Record<string, number>;
  steps: { name: string }[];
}

function assertSameRun(report: RunReport, localRun: LocalRun): void {
  const taskNames = report.tasks.map((t) => t.task.split('/').at(-1));
  for (const step of localRun.steps)
    assert.ok(taskNames.includes(step.name.replaceAll('_', '-')), `no task for ${step.name}`);
  for (const task of report.tasks) assert.equal(task.command[0], PYTHON, task.task);
  // Every value a step saves for later steps is a file at its artifact's path.
  for (const task of report.tasks)
    for (const [name, artifact] of Object.entries(task.artifacts))
      if (artifact.type === 'system.Artifact')
        assert.ok(artifact.exists, `${task.task} did not write ${name} at ${artifact.uri}`);
  // Every step writes what its cells showed: the nbformat outputs and the page KFP's UI shows.
  for (const task of report.tasks.filter((t) => !t.task.endsWith('cellflow-runtime'))) {
    assert.equal(task.artifacts['cell-outputs']?.type, 'system.Artifact', task.task);
    assert.equal(task.artifacts['cell-outputs-html']?.type, 'system.HTML', task.task);
    assert.ok(task.artifacts['cell-outputs-html'].exists, `${task.task} wrote no page`);
  }
  const metrics = Object.assign(
    {},
    ...report.tasks.flatMap((t) =>
      Object.values(t.artifacts)
        .filter((a) => a.type === 'system.Metrics')
        .map((a) => a.metadata),
    ),
  ) as Record<string, unknown>;
  assert.deepEqual(metrics, localRun.metrics);
}
