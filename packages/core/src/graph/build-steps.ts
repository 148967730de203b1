/**
 * Pass 8: the resolved, ordered steps as the graph's `PipelineStep`s, with each step's image,
 * resources and environment (a `%env` in a step holds in the later steps too: they run in new
 * processes, so they get it explicitly).
 */
import { durationToSeconds } from '../tags/tag-value-limits.js';
import type { MagicEnv } from './analyze-blocks.js';
import type { PipelineStep } from './pipeline-graph.js';
import type { ResolvedStep } from './resolve-data-flow.js';
import { resourcesOf } from './step-tags.js';

export function buildPipelineSteps(
  steps: readonly ResolvedStep[],
  after: ReadonlyMap<string, ReadonlySet<string>>,
  magicEnv: ReadonlyMap<number, readonly MagicEnv[]>,
  /** For steps without an `image:` tag. */
  image: string,
): PipelineStep[] {
  const order = new Map(steps.map((d, i) => [d.name, i]));
  const inheritedEnv = new Map<ResolvedStep, Record<string, string>>();
  let envSoFar: Record<string, string> = {};
  for (const d of steps) {
    inheritedEnv.set(d, envSoFar);
    envSoFar = { ...envSoFar };
    for (const c of d.cells) for (const e of magicEnv.get(c) ?? []) envSoFar[e.name] = e.value;
  }
  return steps.map((d) => {
    const sortedAfter = [...(after.get(d.name) ?? [])].sort(
      (a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0),
    );
    const inputs = [...d.inputs.keys()].sort();
    const outputs = [...d.outputs.keys()].sort();
    return {
      name: d.name,
      cells: d.cells,
      after: sortedAfter,
      units: d.units.map((u) => ({
        kind: u.ref.unit.kind,
        cell: u.ref.unit.cell,
        line: u.ref.unit.line,
        code: u.ref.unit.code,
        names: u.ref.unit.names,
        eager: u.eager,
        needs: u.needs,
        inputs: u.inputs,
      })),
      inputs,
      inputSources: Object.fromEntries(inputs.map((i) => [i, d.inputs.get(i)!])),
      parameters: [...d.parameters].sort(),
      outputs,
      outputCells: Object.fromEntries(outputs.map((o) => [o, d.outputs.get(o)!])),
      shared: d.shared,
      metrics: d.metrics,
      image: d.tags.image ?? image,
      resources: resourcesOf(d.tags),
      labels: d.tags.labels,
      annotations: d.tags.annotations,
      env: { ...inheritedEnv.get(d), ...d.tags.env },
      secrets: d.tags.secrets,
      retries: d.tags.retries ?? 0,
      timeoutSeconds: d.tags.timeout !== undefined ? durationToSeconds(d.tags.timeout) : null,
      cache: d.tags.cache ?? true,
      serve: d.tags.serve,
      packages: d.tags.packages,
    };
  });
}
