export { main } from './main.js';
export type { CliContext } from './cli-context.js';
