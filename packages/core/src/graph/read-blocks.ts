/**
 * Pass 2: cells -> blocks, with Kale's rules. Every code cell gets its role from its tags; an
 * untagged cell joins the block above it, where a `skip` cell never counts as the block above (the
 * cell joins the block before the skip). A step name used again later in the notebook continues
 * that step: its cells are added to it. Tag problems become diagnostics with a fix.
 *
 * Untagged cells above every tag stay out of the pipeline, as Kale leaves them out (a notebook's
 * set-up: `!pip install`, downloads). When a step uses a name only they define, the graph builder
 * reads the blocks again with `joinLeadingCells`: then they are the first cells of the first step.
 * A notebook with no tags at all (but `skip`) runs whole, as one step.
 */
import { diagnosticFor, type Diagnostic } from '../diagnostics.js';
import type { Notebook } from '../notebook/notebook.js';
import { formatCellTags, parseCellTags, type CellTags } from '../tags/cell-tags.js';

export type BlockKind =
  'step' | 'imports' | 'functions' | 'parameters' | 'metrics' | 'skip' | 'untagged';

export interface Block {
  readonly kind: BlockKind;
  /** Step name (steps only). */
  readonly name: string;
  readonly cells: number[];
  /** Tags of every cell of the block, in order (modifiers on continuation cells apply to the step). */
  readonly tags: CellTags[];
}

function isBlank(source: string): boolean {
  return source.split('\n').every((l) => l.trim() === '' || l.trim().startsWith('#'));
}

/** True when a tag list says something beyond its role (resources, prev, ...). */
function hasModifiers(tags: CellTags): boolean {
  return formatCellTags({ ...tags, role: { kind: 'continue' }, foreign: [] }).length > 0;
}

/** A run of consecutive code cells of one block; a step continued later has several. */
export interface Segment {
  readonly block: Block;
  readonly cells: number[];
}

export interface ReadBlocksOptions {
  /** The untagged cells above every tag start the first step, instead of staying out. */
  readonly joinLeadingCells?: boolean;
}

export function readBlocks(
  notebook: Notebook,
  options: ReadBlocksOptions = {},
): {
  blocks: Block[];
  /** Every block's cells in notebook order, as runs of consecutive code cells. */
  segments: Segment[];
  diagnostics: Diagnostic[];
} {
  const diagnostics: Diagnostic[] = [];
  const blocks: Block[] = [];
  const segments: Segment[] = [];
  const stepByName = new Map<string, Block>();
  let current: Block | null = null;
  const addCell = (block: Block, cell: number, tags: CellTags): void => {
    block.cells.push(cell);
    block.tags.push(tags);
    const last = segments[segments.length - 1];
    if (last?.block === block) last.cells.push(cell);
    else segments.push({ block, cells: [cell] });
  };

  for (const cell of notebook.cells) {
    if (cell.kind !== 'code') continue;
    const { tags, problems } = parseCellTags(cell.tags);
    for (const p of problems) {
      const replaced = cell.tags
        .map((t) => (t === p.tag || t.trim() === p.tag ? p.replacement : t))
        .filter((t): t is string => t !== undefined);
      diagnostics.push(
        diagnosticFor(
          p.code,
          cell.index,
          null,
          p.message,
          p.replacement !== undefined
            ? {
                title: `Replace \`${p.tag}\` with \`${p.replacement}\``,
                tags: { cell: cell.index, tags: replaced },
              }
            : undefined,
        ),
      );
    }
    const role = tags.role;
    if (role.kind === 'continue') {
      if (current === null) {
        if (!isBlank(cell.source)) {
          // Reported by the graph builder, which knows whether the code only imports.
          current = { kind: 'untagged', name: '', cells: [], tags: [] };
          blocks.push(current);
          addCell(current, cell.index, tags);
        }
        continue;
      }
      addCell(current, cell.index, tags);
      if (current.kind !== 'step' && hasModifiers(tags)) {
        diagnostics.push({
          severity: 'warning',
          code: 'tag-ignored',
          cell: cell.index,
          line: null,
          message: `This cell continues a \`${current.kind}\` cell, so its step tags (${formatCellTags({ ...tags, foreign: [] }).join(', ')}) do nothing. Fix: move them to a \`step:\` cell.`,
        });
      }
      continue;
    }
    if (role.kind === 'step') {
      // A name seen before continues that step (Kale merges a repeated name into the first).
      const existing = stepByName.get(role.name);
      if (existing !== undefined) {
        current = existing;
        addCell(existing, cell.index, tags);
        continue;
      }
      current = { kind: 'step', name: role.name, cells: [], tags: [] };
      stepByName.set(role.name, current);
      blocks.push(current);
      addCell(current, cell.index, tags);
      continue;
    }
    if (hasModifiers(tags)) {
      diagnostics.push({
        severity: 'warning',
        code: 'tag-ignored',
        cell: cell.index,
        line: null,
        message: `This cell is a \`${role.kind}\` cell, so its step tags do nothing there. Fix: move them to a \`step:\` cell.`,
      });
    }
    const block: Block = { kind: role.kind, name: '', cells: [], tags: [] };
    blocks.push(block);
    addCell(block, cell.index, tags);
    // A skip cell is never the block above: untagged cells after it join the block before it.
    if (role.kind !== 'skip' || current === null) current = block;
  }
  if (options.joinLeadingCells === true) joinLeadingCells(blocks, segments);
  if (
    blocks[0]?.kind === 'untagged' &&
    blocks.every((b) => b.kind === 'untagged' || b.kind === 'skip')
  ) {
    wholeNotebookStep(blocks, segments);
    diagnostics.push(wholeNotebookStepDiagnostic(blocks[0].cells[0]!));
  }
  return { blocks, segments, diagnostics };
}

/** The step of a notebook without step tags, which runs as one step, top to bottom. */
export const WHOLE_NOTEBOOK_STEP = 'notebook';

/** A notebook without role tags (but `skip`): its code cells are one step, as it runs whole. */
function wholeNotebookStep(blocks: Block[], segments: Segment[]): void {
  const untagged = blocks[0]!;
  const step: Block = { ...untagged, kind: 'step', name: WHOLE_NOTEBOOK_STEP };
  blocks[0] = step;
  segments.forEach((s, i) => {
    if (s.block === untagged) segments[i] = { block: step, cells: s.cells };
  });
}

function wholeNotebookStepDiagnostic(cell: number): Diagnostic {
  return {
    severity: 'info',
    code: 'whole-notebook-step',
    cell,
    line: null,
    message: `The notebook has no step tags, so it runs as one step, \`${WHOLE_NOTEBOOK_STEP}\`, top to bottom. Fix: tag the first cell of each step \`step:NAME\` to split it into steps.`,
  };
}

/** The untagged cells above every tag become the first cells of the first step, if there is one. */
function joinLeadingCells(blocks: Block[], segments: Segment[]): void {
  const leading = blocks[0];
  const first = blocks.find((b) => b.kind === 'step');
  if (leading?.kind !== 'untagged' || first === undefined) return;
  blocks.shift();
  first.cells.unshift(...leading.cells);
  first.tags.unshift(...leading.tags);
  const next = segments[1];
  if (next?.block === first)
    segments.splice(0, 2, {
      block: first,
      cells: first.cells.slice(0, leading.cells.length + next.cells.length),
    });
  else segments[0] = { block: first, cells: leading.cells };
}
