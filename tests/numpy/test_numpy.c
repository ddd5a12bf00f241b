/* test_numpy.c — arrays, dtypes, scalars and .npy files: what is declared
 * is checked against what is present (SECURITY F3, F4). */
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "brine.h"
#include "harness.h"
#include "numpy/numpy.h"
#include "pickle/value.h"

static brine_file *load_buf(bi_buf *b, brine_error *err) {
    a_op(b, '.');
    brine_file *f = NULL;
    brine_error_clear(err);
    brine_file_open_memory(&f, b->data, b->len, NULL, err);
    return f;
}

static void array_of_shape_and_dtype(void) {
    double vals[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[2] = {2, 3};
    bi_buf b = BI_BUF_INIT;
    a_op(&b, 0x80);
    a_op(&b, 2);
    a_array(&b, shape, 2, "f8", "<", vals, sizeof vals);
    brine_error err;
    brine_file *f = load_buf(&b, &err);
    CHECK(f != NULL);
    brine_array_info info;
    if (f) {
        CHECK(brine_value_array(brine_file_root(f), &info) == BRINE_OK);
        CHECK(info.kind == 'f' && info.itemsize == 8 && info.ndim == 2 && info.shape[1] == 3 && info.count == 6);
        CHECK(info.nbytes == 48 && memcmp(info.data, vals, 48) == 0 && info.byteorder == '<');
    } else {
        fprintf(stderr, "  %s\n", err.message);
    }
    brine_file_free(f);
    bi_buf_free(&b);
}

static void expect_array_fault(const int64_t *shape, int ndim, const char *typestr, size_t nbytes, brine_status st,
                               const char *text) {
    static uint8_t data[64];
    bi_buf b = BI_BUF_INIT;
    a_array(&b, shape, ndim, typestr, typestr[0] == 'f' || typestr[0] == 'i' ? "<" : "|", data, nbytes);
    brine_error err;
    brine_file *f = load_buf(&b, &err);
    CHECK(f == NULL);
    CHECK_EQ_INT(err.status, st);
    CHECK(err.offset > 0);
    if (!strstr(err.message, text)) {
        fprintf(stderr, "  message was: %s\n", err.message);
        CHECK(0);
    }
    brine_file_free(f);
    bi_buf_free(&b);
}

static void lying_headers_are_refused(void) {
    int64_t s23[2] = {2, 3}, neg[1] = {-1}, huge[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
    int64_t big3[3] = {(int64_t)1 << 31, (int64_t)1 << 31, (int64_t)1 << 31};
    expect_array_fault(s23, 2, "f8", 47, BRINE_E_FORMAT, "array data is 47 bytes");
    expect_array_fault(neg, 1, "f8", 8, BRINE_E_FORMAT, "shape is negative");
    expect_array_fault(huge, 2, "i8", 8, BRINE_E_FORMAT, "need");
    expect_array_fault(big3, 3, "i8", 8, BRINE_E_FORMAT, "shape");
    expect_array_fault(s23, 2, "f3", 48, BRINE_E_UNSUPPORTED, "type string");
    expect_array_fault(s23, 2, "O8", 48, BRINE_E_FORMAT, "must be a list");
}

static void big_endian_and_scalars(void) {
    bi_buf b = BI_BUF_INIT;
    a_op(&b, 0x80);
    a_op(&b, 2);
    a_op(&b, '(');
    int64_t two = 2;
    a_array(&b, &two, 1, "i4", ">", "\0\0\0\1\0\0\0\2", 8);
    a_global(&b, "numpy.core.multiarray", "scalar");
    a_dtype(&b, "f8", "<");
    double x = 1.5;
    a_bytes(&b, &x, 8);
    a_op(&b, 0x86);
    a_op(&b, 'R');
    a_op(&b, 't');
    brine_error err;
    brine_file *f = load_buf(&b, &err);
    CHECK(f != NULL);
    brine_array_info info;
    if (f) {
        const brine_value *t = brine_file_root(f);
        CHECK(brine_value_array(brine_value_item(t, 0), &info) == BRINE_OK && info.byteorder == '>');
        CHECK(brine_value_array(brine_value_item(t, 1), &info) == BRINE_OK && info.ndim == 0);
        CHECK(brine_value_kind(brine_value_item(t, 1)) == BRINE_SCALAR && memcmp(info.data, &x, 8) == 0);
    }
    brine_file_free(f);
    bi_buf_free(&b);
    /* A scalar whose bytes do not match its dtype. */
    bi_buf c = BI_BUF_INIT;
    a_global(&c, "numpy.core.multiarray", "scalar");
    a_dtype(&c, "f8", "<");
    a_bytes(&c, &x, 4);
    a_op(&c, 0x86);
    a_op(&c, 'R');
    f = load_buf(&c, &err);
    CHECK(f == NULL && strstr(err.message, "numpy scalar of 4 bytes"));
    brine_file_free(f);
    bi_buf_free(&c);
}

/* _frombuffer(buf, dtype, shape, 'K', axes): numpy 2.3's permuted form. */
static void frombuffer_orders(void) {
    uint8_t data[6] = {0, 1, 2, 3, 4, 5};
    bi_buf b = BI_BUF_INIT;
    a_global(&b, "numpy._core.numeric", "_frombuffer");
    a_op(&b, '(');
    a_op(&b, 0x96);
    bi_buf_u64le(&b, 6);
    a_raw(&b, data, 6);
    a_dtype(&b, "u1", "|");
    int64_t shape[2] = {2, 3};
    a_shape(&b, shape, 2);
    a_str(&b, "K");
    int64_t axes[2] = {1, 0};
    a_shape(&b, axes, 2);
    a_op(&b, 't');
    a_op(&b, 'R');
    brine_error err;
    brine_file *f = load_buf(&b, &err);
    CHECK(f != NULL);
    brine_array_info info;
    if (f && brine_value_array(brine_file_root(f), &info) == BRINE_OK) {
        /* reshape (2,3) then transpose: [[0,3],[1,4],[2,5]] in C order */
        static const uint8_t want[6] = {0, 3, 1, 4, 2, 5};
        CHECK(info.shape[0] == 3 && info.shape[1] == 2 && memcmp(info.data, want, 6) == 0);
    } else if (!f) {
        fprintf(stderr, "  %s\n", err.message);
    }
    brine_file_free(f);
    bi_buf_free(&b);
}

static void npy_round_trip_and_faults(void) {
    bp_arena a;
    bp_arena_init(&a, 0);
    int32_t vals[6] = {1, -2, 3, -4, 5, -6};
    int64_t shape[2] = {3, 2};
    bv *arr;
    CHECK(bn_array_new(&a, &arr, bn_dtype_simple(&a, 'i', 4, '<'), 2, shape, 1, (const uint8_t *)vals, 24, NULL, NULL, -1) == BRINE_OK);
    bi_buf out = BI_BUF_INIT;
    brine_error err;
    brine_error_clear(&err);
    CHECK(bn_npy_write(arr, &out, &err) == BRINE_OK);
    CHECK(out.len % 64 == 24 % 64 || (out.len - 24) % 64 == 0);
    bv *back;
    CHECK(bn_npy_parse(&a, out.data, out.len, NULL, NULL, &back, &err) == BRINE_OK);
    if (back) CHECK(back->u.arr->fortran == 1 && back->u.arr->count == 6 && !memcmp(back->u.arr->data, vals, 24));
    brine_error_clear(&err);
    CHECK(bn_npy_parse(&a, out.data, out.len - 1, NULL, NULL, &back, &err) == BRINE_E_FORMAT);
    brine_error_clear(&err);
    CHECK(bn_npy_parse(&a, (const uint8_t *)"\x93NUMPX\x01\x00\x00\x00", 10, NULL, NULL, &back, &err) == BRINE_E_FORMAT);
    /* a structured descr with padding, as old sklearn tree .npy sidecars */
    static const char hdr[] = "{'descr': [('left', '<i8'), ('thr', '<f8'), ('', '|V8')], 'fortran_order': False, 'shape': (1,), }";
    bi_buf s = BI_BUF_INIT;
    bi_buf_put(&s, "\x93NUMPY\x01\x00", 8);
    bi_buf_u16le(&s, (uint16_t)(sizeof hdr - 1 + 1));
    bi_buf_put(&s, hdr, sizeof hdr - 1);
    bi_buf_byte(&s, '\n');
    bi_buf_fill(&s, 0x11, 24);
    brine_error_clear(&err);
    CHECK(bn_npy_parse(&a, s.data, s.len, NULL, NULL, &back, &err) == BRINE_OK);
    if (back) {
        const bv_dtype *dt = back->u.arr->dtype->u.dt;
        CHECK(dt->itemsize == 24 && dt->nfields == 2 && dt->fields[1].offset == 8);
        CHECK_STR(dt->fields[1].name, "thr");
    } else {
        fprintf(stderr, "  %s\n", err.message);
    }
    bi_buf_free(&s);
    bi_buf_free(&out);
    bp_arena_free(&a);
}

static void descr_strings(void) {
    bp_arena a;
    bp_arena_init(&a, 0);
    bv *d = bn_dtype_from_descr(&a, "<U3", 3);
    CHECK(d && d->u.dt->kind == 'U' && d->u.dt->itemsize == 12);
    d = bn_dtype_from_descr(&a, "|b1", 3);
    CHECK(d && d->u.dt->kind == 'b');
    d = bn_dtype_from_descr(&a, ">f4", 3);
    CHECK(d && d->u.dt->byteorder == '>');
    CHECK(bn_dtype_from_descr(&a, "<f3", 3) == NULL);
    CHECK(bn_dtype_from_descr(&a, "f8", 2) == NULL);
    bp_arena_free(&a);
}

int main(void) {
    RUN(array_of_shape_and_dtype);
    RUN(lying_headers_are_refused);
    RUN(big_endian_and_scalars);
    RUN(frombuffer_orders);
    RUN(npy_round_trip_and_faults);
    RUN(descr_strings);
    TEST_MAIN_END();
}
