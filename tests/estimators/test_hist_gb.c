/* test_hist_gb.c — HistGradientBoosting models built by hand as pickles of
 * allowed classes: correct ones predict as sklearn's _predictor.pyx walks
 * (numeric splits, NaN by missing_go_to_left, categorical bitsets with
 * unknown, negative and wrapped category codes, infinities), in both record
 * layouts (uint32 and intp feature_idx); hostile node arrays (children out of
 * range or looping back, feature_idx beyond the width, bitset_idx beyond the
 * bitsets) and other malformed fields fail with BRINE_E_FORMAT naming them;
 * loss objects and preprocessors brine does not handle with
 * BRINE_E_UNSUPPORTED (loss classes outside the allowlist: BRINE_E_GLOBAL). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "estimators/estimator.h"
#include "harness.h"
#include "tree_pickles.h"

typedef struct hnode {
    double value;
    int64_t feature;
    double threshold;
    int missing_left;
    int64_t left, right;
    int leaf, categorical;
    int64_t bitset;
} hnode;

/* Tree A: x1 <= 0.5 (NaN left) ? 2 : (x0 in {1, 3} ? 5 : -1), the
 * categorical split sending missing right.  Tree B: a single leaf. */
static const hnode tree_a[5] = {
    {0, 1, 0.5, 1, 1, 2, 0, 0, 0}, {2, 0, 0, 0, 0, 0, 1, 0, 0}, {0, 0, 0, 0, 3, 4, 0, 1, 0},
    {5, 0, 0, 0, 0, 0, 1, 0, 0},   {-1, 0, 0, 0, 0, 0, 1, 0, 0},
};
static const hnode tree_b[1] = {{0.25, 0, 0, 0, 0, 0, 1, 0, 0}};

typedef struct hspec {
    int classifier;
    int n_classes;          /* classifiers: 2 (default) or 3 */
    const hnode *nodes;     /* default tree_a (first predictor of each iteration) */
    int n_nodes;
    int feature_intp;       /* feature_idx of 8 bytes (sklearn >= 1.4 records) */
    int n_bitset_rows;      /* default 1 */
    int plain_nodes;        /* nodes as a plain float64 array */
    int baseline_len;       /* override */
    int trees_per_iter;     /* override of n_trees_per_iteration_ */
    const char *loss_module, *loss_cls; /* override */
    int preprocessor;       /* _preprocessor = a StandardScaler object */
    int not_categorical;    /* _bin_mapper says no feature is categorical */
    double bad_category;    /* a known category of feature 0 (0: none) */
    int short_iteration;    /* _predictors[1] holds one predictor too few */
    const char *version;
} hspec;

static void key_str(bi_buf *b, const char *k, const char *v) {
    a_str(b, k);
    a_str(b, v);
    a_op(b, 's');
}

static void a_newobj(bi_buf *b, const char *module, const char *cls) {
    a_global(b, module, cls);
    a_op(b, ')');
    a_op(b, 0x81);
    a_op(b, '}');
}

static void a_ndarray_begin(bi_buf *b, const int64_t *shape, int ndim) {
    a_global(b, "numpy.core.multiarray", "_reconstruct");
    a_global(b, "numpy", "ndarray");
    int64_t zero = 0;
    a_shape(b, &zero, 1);
    a_bytes(b, "b", 1);
    a_op(b, 0x87);
    a_op(b, 'R');
    a_op(b, '(');
    a_int(b, 1);
    a_shape(b, shape, ndim);
}

static const char *const rec_names[9] = {"value", "feature_idx", "num_threshold", "missing_go_to_left", "left",
                                         "right", "is_leaf", "is_categorical", "bitset_idx"};

/* Offsets of the packed records: value f8, feature_idx u4|i8, num_threshold
 * f8, missing_go_to_left u1, left u4, right u4, is_leaf u1, is_categorical
 * u1, bitset_idx u4. */
static void rec_offsets(int intp, size_t off[9], size_t *size) {
    size_t fi = intp ? 8 : 4, o = 0;
    const size_t sz[9] = {8, fi, 8, 1, 4, 4, 1, 1, 4};
    for (int k = 0; k < 9; k++) off[k] = o, o += sz[k];
    *size = o;
}

static void a_rec_dtype(bi_buf *b, int intp) {
    size_t off[9], size;
    rec_offsets(intp, off, &size);
    char vname[16];
    snprintf(vname, sizeof vname, "V%zu", size);
    a_global(b, "numpy", "dtype");
    a_str(b, vname);
    a_op(b, 0x89);
    a_op(b, 0x88);
    a_op(b, 0x87);
    a_op(b, 'R');
    a_op(b, '(');
    a_int(b, 3);
    a_str(b, "|");
    a_op(b, 'N');
    a_op(b, '(');
    for (int k = 0; k < 9; k++) a_str(b, rec_names[k]);
    a_op(b, 't');
    a_op(b, '}');
    for (int k = 0; k < 9; k++) {
        const char *t = k == 0 || k == 2 ? "f8" : k == 3 || k == 6 || k == 7 ? "u1" : k == 1 && intp ? "i8" : "u4";
        a_str(b, rec_names[k]);
        a_dtype(b, t, t[1] == '1' ? "|" : "<");
        a_int(b, (int64_t)off[k]);
        a_op(b, 0x86);
        a_op(b, 's');
    }
    a_int(b, (int64_t)size);
    a_int(b, 1);
    a_int(b, 16);
    a_op(b, 't');
    a_op(b, 'b');
}

static void a_records(bi_buf *b, const hnode *nodes, int n, const hspec *s) {
    int64_t shape[1] = {n};
    if (s->plain_nodes) {
        double v[8] = {0};
        a_array(b, shape, 1, "f8", "<", v, (size_t)n * 8);
        return;
    }
    size_t off[9], size;
    rec_offsets(s->feature_intp, off, &size);
    uint8_t *data = calloc((size_t)n, size);
    for (int i = 0; i < n; i++) {
        uint8_t *r = data + (size_t)i * size;
        const hnode *h = &nodes[i];
        put_f8(r + off[0], h->value, '<');
        put_int(r + off[1], h->feature, s->feature_intp ? 8 : 4, '<');
        put_f8(r + off[2], h->threshold, '<');
        r[off[3]] = (uint8_t)h->missing_left;
        put_int(r + off[4], h->left, 4, '<');
        put_int(r + off[5], h->right, 4, '<');
        r[off[6]] = (uint8_t)h->leaf;
        r[off[7]] = (uint8_t)h->categorical;
        put_int(r + off[8], h->bitset, 4, '<');
    }
    a_ndarray_begin(b, shape, 1);
    a_rec_dtype(b, s->feature_intp);
    a_op(b, 0x89);
    a_bytes(b, data, (size_t)n * size);
    a_op(b, 't');
    a_op(b, 'b');
    free(data);
}

static void a_predictor(bi_buf *b, const hnode *nodes, int n, const hspec *s) {
    a_newobj(b, "sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor");
    a_str(b, "nodes");
    a_records(b, nodes, n, s);
    a_op(b, 's');
    int64_t shape[2] = {s->n_bitset_rows ? s->n_bitset_rows : 1, 8};
    uint32_t bits[8 * 4] = {0};
    bits[0] = (1u << 1) | (1u << 3); /* categories 1 and 3 go left */
    uint8_t raw[sizeof bits];
    for (size_t i = 0; i < 8 * 4; i++) put_int(raw + 4 * i, bits[i], 4, '<');
    a_str(b, "raw_left_cat_bitsets");
    a_array(b, shape, 2, "u4", "<", raw, (size_t)shape[0] * 32);
    a_op(b, 's');
    a_op(b, 'b');
}

static void a_bin_mapper(bi_buf *b, const hspec *s) {
    a_newobj(b, "sklearn.ensemble._hist_gradient_boosting.binning", "_BinMapper");
    int64_t two = 2;
    uint8_t ic[2] = {s->not_categorical ? 0 : 1, 0};
    a_str(b, "is_categorical_");
    a_array(b, &two, 1, "u1", "|", ic, 2);
    a_op(b, 's');
    a_str(b, "bin_thresholds_");
    a_op(b, ']');
    a_op(b, '(');
    double cats[4] = {0, 1, 2, s->bad_category ? s->bad_category : 3}, thr[1] = {0.5};
    int64_t four = 4, one = 1;
    a_array(b, &four, 1, "f8", "<", cats, sizeof cats);
    a_array(b, &one, 1, "f8", "<", thr, sizeof thr);
    a_op(b, 'e');
    a_op(b, 's');
    a_op(b, 'b');
}

static brine_status load_hgb(hspec s, brine_model **m, brine_error *err) {
    int nc = s.classifier ? (s.n_classes ? s.n_classes : 2) : 0;
    int k = nc > 2 ? nc : 1;
    bi_buf b = BI_BUF_INIT;
    a_op(&b, 0x80);
    a_op(&b, 2);
    a_newobj(&b, "sklearn.ensemble._hist_gradient_boosting.gradient_boosting",
             s.classifier ? "HistGradientBoostingClassifier" : "HistGradientBoostingRegressor");
    key_str(&b, "loss", s.classifier ? "log_loss" : "squared_error");
    a_key_int(&b, "n_features_in_", 2);
    a_key_int(&b, "n_trees_per_iteration_", s.trees_per_iter ? s.trees_per_iter : k);
    if (s.classifier) {
        int64_t labels[3] = {10, 20, 30}, n = nc;
        a_str(&b, "classes_");
        a_array(&b, &n, 1, "i8", "<", labels, (size_t)n * 8);
        a_op(&b, 's');
    }
    a_str(&b, "_preprocessor");
    if (s.preprocessor) {
        a_newobj(&b, "sklearn.preprocessing._data", "StandardScaler");
        a_op(&b, 'b');
    } else {
        a_op(&b, 'N');
    }
    a_op(&b, 's');
    a_str(&b, "_loss");
    a_newobj(&b, s.loss_module ? s.loss_module : "sklearn._loss.loss",
             s.loss_cls ? s.loss_cls : !s.classifier ? "HalfSquaredError" : k == 1 ? "HalfBinomialLoss"
                                                                                 : "HalfMultinomialLoss");
    a_op(&b, 'b');
    a_op(&b, 's');
    double base[3] = {10, -1, 0.5};
    int64_t bshape[2] = {1, s.baseline_len ? s.baseline_len : k};
    a_str(&b, "_baseline_prediction");
    a_array(&b, bshape, 2, "f8", "<", base, (size_t)bshape[1] * 8);
    a_op(&b, 's');
    a_str(&b, "_bin_mapper");
    a_bin_mapper(&b, &s);
    a_op(&b, 's');
    a_str(&b, "_predictors");
    a_op(&b, ']');
    a_op(&b, '(');
    for (int it = 0; it < 2; it++) {
        a_op(&b, ']');
        a_op(&b, '(');
        int kk = it == 1 && s.short_iteration ? k - 1 : k;
        for (int j = 0; j < kk; j++) {
            if (it == 0 && j == 0) a_predictor(&b, s.nodes ? s.nodes : tree_a, s.nodes ? s.n_nodes : 5, &s);
            else a_predictor(&b, j % 2 ? tree_a : tree_b, j % 2 ? 5 : 1, &s);
        }
        a_op(&b, 'e');
    }
    a_op(&b, 'e');
    a_op(&b, 's');
    if (s.version) key_str(&b, "_sklearn_version", s.version);
    a_op(&b, 'b');
    return load_model(&b, m, err);
}

static brine_prediction *predict(const brine_model *m, brine_method method, const double *x, size_t rows) {
    brine_prediction *p = NULL;
    brine_error err;
    brine_error_clear(&err);
    if (brine_model_predict(&p, m, method, x, rows, 2, &err)) fprintf(stderr, "  predict failed: %s\n", err.message);
    return p;
}

static void expect(brine_status want, hspec s, const char *a) {
    brine_model *m = NULL;
    brine_error err;
    brine_status st = load_hgb(s, &m, &err);
    CHECK_EQ_INT(st, want);
    if (st != want || (st && !strstr(err.message, a))) {
        fprintf(stderr, "  message was: %s (wanted '%s')\n", err.message, a);
        CHECK(0);
    }
    brine_model_free(m);
}

/* ------------------------------------------------------------------ tests */

#define NROWS 11
/* Rows and the leaf of tree A each reaches. */
static const double rows[NROWS * 2] = {
    5, 0.0,       /* numeric left: 2 */
    1, 1.0,       /* category 1: left, 5 */
    2, 1.0,       /* known, not in the bitset: right, -1 */
    7, 1.0,       /* unknown: missing, right: -1 */
    -1, 1.0,      /* negative: missing: -1 */
    257, 1.0,     /* wraps to byte 1: 5 */
    NAN, 1.0,     /* missing: -1 */
    1, NAN,       /* NaN at the numeric split goes left: 2 */
    3.9, INFINITY, /* inf > 0.5; category 3: 5 */
    4294967297.0, 1.0, /* 2^32 + 1: beyond int32, byte 0: known, right: -1 */
    -INFINITY, 1.0, /* negative: -1 */
};
static const double leaf_a[NROWS] = {2, 5, -1, -1, -1, 5, -1, 2, 5, -1, -1};

static void regressor_walks_like_sklearn(void) {
    for (int intp = 0; intp < 2; intp++) {
        brine_model *m = NULL;
        brine_error err;
        CHECK_EQ_INT(load_hgb((hspec){.feature_intp = intp}, &m, &err), BRINE_OK);
        if (!m) {
            fprintf(stderr, "  %s\n", err.message);
            continue;
        }
        CHECK(brine_model_accepts_nan(m));
        brine_prediction *p = predict(m, BRINE_METHOD_PREDICT, rows, NROWS);
        CHECK(p && p->values);
        for (int i = 0; p && p->values && i < NROWS; i++) {
            double want = 0.0 + 10;
            want += leaf_a[i];
            want += 0.25;
            if (p->values[i] != want) fprintf(stderr, "  row %d: %.17g, want %.17g\n", i, p->values[i], want);
            CHECK(p->values[i] == want);
        }
        brine_prediction_free(p);
        CHECK(!brine_model_has_method(m, BRINE_METHOD_PREDICT_PROBA));
        CHECK(!brine_model_has_method(m, BRINE_METHOD_DECISION_FUNCTION));
        CHECK(!brine_model_has_method(m, BRINE_METHOD_APPLY));
        brine_model_free(m);
    }
    /* the log link: exp(raw) */
    brine_model *m = NULL;
    brine_error err;
    CHECK_EQ_INT(load_hgb((hspec){.loss_cls = "HalfPoissonLoss"}, &m, &err), BRINE_OK);
    brine_prediction *p = m ? predict(m, BRINE_METHOD_PREDICT, rows, 1) : NULL;
    CHECK(p && p->values && p->values[0] == exp(10.0 + 2 + 0.25));
    brine_prediction_free(p);
    brine_model_free(m);
}

static void binary_classifier(void) {
    const char *versions[2] = {"1.2.1", "1.6.1"};
    for (int v = 0; v < 2; v++) {
        brine_model *m = NULL;
        brine_error err;
        CHECK_EQ_INT(load_hgb((hspec){.classifier = 1, .version = versions[v]}, &m, &err), BRINE_OK);
        if (!m) continue;
        brine_prediction *d = predict(m, BRINE_METHOD_DECISION_FUNCTION, rows, NROWS);
        brine_prediction *p = predict(m, BRINE_METHOD_PREDICT_PROBA, rows, NROWS);
        brine_prediction *l = predict(m, BRINE_METHOD_PREDICT, rows, NROWS);
        CHECK(d && p && l && d->n_columns == 1 && p->n_columns == 2 && l->indices);
        for (int i = 0; d && p && l && i < NROWS; i++) {
            double raw = 0.0 + 10;
            raw += leaf_a[i];
            raw += 0.25;
            double p1 = 1 / (1 + exp(-raw));
            CHECK(d->values[i] == raw);
            CHECK(p->values[2 * i + 1] == p1 && p->values[2 * i] == 1 - p1);
            CHECK(l->indices[i] == 1);
        }
        brine_prediction_free(d);
        brine_prediction_free(p);
        brine_prediction_free(l);
        CHECK(!brine_model_has_method(m, BRINE_METHOD_PREDICT_LOG_PROBA));
        brine_model_free(m);
    }
}

static void multiclass_softmax(void) {
    brine_model *m = NULL;
    brine_error err;
    CHECK_EQ_INT(load_hgb((hspec){.classifier = 1, .n_classes = 3}, &m, &err), BRINE_OK);
    if (!m) return;
    brine_prediction *p = predict(m, BRINE_METHOD_PREDICT_PROBA, rows, NROWS);
    brine_prediction *d = predict(m, BRINE_METHOD_DECISION_FUNCTION, rows, NROWS);
    CHECK(p && d && p->n_columns == 3 && d->n_columns == 3);
    for (int i = 0; p && d && i < NROWS; i++) {
        /* iteration 0: trees A, A, B; iteration 1: B, A, B */
        double raw[3] = {0.0 + 10, 0.0 + -1, 0.0 + 0.5};
        raw[0] += leaf_a[i], raw[1] += leaf_a[i], raw[2] += 0.25;
        raw[0] += 0.25, raw[1] += leaf_a[i], raw[2] += 0.25;
        double mx = fmax(raw[0], fmax(raw[1], raw[2])), e[3], sum;
        for (int j = 0; j < 3; j++) e[j] = exp(raw[j] - mx);
        sum = e[0] + e[1];
        sum += e[2];
        for (int j = 0; j < 3; j++) {
            CHECK(d->values[3 * i + j] == raw[j]);
            CHECK(p->values[3 * i + j] == e[j] / sum);
        }
    }
    brine_prediction_free(p);
    brine_prediction_free(d);
    brine_model_free(m);
}

static void hostile_files_fail_cleanly(void) {
    hnode bad[5];
    memcpy(bad, tree_a, sizeof bad);
    bad[0].left = 9;
    expect(BRINE_E_FORMAT, (hspec){.nodes = bad, .n_nodes = 5}, "_predictors[0][0].nodes[0] has children 9");
    memcpy(bad, tree_a, sizeof bad);
    bad[2].left = 0; /* back to the root: a cycle */
    expect(BRINE_E_FORMAT, (hspec){.nodes = bad, .n_nodes = 5}, "a cycle");
    memcpy(bad, tree_a, sizeof bad);
    bad[2].right = 2; /* itself */
    expect(BRINE_E_FORMAT, (hspec){.nodes = bad, .n_nodes = 5}, "nodes[2] has children");
    memcpy(bad, tree_a, sizeof bad);
    bad[0].feature = 5;
    expect(BRINE_E_FORMAT, (hspec){.nodes = bad, .n_nodes = 5}, "feature_idx is 5");
    bad[0].feature = (int64_t)1 << 40;
    expect(BRINE_E_FORMAT, (hspec){.nodes = bad, .n_nodes = 5, .feature_intp = 1}, "feature_idx is 1099511627776");
    memcpy(bad, tree_a, sizeof bad);
    bad[2].bitset = 3;
    expect(BRINE_E_FORMAT, (hspec){.nodes = bad, .n_nodes = 5}, "bitset_idx is 3");
    expect(BRINE_E_FORMAT, (hspec){.n_bitset_rows = 0, .not_categorical = 1}, "does not list as categorical");
    expect(BRINE_E_FORMAT, (hspec){.plain_nodes = 1}, "plain dtype");
    expect(BRINE_E_FORMAT, (hspec){.baseline_len = 2}, "_baseline_prediction");
    expect(BRINE_E_FORMAT, (hspec){.trees_per_iter = 3}, "n_trees_per_iteration_");
    expect(BRINE_E_FORMAT, (hspec){.classifier = 1, .n_classes = 3, .trees_per_iter = 1}, "n_trees_per_iteration_");
    expect(BRINE_E_FORMAT, (hspec){.classifier = 1, .n_classes = 3, .short_iteration = 1}, "_predictors[1]");
    expect(BRINE_E_FORMAT, (hspec){.bad_category = 300}, "bin_thresholds_[0][3]");
    expect(BRINE_E_FORMAT, (hspec){.bad_category = 2.5}, "bin_thresholds_[0][3]");
    expect(BRINE_E_FORMAT, (hspec){.loss_cls = "HalfBinomialLoss"}, "classification loss");
    /* sklearn < 1.1's own loss classes are not even allowed globals */
    expect(BRINE_E_GLOBAL, (hspec){.loss_module = "sklearn.ensemble._hist_gradient_boosting.loss",
                                   .loss_cls = "LeastSquares"},
           "sklearn.ensemble._hist_gradient_boosting.loss.LeastSquares");
    expect(BRINE_E_UNSUPPORTED, (hspec){.loss_cls = "ExponentialLoss"}, "ExponentialLoss is not supported");
    expect(BRINE_E_UNSUPPORTED, (hspec){.preprocessor = 1}, "_preprocessor");
    expect(BRINE_OK, (hspec){.version = "1.8.0"}, "");
}

int main(void) {
    RUN(regressor_walks_like_sklearn);
    RUN(binary_classifier);
    RUN(multiclass_softmax);
    RUN(hostile_files_fail_cleanly);
    TEST_MAIN_END();
}
