/**
 * The controllers a test cluster lacks (Argo, kubelet, Katib, KServe), as one object a test drives:
 *
 *   const driver = new ControllerDriver(cluster);
 *   await driver.setTaskPhase('kubeflow', wf, 'train', 'Running', { log: 'epoch 1\n' });
 *   await driver.play([() => driver.setTaskPhase(...), () => driver.finishWorkflow(...)], 50);
 *
 * Every change is a write to the real API server (status subresource where the CRD has one; Argo
 * keeps status in the object itself), so the code under test reads it through ordinary API calls
 * and watches.
 */
import type { ArgoNodePhase } from './argo-nodes.js';
import {
  createTrial,
  type ExperimentCondition,
  setTrialCondition,
  syncExperimentStatus,
  type TrialCondition,
} from './drive-katib.js';
import {
  setInferenceServiceFailed,
  setInferenceServicePending,
  setInferenceServiceReady,
} from './drive-kserve.js';
import { type DriverTarget, type PodPhase, setPodPhase } from './drive-pods.js';
import {
  findWorkflowForRun,
  finishWorkflow,
  getWorkflow,
  podNameForTask,
  runWorkflowToCompletion,
  setWorkflowTaskPhase,
  type TaskPhaseOptions,
  userTasks,
} from './drive-workflows.js';

export class ControllerDriver {
  constructor(private readonly target: DriverTarget) {}

  // --- Argo workflows and their pods -------------------------------------------------------

  getWorkflow(namespace: string, name: string): ReturnType<typeof getWorkflow> {
    return getWorkflow(this.target, namespace, name);
  }

  /** The Workflow a KFP run created (label `pipeline/runid=<runId>`). */
  findWorkflowForRun(namespace: string, runId: string): ReturnType<typeof findWorkflowForRun> {
    return findWorkflowForRun(this.target, namespace, runId);
  }

  /** Tasks a user calls steps, in dependency order (KFP: the `root` DAG's non-driver tasks). */
  async userTasks(namespace: string, workflow: string): Promise<string[]> {
    return userTasks(await this.getWorkflow(namespace, workflow));
  }

  setTaskPhase(
    namespace: string,
    workflow: string,
    task: string,
    phase: ArgoNodePhase,
    options?: TaskPhaseOptions,
  ): ReturnType<typeof setWorkflowTaskPhase> {
    return setWorkflowTaskPhase(this.target, namespace, workflow, task, phase, options);
  }

  finishWorkflow(
    namespace: string,
    workflow: string,
    phase: 'Succeeded' | 'Failed' | 'Error',
    message?: string,
  ): ReturnType<typeof finishWorkflow> {
    return finishWorkflow(this.target, namespace, workflow, phase, message);
  }

  runWorkflowToCompletion(
    namespace: string,
    workflow: string,
    options?: { failTask?: string; logs?: Record<string, string>; tasks?: string[] },
  ): ReturnType<typeof runWorkflowToCompletion> {
    return runWorkflowToCompletion(this.target, namespace, workflow, options);
  }

  async podNameForTask(namespace: string, workflow: string, task: string): Promise<string> {
    const name = podNameForTask(await this.getWorkflow(namespace, workflow), task);
    if (name === undefined) throw new Error(`workflow ${workflow} has no pod for task ${task}`);
    return name;
  }

  setPodPhase(
    namespace: string,
    pod: string,
    phase: PodPhase,
    options?: { exitCode?: number; message?: string },
  ): ReturnType<typeof setPodPhase> {
    return setPodPhase(this.target, namespace, pod, phase, options);
  }

  /** Container output, served by the stand-in kubelet through `pods/log`. */
  writeLog(namespace: string, pod: string, text: string, container = 'main'): void {
    this.target.kubelet.writeLog(namespace, pod, container, text);
  }

  // --- Katib ----------------------------------------------------------------------------------

  createTrial(
    namespace: string,
    experiment: string,
    assignments: Record<string, string | number>,
    name?: string,
  ): ReturnType<typeof createTrial> {
    return createTrial(this.target, namespace, experiment, assignments, name);
  }

  setTrialCondition(
    namespace: string,
    trial: string,
    condition: TrialCondition,
    options?: { metrics?: Record<string, number | string>; message?: string },
  ): ReturnType<typeof setTrialCondition> {
    return setTrialCondition(this.target, namespace, trial, condition, options);
  }

  syncExperimentStatus(
    namespace: string,
    experiment: string,
    condition?: ExperimentCondition,
    message?: string,
  ): ReturnType<typeof syncExperimentStatus> {
    return syncExperimentStatus(this.target, namespace, experiment, condition, message);
  }

  // --- KServe ---------------------------------------------------------------------------------

  setInferenceServicePending(
    namespace: string,
    name: string,
  ): ReturnType<typeof setInferenceServicePending> {
    return setInferenceServicePending(this.target, namespace, name);
  }

  setInferenceServiceReady(
    namespace: string,
    name: string,
    options?: { url?: string; revision?: string },
  ): ReturnType<typeof setInferenceServiceReady> {
    return setInferenceServiceReady(this.target, namespace, name, options);
  }

  setInferenceServiceFailed(
    namespace: string,
    name: string,
    message?: string,
  ): ReturnType<typeof setInferenceServiceFailed> {
    return setInferenceServiceFailed(this.target, namespace, name, message);
  }

  // --- Scripts --------------------------------------------------------------------------------

  /**
   * Plays steps one after another with `intervalMs` between them (while the code under test
   * watches); resolves when the last step is done, rejects on the first failing step.
   */
  async play(steps: readonly (() => Promise<unknown>)[], intervalMs = 20): Promise<void> {
    for (const [i, step] of steps.entries()) {
      if (i > 0 && intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
      await step();
    }
  }
}
