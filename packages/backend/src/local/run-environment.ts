/**
 * The environment every step of a run starts from: the caller's, plus the notebook's folder on
 * PYTHONPATH (as in Jupyter, modules beside the notebook import), the run id, one hash seed for the
 * run, and a thread budget for math libraries when steps run side by side.
 */
import { randomInt } from 'node:crypto';
import type { PipelineGraph } from '@cellflow/core';

/** Variables that size the thread pools of OpenMP, OpenBLAS, MKL, Accelerate and numexpr. */
export const THREAD_VARIABLES = [
  'OMP_NUM_THREADS',
  'OPENBLAS_NUM_THREADS',
  'MKL_NUM_THREADS',
  'VECLIB_MAXIMUM_THREADS',
  'NUMEXPR_NUM_THREADS',
];

/** The most steps that can run at once: the widest level of the graph (steps by longest path). */
export function graphWidth(graph: PipelineGraph): number {
  const depth = new Map<string, number>();
  for (const step of graph.steps) {
    depth.set(step.name, 1 + Math.max(0, ...step.after.map((d) => depth.get(d) ?? 0)));
  }
  const perLevel = new Map<number, number>();
  for (const d of depth.values()) perLevel.set(d, (perLevel.get(d) ?? 0) + 1);
  return Math.max(1, ...perLevel.values());
}

/**
 * Threads per step when steps share the cores (`cores / steps at once`, at least 1), or null when
 * they never run side by side. Each library otherwise starts one thread per core in every step, and
 * parallel steps slow each other down (on 2 cores, a logistic regression took 3x as long).
 */
export function threadsPerStep(
  graph: PipelineGraph,
  concurrency: number,
  cores: number,
): number | null {
  const atOnce = Math.min(concurrency, graphWidth(graph));
  return atOnce > 1 ? Math.max(1, Math.floor(cores / atOnce)) : null;
}

export function buildRunEnvironment(
  base: NodeJS.ProcessEnv,
  options: { readonly cwd: string; readonly runId: string; readonly threads: number | null },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  env.PYTHONPATH = env.PYTHONPATH ? `${options.cwd}:${env.PYTHONPATH}` : options.cwd;
  env.CELLFLOW_RUN_ID = options.runId;
  // One hash seed for every step of the run, as a kernel has one: a set of strings iterates in the
  // same order in the step that made it and in a step that loads it, forked or a fresh interpreter
  // (Python picks a seed per process otherwise). A new one each run, as each kernel's is.
  if (!env.PYTHONHASHSEED) env.PYTHONHASHSEED = String(randomInt(1, 2 ** 32 - 1));
  const userChose = THREAD_VARIABLES.some((v) => base[v] !== undefined);
  if (options.threads !== null && !userChose) {
    for (const v of THREAD_VARIABLES) env[v] = String(options.threads);
  }
  return env;
}
