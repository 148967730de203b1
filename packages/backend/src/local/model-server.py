# Cellflow local model server: serves a model a pipeline step saved, on loopback, speaking KServe's
# V1 protocol (/v1/models/NAME:predict) and the Open Inference Protocol V2 (/v2/models/NAME/infer,
# /v2/health/*). A bad request gets a 400 with a message and the server keeps serving.
#
#   python3 model-server.py --model-dir DIR --name NAME [--host 127.0.0.1] [--port 0] --ready-file F
#
# The model is loaded with the step runtime's own loader (passed in as --runtime FILE), so every
# format the pipeline can save can be served. When the server is listening it writes
# {"port": N, "pid": P} to the ready file.

import argparse
import json
import os
import sys
import threading
import traceback
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

V2_DATATYPES = {"f": "FP64", "i": "INT64", "u": "UINT64", "b": "BOOL", "U": "BYTES", "O": "BYTES"}


class BadRequest(Exception):
    pass


def load_runtime(path):
    module = types.ModuleType("__cellflow__")
    with open(path, encoding="utf-8") as f:
        exec(compile(f.read(), "<cellflow runtime>", "exec"), module.__dict__)
    sys.modules["__cellflow__"] = module
    return module


class ModelService:
    def __init__(self, name, model):
        self.name = name
        self.model = model
        self.lock = threading.Lock()
        self.features = getattr(model, "n_features_in_", None)

    def predict(self, rows):
        import numpy

        try:
            array = numpy.asarray(rows, dtype=float)
        except (TypeError, ValueError) as e:
            raise BadRequest("instances must be numbers (%s)" % e)
        if array.ndim == 1:
            array = array.reshape(1, -1)
        if array.ndim != 2:
            raise BadRequest("instances must be a list of rows (a 2-D array); got %d dimensions" % array.ndim)
        if self.features is not None and array.shape[1] != self.features:
            raise BadRequest("each row needs %d features; got %d" % (self.features, array.shape[1]))
        with self.lock:
            predictions = self.model.predict(array)
        return numpy.asarray(predictions)

    def metadata(self):
        shape = [-1, self.features] if self.features is not None else [-1, -1]
        return {
            "name": self.name,
            "versions": ["1"],
            "platform": type(self.model).__module__.split(".")[0],
            "inputs": [{"name": "input-0", "datatype": "FP64", "shape": shape}],
            "outputs": [{"name": "output-0", "datatype": "BYTES", "shape": [-1]}],
        }


def make_handler(service):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def send_json(self, status, body):
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def read_json(self):
            length = int(self.headers.get("content-length") or 0)
            if length > 64 * 1024 * 1024:
                raise BadRequest("request body larger than 64 MiB")
            raw = self.rfile.read(length) if length > 0 else b""
            try:
                return json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise BadRequest("the body is not JSON (%s)" % e)

        def do_GET(self):
            name = service.name
            if self.path in ("/v2/health/live", "/v2/health/ready"):
                return self.send_json(200, {"live": True} if self.path.endswith("live") else {"ready": True})
            if self.path in ("/v1/models/%s" % name, "/v2/models/%s/ready" % name):
                return self.send_json(200, {"name": name, "ready": True})
            if self.path == "/v2/models/%s" % name:
                return self.send_json(200, service.metadata())
            if self.path == "/v1/models":
                return self.send_json(200, {"models": [name]})
            return self.send_json(404, {"error": "no such path %s; the model is %r" % (self.path, name)})

        def do_POST(self):
            name = service.name
            try:
                if self.path == "/v1/models/%s:predict" % name:
                    body = self.read_json()
                    if not isinstance(body, dict) or not isinstance(body.get("instances"), list):
                        raise BadRequest('expected {"instances": [[...], ...]}')
                    predictions = service.predict(body["instances"])
                    return self.send_json(200, {"predictions": predictions.tolist()})
                if self.path == "/v2/models/%s/infer" % name:
                    body = self.read_json()
                    inputs = body.get("inputs") if isinstance(body, dict) else None
                    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
                        raise BadRequest('expected {"inputs": [{"name", "shape", "datatype", "data"}]} with one input')
                    tensor = inputs[0]
                    shape, data = tensor.get("shape"), tensor.get("data")
                    if not isinstance(shape, list) or not isinstance(data, list):
                        raise BadRequest("the input needs a shape and a data list")
                    import numpy

                    try:
                        rows = numpy.asarray(data, dtype=float).reshape(shape)
                    except ValueError as e:
                        raise BadRequest("data does not fit shape %s (%s)" % (shape, e))
                    predictions = service.predict(rows)
                    output = {
                        "name": "output-0",
                        "shape": list(predictions.shape),
                        "datatype": V2_DATATYPES.get(predictions.dtype.kind, "BYTES"),
                        "data": predictions.ravel().tolist(),
                    }
                    return self.send_json(200, {"model_name": name, "model_version": "1", "id": body.get("id", ""), "outputs": [output]})
                return self.send_json(404, {"error": "no such path %s; the model is %r" % (self.path, name)})
            except BadRequest as e:
                return self.send_json(400, {"error": str(e)})
            except Exception as e:
                traceback.print_exc()
                return self.send_json(500, {"error": "%s: %s" % (type(e).__name__, e)})

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.stderr.write("Cellflow: the local model server only listens on loopback.\n")
        return 2
    runtime = load_runtime(args.runtime)
    model = runtime.load_value(args.model_dir)
    if not hasattr(model, "predict"):
        sys.stderr.write("Cellflow: %s is a %s, which has no predict(); it cannot be served.\n" % (args.name, type(model).__name__))
        return 1
    server = ThreadingHTTPServer((args.host, args.port), make_handler(ModelService(args.name, model)))
    server.daemon_threads = True
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"port": server.server_address[1], "pid": os.getpid()}, f)
    os.replace(tmp, args.ready_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
