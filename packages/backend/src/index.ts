export * from './backend.js';
export * from './run-events.js';
export * from './parameters.js';
export { redactSecrets, urlForDisplay } from './secret-redaction.js';
export { LocalBackend, type LocalBackendOptions } from './local/local-backend.js';
export {
  DEFAULT_KEEP,
  type PruneOptions,
  type PruneResult,
  type PrunedRun,
} from './local/run-pruning.js';
export { findPythonInterpreter, type PythonInterpreter } from './local/python-interpreter.js';
export {
  detectGpus,
  findUnmetGpuRequests,
  type GpuInventory,
  type GpuRefusalAsker,
} from './local/gpu-capacity.js';
export {
  KubeflowBackend,
  type KubeflowBackendOptions,
  type ClusterTuneOptions,
} from './kubeflow/kubeflow-backend.js';
export {
  defaultKubeconfigSource,
  listKubeContexts,
  type KubeContext,
} from './kubeflow/kube-contexts.js';
export { readInlineCellOutputs } from './kubeflow/cluster-cell-outputs.js';
export type { ClusterSettings } from './kubeflow/kube-connection.js';
export { newestVersionsFirst, type KfpSettings } from './kubeflow/kfp-client.js';
export {
  describeInterval,
  normalizeCron,
  parseScheduleInterval,
  parseScheduleTrigger,
  isPipelineDeployer,
  type PipelineDeployer,
  versionNameFor,
  type PipelineUpload,
  type ScheduleOptions,
  type ScheduleSummary,
  type UploadOptions,
} from './kubeflow/pipeline-deploys.js';
export {
  startLocalModelServer,
  type LocalModelServer,
  type LocalModelServerOptions,
} from './local/local-model-server.js';
export {
  startAgentServer,
  assertLoopbackHost,
  AGENT_API_PREFIX,
  type AgentServer,
  type AgentServerOptions,
} from './agent/agent-server.js';
export { watchParent, type ParentWatchOptions } from './agent/parent-watch.js';
export { AgentRequestError } from './agent/agent-request-error.js';
export {
  AgentTargets,
  type AgentTarget,
  type AgentTargetInfo,
  type OpenedTarget,
  type TargetOpener,
} from './agent/agent-targets.js';
