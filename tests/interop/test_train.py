#!/usr/bin/python3
"""brine train against Debian's scikit-learn 1.2.1: the very same trees.

At test time this script draws seeded random configurations of the eight
tree estimators (DecisionTree*, ExtraTree*, RandomForest*, ExtraTrees*),
over several data sets: sklearn's iris, wine, breast_cancer, diabetes and
digits (from brine's shipped copies, which are first checked against the
loaders), and synthetic ones with many tied values, integer counts for
Poisson, several outputs, text and float labels.  Each configuration is
written as a CSV (header with column names, or none), `brine train` fits it
with `-p` parameters and --sklearn-version 1.2.1, Python loads brine's file
and sklearn fits the same estimator on the same arrays; every Tree array
(children_left/right, feature, threshold, impurity, n_node_samples,
weighted_n_node_samples, value) must be `==`, as must get_params(),
classes_, feature_names_in_, max_features_ and predict / predict_proba.

Coverage is asserted, not hoped for: every criterion, both splitters,
max_leaf_nodes, every max_features form, fractional and zero sample weights,
every class_weight form (dict, list of dicts, balanced,
balanced_subsample), max_samples int and float, bootstrap off, multi-output
and n_jobs > 1 must each occur in some matched configuration.

Then the version behaviour: a classifier trained for sklearn >= 1.4 stores
class fractions sum/weight (TREES.md §8.1), checked against the counts of
the 1.2.1 fit of the same configuration.  And errors: unknown estimator,
unknown parameter, a value sklearn refuses, ccp_alpha > 0, NaN in X: exit 2
with one line on stderr; a missing -o: 64.
"""

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "train"
common.require_packages(PREFIX)

import warnings  # noqa: E402
import numpy as np  # noqa: E402
warnings.filterwarnings("ignore")
import pickle  # noqa: E402
import joblib  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.tree import (DecisionTreeClassifier, DecisionTreeRegressor,  # noqa: E402
                          ExtraTreeClassifier, ExtraTreeRegressor)
from sklearn.ensemble import (RandomForestClassifier, RandomForestRegressor,  # noqa: E402
                              ExtraTreesClassifier, ExtraTreesRegressor)

CLASSES = {
    "DecisionTreeClassifier": DecisionTreeClassifier, "DecisionTreeRegressor": DecisionTreeRegressor,
    "ExtraTreeClassifier": ExtraTreeClassifier, "ExtraTreeRegressor": ExtraTreeRegressor,
    "RandomForestClassifier": RandomForestClassifier, "RandomForestRegressor": RandomForestRegressor,
    "ExtraTreesClassifier": ExtraTreesClassifier, "ExtraTreesRegressor": ExtraTreesRegressor,
}
TREE_FIELDS = ("children_left", "children_right", "feature", "threshold", "impurity",
               "n_node_samples", "weighted_n_node_samples", "value")
REPO = common.REPO


# ------------------------------------------------------------------ data

def shipped_datasets(summary):
    """brine's data/*.csv must hold exactly what sklearn's loaders return."""
    out = {}
    for name in ("iris", "wine", "breast_cancer", "diabetes", "digits"):
        b = getattr(datasets, "load_" + name)()
        path = os.path.join(REPO, "data", name + ".csv")
        with open(path) as f:
            header = f.readline().rstrip("\n").split(",")
        arr = np.loadtxt(path, delimiter=",", skiprows=1)
        ok = (arr.shape == (b.data.shape[0], b.data.shape[1] + 1)
              and np.array_equal(arr[:, :-1], b.data) and np.array_equal(arr[:, -1], b.target)
              and header[:-1] == [str(n) for n in b.feature_names])
        if ok:
            summary.ok()
        else:
            summary.fail("data/%s.csv" % name, "differs from sklearn.datasets.load_%s()" % name)
        out[name] = (b.data, b.target)
    return out


def synthetic(rng, kind, n, p):
    """X with many ties (few distinct values per column), and a target."""
    X = np.round(rng.standard_normal((n, p)) * rng.choice([1, 2, 4]), rng.choice([0, 1]))
    score = X[:, 0] + 0.5 * X[:, min(1, p - 1)] + rng.standard_normal(n) * 0.5
    if kind == "class":
        return X, (score > np.median(score)).astype(np.int64) + (score > np.quantile(score, 0.8))
    if kind == "count":
        return X, rng.poisson(np.exp(np.clip(score, -2, 2))).astype(np.float64)
    return X, score


def make_data(rng, sets, classifier, criterion, multi):
    """(X, Y (n, k), label kind, data name) for one configuration."""
    small = criterion == "absolute_error"  # sklearn's MAE is quadratic
    choices = ["iris", "wine", "breast_cancer", "digits", "ties"] if classifier else \
        ["diabetes", "ties", "iris_reg", "wine_reg"]
    if criterion == "poisson":
        choices = ["counts", "diabetes_pos"]
    name = rng.choice(choices)
    if name == "ties":
        X, y = synthetic(rng, "class" if classifier else "reg", int(rng.integers(60, 250)), int(rng.integers(2, 7)))
    elif name == "counts":
        X, y = synthetic(rng, "count", int(rng.integers(60, 250)), int(rng.integers(2, 7)))
    elif name == "diabetes_pos":
        X, y = sets["diabetes"]
    elif name.endswith("_reg"):
        X, t = sets[name[:-4]]
        X, y = X[:, 1:], X[:, 0]
    else:
        X, y = sets[name]
    if name == "digits" or name == "breast_cancer" or small:
        keep = rng.choice(len(y), size=min(len(y), 120 if small else 400), replace=False)
        keep.sort()
        X, y = X[keep], y[keep]
    Y = y.reshape(-1, 1).astype(np.float64 if not classifier else y.dtype)
    if multi:
        if classifier:
            Y = np.column_stack([y, (X[:, 0] > np.median(X[:, 0])).astype(np.int64)])
        else:
            Y = np.column_stack([y, X[:, 0] * 2.0 + y * 0.1])
    label = "int"
    if classifier and not multi and rng.random() < 0.25:
        label = rng.choice(["str", "float"])
    return X, Y, label, name


def labels_for(Y, label):
    if label == "str":
        names = np.array(["cls,%d" % v if v % 2 else "c\u00e9%d" % v for v in range(int(Y.max()) + 1)], dtype=object)
        return names[Y.astype(np.int64)]
    if label == "float":  # integral floats: sklearn calls others 'continuous' and refuses them
        return Y.astype(np.float64) * 2.0 - 1.0
    return Y


def csv_cell(v):
    if isinstance(v, str):
        return '"%s"' % v.replace('"', '""') if any(c in v for c in ',"\n') else v
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(int(v))


def write_csv(path, X, Y, w, header):
    cols = ["f%d" % j for j in range(X.shape[1])] + ["t%d" % k for k in range(Y.shape[1])]
    if w is not None:
        cols.append("weight")
    with open(path, "w", encoding="utf-8") as f:
        if header:
            f.write(",".join(cols) + "\n")
        for i in range(X.shape[0]):
            row = [csv_cell(v) for v in X[i]] + [csv_cell(v) for v in Y[i]]
            if w is not None:
                row.append(csv_cell(w[i]))
            f.write(",".join(row) + "\n")
    return cols


# ------------------------------------------------------------ parameters

def py_literal(v):
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (py_literal(k), py_literal(x)) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(py_literal(x) for x in v) + "]"
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, (np.integer,)):
        return str(int(v))
    if isinstance(v, (np.floating,)):
        return repr(float(v))
    return repr(v)


def draw_config(rng, i):
    cls = rng.choice(list(CLASSES))
    classifier = cls.endswith("Classifier")
    forest = "Forest" in cls or "Trees" in cls
    p = {"random_state": int(rng.integers(0, 2**32 - 1)) if rng.random() < 0.9 else int(rng.integers(0, 100))}
    crit = rng.choice(["gini", "entropy", "log_loss"] if classifier else
                      ["squared_error", "friedman_mse", "poisson", "absolute_error"])
    if rng.random() < 0.8 or crit not in ("gini", "squared_error"):
        p["criterion"] = str(crit)
    if not forest and rng.random() < 0.3:
        p["splitter"] = str(rng.choice(["best", "random"]))
    r = rng.random()
    if r < 0.35:
        p["max_depth"] = int(rng.integers(1, 8))
    if rng.random() < 0.25:
        p["max_leaf_nodes"] = int(rng.integers(2, 30))
    if rng.random() < 0.2:
        p["min_samples_split"] = int(rng.integers(2, 12)) if rng.random() < 0.6 else float(rng.choice([0.05, 0.1, 0.3]))
    if rng.random() < 0.2:
        p["min_samples_leaf"] = int(rng.integers(1, 8)) if rng.random() < 0.6 else float(rng.choice([0.01, 0.05, 0.2]))
    if rng.random() < 0.15:
        p["min_weight_fraction_leaf"] = float(rng.choice([0.0, 0.01, 0.05, 0.2]))
    if rng.random() < 0.5:
        p["max_features"] = rng.choice([None, "sqrt", "log2", 1, 2, 0.5, 0.3, 1.0])
        if isinstance(p["max_features"], np.generic):
            p["max_features"] = p["max_features"].item()
    if rng.random() < 0.15:
        p["min_impurity_decrease"] = float(rng.choice([0.0, 0.001, 0.01]))
    if forest:
        p["n_estimators"] = int(rng.integers(1, 8))
        if rng.random() < 0.3:
            p["bootstrap"] = bool(rng.random() < 0.5)
        boot = p.get("bootstrap", "Random" in cls)
        if boot and rng.random() < 0.3:
            p["max_samples"] = int(rng.integers(10, 50)) if rng.random() < 0.5 else float(rng.choice([0.3, 0.7, 1.0]))
        if rng.random() < 0.2:
            p["n_jobs"] = 2
    multi = rng.random() < 0.15 and crit != "poisson"
    weights = rng.choice(["none", "none", "int", "frac", "zeros"])
    cw = None
    if classifier and rng.random() < 0.3:
        cw = rng.choice(["balanced", "dict"] + (["balanced_subsample"] if forest else []))
    return cls, classifier, forest, p, str(crit), multi, str(weights), cw


def class_weight_value(cw, Ylab, multi, rng):
    if cw in (None, "balanced", "balanced_subsample"):
        return cw
    dicts = []
    for k in range(Ylab.shape[1]):
        labels = sorted(set(Ylab[:, k].tolist()))
        d = {lab: float(rng.choice([0.5, 1.0, 2.5, 3.0])) for lab in labels if rng.random() < 0.8}
        if len(d) < len(labels):  # sklearn wants every class named when one is missing
            d = {lab: d.get(lab, 1.0) for lab in labels}
        dicts.append(d)
    return dicts if multi else dicts[0]


# ------------------------------------------------------------ comparison

def compare_trees(a, b):
    for f in TREE_FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        if x.shape != y.shape or x.dtype != y.dtype or not np.array_equal(x, y):
            return f
    if a.max_depth != b.max_depth:
        return "max_depth"
    return None


def compare_models(got, ref, forest, X):
    if type(got) is not type(ref):
        return "class %s != %s" % (type(got).__name__, type(ref).__name__)
    if got.get_params() != ref.get_params():
        return "get_params %r != %r" % (got.get_params(), ref.get_params())
    # sklearn's threads sum forest outputs in completion order (TREES.md §9)
    if forest:
        got.n_jobs = ref.n_jobs = 1
    if False:
        return "class %s != %s" % (type(got).__name__, type(ref).__name__)
    if got.get_params() != ref.get_params():
        return "get_params %r != %r" % (got.get_params(), ref.get_params())
    members = list(zip(got.estimators_, ref.estimators_)) if forest else [(got, ref)]
    if forest and len(got.estimators_) != len(ref.estimators_):
        return "n trees"
    for t, (a, b) in enumerate(members):
        d = compare_trees(a.tree_, b.tree_)
        if d:
            return "tree %d: %s differs" % (t, d)
        if a.max_features_ != b.max_features_:
            return "tree %d: max_features_" % t
        if forest and a.get_params() != b.get_params():
            return "tree %d: member get_params %r != %r" % (t, a.get_params(), b.get_params())
    for attr in ("classes_", "n_classes_", "n_outputs_", "n_features_in_"):
        x, y = getattr(got, attr, None), getattr(ref, attr, None)
        if isinstance(y, list):
            if not isinstance(x, list) or len(x) != len(y) or any(
                    not np.array_equal(u, v) or np.asarray(u).dtype != np.asarray(v).dtype for u, v in zip(x, y)):
                return attr
        elif isinstance(y, np.ndarray):
            if not isinstance(x, np.ndarray) or x.dtype != y.dtype or not np.array_equal(x, y):
                return attr
        elif x != y:
            return attr
    if hasattr(ref, "feature_names_in_"):
        if not hasattr(got, "feature_names_in_") or list(got.feature_names_in_) != list(ref.feature_names_in_):
            return "feature_names_in_"
    elif hasattr(got, "feature_names_in_"):
        return "unexpected feature_names_in_"
    if not np.array_equal(np.asarray(got.predict(X)), np.asarray(ref.predict(X))):
        return "predict"
    if hasattr(ref, "predict_proba"):
        pg, pr = got.predict_proba(X), ref.predict_proba(X)
        if isinstance(pr, list):
            if any(not np.array_equal(u, v) for u, v in zip(pg, pr)):
                return "predict_proba"
        elif not np.array_equal(pg, pr):
            return "predict_proba"
    return None


class Fitted:
    pass


def fit_reference(cls, params, X, Y, w, header):
    est = CLASSES[cls](**params)
    y = Y[:, 0] if Y.shape[1] == 1 else Y
    est.fit(X, y, sample_weight=w)
    if header:  # what fitting on a DataFrame with these columns leaves
        est.feature_names_in_ = np.array(["f%d" % j for j in range(X.shape[1])], dtype=object)
    return est


# ---------------------------------------------------------------- cases

def run_config(brine, tmp, i, rng, sets, coverage):
    cls, classifier, forest, p, crit, multi, weights, cw = draw_config(rng, i)
    X, Y, label, dname = make_data(rng, sets, classifier, crit, multi)
    if crit == "poisson" and dname == "diabetes_pos":
        Y = Y - Y.min() + 1.0
    n = X.shape[0]
    w = None
    if weights == "int":
        w = rng.integers(0, 4, n).astype(np.float64)
    elif weights == "frac":
        w = rng.random(n) * 2.0 + 0.01
    elif weights == "zeros":
        w = np.where(rng.random(n) < 0.3, 0.0, 1.0 + rng.random(n))
    if w is not None and w.sum() <= 0:
        w[0] = 1.0
    Ylab = labels_for(Y, label) if classifier else Y
    cwv = class_weight_value(cw, Ylab, multi, rng) if classifier else None
    if cwv is not None:
        p["class_weight"] = cwv
    # CONVENTIONS: a first row with text in it is a header, so text labels need one
    header = bool(rng.random() < 0.5) or label == "str"
    data = os.path.join(tmp, "d%d.csv" % i)
    cols = write_csv(data, X, Ylab if classifier else Y, w, header)
    out = os.path.join(tmp, "m%d.%s" % (i, rng.choice(["pkl", "joblib"])))
    args = ["train", cls, data, "-o", out, "--sklearn-version", "1.2.1", "--no-meta"]
    for k, v in p.items():
        args += ["-p", "%s=%s" % (k, py_literal(v))]
    nout = Y.shape[1]
    first_t = X.shape[1]
    for k in range(nout):
        args += ["--target", cols[first_t + k] if header else str(first_t + k)]
    if w is not None:
        args += ["--sample-weight", "weight" if header else str(len(cols) - 1)]
    name = "config %d: %s %s on %s (%s labels, weights %s, %s)" % (i, cls, p, dname, label, weights,
                                                                  "header" if header else "no header")
    res = common.run_brine(brine, args, timeout=120)
    if res.rc != 0:
        return name, "brine exit %d: %s" % (res.rc, res.stderr_text.strip()[:400]), 0
    try:
        got = joblib.load(out) if out.endswith("joblib") else pickle.load(open(out, "rb"))
        Yfit = Ylab if classifier else Y
        ref = fit_reference(cls, p, X, Yfit, w, header)
    except Exception as e:  # sklearn refusing a configuration is a test bug
        return name, "python: %r" % (e,), 0
    diff = compare_models(got, ref, forest, X)
    if diff:
        return name, diff, 0
    ntrees = len(ref.estimators_) if forest else 1
    coverage.add("criterion=" + crit)
    coverage.add("splitter=" + ("random" if p.get("splitter", "random" if "Extra" in cls else "best") == "random" else "best"))
    coverage.add("class=" + cls)
    for k in ("max_leaf_nodes", "max_depth", "min_samples_split", "min_samples_leaf", "min_weight_fraction_leaf",
              "min_impurity_decrease", "n_jobs"):
        if k in p:
            coverage.add(k + (":float" if isinstance(p[k], float) else ""))
    if "max_features" in p:
        mf = p["max_features"]
        coverage.add("max_features=" + (repr(mf) if mf is None or isinstance(mf, str) else type(mf).__name__))
    if "max_samples" in p:
        coverage.add("max_samples:" + type(p["max_samples"]).__name__)
    if p.get("bootstrap") is False:
        coverage.add("bootstrap=False")
    if cwv is not None:
        coverage.add("class_weight=" + (cwv if isinstance(cwv, str) else type(cwv).__name__))
    coverage.add("weights=" + weights)
    if multi:
        coverage.add("multi_output")
    if dname in ("ties", "counts"):
        coverage.add("tied data")
    coverage.add("data=" + dname)
    return name, None, ntrees


REQUIRED_COVERAGE = [
    "criterion=gini", "criterion=entropy", "criterion=log_loss", "criterion=squared_error",
    "criterion=friedman_mse", "criterion=poisson", "criterion=absolute_error",
    "splitter=best", "splitter=random", "max_leaf_nodes", "max_depth", "min_samples_split",
    "min_samples_split:float", "min_samples_leaf", "min_samples_leaf:float", "min_weight_fraction_leaf:float",
    "min_impurity_decrease:float", "max_features=None", "max_features='sqrt'", "max_features='log2'",
    "max_features=int", "max_features=float", "max_samples:int", "max_samples:float", "bootstrap=False",
    "class_weight=balanced", "class_weight=balanced_subsample", "class_weight=dict", "class_weight=list",
    "weights=int", "weights=frac", "weights=zeros", "multi_output", "tied data", "n_jobs",
] + ["class=" + c for c in CLASSES]


def check_fractions(brine, tmp, summary):
    """sklearn >= 1.4 stores class fractions: sum_total / weighted_n (§8.1)."""
    X = np.round(np.random.RandomState(5).standard_normal((120, 3)), 1)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    w = np.random.RandomState(6).random_sample(120) + 0.1
    data = os.path.join(tmp, "frac.csv")
    write_csv(data, X, y.reshape(-1, 1), w, False)  # 1.8.0's tree layout is verified without names
    outs = {}
    for v in ("1.2.1", "1.8.0"):
        outs[v] = os.path.join(tmp, "frac-%s.pkl" % v)
        res = common.run_brine(brine, ["train", "dt", data, "-o", outs[v], "--sklearn-version", v, "-p",
                                       "random_state=3", "--target", "3", "--sample-weight", "4", "--no-meta"])
        if res.rc:
            summary.fail("fractions for %s" % v, res.stderr_text)
            return
    old = pickle.load(open(outs["1.2.1"], "rb")).tree_
    # the 1.8 layout does not load in sklearn 1.2: read its arrays with
    # numpy only, every sklearn class a stub
    class Stub:
        def __init__(self, *a):
            self.args = a

        def __setstate__(self, s):
            self.state = s

    class Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            if module.startswith("numpy"):
                return super().find_class(module, name)
            return type(name, (Stub,), {})

    new = Restricted(open(outs["1.8.0"], "rb")).load()
    values = new.state["tree_"].state["values"]
    expect = old.value / old.weighted_n_node_samples[:, None, None]
    if values.shape == expect.shape and np.array_equal(values, expect):
        summary.ok()
    else:
        summary.fail("fractions for 1.8.0", "values are not counts / weighted_n_node_samples")


def check_cv(brine, tmp, sets, summary):
    """--cv K against sklearn's cross_val_score(cv=K) and OUT.meta.json."""
    import json
    from sklearn.model_selection import cross_val_score
    rs = np.random.RandomState(11)
    Xt, yt = synthetic(np.random.default_rng(3), "class", 90, 3)
    cases = [
        ("RandomForestClassifier", {"n_estimators": 5, "random_state": 1}, sets["iris"][0], sets["iris"][1], None, 5),
        ("DecisionTreeClassifier", {"random_state": 2, "max_depth": 3}, Xt, yt, None, 4),  # unequal classes
        ("ExtraTreesClassifier", {"n_estimators": 3, "random_state": 3}, sets["wine"][0], sets["wine"][1],
         rs.randint(1, 4, 178).astype(float), 3),
        ("DecisionTreeRegressor", {"random_state": 4, "max_depth": 4}, sets["diabetes"][0], sets["diabetes"][1], None, 5),
        ("RandomForestRegressor", {"n_estimators": 4, "random_state": 5}, sets["diabetes"][0],
         np.column_stack([sets["diabetes"][1], sets["diabetes"][0][:, 0]]), None, 3),
        ("DecisionTreeClassifier", {"random_state": 6}, Xt, np.column_stack([yt > 0, Xt[:, 1] > 0]).astype(int), None, 3),
    ]
    for i, (cls, p, X, y, w, k) in enumerate(cases):
        Y = y.reshape(len(y), -1)
        data = os.path.join(tmp, "cv%d.csv" % i)
        write_csv(data, X, Y, w, False)
        out = os.path.join(tmp, "cv%d.pkl" % i)
        args = ["train", cls, data, "-o", out, "--sklearn-version", "1.2.1", "--cv", str(k)]
        for name, v in p.items():
            args += ["-p", "%s=%s" % (name, py_literal(v))]
        for t in range(Y.shape[1]):
            args += ["--target", str(X.shape[1] + t)]
        if w is not None:
            args += ["--sample-weight", str(X.shape[1] + Y.shape[1])]
        res = common.run_brine(brine, args, timeout=300)
        fit_params = {"sample_weight": w} if w is not None else None
        ref = cross_val_score(CLASSES[cls](**p), X, y, cv=k, fit_params=fit_params)
        try:
            meta = json.load(open(out + ".meta.json"))
            got = meta["metrics"]["cv_scores"]
        except Exception as e:
            summary.fail("cv case %d %s" % (i, cls), "exit %d, %s, no metrics: %r" % (res.rc, res.stderr_text, e))
            continue
        if res.rc or len(got) != k or any(abs(a - b) > 1e-12 for a, b in zip(got, ref)):
            summary.fail("cv case %d %s" % (i, cls), "brine %r, sklearn %r" % (got, list(ref)))
        else:
            summary.ok()


def check_meta(brine, tmp, summary):
    """train writes OUT.meta.json (training data fingerprint, params) and
    --versioned numbers its outputs."""
    import hashlib
    import json
    d = os.path.join(tmp, "versioned")
    os.makedirs(d)
    names = []
    for _ in range(2):
        res = common.run_brine(brine, ["train", "dt", "iris", "-o", os.path.join(d, "model.pkl"), "--versioned",
                                       "-p", "max_depth=2", "-p", "random_state=0", "--sklearn-version", "1.2.1"])
        names.append(os.path.basename(res.stdout_text.strip()))
        if res.rc:
            summary.fail("train --versioned", res.stderr_text)
            return
    iris_sha = hashlib.sha256(open(os.path.join(REPO, "data", "iris.csv"), "rb").read()).hexdigest()
    meta = json.load(open(os.path.join(d, names[1] + ".meta.json")))
    model_sha = hashlib.sha256(open(os.path.join(d, names[1]), "rb").read()).hexdigest()
    ok = (names[0].startswith("model_v1_") and names[1].startswith("model_v2_") and names[1].endswith(".pkl")
          and meta["sha256"] == model_sha and meta["training_data"]["sha256"] == iris_sha
          and meta["training_data"]["n_rows"] == 150 and meta["params"]["max_depth"] == 2
          and meta["estimator"] == "sklearn.tree._classes.DecisionTreeClassifier"
          and meta["sklearn_version"] == "1.2.1")
    if ok:
        summary.ok()
    else:
        summary.fail("train meta / --versioned", "names %r, meta %r" % (names, meta))


def check_errors(brine, tmp, summary):
    data = os.path.join(tmp, "err.csv")
    with open(data, "w") as f:
        f.write("a,b,y\n1,2,0\n3,4,1\n5,6,0\n")
    nan = os.path.join(tmp, "nan.csv")
    with open(nan, "w") as f:
        f.write("a,b,y\n1,,0\n3,4,1\n")
    cases = [
        (["train", "svm", data, "-o", os.path.join(tmp, "e.pkl")], 2, "cannot train"),
        (["train", "rf", data, "-o", os.path.join(tmp, "e.pkl"), "-p", "n_trees=3"], 2, "no parameter"),
        (["train", "rf", data, "-o", os.path.join(tmp, "e.pkl"), "-p", "max_depth=0"], 2, "max_depth"),
        (["train", "dt", data, "-o", os.path.join(tmp, "e.pkl"), "-p", "ccp_alpha=0.1"], 2, "ccp_alpha"),
        (["train", "dt", data, "-o", os.path.join(tmp, "e.pkl"), "-p", "criterion=mse"], 2, "criterion"),
        (["train", "dt", nan, "-o", os.path.join(tmp, "e.pkl")], 2, "missing"),
        (["train", "dt", data, "-o", os.path.join(tmp, "e.pkl"), "--sklearn-version", "0.99"], 2, "verified"),
        (["train", "dt", data], 64, "-o"),
    ]
    for args, rc, word in cases:
        res = common.run_brine(brine, args)
        one = common.one_line_error(res)
        if res.rc != rc or one or word not in res.stderr_text:
            summary.fail("error case %s" % " ".join(args[1:2] + args[4:]),
                         "exit %d (want %d), stderr %r" % (res.rc, rc, res.stderr_text))
        else:
            summary.ok()


def main():
    args = common.parse_args(__doc__, extra=lambda p: (p.add_argument("--configs", type=int, default=240),
                                                        p.add_argument("--seed", type=int, default=20261201)))
    brine = common.find_brine(args.brine, PREFIX)
    summary = common.Summary(PREFIX, args.max_failures_shown)
    sets = shipped_datasets(summary)
    rng = np.random.default_rng(args.seed)
    coverage = set()
    matched = trees = 0
    with common.TempDir(args.keep) as tmp:
        for i in range(args.configs):
            name, diff, ntrees = run_config(brine, tmp, i, rng, sets, coverage)
            if diff:
                summary.fail(name, diff)
            else:
                summary.ok()
                matched += 1
                trees += ntrees
        check_fractions(brine, tmp, summary)
        check_cv(brine, tmp, sets, summary)
        check_meta(brine, tmp, summary)
        check_errors(brine, tmp, summary)
    missing = [c for c in REQUIRED_COVERAGE if c not in coverage]
    if missing:
        summary.fail("coverage", "no matched configuration had: " + ", ".join(missing))
    else:
        summary.ok()
    print("train: %d of %d configurations matched sklearn 1.2.1 exactly (%d trees, every Tree array ==)"
          % (matched, args.configs, trees))
    print("train: coverage: %s" % ", ".join(sorted(coverage)))
    sys.exit(summary.finish())


if __name__ == "__main__":
    main()
