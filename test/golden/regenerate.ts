/** `npm run golden`: rewrites every golden file from the current compiler. Review the diff. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  goldenCases,
  goldenDir,
  goldenOutput,
  inferenceServiceGolden,
  katibExperimentGolden,
} from './golden-cases.js';

for (const c of goldenCases()) {
  const dir = join(goldenDir, c.name);
  mkdirSync(dir, { recursive: true });
  const out = goldenOutput(c);
  writeFileSync(join(dir, 'inspect.json'), out.inspectJson);
  if (out.pipelineYaml !== null) writeFileSync(join(dir, 'pipeline.yaml'), out.pipelineYaml);
  else rmSync(join(dir, 'pipeline.yaml'), { force: true });
  console.log(
    `${c.name}: ${out.pipelineYaml !== null ? 'inspect.json, pipeline.yaml' : 'inspect.json (errors)'}`,
  );
}

const isvc = inferenceServiceGolden();
writeFileSync(isvc.path, isvc.yaml);
console.log('example-digits: inference-service.yaml');

const katib = katibExperimentGolden();
writeFileSync(katib.path, katib.yaml);
console.log('example-digits: katib-experiment.yaml');
