/** Turns what went wrong talking to a cluster into a `BackendError` a person can act on. */
import { BackendError } from '../backend.js';
import { errorMessageOf, HttpError } from './kube-connection.js';

export interface ErrorContext {
  /** What Cellflow was doing ("list the cluster's nodes"). */
  readonly doing: string;
  /** The API server URL and kubeconfig context. */
  readonly server: string;
  readonly context: string;
}

export function clusterError(error: unknown, ctx: ErrorContext): BackendError {
  if (error instanceof BackendError) return error;
  const where = `${ctx.server} (context \`${ctx.context}\`)`;
  if (!(error instanceof HttpError)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new BackendError(
      'cluster-unreachable',
      `Cannot reach the Kubernetes API server at ${where} to ${ctx.doing}: ${detail}. ` +
        'Fix: check that the cluster is up and reachable (`kubectl get --raw /healthz`), or pick another context.',
    );
  }
  const message = errorMessageOf(error.body);
  switch (error.status) {
    case 401:
      return new BackendError(
        'unauthorized',
        `The API server at ${where} did not accept your credentials while trying to ${ctx.doing} (401 Unauthorized). ` +
          'Fix: refresh them (log in again or renew the token in your kubeconfig).',
      );
    case 403:
      return new BackendError(
        'forbidden',
        `Not allowed to ${ctx.doing}: ${message !== '' ? message : '403 Forbidden'}. ` +
          'Fix: ask a cluster admin for a Role/RoleBinding that grants this, or use a context that has it.',
      );
    case 404:
      return new BackendError(
        'not-found',
        `Not found while trying to ${ctx.doing}: ${message !== '' ? message : error.url}.`,
      );
    default:
      return new BackendError(
        'cluster-error',
        `The cluster failed to ${ctx.doing} (HTTP ${error.status}${message !== '' ? `: ${message}` : ''}). Cellflow retried; try again later.`,
      );
  }
}
