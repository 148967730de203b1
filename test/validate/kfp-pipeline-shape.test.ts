/**
 * The shape of the IR at scale: the step runtime once per pipeline (written by one cached task,
 * read by every step), wide pipelines grouped into sub-DAGs within Argo's 200 tasks per DAG, and
 * every step found again in the spec.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  compile,
  MAX_STEPS_PER_DAG,
  RUNTIME_SOURCE,
  stepTasksOfPipelineSpec,
  taskNameForStep,
} from '@cellflow/core';
import { parseAllDocuments } from 'yaml';
import { syntheticNotebook } from '../../bench/compile/synthetic-notebook.js';
import { repoRoot } from '../golden/golden-cases.js';
import { validatePipelineYaml } from './kfp-ir.js';
import { PYTHON } from '../support/paths.js';

type Json = Record<string, any>;

/**
 * Prints whether two Python files parse to the same tree once docstrings are emptied (files: the
 * runtime is longer than one command-line argument may be).
 */
const SAME_TREE_BUT_DOCSTRINGS = `
import ast, sys
def tree(source):
    t = ast.parse(source)
    for node in ast.walk(t):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body[0].value.value = ""
    return ast.dump(t)
print(tree(open(sys.argv[1]).read()) == tree(open(sys.argv[2]).read()))
`;

function specOf(yaml: string): Json {
  return parseAllDocuments(yaml)[0]!.toJS() as Json;
}

describe('KFP pipeline shape', () => {
  it('the runtime task writes exactly the runtime every step reads from its first argument', () => {
    const yaml = compile(readFileSync(join(repoRoot, 'examples/digits.ipynb')), {
      fileName: 'digits.ipynb',
    }).yaml!;
    const spec = specOf(yaml);
    const writer = spec.deploymentSpec.executors['exec-cellflow-runtime'].container;
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-runtime-'));
    try {
      const path = join(dir, 'artifacts', 'runtime');
      execFileSync(PYTHON, [...writer.command.slice(1), path, ...writer.args.slice(1)]);
      const written = readFileSync(path, 'utf8');
      // The runtime with its comment lines and docstrings blanked (same lines, same syntax tree but
      // for the docstrings' text), then the units.
      const at = written.lastIndexOf('\nUNIT_TABLE = ');
      const [runtime, table] = [written.slice(0, at), written.slice(at)];
      assert.equal(runtime.split('\n').length, RUNTIME_SOURCE.split('\n').length);
      assert.ok(!runtime.includes('"""') && /^\s*"""/m.test(RUNTIME_SOURCE), 'docstrings left out');
      writeFileSync(join(dir, 'written.py'), runtime);
      writeFileSync(join(dir, 'source.py'), RUNTIME_SOURCE);
      const sameTree = execFileSync(PYTHON, [
        '-c',
        SAME_TREE_BUT_DOCSTRINGS,
        join(dir, 'written.py'),
        join(dir, 'source.py'),
      ]);
      assert.equal(String(sameTree).trim(), 'True');
      assert.match(table, /"code": r'''from sklearn.model_selection import GridSearchCV/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.ok(!yaml.includes('def main(step, parameters'), 'no step carries the runtime itself');
    // The runtime is there once, deflated (about 30 KB); a copy per step would add as much again
    // for each of digits' steps.
    assert.ok(yaml.length < 72_000, `digits IR is ${yaml.length} bytes`);
    for (const { task } of stepTasksOfPipelineSpec(spec)) {
      const step = spec.components[`comp-${task}`];
      assert.ok(step.inputDefinitions.artifacts['cellflow-runtime'], task);
      assert.deepEqual(spec.root.dag.tasks[task].inputs.artifacts['cellflow-runtime'], {
        taskOutputArtifact: { producerTask: 'cellflow-runtime', outputArtifactKey: 'runtime' },
      });
      // What its cells showed: nbformat outputs as JSON, and a page KFP's UI shows (system.HTML).
      const outputs = step.outputDefinitions.artifacts;
      assert.deepEqual(outputs['cell-outputs'].artifactType.schemaTitle, 'system.Artifact', task);
      assert.deepEqual(outputs['cell-outputs-html'].artifactType.schemaTitle, 'system.HTML', task);
      // Parameters and artifact paths reach the runtime in KFP's executor input, no flag each.
      const container = spec.deploymentSpec.executors[`exec-${task}`].container;
      assert.deepEqual(container.args, [
        "{{$.inputs.artifacts['cellflow-runtime'].path}}",
        '--executor-input',
        '{{$}}',
      ]);
    }
    assert.deepEqual(spec.root.dag.tasks['cellflow-runtime'].cachingOptions, { enableCache: true });
  });

  it('groups 200 steps into sub-DAGs that each stay within Argo limits, passing data across', () => {
    const result = compile(syntheticNotebook(200, 5), { fileName: 'wide.ipynb' });
    assert.ok(result.yaml && result.graph, JSON.stringify(result.diagnostics));
    assert.ok(result.yaml.length < 2 ** 20, `the 200-step IR is ${result.yaml.length} bytes`);
    assert.deepEqual(validatePipelineYaml(result.yaml), []);
    const spec = specOf(result.yaml);
    const groups = Object.keys(spec.root.dag.tasks).filter((t) => t !== 'cellflow-runtime');
    assert.equal(groups.length, Math.ceil(200 / MAX_STEPS_PER_DAG));
    for (const dag of [spec.root.dag, ...groups.map((g) => spec.components[`comp-${g}`].dag)])
      assert.ok(2 * Object.keys(dag.tasks).length <= 200);
    // Every step is found again, once, by its own task name.
    assert.deepEqual(
      stepTasksOfPipelineSpec(spec).map((s) => s.step),
      result.graph.steps.map((s) => s.name),
    );
    // A step reading a value made in another group gets it through both groups' boundaries.
    const crossing = result.graph.steps.find((s) =>
      s.inputs.some(
        (i) =>
          Math.floor(
            result.graph!.steps.findIndex((p) => p.name === s.inputSources[i]) / MAX_STEPS_PER_DAG,
          ) !== Math.floor(result.graph!.steps.indexOf(s) / MAX_STEPS_PER_DAG),
      ),
    );
    assert.ok(crossing, 'the synthetic notebook passes data across a group boundary');
    const group = groups[Math.floor(result.graph.steps.indexOf(crossing) / MAX_STEPS_PER_DAG)]!;
    const inner = spec.components[`comp-${group}`].dag.tasks[taskNameForStep(crossing.name)];
    assert.ok(
      Object.values(inner.inputs.artifacts).some(
        (a: any) =>
          typeof a.componentInputArtifact === 'string' &&
          a.componentInputArtifact.startsWith('pipelinechannel--step-'),
      ),
    );
  });
});
