/** `compile()`: the facade over the pure passes. Takes data, returns data; never throws at users. */
import { hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { buildEntryScriptForStep } from './emit/entry-script/build-entry-script-for-step.js';
import { buildPipelineYamlForGraph } from './emit/kfp/build-pipeline-spec-for-graph.js';
import { buildPipelineGraph, type BuildGraphOptions } from './graph/build-graph.js';
import type { PipelineGraph } from './graph/pipeline-graph.js';
import type { Notebook } from './notebook/notebook.js';
import { parseNotebook } from './notebook/parse-notebook.js';
import { readNotebookSettings } from './tags/notebook-settings.js';

export type CompileOptions = BuildGraphOptions;

/** What runners need: the graph, each step's entry script, and the notebook it came from. */
export interface CompiledPipeline {
  readonly notebook: Notebook;
  readonly graph: PipelineGraph;
  /** Plain-Python code of every analysed cell, by cell index. */
  readonly code: ReadonlyMap<number, string>;
  /**
   * A step's entry script, by the step's name: made when first asked for (a compile for KFP or
   * for the editor needs none), then remembered.
   */
  readonly scriptFor: (step: string) => string;
}

export interface AnalyzeResult {
  readonly notebook?: Notebook;
  readonly graph?: PipelineGraph;
  readonly code: ReadonlyMap<number, string>;
  readonly diagnostics: readonly Diagnostic[];
}

/** Passes 1-4: notebook -> graph + diagnostics. Cheap enough to run on every keystroke. */
export function analyzeNotebook(
  input: string | Uint8Array | Notebook,
  options: CompileOptions = {},
): AnalyzeResult {
  const parsed =
    typeof input === 'string' || input instanceof Uint8Array
      ? parseNotebook(input)
      : { notebook: input, diagnostics: [] };
  if (parsed.notebook === undefined)
    return { code: new Map(), diagnostics: sortDiagnostics(parsed.diagnostics) };
  const { settings, diagnostics: settingDiagnostics } = readNotebookSettings(
    parsed.notebook.metadata,
  );
  const built = buildPipelineGraph(parsed.notebook, settings, options);
  return {
    notebook: parsed.notebook,
    graph: built.graph,
    code: built.code,
    diagnostics: sortDiagnostics([
      ...parsed.diagnostics,
      ...settingDiagnostics,
      ...built.diagnostics,
    ]),
  };
}

export interface CompileResult {
  /** Absent when there are errors: nothing half-built is handed on. */
  readonly pipeline?: CompiledPipeline;
  /** KFP v2 IR YAML (PipelineSpec + PlatformSpec); absent when there are errors. */
  readonly yaml?: string;
  readonly graph?: PipelineGraph;
  readonly diagnostics: readonly Diagnostic[];
}

export function compile(
  input: string | Uint8Array | Notebook,
  options: CompileOptions = {},
): CompileResult {
  const analysis = analyzeNotebook(input, options);
  const { notebook, graph, code, diagnostics } = analysis;
  if (notebook === undefined || graph === undefined || hasErrors(diagnostics)) {
    return { ...(graph !== undefined ? { graph } : {}), diagnostics };
  }
  const scripts = new Map<string, string>();
  const scriptFor = (name: string): string => {
    let script = scripts.get(name);
    if (script === undefined) {
      const step = graph.steps.find((s) => s.name === name);
      if (step === undefined) throw new Error(`no step \`${name}\` in this pipeline`);
      script = buildEntryScriptForStep(graph, step, code);
      scripts.set(name, script);
    }
    return script;
  };
  return {
    pipeline: { notebook, graph, code, scriptFor },
    yaml: buildPipelineYamlForGraph(graph, code),
    graph,
    diagnostics,
  };
}
