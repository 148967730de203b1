# Cellflow step host: runs step entry scripts as `__main__`, alone or as a run's supervisor.
#
#   python3 -u step-host.py --run SCRIPT ARGS...   run one entry script, like `python3 -u SCRIPT ARGS`
#   python3 -u step-host.py --serve                a run's supervisor (below)
#
# A step ends the same way in both: wait for its threads, run its atexit hooks, drop its variables
# (so files it left open are flushed and closed), flush output, and exit with its status. Tearing
# down every imported library is skipped: it costs ~0.6 s after importing scikit-learn.
#
# Supervisor. One per run; every step process is its child, in its own process group, with the
# step's argv, working directory, environment and log file. Closing its stdin (or the runner dying)
# shuts it down: every remaining step process group and any orphaned descendant (the supervisor is
# a child subreaper) is killed first, so nothing outlives the run.
# It is also a warm interpreter: importing scikit-learn takes a second or more, paid again by every
# fresh process, so the supervisor imports the pipeline's libraries once and a step runs in a fork
# of it (copy-on-write, milliseconds), executing the very same entry script. A step launched with
# "fresh" instead execs a new interpreter (`--run`) in the fork.
#
# Protocol (JSON lines). The first line on stdin is {"cells": [code, ...], "scripts": [entry script,
# ...], "skip": [module, ...]}; the modules they import are loaded ahead, except `skip` and those
# beside the notebook (empty lists: nothing is). Then:
#   in : {"op": "launch", "id": N, "script": PATH, "args": [...], "cwd": DIR, "env": {...},
#         "log": PATH, "fresh": BOOL}
#   out: {"ready": true, "preloaded": [...], "failed": [...], "ms": N}
#        {"launched": N, "pid": PID}        the step's process; also its process group
#        {"failed": N, "message": TEXT}     could not start it
#        {"exited": PID, "code": C, "signal": S}

import ast
import atexit
import errno
import gc
import json
import os
import signal
import sys
import threading
import time
import types

PROTOCOL = -1
HOST = os.path.abspath(__file__)
children = {}


def send(message):
    data = (json.dumps(message) + "\n").encode()
    try:
        while data:
            data = data[os.write(PROTOCOL, data) :]
    except OSError:
        pass  # Node has gone; shutdown() follows when stdin closes


def become_subreaper():
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


def modules_imported_by(cells, scripts):
    """What the cells import (parsed), and what entry scripts import at the start of a line: the
    step runtime is embedded there as a string, and its imports would cost every step ~40 ms."""
    import re

    found = []
    for script in scripts:
        found += re.findall(r"^(?:import|from)[ \t]+([A-Za-z_][\w.]*)", script, re.M)
    for code in cells:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        if shows_output(tree):
            found.append("IPython.core.formatters")  # the runtime formats outputs with it
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append(node.module)
    return list(dict.fromkeys(found))


def shows_output(tree):
    """Whether a cell may show a value: it ends with an expression other than `print(...)`, or
    calls `display`."""
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr):
        call = last.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print"):
            return True
    return any(isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", "")) == "display" for n in ast.walk(tree))


def is_local(name, here):
    """Modules next to the notebook are the user's: they may print or change while we run."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name.split(".")[0])
    except Exception:
        return True
    origin = getattr(spec, "origin", None) if spec else None
    if not origin or origin in ("built-in", "frozen"):
        return spec is None
    return os.path.abspath(origin).startswith(here + os.sep)


def preload(cells, scripts, skip):
    here = os.path.abspath(os.getcwd())
    done, failed = [], []
    for name in modules_imported_by(cells, scripts):
        top = name.split(".")[0]
        if top in skip or name == "__future__" or is_local(name, here):
            continue
        try:
            __import__(name)
            done.append(name)
        except BaseException:
            failed.append(name)
    return done, failed


def reseed_after_fork():
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        try:
            numpy.random.seed()  # as in a fresh process; `random` reseeds itself after fork
        except Exception:
            pass


def child(job, wakeup):
    """In the forked process: become the step's own process, then exec a fresh interpreter or
    return to run the script here."""
    os.setpgid(0, 0)
    signal.set_wakeup_fd(-1)
    for fd in (wakeup[0], wakeup[1], PROTOCOL):
        os.close(fd)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    for fd in (null, log):
        if fd > 2:
            os.close(fd)
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])
    if job.get("fresh"):
        argv = [sys.executable, "-u", HOST, "--run", job["script"]] + list(job["args"])
        os.execve(sys.executable, argv, dict(os.environ))
    reseed_after_fork()
    return job


def launch(job, wakeup):
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            return child(job, wakeup)
        except BaseException as e:
            os.write(2, ("Cellflow: cannot start the step: %r\n" % (e,)).encode())
            os._exit(70)
    try:
        os.setpgid(pid, pid)  # also from here, so the group exists before anyone signals it
    except OSError:
        pass
    children[pid] = job["id"]
    send({"launched": job["id"], "pid": pid})
    return None


def reap():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in children:
            del children[pid]
            if os.WIFSIGNALED(status):
                sig = signal.Signals(os.WTERMSIG(status)).name
                send({"exited": pid, "code": None, "signal": sig})
            else:
                send({"exited": pid, "code": os.WEXITSTATUS(status), "signal": None})


def orphans():
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, "rb") as f:
                    stat = f.read().decode(errors="replace")
                if stat[stat.rindex(")") + 2 :].split()[1] == me:
                    found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def shutdown():
    for _ in range(50):
        targets = [-pid for pid in children] + orphans()
        if not targets:
            break
        for target in targets:
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)
        reap()
    os._exit(0)


def serve():
    become_subreaper()
    import select

    wakeup = os.pipe()
    for fd in wakeup:
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wakeup[1])
    signal.signal(signal.SIGCHLD, lambda *_: None)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: shutdown())
    pending = b""
    setup = None
    while setup is None:
        chunk = os.read(0, 65536)
        if not chunk:
            shutdown()
        pending += chunk
        if b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            setup = json.loads(line)
    started = time.time()
    # Fortran's runtime decides as it loads whether to buffer stdout and stderr: it would buffer
    # them here (the supervisor writes to a file), and a forked step that ends with os._exit would
    # lose what it buffered. Steps make their descriptors pipes, which it writes at once.
    os.environ["GFORTRAN_UNBUFFERED_PRECONNECTED"] = "y"
    done, failed = preload(setup.get("cells", []), setup.get("scripts", []), set(setup.get("skip", [])))
    gc.freeze()  # keep the collector from touching (and so copying) the preloaded objects in forks
    send({"ready": True, "preloaded": done, "failed": failed, "ms": int((time.time() - started) * 1000)})
    while True:
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                job = json.loads(line)
                try:
                    if launch(job, wakeup) is not None:
                        return job
                except OSError as e:
                    send({"failed": job["id"], "message": "fork failed: %s" % e})
        try:
            ready, _, _ = select.select([0, wakeup[0]], [], [])
        except InterruptedError:
            ready = []
        if wakeup[0] in ready:
            try:
                while os.read(wakeup[0], 4096):
                    pass
            except BlockingIOError:
                pass
        reap()
        if 0 in ready:
            try:
                chunk = os.read(0, 65536)
            except OSError as e:
                chunk = b"" if e.errno != errno.EINTR else None
            if chunk == b"":
                shutdown()
            if chunk:
                pending += chunk


def exit_code(e):
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code & 0xFF
    sys.stderr.write("%s\n" % (e.code,))
    return 1


def run_as_main(script, args):
    """Runs `script` as `__main__` with `args`, then ends the process as described at the top."""
    main = types.ModuleType("__main__")
    main.__file__ = script
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    sys.argv = [script] + list(args)
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    status = 0
    try:
        with open(script, "rb") as f:
            code = compile(f.read(), script, "exec")
        exec(code, main.__dict__)
    except SystemExit as e:
        status = exit_code(e)
    except BaseException as e:
        sys.excepthook(type(e), e, e.__traceback__.tb_next)
        status = 1
    try:
        shutdown_threads = getattr(threading, "_shutdown", None)
        if shutdown_threads is not None:
            shutdown_threads()
        atexit._run_exitfuncs()
        main.__dict__.clear()
        gc.collect()
    except SystemExit as e:
        status = exit_code(e)
    except BaseException as e:
        sys.excepthook(type(e), e, e.__traceback__)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(status)


if sys.argv[1:2] == ["--run"]:
    run_as_main(sys.argv[2], sys.argv[3:])
PROTOCOL = os.dup(1)
os.dup2(2, 1)  # stray prints while importing go to our stderr, never into the protocol
job = serve()
# Only a step's forked process gets here.
run_as_main(job["script"], job["args"])
