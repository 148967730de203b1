/**
 * KFP v2 pipeline IR: a `PipelineSpec` document plus the Kubernetes `PlatformSpec` document
 * (labels, annotations, secrets, node selector, tolerations, deadlines). Every step is a container
 * executor running its generated entry script; data passes as artifacts, never a shared volume.
 *
 * The step runtime is shipped once per pipeline: a first task (`cellflow-runtime`, always cached)
 * writes it as an artifact that every step reads from the path its first argument names. Sharing
 * one executor instead would not shrink the Workflow KFP's backend makes: it keys component specs
 * by their container, so steps need containers of their own, and each container is stored once.
 *
 * KFP runs each task as two Argo DAG tasks (driver and executor) and Argo allows 200 tasks per
 * DAG, so pipelines of more than `MAX_STEPS_PER_DAG` steps are grouped into sub-DAG components,
 * with the artifacts that cross a group's boundary declared as its inputs and outputs.
 */
import type { ParameterType, PipelineGraph, PipelineStep } from '../../graph/pipeline-graph.js';
import {
  buildEntryScriptForStep,
  buildUnitTableForGraph,
  type UnitTable,
} from '../entry-script/build-entry-script-for-step.js';
import { RUNTIME_SOURCE_DEFLATED } from '../entry-script/runtime-source.generated.js';
import { cpuCores, memoryGigabytes } from './kubernetes-quantity.js';
import { literalBlockFor, StyledString, writeIrYaml, type LiteralBlock } from './write-ir-yaml.js';

export const CELLFLOW_VERSION = '0.1.0';

const PARAMETER_TYPES: Readonly<Record<ParameterType, string>> = {
  int: 'NUMBER_INTEGER',
  float: 'NUMBER_DOUBLE',
  str: 'STRING',
  bool: 'BOOLEAN',
  list: 'LIST',
  dict: 'STRUCT',
};

const ARTIFACT = { schemaTitle: 'system.Artifact', schemaVersion: '0.0.1' };
const METRICS = { schemaTitle: 'system.Metrics', schemaVersion: '0.0.1' };
const HTML = { schemaTitle: 'system.HTML', schemaVersion: '0.0.1' };
/** Output key of the step's metrics artifact. */
export const METRICS_ARTIFACT_KEY = 'metrics';
/**
 * Output keys of what the step's cells showed (the runtime writes both): the nbformat outputs as
 * JSON, and a page of them that KFP's UI shows. A variable's key cannot hold `-`, so never clashes.
 */
export const CELL_OUTPUTS_ARTIFACT_KEY = 'cell-outputs';
export const CELL_OUTPUTS_HTML_ARTIFACT_KEY = 'cell-outputs-html';

/** KFP task and Kubernetes names cannot hold `_`. */
export function taskNameForStep(step: string): string {
  return step.replace(/_/g, '-');
}

/** Artifact key of a variable; `metrics` is kept for the metrics artifact. */
export function artifactKeyForVariable(variable: string): string {
  return variable === METRICS_ARTIFACT_KEY ? `${variable}_value` : variable;
}

/** GPU product label keys by extended resource name. */
export const GPU_PRODUCT_LABELS: Readonly<Record<string, string>> = {
  'nvidia.com/gpu': 'nvidia.com/gpu.product',
  'amd.com/gpu': 'amd.com/gpu.product-name',
};

/** Steps per DAG: each is two Argo tasks, and Argo allows 200 per DAG (one pair is the runtime's). */
export const MAX_STEPS_PER_DAG = 64;

/** Input key under which every step receives the runtime artifact. */
export const RUNTIME_INPUT_KEY = 'cellflow-runtime';
const RUNTIME_OUTPUT_KEY = 'runtime';

/**
 * Writes the runtime file every step loads (argv[1]): the runtime itself, which travels deflated
 * and Ascii85-encoded (argv[2]; it is Cellflow's own code, the same in every pipeline), then the
 * pipeline's unit table (argv[3], readable: the imports and definitions steps run again).
 */
const RUNTIME_WRITER = [
  'import base64, os, sys, zlib',
  'os.makedirs(os.path.dirname(sys.argv[1]) or ".", exist_ok=True)',
  'with open(sys.argv[1], "wb") as f:',
  '    f.write(zlib.decompress(base64.a85decode(sys.argv[2])))',
  '    f.write(("\\nUNIT_TABLE = " + sys.argv[3]).encode("utf-8"))',
  '',
].join('\n');

/**
 * The runtime's path, then KFP's executor input: the runtime reads the step's parameters, the paths
 * of its input and output artifacts (the cells' outputs among them) and where metrics go from it,
 * so no step carries a flag per value.
 */
const CONTAINER_ARGS = [
  `{{$.inputs.artifacts['${RUNTIME_INPUT_KEY}'].path}}`,
  '--executor-input',
  '{{$}}',
];

/**
 * The hash seed of every step of the pipeline: one per pipeline (from its name), so that a set of
 * strings iterates in the same order in the step that made it and in the pods that load it, as in
 * one kernel (each pod's Python would pick a seed of its own). A step's `env:` tag may set another.
 */
export function hashSeedForPipeline(name: string): string {
  let hash = 0x811c9dc5; // FNV-1a, 32 bits
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return String(hash === 0 ? 1 : hash);
}

/**
 * Each resource in both of KFP's forms, as the KFP SDK writes them: backends from 2.4 read the
 * quantity fields (`resourceCpuLimit`, `accelerator.resourceType`), 2.3 reads only the older numeric
 * ones (`cpuLimit` in cores, `memoryLimit` in GB, `accelerator.type`). Each backend ignores the
 * form it does not know (see test/validate/kfp-releases.test.ts).
 */
function resourcesFor(step: PipelineStep): Record<string, unknown> | undefined {
  const r = step.resources;
  const out: Record<string, unknown> = {};
  if (r.cpu !== null) {
    const cores = cpuCores(r.cpu);
    if (cores !== null) {
      out.cpuLimit = cores;
      out.cpuRequest = cores;
    }
    out.resourceCpuRequest = r.cpu;
    out.resourceCpuLimit = r.cpu;
  }
  if (r.memory !== null) {
    const gigabytes = memoryGigabytes(r.memory);
    if (gigabytes !== null) {
      out.memoryLimit = gigabytes;
      out.memoryRequest = gigabytes;
    }
    out.resourceMemoryRequest = r.memory;
    out.resourceMemoryLimit = r.memory;
  }
  if (r.gpu !== null) {
    out.accelerator = {
      type: r.gpu.resource,
      count: String(r.gpu.count),
      resourceType: r.gpu.resource,
      resourceCount: String(r.gpu.count),
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

type Json = Record<string, unknown>;

/** Where a task's artifact input comes from, as seen from inside one DAG. */
type ArtifactSource =
  | { readonly kind: 'task'; readonly task: string; readonly key: string }
  | { readonly kind: 'input'; readonly key: string };

function artifactSourceJson(source: ArtifactSource): Json {
  return source.kind === 'task'
    ? { taskOutputArtifact: { producerTask: source.task, outputArtifactKey: source.key } }
    : { componentInputArtifact: source.key };
}

function nonEmpty(key: string, value: Json): Json {
  return Object.keys(value).length > 0 ? { [key]: value } : {};
}

function stepComponent(step: PipelineStep, types: ReadonlyMap<string, ParameterType>): Json {
  const inputs: Json = {
    ...nonEmpty(
      'parameters',
      Object.fromEntries(
        step.parameters.map((p) => [p, { parameterType: PARAMETER_TYPES[types.get(p) ?? 'str'] }]),
      ),
    ),
    artifacts: Object.fromEntries([
      [RUNTIME_INPUT_KEY, { artifactType: ARTIFACT }],
      ...step.inputs.map((i) => [artifactKeyForVariable(i), { artifactType: ARTIFACT }]),
    ]),
  };
  const outputArtifacts: [string, unknown][] = step.outputs.map((o) => [
    artifactKeyForVariable(o),
    { artifactType: ARTIFACT },
  ]);
  if (step.metrics.length > 0)
    outputArtifacts.push([METRICS_ARTIFACT_KEY, { artifactType: METRICS }]);
  outputArtifacts.push(
    [CELL_OUTPUTS_ARTIFACT_KEY, { artifactType: ARTIFACT }],
    [CELL_OUTPUTS_HTML_ARTIFACT_KEY, { artifactType: HTML }],
  );
  return {
    executorLabel: `exec-${taskNameForStep(step.name)}`,
    inputDefinitions: inputs,
    ...nonEmpty('outputDefinitions', nonEmpty('artifacts', Object.fromEntries(outputArtifacts))),
  };
}

function stepTask(
  step: PipelineStep,
  artifactSource: (variable: string) => ArtifactSource,
  runtime: ArtifactSource,
  dependentTasks: readonly string[],
  cache: boolean,
): Json {
  const task = taskNameForStep(step.name);
  const inputs: Json = {
    ...nonEmpty(
      'parameters',
      Object.fromEntries(step.parameters.map((p) => [p, { componentInputParameter: p }])),
    ),
    artifacts: Object.fromEntries([
      [RUNTIME_INPUT_KEY, artifactSourceJson(runtime)],
      ...step.inputs.map((i) => [artifactKeyForVariable(i), artifactSourceJson(artifactSource(i))]),
    ]),
  };
  return {
    taskInfo: { name: task },
    componentRef: { name: `comp-${task}` },
    ...(dependentTasks.length > 0 ? { dependentTasks: [...dependentTasks] } : {}),
    inputs,
    cachingOptions: cache && step.cache ? { enableCache: true } : {},
    ...(step.retries > 0
      ? {
          retryPolicy: {
            maxRetryCount: step.retries,
            backoffDuration: '0s',
            backoffFactor: 2,
            backoffMaxDuration: '3600s',
          },
        }
      : {}),
  };
}

function platformFor(step: PipelineStep): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  if (Object.keys(step.labels).length > 0 || Object.keys(step.annotations).length > 0) {
    out.podMetadata = {
      ...(Object.keys(step.labels).length > 0 ? { labels: step.labels } : {}),
      ...(Object.keys(step.annotations).length > 0 ? { annotations: step.annotations } : {}),
    };
  }
  if (step.secrets.length > 0) {
    const bySecret = new Map<string, { secretKey: string; envVar: string }[]>();
    for (const s of step.secrets) {
      const list = bySecret.get(s.secret) ?? [];
      list.push({ secretKey: s.key, envVar: s.env });
      bySecret.set(s.secret, list);
    }
    // `secretName` is the one form every backend reads: 2.3's driver rejects the newer
    // `secretNameParameter` and `optional` as unknown fields, 2.4 ignores them, and from 2.5 the
    // driver falls back to `secretName` when no parameter is given.
    out.secretAsEnv = [...bySecret].map(([secret, keyToEnv]) => ({
      secretName: secret,
      keyToEnv,
    }));
  }
  const gpu = step.resources.gpu;
  if (gpu !== null) {
    const label = GPU_PRODUCT_LABELS[gpu.resource];
    if (gpu.product !== null && label !== undefined)
      out.nodeSelector = { labels: { [label]: gpu.product } };
    out.tolerations = [{ key: gpu.resource, operator: 'Exists', effect: 'NoSchedule' }];
  }
  if (step.timeoutSeconds !== null) out.activeDeadlineSeconds = String(step.timeoutSeconds);
  return Object.keys(out).length > 0 ? out : undefined;
}

export interface KfpPipelineDocuments {
  readonly pipelineSpec: Record<string, unknown>;
  /** Absent when no step needs Kubernetes-specific settings. */
  readonly platformSpec?: Record<string, unknown>;
}

export interface KfpBuildOptions {
  /** False turns KFP's cache off for every step (`--no-cache`); steps' own `cache:` tags apply otherwise. */
  readonly cache?: boolean;
}

/** The IR of a pipeline whose cells' code is `code` (see `CompiledPipeline.code`). */
export function buildPipelineSpecForGraph(
  graph: PipelineGraph,
  code: ReadonlyMap<number, string>,
  options: KfpBuildOptions = {},
): KfpPipelineDocuments {
  const table = buildUnitTableForGraph(graph);
  return buildDocuments(
    graph,
    kfpEntryScripts(graph, code, table),
    [RUNTIME_SOURCE_DEFLATED, table.source],
    options,
  );
}

/** Each step's entry script as a KFP executor runs it: runtime and units come from the artifact. */
function kfpEntryScripts(
  graph: PipelineGraph,
  code: ReadonlyMap<number, string>,
  table: UnitTable,
): Map<string, string> {
  return new Map(
    graph.steps.map((s) => [
      s.name,
      buildEntryScriptForStep(graph, s, code, (cell) => cell, 'argument', table),
    ]),
  );
}

/** A task name no step uses (`base`, else `base-2`, ...). */
function freeTaskName(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  return name;
}

/** The most used step image: the runtime task needs only a Python, which every step image has. */
function commonImage(graph: PipelineGraph): string {
  const counts = new Map<string, number>();
  for (const s of graph.steps) counts.set(s.image, (counts.get(s.image) ?? 0) + 1);
  let best = graph.steps[0]?.image ?? 'python:3.11';
  for (const [image, n] of counts) if (n > (counts.get(best) ?? 0)) best = image;
  return best;
}

function buildDocuments(
  graph: PipelineGraph,
  scripts: ReadonlyMap<string, string | LiteralBlock>,
  runtimeFile: readonly [deflatedRuntime: string | StyledString, unitTable: string | LiteralBlock],
  options: KfpBuildOptions,
): KfpPipelineDocuments {
  const cache = options.cache !== false;
  const components: Json = {};
  const executors: Json = {};
  const platformExecutors: Json = {};
  const stepTasks = new Set(graph.steps.map((s) => taskNameForStep(s.name)));
  const types = new Map(graph.parameters.map((p) => [p.name, p.type]));
  const runtimeTask = freeTaskName('cellflow-runtime', stepTasks);
  const hashSeed = hashSeedForPipeline(graph.pipeline.name);

  components[`comp-${runtimeTask}`] = {
    executorLabel: `exec-${runtimeTask}`,
    outputDefinitions: { artifacts: { [RUNTIME_OUTPUT_KEY]: { artifactType: ARTIFACT } } },
  };
  executors[`exec-${runtimeTask}`] = {
    container: {
      image: commonImage(graph),
      command: ['python3', '-c', RUNTIME_WRITER],
      args: [`{{$.outputs.artifacts['${RUNTIME_OUTPUT_KEY}'].path}}`, ...runtimeFile],
    },
  };
  const runtimeTaskSpec: Json = {
    taskInfo: { name: runtimeTask },
    componentRef: { name: `comp-${runtimeTask}` },
    // The same runtime always writes the same file: after the first run this costs no pod.
    cachingOptions: { enableCache: true },
  };

  for (const step of graph.steps) {
    const task = taskNameForStep(step.name);
    components[`comp-${task}`] = stepComponent(step, types);
    const resources = resourcesFor(step);
    const env = Object.entries({ PYTHONHASHSEED: hashSeed, ...step.env }).map(([name, value]) => ({
      name,
      value,
    }));
    executors[`exec-${task}`] = {
      container: {
        image: step.image,
        command: ['python3', '-u', '-c', scripts.get(step.name) ?? ''],
        args: [...CONTAINER_ARGS],
        env,
        ...(resources !== undefined ? { resources } : {}),
      },
    };
    const platform = platformFor(step);
    if (platform !== undefined) platformExecutors[`exec-${task}`] = platform;
  }

  const rootTasks: Json = { [runtimeTask]: runtimeTaskSpec };
  const runtimeFromRoot: ArtifactSource = {
    kind: 'task',
    task: runtimeTask,
    key: RUNTIME_OUTPUT_KEY,
  };
  const fromProducer = (step: PipelineStep, variable: string): ArtifactSource => ({
    kind: 'task',
    task: taskNameForStep(step.inputSources[variable]!),
    key: artifactKeyForVariable(variable),
  });
  if (graph.steps.length <= MAX_STEPS_PER_DAG) {
    for (const step of graph.steps) {
      rootTasks[taskNameForStep(step.name)] = stepTask(
        step,
        (v) => fromProducer(step, v),
        runtimeFromRoot,
        [runtimeTask, ...step.after.map(taskNameForStep)],
        cache,
      );
    }
  } else {
    buildGroups(graph, components, rootTasks, runtimeTask, stepTasks, cache);
  }

  const rootInputs =
    graph.parameters.length > 0
      ? {
          inputDefinitions: {
            parameters: Object.fromEntries(
              graph.parameters.map((p) => [
                p.name,
                {
                  parameterType: PARAMETER_TYPES[p.type],
                  defaultValue: p.default,
                  isOptional: true,
                },
              ]),
            ),
          },
        }
      : {};
  const pipelineSpec = {
    components,
    deploymentSpec: { executors },
    pipelineInfo: {
      name: graph.pipeline.name,
      ...(graph.pipeline.description !== '' ? { description: graph.pipeline.description } : {}),
    },
    root: { dag: { tasks: rootTasks }, ...rootInputs },
    schemaVersion: '2.1.0',
    sdkVersion: `cellflow-${CELLFLOW_VERSION}`,
  };
  return Object.keys(platformExecutors).length > 0
    ? {
        pipelineSpec,
        platformSpec: {
          platforms: { kubernetes: { deploymentSpec: { executors: platformExecutors } } },
        },
      }
    : { pipelineSpec };
}

/**
 * Groups consecutive steps (the graph's steps are in a topological order, so groups only depend on
 * earlier ones) into sub-DAG components of at most `MAX_STEPS_PER_DAG` steps. An artifact made in
 * one group and read in another leaves the first as a DAG output and enters the second as an input.
 */
function buildGroups(
  graph: PipelineGraph,
  components: Json,
  rootTasks: Json,
  runtimeTask: string,
  stepTasks: ReadonlySet<string>,
  cache: boolean,
): void {
  const groupOf = new Map<string, string>();
  const groups: { task: string; steps: PipelineStep[] }[] = [];
  const taken = new Set(stepTasks).add(runtimeTask);
  for (let i = 0; i < graph.steps.length; i += MAX_STEPS_PER_DAG) {
    const steps = graph.steps.slice(i, i + MAX_STEPS_PER_DAG);
    const task = freeTaskName(`cellflow-steps-${i + 1}-${i + steps.length}`, taken);
    taken.add(task);
    groups.push({ task, steps });
    for (const s of steps) groupOf.set(s.name, task);
  }
  const types = new Map(graph.parameters.map((p) => [p.name, p.type]));
  /** Key of an artifact where it crosses a group boundary (KFP's own naming for DAG channels). */
  const channel = (producerTask: string, key: string): string =>
    `pipelinechannel--${producerTask}-${key}`;
  // The runtime enters each group under the key its steps read it by.
  const runtimeChannel = RUNTIME_INPUT_KEY;
  const exported = new Map<string, Map<string, { task: string; key: string }>>();
  for (const group of groups) {
    const inputArtifacts: Json = { [runtimeChannel]: { artifactType: ARTIFACT } };
    const inputSources: Json = {
      [runtimeChannel]: artifactSourceJson({
        kind: 'task',
        task: runtimeTask,
        key: RUNTIME_OUTPUT_KEY,
      }),
    };
    const parameters = new Set<string>();
    const dependsOn = new Set<string>([runtimeTask]);
    const tasks: Json = {};
    for (const step of group.steps) {
      for (const p of step.parameters) parameters.add(p);
      for (const before of step.after) {
        const other = groupOf.get(before);
        if (other !== undefined && other !== group.task) dependsOn.add(other);
      }
      const source = (variable: string): ArtifactSource => {
        const producer = step.inputSources[variable]!;
        const producerTask = taskNameForStep(producer);
        const key = artifactKeyForVariable(variable);
        const producerGroup = groupOf.get(producer)!;
        if (producerGroup === group.task) return { kind: 'task', task: producerTask, key };
        const name = channel(producerTask, key);
        inputArtifacts[name] = { artifactType: ARTIFACT };
        inputSources[name] = artifactSourceJson({ kind: 'task', task: producerGroup, key: name });
        dependsOn.add(producerGroup);
        const outputs =
          exported.get(producerGroup) ?? new Map<string, { task: string; key: string }>();
        outputs.set(name, { task: producerTask, key });
        exported.set(producerGroup, outputs);
        return { kind: 'input', key: name };
      };
      tasks[taskNameForStep(step.name)] = stepTask(
        step,
        source,
        { kind: 'input', key: runtimeChannel },
        step.after.filter((b) => groupOf.get(b) === group.task).map(taskNameForStep),
        cache,
      );
    }
    const sortedParameters = [...parameters].sort();
    components[`comp-${group.task}`] = {
      dag: { tasks },
      inputDefinitions: {
        ...nonEmpty(
          'parameters',
          Object.fromEntries(
            sortedParameters.map((p) => [
              p,
              { parameterType: PARAMETER_TYPES[types.get(p) ?? 'str'] },
            ]),
          ),
        ),
        artifacts: inputArtifacts,
      },
    };
    rootTasks[group.task] = {
      taskInfo: { name: group.task },
      componentRef: { name: `comp-${group.task}` },
      dependentTasks: [...dependsOn].sort(),
      inputs: {
        ...nonEmpty(
          'parameters',
          Object.fromEntries(sortedParameters.map((p) => [p, { componentInputParameter: p }])),
        ),
        artifacts: inputSources,
      },
    };
  }
  // Outputs are known once every later group has said what it reads.
  for (const [groupTask, outputs] of exported) {
    const component = components[`comp-${groupTask}`] as { dag: Json } & Json;
    const names = [...outputs.keys()].sort();
    component.outputDefinitions = {
      artifacts: Object.fromEntries(names.map((n) => [n, { artifactType: ARTIFACT }])),
    };
    component.dag.outputs = {
      artifacts: Object.fromEntries(
        names.map((n) => {
          const { task, key } = outputs.get(n)!;
          return [n, { artifactSelectors: [{ producerSubtask: task, outputArtifactKey: key }] }];
        }),
      ),
    };
  }
}

let deflatedRuntime: StyledString | string | undefined;
/** The runtime as the IR carries it, styled for YAML once: it is the same in every pipeline. */
function deflatedRuntimeYaml(): StyledString | string {
  return (deflatedRuntime ??= StyledString.of(RUNTIME_SOURCE_DEFLATED));
}

/** The IR as KFP's compiler writes it: a header comment, the PipelineSpec, then the PlatformSpec. */
export function buildPipelineYamlForGraph(
  graph: PipelineGraph,
  code: ReadonlyMap<number, string>,
  options: KfpBuildOptions = {},
): string {
  // Scripts are long; they are written as literal block scalars as they are.
  const table = buildUnitTableForGraph(graph);
  const scripts = new Map(
    [...kfpEntryScripts(graph, code, table)].map(([step, script]) => [
      step,
      literalBlockFor(script),
    ]),
  );
  const docs = buildDocuments(
    graph,
    scripts,
    [deflatedRuntimeYaml(), literalBlockFor(table.source)],
    options,
  );
  const header = [
    '# PIPELINE DEFINITION',
    `# Name: ${graph.pipeline.name}`,
    ...(graph.pipeline.description !== ''
      ? [`# Description: ${graph.pipeline.description.replace(/\n/g, ' ')}`]
      : []),
    ...(graph.parameters.length > 0
      ? [
          '# Inputs:',
          ...graph.parameters.map(
            (p) => `#    ${p.name}: ${p.type} [Default: ${JSON.stringify(p.default)}]`,
          ),
        ]
      : []),
    `# Generated by Cellflow ${CELLFLOW_VERSION}`,
  ].join('\n');
  const body = writeIrYaml(docs.pipelineSpec);
  return docs.platformSpec !== undefined
    ? `${header}\n${body}---\n${writeIrYaml(docs.platformSpec)}`
    : `${header}\n${body}`;
}

/**
 * The steps of a pipeline spec this emitter wrote, in spec order, with their KFP task names: the
 * tasks, at any depth of sub-DAGs, whose component reads the runtime artifact (a spec from before
 * the runtime artifact: every task of the root DAG).
 */
export function stepTasksOfPipelineSpec(spec: unknown): { step: string; task: string }[] {
  const object = (v: unknown): Json =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
  const components = object(object(spec).components);
  const readsRuntime = (component: Json): boolean =>
    object(object(component.inputDefinitions).artifacts)[RUNTIME_INPUT_KEY] !== undefined;
  const anyReadsRuntime = Object.values(components).some((c) => readsRuntime(object(c)));
  const out: { step: string; task: string }[] = [];
  const visit = (tasks: Json, depth: number): void => {
    for (const [task, value] of Object.entries(tasks)) {
      const component = object(components[String(object(object(value).componentRef).name)]);
      if (component.dag !== undefined) {
        if (depth < 8) visit(object(object(component.dag).tasks), depth + 1);
      } else if (!anyReadsRuntime || readsRuntime(component)) {
        out.push({ step: task.replace(/-/g, '_'), task });
      }
    }
  };
  visit(object(object(object(object(spec).root).dag).tasks), 0);
  return out;
}
