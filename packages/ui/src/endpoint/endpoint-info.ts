/** What the endpoint tester shows of a served endpoint, from a backend's `Endpoint`. */
import type { Endpoint } from '@cellflow/protocol';
import type { EndpointInfo } from '../webview/webview-protocol.js';
import { predictUrlOf } from './example-request.js';

/** The endpoint's name, URL, state, target and message, and where its predict requests go. */
export function endpointInfoOf(endpoint: Endpoint): EndpointInfo {
  return {
    name: endpoint.name,
    url: endpoint.url,
    state: endpoint.state,
    target: endpoint.target,
    predictUrl: predictUrlOf(endpoint.url, endpoint.name),
    ...(endpoint.message !== undefined ? { message: endpoint.message } : {}),
  };
}
