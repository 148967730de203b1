/**
 * What each cell of a cluster run showed, read back: every step that ran a pod says in its log
 * where its cells' outputs are (core's `readCellOutputsLine`). A step that succeeded names its
 * `cell-outputs` artifact, read through the KFP UI's artifact endpoint; a failed step, whose
 * artifacts KFP does not keep, carries them in that line (zlib-compressed JSON in base64).
 */
import { inflateSync } from 'node:zlib';
import { cellsOfEntryScript, readCellOutputsLine, type CellOutputs } from '@cellflow/core';
import { BackendError, type RunRef } from '../backend.js';
import type { KfpClient, KfpRun } from './kfp-client.js';
import type { KubeConnection } from './kube-connection.js';
import {
  findRunWorkflow,
  readStepPodLog,
  workflowNamespace,
  workflowPodsByNode,
} from './run-resources.js';
import { mapLimited } from './step-reports.js';
import { readWorkflowStatus } from './workflow-states.js';

/** Log lines read from the end of a step's log: the line is among the step's last. */
const TAIL_LINES = 200;
const STEPS_AT_ONCE = 4;

/** The cells' outputs of a cluster run, and the steps that left none to read. */
export interface ClusterCellOutputs {
  readonly cells: readonly CellOutputs[];
  /** Steps with no outputs to read, with why (taken from KFP's cache, not run, no line). */
  readonly missing: readonly { readonly step: string; readonly why: string }[];
}

/** A step keeps at most 8 MiB of outputs (the runtime's bound); what inflates past this is refused. */
const MAX_INLINE_BYTES = 32 << 20;

/** The JSON of a failed step's inline outputs (zlib, base64), bounded. */
function inflateInline(data: string, where: string): unknown {
  try {
    const text = inflateSync(Buffer.from(data, 'base64'), { maxOutputLength: MAX_INLINE_BYTES });
    return JSON.parse(text.toString('utf8'));
  } catch (error) {
    throw new BackendError(
      'cluster-error',
      `${where} carries cell outputs that cannot be read (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
}

/** A failed step's outputs from its log line's data (`where` names it in errors). */
export function readInlineCellOutputs(data: string, where: string): CellOutputs[] {
  return cellsOf(inflateInline(data, where), where);
}

function cellsOf(document: unknown, where: string): CellOutputs[] {
  if (typeof document === 'string') {
    try {
      document = JSON.parse(document);
    } catch {
      throw new BackendError('cluster-error', `${where} is not JSON.`);
    }
  }
  const cells = (document as { cells?: unknown } | null)?.cells;
  if (!Array.isArray(cells))
    throw new BackendError('cluster-error', `${where} holds no cell outputs (no "cells" list).`);
  return (cells as Partial<CellOutputs>[]).filter(
    (c): c is CellOutputs =>
      typeof c === 'object' && c !== null && Number.isInteger(c.cell) && Array.isArray(c.outputs),
  );
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};

/** Cell index -> the code the run ran there, from its pipeline spec's entry scripts. */
export function codeRunByKfpRun(run: KfpRun): Map<number, string> {
  const spec = obj(run.pipeline_spec);
  const inner = spec.pipeline_spec !== undefined ? obj(spec.pipeline_spec) : spec;
  const ran = new Map<number, string>();
  for (const executor of Object.values(obj(obj(inner.deploymentSpec).executors))) {
    const script = (obj(obj(executor).container).command as unknown[] | undefined)?.[3];
    if (typeof script === 'string')
      for (const { cell, code } of cellsOfEntryScript(script)) ran.set(cell, code);
  }
  return ran;
}

/**
 * Reads the cells' outputs of `steps` (step name -> KFP task name) of one run: one workflow read,
 * one pod list, then each finished step's log tail and (when it succeeded) its artifact.
 */
export async function readClusterCellOutputs(
  kube: KubeConnection,
  kfp: KfpClient,
  run: RunRef,
  steps: ReadonlyMap<string, string>,
): Promise<ClusterCellOutputs> {
  const missing: { step: string; why: string }[] = [];
  const workflow = await findRunWorkflow(kube, run);
  if (workflow === undefined)
    throw new BackendError(
      'not-found',
      `Run ${run.id} has no workflow on the cluster any more, so its steps' logs, which say where their cells' outputs are, are gone.`,
    );
  const namespace = workflowNamespace(kube, workflow);
  const status = readWorkflowStatus(workflow, steps).steps;
  const pods = await workflowPodsByNode(kube, workflow);
  const found: [string, string][] = [];
  for (const step of steps.keys()) {
    const s = status.get(step);
    const pod = s?.executorNode !== undefined ? pods.get(s.executorNode) : undefined;
    if (pod !== undefined && (s?.state === 'succeeded' || s?.state === 'failed'))
      found.push([step, pod]);
    else
      missing.push({
        step,
        why:
          s?.state === 'cached'
            ? 'taken from KFP’s cache, it ran no pod'
            : `it ${s?.state === undefined ? 'did not run' : `is ${s.state}`}`,
      });
  }
  const read = await mapLimited(found, STEPS_AT_ONCE, async ([step, pod]) => {
    const log = await readStepPodLog(kube, namespace, pod, TAIL_LINES, {
      retries: 1,
      timeoutMs: 30_000,
    });
    const where = readCellOutputsLine(log);
    if (where === undefined) {
      missing.push({ step, why: 'its log says nothing of its cells’ outputs' });
      return [];
    }
    if ('inline' in where) return readInlineCellOutputs(where.inline, `The log of step ${step}`);
    return cellsOf(await kfp.readArtifact(where.uri, namespace), `The artifact ${where.uri}`);
  });
  return { cells: read.flat(), missing };
}
