/** How `cellflow schedule` and the editors read a schedule's trigger, and how versions are named. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BackendError,
  describeInterval,
  newestVersionsFirst,
  normalizeCron,
  parseScheduleInterval,
  parseScheduleTrigger,
  versionNameFor,
} from '@cellflow/backend';

const refused = (pattern: RegExp) => (error: unknown) =>
  error instanceof BackendError && error.code === 'bad-parameter' && pattern.test(error.message);

describe('schedule triggers', () => {
  it('reads intervals as seconds or durations', () => {
    assert.equal(parseScheduleInterval('90'), 90);
    assert.equal(parseScheduleInterval('90s'), 90);
    assert.equal(parseScheduleInterval('15m'), 900);
    assert.equal(parseScheduleInterval('1h30m'), 5400);
    assert.equal(parseScheduleInterval(' 1d '), 86_400);
    for (const bad of ['', '0', 'soon', '1w', '-5', '1.5h'])
      assert.throws(() => parseScheduleInterval(bad), refused(/is not an interval.*Fix/), bad);
    assert.equal(describeInterval(5400), 'every 1h30m');
    assert.equal(describeInterval(86_400 + 61), 'every 1d1m1s');
  });

  it("writes cron as KFP's six fields, seconds first", () => {
    assert.equal(normalizeCron('0 6 * * *'), '0 0 6 * * *');
    assert.equal(normalizeCron('*/5  * * * 1-5'), '0 */5 * * * 1-5');
    assert.equal(normalizeCron('30 0 6 * * ?'), '30 0 6 * * ?');
    assert.equal(normalizeCron('@hourly'), '@hourly');
    for (const bad of ['every day', '* * * *', '0 0 0 0 0 0 0', '0 6 * * * ;rm'])
      assert.throws(() => normalizeCron(bad), refused(/is not a cron schedule/), bad);
  });

  it('tells an interval from a cron expression as the editors pass it', () => {
    assert.deepEqual(parseScheduleTrigger('1h'), { intervalSeconds: 3600 });
    assert.deepEqual(parseScheduleTrigger('3600'), { intervalSeconds: 3600 });
    assert.deepEqual(parseScheduleTrigger('0 6 * * *'), { cron: '0 0 6 * * *' });
    assert.throws(() => parseScheduleTrigger('whenever'), refused(/not a cron schedule/));
  });

  it('names versions by pipeline, UTC time and content hash', () => {
    const at = new Date('2026-12-05T10:15:02.123Z');
    const name = versionNameFor('digits', 'pipelineInfo: {name: digits}\n', at);
    assert.match(name, /^digits-20261205-101502-[0-9a-f]{8}$/);
    assert.equal(versionNameFor('digits', 'pipelineInfo: {name: digits}\n', at), name);
    assert.notEqual(versionNameFor('digits', 'pipelineInfo: {name: other}\n', at), name);
  });

  it('orders versions of the same created_at second by the upload instant in their description', () => {
    const version = (id: string, createdAt: string, description?: string) => ({
      pipeline_id: 'p',
      pipeline_version_id: id,
      created_at: createdAt,
      ...(description !== undefined ? { description } : {}),
    });
    const at = (iso: string) => `Uploaded by Cellflow from digits.ipynb at ${iso}.`;
    const older = version('older', '2026-12-05T10:15:01Z', at('2026-12-05T10:15:01.900Z'));
    const first = version('first', '2026-12-05T10:15:02Z', at('2026-12-05T10:15:02.100Z'));
    const second = version('second', '2026-12-05T10:15:02Z', at('2026-12-05T10:15:02.700Z'));
    const foreign = version('foreign', '2026-12-05T10:15:02Z', 'Uploaded with the KFP SDK.');
    const ids = (vs: readonly { pipeline_version_id: string }[]) =>
      vs.map((v) => v.pipeline_version_id);
    // KFP orders a tie of seconds arbitrarily: every order of the listing gives the same answer.
    for (const listing of [
      [first, second, foreign, older],
      [foreign, first, second, older],
      [second, foreign, first, older],
    ])
      assert.deepEqual(ids(newestVersionsFirst(listing)), ['second', 'first', 'foreign', 'older']);
    assert.deepEqual(ids(newestVersionsFirst([older, foreign])), ['foreign', 'older']);
  });
});
