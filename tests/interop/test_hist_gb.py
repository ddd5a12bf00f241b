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


# ------------------------------------- estimators inside a refused wild file

def named_inert_load(path, inert_too=()):
    """common.inert_load's restricted reading (sklearn, _loss and
    numpy.random classes inert; numpy, copyreg, _codecs and joblib
    reconstructors resolved; anything else refused), with each inert class
    remembering the global it stands for, so the objects can be pickled
    again under the same names.  inert_too: more module prefixes read as
    inert holders (never called, never written again); builtins.bytearray
    is resolved for them."""
    import pickle as pk
    import types
    import joblib
    import joblib.numpy_pickle as jnp

    class Named:
        _global = None

        def __init__(self, *args, **kwargs):
            self._args = args

        def __setstate__(self, st):
            if isinstance(st, dict):
                self.__dict__.update(st)
            else:
                self._state = st

        def __setitem__(self, key, value):  # dict subclasses (Bunch) get SETITEMS
            self.__dict__.setdefault("_items", {})[key] = value

    made = {}

    def resolve(module, name):
        if module.startswith("numpy._core"):
            module = "numpy.core" + module[len("numpy._core"):]
        if module == "builtins" and name == "bytearray" and inert_too:
            return module, name, None
        if module.startswith(("sklearn.", "numpy.random") + tuple(inert_too)) or module == "_loss":
            if (module, name) not in made:
                made[(module, name)] = type(name, (Named,), {"_global": (module, name)})
            return module, None, made[(module, name)]
        if module.split(".")[0] not in ("numpy", "copyreg", "_codecs", "joblib") and module != "builtins":
            raise pk.UnpicklingError("refused %s.%s" % (module, name))
        return module, name, None

    class Nested(pk.Unpickler):
        def find_class(self, module, name):
            module, name, inert = resolve(module, name)
            return inert or super().find_class(module, name)

    class Unpickler(jnp.NumpyUnpickler):
        def find_class(self, module, name):
            module, name, inert = resolve(module, name)
            return inert or super().find_class(module, name)

    shim = types.SimpleNamespace(**{k: getattr(pk, k) for k in dir(pk) if not k.startswith("__")})
    shim.load = lambda fh, **kw: Nested(fh).load()
    saved = jnp.NumpyUnpickler, jnp.pickle
    jnp.NumpyUnpickler, jnp.pickle = Unpickler, shim
    try:
        return joblib.load(path), Named
    finally:
        jnp.NumpyUnpickler, jnp.pickle = saved


def repickle(obj, base, path):
    """Pickles (protocol 4) an object graph read by named_inert_load: each
    inert object as its class (NEWOBJ + state) or as the call that made it
    (REDUCE of its arguments, BUILD of its state), every inert class as the
    global it stood for; numpy arrays as numpy pickles them."""
    import copyreg
    import io
    import pickle as pk

    class Writer(pk._Pickler):
        def reducer_override(self, o):
            if isinstance(o, base):
                st = {k: v for k, v in o.__dict__.items() if k not in ("_args", "_state", "_items")}
                state = o.__dict__.get("_state", st if st else None)
                if "_args" in o.__dict__:
                    return (type(o), o._args, state)
                return (copyreg.__newobj__, (type(o),), state)
            return NotImplemented

        def save_global(self, o, name=None):
            if isinstance(o, type) and issubclass(o, base) and o._global:
                module, qual = o._global
                self.save(module)
                self.save(qual)
                self.write(pk.STACK_GLOBAL)
                self.memoize(o)
                return
            super().save_global(o, name)

    buf = io.BytesIO()
    Writer(buf, protocol=4).dump(obj)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def expit(np, x):
    return 1 / (1 + np.exp(-x))


def numpy_gb_classifier_14(np, o, X):
    """decision_function of a binary GradientBoostingClassifier of sklearn
    >= 1.4 from its own arrays: logit of the DummyClassifier prior clipped
    to float32's eps, then learning_rate * leaf value per stage on float32 X."""
    d = o.__dict__
    prior = np.asarray(d["init_"].__dict__["class_prior_"], dtype=np.float64)
    eps = np.finfo(np.float32).eps
    p1 = np.clip(prior[1], eps, 1 - eps)
    raw = np.full(X.shape[0], np.log(p1 / (1 - p1)))
    X32 = X.astype(np.float32)
    for est in np.asarray(d["estimators_"]).reshape(-1):
        t = est.__dict__["tree_"]
        nodes, values = t.__dict__["nodes"], t.__dict__["values"]
        for i in range(X.shape[0]):
            n = 0
            while nodes["left_child"][n] != -1:
                f = nodes["feature"][n]
                v = X32[i, f]
                if np.isnan(v):
                    n = nodes["left_child"][n] if nodes["missing_go_to_left"][n] else nodes["right_child"][n]
                else:
                    n = nodes["left_child"][n] if v <= nodes["threshold"][n] else nodes["right_child"][n]
            raw[i] += d["learning_rate"] * values[n, 0, 0]
    return raw


def check_members_of_refused(np, brine, summary, tmp, timeout):
    """Wild 055 (a VotingClassifier of sklearn 1.4.0) is refused for its
    XGBClassifier, but it holds a fitted HistGradientBoostingClassifier and
    GradientBoostingClassifier of 1.4.0 (the common loss module): each is
    pickled again alone, globals and state as the file has them, and brine's
    predict, predict_proba and decision_function must equal numpy on its own
    arrays with sklearn 1.4's formulas (expit of raw; predict raw > 0 for
    HistGradientBoosting, raw >= 0 for GradientBoosting)."""
    wild = common.default_wild()
    rows = {r["id"]: r for r in csv.DictReader(open(os.path.join(wild, "MANIFEST.tsv")), delimiter="\t")}
    path = os.path.join(wild, rows["055"]["file"])
    root, base = named_inert_load(path, inert_too=("xgboost.",))
    checked = 0
    for member in root.__dict__["estimators_"]:
        cls = type(member).__name__
        if cls not in ("HistGradientBoostingClassifier", "GradientBoostingClassifier"):
            continue
        d = member.__dict__
        nf = int(d["n_features_in_"])
        X = np.random.RandomState(55).normal(size=(25, nf)) * 2
        if cls.startswith("Hist"):
            X[np.random.RandomState(5).uniform(size=X.shape) < 0.1] = np.nan
            raw = numpy_raw(np, member, X)[:, 0]
            labels = (raw > 0).astype(int)
        else:
            raw = numpy_gb_classifier_14(np, member, X)
            labels = (raw >= 0).astype(int)
        p1 = expit(np, raw)
        want = {"decision_function": raw, "predict_proba": np.c_[1 - p1, p1],
                "predict": np.asarray(d["classes_"])[labels]}
        mpath = os.path.join(tmp, "wild055.%s.pkl" % cls)
        repickle(member, base, mpath)
        xpath = os.path.join(tmp, "wild055.%s.x.npy" % cls)
        np.save(xpath, X)
        for meth, w in want.items():
            out = os.path.join(tmp, "wild055.%s.%s.npy" % (cls, meth))
            res = common.run_brine(brine, ["predict", mpath, xpath, "--method", meth, "-o", out], timeout=timeout)
            checked += 1
            label = "wild 055 member %s (sklearn %s)/%s" % (cls, d.get("_sklearn_version"), meth)
            if res.crash_reason() or res.rc != 0:
                summary.fail(label, "  brine failed\n" + res.describe())
                continue
            got = np.load(out, allow_pickle=False)
            if got.ndim == 2 and w.ndim == 1 and got.shape[1] == 1:
                got = got[:, 0]
            diff = compare(np, got, w, meth == "predict")
            if diff:
                summary.fail(label, "  " + diff)
            else:
                summary.ok()
    if checked != 6:
        summary.fail("wild 055 members", "  expected 6 checks on its two boosting members, made %d" % checked)
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
            checks += common.compare_in_every_format(
                brine, tmp, name, model, xpath, ref, sources, args.timeout, summary,
                lambda meth, got, want: compare(np, got, want, meth == "predict" and hasattr(model, "classes_")),
                allow_pickle=True)
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
        wild += check_members_of_refused(np, brine, summary, tmp, args.timeout)
        checks += wild
    print("hist_gb: %d models, %d checks (%d on wild files); %d files written back by brine equal in sklearn"
          % (len(models), checks, wild, sum(written)))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
