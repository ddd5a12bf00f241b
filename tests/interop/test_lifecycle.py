#!/usr/bin/python3
"""Model lifecycle: versions, metadata sidecars, versioned names, the registry.

Run with Debian's /usr/bin/python3:  test_lifecycle.py --brine build/brine

  inspect --json   the estimator keys (docs/inspect-json.md) of models that
                   Debian's sklearn 1.2.1 fits and saves here, against the
                   live objects: params == get_params() (types included),
                   classes, n_features_in, feature_names_in, n_outputs, tree
                   and node counts, sha256 == hashlib's; real files of other
                   versions from shared/wild (sklearn_version, numpy 1 or 2)
  version policy   a file of a version brine has not verified (wild 033,
                   sklearn 0.24.1; a 1.2.1 file relabelled 9.9.9) warns on
                   stderr naming both versions in predict, inspect and
                   convert; --strict-version makes it exit 2; verified
                   files are silent
  sidecars         convert writes OUT.meta.json (docs/meta-json.md) with the
                   output's sha256, get_params(), the layout written; --no-meta
                   writes none; non-estimator files get estimator null
  --versioned      NAME_vN_YYYYmmdd_HHMMSS.EXT, N one past the highest
  registry         add/list/show/promote/rollback/path/verify and exit codes;
                   three processes adding 20 versions each at once lose
                   nothing; a writer that dies holding the lock blocks no one;
                   writers killed at random moments leave a registry that
                   reads, verifies and takes the next version
"""

import datetime
import fcntl
import hashlib
import json
import os
import pickle
import re
import subprocess
import sys
import threading
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "lifecycle"


# ---------------------------------------------------------------- helpers

def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def jsonable(v):
    """get_params() values as brine's JSON renders them (docs/inspect-json.md)."""
    import numpy as np
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return "nan" if f != f else ("inf" if f == float("inf") else ("-inf" if f == float("-inf") else f))
    if isinstance(v, (list, tuple, set, frozenset)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return [jsonable(x) for x in v.tolist()]
    t = type(v)
    return "%s.%s" % (t.__module__, t.__qualname__)


def strict_diff(a, b, where="$"):
    """First difference between two JSON values, types included (1 != 1.0,
    True != 1); None when equal."""
    if type(a) is not type(b):
        return "%s: %r (%s) vs %r (%s)" % (where, a, type(a).__name__, b, type(b).__name__)
    if isinstance(a, dict):
        if set(a) != set(b):
            return "%s: keys differ: only brine %s, only python %s" % (
                where, sorted(set(a) - set(b)), sorted(set(b) - set(a)))
        for k in a:
            d = strict_diff(a[k], b[k], "%s.%s" % (where, k))
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d vs %d items" % (where, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = strict_diff(x, y, "%s[%d]" % (where, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %r vs %r" % (where, a, b)


class Checker:
    def __init__(self, brine, args, summary):
        self.brine, self.args, self.summary = brine, args, summary

    def run(self, argv, cwd=None):
        return common.run_brine(self.brine, argv, timeout=self.args.timeout, cwd=cwd)

    def check(self, name, problem, res=None):
        """problem: None (pass) or a description."""
        if res is not None and res.crash_reason():
            problem = "brine crashed: %s" % res.crash_reason()
        if problem:
            self.summary.fail(name, "  " + problem + ("\n" + res.describe() if res is not None else ""))
        else:
            self.summary.ok()

    def expect(self, name, argv, rc, words=(), one_line=False, cwd=None, quiet=False):
        """Run and check the exit code, stderr words; returns the result."""
        res = self.run(argv, cwd=cwd)
        problem = None
        if res.rc != rc:
            problem = "exit %d, expected %d" % (res.rc, rc)
        elif one_line and common.one_line_error(res):
            problem = common.one_line_error(res)
        elif quiet and res.stderr_text.strip():
            problem = "unexpected stderr"
        else:
            missing = [w for w in words if w not in res.stderr_text]
            if missing:
                problem = "stderr lacks %r" % missing
        self.check(name, problem, res)
        return res

    def inspect_json(self, path, name):
        res = self.run(["inspect", "--json", path])
        if res.rc != 0:
            self.check(name + ": inspect --json", "exit %d" % res.rc, res)
            return None
        try:
            return json.loads(res.stdout_text)
        except ValueError as e:
            self.check(name + ": inspect --json parses", str(e), res)
            return None


# ------------------------------------------------------------- the models

def make_models(tmp):
    """(name, path, fitted object, format, compression, protocol) of models
    saved here by Debian's sklearn."""
    import joblib
    import numpy as np
    from sklearn import ensemble, linear_model, pipeline, preprocessing, tree
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    rng = np.random.RandomState(0)
    labels = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    out = []

    def save(name, obj, how):
        path = os.path.join(tmp, name)
        if how[0] == "pickle":
            with open(path, "wb") as f:
                pickle.dump(obj, f, protocol=how[2])
        else:
            joblib.dump(obj, path, compress=how[3] if how[1] != "none" else 0)
        out.append((name, path, obj, how[0], how[1], how[2]))

    rf = ensemble.RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0, oob_score=True).fit(X, y)
    save("rf.pkl", rf, ("pickle", "none", 4))
    dtr = tree.DecisionTreeRegressor(max_depth=4, min_samples_leaf=3).fit(X, X[:, 0] * 2.5)
    save("dtr.joblib", dtr, ("joblib", "zlib", 4, ("zlib", 3)))
    etr = ensemble.ExtraTreesRegressor(n_estimators=3, max_features=0.5, random_state=1).fit(X, np.c_[y, X[:, 1]])
    save("etr_multi.pkl", etr, ("pickle", "none", 2))
    dtc = tree.DecisionTreeClassifier(class_weight={"setosa": 1.0, "versicolor": 2.0, "virginica": 0.5},
                                      criterion="entropy", max_depth=5, random_state=3).fit(X, labels)
    dtc.feature_names_in_ = np.array(["sepal_len", "sepal_wid", "petal_len", "petal_wid"], dtype=object)
    save("dtc_names.pkl", dtc, ("pickle", "none", 5))
    etc = tree.ExtraTreeClassifier(random_state=rng.randint(1000)).fit(X, y == 2)
    save("etc_bool.joblib", etc, ("joblib", "none", 4))
    lr = linear_model.LogisticRegression(C=0.5, max_iter=500).fit(X, y)
    save("logreg.pkl", lr, ("pickle", "none", 4))
    pipe = pipeline.Pipeline([("scale", preprocessing.StandardScaler()),
                              ("clf", linear_model.LogisticRegression(max_iter=300))]).fit(X, labels)
    save("pipe.pkl", pipe, ("pickle", "none", 4))
    return out


def numpy_by_modules(path, comp):
    """1 when the pickle names numpy.core (numpy 1), 2 for numpy._core, else None."""
    import zlib
    data = open(path, "rb").read()
    if comp == "zlib":
        data = zlib.decompress(data)
    # module names are plain text in the stream (GLOBAL, or the str operands of STACK_GLOBAL)
    if b"numpy._core" in data:
        return 2
    return 1 if b"numpy.core" in data else None


def expected_facts(obj, path=None, comp="none"):
    from sklearn import pipeline
    est = obj
    facts = {"estimator": "%s.%s" % (type(obj).__module__, type(obj).__qualname__),
             "sklearn_version": "1.2.1", "numpy": numpy_by_modules(path, comp) if path else None}
    if isinstance(obj, pipeline.Pipeline):
        facts["params"] = jsonable(obj.get_params(deep=False))
        first, last = obj.steps[0][1], obj.steps[-1][1]
    else:
        facts["params"] = jsonable(obj.get_params())
        first = last = est
    facts["n_features_in"] = int(first.n_features_in_)
    names = getattr(first, "feature_names_in_", None)
    facts["feature_names_in"] = None if names is None else [str(n) for n in names]
    classes = getattr(last, "classes_", None)
    if classes is None:
        facts["classes"] = None
    elif isinstance(classes, list):
        facts["classes"] = [jsonable(c) for c in classes]
    else:
        facts["classes"] = jsonable(classes)
    trees = [e.tree_ for e in getattr(obj, "estimators_", [])] if hasattr(obj, "estimators_") else (
        [obj.tree_] if hasattr(obj, "tree_") else [])
    facts["sizes_trees"] = len(trees)
    facts["sizes_nodes"] = sum(t.node_count for t in trees)
    n_out = getattr(obj, "n_outputs_", None)
    facts["n_outputs"] = None if n_out is None else int(n_out)
    return facts


REQUIRED_INSPECT = ("format", "compression", "protocol", "estimator", "sklearn_version", "numpy", "n_features_in",
                    "feature_names_in", "classes", "n_outputs", "params", "sizes", "sha256")


def check_inspect(ck, models):
    for name, path, obj, fmt, comp, proto in models:
        j = ck.inspect_json(path, name)
        if j is None:
            continue
        missing = [k for k in REQUIRED_INSPECT if k not in j]
        ck.check("inspect %s: required keys" % name, "missing %s" % missing if missing else None)
        want = expected_facts(obj, path, comp)
        for key in ("estimator", "sklearn_version", "numpy", "n_features_in", "feature_names_in", "classes",
                    "n_outputs", "params"):
            d = strict_diff(j.get(key), want[key], key)
            ck.check("inspect %s: %s" % (name, key), d)
        sizes = j.get("sizes") or {}
        ck.check("inspect %s: sizes" % name,
                 None if (sizes.get("trees"), sizes.get("nodes"), sizes.get("bytes")) ==
                 (want["sizes_trees"], want["sizes_nodes"], os.path.getsize(path)) else "sizes %r, want %r" % (
                     sizes, (want["sizes_trees"], want["sizes_nodes"], os.path.getsize(path))))
        ck.check("inspect %s: sha256" % name, None if j.get("sha256") == sha256(path) else
                 "%s != %s" % (j.get("sha256"), sha256(path)))
        ck.check("inspect %s: container" % name,
                 None if (j["format"], j["compression"], j["protocol"]) == (fmt, comp, proto) else
                 "container %r" % ((j["format"], j["compression"], j["protocol"]),))


def check_inspect_other(ck, tmp, wild):
    plain = os.path.join(tmp, "plain.pkl")
    with open(plain, "wb") as f:
        pickle.dump({"a": [1, 2.5, None], "b": "text"}, f, protocol=4)
    j = ck.inspect_json(plain, "plain dict")
    if j is not None:
        nulls = [k for k in ("estimator", "sklearn_version", "n_features_in", "feature_names_in", "classes",
                             "n_outputs", "params") if k not in j or j[k] is not None]
        ck.check("inspect non-estimator: estimator fields null", "not null: %s" % nulls if nulls else None)
        ck.check("inspect non-estimator: sha256", None if j.get("sha256") == sha256(plain) else "wrong sha256")
    files = os.path.join(wild, "files")
    for fid, fname, version, numpy, est, nfeat in [
            ("033", "033_fastapi-ml-deplyment_decision-tree.pkl", "0.24.1", 1,
             "sklearn.tree._classes.DecisionTreeClassifier", 12),
            ("059", "059_SVR-KNN-DTR-RFR-ML-Dep_rf-model.pkl", "1.5.1", 1,
             "sklearn.ensemble._forest.RandomForestRegressor", None),
            ("088", "088_Diabetic-Predictor_random-forest.pkl", "1.8.0", 2,
             "sklearn.ensemble._forest.RandomForestClassifier", None)]:
        path = os.path.join(files, fname)
        j = ck.inspect_json(path, "wild " + fid)
        if j is None:
            continue
        bad = [(k, j.get(k), v) for k, v in (("sklearn_version", version), ("numpy", numpy), ("estimator", est))
               if j.get(k) != v]
        if nfeat is not None and j.get("n_features_in") != nfeat:
            bad.append(("n_features_in", j.get("n_features_in"), nfeat))
        if not isinstance(j.get("params"), dict) or "max_depth" not in j["params"]:
            bad.append(("params", j.get("params"), "an object with max_depth"))
        ck.check("inspect wild %s: version facts" % fid, "%r" % bad if bad else None)
    # 0.24.1's get_params() had min_impurity_split; brine shows the file's own parameters.
    j = ck.inspect_json(os.path.join(files, "033_fastapi-ml-deplyment_decision-tree.pkl"), "wild 033")
    ck.check("inspect wild 033: the file's own parameters",
             None if j and "min_impurity_split" in j["params"] and j["params"]["ccp_alpha"] == 0.0 else
             "params %r" % (j and j.get("params")))


# --------------------------------------------------------- version policy

def check_versions(ck, tmp, wild, models):
    import numpy as np
    old = os.path.join(wild, "files", "033_fastapi-ml-deplyment_decision-tree.pkl")
    x12 = os.path.join(tmp, "x12.csv")
    with open(x12, "w") as f:
        f.write(",".join(["0.5"] * 12) + "\n")
    words = ["warning", "0.24.1", "1.2.1", "1.8.0"]
    ck.expect("policy: predict warns on an unverified version", ["predict", old, x12], 0, words, one_line=True)
    ck.expect("policy: inspect warns on an unverified version", ["inspect", old], 0, words, one_line=True)
    ck.expect("policy: inspect --json warns too", ["inspect", "--json", old], 0, words, one_line=True)
    ck.expect("policy: convert names both versions", ["convert", old, os.path.join(tmp, "o.pkl")], 0,
              ["0.24.1", "1.8.0"], one_line=True)
    ck.expect("policy: convert --sklearn-version warns", ["convert", old, os.path.join(tmp, "o2.pkl"),
                                                          "--sklearn-version", "1.2.1"], 0, words, one_line=True)
    for cmd, argv in (("predict", ["predict", old, x12]), ("inspect", ["inspect", old]),
                      ("inspect --json", ["inspect", "--json", old]),
                      ("convert", ["convert", old, os.path.join(tmp, "o3.pkl")])):
        res = ck.expect("policy: %s --strict-version exits 2" % cmd, argv + ["--strict-version"], 2,
                        ["0.24.1", "1.2.1", "1.8.0"], one_line=True)
        ck.check("policy: %s --strict-version prints nothing on stdout" % cmd,
                 "stdout %r" % res.stdout_text[:200] if res.stdout.strip() else None)
    ck.check("policy: convert --strict-version writes nothing",
             "o3.pkl exists" if os.path.exists(os.path.join(tmp, "o3.pkl")) else None)
    # A newer version than any brine verified: a 1.2.1 file relabelled.
    src = [m for m in models if m[0] == "rf.pkl"][0][1]
    data = open(src, "rb").read()
    assert data.count(b"1.2.1") >= 1
    newer = os.path.join(tmp, "newer.pkl")
    with open(newer, "wb") as f:
        f.write(data.replace(b"\x8c\x051.2.1", b"\x8c\x059.9.9"))
    x4 = os.path.join(tmp, "x4.csv")
    np.savetxt(x4, np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]), delimiter=",")
    res = ck.expect("policy: a newer version warns", ["predict", newer, x4], 0,
                    ["warning", "9.9.9", "1.2.1"], one_line=True)
    ok = ck.run(["predict", src, x4])
    ck.check("policy: the warning changes no answer", None if res.stdout == ok.stdout and ok.rc == 0 else
             "%r vs %r" % (res.stdout, ok.stdout))
    ck.expect("policy: a newer version under --strict-version", ["predict", newer, x4, "--strict-version"], 2,
              ["9.9.9", "1.2.1"], one_line=True)
    for name, path, *_ in models:
        if name.startswith(("rf", "dtr", "etr", "dtc", "etc")):
            ck.expect("policy: verified %s is silent" % name, ["inspect", path, "--strict-version"], 0, quiet=True)
    verified = os.path.join(wild, "files", "088_Diabetic-Predictor_random-forest.pkl")
    ck.expect("policy: verified wild 088 (1.8.0) is silent", ["inspect", "--json", verified, "--strict-version"], 0,
              quiet=True)


# --------------------------------------------------------------- sidecars

META_KEYS = ("sha256", "brine_version", "created_utc", "sklearn_version", "estimator", "params", "training_data",
             "metrics")


def load_meta(ck, path, name):
    try:
        with open(path + ".meta.json") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        ck.check(name, "no readable sidecar: %s" % e)
        return None


def check_sidecars(ck, tmp, models, version_line):
    import joblib
    now = datetime.datetime.now(datetime.timezone.utc)
    for name, path, obj, *_ in models:
        if not name.startswith(("rf", "dtr", "etr", "dtc", "etc")):
            continue
        out = os.path.join(tmp, "side-" + name + (".joblib" if name.endswith(".pkl") else ".pkl"))
        res = ck.expect("sidecar: convert %s" % name, ["convert", path, out], 0, quiet=True)
        if res.rc:
            continue
        m = load_meta(ck, out, "sidecar %s: exists" % name)
        if m is None:
            continue
        missing = [k for k in META_KEYS if k not in m]
        ck.check("sidecar %s: required keys" % name, "missing %s" % missing if missing else None)
        ck.check("sidecar %s: sha256 of the output" % name,
                 None if m.get("sha256") == sha256(out) else "%s != %s" % (m.get("sha256"), sha256(out)))
        ck.check("sidecar %s: brine_version" % name,
                 None if "brine %s" % m.get("brine_version") == version_line else repr(m.get("brine_version")))
        stamp = m.get("created_utc", "")
        good = re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
        when = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc) if good else None
        ck.check("sidecar %s: created_utc" % name,
                 None if when and abs((when - now).total_seconds()) < 600 else "created_utc %r" % stamp)
        want = expected_facts(obj)
        for key in ("estimator", "params"):
            ck.check("sidecar %s: %s" % (name, key), strict_diff(m.get(key), want[key], key))
        ck.check("sidecar %s: layout, training data, metrics" % name,
                 None if (m.get("sklearn_version"), m.get("training_data"), m.get("metrics")) == ("1.2.1", None, {})
                 else repr((m.get("sklearn_version"), m.get("training_data"), m.get("metrics"))))
        back = joblib.load(out)
        ck.check("sidecar %s: the output still loads in Python" % name,
                 None if type(back) is type(obj) else type(back).__name__)
    rf = [m for m in models if m[0] == "rf.pkl"][0][1]
    out = os.path.join(tmp, "nometa.pkl")
    ck.expect("sidecar: --no-meta", ["convert", rf, out, "--no-meta"], 0, quiet=True)
    ck.check("sidecar: --no-meta writes none",
             "sidecar written" if os.path.exists(out + ".meta.json") else None)
    plain = os.path.join(tmp, "plain.pkl")
    out = os.path.join(tmp, "plain-out.joblib")
    ck.expect("sidecar: convert a non-estimator", ["convert", plain, out], 0, quiet=True)
    m = load_meta(ck, out, "sidecar non-estimator: exists")
    if m is not None:
        ck.check("sidecar non-estimator: estimator null",
                 None if m.get("estimator") is None and m.get("params") == {} and m.get("sha256") == sha256(out)
                 else repr(m))


def check_versioned(ck, tmp, models):
    rf = [m for m in models if m[0] == "rf.pkl"][0][1]
    d = os.path.join(tmp, "versioned")
    os.makedirs(d)
    names = []
    for k in range(2):
        res = ck.expect("versioned: convert #%d" % (k + 1), ["convert", rf, os.path.join(d, "model.pkl"),
                                                             "--versioned"], 0, quiet=True)
        names.append(res.stdout_text.strip())
    pat = r"model_v(\d+)_\d{8}_\d{6}\.pkl"
    got = [re.fullmatch(pat, os.path.basename(n)) for n in names]
    ck.check("versioned: names and numbers", None if all(got) and [int(g.group(1)) for g in got] == [1, 2] and
             all(os.path.isfile(n) and os.path.isfile(n + ".meta.json") for n in names) else repr(names))
    stamp = datetime.datetime.now(datetime.timezone.utc)
    if got[0]:
        made = datetime.datetime.strptime(os.path.basename(names[0])[9:24], "%Y%m%d_%H%M%S").replace(
            tzinfo=datetime.timezone.utc)
        ck.check("versioned: the stamp is UTC now", None if abs((made - stamp).total_seconds()) < 600 else
                 "%s vs %s" % (made, stamp))
    open(os.path.join(d, "model_v9_20200101_000000.pkl"), "wb").close()
    open(os.path.join(d, "other_v50_20200101_000000.pkl"), "wb").close()
    open(os.path.join(d, "model_v77.pkl"), "wb").close()
    res = ck.expect("versioned: after v9", ["convert", rf, os.path.join(d, "model.pkl"), "--versioned"], 0)
    ck.check("versioned: one more than the highest", None if re.search(r"/model_v10_\d{8}_\d{6}\.pkl$",
                                                                       res.stdout_text.strip()) else res.stdout_text)
    res = ck.expect("versioned: compressed name", ["convert", rf, os.path.join(d, "model.pkl.gz"), "--versioned",
                                                   "--no-meta"], 0)
    path = res.stdout_text.strip()
    ok = re.search(r"/model_v11_\d{8}_\d{6}\.pkl\.gz$", path) and open(path, "rb").read(2) == b"\x1f\x8b"
    ck.check("versioned: .pkl.gz keeps its extension and compressor", None if ok else path)


# --------------------------------------------------------------- registry

def check_registry(ck, tmp, models):
    reg = os.path.join(tmp, "reg")
    R = ["registry", "--registry", reg]
    rf = os.path.join(tmp, "side-rf.pkl.joblib")  # has a sidecar (check_sidecars)
    dtr = [m for m in models if m[0] == "dtr.joblib"][0][1]
    etr = [m for m in models if m[0] == "etr_multi.pkl"][0][1]
    for k, f in enumerate((rf, dtr, etr)):
        res = ck.expect("registry: add v%d" % (k + 1), R + ["add", f, "iris"], 0, quiet=True)
        ck.check("registry: add prints NAME@N", None if res.stdout_text.strip() == "iris@%d" % (k + 1)
                 else res.stdout_text)
    res = ck.expect("registry: list NAME", R + ["list", "iris"], 0, quiet=True)
    lines = res.stdout_text.strip().split("\n")
    ck.check("registry: list NAME gives one line per version, starting with it",
             None if [l.split("\t")[0] for l in lines] == ["1", "2", "3"] else repr(lines))
    ck.check("registry: list NAME shows checksums", None if sha256(rf) in lines[0] else lines[0])
    res = ck.expect("registry: list", R + ["list"], 0, quiet=True)
    ck.check("registry: list names the model", None if res.stdout_text.startswith("iris\t") else res.stdout_text)
    res = ck.expect("registry: path (latest)", R + ["path", "iris"], 0, quiet=True)
    p = res.stdout_text.strip()
    ck.check("registry: path is the latest copy", None if os.path.isabs(p) and p.endswith("/iris/v3/etr_multi.pkl")
             and sha256(p) == sha256(etr) else p)
    res = ck.expect("registry: path @1", R + ["path", "iris@1"], 0, quiet=True)
    ck.check("registry: path @1", None if sha256(res.stdout_text.strip()) == sha256(rf) else res.stdout_text)
    res = ck.expect("registry: show @1", R + ["show", "iris@1"], 0, quiet=True)
    try:
        j = json.loads(res.stdout_text)
        bad = None if (j["version"], j["sha256"], j["estimator"], j["metadata"]["sha256"]) == (
            1, sha256(rf), "sklearn.ensemble._forest.RandomForestClassifier", sha256(rf)) else repr(j)[:400]
    except (ValueError, KeyError, TypeError) as e:
        bad = "%s: %s" % (type(e).__name__, e)
    ck.check("registry: show NAME@1 gives the version and its sidecar", bad)
    res = ck.expect("registry: show NAME", R + ["show", "iris"], 0, quiet=True)
    try:
        j = json.loads(res.stdout_text)
        bad = None if [v["version"] for v in j["versions"]] == [1, 2, 3] else repr(j)[:300]
    except (ValueError, KeyError, TypeError) as e:
        bad = str(e)
    ck.check("registry: show NAME lists the versions", bad)

    # stages
    ck.expect("registry: promote @1 production", R + ["promote", "iris@1", "production"], 0, quiet=True)
    ck.expect("registry: promote @3 production", R + ["promote", "iris@3", "production"], 0, quiet=True)
    ck.expect("registry: promote @2 staging", R + ["promote", "iris@2", "staging"], 0, quiet=True)
    ck.expect("registry: promote @v1 staging", R + ["promote", "iris@v1", "staging"], 0, quiet=True)

    def at(ref):
        r = ck.run(R + ["path", ref])
        m = re.search(r"/iris/v(\d+)/", r.stdout_text)
        return int(m.group(1)) if r.rc == 0 and m else None

    ck.check("registry: path @production", None if at("iris@production") == 3 else at("iris@production"))
    res = ck.expect("registry: list shows stages", R + ["list", "iris"], 0, quiet=True)
    stages = {l.split("\t")[0]: l.split("\t")[3] for l in res.stdout_text.strip().split("\n")}
    ck.check("registry: stage columns", None if stages == {"1": "staging", "2": "-", "3": "production"}
             else repr(stages))
    ck.expect("registry: rollback", R + ["rollback", "iris"], 0, quiet=True)
    ck.check("registry: rollback returns production to v1", None if at("iris@production") == 1 else
             at("iris@production"))
    ck.expect("registry: nothing left to roll back", R + ["rollback", "iris", "production"], 2, ["production"],
              one_line=True)
    ck.expect("registry: rollback staging", R + ["rollback", "iris", "staging"], 0, quiet=True)
    ck.check("registry: staging back to v2", None if at("iris@staging") == 2 else at("iris@staging"))
    ck.expect("registry: promote a missing version", R + ["promote", "iris@9", "production"], 2, ["9"],
              one_line=True)
    ck.expect("registry: unknown model", R + ["path", "nosuch"], 2, ["nosuch"], one_line=True)
    ck.expect("registry: unknown stage", R + ["path", "iris@canary"], 2, ["canary"], one_line=True)
    ck.expect("registry: bad stage name", R + ["promote", "iris@1", "v2"], 64, one_line=True)
    ck.expect("registry: unknown subcommand", R + ["frobnicate"], 64, one_line=True)
    ck.expect("registry: a name that would shadow the index", R + ["add", dtr, "index.json"], 64, one_line=True)
    ck.expect("registry: a name with a slash", R + ["add", dtr, "a/b"], 64, one_line=True)
    ck.expect("registry: no registry", ["registry", "--registry", os.path.join(tmp, "none"), "list"], 2,
              one_line=True)

    # what add refuses
    evil = os.path.join(tmp, "evil.pkl")
    with open(evil, "wb") as f:
        f.write(b"\x80\x04cos\nsystem\n\x8c\x04true\x85R.")
    ck.expect("registry: add refuses a file brine refuses", R + ["add", evil, "iris"], 2, ["os.system"],
              one_line=True)
    liar = os.path.join(tmp, "liar.pkl")
    with open(liar, "wb") as f:
        f.write(open(dtr, "rb").read())
    with open(liar + ".meta.json", "w") as f:
        json.dump({"sha256": "0" * 64}, f)
    ck.expect("registry: add refuses a sidecar that disagrees (exit 1)", R + ["add", liar, "iris"], 1, ["sha256"],
              one_line=True)
    res = ck.run(R + ["list", "iris"])
    ck.check("registry: refused adds add nothing", None if len(res.stdout_text.strip().split("\n")) == 3 else
             res.stdout_text)

    # verify
    res = ck.expect("registry: verify clean", R + ["verify"], 0, quiet=True)
    ck.check("registry: verify reports each version", None if res.stdout_text.count("ok iris@") == 3 else
             res.stdout_text)
    stored = ck.run(R + ["path", "iris@2"]).stdout_text.strip()
    data = bytearray(open(stored, "rb").read())
    data[len(data) // 2] ^= 1
    with open(stored, "wb") as f:
        f.write(data)
    ck.expect("registry: verify finds a changed byte (exit 1)", R + ["verify"], 1)
    ck.expect("registry: verify NAME@1 still passes", R + ["verify", "iris@1"], 0, quiet=True)
    os.unlink(ck.run(R + ["path", "iris@3"]).stdout_text.strip())
    ck.expect("registry: verify a missing file (exit 2)", R + ["verify", "iris@3"], 2)
    ck.expect("registry: a mismatch outranks a missing file", R + ["verify"], 1)


def check_concurrency(ck, tmp, models):
    reg = os.path.join(tmp, "conc")
    srcs = [m[1] for m in models if m[0] in ("rf.pkl", "dtr.joblib", "etc_bool.joblib")]
    per, procs = 20, 3
    printed = [[] for _ in range(procs)]
    failures = []

    def writer(k):
        # one shell per writer: a real process adding its versions one after another
        script = "for i in $(seq %d); do %s registry --registry %s add %s conc || exit 1; done" % (
            per, ck.brine, reg, srcs[k])
        p = subprocess.run(["/bin/sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=600)
        printed[k] = p.stdout.decode().split()
        if p.returncode:
            failures.append(p.stderr.decode()[:500])

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(procs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ck.check("concurrency: every add succeeded", "; ".join(failures) if failures else None)
    every = sorted(int(s.split("@")[1]) for p in printed for s in p)
    ck.check("concurrency: versions handed out are 1..%d, each once" % (per * procs),
             None if every == list(range(1, per * procs + 1)) else repr(every))
    res = ck.expect("concurrency: list", ["registry", "--registry", reg, "list", "conc"], 0, quiet=True)
    lines = res.stdout_text.strip().split("\n")
    ck.check("concurrency: the index lost nothing", None if [int(l.split("\t")[0]) for l in lines] ==
             list(range(1, per * procs + 1)) else "%d lines" % len(lines))
    # every version holds the file its writer added
    want = {}
    for k, p in enumerate(printed):
        for s in p:
            want[int(s.split("@")[1])] = sha256(srcs[k])
    wrong = [l.split("\t")[0] for l in lines if want.get(int(l.split("\t")[0])) != l.split("\t")[2]]
    ck.check("concurrency: each version has its writer's checksum", "versions %s" % wrong if wrong else None)
    ck.expect("concurrency: verify", ["registry", "--registry", reg, "verify"], 0, quiet=True)
    left = [n for n in os.listdir(reg) if ".tmp" in n]
    ck.check("concurrency: no temporaries left", repr(left) if left else None)

    # A writer that dies holding the lock: the kernel drops a flock with its holder.
    lock = os.path.join(reg, ".lock")
    holder = subprocess.Popen([sys.executable, "-c",
                               "import fcntl,sys,time\nf=open(sys.argv[1],'a')\nfcntl.flock(f,fcntl.LOCK_EX)\n"
                               "print('held',flush=True)\ntime.sleep(60)", lock], stdout=subprocess.PIPE)
    holder.stdout.readline()
    t0 = time.monotonic()
    adder = subprocess.Popen([ck.brine, "registry", "--registry", reg, "add", srcs[0], "conc"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    blocked = adder.poll() is None
    holder.kill()
    holder.wait()
    out, err = adder.communicate(timeout=60)
    ck.check("concurrency: add waits for the lock, then proceeds when its holder dies",
             None if blocked and adder.returncode == 0 and out.decode().strip() == "conc@%d" % (per * procs + 1)
             else "blocked=%s rc=%s out=%r err=%r (%.1f s)" % (blocked, adder.returncode, out, err,
                                                            time.monotonic() - t0))
    with open(lock) as f:  # and the lock is free again
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)

    # Writers killed (SIGKILL) at arbitrary moments leave a registry that
    # reads, verifies, and takes the next version.
    import random
    rnd = random.Random(6)
    for k in range(20):
        p = subprocess.Popen([ck.brine, "registry", "--registry", reg, "add", srcs[k % len(srcs)], "conc"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.0, 0.03))
        p.kill()
        p.wait()
    res = ck.expect("crash: the index still reads after killed writers", ["registry", "--registry", reg, "list",
                                                                          "conc"], 0, quiet=True)
    got = [int(l.split("\t")[0]) for l in res.stdout_text.strip().split("\n")]
    ck.check("crash: versions stay 1..N without gaps", None if got == list(range(1, len(got) + 1)) else repr(got))
    ck.expect("crash: every listed version verifies", ["registry", "--registry", reg, "verify", "conc"], 0,
              quiet=True)
    res = ck.expect("crash: the next add succeeds", ["registry", "--registry", reg, "add", srcs[0], "conc"], 0,
                    quiet=True)
    ck.check("crash: and takes the next number", None if res.stdout_text.strip() == "conc@%d" % (len(got) + 1)
             else res.stdout_text)


def main():
    common.require_packages(PREFIX)
    warnings.filterwarnings("ignore", message="Some inputs do not have OOB scores")
    args = common.parse_args(__doc__, extra=lambda p: p.add_argument("--wild", default=common.default_wild()))
    brine = common.find_brine(args.brine, PREFIX)
    summary = common.Summary(PREFIX, args.max_failures_shown)
    ck = Checker(brine, args, summary)
    version_line = ck.run(["--version"]).stdout_text.strip()
    with common.TempDir(args.keep, prefix="brine-lifecycle-") as tmp:
        models = make_models(tmp)
        check_inspect(ck, models)
        check_inspect_other(ck, tmp, args.wild)
        check_versions(ck, tmp, args.wild, models)
        check_sidecars(ck, tmp, models, version_line)
        check_versioned(ck, tmp, models)
        check_registry(ck, tmp, models)
        check_concurrency(ck, tmp, models)
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
