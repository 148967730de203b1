/** What commands write to, and the exit code they leave: the only process I/O a command touches. */
export interface CliContext {
  out(line: string): void;
  err(line: string): void;
  exitCode: number;
}

export function processContext(): CliContext {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    exitCode: 0,
  };
}
