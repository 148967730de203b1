/** The runner-events protocol now lives in `@cellflow/protocol`; re-exported here for this package. */
export {
  TERMINAL_RUN_STATES,
  TERMINAL_STEP_STATES,
  isTerminalRunState,
  isTerminalStepState,
  type MetricValues,
  type RunEvent,
  type RunState,
  type RunStateEvent,
  type StepFailure,
  type StepOutputs,
  type StepState,
  type StepStateEvent,
} from '@cellflow/protocol';
