/**
 * Cellflow's tag form as a JupyterLab metadata form: schema/tag-form.json declares a "Cellflow"
 * section of the property inspector whose `/tags` field this renderer draws with the tag form
 * (tag-editor.ts), as JupyterLab's own cell-tags extension does for its tag list. The metadata
 * form follows the active cell and rewrites the field when the cell's tags change elsewhere; the
 * field writes back through the form's `updateMetadata`, with core's formatter.
 */
import { formatCellTags, parseCellTags } from '@cellflow/core';
import type { INotebookTracker } from '@jupyterlab/notebook';
import type { IFormRenderer } from '@jupyterlab/ui-components';
import { createElement, useEffect, useRef, type ReactElement } from 'react';
import { readCellTags } from './cell-decorations.js';
import { buildTagForm, readTagForm } from './tag-editor.js';

/** The id schema/tag-form.json names the renderer by. */
export const TAG_FORM_RENDERER = 'cellflow-jupyterlab:tag-form.renderer';

/** What the metadata form gives a custom field (a subset of rjsf's FieldProps). */
interface MetadataFieldProps {
  readonly name: string;
  readonly formData?: unknown;
  readonly formContext: {
    readonly updateMetadata: (data: Record<string, unknown>, reload?: boolean) => void;
  };
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : [];
}

/** The step names of the current notebook, offered for "Runs after". */
function stepsOf(tracker: INotebookTracker): string[] {
  const names: string[] = [];
  for (const cell of tracker.currentWidget?.content.widgets ?? []) {
    const { role } = parseCellTags(readCellTags(cell)).tags;
    if (role.kind === 'step' && !names.includes(role.name)) names.push(role.name);
  }
  return names;
}

function TagField(
  props: MetadataFieldProps & { readonly tracker: INotebookTracker },
): ReactElement {
  const host = useRef<HTMLDivElement>(null);
  // What this field last wrote: the echo of its own write does not rebuild the form (focus stays).
  const written = useRef<string | undefined>(undefined);
  const tags = stringsOf(props.formData);
  const key = JSON.stringify(tags);
  useEffect(() => {
    const node = host.current;
    if (node === null || key === written.current) return;
    const before = parseCellTags(tags).tags;
    const form = buildTagForm(before, stepsOf(props.tracker));
    form.addEventListener('change', () => {
      const next = formatCellTags(readTagForm(form, before));
      const nextKey = JSON.stringify(next);
      if (nextKey === key) return;
      written.current = nextKey;
      props.formContext.updateMetadata({ [props.name]: next }, true);
    });
    node.replaceChildren(form);
  }, [key]);
  return createElement('div', { ref: host, className: 'cf-tag-editor cf-tag-metadata-form' });
}

/** The renderer of the `/tags` field of the Cellflow metadata form. */
export function tagFormRenderer(tracker: INotebookTracker): IFormRenderer {
  const field = (props: MetadataFieldProps): ReactElement =>
    createElement(TagField, { ...props, tracker });
  return { fieldRenderer: field as unknown as IFormRenderer['fieldRenderer'] };
}
