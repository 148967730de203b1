// Builds the prebuilt (federated) JupyterLab extension into packages/jupyterlab/labextension/ with
// @jupyterlab/builder. The builder wants the host application's package.json (`--core-path`) to
// know which modules JupyterLab shares: we describe JupyterLab 4.5 from the pinned versions in
// the root package.json's `overrides`, so the extension shares the page's singletons.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const repo = join(here, '../..');
const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const pinned = Object.fromEntries(
  Object.entries(root.overrides).filter(
    ([name]) => name.startsWith('@jupyterlab/') || name.startsWith('@lumino/'),
  ),
);
const lumino = [
  'algorithm',
  'application',
  'commands',
  'coreutils',
  'disposable',
  'domutils',
  'dragdrop',
  'messaging',
  'properties',
  'signaling',
  'virtualdom',
  'widgets',
].map((n) => `@lumino/${n}`);
for (const name of lumino) {
  const version = JSON.parse(
    readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8'),
  ).version;
  pinned[name] = `^${version}`;
}
for (const name of ['react', 'react-dom', 'yjs', '@jupyter/ydoc']) {
  const version = JSON.parse(
    readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8'),
  ).version;
  pinned[name] = `^${version}`;
}
const singletonPackages = Object.keys(pinned).filter(
  (n) => !n.endsWith('-extension') && n !== '@jupyterlab/builder',
);
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
