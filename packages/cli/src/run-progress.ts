/**
 * Live progress of a run on the terminal: a line per step state change and, when standard output
 * is a terminal, a progress bar kept at the bottom.
 */
import type { RunEvent, StepState } from '@cellflow/backend';
import type { CliContext } from './cli-context.js';
import { formatDuration, formatFailureHeadline } from './run-format.js';

const SYMBOLS: Record<StepState, string> = {
  queued: '·',
  running: '▶',
  succeeded: '✓',
  failed: '✗',
  cached: '↺',
  cancelled: '○',
};

const COLORS: Partial<Record<StepState, string>> = {
  succeeded: '\x1b[32m',
  failed: '\x1b[31m',
  cached: '\x1b[2m',
  cancelled: '\x1b[33m',
};

const BAR_WIDTH = 24;

export class RunProgress {
  private readonly states = new Map<string, StepState>();
  private readonly width: number;
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private barShown = false;

  constructor(
    private readonly ctx: CliContext,
    steps: readonly string[],
  ) {
    for (const s of steps) this.states.set(s, 'queued');
    this.width = Math.max(...steps.map((s) => s.length), 4);
    if (this.live) this.timer = setInterval(() => this.drawBar(), 250);
  }

  private get live(): boolean {
    return this.ctx.isTTY === true && this.ctx.write !== undefined;
  }

  private line(text: string): void {
    this.clearBar();
    this.ctx.out(text);
    this.drawBar();
  }

  private paint(state: StepState, text: string): string {
    const color = this.live ? COLORS[state] : undefined;
    return color !== undefined ? `${color}${text}\x1b[0m` : text;
  }

  onEvent(event: RunEvent): void {
    if (event.type !== 'step') return;
    this.states.set(event.step, event.state);
    if (event.state === 'queued') return;
    const elapsed = `[${formatDuration(Date.now() - this.started).padStart(6)}]`;
    const name = event.step.padEnd(this.width);
    let detail: string;
    switch (event.state) {
      case 'running':
        detail =
          `running${event.attempt > 1 ? ` (attempt ${event.attempt} of ${event.maxAttempts})` : ''}` +
          `${event.gpus !== undefined ? ` on GPU ${event.gpus.join(',')}` : ''}`;
        break;
      case 'succeeded':
        detail = `succeeded in ${formatDuration(event.durationMs)}`;
        break;
      case 'cached':
        detail = `cached (outputs of run ${event.cachedFrom ?? '?'})`;
        break;
      case 'failed':
        detail = `failed${event.retrying === true ? ', retrying' : ''}: ${event.failure !== undefined ? formatFailureHeadline(event.failure) : 'unknown reason'}`;
        break;
      default:
        detail = `cancelled${event.reason !== undefined ? `: ${event.reason}` : ''}`;
    }
    this.line(`${elapsed} ${this.paint(event.state, SYMBOLS[event.state])} ${name}  ${detail}`);
  }

  private clearBar(): void {
    if (this.barShown) this.ctx.write?.('\r\x1b[2K');
    this.barShown = false;
  }

  private drawBar(): void {
    if (!this.live || this.timer === undefined) return;
    const all = [...this.states.values()];
    const done = all.filter((s) => s !== 'queued' && s !== 'running').length;
    const running = [...this.states].filter(([, s]) => s === 'running').map(([n]) => n);
    const filled = Math.round((done / Math.max(all.length, 1)) * BAR_WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
    const now = running.length > 0 ? ` · running ${running.join(', ')}` : '';
    this.clearBar();
    this.ctx.write?.(
      `${bar} ${done}/${all.length} steps · ${formatDuration(Date.now() - this.started)}${now}`,
    );
    this.barShown = true;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.clearBar();
  }
}
