/**
 * List-then-watch of one Kubernetes collection, the way informers do it: list (the whole state and
 * the resourceVersion to watch from), then watch from there. A watch the server ends (its
 * `timeoutSeconds`) or a dropped connection resumes from the last version seen; a version etcd has
 * compacted (410 Gone) is listed again. Runs and studies both follow their objects with it.
 */
import { HttpError, type KubeConnection } from './kube-connection.js';

/** How a watch went on after its connection ended: from its last version, or from a new list (410 Gone). */
export type WatchRestart = 'resumed' | 'relisted';

export type WatchChange = 'ADDED' | 'MODIFIED' | 'DELETED';

interface Versioned {
  readonly metadata?: { readonly resourceVersion?: string };
}

export interface CollectionWatch<T> {
  /** The collection, e.g. `/apis/kubeflow.org/v1beta1/namespaces/kubeflow/trials`. */
  readonly path: string;
  /** `labelSelector` / `fieldSelector` values. */
  readonly selectors: Readonly<Record<string, string>>;
  /** Seconds after which the API server ends one watch request (it is then resumed). */
  readonly timeoutSeconds: number;
  /** Every object of the collection: first, and again after a relist. */
  readonly onList: (items: readonly T[]) => void;
  /** One change, in the server's order. */
  readonly onChange: (type: WatchChange, object: T) => void;
  /** Told each time the watch goes on after its connection ended. */
  readonly onRestart?: (how: WatchRestart) => void;
}

/** Consecutive failed watch requests before giving up. */
const MAX_FAILURES = 8;

/** A signal that aborts with `parent` or on its own; `dispose` unhooks it from `parent`. */
function childSignal(parent: AbortSignal): { controller: AbortController; dispose: () => void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (parent.aborted) controller.abort();
  else parent.addEventListener('abort', abort, { once: true });
  return { controller, dispose: () => parent.removeEventListener('abort', abort) };
}

function backoff(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Follows the collection until `signal` aborts, then resolves (every request and timer is gone
 * by then). Rejects with the error of a list (after `KubeConnection.request`'s retries), with a
 * 403 at once, or with the last error after repeated failed watch requests. Nothing is delivered
 * after `signal` aborts.
 */
export async function watchCollection<T extends Versioned>(
  kube: KubeConnection,
  watch: CollectionWatch<T>,
  signal: AbortSignal,
): Promise<void> {
  const query = Object.entries(watch.selectors)
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
    .join('&');
  let failures = 0;
  while (!signal.aborted) {
    let list: { metadata?: { resourceVersion?: string }; items: T[] };
    const listing = childSignal(signal);
    try {
      list = await kube.request('GET', `${watch.path}?${query}`, undefined, {
        signal: listing.controller.signal,
      });
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    } finally {
      listing.dispose();
    }
    if (signal.aborted) return;
    watch.onList(list.items);
    let resourceVersion = list.metadata?.resourceVersion;
    let relist = false;
    while (!relist && !signal.aborted) {
      const request = childSignal(signal);
      let failed: Error | undefined;
      const path =
        `${watch.path}?watch=1&allowWatchBookmarks=true&timeoutSeconds=${watch.timeoutSeconds}&${query}` +
        (resourceVersion !== undefined
          ? `&resourceVersion=${encodeURIComponent(resourceVersion)}`
          : '');
      const onLine = (line: string): void => {
        if (request.controller.signal.aborted || line.trim() === '') return;
        let event: { type?: string; object?: T & { code?: number } };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          return;
        }
        if (event.type === 'ERROR') {
          if (event.object?.code === 410) relist = true;
          else failed = new HttpError(event.object?.code ?? 500, event.object, watch.path);
          request.controller.abort();
          return;
        }
        const rv = event.object?.metadata?.resourceVersion;
        if (rv !== undefined) resourceVersion = rv;
        if (event.object === undefined) return;
        if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED')
          watch.onChange(event.type, event.object);
      };
      try {
        await kube.stream(path, onLine, request.controller.signal);
      } catch (error) {
        failed = error instanceof Error ? error : new Error(String(error));
      } finally {
        request.dispose();
      }
      if (signal.aborted) return;
      if (failed instanceof HttpError && failed.status === 410) relist = true;
      else if (failed instanceof HttpError && failed.status === 403) throw failed;
      else if (failed !== undefined) {
        if (++failures > MAX_FAILURES) throw failed;
        await backoff(Math.min(250 * 2 ** failures, 4000), signal);
        if (signal.aborted) return;
      } else failures = 0;
      watch.onRestart?.(relist ? 'relisted' : 'resumed');
    }
  }
}

/** A queue that an async generator drains while callbacks fill it. */
export class EventQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  push(...items: T[]): void {
    this.items.push(...items);
    if (items.length > 0) this.wake?.();
  }
  /** Resolves once an item is there, or on `notify()`. */
  async next(): Promise<void> {
    if (this.items.length > 0) return;
    await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
  }
  take(): T[] {
    return this.items.splice(0);
  }
  notify(): void {
    this.wake?.();
  }
}
