/**
 * Command ids: the manifest's `contributes.commands` is their one source; a test checks that this
 * table and the manifest list the same ids.
 */
export const CommandIds = {
  editCellTags: 'cellflow.editCellTags',
  setStep: 'cellflow.setStep',
  addDependency: 'cellflow.addDependency',
  removeDependency: 'cellflow.removeDependency',
  setGpu: 'cellflow.setGpu',
  setImage: 'cellflow.setImage',
  setCpu: 'cellflow.setCpu',
  setMemory: 'cellflow.setMemory',
  setServe: 'cellflow.setServe',
  markImports: 'cellflow.markImports',
  markFunctions: 'cellflow.markFunctions',
  markParameters: 'cellflow.markParameters',
  markMetrics: 'cellflow.markMetrics',
  markSkip: 'cellflow.markSkip',
  clearRole: 'cellflow.clearRole',
  applyTags: 'cellflow.applyTags',
  revealCell: 'cellflow.revealCell',
  runLocally: 'cellflow.runLocally',
  cancelRun: 'cellflow.cancelRun',
  showStepLogs: 'cellflow.showStepLogs',
  compileToYaml: 'cellflow.compileToYaml',
  showGraph: 'cellflow.showGraph',
  refreshRuns: 'cellflow.refreshRuns',
  deployToCluster: 'cellflow.deployToCluster',
  switchClusterContext: 'cellflow.switchClusterContext',
  openInKfpUi: 'cellflow.openInKfpUi',
  rerun: 'cellflow.rerun',
  refreshCluster: 'cellflow.refreshCluster',
  showRunDetails: 'cellflow.showRunDetails',
  showRunOutputs: 'cellflow.showRunOutputs',
  toggleRunOutputsInline: 'cellflow.toggleRunOutputsInline',
  serveModel: 'cellflow.serveModel',
  testEndpoint: 'cellflow.testEndpoint',
  deleteEndpoint: 'cellflow.deleteEndpoint',
  refreshEndpoints: 'cellflow.refreshEndpoints',
  tuneHyperparameters: 'cellflow.tuneHyperparameters',
  applyBestParameters: 'cellflow.applyBestParameters',
  showTuningResults: 'cellflow.showTuningResults',
  cancelStudy: 'cellflow.cancelStudy',
  refreshTuning: 'cellflow.refreshTuning',
  openExample: 'cellflow.openExample',
} as const;

export type CommandKey = keyof typeof CommandIds;
export type CommandId = (typeof CommandIds)[CommandKey];

/** View ids, as declared in the manifest's `contributes.views`. */
export const ViewIds = {
  pipeline: 'cellflow.pipeline',
  runs: 'cellflow.runs',
  tuning: 'cellflow.tuning',
  endpoints: 'cellflow.endpoints',
  cluster: 'cellflow.cluster',
} as const;
