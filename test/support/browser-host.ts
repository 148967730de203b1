/**
 * A server under test driven by headless Chromium (playwright-core over the system's Chromium):
 * the server runs in its own process group with its output kept in memory, is ready once an HTTP
 * URL answers, and `stop()` ends everything started here: the browser, the whole process group
 * (SIGTERM, then SIGKILL after 5 s, so no watcher or child is left behind) and the server's home.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface BrowserHostOptions {
  /** What the server is, for messages ("code-server"). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** The server's whole environment. */
  readonly env: NodeJS.ProcessEnv;
  /** The port the server listens on, on 127.0.0.1 (`freePort()` in test/cluster/processes.ts). */
  readonly port: number;
  /** A temp folder of the server's, removed by `stop()`. */
  readonly home: string;
  /** The path and query that answer once the server is ready (`/healthz`). */
  readonly readyPath: string;
  /** Whether a ready answer is good (default: a 2xx status). */
  readonly isReady?: (res: Response) => boolean;
  /** How long the server may take to answer (default 60 s). */
  readonly readyTimeoutMs?: number;
}

export interface BrowserHost {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Everything the server wrote to stdout and stderr so far. */
  readonly log: () => string;
  /** A new 1400×900 page, in a Chromium launched on first use. */
  newPage(): Promise<Page>;
  /** Closes the browser, ends the process group, removes the home folder. */
  readonly stop: () => Promise<void>;
}

/** Starts the server and waits until it answers; on failure stops it and throws with its log. */
export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  let output = '';
  const child = spawn(options.command, options.args, {
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env,
  });
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const url = `http://127.0.0.1:${options.port}`;
  let browser: Browser | undefined;

  const stop = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    if (child.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the whole group is gone
      }
    }
    rmSync(options.home, { recursive: true, force: true });
  };

  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const isReady = options.isReady ?? ((res: Response) => res.ok);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`${options.name} exited with ${child.exitCode}:\n${output}`);
    }
    try {
      if (isReady(await fetch(`${url}${options.readyPath}`))) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${options.name} did not answer at ${url} within ${timeoutMs} ms:\n${output}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    log: () => output,
    stop,
    async newPage() {
      browser ??= await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      return browser.newPage({ viewport: { width: 1400, height: 900 } });
    },
  };
}
