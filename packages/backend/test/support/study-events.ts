/** Cluster study tests: the digits study, and a watcher that notes when each event arrived. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { StudyEvent, TrialState } from '@cellflow/backend';
import { compile, readStudySpec, type CompiledPipeline, type StudySpec } from '@cellflow/core';
import { repoRoot } from './notebooks.js';

export function digitsStudy(): { pipeline: CompiledPipeline; study: StudySpec } {
  const pipeline = compile(readFileSync(join(repoRoot, 'examples/digits.ipynb')), {
    fileName: 'digits.ipynb',
  }).pipeline!;
  const study: StudySpec = {
    ...readStudySpec(pipeline.notebook.metadata, pipeline.graph).study!,
    maxTrials: 4,
    parallelTrials: 2,
  };
  return { pipeline, study };
}

export interface ArrivedEvent {
  readonly event: StudyEvent;
  /** `performance.now()` when the watcher got it. */
  readonly at: number;
}

export interface StudyRecording {
  readonly events: ArrivedEvent[];
  /** Settles when the watch ends (rejects with its error). */
  readonly done: Promise<void>;
  /** The first event (from `from` on) that `match` accepts; fails after `timeoutMs`. */
  waitFor(
    what: string,
    match: (event: StudyEvent) => boolean,
    from?: number,
    timeoutMs?: number,
  ): Promise<ArrivedEvent>;
  /** States of one trial in its `trial` events, in order. */
  trialStates(id: string): TrialState[];
}

export function recordStudy(events: AsyncIterable<StudyEvent>): StudyRecording {
  const seen: ArrivedEvent[] = [];
  const iterator = events[Symbol.asyncIterator]();
  const done = (async () => {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      seen.push({ event: next.value, at: performance.now() });
    }
  })();
  // Reported by whoever awaits `done`; never an unhandled rejection meanwhile.
  done.catch(() => undefined);
  return {
    events: seen,
    done,
    async waitFor(what, match, from = 0, timeoutMs = 10_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const found = seen.find((e) => e.at >= from && match(e.event));
        if (found !== undefined) return found;
        if (performance.now() > deadline)
          throw new Error(
            `no ${what} within ${timeoutMs} ms; events: ${seen.map((e) => describe(e.event)).join(', ')}`,
          );
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    trialStates: (id) =>
      seen.flatMap(({ event: e }) =>
        e.type === 'trial' && e.trial.id === id ? [e.trial.state] : [],
      ),
  };
}

export function describe(e: StudyEvent): string {
  return e.type === 'study' ? `study:${e.study.state}` : `${e.type}:${e.trial.id}:${e.trial.state}`;
}
