/**
 * Katib v1beta1 Experiment for a study. Each trial is a Kubernetes Job whose one container runs the
 * trial runner (`trial-runner.py`, standard-library Python): it starts a Kubeflow Pipelines run of
 * the whole pipeline with the trial's parameter values, waits for it, reads the metric lines the
 * metrics step printed (`name=value`, from its pod log) and prints them, which Katib's StdOut
 * metrics collector reads. The run request (pipeline spec, experiment, fixed parameter values) and
 * the runner live in a ConfigMap mounted into the trial's pod.
 */
import { dump } from 'js-yaml';
import type { PipelineGraph } from '../../graph/pipeline-graph.js';
import type { SearchParameter, StudySpec } from '../../tuning/study-spec.js';
import { taskNameForStep } from '../kfp/build-pipeline-spec-for-graph.js';
import { TRIAL_RUNNER_SOURCE } from './trial-runner-source.generated.js';

export const KATIB_API_VERSION = 'kubeflow.org/v1beta1';
/** Image of the trial runner's container: any Python 3 (the runner needs the standard library only). */
export const DEFAULT_TRIAL_IMAGE = 'python:3.11-slim';
const RUN_MOUNT = '/cellflow/trial';
const TOKEN_MOUNT = '/var/run/secrets/kubeflow/pipelines';
/** A metric line exactly as the step runtime prints it, and nothing else. */
export const TRIAL_METRICS_FORMAT =
  '^([A-Za-z0-9_-]+)=([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+)(?:[eE][+-]?[0-9]+)?)$';

export interface KatibExperimentInput {
  readonly graph: PipelineGraph;
  readonly study: StudySpec;
  /** Experiment name (a DNS label); the ConfigMap is named after it. */
  readonly name: string;
  readonly namespace?: string;
  /** Kubeflow Pipelines API as the trial pods reach it (default: the in-cluster service). */
  readonly kfpEndpoint?: string;
  readonly image?: string;
  /** Service account of the trial pods: it needs to create KFP runs and read pod logs. */
  readonly serviceAccountName?: string;
}

/** The ConfigMap with the run request and the trial runner, for the Experiment of the same name. */
export function buildTrialConfigMapForStudy(input: {
  readonly name: string;
  readonly namespace?: string;
  /** The KFP v2beta1 CreateRun body every trial starts from (parameters filled per trial). */
  readonly runTemplate: unknown;
}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: trialConfigMapName(input.name),
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      labels: { 'app.kubernetes.io/managed-by': 'cellflow', 'cellflow.dev/study': input.name },
    },
    data: {
      'run.json': JSON.stringify(input.runTemplate),
      'trial.py': TRIAL_RUNNER_SOURCE,
    },
  };
}

export function trialConfigMapName(experiment: string): string {
  return `${experiment}-trial`;
}

function feasibleSpaceOf(p: SearchParameter): Record<string, unknown> {
  if (p.values !== undefined)
    return {
      list: p.values.map((v) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v))),
    };
  return {
    min: String(p.min),
    max: String(p.max),
    ...(p.step !== undefined ? { step: String(p.step) } : {}),
    ...(p.scale === 'log' ? { distribution: 'logUniform' } : {}),
  };
}

/** How the trial runner types a value for KFP: the parameters cell's type. */
function runnerTypeOf(graph: PipelineGraph, name: string): string {
  const type = graph.parameters.find((p) => p.name === name)?.type;
  return type === 'int' || type === 'float' || type === 'bool' ? type : 'str';
}

export function buildKatibExperimentForStudy(input: KatibExperimentInput): Record<string, unknown> {
  const { graph, study, name } = input;
  const objectiveStep = graph.metrics.find((m) => m.name === study.objective)?.step;
  if (objectiveStep === undefined)
    throw new Error(`the objective ${study.objective} is not a metric of ${graph.pipeline.name}`);
  const metrics = [
    study.objective,
    ...study.additionalMetrics.filter((m) => m !== study.objective),
  ];
  // Metrics written by other steps are read from those steps' logs too.
  const metricTasks = [
    ...new Set(metrics.map((m) => graph.metrics.find((x) => x.name === m)?.step ?? objectiveStep)),
  ].map(taskNameForStep);
  const args = [
    `${RUN_MOUNT}/trial.py`,
    '--run-template',
    `${RUN_MOUNT}/run.json`,
    ...(input.kfpEndpoint !== undefined ? ['--kfp-endpoint', input.kfpEndpoint] : []),
    ...(input.namespace !== undefined ? ['--namespace', input.namespace] : []),
    ...metricTasks.flatMap((t) => ['--metrics-task', t]),
    ...metrics.flatMap((m) => ['--metric', m]),
    ...study.parameters.flatMap((p) => [
      '--param',
      `${p.name}:${runnerTypeOf(graph, p.name)}=\${trialParameters.${trialParameterName(p.name)}}`,
    ]),
  ];
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    spec: {
      backoffLimit: 0,
      template: {
        metadata: {
          labels: { 'app.kubernetes.io/managed-by': 'cellflow', 'cellflow.dev/study': name },
          annotations: { 'sidecar.istio.io/inject': 'false' },
        },
        spec: {
          restartPolicy: 'Never',
          ...(input.serviceAccountName !== undefined
            ? { serviceAccountName: input.serviceAccountName }
            : {}),
          containers: [
            {
              name: 'trial',
              image: input.image ?? DEFAULT_TRIAL_IMAGE,
              command: ['python3', '-u'],
              args,
              env: [{ name: 'KF_PIPELINES_SA_TOKEN_PATH', value: `${TOKEN_MOUNT}/token` }],
              resources: {
                requests: { cpu: '50m', memory: '64Mi' },
                limits: { cpu: '500m', memory: '256Mi' },
              },
              volumeMounts: [
                { name: 'cellflow-trial', mountPath: RUN_MOUNT, readOnly: true },
                { name: 'kfp-token', mountPath: TOKEN_MOUNT, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'cellflow-trial', configMap: { name: trialConfigMapName(name) } },
            {
              name: 'kfp-token',
              projected: {
                sources: [
                  {
                    serviceAccountToken: {
                      audience: 'pipelines.kubeflow.org',
                      expirationSeconds: 7200,
                      path: 'token',
                    },
                  },
                ],
              },
            },
          ],
        },
      },
    },
  };
  return {
    apiVersion: KATIB_API_VERSION,
    kind: 'Experiment',
    metadata: {
      name,
      ...(input.namespace !== undefined ? { namespace: input.namespace } : {}),
      labels: {
        'app.kubernetes.io/managed-by': 'cellflow',
        'cellflow.dev/pipeline': graph.pipeline.name,
      },
    },
    spec: {
      objective: {
        type: study.goal,
        objectiveMetricName: study.objective,
        ...(study.goalValue !== undefined ? { goal: study.goalValue } : {}),
        ...(study.additionalMetrics.length > 0
          ? { additionalMetricNames: study.additionalMetrics.filter((m) => m !== study.objective) }
          : {}),
      },
      algorithm: {
        algorithmName: study.algorithm,
        ...(Object.keys(study.algorithmSettings).length > 0 || study.seed !== undefined
          ? {
              algorithmSettings: Object.entries({
                ...(study.seed !== undefined && study.algorithm !== 'grid'
                  ? { random_state: String(study.seed) }
                  : {}),
                ...study.algorithmSettings,
              }).map(([n, value]) => ({ name: n, value })),
            }
          : {}),
      },
      ...(study.earlyStopping !== undefined
        ? {
            earlyStopping: {
              algorithmName: study.earlyStopping.algorithm,
              ...(Object.keys(study.earlyStopping.settings).length > 0
                ? {
                    algorithmSettings: Object.entries(study.earlyStopping.settings).map(
                      ([n, value]) => ({ name: n, value }),
                    ),
                  }
                : {}),
            },
          }
        : {}),
      parallelTrialCount: study.parallelTrials,
      maxTrialCount: study.maxTrials,
      maxFailedTrialCount: study.maxFailedTrials,
      metricsCollectorSpec: {
        collector: { kind: 'StdOut' },
        source: { filter: { metricsFormat: [TRIAL_METRICS_FORMAT] } },
      },
      parameters: study.parameters.map((p) => ({
        name: p.name,
        parameterType: p.type,
        feasibleSpace: feasibleSpaceOf(p),
      })),
      trialTemplate: {
        primaryContainerName: 'trial',
        trialParameters: study.parameters.map((p) => ({
          name: trialParameterName(p.name),
          description: `${p.name} in the parameters cell`,
          reference: p.name,
        })),
        trialSpec: job,
      },
    },
  };
}

/** Katib trial parameter names are used in `${trialParameters.NAME}`: letters, digits, `_` and `-`. */
function trialParameterName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

export function buildKatibExperimentYamlForStudy(input: KatibExperimentInput): string {
  return dump(buildKatibExperimentForStudy(input), { lineWidth: -1, noRefs: true });
}
