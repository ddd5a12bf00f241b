#!/usr/bin/python3
"""brine writing trees and forests back as a chosen sklearn version.

Part 1, sklearn 1.2.1 itself.  Debian's sklearn fits all eight tree-family
estimators (single- and multi-output; int, float, bool and str labels; one
fitted on named columns through a stand-in DataFrame, so feature_names_in_
sits where fitting puts it; oob_score, class_weight, a RandomState as
random_state), saves each with pickle protocols 2-5 and joblib uncompressed
and with every compressor.  brine converts each source, with
`--sklearn-version 1.2.1` and without, to pickle 2-5 and joblib with every
compressor (one model through the whole matrix, the others through two
targets per source, rotating).  Python loads brine's file and predict,
predict_proba and apply must be bit-identical to the original, get_params()
equal, the state dict keys the original's in the original's order, and the
whole estimator deep-equal to the source (common.deep_compare).  brine's own
predictions on the source are checked against sklearn too.

Part 2, newer files down to 1.2.1.  The wild tree and forest files
(/work/shared/wild: never unpickled here except brine's rewrite, whose
globals are checked first and loaded through the restricted unpickler of
test_trees.py) are converted with --sklearn-version 1.2.1; sklearn 1.2.1
loads the result and must predict exactly what brine predicts on the
original, and what the independent numpy evaluation of test_trees.py
predicts.  predict and apply must be exact; predict_proba too, except on
rows that reach a leaf whose >= 1.4 fractions no table of counts reproduces
bit for bit in 1.2.1 (class-weighted fits; the leaves are found here
independently) -- there it must agree within 4 ulp.

Part 3, each newer verified layout, field by field.  For every (class,
version) brine claims beyond 1.2.1, a real file of that version is the
reference: the wild file's own estimator is rewritten by brine in its own
version and must come back identical (keys, order, values, dtypes); and a
model fitted here with the reference's parameters is converted to that
version and compared with the reference through `brine inspect --json` of
both: keys and order, value kinds, dtypes (the node records' field names,
offsets and itemsize included), estimator_params, the template's identity
and the _sklearn_version.  Classifier values must be fractions (>= 1.4), and
missing_go_to_left must follow the rule brine writes (the child with more
samples), which the reference files must obey as well.  Only _n_samples and
_n_samples_bootstrap may be missing from brine's file (a 1.2.1 model cannot
know the training-set size).

Part 4, the contract.  Asking for any other version is refused with exit 2
and one stderr line listing exactly the versions verified here for that
class; --sklearn-version on a non-estimator root or an unfitted estimator
exits 2; converting an old file says on stderr which layout it wrote.

Finally docs/SUPPORT.md is generated from the checks that passed
(support_doc.py); the test fails when the committed file differs
(`--write-support` rewrites it).

Usage: /usr/bin/python3 tests/interop/test_tree_save.py --brine build/brine
Last line: `interop-tree-save: P passed, F failed`.
"""

import ast
import json
import os
import pickle
import sys
import traceback
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFIX = "interop-tree-save"
common.require_packages(PREFIX)

import joblib  # noqa: E402
import joblib.numpy_pickle_utils as jl_utils  # noqa: E402
import numpy as np  # noqa: E402
import sklearn.ensemble as ens  # noqa: E402
import sklearn.tree as tree  # noqa: E402

import support_doc  # noqa: E402
import test_trees as tt  # noqa: E402

warnings.simplefilter("ignore")

CLASSES = {c.__name__: c for c in (tree.DecisionTreeClassifier, tree.DecisionTreeRegressor,
                                   tree.ExtraTreeClassifier, tree.ExtraTreeRegressor,
                                   ens.RandomForestClassifier, ens.RandomForestRegressor,
                                   ens.ExtraTreesClassifier, ens.ExtraTreesRegressor)}

# What this test verifies, and so what brine may claim: class -> versions.
# 1.2.1 by Part 1; the others by the REFERENCES of Part 3.
EXPECTED = {
    "DecisionTreeClassifier": ["1.2.1", "1.8.0"],
    "DecisionTreeRegressor": ["1.2.1", "1.5.1", "1.6.1"],
    "ExtraTreeClassifier": ["1.2.1", "1.7.2"],
    "ExtraTreeRegressor": ["1.2.1"],
    "RandomForestClassifier": ["1.2.1", "1.8.0"],
    "RandomForestRegressor": ["1.2.1", "1.5.1"],
    "ExtraTreesClassifier": ["1.2.1", "1.7.2"],
    "ExtraTreesRegressor": ["1.2.1"],
}

# (class, version) -> (wild id, path to the reference estimator inside it).
REFERENCES = {
    ("RandomForestRegressor", "1.5.1"): ("059", []),
    ("DecisionTreeRegressor", "1.5.1"): ("059", ["estimators_", 0]),
    ("DecisionTreeRegressor", "1.6.1"): ("067", ["estimators_", 0]),
    ("ExtraTreesClassifier", "1.7.2"): ("072", []),
    ("ExtraTreeClassifier", "1.7.2"): ("072", ["estimators_", 0]),
    ("RandomForestClassifier", "1.8.0"): ("088", []),
    ("DecisionTreeClassifier", "1.8.0"): ("082", ["estimators_", 0]),
}

FORMATS = tt.FORMATS  # the 11 source formats, shared with test_trees.py
TARGETS = [("p%d" % p, "pickle", ["--format", "pickle", "--protocol", str(p)], p) for p in (2, 3, 4, 5)] + \
          [("jl-none", "joblib", ["--format", "joblib"], "not-compressed")] + \
          [("jl-" + c, "joblib", ["--compress", c], c) for c in ("zlib", "gzip", "bz2", "xz", "lzma", "lz4")]
VERSIONS = [("1.2.1", ["--sklearn-version", "1.2.1"]), ("default", [])]
NEW_ONLY = {"_n_samples", "_n_samples_bootstrap"}  # what a 1.2.1 model cannot know


class FakeFrame:
    """Enough of a pandas DataFrame (not in Debian's set) for sklearn's fit
    to record feature_names_in_ where a real DataFrame makes it."""

    def __init__(self, X, names):
        self.X = X
        self.columns = np.array(names, dtype=object)

    def __array__(self, dtype=None):
        return self.X if dtype is None else self.X.astype(dtype)

    @property
    def shape(self):
        return self.X.shape

    def __len__(self):
        return len(self.X)


# (name, estimator, data kind, fitted on named columns)
MODELS = [
    ("dtc_int", tree.DecisionTreeClassifier(max_depth=5, random_state=0), "int", False),
    ("dtc_str_names", tree.DecisionTreeClassifier(class_weight="balanced", random_state=1), "str", True),
    ("dtc_multi_int", tree.DecisionTreeClassifier(random_state=2), "multi_int", False),
    ("dtc_float_entropy", tree.DecisionTreeClassifier(criterion="entropy", random_state=3), "float", False),
    ("dtc_numpy_str", tree.DecisionTreeClassifier(max_depth=4, random_state=18), "str:U", False),
    ("etc_bool", tree.ExtraTreeClassifier(random_state=4), "bool", False),
    ("etc_multi_str", tree.ExtraTreeClassifier(random_state=5), "multi_str", True),
    ("dtr_names", tree.DecisionTreeRegressor(max_depth=6, random_state=6), "reg", True),
    ("dtr_multi_mae", tree.DecisionTreeRegressor(criterion="absolute_error", random_state=7), "reg_multi", False),
    ("etr_names", tree.ExtraTreeRegressor(random_state=8), "reg", True),
    ("rfc_int_oob", ens.RandomForestClassifier(n_estimators=6, oob_score=True, random_state=9), "int", False),
    ("rfc_multi_str_rs", ens.RandomForestClassifier(n_estimators=4, random_state=np.random.RandomState(10)),
     "multi_str", True),
    ("rfc_int32_labels", ens.RandomForestClassifier(n_estimators=3, random_state=19), "int:int32", False),
    ("rfc_float_balanced", ens.RandomForestClassifier(n_estimators=5, class_weight="balanced_subsample",
                                                      max_depth=5, random_state=11), "float", False),
    ("etsc_12_names", ens.ExtraTreesClassifier(n_estimators=5, random_state=12), "many12", True),
    ("etsc_oob_bootstrap", ens.ExtraTreesClassifier(n_estimators=3, bootstrap=True, oob_score=True,
                                                    max_samples=0.7, random_state=13), "int", False),
    ("etsc_multi", ens.ExtraTreesClassifier(n_estimators=3, random_state=17), "multi_int", False),
    ("rfr_oob_names", ens.RandomForestRegressor(n_estimators=5, oob_score=True, random_state=14), "reg", True),
    ("rfr_multi", ens.RandomForestRegressor(n_estimators=4, max_features=0.5, random_state=15), "reg_multi", False),
    ("etsr_poisson_oob_names", ens.ExtraTreesRegressor(n_estimators=4, criterion="poisson", min_samples_leaf=3,
                                                       bootstrap=True, oob_score=True, random_state=16),
     "reg_pos", True),
]
FULL_MATRIX = "rfc_multi_str_rs"


# ------------------------------------------------------------- helpers

def methods(model):
    return tt.methods_of(model)


def outputs(model, X):
    return {m: getattr(model, m)(X) for m in methods(model)}


def state_keys(obj):
    return list(obj.__getstate__().keys())


def fit(name, est, kind, named, rng):
    """kind is a test_trees.make_data kind, optionally ':DTYPE' to recast
    the labels (numpy str 'U', int32, ...)."""
    base, _, cast = kind.partition(":")
    X, y = tt.make_data(rng, base)
    if cast:
        y = y.astype(cast)
    model = est.fit(FakeFrame(X, tt.NAMES) if named else X, y)
    return model, X


def load_output(path, kind):
    if kind == "pickle":
        with open(path, "rb") as f:
            return pickle.load(f)
    return joblib.load(path)


def target_check(path, tkind, tparam):
    """None if the file is the requested container, else why not."""
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if tkind == "pickle":
            return None if head == b"\x80" + bytes([tparam]) else "does not start with PROTO %d: %r" % (tparam, head)
        detected = jl_utils._detect_compressor(f)
    return None if detected == tparam else "joblib detects compressor %r, wanted %r" % (detected, tparam)


def brine_json(brine, path, timeout, depth=16, items=40):
    res = common.run_brine(brine, ["inspect", path, "--json", "--depth", str(depth), "--items", str(items)],
                           timeout=timeout)
    if res.rc != 0:
        raise RuntimeError("brine inspect --json %s failed\n%s" % (path, res.describe()))
    return json.loads(res.stdout_text)


class Facts:
    """What passed, for docs/SUPPORT.md: (estimator, method, version) -> set of evidence labels."""

    def __init__(self):
        self.read = {}
        self.write = {}
        self.notes = []
        self.features = {}  # class -> what its 1.2.1 models covered

    def add_read(self, cls, method, version, how):
        self.read.setdefault((cls, method, version), set()).add(how)

    def add_write(self, cls, version, how):
        self.write.setdefault((cls, version), set()).add(how)


# ------------------------------------------------ part 1: sklearn 1.2.1

def schedule(idx, name):
    """(source index, target index, version index) triples for one model."""
    if name == FULL_MATRIX:
        return [(s, t, v) for s in range(len(FORMATS)) for t in range(len(TARGETS)) for v in range(len(VERSIONS))]
    out = []
    for s in range(len(FORMATS)):
        out.append((s, (idx + s) % len(TARGETS), (idx + s) % 2))
        out.append((s, (idx + s + 5) % len(TARGETS), (idx + s + 1) % 2))
    return out


def part1(brine, args, tmp, rng, summary, facts):
    models = {}
    cases = []
    for idx, (name, est, kind, named) in enumerate(MODELS):
        model, X = fit(name, est, kind, named, rng)
        Xt = tt.test_rows(rng, model, X.shape[1])
        srcs = []
        for fmt in FORMATS:
            path = os.path.join(tmp, "%s.%s.src" % (name, fmt[0]))
            tt.save(model, path, fmt)
            srcs.append(path)
        back = [load_output(p, "pickle" if f[1] == "pickle" else "joblib") for p, f in zip(srcs, FORMATS)]
        models[name] = {"model": model, "X": Xt, "srcs": srcs, "back": back, "ref": outputs(model, Xt),
                        "params": model.get_params(deep=True), "keys": state_keys(model),
                        "features": features(model, kind, named)}
        cases += [(name, s, t, v) for s, t, v in schedule(idx, name)]
    print("part 1: %d models, %d conversions" % (len(models), len(cases)))
    brine_predicts_sources(brine, args, tmp, models, summary, facts)

    def check(case):
        name, s, t, v = case
        info = models[name]
        tname, tkind, targs, tparam = TARGETS[t]
        out = os.path.join(tmp, "%s.%s.%s.%s.out" % (name, FORMATS[s][0], tname, VERSIONS[v][0]))
        res = common.run_brine(brine, ["convert", info["srcs"][s], out] + targs + VERSIONS[v][1],
                               timeout=args.timeout)
        try:
            if res.crash_reason() or res.rc != 0:
                return "  brine %s\n%s" % (res.crash_reason() or "failed", res.describe())
            if res.stderr_text.strip():
                return "  unexpected stderr for a verified version\n%s" % res.describe()
            bad = target_check(out, tkind, tparam)
            if bad:
                return "  %s\n%s" % (bad, res.describe())
            got = load_output(out, tkind)
            return compare_model(info, got, s, tkind) or None
        except Exception as e:
            return "  %s: %s\n%s" % (type(e).__name__, str(e)[:800], res.describe())
        finally:
            if not args.keep and os.path.exists(out):
                os.unlink(out)

    failed_models = set()

    def on_result(case, msg):
        label = "%s/%s->%s/%s" % (case[0], FORMATS[case[1]][0], TARGETS[case[2]][0], VERSIONS[case[3]][0])
        if msg:
            failed_models.add(case[0])
            summary.fail(label, msg)
        else:
            summary.ok()

    def on_crash(case, reason):
        on_result(case, "  " + reason)

    common.run_forked(cases, check, args.jobs, on_result, on_crash,
                      common.progress_printer("part 1", len(cases), 0.25), task_timeout=4 * args.timeout + 120)
    by_class = {}
    for name, info in models.items():
        by_class.setdefault(type(info["model"]).__name__, []).append(name)
    for cls, names in sorted(by_class.items()):
        if not failed_models & set(names):
            facts.add_write(cls, "1.2.1", "sklearn")
            for name in names:
                facts.features.setdefault(cls, set()).update(models[name]["features"])


def features(model, kind, named):
    """What a fitted model exercises, for docs/SUPPORT.md."""
    out = {"multi-output" if getattr(model, "n_outputs_", 1) > 1 else "single-output"}
    if kind.startswith("reg"):
        pass
    elif "str" in kind:
        out.add("str labels")
    elif kind in ("float", "bool"):
        out.add(kind + " labels")
    else:
        out.add("int labels")
    if named:
        out.add("named columns")
    if hasattr(model, "oob_score_"):
        out.add("oob")
    return out


def compare_model(info, got, s, tkind):
    model = info["model"]
    if type(got) is not type(model):
        return "  loaded a %s, expected %s" % (type(got).__name__, type(model).__name__)
    d = common.deep_compare(info["ref"], outputs(got, info["X"]))
    if d:
        return "  predictions differ: " + d
    d = common.deep_compare(info["params"], got.get_params(deep=True))
    if d:
        return "  get_params() differs: " + d
    if state_keys(got) != info["keys"]:
        return "  state keys %s, expected %s" % (state_keys(got), info["keys"])
    d = common.deep_compare(info["back"][s], got, array_identity=(tkind == "pickle"))
    return ("  estimator state differs: " + d) if d else None


def brine_predicts_sources(brine, args, tmp, models, summary, facts):
    """brine predict on each model's pickle-4 source against sklearn."""
    for name, info in models.items():
        model = info["model"]
        inp = os.path.join(tmp, name + ".x.npy")
        np.save(inp, info["X"])
        for method in methods(model):
            out = os.path.join(tmp, "%s.%s.pred.npy" % (name, method))
            case = tt.Case("%s brine predict %s" % (name, method),
                           ["predict", info["srcs"][2], inp, "--method", method, "-o", out],
                           want=info["ref"][method], npy=out)
            problem = tt.judge(brine, case, args.timeout)
            if problem:
                summary.fail(case.name, "  " + problem)
            else:
                summary.ok()
                facts.add_read(type(model).__name__, method, "1.2.1", "sklearn")


# ------------------------------------------- part 2: newer files to 1.2.1

WILD_TREES = ("002", "033", "059", "072", "088")


def frac_bits_ok(v, f):
    """sklearn <= 1.3 reading counts v gives fractions f exactly (the rule
    brine's conversion aims for, re-derived here)."""
    s = v.sum()
    s = 1.0 if s == 0 else s
    return np.array_equal((v / s).view(np.uint64), f.view(np.uint64))


def inexact_leaves(orig_trees, conv_model, n_classes):
    """{tree index: set of leaves} whose converted counts do not divide back
    to the original fractions bit for bit."""
    conv = conv_model.estimators_ if hasattr(conv_model, "estimators_") else [conv_model]
    out = {}
    for j, (t, c) in enumerate(zip(orig_trees, conv)):
        vals, cv = t.state["values"], c.tree_.value
        left = t.state["nodes"]["left_child"]
        for i in np.nonzero(left == -1)[0]:
            for k, nc in enumerate(n_classes):
                if not frac_bits_ok(cv[i, k, :nc], vals[i, k, :nc]):
                    out.setdefault(j, set()).add(int(i))
    return out


def ulps(a, b):
    ia = np.asarray(a, dtype=np.float64).view(np.int64)
    ib = np.asarray(b, dtype=np.float64).view(np.int64)
    return np.abs(ia - ib)


def brine_predict(brine, path, inp, method, out, timeout):
    res = common.run_brine(brine, ["predict", path, inp, "--method", method, "-o", out], timeout=timeout)
    if res.rc != 0:
        raise RuntimeError("brine predict failed\n" + res.describe())
    return np.load(out, allow_pickle=False)


def same_labels(b, p):
    p = np.asarray(p)
    if p.dtype == object:
        return b.tolist() == p.tolist()
    return b.dtype == p.dtype and np.array_equal(b, p)


def wild_down(brine, args, tmp, rng, rows, summary, facts):
    for row in rows:
        fid = row["id"]
        tag = "wild %s -> 1.2.1" % fid
        try:
            problems = wild_one(brine, args, tmp, rng, row, facts)
        except Exception as e:
            problems = ["%s: %s" % (type(e).__name__, e)]
        if problems:
            summary.fail(tag, "\n".join("  " + p for p in problems))
        else:
            summary.ok()


def wild_one(brine, args, tmp, rng, row, facts):
    path = tt.assemble(row, args.wild, tmp)
    fid, version = row["id"], row["sklearn_version"]
    out = os.path.join(tmp, "wild-%s.121.pkl" % fid)
    res = common.run_brine(brine, ["convert", path, out, "--sklearn-version", "1.2.1"], timeout=args.timeout)
    if res.rc != 0:
        return ["brine convert --sklearn-version 1.2.1 failed\n" + res.describe()]
    globs = [(g["module"], g["name"]) for g in brine_json(brine, out, args.timeout, 2, 2)["globals"]]
    unsafe = ["%s.%s" % g for g in globs if not tt.global_is_safe(*g)]
    if unsafe:
        return ["brine's rewrite names globals outside sklearn/numpy: %s" % unsafe]
    conv = tt.restricted_load(out, real=True)
    stub = tt.restricted_load(path, real=False)
    st = stub.__dict__
    cls = type(stub).__name__
    forest = cls in tt.FORESTS
    trees = [e.__dict__["tree_"] for e in st["estimators_"]] if forest else [st["tree_"]]
    d = conv.n_features_in_
    X = tt.wild_inputs(np.random.RandomState(int(fid)), trees, d, False)  # per file, so docs stay put
    inp = os.path.join(tmp, "wild-%s.x.npy" % fid)
    np.save(inp, X)
    classifier = cls.endswith("Classifier")
    n_classes = [int(c) for c in np.atleast_1d(st["n_classes_"])] if classifier else []
    fractions = classifier and tt.stores_fractions(st.get("_sklearn_version"), trees)
    loose = inexact_leaves(trees, conv, n_classes) if fractions else {}
    problems = []
    shown = version if version != "none" else "before 0.18"
    for method in methods(conv):
        b = brine_predict(brine, path, inp, method, os.path.join(tmp, "wild-%s.%s.npy" % (fid, method)), args.timeout)
        p = getattr(conv, method)(X)
        ref = tt.ref_predict(st, trees, classifier, method, X)
        if method == "predict_proba":
            ok, note = proba_agrees(b, p, ref, loose, trees, X)
            if note:
                facts.notes.append("wild %s (%s %s): %s" % (fid, cls, shown, note))
        elif method == "predict_log_proba":
            ok = log_proba_agrees(b, p, ref, loose, trees, X)
        else:
            ok = same_labels(b, p) and same_labels(b, np.asarray(ref))
        if not ok:
            problems.append("%s: brine on the original, sklearn 1.2.1 on brine's rewrite and the reference "
                            "evaluation disagree" % method)
            continue
        facts.add_read(cls, method, shown, "wild " + fid)
    if not problems:
        facts.add_write(cls, "1.2.1", "wild %s rewritten" % fid)
    return problems


def log_proba_agrees(b, p, ref, loose, trees, X):
    """predict_log_proba of brine (original) = np.log of the numpy reference
    exactly, and = sklearn 1.2.1 (rewrite) exactly except on rows reaching a
    leaf counted in `loose` (see proba_agrees), where the logs of
    probabilities 4 ulp apart may differ by 1e-15 absolutely."""
    b = np.asarray(b)
    exp = np.hstack(ref) if isinstance(ref, list) else np.asarray(ref)
    got = np.hstack(p) if isinstance(p, list) else np.asarray(p)
    if b.shape != got.shape or b.tobytes() != exp.tobytes():
        return False
    X32 = X.astype(np.float32)
    lax = np.zeros(len(X), dtype=bool)
    for j, leaves in loose.items():
        lax |= np.isin(tt.ref_apply(trees[j], X32), list(leaves))
    same = (b.view(np.uint64) == got.view(np.uint64)).all(axis=1)
    close = np.isclose(b, got, rtol=0, atol=1e-15).all(axis=1) | same
    return bool((same | lax).all() and close.all())


def proba_agrees(b, p, ref, loose, trees, X):
    """predict_proba of brine (original) = numpy reference exactly, and =
    sklearn 1.2.1 (rewrite) exactly except on rows reaching a leaf counted
    in `loose`, where 4 ulp are allowed.  Returns (ok, note)."""
    b = np.asarray(b)
    exp = np.hstack(ref) if isinstance(ref, list) else np.asarray(ref)
    got = np.hstack(p) if isinstance(p, list) else np.asarray(p)
    if b.shape != got.shape or b.tobytes() != exp.tobytes():
        return False, None
    X32 = X.astype(np.float32)
    lax = np.zeros(len(X), dtype=bool)
    for j, leaves in loose.items():
        lax |= np.isin(tt.ref_apply(trees[j], X32), list(leaves))
    diff = (b.view(np.uint64) != got.view(np.uint64)).any(axis=1)
    if (diff & ~lax).any() or (ulps(b[lax], got[lax]) > 4).any():
        return False, None
    n_loose = sum(len(v) for v in loose.values())
    if not n_loose:
        return True, None
    return True, ("%d of its leaves hold fractions that no 1.2.1 count table reproduces bit for bit; "
                  "%d of %d test rows reach one, where predict_proba differs by at most %d ulp"
                  % (n_loose, int(lax.sum()), len(X), int(ulps(b[lax], got[lax]).max()) if lax.any() else 0))


# --------------------------------------- part 3: newer layouts, field by field

def state_node(obj):
    return next(c for c in obj["items"] if c.get("label") == "state: ")


def node_at(obj, path):
    """The JSON node of the estimator at path inside an object node: a str
    step is a key of the state, an int an item of a list or object array."""
    node = obj
    for step in path:
        if isinstance(step, str):
            node = next(c for c in state_node(node)["items"] if c.get("label") == "'%s': " % step)
        else:
            node = node["items"][step]
    return node


def dict_items(d):
    return [(c["label"][1:-3], c) for c in d.get("items", [])]


def ndim(summary):
    if " shape (" not in summary:
        return None
    inner = summary.split(" shape (", 1)[1].split(")", 1)[0]
    return len([p for p in inner.split(",") if p.strip()])


def signature(node, key=None):
    """What must agree between brine's file and the reference: kinds,
    dtypes (record fields included), ndim, classes, and for a few keys the
    value itself; lists by their first element."""
    if "kind" not in node:  # an object shown before: only its identity is told
        return {"ref": True}
    kind = node["kind"]
    sig = {"kind": kind}
    if "dtype" in node:
        sig["dtype"] = node["dtype"]
    if kind == "ndarray":
        sig["ndim"] = ndim(node["summary"])
    if kind == "object" or key in ("_sklearn_version", "base_estimator"):
        sig["summary"] = node["summary"]
    items = node.get("items")
    if kind == "object" and not node["summary"].startswith("sklearn."):
        return sig  # a parameter's value (a RandomState): its pickled form is numpy's, not the layout
    if kind == "dict" and items is not None:
        sig["keys"] = [k for k, _ in dict_items(node)]
        sig["items"] = {k: signature(c, k) for k, c in dict_items(node)}
    elif kind == "tuple" and items is not None:
        sig["items"] = [signature(c, key) for c in items]
        if key == "estimator_params":
            sig["values"] = [c["summary"] for c in items]
    elif kind == "object" and items is not None:
        sig["items"] = [signature(c, key) for c in items]
    elif kind in ("list", "ndarray") and items:
        sig["first"] = signature(items[0], key)
    if "ref" in node:
        sig["ref"] = True
    return sig


def sig_diff(a, b, where="", drop=frozenset()):
    """First difference between signature a (brine) and b (reference);
    keys in drop may be missing from a."""
    for field in ("kind", "dtype", "ndim", "summary", "values", "ref"):
        if a.get(field) != b.get(field):
            return "%s: %s %r vs reference %r" % (where or "root", field, a.get(field), b.get(field))
    if "keys" in b or "keys" in a:
        ka, kb = a.get("keys", []), [k for k in b.get("keys", []) if k not in drop or k in a.get("keys", [])]
        if ka != kb:
            return "%s: keys %s vs reference %s" % (where or "root", ka, kb)
        for k in ka:
            d = sig_diff(a["items"][k], b["items"][k], "%s[%r]" % (where, k), drop)
            if d:
                return d
    if isinstance(a.get("items"), list) or isinstance(b.get("items"), list):
        ia, ib = a.get("items", []), b.get("items", [])
        if len(ia) != len(ib):
            return "%s: %d items vs reference %d" % (where or "root", len(ia), len(ib))
        for n, (x, y) in enumerate(zip(ia, ib)):
            d = sig_diff(x, y, "%s<%d>" % (where, n), drop)
            if d:
                return d
    if ("first" in a) != ("first" in b):
        return "%s: one side is empty" % (where or "root")
    if "first" in a:
        return sig_diff(a["first"], b["first"], where + "[0]", drop)
    return None


def ref_params(ref_obj, cls):
    """The reference's constructor parameters, as Python values (literals;
    a RandomState object stays a RandomState)."""
    valid = set(cls().get_params(deep=False))
    out = {}
    for k, c in dict_items(state_node(ref_obj)):
        if k not in valid or k == "estimator":
            continue
        if c["kind"] == "object":
            out[k] = np.random.RandomState(0)
        else:
            out[k] = ast.literal_eval(c["summary"])
    if "n_estimators" in out:
        out["n_estimators"] = 3
    return out


def fit_like(cls_name, ref_obj, rng):
    """A 1.2.1 model of cls with the reference's parameters, labels of the
    reference's dtype and, when the reference has them, feature names."""
    cls = CLASSES[cls_name]
    est = cls(**ref_params(ref_obj, cls))
    state = dict(dict_items(state_node(ref_obj)))
    X = rng.normal(size=(80, 4))
    named = "feature_names_in_" in state
    if cls_name.endswith("Classifier"):
        y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
        if state["classes_"]["dtype"]["str"] == "<f8":
            y = y.astype(np.float64)
    else:
        y = np.exp(X[:, 0])
    return est.fit(FakeFrame(X, ["a", "b", "c", "d"]) if named else X, y)


class OwnStubs(tt.Restricted):
    """test_trees' stub unpickler, also admitting numpy's RandomState
    constructors: only for brine's rewrites of models fitted here."""

    def find_class(self, module, name):
        if module == "numpy.random._pickle" and name in ("__randomstate_ctor", "__bit_generator_ctor"):
            import numpy.random._pickle as nrp
            return getattr(nrp, name)
        return tt.Restricted.find_class(self, module, name)


def own_stubs(path):
    with open(path, "rb") as f:
        u = OwnStubs(path, f)
        return u.load()


def rules_hold(stub, classifier):
    """>= 1.4 classifier values are fractions, and missing_go_to_left is
    1 exactly where the left child holds more samples."""
    trees = [e.__dict__["tree_"] for e in stub.__dict__["estimators_"]] if "estimators_" in stub.__dict__ \
        else [stub.__dict__["tree_"]]
    for t in trees:
        n, v = t.state["nodes"], t.state["values"]
        split = n["left_child"] != -1
        left, right = n["left_child"][split], n["right_child"][split]
        want = n["n_node_samples"][left] > n["n_node_samples"][right]
        if not np.array_equal(n["missing_go_to_left"][split].astype(bool), want):
            return "missing_go_to_left does not follow n_left > n_right"
        if n["missing_go_to_left"][~split].any():
            return "a leaf has missing_go_to_left set"
        if classifier and not np.all(np.abs(v.sum(axis=2) - 1.0) <= 1e-12):
            return "classifier values are not fractions"
    return None


def layouts(brine, args, tmp, rng, rows, summary, facts):
    by_id = {r["id"]: r for r in rows}
    refs = {}
    for (cls, version), (fid, path) in sorted(REFERENCES.items()):
        tag = "layout %s %s vs wild %s" % (cls, version, fid)
        try:
            if fid not in refs:
                wpath = tt.assemble(by_id[fid], args.wild, tmp)
                refs[fid] = (wpath, brine_json(brine, wpath, args.timeout))
            problem = layout_one(brine, args, tmp, rng, cls, version, fid, path, refs[fid])
        except Exception as e:
            problem = "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc(limit=4))
        if problem:
            summary.fail(tag, "  " + problem)
        else:
            summary.ok()
            facts.add_write(cls, version, "wild " + fid)
            if "feature_names_in_" in dict(dict_items(state_node(node_at(refs[fid][1]["root"], path)))):
                facts.add_write(cls, version, "named columns")


def layout_one(brine, args, tmp, rng, cls, version, fid, path, ref):
    wpath, wjson = ref
    ref_obj = node_at(wjson["root"], path)
    if not ref_obj["summary"].startswith("sklearn.") or cls not in ref_obj["summary"]:
        return "reference is %s, not a %s" % (ref_obj["summary"], cls)
    if not path:  # the file's own estimator, rewritten in its own version
        out = os.path.join(tmp, "layout-%s-own.pkl" % fid)
        res = common.run_brine(brine, ["convert", wpath, out], timeout=args.timeout)
        if res.rc != 0 or res.stderr_text.strip():
            return "rewriting the file in its own version: exit %d\n%s" % (res.rc, res.describe())
        if brine_json(brine, out, args.timeout)["root"] != wjson["root"]:
            return "the file's own estimator does not come back identical in %s" % version
        stub = tt.restricted_load(wpath, real=False)
        why = rules_hold(stub, cls.endswith("Classifier"))
        if why:
            return "the reference itself breaks a rule brine writes by: " + why
    model = fit_like(cls, ref_obj, rng)
    src = os.path.join(tmp, "layout-%s-%s.src.pkl" % (cls, version))
    out = os.path.join(tmp, "layout-%s-%s.out.pkl" % (cls, version))
    with open(src, "wb") as f:
        pickle.dump(model, f, protocol=4)
    res = common.run_brine(brine, ["convert", src, out, "--sklearn-version", version], timeout=args.timeout)
    if res.rc != 0:
        return "brine convert --sklearn-version %s failed\n%s" % (version, res.describe())
    mine = brine_json(brine, out, args.timeout)["root"]
    d = sig_diff(signature(mine), signature(ref_obj), drop=NEW_ONLY)
    if d:
        return d
    why = rules_hold(own_stubs(out), cls.endswith("Classifier"))
    return ("brine's file: " + why) if why else None


# ----------------------------------------------------- part 4: the contract

def contract(brine, args, tmp, rng, rows, summary):
    checks = []
    X, y = tt.make_data(rng, "int")
    for cls_name, versions in EXPECTED.items():
        est = CLASSES[cls_name](random_state=0)
        if "Forest" in cls_name or "Trees" in cls_name:
            est.set_params(n_estimators=2)
        model = est.fit(X, y if cls_name.endswith("Classifier") else X[:, 0])
        src = os.path.join(tmp, "contract-%s.pkl" % cls_name)
        with open(src, "wb") as f:
            pickle.dump(model, f, protocol=4)
        for bad in ("1.3.0", "1.4.2", "1.2.2", "9.9"):
            checks.append(("%s refuses %s" % (cls_name, bad), ["convert", src, os.path.join(tmp, "x.pkl"),
                                                                "--sklearn-version", bad],
                           2, ["not verified", bad, "verified: " + ", ".join(versions)]))
    lst = os.path.join(tmp, "contract-list.pkl")
    with open(lst, "wb") as f:
        pickle.dump([1, 2], f, protocol=4)
    checks.append(("--sklearn-version on a list", ["convert", lst, os.path.join(tmp, "y.pkl"), "--sklearn-version",
                                                   "1.2.1"], 2, ["--sklearn-version", "list"]))
    unfitted = os.path.join(tmp, "contract-unfitted.pkl")
    with open(unfitted, "wb") as f:
        pickle.dump(tree.DecisionTreeClassifier(), f, protocol=4)
    checks.append(("--sklearn-version on an unfitted tree", ["convert", unfitted, os.path.join(tmp, "z.pkl"),
                                                             "--sklearn-version", "1.2.1"], 2, ["not fitted"]))
    checks.append(("an unfitted tree is rewritten as it is", ["convert", unfitted, os.path.join(tmp, "z.pkl")], 0,
                   None))
    by_id = {r["id"]: r for r in rows}
    old = tt.assemble(by_id["033"], args.wild, tmp)
    checks.append(("an unverified input version is named on stderr", ["convert", old, os.path.join(tmp, "o.pkl")],
                   0, ["0.24.1", "1.8.0"]))
    checks.append(("an empty --sklearn-version is bad usage", ["convert", old, os.path.join(tmp, "o.pkl"),
                                                               "--sklearn-version="], 64, ["--sklearn-version"]))
    for name, argv, rc, words in checks:
        res = common.run_brine(brine, argv, timeout=args.timeout)
        problem = None
        if res.crash_reason() or res.rc != rc:
            problem = "exit %d, expected %d" % (res.rc, rc)
        elif words is not None:
            problem = common.one_line_error(res) or \
                next(("stderr lacks %r" % w for w in words if w not in res.stderr_text), None)
        if problem:
            summary.fail("contract: " + name, "  %s\n%s" % (problem, res.describe()))
        else:
            summary.ok()


# -------------------------------------------------------------------- main

def main():
    def extra(p):
        p.add_argument("--wild", default=common.default_wild())
        p.add_argument("--write-support", action="store_true", help="rewrite docs/SUPPORT.md instead of checking it")
    args = common.parse_args(__doc__.split("\n")[1], extra)
    brine = common.find_brine(args.brine, PREFIX)
    summary = common.Summary(PREFIX, args.max_failures_shown)
    facts = Facts()
    rng = np.random.RandomState(20250101)
    rows = tt.manifest_rows(args.wild)
    wild_rows = [r for r in rows if r["id"] in WILD_TREES]
    with common.TempDir(args.keep) as tmp:
        part1(brine, args, tmp, rng, summary, facts)
        wild_down(brine, args, tmp, rng, wild_rows, summary, facts)
        layouts(brine, args, tmp, rng, rows, summary, facts)
        contract(brine, args, tmp, rng, rows, summary)
    text = support_doc.render(facts, EXPECTED, REFERENCES)
    target = os.path.join(common.REPO, "docs", "SUPPORT.md")
    if args.write_support:
        with open(target, "w") as f:
            f.write(text)
        print("wrote %s" % target)
    try:
        with open(target) as f:
            committed = f.read()
    except OSError:
        committed = None
    if committed != text:
        summary.fail("docs/SUPPORT.md is stale",
                     "  the checks that passed give a different docs/SUPPORT.md; rerun with --write-support "
                     "and commit it (or fix the failures above)")
    else:
        summary.ok()
    return summary.finish()


if __name__ == "__main__":
    sys.exit(main())
