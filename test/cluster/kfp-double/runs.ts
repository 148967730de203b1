/**
 * Runs and experiments of the KFP double: the request checks KFP's API server makes (and some it
 * leaves to later failures: the pipeline spec is checked against the KFP protos here, runtime
 * parameters against the root inputs), and for every run the Argo Workflow created in the API
 * server. Run state is read through from the Workflow on every request, as KFP's persistence agent
 * would report it, so a test drives it with the controller driver.
 */
import { randomUUID } from 'node:crypto';
import { validatePipelineSpecObject, validatePlatformSpecObject } from '../../validate/kfp-ir.js';
import { validateArgoWorkflowObject } from '../../validate/argo.js';
import type { ArgoWorkflow } from '../argo-nodes.js';
import {
  KubeApiError,
  type KubeClient,
  type KubeObject,
  RESOURCES,
  resourcePath,
} from '../kube-client.js';
import { KfpError } from './list-query.js';
import {
  EPOCH,
  type RuntimeState,
  runStateOfWorkflow,
  type TaskDetail,
  taskDetailsOfWorkflow,
} from './run-status.js';
import { validateKfpBody } from './swagger.js';
import { buildWorkflowForRun } from './workflow-for-run.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};

export interface Experiment {
  experiment_id: string;
  display_name: string;
  description?: string;
  namespace?: string;
  created_at: string;
  last_run_created_at: string;
  storage_state: 'AVAILABLE' | 'ARCHIVED';
  [key: string]: unknown;
}

export interface RunRecord {
  run_id: string;
  experiment_id: string;
  display_name: string;
  description?: string;
  pipeline_spec: Json;
  runtime_config: Json;
  service_account: string;
  storage_state: 'AVAILABLE' | 'ARCHIVED';
  created_at: string;
  scheduled_at: string;
  /** Where its Workflow lives. */
  namespace: string;
  workflowName: string;
  terminating: boolean;
  lastState: RuntimeState;
  finishedAt: string;
  stateHistory: { update_time: string; state: RuntimeState }[];
  taskDetails: TaskDetail[];
  /** Set on runs a recurring run started. */
  recurring_run_id?: string;
  pipeline_version_reference?: Json;
}

const OUTPUT_ONLY_RUN_FIELDS = [
  'run_id', 'storage_state', 'created_at', 'scheduled_at', 'finished_at', 'state', 'error',
  'run_details', 'state_history', 'plugins_output', 'pipeline_version_id',
]; // prettier-ignore

const timestamp = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class KfpStore {
  readonly experiments = new Map<string, Experiment>();
  readonly runs = new Map<string, RunRecord>();
  /** The spec of an uploaded pipeline version (`pipeline_version_reference`), once pipelines exist. */
  resolveVersionSpec: ((reference: unknown) => Json) | undefined;

  constructor(
    private readonly client: KubeClient,
    readonly options: { multiUser: boolean; defaultNamespace: string },
  ) {
    const id = randomUUID();
    this.experiments.set(id, {
      experiment_id: id,
      display_name: 'Default',
      description: 'All runs created without specifying an experiment will be grouped here.',
      created_at: timestamp(),
      last_run_created_at: EPOCH,
      storage_state: 'AVAILABLE',
    });
  }

  createExperiment(body: unknown): Experiment {
    const errors = validateKfpBody('v2beta1Experiment', body);
    if (errors.length > 0) throw new KfpError(3, `Invalid experiment: ${errors.join('; ')}`);
    const e = obj(body);
    for (const f of ['experiment_id', 'created_at', 'last_run_created_at', 'storage_state']) {
      if (e[f] !== undefined) throw new KfpError(3, `Invalid experiment: ${f} is output only`);
    }
    const name = String(e.display_name ?? '');
    if (name === '')
      throw new KfpError(
        3,
        'Invalid input error: Experiment name is empty. Please specify a valid experiment name',
      );
    const namespace =
      typeof e.namespace === 'string' && e.namespace !== '' ? e.namespace : undefined;
    if (this.options.multiUser && namespace === undefined) {
      throw new KfpError(
        3,
        'Invalid input error: In multi-user mode, experiment namespace must be specified',
      );
    }
    for (const other of this.experiments.values()) {
      if (other.display_name === name && other.namespace === namespace) {
        throw new KfpError(
          6,
          `Failed to create a new experiment. The name ${name} already exist. Please specify a new name`,
        );
      }
    }
    const experiment: Experiment = {
      experiment_id: randomUUID(),
      display_name: name,
      ...(typeof e.description === 'string' ? { description: e.description } : {}),
      ...(namespace !== undefined && this.options.multiUser ? { namespace } : {}),
      created_at: timestamp(),
      last_run_created_at: EPOCH,
      storage_state: 'AVAILABLE',
    };
    this.experiments.set(experiment.experiment_id, experiment);
    return experiment;
  }

  getExperiment(id: string): Experiment {
    const e = this.experiments.get(id);
    if (e === undefined)
      throw new KfpError(5, `Failed to get experiment: experiment ${id} not found`);
    return e;
  }

  private namespaceOf(experiment: Experiment): string {
    return this.options.multiUser
      ? (experiment.namespace ?? this.options.defaultNamespace)
      : this.options.defaultNamespace;
  }

  async createRun(body: unknown, experimentIdQuery: string | null): Promise<RunRecord> {
    const schemaErrors = validateKfpBody('v2beta1Run', body);
    if (schemaErrors.length > 0) throw new KfpError(3, `Invalid run: ${schemaErrors.join('; ')}`);
    const r = obj(body);
    const outputOnly = OUTPUT_ONLY_RUN_FIELDS.filter((f) => r[f] !== undefined);
    if (outputOnly.length > 0) {
      throw new KfpError(3, `Invalid run: output-only field(s) set: ${outputOnly.join(', ')}`);
    }
    const displayName = String(r.display_name ?? '');
    if (displayName === '')
      throw new KfpError(3, 'Invalid input error: run display name is required');
    if ((r.pipeline_version_reference === undefined) === (r.pipeline_spec === undefined)) {
      throw new KfpError(
        3,
        'Invalid input error: a run needs pipeline_spec or pipeline_version_reference (one of them)',
      );
    }
    if (r.pipeline_version_reference !== undefined && this.resolveVersionSpec === undefined) {
      throw new KfpError(12, 'pipeline_version_reference needs the pipelines of the KFP double');
    }
    const fullSpec =
      r.pipeline_version_reference !== undefined
        ? this.resolveVersionSpec!(r.pipeline_version_reference)
        : obj(r.pipeline_spec);
    // A spec with a platform spec travels as { pipeline_spec, platform_spec }.
    const wrapped = fullSpec.pipeline_spec !== undefined;
    const pipelineSpec = wrapped ? obj(fullSpec.pipeline_spec) : fullSpec;
    const platformSpec = wrapped ? fullSpec.platform_spec : undefined;
    const specErrors = [
      ...validatePipelineSpecObject(pipelineSpec),
      ...(platformSpec !== undefined ? validatePlatformSpecObject(platformSpec) : []),
    ];
    if (specErrors.length > 0) {
      throw new KfpError(3, `Invalid pipeline spec: ${specErrors.join('; ')}`);
    }
    const parameters = obj(obj(r.runtime_config).parameters);
    this.checkParameters(pipelineSpec, parameters);

    const bodyExperiment = typeof r.experiment_id === 'string' ? r.experiment_id : undefined;
    if (
      bodyExperiment !== undefined &&
      experimentIdQuery !== null &&
      experimentIdQuery !== bodyExperiment
    ) {
      throw new KfpError(3, 'Invalid input error: experiment_id in the query and the body differ');
    }
    const experimentId =
      bodyExperiment ?? experimentIdQuery ?? this.defaultExperiment().experiment_id;
    const experiment = this.getExperiment(experimentId);
    if (experiment.storage_state === 'ARCHIVED') {
      throw new KfpError(9, `Failed to create a run: experiment ${experimentId} is archived`);
    }
    const runId = randomUUID();
    const namespace = this.namespaceOf(experiment);
    const serviceAccount =
      typeof r.service_account === 'string' && r.service_account !== ''
        ? r.service_account
        : 'pipeline-runner';
    const workflow = buildWorkflowForRun({
      runId,
      displayName,
      namespace,
      serviceAccount,
      pipelineSpec,
      ...(platformSpec !== undefined ? { platformSpec: obj(platformSpec) } : {}),
      parameters,
    });
    const workflowErrors = validateArgoWorkflowObject(workflow);
    if (workflowErrors.length > 0) {
      throw new KfpError(13, `KFP double built an invalid Workflow: ${workflowErrors.join('; ')}`);
    }
    let created: KubeObject;
    try {
      created = await this.client.create(
        resourcePath(RESOURCES.workflows, { namespace }),
        workflow,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new KfpError(13, `Failed to create a run: creating the workflow failed: ${message}`);
    }
    const now = timestamp();
    const run: RunRecord = {
      run_id: runId,
      experiment_id: experimentId,
      display_name: displayName,
      ...(typeof r.description === 'string' ? { description: r.description } : {}),
      pipeline_spec: fullSpec,
      runtime_config: obj(r.runtime_config),
      ...(r.pipeline_version_reference !== undefined
        ? { pipeline_version_reference: obj(r.pipeline_version_reference) }
        : {}),
      service_account: serviceAccount,
      storage_state: 'AVAILABLE',
      created_at: now,
      scheduled_at: now,
      namespace,
      workflowName: created.metadata.name ?? '',
      terminating: false,
      lastState: 'PENDING',
      finishedAt: EPOCH,
      stateHistory: [{ update_time: now, state: 'PENDING' }],
      taskDetails: [],
    };
    this.runs.set(runId, run);
    experiment.last_run_created_at = now;
    return run;
  }

  defaultExperiment(): Experiment {
    for (const e of this.experiments.values()) if (e.display_name === 'Default') return e;
    throw new KfpError(5, 'Default experiment not found');
  }

  /** CreateRun's check of runtime parameters against a (possibly wrapped) pipeline spec's root inputs. */
  checkRuntimeParameters(spec: Json, parameters: Json): void {
    this.checkParameters(
      spec.pipeline_spec !== undefined ? obj(spec.pipeline_spec) : spec,
      parameters,
    );
  }

  private checkParameters(pipelineSpec: Json, parameters: Json): void {
    const declared = obj(obj(obj(pipelineSpec.root).inputDefinitions).parameters);
    const unknown = Object.keys(parameters).filter((k) => declared[k] === undefined);
    if (unknown.length > 0) {
      throw new KfpError(
        3,
        `Invalid runtime config: parameter(s) ${unknown.join(', ')} not defined by the pipeline (inputs: ${Object.keys(declared).join(', ') || 'none'})`,
      );
    }
    const missing = Object.entries(declared)
      .filter(([k, d]) => parameters[k] === undefined && obj(d).defaultValue === undefined && obj(d).isOptional !== true)
      .map(([k]) => k); // prettier-ignore
    if (missing.length > 0) {
      throw new KfpError(
        3,
        `Invalid runtime config: required parameter(s) ${missing.join(', ')} missing`,
      );
    }
  }

  getRunRecord(id: string): RunRecord {
    const run = this.runs.get(id);
    if (run === undefined) throw new KfpError(5, `Failed to get run: run ${id} not found`);
    return run;
  }

  /** Reads the run's Workflow and updates state, history, finish time and task details. */
  async refresh(run: RunRecord): Promise<RunRecord> {
    let workflow: ArgoWorkflow | undefined;
    try {
      workflow = await this.client.get<ArgoWorkflow & KubeObject>(
        resourcePath(RESOURCES.workflows, { namespace: run.namespace, name: run.workflowName }),
      );
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error;
    }
    if (workflow === undefined) return run; // deleted by someone else: last known state stays
    const state = runStateOfWorkflow(workflow, run.terminating);
    if (state !== run.lastState) {
      run.lastState = state;
      run.stateHistory.push({ update_time: timestamp(), state });
    }
    const finished = workflow.status?.finishedAt;
    run.finishedAt = typeof finished === 'string' && finished !== '' ? finished : EPOCH;
    run.taskDetails = taskDetailsOfWorkflow(workflow, run.run_id, run.terminating);
    return run;
  }

  /** KFP's TerminateRun: sets the Workflow's deadline to 0 so Argo stops it. */
  async terminate(run: RunRecord): Promise<void> {
    await this.refresh(run);
    if (['SUCCEEDED', 'FAILED', 'CANCELED', 'SKIPPED'].includes(run.lastState)) {
      throw new KfpError(
        9,
        `Failed to terminate run ${run.run_id}: run is in a terminal state (${run.lastState})`,
      );
    }
    await this.client.mergePatch(
      resourcePath(RESOURCES.workflows, { namespace: run.namespace, name: run.workflowName }),
      { spec: { activeDeadlineSeconds: 0 } },
    );
    run.terminating = true;
    await this.refresh(run);
  }

  async deleteRun(run: RunRecord): Promise<void> {
    try {
      await this.client.delete(
        resourcePath(RESOURCES.workflows, { namespace: run.namespace, name: run.workflowName }),
      );
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error;
    }
    this.runs.delete(run.run_id);
  }

  /** The v2beta1Run a client sees. */
  runView(run: RunRecord): Json {
    return {
      experiment_id: run.experiment_id,
      run_id: run.run_id,
      display_name: run.display_name,
      ...(run.description !== undefined ? { description: run.description } : {}),
      storage_state: run.storage_state,
      // KFP's `pipeline_source` is a oneof: a run from an uploaded version names only the version.
      ...(run.pipeline_version_reference === undefined ? { pipeline_spec: run.pipeline_spec } : {}),
      runtime_config: run.runtime_config,
      service_account: run.service_account,
      created_at: run.created_at,
      scheduled_at: run.scheduled_at,
      finished_at: run.finishedAt,
      state: run.lastState,
      run_details: { task_details: run.taskDetails },
      state_history: run.stateHistory,
      ...(run.recurring_run_id !== undefined ? { recurring_run_id: run.recurring_run_id } : {}),
      ...(run.pipeline_version_reference !== undefined
        ? { pipeline_version_reference: run.pipeline_version_reference }
        : {}),
    };
  }
}
