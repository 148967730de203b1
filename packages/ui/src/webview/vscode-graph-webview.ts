/**
 * The pipeline graph inside a VS Code webview: receives `HostToGraphMessage`s from the extension,
 * posts `GraphToHostMessage`s back. Only the host protocol is VS Code's here; drawing is shared.
 */
import type { GraphLayout } from '../graph/graph-layout.js';
import type { GraphToHostMessage, HostToGraphMessage } from './webview-protocol.js';
import {
  mountPipelineGraph,
  renderPipelineGraph,
  updateGraphStates,
} from '../graph/render-pipeline-graph.js';

declare function acquireVsCodeApi(): { postMessage(message: GraphToHostMessage): void };

const vscode = acquireVsCodeApi();
const root = document.getElementById('graph');
let layout: GraphLayout | undefined;

if (root !== null) {
  const onStepClick = (step: string): void => vscode.postMessage({ type: 'revealStep', step });
  mountPipelineGraph(root, { onStepClick });
  window.addEventListener('message', (event: MessageEvent<HostToGraphMessage>) => {
    const message = event.data;
    try {
      if (message.type === 'graph') {
        layout = message.layout;
        renderPipelineGraph(root, layout, message.states, { onStepClick, minScale: 1 });
      } else if (layout !== undefined) {
        updateGraphStates(root, layout, message.states);
      }
    } catch (error) {
      root.textContent = `Cannot draw the pipeline: ${String(error)}`;
    }
  });
  vscode.postMessage({ type: 'ready' });
}
