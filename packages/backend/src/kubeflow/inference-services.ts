/**
 * Serving on a cluster: KServe InferenceServices for models that cluster runs saved. The model's
 * artifact URI and Python type come from the artifact line the step runtime prints (core's
 * step report lines).
 */
import {
  buildInferenceServiceForModel,
  detectModelFormat,
  parseStepReport,
  toServiceName,
  type ModelFormatName,
  type PipelineGraph,
} from '@cellflow/core';
import {
  BackendError,
  type Endpoint,
  type EndpointRef,
  type ModelRef,
  type RunRef,
} from '../backend.js';
import { clusterError } from './cluster-errors.js';
import { HttpError, type KubeConnection } from './kube-connection.js';
import type { CustomResource } from './kube-watch.js';
import { readStepPodLog } from './run-resources.js';
import { findStepPod } from './step-logs.js';

const ISVCS: CustomResource = {
  group: 'serving.kserve.io',
  version: 'v1beta1',
  plural: 'inferenceservices',
};
const MANAGED = 'app.kubernetes.io/managed-by=cellflow';

interface InferenceServiceObject {
  readonly metadata: {
    readonly name: string;
    readonly resourceVersion?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly status?: {
    readonly url?: string;
    readonly conditions?: readonly {
      readonly type: string;
      readonly status: string;
      readonly message?: string;
      readonly reason?: string;
    }[];
    readonly modelStatus?: {
      readonly transitionStatus?: string;
      readonly lastFailureInfo?: { readonly message?: string; readonly reason?: string };
    };
  };
}

export interface ClusterServeOptions {
  readonly name?: string;
  /** Overrides the model format told from the saved type. */
  readonly format?: ModelFormatName;
  readonly protocol?: 'v1' | 'v2';
  /** The pipeline's graph, for the producing step's resources (GPUs); optional. */
  readonly graph?: PipelineGraph;
}

/** Where the cluster keeps a step's saved variable, from the step's pod log. */
export async function findModelArtifact(
  kube: KubeConnection,
  model: ModelRef,
): Promise<{ uri: string; type: string }> {
  const run: RunRef = { id: model.runId };
  const task = model.step.replace(/_/g, '-');
  const found = await findStepPod(kube, run, task, model.step, 5);
  if (found === 'finished-without-pod') {
    throw new BackendError(
      'not-found',
      `Step \`${model.step}\` of run ${model.runId} did not run (cached or cancelled), so it left no model log. Serve the run that trained it.`,
    );
  }
  const log = await readStepPodLog(kube, found.namespace, found.pod);
  const artifact = parseStepReport(log).artifacts[model.variable];
  if (artifact === undefined) {
    throw new BackendError(
      'not-found',
      `Step \`${model.step}\` of run ${model.runId} did not report where \`${model.variable}\` is stored. Fix: tag the step \`serve:${model.variable}\` and submit the pipeline again.`,
    );
  }
  return artifact;
}

function endpointOf(isvc: InferenceServiceObject): Endpoint {
  const ready = isvc.status?.conditions?.find((c) => c.type === 'Ready');
  const failure = isvc.status?.modelStatus?.lastFailureInfo;
  const failed =
    failure?.message !== undefined ||
    isvc.status?.modelStatus?.transitionStatus === 'BlockedByFailedLoad' ||
    isvc.status?.modelStatus?.transitionStatus === 'InvalidSpec';
  const state: Endpoint['state'] =
    ready?.status === 'True' ? 'ready' : failed ? 'failed' : 'pending';
  const labels = isvc.metadata.labels ?? {};
  const message = failure?.message ?? (state !== 'ready' ? ready?.message : undefined);
  return {
    name: isvc.metadata.name,
    url: isvc.status?.url ?? '',
    model: {
      runId: labels['cellflow.dev/run'] ?? '',
      step: (labels['cellflow.dev/step'] ?? '').replace(/-/g, '_'),
      variable: isvc.metadata.annotations?.['cellflow.dev/model-variable'] ?? '',
    },
    state,
    target: 'cluster',
    ...(message !== undefined ? { message } : {}),
  };
}

export async function createInferenceService(
  kube: KubeConnection,
  model: ModelRef,
  opts: ClusterServeOptions,
  pipelineName: string,
): Promise<EndpointRef> {
  const doing = `serve ${model.variable} from run ${model.runId}`;
  try {
    const artifact = await findModelArtifact(kube, model);
    const format = opts.format ?? detectModelFormat(artifact.type);
    if (format === undefined) {
      throw new BackendError(
        'bad-parameter',
        `Cannot tell the KServe model format of \`${model.variable}\` (a ${artifact.type}). Fix: pass --format (sklearn, xgboost, lightgbm, pytorch, tensorflow, onnx).`,
      );
    }
    const graph: PipelineGraph = opts.graph ?? {
      pipeline: { name: pipelineName, description: '', experiment: null },
      parameters: [],
      metrics: [],
      preludeCells: [],
      steps: [
        {
          name: model.step, cells: [], after: [], units: [], inputs: [], inputSources: {}, parameters: [], outputs: [model.variable], shared: [], outputCells: {}, metrics: [],
          image: '', resources: { cpu: null, memory: null, gpu: null, limits: {} }, labels: {}, annotations: {}, env: {}, secrets: [], retries: 0, timeoutSeconds: null, cache: true, serve: [model.variable], packages: [],
        }, // prettier-ignore
      ],
    };
    const manifest = buildInferenceServiceForModel({
      graph,
      step: model.step,
      variable: model.variable,
      storageUri: artifact.uri,
      format,
      namespace: kube.namespace,
      runId: model.runId,
      ...(opts.name !== undefined ? { name: toServiceName(opts.name) } : {}),
      ...(opts.protocol !== undefined ? { protocol: opts.protocol } : {}),
    });
    const name = (manifest.metadata as { name: string }).name;
    const namespace = kube.namespace;
    try {
      await kube.write((o) =>
        kube.custom.createNamespacedCustomObject({ ...ISVCS, namespace, body: manifest }, o),
      );
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 409)) throw error;
      // Serving the same name again replaces the model behind it.
      const current = (await kube.read((o) =>
        kube.custom.getNamespacedCustomObject({ ...ISVCS, namespace, name }, o),
      )) as InferenceServiceObject;
      const body = {
        ...manifest,
        metadata: {
          ...(manifest.metadata as object),
          resourceVersion: current.metadata.resourceVersion,
        },
      };
      await kube.write((o) =>
        kube.custom.replaceNamespacedCustomObject({ ...ISVCS, namespace, name, body }, o),
      );
    }
    return { name };
  } catch (error) {
    throw clusterError(error, { doing, server: kube.server, context: kube.contextName });
  }
}

export async function listInferenceServices(kube: KubeConnection): Promise<Endpoint[]> {
  try {
    const list = (await kube.read((o) =>
      kube.custom.listNamespacedCustomObject(
        { ...ISVCS, namespace: kube.namespace, labelSelector: MANAGED },
        o,
      ),
    )) as { items: InferenceServiceObject[] };
    return list.items.map(endpointOf);
  } catch (error) {
    throw clusterError(error, {
      doing: 'list inference services',
      server: kube.server,
      context: kube.contextName,
    });
  }
}

export async function deleteInferenceService(
  kube: KubeConnection,
  endpoint: EndpointRef,
): Promise<void> {
  try {
    await kube.write((o) =>
      kube.custom.deleteNamespacedCustomObject(
        { ...ISVCS, namespace: kube.namespace, name: endpoint.name },
        o,
      ),
    );
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) return;
    throw clusterError(error, {
      doing: `delete inference service ${endpoint.name}`,
      server: kube.server,
      context: kube.contextName,
    });
  }
}
