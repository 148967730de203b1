/**
 * Reads the notebook's study: finds it in the metadata (`metadata.cellflow.tuning`, else Kale's
 * `metadata.kubeflow_notebook.katib_metadata`), reads its format (`study-formats.ts`) and checks it
 * against the pipeline (`checkStudySpec`). Problems are diagnostics; nothing throws.
 */
import type { Diagnostic } from '../diagnostics.js';
import type { PipelineGraph } from '../graph/pipeline-graph.js';
import type { StudySpec } from './study-spec.js';
import { checkStudySpec } from './check-study-spec.js';
import {
  findStudyInMetadata,
  STUDY_METADATA_PATHS,
  studyOfFormat,
  type StudyFormat,
} from './study-formats.js';

export interface ReadStudySpecResult {
  /** The study, or null when the notebook has none or it has errors. */
  readonly study: StudySpec | null;
  /** Where it came from. */
  readonly source: StudyFormat | null;
  readonly diagnostics: Diagnostic[];
}

export function readStudySpec(
  metadata: Readonly<Record<string, unknown>>,
  graph: PipelineGraph,
): ReadStudySpecResult {
  const found = findStudyInMetadata(metadata);
  if (found === null) return { study: null, source: null, diagnostics: [] };
  const checked = checkStudySpec(
    studyOfFormat(found.format, found.raw),
    graph,
    STUDY_METADATA_PATHS[found.format],
  );
  return { ...checked, source: found.format };
}

/** Checks a study given as plain JSON in the `metadata.cellflow.tuning` shape (editors, CLI flags). */
export function parseStudySpec(
  tuning: unknown,
  graph: PipelineGraph,
): { study: StudySpec | null; diagnostics: Diagnostic[] } {
  return readStudySpec({ cellflow: { tuning } }, graph);
}
