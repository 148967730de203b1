/** Builds what the VS Code tests load: the webpack bundle (dist/) and the in-host mocha suite. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './code-server.js';

export const SUITE_DIR = join(REPO, '.cache', 'vscode-test');

function run(args: string[]): void {
  const r = spawnSync(process.execPath, args, { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
}

export function buildExtensionAndSuite(): void {
  run([join(REPO, 'node_modules/typescript/bin/tsc'), '-b']);
  run([join(REPO, 'node_modules/webpack-cli/bin/cli.js'), '--no-color']);
  run([join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'test/vscode/suite')]);
  writeFileSync(join(SUITE_DIR, 'package.json'), '{ "type": "commonjs" }\n');
}
