/** Secret redaction now lives in `@cellflow/protocol` (`BackendError` applies it); re-exported here. */
export {
  REDACTED,
  isSecretParameter,
  redactSecrets,
  secretParametersOf,
  urlForDisplay,
} from '@cellflow/protocol';
