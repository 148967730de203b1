/**
 * A run's record and event stream: every state change updates the record, becomes a `RunEvent`
 * for watchers, and is written to history (events.jsonl + run.json) in order.
 */
import type { RunEvent, RunState, StepStateEvent } from '../run-events.js';
import type { RunRecord, RunStore, StepRecord } from './run-store.js';

export type StepEnd = 'succeeded' | 'failed' | 'cached' | 'cancelled';

const now = (): string => new Date().toISOString();

export class RunJournal {
  readonly events: RunEvent[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly record: RunRecord,
    private readonly store: RunStore,
  ) {}

  /** Calls `listener` after every new event; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(event: RunEvent): void {
    this.events.push(event);
    for (const l of this.listeners) l();
  }

  /** A history write that fails (disk full, folder removed) must not take the run down. */
  private persist(event: RunEvent): Promise<unknown> {
    return Promise.all([this.store.appendEvent(event), this.store.saveRun(this.record)]).catch(
      () => undefined,
    );
  }

  private push(event: RunEvent): void {
    void this.persist(event);
    this.publish(event);
  }

  private runEvent(): RunEvent {
    const r = this.record;
    return {
      type: 'run',
      runId: r.id,
      seq: this.events.length,
      time: now(),
      state: r.state,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      durationMs: r.durationMs,
      metrics: { ...r.metrics },
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
    };
  }

  /** The run starts: it and every step (queued) are announced. */
  started(): void {
    this.record.state = 'running';
    this.record.startedAt = now();
    this.push(this.runEvent());
    for (const s of this.record.steps) this.step(s);
  }

  /** Announces the step's current state (`extra` adds event-only fields such as `gpus`). */
  step(s: StepRecord, extra: Partial<StepStateEvent> = {}): void {
    this.push({
      type: 'step',
      runId: this.record.id,
      seq: this.events.length,
      time: now(),
      step: s.name,
      state: s.state,
      attempt: s.state === 'queued' ? 0 : s.attempts,
      maxAttempts: s.maxAttempts,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      durationMs: s.durationMs,
      ...(s.failure !== undefined && s.state === 'failed' ? { failure: s.failure } : {}),
      ...(s.cachedFrom !== undefined && s.state === 'cached' ? { cachedFrom: s.cachedFrom } : {}),
      ...(s.reason !== undefined && s.state === 'cancelled' ? { reason: s.reason } : {}),
      ...(s.metrics !== undefined && (s.state === 'succeeded' || s.state === 'cached')
        ? { metrics: s.metrics }
        : {}),
      ...extra,
    });
  }

  /** The step is done for good: timings set, its metrics added to the run's. */
  end(s: StepRecord, state: StepEnd): void {
    s.state = state;
    s.finishedAt = now();
    s.startedAt ??= s.finishedAt;
    s.durationMs = Date.parse(s.finishedAt) - Date.parse(s.startedAt);
    if (s.metrics !== undefined && (state === 'succeeded' || state === 'cached')) {
      Object.assign(this.record.metrics, s.metrics);
    }
    this.step(s);
  }

  /**
   * The run is done. Its last event reaches watchers only once history holds it: a finished
   * `watch()` means run.json and `cellflow runs` already say how the run ended.
   */
  async finished(state: RunState, reason: string | undefined): Promise<void> {
    const r = this.record;
    r.state = state;
    if (reason !== undefined) r.reason = reason;
    r.finishedAt = now();
    r.durationMs = Date.parse(r.finishedAt) - Date.parse(r.startedAt ?? r.createdAt);
    const last = this.runEvent();
    await this.persist(last);
    await this.store.flush(r.id).catch(() => undefined);
    this.publish(last);
  }
}
