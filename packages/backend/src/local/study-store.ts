/**
 * Study history beside run history: `<workspace>/.cellflow/studies/<id>/study.json` (the summary,
 * rewritten atomically on every change) and `events.jsonl` (every study event, in order). Each
 * trial's run is an ordinary run under `.cellflow/runs/`.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StudyEvent, StudySummary } from '../backend.js';
import { processStartTicks } from '../process-alive.js';
import { isResourceId } from '../resource-id.js';
import {
  ensurePrivateHistoryRoot,
  HISTORY_FILE_MODE,
  readJsonLines,
  timestamp,
  writeFileAtomic,
} from './run-store.js';

export interface StudyRecord {
  readonly version: 1;
  /** The process running the study (a study whose process is gone was interrupted). */
  readonly runnerPid: number;
  /** When that process started (see process-alive.ts): a reused pid is not the runner. */
  readonly runnerStartTicks?: string | null;
  readonly summary: StudySummary;
}

export class StudyStore {
  readonly studiesDir: string;
  private queue: Promise<void> = Promise.resolve();

  constructor(workspace: string) {
    this.studiesDir = join(workspace, '.cellflow', 'studies');
  }

  async createStudy(pipeline: string, now = new Date()): Promise<string> {
    await ensurePrivateHistoryRoot(dirname(this.studiesDir));
    await mkdir(this.studiesDir, { recursive: true });
    for (;;) {
      const id = `${timestamp(now)}-${pipeline}-study-${randomBytes(2).toString('hex')}`;
      try {
        await mkdir(join(this.studiesDir, id));
        return id;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  }

  /** Writes the summary and appends the event (in call order). */
  save(summary: StudySummary, event: StudyEvent | null): Promise<void> {
    const record: StudyRecord = {
      version: 1,
      runnerPid: process.pid,
      runnerStartTicks: processStartTicks(process.pid),
      summary,
    };
    const dir = join(this.studiesDir, summary.id);
    const next = this.queue.then(async () => {
      if (event !== null)
        await appendFile(join(dir, 'events.jsonl'), `${JSON.stringify(event)}\n`, {
          mode: HISTORY_FILE_MODE,
        });
      await writeFileAtomic(join(dir, 'study.json'), `${JSON.stringify(record, null, 2)}\n`);
    });
    this.queue = next.catch(() => {});
    return next;
  }

  async read(id: string): Promise<StudyRecord | null> {
    if (!isResourceId(id)) return null;
    try {
      return JSON.parse(
        await readFile(join(this.studiesDir, id, 'study.json'), 'utf8'),
      ) as StudyRecord;
    } catch {
      return null;
    }
  }

  readEvents(id: string): Promise<StudyEvent[]> {
    if (!isResourceId(id)) return Promise.resolve([]);
    return readJsonLines<StudyEvent>(join(this.studiesDir, id, 'events.jsonl'));
  }

  async listIds(): Promise<string[]> {
    try {
      return (await readdir(this.studiesDir)).sort().reverse();
    } catch {
      return [];
    }
  }
}
