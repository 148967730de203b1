/**
 * Stands in for KServe's InferenceService controller: writes the status a real one reports
 * (URL, address, Ready/PredictorReady/IngressReady conditions, model state, traffic) through the
 * status subresource, where the CRD's schema is enforced by the API server.
 */
import { type KubeObject, RESOURCES, resourcePath } from './kube-client.js';
import { type DriverTarget, now } from './drive-pods.js';

/** Writes `status` through the status subresource, observing the object's current generation. */
async function writeStatus(
  target: DriverTarget,
  namespace: string,
  name: string,
  status: Record<string, unknown>,
): Promise<KubeObject> {
  const isvc = await target.admin.get(
    resourcePath(RESOURCES.inferenceServices, { namespace, name }),
  );
  return target.admin.mergePatch(
    resourcePath(RESOURCES.inferenceServices, { namespace, name, subresource: 'status' }),
    { status: { observedGeneration: isvc.metadata.generation, ...status } },
  );
}

function condition(type: string, ok: boolean, reason?: string, message?: string): object {
  return {
    type,
    status: ok ? 'True' : 'False',
    lastTransitionTime: now(),
    ...(reason !== undefined ? { reason } : {}),
    ...(message !== undefined ? { message } : {}),
  };
}

/** The InferenceService is being rolled out: conditions Unknown-ish (False), model Pending. */
export async function setInferenceServicePending(
  target: DriverTarget,
  namespace: string,
  name: string,
): Promise<KubeObject> {
  return writeStatus(target, namespace, name, {
    conditions: [
      condition(
        'PredictorReady',
        false,
        'RevisionMissing',
        'Configuration is waiting for a Revision to become ready.',
      ),
      condition(
        'Ready',
        false,
        'RevisionMissing',
        'Configuration is waiting for a Revision to become ready.',
      ),
    ],
    modelStatus: {
      states: { activeModelState: '', targetModelState: 'Pending' },
      transitionStatus: 'InProgress',
    },
  });
}

/** Ready: URL `http://NAME.NAMESPACE.example.com`, all conditions True, model Loaded. */
export async function setInferenceServiceReady(
  target: DriverTarget,
  namespace: string,
  name: string,
  options: { url?: string; revision?: string } = {},
): Promise<KubeObject> {
  const url = options.url ?? `http://${name}.${namespace}.example.com`;
  const revision = options.revision ?? `${name}-predictor-00001`;
  return writeStatus(target, namespace, name, {
    url,
    address: { url: `http://${name}-predictor.${namespace}.svc.cluster.local` },
    conditions: [
      condition('IngressReady', true),
      condition('LatestDeploymentReady', true),
      condition('PredictorConfigurationReady', true),
      condition('PredictorReady', true),
      condition('PredictorRouteReady', true),
      condition('Ready', true),
      condition('RoutesReady', true),
    ],
    components: {
      predictor: {
        latestCreatedRevision: revision,
        latestReadyRevision: revision,
        url: `http://${name}-predictor.${namespace}.example.com`,
        traffic: [{ latestRevision: true, percent: 100, revisionName: revision }],
      },
    },
    modelStatus: {
      copies: { failedCopies: 0, totalCopies: 1 },
      states: { activeModelState: 'Loaded', targetModelState: 'Loaded' },
      transitionStatus: 'UpToDate',
    },
  });
}

/** The model failed to load: Ready False with KServe's failure info. */
export async function setInferenceServiceFailed(
  target: DriverTarget,
  namespace: string,
  name: string,
  message = 'Failed to load model: model file not found',
): Promise<KubeObject> {
  return writeStatus(target, namespace, name, {
    conditions: [
      condition('PredictorReady', false, 'ModelLoadFailed', message),
      condition('Ready', false, 'ModelLoadFailed', message),
    ],
    modelStatus: {
      copies: { failedCopies: 1, totalCopies: 1 },
      states: { activeModelState: '', targetModelState: 'FailedToLoad' },
      transitionStatus: 'BlockedByFailedLoad',
      lastFailureInfo: { reason: 'ModelLoadFailed', message, time: now() },
    },
  });
}
