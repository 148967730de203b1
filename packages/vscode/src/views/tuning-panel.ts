/** The tuning results webview: trials table and charts from `@cellflow/ui`, live while running. */
import type * as vscode from 'vscode';
import type { StudySummary } from '@cellflow/backend';
import type { HostToTuningMessage, StudyResults, TuningToHostMessage } from '@cellflow/ui';
import type { StudyTracker } from '../tuning/study-tracker.js';
import { ViewPanel } from './view-panel.js';

export function studyResultsOf(summary: StudySummary): StudyResults {
  return {
    id: summary.id,
    pipeline: summary.pipeline,
    state: summary.state,
    objective: summary.spec.objective,
    goal: summary.spec.goal,
    parameters: summary.spec.parameters.map((p) => p.name),
    maxTrials: summary.spec.maxTrials,
    bestTrialId: summary.best?.id ?? null,
    ...(summary.reason !== undefined ? { reason: summary.reason } : {}),
    trials: summary.trials.map((t) => ({
      id: t.id,
      index: t.index,
      state: t.state,
      parameters: t.parameters,
      metrics: t.metrics,
      objective: t.objective,
    })),
  };
}

export class TuningPanels implements vscode.Disposable {
  private panel: ViewPanel<HostToTuningMessage, TuningToHostMessage> | undefined;
  /** What the panel shows (for tests). */
  results: StudyResults | undefined;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly extensionUri: vscode.Uri,
    studies: StudyTracker,
    private readonly onApplyBest: (studyId: string) => void,
  ) {
    this.subscription = studies.onDidChange((s) => {
      if (s.summary.id !== this.results?.id) return;
      this.results = studyResultsOf(s.summary);
      this.panel?.post({ type: 'study', study: this.results });
    });
  }

  show(summary: StudySummary): StudyResults {
    this.results = studyResultsOf(summary);
    const title = `Tuning ${summary.pipeline}`;
    if (this.panel === undefined) {
      this.panel = new ViewPanel(this.extensionUri, 'cellflow.tuningResults', title, {
        onReady: () => {
          if (this.results !== undefined) this.panel?.post({ type: 'study', study: this.results });
        },
        onMessage: () => {
          if (this.results !== undefined) this.onApplyBest(this.results.id);
        },
        onClose: () => (this.panel = undefined),
      });
    } else {
      this.panel.title = title;
      this.panel.reveal();
      this.panel.post({ type: 'study', study: this.results });
    }
    return this.results;
  }

  get viewReady(): boolean {
    return this.panel?.ready === true;
  }

  dispose(): void {
    this.subscription.dispose();
    this.panel?.dispose();
  }
}
