/** Issue 19: credentials and tokens are never shown, and secret-looking parameters are not kept. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BackendError, LocalBackend, redactSecrets, urlForDisplay } from '@cellflow/backend';
import { code, compileNotebook, PYTHON, runToEnd, tempDir } from './support/notebooks.js';

describe('issue 19: secrets are redacted', () => {
  it('a user:password in a URL and Authorization-like values in a server answer', () => {
    const error = new BackendError(
      'cluster-error',
      'KFP at https://alice:hunter2@kfp.example.com/pipeline answered 502: ' +
        '{"headers": {"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig", "X-Api-Key": "k-123456789"}} ' +
        'Cookie: session=abcdef123456; token=ghp_0123456789abcdef',
    );
    for (const secret of [
      'hunter2',
      'eyJhbGciOiJSUzI1NiJ9',
      'k-123456789',
      'abcdef123456',
      'ghp_0123',
    ])
      assert.ok(!error.message.includes(secret), `${secret} is shown: ${error.message}`);
    assert.match(error.message, /https:\/\/\*\*\*@kfp\.example\.com\/pipeline/);
    assert.match(error.message, /Bearer \*\*\*/);
    assert.equal(
      urlForDisplay('https://alice:hunter2@kfp.example.com/pipeline'),
      'https://kfp.example.com/pipeline',
      'links to the KFP UI carry no credentials',
    );
  });

  it('leaves ordinary messages alone', () => {
    for (const text of [
      'Missing or wrong agent token: send `Authorization: Bearer <token>`.',
      'Write `secret:SECRET_NAME:KEY:ENV_VAR`, e.g. `secret:s3-creds:access_key:AWS_KEY`.',
      'Cannot reach https://kfp.example.com:8443/pipeline (ECONNREFUSED).',
    ])
      assert.equal(redactSecrets(text), text);
  });

  describe('run history', () => {
    const work = tempDir('issue-19-secrets');
    after(work.remove);
    const backend = new LocalBackend({ workspace: work.dir, python: PYTHON });

    it('stores parameters that look secret, or are marked so, as ***; steps get the values', async () => {
      const nb = {
        cells: [
          code('DB_PASSWORD = "hunter2"\nREGION = "eu"\nSEED = 7', ['pipeline-parameters']),
          code('print(len(DB_PASSWORD), REGION, SEED)', ['step:use']),
        ],
        metadata: { cellflow: { name: 'secrets', secretParameters: ['REGION'] } },
        nbformat: 4,
        nbformat_minor: 5,
      };
      const { pipeline } = compileNotebook(nb, work.dir, 'secrets.ipynb');
      const run = await runToEnd(backend, pipeline);
      assert.equal(run.final.state, 'succeeded');
      const runDir = join(work.dir, '.cellflow/runs', run.ref.id);
      const record = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as {
        parameters: Record<string, unknown>;
      };
      assert.deepEqual(record.parameters, { DB_PASSWORD: '***', REGION: '***', SEED: 7 });
      assert.ok(!readFileSync(join(runDir, 'events.jsonl'), 'utf8').includes('hunter2'));
      assert.match(readFileSync(join(runDir, 'steps/use/log.txt'), 'utf8'), /7 eu 7/);
    });
  });
});
