/**
 * One backend stream (a run's events, a step's log, a study's events) read once by the agent and
 * kept in order, so every SSE client reads the same items by index and a reconnect with
 * `Last-Event-ID: N` continues at N + 1 without losing or repeating anything, whatever the backend
 * would replay on a second call.
 */

export class StreamJournal<T> {
  readonly items: T[] = [];
  /** Set once the backend stream has ended: `null` when it ended normally. */
  outcome: { readonly error: unknown } | null | undefined = undefined;
  private readonly waiters = new Set<() => void>();
  private readers = 0;
  private lastUsed = Date.now();

  constructor(source: AsyncIterable<T>) {
    void this.pump(source);
  }

  private async pump(source: AsyncIterable<T>): Promise<void> {
    try {
      for await (const item of source) {
        this.items.push(item);
        this.wake();
      }
      this.outcome = null;
    } catch (error) {
      this.outcome = { error };
    }
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when an item after `index` exists or the stream is over, or after `timeoutMs`. */
  waitBeyond(index: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.items.length > index + 1 || this.outcome !== undefined || signal?.aborted === true)
      return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
      signal?.addEventListener('abort', done);
    });
  }

  /** Marks a reader present (for eviction); returns its release. */
  attach(): () => void {
    this.readers += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.readers -= 1;
      this.lastUsed = Date.now();
    };
  }

  /** Over, nobody reading, and idle for `idleMs`: safe to forget. A failed stream is dropped at once. */
  isEvictable(idleMs: number, now = Date.now()): boolean {
    if (this.outcome === undefined || this.readers > 0) return false;
    return this.outcome !== null || now - this.lastUsed >= idleMs;
  }
}

/** Journals by stream key (`run:<id>`, `log:<id>/<step>`, `study:<id>`), evicted when idle. */
export class StreamJournals {
  private readonly journals = new Map<string, StreamJournal<unknown>>();

  constructor(private readonly idleMs = 5 * 60_000) {}

  get<T>(key: string, open: () => AsyncIterable<T>): StreamJournal<T> {
    this.evict();
    let journal = this.journals.get(key) as StreamJournal<T> | undefined;
    if (journal === undefined) {
      journal = new StreamJournal(open());
      this.journals.set(key, journal);
    }
    return journal;
  }

  private evict(): void {
    const now = Date.now();
    for (const [key, journal] of this.journals)
      if (journal.isEvictable(this.idleMs, now)) this.journals.delete(key);
  }
}
