/* neighbors.c — sklearn.neighbors: KNeighborsClassifier,
 * KNeighborsRegressor and NearestCentroid.
 *
 * The k nearest neighbours are found as sklearn 1.2.1 finds them, so that
 * exactly tied distances pick the same neighbours in the same order:
 *
 *  brute     ArgKmin: one max-heap of k (sklearn.utils._heap.heap_push,
 *            which refuses a value >= the largest) per query, fed the
 *            fitted samples in index order, then simultaneous_sort (its
 *            quicksort with a median-of-three pivot).  When sklearn's
 *            "auto" strategy parallelises over the fitted samples
 *            (parallel_on_Y: fewer queries than fitted samples and at most
 *            4 * 256 queries), the heap is then pushed, in heap order, into
 *            a fresh heap before sorting, as its synchronisation step does.
 *            Euclidean distances rank by sklearn's GEMM form
 *            |x|^2 + (-2 x.y) + |y|^2 (clipped at 0; sqrt for weights).
 *  kd_tree   the fitted tree in _tree (data, idx_array, node_data,
 *  ball_tree node_bounds): the depth-first query of BinaryTree, nearer
 *            child first, a node skipped when its bound exceeds the
 *            largest distance kept, the same heap and sort.
 *
 * Reduced distances are sklearn's: squared euclidean, sum |d|^p
 * (minkowski), sum |d| (manhattan), max |d| (chebyshev).  predict is the
 * mode of the neighbours' labels (scipy's mode: the smallest label of the
 * largest count), or weighted_mode with weights 1/distance (a row with a
 * zero distance weighs its exact matches 1 and the others 0);
 * predict_proba the votes over pairwise-summed totals; the regressor the
 * mean of the neighbours' targets, or the weighted mean.  NearestCentroid
 * predicts classes_ of the nearest centroid (the first of equals). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

enum { NN_CLF, NN_REG, NN_CENTROID };
enum { MET_EUCLIDEAN, MET_MANHATTAN, MET_CHEBYSHEV, MET_MINKOWSKI };
enum { ALG_BRUTE, ALG_KD, ALG_BALL };

typedef struct nn_tree {
    int kind;          /* ALG_KD or ALG_BALL */
    size_t n_nodes;
    double *data;      /* n_fit * d: the tree's own copy of _fit_X */
    int64_t *idx;      /* idx_array: n_fit sample indices */
    int64_t *start, *end;
    uint8_t *leaf;
    double *radius;
    double *bounds;    /* kd: 2 * n_nodes * d (lower then upper); ball: n_nodes * d centroids */
} nn_tree;

typedef struct nn_model {
    int kind;          /* NN_* */
    size_t n_fit, d;
    double *fit_x;     /* n_fit * d (NearestCentroid: centroids_) */
    double *fit_norm;  /* euclidean: |y|^2 of each fitted row */
    size_t k;          /* n_neighbors (NearestCentroid: 1) */
    int metric;        /* MET_* */
    double p;          /* minkowski p */
    int distance;      /* weights == "distance" */
    int alg;           /* ALG_* */
    nn_tree *tree;
    size_t n_out;      /* outputs */
    int y_2d;          /* _y is 2-D */
    int32_t *y_idx;    /* classifier: n_fit * n_out class indices */
    double *y_val;     /* regressor: n_fit * n_out targets */
    size_t max_classes;
} nn_model;

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }
static int str_is(const bv *v, const char *s) { return v && bv_is_str(v, s); }

/* ----------------------------------------------------------- distances */

/* The reduced distance of sklearn's DistanceMetric (tree leaves, brute
 * force for every metric but euclidean). */
static double rdist(const nn_model *nm, const double *a, const double *b) {
    double d = 0.0;
    switch (nm->metric) {
    case MET_EUCLIDEAN:
        for (size_t j = 0; j < nm->d; j++) {
            double t = a[j] - b[j];
            d += t * t;
        }
        return d;
    case MET_MANHATTAN:
        for (size_t j = 0; j < nm->d; j++) d += fabs(a[j] - b[j]);
        return d;
    case MET_CHEBYSHEV:
        for (size_t j = 0; j < nm->d; j++) d = fmax(d, fabs(a[j] - b[j]));
        return d;
    default:
        for (size_t j = 0; j < nm->d; j++) d += pow(fabs(a[j] - b[j]), nm->p);
        return d;
    }
}

static double rdist_to_dist(const nn_model *nm, double r) {
    if (nm->metric == MET_EUCLIDEAN) return sqrt(r);
    if (nm->metric == MET_MINKOWSKI) return pow(r, 1. / nm->p);
    return r;
}

static double dist_to_rdist(const nn_model *nm, double d) {
    if (nm->metric == MET_EUCLIDEAN) return d * d;
    if (nm->metric == MET_MINKOWSKI) return pow(d, nm->p);
    return d;
}

/* ------------------------------------------------------ heap and sort */

/* sklearn.utils._heap.heap_push */
static void heap_push(double *values, int64_t *indices, size_t size, double val, int64_t val_idx) {
    if (val >= values[0]) return;
    values[0] = val;
    indices[0] = val_idx;
    size_t cur = 0;
    for (;;) {
        size_t l = 2 * cur + 1, r = l + 1, swap;
        if (l >= size) break;
        if (r >= size) {
            if (values[l] > val) swap = l;
            else break;
        } else if (values[l] >= values[r]) {
            if (val < values[l]) swap = l;
            else break;
        } else {
            if (val < values[r]) swap = r;
            else break;
        }
        values[cur] = values[swap];
        indices[cur] = indices[swap];
        cur = swap;
    }
    values[cur] = val;
    indices[cur] = val_idx;
}

static void dual_swap(double *v, int64_t *ix, size_t a, size_t b) {
    double t = v[a];
    v[a] = v[b];
    v[b] = t;
    int64_t u = ix[a];
    ix[a] = ix[b];
    ix[b] = u;
}

/* sklearn.utils._sorting.simultaneous_sort.  Its two recursive calls sort
 * disjoint ranges, so their order does not matter: brine recurses into the
 * smaller and loops on the larger, keeping the stack log2(size) deep
 * whatever the values. */
static void simultaneous_sort(double *v, int64_t *ix, size_t size) {
    while (size > 3) {
        size_t pivot_idx = size / 2;
        if (v[0] > v[size - 1]) dual_swap(v, ix, 0, size - 1);
        if (v[size - 1] > v[pivot_idx]) {
            dual_swap(v, ix, size - 1, pivot_idx);
            if (v[0] > v[size - 1]) dual_swap(v, ix, 0, size - 1);
        }
        double pivot_val = v[size - 1];
        size_t store = 0;
        for (size_t i = 0; i < size - 1; i++)
            if (v[i] < pivot_val) dual_swap(v, ix, i, store++);
        dual_swap(v, ix, store, size - 1);
        pivot_idx = store;
        size_t left = pivot_idx, right = size - pivot_idx - 1; /* sklearn sorts left if > 1, right if > 1 */
        if (left <= right) {
            if (left > 1) simultaneous_sort(v, ix, left);
            v += pivot_idx + 1;
            ix += pivot_idx + 1;
            size = right;
        } else {
            if (right > 1) simultaneous_sort(v + pivot_idx + 1, ix + pivot_idx + 1, right);
            size = left;
        }
        if (size <= 1) return;
    }
    if (size == 2) {
        if (v[0] > v[1]) dual_swap(v, ix, 0, 1);
    } else if (size == 3) {
        if (v[0] > v[1]) dual_swap(v, ix, 0, 1);
        if (v[1] > v[2]) {
            dual_swap(v, ix, 1, 2);
            if (v[0] > v[1]) dual_swap(v, ix, 0, 1);
        }
    }
}

/* ---------------------------------------------------------- the query */

typedef struct nn_work {
    double *hv, *hv2; /* k reduced distances (heap), and the merge heap */
    int64_t *hi, *hi2;
    double *dist;     /* k distances */
    double *w;        /* k weights */
    double *tmp;      /* max(k, classes) scratch */
} nn_work;

static double kd_min_rdist(const nn_model *nm, const nn_tree *t, size_t node, const double *pt) {
    const double *lo = t->bounds + node * nm->d, *hi = t->bounds + (t->n_nodes + node) * nm->d;
    double r = 0.0;
    int inf = nm->metric == MET_CHEBYSHEV;
    double p = nm->metric == MET_EUCLIDEAN ? 2.0 : nm->metric == MET_MANHATTAN ? 1.0 : nm->p;
    for (size_t j = 0; j < nm->d; j++) {
        double d_lo = lo[j] - pt[j];
        double d_hi = pt[j] - hi[j];
        double d = (d_lo + fabs(d_lo)) + (d_hi + fabs(d_hi));
        if (inf) r = fmax(r, 0.5 * d);
        else r += pow(0.5 * d, p);
    }
    return r;
}

static double ball_min_rdist(const nn_model *nm, const nn_tree *t, size_t node, const double *pt) {
    double dist_pt = rdist_to_dist(nm, rdist(nm, pt, t->bounds + node * nm->d));
    return dist_to_rdist(nm, fmax(0, dist_pt - t->radius[node]));
}

static double min_rdist(const nn_model *nm, const nn_tree *t, size_t node, const double *pt) {
    return t->kind == ALG_KD ? kd_min_rdist(nm, t, node, pt) : ball_min_rdist(nm, t, node, pt);
}

/* BinaryTree._query_single_depthfirst; children of node i are 2i+1 and
 * 2i+2 (checked at load), so the recursion is as deep as the tree. */
static void tree_query(const nn_model *nm, const nn_tree *t, size_t node, const double *pt, double lb, nn_work *w) {
    if (lb > w->hv[0]) return;
    if (t->leaf[node]) {
        for (int64_t i = t->start[node]; i < t->end[node]; i++) {
            int64_t s = t->idx[i];
            heap_push(w->hv, w->hi, nm->k, rdist(nm, pt, t->data + (size_t)s * nm->d), s);
        }
        return;
    }
    size_t i1 = 2 * node + 1, i2 = i1 + 1;
    double lb1 = min_rdist(nm, t, i1, pt), lb2 = min_rdist(nm, t, i2, pt);
    if (lb1 <= lb2) {
        tree_query(nm, t, i1, pt, lb1, w);
        tree_query(nm, t, i2, pt, lb2, w);
    } else {
        tree_query(nm, t, i2, pt, lb2, w);
        tree_query(nm, t, i1, pt, lb1, w);
    }
}

/* The k neighbours of pt, nearest first, in w->hi / w->dist. */
static void kneighbors(const nn_model *nm, const double *pt, size_t n_queries, nn_work *w) {
    size_t k = nm->k;
    if (nm->alg != ALG_BRUTE) {
        for (size_t j = 0; j < k; j++) {
            w->hv[j] = INFINITY;
            w->hi[j] = 0;
        }
        tree_query(nm, nm->tree, 0, pt, min_rdist(nm, nm->tree, 0, pt), w);
    } else {
        for (size_t j = 0; j < k; j++) {
            w->hv[j] = DBL_MAX;
            w->hi[j] = 0;
        }
        double xn = 0.0;
        if (nm->metric == MET_EUCLIDEAN)
            for (size_t j = 0; j < nm->d; j++) xn += pt[j] * pt[j];
        for (size_t s = 0; s < nm->n_fit; s++) {
            const double *y = nm->fit_x + s * nm->d;
            double r;
            if (nm->metric == MET_EUCLIDEAN) {
                double dot = 0.0;
                for (size_t j = 0; j < nm->d; j++) dot += pt[j] * y[j];
                r = xn + -2.0 * dot + nm->fit_norm[s];
                r = fmax(0., r);
            } else {
                r = rdist(nm, pt, y);
            }
            heap_push(w->hv, w->hi, k, r, (int64_t)s);
        }
        /* sklearn's "auto" strategy: parallel_on_Y unless there are more
         * queries than fitted samples or more than 4 * chunk (256) *
         * threads (brine assumes one) of them; its synchronisation pushes
         * the per-thread heap, in heap order, into the result heap. */
        int on_y = !(nm->n_fit < n_queries) && !(4 * 256 < n_queries);
        if (on_y && k > 1) {
            for (size_t j = 0; j < k; j++) {
                w->hv2[j] = DBL_MAX;
                w->hi2[j] = 0;
            }
            for (size_t j = 0; j < k; j++) heap_push(w->hv2, w->hi2, k, w->hv[j], w->hi[j]);
            memcpy(w->hv, w->hv2, k * sizeof *w->hv);
            memcpy(w->hi, w->hi2, k * sizeof *w->hi);
        }
    }
    simultaneous_sort(w->hv, w->hi, k);
    for (size_t j = 0; j < k; j++) {
        double r = nm->alg == ALG_BRUTE ? fmax(w->hv[j], 0.) : w->hv[j];
        w->dist[j] = rdist_to_dist(nm, r);
    }
}

/* sklearn's _get_weights for "distance": 1 / dist, and a row with a zero
 * distance weighs its zeros 1 and the rest 0. */
static void distance_weights(const nn_model *nm, nn_work *w) {
    int inf_row = 0;
    for (size_t j = 0; j < nm->k; j++) {
        w->w[j] = 1.0 / w->dist[j];
        inf_row |= isinf(w->w[j]);
    }
    if (inf_row)
        for (size_t j = 0; j < nm->k; j++) w->w[j] = isinf(w->w[j]) ? 1.0 : 0.0;
}

/* ------------------------------------------------------------ loading */

static brine_status read_metric(brine_model *m, const bv *state, nn_model *nm, brine_error *err) {
    const bv *em = bv_dict_get(state, "effective_metric_");
    const bv *params = bv_dict_get(state, "effective_metric_params_");
    if (!em || em->kind != BRINE_STR) return be_fail(err, m, "effective_metric_ is not a str");
    if (!is_none(params) && params->kind != BRINE_DICT) return be_fail(err, m, "effective_metric_params_ is not a dict");
    const bv *w = is_none(params) ? NULL : bv_dict_get(params, "w");
    const bv *pv = is_none(params) ? NULL : bv_dict_get(params, "p");
    if (!is_none(w)) return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "brine cannot use a weighted minkowski metric (w) yet");
    for (size_t i = 0; !is_none(params) && i < params->u.seq.n; i++) {
        const bv *key = params->u.seq.items[2 * i];
        if (!str_is(key, "p") && !str_is(key, "w"))
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "brine cannot use metric parameter %.*s",
                                  key->kind == BRINE_STR ? (int)key->u.s.n : 1,
                                  key->kind == BRINE_STR ? (const char *)key->u.s.p : "?");
    }
    if (str_is(em, "euclidean") || str_is(em, "l2")) nm->metric = MET_EUCLIDEAN;
    else if (str_is(em, "manhattan") || str_is(em, "cityblock") || str_is(em, "l1")) nm->metric = MET_MANHATTAN;
    else if (str_is(em, "chebyshev") || str_is(em, "infinity")) nm->metric = MET_CHEBYSHEV;
    else if (str_is(em, "minkowski")) {
        nm->metric = MET_MINKOWSKI;
        const bv *p = pv ? pv : bv_dict_get(state, "p");
        if (!be_get_double(p, &nm->p) || !(nm->p > 0)) return be_fail(err, m, "the minkowski p is not a positive number");
        if (nm->p == 1) nm->metric = MET_MANHATTAN;
        else if (nm->p == 2) nm->metric = MET_EUCLIDEAN;
        else if (isinf(nm->p)) nm->metric = MET_CHEBYSHEV;
    } else {
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m,
                              "brine cannot use metric '%.*s' (supported: euclidean, manhattan, chebyshev, minkowski)",
                              (int)em->u.s.n, (const char *)em->u.s.p);
    }
    return BRINE_OK;
}

/* One int64/float64 field of a structured record. */
static const bv_field *record_field(const bv_dtype *dt, const char *name, char kind) {
    for (size_t i = 0; i < dt->nfields; i++) {
        const bv_field *f = &dt->fields[i];
        if (f->name_len != strlen(name) || memcmp(f->name, name, f->name_len)) continue;
        if (!f->dtype || f->dtype->kind != BRINE_DTYPE) return NULL;
        const bv_dtype *fd = f->dtype->u.dt;
        if (fd->nfields || fd->subarray_base || fd->kind != kind || (kind == 'f' && fd->itemsize != 8) ||
            (kind == 'i' && fd->itemsize != 8 && fd->itemsize != 4) || f->offset > dt->itemsize ||
            dt->itemsize - f->offset < fd->itemsize)
            return NULL;
        return f;
    }
    return NULL;
}

static brine_status load_tree(brine_model *m, const bv *tv, nn_model *nm, brine_error *err) {
    if (!tv || tv->kind != BRINE_OBJECT) return be_fail(err, m, "_tree is not a KDTree or BallTree");
    const bv *args = tv->u.obj.args;
    const bv *cls = args && args->kind == BRINE_TUPLE && args->u.seq.n >= 1 ? args->u.seq.items[0] : NULL;
    const char *mod = cls && cls->kind == BRINE_GLOBAL ? cls->u.g.module : NULL;
    const char *tail = mod ? strrchr(mod, '.') : NULL;
    tail = tail ? tail + 1 : mod;
    int kind = tail && (!strcmp(tail, "_kd_tree") || !strcmp(tail, "kd_tree")) ? ALG_KD
               : tail && (!strcmp(tail, "_ball_tree") || !strcmp(tail, "ball_tree")) ? ALG_BALL : -1;
    if (kind != nm->alg) return be_fail(err, m, "_tree is not the %s _fit_method names", nm->alg == ALG_KD ? "KDTree" : "BallTree");
    const bv *st = tv->u.obj.state;
    if (!st || st->kind != BRINE_TUPLE || st->u.seq.n < 4) return be_fail(err, m, "_tree's state is not a tuple of its arrays");
    nn_tree *t = be_alloc(m, 1, sizeof *t);
    if (!t) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    t->kind = kind;
    be_matrix data;
    brine_status s = be_read_matrix(m, st->u.seq.items[0], "_tree.data", 2, &data, err);
    if (s) return s;
    if (data.ndim != 2 || data.rows != nm->n_fit || data.cols != nm->d)
        return be_fail(err, m, "_tree.data is not %zu x %zu like _fit_X", nm->n_fit, nm->d);
    t->data = data.v;
    const bv_array *ia = be_array(st->u.seq.items[1]);
    if (!ia || ia->ndim != 1 || (size_t)ia->count != nm->n_fit) return be_fail(err, m, "_tree.idx_array is not %zu indices", nm->n_fit);
    t->idx = be_alloc(m, nm->n_fit, sizeof *t->idx);
    if (!t->idx) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < nm->n_fit; i++)
        if (!be_array_int(ia, i, &t->idx[i]) || t->idx[i] < 0 || (uint64_t)t->idx[i] >= nm->n_fit)
            return be_fail(err, m, "_tree.idx_array[%zu] is not a sample index below %zu", i, nm->n_fit);
    const bv_array *na = be_array(st->u.seq.items[2]);
    const bv_dtype *nd = na ? na->dtype->u.dt : NULL;
    const bv_field *fs = nd ? record_field(nd, "idx_start", 'i') : NULL, *fe = nd ? record_field(nd, "idx_end", 'i') : NULL;
    const bv_field *fl = nd ? record_field(nd, "is_leaf", 'i') : NULL, *fr = nd ? record_field(nd, "radius", 'f') : NULL;
    if (!na || na->ndim != 1 || na->count < 1 || !fs || !fe || !fl || !fr || !na->data ||
        na->nbytes / nd->itemsize < (size_t)na->count)
        return be_fail(err, m, "_tree.node_data is not a 1-D array of (idx_start, idx_end, is_leaf, radius) records");
    size_t nn = (size_t)na->count;
    t->n_nodes = nn;
    t->start = be_alloc(m, nn, sizeof *t->start);
    t->end = be_alloc(m, nn, sizeof *t->end);
    t->leaf = be_alloc(m, nn, 1);
    t->radius = be_alloc(m, nn, sizeof *t->radius);
    if (!t->start || !t->end || !t->leaf || !t->radius) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < nn; i++) {
        const uint8_t *rec = na->data + i * nd->itemsize;
        int64_t leaf;
        if (!be_item_int(fs->dtype->u.dt, rec + fs->offset, &t->start[i]) ||
            !be_item_int(fe->dtype->u.dt, rec + fe->offset, &t->end[i]) ||
            !be_item_int(fl->dtype->u.dt, rec + fl->offset, &leaf) ||
            !be_item_double(fr->dtype->u.dt, rec + fr->offset, &t->radius[i]))
            return be_fail(err, m, "_tree.node_data[%zu] cannot be read", i);
        t->leaf[i] = leaf != 0;
        if (t->start[i] < 0 || t->start[i] > t->end[i] || (uint64_t)t->end[i] > nm->n_fit)
            return be_fail(err, m, "_tree.node_data[%zu] spans samples %lld..%lld of %zu", i, (long long)t->start[i],
                           (long long)t->end[i], nm->n_fit);
        if (!t->leaf[i] && (i > (SIZE_MAX - 3) / 2 || 2 * i + 2 >= nn))
            return be_fail(err, m, "_tree.node_data[%zu] is an inner node without children", i);
    }
    const bv_array *ba = be_array(st->u.seq.items[3]);
    size_t planes = kind == ALG_KD ? 2 : 1;
    if (!ba || ba->ndim != 3 || ba->shape[0] != (int64_t)planes || ba->shape[1] != (int64_t)nn ||
        ba->shape[2] != (int64_t)nm->d)
        return be_fail(err, m, "_tree.node_bounds is not %zu x %zu x %zu", planes, nn, nm->d);
    t->bounds = be_alloc(m, planes * nn * nm->d, sizeof *t->bounds);
    if (!t->bounds) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < planes * nn * nm->d; i++) {
        size_t src = i;
        if (ba->fortran) {
            size_t a = i / (nn * nm->d), b = i / nm->d % nn, c = i % nm->d;
            src = a + planes * (b + nn * c);
        }
        if (!be_array_double(ba, src, &t->bounds[i])) return be_fail(err, m, "_tree.node_bounds is not numeric");
    }
    nm->tree = t;
    return BRINE_OK;
}

static brine_status read_fit_x(brine_model *m, const bv *state, nn_model *nm, const char *key, brine_error *err) {
    be_matrix x;
    const bv *v = bv_dict_get(state, key);
    if (is_none(v)) return be_fail(err, m, "%s is %s", key, v ? "None" : "missing");
    brine_status st = be_read_matrix(m, v, key, 2, &x, err);
    if (st) return st;
    if (x.ndim != 2 || x.rows == 0 || x.cols == 0) return be_fail(err, m, "%s is not a non-empty 2-D array", key);
    if ((st = be_check_width(m, (int64_t)x.cols, key, err))) return st;
    nm->fit_x = x.v;
    nm->n_fit = x.rows;
    nm->d = x.cols;
    if (nm->metric == MET_EUCLIDEAN) {
        nm->fit_norm = be_alloc(m, x.rows, sizeof *nm->fit_norm);
        if (!nm->fit_norm) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        for (size_t s = 0; s < x.rows; s++) {
            double r = 0.0;
            for (size_t j = 0; j < x.cols; j++) r += x.v[s * x.cols + j] * x.v[s * x.cols + j];
            nm->fit_norm[s] = r;
        }
    }
    return BRINE_OK;
}

/* _y: n_fit rows (1-D, or 2-D with n_out columns). */
static brine_status read_y(brine_model *m, const bv *state, nn_model *nm, const size_t *n_classes, brine_error *err) {
    const bv_array *a = be_array(bv_dict_get(state, "_y"));
    if (!a || (a->ndim != 1 && a->ndim != 2)) return be_fail(err, m, "_y is not a 1-D or 2-D array");
    if (a->shape[0] != (int64_t)nm->n_fit) return be_fail(err, m, "_y has %lld rows but _fit_X has %zu", (long long)a->shape[0], nm->n_fit);
    nm->y_2d = a->ndim == 2;
    size_t no = a->ndim == 2 ? (size_t)a->shape[1] : 1;
    if (no == 0 || (uint64_t)a->count != (uint64_t)nm->n_fit * no) return be_fail(err, m, "_y has no outputs");
    if (nm->kind == NN_CLF && no != m->n_outputs) return be_fail(err, m, "_y has %zu outputs but classes_ %zu", no, m->n_outputs);
    nm->n_out = no;
    m->n_outputs = no;
    size_t cells = nm->n_fit * no;
    if (nm->kind == NN_CLF) nm->y_idx = be_alloc(m, cells, sizeof *nm->y_idx);
    else nm->y_val = be_alloc(m, cells, sizeof *nm->y_val);
    if (!nm->y_idx && !nm->y_val) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < cells; i++) {
        size_t r = i / no, c = i % no;
        size_t src = a->fortran && a->ndim == 2 ? c * nm->n_fit + r : i;
        if (nm->kind == NN_CLF) {
            int64_t v;
            if (!be_array_int(a, src, &v) || v < 0 || (uint64_t)v >= n_classes[c])
                return be_fail(err, m, "_y[%zu] is not a class index below %zu (the labels of classes_)", i, n_classes[c]);
            nm->y_idx[i] = (int32_t)v;
        } else if (!be_array_double(a, src, &nm->y_val[i])) {
            return be_fail(err, m, "_y is not numeric");
        }
    }
    return BRINE_OK;
}

/* classes_: one array, or a list of them when outputs_2d_. */
static brine_status read_knn_classes(brine_model *m, const bv *state, nn_model *nm, size_t **n_classes,
                                     brine_error *err) {
    const bv *v = bv_dict_get(state, "classes_");
    if (is_none(v)) return be_fail(err, m, "classes_ is missing");
    int listed = v->kind == BRINE_LIST || v->kind == BRINE_TUPLE;
    size_t no = listed ? v->u.seq.n : 1;
    if (no == 0) return be_fail(err, m, "classes_ is an empty list");
    m->n_outputs = no;
    m->classes = be_alloc(m, no, sizeof *m->classes);
    *n_classes = be_alloc(m, no, sizeof **n_classes);
    if (!m->classes || !*n_classes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t k = 0; k < no; k++) {
        char field[32];
        snprintf(field, sizeof field, listed ? "classes_[%zu]" : "classes_", k);
        brine_status st = be_read_labels(m, listed ? v->u.seq.items[k] : v, field, &m->classes[k], err);
        if (st) return st;
        if (m->classes[k].n == 0) return be_fail(err, m, "%s is empty", field);
        (*n_classes)[k] = m->classes[k].n;
        if (m->classes[k].n > nm->max_classes) nm->max_classes = m->classes[k].n;
    }
    return BRINE_OK;
}

static brine_status load_knn(brine_model *m, const bv *state, nn_model *nm, brine_error *err) {
    brine_status st = read_metric(m, state, nm, err);
    if (!st) st = read_fit_x(m, state, nm, "_fit_X", err);
    if (st) return st;
    int64_t k;
    if (!be_get_int(bv_dict_get(state, "n_neighbors"), &k) || k < 1)
        return be_fail(err, m, "n_neighbors is not a positive int");
    if ((uint64_t)k > nm->n_fit)
        return be_fail(err, m, "n_neighbors is %lld but only %zu samples were fitted", (long long)k, nm->n_fit);
    nm->k = (size_t)k;
    const bv *w = bv_dict_get(state, "weights");
    if (is_none(w) || str_is(w, "uniform")) nm->distance = 0;
    else if (str_is(w, "distance")) nm->distance = 1;
    else return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "brine cannot use weights other than 'uniform' and 'distance'");
    const bv *fm = bv_dict_get(state, "_fit_method");
    if (str_is(fm, "brute")) nm->alg = ALG_BRUTE;
    else if (str_is(fm, "kd_tree")) nm->alg = ALG_KD;
    else if (str_is(fm, "ball_tree")) nm->alg = ALG_BALL;
    else return be_fail(err, m, "_fit_method is not brute, kd_tree or ball_tree");
    int64_t nsf;
    const bv *nsv = bv_dict_get(state, "n_samples_fit_");
    if (!is_none(nsv) && (!be_get_int(nsv, &nsf) || nsf != (int64_t)nm->n_fit))
        return be_fail(err, m, "n_samples_fit_ is not the %zu rows of _fit_X", nm->n_fit);
    if (nm->alg != ALG_BRUTE && (st = load_tree(m, bv_dict_get(state, "_tree"), nm, err))) return st;
    size_t *n_classes = NULL;
    if (nm->kind == NN_CLF) {
        if ((st = read_knn_classes(m, state, nm, &n_classes, err))) return st;
        const bv *o2 = bv_dict_get(state, "outputs_2d_");
        int64_t two = 0;
        if (!is_none(o2) && !be_get_int(o2, &two)) return be_fail(err, m, "outputs_2d_ is not a bool");
        const bv *cv = bv_dict_get(state, "classes_");
        int listed = cv->kind == BRINE_LIST || cv->kind == BRINE_TUPLE;
        if (!is_none(o2) && (two != 0) != listed) return be_fail(err, m, "outputs_2d_ disagrees with classes_");
    }
    return read_y(m, state, nm, n_classes, err);
}

static brine_status load_centroid(brine_model *m, const bv *state, nn_model *nm, brine_error *err) {
    const bv *mv = bv_dict_get(state, "metric");
    if (is_none(mv) || str_is(mv, "euclidean") || str_is(mv, "l2")) nm->metric = MET_EUCLIDEAN;
    else if (str_is(mv, "manhattan") || str_is(mv, "cityblock") || str_is(mv, "l1")) nm->metric = MET_MANHATTAN;
    else return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "brine cannot use NearestCentroid metrics other than euclidean and manhattan");
    const bv *cv = bv_dict_get(state, "classes_");
    if (is_none(cv)) return be_fail(err, m, "classes_ is missing");
    m->n_outputs = 1;
    m->classes = be_alloc(m, 1, sizeof *m->classes);
    if (!m->classes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    brine_status st = be_read_labels(m, cv, "classes_", m->classes, err);
    if (!st) st = read_fit_x(m, state, nm, "centroids_", err);
    if (st) return st;
    if (nm->n_fit != m->classes->n)
        return be_fail(err, m, "centroids_ has %zu rows but classes_ %zu labels", nm->n_fit, m->classes->n);
    /* sklearn >= 1.6 keeps class_prior_ and predicts by its discriminant
     * (not the nearest centroid) when the priors are not uniform. */
    const bv *pv = bv_dict_get(state, "class_prior_");
    if (!is_none(pv)) {
        be_matrix pr;
        if ((st = be_read_matrix(m, pv, "class_prior_", 1, &pr, err))) return st;
        if (pr.rows * pr.cols != nm->n_fit)
            return be_fail(err, m, "class_prior_ has %zu values but classes_ %zu labels", pr.rows * pr.cols, nm->n_fit);
        for (size_t c = 1; c < nm->n_fit; c++)
            if (pr.v[c] != pr.v[0])
                return be_fail_status(err, BRINE_E_UNSUPPORTED, m,
                                      "brine cannot predict with non-uniform priors (class_prior_; sklearn >= 1.6 "
                                      "then predicts by its discriminant) yet");
    }
    nm->k = 1;
    nm->alg = ALG_BRUTE;
    nm->n_out = 1;
    return BRINE_OK;
}

static brine_status nn_load(brine_model *m, const bv *state, brine_error *err) {
    nn_model *nm = be_alloc(m, 1, sizeof *nm);
    if (!nm) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    nm->kind = !strcmp(m->short_name, "NearestCentroid") ? NN_CENTROID : m->cls->classifier ? NN_CLF : NN_REG;
    brine_status st = be_read_n_features(m, state, &m->n_features_in, err);
    if (st) return st;
    st = nm->kind == NN_CENTROID ? load_centroid(m, state, nm, err) : load_knn(m, state, nm, err);
    if (st) return st;
    m->n_estimators = 1;
    m->impl = nm;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

/* --------------------------------------------------------- predicting */

static size_t nn_columns(const brine_model *m, brine_method method) {
    const nn_model *nm = m->impl;
    size_t cols = 0;
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return nm->n_out;
    case BRINE_METHOD_PREDICT_PROBA:
        if (nm->kind != NN_CLF) return BE_NO_METHOD;
        for (size_t k = 0; k < m->n_outputs; k++) cols += m->classes[k].n;
        return cols;
    default:
        return BE_NO_METHOD;
    }
}

static void predict_row(const brine_model *m, const nn_model *nm, brine_method method, nn_work *w, size_t r,
                        brine_prediction *out) {
    size_t k = nm->k, no = nm->n_out;
    if (nm->kind == NN_CENTROID) {
        out->indices[r] = w->hi[0];
        return;
    }
    if (nm->distance) distance_weights(nm, w);
    else
        for (size_t j = 0; j < k; j++) w->w[j] = 1.0;
    if (nm->kind == NN_REG) {
        for (size_t o = 0; o < no; o++) {
            double v;
            if (!nm->distance && no == 1) {
                for (size_t j = 0; j < k; j++) w->tmp[j] = nm->y_val[(size_t)w->hi[j] * no + o];
                v = be_pairwise_sum(w->tmp, k) / (double)k;
            } else if (!nm->distance) {
                /* np.mean over the middle axis of (queries, k, outputs): in order */
                double s = nm->y_val[(size_t)w->hi[0] * no + o];
                for (size_t j = 1; j < k; j++) s += nm->y_val[(size_t)w->hi[j] * no + o];
                v = s / (double)k;
            } else {
                double denom = be_pairwise_sum(w->w, k);
                for (size_t j = 0; j < k; j++) w->tmp[j] = nm->y_val[(size_t)w->hi[j] * no + o] * w->w[j];
                v = be_pairwise_sum(w->tmp, k) / denom;
            }
            out->values[r * no + o] = v;
        }
        return;
    }
    size_t col = 0;
    for (size_t o = 0; o < no; o++) {
        size_t nc = m->classes[o].n;
        if (method == BRINE_METHOD_PREDICT) {
            size_t best = 0;
            double best_count = 0.0;
            for (size_t c = 0; c < nc; c++) {
                /* weighted_mode: the pairwise sum of the row's weights of c;
                 * uniform: the count (scipy's mode; the smallest label wins) */
                for (size_t j = 0; j < k; j++) w->tmp[j] = nm->y_idx[(size_t)w->hi[j] * no + o] == (int32_t)c ? w->w[j] : 0.0;
                double count = be_pairwise_sum(w->tmp, k);
                if (count > best_count) {
                    best_count = count;
                    best = c;
                }
            }
            out->indices[r * no + o] = (int64_t)best;
            continue;
        }
        double *p = out->values + r * out->n_columns + col;
        for (size_t c = 0; c < nc; c++) p[c] = 0.0;
        for (size_t j = 0; j < k; j++) p[nm->y_idx[(size_t)w->hi[j] * no + o]] += w->w[j];
        double norm = be_pairwise_sum(p, nc);
        if (norm == 0.0) norm = 1.0;
        for (size_t c = 0; c < nc; c++) p[c] /= norm;
        col += nc;
    }
}

static brine_status nn_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                               brine_error *err) {
    const nn_model *nm = m->impl;
    brine_status st = be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, 0, err);
    if (st) return st;
    size_t k = nm->k, scratch = k > nm->max_classes ? k : nm->max_classes;
    nn_work w;
    w.hv = malloc(k * sizeof *w.hv);
    w.hv2 = malloc(k * sizeof *w.hv2);
    w.hi = malloc(k * sizeof *w.hi);
    w.hi2 = malloc(k * sizeof *w.hi2);
    w.dist = malloc(k * sizeof *w.dist);
    w.w = malloc(k * sizeof *w.w);
    w.tmp = malloc((scratch + 1) * sizeof *w.tmp);
    if (!w.hv || !w.hv2 || !w.hi || !w.hi2 || !w.dist || !w.w || !w.tmp) {
        st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu neighbours", k);
    } else {
        for (size_t r = 0; r < in->n_rows; r++) {
            kneighbors(nm, in->xd + r * in->n_cols, in->n_rows, &w);
            predict_row(m, nm, method, &w, r, out);
        }
    }
    free(w.hv);
    free(w.hv2);
    free(w.hi);
    free(w.hi2);
    free(w.dist);
    free(w.w);
    free(w.tmp);
    return st;
}

const be_family be_neighbors_family = {"neighbors", nn_load, nn_predict, NULL, nn_columns, BE_FAM_FLOAT64};
