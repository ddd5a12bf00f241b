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
static brine_status member(brine_model *m, const bv *est, size_t i, const bv **state_out, const bv **tree,
                           brine_error *err) {
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
    *state_out = state;
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

/* What saving needs of member i besides its tree. */
static brine_status keep_member(brine_model *m, be_copier *cp, const bv *state, be_member *out, brine_error *err) {
    out->max_features = be_read_max_features(state);
    return be_read_params(m, cp, state, &out->params, err);
}

/* One mapping for all the trees' per-node arrays (fast.c). */
static void reserve_trees(brine_model *m, const bv *list, const be_forest *f) {
    size_t mc = 1, total = 0;
    for (size_t k = 0; m->cls->classifier && k < m->n_outputs; k++)
        if (f->n_classes[k] > mc) mc = f->n_classes[k];
    for (size_t i = 0; i < f->n; i++) {
        const bv *est = list->u.seq.items[i];
        const bv *state = est && est->kind == BRINE_OBJECT ? est->u.obj.state : NULL;
        if (state && state->kind == BRINE_DICT)
            be_bulk_reserve_tree(&total, bv_dict_get(state, "tree_"), m->n_outputs, mc);
    }
    be_bulk_reserve(m, total);
}

static brine_status load_trees(brine_model *m, be_copier *cp, const bv *list, be_forest *f, brine_error *err) {
    reserve_trees(m, list, f);
    tree_map tm = {0};
    if (!map_init(&tm, f->n)) {
        map_free(&tm);
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    }
    be_tree_spec spec = {m->cls->classifier, m->n_outputs, f->n_classes, m->n_features_in,
                         be_tree_fractions_by_version(m), NULL};
    /* Each distinct tree is opened here, in list order, and checked after
     * (be_trees_check, on m->load_threads threads); repeats stay NULL. */
    be_tree **opened = calloc(f->n, sizeof *opened);
    if (!opened) {
        map_free(&tm);
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    }
    brine_status st = BRINE_OK;
    for (size_t i = 0; i < f->n && !st; i++) {
        const bv *est = list->u.seq.items[i], *tree = NULL, *state = NULL;
        char field[48];
        snprintf(field, sizeof field, "estimators_[%zu].tree_", i);
        spec.field = field;
        st = member(m, est, i, &state, &tree, err);
        if (!st && m->cls->classifier) st = member_classes(m, est, i, f->n_classes, err);
        if (!st) st = keep_member(m, cp, state, &f->members[i], err);
        if (st) break;
        size_t j = tree ? slot(&tm, tree) : 0;
        if (tree && tm.keys[j]) {
            f->trees[i] = tm.vals[j];
            continue;
        }
        st = be_tree_open(m, tree, &spec, &f->trees[i], err);
        if (st) break;
        opened[i] = f->trees[i];
        /* The first tree fixes the width when the forest does not say it. */
        spec.n_features = m->n_features_in = f->trees[i]->n_features;
        tm.keys[j] = tree;
        tm.vals[j] = f->trees[i];
    }
    if (!st) st = be_trees_check(m, opened, f->n, &spec, "estimators_", err);
    free(opened);
    map_free(&tm);
    return st;
}

/* Fitted attributes of a forest that prediction ignores and saving keeps. */
static const char *const forest_extras[] = {"_n_samples", "_n_samples_bootstrap", "oob_score_",
                                            "oob_decision_function_", "oob_prediction_", NULL};

/* The parts only saving needs: parameters and extras, copied with the
 * members' parameters through one copier so shared values stay shared. */
static brine_status load_members(brine_model *m, const bv *state, const bv *list, be_forest *f, brine_error *err) {
    be_copier cp;
    be_copier_init(&cp, &m->arena);
    brine_status st = be_read_params(m, &cp, state, &m->params, err);
    if (!st) st = be_read_extras(m, &cp, state, forest_extras, &m->extras, err);
    if (!st) st = load_trees(m, &cp, list, f, err);
    be_copier_free(&cp);
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
    f->members = be_alloc(m, f->n, sizeof *f->members);
    if (!f->trees || !f->members) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu trees", f->n);
    if ((st = load_members(m, state, list, f, err))) return st;
    m->n_estimators = f->n;
    m->allow_nan = 1;
    for (size_t i = 0; i < f->n; i++) m->allow_nan &= f->trees[i]->has_missing;
    m->impl = f;
    return be_read_feature_names(m, state, err);
}

/* ---------------------------------------------------------- predicting */

/* Means over the trees in estimator order, as sklearn sums them (fast.c). */
static brine_status forest_predict(const brine_model *m, brine_method method, const be_input *in,
                                   brine_prediction *out, brine_error *err) {
    const be_forest *f = m->impl;
    return be_engine_run(m, method, in, f->trees, f->n, 1, out, err);
}

/* ------------------------------------------------------------- saving */

/* "DecisionTreeClassifier" for a RandomForestClassifier, and so on. */
static void member_class(const brine_model *m, char *buf, size_t size) {
    snprintf(buf, size, "%s%s", m->cls->tree_kind, m->cls->classifier ? "Classifier" : "Regressor");
}

/* The unfitted template every version keeps (estimator, and the same
 * object again as _estimator or estimator_): the member class with
 * sklearn's defaults, which is what a forest's constructor passes. */
static bv *template_estimator(be_save *s, const char *cls) {
    bv *d = be_s_dict(s);
    be_s_params(s, d, NULL, s->lay->tree_params, cls);
    be_s_set(s, d, "_sklearn_version", be_s_str(s, s->lay->version));
    return be_s_estimator(s, be_class_module(cls), cls, d);
}

static bv *name_tuple(be_save *s, const char *const *names) {
    size_t n = 0;
    while (names[n]) n++;
    bv *items[32];
    for (size_t k = 0; k < n && k < 32; k++) items[k] = be_s_str(s, names[k]);
    return s->failed || n > 32 ? NULL : bv_tuple_of(s->a, n, items);
}

/* The forest's own keys before its fitted attributes. */
static void put_params(be_save *s, bv *d, bv *template) {
    const brine_model *m = s->m;
    for (size_t k = 0; s->lay->params[k]; k++) {
        const char *name = s->lay->params[k];
        const char *one[2] = {name, NULL};
        if (!strcmp(name, "estimator")) be_s_set(s, d, name, template);
        else if (!strcmp(name, "estimator_params")) be_s_set(s, d, name, name_tuple(s, s->lay->member_params));
        else if (!strcmp(name, "base_estimator")) be_s_set(s, d, name, be_s_str(s, "deprecated"));
        else be_s_params(s, d, &m->params, one, m->short_name);
    }
}

/* classes_ and n_classes_ of the forest: an array and an int, or a list of
 * arrays and a list of ints for several outputs. */
static void put_classes(be_save *s, bv *d) {
    const brine_model *m = s->m;
    if (m->n_outputs == 1) {
        be_s_set(s, d, "classes_", be_s_labels(s, &m->classes[0]));
        be_s_set(s, d, "n_classes_", be_s_int(s, (int64_t)m->classes[0].n));
        return;
    }
    bv *labels = bv_new(s->a, BRINE_LIST), *counts = bv_new(s->a, BRINE_LIST);
    for (size_t k = 0; labels && counts && k < m->n_outputs; k++) {
        bv *l = be_s_labels(s, &m->classes[k]), *c = be_s_int(s, (int64_t)m->classes[k].n);
        if (!l || !c || bv_seq_push(s->a, labels, l, NULL, -1) || bv_seq_push(s->a, counts, c, NULL, -1))
            s->failed = 1;
    }
    be_s_set(s, d, "classes_", labels);
    be_s_set(s, d, "n_classes_", counts);
}

/* A kept fitted attribute, when the model has it (a file older than the
 * layout lacks e.g. _n_samples, which cannot be recovered: it is left out). */
static void put_extra(be_save *s, bv *d, const char *name) {
    const bv *v = be_param_get(&s->m->extras, name);
    if (v) be_s_set(s, d, name, (bv *)v);
}

static bv *members(be_save *s, const char *cls) {
    const be_forest *f = s->m->impl;
    bv *list = bv_new(s->a, BRINE_LIST);
    for (size_t i = 0; list && i < f->n; i++) {
        bv *e = be_s_tree_estimator(s, cls, &f->members[i].params, f->members[i].max_features, f->trees[i], 1);
        if (!e || bv_seq_push(s->a, list, e, NULL, -1)) s->failed = 1;
    }
    if (!list) s->failed = 1;
    return list;
}

static brine_status forest_save(be_save *s, bv **out, brine_error *err) {
    const brine_model *m = s->m;
    const be_forest *f = m->impl;
    for (size_t i = 0; i < f->n; i++) {
        char field[48];
        snprintf(field, sizeof field, "estimators_[%zu].tree_", i);
        brine_status st = be_tree_savable(m, f->trees[i], field, err);
        if (st) return st;
    }
    char cls[48];
    member_class(m, cls, sizeof cls);
    int gen14 = s->lay->gen >= BE_GEN_14;
    bv *d = be_s_dict(s), *template = template_estimator(s, cls);
    put_params(s, d, template);
    if (m->n_feature_names) be_s_set(s, d, "feature_names_in_", be_s_feature_names(s));
    be_s_set(s, d, "n_features_in_", be_s_int(s, m->n_features_in));
    if (gen14) put_extra(s, d, "_n_samples");
    be_s_set(s, d, "n_outputs_", be_s_int(s, (int64_t)m->n_outputs));
    if (m->cls->classifier) put_classes(s, d);
    if (gen14) put_extra(s, d, "_n_samples_bootstrap");
    be_s_set(s, d, gen14 ? "estimator_" : "_estimator", template);
    be_s_set(s, d, "estimators_", members(s, cls));
    put_extra(s, d, m->cls->classifier ? "oob_decision_function_" : "oob_prediction_");
    put_extra(s, d, "oob_score_");
    be_s_set(s, d, "_sklearn_version", be_s_str(s, s->lay->version));
    *out = be_s_estimator(s, be_class_module(m->short_name), m->short_name, d);
    return BRINE_OK;
}

const be_family be_forest_family = {"forest", forest_load, forest_predict, forest_save, NULL, 0};
