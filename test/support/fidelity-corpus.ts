/**
 * The fidelity corpus (issue 13): scikit-learn's gallery examples, as Debian's `python-sklearn-doc`
 * ships them, turned into notebooks the way sphinx-gallery does, or the notebooks found under a
 * folder (`listNotebookExamples`), then tagged as Cellflow pipelines two ways, or run with the tags
 * their authors gave them (`kale`). Pure functions and reads; `fidelity-reference.ts` runs them in
 * Jupyter, `fidelity-pipeline.ts` with `cellflow run`. Shared by `bench/fidelity` and
 * `test/fidelity`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { analyzeNotebook, parseCellTags, parseWithLezer, toPlainPython } from '@cellflow/core';

export const GALLERY_DIR = '/usr/share/doc/python-sklearn-doc/examples';

/** Bump when the notebooks this file produces change, so cached references are rebuilt. */
export const CONVERTER_VERSION = 1;

export interface GalleryExample {
  /** Path under the gallery without `.py`/`.py.gz`, e.g. `svm/plot_iris_svc`. */
  readonly name: string;
  readonly path: string;
  readonly source: string;
}

/** A notebook found under a folder: it runs in a copy of its own folder's tree. */
export interface NotebookExample {
  /** The corpus folder's base name and the path under it, e.g. `lectures/Lecture-2-Numpy.ipynb`. */
  readonly name: string;
  readonly path: string;
  /** The notebook as `notebookOfFile` makes it (nbformat 4.5, no outputs), as JSON text. */
  readonly source: string;
  /** The folder the notebook is in, whose tree a run copies. */
  readonly folder: string;
}

export type FidelityExample = GalleryExample | NotebookExample;

export function isNotebookExample(example: FidelityExample): example is NotebookExample {
  return 'folder' in example;
}

export interface NotebookCell {
  readonly cell_type: 'markdown' | 'code' | 'raw';
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

/** Folders a notebook corpus never looks into nor copies. */
export const SKIPPED_FOLDERS: ReadonlySet<string> = new Set(['.ipynb_checkpoints', '.git']);

/** Every `*.ipynb` under `dir` (none in `.ipynb_checkpoints`), named after `dir`, sorted by name. */
export function listNotebookExamples(dir: string): NotebookExample[] {
  const root = resolve(dir);
  const found: NotebookExample[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name)) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ipynb')) {
        let notebook: Notebook;
        try {
          notebook = notebookOfFile(readFileSync(path, 'utf8'));
        } catch {
          continue; // not a notebook Jupyter could open either
        }
        found.push({
          name: `${basename(root)}/${relative(root, path)}`,
          path,
          source: JSON.stringify(notebook, null, 1),
          folder: dirname(path),
        });
      }
    }
  };
  walk(root);
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const textOf = (source: unknown): string =>
  Array.isArray(source) ? source.join('') : typeof source === 'string' ? source : '';

/**
 * A notebook file (nbformat 4) as the corpus runs it: nbformat 4.5 with fresh cell ids, no outputs
 * nor execution counts, cells' metadata and the notebook's kept except the kernel, which is
 * Python 3's (`python2` or a conda environment's name would not start here).
 */
export function notebookOfFile(text: string): Notebook {
  const file = JSON.parse(text) as {
    nbformat?: number;
    metadata?: Record<string, unknown>;
    cells?: { cell_type?: string; metadata?: { tags?: string[] }; source?: unknown }[];
  };
  if (file.nbformat !== 4 || !Array.isArray(file.cells))
    throw new Error('not an nbformat 4 notebook');
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      ...file.metadata,
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
      language_info: { name: 'python' },
    },
    cells: file.cells.map((c, i): NotebookCell => {
      const common = { id: `cell-${i}`, metadata: c.metadata ?? {}, source: textOf(c.source) };
      if (c.cell_type === 'code')
        return { cell_type: 'code', ...common, outputs: [], execution_count: null };
      return { cell_type: c.cell_type === 'raw' ? 'raw' : 'markdown', ...common };
    }),
  };
}

/** The example's notebook, without the cells at `dropped` (see `Reference.dropped`). */
export function exampleNotebook(
  example: FidelityExample,
  dropped: readonly number[] = [],
): Notebook {
  const notebook = isNotebookExample(example)
    ? (JSON.parse(example.source) as Notebook)
    : galleryNotebook(example.source);
  return dropped.length === 0 ? notebook : withoutCells(notebook, dropped);
}

/** The notebook without the cells at `indices`. */
export function withoutCells(notebook: Notebook, indices: readonly number[]): Notebook {
  const drop = new Set(indices);
  return { ...notebook, cells: notebook.cells.filter((_, i) => !drop.has(i)) };
}

export type Tagging = 'per-cell' | 'per-section' | 'kale-cells' | 'kale-sections' | 'kale';
/** The taggings a bench runs unless told: the gallery's measure is of these two. */
export const TAGGINGS: readonly Tagging[] = ['per-cell', 'per-section'];
export const ALL_TAGGINGS: readonly Tagging[] = [
  'per-cell',
  'per-section',
  'kale-cells',
  'kale-sections',
  'kale',
];

/** Taggings with cells outside every step (`imports`, `functions`, `skip`): those are not compared. */
export function leavesCellsOutOfSteps(tagging: Tagging): boolean {
  return tagging !== 'per-cell' && tagging !== 'per-section';
}

/**
 * What a Kale user tags a code cell: `imports` when it only imports, `functions` when it only
 * imports and defines (at least one `def` or `class`), else a block; `empty` when it holds no
 * statement. A cell that does not parse is a block.
 */
export function kaleRoleOfCell(source: string): 'imports' | 'functions' | 'block' | 'empty' {
  const tree = parseWithLezer(toPlainPython(source).code);
  if (!('topNode' in tree)) return 'block';
  let broken = false;
  tree.iterate({ enter: (node) => void (broken ||= node.type.isError) });
  if (broken) return 'block';
  let imports = 0;
  let definitions = 0;
  let others = 0;
  for (let node = tree.topNode.firstChild; node !== null; node = node.nextSibling) {
    if (node.name === 'Comment' || node.name === 'PassStatement') continue; // a line magic: `pass  # %…`
    if (node.name === 'ImportStatement') imports++;
    else if (['FunctionDefinition', 'ClassDefinition', 'DecoratedStatement'].includes(node.name))
      definitions++;
    else others++;
  }
  if (others > 0) return 'block';
  if (definitions > 0) return 'functions';
  return imports > 0 ? 'imports' : 'empty';
}

export function isTagging(name: string): name is Tagging {
  return (ALL_TAGGINGS as readonly string[]).includes(name);
}

/** True when a code cell of the notebook has a Kale or Cellflow role tag (`block:`, `step:`, `skip`...) or `prev:`. */
export function hasPipelineTags(notebook: Notebook): boolean {
  return notebook.cells.some((cell) => {
    if (cell.cell_type !== 'code') return false;
    const { tags } = parseCellTags(cell.metadata.tags ?? []);
    return tags.role.kind !== 'continue' || tags.prev.length > 0;
  });
}

/**
 * The notebook tagged as a pipeline: `per-cell` makes each code cell its own step `c<N>` (N its
 * position among code cells); `per-section` starts a step `s<K>` at the first code cell after each
 * markdown cell (code before any markdown opens the first one), so a section's cells form a step;
 * `kale-cells` and `kale-sections` tag as a Kale user does (`kaleRoleOfCell`): `imports` and
 * `functions` cells, the others `block:` per cell (`c<N>`) or per section (`s<K>`, named again on
 * a section's block cell after an `imports` or `functions` cell, which Kale continues);
 * `kale` keeps the notebook's own tags.
 */
export function tagNotebook(notebook: Notebook, tagging: Tagging): Notebook {
  if (tagging === 'kale') return notebook;
  const kaleStyle = tagging === 'kale-cells' || tagging === 'kale-sections';
  let code = 0;
  let section = -1;
  let newSection = true;
  // The role the cell above left open: a section's later untagged cells continue it.
  let open: 'block' | 'other' = 'other';
  let blocks = 0;
  const cells = notebook.cells.map((cell) => {
    if (cell.cell_type !== 'code') {
      if (cell.cell_type === 'markdown') newSection = true;
      return cell;
    }
    if (newSection) section++;
    let tags: string[] = [];
    if (tagging === 'per-cell') tags = [`step:c${code}`];
    else if (tagging === 'per-section') tags = newSection ? [`step:s${section}`] : [];
    else if (kaleStyle) {
      const role = kaleRoleOfCell(cell.source);
      if (role === 'imports' || role === 'functions') {
        tags = [role];
        open = 'other';
      } else if (role === 'block' || newSection || open !== 'block') {
        if (tagging === 'kale-cells') tags = role === 'empty' ? [] : [`block:c${code}`];
        else if (newSection || open !== 'block') tags = [`block:s${section}`];
        if (tags.length > 0) {
          open = 'block';
          blocks++;
        }
      }
    }
    code++;
    newSection = false;
    return { ...cell, metadata: { ...cell.metadata, tags } };
  });
  // Only imports and definitions: a Kale user tags no cell, and the notebook runs whole.
  if (kaleStyle && blocks === 0) return notebook;
  return { ...notebook, cells };
}

/**
 * The example's notebook without the cells at `dropped`, tagged: with `kale`, a dropped code cell's
 * tags move to the next code cell kept when that one has no role tag of its own (it continued the
 * dropped cell's step), so the steps are the author's; a dropped `skip` cell's do not (the cell
 * after it joins the block before it either way). A `prev:` naming a step all of whose cells were
 * dropped goes too.
 */
export function taggedExampleNotebook(
  example: FidelityExample,
  tagging: Tagging,
  dropped: readonly number[] = [],
): Notebook {
  if (tagging !== 'kale') return tagNotebook(exampleNotebook(example, dropped), tagging);
  const notebook = exampleNotebook(example);
  const drop = new Set(dropped);
  const cells = [...notebook.cells];
  let carried: string[] = [];
  for (const [i, cell] of cells.entries()) {
    if (cell.cell_type !== 'code') continue;
    const own = cell.metadata.tags ?? [];
    if (drop.has(i)) {
      // A `skip` cell is never the block above (Kale's rule), so its tags are not carried on.
      const role = parseCellTags(own).tags.role.kind;
      if (role !== 'continue' && role !== 'skip') carried = [...own];
      continue;
    }
    if (carried.length > 0 && parseCellTags(own).tags.role.kind === 'continue') {
      cells[i] = { ...cell, metadata: { ...cell.metadata, tags: [...carried, ...own] } };
    }
    carried = [];
  }
  return withoutPrevOfDroppedSteps(withoutCells({ ...notebook, cells }, dropped));
}

/** The notebook without `prev:` tags naming a step none of its cells start any more. */
function withoutPrevOfDroppedSteps(notebook: Notebook): Notebook {
  const steps = new Set(
    notebook.cells.flatMap((cell) => {
      const { role } = parseCellTags(cell.metadata.tags ?? []).tags;
      return cell.cell_type === 'code' && role.kind === 'step' ? [role.name] : [];
    }),
  );
  const cells = notebook.cells.map((cell) => {
    const tags = cell.metadata.tags ?? [];
    const kept = tags.filter((tag) =>
      parseCellTags([tag]).tags.prev.every((name) => steps.has(name)),
    );
    return kept.length === tags.length
      ? cell
      : { ...cell, metadata: { ...cell.metadata, tags: kept } };
  });
  return { ...notebook, cells };
}

/**
 * The code cells of a tagged notebook outside every step's cells: `leftOut`, those no step runs
 * (`skip` cells and the untagged cells that follow them, blank cells before the first step), which
 * the pipeline leaves out by design; `asUnits`, the `imports`, `functions` and
 * `pipeline-parameters` cells that steps run again before their own cells and do not record (they
 * hold only imports, definitions, configuration and parameters, so print and show nothing).
 */
export function cellsOutsideSteps(notebook: Notebook): { leftOut: number[]; asUnits: number[] } {
  const { graph } = analyzeNotebook(JSON.stringify(notebook));
  const inSteps = new Set([
    ...(graph?.steps ?? []).flatMap((s) => s.cells),
    ...(graph?.metrics ?? []).map((m) => m.cell),
  ]);
  const units = new Set([
    ...(graph?.preludeCells ?? []),
    ...(graph?.parameters ?? []).map((p) => p.cell),
  ]);
  const outside = notebook.cells.flatMap((c, i) =>
    c.cell_type === 'code' && !inSteps.has(i) ? [i] : [],
  );
  return {
    leftOut: outside.filter((i) => !units.has(i)),
    asUnits: outside.filter((i) => units.has(i)),
  };
}

/** Step-name-safe, file-name-safe form of an example's name (`svm/plot_iris_svc` -> `svm__plot_iris_svc`). */
export function exampleSlug(name: string): string {
  return name.replace(/[^A-Za-z0-9_]+/g, '__');
}
