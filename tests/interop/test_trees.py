#!/usr/bin/python3
"""brine predict on the tree family against Debian's scikit-learn.

Part 1, fitted here: Debian's sklearn (1.2.1) fits DecisionTree*,
ExtraTree*, RandomForest* and ExtraTrees* classifiers and regressors with
varied hyperparameters (depth limits and none, leaf limits, class_weight,
criteria, pruning, bootstrap on and off), single- and multi-output, with
int, float, bool and str labels (str labels with commas, quotes and
non-ASCII), up to 20 classes (so numpy's 8-lane pairwise sum matters), and
feature_names_in_ (pandas is not in Debian's set, so the names are set on
the fitted estimator as an object array of str, which is what fitting on a
DataFrame leaves).  Each model is saved with pickle protocols 2-5 and joblib
uncompressed and with every compressor (round robin; two models in all 11
formats).  `brine predict` runs with every method the model has on:
  * .npy float64 C order, float32 Fortran order, int64, and a 1-D row;
  * CSV without a header, and with a header whose columns are shuffled
    (matched by name) or, for models without names, in order;
the rows are random plus values at, next to and between the float32
neighbours of every split threshold.  Outputs must equal sklearn's exactly:
labels as values and as text (ints as ints, floats as repr, str verbatim
with CSV quoting, bools as True/False), floats bit for bit; .npy outputs
also by dtype (str labels as a U array).  Error cases: NaN for these
(<= 1.2 layout) models, infinity, a non-numeric cell, wrong widths, a
missing or unknown header name, predict_proba on a regressor: exit 2 with
one stderr line naming the place; an unknown method: exit 64.

Part 2, the wild corpus (/work/shared/wild): every file whose root class is
one of the eight estimators.  Those files are untrusted and are never given
to a real unpickler with real classes beyond sklearn/numpy/joblib: first
`brine inspect --json` lists the globals and the file is used only if every
one is a numpy, joblib or sklearn name (or copyreg._reconstructor); then a
restricted joblib unpickler loads it with *stub* classes for every sklearn
name (the Tree stub only records its constructor arguments and state), so
nothing of sklearn runs.  A reference written here in numpy walks the node
arrays (float32 X, `<=` against the float64 threshold, NaN following
missing_go_to_left in >= 1.3 records), normalises counts as sklearn <= 1.3
does or takes stored fractions as >= 1.4.1 does, averages forests in list
order, and brine's predict, predict_proba and apply must equal it bit for
bit, NaN inputs included for >= 1.3 files.  Files whose layout Debian's
sklearn reads (<= 1.2, loadable) are also loaded with the real classes
(same restricted find_class) and compared with real sklearn.  An unfitted
estimator must be refused with exit 2 and "not fitted".

Usage: /usr/bin/python3 tests/interop/test_trees.py --brine build/brine
Last line: `interop-trees: P passed, F failed`.
"""

import copyreg
import csv
import io
import json
import math
import os
import pickle
import shutil
import struct
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "interop-trees"
common.require_packages(PREFIX)

import joblib  # noqa: E402
import joblib.numpy_pickle as jnp  # noqa: E402
import joblib.numpy_pickle_compat as jnpc  # noqa: E402
import numpy as np  # noqa: E402
import sklearn.ensemble as ens  # noqa: E402
import sklearn.tree as tree  # noqa: E402

warnings.simplefilter("ignore")

FORMATS = [("p2", "pickle", 2), ("p3", "pickle", 3), ("p4", "pickle", 4), ("p5", "pickle", 5),
           ("jl-none", "joblib", None), ("jl-zlib", "joblib", "zlib"), ("jl-gzip", "joblib", "gzip"),
           ("jl-bz2", "joblib", "bz2"), ("jl-xz", "joblib", "xz"), ("jl-lzma", "joblib", "lzma"),
           ("jl-lz4", "joblib", "lz4")]


# ------------------------------------------------------------------ data

def make_data(rng, kind, n=160, d=5):
    """X with ties, integer-valued and wide-range columns; y of the kind."""
    X = rng.normal(size=(n, d))
    X[:, 0] = np.round(X[:, 0], 1)
    X[:, 1] = rng.randint(0, 6, n)
    X[:, 2] *= 1000.0
    X[:, 3] = np.float32(X[:, 3]) * 1e-3
    score = X[:, 0] + 0.5 * X[:, 1] + 0.001 * X[:, 2] + rng.normal(scale=0.5, size=n)
    bins = lambda k: np.clip(((score - score.min()) / (np.ptp(score) + 1e-9) * k).astype(int), 0, k - 1)
    if kind == "int":
        y = np.array([-3, 0, 7, 12])[bins(4)]
    elif kind == "binary":
        y = np.array([0, 1])[bins(2)]
    elif kind == "float":
        y = np.array([-2.0, 1.0, 1e15])[bins(3)]
    elif kind == "bool":
        y = bins(2) == 1
    elif kind == "str":
        labels = np.array(["cat", "dog, big", 'say "hi"', "\u00fcn\u00efc\u00f6de"], dtype=object)
        y = labels[bins(4)]
    elif kind == "many":
        y = bins(20) * 3 + 1
    elif kind == "many12":
        y = bins(12)
    elif kind == "multi_int":
        y = np.stack([np.array([1, 2, 3])[bins(3)], (X[:, 1] > 2).astype(np.int64) * 5], axis=1)
    elif kind == "multi_str":
        a = np.array(["lo", "mid", "hi"], dtype=object)[bins(3)]
        b = np.where(X[:, 0] > 0, "pos", "neg").astype(object)
        y = np.stack([a, b], axis=1)
    elif kind == "reg":
        y = score * 3.7
    elif kind == "reg_pos":
        y = np.exp(score / 3)
    elif kind == "reg_multi":
        y = np.stack([score, score ** 2, -X[:, 2] / 7], axis=1)
    else:
        raise ValueError(kind)
    return X, y


NAMES = ["alpha", "b e t a", "gamma,3", "d\u00e9lta", "eps"]

# (name, estimator, data kind, with feature_names_in_)
MODELS = [
    ("dtc_depth3_int", tree.DecisionTreeClassifier(max_depth=3, random_state=0), "int", False),
    ("dtc_full_str", tree.DecisionTreeClassifier(random_state=1), "str", True),
    ("dtc_entropy_balanced_float", tree.DecisionTreeClassifier(criterion="entropy", class_weight="balanced",
                                                               min_samples_leaf=3, random_state=2), "float", False),
    ("dtc_leafnodes_bool", tree.DecisionTreeClassifier(max_leaf_nodes=7, random_state=3), "bool", False),
    ("dtc_multi_int", tree.DecisionTreeClassifier(max_depth=5, random_state=4), "multi_int", False),
    ("dtc_ccp_binary", tree.DecisionTreeClassifier(ccp_alpha=0.01, random_state=5), "binary", True),
    ("dtc_20_classes_weighted", tree.DecisionTreeClassifier(class_weight="balanced", max_depth=4, random_state=6),
     "many", False),
    ("etc_random", tree.ExtraTreeClassifier(random_state=7, max_features=2), "int", False),
    ("etc_multi_str", tree.ExtraTreeClassifier(random_state=8), "multi_str", True),
    ("dtr_depth4", tree.DecisionTreeRegressor(max_depth=4, random_state=9), "reg", False),
    ("dtr_mae", tree.DecisionTreeRegressor(criterion="absolute_error", max_depth=6, random_state=10), "reg", True),
    ("dtr_poisson", tree.DecisionTreeRegressor(criterion="poisson", min_samples_leaf=4, random_state=11), "reg_pos",
     False),
    ("dtr_multi_names", tree.DecisionTreeRegressor(random_state=12), "reg_multi", True),
    ("etr", tree.ExtraTreeRegressor(random_state=13), "reg", False),
    ("rfc_int", ens.RandomForestClassifier(n_estimators=7, random_state=0), "int", False),
    ("rfc_str_names_balanced", ens.RandomForestClassifier(n_estimators=5, max_depth=4,
                                                          class_weight="balanced_subsample", random_state=1),
     "str", True),
    ("rfc_multi_int", ens.RandomForestClassifier(n_estimators=4, random_state=2), "multi_int", False),
    ("rfc_bool_nobootstrap", ens.RandomForestClassifier(n_estimators=3, bootstrap=False, max_features=None,
                                                        random_state=3), "bool", False),
    ("rfc_12_classes", ens.RandomForestClassifier(n_estimators=3, max_depth=6, random_state=4), "many12", False),
    ("etsc_float", ens.ExtraTreesClassifier(n_estimators=6, max_depth=5, random_state=5), "float", False),
    ("etsc_multi_str", ens.ExtraTreesClassifier(n_estimators=3, random_state=6), "multi_str", True),
    ("rfr", ens.RandomForestRegressor(n_estimators=8, max_depth=6, random_state=7), "reg", False),
    ("rfr_multi_names", ens.RandomForestRegressor(n_estimators=4, random_state=8), "reg_multi", True),
    ("etsr", ens.ExtraTreesRegressor(n_estimators=5, min_samples_leaf=2, random_state=9), "reg", False),
    ("rfr_one_tree", ens.RandomForestRegressor(n_estimators=1, max_depth=3, random_state=10), "reg", False),
]
ALL_FORMAT_MODELS = ("dtc_full_str", "rfc_multi_int")


def thresholds_of(model):
    trees = model.estimators_ if hasattr(model, "estimators_") else [model]
    out = []
    for t in trees:
        tr = t.tree_
        for f, th in zip(tr.feature, tr.threshold):
            if f >= 0:
                out.append((int(f), float(th)))
    return out


def near(t):
    """Values at and around a threshold: its float64 neighbours, its float32
    rounding and neighbours, and the doubles halfway between float32s."""
    f = np.float32(t)
    up, down = np.nextafter(f, np.float32(np.inf)), np.nextafter(f, np.float32(-np.inf))
    return [t, math.nextafter(t, math.inf), math.nextafter(t, -math.inf), float(f), float(up), float(down),
            (float(f) + float(up)) / 2, (float(f) + float(down)) / 2,
            math.nextafter((float(f) + float(up)) / 2, math.inf)]


def test_rows(rng, model, d, n_random=30, n_near=50):
    X = rng.normal(size=(n_random + n_near, d))
    X[:, 2] *= 1000
    ths = thresholds_of(model)
    for i in range(n_random, n_random + n_near):
        for _ in range(3):
            f, t = ths[rng.randint(len(ths))]
            vals = near(t)
            X[i, f] = vals[rng.randint(len(vals))]
    return X


# ------------------------------------------------------------- writing

def save(model, path, fmt):
    _, kind, arg = fmt
    if kind == "pickle":
        with open(path, "wb") as f:
            pickle.dump(model, f, protocol=arg)
    elif arg is None:
        joblib.dump(model, path)
    else:
        joblib.dump(model, path, compress=(arg, 3))


def write_csv(path, X, header=None, order=None):
    order = list(range(X.shape[1])) if order is None else order
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        if header is not None:
            w.writerow([header[j] for j in order])
        for row in X:
            w.writerow([repr(float(row[j])) for j in order])


# ---------------------------------------------------------- comparison

def fbits(x):
    return struct.pack("<d", float(x))


def cell_matches(cell, want):
    """brine's CSV text for one value against sklearn's value."""
    if isinstance(want, (bool, np.bool_)):
        return cell == ("True" if want else "False")
    if isinstance(want, (int, np.integer)):
        return cell == str(int(want))
    if isinstance(want, (float, np.floating)):
        return cell == repr(float(want)) and fbits(float(cell)) == fbits(want)
    return cell == str(want)


def expected_table(out):
    """sklearn's output as rows of Python values (multi-output proba lists
    side by side, output 0 first)."""
    if isinstance(out, list):
        out = np.hstack(out)
    out = np.asarray(out)
    if out.ndim == 1:
        out = out[:, None]
    return [[v.item() if hasattr(v, "item") and out.dtype != object else v for v in row] for row in out]


def compare_csv(text, want):
    rows = list(csv.reader(io.StringIO(text)))
    table = expected_table(want)
    if len(rows) != len(table):
        return "got %d rows, expected %d" % (len(rows), len(table))
    for i, (got, exp) in enumerate(zip(rows, table)):
        if len(got) != len(exp):
            return "row %d: %d cells, expected %d" % (i, len(got), len(exp))
        for j, (g, e) in enumerate(zip(got, exp)):
            if not cell_matches(g, e):
                return "row %d col %d: got %r, expected %r" % (i, j, g, e)
    return None


def compare_npy(path, want, labels):
    got = np.load(path, allow_pickle=False)
    exp = np.hstack(want) if isinstance(want, list) else np.asarray(want)
    if got.shape != exp.shape:
        return "shape %s, expected %s" % (got.shape, exp.shape)
    if exp.dtype == object:
        if got.dtype.kind != "U":
            return "dtype %s, expected a U array for str labels" % got.dtype
        return None if got.tolist() == exp.tolist() else "labels differ"
    if got.dtype != exp.dtype:
        return "dtype %s, expected %s" % (got.dtype, exp.dtype)
    if exp.dtype.kind == "f":
        return None if got.tobytes() == exp.tobytes() else "float bits differ"
    return None if np.array_equal(got, exp) else "values differ"


# ------------------------------------------------------------ the cases

class Case:
    """One brine run and how to judge it."""

    def __init__(self, name, args, want=None, npy=None, error=None, exit_code=2):
        self.name, self.args, self.want, self.npy = name, args, want, npy
        self.error, self.exit_code = error, exit_code


def methods_of(model):
    out = ["predict", "apply"]
    if hasattr(model, "predict_proba"):
        out[1:1] = ["predict_proba", "predict_log_proba"]
    return out


def sk_output(model, method, X):
    return getattr(model, method)(X)


def fitted_cases(tmp, rng):
    cases = []
    for idx, (name, est, kind, named) in enumerate(MODELS):
        X, y = make_data(rng, kind)
        model = est.fit(X, y)
        if named:
            model.feature_names_in_ = np.array(NAMES, dtype=object)
        formats = FORMATS if name in ALL_FORMAT_MODELS else [FORMATS[idx % len(FORMATS)]]
        Xt = test_rows(rng, model, X.shape[1])
        d = X.shape[1]
        inputs = {}
        inputs["npy64"] = (os.path.join(tmp, name + ".x64.npy"), Xt)
        np.save(inputs["npy64"][0], Xt)
        X32 = np.asfortranarray(Xt.astype(np.float32))
        inputs["npy32f"] = (os.path.join(tmp, name + ".x32f.npy"), X32.astype(np.float64))
        np.save(inputs["npy32f"][0], X32)
        Xi = np.round(Xt).astype(np.int64)
        inputs["npyint"] = (os.path.join(tmp, name + ".xint.npy"), Xi.astype(np.float64))
        np.save(inputs["npyint"][0], Xi)
        inputs["npy1d"] = (os.path.join(tmp, name + ".x1d.npy"), Xt[:1])
        np.save(inputs["npy1d"][0], Xt[0])
        inputs["csv"] = (os.path.join(tmp, name + ".csv"), Xt)
        write_csv(inputs["csv"][0], Xt)
        order = list(rng.permutation(d))
        inputs["csvhdr"] = (os.path.join(tmp, name + ".hdr.csv"), Xt)
        write_csv(inputs["csvhdr"][0], Xt, NAMES if named else ["c%d" % j for j in range(d)],
                  order if named else None)
        for fmt in formats:
            path = os.path.join(tmp, "%s.%s.model" % (name, fmt[0]))
            save(model, path, fmt)
            tag = "%s/%s" % (name, fmt[0])
            full = fmt == formats[0]
            for method in methods_of(model):
                for key, (inp, Xin) in inputs.items():
                    if not full and key not in ("npy64", "csvhdr"):
                        continue
                    want = sk_output(model, method, Xin)
                    cases.append(Case("%s %s %s" % (tag, method, key), ["predict", path, inp, "--method", method],
                                      want=want))
                    if key == "npy64":
                        out = os.path.join(tmp, "%s.%s.%s.out.npy" % (name, fmt[0], method))
                        cases.append(Case("%s %s -o .npy" % (tag, method),
                                          ["predict", path, inp, "--method", method, "-o", out], want=want, npy=out))
            if full:
                cases.extend(error_cases(tmp, name, path, model, Xt, named))
    return cases


class Opaque:
    """A class only this script knows: brine must refuse it unless trusted."""


def trust_cases(tmp, rng):
    X, y = make_data(rng, "int")
    model = tree.DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    model.extra_ = Opaque()
    path = os.path.join(tmp, "trust.pkl")
    with open(path, "wb") as f:
        pickle.dump(model, f, protocol=4)
    Xt = test_rows(rng, model, X.shape[1], 10, 10)
    inp = os.path.join(tmp, "trust.npy")
    np.save(inp, Xt)
    return [Case("unknown global refused", ["predict", path, inp], error=["__main__.Opaque"]),
            Case("unknown global trusted", ["predict", path, inp, "--trust", "__main__:Opaque"],
                 want=model.predict(Xt))]


def error_cases(tmp, name, path, model, Xt, named):
    d = Xt.shape[1]
    out = []

    def csv_file(suffix, text):
        p = os.path.join(tmp, "%s.%s.csv" % (name, suffix))
        with open(p, "w", newline="") as f:
            f.write(text)
        return p

    rows = [",".join(repr(float(v)) for v in r) for r in Xt[:3]]
    nan_csv = csv_file("nan", "\n".join(rows[:1] + [",".join(["NA"] + rows[1].split(",")[1:])] + rows[2:]) + "\n")
    out.append(Case(name + " NaN refused", ["predict", path, nan_csv], error=["line 2, column 1", "missing"]))
    inf_csv = csv_file("inf", "\n".join(rows[:2] + [",".join(rows[2].split(",")[:-1] + ["1e39"])]) + "\n")
    out.append(Case(name + " 1e39 refused", ["predict", path, inf_csv], error=["line 3, column %d" % d, "float32"]))
    bad_csv = csv_file("word", "\n".join(rows[:1] + [",".join(["x"] + rows[1].split(",")[1:])]) + "\n")
    out.append(Case(name + " non-numeric cell", ["predict", path, bad_csv],
                    error=["line 2, column 1", "'x' is not a number"]))
    multiline = csv_file("multiline", "\n".join(rows[:1] + [",".join(['"x\ny"'] + rows[1].split(",")[1:])]) + "\n")
    out.append(Case(name + " non-numeric cell with a newline", ["predict", path, multiline],
                    error=["line 2, column 1", "'x\\x0ay' is not a number"]))
    wide = csv_file("wide", "\n".join(r + ",1.0" for r in rows) + "\n")
    out.append(Case(name + " wrong width", ["predict", path, wide], error=["%d columns" % (d + 1), "%d features" % d]))
    if named:
        hdr = NAMES[:-1] + ["zeta"]
        p = csv_file("unknown", ",".join('"%s"' % h if "," in h else h for h in hdr) + "\n" + "\n".join(rows) + "\n")
        out.append(Case(name + " unknown header name", ["predict", path, p], error=["'zeta'", "not a feature"]))
        hdr = NAMES[:-1]
        p = csv_file("missing", ",".join('"%s"' % h if "," in h else h for h in hdr) + "\n" +
                     "\n".join(",".join(r.split(",")[:-1]) for r in rows) + "\n")
        out.append(Case(name + " missing header name", ["predict", path, p], error=["lacks the feature 'eps'"]))
    if not hasattr(model, "predict_proba"):
        out.append(Case(name + " predict_proba of a regressor", ["predict", path, wide, "--method", "predict_proba"],
                        error=["no predict_proba"]))
    out.append(Case(name + " unknown method", ["predict", path, wide, "--method", "fly"],
                    error=["unknown method"], exit_code=64))
    out.append(Case(name + " a method trees lack", ["predict", path, wide, "--method", "transform"],
                    error=["has no transform"]))
    return out


# --------------------------------------------------------------- running

def judge(brine, case, timeout):
    res = common.run_brine(brine, case.args, timeout=timeout)
    crash = res.crash_reason()
    if crash:
        return crash + "\n" + res.describe()
    if case.error is not None:
        if res.rc != case.exit_code:
            return "exit %d, expected %d\n%s" % (res.rc, case.exit_code, res.describe())
        one = common.one_line_error(res)
        if one:
            return one + "\n" + res.describe()
        missing = [e for e in case.error if e not in res.stderr_text]
        return ("stderr lacks %r\n%s" % (missing, res.describe())) if missing else None
    if res.rc != 0:
        return "exit %d\n%s" % (res.rc, res.describe())
    if case.npy:
        return compare_npy(case.npy, case.want, True)
    return compare_csv(res.stdout_text, case.want)


# ------------------------------------------------------ the wild corpus

TREES = {"DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor"}
FORESTS = {"RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor"}
OLD_MODULES = {"sklearn.tree.tree": "sklearn.tree._classes", "sklearn.ensemble.forest": "sklearn.ensemble._forest"}
NUMPY_NAMES = {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"), ("numpy", "dtype"),
               ("numpy.core.multiarray", "scalar")}


def global_is_safe(module, name):
    if (module, name) == ("copyreg", "_reconstructor"):
        return True
    return module.startswith(("sklearn.", "numpy", "joblib."))


class Stub:
    """Stands in for every sklearn class: keeps the state, runs nothing."""

    def __setstate__(self, state):
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self._state = state


_stubs = {}


def stub_class(module, name):
    key = module + "." + name
    if key not in _stubs:
        _stubs[key] = type(name, (Stub,), {"full_name": key})
    return _stubs[key]


class TreeStub:
    """sklearn.tree._tree.Tree: its REDUCE arguments and BUILD state."""

    def __init__(self, *args):
        self.args = args

    def __setstate__(self, state):
        self.state = state


def _safe_nested(file_handle):
    return RestrictedNested(file_handle).load()


class SafeArrayWrapper(jnp.NumpyArrayWrapper):
    """joblib would unpickle object arrays with a plain pickle.load; this
    one uses the restricted unpickler."""

    def read_array(self, unpickler):
        if self.dtype.hasobject:
            return _safe_nested(unpickler.file_handle)
        return jnp.NumpyArrayWrapper.read_array(self, unpickler)


class SafeNDArrayWrapper(jnpc.NDArrayWrapper):
    """Legacy sidecar .npy files, read without allow_pickle."""

    def read(self, unpickler):
        return np.load(os.path.join(unpickler._dirname, self.filename), allow_pickle=False)


def restricted_class(module, name, real):
    if module.startswith("numpy._core"):
        module = "numpy.core" + module[len("numpy._core"):]
    if (module, name) in NUMPY_NAMES:
        return getattr(__import__(module, fromlist=[name]), name)
    if (module, name) == ("copyreg", "_reconstructor"):
        return copyreg._reconstructor
    if name == "NumpyArrayWrapper" and module.endswith("joblib.numpy_pickle"):
        return SafeArrayWrapper
    if name == "NDArrayWrapper" and "joblib.numpy_pickle" in module:
        return SafeNDArrayWrapper
    if module.startswith("sklearn."):
        if not real:
            return TreeStub if (module, name) == ("sklearn.tree._tree", "Tree") else stub_class(module, name)
        module = OLD_MODULES.get(module, module)
        return getattr(__import__(module, fromlist=[name]), name)
    raise pickle.UnpicklingError("refused global %s.%s" % (module, name))


class Restricted(jnp.NumpyUnpickler):
    real = False

    def find_class(self, module, name):
        return restricted_class(module, name, self.real)


class RestrictedNested(pickle._Unpickler):
    def find_class(self, module, name):
        return restricted_class(module, name, False)


def restricted_load(path, real):
    with open(path, "rb") as f:
        with jnp._read_fileobject(f, path, None) as fobj:
            if isinstance(fobj, str):
                raise pickle.UnpicklingError("joblib < 0.10 ZF container")
            u = Restricted(path, fobj)
            u.real = real
            return u.load()


def version_tuple(v):
    """(major, minor, patch, is_release) or None."""
    if not isinstance(v, str):
        return None
    parts, rest = [], v
    for _ in range(3):
        digits = ""
        while rest[:1].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        if not digits:
            break
        parts.append(int(digits))
        if rest[:1] != "." or not rest[1:2].isdigit():
            if rest[:1] == ".":
                rest = rest[1:]
            break
        rest = rest[1:]
    if len(parts) < 2:
        return None
    parts += [0] * (3 - len(parts))
    return tuple(parts) + (not rest or rest.startswith(("post", ".post", "+")),)


def stores_fractions(version, trees):
    """sklearn >= 1.4.1 stores class fractions, <= 1.3 weighted counts;
    1.4.0, 1.4 pre-releases and unknown versions are judged by the data."""
    v = version_tuple(version)
    if v and (v[:3] > (1, 4, 1) or (v[:3] == (1, 4, 1) and v[3])):
        return True
    if v and v[:2] != (1, 4):
        return False
    return all(np.all(np.abs(t.state["values"].sum(axis=2) - 1.0) <= 1e-9) for t in trees)


def ref_apply(t, X32):
    nodes = t.state["nodes"]
    left, right = nodes["left_child"].astype(np.int64), nodes["right_child"].astype(np.int64)
    feature, threshold = nodes["feature"].astype(np.int64), nodes["threshold"].astype(np.float64)
    mgl = nodes["missing_go_to_left"] if "missing_go_to_left" in nodes.dtype.names else None
    out = np.empty(len(X32), dtype=np.int64)
    for i, row in enumerate(X32):
        n = 0
        while left[n] != -1:
            v = row[feature[n]]
            if np.isnan(v):
                n = left[n] if (mgl is not None and mgl[n]) else right[n]
            else:
                n = left[n] if float(v) <= threshold[n] else right[n]
        out[i] = n
    return out


def ref_tree_proba(t, leaves, n_classes, fractions):
    value = t.state["values"][leaves]
    out = []
    for k, nc in enumerate(n_classes):
        p = value[:, k, :nc].copy()
        if not fractions:
            norm = p.sum(axis=1)[:, np.newaxis]
            norm[norm == 0.0] = 1.0
            p /= norm
        out.append(p)
    return out


def ref_predict(st, trees, classifier, method, X):
    """An independent evaluation of the node arrays (see the docstring)."""
    if method == "predict_log_proba":  # sklearn's np.log of predict_proba
        p = ref_predict(st, trees, classifier, "predict_proba", X)
        return [np.log(a) for a in p] if isinstance(p, list) else np.log(p)
    X32 = X.astype(np.float32)
    leaves = [ref_apply(t, X32) for t in trees]
    forest = "estimators_" in st
    if method == "apply":
        return np.stack(leaves, axis=1) if forest else leaves[0]
    n_outputs = int(st.get("n_outputs_") or 1)
    if not classifier:
        if forest:
            acc = np.zeros((len(X), n_outputs))
            for t, lv in zip(trees, leaves):
                acc += t.state["values"][lv][:, :, 0]
            acc /= len(trees)
        else:
            acc = trees[0].state["values"][leaves[0]][:, :, 0]
        return acc[:, 0] if n_outputs == 1 else acc
    n_classes = [int(c) for c in np.atleast_1d(st["n_classes_"])]
    classes = st["classes_"] if n_outputs > 1 else [st["classes_"]]
    fractions = stores_fractions(st.get("_sklearn_version"), trees)
    if forest:
        acc = [np.zeros((len(X), nc)) for nc in n_classes]
        for t, lv in zip(trees, leaves):
            for k, p in enumerate(ref_tree_proba(t, lv, n_classes, fractions)):
                acc[k] += p
        for a in acc:
            a /= len(trees)
        picks = [np.argmax(a, axis=1) for a in acc]
    else:
        acc = ref_tree_proba(trees[0], leaves[0], n_classes, fractions)
        raw = trees[0].state["values"][leaves[0]]
        picks = [np.argmax(raw[:, k, :], axis=1) for k in range(n_outputs)]
    if method == "predict_proba":
        return acc[0] if n_outputs == 1 else acc
    labels = [np.asarray(c).take(p, axis=0) for c, p in zip(classes, picks)]
    return labels[0] if n_outputs == 1 else np.stack(labels, axis=1).astype(np.asarray(classes[0]).dtype)


def manifest_rows(wild):
    with open(os.path.join(wild, "MANIFEST.tsv"), newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def assemble(row, wild, tmp):
    src = os.path.join(wild, row["file"])
    if "JOBLIB_MULTIFILE" not in row["flags"]:
        return src
    d = os.path.join(tmp, "wild-" + row["id"])
    os.makedirs(d, exist_ok=True)
    dst = os.path.join(d, os.path.basename(row["path_in_repo"]))
    shutil.copy(src, dst)
    side = src + ".sidecars"
    for name in os.listdir(side):
        shutil.copy(os.path.join(side, name), os.path.join(d, name))
    return dst


def wild_inputs(rng, trees, d, with_nan):
    ths = []
    for t in trees:
        nodes = t.state["nodes"]
        ths += [(int(f), float(th)) for f, th in zip(nodes["feature"], nodes["threshold"]) if f >= 0]
    X = rng.normal(size=(60, d)) * 10
    by_feature = {}
    for f, th in ths:
        by_feature.setdefault(f, []).append(th)
    for i in range(60):
        for f, lst in by_feature.items():
            vals = near(lst[rng.randint(len(lst))])
            X[i, f] = vals[rng.randint(len(vals))]
    if with_nan:
        X[rng.rand(*X.shape) < 0.2] = np.nan
    return X


def wild_file_cases(brine, row, wild, tmp, rng, timeout):
    """Cases for one wild file, or a failure description."""
    path = assemble(row, wild, tmp)
    tag = "wild %s" % row["id"]
    res = common.run_brine(brine, ["inspect", path, "--json"], timeout=timeout)
    if res.rc != 0:
        return None, "brine inspect --json failed\n" + res.describe()
    globs = [(g["module"], g["name"]) for g in json.loads(res.stdout_text)["globals"]]
    unsafe = ["%s.%s" % g for g in globs if not global_is_safe(*g)]
    if unsafe:
        return None, "globals outside sklearn/numpy/joblib: %s" % unsafe
    root = restricted_load(path, real=False)
    st = root.__dict__
    short = type(root).__name__
    classifier = short.endswith("Classifier")
    forest = short in FORESTS
    trees = [e.__dict__.get("tree_") for e in st.get("estimators_", [])] if forest else [st.get("tree_")]
    if not trees or any(not isinstance(t, TreeStub) for t in trees):
        return [Case(tag + " unfitted refused", ["predict", path, os.devnull], error=["not fitted"])], None
    d = int(st.get("n_features_in_") or st.get("n_features_") or trees[0].args[0])
    has_missing = all("missing_go_to_left" in t.state["nodes"].dtype.names for t in trees)
    real = None
    if not has_missing:
        try:
            real = restricted_load(path, real=True)
        except Exception:
            real = None  # e.g. pre-0.18 trees lack keys 1.2.1's Tree needs
    cases = []
    inputs = [("npy", wild_inputs(rng, trees, d, False))]
    if has_missing:
        inputs.append(("npy-nan", wild_inputs(rng, trees, d, True)))
    methods = ["predict", "predict_proba", "apply"] if classifier else ["predict", "apply"]
    for key, X in inputs:
        inp = os.path.join(tmp, "wild-%s.%s.npy" % (row["id"], key))
        np.save(inp, X)
        csv_inp = None
        if d <= 64:
            csv_inp = os.path.join(tmp, "wild-%s.%s.csv" % (row["id"], key))
            write_csv(csv_inp, X)
        for method in methods:
            want = ref_predict(st, trees, classifier, method, X)
            cases.append(Case("%s %s %s (reference)" % (tag, method, key), ["predict", path, inp, "--method", method],
                              want=want))
            if csv_inp:
                cases.append(Case("%s %s %s csv" % (tag, method, key), ["predict", path, csv_inp, "--method", method],
                                  want=want))
            if real is not None:
                cases.append(Case("%s %s %s (sklearn %s)" % (tag, method, key, row["sklearn_version"]),
                                  ["predict", path, inp, "--method", method], want=getattr(real, method)(X)))
    if not has_missing:
        X = wild_inputs(rng, trees, d, True)
        inp = os.path.join(tmp, "wild-%s.nan.npy" % row["id"])
        np.save(inp, X)
        cases.append(Case(tag + " NaN refused (<= 1.2 layout)", ["predict", path, inp], error=["is a missing value"]))
    return cases, None


def wild_cases(brine, wild, tmp, rng, timeout):
    if not os.path.isfile(os.path.join(wild, "MANIFEST.tsv")):
        return [], [("wild corpus", "no MANIFEST.tsv in %s" % wild)]
    rows = [r for r in manifest_rows(wild) if r["top_class"].rsplit(".", 1)[-1] in TREES | FORESTS]
    if not rows:
        return [], [("wild corpus", "no tree or forest files listed in %s" % wild)]
    cases, failures = [], []
    for row in rows:
        try:
            got, problem = wild_file_cases(brine, row, wild, tmp, rng, timeout)
        except Exception as e:  # a reference that cannot be built is a failure, not a skip
            got, problem = None, "%s: %s" % (type(e).__name__, e)
        if problem:
            failures.append(("wild %s (%s)" % (row["id"], row["top_class"]), problem))
        else:
            cases += got
    print("wild: %d tree/forest files, %d cases" % (len(rows), len(cases)))
    return cases, failures


# ------------------------------------------------------------------ main

def main():
    args = common.parse_args("brine predict on trees and forests against sklearn",
                             extra=lambda p: p.add_argument("--wild", default=common.default_wild()))
    brine = common.find_brine(args.brine, PREFIX)
    summary = common.Summary(PREFIX, args.max_failures_shown)
    rng = np.random.RandomState(20240611)
    with common.TempDir(args.keep) as tmp:
        cases = fitted_cases(tmp, rng) + trust_cases(tmp, rng)
        print("fitted: %d models, %d cases" % (len(MODELS), len(cases)))
        wcases, wfailures = wild_cases(brine, args.wild, tmp, rng, args.timeout)
        for name, detail in wfailures:
            summary.fail(name, detail)

        def run(case):
            problem = judge(brine, case, args.timeout)
            if problem:
                summary.fail(case.name, problem)
            else:
                summary.ok()

        common.run_parallel(run, cases + wcases, args.jobs)
    sys.exit(summary.finish())


if __name__ == "__main__":
    main()
