/**
 * Issue 18 on a cluster: the cell-outputs fixture submitted to the test cluster, its IR run through
 * the upstream KFP SDK (test/support/kfp-step-logs.ts: placeholder resolution, the executor input,
 * every declared output artifact registered as KFP's launcher does, none for the failing task).
 * Each step's `cell-outputs` and `cell-outputs-html` artifacts are put in the KFP double's store
 * under the URIs KFP would keep them at; the steps' pods print what the steps printed. Then
 * `cellflow outputs RUN_ID` reads the artifacts back through the KFP UI's artifact endpoint
 * (`ml-pipeline-ui`, through the API server) and the failed step's outputs from its log: the
 * executed notebook validates with nbformat, has each output on the cell that made it, its images
 * decode, and the failing step keeps what its cell showed before the error, and the error.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { clusterFlags } from '../cluster/cli-flags.js';
import { describeWithCluster } from '../cluster/cluster-suite.js';
import { ControllerDriver } from '../cluster/controller-driver.js';
import { startKfpDouble, type KfpDouble } from '../cluster/kfp-double/index.js';
import { repoRoot } from '../golden/golden-cases.js';
import { decodesAsPng, nbformatProblems, shape, type Cell } from '../support/executed-notebooks.js';
import { makeTempDir, removeTempDir } from '../support/temp-dirs.js';
import { KFP_SDK_PYTHONPATH, kfpStepRun } from '../support/kfp-step-logs.js';
import { notebookJson } from '../support/notebook-json.js';
import { runCliAsync, type CliRun } from './run-cli.js';

const FIXTURE = join(repoRoot, 'test/fixtures/notebooks/cell-outputs.ipynb');
const dir = makeTempDir('cellflow-cluster-outputs-');
mkdirSync(join(dir, 'cache'));
process.env.XDG_CACHE_HOME = join(dir, 'cache');

describeWithCluster('executed notebook of a cluster run, from its artifacts (issue 18)', (ctx) => {
  let kfp: KfpDouble;
  let driver: ControllerDriver;
  let flags: string[];
  before(async () => {
    kfp = await startKfpDouble(ctx.cluster());
    driver = new ControllerDriver(ctx.cluster());
    flags = clusterFlags(ctx.cluster(), kfp);
  });
  after(async () => {
    await kfp.stop();
    removeTempDir(dir);
  });

  const cellflow = (...args: string[]): Promise<CliRun> => runCliAsync(args, { cwd: dir });

  it('`cellflow outputs RUN_ID` writes the executed notebook of a cluster run', async (t) => {
    if (!existsSync(join(KFP_SDK_PYTHONPATH, 'kfp/__init__.py'))) {
      t.skip(`no KFP SDK at ${KFP_SDK_PYTHONPATH}`);
      return;
    }
    const ir = join(dir, 'cell-outputs.yaml');
    const compiled = await cellflow('compile', FIXTURE, '-o', ir);
    assert.equal(compiled.code, 0, compiled.stderr);
    const submitted = await cellflow('submit', FIXTURE, ...flags);
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = /Submitted run (\S+)/.exec(submitted.stdout)![1]!;

    const run = await kfpStepRun(ir, dir, 'cell-outputs', id, { allowFailure: true });
    assert.equal(run.failedTask, 'fail');
    assert.deepEqual(run.artifacts.fail, {}, 'KFP keeps no artifact of a failed task');
    for (const task of ['load', 'plot', 'image', 'big']) {
      const json = run.artifacts[task]!['cell-outputs']!;
      const html = run.artifacts[task]!['cell-outputs-html']!;
      assert.equal(json.type, 'system.Artifact');
      assert.equal(html.type, 'system.HTML');
      kfp.artifacts.put(json.clusterUri, readFileSync(json.file));
      kfp.artifacts.put(html.clusterUri, readFileSync(html.file));
      assert.match(run.logs[task]!, new RegExp(`^cellflow-cell-outputs: ${json.clusterUri}$`, 'm'));
    }
    // The page KFP's UI shows for the plot step: the frame as a table, the figure as an image.
    const page = readFileSync(run.artifacts.plot!['cell-outputs-html']!.file, 'utf8');
    assert.match(page, /^<!DOCTYPE html>/);
    assert.match(page, /<h4>Cell 4<\/h4>.*<table/s);
    assert.match(page, /<img src="data:image\/png;base64,iVBORw0KGgo/);
    assert.match(run.logs.fail!, /^cellflow-cell-outputs: inline:[A-Za-z0-9+/=]+$/m);

    const wf = (await driver.findWorkflowForRun('kubeflow', id))!;
    await driver.runWorkflowToCompletion('kubeflow', wf.metadata.name!, {
      logs: run.logs,
      failTask: 'fail',
    });

    // The notebook comes from where the run was submitted from (its description says).
    const out = join(dir, 'executed.ipynb');
    const outputs = await cellflow('outputs', id, ...flags, '-o', out);
    assert.equal(outputs.code, 0, outputs.stderr);
    assert.match(
      outputs.stderr,
      /Wrote .*executed\.ipynb: the run's notebook with the outputs of 5 cells/,
    );
    assert.deepEqual(
      kfp.artifacts.reads.sort(),
      ['big', 'image', 'load', 'plot'].map(
        (task) => run.artifacts[task]!['cell-outputs']!.clusterUri,
      ),
      'each succeeded step’s cell-outputs artifact is read once, through the KFP UI endpoint',
    );
    assert.equal(nbformatProblems(out), '');
    const cells = (JSON.parse(readFileSync(out, 'utf8')) as { cells: Cell[] }).cells;
    assert.deepEqual(
      cells.map((c) => c.execution_count ?? null),
      [null, null, 1, 2, 3, 4, 5],
    );
    assert.deepEqual(shape(cells[2]!), ['stream:stdout', 'execute_result']);
    assert.equal(cells[2]!.outputs![0]!.text, 'loading\n');
    assert.match(String(cells[2]!.outputs![1]!.data!['text/html']), /<table/);
    assert.deepEqual(shape(cells[3]!), ['display_data', 'display_data', 'stream:stdout']);
    assert.deepEqual(shape(cells[4]!), ['display_data']);
    for (const output of [cells[3]!.outputs![1]!, cells[4]!.outputs![0]!, cells[6]!.outputs![1]!])
      assert.ok(decodesAsPng(output), JSON.stringify(output).slice(0, 200));
    const [printed, note] = cells[5]!.outputs!;
    assert.equal(printed!.text!.length, 1 << 20);
    assert.match(note!.text!, /^Cellflow: 524289 characters of this cell's outputs were left out/);

    // The failed step: what its cell showed before the error (from its log), then the error.
    assert.deepEqual(shape(cells[6]!), ['stream:stderr', 'display_data', 'error']);
    assert.equal(cells[6]!.outputs![0]!.text, 'about to fail\n');
    const error = cells[6]!.outputs![2]!;
    assert.equal(error.ename, 'ValueError');
    assert.equal(error.evalue, 'the last step fails on purpose');
    assert.ok(error.traceback!.some((l) => /File "<cell \d+>", line 5/.test(l)));

    // --notebook names it; a notebook that is not the run's is refused with the fix.
    const named = await cellflow(
      'outputs',
      id,
      ...flags,
      '--notebook',
      FIXTURE,
      '-o',
      join(dir, 'named.ipynb'),
    );
    assert.equal(named.code, 0, named.stderr);
    assert.equal(readFileSync(join(dir, 'named.ipynb'), 'utf8'), readFileSync(out, 'utf8'));
    // The same notebook with one cell edited since: its outputs would sit on other code.
    const edited = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { cells: { source: string[] }[] };
    edited.cells[3]!.source.push('\nprint("added since")');
    writeFileSync(join(dir, 'edited.ipynb'), JSON.stringify(edited));
    const stale = await cellflow('outputs', id, ...flags, '--notebook', join(dir, 'edited.ipynb'));
    assert.equal(stale.code, 1);
    assert.match(
      stale.stderr,
      /edited\.ipynb is not the notebook run \S+ ran: its cell 4 holds other code than the run ran\. Fix:/,
    );
    const other = join(dir, 'other.ipynb');
    writeFileSync(other, notebookJson([[[], 'x = 1']]));
    const refused = await cellflow('outputs', id, ...flags, '--notebook', other);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /other\.ipynb is not the notebook run \S+ ran: its cell 3 is not a code cell there\. Fix: pass the notebook as it was submitted/,
    );
  });
});
