/**
 * Issue 19's fuzz test: a seeded stream of malformed and adversarial notebooks (byte flips,
 * truncations, deep nesting, huge names, tags and cells, odd types in every field) through
 * `cellflow inspect`, `inspect --json` and `compile -o`. Every case ends in success or a clean
 * diagnostic: exit 0 or 1 (2 for a file that is not a notebook), never 70 or a stack trace, and
 * `compile -o` leaves either the whole YAML or no file, and no temporary file.
 *
 * The CLI runs in this process (its `main`, as `bin/cellflow.js` calls it) so that a few hundred
 * cases fit in the time; a sample also goes through the real `cellflow` process.
 * `CELLFLOW_FUZZ_SEED` and `CELLFLOW_FUZZ_CASES` choose another seed or count.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main, type CliContext } from '@cellflow/cli';
import { repoRoot } from '../golden/golden-cases.js';
import { adversarialNotebooks } from '../support/adversarial-notebooks.js';
import { runCli } from './run-cli.js';

const SEED = Number(process.env.CELLFLOW_FUZZ_SEED ?? 19);
const CASES = Number(process.env.CELLFLOW_FUZZ_CASES ?? 300);
/** A case is stopped being generated after this long; the cases run so far still count. */
const BUDGET_MS = 150_000;
/** Every how many cases one also runs through the real `cellflow` process. */
const PROCESS_SAMPLE = 25;

const dir = mkdtempSync(join(tmpdir(), 'cellflow-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bases = [
  join(repoRoot, 'examples/digits.ipynb'),
  join(repoRoot, 'examples/word-count.ipynb'),
  ...readdirSync(join(repoRoot, 'test/fixtures/notebooks'))
    .filter((f) => f.endsWith('.ipynb'))
    .map((f) => join(repoRoot, 'test/fixtures/notebooks', f)),
].map((path) => readFileSync(path, 'utf8'));

interface CliOutcome {
  readonly code: number;
  readonly stderr: string;
}

async function cellflowInProcess(args: string[]): Promise<CliOutcome> {
  const errors: string[] = [];
  const ctx: CliContext = { out: () => {}, err: (line) => errors.push(line), exitCode: 0 };
  const code = await main(args, ctx);
  return { code, stderr: errors.join('\n') };
}

function assertClean(label: string, command: string, outcome: CliOutcome): void {
  assert.ok(
    outcome.code === 0 || outcome.code === 1 || outcome.code === 2,
    `${label}: ${command} exited ${outcome.code}:\n${outcome.stderr.slice(0, 2000)}`,
  );
  assert.doesNotMatch(outcome.stderr, /unexpected error|^\s+at /m, `${label}: ${command}`);
  assert.ok(
    outcome.stderr.length < 2_000_000,
    `${label}: ${command} wrote ${outcome.stderr.length} characters of errors`,
  );
}

describe(`issue 19: fuzzed notebooks (seed ${SEED}, ${CASES} cases)`, () => {
  it('every case ends in success or a clean diagnostic, with no partial or misplaced file', async () => {
    const started = Date.now();
    const cases = adversarialNotebooks(bases, SEED, CASES);
    let ran = 0;
    for (const [i, c] of cases.entries()) {
      if (Date.now() - started > BUDGET_MS) break;
      const input = join(dir, 'case.ipynb');
      const output = join(dir, 'case.yaml');
      rmSync(output, { force: true });
      writeFileSync(input, c.bytes);
      assertClean(c.label, 'inspect', await cellflowInProcess(['inspect', input]));
      assertClean(c.label, 'inspect --json', await cellflowInProcess(['inspect', '--json', input]));
      const compiled = await cellflowInProcess(['compile', input, '-o', output]);
      assertClean(c.label, 'compile -o', compiled);
      if (compiled.code === 0)
        assert.match(readFileSync(output, 'utf8'), /^# PIPELINE DEFINITION[\s\S]*\n$/, c.label);
      else assert.equal(existsSync(output), false, `${c.label}: no output after a failed compile`);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f !== 'case.ipynb' && f !== 'case.yaml'),
        [],
        `${c.label}: no temporary or misplaced file`,
      );
      if (i % PROCESS_SAMPLE === 0) {
        const run = runCli(['compile', input, '-o', output]);
        assertClean(c.label, 'the cellflow process', {
          code: run.code ?? -1,
          stderr: run.stderr,
        });
      }
      ran++;
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`fuzz: ${ran} of ${cases.length} cases (seed ${SEED}) in ${seconds.toFixed(1)} s`);
    assert.ok(ran >= Math.min(CASES, 200), `only ${ran} cases ran within the time budget`);
  });
});
