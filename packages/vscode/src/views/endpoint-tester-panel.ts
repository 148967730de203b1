/**
 * The endpoint tester webview: a request editor prefilled with an example shaped like the model's
 * input (from the server's V2 metadata), Send, the answer and its latency. Requests go from the
 * extension host (the webview's CSP allows no network).
 */
import type * as vscode from 'vscode';
import type { Endpoint } from '@cellflow/backend';
import type {
  EndpointInfo,
  EndpointTesterToHostMessage,
  HostToEndpointTesterMessage,
  ModelMetadata,
} from '@cellflow/ui';
import { ViewPanel } from './view-panel.js';

/** What the tester saw last (for tests). */
export interface TesterExchange {
  readonly endpoint: EndpointInfo;
  readonly example: string;
  answer?: { status: number; body: string; latencyMs: number };
  failure?: string;
}

export class EndpointTesterPanels implements vscode.Disposable {
  private panel: ViewPanel<HostToEndpointTesterMessage, EndpointTesterToHostMessage> | undefined;
  last: TesterExchange | undefined;

  constructor(private readonly extensionUri: vscode.Uri) {}

  async show(endpoint: Endpoint): Promise<TesterExchange> {
    const ui = await import(/* webpackChunkName: "ui" */ '@cellflow/ui');
    let metadata: ModelMetadata | undefined;
    try {
      const res = await fetch(
        `${endpoint.url.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(endpoint.name)}`,
        {
          signal: AbortSignal.timeout(5000),
        },
      );
      if (res.ok) metadata = (await res.json()) as ModelMetadata;
    } catch {
      // No metadata: the example is one value wide and the user edits it.
    }
    const exchange: TesterExchange = {
      endpoint: ui.endpointInfoOf(endpoint),
      example: ui.exampleV1Request(metadata),
    };
    this.last = exchange;
    const sendEndpoint = (): void =>
      this.panel?.post({
        type: 'endpoint',
        endpoint: exchange.endpoint,
        example: exchange.example,
      });
    if (this.panel === undefined) {
      this.panel = new ViewPanel(
        this.extensionUri,
        'cellflow.endpointTester',
        `Test ${endpoint.name}`,
        {
          onReady: () => {
            if (this.last !== undefined)
              this.panel?.post({
                type: 'endpoint',
                endpoint: this.last.endpoint,
                example: this.last.example,
              });
          },
          onMessage: (m) => void this.send(m.body),
          onClose: () => (this.panel = undefined),
        },
      );
    } else {
      this.panel.title = `Test ${endpoint.name}`;
      this.panel.reveal();
      sendEndpoint();
    }
    return exchange;
  }

  /** Sends a request body to the endpoint's predict URL; the answer goes to the view and `last`. */
  async send(body: string): Promise<TesterExchange | undefined> {
    const exchange = this.last;
    if (exchange === undefined) return undefined;
    const t0 = performance.now();
    try {
      const res = await fetch(exchange.endpoint.predictUrl, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      exchange.answer = { status: res.status, body: text, latencyMs: performance.now() - t0 };
      delete exchange.failure;
      this.panel?.post({ type: 'answer', ...exchange.answer });
    } catch (error) {
      exchange.failure = `Cannot reach ${exchange.endpoint.predictUrl}: ${error instanceof Error ? error.message : String(error)}`;
      this.panel?.post({ type: 'failure', message: exchange.failure });
    }
    return exchange;
  }

  /** Whether the open panel's script loaded (under its CSP) and asked for data. */
  get viewReady(): boolean {
    return this.panel?.ready === true;
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
