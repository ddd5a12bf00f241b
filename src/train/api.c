/* api.c — brine_train: checks the data as sklearn's fit checks it, encodes
 * the targets (sorted unique labels per output), fits (fit.c) and turns the
 * grown trees into a brine_model of the estimator layer, which predicts
 * and saves it like any model loaded from a file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"
#include "pickle/literal.h"
#include "pickle/value.h"
#include "train/train.h"

const char *brine_train_estimator(size_t i, const char **alias) {
    const bt_estimator *e = bt_estimator_at(i);
    if (alias) *alias = e ? e->alias : NULL;
    return e ? e->cls : NULL;
}

/* ---------------------------------------------------------- versions */

static int version_number(const char *v) {
    int a = 0, b = 0, c = 0;
    if (sscanf(v, "%d.%d.%d", &a, &b, &c) < 2) return 0;
    return a * 10000 + b * 100 + c;
}

/* The layout to reproduce: the one asked for, else the newest verified
 * one that has a place for feature names when there are some. */
static brine_status choose_version(const char *cls, const char *requested, int names, const be_layout **out,
                                   brine_error *err) {
    *out = NULL;
    for (size_t i = 0; i < be_layout_count(); i++) {
        const be_layout *l = be_layout_at(i);
        if (strcmp(l->cls, cls)) continue;
        if (requested ? !strcmp(l->version, requested) : (!names || (l->keeps & BE_KEEP_NAMES))) *out = l;
    }
    if (*out && requested && names && !((*out)->keeps & BE_KEEP_NAMES))
        return bi_fail(err, BRINE_E_UNSUPPORTED, -1,
                       "%s: brine has verified sklearn %s's layout for this estimator only without feature names; "
                       "train on data without a header row or choose another --sklearn-version",
                       cls, requested);
    if (*out) return BRINE_OK;
    const char *v[32];
    size_t n = be_layout_versions(cls, v, 32);
    char list[256] = "";
    for (size_t k = 0, used = 0; k < n && k < 32 && used < sizeof list; k++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", v[k]);
    if (requested)
        return bi_fail(err, BRINE_E_UNSUPPORTED, -1,
                       "%s: brine has not verified sklearn %s's layout for this estimator; verified: %s", cls,
                       requested, list);
    return bi_fail(err, BRINE_E_UNSUPPORTED, -1, "%s: no verified layout holds feature names; verified: %s", cls, list);
}

/* -------------------------------------------------------- parameters */

static brine_status parse_params(brine_model *m, const bt_estimator *e, bt_config *cfg, const char *const *params,
                                 size_t n, brine_error *err) {
    const char *const *names = bt_param_names(e, cfg->version);
    m->params.items = be_alloc(m, n ? n : 1, sizeof *m->params.items);
    if (!m->params.items) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *eq = params[i] ? strchr(params[i], '=') : NULL;
        if (!eq || eq == params[i])
            return bi_fail(err, BRINE_E_ARGUMENT, -1, "parameter '%s' is not name=value", params[i] ? params[i] : "");
        size_t len = (size_t)(eq - params[i]);
        const char *name = NULL;
        for (size_t k = 0; names[k] && !name; k++)
            if (strlen(names[k]) == len && !memcmp(names[k], params[i], len)) name = names[k];
        if (!name)
            return bi_fail(err, BRINE_E_ARGUMENT, -1, "%s has no parameter '%.*s' (brine train --help lists them)",
                           e->cls, (int)len, params[i]);
        for (size_t k = 0; k < m->params.n; k++)
            if (!strcmp(m->params.items[k].name, name))
                return bi_fail(err, BRINE_E_ARGUMENT, -1, "parameter %s is given twice", name);
        bv *v = NULL;
        brine_status st = bp_literal_parse(&m->arena, eq + 1, strlen(eq + 1), BP_LIT_BARE_WORDS, 16, &v, err);
        if (st) {
            err->offset = -1;
            return bi_fail(err, BRINE_E_ARGUMENT, -1, "parameter %s: '%s' is not a Python literal", name, eq + 1);
        }
        if ((st = bt_config_set(cfg, name, v, err))) return st;
        m->params.items[m->params.n++] = (be_param){name, v};
    }
    return BRINE_OK;
}

/* ------------------------------------------------------------- data */

static brine_status feature_major(const brine_train_data *d, float **out, int *negative_zero, brine_error *err) {
    size_t n = d->n_rows, p = d->n_features;
    float *xt = malloc(n * p * sizeof *xt);
    if (!xt) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu x %zu float32 values", n, p);
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < p; f++) {
            double v = d->x[i * p + f];
            float x = (float)v;
            if (!isfinite(x)) {
                free(xt);
                return bi_fail(err, BRINE_E_ARGUMENT, -1,
                               "X contains %s at row %zu, column %zu (sklearn refuses NaN, infinity and values "
                               "too large for float32)",
                               isnan(v) ? "NaN" : "a value beyond float32", i, f);
            }
            xt[f * n + i] = x;
            if (x == 0.0f && signbit(x)) *negative_zero = 1;
        }
    *out = xt;
    return BRINE_OK;
}

static int label_is_number(const brine_label *l) { return l->kind == BRINE_LABEL_INT || l->kind == BRINE_LABEL_FLOAT; }
static double label_number(const brine_label *l) { return l->kind == BRINE_LABEL_FLOAT ? l->f : (double)l->i; }

/* sklearn's np.unique order: numbers ascending, text by code point. */
static int label_cmp(const brine_label *a, const brine_label *b, char kind) {
    if (kind == 'O') {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = memcmp(a->s, b->s, n);
        return c ? c : (a->len > b->len) - (a->len < b->len);
    }
    if (kind == 'f') {
        double x = label_number(a), y = label_number(b);
        return (x > y) - (x < y);
    }
    return (a->i > b->i) - (a->i < b->i);
}

/* The dtype kind of output k's labels, or 0 after recording an error. */
static char label_kind(const brine_train_data *d, size_t k, brine_error *err) {
    int ints = 0, floats = 0, strs = 0, bools = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        const brine_label *l = &d->y[i * d->n_outputs + k];
        if (l->kind == BRINE_LABEL_INT) ints = 1;
        else if (l->kind == BRINE_LABEL_FLOAT) floats = 1;
        else if (l->kind == BRINE_LABEL_BOOL) bools = 1;
        else if (l->kind == BRINE_LABEL_STR && l->s) strs = 1;
        else return bi_fail(err, BRINE_E_ARGUMENT, -1, "y[%zu, %zu] is not a label", i, k), 0;
        if (l->kind == BRINE_LABEL_FLOAT && isnan(l->f))
            return bi_fail(err, BRINE_E_ARGUMENT, -1, "y contains NaN at row %zu, output %zu", i, k), 0;
        if (l->kind == BRINE_LABEL_FLOAT && (isinf(l->f) || l->f != floor(l->f)))
            return bi_fail(err, BRINE_E_ARGUMENT, -1,
                           "unknown label type 'continuous' at row %zu, output %zu (%g): a classifier's targets "
                           "must be integers or text, as sklearn requires",
                           i, k, l->f), 0;
    }
    if (strs + bools + (ints || floats) > 1)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "output %zu mixes text, bool and number labels", k), 0;
    return strs ? 'O' : bools ? 'b' : floats ? 'f' : 'i';
}

/* The first of the n sorted labels u not below l. */
static size_t lower_bound(const brine_label *u, size_t n, const brine_label *l, char kind) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (label_cmp(&u[mid], l, kind) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Sorted unique labels of output k into c (arena), and each row's index. */
static brine_status encode_output(brine_model *m, const brine_train_data *d, size_t k, be_classes *c, double *y,
                                  brine_error *err) {
    char kind = label_kind(d, k, err);
    if (!kind) return BRINE_E_ARGUMENT;
    size_t n = d->n_rows;
    /* Insertion into a sorted unique list: labels are few. */
    brine_label *u = be_alloc(m, n, sizeof *u);
    size_t nu = 0;
    brine_status st = u ? BRINE_OK : bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        const brine_label *l = &d->y[i * d->n_outputs + k];
        size_t lo = lower_bound(u, nu, l, kind);
        if (lo < nu && !label_cmp(&u[lo], l, kind)) continue;
        memmove(u + lo + 1, u + lo, (nu - lo) * sizeof *u);
        u[lo] = *l;
        if (kind == 'f') u[lo].kind = BRINE_LABEL_FLOAT, u[lo].f = label_number(l);
        if (kind == 'O' && !(u[lo].s = bp_arena_strdup(&m->arena, l->s, l->len)))
            st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        nu++;
    }
    for (size_t i = 0; !st && i < n; i++) {
        const brine_label *l = &d->y[i * d->n_outputs + k];
        size_t lo = lower_bound(u, nu, l, kind);
        y[i * d->n_outputs + k] = (double)lo;
    }
    c->labels = u;
    c->n = nu;
    c->dtype_kind = kind;
    c->dtype_itemsize = kind == 'b' ? 1 : 8;
    return st;
}

static brine_status regression_targets(const brine_train_data *d, double *y, brine_error *err) {
    for (size_t i = 0; i < d->n_rows * d->n_outputs; i++) {
        const brine_label *l = &d->y[i];
        if (!label_is_number(l) && l->kind != BRINE_LABEL_BOOL)
            return bi_fail(err, BRINE_E_ARGUMENT, -1, "y[%zu, %zu] is not a number (a regressor needs numeric targets)",
                           i / d->n_outputs, i % d->n_outputs);
        y[i] = l->kind == BRINE_LABEL_FLOAT ? l->f : (double)l->i;
        if (!isfinite(y[i]))
            return bi_fail(err, BRINE_E_ARGUMENT, -1, "y contains %s at row %zu, output %zu",
                           isnan(y[i]) ? "NaN" : "infinity", i / d->n_outputs, i % d->n_outputs);
    }
    return BRINE_OK;
}

static brine_status check_data(const brine_train_data *d, brine_error *err) {
    if (!d || !d->x || !d->y) return bi_fail(err, BRINE_E_ARGUMENT, -1, "no training data");
    if (!d->n_rows || !d->n_features || !d->n_outputs)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "the training data has %zu rows, %zu features and %zu outputs",
                       d->n_rows, d->n_features, d->n_outputs);
    if (d->n_features > SIZE_MAX / sizeof(float) / d->n_rows || d->n_outputs > SIZE_MAX / sizeof(double) / d->n_rows)
        return bi_fail(err, BRINE_E_LIMIT, -1, "the training data is too large");
    for (size_t i = 0; d->sample_weight && i < d->n_rows; i++)
        if (!isfinite(d->sample_weight[i]))
            return bi_fail(err, BRINE_E_ARGUMENT, -1, "sample_weight contains %s at row %zu",
                           isnan(d->sample_weight[i]) ? "NaN" : "infinity", i);
    return BRINE_OK;
}

/* ------------------------------------------------------ the model */

static brine_status model_new(brine_model **out, const bt_estimator *e, const be_layout *lay, brine_error *err) {
    const char *module = be_class_module(e->cls);
    const be_class *cls = be_class_find(module, e->cls);
    brine_model *m = calloc(1, sizeof *m);
    if (!m || !cls) {
        free(m);
        return bi_fail(err, cls ? BRINE_E_NOMEM : BRINE_E_UNSUPPORTED, -1, "cannot create a %s model", e->cls);
    }
    bp_arena_init(&m->arena, 0);
    m->cls = cls;
    m->max_features = -1;
    size_t ml = strlen(module), nl = strlen(e->cls);
    m->class_path = be_alloc(m, ml + nl + 2, 1);
    m->sklearn_version = bp_arena_strdup(&m->arena, lay->version, strlen(lay->version));
    *out = m;
    if (!m->class_path || !m->sklearn_version) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    snprintf(m->class_path, ml + nl + 2, "%s.%s", module, e->cls);
    m->short_name = m->class_path + ml + 1;
    int v = version_number(lay->version);
    m->version[0] = v / 10000;
    m->version[1] = v / 100 % 100;
    m->version[2] = v % 100;
    return BRINE_OK;
}

/* One grown tree as the estimator layer's be_tree. */
static brine_status convert_tree(brine_model *m, const bt_tree *g, const bt_data *d, size_t stride, const size_t *nc,
                                 size_t k, be_tree **out, brine_error *err) {
    be_tree *t = be_alloc(m, 1, sizeof *t);
    size_t n = g->node_count, cells = n * d->n_outputs * stride;
    if (!t) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    t->node_count = n;
    t->n_outputs = d->n_outputs;
    t->max_classes = stride;
    t->n_features = (int64_t)d->n_features;
    t->n_classes = nc;
    t->max_depth = g->max_depth;
    double *value = be_alloc(m, cells, sizeof *value);
    if (!value || !be_tree_own_records(m, t))
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for a tree of %zu nodes", n);
    for (size_t i = 0; i < n; i++)
        be_tree_put_record(t, i, g->left[i], g->right[i], g->feature[i], g->threshold[i], g->impurity[i],
                           g->n_node_samples[i], g->weighted_n[i]);
    memcpy(value, g->value, cells * sizeof *value);
    t->value = value;
    char field[48];
    snprintf(field, sizeof field, m->cls->family == &be_forest_family ? "estimators_[%zu].tree_" : "tree_", k);
    be_tree_spec spec = {m->cls->classifier, d->n_outputs, nc, (int64_t)d->n_features, m->version[1] >= 4 || m->version[0] > 1,
                         field};
    *out = t;
    return be_tree_finish(m, t, &spec, err);
}

/* The forest's value of parameter name as its members receive it. */
static const bv *forest_value(brine_model *m, const bt_config *cfg, const char *name) {
    const bv *v = be_param_get(&m->params, name);
    if (!v) v = be_param_default(&m->arena, name, m->short_name);
    /* 1.2 replaces max_features='auto' on the members (_make_estimator). */
    if (v && !strcmp(name, "max_features") && bv_is_str(v, "auto"))
        v = cfg->classifier ? bv_str(&m->arena, "sqrt") : bv_float(&m->arena, 1.0);
    return v;
}

static brine_status forest_members(brine_model *m, const bt_config *cfg, const be_layout *lay, const bt_fitted *f,
                                   be_forest *fo, brine_error *err) {
    size_t np = 0;
    while (lay->member_params[np]) np++;
    fo->members = be_alloc(m, f->n_trees, sizeof *fo->members);
    if (!fo->members) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t t = 0; t < f->n_trees; t++) {
        be_member *mb = &fo->members[t];
        mb->max_features = (int64_t)f->max_features;
        mb->params.items = be_alloc(m, np, sizeof *mb->params.items);
        if (!mb->params.items) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        for (size_t k = 0; k < np; k++) {
            const char *name = lay->member_params[k];
            const bv *v = !strcmp(name, "random_state") ? bv_int(&m->arena, f->seeds[t]) : forest_value(m, cfg, name);
            if (!v) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
            mb->params.items[mb->params.n++] = (be_param){name, v};
        }
    }
    return BRINE_OK;
}

static brine_status forest_extras(brine_model *m, const bt_data *d, const bt_fitted *f, brine_error *err) {
    m->extras.items = be_alloc(m, 2, sizeof *m->extras.items);
    bv *n = bv_int(&m->arena, (int64_t)d->n_rows);
    bv *nb = f->n_samples_bootstrap < 0 ? bv_none(&m->arena) : bv_int(&m->arena, f->n_samples_bootstrap);
    if (!m->extras.items || !n || !nb) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    m->extras.items[0] = (be_param){"_n_samples", n};
    m->extras.items[1] = (be_param){"_n_samples_bootstrap", nb};
    m->extras.n = 2;
    return BRINE_OK;
}

static brine_status assemble(brine_model *m, const bt_config *cfg, const be_layout *lay, const brine_train_data *td,
                             const bt_data *d, const bt_fitted *f, brine_error *err) {
    m->n_features_in = (int64_t)d->n_features;
    m->n_outputs = d->n_outputs;
    m->n_estimators = f->n_trees;
    size_t stride = 1;
    for (size_t k = 0; cfg->classifier && k < d->n_outputs; k++)
        if (d->n_classes[k] > stride) stride = d->n_classes[k];
    if (td->feature_names) {
        m->feature_names = be_alloc(m, d->n_features, sizeof *m->feature_names);
        if (!m->feature_names) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        for (size_t i = 0; i < d->n_features; i++) {
            const char *s = td->feature_names[i] ? td->feature_names[i] : "";
            if (!(m->feature_names[i] = bp_arena_strdup(&m->arena, s, strlen(s))))
                return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        }
        m->n_feature_names = d->n_features;
    }
    if (!cfg->forest) {
        m->max_features = (int64_t)f->max_features;
        be_tree *t;
        brine_status st = convert_tree(m, &f->trees[0], d, stride, d->n_classes, 0, &t, err);
        m->impl = t;
        return st;
    }
    be_forest *fo = be_alloc(m, 1, sizeof *fo);
    if (!fo || !(fo->trees = be_alloc(m, f->n_trees, sizeof *fo->trees)))
        return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    fo->n = f->n_trees;
    fo->n_classes = d->n_classes;
    m->impl = fo;
    brine_status st = BRINE_OK;
    for (size_t t = 0; !st && t < f->n_trees; t++)
        st = convert_tree(m, &f->trees[t], d, stride, d->n_classes, t, &fo->trees[t], err);
    if (!st) st = forest_members(m, cfg, lay, f, fo, err);
    if (!st) st = forest_extras(m, d, f, err);
    return st;
}

/* ------------------------------------------------------------- entry */

typedef struct progress_bridge {
    brine_progress_fn fn;
    void *ctx;
} progress_bridge;

static void bridge(void *ctx, size_t done, size_t total) {
    progress_bridge *b = ctx;
    b->fn(b->ctx, done, total);
}

static brine_status encode_targets(brine_model *m, const bt_config *cfg, const brine_train_data *td, bt_data *d,
                                   double *y, size_t **nc_out, brine_error *err) {
    if (!cfg->classifier) return regression_targets(td, y, err);
    size_t *nc = be_alloc(m, td->n_outputs, sizeof *nc);
    m->classes = be_alloc(m, td->n_outputs, sizeof *m->classes);
    const brine_label **cl = be_alloc(m, td->n_outputs, sizeof *cl);
    if (!nc || !m->classes || !cl) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t k = 0; k < td->n_outputs; k++) {
        brine_status st = encode_output(m, td, k, &m->classes[k], y, err);
        if (st) return st;
        nc[k] = m->classes[k].n;
        cl[k] = m->classes[k].labels;
    }
    d->classes = cl;
    *nc_out = nc;
    return BRINE_OK;
}

brine_status brine_train(brine_model **out, const char *estimator, const brine_train_data *data,
                         const char *const *params, size_t n_params, const brine_train_options *opts,
                         brine_error *err) {
    if (!out) return bi_fail(err, BRINE_E_ARGUMENT, -1, "out is NULL");
    *out = NULL;
    if (opts && opts->version != BRINE_TRAIN_OPTIONS_VERSION)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "unknown brine_train_options version %u", opts->version);
    const bt_estimator *e = bt_estimator_find(estimator);
    if (!e)
        return bi_fail(err, BRINE_E_ARGUMENT, -1, "brine cannot train '%s'; it trains decision trees, extra trees, "
                       "random forests and extra-trees ensembles (brine train --help)", estimator ? estimator : "");
    if (n_params && !params) return bi_fail(err, BRINE_E_ARGUMENT, -1, "params is NULL");
    brine_status st = check_data(data, err);
    const be_layout *lay = NULL;
    if (!st) st = choose_version(e->cls, opts ? opts->sklearn_version : NULL, data->feature_names != NULL, &lay, err);
    if (st) return st;
    brine_model *m = NULL;
    bt_config cfg;
    bt_config_defaults(&cfg, e, version_number(lay->version));
    bt_data d = {.n_rows = data->n_rows, .n_features = data->n_features, .n_outputs = data->n_outputs,
                 .sample_weight = data->sample_weight};
    float *xt = NULL;
    double *y = malloc(data->n_rows * data->n_outputs * sizeof *y);
    size_t *nc = NULL;
    bt_fitted fitted = {0};
    progress_bridge pb = {opts ? opts->progress : NULL, opts ? opts->progress_ctx : NULL};
    st = model_new(&m, e, lay, err);
    if (!st && !y) st = bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    if (!st) st = parse_params(m, e, &cfg, params, n_params, err);
    if (!st) st = feature_major(data, &xt, &d.negative_zero, err);
    if (!st) st = encode_targets(m, &cfg, data, &d, y, &nc, err);
    d.xt = xt;
    d.y = y;
    d.n_classes = nc;
    if (!st) st = bt_fit(&cfg, &d, &fitted, pb.fn ? bridge : NULL, &pb, err);
    if (!st) st = assemble(m, &cfg, lay, data, &d, &fitted, err);
    bt_fitted_free(&fitted);
    free(xt);
    free(y);
    if (st) {
        brine_model_free(m);
        return st;
    }
    *out = m;
    return BRINE_OK;
}
