#!/usr/bin/python3
"""Tree ensembles beyond forests: brine predict equals Debian's sklearn.

Fits GradientBoostingRegressor (squared_error, absolute_error, huber,
quantile; init 'zero', DummyRegressor strategies and a decision tree; subsample; depths) and
GradientBoostingClassifier (log_loss binary and multiclass, exponential,
string labels, init 'zero', DummyClassifier strategies and a decision tree) on iris, wine,
breast_cancer, diabetes and synthetic data, saves each as pickle (protocols
2-5) and joblib (zlib, lz4) — one model per loss family; protocol 4 for the
others — and compares `brine predict --method M -o
out.npy` with sklearn for every method the estimator has (predict,
predict_proba, predict_log_proba, decision_function, apply): labels and
leaf indices exactly, floats bit for bit (the arithmetic is sklearn's:
float32 trees, float64 sums in stage order, libm exp/log).  Methods sklearn
lacks must be refused.  Files `brine convert` writes back (verbatim, pickle
protocols and joblib compressors) must reload in sklearn 1.2.1 and give
every method's output exactly.  Classifiers of sklearn >= 1.4 (the common
loss module) have no real multiclass file here: four 1.2.1 fits rewritten
into 1.4's layout (binary, exponential, 3 and 10 classes) must predict as
1.4's formulas computed with 1.2.1's own links, softmax and predict_stages.  The wild GradientBoostingRegressor files that
predict (tests/wild_expectations.tsv) are compared, bit for bit, with numpy
on their own arrays, read with every sklearn class inert (no sklearn code
runs, joblib's nested object-array pickles included).

Usage: /usr/bin/python3 tests/interop/test_ensembles.py --brine build/brine
Last line: `ensembles: P passed, F failed`."""
import os
import pickle
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "ensembles"
METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "apply")
# Every container for these (one per loss family); protocol 4 for the rest,
# so that check.sh's ASan run stays short.
ALL_CONTAINERS = ("gbr_ls_diab", "gbc_binary_bc", "gbc_multi_iris", "gbc_exp_bc")
SOURCES = [("p2", "pickle", 2), ("p3", "pickle", 3), ("p4", "pickle", 4), ("p5", "pickle", 5),
           ("zlib", "joblib", 3), ("lz4", "joblib", ("lz4", 3))]


def fit_models():
    import numpy as np
    from sklearn import datasets
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import GradientBoostingClassifier as GBC, GradientBoostingRegressor as GBR
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    rng = np.random.RandomState(0)
    iris = datasets.load_iris(return_X_y=True)
    wine = datasets.load_wine(return_X_y=True)
    bc = datasets.load_breast_cancer(return_X_y=True)
    diab = datasets.load_diabetes(return_X_y=True)
    Xs = rng.normal(size=(200, 5)) * [1, 10, 0.1, 100, 1]
    ys = Xs @ rng.normal(size=5) + rng.normal(size=200)
    yc = np.array(["neg", "pos"])[(ys > np.median(ys)).astype(int)]
    m = []

    def add(name, est, data):
        X, y = data
        m.append((name, est.fit(X, y), X))

    add("gbr_ls_diab", GBR(n_estimators=30, random_state=0), diab)
    add("gbr_lad_synth", GBR(loss="absolute_error", n_estimators=20, max_depth=2, random_state=0), (Xs, ys))
    add("gbr_huber_sub", GBR(loss="huber", alpha=0.8, subsample=0.7, n_estimators=25, random_state=1), diab)
    add("gbr_quantile", GBR(loss="quantile", alpha=0.3, n_estimators=15, max_depth=4, random_state=2), (Xs, ys))
    add("gbr_zero", GBR(init="zero", n_estimators=10, learning_rate=0.3, random_state=0), diab)
    add("gbr_dummy_median", GBR(init=DummyRegressor(strategy="median"), n_estimators=10, random_state=0), (Xs, ys))
    add("gbc_binary_bc", GBC(n_estimators=30, random_state=0), bc)
    add("gbc_binary_str", GBC(n_estimators=20, max_depth=2, subsample=0.8, random_state=3), (Xs, yc))
    add("gbc_multi_iris", GBC(n_estimators=15, random_state=0), iris)
    add("gbc_multi_wine", GBC(n_estimators=10, learning_rate=0.5, max_depth=2, random_state=0), wine)
    add("gbc_exp_bc", GBC(loss="exponential", n_estimators=20, random_state=0), bc)
    add("gbc_zero_iris", GBC(init="zero", n_estimators=8, random_state=0), iris)
    add("gbc_uniform_bc", GBC(init=DummyClassifier(strategy="uniform"), n_estimators=8, random_state=0), bc)
    add("gbc_mostfreq_iris", GBC(init=DummyClassifier(strategy="most_frequent"), n_estimators=5,
                                 random_state=0), iris)
    # init_ an estimator of its own (a nested model fed the float32 rows)
    add("gbr_init_tree", GBR(init=DecisionTreeRegressor(max_depth=3, random_state=0), n_estimators=8,
                             random_state=0), diab)
    add("gbc_init_tree_iris", GBC(init=DecisionTreeClassifier(max_depth=2, random_state=0), n_estimators=5,
                                  random_state=0), iris)
    return m


def compare(np, got, want, exact_labels):
    if got.shape != want.shape:
        return "shape %s, sklearn %s" % (got.shape, want.shape)
    if exact_labels:
        return None if np.array_equal(got, want) else "labels differ"
    if np.array_equal(got.view(np.uint8), want.view(np.uint8)):
        return None
    return "not bit-identical: max diff %g" % np.max(np.abs(got - want))


def reference(np, model, X):
    ref = {}
    for meth in METHODS:
        if not hasattr(model, meth):
            continue
        want = np.asarray(getattr(model, meth)(X))
        if meth == "apply":
            want = want.reshape(X.shape[0], -1).astype(np.int64)
        ref[meth] = want
    return ref


def numpy_gb_regressor(np, o, X):
    """predict of a GradientBoostingRegressor from its own arrays: the
    init constant, then learning_rate * leaf value stage by stage, the
    trees walked on float32 X."""
    X32 = X.astype(np.float32)
    raw = np.full(X.shape[0], float(np.asarray(o.init_.constant_).ravel()[0])) \
        if not isinstance(o.init_, str) else np.zeros(X.shape[0])
    for est in np.asarray(o.estimators_).reshape(-1):
        t = est.tree_
        nodes, values = t.__dict__["nodes"], t.__dict__["values"]
        leaf = np.zeros(X.shape[0], dtype=np.int64)
        for i in range(X.shape[0]):
            n = 0
            while nodes["left_child"][n] != -1:
                f = nodes["feature"][n]
                n = nodes["left_child"][n] if X32[i, f] <= nodes["threshold"][n] else nodes["right_child"][n]
            leaf[i] = n
        raw += o.learning_rate * values[leaf, 0, 0]
    return raw


def check_wild(np, brine, summary, tmp, timeout):
    """Wild GradientBoostingRegressor files brine predicts with, against numpy
    on their own arrays."""
    import csv
    wild = common.default_wild()
    rows = {r["id"]: r for r in csv.DictReader(open(os.path.join(wild, "MANIFEST.tsv")), delimiter="\t")}
    with open(os.path.join(common.REPO, "tests", "wild_expectations.tsv")) as f:
        exp = list(csv.DictReader([x for x in f if not x.startswith("#")], delimiter="\t"))
    checked = 0
    for e in exp:
        if e["predict"] != "ok" or not e["root"].endswith(".GradientBoostingRegressor"):
            continue
        path = os.path.join(wild, rows[e["id"]]["file"])
        o = common.inert_load(path)
        X = np.random.RandomState(int(e["id"])).normal(size=(9, int(o.n_features_in_))) * 3
        xpath = os.path.join(tmp, "wild%s.npy" % e["id"])
        np.save(xpath, X)
        want = numpy_gb_regressor(np, o, X)
        out = os.path.join(tmp, "wild%s.npy.out.npy" % e["id"])
        res = common.run_brine(brine, ["predict", path, xpath, "-o", out], timeout=timeout)
        checked += 1
        label = "wild %s GradientBoostingRegressor/predict" % e["id"]
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


def layout_14(np, model):
    """A GradientBoostingClassifier of sklearn 1.2.1 in sklearn 1.4's layout
    (synthetic: no real multiclass file of >= 1.4 exists here): `_loss` the
    common loss module's object, n_trees_per_iteration_, _sklearn_version
    1.4.0 throughout; and what sklearn 1.4's _gb.py computes from it, with
    1.2.1's own link, softmax and predict_stages: init = link of the clipped
    DummyClassifier probabilities (LogitLink, half of it for the
    exponential loss, MultinomialLogit), proba = expit / softmax of raw,
    predict from raw."""
    import copy
    from scipy.special import expit, logit
    from sklearn._loss.link import MultinomialLogit
    from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
    import sklearn._loss.loss as loss_module
    m = copy.deepcopy(model)
    k = m.estimators_.shape[1]
    m._loss = HalfMultinomialLoss(n_classes=k) if k > 1 else HalfBinomialLoss()
    m.n_trees_per_iteration_ = k
    if model.loss == "exponential":
        # 1.2.1 has no ExponentialLoss: a stand-in pickled under 1.4's name
        stand_in = type("ExponentialLoss", (), {"__module__": "sklearn._loss.loss"})
        loss_module.ExponentialLoss = stand_in
        m._loss = stand_in()
        m._loss.__dict__.update(HalfBinomialLoss().__dict__)
    try:
        data = pickle.dumps(m, protocol=4)
    finally:
        loss_module.__dict__.pop("ExponentialLoss", None)
    old = b"\x8c\x051.2.1"
    if old not in data:
        raise AssertionError("no _sklearn_version 1.2.1 string to rewrite")
    data = data.replace(old, b"\x8c\x051.4.0")

    def ref(X):
        from sklearn.ensemble._gradient_boosting import predict_stages
        eps = np.finfo(np.float32).eps
        prior = model.init_.predict_proba(X)
        if k == 1:
            raw = logit(np.clip(prior[:, 1], eps, 1 - eps, dtype=np.float64))
            if model.loss == "exponential":
                raw *= 0.5
            raw = np.ascontiguousarray(raw.reshape(-1, 1))
        else:
            raw = np.ascontiguousarray(MultinomialLogit().link(np.clip(prior, eps, 1 - eps, dtype=np.float64)))
        predict_stages(model.estimators_, np.ascontiguousarray(X, dtype=np.float32), model.learning_rate, raw)
        if k == 1:
            p1 = expit(2 * raw[:, 0] if model.loss == "exponential" else raw[:, 0])
            proba = np.empty((X.shape[0], 2))
            proba[:, 1] = p1
            proba[:, 0] = 1 - proba[:, 1]
            labels = (raw[:, 0] >= 0).astype(int)
        else:
            proba = HalfMultinomialLoss(n_classes=k).predict_proba(raw)
            labels = np.argmax(raw, axis=1)
        with np.errstate(divide="ignore"):
            logp = np.log(proba)
        return {"predict": model.classes_[labels], "predict_proba": proba, "predict_log_proba": logp,
                "decision_function": raw.ravel() if k == 1 else raw,
                "apply": model.apply(X).reshape(X.shape[0], -1).astype(np.int64)}
    return data, ref


def check_layout_14(np, brine, summary, tmp, timeout, models):
    """Classifiers in sklearn 1.4's layout (layout_14) predict as sklearn
    1.4's formulas say, bit for bit."""
    from sklearn import datasets
    from sklearn.ensemble import GradientBoostingClassifier as GBC
    X10, y10 = datasets.load_digits(return_X_y=True)
    extra = [("gbc_10class_digits", GBC(n_estimators=3, max_depth=2, random_state=0).fit(X10[:300], y10[:300]),
              X10[:300])]
    checked = 0
    for name, model, X in [mx for mx in models if mx[0] in ("gbc_binary_bc", "gbc_multi_wine", "gbc_exp_bc")] + extra:
        X = np.ascontiguousarray(X[::5][:40], dtype=np.float64)
        data, ref = layout_14(np, model)
        path = os.path.join(tmp, name + ".layout14.pkl")
        with open(path, "wb") as f:
            f.write(data)
        xpath = os.path.join(tmp, name + ".layout14.x.npy")
        np.save(xpath, X)
        for meth, want in ref(X).items():
            out = os.path.join(tmp, "%s.layout14.%s.npy" % (name, meth))
            res = common.run_brine(brine, ["predict", path, xpath, "--method", meth, "-o", out], timeout=timeout)
            checked += 1
            label = "%s/sklearn-1.4-layout/%s" % (name, meth)
            if res.crash_reason() or res.rc != 0:
                summary.fail(label, "  brine failed\n" + res.describe())
                continue
            got = np.load(out, allow_pickle=True)
            if got.ndim == 2 and want.ndim == 1 and got.shape[1] == 1:
                got = got[:, 0]
            if meth == "apply":
                got = got.astype(np.int64)
            d = compare(np, np.ascontiguousarray(got), np.ascontiguousarray(want), meth in ("predict", "apply"))
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
            X = np.ascontiguousarray(X[::3][:60], dtype=np.float64)
            xpath = os.path.join(tmp, name + ".x.npy")
            np.save(xpath, X)
            ref = reference(np, model, X)
            checks += common.compare_in_every_format(
                brine, tmp, name, model, xpath, ref, SOURCES if name in ALL_CONTAINERS else SOURCES[2:3],
                args.timeout, summary,
                lambda meth, got, want: compare(np, got.astype(np.int64) if meth == "apply" else got, want,
                                                meth in ("predict", "apply") and hasattr(model, "classes_")
                                                or meth == "apply"),
                allow_pickle=True)
            sname, path = "p4", os.path.join(tmp, "%s.p4" % name)
            # methods sklearn lacks are refused
            for meth in METHODS:
                if meth in ref:
                    continue
                res = common.run_brine(brine, ["predict", path, xpath, "--method", meth], timeout=args.timeout)
                checks += 1
                if res.rc == 0 or res.crash_reason():
                    summary.fail("%s/%s/%s" % (name, sname, meth), "  accepted a method sklearn lacks")
                else:
                    summary.ok()
            # written back verbatim (the generic save): one container per
            # model, all four over the models; sklearn 1.2.1 reloads each
            # file and every method gives what the original gives
            k = len(written) % 4
            written.append(common.written_back(brine, tmp, name, path, model, X, list(ref), summary,
                                               timeout=args.timeout,
                                               targets=common.WRITE_BACK_TARGETS[k:k + 1]))
            checks += 1
        wild = check_wild(np, brine, summary, tmp, args.timeout)
        checks += wild
        checks += check_layout_14(np, brine, summary, tmp, args.timeout, models)
    print("ensembles: %d models, %d checks (%d on wild files); %d files written back by brine equal in sklearn"
          % (len(models), checks, wild, sum(written)))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
