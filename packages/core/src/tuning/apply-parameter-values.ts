/**
 * Writes new default values into the notebook's parameters cell, changing only the bytes of those
 * values: every other cell, output, key order, indentation and comment stays byte-identical. Used by
 * `cellflow tune --apply-best` and the editors' "Apply Best Parameters".
 */
import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser';
import type { Diagnostic } from '../diagnostics.js';
import type { PipelineGraph } from '../graph/pipeline-graph.js';
import { readParameterAssignments, type ParameterValue } from '../python/read-literals.js';

export interface ParameterChange {
  readonly name: string;
  readonly cell: number;
  readonly line: number;
  /** The value's source text before and after. */
  readonly before: string;
  readonly after: string;
}

export interface ApplyParameterValuesResult {
  /** The notebook's new text, or the input unchanged when there are errors. */
  readonly text: string;
  readonly changes: ParameterChange[];
  readonly diagnostics: Diagnostic[];
}

function problem(cell: number | null, line: number | null, message: string): Diagnostic {
  return { severity: 'error', code: 'cannot-apply-parameters', cell, line, message };
}

/** A Python literal for `value`, of the parameter's type, in the quote style of `previous`. */
export function formatPythonLiteral(
  value: ParameterValue,
  type: string,
  previous = '',
): string | undefined {
  switch (type) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? String(value) : undefined;
    case 'float': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
      const s = String(value);
      return /[.eE]/.test(s) ? s : `${s}.0`;
    }
    case 'bool':
      return typeof value === 'boolean' ? (value ? 'True' : 'False') : undefined;
    case 'str': {
      if (typeof value !== 'string') return undefined;
      const quote = /^[rRuU]?'/.test(previous) && !previous.startsWith("'''") ? "'" : '"';
      const body = value
        .replace(/\\/g, '\\\\')
        .replace(/\n/g, '\\n')
        .replace(/\r/g, '\\r')
        .replace(/\t/g, '\\t')
        .split(quote)
        .join(`\\${quote}`);
      return `${quote}${body}${quote}`;
    }
    default:
      return undefined;
  }
}

interface SourceLine {
  /** The JSON string token holding this line (or the whole source when it is one string). */
  readonly node: Node;
  readonly text: string;
  /** Offset of `text` in the joined cell source. */
  readonly start: number;
}

function sourceLinesOf(source: Node): SourceLine[] | undefined {
  const tokens =
    source.type === 'string' ? [source] : source.type === 'array' ? (source.children ?? []) : [];
  if (tokens.length === 0 && source.type !== 'array') return undefined;
  const lines: SourceLine[] = [];
  let start = 0;
  for (const node of tokens) {
    if (node.type !== 'string' || typeof node.value !== 'string') return undefined;
    lines.push({ node, text: node.value, start });
    start += node.value.length;
  }
  return lines;
}

/**
 * Sets parameters' default values in the parameters cell of `notebookText` (the file's exact text).
 * `graph` is the compiled pipeline of that text (it says which cell holds each parameter).
 */
export function applyParameterValues(
  notebookText: string,
  graph: PipelineGraph,
  values: Readonly<Record<string, ParameterValue>>,
): ApplyParameterValuesResult {
  const diagnostics: Diagnostic[] = [];
  const tree = parseTree(notebookText);
  if (tree === undefined)
    return {
      text: notebookText,
      changes: [],
      diagnostics: [problem(null, null, 'The notebook is not valid JSON; nothing was changed.')],
    };
  // Edits as [from, to, replacement] on the file text, applied from the end.
  const edits: [number, number, string][] = [];
  const changes: ParameterChange[] = [];
  const byCell = new Map<number, string[]>();
  for (const name of Object.keys(values)) {
    const param = graph.parameters.find((p) => p.name === name);
    if (param === undefined) {
      diagnostics.push(
        problem(
          null,
          null,
          `\`${name}\` is not in the parameters cell (parameters: ${graph.parameters.map((p) => p.name).join(', ') || 'none'}). Nothing was changed.`,
        ),
      );
      continue;
    }
    byCell.set(param.cell, [...(byCell.get(param.cell) ?? []), name]);
  }
  for (const [cell, names] of byCell) {
    const sourceNode = findNodeAtLocation(tree, ['cells', cell, 'source']);
    const lines = sourceNode === undefined ? undefined : sourceLinesOf(sourceNode);
    if (lines === undefined) {
      diagnostics.push(
        problem(cell, null, 'The parameters cell has no readable source; nothing was changed.'),
      );
      continue;
    }
    const code = lines.map((l) => l.text).join('');
    const { parameters } = readParameterAssignments(code);
    // Edits per source line ([from, to, text] within the line), so values sharing a line combine.
    const lineEdits = new Map<number, [number, number, string][]>();
    for (const name of names) {
      const found = parameters.find((p) => p.name === name);
      const param = graph.parameters.find((p) => p.name === name)!;
      if (found === undefined) {
        diagnostics.push(
          problem(
            cell,
            param.line,
            `\`${name}\` is no longer a literal assignment; nothing was changed.`,
          ),
        );
        continue;
      }
      const before = code.slice(found.valueFrom, found.valueTo);
      const after = formatPythonLiteral(values[name]!, found.type, before);
      if (after === undefined) {
        diagnostics.push(
          problem(
            cell,
            found.line,
            `\`${name}\` is ${found.type === 'int' ? 'an' : 'a'} ${found.type} (\`${before}\`), but the new value ${JSON.stringify(values[name])} is not. Nothing was changed.`,
          ),
        );
        continue;
      }
      const at = lines.findIndex(
        (l) => found.valueFrom >= l.start && found.valueTo <= l.start + l.text.length,
      );
      if (at < 0) {
        diagnostics.push(
          problem(
            cell,
            found.line,
            `\`${name}\`'s value spans several lines; set it by hand. Nothing was changed.`,
          ),
        );
        continue;
      }
      changes.push({ name, cell, line: found.line, before, after });
      if (before === after) continue;
      const start = lines[at]!.start;
      lineEdits.set(at, [
        ...(lineEdits.get(at) ?? []),
        [found.valueFrom - start, found.valueTo - start, after],
      ]);
    }
    for (const [at, list] of lineEdits) {
      const line = lines[at]!;
      let text = line.text;
      for (const [from, to, after] of list.sort((x, y) => y[0] - x[0]))
        text = text.slice(0, from) + after + text.slice(to);
      edits.push([line.node.offset, line.node.offset + line.node.length, JSON.stringify(text)]);
    }
  }
  if (diagnostics.length > 0) return { text: notebookText, changes: [], diagnostics };
  let text = notebookText;
  for (const [from, to, replacement] of edits.sort((a, b) => b[0] - a[0]))
    text = text.slice(0, from) + replacement + text.slice(to);
  return { text, changes, diagnostics };
}
