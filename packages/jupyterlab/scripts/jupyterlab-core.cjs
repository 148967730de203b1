// What the JupyterLab 4.5 application shares with prebuilt (federated) extensions, read from the
// pinned versions in the root package.json's `overrides` and node_modules: used by the prebuilt
// extension's build (as the core package.json `--core-path` wants) and by the test JupyterLab page
// (a module-federation host sharing the same singletons), so both agree.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const LUMINO = [
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
const OTHERS = ['react', 'react-dom', 'yjs', '@jupyter/ydoc'];

/** name -> version range of every package JupyterLab's core provides. */
function coreDependencies(repo) {
  const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const pinned = Object.fromEntries(
    Object.entries(root.overrides).filter(([name]) => name.startsWith('@jupyterlab/')),
  );
  for (const name of [...LUMINO, ...OTHERS]) {
    const { version } = JSON.parse(
      readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8'),
    );
    pinned[name] = `^${version}`;
  }
  return pinned;
}

/** The core packages shared as singletons (one copy for the application and every extension). */
function singletonPackages(repo) {
  return Object.keys(coreDependencies(repo)).filter(
    (n) => !n.endsWith('-extension') && n !== '@jupyterlab/builder',
  );
}

module.exports = { coreDependencies, singletonPackages };
