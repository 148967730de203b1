/** Words and icons for run and step states, shared by the cell status bar and the Runs view. */
import type { RunState, StepState } from '@cellflow/backend';

const ICONS: Readonly<Record<StepState | RunState, string>> = {
  queued: '$(clock)',
  running: '$(sync~spin)',
  succeeded: '$(pass)',
  failed: '$(error)',
  cached: '$(history)',
  cancelled: '$(circle-slash)',
};

/** A run or step state with its timing, as runs and steps carry it. */
export interface TimedState {
  readonly state: StepState | RunState;
  readonly durationMs: number | null;
  readonly startedAt: string | null;
}

export function stateIcon(state: StepState | RunState): string {
  return ICONS[state];
}

/** The codicon id alone (`pass`, `sync~spin`), for tree items' `ThemeIcon`. */
export function stateCodicon(state: StepState | RunState): string {
  return ICONS[state].slice(2, -1);
}

/** `running 3.2s` without the icon (tree descriptions do not render icons). */
export function formatStateText(item: TimedState, now: number): string {
  return formatState(item, now).replace(/^\$\([^)]*\) /, '');
}

/** `850ms`, `2.3s`, `1m 05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/** The elapsed time of a step or run: final when known, else counted from `startedAt` to `now`. */
export function elapsedMs(item: Omit<TimedState, 'state'>, now: number): number | null {
  if (item.durationMs !== null) return item.durationMs;
  if (item.startedAt === null) return null;
  return Math.max(0, now - Date.parse(item.startedAt));
}

/** `$(sync~spin) running 3.2s` */
export function formatState(item: TimedState, now: number): string {
  const ms = item.state === 'queued' || item.state === 'cached' ? null : elapsedMs(item, now);
  return `${stateIcon(item.state)} ${item.state}${ms !== null ? ` ${formatDuration(ms)}` : ''}`;
}
