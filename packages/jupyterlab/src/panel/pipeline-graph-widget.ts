/**
 * The pipeline graph of a notebook in a main-area tab, with the live states of its latest run; a
 * click on a step moves to the step's first cell in the notebook.
 */
import type { StepState } from '@cellflow/protocol';
import { layoutPipelineGraph, renderPipelineGraph } from '@cellflow/ui';
import { Widget } from '@lumino/widgets';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';

export class PipelineGraphWidget extends Widget {
  private states: Readonly<Record<string, StepState>> = {};

  constructor(
    private readonly analysis: NotebookAnalysis,
    private readonly onStepClick: (step: string) => void,
  ) {
    super();
    this.id = `cellflow-graph-${Math.random().toString(36).slice(2)}`;
    this.addClass('cf-graph-widget');
    this.title.label = `Pipeline: ${analysis.path.split('/').pop() ?? analysis.path}`;
    this.title.closable = true;
    analysis.changed.connect(this.draw, this);
    this.draw();
  }

  get notebookPath(): string {
    return this.analysis.path;
  }

  setStates(states: ReadonlyMap<string, StepState>): void {
    this.states = Object.fromEntries(states);
    this.draw();
  }

  private draw(): void {
    const graph = this.analysis.result.graph;
    if (graph === undefined || graph.steps.length === 0) {
      this.node.textContent = 'No steps yet: tag a code cell with step:NAME.';
      return;
    }
    renderPipelineGraph(this.node, layoutPipelineGraph(graph), this.states, {
      onStepClick: this.onStepClick,
    });
  }

  override dispose(): void {
    this.analysis.changed.disconnect(this.draw, this);
    super.dispose();
  }
}
