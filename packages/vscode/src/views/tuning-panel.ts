/** The tuning results webview: trials table and charts from `@cellflow/ui`, live while running. */
import type * as vscode from 'vscode';
import type { StudySummary } from '@cellflow/backend';
import { studyResultsOf } from '@cellflow/ui/study-results';
import type { HostToTuningMessage, StudyResults, TuningToHostMessage } from '@cellflow/ui';
import type { StudyTracker } from '../tuning/study-tracker.js';
import { ViewPanel } from './view-panel.js';

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
