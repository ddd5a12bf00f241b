/* preprocess.c — scalers of sklearn.preprocessing: StandardScaler,
 * MinMaxScaler, MaxAbsScaler, RobustScaler, Normalizer, Binarizer.  Their
 * only method is transform, computed in float64 in sklearn 1.2's order of
 * operations, so results are bit-identical (the scalers): StandardScaler
 * `(x - mean_) / scale_`, MinMaxScaler `x * scale_ + min_` then clipped to
 * feature_range when `clip`, MaxAbsScaler `x / scale_`, RobustScaler
 * `(x - center_) / scale_`, Binarizer `x > threshold`.  Normalizer divides
 * each row by its l1 (pairwise sum of |x|, as numpy), max (|x|) or l2 norm;
 * l2 is sqrt(sum of squares) where numpy's einsum may add in another order,
 * so l2 agrees within 1e-12 relative rather than bit for bit.  As sklearn
 * does, the scalers let NaN through and refuse infinity; Normalizer and
 * Binarizer refuse both. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

enum { PRE_STANDARD, PRE_MINMAX, PRE_MAXABS, PRE_ROBUST, PRE_NORMALIZER, PRE_BINARIZER };
enum { NORM_L1, NORM_L2, NORM_MAX };

typedef struct pre_model {
    int kind;       /* PRE_* */
    size_t n;       /* features */
    double *shift;  /* subtracted first (StandardScaler, RobustScaler); NULL: none */
    double *div;    /* divided by next; NULL: none */
    double *mul;    /* MinMaxScaler: x * mul + add */
    double *add;
    int clip;       /* MinMaxScaler: clip to [lo, hi] */
    double lo, hi;
    int norm;       /* Normalizer: NORM_* */
    double threshold; /* Binarizer */
} pre_model;

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

/* A bool parameter; absent means dflt (files older than the parameter). */
static brine_status read_flag(brine_model *m, const bv *state, const char *key, int dflt, int *out,
                              brine_error *err) {
    const bv *v = bv_dict_get(state, key);
    int64_t i = dflt;
    if (v && !be_get_int(v, &i)) return be_fail(err, m, "%s is a %s, not a bool", key, brine_kind_name((brine_kind)v->kind));
    *out = i != 0;
    return BRINE_OK;
}

/* A fitted 1-D attribute of n_features_in_ values (fixing the width when it
 * is not known yet). */
static brine_status read_vector(brine_model *m, const bv *state, const char *key, double **out, brine_error *err) {
    const bv *v = bv_dict_get(state, key);
    if (is_none(v)) return be_fail(err, m, "%s is %s", key, v ? "None" : "missing");
    be_matrix a;
    brine_status st = be_read_matrix(m, v, key, 1, &a, err);
    if (st) return st;
    if (a.ndim != 1 || a.cols == 0) return be_fail(err, m, "%s is not a non-empty 1-D array", key);
    if ((st = be_check_width(m, (int64_t)a.cols, key, err))) return st;
    *out = a.v;
    return BRINE_OK;
}

static brine_status load_standard(brine_model *m, const bv *state, pre_model *p, brine_error *err,
                                  const char *center_flag, const char *center, const char *scale_flag) {
    int with_center, with_scale;
    brine_status st = read_flag(m, state, center_flag, 1, &with_center, err);
    if (!st) st = read_flag(m, state, scale_flag, 1, &with_scale, err);
    if (!st && with_center) st = read_vector(m, state, center, &p->shift, err);
    if (!st && with_scale) st = read_vector(m, state, "scale_", &p->div, err);
    return st;
}

static brine_status load_minmax(brine_model *m, const bv *state, pre_model *p, brine_error *err) {
    brine_status st = read_vector(m, state, "scale_", &p->mul, err);
    if (!st) st = read_vector(m, state, "min_", &p->add, err);
    if (!st) st = read_flag(m, state, "clip", 0, &p->clip, err);
    if (st || !p->clip) return st;
    const bv *r = bv_dict_get(state, "feature_range");
    if (!r || (r->kind != BRINE_TUPLE && r->kind != BRINE_LIST) || r->u.seq.n != 2 ||
        !be_get_double(r->u.seq.items[0], &p->lo) || !be_get_double(r->u.seq.items[1], &p->hi))
        return be_fail(err, m, "feature_range is not a pair of numbers");
    return BRINE_OK;
}

static brine_status load_normalizer(brine_model *m, const bv *state, pre_model *p, brine_error *err) {
    const bv *v = bv_dict_get(state, "norm");
    if (!v) p->norm = NORM_L2;
    else if (bv_is_str(v, "l1")) p->norm = NORM_L1;
    else if (bv_is_str(v, "l2")) p->norm = NORM_L2;
    else if (bv_is_str(v, "max")) p->norm = NORM_MAX;
    else return be_fail(err, m, "norm is not 'l1', 'l2' or 'max'");
    return BRINE_OK;
}

static brine_status load_binarizer(brine_model *m, const bv *state, pre_model *p, brine_error *err) {
    const bv *v = bv_dict_get(state, "threshold");
    p->threshold = 0.0;
    if (v && !be_get_double(v, &p->threshold)) return be_fail(err, m, "threshold is not a number");
    return BRINE_OK;
}

static int kind_of(const char *name) {
    static const char *const names[] = {"StandardScaler", "MinMaxScaler", "MaxAbsScaler",
                                        "RobustScaler",   "Normalizer",   "Binarizer"};
    for (int k = 0; k < (int)(sizeof names / sizeof *names); k++)
        if (!strcmp(name, names[k])) return k;
    return -1;
}

static brine_status pre_load(brine_model *m, const bv *state, brine_error *err) {
    pre_model *p = be_alloc(m, 1, sizeof *p);
    if (!p) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    p->kind = kind_of(m->short_name);
    brine_status st = be_read_n_features(m, state, &m->n_features_in, err);
    if (st) return st;
    switch (p->kind) {
    case PRE_STANDARD: st = load_standard(m, state, p, err, "with_mean", "mean_", "with_std"); break;
    case PRE_ROBUST: st = load_standard(m, state, p, err, "with_centering", "center_", "with_scaling"); break;
    case PRE_MINMAX: st = load_minmax(m, state, p, err); break;
    case PRE_MAXABS: st = read_vector(m, state, "scale_", &p->div, err); break;
    case PRE_NORMALIZER: st = load_normalizer(m, state, p, err); break;
    case PRE_BINARIZER: st = load_binarizer(m, state, p, err); break;
    default: return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "is not a scaler brine knows");
    }
    if (st) return st;
    if (m->n_features_in < 1)
        return be_fail(err, m, "n_features_in_ is missing; brine needs the input width (sklearn >= 1.0 stores it)");
    p->n = (size_t)m->n_features_in;
    m->n_outputs = 1;
    m->n_estimators = 1;
    m->impl = p;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t pre_columns(const brine_model *m, brine_method method) {
    return method == BRINE_METHOD_TRANSFORM ? (size_t)m->n_features_in : BE_NO_METHOD;
}

/* _handle_zeros_in_scale of a norm: near-zero norms divide by 1. */
static double row_norm(const pre_model *p, const double *x, double *tmp) {
    double norm = 0.0;
    if (p->norm == NORM_L1) {
        for (size_t c = 0; c < p->n; c++) tmp[c] = fabs(x[c]);
        norm = be_pairwise_sum(tmp, p->n);
    } else if (p->norm == NORM_MAX) {
        norm = fabs(x[0]);
        for (size_t c = 1; c < p->n; c++) norm = fabs(x[c]) > norm ? fabs(x[c]) : norm;
    } else {
        for (size_t c = 0; c < p->n; c++) norm += x[c] * x[c];
        norm = sqrt(norm);
    }
    return norm < 10 * 2.220446049250313e-16 ? 1.0 : norm;
}

static void transform_row(const pre_model *p, const double *x, double *y, double *tmp) {
    double norm = p->kind == PRE_NORMALIZER ? row_norm(p, x, tmp) : 1.0;
    for (size_t c = 0; c < p->n; c++) {
        double v = x[c];
        switch (p->kind) {
        case PRE_MINMAX:
            v = v * p->mul[c] + p->add[c];
            if (p->clip && !isnan(v)) v = v < p->lo ? p->lo : v > p->hi ? p->hi : v;
            break;
        case PRE_NORMALIZER: v = v / norm; break;
        case PRE_BINARIZER: v = v > p->threshold ? 1.0 : 0.0; break;
        default:
            if (p->shift) v = v - p->shift[c];
            if (p->div) v = v / p->div[c];
            break;
        }
        y[c] = v;
    }
}

static brine_status pre_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                brine_error *err) {
    (void)method;
    const pre_model *p = m->impl;
    int allow_nan = p->kind != PRE_NORMALIZER && p->kind != PRE_BINARIZER;
    brine_status st = be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, allow_nan, err);
    if (st) return st;
    double *tmp = NULL;
    if (p->kind == PRE_NORMALIZER && !(tmp = malloc(p->n * sizeof *tmp)))
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t r = 0; r < in->n_rows; r++) transform_row(p, in->xd + r * p->n, out->values + r * p->n, tmp);
    free(tmp);
    return BRINE_OK;
}

const be_family be_preprocess_family = {"preprocess", pre_load, pre_predict, NULL, pre_columns, BE_FAM_FLOAT64};
