/**
 * Where a backend runs things, and what only some targets offer. Every `Backend` carries its
 * `target` (kind, a description a person reads, kubeconfig context and namespace, a run's page);
 * cluster-only operations hang off the optional `cluster` facet, so callers branch on data they
 * can see, never on a class (`instanceof`) or a cast. `TargetSpec` is how a caller names a target
 * to the agent (one agent keeps a backend per target). Browser-safe.
 */
import type { PipelineDeployer } from './pipeline-deploys.js';

/** `local`: processes on the machine the backend runs on; `kubeflow`: a Kubeflow cluster. */
export type TargetKind = 'local' | 'kubeflow';

/** A target as a caller names it: this machine, or a kubeconfig context and namespace. */
export type TargetSpec =
  | { readonly kind: 'local' }
  | {
      readonly kind: 'kubeflow';
      /** Kubeconfig context; absent: the kubeconfig's current one (in a pod: its service account). */
      readonly context?: string;
      /** Namespace runs go to; absent: the context's namespace, else `kubeflow`. */
      readonly namespace?: string;
    };

export const LOCAL_TARGET: TargetSpec = { kind: 'local' };

export interface BackendTarget {
  readonly kind: TargetKind;
  /** For people: "this machine", "cluster context `admin` (namespace kubeflow)". */
  readonly description: string;
  /** Kubeflow: the kubeconfig context (`in-cluster` inside a pod); local: null. */
  readonly context: string | null;
  /** Kubeflow: the namespace runs go to; local: null. */
  readonly namespace: string | null;
  /** The run's page in the target's UI (Kubeflow Pipelines), or null when the target has none. */
  runUrl(run: { readonly id: string }): string | null;
}

/**
 * What a Kubeflow target offers besides the `Backend` calls: pipeline versions and recurring runs
 * in Kubeflow Pipelines, and the image steps left on the default image run in.
 */
export interface ClusterFacet extends PipelineDeployer {
  /**
   * Inside a Kubeflow notebook server, the server's own image (steps left on the default image run
   * in it, see `withDefaultImage`); elsewhere undefined.
   */
  notebookImage(): Promise<string | undefined>;
}

/** "this machine"; "cluster context `admin` (namespace kubeflow)"; the kubeconfig's current context. */
export function describeTarget(
  kind: TargetKind,
  context: string | null | undefined,
  namespace: string | null | undefined,
): string {
  if (kind === 'local') return 'this machine';
  const where =
    context != null ? `cluster context \`${context}\`` : "the kubeconfig's current context";
  return namespace != null ? `${where} (namespace ${namespace})` : where;
}

/** The key one agent keeps a target's backend under (`local`, `kubeflow/admin/kubeflow`). */
export function targetKey(spec: TargetSpec): string {
  return spec.kind === 'local' ? 'local' : `kubeflow/${spec.context ?? ''}/${spec.namespace ?? ''}`;
}

/** A run page URL from a base that ends where the run id goes (`…/#/runs/details/`). */
export function runUrlFrom(base: string | null): (run: { readonly id: string }) => string | null {
  return (run) => (base === null ? null : `${base}${encodeURIComponent(run.id)}`);
}
