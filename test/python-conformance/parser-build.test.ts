/**
 * Core's Python parser is generated from packages/core/src/python/grammar/python.grammar and
 * committed; a grammar edit without `npm run build-python-parser` would silently not take effect.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

describe('Python parser build', () => {
  it('the committed parser is generated from the committed grammar', () => {
    const check = spawnSync(process.execPath, ['scripts/build-python-parser.mjs', '--check'], {
      encoding: 'utf8',
    });
    assert.equal(check.status, 0, check.stderr);
  });
});
