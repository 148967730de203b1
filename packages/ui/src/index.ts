export * from './graph/graph-layout.js';
export * from './graph/graph-protocol.js';
export * from './graph/render-pipeline-graph.js';
export * from './agent/agent-client.js';
