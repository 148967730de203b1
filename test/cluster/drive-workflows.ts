/**
 * Stands in for the Argo workflow controller and the kubelet: moves a Workflow's tasks through
 * their phases the way Argo records them in `status.nodes`, creates the step pods on a node, sets
 * their status and writes their container output to the stand-in kubelet, so that a client reads
 * progress, pods and logs through the real API server.
 */
import {
  type ArgoNodePhase,
  type ArgoNodeStatus,
  type ArgoPhase,
  type ArgoWorkflow,
  argoNodeId,
  argoPodName,
  type DagPosition,
  dagPositions,
  findTaskPosition,
  isPodTemplate,
  mainPodPosition,
  taskPrerequisites,
} from './argo-nodes.js';
import { type DriverTarget, now, syncStepPod } from './drive-pods.js';
import { type KubeObject, RESOURCES, resourcePath } from './kube-client.js';

const TERMINAL = new Set<ArgoNodePhase>(['Succeeded', 'Failed', 'Error', 'Skipped', 'Omitted']);

export interface TaskPhaseOptions {
  message?: string;
  /** Node the step pods are bound to (default `cpu-node-0`). */
  nodeName?: string;
  /** Text the step's main container prints (written to the stand-in kubelet). */
  log?: string;
  /** Exit code recorded for a failed pod (default 1). */
  exitCode?: number;
  /** Called just before the workflow's new status is sent (latency measurements start there). */
  beforeWrite?: () => void;
}

const workflowPath = (namespace: string, name?: string): string =>
  resourcePath(RESOURCES.workflows, { namespace, name });

export async function getWorkflow(
  target: DriverTarget,
  namespace: string,
  name: string,
): Promise<ArgoWorkflow & KubeObject> {
  return target.admin.get<ArgoWorkflow & KubeObject>(workflowPath(namespace, name));
}

/** The one workflow a KFP run created (label `pipeline/runid`), or undefined. */
export async function findWorkflowForRun(
  target: DriverTarget,
  namespace: string,
  runId: string,
): Promise<(ArgoWorkflow & KubeObject) | undefined> {
  const list = await target.admin.list<ArgoWorkflow & KubeObject>(workflowPath(namespace), {
    labelSelector: `pipeline/runid=${runId}`,
  });
  return list.items[0];
}

/**
 * Sets a task (by name, dotted path or node name) to `phase`, as Argo would: its enclosing DAG
 * nodes become Running, the tasks it depends on that have not finished become Succeeded, a DAG
 * task's children follow it, pods are created/updated and the workflow phase and progress are
 * kept consistent. Returns the updated workflow.
 */
export async function setWorkflowTaskPhase(
  target: DriverTarget,
  namespace: string,
  workflowName: string,
  task: string,
  phase: ArgoNodePhase,
  options: TaskPhaseOptions = {},
): Promise<ArgoWorkflow & KubeObject> {
  const workflow = await getWorkflow(target, namespace, workflowName);
  const position = findTaskPosition(workflow, task);
  if (position === undefined) {
    const known = dagPositions(workflow).map((p) => p.task?.name ?? '(entrypoint)');
    throw new Error(`workflow ${workflowName} has no task "${task}" (tasks: ${known.join(', ')})`);
  }
  const status = workflow.status ?? {};
  const nodes = { ...(status.nodes ?? {}) };
  const current = nodes[argoNodeId(workflowName, position.nodeName)];
  if (current !== undefined && TERMINAL.has(current.phase) && !TERMINAL.has(phase)) {
    throw new Error(
      `task "${task}" of workflow ${workflowName} already finished (${current.phase}); ` +
        `Argo never moves a node back to ${phase}`,
    );
  }
  const pods: { position: DagPosition; phase: ArgoNodePhase }[] = [];
  const positions = dagPositions(workflow);
  const upsert = (p: DagPosition, nodePhase: ArgoNodePhase, message?: string): void => {
    const id = argoNodeId(workflowName, p.nodeName);
    const old = nodes[id];
    const isPod = isPodTemplate(p.template);
    const children = positions
      .filter((c) => c.parent?.nodeName === p.nodeName)
      .map((c) => argoNodeId(workflowName, c.nodeName))
      .filter((cid) => nodes[cid] !== undefined || cid === id);
    const node: ArgoNodeStatus = {
      ...old,
      id,
      name: p.nodeName,
      displayName: p.task?.name ?? workflowName,
      type: isPod ? 'Pod' : 'DAG',
      templateName: p.template.name,
      templateScope: 'local/',
      phase: nodePhase,
      startedAt: old?.startedAt ?? now(),
      finishedAt: TERMINAL.has(nodePhase) ? (old?.finishedAt ?? now()) : null,
      ...(p.boundary !== undefined ? { boundaryID: argoNodeId(workflowName, p.boundary) } : {}),
      ...(children.length > 0 ? { children } : {}),
      ...(message !== undefined ? { message } : {}),
      ...(isPod ? { hostNodeName: options.nodeName ?? 'cpu-node-0' } : {}),
    };
    nodes[id] = node;
    // Link into the parent's children.
    if (p.parent !== undefined) {
      const parentId = argoNodeId(workflowName, p.parent.nodeName);
      const parent = nodes[parentId];
      if (parent !== undefined && !(parent.children ?? []).includes(id)) {
        nodes[parentId] = { ...parent, children: [...(parent.children ?? []), id] };
      }
    }
    if (isPod) pods.push({ position: p, phase: nodePhase });
  };
  const phaseOf = (p: DagPosition): ArgoNodePhase | undefined =>
    nodes[argoNodeId(workflowName, p.nodeName)]?.phase;

  const started = phase !== 'Pending';
  // Ancestors first (outermost), each running once anything below it runs.
  const chain: DagPosition[] = [];
  for (let p = position.parent; p !== undefined; p = p.parent) chain.unshift(p);
  for (const ancestor of chain) {
    const current = phaseOf(ancestor);
    if (current === undefined || (!TERMINAL.has(current) && started)) {
      upsert(ancestor, started ? 'Running' : (current ?? 'Pending'));
    }
    // Prerequisites of the next step down have finished if it started.
  }
  if (started) {
    for (let p: DagPosition | undefined = position; p?.parent !== undefined; p = p.parent) {
      const siblings = positions.filter((s) => s.parent?.nodeName === p?.parent?.nodeName);
      for (const prerequisite of p.task === undefined ? [] : taskPrerequisites(p.task)) {
        const dep = siblings.find((s) => s.task?.name === prerequisite);
        if (dep === undefined) continue;
        const depPhase = phaseOf(dep);
        if (depPhase === undefined || !TERMINAL.has(depPhase)) setSubtree(dep, 'Succeeded');
      }
    }
  }
  function setSubtree(p: DagPosition, nodePhase: ArgoNodePhase, message?: string): void {
    upsert(p, nodePhase, message);
    if (nodePhase === 'Pending') return;
    const children = positions.filter((c) => c.parent?.nodeName === p.nodeName);
    const prerequisites = new Set(
      children.flatMap((c) => (c.task === undefined ? [] : taskPrerequisites(c.task))),
    );
    for (const child of children) {
      const name = child.task?.name ?? '';
      if (prerequisites.has(name)) {
        // e.g. KFP's driver pod: it finished before the main task of the DAG could start.
        setSubtree(child, 'Succeeded');
      } else if (nodePhase !== 'Running' || taskPrerequisites(child.task!).length === 0) {
        setSubtree(child, nodePhase, message);
      }
    }
  }
  setSubtree(position, phase, options.message);

  // Workflow phase and progress.
  const podNodes = Object.values(nodes).filter((n) => n.type === 'Pod');
  const done = podNodes.filter((n) => n.phase === 'Succeeded' || n.phase === 'Skipped').length;
  const wfPhase: ArgoPhase =
    status.phase !== undefined && TERMINAL.has(status.phase)
      ? status.phase
      : started
        ? 'Running'
        : (status.phase ?? 'Pending');
  const entry = positions[0];
  if (entry !== undefined && started) {
    const entryPhase = phaseOf(entry);
    if (entryPhase === undefined || !TERMINAL.has(entryPhase)) upsert(entry, 'Running');
  }
  const patch = {
    metadata: {
      labels: {
        'workflows.argoproj.io/phase': wfPhase,
        'workflows.argoproj.io/completed': 'false',
      },
    },
    status: {
      phase: wfPhase,
      startedAt: status.startedAt ?? now(),
      finishedAt: null,
      progress: `${done}/${podNodes.length}`,
      nodes,
    },
  };
  // The pods first, as with Argo: a node is recorded Running, Succeeded or Failed only after its
  // pod has reached that phase, so a client that sees the node finished finds its pod and log.
  const mainPod = mainPodPosition(workflow, position);
  for (const pod of pods) {
    await syncStepPod(target, workflow, namespace, pod.position, pod.phase, {
      ...options,
      log: pod.position.nodeName === mainPod?.nodeName ? options.log : undefined,
    });
  }
  options.beforeWrite?.();
  return target.admin.mergePatch<ArgoWorkflow & KubeObject>(
    workflowPath(namespace, workflowName),
    patch,
  );
}

/** Finishes the workflow: phase, finishedAt, the completed label and the entry node. */
export async function finishWorkflow(
  target: DriverTarget,
  namespace: string,
  workflowName: string,
  phase: 'Succeeded' | 'Failed' | 'Error',
  message?: string,
): Promise<ArgoWorkflow & KubeObject> {
  const workflow = await getWorkflow(target, namespace, workflowName);
  const nodes = { ...(workflow.status?.nodes ?? {}) };
  const finishedAt = now();
  for (const [id, node] of Object.entries(nodes)) {
    if (!TERMINAL.has(node.phase)) {
      nodes[id] = {
        ...node,
        phase: phase === 'Succeeded' && node.type === 'Pod' ? 'Succeeded' : phase,
        finishedAt,
        ...(message !== undefined && phase !== 'Succeeded' ? { message } : {}),
      };
    }
  }
  const podNodes = Object.values(nodes).filter((n) => n.type === 'Pod');
  const done = podNodes.filter((n) => n.phase === 'Succeeded' || n.phase === 'Skipped').length;
  // Pods of nodes that were still running end first, then the workflow with them.
  for (const p of dagPositions(workflow)) {
    const node = nodes[argoNodeId(workflowName, p.nodeName)];
    if (node?.type === 'Pod') await syncStepPod(target, workflow, namespace, p, node.phase, {});
  }
  return target.admin.mergePatch<ArgoWorkflow & KubeObject>(workflowPath(namespace, workflowName), {
    metadata: {
      labels: { 'workflows.argoproj.io/phase': phase, 'workflows.argoproj.io/completed': 'true' },
    },
    status: {
      phase,
      startedAt: workflow.status?.startedAt ?? finishedAt,
      finishedAt,
      progress: `${done}/${podNodes.length}`,
      nodes,
      ...(message !== undefined ? { message } : {}),
    },
  });
}

/**
 * Runs every task of the workflow to Succeeded in dependency order (or fails `failTask` and stops),
 * writing `logs[task]` as each one's output, then finishes the workflow.
 */
export async function runWorkflowToCompletion(
  target: DriverTarget,
  namespace: string,
  workflowName: string,
  options: { failTask?: string; logs?: Record<string, string>; tasks?: string[] } = {},
): Promise<ArgoWorkflow & KubeObject> {
  const workflow = await getWorkflow(target, namespace, workflowName);
  const mainTasks = options.tasks ?? userTasks(workflow);
  for (const task of mainTasks) {
    const latest = await getWorkflow(target, namespace, workflowName);
    const position = findTaskPosition(latest, task);
    const node =
      position === undefined
        ? undefined
        : latest.status?.nodes?.[argoNodeId(workflowName, position.nodeName)];
    if (node !== undefined && TERMINAL.has(node.phase)) continue;
    await setWorkflowTaskPhase(target, namespace, workflowName, task, 'Running');
    const failed = task === options.failTask;
    await setWorkflowTaskPhase(
      target,
      namespace,
      workflowName,
      task,
      failed ? 'Failed' : 'Succeeded',
      {
        log: options.logs?.[task],
        ...(failed ? { message: 'Error (exit code 1)' } : {}),
      },
    );
    if (failed)
      return finishWorkflow(target, namespace, workflowName, 'Failed', `child '${task}' failed`);
  }
  return finishWorkflow(target, namespace, workflowName, 'Succeeded');
}

/**
 * The tasks a user would call steps, in dependency order: for a KFP-compiled workflow the tasks
 * of the `root` DAG other than drivers; otherwise the entrypoint DAG's tasks.
 */
export function userTasks(workflow: ArgoWorkflow): string[] {
  const positions = dagPositions(workflow);
  const root = positions.find((p) => p.task?.name === 'root' && p.template.dag !== undefined);
  const parent = root ?? positions[0];
  if (parent === undefined) return [];
  const tasks = (parent.template.dag?.tasks ?? []).filter((t) => !t.name.endsWith('-driver'));
  const order: string[] = [];
  const names = new Set(tasks.map((t) => t.name));
  const visit = (name: string, seen: Set<string>): void => {
    if (order.includes(name) || seen.has(name)) return;
    seen.add(name);
    const task = tasks.find((t) => t.name === name);
    for (const dep of task === undefined ? [] : taskPrerequisites(task)) {
      if (names.has(dep)) visit(dep, seen);
    }
    order.push(name);
  };
  for (const t of tasks) visit(t.name, new Set());
  return order;
}

/** The pod name Argo gives a task's pod (for a DAG task, the pod that runs its code). */
export function podNameForTask(workflow: ArgoWorkflow, task: string): string | undefined {
  const position = findTaskPosition(workflow, task);
  const pod = position === undefined ? undefined : mainPodPosition(workflow, position);
  if (pod === undefined) return undefined;
  return argoPodName(workflow.metadata.name ?? '', pod.nodeName, pod.template.name);
}
