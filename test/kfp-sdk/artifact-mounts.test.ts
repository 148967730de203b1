/**
 * Where KFP mounts an artifact's object store in a step's container, as the upstream KFP SDK 2.17.0
 * computes it (`Artifact.path`), turned back into the URI by the step runtime: so the URI in a
 * step's `cellflow-artifact:` line is the one KFP keeps the artifact at. And the path the runtime
 * reads an executor input's artifact at (its inputs, outputs, cell outputs) is that same path.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { RUNTIME_SOURCE } from '@cellflow/core';
import { makeTempDir, removeTempDir } from '../support/temp-dirs.js';
import { KFP_SDK_PYTHONPATH } from '../support/kfp-step-logs.js';

const dir = makeTempDir('cellflow-artifact-mounts-');
after(() => removeTempDir(dir));

const SCRIPT = `
import json, sys, types
from kfp.dsl.types.artifact_types import Artifact
rt = types.ModuleType("__cellflow__")
exec(open(sys.argv[1]).read(), rt.__dict__)
out = {}
for uri in json.loads(sys.argv[2]):
    path = Artifact(name="model", uri=uri).path
    out[uri] = [path, rt._artifact_uri({}, "model", path), rt._mounted_path(uri)]
print(json.dumps(out))
`;

it("the runtime reads an output's URI back from the path KFP mounts it at", (t) => {
  if (!existsSync(join(KFP_SDK_PYTHONPATH, 'kfp/__init__.py'))) {
    t.skip(`no KFP SDK at ${KFP_SDK_PYTHONPATH}`);
    return;
  }
  const runtime = join(dir, 'runtime.py');
  writeFileSync(runtime, RUNTIME_SOURCE);
  const uris = [
    'minio://mlpipeline/v2/artifacts/digits/3f2a/train-svm/svm',
    's3://my-bucket/pipelines/digits/3f2a/train-svm/svm',
    'gs://my-bucket/pipelines/digits/3f2a/train-svm/svm',
  ];
  const out = JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', SCRIPT, runtime, JSON.stringify(uris)], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: KFP_SDK_PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' },
    }),
  ) as Record<string, [string, string, string]>;
  for (const uri of uris) {
    const [path, back, mounted] = out[uri]!;
    assert.notEqual(path, uri, `KFP mounts ${uri} at a local path`);
    assert.equal(back, uri, `${uri} mounted at ${path}`);
    // And the other way: where the runtime reads its executor input's artifacts and writes its own.
    assert.equal(mounted, path, `${uri} is mounted at ${path}`);
  }
});
