export {
  startKfpDouble,
  type KfpDouble,
  type KfpDoubleOptions,
  type RecordedRequest,
} from './kfp-double.js';
export type { Experiment, RunRecord } from './runs.js';
export type { RuntimeState, TaskDetail } from './run-status.js';
export { validateKfpBody, type KfpDefinition } from './swagger.js';
export { buildWorkflowForRun } from './workflow-for-run.js';
