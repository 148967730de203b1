/** What commands write to, and the exit code they leave: the only process I/O a command touches. */
export interface CliContext {
  out(line: string): void;
  err(line: string): void;
  exitCode: number;
  /** Standard output is a terminal: live progress may redraw a line. */
  readonly isTTY?: boolean;
  /** Writes to standard output without adding a newline (for redrawing a progress line). */
  write?(text: string): void;
  /** Calls `handler` on Ctrl-C (SIGINT), SIGTERM or SIGHUP instead of dying; returns the undo. */
  onInterrupt?(handler: (signal: NodeJS.Signals) => void): () => void;
}

const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function processContext(): CliContext {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    exitCode: 0,
    isTTY: process.stdout.isTTY === true,
    write: (text) => process.stdout.write(text),
    onInterrupt: (handler) => {
      for (const s of INTERRUPTS) process.on(s, handler);
      return () => {
        for (const s of INTERRUPTS) process.off(s, handler);
      };
    },
  };
}
