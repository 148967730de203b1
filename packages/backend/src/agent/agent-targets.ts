/**
 * One agent, many targets: the backend of each target a request names (this machine, or a
 * kubeconfig context and namespace), made on first use by the opener the agent was started with,
 * kept for the agent's life and disposed of when it stops. Each target has its own stream journals.
 */
import { targetKey, type Backend, type TargetSpec } from '../backend.js';
import type { AgentInfo } from './agent-protocol.js';
import { StreamJournals } from './stream-journal.js';

/** What `GET info` says of a target, besides the agent's own fields. */
export type AgentTargetInfo = Omit<AgentInfo, 'protocol' | 'version' | 'defaultTarget'>;

/** A target's backend and what `info` says of it. */
export interface OpenedTarget {
  readonly backend: Backend;
  readonly info: AgentTargetInfo;
}

export interface AgentTarget extends OpenedTarget {
  readonly journals: StreamJournals;
}

/** Makes a target's backend; rejects with a `BackendError` (bad context, unreachable cluster...). */
export type TargetOpener = (spec: TargetSpec) => Promise<OpenedTarget>;

export class AgentTargets {
  private readonly opened = new Map<string, Promise<AgentTarget>>();
  private disposed = false;

  constructor(
    private readonly open: TargetOpener,
    /** Where a request that names no target goes. */
    readonly defaultTarget: TargetSpec,
  ) {}

  /** The target's backend, made on first use; a target that failed to open is tried again next time. */
  get(spec: TargetSpec = this.defaultTarget): Promise<AgentTarget> {
    if (this.disposed) return Promise.reject(new Error('The agent is stopping.'));
    const key = targetKey(spec);
    let pending = this.opened.get(key);
    if (pending === undefined) {
      pending = this.open(spec).then((t) => ({ ...t, journals: new StreamJournals() }));
      this.opened.set(key, pending);
      pending.catch(() => this.opened.delete(key));
    }
    return pending;
  }

  /** Disposes of every backend made (a local one cancels its runs and stops its model servers). */
  async dispose(): Promise<void> {
    this.disposed = true;
    const all = [...this.opened.values()];
    this.opened.clear();
    await Promise.allSettled(
      all.map(async (pending) => {
        const target = await pending;
        await target.backend.dispose();
      }),
    );
  }
}
