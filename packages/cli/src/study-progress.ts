/**
 * Live progress of a study on the terminal, as a table: a header, then a row each time a trial
 * ends (its values, objective, duration; ★ on a new best). When standard output is a terminal,
 * the trials still running and a progress line with the best so far stay redrawn below the rows;
 * otherwise a row is also printed when a trial starts, so logs show what ran when.
 */
import { formatMetricValue, type StudySpec } from '@cellflow/core';
import type { TrialState, TrialSummary } from '@cellflow/backend';
import type { CliContext } from './cli-context.js';
import { formatDuration } from './run-format.js';

const COLORS: Partial<Record<TrialState, string>> = {
  succeeded: '\x1b[32m',
  failed: '\x1b[31m',
  'early-stopped': '\x1b[33m',
  cancelled: '\x1b[33m',
};

const BAR_WIDTH = 20;
const STATE_WIDTH = 'early-stopped'.length;

interface Column {
  readonly title: string;
  readonly width: number;
  readonly cell: (t: TrialSummary) => string;
}

export function formatTrialValue(value: string | number | boolean): string {
  return typeof value === 'number' ? formatMetricValue(value) : String(value);
}

export class StudyProgress {
  private readonly columns: Column[];
  private readonly trials = new Map<string, TrialSummary>();
  private readonly printed = new Map<string, TrialState>();
  private readonly started = Date.now();
  private best: TrialSummary | null = null;
  private timer: NodeJS.Timeout | undefined;
  private footerLines = 0;

  constructor(
    private readonly ctx: CliContext,
    private readonly spec: StudySpec,
  ) {
    const valueWidth = (title: string): number => Math.max(title.length, 8);
    this.columns = [
      { title: 'trial', width: 5, cell: (t) => `#${t.index}` },
      { title: 'state', width: STATE_WIDTH, cell: (t) => t.state },
      ...spec.parameters.map((p) => ({
        title: p.name,
        width: valueWidth(p.name),
        cell: (t: TrialSummary) => {
          const v = t.parameters[p.name];
          return v === undefined ? '' : formatTrialValue(v);
        },
      })),
      {
        title: spec.objective,
        width: valueWidth(spec.objective),
        cell: (t) => (t.objective !== null ? formatMetricValue(t.objective) : ''),
      },
      {
        title: 'time',
        width: 7,
        // A running trial's time only counts up in the redrawn rows; a log would show `0ms`.
        cell: (t) => (t.state === 'running' && !this.live ? '' : this.duration(t)),
      },
    ];
    this.ctx.out(`  ${this.columns.map((c) => c.title.padEnd(c.width)).join('  ')}`.trimEnd());
    // Unref'd: the redraw never keeps the process alive on its own.
    if (this.live) this.timer = setInterval(() => this.drawFooter(), 500).unref();
  }

  private get live(): boolean {
    return this.ctx.isTTY === true && this.ctx.write !== undefined;
  }

  private duration(t: TrialSummary): string {
    if (t.startedAt === null) return '';
    const end = t.finishedAt !== null ? Date.parse(t.finishedAt) : Date.now();
    return formatDuration(Math.max(0, end - Date.parse(t.startedAt)));
  }

  private row(t: TrialSummary, note: string): string {
    const cells = this.columns.map((c, i) => {
      const text = c.cell(t).padEnd(c.width);
      const color = i === 1 && this.live ? COLORS[t.state] : undefined;
      return color !== undefined ? `${color}${text}\x1b[0m` : text;
    });
    return `  ${cells.join('  ')}${note !== '' ? `  ${note}` : ''}`.trimEnd();
  }

  private isBetter(t: TrialSummary): boolean {
    if (t.state !== 'succeeded' || t.objective === null) return false;
    if (this.best?.id === t.id) return true;
    const best = this.best?.objective;
    if (best === undefined || best === null) return true;
    return this.spec.goal === 'maximize' ? t.objective > best : t.objective < best;
  }

  /** A trial changed: print its row when it starts (logs only) or ends. */
  onTrial(t: TrialSummary): void {
    this.trials.set(t.id, t);
    if (this.printed.get(t.id) === t.state || t.state === 'pending') return;
    if (t.state === 'running' && this.live) {
      this.drawFooter();
      return;
    }
    this.printed.set(t.id, t.state);
    let note = '';
    if (this.isBetter(t)) {
      this.best = t;
      note = '★ best so far';
    } else if (t.state === 'failed' && t.reason !== undefined) {
      note = t.reason.split('\n')[0]!;
    }
    this.clearFooter();
    this.ctx.out(this.row(t, note));
    this.drawFooter();
  }

  /** The backend's own best (Katib's `currentOptimalTrial`) wins over what the rows saw. */
  onBest(t: TrialSummary): void {
    this.best = t;
  }

  private clearFooter(): void {
    if (this.footerLines === 0) return;
    const up = this.footerLines > 1 ? `\x1b[${this.footerLines - 1}A` : '';
    this.ctx.write?.(`\r${up}\x1b[J`);
    this.footerLines = 0;
  }

  private drawFooter(): void {
    if (!this.live || this.timer === undefined) return;
    const all = [...this.trials.values()];
    const running = all.filter((t) => t.state === 'running').sort((a, b) => a.index - b.index);
    const ended = all.filter((t) => t.state !== 'pending' && t.state !== 'running');
    const failed = ended.filter((t) => t.state === 'failed').length;
    const filled = Math.min(
      BAR_WIDTH,
      Math.round((ended.length / this.spec.maxTrials) * BAR_WIDTH),
    );
    const best =
      this.best !== null && this.best.objective !== null
        ? ` · best ${this.spec.objective} ${formatMetricValue(this.best.objective)} (#${this.best.index})`
        : '';
    const lines = [
      ...running.map((t) => this.row(t, '')),
      `  ${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${ended.length}/${this.spec.maxTrials} trials${failed > 0 ? ` · ${failed} failed` : ''}${running.length > 0 ? ` · ${running.length} running` : ''}${best} · ${formatDuration(Date.now() - this.started)}`,
    ];
    // A line wider than the terminal wraps and would break the redraw: cut it.
    const width = this.ctx.columns ?? 0;
    const fit = (line: string): string =>
      width > 1 && line.length >= width ? line.slice(0, width - 1) : line;
    this.clearFooter();
    this.ctx.write?.(lines.map(fit).join('\n'));
    this.footerLines = lines.length;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.clearFooter();
  }
}
