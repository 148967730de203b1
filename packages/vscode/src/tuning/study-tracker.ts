/**
 * Live state of the studies started from this window, rebuilt from `watchStudy` events (a `study`
 * snapshot, then `trial` and `best` changes). Pure (no `vscode`): the Tuning view, the results
 * webview and the tests read it.
 */
import {
  applyStudyEvent,
  type Backend,
  type StudyEvent,
  type StudySummary,
} from '@cellflow/protocol';

export interface TrackedStudy {
  summary: StudySummary;
  /** The notebook's URI as a string. */
  readonly notebook: string;
  /** The backend the study went to (it watches and cancels the study). */
  readonly backend: Backend;
}

type Listener = (study: TrackedStudy) => void;

export class StudyTracker {
  private readonly tracked = new Map<string, TrackedStudy>();
  private readonly listeners = new Set<Listener>();

  start(summary: StudySummary, notebook: string, backend: Backend): TrackedStudy {
    const study: TrackedStudy = { summary, notebook, backend };
    this.tracked.set(summary.id, study);
    this.emit(study);
    return study;
  }

  apply(event: StudyEvent): void {
    const id = event.type === 'study' ? event.study.id : event.studyId;
    const study = this.tracked.get(id);
    if (study === undefined) return;
    study.summary = applyStudyEvent(study.summary, event) ?? study.summary;
    this.emit(study);
  }

  get(id: string): TrackedStudy | undefined {
    return this.tracked.get(id);
  }

  /** Newest first. */
  studies(): TrackedStudy[] {
    return [...this.tracked.values()].reverse();
  }

  onDidChange(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private emit(study: TrackedStudy): void {
    for (const l of this.listeners) l(study);
  }
}
