#!/usr/bin/python3
"""Generate src/pickle/allowlist_sklearn.inc, the scikit-learn part of brine's
global allowlist.

Run with Debian's interpreter (scikit-learn 1.2.1, numpy 1.24, scipy, joblib):

    /usr/bin/python3 tools/gen_allowlist.py -o src/pickle/allowlist_sklearn.inc
    /usr/bin/python3 tools/gen_allowlist.py > src/pickle/allowlist_sklearn.inc

Every row is ``BP_ALLOW(TIERS, "module", "qualname")``.  TIERS is an OR of

  BP_T_NEW    the class may be created empty (NEWOBJ / NEWOBJ_EX with empty
              arguments, or copyreg._reconstructor(cls, object, None)) and
              then receive its state through BUILD;
  BP_T_CALL   the global may be the callable of a REDUCE (Cython
              reconstructors, classes whose __reduce__ returns (cls, args));
  BP_T_VALUE  the global is only ever referenced as a value (an argument of
              a reconstructor, a class or function stored as a parameter).

Any row may be referenced as a value, so BP_T_VALUE is written alone only for
rows that are never instantiated or called.

Rows come from four sources (see tools/README.md):

  1. every BaseEstimator subclass defined in an importable, non-test sklearn
     module (keyed by the defining module and __qualname__), tier NEW;
  2. every sklearn global found, with its observed usage, in pickles of a
     broad set of fitted estimators (protocols 2, 4 and 5);
  3. every sklearn global named in the all_globals column of the wild-model
     MANIFEST.tsv, with its usage read from the raw file bytes;
  4. historical and later module paths and names (the 0.22 private-module
     rename, dist_metrics moving to sklearn.metrics, the >=1.3 Cython class
     renames, the >=1.4 loss classes, the bare "_loss" Cython module name).

Nothing is ever unpickled: pickles (our own and the untrusted wild files) are
only walked with pickletools.genops while a small symbolic stack records how
each global is used.  The wild files are read as bytes, decompressed with the
standard library if needed, and walked; they are never passed to pickle.load
or joblib.load.
"""

import os

# Keep BLAS/OpenMP quiet and small before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("PYTHONWARNINGS", "ignore")

import argparse
import bz2
import contextlib
import importlib
import inspect
import io
import lzma
import pickle
import pickletools
import pkgutil
import re
import signal
import sys
import time
import types
import warnings
import zlib

warnings.filterwarnings("ignore")

SCRIPT = "tools/gen_allowlist.py"
NEW, CALL, VALUE = 1, 2, 4
TIER_NAMES = ((NEW, "BP_T_NEW"), (CALL, "BP_T_CALL"), (VALUE, "BP_T_VALUE"))
PROTOCOLS = (2, 4, 5)
CASE_BUDGET_S = 20.0          # wall-clock budget for one fit case
MAX_DECOMPRESSED = 1 << 30    # refuse wild files that inflate beyond 1 GiB


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Symbolic pickle walker
# ---------------------------------------------------------------------------

class WalkError(Exception):
    pass


class _Mark:
    __slots__ = ()

    def __repr__(self):
        return "MARK"


MARK = _Mark()


class Glob:
    """A global reference (GLOBAL / STACK_GLOBAL / INST)."""
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module = module
        self.name = name


class Obj:
    """The result of REDUCE / NEWOBJ / NEWOBJ_EX / INST / OBJ."""
    __slots__ = ("cls", "args", "state")

    def __init__(self, cls, args):
        self.cls = cls
        self.args = args
        self.state = None


class Tup:
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = list(items)


class Dct:
    __slots__ = ("items",)

    def __init__(self):
        self.items = {}

    def set(self, key, value):
        if isinstance(key, Lit) and isinstance(key.value, (str, int)):
            self.items[key.value] = value


class Lit:
    """A literal (str, bytes, int, float, bool, None)."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


OPAQUE = Lit(None)   # something we do not model (lists, sets, buffers ...)

_LITERAL_OPS = {
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4",
    "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "SHORT_BINUNICODE",
    "BINUNICODE", "BINUNICODE8", "FLOAT", "BINFLOAT", "BINBYTES",
    "SHORT_BINBYTES", "BINBYTES8",
}
_RECONSTRUCTORS = {("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor")}
_NEWOBJ_FUNCS = {("copyreg", "__newobj__"), ("copy_reg", "__newobj__")}
_JOBLIB_WRAPPER_MODULES = {"joblib.numpy_pickle",
                           "sklearn.externals.joblib.numpy_pickle"}


class Usage:
    """How each (module, name) global was used across all walked pickles.

    uses: 'ref' (pushed), 'call' (REDUCE callable), 'new' (instantiated empty),
    'newargs' (NEWOBJ with arguments), 'inst' (INST/OBJ with arguments).
    """

    def __init__(self):
        self.uses = {}

    def add(self, glob, use):
        self.uses.setdefault((glob.module, glob.name), set()).add(use)

    def merge(self, other):
        for key, uses in other.uses.items():
            self.uses.setdefault(key, set()).update(uses)


def _is_empty_tuple(sym):
    return isinstance(sym, Tup) and not sym.items


class _Walker:
    def __init__(self, usage):
        self.usage = usage
        self.stack = []
        self.memo = {}

    def pop(self):
        if not self.stack or self.stack[-1] is MARK:
            raise WalkError("stack underflow")
        return self.stack.pop()

    def pop_mark(self):
        stack = self.stack
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is MARK:
                items = stack[i + 1:]
                del stack[i:]
                return items
        raise WalkError("no MARK on stack")

    def glob(self, module, name):
        g = Glob(module, name)
        self.usage.add(g, "ref")
        return g

    def instantiate(self, cls, args, empty):
        if isinstance(cls, Glob):
            self.usage.add(cls, "new" if empty else "newargs")

    def step(self, op, arg):
        """Apply one opcode.  Returns 'stop', a wrapper Obj, or None."""
        name = op.name
        stack = self.stack
        if name in _LITERAL_OPS:
            stack.append(Lit(arg))
        elif name == "NONE":
            stack.append(Lit(None))
        elif name == "NEWTRUE":
            stack.append(Lit(True))
        elif name == "NEWFALSE":
            stack.append(Lit(False))
        elif name == "GLOBAL":
            module, _, qual = arg.partition(" ")
            stack.append(self.glob(module, qual))
        elif name == "STACK_GLOBAL":
            qual = self.pop()
            module = self.pop()
            if (isinstance(qual, Lit) and isinstance(module, Lit)
                    and isinstance(qual.value, str)
                    and isinstance(module.value, str)):
                stack.append(self.glob(module.value, qual.value))
            else:
                stack.append(OPAQUE)
        elif name == "INST":
            module, _, qual = arg.partition(" ")
            items = self.pop_mark()
            cls = self.glob(module, qual)
            self.usage.add(cls, "new" if not items else "inst")
            stack.append(Obj(cls, Tup(items)))
        elif name == "OBJ":
            items = self.pop_mark()
            if not items:
                raise WalkError("OBJ without class")
            cls = items[0]
            if isinstance(cls, Glob):
                self.usage.add(cls, "new" if len(items) == 1 else "inst")
            stack.append(Obj(cls, Tup(items[1:])))
        elif name == "REDUCE":
            args = self.pop()
            func = self.pop()
            result = Obj(func, args)
            if isinstance(func, Glob):
                key = (func.module, func.name)
                self.usage.add(func, "call")
                if (key in _RECONSTRUCTORS and isinstance(args, Tup)
                        and args.items and isinstance(args.items[0], Glob)):
                    cls = args.items[0]
                    state = args.items[2] if len(args.items) > 2 else None
                    empty = isinstance(state, Lit) and state.value is None
                    self.instantiate(cls, None, empty)
                    result = Obj(cls, Tup([]))
                elif (key in _NEWOBJ_FUNCS and isinstance(args, Tup)
                        and args.items and isinstance(args.items[0], Glob)):
                    cls = args.items[0]
                    self.instantiate(cls, None, len(args.items) == 1)
                    result = Obj(cls, Tup(args.items[1:]))
            stack.append(result)
        elif name == "NEWOBJ":
            args = self.pop()
            cls = self.pop()
            self.instantiate(cls, args, _is_empty_tuple(args))
            stack.append(Obj(cls, args))
        elif name == "NEWOBJ_EX":
            kwargs = self.pop()
            args = self.pop()
            cls = self.pop()
            empty = _is_empty_tuple(args) and isinstance(kwargs, Dct) \
                and not kwargs.items
            self.instantiate(cls, args, empty)
            stack.append(Obj(cls, args))
        elif name == "BUILD":
            state = self.pop()
            if not stack or stack[-1] is MARK:
                raise WalkError("BUILD without object")
            top = stack[-1]
            if isinstance(top, Glob):
                self.usage.add(top, "build")
            elif isinstance(top, Obj):
                top.state = state
                cls = top.cls
                if (isinstance(cls, Glob) and cls.name == "NumpyArrayWrapper"
                        and cls.module in _JOBLIB_WRAPPER_MODULES):
                    return top
        elif name == "MARK":
            stack.append(MARK)
        elif name == "POP":
            if stack and stack[-1] is MARK:
                self.pop_mark()
            else:
                self.pop()
        elif name == "POP_MARK":
            self.pop_mark()
        elif name == "DUP":
            if not stack:
                raise WalkError("DUP on empty stack")
            stack.append(stack[-1])
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            if not stack:
                raise WalkError("PUT on empty stack")
            self.memo[arg] = stack[-1]
        elif name == "MEMOIZE":
            if not stack:
                raise WalkError("MEMOIZE on empty stack")
            self.memo[len(self.memo)] = stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            if arg not in self.memo:
                raise WalkError("memo key %r missing" % (arg,))
            stack.append(self.memo[arg])
        elif name == "EMPTY_TUPLE":
            stack.append(Tup([]))
        elif name == "TUPLE":
            stack.append(Tup(self.pop_mark()))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            items = [self.pop() for _ in range(n)][::-1]
            stack.append(Tup(items))
        elif name == "EMPTY_DICT":
            stack.append(Dct())
        elif name == "DICT":
            items = self.pop_mark()
            d = Dct()
            for k, v in zip(items[0::2], items[1::2]):
                d.set(k, v)
            stack.append(d)
        elif name == "SETITEM":
            value = self.pop()
            key = self.pop()
            if not stack:
                raise WalkError("SETITEM without dict")
            if isinstance(stack[-1], Dct):
                stack[-1].set(key, value)
        elif name == "SETITEMS":
            items = self.pop_mark()
            if not stack:
                raise WalkError("SETITEMS without dict")
            if isinstance(stack[-1], Dct):
                for k, v in zip(items[0::2], items[1::2]):
                    stack[-1].set(k, v)
        elif name == "STOP":
            return "stop"
        elif name in ("PROTO", "FRAME"):
            pass
        else:
            # Generic effect taken from pickletools' own stack description.
            before = op.stack_before
            if pickletools.markobject in before:
                self.pop_mark()
                for _ in range(before.index(pickletools.markobject)):
                    self.pop()
            else:
                for _ in before:
                    self.pop()
            for _ in op.stack_after:
                stack.append(OPAQUE)
        return None


_DTYPE_STR = re.compile(r"^[<>|=]?([a-zA-Z])(\d*)(\[\w+\])?$")


def _dtype_info(sym):
    """(itemsize, hasobject) of a symbolic numpy.dtype object, or None."""
    if not (isinstance(sym, Obj) and isinstance(sym.args, Tup)
            and sym.args.items and isinstance(sym.args.items[0], Lit)):
        return None
    code = sym.args.items[0].value
    if isinstance(code, bytes):
        code = code.decode("latin-1")
    if not isinstance(code, str):
        return None
    m = _DTYPE_STR.match(code)
    if not m:
        return None
    elsize = -1
    hasobject = m.group(1) == "O"
    st = sym.state
    if isinstance(st, Tup) and len(st.items) > 5:
        e = st.items[5]
        if isinstance(e, Lit) and isinstance(e.value, int):
            elsize = e.value
        fields = st.items[4]
        if isinstance(fields, Dct):
            for field in fields.items.values():
                if isinstance(field, Tup) and field.items:
                    sub = _dtype_info(field.items[0])
                    if sub and sub[1]:
                        hasobject = True
    if elsize > 0:
        return elsize, hasobject
    import numpy
    return numpy.dtype(code).itemsize, hasobject


def _wrapper_layout(wrapper):
    """For a joblib NumpyArrayWrapper, return (nbytes, hasobject, aligned)."""
    st = wrapper.state
    if not isinstance(st, Dct):
        raise WalkError("NumpyArrayWrapper state is not a dict")
    shape = st.items.get("shape")
    info = _dtype_info(st.items.get("dtype"))
    if not isinstance(shape, Tup) or info is None:
        raise WalkError("NumpyArrayWrapper without readable shape/dtype")
    count = 1
    for dim in shape.items:
        if not (isinstance(dim, Lit) and isinstance(dim.value, int)):
            raise WalkError("NumpyArrayWrapper shape is not integral")
        count *= dim.value
    align = st.items.get("numpy_array_alignment_bytes")
    aligned = isinstance(align, Lit) and isinstance(align.value, int) \
        and align.value > 0
    return count * info[0], info[1], aligned


def walk_stream(f, usage, depth=0):
    """Walk one pickle stream from f's position to its STOP.

    joblib inline arrays are stepped over: raw bytes are skipped using the
    wrapper's shape and dtype, object arrays (a nested pickle) are walked.
    Raises WalkError / ValueError / EOFError on anything unreadable.
    """
    if depth > 8:
        raise WalkError("nested pickles too deep")
    walker = _Walker(usage)
    while True:
        wrapper = None
        for op, arg, _pos in pickletools.genops(f):
            result = walker.step(op, arg)
            if result == "stop":
                return
            if result is not None:
                wrapper = result
                break
        if wrapper is None:
            raise WalkError("pickle ended without STOP")
        nbytes, hasobject, aligned = _wrapper_layout(wrapper)
        if hasobject:
            walk_stream(f, usage, depth + 1)
        else:
            if aligned:
                pad = f.read(1)
                if len(pad) != 1:
                    raise WalkError("truncated array padding")
                f.seek(pad[0], io.SEEK_CUR)
            here = f.tell()
            f.seek(0, io.SEEK_END)
            end = f.tell()
            if here + nbytes > end:
                raise WalkError("array data runs past end of file")
            f.seek(here + nbytes)


def walk_bytes(data):
    """Walk a whole pickle held in bytes.  Returns (usage, status)."""
    usage = Usage()
    f = io.BytesIO(data)
    try:
        walk_stream(f, usage)
        status = "ok"
    except Exception as exc:  # genops raises ValueError on garbage
        status = "stopped at byte %d: %s: %s" % (
            f.tell(), type(exc).__name__, str(exc)[:80])
    return usage, status


# ---------------------------------------------------------------------------
# Scope rules
# ---------------------------------------------------------------------------

_EXCLUDED_MODULE_PARTS = {"tests", "conftest", "setup", "_build_utils",
                          "externals", "_testing", "_mocking",
                          "estimator_checks", "__check_build", "benchmarks"}


def module_excluded(modname):
    parts = modname.split(".")
    for part in parts:
        if part in _EXCLUDED_MODULE_PARTS or part.startswith("test_") \
                or part.startswith("bench") or part.endswith("_tests"):
            return True
    return False


def in_sklearn_scope(module):
    """sklearn names, plus the bare '_loss' Cython module of meson builds."""
    if module == "_loss":
        return True
    if module != "sklearn" and not module.startswith("sklearn."):
        return False
    if module_excluded(module) or module.startswith("sklearn.datasets"):
        return False
    return True


def is_cython_reconstructor(name):
    return name == "newObj" or name.startswith("__pyx_unpickle_")


def tiers_from_uses(uses):
    t = 0
    if "new" in uses:
        t |= NEW
    if uses & {"call", "newargs", "inst"}:
        t |= CALL
    return t or VALUE


def resolve_loaded(module, qualname):
    """Look a name up among modules this process already imported (the wild
    MANIFEST never makes us import anything)."""
    mod = sys.modules.get(module)
    if mod is None:
        return None
    obj = mod
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


# ---------------------------------------------------------------------------
# Source 1: BaseEstimator subclasses
# ---------------------------------------------------------------------------

def import_sklearn_modules():
    """Import every non-test sklearn module (a walk_packages over sklearn that
    never descends into tests packages).  Returns (modules, failures)."""
    import sklearn
    # experimental switches first so the enabled estimators are visible
    for name in ("sklearn.experimental.enable_iterative_imputer",
                 "sklearn.experimental.enable_halving_search_cv"):
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    modules = {"sklearn": sklearn}
    failures = []
    pending = [(list(sklearn.__path__), "sklearn.")]
    while pending:
        path, prefix = pending.pop()
        for info in sorted(pkgutil.iter_modules(path, prefix),
                           key=lambda i: i.name):
            if module_excluded(info.name):
                continue
            try:
                mod = importlib.import_module(info.name)
            except BaseException as exc:  # SystemExit / ImportError ...
                failures.append((info.name, type(exc).__name__))
                continue
            modules[info.name] = mod
            if info.ispkg and getattr(mod, "__path__", None):
                pending.append((list(mod.__path__), info.name + "."))
    return modules, failures


def source_estimators(modules):
    from sklearn.base import BaseEstimator
    rows = {}
    abstract = []
    for modname in sorted(modules):
        mod = modules[modname]
        for obj in list(vars(mod).values()):
            if not (isinstance(obj, type) and issubclass(obj, BaseEstimator)):
                continue
            if obj.__module__ != modname or "<locals>" in obj.__qualname__:
                continue
            if not in_sklearn_scope(obj.__module__):
                continue
            key = (obj.__module__, obj.__qualname__)
            if inspect.isabstract(obj):
                abstract.append(key)
                continue
            rows[key] = NEW
    return rows, sorted(set(abstract))


# ---------------------------------------------------------------------------
# Source 2: fit estimators, pickle them, walk the pickles
# ---------------------------------------------------------------------------

class CaseTimeout(Exception):
    pass


def _alarm(_signum, _frame):
    raise CaseTimeout()


@contextlib.contextmanager
def time_budget(seconds):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def make_data():
    import numpy as np
    rng = np.random.RandomState(0)
    d = types.SimpleNamespace()
    n = 60
    X = rng.rand(n, 4) + 0.05
    d.X = X
    d.y3 = np.array([i % 3 for i in range(n)])
    X[:, 0] += d.y3            # make classes separable-ish
    d.y2 = d.y3 % 2
    d.yr = X @ np.array([1.5, -2.0, 0.5, 1.0]) + 3.0 + 0.1 * rng.rand(n)
    d.yr_pos = np.abs(d.yr) + 0.5
    d.Yr2 = np.column_stack([d.yr, 2 * d.yr + 1])
    d.Y2c = np.column_stack([d.y2, (d.y3 == 2).astype(int)])
    d.Xint = rng.randint(0, 4, size=(n, 4))
    d.Xbool = rng.rand(n, 6) > 0.5
    d.Xgeo = np.column_stack([rng.uniform(-1.2, 1.2, n),
                              rng.uniform(-3.0, 3.0, n)])
    d.X1 = X[:, 0].copy()
    d.Xcat = np.column_stack([rng.randint(0, 4, n).astype(float), X[:, 1:]])
    words = ["apple", "banana", "cherry", "delta", "echo", "fox", "golf",
             "hotel", "india", "juliet", "the", "and", "is", "of"]
    d.docs = [" ".join(words[(i * 7 + j * 3) % len(words)]
                       for j in range(5 + i % 4)) for i in range(n)]
    d.dicts = [{"a": float(i % 5), "b": "x%d" % (i % 3), "c": 1.0}
               for i in range(n)]
    d.images = rng.rand(3, 8, 8)
    return d


def _seed(est):
    """random_state=0 on the estimator and every nested estimator."""
    with contextlib.suppress(Exception):
        params = est.get_params(deep=True)
        fixed = {k: 0 for k in params
                 if k == "random_state" or k.endswith("__random_state")}
        if fixed:
            est.set_params(**fixed)
    return est


def generic_attempts(est, d):
    from sklearn.base import is_classifier, is_regressor
    if is_classifier(est):
        return [(d.X, d.y3), (d.X, d.y2), (d.Xint, d.y3)]
    if is_regressor(est):
        return [(d.X, d.yr_pos), (d.X, d.Yr2), (d.X1, d.yr)]
    return [(d.X,), (d.X, d.y3), (d.X, d.yr), (d.Xint,), (d.Xbool,)]


def _special_fits(d):
    """Special fit inputs for estimators whose X is not a float matrix."""
    return {
        "CountVectorizer": [(d.docs,)], "TfidfVectorizer": [(d.docs,)],
        "HashingVectorizer": [(d.docs,)],
        "DictVectorizer": [(d.dicts,)], "FeatureHasher": [(d.dicts,)],
        "LabelEncoder": [(d.y3,)], "LabelBinarizer": [(d.y3,)],
        "MultiLabelBinarizer": [([[1, 2], [3], [1, 3]],)],
        "IsotonicRegression": [(d.X1, d.yr)],
        "PatchExtractor": [(d.images,)],
        "CategoricalNB": [(d.Xint, d.y3)],
        "KernelCenterer": [(d.X @ d.X.T,)],
        "ClassifierChain": [(d.X, d.Y2c)],
        "MultiOutputClassifier": [(d.X, d.Y2c)],
        "PLSSVD": [(d.X, d.Yr2)],
    }


def _default_constructors():
    """Constructors for all_estimators() entries without usable defaults."""
    import numpy as np
    from sklearn import (compose, decomposition, ensemble, feature_selection,
                         model_selection, multiclass, multioutput, pipeline,
                         random_projection, semi_supervised)
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    from sklearn.preprocessing import StandardScaler

    def lr():
        return LogisticRegression(max_iter=200)

    def trees_c():
        return [("t", DecisionTreeClassifier(max_depth=2)), ("l", lr())]

    def trees_r():
        return [("t", DecisionTreeRegressor(max_depth=2)), ("r", Ridge())]

    grid = {"max_depth": [1, 2, 3]}
    return {
        "ClassifierChain": lambda: multioutput.ClassifierChain(lr()),
        "RegressorChain": lambda: multioutput.RegressorChain(Ridge()),
        "MultiOutputClassifier": lambda:
            multioutput.MultiOutputClassifier(lr()),
        "MultiOutputRegressor": lambda:
            multioutput.MultiOutputRegressor(Ridge()),
        "ColumnTransformer": lambda: compose.ColumnTransformer(
            [("s", StandardScaler(), [0, 1])], remainder="passthrough"),
        "FeatureUnion": lambda: pipeline.FeatureUnion(
            [("p", decomposition.PCA(n_components=2)),
             ("s", StandardScaler())]),
        "Pipeline": lambda: pipeline.Pipeline(
            [("s", StandardScaler()), ("m", lr())]),
        "GridSearchCV": lambda: model_selection.GridSearchCV(
            lr(), {"C": [0.1, 1.0]}, cv=3),
        "RandomizedSearchCV": lambda: model_selection.RandomizedSearchCV(
            lr(), {"C": [0.1, 1.0, 10.0]}, n_iter=2, cv=3),
        "HalvingGridSearchCV": lambda: model_selection.HalvingGridSearchCV(
            DecisionTreeClassifier(), grid, cv=3),
        "HalvingRandomSearchCV": lambda:
            model_selection.HalvingRandomSearchCV(
                DecisionTreeClassifier(), grid, cv=3),
        "OneVsOneClassifier": lambda: multiclass.OneVsOneClassifier(lr()),
        "OneVsRestClassifier": lambda: multiclass.OneVsRestClassifier(lr()),
        "OutputCodeClassifier": lambda:
            multiclass.OutputCodeClassifier(lr()),
        "RFE": lambda: feature_selection.RFE(lr(), n_features_to_select=2),
        "RFECV": lambda: feature_selection.RFECV(lr(), cv=3),
        "SelectFromModel": lambda: feature_selection.SelectFromModel(lr()),
        "SelectKBest": lambda: feature_selection.SelectKBest(k=2),
        "SelfTrainingClassifier": lambda:
            semi_supervised.SelfTrainingClassifier(lr()),
        "SequentialFeatureSelector": lambda:
            feature_selection.SequentialFeatureSelector(
                lr(), n_features_to_select=2, cv=3),
        "GaussianRandomProjection": lambda:
            random_projection.GaussianRandomProjection(n_components=2),
        "SparseRandomProjection": lambda:
            random_projection.SparseRandomProjection(n_components=2),
        "SparseCoder": lambda: decomposition.SparseCoder(
            dictionary=np.eye(4)[:3]),
        "StackingClassifier": lambda: ensemble.StackingClassifier(
            trees_c(), cv=3),
        "StackingRegressor": lambda: ensemble.StackingRegressor(
            trees_r(), cv=3),
        "VotingClassifier": lambda: ensemble.VotingClassifier(
            trees_c(), voting="soft"),
        "VotingRegressor": lambda: ensemble.VotingRegressor(trees_r()),
    }


def extra_cases(d):
    """Hand-written cases: (label, factory, fit-argument tuples)."""
    import numpy as np
    from sklearn import (calibration, cluster, compose, ensemble,
                         feature_extraction, feature_selection,
                         gaussian_process, impute, linear_model, metrics,
                         model_selection, multiclass, neighbors,
                         neural_network, pipeline, preprocessing, svm, tree,
                         decomposition, manifold, naive_bayes,
                         semi_supervised)
    from sklearn.gaussian_process import kernels as K
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401

    X, y3, y2, yr = d.X, d.y3, d.y2, d.yr
    cases = []

    def add(label, factory, *fits):
        cases.append((label, factory, list(fits)))

    # neighbours: every tree algorithm and every distance metric class
    for algo in ("kd_tree", "ball_tree", "brute"):
        add("KNeighborsClassifier-" + algo, lambda a=algo:
            neighbors.KNeighborsClassifier(3, algorithm=a), (X, y3))
        add("KNeighborsRegressor-" + algo, lambda a=algo:
            neighbors.KNeighborsRegressor(3, algorithm=a), (X, yr))
        add("RadiusNeighborsClassifier-" + algo, lambda a=algo:
            neighbors.RadiusNeighborsClassifier(2.0, algorithm=a), (X, y3))
        add("KernelDensity-" + algo, lambda a=algo:
            neighbors.KernelDensity(algorithm=a if a != "brute" else "auto"),
            (X,))
        add("LocalOutlierFactor-" + algo, lambda a=algo:
            neighbors.LocalOutlierFactor(5, algorithm=a, novelty=True), (X,))
    float_metrics = [("euclidean", {}), ("manhattan", {}),
                     ("chebyshev", {}), ("minkowski", {"p": 3}),
                     ("minkowski", {"p": 3, "w": np.ones(4)}),
                     ("seuclidean", {"V": np.ones(4)}),
                     ("mahalanobis", {"VI": np.eye(4)}),
                     ("canberra", {}), ("braycurtis", {}),
                     ("hamming", {})]
    kd_metrics = {"euclidean", "manhattan", "chebyshev", "minkowski"}
    for metric, params in float_metrics:
        for algo in ("ball_tree", "kd_tree"):
            if algo == "kd_tree" and (metric not in kd_metrics or
                                      "w" in params):
                continue
            add("NearestNeighbors-%s-%s-%d" % (algo, metric, len(params)),
                lambda a=algo, m=metric, p=params: neighbors.NearestNeighbors(
                    n_neighbors=3, algorithm=a, metric=m, metric_params=p),
                (X,), (X.astype(np.float32),))
    for metric in ("jaccard", "matching", "dice", "kulsinski",
                   "rogerstanimoto", "russellrao", "sokalmichener",
                   "sokalsneath"):
        add("NearestNeighbors-bool-" + metric, lambda m=metric:
            neighbors.NearestNeighbors(n_neighbors=3, algorithm="ball_tree",
                                       metric=m), (d.Xbool.astype(float),))
    add("NearestNeighbors-haversine", lambda: neighbors.NearestNeighbors(
        n_neighbors=3, algorithm="ball_tree", metric="haversine"), (d.Xgeo,))
    add("KNeighborsTransformer", lambda: neighbors.KNeighborsTransformer(
        algorithm="kd_tree"), (X,))
    add("NeighborhoodComponentsAnalysis", lambda:
        neighbors.NeighborhoodComponentsAnalysis(max_iter=5), (X, y3))

    # histogram gradient boosting
    hgb_c = ensemble.HistGradientBoostingClassifier
    hgb_r = ensemble.HistGradientBoostingRegressor
    add("HGBC-binary-cat", lambda: hgb_c(max_iter=5, categorical_features=[0]),
        (d.Xcat, y2))
    add("HGBC-multi-cat", lambda: hgb_c(max_iter=5, categorical_features=[0]),
        (d.Xcat, y3))
    add("HGBC-early-stop-scorer", lambda: hgb_c(
        max_iter=5, early_stopping=True, scoring="accuracy",
        validation_fraction=0.3, n_iter_no_change=2), (X, y3))
    add("HGBC-early-stop-loss", lambda: hgb_c(
        max_iter=5, early_stopping=True, scoring="loss",
        validation_fraction=0.3), (X, y2))
    for loss in ("squared_error", "absolute_error", "poisson", "quantile"):
        add("HGBR-" + loss, lambda l=loss: hgb_r(
            loss=l, max_iter=5, categorical_features=[0],
            **({"quantile": 0.8} if l == "quantile" else {})),
            (d.Xcat, d.yr_pos))
    add("HGBR-monotonic", lambda: hgb_r(max_iter=5, monotonic_cst=[1, 0, 0, 0],
                                        early_stopping=True,
                                        scoring="neg_mean_squared_error"),
        (X, yr))

    # gradient boosting, every loss, init variants
    gbc = ensemble.GradientBoostingClassifier
    gbr = ensemble.GradientBoostingRegressor
    for loss in ("log_loss", "exponential"):
        add("GBC-" + loss, lambda l=loss: gbc(loss=l, n_estimators=5),
            (X, y2))
    add("GBC-multi", lambda: gbc(n_estimators=5, subsample=0.8,
                                 n_iter_no_change=2), (X, y3))
    add("GBC-init-zero", lambda: gbc(n_estimators=5, init="zero"), (X, y2))
    for loss in ("squared_error", "absolute_error", "huber", "quantile"):
        add("GBR-" + loss, lambda l=loss: gbr(loss=l, n_estimators=5),
            (X, yr))
    add("GBR-init-est", lambda: gbr(n_estimators=5,
                                    init=linear_model.LinearRegression()),
        (X, yr))

    # neural networks
    for solver in ("adam", "sgd", "lbfgs"):
        add("MLPClassifier-" + solver, lambda s=solver:
            neural_network.MLPClassifier((5,), solver=s, max_iter=20),
            (X, y3), (X, y2), (X, d.Y2c))
        add("MLPRegressor-" + solver, lambda s=solver:
            neural_network.MLPRegressor((5,), solver=s, max_iter=20,
                                        early_stopping=(s != "lbfgs")),
            (X, yr))

    # SGD family, every loss
    for loss in ("hinge", "log_loss", "modified_huber", "squared_hinge",
                 "perceptron", "squared_error", "huber",
                 "epsilon_insensitive", "squared_epsilon_insensitive"):
        add("SGDClassifier-" + loss, lambda l=loss: linear_model.SGDClassifier(
            loss=l, max_iter=20, average=False), (X, y3))
    for loss in ("squared_error", "huber", "epsilon_insensitive",
                 "squared_epsilon_insensitive"):
        add("SGDRegressor-" + loss, lambda l=loss: linear_model.SGDRegressor(
            loss=l, max_iter=20, average=True), (X, yr))
    add("SGDOneClassSVM", lambda: linear_model.SGDOneClassSVM(max_iter=20),
        (X,))

    # linear models with stored loss objects / scorers
    add("PoissonRegressor", linear_model.PoissonRegressor, (X, d.yr_pos))
    add("GammaRegressor", linear_model.GammaRegressor, (X, d.yr_pos))
    add("TweedieRegressor-log", lambda: linear_model.TweedieRegressor(
        power=1.5, link="log"), (X, d.yr_pos))
    add("TweedieRegressor-identity", lambda: linear_model.TweedieRegressor(
        power=0, link="identity"), (X, d.yr_pos))
    add("LogisticRegressionCV-scoring", lambda:
        linear_model.LogisticRegressionCV(cv=3, scoring="accuracy"), (X, y3))
    add("RidgeCV-scoring", lambda: linear_model.RidgeCV(scoring="r2"), (X, yr))
    add("RidgeClassifierCV", linear_model.RidgeClassifierCV, (X, y3))

    # pipelines and composition
    add("Pipeline-nested", lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(), decomposition.PCA(2),
        linear_model.LogisticRegression()), (X, y3))
    add("Pipeline-passthrough", lambda: pipeline.Pipeline(
        [("a", "passthrough"), ("b", tree.DecisionTreeClassifier())]), (X, y3))
    add("ColumnTransformer-mixed", lambda: compose.ColumnTransformer(
        [("num", preprocessing.StandardScaler(), [1, 2]),
         ("cat", preprocessing.OneHotEncoder(handle_unknown="ignore"), [0]),
         ("drop", "drop", [3])], remainder="drop"), (d.Xcat,))
    add("ColumnTransformer-remainder-est", lambda: compose.ColumnTransformer(
        [("num", preprocessing.MinMaxScaler(), slice(0, 2))],
        remainder=preprocessing.StandardScaler()), (X,))
    add("ColumnTransformer-selector-unfitted", lambda:
        compose.ColumnTransformer([("n", preprocessing.StandardScaler(),
                                    compose.make_column_selector(
                                        pattern="x"))]))
    add("TransformedTargetRegressor", lambda: compose.TransformedTargetRegressor(
        regressor=linear_model.LinearRegression(),
        transformer=preprocessing.StandardScaler()), (X, yr))
    add("FeatureUnion-weights", lambda: pipeline.FeatureUnion(
        [("a", decomposition.PCA(2)), ("b", "drop")],
        transformer_weights={"a": 2.0}), (X,))
    add("FunctionTransformer", lambda: preprocessing.FunctionTransformer(
        validate=True), (X,))

    # text and encoders
    fx = feature_extraction.text
    add("TfidfVectorizer-ngrams", lambda: fx.TfidfVectorizer(
        ngram_range=(1, 2), stop_words="english", sublinear_tf=True),
        (d.docs,))
    add("TfidfVectorizer-char", lambda: fx.TfidfVectorizer(
        analyzer="char_wb", max_features=20, norm="l1"), (d.docs,))
    add("CountVectorizer-binary", lambda: fx.CountVectorizer(
        binary=True, min_df=2), (d.docs,))
    add("Pipeline-text", lambda: pipeline.make_pipeline(
        fx.TfidfVectorizer(), naive_bayes.MultinomialNB()), (d.docs, y3))
    add("OneHotEncoder-drop", lambda: preprocessing.OneHotEncoder(
        drop="first", sparse_output=False), (d.Xint,))
    add("OneHotEncoder-infrequent", lambda: preprocessing.OneHotEncoder(
        handle_unknown="infrequent_if_exist", min_frequency=5), (d.Xint,))
    add("OrdinalEncoder-unknown", lambda: preprocessing.OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1), (d.Xint,))
    add("KBinsDiscretizer-onehot", lambda: preprocessing.KBinsDiscretizer(
        3, encode="onehot"), (X,))
    add("PowerTransformer", preprocessing.PowerTransformer, (X,))
    add("SplineTransformer", preprocessing.SplineTransformer, (X,))

    # calibration, outliers, trees, forests, boosting
    add("CalibratedClassifierCV-sigmoid", lambda:
        calibration.CalibratedClassifierCV(svm.LinearSVC(), cv=3), (X, y3))
    add("CalibratedClassifierCV-isotonic", lambda:
        calibration.CalibratedClassifierCV(
            naive_bayes.GaussianNB(), cv=3, method="isotonic"), (X, y2))
    add("CalibratedClassifierCV-prefit", lambda:
        calibration.CalibratedClassifierCV(
            linear_model.LogisticRegression().fit(X, y2), cv="prefit"),
        (X, y2))
    add("IsolationForest", lambda: ensemble.IsolationForest(n_estimators=5),
        (X,))
    add("RandomForestClassifier-oob", lambda: ensemble.RandomForestClassifier(
        n_estimators=5, oob_score=True), (X, y3))
    add("RandomForestRegressor", lambda: ensemble.RandomForestRegressor(
        n_estimators=5), (X, yr), (X, d.Yr2))
    add("ExtraTreesClassifier", lambda: ensemble.ExtraTreesClassifier(
        n_estimators=5), (X, y3))
    add("RandomTreesEmbedding", lambda: ensemble.RandomTreesEmbedding(
        n_estimators=3), (X,))
    for algo in ("SAMME", "SAMME.R"):
        add("AdaBoostClassifier-" + algo, lambda a=algo:
            ensemble.AdaBoostClassifier(n_estimators=5, algorithm=a), (X, y3))
    add("AdaBoostRegressor", lambda: ensemble.AdaBoostRegressor(
        n_estimators=5), (X, yr))
    add("BaggingClassifier", lambda: ensemble.BaggingClassifier(
        n_estimators=3, oob_score=True), (X, y3))
    for crit in ("gini", "entropy", "log_loss"):
        add("DecisionTreeClassifier-" + crit, lambda c=crit:
            tree.DecisionTreeClassifier(criterion=c, max_depth=3), (X, y3))
    for crit in ("squared_error", "friedman_mse", "absolute_error", "poisson"):
        add("DecisionTreeRegressor-" + crit, lambda c=crit:
            tree.DecisionTreeRegressor(criterion=c, max_depth=3),
            (X, d.yr_pos))
    add("DecisionTreeClassifier-multioutput", lambda:
        tree.DecisionTreeClassifier(max_depth=3), (X, d.Y2c))
    add("VotingClassifier-hard", lambda: ensemble.VotingClassifier(
        [("a", tree.DecisionTreeClassifier()), ("b", naive_bayes.GaussianNB()),
         ("c", "drop")]), (X, y3))
    add("StackingClassifier-passthrough", lambda: ensemble.StackingClassifier(
        [("a", tree.DecisionTreeClassifier()), ("b", svm.SVC())],
        passthrough=True, cv=3), (X, y3))

    # support vector machines
    add("SVC-proba", lambda: svm.SVC(probability=True), (X, y3))
    add("SVC-precomputed", lambda: svm.SVC(kernel="precomputed"),
        (X @ X.T, y3))
    add("NuSVR", svm.NuSVR, (X, yr))
    add("OneClassSVM", svm.OneClassSVM, (X,))
    add("LinearSVC-ovr-cs", lambda: svm.LinearSVC(multi_class="crammer_singer"),
        (X, y3))

    # gaussian processes and kernels
    kernel_list = [
        K.RBF(1.0), K.Matern(nu=2.5), K.RationalQuadratic(),
        K.ExpSineSquared(periodicity=3.0), K.DotProduct(),
        K.WhiteKernel(),
        K.ConstantKernel(2.0) * K.RBF([1.0] * 4) + K.WhiteKernel(0.1),
        K.Exponentiation(K.RBF(), 2), K.PairwiseKernel(metric="linear"),
        K.ConstantKernel() * K.Matern(nu=1.5),
    ]
    for i, kern in enumerate(kernel_list):
        add("GPR-kernel-%d" % i, lambda k=kern:
            gaussian_process.GaussianProcessRegressor(
                kernel=k.clone_with_theta(k.theta), optimizer=None,
                alpha=0.1),
            (X[:, :1] if isinstance(kern, K.ExpSineSquared) else X, yr))
    add("GPR-optimised", lambda: gaussian_process.GaussianProcessRegressor(
        kernel=K.RBF() + K.WhiteKernel(), n_restarts_optimizer=0), (X, yr))
    add("GPC-binary", lambda: gaussian_process.GaussianProcessClassifier(
        kernel=K.RBF()), (X, y2))
    add("GPC-multi", lambda: gaussian_process.GaussianProcessClassifier(
        kernel=K.RBF(), multi_class="one_vs_one"), (X, y3))
    add("GPC-multi-ovr", lambda: gaussian_process.GaussianProcessClassifier(
        kernel=K.Matern()), (X, y3))
    add("GPR-compound-unfitted", lambda:
        gaussian_process.GaussianProcessRegressor(
            kernel=K.CompoundKernel([K.RBF(), K.WhiteKernel()])))

    # searches, cross-validators, scorers
    splitters = [model_selection.KFold(3, shuffle=True, random_state=0),
                 model_selection.StratifiedKFold(3),
                 model_selection.ShuffleSplit(3, test_size=0.3,
                                              random_state=0),
                 model_selection.StratifiedShuffleSplit(3, test_size=0.3,
                                                        random_state=0),
                 model_selection.RepeatedKFold(n_splits=2, n_repeats=2,
                                               random_state=0),
                 model_selection.RepeatedStratifiedKFold(
                     n_splits=2, n_repeats=2, random_state=0),
                 model_selection.TimeSeriesSplit(3),
                 model_selection.LeaveOneOut(),
                 model_selection.PredefinedSplit([i % 3 for i in range(60)])]
    for i, cv in enumerate(splitters):
        add("GridSearchCV-cv-%s" % type(cv).__name__, lambda c=cv:
            model_selection.GridSearchCV(
                tree.DecisionTreeClassifier(), {"max_depth": [1, 2]}, cv=c),
            (X, y3))
    grouped = [model_selection.GroupKFold(3),
               model_selection.LeaveOneGroupOut(),
               model_selection.LeavePGroupsOut(2),
               model_selection.GroupShuffleSplit(2, random_state=0)]
    for cv in grouped:
        add("GridSearchCV-cv-%s" % type(cv).__name__, lambda c=cv:
            model_selection.GridSearchCV(
                tree.DecisionTreeClassifier(), {"max_depth": [1, 2]}, cv=c))
    add("LeavePOut-unfitted", lambda: model_selection.GridSearchCV(
        tree.DecisionTreeClassifier(), {"max_depth": [1]},
        cv=model_selection.LeavePOut(2)))
    for scoring in ("accuracy", "roc_auc_ovr", "neg_log_loss", "f1_macro",
                    "balanced_accuracy", "precision_macro", "recall_macro",
                    "average_precision", "top_k_accuracy"):
        add("GridSearchCV-scoring-" + scoring, lambda s=scoring:
            model_selection.GridSearchCV(
                linear_model.LogisticRegression(), {"C": [1.0]}, cv=3,
                scoring=s),
            (X, y2 if scoring == "average_precision" else y3))
    for scoring in ("r2", "neg_mean_squared_error",
                    "neg_mean_absolute_error", "explained_variance",
                    "neg_root_mean_squared_error", "neg_median_absolute_error",
                    "max_error", "neg_mean_absolute_percentage_error"):
        add("GridSearchCV-scoring-" + scoring, lambda s=scoring:
            model_selection.GridSearchCV(
                linear_model.Ridge(), {"alpha": [1.0]}, cv=3, scoring=s),
            (X, yr))
    add("GridSearchCV-multimetric", lambda: model_selection.GridSearchCV(
        linear_model.LogisticRegression(), {"C": [1.0, 2.0]}, cv=3,
        scoring={"acc": "accuracy", "f1": metrics.make_scorer(
            metrics.fbeta_score, beta=2, average="macro")}, refit="acc"),
        (X, y3))
    add("GridSearchCV-callable-scorer", lambda: model_selection.GridSearchCV(
        linear_model.LogisticRegression(), {"C": [1.0]}, cv=3,
        scoring=metrics.make_scorer(metrics.matthews_corrcoef)), (X, y2))
    add("GridSearchCV-pipeline", lambda: model_selection.GridSearchCV(
        pipeline.Pipeline([("s", preprocessing.StandardScaler()),
                           ("k", feature_selection.SelectKBest(k=2)),
                           ("m", svm.SVC())]),
        {"m__C": [0.5, 1.0]}, cv=3), (X, y3))
    add("cross_val_scorers-unfitted", lambda: [
        metrics.get_scorer(name) for name in sorted(metrics.get_scorer_names())
        if not name.startswith(("adjusted_", "completeness", "homogeneity",
                                "mutual_info", "normalized_mutual",
                                "rand_score", "v_measure", "fowlkes"))])

    # feature selection with score functions
    for fn in (feature_selection.f_classif, feature_selection.chi2,
               feature_selection.mutual_info_classif):
        add("SelectKBest-" + fn.__name__, lambda f=fn:
            feature_selection.SelectKBest(f, k=2), (X, y3))
    for fn in (feature_selection.f_regression,
               feature_selection.mutual_info_regression,
               feature_selection.r_regression):
        add("SelectPercentile-" + fn.__name__, lambda f=fn:
            feature_selection.SelectPercentile(f, percentile=50), (X, yr))
    add("RFECV-scoring", lambda: feature_selection.RFECV(
        svm.LinearSVC(), cv=3, scoring="accuracy"), (X, y3))

    # multiclass wrappers, including a constant binary sub-problem
    yml = np.column_stack([y2, np.zeros(60, dtype=int)])
    add("OneVsRest-constant", lambda: multiclass.OneVsRestClassifier(
        linear_model.LogisticRegression()), (X, yml))
    add("OneVsRest-multiclass", lambda: multiclass.OneVsRestClassifier(
        svm.SVC()), (X, y3))

    # clustering internals
    add("Birch", lambda: cluster.Birch(n_clusters=3), (X,))
    add("Birch-none", lambda: cluster.Birch(n_clusters=None), (X,))
    add("BisectingKMeans", lambda: cluster.BisectingKMeans(3), (X,))
    add("KMeans-elkan", lambda: cluster.KMeans(3, algorithm="elkan",
                                               n_init=2), (X,))
    add("FeatureAgglomeration-pool", lambda: cluster.FeatureAgglomeration(
        2, pooling_func=np.mean), (X,))
    add("AgglomerativeClustering-tree", lambda: cluster.AgglomerativeClustering(
        n_clusters=None, distance_threshold=1.0, compute_distances=True), (X,))

    # imputers
    add("IterativeImputer", lambda: impute.IterativeImputer(max_iter=3),
        (np.where(np.arange(240).reshape(60, 4) % 7 == 0, np.nan, X),))
    add("SimpleImputer-indicator", lambda: impute.SimpleImputer(
        add_indicator=True),
        (np.where(np.arange(240).reshape(60, 4) % 5 == 0, np.nan, X),))
    add("KNNImputer", impute.KNNImputer,
        (np.where(np.arange(240).reshape(60, 4) % 6 == 0, np.nan, X),))

    # manifold learning, decomposition, misc
    add("Isomap-kd", lambda: manifold.Isomap(n_neighbors=5,
                                              neighbors_algorithm="kd_tree"),
        (X,))
    add("LocallyLinearEmbedding", lambda: manifold.LocallyLinearEmbedding(
        n_neighbors=6, neighbors_algorithm="ball_tree"), (X,))
    add("KernelPCA-inverse", lambda: decomposition.KernelPCA(
        2, kernel="rbf", fit_inverse_transform=True), (X,))
    add("LatentDirichletAllocation", lambda:
        decomposition.LatentDirichletAllocation(2, max_iter=3), (d.Xint,))
    add("DictionaryLearning", lambda: decomposition.DictionaryLearning(
        3, max_iter=5), (X,))
    add("SelfTrainingClassifier-svc", lambda:
        semi_supervised.SelfTrainingClassifier(svm.SVC(probability=True)),
        (X, np.where(np.arange(60) % 4 == 0, -1, y3)))
    return cases


def run_fit_cases(d, budget):
    """Fit every case, pickle at each protocol, walk.  Returns
    (usage, n_ok, failures)."""
    from sklearn.utils import all_estimators
    usage = Usage()
    ctors = _default_constructors()
    special = _special_fits(d)
    cases = []
    for name, cls in all_estimators():
        factory = ctors.get(name, cls)
        cases.append((name, factory, special.get(name)))
    cases.extend(extra_cases(d))

    n_ok = 0
    failures = []
    for label, factory, fits in cases:
        t0 = time.monotonic()
        try:
            with time_budget(budget):
                est = factory()
                if isinstance(est, list):
                    fitted = est
                else:
                    _seed(est)
                    attempts = fits if fits is not None else \
                        generic_attempts(est, d)
                    fitted = None
                    last = None
                    for args in attempts:
                        try:
                            fitted = est.fit(*args)
                            break
                        except CaseTimeout:
                            raise
                        except Exception as exc:
                            last = exc
                    if not attempts:
                        fitted = est          # kept unfitted on purpose
                    elif fitted is None:
                        # keep the unfitted estimator for its parameters
                        failures.append("%s (fit: %s)" % (
                            label, type(last).__name__))
                        fitted = est
                blobs = [pickle.dumps(fitted, protocol=p) for p in PROTOCOLS]
        except CaseTimeout:
            failures.append("%s (timeout)" % label)
            continue
        except Exception as exc:
            failures.append("%s (%s: %s)" % (label, type(exc).__name__,
                                             str(exc)[:60]))
            continue
        for blob in blobs:
            u, status = walk_bytes(blob)
            if status != "ok":
                failures.append("%s (walk: %s)" % (label, status))
            usage.merge(u)
        n_ok += 1
        dt = time.monotonic() - t0
        if dt > 5:
            log("  slow case %s: %.1fs" % (label, dt))
    return usage, n_ok, len(cases), failures


# ---------------------------------------------------------------------------
# Source 3: the wild MANIFEST
# ---------------------------------------------------------------------------

def read_manifest(path):
    rows = []
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            cells = line.split("\t")
            cells += [""] * (len(header) - len(cells))
            rows.append(dict(zip(header, cells)))
    return rows


def _inflate(data):
    """Decompress by magic number with the standard library only."""
    def capped(dec, payload):
        out = dec.decompress(payload, MAX_DECOMPRESSED)
        if not getattr(dec, "eof", True) and len(out) >= MAX_DECOMPRESSED:
            raise WalkError("decompressed size over limit")
        return out

    if data[:2] == b"\x1f\x8b":
        return capped(zlib.decompressobj(31), data), "gzip"
    if data[:3] == b"BZh":
        return capped(bz2.BZ2Decompressor(), data), "bz2"
    if data[:6] == b"\xfd7zXZ\x00":
        return capped(lzma.LZMADecompressor(lzma.FORMAT_XZ), data), "xz"
    if data[:3] == b"\x5d\x00\x00":
        return capped(lzma.LZMADecompressor(lzma.FORMAT_ALONE), data), "lzma"
    if data[:4] == b"\x04\x22\x4d\x18":
        try:
            import lz4.frame as lzf
        except ImportError:
            raise WalkError("lz4 module not available")
        return capped(lzf.LZ4FrameDecompressor(), data), "lz4"
    if data[:2] == b"ZF":
        # joblib < 0.10: 'ZF' + hex length padded to 19 bytes + zlib stream
        start = 21 + (1 if data[21:22] == b" " else 0)
        return capped(zlib.decompressobj(), data[start:]), "zf"
    if data[:1] == b"\x78":
        return capped(zlib.decompressobj(), data), "zlib"
    return data, "none"


def walk_wild_file(base, row):
    path = os.path.join(base, row["file"])
    res = types.SimpleNamespace(usage=Usage(), status="", file=row["file"])
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        data, _kind = _inflate(raw)
    except Exception as exc:
        res.status = "not decompressed: %s" % (str(exc)[:60] or
                                               type(exc).__name__)
        return res
    res.usage, res.status = walk_bytes(data)
    return res


def source_wild(base):
    manifest = os.path.join(base, "MANIFEST.tsv")
    rows = read_manifest(manifest)
    usage = Usage()
    wanted = set()
    statuses = []
    for row in rows:
        res = walk_wild_file(base, row)
        statuses.append((row["id"], res.status))
        usage.merge(res.usage)
        for g in row.get("all_globals", "").split(","):
            g = g.strip()
            if g and "." in g and in_sklearn_scope(g.rsplit(".", 1)[0]):
                wanted.add(g)
    # match the dotted MANIFEST names against the (module, name) pairs seen
    found = {}
    for (module, name), uses in usage.uses.items():
        dotted = module + "." + name
        if dotted in wanted:
            found[(module, name)] = uses
    unseen = sorted(wanted - {m + "." + n for m, n in found})
    return found, unseen, statuses


# ---------------------------------------------------------------------------
# Source 4: historical and later names
# ---------------------------------------------------------------------------

# Private module introduced in 0.22 (or later) -> public module it replaced.
# From the 0.22 deprecation list (sklearn/_build_utils/deprecated_modules.py)
# restricted to modules that define picklable objects, plus the older moves
# noted in the comments.
OLD_MODULE_PATHS = {
    "sklearn.calibration": [],
    "sklearn.cluster._affinity_propagation":
        ["sklearn.cluster.affinity_propagation_"],
    "sklearn.cluster._agglomerative": ["sklearn.cluster.hierarchical"],
    "sklearn.cluster._bicluster": ["sklearn.cluster.bicluster"],
    "sklearn.cluster._birch": ["sklearn.cluster.birch"],
    "sklearn.cluster._dbscan": ["sklearn.cluster.dbscan_"],
    "sklearn.cluster._kmeans": ["sklearn.cluster.k_means_"],
    "sklearn.cluster._mean_shift": ["sklearn.cluster.mean_shift_"],
    "sklearn.cluster._optics": ["sklearn.cluster.optics_"],
    "sklearn.cluster._spectral": ["sklearn.cluster.spectral"],
    "sklearn.covariance._elliptic_envelope":
        ["sklearn.covariance.elliptic_envelope"],
    "sklearn.covariance._empirical_covariance":
        ["sklearn.covariance.empirical_covariance_"],
    "sklearn.covariance._graph_lasso": ["sklearn.covariance.graph_lasso_"],
    "sklearn.covariance._robust_covariance":
        ["sklearn.covariance.robust_covariance"],
    "sklearn.covariance._shrunk_covariance":
        ["sklearn.covariance.shrunk_covariance_"],
    "sklearn.cross_decomposition._pls": ["sklearn.cross_decomposition.pls_"],
    "sklearn.decomposition._base": ["sklearn.decomposition.base"],
    "sklearn.decomposition._dict_learning":
        ["sklearn.decomposition.dict_learning"],
    "sklearn.decomposition._factor_analysis":
        ["sklearn.decomposition.factor_analysis"],
    "sklearn.decomposition._fastica": ["sklearn.decomposition.fastica_"],
    "sklearn.decomposition._incremental_pca":
        ["sklearn.decomposition.incremental_pca"],
    "sklearn.decomposition._kernel_pca": ["sklearn.decomposition.kernel_pca"],
    "sklearn.decomposition._lda": ["sklearn.decomposition.online_lda"],
    "sklearn.decomposition._nmf": ["sklearn.decomposition.nmf"],
    "sklearn.decomposition._pca": ["sklearn.decomposition.pca"],
    "sklearn.decomposition._sparse_pca": ["sklearn.decomposition.sparse_pca"],
    "sklearn.decomposition._truncated_svd":
        ["sklearn.decomposition.truncated_svd"],
    "sklearn.ensemble._bagging": ["sklearn.ensemble.bagging"],
    "sklearn.ensemble._base": ["sklearn.ensemble.base"],
    "sklearn.ensemble._forest": ["sklearn.ensemble.forest"],
    "sklearn.ensemble._gb": ["sklearn.ensemble.gradient_boosting"],
    # the loss classes lived in gradient_boosting.py until 0.21 made
    # _gb_losses (which was private from the start)
    "sklearn.ensemble._gb_losses": ["sklearn.ensemble.gradient_boosting"],
    "sklearn.ensemble._iforest": ["sklearn.ensemble.iforest"],
    # voting.py was voting_classifier.py until 0.21 added VotingRegressor
    "sklearn.ensemble._voting": ["sklearn.ensemble.voting",
                                 "sklearn.ensemble.voting_classifier"],
    "sklearn.ensemble._weight_boosting": ["sklearn.ensemble.weight_boosting"],
    "sklearn.feature_extraction._dict_vectorizer":
        ["sklearn.feature_extraction.dict_vectorizer"],
    "sklearn.feature_extraction._hash": ["sklearn.feature_extraction.hashing"],
    "sklearn.feature_selection._base": ["sklearn.feature_selection.base"],
    "sklearn.feature_selection._from_model":
        ["sklearn.feature_selection.from_model"],
    "sklearn.feature_selection._mutual_info":
        ["sklearn.feature_selection.mutual_info"],
    "sklearn.feature_selection._rfe": ["sklearn.feature_selection.rfe"],
    "sklearn.feature_selection._univariate_selection":
        ["sklearn.feature_selection.univariate_selection"],
    "sklearn.feature_selection._variance_threshold":
        ["sklearn.feature_selection.variance_threshold"],
    "sklearn.gaussian_process._gpc": ["sklearn.gaussian_process.gpc"],
    "sklearn.gaussian_process._gpr": ["sklearn.gaussian_process.gpr"],
    # sklearn/impute.py was a single module in 0.20
    "sklearn.impute._base": ["sklearn.impute"],
    "sklearn.linear_model._base": ["sklearn.linear_model.base"],
    "sklearn.linear_model._bayes": ["sklearn.linear_model.bayes"],
    "sklearn.linear_model._coordinate_descent":
        ["sklearn.linear_model.coordinate_descent"],
    "sklearn.linear_model._huber": ["sklearn.linear_model.huber"],
    "sklearn.linear_model._least_angle": ["sklearn.linear_model.least_angle"],
    "sklearn.linear_model._logistic": ["sklearn.linear_model.logistic"],
    "sklearn.linear_model._omp": ["sklearn.linear_model.omp"],
    "sklearn.linear_model._passive_aggressive":
        ["sklearn.linear_model.passive_aggressive"],
    "sklearn.linear_model._perceptron": ["sklearn.linear_model.perceptron"],
    "sklearn.linear_model._ransac": ["sklearn.linear_model.ransac"],
    "sklearn.linear_model._ridge": ["sklearn.linear_model.ridge"],
    "sklearn.linear_model._sgd_fast": ["sklearn.linear_model.sgd_fast"],
    "sklearn.linear_model._stochastic_gradient":
        ["sklearn.linear_model.stochastic_gradient"],
    "sklearn.linear_model._theil_sen": ["sklearn.linear_model.theil_sen"],
    "sklearn.manifold._isomap": ["sklearn.manifold.isomap"],
    "sklearn.manifold._locally_linear": ["sklearn.manifold.locally_linear"],
    "sklearn.manifold._mds": ["sklearn.manifold.mds"],
    "sklearn.manifold._spectral_embedding":
        ["sklearn.manifold.spectral_embedding_"],
    "sklearn.manifold._t_sne": ["sklearn.manifold.t_sne"],
    "sklearn.metrics._classification": ["sklearn.metrics.classification"],
    "sklearn.metrics._ranking": ["sklearn.metrics.ranking"],
    "sklearn.metrics._regression": ["sklearn.metrics.regression"],
    "sklearn.metrics._scorer": ["sklearn.metrics.scorer"],
    # 0.22 made neighbors.dist_metrics private, 1.0 moved it to metrics
    "sklearn.metrics._dist_metrics": ["sklearn.neighbors._dist_metrics",
                                      "sklearn.neighbors.dist_metrics"],
    "sklearn.mixture._base": ["sklearn.mixture.base"],
    "sklearn.mixture._bayesian_mixture": ["sklearn.mixture.bayesian_mixture"],
    "sklearn.mixture._gaussian_mixture": ["sklearn.mixture.gaussian_mixture"],
    "sklearn.neighbors._ball_tree": ["sklearn.neighbors.ball_tree"],
    "sklearn.neighbors._base": ["sklearn.neighbors.base"],
    "sklearn.neighbors._classification": ["sklearn.neighbors.classification"],
    "sklearn.neighbors._graph": ["sklearn.neighbors.graph"],
    "sklearn.neighbors._kd_tree": ["sklearn.neighbors.kd_tree"],
    "sklearn.neighbors._kde": ["sklearn.neighbors.kde"],
    "sklearn.neighbors._lof": ["sklearn.neighbors.lof"],
    "sklearn.neighbors._nca": ["sklearn.neighbors.nca"],
    "sklearn.neighbors._nearest_centroid":
        ["sklearn.neighbors.nearest_centroid"],
    "sklearn.neighbors._regression": ["sklearn.neighbors.regression"],
    "sklearn.neighbors._unsupervised": ["sklearn.neighbors.unsupervised"],
    "sklearn.neural_network._multilayer_perceptron":
        ["sklearn.neural_network.multilayer_perceptron"],
    "sklearn.neural_network._rbm": ["sklearn.neural_network.rbm"],
    "sklearn.preprocessing._data": ["sklearn.preprocessing.data"],
    "sklearn.preprocessing._label": ["sklearn.preprocessing.label"],
    "sklearn.semi_supervised._label_propagation":
        ["sklearn.semi_supervised.label_propagation"],
    "sklearn.svm._base": ["sklearn.svm.base"],
    "sklearn.svm._classes": ["sklearn.svm.classes"],
    "sklearn.tree._classes": ["sklearn.tree.tree"],
    # Bunch lived in sklearn/utils/__init__.py until 1.2 made utils._bunch
    "sklearn.utils._bunch": ["sklearn.utils"],
}

# Names that must not be copied to a given old module (they were defined
# elsewhere, or did not exist, when that old module did).
_OLD_PATH_ONLY = {
    # cca_.py held CCA alone; pls_.py everything else (merged in 0.24)
    ("sklearn.cross_decomposition._pls", "sklearn.cross_decomposition.cca_"):
        {"CCA"},
    ("sklearn.impute._base", "sklearn.impute"):
        {"SimpleImputer", "MissingIndicator"},
    ("sklearn.ensemble._voting", "sklearn.ensemble.voting_classifier"):
        {"VotingClassifier"},
    ("sklearn.utils._bunch", "sklearn.utils"): {"Bunch"},
}
_OLD_PATH_EXCLUDE = {
    ("sklearn.cross_decomposition._pls", "sklearn.cross_decomposition.pls_"):
        {"CCA"},
}
OLD_MODULE_PATHS["sklearn.cross_decomposition._pls"].append(
    "sklearn.cross_decomposition.cca_")


# Old paths are given to functions (value-only rows) only where old pickles
# really stored them: score functions held by scorers and selectors.
_OLD_PATH_FUNCTION_MODULES = ("sklearn.metrics.", "sklearn.feature_selection.")


def _old_path_allowed(new_mod, old_mod, qualname, is_function):
    if is_function and not new_mod.startswith(_OLD_PATH_FUNCTION_MODULES):
        return False
    only = _OLD_PATH_ONLY.get((new_mod, old_mod))
    if only is not None and qualname not in only:
        return False
    if qualname in _OLD_PATH_EXCLUDE.get((new_mod, old_mod), ()):
        return False
    # the float32 specialisations only exist since 1.1, long after these
    # modules went private / moved
    if old_mod.startswith("sklearn.neighbors") and (
            qualname.endswith("32") or qualname == "DistanceMetric32"):
        return False
    return True


# metric classes of sklearn >= 1.3's _dist_metrics (suffix 64 and 32)
_DIST_METRICS_LATEST = [
    "BrayCurtisDistance", "CanberraDistance", "ChebyshevDistance",
    "DiceDistance", "EuclideanDistance", "HammingDistance",
    "HaversineDistance", "JaccardDistance", "KulsinskiDistance",
    "MahalanobisDistance", "ManhattanDistance", "MatchingDistance",
    "MinkowskiDistance", "RogersTanimotoDistance", "RussellRaoDistance",
    "SEuclideanDistance", "SokalMichenerDistance", "SokalSneathDistance",
]


def _is_function_row(module, name):
    obj = resolve_loaded(module, name)
    return obj is not None and not isinstance(obj, type)


def _is_python_function_row(module, name):
    return _is_function_row(module, name) and not is_cython_reconstructor(name)


def derived_names(rows):
    """Yield (module, qualname, tier, why) for names of other releases,
    copying the tier of the 1.2.1 row they stand for."""
    def tier_of(module, name):
        return rows.get((module, name))

    # 1. pre-0.22 public module paths
    for (module, name), tier in sorted(rows.items()):
        for old in OLD_MODULE_PATHS.get(module, []):
            if _old_path_allowed(module, old, name,
                                 _is_python_function_row(module, name)):
                yield old, name, tier, "old path of %s" % module

    # Old KDTree/BallTree pickles name the Cython base class BinaryTree as
    # newObj's argument (seen in the wild for kd_tree); both tree modules
    # define it, in 1.2.1 too.
    t = tier_of("sklearn.neighbors.kd_tree", "BinaryTree")
    if t:
        for mod in ("sklearn.neighbors.ball_tree",
                    "sklearn.neighbors._kd_tree",
                    "sklearn.neighbors._ball_tree"):
            yield mod, "BinaryTree", t, "BinaryTree as in kd_tree (wild)"

    # 2. sklearn >= 1.3 Cython renames
    dm = "sklearn.metrics._dist_metrics"
    for base in _DIST_METRICS_LATEST:
        t = tier_of(dm, base) or tier_of(dm, base + "32")
        if t:
            yield dm, base + "64", t, ">=1.3 rename of %s" % base
            yield dm, base + "32", t, ">=1.3 float32 twin of %s" % base
    for mod, cls in (("sklearn.neighbors._kd_tree", "KDTree"),
                     ("sklearn.neighbors._ball_tree", "BallTree")):
        t = tier_of(mod, cls)
        if t:
            for suffix in ("64", "32"):
                yield mod, cls + suffix, t, ">=1.3 rename of %s" % cls

    # 3. sklearn >= 1.4 loss classes and links
    lm = "sklearn._loss.loss"
    t = tier_of(lm, "HalfSquaredError")
    if t:
        for cls in ("HuberLoss", "ExponentialLoss"):
            yield lm, cls, t, ">=1.4 loss class (like HalfSquaredError)"
    lk = "sklearn._loss.link"
    t = tier_of(lk, "LogitLink")
    if t:
        yield lk, "HalfLogitLink", t, ">=1.4 link (like LogitLink)"
    yield from cython_loss_names(rows)


# Cython loss types added in 1.4, and whether they carry a parameter
_CY_LOSSES_LATER = {"CyHuberLoss": True, "CyExponentialLoss": False}
_CY_LOSS_MODULES = ("sklearn._loss._loss", "_loss")


def _cy_loss_classes():
    """{name: has_state} for the Cython loss types of 1.2.1 and later.
    Statefulness is read from 1.2.1's own Cython pickling support."""
    mod = sys.modules.get("sklearn._loss._loss")
    found = {}
    for name in sorted(dir(mod) if mod else ()):
        cls = getattr(mod, name)
        if not (name.startswith("Cy") and isinstance(cls, type)) \
                or name == "CyLossFunction":
            continue
        try:
            func, args = cls().__reduce_ex__(2)[:2]
            found[name] = bool(args[2]) if func.__name__.startswith(
                "__pyx_unpickle_") and len(args) == 3 else True
        except TypeError:      # needs a parameter: quantile, power ...
            found[name] = True
    found.update(_CY_LOSSES_LATER)
    return found


def cython_loss_names(rows):
    """The Cython loss types under both module spellings.

    Builds made with meson (sklearn >= 1.5 wheels) pickle sklearn._loss._loss
    types under the bare top-level module name '_loss' (MANIFEST flag
    BARE_CYTHON_MODULE).  Cython 0.29 / early 3.0 pickle every type through
    __pyx_unpickle_<type>(type, checksum, state) (the type is a value);
    newer Cython pickles a type without fields as (type, ()), a REDUCE
    calling the type (seen in the wild for _loss.CyHalfSquaredError).  Each
    spelling therefore gets the union of what was seen under either."""
    classes = _cy_loss_classes()
    if not any(m in _CY_LOSS_MODULES for m, _ in rows):
        return
    seen_stateless_call = any(
        rows.get((m, n), 0) & CALL
        for m in _CY_LOSS_MODULES for n, st in classes.items() if not st)
    seen_unpickle = any(
        (m, "__pyx_unpickle_" + n) in rows
        for m in _CY_LOSS_MODULES for n in classes)
    for name, has_state in sorted(classes.items()):
        tier = 0
        for m in _CY_LOSS_MODULES:
            tier |= rows.get((m, name), 0)
        if not has_state and seen_stateless_call:
            tier |= CALL
        tier = tier or VALUE
        for m in _CY_LOSS_MODULES:
            yield m, name, tier, "Cython loss type, both module spellings"
            if seen_unpickle:
                yield (m, "__pyx_unpickle_" + name, CALL,
                       "Cython reconstructor, both module spellings")


# ---------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------

def classify_global(key, uses, reports):
    """Apply the exclusion rules to an observed global.  Returns a tier or
    None (excluded)."""
    module, name = key
    if not in_sklearn_scope(module):
        return None
    tier = tiers_from_uses(uses)
    obj = resolve_loaded(module, name)
    is_func = obj is not None and not isinstance(obj, type)
    if obj is None:
        # an old or newer name that 1.2.1 cannot show us: only its usage
        if tier & CALL and not is_cython_reconstructor(name) \
                and not name[:1].isupper():
            reports["excluded"].append("%s.%s (unresolved callable)" % key)
            return None
        return tier
    if is_func:
        if tier & (CALL | NEW):
            if is_cython_reconstructor(name):
                return CALL
            reports["excluded"].append("%s.%s (function called)" % key)
            return None
        return VALUE
    if "newargs" in uses or "inst" in uses:
        reports["newargs"].append("%s.%s" % key)
    return tier


def tier_expr(tier):
    if tier & (NEW | CALL):
        tier &= ~VALUE
    return " | ".join(n for bit, n in TIER_NAMES if tier & bit)


def build(args):
    t_start = time.monotonic()
    import numpy
    import scipy
    import joblib
    import sklearn

    modules, import_failures = import_sklearn_modules()
    log("imported %d sklearn modules (%d failed)" % (
        len(modules), len(import_failures)))

    rows = {}          # (module, qualname) -> tier bits
    sources = {}       # (module, qualname) -> set of source numbers
    reports = {"excluded": [], "newargs": [],
               "derived": [], "unseen": []}

    def put(key, tier, source):
        rows[key] = rows.get(key, 0) | tier
        sources.setdefault(key, set()).add(source)

    # 1
    est_rows, abstract = source_estimators(modules)
    for key, tier in est_rows.items():
        put(key, tier, 1)
    log("source 1: %d BaseEstimator subclasses (%d abstract skipped)" % (
        len(est_rows), len(abstract)))

    # 2
    t2 = time.monotonic()
    d = make_data()
    with contextlib.redirect_stdout(sys.stderr):
        fit_usage, n_ok, n_cases, failures = run_fit_cases(d, args.budget)
    n2 = 0
    for key, uses in sorted(fit_usage.uses.items()):
        tier = classify_global(key, uses, reports)
        if tier:
            put(key, tier, 2)
            n2 += 1
    log("source 2: %d globals from %d/%d fit cases in %.0fs" % (
        n2, n_ok, n_cases, time.monotonic() - t2))
    for f in failures:
        log("  case failed: " + f)

    # 3
    n3 = 0
    wild_statuses = []
    if args.wild:
        found, unseen, wild_statuses = source_wild(args.wild)
        for key, uses in sorted(found.items()):
            tier = classify_global(key, uses, reports)
            if tier:
                put(key, tier, 3)
                n3 += 1
        for dotted in unseen:
            reports["unseen"].append(dotted)
        log("source 3: %d MANIFEST globals (%d never reached by a walk)" % (
            n3, len(unseen)))
        for fid, status in wild_statuses:
            if status != "ok":
                log("  wild %s: %s" % (fid, status))

    # 4 (derived from the rows so far; never overrides)
    n4 = 0
    base_rows = dict(rows)
    derived = list(derived_names(base_rows))
    for module, name, tier, why in derived:
        key = (module, name)
        if key not in rows:
            reports["derived"].append("%s.%s: %s" % (module, name, why))
            n4 += 1
        put(key, tier, 4)

    # VALUE rows among those found only through derivation stay as derived
    for key in rows:
        if rows[key] & (NEW | CALL):
            rows[key] &= ~VALUE

    counts = {s: sum(1 for k in rows if s in sources[k]) for s in (1, 2, 3, 4)}
    only = {s: sum(1 for k in rows if sources[k] == {s}) for s in (1, 2, 3, 4)}
    by_tier = {}
    for tier in rows.values():
        by_tier[tier_expr(tier)] = by_tier.get(tier_expr(tier), 0) + 1

    out = io.StringIO()
    w = out.write
    w("/* Generated by %s -- DO NOT EDIT BY HAND.\n" % SCRIPT)
    w(" * Regenerate with:\n")
    w(" *   /usr/bin/python3 %s -o src/pickle/allowlist_sklearn.inc\n"
      % SCRIPT)
    w(" * Generated against scikit-learn %s, numpy %s, scipy %s, joblib %s.\n"
      % (sklearn.__version__, numpy.__version__, scipy.__version__,
         joblib.__version__))
    w(" *\n")
    w(" * Rows: BP_ALLOW(TIERS, \"module\", \"qualname\"), sorted by module\n")
    w(" * then qualname in byte order.  BP_T_NEW: may be created empty\n")
    w(" * (NEWOBJ/NEWOBJ_EX with no arguments, copyreg._reconstructor) and\n")
    w(" * BUILT; BP_T_CALL: may be the callable of REDUCE; BP_T_VALUE: only\n")
    w(" * ever referenced as a value.  Every row may be used as a value.\n")
    w(" *\n")
    w(" * Rows per source (a row may have several sources; in brackets the\n")
    w(" * rows that only that source produced):\n")
    def count_line(n, label):
        w(" *   %d %s %4d [%d]\n" % (n, (label + ":").ljust(48), counts[n],
                                     only[n]))

    count_line(1, "BaseEstimator subclasses (sklearn %s)"
               % sklearn.__version__)
    w(" *     (%d abstract classes left out: they cannot be instantiated)\n"
      % len(abstract))
    count_line(2, "globals in pickles of fitted estimators")
    w(" *     (%d fit cases, protocols %s)\n"
      % (n_cases, ", ".join(map(str, PROTOCOLS))))
    count_line(3, "sklearn globals of the wild MANIFEST.tsv")
    count_line(4, "old module paths and renamed names")
    w(" * Rows in total: %d; by tier:\n" % len(rows))
    for expr in sorted(by_tier):
        w(" *   %-24s %4d\n" % (expr, by_tier[expr]))
    w(" */\n")

    def block(title, items):
        if not items:
            return
        w("\n/* %s\n" % title)
        for item in sorted(set(items)):
            w(" *   %s\n" % item)
        w(" */\n")

    # function rows, for review: resolved in 1.2.1, Cython reconstructor
    # names, or an old path of a 1.2.1 function
    old_to_new = {}
    for new, olds in OLD_MODULE_PATHS.items():
        for old in olds:
            old_to_new.setdefault(old, []).append(new)

    def is_function(module, name):
        if is_cython_reconstructor(name) or _is_function_row(module, name):
            return True
        return any(_is_function_row(new, name)
                   for new in old_to_new.get(module, ()))

    functions = ["%-12s %s.%s" % ("CALL" if rows[k] & CALL else "VALUE",
                                  k[0], k[1])
                 for k in rows if is_function(*k)]
    block("Function rows (review).  CALL: Cython reconstructors seen as a "
          "REDUCE\n * callable (newObj, __pyx_unpickle_*).  VALUE: Python "
          "functions seen only\n * as values (score functions held by "
          "scorers and selectors) and their old\n * module paths.",
          functions)
    block("Classes seen instantiated with arguments (NEWOBJ with a non-empty"
          "\n * tuple, e.g. namedtuples); given BP_T_CALL.",
          reports["newargs"])
    block("Observed but left out (a Python function in a REDUCE position).",
          reports["excluded"])
    block("MANIFEST names not reached by any walk (not emitted).",
          reports["unseen"])
    w("\n")
    w("/* Trailing comments name the sources (1-4) of each row. */\n")
    for key in sorted(rows, key=lambda k: (k[0].encode(), k[1].encode())):
        w('BP_ALLOW(%s, "%s", "%s") /* %s */\n' % (
            tier_expr(rows[key]), key[0], key[1],
            ",".join(map(str, sorted(sources[key])))))
    log("total %d rows in %.0fs" % (len(rows), time.monotonic() - t_start))
    return out.getvalue()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    default_wild = None
    for cand in (os.path.join(repo, "shared", "wild"),
                 "/work/shared/wild"):
        if os.path.isfile(os.path.join(cand, "MANIFEST.tsv")):
            default_wild = cand
            break
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    ap.add_argument("--wild", default=default_wild,
                    help="directory holding MANIFEST.tsv and files/ "
                         "(default: %(default)s)")
    ap.add_argument("--no-wild", action="store_true",
                    help="skip source 3 (the output will differ)")
    ap.add_argument("--budget", type=float, default=CASE_BUDGET_S,
                    help="seconds allowed per fit case (default %(default)s)")
    args = ap.parse_args()
    if args.no_wild:
        args.wild = None
    elif not args.wild:
        ap.error("MANIFEST.tsv not found; pass --wild DIR or --no-wild")

    # Anything printed by estimators (C or Python) must not reach the .inc.
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        text = build(args)
    finally:
        sys.stdout.flush()
        os.dup2(real_stdout, 1)
        os.close(real_stdout)
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(text)
        os.replace(tmp, args.output)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
