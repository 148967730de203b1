# Cellflow step runtime: runs one pipeline step's cells in a fresh Python process.
#
# Embedded in every generated step entry script (the same script runs locally and in a KFP
# container). It loads the step's inputs, runs the notebook cells in `__main__` so that pickling and
# tracebacks behave as in the notebook, saves the outputs later steps need, and reports metrics.
# Standard library only; numpy, pandas, joblib and torch are used when present.
#
# Command line (every flag may repeat):
#   --param NAME=VALUE     pipeline parameter (typed by the step's parameter table)
#   --input NAME=PATH      marshalled variable to load
#   --output NAME=PATH     where to save a variable for later steps
#   --metrics-file PATH    write the step's metrics as JSON (local runs)
#   --executor-input JSON  KFP executor input; metrics go to the `metrics` artifact's metadata
#   --result PATH          write a JSON summary (status, outputs, metrics, error with cell/line)
#   --cell-outputs PATH    write what each cell showed (nbformat 4 outputs) as JSON

import builtins
import importlib
import json
import linecache
import marshal
import os
import pickle
import re
import shutil
import subprocess
import sys
import time
import traceback
import weakref

FORMAT_FILE = "cellflow-value.json"
# The pseudo-variable that carries the global random generators' state (core's RANDOM_STATE_VARIABLE).
RANDOM_STATE = "random-state"
# Units that KFP steps refer to by position (`{"unit": N, "eager": ...}`): the runtime file of a
# KFP pipeline ends with the pipeline's table (see core's buildUnitTableForGraph).
UNIT_TABLE = []

PIP_NAMES = {
    "sklearn": ("python3-sklearn", "scikit-learn"),
    "numpy": ("python3-numpy", "numpy"),
    "pandas": ("python3-pandas", "pandas"),
    "scipy": ("python3-scipy", "scipy"),
    "joblib": ("python3-joblib", "joblib"),
    "matplotlib": ("python3-matplotlib", "matplotlib"),
    "torch": (None, "torch"),
    "tensorflow": (None, "tensorflow"),
    "xgboost": (None, "xgboost"),
    "yaml": ("python3-yaml", "pyyaml"),
    "PIL": ("python3-pil", "pillow"),
    "cv2": ("python3-opencv", "opencv-python"),
}


class StepError(Exception):
    """A failure with a message meant for the user, and where it happened."""

    def __init__(self, kind, message, cell=None, line=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.cell = cell
        self.line = line


# ---- helpers that IPython syntax in cells is rewritten to ------------------------------------


_DOLLAR_FIELD = re.compile(r"(.*?)\$(\$?[\w\.]+)(?=([^']*'[^']*')*[^']*$)", re.S)


def _expand_dollars(command, frame):
    """IPython's `$name` (and `$name.attr`) in a shell line: the notebook's value, as text (`$$`
    is a `$`, and one in single quotes stays for the shell). Where a name is not the notebook's
    (`$HOME`), IPython leaves the whole line as it is, for the shell; so does this."""
    if "$" not in command:
        return command
    names = dict(sys.modules["__main__"].__dict__)
    if frame is not None:
        names.update(frame.f_locals)
    out = []
    at = 0
    try:
        for m in _DOLLAR_FIELD.finditer(command):
            text, field = m.group(1, 2)
            out.append(text)
            if field.startswith("$"):
                out.append(field)
            else:
                first, *rest = field.split(".")
                value = names[first] if first in names else getattr(builtins, first)
                for attribute in rest:
                    value = getattr(value, attribute)
                out.append(format(value))
            at = m.end()
    except Exception:
        return command
    out.append(command[at:])
    return "".join(out)


def shell(command, shell="sh", terminal=False):
    """`!cmd` and `%%bash`: run in a shell and print its output as it comes (it is the cell's
    output, as in IPython); never raise. `terminal`: as IPython runs `!cmd`, on a terminal of 24
    lines by 80 columns (`ls` lists in columns, lines end in `\\r\\n`), its `$name`s the
    notebook's values; `%%bash` has pipes, and its body is the shell's as it is."""
    sys.stdout.flush()
    if terminal:  # IPython runs `!cmd` with the user's shell
        command = _expand_dollars(command, sys._getframe(1))
        shell = os.environ.get("SHELL") or shell
    executable = shutil.which(shell) or "/bin/sh"
    pty = _open_terminal() if terminal else None
    if pty is None:
        with subprocess.Popen(
            command, shell=True, executable=executable, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        ) as process:
            for line in iter(process.stdout.readline, b""):
                sys.stdout.write(line.decode("utf-8", "replace"))
            sys.stdout.flush()
        return
    import codecs

    main, side = pty
    try:
        process = subprocess.Popen(
            command, shell=True, executable=executable, stdin=subprocess.DEVNULL, stdout=side, stderr=side, start_new_session=True
        )
    finally:
        os.close(side)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    try:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal's last user closed it
                chunk = b""
            if not chunk:
                break
            sys.stdout.write(decoder.decode(chunk))
        sys.stdout.write(decoder.decode(b"", final=True))
        sys.stdout.flush()
    finally:
        os.close(main)
        process.wait()


def _open_terminal():
    """A pseudo-terminal of 24 lines by 80 columns (main and side ends), or None without one."""
    try:
        import fcntl
        import struct
        import termios

        main, side = os.openpty()
    except (ImportError, OSError):
        return None
    try:
        fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    except OSError:
        pass
    return main, side


def print_lines(*lines):
    """Lines a magic prints (`%pylab`'s notice)."""
    for line in lines:
        print(line)


def prun_done():
    """After `%prun stmt` runs: the space IPython prints once its profile goes to the pager."""
    print(end=" ")


def pwd():
    """`%pwd`: the working folder, as the cell's value."""
    return os.getcwd()


def script(body, argv, raise_error=True, keep_out=False, keep_err=False):
    """`%%bash`, `%%perl`, `%%script prog args`: as IPython runs them, the cell's body is the
    program's input; its output and errors stream to the cell's stdout and stderr as they come; a
    nonzero exit raises unless `--no-raise-error`. With `--out` and `--err` (`keep_out`,
    `keep_err`) a stream is kept instead: the last line of each, as IPython keeps, is returned."""
    import threading

    sys.stdout.flush()
    sys.stderr.flush()
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        print("Couldn't find program: %r" % argv[0])
        return (None, None) if keep_out or keep_err else None
    if not body.endswith("\n"):
        body += "\n"

    def feed():
        try:
            process.stdin.write(body.encode("utf8", "replace"))
            process.stdin.close()
        except BrokenPipeError:  # the program stopped reading
            pass

    last = [None, None]

    def pump(stream, out, kept):
        for line in iter(stream.readline, b""):
            if kept is not None:
                last[kept] = line.decode("utf8", "replace")
                continue
            out.write(line.decode("utf8", "replace"))
            out.flush()

    threads = [
        threading.Thread(target=feed, daemon=True),
        threading.Thread(target=pump, args=(process.stdout, sys.stdout, 0 if keep_out else None), daemon=True),
        threading.Thread(target=pump, args=(process.stderr, sys.stderr, 1 if keep_err else None), daemon=True),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    process.wait()
    if raise_error and process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, body)
    return tuple(last) if keep_out or keep_err else None


def shell_lines(command):
    """`x = !cmd`, `!!cmd`, `%sx cmd`: the command's output lines, its errors' among them, as
    IPython's list of lines where IPython is installed (its `$name`s the notebook's values)."""
    command = _expand_dollars(command, sys._getframe(1))
    done = subprocess.run(command, shell=True, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    lines = done.stdout.splitlines()
    try:
        from IPython.utils.text import SList
    except ImportError:
        return lines
    return SList(lines)


def set_env(name, value):
    os.environ[name] = value
    if _current:
        print("env: %s=%s" % (name, value))


def set_precision(text):
    """`%precision`: how floats show (digits, a %-format, or nothing for their repr again), which
    IPython also gives numpy's printing; its value is the format, as IPython shows it."""
    text = text.strip()
    # A notebook that sets it has most often imported numpy above; a step running it again may
    # import numpy only later, in its own cells.
    try:
        import numpy  # noqa: F401
    except ImportError:
        pass
    formatter = _display_formatter()
    if formatter is not None:
        plain = formatter.formatters["text/plain"]
        plain.float_precision = text
        return plain.float_format
    numpy = sys.modules.get("numpy")
    if numpy is not None and "%" not in text:
        numpy.set_printoptions(precision=int(text) if text else 8)
    return text if "%" in text else "%%.%df" % int(text) if text else "%r"


def config(text):
    """`%config Class.trait = value`: of a shell's settings, the one a step has,
    `InteractiveShell.ast_node_interactivity` (which statements of a cell show their values);
    the others change nothing in a step."""
    import ast

    target, _, value = text.partition("=")
    owner, _, trait = target.strip().rpartition(".")
    if trait == "ast_node_interactivity" and owner in ("InteractiveShell", "ZMQInteractiveShell"):
        try:
            _shell.ast_node_interactivity = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            pass


_MARKUP = {
    "html": ("HTML", "text/html"),
    "markdown": ("Markdown", "text/markdown"),
    "latex": ("Latex", "text/latex"),
    "svg": ("SVG", "image/svg+xml"),
    "javascript": ("Javascript", "application/javascript"),
    "js": ("Javascript", "application/javascript"),
}


def show_markup(magic, body):
    """`%%html`, `%%markdown`, `%%latex`, `%%svg`, `%%javascript`: the cell's body shows as that
    markup, as IPython displays it (in plain form where IPython is not installed)."""
    kind, mime = _MARKUP[magic]
    try:
        from IPython import display
    except ImportError:
        if _current:
            _record({mime: body, "text/plain": "<IPython.core.display.%s object>" % kind}, {})
        return
    _show(getattr(display, kind)(body))


def set_pprint():
    """`%pprint`: pretty printing of results turned off (or on again), as IPython says."""
    formatter = _display_formatter()
    if formatter is None:
        return
    plain = formatter.formatters["text/plain"]
    plain.pprint = not plain.pprint
    if _current:
        print("Pretty printing has been turned", "ON" if plain.pprint else "OFF")


_XMODES = ["Plain", "Context", "Verbose", "Minimal"]
_xmode = ["Context"]


def set_xmode(mode):
    """`%xmode`: IPython's message, and the mode a later `%xmode` goes on from (tracebacks in a
    step's outputs keep their own form)."""
    mode = mode.strip().capitalize()
    if mode in ("--show", "--hide"):
        return
    if not mode:
        mode = _XMODES[(_XMODES.index(_xmode[0]) + 1) % len(_XMODES)]
    if mode in _XMODES:
        _xmode[0] = mode
        if _current:
            print("Exception reporting mode:", mode)
    elif _current:
        sys.stderr.write("Error changing user exception modes.\nUnrecognized mode in FormattedTB: <%s>\n" % mode)


def chdir(path):
    """`%cd [-q] [path]`, as IPython's: a folder that is not there is said, not raised; no path is
    the home folder; then the folder it is in (not with `-q`)."""
    words = path.split(None, 1)
    quiet = bool(words) and words[0] == "-q"
    path = (words[1] if len(words) > 1 else "") if quiet else path.strip()
    try:
        os.chdir(os.path.expanduser(path or "~"))
    except OSError as e:
        if _current:
            print(e)
    if _current and not quiet:
        print(os.getcwd())


def write_file(path, content, append=False):
    """`%%writefile`: says what it did, as IPython does."""
    exists = os.path.exists(path)
    with open(path, "a" if append else "w", encoding="utf-8") as f:
        f.write(content)
    print(("Appending to %s" if append else "Overwriting %s") % path if exists else "Writing %s" % path)


def capture(stdout=True, stderr=True, display=True):
    """`%%capture [name]`: the rest of the running cell's output (what it prints, below Python
    too, its displays, its value and figures) goes into the returned object instead of the cell,
    as IPython's `CapturedIO` keeps it; an error still shows."""
    captured = CapturedOutput()
    if _current:
        _current[-1].capturing = (captured, {"stdout": stdout, "stderr": stderr, "display": display})
    return captured


class CapturedOutput:
    """What a `%%capture` cell printed and showed: `stdout`, `stderr`, `outputs`, and `show()`
    (or a call) to show it all again."""

    def __init__(self):
        self._streams = {"stdout": [], "stderr": []}
        self.outputs = []

    @property
    def stdout(self):
        return "".join(self._streams["stdout"])

    @property
    def stderr(self):
        return "".join(self._streams["stderr"])

    def __str__(self):
        return self.stdout

    def show(self):
        sys.stdout.write(self.stdout)
        sys.stderr.write(self.stderr)
        for output in self.outputs:
            _display(output)

    __call__ = show


class CapturedDisplay:
    """One display a `%%capture` cell kept, shown again as it was."""

    def __init__(self, data, metadata):
        self.data, self.metadata = data, metadata

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.data, self.metadata


def run_file(target, argv, interactive=False, as_main=True, exit_ok=False, module=False):
    """`%run FILE ARGS` as IPython runs it: the file (a script, or a notebook's code cells; with
    `module`, a module found on the path) runs as a program with `sys.argv` set to its arguments,
    in a namespace of its own (`interactive`: the notebook's), whose names then join the
    notebook's. A program's `sys.exit` ends the program, not the cell."""
    import types

    notebook = sys.modules["__main__"]
    if module:
        import importlib.util

        spec = importlib.util.find_spec(target)
        path = spec.origin if spec is not None else None
    else:
        path = os.path.expanduser(target)
        if not os.path.isfile(path) and os.path.isfile(path + ".py"):
            path += ".py"
    if path is None or not os.path.isfile(path):
        sys.stderr.write("ERROR:root:File `%r` not found.\n" % target)
        return
    if path.endswith(".ipynb"):
        with open(path, encoding="utf-8") as f:
            cells = json.load(f).get("cells", [])
        source = "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code")
    else:
        import tokenize

        with tokenize.open(path) as f:
            source = f.read()
    code = compile(source, path, "exec")
    if interactive:
        namespace, program = notebook.__dict__, None
    else:
        name = "__main__" if as_main else os.path.splitext(os.path.basename(path))[0]
        program = types.ModuleType(name, "Module created for script run in IPython")
        namespace = program.__dict__
        namespace["__builtins__"] = builtins
    had_file, file = "__file__" in namespace, namespace.get("__file__")
    namespace["__file__"] = path
    saved_argv = sys.argv
    sys.argv = [path] + list(argv)
    if program is not None and as_main:
        sys.modules["__main__"] = program  # so that what it pickles is found, as in IPython
    try:
        exec(code, namespace)
    except SystemExit as e:
        if e.code not in (None, 0) and not exit_ok:
            sys.stderr.write("An exception has occurred, use %%tb to see the full traceback.\n\nSystemExit: %s\n" % (e.code,))
    finally:
        sys.argv = saved_argv
        sys.modules["__main__"] = notebook
        if interactive:
            if had_file:
                namespace["__file__"] = file
            else:
                namespace.pop("__file__", None)
    if program is not None:
        for key, value in namespace.items():
            if key not in ("__name__", "__file__", "__builtins__"):
                notebook.__dict__[key] = value


def time_start():
    """`%time`, `%timeit` and their cell forms: the clocks before the code runs (wall, CPU, and
    the performance counter)."""
    return time.time(), _cpu_times(), time.perf_counter()


def timed(start, value, per_loop=False):
    """Prints the times since `start`, as IPython does, and gives `value` (`%time EXPR`)."""
    _print_times(start, per_loop)
    return value


def timeit_value(code, namespace=None, output=False, quiet=False):
    """`x = %timeit [-o] [-q] STATEMENT`: the statement (an expression as a function) runs once,
    in a scope of its own, as `%timeit` does here; with `-o` the value is IPython's TimeitResult
    of that run (when IPython is installed), else None."""
    start = time_start()
    if callable(code):
        code()
    else:
        exec(compile(code, "<timeit>", "exec"), dict(namespace))
    elapsed = time.perf_counter() - start[2]
    if not quiet:
        _print_times(start, per_loop=True)
    if not output:
        return None
    try:
        from IPython.core.magics.execution import TimeitResult
    except ImportError:
        return None
    return TimeitResult(1, 1, elapsed, elapsed, [elapsed], 0.0, 3)


def line_magic(name, line):
    """`x = %magic ARGS`: the value IPython's line magic gives, where a step has one."""
    return _shell.run_line_magic(name, line)


# The notebook's own magics (`@register_line_magic`, `ip.register_magic_function`, an extension's
# `load_ipython_extension`), by kind ("line", "cell") and name.
_magics = {}


def _register_magic(func, kind="line", name=None):
    name = name or func.__name__
    for each in ("line", "cell") if kind == "line_cell" else (kind,):
        _magics[(each, name)] = func


def user_magic(name, line):
    """`%name ARGS` for a magic the notebook registered: its value. One it did not (an extension's
    that a step cannot load) is skipped, as the compiler warned."""
    func = _magics.get(("line", name))
    return None if func is None else func(line)


def user_cell_magic(name, line, cell):
    """`%%name ARGS` over a cell, for a magic the notebook registered: its value."""
    func = _magics.get(("cell", name))
    return None if func is None else func(line, cell)


def pinfo(name):
    """`name?`, `%pinfo name`: IPython's pager shows the object's help, which no cell output keeps;
    of an object the notebook does not have, IPython says so."""
    frame = sys._getframe(1)
    root, *rest = name.split(".")
    missing = object()
    found = frame.f_locals.get(root, frame.f_globals.get(root, getattr(builtins, root, missing)))
    for part in rest:
        if found is missing:
            break
        try:
            found = getattr(found, part)
        except Exception:
            found = missing
    if found is missing:
        print("Object `%s` not found." % name)


def load_ext(name):
    """`%load_ext NAME` of the notebook's own module (beside it): its `load_ipython_extension` runs,
    as IPython runs it, once per step. Other extensions change only the interactive session."""
    try:
        module = importlib.import_module(name)
    except ImportError:
        return
    path = os.path.abspath(getattr(module, "__file__", None) or "/")
    load = getattr(module, "load_ipython_extension", None)
    if callable(load) and path.startswith(os.path.join(os.getcwd(), "")) and not getattr(module, "_cellflow_loaded", False):
        load(_shell)
        module._cellflow_loaded = True


class timing:
    """`%time STATEMENT`: prints the times once the statement ran, as IPython does."""

    def __enter__(self):
        self.start = time_start()

    def __exit__(self, kind, error, traceback):
        if kind is None:
            _print_times(self.start)


# ---- marshalling: one format per type ---------------------------------------------------------


def _type_name(value):
    t = type(value)
    return "%s.%s" % (t.__module__, t.__qualname__)


def _is_plain_json(value, depth=0, containers=None):
    """Whether JSON keeps all of `value`: plain numbers, strings, lists and dicts, each list or
    dict in it once (`[[0] * 2] * 2` holds one list twice, which JSON would make two)."""
    if depth > 20:
        return False
    if value is None or type(value) in (bool, int, str):
        return True
    if type(value) is float:
        return value == value and value not in (float("inf"), float("-inf"))
    if type(value) is not list and type(value) is not dict:
        return False
    if containers is None:
        containers = set()
    elif id(value) in containers:
        return False
    containers.add(id(value))
    if type(value) is list:
        return all(_is_plain_json(v, depth + 1, containers) for v in value)
    return all(type(k) is str and _is_plain_json(v, depth + 1, containers) for k, v in value.items())


def _format_for(value):
    module = (type(value).__module__ or "").split(".")[0]
    if isinstance(value, type(sys)):
        return "module"
    if _is_plain_json(value):
        return "json"
    if module == "numpy" and type(value).__name__ == "ndarray" and value.dtype.kind not in "OV":
        return "npy"
    if module == "pandas" and type(value).__name__ in ("DataFrame", "Series"):
        return "pandas"
    if module == "torch":
        return "torch"
    if module in ("sklearn", "xgboost", "lightgbm", "catboost", "imblearn"):
        return "joblib"
    return "pickle"


# Large arrays are memory-mapped when loaded, copy-on-write: loading copies nothing, pages are read
# when used, and a write changes the step's own copy, never the saved file. An array passed on
# unchanged is hard-linked to the next step instead of written again. Pandas frames keep their
# column data outside the pickle stream (protocol 5 buffers), written without copies and mapped
# the same way.
MAP_AT_LEAST = 1 << 20
# Files this large go to the disk with direct I/O: the page cache would first need as much new
# memory (slow to fault in on virtual machines, and crowding out what other steps use), and the
# next step maps the file and reads it once. Smaller ones go through the page cache, where the
# next step finds them.
DIRECT_AT_LEAST = 256 << 20
_loaded_arrays = {}  # id(array) -> (weak reference, file, shape, dtype, strides)
_PAGE = 4096
_DIRECT_CHUNK = 8 << 20
_bounce = []


def _write_aligned(path, pieces):
    """Writes byte buffers into a new file one after the other, each at a page boundary (zeros
    between), and returns where each starts. Files of DIRECT_AT_LEAST bytes or more are written
    with direct I/O through one small reused buffer, at the disk's speed; others, and where direct
    I/O is not supported, with ordinary writes straight from the buffers (no copies of them)."""
    offsets, at = [], 0
    for piece in pieces:
        at += -at % _PAGE
        offsets.append(at)
        at += piece.nbytes
    direct = getattr(os, "O_DIRECT", 0)
    if at >= DIRECT_AT_LEAST and direct:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | direct, 0o644)
        except OSError:
            fd = None
        if fd is not None:
            try:
                _write_direct(fd, path, pieces, offsets)
                return offsets
            except OSError:
                pass
            finally:
                os.close(fd)
    with open(path, "wb") as f:
        for piece, offset in zip(pieces, offsets):
            if f.tell() < offset:
                f.write(bytes(offset - f.tell()))
            f.write(piece)
    return offsets


def _write_direct(fd, path, pieces, offsets):
    import mmap

    if not _bounce:
        _bounce.append(mmap.mmap(-1, _DIRECT_CHUNK))
    bounce = _bounce[0]
    filled = 0
    written = 0
    for piece, offset in zip(pieces, offsets):
        gap = offset - (written + filled)
        if gap:
            bounce[filled : filled + gap] = bytes(gap)
            filled += gap
        at = 0
        while at < piece.nbytes:
            n = min(_DIRECT_CHUNK - filled, piece.nbytes - at)
            bounce[filled : filled + n] = piece[at : at + n]
            filled += n
            at += n
            if filled == _DIRECT_CHUNK:
                if os.write(fd, bounce) != _DIRECT_CHUNK:
                    raise OSError("short write")
                written += filled
                filled = 0
    whole = filled - filled % _PAGE
    if whole:
        with memoryview(bounce) as view:
            if os.write(fd, view[:whole]) != whole:
                raise OSError("short write")
    if filled > whole:
        # The last partial page cannot go direct: an ordinary write puts it at the end.
        tail = os.open(path, os.O_WRONLY)
        try:
            os.pwrite(tail, bounce[whole:filled], written + whole)
        finally:
            os.close(tail)


def _save_npy(array, path):
    """numpy.save's file, its header padded to a page so the data starts at one; written with
    _write_aligned straight from the array's memory."""
    import numpy

    fmt = numpy.lib.format
    contiguous = array.flags.c_contiguous or array.flags.f_contiguous
    if array.nbytes < MAP_AT_LEAST or array.dtype.hasobject or not contiguous:
        numpy.save(path, array, allow_pickle=False)
        return
    d = fmt.header_data_from_array_1_0(array)
    header = "{'descr': %r, 'fortran_order': %r, 'shape': %r, }" % (d["descr"], d["fortran_order"], d["shape"])
    size = _PAGE - 10 - 1
    if len(header) > size:
        numpy.save(path, array, allow_pickle=False)
        return
    head = fmt.MAGIC_PREFIX + bytes([1, 0]) + (_PAGE - 10).to_bytes(2, "little") + (header.ljust(size) + "\n").encode("latin1")
    data = (array.T if d["fortran_order"] else array).reshape(-1).view(numpy.uint8)
    _write_aligned(path, [memoryview(head), memoryview(data)])


def _map_file(path):
    import mmap

    with open(path, "rb") as f:
        mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    if hasattr(mapping, "madvise") and hasattr(mmap, "MADV_WILLNEED"):
        mapping.madvise(mmap.MADV_WILLNEED)  # read ahead now, not one fault at a time
    return mapping


def _load_npy(path):
    import weakref

    import numpy

    fmt = numpy.lib.format
    with open(path, "rb") as f:
        version = fmt.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            return numpy.load(path, allow_pickle=False)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran_order, dtype = read_header(f)
        offset = f.tell()
    size = dtype.itemsize
    for n in shape:
        size *= n
    if dtype.hasobject or size < MAP_AT_LEAST:
        return numpy.load(path, allow_pickle=False)
    try:
        mapping = _map_file(path)
        array = numpy.ndarray(shape, dtype=dtype, buffer=mapping, offset=offset, order="F" if fortran_order else "C")
    except (OSError, ValueError, TypeError):
        return numpy.load(path, allow_pickle=False)
    _loaded_arrays[id(array)] = (weakref.ref(array), path, array.shape, array.dtype, array.strides)
    return array


def _pages_written(array):
    """Whether this process wrote to any page of a copy-on-write mapped array: a written page is no
    longer the file's (Linux /proc/self/pagemap: present or swapped, and not file-backed). True
    when it cannot tell."""
    import numpy

    page = os.sysconf("SC_PAGE_SIZE")
    start = array.__array_interface__["data"][0]
    first, last = start // page, (start + max(array.nbytes, 1) - 1) // page
    try:
        fd = os.open("/proc/self/pagemap", os.O_RDONLY)
        try:
            raw = os.pread(fd, (last - first + 1) * 8, first * 8)
        finally:
            os.close(fd)
    except OSError:
        return True
    if len(raw) != (last - first + 1) * 8:
        return True
    entries = numpy.frombuffer(raw, dtype=numpy.uint64)
    in_use = (entries >> numpy.uint64(62)) != 0
    file_backed = ((entries >> numpy.uint64(61)) & numpy.uint64(1)) != 0
    return bool(numpy.any(in_use & ~file_backed))


def _whole_base(array):
    """The array a numpy view is of, when that holds its data (its own, a mapped file's, a loaded
    buffer's) and saving it costs little more than the view (a reshape, a transpose, a slice of an
    array of at most 1 MiB), else None."""
    base = _viewed_array(array)
    return base if base is not None and base.nbytes <= max(array.nbytes, 1 << 20) else None


def _viewed_array(array):
    """The array a numpy view is of, when that holds its data (not a view itself), is contiguous
    and holds no objects: a view of it is saved as that view (see `_make_view`). Else None."""
    numpy = sys.modules.get("numpy")
    base = array.base
    if (
        numpy is None
        or type(base) is not numpy.ndarray
        or isinstance(base.base, numpy.ndarray)
        or not base.flags.c_contiguous
        or array.dtype.kind in "OV"
    ):
        return None
    return base


def _link_unchanged(value, target):
    """Hard-links the file an array was loaded from to `target` when the array is that file's,
    unchanged (same shape, type and strides; no page written). False when it is not."""
    loaded = _loaded_arrays.get(id(value))
    if loaded is None or loaded[0]() is not value or (value.shape, value.dtype, value.strides) != loaded[2:]:
        return False
    if _pages_written(value):
        return False
    try:
        os.link(loaded[1], target)
    except OSError:
        return False
    return True


class _FramePickler(pickle.Pickler):
    """Pickles pandas values: an index keeps the lookup table it had built (see `_reduce_index`)."""

    def reducer_override(self, obj):
        return _reduce_index(obj) or NotImplemented


def _save_out_of_band(value, stream_path, buffers_path):
    """Pickles `value` with protocol 5, its large buffers (numpy and pandas data) written raw to
    `buffers_path`, each at a page boundary; returns their [offset, length] list."""
    buffers = []
    with open(stream_path, "wb") as f:
        _FramePickler(f, protocol=5, buffer_callback=buffers.append).dump(value)
    raws = [buffer.raw() for buffer in buffers]
    return [[at, raw.nbytes] for at, raw in zip(_write_aligned(buffers_path, raws), raws)]


def _load_out_of_band(stream_path, buffers_path, spans):
    total = spans[-1][0] + spans[-1][1] if spans else 0
    if total >= MAP_AT_LEAST:
        data = memoryview(_map_file(buffers_path))
    else:
        with open(buffers_path, "rb") as f:
            data = memoryview(bytearray(f.read()))
    with open(stream_path, "rb") as f:
        return pickle.load(f, buffers=[data[at : at + n] for at, n in spans])


def _publish(tmp, path, meta):
    """Writes a saved value's format file into its folder `tmp`, then puts the folder at `path`
    in one rename (a reader sees all of it or nothing)."""
    with open(os.path.join(tmp, FORMAT_FILE), "w", encoding="utf-8") as f:
        json.dump(meta, f)
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)
    os.rename(tmp, path)


def save_value(name, value, path):
    """Saves `value` under the directory `path`, atomically (a reader sees all of it or nothing)."""
    fmt = _format_for(value)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = "%s.tmp-%d" % (path, os.getpid())
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    os.makedirs(tmp)
    meta = {}
    try:
        if fmt == "json":
            data = os.path.join(tmp, "value.json")
            with open(data, "w", encoding="utf-8") as f:
                json.dump(value, f)
        elif fmt == "module":
            # A module is code: the loading step imports it again by name.
            with open(os.path.join(tmp, "value.json"), "w", encoding="utf-8") as f:
                json.dump(value.__name__, f)
        elif fmt == "npy":
            target = os.path.join(tmp, "value.npy")
            array = value
            base = _whole_base(value)
            if base is not None:
                # A view of an array no variable holds (`np.arange(15).reshape(3, 5)`): its base is
                # saved, and it loads as the same view of it (`a.base`, `a.flags.owndata`).
                offset = value.__array_interface__["data"][0] - base.__array_interface__["data"][0]
                meta["view"] = [list(value.shape), value.dtype.str, offset, list(value.strides)]
                array = base
            if not _link_unchanged(array, target):
                _save_npy(array, target)
        elif fmt == "pandas":
            try:
                meta["buffers"] = _save_out_of_band(value, os.path.join(tmp, "value.pkl"), os.path.join(tmp, "value.buffers"))
            except (BufferError, pickle.PicklingError, TypeError, AttributeError):
                for leftover in os.listdir(tmp):
                    os.remove(os.path.join(tmp, leftover))
                meta.pop("buffers", None)
                value.to_pickle(os.path.join(tmp, "value.pkl"))
        elif fmt == "torch":
            import torch

            torch.save(value, os.path.join(tmp, "value.pt"))
        elif fmt == "joblib":
            try:
                import joblib

                joblib.dump(value, os.path.join(tmp, "value.joblib"))
            except (ImportError, pickle.PicklingError, AttributeError, TypeError, ValueError):
                # joblib's pickler cannot save a lambda inside a model, nor an xgboost DMatrix:
                # the runtime's can.
                fmt = "pickle"
                for leftover in os.listdir(tmp):
                    os.remove(os.path.join(tmp, leftover))
        if fmt == "pickle":
            with open(os.path.join(tmp, "value.pkl"), "wb") as f:
                saved = _saved(value, name)
                _pickler_for(saved, f).dump(saved)
        meta.update({"format": fmt, "type": _type_name(value), "variable": name})
        _publish(tmp, path, meta)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return fmt, sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


def _make_view(base, shape, dtype, offset, strides):
    """A numpy view into `base`, as the saved one was: writes through it change `base`."""
    import numpy

    return numpy.ndarray(shape, dtype=dtype, buffer=base, offset=offset, strides=strides)


_EMPTY_CELL = "<empty closure cell>"


def _make_function(code, name, qualname, defaults, kwdefaults, cells, module="__main__"):
    """A function saved by its code (a lambda, a function made inside another): its names are
    its module's, the notebook's for the notebook's functions, found when it is called (or,
    for generated code, `module` is the names it uses from its own namespace). Its
    closure's cells are made empty here and filled by `_fill_function` (a cell may hold the
    function itself, or something that holds it)."""
    import types

    closure = None
    if isinstance(cells, int):
        closure = tuple(types.CellType() for _ in range(cells)) or None
    elif cells:
        closure = tuple(types.CellType() if _is_empty_cell(v) else types.CellType(v) for v in cells)
    if isinstance(module, dict):  # generated code's own namespace
        namespace = dict(module, __builtins__=builtins)
    else:
        namespace = sys.modules["__main__"].__dict__ if module == "__main__" else importlib.import_module(module).__dict__
    function = types.FunctionType(marshal.loads(code), namespace, name, defaults, closure)
    function.__qualname__ = qualname
    function.__kwdefaults__ = kwdefaults
    return function


def _notebook_function(qualname, code, name, defaults, kwdefaults):
    """A notebook function saved by its name (`greet = hello`): the loading step's function of
    that name where it has the same code, else the function made again from its code (a later
    cell deleted the name or defined another function by it)."""
    try:
        found = getattr(sys.modules["__main__"], qualname)  # defined on demand while inputs load
    except AttributeError:
        found = None
    if getattr(found, "__code__", None) == marshal.loads(code):
        return found
    return _make_function(code, name, qualname, defaults, kwdefaults, 0)


def _is_empty_cell(value):
    return type(value) is str and value == _EMPTY_CELL


def _fill_function(function, state):
    """A function made by `_make_function` gets its closure's values and its attributes."""
    cells, attributes = state
    for cell, value in zip(function.__closure__ or (), cells):
        if not _is_empty_cell(value):
            cell.cell_contents = value
    if attributes:
        function.__dict__.update(attributes)


def _reduce_function(obj):
    """How to save a function that pickle cannot find by its name, else None: the notebook's
    lambdas and inner functions, and those a library made (statsmodels' kernels keep a lambda
    made in `__init__`), by their code."""
    import types

    if type(obj) is not types.FunctionType:
        return None
    module = obj.__module__
    if module == "__main__" and obj.__globals__ is not sys.modules["__main__"].__dict__:
        # A library's function wrapped around a notebook one (`functools.wraps` gave it the
        # notebook's module, as scikit-learn's output wrapper of a `transform`): its own names.
        module = obj.__globals__.get("__name__")
        if module not in sys.modules or sys.modules[module].__dict__ is not obj.__globals__:
            return None
    if module == "__main__":
        if sys.modules["__main__"].__dict__.get(obj.__qualname__) is obj:
            if obj.__closure__ is not None or getattr(obj, "__cellflow_cache__", None) is not None:
                return None  # a later step defines it again by name
            # By its name, or by its code where the name is deleted or bound again by then.
            code = marshal.dumps(obj.__code__)
            return _notebook_function, (obj.__qualname__, code, obj.__name__, obj.__defaults__, obj.__kwdefaults__)
        kept = getattr(obj, "__cellflow_cache__", None)
        if kept is not None:  # a notebook cache around an inner function or a lambda
            parameters = obj.cache_parameters()
            return _cached_again, (obj.__wrapped__, parameters["maxsize"], parameters["typed"], kept)
    elif "<" not in obj.__qualname__ or module not in sys.modules:
        if _found_by_name(obj) or not _generated_function(obj):
            return None  # found by its name, as pickle does
        # Code a library generated into a namespace of its own (sympy's `lambdify`): by its code,
        # with the names it uses from that namespace.
        module = _generated_names(obj)

    def content(cell):
        try:
            return cell.cell_contents
        except ValueError:
            return _EMPTY_CELL

    cells = tuple(content(c) for c in obj.__closure__ or ())
    arguments = (marshal.dumps(obj.__code__), obj.__name__, obj.__qualname__, obj.__defaults__, obj.__kwdefaults__, len(cells))
    state = (cells, obj.__dict__ or None) if cells or obj.__dict__ else None
    arguments = arguments if module == "__main__" else arguments + (module,)
    return _make_function, arguments, state, None, None, _fill_function


def _found_by_name(obj):
    """Whether pickle finds `obj` by its module and qualified name."""
    found = sys.modules.get(obj.__module__ or "")
    for part in obj.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is obj


def _generated_function(obj):
    """Whether a function's names are not its module's: code generated into a namespace."""
    module = sys.modules.get(obj.__module__ or "")
    return module is None or getattr(module, "__dict__", None) is not obj.__globals__


def _generated_names(obj):
    """The names a generated function's code uses from its namespace, and the namespace's name."""
    names = {"__name__"}
    pending = [obj.__code__]
    while pending:
        code = pending.pop()
        names.update(code.co_names)
        pending.extend(c for c in code.co_consts if isinstance(c, type(code)))
    return {n: obj.__globals__[n] for n in sorted(names) if n in obj.__globals__}


def _is_notebook_definition(value):
    """A class or function the notebook defines by name (`class Tracker`, `def ping`)."""
    if not callable(value) or getattr(value, "__module__", None) != "__main__":
        return False
    return sys.modules["__main__"].__dict__.get(getattr(value, "__qualname__", None)) is value


def _definition_state(definition):
    """What a class or function holds that its definition did not make in its body: its data
    attributes (`history = []` as it is now) and what was set on it later, each saved on its own;
    what cannot be saved is left out (the definition makes it again)."""
    import types

    own = definition.__qualname__ + "."
    state = {}
    for key, value in vars(definition).items():
        if key.startswith("__") and key.endswith("__"):
            continue
        inner = _inner_function(value)
        if getattr(inner, "__module__", None) == "__main__" and getattr(inner, "__qualname__", "").startswith(own):
            continue  # a method, property or class of its body
        if getattr(inner, "__module__", None) == __name__:
            continue  # the runtime's (a notebook cache's `cache_info`)
        state[key] = _pickled_or_none(value)
    # A function's defaults as they are: what calls put in them (`def fib(n, memo={})`), and the
    # values its definition read (`def f(x=N)` before `N = 5`).
    if isinstance(definition, types.FunctionType):
        for key in ("__defaults__", "__kwdefaults__"):
            if getattr(definition, key):
                state[key] = _pickled_or_none(getattr(definition, key))
        # A notebook decorator's wrapper keeps data in its closure (`nonlocal calls`): the data.
        closure = _closure_data(definition) if _notebook_code(definition.__code__) else None
        if closure:
            state["__closure__"] = _pickled_or_none(closure)
    kept = getattr(definition, "__cellflow_cache__", None)
    if kept is not None:
        state["__cellflow_cache__"] = _pickled_or_none(kept)
    # What cannot be saved is left out: its definition makes it again (a cache starts empty).
    return {key: data for key, data in state.items() if data is not None}


def _closure_data(function):
    """The data a function's closure holds (a count, a list, a dict), by variable name; not the
    functions, classes and modules it holds, which its definition makes again."""
    import types

    data = {}
    for name, cell in zip(function.__code__.co_freevars, function.__closure__ or ()):
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if not callable(value) and not isinstance(value, types.ModuleType):
            data[name] = value
    return data


def _restore_closure(function, data):
    """Puts the data `_closure_data` took back into the closure of the function made again."""
    for name, cell in zip(function.__code__.co_freevars, function.__closure__ or ()):
        if name in data:
            cell.cell_contents = data[name]


def _pickled_or_none(value):
    """`value` pickled as a step saves it, or None where it cannot be."""
    import io

    data = io.BytesIO()
    try:
        _pickler_for(value, data).dump(value)
    except Exception:
        return None
    return data.getvalue()


def _restore_state(definition, state):
    """The class or function a step loads, defined again, with what steps changed on it; what
    does not load (a class it holds that this step cannot define) keeps its definition's value."""
    for key, data in state.items():
        try:
            value = _unpickle_bytes(data)
        except Exception as e:
            sys.stderr.write(
                "Cellflow: `%s.%s` keeps its definition's value here: %s: %s\n"
                % (definition.__qualname__, key, type(e).__name__, _shortened(str(e), 300))
            )
            continue
        try:
            if key == "__cellflow_cache__":
                definition.__cellflow_cache__[:] = value  # what its calls see
            elif key == "__closure__":
                _restore_closure(definition, value)
            else:
                setattr(definition, key, value)
        except (AttributeError, TypeError):
            pass  # set by its definition, which allows no change (an Enum's members)
    return definition


# ---- functools caches of notebook functions ------------------------------------------------------

# Between a call's positional and keyword arguments in a cache key.
_KEYWORDS = ("__cellflow_keywords__",)


def _notebook_cache(function, maxsize, typed):
    """`functools.lru_cache` (and `cache`) for a function the notebook defines: the same
    behaviour (hits, misses, the least recently used out first past `maxsize`, `cache_info`,
    `cache_clear`), as deep a recursion, and what it keeps can be saved, so a later step gets the
    function with what the steps before it computed, as in the notebook."""
    import collections
    import functools

    if maxsize is not None and maxsize < 0:
        maxsize = 0
    state = [{} if maxsize is None else collections.OrderedDict(), 0, 0]  # kept, hits, misses

    def wrapper(*args, **kwds):
        key = args + _KEYWORDS + tuple(kwds.items()) if kwds else args
        if typed:
            key += tuple(type(v) for v in args) + tuple(type(v) for v in kwds.values())
        kept = state[0]
        if maxsize != 0 and key in kept:
            state[1] += 1
            if maxsize is not None:
                kept.move_to_end(key)
            return kept[key]
        state[2] += 1
        result = function(*args, **kwds)
        if maxsize != 0:
            kept[key] = result
            if maxsize is not None and len(kept) > maxsize:
                kept.popitem(last=False)
        return result

    def cache_info():
        return functools._CacheInfo(state[1], state[2], maxsize, len(state[0]))

    def cache_clear():
        state[0].clear()
        state[1] = state[2] = 0

    functools.update_wrapper(wrapper, function)
    wrapper.cache_info = cache_info
    wrapper.cache_clear = cache_clear
    wrapper.cache_parameters = lambda: {"maxsize": maxsize, "typed": typed}
    wrapper.__cellflow_cache__ = state
    return wrapper


def _cached_again(function, maxsize, typed, kept):
    cached = _notebook_cache(function, maxsize, typed)
    cached.__cellflow_cache__[:] = kept
    return cached


class _CacheDecorator:
    """What `functools.lru_cache(maxsize)` gives, kept in a variable (`cache = lru_cache(None)`):
    saved as the call that makes it."""

    __slots__ = ("maxsize", "typed")

    def __init__(self, maxsize, typed):
        self.maxsize, self.typed = maxsize, typed

    def __call__(self, function):
        import functools

        return functools.lru_cache.cached(function, self.maxsize, self.typed)

    def __reduce__(self):
        import functools

        return functools.lru_cache, (self.maxsize, self.typed)


def _install_notebook_caches():
    """Makes `functools.lru_cache` and `functools.cache` give notebook functions and classes
    `_notebook_cache` (a library's functions keep functools' own)."""
    import functools
    import types

    original = functools.lru_cache
    if getattr(original, "__cellflow__", False):
        return

    def cached(function, maxsize, typed):
        # A notebook class too (`Honeycomb = lru_cache(None)(Honeycomb)`: its instances cached).
        if isinstance(function, (types.FunctionType, type)) and function.__module__ == "__main__":
            return _notebook_cache(function, maxsize, typed)
        return original(maxsize, typed)(function)

    def lru_cache(maxsize=128, typed=False):
        if callable(maxsize) and isinstance(typed, bool):
            return cached(maxsize, 128, typed)
        if maxsize is not None and not isinstance(maxsize, int):
            raise TypeError("Expected first argument to be an integer, a callable, or None")
        return _CacheDecorator(maxsize, typed)

    functools.update_wrapper(lru_cache, original)
    lru_cache.__cellflow__ = True
    lru_cache.cached = cached
    functools.lru_cache = lru_cache  # `functools.cache` calls it too


class _WithState:
    """A notebook class or function saved with what it holds (see `_definition_state`)."""

    __slots__ = ("definition",)

    def __init__(self, definition):
        self.definition = definition

    def __reduce__(self):
        return _restore_state, (self.definition, _definition_state(self.definition))


def _used_up():
    """A generator a step used up: a later step finds it used up too."""
    return (item for item in ())


def _resume_generator(code, iterator):
    """A generator expression over one `for`, going on where the saving step left it."""
    import types

    return types.FunctionType(marshal.loads(code), sys.modules["__main__"].__dict__)(iterator)


def _made_again(name, started):
    """A generator not started, or that cannot be saved part way: the one its statement made
    again here."""
    if started:
        sys.stderr.write("Cellflow: `%s` starts again from its beginning here; an earlier step used part of it.\n" % name)
    return sys.modules["__main__"].__dict__.get(name)


# At most this many items of a generator, holding at most this many bytes of arrays, made in at
# most this many seconds, are run ahead to save it (see `_rest_of`).
_GENERATOR_ITEMS = 100_000
_GENERATOR_BYTES = 1 << 30
_GENERATOR_SECONDS = 30
# What `_rest_of` took from each generator, by its id (with the generator, kept alive).
_generator_rests = {}


class _EndlessGenerator(Exception):
    pass


def _rest_of(generator):
    """The items a generator has left, each with what its code printed on the way to it, and what
    it printed and raised at its end: its step is over, so it is run to its end here, and a later
    step gets these in order, as it takes them. None for one with more than `_GENERATOR_ITEMS`
    left (an endless one), whose arrays left hold more than `_GENERATOR_BYTES`, or that takes
    longer than `_GENERATOR_SECONDS` to make them."""
    import contextlib
    import io

    key = id(generator)
    if key in _generator_rests:
        return _generator_rests[key][1]
    items = []
    printed = io.StringIO()
    error = None
    rest = None
    held = 0
    deadline = time.time() + _GENERATOR_SECONDS
    try:
        with contextlib.redirect_stdout(printed):
            try:
                for item in generator:
                    items.append((printed.getvalue(), item))
                    printed.seek(0)
                    printed.truncate()
                    parts = item if type(item) in (tuple, list) else (item,)
                    held += sum(getattr(part, "nbytes", 0) for part in parts)
                    if len(items) > _GENERATOR_ITEMS or held > _GENERATOR_BYTES or time.time() > deadline:
                        raise _EndlessGenerator
            except _EndlessGenerator:
                raise
            except Exception as e:
                error = e
        rest = (items, printed.getvalue(), error)
    except _EndlessGenerator:
        pass
    _generator_rests[key] = (generator, rest)
    return rest


def _going_on(items, printed, error):
    """A generator that gives the items `_rest_of` took, printing what the original printed
    before each, then what it printed and raised at its end."""
    for text, item in items:
        if text:
            sys.stdout.write(text)
        yield item
    if printed:
        sys.stdout.write(printed)
    if error is not None:
        raise error


def _generator_call(generator):
    """For a generator that has not started: the function that made it (a library's, or a method
    of a notebook class: `loader.batches()`) and the arguments it was called with, else None."""
    import inspect

    code = generator.gi_code
    frame = generator.gi_frame
    function = sys.modules.get(frame.f_globals.get("__name__", ""))
    for part in generator.__qualname__.split("."):
        function = getattr(function, part, None)
    function = getattr(function, "__func__", function)
    if getattr(function, "__code__", None) is not code:
        return None
    values = frame.f_locals
    names = code.co_varnames
    count = code.co_argcount
    try:
        args = [values[n] for n in names[:count]]
        kwargs = {n: values[n] for n in names[count : count + code.co_kwonlyargcount]}
        count += code.co_kwonlyargcount
        if code.co_flags & inspect.CO_VARARGS:
            args.extend(values[names[count]])
            count += 1
        if code.co_flags & inspect.CO_VARKEYWORDS:
            kwargs.update(values[names[count]])
    except KeyError:
        return None
    return function, tuple(args), kwargs


def _called_again(function, args, kwargs):
    """The generator a function makes, called again with the same arguments."""
    return function(*args, **kwargs)


class _GeneratorState:
    """A generator saved as where it is: used up; one not started, as the call that made it; a
    generator expression's iterator (a range, a list or a file it goes through, saved at its
    position); else what it has left (see `_rest_of`)."""

    __slots__ = ("generator", "name")

    def __init__(self, generator, name):
        self.generator = generator
        self.name = name

    def __reduce__(self):
        import dis
        import io

        import inspect

        generator = self.generator
        state = inspect.getgeneratorstate(generator)
        if state == inspect.GEN_CLOSED:
            return _used_up, ()
        code = generator.gi_code
        if state == inspect.GEN_CREATED:
            call = _generator_call(generator)
            if call is not None:
                return _called_again, call
            if _notebook_code(code):
                return _made_again, (self.name, False)  # its statement runs again there
        if code.co_name == "<genexpr>" and not code.co_freevars:
            loops = sum(1 for i in dis.get_instructions(code) if i.opname == "FOR_ITER")
            iterator = generator.gi_frame.f_locals.get(".0")
            if loops == 1 and iterator is not None:
                # A trial pickling: the iterator is then saved in the step's own pickle, where
                # what it goes through stays the object other values share (`L` in `x for x in L`).
                try:
                    _SharingPickler(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL).dump(iterator)
                    return _resume_generator, (marshal.dumps(code), iterator)
                except Exception:
                    pass
        rest = _rest_of(generator)
        if rest is not None:
            return _going_on, rest
        return _made_again, (self.name, True)


class _CallIteratorState:
    """An iterator that calls a function for each item (`re.finditer(...)`, `iter(f, sentinel)`),
    which pickle refuses: saved as what it has left, as a generator is (see `_rest_of`)."""

    __slots__ = ("iterator",)

    def __init__(self, iterator):
        self.iterator = iterator

    def __reduce__(self):
        rest = _rest_of(self.iterator)
        if rest is None:
            raise TypeError("cannot save an iterator with more than %d items left" % _GENERATOR_ITEMS)
        return _going_on, rest


def _saved(value, name):
    """What is pickled for a value: a notebook class or function with what it holds, a generator
    or an iterator of calls as where it is."""
    if _is_notebook_definition(value):
        return _WithState(value)
    kind = type(value)
    if kind.__module__ == "builtins" and kind.__name__ in ("generator", "callable_iterator"):
        return _GeneratorState(value, name) if kind.__name__ == "generator" else _CallIteratorState(value)
    return value


def _open_excel(kind, path, engine):
    """A pandas ExcelFile opened from a path, open again in the loading step."""
    return kind(path, engine=engine)


def _dmatrix_bytes(matrix):
    """An xgboost DMatrix (native memory, not picklable) in xgboost's own binary form."""
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".dmatrix")
    os.close(fd)
    try:
        matrix.save_binary(path, silent=True)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.remove(path)


def _load_dmatrix(data):
    import tempfile

    import xgboost

    fd, path = tempfile.mkstemp(suffix=".dmatrix")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return xgboost.DMatrix(path, silent=True)
    finally:
        os.remove(path)


# Files a mode opens again without emptying them, so a later step goes on where this one stopped.
_REOPEN_MODES = {"w": "r+", "w+": "r+", "x": "r+", "x+": "r+"}


def _reduce_open_file(obj):
    """An open file on disk crosses as its path, mode and position and opens again there in the
    loading step (written data is flushed first), as if the same file object were still open; a
    closed one stays closed. None for other objects (and for a pipe, or a file whose position is
    unknown while a `for` loop reads it)."""
    import io

    if not isinstance(obj, (io.TextIOWrapper, io.BufferedReader, io.BufferedWriter, io.BufferedRandom, io.FileIO)):
        return None
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not os.path.isfile(name):
        return None
    text = isinstance(obj, io.TextIOWrapper)
    mode = obj.mode.replace("b", "").replace("t", "")
    encoding = (obj.encoding, obj.errors) if text else None
    path = os.path.abspath(name)
    if obj.closed:
        return _reopen_file, (path, mode, text, encoding, None, name)
    try:
        position = obj.tell()  # flushes what was written
    except (OSError, ValueError):
        found = _read_once(obj, lambda f: _text_position(f, path)) if text and obj.readable() and not obj.writable() else None
        if found is None:
            return None
        position, newline = found
        return _reopen_file, (path, mode, text, encoding, position, name, newline)
    return _reopen_file, (path, mode, text, encoding, position, name)


def _text_position(obj, path):
    """Where a text file a `for` loop or `next` reads is (its `tell()` refuses then), and how it
    reads line ends: what is left of it is read (the step that saves it is done), then found at
    the end of the file read again."""
    rest = obj.read()
    for newline in (None, ""):
        with open(path, encoding=obj.encoding, errors=obj.errors, newline=newline) as f:
            whole = f.read()
            if whole.endswith(rest):
                f.seek(0)
                f.read(len(whole) - len(rest))
                return f.tell(), newline
    return None


_read_at_save = {}  # id -> (object, what was read): an object saved twice gives the same again


def _read_once(obj, read):
    """`read(obj)`, which uses up what it reads (the rest of a file, a cursor's rows), the first
    time an object is saved; what it gave, each time after."""
    kept = _read_at_save.get(id(obj))
    if kept is None or kept[0] is not obj:
        kept = _read_at_save[id(obj)] = (obj, read(obj))
    return kept[1]


def _find_submodules(namespace):
    """In the notebook's process an earlier cell may have imported a package's submodule without
    naming it (pandas' `.hist()` imports `matplotlib.pyplot`), and later cells use it as an
    attribute of the package (`matplotlib.pyplot.gcf()`). A step runs only its own cells: for the
    packages its names hold, a submodule missing as an attribute is imported when asked for."""
    import importlib.util
    import types

    def finder(package, fallback):
        def __getattr__(name):
            if fallback is not None:
                try:
                    return fallback(name)
                except AttributeError:
                    pass
            if not name.startswith("__"):
                full = package.__name__ + "." + name
                try:
                    found = importlib.util.find_spec(full) is not None
                except (ImportError, ValueError):
                    found = False
                if found:
                    return importlib.import_module(full)
            raise AttributeError("module %r has no attribute %r" % (package.__name__, name))

        __getattr__.__cellflow_submodules__ = True
        return __getattr__

    for value in list(namespace.values()):
        if not isinstance(value, types.ModuleType) or not hasattr(value, "__path__"):
            continue
        current = value.__dict__.get("__getattr__")
        if getattr(current, "__cellflow_submodules__", False):
            continue
        try:
            value.__getattr__ = finder(value, current)
        except (AttributeError, TypeError):
            pass


def _reduce_npz(obj):
    """What `numpy.load("x.npz")` gives (its arrays read from the open archive when asked for)
    crosses as its file's path and opens again in the loading step. None for other objects."""
    if type(obj).__name__ != "NpzFile" or not (type(obj).__module__ or "").startswith("numpy"):
        return None
    name = getattr(getattr(obj, "fid", None), "name", None)
    if not isinstance(name, str) or not os.path.isfile(name):
        return None
    return _open_npz, (os.path.abspath(name), bool(getattr(obj, "allow_pickle", False)))


def _reduce_memmap(obj):
    """A numpy memmap over a file crosses as its file and opens again in the loading step, a view
    of one as the same view of it: writes reach the file, and nothing is copied. One opened
    copy-on-write (mode `c`), whose writes are its own, is saved as its data. None for other
    objects."""
    numpy = sys.modules.get("numpy")
    if numpy is None or not isinstance(obj, numpy.memmap) or obj.mode not in ("r", "r+", "w+"):
        return None
    root = obj
    while isinstance(root.base, numpy.ndarray):
        root = root.base
    if not isinstance(root, numpy.memmap) or not isinstance(root.filename, str) or not os.path.isfile(root.filename):
        return None
    if obj is not root:
        offset = obj.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        return _memmap_view, (root, obj.shape, obj.dtype, offset, obj.strides)
    if obj.mode != "r":
        obj.flush()
    order = "F" if obj.flags.f_contiguous and not obj.flags.c_contiguous else "C"
    return _open_memmap, (obj.filename, obj.dtype, obj.mode, obj.offset, obj.shape, order)


def _open_memmap(filename, dtype, mode, offset, shape, order):
    import numpy

    # `w+` made the file: it opens again as it is now, not emptied.
    opened = numpy.memmap(filename, dtype=dtype, mode="r" if mode == "r" else "r+", offset=offset, shape=shape, order=order)
    opened.mode = mode
    return opened


def _memmap_view(root, shape, dtype, offset, strides):
    import numpy

    view = numpy.ndarray.__new__(numpy.memmap, shape, dtype=dtype, buffer=root, offset=offset, strides=strides)
    view._mmap, view.filename, view.offset, view.mode = root._mmap, root.filename, root.offset, root.mode
    return view


def _reduce_index(obj):
    """A pandas index whose lookup table a label lookup built (`df.loc["a"]`) is saved so that the
    loading step builds it again: it counts in what `memory_usage` and `info()` report. None for
    other objects."""
    pandas = sys.modules.get("pandas")
    if pandas is None or not isinstance(obj, pandas.Index):
        return None
    cache = getattr(obj, "_cache", None)
    engine = cache.get("_engine") if isinstance(cache, dict) else None
    if engine is None or not getattr(engine, "is_mapping_populated", False):
        return None
    reduced = obj.__reduce__()
    if not isinstance(reduced, tuple) or any(part is not None for part in reduced[2:]):
        return None
    return _with_lookup_table, reduced[:2]


def _with_lookup_table(make, arguments):
    index = make(*arguments)
    try:
        index._engine.is_unique  # builds the table
    except Exception:
        pass
    return index


def _reduce_notebook_exception(obj):
    """An exception of a notebook class saved as its arguments and attributes, made again
    without calling its `__init__`: pickle would call it with the arguments `Exception` keeps,
    which a class that takes others refuses (`MyErr("bad", code=3)` keeps only `("bad",)`)."""
    cls = type(obj)
    if not isinstance(obj, BaseException) or cls.__module__ != "__main__":
        return None
    if cls.__reduce__ is not BaseException.__reduce__ or cls.__reduce_ex__ is not BaseException.__reduce_ex__:
        return None
    return _exception_again, (cls, obj.args), dict(obj.__dict__) or None


def _exception_again(cls, args):
    made = cls.__new__(cls, *args)
    made.args = args
    return made


def _reduce_whole_state(obj):
    """An instance of a notebook class with its own `__getstate__` or `__setstate__` (one that
    leaves a cache out, or fills one on load) crosses as it is: all its attributes, set again
    without either, so a later step finds the object the notebook's next cell would. Where they
    do not all pickle (a connection it leaves out for that), its own pickling is used."""
    cls = type(obj)
    if cls.__module__ != "__main__" or isinstance(obj, type) or cls.__new__ is not object.__new__:
        return None
    if not isinstance(getattr(obj, "__dict__", None), dict) or "__slots__" in vars(cls):
        return None
    notebook = [k for k in cls.__mro__ if k.__module__ == "__main__"]
    own = lambda name: any(name in vars(k) for k in notebook)
    if not (own("__getstate__") or own("__setstate__")) or own("__reduce__") or own("__reduce_ex__"):
        return None
    state = dict(obj.__dict__)
    if _pickled_or_none(state) is None:
        return None
    return _instance_of, (cls,), state, None, None, _set_whole_state


def _instance_of(cls):
    return object.__new__(cls)


def _set_whole_state(obj, state):
    obj.__dict__.update(state)


def _reduce_keeping_attributes(obj):
    """An instance of a notebook class whose base's pickling leaves out its attributes (a Counter
    subclass: `Counter.__reduce__` gives only the counts, so `P.name` came back as `__init__`'s
    default): saved with them."""
    if type(obj).__module__ != "__main__" or isinstance(obj, type) or not getattr(obj, "__dict__", None):
        return None
    if hasattr(type(obj), "__setstate__"):
        return None
    try:
        reduced = obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None
    if not isinstance(reduced, tuple):
        return None
    if len(reduced) > 2 and reduced[2] is not None:
        return reduced  # its state is there already: pickle need not reduce it again
    return tuple(reduced[:2]) + (dict(obj.__dict__),) + tuple(reduced[3:])


_VIEW_KINDS = {type({}.keys()): "keys", type({}.values()): "values", type({}.items()): "items"}
_VIEW_TYPES = tuple(_VIEW_KINDS)


def _reduce_unpicklable_builtin(obj):
    """Builtin objects pickle refuses, saved as what makes them again: a dict's view (`d.keys()`)
    as a view of its dict (loaded with it, so it still follows its changes), a regular expression
    match as the same match found again, a module as its import, a bound private method by its
    mangled name, the process's standard streams (kept by a library, as asteval keeps
    `sys.stdout`) as the loading step's. None for other objects."""
    import types

    kind = _VIEW_KINDS.get(type(obj))
    if kind is None and isinstance(obj, _VIEW_TYPES):
        kind = next(k for t, k in _VIEW_KINDS.items() if isinstance(obj, t))  # an OrderedDict's
    if kind is not None:
        import gc

        mapping = next((r for r in gc.get_referents(obj) if isinstance(r, dict)), None)
        return None if mapping is None else (_dict_view, (mapping, kind))
    if type(obj) is re.Match:
        return _match_again, (obj.re, obj.string, obj.pos, obj.endpos, obj.regs)
    if isinstance(obj, types.MethodType):
        # A bound private method (lmfit's `self.__jacobian`) pickles by its name as written, which
        # its object does not have: it is found again by the name its class gave it.
        name = getattr(obj.__func__, "__name__", "")
        owner = getattr(obj.__func__, "__qualname__", "").rpartition(".")[0].rpartition(".")[2]
        if name.startswith("__") and not name.endswith("__") and owner.strip("_"):
            mangled = "_%s%s" % (owner.lstrip("_"), name)
            if getattr(obj.__self__, mangled, None) == obj:
                return getattr, (obj.__self__, mangled)
    if isinstance(obj, _CellStream):
        return _standard_stream, (obj._name,)
    for name in ("stdout", "stderr", "stdin"):
        if obj is getattr(sys, "__%s__" % name, None):
            return _standard_stream, ("__%s__" % name,)
    if isinstance(obj, types.ModuleType):
        name = getattr(obj, "__name__", None)
        if name and name != "__main__" and sys.modules.get(name) is obj:
            return importlib.import_module, (name,)
    return None


def _standard_stream(name):
    """The loading step's `sys.stdout` (or `sys.__stdout__`, `sys.stderr`...)."""
    return getattr(sys, name)


def _dict_view(mapping, kind):
    return getattr(mapping, kind)()


def _match_again(pattern, string, pos, endpos, regs):
    """The match a regular expression gave, found again: the one with the same groups."""
    candidates = [pattern.search(string, pos, endpos), pattern.fullmatch(string, pos, endpos)]
    for m in candidates + list(pattern.finditer(string, pos, endpos)):
        if m is not None and m.regs == regs:
            return m
    raise ValueError("the match of %r is not found again in its string" % pattern.pattern)


def _reduce_made_class(obj):
    """A class a call made and the notebook names (`Item = make_dataclass("Item", ...)`, whose
    module says `types`) is saved by its notebook name: the loading step makes it again. None for
    other objects, and for classes pickle finds by their module."""
    if not isinstance(obj, type) or obj.__module__ == "__main__":
        return None
    if type(obj).__name__ == "UndefinedFunction" and (type(obj).__module__ or "").startswith("sympy."):
        # sympy's `f = Function("f")`: made again by name and assumptions (sympy keeps one of each).
        kwargs = dict(getattr(obj, "_explicit_class_assumptions", None) or {})
        if getattr(obj, "_nargs", None) is not None:
            kwargs["nargs"] = obj._nargs
        return _sympy_function, (obj.__name__, kwargs)
    name = obj.__qualname__
    if sys.modules["__main__"].__dict__.get(name) is not obj:
        return None
    if getattr(sys.modules.get(obj.__module__), name, None) is obj:
        return None
    return _notebook_name, (name,)


def _reduce_global_random(obj):
    """The process's global random generators (`random`'s, numpy's `np.random`), held in a value
    (a scipy distribution keeps numpy's, `draw = random.random` keeps `random`'s): the loading
    step's own, which the random state that flows between steps sets. A copy would draw apart
    from the notebook's sequence. None for other objects."""
    import random

    if obj is getattr(random, "_inst", None):
        return _global_random, ("random",)
    numpy = sys.modules.get("numpy")
    if numpy is not None and obj is getattr(getattr(numpy.random, "mtrand", None), "_rand", None):
        return _global_random, ("numpy",)
    return None


def _global_random(kind):
    if kind == "random":
        import random

        return random._inst
    import numpy

    return numpy.random.mtrand._rand


def _reduce_sympy_symbol(obj):
    """A sympy Symbol crosses as its name and the assumptions it was given (sympy's own pickling
    gives it all of them, which `srepr` then shows)."""
    sympy = sys.modules.get("sympy")
    if sympy is None or type(obj) is not sympy.Symbol:
        return None
    given = getattr(getattr(obj, "_assumptions", None), "generator", None)
    if not isinstance(given, dict):
        return None
    return _sympy_symbol, (obj.name, dict(given))


def _sympy_symbol(name, assumptions):
    import sympy

    return sympy.Symbol(name, **assumptions)


def _sympy_function(name, kwargs):
    import sympy

    return sympy.Function(name, **kwargs)


def _reduce_notebook_class(obj):
    """A notebook class, saved by its name as pickle saves it, with what makes it again: where
    the loading step's class of that name is another (a later cell defined the name again), an
    instance saved before loads as an instance of the class it was made from, as in the notebook.
    None for other objects."""
    if not isinstance(obj, type) or obj.__module__ != "__main__" or obj in _classes_being_saved:
        return None
    name = obj.__qualname__
    codes = tuple((key, marshal.dumps(code)) for key, code in _class_codes(obj))
    if "<locals>" in name:
        # A class a notebook function defines (`def make(): class Local: ...`), which pickle
        # cannot find by name: made again from what makes it.
        again = _class_again(obj)
        return (_class_made_again, (name, codes, again)) if again is not None else None
    if _unwrapped(sys.modules["__main__"].__dict__.get(name)) is not obj:
        return None
    return _notebook_class, (name, codes, _class_again(obj))


def _unwrapped(value):
    """The class a wrapper holds, where the notebook bound its name to one (`Honeycomb =
    functools.lru_cache(None)(Honeycomb)`), through `__wrapped__`; else `value` itself."""
    for _ in range(8):
        if value is None or isinstance(value, type):
            return value
        try:
            inner = getattr(value, "__wrapped__", None)
        except Exception:
            return value
        if inner is None:
            return value
        value = inner
    return value


def _inner_function(value):
    """The function a class attribute holds: a method's, a static or class method's, a
    property's getter; else the attribute itself."""
    return getattr(value, "__func__", None) or getattr(value, "fget", None) or value


def _class_codes(cls):
    """The code of the functions a class's body defined (methods, static and class methods,
    properties), by name: what tells two definitions of a name apart. (One set on the class
    later, `Dog.speak = ...`, is not the body's.)"""
    own = cls.__qualname__ + "."
    codes = []
    for key, value in vars(cls).items():
        function = _inner_function(value)
        code = getattr(function, "__code__", None)
        if code is not None and getattr(function, "__qualname__", "").startswith(own):
            codes.append((key, code))
    return codes


_classes_being_saved = set()
_classes_again = {}  # id -> (class, what makes it again), for the classes this step saved


def _class_again(cls):
    """The class's metaclass, name, bases and namespace, pickled; None where they cannot be."""
    kept = _classes_again.get(id(cls))
    if kept is not None and kept[0] is cls:
        return kept[1]
    data = None
    if type(cls) is type or type(cls).__module__ == "abc":
        slots = cls.__dict__.get("__slots__", ())
        slots = (slots,) if isinstance(slots, str) else tuple(slots)
        namespace = {k: v for k, v in vars(cls).items() if k not in ("__dict__", "__weakref__") and k not in slots}
        # A class that holds data (`X = np.zeros(...)` in its body) is not copied for this.
        if not any(_held_bytes(v) > _CLASS_AGAIN_LIMIT for v in namespace.values()):
            _classes_being_saved.add(cls)
            try:
                data = _pickled_or_none((type(cls), cls.__name__, cls.__bases__, namespace))
            finally:
                _classes_being_saved.discard(cls)
        if data is not None and len(data) > _CLASS_AGAIN_LIMIT:
            data = None
    _classes_again[id(cls)] = (cls, data)
    return data


_classes_made_again = {}
_CLASS_AGAIN_LIMIT = 1 << 20


def _held_bytes(value):
    """About how many bytes of data a value holds: an array's or a frame's, else 0."""
    size = getattr(value, "nbytes", None)
    if isinstance(size, int):
        return size
    usage = getattr(value, "memory_usage", None)
    if callable(usage) and (type(value).__module__ or "").startswith("pandas"):
        try:
            return int(usage(deep=False).sum())
        except Exception:
            return 0
    return 0


def _notebook_class(name, codes, again):
    """The loading step's class `name` where it is the one saved (the same code), else the saved
    one made again (once per step)."""
    try:
        found = _unwrapped(getattr(sys.modules["__main__"], name))  # defined on demand as inputs load
    except AttributeError:
        found = None
    if found is not None and _same_codes(found, codes):
        return found
    if again is None:
        if found is None:
            raise AttributeError("Can't get attribute %r on <module '__main__'>" % name)
        return found
    return _class_made_again(name, codes, again)


def _class_made_again(name, codes, again):
    """A notebook class made again from its metaclass, name, bases and namespace (once per
    step)."""
    made = _classes_made_again.get((name, codes))
    if made is None:
        kind, short, bases, namespace = _unpickle_bytes(again)
        made = kind(short, bases, namespace)
        made.__qualname__ = name
        # `super()` in its methods finds the class they are in: this one, not the one named so now.
        for value in namespace.values():
            function = _inner_function(value)
            for cell in getattr(function, "__closure__", None) or ():
                try:
                    held = cell.cell_contents
                except ValueError:
                    continue
                if isinstance(held, type) and held.__module__ == "__main__" and held.__qualname__ == name:
                    cell.cell_contents = made
        _classes_made_again[(name, codes)] = made
    return made


def _same_codes(cls, codes):
    """Whether a class is the one saved: each function both bodies define has the same code."""
    if not isinstance(cls, type):
        return False
    current = dict(_class_codes(cls))
    return all(current[key] == marshal.loads(saved) for key, saved in codes if key in current)


def _notebook_name(name):
    return getattr(sys.modules["__main__"], name)  # defined on demand while inputs load


def _open_npz(path, allow_pickle):
    import numpy

    return numpy.load(path, allow_pickle=allow_pickle)


def _reopen_file(path, mode, text, encoding, position, name=None, newline=None):
    mode = _REOPEN_MODES.get(mode, mode)
    if position is None and not os.path.isfile(path):
        path, mode = os.devnull, "r"
    elif name is not None and os.path.abspath(name) == path:
        path = name  # opened by the name the notebook gave, which the file shows (`f.name`)
    f = open(path, mode if text else mode + "b", **(dict(encoding=encoding[0], errors=encoding[1], newline=newline) if text else {}))
    if position is None:
        f.close()
    elif "a" not in mode:
        f.seek(position)
    return f


def _reduce_kept_in_process(obj):
    """Objects pickle refuses that hold a place in the process or in something else, saved as what
    makes them again there: a named logger with its level and handlers (a handler as its stream
    or file, its formatter and level), a weak reference to what it still refers to, numpy's
    `arr.flat` at its index, and a pandas reader of chunks (`read_csv(..., chunksize=N)`) at the
    row it reached. None for other objects."""
    kind = type(obj)
    logging = sys.modules.get("logging")
    if logging is not None:
        if kind is logging.Logger:
            state = (obj.level, obj.propagate, obj.disabled, list(obj.handlers), list(obj.filters))
            return _logger_again, (obj.name, state)
        if isinstance(obj, logging.Handler):
            return _handler_again, (kind, {k: v for k, v in vars(obj).items() if k != "lock"})
    if kind is weakref.ref:
        referent = obj()
        return (_dead_reference, ()) if referent is None else (_weak_again, (referent,))
    numpy = sys.modules.get("numpy")
    if numpy is not None and kind is numpy.flatiter:
        return _flat_at, (obj.base, obj.index)
    if kind.__name__ == "TextFileReader" and (kind.__module__ or "").startswith("pandas"):
        source = getattr(getattr(getattr(obj, "handles", None), "handle", None), "name", None)
        if isinstance(source, str) and os.path.isfile(source):
            return _chunks_at, (os.path.abspath(source), obj.orig_options, obj.engine, obj._currow)
    return None


def _logger_again(name, state):
    import logging

    logger = logging.getLogger(name)
    logger.level, logger.propagate, logger.disabled, logger.handlers, logger.filters = state
    logger.manager._clear_cache()
    return logger


def _handler_again(kind, state):
    import logging

    handler = kind.__new__(kind)
    handler.__dict__.update(state)
    handler.createLock()
    logging._addHandlerRef(handler)  # flushed and closed at exit, as a handler made here is
    return handler


_held = []  # what loaded weak references refer to: held, as the saving step's variables held them


def _weak_again(referent):
    _held.append(referent)
    return weakref.ref(referent)


class _Gone:
    pass


def _dead_reference():
    return weakref.ref(_Gone())  # what it referred to is gone: it gives None


def _flat_at(base, index):
    flat = base.flat
    for _ in range(index):
        next(flat)
    return flat


def _chunks_at(path, options, engine, row):
    import pandas

    reader = pandas.io.parsers.readers.TextFileReader(path, engine=engine, **{k: v for k, v in options.items() if k != "engine"})
    if row:
        reader.read(row)
    return reader


def _reduce_sqlite(obj):
    """A sqlite3 connection crosses as its database: a file is connected to again (its committed
    data is there), an in-memory one is copied whole."""
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is None or type(obj) is not sqlite3.Connection:
        return None
    try:
        rows = obj.execute("PRAGMA database_list").fetchall()
    except Exception:
        return None  # closed
    path = "" if _memory_databases.get(id(obj)) is obj else next((row[2] for row in rows if row[1] == "main"), "")
    settings = {"row_factory": obj.row_factory, "text_factory": obj.text_factory, "isolation_level": obj.isolation_level}
    return _connect_sqlite, (path, None if path else obj.serialize(), settings)


_memory_databases = {}  # id -> connection, for in-memory databases loaded here (sqlite names them "x")


def _connect_sqlite(path, data, settings=None):
    import sqlite3

    connection = sqlite3.connect(path or ":memory:")
    if data is not None:
        connection.deserialize(data)
        _memory_databases[id(connection)] = connection
    for key, value in (settings or {}).items():
        setattr(connection, key, value)  # how it makes rows and text, and opens transactions
    return connection


def _reduce_sqlite_cursor(obj):
    """A sqlite3 cursor crosses with its connection and the rows of its statement not fetched yet
    (fetched here once, as the step that saves it is done): the loading step's cursor gives those
    rows first, with the statement's column names."""
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is None or not isinstance(obj, sqlite3.Cursor):
        return None
    names, rows = _read_once(obj, _cursor_rest)
    return _sqlite_cursor, (obj.connection, names, rows, obj.arraysize, obj.row_factory)


def _cursor_rest(cursor):
    """A cursor's column names and the rows it has not given yet, as tuples; None, None for a
    closed one."""
    import sqlite3

    try:
        description = cursor.description
        factory, cursor.row_factory = cursor.row_factory, None
        try:
            rows = cursor.fetchall() if description is not None else []
        finally:
            cursor.row_factory = factory
    except sqlite3.ProgrammingError:  # closed, or its connection is
        return None, None
    return (None if description is None else [column[0] for column in description]), rows


def _reduce_zipfile(obj):
    """A zip archive opened from a path crosses as that path: one being written is finished here
    (its directory written, as the step that saves it is done) and opens again to add to it."""
    zipfile = sys.modules.get("zipfile")
    if zipfile is None or not isinstance(obj, zipfile.ZipFile) or not isinstance(obj.filename, str):
        return None
    path = os.path.abspath(obj.filename)
    if obj.fp is None:  # closed
        return _zip_again, (path, obj.filename, None, obj.compression)
    mode = "r" if obj.mode == "r" else "a"
    if mode == "a":
        obj.close()
    return _zip_again, (path, obj.filename, mode, obj.compression)


def _zip_again(path, name, mode, compression):
    import zipfile

    if os.path.abspath(name) == path:
        path = name  # by the name the notebook gave (`filename`)
    if mode is None:
        archive = zipfile.ZipFile(path if os.path.isfile(path) else os.devnull)
        archive.close()
        return archive
    return zipfile.ZipFile(path, mode, compression)


_CSV_DIALECT = ("delimiter", "quotechar", "escapechar", "doublequote", "skipinitialspace", "lineterminator", "quoting", "strict")


def _reduce_csv(obj):
    """A CSV reader or writer crosses as what it reads or the file it writes, and its dialect: the
    loading step makes it again over them (a file opens again where it was)."""
    kind = type(obj)
    if kind.__module__ != "_csv" or kind.__name__ not in ("reader", "writer"):
        return None
    import gc

    dialect = {key: getattr(obj.dialect, key) for key in _CSV_DIALECT}
    for part in gc.get_referents(obj):
        source = getattr(part, "__self__", None) if kind.__name__ == "writer" else part
        if source is not None and type(part).__name__ not in ("Dialect", "type", "list"):
            return _csv_again, (kind.__name__, source, dialect)
    return None


def _csv_again(kind, source, dialect):
    import csv

    return getattr(csv, kind)(source, **dialect)


def _reduce_sqlite_row(obj):
    """A sqlite3.Row crosses as its column names and values."""
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is None or type(obj) is not sqlite3.Row:
        return None
    return _sqlite_row, (tuple(obj.keys()), tuple(obj))


_row_cursors = {}  # column names -> a cursor with them, which rows made here refer to


def _sqlite_row(names, values):
    import sqlite3

    cursor = _row_cursors.get(names)
    if cursor is None:
        cursor = _row_cursors[names] = sqlite3.connect(":memory:").execute(_no_rows(names))
    return sqlite3.Row(cursor, values)


def _no_rows(names):
    """A query with these column names and no rows: a cursor that runs it has them as its
    description."""
    return "SELECT %s LIMIT 0" % ", ".join('NULL AS "%s"' % name.replace('"', '""') for name in names)


def _sqlite_cursor(connection, names, rows, arraysize, row_factory):
    cursor = connection.cursor(_pending_cursor_type()) if names is not None else connection.cursor()
    cursor.arraysize = arraysize
    cursor.row_factory = row_factory
    if names is not None:
        cursor.execute(_no_rows(names))
        cursor._pending = list(rows)
    elif rows is None:
        cursor.close()
    return cursor


_PendingCursor = None


def _pending_cursor_type():
    """sqlite3's cursor, giving first the rows an earlier step's statement had left (the type
    shows as sqlite3's own)."""
    global _PendingCursor
    if _PendingCursor is not None:
        return _PendingCursor
    import sqlite3

    class Cursor(sqlite3.Cursor):
        _pending = None

        def _take(self, n):
            rows, self._pending = self._pending[:n], self._pending[n:]
            return [self.row_factory(self, r) for r in rows] if self.row_factory else rows

        def execute(self, *args, **kwargs):
            self._pending = None
            return super().execute(*args, **kwargs)

        def executemany(self, *args, **kwargs):
            self._pending = None
            return super().executemany(*args, **kwargs)

        def executescript(self, *args, **kwargs):
            self._pending = None
            return super().executescript(*args, **kwargs)

        def fetchone(self):
            if not self._pending:
                return super().fetchone()
            return self._take(1)[0]

        def fetchmany(self, size=None):
            if not self._pending:
                return super().fetchmany(self.arraysize if size is None else size)
            return self._take(self.arraysize if size is None else size)

        def fetchall(self):
            if not self._pending:
                return super().fetchall()
            return self._take(len(self._pending))

        def __next__(self):
            if not self._pending:
                return super().__next__()
            return self._take(1)[0]

    Cursor.__module__ = "sqlite3"
    Cursor.__qualname__ = "Cursor"
    _PendingCursor = Cursor
    return Cursor


# ---- set order ----------------------------------------------------------------------------------
# A set iterates in the order of its hash table's slots, and where an item sits depends on the
# set's history (the order items came in, items since removed, the table's size), not on its
# items alone. Pickle rebuilds a set by adding its items again, so a set a step loads often
# iterates (prints, lists) in another order than the notebook's. A saved set keeps its table's
# size and each item's slot, and loads with every item in its slot again. CPython only; where the
# table cannot be read, or the items do not go back into their slots, pickle's set is loaded.

# Items; a larger set loads as pickle makes it (placing millions of items one by one would cost
# seconds, and filling a table of the same size in their order still misplaces some).
_SET_LAYOUT_MAX = 100_000
_LINEAR_PROBES = 9  # CPython's set: slots looked at next to the first, then a jump
_PERTURB_SHIFT = 5
_VALUE_HASHED = (int, float, bool, complex, type(None))
_SEEDED_HASHED = (str, bytes)  # hashed alike in every step when the hash seed is fixed


def _set_mask(s):
    """The mask of an exact set's hash table, read from CPython's set object; None when it is
    not read safely."""
    import ctypes

    if sys.implementation.name != "cpython" or ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    base = id(s)
    used = ctypes.c_ssize_t.from_address(base + 24).value
    mask = ctypes.c_ssize_t.from_address(base + 32).value
    size = mask + 1
    if used != len(s) or size < 8 or size & mask:
        return None
    # The table's size is the one the object reports (its small table is inside it).
    small = size == 8 and ctypes.c_void_p.from_address(base + 40).value == base + 64
    if not small and s.__sizeof__() != set().__sizeof__() + size * 16:
        return None
    return mask


def _set_layout(s, items):
    """`(mask, slots)`: an exact set's table mask and the slot of each of its `items` (in its
    order), read from CPython's set object; None when it is not read safely."""
    import ctypes

    mask = _set_mask(s)
    if mask is None:
        return None
    size = mask + 1
    table = ctypes.c_void_p.from_address(id(s) + 40).value
    keys = (ctypes.c_ssize_t * (2 * size)).from_address(table)[0::2]
    where = {key: slot for slot, key in enumerate(keys) if key}
    slots = [where.get(id(item)) for item in items]
    if None in slots:
        return None
    return mask, slots


def _set_persistent_id(pickler, s):
    """The persistent id a set is saved as (its layout), or None where pickle's own set loads
    in the same order."""
    known = pickler.__dict__.setdefault("_cellflow_sets", {})
    seen = known.get(id(s))
    if seen is not None:
        return ("cellflow-set-again", seen[0])
    if not 2 <= len(s) <= _SET_LAYOUT_MAX:
        return None
    items = list(s)
    hashed_alike = _VALUE_HASHED
    if os.environ.get("PYTHONHASHSEED", "random") not in ("", "random"):
        hashed_alike += _SEEDED_HASHED
    if all(type(item) in hashed_alike for item in items):
        if all(a is b for a, b in zip(set(items), items)):
            return None
    layout = _set_layout(s, items)
    if layout is None:
        return None
    mask, slots = layout
    import array

    key = len(known)
    known[id(s)] = (key, s)  # held, so that its id stays its own while the pickler runs
    return ("cellflow-set", key, items, mask, array.array("I", slots).tobytes())


class _SlotHolder:
    """Holds a slot of a set being filled, so that an item probing past it goes on to its own."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot

    def __hash__(self):
        return self.slot

    def __eq__(self, other):
        return self is other


def _probed_slots(hash_, mask):
    """The slots CPython's set looks at for an item of hash `hash_`, in order."""
    perturb = hash_ & 0xFFFFFFFFFFFFFFFF
    i = hash_ & mask
    while True:
        for k in range(i, i + (_LINEAR_PROBES + 1 if i + _LINEAR_PROBES <= mask else 1)):
            yield k
        perturb >>= _PERTURB_SHIFT
        i = (i * 5 + 1 + perturb) & mask


def _set_filling(items, mask, slots):
    """The items, in an order that puts each in its slot, with holders for the slots an item
    must find taken before its own; None when there is none."""
    own = set(slots)
    taken = set()
    filling = []
    pending = list(zip(items, slots))
    while pending:
        waiting = []
        for item, slot in pending:
            path = []
            for k in _probed_slots(hash(item), mask):
                if k == slot:
                    break
                path.append(k)
                if len(path) > 2 * mask + 64:
                    return None
            if any(k in own and k not in taken for k in path):
                waiting.append((item, slot))
                continue
            for k in path:
                if k not in taken:
                    taken.add(k)
                    filling.append(_SlotHolder(k))
            taken.add(slot)
            filling.append(item)
        if len(waiting) == len(pending):
            return None
        pending = waiting
    return filling


def _fill_set(target, filling, mask):
    """Adds `filling` to the empty set `target` in its order, in a table of `mask + 1` slots
    from the first: one larger than the small table is made at once, by adding a dict of a quarter
    to a half of its size (too few entries are made up with holders, which go again after)."""
    size = mask + 1
    if size > 8:
        filling = list(filling)
        filling.extend(_SlotHolder(k) for k in range(max(0, max(5, size // 4) - len(filling))))
    at_once = min(len(filling), size // 2 - 1) if size > 8 else 0
    target.update(dict.fromkeys(filling[:at_once]))
    target.update(filling[at_once:])
    holders = [entry for entry in filling if type(entry) is _SlotHolder]
    target.difference_update(holders)


def _place_set(target, items, mask, slots):
    """Fills the empty set `target` with `items`, each in its slot of a table of `mask + 1`
    slots; where that fails, with the items as pickle adds them."""
    from array import array

    try:
        order = array("I")
        order.frombytes(slots)
        filling = _set_filling(items, mask, order.tolist())
        if filling is not None:
            _fill_set(target, filling, mask)
            if len(target) == len(items) and all(a is b for a, b in zip(target, items)):
                return target
    except Exception:
        pass
    target.clear()
    target.update(items)
    return target


class _Unpickler(pickle.Unpickler):
    """Loads what `_SharingPickler` saved: its sets with their items in their slots again."""

    def persistent_load(self, pid):
        sets = self.__dict__.setdefault("_cellflow_sets", {})
        if pid[0] == "cellflow-set-again":
            return sets.setdefault(pid[1], set())
        if pid[0] == "cellflow-set":
            _, key, items, mask, slots = pid
            return _place_set(sets.setdefault(key, set()), items, mask, slots)

        raise pickle.UnpicklingError("unknown persistent id %r" % (pid,))


def _unpickle(file):
    return _Unpickler(file).load()


def _unpickle_bytes(data):
    import io

    return _Unpickler(io.BytesIO(data)).load()


class _SharingPickler(pickle.Pickler):
    """Pickles values that share objects in one stream, so they still share once loaded; a numpy
    view of an array is saved as a view of it (also of an array over a memory map or a buffer, as
    loaded inputs are); a function without a name to find it by (a lambda) is saved by its code;
    an open file, a CSV reader or writer, a zip archive, a sqlite3 connection, cursor and row,
    numpy's `.npz` archive and memmap, and a pandas ExcelFile open again in the loading step; an
    array of a type that refuses pickling is saved as its data; a pandas index keeps its lookup
    table; a dict's view, a regex match, a module, a logger and its handlers, a weak reference,
    `arr.flat` and a pandas chunk reader are saved as what makes them again. Load with
    `_unpickle`; save with `_pickler_for`, which keeps sets' order where it can."""

    def reducer_override(self, obj):
        reduced = (
            _reduce_global_random(obj)
            or _reduce_function(obj)
            or _reduce_notebook_class(obj)
            or _reduce_open_file(obj)
            or _reduce_kept_in_process(obj)
            or _reduce_sqlite(obj)
            or _reduce_sqlite_cursor(obj)
            or _reduce_sqlite_row(obj)
            or _reduce_csv(obj)
            or _reduce_zipfile(obj)
            or _reduce_sympy_symbol(obj)
            or _reduce_npz(obj)
            or _reduce_memmap(obj)
            or _reduce_index(obj)
            or _reduce_made_class(obj)
            or _reduce_notebook_exception(obj)
            or _reduce_whole_state(obj)
            or _reduce_keeping_attributes(obj)
            or _reduce_unpicklable_builtin(obj)
        )
        if reduced is not None:
            return reduced
        if type(obj).__name__ == "DMatrix" and (type(obj).__module__ or "").startswith("xgboost"):
            return _load_dmatrix, (_dmatrix_bytes(obj),)
        if type(obj).__name__ == "ExcelFile" and (type(obj).__module__ or "").startswith("pandas"):
            source = getattr(obj, "_io", None)
            if isinstance(source, (str, os.PathLike)) and os.path.isfile(source):
                return _open_excel, (type(obj), os.path.abspath(source), obj.engine)
        numpy = sys.modules.get("numpy")
        if numpy is not None and isinstance(obj, numpy.ndarray) and type(obj) is not numpy.ndarray:
            try:
                return obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
            except NotImplementedError:
                # An array type whose library refuses pickling (patsy's DesignMatrix): its data.
                return numpy.asarray, (obj.view(numpy.ndarray),)
        if numpy is not None and type(obj) is numpy.ndarray:
            base = _viewed_array(obj)
            if base is not None:
                offset = obj.__array_interface__["data"][0] - base.__array_interface__["data"][0]
                return _make_view, (base, obj.shape, obj.dtype, offset, obj.strides)
        return NotImplemented


class _SetKeepingPickler(_SharingPickler):
    """`_SharingPickler` that saves each set with its items' slots (`_set_persistent_id`). It
    looks at every object it saves, which costs time on values of millions of objects."""

    def persistent_id(self, obj):
        return _set_persistent_id(self, obj) if type(obj) is set else None


_SET_SEARCH = 50_000  # objects looked at for a set before saving a value


def _holds_set(value):
    """Whether `value` holds a set among the first objects it refers to (items of containers,
    attributes of objects), breadth first. A set deeper in a large value loads in pickle's order:
    saving millions of objects at pickle's own speed is worth more."""
    from itertools import islice

    queue = [value]
    i = 0
    while i < len(queue) and i < _SET_SEARCH:
        obj = queue[i]
        i += 1
        kind = type(obj)
        if kind is set:
            return True
        room = _SET_SEARCH - len(queue)
        if room <= 0:
            continue
        if kind is list or kind is tuple or kind is frozenset:
            queue.extend(islice(obj, room))
        elif kind is dict:
            queue.extend(islice(obj.values(), room))
        elif kind not in _VALUE_HASHED and kind is not str and kind is not bytes:
            try:
                attributes = object.__getattribute__(obj, "__dict__")
            except Exception:  # slots only, or a proxy's own attribute lookup
                continue
            if type(attributes) is dict:
                queue.extend(islice(attributes.values(), room))
    return False


def _pickler_for(value, file):
    """The pickler a step saves `value` with."""
    kind = _SetKeepingPickler if _holds_set(value) else _SharingPickler
    return kind(file, protocol=pickle.HIGHEST_PROTOCOL)


def save_shared(values, paths):
    """Saves variables that may share objects together: every path gets the same bundle, and a
    step that loads several of them from one bundle gets them sharing again."""
    bundle = "%d-%d-%s" % (os.getpid(), int(time.time() * 1000), "-".join(sorted(values)))
    first = None
    sizes = {}
    for name, path in paths.items():
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        tmp = "%s.tmp-%d" % (path, os.getpid())
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        try:
            data = os.path.join(tmp, "shared.pkl")
            if first is None:
                with open(data, "wb") as f:
                    saved = {n: _saved(v, n) for n, v in values.items()}
                    _pickler_for(saved, f).dump(saved)
            else:
                try:
                    os.link(first, data)
                except OSError:
                    shutil.copyfile(first, data)
            meta = {"format": "shared", "bundle": bundle, "members": sorted(values), "type": _type_name(values[name]), "variable": name}
            _publish(tmp, path, meta)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if first is None:
            first = os.path.join(path, "shared.pkl")
        sizes[name] = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    return sizes


_bundles = {}


def load_value(path):
    with open(os.path.join(path, FORMAT_FILE), encoding="utf-8") as f:
        meta = json.load(f)
    fmt = meta["format"]
    if fmt == "shared":
        values = _bundles.get(meta["bundle"])
        if values is None:
            with open(os.path.join(path, "shared.pkl"), "rb") as f:
                values = _bundles[meta["bundle"]] = _unpickle(f)
        return values[meta["variable"]]
    if fmt == "json":
        with open(os.path.join(path, "value.json"), encoding="utf-8") as f:
            return json.load(f)
    if fmt == "module":
        with open(os.path.join(path, "value.json"), encoding="utf-8") as f:
            return importlib.import_module(json.load(f))
    if fmt == "npy":
        array = _load_npy(os.path.join(path, "value.npy"))
        if "view" in meta:
            shape, dtype, offset, strides = meta["view"]
            return _make_view(array, tuple(shape), dtype, offset, tuple(strides))
        return array
    if fmt == "pandas":
        if meta.get("buffers") is not None:
            return _load_out_of_band(os.path.join(path, "value.pkl"), os.path.join(path, "value.buffers"), meta["buffers"])
        import pandas

        return pandas.read_pickle(os.path.join(path, "value.pkl"))
    if fmt == "torch":
        import torch

        return torch.load(os.path.join(path, "value.pt"), weights_only=False)
    if fmt == "joblib":
        import joblib

        return joblib.load(os.path.join(path, "value.joblib"))
    with open(os.path.join(path, "value.pkl"), "rb") as f:
        return _unpickle(f)


# ---- parameters ---------------------------------------------------------------------------------


def convert_parameter(name, kind, text):
    try:
        if kind == "int":
            return int(float(text)) if "." in text or "e" in text.lower() else int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            lowered = text.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError("expected true or false")
        if kind in ("list", "dict"):
            value = json.loads(text)
            if kind == "list" and not isinstance(value, list) or kind == "dict" and not isinstance(value, dict):
                raise ValueError("expected a JSON %s" % kind)
            return value
        return text
    except ValueError as e:
        raise StepError(
            "bad-parameter",
            "Parameter %s=%r is not a valid %s (%s). Fix: pass a %s value, e.g. -p %s=..."
            % (name, text, kind, e, kind, name),
        )


# ---- running cells ------------------------------------------------------------------------------


def _cell_file(index):
    """A cell's frames are named as a person sees the cell numbered: 1-based (`<cell 13>` is
    "Cell 13 of 18" in VS Code); `index` and what results carry are 0-based."""
    return "<cell %d>" % (index + 1)


def _notebook_code(code):
    """Whether a code object is the notebook's (compiled from one of its cells)."""
    name = code.co_filename
    return name.startswith("<cell ") and name.endswith(">")


def _location(tb):
    """The innermost notebook-cell frame of a traceback: (0-based cell index, line)."""
    found = (None, None)
    for frame, line in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        if name.startswith("<cell ") and name.endswith(">"):
            found = (int(name[6:-1]) - 1, line)
    return found


def _user_traceback(exc):
    """The traceback without the runtime's own frames, as the user would see it in Jupyter."""
    frames = traceback.extract_tb(exc.__traceback__)
    kept = [f for f in frames if not f.filename.startswith("<cellflow")]
    lines = ["Traceback (most recent call last):\n"]
    lines += traceback.format_list(kept)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def _missing_module_fix(exc):
    top = (exc.name or "").split(".")[0]
    apt, pip = PIP_NAMES.get(top, (None, top))
    options = []
    if apt:
        options.append("`sudo apt-get install %s`" % apt)
    options.append("`python3 -m pip install %s`" % pip)
    return (
        "Fix: install it for the interpreter that runs steps (%s), or choose it with --python; "
        "on a cluster use an image that has it (tag `image:REF`)." % " or ".join(options)
    )


def _unsatisfied(packages):
    """The requirements the image does not already satisfy (an installed distribution of the name,
    in the version range when `packaging` can tell); pip is asked only for those."""
    from importlib import metadata

    unsatisfied = []
    for requirement in packages:
        cut = min([i for i, c in enumerate(requirement) if c in "[=!<>~"] or [len(requirement)])
        name, rest = requirement[:cut], requirement[cut:]
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            unsatisfied.append(requirement)
            continue
        if rest.startswith("["):
            unsatisfied.append(requirement)
        elif rest:
            try:
                from packaging.specifiers import SpecifierSet
            except ImportError:
                unsatisfied.append(requirement)
                continue
            if version not in SpecifierSet(rest):
                unsatisfied.append(requirement)
    return unsatisfied


def _install_packages(step, packages):
    """pip-installs the step's `packages:` before its code runs, as KFP's packages_to_install does."""
    packages = _unsatisfied(packages)
    if not packages:
        return
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-warn-script-location",
               "--disable-pip-version-check", *packages]
    print("Cellflow: installing %s" % " ".join(packages), flush=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stdout.strip().splitlines()[-5:])
        raise StepError(
            "packages",
            "Step `%s` could not install its packages (%s): pip exited with %d:\n%s\n"
            "Fix: check the names and versions in the `packages:` tags (or metadata.cellflow.packages), "
            "or choose an image that has them (tag `image:REF`)." % (step, ", ".join(packages), done.returncode, tail),
        )
    importlib.invalidate_caches()


# ---- cell outputs, as a Jupyter kernel records them (nbformat 4) ---------------------------------
# A cell keeps at most CELL_OUTPUT_LIMIT characters of outputs, a step STEP_OUTPUT_LIMIT; what does
# not fit is left out, with a note saying how much.
CELL_OUTPUT_LIMIT = 1 << 20
STEP_OUTPUT_LIMIT = 8 << 20
ERROR_ROOM = 16 << 10
_cell_outputs = []  # {"cell": N, "outputs": [...]} per cell the step ran, in order
_current = []  # the running cell's _Outputs
_room = [STEP_OUTPUT_LIMIT]
_formatter = []
_REPRS = (("text/html", "_repr_html_"), ("text/markdown", "_repr_markdown_"), ("image/svg+xml", "_repr_svg_"), ("image/png", "_repr_png_"), ("image/jpeg", "_repr_jpeg_"), ("text/latex", "_repr_latex_"), ("application/json", "_repr_json_"))


def _carriage_returns(text):
    """A cell's stream text as Jupyter keeps it: what a carriage return goes back over on its line
    is gone (a progress bar shows its last state). The step's log keeps all of it. Line by line,
    in one pass: a line keeps what follows its last carriage return that has something after it."""
    if "\r" not in text:
        return text
    lines = text.split("\n")
    for k, line in enumerate(lines):
        at = line.rfind("\r", 0, len(line) - 1)
        if at != -1:
            lines[k] = line[at + 1 :]
    return "\n".join(lines)


class _Outputs:
    def __init__(self, cell):
        self.cell, self.items, self.cut = cell, [], 0
        self.room = min(CELL_OUTPUT_LIMIT, _room[0])
        self.printed = {"stdout": [], "stderr": []}
        self.capturing = None  # (CapturedOutput, what it takes) after `%%capture`
        self.clear_waiting = False  # `clear_output(wait=True)`: cleared by the next output

    def clear(self):
        self.items, self.clear_waiting = [], False
        self.printed = {"stdout": [], "stderr": []}

    def _take(self, size):
        if size > self.room:
            self.cut += size
            return False
        self.room -= size
        _room[0] -= size
        return True

    def add(self, output, size=0):
        _descriptor_output()
        if self.capturing is not None and self.capturing[1]["display"]:
            self.capturing[0].outputs.append(CapturedDisplay(output["data"], output["metadata"]))
            return
        if self.clear_waiting:
            self.clear()
        if self._take(size):
            self.items.append(output)
            return
        # Too large with its other forms (a picture of a megabyte): its text still shows.
        data = output.get("data")
        text = data.get("text/plain") if isinstance(data, dict) else None
        if text is not None:
            small = len(text) if isinstance(text, str) else sum(map(len, text))
            self.cut -= small
            if self._take(small):
                meta = {k: v for k, v in output.get("metadata", {}).items() if k == "text/plain"}
                self.items.append(dict(output, data={"text/plain": text}, metadata=meta))

    def stream(self, name, text):
        if self.capturing is not None and self.capturing[1][name]:
            self.capturing[0]._streams[name].append(text)
            return
        if self.clear_waiting:
            self.clear()
        self.printed[name].append(text)
        text, cut = text[: self.room], text[self.room :]
        self.cut += len(cut)
        if not text or not self._take(len(text)):
            return
        last = self.items[-1] if self.items else {}
        if last.get("name") == name:
            last["text"].append(text)
        else:
            self.items.append({"output_type": "stream", "name": name, "text": [text]})

    def error(self, failed):
        """The cell's error: always kept, its message and traceback cut to the room left (at least
        ERROR_ROOM characters each, the traceback's last lines)."""
        room = max(self.room, ERROR_ROOM)
        evalue, lines = str(failed), _user_traceback(failed).splitlines()
        if len(evalue) > room:
            self.cut += len(evalue) - room
            evalue = evalue[:room]
        while len(lines) > 1 and sum(map(len, lines)) > room:
            self.cut += len(lines.pop(0))
        self.items.append({"output_type": "error", "ename": type(failed).__name__, "evalue": evalue, "traceback": lines})

    def done(self):
        for o in self.items:
            if o["output_type"] == "stream":
                o["text"] = _carriage_returns("".join(o["text"]))
        if self.cut:
            note = "Cellflow: %d characters of this cell's outputs were left out (a cell keeps %d KiB of outputs, a step %d MiB).\n"
            self.items.append({"output_type": "stream", "name": "stderr", "text": note % (self.cut, CELL_OUTPUT_LIMIT >> 10, STEP_OUTPUT_LIMIT >> 20)})
        _cell_outputs.append({"cell": self.cell, "outputs": self.items})


def _plain_bundle(obj):
    data, meta = {}, {}
    if not isinstance(obj, type):
        method = getattr(obj, "_repr_mimebundle_", None)
        got = method(include=None, exclude=None) if callable(method) else None
        if isinstance(got, tuple):
            got, meta = got
        data.update(got or {})
        for mime, name in _REPRS:
            method = getattr(obj, name, None)
            if mime not in data and callable(method):
                value = method()
                if isinstance(value, tuple):
                    value, meta[mime] = value
                if value is not None:
                    data[mime] = value
    data.setdefault("text/plain", repr(obj))
    return data, meta


def _display_formatter():
    """IPython's display formatter, which makes every output Jupyter shows (`str` for a type, long
    lists wrapped at 79 columns, sets sorted, ...), when IPython is installed; None without it. The
    local step host loads it ahead; elsewhere the first output pays for the import (about 1 s)."""
    if not _formatter:
        try:
            from IPython.core.formatters import DisplayFormatter

            _formatter.append(DisplayFormatter())
        except Exception:
            _formatter.append(None)
    return _formatter[0]


def _bundle(obj):
    """`obj` by MIME type as Jupyter shows it: a matplotlib figure as a PNG; IPython's display
    formatter when IPython is installed, else the same `_repr_*_` protocol in plain form."""
    try:
        if type(obj).__name__ == "Figure" and type(obj).__module__ == "matplotlib.figure":
            import io

            buffer = io.BytesIO()
            obj.savefig(buffer, format="png", bbox_inches="tight")
            data, meta = {"image/png": buffer.getvalue(), "text/plain": repr(obj)}, {}
        elif _display_formatter() is not None:
            data, meta = _formatter[0].format(obj)
        else:
            data, meta = _plain_bundle(obj)
    except Exception:
        data, meta = {"text/plain": object.__repr__(obj)}, {}
    return _normalized(data), meta


def _normalized(data):
    """A MIME bundle as nbformat keeps it: images base64, other bytes as text."""
    import base64

    data = dict(data)
    for mime, value in list(data.items()):
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode() if mime.startswith("image/") else value.decode("utf-8", "replace")
        elif "json" not in mime and not isinstance(value, str):
            value = str(value)
        data[mime] = value
    return data


def _show(obj, result=False):
    """Records `obj` as a display (or the cell's result) of the running cell; False between cells."""
    if not _current:
        return False
    data, meta = _bundle(obj)
    if data:  # none when the object showed itself (`_ipython_display_`): IPython shows no result
        _record(data, meta, result=result)
    return True


def _record(data, meta, result=False):
    output = {"output_type": "execute_result", "execution_count": None} if result else {"output_type": "display_data"}
    output.update(data=data, metadata=meta)
    _current[-1].add(output, sum(len(v) if isinstance(v, str) else len(json.dumps(v, default=str)) for v in data.values()))


def _echo(text):
    """Writes display text to the step's log only (a display is not the cell's stream output)."""
    stream = sys.stdout
    (stream.log if isinstance(stream, _CellStream) else stream.write)(text + "\n")


def _display(*objects, display_id=None, **kwargs):
    if kwargs.get("update") and _current:
        return None  # Jupyter changes the earlier output in place: nothing new in this cell
    for o in objects:
        if _show(o):
            _echo(o if isinstance(o, str) else repr(o))
        else:
            print(repr(o) if not isinstance(o, str) else o)
    return _display_handle(display_id)


def _display_handle(display_id):
    """What IPython's `display(..., display_id=...)` returns: a handle whose `display` and
    `update` go on with that display (`True` makes a new id)."""
    if not display_id:
        return None
    try:
        from IPython.core import display_functions
    except ImportError:
        return None
    return display_functions.DisplayHandle(display_functions._new_id() if display_id is True else display_id)


def _clear_output(wait=False):
    """IPython's `clear_output` in a step: the running cell's outputs so far are dropped (with
    `wait`, once the next output comes), as Jupyter drops them."""
    if not _current:
        return
    _descriptor_output()
    if wait:
        _current[-1].clear_waiting = True
    else:
        _current[-1].clear()


def _ipython_print(*objects, **kwargs):
    """IPython's `display()` outside IPython prints its arguments: recorded as displays instead."""
    if kwargs or not _current:
        return print(*objects, **kwargs)
    for o in objects:
        _show(o)
    _echo(" ".join(map(str, objects)))


def _flush_figures():
    """`plt.show()`, and the end of a cell: each open figure becomes an image output and is closed,
    as Jupyter's inline backend does."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None or not _current:
        return
    for number in pyplot.get_fignums():
        _show(pyplot.figure(number))
    pyplot.close("all")


def _patch(module):
    name = module.__name__
    if name == "matplotlib.pyplot" and not hasattr(module.show, "cellflow"):
        show = module.show

        def shown(*args, **kwargs):
            return _flush_figures() if _current else show(*args, **kwargs)

        shown.cellflow = module.show = shown
    elif name == "pandas" and getattr(module, "get_option", None) and module.get_option("display.max_columns") == 0:
        # pandas chose its display when imported: outside a Jupyter kernel it fits a frame to the
        # terminal, leaving columns out ("..."); a kernel shows up to 20 columns, wrapped.
        module.set_option("display.max_columns", 20)
        try:
            from pandas._config import config

            registered = config._registered_options["display.max_columns"]
            config._registered_options["display.max_columns"] = registered._replace(defval=20)
        except Exception:
            pass  # reset_option gives pandas's own default
    elif name == "IPython.core.display_functions" and not hasattr(module.display, "cellflow"):
        module.print = _ipython_print
        module.clear_output = _clear_output
        display = module.display

        def displayed(*objects, display_id=None, **kwargs):
            if not _current:
                return display(*objects, display_id=display_id, **kwargs)
            if kwargs.get("update"):
                return None  # Jupyter changes the earlier output in place: nothing new here
            shown = display(*objects, display_id=display_id, **kwargs)
            return shown if shown is not None else _display_handle(display_id)

        displayed.__doc__ = display.__doc__
        displayed.cellflow = module.display = displayed
    elif name == "IPython.display":
        module.clear_output = _clear_output
        functions = sys.modules.get("IPython.core.display_functions")
        if functions is not None and hasattr(functions.display, "cellflow"):
            module.display = functions.display
    elif name == "IPython.core.displaypub" and not hasattr(module.DisplayPublisher.publish, "cellflow"):
        # An IPython shell made in the step (`set_matplotlib_formats` makes one) publishes displays.
        publish = module.DisplayPublisher.publish

        def published(self, data, metadata=None, *args, **kwargs):
            if not _current:
                return publish(self, data, metadata, *args, **kwargs)
            _record(_normalized(data), metadata or {})
            _echo(str(data.get("text/plain", "")))

        published.cellflow = module.DisplayPublisher.publish = published


_PATCHED = ("matplotlib.pyplot", "pandas", "IPython.core.display_functions", "IPython.core.displaypub", "IPython.display")


class _PatchOnImport:
    """Patches matplotlib.pyplot's `show`, pandas's display and IPython's `display` and
    `clear_output` when a cell imports them."""

    def find_spec(self, name, path, target=None):
        if name not in _PATCHED:
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and hasattr(spec.loader, "exec_module"):
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                _patch(module)

            spec.loader.exec_module = exec_module
        return spec


class _Shell:
    """What `get_ipython()` gives a step's code: the shell calls notebooks (and scripts exported
    from them) make, done as the step's `!cmd` and magics are; anything else does nothing. It is
    named as a Jupyter kernel's shell, so libraries that ask format for Jupyter (pandas does not
    wrap a categorical's categories there), as the step's outputs are."""

    __module__ = "ipykernel.zmqshell"
    __qualname__ = "ZMQInteractiveShell"

    def __reduce__(self):
        return _the_shell, ()

    def system(self, command):
        shell(command, terminal=True)

    @property
    def display_formatter(self):
        """IPython's formatter the step's outputs go through (sympy's `init_printing` adds to it)."""
        return _display_formatter() or _Nothing()

    def getoutput(self, command):
        return shell_lines(command)

    def register_magic_function(self, func, magic_kind="line", magic_name=None):
        _register_magic(func, magic_kind, magic_name)

    def run_line_magic(self, name, line, *_):
        if ("line", name) in _magics:
            return _magics[("line", name)](line)
        if name in ("pip", "conda"):
            shell("%s %s" % (name, line), terminal=True)
        elif name in ("sx", "system"):
            return shell_lines(line)
        elif name == "pwd":
            return os.getcwd()
        elif name == "env" and "=" not in line:
            return os.environ.get(line.strip()) if line.strip() else dict(os.environ)
        elif name == "cd":
            chdir(line.strip())
        elif name == "env" and "=" in line:
            set_env(*(p.strip() for p in line.split("=", 1)))

    def run_cell_magic(self, name, line, cell):
        if ("cell", name) in _magics:
            return _magics[("cell", name)](line, cell)
        if name in ("bash", "sh", "script", "system"):
            shell(cell, shell=name if name in ("bash", "sh") else (line.split() or ["sh"])[0])
        elif name == "capture":
            words = line.split()
            captured = capture(*("--no-%s" % kind not in words for kind in ("stdout", "stderr", "display")))
            name = next((w for w in words if not w.startswith("-")), None)
            if name is not None:
                sys._getframe(1).f_globals[name] = captured
            exec(cell, sys._getframe(1).f_globals)
        elif name == "writefile":
            words = line.split()
            append = "-a" in words or "--append" in words
            write_file(" ".join(w for w in words if w not in ("-a", "--append")), cell + "\n", append)
        elif name in ("time", "prun", "timeit"):
            exec(cell, sys._getframe(1).f_globals if name != "timeit" else dict(sys._getframe(1).f_globals))

    def magic(self, line):
        name, _, rest = line.lstrip("%").partition(" ")
        return self.run_line_magic(name, rest)

    def __getattr__(self, _name):
        return _Nothing()


class _Nothing:
    def __getattr__(self, _name):
        return self

    def __getitem__(self, _key):
        return self

    def __call__(self, *_args, **_kwargs):
        return None


_Shell.__name__ = "ZMQInteractiveShell"
_shell = _Shell()


def _the_shell():
    return _shell


def _capture_outputs():
    """Displays and figures become cell outputs; matplotlib draws off screen (Agg), never a window."""
    if not hasattr(builtins, "display"):
        builtins.display = _display
    if not hasattr(builtins, "get_ipython"):
        builtins.get_ipython = lambda: _shell
    for name in _PATCHED:
        if name in sys.modules:
            _patch(sys.modules[name])
    sys.meta_path.insert(0, _PatchOnImport())
    _capture_descriptors()
    _cell_streams()
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("agg")
    else:
        os.environ["MPLBACKEND"] = "agg"


class _CellStream:
    """sys.stdout/sys.stderr for the whole step, as a kernel's streams are: text goes to the step's
    log as it is written, and a copy to the outputs of the cell running then. So a stream kept from
    an earlier cell (`logging.basicConfig(stream=sys.stdout)`) writes into the cell that logs."""

    def __init__(self, stream, name):
        self._stream = stream
        self._name = name
        self._line_start = True

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        if _current:
            # What was written below Python comes first, at the start of a line (not inside one).
            if self._line_start and _descriptor_pipes:
                _descriptor_output(self._name)
            self._line_start = text.endswith("\n")
            _current[-1].stream(self._name, text)
        return self._stream.write(text)

    def log(self, text):
        self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _cell_streams():
    """Puts the cell streams in place (again, when a cell replaced sys.stdout or sys.stderr)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, _CellStream):
            continue
        for pipe in _descriptor_pipes:
            if pipe.name == name and stream is pipe.replaced:
                stream = pipe.stream  # `sys.stdout = sys.__stdout__`: its descriptor is a pipe now
        setattr(sys, name, _CellStream(stream, name))


# ---- output written to descriptors 1 and 2 ----------------------------------------------------
# Libraries write below Python, straight to the process's stdout and stderr (C's printf, Fortran's
# WRITE as in scipy's L-BFGS-B, libsvm's verbose mode, the programs os.system starts). A kernel
# captures that output into the running cell, and so does a step: each descriptor becomes a pipe.
# What comes through goes to the step's log at once and into the running cell's outputs; Python's
# own writes go to the log directly, as before. The pipe is read (under a lock, so in order) by a
# thread whenever something arrives, and by the step before each write from Python and at the
# cell's end: output the process wrote before that point is in the cell before what follows.
_descriptor_pipes = []
_c_flush = []


def _write_fully(fd, data):
    while data:
        data = data[os.write(fd, data) :]


class _DescriptorPipe:
    def __init__(self, fd, name):
        import codecs
        import threading

        self.fd, self.name = fd, name
        self.replaced = getattr(sys, name)
        self.replaced.flush()
        self.log = os.dup(fd)
        self.stream = os.fdopen(self.log, "w", buffering=1, encoding=self.replaced.encoding, errors=self.replaced.errors, closefd=False)
        self.stream.reconfigure(write_through=True)
        self.pending, self.held, self.dropped = [], 0, 0
        self.lock = threading.Lock()
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.read, write = os.pipe()
        self.unread = None  # how many bytes the pipe holds (FIONREAD), where the system says
        try:
            import array
            import fcntl
            import termios

            fcntl.fcntl(write, 1031, 1 << 20)  # F_SETPIPE_SZ: room for bursts while the reader waits
            count = array.array("i", [0])

            def unread():
                fcntl.ioctl(self.read, termios.FIONREAD, count, True)
                return count[0]

            unread()
            self.unread = unread
        except (ImportError, OSError, AttributeError):
            pass
        os.set_blocking(self.read, False)
        threading.Thread(target=self._pump, name="cellflow-" + name, daemon=True).start()
        os.dup2(write, fd)  # last: the descriptor becomes a pipe only once something reads it
        os.close(write)

    def _pump(self):
        import select

        while True:
            try:
                select.select([self.read], [], [])
            except InterruptedError:
                continue
            except (OSError, ValueError):
                return
            with self.lock:
                if not self._read_all():
                    return

    def _read_all(self):
        """Reads what the pipe holds (under the lock) into the log and `pending`; False once every
        writer has closed it."""
        while True:
            try:
                chunk = os.read(self.read, 1 << 16)
            except BlockingIOError:
                return True
            except InterruptedError:
                continue
            except OSError:
                return False
            if not chunk:
                return False
            try:
                _write_fully(self.log, chunk)
            except OSError:
                pass
            if self.held < 4 * CELL_OUTPUT_LIMIT:  # more than a cell keeps: counted, not held
                self.pending.append(chunk)
                self.held += len(chunk)
            else:
                self.dropped += len(chunk)
            if len(chunk) < 1 << 16:
                return True  # the pipe was empty after this

    def take(self):
        """The text written to the descriptor so far and not yet taken, and how many bytes of it
        were too many to hold."""
        # Nothing to take unless the pipe holds something, the thread is reading it, or it has
        # read something: a system call, cheaper than reading an empty pipe (every Python write).
        if not self.pending and self.unread is not None and not self.lock.locked() and not self.unread():
            return "", 0
        with self.lock:
            self._read_all()
            data, dropped = b"".join(self.pending), self.dropped
            self.pending, self.held, self.dropped = [], 0, 0
        return (self.decoder.decode(data) if data else ""), dropped

    def restore(self):
        self.stream.flush()
        os.dup2(self.log, self.fd)


def _capture_descriptors():
    """Makes descriptors 1 and 2 pipes read into the step's log and the running cell. Done before
    the cells import anything: a library decides once, as it loads, how to write to them (Fortran
    writes a pipe at once and buffers a file)."""
    if _descriptor_pipes or os.name != "posix":
        return
    for fd, name in ((1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            pipe = _DescriptorPipe(fd, name)
        except Exception:
            continue
        _descriptor_pipes.append(pipe)
        setattr(sys, name, pipe.stream)


def _descriptor_output(name=None, flush=False):
    """Moves what was written to descriptors 1 and 2 (or only the one `name` writes to) into the
    running cell's outputs; with `flush`, what C's stdio buffers held too."""
    if flush and _descriptor_pipes:
        if not _c_flush:
            try:
                import ctypes

                _c_flush.append(ctypes.CDLL(None).fflush)
            except Exception:
                _c_flush.append(None)
        if _c_flush[0] is not None:
            _c_flush[0](None)
    for pipe in _descriptor_pipes:
        if name is None or pipe.name == name:
            text, dropped = pipe.take()
            if _current:
                if text:
                    _current[-1].stream(pipe.name, text)
                _current[-1].cut += dropped


def _release_descriptors():
    """At the step's end: what is still in the pipes goes to the log, and descriptors 1 and 2 write
    to it directly again."""
    _descriptor_output(flush=True)
    while _descriptor_pipes:
        _descriptor_pipes.pop().restore()


# Cells may `await` at the top level, as IPython lets them: such code runs on the step's event loop.
_TOP_LEVEL_AWAIT = 0x2000  # ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
# The `from __future__ import ...` features the notebook's code has run so far: IPython compiles
# every later cell with them (as `codeop` does), and a step does too. An earlier step's import comes
# as a unit run again first.
_future_flags = [0]
_FUTURE_MASK = 0x1000000 | 0x800000 | 0x400000 | 0x200000 | 0x100000 | 0x80000 | 0x40000 | 0x20000


def _compile(source, filename, mode, flags=0):
    """`compile`, with the notebook's `__future__` features (see `_future_flags`), noting new ones."""
    code = compile(source, filename, mode, flags | _future_flags[0], True)
    if not flags & 0x400:  # ast.PyCF_ONLY_AST
        _future_flags[0] |= code.co_flags & _FUTURE_MASK
    return code
_loop = []


def _run_code(code, namespace):
    result = eval(code, namespace)
    if code.co_flags & 0x80:  # inspect.CO_COROUTINE: the code awaits
        if not _loop:
            import asyncio

            _loop.append(asyncio.new_event_loop())
        result = _loop[0].run_until_complete(result)
    return result


def _shortened(text, limit):
    """`text`, or its start and end with a note of how much was left out between them."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return "%s\n... (%d characters left out) ...\n%s" % (text[:half], len(text) - 2 * half, text[-half:])


def _format_time(seconds):
    """A duration as IPython's `%%time` writes it (`1.2 s`, `345 ms`, `12 µs`, `1min 5s`)."""
    if seconds >= 60.0:
        parts = []
        for suffix, length in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
            value = int(seconds // length)
            if value > 0:
                seconds %= length
                parts.append("%d%s" % (value, suffix))
            if seconds < 1:
                break
        return " ".join(parts)
    import math

    order = min(-int(math.floor(math.log10(seconds)) // 3), 3) if seconds > 0 else 3
    return "%.*g %s" % (3, seconds * 1000**order, ("s", "ms", "\u00b5s", "ns")[order])


# What a Jupyter kernel's `sys.argv[0]` is (code that checks for a notebook reads it).
_KERNEL_LAUNCHER = os.path.join(os.path.dirname(os.__file__), "site-packages", "ipykernel_launcher.py")


def _cpu_times():
    """The process's user and system CPU seconds, to the microsecond where the system counts
    them so (as IPython's `%time` reads them), else to its clock ticks."""
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime, usage.ru_stime
    except (ImportError, OSError):
        times = os.times()
        return times.user, times.system


def _print_times(start, per_loop=False):
    """What `%time` prints once its code ran; with `per_loop`, what `%timeit` prints: the code ran
    once (what it does happens once, and the step does not take IPython's many runs)."""
    wall, cpu, counter = start
    if per_loop:
        elapsed = _format_time(time.perf_counter() - counter)
        print("%s \u00b1 %s per loop (mean \u00b1 std. dev. of 1 run, 1 loop each)" % (elapsed, _format_time(0)))
        return
    elapsed = time.time() - wall
    now = _cpu_times()
    user, system = now[0] - cpu[0], now[1] - cpu[1]
    print("CPU times: user %s, sys: %s, total: %s" % (_format_time(user), _format_time(system), _format_time(user + system)))
    print("Wall time: %s" % _format_time(elapsed))


def _silenced(code, node):
    """A trailing `;` hides a cell's value, as in Jupyter."""
    line = code.splitlines()[node.end_lineno - 1].encode()
    return line[node.end_col_offset :].decode("utf-8", "replace").lstrip().startswith(";")


# IPython's `_`, `__` and `___` as its display hook keeps them: the last three values cells showed.
_SHOWN = ("_", "__", "___")
_shown = ["", "", ""]


def _start_shown(namespace):
    """The step begins where the pipeline's steps before it left `_`, `__` and `___` ('' if none)."""
    for name, kept in zip(_SHOWN, _shown):
        namespace.setdefault(name, kept)
    _shown[:] = [namespace[name] for name in _SHOWN]


def _show_result(namespace, value, outputs):
    """A value the cell shows as its result; it moves `_` on, unless `%%capture` keeps it."""
    _show(value, result=True)
    if outputs.capturing is None or not outputs.capturing[1]["display"]:
        _keep_shown(namespace, value)


def _keep_shown(namespace, value):
    """After a cell shows `value`: the names move on, unless the code bound one of them itself,
    as `for _ in range(3)` does, after which IPython leaves them to it."""
    mine = all(namespace.get(name) is kept for name, kept in zip(_SHOWN, _shown) if name in namespace)
    _shown[:] = [value, _shown[0], _shown[1]]
    if mine:
        namespace.update(zip(_SHOWN, _shown))


_INTERACTIVITY = ("all", "last", "last_expr", "none", "last_expr_or_assign")


def _interactivity(tree):
    """Which statements of a cell show their values: IPython's `ast_node_interactivity` as the
    notebook set it (on `get_ipython()`, on IPython's `InteractiveShell`, or by `%config`), else
    the last one if it is an expression. `last_expr_or_assign` is made `last_expr` here by adding
    the name a last assignment binds as the cell's last expression, as IPython does."""
    import ast

    mode = _shell.__dict__.get("ast_node_interactivity")
    if mode is None:
        shell_class = getattr(sys.modules.get("IPython.core.interactiveshell"), "InteractiveShell", None)
        mode = getattr(shell_class, "ast_node_interactivity", None)
    if mode not in _INTERACTIVITY:
        return "last_expr"
    if mode == "last_expr_or_assign" and tree.body:
        last = tree.body[-1]
        target = last.targets[0] if isinstance(last, ast.Assign) and len(last.targets) == 1 else getattr(last, "target", None)
        if isinstance(last, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and isinstance(target, ast.Name):
            tree.body.append(ast.copy_location(ast.Expr(ast.Name(target.id, ast.Load())), last))
            ast.fix_missing_locations(tree)
        return "last_expr"
    return mode


def _ends_quiet(code):
    """IPython shows nothing of a cell whose last token is `;`."""
    import io
    import tokenize

    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    skipped = (tokenize.ENDMARKER, tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)
    last = next((t for t in reversed(tokens) if t.type not in skipped), None)
    return last is not None and last.type == tokenize.OP and last.string == ";"


def _run_shown(codes, namespace, outputs):
    """Runs statements compiled as IPython runs a cell's interactive ones: each expression
    statement's value, also inside loops and blocks, is a result of the cell and moves `_` on."""

    def shown(value):
        if value is not None:
            _show_result(namespace, value, outputs)

    hook = sys.displayhook
    sys.displayhook = shown
    try:
        for code in codes:
            _run_code(code, namespace)
    finally:
        sys.displayhook = hook


def _future_first(tree):
    """IPython compiles a cell statement by statement, so `from __future__ import ...` may come
    anywhere in it: it goes first here, where Python wants it."""
    import ast

    future = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
    if future:
        tree.body = future + [n for n in tree.body if not any(n is f for f in future)]
    return tree


def run_cell(namespace, index, code, record=None):
    """Runs one cell's code in `namespace`; `record` (a list) gets the cell's printed output, and
    the step's cell outputs get everything it shows (streams, displays, its value, figures, its
    error)."""
    linecache.cache[_cell_file(index)] = (len(code), None, code.splitlines(True), _cell_file(index))
    import ast

    if record is None:
        source = _future_first(compile(code, _cell_file(index), "exec", ast.PyCF_ONLY_AST)) if "__future__" in code else code
        _run_code(_compile(source, _cell_file(index), "exec", _TOP_LEVEL_AWAIT), namespace)
        return
    tree = _future_first(compile(code, _cell_file(index), "exec", ast.PyCF_ONLY_AST))
    value = None
    mode = _interactivity(tree)
    shown = []  # statements that show each expression's value, as IPython runs them ("single")
    if mode == "last_expr" and tree.body and isinstance(tree.body[-1], ast.Expr) and not _silenced(code, tree.body[-1]):
        value = _compile(ast.Expression(tree.body.pop().value), _cell_file(index), "eval", _TOP_LEVEL_AWAIT)
    elif mode in ("last", "all") and tree.body and not _ends_quiet(code):
        nodes = tree.body[-1:] if mode == "last" else tree.body
        shown = [_compile(ast.Interactive([n]), _cell_file(index), "single", _TOP_LEVEL_AWAIT) for n in nodes]
        del tree.body[len(tree.body) - len(nodes) :]
    compiled = _compile(tree, _cell_file(index), "exec", _TOP_LEVEL_AWAIT)
    _cell_streams()
    outputs = _Outputs(index)
    _current.append(outputs)
    failed = None
    first_line = code.lstrip().split("\n", 1)[0]
    per_loop = first_line.startswith("class _cellflow_timeit:  # %%timeit")
    clocks = (per_loop or first_line.split() == ["#", "%%time"]) and time_start()
    try:
        _run_code(compiled, namespace)
        if shown:
            _run_shown(shown, namespace, outputs)
        if value is not None:
            value = _run_code(value, namespace)
        _descriptor_output(flush=True)
        if clocks:
            _print_times(clocks, per_loop)
        if value is not None:
            _show_result(namespace, value, outputs)
    except BaseException as e:
        failed = e
        raise
    finally:
        _descriptor_output(flush=failed is not None)
        try:
            _flush_figures()
        except Exception:
            pass
        if failed is not None and not (isinstance(failed, SystemExit) and failed.code in (None, 0)):
            outputs.error(failed)
        _current.pop()
        outputs.done()
        printed = outputs.printed
        record.append({"cell": index, "stdout": _carriage_returns("".join(printed["stdout"])), "stderr": _carriage_returns("".join(printed["stderr"]))})


def _random_state(loaded):
    """The global random generators' state: `random`'s, and numpy's once numpy is imported."""
    import random

    state = {"random": random.getstate()}
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        state["numpy"] = numpy.random.get_state()
    elif loaded and "numpy" in loaded:
        state["numpy"] = loaded["numpy"]
    return state


def _set_random_state(state):
    import random

    random.setstate(state["random"])
    if "numpy" in state:
        try:
            import numpy
        except ImportError:
            return
        numpy.random.set_state(state["numpy"])


def _unpicklable_fix(value):
    """How to keep a value that cannot be saved out of the data that crosses steps."""
    import io
    import types

    if isinstance(value, (types.GeneratorType, types.AsyncGeneratorType)) or type(value).__name__.endswith("iterator"):
        return "turn it into a list where it is made (`x = list(...)`), or create it in the step that uses it"
    if isinstance(value, io.IOBase) or hasattr(value, "fileno") and hasattr(value, "read"):
        return "keep the file's path in a variable and open the file in the step that reads it"
    if isinstance(value, types.FunctionType) and value.__name__ == "<lambda>":
        return "define the function with `def` at the top level of a cell, so later steps run its definition"
    kind = type(value).__name__.lower()
    if "lock" in kind or "thread" in kind or "event" in kind or "semaphore" in kind:
        return "create it in the step that uses it"
    if "connection" in kind or "cursor" in kind or "socket" in kind or "session" in kind or "engine" in kind or "client" in kind:
        return "keep the connection settings in variables and connect again in the step that uses it"
    return "keep only picklable values in variables that later steps use, or create this one in the step that uses it"


def _unpicklable_value(namespace, paths):
    """Which of several variables saved together cannot be pickled."""
    for name in paths:
        try:
            pickle.dumps(namespace[name], protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return name
    return next(iter(paths))


# A unit that is one `def` or `class` statement, decorated or not.
_DEFINITION_START = re.compile(r"\s*(@|def\s|async\s+def\s|class\s)")


class _StepCode:
    """Runs the units (imports, definitions, configuration from earlier cells) a step needs, and
    loads its inputs, each once, in the order they need each other."""

    def __init__(self, namespace, units, inputs, paths, step):
        self.namespace = namespace
        self.units = units
        self.inputs = inputs
        self.paths = paths
        self.step = step
        self.done = set()
        self.ran = set()  # of `done`, those whose own code ran (the rest wait on what they need)
        self.loaded = {}
        self.random_state = None

    def run(self, index):
        if index in self.done:
            return
        self.done.add(index)
        unit = self.units[index]
        for need in unit.get("needs", ()):
            self.run(need)
        for name in unit.get("inputs", ()):
            self.load(name)
        if index not in self.ran:
            self._execute(index)

    def _execute(self, index):
        self.ran.add(index)
        unit = self.units[index]
        filename = _cell_file(unit["cell"])
        padded = "\n" * (unit["line"] - 1) + unit["code"]
        if filename not in linecache.cache:
            linecache.cache[filename] = (len(padded), None, padded.splitlines(True), filename)
        code = _compile(padded, filename, "exec")
        for _ in range(len(self.units)):
            try:
                self._run_again(unit, code)
                break
            except NameError as e:
                # A definition it reads as it runs (`def f() -> {Coins}`) waits on this one (the
                # `Coins` that calls `f`): that one runs first, and this one again (a `def` or
                # `class` that failed so did nothing).
                waiting = self._waiting_unit(getattr(e, "name", None))
                if waiting is None or not _DEFINITION_START.match(unit["code"]):
                    raise
                self._execute(waiting)
        self._keep_made_classes(unit)

    def _waiting_unit(self, name):
        """The unit binding `name` that began but waits on what it needs (None if there is not)."""
        for index in range(len(self.units) - 1, -1, -1):
            if name in self.units[index]["names"] and index in self.done and index not in self.ran:
                return index
        return None

    def _keep_made_classes(self, unit):
        """A class a value made again while the unit's own inputs loaded (its definition had not
        run yet) stays the class of that name, as the notebook has one: the definition's run gave
        an equal class, of the same code, that the loaded instances are not of."""
        for (name, codes), made in _classes_made_again.items():
            if name in unit["names"] and _same_codes(self.namespace.get(name), codes):
                self.namespace[name] = made

    def _run_again(self, unit, code):
        """Runs a unit's code, with the loaded values as they loaded after it (see `_loaded_states`)."""
        kept = self._loaded_states(unit) if unit.get("kind") != "import" else ({}, (), ())
        try:
            exec(code, self.namespace)
        finally:
            _restore_states(self.namespace, kept)

    def _loaded_states(self, unit):
        """What the loaded values hold, for `_restore_states` after a definition runs again: it ran
        in the notebook already, and what it did to them then (a decorator's `registry.append(cls)`,
        a metaclass's or an `__init_subclass__`'s `Plugin.kinds[kind] = cls`) is in what loaded.
        Cheap: a name's value, a list's or a dict's items (of a long one, its length: what runs
        again adds at its end), a notebook class's names and its containers' items."""
        names, sizes, classes = {}, [], []
        for name in self.loaded:
            if name not in self.namespace or name in unit["names"]:
                continue
            value = names[name] = self.namespace[name]
            if type(value) in (list, dict):
                sizes.append((value, len(value), _container_copy(value)))
            elif isinstance(value, type) and value.__module__ == "__main__":
                held = dict(vars(value))
                contents = {k: c for k, c in ((k, _container_copy(v)) for k, v in held.items()) if c is not None}
                classes.append((value, held, contents))
        return names, sizes, classes

    def _run_undecorated(self, unit):
        """Runs a decorated definition without its decorators; False for other code."""
        import ast

        tree = ast.parse(unit["code"])
        decorated = [n for n in tree.body if getattr(n, "decorator_list", None)]
        if not decorated:
            return False
        for node in decorated:
            node.decorator_list = []
        ast.increment_lineno(tree, unit["line"] - 1)
        self._run_again(unit, _compile(tree, _cell_file(unit["cell"]), "exec"))
        return True

    def define_on_demand(self, name):
        """Module `__getattr__` of `__main__` while inputs load: a pickled value that refers to a
        notebook function or class gets its definition run."""
        for index in range(len(self.units) - 1, -1, -1):
            unit = self.units[index]
            if name not in unit["names"] or index in self.ran:
                continue
            if index in self.done:
                # What the definition waits on holds what it defines (`functions` holding
                # `Function`s, loaded for what its methods call): it runs first, where it can.
                try:
                    self._execute(index)
                except Exception:
                    self.ran.discard(index)
                    continue
            else:
                try:
                    self.run(index)
                except Exception:
                    # A decorator that keeps the function in the value loading now (`registry[name]
                    # = f`) cannot run before it is loaded: the value holds the function as it was
                    # defined, which the definition without its decorators makes.
                    if not self._run_undecorated(unit):
                        raise
            # What earlier steps changed on it (`Counter.count += 1`) holds here too.
            for later in range(index + 1, len(self.units)):
                change = self.units[later]
                if not change["names"] and index in change.get("needs", ()):
                    self.run(later)
            if name in self.namespace:
                return self.namespace[name]
        raise AttributeError("module '__main__' has no attribute %r" % name)

    def load(self, name):
        if name in self.loaded:
            return
        producer = self.inputs[name]
        path = self.paths.get(name)
        if path is None:
            raise StepError("missing-input", "Input %s (from step %s) was not given to step %s." % (name, producer, self.step))
        try:
            value = load_value(path)
        except Exception as e:
            raise StepError(
                "load-failed",
                "Cannot load variable `%s` saved by step `%s`: %s: %s. Fix: make sure step `%s` "
                "finished and that both steps use the same libraries." % (name, producer, type(e).__name__, e, producer),
            )
        self.loaded[name] = True
        if name == RANDOM_STATE:
            self.random_state = value
        else:
            self.namespace[name] = value


_ITEMS_KEPT = 4096


def _container_copy(value):
    """A copy of a plain list's, dict's or set's items; None for other values and long ones."""
    kind = type(value)
    return kind(value) if kind in (list, dict, set) and len(value) <= _ITEMS_KEPT else None


def _same_items(value, saved):
    if len(value) != len(saved):
        return False
    if type(value) is dict:
        return all(k in value and value[k] is v for k, v in saved.items())
    if type(value) is set:
        return value == saved
    return all(a is b for a, b in zip(value, saved))


def _restore_states(namespace, kept):
    """Puts back what `_StepCode._loaded_states` kept, as it loaded."""
    names, sizes, classes = kept
    for name, value in names.items():
        if namespace.get(name) is not value:
            namespace[name] = value
    for value, size, items in sizes:
        if items is not None:
            if not _same_items(value, items):
                _set_items(value, items)
            continue
        if len(value) <= size:
            continue
        if type(value) is list:
            del value[size:]
        else:
            for key in list(value)[size:]:
                del value[key]
    for cls, held, contents in classes:
        for key in [k for k in vars(cls) if k not in held]:
            delattr(cls, key)
        for key, value in held.items():
            if vars(cls).get(key) is not value:
                setattr(cls, key, value)
            saved = contents.get(key)
            if saved is not None and not _same_items(value, saved):
                _set_items(value, saved)


def _set_items(value, items):
    if type(value) is list:
        value[:] = items
    else:
        value.clear()
        value.update(items)


def _write_cell_outputs(path):
    """The outputs of the cells the step ran, as JSON: {"cells": [{"cell": N, "outputs": [...]}]}."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"cells": _cell_outputs}, f, default=str)
    os.replace(tmp, path)


# ---- cell outputs on a cluster: KFP output artifacts (see docs/cluster.md) -----------------------
LOG_OUTPUTS_LIMIT = 1 << 20


def _cell_outputs_html(step):
    """The cells' outputs as one page, for KFP's UI to show as the step's visualization."""
    import html

    esc = html.escape
    page = ["<!DOCTYPE html><meta charset=utf-8><title>%s</title><style>body{font-family:sans-serif}pre{white-space:pre-wrap}.stderr{background:#fdd}h4{color:#555}</style>" % esc(step)]
    for record in _cell_outputs:
        page.append("<h4>Cell %d</h4>" % (record["cell"] + 1))
        for o in record["outputs"]:
            data = o.get("data", {})
            image = next((m for m in ("image/png", "image/jpeg", "image/gif") if m in data), None)
            if o["output_type"] == "stream":
                page.append('<pre class="%s">%s</pre>' % (o["name"], esc(o["text"])))
            elif o["output_type"] == "error":
                page.append('<pre class="stderr">%s</pre>' % esc("\n".join(o["traceback"])))
            elif "text/html" in data or "image/svg+xml" in data:
                page.append("<div>%s</div>" % data.get("text/html", data.get("image/svg+xml")))
            elif image:
                page.append('<img src="data:%s;base64,%s">' % (image, data[image]))
            else:
                page.append("<pre>%s</pre>" % esc(str(data.get("text/markdown", data.get("text/plain", "")))))
    return "".join(page)


def _write_kfp_cell_outputs(executor_input, step, failed):
    """On a cluster, the cells' outputs become the step's output artifacts `cell-outputs` (the JSON
    of `--cell-outputs`) and `cell-outputs-html` (KFP's UI shows it), and a log line says where
    (`cellflow-cell-outputs: URI`). KFP keeps no artifacts of a failed step: its line carries them
    instead (zlib, base64; past LOG_OUTPUTS_LIMIT only streams and errors, then only errors)."""
    import base64
    import zlib

    artifacts = json.loads(executor_input).get("outputs", {}).get("artifacts", {})
    document = json.dumps({"cells": _cell_outputs}, default=str)
    for key, text in (("cell-outputs", lambda: document), ("cell-outputs-html", lambda: _cell_outputs_html(step))):
        uri = (artifacts.get(key, {}).get("artifacts") or [{}])[0].get("uri")
        if uri:
            path = _mounted_path(uri)
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text())
            if key == "cell-outputs" and not failed:
                print("cellflow-cell-outputs: " + uri)
    for kinds in (None, ("stream", "error"), ("error",)) if failed else ():
        cells = [{"cell": r["cell"], "outputs": [o for o in r["outputs"] if kinds is None or o["output_type"] in kinds]} for r in _cell_outputs]
        packed = base64.b64encode(zlib.compress(json.dumps({"cells": cells}, default=str).encode())).decode()
        if len(packed) <= LOG_OUTPUTS_LIMIT or kinds == ("error",):
            print("cellflow-cell-outputs: inline:" + packed)
            break


def _mounted_path(uri):
    """Where KFP's launcher mounts an artifact's URI in the container (a local URI is its path)."""
    return next((folder + uri[len(scheme) :] for folder, scheme in _MOUNTED_STORES if uri.startswith(scheme)), uri)


def _args_from_executor_input(args):
    """On a cluster the step's parameters, inputs and outputs come from KFP's executor input, each
    artifact at the path KFP's launcher mounts its URI at (no flag per value: the IR stays small)."""
    spec = json.loads(args["executor-input"])
    for name, value in spec.get("inputs", {}).get("parameterValues", {}).items():
        args["param"].setdefault(name, value if isinstance(value, str) else json.dumps(value))
    for side in ("input", "output"):
        for key, entry in spec.get(side + "s", {}).get("artifacts", {}).items():
            uri = (entry.get("artifacts") or [{}])[0].get("uri")
            if uri and key != "metrics":
                path = _mounted_path(uri)
                args[side].setdefault("metrics" if key == "metrics_value" else key, path)


# ---- the step ------------------------------------------------------------------------------------


def _parse_args(argv):
    args = {"param": {}, "input": {}, "output": {}, "metrics-file": None, "executor-input": None, "result": None, "cell-outputs": None}
    i = 0
    while i < len(argv):
        flag = argv[i]
        if not flag.startswith("--") or i + 1 >= len(argv):
            raise StepError("usage", "Unexpected argument %r to the step script." % flag)
        key, value = flag[2:], argv[i + 1]
        if key in ("param", "input", "output"):
            if "=" not in value:
                raise StepError("usage", "--%s takes NAME=VALUE, got %r." % (key, value))
            name, _, rest = value.partition("=")
            args[key][name] = rest
        elif key in ("metrics-file", "executor-input", "result", "cell-outputs"):
            args[key] = value
        else:
            raise StepError("usage", "Unknown flag --%s to the step script." % key)
        i += 2
    return args


def _metric_value(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return int(number) if number.is_integer() and type(value).__name__.startswith("int") else number


def _write_kfp_metrics(executor_input, metrics):
    spec = json.loads(executor_input)
    outputs = spec.get("outputs", {})
    output_file = outputs.get("outputFile")
    artifacts = outputs.get("artifacts", {}).get("metrics", {}).get("artifacts", [])
    if not output_file or not artifacts:
        return
    artifact = dict(artifacts[0])
    artifact["metadata"] = dict(artifact.get("metadata") or {}, **metrics)
    os.makedirs(os.path.dirname(output_file), exist_ok=True)
    with open(output_file, "w", encoding="utf-8") as f:
        json.dump({"artifacts": {"metrics": {"artifacts": [artifact]}}}, f)


# What a step on a cluster reports for Cellflow to read back from its log (the format is core's
# step-report-lines.ts; a test runs these two through its parser).
def _metric_report_line(name, value):
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < float("inf")
    return "cellflow-metric: %s=%s" % (name, json.dumps(value if number else str(value)))


def _artifact_report_line(name, uri, type_name):
    return "cellflow-artifact: %s=%s type=%s" % (name, uri, type_name)


# KFP's launcher mounts each object store at a folder; an output's path there names its URI.
_MOUNTED_STORES = (("/minio/", "minio://"), ("/s3/", "s3://"), ("/gcs/", "gs://"))


def _artifact_uri(artifacts, name, path):
    entries = artifacts.get(name + "_value" if name == "metrics" else name, {}).get("artifacts", [])
    if entries and entries[0].get("uri"):
        return entries[0]["uri"]
    for folder, scheme in _MOUNTED_STORES:
        if path and path.startswith(folder):
            return scheme + path[len(folder) :]
    return None


def _print_artifact_uris(executor_input, namespace, outputs, paths):
    """`cellflow-artifact: VAR=URI type=TYPE` lines: where a cluster keeps each saved variable
    (how `cellflow serve` finds a model, and run summaries list outputs). Nothing on this machine."""
    artifacts = json.loads(executor_input).get("outputs", {}).get("artifacts", {}) if executor_input else {}
    for name in outputs:
        uri = _artifact_uri(artifacts, name, paths.get(name))
        if uri and name in namespace and name != RANDOM_STATE:
            print(_artifact_report_line(name, uri, _type_name(namespace[name])))


def _kernel_search_path():
    """Where a kernel imports from: after the standard library, `''`, the current directory
    wherever `os.chdir` takes it (`os.chdir("app")`, then `from vectorizer import vect` finds
    `app/vectorizer.py`)."""
    if "" in sys.path:
        return
    at = next((i for i, p in enumerate(sys.path) if p.endswith(("site-packages", "dist-packages"))), len(sys.path))
    sys.path.insert(at, "")


def main(step, parameters, inputs, outputs, units, cells, metrics=None, shared=(), packages=()):
    """Runs one step. `outputs` maps variable -> producing cell; `metrics` maps metric -> variable;
    `units` is code from earlier cells that the step runs again first (core's StepUnit); `shared`
    lists groups of outputs that may share objects, saved together; `packages` are pip
    requirements to install first (cluster steps' `packages:` tags)."""
    started = time.time()
    units = [dict(UNIT_TABLE[u["unit"]], **u) if "unit" in u else u for u in units]
    metrics = metrics or {}
    result = {"step": step, "status": "failed", "outputs": {}, "metrics": {}, "cells": []}
    result_path = outputs_path = executor_input = None
    namespace = sys.modules["__main__"].__dict__
    # The notebook's module is Jupyter's: the same docstring (`print(__doc__)` prints it).
    namespace["__doc__"] = "Automatically created module for IPython interactive environment"
    namespace.pop("__file__", None)
    _kernel_search_path()
    _capture_outputs()
    _install_notebook_caches()
    code = 1
    try:
        args = _parse_args(sys.argv[1:])
        # The cells see a kernel's arguments, not the step's own: `-f` and its connection file.
        sys.argv[:] = [_KERNEL_LAUNCHER, "-f", os.path.join(os.environ.get("TMPDIR", "/tmp"), "kernel-%s.json" % step)]
        result_path = args["result"]
        outputs_path = args["cell-outputs"]
        executor_input = args["executor-input"]
        if executor_input:
            _args_from_executor_input(args)
        for name, kind in parameters.items():
            if name not in args["param"]:
                raise StepError("missing-parameter", "Parameter %s was not given to step %s." % (name, step))
            namespace[name] = convert_parameter(name, kind, args["param"][name])
        if packages:
            _install_packages(step, packages)
        step_code = _StepCode(namespace, units, inputs, args["input"], step)
        had_getattr = "__getattr__" in namespace
        if not had_getattr:
            namespace["__getattr__"] = step_code.define_on_demand
        try:
            for index, unit in enumerate(units):
                if unit["eager"]:
                    step_code.run(index)
            for name in inputs:
                step_code.load(name)
        finally:
            if not had_getattr:
                namespace.pop("__getattr__", None)
        _start_shown(namespace)
        if step_code.random_state is not None:
            _set_random_state(step_code.random_state)
        _find_submodules(namespace)
        _descriptor_output(flush=True)  # what loading wrote is in the log, not in the first cell
        for index, source in cells:
            try:
                run_cell(namespace, index, source, result["cells"])
            except SystemExit as e:
                if e.code not in (None, 0):
                    raise
        grouped = {}
        for group in shared:
            for name in group:
                grouped[name] = group
        saved = set()
        for name, cell in outputs.items():
            if name == RANDOM_STATE:
                path = args["output"].get(name)
                if path is not None:
                    fmt, size = save_value(name, _random_state(step_code.random_state), path)
                    result["outputs"][name] = {"format": fmt, "bytes": size}
                continue
            if name not in namespace:
                raise StepError(
                    "missing-output",
                    "Step `%s` should produce `%s` (cell %d) for later steps, but it is not defined when the step ends. "
                    "Fix: make sure every path through the cell assigns it." % (step, name, cell + 1),
                    cell,
                )
            if name in saved:
                continue
            group = [n for n in grouped.get(name, [name]) if n in namespace and args["output"].get(n)]
            paths = {n: args["output"][n] for n in group}
            if not paths:
                continue
            try:
                if len(paths) > 1:
                    for n, size in save_shared({n: namespace[n] for n in paths}, paths).items():
                        result["outputs"][n] = {"format": "shared", "bytes": size}
                else:
                    fmt, size = save_value(name, namespace[name], paths[name])
                    result["outputs"][name] = {"format": fmt, "bytes": size}
            except Exception as e:
                culprit = _unpicklable_value(namespace, paths) if len(paths) > 1 else name
                value = namespace[culprit]
                raise StepError(
                    "unpicklable",
                    "Cannot save variable `%s` (a %s, made by step `%s`, cell %d) for the later steps that use it: %s: %s. "
                    "Fix: %s."
                    % (culprit, _type_name(value), step, outputs.get(culprit, cell) + 1, type(e).__name__, e, _unpicklable_fix(value)),
                    outputs.get(culprit, cell),
                )
            saved.update(paths)
        for metric, variable in metrics.items():
            value = _metric_value(namespace.get(variable))
            result["metrics"][metric] = value
            print("%s=%s" % (metric, value))
        if args["metrics-file"]:
            with open(args["metrics-file"], "w", encoding="utf-8") as f:
                json.dump(result["metrics"], f)
        if args["executor-input"] and result["metrics"]:
            _write_kfp_metrics(args["executor-input"], result["metrics"])
        if args["executor-input"]:
            for metric, value in result["metrics"].items():
                print(_metric_report_line(metric, value))
        _print_artifact_uris(args["executor-input"], namespace, outputs, args["output"])
        result["status"] = "succeeded"
        code = 0
    except StepError as e:
        result["error"] = {"kind": e.kind, "message": e.message, "cell": e.cell, "line": e.line}
        sys.stderr.write("Cellflow: %s\n" % e.message)
    except BaseException as e:
        cell, line = _location(e.__traceback__)
        # 1-based, as the person sees the cell (step-logs.ts reads this line back from a pod's log).
        where = "cell %d, line %d" % (cell + 1, line) if cell is not None else "the step's setup"
        message = "Step `%s` failed at %s: %s: %s" % (step, where, type(e).__name__, _shortened(str(e), 2000))
        if isinstance(e, ModuleNotFoundError):
            message += ". " + _missing_module_fix(e)
        tb = _shortened(_user_traceback(e), ERROR_ROOM)
        sys.stderr.write(tb)
        sys.stderr.write("Cellflow: %s\n" % message)
        result["error"] = {
            "kind": "exception",
            "type": type(e).__name__,
            "message": message,
            "cell": cell,
            "line": line,
            "traceback": tb,
        }
        if isinstance(e, KeyboardInterrupt):
            code = 130
    _release_descriptors()
    result["durationMs"] = int((time.time() - started) * 1000)
    if outputs_path:
        _write_cell_outputs(outputs_path)
    if executor_input:
        try:
            _write_kfp_cell_outputs(executor_input, step, code != 0)
        except Exception as e:
            sys.stderr.write("cellflow-cell-outputs: not written: %s: %s\n" % (type(e).__name__, e))
    if result_path:
        tmp = result_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(result, f)
        os.replace(tmp, result_path)
    sys.stdout.flush()
    sys.stderr.flush()
    return code
