/** What commands write to, and the exit code they leave: the only process I/O a command touches. */
export interface CliContext {
  out(line: string): void;
  err(line: string): void;
  exitCode: number;
  /** Standard output is a terminal: live progress may redraw a line. */
  readonly isTTY?: boolean;
  /** The terminal's width in characters, when standard output is a terminal. */
  readonly columns?: number;
  /** Writes to standard output without adding a newline (for redrawing a progress line). */
  write?(text: string): void;
  /**
   * Calls `handler` on Ctrl-C (SIGINT), SIGTERM, SIGHUP, or when standard output is closed by its
   * reader (`| head`), instead of dying; returns the undo.
   */
  onInterrupt?(handler: (signal: NodeJS.Signals) => void): () => void;
}

const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function processContext(): CliContext {
  const handlers = new Set<(signal: NodeJS.Signals) => void>();
  let stdoutClosed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutClosed = true;
    for (const h of handlers) h('SIGPIPE');
  });
  const write = (text: string): void => {
    if (!stdoutClosed) process.stdout.write(text);
  };
  return {
    out: (line) => write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    exitCode: 0,
    isTTY: process.stdout.isTTY === true,
    get columns() {
      return process.stdout.columns;
    },
    write,
    onInterrupt: (handler) => {
      handlers.add(handler);
      for (const s of INTERRUPTS) process.on(s, handler);
      return () => {
        handlers.delete(handler);
        for (const s of INTERRUPTS) process.off(s, handler);
      };
    },
  };
}
