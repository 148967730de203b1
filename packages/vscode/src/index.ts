export * from './command-ids.js';
export * from './tags/describe-cell-tags.js';
export * from './runs/run-tracker.js';
export * from './runs/format-run-state.js';
export * from './tags/propose-step-name.js';
export * from './runs/short-run-label.js';
