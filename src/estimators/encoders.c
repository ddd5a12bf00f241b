/* encoders.c — categorical encoders of sklearn.preprocessing (OneHotEncoder,
 * OrdinalEncoder, LabelEncoder) and the column compositions that route
 * mixed text and numeric columns to them (ColumnTransformer, FeatureUnion).
 *
 * Categories are read into label tables (str, int, float, bool, None); a
 * cell matches a category when its text equals a str category, or its
 * number equals a numeric one; a missing cell (NULL text, NaN number)
 * matches a NaN category, else a None category.  Encoders fitted on str
 * categories take text (brine_model_takes_text).  Transform follows sklearn
 * 1.2.1's _BaseEncoder._transform, OneHotEncoder.transform (infrequent
 * grouping, drop) and OrdinalEncoder.transform step by step; outputs are
 * small integers or given constants, so they are exact.  One-hot output is
 * dense (sklearn's sparse_output only changes the container).
 *
 * ColumnTransformer hands each fitted transformer of transformers_ its
 * columns (ints, names, slices, bool masks, the remainder) as a sub-input
 * (text and numbers) and concatenates the outputs in transformers_ order,
 * times transformer_weights; FeatureUnion gives every transformer all the
 * columns. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimators/estimator.h"
#include "io/error.h"

static int is_none(const bv *v) { return !v || v->kind == BRINE_NONE; }
static brine_status nomem(brine_error *err) { return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory"); }

/* ------------------------------------------------------ category tables */

enum { CAT_MAX = 1 << 24 }; /* categories of one feature */
#define NO_CAT ((size_t)-1)

typedef struct enc_cats {
    brine_label *l;
    size_t n;
    size_t nan_idx, none_idx; /* NO_CAT when absent */
    int text;                 /* holds str (or None) categories */
    /* Hash indexes (open addressing, index + 1; 0 empty) of the str and the
     * numeric categories, built at load for tables larger than a few. */
    uint32_t *hs, *hn;
    size_t cap; /* power of two, or 0: no index */
} enc_cats;

enum { CAT_INDEX_MIN = 16 };

static uint64_t hash_bytes(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t k = 0; k < n; k++) h = (h ^ b[k]) * 1099511628211ull;
    return h ^ (h >> 29);
}

/* A number as a hash key: ints and floats that are equal hash equal. */
static uint64_t hash_number(double v) {
    if (v == 0.0) v = 0.0; /* -0.0 == 0.0 */
    return hash_bytes(&v, sizeof v);
}

static int label_number(const brine_label *l, double *v) {
    if (l->kind == BRINE_LABEL_FLOAT) *v = l->f;
    else if (l->kind == BRINE_LABEL_INT || l->kind == BRINE_LABEL_BOOL) *v = (double)l->i;
    else return 0;
    return !isnan(*v);
}

/* Builds the indexes; the first of equal categories wins, as a scan. */
static brine_status index_cats(brine_model *m, enc_cats *c, brine_error *err) {
    if (c->n < CAT_INDEX_MIN) return BRINE_OK;
    size_t cap = 64;
    while (cap < 2 * c->n) cap *= 2;
    c->hs = be_alloc(m, cap, sizeof *c->hs);
    c->hn = be_alloc(m, cap, sizeof *c->hn);
    if (!c->hs || !c->hn) return bi_fail(err, BRINE_E_NOMEM, -1, "out of memory");
    for (size_t k = 0; k < c->n; k++) {
        const brine_label *l = &c->l[k];
        double v = 0.0;
        uint32_t *t = NULL;
        uint64_t h;
        if (l->kind == BRINE_LABEL_STR) t = c->hs, h = hash_bytes(l->s, l->len);
        else if (label_number(l, &v)) t = c->hn, h = hash_number(v);
        else continue;
        for (size_t j = h & (cap - 1);; j = (j + 1) & (cap - 1)) {
            if (!t[j]) {
                t[j] = (uint32_t)(k + 1);
                break;
            }
            const brine_label *o = &c->l[t[j] - 1];
            double w;
            if (l->kind == BRINE_LABEL_STR ? (o->len == l->len && !memcmp(o->s, l->s, l->len))
                                           : (label_number(o, &w) && w == v))
                break; /* an equal category came first */
        }
    }
    c->cap = cap;
    return BRINE_OK;
}

/* One element of an object array of categories; None allowed. */
static brine_status object_cat(brine_model *m, const bv *v, const char *field, size_t i, brine_label *l,
                               brine_error *err) {
    double d;
    int64_t k;
    switch (v->kind) {
    case BRINE_NONE: l->kind = BRINE_LABEL_NONE; return BRINE_OK;
    case BRINE_STR:
        l->kind = BRINE_LABEL_STR;
        l->len = v->u.s.n;
        char *s = be_alloc(m, v->u.s.n + 1, 1);
        if (!s) return nomem(err);
        memcpy(s, v->u.s.p, v->u.s.n);
        l->s = s;
        return BRINE_OK;
    case BRINE_BOOL: l->kind = BRINE_LABEL_BOOL, l->i = v->u.i; return BRINE_OK;
    case BRINE_FLOAT: l->kind = BRINE_LABEL_FLOAT, l->f = v->u.f; return BRINE_OK;
    default: break;
    }
    if (v->kind == BRINE_SCALAR && v->u.arr && v->u.arr->dtype && v->u.arr->dtype->u.dt->kind == 'f' &&
        be_get_double(v, &d)) {
        l->kind = BRINE_LABEL_FLOAT, l->f = d;
        return BRINE_OK;
    }
    if (be_get_int(v, &k)) {
        l->kind = BRINE_LABEL_INT, l->i = k;
        return BRINE_OK;
    }
    return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "%s[%zu] is a %s; brine reads str, int, float, bool and None categories",
                          field, i, brine_kind_name((brine_kind)v->kind));
}

static brine_status read_cats(brine_model *m, const bv *v, const char *field, enc_cats *out, brine_error *err) {
    const bv_array *a = be_array(v);
    if (!a || a->ndim != 1) return be_fail(err, m, "%s is not a 1-D array", field);
    if (a->count > CAT_MAX) return be_fail(err, m, "%s has %lld categories", field, (long long)a->count);
    out->n = (size_t)a->count;
    out->nan_idx = out->none_idx = NO_CAT;
    out->text = 0;
    if (a->dtype->u.dt->kind == 'O') {
        if (a->dtype->u.dt->nfields || !a->objects || a->objects->u.seq.n != out->n)
            return be_fail(err, m, "%s has no elements", field);
        out->l = be_alloc(m, out->n + 1, sizeof *out->l);
        if (!out->l) return nomem(err);
        for (size_t i = 0; i < out->n; i++) {
            brine_status st = object_cat(m, a->objects->u.seq.items[i], field, i, &out->l[i], err);
            if (st) return st;
        }
    } else {
        be_classes c;
        brine_status st = be_read_labels(m, v, field, &c, err);
        if (st) return st;
        out->l = c.labels;
    }
    for (size_t i = 0; i < out->n; i++) {
        const brine_label *l = &out->l[i];
        if (l->kind == BRINE_LABEL_STR || l->kind == BRINE_LABEL_NONE) out->text = 1;
        if (l->kind == BRINE_LABEL_NONE && out->none_idx == NO_CAT) out->none_idx = i;
        if (l->kind == BRINE_LABEL_FLOAT && isnan(l->f) && out->nan_idx == NO_CAT) out->nan_idx = i;
    }
    out->hs = out->hn = NULL;
    out->cap = 0;
    return index_cats(m, out, err);
}

/* A list (or tuple, or object array) of per-feature arrays. */
static brine_status seq_items(brine_model *m, const bv *v, const char *field, const bv *const **items, size_t *n,
                              brine_error *err) {
    const bv_array *a = be_array(v);
    if (a && a->dtype->u.dt->kind == 'O' && a->ndim == 1 && a->objects && a->objects->u.seq.n == (size_t)a->count) {
        *items = (const bv *const *)a->objects->u.seq.items;
        *n = (size_t)a->count;
        return BRINE_OK;
    }
    if (!v || (v->kind != BRINE_LIST && v->kind != BRINE_TUPLE)) return be_fail(err, m, "%s is not a list", field);
    *items = (const bv *const *)v->u.seq.items;
    *n = v->u.seq.n;
    return BRINE_OK;
}

/* The index of the category a cell is, or NO_CAT. */
static size_t cat_find(const enc_cats *c, const char *t, double v) {
    if (!t && isnan(v)) return c->nan_idx != NO_CAT ? c->nan_idx : c->none_idx;
    size_t tn = t ? strlen(t) : 0;
    if (c->cap) { /* the first str match and the first numeric match: the earlier one */
        size_t best = NO_CAT, mask = c->cap - 1;
        for (size_t j = t ? hash_bytes(t, tn) & mask : 0; t && c->hs[j]; j = (j + 1) & mask) {
            const brine_label *l = &c->l[c->hs[j] - 1];
            if (l->len == tn && !memcmp(l->s, t, tn)) {
                best = c->hs[j] - 1;
                break;
            }
        }
        for (size_t j = !isnan(v) ? hash_number(v) & mask : 0; !isnan(v) && c->hn[j]; j = (j + 1) & mask) {
            double w;
            if (label_number(&c->l[c->hn[j] - 1], &w) && w == v) {
                if (c->hn[j] - 1 < best) best = c->hn[j] - 1;
                break;
            }
        }
        return best;
    }
    for (size_t k = 0; k < c->n; k++) {
        const brine_label *l = &c->l[k];
        switch (l->kind) {
        case BRINE_LABEL_STR:
            if (t && l->len == tn && !memcmp(l->s, t, tn)) return k;
            break;
        case BRINE_LABEL_FLOAT:
            if (!isnan(v) && v == l->f) return k;
            break;
        case BRINE_LABEL_INT:
        case BRINE_LABEL_BOOL:
            if (!isnan(v) && v == (double)l->i) return k;
            break;
        default: break;
        }
    }
    return NO_CAT;
}

/* A cell for a message: its text, its number, or "nan". */
static void cell_text(char *buf, size_t size, const be_input *in, size_t i) {
    const char *t = in->text ? in->text[i] : NULL;
    if (t) snprintf(buf, size, "'%.40s'", t);
    else snprintf(buf, size, "%.17g", in->xd[i]);
}

/* The cell (row r, feature j) of the input. */
static const char *in_text(const be_input *in, size_t i) { return in->text ? in->text[i] : NULL; }

/* An int attribute (Python int, numpy integer) or -1 for None. */
static int get_opt_index(const bv *v, int64_t *out) {
    if (is_none(v)) {
        *out = -1;
        return 1;
    }
    return be_get_int(v, out);
}

/* An array or list of per-feature optional indices (drop_idx_). */
static brine_status read_drop(brine_model *m, const bv *v, const char *field, size_t nf, const size_t *limit,
                              int64_t **out, brine_error *err) {
    *out = NULL;
    if (is_none(v)) return BRINE_OK;
    int64_t *d = be_alloc(m, nf + 1, sizeof *d);
    if (!d) return nomem(err);
    const bv_array *a = be_array(v);
    if (a && a->dtype->u.dt->kind != 'O') {
        if (a->ndim != 1 || (size_t)a->count != nf) return be_fail(err, m, "%s does not have %zu entries", field, nf);
        for (size_t i = 0; i < nf; i++)
            if (!be_array_int(a, i, &d[i])) return be_fail(err, m, "%s[%zu] is not an int", field, i);
    } else {
        const bv *const *items;
        size_t n;
        brine_status st = seq_items(m, v, field, &items, &n, err);
        if (st) return st;
        if (n != nf) return be_fail(err, m, "%s does not have %zu entries", field, nf);
        for (size_t i = 0; i < nf; i++)
            if (!get_opt_index(items[i], &d[i])) return be_fail(err, m, "%s[%zu] is not an int or None", field, i);
    }
    for (size_t i = 0; i < nf; i++)
        if (d[i] < -1 || (d[i] >= 0 && (uint64_t)d[i] >= limit[i]))
            return be_fail(err, m, "%s[%zu] is %lld, outside the %zu categories", field, i, (long long)d[i], limit[i]);
    *out = d;
    return BRINE_OK;
}

/* --------------------------------------------------------- the encoders */

enum { ENC_ONEHOT, ENC_ORDINAL, ENC_LABEL };
enum { H_ERROR, H_IGNORE, H_INFREQUENT, H_ENCODED };

typedef struct enc_model {
    int kind;          /* ENC_* */
    size_t nf;         /* input features */
    enc_cats *cats;    /* nf tables */
    int handle;        /* H_* */
    /* OneHotEncoder */
    int64_t *drop;     /* grouped index dropped per feature (-1 none); NULL: drop None */
    int64_t *drop_orig; /* drop_idx_ as stored (an index into categories_) */
    int64_t **map;     /* per feature: category -> grouped index, or NULL */
    int64_t *infreq_first; /* per feature: first infrequent category, -1 none */
    size_t *n_grouped; /* grouped categories per feature */
    size_t *nout, *off;
    size_t width;      /* output columns */
    brine_label **tcats; /* grouped categories (inverse_transform) */
    int sparse;        /* OneHotEncoder: sparse_output (sparse before 1.2) */
    /* OrdinalEncoder */
    double unknown_value, missing_value;
    int64_t *missing_idx; /* per feature: the NaN category's index, -1 none */
} enc_model;

static brine_status read_handle(brine_model *m, const bv *state, enc_model *e, brine_error *err) {
    const bv *v = bv_dict_get(state, "handle_unknown");
    e->handle = H_ERROR;
    if (!v || bv_is_str(v, "error")) return BRINE_OK;
    if (e->kind == ENC_ONEHOT && bv_is_str(v, "ignore")) e->handle = H_IGNORE;
    else if (e->kind == ENC_ONEHOT && bv_is_str(v, "infrequent_if_exist")) e->handle = H_INFREQUENT;
    else if (e->kind == ENC_ORDINAL && bv_is_str(v, "use_encoded_value")) e->handle = H_ENCODED;
    else return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "handle_unknown is not a value brine knows");
    return BRINE_OK;
}

static brine_status read_categories(brine_model *m, const bv *state, enc_model *e, brine_error *err) {
    const bv *v = bv_dict_get(state, "categories_");
    if (is_none(v)) return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "has no categories_ (a layout before sklearn 0.20)");
    const bv *const *items;
    size_t n;
    brine_status st = seq_items(m, v, "categories_", &items, &n, err);
    if (st) return st;
    if (!n || n > INT32_MAX) return be_fail(err, m, "categories_ has %zu features", n);
    if ((st = be_check_width(m, (int64_t)n, "categories_", err))) return st;
    e->nf = n;
    e->cats = be_alloc(m, n, sizeof *e->cats);
    if (!e->cats) return nomem(err);
    for (size_t i = 0; i < n; i++) {
        char field[40];
        snprintf(field, sizeof field, "categories_[%zu]", i);
        if ((st = read_cats(m, items[i], field, &e->cats[i], err))) return st;
        if (e->kind != ENC_LABEL && !e->cats[i].n) return be_fail(err, m, "%s is empty", field);
        m->takes_text |= e->cats[i].text;
    }
    return BRINE_OK;
}

/* The infrequent-category fields of sklearn >= 1.1. */
static brine_status read_infrequent(brine_model *m, const bv *state, enc_model *e, brine_error *err) {
    int64_t on = 0;
    const bv *v = bv_dict_get(state, "_infrequent_enabled");
    if (v && !be_get_int(v, &on)) return be_fail(err, m, "_infrequent_enabled is not a bool");
    e->n_grouped = be_alloc(m, e->nf, sizeof *e->n_grouped);
    e->infreq_first = be_alloc(m, e->nf, sizeof *e->infreq_first);
    e->map = be_alloc(m, e->nf, sizeof *e->map);
    if (!e->n_grouped || !e->infreq_first || !e->map) return nomem(err);
    for (size_t i = 0; i < e->nf; i++) e->n_grouped[i] = e->cats[i].n, e->infreq_first[i] = -1;
    if (!on) return BRINE_OK;
    if (e->kind != ENC_ONEHOT)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "infrequent categories (min_frequency, max_categories) "
                                                          "are supported for OneHotEncoder only");
    const bv *const *idx, *const *maps;
    size_t ni, nm;
    brine_status st = seq_items(m, bv_dict_get(state, "_infrequent_indices"), "_infrequent_indices", &idx, &ni, err);
    if (!st) st = seq_items(m, bv_dict_get(state, "_default_to_infrequent_mappings"), "_default_to_infrequent_mappings",
                            &maps, &nm, err);
    if (st) return st;
    if (ni != e->nf || nm != e->nf) return be_fail(err, m, "_infrequent_indices does not have %zu entries", e->nf);
    for (size_t i = 0; i < e->nf; i++) {
        size_t nc = e->cats[i].n;
        if (!is_none(idx[i])) {
            const bv_array *a = be_array(idx[i]);
            if (!a || a->ndim != 1 || !a->count || !be_array_int(a, 0, &e->infreq_first[i]) || e->infreq_first[i] < 0 ||
                (uint64_t)e->infreq_first[i] >= nc)
                return be_fail(err, m, "_infrequent_indices[%zu] is not a non-empty array of category indices", i);
        }
        if (is_none(maps[i])) continue;
        const bv_array *a = be_array(maps[i]);
        if (!a || a->ndim != 1 || (size_t)a->count != nc)
            return be_fail(err, m, "_default_to_infrequent_mappings[%zu] does not have %zu entries", i, nc);
        e->map[i] = be_alloc(m, nc, sizeof **e->map);
        if (!e->map[i]) return nomem(err);
        int64_t hi = -1;
        for (size_t k = 0; k < nc; k++) {
            if (!be_array_int(a, k, &e->map[i][k]) || e->map[i][k] < 0 || (uint64_t)e->map[i][k] >= nc)
                return be_fail(err, m, "_default_to_infrequent_mappings[%zu][%zu] is not a category index", i, k);
            if (e->map[i][k] > hi) hi = e->map[i][k];
        }
        e->n_grouped[i] = (size_t)hi + 1;
    }
    return BRINE_OK;
}

/* The grouped categories of feature i: the frequent ones, then
 * 'infrequent_sklearn' (sklearn's _compute_transformed_categories). */
static brine_status grouped_cats(brine_model *m, enc_model *e, size_t i, brine_error *err) {
    const enc_cats *c = &e->cats[i];
    brine_label *t = be_alloc(m, e->n_grouped[i] + 1, sizeof *t);
    if (!t) return nomem(err);
    e->tcats[i] = t;
    if (!e->map[i]) {
        memcpy(t, c->l, c->n * sizeof *t);
        return BRINE_OK;
    }
    int64_t hi = (int64_t)e->n_grouped[i] - 1;
    size_t n = 0;
    for (size_t k = 0; k < c->n; k++)
        if (e->map[i][k] < hi && n < e->n_grouped[i]) t[n++] = c->l[k];
    if (n + 1 != e->n_grouped[i]) return be_fail(err, m, "_default_to_infrequent_mappings[%zu] is not a grouping", i);
    t[n].kind = BRINE_LABEL_STR;
    t[n].s = "infrequent_sklearn";
    t[n].len = strlen(t[n].s);
    return BRINE_OK;
}

static brine_status load_onehot(brine_model *m, const bv *state, enc_model *e, brine_error *err) {
    int64_t legacy = 0;
    if (be_get_int(bv_dict_get(state, "_legacy_mode"), &legacy) && legacy) /* sklearn 0.20-0.21 on integers */
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "is in sklearn 0.20's legacy mode (n_values, "
                                                          "active_features_), which brine does not read");
    brine_status st = read_infrequent(m, state, e, err);
    if (st) return st;
    const bv *after = bv_dict_get(state, "_drop_idx_after_grouping"); /* sklearn >= 1.3 */
    size_t *ncat = be_alloc(m, e->nf, sizeof *ncat);
    if (!ncat) return nomem(err);
    for (size_t i = 0; i < e->nf; i++) ncat[i] = e->cats[i].n;
    st = read_drop(m, bv_dict_get(state, "drop_idx_"), "drop_idx_", e->nf, after ? ncat : e->n_grouped, &e->drop_orig,
                   err);
    if (!st && after) st = read_drop(m, after, "_drop_idx_after_grouping", e->nf, e->n_grouped, &e->drop, err);
    else if (!st) e->drop = e->drop_orig;
    if (st) return st;
    if (!e->drop != !e->drop_orig) return be_fail(err, m, "drop_idx_ and _drop_idx_after_grouping disagree");
    e->nout = be_alloc(m, e->nf, sizeof *e->nout);
    e->off = be_alloc(m, e->nf + 1, sizeof *e->off);
    e->tcats = be_alloc(m, e->nf, sizeof *e->tcats);
    if (!e->nout || !e->off || !e->tcats) return nomem(err);
    for (size_t i = 0; i < e->nf; i++) {
        e->nout[i] = e->n_grouped[i] - (e->drop && e->drop[i] >= 0);
        e->off[i] = e->width;
        e->width += e->nout[i];
        if ((st = grouped_cats(m, e, i, err))) return st;
    }
    e->off[e->nf] = e->width;
    /* _n_features_outs, when stored, must agree */
    const bv *const *items;
    size_t n;
    const bv *nfo = bv_dict_get(state, "_n_features_outs");
    if (!is_none(nfo)) {
        if ((st = seq_items(m, nfo, "_n_features_outs", &items, &n, err))) return st;
        for (size_t i = 0; i < n && n == e->nf; i++) {
            int64_t k;
            if (!be_get_int(items[i], &k) || k < 0 || (uint64_t)k != e->nout[i])
                return be_fail(err, m, "_n_features_outs[%zu] is not %zu", i, e->nout[i]);
        }
        if (n != e->nf) return be_fail(err, m, "_n_features_outs does not have %zu entries", e->nf);
    }
    m->inverse_width = e->width;
    /* sparse_output (sklearn >= 1.2, when sparse is 'deprecated') or sparse */
    const bv *so = bv_dict_get(state, "sparse_output");
    if (!so || so->kind != BRINE_BOOL) so = bv_dict_get(state, "sparse");
    e->sparse = !so || so->kind != BRINE_BOOL || so->u.i != 0;
    return BRINE_OK;
}

static brine_status load_ordinal(brine_model *m, const bv *state, enc_model *e, brine_error *err) {
    brine_status st = read_infrequent(m, state, e, err);
    if (st) return st;
    e->unknown_value = NAN;
    e->missing_value = NAN;
    if (e->handle == H_ENCODED && !be_get_double(bv_dict_get(state, "unknown_value"), &e->unknown_value))
        return be_fail(err, m, "unknown_value is not a number");
    const bv *emv = bv_dict_get(state, "encoded_missing_value");
    if (emv && !be_get_double(emv, &e->missing_value)) return be_fail(err, m, "encoded_missing_value is not a number");
    e->missing_idx = be_alloc(m, e->nf, sizeof *e->missing_idx);
    if (!e->missing_idx) return nomem(err);
    for (size_t i = 0; i < e->nf; i++) e->missing_idx[i] = -1;
    const bv *mi = bv_dict_get(state, "_missing_indices");
    if (mi && mi->kind == BRINE_DICT) {
        for (size_t k = 0; k < mi->u.seq.n; k++) {
            int64_t f, c;
            if (!be_get_int(mi->u.seq.items[2 * k], &f) || !be_get_int(mi->u.seq.items[2 * k + 1], &c) || f < 0 ||
                (uint64_t)f >= e->nf || c < 0 || (uint64_t)c >= e->cats[f].n)
                return be_fail(err, m, "_missing_indices[%zu] is not a (feature, category) pair", k);
            e->missing_idx[f] = c;
        }
    } else if (mi) {
        return be_fail(err, m, "_missing_indices is not a dict");
    }
    m->inverse_width = e->nf;
    return BRINE_OK;
}

static brine_status load_label(brine_model *m, const bv *state, enc_model *e, brine_error *err) {
    const bv *v = bv_dict_get(state, "classes_");
    if (is_none(v)) return be_fail(err, m, "classes_ is missing");
    e->nf = 1;
    e->cats = be_alloc(m, 1, sizeof *e->cats);
    if (!e->cats) return nomem(err);
    brine_status st = read_cats(m, v, "classes_", e->cats, err);
    if (st) return st;
    m->takes_text = e->cats[0].text;
    m->n_features_in = 1;
    m->inverse_width = 1;
    m->int_out = 1;
    return BRINE_OK;
}

static int enc_kind(const char *name) {
    if (!strcmp(name, "OneHotEncoder")) return ENC_ONEHOT;
    if (!strcmp(name, "OrdinalEncoder")) return ENC_ORDINAL;
    return ENC_LABEL;
}

static brine_status enc_load(brine_model *m, const bv *state, brine_error *err) {
    enc_model *e = be_alloc(m, 1, sizeof *e);
    if (!e) return nomem(err);
    e->kind = enc_kind(m->short_name);
    m->n_outputs = 1;
    m->n_estimators = 1;
    m->allow_nan = 1;
    m->impl = e;
    brine_status st = BRINE_OK;
    if (e->kind == ENC_LABEL) {
        st = load_label(m, state, e, err);
    } else {
        st = be_read_n_features(m, state, &m->n_features_in, err);
        if (!st) st = read_handle(m, state, e, err);
        if (!st) st = read_categories(m, state, e, err);
        if (!st) st = e->kind == ENC_ONEHOT ? load_onehot(m, state, e, err) : load_ordinal(m, state, e, err);
        if (!st) st = be_read_feature_names(m, state, err);
    }
    if (!st) st = be_keep_params(m, state, err);
    return st;
}

static size_t enc_columns(const brine_model *m, brine_method method) {
    const enc_model *e = m->impl;
    if (method == BRINE_METHOD_TRANSFORM) return e->kind == ENC_ONEHOT ? e->width : e->nf;
    if (method == BRINE_METHOD_INVERSE_TRANSFORM) return e->nf;
    return BE_NO_METHOD;
}

static brine_status unknown(const brine_model *m, const be_input *in, size_t i, size_t col, brine_error *err) {
    char shown[64];
    cell_text(shown, sizeof shown, in, i);
    if (((const enc_model *)m->impl)->kind == ENC_LABEL)
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "y contains previously unseen labels: [%s] (row %zu)", shown,
                              i / in->n_cols);
    return be_fail_status(err, BRINE_E_ARGUMENT, m, "found unknown category %s in column %zu (row %zu) during transform",
                          shown, col, i / in->n_cols);
}

/* Feature f of row r: its output column (*col, within the feature's
 * block) or none (*col NO_CAT: unknown and ignored, or dropped). */
static brine_status onehot_col(const brine_model *m, const enc_model *e, const be_input *in, size_t r, size_t f,
                               size_t *col, brine_error *err) {
    size_t i = r * in->n_cols + f;
    size_t k = cat_find(&e->cats[f], in_text(in, i), in->xd[i]);
    int valid = k != NO_CAT;
    *col = NO_CAT;
    if (!valid && e->handle == H_ERROR) return unknown(m, in, i, f, err);
    if (!valid) k = 0;
    if (e->infreq_first[f] >= 0 && !valid) {
        k = (size_t)e->infreq_first[f];
        if (e->handle == H_INFREQUENT) valid = 1;
    }
    if (e->map[f]) k = (size_t)e->map[f][k];
    if (e->drop && e->drop[f] >= 0) {
        if ((int64_t)k == e->drop[f]) valid = 0;
        else if ((int64_t)k > e->drop[f]) k--;
    }
    if (valid && k < e->nout[f]) *col = k;
    return BRINE_OK;
}

static brine_status onehot_row(const brine_model *m, const enc_model *e, const be_input *in, size_t r, double *y,
                               brine_error *err) {
    for (size_t j = 0; j < e->width; j++) y[j] = 0.0;
    for (size_t f = 0; f < e->nf; f++) {
        size_t k;
        brine_status st = onehot_col(m, e, in, r, f, &k, err);
        if (st) return st;
        if (k != NO_CAT) y[e->off[f] + k] = 1.0;
    }
    return BRINE_OK;
}

static brine_status transform(const brine_model *m, const be_input *in, brine_prediction *out, brine_error *err) {
    const enc_model *e = m->impl;
    for (size_t r = 0; r < in->n_rows; r++) {
        if (e->kind == ENC_ONEHOT) {
            brine_status st = onehot_row(m, e, in, r, out->values + r * e->width, err);
            if (st) return st;
            continue;
        }
        for (size_t f = 0; f < e->nf; f++) {
            size_t i = r * in->n_cols + f;
            size_t k = cat_find(&e->cats[f], in_text(in, i), in->xd[i]);
            if (e->kind == ENC_LABEL) {
                if (k == NO_CAT) return unknown(m, in, i, f, err);
                out->indices[i] = (int64_t)k;
                continue;
            }
            if (k == NO_CAT && e->handle == H_ERROR) return unknown(m, in, i, f, err);
            double v = k == NO_CAT ? 0.0 : (double)k;
            if (e->missing_idx[f] >= 0 && k != NO_CAT && (int64_t)k == e->missing_idx[f]) v = e->missing_value;
            if (k == NO_CAT) v = e->unknown_value;
            out->values[i] = v;
        }
    }
    return BRINE_OK;
}

static const brine_label none_label = {BRINE_LABEL_NONE, 0, 0.0, NULL, 0};

/* OneHotEncoder.inverse_transform of one feature of one row. */
static brine_status onehot_inverse(const brine_model *m, const enc_model *e, size_t f, const double *x, size_t r,
                                   brine_label *out, brine_error *err) {
    size_t n = e->nout[f];
    int64_t drop = e->drop ? e->drop[f] : -1;
    if (n == 0) {
        *out = e->cats[f].l[e->drop_orig && e->drop_orig[f] >= 0 ? e->drop_orig[f] : 0];
        return BRINE_OK;
    }
    const double *sub = x + e->off[f];
    size_t best = 0;
    double sum = 0.0;
    for (size_t k = 0; k < n; k++) {
        if (sub[k] > sub[best]) best = k;
        sum += sub[k];
    }
    size_t g = drop >= 0 && (int64_t)best >= drop ? best + 1 : best; /* cats without the dropped one */
    *out = e->tcats[f][g];
    if (sum != 0.0) return BRINE_OK;
    if (e->handle == H_IGNORE || (e->handle == H_INFREQUENT && e->infreq_first[f] < 0)) {
        if (drop < 0) *out = none_label;
        else *out = e->cats[f].l[e->drop_orig[f]];
        return BRINE_OK;
    }
    if (drop < 0)
        return be_fail_status(err, BRINE_E_ARGUMENT, m,
                              "sample %zu can not be inverted when drop=None and handle_unknown='error' because it "
                              "contains all zeros",
                              r);
    *out = e->tcats[f][drop];
    return BRINE_OK;
}

static brine_status inverse(const brine_model *m, const be_input *in, brine_prediction *out, brine_error *err) {
    const enc_model *e = m->impl;
    for (size_t i = 0; i < in->n_rows * in->n_cols; i++)
        if (isinf(in->xd[i]) || (isnan(in->xd[i]) && e->kind != ENC_ORDINAL))
            return be_fail_status(err, BRINE_E_ARGUMENT, m, "X[%zu, %zu] is %s; sklearn refuses it", i / in->n_cols,
                                  i % in->n_cols, isnan(in->xd[i]) ? "NaN" : "infinite");
    for (size_t r = 0; r < in->n_rows; r++) {
        const double *x = in->xd + r * in->n_cols;
        for (size_t f = 0; f < e->nf; f++) {
            brine_label *o = &out->labels[r * e->nf + f];
            if (e->kind == ENC_ONEHOT) {
                brine_status st = onehot_inverse(m, e, f, x, r, o, err);
                if (st) return st;
                continue;
            }
            double v = x[f];
            const enc_cats *c = &e->cats[f];
            if (e->kind == ENC_ORDINAL && e->missing_idx[f] >= 0 &&
                (v == e->missing_value || (isnan(v) && isnan(e->missing_value))))
                v = (double)e->missing_idx[f];
            if (e->kind == ENC_ORDINAL && e->handle == H_ENCODED &&
                (v == e->unknown_value || (isnan(v) && isnan(e->unknown_value)))) {
                *o = none_label;
                continue;
            }
            int ok = !isnan(v) && v > -9e18 && v < 9e18;
            int64_t k = ok ? (int64_t)v : 0;
            if (e->kind == ENC_LABEL) ok = ok && (double)k == v && k >= 0;
            else if (ok && k < 0) k += (int64_t)c->n; /* numpy's negative indexing */
            if (!ok || k < 0 || (uint64_t)k >= c->n)
                return be_fail_status(err, BRINE_E_ARGUMENT, m, "X[%zu, %zu] is %.17g, not one of the %zu codes", r, f,
                                      x[f], c->n);
            *o = c->l[k];
        }
    }
    return BRINE_OK;
}

static brine_status enc_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                brine_error *err) {
    return method == BRINE_METHOD_INVERSE_TRANSFORM ? inverse(m, in, out, err) : transform(m, in, out, err);
}

const be_family be_encoder_family = {"encoder", enc_load, enc_predict, NULL, enc_columns,
                                     BE_FAM_FLOAT64 | BE_FAM_INVERSE_LABELS};

/* ------------------------------------------------- column compositions */


typedef struct cpart {
    const char *name;
    brine_model *model; /* NULL: passthrough */
    size_t *cols;       /* input columns (ColumnTransformer); NULL: all */
    size_t n_cols;
    size_t width;       /* output columns */
    double weight;      /* transformer_weights; 1 when none */
    int weighted;
} cpart;

typedef struct compose_model {
    cpart *parts;
    size_t n;
    size_t width;
    size_t n_in;
    int sparse; /* ColumnTransformer: sparse_output_ (its hstack is a CSR matrix) */
} compose_model;

static int is_str(const bv *v) { return v && v->kind == BRINE_STR; }

/* The index of the input feature named (p, n), or -1. */
static int64_t name_index(const brine_model *m, const bv *s) {
    for (size_t j = 0; j < m->n_feature_names; j++)
        if (strlen(m->feature_names[j]) == s->u.s.n && !memcmp(m->feature_names[j], s->u.s.p, s->u.s.n))
            return (int64_t)j;
    return -1;
}

/* One column given as an int (negative from the end) or a name. */
static brine_status one_column(brine_model *m, const bv *v, const char *what, size_t *out, brine_error *err) {
    int64_t k, n = m->n_features_in;
    if (is_str(v)) {
        k = name_index(m, v);
        if (k < 0)
            return be_fail(err, m, "%s names the column '%.*s', which is not in feature_names_in_", what, (int)v->u.s.n,
                           (const char *)v->u.s.p);
    } else if (v && v->kind != BRINE_BOOL && be_get_int(v, &k)) {
        if (k < 0) k += n;
        if (k < 0 || k >= n) return be_fail(err, m, "%s selects column %lld of %lld", what, (long long)k, (long long)n);
    } else {
        return be_fail(err, m, "%s is not a column index or name", what);
    }
    *out = (size_t)k;
    return BRINE_OK;
}

/* A slice of ints (Python's rules) or of names (pandas' .loc: the stop
 * included). */
static brine_status slice_columns(brine_model *m, const bv *v, const char *what, size_t *cols, size_t *n,
                                  brine_error *err) {
    int64_t nf = m->n_features_in, start, stop, step = 1;
    const bv *a = v->u.slice.start, *b = v->u.slice.stop, *c = v->u.slice.step;
    if (!is_none(c) && (!be_get_int(c, &step) || step == 0)) return be_fail(err, m, "%s has a bad slice step", what);
    if (is_str(a) || is_str(b)) {
        start = is_none(a) ? 0 : name_index(m, a);
        stop = is_none(b) ? nf - 1 : name_index(m, b);
        if (start < 0 || stop < 0 || step != 1) return be_fail(err, m, "%s is a slice of unknown names", what);
        for (int64_t k = start; k <= stop; k++) cols[(*n)++] = (size_t)k;
        return BRINE_OK;
    }
    if (!is_none(a) && !be_get_int(a, &start)) return be_fail(err, m, "%s has a bad slice start", what);
    if (!is_none(b) && !be_get_int(b, &stop)) return be_fail(err, m, "%s has a bad slice stop", what);
    int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? nf : nf - 1;
    if (is_none(a)) start = step > 0 ? lo : hi;
    else start = start < 0 ? (start + nf < lo ? lo : start + nf) : (start > hi ? hi : start);
    if (is_none(b)) stop = step > 0 ? hi : lo;
    else stop = stop < 0 ? (stop + nf < lo ? lo : stop + nf) : (stop > hi ? hi : stop);
    for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) cols[(*n)++] = (size_t)k;
    return BRINE_OK;
}

/* Resolves a ColumnTransformer column selection to input indices. */
static brine_status select_columns(brine_model *m, const bv *v, const char *what, cpart *p, brine_error *err) {
    size_t nf = (size_t)m->n_features_in, cap = nf + 1;
    p->cols = be_alloc(m, cap, sizeof *p->cols);
    if (!p->cols) return nomem(err);
    p->n_cols = 0;
    if (v && v->kind == BRINE_OBJECT) v = bv_dict_get(v->u.obj.state, "data"); /* _RemainderColsList (>= 1.5) */
    if (v && v->kind == BRINE_SLICE) return slice_columns(m, v, what, p->cols, &p->n_cols, err);
    const bv_array *a = be_array(v);
    if (a && a->ndim == 1 && a->dtype->u.dt->kind == 'b') { /* a bool mask */
        if ((size_t)a->count != nf) return be_fail(err, m, "%s is a mask of %lld, not %zu, columns", what, (long long)a->count, nf);
        for (size_t k = 0; k < nf; k++) {
            int64_t b;
            if (!be_array_int(a, k, &b)) return be_fail(err, m, "%s is not a bool mask", what);
            if (b) p->cols[p->n_cols++] = k;
        }
        return BRINE_OK;
    }
    if (a && a->ndim == 1 && a->dtype->u.dt->kind != 'O') {
        if ((size_t)a->count >= cap) return be_fail(err, m, "%s selects too many columns", what);
        for (size_t k = 0; k < (size_t)a->count; k++) {
            int64_t c;
            if (!be_array_int(a, k, &c) || c < -(int64_t)nf || c >= (int64_t)nf)
                return be_fail(err, m, "%s[%zu] is not a column index", what, k);
            p->cols[p->n_cols++] = (size_t)(c < 0 ? c + (int64_t)nf : c);
        }
        return BRINE_OK;
    }
    const bv *const *items;
    size_t n;
    if (is_str(v) || (v && (v->kind == BRINE_INT || v->kind == BRINE_SCALAR)))
        return one_column(m, v, what, &p->cols[p->n_cols++], err);
    brine_status st = seq_items(m, v, what, &items, &n, err);
    if (st) return st;
    int bools = n == nf && n > 0;
    for (size_t k = 0; k < n && bools; k++) bools = items[k]->kind == BRINE_BOOL;
    for (size_t k = 0; k < n && !st; k++) {
        if (bools && !items[k]->u.i) continue;
        if (bools) p->cols[p->n_cols++] = k;
        else if (p->n_cols >= cap) return be_fail(err, m, "%s selects too many columns", what);
        else st = one_column(m, items[k], what, &p->cols[p->n_cols++], err);
    }
    return st;
}

static int is_passthrough(const bv *v) { return bv_is_str(v, "passthrough"); }

/* A transformer of the composition as a model of its own. */
static brine_status load_part(brine_model *m, const bv *est, cpart *p, size_t in_width, brine_error *err) {
    if (is_passthrough(est)) {
        p->width = in_width;
        return BRINE_OK;
    }
    char field[96];
    snprintf(field, sizeof field, "transformer '%s'", p->name);
    brine_status st = be_load_part(m, est, field, &p->model, err);
    if (st) return st;
    size_t w = be_output_columns(p->model, BRINE_METHOD_TRANSFORM);
    if (w == BE_NO_METHOD)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "transformer '%s' (a %s) has no transform", p->name,
                              p->model->short_name);
    if (p->model->text_out)
        return be_fail_status(err, BRINE_E_UNSUPPORTED, m, "transformer '%s' (a %s) gives text, which brine does not "
                                                          "concatenate with numbers", p->name, p->model->short_name);
    if (in_width && p->model->n_features_in > 0 && (size_t)p->model->n_features_in != in_width)
        return be_fail(err, m, "transformer '%s' takes %lld features but is given %zu columns", p->name,
                       (long long)p->model->n_features_in, in_width);
    p->width = w;
    m->takes_text |= brine_model_takes_text(p->model);
    return BRINE_OK;
}

static brine_status read_weight(brine_model *m, const bv *weights, cpart *p, brine_error *err) {
    p->weight = 1.0;
    if (is_none(weights)) return BRINE_OK;
    if (weights->kind != BRINE_DICT) return be_fail(err, m, "transformer_weights is not a dict");
    const bv *w = bv_dict_get(weights, p->name);
    if (is_none(w)) return BRINE_OK;
    if (!be_get_double(w, &p->weight)) return be_fail(err, m, "transformer_weights['%s'] is not a number", p->name);
    p->weighted = 1;
    return BRINE_OK;
}

static brine_status part_name(brine_model *m, const bv *item, size_t i, const char *field, size_t n_min, cpart *p,
                              brine_error *err) {
    if (!item || (item->kind != BRINE_TUPLE && item->kind != BRINE_LIST) || item->u.seq.n < n_min ||
        !is_str(item->u.seq.items[0]))
        return be_fail(err, m, "%s[%zu] is not a (name, transformer%s) tuple", field, i, n_min > 2 ? ", columns" : "");
    const bv *s = item->u.seq.items[0];
    char *name = be_alloc(m, s->u.s.n + 1, 1);
    if (!name) return nomem(err);
    memcpy(name, s->u.s.p, s->u.s.n);
    p->name = name;
    return BRINE_OK;
}

/* sklearn 0.23-0.24 kept a DataFrame's columns as _feature_names_in (an
 * object array of str) before feature_names_in_ existed. */
static brine_status old_feature_names(brine_model *m, const bv *state, brine_error *err) {
    const bv_array *a = be_array(bv_dict_get(state, "_feature_names_in"));
    if (!a) return BRINE_OK;
    if (a->ndim != 1 || a->dtype->u.dt->kind != 'O' || !a->objects || a->objects->u.seq.n != (size_t)a->count ||
        (m->n_features_in > 0 && a->count != m->n_features_in))
        return be_fail(err, m, "_feature_names_in is not a 1-D object array of %lld names", (long long)m->n_features_in);
    size_t n = (size_t)a->count;
    m->feature_names = be_alloc(m, n + 1, sizeof *m->feature_names);
    if (!m->feature_names) return nomem(err);
    for (size_t i = 0; i < n; i++) {
        const bv *s = a->objects->u.seq.items[i];
        if (s->kind != BRINE_STR) return be_fail(err, m, "_feature_names_in[%zu] is not a str", i);
        if (!(m->feature_names[i] = be_alloc(m, s->u.s.n + 1, 1))) return nomem(err);
        memcpy(m->feature_names[i], s->u.s.p, s->u.s.n);
    }
    m->n_feature_names = n;
    return BRINE_OK;
}

static brine_status load_column_transformer(brine_model *m, const bv *state, compose_model *c, brine_error *err) {
    brine_status st = be_read_n_features(m, state, &m->n_features_in, err);
    int64_t nf2;
    if (!st && m->n_features_in < 0 && be_get_int(bv_dict_get(state, "_n_features"), &nf2) && nf2 > 0 &&
        nf2 <= INT32_MAX)
        m->n_features_in = nf2;
    if (!st) st = be_read_feature_names(m, state, err);
    if (!st && !m->n_feature_names) st = old_feature_names(m, state, err);
    if (st) return st;
    if (m->n_features_in < 1) return be_fail(err, m, "n_features_in_ is missing");
    const bv *list = bv_dict_get(state, "transformers_");
    if (!list || (list->kind != BRINE_LIST && list->kind != BRINE_TUPLE))
        return be_fail(err, m, "transformers_ is not a list");
    int64_t so = 0;
    c->sparse = be_get_int(bv_dict_get(state, "sparse_output_"), &so) && so;
    const bv *weights = bv_dict_get(state, "transformer_weights");
    size_t n = list->u.seq.n;
    c->parts = be_alloc(m, n + 1, sizeof *c->parts);
    m->subs = be_alloc(m, n + 1, sizeof *m->subs);
    if (!c->parts || !m->subs) return nomem(err);
    for (size_t i = 0; i < n; i++) {
        const bv *item = list->u.seq.items[i];
        cpart *p = &c->parts[c->n];
        if ((st = part_name(m, item, i, "transformers_", 3, p, err))) return st;
        const bv *est = item->u.seq.items[1];
        char what[64];
        snprintf(what, sizeof what, "transformers_[%zu] columns", i);
        if ((st = select_columns(m, item->u.seq.items[2], what, p, err))) return st;
        if (bv_is_str(est, "drop") || !p->n_cols) continue; /* sklearn skips both */
        if ((st = load_part(m, est, p, p->n_cols, err))) return st;
        if ((st = read_weight(m, weights, p, err))) return st;
        c->width += p->width;
        c->n++;
    }
    return BRINE_OK;
}

static brine_status load_feature_union(brine_model *m, const bv *state, compose_model *c, brine_error *err) {
    const bv *list = bv_dict_get(state, "transformer_list");
    if (!list || (list->kind != BRINE_LIST && list->kind != BRINE_TUPLE) || !list->u.seq.n)
        return be_fail(err, m, "transformer_list is not a non-empty list");
    const bv *weights = bv_dict_get(state, "transformer_weights");
    size_t n = list->u.seq.n;
    c->parts = be_alloc(m, n + 1, sizeof *c->parts);
    m->subs = be_alloc(m, n + 1, sizeof *m->subs);
    if (!c->parts || !m->subs) return nomem(err);
    m->n_features_in = -1;
    brine_status st;
    /* the width: the first transformer's, as sklearn's n_features_in_ property */
    for (size_t i = 0; i < n && m->n_features_in < 0; i++) {
        const bv *item = list->u.seq.items[i];
        if (!item || (item->kind != BRINE_TUPLE && item->kind != BRINE_LIST) || item->u.seq.n < 2) continue;
        const bv *est = item->u.seq.items[1];
        if (est->kind == BRINE_OBJECT) {
            const bv *st2 = est->u.obj.state;
            int64_t w;
            if (st2 && st2->kind == BRINE_DICT && be_get_int(bv_dict_get(st2, "n_features_in_"), &w) && w > 0 &&
                w <= INT32_MAX)
                m->n_features_in = w;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const bv *item = list->u.seq.items[i];
        cpart *p = &c->parts[c->n];
        if ((st = part_name(m, item, i, "transformer_list", 2, p, err))) return st;
        const bv *est = item->u.seq.items[1];
        if (bv_is_str(est, "drop") || is_none(est)) continue;
        if (is_passthrough(est) && m->n_features_in < 0)
            return be_fail(err, m, "transformer '%s' is 'passthrough' but no transformer gives the input width", p->name);
        if ((st = load_part(m, est, p, m->n_features_in > 0 ? (size_t)m->n_features_in : 0, err))) return st;
        if (m->n_features_in < 0 && p->model) m->n_features_in = p->model->n_features_in;
        if (!m->n_feature_names && p->model && p->model->n_feature_names) {
            m->feature_names = p->model->feature_names;
            m->n_feature_names = p->model->n_feature_names;
        }
        if ((st = read_weight(m, weights, p, err))) return st;
        c->width += p->width;
        c->n++;
    }
    if (m->n_features_in < 1) return be_fail(err, m, "has no transformer that gives the input width");
    return BRINE_OK;
}

static brine_status compose_load(brine_model *m, const bv *state, brine_error *err) {
    compose_model *c = be_alloc(m, 1, sizeof *c);
    if (!c) return nomem(err);
    m->impl = c;
    m->n_outputs = 1;
    m->n_estimators = 1;
    m->allow_nan = 1; /* each transformer checks its own columns */
    brine_status st = !strcmp(m->short_name, "FeatureUnion") ? load_feature_union(m, state, c, err)
                                                             : load_column_transformer(m, state, c, err);
    if (st) return st;
    c->n_in = (size_t)m->n_features_in;
    if (!strcmp(m->short_name, "FeatureUnion"))
        for (size_t i = 0; i < c->n; i++)
            if (c->parts[i].model && (size_t)c->parts[i].model->n_features_in != c->n_in)
                return be_fail(err, m, "transformer '%s' takes %lld features, not %zu", c->parts[i].name,
                               (long long)c->parts[i].model->n_features_in, c->n_in);
    c->width = 0;
    for (size_t i = 0; i < c->n; i++) c->width += c->parts[i].width;
    return be_keep_params(m, state, err);
}

static size_t compose_columns(const brine_model *m, brine_method method) {
    const compose_model *c = m->impl;
    return method == BRINE_METHOD_TRANSFORM ? c->width : BE_NO_METHOD;
}

/* The columns of one part as an input of their own (or all of them). */
static brine_status part_input(const be_input *in, const cpart *p, be_input *sub, double **xd, const char ***text,
                               const char ***names, brine_error *err) {
    *sub = *in;
    if (!p->cols) return BRINE_OK;
    size_t k = p->n_cols, cells = in->n_rows * k;
    *xd = malloc((cells + 1) * sizeof **xd);
    if (in->text) *text = malloc((cells + 1) * sizeof **text);
    if (in->col_names) *names = malloc((k + 1) * sizeof **names);
    if (!*xd || (in->text && !*text) || (in->col_names && !*names)) return nomem(err);
    for (size_t r = 0; r < in->n_rows; r++)
        for (size_t j = 0; j < k; j++) {
            (*xd)[r * k + j] = in->xd[r * in->n_cols + p->cols[j]];
            if (*text) (*text)[r * k + j] = in->text[r * in->n_cols + p->cols[j]];
        }
    for (size_t j = 0; *names && j < k; j++) (*names)[j] = in->col_names[p->cols[j]];
    sub->xd = *xd;
    sub->text = *text;
    sub->col_names = *names;
    sub->n_cols = k;
    return BRINE_OK;
}

/* Passthrough columns: numbers (a text cell is refused, as the numeric
 * hstack sklearn would make of them cannot hold it). */
static brine_status passthrough(const brine_model *m, const cpart *p, const be_input *sub, double *y, size_t stride,
                                brine_error *err) {
    for (size_t r = 0; r < sub->n_rows; r++)
        for (size_t j = 0; j < sub->n_cols; j++) {
            size_t i = r * sub->n_cols + j;
            double v;
            if (sub->text && !be_cell_number(sub->text[i], &v))
                return be_fail_status(err, BRINE_E_ARGUMENT, m,
                                      "row %zu, column %zu of passthrough '%s' is text; brine passes numbers only", r, j,
                                      p->name);
            y[r * stride + j] = sub->xd[i] * p->weight;
        }
    return BRINE_OK;
}

static brine_status compose_predict(const brine_model *m, brine_method method, const be_input *in,
                                    brine_prediction *out, brine_error *err) {
    (void)method;
    const compose_model *c = m->impl;
    size_t at = 0;
    brine_status st = BRINE_OK;
    for (size_t i = 0; i < c->n && !st; i++) {
        const cpart *p = &c->parts[i];
        double *xd = NULL;
        const char **text = NULL, **names = NULL;
        be_input sub;
        brine_prediction *res = NULL;
        st = part_input(in, p, &sub, &xd, &text, &names, err);
        if (!st && !p->model) {
            st = passthrough(m, p, &sub, out->values + at, c->width, err);
        } else if (!st) {
            st = be_predict_input(&res, p->model, BRINE_METHOD_TRANSFORM, &sub, err);
            if (!st && (!res->values || res->n_columns != p->width))
                st = be_fail_status(err, BRINE_E_UNSUPPORTED, m, "transformer '%s' gives no numbers", p->name);
            for (size_t r = 0; !st && r < in->n_rows; r++)
                for (size_t j = 0; j < p->width; j++) {
                    double v = res->values[r * p->width + j];
                    out->values[r * c->width + at + j] = p->weighted ? v * p->weight : v;
                }
        }
        brine_prediction_free(res);
        free(xd);
        free(text);
        free(names);
        at += p->width;
    }
    return st;
}

const be_family be_compose_family = {"compose", compose_load, compose_predict, NULL, compose_columns, BE_FAM_FLOAT64};

/* ------------------------------------------------------ SimpleImputer */

enum { MV_NAN, MV_NUMBER, MV_NONE, MV_STR };

typedef struct imp_model {
    size_t nf;
    enc_cats stats;     /* statistics_, one per feature */
    int numeric;        /* statistics_ is a numeric array */
    double *num;        /* its values (numeric) */
    int mv;             /* MV_* */
    double mv_num;
    const char *mv_str;
    size_t *keep;       /* features kept (valid statistics), in order */
    size_t n_keep;
    size_t *ind;        /* indicator_.features_ */
    size_t n_ind;
    int error_on_new;
    size_t width;
} imp_model;

static brine_status read_missing_values(brine_model *m, const bv *v, imp_model *p, brine_error *err) {
    if (!v) {
        p->mv = MV_NAN;
        return BRINE_OK;
    }
    if (v->kind == BRINE_NONE) p->mv = MV_NONE;
    else if (v->kind == BRINE_STR) {
        char *s = be_alloc(m, v->u.s.n + 1, 1);
        if (!s) return nomem(err);
        memcpy(s, v->u.s.p, v->u.s.n);
        p->mv_str = s;
        p->mv = MV_STR;
        m->takes_text = 1;
    } else if (be_get_double(v, &p->mv_num)) {
        p->mv = isnan(p->mv_num) ? MV_NAN : MV_NUMBER;
    } else {
        return be_fail(err, m, "missing_values is a %s, not a number, str or None", brine_kind_name((brine_kind)v->kind));
    }
    return BRINE_OK;
}

static int imp_missing(const imp_model *p, const char *t, int has_text, double v) {
    switch (p->mv) {
    case MV_NAN: return has_text ? !t : isnan(v);
    case MV_NONE: return has_text && !t;
    case MV_STR: return t && !strcmp(t, p->mv_str);
    default: return !isnan(v) && v == p->mv_num;
    }
}

static brine_status read_indicator(brine_model *m, const bv *state, imp_model *p, brine_error *err) {
    int64_t on = 0;
    const bv *a = bv_dict_get(state, "add_indicator");
    if (a && !be_get_int(a, &on)) return be_fail(err, m, "add_indicator is not a bool");
    const bv *ind = bv_dict_get(state, "indicator_");
    if (!on || is_none(ind)) return on ? be_fail(err, m, "add_indicator is True but indicator_ is missing") : BRINE_OK;
    if (ind->kind != BRINE_OBJECT || !ind->u.obj.state || ind->u.obj.state->kind != BRINE_DICT)
        return be_fail(err, m, "indicator_ is not a MissingIndicator");
    const bv *ist = ind->u.obj.state;
    const bv_array *f = be_array(bv_dict_get(ist, "features_"));
    if (!f || f->ndim != 1 || (size_t)f->count > p->nf) return be_fail(err, m, "indicator_.features_ is not an index array");
    p->n_ind = (size_t)f->count;
    p->ind = be_alloc(m, p->n_ind + 1, sizeof *p->ind);
    if (!p->ind) return nomem(err);
    for (size_t k = 0; k < p->n_ind; k++) {
        int64_t c;
        if (!be_array_int(f, k, &c) || c < 0 || (uint64_t)c >= p->nf)
            return be_fail(err, m, "indicator_.features_[%zu] is not a feature index", k);
        p->ind[k] = (size_t)c;
    }
    int64_t eon = 0;
    const bv *e = bv_dict_get(ist, "error_on_new");
    if (e && !be_get_int(e, &eon)) return be_fail(err, m, "indicator_.error_on_new is not a bool");
    p->error_on_new = eon && !bv_is_str(bv_dict_get(ist, "features"), "all");
    return BRINE_OK;
}

static brine_status imp_load(brine_model *m, const bv *state, brine_error *err) {
    imp_model *p = be_alloc(m, 1, sizeof *p);
    if (!p) return nomem(err);
    m->impl = p;
    m->n_outputs = 1;
    m->n_estimators = 1;
    m->allow_nan = 1;
    brine_status st = be_read_n_features(m, state, &m->n_features_in, err);
    if (st) return st;
    const bv *sv = bv_dict_get(state, "statistics_");
    const bv_array *sa = be_array(sv);
    if (!sa || sa->ndim != 1 || !sa->count) return be_fail(err, m, "statistics_ is not a non-empty 1-D array");
    if ((st = be_check_width(m, sa->count, "statistics_", err))) return st;
    p->nf = (size_t)sa->count;
    char k = sa->dtype->u.dt->kind;
    p->numeric = k == 'f' || k == 'i' || k == 'u' || k == 'b';
    if (p->numeric) {
        be_matrix mx;
        if ((st = be_read_matrix(m, sv, "statistics_", 1, &mx, err))) return st;
        p->num = mx.v;
    } else {
        if ((st = read_cats(m, sv, "statistics_", &p->stats, err))) return st;
        m->takes_text = 1;
        m->text_out = 1;
    }
    if ((st = read_missing_values(m, bv_dict_get(state, "missing_values"), p, err))) return st;
    int64_t keep_empty = 0;
    const bv *ke = bv_dict_get(state, "keep_empty_features");
    if (ke && !be_get_int(ke, &keep_empty)) return be_fail(err, m, "keep_empty_features is not a bool");
    int constant = bv_is_str(bv_dict_get(state, "strategy"), "constant");
    p->keep = be_alloc(m, p->nf, sizeof *p->keep);
    if (!p->keep) return nomem(err);
    for (size_t j = 0; j < p->nf; j++) {
        int invalid = p->numeric ? isnan(p->num[j])
                                 : p->stats.l[j].kind == BRINE_LABEL_FLOAT && isnan(p->stats.l[j].f);
        if (!invalid || constant || keep_empty) p->keep[p->n_keep++] = j;
    }
    if ((st = read_indicator(m, state, p, err))) return st;
    p->width = p->n_keep + p->n_ind;
    if ((st = be_read_feature_names(m, state, err))) return st;
    return be_keep_params(m, state, err);
}

static size_t imp_columns(const brine_model *m, brine_method method) {
    const imp_model *p = m->impl;
    return method == BRINE_METHOD_TRANSFORM ? p->width : BE_NO_METHOD;
}

static brine_status imp_predict(const brine_model *m, brine_method method, const be_input *in, brine_prediction *out,
                                brine_error *err) {
    (void)method;
    const imp_model *p = m->impl;
    int has_text = in->text != NULL;
    for (size_t r = 0; r < in->n_rows; r++) {
        const double *x = in->xd + r * p->nf;
        const char *const *t = has_text ? in->text + r * p->nf : NULL;
        if (p->error_on_new)
            for (size_t j = 0; j < p->nf; j++) {
                int listed = 0;
                for (size_t k = 0; k < p->n_ind && !listed; k++) listed = p->ind[k] == j;
                if (!listed && imp_missing(p, t ? t[j] : NULL, has_text, x[j]))
                    return be_fail_status(err, BRINE_E_ARGUMENT, m,
                                          "feature %zu has missing values in transform but had none in fit", j);
            }
        for (size_t k = 0; k < p->width; k++) {
            size_t j = k < p->n_keep ? p->keep[k] : p->ind[k - p->n_keep];
            const char *cell = t ? t[j] : NULL;
            int missing = imp_missing(p, cell, has_text, x[j]);
            size_t o = r * p->width + k;
            if (k >= p->n_keep) { /* the indicator */
                if (out->labels) out->labels[o] = (brine_label){BRINE_LABEL_BOOL, missing, 0.0, NULL, 0};
                else out->values[o] = missing ? 1.0 : 0.0;
                continue;
            }
            if (!out->labels) {
                if (has_text && cell && isnan(x[j]) && !missing)
                    return be_fail_status(err, BRINE_E_ARGUMENT, m, "X[%zu, %zu] is '%.40s', not a number", r, j, cell);
                out->values[o] = missing ? p->num[j] : x[j];
            } else if (missing) {
                out->labels[o] = p->stats.l[j];
            } else if (cell) {
                out->labels[o] = (brine_label){BRINE_LABEL_STR, 0, 0.0, cell, strlen(cell)};
            } else {
                out->labels[o] = (brine_label){BRINE_LABEL_FLOAT, 0, x[j], NULL, 0};
            }
        }
    }
    return BRINE_OK;
}

const be_family be_impute_family = {"impute", imp_load, imp_predict, NULL, imp_columns, BE_FAM_FLOAT64};

/* ------------------------------------------------------- sparse results
 *
 * sklearn's OneHotEncoder gives a CSR matrix (unless sparse_output=False),
 * and a ColumnTransformer whose sparse_output_ is set stacks its parts
 * into one (scipy's hstack: per row, the parts in order, each part's
 * stored values in its own order, dense parts by their nonzero cells).
 * brine keeps those results sparse between pipeline steps (be_gives_csr,
 * be_transform_csr in text.c dispatch here); only a step that takes dense
 * rows, or the caller, sees them densified. */

/* A CSR under construction: rows appended one after another. */
typedef struct csr_build {
    be_csr *x;
    size_t cap;
} csr_build;

static brine_status csr_start(csr_build *b, be_csr *x, size_t rows, size_t cols, size_t cap, brine_error *err) {
    memset(x, 0, sizeof *x);
    b->x = x;
    b->cap = cap ? cap : 1;
    x->rows = rows;
    x->cols = cols;
    x->indptr = calloc(rows + 1, sizeof *x->indptr);
    x->indices = malloc(b->cap * sizeof *x->indices);
    x->data = malloc(b->cap * sizeof *x->data);
    if (x->indptr && x->indices && x->data) return BRINE_OK;
    be_csr_free(x);
    return nomem(err);
}

static brine_status csr_push(csr_build *b, size_t col, double v, brine_error *err) {
    be_csr *x = b->x;
    if (x->nnz == b->cap) {
        size_t cap = 2 * b->cap;
        uint32_t *ix = realloc(x->indices, cap * sizeof *ix);
        if (ix) x->indices = ix;
        double *d = ix ? realloc(x->data, cap * sizeof *d) : NULL;
        if (!d) return nomem(err);
        x->data = d;
        b->cap = cap;
    }
    x->indices[x->nnz] = (uint32_t)col;
    x->data[x->nnz++] = v;
    return BRINE_OK;
}

static brine_status onehot_csr(const brine_model *m, const enc_model *e, const be_input *in, be_csr *out,
                               brine_error *err) {
    csr_build b;
    brine_status st = csr_start(&b, out, in->n_rows, e->width, in->n_rows * e->nf, err);
    for (size_t r = 0; !st && r < in->n_rows; r++) {
        for (size_t f = 0; !st && f < e->nf; f++) {
            size_t k;
            st = onehot_col(m, e, in, r, f, &k, err);
            if (!st && k != NO_CAT) st = csr_push(&b, e->off[f] + k, 1.0, err);
        }
        out->indptr[r + 1] = out->nnz;
    }
    if (st) be_csr_free(out);
    return st;
}

/* One part of a sparse ColumnTransformer: its rows as CSR or dense. */
typedef struct part_rows {
    be_csr csr;            /* when the part gives CSR rows */
    brine_prediction *res; /* a transformer's dense result */
    double *dense;         /* passthrough columns */
} part_rows;

static brine_status part_rows_get(const brine_model *m, const cpart *p, const be_input *sub, part_rows *pr,
                                  brine_error *err) {
    memset(pr, 0, sizeof *pr);
    if (!p->model) {
        pr->dense = malloc((sub->n_rows * p->width + 1) * sizeof *pr->dense);
        if (!pr->dense) return nomem(err);
        return passthrough(m, p, sub, pr->dense, p->width, err);
    }
    if (be_gives_csr(p->model)) return be_transform_csr(p->model, sub, &pr->csr, err);
    brine_status st = be_predict_input(&pr->res, p->model, BRINE_METHOD_TRANSFORM, sub, err);
    if (!st && (!pr->res->values || pr->res->n_columns != p->width))
        st = be_fail_status(err, BRINE_E_UNSUPPORTED, m, "transformer '%s' gives no numbers", p->name);
    return st;
}

static void part_rows_free(part_rows *pr) {
    be_csr_free(&pr->csr);
    brine_prediction_free(pr->res);
    free(pr->dense);
}

/* Row r of part p, from column `at` on, into b: what scipy's hstack keeps. */
static brine_status part_row_push(csr_build *b, const cpart *p, const part_rows *pr, size_t r, size_t at,
                                  brine_error *err) {
    brine_status st = BRINE_OK;
    if (pr->csr.indptr) {
        for (size_t k = pr->csr.indptr[r]; !st && k < pr->csr.indptr[r + 1]; k++) {
            double v = pr->csr.data[k];
            st = csr_push(b, at + pr->csr.indices[k], p->weighted ? v * p->weight : v, err);
        }
        return st;
    }
    const double *row = pr->res ? pr->res->values + r * p->width : pr->dense + r * p->width;
    for (size_t j = 0; !st && j < p->width; j++) {
        double v = pr->res && p->weighted ? row[j] * p->weight : row[j];
        if (v != 0.0) st = csr_push(b, at + j, v, err);
    }
    return st;
}

static brine_status compose_csr(const brine_model *m, const compose_model *c, const be_input *in, be_csr *out,
                                brine_error *err) {
    part_rows *pr = calloc(c->n + 1, sizeof *pr);
    if (!pr) return nomem(err);
    brine_status st = BRINE_OK;
    for (size_t i = 0; i < c->n && !st; i++) {
        double *xd = NULL;
        const char **text = NULL, **names = NULL;
        be_input sub;
        st = part_input(in, &c->parts[i], &sub, &xd, &text, &names, err);
        if (!st) st = part_rows_get(m, &c->parts[i], &sub, &pr[i], err);
        free(xd);
        free(text);
        free(names);
    }
    csr_build b;
    if (!st) st = csr_start(&b, out, in->n_rows, c->width, in->n_rows * c->n, err);
    for (size_t r = 0; !st && r < in->n_rows; r++) {
        size_t at = 0;
        for (size_t i = 0; !st && i < c->n; i++) {
            st = part_row_push(&b, &c->parts[i], &pr[i], r, at, err);
            at += c->parts[i].width;
        }
        if (!st) out->indptr[r + 1] = out->nnz;
    }
    if (st && out->indptr) be_csr_free(out);
    for (size_t i = 0; i < c->n; i++) part_rows_free(&pr[i]);
    free(pr);
    return st;
}

int be_encoder_gives_csr(const brine_model *m) {
    if (m->cls->family == &be_encoder_family) {
        const enc_model *e = m->impl;
        return e->kind == ENC_ONEHOT && e->sparse;
    }
    if (m->cls->family == &be_compose_family && !strcmp(m->short_name, "ColumnTransformer"))
        return ((const compose_model *)m->impl)->sparse;
    return 0;
}

brine_status be_encoder_csr(const brine_model *m, const be_input *in, be_csr *out, brine_error *err) {
    if (in->n_cols != (size_t)m->n_features_in)
        return be_fail_status(err, BRINE_E_ARGUMENT, m, "X has %zu features, but the model expects %lld", in->n_cols,
                              (long long)m->n_features_in);
    if (m->cls->family == &be_encoder_family) return onehot_csr(m, m->impl, in, out, err);
    return compose_csr(m, m->impl, in, out, err);
}
