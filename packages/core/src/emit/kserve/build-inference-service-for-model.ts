/**
 * KServe v1beta1 InferenceService for a model a pipeline step produced: the predictor's model
 * format comes from the saved value's Python type (overridable), its storage is the run's model
 * artifact, and its resources (GPUs included) come from the producing step's tags.
 */
import { dump } from 'js-yaml';
import type { PipelineGraph, PipelineStep } from '../../graph/pipeline-graph.js';
import { GPU_PRODUCT_LABELS } from '../kfp/build-pipeline-spec-for-graph.js';

/** KServe model formats Cellflow can tell from a Python type name. */
export type ModelFormatName =
  'sklearn' | 'xgboost' | 'lightgbm' | 'pytorch' | 'tensorflow' | 'onnx';

const FORMAT_BY_MODULE: readonly [RegExp, ModelFormatName][] = [
  [/^sklearn\./, 'sklearn'],
  [/^xgboost\./, 'xgboost'],
  [/^lightgbm\./, 'lightgbm'],
  [/^torch\./, 'pytorch'],
  [/^(keras|tensorflow|tf_keras)\./, 'tensorflow'],
  [/^onnx\./, 'onnx'],
];

/** `sklearn.linear_model._logistic.LogisticRegression` -> `sklearn`; undefined when unknown. */
export function detectModelFormat(pythonType: string): ModelFormatName | undefined {
  return FORMAT_BY_MODULE.find(([pattern]) => pattern.test(pythonType))?.[1];
}

export interface InferenceServiceInput {
  readonly graph: PipelineGraph;
  /** The step that produces the model. */
  readonly step: string;
  /** The model variable (marked `serve:` on the step). */
  readonly variable: string;
  /** Where the model artifact is (`s3://mlpipeline/v2/artifacts/...`, `pvc://...`). */
  readonly storageUri: string;
  /** Model format: detected from the saved type, or given. */
  readonly format: ModelFormatName;
  /** Kubernetes name of the service (default: `<pipeline>-<variable>`). */
  readonly name?: string;
  readonly namespace?: string;
  /** KServe inference protocol (default v2, the Open Inference Protocol). */
  readonly protocol?: 'v1' | 'v2';
  /** Run that trained the model, recorded as a label. */
  readonly runId?: string;
  /** Service account with access to the storage (default: the namespace's). */
  readonly serviceAccountName?: string;
}

/** A DNS-1035 label of at most 45 characters (KServe adds suffixes to the name). */
export function toServiceName(text: string): string {
  let s = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(s)) s = `m-${s}`;
  return s.slice(0, 45).replace(/-+$/, '');
}

function resourcesFor(step: PipelineStep): Record<string, Record<string, string>> | undefined {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (step.resources.cpu !== null) requests.cpu = limits.cpu = step.resources.cpu;
  if (step.resources.memory !== null) requests.memory = limits.memory = step.resources.memory;
  if (step.resources.gpu !== null)
    limits[step.resources.gpu.resource] = String(step.resources.gpu.count);
  const out: Record<string, Record<string, string>> = {};
  if (Object.keys(requests).length > 0) out.requests = requests;
  if (Object.keys(limits).length > 0) out.limits = limits;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function buildInferenceServiceForModel(
  input: InferenceServiceInput,
): Record<string, unknown> {
  const step = input.graph.steps.find((s) => s.name === input.step);
  if (step === undefined)
    throw new Error(`no step ${input.step} in pipeline ${input.graph.pipeline.name}`);
  const gpu = step.resources.gpu;
  const productLabel = gpu !== null ? GPU_PRODUCT_LABELS[gpu.resource] : undefined;
  const resources = resourcesFor(step);
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name: input.name ?? toServiceName(`${input.graph.pipeline.name}-${input.variable}`),
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      labels: {
        'app.kubernetes.io/managed-by': 'cellflow',
        'cellflow.dev/pipeline': toServiceName(input.graph.pipeline.name),
        'cellflow.dev/step': toServiceName(step.name),
        ...(input.runId !== undefined ? { 'cellflow.dev/run': toServiceName(input.runId) } : {}),
      },
      annotations: { 'cellflow.dev/model-variable': input.variable },
    },
    spec: {
      predictor: {
        ...(input.serviceAccountName !== undefined
          ? { serviceAccountName: input.serviceAccountName }
          : {}),
        ...(gpu !== null && gpu.product !== null && productLabel !== undefined
          ? { nodeSelector: { [productLabel]: gpu.product } }
          : {}),
        ...(gpu !== null
          ? { tolerations: [{ key: gpu.resource, operator: 'Exists', effect: 'NoSchedule' }] }
          : {}),
        model: {
          modelFormat: { name: input.format },
          protocolVersion: input.protocol ?? 'v2',
          storageUri: input.storageUri,
          ...(resources !== undefined ? { resources } : {}),
        },
      },
    },
  };
}

export function buildInferenceServiceYamlForModel(input: InferenceServiceInput): string {
  return dump(buildInferenceServiceForModel(input), { lineWidth: -1, noRefs: true });
}
