/* test_joblib.c — joblib containers: aligned raw array data, memory
 * mapping, truncated payloads, nested object arrays, legacy sidecars and
 * the ZF container. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asm.h"
#include "brine.h"
#include "harness.h"
#include "io/compress.h"
#include "io/file.h"
#include "numpy/numpy.h"
#include "pickle/compare.h"
#include "pickle/value.h"

static char tmpdir[64];

static bv *arrays(bp_arena *a, int n) {
    bv *list = bv_new(a, BRINE_LIST);
    for (int k = 1; k <= n; k++) {
        int64_t len = k * 3; /* odd sizes move every following offset */
        uint8_t *data = bp_arena_alloc(a, (size_t)len * 8);
        for (int64_t i = 0; i < len * 8; i++) data[i] = (uint8_t)(i + k);
        bv *arr;
        CHECK(bn_array_new(a, &arr, bn_dtype_simple(a, 'f', 8, '<'), 1, &len, 0, data, (size_t)len * 8, NULL, NULL, -1) == BRINE_OK);
        arr->u.arr->subclass = bv_global(a, "numpy", "ndarray", NULL);
        bv_seq_push(a, list, arr, NULL, -1);
    }
    return list;
}

static void save_joblib(const bv *root, void **out, size_t *n) {
    brine_save_options so = BRINE_SAVE_OPTIONS_INIT;
    so.format = BRINE_FORMAT_JOBLIB;
    brine_error err;
    brine_error_clear(&err);
    CHECK(brine_save_memory(out, n, root, &so, &err) == BRINE_OK);
}

static void array_data_is_16_byte_aligned(void) {
    bp_arena a;
    bp_arena_init(&a, 0);
    bv *root = arrays(&a, 7);
    void *out;
    size_t n;
    save_joblib(root, &out, &n);
    brine_file *f = NULL;
    brine_error err;
    brine_error_clear(&err);
    CHECK(brine_file_open_memory(&f, out, n, NULL, &err) == BRINE_OK);
    if (f) {
        CHECK_EQ_INT(brine_file_format(f), BRINE_FORMAT_JOBLIB);
        const brine_value *l = brine_file_root(f);
        for (size_t k = 0; k < brine_value_len(l); k++) {
            brine_array_info info;
            CHECK(brine_value_array(brine_value_item(l, k), &info) == BRINE_OK);
            /* arrays point into the input: their offset is aligned */
            CHECK(((const uint8_t *)info.data - (const uint8_t *)out) % 16 == 0);
        }
        CHECK(bp_graph_equal(root, brine_file_root(f), NULL, 0));
    }
    brine_file_free(f);
    brine_free(out);
    bp_arena_free(&a);
}

static void mapped_arrays_point_into_the_file(void) {
    bp_arena a;
    bp_arena_init(&a, 0);
    bv *root = arrays(&a, 3);
    char path[128];
    snprintf(path, sizeof path, "%s/m.joblib", tmpdir);
    brine_save_options so = BRINE_SAVE_OPTIONS_INIT;
    so.format = BRINE_FORMAT_JOBLIB;
    brine_error err;
    brine_error_clear(&err);
    CHECK(brine_save(root, path, &so, &err) == BRINE_OK);
    brine_load_options lo = BRINE_LOAD_OPTIONS_INIT;
    lo.use_mmap = 1;
    brine_file *f = NULL;
    CHECK(brine_file_open(&f, path, &lo, &err) == BRINE_OK);
    if (f) {
        CHECK(brine_file_is_mapped(f));
        brine_array_info info;
        CHECK(brine_value_array(brine_value_item(brine_file_root(f), 2), &info) == BRINE_OK);
        CHECK(((uintptr_t)info.data) % 16 == 0); /* mappings are page aligned */
        CHECK(bp_graph_equal(root, brine_file_root(f), NULL, 0));
    }
    brine_file_free(f);
    bp_arena_free(&a);
}

static void truncated_payloads_name_the_offset(void) {
    bp_arena a;
    bp_arena_init(&a, 0);
    bv *root = arrays(&a, 2);
    void *out;
    size_t n;
    save_joblib(root, &out, &n);
    /* every prefix fails cleanly, and one cut inside the data says so */
    int data_msgs = 0;
    for (size_t cut = 0; cut < n - 1; cut++) {
        brine_file *f = NULL;
        brine_error err;
        brine_error_clear(&err);
        CHECK(brine_file_open_memory(&f, out, cut, NULL, &err) == BRINE_E_FORMAT);
        CHECK(err.offset >= 0 && (size_t)err.offset <= cut);
        if (strstr(err.message, "array data of")) data_msgs++;
        brine_file_free(f);
    }
    CHECK(data_msgs > 0);
    brine_free(out);
    bp_arena_free(&a);
}

static void write_file(const char *name, const void *p, size_t n) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    brine_error err;
    brine_error_clear(&err);
    CHECK(bi_write_atomic(path, p, n, &err) == BRINE_OK);
}

/* A pickle whose root is NDArrayWrapper(filename=name). */
static void legacy_wrapper(bi_buf *b, const char *name) {
    a_op(b, 0x80);
    a_op(b, 2);
    a_global(b, "joblib.numpy_pickle", "NDArrayWrapper");
    a_op(b, ')');
    a_op(b, 0x81);
    a_op(b, '}');
    a_op(b, '(');
    a_str(b, "filename");
    a_str(b, name);
    a_str(b, "subclass");
    a_global(b, "numpy", "ndarray");
    a_op(b, 'u');
    a_op(b, 'b');
    a_op(b, '.');
}

static brine_status open_legacy(const char *model, const char *name, brine_error *err) {
    bi_buf b = BI_BUF_INIT;
    legacy_wrapper(&b, name);
    write_file(model, b.data, b.len);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, model);
    brine_file *f = NULL;
    brine_error_clear(err);
    brine_status st = brine_file_open(&f, path, NULL, err);
    if (!st) {
        brine_array_info info;
        CHECK(brine_value_array(brine_file_root(f), &info) == BRINE_OK && info.count == 4);
    }
    brine_file_free(f);
    bi_buf_free(&b);
    return st;
}

static void legacy_sidecars_only_by_plain_name(void) {
    bp_arena a;
    bp_arena_init(&a, 0);
    int64_t four = 4;
    static const double v[4] = {1, 2, 3, 4};
    bv *arr;
    CHECK(bn_array_new(&a, &arr, bn_dtype_simple(&a, 'f', 8, '<'), 1, &four, 0, (const uint8_t *)v, 32, NULL, NULL, -1) == BRINE_OK);
    bi_buf npy = BI_BUF_INIT;
    brine_error err;
    brine_error_clear(&err);
    CHECK(bn_npy_write(arr, &npy, &err) == BRINE_OK);
    write_file("model.pkl_01.npy", npy.data, npy.len);
    CHECK(open_legacy("model.pkl", "model.pkl_01.npy", &err) == BRINE_OK);
    CHECK(open_legacy("m2.pkl", "../model.pkl_01.npy", &err) == BRINE_E_FORMAT);
    CHECK(strstr(err.message, "plain file name") != NULL);
    CHECK(open_legacy("m3.pkl", "/etc/passwd", &err) == BRINE_E_FORMAT);
    CHECK(open_legacy("m4.pkl", "missing.npy", &err) == BRINE_E_IO);
    /* from memory there is no directory to look in */
    bi_buf b = BI_BUF_INIT;
    legacy_wrapper(&b, "model.pkl_01.npy");
    brine_file *f = NULL;
    brine_error_clear(&err);
    CHECK(brine_file_open_memory(&f, b.data, b.len, NULL, &err) == BRINE_E_UNSUPPORTED);
    bi_buf_free(&b);
    bi_buf_free(&npy);
    bp_arena_free(&a);
}

static void legacy_zf_container(void) {
    /* ZF + hex length padded to 19 characters + one zlib stream */
    static const char pickle[] = "\x80\x02K\x2a.";
    bi_buf z = BI_BUF_INIT;
    brine_error err;
    brine_error_clear(&err);
    CHECK(bi_compress(BRINE_COMPRESSION_ZLIB, 3, (const uint8_t *)pickle, sizeof pickle - 1, &z, &err) == BRINE_OK);
    bi_buf file = BI_BUF_INIT;
    char hdr[32];
    snprintf(hdr, sizeof hdr, "ZF%-19s", "0x5");
    bi_buf_put(&file, hdr, 21);
    bi_buf_put(&file, z.data, z.len);
    brine_file *f = NULL;
    CHECK(brine_file_open_memory(&f, file.data, file.len, NULL, &err) == BRINE_OK);
    int64_t v = 0;
    if (f) CHECK(brine_value_int64(brine_file_root(f), &v) == BRINE_OK && v == 42);
    if (f) CHECK_EQ_INT(brine_file_format(f), BRINE_FORMAT_JOBLIB);
    brine_file_free(f);
    bi_buf_free(&z);
    bi_buf_free(&file);
}

static void wrapper_inside_a_nested_pickle_is_refused(void) {
    /* outer wrapper of an object array whose nested pickle is itself a
     * wrapper of an object array */
    bi_buf b = BI_BUF_INIT;
    for (int level = 0; level < 2; level++) {
        a_op(&b, 0x80);
        a_op(&b, 2);
        a_global(&b, "joblib.numpy_pickle", "NumpyArrayWrapper");
        a_op(&b, ')');
        a_op(&b, 0x81);
        a_op(&b, '}');
        a_op(&b, '(');
        a_str(&b, "subclass");
        a_global(&b, "numpy", "ndarray");
        a_str(&b, "shape");
        int64_t one = 1;
        a_shape(&b, &one, 1);
        a_str(&b, "order");
        a_str(&b, "C");
        a_str(&b, "dtype");
        a_global(&b, "numpy", "dtype");
        a_str(&b, "O8");
        a_op(&b, 0x89);
        a_op(&b, 0x88);
        a_op(&b, 0x87);
        a_op(&b, 'R');
        a_op(&b, '(');
        a_int(&b, 3);
        a_str(&b, "|");
        a_op(&b, 'N');
        a_op(&b, 'N');
        a_op(&b, 'N');
        a_int(&b, -1);
        a_int(&b, -1);
        a_int(&b, 63);
        a_op(&b, 't');
        a_op(&b, 'b');
        a_op(&b, 'u');
        a_op(&b, 'b');
    }
    brine_file *f = NULL;
    brine_error err;
    brine_error_clear(&err);
    CHECK(brine_file_open_memory(&f, b.data, b.len, NULL, &err) == BRINE_E_UNSUPPORTED);
    CHECK(strstr(err.message, "nested pickle") != NULL);
    bi_buf_free(&b);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/brine-test-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    RUN(array_data_is_16_byte_aligned);
    RUN(mapped_arrays_point_into_the_file);
    RUN(truncated_payloads_name_the_offset);
    RUN(legacy_sidecars_only_by_plain_name);
    RUN(legacy_zf_container);
    RUN(wrapper_inside_a_nested_pickle_is_refused);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) return 1;
    TEST_MAIN_END();
}
