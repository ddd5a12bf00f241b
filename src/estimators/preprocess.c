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

/* ------------------------------ PolynomialFeatures, FunctionTransformer
 *
 * PolynomialFeatures.transform of dense X as sklearn 1.2.1 computes it:
 * the bias column, X, then each degree's terms as the previous degree's
 * block times one feature (np.multiply column by column), so every product
 * is formed in sklearn's order and is bit-identical; min_degree > 1 cuts
 * the leading columns afterwards.  The multiplications are planned once at
 * load.  FunctionTransformer with func=None is the identity (a function is
 * refused: brine runs no code from a file). */

enum { SHAPE_POLY, SHAPE_IDENTITY };
enum { POLY_MAX_OUT = 1 << 24 }; /* output columns */

typedef struct poly_step {
    size_t dst, src, len, feature; /* XP[dst + k] = XP[src + k] * x[feature] */
} poly_step;

typedef struct shape_model {
    int kind;
    size_t n;       /* input features */
    int bias;       /* XP[0] = 1 */
    size_t full;    /* columns computed */
    size_t first;   /* first computed column kept after the bias (min_degree cut) */
    size_t width;   /* output columns */
    poly_step *steps;
    size_t n_steps;
} shape_model;

/* sklearn's degree loop, run once on column positions.  Returns 0 when the
 * plan would exceed POLY_MAX_OUT columns or steps. */
static int poly_plan(brine_model *m, shape_model *s, int64_t max_degree, int interaction_only) {
    size_t n = s->n, col = s->bias ? 1 : 0;
    if (max_degree == 0) {
        s->full = col;
        return 1;
    }
    size_t *index = be_alloc(m, n + 2, sizeof *index), *next = be_alloc(m, n + 2, sizeof *next);
    size_t cap = 64, len = n + 1;
    s->steps = be_alloc(m, cap, sizeof *s->steps);
    if (!index || !next || !s->steps) return 0;
    for (size_t f = 0; f < n; f++) index[f] = col + f;
    col += n;
    index[n] = col;
    for (int64_t d = 2; d <= max_degree; d++) {
        size_t end = index[len - 1], nl = 0;
        for (size_t f = 0; f < n; f++) {
            if (f >= len || (interaction_only && f + 1 >= len)) return 0; /* Python would fail: IndexError */
            size_t start = index[f];
            next[nl++] = col;
            if (interaction_only) start += index[f + 1] - index[f];
            if (start >= end) break; /* next_col <= current_col */
            size_t take = end - start;
            if (take > POLY_MAX_OUT || col + take > POLY_MAX_OUT) return 0;
            if (s->n_steps == cap) {
                poly_step *grown = be_alloc(m, cap * 2, sizeof *grown);
                if (!grown) return 0;
                memcpy(grown, s->steps, cap * sizeof *grown);
                s->steps = grown, cap *= 2;
            }
            s->steps[s->n_steps++] = (poly_step){col, start, take, f};
            col += take;
        }
        next[nl++] = col;
        memcpy(index, next, nl * sizeof *index);
        len = nl;
    }
    s->full = col;
    return 1;
}

static brine_status load_poly(brine_model *m, const bv *state, shape_model *s, brine_error *err) {
    int64_t lo = 0, hi = -1, nout = -1;
    const bv *dmin = bv_dict_get(state, "_min_degree"), *dmax = bv_dict_get(state, "_max_degree");
    const bv *deg = bv_dict_get(state, "degree");
    if (dmax) {
        if (!be_get_int(dmax, &hi) || (dmin && !be_get_int(dmin, &lo)))
            return be_fail(err, m, "_min_degree/_max_degree are not ints");
    } else if (deg && deg->kind == BRINE_TUPLE && deg->u.seq.n == 2) {
        if (!be_get_int(deg->u.seq.items[0], &lo) || !be_get_int(deg->u.seq.items[1], &hi))
            return be_fail(err, m, "degree is not a pair of ints");
    } else if (!be_get_int(deg, &hi)) {
        return be_fail(err, m, "degree is not an int");
    }
    if (lo < 0 || hi < lo || hi > 64) return be_fail(err, m, "the degrees (%lld, %lld) are not 0 <= min <= max <= 64", (long long)lo, (long long)hi);
    int inter = 0, bias = 1;
    brine_status st = read_flag(m, state, "interaction_only", 0, &inter, err);
    if (!st) st = read_flag(m, state, "include_bias", 1, &bias, err);
    if (st) return st;
    if (m->n_features_in < 1) return be_fail(err, m, "n_features_in_ is missing");
    s->n = (size_t)m->n_features_in;
    s->bias = bias;
    if (s->n > POLY_MAX_OUT || !poly_plan(m, s, hi, inter))
        return be_fail_status(err, BRINE_E_LIMIT, m, "degree %lld over %zu features gives more than %d columns",
                              (long long)hi, s->n, POLY_MAX_OUT);
    /* min_degree > 1: the bias, then the last n_output_features_ - bias columns */
    const bv *no = bv_dict_get(state, "n_output_features_");
    if (no && (!be_get_int(no, &nout) || nout < 0)) return be_fail(err, m, "n_output_features_ is not an int");
    s->first = s->bias ? 1 : 0;
    s->width = s->full;
    if (lo > 1) {
        if (nout < 0 || (size_t)nout > s->full || (size_t)nout < (size_t)s->bias)
            return be_fail(err, m, "n_output_features_ does not fit degrees (%lld, %lld)", (long long)lo, (long long)hi);
        s->width = (size_t)nout;
        s->first = s->full - ((size_t)nout - (size_t)s->bias);
    } else if (nout >= 0 && (size_t)nout != s->full) {
        return be_fail(err, m, "n_output_features_ is %lld but the degrees give %zu", (long long)nout, s->full);
    }
    return BRINE_OK;
}

static brine_status load_function(brine_model *m, const bv *state, shape_model *s, brine_error *err) {
    const bv *f = bv_dict_get(state, "func");
    if (!is_none(f)) {
        const char *name = NULL, *mod = f->kind == BRINE_GLOBAL || f->kind == BRINE_OBJECT ? brine_value_global(f, &name) : NULL;
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "func is %s%s%s; brine runs no functions (only func=None, the identity)",
                              mod ? mod : "a ", mod ? "." : brine_kind_name((brine_kind)f->kind), mod && name ? name : "");
    }
    if (m->n_features_in < 1) return be_fail(err, m, "n_features_in_ is missing; brine needs the input width");
    s->n = s->width = (size_t)m->n_features_in;
    return BRINE_OK;
}

static brine_status shape_load(brine_model *m, const bv *state, brine_error *err) {
    shape_model *s = be_alloc(m, 1, sizeof *s);
    if (!s) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    m->impl = s;
    m->n_outputs = 1;
    m->n_estimators = 1;
    s->kind = !strcmp(m->short_name, "PolynomialFeatures") ? SHAPE_POLY : SHAPE_IDENTITY;
    m->allow_nan = s->kind == SHAPE_IDENTITY;
    brine_status st = be_read_n_features(m, state, &m->n_features_in, err);
    if (!st) st = s->kind == SHAPE_POLY ? load_poly(m, state, s, err) : load_function(m, state, s, err);
    if (!st) st = be_read_feature_names(m, state, err);
    if (!st) st = be_keep_params(m, state, err);
    return st;
}

static size_t shape_columns(const brine_model *m, brine_method method) {
    const shape_model *s = m->impl;
    return method == BRINE_METHOD_TRANSFORM ? s->width : BE_NO_METHOD;
}

static brine_status shape_predict(const brine_model *m, brine_method method, const be_input *in,
                                  brine_prediction *out, brine_error *err) {
    (void)method;
    const shape_model *s = m->impl;
    if (s->kind == SHAPE_IDENTITY) {
        memcpy(out->values, in->xd, in->n_rows * s->n * sizeof *out->values);
        return BRINE_OK;
    }
    brine_status st = be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, 0, err);
    if (st) return st;
    double *xp = malloc((s->full + 1) * sizeof *xp);
    if (!xp) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t r = 0; r < in->n_rows; r++) {
        const double *x = in->xd + r * s->n;
        size_t col = 0;
        if (s->bias) xp[col++] = 1.0;
        if (s->full > col) memcpy(xp + col, x, s->n * sizeof *xp);
        for (size_t k = 0; k < s->n_steps; k++) {
            const poly_step *p = &s->steps[k];
            for (size_t c = 0; c < p->len; c++) xp[p->dst + c] = xp[p->src + c] * x[p->feature];
        }
        double *y = out->values + r * s->width;
        size_t o = 0;
        if (s->bias && s->first > 0) y[o++] = 1.0;
        memcpy(y + o, xp + s->first, (s->width - o) * sizeof *y);
    }
    free(xp);
    return BRINE_OK;
}

const be_family be_shape_family = {"shape", shape_load, shape_predict, NULL, shape_columns, BE_FAM_FLOAT64};
