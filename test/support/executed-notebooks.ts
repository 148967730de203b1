/**
 * Reading executed notebooks in tests (issue 18): nbformat's own validation, each cell's output
 * kinds, and whether an image output decodes.
 */
import { execFileSync } from 'node:child_process';
import { PYTHON } from './paths.js';

const PNG_HEADER = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface Output {
  output_type: string;
  name?: string;
  text?: string;
  data?: Record<string, unknown>;
  execution_count?: number | null;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface Cell {
  cell_type: string;
  source: string;
  execution_count?: number | null;
  outputs?: Output[];
}

/** nbformat's own validation of the file: '' when valid, else its message. */
export function nbformatProblems(path: string): string {
  return execFileSync(PYTHON, [
    '-c',
    'import json, sys, nbformat\ntry:\n    nbformat.validate(json.load(open(sys.argv[1])))\nexcept Exception as e:\n    print(e)',
    path,
  ])
    .toString()
    .trim();
}

/** A cell's outputs by kind: `stream:stdout`, `display_data`, `execute_result`, `error`. */
export function shape(cell: Cell): string[] {
  return (cell.outputs ?? []).map((o) =>
    o.output_type === 'stream' ? `stream:${o.name}` : o.output_type,
  );
}

export function decodesAsPng(output: Output): boolean {
  const data = output.data?.['image/png'];
  return typeof data === 'string' && Buffer.from(data, 'base64').subarray(0, 8).equals(PNG_HEADER);
}
