/**
 * The data contract's oracle: running the compiled steps (each a fresh Python process, data passed
 * only through the marshalled outputs) must report the same metrics as running the notebook top to
 * bottom in a real Jupyter kernel (`jupyter nbconvert --execute`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { compile, type CompiledPipeline } from '@cellflow/core';
import { repoRoot } from '../golden/golden-cases.js';
import { PYTHON } from '../support/paths.js';

const RUNNABLE = [
  'diamond',
  'fan-out',
  'magics',
  'mutation',
  'functions-globals',
  'function-effects',
  'argument-effects',
  'xgboost-dmatrix',
  'get-ipython',
  'classes',
  'comprehensions',
  'try-except',
  'del',
  'shadowing',
  'functions-held',
];
const work = mkdtempSync(join(tmpdir(), 'cellflow-semantics-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Metrics as the notebook prints them, from a real kernel run. */
function notebookMetrics(path: string, pipeline: CompiledPipeline): Record<string, string> {
  const out = join(work, `${Math.random().toString(36).slice(2)}.ipynb`);
  execFileSync(
    PYTHON,
    ['-m', 'nbconvert', '--to', 'notebook', '--execute', path, '--output', out],
    { stdio: 'pipe' },
  );
  const executed = JSON.parse(readFileSync(out, 'utf8'));
  const metricsCell = pipeline.graph.metrics[0]!.cell;
  const text = (executed.cells[metricsCell].outputs as { text?: string | string[] }[])
    .map((o) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? '')))
    .join('');
  const printed = text.trimEnd().split('\n');
  return Object.fromEntries(
    pipeline.graph.metrics.map((m, i) => [m.name, printed[i] ?? '<missing>']),
  );
}

/** Runs each step's entry script in notebook order, as separate processes. */
function pipelineMetrics(
  name: string,
  pipeline: CompiledPipeline,
): Record<string, number | string> {
  const dir = join(work, name);
  const metrics: Record<string, number | string> = {};
  const params = new Map(pipeline.graph.parameters.map((p) => [p.name, p.default]));
  for (const step of pipeline.graph.steps) {
    const script = join(work, `${name}-${step.name}.py`);
    writeFileSync(script, pipeline.scriptFor(step.name));
    const args = [script];
    for (const p of step.parameters) args.push('--param', `${p}=${String(params.get(p))}`);
    for (const i of step.inputs)
      args.push('--input', `${i}=${join(dir, step.inputSources[i]!, i)}`);
    for (const o of step.outputs) args.push('--output', `${o}=${join(dir, step.name, o)}`);
    const metricsFile = join(work, `${name}-${step.name}.metrics.json`);
    if (step.metrics.length > 0) args.push('--metrics-file', metricsFile);
    execFileSync(PYTHON, args, { stdio: 'pipe', cwd: work, env: { ...process.env, ...step.env } });
    if (step.metrics.length > 0)
      Object.assign(metrics, JSON.parse(readFileSync(metricsFile, 'utf8')));
  }
  return metrics;
}

function asComparable(printed: string): number | string {
  if (printed === 'True') return 1;
  if (printed === 'False') return 0;
  const n = Number(printed);
  return printed.trim() !== '' && Number.isFinite(n) ? n : printed;
}

describe('pipeline results equal the notebook run top to bottom', () => {
  for (const name of RUNNABLE) {
    it(name, () => {
      const path = join(repoRoot, 'test/fixtures/notebooks', `${name}.ipynb`);
      const result = compile(readFileSync(path), { fileName: name });
      assert.ok(result.pipeline, JSON.stringify(result.diagnostics));
      assert.ok(result.pipeline.graph.metrics.length > 0, 'runnable fixtures report metrics');
      const expected = notebookMetrics(path, result.pipeline);
      const actual = pipelineMetrics(name, result.pipeline);
      assert.deepEqual(
        actual,
        Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, asComparable(v)])),
      );
    });
  }
});
