/**
 * Which launcher starts a step: the run's supervisor (started on first use), forking its warm
 * interpreter or exec'ing a fresh one; a direct spawn only if the supervisor is gone.
 */
import type { PipelineStep } from '@cellflow/core';
import { StepHostLauncher, type StepHostOptions } from './step-host-launcher.js';
import { FreshLauncher, type StepLauncher } from './step-process.js';

export interface RunLaunchersOptions extends StepHostOptions {
  /** Fork steps from the warm interpreter; false: a fresh interpreter for every step. */
  readonly warm: boolean;
}

export class RunLaunchers {
  private supervisor: StepHostLauncher | null = null;
  private readonly fallback: FreshLauncher;

  constructor(private readonly options: RunLaunchersOptions) {
    this.fallback = new FreshLauncher(options.python, options.host);
  }

  /**
   * The launcher for `step`, and whether it needs a fresh interpreter: a step with its own `env:`
   * does, since libraries read some variables (thread counts, ...) when they are imported.
   */
  for(step: PipelineStep): { launcher: StepLauncher; fresh: boolean } {
    const fresh = !this.options.warm || Object.keys(step.env).length > 0;
    const { python, host, env, cwd, cells, scripts, logPath, warm } = this.options;
    this.supervisor ??= new StepHostLauncher({
      python,
      host,
      env,
      cwd,
      cells: warm ? cells : [],
      scripts: warm ? scripts : [],
      logPath,
    });
    return this.supervisor.alive
      ? { launcher: this.supervisor, fresh }
      : { launcher: this.fallback, fresh: true };
  }

  async close(): Promise<void> {
    await this.supervisor?.close();
  }
}
