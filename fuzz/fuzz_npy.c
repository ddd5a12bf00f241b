/* fuzz_npy.c — the .npy parser (header literal, descr, shape, data length).
 * No pickle callback: object arrays must be refused, never followed.  An
 * accepted array must describe exactly count * itemsize bytes, all of them
 * inside the input it borrows from. */
#include <stdint.h>

#include "fuzz_util.h"
#include "numpy/numpy.h"
#include "pickle/value.h"

#define TARGET "fuzz_npy"

static void check_array(const bv *arr, const uint8_t *data, size_t size) {
    brine_array_info info;
    if (brine_value_array(arr, &info) != BRINE_OK) fz_die(TARGET, "parsed .npy is not an array", NULL);
    if (info.count < 0) fz_die(TARGET, "negative element count", NULL);
    uint64_t want;
    if (__builtin_mul_overflow((uint64_t)info.count, (uint64_t)info.itemsize, &want) || want != info.nbytes)
        fz_die(TARGET, "nbytes != count * itemsize", NULL);
    if (info.nbytes == 0) return;
    const uint8_t *p = info.data;
    if (!p || p < data || info.nbytes > size || p - data > (ptrdiff_t)(size - info.nbytes))
        fz_die(TARGET, "array data lies outside the input", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bp_arena a;
    bp_arena_init(&a, (uint64_t)64 << 20);
    bv *out = NULL;
    brine_error err;
    brine_error_clear(&err);
    brine_status st = bn_npy_parse(&a, data, size, NULL, NULL, &out, &err);
    fz_check_error(TARGET, st, &err, (int64_t)size);
    if (st == BRINE_OK) check_array(out, data, size);
    bp_arena_free(&a);
    return 0;
}
