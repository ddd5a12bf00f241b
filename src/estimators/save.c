/* save.c — a loaded model back into the value graph sklearn of a chosen
 * version pickles, then into a file through brine_save.
 *
 * The families (tree.c, forest.c) lay out their estimators' keys; this file
 * holds what they share: small builders that allocate from the save arena,
 * parameters with their defaults, class labels, and the Tree object, whose
 * records and values differ by layout generation:
 *
 *   BE_GEN_12 (sklearn 1.2): 56-byte node records; classifier values are
 *       weighted class counts;
 *   BE_GEN_14 (sklearn >= 1.4): 64-byte records ending in
 *       missing_go_to_left; classifier values are class fractions.
 *
 * Builders never fail loudly: an allocation failure returns NULL and marks
 * the context, and the caller checks once at the end (every builder
 * accepts NULL inputs, so a half-built graph is simply dropped). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"
#include "numpy/numpy.h"
#include "pickle/text.h"

/* ------------------------------------------------------------ builders */

static bv *mark(be_save *s, bv *v) {
    if (!v) s->failed = 1;
    return v;
}

bv *be_s_str(be_save *s, const char *text) { return mark(s, bv_str(s->a, text)); }
bv *be_s_int(be_save *s, int64_t v) { return mark(s, bv_int(s->a, v)); }
bv *be_s_none(be_save *s) { return mark(s, bv_none(s->a)); }
bv *be_s_dict(be_save *s) { return mark(s, bv_new(s->a, BRINE_DICT)); }

static bv *be_s_float(be_save *s, double v) { return mark(s, bv_float(s->a, v)); }

void be_s_set(be_save *s, bv *dict, const char *key, bv *value) {
    if (!dict || !value || bv_dict_set_str(s->a, dict, key, value)) s->failed = 1;
}

static bv *list_of(be_save *s, size_t n) {
    bv *l = mark(s, bv_new(s->a, BRINE_LIST));
    if (l && n && !(l->u.seq.items = bp_arena_alloc(s->a, n * sizeof *l->u.seq.items))) s->failed = 1;
    if (l) l->u.seq.cap = n;
    return l;
}

static void list_push(be_save *s, bv *list, bv *item) {
    if (!list || !item || list->u.seq.n >= list->u.seq.cap) {
        s->failed = 1;
        return;
    }
    list->u.seq.items[list->u.seq.n++] = item;
}

bv *be_s_estimator(be_save *s, const char *module, const char *name, bv *state) {
    bv *o = mark(s, bv_new(s->a, BRINE_OBJECT));
    bv *cls = mark(s, bv_global(s->a, module, name, NULL));
    bv *args = mark(s, bv_tuple_of(s->a, 0, NULL));
    if (!o || !cls || !args || !state) return NULL;
    o->how = BV_HOW_NEWOBJ;
    o->u.obj.callable = cls;
    o->u.obj.args = args;
    o->u.obj.state = state;
    return o;
}

/* ------------------------------------------------------------- arrays */

static void put_le(uint8_t *p, uint64_t v, size_t n) {
    for (size_t k = 0; k < n; k++) p[k] = (uint8_t)(v >> (8 * k));
}

static void put_f8(uint8_t *p, double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    put_le(p, u, 8);
}

/* An array over data (arena memory, little-endian items) of dtype. */
static bv *array_of(be_save *s, bv *dtype, int ndim, const int64_t *shape, const uint8_t *data, size_t nbytes,
                    bv *objects) {
    bv *v = NULL;
    if (!dtype || (!data && !objects)) return mark(s, NULL);
    if (bn_array_new(s->a, &v, dtype, ndim, shape, 0, data, nbytes, objects, NULL, -1)) return mark(s, NULL);
    return v;
}

/* Zeroed arena memory (NULL marks the failure). */
static uint8_t *zeroed(be_save *s, size_t n) {
    uint8_t *p = bp_arena_alloc(s->a, n ? n : 1);
    if (!p) s->failed = 1;
    return p;
}

bv *be_s_intp_scalar(be_save *s, int64_t v) {
    uint8_t *data = zeroed(s, 8);
    if (!data) return NULL;
    put_le(data, (uint64_t)v, 8);
    bv *a = array_of(s, mark(s, bn_dtype_simple(s->a, 'i', 8, '<')), 0, NULL, data, 8, NULL);
    if (a) a->kind = BRINE_SCALAR; /* what numpy.core.multiarray.scalar gives */
    return a;
}

bv *be_s_intp_array(be_save *s, const int64_t *v, size_t n) {
    uint8_t *data = zeroed(s, 8 * n);
    if (!data) return NULL;
    for (size_t k = 0; k < n; k++) put_le(data + 8 * k, (uint64_t)v[k], 8);
    int64_t shape[1] = {(int64_t)n};
    return array_of(s, mark(s, bn_dtype_simple(s->a, 'i', 8, '<')), 1, shape, data, 8 * n, NULL);
}

bv *be_s_f8_array(be_save *s, const double *v, int ndim, const int64_t *shape) {
    size_t count = 1;
    for (int k = 0; k < ndim; k++) count *= (size_t)shape[k];
    uint8_t *data = zeroed(s, 8 * count);
    if (!data) return NULL;
    for (size_t k = 0; k < count; k++) put_f8(data + 8 * k, v[k]);
    return array_of(s, mark(s, bn_dtype_simple(s->a, 'f', 8, '<')), ndim, shape, data, 8 * count, NULL);
}

/* An array over n doubles that stay alive and unchanged while the graph is
 * written (a tree's values): their own bytes on a little-endian host, no
 * copy; else converted as be_s_f8_array does. */
static bv *f8_view(be_save *s, const double *v, int ndim, const int64_t *shape) {
    if (!be_host_little()) return be_s_f8_array(s, v, ndim, shape);
    size_t count = 1;
    for (int k = 0; k < ndim; k++) count *= (size_t)shape[k];
    return array_of(s, mark(s, bn_dtype_simple(s->a, 'f', 8, '<')), ndim, shape, (const uint8_t *)(const void *)v,
                    8 * count, NULL);
}

/* ------------------------------------------------------------- labels */

static bv *label_object(be_save *s, const brine_label *l) {
    switch (l->kind) {
    case BRINE_LABEL_INT: return be_s_int(s, l->i);
    case BRINE_LABEL_FLOAT: return be_s_float(s, l->f);
    case BRINE_LABEL_BOOL: return mark(s, bv_bool(s->a, (int)l->i));
    default: return mark(s, bv_bytes_kind(s->a, BRINE_STR, l->s, l->len, 1));
    }
}

/* One label's bytes in a fixed-size dtype of kind and itemsize. */
static void label_item(const brine_label *l, char kind, size_t itemsize, uint8_t *p) {
    if (kind == 'f' && itemsize == 4) {
        float f = (float)l->f;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        put_le(p, u, 4);
    } else if (kind == 'f') {
        put_f8(p, l->f);
    } else if (kind == 'U') {
        const uint8_t *t = (const uint8_t *)l->s;
        size_t at = 0;
        for (size_t k = 0; k + 4 <= itemsize && at < l->len; k += 4) {
            uint32_t cp;
            at += bp_utf8_get(t + at, l->len - at, &cp);
            put_le(p + k, cp, 4);
        }
    } else if (kind == 'S') {
        memcpy(p, l->s, l->len < itemsize ? l->len : itemsize);
    } else {
        put_le(p, (uint64_t)l->i, itemsize);
    }
}

bv *be_s_labels(be_save *s, const be_classes *c) {
    int64_t shape[1] = {(int64_t)c->n};
    if (c->dtype_kind == 'O') {
        bv *items = list_of(s, c->n);
        for (size_t i = 0; i < c->n; i++) list_push(s, items, label_object(s, &c->labels[i]));
        return array_of(s, mark(s, bn_dtype_simple(s->a, 'O', 8, '|')), 1, shape, NULL, 0, items);
    }
    size_t isz = c->dtype_itemsize;
    uint8_t *data = zeroed(s, c->n * isz);
    if (!data) return NULL;
    for (size_t i = 0; i < c->n; i++) label_item(&c->labels[i], c->dtype_kind, isz, data + i * isz);
    return array_of(s, mark(s, bn_dtype_simple(s->a, c->dtype_kind, isz, 0)), 1, shape, data, c->n * isz, NULL);
}

bv *be_s_feature_names(be_save *s) {
    const brine_model *m = s->m;
    bv *items = list_of(s, m->n_feature_names);
    for (size_t i = 0; i < m->n_feature_names; i++) list_push(s, items, be_s_str(s, m->feature_names[i]));
    int64_t shape[1] = {(int64_t)m->n_feature_names};
    return array_of(s, mark(s, bn_dtype_simple(s->a, 'O', 8, '|')), 1, shape, NULL, 0, items);
}

/* --------------------------------------------------------- parameters */

static int is_forest(const char *cls) { return strstr(cls, "Forest") || strstr(cls, "Trees"); }
static int is_classifier(const char *cls) { return strstr(cls, "Classifier") != NULL; }
static int is_extra(const char *cls) { return !strncmp(cls, "Extra", 5); }

/* sklearn's own defaults (get_params() of a fresh estimator; the same in
 * every verified version), used for parameters the file predates. */
static bv *default_param(be_save *s, const char *name, const char *cls) {
    static const char *const zero_float[] = {"min_weight_fraction_leaf", "min_impurity_decrease", "ccp_alpha", NULL};
    for (size_t k = 0; zero_float[k]; k++)
        if (!strcmp(name, zero_float[k])) return be_s_float(s, 0.0);
    if (!strcmp(name, "criterion")) return be_s_str(s, is_classifier(cls) ? "gini" : "squared_error");
    if (!strcmp(name, "splitter")) return be_s_str(s, is_extra(cls) ? "random" : "best");
    if (!strcmp(name, "min_samples_split")) return be_s_int(s, 2);
    if (!strcmp(name, "min_samples_leaf")) return be_s_int(s, 1);
    if (!strcmp(name, "n_estimators")) return be_s_int(s, 100);
    if (!strcmp(name, "verbose")) return be_s_int(s, 0);
    if (!strcmp(name, "bootstrap")) return mark(s, bv_bool(s->a, !is_extra(cls)));
    if (!strcmp(name, "oob_score") || !strcmp(name, "warm_start")) return mark(s, bv_bool(s->a, 0));
    if (!strcmp(name, "max_features")) {
        if (!is_forest(cls) && !is_extra(cls)) return be_s_none(s);
        return is_classifier(cls) ? be_s_str(s, "sqrt") : be_s_float(s, 1.0);
    }
    return be_s_none(s); /* max_depth, max_leaf_nodes, random_state, class_weight, n_jobs, ... */
}

bv *be_param_default(bp_arena *a, const char *name, const char *cls) {
    be_save s = {.a = a};
    return default_param(&s, name, cls);
}

/* Spellings sklearn removed, as their meaning in the target version:
 * criterion 'mse'/'mae' (gone in 1.2) and max_features='auto' (gone in
 * 1.3; it meant 'sqrt' for classifiers and all features for regressors). */
static const bv *translate(be_save *s, const char *name, const bv *v, const char *cls) {
    if (!strcmp(name, "criterion") && bv_is_str(v, "mse")) return be_s_str(s, "squared_error");
    if (!strcmp(name, "criterion") && bv_is_str(v, "mae")) return be_s_str(s, "absolute_error");
    if (!strcmp(name, "max_features") && bv_is_str(v, "auto") && s->lay->gen >= BE_GEN_14)
        return is_classifier(cls) ? be_s_str(s, "sqrt") : be_s_float(s, 1.0);
    return v;
}

void be_s_params(be_save *s, bv *dict, const be_params *params, const char *const *names, const char *cls) {
    for (size_t k = 0; names[k]; k++) {
        const bv *v = be_param_get(params, names[k]);
        /* A copied parameter is written as it is: the writer only reads it. */
        bv *out = v ? (bv *)translate(s, names[k], v, cls) : default_param(s, names[k], cls);
        be_s_set(s, dict, names[k], out);
    }
}

/* --------------------------------------------------------------- trees */

/* numpy.dtype of the node records, built once per file as sklearn's
 * NODE_DTYPE is one object pickled once. */
static bv *node_dtype(be_save *s) {
    static const char *const names[] = {"left_child", "right_child", "feature", "threshold", "impurity",
                                        "n_node_samples", "weighted_n_node_samples", "missing_go_to_left"};
    static const size_t offsets[] = {0, 8, 16, 24, 32, 40, 48, 56};
    if (s->node_dtype) return s->node_dtype;
    bv *i8 = mark(s, bn_dtype_simple(s->a, 'i', 8, '<')), *f8 = mark(s, bn_dtype_simple(s->a, 'f', 8, '<'));
    bv *u1 = mark(s, bn_dtype_simple(s->a, 'u', 1, '|'));
    if (!i8 || !f8 || !u1) return NULL;
    bv *types[] = {i8, i8, i8, f8, f8, i8, f8, u1};
    int gen14 = s->lay->gen >= BE_GEN_14;
    s->node_dtype = mark(s, bn_dtype_struct(s->a, gen14 ? 8 : 7, names, types, offsets, gen14 ? 64 : 56));
    return s->node_dtype;
}

/* Where NaN goes in a 64-byte record written for a tree that had none:
 * what sklearn >= 1.3 records for a split that saw no missing values, the
 * child with more samples (n_left > n_right; checked against every split of
 * wild files 059, 072 and 088). */
static uint8_t missing_left(const be_tree *t, size_t i) {
    int32_t l, r;
    if (!be_tree_kids(t, i, &l, &r)) return 0;
    if (t->has_missing) return (uint8_t)be_tree_missing_left(t, i);
    return be_tree_samples(t, (size_t)l) > be_tree_samples(t, (size_t)r);
}

/* Whether the tree's records are, byte for byte, little-endian records of
 * the layout being written (isz bytes, NODE_DTYPE's offsets): a tree loaded
 * from a file of that layout, or trained into the 56-byte one.  They are
 * then written as they are, not rebuilt field by field. */
static int records_as_written(const be_tree *t, size_t isz) {
    static const size_t offsets[BE_F_COUNT] = {0, 8, 16, 24, 56, 32, 40, 48};
    const be_records *r = &t->rec;
    if (!be_host_little() || r->itemsize != isz || !t->has_stats) return 0;
    for (int k = 0; k < BE_F_COUNT; k++) {
        if (k == BE_F_MISSING) {
            if (isz == 64 && (!r->has[k] || r->offset[k] != 56 || r->type[k].itemsize != 1 || r->type[k].kind != 'u'))
                return 0;
            continue;
        }
        int f = k == BE_F_THRESHOLD || k == BE_F_IMPURITY || k == BE_F_WSAMPLES;
        if (r->native[k] != (f ? 'd' : 'q') || r->offset[k] != offsets[k]) return 0;
    }
    return 1;
}

static bv *node_records(be_save *s, const be_tree *t) {
    size_t isz = s->lay->gen >= BE_GEN_14 ? 64 : 56;
    int64_t shape[1] = {(int64_t)t->node_count};
    if (records_as_written(t, isz))
        return array_of(s, node_dtype(s), 1, shape, t->rec.data, t->node_count * isz, NULL);
    uint8_t *data = zeroed(s, t->node_count * isz);
    if (!data) return NULL;
    for (size_t i = 0; i < t->node_count; i++) {
        int32_t left = -1, right = -1;
        be_tree_kids(t, i, &left, &right);
        uint8_t *r = data + i * isz;
        put_le(r, (uint64_t)(int64_t)left, 8);
        put_le(r + 8, (uint64_t)(int64_t)right, 8);
        put_le(r + 16, (uint64_t)be_tree_feature(t, i), 8); /* TREE_UNDEFINED (-2) at leaves */
        put_f8(r + 24, be_tree_threshold(t, i));
        put_f8(r + 32, be_tree_impurity(t, i));
        put_le(r + 40, (uint64_t)be_tree_samples(t, i), 8);
        put_f8(r + 48, be_tree_wsamples(t, i));
        if (isz == 64) r[56] = missing_left(t, i);
    }
    return array_of(s, node_dtype(s), 1, shape, data, t->node_count * isz, NULL);
}

/* 1 when sklearn <= 1.3 reading counts v gives exactly the fractions f:
 * predict_proba divides by numpy's sum (a zero sum counts as 1) and predict
 * takes the first maximum of the raw row. */
static int counts_give(const double *v, const double *f, size_t nc, size_t mc) {
    double norm = be_pairwise_sum(v, nc);
    if (norm == 0.0) norm = 1.0;
    for (size_t c = 0; c < nc; c++) {
        double p = v[c] / norm;
        if (memcmp(&p, &f[c], sizeof p)) return 0;
    }
    return be_argmax(v, mc) == be_argmax(f, mc);
}

/* Counts for a <= 1.3 file from >= 1.4 fractions f of a node of weight w.
 * sklearn itself would store the weighted counts f*w, but those need not
 * divide back to f bit for bit; so the first of these that does is taken:
 * f*w, then f*sum for a few rounds (sum the numpy sum of the last try),
 * then f itself.  When none does (the fractions of a weighted fit need not
 * sum to 1 at all), f*w is kept and predict_proba may differ in the last
 * bits there; docs/SUPPORT.md says so. */
static void counts_row(const double *f, size_t nc, size_t mc, double w, double *v) {
    if (!(w > 0.0) || !isfinite(w)) w = 1.0;
    for (size_t c = 0; c < mc; c++) v[c] = c < nc ? f[c] * w : 0.0;
    if (counts_give(v, f, nc, mc)) return;
    for (int round = 0; round < 4; round++) {
        double sum = be_pairwise_sum(v, nc);
        for (size_t c = 0; c < nc; c++) v[c] = f[c] * sum;
        if (counts_give(v, f, nc, mc)) return;
    }
    memcpy(v, f, nc * sizeof *v);
    if (counts_give(v, f, nc, mc)) return;
    for (size_t c = 0; c < nc; c++) v[c] = f[c] * w;
}

/* tree_.value as the layout's version stores it. */
static const double *tree_values(be_save *s, const be_tree *t) {
    size_t rows = t->node_count * t->n_outputs, mc = t->max_classes;
    int fractions_in = t->proba == t->value;
    if (!s->m->cls->classifier || (s->lay->gen >= BE_GEN_14) == fractions_in) return t->value; /* as stored */
    double *v = bp_arena_alloc(s->a, rows * mc * sizeof *v + 1);
    if (!v) {
        s->failed = 1;
        return NULL;
    }
    if (s->lay->gen >= BE_GEN_14) {
        memset(v, 0, rows * mc * sizeof *v); /* counts over their numpy sum, as <= 1.3 predicts */
        for (size_t r = 0; r < rows; r++) be_fraction_row(t->value + r * mc, t->n_classes[r % t->n_outputs], v + r * mc);
    } else {
        for (size_t r = 0; r < rows; r++)
            counts_row(t->value + r * mc, t->n_classes[r % t->n_outputs], mc, be_tree_wsamples(t, r / t->n_outputs),
                       v + r * mc);
    }
    return v;
}

static bv *tree_args(be_save *s, const be_tree *t) {
    int64_t *nc = bp_arena_alloc(s->a, t->n_outputs * sizeof *nc);
    if (!nc) return mark(s, NULL);
    for (size_t k = 0; k < t->n_outputs; k++) nc[k] = s->m->cls->classifier ? (int64_t)t->n_classes[k] : 1;
    bv *items[3] = {be_s_int(s, t->n_features), be_s_intp_array(s, nc, t->n_outputs), be_s_int(s, (int64_t)t->n_outputs)};
    if (!items[0] || !items[1] || !items[2]) return NULL;
    return mark(s, bv_tuple_of(s->a, 3, items));
}

static bv *build_tree(be_save *s, const be_tree *t) {
    bv *o = mark(s, bv_new(s->a, BRINE_OBJECT)), *state = be_s_dict(s);
    bv *cls = mark(s, bv_global(s->a, "sklearn.tree._tree", "Tree", NULL));
    if (!o || !state || !cls) return NULL;
    int64_t shape[3] = {(int64_t)t->node_count, (int64_t)t->n_outputs, (int64_t)t->max_classes};
    /* max_depth when the file did not record it: the deepest level of the layout's walk */
    be_s_set(s, state, "max_depth", be_s_int(s, t->max_depth >= 0 ? t->max_depth : (int64_t)t->depth));
    be_s_set(s, state, "node_count", be_s_int(s, (int64_t)t->node_count));
    be_s_set(s, state, "nodes", node_records(s, t));
    const double *values = tree_values(s, t); /* the model's own or the arena's: alive while written */
    be_s_set(s, state, "values", values ? f8_view(s, values, 3, shape) : NULL);
    o->how = BV_HOW_REDUCE; /* Tree.__reduce__: Tree(n_features, n_classes, n_outputs), then __setstate__ */
    o->u.obj.callable = cls;
    o->u.obj.args = tree_args(s, t);
    o->u.obj.state = state;
    return o->u.obj.args ? o : NULL;
}

bv *be_s_tree(be_save *s, const be_tree *t) {
    for (size_t i = 0; i < s->ntrees; i++)
        if (s->tree_keys[i] == t) return s->tree_vals[i];
    if (s->ntrees == s->trees_cap) {
        size_t cap = s->trees_cap ? 2 * s->trees_cap : 16;
        const be_tree **k = realloc(s->tree_keys, cap * sizeof *k);
        if (k) s->tree_keys = k;
        bv **v = k ? realloc(s->tree_vals, cap * sizeof *v) : NULL;
        if (v) s->tree_vals = v;
        if (!k || !v) return mark(s, NULL);
        s->trees_cap = cap;
    }
    bv *o = build_tree(s, t);
    s->tree_keys[s->ntrees] = t;
    s->tree_vals[s->ntrees++] = o;
    return o;
}

/* ----------------------------------------------------- the public API */

const char *be_class_module(const char *cls) {
    return is_forest(cls) ? "sklearn.ensemble._forest" : "sklearn.tree._classes";
}

int be_has_oob(const brine_model *m) {
    for (size_t i = 0; i < m->extras.n; i++)
        if (!strncmp(m->extras.items[i].name, "oob_", 4)) return 1;
    return 0;
}

/* Verbatim classes: only the file's own version, as the file held it. */
static brine_status verbatim_version(const brine_model *m, const char *requested, const char **out,
                                     brine_error *err) {
    const char *own = m->sklearn_version;
    *out = own;
    if (!requested || (own && !strcmp(requested, own))) return BRINE_OK;
    *out = NULL;
    return be_fail_status(err, BRINE_E_UNSUPPORTED, m,
                          "brine writes this estimator back only as the file holds it (sklearn %s); writing "
                          "another version's layout (%s) is verified only for tree and forest estimators",
                          own ? own : "before 0.18, no _sklearn_version", requested);
}

static brine_status build(const brine_model *m, const char *version, bp_arena *a, bv **root, brine_error *err) {
    if (be_model_verbatim(m)) {
        const char *target;
        brine_status vst = verbatim_version(m, version, &target, err);
        if (!vst && !m->original)
            vst = be_fail_status(err, BRINE_E_UNSUPPORTED, m, "only a model loaded on its own can be written back");
        *root = vst ? NULL : (bv *)m->original;
        return vst;
    }
    const be_layout *lay;
    brine_status st = be_layout_choose(m, version, &lay, err);
    if (!st) st = be_layout_admits(m, lay, err);
    if (st) return st;
    be_save s = {.a = a, .m = m, .lay = lay};
    st = m->cls->family->save(&s, root, err);
    free(s.tree_keys);
    free(s.tree_vals);
    if (!st && (s.failed || !*root)) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory building the model's pickle");
    return st;
}

static brine_status file_options(const brine_model_save_options *in, brine_save_options *out, brine_error *err) {
    brine_save_options defaults = BRINE_SAVE_OPTIONS_INIT;
    if (!in) {
        *out = defaults;
        return BRINE_OK;
    }
    if (in->version != BRINE_MODEL_SAVE_OPTIONS_VERSION)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "unknown brine_model_save_options version %u", in->version);
    *out = in->file;
    if (!out->version) out->version = BRINE_SAVE_OPTIONS_VERSION; /* a zeroed struct means the defaults */
    return BRINE_OK;
}

/* Builds the graph and hands it to brine_save or brine_save_memory. */
static brine_status save_any(const brine_model *m, const char *path, void **mem, size_t *mem_size,
                             const brine_model_save_options *opts, brine_error *err) {
    brine_save_options so;
    if (!m) return bi_fail(err, BRINE_E_ARGUMENT, -1, "model is NULL");
    brine_status st = file_options(opts, &so, err);
    if (st) return st;
    bp_arena a;
    bp_arena_init(&a, 0);
    bv *root = NULL;
    st = build(m, opts ? opts->sklearn_version : NULL, &a, &root, err);
    if (!st) st = path ? brine_save(root, path, &so, err) : brine_save_memory(mem, mem_size, root, &so, err);
    bp_arena_free(&a);
    return st;
}

brine_status brine_model_save(const brine_model *m, const char *path, const brine_model_save_options *opts,
                              brine_error *err) {
    if (!path) return bi_fail(err, BRINE_E_ARGUMENT, -1, "no path given");
    return save_any(m, path, NULL, NULL, opts, err);
}

brine_status brine_model_save_memory(void **out, size_t *out_size, const brine_model *m,
                                     const brine_model_save_options *opts, brine_error *err) {
    if (!out || !out_size) return bi_fail(err, BRINE_E_ARGUMENT, -1, "out is NULL");
    *out = NULL;
    *out_size = 0;
    return save_any(m, NULL, out, out_size, opts, err);
}

brine_status brine_model_save_version(const brine_model *m, const char *requested, const char **out,
                                      brine_error *err) {
    if (!out) return bi_fail(err, BRINE_E_ARGUMENT, -1, "out is NULL");
    *out = NULL;
    if (!m) return bi_fail(err, BRINE_E_ARGUMENT, -1, "model is NULL");
    if (be_model_verbatim(m)) return verbatim_version(m, requested, out, err);
    const be_layout *lay;
    brine_status st = be_layout_choose(m, requested, &lay, err);
    if (!st) *out = lay->version;
    return st;
}

size_t brine_model_verified_version_count(const brine_model *m) { return m ? be_model_versions(m, NULL, 0) : 0; }

const char *brine_model_verified_version(const brine_model *m, size_t i) {
    const char *v[64];
    if (!m) return NULL;
    size_t n = be_model_versions(m, v, 64);
    return i < n && i < 64 ? v[i] : NULL;
}
