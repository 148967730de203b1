/** The manifest (root package.json) is the one source of command and view ids. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CommandIds, ViewIds } from '@cellflow/vscode';

interface Manifest {
  main: string;
  engines: { vscode: string };
  activationEvents: string[];
  contributes: {
    commands: { command: string }[];
    views: Record<string, { id: string }[]>;
    configuration: { properties: Record<string, unknown> };
  };
}

const manifest = JSON.parse(
  readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
) as Manifest;

describe('extension manifest', () => {
  it('declares exactly the commands the command table registers', () => {
    assert.deepEqual(
      manifest.contributes.commands.map((c) => c.command).sort(),
      Object.values(CommandIds).sort(),
    );
  });

  it('declares the views and settings the extension reads', () => {
    const views = Object.values(manifest.contributes.views)
      .flat()
      .map((v) => v.id);
    assert.deepEqual(views.sort(), Object.values(ViewIds).sort());
    for (const key of [
      'python',
      'concurrency',
      'defaultImage',
      'cluster.context',
      'cluster.namespace',
      'kfp.endpoint',
    ])
      assert.ok(`cellflow.${key}` in manifest.contributes.configuration.properties, key);
    assert.equal(manifest.main, './dist/extension.js');
  });
});
