"""bench_py.py — Python's side of the benchmarks, one case per process (so
each case's peak memory is its own), the same subcommands as bench.c:

  load MODEL read|mmap REPEATS
  proba MODEL ROWS.npy N_JOBS REPEATS OUT.f64
  single MODEL ROWS.npy REPEATS OUT.i64
  save MODEL OUT COMPRESS REPEATS
  many REPEATS MODEL...
  cold MODEL CSV            (the whole script of case 1: load, predict, print)

Prints one JSON object with the median in seconds."""
import json
import os
import sys
import time

t_start = time.perf_counter()
import joblib  # noqa: E402
import numpy as np  # noqa: E402


def median(f, n):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main(argv):
    cmd = argv[1]
    if cmd == "cold":
        X = np.loadtxt(argv[3], delimiter=",", ndmin=2)
        for v in joblib.load(argv[2]).predict(X):
            print(v)
        return
    if cmd == "load":
        mmap = "r" if argv[3] == "mmap" else None
        reps = int(argv[-1])
        out = {"median": median(lambda: joblib.load(argv[2], mmap_mode=mmap), reps)}
    elif cmd == "proba":
        rf = joblib.load(argv[2])
        X = np.load(argv[3])
        rf.n_jobs = int(argv[4])
        res = []
        out = {"median": median(lambda: res.append(rf.predict_proba(X)), int(argv[5]))}
        res[-1].astype("<f8").tofile(argv[6])
    elif cmd == "single":
        rf = joblib.load(argv[2])
        X = np.load(argv[3])
        reps = int(argv[4])
        labels = []
        ts = []
        for i in range(reps):
            row = X[i % len(X):i % len(X) + 1]
            t0 = time.perf_counter()
            y = rf.predict(row)
            ts.append(time.perf_counter() - t0)
            labels.append(int(np.searchsorted(rf.classes_, y[0])))
        np.asarray(labels, dtype="<i8").tofile(argv[5])
        out = {"median": float(np.median(ts))}
    elif cmd == "save":
        rf = joblib.load(argv[2])
        level = int(argv[4])
        out = {"median": median(lambda: joblib.dump(rf, argv[3], compress=level), int(argv[5])),
               "durable": median(lambda: durable_dump(joblib, rf, argv[3], level), int(argv[5]))}
    elif cmd == "many":
        paths = argv[3:]
        out = {"median": median(lambda: [joblib.load(p) for p in paths], int(argv[2]))}
    else:
        sys.exit("unknown case " + cmd)
    print(json.dumps(out))


def durable_dump(joblib, model, path, level):
    """joblib.dump made as durable as brine's save (CONVENTIONS: a temporary
    in the same directory, fsync, rename, fsync of the directory)."""
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, "." + os.path.basename(path) + ".tmp")
    joblib.dump(model, tmp, compress=level)
    fd = os.open(tmp, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    os.rename(tmp, path)
    fd = os.open(d, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


main(sys.argv)
