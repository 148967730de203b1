/** Every command, keyed by its manifest id: the type makes a missing or extra handler an error. */
import * as vscode from 'vscode';
import { CommandIds, type CommandKey } from '../command-ids.js';
import type { CommandContext, CommandFactory } from './command-context.js';
import { clusterCommands } from './cluster-commands.js';
import { endpointCommands } from './endpoint-commands.js';
import { exampleCommands } from './example-commands.js';
import { runCommands } from './run-commands.js';
import { tuningCommands } from './tuning-commands.js';
import { tagCommands } from './tag-commands.js';

const COMMANDS: Readonly<Record<CommandKey, CommandFactory>> = {
  ...tagCommands,
  ...runCommands,
  ...clusterCommands,
  ...endpointCommands,
  ...tuningCommands,
  ...exampleCommands,
};

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return (Object.keys(COMMANDS) as CommandKey[]).map((key) =>
    vscode.commands.registerCommand(CommandIds[key], COMMANDS[key](ctx)),
  );
}
