/**
 * `KubeflowBackend`: runs compiled pipelines on a Kubeflow cluster. Submits through the KFP API
 * (pipeline spec inline; `upload` and `schedule` make pipeline versions and recurring runs), checks GPU requests against the nodes
 * first, follows the run's Argo Workflow and a study's Katib Experiment and Trials with watches
 * (resumed on disconnect, relisted on 410), reads step logs from the pods through the Kubernetes API, and cancels through KFP.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  buildPipelineSpecForGraph,
  checkGpuRequests,
  checkStudySpec,
  describeStudyErrors,
  taskNameForStep,
  toServiceName,
  withDefaultImage,
  type CompiledPipeline,
  type NotebookFile,
} from '@cellflow/core';
import {
  BackendError,
  describeTarget,
  type Backend,
  type BackendTarget,
  type Capacity,
  type ClusterFacet,
  type Endpoint,
  type EndpointRef,
  type ModelRef,
  type RunFilter,
  type RunOptions,
  type RunRef,
  type RunSummary,
  type ServeOptions,
  type StudyEvent,
  type StudyRef,
  type StudySpec,
  type StudySummary,
  type TuneOptions,
} from '../backend.js';
import { KatibStudies } from './katib-studies.js';
import { resolveRunParameters } from '../parameters.js';
import type { RunEvent } from '../run-events.js';
import { notebookPodImage } from './notebook-pod-image.js';
import { clusterError } from './cluster-errors.js';
import { codeRunByKfpRun, readClusterCellOutputs } from './cluster-cell-outputs.js';
import {
  buildClusterExecutedNotebook,
  type ClusterRunOutputs,
} from './cluster-executed-notebook.js';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { gpuPoolsOf } from './gpu-pools.js';
import {
  createInferenceService,
  deleteInferenceService,
  listInferenceServices,
  type ClusterServeOptions,
} from './inference-services.js';
import { KfpClient, KFP_TERMINAL_STATES, type KfpRun, type KfpSettings } from './kfp-client.js';
import { KubeConnection, type ClusterSettings } from './kube-connection.js';
import { runSummaryOfKfp, stepTasksOfKfpRun } from './run-summary.js';
import {
  defaultReportCacheDir,
  mapLimited,
  readStepReports,
  StepReportCache,
  type StepReports,
} from './step-reports.js';
import { followStepLogs } from './step-logs.js';
import type { WatchRestart } from './kube-watch.js';
import { watchClusterRun } from './watch-run.js';
import { watchClusterStudy } from './watch-study.js';
import {
  kfpUiBaseOf,
  PipelineDeploys,
  type PipelineUpload,
  type ScheduleOptions,
  type ScheduleSummary,
  type UploadOptions,
} from './pipeline-deploys.js';

export interface KubeflowBackendOptions extends ClusterSettings {
  readonly kfp?: KfpSettings;
  /** KFP experiment for runs; default: the notebook's experiment, else the pipeline name. */
  readonly experiment?: string;
  /** Kubernetes service account the run's pods use (default: KFP's). */
  readonly serviceAccount?: string;
  /** Where a study's trial pods run and what they run with (`tune`'s options override these). */
  readonly trials?: ClusterTuneOptions;
  /** An identical submission within this many ms returns the existing run (default 10 min). */
  readonly duplicateWindowMs?: number;
  /**
   * Seconds after which the API server ends one watch request (a run's Workflow, a study's
   * Experiment or Trials) and Cellflow resumes it (default 300).
   */
  readonly watchTimeoutSeconds?: number;
  /** Told each time a run's or a study's watch goes on after its connection ended (diagnostics). */
  readonly onWatchRestart?: (how: WatchRestart) => void;
  /**
   * Folder keeping what finished runs' steps reported (metrics, outputs), so listing runs reads
   * each step's log once; `null` keeps them in memory only. Default: `defaultReportCacheDir()`.
   */
  readonly reportCacheDir?: string | null;
}

/** Where and how a cluster study's trial pods run. */
export interface ClusterTuneOptions {
  /** KFP API as the trial pods reach it (default: the in-cluster `ml-pipeline` service). */
  readonly trialKfpEndpoint?: string;
  /** Image of the trial runner (any Python 3; default python:3.11-slim). */
  readonly trialImage?: string;
  /** Service account of the trial pods (default in multi-user Kubeflow: default-editor). */
  readonly trialServiceAccount?: string;
}

const KEY_PREFIX = 'cellflow-key:';
const RUNS_READ_AT_ONCE = 4;

export class KubeflowBackend implements Backend, ClusterFacet {
  private constructor(
    readonly kube: KubeConnection,
    readonly kfp: KfpClient,
    private readonly options: KubeflowBackendOptions,
    private readonly multiUser: boolean,
  ) {
    this.studies = new KatibStudies(kube, (error, doing) => this.fail(error, doing));
    this.target = {
      kind: 'kubeflow',
      description: describeTarget('kubeflow', kube.contextName, kube.namespace),
      context: kube.contextName,
      namespace: kube.namespace,
      runUrl: (run) => this.runUiUrl(run),
    };
  }

  readonly target: BackendTarget;
  /** Uploads, schedules and the notebook image: this backend itself. */
  readonly cluster: ClusterFacet = this;

  private readonly studies: KatibStudies;
  private reportCache: StepReportCache | undefined;

  /**
   * What the run's steps reported in their logs (metrics, outputs). A finished run's are read
   * once and kept; a run whose logs cannot be read reports nothing (its states still show).
   */
  private async stepReportsOf(run: KfpRun): Promise<StepReports> {
    this.reportCache ??= new StepReportCache(
      this.options.reportCacheDir === undefined
        ? defaultReportCacheDir()
        : this.options.reportCacheDir,
    );
    const finished = KFP_TERMINAL_STATES.has(run.state ?? '');
    if (finished) {
      const kept = await this.reportCache.get(run.run_id);
      if (kept !== undefined) return kept;
    }
    try {
      const read = await readStepReports(this.kube, { id: run.run_id }, stepTasksOfKfpRun(run));
      if (finished && read.complete) await this.reportCache.set(run.run_id, read.reports);
      return read.reports;
    } catch {
      return new Map();
    }
  }

  static async connect(options: KubeflowBackendOptions = {}): Promise<KubeflowBackend> {
    const kube = await KubeConnection.open(options);
    const kfp = await KfpClient.open(kube, options.kfp);
    let multiUser = false;
    try {
      multiUser = (await kfp.healthz()).multi_user === true;
    } catch {
      // Health is informative only; the first real call reports what is wrong.
    }
    return new KubeflowBackend(kube, kfp, options, multiUser);
  }

  /**
   * The image steps default to on this cluster when the notebook names none: inside a Kubeflow
   * notebook server, the server's own image (read once from its pod); elsewhere undefined.
   */
  async notebookImage(): Promise<string | undefined> {
    this.notebookImageLookup ??= notebookPodImage(this.kube);
    return this.notebookImageLookup;
  }

  private notebookImageLookup: Promise<string | undefined> | undefined;

  /** "cluster context `admin` (namespace kubeflow)": `target.description`. */
  describe(): string {
    return this.target.description;
  }

  private fail(error: unknown, doing: string): BackendError {
    return clusterError(error, { doing, server: this.kube.server, context: this.kube.contextName });
  }

  async capacity(): Promise<Capacity> {
    let nodes: V1Node[];
    let pods: V1Pod[];
    try {
      nodes = (await this.kube.read((o) => this.kube.core.listNode({}, o))).items;
      pods = (
        await this.kube.read((o) =>
          this.kube.core.listPodForAllNamespaces(
            { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' },
            o,
          ),
        )
      ).items;
    } catch (error) {
      throw this.fail(error, "list the cluster's nodes and pods (to count GPUs)");
    }
    const cpus = nodes.reduce((sum, n) => sum + cpuCount(n.status?.allocatable?.cpu), 0);
    return {
      target: this.describe(),
      pools: gpuPoolsOf(nodes, pods),
      gpus: [],
      cpus,
      memoryBytes: null,
      gpuSource: 'node allocatable and labels',
    };
  }

  /** Runs, studies and endpoints live on the cluster and go on; nothing is held here. */
  async dispose(): Promise<void> {}

  /**
   * The pipeline as it goes to this cluster: inside a Kubeflow notebook server, steps left on the
   * default image run in the server's own image instead (an editor compiled them elsewhere).
   */
  private async forCluster(pipeline: CompiledPipeline): Promise<CompiledPipeline> {
    const graph = withDefaultImage(pipeline.graph, await this.notebookImage());
    return graph === pipeline.graph ? pipeline : { ...pipeline, graph };
  }

  /** The KFP CreateRun request for the pipeline (GPU requests checked, experiment found or made). */
  private async runRequest(
    compiled: CompiledPipeline,
    opts: RunOptions & { readonly runName?: string },
  ): Promise<{
    body: Record<string, unknown>;
    experimentId: string;
    namespace: string | undefined;
    key: string;
  }> {
    const pipeline = await this.forCluster(compiled);
    const { graph } = pipeline;
    const parameters = resolveRunParameters(graph, opts.parameters);
    if (graph.steps.some((s) => s.resources.gpu !== null)) {
      const capacity = await this.capacity();
      const problems = checkGpuRequests(graph, capacity.pools, capacity.target).filter(
        (d) => d.severity === 'error',
      );
      if (problems.length > 0)
        throw new BackendError('gpu-unavailable', problems.map((p) => p.message).join('\n'));
    }
    const docs = buildPipelineSpecForGraph(graph, pipeline.code, {
      ...(opts.cache === false ? { cache: false } : {}),
    });
    const spec =
      docs.platformSpec !== undefined
        ? { pipeline_spec: docs.pipelineSpec, platform_spec: docs.platformSpec }
        : docs.pipelineSpec;
    const namespace = this.multiUser ? this.kube.namespace : undefined;
    const experimentName =
      this.options.experiment ?? graph.pipeline.experiment ?? graph.pipeline.name;
    const experiment =
      (await this.kfp.findExperiment(experimentName, namespace)) ??
      (await this.kfp.createExperiment(experimentName, namespace));
    const key = createHash('sha256')
      .update(JSON.stringify([spec, parameters, experiment.experiment_id]))
      .digest('hex')
      .slice(0, 16);
    const body = {
      display_name:
        opts.runName ??
        `${graph.pipeline.name} ${new Date().toISOString().slice(0, 19).replace('T', ' ')}`,
      description: `Submitted by Cellflow${opts.notebookPath !== undefined ? ` from ${opts.notebookPath}` : ''}. ${KEY_PREFIX}${key}`,
      experiment_id: experiment.experiment_id,
      pipeline_spec: spec,
      runtime_config: { parameters },
      ...(this.options.serviceAccount !== undefined
        ? { service_account: this.options.serviceAccount }
        : {}),
    };
    return { body, experimentId: experiment.experiment_id, namespace, key };
  }

  async submit(
    pipeline: CompiledPipeline,
    opts: RunOptions & { readonly runName?: string } = {},
  ): Promise<RunRef> {
    const { body, experimentId, namespace, key } = await this.runRequest(pipeline, opts);
    const existing = await this.findSubmission(experimentId, namespace, key);
    if (existing !== undefined) return { id: existing.run_id };
    const experiment = { experiment_id: experimentId };
    // KFP has no idempotency key: before each retry, look for the run the lost answer may have made.
    for (let attempt = 0; ; attempt++) {
      try {
        const run = await this.kfp.createRun(body);
        return { id: run.run_id };
      } catch (error) {
        const made = await this.findSubmission(experiment.experiment_id, namespace, key).catch(
          () => undefined,
        );
        if (made !== undefined) return { id: made.run_id };
        const transient =
          error instanceof BackendError &&
          (error.code === 'cluster-error' || error.code === 'cluster-unreachable');
        if (!transient || attempt >= 2) throw error;
        await new Promise((r) => setTimeout(r, 300 * 2 ** attempt));
      }
    }
  }

  /** A recent, unfinished run of the same submission (same spec, parameters and experiment). */
  private async findSubmission(
    experimentId: string,
    namespace: string | undefined,
    key: string,
  ): Promise<KfpRun | undefined> {
    const window = this.options.duplicateWindowMs ?? 10 * 60_000;
    const runs = await this.kfp.listRuns({
      experimentId,
      ...(namespace !== undefined ? { namespace } : {}),
      pageSize: 50,
    });
    return runs.find(
      (r) =>
        r.description?.includes(`${KEY_PREFIX}${key}`) === true &&
        !KFP_TERMINAL_STATES.has(r.state ?? '') &&
        Date.now() - Date.parse(r.created_at ?? '') < window,
    );
  }

  watch(run: RunRef): AsyncIterable<RunEvent> {
    return watchClusterRun(
      this.kube,
      this.kfp,
      run,
      this.options.watchTimeoutSeconds ?? 300,
      this.options.onWatchRestart,
    );
  }

  logs(run: RunRef, step: string): AsyncIterable<string> {
    return followStepLogs(this.kube, run, taskNameForStep(step), step);
  }

  async cancel(run: RunRef): Promise<void> {
    await this.kfp.terminateRun(run.id);
  }

  async listRuns(filter: RunFilter = {}): Promise<RunSummary[]> {
    const runs = await this.kfp.listRuns({
      ...(this.multiUser ? { namespace: this.kube.namespace } : {}),
      pageSize: filter.limit ?? 20,
    });
    const wanted = runs.filter(
      (run) => filter.pipeline === undefined || runSummaryOfKfp(run).pipeline === filter.pipeline,
    );
    // A few runs at a time: each not yet kept is a workflow read, a pod list and its steps' logs.
    return mapLimited(wanted, RUNS_READ_AT_ONCE, async (run) =>
      runSummaryOfKfp(run, await this.stepReportsOf(run)),
    );
  }

  /**
   * The run's page in the Kubeflow Pipelines UI: beside an explicit KFP endpoint, or through the
   * API server's proxy to the `ml-pipeline-ui` service.
   */
  runUiUrl(run: RunRef): string {
    return `${kfpUiBaseOf(this.kfp)}/#/runs/details/${encodeURIComponent(run.id)}`;
  }

  /** One run's summary from KFP (states of every step), with what its steps reported. */
  async getRun(run: RunRef): Promise<RunSummary> {
    const kfpRun = await this.kfp.getRun(run.id);
    return runSummaryOfKfp(kfpRun, await this.stepReportsOf(kfpRun));
  }

  /**
   * What each cell of a cluster run showed (see cluster-cell-outputs.ts), the code each of its
   * cells ran (`ran`, from the run's pipeline spec), and the notebook it was submitted from as its
   * description records it (a path on the machine that submitted it).
   */
  async cellOutputs(run: RunRef): Promise<ClusterRunOutputs> {
    try {
      const kfpRun = await this.kfp.getRun(run.id);
      const read = await readClusterCellOutputs(
        this.kube,
        this.kfp,
        run,
        stepTasksOfKfpRun(kfpRun),
      );
      const from = /^Submitted by Cellflow from (.+?)\. /.exec(kfpRun.description ?? '')?.[1];
      return {
        ...read,
        ran: codeRunByKfpRun(kfpRun),
        ...(from !== undefined ? { notebookPath: from } : {}),
      };
    } catch (error) {
      throw error instanceof BackendError
        ? error
        : this.fail(error, `read the cell outputs of run ${run.id}`);
    }
  }

  /**
   * The run's executed notebook: its cells' outputs (`cellOutputs`) on the notebook it was
   * submitted from, when that file is on this machine and its cells hold the code the run ran.
   */
  async executedNotebook(run: RunRef): Promise<NotebookFile> {
    return (await buildClusterExecutedNotebook(run, await this.cellOutputs(run))).notebook;
  }

  private get deploys(): PipelineDeploys {
    return new PipelineDeploys(this.kfp, this.multiUser ? this.kube.namespace : undefined);
  }

  /** Uploads the pipeline as a new version of the KFP pipeline of its name (created when missing). */
  async upload(pipeline: CompiledPipeline, opts: UploadOptions = {}): Promise<PipelineUpload> {
    return this.deploys.upload(await this.forCluster(pipeline), opts);
  }

  /** A recurring run (cron or interval) of an uploaded version of the pipeline (default: the newest). */
  async schedule(pipeline: CompiledPipeline, opts: ScheduleOptions): Promise<ScheduleSummary> {
    return this.deploys.createSchedule(await this.forCluster(pipeline), {
      ...(this.options.serviceAccount !== undefined
        ? { serviceAccount: this.options.serviceAccount }
        : {}),
      ...opts,
    });
  }

  /** Schedules, newest first; with `pipelineName`, only those of that uploaded pipeline. */
  listSchedules(pipelineName?: string): Promise<ScheduleSummary[]> {
    return this.deploys.listSchedules(pipelineName);
  }

  /** Pauses (false) or resumes (true) a schedule. */
  setScheduleEnabled(id: string, enabled: boolean): Promise<ScheduleSummary> {
    return this.deploys.setScheduleEnabled(id, enabled);
  }

  deleteSchedule(id: string): Promise<void> {
    return this.deploys.deleteSchedule(id);
  }

  /**
   * Starts a Katib Experiment for the study: each trial is a Job that runs the pipeline in KFP with
   * the trial's values and reports the run's metrics (see `buildKatibExperimentForStudy`).
   */
  async tune(
    pipeline: CompiledPipeline,
    spec: StudySpec,
    opts: TuneOptions & ClusterTuneOptions = {},
  ): Promise<StudyRef> {
    const { graph } = pipeline;
    const trials = { ...this.options.trials, ...opts };
    const checked = checkStudySpec(spec, graph);
    if (checked.study === null)
      throw new BackendError('invalid-study', describeStudyErrors(checked.diagnostics));
    const study = checked.study;
    const searched = new Set(study.parameters.map((p) => p.name));
    const fixed = Object.fromEntries(
      Object.entries(opts.parameters ?? {}).filter(([name]) => !searched.has(name)),
    );
    const { body } = await this.runRequest(pipeline, {
      parameters: fixed,
      ...(opts.notebookPath !== undefined ? { notebookPath: opts.notebookPath } : {}),
      runName: `${graph.pipeline.name} trial`,
    });
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '').slice(2);
    const name = `${toServiceName(graph.pipeline.name).slice(0, 24)}-${stamp}-${randomBytes(2).toString('hex')}`;
    const kfpNamespace = this.options.kfp?.serviceNamespace ?? 'kubeflow';
    await this.studies.create({
      graph,
      spec: study,
      name,
      namespace: this.kube.namespace,
      runTemplate: body,
      ...(opts.notebookPath !== undefined ? { notebookPath: opts.notebookPath } : {}),
      kfpEndpoint:
        trials.trialKfpEndpoint ?? `http://ml-pipeline.${kfpNamespace}.svc.cluster.local:8888`,
      ...(trials.trialImage !== undefined ? { image: trials.trialImage } : {}),
      ...(trials.trialServiceAccount !== undefined || this.multiUser
        ? { serviceAccountName: trials.trialServiceAccount ?? 'default-editor' }
        : {}),
    });
    return { id: name };
  }

  /** The study, then its trials' changes as Katib writes them (watched), until it is over. */
  watchStudy(study: StudyRef): AsyncIterable<StudyEvent> {
    return watchClusterStudy(this.kube, this.kube.namespace, study.id, {
      timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
      ...(this.options.onWatchRestart !== undefined
        ? { onRestart: this.options.onWatchRestart }
        : {}),
      fail: (error, doing) => this.fail(error, doing),
    });
  }

  listStudies(): Promise<StudySummary[]> {
    return this.studies.list(this.kube.namespace);
  }

  /** Deletes the Experiment; Katib stops the trials and their runners terminate their KFP runs. */
  cancelStudy(study: StudyRef): Promise<void> {
    return this.studies.delete(this.kube.namespace, study.id);
  }

  /** A KServe InferenceService for a model a cluster run saved (`serve:` tag); see `listEndpoints` for readiness. */
  async serve(
    model: ModelRef,
    opts: ServeOptions & ClusterServeOptions = {},
  ): Promise<EndpointRef> {
    const run = await this.kfp.getRun(model.runId);
    return createInferenceService(this.kube, model, opts, runSummaryOfKfp(run).pipeline);
  }

  /** Cellflow's InferenceServices in the namespace, with readiness, URL and the last failure. */
  listEndpoints(): Promise<Endpoint[]> {
    return listInferenceServices(this.kube);
  }

  deleteEndpoint(endpoint: EndpointRef): Promise<void> {
    return deleteInferenceService(this.kube, endpoint);
  }
}

/** `"8"`, `"500m"` -> CPUs. */
function cpuCount(quantity: string | undefined): number {
  if (quantity === undefined) return 0;
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity) || 0;
}
