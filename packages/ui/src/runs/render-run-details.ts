/**
 * One run in detail: state, duration, parameters and metrics, then every step with its state,
 * attempts, duration and metrics; a failed step shows the exception, where it happened and the
 * traceback (the failure view JupyterLab shows on the cell). A cluster run's saved variables
 * follow: step, variable, type and where the cluster keeps it.
 */
import type { RunDetails, RunDetailsStep } from '../webview/webview-protocol.js';
import { element, formatMs, formatValue } from '../webview/element.js';
import { stepFailureView, type StepFailureView } from './step-failure.js';

export interface RunDetailsOptions {
  /** Reveal the notebook cell and line where a step failed. */
  readonly onRevealFailure?: (step: string) => void;
  readonly onShowLogs?: (step: string) => void;
}

/** The step's failure as both editors show it (`step-failure.ts`). */
function failureViewOf(step: RunDetailsStep): StepFailureView | undefined {
  const f = step.failure;
  return f !== undefined ? stepFailureView(step.name, { kind: 'exception', ...f }) : undefined;
}

function keyValues(title: string, values: Readonly<Record<string, unknown>>): HTMLElement[] {
  const entries = Object.entries(values);
  if (entries.length === 0) return [];
  return [
    element('h3', {}, title),
    element(
      'dl',
      { class: 'cf-values' },
      ...entries.flatMap(([k, v]) => [element('dt', {}, k), element('dd', {}, formatValue(v))]),
    ),
  ];
}

function stepRow(step: RunDetailsStep, options: RunDetailsOptions): HTMLElement {
  const logs = element('button', { type: 'button', class: 'cf-link' }, 'logs');
  logs.addEventListener('click', () => options.onShowLogs?.(step.name));
  const row = element(
    'tr',
    { class: `cf-step cf-state-${step.state}`, 'data-step': step.name },
    element('td', {}, step.name),
    element('td', {}, element('span', { class: `cf-badge cf-state-${step.state}` }, step.state)),
    element('td', { class: 'cf-num' }, formatMs(step.durationMs)),
    element('td', { class: 'cf-num' }, step.attempts > 1 ? String(step.attempts) : ''),
    element(
      'td',
      {},
      Object.entries(step.metrics)
        .map(([k, v]) => `${k} ${formatValue(v)}`)
        .join(', ') || (step.cachedFrom !== undefined ? `cached from ${step.cachedFrom}` : ''),
    ),
    element('td', {}, logs),
  );
  return row;
}

function failureRow(step: RunDetailsStep, options: RunDetailsOptions): HTMLElement[] {
  const view = failureViewOf(step);
  if (view === undefined) return [];
  const reveal = element('button', { type: 'button', class: 'cf-link' }, view.where || 'show');
  reveal.addEventListener('click', () => options.onRevealFailure?.(step.name));
  return [
    element(
      'tr',
      { class: 'cf-failure' },
      element(
        'td',
        { colspan: '6' },
        element('span', { class: 'cf-problem' }, view.headline),
        ...(view.where !== '' ? [' at ', reveal] : []),
        ...(view.detail !== '' ? [element('div', { class: 'cf-muted' }, view.detail)] : []),
        ...(view.traceback !== undefined
          ? [
              element(
                'details',
                { class: 'cf-failure-traceback' },
                element('summary', {}, 'Traceback'),
                element('pre', {}, view.traceback),
              ),
            ]
          : []),
      ),
    ),
  ];
}

function outputsTable(run: RunDetails): HTMLElement[] {
  const rows = run.steps.flatMap((s) =>
    Object.entries(s.outputs ?? {}).map(([variable, o]) =>
      element(
        'tr',
        { class: 'cf-output', 'data-step': s.name, 'data-variable': variable },
        element('td', {}, s.name),
        element('td', {}, variable),
        element('td', {}, o.type),
        element('td', { class: 'cf-uri' }, o.uri),
      ),
    ),
  );
  if (rows.length === 0) return [];
  return [
    element('h3', {}, 'Outputs'),
    element(
      'table',
      { class: 'cf-table cf-outputs' },
      element(
        'thead',
        {},
        element('tr', {}, ...['step', 'variable', 'type', 'URI'].map((t) => element('th', {}, t))),
      ),
      element('tbody', {}, ...rows),
    ),
  ];
}

export function renderRunDetails(
  container: HTMLElement,
  run: RunDetails,
  options: RunDetailsOptions = {},
): void {
  container.replaceChildren(
    element(
      'div',
      { class: 'cf-header' },
      element('h2', {}, `${run.pipeline} ${run.id}`),
      element('span', { class: `cf-badge cf-state-${run.state}` }, run.state),
      element('span', { class: 'cf-muted' }, `${run.target} · ${formatMs(run.durationMs)}`),
    ),
    ...(run.reason !== undefined ? [element('p', { class: 'cf-problem' }, run.reason)] : []),
    ...keyValues('Metrics', run.metrics),
    ...keyValues('Parameters', run.parameters),
    element('h3', {}, 'Steps'),
    element(
      'table',
      { class: 'cf-table cf-steps' },
      element(
        'thead',
        {},
        element(
          'tr',
          {},
          ...['step', 'state', 'duration', 'attempts', 'metrics', ''].map((t) =>
            element('th', {}, t),
          ),
        ),
      ),
      element(
        'tbody',
        {},
        ...run.steps.flatMap((s) => [stepRow(s, options), ...failureRow(s, options)]),
      ),
    ),
    ...outputsTable(run),
  );
}
