#!/usr/bin/python3
"""Encoders, imputers, PolynomialFeatures, ColumnTransformer, FeatureUnion: brine predict equals Debian's sklearn.

Debian's sklearn 1.2.1 fits OneHotEncoder, OrdinalEncoder, LabelEncoder,
SimpleImputer, PolynomialFeatures, FunctionTransformer, ColumnTransformer
(in Pipelines ending in LogisticRegression / RandomForestClassifier) and
FeatureUnion with varied parameters on small mixed data (str and numeric
columns, NaN and None missing).  brine reads the rows as CSV with a header
(text cells for models that take text; columns matched by name, in a
shuffled order, for models with feature_names_in_ — set by hand, as a
pandas DataFrame would, since Debian's sklearn here has no pandas) or .npy.
Every method is compared: labels exactly, transforms bit for bit, what
follows a LogisticRegression within 1e-9 relative.  A few models go through
every pickle protocol and joblib compressor (common.predict_in_every_format),
files brine writes back (brine convert) reload in Python with equal outputs,
and the wild files 050, 065, 066 and 073 are checked against numpy on their
own arrays (read with every sklearn class inert).

Usage: /usr/bin/python3 tests/interop/test_encoders.py --brine build/brine
Last line: `encoders: P passed, F failed`."""
import copy
import csv
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "encoders"
ALL_SOURCES = [("p2", "pickle", 2), ("p3", "pickle", 3), ("p4", "pickle", 4), ("p5", "pickle", 5),
               ("zlib", "joblib", 3), ("lz4", "joblib", ("lz4", 3))]
P4 = [("p4", "pickle", 4)]
NAMES = ["color", "size", "city", "count", "shade"]


def data(np):
    """40 rows: color (str, None/NaN missing), size (float, NaN), city
    (str), count (int-valued), shade (str, no missing)."""
    rng = np.random.RandomState(3)
    n = 40
    colors = np.array(["red", "green", "blue", "teal"], dtype=object)[rng.randint(0, 4, n)]
    colors[[3, 17]] = np.nan
    size = np.round(rng.normal(5, 2, n), 2)
    size[[1, 9, 30]] = np.nan
    city = np.array(["Zürich", "Oslo", "New York, NY", 'Say "hi"', "Lima", "x"], dtype=object)[
        rng.choice(6, n, p=[0.3, 0.3, 0.2, 0.1, 0.05, 0.05])]
    count = rng.randint(0, 5, n).astype(float)
    shade = np.array(["dark", "light"], dtype=object)[rng.randint(0, 2, n)]
    X = np.empty((n, 5), dtype=object)
    X[:, 0], X[:, 1], X[:, 2], X[:, 3], X[:, 4] = colors, size, city, count, shade
    y = (np.nan_to_num(size.astype(float)) + (colors == "red") * 3 + rng.normal(0, 1, n) > 6).astype(int)
    return X, y


def query(np, X):
    """Rows to predict on: the training rows' values and a few unseen ones."""
    Q = X[:24].copy()
    Q[5, 2] = "Paris"    # an unknown city
    Q[6, 0] = "purple"   # an unknown color
    return Q


def named(model, names):
    """A copy fitted 'on a DataFrame': feature_names_in_ set and the
    ColumnTransformer's selections given by name (brine then matches CSV
    columns by header name)."""
    import numpy as np
    m = copy.deepcopy(model)
    ct = m.steps[0][1] if hasattr(m, "steps") else m
    ct.feature_names_in_ = np.array(names, dtype=object)
    ct.transformers_ = [(n, t, [names[i] for i in cols] if isinstance(cols, list) else cols)
                        for n, t, cols in ct.transformers_]
    return m


def write_csv(path, X, cols, header):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        if header:
            w.writerow([header[c] for c in cols])
        for row in X:
            cells = []
            for c in cols:
                v = row[c]
                cells.append("" if v is None or (isinstance(v, float) and v != v) else
                             repr(float(v)) if isinstance(v, float) else str(v))
            w.writerow(cells)


def dense(a):
    return a.toarray() if hasattr(a, "toarray") else a


def fit_models(np, X, y):
    from sklearn.preprocessing import (OneHotEncoder, OrdinalEncoder, LabelEncoder, PolynomialFeatures,
                                       FunctionTransformer, StandardScaler)
    from sklearn.impute import SimpleImputer
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline, FeatureUnion
    from sklearn.linear_model import LogisticRegression
    from sklearn.ensemble import RandomForestClassifier
    Xs = X[:, [2, 4]]                         # str columns, no missing
    Xn = X[:, [1, 3]].astype(float)           # numeric, NaN missing
    Xc = X[:, [0, 4]]                         # str with NaN missing
    Xnone = X[:, [0, 4]].copy()
    Xnone[[3, 17], 0] = None                  # None as the missing marker
    m = []

    def add(name, est, cols, fitX, sources=P4, header=True, fit_y=None, methods=("transform",), inverse=False,
            prep=None, query=None):
        fitX = prep(fitX) if prep else fitX
        est.fit(fitX, fit_y) if fit_y is not None else est.fit(fitX)
        m.append(dict(name=name, model=est, cols=cols, sources=sources, header=header, methods=methods,
                      inverse=inverse, prep=prep, query=query))

    def question_marks(A):  # '?' as the missing marker of str columns
        A = A.copy()
        A[::5, 0] = "?"
        return A

    def empty_column(A):  # a numeric column fit never saw a value of
        A = A.astype(float).copy()
        A[:, 1] = np.nan
        return A

    add("onehot_ignore", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [2, 4], Xs,
        sources=ALL_SOURCES, inverse=True)
    add("onehot_drop_first", OneHotEncoder(drop="first", handle_unknown="ignore"), [2, 4], Xs, inverse=True)
    add("onehot_if_binary", OneHotEncoder(drop="if_binary", sparse_output=False, handle_unknown="ignore"),
        [2, 4], Xs, inverse=True)
    add("onehot_drop_list", OneHotEncoder(drop=["Oslo", "light"], sparse_output=False), [2, 4], Xs)
    add("onehot_infrequent", OneHotEncoder(min_frequency=4, handle_unknown="infrequent_if_exist",
                                           sparse_output=False), [2, 4], Xs, inverse=True)
    add("onehot_max_cats", OneHotEncoder(max_categories=3, handle_unknown="ignore", drop="first"), [2, 4], Xs,
        inverse=True)
    add("onehot_unicode_dtype", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [2, 4], Xs.astype(str),
        prep=lambda A: A.astype(str), inverse=True)
    add("ordinal_int", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), [3], X[:, [3]].astype(int),
        prep=lambda A: A.astype(float).astype(int), inverse=True)
    # many categories (brine indexes tables of 16 or more): str and int columns, unknowns in the query
    many = np.array([["k%d" % (i * 7 % 53), (i * 11) % 37] for i in range(120)], dtype=object)
    many_q = np.array([["k%d" % (i * 5 % 60), (i * 3) % 41] for i in range(30)], dtype=object)
    add("onehot_many", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [0, 1], many, query=many_q)
    add("ordinal_many", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-3), [0, 1], many,
        query=many_q)
    add("onehot_numeric", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [3, 1], Xn[:, ::-1])
    add("onehot_nan", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [0, 4], Xc)
    add("onehot_none", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [0, 4], Xnone)
    add("ordinal", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), [2, 4], Xs,
        inverse=True)
    add("ordinal_missing", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                          encoded_missing_value=-2), [0, 4], Xc)
    add("ordinal_nan_cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), [0, 2], X[:, [0, 2]])
    add("label_str", LabelEncoder(), [4], X[:, 4].astype(str), sources=ALL_SOURCES, inverse=True)
    add("label_int", LabelEncoder(), [3], X[:, 3].astype(int), inverse=True)
    add("impute_mean_ind", SimpleImputer(add_indicator=True), [1, 3], Xn)
    add("impute_median", SimpleImputer(strategy="median"), [1, 3], Xn)
    add("impute_const", SimpleImputer(strategy="constant", fill_value=-7.5), [1, 3], Xn)
    add("impute_number_mv", SimpleImputer(missing_values=0.0, strategy="mean"), [3, 1], np.nan_to_num(Xn[:, ::-1]))
    add("impute_mf_str", SimpleImputer(strategy="most_frequent"), [0, 4], Xc)
    add("impute_str_mv", SimpleImputer(missing_values="?", strategy="most_frequent"), [2, 4], Xs,
        prep=question_marks)
    add("impute_none_mv", SimpleImputer(missing_values=None, strategy="most_frequent"), [0, 4], Xnone)
    add("impute_const_str", SimpleImputer(strategy="constant", fill_value="n/a"), [0, 4], Xc)
    add("impute_drop_empty", SimpleImputer(), [1, 3], Xn, prep=empty_column)
    add("impute_keep_empty", SimpleImputer(keep_empty_features=True, strategy="median"), [1, 3], Xn,
        prep=empty_column)
    add("poly3", PolynomialFeatures(3), [1, 3], np.nan_to_num(Xn), header=False)
    add("poly_inter", PolynomialFeatures(3, interaction_only=True, include_bias=False), [1, 3, 1],
        np.nan_to_num(Xn[:, [0, 1, 0]]), header=False)
    add("poly_min2", PolynomialFeatures((2, 3)), [1, 3], np.nan_to_num(Xn), header=False)
    add("identity", FunctionTransformer(), [1, 3], Xn)
    add("pipe_imp_lr", Pipeline([("imp", SimpleImputer()), ("lr", LogisticRegression())]), [1, 3], Xn, fit_y=y,
        methods=("predict", "predict_proba"))
    cat = Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                    ("oh", OneHotEncoder(handle_unknown="ignore"))])
    num = Pipeline([("imp", SimpleImputer(strategy="median")), ("sc", StandardScaler())])
    ct_lr = Pipeline([("ct", ColumnTransformer([("cat", cat, [0, 2]), ("num", num, [1, 3])])),
                      ("lr", LogisticRegression(max_iter=500))])
    add("ct_lr", ct_lr, [0, 1, 2, 3, 4], X, sources=ALL_SOURCES, fit_y=y,
        methods=("predict", "predict_proba", "decision_function"))
    ct_rf = Pipeline([("ct", ColumnTransformer([("oh", OneHotEncoder(handle_unknown="ignore"), slice(4, 5)),
                                                ("drop", "drop", [2]),
                                                ("num", SimpleImputer(), np.array([False, True, False, True, False]))],
                                               remainder="passthrough", transformer_weights={"num": 0.5})),
                      ("rf", RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0))])
    Xrf = X.copy()
    Xrf[:, 0] = np.arange(len(X)) % 3  # the remainder passes numbers
    add("ct_rf", ct_rf, [0, 1, 2, 3, 4], Xrf, fit_y=y, methods=("predict", "predict_proba"))
    from sklearn.feature_extraction.text import TfidfVectorizer
    ct_tfidf = Pipeline([("ct", ColumnTransformer([("tf", TfidfVectorizer(), 2),
                                                   ("oh", OneHotEncoder(handle_unknown="ignore"), [4])])),
                         ("lr", LogisticRegression())])
    add("ct_tfidf", ct_tfidf, [0, 1, 2, 3, 4], X, fit_y=y, methods=("predict", "predict_proba"))
    # sparse results kept sparse between steps: a OneHotEncoder's CSR rows into a LogisticRegression, and a
    # ColumnTransformer stacking sparse and dense parts (sparse_output_ forced by sparse_threshold=1)
    add("oh_sparse_lr", Pipeline([("oh", OneHotEncoder(handle_unknown="ignore")), ("lr", LogisticRegression())]),
        [2, 4], Xs, sources=ALL_SOURCES, fit_y=y, methods=("predict", "predict_proba", "decision_function"))
    ct_sparse = Pipeline([("ct", ColumnTransformer([("oh", OneHotEncoder(handle_unknown="ignore"), [0, 2]),
                                                    ("num", num, [1, 3]), ("o2", OneHotEncoder(), [4])],
                                                   sparse_threshold=1.0, transformer_weights={"num": 3.0})),
                          ("lr", LogisticRegression(max_iter=500))])
    add("ct_sparse_lr", ct_sparse, [0, 1, 2, 3, 4], X, fit_y=y, methods=("predict", "predict_proba"))
    assert ct_sparse.steps[0][1].sparse_output_
    ct_rem = ColumnTransformer([("oh", OneHotEncoder(handle_unknown="ignore"), [0])],
                               remainder=Pipeline([("imp", SimpleImputer()), ("sc", StandardScaler())]))
    Xrem = X[:, [4, 1, 3]]
    add("ct_remainder_estimator", ct_rem, [4, 1, 3], Xrem)
    ct_pass = ColumnTransformer([("ord", OrdinalEncoder(), [4]), ("keep", "passthrough", [3, 1])],
                                remainder="drop")
    add("ct_passthrough", ct_pass, [0, 1, 2, 3, 4], X)
    fu = FeatureUnion([("poly", PolynomialFeatures(2)), ("drop", "drop"), ("sc", StandardScaler()),
                       ("same", "passthrough")], transformer_weights={"sc": 2.0})
    add("union", fu, [1, 3], np.nan_to_num(Xn), header=False)
    return m


def compare(np, got, want, tol):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return "shape %s, sklearn %s" % (got.shape, want.shape)
    if want.dtype.kind in "OUS" or tol is None:
        g = [None if x is None else str(x) for x in got.ravel().tolist()]
        w = [None if x is None else str(x) for x in want.ravel().tolist()]
        return None if g == w else "labels differ: %s vs %s" % (g[:8], w[:8])
    got, want = got.astype(float), want.astype(float)
    if tol == 0.0:
        ok = np.array_equal(got, want, equal_nan=True) and np.array_equal(np.signbit(got), np.signbit(want))
        return None if ok else "not bit-identical: max diff %g" % np.nanmax(np.abs(got - want))
    if np.allclose(got, want, rtol=tol, atol=tol * max(1.0, np.nanmax(np.abs(want))), equal_nan=True):
        return None
    return "max abs diff %g" % np.nanmax(np.abs(got - want))


def tolerance(name, meth):
    if name in ("ct_lr", "pipe_imp_lr", "ct_tfidf") and meth != "predict":
        return 1e-9
    return 0.0


# ------------------------------------------------------- the wild corpus

def wild_cases(np, wild):
    """(id, file, csv rows with header, {method: numpy's answer}) from the
    files' own arrays."""
    def lk(cats, v):
        cats = list(cats)
        return cats.index(v) if v in cats else None
    cases = []
    # 073 LabelEncoder (1.7.2)
    o = common.inert_load(os.path.join(wild, "files/073_Rice-disease-predictor_label-encoder.pkl"))
    cl = list(o.classes_)
    vals = [cl[2], cl[0], cl[3], cl[1], cl[2]]
    cases.append(("073", [["label"]] + [[v] for v in vals], {"transform": np.array([cl.index(v) for v in vals])}))
    cases.append(("073", [["code"]] + [["2"], ["0"], ["3"]], {"inverse_transform": np.array([cl[2], cl[0], cl[3]])}))
    # 066 OrdinalEncoder (1.6.1): use_encoded_value -1, missing -> encoded_missing_value
    o = common.inert_load(os.path.join(wild, "files/066_m5-forecasting-app_encoder.pkl"))
    names = list(o.feature_names_in_)
    c0, c1 = list(o.categories_[0]), list(o.categories_[1])
    rows = [(c0[1], c1[0]), (c0[-1], "NOPE"), ("", c1[-1]), (c0[0], c1[1])]
    want = []
    for a, b in rows:
        r = []
        for f, (v, cats) in enumerate(((a, c0), (b, c1))):
            k = lk(cats, v)
            # a missing value is a category only where fit saw one (_missing_indices); else unknown
            if v == "" and f in o._missing_indices:
                k = o._missing_indices[f]
            r.append(o.unknown_value if k is None else
                     o.encoded_missing_value if f in o._missing_indices and k == o._missing_indices[f] else k)
        want.append(r)
    cases.append(("066", [[names[1], names[0]]] + [[b, a] for a, b in rows], {"transform": np.array(want, float)}))
    # 065 ColumnTransformer (1.6.1, gzip): scaler on 9 numbers, one-hot (ignore) on 8 str columns
    o = common.inert_load(os.path.join(wild, "files/065_noshow_preprocessor-resaved.joblib.gz"))
    names = list(o.feature_names_in_)
    (_, num, ncols), (_, cat, ccols) = o.transformers_[:2]
    sc, oh = num.steps[0][1], cat.steps[0][1]
    rng = np.random.RandomState(65)
    rows, want = [], []
    for i in range(5):
        vals = {n: round(float(rng.normal(sc.mean_[k], sc.scale_[k])), 3) for k, n in enumerate(ncols)}
        for k, n in enumerate(ccols):
            cats = list(oh.categories_[k])
            vals[n] = cats[(i + k) % len(cats)] if i != 3 or k != 2 else "UNSEEN"
        rows.append([str(vals[n]) for n in names[::-1]])
        x = np.array([vals[n] for n in ncols], float)
        parts = [(x - sc.mean_) / sc.scale_]
        for k, n in enumerate(ccols):
            v = np.zeros(len(oh.categories_[k]))
            j = lk(oh.categories_[k], vals[n])
            if j is not None:
                v[j] = 1.0
            parts.append(v)
        want.append(np.concatenate(parts))
    cases.append(("065", [names[::-1]] + rows, {"transform": np.array(want)}))
    # 050 ColumnTransformer (1.3.0): median imputer + scaler; most_frequent imputer -> one-hot -> scaler(with_mean=False)
    o = common.inert_load(os.path.join(wild, "files/050_mlprojecthindi_preprocessor.pkl"))
    names = list(o.feature_names_in_)
    (_, num, ncols), (_, cat, ccols) = o.transformers_[:2]
    imp, sc = num.steps[0][1], num.steps[1][1]
    cimp, oh, csc = cat.steps[0][1], cat.steps[1][1], cat.steps[2][1]
    rows, want = [], []
    for i in range(4):
        vals = {n: float(60 + 7 * i + k) for k, n in enumerate(ncols)}
        if i == 1:
            vals[ncols[0]] = np.nan
        for k, n in enumerate(ccols):
            cats = list(oh.categories_[k])
            vals[n] = cats[(i * 2 + k) % len(cats)] if not (i == 2 and k == 1) else np.nan
        rows.append(["" if isinstance(vals[n], float) and np.isnan(vals[n]) else str(vals[n]) for n in names])
        x = np.array([vals[n] for n in ncols], float)
        x = np.where(np.isnan(x), imp.statistics_, x)
        parts = [(x - sc.mean_) / sc.scale_]
        hot = []
        for k, n in enumerate(ccols):
            v = vals[n]
            if isinstance(v, float):
                v = cimp.statistics_[k]
            e = np.zeros(len(oh.categories_[k]))
            e[lk(oh.categories_[k], v)] = 1.0
            hot.append(e)
        parts.append(np.concatenate(hot) / csc.scale_)
        want.append(np.concatenate(parts))
    cases.append(("050", [names] + rows, {"transform": np.array(want)}))
    return cases


def check_wild(np, brine, summary, tmp, timeout):
    wild = common.default_wild()
    n = 0
    for k, (wid, rows, ref) in enumerate(wild_cases(np, wild)):
        path = [os.path.join(wild, "files", f) for f in os.listdir(os.path.join(wild, "files")) if f.startswith(wid + "_")][0]
        xpath = os.path.join(tmp, "wild%s_%d.csv" % (wid, k))
        with open(xpath, "w", newline="") as f:
            csv.writer(f).writerows(rows)
        for meth, want in ref.items():
            out = os.path.join(tmp, "wild%s_%d.%s.npy" % (wid, k, meth))
            res = common.run_brine(brine, ["predict", path, xpath, "--method", meth, "-o", out], timeout=timeout)
            label = "wild %s/%s" % (wid, meth)
            n += 1
            if res.crash_reason() or res.rc != 0:
                summary.fail(label, "  brine failed\n" + res.describe())
                continue
            got = np.load(out)
            if got.ndim == 2 and want.ndim == 1:
                got = got[:, 0]
            d = compare(np, got, want, None if want.dtype.kind in "OUi" else 1e-12 if wid in ("050", "065") else 0.0)
            summary.fail(label, "  " + d) if d else summary.ok()
    # 047 (its last step a TransformedTargetRegressor) is checked in test_target.py
    return n


def refusals(np, brine, summary, tmp, timeout):
    """Functions are never run; unknown categories under handle_unknown='error'
    are refused naming them; text in a numeric column is refused."""
    import pickle
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder
    n = 0
    ft = FunctionTransformer(func=np.log1p).fit(np.ones((3, 2)))
    oh = OneHotEncoder().fit(np.array([["a"], ["b"]], dtype=object))
    cases = [("func", ft, "a,b\n1,2\n", "log1p"), ("unknown", oh, "x0\nc\n", "'c'")]
    for name, model, text, needle in cases:
        p, x = os.path.join(tmp, name + ".pkl"), os.path.join(tmp, name + ".csv")
        with open(p, "wb") as f:
            pickle.dump(model, f)
        with open(x, "w") as f:
            f.write(text)
        res = common.run_brine(brine, ["predict", p, x], timeout=timeout)
        n += 1
        one = common.one_line_error(res)
        if res.rc != 2 or needle not in res.stderr_text or one or res.crash_reason():
            summary.fail("refuse/" + name, "  expected exit 2 naming %s\n%s" % (needle, res.describe()))
        else:
            summary.ok()
    return n


def main():
    import numpy as np
    args = common.parse_args(__doc__.split("\n")[1])
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    warnings.simplefilter("ignore")
    X, y = data(np)
    Q = query(np, X)
    models = fit_models(np, X, y)
    checks = written = 0
    with common.TempDir(args.keep) as tmp:
        for spec in models:
            name, model, cols = spec["name"], spec["model"], spec["cols"]
            Xq = Q[:, cols] if spec["query"] is None else spec["query"]
            if name.startswith("label"):
                Xq = Xq[:, 0].astype(X[:, cols[0]].dtype if name == "label_str" else int)
                Xq = np.where(Xq == "purple", "dark", Xq) if name == "label_str" else Xq
                Xq = Xq.astype(str) if name == "label_str" else Xq.astype(int)
            elif name.startswith(("poly", "union")):
                Xq = np.nan_to_num(Xq.astype(float))
            elif name == "ct_rf":
                Xq = Q.copy()
                Xq[:, 0] = np.arange(len(Q)) % 3
            elif name in ("impute_mean_ind", "impute_median", "impute_const", "impute_number_mv", "identity", "pipe_imp_lr",
                          "onehot_numeric", "impute_drop_empty", "impute_keep_empty"):
                Xq = Xq.astype(float)
                Xq = np.nan_to_num(Xq) if name == "impute_number_mv" else Xq
            if spec["prep"] and spec["query"] is None:
                Xq = spec["prep"](Xq)
            if name in ("onehot_none", "impute_none_mv"):  # None is its missing marker (an empty CSV cell matches it)
                Xq = np.array([[None if isinstance(v, float) else v for v in r] for r in Xq], dtype=object)
            if name in ("onehot_drop_list",):
                Xq = Xq.copy()
                Xq[5, 0] = "Oslo"  # handle_unknown='error': known rows only
            if name in ("onehot_infrequent", "onehot_max_cats"):
                pass
            ref = {}
            for meth in spec["methods"]:
                ref[meth] = dense(np.asarray(getattr(model, meth)(Xq)) if meth != "transform"
                                  else model.transform(Xq))
            ref = {k: dense(v) for k, v in ref.items()}
            # CSV: the query rows, columns shuffled and named when the model has names
            xpath = os.path.join(tmp, name + ".x.csv")
            use = named(model, NAMES) if name.startswith("ct_l") else model
            order = list(range(Xq.shape[1] if Xq.ndim == 2 else 1))
            header = None
            if name.startswith("ct_l"):
                order = [3, 0, 4, 2, 1]
                header = NAMES
            elif spec["header"]:
                header = ["c%d" % i for i in order]
            rows = Xq if Xq.ndim == 2 else Xq.reshape(-1, 1)
            if rows.dtype.kind not in "O":
                rows = rows.astype(object)
            if rows.dtype.kind == "O":
                rows = np.array([[v.item() if hasattr(v, "item") else v for v in r] for r in rows], dtype=object)
            if name in ("poly3", "poly_inter", "poly_min2", "union", "identity", "impute_mean_ind", "impute_median",
                        "impute_const", "impute_number_mv", "onehot_numeric", "impute_drop_empty", "impute_keep_empty",
                        "pipe_imp_lr"):
                xpath = os.path.join(tmp, name + ".x.npy")
                np.save(xpath, rows.astype(float))
            else:
                write_csv(xpath, rows, order, header)
            checks += common.compare_in_every_format(
                brine, tmp, name, use, xpath, ref, spec["sources"], args.timeout, summary,
                lambda meth, got, want: compare(np, got, want, tolerance(name, meth)))
            if spec["inverse"]:
                codes = ref.get("transform")
                if name.startswith("label"):
                    codes = model.transform(Xq).reshape(-1, 1)
                codes = np.asarray(codes, dtype=float)
                if name in ("onehot_ignore", "onehot_drop_first", "onehot_if_binary", "onehot_infrequent"):
                    codes = codes[np.asarray(codes).sum(axis=1) == len(model.categories_)] if name == "onehot_ignore" else codes
                if name == "ordinal":
                    codes = codes[(codes >= 0).all(axis=1)]
                ipath = os.path.join(tmp, name + ".codes.npy")
                np.save(ipath, codes)
                want = model.inverse_transform(codes[:, 0].astype(int) if name.startswith("label") else codes)
                if np.asarray(want).dtype.kind == "O" and any(v is None for v in np.asarray(want).ravel()):
                    continue
                checks += common.compare_in_every_format(
                    brine, tmp, name + "_inv", use, ipath, {"inverse_transform": np.asarray(want)},
                    spec["sources"][:2], args.timeout, summary, lambda meth, got, w: compare(np, got, w, None))
            # written back verbatim by brine convert; Python reloads it with equal outputs
            if name in ("onehot_ignore", "ordinal", "label_str", "impute_mean_ind", "poly3", "ct_rf", "union"):
                path = os.path.join(tmp, "%s.p4" % name)
                meths = [m for m in spec["methods"]]
                k = written % 2
                written += common.written_back(brine, tmp, name, path, model, Xq, meths, summary,
                                               timeout=args.timeout,
                                               targets=common.WRITE_BACK_TARGETS[2 * k:2 * k + 2])
        wild = check_wild(np, brine, summary, tmp, args.timeout)
        refused = refusals(np, brine, summary, tmp, args.timeout)
    print("encoders: %d models, %d checks; %d files written back by brine equal in sklearn; %d wild-file checks "
          "against numpy on their own arrays; %d refusals" % (len(models), checks, written, wild, refused))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
