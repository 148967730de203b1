/**
 * Issue 18: a run's results as a notebook. The fixture prints, shows a pandas frame, a matplotlib
 * plot and an `IPython.display.Image` PNG, prints more than a cell keeps, and fails in its last
 * step. `cellflow run --output-notebook` and `cellflow outputs` write the executed notebook: valid
 * nbformat 4 (checked by nbformat itself), each output on the cell that made it, images that
 * decode, the failing cell's error with its cell and line. Both ways a step starts: forked from
 * the warm interpreter (matplotlib and IPython already imported) and a fresh one (imported by
 * the cell).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../golden/golden-cases.js';
import { runCells, runCliAsync, type CliRun } from './run-cli.js';
import { PYTHON } from '../support/paths.js';
import { decodesAsPng, nbformatProblems, shape, type Cell } from '../support/executed-notebooks.js';

const FIXTURE = join(repoRoot, 'test/fixtures/notebooks/cell-outputs.ipynb');

for (const mode of ['warm', 'fresh'] as const) {
  describe(`executed notebook of a local run, ${mode} step processes (issue 18)`, () => {
    let dir: string;
    let run: CliRun;
    let cells: Cell[];
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cellflow-outputs-'));
      run = await runCliAsync(
        [
          'run',
          FIXTURE,
          '--python',
          PYTHON,
          '--workspace',
          dir,
          '--output-notebook',
          join(dir, 'executed.ipynb'),
          ...(mode === 'fresh' ? ['--fresh-processes'] : []),
        ],
        { cwd: dir },
      );
      cells = (JSON.parse(readFileSync(join(dir, 'executed.ipynb'), 'utf8')) as { cells: Cell[] })
        .cells;
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('fails as the notebook does, and writes a notebook nbformat validates', () => {
      assert.equal(run.code, 1, run.stderr);
      assert.match(
        run.stderr,
        /Wrote .*executed\.ipynb: the run's notebook with the outputs of 5 cells/,
      );
      assert.equal(nbformatProblems(join(dir, 'executed.ipynb')), '');
      assert.equal(cells.length, 7);
      assert.deepEqual(
        cells.map((c) => c.execution_count ?? null),
        [null, null, 1, 2, 3, 4, 5],
        'the imports cell runs in every step, so it is no step cell of its own: no outputs',
      );
    });

    it('puts each output on the cell that made it, in order', () => {
      assert.deepEqual(shape(cells[2]!), ['stream:stdout', 'execute_result']);
      assert.equal(cells[2]!.outputs![0]!.text, 'loading\n');
      assert.equal(cells[2]!.outputs![1]!.execution_count, 1);
      assert.match(String(cells[2]!.outputs![1]!.data!['text/html']), /<table/);
      assert.deepEqual(shape(cells[3]!), ['display_data', 'display_data', 'stream:stdout']);
      assert.match(String(cells[3]!.outputs![0]!.data!['text/html']), /<table/);
      assert.match(String(cells[3]!.outputs![1]!.data!['text/plain']), /^<Figure size/);
      assert.equal(cells[3]!.outputs![2]!.text, 'plotted\n');
      assert.deepEqual(shape(cells[4]!), ['display_data'], 'a trailing `;` hides the value');
      assert.deepEqual(shape(cells[6]!), ['stream:stderr', 'display_data', 'error']);
    });

    it('keeps images that decode as PNG: the plot, the Image, the failing cell’s open figure', () => {
      for (const output of [cells[3]!.outputs![1]!, cells[4]!.outputs![0]!, cells[6]!.outputs![1]!])
        assert.ok(decodesAsPng(output), JSON.stringify(output).slice(0, 200));
    });

    it('shows the failing cell’s error with the cell and line, after what it showed before', () => {
      const error = cells[6]!.outputs![2]!;
      assert.equal(error.ename, 'ValueError');
      assert.equal(error.evalue, 'the last step fails on purpose');
      assert.ok(
        error.traceback!.some((l) => /File "<cell \d+>", line 5/.test(l)),
        error.traceback!.join('\n'),
      );
      assert.equal(cells[6]!.outputs![0]!.text, 'about to fail\n');
    });

    it('bounds a cell’s outputs, saying what was left out', () => {
      const [printed, note] = cells[5]!.outputs!;
      assert.equal(printed!.text!.length, 1 << 20);
      assert.equal(note!.name, 'stderr');
      assert.match(
        note!.text!,
        /^Cellflow: 524289 characters of this cell's outputs were left out/,
      );
    });

    it('prints to the step log what it printed before outputs were kept', () => {
      const runId = readdirSync(join(dir, '.cellflow', 'runs'))[0]!;
      const log = (step: string): string =>
        readFileSync(join(dir, '.cellflow', 'runs', runId, 'steps', step, 'log.txt'), 'utf8');
      assert.match(log('plot'), /^ {3}a {5}b\n0 {2}1 {2}4\.00\n[\s\S]*plotted\n/);
      assert.match(log('image'), /<IPython\.core\.display\.Image object>/);
    });

    it('`cellflow outputs RUN_ID -o` writes the same notebook later', async () => {
      const runId = readdirSync(join(dir, '.cellflow', 'runs'))[0]!;
      const again = await runCliAsync(
        ['outputs', runId, '--workspace', dir, '-o', join(dir, 'again.ipynb')],
        { cwd: dir },
      );
      assert.equal(again.code, 0, again.stderr);
      assert.equal(
        readFileSync(join(dir, 'again.ipynb'), 'utf8'),
        readFileSync(join(dir, 'executed.ipynb'), 'utf8'),
      );
      const missing = await runCliAsync(['outputs', 'no-such-run', '--workspace', dir]);
      assert.equal(missing.code, 1);
      assert.match(
        missing.stderr,
        /No local run no-such-run .*Fix: check the id with `cellflow runs`/,
      );
    });
  });
}

describe("a display() of the user's own is left alone (issue 18)", () => {
  it("keeps builtins.display set before the step starts; IPython's display is still kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-own-display-'));
    try {
      // Python imports sitecustomize at start-up: the user's own `display` is in builtins first.
      writeFileSync(
        join(dir, 'sitecustomize.py'),
        'import builtins\nbuiltins.display = lambda *a, **k: print("own display:", *a)\n',
      );
      const { run, cells } = await runCells(
        dir,
        [
          [['step:show'], 'display(42)'],
          [
            ['step:rich', 'prev:show'],
            'from IPython.display import HTML, display as show\nshow(HTML("<b>bold</b>"))',
          ],
        ],
        { PYTHONPATH: dir },
      );
      assert.equal(run.code, 0, run.stderr);
      const [own, rich] = cells;
      assert.deepEqual(own!.outputs, [
        { output_type: 'stream', name: 'stdout', text: 'own display: 42\n' },
      ]);
      assert.deepEqual(shape(rich!), ['display_data']);
      assert.equal(rich!.outputs![0]!.data!['text/html'], '<b>bold</b>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an error output is always kept, and bounded (issue 18)', () => {
  it('keeps a huge exception message to what a cell keeps, saying what was left out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-big-error-'));
    try {
      const { run, cells } = await runCells(dir, [
        [['step:fail'], "print('before')\nraise ValueError('x' * (3 << 20))"],
      ]);
      assert.equal(run.code, 1, run.stderr.slice(-2000));
      // The CLI says why in a line, not in megabytes.
      assert.ok(run.stdout.length + run.stderr.length < 64 << 10, 'bounded CLI output');
      const [cell] = cells;
      assert.deepEqual(shape(cell!), ['stream:stdout', 'error', 'stream:stderr']);
      const error = cell!.outputs![1]! as { ename?: string; evalue?: string };
      assert.equal(error.ename, 'ValueError');
      assert.ok(error.evalue!.length <= 1 << 20, `evalue of ${error.evalue!.length} characters`);
      assert.match(
        (cell!.outputs![2]! as { text?: string }).text ?? '',
        /^Cellflow: \d+ characters of this cell's outputs were left out/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a result too large for a cell (issue 18)', () => {
  it('keeps its text, as the notebook shows it, and says what was left out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-big-result-'));
    try {
      const { run, cells } = await runCells(dir, [
        [['step:show'], "from IPython.display import HTML\nHTML('<b>x</b>' * (300 << 10))"],
      ]);
      assert.equal(run.code, 0, run.stderr.slice(-2000));
      const [cell] = cells;
      assert.deepEqual(shape(cell!), ['execute_result', 'stream:stderr']);
      const result = cell!.outputs![0]! as { data?: Record<string, unknown> };
      assert.deepEqual(result.data, { 'text/plain': '<IPython.core.display.HTML object>' });
      assert.match(
        (cell!.outputs![1]! as { text?: string }).text ?? '',
        /^Cellflow: \d+ characters of this cell's outputs were left out/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('output written below Python is in the cell that wrote it (issue 18)', () => {
  it('keeps it in order with what Python printed, and in the step log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-descriptors-'));
    try {
      const { run, cells } = await runCells(dir, [
        [
          ['step:mixed'],
          [
            'import ctypes',
            'import os',
            "print('python first')",
            "os.write(1, b'descriptor 1\\n')",
            "ctypes.CDLL(None).printf(b'C stdio\\n')",
            "print('python last')",
            "done = os.write(2, b'descriptor 2\\n')",
          ].join('\n'),
        ],
        [['step:program', 'prev:mixed'], "status = os.system('echo from a program')"],
      ]);
      assert.equal(run.code, 0, run.stderr);
      const [mixed, program] = cells;
      assert.deepEqual(mixed!.outputs, [
        {
          output_type: 'stream',
          name: 'stdout',
          // As written: steps run Python unbuffered (`-u`), which leaves C's stdio unbuffered too.
          text: 'python first\ndescriptor 1\nC stdio\npython last\n',
        },
        { output_type: 'stream', name: 'stderr', text: 'descriptor 2\n' },
      ]);
      assert.deepEqual(program!.outputs, [
        { output_type: 'stream', name: 'stdout', text: 'from a program\n' },
      ]);
      const runs = join(dir, '.cellflow', 'runs');
      const log = readFileSync(
        join(runs, readdirSync(runs)[0]!, 'steps', 'mixed', 'log.txt'),
        'utf8',
      );
      for (const line of ['python first', 'descriptor 1', 'C stdio', 'descriptor 2'])
        assert.ok(log.includes(`${line}\n`), `the step log has "${line}":\n${log}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("IPython's ast_node_interactivity decides which values a cell shows (issue 18)", () => {
  it('as set on InteractiveShell, on get_ipython() or by %config, in every later step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-interactivity-'));
    try {
      const { run, cells } = await runCells(dir, [
        [
          ['step:set'],
          'from IPython.core.interactiveshell import InteractiveShell\nInteractiveShell.ast_node_interactivity = "all"',
        ],
        [['step:every', 'prev:set'], 'xs = [1, 2, 3]\nlen(xs)\nsum(xs)\nfor v in xs:\n    v * 10'],
        [['step:quiet', 'prev:every'], 'len(xs)\nsum(xs);'],
        [['step:last', 'prev:quiet'], "get_ipython().ast_node_interactivity = 'last'"],
        [['step:loop', 'prev:last'], 'total = 0\nfor v in xs:\n    v - 1'],
        [
          ['step:assign', 'prev:loop'],
          "%config InteractiveShell.ast_node_interactivity = 'last_expr_or_assign'",
        ],
        [['step:bound', 'prev:assign'], 'zz = sum(xs) * 2'],
        [['step:none', 'prev:bound'], "%config InteractiveShell.ast_node_interactivity = 'none'"],
        [['step:nothing', 'prev:none'], '1 + 1'],
      ]);
      assert.equal(run.code, 0, run.stderr.slice(-2000));
      const results = (cell: Cell): unknown[] =>
        (cell.outputs ?? []).map(
          (o) => (o as { data?: Record<string, unknown> }).data?.['text/plain'],
        );
      const [, every, quiet, , loop, , bound, , nothing] = cells;
      assert.deepEqual(results(every!), ['3', '6', '10', '20', '30']);
      assert.deepEqual(results(quiet!), [], 'a cell ending in `;` shows nothing');
      assert.deepEqual(results(loop!), ['0', '1', '2']);
      assert.deepEqual(results(bound!), ['12']);
      assert.deepEqual(results(nothing!), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('markup cell magics show their body, as IPython displays it (issue 18)', () => {
  it('%%html, %%markdown, %%latex, %%svg and %%javascript', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-markup-'));
    try {
      const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>';
      const { run, cells } = await runCells(dir, [
        [['step:html'], '%%html\n<b>bold</b>'],
        [['step:markdown'], '%%markdown\n# Title'],
        [['step:latex'], '%%latex\n$x^2$'],
        [['step:svg'], `%%svg\n${svg}`],
        [['step:js'], '%%javascript\nconsole.log(1)'],
      ]);
      assert.equal(run.code, 0, run.stderr.slice(-2000));
      const shown = cells.map((c) => {
        const [output, ...more] = c.outputs ?? [];
        assert.equal(more.length, 0);
        assert.equal(output!.output_type, 'display_data');
        return output!.data;
      });
      assert.deepEqual(shown[0], {
        'text/html': '<b>bold</b>',
        'text/plain': '<IPython.core.display.HTML object>',
      });
      assert.deepEqual(shown[1], {
        'text/markdown': '# Title',
        'text/plain': '<IPython.core.display.Markdown object>',
      });
      assert.equal(shown[2]!['text/latex'], '$x^2$');
      assert.match(String(shown[3]!['image/svg+xml']), /^<svg [^>]*width="4"/);
      assert.equal(shown[4]!['application/javascript'], 'console.log(1)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("IPython's call escapes (issue 18)", () => {
  it("a lone `;` is a call of nothing, showing `''`; `/f a b` and `,f a b` call f", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-call-escapes-'));
    try {
      const { run, cells } = await runCells(dir, [
        [['step:quiet'], 'x = 40\nx + 2\n;'],
        [['step:calls'], 'def show(*a):\n    print(a)\n/show x 2\n,show a b'],
      ]);
      assert.equal(run.code, 0, run.stderr.slice(-2000));
      assert.deepEqual(shape(cells[0]!), ['execute_result']);
      assert.deepEqual((cells[0]!.outputs![0]! as { data?: unknown }).data, { 'text/plain': "''" });
      assert.deepEqual(
        cells[1]!.outputs!.map((o) => (o as { text?: string }).text),
        ["(40, 2)\n('a', 'b')\n"],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
