import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validatePipelineYaml } from '../validate/kfp-ir.js';
import { goldenCases, goldenDir, goldenOutput } from './golden-cases.js';

const cases = goldenCases();

describe('golden outputs (regenerate with `npm run golden`, then review the diff)', () => {
  it('covers every fixture, and no golden folder is stale', () => {
    assert.ok(cases.length >= 15, `only ${cases.length} fixtures found`);
    const folders = readdirSync(goldenDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    assert.deepEqual(folders.sort(), cases.map((c) => c.name).sort());
  });

  for (const c of cases) {
    it(c.name, () => {
      const out = goldenOutput(c);
      assert.equal(
        out.inspectJson,
        readFileSync(join(goldenDir, c.name, 'inspect.json'), 'utf8'),
        'inspect.json differs',
      );
      const yamlPath = join(goldenDir, c.name, 'pipeline.yaml');
      if (out.pipelineYaml === null) {
        assert.equal(
          existsSync(yamlPath),
          false,
          'errors expected, but a golden pipeline.yaml exists',
        );
        return;
      }
      assert.equal(out.pipelineYaml, readFileSync(yamlPath, 'utf8'), 'pipeline.yaml differs');
      assert.deepEqual(
        validatePipelineYaml(out.pipelineYaml),
        [],
        'the emitted IR must validate against the KFP protos',
      );
    });
  }
});
