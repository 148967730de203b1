/**
 * A step's logs in a terminal: a `vscode.Pseudoterminal` fed by `Backend.logs` (lines so far, then
 * live ones until the step ends). Closing the terminal stops reading.
 */
import * as vscode from 'vscode';
import type { Backend, RunRef } from '@cellflow/backend';

/** Terminal text wants CRLF line ends. */
function terminalLine(line: string): string {
  return `${line.replace(/\r?\n/g, '\r\n')}\r\n`;
}

export interface LogTerminal {
  readonly terminal: vscode.Terminal;
  /** Lines written so far (for tests). */
  readonly lines: string[];
  /** Resolves when the step's log has ended or the terminal was closed. */
  readonly done: Promise<void>;
}

export function openLogTerminal(backend: Backend, ref: RunRef, step: string): LogTerminal {
  const write = new vscode.EventEmitter<string>();
  const lines: string[] = [];
  let closed = false;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const stream = async (): Promise<void> => {
    try {
      for await (const line of backend.logs(ref, step)) {
        if (closed) break;
        lines.push(line);
        write.fire(terminalLine(line));
      }
      write.fire(terminalLine(`\x1b[2m--- end of ${step}'s log ---\x1b[0m`));
    } catch (error) {
      write.fire(
        terminalLine(`\x1b[31m${error instanceof Error ? error.message : String(error)}\x1b[0m`),
      );
    } finally {
      finish();
    }
  };
  const pty: vscode.Pseudoterminal = {
    onDidWrite: write.event,
    open: () => void stream(),
    close: () => {
      closed = true;
      write.dispose();
      finish();
    },
  };
  const terminal = vscode.window.createTerminal({
    name: `Cellflow: ${step} (${ref.id.slice(0, 12)})`,
    pty,
    iconPath: new vscode.ThemeIcon('output'),
  });
  terminal.show(true);
  return { terminal, lines, done };
}
