/**
 * Following one collection of custom objects (a run's Workflow, a study's Experiment and Trials)
 * with the client's list-watch informer (`ListWatch`): it lists (the whole state and the
 * resourceVersion to watch from), watches from there, resumes from the last version seen when the
 * server ends a watch, and lists again when that version is compacted (410 Gone), telling which
 * objects came, changed or went. Added here, because `ListWatch` and `Watch` (1.4) lack them:
 * - the server-side `timeoutSeconds` of each watch request and bookmarks (a quiet watch keeps a
 *   fresh version);
 * - a watch request that failed (dropped connection, 5xx) is retried with backoff, up to
 *   `MAX_FAILURES` in a row, where `ListWatch` stops at the first error; a 403 is final at once;
 * - the list's retries and timeout (`KubeConnection.read`);
 * - stopping while a list or a watch request is in flight leaves nothing behind (`ListWatch` starts
 *   the watch a list was waiting for even after `stop()`), and the returned promise settles only
 *   once every request and timer is gone;
 * - `onRestart` says how each watch went on (resumed or relisted), for diagnostics and tests.
 */
import type { KubernetesObject, ListWatch } from '@kubernetes/client-node';
import { HttpError, networkError, type KubeConnection } from './kube-connection.js';

/** How a watch went on after its connection ended: from its last version, or from a new list (410 Gone). */
export type WatchRestart = 'resumed' | 'relisted';

export type WatchChange = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A namespaced custom resource collection, as `CustomObjectsApi` names it. */
export interface CustomResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

export interface CollectionWatch<T> {
  readonly resource: CustomResource;
  readonly namespace: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Seconds after which the API server ends one watch request (it is then resumed). */
  readonly timeoutSeconds: number;
  /** One change, in the server's order (after a relist: what the new list changed). */
  readonly onChange: (type: WatchChange, object: T) => void;
  /** The first list is in: every object of it went to `onChange` as ADDED. */
  readonly onListed?: () => void;
  /** Told each time the watch goes on after its connection ended. */
  readonly onRestart?: (how: WatchRestart) => void;
}

/** Consecutive failed watch requests before giving up. */
const MAX_FAILURES = 8;

/** The error of a watch request as `clusterError` reads it: the client's has only `statusCode`. */
function watchError(error: unknown, path: string): Error {
  if (error instanceof HttpError) return error;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number') return new HttpError(status, (error as Error).message, path);
  return networkError(error);
}

/**
 * Follows the collection until `signal` aborts, then resolves (every request and timer is gone
 * by then). Rejects with the error of a list (after `KubeConnection.read`'s retries), with a
 * 403 at once, or with the last error after repeated failed watch requests. Nothing is delivered
 * after `signal` aborts.
 */
export async function watchCollection<T>(
  kube: KubeConnection,
  watch: CollectionWatch<T>,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return;
  const { group, version, plural } = watch.resource;
  const namespace = watch.namespace;
  const path = `/apis/${group}/${version}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
  const inFlight = new Set<Promise<unknown>>();
  const track = <R>(p: Promise<R>): Promise<R> => {
    inFlight.add(p);
    void p.then(
      () => inFlight.delete(p),
      () => inFlight.delete(p),
    );
    return p;
  };
  let failures = 0;
  const { ListWatch, Watch } = kube.lib;

  /** The client's `Watch`, with a server-side timeout and bookmarks, never started after `signal`. */
  class BoundedWatch extends Watch {
    override async watch(
      watchPath: string,
      query: Record<string, string | number | boolean | undefined>,
      callback: (phase: string, object: unknown, event?: unknown) => void,
      done: (error: unknown) => void,
    ): Promise<AbortController> {
      if (signal.aborted) return new AbortController();
      // An ERROR event other than 410 ends the watch as a failure (`ListWatch` would resume at once).
      let failed: HttpError | undefined;
      const started = track(
        super.watch(
          watchPath,
          { ...query, timeoutSeconds: watch.timeoutSeconds, allowWatchBookmarks: true },
          (phase, object, event) => {
            if (signal.aborted) return;
            const status = (object as { code?: unknown } | undefined)?.code;
            if (phase === 'ERROR' && status !== 410)
              failed = new HttpError(typeof status === 'number' ? status : 500, object, path);
            callback(phase, object, event);
          },
          (error: unknown) => {
            if (error === null || error === undefined) {
              if (failed !== undefined) return done(failed);
              failures = 0;
            }
            done(error);
          },
        ),
      );
      const controller = await started;
      if (signal.aborted) controller.abort();
      return controller;
    }
  }

  let listFailure: unknown;
  const informer: ListWatch<KubernetesObject> = new ListWatch<KubernetesObject>(
    path,
    new BoundedWatch(kube.config),
    () =>
      track(
        kube.read(
          (o) =>
            kube.custom.listNamespacedCustomObject(
              {
                group,
                version,
                namespace,
                plural,
                ...(watch.labelSelector !== undefined
                  ? { labelSelector: watch.labelSelector }
                  : {}),
                ...(watch.fieldSelector !== undefined
                  ? { fieldSelector: watch.fieldSelector }
                  : {}),
              },
              o,
            ) as Promise<{ metadata?: { resourceVersion?: string }; items: KubernetesObject[] }>,
          { signal },
        ),
      ).catch((error: unknown) => {
        listFailure = error;
        throw error;
      }),
    false,
    watch.labelSelector,
    watch.fieldSelector,
  );
  const deliver =
    (type: WatchChange) =>
    (object: KubernetesObject): void => {
      if (!signal.aborted) watch.onChange(type, object as T);
    };
  informer.on('add', deliver('ADDED'));
  informer.on('update', deliver('MODIFIED'));
  informer.on('delete', deliver('DELETED'));
  let connects = 0;
  informer.on('connect', () => {
    if (connects++ > 0 && !signal.aborted)
      watch.onRestart?.(informer.latestResourceVersion() === '' ? 'relisted' : 'resumed');
  });

  let retryTimer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve, reject) => {
    const stop = (): void => {
      clearTimeout(retryTimer);
      void informer.stop();
      resolve();
    };
    signal.addEventListener('abort', stop, { once: true });
    const fail = (error: unknown): void => {
      signal.removeEventListener('abort', stop);
      clearTimeout(retryTimer);
      void informer.stop();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    informer.on('error', (raw: unknown) => {
      if (signal.aborted) return;
      if (raw === listFailure) return fail(raw);
      const error = watchError(raw, path);
      if (error instanceof HttpError && error.status === 403) return fail(error);
      if (++failures > MAX_FAILURES) return fail(error);
      retryTimer = setTimeout(
        () => {
          if (!signal.aborted) void track(informer.start());
        },
        Math.min(250 * 2 ** failures, 4000),
      );
    });
    void track(informer.start()).then(() => {
      if (!signal.aborted && listFailure === undefined) watch.onListed?.();
    });
  });
  // Stopped: wait for the requests that were under way (each ends at once on `signal`).
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
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
