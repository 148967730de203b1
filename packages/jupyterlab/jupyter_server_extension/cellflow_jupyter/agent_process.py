"""The ``cellflow agent`` child process: started with a fresh token, found through its ready line,
stopped with the server (and, should the server die without stopping it, the agent notices its
parent is gone and its stdin pipe closed, and ends by itself)."""

import atexit
import json
import os
import secrets
import shutil
import signal
import subprocess
import threading
from collections import deque

from traitlets import Bool, Float, List, Unicode
from traitlets.config import Configurable

READY_PREFIX = "cellflow-agent-ready "

_HERE = os.path.dirname(os.path.abspath(__file__))
# The agent an installed package carries: the `cellflow` CLI bundled into one file.
BUNDLED_AGENT = os.path.join(_HERE, "agent", "cellflow-agent.mjs")
# In a development checkout (packages/jupyterlab/jupyter_server_extension/cellflow_jupyter), the
# checkout's CLI instead.
_CHECKOUT_CLI = os.path.abspath(
    os.path.join(_HERE, "..", "..", "..", "cli", "bin", "cellflow.js")
)


def default_agent_script():
    """The bundled agent when installed, else a checkout's CLI, else None."""
    for path in (BUNDLED_AGENT, _CHECKOUT_CLI):
        if os.path.isfile(path):
            return path
    return None


class CellflowAgent(Configurable):
    """How the Cellflow server extension starts ``cellflow agent``."""

    node = Unicode(
        "",
        config=True,
        help="Node.js 20 or newer (default: $CELLFLOW_NODE, else `node` on PATH).",
    )
    cli = Unicode(
        "",
        config=True,
        help="The cellflow CLI script (default: $CELLFLOW_CLI, else the agent this package carries, "
        "agent/cellflow-agent.mjs; in a development checkout, packages/cli/bin/cellflow.js).",
    )
    cluster = Bool(
        False,
        config=True,
        help="Drive a Kubeflow cluster (in-cluster config inside a notebook pod) instead of this machine.",
    )
    context = Unicode("", config=True, help="Kubeconfig context (with cluster).")
    namespace = Unicode("", config=True, help="Namespace for runs (with cluster).")
    python = Unicode("", config=True, help="Python interpreter for local steps.")
    workspace = Unicode(
        "", config=True, help="Folder whose .cellflow/ keeps run history (default: the server root)."
    )
    extra_args = List(Unicode(), config=True, help="More `cellflow agent` arguments.")
    startup_timeout = Float(30.0, config=True, help="Seconds to wait for the agent's ready line.")

    def command(self, root_dir):
        node = self.node or os.environ.get("CELLFLOW_NODE") or shutil.which("node")
        if not node:
            raise AgentUnavailable(
                "Node.js 20 or newer runs the Cellflow agent and no `node` is on PATH: install Node.js, "
                "or set CellflowAgent.node (or $CELLFLOW_NODE) to its path"
            )
        cli = self.cli or os.environ.get("CELLFLOW_CLI") or default_agent_script()
        if not cli:
            raise AgentUnavailable(
                f"this package lacks its agent ({BUNDLED_AGENT}): reinstall cellflow_jupyterlab, "
                "or set CellflowAgent.cli (or $CELLFLOW_CLI) to a `cellflow` CLI script"
            )
        args = [node, cli, "agent", "--port", "0", "--workspace", self.workspace or root_dir]
        if self.cluster:
            args.append("--cluster")
            if self.context:
                args += ["--context", self.context]
            if self.namespace:
                args += ["--namespace", self.namespace]
        if self.python:
            args += ["--python", self.python]
        return args + list(self.extra_args)


class AgentUnavailable(Exception):
    """The agent is not running; the message says why and what to do."""


class AgentProcess:
    """One ``cellflow agent`` child: ``start()``, ``wait_ready()`` -> (port, token), ``stop()``."""

    def __init__(self, settings, root_dir, log):
        self.settings = settings
        self.root_dir = root_dir
        self.log = log
        self.token = None
        self.port = None
        self.process = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._stderr_tail = deque(maxlen=20)
        self._failure = None
        atexit.register(self.stop)

    def start(self):
        with self._lock:
            if self.process is not None and self.process.poll() is None:
                return
            self._ready.clear()
            self._failure = None
            self.port = None
            self.token = secrets.token_urlsafe(32)
            try:
                command = self.settings.command(self.root_dir)
            except AgentUnavailable as error:
                self._failure = str(error)
                self.process = None
                self._ready.set()
                self.log.error("Cellflow: %s", self._failure)
                return
            env = dict(os.environ, CELLFLOW_AGENT_TOKEN=self.token)
            try:
                self.process = subprocess.Popen(
                    command,
                    cwd=self.root_dir,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    bufsize=1,
                )
            except OSError as error:
                self._failure = (
                    f"could not start `{' '.join(command[:3])}`: {error}. Set "
                    "CellflowAgent.node / CellflowAgent.cli (or $CELLFLOW_NODE / $CELLFLOW_CLI)."
                )
                self.process = None
                self._ready.set()
                self.log.error("Cellflow: %s", self._failure)
                return
            self.log.info("Cellflow: starting agent (pid %s)", self.process.pid)
            threading.Thread(target=self._read_stdout, args=(self.process,), daemon=True).start()
            threading.Thread(target=self._read_stderr, args=(self.process,), daemon=True).start()

    def _read_stdout(self, process):
        for line in process.stdout:
            if line.startswith(READY_PREFIX) and not self._ready.is_set():
                try:
                    ready = json.loads(line[len(READY_PREFIX) :])
                    self.port = int(ready["port"])
                    self.log.info("Cellflow: agent ready on 127.0.0.1:%s", self.port)
                except (ValueError, KeyError, TypeError):
                    self._failure = "the agent's ready line could not be read"
                self._ready.set()
        process.wait()
        if not self._ready.is_set():
            self._failure = (
                f"the agent exited with code {process.returncode} before it was ready: "
                + " | ".join(self._stderr_tail)
            )
            self.log.error("Cellflow: %s", self._failure)
            self._ready.set()

    def _read_stderr(self, process):
        for line in process.stderr:
            line = line.rstrip("\n")
            self._stderr_tail.append(line)
            self.log.debug("Cellflow agent: %s", line)

    def wait_ready(self):
        """Blocks until the agent listens; returns (port, token) or raises AgentUnavailable."""
        if self.process is not None and self.process.poll() is not None and self._ready.is_set():
            self.log.warning("Cellflow: the agent had exited (%s); starting it again", self.process.returncode)
            self.start()
        if not self._ready.wait(self.settings.startup_timeout):
            raise AgentUnavailable(
                f"The Cellflow agent did not start within {self.settings.startup_timeout:g} s; see the Jupyter server log."
            )
        if self._failure is not None or self.port is None:
            raise AgentUnavailable(
                f"The Cellflow agent is not running: {self._failure}. See the Jupyter server log."
            )
        return self.port, self.token

    def stop(self):
        process = self.process
        if process is None or process.poll() is not None:
            return
        self.log.info("Cellflow: stopping agent (pid %s)", process.pid)
        try:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        except OSError:
            pass
        try:
            process.stdin.close()
        except OSError:
            pass
