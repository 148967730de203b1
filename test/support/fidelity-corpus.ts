/**
 * The fidelity corpus (issue 13): scikit-learn's gallery examples, as Debian's `python-sklearn-doc`
 * ships them, turned into notebooks the way sphinx-gallery does, then tagged as Cellflow pipelines
 * two ways. Pure functions; `fidelity-reference.ts` runs them in Jupyter, `fidelity-pipeline.ts`
 * with `cellflow run`. Shared by `bench/fidelity` and `test/fidelity`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const GALLERY_DIR = '/usr/share/doc/python-sklearn-doc/examples';

/** Bump when the notebooks this file produces change, so cached references are rebuilt. */
export const CONVERTER_VERSION = 1;

export interface GalleryExample {
  /** Path under the gallery without `.py`/`.py.gz`, e.g. `svm/plot_iris_svc`. */
  readonly name: string;
  readonly path: string;
  readonly source: string;
}

export interface NotebookCell {
  readonly cell_type: 'markdown' | 'code';
  readonly id: string;
  readonly metadata: { tags?: string[] };
  readonly source: string;
  readonly outputs?: unknown[];
  readonly execution_count?: null;
}

export interface Notebook {
  readonly nbformat: 4;
  readonly nbformat_minor: 5;
  readonly metadata: Record<string, unknown>;
  readonly cells: readonly NotebookCell[];
}

/** Every `plot_*.py` (or `plot_*.py.gz`) example under `dir`, sorted by name. */
export function listGalleryExamples(dir: string = GALLERY_DIR): GalleryExample[] {
  let files: string[];
  try {
    files = readdirSync(dir, { recursive: true }).map(String);
  } catch {
    return [];
  }
  return files
    .filter((f) => /(^|\/)plot_[^/]*\.py(\.gz)?$/.test(f))
    .map((f) => {
      const path = join(dir, f);
      const raw = readFileSync(path);
      const source = (f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
      return { name: relative(dir, path).replace(/\.py(\.gz)?$/, ''), path, source };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The module docstring's text and the source after the docstring's last line. */
function splitDocstring(source: string): { docstring: string; rest: string } {
  const lines = source.split('\n');
  let i = 0;
  while (i < lines.length && /^\s*(#.*)?$/.test(lines[i]!)) i++;
  const opening = /^[rRuU]?("""|''')/.exec(lines[i] ?? '');
  if (opening === null) return { docstring: '', rest: source };
  const quote = opening[1]!;
  const first = lines[i]!.slice(opening[0].length);
  const closeOnFirst = first.indexOf(quote);
  if (closeOnFirst >= 0) {
    return { docstring: first.slice(0, closeOnFirst), rest: lines.slice(i + 1).join('\n') };
  }
  const body = [first];
  for (let j = i + 1; j < lines.length; j++) {
    const close = lines[j]!.indexOf(quote);
    if (close >= 0) {
      body.push(lines[j]!.slice(0, close));
      return { docstring: body.join('\n'), rest: lines.slice(j + 1).join('\n') };
    }
    body.push(lines[j]!);
  }
  return { docstring: '', rest: source };
}

/** Removes the common leading whitespace of the non-blank lines (Python's `textwrap.dedent`). */
function dedent(text: string): string {
  const lines = text.split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => (l.trim() === '' ? l.replace(/^[ \t]*/, '') : l.slice(cut))).join('\n');
}

/**
 * The example's cells, as sphinx-gallery splits them: the module docstring is the first markdown
 * cell; a block header (`# %%`, `#%%`, or a line of 20 or more `#`) ends a code cell, and the
 * `#` comment lines right after it (if any) are a markdown cell. Blank code blocks are dropped.
 */
export function galleryCells(source: string): { kind: 'markdown' | 'code'; text: string }[] {
  const { docstring, rest } = splitDocstring(source.replace(/\r\n/g, '\n'));
  const cells: { kind: 'markdown' | 'code'; text: string }[] = [];
  if (docstring.trim() !== '') cells.push({ kind: 'markdown', text: docstring.trim() });
  const header = /^(?:#{20,}.*|# ?%%.*)\n((?:#.*\n?)*)/gm;
  let from = 0;
  const pushCode = (text: string): void => {
    if (text.trim() !== '') cells.push({ kind: 'code', text: text.trim() });
  };
  for (const m of rest.matchAll(header)) {
    pushCode(rest.slice(from, m.index));
    const text = dedent(m[1]!.replace(/^#/gm, '')).trim();
    if (text !== '') cells.push({ kind: 'markdown', text });
    from = m.index + m[0].length;
  }
  pushCode(rest.slice(from));
  return cells;
}

/** The example as an untagged nbformat 4.5 notebook. */
export function galleryNotebook(source: string): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
      language_info: { name: 'python' },
    },
    cells: galleryCells(source).map((c, i) =>
      c.kind === 'markdown'
        ? { cell_type: 'markdown', id: `cell-${i}`, metadata: {}, source: c.text }
        : {
            cell_type: 'code',
            id: `cell-${i}`,
            metadata: {},
            source: c.text,
            outputs: [],
            execution_count: null,
          },
    ),
  };
}

export type Tagging = 'per-cell' | 'per-section';
export const TAGGINGS: readonly Tagging[] = ['per-cell', 'per-section'];

/**
 * The notebook tagged as a pipeline: `per-cell` makes each code cell its own step `c<N>` (N its
 * position among code cells); `per-section` starts a step `s<K>` at the first code cell after each
 * markdown cell (code before any markdown opens the first one), so a section's cells form a step.
 */
export function tagNotebook(notebook: Notebook, tagging: Tagging): Notebook {
  let code = 0;
  let section = 0;
  let newSection = true;
  const cells = notebook.cells.map((cell) => {
    if (cell.cell_type === 'markdown') {
      newSection = true;
      return cell;
    }
    let tags: string[] = [];
    if (tagging === 'per-cell') tags = [`step:c${code}`];
    else if (newSection) tags = [`step:s${section++}`];
    code++;
    newSection = false;
    return { ...cell, metadata: { ...cell.metadata, tags } };
  });
  return { ...notebook, cells };
}

/** Step-name-safe, file-name-safe form of an example's name (`svm/plot_iris_svc` -> `svm__plot_iris_svc`). */
export function exampleSlug(name: string): string {
  return name.replace(/[^A-Za-z0-9_]+/g, '__');
}
