/** Pipeline parameters at run time now live in `@cellflow/protocol` (browser-safe: both editors' Deploy types them); re-exported here. */
export {
  checkParameterValue,
  formatParameterForScript,
  parseParameterAssignments,
  parseParameterText,
  resolveRunParameters,
} from '@cellflow/protocol';
