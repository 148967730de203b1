/**
 * Images that work on a cluster: `packages:` tags and metadata.cellflow "packages" install pip
 * requirements when a KFP step starts (the image's own are kept), and steps whose bare Python
 * image lacks the modules they import are named before anything is submitted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkStepImagesForCluster, compile, parseCellTags } from '@cellflow/core';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../golden/golden-cases.js';
import { notebookJson } from '../support/notebook-json.js';
import { PYTHON } from '../support/paths.js';

type Json = Record<string, any>;

/** Runs the one step of a one-step pipeline the way a KFP executor would. */
function runOnlyStep(yaml: string): { code: number | null; output: string } {
  const spec = parseAllDocuments(yaml)[0]!.toJS() as Json;
  const executors = spec.deploymentSpec.executors as Json;
  const dir = mkdtempSync(join(tmpdir(), 'cellflow-packages-'));
  try {
    const runtime = join(dir, 'runtime');
    const writer = executors['exec-cellflow-runtime'].container;
    spawnSync(PYTHON, [...writer.command.slice(1), runtime, ...writer.args.slice(1)]);
    const [label] = Object.keys(executors).filter((l) => l !== 'exec-cellflow-runtime');
    const step = executors[label!].container;
    // KFP's placeholders: the runtime's path, and an executor input with nothing in it.
    const args = (step.args as string[]).map((a) =>
      a.includes('cellflow-runtime') ? runtime : a === '{{$}}' ? '{}' : a,
    );
    const done = spawnSync(PYTHON, [...step.command.slice(1), ...args], {
      encoding: 'utf8',
      // No package index here: pip fails at once instead of waiting on the network.
      env: { ...process.env, PIP_NO_INDEX: '1' },
    });
    return { code: done.status, output: done.stdout + done.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('step packages and images', () => {
  it('reads packages: tags (several per tag, version ranges kept whole) and refuses anything else', () => {
    const { tags, problems } = parseCellTags([
      'step:train',
      'packages:numpy,pandas>=2,<3',
      'packages:scikit-learn[alldeps]==1.2.1',
    ]);
    assert.deepEqual(tags.packages, ['numpy', 'pandas>=2,<3', 'scikit-learn[alldeps]==1.2.1']);
    assert.deepEqual(problems, []);
    const bad = parseCellTags(['packages:numpy;touch${IFS}x']);
    assert.equal(bad.problems[0]?.code, 'bad-packages');
    assert.match(bad.problems[0]?.message ?? '', /is not a pip requirement\. Fix:/);
  });

  it('warns, per step, about modules a bare Python image lacks, until packages or an image cover them', () => {
    const cells: [string[], string][] = [
      [['imports'], 'import json\nimport numpy as np\nfrom sklearn.svm import SVC'],
      [['step:load'], 'data = json.loads("[1, 2]")'],
      [['step:train'], 'model = SVC().fit(np.array([[0], [1]]), data)'],
      [['step:plot', 'image:ghcr.io/acme/plots:1'], 'import matplotlib\nn = len(data)'],
    ];
    const warnings = (metadata: Json = {}): string[] => {
      const r = compile(notebookJson(cells, metadata));
      return checkStepImagesForCluster(r.graph!, r.pipeline!.code).map((d) => d.message);
    };
    const bare = warnings();
    assert.equal(bare.length, 1, bare.join('\n'));
    assert.match(
      bare[0]!,
      /^Step `train` imports `numpy`, `sklearn`, which its image `python:3\.11`/,
    );
    assert.match(bare[0]!, /Fix: tag the step `packages:numpy,scikit-learn`/);
    // With the notebook, the warning carries the fix: the step's first cell gains the packages.
    const r = compile(notebookJson(cells));
    const [withFix] = checkStepImagesForCluster(r.graph!, r.pipeline!.code, r.pipeline!.notebook);
    assert.deepEqual(withFix?.fix, {
      title: 'Add `packages:numpy,scikit-learn` to step `train`',
      tags: { cell: 2, tags: ['step:train', 'packages:numpy,scikit-learn'] },
    });
    // scikit-learn brings numpy; a chosen image is the user's to know.
    assert.deepEqual(warnings({ cellflow: { packages: ['scikit-learn'] } }), []);
    assert.deepEqual(warnings({ cellflow: { image: 'ghcr.io/acme/ml:2' } }), []);
  });

  it('the examples need no warning as shipped', () => {
    for (const example of ['digits', 'word-count']) {
      const r = compile(readFileSync(join(repoRoot, `examples/${example}.ipynb`)));
      assert.deepEqual(checkStepImagesForCluster(r.graph!, r.pipeline!.code), [], example);
    }
  });

  it('a KFP step installs only what its image lacks, and a failed install names the fix', () => {
    const installed = runOnlyStep(
      compile(
        notebookJson([[['step:fit', 'packages:scikit-learn'], 'import sklearn\nprint("fit ok")']]),
      ).yaml!,
    );
    assert.equal(installed.code, 0, installed.output);
    assert.match(installed.output, /fit ok/);
    assert.doesNotMatch(installed.output, /installing/);

    const missing = runOnlyStep(
      compile(
        notebookJson([[['step:fit', 'packages:cellflow-no-such-distribution'], 'print("never")']]),
      ).yaml!,
    );
    assert.equal(missing.code, 1, missing.output);
    assert.match(missing.output, /Cellflow: installing cellflow-no-such-distribution/);
    assert.match(
      missing.output,
      /Step `fit` could not install its packages \(cellflow-no-such-distribution\): pip exited with 1/,
    );
    assert.match(missing.output, /Fix: check the names and versions in the `packages:` tags/);
    assert.doesNotMatch(missing.output, /never/);
  });
});
