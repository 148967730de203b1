/**
 * GPUs: capacity from `nvidia-smi` (a stand-in script here), steps pinned with
 * `CUDA_VISIBLE_DEVICES`, requests the machine cannot meet refused before anything starts.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BackendError, LocalBackend } from '@cellflow/backend';
import { code, compileNotebook, notebook, PYTHON, runToEnd, tempDir } from './support/notebooks.js';

const work = tempDir('gpus');
after(work.remove);

/** An `nvidia-smi` that reports two A100s, as the real one does for this query. */
const fakeSmi = join(work.dir, 'nvidia-smi');
writeFileSync(
  fakeSmi,
  '#!/bin/sh\necho "0, NVIDIA A100-SXM4-80GB, 81920"\necho "1, NVIDIA A100-SXM4-80GB, 81920"\n',
);
chmodSync(fakeSmi, 0o755);

const devices = (step: string, tags: string[] = []): ReturnType<typeof code> =>
  code(`${step}_devices = os.environ["CUDA_VISIBLE_DEVICES"]\ntime.sleep(0.5)`, [
    `step:${step}`,
    ...tags,
  ]);

describe('GPUs on this machine', () => {
  const backend = new LocalBackend({ workspace: work.dir, python: PYTHON, nvidiaSmi: fakeSmi });

  it('capacity() reports what nvidia-smi lists', async () => {
    const capacity = await backend.capacity();
    assert.deepEqual(
      capacity.gpus.map((g) => [g.index, g.name, g.memoryMiB]),
      [
        [0, 'NVIDIA A100-SXM4-80GB', 81920],
        [1, 'NVIDIA A100-SXM4-80GB', 81920],
      ],
    );
    assert.match(capacity.gpuSource, /2 × NVIDIA A100-SXM4-80GB \(nvidia-smi\)/);
    assert.ok(capacity.cpus >= 1);
  });

  it('pins each step to its own GPUs; steps without a gpu: tag see none', async () => {
    const nb = notebook([
      code('import json\nimport os\nimport time', ['imports']),
      devices('first', ['gpu:1']),
      devices('second', ['gpu:1:NVIDIA-A100-SXM4-80GB']),
      devices('both', ['gpu:2', 'prev:first', 'prev:second']),
      devices('cpu', ['prev:both']),
      code(
        'json.dump({"first": first_devices, "second": second_devices, "both": both_devices, "cpu": cpu_devices}, open("devices.json", "w"))',
        ['step:collect'],
      ),
    ]);
    const { pipeline } = compileNotebook(nb, work.dir, 'pinning.ipynb');
    const run = await runToEnd(backend, pipeline, { concurrency: 4 });
    assert.equal(run.final.state, 'succeeded');
    const devicesSeen = JSON.parse(readFileSync(join(work.dir, 'devices.json'), 'utf8'));
    const seen = (step: string): unknown => devicesSeen[step];
    assert.deepEqual(
      [seen('first'), seen('second')].sort(),
      ['0', '1'],
      'parallel steps get different GPUs',
    );
    assert.equal(seen('both'), '0,1');
    assert.equal(seen('cpu'), '');
    const running = run.events.filter(
      (e) => e.type === 'step' && e.state === 'running' && e.step === 'both',
    );
    assert.deepEqual(running[0]?.type === 'step' && running[0].gpus, [0, 1]);
  });

  for (const [tag, expected] of [
    [
      'gpu:3',
      /Step `greedy` asks for 3 × nvidia\.com\/gpu, but the largest matching node on this machine has 2/,
    ],
    [
      'gpu:1:NVIDIA-H100-80GB-HBM3',
      /asks for 1 × NVIDIA-H100-80GB-HBM3, but this machine has no node with that product/,
    ],
    ['gpu-vendor:amd', /no `amd\.com\/gpu` GPUs/],
  ] as const) {
    it(`refuses \`${tag}\` before anything starts, unless --cpu-only`, async () => {
      const tags = tag === 'gpu-vendor:amd' ? ['gpu:1', tag] : [tag];
      const nb = notebook(
        [code('greedy_value = 1', ['step:greedy', ...tags])],
        `refused-${tags.length}`,
      );
      const { pipeline } = compileNotebook(nb, work.dir, 'refused.ipynb');
      const before = (await backend.listRuns()).length;
      await assert.rejects(backend.submit(pipeline), (error: unknown) => {
        assert.ok(error instanceof BackendError && error.code === 'gpu-unavailable');
        assert.match(error.message, expected);
        assert.match(error.message, /Or run those steps here without GPUs: pass --cpu-only\.$/);
        return true;
      });
      assert.equal((await backend.listRuns()).length, before, 'nothing was recorded');
      const run = await runToEnd(backend, pipeline, { cpuOnly: true });
      assert.equal(run.final.state, 'succeeded');
    });
  }

  it("refuses with the editors' choice when an editor asks (issue 20): no command-line flag", async () => {
    const editors = new LocalBackend({
      workspace: work.dir,
      python: PYTHON,
      nvidiaSmi: fakeSmi,
      askedBy: 'editor',
    });
    const nb = notebook([code('greedy_value = 1', ['step:greedy', 'gpu:3'])], 'refused-editor');
    const { pipeline } = compileNotebook(nb, work.dir, 'refused-editor.ipynb');
    await assert.rejects(editors.submit(pipeline), (error: unknown) => {
      assert.ok(error instanceof BackendError && error.code === 'gpu-unavailable');
      assert.match(error.message, /Step `greedy` asks for 3 × nvidia\.com\/gpu/);
      assert.match(
        error.message,
        /Or run those steps here without GPUs: choose Run without GPUs\.$/,
      );
      assert.doesNotMatch(error.message, /--cpu-only/);
      return true;
    });
    const run = await runToEnd(editors, pipeline, { cpuOnly: true });
    assert.equal(run.final.state, 'succeeded');
    const log = readFileSync(
      join(work.dir, '.cellflow/runs', run.ref.id, 'steps/greedy/log.txt'),
      'utf8',
    );
    assert.match(log, /^\[cellflow\] running without GPUs, as asked; the step asks for 3\.$/m);
    assert.doesNotMatch(log, /--cpu-only/);
  });

  it('a CUDA_VISIBLE_DEVICES set by the user limits what the runs may use', async () => {
    const limited = new LocalBackend({
      workspace: work.dir,
      python: PYTHON,
      nvidiaSmi: fakeSmi,
      env: { ...process.env, CUDA_VISIBLE_DEVICES: '1' },
    });
    assert.deepEqual(
      (await limited.capacity()).gpus.map((g) => g.index),
      [1],
    );
  });

  it('no nvidia-smi: no GPUs, and the refusal says why', async () => {
    const none = new LocalBackend({
      workspace: work.dir,
      python: PYTHON,
      nvidiaSmi: join(work.dir, 'missing'),
    });
    const capacity = await none.capacity();
    assert.deepEqual(capacity.gpus, []);
    assert.equal(capacity.gpuSource, 'none (nvidia-smi not found)');
  });
});
