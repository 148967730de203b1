/**
 * Tuning results: the study's state and best trial, charts of the objective by trial and by each
 * searched parameter (plain SVG), and the trials table. "Apply Best Parameters" is the host's.
 */
import type { StudyResults } from '../webview/webview-protocol.js';
import { element, formatValue } from '../webview/element.js';
import {
  chartObjectiveByParameter,
  chartObjectiveByTrial,
  type ChartModel,
} from './tuning-chart.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 200;
const PAD = { left: 44, right: 10, top: 22, bottom: 34 };

function svg<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  parent: Element,
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  parent.appendChild(node);
  return node;
}

/** Draws one chart model into an SVG element. */
export function renderChart(model: ChartModel): SVGSVGElement {
  const root = document.createElementNS(SVG, 'svg');
  root.setAttribute('viewBox', `0 0 ${W} ${H}`);
  root.setAttribute('class', 'cf-chart');
  root.setAttribute('role', 'img');
  root.setAttribute('aria-label', model.title);
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const px = (x: number): number => PAD.left + x * pw;
  const py = (y: number): number => PAD.top + (1 - y) * ph;
  svg('text', { x: W / 2, y: 14, class: 'cf-chart-title' }, root, model.title);
  svg('rect', { x: PAD.left, y: PAD.top, width: pw, height: ph, class: 'cf-chart-frame' }, root);
  for (const t of model.yTicks) {
    svg(
      'line',
      { x1: PAD.left, x2: PAD.left + pw, y1: py(t.at), y2: py(t.at), class: 'cf-chart-grid' },
      root,
    );
    svg('text', { x: PAD.left - 4, y: py(t.at) + 3, class: 'cf-chart-ytick' }, root, t.label);
  }
  for (const t of model.xTicks)
    svg('text', { x: px(t.at), y: PAD.top + ph + 13, class: 'cf-chart-xtick' }, root, t.label);
  svg('text', { x: PAD.left + pw / 2, y: H - 4, class: 'cf-chart-xlabel' }, root, model.xLabel);
  if (model.bestSoFar !== undefined && model.bestSoFar.length > 1)
    svg(
      'polyline',
      {
        points: model.bestSoFar.map((p) => `${px(p.x)},${py(p.y)}`).join(' '),
        class: 'cf-chart-best-line',
      },
      root,
    );
  for (const p of model.points) {
    const dot = svg(
      'circle',
      {
        cx: px(p.x),
        cy: py(p.y),
        r: p.best ? 5 : 3.5,
        class: p.best ? 'cf-chart-point cf-chart-best' : 'cf-chart-point',
        'data-trial': p.trialId,
      },
      root,
    );
    svg('title', {}, dot, p.label);
  }
  return root;
}

export interface TuningResultsOptions {
  readonly onApplyBest?: () => void;
}

export function renderTuningResults(
  container: HTMLElement,
  study: StudyResults,
  options: TuningResultsOptions = {},
): void {
  const best = study.trials.find((t) => t.id === study.bestTrialId);
  const done = study.trials.filter((t) => t.state === 'succeeded').length;
  const apply = element(
    'button',
    { type: 'button', class: 'cf-apply-best' },
    'Apply Best Parameters',
  );
  apply.disabled = best === undefined;
  apply.addEventListener('click', () => options.onApplyBest?.());
  const charts = element('div', { class: 'cf-charts' }, renderChart(chartObjectiveByTrial(study)));
  for (const name of study.parameters)
    charts.appendChild(renderChart(chartObjectiveByParameter(study, name)));
  const metricNames = Array.from(
    new Set(study.trials.flatMap((t) => Object.keys(t.metrics))),
  ).filter((m) => m !== study.objective);
  container.replaceChildren(
    element(
      'div',
      { class: 'cf-header' },
      element('h2', {}, `${study.pipeline}: ${study.id}`),
      element('span', { class: `cf-badge cf-state-${study.state}` }, study.state),
      element(
        'span',
        { class: 'cf-muted' },
        `${study.goal} ${study.objective} · ${done} of ${study.maxTrials} trials succeeded`,
      ),
    ),
    ...(study.reason !== undefined ? [element('p', { class: 'cf-problem' }, study.reason)] : []),
    element(
      'p',
      { class: 'cf-best' },
      best === undefined
        ? 'No trial has succeeded yet.'
        : `Best: trial ${best.index + 1}, ${study.objective} ${formatValue(best.objective)} with ${study.parameters.map((p) => `${p}=${formatValue(best.parameters[p])}`).join(', ')}`,
      ' ',
      apply,
    ),
    charts,
    element(
      'table',
      { class: 'cf-table cf-trials' },
      element(
        'thead',
        {},
        element(
          'tr',
          {},
          ...['#', ...study.parameters, study.objective, ...metricNames, 'state'].map((t) =>
            element('th', {}, t),
          ),
        ),
      ),
      element(
        'tbody',
        {},
        ...[...study.trials]
          .sort((a, b) => a.index - b.index)
          .map((t) =>
            element(
              'tr',
              {
                class: `cf-trial cf-state-${t.state}${t.id === study.bestTrialId ? ' cf-best-trial' : ''}`,
                'data-trial': t.id,
              },
              element('td', { class: 'cf-num' }, String(t.index + 1)),
              ...study.parameters.map((p) =>
                element('td', { class: 'cf-num' }, formatValue(t.parameters[p] ?? '')),
              ),
              element(
                'td',
                { class: 'cf-num' },
                t.objective === null ? '' : formatValue(t.objective),
              ),
              ...metricNames.map((m) =>
                element('td', { class: 'cf-num' }, formatValue(t.metrics[m] ?? '')),
              ),
              element(
                'td',
                {},
                element('span', { class: `cf-badge cf-state-${t.state}` }, t.state),
              ),
            ),
          ),
      ),
    ),
  );
}
