/** A request the agent refuses itself (bad JSON, unknown route...), answered as an `AgentErrorBody`. */
import type { Diagnostic } from '@cellflow/core';
import type { AgentErrorCode } from './agent-protocol.js';

export class AgentRequestError extends Error {
  override readonly name = 'AgentRequestError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    readonly diagnostics?: readonly Diagnostic[],
  ) {
    super(message);
  }
}
