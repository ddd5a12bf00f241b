#!/usr/bin/python3
"""Fitted scikit-learn estimators through brine convert.

Fits, with fixed seeds on iris (shipped inside sklearn):
  RandomForestClassifier(n_estimators=10), Pipeline(StandardScaler,
  LogisticRegression), StandardScaler, DecisionTreeRegressor,
  GradientBoostingClassifier(n_estimators=5) (its estimators_ is an object
  array: a nested pickle inside joblib files), KNeighborsClassifier
  (algorithm='kd_tree');
saves each as pickle protocol 4 and as joblib compress=3, converts each
with brine to every target of test_convert.py (pickle protocols 2-5,
joblib uncompressed and with each compressor), reloads the output in
Python and asserts
  * predict, predict_proba, decision_function, transform,
    inverse_transform, apply, kneighbors (those the estimator has) give
    bit-identical results to the original estimator;
  * the reloaded estimator deep-compares equal to the one Python loads
    from the source file (common.deep_compare over __reduce_ex__ state;
    shared arrays must stay shared in pickle targets).

Usage: /usr/bin/python3 tests/interop/test_estimators.py --brine build/brine
Last line: `interop-estimators: P passed, F failed`.
"""

import os
import pickle
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "interop-estimators"
common.require_packages(PREFIX)

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeRegressor  # noqa: E402

from test_convert import TARGETS  # noqa: E402  (same target list)

SOURCES = [("p4", "pickle", 4), ("jl-zlib3", "joblib", 3)]
METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform",
           "inverse_transform", "apply", "kneighbors")


def fit_models():
    X, y = load_iris(return_X_y=True)
    X = np.ascontiguousarray(X)
    models = [
        ("random_forest", RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)),
        ("pipeline_scaler_logreg", Pipeline([("scaler", StandardScaler()),
                                             ("logreg", LogisticRegression(max_iter=1000))]).fit(X, y)),
        ("standard_scaler", StandardScaler().fit(X)),
        ("decision_tree_regressor", DecisionTreeRegressor(random_state=0).fit(X[:, :3], X[:, 3])),
        ("gradient_boosting", GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y)),
        ("knn_kd_tree", KNeighborsClassifier(algorithm="kd_tree").fit(X, y)),
    ]
    return X, models


def outputs(model, X):
    """{method: result} for the methods this estimator has."""
    res = {}
    Xm = X[:, :3] if getattr(model, "n_features_in_", X.shape[1]) == 3 else X
    for m in METHODS:
        if not hasattr(model, m):
            continue
        if m == "inverse_transform" and not hasattr(model, "transform"):
            continue
        arg = model.transform(Xm) if m == "inverse_transform" else Xm
        res[m] = getattr(model, m)(arg)
    return res


def main():
    args = common.parse_args(__doc__.split("\n")[1])
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    t0 = time.monotonic()
    warnings.simplefilter("ignore")
    X, models = fit_models()
    reference = {name: outputs(m, X) for name, m in models}
    print("estimators: fitted %d models in %.1f s; methods: %s" % (
        len(models), time.monotonic() - t0,
        "; ".join("%s: %s" % (n, ",".join(r)) for n, r in reference.items())))

    with common.TempDir(args.keep) as tmp:
        src = {}
        loaded_src = {}
        for name, model in models:
            for sname, kind, arg in SOURCES:
                path = os.path.join(tmp, "%s.%s.src" % (name, sname))
                if kind == "pickle":
                    with open(path, "wb") as f:
                        pickle.dump(model, f, protocol=arg)
                    with open(path, "rb") as f:
                        back = pickle.load(f)
                else:
                    joblib.dump(model, path, compress=arg)
                    back = joblib.load(path)
                src[name, sname] = path
                loaded_src[name, sname] = back
                # sanity: Python's own round trip must reproduce the outputs
                d = common.deep_compare(reference[name], outputs(back, X))
                if d:
                    summary.fail("%s/%s (Python itself)" % (name, sname), "  " + d)

        cases = [(name, sname, t) for name, _ in models for sname, _, _ in SOURCES for t in TARGETS]

        def check(case):
            """Runs in a forked worker: None if the case passes, else the failure text."""
            name, sname, (tname, tkind, targs, tparam) = case
            out = os.path.join(tmp, "%s.%s.%s.out" % (name, sname, tname))
            res = common.run_brine(brine, ["convert", src[name, sname], out] + targs, timeout=args.timeout)
            try:
                crash = res.crash_reason()
                if crash or res.rc != 0:
                    return "  brine %s\n%s" % (crash or "failed", res.describe())
                try:
                    if tkind == "pickle":
                        with open(out, "rb") as f:
                            head = f.read(2)
                            f.seek(0)
                            if head != b"\x80" + bytes([tparam]):
                                return "  output does not start with PROTO %d: %r\n%s" % (
                                    tparam, head, res.describe())
                            got = pickle.load(f)
                    else:
                        got = joblib.load(out)
                except Exception as e:
                    return "  Python cannot load the output: %s: %s\n%s" % (
                        type(e).__name__, str(e)[:500], res.describe())
                if type(got) is not type(loaded_src[name, sname]):
                    return "  loaded a %s, expected %s\n%s" % (
                        type(got).__name__, type(loaded_src[name, sname]).__name__, res.describe())
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        outs = outputs(got, X)
                except Exception as e:
                    return "  calling the reloaded estimator failed: %s: %s\n%s" % (
                        type(e).__name__, str(e)[:500], res.describe())
                d = common.deep_compare(reference[name], outs)
                if d:
                    return "  outputs differ: %s\n%s" % (d, res.describe())
                # joblib.load gives every NumpyArrayWrapper its own array, so
                # Python's own joblib files do not keep arrays shared (e.g.
                # KNeighbors' _fit_X is its KDTree's data); array identity is
                # required for pickle targets only here (test_convert.py
                # requires it everywhere).
                d = common.deep_compare(loaded_src[name, sname], got, array_identity=(tkind == "pickle"))
                if d:
                    return "  estimator state differs: %s\n%s" % (d, res.describe())
                return None
            finally:
                if not args.keep:
                    try:
                        os.unlink(out)
                    except OSError:
                        pass

        def label(case):
            return "%s/%s->%s" % (case[0], case[1], case[2][0])

        def on_result(case, msg):
            if msg:
                summary.fail(label(case), msg)
            else:
                summary.ok()

        def on_crash(case, reason):
            summary.fail(label(case), "  %s\n  command: %s convert %s OUT %s\n" % (
                reason, brine, src[case[0], case[1]], " ".join(case[2][2])))

        print("estimators: running %d cases (%d models x %d sources x %d targets) on %d worker processes" % (
            len(cases), len(models), len(SOURCES), len(TARGETS), args.jobs))
        common.run_forked(cases, check, args.jobs, on_result, on_crash,
                          common.progress_printer("estimators", len(cases), 0.25),
                          task_timeout=4 * args.timeout + 120)
    print("estimators: %.1f s in all" % (time.monotonic() - t0))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
