/**
 * `cellflow agent`: serves backends over the agent HTTP API on loopback, one per target a request
 * names (this machine, or a kubeconfig context and namespace; `--cluster` makes a cluster the
 * target of requests that name none), for the JupyterLab plugin (started and proxied by the cellflow_jupyter
 * server extension). Prints one ready line on stdout; ends with its parent.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  AgentRequestError,
  AgentTargets,
  KubeflowBackend,
  LOCAL_TARGET,
  LocalBackend,
  assertLoopbackHost,
  listKubeContexts,
  startAgentServer,
  watchParent,
  type TargetOpener,
} from '@cellflow/backend';
import {
  AGENT_PROTOCOL_VERSION,
  AGENT_READY_PREFIX,
  type AgentReadyLine,
} from '@cellflow/backend/agent-protocol';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { CliError } from '../notebook-file.js';
import {
  asCliError,
  clusterOptionsOf,
  withClusterFlags,
  type ClusterFlags,
} from './cluster-commands.js';

interface AgentCommandOptions extends ClusterFlags {
  host: string;
  port: string;
  tokenFile?: string;
  allowOrigin: string[];
  cluster?: boolean;
  workspace: string;
  python?: string;
  parentPid?: string;
  maxBodyBytes?: string;
  log?: boolean;
}

/** The environment variable a parent may pass the token in (never on the command line: `ps` shows it). */
export const AGENT_TOKEN_ENV = 'CELLFLOW_AGENT_TOKEN';

/**
 * The agent's token: from `$CELLFLOW_AGENT_TOKEN` (then removed from this process's environment,
 * so that no step, model server or tool the agent starts inherits it), from `--token-file`, or
 * new. A token file must be a regular file in an existing folder; one others may read is used
 * with a warning.
 */
async function tokenOf(
  opts: AgentCommandOptions,
  warn: (line: string) => void,
): Promise<{ token: string; generated: boolean }> {
  const fromEnv = process.env[AGENT_TOKEN_ENV];
  delete process.env[AGENT_TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { token: fromEnv, generated: false };
  if (opts.tokenFile !== undefined) {
    const path = resolve(opts.tokenFile);
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new CliError(`--token-file ${path}: ${(error as Error).message}`, 1);
      try {
        if (!(await stat(dirname(path))).isDirectory()) throw new Error('not a folder');
      } catch {
        throw new CliError(
          `--token-file ${path}: its folder ${dirname(path)} does not exist. Fix: create it, or name a file in an existing folder.`,
          1,
        );
      }
      return { token: randomBytes(32).toString('base64url'), generated: true };
    }
    if (!info.isFile())
      throw new CliError(
        `--token-file ${path} is ${info.isDirectory() ? 'a folder' : 'not a regular file'}. Fix: name a file (it is created, mode 0600, when missing).`,
        1,
      );
    if ((info.mode & 0o077) !== 0)
      warn(
        `agent: warning: the token file ${path} can be read by other users (mode ${(info.mode & 0o777).toString(8)}). Fix: chmod 600 ${path}.`,
      );
    const existing = (await readFile(path, 'utf8')).trim();
    if (existing !== '') return { token: existing, generated: false };
  }
  return { token: randomBytes(32).toString('base64url'), generated: true };
}

function wholeNumber(value: string, flag: string): number {
  if (!/^\d+$/.test(value))
    throw new CliError(`${flag} must be a whole number, not "${value}".`, 2);
  return Number(value);
}

export function registerAgentCommand(program: Command, ctx: CliContext): void {
  withClusterFlags(
    program
      .command('agent')
      .description(
        'Serve this machine and clusters (each request names its target; --cluster makes a cluster the default) over HTTP on loopback for the JupyterLab plugin; token-protected, ends with its parent.',
      )
      .option('--host <address>', 'loopback address to listen on', '127.0.0.1')
      .option('--port <n>', 'port to listen on (0: a free one)', '0')
      .option(
        '--token-file <file>',
        `read the token from this file, or write a new one there (mode 0600); default: $${AGENT_TOKEN_ENV}, else a new token in the ready line`,
      )
      .option(
        '--allow-origin <origin>',
        'let pages from this origin call the agent (repeat for more; default: none)',
        (v: string, prev: string[]) => [...prev, v],
        [],
      )
      .option(
        '--cluster',
        'requests that name no target go to the cluster of --context/--namespace, not this machine',
      )
      .option('--workspace <dir>', 'folder whose .cellflow/ keeps run history (local)', '.')
      .option('--python <path>', 'Python interpreter for local steps')
      .option('--parent-pid <pid>', 'end when this process ends (default: the parent process)')
      .option('--max-body-bytes <n>', 'largest request body accepted (default 8 MiB)')
      .option('--no-log', 'do not log requests on stderr'),
  ).action(async (opts: AgentCommandOptions) => {
    try {
      assertLoopbackHost(opts.host);
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
    const port = wholeNumber(opts.port, '--port');
    if (port > 65535) throw new CliError(`--port ${port}: a port is from 0 to 65535.`, 2);
    const parentPid =
      opts.parentPid !== undefined ? wholeNumber(opts.parentPid, '--parent-pid') : undefined;
    for (const origin of opts.allowOrigin)
      if (!/^https?:\/\/[^/\s]+$/.test(origin))
        throw new CliError(
          `--allow-origin ${origin}: an origin is scheme://host[:port] with no path (http://localhost:8888).`,
          2,
        );
    const { token, generated } = await tokenOf(opts, (line) => ctx.err(line));
    // The token file is written before the server listens: a start-up error leaves no server.
    let tokenFile: string | null = null;
    if (opts.tokenFile !== undefined) {
      tokenFile = resolve(opts.tokenFile);
      if (generated)
        await writeFile(tokenFile, `${token}\n`, { mode: 0o600, flag: 'wx' }).catch(
          (error: unknown) => {
            throw new CliError(`--token-file ${tokenFile}: ${(error as Error).message}`, 1);
          },
        );
    }
    const workspace = resolve(opts.workspace);
    const folder = await stat(workspace).catch(() => null);
    if (folder === null || !folder.isDirectory())
      throw new CliError(
        `--workspace ${workspace} is not a folder. Fix: create it, or name an existing folder.`,
        1,
      );
    // One backend per target a request names, made on first use: this machine, or a kubeconfig
    // context and namespace (the cluster flags give the defaults of what a request leaves out).
    const open: TargetOpener = async (spec) => {
      if (spec.kind === 'local')
        return {
          // The agent serves the JupyterLab plugin: refusals name the editor's choices, not flags.
          backend: new LocalBackend({
            workspace,
            askedBy: 'editor',
            ...(opts.python !== undefined ? { python: opts.python } : {}),
          }),
          info: {
            target: 'local',
            description: 'this machine',
            context: null,
            namespace: null,
            workspace,
            defaultImage: null,
          },
        };
      const cluster = await KubeflowBackend.connect({
        ...clusterOptionsOf(opts),
        ...(spec.context !== undefined ? { context: spec.context } : {}),
        ...(spec.namespace !== undefined ? { namespace: spec.namespace } : {}),
      });
      return {
        backend: cluster,
        info: {
          target: 'cluster',
          description: cluster.target.description,
          context: cluster.target.context,
          namespace: cluster.target.namespace,
          workspace: null,
          defaultImage: (await cluster.notebookImage()) ?? null,
        },
      };
    };
    const targets = new AgentTargets(
      open,
      opts.cluster === true
        ? {
            kind: 'kubeflow',
            ...(opts.context !== undefined ? { context: opts.context } : {}),
            ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
          }
        : LOCAL_TARGET,
    );
    // The target the agent was started for is made now, so a bad kubeconfig ends the start-up.
    try {
      await targets.get();
    } catch (error) {
      throw asCliError(error);
    }
    let server;
    try {
      server = await startAgentServer({
        targets,
        contexts: () => listKubeContexts(opts.kubeconfig),
        token,
        host: opts.host,
        port,
        allowedOrigins: opts.allowOrigin,
        ...(opts.maxBodyBytes !== undefined
          ? { maxBodyBytes: wholeNumber(opts.maxBodyBytes, '--max-body-bytes') }
          : {}),
        ...(opts.log !== false ? { log: (line: string) => ctx.err(`agent: ${line}`) } : {}),
      });
    } catch (error) {
      if (error instanceof AgentRequestError) throw new CliError(error.message, 2);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE')
        throw new CliError(`--port ${port}: already in use; pick another or 0 for a free one.`, 1);
      throw new CliError(`The agent could not start: ${(error as Error).message}`, 1);
    }
    const ready: AgentReadyLine = {
      port: server.port,
      pid: process.pid,
      protocol: AGENT_PROTOCOL_VERSION,
      tokenFile,
      ...(generated && tokenFile === null ? { token } : {}),
    };
    ctx.out(`${AGENT_READY_PREFIX}${JSON.stringify(ready)}`);

    await new Promise<void>((resolveDone) => {
      let stopping = false;
      const stop = (why: string): void => {
        if (stopping) return;
        stopping = true;
        ctx.err(`agent: stopping (${why})`);
        stopWatch();
        offInterrupt?.();
        // Whatever hangs, the process must not outlive its parent for long.
        setTimeout(() => process.exit(1), 10_000).unref();
        void Promise.allSettled([server.close(), targets.dispose()]).then(() => resolveDone());
      };
      const stopWatch = watchParent(stop, parentPid !== undefined ? { parentPid } : {});
      const offInterrupt = ctx.onInterrupt?.((signal) => stop(signal));
    });
  });
}
