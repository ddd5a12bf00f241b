/* test_writer.c — graphs written at every protocol and container read back
 * equal, shared and recursive references included; framing as CPython. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "harness.h"
#include "numpy/numpy.h"
#include "pickle/compare.h"
#include "pickle/opcodes.h"
#include "pickle/value.h"

static bv *str_of(bp_arena *a, size_t n, char fill) {
    char *s = malloc(n + 1);
    memset(s, fill, n);
    bv *v = bv_bytes_kind(a, BRINE_STR, s, n, 1);
    free(s);
    return v;
}

static void put(bp_arena *a, bv *d, const char *k, bv *v) { CHECK(bv_dict_set_str(a, d, k, v) == BRINE_OK); }

/* A graph with every kind the writer handles and the tricky sharing. */
static bv *sample(bp_arena *a) {
    bv *d = bv_new(a, BRINE_DICT);
    static const uint8_t big[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40};
    put(a, d, "big", bv_int_le(a, big, sizeof big));
    int64_t ints[] = {0, 255, 256, 65535, 65536, -1, INT32_MIN, INT32_MAX, (int64_t)1 << 40, INT64_MIN};
    bv *il = bv_new(a, BRINE_LIST);
    for (size_t k = 0; k < sizeof ints / sizeof *ints; k++) bv_seq_push(a, il, bv_int(a, ints[k]), NULL, -1);
    put(a, d, "ints", il);
    bv *fl = bv_new(a, BRINE_LIST);
    double fs[] = {0.0, -0.0, 1.5, NAN, INFINITY, -INFINITY, 5e-324};
    for (size_t k = 0; k < sizeof fs / sizeof *fs; k++) bv_seq_push(a, fl, bv_float(a, fs[k]), NULL, -1);
    put(a, d, "floats", fl);
    put(a, d, "long_str", str_of(a, 70000, 'x'));
    char *raw = malloc(100000);
    for (int k = 0; k < 100000; k++) raw[k] = (char)(k * 7);
    put(a, d, "bytes", bv_bytes_kind(a, BRINE_BYTES, raw, 100000, 1));
    put(a, d, "bytearray", bv_bytes_kind(a, BRINE_BYTEARRAY, raw, 300, 1));
    put(a, d, "empty_bytes", bv_bytes_kind(a, BRINE_BYTES, "", 0, 1));
    free(raw);
    put(a, d, "unicode", bv_str(a, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xed\xa0\x80"));
    for (size_t n = 0; n <= 5; n++) {
        bv *items[5];
        for (size_t k = 0; k < n; k++) items[k] = bv_int(a, (int64_t)k);
        char key[16];
        snprintf(key, sizeof key, "tuple%zu", n);
        put(a, d, key, bv_tuple_of(a, n, items));
    }
    bv *self_list = bv_new(a, BRINE_LIST);
    bv_seq_push(a, self_list, self_list, NULL, -1);
    put(a, d, "self_list", self_list);
    put(a, d, "self_dict", d);
    /* a tuple holding a list that holds the tuple */
    bv *inner = bv_new(a, BRINE_LIST);
    bv *t = bv_tuple_of(a, 1, &inner);
    bv_seq_push(a, inner, t, NULL, -1);
    put(a, d, "tuple_cycle", t);
    bv *shared = bv_str(a, "shared");
    bv *pair[2] = {shared, shared};
    put(a, d, "shared_pair", bv_tuple_of(a, 2, pair));
    bv *s = bv_new(a, BRINE_SET), *fz = bv_new(a, BRINE_FROZENSET);
    for (int k = 0; k < 1500; k++) bv_seq_push(a, s, bv_int(a, k), NULL, -1);
    bv_seq_push(a, fz, bv_str(a, "a"), NULL, -1);
    put(a, d, "set", s);
    put(a, d, "frozenset", fz);
    bv *big_list = bv_new(a, BRINE_LIST);
    for (int k = 0; k < 2500; k++) bv_seq_push(a, big_list, bv_none(a), NULL, -1);
    put(a, d, "list2500", big_list);
    bv *c = bv_new(a, BRINE_COMPLEX);
    c->u.c.re = 1.5;
    c->u.c.im = -2;
    put(a, d, "complex", c);
    bv *sl = bv_new(a, BRINE_SLICE);
    sl->u.slice.start = bv_int(a, 1);
    sl->u.slice.stop = bv_int(a, 9);
    sl->u.slice.step = bv_none(a);
    put(a, d, "slice", sl);
    put(a, d, "global", bv_global(a, "numpy", "float64", NULL));
    /* arrays: float64 2x3 Fortran, an object array holding the dict */
    static const double vals[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[2] = {2, 3};
    bv *arr;
    CHECK(bn_array_new(a, &arr, bn_dtype_simple(a, 'f', 8, '<'), 2, shape, 1, (const uint8_t *)vals, sizeof vals, NULL,
                       NULL, -1) == BRINE_OK);
    arr->u.arr->subclass = bv_global(a, "numpy", "ndarray", NULL);
    put(a, d, "array", arr);
    put(a, d, "array_again", arr);
    bv *objs = bv_new(a, BRINE_LIST);
    bv_seq_push(a, objs, bv_str(a, "x"), NULL, -1);
    bv_seq_push(a, objs, bv_none(a), NULL, -1);
    int64_t two = 2;
    bv *oarr;
    CHECK(bn_array_new(a, &oarr, bn_dtype_simple(a, 'O', 8, '|'), 1, &two, 0, NULL, 0, objs, NULL, -1) == BRINE_OK);
    oarr->u.arr->subclass = bv_global(a, "numpy", "ndarray", NULL);
    put(a, d, "object_array", oarr);
    return d;
}

static void round_trip(const bv *root, brine_format format, brine_compression comp, int proto) {
    brine_save_options so = BRINE_SAVE_OPTIONS_INIT;
    so.protocol = proto;
    so.format = format;
    so.compression = comp;
    void *out = NULL;
    size_t n = 0;
    brine_error err;
    brine_error_clear(&err);
    CHECK(brine_save_memory(&out, &n, root, &so, &err) == BRINE_OK);
    if (!out) { fprintf(stderr, "  save: %s\n", err.message); return; }
    brine_file *f = NULL;
    CHECK(brine_file_open_memory(&f, out, n, NULL, &err) == BRINE_OK);
    if (f) {
        char why[128] = "";
        int eq = bp_graph_equal(root, brine_file_root(f), why, sizeof why);
        if (!eq) fprintf(stderr, "  format %d compression %d protocol %d: %s\n", format, comp, proto, why);
        CHECK(eq);
        CHECK_EQ_INT(brine_file_protocol(f), proto);
        CHECK_EQ_INT(brine_file_compression(f), comp);
    } else {
        fprintf(stderr, "  reload (format %d, protocol %d): %s at %lld\n", format, proto, err.message, (long long)err.offset);
    }
    brine_file_free(f);
    brine_free(out);
}

static void every_protocol_and_container_round_trips(void) {
    bp_arena a;
    bp_arena_init(&a, 0);
    bv *root = sample(&a);
    for (int proto = 2; proto <= 5; proto++) {
        round_trip(root, BRINE_FORMAT_PICKLE, BRINE_COMPRESSION_NONE, proto);
        round_trip(root, BRINE_FORMAT_JOBLIB, BRINE_COMPRESSION_NONE, proto);
    }
    for (int c = BRINE_COMPRESSION_ZLIB; c < BRINE_COMPRESSION_COUNT_; c++)
        round_trip(root, BRINE_FORMAT_JOBLIB, (brine_compression)c, 4);
    bp_arena_free(&a);
}

/* Protocol 4 output is framed; payloads of 64 KiB or more sit between
 * frames; every frame's length matches its content. */
static void frames_are_consistent(void) {
    bp_arena a;
    bp_arena_init(&a, 0);
    bv *root = sample(&a);
    void *out;
    size_t n;
    brine_error err;
    brine_error_clear(&err);
    CHECK(brine_save_memory(&out, &n, root, NULL, &err) == BRINE_OK);
    const uint8_t *p = out;
    CHECK(p[0] == BP_OP_PROTO && p[1] == 4 && p[2] == BP_OP_FRAME);
    size_t pos = 2, frames = 0, unframed_big = 0;
    while (pos < n) {
        if (p[pos] == BP_OP_FRAME) {
            uint64_t len = 0;
            for (int k = 0; k < 8; k++) len |= (uint64_t)p[pos + 1 + k] << (8 * k);
            CHECK(len >= 4 && len <= n - pos - 9);
            pos += 9 + (size_t)len;
            frames++;
        } else if (p[pos] == BP_OP_BINBYTES || p[pos] == BP_OP_BINUNICODE) {
            uint32_t len = (uint32_t)p[pos + 1] | (uint32_t)p[pos + 2] << 8 | (uint32_t)p[pos + 3] << 16 | (uint32_t)p[pos + 4] << 24;
            CHECK(len >= 65536);
            pos += 5 + len;
            unframed_big++;
        } else {
            break; /* the short unframed tail */
        }
    }
    CHECK(frames >= 2);
    CHECK_EQ_INT(unframed_big, 2);
    CHECK(n - pos < 4);
    brine_free(out);
    bp_arena_free(&a);
}

static void constructor_argument_cycles_are_refused(void) {
    bp_arena a;
    bp_arena_init(&a, 0);
    bv *o = bv_new(&a, BRINE_OBJECT);
    o->how = BV_HOW_REDUCE;
    o->u.obj.callable = bv_global(&a, "sklearn.tree._tree", "Tree", NULL);
    o->u.obj.args = bv_tuple_of(&a, 1, &o);
    void *out;
    size_t n;
    brine_error err;
    brine_error_clear(&err);
    CHECK(brine_save_memory(&out, &n, o, NULL, &err) == BRINE_E_UNSUPPORTED);
    CHECK(strstr(err.message, "constructor arguments") != NULL);
    bp_arena_free(&a);
}

static void bad_options_are_refused(void) {
    bp_arena a;
    bp_arena_init(&a, 0);
    bv *v = bv_none(&a);
    brine_save_options so = BRINE_SAVE_OPTIONS_INIT;
    so.protocol = 1;
    void *out;
    size_t n;
    brine_error err;
    brine_error_clear(&err);
    CHECK(brine_save_memory(&out, &n, v, &so, &err) == BRINE_E_ARGUMENT);
    brine_compression c;
    int level;
    CHECK(brine_compression_parse(&c, &level, "gzip:5", &err) == BRINE_OK && c == BRINE_COMPRESSION_GZIP && level == 5);
    CHECK(brine_compression_parse(&c, &level, "3", &err) == BRINE_OK && c == BRINE_COMPRESSION_ZLIB && level == 3);
    CHECK(brine_compression_parse(&c, &level, "0", &err) == BRINE_OK && c == BRINE_COMPRESSION_NONE);
    CHECK(brine_compression_parse(&c, &level, "lz4", &err) == BRINE_OK && c == BRINE_COMPRESSION_LZ4 && level == -1);
    CHECK(brine_compression_parse(&c, &level, "snappy", &err) == BRINE_E_ARGUMENT);
    CHECK_STR(brine_compression_name(BRINE_COMPRESSION_XZ), "xz");
    bp_arena_free(&a);
}

/* sklearn's Bunch is a dict subclass: pickle fills it with SETITEMS after
 * NEWOBJ.  brine keeps those items on the object and writes them back in
 * the same place; the same fill on any other object stays refused. */
static const char P_bunch[] =
    "\x80\x02\x63\x73\x6b\x6c\x65\x61\x72\x6e\x2e\x75\x74\x69\x6c\x73\x2e\x5f\x62\x75\x6e\x63\x68\x0a\x42\x75\x6e\x63\x68\x0a"
    "\x71\x00\x29\x81\x71\x01\x28\x58\x01\x00\x00\x00\x61\x71\x02\x4b\x01\x58\x01\x00\x00\x00\x62\x71\x03\x5d\x71\x04\x28\x4b"
    "\x02\x4b\x03\x65\x75\x2e";

static void bunch_items_round_trip(void) {
    brine_file *f = NULL;
    brine_error err;
    brine_error_clear(&err);
    CHECK_EQ_INT(brine_file_open_memory(&f, P_bunch, sizeof P_bunch - 1, NULL, &err), BRINE_OK);
    const bv *root = f ? brine_file_root(f) : NULL;
    CHECK(root && root->kind == BRINE_OBJECT && root->u.obj.items && root->u.obj.items->u.seq.n == 2);
    if (root) {
        for (int proto = 2; proto <= 5; proto++) round_trip(root, BRINE_FORMAT_PICKLE, BRINE_COMPRESSION_NONE, proto);
        round_trip(root, BRINE_FORMAT_JOBLIB, BRINE_COMPRESSION_ZLIB, 4);
    }
    brine_file_free(f);
    /* the same SETITEMS on an object of another allowlisted class (an SVC,
     * where Python calls __setitem__ and fails) */
    static const char other[] = "\x80\x02\x63\x73\x6b\x6c\x65\x61\x72\x6e\x2e\x73\x76\x6d\x2e\x5f\x63\x6c\x61\x73\x73\x65"
                                "\x73\x0a\x53\x56\x43\x0a\x71\x00\x29\x81\x71\x01\x28\x58\x01\x00\x00\x00\x61\x71\x02\x4b"
                                "\x01\x75\x2e";
    CHECK_EQ_INT(brine_file_open_memory(&f, other, sizeof other - 1, NULL, &err), BRINE_E_UNSUPPORTED);
    CHECK(strstr(err.message, "SETITEMS") != NULL);
    brine_file_free(f);
}

int main(void) {
    RUN(every_protocol_and_container_round_trips);
    RUN(bunch_items_round_trip);
    RUN(frames_are_consistent);
    RUN(constructor_argument_cycles_are_refused);
    RUN(bad_options_are_refused);
    TEST_MAIN_END();
}
