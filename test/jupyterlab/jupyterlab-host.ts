/**
 * A real JupyterLab for tests: the page is built from npm `@jupyterlab/*` packages plus the
 * Cellflow plugin (host/), served by Debian's jupyter_server + jupyterlab_server (host/main.py),
 * driven by headless Chromium through playwright-core. The webpack build is cached on disk, keyed
 * by the lockfile and every input's content, so only a change pays for a rebuild. Everything
 * started here is stopped by `stop()`: the server's process group, the browser, the temp dirs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { freePort } from '../cluster/processes.js';
import { CHROMIUM, startBrowserHost } from '../support/browser-host.js';
import { PYTHON, REPO_ROOT as REPO } from '../support/paths.js';
export { PYTHON, REPO_ROOT as REPO } from '../support/paths.js';

const HOST_DIR = join(REPO, 'test/jupyterlab/host');
const CACHE = process.env.CELLFLOW_CACHE_DIR ?? '/var/cache/cellflow';

/** The Cellflow Jupyter server extension (starts the agent, proxies /cellflow/api/*). */
export const SERVER_EXTENSION_DIR = join(REPO, 'packages/jupyterlab/jupyter_server_extension');
export const SERVER_EXTENSION = 'cellflow_jupyter';

/** Environment that lets /usr/bin/python3 import the server extension from this repository. */
export function serverExtensionEnv(): NodeJS.ProcessEnv {
  withBuildLock(join(CACHE, 'jupyterlab-page'), () =>
    run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-b', 'packages/cli']),
  );
  return {
    PYTHONPATH: SERVER_EXTENSION_DIR,
    CELLFLOW_NODE: process.execPath,
    CELLFLOW_CLI: join(REPO, 'packages/cli/bin/cellflow.js'),
    CELLFLOW_PYTHON: PYTHON,
  };
}

/** Why the JupyterLab tests cannot run here, or undefined when they can. */
export function missingHost(options: { serverExtension?: boolean } = {}): string | undefined {
  if (options.serverExtension === true && !existsSync(join(SERVER_EXTENSION_DIR, SERVER_EXTENSION)))
    return `the Cellflow server extension is not in this checkout (${SERVER_EXTENSION_DIR})`;
  if (!existsSync(CHROMIUM))
    return `Chromium is missing (${CHROMIUM}): run \`bash scripts/setup-machine.sh\``;
  const py = spawnSync(PYTHON, ['-c', 'import jupyter_server, jupyterlab_server'], {
    encoding: 'utf8',
  });
  if (py.status !== 0)
    return 'jupyter_server or jupyterlab_server is missing for /usr/bin/python3: run `bash scripts/setup-machine.sh`';
  return undefined;
}

/**
 * Why a JupyterLab test file cannot run here (its tests are then skipped with this reason), or
 * undefined. Throws instead when CELLFLOW_REQUIRE_JUPYTERLAB=1 (CI): there a missing host is an error.
 */
export function skipReason(options: { serverExtension?: boolean } = {}): string | undefined {
  const missing = missingHost(options);
  if (missing !== undefined && process.env.CELLFLOW_REQUIRE_JUPYTERLAB === '1')
    throw new Error(missing);
  return missing;
}

/** Where the JupyterLab tests put their screenshots. */
export const SHOTS = join(REPO, 'artifacts', 'jupyterlab');

/**
 * Which test page: `development` bundles the Cellflow plugin from this checkout; `host` is
 * JupyterLab alone, and Cellflow comes only as a prebuilt extension found in the labextensions
 * folders (an installed package), as in a real JupyterLab.
 */
export type LabPage = 'development' | 'host';

function hashInputs(page: LabPage): string {
  const hash = createHash('sha256');
  const add = (path: string): void => {
    const s = statSync(path);
    if (s.isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        if (entry === 'node_modules' || entry === 'build' || entry.endsWith('.tsbuildinfo'))
          continue;
        add(join(path, entry));
      }
    } else if (!path.endsWith('.map') && !path.endsWith('.d.ts')) {
      hash.update(path.slice(REPO.length));
      hash.update(readFileSync(path));
    }
  };
  add(join(REPO, 'package-lock.json'));
  add(HOST_DIR);
  add(join(REPO, 'packages/jupyterlab/scripts/jupyterlab-core.cjs'));
  if (page === 'development') {
    for (const pkg of ['core', 'ui', 'backend', 'jupyterlab'])
      add(join(REPO, 'packages', pkg, 'dist'));
    for (const dir of ['schema', 'style']) add(join(REPO, 'packages/jupyterlab', dir));
  }
  return hash.digest('hex').slice(0, 16);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const r = spawnSync(command, args, {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `build` holding a lock directory, so test files running in parallel build the page once
 * (the second one then finds it in the cache). A lock older than 15 minutes is stale.
 */
function withBuildLock<T>(root: string, build: () => T): T {
  mkdirSync(root, { recursive: true });
  const lock = join(root, '.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 15 * 60_000) rmSync(lock, { recursive: true });
      } catch {
        // released meanwhile
      }
      sleepSync(500);
    }
  }
  try {
    return build();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds (or finds in the cache) the test JupyterLab page; returns its directory. */
export function buildLabPage(page: LabPage = 'development'): string {
  const root = join(CACHE, 'jupyterlab-page');
  return withBuildLock(root, () => {
    if (page === 'development')
      run(process.execPath, [
        join(REPO, 'node_modules/typescript/bin/tsc'),
        '-b',
        'packages/jupyterlab',
      ]);
    const lockfile = createHash('sha256')
      .update(readFileSync(join(REPO, 'package-lock.json')))
      .digest('hex')
      .slice(0, 16);
    const dir = join(root, `${page}-${hashInputs(page)}`);
    if (existsSync(join(dir, 'bundle.js'))) return dir;
    // One page of each kind per machine: older builds go; the webpack cache of this lockfile stays
    // (fast rebuilds).
    for (const old of readdirSync(root))
      if (!old.startsWith('.') && old !== `webpack-${lockfile}` && !old.startsWith(otherPage(page)))
        rmSync(join(root, old), { recursive: true, force: true });
    const tmp = mkdtempSync(join(root, '.build-'));
    try {
      run(
        process.execPath,
        [
          join(REPO, 'node_modules/webpack-cli/bin/cli.js'),
          '--no-color',
          '--config',
          join(HOST_DIR, 'webpack.config.cjs'),
        ],
        {
          CELLFLOW_LAB_BUILD: tmp,
          CELLFLOW_LAB_PAGE: page,
          CELLFLOW_WEBPACK_CACHE: join(root, `webpack-${lockfile}`),
        },
      );
      // The server script and its template go with the page: it then runs from the cache alone.
      cpSync(join(HOST_DIR, 'main.py'), join(tmp, 'main.py'));
      cpSync(join(HOST_DIR, 'templates'), join(tmp, 'templates'), { recursive: true });
      renameSync(tmp, dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return dir;
  });
}

function otherPage(page: LabPage): LabPage {
  return page === 'development' ? 'host' : 'development';
}

export interface JupyterLabOptions {
  /** The server's root folder (notebooks are opened relative to it). */
  readonly root: string;
  /** Jupyter server extensions to enable (module names importable by /usr/bin/python3). */
  readonly serverExtensions?: readonly string[];
  /** Extra environment for the server (PYTHONPATH, CELLFLOW_*...). */
  readonly env?: NodeJS.ProcessEnv;
  /** Extra server arguments (`--CellflowAgent.cluster=True`...). */
  readonly serverArgs?: readonly string[];
  /** Settings by plugin id (`{ 'cellflow-jupyterlab:plugin': { diagnosticsDelay: 0 } }`). */
  readonly settings?: Readonly<Record<string, Record<string, unknown>>>;
  /** The page (default `development`). */
  readonly page?: LabPage;
  /**
   * The server's Python (default /usr/bin/python3). Another one (a virtual environment) also reads
   * the Jupyter config path, as `jupyter lab` does, so what is installed there is enabled.
   */
  readonly python?: string;
}

export interface JupyterLab {
  readonly url: string;
  readonly token: string;
  readonly log: () => string;
  /** Opens JupyterLab in Chromium at `path` (e.g. `lab/tree/digits.ipynb`), waits until it is ready. */
  open(path: string): Promise<Page>;
  stop(): Promise<void>;
}

/** Opens Cellflow's side panel on `page` and waits until it shows the target (`local`, `cluster`). */
export async function openCellflowPanel(page: Page, target: 'local' | 'cluster'): Promise<void> {
  await page.locator('.jp-SideBar [data-id="cellflow-panel"]').click();
  await page
    .locator('.cf-row-target .cf-row-value', { hasText: target })
    .waitFor({ timeout: 60_000 });
}

export async function startJupyterLab(options: JupyterLabOptions): Promise<JupyterLab> {
  const build = buildLabPage(options.page);
  const python = options.python ?? PYTHON;
  const home = mkdtempSync(join(tmpdir(), 'cellflow-jupyterlab-'));
  for (const d of ['config', 'data', 'runtime', 'user/app-settings'])
    mkdirSync(join(home, d), { recursive: true });
  // No "official Jupyter news" prompt over the page.
  writeFileSync(
    join(home, 'user/app-settings/overrides.json'),
    JSON.stringify({
      '@jupyterlab/apputils-extension:notification': { fetchNews: 'false' },
      ...options.settings,
    }),
  );
  const port = await freePort();
  const token = createHash('sha256')
    .update(`${Date.now()}-${Math.random()}`)
    .digest('hex')
    .slice(0, 32);
  const host = await startBrowserHost({
    name: 'jupyter server',
    command: python,
    args: [
      join(build, 'main.py'),
      `--port=${port}`,
      '--ip=127.0.0.1',
      '--no-browser',
      '--allow-root',
      `--ServerApp.token=${token}`,
      `--ServerApp.root_dir=${options.root}`,
      ...(options.serverArgs ?? []),
    ],
    cwd: options.root,
    env: {
      ...process.env,
      ...options.env,
      CELLFLOW_LAB_BUILD: build,
      CELLFLOW_LAB_USER_DIR: join(home, 'user'),
      CELLFLOW_LAB_SERVER_EXTENSIONS: (options.serverExtensions ?? []).join(','),
      ...(python === PYTHON ? {} : { CELLFLOW_LAB_READ_CONFIG: '1' }),
      JUPYTER_CONFIG_DIR: join(home, 'config'),
      JUPYTER_DATA_DIR: join(home, 'data'),
      JUPYTER_RUNTIME_DIR: join(home, 'runtime'),
      JUPYTER_PLATFORM_DIRS: '1',
      HOME: home,
    },
    port,
    home,
    readyPath: `/api/status?token=${token}`,
  });
  return {
    url: host.url,
    token,
    log: host.log,
    async open(path: string): Promise<Page> {
      const page = await host.newPage();
      await page.goto(`${host.url}/${path}?token=${token}`);
      await page.waitForSelector('body[data-lab-ready="true"]', {
        state: 'attached',
        timeout: 60_000,
      });
      return page;
    },
    stop: host.stop,
  };
}
