/**
 * The endpoint tester: a JSON request editor (prefilled with an example shaped like the model's
 * input), Send, and the answer with its HTTP status and latency. The host sends the request (a
 * webview cannot reach the server itself), so `onSend` hands the body over.
 */
import type { EndpointInfo } from '../webview/webview-protocol.js';
import { element, formatMs } from '../webview/element.js';

export interface EndpointTesterHandle {
  /** Shows an answer (status, body, latency). */
  showAnswer(status: number, body: string, latencyMs: number): void;
  showFailure(message: string): void;
}

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export function renderEndpointTester(
  container: HTMLElement,
  endpoint: EndpointInfo,
  example: string,
  onSend: (body: string) => void,
): EndpointTesterHandle {
  const request = element('textarea', {
    class: 'cf-request',
    spellcheck: 'false',
    'aria-label': 'Request body (JSON)',
    rows: '10',
  });
  request.value = example;
  const send = element('button', { class: 'cf-send', type: 'button' }, 'Send');
  const problem = element('div', { class: 'cf-problem', role: 'alert' });
  const status = element('div', { class: 'cf-answer-status' });
  const answer = element('pre', { class: 'cf-answer', 'aria-label': 'Answer' });
  send.addEventListener('click', () => {
    try {
      JSON.parse(request.value);
    } catch (error) {
      problem.textContent = `The request is not JSON: ${String(error)}`;
      return;
    }
    problem.textContent = '';
    status.textContent = 'Sending…';
    send.disabled = true;
    onSend(request.value);
  });
  container.replaceChildren(
    element(
      'div',
      { class: 'cf-header' },
      element('h2', {}, endpoint.name),
      element('span', { class: `cf-badge cf-state-${endpoint.state}` }, endpoint.state),
      element('span', { class: 'cf-muted' }, endpoint.target),
    ),
    element('div', { class: 'cf-muted cf-url' }, `POST ${endpoint.predictUrl}`),
    ...(endpoint.message !== undefined
      ? [element('div', { class: 'cf-problem' }, endpoint.message)]
      : []),
    request,
    element('div', { class: 'cf-actions' }, send),
    problem,
    status,
    answer,
  );
  return {
    showAnswer(code, body, latencyMs) {
      send.disabled = false;
      status.textContent = `HTTP ${code} in ${formatMs(latencyMs)}`;
      status.className = `cf-answer-status ${code >= 200 && code < 300 ? 'cf-ok' : 'cf-bad'}`;
      answer.textContent = pretty(body);
    },
    showFailure(message) {
      send.disabled = false;
      status.textContent = '';
      problem.textContent = message;
    },
  };
}
