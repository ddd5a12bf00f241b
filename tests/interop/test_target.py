#!/usr/bin/python3
"""TransformedTargetRegressor: brine predict equals Debian's sklearn.

Fits TransformedTargetRegressor with func/inverse_func pairs of numpy
functions (log/exp, log1p/expm1, sqrt/square), with no function (identity),
with a 2-D target, and around a pipeline and a forest; saves each as pickle
(protocols 2-5) and joblib (zlib, lz4) and compares `brine predict` with
sklearn: within 4 ulp where libm's exp/log and numpy's loops may differ in
the last bit, else bit for bit.  Files brine writes back load in sklearn
1.2.1 and predict exactly as the originals.  Refused: an inverse_func that
is no numpy function, a transformer without an inverse brine runs.  Wild
047 (a Pipeline ending in TransformedTargetRegressor(Lasso, log, exp),
sklearn 1.2.2) is compared with numpy on its own arrays.

Usage: /usr/bin/python3 tests/interop/test_target.py --brine build/brine
Last line: `target: P passed, F failed`."""
import csv
import os
import pickle
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "target"
SOURCES = [("p2", "pickle", 2), ("p3", "pickle", 3), ("p4", "pickle", 4), ("p5", "pickle", 5),
           ("zlib", "joblib", 3), ("lz4", "joblib", ("lz4", 3))]


def fit_models():
    import numpy as np
    from sklearn.compose import TransformedTargetRegressor as TTR
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import Lasso, LinearRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X, y = load_diabetes(return_X_y=True)
    Y2 = np.c_[y, np.sqrt(y) * 3]
    m = [("log_exp_lasso", TTR(regressor=Lasso(alpha=0.001), func=np.log, inverse_func=np.exp).fit(X, y)),
         ("log1p_expm1_ridge", TTR(regressor=Ridge(), func=np.log1p, inverse_func=np.expm1).fit(X, y)),
         ("sqrt_square_pipe", TTR(regressor=make_pipeline(StandardScaler(), LinearRegression()), func=np.sqrt,
                                  inverse_func=np.square).fit(X, y)),
         ("identity_forest", TTR(regressor=RandomForestRegressor(n_estimators=5, random_state=0)).fit(X, y)),
         ("identity_2d", TTR(regressor=Ridge(alpha=0.3)).fit(X, Y2)),
         ("log_exp_2d", TTR(regressor=LinearRegression(), func=np.log, inverse_func=np.exp).fit(X, Y2))]
    return m, X[:60]


def ulps(np, got, want):
    g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if g.shape != w.shape:
        return float("inf")
    return float(np.max(np.abs(g.view(np.int64) - w.view(np.int64)))) if g.size else 0.0


def check_refusals(np, brine, tmp, X, summary, timeout):
    from sklearn.compose import TransformedTargetRegressor as TTR
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import QuantileTransformer
    y = X[:, 0] * 10 + 3
    cases = [("lambda", TTR(regressor=Ridge(), func=np.negative, inverse_func=np.tanh, check_inverse=False).fit(X, y),
              "inverse_func"),
             ("quantile", TTR(regressor=Ridge(), transformer=QuantileTransformer(n_quantiles=20)).fit(X, y),
              "QuantileTransformer")]
    # hostile states made of allowed classes: clear errors, no crash
    broken = TTR(regressor=Ridge()).fit(X, y)
    broken.regressor_ = None
    cases.append(("no-regressor", broken, "regressor_"))
    broken = TTR(regressor=Ridge()).fit(X, y)
    broken._training_dim = "one"
    cases.append(("bad-dim", broken, "_training_dim"))
    broken = TTR(regressor=Ridge()).fit(X, np.c_[y, y])
    broken.transformer_ = QuantileTransformer(n_quantiles=20).fit(np.c_[y, y, y])
    cases.append(("bad-width", broken, "transformer_"))
    broken = TTR(regressor=Ridge()).fit(X, y)
    broken.regressor_ = TTR(regressor=Ridge()).fit(X, y)
    broken.regressor_.regressor_ = broken  # a cycle through regressor_
    cases.append(("cycle", broken, "regressor_"))
    xpath = os.path.join(tmp, "refuse.x.npy")
    np.save(xpath, X)
    for name, model, word in cases:
        path = os.path.join(tmp, name + ".pkl")
        with open(path, "wb") as f:
            pickle.dump(model, f)
        res = common.run_brine(brine, ["predict", path, xpath], timeout=timeout)
        if res.rc == 2 and word in res.stderr_text and not res.crash_reason():
            summary.ok()
        else:
            summary.fail("refuse/" + name, "  expected exit 2 naming %s\n%s" % (word, res.describe()))


def check_wild(np, brine, tmp, summary, timeout):
    """047: ColumnTransformer(StandardScaler on 5 named columns, the rest
    passed through) -> TransformedTargetRegressor(Lasso, log, exp)."""
    wild = common.default_wild()
    rows = {r["id"]: r for r in csv.DictReader(open(os.path.join(wild, "MANIFEST.tsv")), delimiter="\t")}
    path = os.path.join(wild, rows["047"]["file"])
    pipe = common.inert_load(path)
    ct, ttr = pipe.steps[0][1], pipe.steps[1][1]
    names = [str(n) for n in ct.feature_names_in_]
    (_, scaler_pipe, cols), = [t for t in ct.transformers_ if t[0] != "remainder"]
    scaler = scaler_pipe.steps[0][1]
    rest = [t for t in ct.transformers_ if t[0] == "remainder"][0][2]
    rng = np.random.RandomState(47)
    X = rng.normal(size=(40, len(names))) * 3 + 5
    idx = [names.index(c) for c in cols]
    scaled = (X[:, idx] - scaler.mean_) / scaler.scale_
    feats = np.hstack([scaled, X[:, list(rest)]])
    lasso = ttr.regressor_
    want = np.exp(feats @ lasso.coef_ + lasso.intercept_)
    checked = 0
    for shuffled in (False, True):
        order = list(range(len(names)))[::-1] if shuffled else list(range(len(names)))
        cpath = os.path.join(tmp, "wild047%s.csv" % ("-shuffled" if shuffled else ""))
        with open(cpath, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow([names[j] for j in order])
            for r in X:
                w.writerow([repr(float(r[j])) for j in order])
        out = os.path.join(tmp, "wild047.out.npy")
        res = common.run_brine(brine, ["predict", path, cpath, "-o", out], timeout=timeout)
        label = "wild 047%s" % (" (columns shuffled)" if shuffled else "")
        if res.rc != 0 or res.crash_reason():
            summary.fail(label, res.describe())
            continue
        got = np.load(out)
        if np.allclose(got, want, rtol=1e-9, atol=0):
            summary.ok()
            checked += 1
        else:
            summary.fail(label, "  max rel diff %.3g" % np.max(np.abs(got - want) / np.abs(want)))
    return checked


def main():
    import numpy as np
    args = common.parse_args(__doc__.split("\n")[1])
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    warnings.simplefilter("ignore")
    models, X = fit_models()
    checks = written = 0
    with common.TempDir(args.keep) as tmp:
        xpath = os.path.join(tmp, "x.npy")
        np.save(xpath, X)
        for name, model in models:
            ref = {"predict": model.predict(X)}
            checks += common.compare_in_every_format(
                brine, tmp, name, model, xpath, ref, SOURCES, args.timeout, summary,
                lambda _, got, want: None if ulps(np, got, want) <= 4 else "%s ulp apart" % ulps(np, got, want))
            written += common.written_back(brine, tmp, name, os.path.join(tmp, name + ".p4"), model, X, ["predict"],
                                           summary, timeout=args.timeout,
                                           targets=common.WRITE_BACK_TARGETS[len(name) % 2 * 2:][:2])
        check_refusals(np, brine, tmp, X, summary, args.timeout)
        wild = check_wild(np, brine, tmp, summary, args.timeout)
    print("target: %d models, %d checks within 4 ulp of sklearn; %d files written back equal in sklearn; "
          "%d wild 047 checks against numpy on its own arrays" % (len(models), checks, written, wild))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
