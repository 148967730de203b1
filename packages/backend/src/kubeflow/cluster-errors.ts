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

/** Kubernetes' and etcd's words for a request over their size limits. */
const TOO_LARGE = /request entity too large|request is too large|status code 413\b/i;
/** Kubernetes' words for an object its schema refuses (HTTP 422). */
const INVALID = /\bis invalid:|unprocessable entity|status code 422\b/i;

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
  // KFP answers 500 when the Kubernetes API server refused the Workflow it made; the refusal is
  // in the message, and it is the request's fault, not a passing failure.
  const status =
    error.status >= 500 && TOO_LARGE.test(message)
      ? 413
      : error.status >= 500 && INVALID.test(message)
        ? 422
        : error.status;
  switch (status) {
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
    case 413:
      return new BackendError(
        'request-too-large',
        `The cluster refused to ${ctx.doing}: the request is too large (HTTP 413${message !== '' ? `: ${message}` : ''}). ` +
          'Retrying cannot help. Fix: make the request smaller (for a pipeline: fewer or smaller steps, or data read from storage rather than written in cells).',
      );
    default:
      if (
        error.status >= 400 &&
        error.status < 500 &&
        error.status !== 408 &&
        error.status !== 429
      ) {
        // The request itself is wrong (400, 409, 422, ...): the same request fails the same way.
        return new BackendError(
          'request-refused',
          `The cluster refused to ${ctx.doing} (HTTP ${error.status}${message !== '' ? `: ${message}` : ''}). Retrying cannot help; the message above says what to change.`,
        );
      }
      return new BackendError(
        'cluster-error',
        `The cluster failed to ${ctx.doing} (HTTP ${error.status}${message !== '' ? `: ${message}` : ''}). Cellflow retried; try again later.`,
      );
  }
}
