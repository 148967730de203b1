import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { SHARED_SCHEMAS, validatePipelineYaml } from './kfp-ir.js';

const referenceDir = join(SHARED_SCHEMAS, 'kfp/reference-pipelines');

describe('KFP IR validator', () => {
  it('accepts every upstream reference pipeline', () => {
    // The `yaml` library rejects this file's over-dedented quoted-scalar continuation lines (KFP's
    // PyYAML output); Cellflow never writes that form, so only the YAML reader is at stake there.
    const unreadable = new Set(['critical_pipeline_with_secret_as_env.yaml']);
    const files = readdirSync(referenceDir).filter((f) => !unreadable.has(f));
    assert.ok(files.length >= 7);
    for (const file of files) {
      assert.deepEqual(
        validatePipelineYaml(readFileSync(join(referenceDir, file), 'utf8')),
        [],
        file,
      );
    }
  });

  it('rejects an unknown field, a bad enum and a dangling reference', () => {
    const text = readFileSync(join(referenceDir, 'critical_add_numbers.yaml'), 'utf8');
    const spec = parse(text) as Record<string, any>;
    const typo = structuredClone(spec);
    typo.pipelineInfo.nmae = 'x';
    assert.match(validatePipelineYaml(stringify(typo)).join('\n'), /nmae/);
    const badEnum = structuredClone(spec);
    const comp = Object.values(badEnum.components as Record<string, any>)[0];
    const param = Object.values(comp.inputDefinitions.parameters as Record<string, any>)[0];
    param.parameterType = 'NUMBER_INTEGRAL';
    assert.notDeepEqual(validatePipelineYaml(stringify(badEnum)), []);
    const dangling = structuredClone(spec);
    const task = Object.values(dangling.root.dag.tasks as Record<string, any>)[0];
    task.componentRef.name = 'comp-missing';
    assert.match(validatePipelineYaml(stringify(dangling)).join('\n'), /comp-missing/);
  });

  it('checks the Kubernetes platform document', () => {
    const text = readFileSync(
      join(referenceDir, 'gpu-scheduling_nvidia_gpu_scheduling_check.yaml'),
      'utf8',
    );
    const [spec, platform] = parseAllDocuments(text).map((d) => d.toJS() as Record<string, any>);
    platform!.platforms.kubernetes.deploymentSpec.executors[
      'exec-verify-gpu-scheduled'
    ].tolerations[0].efect = 'NoSchedule';
    assert.match(
      validatePipelineYaml(`${stringify(spec)}---\n${stringify(platform)}`).join('\n'),
      /efect/,
    );
  });
});
