/* cluster.c — KMeans and MiniBatchKMeans (sklearn.cluster), PCA and
 * TruncatedSVD (sklearn.decomposition): estimators whose fitted state is a
 * matrix of centres or components, all computed in float64 as sklearn 1.2.1
 * does with float64 input.
 *
 * KMeans / MiniBatchKMeans (family "kmeans"):
 *   predict   sklearn's _labels_inertia (lloyd_iter_chunked_dense without
 *             updating centres): for each row the distance to centre j is
 *             ||c_j||^2 + (-2 x.c_j) (the row's own ||x||^2 left out, as it
 *             does not change the argmin), and the label is the first j with
 *             the strictly smallest value.  Labels are 0 .. n_clusters - 1
 *             (sklearn's int32), given as the model's classes.  Sample
 *             weights do not change labels.  Centres of float32 (a fit on
 *             float32 rows): rows are rounded to float32 and the distances
 *             summed in float32, as sklearn does for float32 rows (it
 *             refuses float64 rows for such a model).
 *   transform euclidean_distances(X, cluster_centers_):
 *             sqrt(max(((-2 x.c_j) + ||x||^2) + ||c_j||^2, 0)); float32
 *             centres: that sum in float64 on the float32 values, rounded
 *             to float32 before max and sqrt (_euclidean_distances_upcast).
 * MeanShift, AffinityPropagation (family "kmeans" too): predict only,
 *             pairwise_distances_argmin(X, cluster_centers_): the same
 *             ||c_j||^2 + (-2 x.c_j) and first minimum (sklearn's ArgKmin
 *             keeps the first of equal distances), int64 labels; an
 *             AffinityPropagation that did not converge (no centres)
 *             labels every row -1, one of affinity='precomputed' has no
 *             predict.
 * BisectingKMeans (family "kmeans"): predict walks _bisecting_tree, each
 *             node sending a row to the nearer child centre (+ _X_mean) as
 *             _labels_inertia on those two does, down to a leaf's label;
 *             transform as KMeans.
 * Birch (family "kmeans"): predict subcluster_labels_[argmin] of the same
 *             distances to subcluster_centers_ (pairwise_distances_argmin),
 *             transform euclidean_distances to subcluster_centers_.
 * PCA, IncrementalPCA, TruncatedSVD, FastICA (family "decomposition"):
 *   transform PCA: (x - mean_) @ components_.T, divided by
 *             sqrt(explained_variance_) when whiten (files of sklearn >=
 *             1.5: x @ components_.T - mean_ @ components_.T, the square
 *             root clipped below at DBL_EPSILON, as those versions compute
 *             it; IncrementalPCA alike, _BasePCA's transform); TruncatedSVD:
 *             x @ components_.T; FastICA: (x - mean_) @ components_.T when it
 *             whitened (_whiten), else x @ components_.T.
 *             FactorAnalysis: ((x - mean_) @ W.T) @ inv(I + W @
 *             components_.T), W = components_ / noise_variance_.
 *   score_samples (PCA): sklearn 1.2.1's get_precision() (the matrix
 *             inversion lemma, or the inverse of get_covariance() when
 *             noise_variance_ is 0) and fast_logdet, with brine's own
 *             partial-pivoting inverse and LU, per call.
 * sklearn computes the dot products with BLAS; brine sums each one left to
 * right, which agrees within 1e-9 relative (CONVENTIONS).  NaN and infinite
 * input are refused, as sklearn's check_array does.  Neither family writes
 * files itself: .save is NULL (the generic writer). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

/* A required 2-D fitted matrix with at least one row and column. */
static brine_status read_2d(brine_model *m, const bv *state, const char *key, be_matrix *out, brine_error *err) {
    const bv *v = bv_dict_get(state, key);
    if (is_none(v)) return be_fail(err, m, "is not fitted (%s is %s)", key, v ? "None" : "missing");
    brine_status st = be_read_matrix(m, v, key, 2, out, err);
    if (st) return st;
    if (out->ndim != 2) return be_fail(err, m, "%s has %d dimensions, not 2", key, out->ndim);
    if (!out->rows || !out->cols) return be_fail(err, m, "%s is empty (shape (%zu, %zu))", key, out->rows, out->cols);
    return BRINE_OK;
}

/* dot product of two float64 vectors, left to right */
static double dot(const double *a, const double *b, size_t n) {
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += a[k] * b[k];
    return s;
}

/* --------------------------------------------------------------- KMeans */

static float dotf(const float *a, const float *b, size_t n) {
    float s = 0.0f;
    for (size_t k = 0; k < n; k++) s += a[k] * b[k];
    return s;
}

typedef struct km_model {
    size_t k, n;        /* clusters, features */
    double *centers;    /* k * n */
    double *cnorm;      /* k: ||c_j||^2 */
    /* cluster_centers_ of float32 (fitted on float32 rows): sklearn then
     * refuses float64 rows and computes float32 ones in float32, so brine
     * rounds the rows to float32 and does the same. */
    int f32;
    float *cf;          /* k * n: the centres as float32 */
    float *cnormf;      /* k: ||c_j||^2 summed in float32 */
    /* MeanShift, AffinityPropagation: predict only (pairwise_distances_argmin,
     * int64 labels); an AffinityPropagation that did not converge has no
     * centres and labels every row -1; one of affinity='precomputed' has no
     * predict. */
    int argmin_only, no_predict;
    int birch;          /* Birch: subcluster_centers_, labels subcluster_labels_[argmin] */
    /* BisectingKMeans: predict walks _bisecting_tree (node 0 the root). */
    struct bk_node *tree;
    size_t n_nodes;
} km_model;

/* One node of BisectingKMeans' _bisecting_tree: internal nodes send a row
 * to the nearer of their children's centres (+ _X_mean), as _labels_inertia
 * on those two (left on a tie); leaves give their label. */
typedef struct bk_node {
    int32_t left, right; /* node indices; -1 for a leaf */
    int64_t label;       /* leaves */
    double *c;           /* internal: 2 * n, the left then the right centre */
    double cn[2];        /* their squared norms */
} bk_node;

/* One row of a float32 model: labels as lloyd's float32 gemm gives them;
 * distances as euclidean_distances' float32 path (_euclidean_distances_upcast:
 * float64 arithmetic on the float32 values, rounded to float32, then
 * max(., 0) and sqrt in float32). */
static void kmeans_row_f32(const km_model *km, brine_method method, const double *x, float *xf, int64_t *label,
                           double *dist) {
    for (size_t f = 0; f < km->n; f++) xf[f] = (float)x[f];
    if (method == BRINE_METHOD_PREDICT) {
        size_t best_j = 0;
        float best = 0.0f;
        for (size_t j = 0; j < km->k; j++) {
            float d = km->cnormf[j] + -2.0f * dotf(xf, km->cf + j * km->n, km->n);
            if (j == 0 || d < best) {
                best = d;
                best_j = j;
            }
        }
        *label = (int64_t)best_j;
        return;
    }
    double xx = 0.0;
    for (size_t f = 0; f < km->n; f++) xx += (double)xf[f] * (double)xf[f];
    for (size_t j = 0; j < km->k; j++) {
        double dp = 0.0;
        for (size_t f = 0; f < km->n; f++) dp += (double)xf[f] * km->centers[j * km->n + f];
        double d = -2.0 * dp;
        d += xx;
        d += km->cnorm[j];
        float df = (float)d;
        dist[j] = sqrtf(df >= 0.0f || isnan(df) ? df : 0.0f);
    }
}

static const bv *node_state(const bv *v) {
    return v && v->kind == BRINE_OBJECT && v->u.obj.state && v->u.obj.state->kind == BRINE_DICT ? v->u.obj.state : NULL;
}

/* _bisecting_tree into km->tree, breadth-first; at most 2k - 1 nodes (a
 * shared or cyclic node runs over that bound and fails). */
static brine_status bisect_load(brine_model *m, const bv *state, km_model *km, brine_error *err) {
    const bv *root = bv_dict_get(state, "_bisecting_tree");
    if (!node_state(root)) return be_fail(err, m, "_bisecting_tree is not a _BisectingTree");
    double *mean = NULL;
    const bv *mv = bv_dict_get(state, "_X_mean");
    brine_status st;
    if (mv && !is_none(mv)) {
        be_matrix a;
        if ((st = be_read_matrix(m, mv, "_X_mean", 1, &a, err))) return st;
        if (a.ndim != 1 || a.cols != km->n) return be_fail(err, m, "_X_mean has %zu values, not %zu", a.rows * a.cols, km->n);
        mean = a.v;
    }
    size_t cap = 2 * km->k - 1;
    const bv **objs = be_alloc(m, cap, sizeof *objs);
    km->tree = be_alloc(m, cap, sizeof *km->tree);
    if (!objs || !km->tree) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    objs[0] = root;
    size_t n = 1;
    for (size_t i = 0; i < n; i++) {
        const bv *ns = node_state(objs[i]);
        bk_node *t = &km->tree[i];
        const bv *l = bv_dict_get(ns, "left"), *r = bv_dict_get(ns, "right");
        if (is_none(l) && is_none(r)) {
            t->left = t->right = -1;
            if (!be_get_int(bv_dict_get(ns, "label"), &t->label) || t->label < 0 || (uint64_t)t->label >= km->k)
                return be_fail(err, m, "_bisecting_tree: a leaf's label is not a cluster index below %zu", km->k);
            continue;
        }
        if (!node_state(l) || !node_state(r)) return be_fail(err, m, "_bisecting_tree: a node has one child");
        if (n + 2 > cap) return be_fail(err, m, "_bisecting_tree has more than %zu nodes for %zu clusters", cap, km->k);
        t->c = be_alloc(m, 2 * km->n, sizeof *t->c);
        if (!t->c) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        for (int side = 0; side < 2; side++) {
            be_matrix c;
            const bv *child = side ? r : l;
            if ((st = be_read_matrix(m, bv_dict_get(node_state(child), "center"), "_bisecting_tree center", 1, &c, err)))
                return st;
            if (c.ndim != 1 || c.cols != km->n)
                return be_fail(err, m, "_bisecting_tree: a center has %zu values, not %zu", c.rows * c.cols, km->n);
            double *dst = t->c + side * km->n;
            for (size_t f = 0; f < km->n; f++) dst[f] = mean ? c.v[f] + mean[f] : c.v[f];
            t->cn[side] = dot(dst, dst, km->n);
            objs[n] = child;
            if (side) t->right = (int32_t)n;
            else t->left = (int32_t)n;
            n++;
        }
    }
    km->n_nodes = n;
    return BRINE_OK;
}

static int64_t bisect_label(const km_model *km, const double *x) {
    const bk_node *t = &km->tree[0];
    while (t->left >= 0) {
        double d0 = t->cn[0] + -2.0 * dot(x, t->c, km->n);
        double d1 = t->cn[1] + -2.0 * dot(x, t->c + km->n, km->n);
        t = &km->tree[d1 < d0 ? t->right : t->left];
    }
    return t->label;
}

static brine_status kmeans_load(brine_model *m, const bv *state, brine_error *err) {
    km_model *km = be_alloc(m, 1, sizeof *km);
    if (!km) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    be_matrix c;
    int ap = !strcmp(m->short_name, "AffinityPropagation");
    km->argmin_only = ap || !strcmp(m->short_name, "MeanShift");
    km->birch = !strcmp(m->short_name, "Birch");
    const char *centres = km->birch ? "subcluster_centers_" : "cluster_centers_";
    brine_status st = be_read_n_features(m, state, &m->n_features_in, err);
    if (!st && ap) {
        /* cluster_centers_ may be empty (no convergence) */
        const bv *cv = bv_dict_get(state, "cluster_centers_");
        if (is_none(cv)) return be_fail(err, m, "is not fitted (cluster_centers_ is %s)", cv ? "None" : "missing");
        st = be_read_matrix(m, cv, "cluster_centers_", 2, &c, err);
        if (!st && c.ndim != 2) return be_fail(err, m, "cluster_centers_ has %d dimensions, not 2", c.ndim);
        if (!st && !c.cols) return be_fail(err, m, "cluster_centers_ has no columns");
        km->no_predict = bv_is_str(bv_dict_get(state, "affinity"), "precomputed");
    } else if (!st) {
        st = read_2d(m, state, centres, &c, err);
    }
    if (!st) st = be_check_width(m, (int64_t)c.cols, centres, err);
    if (st) return st;
    km->k = c.rows;
    km->n = c.cols;
    km->centers = c.v;
    km->cnorm = be_alloc(m, km->k + 1, sizeof *km->cnorm);
    /* predict's labels 0 .. k-1, as sklearn's int32 array holds them
     * (int64 for pairwise_distances_argmin; -1 alone without centres) */
    m->classes = be_alloc(m, 1, sizeof *m->classes);
    if (!km->cnorm || !m->classes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    m->classes->labels = be_alloc(m, km->k + 1, sizeof *m->classes->labels);
    if (!m->classes->labels) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    m->classes->n = km->k ? km->k : 1;
    m->classes->dtype_kind = 'i';
    m->classes->dtype_itemsize = km->argmin_only ? 8 : 4;
    m->classes->labels[0].kind = BRINE_LABEL_INT;
    m->classes->labels[0].i = -1;
    for (size_t j = 0; j < km->k; j++) {
        const double *cj = km->centers + j * km->n;
        km->cnorm[j] = dot(cj, cj, km->n);
        m->classes->labels[j].kind = BRINE_LABEL_INT;
        m->classes->labels[j].i = (int64_t)j;
    }
    if (km->birch) {
        /* predict gives subcluster_labels_[argmin]: one label per centre */
        const bv *lv = bv_dict_get(state, "subcluster_labels_");
        if (is_none(lv)) return be_fail(err, m, "subcluster_labels_ is %s", lv ? "None" : "missing");
        if ((st = be_read_labels(m, lv, "subcluster_labels_", m->classes, err))) return st;
        if (m->classes->n != km->k)
            return be_fail(err, m, "subcluster_labels_ has %zu labels but subcluster_centers_ has %zu rows",
                           m->classes->n, km->k);
    }
    if (!strcmp(m->short_name, "BisectingKMeans") && (st = bisect_load(m, state, km, err))) return st;
    const bv_array *ca = be_array(bv_dict_get(state, "cluster_centers_"));
    km->f32 = !km->argmin_only && !km->birch && !km->tree && ca && be_dtype_is(ca->dtype, 'f', 4);
    if (km->f32) {
        km->cf = be_alloc(m, km->k * km->n, sizeof *km->cf);
        km->cnormf = be_alloc(m, km->k, sizeof *km->cnormf);
        if (!km->cf || !km->cnormf) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        for (size_t i = 0; i < km->k * km->n; i++) km->cf[i] = (float)km->centers[i];
        for (size_t j = 0; j < km->k; j++) km->cnormf[j] = dotf(km->cf + j * km->n, km->cf + j * km->n, km->n);
    }
    m->n_outputs = 1;
    m->n_estimators = 1;
    m->impl = km;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t kmeans_columns(const brine_model *m, brine_method method) {
    const km_model *km = m->impl;
    if (method == BRINE_METHOD_PREDICT) return km->no_predict ? BE_NO_METHOD : 1;
    if (method == BRINE_METHOD_TRANSFORM && !km->argmin_only) return km->k;
    return BE_NO_METHOD;
}

static brine_status kmeans_predict(const brine_model *m, brine_method method, const be_input *in,
                                   brine_prediction *out, brine_error *err) {
    const km_model *km = m->impl;
    brine_status st = be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, 0, err);
    if (st) return st;
    if (km->f32) {
        float *xf = malloc((km->n + 1) * sizeof *xf);
        if (!xf) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        for (size_t r = 0; r < in->n_rows; r++)
            kmeans_row_f32(km, method, in->xd + r * km->n, xf, out->indices ? out->indices + r : NULL,
                           out->values ? out->values + r * km->k : NULL);
        free(xf);
        return BRINE_OK;
    }
    for (size_t r = 0; r < in->n_rows; r++) {
        const double *x = in->xd + r * km->n;
        if (method == BRINE_METHOD_PREDICT && !km->k) { /* AffinityPropagation without centres */
            out->indices[r] = 0;
            continue;
        }
        if (method == BRINE_METHOD_PREDICT && km->tree) {
            out->indices[r] = bisect_label(km, x);
            continue;
        }
        if (method == BRINE_METHOD_PREDICT) {
            size_t label = 0;
            double best = 0.0;
            for (size_t j = 0; j < km->k; j++) {
                double d = km->cnorm[j] + -2.0 * dot(x, km->centers + j * km->n, km->n);
                if (j == 0 || d < best) {
                    best = d;
                    label = j;
                }
            }
            out->indices[r] = (int64_t)label;
            continue;
        }
        double xx = dot(x, x, km->n);
        for (size_t j = 0; j < km->k; j++) {
            double d = -2.0 * dot(x, km->centers + j * km->n, km->n);
            d += xx;
            d += km->cnorm[j];
            out->values[r * km->k + j] = sqrt(d >= 0.0 || isnan(d) ? d : 0.0);
        }
    }
    return BRINE_OK;
}

const be_family be_kmeans_family = {"kmeans", kmeans_load, kmeans_predict, NULL, kmeans_columns, BE_FAM_FLOAT64};

/* ------------------------------------------------- PCA and TruncatedSVD */

typedef struct dec_model {
    size_t k, n;       /* components, features */
    double *comp;      /* k * n */
    double *mean;      /* n, or NULL (TruncatedSVD; PCA with mean_ None) */
    double *scale;     /* k: sqrt(explained_variance_) when whitening, else NULL */
    double *mc;        /* sklearn >= 1.5: k values mean_ @ components_.T, subtracted
                          after the product instead of centring x first */
    /* PCA.score_samples: the probabilistic PCA model's parameters */
    int scores;        /* the model has them (PCA with mean_ and noise_variance_) */
    double *ev;        /* k: explained_variance_ */
    double noise;      /* noise_variance_ */
    int whiten;
    /* FactorAnalysis: transform = ((x - mean_) @ wpsi.T) @ cov_z */
    double *wpsi;      /* k * n: components_ / noise_variance_ */
    double *cov_z;     /* k * k: inv(I + wpsi @ components_.T) */
} dec_model;

/* PCA.score_samples is computed with an n_features^2 precision matrix (and,
 * when noise_variance_ is 0, an n_features^3 inverse) per call; wider
 * models are refused. */
enum { PCA_SCORE_MAX_FEATURES = 1024 };

/* Gauss-Jordan inverse of the n x n matrix a (destroyed) into inv, with
 * partial pivoting as LAPACK's getrf; 0 when a is singular. */
static int invert(double *a, double *inv, size_t n) {
    for (size_t i = 0; i < n * n; i++) inv[i] = 0.0;
    for (size_t i = 0; i < n; i++) inv[i * n + i] = 1.0;
    for (size_t c = 0; c < n; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[piv * n + c])) piv = r;
        if (a[piv * n + c] == 0.0 || isnan(a[piv * n + c])) return 0;
        if (piv != c) {
            for (size_t j = 0; j < n; j++) {
                double t = a[c * n + j];
                a[c * n + j] = a[piv * n + j];
                a[piv * n + j] = t;
                t = inv[c * n + j];
                inv[c * n + j] = inv[piv * n + j];
                inv[piv * n + j] = t;
            }
        }
        double p = a[c * n + c];
        for (size_t j = 0; j < n; j++) {
            a[c * n + j] /= p;
            inv[c * n + j] /= p;
        }
        for (size_t r = 0; r < n; r++) {
            double f = a[r * n + c];
            if (r == c || f == 0.0) continue;
            for (size_t j = 0; j < n; j++) {
                a[r * n + j] -= f * a[c * n + j];
                inv[r * n + j] -= f * inv[c * n + j];
            }
        }
    }
    return 1;
}

/* numpy.linalg.slogdet through an LU factorisation with partial pivoting
 * (a destroyed): the log of |det| and its sign (0 for a singular matrix). */
static double slogdet(double *a, size_t n, int *sign) {
    double ld = 0.0;
    int sg = 1;
    for (size_t c = 0; c < n; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[piv * n + c])) piv = r;
        if (a[piv * n + c] == 0.0) {
            *sign = 0;
            return -INFINITY;
        }
        if (piv != c) {
            sg = -sg;
            for (size_t j = 0; j < n; j++) {
                double t = a[c * n + j];
                a[c * n + j] = a[piv * n + j];
                a[piv * n + j] = t;
            }
        }
        double p = a[c * n + c];
        if (p < 0) sg = -sg;
        ld += log(fabs(p));
        for (size_t r = c + 1; r < n; r++) {
            double f = a[r * n + c] / p;
            for (size_t j = c; j < n; j++) a[r * n + j] -= f * a[c * n + j];
        }
    }
    *sign = sg;
    return ld;
}

/* sklearn 1.2.1's get_precision() into P (n x n) and fast_logdet(P) into
 * *logdet; work has room for 2 n^2 + 3 k n + 2 k^2 + k doubles.  0 when a
 * matrix sklearn inverts is singular (sklearn raises LinAlgError). */
static int pca_precision(const dec_model *d, double *P, double *logdet, double *work) {
    size_t k = d->k, n = d->n;
    double *cp = work, *evd = cp + k * n, *S = evd + k, *Si = S + k * k, *T = Si + k * k, *tmp = T + k * n;
    for (size_t i = 0; i < k; i++) {
        double sc = d->whiten ? sqrt(d->ev[i]) : 1.0;
        for (size_t f = 0; f < n; f++) cp[i * n + f] = d->whiten ? d->comp[i * n + f] * sc : d->comp[i * n + f];
        evd[i] = d->ev[i] - d->noise > 0.0 ? d->ev[i] - d->noise : 0.0;
    }
    if (d->noise == 0.0) {
        /* linalg.inv(get_covariance()) */
        for (size_t a = 0; a < n; a++) {
            for (size_t b = 0; b < n; b++) {
                double acc = 0.0;
                for (size_t i = 0; i < k; i++) acc += (cp[i * n + a] * evd[i]) * cp[i * n + b];
                tmp[a * n + b] = acc;
            }
            tmp[a * n + a] += d->noise;
        }
        if (!invert(tmp, P, n)) return 0;
    } else {
        for (size_t i = 0; i < k; i++) {
            for (size_t j = 0; j < k; j++) S[i * k + j] = dot(cp + i * n, cp + j * n, n) / d->noise;
            S[i * k + i] += 1.0 / evd[i];
        }
        if (!invert(S, Si, k)) return 0;
        for (size_t i = 0; i < k; i++)
            for (size_t f = 0; f < n; f++) {
                double acc = 0.0;
                for (size_t j = 0; j < k; j++) acc += Si[i * k + j] * cp[j * n + f];
                T[i * n + f] = acc;
            }
        double nn = -(d->noise * d->noise);
        for (size_t a = 0; a < n; a++) {
            for (size_t b = 0; b < n; b++) {
                double acc = 0.0;
                for (size_t i = 0; i < k; i++) acc += cp[i * n + a] * T[i * n + b];
                P[a * n + b] = acc / nn;
            }
            P[a * n + a] += 1.0 / d->noise;
        }
    }
    memcpy(tmp, P, n * n * sizeof *tmp);
    int sign;
    double ld = slogdet(tmp, n, &sign);
    *logdet = sign > 0 ? ld : -INFINITY;
    return 1;
}

/* mean_: n values, or None when allowed (PCA). */
static brine_status read_mean(brine_model *m, const bv *state, dec_model *d, int none_ok, brine_error *err) {
    const bv *mv = bv_dict_get(state, "mean_");
    if (!mv || (!none_ok && is_none(mv))) return be_fail(err, m, "mean_ is %s", mv ? "None" : "missing");
    if (is_none(mv)) return BRINE_OK;
    be_matrix a;
    brine_status st = be_read_matrix(m, mv, "mean_", 1, &a, err);
    if (st) return st;
    if (a.ndim != 1 || a.cols != d->n)
        return be_fail(err, m, "mean_ has %zu values but components_ has %zu features", a.rows * a.cols, d->n);
    d->mean = a.v;
    return BRINE_OK;
}

/* FastICA centres X only when it whitened: _whiten (sklearn >= 1.1: False,
 * 'unit-variance' or 'arbitrary-variance'), else the whiten parameter. */
static brine_status ica_whitened(brine_model *m, const bv *state, int *out, brine_error *err) {
    const bv *w = bv_dict_get(state, "_whiten");
    if (!w) w = bv_dict_get(state, "whiten");
    int64_t b = 1; /* whiten=True is FastICA's default before 1.1 */
    if (!w || is_none(w)) b = w ? 0 : 1;
    else if (w->kind == BRINE_STR) b = !bv_is_str(w, "False");
    else if (!be_get_int(w, &b)) return be_fail(err, m, "_whiten is a %s, not a bool or str", brine_kind_name((brine_kind)w->kind));
    *out = b != 0;
    return BRINE_OK;
}

static brine_status decomp_load(brine_model *m, const bv *state, brine_error *err) {
    dec_model *d = be_alloc(m, 1, sizeof *d);
    if (!d) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    int pca = !strcmp(m->short_name, "PCA") || !strcmp(m->short_name, "IncrementalPCA");
    int ica = !strcmp(m->short_name, "FastICA");
    int fa = !strcmp(m->short_name, "FactorAnalysis");
    be_matrix c;
    brine_status st = be_read_n_features(m, state, &m->n_features_in, err);
    if (!st) st = read_2d(m, state, "components_", &c, err);
    if (!st) st = be_check_width(m, (int64_t)c.cols, "components_", err);
    if (st) return st;
    d->k = c.rows;
    d->n = c.cols;
    d->comp = c.v;
    if (fa) {
        if ((st = read_mean(m, state, d, 0, err))) return st;
        const bv *nv = bv_dict_get(state, "noise_variance_");
        if (is_none(nv)) return be_fail(err, m, "noise_variance_ is %s", nv ? "None" : "missing");
        be_matrix v;
        if ((st = be_read_matrix(m, nv, "noise_variance_", 1, &v, err))) return st;
        if (v.ndim != 1 || v.cols != d->n)
            return be_fail(err, m, "noise_variance_ has %zu values but components_ has %zu features", v.rows * v.cols, d->n);
        size_t k = d->k, n = d->n;
        if (k > n) return be_fail(err, m, "components_ has %zu rows for %zu features", k, n);
        if (k > 4096) /* a k^3 inverse at load */
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "%zu components (brine reads up to 4096)", k);
        d->wpsi = be_alloc(m, k * n, sizeof *d->wpsi);
        d->cov_z = be_alloc(m, k * k, sizeof *d->cov_z);
        double *a = be_alloc(m, k * k, sizeof *a);
        if (!d->wpsi || !d->cov_z || !a) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        for (size_t i = 0; i < k * n; i++) d->wpsi[i] = d->comp[i] / v.v[i % n];
        for (size_t i = 0; i < k; i++) {
            for (size_t j = 0; j < k; j++) a[i * k + j] = (i == j ? 1.0 : 0.0) + dot(d->wpsi + i * n, d->comp + j * n, n);
        }
        if (!invert(a, d->cov_z, k))
            return be_fail(err, m, "I + (components_ / noise_variance_) @ components_.T is singular");
    }
    if (ica) {
        int whitened = 0;
        if ((st = ica_whitened(m, state, &whitened, err))) return st;
        if (whitened && (st = read_mean(m, state, d, 0, err))) return st;
    }
    if (pca) {
        if ((st = read_mean(m, state, d, 1, err))) return st;
        const bv *wv = bv_dict_get(state, "whiten");
        int64_t whiten = 0;
        if (wv && !is_none(wv) && !be_get_int(wv, &whiten))
            return be_fail(err, m, "whiten is a %s, not a bool", brine_kind_name((brine_kind)wv->kind));
        if (whiten) {
            const bv *ev = bv_dict_get(state, "explained_variance_");
            if (is_none(ev)) return be_fail(err, m, "explained_variance_ is %s but whiten is True", ev ? "None" : "missing");
            be_matrix e;
            if ((st = be_read_matrix(m, ev, "explained_variance_", 1, &e, err))) return st;
            if (e.ndim != 1 || e.cols != d->k)
                return be_fail(err, m, "explained_variance_ has %zu values but components_ has %zu rows", e.rows * e.cols,
                               d->k);
            d->scale = e.v;
            /* sklearn >= 1.5 clips the scale below at float64's epsilon */
            int clip = be_version_at_least(m, 1, 5, 0) == 1;
            for (size_t j = 0; j < d->k; j++) {
                d->scale[j] = sqrt(d->scale[j]);
                if (clip && d->scale[j] < DBL_EPSILON) d->scale[j] = DBL_EPSILON;
            }
        }
        if (!strcmp(m->short_name, "PCA") && d->mean) {
            /* score_samples: noise_variance_, explained_variance_ */
            const bv *nv = bv_dict_get(state, "noise_variance_");
            const bv *ev = bv_dict_get(state, "explained_variance_");
            be_matrix e;
            if (nv && !is_none(nv) && !be_get_double(nv, &d->noise))
                return be_fail(err, m, "noise_variance_ is a %s, not a number", brine_kind_name((brine_kind)nv->kind));
            if (nv && !is_none(nv) && !is_none(ev)) {
                if ((st = be_read_matrix(m, ev, "explained_variance_", 1, &e, err))) return st;
                if (e.ndim != 1 || e.cols != d->k)
                    return be_fail(err, m, "explained_variance_ has %zu values but components_ has %zu rows",
                                   e.rows * e.cols, d->k);
                d->ev = e.v;
                d->whiten = whiten != 0;
                d->scores = d->k <= d->n; /* as every PCA fit: sizes below stay n^2-bounded */
            }
        }
        if (d->mean && be_version_at_least(m, 1, 5, 0) == 1) {
            d->mc = be_alloc(m, d->k, sizeof *d->mc);
            if (!d->mc) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
            for (size_t j = 0; j < d->k; j++) d->mc[j] = dot(d->mean, d->comp + j * d->n, d->n);
        }
    }
    m->n_outputs = 1;
    m->n_estimators = 1;
    m->impl = d;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t decomp_columns(const brine_model *m, brine_method method) {
    const dec_model *d = m->impl;
    if (method == BRINE_METHOD_SCORE_SAMPLES) return d->scores ? 1 : BE_NO_METHOD;
    return method == BRINE_METHOD_TRANSFORM ? d->k : BE_NO_METHOD;
}

/* PCA.score_samples: -0.5 * sum((x - mean_) * ((x - mean_) @ P)) - 0.5 *
 * (n log(2 pi) - logdet(P)), P = get_precision(). */
static brine_status pca_score(const brine_model *m, const dec_model *d, const be_input *in, brine_prediction *out,
                              brine_error *err) {
    size_t n = d->n, k = d->k;
    if (n > PCA_SCORE_MAX_FEATURES)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "score_samples of %zu features (brine computes it up to %d)", n,
                              PCA_SCORE_MAX_FEATURES);
    double *P = malloc((3 * n * n + 3 * k * n + 2 * k * k + k + 2 * n + 1) * sizeof *P);
    if (!P) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    double *work = P + n * n, *xr = work + 2 * n * n + 3 * k * n + 2 * k * k + k, *q = xr + n;
    double logdet;
    if (!pca_precision(d, P, &logdet, work)) {
        free(P);
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "score_samples: the model's precision matrix is singular "
                                                        "(sklearn raises LinAlgError)");
    }
    double cst = 0.5 * ((double)n * log(2.0 * M_PI) - logdet);
    for (size_t r = 0; r < in->n_rows; r++) {
        const double *x = in->xd + r * n;
        for (size_t f = 0; f < n; f++) xr[f] = x[f] - d->mean[f];
        for (size_t a = 0; a < n; a++) {
            double acc = 0.0;
            for (size_t b = 0; b < n; b++) acc += xr[b] * P[b * n + a];
            q[a] = xr[a] * acc;
        }
        out->values[r] = -0.5 * be_pairwise_sum(q, n) - cst;
    }
    free(P);
    return BRINE_OK;
}

static brine_status decomp_predict(const brine_model *m, brine_method method, const be_input *in,
                                   brine_prediction *out, brine_error *err) {
    const dec_model *d = m->impl;
    brine_status st = be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, 0, err);
    if (st) return st;
    if (method == BRINE_METHOD_SCORE_SAMPLES) return pca_score(m, d, in, out, err);
    double *row = malloc((d->n + d->k + 1) * sizeof *row);
    if (!row) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t r = 0; r < in->n_rows; r++) {
        const double *x = in->xd + r * d->n;
        for (size_t f = 0; f < d->n; f++) row[f] = d->mean && !d->mc ? x[f] - d->mean[f] : x[f];
        if (d->cov_z) { /* FactorAnalysis */
            double *t = row + d->n;
            for (size_t i = 0; i < d->k; i++) t[i] = dot(row, d->wpsi + i * d->n, d->n);
            for (size_t j = 0; j < d->k; j++) {
                double acc = 0.0;
                for (size_t i = 0; i < d->k; i++) acc += t[i] * d->cov_z[i * d->k + j];
                out->values[r * d->k + j] = acc;
            }
            continue;
        }
        for (size_t j = 0; j < d->k; j++) {
            double t = dot(row, d->comp + j * d->n, d->n);
            if (d->mc) t -= d->mc[j];
            out->values[r * d->k + j] = d->scale ? t / d->scale[j] : t;
        }
    }
    free(row);
    return BRINE_OK;
}

const be_family be_decomposition_family = {"decomposition", decomp_load, decomp_predict, NULL, decomp_columns,
                                           BE_FAM_FLOAT64};

/* ------------------------------------- clusterers without predict or transform */

/* sklearn.cluster classes whose only way to label data is fit_predict on
 * the training data itself: there is nothing a fitted file can predict. */
static const char *const fit_predict_only[] = {"AgglomerativeClustering", "DBSCAN", "OPTICS", "SpectralClustering",
                                               "SpectralBiclustering", "SpectralCoclustering"};

const char *be_no_method_reason(const char *module, const char *name) {
    if (!module || !name || strncmp(module, "sklearn.cluster", 15) != 0) return NULL;
    for (size_t i = 0; i < sizeof fit_predict_only / sizeof *fit_predict_only; i++)
        if (!strcmp(name, fit_predict_only[i]))
            return "scikit-learn's estimator has no predict and no transform (only fit_predict, which labels the "
                   "data it is fitted on), so a fitted file of it cannot label new rows";
    return NULL;
}
