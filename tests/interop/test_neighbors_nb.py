#!/usr/bin/python3
"""Neighbours and naive Bayes: brine predict equals Debian's sklearn.

Fits KNeighborsClassifier and KNeighborsRegressor (algorithm brute, kd_tree,
ball_tree; weights uniform and distance; minkowski p = 1, 2, 3, inf and the
metric names euclidean / manhattan / chebyshev; multi-output; k = 1 and k =
all samples; more than 256 samples, sklearn's chunk) on tie-heavy integer
data (every distance an exact tie with many others, so the neighbours
sklearn picks and their order decide the answer), iris, wine and digits
(integer pixels: ties in 64 dimensions); NearestCentroid; GaussianNB,
MultinomialNB and ComplementNB (count data), BernoulliNB (binarize, and
binary data) and CategoricalNB (integer categories); two Pipelines of a
scaler and one of them.  Each model is saved as pickle (protocols 2-5) or
joblib (zlib, lz4) — one of those six containers per model, in rotation,
so every container is covered — and
`brine predict --method M -o out.npy` must give sklearn's output (on one
OpenMP thread) for every method sklearn has: labels exactly, floats bit for
bit, except the dot products sklearn leaves to BLAS (MultinomialNB,
ComplementNB, BernoulliNB; euclidean brute-force distances as weights on
float data) within 1e-9 relative.  Methods sklearn lacks are refused, so is
input sklearn refuses (CategoricalNB: an unseen or negative category).
Files brine writes back (`brine convert`, every fourth model) load in
Python with equal outputs.  The wild files of these classes
(tests/wild_expectations.tsv) are compared with numpy evaluating their own
arrays, read with every sklearn class inert.

Usage: /usr/bin/python3 tests/interop/test_neighbors_nb.py --brine build/brine
Last line: `neighbors_nb: P passed, F failed`."""
import csv
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "neighbors_nb"
METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform")
SOURCES = [("p2", "pickle", 2), ("p3", "pickle", 3), ("p4", "pickle", 4), ("p5", "pickle", 5),
           ("zlib", "joblib", 3), ("lz4", "joblib", ("lz4", 3))]
BLAS = ("mnb", "cnb", "bnb")  # name prefixes whose floats are BLAS dot products


def fit_models():
    import numpy as np
    from sklearn import datasets
    from sklearn.neighbors import KNeighborsClassifier as KC, KNeighborsRegressor as KR, NearestCentroid
    from sklearn.naive_bayes import GaussianNB, MultinomialNB, ComplementNB, BernoulliNB, CategoricalNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    rng = np.random.RandomState(0)
    iris = datasets.load_iris(return_X_y=True)
    wine = datasets.load_wine(return_X_y=True)
    # tie-heavy: 60 points of {0,1,2}^3, labels of 3 classes (and strings)
    Xt = rng.randint(0, 3, size=(60, 3)).astype(float)
    yt = rng.randint(0, 3, size=60)
    Qt = rng.randint(0, 3, size=(40, 3)).astype(float)
    Qmany = rng.randint(0, 3, size=(90, 3)).astype(float)  # more queries than samples: parallel_on_X
    Y2 = np.c_[yt, (yt + rng.randint(0, 2, size=60)) % 4]
    ys = np.array(["a", "b", "c"])[yt]
    Xc = rng.poisson(2, size=(80, 12)).astype(float)
    yc = rng.randint(0, 3, size=80)
    Xb = (rng.uniform(size=(70, 9)) < 0.4).astype(float)
    yb = rng.randint(0, 2, size=70)
    Xcat = np.c_[rng.randint(0, 3, size=70), rng.randint(0, 5, size=70), rng.randint(0, 2, size=70)]
    m = []

    def add(name, est, X, y, Q):
        m.append((name, est.fit(X, y), np.ascontiguousarray(Q, dtype=np.float64)))

    for alg in ("brute", "kd_tree", "ball_tree"):
        for w in ("uniform", "distance"):
            ps = (1, 2, 3, np.inf) if alg == "brute" else (2, 3) if w == "uniform" else (1, np.inf)
            for p in ps:
                add("kc_%s_%s_p%s" % (alg, w, p), KC(7, algorithm=alg, weights=w, p=p, leaf_size=4), Xt, yt, Qt)
            add("kr_%s_%s" % (alg, w), KR(9, algorithm=alg, weights=w, leaf_size=3), Xt, yt * 1.5 + 0.1, Qt)
            add("kr_%s_%s_p1" % (alg, w), KR(12, algorithm=alg, weights=w, p=1, leaf_size=5), Xt, yt * 0.7, Qmany)
            add("kc_%s_%s_many" % (alg, w), KC(8, algorithm=alg, weights=w, leaf_size=3), Xt, ys, Qmany)
            add("kc2d_%s_%s" % (alg, w), KC(6, algorithm=alg, weights=w), Xt, Y2, Qt)
            add("kr2d_%s_%s" % (alg, w), KR(11, algorithm=alg, weights=w), Xt, Y2 * 0.3, Qt)
    for metric in ("euclidean", "manhattan", "chebyshev"):
        add("kc_%s" % metric, KC(5, metric=metric, weights="distance"), Xt, yt, Qt)
    add("kc_k1", KC(1), Xt, yt, Qt)
    # more than sklearn's chunk of 256 fitted samples: several chunks (whose per-thread heaps
    # sklearn merges; the references are computed on one OpenMP thread, see main)
    Xbig = rng.randint(0, 3, size=(700, 3)).astype(float)
    ybig = rng.randint(0, 4, size=700)
    add("kr_chunks_distance", KR(25, weights="distance"), Xbig, ybig * 0.37, Qt)
    add("kc_chunks", KC(25), Xbig, ybig, Qt)
    Xhuge = rng.randint(0, 3, size=(1200, 2)).astype(float)
    add("kr_chunks_onX", KR(30), Xhuge, rng.normal(size=1200), rng.randint(0, 3, size=(1100, 2)))
    add("kc_kall", KC(60, weights="distance"), Xt, yt, Qt)
    add("kr_col", KR(10), Xt, (yt * 0.7).reshape(-1, 1), Qt)
    add("kc_iris", KC(5), iris[0], iris[1], iris[0][::3] + 0.05)
    add("kc_wine_kd", KC(4, algorithm="kd_tree", weights="distance"), wine[0], wine[1], wine[0][::4] * 1.01)
    add("kr_wine_ball", KR(6, algorithm="ball_tree", p=3), wine[0], wine[0][:, 0], wine[0][::5] * 0.99)
    add("kc_wine_gemm", KC(5, algorithm="brute", weights="distance"), wine[0], wine[1], wine[0][::4] * 1.01)
    add("kr_iris_gemm", KR(4, algorithm="brute", weights="distance"), iris[0], iris[0][:, 3], iris[0][::3] + 0.05)
    # digits: integer pixels 0..16, so many exactly tied distances in 64 dimensions
    digits = datasets.load_digits(return_X_y=True)
    Xd, yd, Qd = digits[0][:300], digits[1][:300], digits[0][300:340]
    add("kc_digits_brute", KC(5), Xd, yd, Qd)
    add("kc_digits_kd", KC(6, algorithm="kd_tree", weights="distance", leaf_size=10), Xd, yd, Qd)
    add("kr_digits_ball_p1", KR(7, algorithm="ball_tree", p=1), Xd, yd * 1.0, Qd)
    add("gnb_digits", GaussianNB(), Xd, yd, Qd)
    add("mnb_digits", MultinomialNB(), Xd, yd, Qd)
    add("bnb_digits", BernoulliNB(binarize=8.0), Xd, yd, Qd)
    add("catnb_digits", CategoricalNB(min_categories=17), Xd, yd, Qd)
    add("nc_iris", NearestCentroid(), iris[0], iris[1], iris[0][::3] + 0.05)
    add("pipe_std_knn", make_pipeline(StandardScaler(), KC(7)), wine[0], wine[1], wine[0][::4] * 1.01)
    add("pipe_minmax_gnb", make_pipeline(MinMaxScaler(), GaussianNB()), wine[0], wine[1], wine[0][::4] * 1.01)
    add("nc_ties", NearestCentroid(metric="manhattan"), Xt, ys, Qt)
    add("gnb_iris", GaussianNB(), iris[0], iris[1], iris[0][::3] + 0.05)
    add("gnb_wine_prior", GaussianNB(priors=[0.2, 0.5, 0.3]), wine[0], wine[1], wine[0][::4])
    add("gnb_str", GaussianNB(var_smoothing=1e-3), Xc, np.array(["x", "y", "z"])[yc], Xc[:30] + 0.5)
    add("mnb", MultinomialNB(alpha=0.5), Xc, yc, Xc[:30])
    add("mnb_prior", MultinomialNB(fit_prior=False), Xc, yc % 2, Xc[::3])
    add("cnb", ComplementNB(), Xc, yc, Xc[:30])
    add("cnb_norm", ComplementNB(norm=True, alpha=2.0), Xc, yc, Xc[::2])
    add("cnb_one", ComplementNB(), Xc, np.zeros(80, dtype=int), Xc[:10])
    add("bnb_binarize", BernoulliNB(binarize=1.5), Xc, yc, Xc[:30])
    add("bnb_binary", BernoulliNB(binarize=None, alpha=0.3), Xb, yb, Xb[:30])
    add("catnb", CategoricalNB(), Xcat, yc[:70], Xcat[:30])
    add("catnb_min", CategoricalNB(min_categories=[4, 6, 3], alpha=0.5), Xcat, yb, Xcat[::2])
    return m


def tolerance(name, method):
    if method == "predict" and not name.startswith("kr"):
        return None  # labels: exact
    if name.startswith(BLAS) or name.endswith("_gemm"):
        return 1e-9  # BLAS dot products; euclidean brute-force distances (GEMM) as weights
    return 0.0


def compare(np, got, want, tol):
    if got.shape != want.shape:
        if got.size == want.size:
            got = got.reshape(want.shape)
        else:
            return "shape %s, sklearn %s" % (got.shape, want.shape)
    if tol is None:
        return None if np.array_equal(got, want) else "labels differ in %d places" % np.sum(got != want)
    got, want = np.ascontiguousarray(got), np.ascontiguousarray(want)
    if tol == 0.0:
        return None if np.array_equal(got.view(np.uint8), want.view(np.uint8)) else \
            "not bit-identical: max diff %g" % np.max(np.abs(got - want))
    fin = np.isfinite(want)
    if np.array_equal(np.isneginf(got), np.isneginf(want)) and \
            np.allclose(got[fin], want[fin], rtol=tol, atol=tol * max(1.0, np.max(np.abs(want[fin]), initial=0))):
        return None
    return "max abs diff %g" % np.max(np.abs(got - want))


def reference(np, model, Q):
    """sklearn's outputs, on one OpenMP thread: with more than 256 fitted
    samples sklearn's brute-force search merges per-thread heaps, so the order
    of exactly tied neighbours depends on its thread count; brine gives the
    one-thread answer (docs/support/neighbors.md)."""
    from threadpoolctl import threadpool_limits
    ref = {}
    with threadpool_limits(limits=1, user_api="openmp"):
        for meth in METHODS:
            if not hasattr(model, meth):
                continue
            out = getattr(model, meth)(Q)
            ref[meth] = np.hstack(out) if isinstance(out, list) else np.asarray(out)
    return ref


# ------------------------------------------------------- the wild corpus
CLASSES = ("GaussianNB", "MultinomialNB", "ComplementNB", "BernoulliNB", "CategoricalNB",
           "KNeighborsClassifier", "KNeighborsRegressor", "NearestCentroid")


def numpy_outputs(np, o, X):
    """{method: (expected, tolerance)} from the estimator's own arrays, by
    the formulas of sklearn's predict methods (numpy only)."""
    name = type(o).__name__
    classes = np.asarray(o.classes_) if hasattr(o, "classes_") else None
    if name in ("GaussianNB", "MultinomialNB", "ComplementNB", "BernoulliNB"):
        if name == "GaussianNB":
            var = np.asarray(o.var_ if hasattr(o, "var_") else o.sigma_)
            jll = np.array([np.log(o.class_prior_[i]) + (-0.5 * np.sum(np.log(2.0 * np.pi * var[i, :]))
                                                          - 0.5 * np.sum(((X - o.theta_[i, :]) ** 2) / var[i, :], 1))
                            for i in range(len(classes))]).T
            tol = 0.0
        else:
            flp = np.asarray(o.feature_log_prob_)
            jll = X @ flp.T + o.class_log_prior_
            tol = 1e-9
        mx = jll.max(axis=1, keepdims=True)
        logp = jll - (np.log(np.sum(np.exp(jll - mx), axis=1, keepdims=True)) + mx)
        return {"predict": (classes[np.argmax(jll, axis=1)], None), "predict_log_proba": (logp, tol),
                "predict_proba": (np.exp(logp), tol)}
    # neighbours: brute force over _fit_X with the file's metric (random float
    # queries: no ties)
    fx = np.asarray(o._fit_X, dtype=np.float64)
    metric = o.effective_metric_
    diff = np.abs(X[:, None, :] - fx[None, :, :])
    if metric == "euclidean":
        d = np.sqrt((diff ** 2).sum(axis=2))
    elif metric == "manhattan":
        d = diff.sum(axis=2)
    elif metric == "chebyshev":
        d = diff.max(axis=2)
    else:
        p = o.effective_metric_params_.get("p", o.p)
        d = (diff ** p).sum(axis=2) ** (1.0 / p)
    idx = np.argsort(d, axis=1, kind="stable")[:, :o.n_neighbors]
    dist = np.take_along_axis(d, idx, axis=1)
    w = np.ones_like(dist) if o.weights in (None, "uniform") else 1.0 / dist
    y = np.asarray(o._y)
    if name == "KNeighborsRegressor":
        return {"predict": ((w * y[idx]).sum(axis=1) / w.sum(axis=1), 1e-9)}
    votes = np.zeros((len(X), len(classes)))
    for j in range(idx.shape[1]):
        votes[np.arange(len(X)), y[idx[:, j]]] += w[:, j]
    proba = votes / votes.sum(axis=1, keepdims=True)
    return {"predict": (classes[np.argmax(votes, axis=1)], None), "predict_proba": (proba, 1e-9)}


def check_wild(np, brine, summary, tmp, timeout):
    wild = common.default_wild()
    rows = {r["id"]: r for r in csv.DictReader(open(os.path.join(wild, "MANIFEST.tsv")), delimiter="\t")}
    with open(os.path.join(common.REPO, "tests", "wild_expectations.tsv")) as f:
        exp = list(csv.DictReader([x for x in f if not x.startswith("#")], delimiter="\t"))
    checked = 0
    for e in exp:
        short = e["root"].rsplit(".", 1)[-1]
        if e["predict"] != "ok" or short not in CLASSES:
            continue
        path = os.path.join(wild, rows[e["id"]]["file"])
        o = common.inert_load(path)
        width = np.asarray(o._fit_X).shape[1] if hasattr(o, "_fit_X") else \
            np.asarray(o.theta_ if hasattr(o, "theta_") else o.feature_log_prob_).shape[1]
        rs = np.random.RandomState(int(e["id"]))
        if short in ("MultinomialNB", "ComplementNB", "BernoulliNB"):
            X = rs.poisson(0.05, size=(6, width)).astype(np.float64)  # sparse word counts
        elif hasattr(o, "_fit_X"):
            fx = np.asarray(o._fit_X, dtype=np.float64)
            X = fx[rs.randint(0, len(fx), size=9)] + rs.normal(size=(9, width)) * fx.std(axis=0) * 0.3
        else:
            X = np.asarray(o.theta_)[rs.randint(0, len(o.theta_), size=9)] + rs.normal(size=(9, width))
        xpath = os.path.join(tmp, "wild%s.npy" % e["id"])
        np.save(xpath, X)
        for meth, (want, tol) in numpy_outputs(np, o, X).items():
            out = os.path.join(tmp, "wild%s.%s.npy" % (e["id"], meth))
            res = common.run_brine(brine, ["predict", path, xpath, "--method", meth, "-o", out], timeout=timeout)
            label = "wild %s %s/%s" % (e["id"], short, meth)
            checked += 1
            if res.crash_reason() or res.rc != 0:
                summary.fail(label, "  brine failed\n" + res.describe())
                continue
            d = compare(np, np.load(out, allow_pickle=False), want, tol)
            if d:
                summary.fail(label, "  " + d)
            else:
                summary.ok()
    return checked


def refusals(np, brine, summary, tmp, timeout, models):
    """What sklearn refuses, brine refuses (exit 2, one line on stderr)."""
    byname = {n: (m, Q) for n, m, Q in models}
    cases = []
    cat, _ = byname["catnb"]
    for label, row in (("unseen", [0, 7, 1]), ("negative", [0, -1, 1])):
        try:
            cat.predict(np.array([row]))
            sklearn_refused = False
        except (IndexError, ValueError):
            sklearn_refused = True
        cases.append(("catnb", label, np.array([row], dtype=np.float64), "predict", sklearn_refused))
    checked = 0
    for name, label, X, meth, sk in cases:
        xpath = os.path.join(tmp, "refuse.%s.%s.npy" % (name, label))
        np.save(xpath, X)
        res = common.run_brine(brine, ["predict", os.path.join(tmp, "%s.p4" % name), xpath, "--method", meth],
                               timeout=timeout)
        checked += 1
        ok = sk and res.rc == 2 and not res.crash_reason() and common.one_line_error(res) is None
        if ok:
            summary.ok()
        else:
            summary.fail("refuse %s/%s" % (name, label), "  sklearn refused: %s\n%s" % (sk, res.describe()))
    return checked


def main():
    import pickle
    import threading
    import numpy as np
    args = common.parse_args(__doc__.split("\n")[1])
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    warnings.simplefilter("ignore")
    models = fit_models()
    counts = {"checks": 0, "written": 0}
    lock = threading.Lock()

    def count(key, n=1):
        with lock:
            counts[key] += n

    with common.TempDir(args.keep) as tmp:
        # sklearn's references first, in this thread (threadpool limits are process-wide);
        # then the brine runs of the models on args.jobs threads
        items, seen = [], set()
        for i, (name, model, Q) in enumerate(models):
            xpath = os.path.join(tmp, name + ".x.npy")
            np.save(xpath, Q)
            cls = type(model).__name__
            items.append((i, name, model, Q, xpath, reference(np, model, Q), cls not in seen))
            seen.add(cls)

        def work(item):
            i, name, model, Q, xpath, ref, refuse = item
            sources = [SOURCES[i % len(SOURCES)]]  # one container per model, in rotation
            count("checks", common.compare_in_every_format(
                brine, tmp, name, model, xpath, ref, sources, args.timeout, summary,
                lambda meth, got, want: compare(np, got, want, tolerance(name, meth))))
            path = os.path.join(tmp, "%s.p4" % name)
            if not os.path.exists(path):
                with open(path, "wb") as f:
                    pickle.dump(model, f, protocol=4)
            # methods sklearn lacks are refused (once per class: each costs a brine run)
            for meth in METHODS:
                if meth in ref or not refuse:
                    continue
                res = common.run_brine(brine, ["predict", path, xpath, "--method", meth], timeout=args.timeout)
                count("checks")
                if res.rc == 0 or res.crash_reason():
                    summary.fail("%s/p4/%s" % (name, meth), "  accepted a method sklearn lacks\n" + res.describe())
                else:
                    summary.ok()
            # written back (brine convert), reloaded in Python: every fourth model, one
            # container each, in rotation (multi-output predict_proba is a list: predict only)
            if i % 4 == 0:
                t = common.WRITE_BACK_TARGETS[(i // 4) % len(common.WRITE_BACK_TARGETS)]
                meths = ["predict"] if getattr(model, "outputs_2d_", False) else list(ref)
                count("written", common.written_back(brine, tmp, name, path, model, Q, meths, summary,
                                                     timeout=args.timeout, targets=(t,)))

        common.run_parallel(work, items, args.jobs)
        count("checks", refusals(np, brine, summary, tmp, args.timeout, models))
        wild = check_wild(np, brine, summary, tmp, args.timeout)
    print("neighbors_nb: %d models, %d checks; %d files written back by brine equal in sklearn; "
          "%d wild-file checks against numpy on their own arrays" % (len(models), counts["checks"],
                                                                     counts["written"], wild))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
