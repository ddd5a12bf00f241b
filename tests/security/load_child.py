"""Throw-away loader processes for test_attacks.py (run with /usr/bin/python3 -I).

Importing joblib costs about 0.4 s and sklearn about 1 s, and the attack
corpus has over a thousand files, so one process per file would cost
minutes.  Instead test_attacks.py starts a few of these servers; each has
the consumers imported once and forks one child per file.  The child is
the throw-away process of SECURITY.md section 5: its own process group, a
fresh empty cwd, an environment holding only MARKER (and PATH, HOME, locale
and thread settings), RLIMIT_AS 1 GiB and RLIMIT_CPU 10 s, stdout/stderr
into files, and a wall-clock timeout after which its whole group is killed.
Nothing a payload does in a child reaches the server or the test.

Protocol: one JSON job a line on stdin
    {"path", "consumer", "then", "cwd", "marker", "out", "timeout"}
one JSON result a line on stdout
    {"status": exit status or -signal, "timed_out", "seconds"}
and the child writes {"loaded", "exception", "environ_changed"} to
<out>/result.json (missing when it died).
"""

import json
import os
import resource
import signal
import sys
import time

LIMIT_AS = 1 << 30
LIMIT_CPU = 10


def preload():
    """Modules every consumer needs, imported once in the server."""
    import gc  # noqa: F401
    import gzip  # noqa: F401
    import pickle  # noqa: F401
    import joblib  # noqa: F401
    import numpy  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
    import sklearn.tree  # noqa: F401


def load(consumer, path, then):
    import pickle
    if consumer == "pickle.load":
        with open(path, "rb") as f:
            obj = pickle.load(f)
            if then == "all-streams":   # loaders that call load until EOF
                size = os.fstat(f.fileno()).st_size
                while f.tell() < size:
                    obj = pickle.load(f)
    elif consumer == "pickle._Unpickler":
        with open(path, "rb") as f:
            obj = pickle._Unpickler(f).load()
    elif consumer == "joblib.load":
        import joblib
        obj = joblib.load(path)
    elif consumer == "gzip.open+pickle.load":
        import gzip
        with gzip.open(path, "rb") as f:
            obj = pickle.load(f)
    elif consumer == "numpy.load":
        import numpy
        with numpy.load(path, allow_pickle=True) as z:
            obj = [z[k] for k in z.files]
    else:
        raise ValueError("unknown consumer %r" % consumer)
    return after(obj, then)


def after(obj, then):
    """What a user does next with a loaded model."""
    import numpy
    if then == "predict":
        obj.predict(numpy.zeros((1, obj.n_features_in_)))
    elif then == "transform":
        obj.transform(numpy.zeros((1, 1)))
    elif then == "repr":
        repr(obj)
    return obj


def child(job):
    """Runs in the forked child; never returns."""
    try:
        os.setpgid(0, 0)
        out = job["out"]
        for fd, name in ((1, "stdout"), (2, "stderr")):
            f = os.open(os.path.join(out, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(f, fd)
            os.close(f)
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update({"MARKER": job["marker"], "PATH": "/usr/bin:/bin", "HOME": job["cwd"],
                           "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))
        resource.setrlimit(resource.RLIMIT_CPU, (LIMIT_CPU, LIMIT_CPU + 1))
        before = dict(os.environ)
        res = {"loaded": False, "exception": None}
        try:
            obj = load(job["consumer"], job["path"], job["then"])
            res["loaded"] = True
            del obj                      # runs __del__ payloads (A7) now
        except BaseException as e:       # noqa: B902 - recorded, E1/E2 raise after the harm
            res["exception"] = "%s: %s" % (type(e).__name__, str(e)[:300])
        import gc
        gc.collect()
        res["environ_changed"] = dict(os.environ) != before
        reap_children()
        with open(os.path.join(out, "result.json"), "w") as f:
            json.dump(res, f)
        os._exit(0)
    except BaseException:                # noqa: B902
        os._exit(70)


def reap_children():
    """Wait for processes the payload started (a shell running touch), so
    the marker exists before the test looks; the timeout bounds this."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def run(job):
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        child(job)
    try:
        os.setpgid(pid, pid)             # also here: no race with the child's own call
    except OSError:
        pass
    deadline = t0 + job["timeout"]
    timed_out = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            timed_out = True
            kill_group(pid)
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.003)
    kill_group(pid)                      # leftovers (daemons) of this child
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return {"status": code, "timed_out": timed_out, "seconds": round(time.monotonic() - t0, 3)}


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def serve():
    preload()
    import gc
    gc.freeze()   # children's gc.collect() then skips the preloaded objects
    sys.stdout.write('{"ready": true}\n')
    sys.stdout.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        res = run(json.loads(line))
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
