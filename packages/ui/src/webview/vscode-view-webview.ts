/**
 * Run details, tuning results and the endpoint tester inside VS Code webviews: one script for the
 * three, told which by `data-view` on the root element. Drawing is shared with other hosts; only
 * the message plumbing is VS Code's.
 */
import {
  renderEndpointTester,
  type EndpointTesterHandle,
} from '../endpoint/render-endpoint-tester.js';
import { renderRunDetails } from '../runs/render-run-details.js';
import { renderTuningResults } from '../tuning/render-tuning-results.js';
import type {
  EndpointTesterToHostMessage,
  HostToEndpointTesterMessage,
  HostToRunDetailsMessage,
  HostToTuningMessage,
  RunDetailsToHostMessage,
  TuningToHostMessage,
} from './webview-protocol.js';

type ToHost = RunDetailsToHostMessage | TuningToHostMessage | EndpointTesterToHostMessage;
type FromHost = HostToRunDetailsMessage | HostToTuningMessage | HostToEndpointTesterMessage;

declare function acquireVsCodeApi(): { postMessage(message: ToHost): void };

const vscode = acquireVsCodeApi();
const root = document.getElementById('root');
let tester: EndpointTesterHandle | undefined;

function receive(message: FromHost): void {
  if (root === null) return;
  switch (message.type) {
    case 'run':
      renderRunDetails(root, message.run, {
        onRevealFailure: (step) => vscode.postMessage({ type: 'revealFailure', step }),
        onShowLogs: (step) => vscode.postMessage({ type: 'showLogs', step }),
      });
      break;
    case 'study':
      renderTuningResults(root, message.study, {
        onApplyBest: () => vscode.postMessage({ type: 'applyBest' }),
      });
      break;
    case 'endpoint':
      tester = renderEndpointTester(root, message.endpoint, message.example, (body) =>
        vscode.postMessage({ type: 'send', body }),
      );
      break;
    case 'answer':
      tester?.showAnswer(message.status, message.body, message.latencyMs);
      break;
    case 'failure':
      tester?.showFailure(message.message);
      break;
  }
}

if (root !== null) {
  window.addEventListener('message', (event: MessageEvent<FromHost>) => {
    try {
      receive(event.data);
    } catch (error) {
      root.textContent = `Cannot show this view: ${String(error)}`;
    }
  });
  vscode.postMessage({ type: 'ready' });
}
