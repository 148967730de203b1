/** Every command the plugin adds, by one id each (palette, toolbar, context menu and tests use these). */
export namespace CommandIDs {
  export const runLocally = 'cellflow:run-locally';
  export const deploy = 'cellflow:deploy';
  export const tune = 'cellflow:tune';
  export const serve = 'cellflow:serve';
  export const showGraph = 'cellflow:show-graph';
  export const cancel = 'cellflow:cancel';
  export const showRunOutputs = 'cellflow:show-run-outputs';
  export const toggleRunOutputsInline = 'cellflow:toggle-run-outputs-inline';
  export const editCellTags = 'cellflow:edit-cell-tags';
  export const showPanel = 'cellflow:show-panel';
}
