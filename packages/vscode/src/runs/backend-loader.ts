/**
 * Loads `@cellflow/backend` on first use (a separate bundle chunk), so activation stays cheap and
 * read-only features never pay for the runner.
 */
import type * as BackendPackage from '@cellflow/backend';
import type { Backend, LocalBackend } from '@cellflow/backend';
import type { Config } from '../config.js';

type BackendModule = typeof BackendPackage;

export class BackendLoader {
  private module: Promise<BackendModule> | undefined;
  private readonly locals = new Map<string, LocalBackend>();

  constructor(private readonly config: Config) {}

  load(): Promise<BackendModule> {
    this.module ??= import(/* webpackChunkName: "backend" */ '@cellflow/backend');
    return this.module;
  }

  /** The local backend whose history lives in `<workspace>/.cellflow/`. */
  async local(workspace: string): Promise<Backend & LocalBackend> {
    const existing = this.locals.get(workspace);
    if (existing !== undefined) return existing;
    const { LocalBackend } = await this.load();
    const python = this.config.python;
    const concurrency = this.config.concurrency;
    const backend = new LocalBackend({
      workspace,
      askedBy: 'editor',
      ...(python !== undefined ? { python } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
    });
    this.locals.set(workspace, backend);
    return backend;
  }

  /** The local backends made so far (views list their endpoints without creating any). */
  loadedLocals(): (Backend & LocalBackend)[] {
    return [...this.locals.values()];
  }

  /** Settings changed: the next run gets a backend with the new interpreter and concurrency. */
  reset(): void {
    this.locals.clear();
  }

  isBackendError(error: unknown): error is Error & { code: string } {
    return error instanceof Error && error.name === 'BackendError';
  }
}
