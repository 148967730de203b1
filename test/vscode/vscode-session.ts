/**
 * What a VS Code test file sets up inside its `describe`: a temp workspace folder, the cluster
 * harness (when it is built here) and code-server pointed at both (or the settings and environment
 * that point a VS Code started by `runVscodeSuite` at the cluster). After the suite, the server and
 * the cluster are stopped and the folder is removed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { startClusterForVscode, type ClusterForVscode } from './cluster-for-vscode.js';
import { startCodeServer, type CodeServer } from './code-server.js';

export interface VscodeSession {
  /** The workspace folder code-server opens. */
  readonly work: string;
  /** The running code-server; a test may stop it and start another, which is stopped in turn. */
  server: CodeServer | undefined;
  cluster: ClusterForVscode | undefined;
  /** Starts the cluster harness, then code-server on `work` with these and the cluster's settings and environment. */
  start(settings: Record<string, unknown>, env?: NodeJS.ProcessEnv): Promise<CodeServer>;
  /** Starts the cluster harness (once); these settings and environment with the cluster's. */
  withCluster(
    settings: Record<string, unknown>,
    env?: NodeJS.ProcessEnv,
  ): Promise<{ settings: Record<string, unknown>; env: NodeJS.ProcessEnv }>;
}

export function vscodeSession(prefix: string): VscodeSession {
  const session: VscodeSession = {
    work: mkdtempSync(join(tmpdir(), prefix)),
    server: undefined,
    cluster: undefined,
    async start(settings, env = {}) {
      const withCluster = await session.withCluster(settings, env);
      session.server = await startCodeServer({ workspace: session.work, ...withCluster });
      return session.server;
    },
    async withCluster(settings, env = {}) {
      session.cluster ??= await startClusterForVscode();
      return {
        settings: { ...settings, ...session.cluster?.settings },
        env: { ...env, ...session.cluster?.env },
      };
    },
  };
  after(async () => {
    await session.server?.stop();
    await session.cluster?.stop();
    rmSync(session.work, { recursive: true, force: true });
  });
  return session;
}
