/**
 * A step's log in a main-area tab: the lines so far, then live ones until the step ends, read
 * through the agent (`GET runs/:run/steps/:step/logs`). Closing the tab stops reading.
 */
import type { RunRef } from '@cellflow/protocol';
import type { AgentClient } from '@cellflow/ui';
import { Widget } from '@lumino/widgets';

/** The tab's id for a step of a run (one tab per step log). */
export function stepLogWidgetId(run: RunRef, step: string): string {
  return `cellflow-log-${run.id}-${step}`.replace(/[^\w-]/g, '-');
}

export class StepLogWidget extends Widget {
  private readonly text: HTMLElement;
  private readonly status: HTMLElement;
  private closed = false;

  constructor(client: AgentClient, run: RunRef, step: string) {
    super();
    this.id = stepLogWidgetId(run, step);
    this.addClass('cf-log-widget');
    this.title.label = `Log: ${step}`;
    this.title.caption = `Step ${step} of run ${run.id}`;
    this.title.closable = true;
    this.node.dataset.step = step;
    this.node.dataset.run = run.id;
    const head = document.createElement('div');
    head.className = 'cf-log-head';
    head.textContent = `Step ${step} of run ${run.id}`;
    this.text = document.createElement('pre');
    this.text.className = 'cf-log-text';
    this.status = document.createElement('div');
    this.status.className = 'cf-log-status';
    this.status.textContent = 'Reading the log…';
    this.node.append(head, this.text, this.status);
    void this.read(client, run, step);
  }

  private async read(client: AgentClient, run: RunRef, step: string): Promise<void> {
    try {
      for await (const line of client.logs(run, step)) {
        if (this.closed) return;
        this.text.append(`${line}\n`);
      }
      this.status.textContent = `End of ${step}'s log.`;
    } catch (error) {
      this.status.textContent = `Could not read the log: ${error instanceof Error ? error.message : String(error)}`;
      this.status.classList.add('cf-error');
    }
  }

  override dispose(): void {
    this.closed = true;
    super.dispose();
  }
}
