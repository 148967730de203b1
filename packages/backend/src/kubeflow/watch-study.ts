/**
 * Live status of a cluster study, pushed: one list-watch on the Katib Experiment (fieldSelector
 * `metadata.name`) and one on its Trials (label `katib.kubeflow.org/experiment`), both resumed
 * from their last resourceVersion when the connection drops and relisted on 410 Gone
 * (./kube-watch.ts). They become the events `watchStudy` promises: the study, then every trial
 * whose summary changed, a new best, and the study again when it ends or its Experiment is deleted.
 */
import { BackendError, type StudyEvent, type StudySummary, type TrialSummary } from '../backend.js';
import { HttpError, type KubeConnection } from './kube-connection.js';
import {
  EventQueue,
  watchCollection,
  type CustomResource,
  type WatchChange,
  type WatchRestart,
} from './kube-watch.js';
import {
  EXPERIMENTS,
  listTrials,
  studySummaryOf,
  trialSelector,
  TRIALS,
  type ExperimentObject,
  type TrialObject,
} from './katib-studies.js';

export interface StudyWatchSettings {
  /** Seconds after which the API server ends one watch request (it is then resumed). */
  readonly timeoutSeconds: number;
  readonly onRestart?: (how: WatchRestart) => void;
  /** Turns an API error into the error the user sees. */
  readonly fail: (error: unknown, doing: string) => BackendError;
}

type Update =
  | { readonly of: 'experiment' | 'trials'; readonly listed: true }
  | { readonly of: 'experiment'; readonly change: WatchChange; readonly object: ExperimentObject }
  | { readonly of: 'trials'; readonly change: WatchChange; readonly object: TrialObject };

/** Turns successive study summaries into events: each trial whose summary changed, a new best. */
class StudyDiffer {
  private readonly order = new Map<string, number>();
  private readonly seen = new Map<string, string>();
  private bestId: string | undefined;

  constructor(private readonly studyId: string) {}

  /**
   * Indices stay as first seen: Katib's creation times are whole seconds, so a later read may
   * order trials created in the same second differently.
   */
  stable(summary: StudySummary): StudySummary {
    for (const t of summary.trials)
      if (!this.order.has(t.id)) this.order.set(t.id, this.order.size);
    const fix = (t: TrialSummary): TrialSummary => ({
      ...t,
      index: this.order.get(t.id) ?? t.index,
    });
    return {
      ...summary,
      trials: summary.trials.map(fix).sort((a, b) => a.index - b.index),
      best: summary.best !== null ? fix(summary.best) : null,
    };
  }

  /** What changed since the last summary (the first one only sets the baseline). */
  changes(summary: StudySummary): StudyEvent[] {
    const events: StudyEvent[] = [];
    for (const t of summary.trials) {
      const text = JSON.stringify(t);
      if (this.seen.get(t.id) === text) continue;
      this.seen.set(t.id, text);
      events.push({ type: 'trial', studyId: this.studyId, trial: t });
    }
    if (summary.best !== null && summary.best.id !== this.bestId) {
      this.bestId = summary.best.id;
      events.push({ type: 'best', studyId: this.studyId, trial: summary.best });
    }
    return events;
  }
}

export async function* watchClusterStudy(
  kube: KubeConnection,
  namespace: string,
  name: string,
  settings: StudyWatchSettings,
): AsyncGenerator<StudyEvent> {
  const notFound = (): BackendError =>
    new BackendError('study-not-found', `No Katib Experiment ${name} in namespace ${namespace}.`);
  const queue = new EventQueue<Update>();
  const controller = new AbortController();
  let failure: { readonly error: unknown; readonly doing: string } | undefined;
  const follow = <T extends ExperimentObject | TrialObject>(
    of: Update['of'],
    resource: CustomResource,
    selector: { labelSelector: string } | { fieldSelector: string },
    doing: string,
  ): Promise<void> =>
    watchCollection<T>(
      kube,
      {
        resource,
        namespace,
        ...selector,
        timeoutSeconds: settings.timeoutSeconds,
        onListed: () => queue.push({ of, listed: true }),
        onChange: (change, object) => queue.push({ of, change, object } as Update),
        ...(settings.onRestart !== undefined ? { onRestart: settings.onRestart } : {}),
      },
      controller.signal,
    )
      .catch((error: unknown) => {
        failure ??= { error, doing };
        controller.abort();
      })
      .finally(() => queue.notify());
  const watching = Promise.all([
    follow<ExperimentObject>(
      'experiment',
      EXPERIMENTS,
      { fieldSelector: `metadata.name=${name}` },
      `watch the Katib Experiment ${name}`,
    ),
    follow<TrialObject>(
      'trials',
      TRIALS,
      { labelSelector: trialSelector(name) },
      `watch the trials of ${name}`,
    ),
  ]);
  const failed = (f: { readonly error: unknown; readonly doing: string }): BackendError =>
    f.error instanceof HttpError && f.error.status === 404 && f.doing.includes('Experiment')
      ? notFound()
      : settings.fail(f.error, f.doing);

  // undefined: not listed yet; null: there is none (any more).
  let experiment: ExperimentObject | null | undefined;
  let seenExperiment: ExperimentObject | undefined;
  const trials = new Map<string, TrialObject>();
  let trialsListed = false;
  const apply = (u: Update): void => {
    if ('listed' in u) {
      if (u.of === 'trials') trialsListed = true;
      else experiment = seenExperiment ?? null;
    } else if (u.of === 'experiment') {
      const now = u.change === 'DELETED' ? undefined : u.object;
      seenExperiment = now;
      if (experiment !== undefined) experiment = now ?? null;
    } else if (u.change === 'DELETED') trials.delete(u.object.metadata.name);
    else trials.set(u.object.metadata.name, u.object);
  };
  try {
    while (experiment === undefined || !trialsListed) {
      for (const u of queue.take()) apply(u);
      if (experiment === null) break;
      if (failure !== undefined) throw failed(failure);
      if (experiment === undefined || !trialsListed) await queue.next();
    }
    if (experiment === null || experiment === undefined) throw notFound();
    const differ = new StudyDiffer(name);
    let last = differ.stable(studySummaryOf(experiment, [...trials.values()]));
    differ.changes(last);
    yield { type: 'study', study: last };
    if (last.state !== 'running') return;
    for (;;) {
      for (const u of queue.take()) {
        apply(u);
        if (experiment === null) {
          yield {
            type: 'study',
            study: {
              ...last,
              state: 'cancelled',
              finishedAt: new Date().toISOString(),
              reason: 'The Katib Experiment was deleted.',
            },
          };
          return;
        }
        const now = differ.stable(studySummaryOf(experiment, [...trials.values()]));
        yield* differ.changes(now);
        last = now;
        if (now.state !== 'running') {
          // Trials change on their own watch: read them once more, so the last study is at least
          // as new as the Experiment that ended it.
          let fresh: TrialObject[];
          try {
            fresh = await listTrials(kube, namespace, name);
          } catch (error) {
            throw settings.fail(error, `list the trials of ${name}`);
          }
          const final = differ.stable(studySummaryOf(experiment, fresh));
          yield* differ.changes(final);
          yield { type: 'study', study: final };
          return;
        }
      }
      if (failure !== undefined) throw failed(failure);
      await queue.next();
    }
  } finally {
    // The consumer stopped or the study ended: no request or timer is left behind.
    controller.abort();
    await watching;
  }
}
