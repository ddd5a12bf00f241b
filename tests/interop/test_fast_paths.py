#!/usr/bin/python3
"""The fast paths, checked by Python.

  * brine predict --threads 1, 2 and 4 over 20 000 rows of a 30-tree forest
    (the compact float32 layout, row blocks, threads): every method's output
    bit for bit sklearn's;
  * rows placed on the forest's thresholds and their float neighbours,
    where a wrongly rounded float32 threshold would send a row the wrong way;
  * brine convert --compress zlib:3 and gzip:3 of that forest, large enough
    for the parallel chunked deflate: joblib.load reads the files to a forest
    that predicts exactly as the original, within 1% of joblib's own size.

Usage: /usr/bin/python3 tests/interop/test_fast_paths.py --brine build/brine
Last line: `interop-fast-paths: P passed, F failed`.
"""
import os
import sys
import zlib

import common

PREFIX = "interop-fast-paths"
common.require_packages(PREFIX)

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import RandomForestClassifier, ExtraTreesRegressor  # noqa: E402


def threshold_rows(forest, n, rng):
    """Rows whose values are thresholds (as float32) and their neighbours."""
    ths = np.concatenate([e.tree_.threshold[e.tree_.feature >= 0] for e in forest.estimators_])
    X = rng.choice(ths, size=(n, forest.n_features_in_)).astype(np.float32)
    bump = rng.randint(-1, 2, size=X.shape)
    X = np.where(bump > 0, np.nextafter(X, np.float32(np.inf)), X)
    X = np.where(bump < 0, np.nextafter(X, np.float32(-np.inf)), X)
    return X.astype(np.float32)


def main():
    args = common.parse_args("brine's fast paths against sklearn")
    brine = common.find_brine(args.brine, PREFIX)
    summary = common.Summary(PREFIX, args.max_failures_shown)
    rng = np.random.RandomState(77)
    X, y = make_classification(n_samples=30000, n_features=10, n_informative=6, random_state=5)
    X = X.astype(np.float32)
    clf = RandomForestClassifier(n_estimators=30, random_state=1).fit(X[:20000], y[:20000])
    reg = ExtraTreesRegressor(n_estimators=10, random_state=2).fit(X[:5000], X[:5000, 0] * 3 + y[:5000])
    with common.TempDir(args.keep) as tmp:
        rows = np.concatenate([X[20000:], threshold_rows(clf, 10000, rng)])
        np.save(os.path.join(tmp, "rows.npy"), rows)
        models = {"clf": clf, "reg": reg}
        for name, m in models.items():
            joblib.dump(m, os.path.join(tmp, name + ".pkl"))
        expected = {
            ("clf", "predict"): clf.predict(rows),
            ("clf", "predict_proba"): clf.predict_proba(rows),
            ("clf", "apply"): clf.apply(rows),
            ("reg", "predict"): reg.predict(rows),
        }
        for (name, method), want in expected.items():
            for threads in (1, 2, 4):
                out = os.path.join(tmp, "%s_%s_%d.npy" % (name, method, threads))
                res = common.run_brine(brine, ["predict", os.path.join(tmp, name + ".pkl"),
                                               os.path.join(tmp, "rows.npy"), "--method", method,
                                               "--threads", str(threads), "-o", out], timeout=args.timeout * 4)
                tag = "%s %s --threads %d" % (name, method, threads)
                if res.rc != 0:
                    summary.fail(tag, res.describe())
                    continue
                got = np.load(out)
                if got.shape != want.shape or got.dtype.kind != want.dtype.kind or \
                        got.astype(want.dtype).tobytes() != want.tobytes():
                    bad = np.argwhere(got.reshape(want.shape) != want)[:3] if got.shape == want.shape else "shape"
                    summary.fail(tag, "  differs from sklearn (first at %s)" % (bad,))
                else:
                    summary.ok()
        # Saving through the parallel deflate; Python loads the result.
        src = os.path.join(tmp, "clf.pkl")
        for spec, ext in (("zlib:3", ".z"), ("gzip:3", ".gz")):
            out = os.path.join(tmp, "clf_brine.joblib" + ext)
            res = common.run_brine(brine, ["convert", src, out, "--compress", spec], timeout=args.timeout * 4)
            if res.rc != 0:
                summary.fail("convert " + spec, res.describe())
                continue
            raw = os.path.getsize(src)
            if raw < 4 << 20:
                summary.fail("convert " + spec, "  the model (%d bytes) is too small for the parallel path" % raw)
                continue
            back = joblib.load(out)
            # Against one zlib stream of the same bytes at the same level:
            # the chunks may cost at most 1%.
            plain = os.path.join(tmp, "clf_plain.joblib")
            res = common.run_brine(brine, ["convert", src, plain], timeout=args.timeout * 4)
            with open(plain, "rb") as f:
                single = len(zlib.compress(f.read(), 3))
            size = os.path.getsize(out) - (18 if ext == ".gz" else 6)  # headers and trailers
            if back.predict_proba(rows).tobytes() != expected[("clf", "predict_proba")].tobytes():
                summary.fail("convert " + spec, "  joblib.load of brine's file predicts differently")
            elif res.rc != 0 or size > single * 1.01:
                summary.fail("convert " + spec, "  %d bytes, more than 1%% over one zlib stream's %d" % (size, single))
            else:
                summary.ok()
    sys.exit(summary.finish())


if __name__ == "__main__":
    main()
