/** The golden cases: every fixture notebook and what Cellflow must make of it. */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  buildInferenceServiceYamlForModel,
  buildKatibExperimentYamlForStudy,
  readStudySpec,
  buildInspectJsonForGraph,
  compile,
  type PipelineGraph,
} from '@cellflow/core';

export { REPO_ROOT as repoRoot } from '../support/paths.js';
import { REPO_ROOT as repoRoot } from '../support/paths.js';
export const goldenDir = join(repoRoot, 'test/golden');
const fixtureDirs = [
  { dir: join(repoRoot, 'test/fixtures/notebooks'), prefix: '' },
  { dir: join(repoRoot, 'examples'), prefix: 'example-' },
  { dir: join(repoRoot, '../shared/fixtures/kale'), prefix: 'kale-' },
];

export interface GoldenCase {
  readonly name: string;
  readonly notebookPath: string;
}

export interface GoldenOutput {
  readonly inspectJson: string;
  /** Null when the notebook has errors (nothing is compiled). */
  readonly pipelineYaml: string | null;
  readonly graph?: PipelineGraph;
}

export function goldenCases(): GoldenCase[] {
  return fixtureDirs.flatMap(({ dir, prefix }) => {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.ipynb'));
    } catch {
      return [];
    }
    return files
      .sort()
      .map((f) => ({ name: `${prefix}${basename(f, '.ipynb')}`, notebookPath: join(dir, f) }));
  });
}

export function goldenOutput(c: GoldenCase): GoldenOutput {
  const result = compile(readFileSync(c.notebookPath), { fileName: basename(c.notebookPath) });
  return {
    inspectJson: `${JSON.stringify(buildInspectJsonForGraph(result.graph, result.diagnostics), null, 2)}\n`,
    pipelineYaml: result.yaml ?? null,
    ...(result.graph !== undefined ? { graph: result.graph } : {}),
  };
}

/** The KServe InferenceService for the digits example's best model (a golden of the serving emitter). */
export function inferenceServiceGolden(): { path: string; yaml: string } {
  const graph = compile(readFileSync(join(repoRoot, 'examples/digits.ipynb')), {
    fileName: 'digits.ipynb',
  }).graph!;
  return {
    path: join(goldenDir, 'example-digits', 'inference-service.yaml'),
    yaml: buildInferenceServiceYamlForModel({
      graph,
      step: 'pick_best',
      variable: 'best_model',
      storageUri: 's3://mlpipeline/v2/artifacts/digits/RUN_ID/pick-best/best_model',
      format: 'sklearn',
      namespace: 'kubeflow-user',
      runId: 'RUN_ID',
    }),
  };
}

/** The Katib Experiment for the digits example's study (a golden of the tuning emitter). */
export function katibExperimentGolden(): { path: string; yaml: string } {
  const result = compile(readFileSync(join(repoRoot, 'examples/digits.ipynb')), {
    fileName: 'digits.ipynb',
  });
  const graph = result.graph!;
  const { study } = readStudySpec(result.pipeline!.notebook.metadata, graph);
  return {
    path: join(goldenDir, 'example-digits', 'katib-experiment.yaml'),
    yaml: buildKatibExperimentYamlForStudy({
      graph,
      study: study!,
      name: 'digits-study',
      namespace: 'kubeflow-user',
      serviceAccountName: 'default-editor',
    }),
  };
}
