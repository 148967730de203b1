export * from './backend.js';
export * from './backend-target.js';
export * from './parameters.js';
export * from './run-events.js';
export * from './run-progress.js';
export * from './study-progress.js';
export * from './pipeline-deploys.js';
export * from './agent-protocol.js';
export * from './executed-notebooks.js';
export {
  REDACTED,
  isSecretParameter,
  redactSecrets,
  secretParametersOf,
  urlForDisplay,
} from './secret-redaction.js';
