#!/usr/bin/python3
"""brine against numpy as it dispatches, where numpy's AVX-512 exp and log
are not libm's: close, and how close.

The other interop scripts run numpy without its AVX-512 loops (common.py,
NUMPY_LIBM_FEATURES) so that they can demand sklearn's bits exactly.  This
one runs sklearn in a child process with numpy's default dispatch: on a CPU
with AVX-512 its float64 exp and log (and so expit, softmax, logs of
probabilities, path lengths) differ from libm's in the last bit for about a
fifth of all inputs, and sklearn's arithmetic after them carries those
bits on: brine (libm's exp and log, sklearn's operations in sklearn's
order) cannot reproduce them.  Labels must be equal; every float cell
within 1e-13 of its output row's scale (the larger of 1.0 and the row's
largest magnitude: where sklearn subtracts after an exp or a log, as in
IsolationForest's decision_function or GaussianNB's normalised
log-probabilities, a last-bit change at that scale is what reaches a small
cell); infinities equal.  The summary says whether the AVX-512 loops were
in use (without them every cell is bit-identical), how many cells were
bit-identical and the largest distance in ulp of the row's scale
(docs/SUPPORT.md quotes it).

Usage: /usr/bin/python3 tests/interop/test_simd_ulps.py --brine build/brine
Last line: `simd-ulps: P passed, F failed`."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "simd-ulps"
TOL = 1e-13  # of the row's scale

# Runs with numpy's default dispatch: fits, saves each model with joblib,
# writes X and sklearn's outputs as .npy, and prints what numpy used.
CHILD = r'''
import json, os, sys, warnings
warnings.simplefilter("ignore")
import joblib, numpy as np
from numpy.core._multiarray_umath import __cpu_features__ as cpu
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_diabetes
from sklearn.ensemble import (GradientBoostingClassifier, HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor, IsolationForest, RandomForestClassifier)
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier
out = sys.argv[1]
bc, iris, digits, diab = load_breast_cancer(), load_iris(), load_digits(), load_diabetes()
models = [
    ("gbc_binary", GradientBoostingClassifier(n_estimators=20, random_state=0), bc,
     ["predict", "predict_proba", "predict_log_proba", "decision_function"]),
    ("gbc_iris", GradientBoostingClassifier(n_estimators=10, random_state=0), iris, ["predict_proba"]),
    ("hgbc_digits", HistGradientBoostingClassifier(max_iter=10, random_state=0), digits, ["predict_proba"]),
    ("hgbr_poisson", HistGradientBoostingRegressor(loss="poisson", max_iter=20, random_state=0), diab, ["predict"]),
    ("iso", IsolationForest(n_estimators=30, random_state=0), bc, ["score_samples", "decision_function"]),
    ("dtc", DecisionTreeClassifier(max_depth=4, random_state=0), digits, ["predict_log_proba"]),
    ("rfc", RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0), iris, ["predict_log_proba"]),
    ("gnb", GaussianNB(), digits, ["predict_proba", "predict_log_proba"]),
]
done = []
for name, est, data, methods in models:
    X, y = data.data, data.target
    if name == "hgbr_poisson":
        y = np.abs(y)
    est.fit(X, y)
    joblib.dump(est, os.path.join(out, name + ".joblib"))
    np.save(os.path.join(out, name + ".x.npy"), X)
    for m in methods:
        np.save(os.path.join(out, "%s.%s.npy" % (name, m)), np.asarray(getattr(est, m)(X)))
    done.append([name, methods])
print(json.dumps({"avx512f": bool(cpu.get("AVX512F")), "models": done}))
'''


def ulp_distance(np, got, want):
    """Largest distance between float64 cells in ulp of the row's scale
    (see the module docstring).  Equal infinities and NaNs count 0; a mismatch of
    them counts as infinitely far."""
    g = np.ascontiguousarray(got, dtype=np.float64)
    w = np.ascontiguousarray(want, dtype=np.float64)
    same = (g == w) | (np.isnan(g) & np.isnan(w))
    finite = np.isfinite(g) & np.isfinite(w)
    if not (same | finite).all():
        return float("inf")
    w2 = w.reshape(len(w), -1) if w.ndim else w.reshape(1, 1)
    mag = np.where(np.isfinite(w2), np.abs(w2), 0.0).max(axis=1, keepdims=True)
    scale = np.spacing(np.maximum(mag, 1.0))
    with np.errstate(invalid="ignore"):  # equal infinities, already counted in same
        d = np.where(same.reshape(w2.shape), 0.0, np.abs(g.reshape(w2.shape) - w2) / scale)
    return float(d.max()) if d.size else 0.0


def main():
    import numpy as np
    args = common.parse_args(__doc__.split("\n")[1])
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    env = dict(os.environ)
    env.pop("NPY_DISABLE_CPU_FEATURES", None)  # numpy as it dispatches
    cells = identical = 0
    worst = 0.0
    with common.TempDir(args.keep) as tmp:
        p = subprocess.run([sys.executable, "-c", CHILD, tmp], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=600)
        if p.returncode != 0:
            summary.fail("fit with numpy's default dispatch", p.stderr.decode(errors="replace")[-2000:])
            return summary.finish()
        info = json.loads(p.stdout.decode().strip().splitlines()[-1])
        for name, methods in info["models"]:
            model, xpath = os.path.join(tmp, name + ".joblib"), os.path.join(tmp, name + ".x.npy")
            for meth in methods:
                out = os.path.join(tmp, "%s.%s.brine.npy" % (name, meth))
                res = common.run_brine(brine, ["predict", model, xpath, "--method", meth, "-o", out],
                                       timeout=args.timeout)
                label = "%s/%s" % (name, meth)
                if res.rc != 0:
                    summary.fail(label, res.stderr_text.strip()[:500])
                    continue
                got = np.load(out)
                want = np.load(os.path.join(tmp, "%s.%s.npy" % (name, meth)))
                if got.shape != want.shape:
                    summary.fail(label, "shape %s, sklearn %s" % (got.shape, want.shape))
                    continue
                if want.dtype.kind != "f":
                    if np.array_equal(got, want):
                        summary.ok()
                    else:
                        summary.fail(label, "labels differ")
                    continue
                d = ulp_distance(np, got, want)
                cells += want.size
                identical += int((got.view(np.uint64) == np.ascontiguousarray(want, np.float64).view(np.uint64)).sum())
                worst = max(worst, d)
                print("  %s: %.3g ulp of the row's scale at most" % (label, d))
                if d * 2.0 ** -52 <= TOL:
                    summary.ok()
                else:
                    summary.fail(label, "%.3g ulp of the row's scale from sklearn, more than %g of it" % (d, TOL))
    print("simd-ulps: numpy's AVX-512 loops %s; %d of %d float cells bit-identical to sklearn's, the rest at "
          "most %.3g ulp of their row's scale apart" % ("in use" if info["avx512f"] else "not in use (this CPU lacks AVX-512F)",
                                 identical, cells, worst))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
