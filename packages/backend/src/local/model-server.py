# Cellflow local model server: serves a model a pipeline step saved, on loopback, speaking KServe's
# V1 protocol (/v1/models/NAME:predict) and the Open Inference Protocol V2 (/v2/models/NAME/infer,
# /v2/health/*). A bad request gets a 400 with a message and the server keeps serving.
#
#   python3 model-server.py --model-dir DIR --name NAME [--host 127.0.0.1] [--port 0] --ready-file F
#
# The model is loaded with the step runtime's own loader (passed in as --runtime FILE), so every
# format the pipeline can save can be served. When the server is listening it writes
# {"port": N, "pid": P} to the ready file.
#
# With --watch-stdin the server lives only as long as the process that started it: that process
# holds the other end of the server's stdin, and when it is gone (stopped, killed with its editor)
# stdin reaches end-of-file and the server stops, removing --owned-dir (its temp folder) if given.
#
# Built for latency and throughput with the standard library only (it runs in the model's own
# Python, whatever is installed there): one asyncio event loop, HTTP/1.1 keep-alive and pipelining,
# TCP_NODELAY, each response (head and body) sent in one write. Concurrent predictions are stacked
# into one predict() call when that measures faster than separate calls (no settings: the batch is
# whatever arrived while the previous call ran), and each request gets exactly its own rows back.
# A model whose predict() is slow runs in one worker thread so the loop keeps reading requests
# (and health checks) meanwhile; a cheap one runs on the loop, with no lock around anything.

import argparse
import asyncio
import collections
import concurrent.futures
import gc
import json
import os
import shutil
import socket
import sys
import time
import traceback
import types

V2_DATATYPES = {"f": "FP64", "i": "INT64", "u": "UINT64", "b": "BOOL", "U": "BYTES", "O": "BYTES"}
MAX_BODY = 64 * 1024 * 1024
MAX_HEAD = 64 * 1024
MAX_PIPELINED = 256
REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    501: "Not Implemented",
}
# predict() calls slower than this (seconds, moving average) move to the worker thread; back
# under the lower mark they return to the loop.
OFFLOAD_ABOVE = 0.002
INLINE_BELOW = 0.0005
# Every this many multi-request batches, try the mode not in favour to keep both costs current.
PROBE_EVERY = 64


class BadRequest(Exception):
    pass


class Ewma:
    __slots__ = ("value",)

    def __init__(self):
        self.value = None

    def add(self, sample, weight=0.1):
        fresh = self.value is None or self.value == float("inf")
        self.value = sample if fresh else self.value + weight * (sample - self.value)


def load_runtime(path):
    module = types.ModuleType("__cellflow__")
    with open(path, encoding="utf-8") as f:
        exec(compile(f.read(), "<cellflow runtime>", "exec"), module.__dict__)
    sys.modules["__cellflow__"] = module
    return module


def encode_response(status, payload, keep_alive=True):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    head = "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n" % (
        status,
        REASONS.get(status, ""),
        len(body),
        "" if keep_alive else "connection: close\r\n",
    )
    return head.encode("latin-1") + body


class ModelService:
    """The model and what requests to it look like: validation is cheap and runs per request;
    predict() runs in batches through the Batcher."""

    def __init__(self, name, model):
        import numpy

        self.numpy = numpy
        self.name = name
        self.model = model
        self.features = getattr(model, "n_features_in_", None)

    def rows(self, rows):
        """A request's instances as a 2-D float array, or BadRequest saying what is wrong."""
        try:
            array = self.numpy.asarray(rows, dtype=float)
        except (TypeError, ValueError) as e:
            raise BadRequest("instances must be numbers (%s)" % e)
        if array.ndim == 1:
            array = array.reshape(1, -1)
        if array.ndim != 2:
            raise BadRequest("instances must be a list of rows (a 2-D array); got %d dimensions" % array.ndim)
        if self.features is not None and array.shape[1] != self.features:
            raise BadRequest("each row needs %d features; got %d" % (self.features, array.shape[1]))
        return array

    def predict(self, array):
        return self.numpy.asarray(self.model.predict(array))

    def metadata(self):
        shape = [-1, self.features] if self.features is not None else [-1, -1]
        return {
            "name": self.name,
            "versions": ["1"],
            "platform": type(self.model).__module__.split(".")[0],
            "inputs": [{"name": "input-0", "datatype": "FP64", "shape": shape}],
            "outputs": [{"name": "output-0", "datatype": "BYTES", "shape": [-1]}],
        }


class Batcher:
    """Requests waiting for predict(). Everything that arrives in one turn of the event loop (or
    while the previous call ran) is one batch; a batch is one stacked predict() when stacking has
    measured cheaper per request than separate calls, else one call per request. A failing stacked
    call, or one that does not return a row per input row, is repeated per request, so an error
    belongs to the request that caused it."""

    def __init__(self, service, loop):
        self.service = service
        self.loop = loop
        self.pending = []
        self.scheduled = False
        self.busy = False
        self.offload = False
        self.worker = None
        self.call_cost = Ewma()  # seconds per predict() call
        self.single_cost = Ewma()  # seconds per request, one call each
        self.stacked_cost = Ewma()  # seconds per request, stacked
        self.batches = 0

    def submit(self, array, done):
        self.pending.append((array, done))
        if not self.scheduled and not self.busy:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self):
        self.scheduled = False
        if self.busy or not self.pending:
            return
        batch, self.pending = self.pending, []
        if not self.offload:
            self.deliver(batch, self.run(batch))
            return
        if self.worker is None:
            self.worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="cellflow-predict")
        self.busy = True
        future = self.loop.run_in_executor(self.worker, self.run, batch)
        future.add_done_callback(lambda f: self.finished(batch, f))

    def finished(self, batch, future):
        self.busy = False
        self.deliver(batch, future.result())
        if self.pending:
            self.flush()

    def deliver(self, batch, results):
        for (_, done), result in zip(batch, results):
            done(result)
        cost = self.call_cost.value
        if cost is not None:
            if not self.offload and cost > OFFLOAD_ABOVE:
                self.offload = True
            elif self.offload and cost < INLINE_BELOW:
                self.offload = False

    def stack_first(self):
        single, stacked = self.single_cost.value, self.stacked_cost.value
        favour = single is None or stacked is None or stacked <= single
        self.batches += 1
        return favour if self.batches % PROBE_EVERY else not favour

    def run(self, batch):
        if len(batch) > 1 and self.stack_first():
            results = self.run_stacked(batch)
            if results is not None:
                return results
        return [self.run_one(array) for array, _ in batch]

    def run_one(self, array):
        started = time.perf_counter()
        try:
            result = self.service.predict(array)
        except Exception as e:
            return e
        took = time.perf_counter() - started
        self.call_cost.add(took)
        self.single_cost.add(took)
        return result

    def run_stacked(self, batch):
        numpy = self.service.numpy
        arrays = [array for array, _ in batch]
        width = arrays[0].shape[1]
        if any(a.shape[1] != width for a in arrays):
            return None
        started = time.perf_counter()
        try:
            predictions = self.service.predict(numpy.concatenate(arrays))
        except Exception:
            predictions = None
        total = sum(len(a) for a in arrays)
        if predictions is None or predictions.ndim == 0 or len(predictions) != total:
            # Stacking does not serve this model (or these rows): not again until the next probe.
            self.stacked_cost.value = float("inf")
            return None
        results, offset = [], 0
        for a in arrays:
            results.append(predictions[offset : offset + len(a)])
            offset += len(a)
        took = time.perf_counter() - started
        self.call_cost.add(took)
        self.stacked_cost.add(took / len(batch))
        return results


def parse_chunked(buffer, start):
    """(body, end) of a chunked body starting at buffer[start], or None when more is to come."""
    body, at = bytearray(), start
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        try:
            size = int(bytes(buffer[at:line_end]).split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest("a chunk size is not hexadecimal")
        at = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", at - 2)
            if trailer_end < 0:
                return None
            return bytes(body), trailer_end + 4
        if len(buffer) < at + size + 2:
            return None
        body += buffer[at : at + size]
        if len(body) > MAX_BODY:
            raise BadRequest("request body larger than 64 MiB")
        at += size + 2


class Connection(asyncio.Protocol):
    """One keep-alive connection: parses requests as they arrive (pipelined ones too) and writes
    their responses in order, every response that is ready in one write."""

    def __init__(self, app):
        self.app = app
        self.buffer = bytearray()
        self.replies = collections.deque()  # [bytes or None, keep_alive]
        self.transport = None
        self.closing = False
        self.paused = False
        self.continued = False

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc):
        self.closing = True
        self.transport = None

    def data_received(self, data):
        self.buffer += data
        while not self.closing and self.buffer:
            try:
                request = self.next_request()
            except BadRequest as e:
                self.reply_now(encode_response(400, {"error": str(e)}, keep_alive=False), keep_alive=False)
                return
            if request is None:
                break
            method, path, keep_alive, body = request
            slot = [None, keep_alive]
            self.replies.append(slot)
            self.app.handle(method, path, body, lambda status, payload, slot=slot: self.answer(slot, status, payload))
            if not keep_alive:
                self.closing = True
        if len(self.replies) > MAX_PIPELINED and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def next_request(self):
        buffer = self.buffer
        head_end = buffer.find(b"\r\n\r\n")
        if head_end < 0:
            if len(buffer) > MAX_HEAD:
                raise BadRequest("request head larger than 64 KiB")
            return None
        lines = bytes(buffer[:head_end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest("not an HTTP/1.x request line: %r" % lines[0][:200])
        method, target, version = parts
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise BadRequest("malformed header line %r" % line[:200])
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        start = head_end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parsed = parse_chunked(buffer, start)
            if parsed is None:
                self.maybe_continue(headers)
                return None
            body, end = parsed
        else:
            try:
                length = int(headers.get("content-length") or 0)
            except ValueError:
                raise BadRequest("content-length is not a number")
            if length < 0 or length > MAX_BODY:
                raise BadRequest("request body larger than 64 MiB")
            end = start + length
            if len(buffer) < end:
                self.maybe_continue(headers)
                return None
            body = bytes(buffer[start:end])
        del buffer[:end]
        self.continued = False
        return method, target.split("?", 1)[0], keep_alive, body

    def maybe_continue(self, headers):
        if not self.continued and headers.get("expect", "").lower() == "100-continue" and self.transport:
            self.continued = True
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def answer(self, slot, status, payload):
        slot[0] = encode_response(status, payload, keep_alive=slot[1])
        self.send_ready()

    def reply_now(self, data, keep_alive):
        self.replies.append([data, keep_alive])
        self.closing = True
        self.send_ready()

    def send_ready(self):
        out, close = [], False
        replies = self.replies
        while replies and replies[0][0] is not None:
            data, keep_alive = replies.popleft()
            out.append(data)
            if not keep_alive:
                close = True
                replies.clear()
                break
        if not out or self.transport is None:
            return
        self.transport.write(out[0] if len(out) == 1 else b"".join(out))
        if close:
            self.transport.close()
        elif self.paused and len(replies) <= MAX_PIPELINED // 2:
            self.paused = False
            self.transport.resume_reading()


class App:
    """Routes of the V1 and V2 protocols for one model."""

    def __init__(self, service, batcher):
        self.service = service
        self.batcher = batcher
        name = service.name
        self.get_routes = {
            "/v2/health/live": lambda: {"live": True},
            "/v2/health/ready": lambda: {"ready": True},
            "/v2": lambda: {"name": "cellflow", "version": "1", "extensions": []},
            "/v1/models": lambda: {"models": [name]},
            "/v1/models/%s" % name: lambda: {"name": name, "ready": True},
            "/v2/models/%s/ready" % name: lambda: {"name": name, "ready": True},
            "/v2/models/%s" % name: service.metadata,
        }
        self.post_routes = {
            "/v1/models/%s:predict" % name: self.predict_v1,
            "/v2/models/%s/infer" % name: self.infer_v2,
        }

    def not_found(self, path):
        return {"error": "no such path %s; the model is %r" % (path, self.service.name)}

    def handle(self, method, path, body, reply):
        if method == "GET":
            route = self.get_routes.get(path)
            return reply(200, route()) if route else reply(404, self.not_found(path))
        if method != "POST":
            return reply(405, {"error": "method %s not allowed; use GET or POST" % method})
        route = self.post_routes.get(path)
        if route is None:
            return reply(404, self.not_found(path))
        try:
            route(body, reply)
        except BadRequest as e:
            reply(400, {"error": str(e)})
        except Exception as e:
            traceback.print_exc()
            reply(500, {"error": "%s: %s" % (type(e).__name__, e)})

    @staticmethod
    def read_json(body):
        try:
            return json.loads(body)
        except (UnicodeDecodeError, ValueError) as e:
            raise BadRequest("the body is not JSON (%s)" % e)

    def predict_v1(self, body, reply):
        request = self.read_json(body)
        if not isinstance(request, dict) or not isinstance(request.get("instances"), list):
            raise BadRequest('expected {"instances": [[...], ...]}')
        array = self.service.rows(request["instances"])

        def done(result):
            if isinstance(result, BaseException):
                return self.failed(result, reply)
            reply(200, b'{"predictions": ' + json.dumps(result.tolist()).encode("utf-8") + b"}")

        self.batcher.submit(array, done)

    def infer_v2(self, body, reply):
        request = self.read_json(body)
        inputs = request.get("inputs") if isinstance(request, dict) else None
        if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
            raise BadRequest('expected {"inputs": [{"name", "shape", "datatype", "data"}]} with one input')
        tensor = inputs[0]
        shape, data = tensor.get("shape"), tensor.get("data")
        if not isinstance(shape, list) or not isinstance(data, list):
            raise BadRequest("the input needs a shape and a data list")
        try:
            rows = self.service.numpy.asarray(data, dtype=float).reshape(shape)
        except (TypeError, ValueError) as e:
            raise BadRequest("data does not fit shape %s (%s)" % (shape, e))
        array = self.service.rows(rows)
        request_id = request.get("id", "")

        def done(result):
            if isinstance(result, BaseException):
                return self.failed(result, reply)
            output = {
                "name": "output-0",
                "shape": list(result.shape),
                "datatype": V2_DATATYPES.get(result.dtype.kind, "BYTES"),
                "data": result.ravel().tolist(),
            }
            reply(200, {"model_name": self.service.name, "model_version": "1", "id": request_id, "outputs": [output]})

        self.batcher.submit(array, done)

    @staticmethod
    def failed(error, reply):
        traceback.print_exception(type(error), error, error.__traceback__)
        reply(500, {"error": "%s: %s" % (type(error).__name__, error)})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--watch-stdin", action="store_true")
    parser.add_argument("--owned-dir")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.stderr.write("Cellflow: the local model server only listens on loopback.\n")
        return 2
    runtime = load_runtime(args.runtime)
    model = runtime.load_value(args.model_dir)
    if not hasattr(model, "predict"):
        sys.stderr.write("Cellflow: %s is a %s, which has no predict(); it cannot be served.\n" % (args.name, type(model).__name__))
        return 1
    service = ModelService(args.name, model)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    app = App(service, Batcher(service, loop))
    server = loop.run_until_complete(
        loop.create_server(lambda: Connection(app), args.host, args.port, reuse_address=True, backlog=1024)
    )
    # The model and the libraries are loaded for good: keep the collector from walking them.
    gc.collect()
    gc.freeze()
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"port": server.sockets[0].getsockname()[1], "pid": os.getpid()}, f)
    os.replace(tmp, args.ready_file)
    if args.watch_stdin:
        _stop_when_stdin_closes(loop)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    if args.watch_stdin and args.owned_dir:
        shutil.rmtree(args.owned_dir, ignore_errors=True)
    return 0


def _stop_when_stdin_closes(loop):
    """Stops the loop when stdin reaches end-of-file: the process that started the server (and
    holds the pipe's other end) is gone."""
    fd = sys.stdin.fileno()

    def readable():
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            loop.stop()

    loop.add_reader(fd, readable)


if __name__ == "__main__":
    sys.exit(main())
