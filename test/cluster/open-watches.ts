/**
 * Watch requests the API server is serving, from its own metric
 * (`apiserver_longrunning_gauge{verb="WATCH"}` on GET /metrics as the admin): tests see whether
 * a client is watching a resource yet, and whether it stopped.
 */
import type { TestCluster } from './harness.js';

/** Open watch requests on `resource` (plural, e.g. `trials`), all namespaces. */
export async function openWatches(cluster: TestCluster, resource: string): Promise<number> {
  const text = await cluster.admin.request<string>('GET', '/metrics');
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_longrunning_gauge{')) continue;
    if (line.includes(`resource="${resource}"`) && line.includes('verb="WATCH"'))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Waits until `resource` has exactly `count` open watch requests; fails after `timeoutMs`. */
export async function waitForOpenWatches(
  cluster: TestCluster,
  resource: string,
  count: number,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let open = await openWatches(cluster, resource);
  while (open !== count) {
    if (Date.now() > deadline)
      throw new Error(
        `${open} open ${resource} watch requests after ${timeoutMs} ms, not ${count}`,
      );
    await new Promise((r) => setTimeout(r, 20));
    open = await openWatches(cluster, resource);
  }
}
