/**
 * Follows the studies started from this window: each study's events go into the tracker (which
 * keeps the backend the study went to, as a tracked run does); `whenFinished` resolves with the
 * final summary (the progress indicator and tests wait on it).
 */
import type { Backend, StudyRef, StudySummary } from '@cellflow/protocol';
import type { StudyTracker } from './study-tracker.js';

export interface StudyFollowHooks {
  /** A trial ran every step successfully. */
  readonly onTrialSucceeded?: () => void;
  /** The stream broke before the study ended. */
  readonly onLost?: (error: unknown) => void;
}

export class StudyFollowers {
  private readonly finished = new Map<string, Promise<StudySummary | undefined>>();

  constructor(private readonly studies: StudyTracker) {}

  /** Follows `ref` on `backend` until it ends; resolves with its last summary. */
  follow(
    backend: Backend,
    ref: StudyRef,
    notebook: string,
    hooks: StudyFollowHooks = {},
  ): Promise<StudySummary | undefined> {
    const finished = this.read(backend, ref, notebook, hooks);
    this.finished.set(ref.id, finished);
    return finished;
  }

  whenFinished(id: string): Promise<StudySummary | undefined> | undefined {
    return this.finished.get(id);
  }

  private async read(
    backend: Backend,
    ref: StudyRef,
    notebook: string,
    hooks: StudyFollowHooks,
  ): Promise<StudySummary | undefined> {
    try {
      for await (const event of backend.watchStudy(ref)) {
        if (event.type === 'study' && this.studies.get(ref.id) === undefined)
          this.studies.start(event.study, notebook, backend);
        else this.studies.apply(event);
        if (event.type === 'trial' && event.trial.state === 'succeeded') hooks.onTrialSucceeded?.();
      }
    } catch (error) {
      hooks.onLost?.(error);
    }
    return this.studies.get(ref.id)?.summary;
  }
}
