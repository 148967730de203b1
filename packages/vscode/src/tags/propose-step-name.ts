/**
 * The step name Set Step proposes for a cell: from what its code makes (the first function or
 * class it defines, else the first variable it assigns), never from a comment; `step_N` (the cell's
 * number as the editor shows it) when the code names nothing. Pure, no `vscode`.
 */
import { STEP_NAME_PATTERN, toStepName } from '@cellflow/core';

const DEFINITION = /^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)/;
/** `x = …`, `x: int = …`, `x, y = …`, `(x, y) = …`, `x += …` at the start of a line. */
const ASSIGNMENT = /^\(?\s*([A-Za-z_]\w*)\s*(?:,|\)|:(?!=)|[-+*/%&|^@]?=(?!=))/;

export function proposeStepName(source: string, index: number, taken: readonly string[]): string {
  let base: string | undefined;
  for (const raw of source.split('\n')) {
    if (/^\s/.test(raw)) continue; // inside a block: only top-level statements name the cell
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('%') || line.startsWith('!'))
      continue;
    const found = DEFINITION.exec(line)?.[1] ?? ASSIGNMENT.exec(line)?.[1];
    if (found !== undefined && found !== '_') {
      base = toStepName(found);
      break;
    }
  }
  if (base === undefined || !STEP_NAME_PATTERN.test(base)) base = `step_${index + 1}`;
  if (!taken.includes(base)) return base;
  for (let n = 2; ; n++) if (!taken.includes(`${base}_${n}`)) return `${base}_${n}`;
}
