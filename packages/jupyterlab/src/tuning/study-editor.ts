/**
 * Tune's study editor: the study about to start (objective, goal, algorithm, how many trials, the
 * range of each searched parameter) as a form to review and change before anything runs. The
 * text of ranges and the check of the whole study are `@cellflow/ui`'s, shared with VS Code.
 */
import { TUNING_ALGORITHMS, type PipelineGraph, type StudySpec } from '@cellflow/core';
import {
  studyFormValuesOf,
  studyFromFormValues,
  suggestedRangeText,
  type StudyFormValues,
} from '@cellflow/ui';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

/** Parameter types a study can search. */
const SEARCHABLE = new Set(['int', 'float', 'str', 'bool']);

function row(form: HTMLElement, label: string, input: HTMLElement, hint?: string): void {
  const line = document.createElement('label');
  line.className = 'cf-study-editor-row';
  const text = document.createElement('span');
  text.textContent = label;
  line.append(text, input);
  if (hint !== undefined) {
    const small = document.createElement('small');
    small.className = 'cf-muted';
    small.textContent = hint;
    line.appendChild(small);
  }
  form.appendChild(line);
}

function select(name: string, options: readonly string[], value: string): HTMLSelectElement {
  const el = document.createElement('select');
  el.name = name;
  el.className = 'jp-mod-styled';
  for (const o of options) {
    const option = document.createElement('option');
    option.value = o;
    option.textContent = o;
    option.selected = o === value;
    el.appendChild(option);
  }
  return el;
}

function input(name: string, value: string, placeholder = ''): HTMLInputElement {
  const el = document.createElement('input');
  el.name = name;
  el.className = 'jp-mod-styled';
  el.value = value;
  el.placeholder = placeholder;
  return el;
}

class StudyEditorBody extends Widget implements Dialog.IBodyWidget<StudyFormValues> {
  constructor(values: StudyFormValues, graph: PipelineGraph, problem: string | undefined) {
    super();
    this.addClass('cf-study-editor');
    const form = document.createElement('form');
    form.addEventListener('submit', (event) => event.preventDefault());
    if (problem !== undefined) {
      const p = document.createElement('p');
      p.className = 'cf-problem';
      p.setAttribute('role', 'alert');
      p.textContent = problem;
      form.appendChild(p);
    }
    const metrics = graph.metrics.map((m) => m.name);
    row(form, 'Objective', select('objective', metrics, values.objective));
    row(form, 'Goal', select('goal', ['maximize', 'minimize'], values.goal));
    row(form, 'Algorithm', select('algorithm', TUNING_ALGORITHMS, values.algorithm));
    const count = (name: string, value: string): HTMLInputElement => {
      const el = input(name, value);
      el.type = 'number';
      el.min = '0';
      return el;
    };
    row(form, 'Trials in all', count('maxTrials', values.maxTrials));
    row(form, 'Trials at once', count('parallelTrials', values.parallelTrials));
    row(form, 'Failed trials allowed', count('maxFailedTrials', values.maxFailedTrials));
    const heading = document.createElement('h4');
    heading.textContent = 'Searched parameters';
    const hint = document.createElement('p');
    hint.className = 'cf-muted';
    hint.textContent =
      'A range (0.1 .. 100 log, 1 .. 10 step 1) or a list (rbf, linear); empty: not searched, the default is used.';
    form.append(heading, hint);
    for (const p of graph.parameters.filter((x) => SEARCHABLE.has(x.type))) {
      const el = input(
        `range:${p.name}`,
        values.ranges[p.name] ?? '',
        `not searched (e.g. ${suggestedRangeText(p.default)})`,
      );
      row(form, p.name, el, `default ${JSON.stringify(p.default)}`);
    }
    this.node.appendChild(form);
  }

  getValue(): StudyFormValues {
    const read = (name: string): string =>
      this.node.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`)?.value ??
      '';
    const ranges: Record<string, string> = {};
    this.node.querySelectorAll<HTMLInputElement>('input[name^="range:"]').forEach((el) => {
      ranges[el.name.slice('range:'.length)] = el.value;
    });
    return {
      objective: read('objective'),
      goal: read('goal'),
      algorithm: read('algorithm'),
      maxTrials: read('maxTrials'),
      parallelTrials: read('parallelTrials'),
      maxFailedTrials: read('maxFailedTrials'),
      ranges,
    };
  }
}

/**
 * Shows the study for review; resolves to the study to start once the user starts it (checked by
 * core; a problem keeps the editor open, saying what is wrong), or undefined when cancelled.
 */
export async function editStudy(
  start: StudySpec,
  graph: PipelineGraph,
  target: string,
): Promise<StudySpec | undefined> {
  let values = studyFormValuesOf(start);
  let problem: string | undefined;
  for (;;) {
    const result = await showDialog({
      title: `Tune ${graph.pipeline.name} on ${target}`,
      body: new StudyEditorBody(values, graph, problem),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Start tuning' })],
    });
    if (!result.button.accept || result.value === null) return undefined;
    values = result.value;
    const study = studyFromFormValues(start, values, graph);
    if (typeof study !== 'string') return study;
    problem = study;
  }
}
