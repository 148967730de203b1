/**
 * Local tuning against running the trials by hand: `cellflow tune examples/digits.ipynb` with N
 * trials (the built CLI, as a user runs it) against N sequential `cellflow run -p ...` invocations
 * with the same parameter values, measured in the same run on the same machine.
 *   peer A: each run in a fresh workspace (nothing shared: what the study saves overall)
 *   peer B: all runs in one workspace (the step cache shared: what parallel trials alone save)
 * Target: study / peer A <= 0.5. Run with `npm run bench:tune` (builds first). Not a test.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PYTHON } from '../../test/support/paths.js';
import { REPO_ROOT as repoRoot } from '../../test/support/paths.js';

const TRIALS = Number(process.env.BENCH_TUNE_TRIALS ?? 8);
const cli = join(repoRoot, 'packages/cli/bin/cellflow.js');
const work = mkdtempSync(join(tmpdir(), 'cellflow-bench-tune-'));

function timed<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

function cellflow(args: string[], cwd = work): string {
  return execFileSync(process.execPath, [cli, ...args, '--python', PYTHON], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

interface Trial {
  parameters: Record<string, number>;
  objective: number | null;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

try {
  const digits = join(work, 'digits.ipynb');
  cpSync(join(repoRoot, 'examples/digits.ipynb'), digits);
  console.log(
    `Tuning digits locally: ${TRIALS} trials, ${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(1)}`,
  );
  // A warm-up run so that the OS file cache treats both sides the same.
  cellflow(['run', digits, '--workspace', join(work, 'warm-up')]);

  const study = timed(() =>
    cellflow([
      'tune',
      digits,
      '--max-trials',
      String(TRIALS),
      '--seed',
      '1',
      '--workspace',
      join(work, 'study'),
      '--json',
    ]),
  );
  const json = study.value.slice(study.value.indexOf('{'), study.value.lastIndexOf('}') + 1);
  const summary = JSON.parse(json) as { trials: Trial[]; best: Trial | null; state: string };
  if (summary.state !== 'succeeded') throw new Error(`study ${summary.state}`);

  const runAll = (workspaceOf: (i: number) => string): number =>
    timed(() =>
      summary.trials.forEach((t, i) =>
        cellflow([
          'run',
          digits,
          '--workspace',
          workspaceOf(i),
          ...Object.entries(t.parameters).flatMap(([k, v]) => ['-p', `${k}=${v}`]),
        ]),
      ),
    ).ms;
  const fresh = runAll((i) => join(work, `fresh-${i}`));
  const shared = runAll(() => join(work, 'shared'));

  console.log(`cellflow tune (${TRIALS} trials, parallel, shared cache): ${seconds(study.ms)}`);
  console.log(`${TRIALS} sequential cellflow run, fresh workspaces:       ${seconds(fresh)}`);
  console.log(`${TRIALS} sequential cellflow run, one workspace:          ${seconds(shared)}`);
  console.log(
    `Ratio study / fresh sequential runs: ${(study.ms / fresh).toFixed(2)} (target <= 0.5)`,
  );
  console.log(`Ratio study / cached sequential runs: ${(study.ms / shared).toFixed(2)}`);
  console.log(
    `Best svm-accuracy ${summary.best?.objective} with ${JSON.stringify(summary.best?.parameters)}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
