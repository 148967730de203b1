/**
 * The Argo Workflow KFP's API server creates for a v2 run, built the way its argo compiler does
 * (backend/src/v2/compiler/argocompiler): the system driver/executor templates (taken unmodified
 * from an upstream KFP-compiled workflow in ../shared/schemas/argo), one `<task>-driver` + `<task>`
 * pair per task of each DAG, a DAG template per sub-DAG component (its driver is the system DAG
 * driver), the components and containers as workflow parameters keyed like KFP keys them (by the
 * hash of the component's container, so two components with one container share one spec), and
 * the run id as label `pipeline/runid`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ArgoDagTask, ArgoTemplate } from '../argo-nodes.js';
import type { KubeObject } from '../kube-client.js';
import { SHARED_SCHEMAS } from '../paths.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};

const SYSTEM_TEMPLATES = [
  'system-container-driver',
  'system-container-executor',
  'system-container-impl',
  'system-dag-driver',
];

let reference: { spec: Json & { templates: (ArgoTemplate & Json)[] } } | undefined;

function referenceWorkflow(): { spec: Json & { templates: (ArgoTemplate & Json)[] } } {
  reference ??= parse(
    readFileSync(join(SHARED_SCHEMAS, 'argo/kfp-compiled-add_numbers.yaml'), 'utf8'),
  ) as { spec: Json & { templates: (ArgoTemplate & Json)[] } };
  return reference;
}

const hashOf = (value: unknown): string =>
  createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** A Kubernetes-safe generateName prefix from the pipeline name. */
export function workflowNamePrefix(pipelineName: string): string {
  const base = pipelineName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
  return `${base === '' ? 'pipeline' : base}-`;
}

function setArg(args: unknown, flag: string, value: string): void {
  if (!Array.isArray(args)) return;
  const i = args.indexOf(flag);
  if (i >= 0 && i + 1 < args.length) args[i + 1] = value;
}

export interface WorkflowForRunInput {
  runId: string;
  displayName: string;
  namespace: string;
  serviceAccount: string;
  pipelineSpec: Json;
  platformSpec?: Json;
  parameters: Json;
}

export function buildWorkflowForRun(input: WorkflowForRunInput): KubeObject {
  const ref = referenceWorkflow();
  const pipelineName = String(obj(input.pipelineSpec.pipelineInfo).name ?? 'pipeline');
  const templates = structuredClone(
    ref.spec.templates.filter((t) => SYSTEM_TEMPLATES.includes(t.name)),
  );
  for (const t of templates) {
    const args = obj(t.container).args;
    setArg(args, '--pipeline_name', pipelineName);
    setArg(args, '--run_display_name', input.displayName);
  }
  const components = obj(input.pipelineSpec.components);
  const executors = obj(obj(input.pipelineSpec.deploymentSpec).executors);
  const root = obj(input.pipelineSpec.root);
  const tasks = obj(obj(root.dag).tasks);
  const platformExecutors = obj(
    obj(obj(obj(input.platformSpec).platforms).kubernetes).deploymentSpec,
  ).executors;

  const parameters: { name: string; value: string }[] = [];
  const addParameter = (name: string, value: unknown): string => {
    const text = JSON.stringify(value);
    const existing = parameters.find((p) => p.name === name);
    if (existing === undefined) parameters.push({ name, value: text });
    else if (existing.value !== text)
      // KFP keeps the first and silently runs the other task with it: make that loud here.
      throw new Error(`two components share one container but differ (${name})`);
    return `{{workflow.parameters.${name}}}`;
  };

  /** KFP's `hashComponentContainer`: a component's key is its container's hash, else its name. */
  const componentKey = (componentName: string): string => {
    const label = obj(components[componentName]).executorLabel;
    const container = obj(executors[String(label)]).container;
    return container !== undefined ? hashOf(container) : componentName;
  };
  const dagTasksOf = (dagTasksSpec: Json): (ArgoDagTask & Json)[] => {
    const dagTasks: (ArgoDagTask & Json)[] = [];
    for (const [taskName, taskValue] of Object.entries(dagTasksSpec)) {
      const task = obj(taskValue);
      const componentName = String(obj(task.componentRef).name);
      const component = obj(components[componentName]);
      const key = componentKey(componentName);
      const componentParam = addParameter(`components-${key}`, component);
      const dependencies = ((task.dependentTasks as string[] | undefined) ?? []).map(
        (d) => `${d}.Succeeded`,
      );
      const depends = dependencies.length > 0 ? { depends: dependencies.join(' && ') } : {};
      if (component.dag !== undefined) {
        const template = `comp-${componentName.replace(/^comp-/, '')}`;
        if (!templates.some((t) => t.name === template)) {
          templates.push({
            name: template,
            dag: { tasks: dagTasksOf(obj(obj(component.dag).tasks)) },
            inputs: { parameters: [{ name: 'parent-dag-id' }] },
            metadata: {},
            outputs: {},
          });
        }
        dagTasks.push({
          name: `${taskName}-driver`,
          template: 'system-dag-driver',
          arguments: {
            parameters: [
              { name: 'component', value: componentParam },
              { name: 'parent-dag-id', value: '{{inputs.parameters.parent-dag-id}}' },
              { name: 'task', value: JSON.stringify(task) },
              { name: 'task-name', value: taskName },
            ],
          },
          ...depends,
        });
        dagTasks.push({
          name: taskName,
          template,
          depends: `${taskName}-driver.Succeeded`,
          arguments: {
            parameters: [
              {
                name: 'parent-dag-id',
                value: `{{tasks.${taskName}-driver.outputs.parameters.execution-id}}`,
              },
              {
                name: 'condition',
                value: `{{tasks.${taskName}-driver.outputs.parameters.condition}}`,
              },
            ],
          },
        });
        continue;
      }
      const executorLabel = String(component.executorLabel ?? '');
      const container = obj(obj(executors[executorLabel]).container);
      const containerParam = addParameter(`implementations-${key}`, container);
      const kubernetesConfig = obj(platformExecutors)[executorLabel];
      const driverArgs = [
        { name: 'component', value: componentParam },
        { name: 'task', value: JSON.stringify(task) },
        { name: 'container', value: containerParam },
        { name: 'task-name', value: taskName },
        { name: 'parent-dag-id', value: '{{inputs.parameters.parent-dag-id}}' },
        ...(kubernetesConfig !== undefined
          ? [{ name: 'kubernetes-config', value: addParameter(`kubernetes-${componentName}`, kubernetesConfig) }] // prettier-ignore
          : []),
      ];
      dagTasks.push({
        name: `${taskName}-driver`,
        template: 'system-container-driver',
        arguments: { parameters: driverArgs },
        ...depends,
      });
      dagTasks.push({
        name: taskName,
        template: 'system-container-executor',
        depends: `${taskName}-driver.Succeeded`,
        arguments: {
          parameters: [
            {
              name: 'pod-spec-patch',
              value: `{{tasks.${taskName}-driver.outputs.parameters.pod-spec-patch}}`,
            },
            {
              name: 'cached-decision',
              default: 'false',
              value: `{{tasks.${taskName}-driver.outputs.parameters.cached-decision}}`,
            },
          ],
        },
      });
    }
    return dagTasks;
  };
  const dagTasks = dagTasksOf(tasks);
  const rootComponentParam = addParameter('components-root', root);
  templates.push({
    name: 'root',
    dag: { tasks: dagTasks },
    inputs: { parameters: [{ name: 'parent-dag-id' }] },
    metadata: {},
    outputs: {},
  });
  templates.push({
    name: 'entrypoint',
    dag: {
      tasks: [
        {
          name: 'root-driver',
          template: 'system-dag-driver',
          arguments: {
            parameters: [
              { name: 'component', value: rootComponentParam },
              {
                name: 'runtime-config',
                value: JSON.stringify({ parameterValues: input.parameters }),
              },
              { name: 'driver-type', value: 'ROOT_DAG' },
            ],
          },
        },
        {
          name: 'root',
          template: 'root',
          depends: 'root-driver.Succeeded',
          arguments: {
            parameters: [
              {
                name: 'parent-dag-id',
                value: '{{tasks.root-driver.outputs.parameters.execution-id}}',
              },
              { name: 'condition', value: '' },
            ],
          },
        },
      ],
    },
    inputs: {},
    metadata: {},
    outputs: {},
  } as unknown as ArgoTemplate & Json);

  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: {
      generateName: workflowNamePrefix(pipelineName),
      namespace: input.namespace,
      labels: {
        'pipeline/runid': input.runId,
        'pipelines.kubeflow.org/v2_component': 'true',
        'workflows.argoproj.io/completed': 'false',
      },
      annotations: {
        'pipelines.kubeflow.org/run_name': input.displayName,
        'pipelines.kubeflow.org/v2_pipeline': 'true',
      },
    },
    spec: {
      arguments: { parameters },
      entrypoint: 'entrypoint',
      podMetadata: ref.spec.podMetadata,
      securityContext: ref.spec.securityContext,
      serviceAccountName: input.serviceAccount,
      templates,
    },
  };
}
