/* hist_gb.c — HistGradientBoostingClassifier and HistGradientBoostingRegressor.
 *
 * A fitted model holds `_predictors`, a list per iteration of
 * n_trees_per_iteration_ TreePredictor objects, whose `nodes` is a
 * structured array of PREDICTOR_RECORD_DTYPE records (read by field name:
 * feature_idx is uint32 in sklearn 1.2.1 and intp in the 1.4.0 and 1.6.1
 * files, so the record is 52 or 56 bytes), `raw_left_cat_bitsets` (n_categorical_splits x 8 uint32) for
 * categorical splits, `_baseline_prediction` (1 x K float64), the loss
 * object `_loss` (sklearn._loss.loss.*, sklearn >= 1.1) and `_bin_mapper`
 * (its is_categorical_ and bin_thresholds_ give the known categories).
 *
 * As sklearn computes it (gradient_boosting.py _raw_predict, _predictor.pyx
 * _predict_one_from_raw_data): X in float64, NaN and infinities allowed;
 * raw[k] = 0.0 + _baseline_prediction[k], then for every iteration in order
 * raw[k] += the leaf value of its k-th predictor.  At a node: NaN follows
 * missing_go_to_left; a numeric split goes left when x <= num_threshold; a
 * categorical split treats x < 0 as missing, else converts x to uint8 as the
 * x86-64 builds do (truncation to int32, low byte; 2^31 and above give 0),
 * goes left when that category is in the node's raw_left_cat_bitsets row,
 * right when it is a known category of the feature, and otherwise follows
 * missing_go_to_left.  Outputs: regressors link.inverse (identity, or exp
 * for the log link of poisson / gamma / tweedie); classifiers
 * decision_function = raw, predict_proba binomial [1 - expit, expit],
 * multinomial softmax (row max subtracted, exp, sum in class order, divide);
 * predict argmax(predict_proba) before sklearn 1.4, from 1.4 raw > 0
 * (binary) / argmax(raw).
 *
 * Refused: files whose loss object is not one of sklearn._loss.loss's
 * (sklearn < 1.1 kept its own loss classes), models with a `_preprocessor`
 * (pandas categorical input, sklearn >= 1.4 categorical_features='from_dtype'
 * with categories seen). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

#define HGB_MAX_CLASSES 1024

enum { L_IDENTITY, L_LOG, L_LOGIT, L_SOFTMAX };

typedef struct hgb_node {
    double value, threshold;
    uint32_t feature, left, right, bitset;
    uint8_t leaf, missing_left, categorical;
} hgb_node;

typedef struct hgb_tree {
    size_t n;
    hgb_node *nodes;
    const uint32_t *bitsets; /* raw_left_cat_bitsets: n_bitsets rows of 8 */
    size_t n_bitsets;
} hgb_tree;

typedef struct hgb_model {
    size_t n_iter, k;   /* len(_predictors), n_trees_per_iteration_ */
    hgb_tree *trees;    /* n_iter * k, [i * k + j] */
    double *baseline;   /* k */
    int link;           /* L_* */
    size_t n_classes;   /* classifiers */
    int raw_predict;    /* classifiers: predict from raw (sklearn >= 1.4) */
    uint32_t *known;    /* known categories: per feature 8 words (zero when not categorical) */
    uint8_t *is_cat;    /* per feature */
} hgb_model;

/* ------------------------------------------------------------- helpers */

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }

/* module.name of an object node, or NULL. */
static const char *object_class(const bv *v, const char **name) {
    *name = NULL;
    if (!v || v->kind != BRINE_OBJECT) return NULL;
    return brine_value_global(v, name);
}

static const bv *object_state(const bv *v) {
    const bv *st = v && v->kind == BRINE_OBJECT ? v->u.obj.state : NULL;
    return st && st->kind == BRINE_DICT ? st : NULL;
}

/* ------------------------------------------------------------- records */

enum { F_VALUE, F_FEATURE, F_THRESHOLD, F_MISSING, F_LEFT, F_RIGHT, F_LEAF, F_CAT, F_BITSET, F_COUNT };

static const struct {
    const char *name;
    char kind; /* 'f' float64, 'u' unsigned/signed int of 4 or 8 bytes, 'b' one byte */
    int needed;
} rec_fields[F_COUNT] = {
    {"value", 'f', 1},         {"feature_idx", 'u', 1}, {"num_threshold", 'f', 1},
    {"missing_go_to_left", 'b', 0}, /* sklearn >= 0.22 */
    {"left", 'u', 1},          {"right", 'u', 1},       {"is_leaf", 'b', 1},
    {"is_categorical", 'b', 0}, {"bitset_idx", 'u', 0}, /* sklearn >= 0.24 */
};

typedef struct rec_layout {
    const bv_dtype *dt[F_COUNT];
    size_t off[F_COUNT];
    size_t itemsize;
} rec_layout;

static int rec_type_ok(const bv_dtype *d, char kind) {
    if (d->nfields || d->subarray_base) return 0;
    if (kind == 'f') return d->kind == 'f' && d->itemsize == 8;
    if (kind == 'u') return (d->kind == 'u' || d->kind == 'i') && (d->itemsize == 4 || d->itemsize == 8);
    return (d->kind == 'u' || d->kind == 'i' || d->kind == 'b') && d->itemsize == 1;
}

static brine_status find_records(brine_model *m, const bv_dtype *dt, const char *field, rec_layout *lay,
                                 brine_error *err) {
    memset(lay, 0, sizeof *lay);
    lay->itemsize = dt->itemsize;
    if (!dt->nfields) return be_fail(err, m, "%s has a plain dtype, not node records", field);
    for (size_t i = 0; i < dt->nfields; i++) {
        const bv_field *f = &dt->fields[i];
        for (int k = 0; k < F_COUNT; k++) {
            if (f->name_len != strlen(rec_fields[k].name) || memcmp(f->name, rec_fields[k].name, f->name_len))
                continue;
            const bv_dtype *fd = f->dtype && f->dtype->kind == BRINE_DTYPE ? f->dtype->u.dt : NULL;
            if (!fd || !rec_type_ok(fd, rec_fields[k].kind))
                return be_fail(err, m, "%s field %s has an unexpected type", field, rec_fields[k].name);
            if (f->offset > dt->itemsize || fd->itemsize > dt->itemsize - f->offset)
                return be_fail(err, m, "%s field %s lies outside the %zu-byte record", field, rec_fields[k].name,
                               dt->itemsize);
            lay->dt[k] = fd;
            lay->off[k] = f->offset;
        }
    }
    for (int k = 0; k < F_COUNT; k++)
        if (rec_fields[k].needed && !lay->dt[k])
            return be_fail(err, m, "%s records lack the field %s", field, rec_fields[k].name);
    return BRINE_OK;
}

static int64_t rec_int(const rec_layout *lay, const uint8_t *rec, int k) {
    int64_t v;
    if (!lay->dt[k]) return 0;
    return be_item_int(lay->dt[k], rec + lay->off[k], &v) ? v : -1;
}

static double rec_double(const rec_layout *lay, const uint8_t *rec, int k) {
    double v;
    return be_item_double(lay->dt[k], rec + lay->off[k], &v) ? v : NAN;
}

/* ------------------------------------------------------------- loading */

/* raw_left_cat_bitsets: a 2-D uint32 array of 8 columns (or absent). */
static brine_status read_bitsets(brine_model *m, const bv *v, const char *field, hgb_tree *t, brine_error *err) {
    if (is_none(v)) return BRINE_OK;
    const bv_array *a = be_array(v);
    if (!a || !be_dtype_is(a->dtype, 'u', 4) || a->ndim != 2 || a->shape[1] != 8 || a->shape[0] < 0)
        return be_fail(err, m, "%s is not a uint32 array of shape (n, 8)", field);
    if (a->fortran && a->shape[0] > 1) return be_fail(err, m, "%s is not C-ordered", field);
    size_t n = (size_t)a->shape[0];
    uint32_t *b = be_alloc(m, n * 8 + 1, sizeof *b);
    if (!b) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < n * 8; i++) {
        int64_t w;
        if (!be_array_int(a, i, &w)) return be_fail(err, m, "%s[%zu] is unreadable", field, i / 8);
        b[i] = (uint32_t)w;
    }
    t->bitsets = b;
    t->n_bitsets = n;
    return BRINE_OK;
}

/* One TreePredictor: its records copied and checked so that a walk from
 * node 0 always ends at a leaf (children lie after their parent, as
 * sklearn's grower numbers them depth first), every feature index is
 * within the width and every categorical split has its bitset row. */
static brine_status load_predictor(brine_model *m, const hgb_model *g, const bv *pred, size_t it, size_t j,
                                   hgb_tree *t, brine_error *err) {
    char field[96];
    snprintf(field, sizeof field, "_predictors[%zu][%zu]", it, j);
    const char *name;
    const char *module = object_class(pred, &name);
    const bv *st = object_state(pred);
    if (!module || strcmp(module, "sklearn.ensemble._hist_gradient_boosting.predictor") || strcmp(name, "TreePredictor") ||
        !st)
        return be_fail(err, m, "%s is not a TreePredictor", field);
    char sub[128];
    snprintf(sub, sizeof sub, "%s.raw_left_cat_bitsets", field);
    brine_status s = read_bitsets(m, bv_dict_get(st, "raw_left_cat_bitsets"), sub, t, err);
    if (s) return s;
    snprintf(sub, sizeof sub, "%s.nodes", field);
    const bv_array *a = be_array(bv_dict_get(st, "nodes"));
    if (!a || a->ndim != 1 || a->count < 1 || !a->data) return be_fail(err, m, "%s is not a 1-D record array", sub);
    rec_layout lay;
    s = find_records(m, a->dtype->u.dt, sub, &lay, err);
    if (s) return s;
    if (a->nbytes / lay.itemsize < (uint64_t)a->count) return be_fail(err, m, "%s is truncated", sub);
    t->n = (size_t)a->count;
    t->nodes = be_alloc(m, t->n, sizeof *t->nodes);
    if (!t->nodes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu nodes", t->n);
    int64_t nf = m->n_features_in;
    for (size_t i = 0; i < t->n; i++) {
        const uint8_t *rec = a->data + i * lay.itemsize;
        hgb_node *nd = &t->nodes[i];
        nd->value = rec_double(&lay, rec, F_VALUE);
        nd->leaf = rec_int(&lay, rec, F_LEAF) != 0;
        if (nd->leaf) continue;
        int64_t l = rec_int(&lay, rec, F_LEFT), r = rec_int(&lay, rec, F_RIGHT), f = rec_int(&lay, rec, F_FEATURE);
        if (l <= (int64_t)i || l >= (int64_t)t->n || r <= (int64_t)i || r >= (int64_t)t->n)
            return be_fail(err, m, "%s[%zu] has children %lld and %lld; they must lie in %zu..%zu (a cycle or "
                           "out of range)", sub, i, (long long)l, (long long)r, i + 1, t->n - 1);
        if (f < 0 || f >= nf)
            return be_fail(err, m, "%s[%zu].feature_idx is %lld, outside 0..%lld", sub, i, (long long)f,
                           (long long)(nf - 1));
        nd->left = (uint32_t)l;
        nd->right = (uint32_t)r;
        nd->feature = (uint32_t)f;
        nd->threshold = rec_double(&lay, rec, F_THRESHOLD);
        nd->missing_left = rec_int(&lay, rec, F_MISSING) != 0;
        nd->categorical = rec_int(&lay, rec, F_CAT) != 0;
        if (!nd->categorical) continue;
        int64_t b = rec_int(&lay, rec, F_BITSET);
        if (b < 0 || (uint64_t)b >= t->n_bitsets)
            return be_fail(err, m, "%s[%zu].bitset_idx is %lld, but raw_left_cat_bitsets has %zu rows", sub, i,
                           (long long)b, t->n_bitsets);
        if (!g->is_cat || !g->is_cat[f])
            return be_fail(err, m, "%s[%zu] splits feature %lld as categorical, which _bin_mapper does not list "
                           "as categorical", sub, i, (long long)f);
        nd->bitset = (uint32_t)b;
    }
    return BRINE_OK;
}

/* _bin_mapper.is_categorical_ and the categories in bin_thresholds_ of
 * those features (make_known_categories_bitsets). */
static brine_status read_bin_mapper(brine_model *m, const bv *state, hgb_model *g, brine_error *err) {
    const bv *bm = bv_dict_get(state, "_bin_mapper");
    const char *name;
    const char *module = object_class(bm, &name);
    const bv *st = object_state(bm);
    if (!module || strcmp(name, "_BinMapper") || !st) return BRINE_OK; /* only needed for categorical splits */
    const bv_array *ic = be_array(bv_dict_get(st, "is_categorical_"));
    if (!ic) return BRINE_OK;
    size_t nf = (size_t)m->n_features_in;
    if (ic->ndim != 1 || (uint64_t)ic->count != nf)
        return be_fail(err, m, "_bin_mapper.is_categorical_ does not have %zu entries", nf);
    g->is_cat = be_alloc(m, nf, 1);
    g->known = be_alloc(m, nf * 8, sizeof *g->known);
    if (!g->is_cat || !g->known) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    const bv *th = bv_dict_get(st, "bin_thresholds_");
    for (size_t f = 0; f < nf; f++) {
        int64_t c;
        if (!be_array_int(ic, f, &c)) return be_fail(err, m, "_bin_mapper.is_categorical_[%zu] is not an int", f);
        g->is_cat[f] = c != 0;
        if (!c) continue;
        if (!th || th->kind != BRINE_LIST || th->u.seq.n != nf)
            return be_fail(err, m, "_bin_mapper.bin_thresholds_ is not a list of %zu arrays", nf);
        const bv_array *cats = be_array(th->u.seq.items[f]);
        if (!cats || cats->ndim != 1) return be_fail(err, m, "_bin_mapper.bin_thresholds_[%zu] is not a 1-D array", f);
        for (size_t i = 0; i < (size_t)cats->count; i++) {
            double v;
            if (!be_array_double(cats, i, &v) || !(v >= 0 && v <= 255) || v != floor(v))
                return be_fail(err, m, "_bin_mapper.bin_thresholds_[%zu][%zu] is not a category 0..255", f, i);
            unsigned u = (unsigned)v;
            g->known[f * 8 + u / 32] |= (uint32_t)1 << (u % 32);
        }
    }
    return BRINE_OK;
}

/* The link of the loss object (sklearn._loss.loss.*). */
static brine_status read_loss(brine_model *m, const bv *state, hgb_model *g, brine_error *err) {
    const bv *loss = bv_dict_get(state, "_loss");
    const char *name;
    const char *module = object_class(loss, &name);
    if (!module) {
        if (bv_dict_get(state, "loss_") || (loss && loss->kind != BRINE_NONE))
            return bi_fail(err, BRINE_E_UNSUPPORTED, -1,
                           "%s: the file's loss object is not one of sklearn._loss.loss (written by sklearn < 1.1, "
                           "version %s); brine supports HistGradientBoosting files of sklearn >= 1.1",
                           m->short_name, m->sklearn_version ? m->sklearn_version : "unknown");
        return be_fail(err, m, "_loss is missing (not fitted)");
    }
    if (strcmp(module, "sklearn._loss.loss"))
        return bi_fail(err, BRINE_E_UNSUPPORTED, -1,
                       "%s: its loss object is %s.%s; brine supports the losses of sklearn._loss.loss", m->short_name,
                       module, name);
    static const struct {
        const char *name;
        int link, clf;
    } known[] = {
        {"HalfSquaredError", L_IDENTITY, 0}, {"AbsoluteError", L_IDENTITY, 0}, {"PinballLoss", L_IDENTITY, 0},
        {"HalfTweedieLossIdentity", L_IDENTITY, 0}, {"HuberLoss", L_IDENTITY, 0},
        {"HalfPoissonLoss", L_LOG, 0}, {"HalfGammaLoss", L_LOG, 0}, {"HalfTweedieLoss", L_LOG, 0},
        {"HalfBinomialLoss", L_LOGIT, 1}, {"HalfMultinomialLoss", L_SOFTMAX, 1},
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        if (strcmp(name, known[i].name)) continue;
        if (known[i].clf != m->cls->classifier)
            return be_fail(err, m, "_loss is %s, a %s loss", name, known[i].clf ? "classification" : "regression");
        g->link = known[i].link;
        return BRINE_OK;
    }
    return bi_fail(err, BRINE_E_UNSUPPORTED, -1, "%s: loss object sklearn._loss.loss.%s is not supported", m->short_name,
                   name);
}

static brine_status hgb_load(brine_model *m, const bv *state, brine_error *err) {
    hgb_model *g = be_alloc(m, 1, sizeof *g);
    if (!g) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    m->n_outputs = 1;
    m->allow_nan = 1;
    const bv *pre = bv_dict_get(state, "_preprocessor");
    if (!is_none(pre))
        return bi_fail(err, BRINE_E_UNSUPPORTED, -1,
                       "%s: _preprocessor (categorical features taken from a pandas dtype) is not supported",
                       m->short_name);
    brine_status s = be_read_n_features(m, state, &m->n_features_in, err);
    if (s) return s;
    if (m->n_features_in < 0) {
        int64_t nf;
        if (!be_get_int(bv_dict_get(state, "_n_features"), &nf) || nf < 1 || nf > INT32_MAX)
            return be_fail(err, m, "has neither n_features_in_ nor _n_features");
        m->n_features_in = nf;
    }
    int64_t k = 1;
    const bv *kv = bv_dict_get(state, "n_trees_per_iteration_");
    if (!be_get_int(kv, &k) || k < 1 || k > HGB_MAX_CLASSES)
        return be_fail(err, m, "n_trees_per_iteration_ is not an int in 1..%d", HGB_MAX_CLASSES);
    g->k = (size_t)k;
    if (m->cls->classifier) {
        /* classes_ alone: these classifiers keep no n_classes_ */
        m->classes = be_alloc(m, 1, sizeof *m->classes);
        if (!m->classes) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
        s = be_read_labels(m, bv_dict_get(state, "classes_"), "classes_", &m->classes[0], err);
        if (s) return s;
        size_t nc = m->classes[0].n;
        if (nc < 2 || nc > HGB_MAX_CLASSES)
            return be_fail(err, m, "classes_ has %zu classes (2..%d supported)", nc, HGB_MAX_CLASSES);
        g->n_classes = nc;
        if (g->k != (nc == 2 ? 1 : nc))
            return be_fail(err, m, "n_trees_per_iteration_ is %zu for %zu classes", g->k, nc);
        g->raw_predict = be_version_at_least(m, 1, 4, 0) == 1;
    } else if (g->k != 1) {
        return be_fail(err, m, "n_trees_per_iteration_ is %zu, not 1", g->k);
    }
    s = read_loss(m, state, g, err);
    if (s) return s;
    if ((g->link == L_SOFTMAX) != (g->k > 1)) return be_fail(err, m, "_loss does not match %zu classes", g->n_classes);
    const bv_array *b = be_array(bv_dict_get(state, "_baseline_prediction"));
    if (!b || !be_dtype_is(b->dtype, 'f', 8) || (uint64_t)b->count != g->k || b->ndim < 1 || b->ndim > 2)
        return be_fail(err, m, "_baseline_prediction is not %zu float64 values", g->k);
    g->baseline = be_alloc(m, g->k, sizeof *g->baseline);
    if (!g->baseline) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t i = 0; i < g->k; i++) be_array_double(b, i, &g->baseline[i]);
    s = read_bin_mapper(m, state, g, err);
    if (s) return s;
    const bv *preds = bv_dict_get(state, "_predictors");
    if (!preds || preds->kind != BRINE_LIST) return be_fail(err, m, "_predictors is not a list");
    g->n_iter = preds->u.seq.n;
    g->trees = be_alloc(m, g->n_iter * g->k + 1, sizeof *g->trees);
    if (!g->trees) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory for %zu predictors", g->n_iter);
    for (size_t i = 0; i < g->n_iter; i++) {
        const bv *row = preds->u.seq.items[i];
        if (!row || row->kind != BRINE_LIST || row->u.seq.n != g->k)
            return be_fail(err, m, "_predictors[%zu] is not a list of %zu predictors", i, g->k);
        for (size_t j = 0; j < g->k; j++) {
            s = load_predictor(m, g, row->u.seq.items[j], i, j, &g->trees[i * g->k + j], err);
            if (s) return s;
        }
    }
    m->n_estimators = g->n_iter;
    m->impl = g;
    s = be_keep_params(m, state, err);
    if (s) return s;
    return be_read_feature_names(m, state, err);
}

/* ---------------------------------------------------------- predicting */

static size_t hgb_columns(const brine_model *m, brine_method method) {
    const hgb_model *g = m->impl;
    int clf = m->cls->classifier;
    switch (method) {
    case BRINE_METHOD_PREDICT:
        return 1;
    case BRINE_METHOD_PREDICT_PROBA:
        return clf ? g->n_classes : BE_NO_METHOD;
    case BRINE_METHOD_DECISION_FUNCTION:
        return clf ? g->k : BE_NO_METHOD;
    default:
        return BE_NO_METHOD;
    }
}

/* The category byte of a value >= 0, as `<uint8>x` compiles on x86-64
 * (cvttsd2si to int32, whose out-of-range result is 0x80000000). */
static unsigned category_byte(double x) {
    if (!(x < 2147483648.0)) return 0;
    return (unsigned)(int32_t)x & 0xffu;
}

static double walk(const hgb_model *g, const hgb_tree *t, const double *x) {
    const hgb_node *nd = &t->nodes[0];
    while (!nd->leaf) {
        double v = x[nd->feature];
        uint32_t next;
        if (isnan(v)) {
            next = nd->missing_left ? nd->left : nd->right;
        } else if (nd->categorical) {
            unsigned c = category_byte(v);
            if (v < 0) next = nd->missing_left ? nd->left : nd->right;
            else if ((t->bitsets[nd->bitset * 8 + c / 32] >> (c % 32)) & 1) next = nd->left;
            else if ((g->known[nd->feature * 8 + c / 32] >> (c % 32)) & 1) next = nd->right;
            else next = nd->missing_left ? nd->left : nd->right;
        } else {
            next = v <= nd->threshold ? nd->left : nd->right;
        }
        nd = &t->nodes[next];
    }
    return nd->value;
}

static double expit(double x) { return 1 / (1 + exp(-x)); }

static brine_status hgb_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                brine_error *err) {
    const hgb_model *g = m->impl;
    size_t k = g->k, nc = g->n_classes;
    double r[HGB_MAX_CLASSES], p[HGB_MAX_CLASSES];
    (void)err;
    for (size_t row = 0; row < in->n_rows; row++) {
        const double *x = in->xd + row * in->n_cols;
        for (size_t j = 0; j < k; j++) r[j] = 0.0 + g->baseline[j];
        for (size_t i = 0; i < g->n_iter; i++)
            for (size_t j = 0; j < k; j++) r[j] += walk(g, &g->trees[i * k + j], x);
        if (!m->cls->classifier) {
            out->values[row] = g->link == L_LOG ? exp(r[0]) : r[0];
            continue;
        }
        if (method == BRINE_METHOD_DECISION_FUNCTION) {
            memcpy(out->values + row * k, r, k * sizeof *r);
            continue;
        }
        if (method == BRINE_METHOD_PREDICT && g->raw_predict) {
            out->indices[row] = k == 1 ? r[0] > 0 : (int64_t)be_argmax(r, k);
            continue;
        }
        if (k == 1) {
            p[1] = expit(r[0]);
            p[0] = 1 - p[1];
        } else {
            /* sklearn.utils.extmath.softmax on the F-ordered raw array:
             * the row sum runs column after column */
            double mx = r[0];
            for (size_t j = 1; j < k; j++)
                if (r[j] > mx || isnan(r[j])) mx = isnan(mx) ? mx : r[j];
            double sum = 0;
            for (size_t j = 0; j < k; j++) {
                p[j] = exp(r[j] - mx);
                sum = j ? sum + p[j] : p[j];
            }
            for (size_t j = 0; j < k; j++) p[j] /= sum;
        }
        if (method == BRINE_METHOD_PREDICT) out->indices[row] = (int64_t)be_argmax(p, nc);
        else memcpy(out->values + row * nc, p, nc * sizeof *p);
    }
    return BRINE_OK;
}

const be_family be_hgb_family = {"hist_gradient_boosting", hgb_load, hgb_predict, NULL, hgb_columns, BE_FAM_FLOAT64};
