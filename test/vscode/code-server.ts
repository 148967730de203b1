/**
 * A real VS Code for tests: code-server (installed by scripts/setup-code-server.sh, cached outside
 * the repository) in its own process group, driven by headless Chromium through playwright-core.
 * Everything started here is stopped by `stop()`: the process group, the browser, the temp dirs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CODE_SERVER_VERSION = '4.139.1';
export const REPO = resolve(import.meta.dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';

export function codeServerPath(): string | undefined {
  const cache = process.env.CELLFLOW_CACHE_DIR ?? '/var/cache/cellflow';
  const bin = join(cache, `code-server-${CODE_SERVER_VERSION}`, 'code-server');
  return existsSync(bin) && existsSync(CHROMIUM) ? bin : undefined;
}

/** Why the VS Code tests cannot run here, or undefined when they can. */
export function missingHost(): string | undefined {
  if (codeServerPath() !== undefined) return undefined;
  return 'code-server or Chromium is missing: run `bash scripts/setup-code-server.sh`';
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok || res.status === 302) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer at ${url} within ${timeoutMs} ms`);
}

export interface CodeServerOptions {
  /** Folder opened in the workbench. */
  readonly workspace: string;
  /** User settings (settings.json). */
  readonly settings?: Record<string, unknown>;
  /** Extra environment for the server and its extension hosts. */
  readonly env?: NodeJS.ProcessEnv;
  /** Open the folder in restricted mode (workspace trust on, folder not trusted). Default false. */
  readonly untrusted?: boolean;
}

export interface CodeServer {
  readonly url: string;
  readonly log: () => string;
  /** Opens the workbench in Chromium; `payload` becomes the URL's `payload` (dev extension, tests). */
  open(payload?: [string, string][], onPage?: (page: Page) => Promise<void>): Promise<Page>;
  stop(): Promise<void>;
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const bin = codeServerPath();
  if (bin === undefined) throw new Error(missingHost());
  const home = mkdtempSync(join(tmpdir(), 'cellflow-code-server-'));
  const userData = join(home, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': options.untrusted === true,
      'security.workspace.trust.startupPrompt': 'never',
      'security.workspace.trust.emptyWindow': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'workbench.enableExperiments': false,
      ...options.settings,
    }),
  );
  const config = join(home, 'config.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');
  const port = await freePort();
  const args = [
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--user-data-dir',
    userData,
    '--extensions-dir',
    join(home, 'extensions'),
    '--config',
    config,
    '--disable-telemetry',
    '--disable-update-check',
    ...(options.untrusted === true ? [] : ['--disable-workspace-trust']),
    '--reconnection-grace-time',
    '30',
    '--vscode-option',
    'enable-smoke-test-driver',
    options.workspace,
  ];
  let output = '';
  const child = spawn(bin, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      XDG_CONFIG_HOME: join(home, 'xdg-config'),
      XDG_DATA_HOME: join(home, 'xdg-data'),
      XDG_CACHE_HOME: join(home, 'xdg-cache'),
      ...options.env,
    },
  });
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const url = `http://127.0.0.1:${port}`;
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
    rmSync(home, { recursive: true, force: true });
  };

  try {
    await waitForHttp(`${url}/healthz`, child, 60_000);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output}`);
  }

  return {
    url,
    log: () => output,
    stop,
    async open(payload, onPage) {
      browser ??= await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      if (onPage !== undefined) await onPage(page);
      const query = new URLSearchParams({ folder: options.workspace });
      if (payload !== undefined) query.set('payload', JSON.stringify(payload));
      await page.goto(`${url}/?${query.toString()}`);
      return page;
    },
  };
}
