/**
 * The tag form of one cell: role, step name, dependencies, GPU, image, resources and the model it
 * serves. It shows in the Cellflow section of JupyterLab's property inspector (a metadata form,
 * tag-metadata-form.ts) and in the dialog the cell's Edit tags button opens.
 * It edits core's `CellTags` and writes them back with core's formatter, so the saved
 * `metadata.tags` are the same ones VS Code, the CLI and Kale read (tags Cellflow does not know
 * are kept as they were).
 */
import {
  formatCellTags,
  parseCellTags,
  toStepName,
  type CellRole,
  type CellTags,
} from '@cellflow/core';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { Cell } from '@jupyterlab/cells';
import { Widget } from '@lumino/widgets';
import { readCellTags } from './cell-decorations.js';

const ROLES: readonly [CellRole['kind'], string][] = [
  ['step', 'Starts a step'],
  ['continue', 'Continues the step above'],
  ['imports', 'Imports (runs before every step)'],
  ['functions', 'Functions (runs before every step)'],
  ['parameters', 'Pipeline parameters'],
  ['metrics', 'Pipeline metrics'],
  ['skip', 'Skip (not in the pipeline)'],
];

function field(form: HTMLElement, label: string, input: HTMLElement): void {
  const row = document.createElement('label');
  row.className = 'cf-tag-editor-row';
  const text = document.createElement('span');
  text.textContent = label;
  row.append(text, input);
  form.appendChild(row);
}

function textInput(name: string, value: string, placeholder: string): HTMLInputElement {
  const input = document.createElement('input');
  input.className = 'jp-mod-styled';
  input.name = name;
  input.value = value;
  input.placeholder = placeholder;
  return input;
}

/** Reads the form back into tags, starting from what the cell had (unknown tags are kept). */
export function editedCellTags(
  before: CellTags,
  values: Readonly<Record<string, string>>,
): CellTags {
  const kind = (values.role ?? before.role.kind) as CellRole['kind'];
  const role: CellRole = kind === 'step' ? { kind, name: toStepName(values.step ?? '') } : { kind };
  const list = (s: string | undefined): string[] =>
    (s ?? '')
      .split(/[\s,]+/)
      .map((x) => x.trim())
      .filter((x) => x !== '');
  const optional = (s: string | undefined): string | undefined =>
    s === undefined || s.trim() === '' ? undefined : s.trim();
  const gpuCount = Number.parseInt(values.gpu ?? '', 10);
  const product = optional(values.gpuProduct);
  const next: CellTags = {
    ...before,
    role,
    prev: list(values.prev),
    gpu:
      Number.isFinite(gpuCount) && gpuCount > 0
        ? { count: gpuCount, ...(product !== undefined ? { product } : {}) }
        : undefined,
    image: optional(values.image),
    cpu: optional(values.cpu),
    memory: optional(values.memory),
    serve: values.serve !== undefined ? list(values.serve) : before.serve,
  };
  return Object.fromEntries(
    Object.entries(next).filter(([, v]) => v !== undefined),
  ) as unknown as CellTags;
}

/** Builds the form's fields for `before` (`steps`: the notebook's steps, offered for "Runs after"). */
export function buildTagForm(before: CellTags, steps: readonly string[]): HTMLFormElement {
  const form = document.createElement('form');
  form.className = 'cf-tag-form';
  const role = document.createElement('select');
  role.name = 'role';
  role.className = 'jp-mod-styled';
  for (const [value, label] of ROLES) {
    const option = document.createElement('option');
    option.value = value;
    option.textContent = label;
    option.selected = before.role.kind === value;
    role.appendChild(option);
  }
  field(form, 'Role', role);
  const step = textInput('step', before.role.kind === 'step' ? before.role.name : '', 'load_data');
  field(form, 'Step name', step);
  const known = document.createElement('datalist');
  known.id = `cf-known-steps-${Math.random().toString(36).slice(2)}`;
  for (const name of steps) {
    const option = document.createElement('option');
    option.value = name;
    known.appendChild(option);
  }
  const prev = textInput('prev', before.prev.join(', '), 'steps this one runs after');
  prev.setAttribute('list', known.id);
  field(form, 'Runs after', prev);
  form.appendChild(known);
  const gpu = textInput('gpu', before.gpu !== undefined ? String(before.gpu.count) : '', '0');
  gpu.type = 'number';
  gpu.min = '0';
  field(form, 'GPUs', gpu);
  field(
    form,
    'GPU product',
    textInput('gpuProduct', before.gpu?.product ?? '', 'any (e.g. NVIDIA-A100-SXM4-80GB)'),
  );
  field(form, 'Image', textInput('image', before.image ?? '', 'notebook default'));
  field(form, 'CPU', textInput('cpu', before.cpu ?? '', 'e.g. 2 or 500m'));
  field(form, 'Memory', textInput('memory', before.memory ?? '', 'e.g. 4Gi'));
  const serve = textInput('serve', before.serve.join(', '), 'model variable, e.g. model');
  serve.title =
    'The variable holding the trained model this step makes: Serve serves it from the latest succeeded run (tag serve:VARIABLE)';
  field(form, 'Serve model', serve);
  const sync = (): void => {
    step.disabled = role.value !== 'step';
  };
  role.addEventListener('change', sync);
  sync();
  form.addEventListener('submit', (event) => event.preventDefault());
  return form;
}

/** The tags the form says, starting from `before` (what the cell had). */
export function readTagForm(form: HTMLFormElement, before: CellTags): CellTags {
  const values: Record<string, string> = {};
  form
    .querySelectorAll<HTMLInputElement | HTMLSelectElement>('input[name], select[name]')
    .forEach((el) => {
      values[el.name] = el.value;
    });
  return editedCellTags(before, values);
}

class TagEditorBody extends Widget implements Dialog.IBodyWidget<CellTags> {
  private readonly form: HTMLFormElement;

  constructor(
    private readonly before: CellTags,
    steps: readonly string[],
  ) {
    super();
    this.addClass('cf-tag-editor');
    this.form = buildTagForm(before, steps);
    this.node.appendChild(this.form);
  }

  getValue(): CellTags {
    return readTagForm(this.form, this.before);
  }
}

/**
 * Opens the editor for `cell` (with the field named `focus` focused); writes `metadata.tags` when
 * the user saves.
 */
export async function editCellTags(
  cell: Cell,
  steps: readonly string[],
  focus?: string,
): Promise<boolean> {
  const before = parseCellTags(readCellTags(cell)).tags;
  const body = new TagEditorBody(before, steps);
  const result = await showDialog({
    title: 'Cellflow tags',
    body,
    ...(focus !== undefined ? { focusNodeSelector: `[name="${focus}"]` } : {}),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Save tags' })],
  });
  if (!result.button.accept || result.value === null) return false;
  const tags = formatCellTags(result.value);
  const current = readCellTags(cell);
  // Saving an unchanged form leaves the cell (and so the file) as it was.
  if (tags.length === current.length && tags.every((t, i) => t === current[i])) return false;
  if (tags.length === 0) cell.model.deleteMetadata('tags');
  else cell.model.setMetadata('tags', tags);
  return true;
}
