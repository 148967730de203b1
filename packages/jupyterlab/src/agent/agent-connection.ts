/**
 * The agent client of this page. Requests go through Jupyter's `ServerConnection`, so the
 * server's token and XSRF cookie travel with them and the Cellflow server extension (which proxies
 * `/cellflow/api/*` to the agent behind Jupyter's auth) accepts them.
 */
import { AgentClient } from '@cellflow/ui';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** `override`: the `agentUrl` setting; empty means the Jupyter server's `cellflow/api/`. */
export function createAgentClient(override: string): AgentClient {
  const settings = ServerConnection.makeSettings();
  const baseUrl =
    override.trim() !== '' ? override.trim() : URLExt.join(settings.baseUrl, 'cellflow/api/');
  return new AgentClient({
    baseUrl,
    fetch: (input, init) =>
      ServerConnection.makeRequest(
        typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
        init ?? {},
        settings,
      ),
  });
}
