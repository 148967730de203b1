/**
 * Turns a `PipelinePayload` from a client back into a `CompiledPipeline` the agent trusts: the
 * notebook is compiled again here, so only scripts this agent generated ever run.
 */
import {
  compile,
  hasErrors,
  type CompiledPipeline,
  type Notebook,
  type PipelineGraph,
} from '@cellflow/core';
import { AgentRequestError } from './agent-request-error.js';

export function pipelineFromPayload(payload: unknown, where = 'pipeline'): CompiledPipeline {
  if (!isRecord(payload) || !isRecord(payload['notebook']) || !isRecord(payload['graph']))
    throw new AgentRequestError(
      'bad-request',
      `\`${where}\` must be { notebook, graph } as \`pipelinePayloadOf(compiled)\` builds it.`,
    );
  const notebook = payload['notebook'] as unknown as Notebook;
  const sent = payload['graph'] as unknown as PipelineGraph;
  if (!Array.isArray(notebook.cells) || !isRecord(sent.pipeline) || !Array.isArray(sent.steps))
    throw new AgentRequestError(
      'bad-request',
      `\`${where}.notebook\` needs \`cells\` and \`${where}.graph\` needs \`pipeline\` and \`steps\`.`,
    );
  let result;
  try {
    result = compile(notebook, { fileName: `${String(sent.pipeline.name)}.ipynb` });
  } catch (error) {
    throw new AgentRequestError(
      'bad-request',
      `\`${where}.notebook\` is not a notebook Cellflow can read: ${error instanceof Error ? error.message : String(error)}.`,
    );
  }
  if (result.pipeline === undefined || hasErrors(result.diagnostics))
    throw new AgentRequestError(
      'invalid-pipeline',
      'The notebook has errors (see `diagnostics`); fix them and run again.',
      result.diagnostics,
    );
  const own = result.pipeline;
  const images = new Map<string, string>();
  for (const step of sent.steps as readonly unknown[])
    if (isRecord(step) && typeof step['name'] === 'string' && typeof step['image'] === 'string')
      images.set(step['name'], step['image']);
  const graph: PipelineGraph = {
    ...own.graph,
    steps: own.graph.steps.map((s) => ({ ...s, image: images.get(s.name) ?? s.image })),
  };
  if (canonicalJson(graph) !== canonicalJson(sent))
    throw new AgentRequestError(
      'invalid-pipeline',
      'The pipeline sent does not match its notebook as this agent compiles it (an editor and agent of different Cellflow versions?). Reload the page, or restart the agent, and try again.',
    );
  return { ...own, graph };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted, so two equal graphs compare equal whatever built them. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}
