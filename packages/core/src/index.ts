export * from './diagnostics.js';
export * from './diagnostic-catalogue.js';
export { formatMetricValue } from './format-metric-value.js';
export type { Notebook, NotebookCell, CellKind } from './notebook/notebook.js';
export { parseNotebook, type ParseNotebookResult } from './notebook/parse-notebook.js';
export {
  buildExecutedNotebook,
  type CellOutputs,
  type NotebookFile,
  type NotebookOutput,
} from './notebook/executed-notebook.js';
export * from './tags/cell-tags.js';
export * from './tags/edit-cell-tags.js';
export { readNotebookSettings, type NotebookSettings } from './tags/notebook-settings.js';
export {
  analyzePython,
  PythonAnalyzer,
  type CodeAnalysis,
  type NameSite,
} from './python/analyze-python.js';
export { toPlainPython, type PlainPython, type MagicNote } from './python/ipython-syntax.js';
export { parseWithLezer, type NestingProblem } from './python/parse-python.js';
export { fastParsePython } from './python/fast-python-parser.js';
export * from './python/read-literals.js';
export type * from './graph/pipeline-graph.js';
export {
  buildPipelineGraph,
  toPipelineName,
  toMetricName,
  durationToSeconds,
  DEFAULT_IMAGE,
} from './graph/build-graph.js';
export {
  buildCacheScriptForStep,
  buildEntryScriptForStep,
} from './emit/entry-script/build-entry-script-for-step.js';
export { RUNTIME_SOURCE } from './emit/entry-script/runtime-source.generated.js';
export * from './emit/entry-script/step-report-lines.js';
export * from './emit/entry-script/step-failure-line.js';
export * from './emit/entry-script/entry-script-cells.js';
export * from './emit/kfp/build-pipeline-spec-for-graph.js';
export * from './emit/kfp/kubernetes-quantity.js';
export * from './emit/kfp/check-step-images.js';
export { importedModules, isStandardLibraryModule } from './python/imported-modules.js';
export {
  buildInspectJsonForGraph,
  type InspectJson,
} from './inspect/build-inspect-json-for-graph.js';
export * from './compile.js';
export { NotebookAnalyzer } from './incremental-analysis.js';
export { checkGpuRequests, describeGpuPool, type GpuPool } from './graph/check-gpu-capacity.js';
export * from './emit/kserve/build-inference-service-for-model.js';
export * from './tuning/study-spec.js';
export * from './tuning/read-study-spec.js';
export * from './tuning/study-formats.js';
export * from './tuning/check-study-spec.js';
export * from './tuning/study-defaults.js';
export * from './tuning/suggest-trial.js';
export * from './tuning/apply-parameter-values.js';
export * from './emit/katib/build-katib-experiment-for-study.js';
export { TRIAL_RUNNER_SOURCE } from './emit/katib/trial-runner-source.generated.js';
