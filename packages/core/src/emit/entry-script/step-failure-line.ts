/**
 * How a failed step says why, in its log: the step runtime (runtime.py) writes, on stderr, the
 * notebook-cell traceback and then one failure line, its last word:
 *
 *   Cellflow: Step `NAME` failed at cell N, line L: TYPE: MESSAGE     the cell code raised
 *   Cellflow: Step `NAME` failed at the step's setup: TYPE: MESSAGE   before any cell ran
 *   Cellflow: MESSAGE                                                 any other refusal (a missing
 *                                                                     output, a failed install...)
 *
 * N counts cells as a person does (from 1, markdown cells included); L is the line within the
 * cell, from 1. Readers of a step's log where nothing else reports the failure (a cluster pod's
 * log) use `readStepFailure`; a test runs the runtime through it (backend's step-failure-line test).
 */

export const FAILURE_LINE_PREFIX = 'Cellflow: ';

/** The first line of the Python traceback the runtime writes before the failure line. */
export const TRACEBACK_HEADER = 'Traceback (most recent call last):';

const FAILED_AT_CELL = /^Cellflow: (Step `[^`]+` failed at cell (\d+), line (\d+): .*)$/;
const FAILURE_LINE = /^Cellflow: (.*)$/;

/** What a step's log says about its failure. */
export interface StepFailureReport {
  /** The failure line's message (after `Cellflow: `). */
  readonly message: string;
  /** 0-based notebook cell index, when the failure is in a cell. */
  readonly cell: number | null;
  /** 1-based line within that cell. */
  readonly line: number | null;
  /** Python exception type (`ZeroDivisionError`), when the cell code raised. */
  readonly type?: string;
  /** The traceback with frames named `<cell N>`, when the cell code raised. */
  readonly traceback?: string;
}

function withoutCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * The failure a step's log reports: its last failure line, located in the notebook when it names
 * a cell, with the traceback before it. `undefined` when the log has no failure line.
 */
export function readStepFailure(log: string): StepFailureReport | undefined {
  const lines = log.split('\n').map(withoutCarriageReturn);
  let index = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]!.startsWith(FAILURE_LINE_PREFIX) && FAILURE_LINE.test(lines[i]!)) {
      // A cell's exception wins over runtime notes printed after it.
      if (index < 0) index = i;
      if (FAILED_AT_CELL.test(lines[i]!)) {
        index = i;
        break;
      }
    }
  }
  if (index < 0) return undefined;
  const atCell = FAILED_AT_CELL.exec(lines[index]!);
  if (atCell === null)
    return { message: FAILURE_LINE.exec(lines[index]!)![1]!, cell: null, line: null };
  const tracebackAt = lines.lastIndexOf(TRACEBACK_HEADER, index);
  const traceback =
    tracebackAt >= 0 ? lines.slice(tracebackAt, index).join('\n').trimEnd() : undefined;
  const type =
    traceback !== undefined
      ? /^(\w+(?:\.\w+)*)(?::|$)/.exec(traceback.split('\n').pop() ?? '')?.[1]
      : undefined;
  return {
    message: atCell[1]!,
    cell: Number(atCell[2]) - 1,
    line: Number(atCell[3]),
    ...(type !== undefined ? { type } : {}),
    ...(traceback !== undefined ? { traceback } : {}),
  };
}
