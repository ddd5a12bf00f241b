/* model_bytes.h — the estimator unit tests' one way to load a hand-built
 * pickle (a P_name byte string), expect it refused, and predict with it.
 * Included after harness.h; static inline, so a test that uses only some
 * of these builds without warnings. */
#ifndef BRINE_TESTS_MODEL_BYTES_H
#define BRINE_TESTS_MODEL_BYTES_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "brine.h"
#include "harness.h"

/* The model in bytes[0..n), or its error. */
static inline brine_status load_bytes(const char *bytes, size_t n, brine_model **m, brine_error *err) {
    brine_file *f = NULL;
    brine_error_clear(err);
    *m = NULL;
    brine_status st = brine_file_open_memory(&f, bytes, n, NULL, err);
    if (!st) st = brine_model_from_file(m, f, err);
    brine_file_free(f);
    return st;
}
#define LOAD(name, m, err) load_bytes(P_##name, sizeof P_##name - 1, m, err)

/* Loading bytes fails with want, and the message names a (and b). */
static inline void expect_load_status(const char *bytes, size_t n, brine_status want, const char *a, const char *b) {
    brine_model *m;
    brine_error err;
    brine_status st = load_bytes(bytes, n, &m, &err);
    CHECK_EQ_INT(st, want);
    CHECK(m == NULL);
    brine_model_free(m);
    if (!strstr(err.message, a) || (b && !strstr(err.message, b))) {
        fprintf(stderr, "  message was: %s (wanted '%s'%s%s)\n", err.message, a, b ? " and " : "", b ? b : "");
        CHECK(0);
    }
}
#define EXPECT_STATUS(name, st, a, b) expect_load_status(P_##name, sizeof P_##name - 1, st, a, b)
#define EXPECT_FORMAT(name, a, b) EXPECT_STATUS(name, BRINE_E_FORMAT, a, b)
#define EXPECT_UNSUPPORTED(name, a, b) EXPECT_STATUS(name, BRINE_E_UNSUPPORTED, a, b)

/* method of m on rows rows of x (the model's width); NULL, said, on failure. */
static inline brine_prediction *predict_rows(const brine_model *m, brine_method method, const double *x, size_t rows) {
    brine_prediction *p = NULL;
    brine_error err;
    brine_error_clear(&err);
    if (brine_model_predict(&p, m, method, x, rows, brine_model_n_features_in(m), &err))
        fprintf(stderr, "  predict failed: %s\n", err.message);
    return p;
}

/* CONVENTIONS' tolerance for BLAS-based arithmetic: 1e-9 relative. */
static inline int close_to(double a, double b) { return fabs(a - b) <= 1e-9 * (fabs(b) > 1 ? fabs(b) : 1); }

#endif
