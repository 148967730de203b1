/**
 * What a VS Code test file sets up inside its `describe`: a temp workspace folder, the cluster
 * harness (when it is built here) and code-server pointed at both. After the suite, the server and
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
}

export function vscodeSession(prefix: string): VscodeSession {
  const session: VscodeSession = {
    work: mkdtempSync(join(tmpdir(), prefix)),
    server: undefined,
    cluster: undefined,
    async start(settings, env = {}) {
      session.cluster = await startClusterForVscode();
      session.server = await startCodeServer({
        workspace: session.work,
        settings: { ...settings, ...session.cluster?.settings },
        env: { ...env, ...session.cluster?.env },
      });
      return session.server;
    },
  };
  after(async () => {
    await session.server?.stop();
    await session.cluster?.stop();
    rmSync(session.work, { recursive: true, force: true });
  });
  return session;
}
