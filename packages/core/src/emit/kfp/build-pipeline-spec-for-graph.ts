/**
 * KFP v2 pipeline IR: a `PipelineSpec` document plus the Kubernetes `PlatformSpec` document
 * (labels, annotations, secrets, node selector, tolerations, deadlines). Every step is a container
 * executor running its generated entry script; data passes as artifacts, never a shared volume.
 */
import { dump } from 'js-yaml';
import type { ParameterType, PipelineGraph, PipelineStep } from '../../graph/pipeline-graph.js';
import { RUNTIME_LITERAL } from '../entry-script/build-entry-script-for-step.js';
import { cpuCores, memoryGigabytes } from './kubernetes-quantity.js';

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
/** Output key of the step's metrics artifact. */
export const METRICS_ARTIFACT_KEY = 'metrics';

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

function containerArgs(step: PipelineStep): string[] {
  const args: string[] = [];
  for (const p of step.parameters) args.push('--param', `${p}={{$.inputs.parameters['${p}']}}`);
  for (const i of step.inputs)
    args.push('--input', `${i}={{$.inputs.artifacts['${artifactKeyForVariable(i)}'].path}}`);
  for (const o of step.outputs)
    args.push('--output', `${o}={{$.outputs.artifacts['${artifactKeyForVariable(o)}'].path}}`);
  // Metrics go into the executor output; a served model's artifact URI is printed for `serve`.
  if (step.metrics.length > 0 || step.serve.length > 0) args.push('--executor-input', '{{$}}');
  return args;
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

function componentFor(graph: PipelineGraph, step: PipelineStep): Record<string, unknown> {
  const types = new Map(graph.parameters.map((p) => [p.name, p.type]));
  const inputs: Record<string, unknown> = {};
  if (step.parameters.length > 0) {
    inputs.parameters = Object.fromEntries(
      step.parameters.map((p) => [p, { parameterType: PARAMETER_TYPES[types.get(p) ?? 'str'] }]),
    );
  }
  if (step.inputs.length > 0) {
    inputs.artifacts = Object.fromEntries(
      step.inputs.map((i) => [artifactKeyForVariable(i), { artifactType: ARTIFACT }]),
    );
  }
  const outputs: Record<string, unknown> = {};
  const outputArtifacts: [string, unknown][] = step.outputs.map((o) => [
    artifactKeyForVariable(o),
    { artifactType: ARTIFACT },
  ]);
  if (step.metrics.length > 0)
    outputArtifacts.push([METRICS_ARTIFACT_KEY, { artifactType: METRICS }]);
  if (outputArtifacts.length > 0) outputs.artifacts = Object.fromEntries(outputArtifacts);
  return {
    executorLabel: `exec-${taskNameForStep(step.name)}`,
    ...(Object.keys(inputs).length > 0 ? { inputDefinitions: inputs } : {}),
    ...(Object.keys(outputs).length > 0 ? { outputDefinitions: outputs } : {}),
  };
}

function taskFor(step: PipelineStep): Record<string, unknown> {
  const task = taskNameForStep(step.name);
  const inputs: Record<string, unknown> = {};
  if (step.parameters.length > 0) {
    inputs.parameters = Object.fromEntries(
      step.parameters.map((p) => [p, { componentInputParameter: p }]),
    );
  }
  if (step.inputs.length > 0) {
    inputs.artifacts = Object.fromEntries(
      step.inputs.map((i) => [
        artifactKeyForVariable(i),
        {
          taskOutputArtifact: {
            producerTask: taskNameForStep(step.inputSources[i]!),
            outputArtifactKey: artifactKeyForVariable(i),
          },
        },
      ]),
    );
  }
  return {
    taskInfo: { name: task },
    componentRef: { name: `comp-${task}` },
    ...(step.after.length > 0 ? { dependentTasks: step.after.map(taskNameForStep) } : {}),
    ...(Object.keys(inputs).length > 0 ? { inputs } : {}),
    cachingOptions: step.cache ? { enableCache: true } : {},
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

/** `scripts` maps each step name to its entry script (see `buildEntryScriptForStep`). */
export function buildPipelineSpecForGraph(
  graph: PipelineGraph,
  scripts: ReadonlyMap<string, string>,
): KfpPipelineDocuments {
  const components: Record<string, unknown> = {};
  const executors: Record<string, unknown> = {};
  const tasks: Record<string, unknown> = {};
  const platformExecutors: Record<string, unknown> = {};
  for (const step of graph.steps) {
    const task = taskNameForStep(step.name);
    components[`comp-${task}`] = componentFor(graph, step);
    const resources = resourcesFor(step);
    const env = Object.entries(step.env).map(([name, value]) => ({ name, value }));
    executors[`exec-${task}`] = {
      container: {
        image: step.image,
        command: ['python3', '-u', '-c', scripts.get(step.name) ?? ''],
        ...(containerArgs(step).length > 0 ? { args: containerArgs(step) } : {}),
        ...(env.length > 0 ? { env } : {}),
        ...(resources !== undefined ? { resources } : {}),
      },
    };
    tasks[task] = taskFor(step);
    const platform = platformFor(step);
    if (platform !== undefined) platformExecutors[`exec-${task}`] = platform;
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
    root: { dag: { tasks }, ...rootInputs },
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

/** The IR as KFP's compiler writes it: a header comment, the PipelineSpec, then the PlatformSpec. */
export function buildPipelineYamlForGraph(
  graph: PipelineGraph,
  scripts: ReadonlyMap<string, string>,
): string {
  // Entry scripts are long; they are written as literal block scalars directly (the YAML library
  // spends most of a large compile deciding how to quote them).
  const placeholders = new Map<string, string>();
  const tokens = new Map<string, string>();
  for (const [step, script] of scripts) {
    const token = `CELLFLOW-SCRIPT-${placeholders.size}`;
    placeholders.set(token, script);
    tokens.set(step, isLiteralBlockSafe(script) ? token : script);
  }
  const docs = buildPipelineSpecForGraph(graph, tokens);
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
  // js-yaml writes large documents several times faster than `yaml`, which matters at 200 steps.
  const write = (doc: unknown): string => dump(doc, { lineWidth: -1, noRefs: true });
  const body = write(docs.pipelineSpec).replace(
    /^( *)- (CELLFLOW-SCRIPT-\d+)$/gm,
    (line: string, indent: string, token: string) => {
      const script = placeholders.get(token);
      return script === undefined ? line : `${indent}- ${literalBlock(script, `${indent}  `)}`;
    },
  );
  return docs.platformSpec !== undefined
    ? `${header}\n${body}---\n${write(docs.platformSpec)}`
    : `${header}\n${body}`;
}

/** Text a YAML literal block (`|`) represents exactly: printable, no CR, no leading blank. */
function isLiteralBlockSafe(text: string): boolean {
  // The runtime is the bulk of every script and the same in all: check it once.
  const at = text.indexOf(RUNTIME_LITERAL);
  if (at >= 0) {
    return (
      runtimeIsSafe &&
      isLiteralBlockSafe(text.slice(0, at)) &&
      !UNSAFE_IN_LITERAL_BLOCK.test(text.slice(at + RUNTIME_LITERAL.length))
    );
  }
  return text.trim() !== '' && !UNSAFE_IN_LITERAL_BLOCK.test(text) && !/^[ \t\n]/.test(text);
}

// eslint-disable-next-line no-control-regex
const UNSAFE_IN_LITERAL_BLOCK = /[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\x7f\u0085\u2028\u2029\ufeff]/;
const runtimeIsSafe = !UNSAFE_IN_LITERAL_BLOCK.test(RUNTIME_LITERAL);
const indentedRuntime = new Map<string, string>();

/** Indents every non-empty line after the first. */
function indentRest(text: string, indent: string): string {
  return text.replace(/\n(?=[^\n])/g, `\n${indent}`);
}

function literalBlock(text: string, indent: string): string {
  const chomp = text.endsWith('\n\n') ? '+' : text.endsWith('\n') ? '' : '-';
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const at = body.indexOf(RUNTIME_LITERAL);
  let out: string;
  if (at >= 0) {
    let runtime = indentedRuntime.get(indent);
    if (runtime === undefined) {
      runtime = indentRest(RUNTIME_LITERAL, indent);
      indentedRuntime.set(indent, runtime);
    }
    out =
      indentRest(body.slice(0, at), indent) +
      runtime +
      indentRest(body.slice(at + RUNTIME_LITERAL.length), indent);
  } else out = indentRest(body, indent);
  return `|${chomp}\n${indent}${out}`;
}
