"""Cellflow's Jupyter server extension.

Starts ``cellflow agent`` (the local runner, or a cluster) on a free loopback port with a random
token when the Jupyter server starts, proxies ``<base_url>cellflow/api/*`` to it behind Jupyter's
own authentication, and stops it with the server. The browser never sees the agent's port or
token. Standard library plus jupyter_server only.

Installed with the ``cellflow_jupyterlab`` wheel it is enabled by the
``etc/jupyter/jupyter_server_config.d/cellflow_jupyter.json`` the wheel carries, and starts the agent
bundled beside this module with Node.js. From a development checkout (module on PYTHONPATH)::

    jupyter server --ServerApp.jpserver_extensions="{'cellflow_jupyter': True}"

Settings are the ``CellflowAgent`` traits (see ``agent_process.py``).
"""

from .agent_process import AgentProcess, CellflowAgent
from .proxy_handler import CellflowApiHandler, api_route

__all__ = ["AgentProcess", "CellflowAgent", "CellflowApiHandler"]


def _jupyter_server_extension_points():
    return [{"module": "cellflow_jupyter"}]


def _load_jupyter_server_extension(serverapp):
    settings = CellflowAgent(parent=serverapp, config=serverapp.config)
    agent = AgentProcess(settings, root_dir=serverapp.root_dir, log=serverapp.log)
    agent.start()
    serverapp.web_app.settings["cellflow_agent"] = agent
    base_url = serverapp.web_app.settings.get("base_url", "/")
    serverapp.web_app.add_handlers(".*$", [(api_route(base_url), CellflowApiHandler)])
    serverapp.log.info("Cellflow: agent API at %scellflow/api/", base_url)


# jupyter_server 1.x also looks for the older name.
load_jupyter_server_extension = _load_jupyter_server_extension
