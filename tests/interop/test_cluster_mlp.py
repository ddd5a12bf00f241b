#!/usr/bin/python3
"""Clustering, decomposition, neural networks: brine predict equals Debian's sklearn.

Fits KMeans (lloyd, elkan, k-means++ and random init, 1 to 8 clusters; one
on float32 rows, predicting float32 rows as sklearn does, in float32),
MiniBatchKMeans, BisectingKMeans (biggest_inertia, largest_cluster; elkan
fits pickle a function brine refuses, and predict with --trust), MeanShift, AffinityPropagation (one without centres, as
when it does not converge), Birch (agglomerative, none and KMeans global
clustering), PCA (full, arpack, randomized solvers; whiten; n_components
an int, a fraction, 'mle'), IncrementalPCA, FastICA (unit-variance,
arbitrary-variance, no whitening), FactorAnalysis (no rotation,
varimax), TruncatedSVD (randomized, arpack), MLPClassifier
(binary, multiclass, multilabel; int and string labels; every activation;
lbfgs, adam and sgd solvers; one to three hidden layers) and MLPRegressor
(single and multi-output, every activation), and pipelines with a PCA step
and a KMeans or MLP last step, on small data sets, saves each
as pickle (protocols 2-5) and joblib (zlib and lz4 for the first KMeans,
PCA, MLPClassifier, MLPRegressor and pipeline, gzip, bz2, xz and lzma too
for the first KMeans; two of these formats in turn for the first model of
each other class, one for each other model),
and compares `brine predict --method M -o out.npy` with sklearn for every
method the estimator has (predict, transform, predict_proba,
predict_log_proba, PCA's score_samples): labels exactly, floats within 1e-9 relative
(CONVENTIONS: BLAS-based arithmetic).  Rows whose label sits within 1e-9 of
a tie (two nearly equidistant centres, a probability at the threshold) are
left out of the test rows, as brine's sums need not round as BLAS does
there.  Methods sklearn lacks must be refused, and the default method is
predict, or transform for the decompositions (checked on the first model
of each class).  Files `brine convert` writes (pickle protocols 2 and 5,
joblib zlib and lz4 for the first model of each class, one of them for
every third other model) load in sklearn 1.2.1 and give exactly the
original's outputs for every method.  The wild MLPClassifier and
KMeans files that predict (tests/wild_expectations.tsv) are compared with
numpy on their own arrays, read with every sklearn class inert (no sklearn
code runs), and AgglomerativeClustering is refused saying sklearn has no
predict for it.

Usage: /usr/bin/python3 tests/interop/test_cluster_mlp.py --brine build/brine
Last line: `cluster-mlp: P passed, F failed`."""
import concurrent.futures
import os
import sys
import warnings

# one BLAS thread: the fits are tiny and the machine's cores are shared
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "cluster-mlp"
METHODS = ("predict", "transform", "predict_proba", "predict_log_proba", "decision_function", "score_samples")
ALL_SOURCES = [("p2", "pickle", 2), ("p3", "pickle", 3), ("p4", "pickle", 4), ("p5", "pickle", 5),
               ("zlib", "joblib", 3), ("gzip", "joblib", ("gzip", 3)), ("bz2", "joblib", ("bz2", 3)),
               ("xz", "joblib", ("xz", 3)), ("lzma", "joblib", ("lzma", 3)), ("lz4", "joblib", ("lz4", 3))]
TOL = 1e-9
# the models saved in every pickle protocol and joblib's zlib and lz4 (the
# first of each family; the first KMeans in every compressor)
LEADERS = ("km_lloyd", "pca_full", "mlp_bin_relu", "mlpr_relu", "pipe_pca_mlp")
CENTRES = ("KMeans", "MiniBatchKMeans", "BisectingKMeans", "MeanShift", "AffinityPropagation", "Birch")  # nearest-centre labels


def fit_models():
    import numpy as np
    from sklearn import datasets
    from sklearn.cluster import AffinityPropagation, Birch, BisectingKMeans, KMeans, MeanShift, MiniBatchKMeans
    from sklearn.decomposition import PCA, FactorAnalysis, FastICA, IncrementalPCA, TruncatedSVD
    from sklearn.neural_network import MLPClassifier as MLPC, MLPRegressor as MLPR
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    rng = np.random.RandomState(0)
    iris = datasets.load_iris(return_X_y=True)
    wine = datasets.load_wine(return_X_y=True)
    bc = datasets.load_breast_cancer(return_X_y=True)
    diab = datasets.load_diabetes(return_X_y=True)
    blobs = datasets.make_blobs(n_samples=90, centers=4, n_features=3, random_state=0)
    Xs = rng.normal(size=(100, 6)) * [1, 10, 0.1, 5, 1, 3] + [0, 5, -2, 10, 1, 0]
    ys = Xs @ rng.normal(size=6) + rng.normal(size=100)
    Ys = np.c_[ys, -2 * ys + Xs[:, 0], np.sin(Xs[:, 1])]
    Xs_s = StandardScaler().fit_transform(Xs)
    yc = np.array(["neg", "pos"])[(ys > np.median(ys)).astype(int)]
    Yml = np.c_[Xs[:, 0] > 0, Xs[:, 1] > 5, (Xs[:, 3] + Xs[:, 4]) > 11].astype(int)
    wine_s = (StandardScaler().fit_transform(wine[0]), wine[1])
    bc_s = (StandardScaler().fit_transform(bc[0][:200]), bc[1][:200])
    diab_y = (diab[0], diab[1] / 100.0)
    m = []

    def add(name, est, X, y=None, jitter=0.0):
        est = est.fit(X, y) if y is not None else est.fit(X)
        T = X[:40] + (rng.normal(size=X[:40].shape) * jitter if jitter else 0)
        m.append((name, est, np.ascontiguousarray(T, dtype=np.float32 if X.dtype == np.float32 else np.float64)))

    add("km_lloyd", KMeans(4, n_init=3, random_state=0), blobs[0])
    add("km_elkan", KMeans(3, algorithm="elkan", n_init=2, random_state=1), iris[0])
    add("km_one", KMeans(1, n_init=1, random_state=0), wine_s[0])
    add("km_random8", KMeans(8, init="random", n_init=2, random_state=2), Xs)
    # fitted on float32: float32 centres, and sklearn predicts float32 rows in float32
    add("km_float32", KMeans(3, n_init=2, random_state=0), blobs[0].astype(np.float32))
    add("mbkm", MiniBatchKMeans(5, batch_size=32, n_init=3, random_state=0), blobs[0])
    add("mbkm_iris", MiniBatchKMeans(3, n_init=3, reassignment_ratio=0.05, random_state=0), iris[0])
    add("bisect", BisectingKMeans(4, random_state=0), blobs[0])
    add("bisect_largest", BisectingKMeans(6, bisecting_strategy="largest_cluster", n_init=2, random_state=1), Xs)
    add("meanshift", MeanShift(bandwidth=2.0), blobs[0])
    add("meanshift_iris", MeanShift(), iris[0])
    add("affprop", AffinityPropagation(random_state=0), blobs[0])
    add("affprop_euclid", AffinityPropagation(damping=0.7, random_state=0), Xs[:60])
    # no convergence: no centres, every row labelled -1
    add("affprop_none", AffinityPropagation(random_state=0), blobs[0])
    m[-1][1].cluster_centers_ = np.empty((0, 3))
    # Birch's subcluster centres include training rows themselves, whose
    # distance 0 comes out of ||x||^2 - 2 x.c + ||c||^2 as rounding noise
    # (its square root ~1e-7 either way): test rows are moved off them
    add("birch", Birch(n_clusters=4), blobs[0], jitter=0.05)
    add("birch_none", Birch(n_clusters=None, threshold=0.8), iris[0], jitter=0.05)
    add("birch_kmeans", Birch(n_clusters=KMeans(3, n_init=2, random_state=0), threshold=1.0), Xs_s, jitter=0.05)
    add("pca_full", PCA(3, svd_solver="full"), wine[0])
    add("pca_whiten", PCA(2, whiten=True), iris[0])
    add("pca_arpack", PCA(4, svd_solver="arpack", random_state=0), Xs)
    add("pca_rand_whiten", PCA(3, svd_solver="randomized", whiten=True, random_state=0), wine_s[0])
    add("pca_mle", PCA("mle", svd_solver="full"), Xs)
    add("pca_frac", PCA(0.9), diab[0])
    add("ipca", IncrementalPCA(3, batch_size=40), wine[0])
    add("ipca_whiten", IncrementalPCA(2, whiten=True, batch_size=25), Xs)
    add("ica_unit", FastICA(3, whiten="unit-variance", random_state=0, max_iter=400), Xs)
    add("ica_arbitrary", FastICA(2, whiten="arbitrary-variance", random_state=1, max_iter=400), iris[0])
    add("ica_nowhiten", FastICA(whiten=False, random_state=0, max_iter=400), Xs_s[:, :4])
    add("fa", FactorAnalysis(3, random_state=0), Xs)
    add("fa_varimax", FactorAnalysis(2, rotation="varimax", random_state=0), wine_s[0])
    add("tsvd", TruncatedSVD(2, random_state=0), wine[0])
    add("tsvd_arpack", TruncatedSVD(3, algorithm="arpack"), Xs)
    add("mlp_bin_relu", MLPC((6,), solver="lbfgs", max_iter=300, random_state=0), *bc_s)
    add("mlp_bin_str_logistic", MLPC((5, 3), activation="logistic", solver="lbfgs", max_iter=300, random_state=0),
        Xs_s, yc)
    add("mlp_iris_tanh", MLPC((8,), activation="tanh", solver="lbfgs", max_iter=300, random_state=0), *iris)
    add("mlp_wine_identity", MLPC((4,), activation="identity", solver="lbfgs", max_iter=300, random_state=0), *wine_s)
    add("mlp_multilabel", MLPC((6,), solver="lbfgs", max_iter=300, random_state=0), Xs_s, Yml)
    add("mlp_multilabel_tanh", MLPC((4, 4), activation="tanh", solver="lbfgs", max_iter=200, random_state=1), Xs_s, Yml)
    add("mlp_adam", MLPC((7,), solver="adam", max_iter=60, random_state=0), *wine_s)
    add("mlp_sgd_logistic", MLPC((5,), activation="logistic", solver="sgd", learning_rate_init=0.05, max_iter=60,
                                 random_state=0), *iris)
    add("mlpr_relu", MLPR((10,), solver="lbfgs", max_iter=300, random_state=0), *diab_y)
    add("mlpr_multi_tanh", MLPR((8,), activation="tanh", solver="lbfgs", max_iter=300, random_state=0), Xs_s, Ys)
    add("mlpr_identity", MLPR((3,), activation="identity", solver="lbfgs", max_iter=200, random_state=0), Xs_s, ys)
    add("mlpr_deep_logistic", MLPR((5, 4, 3), activation="logistic", solver="lbfgs", max_iter=300, random_state=0),
        Xs_s, Ys[:, :2])
    add("mlpr_adam", MLPR((6,), solver="adam", max_iter=50, random_state=0), Xs_s, ys)
    # inside pipelines: PCA as a transforming step, KMeans and MLP as the last one
    add("pipe_pca_mlp", make_pipeline(StandardScaler(), PCA(4), MLPC((5,), solver="lbfgs", max_iter=200,
                                                                  random_state=0)), *wine)
    add("pipe_std_kmeans", make_pipeline(StandardScaler(), KMeans(3, n_init=2, random_state=0)), wine[0])
    return m


def safe_rows(np, model, X):
    """The rows whose label is not within 1e-9 of a tie."""
    name = type(model).__name__
    if name == "Pipeline":  # the rows as the last step sees them
        return safe_rows(np, model.steps[-1][1], model[:-1].transform(X))
    if name == "BisectingKMeans":  # every node's choice between its two children
        ok = np.ones(len(X), dtype=bool)
        stack = [model._bisecting_tree]
        while stack:
            node = stack.pop()
            if node.left is None:
                continue
            c = np.vstack((node.left.center, node.right.center)) + getattr(model, "_X_mean", 0)
            d = (c ** 2).sum(axis=1) - 2 * X @ c.T
            scale = np.maximum(1.0, np.abs(d).max(axis=1) + (X ** 2).sum(axis=1))
            ok &= np.abs(d[:, 0] - d[:, 1]) > 1e-9 * scale
            stack += [node.left, node.right]
        return ok
    if name in CENTRES:
        c = model.subcluster_centers_ if name == "Birch" else model.cluster_centers_
        d = (c ** 2).sum(axis=1) - 2 * X @ c.T
        if d.shape[1] < 2:
            return np.ones(len(X), dtype=bool)
        s = np.sort(d, axis=1)
        scale = np.maximum(1.0, np.abs(s[:, 0]) + (X ** 2).sum(axis=1))
        return (s[:, 1] - s[:, 0]) > (1e-5 if X.dtype == np.float32 else 1e-9) * scale
    if name == "MLPClassifier":
        p = model.predict_proba(X)
        if model._label_binarizer.y_type_ == "multiclass":
            s = np.sort(p, axis=1)
            return (s[:, -1] - s[:, -2]) > 1e-9
        return (np.abs(p - 0.5) > 1e-9).reshape(len(X), -1).all(axis=1)
    return np.ones(len(X), dtype=bool)


def compare(np, got, want, exact, tol=TOL):
    if got.shape != want.shape:
        return "shape %s, sklearn %s" % (got.shape, want.shape)
    if exact:
        return None if np.array_equal(got, want) else "labels differ at %s" % (np.argwhere(got != want)[:5].tolist(),)
    fin = np.isfinite(want)
    scale = max(1.0, np.max(np.abs(want[fin]), initial=0))
    if np.array_equal(np.isneginf(got), np.isneginf(want)) and np.allclose(got, want, rtol=tol, atol=tol * scale):
        return None
    return "max abs diff %g (scale %g)" % (np.max(np.abs(np.where(fin, got - want, 0))), scale)


# ------------------------------------------------------- the wild corpus
def numpy_outputs(np, o, X):
    """{method: expected} from the estimator's own arrays (sklearn 1.2.1's formulas)."""
    name = type(o).__name__
    if name in ("KMeans", "MiniBatchKMeans"):
        c = np.asarray(o.cluster_centers_, dtype=np.float64)
        cc = (c ** 2).sum(axis=1)
        labels = np.argmin(cc - 2 * X @ c.T, axis=1)
        d = -2 * X @ c.T + (X ** 2).sum(axis=1)[:, None] + cc
        return {"predict": labels.astype(np.int32), "transform": np.sqrt(np.maximum(d, 0))}
    act = {"identity": lambda v: v, "logistic": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh,
           "relu": lambda v: np.maximum(v, 0)}

    def softmax(v):
        e = np.exp(v - v.max(axis=1)[:, None])
        return e / e.sum(axis=1)[:, None]
    a = X
    for i, (w, b) in enumerate(zip(o.coefs_, o.intercepts_)):
        a = a @ w + b
        a = act[o.activation](a) if i < len(o.coefs_) - 1 else \
            (softmax(a) if o.out_activation_ == "softmax" else act[o.out_activation_](a))
    if name == "MLPRegressor":
        return {"predict": a[:, 0] if a.shape[1] == 1 else a}
    lb = o._label_binarizer
    classes = np.asarray(lb.classes_)
    if lb.y_type_ == "multiclass":
        return {"predict": classes[a.argmax(axis=1)], "predict_proba": a, "predict_log_proba": np.log(a)}
    thr = (lb.pos_label + lb.neg_label) / 2.0
    if lb.y_type_ == "binary":
        p = np.c_[1 - a[:, 0], a[:, 0]]
        return {"predict": classes[(a[:, 0] > thr).astype(int)], "predict_proba": p, "predict_log_proba": np.log(p)}
    return {"predict": (a > thr).astype(int), "predict_proba": a, "predict_log_proba": np.log(a)}


def inert_load(path):
    """common.inert_load, with Python 2's byte strings (numpy scalars of the
    0.18 files, pickled by Python 2) read as latin-1, as numpy documents."""
    import pickle
    orig = pickle._Unpickler.__init__

    def init(self, file, *, fix_imports=True, encoding="ASCII", errors="strict", buffers=None):
        orig(self, file, fix_imports=fix_imports, encoding="latin1", errors=errors, buffers=buffers)
    pickle._Unpickler.__init__ = init
    try:
        return common.inert_load(path)
    finally:
        pickle._Unpickler.__init__ = orig


def width_of(np, o):
    if hasattr(o, "cluster_centers_"):
        return np.asarray(o.cluster_centers_).shape[1]
    return np.asarray(o.coefs_[0]).shape[0]


def check_wild(np, brine, summary, tmp, timeout):
    import csv
    wild = common.default_wild()
    rows = {r["id"]: r for r in csv.DictReader(open(os.path.join(wild, "MANIFEST.tsv")), delimiter="\t")}
    with open(os.path.join(common.REPO, "tests", "wild_expectations.tsv")) as f:
        exp = list(csv.DictReader([x for x in f if not x.startswith("#")], delimiter="\t"))
    checked = 0
    for e in exp:
        short = e["root"].rsplit(".", 1)[-1]
        path = os.path.join(wild, rows[e["id"]]["file"])
        if short in ("AgglomerativeClustering", "DBSCAN", "OPTICS", "SpectralClustering"):
            xpath = os.path.join(tmp, "wild%s.npy" % e["id"])
            np.save(xpath, np.zeros((3, 2)))
            res = common.run_brine(brine, ["predict", path, xpath], timeout=timeout)
            checked += 1
            if res.crash_reason() or res.rc != 2 or "has no predict" not in res.stderr_text or \
                    e["root"] not in res.stderr_text or common.one_line_error(res):
                summary.fail("wild %s %s refused" % (e["id"], short), "  expected exit 2 naming the class and "
                             "that sklearn has no predict\n" + res.describe())
            else:
                summary.ok()
            continue
        if e["predict"] != "ok" or short not in ("KMeans", "MiniBatchKMeans", "MLPClassifier", "MLPRegressor"):
            continue
        o = inert_load(path)
        X = np.random.RandomState(int(e["id"])).normal(size=(11, width_of(np, o))) * 2
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
            d = compare(np, got, want, meth == "predict" and want.dtype.kind not in "f")
            if d:
                summary.fail(label, "  " + d)
            else:
                summary.ok()
    return checked


def check_pca_layouts(np, brine, summary, tmp, timeout):
    """sklearn >= 1.5 computes PCA.transform as X @ components_.T -
    mean_ @ components_.T and clips sqrt(explained_variance_) below at
    float64's epsilon when whitening: 1.2.1 fits whose _sklearn_version is
    rewritten to 1.5.0 and 1.7.2 must give that formula (numpy here), those
    of 1.2.1 and 1.4.2 the old one.  The data has rank 2 in 3 dimensions, so
    the third component is noise only, and the two formulas
    differ (its variance set to 1e-34, below epsilon squared)."""
    import pickle
    from sklearn.decomposition import PCA
    rng = np.random.RandomState(5)
    B = rng.normal(size=(60, 2))
    X = np.c_[B, B @ [0.5, -2.0]] + [1.0, -3.0, 2.0]
    checked = 0
    for whiten in (False, True):
        model = PCA(3, whiten=whiten, svd_solver="full").fit(X)
        model.explained_variance_[2] = 1e-34  # sqrt 1e-17 < epsilon: clipped by sklearn >= 1.5
        T = X[:15] + rng.normal(size=(15, 3)) * 0.1
        xpath = os.path.join(tmp, "pcav.x.npy")
        np.save(xpath, T)
        raw = pickle.dumps(model, protocol=4)
        assert raw.count(b"\x8c\x051.2.1") == 1
        C = model.components_
        old = (T - model.mean_) @ C.T
        new = T @ C.T - model.mean_.reshape(1, -1) @ C.T
        scale = np.sqrt(model.explained_variance_)
        if whiten:
            old = old / scale
            new = new / np.maximum(scale, np.finfo(np.float64).eps)
        for version, want in (("1.2.1", model.transform(T)), ("1.4.2", old), ("1.5.0", new), ("1.7.2", new)):
            path = os.path.join(tmp, "pcav-%s-%d.pkl" % (version, whiten))
            with open(path, "wb") as f:
                f.write(raw.replace(b"\x8c\x051.2.1", b"\x8c\x05" + version.encode()))
            out = path + ".npy"
            res = common.run_brine(brine, ["predict", path, xpath, "-o", out], timeout=timeout)
            label = "pca layout %s whiten=%s" % (version, whiten)
            checked += 1
            if res.crash_reason() or res.rc != 0:
                summary.fail(label, "  brine failed\n" + res.describe())
                continue
            # the clipped column is huge (x / eps): relative to each column's scale
            got = np.load(out)
            d = None
            for j in range(3):
                d = d or compare(np, got[:, j], want[:, j], False)
            if d:
                summary.fail(label, "  " + d)
            else:
                summary.ok()
    return checked


def check_model(np, brine, args, summary, tmp, i, name, model, X, first):
    """Every method of one fitted model in its formats, written back,
    refusals and the default method (those two for the first of a class);
    the number of checks."""
    checks = 0
    X = X[safe_rows(np, model, X)]
    xpath = os.path.join(tmp, name + ".x.npy")
    np.save(xpath, X)
    ref = {meth: np.asarray(getattr(model, meth)(X)) for meth in METHODS if hasattr(model, meth)}
    if type(model).__name__ == "FactorAnalysis":
        ref.pop("score_samples")  # not implemented: checked to be refused below
    kind = type(model).__name__
    last = type(model.steps[-1][1]).__name__ if kind == "Pipeline" else kind
    if name in LEADERS:  # protocols 2-5, zlib and lz4; the first KMeans every compressor too
        sources = ALL_SOURCES if i == 0 else ALL_SOURCES[:5] + ALL_SOURCES[-1:]
    elif first:  # two formats, in turn
        sources = [ALL_SOURCES[i % 4], ALL_SOURCES[4 + i % 6]]
    else:  # one format, in turn
        sources = [ALL_SOURCES[i % len(ALL_SOURCES)]]
    for label, meth, got, want in common.predict_in_every_format(
            brine, tmp, name, model, xpath, ref, sources, args.timeout, summary):
        checks += 1
        exact = meth == "predict" and (last in CENTRES + ("MLPClassifier",))
        if exact and last in CENTRES and got.dtype != want.dtype:
            summary.fail(label, "  labels dtype %s, sklearn %s" % (got.dtype, want.dtype))
            continue
        # float32 rows: sklearn's float32 arithmetic (brine's sums may round
        # one float32 ulp apart from sgemm's)
        d = compare(np, got, want, exact, 1e-6 if X.dtype == np.float32 else TOL)
        if d:
            summary.fail(label, "  " + d)
        else:
            summary.ok()
    # files brine writes (convert, verbatim at the file's version)
    # reload in sklearn 1.2.1 and give exactly the original's outputs:
    # every target for the first model of a class, one in turn for every
    # third other model (the ASan run of check.sh has 30 s for this file)
    path = os.path.join(tmp, "%s.%s" % (name, sources[0][0]))
    targets = common.WRITE_BACK_TARGETS if first else \
        [common.WRITE_BACK_TARGETS[i % len(common.WRITE_BACK_TARGETS)]] if i % 3 == 0 else []
    checks += common.written_back(brine, tmp, name, path, model, X, sorted(ref), summary,
                                  timeout=args.timeout, targets=targets)
    if not first:
        return checks
    # methods sklearn lacks are refused
    for meth in METHODS:
        if meth in ref:
            continue
        res = common.run_brine(brine, ["predict", path, xpath, "--method", meth], timeout=args.timeout)
        checks += 1
        if res.rc != 2 or res.crash_reason():
            summary.fail("%s/%s" % (name, meth), "  accepted a method it lacks\n" + res.describe())
        else:
            summary.ok()
    # the default method: predict, or transform for PCA / TruncatedSVD (CONVENTIONS)
    default = "predict" if "predict" in ref else "transform"
    res = common.run_brine(brine, ["predict", path, xpath], timeout=args.timeout)
    checks += 1
    lines = res.stdout_text.splitlines()
    ncol = 1 if ref[default].ndim == 1 else ref[default].shape[1]
    if res.rc != 0 or len(lines) != len(X) or any(len(line.split(",")) != ncol for line in lines):
        summary.fail("%s/default-method" % name, "  expected %d rows of %s\n%s" % (len(X), default, res.describe()))
    else:
        summary.ok()
    return checks


def check_bisect_elkan(np, brine, summary, tmp, timeout):
    """BisectingKMeans(algorithm='elkan') pickles the function
    sklearn.cluster._kmeans._kmeans_single_elkan, which is not on brine's
    allowlist: refused naming it, and with --trust (an inert object; predict
    does not use it) it predicts as sklearn."""
    import pickle
    from sklearn import datasets
    from sklearn.cluster import BisectingKMeans
    X = datasets.load_iris(return_X_y=True)[0]
    model = BisectingKMeans(3, algorithm="elkan", random_state=0).fit(X)
    X = np.ascontiguousarray(X[::5])
    X = X[safe_rows(np, model, X)]
    path, xpath, out = (os.path.join(tmp, "bisect_elkan" + e) for e in (".pkl", ".x.npy", ".out.npy"))
    with open(path, "wb") as f:
        pickle.dump(model, f, protocol=4)
    np.save(xpath, X)
    glob = "sklearn.cluster._kmeans._kmeans_single_elkan"
    res = common.run_brine(brine, ["predict", path, xpath], timeout=timeout)
    if res.rc != 2 or res.crash_reason() or glob not in res.stderr_text:
        summary.fail("bisect_elkan/refused", "  expected exit 2 naming %s\n%s" % (glob, res.describe()))
    else:
        summary.ok()
    res = common.run_brine(brine, ["predict", path, xpath, "--trust", "sklearn.cluster._kmeans:_kmeans_single_elkan",
                                   "-o", out], timeout=timeout)
    d = "brine failed\n" + res.describe() if res.rc or res.crash_reason() else \
        compare(np, np.load(out), model.predict(X), True)
    if d:
        summary.fail("bisect_elkan/trusted", "  " + d)
    else:
        summary.ok()
    return 2


def main():
    import numpy as np
    args = common.parse_args(__doc__.split("\n")[1])
    summary = common.Summary(PREFIX, args.max_failures_shown)
    brine = common.find_brine(args.brine, PREFIX)
    warnings.simplefilter("ignore")
    models = fit_models()
    checks = 0
    with common.TempDir(args.keep) as tmp:
        firsts, seen = [], set()
        for _, model, _ in models:
            firsts.append(type(model).__name__ not in seen)
            seen.add(type(model).__name__)
        # models in parallel (brine runs in subprocesses, numpy releases the GIL)
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            futs = [ex.submit(check_model, np, brine, args, summary, tmp, i, name, model, X, firsts[i])
                    for i, (name, model, X) in enumerate(models)]
            checks += sum(f.result() for f in futs)
        checks += check_pca_layouts(np, brine, summary, tmp, args.timeout)
        checks += check_bisect_elkan(np, brine, summary, tmp, args.timeout)
        wild = check_wild(np, brine, summary, tmp, args.timeout)
    print("cluster-mlp: %d models, %d checks; %d wild-file checks against numpy on their own arrays" % (
        len(models), checks, wild))
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
