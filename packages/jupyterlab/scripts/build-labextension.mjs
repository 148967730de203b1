// Builds the prebuilt (federated) JupyterLab extension into packages/jupyterlab/labextension/ with
// @jupyterlab/builder. The builder wants the host application's package.json (`--core-path`) to
// know which modules JupyterLab shares: we describe JupyterLab 4.5 with jupyterlab-core.cjs (the
// pinned versions in the root package.json's `overrides`), so the extension shares the page's
// singletons.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jupyterlabCore from './jupyterlab-core.cjs';

const { coreDependencies, singletonPackages: singletonPackagesOf } = jupyterlabCore;

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const repo = join(here, '../..');
const pinned = coreDependencies(repo);
const singletonPackages = singletonPackagesOf(repo);
const core = mkdtempSync(join(tmpdir(), 'cellflow-labextension-core-'));
writeFileSync(
  join(core, 'package.json'),
  JSON.stringify({
    name: '@jupyterlab/application-top',
    version: '4.5.11',
    private: true,
    dependencies: pinned,
    jupyterlab: { name: 'JupyterLab', version: '4.5.11', singletonPackages },
  }),
);
const result = spawnSync(
  process.execPath,
  [
    join(repo, 'node_modules/@jupyterlab/builder/lib/build-labextension.js'),
    '--core-path',
    core,
    here,
  ],
  { stdio: 'inherit' },
);
rmSync(core, { recursive: true, force: true });
process.exit(result.status ?? 1);
