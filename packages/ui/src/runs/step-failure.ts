/**
 * Why a step failed, as a person reads it on the failing cell: the exception, the cell and line
 * (cells counted from 1, as a notebook's reader counts them), the text of the failing line, the
 * traceback, and a way to the step's log. Both editors show a step failure from this view.
 */
import type { StepFailure } from '@cellflow/protocol';
import { describeLocation } from '@cellflow/core';
import { element } from '../webview/element.js';

export interface StepFailureView {
  readonly step: string;
  /** `ZeroDivisionError: division by zero`, or the failure's message when it is not an exception. */
  readonly headline: string;
  /**
   * What the backend said beyond the headline (the fix when one is known), without its
   * `Step \`x\` failed at ...:` lead; '' when it says no more than the headline.
   */
  readonly detail: string;
  /** `cell 3, line 2` (core's `describeLocation`: cells as a person counts them), or ''. */
  readonly where: string;
  /** The failing line's text, when the cell's source is known and has that line. */
  readonly lineText?: string;
  readonly traceback?: string;
}

/** The last line of a Python traceback: `ZeroDivisionError: division by zero`. */
function exceptionLineOf(traceback: string | undefined): string | undefined {
  const lines = (traceback ?? '').split('\n').filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1];
  return last !== undefined && !last.startsWith(' ') ? last.trim() : undefined;
}

/**
 * The view of `step`'s failure; `cellSource` is the failing cell's source as the editor has it
 * (for the failing line's text).
 */
export function stepFailureView(
  step: string,
  failure: StepFailure,
  cellSource?: string,
): StepFailureView {
  const exception = failure.kind === 'exception' ? exceptionLineOf(failure.traceback) : undefined;
  const line =
    cellSource !== undefined && failure.line !== null
      ? cellSource.split('\n')[failure.line - 1]?.trim()
      : undefined;
  const headline = exception ?? failure.message;
  let rest = failure.message.replace(/^Step `[^`]+` failed[^:]*: /, '').trim();
  if (rest.startsWith(headline)) rest = rest.slice(headline.length).replace(/^[.\s]+/, '');
  return {
    step,
    headline,
    detail: headline === failure.message ? '' : rest,
    where: failure.cell !== null ? describeLocation(failure.cell, failure.line) : '',
    ...(line !== undefined && line !== '' ? { lineText: line } : {}),
    ...(failure.traceback !== undefined && failure.traceback.trim() !== ''
      ? { traceback: failure.traceback.replace(/\s+$/, '') }
      : {}),
  };
}

export interface StepFailureActions {
  /** Opens the step's log (the button is left out without it). */
  readonly onShowLog?: () => void;
  /** Moves to the failing cell (left out without it). */
  readonly onShowCell?: () => void;
}

/**
 * The failure box: `Step train failed at line 2`, the exception, the failing line, the traceback
 * (open) and the actions. Replaces `container`'s children.
 */
export function renderStepFailure(
  container: HTMLElement,
  view: StepFailureView,
  actions: StepFailureActions = {},
): void {
  const buttons: HTMLElement[] = [];
  const button = (cls: string, label: string, title: string, run: () => void): void => {
    const b = element('button', { type: 'button', class: `cf-failure-${cls}`, title }, label);
    b.addEventListener('click', (event) => {
      event.stopPropagation();
      run();
    });
    buttons.push(b);
  };
  if (actions.onShowCell !== undefined)
    button('show-cell', 'Show failing cell', 'Move to the cell that failed', actions.onShowCell);
  if (actions.onShowLog !== undefined)
    button('show-log', 'Show log', `Open step ${view.step}'s whole log`, actions.onShowLog);
  const title = `Step ${view.step} failed${view.where !== '' ? ` at ${view.where}` : ''}`;
  container.replaceChildren(
    element('div', { class: 'cf-failure-title' }, title),
    element('div', { class: 'cf-failure-headline' }, view.headline),
    ...(view.lineText !== undefined
      ? [element('code', { class: 'cf-failure-line' }, view.lineText)]
      : []),
    ...(view.detail !== '' ? [element('div', { class: 'cf-failure-detail' }, view.detail)] : []),
    ...(view.traceback !== undefined
      ? [
          element(
            'details',
            { class: 'cf-failure-traceback', open: '' },
            element('summary', {}, 'Traceback'),
            element('pre', {}, view.traceback),
          ),
        ]
      : []),
    ...(buttons.length > 0 ? [element('div', { class: 'cf-failure-actions' }, ...buttons)] : []),
  );
}
