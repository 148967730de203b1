/**
 * One run on this machine: schedules the steps in dependency order (independent ones in parallel),
 * reuses cached steps, retries, cancels, and reports every state change as a `RunEvent` that is
 * also persisted (run.json + events.jsonl).
 */
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCacheScriptForStep, type CompiledPipeline, type PipelineStep } from '@cellflow/core';
import { formatParameterForScript } from '../parameters.js';
import { isTerminalStepState, type RunEvent } from '../run-events.js';
import type { GpuInventory } from './gpu-capacity.js';
import { GpuAllocator } from './gpu-capacity.js';
import type { PythonInterpreter } from './python-interpreter.js';
import type { RunRecord, RunStore, StepRecord } from './run-store.js';
import { SlotPool } from './slot-pool.js';
import { runStepAttempt } from './step-attempt.js';
import { hashOutputFolder, stepCacheKey, type StepCache } from './step-cache.js';
import { RunJournal } from './run-journal.js';
import { RunLaunchers } from './run-launchers.js';
import { startLogCap } from './log-cap.js';
import { killProcessesOfRun } from './run-processes.js';
import { CELL_OUTPUTS_FILE, renumberStepCellOutputs } from './run-outputs.js';

export interface LocalRunSetup {
  readonly record: RunRecord;
  readonly pipeline: CompiledPipeline;
  readonly store: RunStore;
  readonly cache: StepCache;
  readonly python: PythonInterpreter;
  /** Path of the run's step-host.py. */
  readonly host: string;
  readonly gpus: GpuInventory;
  /** Environment shared by every step (PYTHONPATH, CELLFLOW_RUN_ID, ...). */
  readonly env: Readonly<Record<string, string>>;
  /** Fork steps from a warm interpreter (false: a fresh interpreter per step). */
  readonly warm: boolean;
  /** Cap of each step's log, in bytes (see log-cap.ts). */
  readonly maxLogBytes: number;
}

const now = (): string => new Date().toISOString();

export class LocalRun {
  readonly finished: Promise<void>;
  private finish!: () => void;
  private readonly journal: RunJournal;
  private readonly record: RunRecord;
  private readonly steps: Map<string, StepRecord>;
  private readonly started = new Set<string>();
  private readonly stops = new Map<string, () => void>();
  private readonly pool: SlotPool;
  private readonly launchers: RunLaunchers;
  private cancelling = false;
  private cancelled!: () => void;
  private readonly cancelSignal = new Promise<void>((resolve) => (this.cancelled = resolve));
  private inflight = 0;
  private done = false;

  constructor(private readonly setup: LocalRunSetup) {
    this.record = setup.record;
    this.journal = new RunJournal(setup.record, setup.store);
    this.steps = new Map(this.record.steps.map((s) => [s.name, s]));
    this.pool = new SlotPool(this.record.options.concurrency, new GpuAllocator(setup.gpus));
    const { graph, code } = setup.pipeline;
    this.launchers = new RunLaunchers({
      python: setup.python.path,
      host: setup.host,
      env: setup.env,
      cwd: this.record.options.cwd,
      cells: [...graph.preludeCells, ...graph.steps.flatMap((x) => x.cells)].map(
        (c) => code.get(c) ?? '',
      ),
      scripts: graph.steps.slice(0, 1).map((s) => setup.pipeline.scriptFor(s.name)),
      logPath: join(setup.store.runDir(this.record.id), 'step-host.log'),
      warm: setup.warm,
    });
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  get id(): string {
    return this.record.id;
  }

  get isDone(): boolean {
    return this.done;
  }

  /** Every event so far, in order. */
  get events(): readonly RunEvent[] {
    return this.journal.events;
  }

  stepState(step: string): StepRecord | undefined {
    return this.steps.get(step);
  }

  /** Calls `listener` after every new event; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    return this.journal.subscribe(listener);
  }

  start(): void {
    this.journal.started();
    this.pump();
  }

  async cancel(): Promise<void> {
    if (!this.done && !this.cancelling) {
      this.cancelling = true;
      this.cancelled();
      for (const stop of this.stops.values()) stop();
      this.pump();
    }
    await this.finished;
  }

  // ---- scheduling ------------------------------------------------------------------------------

  /** Starts every step whose dependencies are done; cancels those whose dependencies failed. */
  private pump(): void {
    if (this.done) return;
    for (const step of this.setup.pipeline.graph.steps) {
      const s = this.steps.get(step.name)!;
      if (s.state !== 'queued' || this.started.has(step.name)) continue;
      const deps = step.after.map((d) => this.steps.get(d)!);
      const broken = deps.find((d) => d.state === 'failed' || d.state === 'cancelled');
      if (this.cancelling) {
        s.reason = 'The run was cancelled before this step started.';
        this.journal.end(s, 'cancelled');
      } else if (broken !== undefined) {
        s.reason = `Not run: step \`${broken.name}\` ${broken.state === 'failed' ? 'failed' : 'did not run'}.`;
        this.journal.end(s, 'cancelled');
      } else if (deps.every((d) => d.state === 'succeeded' || d.state === 'cached')) {
        this.started.add(step.name);
        this.inflight++;
        void this.runStep(step, s)
          .catch((error: unknown) => this.internalFailure(s, error))
          .finally(() => {
            this.inflight--;
            this.pump();
          });
      }
    }
    if (this.inflight === 0 && this.record.steps.every((s) => isTerminalStepState(s.state))) {
      this.done = true;
      void this.complete();
    }
  }

  private internalFailure(s: StepRecord, error: unknown): void {
    if (isTerminalStepState(s.state)) return;
    s.failure = {
      kind: 'internal',
      cell: null,
      line: null,
      message: `Cellflow could not run step \`${s.name}\`: ${error instanceof Error ? error.message : String(error)}`,
    };
    this.journal.end(s, 'failed');
  }

  private async complete(): Promise<void> {
    await this.launchers.close();
    // No process the run started outlives it, whatever became of its supervisor.
    killProcessesOfRun(this.record.id);
    const failed = this.record.steps
      .filter((s) => s.state === 'failed')
      .map((s) => `\`${s.name}\``);
    if (this.cancelling) await this.journal.finished('cancelled', 'Cancelled by the user.');
    else if (failed.length > 0) {
      await this.journal.finished(
        'failed',
        `Step${failed.length > 1 ? 's' : ''} ${failed.join(', ')} failed.`,
      );
    } else await this.journal.finished('succeeded', undefined);
    this.finish();
  }

  // ---- one step --------------------------------------------------------------------------------

  private cacheKeyFor(step: PipelineStep): string | undefined {
    const inputs: Record<string, string> = {};
    for (const v of step.inputs) {
      const hash = this.steps.get(step.inputSources[v] ?? '')?.outputs[v]?.hash;
      if (hash === undefined) return undefined;
      inputs[v] = hash;
    }
    const parameters = Object.fromEntries(
      step.parameters.map((p) => [p, formatParameterForScript(this.record.parameters[p] ?? '')]),
    );
    const { path, version } = this.setup.python;
    const { graph, code } = this.setup.pipeline;
    return stepCacheKey({
      // Cells numbered by position, not index: editing other cells keeps this step cached.
      script: buildCacheScriptForStep(graph, step, code),
      image: step.image,
      env: step.env,
      parameters,
      inputs,
      python: { path, version },
    });
  }

  private async reuseCached(step: PipelineStep, s: StepRecord, key: string): Promise<boolean> {
    const entry = await this.setup.cache.lookup(key);
    if (entry === null || this.cancelling) return false;
    await this.setup.cache.materialize(entry, this.record.id, step.name);
    await renumberStepCellOutputs(this.setup.store.stepDir(this.record.id, step.name), step.cells);
    s.outputs = { ...entry.outputs };
    s.metrics = entry.metrics;
    s.cachedFrom = entry.runId;
    this.journal.end(s, 'cached');
    return true;
  }

  private async runStep(step: PipelineStep, s: StepRecord): Promise<void> {
    const { store, pipeline } = this.setup;
    const id = this.record.id;
    const dir = store.stepDir(id, step.name);
    const script = pipeline.scriptFor(step.name);
    await mkdir(join(dir, 'outputs'), { recursive: true });
    await writeFile(join(dir, 'step.py'), script);
    const key = this.cacheKeyFor(step);
    if (key !== undefined) s.cacheKey = key;
    if (
      key !== undefined &&
      this.record.options.cache &&
      step.cache &&
      (await this.reuseCached(step, s, key))
    )
      return;

    const args: string[] = [];
    for (const p of step.parameters)
      args.push('--param', `${p}=${formatParameterForScript(this.record.parameters[p] ?? '')}`);
    for (const v of step.inputs)
      args.push('--input', `${v}=${store.outputPath(id, step.inputSources[v] ?? '', v)}`);
    for (const v of step.outputs)
      args.push('--output', `${v}=${store.outputPath(id, step.name, v)}`);
    args.push('--metrics-file', join(dir, 'metrics.json'), '--result', join(dir, 'result.json'));
    args.push('--cell-outputs', join(dir, CELL_OUTPUTS_FILE));
    const wantGpu = this.record.options.cpuOnly ? null : step.resources.gpu;

    for (let attempt = 1; attempt <= s.maxAttempts; attempt++) {
      const slot = this.pool.acquire(wantGpu);
      const gpus = await Promise.race([slot.granted, this.cancelSignal.then(() => null)]);
      if (gpus === null) {
        if (!slot.withdraw()) this.pool.release(await slot.granted);
        s.reason = 'The run was cancelled before this step started.';
        this.journal.end(s, 'cancelled');
        return;
      }
      await rm(join(dir, 'result.json'), { force: true });
      await rm(join(dir, CELL_OUTPUTS_FILE), { force: true });
      await rm(join(dir, 'outputs'), { recursive: true, force: true });
      await mkdir(join(dir, 'outputs'));
      const logPath = join(dir, 'log.txt');
      if (attempt > 1)
        await appendFile(logPath, `[cellflow] attempt ${attempt} of ${s.maxAttempts}\n`);
      if (step.resources.gpu !== null && wantGpu === null) {
        await appendFile(
          logPath,
          `[cellflow] running without GPUs, as asked; the step asks for ${step.resources.gpu.count}.\n`,
        );
      }
      s.attempts = attempt;
      s.startedAt ??= now();
      s.gpus = gpus;
      s.state = 'running';
      this.journal.step(s, gpus.length > 0 ? { gpus } : {});
      const env = {
        ...this.setup.env,
        ...step.env,
        CELLFLOW_STEP: step.name,
        CELLFLOW_ATTEMPT: String(attempt),
        CUDA_VISIBLE_DEVICES: gpus.join(','),
      };
      const { launcher, fresh } = this.launchers.for(step);
      const logCap = startLogCap(logPath, this.setup.maxLogBytes);
      const outcome = await runStepAttempt(
        step.name,
        launcher,
        { script: join(dir, 'step.py'), args, cwd: this.record.options.cwd, env, logPath, fresh },
        join(dir, 'result.json'),
        step.timeoutSeconds,
        {
          started: (stop) => {
            this.stops.set(step.name, stop);
            if (this.cancelling) stop();
          },
        },
      );
      this.stops.delete(step.name);
      await logCap.stop();
      if (outcome.failure === null) {
        await this.succeed(step, s, outcome.result?.metrics ?? {}).finally(() =>
          this.pool.release(gpus),
        );
        return;
      }
      this.pool.release(gpus);
      if (this.cancelling) {
        s.reason = 'Cancelled by the user while running.';
        return this.journal.end(s, 'cancelled');
      }
      s.failure = outcome.failure;
      const retrying = attempt < s.maxAttempts;
      if (!retrying) return this.journal.end(s, 'failed');
      s.state = 'failed';
      this.journal.step(s, { retrying: true });
    }
  }

  private async succeed(
    step: PipelineStep,
    s: StepRecord,
    metrics: Readonly<Record<string, number | string>>,
  ): Promise<void> {
    const { store, cache } = this.setup;
    for (const v of step.outputs) {
      const folder = store.outputPath(this.record.id, step.name, v);
      let format = 'unknown';
      try {
        format = (
          JSON.parse(await readFile(join(folder, 'cellflow-value.json'), 'utf8')) as {
            format: string;
          }
        ).format;
      } catch {
        // a folder without its format file still hashes; loading it will say what is wrong
      }
      s.outputs[v] = { format, ...(await hashOutputFolder(folder)) };
    }
    s.metrics = { ...metrics };
    delete s.failure;
    if (s.cacheKey !== undefined) {
      await cache.store({
        key: s.cacheKey,
        runId: this.record.id,
        step: step.name,
        createdAt: now(),
        outputs: s.outputs,
        metrics: s.metrics,
      });
    }
    this.journal.end(s, 'succeeded');
  }
}
