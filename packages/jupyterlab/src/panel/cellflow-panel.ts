/**
 * The "Cellflow" sidebar: the notebook in focus as a pipeline (settings, target, GPU capacity,
 * steps), the buttons that act on it, live runs, tuning results and endpoints. It only renders:
 * buttons run commands, and the data comes from the analysis, the agent and the run tracker.
 */
import type { AgentInfo, Capacity, Endpoint, StudySummary } from '@cellflow/protocol';
import { DEFAULT_IMAGE, describeDiagnostic } from '@cellflow/core';
import {
  endpointInfoOf,
  renderEndpointTester,
  renderStepsList,
  renderTuningResults,
  studyResultsOf,
} from '@cellflow/ui';
import { Widget } from '@lumino/widgets';
import { CommandIDs } from '../command-ids.js';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import type { LiveRun } from '../runs/pipeline-runs.js';

export interface PanelActions {
  readonly execute: (command: string) => void;
  readonly applyBest: () => void;
  /** Cancels a live run (by id). */
  readonly cancelRun: (runId: string) => void;
  /** Opens a run's executed notebook beside the notebook (by run id). */
  readonly showRunOutputs: (runId: string) => void;
  /** Shows (true) or hides the latest run's outputs under the cells of the notebook in focus. */
  readonly setInlineOutputs: (on: boolean) => void;
  /** The tester's first request for an endpoint (by name): shaped like the model's input. */
  readonly exampleRequest: (endpoint: string) => Promise<string>;
  /** Sends a tester request to an endpoint (by name). */
  readonly sendPredict: (
    endpoint: string,
    body: string,
  ) => Promise<{ status: number; text: string; ms: number }>;
}

function section(parent: HTMLElement, name: string, title: string): HTMLElement {
  const wrap = document.createElement('section');
  wrap.className = `cf-section cf-section-${name}`;
  const heading = document.createElement('h3');
  heading.textContent = title;
  const body = document.createElement('div');
  body.className = 'cf-section-body';
  wrap.append(heading, body);
  parent.appendChild(wrap);
  return body;
}

function row(parent: HTMLElement, label: string, value: string, name: string): void {
  const line = document.createElement('div');
  line.className = `cf-row cf-row-${name}`;
  const key = document.createElement('span');
  key.className = 'cf-row-label';
  key.textContent = label;
  const val = document.createElement('span');
  val.className = 'cf-row-value';
  val.textContent = value;
  line.append(key, val);
  parent.appendChild(line);
}

export class CellflowPanel extends Widget {
  private readonly pipeline: HTMLElement;
  private readonly target: HTMLElement;
  private readonly steps: HTMLElement;
  private readonly problems: HTMLElement;
  private readonly runs: HTMLElement;
  private readonly inlineOutputs: HTMLElement;
  private readonly inlineOutputsBox: HTMLInputElement;
  private readonly tuning: HTMLElement;
  private readonly endpoints: HTMLElement;
  private analysis: NotebookAnalysis | null = null;
  private info: AgentInfo | null = null;
  private capacity: Capacity | null = null;
  private agentProblem: string | null = null;
  private liveRuns: readonly LiveRun[] = [];
  private stepStatesOf: ((path: string) => ReadonlyMap<string, string> | undefined) | undefined;

  constructor(private readonly actions: PanelActions) {
    super();
    this.id = 'cellflow-panel';
    this.addClass('cf-panel');
    this.title.caption = 'Cellflow';
    const top = document.createElement('div');
    top.className = 'cf-panel-content';
    this.node.appendChild(top);
    this.pipeline = section(top, 'pipeline', 'Pipeline');
    const buttons = document.createElement('div');
    buttons.className = 'cf-actions';
    for (const [label, command, name] of [
      ['Run', CommandIDs.runLocally, 'run'],
      ['Deploy', CommandIDs.deploy, 'deploy'],
      ['Tune', CommandIDs.tune, 'tune'],
      ['Serve', CommandIDs.serve, 'serve'],
      ['Graph', CommandIDs.showGraph, 'graph'],
    ] as const) {
      const button = document.createElement('button');
      button.className = `cf-action cf-action-${name} jp-Button`;
      button.textContent = label;
      button.addEventListener('click', () => this.actions.execute(command));
      buttons.appendChild(button);
    }
    top.appendChild(buttons);
    this.target = section(top, 'target', 'Target');
    this.steps = section(top, 'steps', 'Steps');
    this.problems = section(top, 'problems', 'Problems');
    const runsSection = section(top, 'runs', 'Runs');
    this.inlineOutputs = document.createElement('label');
    this.inlineOutputs.className = 'cf-inline-outputs';
    this.inlineOutputs.title =
      "Shows each cell's outputs from the notebook's latest run under the cell; they are not written into the notebook";
    this.inlineOutputsBox = document.createElement('input');
    this.inlineOutputsBox.type = 'checkbox';
    this.inlineOutputsBox.addEventListener('change', () =>
      this.actions.setInlineOutputs(this.inlineOutputsBox.checked),
    );
    this.inlineOutputs.append(
      this.inlineOutputsBox,
      " Outputs on cells (the latest run's, not saved)",
    );
    this.runs = document.createElement('div');
    this.runs.className = 'cf-runs-list';
    runsSection.append(this.inlineOutputs, this.runs);
    this.tuning = section(top, 'tuning', 'Tuning');
    this.endpoints = section(top, 'endpoints', 'Endpoints');
    this.setStudy(null);
    this.setEndpoints([]);
    this.render();
  }

  setAnalysis(analysis: NotebookAnalysis | null): void {
    this.analysis?.changed.disconnect(this.render, this);
    this.analysis = analysis;
    analysis?.changed.connect(this.render, this);
    this.render();
  }

  setAgent(info: AgentInfo | null, capacity: Capacity | null, problem: string | null): void {
    this.info = info;
    this.capacity = capacity;
    this.agentProblem = problem;
    this.renderTarget();
  }

  setRuns(runs: readonly LiveRun[]): void {
    this.liveRuns = runs;
    this.renderRuns();
    this.renderSteps();
  }

  /** Whether the notebook in focus shows its latest run's outputs on its cells. */
  setInlineOutputs(on: boolean): void {
    this.inlineOutputsBox.checked = on;
  }

  setStudy(study: StudySummary | null): void {
    if (study === null) {
      this.tuning.replaceChildren(empty('No study yet. Tune runs trials of the pipeline.'));
      return;
    }
    renderTuningResults(this.tuning, studyResultsOf(study), {
      onApplyBest: this.actions.applyBest,
    });
  }

  /** A study is starting: says so in the Tuning section and scrolls the section into view. */
  revealTuning(message: string): void {
    const note = empty(message);
    note.classList.add('cf-tuning-starting');
    this.tuning.replaceChildren(note);
    this.tuning.parentElement?.scrollIntoView({ block: 'start' });
  }

  setEndpoints(endpoints: readonly Endpoint[]): void {
    if (endpoints.length === 0) {
      this.endpoints.replaceChildren(empty('No endpoints. Serve serves the model a run trained.'));
      return;
    }
    const list = document.createElement('div');
    list.className = 'cf-endpoint-list';
    const tester = document.createElement('div');
    tester.className = 'cf-endpoint-tester';
    let shown = '';
    const show = async (endpoint: Endpoint): Promise<void> => {
      shown = endpoint.name;
      const example = await this.actions.exampleRequest(endpoint.name);
      // Another endpoint was picked meanwhile.
      if (shown !== endpoint.name) return;
      const info = endpointInfoOf(endpoint);
      const handle = renderEndpointTester(tester, info, example, (body) => {
        this.actions.sendPredict(endpoint.name, body).then(
          ({ status, text, ms }) => handle.showAnswer(status, text, ms),
          (error: unknown) =>
            handle.showFailure(
              `The request did not reach ${info.predictUrl}: ${error instanceof Error ? error.message : String(error)}`,
            ),
        );
      });
    };
    for (const endpoint of endpoints) {
      const button = document.createElement('button');
      button.className = 'cf-endpoint jp-Button jp-mod-minimal';
      button.dataset.endpoint = endpoint.name;
      button.textContent = `${endpoint.name} (${endpoint.state})`;
      button.addEventListener('click', () => void show(endpoint));
      list.appendChild(button);
    }
    this.endpoints.replaceChildren(list, tester);
    void show(endpoints.find((e) => e.state === 'ready') ?? endpoints[0]!);
  }

  private render(): void {
    this.renderPipeline();
    this.renderTarget();
    this.renderSteps();
    this.renderProblems();
    this.renderRuns();
  }

  private currentRun(): LiveRun | undefined {
    const path = this.analysis?.path;
    return path !== undefined ? this.liveRuns.find((r) => r.notebookPath === path) : undefined;
  }

  private renderPipeline(): void {
    const body = this.pipeline;
    body.replaceChildren();
    const analysis = this.analysis;
    if (analysis === null) {
      body.appendChild(empty('Open a notebook to see it as a pipeline.'));
      return;
    }
    const graph = analysis.result.graph;
    const s = analysis.settings;
    row(body, 'Notebook', analysis.path, 'notebook');
    row(body, 'Name', graph?.pipeline.name ?? s.name ?? '', 'name');
    row(body, 'Description', graph?.pipeline.description || s.description || '—', 'description');
    row(body, 'Experiment', graph?.pipeline.experiment ?? s.experiment ?? '—', 'experiment');
    row(body, 'Default image', s.image ?? DEFAULT_IMAGE, 'image');
  }

  private renderTarget(): void {
    const body = this.target;
    body.replaceChildren();
    if (this.agentProblem !== null) {
      const p = empty(this.agentProblem);
      p.classList.add('cf-error');
      body.appendChild(p);
      return;
    }
    if (this.info === null) {
      body.appendChild(empty('Connecting to the Cellflow agent…'));
      return;
    }
    const info = this.info;
    row(body, 'Target', info.target === 'local' ? 'local (this machine)' : 'cluster', 'target');
    if (info.context !== null) row(body, 'Context', info.context, 'context');
    if (info.namespace !== null) row(body, 'Namespace', info.namespace, 'namespace');
    const cap = this.capacity;
    if (cap !== null) {
      const gpus = cap.pools.reduce((n, p) => n + p.allocatable, 0);
      const free = cap.pools.reduce((n, p) => n + p.free, 0);
      const kinds = [...new Set(cap.pools.map((p) => p.product ?? p.resource))];
      row(
        body,
        'GPUs',
        gpus === 0 ? 'none' : `${gpus} (${free} free) · ${kinds.join(', ')}`,
        'gpus',
      );
      row(body, 'CPUs', String(cap.cpus), 'cpus');
    }
  }

  /**
   * Where the Steps section reads each step's state for a notebook: the states its cells show
   * (a failure mark gone stale there is gone here too). Without it, the latest run's states.
   */
  setStepStates(statesOf: (path: string) => ReadonlyMap<string, string> | undefined): void {
    this.stepStatesOf = statesOf;
    this.renderSteps();
  }

  private renderSteps(): void {
    const path = this.analysis?.path;
    const states =
      (path !== undefined ? this.stepStatesOf?.(path) : undefined) ??
      this.currentRun()?.steps ??
      new Map<string, string>();
    renderStepsList(this.steps, this.analysis?.result.graph, states);
  }

  private renderProblems(): void {
    const diagnostics = this.analysis?.result.diagnostics ?? [];
    if (diagnostics.length === 0) {
      this.problems.replaceChildren(empty('None.'));
      return;
    }
    const list = document.createElement('ul');
    list.className = 'cf-problems';
    for (const d of diagnostics) {
      const item = document.createElement('li');
      item.className = `cf-diagnostic cf-diagnostic-${d.severity}`;
      item.textContent = describeDiagnostic(d);
      list.appendChild(item);
    }
    this.problems.replaceChildren(list);
  }

  private renderRuns(): void {
    this.inlineOutputs.hidden = this.analysis === null;
    if (this.liveRuns.length === 0) {
      this.runs.replaceChildren(empty('No runs yet. Run starts one on the target.'));
      return;
    }
    const list = document.createElement('ul');
    list.className = 'cf-runs';
    for (const run of this.liveRuns.slice(0, 10)) {
      const item = document.createElement('li');
      item.className = 'cf-run';
      item.dataset.run = run.id;
      item.dataset.state = run.state;
      const head = document.createElement('div');
      head.className = 'cf-run-head';
      head.textContent = `${run.pipeline} · ${run.id} `;
      const badge = document.createElement('span');
      badge.className = `cf-badge cf-state-${run.state}`;
      badge.textContent = run.state;
      head.appendChild(badge);
      if (run.state === 'queued' || run.state === 'running') {
        const cancel = document.createElement('button');
        cancel.className = 'cf-run-cancel jp-Button';
        cancel.textContent = 'Cancel';
        cancel.title = 'Stop this run: running steps are stopped, queued ones do not start';
        cancel.addEventListener('click', () => {
          cancel.disabled = true;
          cancel.textContent = 'Cancelling…';
          this.actions.cancelRun(run.id);
        });
        head.appendChild(cancel);
      }
      // A cluster run's outputs are read once it is over (its steps' artifacts and logs).
      const ended = run.state !== 'queued' && run.state !== 'running';
      if (run.uiUrl === undefined ? run.state !== 'queued' : ended) {
        const show = document.createElement('button');
        show.className = 'cf-run-show-outputs jp-Button';
        show.textContent = 'Show outputs';
        show.title =
          "Opens the run's notebook beside this one, every cell with what it showed (read-only)";
        show.addEventListener('click', () => this.actions.showRunOutputs(run.id));
        head.appendChild(show);
      }
      if (run.uiUrl !== undefined) {
        const link = document.createElement('a');
        link.className = 'cf-run-ui-link';
        link.href = run.uiUrl;
        link.target = '_blank';
        link.rel = 'noopener';
        link.textContent = 'Open in KFP UI';
        link.title = "The run's page in the Kubeflow Pipelines UI";
        head.appendChild(link);
      }
      const steps = document.createElement('div');
      steps.className = 'cf-run-steps';
      for (const [name, state] of run.steps) {
        const s = document.createElement('span');
        s.className = `cf-run-step cf-state-${state}`;
        s.dataset.step = name;
        s.dataset.state = state;
        s.textContent = `${name}: ${state}`;
        steps.appendChild(s);
      }
      item.append(head, steps);
      if (run.message !== undefined) {
        const m = document.createElement('div');
        m.className = 'cf-run-message';
        m.textContent = run.message;
        item.appendChild(m);
      }
      const metrics = Object.entries(run.metrics);
      if (metrics.length > 0) {
        const m = document.createElement('div');
        m.className = 'cf-run-metrics';
        m.textContent = metrics.map(([k, v]) => `${k} = ${v}`).join(', ');
        item.appendChild(m);
      }
      for (const [step, outputs] of run.outputs) {
        for (const [variable, o] of Object.entries(outputs)) {
          const m = document.createElement('div');
          m.className = 'cf-run-output';
          m.dataset.step = step;
          m.dataset.variable = variable;
          m.textContent = `${step}.${variable} (${o.type}): ${o.uri}`;
          item.appendChild(m);
        }
      }
      list.appendChild(item);
    }
    this.runs.replaceChildren(list);
  }

  override dispose(): void {
    this.analysis?.changed.disconnect(this.render, this);
    super.dispose();
  }
}

function empty(text: string): HTMLElement {
  const p = document.createElement('p');
  p.className = 'cf-empty';
  p.textContent = text;
  return p;
}
