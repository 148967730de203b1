"""``<base_url>cellflow/api/*`` -> the agent, behind Jupyter's authentication.

Requests need a logged-in Jupyter user (token or cookie, XSRF for POST/DELETE, Jupyter's origin
check); the agent's own token is added here and never reaches the browser. Server-sent event
streams are passed through chunk by chunk, unbuffered, and the agent request is dropped as soon as
the browser goes away.
"""

import json
from urllib.parse import parse_qsl, urlencode

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.ioloop import IOLoop

from .agent_process import AgentUnavailable

_FORWARDED_REQUEST_HEADERS = ("Accept", "Content-Type", "Last-Event-ID")
_DROPPED_RESPONSE_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "date",
    "server",
    "www-authenticate",
}
_MAX_BODY = 64 * 1024 * 1024
_STREAM_TIMEOUT = 7 * 24 * 3600.0

_client = None


def _http_client():
    global _client
    if _client is None:
        # Streams stay open for a whole run: allow many at once, and long bodies.
        _client = AsyncHTTPClient(force_instance=True, max_clients=64, max_body_size=1 << 40)
    return _client


def api_route(base_url):
    return url_path_join(base_url, "cellflow/api/") + "(.*)"


class _BrowserGone(Exception):
    pass


class CellflowApiHandler(APIHandler):
    """Proxies one request to the agent."""

    _closed = False

    def on_connection_close(self):
        self._closed = True

    @web.authenticated
    async def get(self, path):
        await self._proxy(path)

    @web.authenticated
    async def post(self, path):
        await self._proxy(path)

    @web.authenticated
    async def delete(self, path):
        await self._proxy(path)

    async def _proxy(self, path):
        agent = self.settings["cellflow_agent"]
        try:
            port, token = await IOLoop.current().run_in_executor(None, agent.wait_ready)
        except AgentUnavailable as error:
            self._reply_error(503, "agent-unreachable", str(error))
            return
        # The raw path (still percent-encoded), so ids reach the agent exactly as the client sent them.
        prefix = url_path_join(self.base_url, "cellflow/api/")
        raw_path = self.request.path[len(prefix) :] if self.request.path.startswith(prefix) else path
        # Jupyter's own token stays here.
        query = urlencode([(k, v) for k, v in parse_qsl(self.request.query) if k != "token"])
        url = f"http://127.0.0.1:{port}/api/{raw_path}" + (f"?{query}" if query else "")
        headers = {k: self.request.headers[k] for k in _FORWARDED_REQUEST_HEADERS if k in self.request.headers}
        headers["Authorization"] = f"Bearer {token}"
        has_body = self.request.method == "POST"
        if has_body and len(self.request.body) > _MAX_BODY:
            self._reply_error(413, "payload-too-large", "The request body is too large.")
            return
        state = {"status": None, "started": False, "stream": False}

        def on_header(line):
            line = line.rstrip("\r\n")
            if state["status"] is None:
                if line.startswith("HTTP/"):
                    parts = line.split(" ", 2)
                    state["status"] = int(parts[1])
                    state["reason"] = parts[2] if len(parts) > 2 else None
                return
            if line == "":
                return
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-type":
                state["stream"] = value.strip().startswith("text/event-stream")
            if name.strip().lower() not in _DROPPED_RESPONSE_HEADERS:
                self.set_header(name.strip(), value.strip())

        def on_chunk(chunk):
            if self._closed:
                raise _BrowserGone()
            if not state["started"]:
                state["started"] = True
                self.set_status(state["status"] or 502, state.get("reason"))
            self.write(chunk)
            self.flush()

        request = HTTPRequest(
            url,
            method=self.request.method,
            headers=headers,
            body=self.request.body if has_body else None,
            allow_nonstandard_methods=True,
            follow_redirects=False,
            header_callback=on_header,
            streaming_callback=on_chunk,
            connect_timeout=10.0,
            request_timeout=_STREAM_TIMEOUT,
            decompress_response=False,
        )
        try:
            response = await _http_client().fetch(request, raise_error=False)
        except _BrowserGone:
            return
        except HTTPClientError as error:
            response = error.response
        except Exception as error:  # connection refused, reset
            if self._closed:
                return
            if state["started"]:
                # Mid-stream: end it; the client reconnects with Last-Event-ID.
                self.finish()
                return
            self._reply_error(502, "agent-unreachable", f"The Cellflow agent did not answer: {error}.")
            return
        if self._closed:
            return
        if not state["started"]:
            self.set_status(response.code if response is not None else 502, state.get("reason"))
        if state["stream"]:
            # APIHandler.finish would set application/json; the headers are sent already.
            return web.RequestHandler.finish(self)
        self.finish()

    def _reply_error(self, status, code, message):
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"code": code, "message": message}))
