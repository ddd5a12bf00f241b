/* svm.c — libsvm estimators of sklearn.svm: SVC, NuSVC (classifiers), SVR,
 * NuSVR (regressors) and OneClassSVM, fitted on dense or sparse data,
 * kernels linear, poly, rbf and sigmoid.
 *
 * Prediction follows sklearn's vendored libsvm (sklearn/svm/src/libsvm/
 * svm.cpp) operation for operation, in float64:
 *  - kernels (Kernel::k_function, dense): linear x.sv; poly
 *    powi(gamma x.sv + coef0, degree); rbf exp(-gamma (x-sv).(x-sv));
 *    sigmoid tanh(gamma x.sv + coef0).  libsvm takes the dot products from
 *    BLAS ddot; reference BLAS (Debian's libblas3) adds them left to right,
 *    as brine does, so results are bit-equal there; another BLAS may add in
 *    another order (CONVENTIONS: within 1e-9 relative).
 *  - svm_predict_values: for each class pair (i, j) in order,
 *    sum of sv_coef[j-1][i's SVs] * k, then sv_coef[i][j's SVs] * k, minus
 *    rho (= -_intercept_); predict votes i when the value is > 0, else j,
 *    and takes the first class with most votes.  Regressors and one-class:
 *    sum of dual_coef * k minus rho.
 *  - svm_predict_probability: Platt's sigmoid per pair clipped to
 *    [1e-7, 1 - 1e-7], then the pairwise coupling multiclass_probability
 *    (Wu, Lin and Weng's method 2, iterative), for two classes too.
 * On top, sklearn 1.2.1's own rules: binary SVC decision_function is the
 * negated libsvm value as one column; decision_function_shape='ovr' with
 * more than two classes is _ovr_decision_function(dec < 0, -dec, n);
 * break_ties predicts the argmax of that; predict with probability=True
 * still votes (libsvm predict), not argmax of predict_proba; OneClassSVM
 * predicts +1/-1 (given as labels: m->classes is [-1, 1], as KMeans gives
 * its cluster numbers) and score_samples = decision_function + offset_.
 * The private _dual_coef_ / _intercept_ (libsvm's signs) are used, not the
 * public copies that binary classifiers negate.  Files of sklearn < 0.23
 * store n_support_, probA_, probB_ instead of _n_support, _probA, _probB.
 * Sparse fits (_sparse: support_vectors_ and _dual_coef_ scipy CSR
 * matrices) take dense rows as sklearn takes them, converted to CSR (zeros
 * dropped): the sparse build's kernels merge the nonzero columns in
 * increasing order without BLAS, so they are bit-identical everywhere.
 * Refused (BRINE_E_UNSUPPORTED): kernel 'precomputed' and callable
 * kernels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

enum { IMPL_C_SVC, IMPL_NU_SVC, IMPL_ONE_CLASS, IMPL_EPS_SVR, IMPL_NU_SVR };
enum { K_LINEAR, K_POLY, K_RBF, K_SIGMOID };

typedef struct svm_model {
    int impl;          /* IMPL_* */
    int kernel;        /* K_* */
    int degree;
    double gamma, coef0;
    size_t n_sv, n_feat;
    size_t n_class;    /* classifiers: len(classes_); others 2 (libsvm's convention) */
    size_t n_pairs;    /* classifiers: n_class (n_class - 1) / 2; others 1 */
    double *sv;        /* dense fits: n_sv * n_feat, row-major */
    int sparse;        /* fitted on sparse X: support vectors in CSR form */
    size_t *sv_ptr;    /* sparse: n_sv + 1 offsets into sv_idx / sv_val */
    size_t *sv_idx;    /* sparse: column of each stored value, increasing within a row */
    double *sv_val;
    size_t *start;     /* classifiers: first SV of each class */
    size_t *count;     /* classifiers: SVs of each class (_n_support) */
    double *coef;      /* (n_class - 1) * n_sv: _dual_coef_ rows (libsvm's sv_coef) */
    double *rho;       /* n_pairs: -_intercept_ */
    double *prob_a, *prob_b; /* n_pairs each, or NULL (probability=False) */
    int ovr;           /* decision_function_shape 'ovr' */
    int break_ties;
    double offset;     /* OneClassSVM offset_ */
} svm_model;

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

static int impl_of(const char *name) {
    if (!strcmp(name, "SVC")) return IMPL_C_SVC;
    if (!strcmp(name, "NuSVC")) return IMPL_NU_SVC;
    if (!strcmp(name, "OneClassSVM")) return IMPL_ONE_CLASS;
    if (!strcmp(name, "SVR")) return IMPL_EPS_SVR;
    return IMPL_NU_SVR;
}

static int is_svc(const svm_model *s) { return s->impl == IMPL_C_SVC || s->impl == IMPL_NU_SVC; }

/* The first key of keys[] that state has (not None). */
static const bv *first_of(const bv *state, const char *const *keys, const char **which) {
    for (size_t k = 0; keys[k]; k++) {
        const bv *v = bv_dict_get(state, keys[k]);
        if (!is_none(v)) {
            *which = keys[k];
            return v;
        }
    }
    *which = keys[0];
    return NULL;
}

/* A 1-D numeric array of exactly n values (n = (size_t)-1: any length,
 * returned in *len). */
static brine_status read_vector(brine_model *m, const bv *v, const char *field, size_t n, double **out, size_t *len,
                                brine_error *err) {
    be_matrix a;
    brine_status st = be_read_matrix(m, v, field, 1, &a, err);
    if (st) return st;
    if (a.ndim != 1) return be_fail(err, m, "%s is not a 1-D array", field);
    if (n != (size_t)-1 && a.cols != n) return be_fail(err, m, "%s has %zu values, expected %zu", field, a.cols, n);
    *out = a.v;
    if (len) *len = a.cols;
    return BRINE_OK;
}

static brine_status read_number(brine_model *m, const bv *state, const char *key, double *out, brine_error *err) {
    const bv *v = bv_dict_get(state, key);
    if (!v) return be_fail(err, m, "%s is missing", key);
    if (!be_get_double(v, out) || !isfinite(*out)) return be_fail(err, m, "%s is not a finite number", key);
    return BRINE_OK;
}

static brine_status read_kernel(brine_model *m, const bv *state, svm_model *s, brine_error *err) {
    const bv *k = bv_dict_get(state, "kernel");
    if (!k) return be_fail(err, m, "kernel is missing");
    if (k->kind != BRINE_STR) {
        const char *name = NULL, *mod = brine_value_global(k, &name);
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "kernel is a callable (%s%s%s); brine supports 'linear', "
                              "'poly', 'rbf' and 'sigmoid'", mod ? mod : brine_kind_name((brine_kind)k->kind),
                              mod ? "." : "", mod && name ? name : "");
    }
    static const char *const names[] = {"linear", "poly", "rbf", "sigmoid"};
    for (int i = 0; i < 4; i++) {
        if (bv_is_str(k, names[i])) {
            s->kernel = i;
            return BRINE_OK;
        }
    }
    if (bv_is_str(k, "precomputed"))
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "kernel='precomputed' is not supported (its input is a "
                              "kernel matrix against the training set, not features)");
    return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "kernel '%.*s' is not supported", (int)(k->u.s.n > 40 ? 40 : k->u.s.n),
                          (const char *)k->u.s.p);
}

/* Kernel parameters: the resolved _gamma (a float or numpy float64), degree
 * (an int, as libsvm's int parameter), coef0. */
static brine_status read_kernel_params(brine_model *m, const bv *state, svm_model *s, brine_error *err) {
    const bv *g = bv_dict_get(state, "_gamma");
    const char *gkey = "_gamma";
    if (is_none(g)) g = bv_dict_get(state, gkey = "gamma");
    if (!be_get_double(g, &s->gamma) || !isfinite(s->gamma))
        return be_fail(err, m, "%s is %s, not a number", gkey, g ? brine_kind_name((brine_kind)g->kind) : "missing");
    brine_status st = read_number(m, state, "coef0", &s->coef0, err);
    if (st) return st;
    const bv *d = bv_dict_get(state, "degree");
    int64_t deg;
    double dd;
    if (be_get_int(d, &deg)) {
    } else if (be_get_double(d, &dd) && dd == floor(dd) && fabs(dd) < 1e9) {
        deg = (int64_t)dd;
    } else {
        return be_fail(err, m, "degree is %s, not an int", d ? brine_kind_name((brine_kind)d->kind) : "missing");
    }
    if (deg < 0 || deg > INT32_MAX) return be_fail(err, m, "degree is %lld", (long long)deg);
    s->degree = (int)deg;
    return BRINE_OK;
}

/* _n_support (or n_support_): classifiers one count per class, summing to
 * the number of support vectors (sklearn's CVE-2020-28975 check). */
static brine_status read_n_support(brine_model *m, const bv *state, svm_model *s, brine_error *err) {
    static const char *const keys[] = {"_n_support", "n_support_", NULL};
    const char *key;
    const bv *v = first_of(state, keys, &key);
    const bv_array *a = be_array(v);
    if (!a || a->ndim != 1) return be_fail(err, m, "%s is %s", key, v ? "not a 1-D array" : "missing");
    size_t n = (size_t)a->count;
    if (!is_svc(s)) {
        /* libsvm does not use it; sklearn checks n_support_ = _n_support[:1]
         * of dense fits (sparse fits of sklearn 1.2 store other numbers) */
        int64_t c;
        if (n && s->n_sv && !s->sparse && (!be_array_int(a, 0, &c) || c != (int64_t)s->n_sv))
            return be_fail(err, m, "%s[0] is not the %zu support vectors", key, s->n_sv);
        return BRINE_OK;
    }
    if (n != s->n_class) return be_fail(err, m, "%s has %zu counts for %zu classes", key, n, s->n_class);
    s->count = be_alloc(m, n, sizeof *s->count);
    s->start = be_alloc(m, n, sizeof *s->start);
    if (!s->count || !s->start) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t c;
        if (!be_array_int(a, i, &c)) return be_fail(err, m, "%s is not an integer array", key);
        if (c < 0 || (uint64_t)c > s->n_sv - total)
            return be_fail(err, m, "%s[%zu] is %lld; the counts must add up to the %zu support vectors", key, i,
                           (long long)c, s->n_sv);
        s->start[i] = total;
        s->count[i] = (size_t)c;
        total += (size_t)c;
    }
    if (total != s->n_sv)
        return be_fail(err, m, "%s adds up to %zu but support_vectors_ has %zu rows", key, total, s->n_sv);
    return BRINE_OK;
}

static brine_status read_support_indices(brine_model *m, const bv *state, svm_model *s, brine_error *err) {
    const bv *v = bv_dict_get(state, "support_");
    if (is_none(v)) return BRINE_OK; /* libsvm needs it only for precomputed kernels */
    const bv_array *a = be_array(v);
    if (!a || a->ndim != 1) return be_fail(err, m, "support_ is not a 1-D array");
    if ((size_t)a->count != s->n_sv)
        return be_fail(err, m, "support_ has %lld indices but support_vectors_ has %zu rows", (long long)a->count, s->n_sv);
    for (size_t i = 0; i < s->n_sv; i++) {
        int64_t k;
        if (!be_array_int(a, i, &k)) return be_fail(err, m, "support_ is not an integer array");
        if (k < 0) return be_fail(err, m, "support_[%zu] is %lld, a negative index", i, (long long)k);
    }
    return BRINE_OK;
}

/* _probA/_probB (probA_/probB_ before 0.23): both empty, or one value per
 * class pair.  Only classifiers use them. */
static brine_status read_proba(brine_model *m, const bv *state, svm_model *s, int probability, brine_error *err) {
    static const char *const ka[] = {"_probA", "probA_", NULL};
    static const char *const kb[] = {"_probB", "probB_", NULL};
    const char *kav, *kbv;
    const bv *va = first_of(state, ka, &kav), *vb = first_of(state, kb, &kbv);
    if (!is_svc(s) || !probability || (!va && !vb)) return BRINE_OK;
    if (!va || !vb) return be_fail(err, m, "%s is missing", va ? kbv : kav);
    double *pa = NULL, *pb = NULL;
    size_t la = 0, lb = 0;
    brine_status st = read_vector(m, va, kav, (size_t)-1, &pa, &la, err);
    if (!st) st = read_vector(m, vb, kbv, (size_t)-1, &pb, &lb, err);
    if (st) return st;
    if (la == 0 && lb == 0) return BRINE_OK; /* sklearn raises NotFittedError: no predict_proba */
    if (la != s->n_pairs || lb != s->n_pairs)
        return be_fail(err, m, "%s has %zu and %s %zu values; %zu class pairs need %zu each", kav, la, kbv, lb,
                       s->n_class, s->n_pairs);
    for (size_t k = 0; k < s->n_pairs; k++)
        if (!isfinite(pa[k]) || !isfinite(pb[k])) return be_fail(err, m, "%s or %s[%zu] is not finite", kav, kbv, k);
    s->prob_a = pa;
    s->prob_b = pb;
    return BRINE_OK;
}

static brine_status read_shape_params(brine_model *m, const bv *state, svm_model *s, brine_error *err) {
    if (!is_svc(s)) return BRINE_OK;
    const bv *d = bv_dict_get(state, "decision_function_shape");
    if (is_none(d) || bv_is_str(d, "ovo")) s->ovr = 0; /* None (sklearn < 0.19) meant the ovo shape */
    else if (bv_is_str(d, "ovr")) s->ovr = 1;
    else return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "decision_function_shape is not 'ovr' or 'ovo'");
    const bv *b = bv_dict_get(state, "break_ties");
    int64_t bt = 0;
    if (b && !be_get_int(b, &bt)) return be_fail(err, m, "break_ties is not a bool");
    s->break_ties = bt != 0;
    return BRINE_OK;
}

/* A scipy csr_matrix (any module path scipy used) into rows x cols with
 * offsets ptr[rows + 1], column indices idx and values val (arena). */
typedef struct svm_csr {
    size_t rows, cols, nnz;
    size_t *ptr, *idx;
    double *val;
} svm_csr;

static brine_status read_csr(brine_model *m, const bv *v, const char *field, svm_csr *out, brine_error *err) {
    const char *name = NULL, *mod = v && v->kind == BRINE_OBJECT ? brine_value_global(v, &name) : NULL;
    if (!mod || strncmp(mod, "scipy.sparse", 12) || !name || (strcmp(name, "csr_matrix") && strcmp(name, "csr_array")))
        return be_fail(err, m, "%s is not a scipy csr_matrix", field);
    const bv *st = v->u.obj.state;
    if (!st || st->kind != BRINE_DICT) return be_fail(err, m, "%s has no state", field);
    const bv *shape = bv_dict_get(st, "_shape");
    int64_t r, c;
    if (!shape || shape->kind != BRINE_TUPLE || shape->u.seq.n != 2 || !be_get_int(shape->u.seq.items[0], &r) ||
        !be_get_int(shape->u.seq.items[1], &c) || r < 0 || c < 0 || r > INT32_MAX || c > INT32_MAX)
        return be_fail(err, m, "%s._shape is not a (rows, cols) tuple", field);
    const bv_array *ip = be_array(bv_dict_get(st, "indptr")), *ix = be_array(bv_dict_get(st, "indices"));
    const bv_array *dv = be_array(bv_dict_get(st, "data"));
    if (!ip || !ix || !dv || ip->ndim != 1 || ix->ndim != 1 || dv->ndim != 1)
        return be_fail(err, m, "%s lacks 1-D indptr, indices and data arrays", field);
    if ((uint64_t)ip->count != (uint64_t)r + 1) return be_fail(err, m, "%s.indptr has %lld offsets for %lld rows", field,
                                                                (long long)ip->count, (long long)r);
    if (ix->count != dv->count) return be_fail(err, m, "%s has %lld indices but %lld values", field,
                                               (long long)ix->count, (long long)dv->count);
    out->rows = (size_t)r;
    out->cols = (size_t)c;
    out->nnz = (size_t)dv->count;
    out->ptr = be_alloc(m, out->rows + 1, sizeof *out->ptr);
    out->idx = be_alloc(m, out->nnz + 1, sizeof *out->idx);
    out->val = be_alloc(m, out->nnz + 1, sizeof *out->val);
    if (!out->ptr || !out->idx || !out->val) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i <= out->rows; i++) {
        int64_t o;
        if (!be_array_int(ip, i, &o) || o < 0 || (uint64_t)o > out->nnz || (i && (size_t)o < out->ptr[i - 1]) ||
            (i == 0 && o != 0) || (i == out->rows && (size_t)o != out->nnz))
            return be_fail(err, m, "%s.indptr[%zu] is out of order or range", field, i);
        out->ptr[i] = (size_t)o;
    }
    for (size_t k = 0; k < out->nnz; k++) {
        int64_t j;
        if (!be_array_int(ix, k, &j) || j < 0 || (uint64_t)j >= out->cols)
            return be_fail(err, m, "%s.indices[%zu] is not a column index below %zu", field, k, out->cols);
        out->idx[k] = (size_t)j;
        if (!be_array_double(dv, k, &out->val[k]) || !isfinite(out->val[k]))
            return be_fail(err, m, "%s.data[%zu] is not a finite number", field, k);
    }
    for (size_t i = 0; i < out->rows; i++)
        for (size_t k = out->ptr[i] + 1; k < out->ptr[i + 1]; k++)
            if (out->idx[k] <= out->idx[k - 1])
                return be_fail(err, m, "%s row %zu has its column indices out of order", field, i);
    return BRINE_OK;
}

/* Sparse fits: support_vectors_ and _dual_coef_ are CSR matrices; libsvm
 * takes _dual_coef_.data as the full (n_class - 1) x n_SV row-major table. */
static brine_status read_sparse(brine_model *m, const bv *state, svm_model *s, brine_error *err) {
    svm_csr sv, dc;
    brine_status st = read_csr(m, bv_dict_get(state, "support_vectors_"), "support_vectors_", &sv, err);
    if (st) return st;
    if (sv.cols == 0) return be_fail(err, m, "support_vectors_ has no columns");
    s->sparse = 1;
    s->n_sv = sv.rows;
    s->n_feat = sv.cols;
    s->sv_ptr = sv.ptr;
    s->sv_idx = sv.idx;
    s->sv_val = sv.val;
    if ((st = read_csr(m, bv_dict_get(state, "_dual_coef_"), "_dual_coef_", &dc, err))) return st;
    size_t rows = s->n_class - 1;
    if (dc.rows != rows || dc.cols != s->n_sv || dc.nnz != rows * s->n_sv)
        return be_fail(err, m, "_dual_coef_ is %zu x %zu with %zu values, expected %zu x %zu in full", dc.rows, dc.cols,
                       dc.nnz, rows, s->n_sv);
    s->coef = dc.val;
    return BRINE_OK;
}

static brine_status svm_load(brine_model *m, const bv *state, brine_error *err) {
    svm_model *s = be_alloc(m, 1, sizeof *s);
    if (!s) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    s->impl = impl_of(m->short_name);
    const bv *sp = bv_dict_get(state, "_sparse");
    int64_t sparse = 0;
    if (sp && !be_get_int(sp, &sparse)) return be_fail(err, m, "_sparse is not a bool");
    brine_status st = read_kernel(m, state, s, err);
    if (!st) st = read_kernel_params(m, state, s, err);
    if (!st) st = be_read_n_features(m, state, &m->n_features_in, err);
    if (st) return st;
    const bv *svv = bv_dict_get(state, "support_vectors_");
    if (is_none(svv)) return be_fail(err, m, "is not fitted (support_vectors_ is %s)", svv ? "None" : "missing");
    m->n_outputs = 1;
    if (m->cls->classifier) {
        m->classes = be_alloc(m, 1, sizeof *m->classes);
        if (!m->classes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        const bv *cv = bv_dict_get(state, "classes_");
        if (is_none(cv)) return be_fail(err, m, "classes_ is missing");
        if ((st = be_read_labels(m, cv, "classes_", m->classes, err))) return st;
        s->n_class = m->classes->n;
        if (s->n_class < 2) return be_fail(err, m, "classes_ has %zu labels; a classifier has at least 2", s->n_class);
        if (s->n_class > 65536) return be_fail(err, m, "classes_ has %zu labels", s->n_class);
        s->n_pairs = s->n_class * (s->n_class - 1) / 2;
    } else {
        s->n_class = 2;
        s->n_pairs = 1;
    }
    size_t rows = s->n_class - 1;
    if (sparse) {
        if ((st = read_sparse(m, state, s, err))) return st;
    } else {
        if (svv->kind == BRINE_OBJECT) return be_fail(err, m, "support_vectors_ is a sparse matrix but _sparse is False");
        be_matrix sv;
        if ((st = be_read_matrix(m, svv, "support_vectors_", 2, &sv, err))) return st;
        if (sv.ndim != 2) return be_fail(err, m, "support_vectors_ is not 2-D");
        const bv_array *sva = be_array(svv);
        s->n_sv = (size_t)sva->shape[0];
        s->n_feat = (size_t)sva->shape[1];
        s->sv = sv.v;
        if (s->n_feat == 0) return be_fail(err, m, "support_vectors_ has no columns");
        for (size_t i = 0; i < s->n_sv * s->n_feat; i++)
            if (!isfinite(s->sv[i])) return be_fail(err, m, "support_vectors_ has a value that is not finite");
        /* _dual_coef_: (n_class - 1, n_SV); regressors and one-class (1, n_SV). */
        const bv *dv = bv_dict_get(state, "_dual_coef_");
        if (is_none(dv)) return be_fail(err, m, "_dual_coef_ is missing");
        be_matrix dc;
        if ((st = be_read_matrix(m, dv, "_dual_coef_", 2, &dc, err))) return st;
        if (dc.ndim != 2 || dc.rows != rows || dc.cols != s->n_sv)
            return be_fail(err, m, "_dual_coef_ has shape (%zu, %zu), expected (%zu, %zu)", dc.ndim == 2 ? dc.rows : 1,
                           dc.cols, rows, s->n_sv);
        s->coef = dc.v;
    }
    if ((st = be_check_width(m, (int64_t)s->n_feat, "support_vectors_", err))) return st;
    if ((st = read_n_support(m, state, s, err))) return st;
    if ((st = read_support_indices(m, state, s, err))) return st;
    for (size_t i = 0; i < rows * s->n_sv; i++)
        if (!isfinite(s->coef[i])) return be_fail(err, m, "_dual_coef_ has a value that is not finite");
    const bv *iv = bv_dict_get(state, "_intercept_");
    if (is_none(iv)) return be_fail(err, m, "_intercept_ is missing");
    double *icpt;
    if ((st = read_vector(m, iv, "_intercept_", s->n_pairs, &icpt, NULL, err))) return st;
    s->rho = icpt;
    for (size_t k = 0; k < s->n_pairs; k++) {
        if (!isfinite(icpt[k])) return be_fail(err, m, "_intercept_[%zu] is not finite", k);
        s->rho[k] = -icpt[k];
    }
    const bv *pv = bv_dict_get(state, "probability");
    int64_t probability = 0;
    if (pv && !be_get_int(pv, &probability)) return be_fail(err, m, "probability is not a bool");
    if ((st = read_proba(m, state, s, probability != 0, err))) return st;
    if ((st = read_shape_params(m, state, s, err))) return st;
    if (s->impl == IMPL_ONE_CLASS) {
        /* predict's labels -1 / +1 (an intp array in sklearn), as classes */
        m->classes = be_alloc(m, 1, sizeof *m->classes);
        brine_label *l = be_alloc(m, 2, sizeof *l);
        if (!m->classes || !l) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        l[0].kind = l[1].kind = BRINE_LABEL_INT;
        l[0].i = -1;
        l[1].i = 1;
        *m->classes = (be_classes){l, 2, 'i', 8};
        const bv *ov = bv_dict_get(state, "offset_");
        if (is_none(ov)) {
            s->offset = s->rho[0]; /* offset_ = -_intercept_ */
        } else if (ov->kind == BRINE_NDARRAY) {
            double *o;
            if ((st = read_vector(m, ov, "offset_", 1, &o, NULL, err))) return st;
            s->offset = o[0];
        } else if (!be_get_double(ov, &s->offset)) {
            return be_fail(err, m, "offset_ is not a number");
        }
    }
    m->n_estimators = 1;
    m->impl = s;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

/* ---------------------------------------------------------- predicting */

static size_t svm_columns(const brine_model *m, brine_method method) {
    const svm_model *s = m->impl;
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return 1;
    case BRINE_METHOD_DECISION_FUNCTION:
        if (s->impl == IMPL_ONE_CLASS) return 1;
        if (!is_svc(s)) return BE_NO_METHOD;
        return s->n_class == 2 ? 1 : s->ovr ? s->n_class : s->n_pairs;
    case BRINE_METHOD_PREDICT_PROBA:
    case BRINE_METHOD_PREDICT_LOG_PROBA:
        return is_svc(s) && s->prob_a ? s->n_class : BE_NO_METHOD;
    case BRINE_METHOD_SCORE_SAMPLES:
        return s->impl == IMPL_ONE_CLASS ? 1 : BE_NO_METHOD;
    default:
        return BE_NO_METHOD;
    }
}

/* libsvm's powi: base^times by squaring. */
static double powi(double base, int times) {
    double tmp = base, ret = 1.0;
    for (int t = times; t > 0; t /= 2) {
        if (t % 2 == 1) ret *= tmp;
        tmp = tmp * tmp;
    }
    return ret;
}

/* ddot as reference BLAS adds it: left to right. */
static double dot(const double *x, const double *y, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += x[i] * y[i];
    return sum;
}

/* Kernel::k_function(x, sv) of the dense build; d is n scratch doubles. */
static double kernel(const svm_model *s, const double *x, const double *y, double *d) {
    size_t n = s->n_feat;
    switch (s->kernel) {
    case K_LINEAR:
        return dot(x, y, n);
    case K_POLY:
        return powi(s->gamma * dot(x, y, n) + s->coef0, s->degree);
    case K_RBF:
        for (size_t i = 0; i < n; i++) d[i] = x[i] - y[i];
        return exp(-s->gamma * dot(d, d, n));
    default:
        return tanh(s->gamma * dot(x, y, n) + s->coef0);
    }
}

/* The sparse build's Kernel::k_function(x, sv): x is the row's nonzeros
 * (xi columns, increasing; xv values), as sklearn converts X to CSR; dot
 * products add the products of columns both have, rbf the squared
 * differences over the columns either has, in increasing column order. */
static double kernel_csr(const svm_model *s, const size_t *xi, const double *xv, size_t xn, size_t sv) {
    const size_t *yi = s->sv_idx + s->sv_ptr[sv];
    const double *yv = s->sv_val + s->sv_ptr[sv];
    size_t yn = s->sv_ptr[sv + 1] - s->sv_ptr[sv], a = 0, b = 0;
    double sum = 0;
    if (s->kernel == K_RBF) {
        while (a < xn && b < yn) {
            if (xi[a] == yi[b]) {
                double d = xv[a] - yv[b];
                sum += d * d;
                a++;
                b++;
            } else if (xi[a] > yi[b]) {
                sum += yv[b] * yv[b];
                b++;
            } else {
                sum += xv[a] * xv[a];
                a++;
            }
        }
        for (; a < xn; a++) sum += xv[a] * xv[a];
        for (; b < yn; b++) sum += yv[b] * yv[b];
        return exp(-s->gamma * sum);
    }
    while (a < xn && b < yn) {
        if (xi[a] == yi[b]) {
            sum += xv[a] * yv[b];
            a++;
            b++;
        } else if (xi[a] > yi[b]) {
            b++;
        } else {
            a++;
        }
    }
    if (s->kernel == K_LINEAR) return sum;
    if (s->kernel == K_POLY) return powi(s->gamma * sum + s->coef0, s->degree);
    return tanh(s->gamma * sum + s->coef0);
}

/* svm_predict_values: dec[n_pairs]; returns the voted class index
 * (classifiers) or 0.  kv: n_sv scratch, d: n_feat scratch (sparse fits:
 * the row's nonzero values, their columns in xi), vote: n_class. */
static size_t predict_values(const svm_model *s, const double *x, double *dec, double *kv, double *d, size_t *xi,
                             size_t *vote) {
    if (s->sparse) {
        size_t xn = 0;
        for (size_t j = 0; j < s->n_feat; j++) {
            if (x[j] == 0) continue;
            xi[xn] = j;
            d[xn++] = x[j];
        }
        for (size_t i = 0; i < s->n_sv; i++) kv[i] = kernel_csr(s, xi, d, xn, i);
    } else {
        for (size_t i = 0; i < s->n_sv; i++) kv[i] = kernel(s, x, s->sv + i * s->n_feat, d);
    }
    if (!is_svc(s)) {
        double sum = 0;
        for (size_t i = 0; i < s->n_sv; i++) sum += s->coef[i] * kv[i];
        sum -= s->rho[0];
        dec[0] = sum;
        return 0;
    }
    size_t nc = s->n_class, p = 0;
    for (size_t i = 0; i < nc; i++) vote[i] = 0;
    for (size_t i = 0; i < nc; i++) {
        for (size_t j = i + 1; j < nc; j++) {
            double sum = 0;
            size_t si = s->start[i], sj = s->start[j], ci = s->count[i], cj = s->count[j];
            const double *coef1 = s->coef + (j - 1) * s->n_sv;
            const double *coef2 = s->coef + i * s->n_sv;
            for (size_t k = 0; k < ci; k++) sum += coef1[si + k] * kv[si + k];
            for (size_t k = 0; k < cj; k++) sum += coef2[sj + k] * kv[sj + k];
            sum -= s->rho[p];
            dec[p] = sum;
            if (dec[p] > 0) ++vote[i];
            else ++vote[j];
            p++;
        }
    }
    size_t best = 0;
    for (size_t i = 1; i < nc; i++)
        if (vote[i] > vote[best]) best = i;
    return best;
}

/* sklearn.utils.multiclass._ovr_decision_function(dec < 0, -dec, nc). */
static void ovr_decision(const double *dec, size_t nc, double *out, double *conf) {
    size_t k = 0;
    for (size_t i = 0; i < nc; i++) out[i] = conf[i] = 0.0;
    for (size_t i = 0; i < nc; i++) {
        for (size_t j = i + 1; j < nc; j++) {
            double c = -dec[k];
            conf[i] -= c;
            conf[j] += c;
            if (dec[k] < 0) out[j] += 1;
            else out[i] += 1;
            k++;
        }
    }
    for (size_t i = 0; i < nc; i++) out[i] = out[i] + conf[i] / (3 * (fabs(conf[i]) + 1));
}

static double sigmoid_predict(double decision_value, double a, double b) {
    double fApB = decision_value * a + b;
    if (fApB >= 0) return exp(-fApB) / (1.0 + exp(-fApB));
    return 1.0 / (1 + exp(fApB));
}

/* libsvm's multiclass_probability(k, r, p): r and q are k*k, qp k. */
static void multiclass_probability(size_t k, const double *r, double *p, double *q, double *qp) {
    size_t max_iter = k > 100 ? k : 100;
    double eps = 0.005 / (double)k;
    for (size_t t = 0; t < k; t++) {
        p[t] = 1.0 / (double)k;
        q[t * k + t] = 0;
        for (size_t j = 0; j < t; j++) {
            q[t * k + t] += r[j * k + t] * r[j * k + t];
            q[t * k + j] = q[j * k + t];
        }
        for (size_t j = t + 1; j < k; j++) {
            q[t * k + t] += r[j * k + t] * r[j * k + t];
            q[t * k + j] = -r[j * k + t] * r[t * k + j];
        }
    }
    for (size_t iter = 0; iter < max_iter; iter++) {
        double pqp = 0;
        for (size_t t = 0; t < k; t++) {
            qp[t] = 0;
            for (size_t j = 0; j < k; j++) qp[t] += q[t * k + j] * p[j];
            pqp += p[t] * qp[t];
        }
        double max_error = 0;
        for (size_t t = 0; t < k; t++) {
            double error = fabs(qp[t] - pqp);
            if (error > max_error) max_error = error;
        }
        if (max_error < eps) break;
        for (size_t t = 0; t < k; t++) {
            double diff = (-qp[t] + pqp) / q[t * k + t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t * k + t] + 2 * qp[t])) / (1 + diff) / (1 + diff);
            for (size_t j = 0; j < k; j++) {
                qp[j] = (qp[j] + diff * q[t * k + j]) / (1 + diff);
                p[j] /= (1 + diff);
            }
        }
    }
}

static double clip_prob(double v) {
    const double min_prob = 1e-7;
    double hi = v > min_prob ? v : min_prob;        /* max(v, min_prob) */
    return hi < 1 - min_prob ? hi : 1 - min_prob;   /* min(., 1 - min_prob) */
}

static brine_status svm_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                brine_error *err) {
    const svm_model *s = m->impl;
    brine_status st = be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, 0, err);
    if (st) return st;
    if (method == BRINE_METHOD_PREDICT && is_svc(s) && s->break_ties && !s->ovr)
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "break_ties must be False when decision_function_shape is "
                              "'ovo' (sklearn refuses to predict)");
    size_t nc = s->n_class, np_ = s->n_pairs;
    int proba = method == BRINE_METHOD_PREDICT_PROBA || method == BRINE_METHOD_PREDICT_LOG_PROBA;
    /* scratch: kv n_sv, d n_feat, dec n_pairs, ovr nc, conf nc, votes nc,
     * and for probabilities r, q (nc * nc) and qp (nc) */
    size_t nq = proba ? nc * nc : 0;
    size_t cells = s->n_sv + s->n_feat + np_ + 3 * nc + 2 * nq + nc + 1;
    double *buf = malloc(cells * sizeof *buf);
    size_t *vote = malloc((nc + 1) * sizeof *vote);
    size_t *xi = malloc((s->n_feat + 1) * sizeof *xi);
    if (!buf || !vote || !xi) {
        free(buf);
        free(vote);
        free(xi);
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu support vectors", s->n_sv);
    }
    double *kv = buf, *d = kv + s->n_sv, *dec = d + s->n_feat, *ovr = dec + np_, *conf = ovr + nc;
    double *r = conf + nc, *q = r + nq, *qp = q + nq;
    for (size_t row = 0; row < in->n_rows; row++) {
        const double *x = in->xd + row * in->n_cols;
        size_t voted = predict_values(s, x, dec, kv, d, xi, vote);
        switch (method) {
        case BRINE_METHOD_PREDICT:
            if (s->impl == IMPL_ONE_CLASS) {
                out->indices[row] = dec[0] > 0; /* classes -1, +1 */
            } else if (!is_svc(s)) {
                out->values[row] = dec[0];
            } else if (s->break_ties && s->ovr && nc > 2) {
                ovr_decision(dec, nc, ovr, conf);
                out->indices[row] = (int64_t)be_argmax(ovr, nc);
            } else {
                out->indices[row] = (int64_t)voted;
            }
            break;
        case BRINE_METHOD_DECISION_FUNCTION:
            if (!is_svc(s)) {
                out->values[row] = dec[0];
            } else if (nc == 2) {
                out->values[row] = -dec[0];
            } else if (s->ovr) {
                ovr_decision(dec, nc, out->values + row * nc, conf);
            } else {
                memcpy(out->values + row * np_, dec, np_ * sizeof *dec);
            }
            break;
        case BRINE_METHOD_SCORE_SAMPLES:
            out->values[row] = dec[0] + s->offset;
            break;
        default: {
            size_t k = 0;
            for (size_t i = 0; i < nc; i++) {
                for (size_t j = i + 1; j < nc; j++) {
                    r[i * nc + j] = clip_prob(sigmoid_predict(dec[k], s->prob_a[k], s->prob_b[k]));
                    r[j * nc + i] = 1 - r[i * nc + j];
                    k++;
                }
            }
            double *p = out->values + row * nc;
            multiclass_probability(nc, r, p, q, qp);
            if (method == BRINE_METHOD_PREDICT_LOG_PROBA)
                for (size_t i = 0; i < nc; i++) p[i] = log(p[i]);
            break;
        }
        }
    }
    free(buf);
    free(vote);
    free(xi);
    return BRINE_OK;
}

const be_family be_svm_family = {"svm", svm_load, svm_predict, NULL, svm_columns, BE_FAM_FLOAT64};
