/* linear.c — linear models: LinearRegression, Ridge, Lasso, ElasticNet,
 * SGDRegressor, LinearSVR (regressors) and LogisticRegression,
 * RidgeClassifier, SGDClassifier, Perceptron, LinearSVC (classifiers).
 *
 * They share sklearn's decision function `X @ coef_.T + intercept_` in
 * float64 (sklearn calls BLAS; brine sums each dot product left to right,
 * which agrees within 1e-9 relative).  A classifier with two classes has one
 * coef_ row and ravels its scores to one column; predict is classes_[score
 * > 0] then, classes_[argmax] otherwise.  Probabilities follow sklearn 1.2:
 * LogisticRegression one-vs-rest and SGD's log loss use _predict_proba_lr
 * (expit, then rows normalised; binary [1 - p, p]), multinomial
 * LogisticRegression softmax, SGD's modified_huber its clipped scores.
 * predict_log_proba is log(predict_proba). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

enum { PROBA_NONE, PROBA_OVR, PROBA_SOFTMAX, PROBA_HUBER };

typedef struct lin_model {
    size_t k;          /* coef_ rows: decision columns */
    size_t n;          /* features */
    double *coef;      /* k * n, row-major */
    double *intercept; /* k */
    int proba;         /* PROBA_* */
} lin_model;

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

/* ------------------------------------------------------- shared helpers */

int be_get_double(const bv *v, double *out) {
    if (!v) return 0;
    if (v->kind == BRINE_FLOAT) {
        *out = v->u.f;
        return 1;
    }
    int64_t i;
    if (v->kind == BRINE_INT || v->kind == BRINE_BOOL) {
        if (!bv_get_i64(v, &i)) return 0;
        *out = (double)i;
        return 1;
    }
    if (v->kind != BRINE_SCALAR || !v->u.arr || !v->u.arr->data || !v->u.arr->dtype) return 0;
    const bv_dtype *dt = v->u.arr->dtype->u.dt;
    if (dt->nfields || v->u.arr->nbytes < dt->itemsize) return 0;
    return be_item_double(dt, v->u.arr->data, out);
}

brine_status be_read_matrix(brine_model *m, const bv *v, const char *field, int max_ndim, be_matrix *out,
                            brine_error *err) {
    const bv_array *a = be_array(v);
    if (!a) return be_fail(err, m, "%s is %s, not an array", field, v ? brine_kind_name((brine_kind)v->kind) : "missing");
    const bv_dtype *dt = a->dtype->u.dt;
    if (dt->nfields || dt->subarray_base || (dt->kind != 'f' && dt->kind != 'i' && dt->kind != 'u'))
        return be_fail(err, m, "%s has dtype kind '%c', not a number", field, dt->kind);
    if (a->ndim < 0 || a->ndim > max_ndim) return be_fail(err, m, "%s has %d dimensions", field, a->ndim);
    size_t rows = a->ndim == 2 ? (size_t)a->shape[0] : 1;
    size_t cols = a->ndim == 0 ? 1 : (size_t)a->shape[a->ndim - 1];
    if (a->ndim >= 1 && (a->shape[0] < 0 || a->shape[a->ndim - 1] < 0))
        return be_fail(err, m, "%s has a negative shape", field);
    if ((uint64_t)rows * cols != (uint64_t)a->count || rows > INT32_MAX || cols > INT32_MAX)
        return be_fail(err, m, "%s has %lld elements for its shape", field, (long long)a->count);
    out->rows = rows;
    out->cols = cols;
    out->ndim = a->ndim;
    out->v = be_alloc(m, rows * cols + 1, sizeof *out->v);
    if (!out->v) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) {
            size_t src = a->fortran && a->ndim == 2 ? c * rows + r : r * cols + c;
            if (!be_array_double(a, src, &out->v[r * cols + c]))
                return be_fail(err, m, "%s has no data for element %zu", field, r * cols + c);
        }
    }
    return BRINE_OK;
}

brine_status be_check_rows(const brine_model *m, const double *x, size_t cells, size_t n_cols, int allow_nan,
                           brine_error *err) {
    for (size_t i = 0; i < cells; i++) {
        if (isfinite(x[i]) || (allow_nan && isnan(x[i]))) continue;
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "X[%zu, %zu] is %s; sklearn refuses %s", i / n_cols,
                              i % n_cols, isnan(x[i]) ? "NaN" : "infinite",
                              allow_nan ? "infinity" : "NaN and infinity");
    }
    return BRINE_OK;
}

brine_status be_check_width(brine_model *m, int64_t width, const char *field, brine_error *err) {
    if (m->n_features_in >= 0 && m->n_features_in != width)
        return be_fail(err, m, "%s has %lld features but n_features_in_ is %lld", field, (long long)width,
                       (long long)m->n_features_in);
    m->n_features_in = width;
    return BRINE_OK;
}

brine_status be_keep_params(brine_model *m, const bv *state, brine_error *err) {
    be_copier cp;
    be_copier_init(&cp, &m->arena);
    brine_status st = be_read_params(m, &cp, state, &m->params, err);
    be_copier_free(&cp);
    return st;
}

/* ------------------------------------------------------------- loading */

static brine_status read_intercept(brine_model *m, const bv *state, lin_model *lm, brine_error *err) {
    const bv *v = bv_dict_get(state, "intercept_");
    lm->intercept = be_alloc(m, lm->k, sizeof *lm->intercept);
    if (!lm->intercept) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    if (!v) return be_fail(err, m, "intercept_ is missing");
    double d;
    if (v->kind != BRINE_NDARRAY) {
        if (!be_get_double(v, &d)) return be_fail(err, m, "intercept_ is a %s, not a number or array",
                                                  brine_kind_name((brine_kind)v->kind));
        for (size_t j = 0; j < lm->k; j++) lm->intercept[j] = d;
        return BRINE_OK;
    }
    be_matrix b;
    brine_status st = be_read_matrix(m, v, "intercept_", 1, &b, err);
    if (st) return st;
    size_t len = b.rows * b.cols;
    if (len != 1 && len != lm->k)
        return be_fail(err, m, "intercept_ has %zu values but coef_ has %zu rows", len, lm->k);
    for (size_t j = 0; j < lm->k; j++) lm->intercept[j] = b.v[len == 1 ? 0 : j];
    return BRINE_OK;
}

/* RidgeClassifier keeps its labels in _label_binarizer (classes_ is a
 * property); the others store classes_. */
static brine_status read_labels(brine_model *m, const bv *state, brine_error *err) {
    const bv *v = bv_dict_get(state, "classes_");
    const bv *lb = bv_dict_get(state, "_label_binarizer");
    const char *field = "classes_";
    if (is_none(v) && lb) {
        const bv *ls = lb->kind == BRINE_OBJECT ? lb->u.obj.state : NULL;
        if (!ls || ls->kind != BRINE_DICT) return be_fail(err, m, "_label_binarizer is not a fitted LabelBinarizer");
        const bv *yt = bv_dict_get(ls, "y_type_");
        if (yt && yt->kind == BRINE_STR && yt->u.s.n >= 10 && !memcmp(yt->u.s.p, "multilabel", 10))
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "brine cannot predict multilabel targets yet");
        v = bv_dict_get(ls, "classes_");
        field = "_label_binarizer.classes_";
    }
    if (is_none(v)) return be_fail(err, m, "classes_ is missing");
    m->classes = be_alloc(m, 1, sizeof *m->classes);
    if (!m->classes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    brine_status st = be_read_labels(m, v, field, m->classes, err);
    if (st) return st;
    if (m->classes->n < 2) return be_fail(err, m, "%s has %zu labels; a classifier has at least 2", field, m->classes->n);
    return BRINE_OK;
}

static int str_is(const bv *v, const char *s) { return v && bv_is_str(v, s); }

/* How the classifier turns scores into probabilities, as sklearn 1.2 does. */
static int proba_kind(const brine_model *m, const bv *state) {
    const char *name = m->short_name;
    if (!strcmp(name, "LogisticRegression") || !strcmp(name, "LogisticRegressionCV")) {
        const bv *mc = bv_dict_get(state, "multi_class");
        const bv *solver = bv_dict_get(state, "solver");
        int ovr = !mc || str_is(mc, "ovr") || str_is(mc, "warn") ||
                  ((str_is(mc, "auto") || str_is(mc, "deprecated")) &&
                   (m->classes->n <= 2 || str_is(solver, "liblinear") || str_is(solver, "newton-cholesky")));
        return ovr ? PROBA_OVR : PROBA_SOFTMAX;
    }
    if (!strcmp(name, "SGDClassifier")) {
        const bv *loss = bv_dict_get(state, "loss");
        if (str_is(loss, "log_loss") || str_is(loss, "log")) return PROBA_OVR;
        if (str_is(loss, "modified_huber")) return PROBA_HUBER;
    }
    return PROBA_NONE;
}

static brine_status linear_load(brine_model *m, const bv *state, brine_error *err) {
    const bv *cv = bv_dict_get(state, "coef_");
    if (is_none(cv)) return be_fail(err, m, "is not fitted (coef_ is %s)", cv ? "None" : "missing");
    lin_model *lm = be_alloc(m, 1, sizeof *lm);
    if (!lm) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    be_matrix c;
    brine_status st = be_read_n_features(m, state, &m->n_features_in, err);
    if (!st) st = be_read_matrix(m, cv, "coef_", 2, &c, err);
    if (st) return st;
    if (c.ndim == 0) return be_fail(err, m, "coef_ is 0-dimensional");
    if (c.cols == 0 || c.rows == 0) return be_fail(err, m, "coef_ is empty");
    lm->k = c.rows;
    lm->n = c.cols;
    lm->coef = c.v;
    if ((st = be_check_width(m, (int64_t)c.cols, "coef_", err))) return st;
    if ((st = read_intercept(m, state, lm, err))) return st;
    m->n_outputs = m->cls->classifier ? 1 : lm->k;
    if (m->cls->classifier) {
        if ((st = read_labels(m, state, err))) return st;
        size_t nc = m->classes->n, want = nc == 2 ? 1 : nc;
        if (lm->k != want)
            return be_fail(err, m, "coef_ has %zu rows but %zu classes need %zu", lm->k, nc, want);
        if (c.ndim != 2) return be_fail(err, m, "coef_ of a classifier is not 2-D");
        lm->proba = proba_kind(m, state);
    }
    m->n_estimators = 1;
    m->impl = lm;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

/* ---------------------------------------------------------- predicting */

static size_t linear_columns(const brine_model *m, brine_method method) {
    const lin_model *lm = m->impl;
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return m->cls->classifier ? 1 : lm->k;
    case BRINE_METHOD_DECISION_FUNCTION:
        return m->cls->classifier ? lm->k : BE_NO_METHOD;
    case BRINE_METHOD_PREDICT_PROBA:
    case BRINE_METHOD_PREDICT_LOG_PROBA:
        return m->cls->classifier && lm->proba != PROBA_NONE ? m->classes->n : BE_NO_METHOD;
    default:
        return BE_NO_METHOD;
    }
}

/* scores[r * k + j] = x_r . coef_j + intercept_j */
static void decision(const lin_model *lm, const double *x, size_t n_rows, double *scores) {
    for (size_t r = 0; r < n_rows; r++) {
        const double *row = x + r * lm->n;
        for (size_t j = 0; j < lm->k; j++) {
            const double *w = lm->coef + j * lm->n;
            double s = 0.0;
            for (size_t f = 0; f < lm->n; f++) s += row[f] * w[f];
            scores[r * lm->k + j] = s + lm->intercept[j];
        }
    }
}

static double expit(double v) { return 1.0 / (1.0 + exp(-v)); }

static double row_sum(const double *p, size_t n) { return be_pairwise_sum(p, n); }

/* One row of probabilities from its k scores into p[nc]. */
static void proba_row(const lin_model *lm, const double *s, size_t nc, double *p) {
    if (lm->proba == PROBA_SOFTMAX) {
        double d[2];
        if (lm->k == 1) {
            d[0] = -s[0];
            d[1] = s[0];
            s = d;
        }
        double mx = s[0];
        for (size_t j = 1; j < nc; j++) mx = s[j] > mx ? s[j] : mx;
        for (size_t j = 0; j < nc; j++) p[j] = exp(s[j] - mx);
        double sum = row_sum(p, nc);
        for (size_t j = 0; j < nc; j++) p[j] /= sum;
        return;
    }
    if (lm->proba == PROBA_OVR) {
        if (lm->k == 1) {
            p[1] = expit(s[0]);
            p[0] = 1.0 - p[1];
            return;
        }
        for (size_t j = 0; j < nc; j++) p[j] = expit(s[j]);
        double sum = row_sum(p, nc);
        for (size_t j = 0; j < nc; j++) p[j] /= sum;
        return;
    }
    /* modified_huber: (clip(scores, -1, 1) + 1) / 2; rows normalised, a
     * row of zeros uniform. */
    for (size_t j = 0; j < lm->k; j++) {
        double v = s[j] < -1.0 ? -1.0 : s[j] > 1.0 ? 1.0 : s[j];
        p[lm->k == 1 ? 1 : j] = (v + 1.0) / 2.0;
    }
    if (lm->k == 1) {
        p[0] = 1.0 - p[1];
        return;
    }
    double sum = row_sum(p, nc);
    if (sum == 0.0) {
        for (size_t j = 0; j < nc; j++) p[j] = 1.0;
        sum = (double)nc;
    }
    for (size_t j = 0; j < nc; j++) p[j] /= sum;
}

/* Turns scores (n_rows * k, from decision or its sparse twin) into the
 * method's output; frees scores unless they are out->values. */
static void linear_finish(const brine_model *m, brine_method method, size_t n_rows, double *scores,
                          brine_prediction *out) {
    const lin_model *lm = m->impl;
    int into_values = scores == out->values;
    size_t nc = m->classes ? m->classes->n : 0;
    for (size_t r = 0; r < n_rows && !into_values; r++) {
        const double *s = scores + r * lm->k;
        if (method == BRINE_METHOD_PREDICT) {
            out->indices[r] = lm->k == 1 ? (s[0] > 0.0) : (int64_t)be_argmax(s, lm->k);
            continue;
        }
        double *p = out->values + r * nc;
        proba_row(lm, s, nc, p);
        if (method == BRINE_METHOD_PREDICT_LOG_PROBA)
            for (size_t j = 0; j < nc; j++) p[j] = log(p[j]);
    }
    if (!into_values) free(scores);
}

static double *score_buffer(const brine_model *m, brine_method method, size_t n_rows, brine_prediction *out) {
    const lin_model *lm = m->impl;
    int into_values = method == BRINE_METHOD_DECISION_FUNCTION || (method == BRINE_METHOD_PREDICT && !m->cls->classifier);
    return into_values ? out->values : malloc((n_rows * lm->k + 1) * sizeof(double));
}

static brine_status linear_predict(const brine_model *m, brine_method method, const be_input *in,
                                   brine_prediction *out, brine_error *err) {
    const lin_model *lm = m->impl;
    brine_status st = be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, 0, err);
    if (st) return st;
    double *scores = score_buffer(m, method, in->n_rows, out);
    if (!scores) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", in->n_rows);
    decision(lm, in->xd, in->n_rows, scores);
    linear_finish(m, method, in->n_rows, scores, out);
    return BRINE_OK;
}

/* CSR rows: safe_sparse_dot(X, coef_.T) is scipy's csr_matvecs, each score
 * summed over the row's stored values in storage order from 0.0, then
 * intercept_ added (bit for bit what sklearn computes for sparse X). */
brine_status be_linear_predict_csr(const brine_model *m, brine_method method, const be_csr *x, brine_prediction *out,
                                   brine_error *err) {
    const lin_model *lm = m->impl;
    if (x->cols != lm->n)
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "X has %zu features, but the model expects %zu", x->cols, lm->n);
    for (size_t j = 0; j < x->nnz; j++)
        if (!isfinite(x->data[j]))
            return be_fail_status(err, BRINE_E_ARGUMENT, m, "X holds %s; sklearn refuses NaN and infinity",
                                  isnan(x->data[j]) ? "NaN" : "infinity");
    double *scores = score_buffer(m, method, x->rows, out);
    if (!scores) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", x->rows);
    for (size_t r = 0; r < x->rows; r++) {
        double *o = scores + r * lm->k;
        for (size_t c = 0; c < lm->k; c++) o[c] = 0.0;
        for (size_t j = x->indptr[r]; j < x->indptr[r + 1]; j++) {
            const double a = x->data[j];
            const size_t col = x->indices[j];
            for (size_t c = 0; c < lm->k; c++) o[c] += a * lm->coef[c * lm->n + col];
        }
        for (size_t c = 0; c < lm->k; c++) o[c] += lm->intercept[c];
    }
    linear_finish(m, method, x->rows, scores, out);
    return BRINE_OK;
}

const be_family be_linear_family = {"linear", linear_load, linear_predict, NULL, linear_columns,
                                    BE_FAM_FLOAT64};
