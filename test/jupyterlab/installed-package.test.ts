/**
 * The JupyterLab integration installed the way JupyterLab users install extensions: the wheel
 * (`npm run package:jupyterlab`) goes into a fresh virtual environment with pip; Jupyter's own
 * tools find the server extension enabled and the prebuilt extension where JupyterLab looks; then
 * digits runs from the Cellflow panel of a JupyterLab page that loads the plugin as a prebuilt
 * (federated) extension from the environment's data folder, with an agent the package carries and
 * no checkout on any path. Screenshots go to artifacts/jupyterlab/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { environmentWithoutCheckout } from '../support/environment-without-checkout.js';
import {
  PYTHON,
  REPO,
  SHOTS,
  skipReason,
  startJupyterLab,
  type JupyterLab,
  openCellflowPanel,
} from './jupyterlab-host.js';

const VERSION = (
  JSON.parse(readFileSync(join(REPO, 'packages/jupyterlab/package.json'), 'utf8')) as {
    version: string;
  }
).version;
const WHEEL = join(REPO, 'artifacts', `cellflow_jupyterlab-${VERSION}-py3-none-any.whl`);
const EXTENSION = 'cellflow-jupyterlab';

function missingPackaging(): string | undefined {
  const host = skipReason();
  if (host !== undefined) return host;
  const r = spawnSync(PYTHON, ['-c', 'import build, hatchling, venv, ensurepip'], {
    encoding: 'utf8',
  });
  if (r.status === 0) return undefined;
  const missing =
    'python3-build, python3-hatchling or python3-venv is missing: run `bash scripts/setup-machine.sh`';
  if (process.env.CELLFLOW_REQUIRE_JUPYTERLAB === '1') throw new Error(missing);
  return missing;
}

function check(command: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(command, args, { cwd: REPO, encoding: 'utf8', env: env ?? process.env });
  assert.equal(r.status, 0, `${command} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

const missing = missingPackaging();

describe(
  'JupyterLab: the installed Python package',
  { skip: missing, timeout: 900_000, concurrency: 1 },
  () => {
    const home = mkdtempSync(join(tmpdir(), 'cellflow-jl-wheel-'));
    const venv = join(home, 'venv');
    const root = join(home, 'notebooks');
    const python = join(venv, 'bin', 'python');
    const data = join(venv, 'share/jupyter/labextensions', EXTENSION);
    const env = environmentWithoutCheckout(REPO);

    before(() => {
      check('bash', [join(REPO, 'scripts/package-jupyterlab.sh')]);
      check(PYTHON, ['-m', 'venv', '--system-site-packages', venv]);
      check(python, ['-m', 'pip', 'install', '--no-index', '--no-deps', '--quiet', WHEEL]);
    });
    after(() => rmSync(home, { recursive: true, force: true }));

    it('is enabled as a Jupyter server extension by the config file it installs', () => {
      const listed = check(python, ['-m', 'jupyter_server', 'extension', 'list'], {
        ...env,
        HOME: home,
        JUPYTER_CONFIG_DIR: join(home, 'config'),
      })
        // eslint-disable-next-line no-control-regex
        .replace(/\x1b\[[0-9;]*m/g, '');
      const section = listed.slice(listed.indexOf(`Config dir: ${join(venv, 'etc/jupyter')}`));
      assert.match(section, /^\s*cellflow_jupyter enabled\s*$/m, listed);
      assert.match(section, /cellflow_jupyter\s+OK/, listed);
    });

    it('puts the prebuilt extension where JupyterLab looks, and shares JupyterLab itself', () => {
      // jupyterlab_server's own lookup, the one that fills the page config.
      const found = check(
        python,
        [
          '-c',
          'import json; from jupyter_core.paths import jupyter_path; ' +
            'from jupyterlab_server.config import get_federated_extensions; ' +
            "print(json.dumps({k: v['ext_dir'] for k, v in get_federated_extensions(jupyter_path('labextensions')).items()}))",
        ],
        { ...env, HOME: home, JUPYTER_DATA_DIR: join(home, 'data') },
      );
      assert.deepEqual(JSON.parse(found), {
        [EXTENSION]: join(venv, 'share/jupyter/labextensions'),
      });
      const manifest = JSON.parse(readFileSync(join(data, 'package.json'), 'utf8')) as {
        version: string;
        jupyterlab: { _build: { load: string; extension: string } };
      };
      assert.equal(manifest.version, VERSION);
      const remoteEntry = readFileSync(join(data, manifest.jupyterlab._build.load), 'utf8');
      for (const shared of ['@jupyterlab/notebook', '@jupyterlab/apputils', '@lumino/widgets'])
        assert.ok(remoteEntry.includes(shared), `${shared} is shared, not bundled`);
      assert.ok(existsSync(join(data, `schemas/${EXTENSION}/plugin.json`)));
      // JupyterLab itself is many MB; the extension carries only Cellflow's code.
      const bytes = readdirSync(join(data, 'static')).reduce(
        (n, f) => n + statSync(join(data, 'static', f)).size,
        0,
      );
      assert.ok(bytes < 2_500_000, `static/ is ${bytes} bytes`);
    });

    it('starts the agent it carries, with Node from PATH', () => {
      const command = check(
        python,
        [
          '-c',
          'import json; from cellflow_jupyter import CellflowAgent; ' +
            "print(json.dumps(CellflowAgent().command('/notebooks')))",
        ],
        { ...env, HOME: home },
      );
      const [node, agent, ...args] = JSON.parse(command) as string[];
      assert.equal(node, join(dirname(process.execPath), 'node'));
      assert.match(
        agent ?? '',
        new RegExp(
          `^${venv}/lib/python3[.0-9]*/site-packages/cellflow_jupyter/agent/cellflow-agent\\.mjs$`,
        ),
      );
      assert.deepEqual(args.slice(0, 2), ['agent', '--port']);
    });

    describe('digits from the panel of a JupyterLab with the package installed', () => {
      let lab: JupyterLab;
      let page: Page;

      before(async () => {
        mkdirSync(root, { recursive: true });
        mkdirSync(SHOTS, { recursive: true });
        copyFileSync(join(REPO, 'examples/digits.ipynb'), join(root, 'digits.ipynb'));
        // No server extension named here and no checkout path: the package's own
        // jupyter-config enables it, as in a user's `jupyter lab`.
        lab = await startJupyterLab({ root, page: 'host', python, env });
        page = await lab.open('lab/tree/digits.ipynb');
      });
      after(async () => {
        await page
          ?.screenshot({ path: join(SHOTS, 'installed-package.png') })
          .catch(() => undefined);
        await lab?.stop();
      });

      it('loads Cellflow as a prebuilt extension from the environment', async () => {
        const extensionRequests = await page.evaluate(() =>
          performance.getEntriesByType('resource').map((entry) => entry.name),
        );
        assert.ok(
          extensionRequests.some((url) =>
            new RegExp(`/lab/extensions/${EXTENSION}/static/remoteEntry\\.[0-9a-f]+\\.js$`).test(
              url,
            ),
          ),
          extensionRequests.join('\n'),
        );
        const started = /Cellflow: starting agent \(pid (\d+)\)/.exec(lab.log());
        assert.ok(started, lab.log());
        const cmdline = readFileSync(`/proc/${started[1]}/cmdline`, 'utf8').split('\0');
        assert.ok(cmdline[1]?.startsWith(venv), cmdline.join(' '));
        assert.ok(!cmdline.some((part) => part.includes(REPO)), cmdline.join(' '));
      });

      it('runs digits: every step succeeds and the metrics show', async () => {
        await openCellflowPanel(page, 'local');
        // Run acts on the notebook in focus.
        await page.locator('.jp-Notebook .jp-Cell').first().click();
        await page.locator('.cf-panel .cf-action-run').click();
        await page.locator('.cf-run[data-state="succeeded"]').waitFor({ timeout: 300_000 });
        assert.match(
          (await page.locator('.cf-run-metrics').first().textContent()) ?? '',
          /best-accuracy = 0\.9/,
        );
        for (const step of ['load_data', 'train_svm', 'pick_best'])
          assert.equal(
            await page
              .locator(`.jp-CodeCell[data-cellflow-step="${step}"]`)
              .first()
              .getAttribute('data-cellflow-state'),
            'succeeded',
          );
        assert.equal(readdirSync(join(root, '.cellflow/runs')).length, 1);
      });
    });
  },
);
