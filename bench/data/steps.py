# The two sides of a variable passed between steps, through the step runtime's own save_value and
# load_value (the runtime file is the first argument), each in its own process as in a run:
#
#   python3 steps.py RUNTIME save numpy|pandas SIZE PATH   -> {"seconds": save time, "bytes": size}
#   python3 steps.py RUNTIME load PATH [PASS_TO]           -> {"seconds": load + one full read}
#
# The value is made before the clock starts. A load reads every byte once (a sum per column), as
# the step using it would, so a lazily mapped load pays for its reads. With PASS_TO the loading
# step saves the value again unchanged, as a step that hands it on does ({"pass_seconds": ...}).

import json
import sys
import time
import types

runtime = types.ModuleType("__cellflow__")
with open(sys.argv[1], encoding="utf-8") as f:
    exec(compile(f.read(), sys.argv[1], "exec"), runtime.__dict__)
sys.modules["__cellflow__"] = runtime

import numpy  # noqa: E402
import pandas  # noqa: E402


def make(kind, size):
    rng = numpy.random.default_rng(0)
    if kind == "numpy":
        return rng.random(size // 8)
    return pandas.DataFrame(
        {
            "id": numpy.arange(size, dtype=numpy.int64),
            "x": rng.random(size),
            "y": rng.random(size, dtype=numpy.float32),
            "flag": rng.random(size) > 0.5,
            "group": pandas.Categorical.from_codes(rng.integers(0, 8, size), list("abcdefgh")),
        }
    )


def read_all(value):
    if isinstance(value, pandas.DataFrame):
        return sum(float(numpy.asarray(value[c].cat.codes if c == "group" else value[c]).sum()) for c in value.columns)
    return float(value.sum())


if sys.argv[2] == "save":
    value = make(sys.argv[3], int(sys.argv[4]))
    started = time.perf_counter()
    fmt, size = runtime.save_value("value", value, sys.argv[5])
    print(json.dumps({"seconds": time.perf_counter() - started, "bytes": size, "format": fmt}))
else:
    started = time.perf_counter()
    value = runtime.load_value(sys.argv[3])
    read_all(value)
    out = {"seconds": time.perf_counter() - started}
    if len(sys.argv) > 4:
        started = time.perf_counter()
        runtime.save_value("value", value, sys.argv[4])
        out["pass_seconds"] = time.perf_counter() - started
    print(json.dumps(out))
