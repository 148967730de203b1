/**
 * The prebuilt (federated) JupyterLab extension builds from npm alone and has what JupyterLab 4
 * loads: `package.json` with `jupyterlab._build.load` naming an existing remote entry, the
 * settings schema, and JupyterLab's modules shared as singletons rather than bundled.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from './jupyterlab-host.js';

const PACKAGE = join(REPO, 'packages/jupyterlab');
const OUT = join(PACKAGE, 'labextension');

describe('JupyterLab: prebuilt extension', { timeout: 300_000 }, () => {
  it('builds with @jupyterlab/builder into a federated extension', () => {
    const built = spawnSync(
      process.execPath,
      [join(REPO, 'node_modules/typescript/bin/tsc'), '-b', PACKAGE],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(built.status, 0, built.stdout + built.stderr);
    const r = spawnSync(process.execPath, [join(PACKAGE, 'scripts/build-labextension.mjs')], {
      cwd: PACKAGE,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const manifest = JSON.parse(readFileSync(join(OUT, 'package.json'), 'utf8'));
    assert.equal(manifest.name, 'cellflow-jupyterlab');
    const load: string = manifest.jupyterlab._build.load;
    assert.ok(existsSync(join(OUT, load)), `${load} exists`);
    assert.ok(existsSync(join(OUT, 'schemas/cellflow-jupyterlab/plugin.json')));
    const remoteEntry = readFileSync(join(OUT, load), 'utf8');
    for (const shared of ['@jupyterlab/notebook', '@jupyterlab/apputils', '@lumino/widgets'])
      assert.ok(remoteEntry.includes(shared), `${shared} is shared, not bundled`);
    // JupyterLab itself is many MB; the extension carries only Cellflow's code.
    const bytes = readdirSync(join(OUT, 'static')).reduce(
      (n, f) => n + statSync(join(OUT, 'static', f)).size,
      0,
    );
    assert.ok(bytes < 2_500_000, `static/ is ${bytes} bytes`);
  });
});
