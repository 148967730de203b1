/**
 * What the steps of digits (examples/digits.ipynb) print on a cluster, for tests that play Argo's
 * controller (`ControllerDriver.runWorkflowToCompletion`'s `logs`): the runtime's report lines
 * (metrics, saved variables) and its line with pick_best's cells' outputs, so the editors can
 * show a cluster run's metrics, saved model and executed notebook.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { compile, formatArtifactLine, formatMetricLine } from '@cellflow/core';
import { REPO_ROOT } from './paths.js';

/** What pick_best's cell shows in the test cluster's runs of digits (its executed notebook). */
export const PICK_BEST_SHOWS = 'best-accuracy=0.9667\n';

/**
 * The runtime's line that carries a step's cells' outputs in its log (`cellflow-cell-outputs:
 * inline:`, zlib JSON in base64), here pick_best's cell showing PICK_BEST_SHOWS.
 */
function pickBestOutputsLine(): string {
  const { graph } = compile(readFileSync(join(REPO_ROOT, 'examples/digits.ipynb')));
  const cell = graph?.steps.find((s) => s.name === 'pick_best')?.cells[0];
  if (cell === undefined) throw new Error('digits has no pick_best step');
  const outputs = [{ output_type: 'stream', name: 'stdout', text: PICK_BEST_SHOWS }];
  const json = JSON.stringify({ cells: [{ cell, outputs }] });
  return `cellflow-cell-outputs: inline:${deflateSync(json).toString('base64')}`;
}

/** Each step's log by KFP task name: load_data's line, then train_svm's and pick_best's reports. */
export function reportedLogs(runId: string): Record<string, string> {
  return {
    'load-data': 'loaded 1797 images\n',
    'train-svm': `${formatArtifactLine('svm', {
      uri: `minio://mlpipeline/v2/artifacts/digits/${runId}/train-svm/svm`,
      type: 'sklearn.svm._classes.SVC',
    })}\n`,
    'pick-best': `${PICK_BEST_SHOWS}${formatMetricLine('best-accuracy', 0.9667)}\n${pickBestOutputsLine()}\n`,
  };
}
