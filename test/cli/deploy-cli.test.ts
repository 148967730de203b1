/**
 * Production deploys (issue 14), as a user runs them, against the test cluster and the KFP double:
 * `cellflow upload` makes a pipeline once and a version per upload; `cellflow schedule` creates,
 * lists, pauses, resumes and deletes recurring runs, and a due schedule starts a run (the double's
 * scheduler, ticked here) that `runs --cluster` shows and whose Argo Workflow exists.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { clusterFlags } from '../cluster/cli-flags.js';
import { describeWithCluster } from '../cluster/cluster-suite.js';
import { ControllerDriver } from '../cluster/controller-driver.js';
import { startKfpDouble, type KfpDouble } from '../cluster/kfp-double/index.js';
import { makeTempDir, removeTempDir } from '../support/temp-dirs.js';
import { runCliAsync, type CliRun } from './run-cli.js';

type Json = Record<string, any>;

describeWithCluster('cellflow upload / schedule (production deploys on KFP)', (ctx) => {
  let kfp: KfpDouble;
  let driver: ControllerDriver;
  let flags: string[];
  before(async () => {
    kfp = await startKfpDouble(ctx.cluster());
    driver = new ControllerDriver(ctx.cluster());
    flags = clusterFlags(ctx.cluster(), kfp);
  });
  after(async () => {
    await kfp?.stop();
  });

  const cellflow = (...args: string[]): Promise<CliRun> => runCliAsync(args);
  const versionsOf = (pipelineId: string): Json[] => kfp.pipelines.versionsOf(pipelineId);
  const HOUR = 3600_000;

  let pipelineId = '';
  let firstVersionId = '';
  let secondVersionId = '';

  it('upload: the first makes the pipeline and a version, the second only a new version', async () => {
    const first = await cellflow('upload', 'examples/digits.ipynb', ...flags);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /^Uploaded digits as version digits-\d{8}-\d{6}-[0-9a-f]{8} \(new pipeline\) to cluster context `admin`/m,
    );
    pipelineId = /pipeline id {2}(\S+)/.exec(first.stdout)?.[1] ?? '';
    firstVersionId = /version id {3}(\S+)/.exec(first.stdout)?.[1] ?? '';
    assert.ok(kfp.pipelines.pipelines.get(pipelineId)?.name === 'digits', first.stdout);
    assert.match(
      first.stdout,
      new RegExp(`KFP UI .*/#/pipelines/details/${pipelineId}/version/${firstVersionId}`),
    );

    // The same notebook again, within the same second: still a new version, with its own name.
    // KFP's `created_at` of the two is the same second then (the double's clock stops for it).
    const sameSecond = Date.parse(String(versionsOf(pipelineId)[0]?.created_at));
    kfp.pipelines.clock = () => sameSecond;
    const second = await cellflow('upload', 'examples/digits.ipynb', '--json', ...flags).finally(
      () => (kfp.pipelines.clock = Date.now),
    );
    assert.equal(second.code, 0, second.stderr);
    const upload = JSON.parse(second.stdout) as Json;
    assert.equal(upload.pipelineId, pipelineId);
    assert.equal(upload.pipelineCreated, false);
    secondVersionId = upload.versionId;
    assert.notEqual(secondVersionId, firstVersionId);
    const versions = versionsOf(pipelineId);
    assert.equal(versions.length, 2);
    assert.equal(versions[0]!.created_at, versions[1]!.created_at);
    assert.equal(new Set(versions.map((v) => v.name)).size, 2);
    assert.equal([...kfp.pipelines.pipelines.values()].length, 1, 'the pipeline is reused');

    // The version holds what `cellflow compile` writes (PipelineSpec and PlatformSpec documents).
    const dir = makeTempDir('cellflow-deploy-');
    try {
      const compiled = await cellflow(
        'compile',
        'examples/digits.ipynb',
        '-o',
        join(dir, 'd.yaml'),
      );
      assert.equal(compiled.code, 0, compiled.stderr);
      const [spec, platform] = parseAllDocuments(readFileSync(join(dir, 'd.yaml'), 'utf8')).map(
        (d) => d.toJS() as Json,
      );
      const stored = versions[1]!.pipeline_spec as Json;
      assert.deepEqual(
        platform === undefined ? stored : stored.pipeline_spec,
        spec,
        'the uploaded version is the compiled IR',
      );
    } finally {
      removeTempDir(dir);
    }
    // Uploads went through KFP's multipart upload endpoint.
    const uploads = kfp.requests.filter((r) => r.path.includes('/pipelines/upload_version'));
    assert.equal(uploads.length, 2);
    assert.ok(uploads.every((r) => r.status === 200));
  });

  let hourly = '';

  it('schedule create --interval: the newest version, its parameters; a due tick starts a run', async () => {
    const made = await cellflow(
      'schedule',
      'create',
      'examples/digits.ipynb',
      '--interval',
      '1h',
      '-p',
      'TEST_SIZE=0.3',
      ...flags,
    );
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^Scheduled digits every 1h: every 1h, version /m);
    hourly = /schedule id {2}(\S+)/.exec(made.stdout)?.[1] ?? '';
    const schedule = kfp.recurringRuns.get(hourly);
    assert.deepEqual(schedule.pipeline_version_reference, {
      pipeline_id: pipelineId,
      pipeline_version_id: secondVersionId,
    });
    assert.deepEqual(schedule.trigger, { periodic_schedule: { interval_second: '3600' } });
    assert.equal((schedule.runtime_config.parameters as Json).TEST_SIZE, 0.3);
    assert.equal(schedule.max_concurrency, '1');

    assert.deepEqual(await kfp.recurringRuns.tick(), [], 'not due before an hour has passed');
    const [runId] = await kfp.recurringRuns.tick(Date.now() + HOUR + 1000);
    assert.ok(runId !== undefined, 'a due schedule starts a run');
    const run = kfp.store.getRunRecord(runId);
    assert.equal(run.recurring_run_id, hourly);
    assert.equal((run.runtime_config.parameters as Json).TEST_SIZE, 0.3);
    assert.ok(await driver.findWorkflowForRun('kubeflow', runId), 'its Argo Workflow exists');
    // Max concurrency 1: the next period waits while that run is unfinished.
    assert.deepEqual(await kfp.recurringRuns.tick(Date.now() + 2 * HOUR + 2000), []);

    // KFP gives such a run its version, not its spec: Cellflow reads the spec from the version.
    assert.equal(
      (await (await fetch(`${kfp.url}/apis/v2beta1/runs/${runId}`)).json()).pipeline_spec,
      undefined,
    );
    const runs = await cellflow('runs', '--cluster', '--json', '--pipeline', 'digits', ...flags);
    assert.equal(runs.code, 0, runs.stderr);
    const listed = (JSON.parse(runs.stdout) as Json[]).find((r) => r.id === runId);
    assert.equal(listed?.pipeline, 'digits', runs.stdout);
    assert.ok(
      (listed.steps as Json[]).some((s) => s.name === 'pick_best'),
      JSON.stringify(listed.steps),
    );
    const status = await cellflow('status', runId, ...flags);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^Run ${runId} \\(digits\\)`, 'm'));
  });

  it('schedule create --cron on a chosen version; list, pause, resume, delete', async () => {
    const made = await cellflow(
      'schedule',
      'create',
      'examples/digits.ipynb',
      '--cron',
      '*/5 * * * *',
      '--pipeline-version',
      firstVersionId,
      '--max-concurrency',
      '2',
      '--name',
      'digits every five minutes',
      '--json',
      ...flags,
    );
    assert.equal(made.code, 0, made.stderr);
    const cron = JSON.parse(made.stdout) as Json;
    assert.equal(cron.trigger, 'cron 0 */5 * * * *');
    assert.equal(cron.versionId, firstVersionId);
    assert.equal(cron.maxConcurrency, 2);

    const listed = await cellflow('schedule', 'list', 'examples/digits.ipynb', ...flags);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(
      listed.stdout,
      new RegExp(
        `^${cron.id} +enabled +cron 0 \\*/5 \\* \\* \\* \\* +digits every five minutes`,
        'm',
      ),
    );
    assert.match(listed.stdout, new RegExp(`^${hourly} +enabled +every 1h +digits every 1h`, 'm'));

    const paused = await cellflow('schedule', 'pause', cron.id, ...flags);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /is paused\.$/m);
    assert.equal(kfp.recurringRuns.get(cron.id).status, 'DISABLED');
    const inTenMinutes = Date.now() + 10 * 60_000;
    const whilePaused = await kfp.recurringRuns.tick(inTenMinutes);
    assert.ok(
      whilePaused.every((id) => kfp.store.getRunRecord(id).recurring_run_id !== cron.id),
      'a paused schedule starts nothing',
    );
    const resumed = await cellflow('schedule', 'resume', cron.id, ...flags);
    assert.match(resumed.stdout, /is enabled\.$/m);
    const started = await kfp.recurringRuns.tick(Date.now() + 10 * 60_000);
    const fromCron = started.filter(
      (id) => kfp.store.getRunRecord(id).recurring_run_id === cron.id,
    );
    assert.equal(fromCron.length, 1, 'the resumed cron schedule starts a run');
    assert.deepEqual(kfp.store.getRunRecord(fromCron[0]!).pipeline_version_reference, {
      pipeline_id: pipelineId,
      pipeline_version_id: firstVersionId,
    });

    const deleted = await cellflow('schedule', 'delete', cron.id, ...flags);
    assert.equal(deleted.code, 0, deleted.stderr);
    const after = await cellflow('schedule', 'list', '--json', ...flags);
    assert.deepEqual(
      (JSON.parse(after.stdout) as Json[]).map((s) => s.id),
      [hourly],
    );
  });

  it('refuses what cannot be scheduled, saying what to do', async () => {
    const neither = await cellflow('schedule', 'create', 'examples/digits.ipynb', ...flags);
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /exactly one of --cron/);
    const badCron = await cellflow(
      'schedule', 'create', 'examples/digits.ipynb', '--cron', 'every day', ...flags,
    ); // prettier-ignore
    assert.equal(badCron.code, 2, badCron.stderr);
    assert.match(badCron.stderr, /is not a cron schedule\. Fix: give five fields/);
    const badInterval = await cellflow(
      'schedule', 'create', 'examples/digits.ipynb', '--interval', 'soon', ...flags,
    ); // prettier-ignore
    assert.equal(badInterval.code, 2);
    assert.match(badInterval.stderr, /is not an interval/);
    const notUploaded = await cellflow(
      'schedule', 'create', 'test/fixtures/notebooks/diamond.ipynb', '--interval', '1h', ...flags,
    ); // prettier-ignore
    assert.equal(notUploaded.code, 1);
    assert.match(notUploaded.stderr, /No pipeline named "diamond" is uploaded.*cellflow upload/);
    const badParam = await cellflow(
      'schedule', 'create', 'examples/digits.ipynb', '--interval', '1h', '-p', 'NOPE=1', ...flags,
    ); // prettier-ignore
    assert.equal(badParam.code, 2);
  });

  it('the double checks pipelines and recurring runs against the v2beta1 swagger', async () => {
    const post = async (path: string, body: unknown): Promise<{ status: number; body: Json }> => {
      const res = await fetch(`${kfp.url}/apis/v2beta1${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    const typo = await post('/pipelines', { name: 'x', descripton: 'typo' });
    assert.equal(typo.status, 400);
    assert.match(typo.body.message, /descripton/);
    const dup = await post('/pipelines', { name: 'digits' });
    assert.equal(dup.status, 409);
    const rr = await post('/recurringruns', {
      display_name: 'x',
      pipeline_version_reference: { pipeline_id: pipelineId },
      max_concurrency: '1',
      trigger: { periodic_schedule: { interval_seconds: '60' } },
    });
    assert.equal(rr.status, 400);
    assert.match(rr.body.message, /interval_seconds/);
    const tooMany = await post('/recurringruns', {
      display_name: 'x',
      pipeline_version_reference: { pipeline_id: pipelineId },
      max_concurrency: '11',
      trigger: { cron_schedule: { cron: '0 0 * * * *' } },
    });
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body.message, /max concurrency/);
    const form = new FormData();
    form.append('uploadfile', new Blob(['pipelineInfo: {name: x}\nroot: 3\n']), 'bad.yaml');
    const bad = await fetch(
      `${kfp.url}/apis/v2beta1/pipelines/upload_version?pipelineid=${pipelineId}&name=bad`,
      { method: 'POST', body: form },
    );
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as Json).message, /invalid pipeline spec/);
  });
});
