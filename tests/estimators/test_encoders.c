/* test_encoders.c — encoders, ColumnTransformer, imputers and
 * PolynomialFeatures loaded from pickles of allowed classes (valid ones with
 * Debian's sklearn 1.2.1 answers, hostile ones made by overwriting
 * attributes; see gen_encoder_pickles.py): every wrong shape or index fails
 * at load with BRINE_E_FORMAT (or BRINE_E_LIMIT / BRINE_E_UNSUPPORTED where
 * the case says) and never crashes; the C API takes text cells
 * (brine_model_predict_cells), matches columns by name and gives labels
 * back from inverse_transform. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "harness.h"

#include "encoder_pickles.h"

static brine_model *load(const char *data, size_t size, brine_status want, const char *needle) {
    brine_file *f = NULL;
    brine_error err;
    brine_error_clear(&err);
    brine_model *m = NULL;
    brine_status st = brine_file_open_memory(&f, data, size, NULL, &err);
    CHECK_EQ_INT(st, BRINE_OK);
    if (!st) st = brine_model_from_file(&m, f, &err);
    brine_file_free(f);
    CHECK_EQ_INT(st, want);
    if (needle && !strstr(err.message, needle)) {
        fprintf(stderr, "  message '%s' lacks '%s'\n", err.message, needle);
        CHECK(0);
    }
    return m;
}
#define LOAD_OK(p) load(p, sizeof p - 1, BRINE_OK, NULL)
#define LOAD_BAD(p, st, needle) brine_model_free(load(p, sizeof p - 1, st, needle))

/* A cleared error for the next call (a set one keeps its first fault). */
static brine_error *ce(brine_error *e) {
    brine_error_clear(e);
    return e;
}

static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static void check_values(const brine_prediction *p, const double *want, size_t n) {
    CHECK(p && p->values);
    if (!p || !p->values) return;
    CHECK_EQ_INT(p->n_rows * p->n_columns, n);
    for (size_t i = 0; i < n && i < p->n_rows * p->n_columns; i++)
        if (!same(p->values[i], want[i])) {
            fprintf(stderr, "  cell %zu: %.17g, expected %.17g\n", i, p->values[i], want[i]);
            CHECK(0);
        }
}

static void onehot_cells(void) {
    brine_model *m = LOAD_OK(P_onehot);
    CHECK(brine_model_takes_text(m));
    const char *cells[] = {"green", "l", "red", "s"};
    brine_prediction *p = NULL;
    brine_error err;
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, cells, 2, 2, NULL, ce(&err)), BRINE_OK);
    check_values(p, T_onehot, sizeof T_onehot / sizeof *T_onehot);
    brine_prediction_free(p);
    /* handle_unknown='ignore': an unknown category is all zeros */
    const char *unk[] = {"purple", "s"};
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, unk, 1, 2, NULL, ce(&err)), BRINE_OK);
    double z = 0;
    for (size_t i = 0; p && i < 3; i++) z += p->values[i];
    CHECK(p && z == 0.0);
    brine_prediction_free(p);
    /* inverse_transform: labels back */
    double codes[] = {0, 1, 0, 0, 0, 1};
    brine_prediction *q = NULL;
    CHECK_EQ_INT(brine_predict(&q, m, BRINE_METHOD_INVERSE_TRANSFORM, codes, BRINE_DTYPE_FLOAT64, 1, 6, NULL, ce(&err)),
                 BRINE_OK);
    CHECK(q && q->labels && q->n_columns == 2);
    if (q && q->labels) {
        CHECK_EQ_INT(q->labels[0].kind, BRINE_LABEL_STR);
        CHECK_STR(q->labels[0].s, "green");
        CHECK_STR(q->labels[1].s, "s");
    }
    brine_prediction_free(q);
    brine_model_free(m);
}

static void onehot_drop_error(void) {
    brine_model *m = LOAD_OK(P_onehot_drop);
    const char *cells[] = {"green", "l", "red", "s"};
    brine_prediction *p = NULL;
    brine_error err;
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, cells, 2, 2, NULL, ce(&err)), BRINE_OK);
    check_values(p, T_onehot_drop, sizeof T_onehot_drop / sizeof *T_onehot_drop);
    brine_prediction_free(p);
    /* handle_unknown='error' */
    const char *unk[] = {"purple", "s"};
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, unk, 1, 2, NULL, ce(&err)), BRINE_E_ARGUMENT);
    CHECK(p == NULL);
    CHECK(strstr(err.message, "purple") != NULL);
    brine_model_free(m);
}

static void label_encoder(void) {
    brine_model *m = LOAD_OK(P_label);
    CHECK(brine_model_takes_text(m));
    const char *cells[] = {"c", "a", "b"};
    brine_prediction *p = NULL;
    brine_error err;
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, cells, 3, 1, NULL, ce(&err)), BRINE_OK);
    CHECK(p && p->indices);
    if (p && p->indices) CHECK(p->indices[0] == 2 && p->indices[1] == 0 && p->indices[2] == 1);
    brine_prediction_free(p);
    const char *unseen[] = {"z"};
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, unseen, 1, 1, NULL, ce(&err)), BRINE_E_ARGUMENT);
    CHECK(strstr(err.message, "unseen") != NULL);
    double codes[] = {1, 2};
    CHECK_EQ_INT(brine_predict(&p, m, BRINE_METHOD_INVERSE_TRANSFORM, codes, BRINE_DTYPE_FLOAT64, 2, 1, NULL, ce(&err)),
                 BRINE_OK);
    if (p && p->labels) {
        CHECK_STR(p->labels[0].s, "b");
        CHECK_STR(p->labels[1].s, "c");
    }
    brine_prediction_free(p);
    double bad[] = {3};
    CHECK_EQ_INT(brine_predict(&p, m, BRINE_METHOD_INVERSE_TRANSFORM, bad, BRINE_DTYPE_FLOAT64, 1, 1, NULL, ce(&err)),
                 BRINE_E_ARGUMENT);
    CHECK(p == NULL);
    brine_model_free(m);
}

/* Columns matched by name, in any order; a missing or unknown name is an error. */
static void column_transformer_names(void) {
    brine_model *m = LOAD_OK(P_ct_named);
    CHECK(brine_model_takes_text(m));
    const char *names[] = {"weight", "size", "color"};
    const char *cells[] = {"3.0", "l", "green", "", "s", "red"};
    brine_prediction *p = NULL;
    brine_error err;
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, cells, 2, 3, names, ce(&err)), BRINE_OK);
    check_values(p, T_ct, sizeof T_ct / sizeof *T_ct);
    brine_prediction_free(p);
    const char *wrong[] = {"weight", "size", "colour"};
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, cells, 2, 3, wrong, ce(&err)), BRINE_E_ARGUMENT);
    CHECK(strstr(err.message, "colour") != NULL);
    /* a text cell in the scaler's column */
    const char *text_num[] = {"heavy", "l", "green"};
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, text_num, 1, 3, names, ce(&err)), BRINE_E_ARGUMENT);
    CHECK(strstr(err.message, "heavy") != NULL);
    brine_model_free(m);
}

/* A numeric model given cells: numbers and missing markers pass, text is
 * refused naming its row and column. */
static void numeric_cells(void) {
    brine_model *m = LOAD_OK(P_scaler);
    CHECK(!brine_model_takes_text(m));
    const char *cells[] = {"1", " 3.5 ", "NA", "2"};
    brine_prediction *p = NULL;
    brine_error err;
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, cells, 2, 2, NULL, ce(&err)), BRINE_OK);
    if (p) {
        CHECK(p->values[0] == (1.0 - 2.0) / 1.0);
        CHECK(isnan(p->values[2]));
    }
    brine_prediction_free(p);
    const char *bad[] = {"1", "2", "3", "x7"};
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, bad, 2, 2, NULL, ce(&err)), BRINE_E_ARGUMENT);
    CHECK(strstr(err.message, "X[1, 1]") != NULL && strstr(err.message, "x7") != NULL);
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, bad, 1, 3, NULL, ce(&err)), BRINE_E_ARGUMENT);
    CHECK_EQ_INT(brine_model_predict_cells(&p, NULL, BRINE_METHOD_TRANSFORM, bad, 1, 2, NULL, ce(&err)), BRINE_E_ARGUMENT);
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, NULL, 1, 2, NULL, ce(&err)), BRINE_E_ARGUMENT);
    CHECK_EQ_INT(brine_model_predict_cells(&p, m, BRINE_METHOD_TRANSFORM, bad, SIZE_MAX / 2, 4, NULL, ce(&err)),
                 BRINE_E_ARGUMENT);
    brine_model_free(m);
}

static void hostile(void) {
    LOAD_BAD(H_cats_str, BRINE_E_FORMAT, "categories_");
    LOAD_BAD(H_cats_2d, BRINE_E_FORMAT, "categories_[0]");
    LOAD_BAD(H_drop_range, BRINE_E_FORMAT, "drop_idx_");
    LOAD_BAD(H_infreq_map, BRINE_E_FORMAT, "_default_to_infrequent_mappings");
    LOAD_BAD(H_nfo, BRINE_E_FORMAT, "_n_features_outs");
    LOAD_BAD(H_missing_idx, BRINE_E_FORMAT, "_missing_indices");
    LOAD_BAD(H_ct_col, BRINE_E_FORMAT, "column");
    LOAD_BAD(H_ct_name, BRINE_E_FORMAT, "nope");
    LOAD_BAD(H_ct_width, BRINE_E_FORMAT, "transformer 'oh'");
    LOAD_BAD(H_ct_trans, BRINE_E_UNSUPPORTED, "transformer 'oh'");
    LOAD_BAD(H_imp_width, BRINE_E_FORMAT, "statistics_");
    LOAD_BAD(H_label_2d, BRINE_E_FORMAT, "classes_");
    LOAD_BAD(H_poly_huge, BRINE_E_LIMIT, "columns");
    LOAD_BAD(H_poly_nout, BRINE_E_FORMAT, "n_output_features_");
    LOAD_BAD(H_func, BRINE_E_UNSUPPORTED, "log");
}

int main(void) {
    RUN(onehot_cells);
    RUN(onehot_drop_error);
    RUN(label_encoder);
    RUN(column_transformer_names);
    RUN(numeric_cells);
    RUN(hostile);
    TEST_MAIN_END();
}
