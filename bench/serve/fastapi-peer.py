# The peer bench:serve compares the local model server with: the same model behind FastAPI on
# uvicorn (the stack KServe's Python model server is built on), answering KServe V1 predictions.
#
#   python3 fastapi-peer.py RUNTIME_PY MODEL_DIR NAME PORT

import sys
import types

import numpy
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

runtime = types.ModuleType("__cellflow__")
with open(sys.argv[1], encoding="utf-8") as f:
    exec(compile(f.read(), sys.argv[1], "exec"), runtime.__dict__)
sys.modules["__cellflow__"] = runtime
model = runtime.load_value(sys.argv[2])
name = sys.argv[3]
app = FastAPI()


@app.get("/v1/models/%s" % name)
async def ready():
    return {"name": name, "ready": True}


@app.post("/v1/models/%s:predict" % name)
async def predict(request: Request):
    body = await request.json()
    try:
        rows = numpy.asarray(body["instances"], dtype=float)
    except (KeyError, TypeError, ValueError) as e:
        return JSONResponse({"error": str(e)}, status_code=400)
    return {"predictions": model.predict(rows).tolist()}


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[4]), log_level="warning", access_log=False)
