#!/usr/bin/python3
"""Meta-ensembles: brine predict equals Debian's sklearn.

Fits IsolationForest (max_samples, max_features < 1, contamination),
AdaBoostClassifier (SAMME and SAMME.R, binary and multiclass, string
labels, tree and LogisticRegression members), AdaBoostRegressor (every
loss; more than 16 members, so numpy's argsort partitions), BaggingClassifier
and BaggingRegressor (max_features < 1, bootstrap_features, members that miss
classes, members without predict_proba, LogisticRegression members with
decision_function and predict_log_proba, n_jobs=2 partitions),
VotingClassifier (hard and soft, weights, a 'drop' member, string labels)
and VotingRegressor (weights, nine members), StackingClassifier and
StackingRegressor (every stack_method, passthrough, a 'drop' member) on
small data; saves each as a pickle (protocol 4; one model of each family
also in protocols 2, 3, 5 and some joblib compressors, every compressor
twice) and compares `brine predict --method M
-o out.npy` with sklearn for every method the estimator has: labels
exactly; floats bit for bit where every member is a tree, within 1e-9
relative where linear members are involved (BLAS dot products).  Methods
sklearn lacks must be refused (one model of each family); so must an unsupported final estimator
(GaussianProcessRegressor), naming it.  Files brine writes (`brine convert`, the generic
save; one model of each family, pickle and joblib) must reload in this
Python's sklearn with equal outputs.  The wild
AdaBoostClassifier file (082, sklearn 1.8) is compared, bit for bit, with
numpy on its own arrays read with every sklearn class inert.

Usage: /usr/bin/python3 tests/interop/test_ensembles2.py --brine build/brine
Last line: `ensembles2: P passed, F failed`."""
import os
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "ensembles2"
METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "score_samples", "transform")
SOURCES = {"p2": ("pickle", 2), "p3": ("pickle", 3), "p4": ("pickle", 4), "p5": ("pickle", 5),
           "zlib": ("joblib", 3), "gzip": ("joblib", ("gzip", 3)), "bz2": ("joblib", ("bz2", 3)),
           "xz": ("joblib", ("xz", 3)), "lzma": ("joblib", ("lzma", 3)), "lz4": ("joblib", ("lz4", 3))}


def formats(*names):
    """p4 (which the other checks reuse) and the named formats.  One model of
    each family goes through every protocol and a share of the compressors,
    so that every format is read at least twice and an ASan run stays short."""
    return [(n,) + SOURCES[n] for n in ("p4",) + names]


P4 = formats()


def fit_models():
    import numpy as np
    from sklearn import datasets
    from sklearn.ensemble import (AdaBoostClassifier as ABC, AdaBoostRegressor as ABR, BaggingClassifier as BC,
                                  BaggingRegressor as BR, IsolationForest, RandomForestClassifier,
                                  StackingClassifier as SC, StackingRegressor as SR, VotingClassifier as VC,
                                  VotingRegressor as VR)
    from sklearn.linear_model import LinearRegression, LogisticRegression, Perceptron, Ridge
    from sklearn.neighbors import KNeighborsClassifier as KNN
    from sklearn.svm import LinearSVC
    from sklearn.tree import DecisionTreeClassifier as DTC, DecisionTreeRegressor as DTR, ExtraTreeRegressor
    rng = np.random.RandomState(0)
    iris = datasets.load_iris(return_X_y=True)
    wine = datasets.load_wine(return_X_y=True)
    bc = datasets.load_breast_cancer(return_X_y=True)
    bc = (bc[0][::2], bc[1][::2])
    diab = datasets.load_diabetes(return_X_y=True)
    diab = (diab[0][::2], diab[1][::2])
    Xs = rng.normal(size=(120, 5)) * [1, 10, 0.1, 100, 1]
    ys = Xs @ rng.normal(size=5) + rng.normal(size=120)
    yc = np.array(["neg", "pos"])[(ys > np.median(ys)).astype(int)]
    y3 = np.array(["a", "b", "c"])[np.digitize(ys, np.percentile(ys, [33, 66]))]
    iris_s = (iris[0] / iris[0].std(0), iris[1])
    m = []

    def add(name, est, data, linear=False, formats=P4):
        X, y = data
        m.append((name, est.fit(X, y) if y is not None else est.fit(X), X, linear, formats))

    lr = dict(max_iter=2000)
    # IsolationForest
    add("iso_default", IsolationForest(n_estimators=15, random_state=0), (Xs, None), formats=formats("p2", "p3", "p5", "zlib", "gzip"))
    add("iso_feats", IsolationForest(n_estimators=12, max_features=0.6, max_samples=40, random_state=1), (Xs, None))
    add("iso_contam", IsolationForest(n_estimators=10, contamination=0.1, random_state=2), (iris[0], None))
    add("iso_one", IsolationForest(n_estimators=3, max_samples=1, random_state=0), (Xs, None))
    add("iso_bootstrap", IsolationForest(n_estimators=8, bootstrap=True, max_features=3, random_state=3),
        (Xs, None))
    # AdaBoost
    add("ada_r_binary", ABC(n_estimators=12, random_state=0), bc, formats=formats("p2", "p3", "p5", "bz2", "xz"))
    add("ada_r_multi", ABC(DTC(max_depth=2), n_estimators=10, learning_rate=0.5, random_state=0), iris)
    add("ada_samme_binary", ABC(algorithm="SAMME", n_estimators=15, random_state=0), (Xs, yc))
    add("ada_samme_multi", ABC(DTC(max_depth=2), algorithm="SAMME", n_estimators=10, random_state=1), wine)
    add("ada_samme_str3", ABC(algorithm="SAMME", n_estimators=8, random_state=2), (Xs, y3))
    add("ada_lr", ABC(LogisticRegression(**lr), algorithm="SAMME", n_estimators=4, random_state=0), iris_s,
        linear=True)
    add("ada_lr_r", ABC(LogisticRegression(**lr), n_estimators=3, random_state=0), iris_s, linear=True)
    add("adar_linear", ABR(n_estimators=20, random_state=0), diab, formats=formats("p3", "lzma", "lz4"))
    add("adar_square", ABR(DTR(max_depth=2), loss="square", n_estimators=30, random_state=1), (Xs, ys))
    add("adar_exp", ABR(loss="exponential", n_estimators=5, learning_rate=0.5, random_state=2), diab)
    add("adar_stumps", ABR(DTR(max_depth=1), n_estimators=40, random_state=3), (Xs, np.round(ys)))
    # Bagging
    add("bag_trees", BC(DTC(), n_estimators=8, max_features=0.5, random_state=0), wine, formats=formats("p2", "p5", "zlib", "lz4"))
    add("bag_bootfeat", BC(DTC(max_depth=3), n_estimators=6, bootstrap_features=True, max_features=3,
                           random_state=1), (Xs, y3))
    add("bag_missing", BC(DTC(), n_estimators=7, max_samples=6, random_state=2), iris)
    # fitted in one process; predicting with n_jobs=3 partitions the members 3, 2, 2
    add("bag_jobs", BC(DTC(max_depth=2), n_estimators=7, random_state=3), bc)
    m[-1][1].n_jobs = 3
    add("bag_perceptron", BC(Perceptron(random_state=0), n_estimators=5, max_features=0.7, random_state=4),
        iris_s, linear=True)
    add("bag_lr", BC(LogisticRegression(**lr), n_estimators=4, max_features=0.75, random_state=5), iris_s,
        linear=True)
    add("bag_lr_binary", BC(LogisticRegression(**lr), n_estimators=3, random_state=6), (Xs / Xs.std(0), yc),
        linear=True)
    add("bag_knn", BC(KNN(n_neighbors=3), n_estimators=4, max_features=0.5, random_state=7), iris_s)
    add("bagr_trees", BR(DTR(max_depth=4), n_estimators=9, max_features=0.6, random_state=0), diab)
    add("bagr_linear", BR(LinearRegression(), n_estimators=4, max_features=3, random_state=1), (Xs, ys),
        linear=True)
    # Voting
    tdc = [("dt", DTC(max_depth=3, random_state=0)), ("rf", RandomForestClassifier(n_estimators=4, random_state=0)),
           ("dt2", DTC(max_depth=5, random_state=1))]
    add("vote_hard", VC(tdc), (Xs, y3))
    add("vote_hard_w", VC(tdc, weights=[2, 1, 1.5]), wine)
    add("vote_soft", VC(tdc, voting="soft"), iris, formats=formats("p2", "p3", "p5", "gzip", "xz"))
    add("vote_soft_w", VC(tdc, voting="soft", weights=[0.2, 0.5, 0.3]), (Xs, yc))
    add("vote_soft_drop", VC(tdc[:1] + [("x", "drop")] + tdc[1:], voting="soft", weights=[1, 5, 2, 3]), wine)
    add("vote_soft_noflat", VC(tdc, voting="soft", flatten_transform=False), iris)
    add("vote_lr", VC([("lr", LogisticRegression(**lr)), ("dt", DTC(max_depth=2, random_state=0))],
                      voting="soft", weights=[1, 2]), iris_s, linear=True)
    add("vote_knn", VC([("knn", KNN(n_neighbors=4)), ("dt", DTC(max_depth=3, random_state=0))], voting="soft"),
        wine)
    add("voter", VR([("a", DTR(max_depth=3, random_state=0)), ("b", DTR(max_depth=5, random_state=0)),
                     ("c", ExtraTreeRegressor(random_state=0))]), diab)
    add("voter_w9", VR([("t%d" % i, DTR(max_depth=2 + i % 4, random_state=i)) for i in range(9)],
                       weights=[1, 2, 3, 0.5, 1, 1, 2, 0.25, 4]), (Xs, ys))
    add("voter_lin", VR([("lin", LinearRegression()), ("r", Ridge()), ("t", DTR(max_depth=3))]), diab,
        linear=True)
    # Stacking
    add("stack_auto", SC([("dt", DTC(max_depth=3, random_state=0)), ("rf", RandomForestClassifier(
        n_estimators=5, random_state=0))], final_estimator=LogisticRegression(**lr)), iris, linear=True,
        formats=formats("p2", "p5", "bz2", "lzma"))
    add("stack_pass_bin", SC([("dt", DTC(max_depth=3, random_state=0)), ("lr", LogisticRegression(**lr))],
                             passthrough=True), (Xs / Xs.std(0), yc), linear=True)
    add("stack_decision", SC([("svc", LinearSVC(C=0.05, random_state=0, max_iter=5000)), ("lr", LogisticRegression(**lr))],
                             stack_method="decision_function"), iris_s, linear=True)
    add("stack_predict", SC([("a", DTC(max_depth=2, random_state=0)), ("x", "drop"),
                             ("b", DTC(max_depth=4, random_state=1))], stack_method="predict",
                            final_estimator=DTC(max_depth=3, random_state=0)), (Xs, y3))
    add("stack_trees_bin", SC([("a", DTC(max_depth=2, random_state=0)), ("b", DTC(max_depth=4, random_state=1))],
                              final_estimator=DTC(max_depth=3, random_state=0), passthrough=True), bc)
    add("stackr", SR([("dt", DTR(max_depth=3, random_state=0)), ("lin", LinearRegression())],
                     final_estimator=Ridge(alpha=0.5)), diab, linear=True)
    add("stackr_trees", SR([("a", DTR(max_depth=3, random_state=0)), ("x", "drop"),
                            ("b", DTR(max_depth=6, random_state=0))], final_estimator=DTR(max_depth=4, random_state=0),
                           passthrough=True), (Xs, ys))
    return m


def compare(np, got, want, exact_labels, linear):
    if got.shape != want.shape:
        return "shape %s, sklearn %s" % (got.shape, want.shape)
    if exact_labels or want.dtype.kind in "iuUSOb":
        return None if np.array_equal(got, want) else "labels differ: %s vs %s" % (got[:5], want[:5])
    if not linear:
        g, w = np.ascontiguousarray(got, dtype=np.float64), np.ascontiguousarray(want, dtype=np.float64)
        if np.array_equal(g.view(np.uint8), w.view(np.uint8)):
            return None
        return "not bit-identical: max diff %g" % np.max(np.abs(got - want))
    if np.allclose(got, want, rtol=1e-9, atol=1e-12):
        return None
    return "beyond 1e-9 relative: max diff %g" % np.max(np.abs(got - want))


def reference(np, model, X):
    import joblib
    with joblib.parallel_backend("threading", n_jobs=1):  # n_jobs > 1: the same partition, no processes
        return _reference(np, model, X)


def _reference(np, model, X):
    ref = {}
    for meth in METHODS:
        if not hasattr(model, meth):
            continue
        try:
            want = np.asarray(getattr(model, meth)(X))
        except Exception:
            continue
        if want.ndim > 2:
            continue  # flatten_transform=False: checked as refused
        ref[meth] = want
    return ref


def samme_numpy(np, o, X):
    """decision_function, predict, predict_proba of a SAMME AdaBoostClassifier
    of sklearn >= 1.3 from its own arrays (trees walked on float32 X)."""
    X32 = X.astype(np.float32)
    classes = np.asarray(o.classes_)
    K = len(classes)
    pred = 0
    for est, w in zip(o.estimators_, o.estimator_weights_):
        t = est.tree_
        nodes, values = t.__dict__["nodes"], t.__dict__["values"]
        lab = np.zeros(X.shape[0], dtype=np.int64)
        for i in range(X.shape[0]):
            n = 0
            while nodes["left_child"][n] != -1:
                n = nodes["left_child"][n] if X32[i, nodes["feature"][n]] <= nodes["threshold"][n] \
                    else nodes["right_child"][n]
            lab[i] = np.argmax(values[n, 0])
        yhat = np.asarray(est.classes_)[lab]
        pred = pred + np.where((yhat == classes[:, None]).T, w, -1 / (K - 1) * w)
    pred = pred / o.estimator_weights_.sum()
    dec = pred
    proba = pred / (K - 1)
    proba = proba - proba.max(axis=1)[:, None]
    proba = np.exp(proba)
    proba /= proba.sum(axis=1)[:, None]
    return {"decision_function": dec, "predict": classes[np.argmax(pred, axis=1)], "predict_proba": proba,
            "predict_log_proba": np.log(proba)}


def check_wild(np, brine, summary, tmp, timeout):
    import csv
    wild = common.default_wild()
    rows = {r["id"]: r for r in csv.DictReader(open(os.path.join(wild, "MANIFEST.tsv")), delimiter="\t")}
    with open(os.path.join(common.REPO, "tests", "wild_expectations.tsv")) as f:
        exp = list(csv.DictReader([x for x in f if not x.startswith("#")], delimiter="\t"))
    checked = 0
    for e in exp:
        if e["predict"] != "ok" or not e["root"].endswith(".AdaBoostClassifier"):
            continue
        path = os.path.join(wild, rows[e["id"]]["file"])
        o = common.inert_load(path)
        if getattr(o, "algorithm", "SAMME") not in ("SAMME", "deprecated"):
            summary.fail("wild %s" % e["id"], "  not a SAMME file; this check evaluates SAMME only")
            continue
        X = np.random.RandomState(int(e["id"])).normal(size=(11, int(o.n_features_in_))) * 3
        xpath = os.path.join(tmp, "wild%s.npy" % e["id"])
        np.save(xpath, X)
        want = samme_numpy(np, o, X)
        for meth, w in want.items():
            out = os.path.join(tmp, "wild%s.%s.npy" % (e["id"], meth))
            res = common.run_brine(brine, ["predict", path, xpath, "--method", meth, "-o", out], timeout=timeout)
            checked += 1
            label = "wild %s AdaBoostClassifier/%s" % (e["id"], meth)
            if res.crash_reason() or res.rc != 0:
                summary.fail(label, "  brine failed\n" + res.describe())
                continue
            got = np.load(out, allow_pickle=False)
            got = got[:, 0] if got.ndim == 2 and w.ndim == 1 else got
            d = compare(np, got, w, meth == "predict", False)
            if d:
                summary.fail(label, "  " + d)
            else:
                summary.ok()
    if not checked:
        summary.fail("wild", "no wild AdaBoostClassifier file predicts (tests/wild_expectations.tsv)")
    return checked


def check_text_members(np, brine, tmp, timeout, summary):
    """Voting and Stacking over pipelines whose ColumnTransformer one-hot
    encodes a text column: CSV text cells reach the members that read them."""
    import pickle
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import StackingClassifier, VotingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.tree import DecisionTreeClassifier
    rng = np.random.RandomState(0)
    col = rng.choice(["red", "green", "blue"], 60)
    x, z = rng.normal(size=60), rng.normal(size=60)
    X = np.empty((60, 3), dtype=object)
    X[:, 0], X[:, 1], X[:, 2] = col, x, z
    y = ((col == "red") ^ (x > 0)).astype(int)

    def members():
        ct = [("oh", OneHotEncoder(), [0]), ("sc", StandardScaler(), [1, 2])]
        return [("lr", make_pipeline(ColumnTransformer(ct), LogisticRegression())),
                ("dt", make_pipeline(ColumnTransformer(ct), DecisionTreeClassifier(max_depth=3, random_state=0)))]
    csv = os.path.join(tmp, "text.csv")
    with open(csv, "w") as f:
        f.write("c,x,z\n")
        for r in range(12):
            f.write("%s,%r,%r\n" % (col[r], x[r], z[r]))
    checks = 0
    for name, m in (("vote_text", VotingClassifier(members(), voting="soft").fit(X, y)),
                    ("stack_text", StackingClassifier(members()).fit(X, y))):
        path = os.path.join(tmp, name + ".pkl")
        with open(path, "wb") as f:
            pickle.dump(m, f, protocol=4)
        for meth in ("predict", "predict_proba"):
            out = os.path.join(tmp, "%s.%s.npy" % (name, meth))
            res = common.run_brine(brine, ["predict", path, csv, "--method", meth, "-o", out], timeout=timeout)
            checks += 1
            label = "%s/csv/%s" % (name, meth)
            if res.rc != 0 or res.crash_reason():
                summary.fail(label, "  brine failed\n" + res.describe())
                continue
            d = compare(np, np.load(out, allow_pickle=True).reshape(-1), getattr(m, meth)(X[:12]).reshape(-1),
                        meth == "predict", True)
            if d:
                summary.fail(label, "  " + d)
            else:
                summary.ok()
    return checks


def generic_save_landed():
    try:
        out = subprocess.run(["git", "log", "--oneline"], cwd=common.REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=20).stdout.decode("utf-8", "replace")
    except Exception:
        return True
    return "generic save" in out.lower()


def main():
    import joblib
    import numpy as np
    args = common.parse_args(__doc__.split("\n")[1])
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")  # sklearn's log(0) in predict_log_proba
    models = fit_models()
    checks = 0
    save = generic_save_landed()
    seen = set()
    with common.TempDir(args.keep) as tmp:
        for name, model, X, linear, formats in models:
            X = np.ascontiguousarray(X[::4][:30], dtype=np.float64)
            xpath = os.path.join(tmp, name + ".x.npy")
            np.save(xpath, X)
            ref = reference(np, model, X)
            clf = hasattr(model, "classes_")
            family = name.split("_")[0]
            first = family not in seen
            seen.add(family)
            checks += common.compare_in_every_format(
                brine, tmp, name, model, xpath, ref, formats, args.timeout, summary,
                lambda meth, got, want: compare(np, got, want, meth == "predict" and clf, linear), allow_pickle=True)
            path = os.path.join(tmp, "%s.p4" % name)
            for meth in METHODS + ("apply",):
                if meth in ref or not first:  # one model of each family: methods sklearn lacks
                    continue
                res = common.run_brine(brine, ["predict", path, xpath, "--method", meth], timeout=args.timeout)
                checks += 1
                if res.rc != 2 or res.crash_reason() or common.one_line_error(res):
                    summary.fail("%s/p4/%s" % (name, meth), "  expected a one-line refusal\n" + res.describe())
                else:
                    summary.ok()
            if not save or not first:  # one model of each family: written back and reloaded
                continue
            # what brine writes reloads in sklearn with equal outputs
            for ext in ("pkl", "joblib"):
                out = os.path.join(tmp, "%s.converted.%s" % (name, ext))
                res = common.run_brine(brine, ["convert", path, out], timeout=args.timeout)
                checks += 1
                label = "%s/convert.%s" % (name, ext)
                if res.rc != 0 or res.crash_reason():
                    summary.fail(label, "  brine convert failed\n" + res.describe())
                    continue
                try:
                    back = joblib.load(out)
                    again = reference(np, back, X)
                    bad = [meth for meth, want in ref.items()
                           if meth not in again or compare(np, again[meth], want, False, False)]
                except Exception as e:  # a file Python cannot load is a failure
                    bad = ["load: %s" % e]
                if bad:
                    summary.fail(label, "  reloaded model differs: %s" % ", ".join(bad))
                else:
                    summary.ok()
        # a final estimator brine cannot predict with is refused, naming it
        from sklearn.ensemble import StackingRegressor
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.tree import DecisionTreeRegressor
        Xr = np.random.RandomState(0).normal(size=(40, 3))
        sr = StackingRegressor([("a", DecisionTreeRegressor(max_depth=2))],
                               final_estimator=GaussianProcessRegressor()).fit(Xr, Xr[:, 0])
        p = os.path.join(tmp, "gpr.pkl")
        joblib.dump(sr, p)
        np.save(p + ".x.npy", Xr)
        res = common.run_brine(brine, ["predict", p, p + ".x.npy"], timeout=args.timeout)
        checks += 1
        if res.rc != 2 or "GaussianProcessRegressor" not in res.stderr_text or common.one_line_error(res):
            summary.fail("stack_gpr/refused", "  expected a refusal naming GaussianProcessRegressor\n" + res.describe())
        else:
            summary.ok()
        # flatten_transform=False: sklearn's transform is 3-D; refused with one clear line
        res = common.run_brine(brine, ["predict", os.path.join(tmp, "vote_soft_noflat.p4"),
                                       os.path.join(tmp, "vote_soft_noflat.x.npy"), "--method", "transform"],
                               timeout=args.timeout)
        checks += 1
        if res.rc != 2 or common.one_line_error(res) or "flatten_transform=False" not in res.stderr_text:
            summary.fail("vote_soft_noflat/transform", "  expected a refusal naming flatten_transform\n" + res.describe())
        else:
            summary.ok()
        checks += check_text_members(np, brine, tmp, args.timeout, summary)
        wild = check_wild(np, brine, summary, tmp, args.timeout)
        checks += wild
    print("%s: %d models, %d checks (%d on wild files; saving %s)" %
          (PREFIX, len(models), checks, wild, "checked" if save else "not yet available: generic save not landed"))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
