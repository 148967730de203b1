/**
 * `LocalBackend`: runs compiled pipelines on this machine, each step a Python process running the
 * same entry script a cluster would, with history under `<workspace>/.cellflow/`.
 */
import { availableParallelism, totalmem } from 'node:os';
import { access, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  checkStudySpec,
  describeStudyErrors,
  toServiceName,
  type CompiledPipeline,
  type NotebookFile,
  type StudySpec,
} from '@cellflow/core';
import {
  BackendError,
  type Backend,
  type BackendTarget,
  type Capacity,
  type Endpoint,
  type EndpointRef,
  type ModelRef,
  type ServeOptions,
  type RunFilter,
  type RunOptions,
  type RunRef,
  type RunSummary,
  type StudyEvent,
  type StudyRef,
  type StudySummary,
  type TuneOptions,
} from '../backend.js';
import { LocalStudy } from './local-study.js';
import { StudyStore, type StudyRecord } from './study-store.js';
import { resolveRunParameters } from '../parameters.js';
import { isTerminalRunState, isTerminalStepState, type RunEvent } from '../run-events.js';
import { followLines } from './follow-file.js';
import { readExecutedNotebook, writeRunNotebook } from './run-outputs.js';
import { maxLogBytesOf } from './log-cap.js';
import { readLogTail } from './log-tail.js';
import {
  describeUnmetGpuRequests,
  detectGpus,
  findUnmetGpuRequests,
  gpuPoolsOf,
  type GpuInventory,
  type GpuRefusalAsker,
} from './gpu-capacity.js';
import { LocalRun } from './local-run.js';
import { buildRunEnvironment, threadsPerStep } from './run-environment.js';
import { findPythonInterpreter, type PythonInterpreter } from './python-interpreter.js';
import { RunStore, type RunRecord } from './run-store.js';
import { StepCache } from './step-cache.js';
import { startLocalModelServer, type LocalModelServer } from './local-model-server.js';
import { STEP_HOST_SOURCE } from './step-host-source.generated.js';
import { isSameProcessAlive, processStartTicks } from '../process-alive.js';
import { secretParametersOf } from '../secret-redaction.js';
import { pruneRuns, type PruneOptions, type PruneResult } from './run-pruning.js';

export interface LocalBackendOptions {
  /** Folder whose `.cellflow/` holds run history and the cache (default: the current directory). */
  readonly workspace?: string;
  /** Python interpreter for the steps (default: discovered, see `findPythonInterpreter`). */
  readonly python?: string;
  /** Steps running at once (default: the machine's cores). */
  readonly concurrency?: number;
  /** The `nvidia-smi` to ask for GPUs (default: the one on PATH). */
  readonly nvidiaSmi?: string;
  /**
   * Fork steps from a warm interpreter that imported the pipeline's libraries once (default true).
   * false: a fresh interpreter per step.
   */
  readonly warm?: boolean;
  /** Environment the steps inherit (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Cap of each step's log in bytes (default: `$CELLFLOW_MAX_LOG_BYTES`, else 100 MiB). */
  readonly maxLogBytes?: number;
  /**
   * Who asks for runs: a refusal of GPU steps this machine lacks GPUs for names the asker's way
   * to run them without (`--cpu-only`, or the editors' Run without GPUs). Default the command line.
   */
  readonly askedBy?: GpuRefusalAsker;
}

export class LocalBackend implements Backend {
  readonly workspace: string;
  private readonly store: RunStore;
  private readonly cache: StepCache;
  private readonly active = new Map<string, LocalRun>();
  private readonly studies: StudyStore;
  private readonly activeStudies = new Map<string, LocalStudy>();
  private readonly endpoints = new Map<string, { server: LocalModelServer; model: ModelRef }>();
  private interpreter: Promise<PythonInterpreter> | null = null;
  private inventory: Promise<GpuInventory> | null = null;

  /** This machine; its runs have no page in a UI. */
  readonly target: BackendTarget = {
    kind: 'local',
    description: 'this machine',
    context: null,
    namespace: null,
    runUrl: () => null,
  };

  constructor(private readonly options: LocalBackendOptions = {}) {
    this.workspace = resolve(options.workspace ?? process.cwd());
    this.store = new RunStore(this.workspace);
    this.studies = new StudyStore(this.workspace);
    this.cache = new StepCache(this.store.cacheDir, (run, step) => this.store.stepDir(run, step));
  }

  /** The interpreter steps run with (found once). Rejects with a `BackendError` saying how to fix it. */
  python(): Promise<PythonInterpreter> {
    this.interpreter ??= findPythonInterpreter(
      this.options.python,
      this.options.env ?? process.env,
    );
    this.interpreter.catch(() => (this.interpreter = null));
    return this.interpreter;
  }

  private gpus(): Promise<GpuInventory> {
    this.inventory ??= detectGpus(this.options.nvidiaSmi, this.options.env ?? process.env);
    return this.inventory;
  }

  async capacity(): Promise<Capacity> {
    const inventory = await this.gpus();
    return {
      target: 'this machine',
      pools: gpuPoolsOf(inventory),
      gpus: inventory.gpus,
      cpus: availableParallelism(),
      memoryBytes: totalmem(),
      gpuSource: inventory.source,
    };
  }

  async submit(pipeline: CompiledPipeline, opts: RunOptions = {}): Promise<RunRef> {
    const { graph } = pipeline;
    const parameters = resolveRunParameters(graph, opts.parameters);
    const concurrency = opts.concurrency ?? this.options.concurrency ?? availableParallelism();
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new BackendError(
        'bad-parameter',
        `Concurrency must be a whole number of at least 1, not ${concurrency}.`,
      );
    }
    const inventory = await this.gpus();
    const unmet = findUnmetGpuRequests(graph, inventory);
    if (unmet.length > 0 && opts.cpuOnly !== true) {
      throw new BackendError(
        'gpu-unavailable',
        describeUnmetGpuRequests(unmet, inventory, this.options.askedBy ?? 'command-line'),
      );
    }
    const python = await this.python();
    const notebookPath = opts.notebookPath !== undefined ? resolve(opts.notebookPath) : null;
    const cwd = notebookPath !== null ? dirname(notebookPath) : this.workspace;
    const id = await this.store.createRun(graph.pipeline.name);
    const runDir = this.store.runDir(id);
    const host = join(runDir, 'step-host.py');
    await writeFile(host, STEP_HOST_SOURCE);
    await writeFile(join(runDir, 'pipeline.json'), `${JSON.stringify(graph, null, 2)}\n`);
    await writeRunNotebook(runDir, pipeline.notebook);
    const threads = threadsPerStep(graph, concurrency, availableParallelism());
    const env = buildRunEnvironment(this.options.env ?? process.env, { cwd, runId: id, threads });
    const record: RunRecord = {
      version: 1,
      id,
      pipeline: graph.pipeline.name,
      notebookPath,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      state: 'queued',
      parameters,
      secretParameters: secretParametersOf(pipeline),
      metrics: {},
      options: {
        cache: opts.cache !== false,
        concurrency,
        threadsPerStep: env.OMP_NUM_THREADS !== undefined ? Number(env.OMP_NUM_THREADS) : null,
        cpuOnly: opts.cpuOnly === true,
        python: python.path,
        pythonVersion: python.version,
        cwd,
      },
      runnerPid: process.pid,
      runnerStartTicks: processStartTicks(process.pid),
      steps: graph.steps.map((s) => ({
        name: s.name,
        state: 'queued',
        attempts: 0,
        maxAttempts: 1 + s.retries,
        startedAt: null,
        finishedAt: null,
        durationMs: null,
        outputs: {},
      })),
    };
    const run = new LocalRun({
      record,
      pipeline,
      store: this.store,
      cache: this.cache,
      python,
      host,
      gpus: inventory,
      env,
      warm: this.options.warm !== false,
      maxLogBytes: maxLogBytesOf(this.options.maxLogBytes, this.options.env ?? process.env),
    });
    this.active.set(id, run);
    // once finished, its history on disk says all (watch() and logs() read it from there)
    void run.finished.then(() => this.active.delete(id));
    run.start();
    return { id };
  }

  async *watch(ref: RunRef): AsyncIterable<RunEvent> {
    const run = this.active.get(ref.id);
    if (run === undefined) {
      if ((await this.store.readRun(ref.id)) === null) throw this.runNotFound(ref);
      yield* await this.store.readEvents(ref.id);
      return;
    }
    let next = 0;
    for (;;) {
      while (next < run.events.length) {
        const event = run.events[next++]!;
        yield event;
        if (event.type === 'run' && isTerminalRunState(event.state)) return;
      }
      await new Promise<void>((resolve) => {
        const off = run.subscribe(() => {
          off();
          resolve();
        });
      });
    }
  }

  async *logs(ref: RunRef, step: string): AsyncIterable<string> {
    const run = this.active.get(ref.id);
    const record = run === undefined ? await this.store.readRun(ref.id) : null;
    if (run === undefined && record === null) throw this.runNotFound(ref);
    const known =
      run !== undefined
        ? run.stepState(step) !== undefined
        : record!.steps.some((s) => s.name === step);
    if (!known) throw new BackendError('step-not-found', `Run ${ref.id} has no step \`${step}\`.`);
    const isDone = (): boolean => {
      if (run === undefined || run.isDone) return true;
      const s = run.stepState(step)!;
      return isTerminalStepState(s.state) && !(s.state === 'failed' && s.attempts < s.maxAttempts);
    };
    yield* followLines(
      this.store.logPath(ref.id, step),
      isDone,
      run !== undefined ? (l) => run.subscribe(l) : undefined,
    );
  }

  /**
   * The run's executed notebook: the notebook as it was run, each cell with the outputs it showed
   * (streams, displays, its value, figures, the error of a failed cell) and an execution count.
   */
  async executedNotebook(ref: RunRef): Promise<NotebookFile> {
    const record = await this.store.readRun(ref.id);
    if (record === null) throw this.runNotFound(ref);
    return readExecutedNotebook(
      this.store.runDir(ref.id),
      record.steps.map((s) => s.name),
    );
  }

  /** The last `lines` lines of a step's log, read from its end only (for failure reports). */
  async logTail(ref: RunRef, step: string, lines: number): Promise<string[]> {
    return readLogTail(this.store.logPath(ref.id, step), lines);
  }

  async cancel(ref: RunRef): Promise<void> {
    const run = this.active.get(ref.id);
    if (run !== undefined) return run.cancel();
    if ((await this.store.readRun(ref.id)) === null) throw this.runNotFound(ref);
  }

  /** Cancels every run this backend is running (for a host that is shutting down). */
  async dispose(): Promise<void> {
    await Promise.all([...this.activeStudies.values()].map((s) => s.cancel()));
    await Promise.all([...this.active.values()].map((r) => r.cancel()));
    await Promise.all([...this.endpoints.keys()].map((name) => this.deleteEndpoint({ name })));
  }

  async listRuns(filter: RunFilter = {}): Promise<RunSummary[]> {
    const records = await Promise.all(
      (await this.store.listRunIds()).map((id) => this.store.readRun(id)),
    );
    const summaries = records
      .filter(
        (r): r is RunRecord =>
          r !== null && (filter.pipeline === undefined || r.pipeline === filter.pipeline),
      )
      .map((r) => this.summarize(r))
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return filter.limit !== undefined ? summaries.slice(0, filter.limit) : summaries;
  }

  /** One run of this workspace's history (a live run as it stands on disk). */
  async getRun(ref: RunRef): Promise<RunSummary> {
    const record = await this.store.readRun(ref.id).catch(() => null);
    if (record === null) throw this.runNotFound(ref);
    return this.summarize(record);
  }

  /**
   * Deletes older finished runs (the newest `keep` of each pipeline stay), never one still running,
   * behind a study's best trial, or served by an endpoint of this backend. Cache entries follow.
   */
  async pruneRuns(options: PruneOptions = {}): Promise<PruneResult> {
    const protectedRuns = new Map<string, string>();
    for (const study of await this.listStudies())
      if (study.best?.runId !== undefined)
        protectedRuns.set(study.best.runId, `the best trial of study ${study.id}`);
    for (const [name, { model }] of this.endpoints)
      protectedRuns.set(model.runId, `served by endpoint ${name}`);
    for (const id of this.active.keys()) protectedRuns.set(id, 'still running');
    return pruneRuns(this.store, await this.listRuns(), protectedRuns, options);
  }

  private summarize(r: RunRecord): RunSummary {
    const interrupted =
      !isTerminalRunState(r.state) &&
      !this.active.has(r.id) &&
      !isSameProcessAlive(r.runnerPid, r.runnerStartTicks);
    return {
      id: r.id,
      pipeline: r.pipeline,
      state: interrupted ? 'cancelled' : r.state,
      notebookPath: r.notebookPath,
      createdAt: r.createdAt,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      durationMs: r.durationMs,
      parameters: r.parameters,
      metrics: r.metrics,
      steps: r.steps.map((s) => ({
        name: s.name,
        state: interrupted && !isTerminalStepState(s.state) ? 'cancelled' : s.state,
        attempts: s.attempts,
        startedAt: s.startedAt,
        finishedAt: s.finishedAt,
        durationMs: s.durationMs,
        ...(s.cachedFrom !== undefined ? { cachedFrom: s.cachedFrom } : {}),
        ...(s.failure !== undefined ? { failure: s.failure } : {}),
        ...(s.metrics !== undefined ? { metrics: s.metrics } : {}),
      })),
      ...(interrupted
        ? {
            reason: `Interrupted: the process that ran it (pid ${r.runnerPid}) ended before the run finished.`,
          }
        : r.reason !== undefined
          ? { reason: r.reason }
          : {}),
    };
  }

  private runNotFound(ref: RunRef): BackendError {
    return new BackendError('run-not-found', `No run ${ref.id} under ${this.store.runsDir}.`);
  }

  /** Starts a study on this machine: trials are local runs, several at once (see `LocalStudy`). */
  async tune(
    pipeline: CompiledPipeline,
    given: StudySpec,
    opts: TuneOptions = {},
  ): Promise<StudyRef> {
    const { graph } = pipeline;
    const checked = checkStudySpec(given, graph);
    if (checked.study === null)
      throw new BackendError('invalid-study', describeStudyErrors(checked.diagnostics));
    const spec = checked.study;
    const searched = new Set(spec.parameters.map((p) => p.name));
    const fixed = Object.fromEntries(
      Object.entries(opts.parameters ?? {}).filter(([name]) => !searched.has(name)),
    );
    // Checks the fixed values (and that Python, GPUs... are there) before anything starts.
    resolveRunParameters(graph, fixed);
    await this.python();
    const cores = this.options.concurrency ?? availableParallelism();
    const parallel = Math.max(1, Math.min(spec.parallelTrials, spec.maxTrials));
    const id = await this.studies.createStudy(graph.pipeline.name);
    const study = new LocalStudy({
      id,
      pipeline,
      spec,
      runner: this,
      notebookPath: opts.notebookPath !== undefined ? resolve(opts.notebookPath) : null,
      parameters: fixed,
      cpuOnly: opts.cpuOnly === true,
      concurrency: Math.max(1, Math.floor(cores / parallel)),
      save: (summary, event) => this.studies.save(summary, event),
    });
    await this.studies.save(study.summary(), study.eventsFrom(0)[0] ?? null);
    this.activeStudies.set(id, study);
    void study.finished.then(() => this.activeStudies.delete(id));
    return { id };
  }

  async *watchStudy(ref: StudyRef): AsyncIterable<StudyEvent> {
    const study = this.activeStudies.get(ref.id);
    if (study === undefined) {
      const record = await this.studies.read(ref.id);
      if (record === null) throw this.studyNotFound(ref);
      const summary = this.summarizeStudy(record);
      yield { type: 'study', study: summary };
      return;
    }
    let next = 0;
    for (;;) {
      const batch = study.eventsFrom(next);
      for (const event of batch) {
        next++;
        const last = event.type === 'study' && event.study.state !== 'running';
        // the end is told once it is on disk, so listStudies() agrees with it
        if (last) await study.finished;
        yield event;
        if (last) return;
      }
      // events that came while the caller handled this batch are read before waiting
      if (batch.length > 0) continue;
      await new Promise<void>((resolve) => {
        const off = study.subscribe(() => {
          off();
          resolve();
        });
      });
    }
  }

  async listStudies(): Promise<StudySummary[]> {
    const records = await Promise.all(
      (await this.studies.listIds()).map((id) => this.studies.read(id)),
    );
    return records
      .filter((r): r is StudyRecord => r !== null)
      .map((r) => this.summarizeStudy(r))
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  async cancelStudy(ref: StudyRef): Promise<void> {
    const study = this.activeStudies.get(ref.id);
    if (study !== undefined) return study.cancel();
    if ((await this.studies.read(ref.id)) === null) throw this.studyNotFound(ref);
  }

  private summarizeStudy(r: StudyRecord): StudySummary {
    const live = this.activeStudies.get(r.summary.id);
    if (live !== undefined) return live.summary();
    if (r.summary.state !== 'running' || isSameProcessAlive(r.runnerPid, r.runnerStartTicks))
      return r.summary;
    return {
      ...r.summary,
      state: 'cancelled',
      reason: `Interrupted: the process that ran it (pid ${r.runnerPid}) ended before the study finished.`,
    };
  }

  private studyNotFound(ref: StudyRef): BackendError {
    return new BackendError(
      'study-not-found',
      `No study ${ref.id} under ${this.studies.studiesDir}.`,
    );
  }

  /** Serves a model a run saved (`serve:` tag) on loopback, until `deleteEndpoint` or `dispose`. */
  async serve(model: ModelRef, opts: ServeOptions = {}): Promise<EndpointRef> {
    const record = await this.store.readRun(model.runId).catch(() => undefined);
    if (record === undefined || record === null) throw this.runNotFound({ id: model.runId });
    const modelDir = this.store.outputPath(model.runId, model.step, model.variable);
    try {
      await access(join(modelDir, 'cellflow-value.json'));
    } catch {
      throw new BackendError(
        'not-found',
        `Run ${model.runId} saved no \`${model.variable}\` in step \`${model.step}\`. Fix: tag the step \`serve:${model.variable}\` and run the pipeline again.`,
      );
    }
    const name = toServiceName(opts.name ?? `${record.pipeline}-${model.variable}`);
    await this.deleteEndpoint({ name });
    const server = await startLocalModelServer({
      modelDir,
      name,
      ...(this.options.python !== undefined ? { python: this.options.python } : {}),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
    });
    this.endpoints.set(name, { server, model });
    return { name };
  }

  listEndpoints(): Promise<Endpoint[]> {
    return Promise.resolve(
      [...this.endpoints].map(([name, { server, model }]) => ({
        name,
        url: server.url,
        model,
        state: 'ready' as const,
        target: 'local' as const,
      })),
    );
  }

  async deleteEndpoint(endpoint: EndpointRef): Promise<void> {
    const found = this.endpoints.get(endpoint.name);
    this.endpoints.delete(endpoint.name);
    await found?.server.stop();
  }
}
