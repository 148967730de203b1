import { redactSecrets } from '@cellflow/backend';
import { Command, CommanderError } from 'commander';
import { processContext, type CliContext } from './cli-context.js';
import { registerAgentCommand } from './commands/agent-command.js';
import { registerClusterCommands } from './commands/cluster-commands.js';
import { registerCompileCommand } from './commands/compile-command.js';
import { registerDeployCommands } from './commands/deploy-commands.js';
import { registerServeCommands } from './commands/serve-commands.js';
import { registerInspectCommand } from './commands/inspect-command.js';
import { registerOutputsCommand } from './commands/outputs-command.js';
import { registerRunCommand } from './commands/run-command.js';
import { registerPruneCommand } from './commands/prune-command.js';
import { registerRunsCommand } from './commands/runs-command.js';
import { registerTuneCommands } from './commands/tune-command.js';
import { CliError } from './notebook-file.js';

/** Every command, registered from one table. */
const COMMANDS: readonly ((program: Command, ctx: CliContext) => void)[] = [
  registerCompileCommand,
  registerInspectCommand,
  registerRunCommand,
  registerOutputsCommand,
  registerRunsCommand,
  registerPruneCommand,
  registerClusterCommands,
  registerDeployCommands,
  registerServeCommands,
  registerTuneCommands,
  registerAgentCommand,
];

export async function main(
  argv: readonly string[],
  ctx: CliContext = processContext(),
): Promise<number> {
  const program = new Command('cellflow')
    .description(
      'Turn tagged Jupyter notebook cells into pipelines; run them locally or on Kubeflow.',
    )
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.out(s.replace(/\n$/, '')),
      writeErr: (s) => ctx.err(s.replace(/\n$/, '')),
    });
  for (const register of COMMANDS) register(program, ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof CliError) {
      ctx.err(`cellflow: ${redactSecrets(error.message)}`);
      return error.exitCode;
    }
    ctx.err(
      `cellflow: unexpected error: ${redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error))}`,
    );
    return 70;
  }
}

const isEntry = import.meta.url === `file://${process.argv[1] ?? ''}`;
if (isEntry) process.exitCode = await main(process.argv.slice(2));
