/**
 * How the Argo controller names and nests the nodes of a DAG workflow (v3.4+, POD_NAMES=v2):
 * node name `wf.task.subtask`, node id `wf-<fnv32a(node name)>`, pod name
 * `wf-<template>-<fnv32a(node name)>`. Shared by the controller driver (which writes
 * `status.nodes`) and the KFP double (which reads them back as task details).
 */

export interface ArgoDagTask {
  name: string;
  template: string;
  depends?: string;
  dependencies?: string[];
}

export interface ArgoTemplate {
  name: string;
  dag?: { tasks: ArgoDagTask[] };
  container?: Record<string, unknown>;
  script?: Record<string, unknown>;
  resource?: unknown;
  steps?: unknown;
}

export interface ArgoWorkflow {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec: { entrypoint?: string; templates?: ArgoTemplate[]; [key: string]: unknown };
  status?: ArgoWorkflowStatus;
}

export type ArgoPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Error';
export type ArgoNodePhase = ArgoPhase | 'Skipped' | 'Omitted';

export interface ArgoNodeStatus {
  id: string;
  name: string;
  displayName: string;
  type: 'Pod' | 'DAG' | 'Steps' | 'Skipped' | 'Retry';
  templateName: string;
  phase: ArgoNodePhase;
  boundaryID?: string;
  children?: string[];
  message?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  progress?: string;
  hostNodeName?: string;
  [key: string]: unknown;
}

export interface ArgoWorkflowStatus {
  phase?: ArgoPhase;
  startedAt?: string | null;
  finishedAt?: string | null;
  message?: string;
  progress?: string;
  nodes?: Record<string, ArgoNodeStatus>;
  [key: string]: unknown;
}

/** 32-bit FNV-1a, as Go's hash/fnv New32a. */
export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function argoNodeId(workflowName: string, nodeName: string): string {
  return nodeName === workflowName ? workflowName : `${workflowName}-${fnv32a(nodeName)}`;
}

export function argoPodName(workflowName: string, nodeName: string, templateName: string): string {
  if (nodeName === workflowName) return workflowName;
  const prefix = `${workflowName}-${templateName}`.slice(0, 252 - 11);
  return `${prefix}-${fnv32a(nodeName)}`;
}

export function isPodTemplate(template: ArgoTemplate | undefined): boolean {
  return (
    template?.container !== undefined ||
    template?.script !== undefined ||
    template?.resource !== undefined
  );
}

/** One place in the workflow's DAG tree: node name, the task, its template and parent. */
export interface DagPosition {
  nodeName: string;
  task: ArgoDagTask | undefined;
  template: ArgoTemplate;
  parent: DagPosition | undefined;
  /** Node name of the enclosing DAG node (Argo's boundaryID is its id). */
  boundary: string | undefined;
}

/** Every node position reachable from the entrypoint through DAG templates, parents first. */
export function dagPositions(workflow: ArgoWorkflow): DagPosition[] {
  const name = workflow.metadata.name ?? '';
  const templates = new Map((workflow.spec.templates ?? []).map((t) => [t.name, t]));
  const entry = templates.get(workflow.spec.entrypoint ?? '');
  if (entry === undefined) return [];
  const out: DagPosition[] = [];
  const visit = (position: DagPosition, depth: number): void => {
    out.push(position);
    if (depth > 20) return;
    for (const task of position.template.dag?.tasks ?? []) {
      const template = templates.get(task.template);
      if (template === undefined) continue;
      visit(
        {
          nodeName: `${position.nodeName}.${task.name}`,
          task,
          template,
          parent: position,
          boundary: position.nodeName,
        },
        depth + 1,
      );
    }
  };
  visit(
    { nodeName: name, task: undefined, template: entry, parent: undefined, boundary: undefined },
    0,
  );
  return out;
}

/** Names of the tasks a DAG task waits for (`depends` expression or `dependencies`). */
export function taskPrerequisites(task: ArgoDagTask): string[] {
  const fromDepends = (task.depends ?? '')
    .split(/&&|\|\|/)
    .map((part) => part.replace(/[()!\s]/g, '').split('.')[0] ?? '')
    .filter((n) => n !== '');
  return [...new Set([...(task.dependencies ?? []), ...fromDepends])];
}

/**
 * Finds the position of a task by its name (`train`), by a dotted path below the workflow
 * (`root.train`), or by full node name. The shallowest match wins.
 */
export function findTaskPosition(workflow: ArgoWorkflow, task: string): DagPosition | undefined {
  const name = workflow.metadata.name ?? '';
  const positions = dagPositions(workflow);
  return (
    positions.find((p) => p.nodeName === task) ??
    positions.find((p) => p.nodeName === `${name}.${task}`) ??
    positions.find((p) => p.task?.name === task)
  );
}

/**
 * The pod that runs a task's own code: the task itself if it is a pod, else the first pod below
 * it that is not a prerequisite of a sibling (for KFP: the `executor` pod, not the driver).
 */
export function mainPodPosition(
  workflow: ArgoWorkflow,
  position: DagPosition,
): DagPosition | undefined {
  if (isPodTemplate(position.template)) return position;
  const positions = dagPositions(workflow);
  const queue = [position];
  while (queue.length > 0) {
    const current = queue.shift()!;
    const children = positions.filter((c) => c.parent?.nodeName === current.nodeName);
    const prerequisites = new Set(
      children.flatMap((c) => (c.task === undefined ? [] : taskPrerequisites(c.task))),
    );
    for (const child of children) {
      if (prerequisites.has(child.task?.name ?? '')) continue;
      if (isPodTemplate(child.template)) return child;
      queue.push(child);
    }
  }
  return undefined;
}
