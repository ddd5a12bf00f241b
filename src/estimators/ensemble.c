/* ensemble.c — meta-estimators over other estimators: IsolationForest,
 * AdaBoostClassifier/Regressor, BaggingClassifier/Regressor,
 * VotingClassifier/Regressor and StackingClassifier/Regressor.
 *
 * Every member but IsolationForest's trees is loaded as a model of its own
 * (be_model_from_value, owned by the ensemble's model through m->subs; an
 * object listed twice is loaded once) and predicts through brine_predict on
 * float64 rows, so a tree member converts them to float32 as sklearn's does.
 * The ensemble's arithmetic is sklearn 1.2.1's, in its order: Python's
 * sum() over members starts at 0 and adds member after member, numpy's
 * reductions along a contiguous row are pairwise (be_pairwise_sum), its
 * reductions across members elementwise in member order.  IsolationForest
 * reads its ExtraTreeRegressor members' Tree objects directly (be_tree_load)
 * and needs their n_node_samples.
 *
 * Members of Bagging, Voting and Stacking classifiers were fitted on encoded
 * labels (0 .. n_classes-1); loading checks that their classes_ are such
 * indices, so every index used while predicting is in range. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"


enum { K_IFOREST, K_ADA, K_BAG, K_VOTE, K_STACK };

/* Stacking's stack_method_ values. */
enum { SM_PROBA, SM_DECISION, SM_PREDICT };

typedef struct ens_member {
    brine_model *model;     /* NULL: a 'drop' entry (Stacking) */
    const int64_t *features; /* Bagging: the columns it reads; NULL: all */
    size_t n_features;
    const int64_t *cls;     /* classifier members of encoded fits: classes_[j] as an index */
    size_t n_cls;
    int method;             /* Stacking: SM_* */
    size_t width;           /* Stacking: columns it adds to the meta features */
} ens_member;

typedef struct iso_tree {
    be_tree *tree;
    double *path;            /* per node: depth + c(n_node_samples) - 1.0, as sklearn adds them */
    const int64_t *features; /* NULL: all columns */
    size_t n_features;
} iso_tree;

typedef struct ens_model {
    int kind;
    ens_member *mem;
    size_t n;
    size_t n_classes;        /* classifiers: K */
    /* IsolationForest */
    iso_tree *trees;
    double denominator, offset;
    /* AdaBoost */
    int samme_r, symmetric;  /* SAMME.R; SAMME's symmetric scores (sklearn >= 1.3) */
    double *weights;         /* estimator_weights_ */
    size_t n_weights;
    double weight_sum;       /* its np.sum */
    /* Bagging */
    double n_estimators;     /* the parameter sklearn divides by */
    size_t *starts;          /* n_jobs + 1 member offsets of _partition_estimators */
    size_t n_jobs;
    int has_proba, has_log, has_decision;
    size_t decision_cols;
    /* Voting */
    int soft, flatten;
    double *vweights;        /* per member, NULL: none */
    double vweight_sum;
    /* Stacking */
    brine_model *final;
    int passthrough;
    size_t meta_width;
} ens_model;

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }
static int is_seq(const bv *v) { return v && (v->kind == BRINE_LIST || v->kind == BRINE_TUPLE); }
static brine_status nomem(brine_error *err) { return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory"); }

/* Graph node -> what was loaded from it, so that a file listing one tree or
 * one feature array many times costs its memory once. */
typedef struct ptr_cache {
    const bv **keys;
    void **vals;
    size_t *lens;
    size_t cap;
} ptr_cache;

static int cache_init(ptr_cache *pc, size_t n) {
    pc->cap = 16;
    while (pc->cap < 2 * n) pc->cap *= 2;
    pc->keys = calloc(pc->cap, sizeof *pc->keys);
    pc->vals = calloc(pc->cap, sizeof *pc->vals);
    pc->lens = calloc(pc->cap, sizeof *pc->lens);
    return pc->keys && pc->vals && pc->lens;
}

static void cache_free(ptr_cache *pc) {
    free(pc->keys);
    free(pc->vals);
    free(pc->lens);
}

/* The slot of key: keys[slot] == key when it was stored, NULL when free. */
static size_t cache_slot(const ptr_cache *pc, const bv *key) {
    size_t j = ((uintptr_t)key >> 4) * 0x9e3779b97f4a7c15ull & (pc->cap - 1);
    while (pc->keys[j] && pc->keys[j] != key) j = (j + 1) & (pc->cap - 1);
    return j;
}

/* The items of a list, tuple or object array; NULL otherwise. */
static bv *const *seq_items(const bv *v, size_t *n) {
    if (is_seq(v)) {
        *n = v->u.seq.n;
        return v->u.seq.items;
    }
    const bv_array *a = be_array(v);
    if (a && a->ndim == 1 && a->dtype->u.dt->kind == 'O' && a->objects && a->objects->u.seq.n == (size_t)a->count) {
        *n = a->objects->u.seq.n;
        return a->objects->u.seq.items;
    }
    *n = 0;
    return NULL;
}

static int is_drop(const bv *v) { return is_none(v) || bv_is_str(v, "drop"); }

static int label_eq(const brine_label *a, const brine_label *b) {
    int an = a->kind != BRINE_LABEL_STR && a->kind != BRINE_LABEL_NONE;
    int bn = b->kind != BRINE_LABEL_STR && b->kind != BRINE_LABEL_NONE;
    if (an && bn) {
        double x = a->kind == BRINE_LABEL_FLOAT ? a->f : (double)a->i;
        double y = b->kind == BRINE_LABEL_FLOAT ? b->f : (double)b->i;
        if (a->kind != BRINE_LABEL_FLOAT && b->kind != BRINE_LABEL_FLOAT) return a->i == b->i;
        return x == y;
    }
    if (a->kind == BRINE_LABEL_STR && b->kind == BRINE_LABEL_STR)
        return a->len == b->len && !memcmp(a->s, b->s, a->len);
    return 0;
}

/* A label that is an encoded class index in [0, k): what members fitted on
 * LabelEncoder / np.unique(return_inverse) output hold. */
static int label_index(const brine_label *l, size_t k, int64_t *out) {
    double f;
    switch (l->kind) {
    case BRINE_LABEL_INT:
    case BRINE_LABEL_BOOL:
        *out = l->i;
        break;
    case BRINE_LABEL_FLOAT:
        f = l->f;
        if (!(f >= 0 && f < (double)k) || f != floor(f)) return 0;
        *out = (int64_t)f;
        break;
    default:
        return 0;
    }
    return *out >= 0 && (uint64_t)*out < k;
}

/* A label as the number numpy would stack it as (Stacking's 'predict'
 * features, Voting's hard transform). */
static double label_number(const brine_label *l) {
    return l->kind == BRINE_LABEL_FLOAT ? l->f : (double)l->i;
}

/* --------------------------------------------------------------- members */

/* Loads member est (field names it) as a model of its own, owned by m
 * (m->subs has room). */
static brine_status load_model(brine_model *m, const bv *est, const char *field, brine_model **out, brine_error *err) {
    if (!est || est->kind != BRINE_OBJECT)
        return be_fail(err, m, "%s is %s, not an estimator", field, est ? brine_kind_name((brine_kind)est->kind) : "missing");
    return be_load_part(m, est, field, out, err);
}

/* Loads the members listed in v (estimators_), skipping 'drop' entries when
 * allowed; fills e->mem and e->n.  Shared members are loaded once (a small
 * hash keyed by the graph node). */
static brine_status load_members(brine_model *m, ens_model *e, const bv *v, const char *field, int allow_drop,
                                 brine_error *err) {
    size_t n;
    bv *const *items = seq_items(v, &n);
    if (!items) return be_fail(err, m, "%s is %s, not a list", field, v ? brine_kind_name((brine_kind)v->kind) : "missing");
    if (!n) return be_fail(err, m, "%s is empty", field);
    e->mem = be_alloc(m, n, sizeof *e->mem);
    m->subs = be_alloc(m, n + 1, sizeof *m->subs);
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    const bv **keys = calloc(cap, sizeof *keys);
    brine_model **vals = calloc(cap, sizeof *vals);
    brine_status st = BRINE_OK;
    if (!e->mem || !m->subs || !keys || !vals) st = nomem(err);
    for (size_t i = 0; i < n && !st; i++) {
        const bv *est = items[i];
        if (allow_drop && is_drop(est)) continue;
        size_t j = ((uintptr_t)est >> 4) * 0x9e3779b97f4a7c15ull & (cap - 1);
        while (keys[j] && keys[j] != est) j = (j + 1) & (cap - 1);
        if (keys[j]) {
            e->mem[i].model = vals[j];
            continue;
        }
        char f[64];
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        st = load_model(m, est, f, &e->mem[i].model, err);
        if (!st) {
            keys[j] = est;
            vals[j] = e->mem[i].model;
        }
    }
    free(keys);
    free(vals);
    e->n = n;
    return st;
}

/* Sets the model's width from a member, or checks the member against it. */
static brine_status member_width(brine_model *m, const brine_model *s, size_t i, size_t want, brine_error *err) {
    if (want && (size_t)s->n_features_in != want)
        return be_fail(err, m, "estimators_[%zu] takes %lld features, not %zu", i, (long long)s->n_features_in, want);
    return BRINE_OK;
}

/* A classifier member fitted on encoded labels: classes_ must be indices
 * below k (all k of them when exact). */
static brine_status member_codes(brine_model *m, ens_member *mm, size_t i, size_t k, int exact, brine_error *err) {
    const brine_model *s = mm->model;
    if (!s->cls->classifier || !s->classes)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "estimators_[%zu] (a %s) is not a classifier", i, s->short_name);
    if (s->n_outputs != 1)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "estimators_[%zu] has %zu outputs; brine supports one", i,
                              s->n_outputs);
    size_t n = s->classes[0].n;
    if (!n || n > k || (exact && n != k))
        return be_fail(err, m, "estimators_[%zu] has %zu classes but the ensemble has %zu", i, n, k);
    int64_t *c = be_alloc(m, n, sizeof *c);
    if (!c) return nomem(err);
    for (size_t j = 0; j < n; j++) {
        if (!label_index(&s->classes[0].labels[j], k, &c[j]))
            return be_fail(err, m, "estimators_[%zu].classes_[%zu] is not a class index below %zu", i, j, k);
        for (size_t q = 0; q < j; q++)
            if (c[q] == c[j]) return be_fail(err, m, "estimators_[%zu].classes_ repeats %lld", i, (long long)c[j]);
    }
    mm->cls = c;
    mm->n_cls = n;
    return BRINE_OK;
}

static brine_status ens_alloc(brine_model *m, ens_model **out, int kind, brine_error *err) {
    ens_model *e = be_alloc(m, 1, sizeof *e);
    *out = e;
    if (!e) return nomem(err);
    e->kind = kind;
    m->impl = e;
    m->n_outputs = 1;
    return BRINE_OK;
}

/* classes_ of one output without n_classes_ (Voting, Stacking). */
static brine_status one_classes(brine_model *m, const bv *v, const char *field, brine_error *err) {
    m->classes = be_alloc(m, 1, sizeof *m->classes);
    if (!m->classes) return nomem(err);
    brine_status st = be_read_labels(m, v, field, &m->classes[0], err);
    if (!st && !m->classes[0].n) st = be_fail(err, m, "%s is empty", field);
    return st;
}

/* The width every member takes; the model's own n_features_in_ when given. */
static brine_status common_width(brine_model *m, const bv *state, ens_model *e, brine_error *err) {
    int64_t w;
    brine_status st = be_read_n_features(m, state, &w, err);
    if (st) return st;
    for (size_t i = 0; i < e->n; i++) {
        const brine_model *s = e->mem[i].model;
        if (!s) continue;
        if (w < 0) w = s->n_features_in;
        if ((st = member_width(m, s, i, (size_t)w, err))) return st;
    }
    if (w < 1) return be_fail(err, m, "has no member to say its width");
    m->n_features_in = w;
    return BRINE_OK;
}

/* A float64 array (1-D) of at least min entries. */
static brine_status read_vector(brine_model *m, const bv *v, const char *field, size_t min, double **out, size_t *n,
                                brine_error *err) {
    be_matrix mx;
    brine_status st = be_read_matrix(m, v, field, 1, &mx, err);
    if (st) return st;
    if (mx.ndim != 1) return be_fail(err, m, "%s is not 1-D", field);
    if (mx.cols < min) return be_fail(err, m, "%s has %zu entries, fewer than the %zu estimators", field, mx.cols, min);
    *out = mx.v;
    *n = mx.cols;
    return BRINE_OK;
}

/* One integer array (a member's feature subset) with every index below width. */
static brine_status read_features(brine_model *m, const bv *v, size_t i, int64_t width, const int64_t **out, size_t *n,
                                  ptr_cache *pc, brine_error *err) {
    size_t slot = v ? cache_slot(pc, v) : 0;
    if (v && pc->keys[slot]) {
        *out = pc->vals[slot];
        *n = pc->lens[slot];
        return BRINE_OK;
    }
    const bv_array *a = be_array(v);
    size_t cnt = 0;
    bv *const *items = a ? NULL : (is_seq(v) ? v->u.seq.items : NULL);
    if (a) {
        char k = a->dtype->u.dt->kind;
        if (a->ndim != 1 || (k != 'i' && k != 'u')) return be_fail(err, m, "estimators_features_[%zu] is not a 1-D integer array", i);
        cnt = (size_t)a->count;
    } else if (items) {
        cnt = v->u.seq.n;
    } else {
        return be_fail(err, m, "estimators_features_[%zu] is not an array", i);
    }
    if (!cnt) return be_fail(err, m, "estimators_features_[%zu] is empty", i);
    int64_t *f = be_alloc(m, cnt, sizeof *f);
    if (!f) return nomem(err);
    for (size_t j = 0; j < cnt; j++) {
        int ok = a ? be_array_int(a, j, &f[j]) : be_get_int(items[j], &f[j]);
        if (!ok || f[j] < 0 || f[j] >= width)
            return be_fail(err, m, "estimators_features_[%zu][%zu] is not a column index below %lld", i, j, (long long)width);
    }
    *out = f;
    *n = cnt;
    pc->keys[slot] = v;
    pc->vals[slot] = f;
    pc->lens[slot] = cnt;
    return BRINE_OK;
}

/* -------------------------------------------------------- predicting helpers */

/* Runs a member's method on rows x (n_rows * cols float64): the caller's
 * rows (x == in->xd), text cells included when the caller gave text
 * (be_predict_input: members that read text get it, others refuse a cell
 * that is no number), or a column subset of them (Bagging). */
static brine_status run(const brine_model *m, const brine_model *s, size_t i, brine_method meth, const double *x,
                        size_t n_rows, size_t cols, const be_input *in, brine_prediction **out, brine_error *err) {
    brine_error sub;
    brine_error_clear(&sub);
    brine_status st;
    if (in->text && x == in->xd && cols == in->n_cols) {
        st = be_predict_input(out, s, meth, in, &sub);
    } else {
        brine_predict_options po = BRINE_PREDICT_OPTIONS_INIT;
        po.n_threads = in->n_threads;
        po.reference = in->reference;
        st = brine_predict(out, s, meth, x, BRINE_DTYPE_FLOAT64, n_rows, cols, &po, &sub);
    }
    if (st) return bi_fail(err, st, -1, "%s: estimators_[%zu]: %s", m->short_name, i, sub.message);
    return BRINE_OK;
}

/* Text input to an ensemble that gives members only numbers (a column
 * subset, Stacking's passthrough): every cell must be one. */
static brine_status numbers_only(const brine_model *m, const be_input *in, brine_error *err) {
    for (size_t c = 0; in->text && c < in->n_rows * in->n_cols; c++) {
        double v;
        if (!be_cell_number(in->text[c], &v))
            return be_fail_status(err, BRINE_E_ARGUMENT, m, "X[%zu, %zu] is not a number; this ensemble takes numbers there",
                                  c / in->n_cols, c % in->n_cols);
    }
    return BRINE_OK;
}

/* m reads text when a member does. */
static void members_text(brine_model *m, const ens_model *e) {
    for (size_t i = 0; i < e->n; i++)
        if (e->mem[i].model) m->takes_text |= brine_model_takes_text(e->mem[i].model);
}

/* The member's input: the rows, or their columns features (X[:, features]). */
static const double *member_rows(const ens_member *mm, const be_input *in, double *buf) {
    if (!mm->features) return in->xd;
    for (size_t r = 0; r < in->n_rows; r++)
        for (size_t j = 0; j < mm->n_features; j++)
            buf[r * mm->n_features + j] = in->xd[r * in->n_cols + (size_t)mm->features[j]];
    return buf;
}

/* Scratch of cells doubles, or NULL after recording the failure. */
static double *scratch(size_t a, size_t b, brine_error *err) {
    size_t cells;
    double *p = NULL;
    if (!__builtin_mul_overflow(a, b, &cells) && cells < SIZE_MAX / sizeof(double)) p = calloc(cells + 1, sizeof *p);
    if (!p) nomem(err);
    return p;
}

/* numpy.logaddexp */
static double logaddexp(double x, double y) {
    if (x == y) return x + 0.693147180559945309417232121458176568;
    double t = x - y;
    if (t > 0) return x + log1p(exp(-t));
    if (t <= 0) return y + log1p(exp(t));
    return t;
}

/* numpy.max over a row: NaN propagates. */
static double row_max(const double *a, size_t n) {
    double mx = a[0];
    for (size_t i = 1; i < n; i++) {
        if (isnan(mx)) break;
        if (a[i] > mx || isnan(a[i])) mx = a[i];
    }
    return mx;
}

/* sklearn.utils.extmath.softmax, in place over each row. */
static void softmax_rows(double *x, size_t rows, size_t k) {
    for (size_t r = 0; r < rows; r++) {
        double *row = x + r * k;
        double mx = row_max(row, k);
        for (size_t j = 0; j < k; j++) row[j] = exp(row[j] - mx);
        double s = be_pairwise_sum(row, k);
        for (size_t j = 0; j < k; j++) row[j] /= s;
    }
}

/* Converts a member's classifier predict (label indices) into the encoded
 * class index each label is (members fitted on encoded labels). */
static int64_t code_of(const ens_member *mm, int64_t idx) { return mm->cls[idx]; }

/* ================================================================ IsolationForest */

/* sklearn's _average_path_length of one count. */
static double average_path_length(double n) {
    if (n <= 1) return 0.0;
    if (n == 2) return 1.0;
    return 2.0 * (log(n - 1.0) + 0.5772156649015329) - 2.0 * (n - 1.0) / n;
}

/* Per node: its depth counted in nodes (root 1, what decision_path sums)
 * plus c(n_node_samples) minus 1.0, in sklearn's order of operations. */
static brine_status iso_paths(brine_model *m, iso_tree *it, size_t i, brine_error *err) {
    be_tree *t = it->tree;
    if (!t->has_stats)
        return be_fail(err, m, "estimators_[%zu].tree_ lacks n_node_samples, which its scores need", i);
    size_t n = t->node_count;
    int64_t *depth = calloc(n + 1, sizeof *depth);
    size_t *stack = calloc(n + 1, sizeof *stack);
    it->path = be_alloc(m, n, sizeof *it->path);
    if (!depth || !stack || !it->path) {
        free(depth);
        free(stack);
        return nomem(err);
    }
    size_t top = 0;
    stack[top++] = 0;
    depth[0] = 1;
    while (top) { /* the layout is one tree (be_fast_walk), so each node is pushed once */
        size_t k = stack[--top];
        int32_t l, r;
        if (!be_tree_kids(t, k, &l, &r)) continue;
        depth[l] = depth[r] = depth[k] + 1;
        stack[top++] = (size_t)l;
        stack[top++] = (size_t)r;
    }
    for (size_t k = 0; k < n; k++)
        it->path[k] = ((double)depth[k] + average_path_length((double)be_tree_samples(t, k))) - 1.0;
    free(depth);
    free(stack);
    return BRINE_OK;
}

/* One member of an IsolationForest: its tree (shared when listed before),
 * its columns and the per-node path lengths. */
static brine_status iso_member(brine_model *m, ens_model *e, const bv *est, const bv *feat, size_t i, int64_t maxf,
                               ptr_cache *fc, ptr_cache *tc, brine_error *err) {
    brine_status st;
    const char *name = NULL;
    const char *module = est && est->kind == BRINE_OBJECT ? brine_value_global(est, &name) : NULL;
    const be_class *c = be_class_find(module, name);
    if (!c || c->family != &be_tree_family || c->classifier)
        return be_fail(err, m, "estimators_[%zu] is not an ExtraTreeRegressor", i);
    const bv *es = est->u.obj.state;
    if (!es || es->kind != BRINE_DICT) return be_fail(err, m, "estimators_[%zu] has no state dict", i);
    if (m->n_features_in < 1) {
        int64_t w = -1;
        if ((st = be_read_n_features(m, es, &w, err))) return st;
        if (w < 1) return be_fail(err, m, "n_features_in_ is missing");
        m->n_features_in = w;
    }
    const int64_t *f = NULL;
    size_t fn = 0;
    if ((st = read_features(m, feat, i, m->n_features_in, &f, &fn, fc, err))) return st;
    iso_tree *it = &e->trees[i];
    /* sklearn indexes columns only when _max_features differs from the
     * input width, and then passes X[:, features]; without
     * _max_features, the subset's own length tells. */
    if (maxf >= 0 ? maxf != m->n_features_in : (int64_t)fn != m->n_features_in) {
        it->features = f;
        it->n_features = fn;
    }
    char field[48];
    snprintf(field, sizeof field, "estimators_[%zu].tree_", i);
    be_tree_spec spec = {0, 1, NULL, it->features ? (int64_t)fn : m->n_features_in, be_tree_fractions_by_version(m),
                         field};
    const bv *tv = bv_dict_get(es, "tree_");
    size_t slot = tv ? cache_slot(tc, tv) : 0;
    if (tv && tc->keys[slot]) { /* the same Tree again: its nodes and paths are shared */
        const iso_tree *prev = tc->vals[slot];
        if (prev->tree->n_features != spec.n_features)
            return be_fail(err, m, "%s is shared with a member that reads %lld features, not %lld", field,
                           (long long)prev->tree->n_features, (long long)spec.n_features);
        it->tree = prev->tree;
        it->path = prev->path;
        return BRINE_OK;
    }
    if ((st = be_tree_load(m, tv, &spec, &it->tree, err))) return st;
    if (it->tree->n_outputs != 1) return be_fail(err, m, "%s has %zu outputs", field, it->tree->n_outputs);
    if ((st = iso_paths(m, it, i, err))) return st;
    if (tv) {
        tc->keys[slot] = tv;
        tc->vals[slot] = it;
    }
    return BRINE_OK;
}

static brine_status iso_load(brine_model *m, const bv *state, brine_error *err) {
    ens_model *e;
    brine_status st = ens_alloc(m, &e, K_IFOREST, err);
    if (st) return st;
    const bv *list = bv_dict_get(state, "estimators_");
    size_t n;
    bv *const *items = seq_items(list, &n);
    if (!items || !n) return be_fail(err, m, "estimators_ is not a non-empty list");
    size_t nf;
    bv *const *feats = seq_items(bv_dict_get(state, "estimators_features_"), &nf);
    if (!feats || nf != n) return be_fail(err, m, "estimators_features_ is not a list of %zu arrays", n);
    if ((st = be_read_n_features(m, state, &m->n_features_in, err))) return st;
    int64_t ms, maxf = -1;
    if (!be_get_int(bv_dict_get(state, "max_samples_"), &ms) || ms < 0)
        return be_fail(err, m, "max_samples_ is not a non-negative int");
    const bv *mfv = bv_dict_get(state, "_max_features");
    if (!is_none(mfv) && (!be_get_int(mfv, &maxf) || maxf < 1)) return be_fail(err, m, "_max_features is not a positive int");
    if (!be_get_double(bv_dict_get(state, "offset_"), &e->offset)) return be_fail(err, m, "offset_ is not a number");
    e->trees = be_alloc(m, n, sizeof *e->trees);
    if (!e->trees) return nomem(err);
    ptr_cache fc = {0}, tc = {0};
    if (!cache_init(&fc, n) || !cache_init(&tc, n)) st = nomem(err);
    for (size_t i = 0; i < n && !st; i++) st = iso_member(m, e, items[i], feats[i], i, maxf, &fc, &tc, err);
    cache_free(&fc);
    cache_free(&tc);
    if (st) return st;
    e->n = n;
    double c = average_path_length((double)ms);
    e->denominator = (double)n * c;
    m->n_estimators = n;
    /* predict gives the labels -1 and 1: a label table, so they come out as
     * the integers sklearn returns. */
    be_class *cls = be_alloc(m, 1, sizeof *cls);
    m->classes = be_alloc(m, 1, sizeof *m->classes);
    brine_label *l = be_alloc(m, 2, sizeof *l);
    if (!cls || !m->classes || !l) return nomem(err);
    *cls = *m->cls;
    cls->classifier = 1;
    m->cls = cls;
    l[0].kind = l[1].kind = BRINE_LABEL_INT;
    l[0].i = -1;
    l[1].i = 1;
    m->classes[0] = (be_classes){l, 2, 'i', 8};
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t iso_columns(const brine_model *m, brine_method method) {
    (void)m;
    switch (method) {
    case BRINE_METHOD_PREDICT:
    case BRINE_METHOD_DECISION_FUNCTION:
    case BRINE_METHOD_SCORE_SAMPLES:
        return 1;
    default:
        return BE_NO_METHOD;
    }
}

static brine_status iso_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                brine_error *err) {
    const ens_model *e = m->impl;
    size_t maxw = 1;
    for (size_t i = 0; i < e->n; i++)
        if (e->trees[i].n_features > maxw) maxw = e->trees[i].n_features;
    float *row = malloc(maxw * sizeof *row);
    if (!row) return nomem(err);
    for (size_t r = 0; r < in->n_rows; r++) {
        const float *x = in->x + r * in->n_cols;
        double depth = 0.0;
        for (size_t i = 0; i < e->n; i++) {
            const iso_tree *it = &e->trees[i];
            const float *xi = x;
            if (it->features) {
                for (size_t j = 0; j < it->n_features; j++) row[j] = x[it->features[j]];
                xi = row;
            }
            depth += it->path[be_tree_apply(it->tree, xi)];
        }
        double q = e->denominator != 0 ? depth / e->denominator : 1.0;
        double score = -pow(2.0, -q);
        double dec = score - e->offset;
        if (method == BRINE_METHOD_SCORE_SAMPLES) out->values[r] = score;
        else if (method == BRINE_METHOD_DECISION_FUNCTION) out->values[r] = dec;
        else out->indices[r] = dec < 0 ? 0 : 1;
    }
    free(row);
    return BRINE_OK;
}

/* ===================================================================== AdaBoost */

static brine_status ada_load(brine_model *m, const bv *state, brine_error *err) {
    ens_model *e;
    brine_status st = ens_alloc(m, &e, K_ADA, err);
    if (st) return st;
    size_t *nc = NULL;
    if ((st = load_members(m, e, bv_dict_get(state, "estimators_"), "estimators_", 0, err))) return st;
    if (m->cls->classifier && (st = be_read_classes(m, state, &nc, err))) return st;
    if ((st = common_width(m, state, e, err))) return st;
    if ((st = read_vector(m, bv_dict_get(state, "estimator_weights_"), "estimator_weights_", e->n, &e->weights,
                          &e->n_weights, err)))
        return st;
    e->weight_sum = be_pairwise_sum(e->weights, e->n_weights);
    m->n_estimators = e->n;
    members_text(m, e);
    if (m->cls->classifier) {
        const bv *alg = bv_dict_get(state, "algorithm");
        size_t k = e->n_classes = nc[0];
        if (bv_is_str(alg, "SAMME.R")) e->samme_r = 1;
        else if (!is_none(alg) && !bv_is_str(alg, "SAMME") && !bv_is_str(alg, "deprecated"))
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "algorithm is not 'SAMME' or 'SAMME.R'");
        /* sklearn 1.3 made SAMME's scores symmetric (PR 26521). */
        e->symmetric = be_version_at_least(m, 1, 3, 0) == 1;
        const be_classes *cl = &m->classes[0];
        for (size_t i = 0; i < e->n; i++) {
            const brine_model *s = e->mem[i].model;
            if (!s->cls->classifier || !s->classes || s->n_outputs != 1)
                return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "estimators_[%zu] (a %s) is not a single-output classifier",
                                      i, s->short_name);
            if (s->classes[0].n != k) return be_fail(err, m, "estimators_[%zu] has %zu classes, not %zu", i, s->classes[0].n, k);
            for (size_t j = 0; j < k; j++)
                if (!label_eq(&s->classes[0].labels[j], &cl->labels[j]))
                    return be_fail(err, m, "estimators_[%zu].classes_[%zu] differs from classes_[%zu]", i, j, j);
            if (e->samme_r && !brine_model_has_method(s, BRINE_METHOD_PREDICT_PROBA))
                return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "estimators_[%zu] (a %s) has no predict_proba for SAMME.R", i,
                                      s->short_name);
        }
    } else {
        for (size_t i = 0; i < e->n; i++)
            if (e->mem[i].model->cls->classifier || e->mem[i].model->n_outputs != 1)
                return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "estimators_[%zu] is not a single-output regressor", i);
    }
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t ada_columns(const brine_model *m, brine_method method) {
    const ens_model *e = m->impl;
    if (method == BRINE_METHOD_PREDICT) return 1;
    if (!m->cls->classifier) return BE_NO_METHOD;
    switch (method) {
    case BRINE_METHOD_PREDICT_PROBA:
    case BRINE_METHOD_PREDICT_LOG_PROBA:
        return e->n_classes;
    case BRINE_METHOD_DECISION_FUNCTION:
        return e->n_classes == 2 ? 1 : e->n_classes;
    default:
        return BE_NO_METHOD;
    }
}

/* decision_function's per-class scores before the binary fold: n_rows * K. */
static brine_status ada_scores(const brine_model *m, const be_input *in, double *pred, brine_error *err) {
    const ens_model *e = m->impl;
    size_t k = e->n_classes, rows = in->n_rows;
    double neg = e->symmetric && k > 1 ? -1.0 / (double)(k - 1) : 0.0;
    for (size_t i = 0; i < e->n; i++) {
        const brine_model *s = e->mem[i].model;
        brine_prediction *p = NULL;
        brine_status st = run(m, s, i, e->samme_r ? BRINE_METHOD_PREDICT_PROBA : BRINE_METHOD_PREDICT, in->xd, rows,
                              in->n_cols, in, &p, err);
        if (st) return st;
        if (e->samme_r) {
            /* _samme_proba: clip at eps, log, centre, times K - 1 */
            for (size_t r = 0; r < rows; r++) {
                double *lp = p->values + r * k;
                for (size_t j = 0; j < k; j++) lp[j] = log(isnan(lp[j]) || lp[j] >= DBL_EPSILON ? lp[j] : DBL_EPSILON);
                double c = (1.0 / (double)k) * be_pairwise_sum(lp, k);
                for (size_t j = 0; j < k; j++) pred[r * k + j] += (double)(k - 1) * (lp[j] - c);
            }
        } else {
            double w = e->weights[i];
            for (size_t r = 0; r < rows; r++) {
                int64_t idx = p->indices[r];
                for (size_t j = 0; j < k; j++) {
                    /* estimator.predict(X) == classes_: labels compared, as numpy does */
                    int hit = label_eq(&m->classes[0].labels[idx], &m->classes[0].labels[j]);
                    pred[r * k + j] += e->symmetric ? (hit ? w : neg * w) : (double)hit * w;
                }
            }
        }
        brine_prediction_free(p);
    }
    for (size_t c = 0; c < rows * k; c++) pred[c] /= e->weight_sum;
    return BRINE_OK;
}

/* numpy's argsort (introsort: median-of-3 quicksort, insertion sort below
 * 16, heapsort past the depth limit) of v[0..n) into idx, so ties order as
 * numpy orders them. */
static int lt(double a, double b) { return a < b || (b != b && a == a); }

static void aheapsort(const double *v, size_t *tosort, size_t n) {
    size_t *a = tosort - 1, i, j, l, tmp;
    for (l = n >> 1; l > 0; --l) {
        tmp = a[l];
        for (i = l, j = l << 1; j <= n;) {
            if (j < n && lt(v[a[j]], v[a[j + 1]])) j += 1;
            if (lt(v[tmp], v[a[j]])) {
                a[i] = a[j];
                i = j;
                j += j;
            } else {
                break;
            }
        }
        a[i] = tmp;
    }
    for (; n > 1;) {
        tmp = a[n];
        a[n] = a[1];
        n -= 1;
        for (i = 1, j = 2; j <= n;) {
            if (j < n && lt(v[a[j]], v[a[j + 1]])) j++;
            if (lt(v[tmp], v[a[j]])) {
                a[i] = a[j];
                i = j;
                j += j;
            } else {
                break;
            }
        }
        a[i] = tmp;
    }
}

static void argsort(const double *v, size_t *tosort, size_t num) {
    for (size_t i = 0; i < num; i++) tosort[i] = i;
    if (num < 2) return;
    size_t *pl = tosort, *pr = tosort + num - 1;
    size_t *stack[128], **sptr = stack, *pm, *pi, *pj, *pk, vi, tmp;
    int depth[128], *psdepth = depth;
    int cdepth = 0;
    for (size_t x = num; x > 1; x >>= 1) cdepth++;
    cdepth *= 2;
#define SWAP(a, b) (tmp = (a), (a) = (b), (b) = tmp)
    for (;;) {
        if (cdepth < 0) {
            aheapsort(v, pl, (size_t)(pr - pl) + 1);
            goto pop;
        }
        while ((pr - pl) > 16) {
            pm = pl + ((pr - pl) >> 1);
            if (lt(v[*pm], v[*pl])) SWAP(*pm, *pl);
            if (lt(v[*pr], v[*pm])) SWAP(*pr, *pm);
            if (lt(v[*pm], v[*pl])) SWAP(*pm, *pl);
            double vp = v[*pm];
            pi = pl;
            pj = pr - 1;
            SWAP(*pm, *pj);
            for (;;) {
                do ++pi;
                while (lt(v[*pi], vp));
                do --pj;
                while (lt(vp, v[*pj]));
                if (pi >= pj) break;
                SWAP(*pi, *pj);
            }
            pk = pr - 1;
            SWAP(*pi, *pk);
            if (pi - pl < pr - pi) {
                *sptr++ = pi + 1;
                *sptr++ = pr;
                pr = pi - 1;
            } else {
                *sptr++ = pl;
                *sptr++ = pi - 1;
                pl = pi + 1;
            }
            *psdepth++ = --cdepth;
        }
        for (pi = pl + 1; pi <= pr; ++pi) {
            vi = *pi;
            double vp = v[vi];
            pj = pi;
            pk = pi - 1;
            while (pj > pl && lt(vp, v[*pk])) *pj-- = *pk--;
            *pj = vi;
        }
    pop:
        if (sptr == stack) break;
        pr = *(--sptr);
        pl = *(--sptr);
        cdepth = *(--psdepth);
    }
#undef SWAP
}

/* AdaBoostRegressor._get_median_predict. */
static brine_status ada_median(const brine_model *m, const be_input *in, double *out, brine_error *err) {
    const ens_model *e = m->impl;
    size_t rows = in->n_rows, n = e->n;
    double *pred = scratch(rows, n, err), *cdf = scratch(n, 1, err);
    size_t *idx = calloc(n + 1, sizeof *idx);
    brine_status st = pred && cdf && idx ? BRINE_OK : nomem(err);
    for (size_t i = 0; i < n && !st; i++) {
        brine_prediction *p = NULL;
        st = run(m, e->mem[i].model, i, BRINE_METHOD_PREDICT, in->xd, rows, in->n_cols, in, &p, err);
        for (size_t r = 0; !st && r < rows; r++) pred[r * n + i] = p->values[r];
        brine_prediction_free(p);
    }
    for (size_t r = 0; r < rows && !st; r++) {
        const double *v = pred + r * n;
        argsort(v, idx, n);
        double acc = 0.0; /* np.cumsum in sorted order */
        for (size_t j = 0; j < n; j++) cdf[j] = acc += e->weights[idx[j]];
        double half = 0.5 * cdf[n - 1];
        size_t med = 0;
        for (size_t j = 0; j < n; j++) {
            if (cdf[j] >= half) {
                med = j;
                break;
            }
        }
        out[r] = v[idx[med]];
    }
    free(pred);
    free(cdf);
    free(idx);
    return st;
}

static brine_status ada_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                brine_error *err) {
    const ens_model *e = m->impl;
    /* _check_X refuses NaN and infinity in numbers, whatever the members
     * accept (text columns go to members that read them as they are) */
    brine_status st = in->text ? BRINE_OK : be_check_rows(m, in->xd, in->n_rows * in->n_cols, in->n_cols, 0, err);
    if (st) return st;
    if (!m->cls->classifier) return ada_median(m, in, out->values, err);
    size_t k = e->n_classes, rows = in->n_rows;
    if ((method == BRINE_METHOD_PREDICT_PROBA || method == BRINE_METHOD_PREDICT_LOG_PROBA) && k == 1) {
        for (size_t r = 0; r < rows; r++) out->values[r] = method == BRINE_METHOD_PREDICT_PROBA ? 1.0 : 0.0;
        return BRINE_OK;
    }
    double *pred = scratch(rows, k, err);
    if (!pred) return BRINE_E_NOMEM;
    if (!(e->symmetric && k == 1)) st = ada_scores(m, in, pred, err);
    if (st) goto done;
    for (size_t r = 0; r < rows; r++) {
        double *p = pred + r * k;
        double dec = 0.0;
        if (k == 2) {
            double two[2] = {p[0] * -1, p[1]};
            dec = be_pairwise_sum(two, 2);
        }
        switch (method) {
        case BRINE_METHOD_DECISION_FUNCTION:
            if (k == 2) out->values[r] = dec;
            else memcpy(out->values + r * k, p, k * sizeof *p);
            break;
        case BRINE_METHOD_PREDICT:
            out->indices[r] = k == 2 ? (dec > 0) : (int64_t)be_argmax(p, k);
            break;
        default: { /* _compute_proba_from_decision, then softmax */
            double *o = out->values + r * k;
            if (k == 2) {
                o[0] = -dec / 2;
                o[1] = dec / 2;
            } else {
                for (size_t j = 0; j < k; j++) o[j] = p[j] / (double)(k - 1);
            }
            softmax_rows(o, 1, k);
            if (method == BRINE_METHOD_PREDICT_LOG_PROBA)
                for (size_t j = 0; j < k; j++) o[j] = log(o[j]);
        }
        }
    }
done:
    free(pred);
    return st;
}

/* ====================================================================== Bagging */

/* A tree classifier has predict_log_proba in sklearn (log of its
 * predict_proba) even where brine's tree family does not list it. */
static int has_log_proba(const brine_model *s) {
    return brine_model_has_method(s, BRINE_METHOD_PREDICT_LOG_PROBA) ||
           (s->cls->family == &be_tree_family && s->cls->classifier && s->n_outputs == 1);
}

static brine_status member_log_proba(const brine_model *m, const brine_model *s, size_t i, const double *x,
                                     const be_input *in, size_t cols, brine_prediction **p, brine_error *err) {
    if (brine_model_has_method(s, BRINE_METHOD_PREDICT_LOG_PROBA))
        return run(m, s, i, BRINE_METHOD_PREDICT_LOG_PROBA, x, in->n_rows, cols, in, p, err);
    brine_status st = run(m, s, i, BRINE_METHOD_PREDICT_PROBA, x, in->n_rows, cols, in, p, err);
    for (size_t c = 0; !st && c < (*p)->n_rows * (*p)->n_columns; c++) (*p)->values[c] = log((*p)->values[c]);
    return st;
}

/* sklearn.ensemble._base._partition_estimators for a given n_jobs: None
 * (and anything not a positive int, which depends on the machine sklearn
 * ran on) is one job. */
static brine_status bag_jobs(brine_model *m, ens_model *e, const bv *state, int64_t n_est, brine_error *err) {
    int64_t jobs = 1, v;
    if (be_get_int(bv_dict_get(state, "n_jobs"), &v) && v > 1) jobs = v;
    if (jobs > n_est) jobs = n_est;
    e->n_jobs = (size_t)jobs;
    e->starts = be_alloc(m, e->n_jobs + 1, sizeof *e->starts);
    if (!e->starts) return nomem(err);
    int64_t per = n_est / jobs, extra = n_est % jobs, at = 0;
    for (size_t j = 0; j < e->n_jobs; j++) {
        e->starts[j] = (size_t)(at < (int64_t)e->n ? at : (int64_t)e->n);
        at += per + ((int64_t)j < extra);
    }
    e->starts[e->n_jobs] = (size_t)(at < (int64_t)e->n ? at : (int64_t)e->n);
    return BRINE_OK;
}

static brine_status bag_load(brine_model *m, const bv *state, brine_error *err) {
    ens_model *e;
    brine_status st = ens_alloc(m, &e, K_BAG, err);
    if (st) return st;
    size_t *nc = NULL;
    if ((st = load_members(m, e, bv_dict_get(state, "estimators_"), "estimators_", 0, err))) return st;
    if (m->cls->classifier && (st = be_read_classes(m, state, &nc, err))) return st;
    if ((st = be_read_n_features(m, state, &m->n_features_in, err))) return st;
    if (m->n_features_in < 1) return be_fail(err, m, "n_features_in_ is missing");
    size_t nf;
    bv *const *feats = seq_items(bv_dict_get(state, "estimators_features_"), &nf);
    if (!feats || nf != e->n) return be_fail(err, m, "estimators_features_ is not a list of %zu arrays", e->n);
    int64_t n_est;
    if (!be_get_int(bv_dict_get(state, "n_estimators"), &n_est) || n_est < 1 || n_est > INT32_MAX)
        return be_fail(err, m, "n_estimators is not a positive int");
    e->n_estimators = (double)n_est;
    if ((st = bag_jobs(m, e, state, n_est, err))) return st;
    e->n_classes = nc ? nc[0] : 0;
    ptr_cache fc = {0};
    if (!cache_init(&fc, e->n)) st = nomem(err);
    for (size_t i = 0; i < e->n && !st; i++)
        st = read_features(m, feats[i], i, m->n_features_in, &e->mem[i].features, &e->mem[i].n_features, &fc, err);
    cache_free(&fc);
    if (st) return st;
    for (size_t i = 0; i < e->n; i++) {
        ens_member *mm = &e->mem[i];
        if ((st = member_width(m, mm->model, i, mm->n_features, err))) return st;
        if (m->cls->classifier) {
            if ((st = member_codes(m, mm, i, e->n_classes, 0, err))) return st;
        } else if (mm->model->cls->classifier || mm->model->n_outputs != 1) {
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "estimators_[%zu] is not a single-output regressor", i);
        }
    }
    const brine_model *first = e->mem[0].model;
    e->has_log = m->cls->classifier && has_log_proba(first);
    e->has_decision = brine_model_has_method(first, BRINE_METHOD_DECISION_FUNCTION);
    if (e->has_decision) {
        e->decision_cols = be_output_columns(first, BRINE_METHOD_DECISION_FUNCTION);
        for (size_t i = 1; i < e->n; i++)
            if (!brine_model_has_method(e->mem[i].model, BRINE_METHOD_DECISION_FUNCTION) ||
                be_output_columns(e->mem[i].model, BRINE_METHOD_DECISION_FUNCTION) != e->decision_cols)
                e->has_decision = 0; /* sklearn could not add them either */
    }
    for (size_t i = 0; e->has_log && i < e->n; i++)
        if (!has_log_proba(e->mem[i].model)) e->has_log = 0;
    m->n_estimators = e->n;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t bag_columns(const brine_model *m, brine_method method) {
    const ens_model *e = m->impl;
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return 1;
    case BRINE_METHOD_PREDICT_PROBA:
    case BRINE_METHOD_PREDICT_LOG_PROBA:
        return m->cls->classifier ? e->n_classes : BE_NO_METHOD;
    case BRINE_METHOD_DECISION_FUNCTION:
        return e->has_decision ? e->decision_cols : BE_NO_METHOD;
    default:
        return BE_NO_METHOD;
    }
}

/* _parallel_predict_proba over every job, summed as sklearn sums the jobs,
 * divided by n_estimators. */
static brine_status bag_proba(const brine_model *m, const be_input *in, double *out, brine_error *err) {
    const ens_model *e = m->impl;
    size_t rows = in->n_rows, k = e->n_classes;
    double *job = scratch(rows, k, err), *buf = scratch(rows, m->n_features_in, err);
    brine_status st = job && buf ? BRINE_OK : BRINE_E_NOMEM;
    for (size_t c = 0; c < rows * k; c++) out[c] = 0.0;
    for (size_t j = 0; j < e->n_jobs && !st; j++) {
        for (size_t c = 0; c < rows * k; c++) job[c] = 0.0;
        for (size_t i = e->starts[j]; i < e->starts[j + 1] && !st; i++) {
            const ens_member *mm = &e->mem[i];
            const double *x = member_rows(mm, in, buf);
            brine_prediction *p = NULL;
            int proba = brine_model_has_method(mm->model, BRINE_METHOD_PREDICT_PROBA);
            st = run(m, mm->model, i, proba ? BRINE_METHOD_PREDICT_PROBA : BRINE_METHOD_PREDICT, x, rows, mm->n_features,
                     in, &p, err);
            if (st) break;
            for (size_t r = 0; r < rows; r++) {
                /* all classes: added column by column; else at proba[:, classes_] */
                if (proba)
                    for (size_t q = 0; q < mm->n_cls; q++)
                        job[r * k + (mm->n_cls == k ? q : (size_t)mm->cls[q])] += p->values[r * mm->n_cls + q];
                else
                    job[r * k + (size_t)code_of(mm, p->indices[r])] += 1;
            }
            brine_prediction_free(p);
        }
        for (size_t c = 0; c < rows * k; c++) out[c] += job[c];
    }
    for (size_t c = 0; c < rows * k; c++) out[c] /= e->n_estimators;
    free(job);
    free(buf);
    return st;
}

static brine_status bag_log_proba(const brine_model *m, const be_input *in, double *out, brine_error *err) {
    const ens_model *e = m->impl;
    size_t rows = in->n_rows, k = e->n_classes;
    double *job = scratch(rows, k, err), *buf = scratch(rows, m->n_features_in, err);
    unsigned char *hit = calloc(k + 1, 1);
    brine_status st = job && buf && hit ? BRINE_OK : nomem(err);
    for (size_t j = 0; j < e->n_jobs && !st; j++) {
        for (size_t c = 0; c < rows * k; c++) job[c] = -INFINITY;
        for (size_t i = e->starts[j]; i < e->starts[j + 1] && !st; i++) {
            const ens_member *mm = &e->mem[i];
            const double *x = member_rows(mm, in, buf);
            brine_prediction *p = NULL;
            st = member_log_proba(m, mm->model, i, x, in, mm->n_features, &p, err);
            if (st) break;
            int all = mm->n_cls == k;
            memset(hit, 1, k);
            if (!all) memset(hit, 0, k);
            for (size_t q = 0; !all && q < mm->n_cls; q++) hit[mm->cls[q]] = 1;
            for (size_t r = 0; r < rows; r++) {
                for (size_t q = 0; q < mm->n_cls; q++) {
                    double *c = &job[r * k + (all ? q : (size_t)mm->cls[q])];
                    *c = logaddexp(*c, p->values[r * mm->n_cls + q]);
                }
                for (size_t c = 0; c < k; c++)
                    if (!hit[c]) job[r * k + c] = logaddexp(job[r * k + c], -INFINITY);
            }
            brine_prediction_free(p);
        }
        for (size_t c = 0; c < rows * k; c++) out[c] = j ? logaddexp(out[c], job[c]) : job[c];
    }
    double l = log(e->n_estimators);
    for (size_t c = 0; !st && c < rows * k; c++) out[c] -= l;
    free(job);
    free(buf);
    free(hit);
    return st;
}

/* decision_function or a regressor's predict: sums of the members' outputs
 * per job, the jobs summed, divided by n_estimators. */
static brine_status bag_sum(const brine_model *m, brine_method meth, const be_input *in, double *out, size_t cols,
                            brine_error *err) {
    const ens_model *e = m->impl;
    size_t rows = in->n_rows, cells = rows * cols;
    double *job = scratch(rows, cols, err), *buf = scratch(rows, m->n_features_in, err);
    brine_status st = job && buf ? BRINE_OK : BRINE_E_NOMEM;
    for (size_t c = 0; c < cells; c++) out[c] = 0.0;
    for (size_t j = 0; j < e->n_jobs && !st; j++) {
        for (size_t c = 0; c < cells; c++) job[c] = 0.0;
        for (size_t i = e->starts[j]; i < e->starts[j + 1] && !st; i++) {
            const ens_member *mm = &e->mem[i];
            brine_prediction *p = NULL;
            st = run(m, mm->model, i, meth, member_rows(mm, in, buf), rows, mm->n_features, in, &p, err);
            for (size_t c = 0; !st && c < cells; c++) job[c] += p->values[c];
            brine_prediction_free(p);
        }
        for (size_t c = 0; c < cells; c++) out[c] += job[c];
    }
    for (size_t c = 0; c < cells; c++) out[c] /= e->n_estimators;
    free(job);
    free(buf);
    return st;
}

static brine_status bag_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                brine_error *err) {
    const ens_model *e = m->impl;
    brine_status cst = numbers_only(m, in, err); /* members get column subsets */
    if (cst) return cst;
    if (!m->cls->classifier) return bag_sum(m, BRINE_METHOD_PREDICT, in, out->values, 1, err);
    switch (method) {
    case BRINE_METHOD_PREDICT_PROBA:
        return bag_proba(m, in, out->values, err);
    case BRINE_METHOD_PREDICT_LOG_PROBA:
        if (e->has_log) return bag_log_proba(m, in, out->values, err);
        {
            brine_status st = bag_proba(m, in, out->values, err);
            for (size_t c = 0; !st && c < in->n_rows * e->n_classes; c++) out->values[c] = log(out->values[c]);
            return st;
        }
    case BRINE_METHOD_DECISION_FUNCTION:
        return bag_sum(m, method, in, out->values, e->decision_cols, err);
    default: {
        double *p = scratch(in->n_rows, e->n_classes, err);
        if (!p) return BRINE_E_NOMEM;
        brine_status st = bag_proba(m, in, p, err);
        for (size_t r = 0; !st && r < in->n_rows; r++)
            out->indices[r] = (int64_t)be_argmax(p + r * e->n_classes, e->n_classes);
        free(p);
        return st;
    }
    }
}

/* ======================================================================= Voting */

/* weights of the estimators that are not 'drop' (_weights_not_none). */
static brine_status vote_weights(brine_model *m, ens_model *e, const bv *state, brine_error *err) {
    const bv *w = bv_dict_get(state, "weights");
    if (is_none(w)) return BRINE_OK;
    size_t ne, nw;
    bv *const *ests = seq_items(bv_dict_get(state, "estimators"), &ne);
    if (!ests) return be_fail(err, m, "estimators is not a list");
    double *wv = NULL;
    const bv_array *a = be_array(w);
    bv *const *items = a ? NULL : seq_items(w, &nw);
    if (a) {
        be_matrix mx;
        brine_status st = be_read_matrix(m, w, "weights", 1, &mx, err);
        if (st) return st;
        wv = mx.v;
        nw = mx.cols;
    } else if (!items) {
        return be_fail(err, m, "weights is not a list of numbers");
    }
    if (nw != ne) return be_fail(err, m, "weights has %zu entries for %zu estimators", nw, ne);
    e->vweights = be_alloc(m, e->n, sizeof *e->vweights);
    if (!e->vweights) return nomem(err);
    size_t at = 0;
    for (size_t i = 0; i < ne; i++) {
        const bv *pair = ests[i];
        if (!is_seq(pair) || pair->u.seq.n != 2) return be_fail(err, m, "estimators[%zu] is not a (name, estimator) pair", i);
        if (is_drop(pair->u.seq.items[1])) continue;
        double x;
        if (a) x = wv[i];
        else if (!be_get_double(items[i], &x)) return be_fail(err, m, "weights[%zu] is not a number", i);
        if (at == e->n) return be_fail(err, m, "estimators names more estimators than estimators_ holds");
        e->vweights[at++] = x;
    }
    if (at != e->n) return be_fail(err, m, "weights has %zu entries for the %zu estimators_", at, e->n);
    e->vweight_sum = be_pairwise_sum(e->vweights, e->n);
    if (e->vweight_sum == 0.0) return be_fail(err, m, "weights sum to zero");
    return BRINE_OK;
}

static brine_status vote_load(brine_model *m, const bv *state, brine_error *err) {
    ens_model *e;
    brine_status st = ens_alloc(m, &e, K_VOTE, err);
    if (st) return st;
    if ((st = load_members(m, e, bv_dict_get(state, "estimators_"), "estimators_", 0, err))) return st;
    if ((st = common_width(m, state, e, err))) return st;
    if ((st = vote_weights(m, e, state, err))) return st;
    if (m->cls->classifier) {
        const bv *voting = bv_dict_get(state, "voting");
        if (bv_is_str(voting, "soft")) e->soft = 1;
        else if (!bv_is_str(voting, "hard")) return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "voting is not 'hard' or 'soft'");
        const bv *ft = bv_dict_get(state, "flatten_transform");
        e->flatten = is_none(ft) || (ft->kind == BRINE_BOOL && ft->u.i);
        const bv *le = bv_dict_get(state, "le_");
        const bv *les = le && le->kind == BRINE_OBJECT ? le->u.obj.state : NULL;
        if (!les || les->kind != BRINE_DICT) return be_fail(err, m, "le_ is not a fitted LabelEncoder");
        if ((st = one_classes(m, bv_dict_get(les, "classes_"), "le_.classes_", err))) return st;
        e->n_classes = m->classes[0].n;
        const bv *own = bv_dict_get(state, "classes_");
        if (!is_none(own)) {
            be_classes c;
            if ((st = be_read_labels(m, own, "classes_", &c, err))) return st;
            if (c.n != e->n_classes) return be_fail(err, m, "classes_ has %zu labels but le_.classes_ %zu", c.n, e->n_classes);
        }
        for (size_t i = 0; i < e->n; i++) {
            if ((st = member_codes(m, &e->mem[i], i, e->n_classes, e->soft, err))) return st;
            if (e->soft && !brine_model_has_method(e->mem[i].model, BRINE_METHOD_PREDICT_PROBA))
                return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "estimators_[%zu] (a %s) has no predict_proba for soft voting",
                                      i, e->mem[i].model->short_name);
        }
    } else {
        for (size_t i = 0; i < e->n; i++)
            if (e->mem[i].model->cls->classifier || e->mem[i].model->n_outputs != 1)
                return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "estimators_[%zu] is not a single-output regressor", i);
    }
    m->n_estimators = e->n;
    members_text(m, e);
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t vote_columns(const brine_model *m, brine_method method) {
    const ens_model *e = m->impl;
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return 1;
    case BRINE_METHOD_PREDICT_PROBA:
        return m->cls->classifier && e->soft ? e->n_classes : BE_NO_METHOD;
    case BRINE_METHOD_TRANSFORM:
        if (!m->cls->classifier || !e->soft) return e->n;
        return e->n * e->n_classes; /* flatten_transform=False (3-D) is refused when called */
    default:
        return BE_NO_METHOD;
    }
}

/* Every member's predict (encoded labels or values) as rows * n doubles, member i in column i. */
static brine_status vote_collect(const brine_model *m, const be_input *in, double *all, brine_error *err) {
    const ens_model *e = m->impl;
    for (size_t i = 0; i < e->n; i++) {
        brine_prediction *p = NULL;
        brine_status st = run(m, e->mem[i].model, i, BRINE_METHOD_PREDICT, in->xd, in->n_rows, in->n_cols, in, &p, err);
        if (st) return st;
        for (size_t r = 0; r < in->n_rows; r++)
            all[r * e->n + i] = p->indices ? (double)code_of(&e->mem[i], p->indices[r]) : p->values[r];
        brine_prediction_free(p);
    }
    return BRINE_OK;
}

static brine_status vote_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                 brine_error *err) {
    const ens_model *e = m->impl;
    size_t rows = in->n_rows, n = e->n, k = e->n_classes;
    brine_status st = BRINE_OK;
    if (!m->cls->classifier || !e->soft) {
        double *all = scratch(rows, n, err), *cnt = scratch(k ? k : 1, 1, err), *terms = scratch(n, 1, err);
        st = all && cnt && terms ? vote_collect(m, in, all, err) : BRINE_E_NOMEM;
        for (size_t r = 0; r < rows && !st; r++) {
            const double *a = all + r * n;
            if (method == BRINE_METHOD_TRANSFORM) {
                memcpy(out->values + r * n, a, n * sizeof *a);
            } else if (!m->cls->classifier) {
                /* np.average over axis 1 of the (rows, n) transposed stack */
                double s = 0.0;
                for (size_t i = 0; i < n; i++) terms[i] = e->vweights ? a[i] * e->vweights[i] : a[i];
                if (rows == 1) s = be_pairwise_sum(terms, n);
                else
                    for (size_t i = 0; i < n; i++) s += terms[i];
                out->values[r] = s / (e->vweights ? e->vweight_sum : (double)n);
            } else {
                /* argmax(bincount(labels, weights)) */
                size_t top = 0;
                for (size_t c = 0; c < k; c++) cnt[c] = 0.0;
                for (size_t i = 0; i < n; i++) {
                    size_t c = (size_t)a[i];
                    cnt[c] += e->vweights ? e->vweights[i] : 1.0;
                    if (c > top) top = c;
                }
                out->indices[r] = (int64_t)be_argmax(cnt, top + 1);
            }
        }
        free(all);
        free(cnt);
        free(terms);
        return st;
    }
    /* soft: the members' predict_proba */
    if (method == BRINE_METHOD_TRANSFORM && !e->flatten)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m,
                              "transform with flatten_transform=False is 3-D (n_classifiers, n_samples, n_classes); "
                              "brine gives 2-D tables");
    double *avg = scratch(rows, k, err);
    if (!avg) return BRINE_E_NOMEM;
    for (size_t i = 0; i < n && !st; i++) {
        brine_prediction *p = NULL;
        st = run(m, e->mem[i].model, i, BRINE_METHOD_PREDICT_PROBA, in->xd, rows, in->n_cols, in, &p, err);
        if (st) break;
        for (size_t r = 0; r < rows; r++) {
            for (size_t c = 0; c < k; c++) {
                double v = p->values[r * k + c];
                if (method == BRINE_METHOD_TRANSFORM) out->values[r * n * k + i * k + c] = v;
                else avg[r * k + c] += e->vweights ? v * e->vweights[i] : v;
            }
        }
        brine_prediction_free(p);
    }
    for (size_t r = 0; r < rows && !st && method != BRINE_METHOD_TRANSFORM; r++) {
        double *a = avg + r * k;
        for (size_t c = 0; c < k; c++) a[c] /= e->vweights ? e->vweight_sum : (double)n;
        if (method == BRINE_METHOD_PREDICT_PROBA) memcpy(out->values + r * k, a, k * sizeof *a);
        else out->indices[r] = (int64_t)be_argmax(a, k);
    }
    free(avg);
    return st;
}

/* ===================================================================== Stacking */

static brine_status stack_load(brine_model *m, const bv *state, brine_error *err) {
    ens_model *e;
    brine_status st = ens_alloc(m, &e, K_STACK, err);
    if (st) return st;
    if ((st = load_members(m, e, bv_dict_get(state, "estimators_"), "estimators_", 1, err))) return st;
    size_t nm;
    bv *const *meths = seq_items(bv_dict_get(state, "stack_method_"), &nm);
    if (!meths || nm != e->n) return be_fail(err, m, "stack_method_ is not a list of %zu names", e->n);
    if ((st = common_width(m, state, e, err))) return st;
    const bv *pt = bv_dict_get(state, "passthrough");
    e->passthrough = pt && pt->kind == BRINE_BOOL && pt->u.i;
    if (m->cls->classifier) {
        const bv *le = bv_dict_get(state, "_label_encoder");
        const bv *les = le && le->kind == BRINE_OBJECT ? le->u.obj.state : NULL;
        if (is_seq(le)) return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "is fitted on several outputs; brine supports one");
        if (!les || les->kind != BRINE_DICT) return be_fail(err, m, "_label_encoder is not a fitted LabelEncoder");
        if ((st = one_classes(m, bv_dict_get(les, "classes_"), "_label_encoder.classes_", err))) return st;
        e->n_classes = m->classes[0].n;
    }
    size_t width = 0;
    for (size_t i = 0; i < e->n; i++) {
        ens_member *mm = &e->mem[i];
        const brine_model *s = mm->model;
        if (!s) continue;
        const bv *meth = meths[i];
        brine_method bm;
        if (bv_is_str(meth, "predict_proba")) mm->method = SM_PROBA, bm = BRINE_METHOD_PREDICT_PROBA;
        else if (bv_is_str(meth, "decision_function")) mm->method = SM_DECISION, bm = BRINE_METHOD_DECISION_FUNCTION;
        else if (bv_is_str(meth, "predict")) mm->method = SM_PREDICT, bm = BRINE_METHOD_PREDICT;
        else return be_fail(err, m, "stack_method_[%zu] is not predict_proba, decision_function or predict", i);
        if (s->n_outputs != 1)
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "estimators_[%zu] has %zu outputs; brine supports one", i,
                                  s->n_outputs);
        if (!brine_model_has_method(s, bm))
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "estimators_[%zu] (a %s) has no %s", i, s->short_name,
                                  brine_method_name(bm));
        if (s->cls->classifier && m->cls->classifier && (st = member_codes(m, mm, i, e->n_classes, 0, err))) return st;
        if (s->cls->classifier && !m->cls->classifier && mm->method == SM_PREDICT) {
            /* a classifier's labels as numbers */
            for (size_t j = 0; j < s->classes[0].n; j++)
                if (s->classes[0].labels[j].kind == BRINE_LABEL_STR)
                    return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "estimators_[%zu] predicts text labels", i);
        }
        size_t cols = be_output_columns(s, bm);
        if (mm->method == SM_PROBA && m->cls->classifier && e->n_classes == 2) cols -= cols ? 1 : 0;
        mm->width = cols;
        width += cols;
    }
    if (e->passthrough) width += (size_t)m->n_features_in;
    e->meta_width = width;
    const bv *fin = bv_dict_get(state, "final_estimator_");
    if (is_none(fin)) return be_fail(err, m, "final_estimator_ is missing");
    if ((st = load_model(m, fin, "final_estimator_", &e->final, err))) return st; /* load_members left it a slot */
    const brine_model *f = e->final;
    if ((size_t)f->n_features_in != width)
        return be_fail(err, m, "final_estimator_ takes %lld features but the stack gives %zu", (long long)f->n_features_in, width);
    if (m->cls->classifier) {
        if (!f->cls->classifier || !f->classes || f->n_outputs != 1)
            return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "final_estimator_ (a %s) is not a single-output classifier",
                                  f->short_name);
        if (f->classes[0].n != e->n_classes)
            return be_fail(err, m, "final_estimator_ has %zu classes but _label_encoder %zu", f->classes[0].n, e->n_classes);
        for (size_t j = 0; j < e->n_classes; j++) {
            int64_t c;
            if (!label_index(&f->classes[0].labels[j], e->n_classes, &c) || (size_t)c != j)
                return be_fail(err, m, "final_estimator_.classes_[%zu] is not the encoded class %zu", j, j);
        }
    } else if (f->cls->classifier || f->n_outputs != 1) {
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "final_estimator_ (a %s) is not a single-output regressor",
                              f->short_name);
    }
    m->n_estimators = e->n;
    members_text(m, e);
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t stack_columns(const brine_model *m, brine_method method) {
    const ens_model *e = m->impl;
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return 1;
    case BRINE_METHOD_TRANSFORM:
        return e->meta_width;
    case BRINE_METHOD_PREDICT_PROBA:
    case BRINE_METHOD_DECISION_FUNCTION:
        return m->cls->classifier ? be_output_columns(e->final, method) : BE_NO_METHOD;
    default:
        return BE_NO_METHOD;
    }
}

/* transform: the members' stack_method_ outputs side by side (a binary
 * stack's predict_proba without its first column), then X if passthrough. */
static brine_status stack_meta(const brine_model *m, const be_input *in, double *meta, brine_error *err) {
    const ens_model *e = m->impl;
    size_t rows = in->n_rows, w = e->meta_width, at = 0;
    static const brine_method bm[] = {BRINE_METHOD_PREDICT_PROBA, BRINE_METHOD_DECISION_FUNCTION, BRINE_METHOD_PREDICT};
    for (size_t i = 0; i < e->n; i++) {
        const ens_member *mm = &e->mem[i];
        if (!mm->model) continue;
        brine_prediction *p = NULL;
        brine_status st = run(m, mm->model, i, bm[mm->method], in->xd, rows, in->n_cols, in, &p, err);
        if (st) return st;
        size_t skip = p->n_columns - mm->width;
        for (size_t r = 0; r < rows; r++) {
            for (size_t c = 0; c < mm->width; c++) {
                double v;
                if (p->indices) {
                    const brine_label *l = &mm->model->classes[0].labels[p->indices[r]];
                    v = mm->cls ? (double)code_of(mm, p->indices[r]) : label_number(l);
                } else {
                    v = p->values[r * p->n_columns + skip + c];
                }
                meta[r * w + at + c] = v;
            }
        }
        at += mm->width;
        brine_prediction_free(p);
    }
    if (e->passthrough) {
        brine_status st = numbers_only(m, in, err); /* X joins the numeric meta features */
        if (st) return st;
        for (size_t r = 0; r < rows; r++) memcpy(meta + r * w + at, in->xd + r * in->n_cols, in->n_cols * sizeof(double));
    }
    return BRINE_OK;
}

static brine_status stack_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                  brine_error *err) {
    const ens_model *e = m->impl;
    double *meta = scratch(in->n_rows, e->meta_width, err);
    if (!meta) return BRINE_E_NOMEM;
    brine_status st = stack_meta(m, in, meta, err);
    if (!st && method == BRINE_METHOD_TRANSFORM) {
        memcpy(out->values, meta, in->n_rows * e->meta_width * sizeof *meta);
    } else if (!st) {
        brine_prediction *p = NULL;
        brine_predict_options po = BRINE_PREDICT_OPTIONS_INIT;
        po.n_threads = in->n_threads;
        po.reference = in->reference;
        brine_error sub;
        brine_error_clear(&sub);
        st = brine_predict(&p, e->final, method, meta, BRINE_DTYPE_FLOAT64, in->n_rows, e->meta_width, &po, &sub);
        if (st) {
            bi_fail(err, st, -1, "%s: final_estimator_: %s", m->short_name, sub.message);
        } else {
            size_t cells = in->n_rows * out->n_columns;
            /* the final classifier's classes are the encoded 0 .. K-1 */
            if (out->indices) memcpy(out->indices, p->indices, cells * sizeof *out->indices);
            else memcpy(out->values, p->values, cells * sizeof *out->values);
        }
        brine_prediction_free(p);
    }
    free(meta);
    return st;
}

const be_family be_iforest_family = {"iforest", iso_load, iso_predict, NULL, iso_columns, 0};
const be_family be_adaboost_family = {"adaboost", ada_load, ada_predict, NULL, ada_columns, BE_FAM_FLOAT64};
const be_family be_bagging_family = {"bagging", bag_load, bag_predict, NULL, bag_columns, BE_FAM_FLOAT64};
const be_family be_voting_family = {"voting", vote_load, vote_predict, NULL, vote_columns, BE_FAM_FLOAT64};
const be_family be_stacking_family = {"stacking", stack_load, stack_predict, NULL, stack_columns, BE_FAM_FLOAT64};
