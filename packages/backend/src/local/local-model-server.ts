/**
 * A model a step saved, served on loopback by the local model server (model-server.py): KServe's
 * V1 and the Open Inference Protocol V2. Started in its own process group; stopped by it, and
 * stops by itself when the process that started it is gone (its stdin pipe closes).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNTIME_SOURCE } from '@cellflow/core';
import { BackendError } from '../backend.js';
import { MODEL_SERVER_SOURCE } from './model-server-source.generated.js';
import { findPythonInterpreter } from './python-interpreter.js';

export interface LocalModelServerOptions {
  /** The saved model: a step output directory (`.../outputs/<variable>`). */
  readonly modelDir: string;
  /** Model name in URLs (`/v1/models/NAME:predict`). */
  readonly name: string;
  readonly python?: string;
  /** Loopback port; 0 (default) picks a free one. */
  readonly port?: number;
  /** Milliseconds to wait for the model to load (default 60 s). */
  readonly startTimeoutMs?: number;
}

export interface LocalModelServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly name: string;
  readonly pid: number;
  /** Stops the server and everything it started; resolves once they are gone. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startLocalModelServer(
  options: LocalModelServerOptions,
): Promise<LocalModelServer> {
  const python = await findPythonInterpreter(options.python);
  const dir = await mkdtemp(join(tmpdir(), 'cellflow-serve-'));
  await writeFile(join(dir, 'model-server.py'), MODEL_SERVER_SOURCE);
  await writeFile(join(dir, 'runtime.py'), RUNTIME_SOURCE);
  const ready = join(dir, 'ready.json');
  const child = spawn(
    python.path,
    [
      '-u',
      join(dir, 'model-server.py'),
      '--model-dir',
      options.modelDir,
      '--name',
      options.name,
      '--runtime',
      join(dir, 'runtime.py'),
      '--port',
      String(options.port ?? 0),
      '--ready-file',
      ready,
      // The server stops (and removes `dir`) when this process is gone and its stdin closes:
      // killed with the editor that started it, it leaves nothing listening or behind.
      '--watch-stdin',
      '--owned-dir',
      dir,
    ],
    { detached: true, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  // Never written to: held open for the server's life (an error means it is gone already).
  child.stdin.on('error', () => undefined);
  let stderr = '';
  child.stderr.on(
    'data',
    (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)),
  );
  child.stdout.resume();
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const killGroup = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const stop = async (): Promise<void> => {
    if (exited === undefined) {
      killGroup('SIGTERM');
      await Promise.race([gone, sleep(3000)]);
      if (exited === undefined) killGroup('SIGKILL');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) {
      await stop();
      const why =
        stderr
          .split('\n')
          .filter((l) => l.startsWith('Cellflow:') || /Error/.test(l))
          .pop() ??
        stderr.trim().split('\n').pop() ??
        '';
      throw new BackendError(
        'not-supported',
        `The model server for ${options.name} stopped while loading the model (exit ${String(exited)}): ${why}`,
      );
    }
    try {
      const { port } = JSON.parse(await readFile(ready, 'utf8')) as { port: number };
      return { url: `http://127.0.0.1:${port}`, name: options.name, pid: child.pid!, stop };
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new BackendError(
        'not-supported',
        `The model server for ${options.name} did not start within ${options.startTimeoutMs ?? 60_000} ms.`,
      );
    }
    await sleep(50);
  }
}
