#!/usr/bin/python3
"""Linear models, scalers and pipelines: brine predict equals Debian's sklearn.

Fits each estimator with varied parameters on iris, wine, breast_cancer,
diabetes and synthetic data, saves it as pickle (protocols 2-5) and joblib
(zlib, lz4), and compares `brine predict --method M -o out.npy` with
sklearn for every method the estimator has: labels exactly, scalers bit for
bit (Normalizer l2 within 1e-12), linear models and what follows them
within 1e-9 relative (CONVENTIONS: BLAS-based arithmetic)."""
import os
import pickle
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "linear"
METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform")
SOURCES = [("p2", "pickle", 2), ("p3", "pickle", 3), ("p4", "pickle", 4), ("p5", "pickle", 5),
           ("zlib", "joblib", 3), ("lz4", "joblib", ("lz4", 3))]


def fit_models():
    import numpy as np
    from sklearn import datasets, linear_model as lm, svm
    from sklearn import preprocessing as pp
    from sklearn.pipeline import make_pipeline
    from sklearn.ensemble import RandomForestClassifier
    rng = np.random.RandomState(0)
    iris = datasets.load_iris(return_X_y=True)
    wine = datasets.load_wine(return_X_y=True)
    bc = datasets.load_breast_cancer(return_X_y=True)
    diab = datasets.load_diabetes(return_X_y=True)
    Xs = rng.normal(size=(120, 6)) * [1, 10, 0.1, 100, 1, 3] + [0, 5, -2, 50, 1, 0]
    ys = Xs @ rng.normal(size=6) + rng.normal(size=120)
    Ys = np.c_[ys, -2 * ys + Xs[:, 0]]
    yc = np.array(["neg", "pos"])[(ys > np.median(ys)).astype(int)]
    ym = (ys > np.percentile(ys, 33)).astype(int) + (ys > np.percentile(ys, 66)).astype(int)
    ssc = pp.StandardScaler()
    iris_s = (ssc.fit_transform(iris[0]), iris[1])
    wine_s = (pp.StandardScaler().fit_transform(wine[0]), wine[1])
    bc_s = (pp.StandardScaler().fit_transform(bc[0]), bc[1])
    m = []

    def add(name, est, data):
        X, y = data
        est = est.fit(X, y) if y is not None else est.fit(X)
        m.append((name, est, X))

    add("linreg_diab", lm.LinearRegression(), diab)
    add("linreg_multi", lm.LinearRegression(fit_intercept=False), (Xs, Ys))
    add("ridge_diab", lm.Ridge(alpha=0.5), diab)
    add("ridge_multi", lm.Ridge(alpha=2.0), (Xs, Ys))
    add("lasso_diab", lm.Lasso(alpha=0.1), diab)
    add("enet_synth", lm.ElasticNet(alpha=0.05, l1_ratio=0.3), (Xs, ys))
    add("sgdreg", lm.SGDRegressor(random_state=0), (pp.StandardScaler().fit_transform(Xs), ys))
    add("linsvr", svm.LinearSVR(random_state=0, max_iter=5000), diab)
    add("logreg_iris", lm.LogisticRegression(max_iter=2000), iris)
    add("logreg_iris_ovr", lm.LogisticRegression(multi_class="ovr", max_iter=2000), iris)
    add("logreg_wine_liblinear", lm.LogisticRegression(solver="liblinear"), wine_s)
    add("logreg_bc", lm.LogisticRegression(max_iter=5000), bc_s)
    add("logreg_bc_multinomial", lm.LogisticRegression(multi_class="multinomial", max_iter=5000), bc_s)
    add("logreg_str_noint", lm.LogisticRegression(fit_intercept=False), (Xs, yc))
    add("ridgeclf_wine", lm.RidgeClassifier(), wine_s)
    add("ridgeclf_str", lm.RidgeClassifier(alpha=3.0), (Xs, yc))
    add("sgd_hinge", lm.SGDClassifier(random_state=0), iris_s)
    add("sgd_log", lm.SGDClassifier(loss="log_loss", random_state=0), iris_s)
    add("sgd_log_bin", lm.SGDClassifier(loss="log_loss", random_state=1), bc_s)
    add("sgd_huber", lm.SGDClassifier(loss="modified_huber", random_state=0), wine_s)
    add("sgd_huber_bin", lm.SGDClassifier(loss="modified_huber", random_state=0), bc_s)
    add("perceptron", lm.Perceptron(random_state=0), (Xs, ym))
    add("linsvc_iris", svm.LinearSVC(random_state=0, max_iter=5000), iris_s)
    add("linsvc_bc", svm.LinearSVC(random_state=0, max_iter=5000, fit_intercept=False), bc_s)
    # the cross-validated and other linear models predict as their bases
    add("ridgecv_diab", lm.RidgeCV(alphas=(0.1, 1.0, 10.0)), diab)
    add("ridgeclfcv_wine", lm.RidgeClassifierCV(), wine_s)
    add("lassocv_diab", lm.LassoCV(cv=3, random_state=0), diab)
    add("enetcv_synth", lm.ElasticNetCV(cv=3, l1_ratio=[0.2, 0.8], random_state=0), (Xs, ys))
    add("logregcv_iris", lm.LogisticRegressionCV(cv=3, max_iter=2000), iris)
    add("logregcv_bc_ovr", lm.LogisticRegressionCV(cv=3, Cs=4, solver="liblinear"), bc_s)
    add("bayesridge_diab", lm.BayesianRidge(), diab)
    add("ard_synth", lm.ARDRegression(), (Xs, ys))
    add("huber_synth", lm.HuberRegressor(max_iter=500), (pp.StandardScaler().fit_transform(Xs), ys))
    add("lars_diab", lm.Lars(n_nonzero_coefs=5), diab)
    add("lassolars_diab", lm.LassoLars(alpha=0.01), diab)
    add("omp_diab", lm.OrthogonalMatchingPursuit(n_nonzero_coefs=4), diab)
    add("pa_clf_iris", lm.PassiveAggressiveClassifier(random_state=0), iris_s)
    add("pa_reg_synth", lm.PassiveAggressiveRegressor(random_state=0), (pp.StandardScaler().fit_transform(Xs), ys))
    add("std", pp.StandardScaler(), (Xs, None))
    add("std_nomean", pp.StandardScaler(with_mean=False), (wine[0], None))
    add("std_nostd", pp.StandardScaler(with_std=False), (wine[0], None))
    add("minmax", pp.MinMaxScaler(), (Xs, None))
    add("minmax_clip", pp.MinMaxScaler(feature_range=(-1, 2), clip=True), (Xs[:60], None))
    add("maxabs", pp.MaxAbsScaler(), (Xs, None))
    add("robust", pp.RobustScaler(), (Xs, None))
    add("robust_nocenter", pp.RobustScaler(with_centering=False, quantile_range=(10, 90)), (diab[0], None))
    add("norm_l2", pp.Normalizer(), (Xs, None))
    add("norm_l1", pp.Normalizer(norm="l1"), (Xs, None))
    add("norm_max", pp.Normalizer(norm="max"), (Xs, None))
    add("binarizer", pp.Binarizer(threshold=0.5), (Xs, None))
    add("pipe_std_logreg", make_pipeline(pp.StandardScaler(), lm.LogisticRegression(max_iter=1000)), iris)
    add("pipe_std_rf", make_pipeline(pp.StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)), wine)
    add("pipe_minmax_ridge", make_pipeline(pp.MinMaxScaler(), lm.Ridge()), diab)
    add("pipe_passthrough", make_pipeline("passthrough", pp.MaxAbsScaler(), pp.StandardScaler()), (Xs, None))
    return m


def tolerance(name, method):
    if method == "predict" and not name.startswith(("linreg", "ridge_", "lasso", "enet", "sgdreg", "linsvr", "pipe_minmax")):
        return None  # labels: exact
    if name in ("std", "std_nomean", "std_nostd", "minmax", "minmax_clip", "maxabs", "robust",
                "robust_nocenter", "norm_l1", "norm_max", "binarizer", "pipe_passthrough"):
        return 0.0
    if name == "norm_l2":
        return 1e-12
    return 1e-9


def compare(np, got, want, tol):
    if got.shape != want.shape:
        return "shape %s, sklearn %s" % (got.shape, want.shape)
    if tol is None:
        return None if np.array_equal(got, want) else "labels differ"
    if tol == 0.0:
        return None if np.array_equal(got.view(np.uint8), want.view(np.uint8)) else \
            "not bit-identical: max diff %g" % np.max(np.abs(got - want))
    if np.array_equal(np.isneginf(got), np.isneginf(want)) and \
            np.allclose(got, want, rtol=tol, atol=tol * max(1.0, np.max(np.abs(want[np.isfinite(want)]), initial=0))):
        return None
    return "max abs diff %g" % np.max(np.abs(got - want))


# ------------------------------------------------------- the wild corpus
LINEAR_CLASSES = ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "SGDRegressor", "LinearSVR",
                  "LogisticRegression", "RidgeClassifier", "SGDClassifier", "Perceptron", "LinearSVC")
SCALERS = ("StandardScaler",)


def numpy_outputs(np, o, X):
    """{method: expected} from the estimator's own arrays (sklearn's formulas)."""
    name = type(o).__name__
    if name in SCALERS:
        Y = X.copy()
        if getattr(o, "with_mean", True):
            Y -= o.mean_
        if getattr(o, "with_std", True):
            Y /= o.scale_
        return {"transform": Y}
    coef = np.asarray(o.coef_, dtype=np.float64)
    dec = X @ coef.T + o.intercept_
    if not hasattr(o, "classes_"):
        return {"predict": dec}
    dec = dec.ravel() if dec.ndim == 2 and dec.shape[1] == 1 else dec
    idx = (dec > 0).astype(int) if dec.ndim == 1 else dec.argmax(axis=1)
    return {"predict": np.asarray(o.classes_)[idx], "decision_function": dec}


def check_wild(np, brine, summary, tmp, timeout):
    import csv
    wild = common.default_wild()
    rows = {r["id"]: r for r in csv.DictReader(open(os.path.join(wild, "MANIFEST.tsv")), delimiter="\t")}
    with open(os.path.join(common.REPO, "tests", "wild_expectations.tsv")) as f:
        exp = list(csv.DictReader([x for x in f if not x.startswith("#")], delimiter="\t"))
    checked = 0
    for e in exp:
        short = e["root"].rsplit(".", 1)[-1]
        if e["predict"] != "ok" or short not in LINEAR_CLASSES + SCALERS:
            continue
        path = os.path.join(wild, rows[e["id"]]["file"])
        o = common.inert_load(path)
        width = np.asarray(o.coef_).shape[-1] if hasattr(o, "coef_") else len(o.scale_)
        X = np.random.RandomState(int(e["id"])).normal(size=(9, width)) * 3
        xpath = os.path.join(tmp, "wild%s.npy" % e["id"])
        np.save(xpath, X)
        for meth, want in numpy_outputs(np, o, X).items():
            out = os.path.join(tmp, "wild%s.%s.npy" % (e["id"], meth))
            res = common.run_brine(brine, ["predict", path, xpath, "--method", meth, "-o", out], timeout=timeout)
            label = "wild %s %s/%s" % (e["id"], short, meth)
            checked += 1
            if res.crash_reason() or res.rc != 0:
                summary.fail(label, "  brine failed\n" + res.describe())
                continue
            got = np.load(out, allow_pickle=False)
            if got.ndim == 2 and want.ndim == 1 and got.shape[1] == 1:
                got = got[:, 0]
            if want.ndim == 2 and got.ndim == 1 and want.shape[1] == 1:
                want = want[:, 0]  # a 2-D coef_ of one row: the CLI writes one column as 1-D
            d = compare(np, got, want, None if meth == "predict" and want.dtype.kind not in "f" else
                        (0.0 if short in SCALERS else 1e-9))
            if d:
                summary.fail(label, "  " + d)
            else:
                summary.ok()
    return checked


def main():
    import joblib
    import numpy as np
    args = common.parse_args(__doc__.split("\n")[1])
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    warnings.simplefilter("ignore")
    models = fit_models()
    checks = 0
    written = []
    with common.TempDir(args.keep) as tmp:
        for name, model, X in models:
            xpath = os.path.join(tmp, name + ".x.npy")
            np.save(xpath, np.ascontiguousarray(X[:50], dtype=np.float64))
            ref = {meth: np.asarray(getattr(model, meth)(X[:50])) for meth in METHODS if hasattr(model, meth)}
            checks += common.compare_in_every_format(
                brine, tmp, name, model, xpath, ref, SOURCES, args.timeout, summary,
                lambda meth, got, want: compare(np, got, want, tolerance(name, meth)))
            sname, path = "p4", os.path.join(tmp, "%s.p4" % name)
            # written back verbatim: two containers per model, all of them over the models
            k = len(written) % 2
            written.append(common.written_back(brine, tmp, name, path, model, X[:50], list(ref), summary,
                                               timeout=args.timeout,
                                               targets=common.WRITE_BACK_TARGETS[2 * k:2 * k + 2]))
            # methods sklearn lacks are refused (exit 2, usage-level: a method this estimator has not)
            for meth in METHODS:
                if meth in ref or hasattr(model, meth):
                    continue
                res = common.run_brine(brine, ["predict", path, xpath, "--method", meth], timeout=args.timeout)
                checks += 1
                if res.rc == 0 or res.crash_reason():
                    summary.fail("%s/%s/%s" % (name, sname, meth), "  accepted a method sklearn lacks")
                else:
                    summary.ok()
        wild = check_wild(np, brine, summary, tmp, args.timeout)
    print("linear: %d models, %d checks; %d files written back by brine equal in sklearn; "
          "%d wild-file checks against numpy on their own arrays" % (len(models), checks, sum(written), wild))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
