#!/usr/bin/python3
"""HistGradientBoosting: brine predict equals Debian's sklearn and the wild files' own arrays.

Fits HistGradientBoostingClassifier (binary, multiclass with 3 and 10
classes, string labels, categorical features, NaN in training and at
predict, early stopping on and off) and HistGradientBoostingRegressor
(squared_error, absolute_error, poisson, quantile; categorical features,
NaN, early stopping) with Debian's sklearn 1.2.1, saves each as pickle
(protocols 2-5 and joblib zlib, lz4 for one classifier and one regressor;
protocol 4 for the others) and compares `brine predict --method
M -o out.npy` with sklearn for every method the estimator has (predict,
predict_proba, decision_function): labels exactly, floats bit for bit
(float64 sums in iteration order, libm exp, softmax as sklearn's).  The
rows include NaN, infinities, negative, fractional, unknown and >= 256
category codes.  Methods sklearn lacks must be refused (one per model, in
turn).  Files `brine convert` writes back (verbatim; pickle protocols 2 and
5, joblib zlib and lz4, one per model in turn) must reload in sklearn 1.2.1 and predict exactly as the original.  The wild
HistGradientBoosting files that predict (tests/wild_expectations.tsv) are
compared, bit for bit, with numpy on their own node arrays, read with every
sklearn class inert.

Usage: /usr/bin/python3 tests/interop/test_hist_gb.py --brine build/brine
Last line: `hist_gb: P passed, F failed`."""
import csv
import os
import sys
import warnings

# sklearn's histogram boosting fits and predicts on OpenMP threads, which
# spin on a loaded 2-core machine: one thread (set before numpy and sklearn load)
os.environ["OMP_NUM_THREADS"] = "1"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "hist_gb"
METHODS = ("predict", "predict_proba", "decision_function", "predict_log_proba", "apply", "transform")
ALL_SOURCES = [("p2", "pickle", 2), ("p3", "pickle", 3), ("p4", "pickle", 4), ("p5", "pickle", 5),
               ("zlib", "joblib", 3), ("lz4", "joblib", ("lz4", 3))]
ONE_SOURCE = [("p4", "pickle", 4)]


def with_nan(np, X, frac, seed):
    X = np.array(X, dtype=np.float64)
    mask = np.random.RandomState(seed).uniform(size=X.shape) < frac
    X[mask] = np.nan
    return X


def categorical_data(np, n, seed, classes=None):
    """Two categorical columns (codes 0..5 and 0..9), two numeric ones, NaN
    in each; y from all of them."""
    rng = np.random.RandomState(seed)
    c0 = rng.randint(0, 6, n).astype(float)
    c1 = rng.randint(0, 10, n).astype(float)
    x2 = rng.normal(size=n)
    x3 = rng.uniform(-3, 3, size=n)
    y = np.where(c0 % 2 == 0, 2.0, -1.0) + np.where(c1 > 6, 1.5, 0) + x2 - 0.5 * x3 + rng.normal(size=n) * 0.3
    X = np.c_[c0, x2, c1, x3]
    X = with_nan(np, X, 0.05, seed + 1)
    if classes is not None:
        cuts = np.percentile(y, np.linspace(0, 100, len(classes) + 1)[1:-1])
        y = np.asarray(classes)[np.searchsorted(cuts, y)]
    return X, y


def odd_rows(np, width, cat_cols):
    """Rows sklearn routes by its special cases: NaN, infinities, category
    codes that are negative, fractional, unknown, 256 + known (wraps to a
    byte), beyond 2^31."""
    specials = [np.nan, -1.0, -0.5, 2.7, 7.0, 300.0, 256.0, 258.0, 1e10, 2.0 ** 31, 2.0 ** 32 + 1]
    rows = []
    for i, v in enumerate(specials):
        r = np.zeros(width)
        r[:] = (i % 5) - 2.0
        for c in cat_cols:
            r[c] = v
        rows.append(r)
        r2 = r.copy()
        r2[[j for j in range(width) if j not in cat_cols]] = v if not cat_cols else np.nan
        rows.append(r2)
    return np.array(rows)


def fit_models():
    import numpy as np
    from sklearn import datasets
    from sklearn.ensemble import HistGradientBoostingClassifier as C, HistGradientBoostingRegressor as R
    rng = np.random.RandomState(0)
    iris = datasets.load_iris(return_X_y=True)
    bc = datasets.load_breast_cancer(return_X_y=True)
    diab = datasets.load_diabetes(return_X_y=True)
    digits = datasets.load_digits(return_X_y=True)
    Xs = rng.normal(size=(300, 5)) * [1, 10, 0.1, 100, 1]
    ys = Xs @ rng.normal(size=5) * 0.1 + rng.normal(size=300)
    m = []

    def add(name, est, X, y, cat_cols=()):
        est.fit(X, y)
        m.append((name, est, X, cat_cols))

    bcX = with_nan(np, bc[0], 0.1, 1)
    add("hgbc_bin_bc_nan", C(max_iter=20, random_state=0), bcX, bc[1])
    add("hgbc_multi_iris", C(max_iter=15, learning_rate=0.2, random_state=0), iris[0], iris[1])
    add("hgbc_10class_digits", C(max_iter=4, max_leaf_nodes=6, random_state=0), digits[0][:400], digits[1][:400])
    Xc, yc = categorical_data(np, 400, 3, classes=["neg", "pos"])
    add("hgbc_cat_str_es", C(max_iter=60, categorical_features=[0, 2], early_stopping=True, n_iter_no_change=3,
                             validation_fraction=0.2, random_state=0), Xc, yc, (0, 2))
    Xm, ym = categorical_data(np, 450, 5, classes=[0, 1, 2])
    add("hgbc_cat_multi", C(max_iter=12, categorical_features=[True, False, True, False], max_depth=3,
                            l2_regularization=0.5, random_state=0), Xm, ym, (0, 2))
    add("hgbc_bin_weighted", C(max_iter=10, class_weight="balanced", early_stopping=False, random_state=0),
        Xs, (ys > 1).astype(int))
    add("hgbr_ls_diab", R(max_iter=30, early_stopping=False, random_state=0), diab[0], diab[1])
    add("hgbr_lad_nan", R(loss="absolute_error", max_iter=20, random_state=0), with_nan(np, Xs, 0.1, 2), ys)
    counts = rng.poisson(np.exp(0.3 * Xs[:, 0] + 0.2 * Xs[:, 4]))
    add("hgbr_poisson", R(loss="poisson", max_iter=25, random_state=0), Xs, counts)
    add("hgbr_quantile", R(loss="quantile", quantile=0.3, max_iter=15, max_leaf_nodes=10, random_state=0), Xs, ys)
    Xr, yr = categorical_data(np, 500, 7)
    add("hgbr_cat_es", R(max_iter=80, categorical_features=[0, 2], early_stopping=True, n_iter_no_change=4,
                         scoring="loss", random_state=0), Xr, yr, (0, 2))
    return m


def compare(np, got, want, exact_labels):
    if got.shape != want.shape:
        return "shape %s, sklearn %s" % (got.shape, want.shape)
    if exact_labels:
        return None if np.array_equal(got, want) else "labels differ"
    got, want = np.ascontiguousarray(got), np.ascontiguousarray(want)
    if got.dtype == want.dtype and np.array_equal(got.view(np.uint8), want.view(np.uint8)):
        return None
    return "not bit-identical: max diff %g" % np.nanmax(np.abs(got - want))


# ---------------------------------------------------------------- numpy

def known_categories(np, bm):
    """{feature: set of known category codes} from _bin_mapper."""
    d = bm.__dict__
    ic = d.get("is_categorical_")
    if ic is None:
        return {}
    return {f: set(int(c) for c in d["bin_thresholds_"][f]) for f in np.flatnonzero(ic)}


def category_byte(v):
    return 0 if v >= 2.0 ** 31 else int(v) & 0xFF


def numpy_raw(np, o, X):
    """_raw_predict of a HistGradientBoosting estimator from its own arrays:
    baseline, then each iteration's leaf values in order."""
    d = o.__dict__
    k = int(d["n_trees_per_iteration_"])
    raw = np.zeros((X.shape[0], k)) + np.asarray(d["_baseline_prediction"]).reshape(1, k)
    known = known_categories(np, d["_bin_mapper"])
    for it in d["_predictors"]:
        for j, p in enumerate(it):
            nodes = p.__dict__["nodes"]
            bits = p.__dict__.get("raw_left_cat_bitsets")
            for i in range(X.shape[0]):
                n = 0
                while not nodes["is_leaf"][n]:
                    v = X[i, nodes["feature_idx"][n]]
                    miss = nodes["left"][n] if nodes["missing_go_to_left"][n] else nodes["right"][n]
                    if np.isnan(v):
                        n = miss
                    elif nodes["is_categorical"][n]:
                        c = category_byte(v)
                        row = bits[nodes["bitset_idx"][n]]
                        if v < 0:
                            n = miss
                        elif (int(row[c // 32]) >> (c % 32)) & 1:
                            n = nodes["left"][n]
                        elif c in known[int(nodes["feature_idx"][n])]:
                            n = nodes["right"][n]
                        else:
                            n = miss
                    else:
                        n = nodes["left"][n] if v <= nodes["num_threshold"][n] else nodes["right"][n]
                raw[i, j] += nodes["value"][n]
    return raw


def numpy_regressor_predict(np, o, X):
    raw = numpy_raw(np, o, X)[:, 0]
    link = type(o.__dict__["_loss"].__dict__["link"]).__name__
    return np.exp(raw) if link == "LogLink" else raw


def check_wild(np, brine, summary, tmp, timeout):
    """Wild HistGradientBoosting files brine predicts with, against numpy on
    their own arrays."""
    wild = common.default_wild()
    rows = {r["id"]: r for r in csv.DictReader(open(os.path.join(wild, "MANIFEST.tsv")), delimiter="\t")}
    with open(os.path.join(common.REPO, "tests", "wild_expectations.tsv")) as f:
        exp = list(csv.DictReader([x for x in f if not x.startswith("#")], delimiter="\t"))
    checked = 0
    for e in exp:
        if e["predict"] != "ok" or ".HistGradientBoosting" not in rows[e["id"]]["top_class"]:
            continue
        path = os.path.join(wild, rows[e["id"]]["file"])
        o = common.inert_load(path)
        nf = int(o.n_features_in_)
        X = np.random.RandomState(int(e["id"])).normal(size=(12, nf)) * 3
        X[np.random.RandomState(1).uniform(size=X.shape) < 0.1] = np.nan
        xpath = os.path.join(tmp, "wild%s.npy" % e["id"])
        np.save(xpath, X)
        want = numpy_regressor_predict(np, o, X)
        out = os.path.join(tmp, "wild%s.out.npy" % e["id"])
        res = common.run_brine(brine, ["predict", path, xpath, "-o", out], timeout=timeout)
        checked += 1
        label = "wild %s %s/predict" % (e["id"], rows[e["id"]]["top_class"].rsplit(".", 1)[1])
        if res.crash_reason() or res.rc != 0:
            summary.fail(label, "  brine failed\n" + res.describe())
            continue
        got = np.load(out, allow_pickle=False)
        got = got[:, 0] if got.ndim == 2 else got
        d = compare(np, got, want, False)
        if d:
            summary.fail(label, "  " + d)
        else:
            summary.ok()
    return checked


def main():
    import numpy as np
    args = common.parse_args(__doc__.split("\n")[1])
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    warnings.simplefilter("ignore")
    models = fit_models()
    checks = 0
    written = []
    with common.TempDir(args.keep) as tmp:
        for idx, (name, model, X, cat_cols) in enumerate(models):
            Xp = np.ascontiguousarray(np.r_[X[::7][:40], odd_rows(np, X.shape[1], cat_cols)], dtype=np.float64)
            xpath = os.path.join(tmp, name + ".x.npy")
            np.save(xpath, Xp)
            ref = {meth: np.asarray(getattr(model, meth)(Xp)) for meth in METHODS if hasattr(model, meth)}
            # every container for one classifier and one regressor, the
            # default one for the rest (the ASan run of check.sh stays short)
            sources = ALL_SOURCES if name in ("hgbc_cat_str_es", "hgbr_cat_es") else ONE_SOURCE
            for label, meth, got, want in common.predict_in_every_format(
                    brine, tmp, name, model, xpath, ref, sources, args.timeout, summary, allow_pickle=True):
                checks += 1
                d = compare(np, got, want, meth == "predict" and hasattr(model, "classes_"))
                if d:
                    summary.fail(label, "  " + d)
                else:
                    summary.ok()
            path = os.path.join(tmp, "%s.p4" % name)
            # written back verbatim (the generic save): one container per
            # model, all four over the models; sklearn 1.2.1 reloads each
            # file and every method gives exactly what the original gives
            k = len(written) % 4
            written.append(common.written_back(brine, tmp, name, path, model, Xp, list(ref), summary,
                                               timeout=args.timeout,
                                               targets=common.WRITE_BACK_TARGETS[k:k + 1]))
            checks += 1
            # one method sklearn lacks per model, in turn
            lacking = [meth for meth in METHODS if meth not in ref]
            for meth in lacking[idx % len(lacking):][:1]:
                res = common.run_brine(brine, ["predict", path, xpath, "--method", meth], timeout=args.timeout)
                checks += 1
                if res.rc != 2 or res.crash_reason():
                    summary.fail("%s/p4/%s" % (name, meth), "  accepted a method sklearn lacks\n" + res.describe())
                else:
                    summary.ok()
        wild = check_wild(np, brine, summary, tmp, args.timeout)
        checks += wild
    print("hist_gb: %d models, %d checks (%d on wild files); %d files written back by brine equal in sklearn"
          % (len(models), checks, wild, sum(written)))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
