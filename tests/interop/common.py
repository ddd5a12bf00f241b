"""Helpers shared by the interop test scripts (test_convert.py,
test_estimators.py, test_wild.py).

Run the scripts with Debian's interpreter, /usr/bin/python3, which has
scikit-learn, joblib, numpy, scipy and lz4.  A missing package is a test
FAILURE (exit 1 with a summary line), never a skip.

Contents:
  require_packages()   import numpy/joblib/sklearn/scipy/lz4 or fail
  parse_args()         --brine PATH, --keep, --jobs N, --timeout S, ...
  find_brine()         resolve and check the brine binary
  run_brine()          run brine with a timeout; classify crashes
  TempDir              temporary directory, kept with --keep
  deep_compare()       iterative deep comparison of two loaded objects
  Summary              thread-safe pass/fail counting and printing
  run_parallel()       small thread pool (subprocess releases the GIL)
  run_forked()         crash-safe pool of forked workers (loading brine's
                       output can segfault Python; only that case fails)
  pickle_globals()     the globals a pickle stream references (pickletools)
  self_test()          checks that deep_compare catches what it must
"""

import argparse
import concurrent.futures
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import types

# numpy sends float64 exp and log (and what sklearn builds on them: expit,
# softmax, logs of probabilities, IsolationForest's path lengths) to its
# AVX-512 loops on CPUs that have them, whose results differ from libm's in
# the last bit for about a fifth of all inputs.  The interop checks compare
# brine with sklearn bit for bit where sklearn's arithmetic is reproducible
# in C, which with those loops it is not; so the scripts run numpy without
# them (the same on every machine) and test_simd_ulps.py checks brine
# against numpy as dispatched, within the 4 ulp CONVENTIONS allows.  Set
# here, before any script imports numpy; subprocesses inherit it.
NUMPY_LIBM_FEATURES = "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL"
if "numpy" not in sys.modules:
    os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", NUMPY_LIBM_FEATURES)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

REQUIRED = ("numpy", "joblib", "sklearn", "scipy", "lz4.frame")


def default_wild():
    """shared/wild beside the checkout (CI lays ../shared next to main)."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    beside = os.path.join(os.path.dirname(repo), "shared", "wild")
    return beside if os.path.isdir(beside) else "/work/shared/wild"


def fail_hard(prefix, message):
    """Print a one-failure summary and exit 1 (used for missing
    prerequisites: the CI must see a failure, not a skip)."""
    sys.stdout.write("%s: FATAL: %s\n" % (prefix, message))
    sys.stdout.write("%s: 0 passed, 1 failed\n" % prefix)
    sys.stdout.flush()
    sys.exit(1)


def require_packages(prefix):
    """Import the Python packages the interop tests need; fail otherwise."""
    missing = []
    for name in REQUIRED:
        try:
            __import__(name)
        except Exception as e:  # ImportError, or a broken install
            missing.append("%s (%s)" % (name, e))
    if missing:
        fail_hard(prefix, "interpreter %s lacks required packages: %s; run the "
                  "interop tests with /usr/bin/python3 (Debian's, with python3-sklearn, "
                  "python3-joblib, python3-numpy, python3-scipy, python3-lz4)"
                  % (sys.executable, ", ".join(missing)))


# ---------------------------------------------------------------- arguments

def parse_args(description, extra=None, argv=None):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--brine", default="build/brine",
                   help="path to the brine binary (default build/brine; a relative "
                        "path is tried against the current directory, then the repository root)")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary directory and print its path")
    p.add_argument("--jobs", type=int, default=0,
                   help="worker threads (default: CPUs + 1, between 2 and 4)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds one brine invocation may take")
    p.add_argument("--max-failures-shown", type=int, default=100,
                   help="print details of at most this many failures")
    if extra:
        extra(p)
    args = p.parse_args(argv)
    if args.jobs <= 0:
        # one thread more than cores (up to 4): the Python side holds the
        # GIL while comparing, brine runs meanwhile
        args.jobs = max(2, min(4, (os.cpu_count() or 1) + 1))
    return args


def find_brine(path, prefix):
    """Absolute path of the brine binary, or fail (exit 1)."""
    cands = [path]
    if not os.path.isabs(path):
        cands.append(os.path.join(REPO, path))
    for c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    fail_hard(prefix, "brine binary not found or not executable: %s (build it with "
              "`make`, or pass --brine PATH)" % " or ".join(cands))


# ---------------------------------------------------------------- running

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                     "MemorySanitizer", "ThreadSanitizer", "runtime error:")


class Result:
    __slots__ = ("argv", "rc", "stdout", "stderr", "seconds", "timed_out")

    def __init__(self, argv, rc, stdout, stderr, seconds, timed_out):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.timed_out = timed_out

    @property
    def command(self):
        return shlex.join(self.argv)

    @property
    def stderr_text(self):
        return self.stderr.decode("utf-8", "replace")

    @property
    def stdout_text(self):
        return self.stdout.decode("utf-8", "replace")

    def crash_reason(self):
        """Why this run counts as a crash (None if it did not crash):
        killed by a signal, exit status >= 128, a sanitizer report, or a
        timeout."""
        if self.timed_out:
            return "timed out after %.1f s" % self.seconds
        if self.rc < 0:
            return "killed by signal %d" % -self.rc
        if self.rc >= 128:
            return "exit status %d (>= 128: signal or abort)" % self.rc
        err = self.stderr_text
        for m in SANITIZER_MARKERS:
            if m in err:
                return "sanitizer report (%s) in stderr" % m
        return None

    def describe(self, limit=1500):
        err = self.stderr_text.strip()
        if len(err) > limit:
            err = err[:limit] + " ...[%d more bytes]" % (len(err) - limit)
        s = "  command: %s\n  exit: %s%s\n" % (
            self.command, "timeout" if self.timed_out else self.rc,
            "  (%.2f s)" % self.seconds)
        if err:
            s += "  stderr: " + err.replace("\n", "\n          ") + "\n"
        return s


def run_brine(brine, args, timeout=60.0, cwd=None):
    """Run `brine ARGS...`; never raises for brine's own failures."""
    argv = [brine] + [str(a) for a in args]
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, cwd=cwd)
        return Result(argv, p.returncode, p.stdout, p.stderr, time.monotonic() - t0, False)
    except subprocess.TimeoutExpired as e:
        return Result(argv, -9, e.stdout or b"", e.stderr or b"", time.monotonic() - t0, True)
    except OSError as e:
        return Result(argv, 127, b"", ("cannot execute: %s" % e).encode(),
                      time.monotonic() - t0, False)


def one_line_error(res):
    """None if stderr is exactly one non-empty line, else a complaint."""
    err = res.stderr_text
    lines = [l for l in err.split("\n") if l.strip()]
    if len(lines) != 1:
        return "expected exactly one line on stderr, got %d" % len(lines)
    return None


# ---------------------------------------------------------------- temp dirs

class TempDir:
    def __init__(self, keep=False, prefix="brine-interop-"):
        self.keep = keep
        self.path = tempfile.mkdtemp(prefix=prefix)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        if self.keep:
            print("kept temporary directory %s" % self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        return False


# ---------------------------------------------------------------- summary

class Summary:
    """Thread-safe pass/fail counts; prints failure details (capped)."""

    def __init__(self, prefix, max_shown=100):
        self.prefix = prefix
        self.passed = 0
        self.failed = 0
        self.max_shown = max_shown
        self.shown = 0
        self.failed_names = []
        self.lock = threading.Lock()

    def ok(self):
        with self.lock:
            self.passed += 1

    def fail(self, name, detail=""):
        with self.lock:
            self.failed += 1
            self.failed_names.append(name)
            if self.shown < self.max_shown:
                self.shown += 1
                msg = "FAIL %s\n" % name
                if detail:
                    msg += detail if detail.endswith("\n") else detail + "\n"
                sys.stdout.write(msg)
                sys.stdout.flush()

    def finish(self):
        """Print the final `PREFIX: P passed, F failed` line; return the
        process exit status."""
        with self.lock:
            hidden = self.failed - self.shown
            if hidden > 0:
                print("(%d more failures not shown; raise --max-failures-shown)" % hidden)
                shown_names = self.failed_names[self.shown:self.shown + 40]
                print("  not shown: " + ", ".join(shown_names) +
                      (" ..." if hidden > 40 else ""))
            print("%s: %d passed, %d failed" % (self.prefix, self.passed, self.failed))
            sys.stdout.flush()
            return 0 if self.failed == 0 else 1


def run_parallel(fn, items, jobs, progress=None):
    """Call fn(item) for every item on `jobs` threads.  fn must not raise
    (exceptions are re-raised here, which is a bug in the test).
    progress(done, total) is called after each item."""
    total = len(items)
    done = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = [ex.submit(fn, it) for it in items]
        for f in concurrent.futures.as_completed(futs):
            f.result()
            done += 1
            if progress:
                progress(done, total)


def run_forked(tasks, handler, jobs, on_result, on_crash, progress=None, task_timeout=900.0):
    """Crash-safe process pool.  Loading brine's output can crash Python
    itself (a malformed array state makes numpy segfault), so the loading
    and comparing runs in forked worker processes: they inherit everything
    the parent has set up (no pickling of handlers or reference objects).

    handler(task) runs in a worker and returns a picklable result.
    on_result(task, result) and on_crash(task, reason) run in the parent
    and return a list of further tasks to queue (or None).  A worker that
    dies (signal, exit) or exceeds task_timeout is replaced by a fresh
    fork; its task goes to on_crash.  progress(done, total) counts the
    initial tasks.  An exception inside handler is passed to on_crash as
    reason "test error ..." (a bug in the test, reported as a failure)."""
    import collections
    import multiprocessing as mp
    import traceback
    from multiprocessing.connection import wait

    ctx = mp.get_context("fork")
    queue = collections.deque((t, True) for t in tasks)
    total = len(tasks)
    done = 0
    sys.stdout.flush()
    sys.stderr.flush()

    def worker_main(conn):
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                break
            if task is None:
                break
            try:
                msg = ("result", handler(task))
            except BaseException as e:  # noqa: B902 - reported, not swallowed
                msg = ("error", "test error %s: %s\n%s" % (type(e).__name__, e,
                                                           traceback.format_exc(limit=6)))
            conn.send(msg)

    def start():
        parent, child = ctx.Pipe()
        p = ctx.Process(target=worker_main, args=(child,), daemon=True)
        p.start()
        child.close()
        return {"proc": p, "conn": parent, "task": None, "initial": False, "t": 0.0}

    workers = [start() for _ in range(max(1, jobs))]
    try:
        while queue or any(w["task"] is not None for w in workers):
            for w in workers:
                if w["task"] is None and queue:
                    w["task"], w["initial"] = queue.popleft()
                    w["t"] = time.monotonic()
                    w["conn"].send(w["task"])
            busy = [w for w in workers if w["task"] is not None]
            ready = wait([w["conn"] for w in busy] + [w["proc"].sentinel for w in busy], timeout=1.0)
            for i, w in enumerate(workers):
                if w["task"] is None:
                    continue
                task, initial = w["task"], w["initial"]
                outcome = None
                if w["conn"] in ready or w["proc"].sentinel in ready:
                    try:
                        if w["conn"].poll():
                            outcome = w["conn"].recv()
                    except (EOFError, OSError):
                        outcome = None
                    if outcome is None:
                        w["proc"].join(5)
                        code = w["proc"].exitcode
                        outcome = ("crash", "Python crashed (%s) while loading or comparing brine's output"
                                   % ("signal %d" % -code if code is not None and code < 0
                                      else "exit status %s" % code))
                elif time.monotonic() - w["t"] > task_timeout:
                    w["proc"].kill()
                    w["proc"].join(5)
                    outcome = ("crash", "the Python worker took over %.0f s on this task (killed)" % task_timeout)
                if outcome is None:
                    continue
                kind, payload = outcome
                if kind == "result":
                    more = on_result(task, payload)
                    w["task"] = None
                else:
                    more = on_crash(task, payload)
                    if kind == "crash":
                        try:
                            w["conn"].close()
                        except OSError:
                            pass
                        workers[i] = start()
                    else:
                        w["task"] = None
                for t in more or ():
                    queue.append((t, False))
                if initial:
                    done += 1
                    if progress:
                        progress(done, total)
    finally:
        for w in workers:
            try:
                w["conn"].send(None)
            except OSError:
                pass
        for w in workers:
            w["proc"].join(5)
            if w["proc"].is_alive():
                w["proc"].kill()
                w["proc"].join(5)


def progress_printer(label, total, every_fraction=0.1):
    t0 = time.monotonic()
    step = max(1, int(total * every_fraction))
    lock = threading.Lock()

    def cb(done, _total):
        if done % step == 0 or done == total:
            with lock:
                print("%s: %d/%d done (%.1f s)" % (label, done, total, time.monotonic() - t0))
                sys.stdout.flush()
    return cb


# ---------------------------------------------------------------- compare

class _Path:
    """Lazily rendered location inside the compared objects (a linked
    list, so 200 000-deep structures cost O(1) per step)."""
    __slots__ = ("parent", "step")

    def __init__(self, parent, step):
        self.parent = parent
        self.step = step

    def render(self, limit=12):
        steps = []
        node = self
        while node is not None:
            steps.append(node.step)
            node = node.parent
        steps.reverse()
        if len(steps) > limit:
            steps = steps[:3] + ["...(%d levels)..." % (len(steps) - limit + 3)] + steps[-(limit - 3):]
        return "".join(steps)


def _tname(x):
    t = type(x)
    return "%s.%s" % (t.__module__, t.__qualname__)


def _short(x, n=120):
    try:
        r = repr(x)
    except Exception as e:  # pragma: no cover
        r = "<unrepresentable: %s>" % e
    if len(r) > n:
        r = r[:n] + "...(%d chars)" % len(r)
    return r


def _fbits(x):
    return struct.pack("<d", x)


def _dtype_diff(dx, dy):
    """None if two dtypes agree for our purposes, else a message.
    Non-structured: same kind, itemsize and everything else once the byte
    order is normalised to native (brine may store arrays native).
    Structured: same field names, offsets and itemsize, field dtypes
    compared by the same rule (iteratively)."""
    stack = [(dx, dy, "")]
    while stack:
        a, b, where = stack.pop()
        if (a.fields is None) != (b.fields is None):
            return "dtype%s: %r vs %r (structured vs not)" % (where, a, b)
        if a.fields is not None:
            if a.names != b.names:
                return "dtype%s: field names %r vs %r" % (where, a.names, b.names)
            if a.itemsize != b.itemsize:
                return "dtype%s: itemsize %d vs %d (%r vs %r)" % (where, a.itemsize, b.itemsize, a, b)
            for name in a.names:
                fa, fb = a.fields[name], b.fields[name]
                if fa[1] != fb[1]:
                    return "dtype%s field %r: offset %d vs %d" % (where, name, fa[1], fb[1])
                stack.append((fa[0], fb[0], "%s[%r]" % (where, name)))
            continue
        if (a.subdtype is None) != (b.subdtype is None):
            return "dtype%s: %r vs %r (subarray vs not)" % (where, a, b)
        if a.subdtype is not None:
            if a.subdtype[1] != b.subdtype[1]:
                return "dtype%s: subarray shape %r vs %r" % (where, a.subdtype[1], b.subdtype[1])
            stack.append((a.subdtype[0], b.subdtype[0], where + "<sub>"))
            continue
        if a.kind != b.kind or a.itemsize != b.itemsize:
            return "dtype%s: %r vs %r (kind/itemsize)" % (where, a, b)
        if a.newbyteorder("=") != b.newbyteorder("="):
            return "dtype%s: %r vs %r" % (where, a, b)
    return None


def _native_bytes(arr):
    import numpy as np
    nat = arr.dtype.newbyteorder("=")
    return np.ascontiguousarray(arr).astype(nat, copy=False).tobytes(order="C")


def _first_byte_diff(x, y):
    """Index (flat, C order) of the first element whose bytes differ."""
    import numpy as np
    n = x.size
    isz = x.dtype.itemsize
    if n == 0 or isz == 0:
        return None
    bx = np.frombuffer(_native_bytes(x), dtype=np.uint8).reshape(n, isz)
    by = np.frombuffer(_native_bytes(y), dtype=np.uint8).reshape(n, isz)
    idx = np.nonzero((bx != by).any(axis=1))[0]
    return int(idx[0]) if idx.size else None


def _array_value_diff(x, y):
    """Bit-level comparison of two non-object arrays of the same shape and
    compatible dtype (structured arrays field by field, ignoring padding)."""
    import numpy as np
    stack = [(x, y, "")]
    while stack:
        a, b, where = stack.pop()
        if a.dtype.fields is not None:
            for name in a.dtype.names:
                stack.append((a[name], b[name], "%s[%r]" % (where, name)))
            continue
        if _native_bytes(a) != _native_bytes(b):
            i = _first_byte_diff(a, b)
            if i is None:
                return "array%s: bytes differ" % where
            ia = np.unravel_index(i, a.shape) if a.shape else ()
            return "array%s: element %s differs: %s vs %s" % (
                where, tuple(int(k) for k in ia), _short(a[ia] if a.shape else a[()]),
                _short(b[ia] if b.shape else b[()]))
    return None


# Types whose identity (sharing, recursion) must be preserved.
def _identity_tracked(x, np, array_identity=True):
    t = type(x)
    if t in (list, dict, set, bytearray):
        return True
    if t in (tuple, frozenset):
        return len(x) > 0
    if isinstance(x, np.ndarray):
        return array_identity
    if t.__module__ not in ("builtins",) and not isinstance(x, (np.generic, np.dtype, type)) \
            and not callable(x) and hasattr(x, "__dict__"):
        return True
    return False


def deep_compare(a, b, check_dict_order=True, check_layout=True, array_identity=True):
    """Compare two objects loaded by Python from different files.

    Returns None when they agree, else a message naming the first
    difference and where it is.  Iterative (explicit stack): works on
    200 000-deep structures.  Checks:
      * exact same Python types (bool vs int, ndarray vs list, np.float64 vs float)
      * floats/complex: identical bits (NaN payload, -0.0 sign)
      * int/str/bytes: equal values
      * dicts: same keys in the same order (check_dict_order), values
      * sets/frozensets: same elements (matched by equality, types checked)
      * numpy arrays: exact type, dtype (byte order normalised to native;
        structured: names/offsets/itemsize), shape, Fortran layout kept
        (check_layout), identical element bits (object arrays: element by
        element with this same comparison)
      * numpy scalars: same type, dtype and bits; dtype objects as above;
        classes and functions: the same object
      * identity: a bijection between the containers of `a` and of `b` is
        built during the walk, so an object shared (or recursive) on one side
        must be shared (recursive) the same way on the other, and vice versa
        (numpy arrays included unless array_identity=False)
      * other objects: same type, then their __reduce_ex__(4) compared
    """
    import numpy as np

    fwd = {}     # id(x) -> y
    rev = {}     # id(y) -> x
    keep = []    # temporaries (reduce tuples, states) kept alive so ids stay unique
    root = _Path(None, "obj")
    stack = [(a, b, root)]
    while stack:
        x, y, path = stack.pop()
        tx, ty = type(x), type(y)
        if tx is not ty:
            return "%s: type %s vs %s (%s vs %s)" % (path.render(), _tname(x), _tname(y),
                                                    _short(x, 60), _short(y, 60))
        if _identity_tracked(x, np, array_identity):
            ix, iy = id(x), id(y)
            seen_y = fwd.get(ix)
            if seen_y is not None:
                if seen_y is not y:
                    return ("%s: identity not preserved: this %s is an object already seen "
                            "earlier in the source (shared reference or recursion), but the "
                            "output has a different object here" % (path.render(), _tname(x)))
                continue
            if iy in rev:
                return ("%s: identity not preserved: the output reuses an object here that "
                        "stands for a different source object (the source has distinct "
                        "objects)" % path.render())
            fwd[ix] = y
            rev[iy] = x

        if x is None or tx is bool:
            if x is not y:
                return "%s: %r vs %r" % (path.render(), x, y)
        elif tx is int:
            if x != y:
                return "%s: int %s vs %s" % (path.render(), _short(x), _short(y))
        elif tx is float:
            if _fbits(x) != _fbits(y):
                return "%s: float %r vs %r (bits %s vs %s)" % (
                    path.render(), x, y, _fbits(x)[::-1].hex(), _fbits(y)[::-1].hex())
        elif tx is complex:
            if _fbits(x.real) != _fbits(y.real) or _fbits(x.imag) != _fbits(y.imag):
                return "%s: complex %r vs %r (bits differ)" % (path.render(), x, y)
        elif tx is str or tx is bytes or tx is bytearray:
            if x != y:
                n = min(len(x), len(y))
                i = next((k for k in range(n) if x[k] != y[k]), n)
                return "%s: %s of length %d vs %d, first difference at index %d: %s vs %s" % (
                    path.render(), tx.__name__, len(x), len(y), i,
                    _short(x[i:i + 8]), _short(y[i:i + 8]))
        elif tx is list or tx is tuple:
            if len(x) != len(y):
                return "%s: %s of length %d vs %d" % (path.render(), tx.__name__, len(x), len(y))
            for i in range(len(x) - 1, -1, -1):
                stack.append((x[i], y[i], _Path(path, "[%d]" % i)))
        elif tx is dict:
            if len(x) != len(y):
                return "%s: dict of %d vs %d items (keys %s vs %s)" % (
                    path.render(), len(x), len(y), _short(list(x)), _short(list(y)))
            kx, ky = list(x.keys()), list(y.keys())
            if not check_dict_order:
                m = {k: k for k in ky}
                try:
                    ky = [m[k] for k in kx]
                except KeyError as e:
                    return "%s: key %s missing in output" % (path.render(), _short(e.args[0]))
            elif kx != ky:
                try:
                    same_set = set(kx) == set(ky)
                except TypeError:
                    same_set = False
                if same_set:
                    return "%s: dict key order differs: %s vs %s" % (path.render(), _short(kx), _short(ky))
            items = []
            for k1, k2 in zip(kx, ky):
                items.append((k1, k2, _Path(path, "<key %s>" % _short(k1, 40))))
                items.append((x[k1], y[k2], _Path(path, "[%s]" % _short(k1, 40))))
            stack.extend(reversed(items))
        elif tx is set or tx is frozenset:
            if len(x) != len(y):
                return "%s: %s of %d vs %d elements" % (path.render(), tx.__name__, len(x), len(y))
            m = {e: e for e in y}
            for e in x:
                if e not in m:
                    return "%s: element %s missing in output %s" % (path.render(), _short(e), tx.__name__)
                stack.append((e, m[e], _Path(path, "{%s}" % _short(e, 40))))
        elif tx is slice:
            stack.append((x.step, y.step, _Path(path, ".step")))
            stack.append((x.stop, y.stop, _Path(path, ".stop")))
            stack.append((x.start, y.start, _Path(path, ".start")))
        elif isinstance(x, np.ndarray):
            p = path.render()
            if x.shape != y.shape:
                return "%s: array shape %r vs %r" % (p, x.shape, y.shape)
            d = _dtype_diff(x.dtype, y.dtype)
            if d:
                return "%s: %s" % (p, d)
            if check_layout and x.ndim > 1 and x.flags.f_contiguous and not x.flags.c_contiguous \
                    and not y.flags.f_contiguous:
                return "%s: Fortran-ordered array came back C-ordered" % p
            if x.dtype.hasobject:
                if x.dtype.fields is not None:
                    return "%s: structured dtype with object fields: not supported by this comparison" % p
                fx = x.ravel(order="C")
                fy = y.ravel(order="C")
                for i in range(fx.size - 1, -1, -1):
                    stack.append((fx[i], fy[i], _Path(path, "<flat %d>" % i)))
            else:
                d = _array_value_diff(x, y)
                if d:
                    return "%s: %s" % (p, d)
        elif isinstance(x, np.generic):
            d = _dtype_diff(x.dtype, y.dtype)
            if d:
                return "%s: numpy scalar %s" % (path.render(), d)
            if x.dtype.hasobject:
                return "%s: numpy object scalar not comparable" % path.render()
            if _native_bytes(np.asarray(x)) != _native_bytes(np.asarray(y)):
                return "%s: numpy scalar %s %r vs %r (bits differ)" % (path.render(), _tname(x), x, y)
        elif isinstance(x, np.dtype):
            d = _dtype_diff(x, y)
            if d:
                return "%s: %s" % (path.render(), d)
        elif isinstance(x, type) or isinstance(x, (types.FunctionType, types.BuiltinFunctionType,
                                                   types.MethodType, np.ufunc)):
            if x is not y:
                return "%s: %s %r vs %r (not the same object)" % (path.render(), _tname(x), x, y)
        else:
            # Any other object: compare what pickle would save of it.
            try:
                rx = x.__reduce_ex__(4)
                ry = y.__reduce_ex__(4)
            except Exception as e:
                return "%s: cannot reduce %s for comparison: %s" % (path.render(), _tname(x), e)
            if isinstance(rx, str) or isinstance(ry, str):
                if rx != ry:
                    return "%s: global %r vs %r" % (path.render(), rx, ry)
                continue
            rx = tuple(list(v) if isinstance(v, types.GeneratorType) or hasattr(v, "__next__") else v
                       for v in rx)
            ry = tuple(list(v) if isinstance(v, types.GeneratorType) or hasattr(v, "__next__") else v
                       for v in ry)
            keep.append(rx)
            keep.append(ry)
            if len(rx) != len(ry):
                return "%s: %s reduces to %d vs %d items" % (path.render(), _tname(x), len(rx), len(ry))
            labels = ("<reduce callable>", "<reduce args>", "<state>", "<listitems>", "<dictitems>", "<setstate>")
            for i in range(len(rx) - 1, -1, -1):
                stack.append((rx[i], ry[i], _Path(path, labels[i] if i < len(labels) else "<r%d>" % i)))
    return None


def nested_list_depth(obj, limit=1000000):
    """Depth of a chain [[[...]]] (each level a one-element list, the
    innermost empty), counted iteratively; -1 if the shape is different."""
    d = 0
    x = obj
    while type(x) is list:
        d += 1
        if len(x) == 0:
            return d
        if len(x) != 1 or d > limit:
            return -1
        x = x[0]
    return -1


# ---------------------------------------------------------------- pickle globals

def pickle_globals(data):
    """Sorted list of 'module.qualname' globals referenced by a pickle
    stream (GLOBAL, INST, and STACK_GLOBAL with string operands, memo
    included).  Stops quietly at the first undecodable byte (joblib puts
    raw array bytes in the stream)."""
    import pickletools
    found = set()
    memo = {}
    strings = []  # last pushed values that could be strings (None = not a string)
    try:
        for op, arg, pos in pickletools.genops(data):
            n = op.name
            if n in ("GLOBAL", "INST"):
                mod, name = arg.split(" ", 1)
                found.add(mod + "." + name)
                strings.append(None)
            elif n in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
                strings.append(arg)
            elif n == "MEMOIZE":
                memo[len(memo)] = strings[-1] if strings else None
            elif n in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = strings[-1] if strings else None
            elif n in ("GET", "BINGET", "LONG_BINGET"):
                strings.append(memo.get(arg))
            elif n == "STACK_GLOBAL":
                if len(strings) >= 2 and isinstance(strings[-1], str) and isinstance(strings[-2], str):
                    found.add(strings[-2] + "." + strings[-1])
                else:
                    found.add("<STACK_GLOBAL on non-string operands>")
                strings.append(None)
            elif n == "PROTO":  # a nested pickle (joblib object arrays) has its own memo
                memo.clear()
                strings = []
            elif n in ("FRAME", "STOP"):
                pass
            else:
                strings.append(None)
            if len(strings) > 64:
                del strings[:32]
    except Exception:
        pass
    return sorted(found)


# ---------------------------------------------------------------- self test

def self_test():
    """Check deep_compare on pairs that must compare equal and pairs that
    must not.  Returns a list of problems (empty when all is well)."""
    import numpy as np
    import pickle

    problems = []

    def rt(o):
        return pickle.loads(pickle.dumps(o, protocol=4))

    def must_equal(name, x, y):
        d = deep_compare(x, y)
        if d is not None:
            problems.append("self-test %s: expected equal, got: %s" % (name, d))

    def must_differ(name, x, y, word):
        d = deep_compare(x, y)
        if d is None:
            problems.append("self-test %s: difference not detected" % name)
        elif word and word not in d:
            problems.append("self-test %s: message lacks %r: %s" % (name, word, d))

    nan = float("nan")
    must_equal("nan", [nan, -0.0], rt([nan, -0.0]))
    must_differ("negzero", -0.0, 0.0, "float")
    must_differ("nan-vs-num", nan, 1.0, "float")
    must_differ("nan-payload", nan, struct.unpack("<d", b"\x01\x00\x00\x00\x00\x00\xf8\x7f")[0], "bits")
    must_differ("bool-int", [True], [1], "type")
    must_differ("int-value", {"a": [1, 2]}, {"a": [1, 3]}, "int")
    must_differ("list-tuple", [1, 2], (1, 2), "type")
    must_differ("str", "abcdef", "abcxef", "index 3")
    must_differ("dict-order", {"a": 1, "b": 2}, {"b": 2, "a": 1}, "order")
    must_differ("set", {1, 2}, {1, 3}, "missing")
    must_differ("float-np64", 1.5, np.float64(1.5), "type")
    must_equal("arr", np.arange(5.0), rt(np.arange(5.0)))
    must_equal("arr-be", np.arange(5, dtype=">i4"), np.arange(5, dtype="<i4"))
    must_differ("dtype", np.arange(5, dtype="f4"), np.arange(5, dtype="f8"), "dtype")
    must_differ("dtype-kind", np.arange(5, dtype="i8"), np.arange(5, dtype="u8"), "dtype")
    must_differ("shape", np.zeros((2, 3)), np.zeros((3, 2)), "shape")
    must_differ("arr-value", np.array([1.0, 2.0]), np.array([1.0, 2.5]), "element (1,)")
    must_equal("arr-nan", np.array([nan, 1.0]), np.array([nan, 1.0]))
    must_differ("arr-negzero", np.array([-0.0]), np.array([0.0]), "element")
    must_differ("arr-nd-matrix", np.zeros((2, 2)), np.matrix(np.zeros((2, 2))), "type")
    must_differ("fortran", np.asfortranarray(np.zeros((2, 3))), np.zeros((2, 3)), "Fortran")
    st = np.dtype({"names": ["a", "b"], "formats": ["<i8", "u1"], "offsets": [0, 8], "itemsize": 16})
    st2 = np.dtype({"names": ["a", "b"], "formats": ["<i8", "u1"], "offsets": [0, 8], "itemsize": 9})
    must_differ("struct-itemsize", np.zeros(2, st), np.zeros(2, st2), "itemsize")
    sa = np.zeros(2, st)
    sb = np.zeros(2, st)
    sb["b"][1] = 7
    must_differ("struct-value", sa, sb, "'b'")
    oa = np.empty(3, dtype=object)
    oa[:] = [1, "x", None]
    ob = np.empty(3, dtype=object)
    ob[:] = [1, "y", None]
    must_differ("objarray", oa, ob, "<flat 1>")
    must_equal("objarray-same", oa, rt(oa))
    l = [1]
    must_differ("shared", [l, l], [[1], [1]], "identity")
    must_differ("merged", [[1], [1]], [l, l], "identity")
    arr = np.arange(3)
    must_differ("shared-array", [arr, arr], [np.arange(3), np.arange(3)], "identity")
    r = []
    r.append(r)
    r2 = [[]]
    must_differ("recursion", r, r2, "")
    must_equal("recursion-same", r, rt(r))
    d = {}
    d["d"] = d
    must_equal("rec-dict", d, rt(d))
    t0 = []
    tt = (t0,)
    t0.append(tt)
    must_equal("rec-tuple", t0, rt(t0))
    deep = []
    cur = deep
    for _ in range(100000):
        nxt = []
        cur.append(nxt)
        cur = nxt
    must_equal("deep-self", deep, deep)
    cur.append(1)
    deep_b = []
    cur = deep_b
    for _ in range(100000):
        nxt = []
        cur.append(nxt)
        cur = nxt
    cur.append(2)
    must_differ("deep", deep, deep_b, "int")
    must_equal("types", [np.float64, np.int64], [np.float64, np.int64])
    must_differ("types2", [np.float64], [np.float32], "not the same")
    must_differ("npscalar", np.float32(1.5), np.float32(2.5), "bits")
    must_differ("npscalar-type", np.float32(1.5), np.float64(1.5), "type")
    must_equal("slice", slice(1, None, 2), rt(slice(1, None, 2)))
    must_differ("slice2", slice(1, None, 2), slice(1, 3, 2), ".stop")
    return problems


if __name__ == "__main__":
    require_packages("interop-common")
    probs = self_test()
    for p_ in probs:
        print(p_)
    print("interop-common self-test: %d passed, %d failed" % (0 if probs else 1, len(probs)))
    sys.exit(1 if probs else 0)


# ------------------------------------------------- untrusted files, inert

def inert_load(path):
    """The wild file's objects with every sklearn class replaced by a plain
    attribute holder (no sklearn code runs; only numpy/joblib reconstructors
    are resolved), so the expectations use nothing but its arrays.  joblib
    reads object arrays (estimators_) with a nested pickle.load, which is
    routed through the same restricted unpickler."""
    import pickle as pk
    import types
    import joblib
    import joblib.numpy_pickle as jnp

    class Inert:
        def __init__(self, *args, **kwargs):
            self._args = args

        def __setstate__(self, st):
            if isinstance(st, dict):
                self.__dict__.update(st)
            else:
                self._state = st

    def resolve(module, name):
        if module.startswith("sklearn.externals.joblib"):
            module = "joblib" + module[len("sklearn.externals.joblib"):]
        if module.startswith("numpy._core"):
            module = "numpy.core" + module[len("numpy._core"):]
        # random states (members' random_state_) are not needed to predict, and
        # numpy 1.24 cannot rebuild newer numpy's bit generators
        # scipy.sparse matrices (a TfidfTransformer's _idf_diag) keep their state dict
        if module.startswith(("sklearn.", "numpy.random", "scipy.sparse")) or module == "_loss":
            return module, None, type(name, (Inert,), {})
        if (module, name) == ("builtins", "slice"):  # ColumnTransformer column selections
            return module, name, None
        if (module, name) in (("builtins", "set"), ("builtins", "frozenset")):  # stop_words_
            return module, name, None
        if module.split(".")[0] not in ("numpy", "copyreg", "_codecs", "joblib"):
            raise pk.UnpicklingError("refused %s.%s" % (module, name))
        return module, name, None

    class Nested(pk.Unpickler):
        def find_class(self, module, name):
            module, name, inert = resolve(module, name)
            return inert or super().find_class(module, name)

    class Unpickler(jnp.NumpyUnpickler):
        def find_class(self, module, name):
            module, name, inert = resolve(module, name)
            return inert or super().find_class(module, name)

    shim = types.SimpleNamespace(**{k: getattr(pk, k) for k in dir(pk) if not k.startswith("__")})
    shim.load = lambda fh, **kw: Nested(fh).load()
    saved = jnp.NumpyUnpickler, jnp.pickle
    jnp.NumpyUnpickler, jnp.pickle = Unpickler, shim
    try:
        return joblib.load(path)
    finally:
        jnp.NumpyUnpickler, jnp.pickle = saved


# ------------------------------------------- brine predict over the formats

def predict_in_every_format(brine, tmp, name, model, xpath, ref, sources, timeout, summary, allow_pickle=False):
    """Saves model in every (name, kind, arg) of sources (pickle protocol
    or joblib compress), runs `brine predict --method M -o F.npy` for each
    method of ref ({method: sklearn's output}) and yields (label, method,
    got, want) for each run that succeeded; a crash or a failed run is
    recorded in summary.  A one-column 2-D output is flattened where sklearn
    gives 1-D."""
    import pickle
    import joblib
    import numpy as np
    for sname, kind, arg in sources:
        path = os.path.join(tmp, "%s.%s" % (name, sname))
        if kind == "pickle":
            with open(path, "wb") as f:
                pickle.dump(model, f, protocol=arg)
        else:
            joblib.dump(model, path, compress=arg)
        for meth, want in ref.items():
            out = os.path.join(tmp, "%s.%s.%s.npy" % (name, sname, meth))
            res = run_brine(brine, ["predict", path, xpath, "--method", meth, "-o", out], timeout=timeout)
            label = "%s/%s/%s" % (name, sname, meth)
            crash = res.crash_reason()
            if crash or res.rc != 0:
                summary.fail(label, "  brine %s\n%s" % (crash or "failed", res.describe()))
                continue
            got = np.load(out, allow_pickle=allow_pickle)
            if got.ndim == 2 and np.ndim(want) == 1 and got.shape[1] == 1:
                got = got[:, 0]
            yield label, meth, got, want



def compare_in_every_format(brine, tmp, name, model, xpath, ref, sources, timeout, summary, differs,
                            allow_pickle=False):
    """predict_in_every_format, each result judged by differs(method, got,
    want): None when they agree, else what differs (recorded as a failure).
    Returns the number of results judged."""
    n = 0
    for label, meth, got, want in predict_in_every_format(brine, tmp, name, model, xpath, ref, sources, timeout,
                                                          summary, allow_pickle=allow_pickle):
        n += 1
        d = differs(meth, got, want)
        if d:
            summary.fail(label, "  " + d)
        else:
            summary.ok()
    return n

# ------------------------------------- files brine writes back, in Python

WRITE_BACK_TARGETS = (("p2.pkl", ["--protocol", "2"]), ("p5.pkl", ["--protocol", "5"]),
                      ("zlib.joblib", ["--compress", "3"]), ("lz4.joblib", ["--compress", "lz4"]))


def written_back(brine, tmp, name, path, model, X, methods, summary, timeout=60.0, targets=WRITE_BACK_TARGETS):
    """`brine convert path` into each target (pickle protocols, joblib
    compressors); Python loads each file (pickle.load / joblib.load) and every
    method in methods must give exactly what model (the object path holds)
    gives on X.  Returns the number of files checked."""
    import pickle
    import joblib
    import numpy as np
    checked = 0
    for suffix, flags in targets:
        out = os.path.join(tmp, "%s.back.%s" % (name, suffix))
        res = run_brine(brine, ["convert", path, out, "--no-meta"] + flags, timeout=timeout)
        label = "%s/write-back/%s" % (name, suffix)
        if res.crash_reason() or res.rc != 0:
            summary.fail(label, "  brine convert %s\n%s" % (res.crash_reason() or "failed", res.describe()))
            continue
        try:
            if suffix.endswith(".pkl"):
                with open(out, "rb") as f:
                    back = pickle.load(f)
            else:
                back = joblib.load(out)
        except Exception as e:  # noqa: BLE001 - any failure to load is the finding
            summary.fail(label, "  Python cannot load it: %r" % (e,))
            continue
        def same(a, b):
            a = a.toarray() if hasattr(a, "toarray") else np.asarray(a)  # scipy sparse results
            b = b.toarray() if hasattr(b, "toarray") else np.asarray(b)
            return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        bad = [m for m in methods if not same(getattr(back, m)(X), getattr(model, m)(X))]
        if type(back) is not type(model) or bad:
            summary.fail(label, "  reloaded %s differs in %s" % (type(back).__name__, bad or "class"))
            continue
        summary.ok()
        checked += 1
    return checked
