/* forest.c — RandomForest* and ExtraTrees*: a list `estimators_` of fitted
 * trees whose predictions are averaged.
 *
 * sklearn sums the trees' predict_proba (or predict) into one zeroed array,
 * `out += prediction` tree after tree, and then divides by
 * len(estimators_).  With n_jobs > 1 the threads may add in another order;
 * brine adds in list order, which is what n_jobs=None (the default) does.
 * The template estimator (base_estimator_, _estimator, estimator_ or
 * estimator, by version) is not needed to predict and is not read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

/* ------------------------------------------------- shared tree objects */

/* Pointer map from a Tree node of the graph to its loaded be_tree, so a
 * file that lists one tree many times costs its memory once. */
typedef struct tree_map {
    const bv **keys;
    be_tree **vals;
    size_t cap;
} tree_map;

static size_t slot(const tree_map *tm, const bv *key) {
    size_t j = ((uintptr_t)key >> 4) * 0x9e3779b97f4a7c15ull & (tm->cap - 1);
    while (tm->keys[j] && tm->keys[j] != key) j = (j + 1) & (tm->cap - 1);
    return j;
}

static int map_init(tree_map *tm, size_t n) {
    tm->cap = 16;
    while (tm->cap < 2 * n) tm->cap *= 2;
    tm->keys = calloc(tm->cap, sizeof *tm->keys);
    tm->vals = calloc(tm->cap, sizeof *tm->vals);
    return tm->keys && tm->vals;
}

static void map_free(tree_map *tm) {
    free(tm->keys);
    free(tm->vals);
}

/* ------------------------------------------------------------- loading */

/* Checks one sub-estimator of the list and returns its state and tree_. */
static brine_status member(brine_model *m, const bv *est, size_t i, const bv **tree, brine_error *err) {
    const char *name = NULL;
    const char *module = est && est->kind == BRINE_OBJECT ? brine_value_global(est, &name) : NULL;
    const be_class *c = be_class_find(module, name);
    if (!c || c->family != &be_tree_family || c->classifier != m->cls->classifier) {
        const char *what = est ? brine_kind_name((brine_kind)est->kind) : "missing";
        if (module)
            return be_fail(err, m, "estimators_[%zu] is a %s.%s, not a decision tree %s", i, module, name,
                           m->cls->classifier ? "classifier" : "regressor");
        return be_fail(err, m, "estimators_[%zu] is a %s, not a decision tree", i, what);
    }
    const bv *state = est->u.obj.state;
    if (!state || state->kind != BRINE_DICT) return be_fail(err, m, "estimators_[%zu] has no state dict", i);
    int64_t v;
    const bv *no = bv_dict_get(state, "n_outputs_");
    if (no && no->kind != BRINE_NONE && (!be_get_int(no, &v) || (uint64_t)v != m->n_outputs))
        return be_fail(err, m, "estimators_[%zu].n_outputs_ differs from the forest's %zu", i, m->n_outputs);
    *tree = bv_dict_get(state, "tree_");
    return BRINE_OK;
}

/* A sub-tree's own n_classes_ slices its predict_proba, so it must agree
 * with the forest's. */
static brine_status member_classes(brine_model *m, const bv *est, size_t i, const size_t *n_classes,
                                   brine_error *err) {
    const bv *nc = bv_dict_get(est->u.obj.state, "n_classes_");
    if (!nc || nc->kind == BRINE_NONE) return BRINE_OK;
    int64_t v;
    if (m->n_outputs == 1 && be_get_int(nc, &v)) {
        if ((uint64_t)v == n_classes[0]) return BRINE_OK;
    } else {
        const bv_array *a = be_array(nc);
        size_t n = a ? (size_t)a->count : (nc->kind == BRINE_LIST || nc->kind == BRINE_TUPLE) ? nc->u.seq.n : 0;
        int ok = n == m->n_outputs;
        for (size_t k = 0; ok && k < n; k++)
            ok = (a ? be_array_int(a, k, &v) : be_get_int(nc->u.seq.items[k], &v)) && (uint64_t)v == n_classes[k];
        if (ok) return BRINE_OK;
    }
    return be_fail(err, m, "estimators_[%zu].n_classes_ differs from the forest's n_classes_", i);
}

static brine_status load_trees(brine_model *m, const bv *list, be_forest *f, brine_error *err) {
    tree_map tm = {0};
    if (!map_init(&tm, f->n)) {
        map_free(&tm);
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    }
    be_tree_spec spec = {m->cls->classifier, m->n_outputs, f->n_classes, m->n_features_in,
                         be_tree_fractions_by_version(m), NULL};
    brine_status st = BRINE_OK;
    for (size_t i = 0; i < f->n && !st; i++) {
        const bv *est = list->u.seq.items[i], *tree = NULL;
        char field[48];
        snprintf(field, sizeof field, "estimators_[%zu].tree_", i);
        spec.field = field;
        st = member(m, est, i, &tree, err);
        if (!st && m->cls->classifier) st = member_classes(m, est, i, f->n_classes, err);
        if (st) break;
        size_t j = tree ? slot(&tm, tree) : 0;
        if (tree && tm.keys[j]) {
            f->trees[i] = tm.vals[j];
            continue;
        }
        st = be_tree_load(m, tree, &spec, &f->trees[i], err);
        if (st) break;
        /* The first tree fixes the width when the forest does not say it. */
        spec.n_features = m->n_features_in = f->trees[i]->n_features;
        tm.keys[j] = tree;
        tm.vals[j] = f->trees[i];
    }
    map_free(&tm);
    return st;
}

static brine_status forest_load(brine_model *m, const bv *state, brine_error *err) {
    be_forest *f = be_alloc(m, 1, sizeof *f);
    if (!f) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    size_t *n_classes = NULL;
    const bv *list = bv_dict_get(state, "estimators_");
    if (!list || list->kind == BRINE_NONE)
        return be_fail(err, m, "is not fitted (estimators_ is %s)", list ? "None" : "missing");
    brine_status st = be_read_n_outputs(m, state, &m->n_outputs, err);
    if (!st) st = be_read_n_features(m, state, &m->n_features_in, err);
    if (!st && m->cls->classifier) st = be_read_classes(m, state, &n_classes, err);
    if (st) return st;
    f->n_classes = n_classes;
    if (list->kind != BRINE_LIST && list->kind != BRINE_TUPLE) return be_fail(err, m, "estimators_ is not a list");
    f->n = list->u.seq.n;
    if (f->n == 0) return be_fail(err, m, "estimators_ is empty");
    f->trees = be_alloc(m, f->n, sizeof *f->trees);
    if (!f->trees) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu trees", f->n);
    if ((st = load_trees(m, list, f, err))) return st;
    m->n_estimators = f->n;
    m->allow_nan = 1;
    for (size_t i = 0; i < f->n; i++) m->allow_nan &= f->trees[i]->has_missing;
    m->impl = f;
    return be_read_feature_names(m, state, err);
}

/* ---------------------------------------------------------- predicting */

/* Sum of the trees' predict_proba rows, in tree order, over len(trees). */
static void mean_proba(const be_forest *f, const be_input *in, size_t cols, double *out) {
    const be_tree *t0 = f->trees[0];
    size_t no = t0->n_outputs;
    for (size_t j = 0; j < f->n; j++) {
        const be_tree *t = f->trees[j];
        for (size_t r = 0; r < in->n_rows; r++) {
            size_t leaf = be_tree_apply(t, in->x + r * in->n_cols);
            double *row = out + r * cols;
            for (size_t k = 0; k < no; k++) {
                const double *p = t->proba + (leaf * no + k) * t->max_classes;
                for (size_t c = 0; c < f->n_classes[k]; c++) row[c] += p[c];
                row += f->n_classes[k];
            }
        }
    }
    const double n = (double)f->n;
    for (size_t i = 0; i < in->n_rows * cols; i++) out[i] /= n;
}

static void mean_value(const be_forest *f, const be_input *in, size_t no, double *out) {
    for (size_t j = 0; j < f->n; j++) {
        const be_tree *t = f->trees[j];
        for (size_t r = 0; r < in->n_rows; r++) {
            size_t leaf = be_tree_apply(t, in->x + r * in->n_cols);
            for (size_t k = 0; k < no; k++) out[r * no + k] += t->value[(leaf * no + k) * t->max_classes];
        }
    }
    const double n = (double)f->n;
    for (size_t i = 0; i < in->n_rows * no; i++) out[i] /= n;
}

static brine_status forest_predict(const brine_model *m, brine_method method, const be_input *in,
                                   brine_prediction *out, brine_error *err) {
    const be_forest *f = m->impl;
    size_t no = m->n_outputs;
    if (method == BRINE_METHOD_APPLY) {
        for (size_t j = 0; j < f->n; j++)
            for (size_t r = 0; r < in->n_rows; r++)
                out->indices[r * f->n + j] = (int64_t)be_tree_apply(f->trees[j], in->x + r * in->n_cols);
        return BRINE_OK;
    }
    if (!m->cls->classifier) {
        mean_value(f, in, no, out->values);
        return BRINE_OK;
    }
    if (method == BRINE_METHOD_PREDICT_PROBA) {
        mean_proba(f, in, out->n_columns, out->values);
        return BRINE_OK;
    }
    size_t cols = 0;
    for (size_t k = 0; k < no; k++) cols += f->n_classes[k];
    double *proba = calloc(in->n_rows * cols + 1, sizeof *proba);
    if (!proba) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu rows", in->n_rows);
    mean_proba(f, in, cols, proba);
    for (size_t r = 0; r < in->n_rows; r++) {
        const double *row = proba + r * cols;
        for (size_t k = 0; k < no; k++) {
            out->indices[r * no + k] = (int64_t)be_argmax(row, f->n_classes[k]);
            row += f->n_classes[k];
        }
    }
    free(proba);
    return BRINE_OK;
}

const be_family be_forest_family = {"forest", forest_load, forest_predict};
