import { excerptOfLine, type Diagnostic } from '../diagnostics.js';
import { parseCellTags } from '../tags/cell-tags.js';
import type { CellKind, Notebook, NotebookCell } from './notebook.js';

export interface ParseNotebookResult {
  /** Absent when the input cannot be read as an nbformat v4 notebook at all. */
  readonly notebook?: Notebook;
  readonly diagnostics: Diagnostic[];
}

function notebookError(
  code: 'malformed-json' | 'not-a-notebook' | 'unsupported-nbformat',
  message: string,
): ParseNotebookResult {
  return { diagnostics: [{ severity: 'error', code, cell: null, line: null, message }] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** nbformat stores sources either as a string or as a list of lines (each keeping its newline). */
function joinSource(source: unknown): string | undefined {
  if (typeof source === 'string') return source;
  if (Array.isArray(source) && source.every((s) => typeof s === 'string')) return source.join('');
  return undefined;
}

function decode(input: string | Uint8Array): string | Diagnostic {
  if (typeof input === 'string') return input;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(input);
  } catch {
    return {
      severity: 'error',
      code: 'not-utf8',
      cell: null,
      line: null,
      message:
        'The file is not valid UTF-8, so it is not a Jupyter notebook (nbformat requires UTF-8). ' +
        'Fix: re-save it from Jupyter or VS Code, or convert it with `iconv -t UTF-8`.',
    };
  }
}

/** Line and column of a character offset, for JSON syntax errors. */
function positionOf(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

/** Reads nbformat v4 JSON (text or UTF-8 bytes) into a `Notebook`; never throws. */
export function parseNotebook(input: string | Uint8Array): ParseNotebookResult {
  const text = decode(input);
  if (typeof text !== 'string') return { diagnostics: [text] };
  if (text.trim() === '') {
    return notebookError(
      'not-a-notebook',
      'The file is empty, not a notebook. Fix: open it in Jupyter or VS Code and save it as a notebook.',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const match = /position (\d+)/.exec(detail);
    const where = match?.[1] !== undefined ? ` at ${positionOf(text, Number(match[1]))}` : '';
    return notebookError(
      'malformed-json',
      `The notebook is not valid JSON${where} (${detail}). ` +
        'Fix: restore it from version control, or repair the JSON by hand (a merge conflict marker is a common cause).',
    );
  }
  if (!isRecord(raw) || (!Array.isArray(raw.cells) && raw.worksheets === undefined)) {
    return notebookError(
      'not-a-notebook',
      'The JSON has no `cells` list, so it is not a Jupyter notebook. Fix: open the notebook file, not another JSON file.',
    );
  }
  const nbformat = typeof raw.nbformat === 'number' ? raw.nbformat : 0;
  if (nbformat !== 4 || !Array.isArray(raw.cells)) {
    return notebookError(
      'unsupported-nbformat',
      `The notebook is nbformat ${nbformat || 'unknown'}; Cellflow reads nbformat 4. ` +
        'Fix: upgrade it with `jupyter nbconvert --to notebook --nbformat 4 NB.ipynb`, or open and save it in JupyterLab.',
    );
  }
  const diagnostics: Diagnostic[] = [];
  const cells: NotebookCell[] = [];
  raw.cells.forEach((rawCell: unknown, index: number) => {
    if (!isRecord(rawCell)) {
      diagnostics.push({
        severity: 'error',
        code: 'malformed-cell',
        cell: index,
        line: null,
        message: `The cell is not a JSON object. Fix: remove it or restore the notebook from version control.`,
      });
      cells.push({ index, kind: 'raw', source: '', tags: [], metadata: {} });
      return;
    }
    const kind: CellKind =
      rawCell.cell_type === 'code' || rawCell.cell_type === 'markdown' ? rawCell.cell_type : 'raw';
    const source = joinSource(rawCell.source);
    if (source === undefined) {
      diagnostics.push({
        severity: 'error',
        code: 'malformed-cell',
        cell: index,
        line: null,
        message: `The cell has a source that is neither text nor a list of lines. Fix: re-save the notebook from Jupyter.`,
      });
    }
    const metadata = isRecord(rawCell.metadata) ? rawCell.metadata : {};
    const rawTags: unknown[] = Array.isArray(metadata.tags) ? metadata.tags : [];
    if (metadata.tags !== undefined && !Array.isArray(metadata.tags)) {
      const shown =
        typeof metadata.tags === 'string'
          ? `the text \`${excerptOfLine(metadata.tags, 60)}\``
          : `a ${metadata.tags === null ? 'null' : typeof metadata.tags}`;
      diagnostics.push({
        severity: 'error',
        code: 'malformed-tag',
        cell: index,
        line: null,
        message: `The cell's \`metadata.tags\` is ${shown}, not a list, so Jupyter and Kale see no tags on it. Fix: write the tags as a list${typeof metadata.tags === 'string' ? `: ["${excerptOfLine(metadata.tags, 60)}"]` : ', e.g. ["step:train"]'}.`,
      });
    }
    const tags = rawTags.filter((t): t is string => typeof t === 'string');
    if (tags.length !== rawTags.length) {
      diagnostics.push({
        severity: 'warning',
        code: 'non-string-tag',
        cell: index,
        line: null,
        message: `The cell has tags that are not strings; they are ignored. Fix: edit the cell's tags.`,
      });
    }
    if (kind === 'markdown' && tags.some((t) => parseCellTags([t]).tags.role.kind !== 'continue'))
      diagnostics.push({
        severity: 'warning',
        code: 'tag-on-markdown',
        cell: index,
        line: null,
        message: `This is a markdown cell, so its tags (${tags.map((t) => `\`${excerptOfLine(t, 40)}\``).join(', ')}) make no step. Fix: move them to the code cell that should start the step.`,
      });
    cells.push({
      index,
      kind,
      source: (source ?? '').replace(/\r\n?/g, '\n'),
      tags,
      metadata,
      ...(typeof rawCell.id === 'string' ? { id: rawCell.id } : {}),
    });
  });
  return {
    notebook: {
      nbformat,
      nbformatMinor: typeof raw.nbformat_minor === 'number' ? raw.nbformat_minor : 0,
      metadata: isRecord(raw.metadata) ? raw.metadata : {},
      cells,
    },
    diagnostics,
  };
}
