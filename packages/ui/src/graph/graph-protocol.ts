/**
 * The one message protocol between an editor host (VS Code extension, JupyterLab panel) and the
 * pipeline graph view. Plain JSON both ways.
 */
import type { GraphLayout } from './graph-layout.js';

/** Step states as the runner reports them (`@cellflow/backend`'s `StepState`). */
export type GraphStepState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cached' | 'cancelled';

export type HostToGraphMessage =
  | {
      readonly type: 'graph';
      readonly layout: GraphLayout;
      readonly states: Readonly<Record<string, GraphStepState>>;
    }
  | { readonly type: 'states'; readonly states: Readonly<Record<string, GraphStepState>> };

export type GraphToHostMessage =
  { readonly type: 'ready' } | { readonly type: 'revealStep'; readonly step: string };
