/**
 * Studies on a cluster: Katib Experiments Cellflow created (label `app.kubernetes.io/managed-by:
 * cellflow`), their Trials read back as `TrialSummary`s (live changes: ./watch-study.ts).
 * The study's spec rides on the Experiment as an annotation, so any client can list and render it.
 */
import {
  buildKatibExperimentForStudy,
  buildTrialConfigMapForStudy,
  isBetterObjective,
  trialConfigMapName,
  type PipelineGraph,
  type StudySpec,
} from '@cellflow/core';
import {
  BackendError,
  type StudyState,
  type StudySummary,
  type TrialState,
  type TrialSummary,
} from '../backend.js';
import { HttpError, type KubeConnection } from './kube-connection.js';
import type { CustomResource } from './kube-watch.js';
import { countTrials } from '../local/local-study.js';

export const EXPERIMENTS: CustomResource = {
  group: 'kubeflow.org',
  version: 'v1beta1',
  plural: 'experiments',
};
export const TRIALS: CustomResource = {
  group: 'kubeflow.org',
  version: 'v1beta1',
  plural: 'trials',
};
const MANAGED = 'app.kubernetes.io/managed-by=cellflow';
const SPEC_ANNOTATION = 'cellflow.dev/study-spec';
const NOTEBOOK_ANNOTATION = 'cellflow.dev/notebook';
/** Kubernetes objects hold at most ~1.5 MB; the ConfigMap keeps a margin. */
const MAX_TEMPLATE_BYTES = 900 * 1024;

/** Katib labels every Trial with its Experiment. */
export const trialSelector = (experiment: string): string =>
  `katib.kubeflow.org/experiment=${experiment}`;

/** The Trials of Experiment `experiment`. */
export async function listTrials(
  kube: KubeConnection,
  namespace: string,
  experiment: string,
): Promise<TrialObject[]> {
  const list = (await kube.read((o) =>
    kube.custom.listNamespacedCustomObject(
      { ...TRIALS, namespace, labelSelector: trialSelector(experiment) },
      o,
    ),
  )) as { items: TrialObject[] };
  return list.items;
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface ExperimentObject {
  readonly metadata: {
    readonly name: string;
    readonly resourceVersion?: string;
    readonly uid?: string;
    readonly creationTimestamp?: string;
    readonly deletionTimestamp?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly spec?: { readonly parameters?: readonly { name: string; parameterType: string }[] };
  readonly status?: {
    readonly conditions?: readonly Condition[];
    readonly completionTime?: string;
    readonly currentOptimalTrial?: { readonly bestTrialName?: string };
  };
}

export interface TrialObject {
  readonly metadata: {
    readonly name: string;
    readonly resourceVersion?: string;
    readonly creationTimestamp?: string;
  };
  readonly spec?: { readonly parameterAssignments?: readonly { name: string; value: string }[] };
  readonly status?: {
    readonly conditions?: readonly Condition[];
    readonly startTime?: string;
    readonly completionTime?: string;
    readonly observation?: { readonly metrics?: readonly { name: string; latest: string }[] };
  };
}

/** The last condition that is True (Katib keeps the history). */
function currentCondition(conditions: readonly Condition[] | undefined): Condition | undefined {
  return [...(conditions ?? [])].reverse().find((c) => c.status === 'True');
}

const TRIAL_STATES: Readonly<Record<string, TrialState>> = {
  Created: 'pending',
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
  MetricsUnavailable: 'failed',
  Killed: 'cancelled',
  EarlyStopped: 'early-stopped',
};

function numberOrText(value: string): number | string {
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? n : value;
}

function typedAssignment(
  value: string,
  spec: StudySpec | undefined,
  name: string,
): string | number | boolean {
  const p = spec?.parameters.find((x) => x.name === name);
  if (p === undefined) return numberOrText(value);
  if (p.type === 'int' || p.type === 'double' || p.type === 'discrete') return Number(value);
  if (p.values?.some((v) => typeof v === 'boolean') === true)
    return value === 'True' || value === 'true';
  return value;
}

export function trialSummaryOf(
  trial: TrialObject,
  index: number,
  spec: StudySpec | undefined,
): TrialSummary {
  const condition = currentCondition(trial.status?.conditions);
  const state = condition !== undefined ? (TRIAL_STATES[condition.type] ?? 'running') : 'pending';
  const metrics: Record<string, number | string> = {};
  for (const m of trial.status?.observation?.metrics ?? [])
    metrics[m.name] = numberOrText(m.latest);
  const raw = spec !== undefined ? metrics[spec.objective] : undefined;
  const objective = typeof raw === 'number' && state === 'succeeded' ? raw : null;
  const reason =
    state === 'failed' || state === 'cancelled' || state === 'early-stopped'
      ? condition?.message !== undefined && condition.message !== ''
        ? condition.message
        : condition?.reason
      : undefined;
  return {
    id: trial.metadata.name,
    index,
    parameters: Object.fromEntries(
      (trial.spec?.parameterAssignments ?? []).map((a) => [
        a.name,
        typedAssignment(a.value, spec, a.name),
      ]),
    ),
    state,
    metrics: metrics,
    objective,
    startedAt: trial.status?.startTime ?? null,
    finishedAt: trial.status?.completionTime ?? null,
    ...(reason !== undefined ? { reason } : {}),
  };
}

function studyStateOf(experiment: ExperimentObject): { state: StudyState; reason?: string } {
  if (experiment.metadata.deletionTimestamp !== undefined)
    return { state: 'cancelled', reason: 'The Katib Experiment is being deleted.' };
  const c = currentCondition(experiment.status?.conditions);
  if (c?.type === 'Succeeded') return { state: 'succeeded' };
  if (c?.type === 'Failed')
    return {
      state: 'failed',
      reason: c.message ?? c.reason ?? 'Katib says the experiment failed.',
    };
  return { state: 'running' };
}

function specOf(experiment: ExperimentObject): StudySpec | undefined {
  const text = experiment.metadata.annotations?.[SPEC_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as StudySpec;
  } catch {
    return undefined;
  }
}

export function studySummaryOf(
  experiment: ExperimentObject,
  trials: readonly TrialObject[],
): StudySummary {
  const spec = specOf(experiment);
  const ordered = [...trials].sort(
    (a, b) =>
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
  const summaries = ordered.map((t, i) => trialSummaryOf(t, i, spec));
  const named = experiment.status?.currentOptimalTrial?.bestTrialName;
  let best = summaries.find((t) => t.id === named && t.objective !== null) ?? null;
  if (best === null && spec !== undefined) {
    for (const t of summaries)
      if (t.objective !== null && isBetterObjective(spec, t.objective, best?.objective ?? null))
        best = t;
  }
  const { state, reason } = studyStateOf(experiment);
  return {
    id: experiment.metadata.name,
    pipeline: experiment.metadata.labels?.['cellflow.dev/pipeline'] ?? '',
    state,
    target: 'cluster',
    spec: spec ?? ({} as StudySpec),
    createdAt: experiment.metadata.creationTimestamp ?? '',
    finishedAt: experiment.status?.completionTime ?? null,
    notebookPath: experiment.metadata.annotations?.[NOTEBOOK_ANNOTATION] ?? null,
    trials: summaries,
    best,
    counts: countTrials(summaries),
    ...(reason !== undefined ? { reason } : {}),
  };
}

export interface CreateStudyInput {
  readonly graph: PipelineGraph;
  readonly spec: StudySpec;
  readonly name: string;
  readonly namespace: string;
  /** The KFP CreateRun body every trial starts from. */
  readonly runTemplate: unknown;
  readonly notebookPath?: string;
  readonly kfpEndpoint?: string;
  readonly image?: string;
  readonly serviceAccountName?: string;
}

export class KatibStudies {
  constructor(
    private readonly kube: KubeConnection,
    private readonly fail: (error: unknown, doing: string) => BackendError,
  ) {}

  /** Creates the trial ConfigMap and the Experiment (which then owns the ConfigMap). */
  async create(input: CreateStudyInput): Promise<void> {
    const { namespace, name } = input;
    const configMap = buildTrialConfigMapForStudy({
      name,
      namespace,
      runTemplate: input.runTemplate,
    }) as { data: Record<string, string> };
    const size = Object.values(configMap.data).reduce((n, v) => n + v.length, 0);
    if (size > MAX_TEMPLATE_BYTES)
      throw new BackendError(
        'invalid-study',
        `The pipeline is too large for a cluster study: its run request is ${Math.round(size / 1024)} KiB and a Kubernetes ConfigMap holds about ${MAX_TEMPLATE_BYTES / 1024} KiB. Fix: tune fewer steps (split the notebook) or tune locally.`,
      );
    const experiment = buildKatibExperimentForStudy({
      graph: input.graph,
      study: input.spec,
      name,
      namespace,
      ...(input.kfpEndpoint !== undefined ? { kfpEndpoint: input.kfpEndpoint } : {}),
      ...(input.image !== undefined ? { image: input.image } : {}),
      ...(input.serviceAccountName !== undefined
        ? { serviceAccountName: input.serviceAccountName }
        : {}),
    }) as { metadata: { annotations?: Record<string, string> } };
    experiment.metadata.annotations = {
      [SPEC_ANNOTATION]: JSON.stringify(input.spec),
      ...(input.notebookPath !== undefined ? { [NOTEBOOK_ANNOTATION]: input.notebookPath } : {}),
    };
    try {
      await this.kube.write((o) =>
        this.kube.core.createNamespacedConfigMap({ namespace, body: configMap }, o),
      );
    } catch (error) {
      throw this.fail(error, `create the study's ConfigMap in namespace ${namespace}`);
    }
    let created: ExperimentObject;
    try {
      created = (await this.kube.write((o) =>
        this.kube.custom.createNamespacedCustomObject(
          { ...EXPERIMENTS, namespace, body: experiment },
          o,
        ),
      )) as ExperimentObject;
    } catch (error) {
      await this.kube
        .write((o) =>
          this.kube.core.deleteNamespacedConfigMap(
            { name: trialConfigMapName(name), namespace },
            o,
          ),
        )
        .catch(() => undefined);
      if (error instanceof HttpError && error.status === 404)
        throw new BackendError(
          'not-found',
          `Katib is not installed on this cluster (no experiments.kubeflow.org resource). Fix: install Katib, or tune locally (\`cellflow tune\` without --cluster).`,
        );
      throw this.fail(error, `create the Katib Experiment ${name} in namespace ${namespace}`);
    }
    // The Experiment owns the ConfigMap: deleting the study removes both.
    await this.kube
      .write(
        (o) =>
          this.kube.core.patchNamespacedConfigMap(
            {
              name: trialConfigMapName(name),
              namespace,
              body: {
                metadata: {
                  ownerReferences: [
                    {
                      apiVersion: 'kubeflow.org/v1beta1',
                      kind: 'Experiment',
                      name,
                      uid: created.metadata.uid ?? '',
                    },
                  ],
                },
              },
            },
            o,
          ),
        { contentType: 'application/merge-patch+json' },
      )
      .catch(() => undefined);
  }

  async summary(namespace: string, name: string): Promise<StudySummary | null> {
    let experiment: ExperimentObject;
    try {
      experiment = (await this.kube.read((o) =>
        this.kube.custom.getNamespacedCustomObject({ ...EXPERIMENTS, namespace, name }, o),
      )) as ExperimentObject;
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) return null;
      throw this.fail(error, `read the Katib Experiment ${name}`);
    }
    let trials: TrialObject[];
    try {
      trials = await listTrials(this.kube, namespace, name);
    } catch (error) {
      throw this.fail(error, `list the trials of ${name}`);
    }
    return studySummaryOf(experiment, trials);
  }

  async list(namespace: string): Promise<StudySummary[]> {
    let items: ExperimentObject[];
    try {
      items = (
        (await this.kube.read((o) =>
          this.kube.custom.listNamespacedCustomObject(
            { ...EXPERIMENTS, namespace, labelSelector: MANAGED },
            o,
          ),
        )) as { items: ExperimentObject[] }
      ).items;
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) return [];
      throw this.fail(error, `list Katib Experiments in namespace ${namespace}`);
    }
    const summaries = await Promise.all(
      items.map(async (e) => {
        const trials = await listTrials(this.kube, namespace, e.metadata.name).catch(() => []);
        return studySummaryOf(e, trials);
      }),
    );
    return summaries.sort((a, b) =>
      a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0,
    );
  }

  /** Deletes the Experiment: Katib stops its trials (their runners terminate their KFP runs). */
  async delete(namespace: string, name: string): Promise<void> {
    try {
      await this.kube.write((o) =>
        this.kube.custom.deleteNamespacedCustomObject(
          { ...EXPERIMENTS, namespace, name, propagationPolicy: 'Background' },
          o,
        ),
      );
    } catch (error) {
      if (error instanceof HttpError && error.status === 404)
        throw new BackendError(
          'study-not-found',
          `No Katib Experiment ${name} in namespace ${namespace}.`,
        );
      throw this.fail(error, `delete the Katib Experiment ${name}`);
    }
  }
}
