/**
 * Notebook-level settings: Cellflow's `metadata.cellflow` over Kale's `metadata.kubeflow_notebook`.
 *
 * `metadata.cellflow` schema (every key optional):
 * ```json
 * {
 *   "name": "digits",                    // pipeline name (KFP: lowercase, digits, '-')
 *   "description": "Train digit classifiers",
 *   "experiment": "digits",              // KFP experiment runs go to
 *   "image": "python:3.11",              // default image for steps without `image:`
 *   "stepDefaults": ["cpu:1", "label:team:ml"],  // tags applied to every step, before its own
 *   "packages": ["scikit-learn", "pandas>=2"],  // pip requirements every step installs on a cluster
 *   "tuning": { ... }                    // hyperparameter study (see the tuning docs)
 * }
 * ```
 * Kale keys read: `pipeline_name`, `pipeline_description`, `experiment_name` (or `experiment.name`),
 * `docker_image`, `steps_defaults`, `katib_metadata`.
 */
import { excerptOfLine, type Diagnostic } from '../diagnostics.js';
import { isImageReference } from './tag-value-limits.js';

export interface NotebookSettings {
  readonly name?: string;
  readonly description?: string;
  readonly experiment?: string;
  readonly image?: string;
  readonly stepDefaults: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function readNotebookSettings(metadata: Readonly<Record<string, unknown>>): {
  settings: NotebookSettings;
  diagnostics: Diagnostic[];
} {
  const diagnostics: Diagnostic[] = [];
  const warn = (message: string): void => {
    diagnostics.push({
      severity: 'warning',
      code: 'bad-notebook-metadata',
      cell: null,
      line: null,
      message,
    });
  };
  const kale = isRecord(metadata.kubeflow_notebook) ? metadata.kubeflow_notebook : {};
  const ours = isRecord(metadata.cellflow) ? metadata.cellflow : {};
  if (metadata.cellflow !== undefined && !isRecord(metadata.cellflow))
    warn(
      '`metadata.cellflow` is not an object and is ignored. Fix: make it a JSON object, e.g. {"name": "my-pipeline"}.',
    );
  const kaleExperiment = isRecord(kale.experiment)
    ? nonEmptyString(kale.experiment.name)
    : undefined;
  const stepDefaults: string[] = [];
  for (const [source, value] of [
    ['metadata.kubeflow_notebook.steps_defaults', kale.steps_defaults],
    ['metadata.cellflow.stepDefaults', ours.stepDefaults],
  ] as const) {
    if (value === undefined) continue;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
      stepDefaults.push(...value);
    else warn(`\`${source}\` must be a list of tag strings (e.g. ["cpu:1"]); it is ignored.`);
  }
  if (ours.packages !== undefined) {
    if (Array.isArray(ours.packages) && ours.packages.every((v) => typeof v === 'string'))
      stepDefaults.push(...ours.packages.map((p) => `packages:${p}`));
    else
      warn(
        '`metadata.cellflow.packages` must be a list of pip requirements (e.g. ["scikit-learn"]); it is ignored.',
      );
  }
  const pick = (...values: unknown[]): string | undefined => {
    for (const v of values) {
      const s = nonEmptyString(v);
      if (s !== undefined) return s;
    }
    return undefined;
  };
  const name = pick(ours.name, kale.pipeline_name);
  const description = pick(ours.description, kale.pipeline_description);
  const experiment = pick(ours.experiment, kale.experiment_name, kaleExperiment);
  const pickedImage = pick(ours.image, kale.docker_image);
  const image =
    pickedImage !== undefined && isImageReference(pickedImage) ? pickedImage : undefined;
  if (pickedImage !== undefined && image === undefined)
    diagnostics.push({
      severity: 'error',
      code: 'bad-image',
      cell: null,
      line: null,
      message: `The notebook's image \`${excerptOfLine(pickedImage, 80)}\` is not a container image reference (\`[REGISTRY/]NAME[:TAG][@DIGEST]\`, lowercase name). Fix: write e.g. "image": "python:3.11-slim" in metadata.cellflow.`,
    });
  return {
    settings: {
      ...(name !== undefined ? { name } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(experiment !== undefined ? { experiment } : {}),
      ...(image !== undefined ? { image } : {}),
      stepDefaults,
    },
    diagnostics,
  };
}
