#!/usr/bin/python3
"""make_fuzz_corpus.py — seed inputs for the libFuzzer targets in fuzz/.

    /usr/bin/python3 tools/make_fuzz_corpus.py [OUTDIR]     (default fuzz/corpus)

Writes OUTDIR/load, OUTDIR/npy, OUTDIR/literal and OUTDIR/decompress from
scratch.  Run it with Debian's interpreter (numpy 1.24, joblib 1.2,
scikit-learn 1.2, lz4): the pickles must be what real users' Python writes.

Every seed is small (< 8 KiB; < 400 KiB per target) so the fuzzer mutates
structure, not bulk, and the output is deterministic (fixed random seeds,
string hashing pinned, gzip mtime 0, no timestamps or temporary names in
any file), so regenerating it gives a clean `git diff`.

Seeds are named for what they hold; hostile hand-made streams start with
`evil-`, and nothing here is ever run: they only have to be parsed.
"""
import io
import os
import shutil
import struct
import sys
import tempfile

# Pickles of sets and dicts built from sets list str items in hash order;
# pin the hash seed so the output is the same on every run.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import bz2  # noqa: E402
import collections  # noqa: E402
import gzip  # noqa: E402
import lzma  # noqa: E402
import pickle  # noqa: E402
import zlib  # noqa: E402

import joblib  # noqa: E402
import lz4.frame  # noqa: E402
import numpy as np  # noqa: E402

MAX_SEED = 8 * 1024
MAX_TARGET = 400 * 1024
PROTOCOLS = range(0, 6)


class Target:
    """One corpus directory; refuses seeds that break the size rules."""

    def __init__(self, root, name):
        self.dir = os.path.join(root, name)
        self.name = name
        self.total = 0
        self.names = set()
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)

    def put(self, name, data):
        if name in self.names:
            raise SystemExit(f"{self.name}: duplicate seed name {name}")
        if len(data) >= MAX_SEED:
            raise SystemExit(f"{self.name}/{name}: {len(data)} bytes, seeds must stay under {MAX_SEED}")
        self.names.add(name)
        self.total += len(data)
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data)

    def done(self):
        if self.total >= MAX_TARGET:
            raise SystemExit(f"{self.name}: {self.total} bytes in all, the budget is {MAX_TARGET}")
        print(f"{self.name}: {len(self.names)} seeds, {self.total} bytes")


# ------------------------------------------------------------ python values

def python_values():
    """Assorted builtin values, with shared and recursive references."""
    shared = [1, "two"]
    self_list = []
    self_list.append(self_list)
    self_dict = {}
    self_dict["self"] = self_dict
    # A tuple reachable from itself through a list: the pickler has to emit
    # POP_MARK + GET to close the cycle.
    cyc_tuple = ([],)
    cyc_tuple[0].append(cyc_tuple)
    return {
        "none": None,
        "bools": (True, False),
        "small-ints": [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1],
        "big-ints": [2**63, -2**63 - 1, 2**64, 2**1000, -(2**1000)],
        "floats": [0.0, -0.0, 1.5, float("inf"), float("-inf"), float("nan"), 1e-310, 1e308],
        "complex": [1 + 2j, complex(float("nan"), -0.0)],
        "str": ["", "a", "héllo", "€ 𝄞 emoji \U0001F600", "line\nbreak\\back", "\ud800 lone surrogate"],
        "bytes": [b"", b"\x00\xff", bytes(range(256))],
        "bytearray": bytearray(b"abc\x00"),
        "tuples": ((), (1,), (1, 2), (1, 2, 3), tuple(range(10))),
        "nested": {"a": [1, {"b": (2, [3, {"c": None}])}], "d": {}},
        "dict-int-keys": {1: "one", 2.5: "float key", (1, 2): "tuple key", None: 0, False: "bool"},
        "set": {1, 2, 3, "x"},
        "frozenset": frozenset({frozenset({1}), 2, "y"}),
        "slice": [slice(1, 10, 2), slice(None)],
        "shared": [shared, shared, {"k": shared}],
        "recursive-list": self_list,
        "recursive-dict": self_dict,
        "recursive-tuple": cyc_tuple,
        "ordered-dict": collections.OrderedDict([("b", 1), ("a", 2)]),
        "many-strs": [f"s{k}" for k in range(300)],
    }


# ------------------------------------------------------------- numpy values

def clean_padding(arr):
    """x87 long doubles fill 10 of their 16 bytes; numpy leaves the other 6
    as whatever was in memory.  Zero them so the seeds are reproducible."""
    if arr.dtype.kind not in "fc" or arr.dtype.itemsize not in (16, 32) or arr.dtype == np.complex128:
        return arr
    raw = arr.view(np.uint8).reshape(-1, 16).copy()
    raw[:, 10:] = 0
    return raw.reshape(-1).view(arr.dtype)


def numpy_arrays():
    """Every dtype kind numpy pickles, odd layouts, scalars and helpers."""
    rng = np.random.RandomState(0)
    arrays = {}
    for dt in ["?", "i1", "u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", ">i4", ">f8",
               "<f2", "<f4", "<f8", "<f16", "<c8", "<c16", "<c32"]:
        name = dt.replace("<", "le-").replace(">", "be-").replace("?", "bool")
        arrays[f"dtype-{name}"] = clean_padding((rng.rand(5) * 100).astype(dt))
    arrays["dtype-U"] = np.array(["a", "héllo", ""], dtype="<U5")
    arrays["dtype-S"] = np.array([b"ab", b"", b"xyz"], dtype="S3")
    arrays["dtype-V"] = np.array([b"\x01\x02\x03"], dtype="V3")
    arrays["dtype-M8"] = np.array(["2020-01-01", "NaT"], dtype="datetime64[ns]")
    arrays["dtype-m8"] = np.array([1, -2], dtype="timedelta64[s]")
    arrays["dtype-O"] = np.array([1, "two", None, [3]], dtype=object)
    arrays["structured"] = np.array([(1, 2.5, b"x"), (3, -1.0, b"yz")],
                                    dtype=[("a", "<i4"), ("b", "<f8"), ("c", "S2")])
    arrays["structured-aligned"] = np.zeros(2, dtype=np.dtype([("a", "u1"), ("b", "<i8")], align=True))
    arrays["structured-subarray"] = np.zeros(2, dtype=[("v", "<f4", (2, 3)), ("n", "<i2")])
    arrays["structured-nested"] = np.zeros(1, dtype=[("p", [("x", "<f4"), ("y", "<f4")]), ("id", "<i8")])
    arrays["structured-titles"] = np.zeros(1, dtype={"names": ["a"], "formats": ["<i4"], "titles": ["Title"]})
    arrays["structured-object"] = np.array([(1, "obj")], dtype=[("i", "<i4"), ("o", "O")])
    arrays["fortran-2d"] = np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3))
    arrays["c-3d"] = np.arange(24, dtype="<i2").reshape(2, 3, 4)
    arrays["zero-d"] = np.array(3.25)
    arrays["empty"] = np.zeros((0,), dtype="<f8")
    arrays["empty-2d"] = np.zeros((3, 0), dtype="<i4")
    arrays["noncontig-slice"] = np.arange(20, dtype="<i4")[::3]
    arrays["object-shared"] = np.array([arrays["zero-d"], arrays["zero-d"], "s"], dtype=object)
    arrays["scalars"] = [np.float64(1.5), np.int32(-7), np.bool_(True), np.complex64(1j), np.str_("u"),
                         np.bytes_(b"b"), np.datetime64("2001-02-03"), np.uint64(2**64 - 1)]
    arrays["dtypes"] = [np.dtype("<f8"), np.dtype(">i2"), np.dtype("U3"), np.dtype([("a", "<i4")]), np.dtype("O")]
    arrays["random-state"] = np.random.RandomState(0)
    arrays["generator"] = np.random.default_rng(0)
    arrays["masked"] = np.ma.array([1, 2, 3], mask=[0, 1, 0])
    arrays["matrix"] = np.matrix([[1, 2], [3, 4]])
    arrays["ufuncs"] = [np.add, np.exp, np.sqrt]
    arrays["shared-array"] = [arrays["c-3d"], arrays["c-3d"]]
    arrays["dict-of-arrays"] = {"coef": np.array([[0.5, -1.0]]), "intercept": np.array([0.25]),
                                "classes": np.array(["no", "yes"], dtype=object)}
    return arrays


def numpy2_spelling(data):
    """numpy 2 writes numpy._core where numpy 1 wrote numpy.core; the text
    GLOBAL opcode of protocols 0-2 lets us respell it in place."""
    return data.replace(b"cnumpy.core.", b"cnumpy._core.")


def pickle_seeds(t):
    for group, values in (("py", python_values()), ("np", numpy_arrays())):
        for name, value in values.items():
            for proto in PROTOCOLS:
                data = pickle.dumps(value, protocol=proto)
                if len(data) >= MAX_SEED and proto < 2:
                    continue  # protocol 0/1 text encodings of big states; 2..5 cover them
                t.put(f"{group}-{name}-p{proto}.pkl", data)
                if group == "np" and proto == 2 and b"cnumpy.core." in data:
                    t.put(f"{group}-{name}-p2-numpy2.pkl", numpy2_spelling(data))


# ----------------------------------------------------------- joblib dumps

JOBLIB_COMPRESSORS = [None, "zlib", "gzip", "bz2", "xz", "lzma", "lz4"]


def joblib_bytes(value, compress=None, protocol=None):
    """joblib.dump into a fixed file name, read back (joblib only writes
    files, and the name never lands in the output)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.joblib")
        joblib.dump(value, path, compress=(compress, 3) if compress else 0, protocol=protocol)
        with open(path, "rb") as f:
            return f.read()


def joblib_values():
    shared = np.arange(4, dtype="<u2")
    return {
        "dict-arrays": {"w": np.arange(6, dtype="<f8").reshape(2, 3), "b": np.array([1, 2], dtype="<i4"),
                        "name": "model"},
        "mixed-arrays": [np.asfortranarray(np.ones((2, 2), dtype=">f4")), np.array(7, dtype="<i8"),
                         np.zeros(0, dtype="u1"), np.array(["a", "bc"], dtype="<U2")],
        "object-array": {"labels": np.array(["cat", None, 3], dtype=object)},
        "structured": np.zeros(3, dtype=[("x", "<f4"), ("y", "<i2")]),
        "shared": {"a": shared, "again": shared},
    }


def joblib_seeds(t):
    for name, value in joblib_values().items():
        for comp in JOBLIB_COMPRESSORS:
            t.put(f"joblib-{name}-{comp or 'plain'}.joblib", joblib_bytes(value, comp))
    for proto in (2, 3, 5):
        t.put(f"joblib-dict-arrays-plain-p{proto}.joblib", joblib_bytes(joblib_values()["dict-arrays"], None, proto))
    # Legacy single-file container: "ZF", the length in hex padded to 19
    # characters, one zlib stream of the pickle.
    inner = pickle.dumps({"legacy": [1, 2, 3]}, protocol=2)
    t.put("joblib-legacy-zf.pkl", b"ZF" + hex(len(inner)).encode().ljust(19) + zlib.compress(inner, 3))


# --------------------------------------------------------------- sklearn

def sklearn_seeds(t):
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.RandomState(0)
    x = rng.rand(20, 3)
    y = (x[:, 0] + x[:, 1] > 1).astype(int)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(x, y)
    scaler = StandardScaler().fit(x)
    for name, model in (("tree", tree), ("scaler", scaler)):
        for proto in (2, 4):
            t.put(f"sk-{name}-p{proto}.pkl", pickle.dumps(model, protocol=proto))
        t.put(f"sk-{name}-plain.joblib", joblib_bytes(model))
    t.put("sk-tree-zlib.joblib", joblib_bytes(tree, "zlib"))


# ------------------------------------------------------- hostile streams

P = pickle  # opcode constants: P.MARK, P.BINGET, ...


def u8(n):
    return struct.pack("<B", n)


def u32(n):
    return struct.pack("<I", n & 0xFFFFFFFF)


def u64(n):
    return struct.pack("<Q", n & 0xFFFFFFFFFFFFFFFF)


def proto(n):
    return P.PROTO + u8(n)


def short_str(s):
    b = s.encode()
    return P.SHORT_BINUNICODE + u8(len(b)) + b


def stack_global(module, name):
    return short_str(module) + short_str(name) + P.STACK_GLOBAL


def laughs(kind_op, levels=30, fan=10, base=P.EMPTY_LIST):
    """Each level is a container of `fan` references to the level below:
    a tiny stream whose tree expansion has fan**levels leaves."""
    out = proto(4) + base + P.BINPUT + u8(0)
    for level in range(1, levels + 1):
        out += P.MARK + (P.BINGET + u8(level - 1)) * fan + kind_op + P.BINPUT + u8(level)
    return out + P.STOP


def laughs_dict(levels=30, fan=10):
    out = proto(4) + P.EMPTY_DICT + P.BINPUT + u8(0)
    for level in range(1, levels + 1):
        items = b"".join(P.BININT1 + u8(k) + P.BINGET + u8(level - 1) for k in range(fan))
        out += P.EMPTY_DICT + P.MARK + items + P.SETITEMS + P.BINPUT + u8(level)
    return out + P.STOP


def memo_seeds():
    return {
        "memo-get-missing": proto(2) + P.BINGET + u8(5) + P.STOP,
        "memo-long-get-huge": proto(4) + P.LONG_BINGET + u32(0xFFFFFFFF) + P.STOP,
        "memo-sparse-put": proto(4) + P.NONE + P.LONG_BINPUT + u32(0x7FFFFFFF) + P.LONG_BINGET + u32(0x7FFFFFFF)
        + P.TUPLE2 + P.STOP,
        "memo-text-put-huge": b"(Np18446744073709551617\ng18446744073709551617\nt.",
        "memo-text-put-negative": b"(Np-1\ng-1\nt.",
        "memo-memoize-1000": proto(4) + P.NONE + P.MEMOIZE * 1000 + P.STOP,
        "memo-put-spread": proto(4) + P.NONE + b"".join(P.LONG_BINPUT + u32(k * 0x01000193) for k in range(400))
        + P.STOP,
        "memo-overwrite": proto(2) + P.EMPTY_LIST + P.BINPUT + u8(0) + P.NONE + P.BINPUT + u8(0) + P.POP
        + P.BINGET + u8(0) + P.STOP,
        "laughs-list": laughs(P.LIST),
        "laughs-tuple": laughs(P.TUPLE),
        "laughs-frozenset": laughs(P.FROZENSET, levels=8, fan=2, base=P.EMPTY_TUPLE),
        "laughs-dict": laughs_dict(),
    }


def depth_seeds():
    n = 1000
    return {
        "deep-list-1000": proto(2) + P.EMPTY_LIST * n + P.APPEND * (n - 1) + P.STOP,
        "deep-tuple-1000": P.MARK * n + P.TUPLE * n + P.STOP,
        "deep-tuple1-1000": proto(2) + P.EMPTY_TUPLE + P.TUPLE1 * n + P.STOP,
        "deep-dict-1000": proto(2) + P.EMPTY_DICT + (P.BININT1 + u8(0) + P.EMPTY_DICT) * (n - 1)
        + P.SETITEM * (n - 1) + P.STOP,
        "deep-marks-4000": P.MARK * 4000 + P.POP_MARK * 4000 + P.NONE + P.STOP,
        "deep-stack-4000": proto(2) + P.NONE * 4000 + P.TUPLE2 * 10 + P.STOP,
        "deep-mark-unclosed": P.MARK * 3000 + P.NONE + P.STOP,
    }


def container_seeds():
    one, two, three = (P.BININT1 + u8(k) for k in (1, 2, 3))
    return {
        "setitems-odd": proto(2) + P.EMPTY_DICT + P.MARK + one + two + three + P.SETITEMS + P.STOP,
        "setitems-no-mark": proto(2) + P.EMPTY_DICT + one + two + P.SETITEMS + P.STOP,
        "setitems-on-list": proto(2) + P.EMPTY_LIST + P.MARK + one + two + P.SETITEMS + P.STOP,
        "setitems-empty": proto(2) + P.EMPTY_DICT + P.MARK + P.SETITEMS + P.STOP,
        "setitems-dup-keys": proto(2) + P.EMPTY_DICT + P.MARK + one + two + one + three + P.NEWTRUE + one
        + P.BINFLOAT + struct.pack(">d", 1.0) + two + P.SETITEMS + P.STOP,
        "setitem-list-key": proto(2) + P.EMPTY_DICT + P.EMPTY_LIST + one + P.SETITEM + P.STOP,
        "setitem-no-dict": proto(2) + one + two + P.SETITEM + P.STOP,
        "appends-on-dict": proto(2) + P.EMPTY_DICT + P.MARK + one + P.APPENDS + P.STOP,
        "append-on-tuple": proto(2) + P.EMPTY_TUPLE + one + P.APPEND + P.STOP,
        "additems-on-list": proto(4) + P.EMPTY_LIST + P.MARK + one + P.ADDITEMS + P.STOP,
        "additems-unhashable": proto(4) + P.EMPTY_SET + P.MARK + P.EMPTY_LIST + P.ADDITEMS + P.STOP,
        "frozenset-of-list": proto(4) + P.MARK + P.EMPTY_DICT + P.FROZENSET + P.STOP,
        "build-on-int": proto(2) + one + P.EMPTY_DICT + P.BUILD + P.STOP,
        "build-on-list": proto(2) + P.EMPTY_LIST + P.EMPTY_DICT + P.BUILD + P.STOP,
        "tuple3-short-stack": proto(2) + one + P.TUPLE3 + P.STOP,
        "pop-empty": proto(2) + P.POP + P.STOP,
        "pop-mark-none": proto(2) + P.POP_MARK + P.NONE + P.STOP,
        "dup-empty": proto(2) + P.DUP + P.STOP,
        "dup-chain": proto(2) + P.EMPTY_LIST + P.DUP * 50 + P.TUPLE3 + P.STOP,
        "mark-leftover": proto(2) + P.MARK + one + P.STOP,
        "stop-empty": P.STOP,
        "stop-two-left": proto(2) + one + two + P.STOP,
        "no-stop": proto(4) + P.NONE,
        "empty": b"",
        "after-stop": proto(2) + P.NONE + P.STOP + b"trailing garbage",
        "two-pickles": pickle.dumps([1], 2) + pickle.dumps([2], 2),
        "unknown-opcode": proto(2) + b"\xff" + P.STOP,
        "proto-6": proto(6) + P.NONE + P.STOP,
        "proto-255": proto(255) + P.NONE + P.STOP,
        "proto-twice": proto(2) + proto(4) + P.NONE + P.STOP,
        "proto-late": P.NONE + proto(2) + P.STOP,
    }


def scalar_seeds():
    digits = b"9" * 5000
    return {
        "long-text-5000-digits": b"L" + digits + b"L\n.",
        "int-text-5000-digits": b"I" + digits + b"\n.",
        "int-text-bools": b"(I01\nI00\nt.",
        "int-text-junk": b"I12x\n.",
        "long1-huge-len": proto(2) + P.LONG1 + u8(255) + b"\x01" * 10 + P.STOP,
        "long4-huge-len": proto(2) + P.LONG4 + u32(0x7FFFFFFF) + b"\x01" * 4 + P.STOP,
        "long4-negative-len": proto(2) + P.LONG4 + u32(0xFFFFFFFF) + P.STOP,
        "long4-2mib-claim": proto(2) + P.LONG4 + u32(2 << 20) + P.STOP,
        "float-text": b"(Fnan\nFinf\nF-0.0\nF1e400\nF0x1p3\nt.",
        "binfloat-nan-payload": proto(2) + P.BINFLOAT + b"\x7f\xf8\x00\x00\x00\x00\x00\x01" + P.STOP,
        "binunicode-len-lie": proto(4) + P.BINUNICODE + u32(0xFFFF) + b"abc" + P.STOP,
        "binunicode8-huge": proto(4) + P.BINUNICODE8 + u64(2**62) + P.STOP,
        "binbytes8-huge": proto(4) + P.BINBYTES8 + u64(2**63 + 5) + P.STOP,
        "bytearray8-huge": proto(5) + P.BYTEARRAY8 + u64(2**40) + P.STOP,
        "utf8-invalid": proto(4) + P.SHORT_BINUNICODE + u8(3) + b"\xc3\x28\xff" + P.STOP,
        "utf8-cesu-surrogate": proto(4) + P.SHORT_BINUNICODE + u8(3) + b"\xed\xa0\x80" + P.STOP,
        "utf8-overlong": proto(4) + P.SHORT_BINUNICODE + u8(2) + b"\xc0\x80" + P.STOP,
        "py2-short-binstring": proto(2) + P.SHORT_BINSTRING + u8(3) + b"abc" + P.STOP,
        "py2-string-escapes": b"S'\\x41\\n\\'q\\\\'\n.",
        "py2-string-bad-quote": b"S'abc\n.",
        "unicode-raw-escape": b"V\\u20ac \\U0001f600 \\\\\n.",
        "unicode-raw-escape-bad": b"V\\u20\n.",
        "next-buffer-oob": proto(5) + P.NEXT_BUFFER + P.STOP,
        "readonly-buffer-bytes": proto(5) + P.SHORT_BINBYTES + u8(2) + b"hi" + P.READONLY_BUFFER + P.STOP,
        "readonly-buffer-int": proto(5) + P.BININT1 + u8(1) + P.READONLY_BUFFER + P.STOP,
    }


def frame_seeds():
    body = P.NONE + P.STOP
    return {
        "frame-too-long": proto(4) + P.FRAME + u64(1000) + body,
        "frame-huge": proto(4) + P.FRAME + u64(2**64 - 1) + body,
        "frame-short": proto(4) + P.FRAME + u64(1) + P.SHORT_BINUNICODE + u8(3) + b"abc" + P.STOP,
        "frame-nested": proto(4) + P.FRAME + u64(12) + P.FRAME + u64(2) + body,
        "frame-zero-many": proto(4) + (P.FRAME + u64(0)) * 50 + body,
        "frame-exact": proto(4) + P.FRAME + u64(2) + body,
        "frame-in-proto2": proto(2) + P.FRAME + u64(2) + body,
        "frame-truncated-len": proto(4) + P.FRAME + b"\x02\x00",
    }


def refused_global_seeds():
    arg = short_str("touch /tmp/brine-fuzz-marker")
    call = P.TUPLE1 + P.REDUCE + P.STOP
    return {
        "global-os-system-p0": b"cos\nsystem\n(S'touch /tmp/x'\ntR.",
        "global-posix-system-p4": proto(4) + stack_global("posix", "system") + arg + call,
        "global-nt-system-p4": proto(4) + stack_global("nt", "system") + arg + call,
        "global-subprocess-popen": proto(4) + stack_global("subprocess", "Popen") + arg + call,
        "global-builtins-eval": proto(4) + stack_global("builtins", "eval") + short_str("1+1") + call,
        "global-builtins-exec": proto(4) + stack_global("builtins", "exec") + short_str("pass") + call,
        "global-builtin-eval-py2": b"c__builtin__\neval\n(S'1'\ntR.",
        "global-getattr-chain": proto(4) + stack_global("builtins", "getattr") + stack_global("builtins", "object")
        + short_str("__subclasses__") + P.TUPLE2 + P.REDUCE + P.EMPTY_TUPLE + P.REDUCE + P.STOP,
        "global-import": proto(4) + stack_global("builtins", "__import__") + short_str("os") + call,
        "global-pickle-loads": proto(4) + stack_global("pickle", "loads") + P.SHORT_BINBYTES + u8(4)
        + b"N.\x00\x00" + call,
        "global-numpy-load": proto(4) + stack_global("numpy", "load") + short_str("x.npy") + call,
        "global-webbrowser": b"cwebbrowser\nopen\n(S'http://127.0.0.1/'\ntR.",
        "global-marshal-loads": proto(4) + stack_global("marshal", "loads") + P.SHORT_BINBYTES + u8(1) + b"N" + call,
        "global-functools-partial": proto(4) + stack_global("functools", "partial") + stack_global("os", "system")
        + call,
        "global-reconstructor-os": b"ccopy_reg\n_reconstructor\n(cos\nsystem\nc__builtin__\nobject\nNtR.",
        "global-inst-os": b"(S'id'\nios\nsystem\n.",
        "global-obj-os": proto(1) + P.MARK + b"cos\nsystem\n" + short_str("id") + P.OBJ + P.STOP,
        "global-newobj-os": proto(2) + b"cos\nsystem\n" + P.EMPTY_TUPLE + P.NEWOBJ + P.STOP,
        "global-newobj-ex-os": proto(4) + stack_global("os", "system") + P.EMPTY_TUPLE + P.EMPTY_DICT
        + P.NEWOBJ_EX + P.STOP,
        "global-name-not-str": proto(4) + P.BININT1 + u8(1) + short_str("system") + P.STACK_GLOBAL + P.STOP,
        "global-dotted-name": proto(4) + stack_global("builtins", "object.__subclasses__") + P.STOP,
        "global-text-no-newline": b"cos\nsys",
        "ext1": proto(2) + P.EXT1 + u8(1) + P.STOP,
        "ext4": proto(2) + P.EXT4 + u32(0x7FFFFFFF) + P.STOP,
        "persid": b"Pabc\n.",
        "binpersid": proto(2) + P.NONE + P.BINPERSID + P.STOP,
        "reduce-on-int": proto(2) + P.BININT1 + u8(1) + P.EMPTY_TUPLE + P.REDUCE + P.STOP,
        "reduce-args-not-tuple": proto(4) + stack_global("builtins", "set") + P.EMPTY_LIST + P.REDUCE + P.STOP,
        "numpy-scalar-object": proto(2) + b"cnumpy.core.multiarray\nscalar\n" + b"cnumpy\ndtype\n"
        + short_str("O8") + P.NEWFALSE + P.NEWTRUE + P.TUPLE3 + P.REDUCE + P.SHORT_BINBYTES + u8(8)
        + b"\x41" * 8 + P.TUPLE2 + P.REDUCE + P.STOP,
    }


def numpy_hostile_seeds():
    """Hand-made _reconstruct + BUILD streams with inconsistent states."""
    head = (proto(2) + b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n"
            + P.BININT1 + u8(0) + P.TUPLE1 + P.SHORT_BINBYTES + u8(1) + b"b" + P.TUPLE3 + P.REDUCE)

    def dtype(descr):
        return (b"cnumpy\ndtype\n" + short_str(descr) + P.NEWFALSE + P.NEWTRUE + P.TUPLE3 + P.REDUCE
                + P.MARK + P.BININT1 + u8(3) + short_str("<") + P.NONE + P.NONE + P.NONE
                + P.BININT + struct.pack("<i", -1) + P.BININT + struct.pack("<i", -1) + P.BININT1 + u8(0)
                + P.TUPLE + P.BUILD)

    def state(shape, descr, fortran, data):
        shp = P.MARK + b"".join(P.LONG1 + u8(9) + int(s).to_bytes(9, "little", signed=True) for s in shape) + P.TUPLE
        return (head + P.MARK + P.BININT1 + u8(1) + shp + dtype(descr) + fortran
                + P.SHORT_BINBYTES + u8(len(data)) + data + P.TUPLE + P.BUILD + P.STOP)

    return {
        "np-ok-reference": state([2], "f8", P.NEWFALSE, b"\x00" * 16),
        "np-data-short": state([4], "f8", P.NEWFALSE, b"\x00" * 16),
        "np-data-long": state([1], "f8", P.NEWFALSE, b"\x00" * 16),
        "np-shape-negative": state([-2], "f8", P.NEWFALSE, b"\x00" * 16),
        "np-shape-overflow": state([2**62, 2**62], "f8", P.NEWFALSE, b""),
        "np-shape-zero-huge": state([0, 2**63 - 1], "f8", P.NEWFALSE, b""),
        "np-itemsize-huge": state([1], "V2147483647", P.NEWFALSE, b"\x00" * 8),
        "np-dtype-bad": state([1], "f3", P.NEWFALSE, b"\x00" * 3),
        "np-fortran-int": state([2], "i4", P.BININT1 + u8(7), b"\x00" * 8),
        "np-no-build": head + P.STOP,
        "np-build-twice": head + P.EMPTY_TUPLE + P.BUILD + P.EMPTY_TUPLE + P.BUILD + P.STOP,
        "np-build-not-tuple": head + P.EMPTY_DICT + P.BUILD + P.STOP,
        "np-object-len-mismatch": head + P.MARK + P.BININT1 + u8(1) + P.BININT1 + u8(3) + P.TUPLE1
        + dtype("O8") + P.NEWFALSE + P.EMPTY_LIST + P.TUPLE + P.BUILD + P.STOP,
    }


def hostile_seeds(t):
    for group in (memo_seeds, depth_seeds, container_seeds, scalar_seeds, frame_seeds, refused_global_seeds,
                  numpy_hostile_seeds):
        for name, data in group().items():
            t.put(f"evil-{name}.pkl", data)
    # Every prefix length class of a real stream: the loader must end each
    # one with a clean error.
    real = pickle.dumps({"w": np.arange(4, dtype="<f8"), "s": "abc", "l": [1, 2.5]}, protocol=4)
    for cut in (1, 2, 5, 11, 20, len(real) // 2, len(real) - 2, len(real) - 1):
        t.put(f"evil-truncated-p4-at-{cut}.pkl", real[:cut])
    jl = joblib_bytes({"w": np.arange(8, dtype="<f8")})
    for cut in (len(jl) // 2, len(jl) - 9, len(jl) - 1):
        t.put(f"evil-truncated-joblib-at-{cut}.joblib", jl[:cut])
    gz = joblib_bytes({"w": np.arange(8, dtype="<f8")}, "gzip")
    t.put("evil-truncated-joblib-gzip.joblib", gz[: len(gz) // 2])
    t.put("evil-joblib-gzip-trailing.joblib", gz + b"trailing")
    # Decompression bombs: far more output than max_decompressed_bytes.
    t.put("evil-bomb-bz2-128mib.pkl", bz2.compress(b"\x00" * (128 << 20)))
    # 4 MiB of NONE opcodes: decompresses fine, then overflows max_depth.
    t.put("evil-zlib-4mib-of-none.pkl", zlib.compress(b"N" * (4 << 20), 9))


def load_target(root):
    t = Target(root, "load")
    pickle_seeds(t)
    joblib_seeds(t)
    sklearn_seeds(t)
    hostile_seeds(t)
    t.done()


# ------------------------------------------------------------------- .npy

def npy_bytes(arr, version=None):
    f = io.BytesIO()
    np.lib.format.write_array(f, arr, version=version, allow_pickle=True)
    return f.getvalue()


def npy_header(text, version=1, pad_to=64):
    """A .npy file around an arbitrary header text (no data)."""
    raw = text.encode("latin1") + b"\n"
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(raw)) + raw
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(raw)) + raw


def npy_arrays():
    return {
        "f8": np.linspace(0, 1, 5),
        "i4-2d": np.arange(6, dtype="<i4").reshape(2, 3),
        "bool": np.array([True, False, True]),
        "u1": np.arange(10, dtype="u1"),
        "c8": np.array([1 + 2j], dtype="<c8"),
        "f2": np.array([0.5, -2], dtype="<f2"),
        "be-i4": np.array([1, 2], dtype=">i4"),
        "U5": np.array(["ab", "héllo"], dtype="<U5"),
        "S3": np.array([b"x", b"abc"], dtype="S3"),
        "M8": np.array(["2020-01-01"], dtype="datetime64[D]"),
        "structured": np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8", (2,)), ("c", "S2")]),
        "structured-padded": np.zeros(2, dtype=np.dtype([("a", "u1"), ("b", "<i8")], align=True)),
        "fortran": np.asfortranarray(np.arange(6, dtype="<f4").reshape(3, 2)),
        "zero-d": np.array(7, dtype="<i8"),
        "empty": np.zeros((0, 3), dtype="<f8"),
        "object": np.array([1, "a", None], dtype=object),
    }


def npy_target(root):
    t = Target(root, "npy")
    for name, arr in npy_arrays().items():
        t.put(f"{name}-v1.npy", npy_bytes(arr))
        if name in ("f8", "structured", "fortran", "U5"):
            t.put(f"{name}-v2.npy", npy_bytes(arr, (2, 0)))
    t.put("utf8-fields-v3.npy", npy_bytes(np.zeros(1, dtype=[("é", "<i4")]), (3, 0)))
    data8 = b"\x00" * 8
    hostile = {
        "header-len-lie": b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f8'}",
        "header-v2-len-lie": b"\x93NUMPY\x02\x00\xff\xff\xff\xff{}",
        "header-not-dict": npy_header("[1, 2]"),
        "header-missing-shape": npy_header("{'descr': '<f8', 'fortran_order': False}"),
        "header-fortran-int": npy_header("{'descr': '<f8', 'fortran_order': 1, 'shape': (1,)}") + data8,
        "shape-negative": npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}"),
        "shape-overflow": npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4)}"),
        "shape-huge-int": npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (" + "9" * 40 + ",)}"),
        "shape-65-dims": npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (" + "1," * 65 + ")}"),
        "shape-not-ints": npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1.5,)}"),
        "descr-odd": npy_header("{'descr': '<f3', 'fortran_order': False, 'shape': (1,)}") + b"\x00" * 3,
        "descr-nested": npy_header("{'descr': [('a', [('b', '<i4')])], 'fortran_order': False, 'shape': (1,)}")
        + b"\x00" * 4,
        "descr-subarray-huge": npy_header(
            "{'descr': [('a', '<f8', (4294967296, 4294967296))], 'fortran_order': False, 'shape': (1,)}"),
        "descr-padding-only": npy_header("{'descr': [('', '|V4')], 'fortran_order': False, 'shape': (2,)}") + data8,
        "descr-dup-fields": npy_header("{'descr': [('a', '<i4'), ('a', '<i4')], 'fortran_order': False, 'shape': (1,)}")
        + data8,
        "data-short": npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4,)}") + data8,
        "dup-keys": npy_header("{'descr': '<f8', 'descr': '<i4', 'fortran_order': False, 'shape': (2,)}") + data8,
        "version-4": b"\x93NUMPY\x04\x00" + b"\x10\x00\x00\x00{}" + b" " * 13 + b"\n",
        "magic-only": b"\x93NUMPY\x01\x00",
        "truncated-v2": b"\x93NUMPY\x02\x00\x10\x00",
    }
    for name, data in hostile.items():
        t.put(f"evil-{name}.npy", data)
    t.done()


# ---------------------------------------------------------------- literals

def literal_target(root):
    t = Target(root, "literal")
    for name, arr in npy_arrays().items():
        if name == "object":
            continue
        header = npy_bytes(arr)
        hlen = struct.unpack("<H", header[8:10])[0]
        t.put(f"npy-header-{name}.txt", header[10:10 + hlen])
    texts = {
        "none": "None", "true": "True", "false": "False",
        "ints": "(0, -1, +7, 1_000_000, 0x1F, 0o17, 0b101, 123456789012345678901234567890)",
        "huge-int": "9" * 5000,
        "floats": "[1.5, -0.0, 1e308, 1e-400, .5, 5., 1_0.5e1_0, inf]",
        "complex": "(1+2j, 3j)",
        "strs": "['a', \"b\", 'it\\'s', \"q\\\"\", '\\n\\t\\x41\\u00e9\\U0001F600\\N{BULLET}', u'x', r'\\n', '''t''', \"\"\"d\"\"\"]",
        "str-concat": "('a' 'b' \"c\")",
        "bytes": "[b'', b'\\x00\\xff', B'abc', rb'\\d', br'\\e']",
        "bad-escape": "'\\q \\777 \\x4'",
        "containers": "([], (), {}, [1,], (1,), {1: 2,}, {1, 2}, [[], [[]]])",
        "nested": "{'a': {'b': [1, (2, 3, {'c': None})]}, 'd': (b'x', [True, False])}",
        "params": "{'criterion': 'gini', 'max_depth': 3, 'class_weight': None, 'max_features': sqrt}",
        "bare-word": "sqrt", "bare-words-list": "[log2, auto, None, True]",
        "deep-300": "[" * 300 + "]" * 300,
        "deep-250-tuple": "(" * 250 + ")" * 250,
        "deep-dict": "{'a': " * 200 + "1" + "}" * 200,
        "unbalanced": "[(1, 2]", "trailing-comma-only": "(,)", "junk-after": "1 2",
        "whitespace": " \t\n ( 1 ,\n 2 ) \n",
        "empty": "", "lone-quote": "'", "unterminated": "'abc",
        "set-empty-call": "set()", "unary": "-(1)", "lone-minus": "-",
        "unicode-bare": "héllo", "nul-inside": "'a\x00b'",
        "dict-unhashable-key": "{[1]: 2}",
    }
    for name, text in texts.items():
        t.put(f"{name}.txt", text.encode("utf-8", "surrogatepass"))
    t.put("invalid-utf8.txt", b"'\xc3\x28'")
    t.done()


# ------------------------------------------------------------ decompress

METHOD = {"none": 0, "zlib": 1, "gzip": 2, "bz2": 3, "xz": 4, "lzma": 5, "lz4": 6, "zf": 7}
RECOMPRESS = 8  # selector bit: also re-compress and decode again


def compressors():
    return {
        "zlib": lambda d: zlib.compress(d, 3),
        "gzip": lambda d: gzip.compress(d, 3, mtime=0),
        "bz2": lambda d: bz2.compress(d, 9),
        "xz": lambda d: lzma.compress(d, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64),
        "lzma": lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
        "lz4": lambda d: lz4.frame.compress(d),
        "zf": lambda d: b"ZF" + hex(len(d)).encode().ljust(19) + zlib.compress(d, 3),
    }


def decompress_target(root):
    t = Target(root, "decompress")
    rng = np.random.RandomState(1)
    payloads = {
        "pickle": pickle.dumps({"w": np.arange(5, dtype="<f8"), "name": "m"}, protocol=4),
        "text": b"hello brine " * 40,
        "empty": b"",
        "noise": rng.bytes(1024),
    }

    def put(method, name, data, recompress=False):
        sel = METHOD[method] | (RECOMPRESS if recompress else 0)
        t.put(f"{method}-{name}{'-recompress' if recompress else ''}.bin", bytes([sel]) + data)

    for name, data in payloads.items():
        put("none", name, data)
    for method, comp in compressors().items():
        for name, data in payloads.items():
            packed = comp(data)
            put(method, name, packed)
            if name == "text":
                put(method, name, packed, recompress=True)
                put(method, "truncated", packed[: len(packed) // 2])
                put(method, "trailing-garbage", packed + b"\x00junk")
                put(method, "flipped-byte", packed[:-5] + bytes([packed[-5] ^ 0x40]) + packed[-4:])
        if method in ("bz2", "xz"):  # the ratios that fit a bomb in a seed
            put(method, "bomb-32mib", comp(b"\x00" * (32 << 20)))
    put("gzip", "two-members", gzip.compress(b"first ", mtime=0) + gzip.compress(b"second", mtime=0))
    put("bz2", "two-streams", bz2.compress(b"first ") + bz2.compress(b"second"))
    put("xz", "two-streams", lzma.compress(b"a" * 10) + lzma.compress(b"b" * 10))
    put("xz", "stream-padding", lzma.compress(b"abc") + b"\x00" * 4)
    put("lzma", "known-size", lzma.compress(b"x" * 100, format=lzma.FORMAT_ALONE)[:5]
        + struct.pack("<Q", 100) + lzma.compress(b"x" * 100, format=lzma.FORMAT_ALONE)[13:])
    put("lz4", "checksums", lz4.frame.compress(b"abc" * 100, content_checksum=True, block_checksum=True,
                                               store_size=True))
    put("lz4", "linked-blocks", lz4.frame.compress(bytes(range(256)) * 300, block_size=lz4.frame.BLOCKSIZE_MAX64KB,
                                                   block_linked=True, compression_level=1))
    put("lz4", "skippable-frame", b"\x50\x2a\x4d\x18" + u32(4) + b"skip" + lz4.frame.compress(b"data"))
    put("lz4", "two-frames", lz4.frame.compress(b"one") + lz4.frame.compress(b"two"))
    put("zf", "length-lie", b"ZF" + hex(5).encode().ljust(19) + zlib.compress(b"longer than five"))
    put("zf", "bad-hex", b"ZF0xZZ".ljust(21) + zlib.compress(b"x"))
    put("zf", "header-only", b"ZF0x10")
    put("zlib", "bad-wbits", b"\x7c\x9c" + zlib.compress(b"abc")[2:])
    t.done()


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fuzz", "corpus")
    np.random.seed(0)
    load_target(root)
    npy_target(root)
    literal_target(root)
    decompress_target(root)


if __name__ == "__main__":
    main()
