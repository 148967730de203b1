/**
 * Data between steps: a numpy array (1 GiB) and a pandas frame (10 million rows) saved by one step
 * and loaded by the next through the step runtime's own save_value / load_value (bench/data/steps.py,
 * each side its own Python process), against the disk's sequential write and read measured with
 * `dd` and direct I/O in the same run, on the same file system. Each measure is the median of
 * ROUNDS. Prints last `data: numpy X.XX of dd, pandas Y.YY of dd` (save + load bandwidth over dd's
 * write + read bandwidth).
 *
 *   npm run bench:data -- [--numpy-mib 1024] [--pandas-rows 10000000] [--rounds 3] [--runtime PY]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PYTHON } from '../../test/support/paths.js';

const { values: options } = parseArgs({
  options: {
    'numpy-mib': { type: 'string', default: '1024' },
    'pandas-rows': { type: 'string', default: '10000000' },
    rounds: { type: 'string', default: '3' },
    /** Another step runtime to measure (an earlier version, say). */
    runtime: {
      type: 'string',
      default: fileURLToPath(
        new URL('../../packages/core/src/emit/entry-script/runtime.py', import.meta.url),
      ),
    },
  },
});
const NUMPY_BYTES = Number(options['numpy-mib']) * 1024 * 1024;
const PANDAS_ROWS = Number(options['pandas-rows']);
const ROUNDS = Number(options.rounds);
const STEPS = fileURLToPath(new URL('steps.py', import.meta.url));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbps = (bytes: number, seconds: number): string =>
  `${(bytes / seconds / 1e6).toFixed(0)} MB/s`;

const dir = mkdtempSync(join(tmpdir(), 'cellflow-bench-data-'));
try {
  const runtime = options.runtime;
  const python = (...args: string[]): Record<string, number> =>
    JSON.parse(execFileSync(PYTHON, [STEPS, runtime, ...args], { encoding: 'utf8' })) as Record<
      string,
      number
    >;

  const dd = (...args: string[]): void => {
    execFileSync('dd', [...args, 'bs=8M', 'status=none']);
  };
  const timed = (run: () => void): number => {
    const started = performance.now();
    run();
    return (performance.now() - started) / 1000;
  };
  const ddFile = join(dir, 'dd.bin');
  const ddCount = String(Math.max(1, Math.round(NUMPY_BYTES / (8 * 1024 * 1024))));
  const ddBytes = Number(ddCount) * 8 * 1024 * 1024;
  const ddWrite: number[] = [];
  const ddRead: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ddWrite.push(
      timed(() => dd('if=/dev/zero', `of=${ddFile}`, `count=${ddCount}`, 'oflag=direct')),
    );
    ddRead.push(timed(() => dd(`if=${ddFile}`, 'of=/dev/null', 'iflag=direct')));
    rmSync(ddFile);
  }
  const ddSeconds = median(ddWrite) + median(ddRead);
  const ddBandwidth = ddBytes / ddSeconds;
  console.log(
    `dd, direct I/O, ${(ddBytes / 2 ** 20).toFixed(0)} MiB: write ${median(ddWrite).toFixed(3)} s (${mbps(ddBytes, median(ddWrite))}), read ${median(ddRead).toFixed(3)} s (${mbps(ddBytes, median(ddRead))})`,
  );

  const ratios: Record<string, number> = {};
  for (const [kind, size] of [
    ['numpy', NUMPY_BYTES],
    ['pandas', PANDAS_ROWS],
  ] as const) {
    const save: number[] = [];
    const load: number[] = [];
    const pass: number[] = [];
    let bytes = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const saved = join(dir, `${kind}-${i}`);
      const saving = python('save', kind, String(size), saved);
      const loading = python('load', saved, join(dir, `${kind}-${i}-passed`));
      save.push(saving.seconds!);
      load.push(loading.seconds!);
      pass.push(loading.pass_seconds!);
      bytes = saving.bytes!;
      rmSync(saved, { recursive: true, force: true });
      rmSync(join(dir, `${kind}-${i}-passed`), { recursive: true, force: true });
    }
    const seconds = median(save) + median(load);
    ratios[kind] = bytes / seconds / ddBandwidth;
    console.log(
      `${kind}, ${(bytes / 2 ** 20).toFixed(0)} MiB saved: save ${median(save).toFixed(3)} s, load + read ${median(load).toFixed(3)} s (${mbps(bytes, seconds)}); passed on unchanged: ${(median(pass) * 1000).toFixed(1)} ms`,
    );
  }
  console.log(
    `data: numpy ${ratios.numpy!.toFixed(2)} of dd, pandas ${ratios.pandas!.toFixed(2)} of dd`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
