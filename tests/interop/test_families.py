#!/usr/bin/python3
"""Every estimator class brine reads, in one place: containers, write-back, inspect.

The family tests (test_linear, test_svm, test_neighbors_nb, ...) compare
every method with sklearn on pickles of protocols 2-5 and joblib with zlib
and lz4.  This test covers what they share, for every class in brine's
registry (src/estimators/registry.c, parsed here, so a class added there
without a case here fails the test):

  containers   the model is saved by Debian's sklearn 1.2.1 with joblib's
               other compressors (gzip, bz2, xz, lzma; two per class, in
               rotation, so each compressor meets every family) and brine's
               default method (predict, else transform) must equal sklearn's
               on every one (labels exactly, floats within 1e-9 relative:
               the family tests hold the bit-for-bit claims);
  write-back   `brine convert` writes it back (a pickle protocol or joblib
               compressor, in rotation) and sklearn 1.2.1 loads an object of
               the same class whose default method gives exactly the
               original's output;
  inspect      `brine inspect --json` names the class and its
               n_features_in_ (and classes_ for classifiers);
  read checks  every row of layout.c's table of checked reads (the
               versions the version policy counts as verified for classes
               written back verbatim) names a real file of that version
               that brine predicts with.

Usage: /usr/bin/python3 tests/interop/test_families.py --brine build/brine
Last line: `families: P passed, F failed`."""
import json
import os
import re
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "families"
COMPRESSORS = ("gzip", "bz2", "xz", "lzma")
WRITE_TARGETS = (("p2.pkl", ["--protocol", "2"]), ("p3.pkl", ["--protocol", "3"]), ("p5.pkl", ["--protocol", "5"]),
                 ("gz.joblib", ["--compress", "gzip"]), ("bz2.joblib", ["--compress", "bz2"]),
                 ("xz.joblib", ["--compress", "xz"]), ("lz4.joblib", ["--compress", "lz4"]),
                 ("zlib.joblib", ["--compress", "zlib:1"]))
DOCS = ["the cat sat on the mat", "dogs and cats living together", "a stitch in time saves nine",
        "time flies like an arrow", "fruit flies like a banana", "the quick brown fox jumps",
        "over the lazy dog again", "cats chase mice and dogs chase cats", "an apple a day",
        "keeps the doctor away", "brown dogs sleep all day", "the mat was quick to fly"]


def registry_classes():
    """Short class names of the registry table, as brine sees them."""
    with open(os.path.join(common.REPO, "src", "estimators", "registry.c"), encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("static const be_class classes[] = {"):]
    body = body[:body.index("\n};")]
    return sorted({name for _, name in re.findall(r'^\s*(?:[A-Z]+\(|\{)"([^"]+)", "([^"]+)"', body, re.M)})


def read_checks():
    """(class, version, evidence) rows of layout.c's table of checked reads."""
    with open(os.path.join(common.REPO, "src", "estimators", "layout.c"), encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("static const read_check read_checks[] = {"):]
    body = body[:body.index("\n};")]
    return re.findall(r'\{"([^"]+)", "([^"]+)", "([^"]+)"\}', body)


def check_read_checks(summary):
    """Each row's evidence is a real file of that version that brine predicts
    (tests/wild_expectations.tsv) or a member of one (055)."""
    import csv
    wild = common.default_wild()
    with open(os.path.join(wild, "MANIFEST.tsv"), newline="") as f:
        manifest = {r["id"]: r for r in csv.DictReader(f, delimiter="\t")}
    with open(os.path.join(common.REPO, "tests", "wild_expectations.tsv"), newline="") as f:
        expect = {r["id"]: r for r in csv.DictReader((l for l in f if not l.startswith("#")), delimiter="\t")}
    rows = read_checks()
    for cls, version, evidence in rows:
        m = re.match(r"wild (\d{3})( \(a member)?", evidence)
        row = manifest.get(m.group(1)) if m else None
        ok = bool(row) and row["sklearn_version"] == version and (
            bool(m.group(2)) or (row["top_class"].endswith("." + cls) and expect[m.group(1)]["predict"] == "ok"))
        if ok:
            summary.ok()
        else:
            summary.fail("read check %s %s" % (cls, version), "  evidence %r is no such predicting file" % evidence)
    return len(rows)


def cases():
    """name -> (fitted estimator, X as given to sklearn, kind): kind 'num'
    (an .npy of float64 rows), 'docs' (one document per line) or 'labels'
    (a one-column CSV of labels, LabelEncoder)."""
    import numpy as np
    from sklearn import (cluster, compose, decomposition, ensemble as en, feature_extraction as fe, impute,
                         linear_model as lm, model_selection as ms, multiclass, naive_bayes as nb,
                         neighbors, neural_network as nn, pipeline, preprocessing as pp, svm, tree)
    from sklearn.datasets import load_diabetes, load_iris
    rng = np.random.RandomState(3)
    Xi, yi = load_iris(return_X_y=True)
    Xd, yd = load_diabetes(return_X_y=True)
    Xd, yd = Xd[:120], yd[:120]
    counts = rng.poisson(2.0, size=(90, 6)).astype(float)
    ycount = rng.randint(0, 3, size=90)
    cats = rng.randint(0, 4, size=(90, 3)).astype(float)
    Xnan = Xi.copy()
    Xnan[rng.rand(*Xnan.shape) < 0.1] = np.nan
    ydocs = np.arange(len(DOCS)) % 2
    lr = lambda: lm.LogisticRegression(max_iter=1000)  # noqa: E731
    dt = lambda: tree.DecisionTreeClassifier(max_depth=3, random_state=0)  # noqa: E731
    c = {}

    def clf(name, est, X=Xi, y=yi):
        c[name] = (est.fit(X, y), X, "num")

    def reg(name, est, X=Xd, y=yd):
        c[name] = (est.fit(X, y), X, "num")

    def unsup(name, est, X=Xi, kind="num"):
        c[name] = (est.fit(X), X, kind)

    clf("AdaBoostClassifier", en.AdaBoostClassifier(n_estimators=5, random_state=0))
    reg("AdaBoostRegressor", en.AdaBoostRegressor(n_estimators=5, random_state=0))
    clf("BaggingClassifier", en.BaggingClassifier(n_estimators=3, max_features=0.5, random_state=0))
    reg("BaggingRegressor", en.BaggingRegressor(n_estimators=3, random_state=0))
    clf("BernoulliNB", nb.BernoulliNB(binarize=3.0))
    unsup("Binarizer", pp.Binarizer(threshold=3.0))
    clf("CategoricalNB", nb.CategoricalNB(), cats, ycount)
    unsup("ColumnTransformer", compose.ColumnTransformer([("s", pp.StandardScaler(), [0, 1]),
                                                          ("m", pp.MinMaxScaler(), [3])], remainder="passthrough"))
    clf("ComplementNB", nb.ComplementNB(), counts, ycount)
    unsup("CountVectorizer", fe.text.CountVectorizer(ngram_range=(1, 2)), DOCS, "docs")
    clf("DecisionTreeClassifier", tree.DecisionTreeClassifier(random_state=0))
    reg("DecisionTreeRegressor", tree.DecisionTreeRegressor(max_depth=5, random_state=0))
    reg("ElasticNet", lm.ElasticNet(alpha=0.01))
    clf("ExtraTreeClassifier", tree.ExtraTreeClassifier(random_state=0))
    reg("ExtraTreeRegressor", tree.ExtraTreeRegressor(random_state=0))
    clf("ExtraTreesClassifier", en.ExtraTreesClassifier(n_estimators=4, random_state=0))
    reg("ExtraTreesRegressor", en.ExtraTreesRegressor(n_estimators=4, random_state=0))
    unsup("FeatureUnion", pipeline.FeatureUnion([("p", decomposition.PCA(2)), ("s", pp.StandardScaler())]))
    unsup("FunctionTransformer", pp.FunctionTransformer())
    clf("GaussianNB", nb.GaussianNB())
    clf("GradientBoostingClassifier", en.GradientBoostingClassifier(n_estimators=5, random_state=0))
    reg("GradientBoostingRegressor", en.GradientBoostingRegressor(n_estimators=5, random_state=0))
    clf("GridSearchCV", ms.GridSearchCV(lr(), {"C": [0.1, 1.0]}, cv=2))
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    clf("HalvingGridSearchCV", ms.HalvingGridSearchCV(lr(), {"C": [0.1, 1.0]}, cv=2))
    clf("HalvingRandomSearchCV", ms.HalvingRandomSearchCV(lr(), {"C": [0.1, 1.0, 10.0]}, cv=2, random_state=0))
    clf("HistGradientBoostingClassifier", en.HistGradientBoostingClassifier(max_iter=5))
    reg("HistGradientBoostingRegressor", en.HistGradientBoostingRegressor(max_iter=5))
    unsup("IsolationForest", en.IsolationForest(n_estimators=5, random_state=0))
    unsup("KMeans", cluster.KMeans(3, n_init=1, random_state=0))
    unsup("BisectingKMeans", cluster.BisectingKMeans(3, random_state=0))
    unsup("Birch", cluster.Birch(n_clusters=3))
    unsup("MeanShift", cluster.MeanShift(bandwidth=1.5))
    unsup("AffinityPropagation", cluster.AffinityPropagation(random_state=0))
    unsup("IncrementalPCA", decomposition.IncrementalPCA(2))
    unsup("FastICA", decomposition.FastICA(2, random_state=0, max_iter=500))
    unsup("FactorAnalysis", decomposition.FactorAnalysis(2, random_state=0))
    clf("KNeighborsClassifier", neighbors.KNeighborsClassifier(5))
    reg("KNeighborsRegressor", neighbors.KNeighborsRegressor(4, weights="distance"))
    labels = np.array(["setosa", "versicolor", "virginica"])[yi]
    c["LabelEncoder"] = (pp.LabelEncoder().fit(labels), labels[::7], "labels")
    reg("Lasso", lm.Lasso(alpha=0.01))
    reg("LinearRegression", lm.LinearRegression())
    clf("LinearSVC", svm.LinearSVC(max_iter=5000, random_state=0))
    reg("LinearSVR", svm.LinearSVR(max_iter=5000, random_state=0))
    clf("LogisticRegression", lr())
    clf("MLPClassifier", nn.MLPClassifier((5,), max_iter=50, random_state=0))
    reg("MLPRegressor", nn.MLPRegressor((5,), max_iter=50, random_state=0))
    unsup("MaxAbsScaler", pp.MaxAbsScaler())
    unsup("MinMaxScaler", pp.MinMaxScaler())
    unsup("MiniBatchKMeans", cluster.MiniBatchKMeans(3, n_init=1, batch_size=50, random_state=0))
    clf("MultinomialNB", nb.MultinomialNB(), counts, ycount)
    clf("NearestCentroid", neighbors.NearestCentroid())
    unsup("Normalizer", pp.Normalizer(norm="l1"))
    clf("NuSVC", svm.NuSVC(nu=0.3))
    reg("NuSVR", svm.NuSVR())
    unsup("OneClassSVM", svm.OneClassSVM(nu=0.2))
    unsup("OneHotEncoder", pp.OneHotEncoder(handle_unknown="ignore"), cats)
    clf("OneVsOneClassifier", multiclass.OneVsOneClassifier(lr()))
    clf("OneVsRestClassifier", multiclass.OneVsRestClassifier(lr()))
    unsup("OrdinalEncoder", pp.OrdinalEncoder(), cats)
    unsup("PCA", decomposition.PCA(2, whiten=True))
    clf("Perceptron", lm.Perceptron(random_state=0))
    clf("Pipeline", pipeline.make_pipeline(pp.StandardScaler(), lr()))
    unsup("PolynomialFeatures", pp.PolynomialFeatures(2))
    clf("RandomForestClassifier", en.RandomForestClassifier(n_estimators=4, random_state=0))
    reg("RandomForestRegressor", en.RandomForestRegressor(n_estimators=4, random_state=0))
    clf("RandomizedSearchCV", ms.RandomizedSearchCV(lr(), {"C": [0.1, 1.0, 10.0]}, n_iter=2, cv=2, random_state=0))
    reg("Ridge", lm.Ridge(alpha=0.5))
    reg("RidgeCV", lm.RidgeCV())
    clf("RidgeClassifierCV", lm.RidgeClassifierCV())
    reg("LassoCV", lm.LassoCV(cv=3))
    reg("ElasticNetCV", lm.ElasticNetCV(cv=3))
    clf("LogisticRegressionCV", lm.LogisticRegressionCV(cv=3, max_iter=1000))
    reg("BayesianRidge", lm.BayesianRidge())
    reg("ARDRegression", lm.ARDRegression())
    reg("HuberRegressor", lm.HuberRegressor(max_iter=1000))
    reg("Lars", lm.Lars(n_nonzero_coefs=4))
    reg("LassoLars", lm.LassoLars(alpha=0.01))
    reg("OrthogonalMatchingPursuit", lm.OrthogonalMatchingPursuit(n_nonzero_coefs=3))
    clf("PassiveAggressiveClassifier", lm.PassiveAggressiveClassifier(random_state=0))
    reg("PassiveAggressiveRegressor", lm.PassiveAggressiveRegressor(random_state=0))
    clf("RidgeClassifier", lm.RidgeClassifier())
    unsup("RobustScaler", pp.RobustScaler())
    clf("SGDClassifier", lm.SGDClassifier(random_state=0))
    reg("SGDRegressor", lm.SGDRegressor(random_state=0))
    clf("SVC", svm.SVC(probability=True, random_state=0))
    reg("SVR", svm.SVR(C=10.0))
    from sklearn.feature_selection import SelectKBest
    clf("SelectKBest", SelectKBest(k=2))
    from sklearn.feature_selection import SelectPercentile
    clf("SelectPercentile", SelectPercentile(percentile=50))
    unsup("SimpleImputer", impute.SimpleImputer(strategy="median"), Xnan)
    clf("StackingClassifier", en.StackingClassifier([("lr", lr()), ("dt", dt())], cv=2))
    reg("StackingRegressor", en.StackingRegressor([("r", lm.Ridge()), ("t", tree.DecisionTreeRegressor(max_depth=3))],
                                                  cv=2))
    unsup("StandardScaler", pp.StandardScaler())
    unsup("TfidfTransformer", fe.text.TfidfTransformer(), counts)
    unsup("TfidfVectorizer", fe.text.TfidfVectorizer(), DOCS, "docs")
    reg("TransformedTargetRegressor", compose.TransformedTargetRegressor(lm.Ridge(), func=np.log, inverse_func=np.exp),
        Xd, yd)
    unsup("TruncatedSVD", decomposition.TruncatedSVD(2, random_state=0))
    from sklearn.feature_selection import VarianceThreshold
    unsup("VarianceThreshold", VarianceThreshold(threshold=0.2))
    clf("VotingClassifier", en.VotingClassifier([("lr", lr()), ("dt", dt())], voting="soft"))
    reg("VotingRegressor", en.VotingRegressor([("r", lm.Ridge()), ("t", tree.DecisionTreeRegressor(max_depth=3))]))
    c["CountVectorizer"][0].fit(DOCS, ydocs)
    return c


def default_method(model):
    return "predict" if hasattr(model, "predict") else "transform"


def sk_output(np, model, X):
    out = getattr(model, default_method(model))(X)
    return out.toarray() if hasattr(out, "toarray") else np.asarray(out)


def write_input(np, tmp, name, X, kind):
    if kind == "num":
        path = os.path.join(tmp, name + ".x.npy")
        np.save(path, np.asarray(X, dtype=np.float64))
        return path, []
    path = os.path.join(tmp, name + ".x.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(str(v) + "\n" for v in X))
    return path, ["--lines"] if kind == "docs" else ["--no-header"]


def agrees(np, got, want):
    if got.ndim == 2 and want.ndim == 1 and got.shape[1] == 1:
        got = got[:, 0]
    if got.shape != want.shape:
        return "shape %s, sklearn %s" % (got.shape, want.shape)
    if want.dtype.kind in "fc" or got.dtype.kind in "fc":
        g, w = got.astype(float), want.astype(float)
        ok = np.allclose(g, w, rtol=1e-9, atol=1e-12, equal_nan=True)
        return None if ok else "max |diff| %.3g" % np.nanmax(np.abs(g - w))
    return None if np.array_equal(got.astype(want.dtype), want) else "labels differ"


def check_one(np, brine, tmp, k, name, model, X, kind, summary, timeout):
    import joblib
    import pickle
    xpath, flags = write_input(np, tmp, name, X, kind)
    want = sk_output(np, model, X)
    meth = default_method(model)
    # containers: two of joblib's other compressors, in rotation
    for comp in (COMPRESSORS[k % 4], COMPRESSORS[(k + 1) % 4]):
        path = os.path.join(tmp, "%s.%s.joblib" % (name, comp))
        joblib.dump(model, path, compress=(comp, 3))
        out = os.path.join(tmp, "%s.%s.npy" % (name, comp))
        res = common.run_brine(brine, ["predict", path, xpath, "--method", meth, "-o", out] + flags, timeout=timeout)
        label = "%s/%s/%s" % (name, comp, meth)
        if res.crash_reason() or res.rc != 0:
            summary.fail(label, "  brine %s\n%s" % (res.crash_reason() or "failed", res.describe()))
            continue
        d = agrees(np, np.load(out, allow_pickle=False), want)
        if d:
            summary.fail(label, "  " + d)
        else:
            summary.ok()
    # write-back through brine convert, loaded by sklearn 1.2.1
    src = os.path.join(tmp, name + ".p4.pkl")
    with open(src, "wb") as f:
        pickle.dump(model, f, protocol=4)
    suffix, wflags = WRITE_TARGETS[k % len(WRITE_TARGETS)]
    common.written_back(brine, tmp, name, src, model, X, [meth], summary, timeout=timeout,
                        targets=((suffix, wflags),))
    # inspect --json
    res = common.run_brine(brine, ["inspect", "--json", src], timeout=timeout)
    label = "%s/inspect" % name
    try:
        info = json.loads(res.stdout_text) if res.rc == 0 else None
    except ValueError:
        info = None
    want_nf = getattr(model, "n_features_in_", None)
    problems = []
    if not info:
        problems.append("no JSON (exit %d)" % res.rc)
    else:
        if not str(info.get("estimator", "")).endswith("." + name):
            problems.append("estimator %r" % info.get("estimator"))
        if want_nf is not None and info.get("n_features_in") != want_nf:
            problems.append("n_features_in %r, sklearn %r" % (info.get("n_features_in"), want_nf))
        if hasattr(model, "classes_") and name != "LabelEncoder" and info.get("classes") is not None:
            if [str(v) for v in info["classes"]] != [str(v) for v in np.asarray(model.classes_).tolist()]:
                problems.append("classes %r" % info.get("classes"))
    if problems:
        summary.fail(label, "  " + "; ".join(problems) + "\n" + res.describe())
    else:
        summary.ok()


def main():
    import numpy as np
    args = common.parse_args(__doc__.split("\n")[1])
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    warnings.simplefilter("ignore")
    registry = registry_classes()
    models = cases()
    missing = [n for n in registry if n not in models]
    extra = [n for n in models if n not in registry]
    if missing or extra:
        summary.fail("every registry class has a case here",
                     "  without a case: %s\n  cases of no registry class: %s" % (missing, extra))
    else:
        summary.ok()
    n_checks = check_read_checks(summary)
    with common.TempDir(args.keep) as tmp:
        items = [(k, n) + models[n] for k, n in enumerate(sorted(models)) if n in registry]
        common.run_parallel(lambda it: check_one(np, brine, tmp, *it, summary, args.timeout), items, args.jobs)
    print("families: %d registry classes; each through 2 of joblib's %s, one write-back loaded by sklearn 1.2.1, "
          "inspect --json; %d checked-read rows of layout.c backed by their wild files" % (
              len(registry), "/".join(COMPRESSORS), n_checks))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
