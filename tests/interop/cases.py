"""The Python objects test_convert.py round-trips through brine.

cases() returns a list of (name, object); every object can be pickled by
Python at protocols 0-5 and dumped by joblib with every compressor.
Names are unique and safe as file names.  Objects are small except a few
deliberately large ones (100 000-char str, 70 000-byte bytes, 80 KB
float array).

deep_list_pickle() builds the 200 000-deep nested list as raw protocol-4
pickle bytes: Python's pickler cannot write it (recursion), Python's
unpickler can read it.
"""

import struct

import numpy as np

DEEP_DEPTH = 200000


def deep_list_pickle(depth=DEEP_DEPTH):
    """PROTO 4, depth x EMPTY_LIST, depth-1 x APPEND, STOP."""
    return b"\x80\x04" + b"]" * depth + b"a" * (depth - 1) + b"."


# sklearn's tree node dtype (sklearn.tree._tree.NODE_DTYPE before 1.3)
TREE_NODE_DTYPE = np.dtype([
    ("left_child", "<i8"), ("right_child", "<i8"), ("feature", "<i8"),
    ("threshold", "<f8"), ("impurity", "<f8"), ("n_node_samples", "<i8"),
    ("weighted_n_node_samples", "<f8"),
])

# sklearn >= 1.3: one more u1 field, padded to 64 bytes
TREE_NODE_DTYPE_64 = np.dtype({
    "names": ["left_child", "right_child", "feature", "threshold", "impurity",
              "n_node_samples", "weighted_n_node_samples", "missing_go_to_left"],
    "formats": ["<i8", "<i8", "<i8", "<f8", "<f8", "<i8", "<f8", "u1"],
    "offsets": [0, 8, 16, 24, 32, 40, 48, 56],
    "itemsize": 64,
})


def _f(bits_hex):
    return struct.unpack(">d", bytes.fromhex(bits_hex))[0]


def _objarray(items, shape=None):
    a = np.empty(len(items), dtype=object)
    for i, v in enumerate(items):
        a[i] = v
    if shape is not None:
        a = a.reshape(shape)
    return a


def _tree_nodes(dtype):
    a = np.zeros(3, dtype=dtype)
    a["left_child"] = [1, -1, -1]
    a["right_child"] = [2, -1, -1]
    a["feature"] = [3, -2, -2]
    a["threshold"] = [0.8000000119, -2.0, -2.0]
    a["impurity"] = [0.6666666666666667, 0.0, 0.5]
    a["n_node_samples"] = [150, 50, 100]
    a["weighted_n_node_samples"] = [150.0, 50.0, 100.0]
    if "missing_go_to_left" in dtype.names:
        a["missing_go_to_left"] = [1, 0, 0]
    return a


def cases():
    out = []

    def add(name, obj):
        out.append((name, obj))

    # --- singletons, ints
    add("none", None)
    add("true", True)
    add("false", False)
    # ints: a few as the root object, the rest (every opcode boundary) in a list
    for name, v in [("int_0", 0), ("int_m1", -1), ("int_2p31", 2 ** 31), ("int_2p70", 2 ** 70)]:
        add(name, v)
    add("int_1000_digits", int("9" + "1234567890" * 99 + "987654321"))
    add("ints_boundaries", [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31,
                            -2 ** 31, -2 ** 31 - 1, 2 ** 32, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1,
                            2 ** 64, 2 ** 70, -2 ** 63, -2 ** 63 - 1, -2 ** 64, -1, -128, -129,
                            -256, -255, -2 ** 100, -2 ** 1000, 2 ** 2040])

    # --- floats
    for name, v in [("float_negzero", -0.0), ("float_1_5", 1.5), ("float_nan", float("nan"))]:
        add(name, v)
    add("floats_special", [0.0, -0.0, 1.5, 1e308, 5e-324, float("inf"), float("-inf"), float("nan")])
    # NaN with a payload and a negative NaN: only protocol >= 1 keeps the
    # bits (protocol 0 writes repr 'nan'); the comparison is against what
    # Python loads from the source, so this is fair at every protocol.
    add("floats_nan_bits", [_f("7ff8000000000001"), _f("fff8000000000000"), _f("7ff4000000000000")])
    add("floats_repr", [0.1, 1 / 3, 2.2250738585072014e-308, 1e-310, 1.7976931348623157e308,
                        123456789.12345679, -1.5e-7, 2.0 ** 53 + 2, 1e16, 1e22, 9007199254740993.0])

    # --- complex
    add("complex_1_2", complex(1, 2))
    add("complex_special", [complex(-0.0, float("inf")), complex(float("nan"), -0.0), 0j])

    # --- str
    add("str_empty", "")
    add("str_nonascii", "h\u00e9llo w\u00f6rld \u00f1 \u4e2d\u6587 \u0416")
    add("str_emoji", "\U0001F600\U0001F389 astral")
    add("str_lone_surrogate", "\ud800")
    add("str_surrogates_mixed", "a\udfff b \ud83d c")
    # protocol 0 escapes \\ and \n (raw-unicode-escape); NUL and CR too
    add("str_escapes", "back\\slash\nnew\rline\x00nul\t\"'\\u0041")
    add("str_lengths", ["a" * 255, "a" * 256, "\u00e9" * 128, "x" * 65536])
    add("str_100k", ("abc\u00e9\u4e2d\U0001F600" * 20000)[:100000])

    # --- bytes / bytearray
    add("bytes_empty", b"")
    add("bytes_all256", bytes(range(256)))
    add("bytes_70000", bytes((i * 7 + (i >> 8)) & 0xFF for i in range(70000)))
    add("bytes_lengths", [b"a" * 255, b"b" * 256, b"\x00", b"\x80\xff"])
    add("bytearray_small", bytearray(b"\x00\xffabc\x80"))
    add("bytearray_empty", bytearray())

    # --- tuples
    add("tuple_0", ())
    add("tuple_1", (1,))
    add("tuple_2", (1, "two"))
    add("tuple_3", (1, "two", 3.0))
    add("tuple_4", (1, "two", 3.0, None))
    add("tuple_long", tuple(range(300)))
    add("tuples_nested", ((), ((),), (1, (2, (3, ())))))

    # --- lists
    add("list_empty", [])
    add("list_mixed", [1, "a", None, 2.5, b"x", True, False, (), [], "hello, world"])
    add("list_long", list(range(2500)))

    # --- dicts
    add("dict_empty", {})
    add("dict_str", {"a": 1, "b": [2, 3], "c": {"d": None}})
    add("dict_int", {1: "a", -5: "b", 2 ** 70: "c", 0: "zero"})
    add("dict_tuple", {(1, 2): "x", ("a", (None,)): "y", (): "empty"})
    add("dict_frozenset", {frozenset([1, 2]): "a", frozenset(): "b", frozenset(["x"]): "c"})
    add("dict_mixed_keys", {"a": 1, 2: "b", (3,): "c", None: "d", frozenset({"x"}): "e",
                            2.5: "f", b"k": "g", False: "h"})
    add("dict_large", {"k%d" % i: i for i in range(1500)})

    # --- sets
    add("set_small", {1, "a", (2, 3), None, 2.5})
    add("set_empty", set())
    add("set_large", set(range(1500)))
    add("frozenset_small", frozenset([1, "a", (2, 3)]))
    add("frozenset_empty", frozenset())
    add("sets_nested", [frozenset([frozenset([1]), 2]), {frozenset()}])

    # --- slices
    add("slice_full", slice(1, 10, 2))
    add("slice_none", slice(None))
    add("slices_mixed", [slice(None, -1, None), slice("a", 2.5, (1,)), slice(0, None, -1)])

    # --- nesting
    add("nested", {"a": [1, {"b": (2, [3, {"c": None}])}], "d": {frozenset([1]): [{2}]},
                   "e": [[[[[]]]]], "f": ((), [()], {"g": b"h"})})
    lvl = []
    for i in range(100):  # list -> dict -> tuple -> list ...
        lvl = ([lvl], {"k%d" % i: lvl}, (lvl, i))[i % 3]
    add("nested_100", lvl)

    # --- shared references
    sl = [1, 2]
    add("shared_list", [sl, sl, {"x": sl}, (sl,)])
    sd = {"k": 1}
    add("shared_dict", (sd, [sd], {"again": sd}))
    sa = np.arange(5.0)
    add("shared_array", [sa, sa, {"a": sa}])
    st = (1, [2])
    add("shared_tuple", [st, st])
    sb = bytearray(b"ab")
    add("shared_bytearray", [sb, sb])
    ss = {1, 2}
    add("shared_set", [ss, ss])

    # --- recursive structures
    rl = []
    rl.append(rl)
    add("rec_list", rl)
    rd = {}
    rd["self"] = rd
    add("rec_dict", rd)
    rt = []
    rt.append((rt, 1))
    add("rec_list_tuple_list", rt)
    rm = {"l": []}
    rm["l"].append(rm)
    rm["t"] = (rm["l"], rm)
    add("rec_mixed", rm)
    ro = np.empty(2, dtype=object)
    ro[0] = ro
    ro[1] = "x"
    add("rec_objarray", ro)

    # --- numpy arrays of every dtype
    add("arr_bool", np.array([True, False, True]))
    add("arr_int8", np.array([-128, -1, 0, 127], dtype=np.int8))
    add("arr_int16", np.array([-32768, -1, 0, 32767], dtype=np.int16))
    add("arr_int32", np.array([-2 ** 31, -1, 0, 2 ** 31 - 1], dtype=np.int32))
    add("arr_int64", np.array([-2 ** 63, -1, 0, 2 ** 63 - 1], dtype=np.int64))
    add("arr_uint8", np.array([0, 1, 255], dtype=np.uint8))
    add("arr_uint16", np.array([0, 1, 65535], dtype=np.uint16))
    add("arr_uint32", np.array([0, 1, 2 ** 32 - 1], dtype=np.uint32))
    add("arr_uint64", np.array([0, 1, 2 ** 64 - 1], dtype=np.uint64))
    add("arr_float16", np.array([0.0, -0.0, 1.5, 65504.0, np.inf, np.nan, 6e-8], dtype=np.float16))
    add("arr_float32", np.array([0.0, -0.0, 1.5, 3.4e38, -np.inf, np.nan, 1e-45], dtype=np.float32))
    add("arr_float64", np.array([0.0, -0.0, 1.5, 1e308, np.inf, np.nan, 5e-324, _f("7ff8000000000001")]))
    add("arr_complex64", np.array([1 + 2j, -0.0 - 1j, complex(np.nan, np.inf)], dtype=np.complex64))
    add("arr_complex128", np.array([1 + 2j, -0.0 - 1j, complex(np.nan, np.inf)], dtype=np.complex128))
    add("arr_unicode", np.array(["a", "h\u00e9llo", "\U0001F600", ""]))
    add("arr_bytes", np.array([b"a", b"\x00\xff", b"abc", b""]))
    add("arr_object", _objarray([1, "a", None, [1, 2], 2.5, (3,), {"k": "v"}, 2 ** 70]))
    add("arr_object_2d", _objarray(["a", "b", "c", None, 1, 2.0], shape=(2, 3)))
    add("arr_struct", np.array([(1, 2.5, b"ab"), (-1, np.nan, b"")],
                               dtype=[("x", "<i4"), ("y", "<f8"), ("z", "S2")]))
    add("arr_tree_nodes", _tree_nodes(TREE_NODE_DTYPE))
    add("arr_tree_nodes_64", _tree_nodes(TREE_NODE_DTYPE_64))
    add("arr_struct_nested", np.zeros(2, dtype=[("a", "<i2"), ("v", "<f4", (3,)),
                                                ("s", [("p", "u1"), ("q", ">i8")])]))
    add("arr_be_i4", np.array([1, -2, 2 ** 30], dtype=">i4"))
    add("arr_be_f8", np.array([1.5, -0.0, np.nan, 1e300], dtype=">f8"))
    add("arr_fortran", np.asfortranarray(np.arange(12.0).reshape(3, 4)))
    add("arr_fortran_i4", np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)))
    add("arr_0d", np.array(3.25))
    add("arr_0d_int", np.array(-7, dtype=np.int16))
    add("arr_empty", np.zeros(0))
    add("arr_empty_3x0", np.zeros((3, 0)))
    add("arr_empty_obj", np.empty(0, dtype=object))
    add("arr_3d", np.arange(24, dtype=np.int64).reshape(2, 3, 4))
    add("arr_large_f8", np.sin(np.arange(10000, dtype=np.float64)))
    add("arr_noncontig", np.arange(30.0)[::3])
    add("arr_noncontig_2d", np.arange(20, dtype=np.int32).reshape(4, 5)[:, 1:4])

    # --- numpy scalars
    add("np_float64", np.float64(1.5))
    add("np_scalars_float", [np.float16(1.5), np.float32(-0.0), np.float64(np.nan), np.float64(-1e-300)])
    add("np_scalars_int", [np.int8(-1), np.int16(-300), np.int32(2 ** 31 - 1), np.int64(-2 ** 63),
                           np.uint8(255), np.uint16(65535), np.uint32(2 ** 32 - 1),
                           np.uint64(2 ** 64 - 1)])
    add("np_bool", [np.bool_(True), np.bool_(False)])
    add("np_complex", [np.complex64(1 + 2j), np.complex128(complex(-0.0, np.inf))])
    add("np_str_bytes", [np.str_("h\u00e9llo"), np.bytes_(b"ab\x00c")])

    # --- dtype objects, scalar types
    add("dtype_f8", np.dtype("f8"))
    add("dtypes", [np.dtype("<i8"), np.dtype(">i4"), np.dtype("u1"), np.dtype("?"), np.dtype("U7"),
                   np.dtype("S3"), np.dtype("O"), np.dtype("c16"), np.dtype("f2"),
                   TREE_NODE_DTYPE, TREE_NODE_DTYPE_64])
    add("np_type_float64", np.float64)
    add("np_types", [np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_])

    # --- something shaped like an estimator's state
    add("sklearn_state", {
        "penalty": "l2", "C": 1.0, "dual": False, "max_iter": 100, "class_weight": None,
        "dtype": np.float64,
        "n_features_in_": 4,
        "feature_names_in_": _objarray(["sepal length", "sepal width", "petal length", "petal width"]),
        "classes_": np.array([0, 1, 2]),
        "coef_": np.arange(12.0).reshape(3, 4) / 7.0,
        "intercept_": np.array([0.1, -0.2, 0.3]),
        "n_iter_": np.array([7], dtype=np.int32),
        "tree_state": {"max_depth": 1, "node_count": 3, "nodes": _tree_nodes(TREE_NODE_DTYPE),
                       "values": np.arange(9.0).reshape(3, 1, 3)},
        "random_state": np.random.RandomState(0).get_state()[1][:8],
        "_sklearn_version": "1.2.1",
    })

    names = [n for n, _ in out]
    assert len(set(names)) == len(names), "duplicate case names"
    return out


# Objects converted on their own, as the root of the file: a bare global
# as the root, recursive roots, root arrays the way joblib.dump(array)
# writes them (C and Fortran order, 0-d, object dtype), the shared array,
# and the estimator-like dict.  All other objects travel in bundles (a
# list of up to 14 objects, one brine run per bundle, each object compared
# and counted on its own); a bundle that brine cannot convert is retried
# object by object.
SINGLES = (
    "none", "np_type_float64", "rec_list", "rec_dict", "rec_objarray", "shared_array",
    "arr_fortran", "arr_object", "arr_0d", "sklearn_state",
)


def bundles(max_size=14, singles=SINGLES):
    """[(unit_name, [object names])]: every object of cases() exactly once.
    Bundles hold consecutive objects (so related kinds travel together)."""
    names = [n for n, _ in cases()]
    units = []
    cur = []

    def flush():
        if cur:
            units.append(("bundle_%s__%s" % (cur[0], cur[-1]) if len(cur) > 1 else cur[0], list(cur)))
            del cur[:]

    for n in names:
        if n in singles:
            units.append((n, [n]))
            continue
        cur.append(n)
        if len(cur) >= max_size:
            flush()
    flush()
    return units
