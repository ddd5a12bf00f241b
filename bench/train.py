#!/usr/bin/python3
"""Training benchmark: brine train vs scikit-learn's fit, side by side.

RandomForestClassifier(n_estimators=100, random_state=0) on a 100 000 x 20
synthetic set (make_classification, fixed seed), by Debian's sklearn with
n_jobs=1 and n_jobs=2 (in this process, data already in memory) and by
`brine train` with n_jobs=1 and n_jobs=2 (the whole command: reading the
CSV, fitting, writing the pickle).  Prints per case both medians, the ratio,
the goal and MET / NOT MET, the peak memory of each side, and checks that
brine's trees equal sklearn's (every Tree array ==).

Goal: brine at least twice as fast as sklearn single-threaded.
Each side runs BENCH_TRAIN_REPEATS times (default 1: one sklearn fit takes
about a minute on 2 cores); --trees N makes a quicker run.
"""
import argparse
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

FIELDS = ("children_left", "children_right", "feature", "threshold", "impurity",
          "n_node_samples", "weighted_n_node_samples", "value")


def brine_fit(brine, data, out, trees, jobs):
    argv = [brine, "train", "RandomForestClassifier", data, "-o", out, "--no-meta",
            "--sklearn-version", "1.2.1", "-p", "n_estimators=%d" % trees, "-p", "random_state=0",
            "-p", "n_jobs=%d" % jobs]
    t0 = time.perf_counter()
    subprocess.run(argv, check=True)
    return time.perf_counter() - t0


def sklearn_fit(X, y, trees, jobs):
    t0 = time.perf_counter()
    m = RandomForestClassifier(n_estimators=trees, random_state=0, n_jobs=jobs).fit(X, y)
    return time.perf_counter() - t0, m


def same_trees(a, b):
    return len(a.estimators_) == len(b.estimators_) and all(
        np.array_equal(getattr(x.tree_, f), getattr(y.tree_, f))
        for x, y in zip(a.estimators_, b.estimators_) for f in FIELDS)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--brine", default="build/brine")
    p.add_argument("--trees", type=int, default=100)
    p.add_argument("--rows", type=int, default=100000)
    p.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_TRAIN_REPEATS", "1")))
    a = p.parse_args()
    X, y = make_classification(n_samples=a.rows, n_features=20, n_informative=10, random_state=0)
    with tempfile.TemporaryDirectory(prefix="brine-bench-train-") as tmp:
        data = os.path.join(tmp, "train.csv")
        np.savetxt(data, np.column_stack([X, y]), delimiter=",", fmt="%.17g")
        rows = []
        identical = True
        for jobs in (1, 2):
            sk, br = [], []
            ref = None
            for r in range(a.repeats):
                t, ref = sklearn_fit(X, y, a.trees, jobs)
                sk.append(t)
                out = os.path.join(tmp, "rf-%d.pkl" % jobs)
                br.append(brine_fit(a.brine, data, out, a.trees, jobs))
            with open(out, "rb") as f:
                identical &= same_trees(pickle.load(f), ref)
            rows.append((jobs, statistics.median(sk), statistics.median(br)))
        peak_py = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_brine = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print("training: RandomForestClassifier(n_estimators=%d) on %d x 20, median of %d" % (a.trees, a.rows, a.repeats))
    print("%-28s %12s %12s %8s %8s  %s" % ("case", "sklearn s", "brine s", "ratio", "goal", "result"))
    ok = True
    for jobs, sk, br in rows:
        ratio = sk / br
        goal = 2.0 if jobs == 1 else None
        met = "MET" if goal is None or ratio >= goal else "NOT MET"
        ok &= met == "MET"
        print("%-28s %12.2f %12.2f %7.2fx %8s  %s" % ("fit, n_jobs=%d" % jobs, sk, br, ratio,
                                                      ">= %.1fx" % goal if goal else "-", met if goal else "(info)"))
    print("peak memory: python %.0f MiB, brine train %.0f MiB" % (peak_py, peak_brine))
    print("trees identical to sklearn's: %s" % ("yes" if identical else "NO"))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
