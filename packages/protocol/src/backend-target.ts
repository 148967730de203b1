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

/** A kubeconfig context, as the agent lists them for a person to choose (`GET contexts`). */
export interface KubeContextSummary {
  readonly name: string;
  readonly cluster: string;
  /** The context's namespace, or null when it names none. */
  readonly namespace: string | null;
  /** The kubeconfig's current context. */
  readonly current: boolean;
}

/**
 * The query entries naming a target on every agent route: `target=local`, or
 * `target=kubeflow&context=…&namespace=…` (context and namespace optional).
 */
export function targetQuery(spec: TargetSpec): Record<string, string> {
  if (spec.kind === 'local') return { target: 'local' };
  return {
    target: 'kubeflow',
    ...(spec.context !== undefined ? { context: spec.context } : {}),
    ...(spec.namespace !== undefined ? { namespace: spec.namespace } : {}),
  };
}

/**
 * The target a request's query names; undefined when it names none (the agent then uses the
 * target it was started for). Throws an `Error` whose message says what is wrong and the fix.
 */
export function targetFromQuery(query: {
  get(name: string): string | null;
}): TargetSpec | undefined {
  const kind = query.get('target');
  const context = query.get('context');
  const namespace = query.get('namespace');
  if (kind === null) {
    if (context !== null || namespace !== null)
      throw new Error('`context` and `namespace` need `target=kubeflow` beside them.');
    return undefined;
  }
  if (kind === 'local') {
    if (context !== null || namespace !== null)
      throw new Error('`target=local` takes no `context` or `namespace`.');
    return LOCAL_TARGET;
  }
  if (kind !== 'kubeflow')
    throw new Error(`\`target\` is \`local\` or \`kubeflow\`, not "${kind}".`);
  if (namespace !== null && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace))
    throw new Error(
      `\`namespace\` "${namespace}" is not a Kubernetes namespace (lowercase letters, digits and -).`,
    );
  return {
    kind: 'kubeflow',
    ...(context !== null && context !== '' ? { context } : {}),
    ...(namespace !== null && namespace !== '' ? { namespace } : {}),
  };
}
