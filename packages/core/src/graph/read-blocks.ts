/**
 * Pass 2: cells -> blocks. Every code cell gets its role from its tags; an untagged cell joins the
 * block above it (Kale's rule). Tag problems become diagnostics with a fix.
 */
import type { Diagnostic } from '../diagnostics.js';
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

export function readBlocks(notebook: Notebook): { blocks: Block[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const blocks: Block[] = [];
  const stepByName = new Map<string, Block>();
  let current: Block | null = null;

  for (const cell of notebook.cells) {
    if (cell.kind !== 'code') continue;
    const { tags, problems } = parseCellTags(cell.tags);
    for (const p of problems) {
      const replaced = cell.tags
        .map((t) => (t === p.tag || t.trim() === p.tag ? p.replacement : t))
        .filter((t): t is string => t !== undefined);
      diagnostics.push({
        severity: p.code === 'unknown-tag' ? 'warning' : 'error',
        code: p.code,
        cell: cell.index,
        line: null,
        message: `Cell ${cell.index}: ${p.message}`,
        ...(p.replacement !== undefined
          ? {
              fix: {
                title: `Replace \`${p.tag}\` with \`${p.replacement}\``,
                tags: { cell: cell.index, tags: replaced },
              },
            }
          : {}),
      });
    }
    const role = tags.role;
    if (role.kind === 'continue') {
      if (current === null) {
        if (!isBlank(cell.source)) {
          // Reported by the graph builder, which knows whether the code only imports.
          current = { kind: 'untagged', name: '', cells: [cell.index], tags: [tags] };
          blocks.push(current);
        }
        continue;
      }
      current.cells.push(cell.index);
      current.tags.push(tags);
      if (current.kind !== 'step' && hasModifiers(tags)) {
        diagnostics.push({
          severity: 'warning',
          code: 'tag-ignored',
          cell: cell.index,
          line: null,
          message: `Cell ${cell.index} continues a \`${current.kind}\` cell, so its step tags (${formatCellTags({ ...tags, foreign: [] }).join(', ')}) do nothing. Fix: move them to a \`step:\` cell.`,
        });
      }
      continue;
    }
    if (role.kind === 'step') {
      if (current?.kind === 'step' && current.name === role.name) {
        current.cells.push(cell.index);
        current.tags.push(tags);
        continue;
      }
      const existing = stepByName.get(role.name);
      if (existing !== undefined) {
        diagnostics.push({
          severity: 'error',
          code: 'duplicate-step',
          cell: cell.index,
          line: null,
          message:
            `Step \`${role.name}\` is already defined at cell ${existing.cells[0]}; a step's cells must be next to each other. ` +
            `Fix: rename this one (e.g. \`step:${role.name}_2\`) or move the cell next to the first.`,
          fix: {
            title: `Rename to \`${role.name}_2\``,
            tags: {
              cell: cell.index,
              tags: formatCellTags({ ...tags, role: { kind: 'step', name: `${role.name}_2` } }),
            },
          },
        });
        // Keep analysing: the cell continues whatever block is open.
        if (current !== null) {
          current.cells.push(cell.index);
          current.tags.push(tags);
        }
        continue;
      }
      current = { kind: 'step', name: role.name, cells: [cell.index], tags: [tags] };
      stepByName.set(role.name, current);
      blocks.push(current);
      continue;
    }
    if (hasModifiers(tags)) {
      diagnostics.push({
        severity: 'warning',
        code: 'tag-ignored',
        cell: cell.index,
        line: null,
        message: `Cell ${cell.index} is a \`${role.kind}\` cell, so its step tags do nothing there. Fix: move them to a \`step:\` cell.`,
      });
    }
    current = { kind: role.kind, name: '', cells: [cell.index], tags: [tags] };
    blocks.push(current);
  }
  return { blocks, diagnostics };
}
