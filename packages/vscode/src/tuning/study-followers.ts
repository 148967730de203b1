/** Studies started from this window: which backend runs each, and when each ends (tests wait on it). */
import type { Backend, StudySummary } from '@cellflow/backend';

export class StudyFollowers {
  private readonly finished = new Map<string, Promise<StudySummary | undefined>>();
  private readonly backends = new Map<string, Backend>();

  track(id: string, finished: Promise<StudySummary | undefined>, backend: Backend): void {
    this.finished.set(id, finished);
    this.backends.set(id, backend);
  }

  whenFinished(id: string): Promise<StudySummary | undefined> | undefined {
    return this.finished.get(id);
  }

  backendFor(id: string): Backend | undefined {
    return this.backends.get(id);
  }
}
