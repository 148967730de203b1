/**
 * Serving from the panel: the `serve:` variable of the notebook's latest succeeded run becomes an
 * endpoint on the agent's target; endpoints are listed, and the tester's requests go to them
 * through the agent.
 */
import type { Endpoint, ModelRef } from '@cellflow/protocol';
import type { PipelineGraph } from '@cellflow/core';
import { exampleV1Request, type AgentClient } from '@cellflow/ui';
import type { LiveRun } from '../runs/pipeline-runs.js';

/** The model to serve: the first `serve:` variable of `graph`, from `run`. */
export function modelToServe(graph: PipelineGraph, run: LiveRun | undefined): ModelRef | string {
  const step = graph.steps.find((s) => s.serve.length > 0);
  if (step === undefined)
    return 'No step serves a model. Fix: tag the cell that trains it with serve:VARIABLE (e.g. serve:model), then run the pipeline.';
  if (run === undefined || run.state !== 'succeeded')
    return `Serve uses the model a run trained: run the pipeline first and let it succeed (step ${step.name} saves ${step.serve[0]}).`;
  return { runId: run.id, step: step.name, variable: step.serve[0] ?? '' };
}

export async function serveModel(client: AgentClient, model: ModelRef): Promise<Endpoint[]> {
  await client.serve(model);
  return client.listEndpoints();
}

/**
 * Sends a tester request to an endpoint through the agent (the page cannot reach a loopback model
 * server itself). Resolves to the model server's status, answer and the latency.
 */
export async function sendPredict(
  client: AgentClient,
  endpoint: string,
  body: string,
): Promise<{ status: number; text: string; ms: number }> {
  const answer = await client.predict({ name: endpoint }, JSON.parse(body) as unknown);
  return { status: answer.status, text: answer.body, ms: answer.latencyMs };
}

/**
 * The tester's first request for an endpoint: one row of zeros as wide as the model's input, from
 * the model server's V2 metadata (read through the agent), as VS Code's tester builds it.
 */
export async function exampleRequestFor(client: AgentClient, endpoint: string): Promise<string> {
  try {
    return exampleV1Request(await client.modelMetadata({ name: endpoint }));
  } catch {
    return exampleV1Request(undefined);
  }
}
