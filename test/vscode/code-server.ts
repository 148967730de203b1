/**
 * A real VS Code for tests: code-server (installed by scripts/setup-code-server.sh, cached outside
 * the repository) in its own process group, driven by headless Chromium through playwright-core.
 * Everything started here is stopped by `stop()`: the process group, the browser, the temp dirs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { freePort } from '../cluster/processes.js';
import { CHROMIUM, startBrowserHost } from '../support/browser-host.js';

export const CODE_SERVER_VERSION = '4.139.1';
export { REPO_ROOT as REPO } from '../support/paths.js';

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

export interface CodeServerOptions {
  /** Folder opened in the workbench. */
  readonly workspace: string;
  /** User settings (settings.json). */
  readonly settings?: Record<string, unknown>;
  /** Extra environment for the server and its extension hosts. */
  readonly env?: NodeJS.ProcessEnv;
  /** Open the folder in restricted mode (workspace trust on, folder not trusted). Default false. */
  readonly untrusted?: boolean;
  /** `.vsix` files installed into the fresh extensions folder (`--install-extension`) before start. */
  readonly install?: readonly string[];
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
  const profile = ['--user-data-dir', userData, '--extensions-dir', join(home, 'extensions')];
  const xdg = {
    XDG_CONFIG_HOME: join(home, 'xdg-config'),
    XDG_DATA_HOME: join(home, 'xdg-data'),
    XDG_CACHE_HOME: join(home, 'xdg-cache'),
  };
  for (const vsix of options.install ?? []) {
    const r = spawnSync(bin, [...profile, '--install-extension', vsix], {
      encoding: 'utf8',
      env: { ...process.env, ...xdg, ...options.env },
    });
    if (r.status !== 0) {
      rmSync(home, { recursive: true, force: true });
      throw new Error(`code-server --install-extension ${vsix} failed:\n${r.stdout}\n${r.stderr}`);
    }
  }
  const port = await freePort();
  const args = [
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    ...profile,
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
  const host = await startBrowserHost({
    name: 'code-server',
    command: bin,
    args,
    env: {
      ...process.env,
      ...xdg,
      ...options.env,
    },
    port,
    home,
    readyPath: '/healthz',
    isReady: (res) => res.ok || res.status === 302,
  });

  return {
    url: host.url,
    log: host.log,
    stop: host.stop,
    async open(payload, onPage) {
      const page = await host.newPage();
      if (onPage !== undefined) await onPage(page);
      const query = new URLSearchParams({ folder: options.workspace });
      if (payload !== undefined) query.set('payload', JSON.stringify(payload));
      // The workbench's first load is slow on a busy 2-core machine (other builds and hosts).
      await page.goto(`${host.url}/?${query.toString()}`, { timeout: 120_000 });
      return page;
    },
  };
}
