/**
 * Stands in for Katib's experiment and trial controllers: creates Trials for an Experiment the
 * way the controller does (owner reference, labels, trial parameters substituted into the run
 * spec), moves them through their conditions with observed metrics, and recomputes the
 * Experiment's status (counts, trial lists, current optimal trial) from the Trials in the API.
 * All status writes go through the status subresource.
 */
import { randomBytes } from 'node:crypto';
import { type KubeObject, RESOURCES, resourcePath } from './kube-client.js';
import { type DriverTarget, now } from './drive-pods.js';

export type TrialCondition =
  'Created' | 'Running' | 'Succeeded' | 'Failed' | 'Killed' | 'EarlyStopped' | 'MetricsUnavailable';
export type ExperimentCondition = 'Created' | 'Running' | 'Restarting' | 'Succeeded' | 'Failed';

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

interface ExperimentObject extends KubeObject {
  spec: {
    objective?: { type?: string; objectiveMetricName?: string; additionalMetricNames?: string[] };
    trialTemplate?: {
      trialParameters?: { name: string; reference: string }[];
      trialSpec?: unknown;
      primaryContainerName?: string;
      successCondition?: string;
      failureCondition?: string;
    };
    maxTrialCount?: number;
  };
  status?: { conditions?: Condition[]; startTime?: string; [key: string]: unknown };
}

interface TrialObject extends KubeObject {
  spec: { parameterAssignments?: { name: string; value: string }[] };
  status?: {
    conditions?: Condition[];
    startTime?: string;
    completionTime?: string;
    observation?: { metrics?: { name: string; latest: string; min: string; max: string }[] };
  };
}

const experiments = (namespace: string, name?: string, subresource?: string): string =>
  resourcePath(RESOURCES.experiments, { namespace, name, subresource });
const trials = (namespace: string, name?: string, subresource?: string): string =>
  resourcePath(RESOURCES.trials, { namespace, name, subresource });

/** Appends `type` as the True condition; earlier Running/Restarting ones become False. */
function withCondition(
  conditions: Condition[] | undefined,
  type: string,
  reason: string,
  message: string,
): Condition[] {
  const t = now();
  const transient = new Set(['Running', 'Restarting']);
  const kept = (conditions ?? [])
    .filter((c) => c.type !== type)
    .map((c) => (transient.has(c.type) && c.status === 'True' ? { ...c, status: 'False' as const, lastUpdateTime: t, lastTransitionTime: t } : c)); // prettier-ignore
  return [
    ...kept,
    { type, status: 'True', reason, message, lastUpdateTime: t, lastTransitionTime: t },
  ];
}

function substitute(value: unknown, params: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{trialParameters\.([^}]+)\}/g, (all, n: string) => params[n] ?? all);
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, params));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, params)]));
  }
  return value;
}

/**
 * Creates a Trial of the experiment with these parameter values (keyed by the experiment's
 * parameter names), like Katib's experiment controller after a suggestion.
 */
export async function createTrial(
  target: DriverTarget,
  namespace: string,
  experimentName: string,
  assignments: Record<string, string | number>,
  name = `${experimentName}-${randomBytes(4).toString('hex')}`,
): Promise<TrialObject> {
  const experiment = await target.admin.get<ExperimentObject>(
    experiments(namespace, experimentName),
  );
  const template = experiment.spec.trialTemplate ?? {};
  const parameterAssignments = Object.entries(assignments).map(([n, v]) => ({
    name: n,
    value: String(v),
  }));
  const byReference = new Map(parameterAssignments.map((a) => [a.name, a.value]));
  const trialParams: Record<string, string> = {};
  for (const p of template.trialParameters ?? []) {
    const value = byReference.get(p.reference);
    if (value !== undefined) trialParams[p.name] = value;
  }
  const runSpec = substitute(template.trialSpec ?? {}, trialParams) as KubeObject;
  if (typeof runSpec === 'object' && runSpec !== null) {
    runSpec.metadata = { ...(runSpec.metadata ?? {}), name, namespace };
  }
  return target.admin.create<TrialObject>(trials(namespace), {
    apiVersion: 'kubeflow.org/v1beta1',
    kind: 'Trial',
    metadata: {
      name,
      namespace,
      labels: { 'katib.kubeflow.org/experiment': experimentName },
      ownerReferences: [
        {
          apiVersion: 'kubeflow.org/v1beta1',
          kind: 'Experiment',
          name: experimentName,
          uid: experiment.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      objective: experiment.spec.objective,
      parameterAssignments,
      runSpec,
      primaryContainerName: template.primaryContainerName,
      successCondition: template.successCondition,
      failureCondition: template.failureCondition,
      metricsCollector: { collector: { kind: 'StdOut' } },
    },
  });
}

/**
 * Moves a Trial to `condition` (Katib's reasons: TrialCreated, TrialRunning, TrialSucceeded, ...);
 * `metrics` become its observation (as Katib's metrics collector reports them: strings).
 */
export async function setTrialCondition(
  target: DriverTarget,
  namespace: string,
  trialName: string,
  condition: TrialCondition,
  options: { metrics?: Record<string, number | string>; message?: string } = {},
): Promise<TrialObject> {
  const trial = await target.admin.get<TrialObject>(trials(namespace, trialName));
  const t = now();
  const finished = condition !== 'Created' && condition !== 'Running';
  const metrics =
    options.metrics === undefined
      ? trial.status?.observation?.metrics
      : Object.entries(options.metrics).map(([name, v]) => ({
          name,
          latest: String(v),
          min: String(v),
          max: String(v),
        }));
  let conditions = trial.status?.conditions;
  if (conditions === undefined || conditions.length === 0) {
    conditions = withCondition(undefined, 'Created', 'TrialCreated', 'Trial is created');
  }
  if (condition !== 'Created') {
    const message = options.message ?? `Trial is ${condition.toLowerCase()}`;
    conditions = withCondition(conditions, condition, `Trial${condition}`, message);
  }
  return target.admin.mergePatch<TrialObject>(trials(namespace, trialName, 'status'), {
    status: {
      startTime: trial.status?.startTime ?? t,
      ...(finished ? { completionTime: t } : {}),
      conditions,
      ...(metrics !== undefined ? { observation: { metrics } } : {}),
    },
  });
}

const lastCondition = (t: TrialObject): string | undefined =>
  [...(t.status?.conditions ?? [])].reverse().find((c) => c.status === 'True')?.type;

/**
 * Recomputes the Experiment's status from its Trials, as the experiment controller does, and
 * sets `condition` (default: Running once a trial exists, else Created).
 */
export async function syncExperimentStatus(
  target: DriverTarget,
  namespace: string,
  experimentName: string,
  condition?: ExperimentCondition,
  message?: string,
): Promise<ExperimentObject> {
  const experiment = await target.admin.get<ExperimentObject>(
    experiments(namespace, experimentName),
  );
  const list = await target.admin.list<TrialObject>(trials(namespace), {
    labelSelector: `katib.kubeflow.org/experiment=${experimentName}`,
  });
  const byState = (state: string): string[] =>
    list.items.filter((t) => lastCondition(t) === state).map((t) => t.metadata.name ?? '');
  const pending = list.items
    .filter((t) => lastCondition(t) === 'Created' || lastCondition(t) === undefined)
    .map((t) => t.metadata.name ?? '');
  const objective = experiment.spec.objective ?? {};
  const metricName = objective.objectiveMetricName ?? '';
  const better = (a: number, b: number): boolean => (objective.type === 'minimize' ? a < b : a > b);
  let best: TrialObject | undefined;
  let bestValue = NaN;
  for (const trial of list.items) {
    if (lastCondition(trial) !== 'Succeeded') continue;
    const metric = trial.status?.observation?.metrics?.find((m) => m.name === metricName);
    const value = Number(metric?.latest);
    if (metric !== undefined && (best === undefined || better(value, bestValue))) {
      best = trial;
      bestValue = value;
    }
  }
  const type = condition ?? (list.items.length > 0 ? 'Running' : 'Created');
  const reasons: Record<ExperimentCondition, string> = {
    Created: 'ExperimentCreated',
    Running: 'ExperimentRunning',
    Restarting: 'ExperimentRestarting',
    Succeeded: 'ExperimentMaxTrialsReached',
    Failed: 'ExperimentFailed',
  };
  let conditions = experiment.status?.conditions;
  if (conditions === undefined || conditions.length === 0) {
    conditions = withCondition(undefined, 'Created', 'ExperimentCreated', 'Experiment is created');
  }
  if (type !== 'Created') {
    conditions = withCondition(
      conditions,
      type,
      reasons[type],
      message ?? `Experiment is ${type.toLowerCase()}`,
    );
  }
  const t = now();
  const succeeded = byState('Succeeded');
  const failed = byState('Failed');
  const running = byState('Running');
  const killed = byState('Killed');
  const earlyStopped = byState('EarlyStopped');
  const metricsUnavailable = byState('MetricsUnavailable');
  return target.admin.mergePatch<ExperimentObject>(
    experiments(namespace, experimentName, 'status'),
    {
      status: {
        startTime: experiment.status?.startTime ?? t,
        lastReconcileTime: t,
        ...(type === 'Succeeded' || type === 'Failed' ? { completionTime: t } : {}),
        conditions,
        trials: list.items.length,
        trialsSucceeded: succeeded.length,
        trialsFailed: failed.length,
        trialsRunning: running.length,
        trialsPending: pending.length,
        trialsKilled: killed.length,
        trialsEarlyStopped: earlyStopped.length,
        trialMetricsUnavailable: metricsUnavailable.length,
        succeededTrialList: succeeded,
        failedTrialList: failed,
        runningTrialList: running,
        pendingTrialList: pending,
        killedTrialList: killed,
        earlyStoppedTrialList: earlyStopped,
        metricsUnavailableTrialList: metricsUnavailable,
        currentOptimalTrial:
          best === undefined
            ? { bestTrialName: '', parameterAssignments: null, observation: { metrics: null } }
            : {
                bestTrialName: best.metadata.name,
                parameterAssignments: best.spec.parameterAssignments ?? [],
                observation: { metrics: best.status?.observation?.metrics ?? [] },
              },
      },
    },
  );
}
