/* naive_bayes.c — sklearn.naive_bayes: GaussianNB, MultinomialNB,
 * ComplementNB, BernoulliNB and CategoricalNB.
 *
 * Each computes sklearn 1.2.1's _joint_log_likelihood (jll) in float64;
 * predict is classes_[argmax(jll)] (the first maximum), predict_log_proba
 * jll - logsumexp(jll) with scipy's logsumexp (row max, exp of the
 * differences, numpy's pairwise sum, log, plus the max), predict_proba its
 * exp.  GaussianNB and CategoricalNB use no BLAS, so their results are
 * sklearn's bits:
 *   GaussianNB   log(class_prior_[c]) + (-0.5 * sum(log(2 pi var_[c])) -
 *                0.5 * sum((x - theta_[c])**2 / var_[c])), sums pairwise
 *                (files before sklearn 1.0 name var_ sigma_)
 *   CategoricalNB  0 + feature_log_prob_[0][c, x0] + ... + class_log_prior_[c],
 *                X cast to int as numpy does; a negative value or a category
 *                beyond the fitted ones is refused (sklearn raises too)
 * The count models take a dot product, which sklearn leaves to BLAS; brine
 * sums it left to right (within 1e-9 relative):
 *   MultinomialNB  x . feature_log_prob_[c] + class_log_prior_[c]
 *   ComplementNB   x . feature_log_prob_[c] (+ class_log_prior_ with 1 class)
 *   BernoulliNB    binarize(x) . (flp - log(1 - exp(flp)))[c] +
 *                  (class_log_prior_[c] + sum(log(1 - exp(flp[c])))) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

enum { NB_GAUSSIAN, NB_MULTINOMIAL, NB_COMPLEMENT, NB_BERNOULLI, NB_CATEGORICAL };

typedef struct nb_model {
    int kind;
    size_t k;          /* classes */
    size_t n;          /* features */
    /* Gaussian */
    double *theta;     /* k * n */
    double *var;       /* k * n */
    double *log_prior; /* k: log(class_prior_[c]) */
    double *norm;      /* k: -0.5 * sum(log(2 pi var_[c])) */
    /* count models */
    double *w;         /* k * n: the dot product's weights */
    double *bias;      /* k: added after the dot product (NULL: none) */
    int binarize;      /* Bernoulli: binarize is not None */
    double threshold;
    /* Categorical */
    double **cat;      /* n tables of k * ncat[i] */
    size_t *ncat;
} nb_model;

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

static int kind_of(const char *name) {
    if (!strcmp(name, "GaussianNB")) return NB_GAUSSIAN;
    if (!strcmp(name, "MultinomialNB")) return NB_MULTINOMIAL;
    if (!strcmp(name, "ComplementNB")) return NB_COMPLEMENT;
    if (!strcmp(name, "BernoulliNB")) return NB_BERNOULLI;
    return NB_CATEGORICAL;
}

/* A fitted 2-D array of k rows (classes) and, when *n is set, *n columns. */
static brine_status read_table(brine_model *m, const bv *state, const char *key, size_t k, size_t *n,
                               double **out, brine_error *err) {
    const bv *v = bv_dict_get(state, key);
    if (is_none(v)) return be_fail(err, m, "%s is %s", key, v ? "None" : "missing");
    be_matrix a;
    brine_status st = be_read_matrix(m, v, key, 2, &a, err);
    if (st) return st;
    if (a.ndim != 2) return be_fail(err, m, "%s has %d dimensions, not 2", key, a.ndim);
    if (a.rows != k) return be_fail(err, m, "%s has %zu rows but there are %zu classes", key, a.rows, k);
    if (a.cols == 0) return be_fail(err, m, "%s has no columns", key);
    if (*n && a.cols != *n) return be_fail(err, m, "%s has %zu columns, not %zu", key, a.cols, *n);
    *n = a.cols;
    *out = a.v;
    return BRINE_OK;
}

/* A fitted 1-D array of k values. */
static brine_status read_per_class(brine_model *m, const bv *state, const char *key, size_t k, double **out,
                                   brine_error *err) {
    const bv *v = bv_dict_get(state, key);
    if (is_none(v)) return be_fail(err, m, "%s is %s", key, v ? "None" : "missing");
    be_matrix a;
    brine_status st = be_read_matrix(m, v, key, 1, &a, err);
    if (st) return st;
    if (a.ndim != 1 || a.cols != k) return be_fail(err, m, "%s has %zu values but there are %zu classes", key,
                                                   a.ndim == 1 ? a.cols : a.rows * a.cols, k);
    *out = a.v;
    return BRINE_OK;
}

static brine_status load_gaussian(brine_model *m, const bv *state, nb_model *nb, brine_error *err) {
    const char *vkey = is_none(bv_dict_get(state, "var_")) && !is_none(bv_dict_get(state, "sigma_")) ? "sigma_" : "var_";
    size_t n = 0;
    brine_status st = read_table(m, state, "theta_", nb->k, &n, &nb->theta, err);
    if (!st) st = read_table(m, state, vkey, nb->k, &n, &nb->var, err);
    double *prior = NULL;
    if (!st) st = read_per_class(m, state, "class_prior_", nb->k, &prior, err);
    if (st) return st;
    nb->n = n;
    nb->log_prior = be_alloc(m, nb->k, sizeof *nb->log_prior);
    nb->norm = be_alloc(m, nb->k, sizeof *nb->norm);
    double *tmp = be_alloc(m, n, sizeof *tmp);
    if (!nb->log_prior || !nb->norm || !tmp) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t c = 0; c < nb->k; c++) {
        nb->log_prior[c] = log(prior[c]);
        for (size_t j = 0; j < n; j++) tmp[j] = log(2.0 * M_PI * nb->var[c * n + j]);
        nb->norm[c] = -0.5 * be_pairwise_sum(tmp, n);
    }
    return BRINE_OK;
}

static brine_status load_counts(brine_model *m, const bv *state, nb_model *nb, brine_error *err) {
    size_t n = 0;
    double *flp = NULL, *clp = NULL;
    brine_status st = read_table(m, state, "feature_log_prob_", nb->k, &n, &flp, err);
    if (!st) st = read_per_class(m, state, "class_log_prior_", nb->k, &clp, err);
    if (st) return st;
    nb->n = n;
    nb->w = flp;
    if (nb->kind == NB_MULTINOMIAL || (nb->kind == NB_COMPLEMENT && nb->k == 1)) nb->bias = clp;
    if (nb->kind != NB_BERNOULLI) return BRINE_OK;
    const bv *b = bv_dict_get(state, "binarize");
    if (!is_none(b)) {
        if (!be_get_double(b, &nb->threshold))
            return be_fail(err, m, "binarize is a %s, not a number or None", brine_kind_name((brine_kind)b->kind));
        nb->binarize = 1;
    }
    nb->w = be_alloc(m, nb->k * n, sizeof *nb->w);
    nb->bias = be_alloc(m, nb->k, sizeof *nb->bias);
    double *neg = be_alloc(m, n, sizeof *neg);
    if (!nb->w || !nb->bias || !neg) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t c = 0; c < nb->k; c++) {
        for (size_t j = 0; j < n; j++) {
            neg[j] = log(1 - exp(flp[c * n + j]));
            nb->w[c * n + j] = flp[c * n + j] - neg[j];
        }
        nb->bias[c] = clp[c] + be_pairwise_sum(neg, n);
    }
    return BRINE_OK;
}

static brine_status load_categorical(brine_model *m, const bv *state, nb_model *nb, brine_error *err) {
    const bv *v = bv_dict_get(state, "feature_log_prob_");
    if (is_none(v)) return be_fail(err, m, "feature_log_prob_ is %s", v ? "None" : "missing");
    if (v->kind != BRINE_LIST && v->kind != BRINE_TUPLE)
        return be_fail(err, m, "feature_log_prob_ is a %s, not a list of arrays", brine_kind_name((brine_kind)v->kind));
    size_t n = v->u.seq.n;
    if (n == 0) return be_fail(err, m, "feature_log_prob_ is empty");
    brine_status st = be_check_width(m, (int64_t)n, "feature_log_prob_", err);
    if (st) return st;
    nb->n = n;
    nb->cat = be_alloc(m, n, sizeof *nb->cat);
    nb->ncat = be_alloc(m, n, sizeof *nb->ncat);
    if (!nb->cat || !nb->ncat) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    const bv *nc = bv_dict_get(state, "n_categories_");
    const bv_array *nca = is_none(nc) ? NULL : be_array(nc);
    if (!is_none(nc) && (!nca || nca->ndim != 1 || (size_t)nca->count != n))
        return be_fail(err, m, "n_categories_ is not a 1-D array of %zu counts", n);
    for (size_t i = 0; i < n; i++) {
        char field[48];
        snprintf(field, sizeof field, "feature_log_prob_[%zu]", i);
        be_matrix a;
        if ((st = be_read_matrix(m, v->u.seq.items[i], field, 2, &a, err))) return st;
        if (a.ndim != 2 || a.rows != nb->k)
            return be_fail(err, m, "%s is not a 2-D array of %zu rows (one per class)", field, nb->k);
        int64_t want;
        if (nca && (!be_array_int(nca, i, &want) || want != (int64_t)a.cols))
            return be_fail(err, m, "%s has %zu categories but n_categories_[%zu] says otherwise", field, a.cols, i);
        nb->cat[i] = a.v;
        nb->ncat[i] = a.cols;
    }
    return read_per_class(m, state, "class_log_prior_", nb->k, &nb->log_prior, err);
}

static brine_status nb_load(brine_model *m, const bv *state, brine_error *err) {
    nb_model *nb = be_alloc(m, 1, sizeof *nb);
    if (!nb) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    nb->kind = kind_of(m->short_name);
    brine_status st = be_read_n_features(m, state, &m->n_features_in, err);
    if (st) return st;
    const bv *cv = bv_dict_get(state, "classes_");
    if (is_none(cv)) return be_fail(err, m, "classes_ is missing");
    m->classes = be_alloc(m, 1, sizeof *m->classes);
    if (!m->classes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    if ((st = be_read_labels(m, cv, "classes_", m->classes, err))) return st;
    if (m->classes->n == 0) return be_fail(err, m, "classes_ is empty");
    nb->k = m->classes->n;
    m->n_outputs = 1;
    m->n_estimators = 1;
    if (nb->kind == NB_GAUSSIAN) st = load_gaussian(m, state, nb, err);
    else if (nb->kind == NB_CATEGORICAL) st = load_categorical(m, state, nb, err);
    else st = load_counts(m, state, nb, err);
    if (st) return st;
    if (nb->kind != NB_CATEGORICAL && (st = be_check_width(m, (int64_t)nb->n, nb->kind == NB_GAUSSIAN ? "theta_" : "feature_log_prob_", err)))
        return st;
    m->impl = nb;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t nb_columns(const brine_model *m, brine_method method) {
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return 1;
    case BRINE_METHOD_PREDICT_PROBA:
    case BRINE_METHOD_PREDICT_LOG_PROBA:
        return m->classes->n;
    default:
        return BE_NO_METHOD;
    }
}

/* numpy's float64 -> int64 cast (x86: out of range and NaN give INT64_MIN). */
static int64_t as_int(double v) {
    if (!(v > -9223372036854775808.0 && v < 9223372036854775808.0)) return INT64_MIN;
    return (int64_t)v;
}

/* jll of one row into out[k]; tmp has n doubles. */
static brine_status joint_row(const brine_model *m, const nb_model *nb, const double *x, size_t r, double *tmp,
                              double *out, brine_error *err) {
    size_t n = nb->n;
    switch (nb->kind) {
    case NB_GAUSSIAN:
        for (size_t c = 0; c < nb->k; c++) {
            const double *th = nb->theta + c * n, *va = nb->var + c * n;
            for (size_t j = 0; j < n; j++) {
                double d = x[j] - th[j];
                tmp[j] = (d * d) / va[j];
            }
            double nij = nb->norm[c] - 0.5 * be_pairwise_sum(tmp, n);
            out[c] = nb->log_prior[c] + nij;
        }
        return BRINE_OK;
    case NB_CATEGORICAL:
        for (size_t c = 0; c < nb->k; c++) out[c] = 0.0;
        for (size_t j = 0; j < n; j++) {
            int64_t v = as_int(x[j]);
            if (v < 0)
                return be_fail_status(err, BRINE_E_ARGUMENT, m, "X[%zu, %zu] is negative; sklearn refuses negative categories",
                                      r, j);
            if ((uint64_t)v >= nb->ncat[j])
                return be_fail_status(err, BRINE_E_ARGUMENT, m,
                                      "X[%zu, %zu] is category %lld, but feature %zu was fitted with %zu categories "
                                      "(sklearn raises IndexError)",
                                      r, j, (long long)v, j, nb->ncat[j]);
            for (size_t c = 0; c < nb->k; c++) out[c] += nb->cat[j][c * nb->ncat[j] + (size_t)v];
        }
        for (size_t c = 0; c < nb->k; c++) out[c] = out[c] + nb->log_prior[c];
        return BRINE_OK;
    default: {
        const double *row = x;
        if (nb->binarize) {
            for (size_t j = 0; j < n; j++) tmp[j] = x[j] > nb->threshold ? 1.0 : 0.0;
            row = tmp;
        }
        for (size_t c = 0; c < nb->k; c++) {
            const double *w = nb->w + c * n;
            double s = 0.0;
            for (size_t j = 0; j < n; j++) s += row[j] * w[j];
            out[c] = nb->bias ? s + nb->bias[c] : s;
        }
        return BRINE_OK;
    }
    }
}

/* jll - logsumexp(jll) in place (scipy 1.10's order); tmp has k doubles. */
static void log_normalise(double *jll, size_t k, double *tmp) {
    double mx = jll[0];
    for (size_t c = 1; c < k; c++)
        if (isnan(jll[c]) || jll[c] > mx) mx = jll[c]; /* np.amax: a NaN propagates */
    if (!isfinite(mx)) mx = 0.0;
    for (size_t c = 0; c < k; c++) tmp[c] = exp(jll[c] - mx);
    double out = log(be_pairwise_sum(tmp, k));
    out += mx;
    for (size_t c = 0; c < k; c++) jll[c] = jll[c] - out;
}

static brine_status nb_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                               brine_error *err) {
    const nb_model *nb = m->impl;
    brine_status st = be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, 0, err);
    if (st) return st;
    size_t k = nb->k;
    double *tmp = malloc((nb->n + k + 1) * sizeof *tmp);
    double *jll = malloc((k + 1) * sizeof *jll);
    if (!tmp || !jll) {
        free(tmp);
        free(jll);
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    }
    for (size_t r = 0; r < in->n_rows && !st; r++) {
        const double *x = in->xd + r * in->n_cols;
        double *row = method == BRINE_METHOD_PREDICT ? jll : out->values + r * k;
        if ((st = joint_row(m, nb, x, r, tmp, row, err))) break;
        if (method == BRINE_METHOD_PREDICT) {
            out->indices[r] = (int64_t)be_argmax(row, k);
            continue;
        }
        log_normalise(row, k, tmp);
        if (method == BRINE_METHOD_PREDICT_PROBA)
            for (size_t c = 0; c < k; c++) row[c] = exp(row[c]);
    }
    free(tmp);
    free(jll);
    return st;
}

const be_family be_nb_family = {"naive_bayes", nb_load, nb_predict, NULL, nb_columns, BE_FAM_FLOAT64};
