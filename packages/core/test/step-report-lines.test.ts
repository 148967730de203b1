/** The metric and artifact lines a step prints on a cluster: the runtime's formatter through core's parser. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import {
  formatArtifactLine,
  formatMetricLine,
  parseStepReport,
  readCellOutputsLine,
  RUNTIME_SOURCE,
} from '@cellflow/core';

const dir = mkdtempSync(join(tmpdir(), 'cellflow-report-lines-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const runtime = join(dir, 'runtime.py');
writeFileSync(runtime, RUNTIME_SOURCE);

/** Runs `body` with the step runtime as `rt`; returns what it prints. */
function python(body: string, args: readonly string[] = []): string {
  const script = `import json, sys, types\nrt = types.ModuleType("__cellflow__")\nexec(open(sys.argv[1]).read(), rt.__dict__)\n${body}`;
  return execFileSync('/usr/bin/python3', ['-c', script, runtime, ...args], { encoding: 'utf8' });
}

describe('step report lines', () => {
  it("reads back every metric value the runtime's formatter prints", () => {
    const log = python(`
import numpy
print("a cell's own output")
values = {
    "accuracy": numpy.float64(0.9911),
    "count": numpy.int64(1797),
    "flag": True,
    "tiny": 1.5e-9,
    "big": 2**53,
    "label": "svm, rbf kernel",
    "quoted": 'say "hi"\\nthen go',
    "not-a-number": float("nan"),
    "forever": float("inf"),
}
for name, value in values.items():
    print(rt._metric_report_line(name, rt._metric_value(value)))
`);
    assert.deepEqual(parseStepReport(log), {
      metrics: {
        accuracy: 0.9911,
        count: 1797,
        flag: 1,
        tiny: 1.5e-9,
        big: 2 ** 53,
        label: 'svm, rbf kernel',
        quoted: 'say "hi"\nthen go',
        'not-a-number': 'nan',
        forever: 'inf',
      },
      artifacts: {},
    });
  });

  it('reads back artifact lines, with URIs from the executor input or the mounted store path', () => {
    const log = python(`
import collections
executor_input = json.dumps({"outputs": {"artifacts": {
    "model": {"artifacts": [{"uri": "s3://bucket/v2/artifacts/digits/run-1/train/model"}]},
    "metrics_value": {"artifacts": [{"uri": "minio://mlpipeline/v2/artifacts/digits/run-1/train/metrics_value"}]},
}}})
namespace = {"model": collections.OrderedDict(), "metrics": [1, 2], "X_train": 3, "unsaved": 4}
outputs = {"model": 3, "metrics": 3, "X_train": 2, "unsaved": 2, rt.RANDOM_STATE: 1}
paths = {"X_train": "/gcs/bucket/v2/artifacts/digits/run-1/train/X_train", "unsaved": "/tmp/x"}
rt._print_artifact_uris(executor_input, namespace, outputs, paths)
print("--")
rt._print_artifact_uris(None, namespace, outputs, {"model": "/minio/mlpipeline/v2/artifacts/m"})
print("--")
rt._print_artifact_uris(None, namespace, outputs, {"model": "/home/me/.cellflow/runs/r/steps/train/outputs/model"})
`);
    const [kfp, mounted, local] = log.split('--\n');
    assert.deepEqual(parseStepReport(kfp!).artifacts, {
      model: {
        uri: 's3://bucket/v2/artifacts/digits/run-1/train/model',
        type: 'collections.OrderedDict',
      },
      metrics: {
        uri: 'minio://mlpipeline/v2/artifacts/digits/run-1/train/metrics_value',
        type: 'builtins.list',
      },
      X_train: { uri: 'gs://bucket/v2/artifacts/digits/run-1/train/X_train', type: 'builtins.int' },
    });
    assert.deepEqual(parseStepReport(mounted!).artifacts, {
      model: { uri: 'minio://mlpipeline/v2/artifacts/m', type: 'collections.OrderedDict' },
    });
    assert.equal(local, '', 'a local run prints no artifact lines');
  });

  it("core's formatter writes what the runtime writes, and the last line for a name wins", () => {
    const runtimeLines = python(`
print(rt._metric_report_line("best-accuracy", 0.9667))
print(rt._metric_report_line("kernel", "rbf"))
print(rt._artifact_report_line("model", "minio://mlpipeline/x/model", "sklearn.svm._classes.SVC"))
`);
    assert.equal(
      runtimeLines,
      [
        formatMetricLine('best-accuracy', 0.9667),
        formatMetricLine('kernel', 'rbf'),
        formatArtifactLine('model', {
          uri: 'minio://mlpipeline/x/model',
          type: 'sklearn.svm._classes.SVC',
        }),
        '',
      ].join('\n'),
    );
    const spoofed = `${formatMetricLine('best-accuracy', 1)}\r\ncellflow-metric: broken=not json\n${runtimeLines}`;
    assert.deepEqual(parseStepReport(spoofed).metrics, { 'best-accuracy': 0.9667, kernel: 'rbf' });
  });

  it('reads where a step left its cells’ outputs: the artifact’s URI, or inline when it failed', () => {
    const artifacts = join(dir, 'artifacts');
    const executorInput = JSON.stringify({
      outputs: {
        artifacts: {
          'cell-outputs': { artifacts: [{ uri: `${artifacts}/cell-outputs` }] },
          'cell-outputs-html': { artifacts: [{ uri: `${artifacts}/cell-outputs-html` }] },
        },
      },
    });
    const log = (failed: boolean): string =>
      python(
        `
rt._cell_outputs.append({"cell": 3, "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi\\n"}]})
print("cellflow-cell-outputs: a cell printed this")
rt._write_kfp_cell_outputs(sys.argv[2], "train", ${failed ? 'True' : 'False'})
`,
        [executorInput],
      );
    const cells = [{ cell: 3, outputs: [{ output_type: 'stream', name: 'stdout', text: 'hi\n' }] }];
    assert.deepEqual(readCellOutputsLine(log(false)), { uri: `${artifacts}/cell-outputs` });
    assert.deepEqual(JSON.parse(readFileSync(`${artifacts}/cell-outputs`, 'utf8')), { cells });
    assert.match(
      readFileSync(`${artifacts}/cell-outputs-html`, 'utf8'),
      /<h4>Cell 4<\/h4><pre class="stdout">hi\n<\/pre>/,
    );
    const inline = readCellOutputsLine(log(true));
    assert.ok(inline !== undefined && 'inline' in inline);
    assert.deepEqual(JSON.parse(inflateSync(Buffer.from(inline.inline, 'base64')).toString()), {
      cells,
    });
    assert.equal(
      readCellOutputsLine('cellflow-cell-outputs: not written: OSError: full\n'),
      undefined,
    );
  });
});
